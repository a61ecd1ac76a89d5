import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { readTernaryParts, ternaryNet } from './ternary.ts';

await tf.setBackend('cpu');

describe('output weights per sign', () => {
  it('keeps at most outputPerSign units of each sign, the largest latent ones', async () => {
    const net = ternaryNet(3, 8, 1, { hiddenThreshold: 0.7, outputThreshold: 0, outputPerSign: 2 });
    net.v.assign(tf.tensor2d([[0.5], [0.4], [0.3], [-0.2], [0.9], [-0.1], [-0.6], [0.05]]));
    const parts = await readTernaryParts(net);
    expect(parts.outputPattern).toEqual([1, 0, 0, -1, 1, 0, -1, 0]);
    // The forward pass uses the same pattern: with no hidden bias, units 1, 2, 5, 7 add nothing.
    const { grads } = tf.variableGrads(() => net.logits(tf.ones([1, 3]) as tf.Tensor2D).sum() as tf.Scalar, [net.v]);
    expect(Array.from(await grads[net.v.name]!.data()).every(Number.isFinite)).toBe(true);
    net.variables.forEach((v) => v.dispose());
  });

  it('without a cap keeps every unit at threshold 0', async () => {
    const net = ternaryNet(3, 8, 1, { hiddenThreshold: 0.7, outputThreshold: 0 });
    net.v.assign(tf.tensor2d([[0.5], [0.4], [0.3], [-0.2], [0.9], [-0.1], [-0.6], [0.05]]));
    expect((await readTernaryParts(net)).outputPattern).toEqual([1, 1, 1, -1, 1, -1, -1, 1]);
    net.variables.forEach((v) => v.dispose());
  });
});

describe('gradual ternarization (ramp)', () => {
  const x = tf.tensor2d([[0.3, -1.2, 2.0], [1.1, 0.4, -0.7]]);
  const logitsOf = async (net: ReturnType<typeof ternaryNet>) => Array.from(await tf.tidy(() => net.logits(x)).data());
  /** The same network with the given forward weights, as a float network (no ternarization). */
  async function floatLogits(net: ReturnType<typeof ternaryNet>, w: tf.Tensor, v: tf.Tensor): Promise<number[]> {
    const twin = ternaryNet(3, 4, 9, { hiddenThreshold: 0.7, outputThreshold: 0 });
    twin.quantized = false;
    twin.w.assign(w as tf.Tensor2D);
    twin.v.assign(v as tf.Tensor2D);
    twin.b.assign(net.b);
    twin.d.assign(net.d);
    const out = await logitsOf(twin);
    twin.variables.forEach((t) => t.dispose());
    return out;
  }

  it('blends latent and ternary weights before the first kept epoch, and is wholly ternary from it on', async () => {
    const net = ternaryNet(3, 4, 5, { hiddenThreshold: 0.7, outputThreshold: 0, ramp: true });
    net.b.assign(tf.tensor1d([0.2, -0.1, 0.4, 0.05]));
    const plain = ternaryNet(3, 4, 5, { hiddenThreshold: 0.7, outputThreshold: 0 });
    plain.b.assign(net.b);
    expect(plain.startEpoch).toBeUndefined();
    const ternaryOnly = await logitsOf(plain);
    // Horizon 60: the loop keeps epochs from 15 on (firstKeptEpoch), so τ = 3/15 at epoch 3.
    net.startEpoch!(3, 60);
    const early = await logitsOf(net);
    net.startEpoch!(15, 60);
    expect(await logitsOf(net)).toEqual(ternaryOnly);
    // At τ = 1/5 the forward weights are 0.2·T(w) + 0.8·w: the float network with those weights,
    // T(w) rebuilt from the parts' pattern and scales.
    const parts = await readTernaryParts(net);
    const T = tf.tensor2d(parts.pattern[0]!.map((_, i) => parts.pattern.map((row, j) => row[i]! * parts.unitScale[j]!)));
    const V = tf.tensor2d(parts.outputPattern.map((t) => [t * parts.outputScale]));
    const mixed = await floatLogits(net, T.mul(0.2).add(net.w.mul(0.8)), V.mul(0.2).add(net.v.mul(0.8)));
    early.forEach((value, k) => expect(value).toBeCloseTo(mixed[k]!, 5));
    expect(early).not.toEqual(ternaryOnly);
    // A float warm-up (quantized false) is never blended.
    net.quantized = false;
    net.startEpoch!(1, 60);
    expect(await logitsOf(net)).toEqual(await floatLogits(net, net.w, net.v));
    tf.dispose([T, V]);
    [...net.variables, ...plain.variables].forEach((t) => t.dispose());
  });
});
