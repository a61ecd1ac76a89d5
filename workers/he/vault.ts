/**
 * The key ring at rest, inside the HE worker only: one SEAL secret key per parameter set,
 * each wrapped under this origin's non-extractable WebCrypto key (../shared/at-rest.ts). The raw secret key bytes exist only in this worker's memory, never on the main
 * thread: the page can ask for a fingerprint, never for a key.
 *
 * Additional data binds each wrapped blob to its parameter set, so blobs cannot be swapped.
 */
import { createStore, del, get, set, delMany } from 'idb-keyval';
import { atRest } from '../shared/at-rest.ts';
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

const secrets = atRest(store, WRAPPING_KEY);

const aad = (paramsHash: string) => new TextEncoder().encode(`cipherclinic secret key v1 ${paramsHash}`);
const info = ({ paramsHash, fingerprint, createdAt, parameters }: StoredKey): KeyInfo => ({ paramsHash, fingerprint, createdAt, parameters });

/** Wraps and stores a secret key (replacing any key of the same parameters). */
export async function storeSecretKey(entry: SecretKeyEntry, parameters: string): Promise<KeyInfo> {
  const { iv, wrapped } = await secrets.wrap(aad(entry.paramsHash), entry.secretKey);
  const stored: StoredKey = { version: 1, paramsHash: entry.paramsHash, fingerprint: entry.fingerprint, createdAt: entry.createdAt, parameters, iv, wrapped };
  await set(PREFIX + entry.paramsHash, stored, store);
  return info(stored);
}

/** Unwraps the secret key of a parameter set, or undefined when the ring has none. */
export async function loadSecretKey(paramsHash: string): Promise<SecretKeyEntry | undefined> {
  const stored = readStored(await get<unknown>(PREFIX + paramsHash, store));
  if (!stored) return undefined;
  let plain: Uint8Array;
  try {
    plain = await secrets.unwrap(aad(paramsHash), stored);
  } catch {
    throw new Error('a stored key could not be unwrapped (the browser\'s storage was changed); restore a backup or create new keys');
  }
  return { paramsHash, fingerprint: stored.fingerprint, createdAt: stored.createdAt, secretKey: plain };
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
    secrets.forget();
  }
}
