/**
 * The encryption engine against the real SEAL, on small synthetic models: exactness, refusals
 * of foreign keys, plans and damaged ciphertexts, results only uncompressed, the security check
 * and the noise margin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zstdCompressSync } from 'node:zlib';
import { compilePlan, HeClient, HeEvaluator, HeInputError, HeParameterError, PlanError, readSealHeader, REQUIRED_MARGIN_BITS, SEAL_HEADER_BYTES, verifyPlan, type HePlan } from '../src/core/he/index.ts';
import { contextFor, chooseParameters } from '../src/core/he/params.ts';
import { loadSeal } from '../src/core/he/seal.ts';
import { referenceScore } from '../src/core/model/reference.ts';
import { randomRecords, syntheticModel } from './support/synthetic.ts';

const modelA = syntheticModel(12, 8, 7, 'model-a');
const modelB = syntheticModel(12, 8, 11, 'model-b');
const plans: Record<string, HePlan> = {};

beforeAll(async () => {
  plans.batchA = await compilePlan(modelA, 'batch');
  plans.singleA = await compilePlan(modelA, 'single');
  plans.batchB = await compilePlan(modelB, 'batch');
});

describe.each(['batch', 'single'] as const)('%s layout', (layout) => {
  let client: HeClient;
  let evaluator: HeEvaluator;
  const plan = () => (layout === 'batch' ? plans.batchA! : plans.singleA!);
  beforeAll(async () => {
    client = await HeClient.create(plan());
    evaluator = await HeEvaluator.create(modelA, plan());
  });
  afterAll(() => {
    client.dispose();
    evaluator.dispose();
  });

  it('decrypts to the integer reference for every record', () => {
    const records = randomRecords(modelA, layout === 'batch' ? 300 : 6);
    using keys = evaluator.loadKeys(client.evaluationKeys());
    const scores = client.encryptRecords(records).flatMap((input) => client.decryptScores(evaluator.evaluate(input, keys)));
    expect(scores).toEqual(records.map((q) => referenceScore(modelA, q)));
  });

  it('gives nothing useful to another key', async () => {
    const records = randomRecords(modelA, 4, 9);
    using keys = evaluator.loadKeys(client.evaluationKeys());
    const results = client.encryptRecords(records).map((input) => evaluator.evaluate(input, keys));
    using stranger = await HeClient.create(plan());
    const theirs = results.flatMap((r) => stranger.decryptScores(r));
    const truth = records.map((q) => referenceScore(modelA, q));
    expect(theirs.filter((y, i) => y === truth[i]).length).toBe(0);
  });

  it('refuses damaged and transplanted ciphertexts with a reason', () => {
    using keys = evaluator.loadKeys(client.evaluationKeys());
    const [input] = client.encryptRecords(randomRecords(modelA, 1));
    const truncated = { ...input!, ciphertexts: input!.ciphertexts.map((c) => c.subarray(0, c.length >> 1)) };
    expect(() => evaluator.evaluate(truncated, keys)).toThrow(/ciphertext 0: could not be read/);
    const garbage = { ...input!, ciphertexts: input!.ciphertexts.map((c) => c.map((_, i) => (i * 37) & 255)) };
    expect(() => evaluator.evaluate(garbage, keys)).toThrow(HeInputError);
    const wrongCount = { ...input!, ciphertexts: [...input!.ciphertexts, input!.ciphertexts[0]!] };
    expect(() => evaluator.evaluate(wrongCount, keys)).toThrow(/expected \d+ ciphertexts/);
  });

  it('sends results uncompressed and decrypts only those', () => {
    using keys = evaluator.loadKeys(client.evaluationKeys());
    const records = randomRecords(modelA, 2, 5);
    const [input] = client.encryptRecords(records);
    const result = evaluator.evaluate(input!, keys);
    expect(readSealHeader(result.ciphertext, 'result')).toBe('none');
    // The same result, zstd-compressed as SEAL would write it: refused before SEAL inflates it.
    const payload = zstdCompressSync(result.ciphertext.subarray(SEAL_HEADER_BYTES));
    const compressed = new Uint8Array(SEAL_HEADER_BYTES + payload.length);
    compressed.set(result.ciphertext.subarray(0, SEAL_HEADER_BYTES));
    compressed.set(payload, SEAL_HEADER_BYTES);
    const head = new DataView(compressed.buffer);
    head.setUint8(5, 2);
    head.setBigUint64(8, BigInt(compressed.length), true);
    expect(() => client.decryptScores({ ...result, ciphertext: compressed })).toThrow(/zstd-compressed; results are taken only uncompressed/);
    const padded = new Uint8Array(result.ciphertext.length + 8);
    padded.set(result.ciphertext);
    expect(() => client.decryptScores({ ...result, ciphertext: padded })).toThrow(HeInputError);
    expect(client.decryptScores(result).slice(0, layout === 'batch' ? 2 : 1)).toEqual(records.slice(0, layout === 'batch' ? 2 : 1).map((q) => referenceScore(modelA, q)));
  });
});

describe('another model', () => {
  it('refuses ciphertexts made for a different model, by envelope and by content', async () => {
    using clientA = await HeClient.create(plans.batchA!);
    using evalB = await HeEvaluator.create(modelB, plans.batchB!);
    using clientB = await HeClient.create(plans.batchB!);
    using keysB = evalB.loadKeys(clientB.evaluationKeys());
    const [input] = clientA.encryptRecords(randomRecords(modelA, 3));
    expect(() => evalB.evaluate(input!, keysB)).toThrow(/made for model/);
    // Relabelled as model B's: same parameters here, so the envelope is the only line of defence
    // for same-shaped models; a different plan's parameters are refused by SEAL itself.
    expect(() => evalB.loadKeys(clientA.evaluationKeys())).toThrow(/made for plan/);
  });

  it('refuses ciphertexts under other encryption parameters', async () => {
    using single = await HeClient.create(plans.singleA!);
    using batchEval = await HeEvaluator.create(modelA, plans.batchA!);
    using batchClient = await HeClient.create(plans.batchA!);
    using keys = batchEval.loadKeys(batchClient.evaluationKeys());
    const [input] = single.encryptRecords(randomRecords(modelA, 1));
    const disguised = { ...input!, layout: 'batch' as const, planHash: plans.batchA!.hash, ciphertexts: Array.from({ length: 12 }, () => input!.ciphertexts[0]!) };
    expect(() => batchEval.evaluate(disguised, keys)).toThrow(/could not be read for this model's encryption parameters/);
  });
});

describe('parameters and noise', () => {
  it('builds every plan at 128-bit security and refuses weaker parameters', async () => {
    const seal = await loadSeal();
    for (const plan of Object.values(plans)) {
      const ctx = contextFor(seal, plan.params);
      const data = ctx.keyContextData();
      const q = data.qualifiers();
      expect(q.securityLevel).toBe(seal.SecLevelType.tc128);
      q.delete();
      data.delete();
    }
    const weak = chooseParameters(seal, 'bgv', 4096, [60, 60, 60], 20); // 180 bits > 109 allowed
    expect(() => contextFor(seal, weak)).toThrow(HeParameterError);
  });

  it('keeps the required noise margin on the real circuit', async () => {
    for (const [name, plan] of Object.entries(plans)) {
      const model = name.endsWith('B') ? modelB : modelA;
      const seen = await verifyPlan(model, plan);
      expect(seen.exact).toBe(true);
      expect(seen.noiseMarginBits, name).toBeGreaterThanOrEqual(REQUIRED_MARGIN_BITS);
    }
  });

  it('refuses a parameter set whose margin is gone, saying so', async () => {
    const tooSmall = [{ scheme: 'bgv' as const, polyModulusDegree: 4096, coeffBits: [30, 30, 30], switchBeforeSquare: 0, switchAfterSquare: 0 }];
    await expect(compilePlan(modelA, 'batch', { candidates: tooSmall })).rejects.toThrow(PlanError);
    await expect(compilePlan(modelA, 'batch', { candidates: tooSmall })).rejects.toThrow(/noise budget left/);
    // Accepted only when no margin is asked for: the results are still exact, with little left.
    const lax = await compilePlan(modelA, 'batch', { candidates: tooSmall, requiredMarginBits: 0 });
    expect(lax.report.noiseMarginBits).toBeLessThan(REQUIRED_MARGIN_BITS);
  });
});
