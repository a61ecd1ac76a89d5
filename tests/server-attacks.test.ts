/**
 * The attack set of issue 10, against the real server in its own process (so that its memory
 * is measured alone): MessagePack bombs of every container type and width, declared-size lies,
 * element floods and trailing bytes on both MessagePack routes; wrong content types with large
 * bodies; concurrent identical registrations; one key set registered for two plans with
 * identical parameters, across a restart; count 0; and client aborts, which are logged at info.
 * Every refusal is a 4xx with the protocol's JSON error; memory stays flat; the service keeps
 * answering correctly.
 */
import { decode, encode } from '@msgpack/msgpack';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceScore } from '../src/core/model/reference.ts';
import { IndependentClient, postMsgpack } from './support/independent-client.ts';
import { elementFloods, issueBomb, jsonNest, nestingBombs, sizeLies, trailingBytes, type Bomb } from './support/msgpack-bombs.ts';
import { closeRawAgent, rawRequest, type RawAnswer } from './support/raw-http.ts';
import { modelsDir, startTestServer } from './support/server-harness.ts';
import { spawnServer, type ServerProcess } from './support/server-process.ts';
import { randomRecords, syntheticModel } from './support/synthetic.ts';

const MiB = 1024 * 1024;
/** Growth of the server's resident memory (after GC) allowed across a round of attacks, once warm. */
const RSS_GROWTH_MIB = 8;
/** Each refusal before decoding should take milliseconds; this leaves room for a busy machine. */
const REFUSAL_MS = 1000;

const modelA = syntheticModel(12, 8, 7, 'model-a');
// The same weights under another id: another model hash, the same encryption parameters.
const modelCopy = syntheticModel(12, 8, 7, 'model-a-copy');

let dir: string;
let modelDir: string;
let server: ServerProcess;
let single: IndependentClient;
let batch: IndependentClient;

const ROUTES = ['/api/keys', '/api/models/model-a/classify'] as const;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cc-attacks-'));
  modelDir = await modelsDir([modelA, modelCopy]);
  server = await spawnServer({ modelDirs: [modelDir], dataDir: join(dir, 'data'), workers: 2 });
  single = await IndependentClient.connect(server.url, 'model-a', 'single');
  batch = await IndependentClient.connect(server.url, 'model-a', 'batch');
  expect((await single.registerKeys()).status).toBe(201);
  expect((await batch.registerKeys()).status).toBe(201);
}, 120_000);

afterAll(async () => {
  single?.dispose();
  batch?.dispose();
  closeRawAgent();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
  await rm(modelDir, { recursive: true, force: true });
});

const postRaw = (path: string, body: Uint8Array | string, contentType: string | null = 'application/msgpack') =>
  rawRequest(server.url, { method: 'POST', path, body, headers: contentType === null ? {} : { 'content-type': contentType } });

/** What was wrong with a refusal before decoding, or undefined when it is right. */
function notRefusedBeforeDecoding(a: RawAnswer): string | undefined {
  const problems: string[] = [];
  if (a.status !== 400) problems.push(`status ${a.status}`);
  if (a.json?.protocol !== 2) problems.push('no protocol field');
  if (a.json?.error?.code !== 'bad_request') problems.push(`code ${a.json?.error?.code}`);
  if (!/^the body is refused before decoding: /.test(a.json?.error?.message ?? '')) problems.push(`message ${JSON.stringify(a.json?.error?.message ?? a.body.toString('utf8').slice(0, 200))}`);
  if (a.ms > REFUSAL_MS) problems.push(`took ${Math.round(a.ms)} ms`);
  return problems.length ? problems.join(', ') : undefined;
}

/** Sends every bomb to both MessagePack routes; returns the ones not refused as they should be. */
async function fire(bombs: readonly Bomb[]): Promise<string[]> {
  const wrong: string[] = [];
  for (const bomb of bombs) {
    for (const path of ROUTES) {
      const answer = await postRaw(path, bomb.bytes);
      const problem = notRefusedBeforeDecoding(answer);
      if (problem) wrong.push(`${path} ← ${bomb.name} (${bomb.bytes.length} B): ${problem}`);
    }
  }
  return wrong;
}

/** The server's resident memory once settled: the median of five samples, each after a GC. */
async function settledRssMiB(): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(await server.rssMiB());
    await new Promise((r) => setTimeout(r, 150));
  }
  return samples.sort((a, b) => a - b)[2]!;
}

async function expectCorrectClassification(): Promise<void> {
  const records = randomRecords(modelA, 3, 41);
  const answer = await postMsgpack(`${server.url}/api/models/model-a/classify`, batch.classifyMessage(records));
  expect(answer.status, JSON.stringify(answer.json)).toBe(200);
  expect(batch.decrypt(answer.message)).toEqual(records.map((q) => referenceScore(modelA, q)));
}

const validKeysBody = () => encode(batch.keysMessage());
const validClassifyBody = () => encode(batch.classifyMessage(randomRecords(modelA, 2, 5)));

describe('MessagePack bombs: 400 bad_request "refused before decoding", within a second', () => {
  it('the issue bomb: 150,000 nested array16 headers each claiming 4,096 elements (450 KB)', async () => {
    const bytes = issueBomb();
    expect(bytes.length).toBe(450_001);
    expect(await fire([{ name: 'issue bomb', bytes }])).toEqual([]);
    await expectCorrectClassification();
  });

  it('nesting of every container type and width (fixarray, array16, array32, fixmap, map16, map32), deep and shallow', async () => {
    expect(await fire(nestingBombs())).toEqual([]);
  });

  it('declared-size lies: str, bin, ext, fixext, numbers, arrays and maps claiming more than the body holds', async () => {
    expect(await fire(sizeLies())).toEqual([]);
  });

  it('too many declared elements in all, every header honest', async () => {
    expect(await fire(elementFloods())).toEqual([]);
  });

  it('trailing bytes after a valid message', async () => {
    const keys = trailingBytes(validKeysBody()).map((b) => ({ ...b, name: `keys: ${b.name}` }));
    const classify = trailingBytes(validClassifyBody()).map((b) => ({ ...b, name: `classify: ${b.name}` }));
    expect(await fire([...keys, ...classify])).toEqual([]);
  });

  it('leaves the server within a few MiB of its memory before, and serving correctly', async () => {
    const all = [...nestingBombs(), ...sizeLies(), ...elementFloods(), ...trailingBytes(validClassifyBody())];
    // One round: every bomb on both routes, then ten issue bombs at once on each route.
    const round = async () => {
      expect(await fire(all)).toEqual([]);
      const burst = await Promise.all(ROUTES.flatMap((path) => Array.from({ length: 10 }, () => postRaw(path, issueBomb()))));
      expect(burst.map(notRefusedBeforeDecoding).filter(Boolean)).toEqual([]);
    };
    // Warm-up: the first round sizes V8's heap, the allocator's arenas and the socket buffers.
    await round();
    const before = await settledRssMiB();
    const trail: string[] = [];
    for (let i = 0; i < 3; i++) {
      await round();
      trail.push((await server.rssMiB()).toFixed(1));
    }
    const after = await settledRssMiB();
    console.log(`bombs: RSS ${before.toFixed(1)} MiB before, ${after.toFixed(1)} MiB after ${3 * (all.length + 10) * 2} bombs (after each round: ${trail.join(', ')})`);
    expect(after - before).toBeLessThanOrEqual(RSS_GROWTH_MIB);
    await expectCorrectClassification();
  }, 60_000);
});

describe('wrong content types: 415 before the body is parsed', () => {
  const bigNest = jsonNest(16 * MiB - 1024);

  it('answers 415 unsupported_media_type to small JSON, text and untyped bodies', async () => {
    const wrong: string[] = [];
    for (const path of ROUTES) {
      for (const type of ['application/json', 'text/plain', 'application/json; charset=utf-8', 'multipart/form-data; boundary=x', null]) {
        for (const body of ['{}', '{"protocol":1,"type":"keys"}', new Uint8Array(encode({ protocol: 1, type: 'keys' }))]) {
          const a = await postRaw(path, body, type);
          if (a.status !== 415 || a.json?.error?.code !== 'unsupported_media_type') wrong.push(`${path} ${type}: ${a.status} ${a.body.toString('utf8').slice(0, 200)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('answers a 16 MiB nested [[[…]]] JSON body with 415 promptly, in flat memory', async () => {
    const send = async () => {
      const wrong: string[] = [];
      for (const path of ROUTES) {
        for (const type of ['application/json', 'text/plain', null]) {
          const a = await postRaw(path, bigNest, type);
          if (a.status !== 415 || a.json?.error?.code !== 'unsupported_media_type' || a.ms > 2 * REFUSAL_MS) wrong.push(`${path} ${type}: ${a.status} ${a.json?.error?.code} in ${Math.round(a.ms)} ms`);
        }
      }
      return wrong;
    };
    expect(await send()).toEqual([]); // also the warm-up: socket buffers sized for 16 MiB bodies
    const before = await settledRssMiB();
    const wrong = [...(await send()), ...(await send())];
    const after = await settledRssMiB();
    console.log(`16 MiB JSON nests: RSS ${before.toFixed(1)} MiB before, ${after.toFixed(1)} MiB after`);
    expect(wrong).toEqual([]);
    expect(after - before).toBeLessThanOrEqual(RSS_GROWTH_MIB);
    await expectCorrectClassification();
  }, 60_000);
});

describe('shapes', () => {
  it('answers count 0 with 400 shape_mismatch', async () => {
    const message = { ...batch.classifyMessage(randomRecords(modelA, 1, 9)), count: 0 };
    const a = await postMsgpack(`${server.url}/api/models/model-a/classify`, message);
    expect(a.status, JSON.stringify(a.json)).toBe(400);
    expect(a.json.error.code).toBe('shape_mismatch');
  });
});

describe('registration races and plan binding', () => {
  it('answers 12 concurrent registrations of the same new keys with exactly one 201, the rest 200', async () => {
    const body = encode(batch.keysMessage());
    const answers = await Promise.all(Array.from({ length: 12 }, () => postMsgpack(`${server.url}/api/keys`, body)));
    const statuses = answers.map((a) => a.status).sort((a, b) => a - b);
    expect(statuses, JSON.stringify(answers.map((a) => a.json))).toEqual([...Array(11).fill(200), 201]);
  }, 60_000);

  it('binds the same key bytes to two plans with identical parameters, each 201, and both work across a restart', async () => {
    const cardA = single.card;
    const cardB = (await (await fetch(`${server.url}/api/models/model-a-copy`)).json()) as typeof cardA;
    const planA = cardA.plans.single;
    const planB = cardB.plans.single;
    expect(planB.params).toEqual(planA.params);
    expect(planB.hash).not.toBe(planA.hash);
    expect(cardB.modelHash).not.toBe(cardA.modelHash);

    const keys = single.keysMessage();
    const underA = await postMsgpack(`${server.url}/api/keys`, keys);
    const underB = await postMsgpack(`${server.url}/api/keys`, { ...keys, planHash: planB.hash, modelHash: cardB.modelHash });
    expect([underA.status, underB.status], JSON.stringify([underA.json, underB.json])).toEqual([201, 201]);
    expect(underB.json.planHash).toBe(planB.hash);
    // Again: both known, each under its own plan.
    expect((await postMsgpack(`${server.url}/api/keys`, keys)).status).toBe(200);
    expect((await postMsgpack(`${server.url}/api/keys`, { ...keys, planHash: planB.hash, modelHash: cardB.modelHash })).status).toBe(200);

    const classifyBoth = async (round: number) => {
      for (const [id, card, plan] of [['model-a', cardA, planA], ['model-a-copy', cardB, planB]] as const) {
        const records = randomRecords(modelA, 1, 60 + round);
        const message = { ...single.classifyMessage(records), keyId: keys.keyId, modelHash: card.modelHash, planHash: plan.hash };
        const answer = await postMsgpack(`${server.url}/api/models/${id}/classify`, message);
        expect(answer.status, `${id} round ${round}: ${JSON.stringify(answer.json)}`).toBe(200);
        expect(single.decrypt(answer.message)).toEqual(records.map((q) => referenceScore(modelA, q)));
      }
    };
    await classifyBoth(0);
    await classifyBoth(1);

    // A restart on the same data folder: both bindings come back from disk.
    await server.stop();
    server = await spawnServer({ modelDirs: [modelDir], dataDir: join(dir, 'data'), workers: 2 });
    await classifyBoth(2);
    await classifyBoth(3);
  }, 120_000);
});

describe('client aborts', () => {
  it('are logged at info without a stack, and never at error level', async () => {
    const lines: string[] = [];
    const logStream = new Writable({ write: (chunk, _enc, done) => (lines.push(...String(chunk).split('\n').filter(Boolean)), done()) });
    const local = await startTestServer({ modelDirs: [await modelsDir([modelA])], logLevel: 'info', workers: 1 }, { logStream });
    try {
      const firstLine = lines.length;
      const cut = (path: string) =>
        new Promise<void>((resolve) => {
          const req = request(`${local.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/msgpack', 'content-length': String(1024 * 1024) } });
          req.on('error', () => resolve());
          req.on('close', () => resolve());
          req.write(new Uint8Array(64 * 1024));
          setTimeout(() => req.destroy(), 100);
        });
      const n = 10;
      for (let i = 0; i < n; i++) await Promise.all([cut('/api/keys'), cut('/api/models/model-a/classify')]);
      await new Promise((r) => setTimeout(r, 500));
      expect((await fetch(`${local.url}/api/health`)).status).toBe(200);

      const after = lines.slice(firstLine).map((l) => JSON.parse(l) as { level: number; msg?: string; err?: unknown; [k: string]: unknown });
      const severe = after.filter((l) => l.level >= 50);
      expect(severe.map((l) => JSON.stringify(l).slice(0, 300))).toEqual([]);
      const withStack = after.filter((l) => 'err' in l || /"stack"|\n\s+at /.test(JSON.stringify(l)));
      expect(withStack.map((l) => JSON.stringify(l).slice(0, 300))).toEqual([]);
      const aborts = after.filter((l) => /abort|closed the connection/i.test(JSON.stringify(l)));
      expect(aborts.length, after.map((l) => JSON.stringify(l).slice(0, 200)).join('\n')).toBeGreaterThanOrEqual(2 * n);
      expect(aborts.every((l) => l.level === 30)).toBe(true);
    } finally {
      await local.stop();
    }
  }, 60_000);
});
