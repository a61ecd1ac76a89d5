/**
 * The plan compiler: from a model and a layout, choose encryption parameters nobody has to pick
 * by hand, and prove them on the real circuit.
 *
 * 1. Bound the output over every possible input (model/reference.ts `outputBound`); the plain
 *    modulus t is the smallest batching prime above twice that bound, so decryption is exact.
 * 2. Walk a short list of candidate parameter sets, cheapest first. Each one is built with SEAL's
 *    128-bit check, then a throwaway key pair encrypts sample records (random and extreme), the
 *    real circuit runs from evaluation keys only, and the result is decrypted: every score must
 *    equal the integer reference and the noise budget left must keep a margin. Single-record
 *    plans are proven on fully packed ciphertexts (a record in every region, layout.ts): one
 *    with the extreme records cycled through all regions, then random ones, since a client may
 *    fill every region with a variant of its record.
 * 3. The first candidate that passes becomes the plan; the ones refused are listed with why.
 */
import type { TernaryModel } from '../model/format.ts';
import { outputBound, qMax, referenceScore, type QuantizedRecord } from '../model/reference.ts';
import { describeViolations, verifyMonotone } from '../model/monotone.ts';
import { HeClient } from './client.ts';
import { HeEvaluator } from './evaluator.ts';
import { singleLayout, singleRegions, singleSlotsUsed, type LayoutName } from './layout.ts';
import { chooseParameters, contextFor, describeParameters, type SchemeName } from './params.ts';
import { loadSeal, sealErrorText } from './seal.ts';
import { planHash, PLAN_FORMAT, PLAN_VERSION, type HePlan, type PlanBody, type PlanReport } from './plan.ts';
import { keyBytesOf, type EncryptedInput } from './types.ts';

/** Bits of noise budget a result must keep: 2^10 times the noise seen, against unlucky draws. */
export const REQUIRED_MARGIN_BITS = 10;

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
 * - single: the weight mask multiplies noise by about t·√n before the square, which 109 bits
 *   cannot absorb; at 8192, BFV with two 60-bit data primes keeps ~30 bits of margin and needs
 *   half the Galois key bytes of BGV's three-prime chain (3.5 vs 6 MB), at 34 vs 24 ms.
 *   Leaner single-record designs (degree 4096, fewer keys, constant weights) are measured in
 *   bench/lean.ts; none passes the proof at the sizes sought (docs/protocol.md §9).
 */
export const CANDIDATES: Record<LayoutName, Candidate[]> = {
  batch: [
    { scheme: 'bgv', polyModulusDegree: 4096, coeffBits: [46, 46, 17], switchBeforeSquare: 0, switchAfterSquare: 0 },
    { scheme: 'bfv', polyModulusDegree: 4096, coeffBits: [46, 46, 17], switchBeforeSquare: 0, switchAfterSquare: 0 },
    { scheme: 'bgv', polyModulusDegree: 8192, coeffBits: [60, 50, 50, 58], switchBeforeSquare: 0, switchAfterSquare: 1 },
  ],
  single: [
    { scheme: 'bgv', polyModulusDegree: 4096, coeffBits: [36, 36, 37], switchBeforeSquare: 0, switchAfterSquare: 0 },
    { scheme: 'bfv', polyModulusDegree: 8192, coeffBits: [60, 60, 60], switchBeforeSquare: 0, switchAfterSquare: 0 },
    { scheme: 'bgv', polyModulusDegree: 8192, coeffBits: [60, 40, 30, 60], switchBeforeSquare: 1, switchAfterSquare: 1 },
  ],
};

export class PlanError extends Error {
  override name = 'PlanError';
}

export interface CompileOptions {
  candidates?: Candidate[];
  requiredMarginBits?: number;
  /** Sample records to verify with (random ones are drawn when absent). */
  samples?: number;
}

/** Smallest plain-modulus bit size whose primes all exceed 2·bound. */
export function plainBitsFor(bound: number): number {
  return Math.max(17, Math.floor(Math.log2(2 * bound + 1)) + 2);
}

/** Proof records: all +Q, all -Q, each unit's driving record, then seeded random ones. */
export function sampleRecords(model: TernaryModel, count: number, seed = 1): QuantizedRecord[] {
  const Q = qMax(model.input);
  const d = model.features.length;
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
  const out: QuantizedRecord[] = [Int32Array.from({ length: d }, () => Q), Int32Array.from({ length: d }, () => -Q)];
  // For each unit, the input that drives it to its largest magnitude.
  for (const row of model.hidden.weights.slice(0, Math.max(0, count - 2))) out.push(Int32Array.from(row, (w) => w * Q));
  while (out.length < count) out.push(Int32Array.from({ length: d }, () => Math.round(rand() * 2 * Q) - Q));
  return out.slice(0, count);
}

/** A plan body to prove, named by its hash, with an empty report (verifyPlan fills in what it saw). */
export function draftPlan(body: PlanBody, required = REQUIRED_MARGIN_BITS): HePlan {
  return { ...body, hash: planHash(body), report: { noiseMarginBits: 0, requiredMarginBits: required, evaluationKeyBytes: 0, uploadBytesPerInput: 0, downloadBytesPerResult: 0, refused: [] } };
}

/** The plan body a candidate gives for a model (parameters chosen, not yet proven). */
export function bodyFor(model: TernaryModel, layout: LayoutName, c: Candidate, plainBits: number, seal: Awaited<ReturnType<typeof loadSeal>>): PlanBody {
  const params = chooseParameters(seal, c.scheme, c.polyModulusDegree, c.coeffBits, plainBits);
  const d = model.features.length;
  const single = layout === 'single' ? singleLayout(model) : undefined;
  return {
    format: PLAN_FORMAT,
    version: PLAN_VERSION,
    modelHash: model.hash,
    layout,
    params,
    circuit: { layout, switchBeforeSquare: c.switchBeforeSquare, switchAfterSquare: c.switchAfterSquare, ...(single ? { single } : {}) },
    outputBound: outputBound(model),
    featureCount: d,
    recordsPerInput: layout === 'batch' ? c.polyModulusDegree : 1,
    ciphertextsPerInput: layout === 'batch' ? d : 1,
    galoisSteps: single ? single.steps : [],
  };
}

/** Runs the real circuit for a plan and reports noise, exactness and sizes. */
export async function verifyPlan(model: TernaryModel, plan: HePlan, samples = 8): Promise<Omit<PlanReport, 'refused' | 'requiredMarginBits'> & { exact: boolean }> {
  const client = await HeClient.create(plan);
  const evaluator = await HeEvaluator.create(model, plan);
  try {
    const keys = client.evaluationKeys();
    using loaded = evaluator.loadKeys(keys);
    const regions = plan.layout === 'single' ? singleRegions(plan.circuit.single!, client.slotCount) : 0;
    let records: QuantizedRecord[];
    let inputs: EncryptedInput[];
    if (plan.layout === 'single') {
      const extremes = sampleRecords(model, 2 + model.hidden.weights.length);
      const fills = Math.max(1, Math.ceil(samples / regions));
      const random = sampleRecords(model, extremes.length + fills * regions).slice(extremes.length);
      records = [...Array.from({ length: regions }, (_, r) => extremes[r % extremes.length]!), ...random];
      inputs = [];
      for (let i = 0; i < records.length; i += regions) inputs.push(client.encryptVariants(records.slice(i, i + regions)));
    } else {
      records = sampleRecords(model, Math.max(samples, 16));
      inputs = client.encryptRecords(records);
    }
    let margin = Infinity;
    let exact = true;
    let download = 0;
    const scores: number[] = [];
    for (const input of inputs) {
      const result = evaluator.evaluate(input, loaded);
      margin = Math.min(margin, client.noiseBudget(result));
      download = Math.max(download, result.ciphertext.length);
      scores.push(...(plan.layout === 'single' ? client.decryptVariants(result, regions) : client.decryptScores(result)));
    }
    records.forEach((q, r) => {
      if (scores[r] !== referenceScore(model, q)) exact = false;
    });
    return {
      exact,
      noiseMarginBits: margin,
      evaluationKeyBytes: keyBytesOf(keys),
      uploadBytesPerInput: Math.max(...inputs.map((i) => i.ciphertexts.reduce((s, c) => s + c.length, 0))),
      downloadBytesPerResult: download,
    };
  } finally {
    evaluator.dispose();
    client.dispose();
  }
}

/** Chooses and verifies HE parameters for a model in a layout. Throws PlanError with reasons. */
export async function compilePlan(model: TernaryModel, layout: LayoutName, options: CompileOptions = {}): Promise<HePlan> {
  // A model that declares how its risk moves (FeatureSpec.monotone) and breaks it is refused
  // before any parameters are tried: the proof is exact (model/monotone.ts) and costs microseconds.
  const monotone = verifyMonotone(model);
  if (!monotone.holds) throw new PlanError(`model "${model.id}" breaks its declared monotone constraints: ${describeViolations(model, monotone).join('; ')}`);
  const seal = await loadSeal();
  const required = options.requiredMarginBits ?? REQUIRED_MARGIN_BITS;
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
      refused.push({ parameters: `${c.scheme.toUpperCase()} n=${c.polyModulusDegree} q=${c.coeffBits.join('+')}`, reason: sealErrorText(e) });
      continue;
    }
    const name = describeParameters(body.params);
    if (layout === 'single' && singleSlotsUsed(body.circuit.single!) > c.polyModulusDegree / 2) {
      refused.push({ parameters: name, reason: `the record needs ${singleSlotsUsed(body.circuit.single!)} slots, a row has ${c.polyModulusDegree / 2}` });
      continue;
    }
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
    const { exact: _e, ...measured } = seen;
    return { ...draft, report: { ...measured, requiredMarginBits: required, refused } };
  }
  throw new PlanError(`no encryption parameters can run model "${model.id}" in the ${layout} layout: ${refused.map((r) => `${r.parameters}: ${r.reason}`).join('; ')}`);
}
