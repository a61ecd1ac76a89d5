/**
 * The one store of evaluation-key registrations, for online and queued predictions alike.
 * Evaluation keys are made in the HE worker once per key pair and plan, when a prediction first
 * needs them (never while someone browses models: about 65 KB for a single plan, 140 KB for a
 * batch plan), kept here with the
 * service's expiry (public keys only), and sent when a prediction is sent. A service that has
 * forgotten them (expired, or a new server) gets the same keys again, so a request encrypted
 * before stays valid.
 */
import { clear, del, delMany, entries, get, set, type UseStore } from 'idb-keyval';
import type { HePlan } from '../../core/he/plan.ts';
import { ApiError, registerKeys } from './api.ts';
import type { HeBridge, KeyInfo } from './he-bridge.ts';
import { RegistrationSchema, validRecords, type DropNotice, type Registration } from './stored.ts';

export type { Registration };

/** Register again a little before the service's expiry. */
const MARGIN_MS = 10 * 60 * 1000;

export interface EnsureOptions {
  signal?: AbortSignal;
  /** false: make and keep the keys, but send nothing now (a prediction queued offline). */
  send?: boolean;
  /** Send them even if the service confirmed them recently (it answered `unknown_key`). */
  resend?: boolean;
  /** Only keys already kept: a queued prediction's keys cannot be made again for its key pair. */
  keptOnly?: boolean;
  /** Told, before keys are made or sent, how many bytes will go (the plan's evaluation keys). */
  onSending?: (bytes: number) => void;
}

const fresh = (r: Registration) => r.expiresAt !== undefined && Date.parse(r.expiresAt) - MARGIN_MS > Date.now();

export class Registrations {
  readonly #bridge: Pick<HeBridge, 'registration'>;
  readonly #store: UseStore;
  readonly #drop: DropNotice;
  readonly #inFlight = new Map<string, Promise<Registration>>();

  constructor(bridge: Pick<HeBridge, 'registration'>, store: UseStore, drop: DropNotice) {
    this.#bridge = bridge;
    this.#store = store;
    this.#drop = drop;
  }

  /**
   * The registration of a key pair for a plan: the kept one, made first if there is none, and
   * sent unless the service confirmed it recently (or `send` is false). Concurrent calls for
   * one key and plan share one request.
   */
  ensure(plan: HePlan, key: Pick<KeyInfo, 'fingerprint'>, options: EnsureOptions = {}): Promise<Registration> {
    const id = `${key.fingerprint}:${plan.hash}`;
    const pending = this.#inFlight.get(id);
    const run = (async () => {
      // One request at a time per key and plan: a resend waits for a send under way.
      await pending?.catch(() => undefined);
      let kept = await this.#read(id);
      if (kept && options.send === false) return kept;
      if (kept && fresh(kept) && !options.resend) return kept;
      if (!kept && options.keptOnly) throw new ApiError('keys_refused', 'the evaluation keys of this queued prediction were lost (the keys were rotated, restored or deleted since); make it again');
      if (options.send !== false) options.onSending?.(kept?.contentBytes ?? plan.report?.evaluationKeyBytes ?? 0);
      if (!kept) {
        const wire = await this.#bridge.registration(plan, options.signal);
        kept = { v: 1, keyId: wire.keyId, planHash: plan.hash, fingerprint: key.fingerprint, createdAt: new Date().toISOString(), body: wire.body, contentHash: wire.contentHash, contentBytes: wire.contentBytes };
        await set(id, kept, this.#store);
        if (options.send === false) return kept;
      }
      const receipt = await registerKeys(kept.body, { kind: 'evaluation keys', hash: kept.contentHash, bytes: kept.contentBytes, records: 0 }, options.signal);
      if (receipt.keyId !== kept.keyId) throw new Error('the service registered keys under another id than their hash');
      const sent = { ...kept, expiresAt: receipt.expiresAt };
      await set(id, sent, this.#store);
      return sent;
    })();
    this.#inFlight.set(id, run);
    const done = () => this.#inFlight.get(id) === run && this.#inFlight.delete(id);
    run.then(done, done);
    return run;
  }

  async #read(id: string): Promise<Registration | undefined> {
    const value = await get<unknown>(id, this.#store);
    if (value === undefined) return undefined;
    const [valid] = validRecords(RegistrationSchema, [value], () => 'A record of the evaluation keys sent to the service', this.#drop);
    // Set aside once: new keys are made and sent when a prediction needs them.
    if (!valid) await del(id, this.#store);
    return valid;
  }

  /**
   * Takes in evaluation keys an earlier version kept beside its queued predictions, so those
   * predictions can still be sent; records that do not read as such are dropped with a notice.
   */
  async adopt(legacy: readonly unknown[]): Promise<void> {
    const now = new Date().toISOString();
    const records = legacy.map((k) => ({ v: 1, createdAt: now, ...(k as object) }));
    for (const r of validRecords(RegistrationSchema, records, () => 'Evaluation keys kept for a queued prediction', this.#drop)) {
      const id = `${r.fingerprint}:${r.planHash}`;
      if ((await this.#read(id)) === undefined) await set(id, r, this.#store);
    }
  }

  /**
   * Forgets, quietly, the registrations of plans no longer in use (`inUse`: the plans the service
   * offers and those queued predictions wait with), such as an earlier version's plans: nothing
   * can be sent with them any more (an earlier version's were megabytes).
   */
  async prune(inUse: ReadonlySet<string>): Promise<void> {
    const stale: IDBValidKey[] = [];
    for (const [id, value] of await entries<IDBValidKey, unknown>(this.#store)) {
      const planHash = (value as { planHash?: unknown } | null)?.planHash;
      if (typeof planHash === 'string' && !inUse.has(planHash) && !this.#inFlight.has(String(id))) stale.push(id);
    }
    if (stale.length) await delMany(stale, this.#store);
  }

  /** Forgets every registration (after the keys were rotated, imported or deleted). */
  async forget(): Promise<void> {
    this.#inFlight.clear();
    await clear(this.#store);
  }
}
