/**
 * Worker operations that make or read wire messages: evaluation-key registration, encrypted
 * classify requests and their results. The page only ever holds the encoded bodies (opaque
 * bytes) and the decrypted scores; ciphertexts are made and read here.
 */
import { transfer } from 'comlink';
import { hashParts } from '../../src/core/hash.ts';
import { decodeMessage, encodeMessage, inputToWire, keysToWire, resultFromWire } from '../../src/core/protocol/codec.ts';
import { sessionFor } from './session.ts';
import type { KeyInfo } from './vault.ts';
import { keyBytesOf } from '../../src/core/he/types.ts';

/** A request body ready to send, with what the "left this device" panel shows about it. */
export interface WireBody {
  body: Uint8Array;
  /** Records it carries (0 for a key registration). */
  count: number;
  /** SHA-256 over its ciphertexts (or key bytes), length-prefixed. */
  contentHash: string;
  /** Bytes of ciphertext or key material inside the body. */
  contentBytes: number;
}

/** A buffer that is exactly the view, so transferring it moves no more than the view. */
function own(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

const moved = <T extends { body: Uint8Array }>(items: T[]): T[] => {
  for (const item of items) item.body = own(item.body);
  return transfer(items, items.map((i) => i.body.buffer as ArrayBuffer));
};

/** Makes (or loads) the key for a plan; returns what the page may know about it. */
export async function prepare(plan: unknown): Promise<KeyInfo> {
  return (await sessionFor(plan)).key;
}

/** Fresh evaluation keys for a plan, encoded as a registration message. */
export async function registration(plan: unknown): Promise<WireBody & { keyId: string }> {
  const { client } = await sessionFor(plan);
  const bundle = client.evaluationKeys();
  const body = encodeMessage(keysToWire(bundle, client.plan.modelHash));
  const contentBytes = keyBytesOf(bundle);
  const [out] = moved([{ body, count: 0, contentHash: bundle.keyId, contentBytes, keyId: bundle.keyId }]);
  return out!;
}

/**
 * Encrypts quantized records (`flat`: count × featureCount integers, row-major) into as many
 * classify requests as the plan needs.
 */
export async function encrypt(plan: unknown, keyId: string, flat: Int32Array): Promise<WireBody[]> {
  const { client } = await sessionFor(plan);
  const d = client.plan.featureCount;
  if (flat.length % d !== 0) throw new RangeError(`${flat.length} values do not split into records of ${d} features`);
  const records = Array.from({ length: flat.length / d }, (_, r) => flat.subarray(r * d, (r + 1) * d));
  const out = client.encryptRecords(records).map((input) => ({
    body: encodeMessage(inputToWire(input, keyId)),
    count: input.count,
    contentHash: hashParts(input.ciphertexts),
    contentBytes: input.ciphertexts.reduce((s, c) => s + c.length, 0),
  }));
  return moved(out);
}

/** Decrypts result messages into integer scores, one array per message, checking each fits the plan. */
export async function decrypt(plan: unknown, results: Uint8Array[]): Promise<number[][]> {
  const { client } = await sessionFor(plan);
  return results.map((bytes, i) => {
    const message = decodeMessage(bytes, 'result');
    if (message.planHash !== client.plan.hash || message.modelHash !== client.plan.modelHash) {
      throw new Error(`result ${i + 1} was computed for another model or plan`);
    }
    return client.decryptScores(resultFromWire(message));
  });
}
