/**
 * The embedded key store: one file per (plan, keys) pair under <dataDir>/keys, expiring
 * `ttlSeconds` after its last registration and trimmed oldest-first when the directory passes
 * `maxBytes`. A periodic sweep rescans the directory, so several processes sharing it (one
 * host) stay within the bound together.
 *
 * Writes are atomic and leave nothing partial: the bundle goes to a temporary file that is
 * hard-linked to its final name (link fails if the name exists, so of several processes or
 * requests registering the same bundle exactly one creates it) and removed on every path,
 * success or failure. A full disk answers `storage_full`, a read-only or failing one
 * `storage_unavailable`; readiness asks `writeProblem`.
 */
import { link, mkdir, open, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { EvaluationKeyBundle } from '../../core/he/index.ts';
import { ProtocolError } from '../../core/protocol/index.ts';
import { isOlderKeyRecord, keyRecordFromBytes, keyRecordToBytes, RECORD_HEAD_BYTES, type RecordDropped } from './record.ts';
import { checkedSize, KEY_ID, slotOf, type KeyReceiptOf, type KeyStore, type StoredKeys } from './store.ts';

const SUFFIX = '.keys';
/** <planHash>.<keyId>.keys; files of older versions were <keyId>.keys and are renamed on sweep. */
const FILE_NAME = /^([0-9a-f]{64})\.([0-9a-f]{64})\.keys$/;
const LEGACY_NAME = /^([0-9a-f]{64})\.keys$/;
/** A failed write keeps the store unready this long, unless a later write succeeds. */
const FAULT_MEMORY_MS = 30_000;
/** Readiness writes a probe this large (a disk with less room cannot take a key set anyway). */
const PROBE_BYTES = 64 * 1024;
const PROBE_EVERY_MS = 1000;

export interface DiskKeyStoreOptions {
  maxBytes: number;
  ttlSeconds: number;
  /** How often to rescan the directory for expired files (default: the TTL, at most 10 min). */
  sweepMs?: number;
  /** Hears of each stored record dropped because it is of an older record version. */
  dropped?: RecordDropped;
}

/** A file-system failure as the refusal a client can act on, or undefined for a real bug. */
export function storageRefusal(e: unknown): ProtocolError | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new ProtocolError('storage_full', 'the key store is full; retry later');
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM' || code === 'EIO' || code === 'EMFILE' || code === 'ENFILE') {
    return new ProtocolError('storage_unavailable', `the key store cannot take writes (${code}); retry later`);
  }
  return undefined;
}

export class DiskKeyStore implements KeyStore {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #ttlMs: number;
  /** Size and last registration of each file this process knows of, by slot. */
  readonly #index = new Map<string, { bytes: number; touchedMs: number }>();
  /** Registrations in progress, by slot: a second one waits for the first. */
  readonly #writing = new Map<string, Promise<unknown>>();
  readonly #timer: NodeJS.Timeout;
  readonly #dropped: RecordDropped;
  /** Files whose record version this process has read once (a file's bytes never change). */
  readonly #versionRead = new Set<string>();
  #fault: { reason: string; at: number } | null = null;
  #probe: { at: number; problem: string | undefined } | null = null;

  private constructor(dir: string, options: DiskKeyStoreOptions) {
    this.#dir = dir;
    this.#maxBytes = options.maxBytes;
    this.#ttlMs = options.ttlSeconds * 1000;
    this.#dropped = options.dropped ?? (() => {});
    const every = options.sweepMs ?? Math.min(this.#ttlMs, 10 * 60_000);
    this.#timer = setInterval(() => void this.sweep().catch(() => {}), every).unref();
  }

  static async open(dir: string, options: DiskKeyStoreOptions): Promise<DiskKeyStore> {
    await mkdir(dir, { recursive: true });
    const store = new DiskKeyStore(dir, options);
    await store.sweep();
    return store;
  }

  #path(planHash: string, keyId: string): string {
    return join(this.#dir, slotOf(planHash, keyId) + SUFFIX);
  }

  put(bundle: EvaluationKeyBundle): Promise<KeyReceiptOf> {
    let size: number;
    try {
      size = checkedSize(bundle, this.#maxBytes);
    } catch (e) {
      return Promise.reject(e);
    }
    const slot = slotOf(bundle.planHash, bundle.keyId);
    const before = this.#writing.get(slot) ?? Promise.resolve();
    const mine = before.catch(() => {}).then(() => this.#register(bundle, size));
    this.#writing.set(slot, mine);
    void mine.catch(() => {}).finally(() => {
      if (this.#writing.get(slot) === mine) this.#writing.delete(slot);
    });
    return mine;
  }

  async #register(bundle: EvaluationKeyBundle, size: number): Promise<KeyReceiptOf> {
    const path = this.#path(bundle.planHash, bundle.keyId);
    const slot = slotOf(bundle.planHash, bundle.keyId);
    const now = Date.now();
    let created = false;
    let touchedMs = now;
    try {
      try {
        await utimes(path, now / 1000, now / 1000);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          // Stored, but the expiry cannot be extended (a read-only store): the receipt says
          // when the keys expire as they are.
          touchedMs = (await stat(path)).mtimeMs;
          this.#noteFault(e);
        } else {
          created = await this.#create(bundle, path);
        }
      }
    } catch (e) {
      const refusal = storageRefusal(e);
      if (!refusal) throw e;
      this.#noteFault(e);
      throw refusal;
    }
    if (touchedMs === now) this.#fault = null;
    this.#index.set(slot, { bytes: size, touchedMs });
    if (this.#total() > this.#maxBytes) await this.#trim().catch(() => {});
    return { keyId: bundle.keyId, created, expiresAt: touchedMs + this.#ttlMs };
  }

  /** Writes the file under a temporary name and links it into place; false if it already was. */
  async #create(bundle: EvaluationKeyBundle, path: string): Promise<boolean> {
    const file = keyRecordToBytes(bundle);
    const tmp = join(this.#dir, `.${randomUUID()}.tmp`);
    try {
      await writeFile(tmp, file);
      await link(tmp, path);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false; // another process made it
      throw e;
    } finally {
      await rm(tmp, { force: true }).catch(() => {});
    }
  }

  #noteFault(e: unknown): void {
    this.#fault = { reason: storageRefusal(e)?.message ?? String((e as Error).message), at: Date.now() };
  }

  async get(planHash: string, keyId: string): Promise<StoredKeys | undefined> {
    if (!KEY_ID.test(keyId) || !KEY_ID.test(planHash)) return undefined;
    const slot = slotOf(planHash, keyId);
    const path = this.#path(planHash, keyId);
    let touchedMs: number;
    let bytes: Uint8Array;
    try {
      touchedMs = (await stat(path)).mtimeMs;
      if (touchedMs + this.#ttlMs <= Date.now()) {
        await this.#remove(slot);
        return undefined;
      }
      bytes = await readFile(path);
    } catch {
      this.#index.delete(slot);
      return undefined;
    }
    const parsed = keyRecordFromBytes(bytes, this.#dropped);
    if (!parsed || parsed.keyId !== keyId || parsed.planHash !== planHash) {
      await this.#remove(slot); // a damaged file: the client registers again
      return undefined;
    }
    return { bundle: parsed, expiresAt: touchedMs + this.#ttlMs };
  }

  async writeProblem(): Promise<string | undefined> {
    const now = Date.now();
    if (this.#fault && now - this.#fault.at < FAULT_MEMORY_MS) return this.#fault.reason;
    if (this.#probe && now - this.#probe.at < PROBE_EVERY_MS) return this.#probe.problem;
    const tmp = join(this.#dir, `.probe-${randomUUID()}.tmp`);
    let problem: string | undefined;
    try {
      await writeFile(tmp, new Uint8Array(PROBE_BYTES));
    } catch (e) {
      problem = storageRefusal(e)?.message ?? `the key store cannot take writes (${(e as Error).message})`;
    } finally {
      await rm(tmp, { force: true }).catch(() => {});
    }
    this.#probe = { at: now, problem };
    return problem;
  }

  /** Rescans the directory: drops expired and leftover temporary files, then trims to the bound. */
  async sweep(): Promise<void> {
    const now = Date.now();
    this.#index.clear();
    for (const name of await readdir(this.#dir)) {
      const path = join(this.#dir, name);
      const info = await stat(path).catch(() => undefined);
      if (!info) continue;
      const current = FILE_NAME.exec(name);
      if (name.endsWith('.tmp')) {
        if (info.mtimeMs + 60_000 <= now) await rm(path, { force: true }).catch(() => {});
      } else if (info.mtimeMs + this.#ttlMs <= now && (current || LEGACY_NAME.test(name))) {
        await rm(path, { force: true }).catch(() => {});
      } else if (current) {
        const slot = slotOf(current[1]!, current[2]!);
        if (await this.#olderRecord(path, slot)) {
          this.#dropped({ planHash: current[1]!, keyId: current[2]! }, 'dropped stored keys of an older record version: their plan is no longer served, the client registers new keys');
          await rm(path, { force: true }).catch(() => {});
          continue;
        }
        this.#index.set(slot, { bytes: info.size, touchedMs: info.mtimeMs });
      } else if (LEGACY_NAME.test(name)) {
        await this.#adopt(path, info.size, info.mtimeMs);
      }
    }
    await this.#trim().catch(() => {});
  }

  /** Whether a file holds a record of an older version; read once per file, its head only. */
  async #olderRecord(path: string, slot: string): Promise<boolean> {
    if (this.#versionRead.has(slot)) return false;
    const head = new Uint8Array(RECORD_HEAD_BYTES);
    let read = 0;
    try {
      const file = await open(path, 'r');
      try {
        read = (await file.read(head, 0, head.length, 0)).bytesRead;
      } finally {
        await file.close();
      }
    } catch {
      return false; // unreadable now: a later sweep or get decides
    }
    this.#versionRead.add(slot);
    return isOlderKeyRecord(head.subarray(0, read));
  }

  /** Renames a file of the older <keyId>.keys layout to its (plan, keys) name. */
  async #adopt(path: string, bytes: number, touchedMs: number): Promise<void> {
    const parsed = keyRecordFromBytes(await readFile(path).catch(() => new Uint8Array()), this.#dropped);
    if (!parsed) return void (await rm(path, { force: true }).catch(() => {}));
    const slot = slotOf(parsed.planHash, parsed.keyId);
    try {
      await rename(path, this.#path(parsed.planHash, parsed.keyId));
      this.#index.set(slot, { bytes, touchedMs });
    } catch {
      // Left for a later sweep (a read-only store, say); it is unreachable until then.
    }
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
    for (const [slot, { bytes }] of oldest) {
      if (total <= this.#maxBytes) break;
      await this.#remove(slot);
      total -= bytes;
    }
  }

  async #remove(slot: string): Promise<void> {
    this.#index.delete(slot);
    await rm(join(this.#dir, slot + SUFFIX), { force: true }).catch(() => {});
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
  }
}
