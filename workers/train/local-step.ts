/**
 * A study site's local step on TensorFlow.js (docs/federated.md §12): each sampled record's
 * gradient of the class-weighted log loss with respect to θ, straight through the
 * ternarization, computed on whichever backend this worker started (WebGPU, else WebAssembly,
 * else plain JavaScript). The network and loss are written as tensors and differentiated by
 * tf.grads — not a transcription of network.ts's hand-written gradient — so a site gets its
 * float gradients from the accelerator and everything after them (clipping, scaling, rounding,
 * noise, masking) stays in src/core/federated, unchanged.
 *
 * Per-record gradients from one backward pass: the round's weights are tiled per record
 * (every record its own copy of the output weights and bias), so the gradient of the summed
 * loss with respect to a record's copy is that record's own gradient; the hidden layer's is the
 * outer product of its pre-activation gradient with its input.
 */
import * as tf from '@tensorflow/tfjs';
import type { LocalStep } from '../../src/core/federated/update.ts';
import { gradientRows, localStepRequest, type LocalStepRequest } from './local-step-wire.ts';

/** B × P gradients in θ's order [W (H × d), b (H), V (H), d], float32 as the backend computed them. */
export async function localGradients(request: LocalStepRequest): Promise<Float32Array> {
  const { inputs: d, hidden: H } = request;
  const B = request.labels.length;
  const P = H * d + 2 * H + 1;
  if (B === 0) return new Float32Array(0);
  const gradients = tf.tidy(() => {
    const u = tf.tensor2d(Float32Array.from(request.records), [B, d]);
    const scaledPattern = tf.mul(tf.tensor2d(Float32Array.from(request.pattern), [H, d]), tf.tensor2d(Float32Array.from(request.unitScale), [H, 1]));
    const outputWeights = tf.tensor1d(Float32Array.from(request.outputPattern, (o) => o * request.outputScale));
    // Per-record copies of what the gradient is taken with respect to.
    const biasRows = tf.tile(tf.tensor2d(Float32Array.from(request.bias), [1, H]), [B, 1]);
    const outputRows = tf.tile(outputWeights.reshape([1, H]), [B, 1]);
    const outputBiasRows = tf.fill([B], request.outputBias);
    const y = tf.tensor1d(Float32Array.from(request.labels));
    const w = tf.tensor1d(Float32Array.from(request.recordWeights));
    const preActivation = (b: tf.Tensor) => tf.add(tf.matMul(u, scaledPattern, false, true), b);
    // Weighted log loss, summed over records: w · (softplus(logit) − y · logit).
    const loss = (b: tf.Tensor, v: tf.Tensor, c: tf.Tensor) => {
      const z = preActivation(b);
      const logit = tf.add(tf.sum(tf.mul(v, tf.square(z)), 1), c);
      return tf.sum(tf.mul(w, tf.sub(tf.softplus(logit), tf.mul(y, logit)))) as tf.Scalar;
    };
    const [dz, dv, dc] = tf.grads(loss)([biasRows, outputRows, outputBiasRows]) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    // ∂/∂W_ji = ∂/∂z_j · u_i (straight through the ternary pattern and its scale).
    const dW = tf.mul(dz.reshape([B, H, 1]), u.reshape([B, 1, d])).reshape([B, H * d]);
    const all = tf.concat([dW, dz, dv, dc.reshape([B, 1])], 1);
    if (all.shape[1] !== P) throw new Error(`the local step made ${all.shape[1]} values a record, not ${P}`);
    return all;
  });
  try {
    // Read back asynchronously: a synchronous read stalls the GPU backend.
    return (await gradients.data()) as Float32Array;
  } finally {
    gradients.dispose();
  }
}

/**
 * The local step as src/core/federated takes it (`LocalStep`), on this thread's backend: what
 * the training worker's `localStep` runs, and what the Node tests run on the cpu backend.
 */
export const tfjsLocalStep: LocalStep = async (weights, records, recordWeights) => gradientRows(await localGradients(localStepRequest(weights, records, recordWeights)), records.labels.length);
