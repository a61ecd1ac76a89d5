/** Lean requests (bench/lean.ts): what can be done to a result after the circuit, measured: bit-packing (d) and flooding for circuit privacy. */
import { REQUIRED_MARGIN_BITS } from '../../src/core/he/compile.ts';
import { contextFor } from '../../src/core/he/params.ts';
import type { HePlan } from '../../src/core/he/plan.ts';
import type { Seal } from '../../src/core/he/seal.ts';
import { floodBits, rerandomize } from '../../src/core/he/rerandomize.ts';
import { modInverse } from '../../src/core/he/packed-result.ts';
import type { Row } from './harness.ts';

export const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;

/** Divides and rounds to nearest, for non-negative a and positive b. */
const divRound = (a: bigint, b: bigint) => (2n * a + b) / (2n * b);

/**
 * (d) Result packing: a result at L primes (modulus Q) as two polynomials of k0 and k1 bits per
 * coefficient, i.e. modulus-switched from Q to 2^k in BFV form (a BGV result is first multiplied
 * by t⁻¹ mod Q, which turns m + t·e into a BFV-form encryption of a multiple of m mod t). Returns
 * the client's rebuilt SEAL bytes (the value scaled back to Q, a BGV one times t) and the packed
 * size.
 */
export function packedRoundTrip(seal: Seal, plan: HePlan, resultBytes: Uint8Array, k0: number, k1: number): { bytes: Uint8Array; packedBytes: number } {
  const context = contextFor(seal, plan.params);
  const n = plan.params.polyModulusDegree;
  const t = BigInt(plan.params.plainModulus);
  const bgv = plan.params.scheme === 'bgv';
  const ev = new seal.Evaluator(context);
  const ct = new seal.Ciphertext();
  ct.loadFromArray(context, resultBytes);
  const L = ct.coeffModulusSize();
  if (ct.size() !== 2) throw new Error('expected a size-2 result');
  const primes = plan.params.coeffModulus.slice(0, L).map(BigInt);
  const Q = primes.reduce((a, b) => a * b, 1n);
  const crt = primes.map((q) => ({ q, Qj: Q / q, inv: modInverse(Q / q, q) }));
  const ntt = ct.isNttForm();
  if (ntt) ev.cipherTransformFromNttInplace(ct);
  const raw = ct.saveToArray(seal.ComprModeType.none) as Uint8Array;
  const dataAt = raw.length - 2 * L * n * 8;
  const words = new BigUint64Array(raw.slice(dataAt).buffer);
  const toBfv = bgv ? modInverse(t, Q) : 1n;
  // Server: scale each coefficient to k bits (what would travel); client: scale back to Q.
  for (let poly = 0; poly < 2; poly++) {
    const k = BigInt(poly === 0 ? k0 : k1);
    for (let i = 0; i < n; i++) {
      let c = 0n;
      crt.forEach(({ q, Qj, inv }, j) => (c += mod(words[(poly * L + j) * n + i]! * inv, q) * Qj));
      c = mod(c * toBfv, Q);
      const small = mod(divRound(c << k, Q), 1n << k);
      let back = mod(divRound(small * Q, 1n << k), Q);
      if (bgv) back = mod(back * t, Q);
      crt.forEach(({ q }, j) => (words[(poly * L + j) * n + i] = back % q));
    }
  }
  const rebuilt = new Uint8Array(raw);
  rebuilt.set(new Uint8Array(words.buffer), dataAt);
  const out = new seal.Ciphertext();
  out.loadFromArray(context, rebuilt);
  // SEAL brings a BGV ciphertext read in coefficient form back to NTT form itself.
  if (ntt && !out.isNttForm()) ev.cipherTransformToNttInplace(out);
  const bytes = out.saveToArray(seal.ComprModeType.none) as Uint8Array;
  out.delete();
  ct.delete();
  ev.delete();
  // A small header (level, k0, k1) plus the two packed polynomials.
  return { bytes, packedBytes: 48 + Math.ceil((n * (k0 + k1)) / 8) };
}

/**
 * (d) For each k1 (c1's bits; c0 keeps fewer, its rounding is not multiplied by the secret key),
 * the smallest packing that decrypts every proof result exactly, and the smallest that keeps the
 * required margin.
 */
export function packResults(seal: Seal, plan: HePlan, results: Uint8Array[], check: (bytes: Uint8Array, index: number) => { margin: number; exact: boolean }): Row['packedResult'] {
  const ctx = contextFor(seal, plan.params);
  const probe = new seal.Ciphertext();
  probe.loadFromArray(ctx, results[0]!);
  const L = probe.coeffModulusSize();
  probe.delete();
  const qBits = plan.params.coeffModulus.slice(0, L).reduce((s, p) => s + BigInt(p).toString(2).length, 0);
  const tryK = (k0: number, k1: number) => {
    let margin = Infinity;
    let exact = true;
    let packed = 0;
    results.forEach((r, f) => {
      const { bytes, packedBytes } = packedRoundTrip(seal, plan, r, k0, k1);
      packed = packedBytes;
      const seen = check(bytes, f);
      margin = Math.min(margin, seen.margin);
      if (!seen.exact) exact = false;
    });
    return { k0, k1, downBytes: packed, marginBits: margin, exact };
  };
  let smallestExact: { k0: number; k1: number; downBytes: number; marginBits: number } | null = null;
  let withMargin: ReturnType<typeof tryK> | null = null;
  for (let k1 = 16; k1 <= qBits && (!smallestExact || !withMargin); k1++) {
    // c0's rounding adds |e| ≤ 2^(k-1)·q/2^k; c1's is multiplied by s (≈ √n times more).
    const k0 = Math.max(8, k1 - 6);
    const r = tryK(k0, k1);
    if (r.exact && !smallestExact) smallestExact = { k0, k1, downBytes: r.downBytes, marginBits: r.marginBits };
    if (r.exact && r.marginBits >= REQUIRED_MARGIN_BITS && !withMargin) withMargin = r;
  }
  if (!withMargin) return smallestExact ? { ...smallestExact, exact: true, smallestExact } : null;
  // Then take bits off c0 while the margin holds.
  for (let k0 = withMargin.k0 - 1; k0 >= 8; k0--) {
    const r = tryK(k0, withMargin.k1);
    if (!r.exact || r.marginBits < REQUIRED_MARGIN_BITS) break;
    withMargin = r;
  }
  return { ...withMargin, smallestExact };
}

/**
 * Circuit privacy: each proof result flooded (rerandomize.ts) with the bits a 2^−40 statistical
 * distance needs above the smallest margin seen, then decrypted. BFV only.
 */
export function floodResults(seal: Seal, plan: HePlan, results: Uint8Array[], check: (bytes: Uint8Array, index: number) => { margin: number; exact: boolean }, pk: InstanceType<Seal['PublicKey']>, marginBefore: number): Row['flooding'] {
  if (plan.params.scheme !== 'bfv') return null;
  const context = contextFor(seal, plan.params);
  const ct = new seal.Ciphertext();
  let marginAfter = Infinity;
  let exact = true;
  try {
    ct.loadFromArray(context, results[0]!);
    const primes = ct.coeffModulusSize();
    const f = floodBits(plan.params, primes, marginBefore);
    const qBits = plan.params.coeffModulus.slice(0, primes).reduce((a, p) => a + BigInt(p).toString(2).length, 0);
    if (f + 2 > qBits) return { floodBits: f, marginBefore, marginAfter: null, exact: null, note: `${f} bits of flooding do not fit the result's ${qBits}-bit modulus`, afterSwitchToLast: null };
    // Switching down after the flood is public post-processing: the distance cannot grow.
    const ev = new seal.Evaluator(context);
    const last = primes > 1 ? { marginBits: Infinity, exact: true, downBytes: 0 } : null;
    results.forEach((bytes, i) => {
      ct.loadFromArray(context, bytes);
      const flooded = rerandomize(seal, context, plan.params, ct, pk, f);
      const seen = check(flooded.saveToArray(seal.ComprModeType.none) as Uint8Array, i);
      marginAfter = Math.min(marginAfter, seen.margin);
      if (!seen.exact) exact = false;
      if (last) {
        while (flooded.coeffModulusSize() > 1) ev.cipherModSwitchToNextInplace(flooded);
        const down = flooded.saveToArray(seal.ComprModeType.none) as Uint8Array;
        const lastSeen = check(down, i);
        last.marginBits = Math.min(last.marginBits, lastSeen.margin);
        last.downBytes = down.length;
        if (!lastSeen.exact) last.exact = false;
      }
      flooded.delete();
    });
    ev.delete();
    return { floodBits: f, marginBefore, marginAfter, exact, note: null, afterSwitchToLast: last };
  } finally {
    ct.delete();
  }
}
