/**
 * A small in-memory LRU in front of any KeyStore, bounded in bytes. Cached key bytes live in
 * SharedArrayBuffers, so handing them to a worker thread with every task shares them instead
 * of copying megabytes; entries expire when the store says the keys do.
 */
import { LRUCache } from 'lru-cache';
import { keyBytesOf, type EvaluationKeyBundle } from '../../core/he/index.ts';
import { slotOf, type KeyReceiptOf, type KeyStore, type StoredKeys } from './store.ts';

function share(bytes: Uint8Array): Uint8Array {
  if (bytes.buffer instanceof SharedArrayBuffer) return bytes;
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
  shared.set(bytes);
  return shared;
}

function shareBundle(b: EvaluationKeyBundle): EvaluationKeyBundle {
  return { planHash: b.planHash, keyId: b.keyId, relin: b.relin && share(b.relin), galois: b.galois && share(b.galois), publicKey: b.publicKey && share(b.publicKey) };
}

export class CachedKeyStore implements KeyStore {
  readonly #inner: KeyStore;
  readonly #cache: LRUCache<string, StoredKeys> | null;

  constructor(inner: KeyStore, maxBytes: number) {
    this.#inner = inner;
    this.#cache = maxBytes > 0 ? new LRUCache<string, StoredKeys>({ maxSize: maxBytes, sizeCalculation: (s) => Math.max(1, keyBytesOf(s.bundle)) }) : null;
  }

  #remember(stored: StoredKeys): StoredKeys {
    const shared = { bundle: shareBundle(stored.bundle), expiresAt: stored.expiresAt };
    const ttl = stored.expiresAt - Date.now();
    if (this.#cache && ttl > 0) this.#cache.set(slotOf(stored.bundle.planHash, stored.bundle.keyId), shared, { ttl });
    return shared;
  }

  async put(bundle: EvaluationKeyBundle): Promise<KeyReceiptOf> {
    const receipt = await this.#inner.put(bundle);
    this.#remember({ bundle, expiresAt: receipt.expiresAt });
    return receipt;
  }

  async get(planHash: string, keyId: string): Promise<StoredKeys | undefined> {
    const hit = this.#cache?.get(slotOf(planHash, keyId));
    if (hit) return hit;
    const stored = await this.#inner.get(planHash, keyId);
    return stored && this.#remember(stored);
  }

  writeProblem(): Promise<string | undefined> {
    return this.#inner.writeProblem();
  }

  async close(): Promise<void> {
    this.#cache?.clear();
    await this.#inner.close();
  }
}
