/**
 * A guard in front of SEAL's loaders. SEAL inflates a compressed object completely before it
 * checks a single field, so 30 KB of zstd can make it allocate gigabytes (measured: 3.6 GB RSS
 * and 9 s for one "ciphertext"), and WebAssembly memory never shrinks. Here the SEAL header is
 * checked and the payload inflated with a hard output limit derived from the plan; SEAL then
 * receives the uncompressed form and has nothing left to inflate.
 *
 * SEAL 4 header, 16 bytes little-endian: magic 0xA15E (u16), header size 16 (u8), version major
 * (u8), minor (u8), compression mode (u8: 0 none, 1 zlib, 2 zstd), reserved (u16), total size
 * of the serialized object including the header (u64).
 */
import { inflateSync, zstdDecompressSync } from 'node:zlib';
import type { HeParameters } from '../../core/he/index.ts';

const HEADER = 16;
const MAGIC = 0xa15e;

export class SealBytesError extends Error {
  override name = 'SealBytesError';
}

/** Upper bound of an uncompressed, unseeded size-2 ciphertext at the first level. */
export function ciphertextBytesBound(params: HeParameters): number {
  const dataPrimes = params.coeffModulus.length - 1;
  return HEADER + 2 * params.polyModulusDegree * dataPrimes * 8 + 1024;
}

/**
 * Upper bound of uncompressed, unseeded key-switching keys: `keys` keys, each one ciphertext of
 * size 2 over all primes per data prime.
 */
export function keyBytesBound(params: HeParameters, keys: number): number {
  const all = params.coeffModulus.length;
  const perKey = (all - 1) * (2 * params.polyModulusDegree * all * 8 + 512) + 512;
  return HEADER + keys * perKey + 4096;
}

/**
 * Returns SEAL bytes that inflate to at most `limit` bytes, uncompressed, or throws
 * SealBytesError with what is wrong (the `what` names the object in the message).
 */
export function boundedSealBytes(bytes: Uint8Array, limit: number, what: string): Uint8Array {
  if (bytes.length < HEADER) throw new SealBytesError(`${what} is ${bytes.length} bytes, too short to be a SEAL object`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0, true) !== MAGIC) throw new SealBytesError(`${what} is not a SEAL object (no SEAL header)`);
  if (view.getUint8(2) !== HEADER) throw new SealBytesError(`${what} has a SEAL header of unknown size`);
  const major = view.getUint8(3);
  if (major !== 4) throw new SealBytesError(`${what} was written by SEAL ${major}.x; this server reads SEAL 4.x`);
  const declared = view.getBigUint64(8, true);
  if (declared !== BigInt(bytes.length)) throw new SealBytesError(`${what} declares ${declared} bytes but ${bytes.length} arrived (truncated or padded)`);
  const mode = view.getUint8(5);
  if (mode === 0) {
    if (bytes.length > limit) throw new SealBytesError(`${what} is ${bytes.length} bytes; this plan's objects are at most ${limit}`);
    return bytes;
  }
  if (mode !== 1 && mode !== 2) throw new SealBytesError(`${what} uses unknown compression mode ${mode}`);
  let inflated: Uint8Array;
  const payload = bytes.subarray(HEADER);
  try {
    const options = { maxOutputLength: Math.max(1, limit - HEADER) };
    inflated = mode === 2 ? zstdDecompressSync(payload, options) : inflateSync(payload, options);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new SealBytesError(`${what} inflates beyond ${limit} bytes, more than this plan's objects can hold`);
    throw new SealBytesError(`${what} has damaged ${mode === 2 ? 'zstd' : 'zlib'} data`);
  }
  const out = new Uint8Array(HEADER + inflated.length);
  out.set(bytes.subarray(0, HEADER));
  const head = new DataView(out.buffer);
  head.setUint8(5, 0);
  head.setBigUint64(8, BigInt(out.length), true);
  out.set(inflated, HEADER);
  return out;
}
