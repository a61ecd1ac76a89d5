/**
 * Lean single-record requests, measured: for each default model, the single-record plan before
 * (BFV n = 8192 slots, rotations and a square: bench/lean/old-plan.ts) and after (the quadratic
 * form, one plaintext product at n = 4096, flooded and sent sparse: the product's own compiler,
 * client and evaluator), on fully packed ciphertexts (the compiler's proof records: extremes in
 * every region, then random ones), with the secret key at hand to read the noise.
 *
 * Per plan: bytes up, bytes down, evaluation-key bytes, evaluation time (the median of REPEATS
 * after one warm-up: loading the input, the circuit, flooding and packing the result), the noise
 * margin before and after flooding, and whether every output equals the integer reference.
 * For the new plan also what each step bought (its bytes without zstd, without dropping c0,
 * as SEAL's words), and what the candidates it refused say (degree 2048 from the compiler's
 * report; degree 8192 compiled on its own).
 *
 * Run: nice -n 10 npx tsx bench/lean.ts   (LEAN_MODELS=pima-diabetes,... to restrict; then
 * nothing is written). Writes bench/lean-results.json (shape: lean-record.ts), from which
 * `npm run docs:protocol` writes docs/protocol.md §9 (tools/lean-doc.ts).
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { parseModel, type TernaryModel } from '../src/core/model/format.ts';
import { outputBound, referenceScore, type QuantizedRecord } from '../src/core/model/reference.ts';
import { compilePlan, PlanError, plainBitsFor, sampleRecords } from '../src/core/he/compile.ts';
import { HeClient } from '../src/core/he/client.ts';
import { HeEvaluator } from '../src/core/he/evaluator.ts';
import { coefficientPlaintext } from '../src/core/he/coefficients.ts';
import { contextFor, describeParameters } from '../src/core/he/params.ts';
import type { HePlan, QuadraticCircuit } from '../src/core/he/plan.ts';
import { noiseBound, outputPositions, packRegions, quadraticForm, weightL1 } from '../src/core/he/quadratic.ts';
import { loadSeal, type Seal } from '../src/core/he/seal.ts';
import { sparseResultBytes, unpackSparseResult } from '../src/core/he/sparse-result.ts';
import { noiseAtPositions, secretKeyCoefficients } from '../src/core/he/sparse-result-noise.ts';
import { keyBytesOf, type EncryptedResult } from '../src/core/he/types.ts';
import { oldPlan } from './lean/old-plan.ts';
import type { PlanRow, Steps } from './lean-record.ts';

const MODELS = new URL('../models/', import.meta.url);
const TARGET = { upBytes: 65_536, downBytes: 32_768, keyBytes: 2_097_152, evalMs: 60 };
const REPEATS = 7;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const bitsOf = (x: bigint) => (x < 1n ? 0 : x.toString(2).length);

/** The compiler's proof records: each unit's extreme cycled through every region, then random fills. */
function proofRecords(model: TernaryModel, regions: number): QuantizedRecord[][] {
  const extremes = sampleRecords(model, 2 + model.hidden.weights.length);
  const random = sampleRecords(model, extremes.length + 2 * regions).slice(extremes.length);
  return [Array.from({ length: regions }, (_, r) => extremes[r % extremes.length]!), random.slice(0, regions), random.slice(regions)];
}

function judge(row: Omit<PlanRow, 'meetsTargets'>): PlanRow {
  return { ...row, meetsTargets: { up: row.upBytes <= TARGET.upBytes, down: row.downBytes <= TARGET.downBytes, keys: row.keyBytes <= TARGET.keyBytes, evalMs: row.evalMs <= TARGET.evalMs } };
}

/** The plan before: the slot circuit with Galois and relinearization keys; its result cannot be flooded. */
function measureBefore(seal: Seal, model: TernaryModel): PlanRow {
  using old = oldPlan(seal, model, plainBitsFor(outputBound(model)));
  const fills = proofRecords(model, old.regions);
  let exact = true;
  let margin = Infinity;
  let up = 0;
  let down = 0;
  const times: number[] = [];
  for (const [f, records] of fills.entries()) {
    const { ciphertext: input, upBytes } = old.encrypt(records);
    up = Math.max(up, upBytes);
    const bytes = input.saveToArray(seal.ComprModeType.none) as Uint8Array;
    input.delete();
    for (let r = 0; r < (f === 0 ? REPEATS + 1 : 1); r++) {
      const t0 = performance.now();
      // As the service ran it: load the input, run the circuit, serialize the result.
      const loaded = new seal.Ciphertext();
      loaded.loadFromArray(contextFor(seal, old.params), bytes);
      const result = old.evaluate(loaded);
      down = Math.max(down, old.downBytes(result));
      if (r > 0 || f > 0) times.push(performance.now() - t0);
      if (r === 0) {
        margin = Math.min(margin, old.budget(result));
        const scores = old.decrypt(result, records.length);
        if (!records.every((q, i) => scores[i] === referenceScore(model, q))) exact = false;
      }
      loaded.delete();
      result.delete();
    }
  }
  const floodBits = old.floodBitsNeeded(margin);
  return judge({
    plan: 'before', parameters: describeParameters(old.params), regions: old.regions, upBytes: up, downBytes: down, keyBytes: old.keyBytes(),
    evalMs: median(times), evalParts: {}, marginBeforeFloodBits: margin, floodBits, marginAfterFloodBits: floodBits + 2 > old.lastPrimeBits ? null : old.lastPrimeBits - floodBits - 2, exact,
  });
}

async function measureAfter(seal: Seal, model: TernaryModel, plan: HePlan): Promise<{ row: PlanRow; steps: Steps }> {
  const circuit = plan.circuit as QuadraticCircuit;
  const context = contextFor(seal, plan.params);
  const n = plan.params.polyModulusDegree;
  const t = BigInt(plan.params.plainModulus);
  const client = await HeClient.create(plan);
  const evaluator = await HeEvaluator.create(model, plan);
  const sk = new seal.SecretKey();
  sk.loadFromArray(context, client.exportSecretKey());
  const keygen = new seal.KeyGenerator(context, sk);
  const secret = keygen.secretKey();
  const pk = keygen.createPublicKey();
  const encryptor = new seal.Encryptor(context, pk, secret);
  const decryptor = new seal.Decryptor(context, secret);
  try {
    const bundle = client.evaluationKeys();
    using keys = evaluator.loadKeys(bundle);
    const positions = outputPositions(circuit.regionLength, circuit.regions);
    const primes = plan.params.coeffModulus.length - 1;
    const Q = plan.params.coeffModulus.slice(0, primes).reduce((a, p) => a * BigInt(p), 1n);
    const half = Q / (2n * t);
    const zero = new seal.Plaintext(n);
    const zeroCt = new seal.Ciphertext();
    encryptor.encryptSymmetric(zero, zeroCt);
    const template = zeroCt.saveToArray(seal.ComprModeType.none) as Uint8Array;
    zero.delete();
    zeroCt.delete();
    const s = secretKeyCoefficients(seal, context, plan.params, decryptor, template);
    const fills = proofRecords(model, circuit.regions);
    let exact = true;
    let before = Infinity;
    let after = Infinity;
    let up = 0;
    let down = 0;
    let downSealWords = 0;
    let downEveryPosition = 0;
    const times: number[] = [];
    const parts: Record<string, number[]> = {};
    for (const [f, records] of fills.entries()) {
      const input = client.encryptVariants(records);
      up = Math.max(up, input.ciphertexts[0]!.length);
      let result!: EncryptedResult;
      for (let r = 0; r < (f === 0 ? REPEATS + 1 : 1); r++) {
        const seen: Record<string, number> = {};
        const t0 = performance.now();
        result = evaluator.evaluate(input, keys, (op, ms) => (seen[op] = (seen[op] ?? 0) + ms));
        const ms = performance.now() - t0;
        if (r > 0 || f > 0) {
          times.push(ms);
          for (const [op, v] of Object.entries(seen)) (parts[op] ??= []).push(v);
        }
      }
      down = Math.max(down, result.ciphertext.length);
      const scores = client.decryptVariants(result, records.length);
      if (!records.every((q, i) => scores[i] === referenceScore(model, q))) exact = false;
      // Noise at the output positions, as the client holds it after unpacking.
      const raw = unpackSparseResult(plan.params, result.ciphertext, positions, { ...circuit.result, primes }, () => template);
      const noise = noiseAtPositions(plan.params, raw, s, positions, scores.map((y) => BigInt(y)).concat(positions.slice(scores.length).map(() => 0n)));
      const worst = noise.slice(0, records.length).reduce((m, e) => (e < 0n ? (-e > m ? -e : m) : e > m ? e : m), 0n);
      after = Math.min(after, bitsOf(half) - 1 - bitsOf(worst));
      // The product alone, before the flood: SEAL's budget, and its size in SEAL's words.
      const loaded = evaluator.loadInputs(input);
      const product = evaluator.circuit.evaluate(loaded, keys);
      before = Math.min(before, decryptor.invariantNoiseBudget(product));
      downSealWords = Math.max(downSealWords, (product.saveToArray(seal.ComprModeType.none) as Uint8Array).length);
      product.delete();
      loaded.forEach((c) => c.delete());
      downEveryPosition = Math.max(downEveryPosition, evaluator.evaluate(input, keys, undefined, { everyPosition: true }).ciphertext.length);
    }
    // The same first fill, seeded and uncompressed: what zstd saved.
    const pt = coefficientPlaintext(seal, context, n, t, packRegions(fills[0]!, plan.featureCount, n));
    const seeded = encryptor.encryptSymmetricSerializable(pt);
    const upUncompressed = (seeded.saveToArray(seal.ComprModeType.none) as Uint8Array).length;
    seeded.delete();
    pt.delete();
    const form = quadraticForm(model);
    const b = noiseBound(form);
    const row = judge({
      plan: 'after', parameters: describeParameters(plan.params), regions: circuit.regions, upBytes: up, downBytes: down, keyBytes: keyBytesOf(bundle),
      evalMs: median(times), evalParts: Object.fromEntries(Object.entries(parts).map(([op, v]) => [op, median(v)])),
      marginBeforeFloodBits: before, floodBits: circuit.floodBits, marginAfterFloodBits: after, exact,
    });
    const steps: Steps = {
      upUncompressed, downSealWords, downEveryPosition, noiseBoundBits: bitsOf(b), weightL1: weightL1(form).toString(),
      distanceLog2: Math.log2(circuit.regions) + Math.log2(Number(b)) - circuit.floodBits,
    };
    if (downEveryPosition !== sparseResultBytes(n, n, circuit.result.k0, circuit.result.k1)) throw new Error('unexpected size of a result with every position');
    return { row, steps };
  } finally {
    for (const o of [decryptor, encryptor, pk, secret, keygen, sk]) o.delete();
    evaluator.dispose();
    client.dispose();
  }
}

/** Candidates the compiler refused for the model, and degree 8192 compiled on its own. */
async function refusals(model: TernaryModel, plan: HePlan): Promise<{ parameters: string; reason: string }[]> {
  const out = [...plan.report.refused];
  try {
    const wide = await compilePlan(model, 'single', { candidates: [{ scheme: 'bfv', polyModulusDegree: 8192, coeffBits: [60, 60, 60], switchBeforeSquare: 0, switchAfterSquare: 0 }] });
    out.push({ parameters: describeParameters(wide.params), reason: `accepted alone: ${wide.report.uploadBytesPerInput} B up, ${wide.report.downloadBytesPerResult} B down` });
  } catch (e) {
    if (!(e instanceof PlanError)) throw e;
    out.push({ parameters: 'BFV n=8192 q=60+60+60', reason: e.message });
  }
  return out;
}

async function main() {
  const seal = await loadSeal();
  const only = process.env.LEAN_MODELS?.split(',');
  const files = (await readdir(MODELS)).filter((f) => f.endsWith('.json')).sort();
  const models = [];
  const loadAtStart = loadavg()[0]!;
  for (const file of files) {
    const model = parseModel(JSON.parse(await readFile(new URL(file, MODELS), 'utf8')));
    if (only && !only.includes(model.id)) continue;
    const plan = await compilePlan(model, 'single');
    const before = measureBefore(seal, model);
    const { row: after, steps } = await measureAfter(seal, model, plan);
    const refused = await refusals(model, plan);
    models.push({ model: model.id, planHash: plan.hash, circuit: plan.circuit, before, after, steps, refused });
    console.error(`${model.id}: measured`);
  }
  const kb = (b: number) => (b / 1024).toFixed(1);
  const header = ['model', 'plan', 'parameters', 'regions', 'up KiB', 'down KiB', 'keys KiB', 'eval ms', 'margin before flood', 'flood bits', 'margin after', 'exact'];
  const table = models.flatMap((m) =>
    [m.before, m.after].map((r) => [
      m.model, r.plan, r.parameters, String(r.regions), kb(r.upBytes), kb(r.downBytes), kb(r.keyBytes), r.evalMs.toFixed(1), String(r.marginBeforeFloodBits), String(r.floodBits),
      r.marginAfterFloodBits === null ? 'does not fit' : String(r.marginAfterFloodBits), r.exact ? 'yes' : 'no',
    ]),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  console.log([header, ...table].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n'));
  for (const m of models) {
    console.log(`${m.model}: up ${m.steps.upUncompressed} B uncompressed -> ${m.after.upBytes} B zstd; down ${m.steps.downSealWords} B as SEAL words -> ${m.steps.downEveryPosition} B packed with every c0 -> ${m.after.downBytes} B sparse; ` +
      `eval parts ${Object.entries(m.after.evalParts).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')} ms; distance 2^${m.steps.distanceLog2.toFixed(1)}; refused: ${m.refused.map((r) => `${r.parameters}: ${r.reason}`).join(' | ')}`);
  }
  const out = {
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg()[0] },
    date: new Date().toISOString(), repeats: REPEATS, targets: TARGET, models,
  };
  if (!only) {
    await writeFile(new URL('./lean-results.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
    console.log('wrote bench/lean-results.json');
  }
}

await main();
