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
import type { EvaluationKeyBundle } from '../../core/he/index.ts';

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

export interface KeyStore {
  /** Stores a bundle under its keyId, or extends the expiry of the same bundle. */
  put(bundle: EvaluationKeyBundle): Promise<KeyReceiptOf>;
  /** The bundle under an id, or undefined when unknown or expired. */
  get(keyId: string): Promise<StoredKeys | undefined>;
  close(): Promise<void>;
}

/** Key ids are SHA-256 hex: anything else never reaches a file name or a store key. */
export const KEY_ID = /^[0-9a-f]{64}$/;
