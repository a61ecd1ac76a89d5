/**
 * Coefficient-encoded plaintexts (no batching). node-seal has no coefficient setter or getter, so
 * plaintexts are read and written through their serialized form: an uncompressed Plaintext of n
 * coefficients ends with its n coefficients as little-endian u64 words. A template of that form
 * is serialized once per degree; values (mod t) are written into a copy and loaded back.
 */
import type { Plaintext, Seal, SEALContext } from './seal.ts';

const templates = new Map<number, Uint8Array>();

/** An all-zero n-coefficient plaintext, serialized uncompressed. */
function template(seal: Seal, n: number): Uint8Array {
  let bytes = templates.get(n);
  if (!bytes) {
    const pt = new seal.Plaintext(n);
    try {
      bytes = pt.saveToArray(seal.ComprModeType.none) as Uint8Array;
    } finally {
      pt.delete();
    }
    templates.set(n, bytes);
  }
  return bytes;
}

/**
 * A new plaintext with coefficient i = values[i] mod t (signed values welcome), the rest zero.
 * The caller owns (and deletes) it.
 */
export function coefficientPlaintext(seal: Seal, context: SEALContext, n: number, plainModulus: bigint, values: ArrayLike<number | bigint>): Plaintext {
  if (values.length > n) throw new RangeError(`${values.length} coefficients do not fit a polynomial of degree ${n}`);
  const raw = template(seal, n).slice();
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const at = raw.length - n * 8;
  const t = plainModulus;
  for (let i = 0; i < values.length; i++) {
    const v = BigInt(values[i]!);
    if (v === 0n) continue;
    view.setBigUint64(at + i * 8, ((v % t) + t) % t, true);
  }
  const pt = new seal.Plaintext();
  try {
    pt.loadFromArray(context, raw);
    return pt;
  } catch (e) {
    pt.delete();
    throw e;
  }
}

/**
 * Coefficients of a plaintext at `positions`, as signed integers in (−t/2, t/2]. A decrypted
 * plaintext may hold fewer than n coefficients (SEAL drops the leading zeros): those read 0.
 */
export function readCoefficients(seal: Seal, pt: Plaintext, plainModulus: bigint, positions: readonly number[]): bigint[] {
  const count = pt.coeffCount();
  const raw = pt.saveToArray(seal.ComprModeType.none) as Uint8Array;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const at = raw.length - count * 8;
  return positions.map((p) => {
    if (p >= count) return 0n;
    const v = view.getBigUint64(at + p * 8, true);
    return v > plainModulus / 2n ? v - plainModulus : v;
  });
}
