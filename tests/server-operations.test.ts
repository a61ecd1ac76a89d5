/**
 * Operating the service: publishing a model behind the admin token (validated, compiled,
 * persisted across a restart), the per-client rate limit, CORS when configured, readiness, and
 * overload: a full queue and the time limit both answer 503 + Retry-After, and the server
 * recovers. A worker that evicted a key set loads it again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { encode } from '@msgpack/msgpack';
import { afterAll, describe, expect, it } from 'vitest';
import { sealModel } from '../src/core/model/format.ts';
import { referenceScore } from '../src/core/model/reference.ts';
import { EngineClient } from './support/engine-client.ts';
import { IndependentClient, postMsgpack } from './support/independent-client.ts';
import { modelsDir, startTestServer, type TestServer } from './support/server-harness.ts';
import { randomRecords, syntheticModel } from './support/synthetic.ts';

const TOKEN = 'test-admin-token-0123456789';
const running: TestServer[] = [];
const cleanup: string[] = [];

afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  await Promise.all(cleanup.map((d) => rm(d, { recursive: true, force: true })));
});

async function start(...args: Parameters<typeof startTestServer>): Promise<TestServer> {
  const s = await startTestServer(...args);
  running.push(s);
  return s;
}

const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as any, headers: res.headers });

describe('publishing a model', () => {
  it('needs the token, validates and compiles the model, and keeps it across a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cc-admin-'));
    cleanup.push(dataDir);
    const lines: string[] = [];
    const logStream = new Writable({ write: (chunk, _enc, done) => (lines.push(...String(chunk).split('\n').filter(Boolean)), done()) });
    const server = await start({ dataDir, adminToken: TOKEN, logLevel: 'info', modelDirs: [await modelsDir([syntheticModel(12, 8, 7, 'model-a')])] }, { logStream });
    const publish = (body: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }) =>
      fetch(`${server.url}/api/admin/models`, { method: 'POST', headers, body }).then(json);
    const model = syntheticModel(10, 6, 3, 'published-one');
    expect((await publish(JSON.stringify(model), { 'content-type': 'application/json' })).body.error.code).toBe('unauthorized');
    expect((await publish(JSON.stringify(model), { authorization: 'Bearer wrong-token-wrong-token', 'content-type': 'application/json' })).status).toBe(403);
    expect((await publish('{"format":"something else"}')).body.error.code).toBe('invalid_model');
    const { hash: _h, ...body } = syntheticModel(10, 6, 4, 'too-big');
    const huge = sealModel({ ...body, hidden: { ...body.hidden, alpha: body.hidden.alpha.map(() => 1_000_000) } });
    const refused = await publish(JSON.stringify(huge));
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('model_not_compilable');

    const first = await publish(JSON.stringify(model));
    expect(first.status).toBe(201);
    expect(first.body.modelHash).toBe(model.hash);
    expect((await publish(JSON.stringify(model))).status).toBe(200);
    const client = await EngineClient.connect(server.url, 'published-one', 'batch');
    await client.registerKeys();
    const records = randomRecords(model, 20);
    expect(await client.classify(records)).toEqual(records.map((q) => referenceScore(model, q)));
    client.dispose();

    // One JSON line per request, with no body, key, ciphertext or token in any of them.
    const requests = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
    expect(requests.length).toBeGreaterThanOrEqual(9);
    for (const r of requests) expect(Object.keys(r).sort()).toEqual(expect.arrayContaining(['method', 'route', 'status', 'ms', 'reqId']));
    const all = lines.join('\n');
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain(client.keyId.slice(0, 16));
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(1000);

    await server.close();
    const again = await start({ dataDir, modelDirs: [] });
    const card = await fetch(`${again.url}/api/models/published-one`).then(json);
    expect(card.status).toBe(200);
    expect(card.body.modelHash).toBe(model.hash);
  });
});

describe('limits and cross-origin rules', () => {
  it('applies CORS only to configured origins, rate-limits per client, and reports not ready without models', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'cc-empty-'));
    cleanup.push(empty);
    const server = await start({ modelDirs: [empty], workers: 1, rateLimitPerMinute: 4, corsOrigins: ['https://app.example'] });
    const preflight = (origin: string) => fetch(`${server.url}/api/models`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    expect((await preflight('https://app.example')).headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    const ready = await fetch(`${server.url}/api/ready`).then(json);
    expect(ready.status).toBe(503);
    expect(ready.body.reason).toMatch(/no model/);
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await fetch(`${server.url}/api/models`).then(json));
    const limited = answers.find((a) => a.status === 429)!;
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
  });
});

describe('the bounded queue and the time limit', () => {
  it('answers 503 busy or timeout with Retry-After when overloaded, then serves again', async () => {
    // One worker, ~100 ms per slow evaluation, room for two waiting tasks, 150 ms to answer:
    // a burst overflows the queue (busy) and queued tasks wait past the limit (timeout).
    const slow = syntheticModel(16, 128, 5, 'slow');
    const fast = syntheticModel(12, 8, 7, 'fast');
    const server = await start({ modelDirs: [await modelsDir([slow, fast])], workers: 1, maxQueue: 2, taskTimeoutMs: 150 });
    const slowClient = await IndependentClient.connect(server.url, 'slow', 'batch');
    const fastClient = await IndependentClient.connect(server.url, 'fast', 'batch');
    try {
      expect((await slowClient.registerKeys()).status).toBe(201);
      expect((await fastClient.registerKeys()).status).toBe(201);
      const records = randomRecords(slow, 50);
      const body = encode(slowClient.classifyMessage(records));
      const answers = await Promise.all(Array.from({ length: 24 }, () => postMsgpack(`${server.url}/api/models/slow/classify`, body)));
      const refused = answers.filter((a) => a.status === 503);
      const codes = new Set(refused.map((a) => a.json.error.code));
      expect(codes.has('busy'), [...codes].join()).toBe(true);
      expect(codes.has('timeout'), [...codes].join()).toBe(true);
      expect(refused.every((a) => a.headers.get('retry-after') === '1')).toBe(true);
      expect(answers.every((a) => a.status === 200 || a.status === 503)).toBe(true);
      for (const a of answers.filter((a) => a.status === 200)) expect(slowClient.decrypt(a.message)).toEqual(records.map((q) => referenceScore(slow, q)));
      // Skipped and finished tasks drain; the service answers correctly again.
      const few = randomRecords(fast, 3);
      let answer = answers[0]!;
      for (let i = 0; i < 20 && (answer = await postMsgpack(`${server.url}/api/models/fast/classify`, fastClient.classifyMessage(few))).status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(answer.status).toBe(200);
      expect(fastClient.decrypt(answer.message)).toEqual(few.map((q) => referenceScore(fast, q)));
    } finally {
      slowClient.dispose();
      fastClient.dispose();
    }
  });
});

describe('workers that no longer hold a key set', () => {
  it('load it again from the bytes every task carries, and answer correctly', async () => {
    // One worker that keeps one key set: each client's request finds the other's keys cached
    // and must load its own again, with the circuit named by hash.
    const model = syntheticModel(10, 8, 11, 'evicting');
    const server = await start({ modelDirs: [await modelsDir([model])], workers: 1, workerKeySets: 1 });
    const clients = [await IndependentClient.connect(server.url, 'evicting', 'batch'), await IndependentClient.connect(server.url, 'evicting', 'batch')];
    try {
      for (const c of clients) expect((await c.registerKeys()).status).toBe(201);
      for (let round = 0; round < 3; round++) {
        for (const [i, c] of clients.entries()) {
          const records = randomRecords(model, 20, 10 * round + i);
          const answer = await postMsgpack(`${server.url}/api/models/evicting/classify`, c.classifyMessage(records));
          expect(answer.status, JSON.stringify(answer.json)).toBe(200);
          expect(c.decrypt(answer.message)).toEqual(records.map((q) => referenceScore(model, q)));
        }
      }
    } finally {
      clients.forEach((c) => c.dispose());
    }
  });
});
