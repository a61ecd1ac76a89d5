/**
 * Quantization-aware training of the TernaryNet (DESIGN §4): the forward pass uses ternary
 * weights, the backward pass updates float "latent" weights through a straight-through
 * estimator. Inputs are the already-quantized integers divided by the input scale, i.e.
 * standardized values on the quantization grid.
 *
 *   z_j = s_j · Σ_i T_ji u_i + b_j,   a_j = z_j²,   logit = c · Σ_j t_j a_j + d [+ Σ_i λ_i u_i]
 *
 * The optional linear skip term λ is a float weight per input, never quantized: it folds into
 * the model file's integer `output.linear` (fold.ts). A ternary unit reaches the inputs' linear
 * part only through rows whose α is at most 7; logistic regression, a full-precision linear
 * term, beat the TernaryNet's AUC on Pima. Measured on ten splits it is off by default: Pima's
 * AUC .817 → .821, but balanced accuracy 73.7 (worst 70.8) → 72.8 (67.3) %; liver no better
 * (docs/training.md).
 */
import * as tf from '@tensorflow/tfjs';
import { glorotVariable, zerosVariable } from './baselines.ts';
import { type Trainable, firstKeptEpoch } from './loop.ts';
import type { TernaryParts } from './fold.ts';
import { type MonotoneSetup, monotonePenalty } from './monotone.ts';

/** Threshold ratios: a weight is kept when |w| > ratio · mean |w| of its unit (column). */
export interface TernaryOptions {
  hiddenThreshold: number;
  outputThreshold: number;
  /**
   * At most this many output weights of each sign are kept (the largest latent ones): each one
   * widens the output bound and the single plan's flooding noise (core/model/budget.ts).
   */
  outputPerSign?: number;
  /** A full-precision linear skip term (logit += Σ_i λ_i u_i), zeros at the start. */
  linear?: boolean;
  /** L2 strength on the skip weights (Σ λ_i² times this, added to the loss; default none). */
  linearL2?: number;
  /**
   * Gradual ternarization: over the quantized epochs before the loop may keep one
   * (loop.ts firstKeptEpoch), the forward pass uses τ·T(w) + (1 − τ)·w with τ rising from
   * 1/k to 1, so the network meets its ternary weights gradually; every epoch that can be kept
   * is wholly ternary. Gradients reach the latent weights as before.
   */
  ramp?: boolean;
}

/** 0/1 mask of the `k` largest entries of each column of a non-negative matrix w ([rows, cols]). */
function topPerColumn(w: tf.Tensor2D, k: number): tf.Tensor {
  const rows = w.shape[0];
  if (k >= rows) return tf.onesLike(w);
  const { indices } = tf.topk(w.transpose(), k); // [cols, k]
  return tf.oneHot(indices, rows).sum(1).transpose(); // [rows, cols]
}

/** T ∘ s: ternary pattern times the per-column scale (mean |w| over kept entries). */
function ternaryValue(w: tf.Tensor, ratio: number, perSign?: number): tf.Tensor {
  return tf.tidy(() => {
    const magnitude = tf.abs(w);
    const threshold = tf.mean(magnitude, 0, true).mul(ratio);
    let kept = tf.cast(tf.greater(magnitude, threshold), 'float32');
    if (perSign !== undefined) {
      const w2 = w as tf.Tensor2D;
      const positive = topPerColumn(tf.relu(w2), perSign).mul(tf.cast(tf.greater(w2, 0), 'float32'));
      const negative = topPerColumn(tf.relu(tf.neg(w2)), perSign).mul(tf.cast(tf.less(w2, 0), 'float32'));
      kept = kept.mul(positive.add(negative));
    }
    const scale = tf.sum(magnitude.mul(kept), 0, true).div(tf.maximum(tf.sum(kept, 0, true), 1));
    return tf.sign(w).mul(kept).mul(scale);
  });
}

/** Ternarizes in the forward pass; passes gradients straight through to the latent weights. */
function ternarizer(ratio: number, perSign?: number): (w: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...inputs) => ({
    value: ternaryValue(inputs[0] as tf.Tensor, ratio, perSign),
    gradFunc: (dy) => dy,
  }));
}

/** A TernaryNet under training, with its latent variables exposed for export. */
export interface TernaryTrainable extends Trainable {
  /** Latent hidden weights, d × H (column j is unit j). */
  w: tf.Variable;
  /** Hidden biases b_j, [H]. */
  b: tf.Variable;
  /** Latent output weights, H × 1. */
  v: tf.Variable;
  /** Output bias d, [1]. */
  d: tf.Variable;
  /** Linear skip weights λ, d × 1 (logit per standardized input unit), when the options ask for it. */
  linear?: tf.Variable;
  options: TernaryOptions;
  /** False: a float network of the same shape (warm-up); true: ternary forward pass. */
  quantized: boolean;
}

/**
 * A TernaryNet to train. With `monotone`, the loss also carries the monotone penalty over the
 * input box (monotone.ts); `inputScale` is the quantization scale (one integer step = 1/scale).
 */
export function ternaryNet(inputs: number, hidden: number, seed: number, options: TernaryOptions, monotone?: { setup: MonotoneSetup; inputScale: number }): TernaryTrainable {
  const w = glorotVariable([inputs, hidden], seed);
  const b = zerosVariable([hidden]);
  const v = glorotVariable([hidden, 1], seed + 1);
  const d = zerosVariable([1]);
  const linear = options.linear ? zerosVariable([inputs, 1]) : undefined;
  const hiddenT = ternarizer(options.hiddenThreshold);
  const outputT = ternarizer(options.outputThreshold, options.outputPerSign);
  // The ternary share τ of the forward pass's weights: 1, except during a ramp (TernaryOptions.ramp).
  let share = 1;
  const blended = (ternary: tf.Tensor, latent: tf.Tensor) => (share >= 1 ? ternary : ternary.mul(share).add(latent.mul(1 - share)));
  // The forward pass's weights: ternarized (blended during a ramp) once they are quantized.
  const weights = () => (net.quantized ? { wq: blended(hiddenT(w), w) as tf.Tensor2D, vq: blended(outputT(v), v) as tf.Tensor2D } : { wq: w as tf.Tensor2D, vq: v as tf.Tensor2D });
  const logitsWith = (x: tf.Tensor2D, { wq, vq }: ReturnType<typeof weights>) => {
    const z = tf.matMul(x, wq).add(b);
    const quadratic = tf.square(z).matMul(vq).add(d);
    return (linear ? quadratic.add(tf.matMul(x, linear)) : quadratic).reshape([-1]) as tf.Tensor1D;
  };
  const ridge = linear && options.linearL2 ? () => tf.sum(tf.square(linear)).mul(options.linearL2!) as tf.Scalar : undefined;
  const penaltyWith = ({ wq, vq }: ReturnType<typeof weights>): tf.Scalar | undefined => {
    const penalty = monotone ? monotonePenalty(monotone.setup, wq, b, vq, 1 / monotone.inputScale, linear) : undefined;
    return penalty && ridge ? penalty.add(ridge()) : (penalty ?? ridge?.());
  };
  const net: TernaryTrainable = {
    ...(options.ramp ? { startEpoch: (epoch: number, horizon: number) => void (share = net.quantized ? Math.min(1, epoch / firstKeptEpoch(horizon)) : 1) } : {}),
    w, b, v, d, options,
    ...(linear ? { linear } : {}),
    quantized: true,
    variables: linear ? [w, b, v, d, linear] : [w, b, v, d],
    logits: (x) => logitsWith(x, weights()),
    // One ternarization per step for the logits and the penalty (it was most of a step's work).
    objective: (x) => {
      const current = weights();
      const penalty = penaltyWith(current);
      return { logits: logitsWith(x, current), ...(penalty ? { penalty } : {}) };
    },
  };
  return net;
}

/** Reads the ternary pattern and scales out of a trained network. */
export async function readTernaryParts(net: TernaryTrainable): Promise<TernaryParts> {
  const [wq, vq, b, d] = tf.tidy(() => [ternaryValue(net.w, net.options.hiddenThreshold), ternaryValue(net.v, net.options.outputThreshold, net.options.outputPerSign), net.b.clone(), net.d.clone()]);
  const [wValues, vValues, bValues, dValues] = await Promise.all([wq!.array() as Promise<number[][]>, vq!.array() as Promise<number[][]>, b!.data(), d!.data()]);
  tf.dispose([wq!, vq!, b!, d!]);
  const H = bValues.length;
  const inputs = wValues.length;
  const pattern = Array.from({ length: H }, (_, j) => Array.from({ length: inputs }, (_, i) => Math.sign(wValues[i]![j]!)));
  const unitScale = Array.from({ length: H }, (_, j) => Math.max(0, ...wValues.map((row) => Math.abs(row[j]!))));
  const outputPattern = vValues.map((row) => Math.sign(row[0]!) || 0); // never -0
  const outputScale = Math.max(0, ...vValues.map((row) => Math.abs(row[0]!)));
  const linear = net.linear ? Array.from(await net.linear.data()) : undefined;
  return { pattern, unitScale, bias: Array.from(bValues), outputPattern, outputScale, outputBias: dValues[0]!, ...(linear ? { linear } : {}) };
}
