/**
 * Where a study's state lives between requests: the manifest, the round and its step, the
 * signed messages received in the current round, the coordinator's latent parameters and
 * optimizer state, and the history. One interface, two homes: `DiskStudyStore` (embedded: in
 * memory, each change written to <dataDir>/studies atomically, so a restart resumes) and a
 * shared store (Redis) when instances scale out.
 *
 * `update` is the only way to change a study: it runs a function on the record under the
 * study's lock and saves the result, so two requests (or two coordinator instances, with the
 * shared store) can never both close a step.
 */
import { decode, encode } from '@msgpack/msgpack';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StudyManifest } from '../../core/federated/manifest.ts';
import { ProtocolError } from '../../core/protocol/index.ts';
import type { AdamState } from '../../core/federated/network.ts';
import type { RoundSummary, StudyState, StudyStep } from '../../core/federated/round.ts';

const RECORD_FORMAT = 'cipherclinic/study-state';
const RECORD_VERSION = 1;

/** Signed messages of the current round, encoded as received, by site index. */
export interface RoundInbox {
  advertise: Record<number, Uint8Array>;
  shares: Record<number, Uint8Array>;
  masked: Record<number, Uint8Array>;
  reveal: Record<number, Uint8Array>;
}

export interface StudyRecord {
  manifest: StudyManifest;
  hash: string;
  state: StudyState;
  round: number;
  step: StudyStep;
  deadline: number;
  inbox: RoundInbox;
  /** The encoded roster (U₁) once advertising closed; null before. */
  roster: Uint8Array | null;
  /** U₂ and U₃ of the current round. */
  participants: number[];
  survivors: number[];
  theta: Float64Array;
  adam: AdamState;
  /** Rounds charged to the privacy accountant, and the last round charged. */
  charged: number;
  chargedRound: number;
  roundsDone: number;
  history: RoundSummary[];
  /**
   * The round weights with the best securely aggregated held-out balanced accuracy so far, and
   * their best threshold: what the study publishes (selection on the sites' held-out rows).
   */
  best: { round: number; balancedAccuracy: number; threshold: number; theta: Float64Array } | null;
  model?: string;
  reason?: string;
}

/** The refusal for a study id no store holds. */
export function unknownStudy(id: string): ProtocolError {
  return new ProtocolError('unknown_study', `no study "${id.slice(0, 64)}" here`);
}

export function emptyInbox(): RoundInbox {
  return { advertise: {}, shares: {}, masked: {}, reveal: {} };
}

export interface StudyStore {
  /** Stores a new study; false when one with its id exists. */
  create(record: StudyRecord): Promise<boolean>;
  get(id: string): Promise<StudyRecord | undefined>;
  /** Runs `change` on the study under its lock and saves the record it leaves (unknown_study if none). */
  update<T>(id: string, change: (record: StudyRecord) => T | Promise<T>): Promise<T>;
  ids(): Promise<string[]>;
  close(): Promise<void>;
}

const f64 = (a: Float64Array) => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
const fromF64 = (b: Uint8Array) => new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

/** A record as versioned MessagePack (float vectors as raw little-endian bytes). */
export function studyToBytes(r: StudyRecord): Uint8Array {
  return encode({ format: RECORD_FORMAT, version: RECORD_VERSION, ...r, theta: f64(r.theta), adam: { m: f64(r.adam.m), v: f64(r.adam.v), steps: r.adam.steps }, best: r.best && { ...r.best, theta: f64(r.best.theta) } });
}

export function studyFromBytes(bytes: Uint8Array): StudyRecord {
  const raw = decode(bytes) as Record<string, any>;
  if (raw?.format !== RECORD_FORMAT || raw.version !== RECORD_VERSION) throw new Error(`not a study state of version ${RECORD_VERSION}`);
  const { format: _f, version: _v, ...rest } = raw;
  return { ...(rest as StudyRecord), theta: fromF64(raw.theta), adam: { m: fromF64(raw.adam.m), v: fromF64(raw.adam.v), steps: raw.adam.steps }, best: raw.best ? { ...raw.best, theta: fromF64(raw.best.theta) } : null };
}

/** The embedded store: studies in memory, each change also written to a file. */
export class DiskStudyStore implements StudyStore {
  readonly #dir: string;
  readonly #studies = new Map<string, StudyRecord>();
  readonly #locks = new Map<string, Promise<unknown>>();

  private constructor(dir: string) {
    this.#dir = dir;
  }

  static async open(dir: string): Promise<DiskStudyStore> {
    await mkdir(dir, { recursive: true });
    const store = new DiskStudyStore(dir);
    for (const name of await readdir(dir)) {
      if (!name.endsWith('.study')) continue;
      try {
        const record = studyFromBytes(await readFile(join(dir, name)));
        store.#studies.set(record.manifest.id, record);
      } catch {
        // A damaged file is left for the operator; the study is not served.
      }
    }
    return store;
  }

  async #save(record: StudyRecord): Promise<void> {
    const tmp = join(this.#dir, `.${record.manifest.id}.${process.pid}.tmp`);
    try {
      await writeFile(tmp, studyToBytes(record));
      await rename(tmp, join(this.#dir, `${record.manifest.id}.study`));
    } finally {
      await rm(tmp, { force: true }).catch(() => {});
    }
  }

  async create(record: StudyRecord): Promise<boolean> {
    if (this.#studies.has(record.manifest.id)) return false;
    this.#studies.set(record.manifest.id, record);
    await this.#save(record);
    return true;
  }

  async get(id: string): Promise<StudyRecord | undefined> {
    return this.#studies.get(id);
  }

  update<T>(id: string, change: (record: StudyRecord) => T | Promise<T>): Promise<T> {
    const run = async () => {
      const record = this.#studies.get(id);
      if (!record) throw unknownStudy(id);
      // Work on a copy: a change that throws leaves the stored record as it was.
      const draft = studyFromBytes(studyToBytes(record));
      const result = await change(draft);
      await this.#save(draft);
      this.#studies.set(id, draft);
      return result;
    };
    const previous = this.#locks.get(id) ?? Promise.resolve();
    const mine = previous.catch(() => {}).then(run);
    this.#locks.set(id, mine);
    void mine.catch(() => {}).finally(() => {
      if (this.#locks.get(id) === mine) this.#locks.delete(id);
    });
    return mine;
  }

  async ids(): Promise<string[]> {
    return [...this.#studies.keys()];
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#locks.values()]);
  }
}
