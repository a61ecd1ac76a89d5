/**
 * The server's guard in front of SEAL's loaders: compressed client bytes are inflated here, with
 * a hard output limit derived from the plan, so SEAL receives the uncompressed form and has
 * nothing left to inflate (src/core/he/serialized.ts says why). The bounds of each kind of key a
 * plan takes live here too, for the keys route (early refusal) and the worker (inflation).
 */
import { inflateSync, zstdDecompressSync } from 'node:zlib';
import { keyBytesBound, publicKeyBytesBound, readSealHeader, SEAL_HEADER_BYTES, SealBytesError, withSealPayload, type HePlan } from '../../core/he/index.ts';

/**
 * Returns SEAL bytes that inflate to at most `limit` bytes, uncompressed, or throws
 * SealBytesError with what is wrong (the `what` names the object in the message).
 */
export function boundedSealBytes(bytes: Uint8Array, limit: number, what: string): Uint8Array {
  const mode = readSealHeader(bytes, what);
  if (mode === 'none') {
    if (bytes.length > limit) throw new SealBytesError(`${what} is ${bytes.length} bytes; this plan's objects are at most ${limit}`);
    return bytes;
  }
  let inflated: Uint8Array;
  const payload = bytes.subarray(SEAL_HEADER_BYTES);
  try {
    const options = { maxOutputLength: Math.max(1, limit - SEAL_HEADER_BYTES) };
    inflated = mode === 'zstd' ? zstdDecompressSync(payload, options) : inflateSync(payload, options);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new SealBytesError(`${what} inflates beyond ${limit} bytes, more than this plan's objects can hold`);
    throw new SealBytesError(`${what} has damaged ${mode} data`);
  }
  return withSealPayload(bytes, 'none', inflated);
}

/** The largest each kind of key of a plan can be, uncompressed: what the route and the worker hold keys to. */
export function keyBoundsOf(plan: Pick<HePlan, 'params' | 'galoisSteps'>): Record<KeyKind, number> {
  return {
    relin: keyBytesBound(plan.params, 1),
    galois: keyBytesBound(plan.params, plan.galoisSteps.length + 1),
    publicKey: publicKeyBytesBound(plan.params),
  };
}

/** The key fields of a bundle, in the order the key id hashes them. */
export const KEY_KINDS = ['relin', 'galois', 'publicKey'] as const;
export type KeyKind = (typeof KEY_KINDS)[number];

/** How a key kind is named in refusals. */
export const KEY_NAMES: Record<KeyKind, string> = { relin: 'relinearization keys', galois: 'Galois keys', publicKey: 'the public key' };
