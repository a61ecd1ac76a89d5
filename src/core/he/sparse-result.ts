/**
 * A sparse result: what the client of a single-record plan needs of a flooded BFV ciphertext, and
 * nothing more. The server sends c1 whole (the client needs all of it to multiply by its key) but
 * c0 only at the output positions it reads; both brought from the level's modulus Q (one or more
 * primes) to a power of two, c1 at k1 bits and c0 at k0 bits per coefficient instead of 64 bits
 * per prime. At degree 4096 that is 17.6–19.1 KB for the default models instead of 131 KB.
 *
 * Why it is safe to drop c0 elsewhere: decryption is linear, coefficient p of c0 + c1·s needs only
 * c0's coefficient p. The client puts zeros elsewhere and ignores what decrypts there.
 *
 * Why the rounding keeps the value: in BFV form (c0 + c1·s = Δ·m + e mod Q, Δ = Q/t) the message
 * sits in the high bits. Rounding to k bits and back moves c0's coefficient by at most
 * Q/2^(k0+1) + 1/2 and each of c1's by Q/2^(k1+1) + 1/2; the latter are multiplied by the ternary
 * secret key, so a position moves by at most n of them (roundingBound). The plan chooses k0, k1 so
 * that this fits beside the flood (sparseResultWidths). The rounding is public post-processing of
 * the flooded ciphertext, so it reveals nothing the decrypted value does not.
 *
 * Safety: the client checks every header field against its plan and the exact byte length before
 * it allocates anything, and then fills a template ciphertext of its own plan's data level.
 *
 * Layout, little-endian: magic "CCSR" (u32 0x52534343), version u8 (1), primes u8 (of the result's
 * level), k0 u8, k1 u8, degree n u32, position count u32, then c1's n coefficients at k1 bits and
 * c0's at the positions (in the plan's order) at k0 bits, each a little-endian bit stream
 * (coefficient i at bits i·k..i·k+k−1) padded with zero bits to a whole byte.
 */
import type { HeParameters } from './params.ts';
import type { Ciphertext, Seal, SEALContext } from './seal.ts';
import { SEAL_CIPHERTEXT_AT, sealCiphertextView } from './serialized.ts';

export const SPARSE_MAGIC = 0x52534343;
export const SPARSE_VERSION = 1;
export const SPARSE_HEADER_BYTES = 16;

/** Sparse result bytes that do not fit the plan: refused before anything is allocated. */
export class SparseResultError extends Error {
  override name = 'SparseResultError';
}

/** What the client's plan expects of a result. */
export interface SparseExpectation {
  k0: number;
  k1: number;
  /** Primes of the level the result is at (the plan's data level). */
  primes: number;
}

/** Exact length of a sparse result. */
export function sparseResultBytes(degree: number, positions: number, k0: number, k1: number): number {
  return SPARSE_HEADER_BYTES + Math.ceil((degree * k1) / 8) + Math.ceil((positions * k0) / 8);
}

const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;

/** The inverse of a modulo m (extended Euclid); throws when there is none. */
export function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [mod(a, m), m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new RangeError('not invertible');
  return mod(s0, m);
}

/** The primes of the level with `primes` primes (SEAL drops primes from the end of the chain). */
export function levelPrimes(params: HeParameters, primes: number): bigint[] {
  if (!Number.isInteger(primes) || primes < 1 || primes >= params.coeffModulus.length) {
    throw new RangeError(`a level has 1 to ${params.coeffModulus.length - 1} primes, not ${primes}`);
  }
  return params.coeffModulus.slice(0, primes).map(BigInt);
}

const product = (xs: readonly bigint[]): bigint => xs.reduce((a, b) => a * b, 1n);
const bitsOf = (x: bigint): number => x.toString(2).length;

/**
 * Worst case, over every secret key, of how far the packing moves c0 + c1·s at one position, in
 * units of the level's modulus: Q/2^(k0+1) + 1/2 for c0, n times Q/2^(k1+1) + 1/2 for c1.
 * Rounded up to an integer.
 */
export function roundingBound(params: HeParameters, primes: number, k0: number, k1: number): bigint {
  const Q = product(levelPrimes(params, primes));
  const n = BigInt(params.polyModulusDegree);
  const half = (k: number) => Q / (1n << BigInt(k + 1)) + 1n;
  return half(k0) + n * half(k1);
}

/**
 * The narrowest widths whose rounding (roundingBound) stays within `allowance` (in units of the
 * level's modulus): c0 gets an eighth of it, c1 the rest, since c1's error is multiplied by the key.
 */
export function sparseResultWidths(params: HeParameters, primes: number, allowance: bigint): { k0: number; k1: number } {
  const Q = product(levelPrimes(params, primes));
  const n = BigInt(params.polyModulusDegree);
  const qBits = bitsOf(Q);
  const narrowest = (fits: (k: number) => boolean): number => {
    for (let k = 1; k <= qBits; k++) if (fits(k)) return k;
    throw new RangeError(`no width up to ${qBits} bits keeps the rounding within ${allowance}`);
  };
  const k0 = narrowest((k) => 8n * (Q / (1n << BigInt(k + 1)) + 1n) <= allowance);
  const k1 = narrowest((k) => roundingBound(params, primes, k0, k) <= allowance);
  return { k0, k1 };
}

/**
 * Little-endian bit streams of k-bit values (any k), 32 bits at a time in plain numbers: the
 * pending bits stay below 2^40, well inside a double's exact range.
 */
export function bitWriter(out: Uint8Array, start: number) {
  let at = start;
  let acc = 0;
  let pending = 0;
  const put = (bits: number, width: number) => {
    acc += bits * 2 ** pending;
    pending += width;
    while (pending >= 8) {
      out[at++] = acc % 256;
      acc = Math.floor(acc / 256);
      pending -= 8;
    }
  };
  const write = (value: bigint, k: number) => {
    for (let shift = 0; shift < k; shift += 32) {
      const width = Math.min(32, k - shift);
      put(Number((value >> BigInt(shift)) & ((1n << BigInt(width)) - 1n)), width);
    }
  };
  write.flush = () => {
    if (pending > 0) out[at++] = acc;
    acc = 0;
    pending = 0;
  };
  return write;
}

/** Reads what bitWriter wrote, k bits at a time. */
export function bitReader(bytes: Uint8Array, start: number) {
  let at = start;
  let acc = 0;
  let pending = 0;
  const take = (width: number): number => {
    while (pending < width) {
      acc += bytes[at++]! * 2 ** pending;
      pending += 8;
    }
    const bits = acc % 2 ** width;
    acc = Math.floor(acc / 2 ** width);
    pending -= width;
    return bits;
  };
  return (k: number): bigint => {
    let value = 0n;
    for (let shift = 0; shift < k; shift += 32) value |= BigInt(take(Math.min(32, k - shift))) << BigInt(shift);
    return value;
  };
}

function checkPositions(positions: readonly number[], n: number): void {
  positions.forEach((p, i) => {
    if (!Number.isInteger(p) || p < 0 || p >= n || (i > 0 && p <= positions[i - 1]!)) {
      throw new RangeError(`output positions must be increasing integers below ${n}`);
    }
  });
}

/** CRT: the coefficient in [0, Q) whose residues are `words` modulo `moduli`. */
function crt(moduli: readonly bigint[]) {
  const Q = product(moduli);
  const lift = moduli.map((q) => {
    const rest = Q / q;
    return rest * modInverse(rest % q, q);
  });
  return (words: readonly bigint[]): bigint => {
    let c = 0n;
    words.forEach((w, j) => (c += w * lift[j]!));
    return c % Q;
  };
}

/**
 * Server side: the sparse bytes of a size-2 BFV ciphertext (left unchanged) at any level. The
 * plan gives the positions and widths (sparseResultWidths).
 */
export function packSparseResult(seal: Seal, context: SEALContext, params: HeParameters, ct: Ciphertext, positions: readonly number[], k0: number, k1: number): Uint8Array {
  if (params.scheme !== 'bfv') throw new RangeError('sparse results are BFV ciphertexts');
  if (ct.size() !== 2) throw new RangeError(`only size-2 ciphertexts are packed, got size ${ct.size()}`);
  if (ct.isNttForm()) throw new RangeError('expected a BFV ciphertext in coefficient form');
  const n = params.polyModulusDegree;
  checkPositions(positions, n);
  const primes = ct.coeffModulusSize();
  const moduli = levelPrimes(params, primes);
  const Q = product(moduli);
  const qBits = bitsOf(Q);
  if (![k0, k1].every((k) => Number.isInteger(k) && k >= 1 && k <= Math.min(qBits, 255))) throw new RangeError(`bits per coefficient must be 1..${qBits}`);
  const raw = ct.saveToArray(seal.ComprModeType.none) as Uint8Array;
  const view = sealCiphertextView(raw, n, primes);
  const word = (poly: number, j: number, i: number) => view.getBigUint64(SEAL_CIPHERTEXT_AT.data + ((poly * primes + j) * n + i) * 8, true);
  const combine = crt(moduli);
  const halfQ = Q >> 1n;
  const scaled = (poly: number, i: number, k: number): bigint => {
    const c = combine(moduli.map((_, j) => word(poly, j, i)));
    // round(c · 2^k / Q), where 2^k itself stands for 0.
    const v = ((c << BigInt(k)) + halfQ) / Q;
    return v === 1n << BigInt(k) ? 0n : v;
  };
  const out = new Uint8Array(sparseResultBytes(n, positions.length, k0, k1));
  const head = new DataView(out.buffer);
  head.setUint32(0, SPARSE_MAGIC, true);
  head.setUint8(4, SPARSE_VERSION);
  head.setUint8(5, primes);
  head.setUint8(6, k0);
  head.setUint8(7, k1);
  head.setUint32(8, n, true);
  head.setUint32(12, positions.length, true);
  const c1 = bitWriter(out, SPARSE_HEADER_BYTES);
  for (let i = 0; i < n; i++) c1(scaled(1, i, k1), k1);
  c1.flush();
  const c0 = bitWriter(out, SPARSE_HEADER_BYTES + Math.ceil((n * k1) / 8));
  for (const p of positions) c0(scaled(0, p, k0), k0);
  c0.flush();
  return out;
}

/** Checks a sparse header against the plan's parameters, positions, widths and the byte length. */
export function readSparseHeader(params: HeParameters, bytes: Uint8Array, positions: readonly number[], expect: SparseExpectation): void {
  if (bytes.length < SPARSE_HEADER_BYTES) throw new SparseResultError(`the result is ${bytes.length} bytes, too short for its ${SPARSE_HEADER_BYTES}-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== SPARSE_MAGIC) throw new SparseResultError('the result is not a sparse result (no CCSR header)');
  const version = view.getUint8(4);
  if (version !== SPARSE_VERSION) throw new SparseResultError(`the result has format version ${version}; this client reads version ${SPARSE_VERSION}`);
  const primes = view.getUint8(5);
  if (primes !== expect.primes) throw new SparseResultError(`the result declares a level of ${primes} primes; this plan's results come at ${expect.primes}`);
  const k0 = view.getUint8(6);
  const k1 = view.getUint8(7);
  if (k0 !== expect.k0 || k1 !== expect.k1) throw new SparseResultError(`the result declares ${k0} and ${k1} bits per coefficient; this plan's are ${expect.k0} and ${expect.k1}`);
  const degree = view.getUint32(8, true);
  if (degree !== params.polyModulusDegree) throw new SparseResultError(`the result declares degree ${degree}; this plan's is ${params.polyModulusDegree}`);
  const count = view.getUint32(12, true);
  if (count !== positions.length) throw new SparseResultError(`the result declares ${count} output positions; this plan has ${positions.length}`);
  const expected = sparseResultBytes(degree, count, k0, k1);
  if (bytes.length !== expected) throw new SparseResultError(`the result is ${bytes.length} bytes; its header declares ${expected}`);
}

/**
 * Client side: the uncompressed SEAL bytes of the ciphertext a sparse result stands for, at the
 * plan's level, with c0 zero outside the positions. `template` gives the uncompressed bytes of any
 * size-2 ciphertext of this plan at that level, in coefficient form; its fields are kept and its
 * coefficients replaced. Nothing is allocated before the header and length pass.
 */
export function unpackSparseResult(params: HeParameters, bytes: Uint8Array, positions: readonly number[], expect: SparseExpectation, template: (primes: number) => Uint8Array): Uint8Array {
  const n = params.polyModulusDegree;
  checkPositions(positions, n);
  const moduli = levelPrimes(params, expect.primes);
  readSparseHeader(params, bytes, positions, expect);
  const raw = new Uint8Array(template(expect.primes));
  const view = sealCiphertextView(raw, n, expect.primes);
  if (view.getUint8(SEAL_CIPHERTEXT_AT.ntt) !== 0) throw new Error('the result template is in NTT form');
  const Q = product(moduli);
  const primes = moduli.length;
  const set = (poly: number, i: number, c: bigint) => moduli.forEach((q, j) => view.setBigUint64(SEAL_CIPHERTEXT_AT.data + ((poly * primes + j) * n + i) * 8, c % q, true));
  // round(v · Q / 2^k), below Q since v < 2^k (and Q itself stands for 0).
  const back = (v: bigint, k: number): bigint => {
    const c = (v * Q + (1n << BigInt(k - 1))) >> BigInt(k);
    return c === Q ? 0n : c;
  };
  const c1 = bitReader(bytes, SPARSE_HEADER_BYTES);
  for (let i = 0; i < n; i++) set(1, i, back(c1(expect.k1), expect.k1));
  for (let i = 0; i < n; i++) set(0, i, 0n);
  const c0 = bitReader(bytes, SPARSE_HEADER_BYTES + Math.ceil((n * expect.k1) / 8));
  for (const p of positions) set(0, p, back(c0(expect.k0), expect.k0));
  return raw;
}
