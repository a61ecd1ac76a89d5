/**
 * The single-record plan's arithmetic, without SEAL: a TernaryNet's integer output is a
 * quadratic form in the quantized record, so the server needs one plaintext product and no
 * evaluation keys but a public key.
 *
 *   y(x) = Σ_j t_j (α_j w_j·x + β_j)² + Σ_i l_i x_i = C + v·z(x),
 *   z(x) = [x_1 … x_d, x_i·x_k for i ≤ k (row-major)],  L = d + d(d+1)/2 entries,
 *   C = Σ_j t_j β_j²,  v_i = l_i + Σ_j 2 t_j α_j β_j w_ji,  v_ik = Σ_j t_j α_j² w_ji w_jk (×2 when i ≠ k),
 * where l is the optional linear skip term (`output.linear`, zero when absent): it only adds to
 * the linear part, so the region layout is unchanged and the noise bound follows from v as before.
 *
 * The client knows x and sends z(x) encrypted, coefficient-encoded: region r of the plaintext
 * polynomial holds record r's z at coefficients [r·L, r·L + L). The server multiplies by
 * W(X) = Σ_{b<L} v_{L−1−b} X^b; coefficient r·L + L − 1 of the product is then v·z of record r
 * alone (W has degree < L, so nothing wraps around and regions do not mix), and adds C there.
 *
 * Model privacy: (C, v) is the model's function itself; the outputs a client may ask for at
 * chosen records determine it after about L requests, exactly as with any circuit computing it.
 */
import type { ModelBody } from '../model/format.ts';
import type { QuantizedRecord } from '../model/reference.ts';

export interface QuadraticForm {
  featureCount: number;
  /** L: entries of z(x), and coefficients a record's region occupies. */
  regionLength: number;
  /** C, added at every output position. */
  constant: bigint;
  /** v, in z's order: linear terms, then the products x_i·x_k for i ≤ k. */
  weights: bigint[];
}

/** L = d + d(d+1)/2. */
export function regionLengthFor(featureCount: number): number {
  return featureCount + (featureCount * (featureCount + 1)) / 2;
}

/** The model's output as C + v·z(x), with exact integer (BigInt) coefficients. */
export function quadraticForm(model: Pick<ModelBody, 'hidden' | 'output'>): QuadraticForm {
  const W = model.hidden.weights;
  const d = W[0]?.length ?? 0;
  const L = regionLengthFor(d);
  const weights = new Array<bigint>(L).fill(0n);
  let constant = 0n;
  W.forEach((row, j) => {
    const t = BigInt(model.output.weights[j]!);
    if (t === 0n) return;
    const a = BigInt(model.hidden.alpha[j]!);
    const b = BigInt(model.hidden.beta[j]!);
    const w = row.map((x) => BigInt(x));
    constant += t * b * b;
    for (let i = 0; i < d; i++) weights[i]! += 2n * t * a * b * w[i]!;
    let m = d;
    for (let i = 0; i < d; i++) {
      for (let k = i; k < d; k++, m++) weights[m]! += t * a * a * w[i]! * w[k]! * (i === k ? 1n : 2n);
    }
  });
  model.output.linear?.forEach((l, i) => {
    weights[i]! += BigInt(l);
  });
  return { featureCount: d, regionLength: L, constant, weights };
}

/** z(x): the record, then its pairwise products x_i·x_k for i ≤ k (row-major). */
export function featureVector(q: QuantizedRecord): Int32Array {
  const d = q.length;
  const z = new Int32Array(regionLengthFor(d));
  z.set(q);
  let m = d;
  for (let i = 0; i < d; i++) for (let k = i; k < d; k++) z[m++] = q[i]! * q[k]!;
  return z;
}

/** C + v·z(x): what the encrypted product decrypts to (equals referenceScore). */
export function formScore(form: QuadraticForm, q: QuantizedRecord): bigint {
  const z = featureVector(q);
  return form.weights.reduce((s, v, m) => s + v * BigInt(z[m]!), form.constant);
}

/** Regions of L coefficients in a polynomial of degree n. */
export function regionCount(regionLength: number, n: number): number {
  return Math.floor(n / regionLength);
}

/** Coefficient where region r's output lands: r·L + L − 1. */
export function outputPositions(regionLength: number, regions: number): number[] {
  return Array.from({ length: regions }, (_, r) => r * regionLength + regionLength - 1);
}

/**
 * Client side: the plaintext polynomial's n signed coefficients, record r's z(x) in region r;
 * regions left over stay zero. `regions`: the plan's (it may keep fewer than the polynomial holds).
 */
export function packRegions(records: readonly QuantizedRecord[], featureCount: number, n: number, regions = regionCount(regionLengthFor(featureCount), n)): Int32Array {
  const L = regionLengthFor(featureCount);
  if (records.length < 1 || records.length > regions) throw new RangeError(`a single-record ciphertext holds 1 to ${regions} records, got ${records.length}`);
  const coeffs = new Int32Array(n);
  records.forEach((q, r) => {
    if (q.length !== featureCount) throw new RangeError(`record ${r} has ${q.length} values, the model expects ${featureCount}`);
    coeffs.set(featureVector(q), r * L);
  });
  return coeffs;
}

/** Server side: W's coefficients, W_b = v_{L−1−b} for b < L (signed; reduce mod t to encode). */
export function weightPolynomial(form: QuadraticForm): bigint[] {
  return form.weights.slice().reverse();
}

/** ||v||₁: the factor by which the plaintext product grows the encryption noise. */
export function weightL1(form: QuadraticForm): bigint {
  return form.weights.reduce((s, v) => s + (v < 0n ? -v : v), 0n);
}

/**
 * SEAL's fresh noise coefficients lie in [−21, 21] (a centered binomial of σ = 3.2), and BFV's
 * scaling of the message rounds by at most 1/2: the product's noise coefficients are at most
 * 21.5·||v||₁ in units of q/t, and adding C rounds by 1/2 more.
 */
export const FRESH_NOISE_BOUND = 21;

/** b: a deterministic bound on every noise coefficient of the product plus C. */
export function noiseBound(form: QuadraticForm): bigint {
  // 21.5·l1 + 1, rounded up: (43·l1 + 1) / 2 + 1.
  return (43n * weightL1(form) + 1n) / 2n + 1n;
}
