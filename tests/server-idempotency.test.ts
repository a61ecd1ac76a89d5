/**
 * Idempotency keys on classify over loopback HTTP: a repeat with the same key and body gets
 * the stored answer (byte for byte: a second evaluation would draw new blinding, so equal bytes
 * mean one evaluation), concurrent repeats share one evaluation, a key reused with another body
 * is refused, and a refusal stores nothing, so the same key works once the cause is fixed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API, decodeMessage, encodeMessage, inputToWire, keysToWire, MSGPACK_TYPE, resultFromWire } from '../src/core/protocol/index.ts';
import { quantizeRecord } from '../src/core/model/reference.ts';
import { EngineClient } from './support/engine-client.ts';
import { startTestServer, type TestServer } from './support/server-harness.ts';

let server: TestServer;
let client: EngineClient;
const MODEL = 'framingham-chd';

beforeAll(async () => {
  server = await startTestServer();
  client = await EngineClient.connect(server.url, MODEL, 'single');
  await client.registerKeys();
}, 120_000);

afterAll(async () => {
  client?.dispose();
  await server?.stop();
});

/** A classify body for one record (fresh ciphertext each call). */
function body(values: (number | null)[], keyId = client.keyId): Uint8Array {
  const [input] = client.he.encryptRecords([quantizeRecord(client.card, values)]);
  return encodeMessage(inputToWire(input!, keyId));
}

const record = (age: number) => client.card.features.map((f) => (f.name === 'age' ? age : f.kind === 'binary' ? 0 : (f.min + f.max) / 2));

async function post(bytes: Uint8Array, key?: string): Promise<{ status: number; bytes: Uint8Array; replayed: string | null; code?: string }> {
  const headers: Record<string, string> = { 'content-type': MSGPACK_TYPE };
  if (key !== undefined) headers['idempotency-key'] = key;
  const res = await fetch(server.url + API.classify(MODEL), { method: 'POST', headers, body: bytes });
  const out = new Uint8Array(await res.arrayBuffer());
  const code = res.ok ? undefined : (JSON.parse(new TextDecoder().decode(out)) as { error: { code: string } }).error.code;
  return { status: res.status, bytes: out, replayed: res.headers.get('idempotent-replayed'), code };
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe('classify with an Idempotency-Key', () => {
  it('answers a repeat with the stored answer, evaluated once', async () => {
    const bytes = body(record(50));
    const first = await post(bytes, 'first-key-0001');
    const again = await post(bytes, 'first-key-0001');
    expect(first.status).toBe(200);
    expect(first.replayed).toBeNull();
    expect(again.status).toBe(200);
    expect(again.replayed).toBe('true');
    expect(same(first.bytes, again.bytes)).toBe(true);
    // Without a key, the same body is evaluated again: new blinding, other bytes.
    const plain = await post(bytes);
    expect(plain.status).toBe(200);
    expect(plain.replayed).toBeNull();
    expect(same(plain.bytes, first.bytes)).toBe(false);
    // The answer decrypts to the right score.
    const expected = (await client.classify([quantizeRecord(client.card, record(50))]))[0];
    expect(client.he.decryptScores(resultFromWire(decodeMessage(again.bytes, 'result')))[0]).toBe(expected);
  });

  it('shares one evaluation between concurrent repeats, and accepts the key in quotes', async () => {
    const bytes = body(record(61));
    const answers = await Promise.all([post(bytes, 'concurrent-7'), post(bytes, '"concurrent-7"'), post(bytes, 'concurrent-7')]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.filter((a) => a.replayed === 'true')).toHaveLength(2);
    expect(answers.every((a) => same(a.bytes, answers[0]!.bytes))).toBe(true);
  });

  it('refuses a key reused with another body', async () => {
    expect((await post(body(record(40)), 'reused-key')).status).toBe(200);
    const other = await post(body(record(41)), 'reused-key');
    expect(other.status).toBe(422);
    expect(other.code).toBe('idempotency_key_reused');
  });

  it('keeps nothing from a refusal: the same key works once the cause is fixed', async () => {
    const late = await EngineClient.connect(server.url, MODEL, 'single');
    try {
      const bundle = late.he.evaluationKeys();
      const bytes = (() => {
        const [input] = late.he.encryptRecords([quantizeRecord(late.card, record(70))]);
        return encodeMessage(inputToWire(input!, bundle.keyId));
      })();
      const refused = await post(bytes, 'after-refusal');
      expect(refused.code).toBe('unknown_key');
      const registered = await fetch(server.url + API.keys, { method: 'POST', headers: { 'content-type': MSGPACK_TYPE }, body: encodeMessage(keysToWire(bundle, late.card.modelHash)) });
      expect(registered.status).toBe(201);
      const accepted = await post(bytes, 'after-refusal');
      expect(accepted.status).toBe(200);
      expect(accepted.replayed).toBeNull();
    } finally {
      late.dispose();
    }
  });

  it('refuses a malformed key', async () => {
    for (const key of ['', 'has space', 'x'.repeat(129)]) {
      const res = await post(body(record(45)), key);
      expect(res.status, JSON.stringify(key)).toBe(400);
      expect(res.code).toBe('bad_request');
    }
  });
});
