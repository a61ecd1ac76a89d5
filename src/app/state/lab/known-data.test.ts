import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDatasetSpec } from '../../../core/data/index.ts';
import { knownDataset } from './known-data.ts';

const specsDir = resolve(import.meta.dirname, '../../../../models/specs');
const specs = readdirSync(specsDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ path: `models/specs/${f}`, spec: parseDatasetSpec(JSON.parse(readFileSync(resolve(specsDir, f), 'utf8'))) }));

describe('the data sets the lab knows', () => {
  it('are the specs on disk, with their features, missing-as-zero columns, training settings and reasons', () => {
    expect(specs.length).toBeGreaterThanOrEqual(4);
    for (const { path, spec } of specs) {
      const known = knownDataset(spec.data, spec.label);
      expect(known?.spec, path).toBe(path);
      expect(known?.features).toEqual(spec.features);
      expect(known?.missingAsZero).toEqual(spec.missingAsZero ?? []);
      // Every training setting the spec names is carried under its own name, with the reason.
      const { why, ...settings } = spec.training ?? { why: '' };
      expect(known).toMatchObject(settings);
      expect(known?.why).toBe(why);
    }
  });

  it("carry Framingham's nine declared directions with their reasons and sources, and Pima's five features, four directions, sum of two runs and unmeasured zeros", () => {
    const framingham = knownDataset('framingham_chd.csv', 'label')!;
    expect(framingham.features.filter((f) => f.monotone).map((f) => f.name)).toEqual(['age', 'cigs_per_day', 'prevalent_hypertension', 'diabetes', 'total_cholesterol', 'systolic_bp', 'bmi', 'heart_rate', 'glucose']);
    // Neither the education nor the current-smoker column is one of its features (the spec says why).
    expect(framingham.features.map((f) => f.name)).not.toContain('current_smoker');
    expect(framingham.features.every((f) => !f.monotone || (f.monotone.reason.length > 20 && (f.monotone.source ?? '').length > 20))).toBe(true);
    const pima = knownDataset('pima_indians_diabetes.csv', 'label')!;
    expect(pima.ensemble).toBe(2);
    expect(pima.missingAsZero).toEqual(['glucose', 'bmi']);
    // Five of the file's eight columns: blood pressure, skin fold and insulin are left out (the spec says why).
    expect(pima.features.map((f) => f.name)).toEqual(['pregnancies', 'glucose', 'bmi', 'diabetes_pedigree_function', 'age']);
    expect(pima.features.filter((f) => f.monotone).map((f) => f.name)).toEqual(['glucose', 'bmi', 'diabetes_pedigree_function', 'age']);
  });

  it('train Framingham at 5 bits, and only the file with its label column', () => {
    expect(knownDataset('framingham_chd.csv', 'label')?.inputBits).toBe(5);
    expect(knownDataset('framingham_chd.csv', 'current_smoker')).toBeUndefined();
    expect(knownDataset('my_framingham.csv', 'label')).toBeUndefined();
  });

  it('train liver with its logistic teacher, and Framingham without one', () => {
    expect(knownDataset('indian_liver_patient.csv', 'label')?.distill).toBe(0.9);
    expect(knownDataset('framingham_chd.csv', 'label')?.distill).toBeUndefined();
  });
});
