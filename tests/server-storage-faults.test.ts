/**
 * Storage faults of the key store (<dataDir>/keys), made real: the server runs in its own user
 * and mount namespace on a small tmpfs that is full (ENOSPC) or read-only (EROFS). New keys
 * answer 507 storage_full or 503 storage_unavailable with Retry-After and the protocol's JSON
 * error, never 500; nothing partial (*.tmp) is left; readiness says the store cannot take writes;
 * keys already stored still serve.
 */
import { mkdir, mkdtemp, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceScore } from '../src/core/model/reference.ts';
import { IndependentClient, postMsgpack, type HttpAnswer } from './support/independent-client.ts';
import { filesSeenBy, namespaceUnavailable, pathSeenBy, tmpfsLaunch } from './support/namespace.ts';
import { modelsDir } from './support/server-harness.ts';
import { spawnServer, type ServerProcess } from './support/server-process.ts';
import { randomRecords, syntheticModel } from './support/synthetic.ts';

const model = syntheticModel(12, 8, 7, 'model-a');
const unavailable = namespaceUnavailable();
if (unavailable) console.warn(`storage fault tests skipped: ${unavailable}`);

let root: string;
let modelDir: string;
const servers: ServerProcess[] = [];
const clients: IndependentClient[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cc-faults-'));
  modelDir = await modelsDir([model]);
});

afterAll(async () => {
  clients.forEach((c) => c.dispose());
  await Promise.all(servers.map((s) => s.stop()));
  await rm(root, { recursive: true, force: true });
  await rm(modelDir, { recursive: true, force: true });
});

async function start(dataDir: string, launch?: Parameters<typeof tmpfsLaunch>[0]): Promise<ServerProcess> {
  await mkdir(dataDir, { recursive: true });
  const server = await spawnServer({ modelDirs: [modelDir], dataDir, workers: 1 }, launch ? { launch: tmpfsLaunch(launch) } : {});
  servers.push(server);
  return server;
}

async function client(server: ServerProcess, layout: 'batch' | 'single'): Promise<IndependentClient> {
  const c = await IndependentClient.connect(server.url, 'model-a', layout);
  clients.push(c);
  return c;
}

function expectStorageRefusal(a: HttpAnswer, status: number, code: string): void {
  expect(a.status, JSON.stringify(a.json)).toBe(status);
  expect(a.json?.protocol).toBe(2);
  expect(a.json?.error?.code).toBe(code);
  expect(a.json?.error?.message).toMatch(/key store/);
  expect(Number(a.headers.get('retry-after')), 'Retry-After').toBeGreaterThan(0);
}

async function expectNotReady(server: ServerProcess): Promise<void> {
  const res = await fetch(`${server.url}/api/ready`);
  const body = (await res.json()) as { ready: boolean; reason?: string };
  expect(res.status, JSON.stringify(body)).toBe(503);
  expect(body.ready).toBe(false);
  expect(body.reason).toMatch(/key store/);
}

async function tmpFilesIn(server: ServerProcess, keysDir: string): Promise<string[]> {
  return (await filesSeenBy(server.pid, keysDir)).filter((n) => n.endsWith('.tmp'));
}

describe.skipIf(unavailable !== undefined)('a full key store', () => {
  let server: ServerProcess;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = join(root, 'full');
    // 8 MiB of tmpfs, filled but for 16 KiB: a key set (hundreds of KiB to MiB) cannot fit.
    server = await start(dataDir, { dir: dataDir, sizeKiB: 8192, leaveKiB: 16 });
  }, 120_000);

  it('answers new keys with 507 storage_full and Retry-After, and leaves no temporary files', async () => {
    for (const layout of ['batch', 'single'] as const) {
      const c = await client(server, layout);
      for (let i = 0; i < 3; i++) expectStorageRefusal(await postMsgpack(`${server.url}/api/keys`, c.keysMessage()), 507, 'storage_full');
    }
    // Several at once.
    const c = await client(server, 'batch');
    const answers = await Promise.all(Array.from({ length: 4 }, () => postMsgpack(`${server.url}/api/keys`, c.keysMessage())));
    for (const a of answers) expectStorageRefusal(a, 507, 'storage_full');
    expect(await tmpFilesIn(server, join(dataDir, 'keys'))).toEqual([]);
  }, 60_000);

  it('reports not ready while the store cannot take writes', async () => {
    await expectNotReady(server);
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
  });

  it('takes keys again once there is room, and says ready', async () => {
    await truncate(pathSeenBy(server.pid, join(dataDir, 'filler')), 0);
    const c = await client(server, 'batch');
    const registered = await c.registerKeys();
    expect(registered.status, JSON.stringify(registered.json)).toBe(201);
    const records = randomRecords(model, 3, 8);
    expect(await c.classify(records)).toEqual(records.map((q) => referenceScore(model, q)));
    let ready = 0;
    for (let i = 0; i < 20 && (ready = (await fetch(`${server.url}/api/ready`)).status) !== 200; i++) await new Promise((r) => setTimeout(r, 250));
    expect(ready).toBe(200);
    expect(await tmpFilesIn(server, join(dataDir, 'keys'))).toEqual([]);
  }, 60_000);
});

describe.skipIf(unavailable !== undefined)('a read-only key store', () => {
  let server: ServerProcess;
  let dataDir: string;
  let stored: IndependentClient;
  let storedKeys: ReturnType<IndependentClient['keysMessage']>;

  beforeAll(async () => {
    // Keys stored by a server on a writable folder, then served read-only from a copy.
    const seed = join(root, 'seed');
    const first = await start(seed);
    stored = await client(first, 'batch');
    storedKeys = stored.keysMessage();
    expect((await postMsgpack(`${first.url}/api/keys`, storedKeys)).status).toBe(201);
    stored.keyId = storedKeys.keyId;
    await first.stop();
    dataDir = join(root, 'read-only');
    server = await start(dataDir, { dir: dataDir, sizeKiB: 16384, seedFrom: seed, readOnly: true });
  }, 120_000);

  it('answers new keys with 503 storage_unavailable and Retry-After, never 500', async () => {
    for (const layout of ['batch', 'single'] as const) {
      const c = await client(server, layout);
      expectStorageRefusal(await postMsgpack(`${server.url}/api/keys`, c.keysMessage()), 503, 'storage_unavailable');
    }
    expect(await tmpFilesIn(server, join(dataDir, 'keys'))).toEqual([]);
  }, 60_000);

  it('answers keys already stored with 200 (or 503), never 500, and still classifies with them', async () => {
    const again = await postMsgpack(`${server.url}/api/keys`, storedKeys);
    expect([200, 503], JSON.stringify(again.json)).toContain(again.status);
    if (again.status === 503) expectStorageRefusal(again, 503, 'storage_unavailable');
    const records = randomRecords(model, 4, 12);
    const answer = await postMsgpack(`${server.url}/api/models/model-a/classify`, stored.classifyMessage(records));
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    expect(stored.decrypt(answer.message)).toEqual(records.map((q) => referenceScore(model, q)));
  }, 60_000);

  it('reports not ready while the store cannot take writes', async () => {
    await expectNotReady(server);
  });
});
