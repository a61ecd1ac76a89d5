/**
 * A property-based fuzz run of every route (issue 10): fast-check generates MessagePack bodies
 * (arbitrary values, protocol-shaped maps with random fields, and mutations of real messages:
 * byte flips, truncations, widened or lying headers, spliced random bytes), JSON bodies for the
 * admin route (arbitrary JSON, damaged model files, deep nests), wrong and odd content types,
 * and odd methods and paths. No answer may be a 5xx other than the deliberate 503s (busy,
 * timeout, not_ready, storage_unavailable, each with Retry-After), no request may go unanswered,
 * and the server's memory after the run stays within a bound of what it was before.
 *
 * `npm test` runs CIPHERCLINIC_FUZZ_RUNS cases (default 2000) in chunks of 250, chunk k from the
 * seed CIPHERCLINIC_FUZZ_SEED + 100·k (default below); a failure prints the chunk's seed, its
 * size and the shrunk case, and running those again (as the message says) reproduces it. The longer run (docs/server.md):
 *   CIPHERCLINIC_FUZZ_RUNS=50000 CIPHERCLINIC_FUZZ_SEED=$RANDOM npx vitest run tests/server-fuzz.test.ts
 */
import { encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { referenceScore } from '../src/core/model/reference.ts';
import { IndependentClient, postMsgpack } from './support/independent-client.ts';
import { nested } from './support/msgpack-bombs.ts';
import { closeRawAgent, rawRequest, type RawAnswer } from './support/raw-http.ts';
import { modelsDir } from './support/server-harness.ts';
import { spawnServer, type ServerProcess } from './support/server-process.ts';
import { randomRecords, syntheticModel } from './support/synthetic.ts';

const RUNS = Number(process.env.CIPHERCLINIC_FUZZ_RUNS ?? 2000);
const SEED = Number(process.env.CIPHERCLINIC_FUZZ_SEED ?? 20_250_610);
/** Growth of the server's resident memory (after GC) allowed across the run, once warm. */
const RSS_BOUND_MIB = Number(process.env.CIPHERCLINIC_FUZZ_RSS_MIB ?? 24);
const CHUNK = 250;
const TOKEN = 'fuzz-admin-token-0123456789';
const DELIBERATE_503 = new Set(['busy', 'timeout', 'not_ready', 'storage_unavailable']);

const model = syntheticModel(12, 8, 7, 'model-a');
let dir: string;
let modelDir: string;
let server: ServerProcess;
let batch: IndependentClient;
let single: IndependentClient;

/** Real messages the mutations start from. */
const bases: Record<string, { path: string; bytes: Uint8Array }> = {};
let modelText = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cc-fuzz-'));
  modelDir = await modelsDir([model]);
  server = await spawnServer({ modelDirs: [modelDir], dataDir: join(dir, 'data'), workers: 2, adminToken: TOKEN });
  batch = await IndependentClient.connect(server.url, 'model-a', 'batch');
  single = await IndependentClient.connect(server.url, 'model-a', 'single');
  expect((await batch.registerKeys()).status).toBe(201);
  expect((await single.registerKeys()).status).toBe(201);
  bases.batchKeys = { path: '/api/keys', bytes: encode(batch.keysMessage()) };
  bases.singleKeys = { path: '/api/keys', bytes: encode(single.keysMessage()) };
  bases.singleClassify = { path: '/api/models/model-a/classify', bytes: encode(single.classifyMessage(randomRecords(model, 1, 2))) };
  bases.batchClassify = { path: '/api/models/model-a/classify', bytes: encode(batch.classifyMessage(randomRecords(model, 2, 3))) };
  modelText = JSON.stringify(syntheticModel(6, 4, 3, 'fuzzed'));
}, 120_000);

afterAll(async () => {
  batch?.dispose();
  single?.dispose();
  closeRawAgent();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
  await rm(modelDir, { recursive: true, force: true });
});

// ---- what a case is: a small recipe (printed on failure), turned into a request ----

interface Case {
  method: string;
  path: string;
  contentType: string | null;
  auth?: string;
  body?: Body;
}

type Body =
  | { kind: 'value'; value: unknown }
  | { kind: 'raw'; bytes: Uint8Array }
  | { kind: 'mutate'; base: string; ops: Op[] }
  | { kind: 'json'; text: string }
  | { kind: 'model'; ops: Op[] }
  | { kind: 'nest'; header: readonly number[]; levels: number };

type Op =
  | { op: 'flip'; at: number; xor: number }
  | { op: 'truncate'; at: number }
  | { op: 'splice'; at: number; bytes: Uint8Array }
  | { op: 'widen'; width: 2 | 4; lie: number }
  | { op: 'append'; bytes: Uint8Array };

/** `at` is a fraction of the length, so that recipes stay small and shrink well. */
const position = (length: number, at: number) => Math.min(length, Math.floor(at * length));

function applyOps(bytes: Uint8Array, ops: readonly Op[]): Uint8Array {
  let b = bytes;
  for (const o of ops) {
    if (o.op === 'flip') {
      if (b.length === 0) continue;
      b = b.slice();
      const i = Math.min(b.length - 1, position(b.length, o.at));
      b[i] = b[i]! ^ (o.xor || 1);
    } else if (o.op === 'truncate') b = b.slice(0, position(b.length, o.at));
    else if (o.op === 'splice') {
      const i = position(b.length, o.at);
      b = Uint8Array.from([...b.subarray(0, i), ...o.bytes, ...b.subarray(i)]);
    } else if (o.op === 'append') b = Uint8Array.from([...b, ...o.bytes]);
    else if (o.op === 'widen') {
      // The top-level fixmap header as a map16 or map32: the same count, or a lie.
      const first = b[0] ?? 0x80;
      if (first < 0x80 || first > 0x8f) continue;
      const count = (first & 0x0f) + o.lie;
      const header = o.width === 2 ? [0xde, (count >> 8) & 255, count & 255] : [0xdf, (count >>> 24) & 255, (count >> 16) & 255, (count >> 8) & 255, count & 255];
      b = Uint8Array.from([...header, ...b.subarray(1)]);
    }
  }
  return b;
}

function bodyBytes(body: Body): Uint8Array | string {
  switch (body.kind) {
    case 'value':
      return encode(body.value);
    case 'raw':
      return body.bytes;
    case 'mutate':
      return applyOps(bases[body.base]!.bytes, body.ops);
    case 'json':
      return body.text;
    case 'model':
      return applyOps(new TextEncoder().encode(modelText), body.ops);
    case 'nest':
      return nested(body.header, body.levels);
  }
}

// ---- generators ----

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const msgpackValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
    fc.string({ maxLength: 80 }),
    bytes(256),
    fc.array(tie('value'), { maxLength: 6 }),
    fc.dictionary(fc.string({ maxLength: 12 }), tie('value'), { maxKeys: 6 }),
  ),
})).value;

/** Maps shaped like protocol messages, each field sometimes right, sometimes anything. */
function messageShaped(): fc.Arbitrary<unknown> {
  const card = batch.card;
  const plans = [batch.plan.hash, single.plan.hash];
  const maybe = <T,>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: good }, { weight: 1, arbitrary: msgpackValue });
  return fc.record(
    {
      type: maybe(fc.constantFrom('keys', 'classify', 'result')),
      protocol: maybe(fc.constantFrom(1, 2, 3, 0)),
      modelHash: maybe(fc.oneof(fc.constant(card.modelHash), hex64)),
      planHash: maybe(fc.oneof(fc.constantFrom(...plans), hex64)),
      keyId: maybe(fc.oneof(fc.constantFrom(batch.keyId, single.keyId), hex64)),
      layout: maybe(fc.constantFrom('batch', 'single')),
      count: maybe(fc.oneof(fc.integer({ min: -2, max: 5000 }), fc.constant(0))),
      ciphertexts: maybe(fc.array(bytes(512), { maxLength: 14 })),
      relin: maybe(fc.oneof(fc.constant(null), bytes(2048))),
      galois: maybe(fc.oneof(fc.constant(null), bytes(2048))),
      publicKey: maybe(fc.oneof(fc.constant(null), bytes(2048))),
    },
    { requiredKeys: [] },
  );
}

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ op: fc.constant('splice' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bytes: bytes(32) }),
  fc.record({ op: fc.constant('widen' as const), width: fc.constantFrom(2 as const, 4 as const), lie: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 70_000 })) }),
  fc.record({ op: fc.constant('append' as const), bytes: bytes(32) }),
);

const containerHeader = fc.constantFrom([0x91], [0x9f], [0xdc, 0x10, 0x00], [0xdd, 0, 0, 0x10, 0], [0x81], [0x8f], [0xde, 0x10, 0x00], [0xdf, 0, 0, 0x10, 0], [0x81, 0xa1, 0x6b]);

const msgpackContentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/msgpack') },
  { weight: 1, arbitrary: fc.constantFrom('APPLICATION/MSGPACK', 'application/msgpack; charset=binary', 'application/json', 'text/plain', 'application/x-msgpack', 'multipart/form-data; boundary=--x', '', ';;;', 'application/msgpack, application/json') },
  { weight: 1, arbitrary: fc.constant(null) },
);

const jsonContentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'application/msgpack', 'text/plain', 'APPLICATION/JSON', 'application/json; charset=utf-16') },
  { weight: 1, arbitrary: fc.constant(null) },
);

/** Path segments: route words, traversal, encodings, odd characters (percent-encoded when not sendable). */
const segment = fc.oneof(
  fc.constantFrom('api', 'models', 'keys', 'classify', 'admin', 'ready', 'health', 'model-a', '..', '.', '%2e%2e', '%2F', '%00', '%ff', '', 'index.html', '~', '*', 'a'.repeat(300), '%E2%80%AE', '?x=1', '#frag', ';p=1'),
  fc.string({ maxLength: 20 }).map((s) => encodeURIComponent(s)),
  fc.string({ unit: 'binary', maxLength: 12 }).map((s) => encodeURIComponent(s).replace(/%2F/gi, '/')),
);
const oddPath = fc.array(segment, { minLength: 0, maxLength: 7 }).map((parts) => '/' + parts.join('/'));

function cases(): fc.Arbitrary<Case> {
  const msgpackBody: fc.Arbitrary<Body> = fc.oneof(
    { weight: 2, arbitrary: msgpackValue.map((value) => ({ kind: 'value' as const, value })) },
    { weight: 3, arbitrary: messageShaped().map((value) => ({ kind: 'value' as const, value })) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('mutate' as const), base: fc.constantFrom(...Object.keys(bases)), ops: fc.array(op, { minLength: 1, maxLength: 4 }) }) },
    { weight: 1, arbitrary: bytes(4096).map((b) => ({ kind: 'raw' as const, bytes: b })) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('nest' as const), header: containerHeader, levels: fc.integer({ min: 1, max: 20_000 }) }) },
  );
  const jsonBody: fc.Arbitrary<Body> = fc.oneof(
    fc.json({ maxDepth: 6 }).map((text) => ({ kind: 'json' as const, text })),
    fc.record({ kind: fc.constant('model' as const), ops: fc.array(op, { minLength: 1, maxLength: 3 }) }),
    fc.integer({ min: 1, max: 5000 }).map((n) => ({ kind: 'json' as const, text: '{"a":'.repeat(n) + '1' + '}'.repeat(n) })),
    fc.string({ maxLength: 200 }).map((text) => ({ kind: 'json' as const, text })),
  );
  const modelId = fc.oneof({ weight: 4, arbitrary: fc.constant('model-a') }, { weight: 1, arbitrary: segment });
  return fc.oneof(
    fc.record({ method: fc.constant('POST'), path: fc.constant('/api/keys'), contentType: msgpackContentType, body: msgpackBody }),
    fc.record({ method: fc.constant('POST'), path: modelId.map((id) => `/api/models/${id}/classify`), contentType: msgpackContentType, body: msgpackBody }),
    fc.record({
      method: fc.constant('POST'),
      path: fc.constant('/api/admin/models'),
      contentType: jsonContentType,
      auth: fc.oneof({ weight: 6, arbitrary: fc.constant(`Bearer ${TOKEN}`) }, { weight: 1, arbitrary: fc.constantFrom('', 'Bearer', `Bearer ${TOKEN}x`, `bearer  ${TOKEN}`, 'Basic abc') }),
      body: fc.oneof({ weight: 5, arbitrary: jsonBody }, { weight: 1, arbitrary: msgpackBody }),
    }),
    fc.record({ method: fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'OPTIONS', 'DELETE', 'PUT', 'PATCH'), path: oddPath, contentType: fc.constant(null) }),
    fc.record({ method: fc.constant('GET'), path: fc.oneof(segment, hex64).map((id) => `/api/models/${id}`), contentType: fc.constant(null) }),
    fc.record({ method: fc.constantFrom('POST', 'PUT'), path: oddPath, contentType: msgpackContentType, body: msgpackBody }),
  );
}

/** What is wrong with an answer, or undefined when it is acceptable. */
function wrongAnswer(a: RawAnswer): string | undefined {
  if (a.status < 500) return undefined;
  const code = a.json?.error?.code;
  if (a.status === 503 && DELIBERATE_503.has(code) && Number(a.headers['retry-after']) > 0) return undefined;
  return `${a.status} ${a.body.toString('utf8').slice(0, 300)}`;
}

async function send(c: Case): Promise<RawAnswer> {
  const headers: Record<string, string> = {};
  if (c.contentType !== null) headers['content-type'] = c.contentType;
  if (c.auth !== undefined) headers.authorization = c.auth;
  return rawRequest(server.url, { method: c.method, path: c.path, headers, body: c.body ? bodyBytes(c.body) : undefined }, 20_000);
}

async function run(numRuns: number, seed: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(cases(), async (c) => {
      const answer = await send(c);
      const tag = `${c.method} ${c.path.startsWith('/api/models/') && c.path.endsWith('/classify') ? '/api/models/:id/classify' : c.path.startsWith('/api/') && ['/api/keys', '/api/admin/models'].includes(c.path) ? c.path : 'other'} → ${answer.status}`;
      seen.set(tag, (seen.get(tag) ?? 0) + 1);
      const wrong = wrongAnswer(answer);
      if (answer.status >= 400 && c.method !== 'HEAD' && answer.json?.error?.code === undefined) seen.set(`(a ${answer.status} without a JSON error)`, (seen.get(`(a ${answer.status} without a JSON error)`) ?? 0) + 1);
      if (wrong) throw new Error(`${c.method} ${c.path.slice(0, 200)} answered ${wrong}`);
    }),
    { numRuns, seed },
  );
  return seen;
}

it(`answers ${RUNS} fuzzed requests (seed ${SEED}) without a 5xx or a crash, in bounded memory`, async () => {
  // Warm-up from another seed: JIT, heap sizing, socket buffers, the workers' SEAL heaps.
  await run(Math.min(300, RUNS), SEED + 1);
  const before = await server.rssMiB();
  const t0 = performance.now();
  // In chunks of CHUNK cases, chunk k from seed SEED + 100·k, to follow the memory as it goes.
  const seen = new Map<string, number>();
  const trail: string[] = [];
  for (let k = 0, done = 0; done < RUNS; k++, done += CHUNK) {
    const seed = SEED + 100 * k;
    const runs = Math.min(CHUNK, RUNS - done);
    try {
      for (const [tag, n] of await run(runs, seed)) seen.set(tag, (seen.get(tag) ?? 0) + n);
    } catch (e) {
      throw new Error(`fuzz run failed (reproduce with CIPHERCLINIC_FUZZ_SEED=${seed} CIPHERCLINIC_FUZZ_RUNS=${runs}):\n${(e as Error).message.slice(0, 4000)}`);
    }
    trail.push((await server.rssMiB()).toFixed(0));
  }
  const seconds = (performance.now() - t0) / 1000;
  const after = await server.rssMiB();
  console.log(`fuzz: ${RUNS} cases in ${seconds.toFixed(1)} s (seed ${SEED}); RSS ${before.toFixed(1)} → ${after.toFixed(1)} MiB (every ${CHUNK}: ${trail.join(' ')})\n` + [...seen.entries()].sort().map(([k, n]) => `  ${k}: ${n}`).join('\n'));
  expect(after - before).toBeLessThanOrEqual(RSS_BOUND_MIB);

  // Still alive and correct.
  expect((await fetch(`${server.url}/api/ready`)).status).toBe(200);
  const records = randomRecords(model, 3, 77);
  const answer = await postMsgpack(`${server.url}/api/models/model-a/classify`, batch.classifyMessage(records));
  expect(answer.status).toBe(200);
  expect(batch.decrypt(answer.message)).toEqual(records.map((q) => referenceScore(model, q)));
}, 300_000);
