import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { outputBound, referenceScore } from '../core/model/reference.ts';
import { readTernaryParts, ternaryNet } from './ternary.ts';
import { type TernaryParts, chooseAmplification, fitLogistic1d, foldLayers } from './fold.ts';
import { seededRandom } from './random.ts';

const input = { bits: 4, scale: 7 / 3, mean: [0, 0, 0], std: [1, 1, 1], impute: [0, 0, 0] };
const parts: TernaryParts = {
  pattern: [[1, -1, 0], [0, 1, 1]],
  unitScale: [0.5, 0.25],
  bias: [0.3, -0.2],
  outputPattern: [1, -1],
  outputScale: 0.8,
  outputBias: -0.1,
};

describe('folding into integers', () => {
  it('rounds α = A·s/scale and β = A·b, and divides the output scale by A²', () => {
    const layers = foldLayers(parts, input.scale, 14, { alphaMax: 7, boundLimit: 2 ** 21 });
    expect(layers.hidden.alpha).toEqual([3, 2]); // 14·0.5/2.333 = 3, 14·0.25/2.333 = 1.5 → 2
    expect(layers.hidden.beta).toEqual([4, -3]); // 4.2 → 4, -2.8 → -3
    expect(layers.output).toEqual({ weights: [1, -1], scale: 0.8 / 196, bias: -0.1 });
  });

  it('chooses the largest A within the α and bound limits', () => {
    const A = chooseAmplification(parts, input, { alphaMax: 7, boundLimit: 2 ** 21 });
    expect(Math.max(...foldLayers(parts, input.scale, A, { alphaMax: 7, boundLimit: 2 ** 21 }).hidden.alpha)).toBe(7);
    const tight = { alphaMax: 7, boundLimit: 2000 };
    const B = chooseAmplification(parts, input, tight);
    expect(outputBound({ ...foldLayers(parts, input.scale, B, tight), input })).toBeLessThanOrEqual(2000);
    expect(outputBound({ ...foldLayers(parts, input.scale, B * 1.05, tight), input })).toBeGreaterThan(2000);
  });
});

describe('fitLogistic1d', () => {
  it('recovers the slope and intercept that generated the labels', () => {
    const random = seededRandom(5);
    const x = Array.from({ length: 20000 }, () => random() * 4 - 2);
    const y = x.map((v) => (random() < 1 / (1 + Math.exp(-(1.5 * v - 0.5))) ? 1 : 0));
    const { slope, intercept } = fitLogistic1d(x, y, x.map(() => 1));
    expect(slope).toBeCloseTo(1.5, 1);
    expect(intercept).toBeCloseTo(-0.5, 1);
  });
});

describe('folding a linear skip term', () => {
  it('gives an integer output A²/c times the float network output, skip term included', async () => {
    await tf.setBackend('cpu');
    const net = ternaryNet(3, 4, 7, { hiddenThreshold: 0.5, outputThreshold: 0, linear: true });
    net.b.assign(tf.tensor1d([0.4, -0.3, 0.2, 0.1]));
    net.d.assign(tf.tensor1d([-0.25]));
    net.linear!.assign(tf.tensor2d([[0.9], [-0.6], [0.3]]));
    const parts = await readTernaryParts(net);
    expect(parts.linear!.map((l) => +l.toFixed(5))).toEqual([0.9, -0.6, 0.3]);
    // Loose α limits, so that rounding is small next to the values compared.
    const limits = { alphaMax: 4000, boundLimit: 2 ** 50 };
    const A = chooseAmplification(parts, input, limits);
    const layers = foldLayers(parts, input.scale, A, limits);
    expect(layers.output.linear).toHaveLength(3);
    const random = seededRandom(8);
    const q = Array.from({ length: 50 }, () => Int32Array.from({ length: 3 }, () => Math.round(random() * 14 - 7)));
    const logits = Array.from(await tf.tidy(() => net.logits(tf.tensor2d(q.map((r) => Array.from(r, (v) => v / input.scale))))).data());
    const perLogit = (A * A) / parts.outputScale;
    const expected = logits.map((z) => (z - parts.outputBias) * perLogit);
    const range = Math.max(...expected.map(Math.abs));
    q.forEach((record, n) => expect(Math.abs(referenceScore(layers, record) - expected[n]!)).toBeLessThan(2e-3 * range));
    // Without the skip term's integers, the outputs differ by far more than that.
    const without = { ...layers, output: { ...layers.output, linear: undefined } };
    expect(Math.max(...q.map((record, n) => Math.abs(referenceScore(without, record) - expected[n]!)))).toBeGreaterThan(0.05 * range);
    // Parts without a skip term fold without one (the federated path builds such parts).
    expect(foldLayers({ ...parts, linear: undefined }, input.scale, A, limits).output).not.toHaveProperty('linear');
    net.variables.forEach((v) => v.dispose());
  });
});
