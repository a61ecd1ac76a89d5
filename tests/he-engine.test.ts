/**
 * The encryption engine against the real SEAL, on small synthetic models: exactness, refusals
 * of foreign keys, plans and damaged ciphertexts, batch results only uncompressed and single
 * ones only sparse, each plan's keys exactly, the security check and the noise margin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zstdCompressSync } from 'node:zlib';
import { compilePlan, HeClient, HeEvaluator, HeInputError, HeParameterError, keyIdOf, PlanError, readSealHeader, REQUIRED_MARGIN_BITS, SEAL_HEADER_BYTES, verifyPlan, type HePlan } from '../src/core/he/index.ts';
import { contextFor, chooseParameters } from '../src/core/he/params.ts';
import { SEAL_CIPHERTEXT_AT, withSealPayload } from '../src/core/he/serialized.ts';
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

  it.runIf(layout === 'single')('refuses a BFV ciphertext in NTT form before the circuit runs', async () => {
    // SEAL loads it and would throw mid-circuit (a WebAssembly exception, not a refusal).
    const seal = await loadSeal();
    const context = contextFor(seal, plan().params);
    using keys = evaluator.loadKeys(client.evaluationKeys());
    const [input] = client.encryptRecords(randomRecords(modelA, 1));
    const flipped = input!.ciphertexts.map((bytes) => {
      const ct = new seal.Ciphertext();
      try {
        ct.loadFromArray(context, bytes);
        const raw = ct.saveToArray(seal.ComprModeType.none) as Uint8Array;
        raw[SEAL_CIPHERTEXT_AT.ntt] = 1;
        return raw;
      } finally {
        ct.delete();
      }
    });
    expect(() => evaluator.evaluate({ ...input!, ciphertexts: flipped }, keys)).toThrow(/ciphertext 0: must be in coefficient form for BFV/);
  });

  it.runIf(layout === 'batch')('sends results uncompressed and decrypts only those', () => {
    using keys = evaluator.loadKeys(client.evaluationKeys());
    const records = randomRecords(modelA, 2, 5);
    const [input] = client.encryptRecords(records);
    const result = evaluator.evaluate(input!, keys);
    expect(readSealHeader(result.ciphertext, 'result')).toBe('none');
    // The same result, zstd-compressed as SEAL would write it: refused before SEAL inflates it.
    const compressed = withSealPayload(result.ciphertext, 'zstd', zstdCompressSync(result.ciphertext.subarray(SEAL_HEADER_BYTES)));
    expect(() => client.decryptScores({ ...result, ciphertext: compressed })).toThrow(/zstd-compressed; results are taken only uncompressed/);
    const padded = new Uint8Array(result.ciphertext.length + 8);
    padded.set(result.ciphertext);
    expect(() => client.decryptScores({ ...result, ciphertext: padded })).toThrow(HeInputError);
    expect(client.decryptScores(result).slice(0, 2)).toEqual(records.slice(0, 2).map((q) => referenceScore(modelA, q)));
  });

  it.runIf(layout === 'single')('takes results only in the sparse format of its plan, refusing any other length in plain words', () => {
    using keys = evaluator.loadKeys(client.evaluationKeys());
    const records = randomRecords(modelA, 2, 5);
    const result = evaluator.evaluate(client.encryptVariants(records), keys);
    expect(client.decryptVariants(result, 2)).toEqual(records.map((q) => referenceScore(modelA, q)));
    for (const bytes of [result.ciphertext.slice(0, -1), new Uint8Array([...result.ciphertext, 0]), result.ciphertext.slice(0, 10)]) {
      expect(() => client.decryptScores({ ...result, ciphertext: bytes })).toThrow(HeInputError);
    }
    // A SEAL ciphertext in place of the sparse result is refused, not decrypted.
    const [sealBytes] = client.encryptRecords(records.slice(0, 1))[0]!.ciphertexts;
    expect(() => client.decryptScores({ ...result, ciphertext: sealBytes! })).toThrow(/not a sparse result/);
    expect(() => client.noiseBudget(result)).toThrow(/output positions only/);
  });

  it('makes exactly the keys its plan names, and the evaluator takes no others', () => {
    const bundle = client.evaluationKeys();
    const p = plan();
    expect({ relin: bundle.relin !== null, publicKey: bundle.publicKey !== null, galois: bundle.galois !== null }).toEqual({ ...p.keys, galois: false });
    expect(bundle.keyId).toBe(keyIdOf(bundle.relin, bundle.galois, bundle.publicKey));
    const other = bundle.relin ? { ...bundle, relin: null } : { ...bundle, publicKey: null };
    expect(() => evaluator.loadKeys(other)).toThrow(/this plan needs .* and none were sent/);
    const extra = bundle.relin ? { ...bundle, publicKey: bundle.relin } : { ...bundle, relin: bundle.publicKey };
    expect(() => evaluator.loadKeys(extra)).toThrow(/this plan takes no .*; send none/);
    const damaged = bundle.relin ? { ...bundle, relin: bundle.relin.subarray(0, 100) } : { ...bundle, publicKey: bundle.publicKey!.subarray(0, 100) };
    expect(() => evaluator.loadKeys(damaged)).toThrow(/could not be read/);
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
      expect(seen.noiseMarginBits, name).toBeGreaterThanOrEqual(plan.report.requiredMarginBits);
      if (plan.layout === 'batch') expect(plan.report.requiredMarginBits).toBe(REQUIRED_MARGIN_BITS);
    }
  });

  it('sizes single plans from the noise bound, refusing what the flood or the size targets do not fit', async () => {
    const plan = plans.singleA!;
    const c = plan.circuit.layout === 'single' ? plan.circuit : undefined;
    expect(c).toMatchObject({ form: 'quadratic', regionLength: 12 + 78, regions: Math.floor(4096 / 90) });
    // f = ⌈log2 b⌉ + ⌈log2 k⌉ + 40, and the flooded, packed result kept its margin.
    expect(c!.floodBits).toBe(plan.report.noiseBoundBits! + Math.ceil(Math.log2(c!.regions)) + 40);
    expect(plan.report.noiseMarginBeforeFloodBits).toBeGreaterThan(c!.floodBits - plan.report.noiseBoundBits!);
    const small = { scheme: 'bfv' as const, polyModulusDegree: 2048, coeffBits: [38, 16], switchBeforeSquare: 0, switchAfterSquare: 0 };
    const large = { scheme: 'bfv' as const, polyModulusDegree: 8192, coeffBits: [60, 60, 60], switchBeforeSquare: 0, switchAfterSquare: 0 };
    const refusal = compilePlan(modelA, 'single', { candidates: [small, large] });
    await expect(refusal).rejects.toThrow(PlanError);
    await expect(refusal).rejects.toThrow(/n=2048 q=38\+16: the flood does not fit/);
    await expect(refusal).rejects.toThrow(/n=8192 q=60\+60\+60 bits t=\d+ bits: upload \d+ B > 65536 B/);
  }, 60_000);

  it('refuses a parameter set whose margin is gone, saying so', async () => {
    const tooSmall = [{ scheme: 'bgv' as const, polyModulusDegree: 4096, coeffBits: [30, 30, 30], switchBeforeSquare: 0, switchAfterSquare: 0 }];
    await expect(compilePlan(modelA, 'batch', { candidates: tooSmall })).rejects.toThrow(PlanError);
    await expect(compilePlan(modelA, 'batch', { candidates: tooSmall })).rejects.toThrow(/noise budget left/);
    // Accepted only when no margin is asked for: the results are still exact, with little left.
    const lax = await compilePlan(modelA, 'batch', { candidates: tooSmall, requiredMarginBits: 0 });
    expect(lax.report.noiseMarginBits).toBeLessThan(REQUIRED_MARGIN_BITS);
  });
});
