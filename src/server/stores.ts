/**
 * The stores of one instance, chosen in one place: embedded (a folder for keys, memory for
 * idempotent answers, rate-limit counters, study state) unless `redisUrl` is set, and then all of them in
 * Redis at once, so that instances behind a load balancer share everything a request may need
 * from an earlier one (DESIGN §9). Evaluation keys keep a small in-memory cache in front of
 * either store: key bytes never change under an id, so a cached set is never stale.
 */
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { ServerConfig } from './config.ts';
import { LocalAnswers, type AnswerStore } from './idempotency/index.ts';
import { RedisAnswers } from './idempotency/redis.ts';
import { CachedKeyStore } from './keys/cached.ts';
import { DiskKeyStore } from './keys/disk.ts';
import { RedisKeyStore } from './keys/redis.ts';
import type { KeyStore } from './keys/store.ts';
import type { RecordDropped } from './keys/record.ts';
import { RedisStudyStore } from './studies/redis.ts';
import { DiskStudyStore, type StudyStore } from './studies/store.ts';
import { connectRedis, redisReady } from './shared/redis.ts';

export interface Stores {
  keys: KeyStore;
  studies: StudyStore;
  answers: AnswerStore;
  redis: Redis | null;
  close(): Promise<void>;
}

/** `log` hears of stored records the key store drops (keys of an older record version). */
export async function openStores(config: ServerConfig, log: RecordDropped = () => {}): Promise<Stores> {
  if (!config.redisUrl) {
    const disk = await DiskKeyStore.open(join(config.dataDir, 'keys'), { maxBytes: config.keyStoreMaxBytes, ttlSeconds: config.keyTtlSeconds, dropped: log });
    const keys = new CachedKeyStore(disk, config.keyCacheBytes);
    const studies = await DiskStudyStore.open(join(config.dataDir, 'studies'));
    return { keys, studies, answers: new LocalAnswers(), redis: null, close: () => keys.close() };
  }
  const redis = connectRedis(config.redisUrl);
  // Start only against a reachable Redis: a typo in the URL fails loudly here. Once running,
  // an outage is answered with 503s and readiness, and the client reconnects by itself.
  try {
    await redisReady(redis);
  } catch (e) {
    redis.disconnect();
    throw new Error(`CIPHERCLINIC_REDIS_URL: ${(e as Error).message}`);
  }
  const keys = new CachedKeyStore(new RedisKeyStore(redis, { ttlSeconds: config.keyTtlSeconds, maxBytes: config.keyStoreMaxBytes, dropped: log }), config.keyCacheBytes);
  return {
    keys,
    studies: new RedisStudyStore(redis),
    answers: new RedisAnswers(redis, { waitMs: config.taskTimeoutMs }),
    redis,
    close: async () => {
      await keys.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
