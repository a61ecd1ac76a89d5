/**
 * The one client pipeline, for a record or thousands, sent now or queued for later: the HE
 * worker encrypts (quantize + encrypt + serialize), the service evaluates, the worker decrypts
 * (deserialize + decrypt + decode). Every classify request carries an idempotency key, so a
 * repeat after an answer lost on the way is answered from what the service stored; a service
 * that has forgotten the evaluation keys gets them again here, in one place, and the same body
 * is sent once more. Batch inputs are pipelined: the worker encrypts the next input while the
 * service evaluates the current one.
 */
import type { LayoutName } from '../../core/he/layout.ts';
import type { HePlan } from '../../core/he/plan.ts';
import type { ModelCard } from '../../core/model/card.ts';
import type { PlainRecord } from '../../core/model/reference.ts';
import { ApiError, classify, type BodyContent } from './api.ts';
import type { HeBridge, KeyInfo, Prediction, WireBody } from './he-bridge.ts';
import type { QueuedPrediction } from './outbox.ts';
import type { Phase, PredictProgress } from './predict.ts';
import type { Registrations } from './registrations.ts';

export interface PredictOptions {
  signal?: AbortSignal;
  onProgress?: (p: PredictProgress) => void;
  /** Single layout, one record: variants of it packed in the same ciphertext (core/explain). */
  variants?: readonly PlainRecord[];
}

export interface PredictOutcome {
  predictions: Prediction[];
  key: KeyInfo;
  /** With `variants`: every region's integer output, the record's first. */
  regionScores?: number[];
}

/** What the outbox keeps of a queued prediction besides its ciphertext: the person's words about it and its History facts. */
export type QueuedMeta = Pick<QueuedPrediction, 'imputed' | 'source' | 'origin' | 'facts'>;

/** What a queued prediction's encryption may carry besides the record (as for an online one). */
export type QueueOptions = Pick<PredictOptions, 'variants'>;

export type SendOutcome =
  | { status: 'delivered'; prediction: Prediction; /** With variants: every region's integer output, the record's first. */ regionScores?: number[] }
  | { status: 'offline'; message: string }
  /** `planGone`: the service no longer serves the plan it was encrypted for (lib/requeue.ts may encrypt it again). */
  | { status: 'failed'; message: string; planGone?: boolean };

/** Error codes after which a queued prediction can never be answered as it is. */
const FINAL: ReadonlySet<string> = new Set(['model_mismatch', 'plan_mismatch', 'unknown_model', 'unknown_plan', 'shape_mismatch', 'ciphertext_refused', 'keys_refused', 'bad_request', 'unsupported_protocol']);

/** Refusals of a request made for a plan (or protocol) the service no longer serves. */
const PLAN_GONE: ReadonlySet<string> = new Set(['plan_mismatch', 'unknown_plan', 'unsupported_protocol']);

const content = (b: Pick<WireBody, 'contentHash' | 'contentBytes' | 'count'>): BodyContent => ({ kind: 'ciphertexts', hash: b.contentHash, bytes: b.contentBytes, records: b.count });

export function planOf(card: Pick<ModelCard, 'plans' | 'title'>, layout: LayoutName): HePlan {
  const plan = card.plans[layout];
  if (!plan) throw new Error(`the model "${card.title}" offers no ${layout} plan`);
  return plan;
}

/** One encrypted request on its way: what it is for and the keys it was made under. */
interface Outgoing {
  modelId: string;
  plan: HePlan;
  fingerprint: string;
  body: Uint8Array;
  content: BodyContent;
  idempotencyKey: string;
}

/** What the sender asks of the HE worker. */
export type SenderBridge = Pick<HeBridge, 'prepare' | 'encryptRecords' | 'decryptResults'>;

export class Sender {
  readonly #bridge: SenderBridge;
  readonly #registrations: Pick<Registrations, 'ensure'>;

  constructor(bridge: SenderBridge, registrations: Pick<Registrations, 'ensure'>) {
    this.#bridge = bridge;
    this.#registrations = registrations;
  }

  /** Sends one request; if the service forgot its evaluation keys, sends them again (the same keys) and the request once more. */
  async #send(out: Outgoing, signal?: AbortSignal, onSending?: (bytes: number) => void): Promise<Uint8Array> {
    const send = () => classify(out.modelId, out.body, out.content, { signal, idempotencyKey: out.idempotencyKey });
    try {
      return await send();
    } catch (e) {
      const planSuffix = `.${out.plan.hash.slice(0, 16)}`;
      if (e instanceof ApiError && e.code === 'idempotency_key_reused' && !out.idempotencyKey.endsWith(planSuffix)) {
        // The key went with another body: a queued prediction encrypted again under a new plan
        // (lib/requeue.ts) whose first request was answered but lost. A key derived from the plan
        // stays the same for this body, so a resend is still answered once.
        return this.#send({ ...out, idempotencyKey: out.idempotencyKey + planSuffix }, signal, onSending);
      }
      if (!(e instanceof ApiError) || e.code !== 'unknown_key') throw e;
      await this.#registrations.ensure(out.plan, { fingerprint: out.fingerprint }, { resend: true, keptOnly: true, signal, onSending });
      return send();
    }
  }

  /** Encrypts records, has the service evaluate them, decrypts the answers, in order. */
  async predict(card: ModelCard, layout: LayoutName, records: readonly PlainRecord[], options: PredictOptions = {}): Promise<PredictOutcome> {
    const { signal, onProgress } = options;
    const plan = planOf(card, layout);
    const variants = layout === 'single' && records.length === 1 && options.variants?.length ? options.variants : undefined;
    let regionScores: number[] | undefined;
    const total = records.length;
    const progress = (phase: Phase, done: number) => onProgress?.({ phase, done, total });
    const onSending = (keyBytes: number) => onProgress?.({ phase: 'keys', keyBytes, done: 0, total });
    progress('keys', 0);
    const key = await this.#bridge.prepare(plan, signal);
    const { keyId } = await this.#registrations.ensure(plan, key, { signal, onSending });

    // One classify request per input, so the next is encrypted while the service evaluates this one.
    const step = plan.recordsPerInput;
    const chunks: PlainRecord[][] = [];
    for (let i = 0; i < records.length; i += step) chunks.push(records.slice(i, i + step));
    const encrypt = (i: number) => this.#bridge.encryptRecords(plan, card, keyId, chunks[i]!, variants ? { variants } : {}, signal).then((bodies) => bodies[0]!);

    const predictions: Prediction[] = [];
    let next: Promise<WireBody> | undefined = chunks.length ? encrypt(0) : undefined;
    try {
      for (let i = 0; i < chunks.length; i++) {
        progress('encrypting', predictions.length);
        const wire = await next!;
        next = i + 1 < chunks.length ? encrypt(i + 1) : undefined;
        progress('evaluating', predictions.length);
        const out: Outgoing = { modelId: card.id, plan, fingerprint: key.fingerprint, body: wire.body, content: content(wire), idempotencyKey: crypto.randomUUID() };
        const result = await this.#send(out, signal, onSending);
        progress('decrypting', predictions.length);
        const [decrypted] = await this.#bridge.decryptResults(plan, card.output, [result], variants ? { variants: variants.length } : {}, signal);
        predictions.push(...decrypted!.predictions.slice(0, chunks[i]!.length));
        regionScores = decrypted!.regionScores;
      }
    } finally {
      // An encryption started ahead must not end as an unhandled rejection when we stop early.
      next?.catch(() => undefined);
    }
    progress('done', predictions.length);
    return regionScores ? { predictions, key, regionScores } : { predictions, key };
  }

  /**
   * Encrypts one record for a card's single-record plan, to be sent later: the record (and its
   * variants, packed beside it in the same ciphertext as online) is never kept in the clear. Its
   * evaluation keys are made now if needed and kept, not sent.
   */
  async encryptForLater(card: ModelCard, record: PlainRecord, meta: QueuedMeta, options: QueueOptions = {}): Promise<QueuedPrediction> {
    const plan = planOf(card, 'single');
    const key = await this.#bridge.prepare(plan);
    const { keyId } = await this.#registrations.ensure(plan, key, { send: false });
    const variants = options.variants?.length ? options.variants : undefined;
    const [wire] = await this.#bridge.encryptRecords(plan, card, keyId, [record], variants ? { variants } : {});
    return {
      v: 1,
      id: crypto.randomUUID(),
      queuedAt: new Date().toISOString(),
      modelId: card.id,
      modelTitle: card.title,
      plan,
      output: card.output,
      classes: card.classes,
      keyId,
      fingerprint: key.fingerprint,
      body: wire!.body,
      contentHash: wire!.contentHash,
      contentBytes: wire!.contentBytes,
      attempts: 0,
      ...(variants ? { variants: variants.length } : {}),
      ...meta,
    };
  }

  /**
   * A queued prediction encrypted again under its model's current single plan (lib/requeue.ts),
   * from its record as read again from the values kept with it: the same entry (id, when it was
   * asked for, attempts, History facts) with a new ciphertext, keys and plan.
   */
  async requeue(entry: QueuedPrediction, card: ModelCard, record: PlainRecord, variants?: readonly PlainRecord[]): Promise<QueuedPrediction> {
    const meta: QueuedMeta = { imputed: entry.imputed, source: entry.source, origin: entry.origin, ...(entry.facts ? { facts: entry.facts } : {}) };
    const fresh = await this.encryptForLater(card, record, meta, variants ? { variants } : {});
    const { variants: _variants, failed: _failed, ...rest } = entry;
    return { ...rest, ...fresh, id: entry.id, queuedAt: entry.queuedAt, attempts: entry.attempts };
  }

  /**
   * Sends a queued prediction (its keys first, unless the service confirmed them recently) and
   * decrypts the answer. 'offline' leaves it for the next attempt; 'failed' means it can never
   * be answered as it is; neither loses it. The entry's id is the idempotency key.
   */
  async sendQueued(entry: QueuedPrediction): Promise<SendOutcome> {
    try {
      await this.#registrations.ensure(entry.plan, entry, { keptOnly: true });
      const out: Outgoing = { modelId: entry.modelId, plan: entry.plan, fingerprint: entry.fingerprint, body: entry.body, content: content({ ...entry, count: 1 }), idempotencyKey: entry.id };
      const result = await this.#send(out);
      const [decrypted] = await this.#bridge.decryptResults(entry.plan, entry.output, [result], entry.variants ? { variants: entry.variants } : {});
      const { predictions, regionScores } = decrypted!;
      return regionScores ? { status: 'delivered', prediction: predictions[0]!, regionScores } : { status: 'delivered', prediction: predictions[0]! };
    } catch (e) {
      if (e instanceof ApiError && FINAL.has(e.code)) {
        const message = e.code === 'model_mismatch' || e.code === 'unknown_model' ? 'the model changed or was removed while this prediction waited; make it again' : e.message;
        if (PLAN_GONE.has(e.code)) return { status: 'failed', message: 'the service no longer uses the encryption plan this prediction was made for; make it again', planGone: true };
        return { status: 'failed', message };
      }
      return { status: 'offline', message: (e as Error).message };
    }
  }
}
