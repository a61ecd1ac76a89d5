/**
 * What crosses between the client (secret key holder) and the server (evaluator): bytes only,
 * each bundle naming the model and plan it was made for, so a mismatch is refused up front.
 */
import { hashParts } from '../hash.ts';
import type { LayoutName } from './layout.ts';

/** Symmetric, seeded, uncompressed ciphertexts of quantized records (docs/protocol.md §4.5). */
export interface EncryptedInput {
  layout: LayoutName;
  modelHash: string;
  planHash: string;
  /** Records carried: ≤ the plan's recordsPerInput (1 for the single layout). */
  count: number;
  ciphertexts: Uint8Array[];
}

/** The server's answer: one ciphertext, modulus-switched to the last level. */
export interface EncryptedResult {
  layout: LayoutName;
  modelHash: string;
  planHash: string;
  count: number;
  ciphertext: Uint8Array;
}

/** Public evaluation keys: relinearization, and Galois keys for the plan's rotation steps only. */
export interface EvaluationKeyBundle {
  planHash: string;
  /** Content hash of the key bytes: registering the same keys twice gives the same id. */
  keyId: string;
  relin: Uint8Array;
  galois: Uint8Array | null;
}

/** Bytes of evaluation keys as sent (what a store or a size report counts). */
export function keyBytesOf(keys: Pick<EvaluationKeyBundle, 'relin' | 'galois'>): number {
  return keys.relin.length + (keys.galois?.length ?? 0);
}

/** The content address of evaluation keys (docs/protocol.md §4.2). */
export function keyIdOf(relin: Uint8Array, galois: Uint8Array | null): string {
  return hashParts([relin, galois ?? new Uint8Array()]);
}

/** Refusal of client-supplied data (wrong model, damaged ciphertext, missing keys...). */
export class HeInputError extends Error {
  override name = 'HeInputError';
}

/** Receives the duration of each SEAL operation when a caller wants to account for them. */
export type OpTimer = (op: string, ms: number) => void;
