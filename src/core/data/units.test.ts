import { describe, expect, it } from 'vitest';
import type { FeatureSpec } from '../model/format.ts';
import { quantizeRecord } from '../model/reference.ts';
import { mapFhirBundle } from './fhir.ts';
import { parseCsv } from './csv.ts';
import { analyteOf, findColumn, fromModelUnit, MG_DL_PER_MMOL_L, toModelUnit, unitChoices } from './units.ts';
import { validateRows } from './validate.ts';

const feature = (name: string, unit: string, min: number, max: number): FeatureSpec => ({ name, label: name, unit, min, max, kind: 'number' });
const cholesterol = { ...feature('total_cholesterol', 'mg/dL', 100, 700), loinc: '2093-3' };
const glucose = { ...feature('glucose', 'mg/dL', 40, 400), loinc: '2345-7' };
const bilirubin = feature('total_bilirubin', 'mg/dL', 0.1, 80);
const features = [cholesterol, glucose, feature('age', 'years', 18, 110)];

describe('units', () => {
  it('offers mmol/L for cholesterol and glucose only, with the conventional factors', () => {
    expect(unitChoices(cholesterol)).toEqual(['mg/dL', 'mmol/L']);
    expect(unitChoices(bilirubin)).toEqual(['mg/dL']);
    expect(analyteOf(feature('age', 'years', 0, 1))).toBeUndefined();
    expect(toModelUnit(cholesterol, 1, 'mmol/L')).toBe(38.67);
    expect(toModelUnit(glucose, 1, 'mmol/L')).toBe(18.016);
    expect(toModelUnit(glucose, 99, 'mg/dL')).toBe(99);
  });

  it('round trip: mmol/L → mg/dL → mmol/L gives the value back', () => {
    for (const v of [2.5, 5.2, 7.81, 12]) {
      expect(fromModelUnit(cholesterol, toModelUnit(cholesterol, v, 'mmol/L'), 'mmol/L')).toBeCloseTo(v, 12);
      expect(fromModelUnit(glucose, toModelUnit(glucose, v, 'mmol/L'), 'mmol/L')).toBeCloseTo(v, 12);
    }
  });

  it('finds a column by name or with a unit suffix', () => {
    expect(findColumn(['total_cholesterol'], cholesterol)).toEqual({ index: 0, unit: 'mg/dL' });
    expect(findColumn(['age', 'total_cholesterol_mmol_l'], cholesterol)).toEqual({ index: 1, unit: 'mmol/L' });
    expect(findColumn(['Glucose (mmol/L)'], glucose)).toEqual({ index: 0, unit: 'mmol/L' });
    expect(findColumn(['glucose [mg/dL]'], glucose)).toEqual({ index: 0, unit: 'mg/dL' });
    expect(findColumn(['total_bilirubin_mmol_l'], bilirubin)).toBeUndefined();
  });

  it('a CSV in mmol/L gives the same record as one in mg/dL, converted once', () => {
    const si = validateRows(features, parseCsv('total_cholesterol_mmol_l,glucose_mmol_l,age\n5.2,5.5,50\n', 'si.csv'));
    const conventional = validateRows(features, parseCsv(`total_cholesterol,glucose,age\n${5.2 * MG_DL_PER_MMOL_L.cholesterol},${5.5 * MG_DL_PER_MMOL_L.glucose},50\n`, 'mg.csv'));
    expect(si.problems).toEqual([]);
    expect(si.convertedColumns).toEqual([
      { column: 'total_cholesterol_mmol_l', feature: 'total_cholesterol', unit: 'mmol/L' },
      { column: 'glucose_mmol_l', feature: 'glucose', unit: 'mmol/L' },
    ]);
    expect(si.records[0]!.values).toEqual(conventional.records[0]!.values);
    expect(si.records[0]!.values[0]).toBeCloseTo(201.084, 9);
  });

  it('a value out of range in mmol/L is reported in the file’s unit and the model’s', () => {
    const r = validateRows(features, parseCsv('total_cholesterol_mmol_l,glucose,age\n52,99,50\n', 'typo.csv'));
    expect(r.records).toEqual([]);
    expect(r.problems[0]!.message).toContain('52 mmol/L (2010.84 mg/dL) is outside the plausible range 100–700 mg/dL');
    // The problem names the file's own column, as the person sees it in the header.
    expect(r.problems[0]!.column).toBe('total_cholesterol_mmol_l');
  });

  it('FHIR in mmol/L, the form in mmol/L and a CSV in mmol/L quantize alike', () => {
    const model = { features, input: { bits: 4, scale: 2, mean: [200, 100, 50], std: [40, 25, 10], impute: [200, 100, 50] } };
    const obs = (code: string, value: number) => ({ resource: { resourceType: 'Observation', id: code, status: 'final', code: { coding: [{ system: 'http://loinc.org', code }] }, effectiveDateTime: '2024-01-01', valueQuantity: { value, unit: 'mmol/L', code: 'mmol/L', system: 'http://unitsofmeasure.org' } } });
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', id: 'p', birthDate: '1970-01-01' } }, obs('2093-3', 5.2), obs('2345-7', 5.5)] };
    const fhir = mapFhirBundle(bundle, features, { asOf: new Date('2024-06-01T12:00:00') });
    const form = [toModelUnit(cholesterol, 5.2, 'mmol/L'), toModelUnit(glucose, 5.5, 'mmol/L'), 54];
    const csv = validateRows(features, parseCsv('total_cholesterol_mmol_l,glucose_mmol_l,age\n5.2,5.5,54\n', 'si.csv')).records[0]!.values;
    expect(fhir.values.slice(0, 2).map((v) => Math.round(v! * 100) / 100)).toEqual([201.08, 99.09]);
    expect(quantizeRecord(model as never, [...fhir.values.slice(0, 2), 54])).toEqual(quantizeRecord(model as never, form));
    expect(quantizeRecord(model as never, csv)).toEqual(quantizeRecord(model as never, form));
  });
});
