/**
 * The TernaryNet as private training sees it, in plain float64 arithmetic: the same network as
 * src/train/ternary.ts (ternary hidden and output weights with per-unit scales, a square
 * activation, straight-through gradients to float "latent" weights), written without
 * TensorFlow.js so that a site's per-record gradients are bit-identical in Node and in every
 * browser, and the coordinator's optimizer step is reproducible from the same seeds.
 *
 *   u_i = q_i / inputScale                         the client's quantized, standardized input
 *   z_j = s_j · Σ_i T_ji u_i + b_j                 T ternary, s_j = mean |W_ji| over kept entries
 *   logit = s_o · Σ_j O_j z_j² + d                 O ternary, s_o = mean |V_j| over kept entries
 *
 * The coordinator keeps the latent parameters θ = [W (H × d, row j = unit j), b (H), V (H), d];
 * sites receive only what the forward pass needs (`RoundWeights`: the ternary patterns and the
 * scales, 2 bits a weight plus H + 2 numbers) and return per-record gradients with respect to θ.
 */
import { OUTPUT_PER_SIGN } from '../model/budget.ts';
import type { ChaChaRng } from './prng.ts';

export interface NetworkShape {
  inputs: number;
  hidden: number;
}

/** Ratios of the ternarization thresholds: a weight is kept when |w| > ratio · mean |w|. */
export const HIDDEN_THRESHOLD = 0.7;
export const OUTPUT_THRESHOLD = 0;

/** θ's length: H·d hidden weights, H biases, H output weights, one output bias. */
export function parameterCount({ inputs, hidden }: NetworkShape): number {
  return hidden * inputs + 2 * hidden + 1;
}

/** Glorot-uniform latent weights, zero biases: deterministic for a given generator. */
export function initialParameters(shape: NetworkShape, rng: ChaChaRng): Float64Array {
  const { inputs: d, hidden: H } = shape;
  const theta = new Float64Array(parameterCount(shape));
  const hiddenLimit = Math.sqrt(6 / (d + H));
  for (let k = 0; k < H * d; k++) theta[k] = (2 * rng.float() - 1) * hiddenLimit;
  const outputLimit = Math.sqrt(6 / (H + 1));
  for (let j = 0; j < H; j++) theta[H * d + H + j] = (2 * rng.float() - 1) * outputLimit;
  return theta;
}

/** What a site needs for a round's forward and backward pass (no latent weight leaves θ). */
export interface RoundWeights {
  /** H × d ternary pattern, row j = unit j. */
  pattern: Int8Array;
  /** s_j, in standardized input units. */
  unitScale: Float64Array;
  bias: Float64Array;
  outputPattern: Int8Array;
  outputScale: number;
  outputBias: number;
}

/**
 * Ternary pattern and scale of a vector of latent weights (TWN: Li, Zhang, Liu 2016); with
 * `perSign`, only that many of the largest of each sign are kept (the others' latent weights
 * still learn: their gradient does not pass through the pattern).
 */
function ternary(latent: ArrayLike<number>, ratio: number, perSign = Infinity): { pattern: Int8Array; scale: number } {
  const n = latent.length;
  let meanAbs = 0;
  for (let k = 0; k < n; k++) meanAbs += Math.abs(latent[k]!);
  meanAbs /= Math.max(1, n);
  const threshold = ratio * meanAbs;
  const pattern = new Int8Array(n);
  // Largest magnitude first, the lower index on a tie: deterministic on every platform. Without
  // a cap every weight over the threshold is kept, in any order.
  const order = Array.from({ length: n }, (_, k) => k);
  if (perSign < n) order.sort((a, b) => Math.abs(latent[b]!) - Math.abs(latent[a]!) || a - b);
  const taken = { [1]: 0, [-1]: 0 } as Record<number, number>;
  for (const k of order) {
    const w = latent[k]!;
    const sign = w > 0 ? 1 : -1;
    if (Math.abs(w) > threshold && taken[sign]! < perSign) {
      pattern[k] = sign;
      taken[sign]!++;
    }
  }
  let kept = 0;
  let keptSum = 0;
  for (let k = 0; k < n; k++) {
    if (pattern[k] === 0) continue;
    kept++;
    keptSum += Math.abs(latent[k]!);
  }
  return { pattern, scale: kept > 0 ? keptSum / kept : 0 };
}

/** The round's weights from the latent parameters. */
export function ternarize(theta: Float64Array, shape: NetworkShape): RoundWeights {
  const { inputs: d, hidden: H } = shape;
  const pattern = new Int8Array(H * d);
  const unitScale = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    const unit = ternary(theta.subarray(j * d, (j + 1) * d), HIDDEN_THRESHOLD);
    pattern.set(unit.pattern, j * d);
    unitScale[j] = unit.scale;
  }
  const output = ternary(theta.subarray(H * d + H, H * d + 2 * H), OUTPUT_THRESHOLD, OUTPUT_PER_SIGN);
  return { pattern, unitScale, bias: theta.slice(H * d, H * d + H), outputPattern: output.pattern, outputScale: output.scale, outputBias: theta[H * d + 2 * H]! };
}

/** Hidden pre-activations z and the logit for one standardized input u. */
export function forward(w: RoundWeights, u: ArrayLike<number>): { z: Float64Array; logit: number } {
  const H = w.bias.length;
  const d = u.length;
  const z = new Float64Array(H);
  let y = 0;
  for (let j = 0; j < H; j++) {
    let h = 0;
    for (let i = 0; i < d; i++) h += w.pattern[j * d + i]! * u[i]!;
    z[j] = w.unitScale[j]! * h + w.bias[j]!;
    y += w.outputPattern[j]! * z[j]! * z[j]!;
  }
  return { z, logit: w.outputScale * y + w.outputBias };
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/**
 * One record's gradient of the weighted log loss with respect to θ, straight through the
 * ternarization (the gradient with respect to a ternary value T_ji·s_j is the latent weight's).
 */
export function recordGradient(w: RoundWeights, u: ArrayLike<number>, label: 0 | 1, weight: number): Float64Array {
  const H = w.bias.length;
  const d = u.length;
  const { z, logit } = forward(w, u);
  const g = weight * (sigmoid(logit) - label);
  const grad = new Float64Array(H * d + 2 * H + 1);
  for (let j = 0; j < H; j++) {
    const vq = w.outputPattern[j]! * w.outputScale;
    const dz = g * vq * 2 * z[j]!;
    for (let i = 0; i < d; i++) grad[j * d + i] = dz * u[i]!;
    grad[H * d + j] = dz;
    grad[H * d + H + j] = g * z[j]! * z[j]!;
  }
  grad[H * d + 2 * H] = g;
  return grad;
}

/** Adam's state, kept by the coordinator with θ (Kingma and Ba, ICLR 2015). */
export interface AdamState {
  m: Float64Array;
  v: Float64Array;
  steps: number;
}

export function adamState(length: number): AdamState {
  return { m: new Float64Array(length), v: new Float64Array(length), steps: 0 };
}

/** One Adam step on θ in place, with the averaged gradient. */
export function adamStep(theta: Float64Array, gradient: Float64Array, state: AdamState, learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8): void {
  state.steps++;
  const c1 = 1 - beta1 ** state.steps;
  const c2 = 1 - beta2 ** state.steps;
  for (let k = 0; k < theta.length; k++) {
    const g = gradient[k]!;
    state.m[k] = beta1 * state.m[k]! + (1 - beta1) * g;
    state.v[k] = beta2 * state.v[k]! + (1 - beta2) * g * g;
    theta[k]! -= (learningRate * (state.m[k]! / c1)) / (Math.sqrt(state.v[k]! / c2) + epsilon);
  }
}
