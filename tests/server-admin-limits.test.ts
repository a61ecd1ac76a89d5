/**
 * The admin route's bounds (issue 10): a model file is refused with a 4xx that names the limit
 * when its id is too long, it nests too deep, it declares too many features or hidden units, or
 * it is larger than the route's body limit; only JSON is taken; a compile has a time limit
 * (422 model_not_compilable) after which the service keeps serving; and the server process stops
 * within seconds on SIGTERM even mid-compile.
 */
import { encode } from '@msgpack/msgpack';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashJson } from '../src/core/hash.ts';
import type { TernaryModel } from '../src/core/model/format.ts';
import { closeRawAgent, rawRequest, type RawAnswer } from './support/raw-http.ts';
import { modelsDir, startTestServer, type TestServer } from './support/server-harness.ts';
import { spawnServer } from './support/server-process.ts';
import { syntheticModel } from './support/synthetic.ts';

const TOKEN = 'admin-limits-token-0123456789';
const MAX_JSON_BYTES = 4 * 1024 * 1024;
const AUTH = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

let server: TestServer;
const cleanup: string[] = [];

beforeAll(async () => {
  const models = await modelsDir([syntheticModel(12, 8, 7, 'model-a')]);
  cleanup.push(models);
  server = await startTestServer({ adminToken: TOKEN, maxJsonBytes: MAX_JSON_BYTES, modelDirs: [models], workers: 2 });
}, 120_000);

afterAll(async () => {
  closeRawAgent();
  await server?.stop();
  await Promise.all(cleanup.map((d) => rm(d, { recursive: true, force: true })));
});

const publish = (body: string | Uint8Array, headers: Record<string, string> = AUTH, base = server.url): Promise<RawAnswer> => rawRequest(base, { method: 'POST', path: '/api/admin/models', headers, body });

/**
 * A model body beyond the bounds, hashed as sealModel hashes (sealModel itself would refuse it),
 * so that the server's refusal is about the bound and not about the hash.
 */
function unboundedModel(d: number, H: number, id: string): TernaryModel {
  const { hash: _hash, ...small } = syntheticModel(2, 2, 3, 'small');
  const body = {
    ...small,
    id,
    title: `Unbounded ${d}×${H}`,
    features: Array.from({ length: d }, (_, i) => ({ name: `f${i}`, label: `F${i}`, unit: '', min: -1, max: 1, kind: 'number' as const })),
    input: { ...small.input, mean: Array(d).fill(0), std: Array(d).fill(1), impute: Array(d).fill(0) },
    hidden: { weights: Array.from({ length: H }, (_, j) => Array.from({ length: d }, (_, i) => (((i + j) % 3) - 1) as -1 | 0 | 1)), alpha: Array(H).fill(1), beta: Array(H).fill(0) },
    output: { ...small.output, weights: Array.from({ length: H }, (_, j) => (j % 2 ? -1 : 1) as -1 | 0 | 1) },
  };
  return { ...body, hash: hashJson(body) } as TernaryModel;
}

/** The JSON text of a model with `training` set to `depth` nested arrays (text surgery: no hash to check before the depth). */
function withDeepTraining(model: TernaryModel, depth: number): string {
  const text = JSON.stringify(model);
  return `${text.slice(0, -1)},"training":${'['.repeat(depth)}${']'.repeat(depth)}}`;
}

function expectRefusal(a: RawAnswer, status: number | number[], code: string | string[], message?: RegExp): void {
  const what = `${a.status} ${a.body.toString('utf8').slice(0, 400)}`;
  expect([status].flat(), what).toContain(a.status);
  expect([code].flat(), what).toContain(a.json?.error?.code);
  if (message) expect(a.json.error.message, what).toMatch(message);
}

describe('model files beyond the bounds', () => {
  it('refuses an id of 300 characters with 400 invalid_model naming the 64-character limit', async () => {
    const a = await publish(JSON.stringify(unboundedModel(6, 4, 'a'.repeat(300))));
    expectRefusal(a, 400, 'invalid_model', /64/);
    // And an id the pattern refuses (a path, upper case).
    expectRefusal(await publish(JSON.stringify(unboundedModel(6, 4, '../escape'))), 400, 'invalid_model');
    expectRefusal(await publish(JSON.stringify(unboundedModel(6, 4, 'Upper'))), 400, 'invalid_model');
  });

  it('refuses a training field nested 20,000 deep with a 4xx, never 500', async () => {
    const a = await publish(withDeepTraining(syntheticModel(6, 4, 3, 'deep-training'), 20_000));
    expect(a.status, a.body.toString('utf8').slice(0, 300)).toBeGreaterThanOrEqual(400);
    expect(a.status).toBeLessThan(500);
    expect(a.json?.error?.code).toMatch(/^(bad_request|invalid_model)$/);
  });

  it('refuses JSON nested deeper than 16 with 400 whose message mentions the nesting', async () => {
    for (const depth of [17, 64, 1000]) {
      expectRefusal(await publish(withDeepTraining(syntheticModel(6, 4, 3, `nest-${depth}`), depth)), 400, ['bad_request', 'invalid_model'], /nest/i);
      expectRefusal(await publish('['.repeat(depth) + ']'.repeat(depth)), 400, ['bad_request', 'invalid_model'], /nest/i);
    }
  });

  it('refuses 20,000 features with 400 invalid_model naming the 128-feature limit, at once', async () => {
    const wide = unboundedModel(20_000, 1, 'wide');
    const text = JSON.stringify(wide);
    expect(text.length).toBeLessThan(MAX_JSON_BYTES);
    const a = await publish(text);
    expectRefusal(a, 400, 'invalid_model', /128/);
    expect(a.ms).toBeLessThan(5000);
    expectRefusal(await publish(JSON.stringify(unboundedModel(129, 2, 'wide-129'))), 400, 'invalid_model', /128/);
  });

  it('refuses 200 hidden units with 400 invalid_model naming the 128 limit', async () => {
    expectRefusal(await publish(JSON.stringify(unboundedModel(8, 200, 'tall'))), 400, 'invalid_model', /128/);
    expectRefusal(await publish(JSON.stringify(unboundedModel(8, 129, 'tall-129'))), 400, 'invalid_model', /128/);
  });

  it('refuses a body over the admin body limit with 413 payload_too_large naming the limit in bytes', async () => {
    const big = { ...unboundedModel(6, 4, 'big-description'), description: 'x'.repeat(MAX_JSON_BYTES) };
    expectRefusal(await publish(JSON.stringify(big)), 413, 'payload_too_large', new RegExp(String(MAX_JSON_BYTES)));
  });

  it('takes only JSON: MessagePack and other media types answer 415', async () => {
    const model = syntheticModel(6, 4, 3, 'packed');
    expectRefusal(await publish(encode(model), { authorization: AUTH.authorization, 'content-type': 'application/msgpack' }), 415, 'unsupported_media_type');
    expectRefusal(await publish(JSON.stringify(model), { authorization: AUTH.authorization, 'content-type': 'text/plain' }), 415, 'unsupported_media_type');
    expectRefusal(await publish(JSON.stringify(model), { authorization: AUTH.authorization }), 415, 'unsupported_media_type');
  });

  it('still publishes a valid model after all of it', async () => {
    const model = syntheticModel(10, 6, 3, 'after-the-attacks');
    const a = await publish(JSON.stringify(model));
    expect(a.status, a.body.toString('utf8').slice(0, 300)).toBe(201);
    expect(a.json.modelHash).toBe(model.hash);
    expect((await fetch(`${server.url}/api/models/after-the-attacks`)).status).toBe(200);
  });
});

describe('the compile time limit', () => {
  it('answers 422 model_not_compilable past compileTimeoutMs, and keeps serving', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'cc-empty-'));
    cleanup.push(empty);
    // No model at start (it would have to compile within the same short limit).
    const limited = await startTestServer({ adminToken: TOKEN, modelDirs: [empty], workers: 1, compileTimeoutMs: 100 });
    try {
      const t0 = performance.now();
      const a = await publish(JSON.stringify(syntheticModel(64, 64, 5, 'slow-compile')), AUTH, limited.url);
      expectRefusal(a, 422, 'model_not_compilable', /within/);
      expect(a.json.error.message).toMatch(/100/);
      expect(performance.now() - t0).toBeLessThan(10_000);
      // The service answers; a second publish gets its own answer (the worker was replaced).
      expect((await fetch(`${limited.url}/api/health`)).status).toBe(200);
      expectRefusal(await publish(JSON.stringify(syntheticModel(64, 64, 6, 'slow-compile-2')), AUTH, limited.url), 422, 'model_not_compilable', /within/);
      expect((await fetch(`${limited.url}/api/models`)).status).toBe(200);
    } finally {
      await limited.stop();
    }
  }, 60_000);

  it('lets the server process stop within seconds on SIGTERM mid-compile', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cc-sigterm-'));
    cleanup.push(dir);
    const child = await spawnServer({ adminToken: TOKEN, modelDirs: [], dataDir: join(dir, 'data'), workers: 1, compileTimeoutMs: 120_000 });
    try {
      // The largest model the bounds allow; its compile takes a worker for a while.
      let answered = false;
      const pending = publish(JSON.stringify(syntheticModel(128, 128, 9, 'biggest')), AUTH, child.url).then(
        (a) => ((answered = true), a),
        () => ((answered = true), undefined),
      );
      await new Promise((r) => setTimeout(r, 300));
      expect(answered, 'the compile ended before SIGTERM: pick a slower model').toBe(false);
      const t0 = performance.now();
      child.kill('SIGTERM');
      const exit = await Promise.race([child.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000))]);
      const seconds = (performance.now() - t0) / 1000;
      expect(exit, 'the server did not exit within 10 s of SIGTERM').not.toBe('hung');
      expect(seconds).toBeLessThan(5);
      const answer = await pending;
      if (answer) expect(answer.status).not.toBe(500);
    } finally {
      child.kill('SIGKILL');
      await child.exited;
    }
  }, 60_000);
});
