/**
 * The key ring at rest, inside the HE worker only: one SEAL secret key per parameter set,
 * each wrapped with AES-GCM-256 under a non-extractable WebCrypto key that lives in the same
 * IndexedDB database (CryptoKey objects are structured-cloneable; the browser keeps the key
 * material and no script can export it, so the stored blobs are useless outside this origin's
 * WebCrypto). The raw secret key bytes exist only in this worker's memory, never on the main
 * thread: the page can ask for a fingerprint, never for a key.
 *
 * Additional data binds each wrapped blob to its parameter set, so blobs cannot be swapped.
 */
import { createStore, del, get, set, update, delMany } from 'idb-keyval';
import { z } from 'zod';
import { namesWithPrefix, valuesWithPrefix } from '../../src/app/lib/idb.ts';
import type { SecretKeyEntry } from '../../src/core/vault/backup.ts';

const store = createStore('cipherclinic-vault', 'keys');
const WRAPPING_KEY = 'wrapping-key';
const PREFIX = 'secret:';

/** A wrapped secret key as stored (checked on every read: the store may hold another version's or damaged records). */
const StoredKeySchema = z.object({
  version: z.literal(1),
  paramsHash: z.string().min(1),
  fingerprint: z.string().min(1),
  createdAt: z.string(),
  /** Human description of the parameters, e.g. "BFV n=8192 …". */
  parameters: z.string(),
  iv: z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.byteLength === 12, 'not a 12-byte IV'),
  wrapped: z.instanceof(ArrayBuffer),
});
type StoredKey = z.infer<typeof StoredKeySchema>;

/** A stored key record, or undefined when there is none or it cannot be read (it is then treated as absent). */
const readStored = (value: unknown): StoredKey | undefined => {
  const parsed = StoredKeySchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
};

/** What the page may know about a key. */
export interface KeyInfo {
  paramsHash: string;
  fingerprint: string;
  createdAt: string;
  parameters: string;
}

let wrapping: Promise<CryptoKey> | undefined;

/** The non-extractable wrapping key, created once per origin (a race between tabs keeps the first). */
function wrappingKey(): Promise<CryptoKey> {
  wrapping ??= (async () => {
    const existing = await get<CryptoKey>(WRAPPING_KEY, store);
    if (existing) return existing;
    const fresh = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    await update<CryptoKey>(WRAPPING_KEY, (old) => old ?? fresh, store);
    return (await get<CryptoKey>(WRAPPING_KEY, store))!;
  })();
  wrapping.catch(() => (wrapping = undefined));
  return wrapping;
}

const aad = (paramsHash: string) => new TextEncoder().encode(`cipherclinic secret key v1 ${paramsHash}`);
const info = ({ paramsHash, fingerprint, createdAt, parameters }: StoredKey): KeyInfo => ({ paramsHash, fingerprint, createdAt, parameters });

/** Wraps and stores a secret key (replacing any key of the same parameters). */
export async function storeSecretKey(entry: SecretKeyEntry, parameters: string): Promise<KeyInfo> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const wrapped = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad(entry.paramsHash) }, await wrappingKey(), entry.secretKey as BufferSource);
  const stored: StoredKey = { version: 1, paramsHash: entry.paramsHash, fingerprint: entry.fingerprint, createdAt: entry.createdAt, parameters, iv, wrapped };
  await set(PREFIX + entry.paramsHash, stored, store);
  return info(stored);
}

/** Unwraps the secret key of a parameter set, or undefined when the ring has none. */
export async function loadSecretKey(paramsHash: string): Promise<SecretKeyEntry | undefined> {
  const stored = readStored(await get<unknown>(PREFIX + paramsHash, store));
  if (!stored) return undefined;
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: stored.iv as BufferSource, additionalData: aad(paramsHash) }, await wrappingKey(), stored.wrapped);
  } catch {
    throw new Error('a stored key could not be unwrapped (the browser\'s storage was changed); restore a backup or create new keys');
  }
  return { paramsHash, fingerprint: stored.fingerprint, createdAt: stored.createdAt, secretKey: new Uint8Array(plain) };
}

const storedKeys = async (): Promise<StoredKey[]> => (await valuesWithPrefix<unknown>(PREFIX, store)).map(readStored).filter((k): k is StoredKey => k !== undefined);

/**
 * How many key records in the ring cannot be read (another version's, or damaged). They are
 * kept as they are (never deleted here) and unused: a plan whose key cannot be read gets a new one.
 */
export async function unreadableKeys(): Promise<number> {
  return (await valuesWithPrefix<unknown>(PREFIX, store)).filter((v) => readStored(v) === undefined).length;
}

/** Every key in the ring, oldest first. */
export async function listKeys(): Promise<KeyInfo[]> {
  return (await storedKeys()).map(info).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** Every secret key, unwrapped: only for sealing a passphrase backup. */
export async function loadAllSecretKeys(): Promise<(SecretKeyEntry & { parameters: string })[]> {
  const out = [];
  for (const s of await storedKeys()) out.push({ ...(await loadSecretKey(s.paramsHash))!, parameters: s.parameters });
  return out;
}

/** Removes every secret key; with `wrappingKey`, the wrapping key too (nothing left to unwrap). */
export async function deleteKeys(options: { wrappingKey?: boolean } = {}): Promise<void> {
  await delMany(await namesWithPrefix(PREFIX, store), store);
  if (options.wrappingKey) {
    await del(WRAPPING_KEY, store);
    wrapping = undefined;
  }
}
