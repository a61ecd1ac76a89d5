/**
 * Predictions asked for while the service cannot be reached, kept in IndexedDB until sent.
 * Each is encrypted at once (lib/sender.ts; the record and its explanation's variants exist
 * only as ciphertext) and kept with everything needed to send it later and read its answer: the
 * request body, its id (the idempotency key), the plan and the card's decoding (both public),
 * and what its History entry will say. Its evaluation keys are in the one store of
 * registrations, sent with it.
 *
 * Exactly once: the idempotency key goes with every attempt, and the service answers a repeat
 * (after an answer lost on the way) from what it stored instead of evaluating again. The entry
 * is deleted only after its result is decrypted and in the history, under the same id, so a
 * crash in between delivers the same answer once more into the same history entry.
 */
import { del, delMany, getMany, set, type UseStore } from 'idb-keyval';
import type { z } from 'zod';
import type { HePlan } from '../../core/he/plan.ts';
import type { OutputDecoding } from '../../core/model/format.ts';
import type { QueuedFacts } from './history-facts.ts';
import { namesWithPrefix } from './idb.ts';
import { QueuedPredictionSchema, validRecords, type DropNotice } from './stored.ts';

/** A prediction waiting to be sent (see QueuedPredictionSchema). */
export type QueuedPrediction = Omit<z.output<typeof QueuedPredictionSchema>, 'plan' | 'output' | 'facts'> & { plan: HePlan; output: OutputDecoding; facts?: QueuedFacts };

const ENTRY = 'prediction:';
/** Evaluation keys an earlier version kept beside its queued predictions (now in the registrations store). */
const LEGACY_KEYS = 'keys:';

export class OutboxStore {
  readonly #store: UseStore;
  readonly #drop: DropNotice;

  constructor(store: UseStore, drop: DropNotice) {
    this.#store = store;
    this.#drop = drop;
  }

  /** Every readable queued prediction, oldest first; one that cannot be read is set aside (deleted) with a notice. */
  async list(): Promise<QueuedPrediction[]> {
    const names = await namesWithPrefix(ENTRY, this.#store);
    const values = await getMany<unknown>(names, this.#store);
    const out: QueuedPrediction[] = [];
    for (const [i, value] of values.entries()) {
      const [valid] = validRecords(QueuedPredictionSchema, [value], () => 'A prediction waiting to be sent', this.#drop);
      if (valid) out.push(valid as unknown as QueuedPrediction);
      else await del(names[i]!, this.#store);
    }
    return out.sort((a, b) => a.queuedAt.localeCompare(b.queuedAt));
  }

  async save(entry: QueuedPrediction): Promise<void> {
    await set(ENTRY + entry.id, entry, this.#store);
  }

  /** Removes a queued prediction (sent, or discarded by the person); returns the predictions still queued. */
  async remove(entry: Pick<QueuedPrediction, 'id'>): Promise<QueuedPrediction[]> {
    await del(ENTRY + entry.id, this.#store);
    return this.list();
  }

  /** Evaluation keys an earlier version stored here, for the registrations store; removed once read. */
  async takeLegacyKeys(): Promise<unknown[]> {
    const names = await namesWithPrefix(LEGACY_KEYS, this.#store);
    if (names.length === 0) return [];
    const values = await getMany<unknown>(names, this.#store);
    await delMany(names, this.#store);
    return values;
  }
}
