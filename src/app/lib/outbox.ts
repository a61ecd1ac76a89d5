/**
 * Predictions asked for while the service cannot be reached. Each is encrypted at once (the
 * record is never stored in the clear) and kept in IndexedDB with everything needed to send it
 * later and read its answer: the request body, an idempotency key, the plan and the card's
 * decoding (both public), and the public evaluation keys its ciphertext was made for, so the
 * service can be given them again if it has forgotten them.
 *
 * Exactly once: the idempotency key goes with every attempt, and the service answers a repeat
 * (after an answer lost on the way) from what it stored instead of evaluating again. The entry
 * is deleted only after its result is decrypted and in the history, under the same id, so a
 * crash in between delivers the same answer once more into the same history entry.
 */
import { del, get, set } from 'idb-keyval';
import type { HePlan } from '../../core/he/plan.ts';
import { valuesWithPrefix } from '../../core/idb.ts';
import type { ModelCard } from '../../core/model/card.ts';
import type { OutputDecoding } from '../../core/model/format.ts';
import { decodeScore, quantizeRecord, type DecodedScore, type PlainRecord } from '../../core/model/reference.ts';
import { ApiError, classify } from './api.ts';
import type { HeBridge, WireBody } from './he-bridge.ts';
import { sendRegistration } from './registrations.ts';
import { outboxStore } from './stores.ts';

/** A prediction waiting to be sent. Nothing in it is readable: values exist only as ciphertext. */
export interface QueuedPrediction {
  /** Also the idempotency key and the history entry's id. */
  id: string;
  queuedAt: string;
  modelId: string;
  modelTitle: string;
  plan: HePlan;
  output: OutputDecoding;
  classes: [string, string];
  keyId: string;
  fingerprint: string;
  /** The classify message (MessagePack). */
  body: Uint8Array;
  contentHash: string;
  contentBytes: number;
  /** Labels of fields left blank (the model used typical values). */
  imputed: string[];
  source: 'form' | 'fhir';
  origin: string;
  attempts: number;
  /** Set when sending failed for good (the model changed meanwhile): the person is told. */
  failed?: string;
}

/** Evaluation keys made for queued predictions, kept until every prediction using them is sent. */
interface PendingKeys extends Pick<WireBody, 'body' | 'contentHash' | 'contentBytes'> {
  keyId: string;
  planHash: string;
  fingerprint: string;
  /** When the service last confirmed them; registered again once this is past. */
  expiresAt?: string;
}

const ENTRY = 'prediction:';
const KEYS = 'keys:';
/** Register again a little before the service's expiry. */
const MARGIN_MS = 10 * 60 * 1000;

/** Error codes after which a queued prediction can never be answered as it is. */
const FINAL: ReadonlySet<string> = new Set(['model_mismatch', 'plan_mismatch', 'unknown_model', 'unknown_plan', 'shape_mismatch', 'ciphertext_refused', 'keys_refused', 'bad_request', 'unsupported_protocol']);

/** Every queued prediction, oldest first (the evaluation keys stored beside them are not read). */
export async function listQueued(): Promise<QueuedPrediction[]> {
  return (await valuesWithPrefix<QueuedPrediction>(ENTRY, outboxStore)).sort((a, b) => a.queuedAt.localeCompare(b.queuedAt));
}

/** The pending evaluation keys of a key and plan, made (in the HE worker) and kept on first use. */
async function pendingKeys(bridge: HeBridge, plan: HePlan, fingerprint: string): Promise<PendingKeys> {
  const found = (await valuesWithPrefix<PendingKeys>(KEYS, outboxStore)).find((k) => k.planHash === plan.hash && k.fingerprint === fingerprint);
  if (found) return found;
  const wire = await bridge.registration(plan);
  const keys: PendingKeys = { keyId: wire.keyId, planHash: plan.hash, fingerprint, body: wire.body, contentHash: wire.contentHash, contentBytes: wire.contentBytes };
  await set(KEYS + keys.keyId, keys, outboxStore);
  return keys;
}

/** Encrypts one record for a card's single-record plan and queues it. */
export async function queuePrediction(
  bridge: HeBridge,
  card: ModelCard,
  record: PlainRecord,
  meta: Pick<QueuedPrediction, 'imputed' | 'source' | 'origin'>,
): Promise<QueuedPrediction> {
  const plan = card.plans.single;
  if (!plan) throw new Error(`the model "${card.title}" offers no single-record plan`);
  const key = await bridge.prepare(plan);
  const keys = await pendingKeys(bridge, plan, key.fingerprint);
  const [wire] = await bridge.encrypt(plan, keys.keyId, Int32Array.from(quantizeRecord(card, record)));
  const entry: QueuedPrediction = {
    id: crypto.randomUUID(),
    queuedAt: new Date().toISOString(),
    modelId: card.id,
    modelTitle: card.title,
    plan,
    output: card.output,
    classes: card.classes,
    keyId: keys.keyId,
    fingerprint: key.fingerprint,
    body: wire!.body,
    contentHash: wire!.contentHash,
    contentBytes: wire!.contentBytes,
    attempts: 0,
    ...meta,
  };
  await set(ENTRY + entry.id, entry, outboxStore);
  return entry;
}

/** Registers the prediction's evaluation keys unless the service confirmed them recently. */
async function ensureKeys(entry: QueuedPrediction, force = false): Promise<void> {
  const keys = await get<PendingKeys>(KEYS + entry.keyId, outboxStore);
  if (!keys) throw new ApiError('keys_refused', 'the evaluation keys of this queued prediction were lost; make it again');
  if (!force && keys.expiresAt && Date.parse(keys.expiresAt) - MARGIN_MS > Date.now()) return;
  const registration = await sendRegistration(keys, keys.planHash, keys.fingerprint);
  await set(KEYS + keys.keyId, { ...keys, expiresAt: registration.expiresAt }, outboxStore);
}

export type SendOutcome = { status: 'delivered'; prediction: DecodedScore } | { status: 'offline'; message: string } | { status: 'failed'; message: string };

/**
 * Sends one queued prediction (registering its keys first when needed) and decrypts the
 * answer. 'offline' leaves it queued for the next attempt; 'failed' marks it as never
 * answerable; neither loses it.
 */
export async function sendQueued(bridge: HeBridge, entry: QueuedPrediction): Promise<SendOutcome> {
  await set(ENTRY + entry.id, { ...entry, attempts: entry.attempts + 1 }, outboxStore);
  const content = { kind: 'ciphertexts' as const, hash: entry.contentHash, bytes: entry.contentBytes, records: 1 };
  const send = () => classify(entry.modelId, entry.body, content, { idempotencyKey: entry.id });
  try {
    await ensureKeys(entry);
    let result: Uint8Array;
    try {
      result = await send();
    } catch (e) {
      if (!(e instanceof ApiError) || e.code !== 'unknown_key') throw e;
      await ensureKeys(entry, true);
      result = await send();
    }
    const [scores] = await bridge.decrypt(entry.plan, [result]);
    return { status: 'delivered', prediction: decodeScore(entry.output, scores![0]!) };
  } catch (e) {
    if (e instanceof ApiError && FINAL.has(e.code)) {
      const message = e.code === 'model_mismatch' || e.code === 'unknown_model' ? 'the model changed or was removed while this prediction waited; make it again' : e.message;
      await set(ENTRY + entry.id, { ...entry, attempts: entry.attempts + 1, failed: message }, outboxStore);
      return { status: 'failed', message };
    }
    return { status: 'offline', message: (e as Error).message };
  }
}

/**
 * Removes a queued prediction (sent, or discarded by the person) and keys no longer needed;
 * returns the predictions still queued, oldest first.
 */
export async function removeQueued(entry: Pick<QueuedPrediction, 'id' | 'keyId'>): Promise<QueuedPrediction[]> {
  await del(ENTRY + entry.id, outboxStore);
  const rest = await listQueued();
  if (!rest.some((e) => e.keyId === entry.keyId)) await del(KEYS + entry.keyId, outboxStore);
  return rest;
}
