/**
 * Evaluation keys in Redis, for several instances behind a load balancer. One value per (plan,
 * key set): the same MessagePack record as the disk store's file. Redis does what the disk store
 * does by hand: `EX` is the expiry, `maxmemory` with `allkeys-lru` the size bound (docs/server.md),
 * `SET NX` makes exactly one of concurrent registrations — on any instance — the creator, and
 * AOF persistence keeps confirmed registrations across a restart.
 */
import type { Redis } from 'ioredis';
import type { EvaluationKeyBundle } from '../../core/he/index.ts';
import { keyRecordFromBytes, keyRecordToBytes, type RecordDropped } from './record.ts';
import { KEY_PREFIX, redisProblem, redisRefusal } from '../shared/redis.ts';
import { checkedSize, KEY_ID, slotOf, type KeyReceiptOf, type KeyStore, type StoredKeys } from './store.ts';

export class RedisKeyStore implements KeyStore {
  readonly #redis: Redis;
  readonly #ttlSeconds: number;
  readonly #maxBytes: number;
  readonly #dropped: RecordDropped | undefined;

  /** `dropped` hears of each stored record not read because it is of an older record version. */
  constructor(redis: Redis, options: { ttlSeconds: number; maxBytes: number; dropped?: RecordDropped }) {
    this.#redis = redis;
    this.#dropped = options.dropped;
    this.#ttlSeconds = options.ttlSeconds;
    this.#maxBytes = options.maxBytes;
  }

  #key(planHash: string, keyId: string): string {
    return `${KEY_PREFIX}keys:${slotOf(planHash, keyId)}`;
  }

  async put(bundle: EvaluationKeyBundle): Promise<KeyReceiptOf> {
    checkedSize(bundle, this.#maxBytes);
    const key = this.#key(bundle.planHash, bundle.keyId);
    const record = keyRecordToBytes(bundle);
    try {
      // Extend first: registering known keys again moves no megabytes.
      const extended = await this.#redis.expire(key, this.#ttlSeconds);
      let created = false;
      if (extended !== 1) created = (await this.#redis.set(key, Buffer.from(record.buffer, record.byteOffset, record.byteLength), 'EX', this.#ttlSeconds, 'NX')) === 'OK';
      return { keyId: bundle.keyId, created, expiresAt: Date.now() + this.#ttlSeconds * 1000 };
    } catch (e) {
      throw redisRefusal(e);
    }
  }

  async get(planHash: string, keyId: string): Promise<StoredKeys | undefined> {
    if (!KEY_ID.test(keyId) || !KEY_ID.test(planHash)) return undefined;
    const key = this.#key(planHash, keyId);
    let bytes: Buffer | null;
    let ttlMs: number;
    try {
      const [[, got], [, pttl]] = (await this.#redis.multi().getBuffer(key).pttl(key).exec()) as [[unknown, Buffer | null], [unknown, number]];
      bytes = got;
      ttlMs = pttl;
    } catch (e) {
      throw redisRefusal(e);
    }
    if (!bytes || ttlMs <= 0) return undefined;
    const bundle = keyRecordFromBytes(bytes, this.#dropped);
    if (!bundle || bundle.planHash !== planHash || bundle.keyId !== keyId) return undefined;
    return { bundle, expiresAt: Date.now() + ttlMs };
  }

  writeProblem(): Promise<string | undefined> {
    return redisProblem(this.#redis);
  }

  async close(): Promise<void> {
    // The client is shared by every store of the process: main.ts closes it once.
  }
}
