/** Form fields from a model card: what a typed value turns into, and the words people read. */
import { describe, expect, it } from 'vitest';
import type { FeatureSpec } from '../../core/model/format.ts';
import { displayUnit, fieldText, humanUnits, rangeText, readField } from './fields.ts';

const age: FeatureSpec = { name: 'age', label: 'Age', unit: 'years', min: 18, max: 110, kind: 'number' };
const sbp: FeatureSpec = { name: 'systolic_bp', label: 'Systolic blood pressure', unit: 'mm[Hg]', min: 60, max: 300, kind: 'number' };
const smoker: FeatureSpec = { name: 'current_smoker', label: 'Current smoker', unit: '', min: 0, max: 1, kind: 'binary' };

describe('readField', () => {
  it('reads numbers, a decimal comma, and blank as "not known"', () => {
    expect(readField(age, ' 54 ')).toEqual({ value: 54 });
    expect(readField(sbp, '120,5')).toEqual({ value: 120.5 });
    expect(readField(age, '')).toEqual({ value: null });
    expect(readField(smoker, '1')).toEqual({ value: 1 });
  });

  it('says what is wrong and what would be right', () => {
    expect(readField(age, '150').error).toBe('Age must be from 18 to 110 years; 150 years is outside that range.');
    expect(readField(sbp, '12').error).toBe('Systolic blood pressure must be from 60 to 300 mmHg; 12 mmHg is outside that range.');
    expect(readField(age, 'forty').error).toBe('Age must be a number, like 18.');
    expect(readField(smoker, '2').error).toBe('Current smoker must be yes or no.');
  });
});

describe('words', () => {
  it('writes UCUM units the way people read them', () => {
    expect(displayUnit('mm[Hg]')).toBe('mmHg');
    expect(displayUnit('kg/m2')).toBe('kg/m²');
    expect(displayUnit('/min')).toBe('per minute');
    expect(rangeText(sbp)).toBe('60 to 300 mmHg');
    expect(rangeText(smoker)).toBe('yes or no');
    expect(humanUnits('900 mm[Hg] is outside the plausible range 60–300 mm[Hg]')).toBe('900 mmHg is outside the plausible range 60–300 mmHg');
    expect(humanUnits('-80 /min is outside 30–220 /min')).toBe('-80 per minute is outside 30–220 per minute');
    expect(fieldText(101.23)).toBe('101.23');
    expect(fieldText(null)).toBe('');
  });
});

describe('readField in a chosen unit', () => {
  const cholesterol: FeatureSpec = { name: 'total_cholesterol', label: 'Total cholesterol', unit: 'mg/dL', min: 107, max: 696, kind: 'number' };
  it('converts mmol/L to the model’s mg/dL once, and says the range in mmol/L', () => {
    expect(readField(cholesterol, '5,2', 'mmol/L').value).toBeCloseTo(201.084, 9);
    expect(readField(cholesterol, '201', 'mg/dL')).toEqual({ value: 201 });
    expect(readField(cholesterol, '25', 'mmol/L').error).toBe('Total cholesterol must be from 2.8 to 18 mmol/L; 25 mmol/L is outside that range.');
    expect(rangeText(cholesterol, 'mmol/L')).toBe('2.8 to 18 mmol/L');
  });
});
