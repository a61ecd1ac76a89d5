/**
 * The plan compiler: from a model and a layout, choose encryption parameters nobody has to pick
 * by hand, and prove them on the real circuit.
 *
 * 1. Bound the output over every possible input (model/reference.ts `outputBound`); the plain
 *    modulus t is the smallest batching prime above twice that bound, so decryption is exact.
 * 2. Walk a short list of candidate parameter sets, cheapest first. Each one is built with SEAL's
 *    128-bit check, then a throwaway key pair encrypts sample records (random and extreme), the
 *    real circuit runs from evaluation keys only, and the result is decrypted: every score must
 *    equal the integer reference and the noise budget left must keep a margin. The batch margin
 *    is measured, not derived, so it covers the linear skip term's products as it does the
 *    squares (Σ|l_i| ≈ 2^17 on 8 features cost 4-5 of 20-21 bits at BGV n = 4096).
 *    Single-record plans (quadratic.ts) are sized before they are run: the flood f and the
 *    sparse result's widths follow from the deterministic noise bound b of the product, the k
 *    output positions and the data level's modulus, and a candidate whose modulus cannot hold
 *    them is refused. They are proven on fully packed ciphertexts (a record in every region:
 *    first the extremes cycled through all regions, then random ones), flooded and packed as the
 *    client receives them, and must meet the size targets of a patient's request.
 * 3. The first candidate that passes becomes the plan; the ones refused are listed with why.
 */
import type { TernaryModel } from '../model/format.ts';
import { outputBound, qMax, referenceScore, type QuantizedRecord } from '../model/reference.ts';
import { describeViolations, verifyMonotone } from '../model/monotone.ts';
import { HeClient } from './client.ts';
import { HeEvaluator, type LoadedKeys } from './evaluator.ts';
import type { LayoutName } from './layout.ts';
import { chooseParameters, contextFor, describeParameters, type HeParameters, type SchemeName } from './params.ts';
import { loadSeal, sealErrorText, type Seal } from './seal.ts';
import { planHash, PLAN_FORMAT, PLAN_VERSION, type CircuitShape, type HePlan, type PlanBody, type PlanReport } from './plan.ts';
import { noiseBound, quadraticForm, regionCount } from './quadratic.ts';
import { floodBitsFor } from './rerandomize.ts';
import { sparseResultWidths } from './sparse-result.ts';
import { keyBytesOf, type EncryptedInput } from './types.ts';

/** Bits of noise budget a batch result must keep: 2^10 times the noise seen, against unlucky draws. */
export const REQUIRED_MARGIN_BITS = 10;

/**
 * Bits a single result must keep after flooding and packing: every term of its noise has a
 * deterministic bound (the product's b, the uniform flood, the fresh mask, the packing's
 * rounding), which the plan's widths keep within half the budget; this is that half, measured.
 */
export const FLOODED_MARGIN_BITS = 1;

/** What a patient's single-record request may cost (bytes), and what the compiler holds plans to. */
export const SINGLE_TARGETS = { uploadBytes: 65_536, downloadBytes: 32_768, evaluationKeyBytes: 2_000_000 } as const;

export interface Candidate {
  scheme: SchemeName;
  polyModulusDegree: number;
  /** Bit sizes of the coefficient modulus primes, special prime last. */
  coeffBits: number[];
  switchBeforeSquare: number;
  switchAfterSquare: number;
}

/**
 * Candidates per layout, cheapest first (measured with bench/ and scratch runs on Node 24):
 * - batch: BGV squares in NTT form, ~10× faster than BFV's at the same degree; degree 4096
 *   (≤ 109 modulus bits) holds the batch circuit, which is additions and one square, with a
 *   small special prime because only one relinearization follows.
 * - single: one plaintext product, then a flood of f = ⌈log2 b⌉ + ⌈log2 k⌉ + 40 bits (66 for
 *   Framingham) that the data level must hold above t. Degree 2048 (54 bits) cannot; degree 4096
 *   with the smallest special prime (16 bits, ≡ 1 mod 2n) leaves 93 data bits, 47 + 46; the
 *   even chain 36 + 36 | 37 holds less; degree 8192 would hold anything but uploads twice the
 *   bytes (over the 64 KB target), listed so the report says so.
 */
export const CANDIDATES: Record<LayoutName, Candidate[]> = {
  batch: [
    { scheme: 'bgv', polyModulusDegree: 4096, coeffBits: [46, 46, 17], switchBeforeSquare: 0, switchAfterSquare: 0 },
    { scheme: 'bfv', polyModulusDegree: 4096, coeffBits: [46, 46, 17], switchBeforeSquare: 0, switchAfterSquare: 0 },
    { scheme: 'bgv', polyModulusDegree: 8192, coeffBits: [60, 50, 50, 58], switchBeforeSquare: 0, switchAfterSquare: 1 },
  ],
  single: [
    { scheme: 'bfv', polyModulusDegree: 2048, coeffBits: [38, 16], switchBeforeSquare: 0, switchAfterSquare: 0 },
    { scheme: 'bfv', polyModulusDegree: 4096, coeffBits: [47, 46, 16], switchBeforeSquare: 0, switchAfterSquare: 0 },
    { scheme: 'bfv', polyModulusDegree: 4096, coeffBits: [36, 36, 37], switchBeforeSquare: 0, switchAfterSquare: 0 },
    { scheme: 'bfv', polyModulusDegree: 8192, coeffBits: [60, 60, 60], switchBeforeSquare: 0, switchAfterSquare: 0 },
  ],
};

export class PlanError extends Error {
  override name = 'PlanError';
}

export interface CompileOptions {
  candidates?: Candidate[];
  /** Noise budget a result must keep (default: REQUIRED_MARGIN_BITS, FLOODED_MARGIN_BITS for single plans). */
  requiredMarginBits?: number;
  /** Sample records to verify with (random ones are drawn when absent). */
  samples?: number;
}

/** Smallest plain-modulus bit size whose primes all exceed 2·bound. */
export function plainBitsFor(bound: number): number {
  return Math.max(17, Math.floor(Math.log2(2 * bound + 1)) + 2);
}

/** How many extreme records sampleRecords puts before its random ones. */
export function extremeRecordCount(model: TernaryModel): number {
  return 2 + (model.output.linear ? 2 : 0) + model.hidden.weights.length;
}

/**
 * Proof records: all +Q, all -Q, the linear skip term at both extremes (sign(l_i)·Q and its
 * negation) when the model has one, each unit's driving record, then seeded random ones.
 */
export function sampleRecords(model: TernaryModel, count: number, seed = 1): QuantizedRecord[] {
  const Q = qMax(model.input);
  const d = model.features.length;
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
  const out: QuantizedRecord[] = [Int32Array.from({ length: d }, () => Q), Int32Array.from({ length: d }, () => -Q)];
  const linear = model.output.linear;
  if (linear) out.push(Int32Array.from(linear, (l) => (l < 0 ? -Q : Q)), Int32Array.from(linear, (l) => (l < 0 ? Q : -Q)));
  // For each unit, the input that drives it to its largest magnitude.
  for (const row of model.hidden.weights.slice(0, Math.max(0, count - out.length))) out.push(Int32Array.from(row, (w) => w * Q));
  while (out.length < count) out.push(Int32Array.from({ length: d }, () => Math.round(rand() * 2 * Q) - Q));
  return out.slice(0, count);
}

/** A plan body to prove, named by its hash, with an empty report (verifyPlan fills in what it saw). */
export function draftPlan(body: PlanBody, required = body.layout === 'single' ? FLOODED_MARGIN_BITS : REQUIRED_MARGIN_BITS): HePlan {
  return { ...body, hash: planHash(body), report: { noiseMarginBits: 0, requiredMarginBits: required, evaluationKeyBytes: 0, uploadBytesPerInput: 0, downloadBytesPerResult: 0, refused: [] } };
}

/**
 * Noise added to every coefficient by the server's mask, an encryption of zero under the public
 * key: e·u + e₁ + e₂·s with fresh noise ≤ 21 and ternary u, s (≤ 42n + 21), divided by the special
 * prime when it comes down to the data level, plus that rounding (≤ (n + 1)/2). Bounded by 43n + 21.
 */
function maskNoiseBound(n: number): bigint {
  return 43n * BigInt(n) + 21n;
}

/** The data level's modulus Q (every prime but the special one) and its decryption bound Q/(2t). */
function dataLevel(params: HeParameters): { primes: number; Q: bigint; half: bigint } {
  const primes = params.coeffModulus.length - 1;
  const Q = params.coeffModulus.slice(0, primes).reduce((a, p) => a * BigInt(p), 1n);
  return { primes, Q, half: Q / (2n * BigInt(params.plainModulus)) };
}

const bitsOf = (x: bigint): number => x.toString(2).length;

/**
 * The single circuit for a model and parameters: regions, flood and the sparse result's widths,
 * from the deterministic bound b on the product's noise. Throws PlanError saying why when the
 * modulus cannot hold them: after the flood (≤ 2^f), b, the mask's noise and the packing's
 * rounding, the budget must keep FLOODED_MARGIN_BITS.
 *
 * The flood covers every output position (f grows with ⌈log2 regions⌉), so when it does not fit
 * with every region the polynomial has room for, the plan keeps fewer: each halving saves one
 * bit. A request then carries the record and fewer variants (its explanation names the rest);
 * a prediction needs one region.
 */
export function quadraticCircuit(model: TernaryModel, params: HeParameters): CircuitShape & { layout: 'single' } {
  const n = params.polyModulusDegree;
  const form = quadraticForm(model);
  const most = regionCount(form.regionLength, n);
  if (most < 1) throw new PlanError(`a record needs ${form.regionLength} coefficients (its features and their pairwise products); the polynomial has ${n}`);
  const { primes, half } = dataLevel(params);
  if (primes < 1) throw new PlanError('the parameters have no data prime beside the special prime');
  const b = noiseBound(form);
  let refusal = '';
  for (let regions = most; regions >= 1; regions = Math.min(regions - 1, 2 ** (Math.ceil(Math.log2(regions)) - 1))) {
    const floodBits = floodBitsFor(b, regions);
    const fixed = b + (1n << BigInt(floodBits)) + maskNoiseBound(n);
    const allowance = (half >> BigInt(FLOODED_MARGIN_BITS)) - fixed;
    if (allowance <= 0n) {
      refusal = `the flood does not fit: ${floodBits} bits of flooding (noise bound 2^${bitsOf(b)}, ${regions} position${regions === 1 ? '' : 's'}, 2^-40) need about ${floodBits + FLOODED_MARGIN_BITS + 1} bits of the data level above t, which leaves ${bitsOf(half) - 1}`;
      continue;
    }
    try {
      return { layout: 'single', form: 'quadratic', regionLength: form.regionLength, regions, floodBits, result: sparseResultWidths(params, primes, allowance) };
    } catch (e) {
      refusal = `the result cannot be packed beside the flood: ${(e as Error).message}`;
    }
  }
  throw new PlanError(refusal);
}

/** The plan body a candidate gives for a model (parameters chosen, not yet proven). */
export function bodyFor(model: TernaryModel, layout: LayoutName, c: Candidate, plainBits: number, seal: Seal): PlanBody {
  const params = chooseParameters(seal, c.scheme, c.polyModulusDegree, c.coeffBits, plainBits);
  const d = model.features.length;
  const circuit: CircuitShape = layout === 'single' ? quadraticCircuit(model, params) : { layout, switchBeforeSquare: c.switchBeforeSquare, switchAfterSquare: c.switchAfterSquare };
  return {
    format: PLAN_FORMAT,
    version: PLAN_VERSION,
    modelHash: model.hash,
    layout,
    params,
    circuit,
    outputBound: outputBound(model),
    featureCount: d,
    recordsPerInput: layout === 'batch' ? c.polyModulusDegree : 1,
    ciphertextsPerInput: layout === 'batch' ? d : 1,
    galoisSteps: [],
    keys: layout === 'batch' ? { relin: true, publicKey: false } : { relin: false, publicKey: true },
  };
}

/** What verifyPlan saw: the report's measured fields and whether every score was exact. */
export type PlanProof = Omit<PlanReport, 'refused' | 'requiredMarginBits'> & { exact: boolean };

/** Runs the real circuit for a plan and reports noise, exactness and sizes. */
export async function verifyPlan(model: TernaryModel, plan: HePlan, samples = 8): Promise<PlanProof> {
  const client = await HeClient.create(plan);
  const evaluator = await HeEvaluator.create(model, plan);
  try {
    const keys = client.evaluationKeys();
    using loaded = evaluator.loadKeys(keys);
    const proof = plan.circuit.layout === 'single' ? await proveSingle(model, plan, client, evaluator, loaded, samples) : proveBatch(model, client, evaluator, loaded, samples);
    return { ...proof, evaluationKeyBytes: keyBytesOf(keys) };
  } finally {
    evaluator.dispose();
    client.dispose();
  }
}

type Proof = Omit<PlanProof, 'evaluationKeyBytes'>;

const inputBytes = (inputs: EncryptedInput[]) => Math.max(...inputs.map((i) => i.ciphertexts.reduce((s, c) => s + c.length, 0)));

function proveBatch(model: TernaryModel, client: HeClient, evaluator: HeEvaluator, keys: LoadedKeys, samples: number): Proof {
  const records = sampleRecords(model, Math.max(samples, 16, extremeRecordCount(model)));
  const inputs = client.encryptRecords(records);
  let margin = Infinity;
  let download = 0;
  const scores: number[] = [];
  for (const input of inputs) {
    const result = evaluator.evaluate(input, keys);
    margin = Math.min(margin, client.noiseBudget(result));
    download = Math.max(download, result.ciphertext.length);
    scores.push(...client.decryptScores(result));
  }
  return { exact: records.every((q, r) => scores[r] === referenceScore(model, q)), noiseMarginBits: margin, uploadBytesPerInput: inputBytes(inputs), downloadBytesPerResult: download };
}

/**
 * Fully packed ciphertexts through the whole single path: the product (its budget before the
 * flood), the flooded result as sent (exact outputs, its bytes), and the same result with c0 at
 * every coefficient (its budget after flooding and packing, as the client decrypts it).
 */
async function proveSingle(model: TernaryModel, plan: HePlan, client: HeClient, evaluator: HeEvaluator, keys: LoadedKeys, samples: number): Promise<Proof> {
  const regions = client.regions;
  const extremes = sampleRecords(model, extremeRecordCount(model));
  const fills = Math.max(1, Math.ceil(samples / regions));
  const random = sampleRecords(model, extremes.length + fills * regions).slice(extremes.length);
  // Every extreme record is proven, in as many full ciphertexts as they take (a plan may keep fewer regions than extremes).
  const head = Math.ceil(Math.max(extremes.length, regions) / regions) * regions;
  const records = [...Array.from({ length: head }, (_, r) => extremes[r % extremes.length]!), ...random];
  const inputs: EncryptedInput[] = [];
  for (let i = 0; i < records.length; i += regions) inputs.push(client.encryptVariants(records.slice(i, i + regions)));
  const seal = await loadSeal();
  const context = contextFor(seal, plan.params);
  const secretKey = new seal.SecretKey();
  let decryptor: InstanceType<typeof seal.Decryptor> | undefined;
  let before = Infinity;
  let after = Infinity;
  let download = 0;
  const scores: number[] = [];
  try {
    secretKey.loadFromArray(context, client.exportSecretKey());
    decryptor = new seal.Decryptor(context, secretKey);
    for (const input of inputs) {
      const loaded = evaluator.loadInputs(input);
      try {
        const product = evaluator.circuit.evaluate(loaded, keys);
        try {
          before = Math.min(before, decryptor.invariantNoiseBudget(product));
        } finally {
          product.delete();
        }
      } finally {
        loaded.forEach((c) => c.delete());
      }
      const result = evaluator.evaluate(input, keys);
      download = Math.max(download, result.ciphertext.length);
      scores.push(...client.decryptVariants(result, regions));
      after = Math.min(after, client.noiseBudget(evaluator.evaluate(input, keys, undefined, { everyPosition: true }), true));
    }
  } finally {
    decryptor?.delete();
    secretKey.delete();
  }
  return {
    exact: records.every((q, r) => scores[r] === referenceScore(model, q)),
    noiseMarginBits: after,
    noiseMarginBeforeFloodBits: before,
    noiseBoundBits: bitsOf(noiseBound(quadraticForm(model))),
    uploadBytesPerInput: inputBytes(inputs),
    downloadBytesPerResult: download,
  };
}

/** Why a proven single plan misses its targets, or null when it meets them all. */
function missedTargets(plan: HePlan, seen: PlanProof): string | null {
  const missed: string[] = [];
  if (seen.uploadBytesPerInput > SINGLE_TARGETS.uploadBytes) missed.push(`upload ${seen.uploadBytesPerInput} B > ${SINGLE_TARGETS.uploadBytes} B`);
  if (seen.downloadBytesPerResult > SINGLE_TARGETS.downloadBytes) missed.push(`download ${seen.downloadBytesPerResult} B > ${SINGLE_TARGETS.downloadBytes} B`);
  if (seen.evaluationKeyBytes > SINGLE_TARGETS.evaluationKeyBytes) missed.push(`keys ${seen.evaluationKeyBytes} B > ${SINGLE_TARGETS.evaluationKeyBytes} B`);
  // The measured product must sit within its bound b, or the flood was sized on a wrong premise.
  const { half } = dataLevel(plan.params);
  const floor = bitsOf(half) - 1 - (seen.noiseBoundBits ?? 0) - 1;
  if ((seen.noiseMarginBeforeFloodBits ?? 0) < floor) missed.push(`the product kept ${seen.noiseMarginBeforeFloodBits} bits of budget, less than its noise bound allows (${floor})`);
  return missed.length > 0 ? missed.join('; ') : null;
}

/** Chooses and verifies HE parameters for a model in a layout. Throws PlanError with reasons. */
export async function compilePlan(model: TernaryModel, layout: LayoutName, options: CompileOptions = {}): Promise<HePlan> {
  // A model that declares how its risk moves (FeatureSpec.monotone) and breaks it is refused
  // before any parameters are tried: the proof is exact (model/monotone.ts) and costs microseconds.
  const monotone = verifyMonotone(model);
  if (!monotone.holds) throw new PlanError(`model "${model.id}" breaks its declared monotone constraints: ${describeViolations(model, monotone).join('; ')}`);
  const seal = await loadSeal();
  const required = options.requiredMarginBits ?? (layout === 'single' ? FLOODED_MARGIN_BITS : REQUIRED_MARGIN_BITS);
  const bound = outputBound(model);
  const plainBits = plainBitsFor(bound);
  if (plainBits > 60) throw new PlanError(`the model's output can reach ${bound}, which needs a ${plainBits}-bit plain modulus; at most 60 bits exist. Use fewer hidden units, smaller α or fewer input bits.`);
  const refused: PlanReport['refused'] = [];
  for (const c of options.candidates ?? CANDIDATES[layout]) {
    let body: PlanBody;
    try {
      body = bodyFor(model, layout, c, plainBits, seal);
      contextFor(seal, body.params);
    } catch (e) {
      refused.push({ parameters: `${c.scheme.toUpperCase()} n=${c.polyModulusDegree} q=${c.coeffBits.join('+')}`, reason: e instanceof PlanError ? e.message : sealErrorText(e) });
      continue;
    }
    const name = describeParameters(body.params);
    const draft = draftPlan(body, required);
    let seen;
    try {
      seen = await verifyPlan(model, draft, options.samples);
    } catch (e) {
      refused.push({ parameters: name, reason: `the circuit failed: ${sealErrorText(e)}` });
      continue;
    }
    if (!seen.exact || seen.noiseMarginBits < required) {
      const why = !seen.exact ? `decrypted results differ from the integer reference (noise budget left ${seen.noiseMarginBits} bits)` : `noise budget left ${seen.noiseMarginBits} bits < ${required} required`;
      refused.push({ parameters: name, reason: why });
      continue;
    }
    const missed = layout === 'single' ? missedTargets(draft, seen) : null;
    if (missed) {
      refused.push({ parameters: name, reason: missed });
      continue;
    }
    const { exact: _e, ...measured } = seen;
    return { ...draft, report: { ...measured, requiredMarginBits: required, refused } };
  }
  throw new PlanError(`no encryption parameters can run model "${model.id}" in the ${layout} layout: ${refused.map((r) => `${r.parameters}: ${r.reason}`).join('; ')}`);
}
