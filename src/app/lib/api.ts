/**
 * The classifier service, seen from the page: model cards (JSON), key registration and
 * classification (MessagePack bodies made in the HE worker). Every request goes through `send`,
 * which records it for the "what left this device" panel and turns refusals into ApiError
 * with the protocol's code. Busy answers (503 with Retry-After) are retried a few times.
 */
import type { ModelCard } from '../../core/model/card.ts';
// Not protocol/index.ts: the page needs the protocol's names, not its schemas (cards are checked in lib/stored.ts).
import { CACHED_AT_HEADER, MSGPACK_TYPE } from '../../core/protocol/constants.ts';
import type { ErrorCode } from '../../core/protocol/errors.ts';
import type { KeyReceipt } from '../../core/protocol/messages.ts';
import { API } from '../../core/protocol/paths.ts';
import { CardSchema } from './stored.ts';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    /** The protocol's error code, or 'network' when no answer came. */
    readonly code: ErrorCode | 'network',
    message: string,
    readonly status = 0,
  ) {
    super(message);
  }
}

/** What a request body carries, as the HE worker describes it. */
export interface BodyContent {
  kind: 'evaluation keys' | 'ciphertexts' | 'model file';
  /** SHA-256 of the ciphertexts (or key bytes) in the body; the model hash for a model file. */
  hash: string;
  /** Bytes of ciphertext or key material. */
  bytes: number;
  /** Records the ciphertexts carry. */
  records: number;
}

/** What the traffic panel learns about each request. */
export interface SentRequest {
  method: string;
  path: string;
  /** Bytes of the request body. */
  bytes: number;
  content?: BodyContent;
  status: number;
  ms: number;
}

/** Where the service is: '' (the page's own origin) unless set, e.g. by a test in Node. */
let serviceOrigin = '';

/** Sends every later request to the service at `origin` (e.g. http://127.0.0.1:8080) instead of the page's own origin. */
export function useService(origin: string): void {
  serviceOrigin = origin.replace(/\/$/, '');
}

type Observer = (request: SentRequest) => void;
let observer: Observer | undefined;

/** Receives every request the page makes to the service. */
export function observeRequests(fn: Observer): void {
  observer = fn;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

async function refusal(res: Response): Promise<ApiError> {
  try {
    const body = (await res.json()) as { error?: { code?: ErrorCode; message?: string } };
    if (body.error?.code) return new ApiError(body.error.code, body.error.message ?? res.statusText, res.status);
  } catch {
    // not the protocol's error body
  }
  return new ApiError('internal', `the service answered ${res.status} ${res.statusText}`, res.status);
}

interface SendOptions {
  signal?: AbortSignal;
  content?: BodyContent;
  /** Extra request headers (Idempotency-Key, Authorization). */
  headers?: Record<string, string>;
  /** Content type of the body (default MessagePack). */
  type?: string;
}

async function send(method: 'GET' | 'POST', path: string, body: Uint8Array | undefined, options: SendOptions = {}): Promise<Response> {
  const { signal, content } = options;
  const type = options.type ?? MSGPACK_TYPE;
  for (let attempt = 0; ; attempt++) {
    const t0 = performance.now();
    let res: Response;
    try {
      res = await fetch(serviceOrigin + path, {
        method,
        signal,
        body: body as BodyInit | undefined,
        headers: { ...(body ? { 'content-type': type, accept: `${MSGPACK_TYPE}, application/json` } : { accept: 'application/json' }), ...options.headers },
        cache: 'no-store',
      });
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new ApiError('network', navigator.onLine ? 'the service could not be reached' : 'this device is offline', 0);
    }
    observer?.({ method, path, bytes: body?.byteLength ?? 0, content, status: res.status, ms: performance.now() - t0 });
    if (res.ok) return res;
    const error = await refusal(res);
    const retry = Number(res.headers.get('retry-after') ?? '1');
    if (res.status === 503 && attempt < 4) {
      await sleep(Math.min(5, Math.max(0.2, retry)) * 1000 * (attempt + 1), signal);
      continue;
    }
    throw error;
  }
}

/**
 * The public model cards the service offers, as sent (lib/stored.ts checks each before use),
 * and when they were cached if they did not come from the service just now.
 */
export async function fetchCards(signal?: AbortSignal): Promise<{ cards: unknown[]; complete: boolean; cachedAt?: string }> {
  const res = await send('GET', API.models, undefined, { signal });
  const json = (await res.json()) as { cards?: unknown[]; complete?: unknown };
  if (!Array.isArray(json.cards)) throw new ApiError('bad_request', 'the service sent no model cards');
  return { cards: json.cards, complete: json.complete !== false, cachedAt: res.headers.get(CACHED_AT_HEADER) ?? undefined };
}

/** Registers evaluation keys (a MessagePack body from the HE worker). */
export async function registerKeys(body: Uint8Array, content: BodyContent, signal?: AbortSignal): Promise<KeyReceipt> {
  const res = await send('POST', API.keys, body, { signal, content });
  return (await res.json()) as KeyReceipt;
}

/**
 * Sends one encrypted input; returns the encrypted result's MessagePack bytes. With an
 * idempotency key, sending the same body again (after a lost answer) returns the answer the
 * service stored instead of evaluating twice.
 */
export async function classify(modelId: string, body: Uint8Array, content: BodyContent, options: { signal?: AbortSignal; idempotencyKey?: string } = {}): Promise<Uint8Array> {
  const headers = options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : undefined;
  const res = await send('POST', API.classify(modelId), body, { signal: options.signal, content, headers });
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * Publishes a model file with the operator's admin token; returns the card the service now
 * serves. The file holds weights and input statistics, never a training row.
 */
export async function publishModel(model: { hash: string }, token: string, signal?: AbortSignal): Promise<ModelCard> {
  const body = new TextEncoder().encode(JSON.stringify(model));
  const content: BodyContent = { kind: 'model file', hash: model.hash, bytes: body.byteLength, records: 0 };
  try {
    const res = await send('POST', API.publishModel, body, { signal, content, type: 'application/json', headers: { authorization: `Bearer ${token}` } });
    const card: unknown = await res.json();
    if (!CardSchema.safeParse(card).success) throw new ApiError('bad_request', 'the service published the model but described it in a way this version of the app cannot read; reload the page');
    return card as ModelCard;
  } catch (e) {
    if (e instanceof ApiError && e.code === 'not_found') throw new ApiError('not_found', 'this service does not accept published models (its operator set no admin token)', e.status);
    throw e;
  }
}
