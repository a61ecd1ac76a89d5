/**
 * The embedded key store and its cache: idempotence, expiry, the size bound, damaged files,
 * records of an older version.
 */
import { encode } from '@msgpack/msgpack';
import { mkdtemp, readdir, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashParts } from '../../core/hash.ts';
import type { EvaluationKeyBundle } from '../../core/he/index.ts';
import { CachedKeyStore } from './cached.ts';
import { DiskKeyStore } from './disk.ts';
import { RedisKeyStore } from './redis.ts';
import { connectRedis, KEY_PREFIX, redisReady } from '../shared/redis.ts';
import { startRedis } from '../../../tests/support/services.ts';
import { keyRecordFromBytes, keyRecordToBytes } from './record.ts';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function open(maxBytes = 10_000_000, ttlSeconds = 3600) {
  const dir = await mkdtemp(join(tmpdir(), 'cc-keys-'));
  dirs.push(dir);
  return { dir, store: await DiskKeyStore.open(dir, { maxBytes, ttlSeconds }) };
}

/** A batch plan's key set: relinearization keys only. */
function bundle(size: number, fill: number, planHash = 'a'.repeat(64)): EvaluationKeyBundle {
  const relin = new Uint8Array(size).fill(fill);
  return { planHash, keyId: hashParts([relin, new Uint8Array(), new Uint8Array()]), relin, galois: null, publicKey: null };
}

/** A single plan's key set: the public key only. */
function publicKeyBundle(size: number, fill: number, planHash = 'c'.repeat(64)): EvaluationKeyBundle {
  const publicKey = new Uint8Array(size).fill(fill);
  return { planHash, keyId: hashParts([new Uint8Array(), new Uint8Array(), publicKey]), relin: null, galois: null, publicKey };
}

/** A record as the previous release wrote it: relin and galois, record version 1. */
function versionOneRecord(planHash: string, keyId: string): Uint8Array {
  return encode({ format: 'cipherclinic/key-bundle', version: 1, planHash, keyId, relin: new Uint8Array(5000).fill(1), galois: new Uint8Array(3000).fill(2) });
}

describe('DiskKeyStore', () => {
  it('stores by id, idempotently, and gives the same bytes back', async () => {
    const { store } = await open();
    const b = bundle(1000, 7);
    expect((await store.put(b)).created).toBe(true);
    expect((await store.put(b)).created).toBe(false);
    const got = await store.get(b.planHash, b.keyId);
    expect(new Uint8Array(got!.bundle.relin!)).toEqual(b.relin);
    expect(got?.bundle.galois).toBeNull();
    expect(got?.bundle.publicKey).toBeNull();
    expect(await store.get(b.planHash, 'f'.repeat(64))).toBeUndefined();
    expect(await store.get(b.planHash, '../../etc/passwd')).toBeUndefined();
    await store.close();
  });

  it('forgets keys past their expiry, and a re-registration extends it', async () => {
    const { dir, store } = await open(10_000_000, 60);
    const b = bundle(1000, 1);
    await store.put(b);
    const file = join(dir, `${b.planHash}.${b.keyId}.keys`);
    const old = (Date.now() - 120_000) / 1000;
    await utimes(file, old, old);
    expect(await store.get(b.planHash, b.keyId)).toBeUndefined();
    expect(await readdir(dir)).toEqual([]);
    await store.put(b);
    expect(await store.get(b.planHash, b.keyId)).toBeDefined();
    await store.close();
  });

  it('drops the least recently registered keys past the size bound', async () => {
    const { store } = await open(2500);
    const [a, b, c] = [bundle(1000, 1), bundle(1000, 2), bundle(1000, 3)];
    await store.put(a);
    await new Promise((r) => setTimeout(r, 20));
    await store.put(b);
    await new Promise((r) => setTimeout(r, 20));
    await store.put(c);
    expect(await store.get(a.planHash, a.keyId)).toBeUndefined();
    expect(await store.get(b.planHash, b.keyId)).toBeDefined();
    expect(await store.get(c.planHash, c.keyId)).toBeDefined();
    await expect(store.put(bundle(3000, 4))).rejects.toThrow(/at most 2500/);
    await store.close();
  });

  it('creates a bundle once when registrations of it race, and leaves no temporary file', async () => {
    const { dir, store } = await open();
    const b = bundle(50_000, 3);
    const receipts = await Promise.all(Array.from({ length: 12 }, () => store.put(b)));
    expect(receipts.filter((r) => r.created)).toHaveLength(1);
    expect(await readdir(dir)).toEqual([`${b.planHash}.${b.keyId}.keys`]);
    // A second process on the same folder (another store object) finds it made.
    const other = await DiskKeyStore.open(dir, { maxBytes: 10_000_000, ttlSeconds: 3600 });
    expect((await other.put(b)).created).toBe(false);
    await other.close();
    await store.close();
  });

  it('binds keys to one plan: the same bytes for two plans are two registrations', async () => {
    const { dir, store } = await open();
    const a = bundle(1000, 6, 'a'.repeat(64));
    const b = bundle(1000, 6, 'b'.repeat(64));
    expect(a.keyId).toBe(b.keyId);
    expect((await store.put(a)).created).toBe(true);
    expect((await store.put(b)).created).toBe(true);
    expect((await store.get(a.planHash, a.keyId))?.bundle.planHash).toBe(a.planHash);
    expect((await store.get(b.planHash, b.keyId))?.bundle.planHash).toBe(b.planHash);
    expect(await store.get('c'.repeat(64), a.keyId)).toBeUndefined();
    // After a restart, still two.
    await store.close();
    const again = await DiskKeyStore.open(dir, { maxBytes: 10_000_000, ttlSeconds: 3600 });
    expect((await again.get(b.planHash, b.keyId))?.bundle.planHash).toBe(b.planHash);
    expect((await again.get(a.planHash, a.keyId))?.bundle.planHash).toBe(a.planHash);
    await again.close();
  });

  it('adopts files of the older <keyId>.keys layout under their plan', async () => {
    const { dir, store } = await open();
    const b = bundle(1000, 8);
    await store.put(b);
    await store.close();
    await rename(join(dir, `${b.planHash}.${b.keyId}.keys`), join(dir, `${b.keyId}.keys`));
    const again = await DiskKeyStore.open(dir, { maxBytes: 10_000_000, ttlSeconds: 3600 });
    expect(new Uint8Array((await again.get(b.planHash, b.keyId))!.bundle.relin!)).toEqual(b.relin);
    await again.close();
  });

  it('stores a public-key-only set and gives each field back as it was', async () => {
    const { store } = await open();
    const b = publicKeyBundle(66_000, 4);
    expect((await store.put(b)).created).toBe(true);
    const got = (await store.get(b.planHash, b.keyId))!.bundle;
    expect(got.relin).toBeNull();
    expect(got.galois).toBeNull();
    expect(new Uint8Array(got.publicKey!)).toEqual(b.publicKey);
    expect(keyRecordFromBytes(keyRecordToBytes(b))).toEqual(b);
    await store.close();
  });

  it('drops records of the older version on its sweep and on a read, saying so in its log', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cc-keys-'));
    dirs.push(dir);
    const [plan, oldId, otherId] = ['d'.repeat(64), 'e'.repeat(64), 'f'.repeat(64)];
    await writeFile(join(dir, `${plan}.${oldId}.keys`), versionOneRecord(plan, oldId));
    const current = publicKeyBundle(1000, 3, plan);
    await writeFile(join(dir, `${plan}.${current.keyId}.keys`), keyRecordToBytes(current));
    const logged: { fields: Record<string, unknown>; message: string }[] = [];
    const store = await DiskKeyStore.open(dir, { maxBytes: 10_000_000, ttlSeconds: 3600, dropped: (fields, message) => void logged.push({ fields, message }) });
    expect(await readdir(dir)).toEqual([`${plan}.${current.keyId}.keys`]);
    expect(logged).toEqual([{ fields: { planHash: plan, keyId: oldId }, message: expect.stringMatching(/older record version/) }]);
    expect(new Uint8Array((await store.get(plan, current.keyId))!.bundle.publicKey!)).toEqual(current.publicKey);

    // One written after the sweep (another process of the previous release) is dropped when read.
    await writeFile(join(dir, `${plan}.${otherId}.keys`), versionOneRecord(plan, otherId));
    expect(await store.get(plan, otherId)).toBeUndefined();
    expect(logged[1]).toEqual({ fields: { planHash: plan, keyId: otherId, version: 1 }, message: expect.stringMatching(/record version 1/) });
    expect(await readdir(dir)).toEqual([`${plan}.${current.keyId}.keys`]);
    await store.close();
  });

  it('says it can take writes when it can', async () => {
    const { dir, store } = await open();
    expect(await store.writeProblem()).toBeUndefined();
    expect(await readdir(dir)).toEqual([]);
    await store.close();
  });

  it('treats a damaged file as unknown keys', async () => {
    const { dir, store } = await open();
    const b = bundle(100, 9);
    await store.put(b);
    await writeFile(join(dir, `${b.planHash}.${b.keyId}.keys`), 'not msgpack of a bundle');
    expect(await store.get(b.planHash, b.keyId)).toBeUndefined();
    await store.close();
  });
});

describe('CachedKeyStore', () => {
  it('serves hits from memory as shared bytes', async () => {
    const { dir, store } = await open();
    const cached = new CachedKeyStore(store, 1_000_000);
    const b = bundle(1000, 5);
    await cached.put(b);
    await rm(join(dir, `${b.planHash}.${b.keyId}.keys`));
    const hit = await cached.get(b.planHash, b.keyId);
    expect(hit?.bundle.relin!.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(new Uint8Array(hit!.bundle.relin!)).toEqual(b.relin);
    await cached.close();
  });

  it('shares a public key and leaves absent keys absent', async () => {
    const { store } = await open();
    const cached = new CachedKeyStore(store, 1_000_000);
    const b = publicKeyBundle(2000, 6);
    await cached.put(b);
    const hit = (await cached.get(b.planHash, b.keyId))!.bundle;
    expect(hit.publicKey!.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(new Uint8Array(hit.publicKey!)).toEqual(b.publicKey);
    expect([hit.relin, hit.galois]).toEqual([null, null]);
    await cached.close();
  });
});

describe('RedisKeyStore', () => {
  it('gives a public-key-only set back, and ignores a record of the older version, saying so in its log', async () => {
    const server = await startRedis();
    const redis = connectRedis(server.url);
    try {
      await redisReady(redis);
      const logged: { fields: Record<string, unknown>; message: string }[] = [];
      const store = new RedisKeyStore(redis, { ttlSeconds: 600, maxBytes: 10_000_000, dropped: (fields, message) => void logged.push({ fields, message }) });
      const b = publicKeyBundle(5000, 2);
      expect((await store.put(b)).created).toBe(true);
      const got = (await store.get(b.planHash, b.keyId))!.bundle;
      expect([got.relin, got.galois]).toEqual([null, null]);
      expect(new Uint8Array(got.publicKey!)).toEqual(b.publicKey);

      const [plan, oldId] = ['d'.repeat(64), 'e'.repeat(64)];
      await redis.set(`${KEY_PREFIX}keys:${plan}.${oldId}`, Buffer.from(versionOneRecord(plan, oldId)), 'EX', 600);
      expect(await store.get(plan, oldId)).toBeUndefined();
      expect(logged).toEqual([{ fields: { planHash: plan, keyId: oldId, version: 1 }, message: expect.stringMatching(/record version 1/) }]);
      await store.close();
    } finally {
      redis.disconnect();
      await server.dispose();
    }
  });
});
