/** Hostile and damaged SEAL bytes for refusal tests (SEAL 4 header layout: docs/protocol.md). */
import { zstdCompressSync } from 'node:zlib';
import type { IndependentClient } from './independent-client.ts';

/** A SEAL object with the given compression mode and payload, its header consistent. */
export function sealObject(mode: 0 | 1 | 2, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + payload.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, 0xa15e, true);
  view.setUint8(2, 16);
  view.setUint8(3, 4);
  view.setUint8(4, 1);
  view.setUint8(5, mode);
  view.setBigUint64(8, BigInt(out.length), true);
  out.set(payload, 16);
  return out;
}

/** A few dozen KB of zstd that inflate to `bytes` of zeros. */
export function zstdBomb(bytes: number): Uint8Array {
  return sealObject(2, zstdCompressSync(Buffer.alloc(bytes)));
}

export function randomBytes(n: number, seed = 1): Uint8Array {
  let s = seed;
  return Uint8Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) >> 16) & 255);
}

/** A fresh uncompressed ciphertext whose second polynomial is zero: transparent. */
export function transparentCiphertext(client: IndependentClient, vector: BigInt64Array): Uint8Array {
  const bytes = client.encrypt(vector, 'none', false).slice();
  const n = client.plan.params.polyModulusDegree;
  const k = client.plan.params.coeffModulus.length - 1;
  bytes.fill(0, bytes.length - n * k * 8);
  return bytes;
}

/** A ciphertext switched one level down: valid, but not a fresh encryption. */
export function loweredCiphertext(client: IndependentClient, vector: BigInt64Array): Uint8Array {
  const { seal, context } = client;
  const ct = new seal.Ciphertext();
  const evaluator = new seal.Evaluator(context);
  try {
    ct.loadFromArray(context, client.encrypt(vector));
    evaluator.cipherModSwitchToNextInplace(ct);
    return ct.saveToArray(seal.ComprModeType.zstd) as Uint8Array;
  } finally {
    ct.delete();
    evaluator.delete();
  }
}
