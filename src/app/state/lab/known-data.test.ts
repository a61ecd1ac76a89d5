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
  it('are the specs on disk that set training settings, with their input bits, teacher and reasons', () => {
    expect(specs.length).toBeGreaterThanOrEqual(4);
    for (const { path, spec } of specs) {
      const known = knownDataset(spec.data, spec.label);
      if (!spec.training) expect(known, path).toBeUndefined();
      else expect(known).toEqual({ spec: path, file: spec.data, label: spec.label, inputBits: spec.training.inputBits, distill: spec.training.distill, why: spec.training.why });
    }
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
