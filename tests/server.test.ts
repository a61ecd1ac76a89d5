/**
 * The classifier service over loopback HTTP, with the default models: every model round-trips
 * in both layouts, through a client written from docs/protocol.md alone and through our own
 * engine, with decrypted scores equal to the plaintext integer reference; key registration is
 * idempotent; cards carry no weights; the app gets its security headers.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlan } from '../src/core/he/index.ts';
import { parseModel, type TernaryModel } from '../src/core/model/format.ts';
import { quantizeRecord, referenceScore, type PlainRecord } from '../src/core/model/reference.ts';
import { CSP_DIRECTIVES } from '../src/server/app.ts';
import { EngineClient } from './support/engine-client.ts';
import { IndependentClient, postMsgpack } from './support/independent-client.ts';
import { DEFAULT_MODELS_DIR, startTestServer, type TestServer } from './support/server-harness.ts';

const models: TernaryModel[] = [];
let server: TestServer;

/** Plain records within each feature's range, with some values missing. */
function plainRecords(model: TernaryModel, n: number, seed: number): PlainRecord[] {
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  return Array.from({ length: n }, () =>
    model.features.map((f) => (r() < 0.05 ? null : f.kind === 'binary' ? Math.round(r()) : f.min + r() * (f.max - f.min))),
  );
}

beforeAll(async () => {
  for (const file of (await readdir(DEFAULT_MODELS_DIR)).filter((f) => f.endsWith('.json')).sort()) {
    models.push(parseModel(JSON.parse(await readFile(join(DEFAULT_MODELS_DIR, file), 'utf8'))));
  }
  server = await startTestServer();
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('model cards', () => {
  it('lists every default model with plans for both layouts and no weights', async () => {
    expect(models.length).toBeGreaterThan(0);
    const res = await fetch(`${server.url}/api/models`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cipherclinic-protocol')).toBe('2');
    const { cards, complete } = (await res.json()) as { cards: Record<string, any>[]; complete: boolean };
    // Every model compiled: a client may take a card missing from this list as a removed model.
    expect(complete).toBe(true);
    expect(cards.map((c) => c.id).sort()).toEqual(models.map((m) => m.id).sort());
    for (const card of cards) {
      const model = models.find((m) => m.id === card.id)!;
      expect(card.modelHash).toBe(model.hash);
      for (const layout of ['batch', 'single'] as const) expect(parsePlan(card.plans[layout]).modelHash).toBe(model.hash);
      expect(JSON.stringify(card)).not.toContain('"hidden"');
    }
  });

  it('answers an unknown model with 404 and a code', async () => {
    const res = await fetch(`${server.url}/api/models/no-such-model`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe('unknown_model');
  });
});

describe.each(['single', 'batch'] as const)('%s layout, every default model', (layout) => {
  it('round-trips through the independent client, equal to the plaintext reference', async () => {
    for (const model of models) {
      const client = await IndependentClient.connect(server.url, model.id, layout);
      try {
        const first = await client.registerKeys();
        expect(first.status, model.id).toBe(201);
        const plain = plainRecords(model, layout === 'batch' ? 40 : 3, model.features.length);
        const quantized = plain.map((p) => client.quantize(p));
        expect(quantized).toEqual(plain.map((p) => quantizeRecord(model, p)));
        const expected = quantized.map((q) => referenceScore(model, q));
        const scores = layout === 'batch' ? await client.classify(quantized) : (await Promise.all(quantized.map((q) => client.classify([q])))).flat();
        expect(scores, model.id).toEqual(expected);
      } finally {
        client.dispose();
      }
    }
  });

  it('round-trips through our engine client, equal to the plaintext reference', async () => {
    for (const model of models) {
      const client = await EngineClient.connect(server.url, model.id, layout);
      try {
        expect((await client.registerKeys()).status).toBe(201);
        const records = plainRecords(model, layout === 'batch' ? 300 : 2, 99).map((p) => quantizeRecord(model, p));
        expect(await client.classify(records), model.id).toEqual(records.map((q) => referenceScore(model, q)));
      } finally {
        client.dispose();
      }
    }
  });
});

describe('single layout regions', () => {
  it('computes every region of one input alike: a full ciphertext of records decrypts to each one\'s reference score', async () => {
    for (const model of models) {
      const client = await IndependentClient.connect(server.url, model.id, 'single');
      try {
        expect((await client.registerKeys()).status).toBe(201);
        expect(client.regions).toBe(Math.floor(client.plan.params.polyModulusDegree / client.regionLength));
        const records = plainRecords(model, client.regions, 7).map((p) => client.quantize(p));
        const answer = await postMsgpack(`${server.url}/api/models/${model.id}/classify`, client.classifyMessage(records));
        expect(answer.status, JSON.stringify(answer.json)).toBe(200);
        expect(answer.message.count).toBe(1);
        expect(client.decrypt(answer.message, client.regions), model.id).toEqual(records.map((q) => referenceScore(model, q)));
      } finally {
        client.dispose();
      }
    }
  });
});

describe('key registration', () => {
  it('is content-addressed and idempotent', async () => {
    const client = await IndependentClient.connect(server.url, models[0]!.id, 'single');
    try {
      const message = client.keysMessage();
      const a = await postMsgpack(`${server.url}/api/keys`, message);
      const b = await postMsgpack(`${server.url}/api/keys`, message);
      expect(a.status).toBe(201);
      expect(b.status).toBe(200);
      const [ra, rb] = [a.json, b.json];
      expect(ra.keyId).toBe(message.keyId);
      expect(rb.keyId).toBe(message.keyId);
      expect(ra.created).toBe(true);
      expect(rb.created).toBe(false);
      expect(Date.parse(rb.expiresAt)).toBeGreaterThanOrEqual(Date.parse(ra.expiresAt));
    } finally {
      client.dispose();
    }
  });
});

describe('the app', () => {
  it('serves a page with the security headers and no CORS by default', async () => {
    const res = await fetch(`${server.url}/`, { headers: { origin: 'https://elsewhere.example' } });
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).toContain("worker-src 'self' blob:");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(Object.keys(CSP_DIRECTIVES)).toContain('frameAncestors');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(await res.text()).toContain(models[0]!.id);
  });

  it('keeps publishing off without an admin token', async () => {
    const res = await fetch(`${server.url}/api/admin/models`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer anything-at-all-here' }, body: '{}' });
    expect(res.status).toBe(404);
  });

  it('reports health and readiness', async () => {
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    const ready = (await (await fetch(`${server.url}/api/ready`)).json()) as any;
    expect(ready).toMatchObject({ ready: true, models: models.length, workers: 2 });
  });
});
