import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FeatureSpec } from '../core/model/format.ts';
import { verifyMonotone } from '../core/model/monotone.ts';
import { TERNARY_CANDIDATES, trainModel } from './index.ts';
import { repairMonotone } from './monotone.ts';
import { seededRandom } from './random.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const declared = { direction: 'increasing' as const, reason: 'test', source: 'test' };

describe('monotone training', () => {
  it('repair zeroes the weights that break a constraint until the exact verifier proves it', () => {
    const features: FeatureSpec[] = ['a', 'b'].map((name) => ({ name, label: name, unit: '', min: -3, max: 3, kind: 'number' as const, monotone: declared }));
    const input = { bits: 3, scale: 1, mean: [0, 0], std: [1, 1], impute: [0, 0] };
    // y = x_a² + (x_b + 20)²: the first unit breaks "increasing in a" (it falls for x_a < 0); the second keeps b.
    const layers = { hidden: { weights: [[1, 0], [0, 1]] as (-1 | 0 | 1)[][], alpha: [1, 1], beta: [0, 20] }, output: { weights: [1, 1] as (-1 | 0 | 1)[], scale: 1, bias: 0 } };
    expect(verifyMonotone({ features, input, ...layers }).holds).toBe(false);
    const q = [Int32Array.from([-3, 0]), Int32Array.from([3, 0]), Int32Array.from([0, 3]), Int32Array.from([0, -3])];
    const { layers: repaired, repairs } = repairMonotone(layers, { features, input }, { q, labels: [0, 1, 1, 0] });
    expect(repairs).toBe(1);
    expect(repaired.hidden.weights).toEqual([[0, 0], [0, 1]]);
    expect(verifyMonotone({ features, input, ...repaired }).holds).toBe(true);
  });

  it('trains a model that keeps a declared constraint the data contradicts (a U-shaped risk)', async () => {
    const random = seededRandom(5);
    const X = Array.from({ length: 240 }, () => [random() * 4 - 2, random() * 4 - 2]);
    const y = X.map(([a, b]) => (a! * a! + 0.5 * b! + (random() - 0.5) > 1.2 ? 1 : 0));
    const featureSpecs: FeatureSpec[] = [
      { name: 'a', label: 'A', unit: '', min: -2, max: 2, kind: 'number', monotone: declared },
      { name: 'b', label: 'B', unit: '', min: -2, max: 2, kind: 'number', monotone: declared },
    ];
    const result = await trainModel({ X, y, featureSpecs }, { id: 'u', title: 'U', description: '', classes: ['no', 'yes'], hidden: 4, epochs: 8, seed: 2, ternaryCandidates: TERNARY_CANDIDATES.slice(0, 1) });
    const report = verifyMonotone(result.model);
    expect(report.holds).toBe(true);
    expect(report.checks.map((c) => c.feature)).toEqual(['a', 'b']);
    expect(result.model.features.every((f) => f.monotone?.direction === 'increasing')).toBe(true);
    expect(result.model.training!.monotone).toMatchObject({ verified: [{ feature: 'a' }, { feature: 'b' }] });
  });
});
