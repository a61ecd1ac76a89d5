/**
 * Predictions waiting for the service, as the screens see them: the list (persisted in
 * IndexedDB by lib/outbox.ts), which one is being sent, and automatic sending when the network
 * returns — on the browser's 'online' event, when the app starts, and every little while as
 * long as something waits (a service can be down while the device is online). One tab sends
 * at a time (a Web Lock), so two open tabs never race on one prediction.
 */
import type { ModelCard } from '../../core/model/card.ts';
import type { PlainRecord } from '../../core/model/reference.ts';
import type { Prediction } from '../lib/he-bridge.ts';
import { answeredEntry } from '../lib/history-facts.ts';
import type { OutboxStore, QueuedPrediction } from '../lib/outbox.ts';
import { renewalOf } from '../lib/requeue.ts';
import type { QueueOptions, QueuedMeta, Sender } from '../lib/sender.ts';
import type { ModelCatalog } from './catalog.svelte.ts';
import type { History } from './history.svelte.ts';

/** Seconds between attempts while predictions wait and the service does not answer. */
const RETRY_MS = 15_000;

export interface OutboxParts {
  sender: Pick<Sender, 'encryptForLater' | 'sendQueued' | 'requeue'>;
  store: Pick<OutboxStore, 'list' | 'save' | 'remove'>;
  history: Pick<History, 'add'>;
  /**
   * The service's model cards: a prediction queued under a plan the service no longer serves is
   * encrypted again under its model's current one (lib/requeue.ts). Without them, entries go as
   * they are and the service says whether it still serves their plan.
   */
  cards?: Pick<ModelCatalog, 'byId' | 'status' | 'complete' | 'load'>;
}

export class Outbox {
  readonly #parts: OutboxParts;
  #items = $state.raw<QueuedPrediction[]>([]);
  #sending = $state<string | undefined>();
  #online = $state(typeof navigator === 'undefined' ? true : navigator.onLine);
  #lastError = $state('');
  #retry: ReturnType<typeof setTimeout> | undefined;
  #flushing: Promise<void> | undefined;

  /** A queued prediction's answer, in the history already: the screens may show it (`regionScores`: its variants' outputs). */
  ondeliver: ((entry: QueuedPrediction, prediction: Prediction, regionScores?: number[]) => void) | undefined;
  /** A prediction was queued, or encrypted again under a new plan (its encryption may have made a new key). */
  onqueue: ((entry: QueuedPrediction) => void) | undefined;

  constructor(parts: OutboxParts) {
    this.#parts = parts;
  }

  /** Oldest first, failed ones included (they say why). */
  get items(): readonly QueuedPrediction[] {
    return this.#items;
  }
  /** Predictions that will still be sent. */
  get waiting(): readonly QueuedPrediction[] {
    return this.#items.filter((i) => !i.failed);
  }
  /** Id of the prediction being sent now. */
  get sending() {
    return this.#sending;
  }
  /** The browser's view of the network. */
  get online() {
    return this.#online;
  }
  /** Why the last attempt did not get through, in words. */
  get lastError() {
    return this.#lastError;
  }

  async start(): Promise<void> {
    addEventListener('online', () => {
      this.#online = true;
      void this.flush();
    });
    addEventListener('offline', () => (this.#online = false));
    this.#items = await this.#parts.store.list();
    void this.flush();
  }

  /** Encrypts a record (and its variants, if given) and queues it (nothing is sent now). */
  async queue(card: ModelCard, record: PlainRecord, meta: QueuedMeta, options: QueueOptions = {}): Promise<QueuedPrediction> {
    const entry = await this.#parts.sender.encryptForLater(card, record, meta, options);
    await this.#parts.store.save(entry);
    this.#items = [...this.#items, entry];
    this.onqueue?.(entry);
    // Online but the service was not reached: try again at once (it may be back), then every little while.
    if (navigator.onLine) void this.flush();
    else this.#schedule();
    return entry;
  }

  /** Discards a queued prediction: it will not be sent. */
  async remove(entry: QueuedPrediction): Promise<void> {
    await this.#parts.store.remove(entry);
    this.#items = this.#items.filter((i) => i.id !== entry.id);
  }

  /** Sends every waiting prediction, oldest first, stopping at the first that cannot get through. */
  flush(): Promise<void> {
    this.#flushing ??= this.#flush().finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  async #flush(): Promise<void> {
    if (!navigator.onLine) return;
    const run = () => this.#sendAll();
    await (navigator.locks ? navigator.locks.request('cipherclinic-outbox', run) : run());
  }

  async #sendAll(): Promise<void> {
    // Another tab may have sent some meanwhile: start from what is stored.
    this.#items = await this.#parts.store.list();
    for (const queued of this.#items.filter((i) => !i.failed)) {
      let entry = await this.#renewed(queued);
      if (!entry) continue;
      this.#sending = entry.id;
      // Counted before it goes: an attempt the page did not live to record is still one.
      await this.#parts.store.save({ ...entry, attempts: entry.attempts + 1 });
      let outcome = await this.#parts.sender.sendQueued(entry).finally(() => (this.#sending = undefined));
      if (outcome.status === 'failed' && outcome.planGone && this.#parts.cards) {
        // The service no longer serves the plan it was encrypted for, and this page's cards are
        // older than the service: read them again, and encrypt the record again under the new plan.
        await this.#parts.cards.load();
        const again = await this.#renewed(entry);
        if (again && again !== entry) {
          entry = again;
          this.#sending = entry.id;
          outcome = await this.#parts.sender.sendQueued(entry).finally(() => (this.#sending = undefined));
        }
      }
      if (outcome.status === 'offline') {
        this.#lastError = outcome.message;
        break;
      }
      if (outcome.status === 'delivered') {
        this.#lastError = '';
        this.#items = await this.#deliver(entry, outcome.prediction, outcome.regionScores);
      } else {
        // Kept, marked as never answerable, so the person is told why.
        const failed = { ...entry, attempts: entry.attempts + 1, failed: outcome.message };
        await this.#parts.store.save(failed);
        this.#items = this.#items.map((i) => (i.id === entry.id ? failed : i));
      }
    }
    this.#schedule();
  }

  /**
   * The entry as it can be sent now: as it is, or encrypted again under its model's current plan
   * (saved under the same id); undefined when it cannot be sent now (it waits for the model's
   * card, or is marked failed with the reason in words).
   */
  async #renewed(entry: QueuedPrediction): Promise<QueuedPrediction | undefined> {
    const cards = this.#parts.cards;
    const renewal = renewalOf(entry, cards?.byId(entry.modelId), cards?.status === 'online' && cards.complete);
    if (renewal.status === 'current') return entry;
    if (renewal.status === 'wait') {
      this.#lastError = renewal.message;
      return undefined;
    }
    let next: QueuedPrediction;
    if (renewal.status === 'failed') next = { ...entry, failed: renewal.message };
    else {
      try {
        next = await this.#parts.sender.requeue(entry, renewal.card, renewal.record, renewal.variants);
      } catch (e) {
        this.#lastError = `this prediction could not be encrypted again for the service's new encryption plan (${(e as Error).message})`;
        return undefined;
      }
    }
    await this.#parts.store.save(next);
    this.#items = this.#items.map((i) => (i.id === entry.id ? next : i));
    if (next.failed) return undefined;
    // Queued anew: its encryption may have made the key pair of the new plan's parameters.
    this.onqueue?.(next);
    return next;
  }

  /**
   * Records the answer in the history (under the queued id, with the facts kept when it was
   * queued: the same fields as an online prediction's) and shows it, then forgets the entry;
   * returns what is still queued.
   */
  async #deliver(entry: QueuedPrediction, prediction: Prediction, regionScores?: number[]): Promise<QueuedPrediction[]> {
    // The entry holds the model and origin; its facts the rest (an earlier version kept none, and
    // its entry says what it can).
    const facts = { modelId: entry.modelId, modelTitle: entry.modelTitle, source: entry.source, origin: entry.origin, ...entry.facts };
    await this.#parts.history.add(answeredEntry(facts, entry.classes, prediction, entry.fingerprint, entry.queuedAt), { id: entry.id });
    const rest = await this.#parts.store.remove(entry);
    this.ondeliver?.(entry, prediction, regionScores);
    return rest;
  }

  #schedule(): void {
    clearTimeout(this.#retry);
    if (this.waiting.length > 0) this.#retry = setTimeout(() => void this.flush(), RETRY_MS);
  }
}
