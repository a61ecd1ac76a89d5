/**
 * Secrets at rest in a worker: AES-GCM-256 under a non-extractable WebCrypto key kept in the
 * same IndexedDB database as the blobs it wraps. CryptoKey objects are structured-cloneable,
 * and the browser keeps their material where no script can export it, so the stored blobs are
 * useless outside this origin's WebCrypto. The HE key ring and a study site's identity and data
 * both keep their secrets this way; additional data binds each blob to what it is.
 */
import { get, update, type UseStore } from 'idb-keyval';

/** A wrapped secret as stored. */
export interface Wrapped {
  iv: Uint8Array;
  wrapped: ArrayBuffer;
}

export interface AtRest {
  wrap(additionalData: Uint8Array, plain: Uint8Array): Promise<Wrapped>;
  /** Throws when the blob does not open under this origin's key and this additional data. */
  unwrap(additionalData: Uint8Array, stored: Wrapped): Promise<Uint8Array>;
  /** Forgets the cached key (after the store's wrapping key was deleted). */
  forget(): void;
}

/** Wrapping for one IndexedDB store whose wrapping key is kept under `keyName`. */
export function atRest(store: UseStore, keyName = 'wrapping-key'): AtRest {
  let key: Promise<CryptoKey> | undefined;
  // Created once per origin; a race between tabs keeps the first one written.
  const wrappingKey = () => {
    key ??= (async () => {
      const existing = await get<CryptoKey>(keyName, store);
      if (existing) return existing;
      const fresh = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
      await update<CryptoKey>(keyName, (old) => old ?? fresh, store);
      return (await get<CryptoKey>(keyName, store))!;
    })();
    key.catch(() => (key = undefined));
    return key;
  };
  return {
    async wrap(additionalData, plain) {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      return { iv, wrapped: await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: additionalData as BufferSource }, await wrappingKey(), plain as BufferSource) };
    },
    async unwrap(additionalData, stored) {
      return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: stored.iv as BufferSource, additionalData: additionalData as BufferSource }, await wrappingKey(), stored.wrapped));
    },
    forget() {
      key = undefined;
    },
  };
}
