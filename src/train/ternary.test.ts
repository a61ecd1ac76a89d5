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
