/**
 * Server benchmark over loopback HTTP, Framingham model (docs/server.md explains the figures):
 * - latency, single-record layout, end to end: client encryption + request (upload, evaluation
 *   on the pool, download) + decryption, one request at a time: p50 and p95;
 * - throughput, batch layout, full inputs (4096 records) encrypted once and replayed, at
 *   concurrency 1 and 4, with pools of 1 and 2 workers: records per second, the ratio the
 *   second worker buys, and the CPU each request costs in the server's event loop, its worker
 *   threads, V8's helper threads, and this client (from which the ratio an otherwise idle
 *   machine allows follows: the benchmark shares the cores with whatever else runs).
 * The server runs as `npm start` runs it, in its own process (`cipherclinic serve`); its CPU per
 * thread is read from /proc (Linux).
 * Prints a table and writes bench/server-results.json.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HeClient, parsePlan, type LayoutName } from '../src/core/he/index.ts';
import type { ModelCard } from '../src/core/model/card.ts';
import { parseModel, type TernaryModel } from '../src/core/model/format.ts';
import { referenceScore } from '../src/core/model/reference.ts';
import { API, decodeMessage, encodeMessage, inputToWire, keysToWire, resultFromWire } from '../src/core/protocol/index.ts';
import { freePort } from '../tests/support/services.ts';
import { agent, post } from './http.ts';
import { randomRecords } from './records.ts';

const MODEL = process.env.BENCH_MODEL ?? 'framingham-chd';
const LATENCY_RUNS = Number(process.env.BENCH_LATENCY_RUNS ?? 100);
const THROUGHPUT_REQUESTS = Number(process.env.BENCH_THROUGHPUT_REQUESTS ?? 400);
const MODELS = fileURLToPath(new URL('../models/', import.meta.url));

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;


interface ServerUnderTest {
  url: string;
  pid: number;
}


/** The server as `npm start` runs it, in its own process, with the benchmark model only. */
async function withServer<T>(workers: number, run: (server: ServerUnderTest) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'cc-bench-'));
  await copyFile(join(MODELS, `${MODEL}.json`), join(dir, `${MODEL}.json`));
  const port = await freePort();
  const env = { ...process.env, HOST: '127.0.0.1', PORT: String(port), CIPHERCLINIC_MODELS_DIR: dir, CIPHERCLINIC_DATA_DIR: join(dir, 'data'), CIPHERCLINIC_STATIC_DIR: join(dir, 'none'), CIPHERCLINIC_WORKERS: String(workers), CIPHERCLINIC_MAX_QUEUE: '64', CIPHERCLINIC_RATE_LIMIT: '0', CIPHERCLINIC_LOG_LEVEL: 'warn' };
  const child = spawn(process.execPath, [fileURLToPath(new URL('../bin/cipherclinic.mjs', import.meta.url)), 'serve'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let tries = 0; ; tries++) {
      const ready = await fetch(url + API.ready).then((r) => r.ok, () => false);
      if (ready) break;
      if (tries > 300 || child.exitCode !== null) throw new Error('the server did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
    return await run({ url, pid: child.pid! });
  } finally {
    child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
}

/** CPU ms so far of each kind of thread in a process, by thread name (Linux /proc; {} elsewhere). */
function threadCpuMs(pid: number): Record<string, number> {
  const byName: Record<string, number> = {};
  const tick = 1000 / 100; // USER_HZ
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      byName[name] = (byName[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) * tick;
    }
  } catch {
    // Not Linux, or a thread ended while being read: the split is left out.
  }
  return byName;
}

/** A client with registered keys for a layout. */
async function connect(server: ServerUnderTest, layout: LayoutName): Promise<{ client: HeClient; keyId: string; card: ModelCard }> {
  const card = (await (await fetch(server.url + API.model(MODEL))).json()) as ModelCard;
  const client = await HeClient.create(parsePlan(card.plans[layout]));
  const bundle = client.evaluationKeys();
  await post(server.url + API.keys, encodeMessage(keysToWire(bundle, card.modelHash)));
  return { client, keyId: bundle.keyId, card };
}

async function latency(model: TernaryModel) {
  return withServer(2, async (server) => {
    const { client, keyId } = await connect(server, 'single');
    const url = server.url + API.classify(MODEL);
    const stages = { encryptMs: [] as number[], requestMs: [] as number[], decryptMs: [] as number[], totalMs: [] as number[] };
    try {
      for (let r = -10; r < LATENCY_RUNS; r++) {
        const [record] = randomRecords(model, 1);
        const t0 = performance.now();
        const body = encodeMessage(inputToWire(client.encryptRecord(record!), keyId));
        const t1 = performance.now();
        const answer = await post(url, body);
        const t2 = performance.now();
        const [score] = client.decryptScores(resultFromWire(decodeMessage(answer, 'result')));
        const t3 = performance.now();
        if (score !== referenceScore(model, record!)) throw new Error('a decrypted score differs from the reference');
        if (r < 0) continue; // warm-up
        stages.encryptMs.push(t1 - t0);
        stages.requestMs.push(t2 - t1);
        stages.decryptMs.push(t3 - t2);
        stages.totalMs.push(t3 - t0);
      }
    } finally {
      client.dispose();
    }
    return { runs: LATENCY_RUNS, p50Ms: percentile(stages.totalMs, 50), p95Ms: percentile(stages.totalMs, 95), meanEncryptMs: mean(stages.encryptMs), meanRequestMs: mean(stages.requestMs), meanDecryptMs: mean(stages.decryptMs) };
  });
}

async function throughput(model: TernaryModel, workers: number, concurrencies: number[]) {
  return withServer(workers, async (server) => {
    const { client, keyId } = await connect(server, 'batch');
    const n = client.plan.recordsPerInput;
    const bodies = [0, 1, 2, 3].map(() => encodeMessage(inputToWire(client.encryptBatch(randomRecords(model, n)), keyId)));
    const url = server.url + API.classify(MODEL);
    client.dispose();
    for (let i = 0; i < 20 * workers; i++) await post(url, bodies[i % bodies.length]!); // warm every worker (JIT, heap sizing)
    const rows = [];
    for (const concurrency of concurrencies) {
      let sent = 0;
      const server0 = threadCpuMs(server.pid);
      const client0 = process.cpuUsage();
      const t0 = performance.now();
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (sent < THROUGHPUT_REQUESTS) await post(url, bodies[sent++ % bodies.length]!);
      }));
      const seconds = (performance.now() - t0) / 1000;
      const client = process.cpuUsage(client0);
      const server1 = threadCpuMs(server.pid);
      // CPU per request, by where it ran: the server's event loop (MainThread), its pool
      // (WorkerThread), V8's helper threads (V8Worker: concurrent GC), and this client.
      const perRequest = (name: string) => ((server1[name] ?? 0) - (server0[name] ?? 0)) / THROUGHPUT_REQUESTS;
      const cpuMs = { eventLoop: perRequest('MainThread'), workers: perRequest('WorkerThread'), v8Helpers: perRequest('V8Worker'), client: (client.user + client.system) / 1000 / THROUGHPUT_REQUESTS };
      rows.push({ workers, concurrency, requests: THROUGHPUT_REQUESTS, recordsPerRequest: n, recordsPerSecond: (THROUGHPUT_REQUESTS * n) / seconds, uploadBytes: bodies[0]!.length, cpuMs });
    }
    return rows;
  });
}

async function main() {
  const model = parseModel(JSON.parse(await readFile(join(MODELS, `${MODEL}.json`), 'utf8')));
  const single = await latency(model);
  console.error('latency: done');
  const batch = [...(await throughput(model, 1, [1, 4])), ...(await throughput(model, 2, [1, 4]))];
  console.error('throughput: done');
  const row = (w: number, c: number) => batch.find((r) => r.workers === w && r.concurrency === c)!;
  const scaling = row(2, 4).recordsPerSecond / row(1, 4).recordsPerSecond;
  // What the CPU cost per request allows on an otherwise idle machine of this many cores: a
  // worker is busy E ms per request, the event loop M ms, V8's helpers and the client H ms more
  // anywhere; all of it shares the cores.
  const cores = cpus().length;
  const bound = (w: number, c: (typeof batch)[number]['cpuMs']) => Math.min(w / c.workers, cores / (c.workers + c.eventLoop + c.v8Helpers + c.client), 1 / c.eventLoop);
  const r1 = row(1, 4);
  const expectedScaling = bound(2, r1.cpuMs) / bound(1, r1.cpuMs);
  // The same with a load generator that cost nothing (on another machine): the server's own share.
  const serverOnly = { ...r1.cpuMs, client: 0 };
  const expectedScalingServerOnly = bound(2, serverOnly) / bound(1, serverOnly);
  const load = loadavg().map((x) => x.toFixed(1)).join(' ');

  console.log(`model ${MODEL}, loopback HTTP, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model}`);
  console.log(`single record, end to end (${single.runs} runs): p50 ${single.p50Ms.toFixed(1)} ms, p95 ${single.p95Ms.toFixed(1)} ms ` + `(mean: encrypt ${single.meanEncryptMs.toFixed(1)} ms, request ${single.meanRequestMs.toFixed(1)} ms, decrypt ${single.meanDecryptMs.toFixed(1)} ms)`);
  const header = ['workers', 'concurrency', 'records/request', 'records/s', 'upload KiB/request', 'CPU ms/req: workers', 'event loop', 'V8 helpers', 'client'];
  const rows = batch.map((r) => [String(r.workers), String(r.concurrency), String(r.recordsPerRequest), r.recordsPerSecond.toFixed(0), (r.uploadBytes / 1024).toFixed(0), r.cpuMs.workers.toFixed(2), r.cpuMs.eventLoop.toFixed(2), r.cpuMs.v8Helpers.toFixed(2), r.cpuMs.client.toFixed(2)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  console.log([header, ...rows].map((r) => r.map((c, i) => c.padStart(widths[i]!)).join('  ')).join('\n'));
  console.log(`batch throughput, 2 workers / 1 worker at concurrency 4: ${scaling.toFixed(2)}× measured; ${expectedScaling.toFixed(2)}× what the CPU per request allows on ${cores} idle cores; ${expectedScalingServerOnly.toFixed(2)}× with the client's share removed`);
  console.log(`load average at the end: ${load} (other processes on this machine share its cores)`);

  const out = { machine: { cpu: cpus()[0]?.model, cores, node: process.version, loadAverage: loadavg() }, date: new Date().toISOString(), model: MODEL, single, batch, scaling, expectedScaling, expectedScalingServerOnly };
  await writeFile(new URL('./server-results.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
  console.log('wrote bench/server-results.json');
  agent.destroy();
}

await main();
