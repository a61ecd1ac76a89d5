/**
 * SEAL's serialized form, read without SEAL: the header, and how large an object of a plan can
 * be. SEAL inflates a compressed object completely before it checks a single field, so 30 KB of
 * zstd can make it allocate gigabytes (measured: 3.6 GB RSS and 9 s for one "ciphertext"), and
 * WebAssembly memory never shrinks. Whoever hands SEAL bytes from elsewhere reads the header
 * first: the server inflates within these bounds (src/server/pool/seal-bytes.ts); a client
 * takes results only uncompressed (docs/protocol.md §4.6).
 *
 * SEAL 4 header, 16 bytes little-endian: magic 0xA15E (u16), header size 16 (u8), version major
 * (u8), minor (u8), compression mode (u8: 0 none, 1 zlib, 2 zstd), reserved (u16), total size
 * of the serialized object including the header (u64).
 */
import type { HeParameters } from './params.ts';

export const SEAL_HEADER_BYTES = 16;
const MAGIC = 0xa15e;
const COMPRESSION = ['none', 'zlib', 'zstd'] as const;

export type SealCompression = (typeof COMPRESSION)[number];

/** Bytes that are not a well-formed SEAL 4 object, or one larger than its plan allows. */
export class SealBytesError extends Error {
  override name = 'SealBytesError';
}

/**
 * Checks the header of a serialized SEAL object (`what` names it in messages) and returns its
 * compression mode.
 */
export function readSealHeader(bytes: Uint8Array, what: string): SealCompression {
  if (bytes.length < SEAL_HEADER_BYTES) throw new SealBytesError(`${what} is ${bytes.length} bytes, too short to be a SEAL object`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0, true) !== MAGIC) throw new SealBytesError(`${what} is not a SEAL object (no SEAL header)`);
  if (view.getUint8(2) !== SEAL_HEADER_BYTES) throw new SealBytesError(`${what} has a SEAL header of unknown size`);
  const major = view.getUint8(3);
  if (major !== 4) throw new SealBytesError(`${what} was written by SEAL ${major}.x; SEAL 4.x is read here`);
  const declared = view.getBigUint64(8, true);
  if (declared !== BigInt(bytes.length)) throw new SealBytesError(`${what} declares ${declared} bytes but ${bytes.length} arrived (truncated or padded)`);
  const compression = COMPRESSION[view.getUint8(5)];
  if (!compression) throw new SealBytesError(`${what} uses unknown compression mode ${view.getUint8(5)}`);
  return compression;
}

/**
 * The SEAL object whose header is `header`'s (its first 16 bytes) with `compression` and
 * `payload` in place of its own, the declared size made to agree: what readSealHeader checks,
 * written once for the server's inflation and for tests that compress an object themselves.
 */
export function withSealPayload(header: Uint8Array, compression: SealCompression, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(SEAL_HEADER_BYTES + payload.length);
  out.set(header.subarray(0, SEAL_HEADER_BYTES));
  const view = new DataView(out.buffer);
  view.setUint8(5, COMPRESSION.indexOf(compression));
  view.setBigUint64(8, BigInt(out.length), true);
  out.set(payload, SEAL_HEADER_BYTES);
  return out;
}

/**
 * Where SEAL 4 keeps a ciphertext's fields in its uncompressed serialization: header (16), parms
 * id (32), NTT flag (1), size, degree, primes (u64 each), scale (f64), correction factor (u64),
 * then the coefficients as a SEAL array (its own 16-byte header and u64 length), whose words
 * (from byte 113) go polynomial by polynomial, prime by prime.
 */
export const SEAL_CIPHERTEXT_AT = { ntt: 48, size: 49, degree: 57, primes: 65, correction: 81, data: 113 } as const;

/** A view of uncompressed SEAL ciphertext bytes, checked to be size 2, degree n, `primes` primes. */
export function sealCiphertextView(raw: Uint8Array, degree: number, primes: number): DataView {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const AT = SEAL_CIPHERTEXT_AT;
  if (
    raw.length !== ciphertextBytesAt(degree, primes) ||
    view.getBigUint64(AT.size, true) !== 2n ||
    view.getBigUint64(AT.degree, true) !== BigInt(degree) ||
    view.getBigUint64(AT.primes, true) !== BigInt(primes)
  ) {
    throw new Error('SEAL serialized this ciphertext in an unexpected layout');
  }
  return view;
}

/** Exact size of an uncompressed, unseeded size-2 ciphertext of degree n over `primes` primes. */
export function ciphertextBytesAt(degree: number, primes: number): number {
  return SEAL_CIPHERTEXT_AT.data + 2 * primes * degree * 8;
}

/**
 * The largest ciphertext of a plan, uncompressed: a fresh, unseeded one at the first data level
 * (every prime but the special one; 131,185 bytes at n = 4096 with two data primes). Inputs are
 * there, and results at or below it.
 */
export function ciphertextBytesBound(params: HeParameters): number {
  return ciphertextBytesAt(params.polyModulusDegree, params.coeffModulus.length - 1);
}

/**
 * The largest SEAL PublicKey of a plan, uncompressed: a size-2 ciphertext over every prime, the
 * special one included (196,721 bytes at n = 4096 with three primes; seeded, 98,498).
 */
export function publicKeyBytesBound(params: HeParameters): number {
  return ciphertextBytesAt(params.polyModulusDegree, params.coeffModulus.length);
}

/**
 * Upper bound of uncompressed, unseeded key-switching keys: `keys` keys, each one ciphertext of
 * size 2 over all primes per data prime.
 */
export function keyBytesBound(params: HeParameters, keys: number): number {
  const all = params.coeffModulus.length;
  const perKey = (all - 1) * (2 * params.polyModulusDegree * all * 8 + 512) + 512;
  return SEAL_HEADER_BYTES + keys * perKey + 4096;
}
