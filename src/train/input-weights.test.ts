import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { qMax, quantizeRecord } from '../core/model/reference.ts';
import { trainModel } from './index.ts';
import { teacherInputWeights, weightsFrom } from './input-weights.ts';
import { prepareRun } from './parts.ts';
import { fitInputQuantization, weightedInput } from './preprocess.ts';
import { TINY_OPTIONS, syntheticData } from './synthetic.ts';

/** Labels from a rule in which feature a matters most, b less and c not at all. */
const data = syntheticData(240, { seed: 31, label: ([a, b], noise) => 2 * a! - 0.6 * b! + noise > 0 });
const options = TINY_OPTIONS;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const coefficients = fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 1, maxLength: 12 });
const weighting = fc.record({ gamma: fc.double({ min: 0, max: 4, noNaN: true }), floor: fc.double({ min: 0.01, max: 1, noNaN: true }) });

describe('input weights (input-weights.ts)', () => {
  it('lie in [floor, 1], give the largest coefficient 1, and never rank a smaller coefficient above a larger one', () => {
    fc.assert(
      fc.property(coefficients, weighting, (c, w) => {
        const s = weightsFrom(c, w);
        expect(s).toHaveLength(c.length);
        for (const v of s) expect(v >= w.floor - 1e-12 && v <= 1 + 1e-12).toBe(true);
        if (c.some((v) => v !== 0)) expect(Math.max(...s)).toBe(1);
        for (let i = 0; i < c.length; i++) for (let k = 0; k < c.length; k++) if (Math.abs(c[i]!) <= Math.abs(c[k]!)) expect(s[i]!).toBeLessThanOrEqual(s[k]! + 1e-12);
      }),
    );
  });

  it('are all 1 with exponent 0 or with every coefficient zero, and refuse a floor outside (0, 1] by name', () => {
    expect(weightsFrom([3, -0.1, 0], { gamma: 0, floor: 0.5 })).toEqual([1, 1, 1]);
    expect(weightsFrom([0, 0], { gamma: 1, floor: 0.5 })).toEqual([1, 1]);
    expect(() => weightsFrom([1], { gamma: 1, floor: 0 })).toThrow(/least input weight must be in \(0, 1\], not 0/);
    expect(() => weightsFrom([1], { gamma: -1, floor: 0.5 })).toThrow(/exponent must be 0 or more, not -1/);
  });

  it('shrink a feature\'s integer levels and keep every quantized input inside the box', () => {
    const input = fitInputQuantization(data.X, data.X.map((_, i) => i));
    const Q = qMax(input);
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.05, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }), fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 3, maxLength: 3 }), (s, record) => {
        const plain = quantizeRecord({ input }, record);
        const weighted = quantizeRecord({ input: weightedInput(input, s) }, record);
        for (let i = 0; i < 3; i++) {
          expect(Math.abs(weighted[i]!)).toBeLessThanOrEqual(Q);
          // Rounding is monotone and a weight ≤ 1 moves the scaled value toward 0: never more levels.
          expect(Math.abs(weighted[i]!)).toBeLessThanOrEqual(Math.abs(plain[i]!));
        }
      }),
    );
    expect(() => weightedInput(input, [1, 1])).toThrow(/2 input weights for 3 features/);
  });

  it('come from a teacher that finds the rule: the unused feature gets the floor, the strongest 1', async () => {
    const { prepared, plan } = prepareRun(data, { ...options, seed: 4, epochs: 60 });
    try {
      const s = await teacherInputWeights(prepared, { gamma: 1, floor: 0.25 }, plan.seed, plan.loop);
      expect(s[0]).toBe(1);
      expect(s[1]!).toBeGreaterThan(0.25);
      expect(s[1]!).toBeLessThan(0.8);
      expect(s[2]).toBe(0.25);
    } finally {
      prepared.dispose();
    }
  });

  it('train a deterministic model that records its weights in the file and quantizes with them; none without', async () => {
    const inputWeights = { gamma: 0.5, floor: 0.3 };
    const first = await trainModel(data, { ...options, seed: 6, inputWeights });
    const again = await trainModel(data, { ...options, seed: 6, inputWeights });
    expect(again.model.hash).toBe(first.model.hash);
    const recorded = first.model.training as { inputWeights: { gamma: number; floor: number; teacher: string; weights: number[] } };
    expect(recorded.inputWeights).toMatchObject({ ...inputWeights, teacher: 'logistic regression' });
    const plain = await trainModel(data, { ...options, seed: 6 });
    expect(plain.model.training).not.toHaveProperty('inputWeights');
    // Same split and statistics; each step shrunk by its recorded weight.
    expect(first.split).toEqual(plain.split);
    first.model.input.std.forEach((s, i) => expect(s).toBeCloseTo(plain.model.input.std[i]! / recorded.inputWeights.weights[i]!, 12));
    // The baselines do not see the weights.
    expect(first.metrics.logistic).toEqual(plain.metrics.logistic);
  });
});
