/**
 * Explanations and what-ifs through real encryption: for every default model, a record and all
 * its variants travel in one single-layout ciphertext, the server's circuit runs once from
 * evaluation keys only, and every region decrypts to the integer reference of its variant. The
 * upload is the single prediction's, byte for byte in size and field for field in shape.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePlan, HeClient, HeEvaluator, loadSeal, REQUIRED_MARGIN_BITS, type EncryptedResult, type HePlan, type LoadedKeys } from '../src/core/he/index.ts';
import { contextFor } from '../src/core/he/params.ts';
import { planVariants, readExplanation } from '../src/core/explain/index.ts';
import { decodeRisk, quantizeRecord, referenceScore, type PlainRecord } from '../src/core/model/reference.ts';
import type { TernaryModel } from '../src/core/model/format.ts';
import { defaultModels } from './support/defaults.ts';

const models = await defaultModels();

/** Records anywhere in each feature's range, a few values missing. */
function records(model: TernaryModel) {
  return fc.tuple(...model.features.map((f) => fc.option(f.kind === 'binary' ? fc.constantFrom(0, 1) : fc.double({ min: f.min, max: f.max, noNaN: true }), { freq: 8 }))) as fc.Arbitrary<PlainRecord>;
}

describe.each(models.map((m) => [m.id, m] as const))('%s', (_id, model) => {
  let plan: HePlan;
  let client: HeClient;
  let evaluator: HeEvaluator;
  let keys: LoadedKeys;
  beforeAll(async () => {
    plan = await compilePlan(model, 'single');
    client = await HeClient.create(plan);
    evaluator = await HeEvaluator.create(model, plan);
    keys = evaluator.loadKeys(client.evaluationKeys());
  }, 60_000);
  afterAll(() => {
    keys.dispose();
    evaluator.dispose();
    client.dispose();
  });

  /** One request: the variants encrypted together, evaluated once, every region decrypted. */
  const explainEncrypted = (record: PlainRecord) => {
    const variants = planVariants(model, record, client.regions);
    const input = client.encryptVariants(variants.records);
    const result = evaluator.evaluate(input, keys);
    return { variants, input, result, scores: client.decryptVariants(result, variants.records.length) };
  };

  it('proves its plan on fully packed ciphertexts with the required margin', () => {
    expect(plan.report.noiseMarginBits).toBeGreaterThanOrEqual(REQUIRED_MARGIN_BITS);
    expect(client.regions).toBe(plan.params.polyModulusDegree / (plan.circuit.single!.blocks * plan.circuit.single!.unitStride));
  });

  it('decrypts every variant region to the reference of that variant (random records)', () => {
    fc.assert(
      fc.property(records(model), (record) => {
        const { variants, scores } = explainEncrypted(record);
        expect(variants.records.length).toBeGreaterThan(model.features.length / 2);
        expect(scores).toEqual(variants.plain.map((p) => referenceScore(model, quantizeRecord(model, p))));
        const read = readExplanation(variants, model.output, scores);
        expect(read.risk).toBe(decodeRisk(model.output, referenceScore(model, quantizeRecord(model, record))));
      }),
      { numRuns: 8 },
    );
  }, 120_000);

  it('fills every region with a different record and reads each back exactly', () => {
    // Extremes and random levels in all regions at once: the fullest ciphertext a client can send.
    const Q = 7;
    const all = Array.from({ length: client.regions }, (_, r) => Int32Array.from(model.features, (_, i) => (r === 0 ? Q : r === 1 ? -Q : (((r * 7 + i * 13) % (2 * Q + 1)) - Q))));
    const result = evaluator.evaluate(client.encryptVariants(all), keys);
    expect(client.decryptVariants(result, all.length)).toEqual(all.map((q) => referenceScore(model, q)));
    expect(client.noiseBudget(result)).toBeGreaterThanOrEqual(REQUIRED_MARGIN_BITS);
  }, 60_000);

  it('keeps every slot but the regions\' first blinded, freshly each time', async () => {
    const record = model.input.mean.map((m, i) => m - model.input.std[i]!);
    const { variants, input } = explainEncrypted(record);
    const R = plan.circuit.single!.blocks * plan.circuit.single!.unitStride;
    const [a, b] = [await allSlots(evaluator.evaluate(input, keys)), await allSlots(evaluator.evaluate(input, keys))];
    variants.records.forEach((q, r) => expect([a[r * R], b[r * R]]).toEqual([referenceScore(model, q), referenceScore(model, q)]));
    // Elsewhere the two answers to one input agree only by chance (1 in t per slot).
    const same = a.filter((y, s) => s % R !== 0 && y === b[s]).length;
    expect(same).toBeLessThanOrEqual(2);
    expect(a.filter((_, s) => s % R === 0)).toHaveLength(client.regions);
  }, 60_000);

  it('refuses more records than regions, and reading more regions than exist', () => {
    const q = quantizeRecord(model, model.input.mean);
    expect(() => client.encryptVariants(Array.from({ length: client.regions + 1 }, () => q))).toThrow(/holds 1 to \d+ records/);
    const result = evaluator.evaluate(client.encryptVariants([q]), keys);
    expect(() => client.decryptVariants(result, client.regions + 1)).toThrow(/1 to \d+ region outputs/);
  });

  /** Every slot of a result, decrypted with the client's secret key outside the client (as a check only). */
  async function allSlots(result: EncryptedResult): Promise<number[]> {
    const seal = await loadSeal();
    const context = contextFor(seal, plan.params);
    const sk = new seal.SecretKey();
    const ct = new seal.Ciphertext();
    const pt = new seal.Plaintext();
    const decryptor = (() => {
      sk.loadFromArray(context, client.exportSecretKey());
      return new seal.Decryptor(context, sk);
    })();
    const encoder = new seal.BatchEncoder(context);
    try {
      ct.loadFromArray(context, result.ciphertext);
      decryptor.decrypt(ct, pt);
      return Array.from(encoder.decodeBigInt64(pt) as BigInt64Array, Number);
    } finally {
      [encoder, decryptor, pt, ct, sk].forEach((o) => o.delete()); // the context is shared (params.ts caches it)
    }
  }

  it('uploads what a single prediction uploads: one ciphertext, same size, same envelope', () => {
    const record = model.input.mean.map((m, i) => m + model.input.std[i]!);
    const single = client.encryptRecord(quantizeRecord(model, record));
    const { input, result, scores } = explainEncrypted(record);
    const { ciphertexts: a, ...envelopeA } = single;
    const { ciphertexts: b, ...envelopeB } = input;
    expect(envelopeB).toEqual(envelopeA);
    expect(b.map((c) => c.length)).toEqual(a.map((c) => c.length));
    // Region 0 is today's answer, read the way today's client reads it.
    expect(client.decryptScores(result)).toEqual([scores[0]]);
    expect(scores[0]).toBe(referenceScore(model, quantizeRecord(model, record)));
  }, 60_000);
});
