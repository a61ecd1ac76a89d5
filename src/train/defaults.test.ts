import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelsDir, sharedDataDir } from '../cli/paths.ts';
import { describe, expect, it } from 'vitest';
import { scoreClassifier } from '../core/metrics.ts';
import { parseModel } from '../core/model/format.ts';
import { outputBound } from '../core/model/reference.ts';
import { parseDatasetSpec } from '../core/data/spec.ts';
import { DEFAULT_MODEL_IDS, heldOutRecords, savedModelReport, specTrainingOptions } from './defaults.ts';
import type { RepeatedEvaluation } from './repeated.ts';
import { predictReference } from './predict.ts';

const dataDir = sharedDataDir();

describe('default models', () => {
  for (const id of DEFAULT_MODEL_IDS) {
    it(`${id}: its held-out rows reproduce its recorded ternary metrics through the integer reference`, () => {
      const model = parseModel(JSON.parse(readFileSync(join(modelsDir, `${id}.json`), 'utf8')));
      const csv = readFileSync(join(dataDir, model.training!.dataset as string), 'utf8');
      const { records, labels } = heldOutRecords(model, csv);
      const recorded = (model.training!.metrics as Record<string, unknown>).ternary;
      expect(scoreClassifier(labels, predictReference(model, records))).toEqual(recorded);
      expect(outputBound(model)).toBeLessThanOrEqual(2 ** 21);
      expect(model.training!.outputBound).toBe(outputBound(model));
    });

    it(`${id}: its committed report is what the generator writes today from the model, its spec and the bench record`, () => {
      const spec = parseDatasetSpec(JSON.parse(readFileSync(join(modelsDir, 'specs', `${id}.json`), 'utf8')));
      const model = parseModel(JSON.parse(readFileSync(join(modelsDir, `${id}.json`), 'utf8')));
      const bench = JSON.parse(readFileSync(join(modelsDir, '../bench/training-results.json'), 'utf8')) as { results: Record<string, RepeatedEvaluation> };
      const report = savedModelReport(spec, readFileSync(join(dataDir, spec.data), 'utf8'), model, { repeated: bench.results[id], calibrationFile: `${id}.calibration.svg` });
      // A stale report shows people numbers no model has (npx tsx tools/build-defaults.ts --reports rewrites them).
      expect(report).toBe(readFileSync(join(modelsDir, `${id}.md`), 'utf8'));
      expect(report).toContain('not a diagnosis');
    });

    it(`${id}: the model file quantizes its inputs with the bits its spec asks for`, () => {
      const spec = parseDatasetSpec(JSON.parse(readFileSync(join(modelsDir, 'specs', `${id}.json`), 'utf8')));
      const model = parseModel(JSON.parse(readFileSync(join(modelsDir, `${id}.json`), 'utf8')));
      const bits = specTrainingOptions(spec).inputBits ?? 4;
      expect(model.input.bits).toBe(bits);
      expect(model.training!.inputBits).toBe(bits);
    });
  }
});

describe('a spec\'s training settings', () => {
  const base = JSON.parse(readFileSync(join(modelsDir, 'specs', 'pima-diabetes.json'), 'utf8'));
  it('accept 4 or 5 input bits with the measurement that chose them, nothing else', () => {
    expect(specTrainingOptions(parseDatasetSpec({ ...base, training: { inputBits: 5, why: 'measured' } }))).toEqual({ inputBits: 5 });
    expect(specTrainingOptions(parseDatasetSpec({ ...base, training: undefined }))).toEqual({});
    expect(() => parseDatasetSpec({ ...base, training: { inputBits: 6, why: 'measured' } })).toThrow();
    expect(() => parseDatasetSpec({ ...base, training: { inputBits: 5 } })).toThrow();
    expect(() => parseDatasetSpec({ ...base, training: { inputBits: 5, why: 'measured', hiddden: 9 } })).toThrow();
  });

  it('ask for a linear skip term with a boolean', () => {
    expect(specTrainingOptions(parseDatasetSpec({ ...base, training: { ensemble: 2, linear: true, why: 'measured' } }))).toEqual({ ensemble: 2, linear: true });
    expect(() => parseDatasetSpec({ ...base, training: { linear: 'yes', why: 'measured' } })).toThrow();
  });
});
