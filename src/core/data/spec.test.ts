import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { modelsDir, sharedDataDir } from '../../cli/paths.ts';
import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv.ts';
import { selectFeatures } from './select.ts';
import { parseDatasetSpec } from './spec.ts';

const specsDir = join(modelsDir, 'specs');
const dataDir = sharedDataDir();
const specs = readdirSync(specsDir).filter((f) => f.endsWith('.json')).map((f) => parseDatasetSpec(JSON.parse(readFileSync(join(specsDir, f), 'utf8'))));

describe('dataset specs', () => {
  it('cover the four default models', () => {
    expect(specs.map((s) => s.id).sort()).toEqual(['breast-cancer', 'framingham-chd', 'liver-patient', 'pima-diabetes']);
  });

  it('names the first wrong field and its problem in one line', () => {
    const pima = JSON.parse(readFileSync(join(specsDir, 'pima-diabetes.json'), 'utf8'));
    const { reason: _reason, ...monotone } = pima.features[1].monotone;
    pima.features[1] = { ...pima.features[1], monotone };
    expect(() => parseDatasetSpec(pima)).toThrow(/^dataset spec field features\.1\.monotone\.reason: a direction needs a reason: why medicine expects it, in a sentence$/);
  });

  it('gives every feature left free a reason, and refuses a reason for a feature that is not free', () => {
    for (const spec of specs) {
      const free = spec.features.filter((f) => !f.monotone).map((f) => f.name);
      expect(free.every((name) => (spec.leftFree?.[name] ?? spec.leftFree?.['*'] ?? '').length > 40), spec.id).toBe(true);
    }
    const pima = JSON.parse(readFileSync(join(specsDir, 'pima-diabetes.json'), 'utf8'));
    expect(() => parseDatasetSpec({ ...pima, leftFree: { glucose: 'a reason' } })).toThrow('leftFree names "glucose", whose direction is declared');
    expect(() => parseDatasetSpec({ ...pima, leftFree: { hba1c: 'a reason' } })).toThrow('leftFree names "hba1c", which is not a feature');
  });

  for (const spec of specs) {
    it(`${spec.id}: plausible ranges include every value in ${spec.data}`, () => {
      const table = parseCsv(readFileSync(join(dataDir, spec.data), 'utf8'), spec.data);
      const { X, y } = selectFeatures(table, { features: spec.features, label: spec.label, missingAsZero: spec.missingAsZero });
      expect(new Set(y)).toEqual(new Set([0, 1]));
      spec.features.forEach((f, i) => {
        const values = X.map((row) => row[i]).filter((v): v is number => v !== null);
        expect(Math.min(...values), f.name).toBeGreaterThanOrEqual(f.min);
        expect(Math.max(...values), f.name).toBeLessThanOrEqual(f.max);
        if (f.kind === 'binary') expect(values.every((v) => v === 0 || v === 1), f.name).toBe(true);
      });
    });
  }
});
