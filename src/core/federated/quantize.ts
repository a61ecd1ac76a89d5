/**
 * From float gradients to integers in Z_{2^32}, one patient record at a time: clip to L2 norm
 * C, scale, round randomly and without bias, re-drawing until the rounded vector's L2 norm is
 * within Δ₂ (conditional randomized rounding, Kairouz, Liu, Steinke ICML 2021 §4.1), so that one
 * record changes the sum by at most Δ₂ in L2 and Δ₁ in L1: the sensitivities the accountant uses.
 * Then the site's sum is wrapped into Z_{2^32}, where aggregation is exact.
 */
import type { ChaChaRng } from './prng.ts';

/** β: probability bound of the rounding tail that the L2 bound leaves out (Kairouz et al.). */
export const ROUNDING_BETA = Math.exp(-0.5);

/**
 * Δ₂: the L2 norm a record's conditionally rounded, scaled contribution may have:
 * min(Cs + √d, √(C²s² + d/4 + √(2 ln(1/β)) (Cs + √d/2))) (Kairouz et al. 2021, Thm 2;
 * google-research/federated distributed_dp `rounded_l2_norm_bound`).
 */
export function roundedL2Bound(clip: number, scale: number, dimension: number, beta = ROUNDING_BETA): number {
  const c = clip * scale;
  const sqrtD = Math.sqrt(dimension);
  const bound1 = c + sqrtD;
  if (beta === 0) return bound1;
  const squared = c * c + dimension / 4 + Math.sqrt(2 * Math.log(1 / beta)) * (c + sqrtD / 2);
  return Math.min(bound1, Math.sqrt(squared));
}

/** Δ₁ of an integer vector of L2 norm ≤ Δ₂ in d dimensions: Δ₂ · min(√d, Δ₂). */
export function roundedL1Bound(l2: number, dimension: number): number {
  return l2 * Math.min(Math.sqrt(dimension), l2);
}

/** `v` scaled down to L2 norm `clip` when longer (a new array). */
export function clipL2(v: ArrayLike<number>, clip: number): Float64Array {
  let sq = 0;
  for (let k = 0; k < v.length; k++) sq += v[k]! * v[k]!;
  const norm = Math.sqrt(sq);
  const factor = norm > clip ? clip / norm : 1;
  const out = new Float64Array(v.length);
  for (let k = 0; k < v.length; k++) out[k] = v[k]! * factor;
  return out;
}

export interface QuantizeOptions {
  clip: number;
  scale: number;
  /** At most this many draws before giving up (the chance of needing more is < β^tries). */
  maxTries?: number;
}

/**
 * One record's gradient as integers: clipped to C, multiplied by `scale`, each coordinate
 * rounded up with probability equal to its fractional part (unbiased), the whole vector drawn
 * again until its L2 norm is at most Δ₂. Deterministic for a given generator state.
 */
export function quantizeRecord(gradient: ArrayLike<number>, options: QuantizeOptions, rng: ChaChaRng): Int32Array {
  const d = gradient.length;
  for (let k = 0; k < d; k++) if (!Number.isFinite(gradient[k]!)) throw new RangeError(`gradient coordinate ${k} is not finite`);
  const scaled = clipL2(gradient, options.clip);
  for (let k = 0; k < d; k++) scaled[k]! *= options.scale;
  const bound = roundedL2Bound(options.clip, options.scale, d);
  const boundSq = bound * bound;
  const out = new Int32Array(d);
  const tries = options.maxTries ?? 1000;
  for (let attempt = 0; attempt < tries; attempt++) {
    let sq = 0;
    for (let k = 0; k < d; k++) {
      const v = scaled[k]!;
      const floor = Math.floor(v);
      const r = floor + (rng.float() < v - floor ? 1 : 0);
      out[k] = r;
      sq += r * r;
    }
    if (sq <= boundSq) return out;
  }
  throw new Error(`randomized rounding exceeded the norm bound ${tries} times in a row`);
}

/** sum += record, in place (plain integers; wrap with toZ32 when done). */
export function accumulate(sum: Float64Array, record: Int32Array): Float64Array {
  if (sum.length !== record.length) throw new RangeError(`vector lengths differ: ${sum.length} and ${record.length}`);
  for (let k = 0; k < sum.length; k++) sum[k]! += record[k]!;
  return sum;
}

/** Integers (|x| < 2^53) into Z_{2^32}: two's complement for negatives. */
export function toZ32(v: ArrayLike<number>): Uint32Array {
  const out = new Uint32Array(v.length);
  for (let k = 0; k < v.length; k++) {
    const x = v[k]!;
    if (!Number.isSafeInteger(x)) throw new RangeError(`coordinate ${k} is not a safe integer: ${x}`);
    out[k] = x >>> 0 === x ? x : Number(BigInt.asUintN(32, BigInt(x)));
  }
  return out;
}

/** Elements of Z_{2^32} read as signed integers in [−2^31, 2^31). */
export function toSigned(v: Uint32Array): Int32Array {
  return new Int32Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
}

/** The unmasked sum back in gradient units: signed integers divided by the scale. */
export function dequantize(sum: Uint32Array, scale: number): Float64Array {
  const signed = toSigned(sum);
  const out = new Float64Array(signed.length);
  for (let k = 0; k < signed.length; k++) out[k] = signed[k]! / scale;
  return out;
}

/**
 * Indices of the records that take part in a round: each independently with probability q
 * (Poisson sampling, which the accountant's amplification assumes).
 */
export function poissonSample(records: number, q: number, rng: ChaChaRng): number[] {
  const picked: number[] = [];
  for (let k = 0; k < records; k++) if (rng.float() < q) picked.push(k);
  return picked;
}

export interface HeadroomInput {
  sites: number;
  /** Largest number of records any site holds. */
  recordsPerSite: number;
  samplingRate: number;
  clip: number;
  scale: number;
  dimension: number;
  /** Variance of the noise in the whole sum (all sites' shares), per coordinate. */
  noiseVariance: number;
}

/**
 * Throws when a sum could leave [−2^31, 2^31) and wrap: sites × (expected sampled records + 6
 * standard deviations) × Δ₂ (the largest a coordinate can get) + 12 noise standard deviations.
 */
export function checkHeadroom(h: HeadroomInput): void {
  const mean = h.recordsPerSite * h.samplingRate;
  const sampled = mean + 6 * Math.sqrt(mean * (1 - h.samplingRate)) + 1;
  const worst = h.sites * sampled * roundedL2Bound(h.clip, h.scale, h.dimension) + 12 * Math.sqrt(h.noiseVariance);
  if (worst >= 2 ** 31) {
    throw new RangeError(`a coordinate of the sum could reach ${worst.toExponential(3)}, beyond 2^31: lower the scale or the sampling rate`);
  }
}
