/**
 * The linear skip term (model file version 2, output.linear) in both encryption plans, against
 * the real SEAL and the real server: every decrypted result equals the integer reference
 * (extreme records and fully packed single ciphertexts included); a large term (Σ|l_i| ≈ 2^17 on
 * 8 features) keeps the batch plan's measured noise margin; a term that breaks a declared
 * monotone constraint is refused by the plan compiler and by the server's model loading, with
 * the verifier's words; version 1 files (no term) still load and are served.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePlan, HeClient, HeEvaluator, PlanError, REQUIRED_MARGIN_BITS, type HePlan } from '../src/core/he/index.ts';
import { extremeRecordCount, sampleRecords } from '../src/core/he/compile.ts';
import { parseModel, sealModel, type TernaryModel } from '../src/core/model/format.ts';
import { referenceScore } from '../src/core/model/reference.ts';
import { EngineClient } from './support/engine-client.ts';
import { modelsDir, startTestServer, type TestServer } from './support/server-harness.ts';
import { randomRecords, syntheticLinear, syntheticModel } from './support/synthetic.ts';

const modest = syntheticModel(8, 6, 7, 'linear-modest', { linear: syntheticLinear(8, 2 ** 10) });
const large = syntheticModel(8, 6, 7, 'linear-large', { linear: syntheticLinear(8, 2 ** 17) });
const without = syntheticModel(8, 6, 7, 'linear-none');

/** `model` with feature k declared increasing and l_k set to `lk`, sealed again. */
function declaredIncreasing(model: TernaryModel, k: number, lk: number, id: string): TernaryModel {
  const { hash: _hash, ...body } = structuredClone(model);
  body.id = id;
  body.features[k]!.monotone = { direction: 'increasing', reason: 'a test constraint', source: 'this test' };
  body.output.linear![k] = lk;
  return sealModel(body);
}

/** Scores of records through a plan's real client and evaluator: batch in one input, single packed full. */
async function encryptedScores(model: TernaryModel, plan: HePlan, records: readonly Int32Array[]): Promise<number[]> {
  using client = await HeClient.create(plan);
  const evaluator = await HeEvaluator.create(model, plan);
  try {
    using keys = evaluator.loadKeys(client.evaluationKeys());
    if (plan.layout === 'batch') return client.encryptRecords(records).flatMap((input) => client.decryptScores(evaluator.evaluate(input, keys)));
    const scores: number[] = [];
    for (let i = 0; i < records.length; i += client.regions) {
      const part = records.slice(i, i + client.regions);
      scores.push(...client.decryptVariants(evaluator.evaluate(client.encryptVariants(part), keys), part.length));
    }
    return scores;
  } finally {
    evaluator.dispose();
  }
}

describe.each(['batch', 'single'] as const)('a model with a linear term, %s layout', (layout) => {
  let plan: HePlan;
  beforeAll(async () => {
    plan = await compilePlan(modest, layout);
  }, 120_000);

  it('compiles, and decrypts every extreme and random record to the integer reference', async () => {
    expect(modest.version).toBe(2);
    expect(plan.modelHash).toBe(modest.hash);
    const extremes = sampleRecords(modest, extremeRecordCount(modest));
    // The term's own extremes are among them: sign(l_i)·Q and its negation.
    const Q = 7;
    expect(extremes[2]).toEqual(Int32Array.from(modest.output.linear!, (l) => (l < 0 ? -Q : Q)));
    expect(extremes[3]).toEqual(Int32Array.from(modest.output.linear!, (l) => (l < 0 ? Q : -Q)));
    const regions = plan.circuit.layout === 'single' ? plan.circuit.regions : 1;
    // Single: the extremes cycled through every region of a full ciphertext, then random ones filling two more.
    const records = layout === 'single' ? [...Array.from({ length: regions }, (_, r) => extremes[r % extremes.length]!), ...randomRecords(modest, 2 * regions, 5)] : [...extremes, ...randomRecords(modest, 300, 5)];
    const reference = records.map((q) => referenceScore(modest, q));
    expect(await encryptedScores(modest, plan, records)).toEqual(reference);
    // The term matters at these records: without it, the scores would differ.
    expect(records.filter((q, r) => referenceScore(without, q) !== reference[r]).length).toBeGreaterThan(records.length / 2);
  }, 120_000);
});

describe('a model with a linear term, squares one level down', () => {
  // No default candidate switches before the square; the term must follow the units there too
  // (and, in BGV, carry the same correction factor as the squares it is added to).
  it.each(['bgv', 'bfv'] as const)('%s: the term is switched with the units and stays exact', async (scheme) => {
    const candidates = [{ scheme, polyModulusDegree: 8192, coeffBits: [60, 50, 50, 58], switchBeforeSquare: 1, switchAfterSquare: 0 }];
    const plan = await compilePlan(large, 'batch', { candidates });
    expect(plan.circuit).toMatchObject({ switchBeforeSquare: 1 });
    const records = [...sampleRecords(large, extremeRecordCount(large)), ...randomRecords(large, 100, 21)];
    expect(await encryptedScores(large, plan, records)).toEqual(records.map((q) => referenceScore(large, q)));
  }, 120_000);
});

describe('a large linear term (Σ|l_i| ≈ 2^17 on 8 features)', () => {
  it('keeps the batch plan exact with its required noise margin', async () => {
    const l1 = large.output.linear!.reduce((s, l) => s + Math.abs(l), 0);
    expect(Math.log2(l1)).toBeGreaterThan(16.5);
    const [plain, withTerm] = await Promise.all([compilePlan(without, 'batch'), compilePlan(large, 'batch')]);
    console.log(`batch noise margin: ${plain.report.noiseMarginBits} bits without the term, ${withTerm.report.noiseMarginBits} with Σ|l_i| = ${l1} (${describePlan(withTerm)}), required ${REQUIRED_MARGIN_BITS}`);
    expect(withTerm.report.noiseMarginBits).toBeGreaterThanOrEqual(REQUIRED_MARGIN_BITS);
    const records = [...sampleRecords(large, extremeRecordCount(large)), ...randomRecords(large, 200, 9)];
    expect(await encryptedScores(large, withTerm, records)).toEqual(records.map((q) => referenceScore(large, q)));
  }, 180_000);

  it('sizes the single plan from the larger noise bound, keeping fewer regions when the flood does not fit them all', async () => {
    // Σ|l_i| ≈ 2^19: the flood at all 93 regions no longer fits the 93 bits of degree 4096.
    const huge = syntheticModel(8, 6, 7, 'linear-huge', { linear: syntheticLinear(8, 2 ** 19) });
    const [plain, p] = await Promise.all([compilePlan(without, 'single'), compilePlan(huge, 'single')]);
    if (plain.circuit.layout !== 'single' || p.circuit.layout !== 'single') throw new Error('single plans expected');
    console.log(`single plan: noise bound 2^${plain.report.noiseBoundBits} -> 2^${p.report.noiseBoundBits}, regions ${plain.circuit.regions} -> ${p.circuit.regions}, flood ${plain.circuit.floodBits} -> ${p.circuit.floodBits} bits, margin after flood ${plain.report.noiseMarginBits} -> ${p.report.noiseMarginBits} bits (${describePlan(p)})`);
    const most = Math.floor(4096 / (8 + 36));
    expect(p.params.polyModulusDegree).toBe(4096);
    expect(plain.circuit.regions).toBe(most);
    expect(p.report.noiseBoundBits!).toBeGreaterThan(plain.report.noiseBoundBits!);
    expect(p.circuit.regions).toBeLessThan(most);
    // Each halving of the regions saves a bit of flood: the plan keeps the most that fit.
    expect(p.circuit.floodBits).toBe(p.report.noiseBoundBits! + Math.ceil(Math.log2(p.circuit.regions)) + 40);
    expect(p.report.noiseMarginBits).toBeGreaterThanOrEqual(p.report.requiredMarginBits);
    const extremes = sampleRecords(huge, extremeRecordCount(huge));
    const regions = p.circuit.regions;
    const records = [...Array.from({ length: regions }, (_, r) => extremes[r % extremes.length]!), ...randomRecords(huge, regions, 13)];
    expect(await encryptedScores(huge, p, records)).toEqual(records.map((q) => referenceScore(huge, q)));
    // A client packs no more records than the plan's regions, though the polynomial has room.
    using client = await HeClient.create(p);
    expect(() => client.encryptVariants(Array.from({ length: regions + 1 }, () => extremes[0]!))).toThrow(/holds 1 to \d+ records/);
  }, 180_000);
});

function describePlan(plan: HePlan): string {
  return `${plan.params.scheme.toUpperCase()} n=${plan.params.polyModulusDegree}, t ${BigInt(plan.params.plainModulus).toString(2).length} bits`;
}

describe('monotone constraints and file versions', () => {
  // Feature 0 declared increasing, and a linear term pulling it down far past what the units can lift.
  const broken = declaredIncreasing(modest, 0, -1_000_000, 'linear-broken');
  const servedV2 = modest;
  const servedV1 = without;
  let server: TestServer;
  const lines: string[] = [];
  const TOKEN = 'test-admin-token-linear-0123456789';

  beforeAll(async () => {
    const logStream = new Writable({ write: (chunk, _enc, done) => (lines.push(...String(chunk).split('\n').filter(Boolean)), done()) });
    server = await startTestServer({ adminToken: TOKEN, logLevel: 'info', modelDirs: [await modelsDir([servedV1, servedV2, broken])] }, { logStream });
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('the plan compiler refuses a linear term that breaks a declared constraint, naming the term', async () => {
    const refusal = compilePlan(broken, 'batch');
    await expect(refusal).rejects.toThrow(PlanError);
    await expect(refusal).rejects.toThrow(/breaks its declared monotone constraints: the risk must never fall as "f0" rises \(declared increasing\).*the linear term -1000000 on "f0"/);
    // The same model with a term that helps the constraint along is not refused for it.
    const helped = declaredIncreasing(modest, 0, 1_000_000, 'linear-helped');
    await expect(compilePlan(helped, 'batch')).resolves.toMatchObject({ modelHash: helped.hash });
  }, 120_000);

  it('the server skips it at loading and refuses it when published, with the verifier\'s words', async () => {
    const skipped = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'model skipped');
    expect(skipped.map((l) => l.error).join('\n')).toMatch(/breaks its declared monotone constraints.*the linear term -1000000 on "f0"/);
    expect(skipped.map((l) => l.level)).toEqual(skipped.map(() => 40)); // pino's warn: the operator must act
    const list = (await (await fetch(`${server.url}/api/models`)).json()) as { complete: boolean; cards: { id: string }[] };
    expect(list.complete).toBe(true);
    expect(list.cards.map((c) => c.id).sort()).toEqual(['linear-modest', 'linear-none']);
    const published = declaredIncreasing(modest, 0, -1_000_000, 'linear-broken-published');
    const res = await fetch(`${server.url}/api/admin/models`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(published) });
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(res.status).toBe(422);
    expect(body.error.code).toBe('model_not_compilable');
    expect(body.error.message).toMatch(/breaks its declared monotone constraints.*the linear term -1000000 on "f0"/);
  });

  it('reads version 1 files, refuses a linear term in one, and serves both versions exactly', async () => {
    const { hash: _h, ...v1 } = servedV1;
    expect(v1.version).toBe(1);
    expect(parseModel(JSON.parse(JSON.stringify(servedV1)))).toEqual(servedV1);
    expect(() => parseModel(sealModel({ ...v1, output: { ...v1.output, linear: modest.output.linear } }))).toThrow(/output.linear needs model file version 2/);
    for (const model of [servedV1, servedV2]) {
      for (const layout of ['batch', 'single'] as const) {
        const client = await EngineClient.connect(server.url, model.id, layout);
        try {
          await client.registerKeys();
          const records = randomRecords(model, layout === 'batch' ? 50 : 3, 13);
          expect(await client.classify(records), `${model.id} ${layout}`).toEqual(records.map((q) => referenceScore(model, q)));
        } finally {
          client.dispose();
        }
      }
    }
  }, 120_000);
});
