/**
 * Every kind of bad input gets its 4xx with a JSON code that says what was wrong — never a 500,
 * never a crash — and the server keeps serving correct answers afterwards. Ciphertexts and keys
 * are made by the independent client, then damaged.
 */
import { decode, encode } from '@msgpack/msgpack';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceScore } from '../src/core/model/reference.ts';
import { loweredCiphertext, randomBytes, sealObject, transparentCiphertext, zstdBomb } from './support/bad-bytes.ts';
import { IndependentClient, keyIdOf, postMsgpack, type HttpAnswer } from './support/independent-client.ts';
import { modelsDir, startTestServer, type TestServer } from './support/server-harness.ts';
import { randomRecords, syntheticModel } from './support/synthetic.ts';

const modelA = syntheticModel(12, 8, 7, 'model-a');
const modelB = syntheticModel(12, 8, 11, 'model-b');
let server: TestServer;
let single: IndependentClient;
let batch: IndependentClient;
const statuses: number[] = [];

function expectRefusal(answer: HttpAnswer, status: number, code: string, message?: RegExp): void {
  statuses.push(answer.status);
  expect(answer.status, JSON.stringify(answer.json)).toBe(status);
  expect(answer.json?.error?.code).toBe(code);
  if (message) expect(answer.json.error.message).toMatch(message);
}

const classifyUrl = (id = 'model-a') => `${server.url}/api/models/${id}/classify`;

/** A POST written chunk by chunk with node:http, for bodies fetch() cannot send; `cut` ends it early. */
function rawPost(url: string, chunks: Uint8Array[], headers: Record<string, string>, cut = false): Promise<{ status: number; body: Uint8Array }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/msgpack', ...headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: new Uint8Array(Buffer.concat(parts)) }));
    });
    req.on('error', (e) => (cut ? resolve({ status: 0, body: new Uint8Array() }) : reject(e)));
    for (const c of chunks) req.write(c);
    if (cut) setTimeout(() => req.destroy(), 100);
    else req.end();
  });
}

beforeAll(async () => {
  server = await startTestServer({ modelDirs: [await modelsDir([modelA, modelB])] });
  single = await IndependentClient.connect(server.url, 'model-a', 'single');
  batch = await IndependentClient.connect(server.url, 'model-a', 'batch');
  expect((await single.registerKeys()).status).toBe(201);
  expect((await batch.registerKeys()).status).toBe(201);
}, 120_000);

afterAll(async () => {
  single?.dispose();
  batch?.dispose();
  await server?.stop();
});

describe('malformed messages', () => {
  it('refuses bodies that are not protocol messages', async () => {
    const record = randomRecords(modelA, 1);
    const good = single.classifyMessage(record);
    expectRefusal(await postMsgpack(classifyUrl(), new Uint8Array([0xc1, 0x00])), 400, 'bad_request', /MessagePack/);
    expectRefusal(await postMsgpack(classifyUrl(), encode([1, 2, 3])), 400, 'bad_request', /map/);
    expectRefusal(await postMsgpack(classifyUrl(), { ...good, protocol: 3 }), 400, 'unsupported_protocol', /protocol 3, newer than the service's protocol 2/);
    expectRefusal(await postMsgpack(classifyUrl(), { ...good, protocol: 1 }), 400, 'unsupported_protocol', /older than the service's protocol 2: reload the page/);
    expectRefusal(await postMsgpack(classifyUrl(), { ...good, type: 'keys' }), 400, 'bad_request', /expected a "classify"/);
    expectRefusal(await postMsgpack(classifyUrl(), { ...good, keyId: undefined }), 400, 'bad_request', /keyId/);
    expectRefusal(await postMsgpack(classifyUrl(), { ...good, ciphertexts: ['text, not bytes'] }), 400, 'bad_request', /ciphertexts\.0/);
    const json = await fetch(classifyUrl(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expectRefusal({ status: json.status, headers: json.headers, json: await json.json() }, 415, 'unsupported_media_type');
    const huge = await fetch(classifyUrl(), { method: 'POST', headers: { 'content-type': 'application/msgpack' }, body: new Uint8Array(17 * 1024 * 1024) });
    expectRefusal({ status: huge.status, headers: huge.headers, json: await huge.json() }, 413, 'payload_too_large');
  });

  it('reads chunked bodies, and refuses ones over the limit or shorter than they declared', async () => {
    const records = randomRecords(modelA, 3, 31);
    const body = encode(batch.classifyMessage(records));
    // Without a Content-Length: read in chunks, then answered like any other.
    const chunked = await rawPost(classifyUrl(), [body.subarray(0, 1000), body.subarray(1000)], { 'transfer-encoding': 'chunked' });
    expect(chunked.status).toBe(200);
    expect(batch.decrypt(decode(chunked.body) as { count: number; ciphertext: Uint8Array })).toEqual(records.map((q) => referenceScore(modelA, q)));
    // Chunked past the route's limit (16 MiB): refused once the limit is crossed.
    const big = new Uint8Array(1024 * 1024);
    const over = await rawPost(classifyUrl(), Array.from({ length: 17 }, () => big), { 'transfer-encoding': 'chunked' });
    expectRefusal({ status: over.status, headers: new Headers(), json: JSON.parse(new TextDecoder().decode(over.body)) }, 413, 'payload_too_large');
    // A declared length the client never sends: the connection ends, the server goes on.
    const short = await rawPost(classifyUrl(), [body.subarray(0, 100)], { 'content-length': String(body.length) }, true);
    expect(short.status).toBe(0);
    expect(await batch.classify(records)).toEqual(records.map((q) => referenceScore(modelA, q)));
  });

  it('refuses messages made for another model, plan or shape', async () => {
    const record = randomRecords(modelA, 1);
    const good = single.classifyMessage(record);
    expectRefusal(await postMsgpack(classifyUrl('no-such-model'), good), 404, 'unknown_model');
    expectRefusal(await postMsgpack(classifyUrl(), { ...good, modelHash: modelB.hash }), 409, 'model_mismatch', /fetch its card again/);
    expectRefusal(await postMsgpack(classifyUrl('model-b'), good), 409, 'model_mismatch');
    expectRefusal(await postMsgpack(classifyUrl(), { ...good, planHash: 'f'.repeat(64) }), 409, 'plan_mismatch');
    expectRefusal(await postMsgpack(classifyUrl(), { ...good, layout: 'batch' }), 400, 'shape_mismatch', /layout/);
    expectRefusal(await postMsgpack(classifyUrl(), { ...good, ciphertexts: [...good.ciphertexts, ...good.ciphertexts] }), 400, 'shape_mismatch', /takes 1 ciphertexts, got 2/);
    expectRefusal(await postMsgpack(classifyUrl(), { ...good, count: 2 }), 400, 'shape_mismatch', /at most 1 records, got 2/);
    const batchGood = batch.classifyMessage(randomRecords(modelA, 3));
    expectRefusal(await postMsgpack(classifyUrl(), { ...batchGood, count: 5000 }), 400, 'shape_mismatch', /at most 4096 records/);
    expectRefusal(await postMsgpack(classifyUrl(), { ...good, keyId: 'a'.repeat(64) }), 404, 'unknown_key', /POST them/);
    // Keys are bound to the plan they were registered for: under another plan they are unknown.
    expectRefusal(await postMsgpack(classifyUrl(), { ...good, keyId: batch.keyId }), 404, 'unknown_key', /registered for plan/);
    expectRefusal(await postMsgpack(classifyUrl(), { ...batchGood, count: 0 }), 400, 'shape_mismatch', /at least one record/);
  });
});

describe('ciphertexts SEAL must not load', () => {
  it('refuses truncated, garbage, foreign, lowered, transparent and inflating ciphertexts', async () => {
    const record = randomRecords(modelA, 1);
    const good = single.classifyMessage(record);
    const ct = good.ciphertexts[0]!;
    const vector = single.pack(record)[0]!;
    const withCt = (c: Uint8Array) => ({ ...good, ciphertexts: [c] });
    expectRefusal(await postMsgpack(classifyUrl(), withCt(ct.subarray(0, ct.length >> 1))), 422, 'ciphertext_refused', /truncated/);
    expectRefusal(await postMsgpack(classifyUrl(), withCt(randomBytes(5000))), 422, 'ciphertext_refused', /not a SEAL object/);
    expectRefusal(await postMsgpack(classifyUrl(), withCt(sealObject(2, randomBytes(5000)))), 422, 'ciphertext_refused', /damaged zstd/);
    expectRefusal(await postMsgpack(classifyUrl(), withCt(sealObject(0, randomBytes(5000)))), 422, 'ciphertext_refused', /could not be read/);
    expectRefusal(await postMsgpack(classifyUrl(), withCt(new Uint8Array(0))), 422, 'ciphertext_refused', /too short/);
    // A batch-plan ciphertext (other parameters) in a single-plan message.
    expectRefusal(await postMsgpack(classifyUrl(), withCt(batch.classifyMessage(record).ciphertexts[0]!)), 422, 'ciphertext_refused', /could not be read/);
    expectRefusal(await postMsgpack(classifyUrl(), withCt(loweredCiphertext(single, vector))), 422, 'ciphertext_refused', /not a fresh encryption/);
    expectRefusal(await postMsgpack(classifyUrl(), withCt(transparentCiphertext(single, vector))), 422, 'ciphertext_refused', /transparent/);
    const t0 = performance.now();
    expectRefusal(await postMsgpack(classifyUrl(), withCt(zstdBomb(256 * 1024 * 1024))), 422, 'ciphertext_refused', /inflates beyond/);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('accepts every encoding the protocol allows', async () => {
    const records = randomRecords(modelA, 5, 17);
    for (const mode of ['none', 'zlib', 'zstd'] as const) {
      const answer = await postMsgpack(classifyUrl(), batch.classifyMessage(records, mode));
      expect(answer.status).toBe(200);
      expect(batch.decrypt(answer.message)).toEqual(records.map((q) => referenceScore(modelA, q)));
    }
  });
});

describe('keys a plan does not take, and keys SEAL must not load', () => {
  const keysUrl = () => `${server.url}/api/keys`;

  it('refuses a keys message of protocol 1 with words that say to reload the app', async () => {
    const { publicKey: _, ...old } = single.keysMessage();
    const answer = await postMsgpack(keysUrl(), { ...old, protocol: 1, relin: batch.keysMessage().relin, galois: null });
    expectRefusal(answer, 400, 'unsupported_protocol', /this client speaks protocol 1, older than the service's protocol 2: reload the page/);
    expect(answer.json.error.message).not.toMatch(/field/);
  });

  it('takes exactly the keys the plan names: the public key for single, relinearization keys for batch', async () => {
    const good = single.keysMessage();
    expect(good.publicKey).toBeInstanceOf(Uint8Array);
    expect([good.relin, good.galois]).toEqual([null, null]);
    const singleWith = (keys: { relin?: Uint8Array | null; galois?: Uint8Array | null; publicKey?: Uint8Array | null }) => {
      const m = { ...good, ...keys };
      return { ...m, keyId: keyIdOf(m.relin, m.galois, m.publicKey) };
    };
    const extra = single.keysMessage('zstd', { relin: true, publicKey: true, galoisSteps: [1] });
    expectRefusal(await postMsgpack(keysUrl(), singleWith({ publicKey: null })), 422, 'keys_refused', /single plan .* needs the public key: send it in "publicKey"/);
    expectRefusal(await postMsgpack(keysUrl(), singleWith({ relin: extra.relin })), 422, 'keys_refused', /does not take relinearization keys: send "relin" as nil/);
    expectRefusal(await postMsgpack(keysUrl(), singleWith({ galois: extra.galois })), 422, 'keys_refused', /does not take Galois keys: send "galois" as nil/);
    // A field left out is a malformed message, named as such.
    const { publicKey: _, ...withoutField } = good;
    expectRefusal(await postMsgpack(keysUrl(), withoutField), 400, 'bad_request', /field publicKey/);

    const batchGood = batch.keysMessage();
    expect(batchGood.relin).toBeInstanceOf(Uint8Array);
    const batchWith = (keys: { relin?: Uint8Array | null; publicKey?: Uint8Array | null }) => {
      const m = { ...batchGood, ...keys };
      return { ...m, keyId: keyIdOf(m.relin, m.galois, m.publicKey) };
    };
    const batchPublicKey = batch.keysMessage('zstd', { relin: false, publicKey: true, galoisSteps: [] }).publicKey;
    expectRefusal(await postMsgpack(keysUrl(), batchWith({ relin: null })), 422, 'keys_refused', /batch plan .* needs relinearization keys/);
    expectRefusal(await postMsgpack(keysUrl(), batchWith({ publicKey: batchPublicKey })), 422, 'keys_refused', /does not take the public key: send "publicKey" as nil/);
  });

  it('refuses wrong ids, damaged, oversized and foreign keys', async () => {
    const good = single.keysMessage();
    const withPublicKey = (publicKey: Uint8Array) => ({ ...good, publicKey, keyId: keyIdOf(null, null, publicKey) });
    expectRefusal(await postMsgpack(keysUrl(), { ...good, keyId: 'b'.repeat(64) }), 400, 'key_id_mismatch');
    // Other bytes under an id already registered (and loaded in a worker) are refused too.
    expectRefusal(await postMsgpack(keysUrl(), { ...good, keyId: single.keyId }), 400, 'key_id_mismatch');
    expectRefusal(await postMsgpack(keysUrl(), { ...good, planHash: 'c'.repeat(64) }), 404, 'unknown_plan');
    expectRefusal(await postMsgpack(keysUrl(), { ...good, modelHash: modelB.hash }), 409, 'model_mismatch');
    expectRefusal(await postMsgpack(keysUrl(), withPublicKey(randomBytes(4000))), 422, 'keys_refused', /public key is not a SEAL object/);
    expectRefusal(await postMsgpack(keysUrl(), withPublicKey(good.publicKey!.subarray(0, 1000))), 422, 'keys_refused', /truncated/);
    expectRefusal(await postMsgpack(keysUrl(), withPublicKey(zstdBomb(512 * 1024 * 1024))), 422, 'keys_refused', /inflates beyond/);
    // Larger than a public key of the plan can be: refused before a worker sees it.
    expectRefusal(await postMsgpack(keysUrl(), withPublicKey(sealObject(0, randomBytes(300_000)))), 422, 'keys_refused', /"publicKey" holds 300016 bytes, more than the public key of this plan can be/);
    // The public key of another plan's parameters.
    const foreign = batch.keysMessage('zstd', { relin: false, publicKey: true, galoisSteps: [] }).publicKey!;
    expectRefusal(await postMsgpack(keysUrl(), withPublicKey(foreign)), 422, 'keys_refused');
    const batchKeys = batch.keysMessage();
    expectRefusal(await postMsgpack(keysUrl(), { ...batchKeys, relin: good.publicKey, keyId: keyIdOf(good.publicKey, null, null) }), 422, 'keys_refused');
    expectRefusal(await postMsgpack(keysUrl(), { ...batchKeys, type: 'classify' }), 400, 'bad_request');
  });
});

describe('after all of it', () => {
  it('never answered 500 and still classifies correctly', async () => {
    expect(statuses.length).toBeGreaterThan(30);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    const records = randomRecords(modelA, 2, 23);
    for (const q of records) expect(await single.classify([q])).toEqual([referenceScore(modelA, q)]);
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
  });
});
