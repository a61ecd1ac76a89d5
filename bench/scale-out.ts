/**
 * Scale-out benchmark, in one run (docs/server.md, "Several instances behind nginx"):
 * - one instance on the embedded stores, against two instances sharing Redis behind nginx with
 *   the shipped site config: single-record request latency (p50, p95; inputs encrypted once,
 *   so only the service and the path to it are timed) and batch throughput (4096-record inputs
 *   at concurrency 4);
 * - the shared store's own cost per request, timed in this process against the same Redis:
 *   an uncached key-set read (what an instance pays the first time it sees a patient's keys)
 *   and the idempotent-answer bookkeeping of one classify (take, store), beside the embedded
 *   stores doing the same.
 * Each server runs as `npm start` runs it, in its own process. Prints a table and writes
 * bench/scale-out-results.json. Needs Debian's redis-server and nginx (as the tests do).
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HeClient, keyBytesOf, parsePlan, type LayoutName } from '../src/core/he/index.ts';
import type { ModelCard } from '../src/core/model/card.ts';
import { parseModel } from '../src/core/model/format.ts';
import { API, encodeMessage, inputToWire, keysToWire } from '../src/core/protocol/index.ts';
import { LocalAnswers } from '../src/server/idempotency/index.ts';
import { RedisAnswers } from '../src/server/idempotency/redis.ts';
import { DiskKeyStore } from '../src/server/keys/disk.ts';
import { RedisKeyStore } from '../src/server/keys/redis.ts';
import { connectRedis, redisReady } from '../src/server/shared/redis.ts';
import { freePort, startNginx, startRedis } from '../tests/support/services.ts';
import { agent, post } from './http.ts';
import { randomRecords } from './records.ts';

const MODEL = process.env.BENCH_MODEL ?? 'framingham-chd';
const LATENCY_RUNS = Number(process.env.BENCH_LATENCY_RUNS ?? 200);
const BATCH_REQUESTS = Number(process.env.BENCH_THROUGHPUT_REQUESTS ?? 120);
const STORE_RUNS = Number(process.env.BENCH_STORE_RUNS ?? 200);
const MODELS = fileURLToPath(new URL('../models/', import.meta.url));

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

/** `cipherclinic serve` in its own process; resolves once ready. */
async function serve(dir: string, name: string, env: Record<string, string>): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [fileURLToPath(new URL('../bin/cipherclinic.mjs', import.meta.url)), 'serve'], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), CIPHERCLINIC_MODELS_DIR: dir, CIPHERCLINIC_DATA_DIR: join(dir, name), CIPHERCLINIC_STATIC_DIR: join(dir, 'none'), CIPHERCLINIC_WORKERS: '1', CIPHERCLINIC_MAX_QUEUE: '64', CIPHERCLINIC_RATE_LIMIT: '0', CIPHERCLINIC_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while ((await fetch(url + API.ready).catch(() => null))?.status !== 200) {
    if (Date.now() > deadline) throw new Error(`${name} did not become ready`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, stop: () => new Promise<void>((resolve) => (child.once('exit', () => resolve()), child.kill('SIGTERM'))) };
}

async function clientFor(base: string, layout: LayoutName): Promise<{ client: HeClient; keyId: string; card: ModelCard }> {
  const card = (await (await fetch(base + API.model(MODEL))).json()) as ModelCard;
  const client = await HeClient.create(parsePlan(card.plans[layout]));
  const bundle = client.evaluationKeys();
  await post(base + API.keys, encodeMessage(keysToWire(bundle, card.modelHash)));
  return { client, keyId: bundle.keyId, card };
}

/** Request latency of replayed single inputs, then batch throughput at concurrency 4. */
async function measure(base: string) {
  const model = parseModel(JSON.parse(await readFile(join(MODELS, `${MODEL}.json`), 'utf8')));
  const single = await clientFor(base, 'single');
  const singles = Array.from({ length: 8 }, () => encodeMessage(inputToWire(single.client.encryptRecords(randomRecords(model, 1))[0]!, single.keyId)));
  const url = base + API.classify(MODEL);
  for (let i = 0; i < 20; i++) await post(url, singles[i % singles.length]!);
  const ms: number[] = [];
  for (let i = 0; i < LATENCY_RUNS; i++) {
    const t0 = performance.now();
    await post(url, singles[i % singles.length]!);
    ms.push(performance.now() - t0);
  }
  const batch = await clientFor(base, 'batch');
  const inputs = Array.from({ length: 4 }, () => encodeMessage(inputToWire(batch.client.encryptRecords(randomRecords(model, 4096))[0]!, batch.keyId)));
  for (const body of inputs) await post(url, body);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < BATCH_REQUESTS) await post(url, inputs[next++ % inputs.length]!);
  }));
  const seconds = (performance.now() - t0) / 1000;
  single.client.dispose();
  batch.client.dispose();
  return { singleP50Ms: percentile(ms, 50), singleP95Ms: percentile(ms, 95), batchRecordsPerSecond: Math.round((BATCH_REQUESTS * 4096) / seconds) };
}

/** p50 and p95 of `STORE_RUNS` calls of `op`, in ms. */
async function timeOp(op: (i: number) => Promise<unknown>) {
  const ms: number[] = [];
  for (let i = 0; i < STORE_RUNS + 10; i++) {
    const t0 = performance.now();
    await op(i);
    if (i >= 10) ms.push(performance.now() - t0);
  }
  return { p50Ms: percentile(ms, 50), p95Ms: percentile(ms, 95) };
}

async function storeCosts(redisUrl: string, dir: string) {
  const redis = connectRedis(redisUrl);
  await redisReady(redis);
  // A real key set of the single layout (its public key).
  const sampleCard = JSON.parse(await readFile(join(dir, 'card.json'), 'utf8')) as ModelCard;
  const he = await HeClient.create(parsePlan(sampleCard.plans.single));
  const bundle = he.evaluationKeys();
  const redisKeys = new RedisKeyStore(redis, { ttlSeconds: 3600, maxBytes: 1 << 30 });
  const disk = await DiskKeyStore.open(join(dir, 'disk-keys'), { maxBytes: 1 << 30, ttlSeconds: 3600 });
  await redisKeys.put(bundle);
  await disk.put(bundle);
  const answer = new Uint8Array(32 * 1024);
  const body = new Uint8Array(30 * 1024);
  const redisAnswers = new RedisAnswers(redis, { waitMs: 5000 });
  const localAnswers = new LocalAnswers();
  const result = {
    keySetBytes: keyBytesOf(bundle),
    keyReadRedis: await timeOp(() => redisKeys.get(bundle.planHash, bundle.keyId)),
    keyReadDisk: await timeOp(() => disk.get(bundle.planHash, bundle.keyId)),
    answerRedis: await timeOp((i) => redisAnswers.answer(MODEL, `bench-${i}`, body, async () => answer)),
    answerLocal: await timeOp((i) => localAnswers.answer(MODEL, `bench-${i}`, body, async () => answer)),
  };
  he.dispose();
  await disk.close();
  await redis.quit();
  return result;
}

const dir = await mkdtemp(join(tmpdir(), 'cc-scale-bench-'));
await copyFile(join(MODELS, `${MODEL}.json`), join(dir, `${MODEL}.json`));
const redis = await startRedis();
try {
  const one = await serve(dir, 'one', {});
  await writeFile(join(dir, 'card.json'), JSON.stringify(await (await fetch(one.url + API.model(MODEL))).json()));
  const oneInstance = await measure(one.url);
  await one.stop();
  const shared = { CIPHERCLINIC_REDIS_URL: redis.url, CIPHERCLINIC_TRUST_PROXY: 'true' };
  const [a, b] = await Promise.all([serve(dir, 'a', shared), serve(dir, 'b', shared)]);
  const nginx = await startNginx([new URL(a.url).host, new URL(b.url).host]);
  const twoBehindNginx = await measure(nginx.url);
  await nginx.dispose();
  await Promise.all([a.stop(), b.stop()]);
  const store = await storeCosts(redis.url, dir);
  const results = { model: MODEL, machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version }, oneInstanceLocalStore: oneInstance, twoInstancesRedisNginx: twoBehindNginx, sharedStorePerRequest: store };
  const f = (x: number) => x.toFixed(2);
  console.log(`\nScale-out (${MODEL}, ${cpus().length} cores; every process on this machine)\n`);
  console.log('| setup | single p50 ms | single p95 ms | batch records/s |');
  console.log('|---|---|---|---|');
  console.log(`| 1 instance, embedded stores | ${f(oneInstance.singleP50Ms)} | ${f(oneInstance.singleP95Ms)} | ${oneInstance.batchRecordsPerSecond} |`);
  console.log(`| nginx + 2 instances, Redis | ${f(twoBehindNginx.singleP50Ms)} | ${f(twoBehindNginx.singleP95Ms)} | ${twoBehindNginx.batchRecordsPerSecond} |`);
  console.log(`\nShared store per request (${STORE_RUNS} runs; key set ${(store.keySetBytes / 2 ** 20).toFixed(2)} MiB)\n`);
  console.log('| operation | embedded p50 / p95 ms | Redis p50 / p95 ms |');
  console.log('|---|---|---|');
  console.log(`| read a key set not yet cached | ${f(store.keyReadDisk.p50Ms)} / ${f(store.keyReadDisk.p95Ms)} | ${f(store.keyReadRedis.p50Ms)} / ${f(store.keyReadRedis.p95Ms)} |`);
  console.log(`| idempotent answer: take and store | ${f(store.answerLocal.p50Ms)} / ${f(store.answerLocal.p95Ms)} | ${f(store.answerRedis.p50Ms)} / ${f(store.answerRedis.p95Ms)} |`);
  await writeFile(fileURLToPath(new URL('./scale-out-results.json', import.meta.url)), JSON.stringify(results, null, 2) + '\n');
} finally {
  await redis.dispose();
  await rm(dir, { recursive: true, force: true });
  agent.destroy();
}
