/**
 * Load: 1,000 requests at concurrency 16 against two workers and a queue of 12, deliberately
 * too short for 16 clients.
 * Every answer is a correct encrypted result or a deliberate 503 (busy, with Retry-After);
 * nothing else. The server's resident memory at the end is within 10% of what it was after the
 * first 100 requests: SEAL objects are freed and the WebAssembly heaps stop growing once warm.
 */
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseModel, type TernaryModel } from '../src/core/model/format.ts';
import { referenceScore } from '../src/core/model/reference.ts';
import { decodeMessage, encodeMessage, inputToWire, resultFromWire } from '../src/core/protocol/index.ts';
import { EngineClient } from './support/engine-client.ts';
import { DEFAULT_MODELS_DIR } from './support/server-harness.ts';
import { spawnServer, type ServerProcess } from './support/server-process.ts';
import { randomRecords } from './support/synthetic.ts';

const MODEL = 'framingham-chd';
const TOTAL = 1000;
const CONCURRENCY = 16;

let server: ServerProcess;
let model: TernaryModel;
let dir: string;
const clients: EngineClient[] = [];

interface Prepared {
  client: EngineClient;
  body: Uint8Array;
  expected: number[];
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cc-load-'));
  await copyFile(join(DEFAULT_MODELS_DIR, `${MODEL}.json`), join(dir, `${MODEL}.json`));
  model = parseModel(JSON.parse(await readFile(join(dir, `${MODEL}.json`), 'utf8')));
  // In its own process, so that its memory is measured alone, not with the test client's.
  server = await spawnServer({ modelDirs: [dir], dataDir: join(dir, 'data'), workers: 2, maxQueue: 12 });
}, 120_000);

afterAll(async () => {
  clients.forEach((c) => c.dispose());
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

it(`answers ${TOTAL} requests at concurrency ${CONCURRENCY} with results or deliberate 503s, in flat memory`, async () => {
  // Inputs are encrypted once and replayed: the server cannot tell, and the test stays fast.
  const prepared: Prepared[] = [];
  for (const layout of ['single', 'batch'] as const) {
    const client = await EngineClient.connect(server.url, MODEL, layout);
    clients.push(client);
    expect((await client.registerKeys()).status).toBe(201);
    const inputs = layout === 'single' ? 12 : 4;
    for (let i = 0; i < inputs; i++) {
      const records = randomRecords(model, layout === 'single' ? 1 : 64, 100 + i);
      const [input] = client.he.encryptRecords(records);
      prepared.push({ client, body: encodeMessage(inputToWire(input!, client.keyId)), expected: records.map((q) => referenceScore(model, q)) });
    }
  }

  // Warm-up, outside the count (20 rounds at full concurrency): JIT, V8's heap sizing and the
  // first touches of the WebAssembly heaps' pages settle here, so that the baseline after 100
  // measures a warm server. (Measured: the WebAssembly and worker heaps are flat from the first
  // tasks on; the main thread's V8 heap capacity and malloc arenas grow for a few hundred.)
  for (let round = 0; round < 20; round++) {
    await Promise.all(prepared.slice(0, CONCURRENCY).map((job) => fetch(`${server.url}/api/models/${MODEL}/classify`, { method: 'POST', headers: { 'content-type': 'application/msgpack' }, body: job.body }).then((r) => r.arrayBuffer())));
  }

  const counts = { ok: 0, busy: 0, other: [] as string[] };
  let started = 0;
  let done = 0;
  let rssAfter100 = 0;
  const samples: number[] = [];
  const worker = async () => {
    while (started < TOTAL) {
      const job = prepared[started++ % prepared.length]!;
      const res = await fetch(`${server.url}/api/models/${MODEL}/classify`, { method: 'POST', headers: { 'content-type': 'application/msgpack' }, body: job.body });
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (res.status === 200) {
        const scores = job.client.he.decryptScores(resultFromWire(decodeMessage(bytes, 'result')));
        if (JSON.stringify(scores) === JSON.stringify(job.expected)) counts.ok++;
        else counts.other.push('wrong scores');
      } else if (res.status === 503 && res.headers.get('retry-after') && JSON.parse(new TextDecoder().decode(bytes)).error.code === 'busy') {
        counts.busy++;
        await new Promise((r) => setTimeout(r, 250 + Math.random() * 250)); // a quarter to half of Retry-After, to keep the test quick
      } else {
        counts.other.push(`${res.status} ${new TextDecoder().decode(bytes).slice(0, 200)}`);
      }
      const count = ++done;
      if (count % 100 === 0) {
        const rss = await server.rssMiB();
        samples.push(Math.round(rss));
        if (count === 100) rssAfter100 = rss;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const rssEnd = await server.rssMiB();
  console.log(`load: ${counts.ok} ok, ${counts.busy} busy in ${seconds.toFixed(1)} s; RSS ${rssAfter100.toFixed(0)} MiB after 100, ${rssEnd.toFixed(0)} MiB at the end; every 100: ${samples.join(' ')}`);

  expect(counts.other).toEqual([]);
  expect(counts.ok + counts.busy).toBe(TOTAL);
  expect(counts.ok).toBeGreaterThan(TOTAL / 2);
  expect(rssEnd).toBeLessThanOrEqual(rssAfter100 * 1.1);
  expect((await fetch(`${server.url}/api/ready`)).status).toBe(200);
}, 300_000);
