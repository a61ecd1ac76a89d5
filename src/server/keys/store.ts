/**
 * Where evaluation keys live between requests: the only state the service keeps. Keys are
 * public (they let anyone compute on the owner's ciphertexts, not read them) but large (up to
 * a few MiB), so they are registered once and named by the hash of their bytes.
 *
 * One instance uses the embedded DiskKeyStore. Several instances behind a load balancer share
 * one store: a Redis implementation (GET/SET with EX for the expiry, maxmemory-policy
 * allkeys-lru for the size bound) or an S3/MinIO bucket with a lifecycle rule fits this
 * interface as it is; see docs/server.md.
 */
import { keyBytesOf, type EvaluationKeyBundle } from '../../core/he/index.ts';
import { ProtocolError } from '../../core/protocol/index.ts';

export interface StoredKeys {
  bundle: EvaluationKeyBundle;
  /** Epoch milliseconds after which the store may forget the keys. */
  expiresAt: number;
}

export interface KeyReceiptOf {
  keyId: string;
  /** False when the same bytes were already stored (their expiry is extended). */
  created: boolean;
  expiresAt: number;
}

/**
 * Keys are stored under (plan hash, key id): a key set is bound to exactly one plan. The same
 * bytes registered for two plans with identical parameters (a copy of a model) are two
 * registrations, so neither client can be told its keys belong to the other's plan.
 *
 * Registration is atomic: of concurrent puts of the same new bundle, exactly one reports
 * `created`. Storage faults are refusals, not crashes: `storage_full` or `storage_unavailable`
 * (ProtocolError), with nothing partial left behind.
 */
export interface KeyStore {
  /** Stores a bundle under (planHash, keyId), or extends the expiry of the same bundle. */
  put(bundle: EvaluationKeyBundle): Promise<KeyReceiptOf>;
  /** The bundle registered for a plan under an id, or undefined when unknown or expired. */
  get(planHash: string, keyId: string): Promise<StoredKeys | undefined>;
  /** Why the store cannot take writes now, or undefined when it can (for readiness). */
  writeProblem(): Promise<string | undefined>;
  close(): Promise<void>;
}

/** Key ids and plan hashes are SHA-256 hex: anything else never reaches a file name or a store key. */
export const KEY_ID = /^[0-9a-f]{64}$/;

/**
 * What every store checks before it writes: ids that can name a file or a store key, and the
 * store's size bound. Returns the bundle's size in bytes.
 */
export function checkedSize(bundle: EvaluationKeyBundle, maxBytes: number): number {
  if (!KEY_ID.test(bundle.keyId) || !KEY_ID.test(bundle.planHash)) throw new ProtocolError('bad_request', 'key ids and plan hashes are 64 lowercase hex digits');
  const size = keyBytesOf(bundle);
  if (size > maxBytes) throw new ProtocolError('payload_too_large', `the keys are ${size} bytes; this store holds at most ${maxBytes}`);
  return size;
}

/** One name for a (plan, keys) pair, used by every store and cache. */
export function slotOf(planHash: string, keyId: string): string {
  return `${planHash}.${keyId}`;
}
