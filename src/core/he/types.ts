/**
 * What crosses between the client (secret key holder) and the server (evaluator): bytes only,
 * each bundle naming the model and plan it was made for, so a mismatch is refused up front.
 */
import { hashParts } from '../hash.ts';
import type { LayoutName } from './layout.ts';

/**
 * Symmetric, seeded ciphertexts of quantized records (docs/protocol.md §4.5): batch inputs
 * uncompressed, one per feature; a single-record input one zstd-compressed ciphertext of the
 * records' quadratic feature vectors (quadratic.ts), which the server inflates only within the
 * plan's bound.
 */
export interface EncryptedInput {
  layout: LayoutName;
  modelHash: string;
  planHash: string;
  /** Records carried: ≤ the plan's recordsPerInput (1 for the single layout). */
  count: number;
  ciphertexts: Uint8Array[];
}

/**
 * The server's answer. Batch: one SEAL ciphertext, modulus-switched to the last level. Single:
 * the re-randomized, flooded result in the sparse format (sparse-result.ts): c1 whole, c0 only
 * at the regions' output positions.
 */
export interface EncryptedResult {
  layout: LayoutName;
  modelHash: string;
  planHash: string;
  count: number;
  ciphertext: Uint8Array;
}

/**
 * Public evaluation keys, exactly those the plan's `keys` names: relinearization (batch), Galois
 * keys for rotation steps (no plan rotates today), and the public key (single: the server
 * re-randomizes each result with an encryption of zero under it). Absent ones are null.
 */
export interface EvaluationKeyBundle {
  planHash: string;
  /** Content hash of the key bytes: registering the same keys twice gives the same id. */
  keyId: string;
  relin: Uint8Array | null;
  galois: Uint8Array | null;
  publicKey: Uint8Array | null;
}

/** Bytes of evaluation keys as sent (what a store or a size report counts). */
export function keyBytesOf(keys: Pick<EvaluationKeyBundle, 'relin' | 'galois' | 'publicKey'>): number {
  return (keys.relin?.length ?? 0) + (keys.galois?.length ?? 0) + (keys.publicKey?.length ?? 0);
}

/**
 * The content address of evaluation keys (docs/protocol.md §4.2): SHA-256 over the relin,
 * Galois and public key bytes, each length-prefixed, an absent one as empty bytes.
 */
export function keyIdOf(relin: Uint8Array | null, galois: Uint8Array | null, publicKey: Uint8Array | null): string {
  const none = new Uint8Array();
  return hashParts([relin ?? none, galois ?? none, publicKey ?? none]);
}

/** Refusal of client-supplied data (wrong model, damaged ciphertext, missing keys...). */
export class HeInputError extends Error {
  override name = 'HeInputError';
}

/** Receives the duration of each SEAL operation when a caller wants to account for them. */
export type OpTimer = (op: string, ms: number) => void;
