/**
 * Idempotent answers shared by every instance through Redis, so that a retry reaching another
 * instance gets the first evaluation's answer, and concurrent repeats on two instances are
 * evaluated once.
 *
 * One record per (model, key): `pending` while an instance evaluates, then `done` with the
 * answer. The evaluating instance takes the record with `SET NX` and keeps it alive with a
 * heartbeat, so that if it dies mid-request the record lapses within PENDING_MS and a retry
 * elsewhere takes over; others wait, polling, for the answer. Only successes are kept (as in
 * LocalAnswers): a refusal deletes the pending record, if it is still the owner's.
 */
import { decode, encode } from '@msgpack/msgpack';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { checkMsgpack, MESSAGE_LIMITS, ProtocolError } from '../../core/protocol/index.ts';
import { KEY_PREFIX, redisRefusal } from '../shared/redis.ts';
import { ANSWER_TTL_MS, bodyHashOf, keyReused, type Answered, type AnswerStore } from './index.ts';

/** A pending record lapses this long after its owner's last heartbeat. */
const PENDING_MS = 3000;
const HEARTBEAT_MS = 1000;
const POLL_MS = 50;

interface PendingRecord {
  v: 1;
  bodyHash: string;
  owner: string;
}
interface DoneRecord {
  v: 1;
  bodyHash: string;
  answer: Uint8Array;
}

/** Extends or deletes the record only while it is still the owner's pending one. */
const EXTEND_IF_OWNER = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const DELETE_IF_OWNER = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export class RedisAnswers implements AnswerStore {
  readonly #redis: Redis;
  /** How long a repeat waits for another instance's evaluation before answering `timeout`. */
  readonly #waitMs: number;

  constructor(redis: Redis, options: { waitMs: number }) {
    this.#redis = redis;
    this.#waitMs = options.waitMs;
  }

  async answer(scope: string, key: string, body: Uint8Array, evaluate: () => Promise<Uint8Array>): Promise<Answered> {
    const id = `${KEY_PREFIX}answer:${bodyHashOf(new TextEncoder().encode(`${scope}\n${key}`))}`;
    const bodyHash = bodyHashOf(body);
    const deadline = Date.now() + this.#waitMs + PENDING_MS;
    const pending = Buffer.from(encode({ v: 1, bodyHash, owner: randomUUID() } satisfies PendingRecord));
    for (;;) {
      const taken = await this.#call(() => this.#redis.set(id, pending, 'PX', PENDING_MS, 'NX'));
      if (taken === 'OK') return { bytes: await this.#evaluate(id, pending, evaluate, bodyHash), replayed: false };
      const record = readRecord(await this.#call(() => this.#redis.getBuffer(id)));
      if (record) {
        if (record.bodyHash !== bodyHash) throw keyReused();
        if ('answer' in record) return { bytes: record.answer, replayed: true };
      }
      if (Date.now() > deadline) throw new ProtocolError('timeout', 'an earlier request with this Idempotency-Key is still being evaluated; retry shortly');
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async #evaluate(id: string, pending: Buffer, evaluate: () => Promise<Uint8Array>, bodyHash: string): Promise<Uint8Array> {
    const heartbeat = setInterval(() => void this.#redis.eval(EXTEND_IF_OWNER, 1, id, pending, PENDING_MS).catch(() => {}), HEARTBEAT_MS);
    try {
      const bytes = await evaluate();
      const done = Buffer.from(encode({ v: 1, bodyHash, answer: bytes } satisfies DoneRecord));
      // The answer is given even if it cannot be kept: the client has it, a retry re-evaluates.
      await this.#redis.set(id, done, 'PX', ANSWER_TTL_MS).catch(() => {});
      return bytes;
    } catch (e) {
      await this.#redis.eval(DELETE_IF_OWNER, 1, id, pending).catch(() => {});
      throw e;
    } finally {
      clearInterval(heartbeat);
    }
  }

  async #call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (e) {
      throw redisRefusal(e);
    }
  }
}

function readRecord(bytes: Buffer | null): PendingRecord | DoneRecord | undefined {
  if (!bytes) return undefined;
  try {
    checkMsgpack(bytes, MESSAGE_LIMITS);
    const raw = decode(bytes) as Partial<PendingRecord & DoneRecord>;
    if (raw?.v !== 1 || typeof raw.bodyHash !== 'string') return undefined;
    if (raw.answer instanceof Uint8Array) return { v: 1, bodyHash: raw.bodyHash, answer: raw.answer };
    return { v: 1, bodyHash: raw.bodyHash, owner: String(raw.owner) };
  } catch {
    return undefined;
  }
}
