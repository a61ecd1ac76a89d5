/**
 * Study state in Redis, shared by every coordinator instance behind a load balancer. Each study
 * is one value (the same versioned record as the disk store's file) beside a version counter;
 * `update` reads both, applies the change, and writes back only if the version is unchanged
 * (compare-and-set in one Lua script), retrying otherwise. So when two instances try to close
 * the same step, one wins and the other re-reads the closed step: a round is never closed twice.
 */
import type { Redis } from 'ioredis';
import { KEY_PREFIX, redisRefusal } from '../shared/redis.ts';
import { studyFromBytes, studyToBytes, unknownStudy, type StudyRecord, type StudyStore } from './store.ts';

const SET_IF_VERSION = `if (redis.call('GET', KEYS[2]) or '0') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  redis.call('INCR', KEYS[2])
  return 1
end
return 0`;

const MAX_ATTEMPTS = 20;

/** ioredis gives Buffers; decoded fields must be plain Uint8Arrays (the Shamir library insists). */
const plain = (bytes: Buffer) => new Uint8Array(bytes);

export class RedisStudyStore implements StudyStore {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  #keys(id: string): [string, string] {
    return [`${KEY_PREFIX}study:${id}`, `${KEY_PREFIX}study-version:${id}`];
  }

  async #call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (e) {
      throw redisRefusal(e);
    }
  }

  async create(record: StudyRecord): Promise<boolean> {
    const [key] = this.#keys(record.manifest.id);
    const bytes = Buffer.from(studyToBytes(record));
    const made = await this.#call(() => this.#redis.set(key, bytes, 'NX'));
    if (made !== 'OK') return false;
    await this.#call(() => this.#redis.sadd(`${KEY_PREFIX}studies`, record.manifest.id));
    return true;
  }

  async get(id: string): Promise<StudyRecord | undefined> {
    const [key] = this.#keys(id);
    const bytes = await this.#call(() => this.#redis.getBuffer(key));
    return bytes ? studyFromBytes(plain(bytes)) : undefined;
  }

  async update<T>(id: string, change: (record: StudyRecord) => T | Promise<T>): Promise<T> {
    const [key, versionKey] = this.#keys(id);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const [[, bytes], [, version]] = (await this.#call(() => this.#redis.multi().getBuffer(key).get(versionKey).exec())) as [[unknown, Buffer | null], [unknown, string | null]];
      if (!bytes) throw unknownStudy(id);
      const draft = studyFromBytes(plain(bytes));
      const result = await change(draft);
      const written = await this.#call(() => this.#redis.eval(SET_IF_VERSION, 2, key, versionKey, version ?? '0', Buffer.from(studyToBytes(draft))));
      if (written === 1) return result;
      // Another instance changed the study meanwhile: apply the change to what it wrote.
    }
    throw redisRefusal(new Error(`the study ${id} changed ${MAX_ATTEMPTS} times while this instance tried to update it`));
  }

  async ids(): Promise<string[]> {
    return this.#call(() => this.#redis.smembers(`${KEY_PREFIX}studies`));
  }

  async close(): Promise<void> {
    // The client is shared by every store of the process: stores.ts closes it once.
  }
}
