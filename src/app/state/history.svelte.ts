/**
 * Past predictions, kept only in this browser's IndexedDB; deletable one by one or all. An entry
 * keeps what it was made from (the values as entered, with their units; the model id and hash)
 * and the words its risk was told in, so it reads the same after the model or its card changes.
 */
import { clear, del, entries, set } from 'idb-keyval';
import type { Outcome } from '../../core/model/about.ts';
import { HistoryEntrySchema, type DropNotice, type EnteredValue } from '../lib/stored.ts';
import { historyStore } from '../lib/stores.ts';

export type { EnteredValue };

export interface HistoryEntry {
  id: string;
  /** ISO 8601: when the answer was decrypted. */
  at: string;
  /** When it was asked for, if it waited in the outbox for the service (ISO 8601). */
  queuedAt?: string;
  modelId: string;
  modelTitle: string;
  source: 'form' | 'fhir' | 'csv';
  /** Single prediction: the risk shown (core/model/reference.ts decodeRisk: for people like those the model learned from). */
  risk?: number;
  /** Single prediction: the predicted class; batch: the positive class's name. */
  label?: string;
  /** Batch: rows predicted, and how many fell in the positive class. */
  rows?: number;
  positives?: number;
  /** What it was made from, shown in the list (file name, or "entered by hand"). */
  origin: string;
  /** Key fingerprint that decrypted it. */
  fingerprint: string;
  /** Hash of the model file that computed it (entries made before it was kept lack it). */
  modelHash?: string;
  /** Single prediction: the values it was computed from. */
  inputs?: EnteredValue[];
  /** The words the risk was told in: of what, of whom. */
  outcome?: Outcome;
  /** The warning shown with it when the record was of someone unlike the people the model learned from. */
  warning?: string;
}

export class History {
  #items = $state<HistoryEntry[]>([]);
  #loaded = $state(false);
  readonly #drop: DropNotice;

  /** `drop` is told about stored entries this version cannot read (kept in storage, not shown). */
  constructor(drop: DropNotice = () => undefined) {
    this.#drop = drop;
  }

  /** Newest first. */
  get items(): readonly HistoryEntry[] {
    return this.#items;
  }
  get loaded() {
    return this.#loaded;
  }

  async load(): Promise<void> {
    const all = await entries<string, unknown>(historyStore);
    const readable = all.flatMap(([, v]) => {
      const parsed = HistoryEntrySchema.safeParse(v);
      return parsed.success ? [parsed.data as HistoryEntry] : [];
    });
    const unreadable = all.length - readable.length;
    if (unreadable > 0) this.#drop(`${unreadable === 1 ? 'One past prediction' : `${unreadable} past predictions`} stored on this device could not be read by this version of the app, so ${unreadable === 1 ? 'it is' : 'they are'} not shown in History.`);
    this.#items = readable.sort((a, b) => b.at.localeCompare(a.at));
    this.#loaded = true;
  }

  /** Adds an entry; with an id already in the history, replaces that entry (a delivery repeated after a crash stays one entry). */
  async add(entry: Omit<HistoryEntry, 'id' | 'at'>, options: { id?: string } = {}): Promise<void> {
    const full: HistoryEntry = { ...entry, id: options.id ?? crypto.randomUUID(), at: new Date().toISOString() };
    await set(full.id, full, historyStore);
    this.#items = [full, ...this.#items.filter((e) => e.id !== full.id)];
  }

  async remove(id: string): Promise<void> {
    await del(id, historyStore);
    this.#items = this.#items.filter((e) => e.id !== id);
  }

  async clear(): Promise<void> {
    await clear(historyStore);
    this.#items = [];
  }
}
