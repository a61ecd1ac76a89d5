/**
 * A packed result: a size-2 ciphertext at the last level (one prime Q) brought to 2^k0 (c0)
 * and 2^k1 (c1) and written at k bits per coefficient, instead of SEAL's 64-bit words per prime.
 * Measured on protocol 1's single-record results (docs/protocol.md §9): 131,185 B became
 * 71,728–77,872 B at a 10-bit noise margin. Batch results may be sent this way (the evaluator packs
 * when asked with widths); the services send SEAL's bytes today. Single results have their own,
 * sparser format (sparse-result.ts), which shares this module's bit streams.
 *
 * Why it works: in BFV form (c0 + c1·s = Δ·m + e mod Q, Δ = Q/t) the message sits in the high
 * bits, so rounding c_i to k_i bits adds an error of about Q/2^k0 + (Q/2^k1)·|s|, which the noise
 * budget must absorb; c1's rounding is multiplied by the secret key, so c1 keeps more bits. A BGV
 * ciphertext (m + t·e) is first multiplied by t⁻¹ mod Q, which puts it in BFV form for a multiple
 * of m; the client multiplies by t after scaling back, which undoes it exactly.
 *
 * Safety: the header declares degree, level and bit widths, and the client checks them against
 * its plan and the byte length before it allocates anything; what it then builds is at most a
 * first-level ciphertext of the plan, whatever the bytes say.
 *
 * Layout, little-endian: magic "CCPR" (u32 0x52504343), version u8 (1), scheme u8 (0 BFV, 1 BGV),
 * primes u8 (1: the last level), k0 u8, k1 u8, reserved 3 bytes (0), degree n u32, BGV correction factor u64 (1 for
 * BFV), then c0's n coefficients at k0 bits and c1's at k1 bits, each as one little-endian bit
 * stream (coefficient i at bits i·k..i·k+k−1), padded with zero bits to a whole byte.
 */
import type { HeParameters } from './params.ts';
import type { Ciphertext, Seal, SEALContext } from './seal.ts';
import { bitReader, bitWriter, modInverse, SEAL_CIPHERTEXT_AT as AT, sealCiphertextView } from './sparse-result.ts';

export { modInverse };

export const PACKED_MAGIC = 0x52504343;
export const PACKED_VERSION = 1;
export const PACKED_HEADER_BYTES = 24;

/** Packed bytes that do not fit the plan: refused before anything is allocated. */
export class PackedResultError extends Error {
  override name = 'PackedResultError';
}

export interface PackedHeader {
  scheme: 'bfv' | 'bgv';
  /** Primes of the level the result was at. */
  primes: number;
  k0: number;
  k1: number;
  degree: number;
  correction: bigint;
}

/** Exact length of a packed result. */
export function packedResultBytes(degree: number, k0: number, k1: number): number {
  return PACKED_HEADER_BYTES + Math.ceil((degree * k0) / 8) + Math.ceil((degree * k1) / 8);
}

/** Whether bytes start like a packed result (rather than a SEAL object). */
export function isPackedResult(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === PACKED_MAGIC;
}

function bitsOf(x: bigint): number {
  return x.toString(2).length;
}

/** The last level's prime, where results are: SEAL keeps the first prime of the chain. */
function lastPrime(params: HeParameters): bigint {
  return BigInt(params.coeffModulus[0]!);
}

/** Reads and checks a packed header against a plan's parameters and the byte length. */
export function readPackedHeader(bytes: Uint8Array, params: HeParameters): PackedHeader {
  if (bytes.length < PACKED_HEADER_BYTES) throw new PackedResultError(`the packed result is ${bytes.length} bytes, too short for its ${PACKED_HEADER_BYTES}-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== PACKED_MAGIC) throw new PackedResultError('the result is not a packed result (no CCPR header)');
  const version = view.getUint8(4);
  if (version !== PACKED_VERSION) throw new PackedResultError(`the packed result has format version ${version}; this client reads version ${PACKED_VERSION}`);
  const schemeCode = view.getUint8(5);
  const scheme = schemeCode === 0 ? 'bfv' : schemeCode === 1 ? 'bgv' : null;
  if (scheme !== params.scheme) throw new PackedResultError(`the packed result names scheme ${scheme ?? schemeCode}; this plan uses ${params.scheme.toUpperCase()}`);
  // Results leave at the last level, one prime (the field leaves room for plans that stop above).
  const primes = view.getUint8(6);
  if (primes !== 1) throw new PackedResultError(`the packed result declares ${primes} primes; results come at the last level, one prime`);
  const k0 = view.getUint8(7);
  const k1 = view.getUint8(8);
  const qBits = bitsOf(lastPrime(params));
  for (const k of [k0, k1]) {
    if (k < 1 || k > qBits) throw new PackedResultError(`the packed result declares ${k} bits per coefficient; the last level has a ${qBits}-bit modulus`);
  }
  if (view.getUint8(9) !== 0 || view.getUint16(10, true) !== 0) throw new PackedResultError('the packed result has nonzero reserved bytes');
  const degree = view.getUint32(12, true);
  if (degree !== params.polyModulusDegree) throw new PackedResultError(`the packed result declares degree ${degree}; this plan's is ${params.polyModulusDegree}`);
  const correction = view.getBigUint64(16, true);
  const t = BigInt(params.plainModulus);
  if (correction < 1n || correction >= t || (scheme === 'bfv' && correction !== 1n)) throw new PackedResultError(`the packed result declares correction factor ${correction}, outside this plan's range`);
  const expected = packedResultBytes(degree, k0, k1);
  if (bytes.length !== expected) throw new PackedResultError(`the packed result is ${bytes.length} bytes; its header declares ${expected}`);
  return { scheme, primes, k0, k1, degree, correction };
}

/** A view of a result's SEAL bytes at the last level (one prime). */
function checkLayout(raw: Uint8Array, degree: number): DataView {
  return sealCiphertextView(raw, degree, 1);
}

/**
 * Server side: packs a size-2 ciphertext (left unchanged) at k0 and k1 bits per coefficient.
 * The caller chooses k0 and k1 from a measured noise margin (docs/protocol.md §9).
 */
export function packCiphertext(seal: Seal, context: SEALContext, params: HeParameters, ct: Ciphertext, k0: number, k1: number): Uint8Array {
  if (ct.size() !== 2) throw new RangeError(`only size-2 ciphertexts are packed, got size ${ct.size()}`);
  const n = params.polyModulusDegree;
  if (ct.coeffModulusSize() !== 1) throw new RangeError('only results at the last level (one prime) are packed');
  const Q = lastPrime(params);
  const qBits = bitsOf(Q);
  if (![k0, k1].every((k) => Number.isInteger(k) && k >= 1 && k <= qBits)) throw new RangeError(`bits per coefficient must be 1..${qBits}`);
  const copy = ct.copy();
  let raw: Uint8Array;
  try {
    if (copy.isNttForm()) {
      const ev = new seal.Evaluator(context);
      ev.cipherTransformFromNttInplace(copy);
      ev.delete();
    }
    raw = copy.saveToArray(seal.ComprModeType.none) as Uint8Array;
  } finally {
    copy.delete();
  }
  const view = checkLayout(raw, n);
  const correction = params.scheme === 'bgv' ? view.getBigUint64(AT.correction, true) : 1n;
  const dataAt = raw.length - 2 * n * 8;
  const toBfv = params.scheme === 'bgv' ? modInverse(BigInt(params.plainModulus), Q) : 1n;
  const out = new Uint8Array(packedResultBytes(n, k0, k1));
  const head = new DataView(out.buffer);
  head.setUint32(0, PACKED_MAGIC, true);
  head.setUint8(4, PACKED_VERSION);
  head.setUint8(5, params.scheme === 'bgv' ? 1 : 0);
  head.setUint8(6, 1);
  head.setUint8(7, k0);
  head.setUint8(8, k1);
  head.setUint32(12, n, true);
  head.setBigUint64(16, correction, true);
  const bgv = params.scheme === 'bgv';
  const halfQ = Q >> 1n;
  let at = PACKED_HEADER_BYTES;
  for (let poly = 0; poly < 2; poly++) {
    const k = poly === 0 ? k0 : k1;
    const K = BigInt(k);
    const top = 1n << K;
    const writer = bitWriter(out, at);
    for (let i = 0; i < n; i++) {
      let c = view.getBigUint64(dataAt + (poly * n + i) * 8, true);
      if (bgv) c = (c * toBfv) % Q;
      // round(c · 2^k / Q), where 2^k itself stands for 0.
      const v = ((c << K) + halfQ) / Q;
      writer(v === top ? 0n : v, k);
    }
    writer.flush();
    at += Math.ceil((n * k) / 8);
  }
  return out;
}

/**
 * Client side: the SEAL bytes of the ciphertext a packed result stands for, checked first
 * (readPackedHeader). `template` gives the uncompressed SEAL bytes of any size-2 ciphertext of
 * this plan at the declared level, in coefficient (non-NTT) form: its fields are kept and its
 * coefficients replaced. SEAL reads a BGV ciphertext back in NTT form itself.
 */
export function unpackCiphertext(params: HeParameters, bytes: Uint8Array, template: (primes: number) => Uint8Array): Uint8Array {
  const header = readPackedHeader(bytes, params);
  const n = header.degree;
  const raw = new Uint8Array(template(header.primes));
  const view = checkLayout(raw, n);
  if (header.scheme === 'bgv') view.setBigUint64(AT.correction, header.correction, true);
  const Q = lastPrime(params);
  const t = BigInt(params.plainModulus);
  const bgv = header.scheme === 'bgv';
  const dataAt = raw.length - 2 * n * 8;
  let at = PACKED_HEADER_BYTES;
  for (let poly = 0; poly < 2; poly++) {
    const k = poly === 0 ? header.k0 : header.k1;
    const K = BigInt(k);
    const half = 1n << (K - 1n);
    const read = bitReader(bytes, at);
    for (let i = 0; i < n; i++) {
      // round(v · Q / 2^k), below Q since v < 2^k.
      let c = (read(k) * Q + half) >> K;
      if (c === Q) c = 0n;
      if (bgv) c = (c * t) % Q;
      view.setBigUint64(dataAt + (poly * n + i) * 8, c, true);
    }
    at += Math.ceil((n * k) / 8);
  }
  return raw;
}
