import { describe, expect, it } from 'vitest';
import type { FeatureSpec } from '../model/format.ts';
import { parseCsv, readCsv } from './csv.ts';
import { validateRows } from './validate.ts';

const features: FeatureSpec[] = [
  { name: 'age', label: 'Age', unit: 'years', min: 18, max: 110, kind: 'number' },
  { name: 'male', label: 'Male sex', unit: '', min: 0, max: 1, kind: 'binary' },
  { name: 'glucose', label: 'Glucose', unit: 'mg/dL', min: 30, max: 500, kind: 'number' },
];

describe('validateRows', () => {
  it('keeps good rows and lists each problem with file, line and column', () => {
    const csv = 'age,male,glucose\n50,1,90\n51,2,90\n52,0,abc\n\n7,0,90\n53,1\n54,0,\n';
    const result = validateRows(features, readCsv(csv, 'clinic.csv'));
    expect(result.records).toEqual([
      { index: 0, row: 2, values: [50, 1, 90] },
      { index: 5, row: 8, values: [54, 0, null] },
    ]);
    expect(result.problems.map((p) => [p.kind, p.row, p.column, p.message])).toEqual([
      ['not-binary', 3, 'male', 'clinic.csv row 3, column "male": 2 must be 0 or 1'],
      ['not-a-number', 4, 'glucose', 'clinic.csv row 4, column "glucose": "abc" is not a number'],
      ['out-of-range', 6, 'age', 'clinic.csv row 6, column "age": 7 years is outside the plausible range 18–110 years'],
      ['ragged', 7, 'glucose', 'clinic.csv row 7, column "glucose": has 2 values but the header has 3 columns (no value for "glucose")'],
    ]);
    expect(result.missingColumns).toEqual([]);
  });

  it('reports a missing column once and reads its values as missing', () => {
    const result = validateRows(features, parseCsv('age,male\n50,1\n', 'partial.csv'));
    expect(result.missingColumns).toEqual(['glucose']);
    expect(result.problems).toEqual([
      { kind: 'missing-column', source: 'partial.csv', column: 'glucose', message: 'partial.csv, column "glucose": is missing from the header; its values will be imputed' },
    ]);
    expect(result.records[0]!.values).toEqual([50, 1, null]);
  });

  it('reads zeros as missing before the range check where the data set says so', () => {
    const result = validateRows(features, parseCsv('age,male,glucose\n50,1,0\n', 'pima.csv'), { missingAsZero: ['glucose'] });
    expect(result.problems).toEqual([]);
    expect(result.records[0]!.values).toEqual([50, 1, null]);
  });
});
