/**
 * The embedded key store: one file per bundle under <dataDir>/keys, written atomically
 * (temporary file, then rename), expiring `ttlSeconds` after its last registration and trimmed
 * oldest-first when the directory passes `maxBytes`. A periodic sweep rescans the directory,
 * so several processes sharing it (one host) stay within the bound together.
 */
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { decode, encode } from '@msgpack/msgpack';
import { z } from 'zod';
import { keyBytesOf, type EvaluationKeyBundle } from '../../core/he/index.ts';
import { ProtocolError } from '../../core/protocol/index.ts';
import { KEY_ID, type KeyReceiptOf, type KeyStore, type StoredKeys } from './store.ts';

const FILE_FORMAT = 'cipherclinic/key-bundle';
const FILE_VERSION = 1;
const SUFFIX = '.keys';

const FileSchema = z.object({
  format: z.literal(FILE_FORMAT),
  version: z.literal(FILE_VERSION),
  planHash: z.string(),
  keyId: z.string(),
  relin: z.instanceof(Uint8Array),
  galois: z.instanceof(Uint8Array).nullable(),
});

export interface DiskKeyStoreOptions {
  maxBytes: number;
  ttlSeconds: number;
  /** How often to rescan the directory for expired files (default: the TTL, at most 10 min). */
  sweepMs?: number;
}

export class DiskKeyStore implements KeyStore {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #ttlMs: number;
  /** Size and last registration of each file this process knows of. */
  readonly #index = new Map<string, { bytes: number; touchedMs: number }>();
  readonly #timer: NodeJS.Timeout;

  private constructor(dir: string, options: DiskKeyStoreOptions) {
    this.#dir = dir;
    this.#maxBytes = options.maxBytes;
    this.#ttlMs = options.ttlSeconds * 1000;
    const every = options.sweepMs ?? Math.min(this.#ttlMs, 10 * 60_000);
    this.#timer = setInterval(() => void this.sweep().catch(() => {}), every).unref();
  }

  static async open(dir: string, options: DiskKeyStoreOptions): Promise<DiskKeyStore> {
    await mkdir(dir, { recursive: true });
    const store = new DiskKeyStore(dir, options);
    await store.sweep();
    return store;
  }

  #path(keyId: string): string {
    return join(this.#dir, keyId + SUFFIX);
  }

  async put(bundle: EvaluationKeyBundle): Promise<KeyReceiptOf> {
    if (!KEY_ID.test(bundle.keyId)) throw new ProtocolError('bad_request', 'a key id is 64 lowercase hex digits');
    const size = keyBytesOf(bundle);
    if (size > this.#maxBytes) throw new ProtocolError('payload_too_large', `the keys are ${size} bytes; this store holds at most ${this.#maxBytes}`);
    const path = this.#path(bundle.keyId);
    const now = Date.now();
    let created = false;
    try {
      await utimes(path, now / 1000, now / 1000);
    } catch {
      const file = encode({ format: FILE_FORMAT, version: FILE_VERSION, planHash: bundle.planHash, keyId: bundle.keyId, relin: bundle.relin, galois: bundle.galois });
      const tmp = join(this.#dir, `.${randomUUID()}.tmp`);
      await writeFile(tmp, file);
      await rename(tmp, path);
      created = true;
    }
    this.#index.set(bundle.keyId, { bytes: size, touchedMs: now });
    if (this.#total() > this.#maxBytes) await this.#trim();
    return { keyId: bundle.keyId, created, expiresAt: now + this.#ttlMs };
  }

  async get(keyId: string): Promise<StoredKeys | undefined> {
    if (!KEY_ID.test(keyId)) return undefined;
    const path = this.#path(keyId);
    let touchedMs: number;
    let bytes: Uint8Array;
    try {
      touchedMs = (await stat(path)).mtimeMs;
      if (touchedMs + this.#ttlMs <= Date.now()) {
        await this.#remove(keyId);
        return undefined;
      }
      bytes = await readFile(path);
    } catch {
      this.#index.delete(keyId);
      return undefined;
    }
    let raw: unknown;
    try {
      raw = decode(bytes);
    } catch {
      raw = undefined;
    }
    const parsed = FileSchema.safeParse(raw);
    if (!parsed.success || parsed.data.keyId !== keyId) {
      await this.#remove(keyId); // a damaged file: the client registers again
      return undefined;
    }
    const { planHash, relin, galois } = parsed.data;
    return { bundle: { planHash, keyId, relin, galois }, expiresAt: touchedMs + this.#ttlMs };
  }

  /** Rescans the directory: drops expired and leftover temporary files, then trims to the bound. */
  async sweep(): Promise<void> {
    const now = Date.now();
    this.#index.clear();
    for (const name of await readdir(this.#dir)) {
      const path = join(this.#dir, name);
      const info = await stat(path).catch(() => undefined);
      if (!info) continue;
      const keyId = name.slice(0, -SUFFIX.length);
      if (name.endsWith('.tmp')) {
        if (info.mtimeMs + 60_000 <= now) await rm(path, { force: true });
      } else if (name.endsWith(SUFFIX) && KEY_ID.test(keyId)) {
        if (info.mtimeMs + this.#ttlMs <= now) await rm(path, { force: true });
        else this.#index.set(keyId, { bytes: info.size, touchedMs: info.mtimeMs });
      }
    }
    await this.#trim();
  }

  #total(): number {
    let sum = 0;
    for (const { bytes } of this.#index.values()) sum += bytes;
    return sum;
  }

  /** Removes the least recently registered bundles until the total fits. */
  async #trim(): Promise<void> {
    let total = this.#total();
    if (total <= this.#maxBytes) return;
    const oldest = [...this.#index.entries()].sort((a, b) => a[1].touchedMs - b[1].touchedMs);
    for (const [keyId, { bytes }] of oldest) {
      if (total <= this.#maxBytes) break;
      await this.#remove(keyId);
      total -= bytes;
    }
  }

  async #remove(keyId: string): Promise<void> {
    this.#index.delete(keyId);
    await rm(this.#path(keyId), { force: true });
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
  }
}
