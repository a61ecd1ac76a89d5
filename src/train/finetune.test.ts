import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { balancedLogLoss } from '../core/metrics.ts';
import { decodeProbability, referenceScore } from '../core/model/reference.ts';
import { DEFAULT_LIMITS } from './fold.ts';
import { foldTrained } from './finetune.ts';
import { fitBinary } from './loop.ts';
import { prepareData } from './prepare.ts';
import { seededRandom } from './random.ts';
import { readTernaryParts, ternaryNet } from './ternary.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Mostly linear in a and b, with a quadratic part in c: what a skip term beside ternary units is for. */
function data(n: number) {
  const random = seededRandom(21);
  const X = Array.from({ length: n }, () => [random() * 4 - 2, random() * 4 - 2, random() * 4 - 2]);
  const y = X.map(([a, b, c]) => (1.5 * a! - 0.8 * b! + 0.5 * c! * c! + 2 * (random() - 0.5) > 0.5 ? 1 : 0));
  return { X, y };
}

describe('fine-tuning a folded network with a linear skip term', () => {
  it('gives an integer model whose validation loss matches the fine-tuned float network', async () => {
    const { X, y } = data(600);
    const prepared = prepareData(X, y, { seed: 4, bits: 4 });
    const net = ternaryNet(3, 4, 9, { hiddenThreshold: 0.5, outputThreshold: 0, linear: true });
    try {
      const loop = { epochs: 30, batchSize: 32, learningRate: 0.02, seed: 3 };
      await fitBinary(net, prepared.fit.grid, { ...loop, phase: 'ternary', validation: prepared.validation.grid });
      const parts = await readTernaryParts(net);
      expect(parts.linear).toHaveLength(3);
      expect(Math.abs(parts.linear![0]!)).toBeGreaterThan(0.1); // the skip term carried some of a's effect
      const refit = { q: prepared.fitRows.map((r) => prepared.quantized[r]!), labels: prepared.fitRows.map((r) => y[r]!) };
      const folded = await foldTrained(parts, prepared.input, { fit: prepared.fit.integer, validation: prepared.validation.integer, refit, limits: DEFAULT_LIMITS, finetune: { ...loop, epochs: 20, learningRate: 0.01 } });
      const linear = folded.layers.output.linear!;
      expect(linear).toHaveLength(3);
      expect(linear.every(Number.isInteger)).toBe(true);
      // Same sign as the float term's coefficient on a (risk rises with a, the y's decoding is positive).
      expect(Math.sign(linear[0]! * folded.layers.output.scale)).toBe(1);
      const rows = prepared.validationRows;
      const integerLoss = balancedLogLoss(rows.map((r) => y[r]!), rows.map((r) => decodeProbability(folded.layers.output, referenceScore(folded.layers, prepared.quantized[r]!))));
      expect(Number.isFinite(folded.validationLoss)).toBe(true);
      // Measured 0.2268 against 0.2244; skip weights converted at 3× their scale gave 0.2431.
      expect(Math.abs(integerLoss - folded.validationLoss)).toBeLessThan(0.008);
    } finally {
      net.variables.forEach((v) => v.dispose());
      prepared.dispose();
    }
  });
});
