/**
 * Explanations and what-ifs through real encryption: for every default model, a record and all
 * its variants travel in one single-layout ciphertext, the server's circuit runs once from
 * evaluation keys only, and every region decrypts to the integer reference of its variant. The
 * upload is the single prediction's, within a few bytes in size and field for field in shape.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePlan, FLOODED_MARGIN_BITS, HeClient, HeEvaluator, SINGLE_TARGETS, type HePlan, type LoadedKeys } from '../src/core/he/index.ts';
import { sparseResultBytes } from '../src/core/he/sparse-result.ts';
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
    expect(plan.report.requiredMarginBits).toBe(FLOODED_MARGIN_BITS);
    expect(plan.report.noiseMarginBits).toBeGreaterThanOrEqual(FLOODED_MARGIN_BITS);
    const d = model.features.length;
    expect(client.regions).toBe(Math.floor(plan.params.polyModulusDegree / (d + (d * (d + 1)) / 2)));
  });

  it('decrypts every variant region to the reference of that variant (random records)', () => {
    fc.assert(
      fc.property(records(model), (record) => {
        const { variants, scores } = explainEncrypted(record);
        // As many variants as the regions hold (breast cancer's 30 features share 8 regions).
        expect(variants.records.length).toBeLessThanOrEqual(client.regions);
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
  }, 60_000);

  it('answers each request afresh and sends c0 at the output positions only', () => {
    const record = model.input.mean.map((m, i) => m - model.input.std[i]!);
    const { variants, input } = explainEncrypted(record);
    const [a, b] = [evaluator.evaluate(input, keys), evaluator.evaluate(input, keys)];
    // Re-randomized and flooded each time: the same input never gives the same bytes twice...
    expect(a.ciphertext).not.toEqual(b.ciphertext);
    // ...and both decrypt to the same outputs.
    const expected = variants.records.map((q) => referenceScore(model, q));
    expect(client.decryptVariants(a, variants.records.length)).toEqual(expected);
    expect(client.decryptVariants(b, variants.records.length)).toEqual(expected);
    const { k0, k1 } = plan.circuit.layout === 'single' ? plan.circuit.result : { k0: 0, k1: 0 };
    expect(a.ciphertext.length).toBe(sparseResultBytes(plan.params.polyModulusDegree, client.regions, k0, k1));
    expect(a.ciphertext.length).toBeLessThanOrEqual(SINGLE_TARGETS.downloadBytes);
  }, 60_000);

  it('refuses more records than regions, and reading more regions than exist', () => {
    const q = quantizeRecord(model, model.input.mean);
    expect(() => client.encryptVariants(Array.from({ length: client.regions + 1 }, () => q))).toThrow(/holds 1 to \d+ records/);
    const result = evaluator.evaluate(client.encryptVariants([q]), keys);
    expect(() => client.decryptVariants(result, client.regions + 1)).toThrow(/1 to \d+ region outputs/);
  });

  it('uploads what a single prediction uploads: one ciphertext, same size, same envelope', () => {
    const record = model.input.mean.map((m, i) => m + model.input.std[i]!);
    const single = client.encryptRecord(quantizeRecord(model, record));
    const { input, result, scores } = explainEncrypted(record);
    const { ciphertexts: a, ...envelopeA } = single;
    const { ciphertexts: b, ...envelopeB } = input;
    expect(envelopeB).toEqual(envelopeA);
    // zstd-compressed random words: the sizes differ by tens of bytes from one encryption to the next (79 once seen).
    expect(b).toHaveLength(a.length);
    b.forEach((c, i) => expect(Math.abs(c.length - a[i]!.length)).toBeLessThanOrEqual(256));
    expect(Math.max(...a.map((c) => c.length), ...b.map((c) => c.length))).toBeLessThanOrEqual(SINGLE_TARGETS.uploadBytes);
    // Region 0 is today's answer, read the way today's client reads it.
    expect(client.decryptScores(result)).toEqual([scores[0]]);
    expect(scores[0]).toBe(referenceScore(model, quantizeRecord(model, record)));
  }, 60_000);
});
