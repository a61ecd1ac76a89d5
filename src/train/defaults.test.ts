import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelsDir, sharedDataDir } from '../cli/paths.ts';
import { describe, expect, it } from 'vitest';
import { scoreClassifier } from '../core/metrics.ts';
import { parseModel } from '../core/model/format.ts';
import { outputBound } from '../core/model/reference.ts';
import { DEFAULT_MODEL_IDS, heldOutRecords } from './defaults.ts';
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
  }
});
