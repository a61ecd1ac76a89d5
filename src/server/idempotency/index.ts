/**
 * Idempotency keys for classify (the IETF httpapi Idempotency-Key header): a client that sends
 * one input again with the same key — because the answer to the first attempt was lost, or a
 * browser's queued prediction is sent from two tabs — gets the same stored answer, and the
 * input is evaluated once.
 *
 * - The key names a request together with the model it was sent to; a key seen with another
 *   body is refused (422 idempotency_key_reused), so a key cannot fetch someone else's answer
 *   with a different input, and a client bug cannot silently get a stale answer.
 * - A request with a key that is still being evaluated waits for that evaluation.
 * - Only successful answers are kept. A refusal (unknown keys, a full queue, a timeout) keeps
 *   nothing, so the client may fix the cause and send again with the same key.
 * - Bounded: at most MAX_ENTRIES answers and MAX_BYTES of them (least recently used go first),
 *   each kept TTL_MS. Answers are ciphertexts only the client can read, as on the wire.
 * - Where answers live is an `AnswerStore`: `LocalAnswers` here (one process), `RedisAnswers`
 *   (redis.ts) shared by every instance behind a load balancer, so that a retry reaching another
 *   instance is answered from the first one's evaluation.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { ProtocolError } from '../../core/protocol/index.ts';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** Response header set on an answer replayed from the store. */
export const REPLAYED_HEADER = 'idempotent-replayed';
const MAX_ENTRIES = 10_000;
const MAX_BYTES = 64 * 1024 * 1024;
const TTL_MS = 24 * 60 * 60 * 1000;

/** Printable ASCII without spaces or quotes, up to 128 characters: UUIDs and the like. */
const KEY = /^[\x21\x23-\x7e]{1,128}$/;

interface Entry {
  bodyHash: string;
  /** The encoded answer: pending while the first request is evaluated. */
  answer: Promise<Uint8Array>;
}

/**
 * Reads the header: undefined when absent; the key otherwise (a Structured Fields string in
 * quotes, as the draft writes it, or bare). Throws bad_request for a malformed key.
 */
export function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const raw = Array.isArray(header) ? header.join(',') : header;
  const key = raw.trim().replace(/^"(.*)"$/, '$1');
  if (!KEY.test(key)) throw new ProtocolError('bad_request', `the ${IDEMPOTENCY_HEADER} header must be 1 to 128 printable characters without spaces or quotes`);
  return key;
}

/** An answer, and whether it was replayed from an earlier request with the same key. */
export interface Answered {
  bytes: Uint8Array;
  replayed: boolean;
}

export interface AnswerStore {
  /**
   * The answer for `key` on `scope` (the model): a stored or pending one (`replayed`), else the
   * result of `evaluate`, stored once it succeeds. The body decides whether a repeat matches.
   */
  answer(scope: string, key: string, body: Uint8Array, evaluate: () => Promise<Uint8Array>): Promise<Answered>;
}

export const ANSWER_TTL_MS = TTL_MS;

/** The body's hash, which a repeat must match. */
export function bodyHashOf(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

export function keyReused(): ProtocolError {
  return new ProtocolError('idempotency_key_reused', `the ${IDEMPOTENCY_HEADER} was already used with another request body; use a new key for a new input`);
}

/** Answers kept in this process's memory (the embedded default). */
export class LocalAnswers implements AnswerStore {
  readonly #cache = new LRUCache<string, Entry>({
    max: MAX_ENTRIES,
    maxSize: MAX_BYTES,
    // A pending answer counts a token byte; it is stored again with its size once known.
    sizeCalculation: (_entry, _key) => 1,
    ttl: TTL_MS,
  });

  async answer(scope: string, key: string, body: Uint8Array, evaluate: () => Promise<Uint8Array>): Promise<Answered> {
    const id = `${scope}\n${key}`;
    const bodyHash = bodyHashOf(body);
    const known = this.#cache.get(id);
    if (known) {
      if (known.bodyHash !== bodyHash) throw keyReused();
      return { bytes: await known.answer, replayed: true };
    }
    // Stored before the first await, so a concurrent repeat finds it and waits.
    const answer = evaluate();
    const entry: Entry = { bodyHash, answer };
    this.#cache.set(id, entry);
    try {
      const bytes = await answer;
      if (this.#cache.get(id) === entry) this.#cache.set(id, entry, { size: Math.max(1, bytes.byteLength) });
      return { bytes, replayed: false };
    } catch (e) {
      if (this.#cache.peek(id) === entry) this.#cache.delete(id);
      throw e;
    }
  }
}
