/**
 * Worker operations that make or read wire messages: evaluation-key registration, encrypted
 * classify requests and their results, as two mirrored verbs (quantize + encrypt + serialize;
 * deserialize + decrypt + decode). The page only ever holds its records' values, the encoded
 * bodies (opaque bytes) and the decoded predictions; quantized values and ciphertexts exist here.
 */
import { transfer } from 'comlink';
import { hashParts } from '../../src/core/hash.ts';
import { decodeMessage, encodeMessage, inputToWire, keysToWire, resultFromWire } from '../../src/core/protocol/codec.ts';
import { sessionFor } from './session.ts';
import type { KeyInfo } from './vault.ts';
import { keyBytesOf } from '../../src/core/he/types.ts';
import type { ModelBody, OutputDecoding } from '../../src/core/model/format.ts';
import { decodeScore, quantizeRecord, type PlainRecord } from '../../src/core/model/reference.ts';

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
 * What an encryption may carry besides the records: `variants`, values of records packed beside
 * a single record in its one ciphertext (single layout, core/explain), region r + 1 each.
 */
export interface EncryptOptions {
  variants?: readonly PlainRecord[];
}

/** What a decryption may read besides the records' scores: `variants`, how many were packed beside the record. */
export interface DecryptOptions {
  variants?: number;
}

/**
 * One record's answer as the page uses it: the risk shown to people (for those like the ones
 * the model learned from; never the class-balanced probability the metrics use), the
 * classifier's decision, and the decrypted integer both come from.
 */
export interface Prediction {
  score: number;
  risk: number;
  positive: boolean;
}

/** One result message, read: a prediction per record it carried, in order. */
export interface DecryptedResult {
  predictions: Prediction[];
  /** With `variants`: the integer output of every region, the record's (region 0) first. */
  regionScores?: number[];
}

function prediction(output: OutputDecoding, score: number): Prediction {
  const decoded = decodeScore(output, score);
  return { score, risk: decoded.risk, positive: decoded.positive };
}

/**
 * Quantizes records with the card's public statistics, encrypts them and serializes them into
 * as many classify requests as the plan needs. The page hands over values and gets opaque
 * bytes back: it never holds a quantized record.
 */
export async function encryptRecords(plan: unknown, model: Pick<ModelBody, 'input'>, keyId: string, records: readonly PlainRecord[], options: EncryptOptions = {}): Promise<WireBody[]> {
  const { client } = await sessionFor(plan);
  const d = client.plan.featureCount;
  const variants = options.variants ?? [];
  if (variants.length > 0 && records.length !== 1) throw new RangeError('variants go beside one record only');
  const quantized = [...records, ...variants].map((r) => {
    if (r.length !== d) throw new RangeError(`a record has ${r.length} values; the model expects ${d}`);
    return quantizeRecord(model, r);
  });
  const inputs = variants.length > 0 ? [client.encryptVariants(quantized)] : client.encryptRecords(quantized);
  const out = inputs.map((input) => ({
    body: encodeMessage(inputToWire(input, keyId)),
    count: input.count,
    contentHash: hashParts(input.ciphertexts),
    contentBytes: input.ciphertexts.reduce((s, c) => s + c.length, 0),
  }));
  for (const q of quantized) q.fill(0);
  return moved(out);
}

/**
 * Deserializes result messages, decrypts them and decodes each score into the risk shown (the
 * card's public decoding), checking each was computed for this plan and model.
 */
export async function decryptResults(plan: unknown, output: OutputDecoding, results: Uint8Array[], options: DecryptOptions = {}): Promise<DecryptedResult[]> {
  const { client } = await sessionFor(plan);
  return results.map((bytes, i) => {
    const message = decodeMessage(bytes, 'result');
    if (message.planHash !== client.plan.hash || message.modelHash !== client.plan.modelHash) {
      throw new Error(`result ${i + 1} was computed for another model or plan`);
    }
    const result = resultFromWire(message);
    // With variants, one decryption gives every region; region 0 is the record's own score.
    if (!options.variants) return { predictions: client.decryptScores(result).map((score) => prediction(output, score)) };
    const regionScores = client.decryptVariants(result, 1 + options.variants);
    return { predictions: [prediction(output, regionScores[0]!)], regionScores };
  });
}
