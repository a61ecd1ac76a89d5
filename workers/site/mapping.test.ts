/** Column mapping: proposals by name, renaming for the study, and a mapping that overrides a same-named column. */
import { describe, expect, it } from 'vitest';
import { readCsv } from '../../src/core/data/csv.ts';
import { validateRows } from '../../src/core/data/validate.ts';
import type { FeatureSpec } from '../../src/core/model/format.ts';
import { applyMapping, proposeMapping } from './mapping.ts';

const feature = (name: string, label: string): FeatureSpec => ({ name, label, unit: '', min: 0, max: 300, kind: 'number' });
const manifest = { features: [feature('systolic_bp', 'Systolic blood pressure'), feature('age', 'Age')], label: 'label' };

describe('site column mapping', () => {
  it('proposes columns written alike or named like the feature, and leaves the rest to the person', () => {
    expect(proposeMapping(manifest, ['Systolic Blood Pressure', 'AGE', 'Label', 'other'])).toEqual({ systolic_bp: 'Systolic Blood Pressure', age: 'AGE', label: 'Label' });
    expect(proposeMapping(manifest, ['SBP (mmHg)', 'age_years', 'label'])).toEqual({ label: 'label' });
  });

  it('renames the mapped columns, so validation reads them as the study\'s inputs', () => {
    const table = readCsv('SBP (mmHg),age,label\n120,50,0\n140,61,1\n', 'site.csv');
    const mapped = applyMapping(table, manifest, { systolic_bp: 'SBP (mmHg)', age: 'age', label: 'label' });
    expect(mapped.columns).toEqual(['systolic_bp', 'age', 'label']);
    expect(validateRows(manifest.features, mapped).records.map((r) => r.values)).toEqual([[120, 50], [140, 61]]);
    // Unmapped, the column is missing: its values would be imputed.
    expect(validateRows(manifest.features, applyMapping(table, manifest, { age: 'age' })).missingColumns).toEqual(['systolic_bp']);
  });

  it('lets the mapping override a column that bears the feature\'s name', () => {
    const table = readCsv('age,age_at_visit,label\n1,50,0\n', 'site.csv');
    const mapped = applyMapping(table, manifest, { age: 'age_at_visit', label: 'label' });
    expect(mapped.columns).toEqual(['(not used) age', 'age', 'label']);
    expect(validateRows(manifest.features, mapped).records[0]!.values[1]).toBe(50);
  });
});
