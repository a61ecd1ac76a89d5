/**
 * The private prediction path, for one record or thousands: quantize on the page (public
 * statistics from the card), encrypt in the HE worker, send, receive, decrypt in the worker,
 * decode the probability on the page. Inputs are pipelined: the worker encrypts the next
 * input while the service evaluates the current one.
 */
import type { LayoutName } from '../../core/he/layout.ts';
import type { HePlan } from '../../core/he/plan.ts';
import type { ModelCard } from '../../core/model/card.ts';
import { decodeScore, quantizeRecord, type DecodedScore, type PlainRecord } from '../../core/model/reference.ts';
import { ApiError, classify } from './api.ts';
import type { HeBridge, KeyInfo, WireBody } from './he-bridge.ts';
import { ensureRegistered } from './registrations.ts';

export type Phase = 'keys' | 'encrypting' | 'evaluating' | 'decrypting' | 'done';

export interface PredictProgress {
  phase: Phase;
  /** In the 'keys' phase, when evaluation keys are being made and sent: their size in bytes. */
  keyBytes?: number;
  /** Records finished. */
  done: number;
  total: number;
}

export interface PredictOptions {
  signal?: AbortSignal;
  onProgress?: (p: PredictProgress) => void;
}

export interface PredictOutcome {
  predictions: DecodedScore[];
  key: KeyInfo;
}

/** What a person is told when a prediction must first send this model's evaluation keys. */
export function keysWords(keyBytes: number): string {
  const mb = keyBytes / 1e6;
  return `This model needs ${mb >= 0.1 ? mb.toFixed(1) : '<0.1'} MB of keys, sent once`;
}

function planOf(card: ModelCard, layout: LayoutName): HePlan {
  const plan = card.plans[layout];
  if (!plan) throw new Error(`the model "${card.title}" offers no ${layout} plan`);
  return plan;
}

/** Quantized records, row-major, in a buffer the worker can take. */
function quantize(card: ModelCard, records: readonly PlainRecord[]): Int32Array {
  const d = card.features.length;
  const flat = new Int32Array(records.length * d);
  records.forEach((r, i) => flat.set(quantizeRecord(card, r), i * d));
  return flat;
}

export async function predict(bridge: HeBridge, card: ModelCard, layout: LayoutName, records: readonly PlainRecord[], options: PredictOptions = {}): Promise<PredictOutcome> {
  const { signal, onProgress } = options;
  const plan = planOf(card, layout);
  const total = records.length;
  onProgress?.({ phase: 'keys', done: 0, total });
  const key = await bridge.prepare(plan, signal);
  const onSending = (keyBytes: number) => onProgress?.({ phase: 'keys', keyBytes, done: 0, total });
  let registration = await ensureRegistered(bridge, plan, key, { signal, onSending });

  // One classify request per chunk, so the next chunk is encrypted while the service evaluates this one.
  const step = plan.recordsPerInput;
  const chunks: PlainRecord[][] = [];
  for (let i = 0; i < records.length; i += step) chunks.push(records.slice(i, i + step));
  type Encrypted = WireBody & { keyId: string };
  const encryptChunk = (i: number): Promise<Encrypted> => {
    const { keyId } = registration;
    return bridge.encrypt(plan, keyId, quantize(card, chunks[i]!), signal).then((b) => ({ ...b[0]!, keyId }));
  };

  /** Sends one encrypted input; if the service forgot our keys (expiry, restart), registers again and resends. */
  const send = async (i: number, body: Encrypted): Promise<Uint8Array> => {
    try {
      return await classify(card.id, body.body, content(body), { signal });
    } catch (e) {
      if (!(e instanceof ApiError) || e.code !== 'unknown_key') throw e;
      // Inputs encrypted ahead name the forgotten keys too: renew once, not once per input.
      if (body.keyId === registration.keyId) registration = await ensureRegistered(bridge, plan, key, { renew: true, signal, onSending });
      const again = await encryptChunk(i);
      return classify(card.id, again.body, content(again), { signal });
    }
  };

  const predictions: DecodedScore[] = [];
  let next: Promise<Encrypted> | undefined = chunks.length ? encryptChunk(0) : undefined;
  try {
    for (let i = 0; i < chunks.length; i++) {
      onProgress?.({ phase: 'encrypting', done: predictions.length, total });
      const body = await next!;
      // The worker encrypts the next input while the service evaluates this one.
      next = i + 1 < chunks.length ? encryptChunk(i + 1) : undefined;
      onProgress?.({ phase: 'evaluating', done: predictions.length, total });
      const result = await send(i, body);
      onProgress?.({ phase: 'decrypting', done: predictions.length, total });
      const [scores] = await bridge.decrypt(plan, [result], signal);
      for (const score of scores!.slice(0, chunks[i]!.length)) predictions.push(decodeScore(card.output, score));
    }
  } finally {
    // An encryption started ahead must not end as an unhandled rejection when we stop early.
    next?.catch(() => undefined);
  }
  onProgress?.({ phase: 'done', done: predictions.length, total });
  return { predictions, key };
}

const content = (b: WireBody) => ({ kind: 'ciphertexts' as const, hash: b.contentHash, bytes: b.contentBytes, records: b.count });
