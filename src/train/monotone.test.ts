import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FeatureSpec } from '../core/model/format.ts';
import { verifyMonotone } from '../core/model/monotone.ts';
import { TERNARY_CANDIDATES, trainModel } from './index.ts';
import { monotonePenalty, monotoneSetup, repairMonotone } from './monotone.ts';
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

  it('repair zeroes a linear skip weight when it is what breaks a constraint', () => {
    const features: FeatureSpec[] = ['a', 'b'].map((name) => ({ name, label: name, unit: '', min: -3, max: 3, kind: 'number' as const, monotone: declared }));
    const input = { bits: 3, scale: 1, mean: [0, 0], std: [1, 1], impute: [0, 0] };
    // y = (x_a + 20)² + (x_b + 20)² − 50 x_a + 2 x_b: a step of a gains 2(x_a + 20) + 1 ≥ 35 from
    // its unit and loses 50 to the skip term, which pulls hardest (unit index 2 = H).
    const layers = { hidden: { weights: [[1, 0], [0, 1]] as (-1 | 0 | 1)[][], alpha: [1, 1], beta: [20, 20] }, output: { weights: [1, 1] as (-1 | 0 | 1)[], scale: 1, bias: 0, linear: [-50, 2] } };
    const before = verifyMonotone({ features, input, ...layers });
    expect(before.checks.map((c) => [c.holds, c.unit])).toEqual([[false, 2], [true, undefined]]);
    const random = seededRandom(2);
    const q = Array.from({ length: 60 }, () => Int32Array.from([Math.round(random() * 6 - 3), Math.round(random() * 6 - 3)]));
    const labels = q.map((r) => (r[0]! + r[1]! + random() * 2 - 1 > 0 ? 1 : 0));
    const { layers: repaired, repairs } = repairMonotone(layers, { features, input }, { q, labels });
    expect(repairs).toBe(1);
    expect(repaired.output.linear).toEqual([0, 2]);
    expect(repaired.hidden.weights).toEqual(layers.hidden.weights); // the units that kept the constraint stay
    expect(verifyMonotone({ features, input, ...repaired }).holds).toBe(true);
  });

  it('repair may zero a skip weight that pulls the wrong way when a unit is the culprit', () => {
    const features: FeatureSpec[] = ['a', 'b'].map((name) => ({ name, label: name, unit: '', min: -3, max: 3, kind: 'number' as const, monotone: declared }));
    const input = { bits: 3, scale: 1, mean: [0, 0], std: [1, 1], impute: [0, 0] };
    // y = (x_a + x_b + 4)² + (x_b + 20)² − 2 x_a: at x_a = x_b = −3 a step of a changes unit 0 by
    // −3 (the culprit) and the skip term by −2; unit 0 without b gains at least 3 there.
    const layers = { hidden: { weights: [[1, 1], [0, 1]] as (-1 | 0 | 1)[][], alpha: [1, 1], beta: [4, 20] }, output: { weights: [1, 1] as (-1 | 0 | 1)[], scale: 1, bias: 0, linear: [-2, 0] } };
    const before = verifyMonotone({ features, input, ...layers }).checks[0]!;
    expect([before.holds, before.unit]).toEqual([false, 0]);
    const random = seededRandom(3);
    const q = Array.from({ length: 60 }, () => Int32Array.from([Math.round(random() * 6 - 3), Math.round(random() * 6 - 3)]));
    const labels = q.map((r) => (r[0]! + r[1]! + random() * 2 - 1 > 0 ? 1 : 0));
    const { layers: repaired, repairs } = repairMonotone(layers, { features, input }, { q, labels });
    expect(verifyMonotone({ features, input, ...repaired }).holds).toBe(true);
    // The skip weight was a candidate beside the unit's weights and, refitted, the least loss on
    // these rows; then b left unit 0. Feature a keeps its hidden weight.
    expect(repairs).toBe(2);
    expect(repaired.output.linear).toEqual([0, 0]);
    expect(repaired.hidden.weights).toEqual([[1, 0], [0, 1]]);
  });

  it('penalty counts a linear skip weight: a step of feature k gains step·λ_k everywhere', () => {
    const features: FeatureSpec[] = ['a', 'b'].map((name) => ({ name, label: name, unit: '', min: -3, max: 3, kind: 'number' as const, monotone: declared }));
    const setup = monotoneSetup({ features, input: { bits: 3, scale: 1, mean: [0, 0], std: [1, 1], impute: [0, 0] } })!;
    // Units increasing in a and b over the box (z = x + 20 > 0): no penalty without a skip term.
    const penalty = (linear?: number[]) =>
      tf.tidy(() => monotonePenalty(setup, tf.tensor2d([[1, 0], [0, 1]]), tf.tensor1d([20, 20]), tf.tensor1d([1, 1]), 1, linear && tf.tensor2d(linear.map((l) => [l]))).arraySync() as number);
    expect(penalty()).toBe(0);
    expect(penalty([5, 0])).toBe(0);
    // The least step gain of a is 2(−3 + 20) + 1 = 35; λ_a = −40 leaves −5: hinge (margin + 5) × strength.
    expect(penalty([-40, 0])).toBeCloseTo((setup.margin + 5) * setup.strength, 4);
  });

  it('penalty and its gradient are the same on the wasm backend (the lab without WebGPU) as on cpu', async () => {
    // The lab trains on wasm when the browser has no WebGPU: every op the penalty's gradient
    // needs must exist there (a gather's gradient, a segment sum, does not).
    const features: FeatureSpec[] = ['a', 'b', 'c'].map((name, i) => ({ name, label: name, unit: '', min: -3, max: 3, kind: 'number' as const, ...(i === 1 ? {} : { monotone: i ? declared : { ...declared, direction: 'decreasing' as const } }) }));
    const setup = monotoneSetup({ features, input: { bits: 3, scale: 1, mean: [0, 0, 0], std: [1, 1, 1], impute: [0, 0, 0] } })!;
    const gradients = () =>
      tf.tidy(() => {
        const W = tf.tensor2d([[1, -1], [0, 1], [-1, 1]]);
        const b = tf.tensor1d([0.5, -2]);
        const v = tf.tensor1d([0.7, -0.4]);
        const linear = tf.tensor2d([[0.3], [0], [-0.2]]);
        const { value, grads } = tf.valueAndGrads((w: tf.Tensor, bb: tf.Tensor, vv: tf.Tensor, l: tf.Tensor) => monotonePenalty(setup, w as tf.Tensor2D, bb, vv, 0.5, l))([W, b, v, linear]);
        return [value.arraySync() as number, ...grads.map((g) => g.arraySync() as number[] | number[][])] as const;
      });
    const onCpu = gradients();
    expect(onCpu[0]).toBeGreaterThan(0);
    await import('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm');
    try {
      const onWasm = gradients();
      expect(onWasm[0]).toBeCloseTo(onCpu[0], 5);
      onWasm.slice(1).forEach((g, i) => expect((g as number[]).flat()).toEqual((onCpu[i + 1] as number[]).flat().map((x) => expect.closeTo(x, 5))));
    } finally {
      await tf.setBackend('cpu');
    }
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
