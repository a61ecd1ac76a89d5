/**
 * Lean single-record requests, measured: for each default model, candidate designs of the
 * single-record plan run with the real SEAL on fully packed ciphertexts (the compiler's proof
 * records: extremes in every region, then random ones), with the secret key at hand so the noise
 * budget can be read after every stage of the circuit. Prints a table and writes
 * bench/lean-results.json; docs/protocol.md §9 summarizes it.
 *
 * Designs (the product's circuit is the reference; the others are the bench's own copy of it
 * with one thing changed):
 *   - today: the product plan's candidate run through HeEvaluator, as a prediction runs.
 *   - (a) degree 4096, BGV/BFV chains with modulus switches before the mask's noise meets the square.
 *   - (b) fewer Galois keys: keys for powers of 4 (or 8) only, other steps made of repeats.
 *   - (c) the weight mask's plaintext: how many coefficients it has and what multiplying by it
 *     costs in noise, against a ternary (sign-only) mask and a constant.
 *   - (d) the result brought to a power-of-two modulus of k bits per coefficient and bit-packed
 *     (BGV results first turned to BFV form by t⁻¹ mod q), rebuilt by the client and decrypted.
 *
 * Run: nice -n 10 npx tsx bench/lean.ts   (LEAN_MODELS=pima-diabetes,... to restrict)
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { parseModel, type TernaryModel } from '../src/core/model/format.ts';
import { outputBound, referenceScore, type QuantizedRecord } from '../src/core/model/reference.ts';
import { bodyFor, draftPlan, plainBitsFor, REQUIRED_MARGIN_BITS, sampleRecords, type Candidate } from '../src/core/he/compile.ts';
import { HeClient } from '../src/core/he/client.ts';
import { HeEvaluator } from '../src/core/he/evaluator.ts';
import { nextPow2, singleBiasVector, singleRegions, singleSlotsUsed, singleWeightMask } from '../src/core/he/layout.ts';
import { contextFor, describeParameters } from '../src/core/he/params.ts';
import type { HePlan } from '../src/core/he/plan.ts';
import { loadSeal, sealErrorText, type Ciphertext, type GaloisKeys, type Plaintext, type RelinKeys, type Seal } from '../src/core/he/seal.ts';
import { keyBytesOf, type EncryptedInput, type EncryptedResult } from '../src/core/he/types.ts';
import { floodBits, rerandomize } from '../src/core/he/rerandomize.ts';
import { modInverse } from '../src/core/he/packed-result.ts';

const MODELS = new URL('../models/', import.meta.url);
const TARGET = { upBytes: 64 * 1024, downBytes: 32 * 1024, keyBytes: 2 * 1024 * 1024, evalMs: 60 };
/** Eval time is the fastest of REPEATS runs: the machine is shared, and other work only slows it. */
const REPEATS = 5;

type KeySteps = 'binary' | 'base4' | 'base8';

interface Design {
  id: string;
  idea: 'today' | 'a' | 'b' | 'privacy';
  candidate: Candidate;
  keySteps: KeySteps;
  /** Run through the product's HeEvaluator instead of the bench's circuit copy. */
  product?: boolean;
  /** Primes the result keeps (default: the last level, one prime), so that it can be flooded. */
  resultPrimes?: number;
}

const DESIGNS: Design[] = [
  { id: 'today', idea: 'today', product: true, keySteps: 'binary', candidate: { scheme: 'bfv', polyModulusDegree: 8192, coeffBits: [60, 60, 60], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { id: 'a1 bgv4096 36+36|37', idea: 'a', keySteps: 'binary', candidate: { scheme: 'bgv', polyModulusDegree: 4096, coeffBits: [36, 36, 37], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { id: 'a2 bgv4096 40+30|39 switch after mask', idea: 'a', keySteps: 'binary', candidate: { scheme: 'bgv', polyModulusDegree: 4096, coeffBits: [40, 30, 39], switchBeforeSquare: 1, switchAfterSquare: 0 } },
  { id: 'a3 bgv4096 30+25+25|29 switch after mask and square', idea: 'a', keySteps: 'binary', candidate: { scheme: 'bgv', polyModulusDegree: 4096, coeffBits: [30, 25, 25, 29], switchBeforeSquare: 1, switchAfterSquare: 1 } },
  { id: 'a4 bgv4096 54|55 one data prime', idea: 'a', keySteps: 'binary', candidate: { scheme: 'bgv', polyModulusDegree: 4096, coeffBits: [54, 55], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { id: 'a5 bfv4096 36+36|37', idea: 'a', keySteps: 'binary', candidate: { scheme: 'bfv', polyModulusDegree: 4096, coeffBits: [36, 36, 37], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { id: 'b0 bfv8192 binary keys (bench circuit)', idea: 'b', keySteps: 'binary', candidate: { scheme: 'bfv', polyModulusDegree: 8192, coeffBits: [60, 60, 60], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { id: 'b1 bfv8192 keys for powers of 4', idea: 'b', keySteps: 'base4', candidate: { scheme: 'bfv', polyModulusDegree: 8192, coeffBits: [60, 60, 60], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { id: 'b2 bfv8192 keys for powers of 8', idea: 'b', keySteps: 'base8', candidate: { scheme: 'bfv', polyModulusDegree: 8192, coeffBits: [60, 60, 60], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { id: 'p1 bfv8192 60+60+50|48 result at 3 primes (room for flooding)', idea: 'privacy', keySteps: 'binary', resultPrimes: 3, candidate: { scheme: 'bfv', polyModulusDegree: 8192, coeffBits: [60, 60, 50, 48], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { id: 'p2 bfv8192 60+60+50|48 result at 2 primes', idea: 'privacy', keySteps: 'binary', resultPrimes: 2, candidate: { scheme: 'bfv', polyModulusDegree: 8192, coeffBits: [60, 60, 50, 48], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { id: 'b3 bgv8192 60+40+30|60 keys for powers of 4', idea: 'b', keySteps: 'base4', candidate: { scheme: 'bgv', polyModulusDegree: 8192, coeffBits: [60, 40, 30, 60], switchBeforeSquare: 1, switchAfterSquare: 1 } },
];

/** Constant-weight designs; `resultPrimes` keeps the result above the last level. */
const SCALAR_CANDIDATES: { c: Candidate; resultPrimes?: number }[] = [
  { c: { scheme: 'bgv', polyModulusDegree: 4096, coeffBits: [36, 36, 37], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { c: { scheme: 'bgv', polyModulusDegree: 4096, coeffBits: [27, 27, 27, 28], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { c: { scheme: 'bfv', polyModulusDegree: 4096, coeffBits: [36, 36, 37], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { c: { scheme: 'bfv', polyModulusDegree: 4096, coeffBits: [39, 39, 31], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { c: { scheme: 'bfv', polyModulusDegree: 4096, coeffBits: [42, 42, 25], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { c: { scheme: 'bfv', polyModulusDegree: 4096, coeffBits: [27, 27, 27, 28], switchBeforeSquare: 0, switchAfterSquare: 0 } },
  { c: { scheme: 'bfv', polyModulusDegree: 4096, coeffBits: [27, 27, 27, 28], switchBeforeSquare: 0, switchAfterSquare: 0 }, resultPrimes: 2 },
  { c: { scheme: 'bgv', polyModulusDegree: 8192, coeffBits: [45, 45, 45], switchBeforeSquare: 0, switchAfterSquare: 0 } },
];

/** Galois key steps: every power of two below R (binary), or powers of 4 / 8 only. */
function keyStepsFor(kind: KeySteps, R: number): number[] {
  const base = kind === 'binary' ? 2 : kind === 'base4' ? 4 : 8;
  const steps: number[] = [];
  for (let s = 1; s < R; s *= base) steps.push(s);
  return steps;
}

/** A rotation by `step` as repeats of the largest key steps (greedy; all steps are powers of two). */
function decompose(step: number, keys: readonly number[]): number[] {
  const out: number[] = [];
  let left = step;
  for (const k of [...keys].sort((a, b) => b - a)) {
    while (left >= k) {
      out.push(k);
      left -= k;
    }
  }
  if (left !== 0) throw new Error(`step ${step} cannot be made of ${keys.join(',')}`);
  return out;
}

/** The records of the compiler's proof: extremes cycled through every region, then random fills. */
function proofRecords(model: TernaryModel, regions: number): QuantizedRecord[][] {
  const extremes = sampleRecords(model, 2 + model.hidden.weights.length);
  const random = sampleRecords(model, extremes.length + 2 * regions).slice(extremes.length);
  return [Array.from({ length: regions }, (_, r) => extremes[r % extremes.length]!), random.slice(0, regions), random.slice(regions)];
}

/** Secret-key tools the bench needs beside HeClient: noise probes and SEAL-compressed sizes. */
class Inspector implements Disposable {
  readonly #seal: Seal;
  readonly keygen;
  readonly sk;
  readonly pk;
  readonly decryptor;
  readonly encryptor;
  readonly encoder;
  constructor(seal: Seal, plan: HePlan, client: HeClient) {
    this.#seal = seal;
    const context = contextFor(seal, plan.params);
    const sk = new seal.SecretKey();
    sk.loadFromArray(context, client.exportSecretKey());
    this.keygen = new seal.KeyGenerator(context, sk);
    sk.delete();
    this.sk = this.keygen.secretKey();
    this.pk = this.keygen.createPublicKey();
    this.decryptor = new seal.Decryptor(context, this.sk);
    this.encryptor = new seal.Encryptor(context, this.pk, this.sk);
    this.encoder = new seal.BatchEncoder(context);
  }
  budget(ct: Ciphertext): number {
    return this.decryptor.invariantNoiseBudget(ct);
  }
  /** Bytes of a seeded symmetric encryption of `values` saved with SEAL's zstd. */
  zstdUpload(values: BigInt64Array): number {
    const pt = new this.#seal.Plaintext();
    this.encoder.encode(values, pt);
    const ser = this.encryptor.encryptSymmetricSerializable(pt);
    const n = (ser.saveToArray(this.#seal.ComprModeType.zstd) as Uint8Array).length;
    ser.delete();
    pt.delete();
    return n;
  }
  [Symbol.dispose](): void {
    this.encoder.delete();
    this.encryptor.delete();
    this.decryptor.delete();
    this.pk.delete();
    this.sk.delete();
    this.keygen.delete();
  }
}

/**
 * The single-layout circuit of circuit.ts, with rotations made from the given key steps and a
 * probe after each stage. No blinding: adding a plaintext changes no noise.
 */
function benchCircuit(seal: Seal, plan: HePlan, model: TernaryModel, keySteps: number[], resultPrimes = 1) {
  const context = contextFor(seal, plan.params);
  const ev = new seal.Evaluator(context);
  const encoder = new seal.BatchEncoder(context);
  const layout = plan.circuit.single!;
  const mask = new seal.Plaintext();
  encoder.encode(singleWeightMask(model, layout, encoder.slotCount()), mask);
  const bias = new seal.Plaintext();
  encoder.encode(singleBiasVector(model, layout, encoder.slotCount()), bias);
  let rotations = 0;
  const run = (input: Ciphertext, relin: RelinKeys, galois: GaloisKeys, probe?: (stage: string, ct: Ciphertext) => void): Ciphertext => {
    const x = new seal.Ciphertext();
    const tmp = new seal.Ciphertext();
    rotations = 0;
    const rotate = (src: Ciphertext, step: number) => {
      const parts = decompose(step, keySteps);
      ev.rotateRows(src, parts[0]!, galois, tmp);
      for (const p of parts.slice(1)) ev.rotateRowsInplace(tmp, p, galois);
      rotations += parts.length;
    };
    probe?.('fresh', input);
    ev.multiplyPlain(input, mask, x);
    probe?.('after mask', x);
    for (let k = 0; k < plan.circuit.switchBeforeSquare; k++) ev.cipherModSwitchToNextInplace(x);
    for (let s = 1; s < layout.blocks; s *= 2) {
      rotate(x, layout.unitStride * s);
      ev.addInplace(x, tmp);
    }
    probe?.('after block sums', x);
    ev.addPlainInplace(x, bias);
    ev.squareInplace(x);
    ev.relinearizeInplace(x, relin);
    probe?.('after square', x);
    for (let k = 0; k < plan.circuit.switchAfterSquare; k++) ev.cipherModSwitchToNextInplace(x);
    for (let s = 1; s < layout.groupSize; s *= 2) {
      rotate(x, s);
      ev.addInplace(x, tmp);
    }
    rotate(x, layout.groupSize);
    ev.subInplace(x, tmp);
    while (x.coeffModulusSize() > resultPrimes) ev.cipherModSwitchToNextInplace(x);
    probe?.('result', x);
    tmp.delete();
    return x;
  };
  return {
    run,
    get rotations() {
      return rotations;
    },
    maskCoefficients: mask.nonzeroCoeffCount(),
    dispose() {
      mask.delete();
      bias.delete();
      encoder.delete();
      ev.delete();
    },
  };
}

const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;

/** Divides and rounds to nearest, for non-negative a and positive b. */
const divRound = (a: bigint, b: bigint) => (2n * a + b) / (2n * b);

/**
 * (d) Result packing: a result at L primes (modulus Q) as two polynomials of k0 and k1 bits per
 * coefficient, i.e. modulus-switched from Q to 2^k in BFV form (a BGV result is first multiplied
 * by t⁻¹ mod Q, which turns m + t·e into a BFV-form encryption of a multiple of m mod t). Returns
 * the client's rebuilt SEAL bytes (the value scaled back to Q, a BGV one times t) and the packed
 * size.
 */
function packedRoundTrip(seal: Seal, plan: HePlan, resultBytes: Uint8Array, k0: number, k1: number): { bytes: Uint8Array; packedBytes: number } {
  const context = contextFor(seal, plan.params);
  const n = plan.params.polyModulusDegree;
  const t = BigInt(plan.params.plainModulus);
  const bgv = plan.params.scheme === 'bgv';
  const ev = new seal.Evaluator(context);
  const ct = new seal.Ciphertext();
  ct.loadFromArray(context, resultBytes);
  const L = ct.coeffModulusSize();
  if (ct.size() !== 2) throw new Error('expected a size-2 result');
  const primes = plan.params.coeffModulus.slice(0, L).map(BigInt);
  const Q = primes.reduce((a, b) => a * b, 1n);
  const crt = primes.map((q) => ({ q, Qj: Q / q, inv: modInverse(Q / q, q) }));
  const ntt = ct.isNttForm();
  if (ntt) ev.cipherTransformFromNttInplace(ct);
  const raw = ct.saveToArray(seal.ComprModeType.none) as Uint8Array;
  const dataAt = raw.length - 2 * L * n * 8;
  const words = new BigUint64Array(raw.slice(dataAt).buffer);
  const toBfv = bgv ? modInverse(t, Q) : 1n;
  // Server: scale each coefficient to k bits (what would travel); client: scale back to Q.
  for (let poly = 0; poly < 2; poly++) {
    const k = BigInt(poly === 0 ? k0 : k1);
    for (let i = 0; i < n; i++) {
      let c = 0n;
      crt.forEach(({ q, Qj, inv }, j) => (c += mod(words[(poly * L + j) * n + i]! * inv, q) * Qj));
      c = mod(c * toBfv, Q);
      const small = mod(divRound(c << k, Q), 1n << k);
      let back = mod(divRound(small * Q, 1n << k), Q);
      if (bgv) back = mod(back * t, Q);
      crt.forEach(({ q }, j) => (words[(poly * L + j) * n + i] = back % q));
    }
  }
  const rebuilt = new Uint8Array(raw);
  rebuilt.set(new Uint8Array(words.buffer), dataAt);
  const out = new seal.Ciphertext();
  out.loadFromArray(context, rebuilt);
  // SEAL brings a BGV ciphertext read in coefficient form back to NTT form itself.
  if (ntt && !out.isNttForm()) ev.cipherTransformToNttInplace(out);
  const bytes = out.saveToArray(seal.ComprModeType.none) as Uint8Array;
  out.delete();
  ct.delete();
  ev.delete();
  // A small header (level, k0, k1) plus the two packed polynomials.
  return { bytes, packedBytes: 48 + Math.ceil((n * (k0 + k1)) / 8) };
}

interface Row {
  model: string;
  design: string;
  idea: string;
  parameters: string;
  regions: number;
  galoisSteps: number[];
  keySwitchesPerEval: number | null;
  upBytes: number;
  upBytesZstd: number;
  downBytes: number;
  downBytesZstd: number;
  keyBytes: number;
  evalMs: number | null;
  marginBits: number | null;
  stageBudgets: Record<string, number>;
  exact: boolean;
  maskPlaintextNonzeroCoefficients: number | null;
  /** Circuit privacy (rerandomize.ts): flooding bits a 2^-40 distance needs at the result's level, and what is left. */
  flooding: null | { floodBits: number; marginBefore: number; marginAfter: number | null; exact: boolean | null; note: string | null; afterSwitchToLast: { marginBits: number; exact: boolean; downBytes: number } | null };
  packedResult: null | { k0: number; k1: number; downBytes: number; marginBits: number; exact: boolean; smallestExact: { k0: number; k1: number; downBytes: number; marginBits: number } | null };
  meetsTargets: { up: boolean; down: boolean; keys: boolean; evalMs: boolean; proof: boolean };
  refused: string | null;
}

function judge(row: Row): Row {
  const proof = row.exact && (row.marginBits ?? 0) >= REQUIRED_MARGIN_BITS;
  const down = Math.min(row.downBytes, row.packedResult && row.packedResult.marginBits >= REQUIRED_MARGIN_BITS ? row.packedResult.downBytes : Infinity);
  row.meetsTargets = { up: row.upBytes <= TARGET.upBytes, down: down <= TARGET.downBytes, keys: row.keyBytes <= TARGET.keyBytes, evalMs: (row.evalMs ?? Infinity) <= TARGET.evalMs, proof };
  if (!row.refused) {
    const why: string[] = [];
    if (!row.exact) why.push(`decrypted results differ from the integer reference (noise budget left ${row.marginBits} bits)`);
    else if (!proof) why.push(`noise budget left ${row.marginBits} bits < ${REQUIRED_MARGIN_BITS} required`);
    if (!row.meetsTargets.up) why.push(`${row.upBytes} B up > ${TARGET.upBytes}`);
    if (!row.meetsTargets.down) why.push(`${down === Infinity ? row.downBytes : down} B down > ${TARGET.downBytes}`);
    if (!row.meetsTargets.keys) why.push(`${row.keyBytes} B of keys > ${TARGET.keyBytes}`);
    if (!row.meetsTargets.evalMs) why.push(`eval ${row.evalMs?.toFixed(1)} ms > ${TARGET.evalMs}`);
    row.refused = why.length ? why.join('; ') : null;
  }
  return row;
}

async function measure(seal: Seal, model: TernaryModel, design: Design): Promise<Row> {
  const plainBits = plainBitsFor(outputBound(model));
  const c = design.candidate;
  const name = `${c.scheme.toUpperCase()} n=${c.polyModulusDegree} q=${c.coeffBits.join('+')}`;
  const base: Row = {
    model: model.id, design: design.id, idea: design.idea, parameters: name, regions: 0, galoisSteps: [], keySwitchesPerEval: null,
    upBytes: 0, upBytesZstd: 0, downBytes: 0, downBytesZstd: 0, keyBytes: 0, evalMs: null, marginBits: null, stageBudgets: {}, exact: false,
    maskPlaintextNonzeroCoefficients: null, flooding: null, packedResult: null, meetsTargets: { up: false, down: false, keys: false, evalMs: false, proof: false }, refused: null,
  };
  let body;
  try {
    body = bodyFor(model, 'single', c, plainBits, seal);
    contextFor(seal, body.params);
  } catch (e) {
    return { ...base, refused: `parameters refused by SEAL: ${sealErrorText(e)}` };
  }
  const layout = body.circuit.single!;
  const R = singleSlotsUsed(layout);
  const steps = keyStepsFor(design.keySteps, R);
  if (design.keySteps !== 'binary') body = { ...body, galoisSteps: steps };
  const plan = draftPlan(body);
  const row: Row = { ...base, parameters: describeParameters(plan.params), galoisSteps: plan.galoisSteps };
  const client = await HeClient.create(plan);
  const evaluator = await HeEvaluator.create(model, plan);
  const circuit = benchCircuit(seal, plan, model, steps, design.resultPrimes);
  using inspect = new Inspector(seal, plan, client);
  try {
    const regions = singleRegions(layout, client.slotCount);
    row.regions = regions;
    row.maskPlaintextNonzeroCoefficients = circuit.maskCoefficients;
    const bundle = client.evaluationKeys();
    row.keyBytes = keyBytesOf(bundle);
    using keys = evaluator.loadKeys(bundle);
    const fills = proofRecords(model, regions);
    const results: EncryptedResult[] = [];
    const times: number[] = [];
    let exact = true;
    let margin = Infinity;
    for (const [f, records] of fills.entries()) {
      const input: EncryptedInput = client.encryptVariants(records);
      row.upBytes = input.ciphertexts[0]!.length;
      let result: EncryptedResult;
      if (design.product) {
        for (let r = 0; r < (f === 0 ? REPEATS + 1 : 1); r++) {
          const t0 = performance.now();
          result = evaluator.evaluate(input, keys);
          if (r > 0) times.push(performance.now() - t0);
        }
        const [ct] = evaluator.loadInputs(input);
        row.stageBudgets = { fresh: inspect.budget(ct!) };
        ct!.delete();
      } else {
        const [ct] = evaluator.loadInputs(input);
        try {
          const stages: Record<string, number> = {};
          circuit.run(ct!, keys.relin, keys.galois!, (stage, x) => (stages[stage] = inspect.budget(x))).delete();
          if (f === 0) row.stageBudgets = stages;
          let out!: Ciphertext;
          for (let r = 0; r < (f === 0 ? REPEATS + 1 : 1); r++) {
            const t0 = performance.now();
            out = circuit.run(ct!, keys.relin, keys.galois!);
            const ms = performance.now() - t0;
            if (r > 0) times.push(ms);
            if (r < (f === 0 ? REPEATS : 0)) out.delete();
          }
          row.keySwitchesPerEval = circuit.rotations + 1;
          const bytes = out.saveToArray(seal.ComprModeType.none) as Uint8Array;
          row.downBytesZstd = Math.max(row.downBytesZstd, (out.saveToArray(seal.ComprModeType.zstd) as Uint8Array).length);
          out.delete();
          result = { layout: 'single', modelHash: plan.modelHash, planHash: plan.hash, count: 1, ciphertext: bytes };
        } finally {
          ct!.delete();
        }
      }
      results.push(result!);
      row.downBytes = Math.max(row.downBytes, result!.ciphertext.length);
      margin = Math.min(margin, client.noiseBudget(result!));
      const scores = client.decryptVariants(result!, regions);
      records.forEach((q, r) => {
        if (scores[r] !== referenceScore(model, q)) exact = false;
      });
      if (f === 0) row.upBytesZstd = inspect.zstdUpload(new BigInt64Array(client.slotCount));
    }
    if (design.product) {
      const rc = new seal.Ciphertext();
      const ctx = contextFor(seal, plan.params);
      rc.loadFromArray(ctx, results[0]!.ciphertext);
      row.downBytesZstd = (rc.saveToArray(seal.ComprModeType.zstd) as Uint8Array).length;
      rc.delete();
      row.keySwitchesPerEval = plan.galoisSteps.length + 1;
    }
    row.evalMs = Math.min(...times);
    row.marginBits = margin;
    row.exact = exact;
    if (exact) {
      const check = (bytes: Uint8Array, f: number) => {
        const rebuilt = { ...results[f]!, ciphertext: bytes };
        const scores = client.decryptVariants(rebuilt, regions);
        return { margin: client.noiseBudget(rebuilt), exact: fills[f]!.every((q, r) => scores[r] === referenceScore(model, q)) };
      };
      row.packedResult = packResults(seal, plan, results.map((r) => r.ciphertext), check);
      row.flooding = floodResults(seal, plan, results.map((r) => r.ciphertext), check, inspect.pk, margin);
    }
  } catch (e) {
    row.refused = `the circuit failed: ${sealErrorText(e)}`;
  } finally {
    circuit.dispose();
    evaluator.dispose();
    client.dispose();
  }
  return judge(row);
}

/**
 * (d) For each k1 (c1's bits; c0 keeps fewer, its rounding is not multiplied by the secret key),
 * the smallest packing that decrypts every proof result exactly, and the smallest that keeps the
 * required margin.
 */
function packResults(seal: Seal, plan: HePlan, results: Uint8Array[], check: (bytes: Uint8Array, index: number) => { margin: number; exact: boolean }): Row['packedResult'] {
  const ctx = contextFor(seal, plan.params);
  const probe = new seal.Ciphertext();
  probe.loadFromArray(ctx, results[0]!);
  const L = probe.coeffModulusSize();
  probe.delete();
  const qBits = plan.params.coeffModulus.slice(0, L).reduce((s, p) => s + BigInt(p).toString(2).length, 0);
  const tryK = (k0: number, k1: number) => {
    let margin = Infinity;
    let exact = true;
    let packed = 0;
    results.forEach((r, f) => {
      const { bytes, packedBytes } = packedRoundTrip(seal, plan, r, k0, k1);
      packed = packedBytes;
      const seen = check(bytes, f);
      margin = Math.min(margin, seen.margin);
      if (!seen.exact) exact = false;
    });
    return { k0, k1, downBytes: packed, marginBits: margin, exact };
  };
  let smallestExact: { k0: number; k1: number; downBytes: number; marginBits: number } | null = null;
  let withMargin: ReturnType<typeof tryK> | null = null;
  for (let k1 = 16; k1 <= qBits && (!smallestExact || !withMargin); k1++) {
    // c0's rounding adds |e| ≤ 2^(k-1)·q/2^k; c1's is multiplied by s (≈ √n times more).
    const k0 = Math.max(8, k1 - 6);
    const r = tryK(k0, k1);
    if (r.exact && !smallestExact) smallestExact = { k0, k1, downBytes: r.downBytes, marginBits: r.marginBits };
    if (r.exact && r.marginBits >= REQUIRED_MARGIN_BITS && !withMargin) withMargin = r;
  }
  if (!withMargin) return smallestExact ? { ...smallestExact, exact: true, smallestExact } : null;
  // Then take bits off c0 while the margin holds.
  for (let k0 = withMargin.k0 - 1; k0 >= 8; k0--) {
    const r = tryK(k0, withMargin.k1);
    if (!r.exact || r.marginBits < REQUIRED_MARGIN_BITS) break;
    withMargin = r;
  }
  return { ...withMargin, smallestExact };
}

/**
 * Circuit privacy: each proof result flooded (rerandomize.ts) with the bits a 2^−40 statistical
 * distance needs above the smallest margin seen, then decrypted. BFV only.
 */
function floodResults(seal: Seal, plan: HePlan, results: Uint8Array[], check: (bytes: Uint8Array, index: number) => { margin: number; exact: boolean }, pk: InstanceType<Seal['PublicKey']>, marginBefore: number): Row['flooding'] {
  if (plan.params.scheme !== 'bfv') return null;
  const context = contextFor(seal, plan.params);
  const ct = new seal.Ciphertext();
  let marginAfter = Infinity;
  let exact = true;
  try {
    ct.loadFromArray(context, results[0]!);
    const primes = ct.coeffModulusSize();
    const f = floodBits(plan.params, primes, marginBefore);
    const qBits = plan.params.coeffModulus.slice(0, primes).reduce((a, p) => a + BigInt(p).toString(2).length, 0);
    if (f + 2 > qBits) return { floodBits: f, marginBefore, marginAfter: null, exact: null, note: `${f} bits of flooding do not fit the result's ${qBits}-bit modulus`, afterSwitchToLast: null };
    // Switching down after the flood is public post-processing: the distance cannot grow.
    const ev = new seal.Evaluator(context);
    const last = primes > 1 ? { marginBits: Infinity, exact: true, downBytes: 0 } : null;
    results.forEach((bytes, i) => {
      ct.loadFromArray(context, bytes);
      const flooded = rerandomize(seal, context, plan.params, ct, pk, f);
      const seen = check(flooded.saveToArray(seal.ComprModeType.none) as Uint8Array, i);
      marginAfter = Math.min(marginAfter, seen.margin);
      if (!seen.exact) exact = false;
      if (last) {
        while (flooded.coeffModulusSize() > 1) ev.cipherModSwitchToNextInplace(flooded);
        const down = flooded.saveToArray(seal.ComprModeType.none) as Uint8Array;
        const lastSeen = check(down, i);
        last.marginBits = Math.min(last.marginBits, lastSeen.margin);
        last.downBytes = down.length;
        if (!lastSeen.exact) last.exact = false;
      }
      flooded.delete();
    });
    ev.delete();
    return { floodBits: f, marginBefore, marginAfter, exact, note: null, afterSwitchToLast: last };
  } finally {
    ct.delete();
  }
}

/**
 * (c) What multiplying a fresh ciphertext by a plaintext costs in noise budget, by mask: the
 * model's weight mask, the same mask with signs only (α left out), the mask in region 0 only (not
 * replicated), and the constant 7 (the largest α). Batching turns any slot pattern that is not
 * constant into a polynomial whose coefficients are spread over all of Z_t, so the sign-only mask
 * costs about as much as the real one.
 */
async function maskStudy(seal: Seal, model: TernaryModel, c: Candidate) {
  const body = bodyFor(model, 'single', c, plainBitsFor(outputBound(model)), seal);
  const plan = draftPlan(body);
  const client = await HeClient.create(plan);
  const evaluator = await HeEvaluator.create(model, plan);
  using inspect = new Inspector(seal, plan, client);
  const context = contextFor(seal, plan.params);
  const ev = new seal.Evaluator(context);
  const layout = plan.circuit.single!;
  const slots = client.slotCount;
  const R = singleSlotsUsed(layout);
  const t = BigInt(plan.params.plainModulus);
  const real = singleWeightMask(model, layout, slots);
  const masks: Record<string, BigInt64Array> = {
    'weight mask α·w': real,
    'signs only w': real.map((v) => (v > 0n ? 1n : v < 0n ? -1n : 0n)),
    'region 0 only': real.map((v, i) => (i < R ? v : 0n)),
    'constant 7': new BigInt64Array(slots).fill(7n),
  };
  const [fresh] = evaluator.loadInputs(client.encryptRecord(sampleRecords(model, 1)[0]!));
  const freshBits = inspect.budget(fresh!);
  const out: Record<string, { budgetSpentBits: number; nonzeroCoefficients: number; largestCoefficientBits: number }> = {};
  for (const [name, values] of Object.entries(masks)) {
    const pt = new seal.Plaintext();
    inspect.encoder.encode(values, pt);
    const ct = new seal.Ciphertext();
    ev.multiplyPlain(fresh!, pt, ct);
    // Coefficients of the plaintext polynomial, centered mod t.
    const words = new BigUint64Array((pt.saveToArray(seal.ComprModeType.none) as Uint8Array).slice(-slots * 8).buffer);
    let largest = 0n;
    for (const w of words) {
      const centered = w > t / 2n ? t - w : w;
      if (centered > largest) largest = centered;
    }
    out[name] = { budgetSpentBits: freshBits - inspect.budget(ct), nonzeroCoefficients: pt.nonzeroCoeffCount(), largestCoefficientBits: largest.toString(2).length };
    ct.delete();
    pt.delete();
  }
  fresh!.delete();
  ev.delete();
  evaluator.dispose();
  client.dispose();
  return { model: model.id, parameters: describeParameters(plan.params), freshBudgetBits: freshBits, masks: out };
}

/**
 * (c, taken to its end) No weight mask at all: the only plaintexts are constants (α_j, β_j), whose
 * polynomials have one coefficient. The client puts q_i at slot i of each region of
 * R = nextPow2(d) slots, unreplicated; the server brings q_i to slot 0 by rotation (baby steps
 * 1..b−1 shared by every unit, giant steps g·b per unit), adds or subtracts as W_ji says, scales
 * by α_j, adds β_j, squares each unit and sums them with their output signs, relinearizing once.
 * Galois keys: b − 1 + ⌈d/b⌉ − 1 steps.
 */
async function scalarDesign(seal: Seal, model: TernaryModel, c: Candidate, resultPrimes = 1): Promise<Row> {
  const plainBits = plainBitsFor(outputBound(model));
  const d = model.features.length;
  const R = nextPow2(d);
  const b = Math.ceil(Math.sqrt(d));
  const giants = Math.ceil(d / b);
  const steps = [...Array.from({ length: b - 1 }, (_, i) => i + 1), ...Array.from({ length: giants - 1 }, (_, g) => (g + 1) * b)];
  const body = bodyFor(model, 'single', c, plainBits, seal);
  const plan = draftPlan(body);
  const row: Row = {
    model: model.id, design: `c2 ${c.scheme}${c.polyModulusDegree} ${c.coeffBits.slice(0, -1).join('+')}|${c.coeffBits.at(-1)} constant weights, rotations only${resultPrimes > 1 ? `, result at ${resultPrimes} primes` : ''}`, idea: 'c', parameters: describeParameters(plan.params),
    regions: 0, galoisSteps: steps, keySwitchesPerEval: null, upBytes: 0, upBytesZstd: 0, downBytes: 0, downBytesZstd: 0, keyBytes: 0, evalMs: null, marginBits: null, stageBudgets: {}, exact: false,
    maskPlaintextNonzeroCoefficients: 1, flooding: null, packedResult: null, meetsTargets: { up: false, down: false, keys: false, evalMs: false, proof: false }, refused: null,
  };
  const context = contextFor(seal, plan.params);
  const client = await HeClient.create(plan);
  using inspect = new Inspector(seal, plan, client);
  const ev = new seal.Evaluator(context);
  const slots = inspect.encoder.slotCount();
  const regions = slots / R;
  row.regions = regions;
  const zstd = seal.ComprModeType.zstd;
  const rks = inspect.keygen.createRelinKeysSerializable();
  const gks = inspect.keygen.createGaloisKeysSerializableWithSteps(Int32Array.from(steps));
  const relinBytes = rks.saveToArray(zstd) as Uint8Array;
  const galoisBytes = gks.saveToArray(zstd) as Uint8Array;
  rks.delete();
  gks.delete();
  row.keyBytes = relinBytes.length + galoisBytes.length;
  const relin = new seal.RelinKeys();
  relin.loadFromArray(context, relinBytes);
  const galois = new seal.GaloisKeys();
  galois.loadFromArray(context, galoisBytes);
  const constants = new Map<bigint, Plaintext>();
  const constant = (v: bigint): Plaintext => {
    let pt = constants.get(v);
    if (!pt) {
      pt = new seal.Plaintext();
      inspect.encoder.encode(new BigInt64Array(slots).fill(v), pt);
      constants.set(v, pt);
    }
    return pt;
  };
  let switches = 0;
  const run = (x: Ciphertext, probe?: (stage: string, budgetBits: number) => void): Ciphertext => {
    switches = 0;
    probe?.('fresh', inspect.budget(x));
    const baby: Ciphertext[] = [x];
    for (let k = 1; k < b; k++) {
      const r = new seal.Ciphertext();
      ev.rotateRows(x, k, galois, r);
      switches++;
      baby.push(r);
    }
    const acc = new seal.Ciphertext();
    let started = false;
    let fixed = 0n;
    const z = new seal.Ciphertext();
    const part = new seal.Ciphertext();
    let worst = Infinity;
    model.hidden.weights.forEach((row, j) => {
      const sign = model.output.weights[j]!;
      if (sign === 0) return;
      const a = model.hidden.alpha[j]!;
      const beta = BigInt(model.hidden.beta[j]!);
      let zStarted = false;
      for (let g = 0; g < giants; g++) {
        let pStarted = false;
        for (let k = 0; k < b; k++) {
          const w = row[g * b + k] ?? 0;
          if (w === 0) continue;
          if (!pStarted) {
            part.assign(baby[k]!);
            if (w === -1) ev.negateInplace(part);
            pStarted = true;
          } else if (w === 1) ev.addInplace(part, baby[k]!);
          else ev.subInplace(part, baby[k]!);
        }
        if (!pStarted) continue;
        if (g > 0) {
          ev.rotateRowsInplace(part, g * b, galois);
          switches++;
        }
        if (!zStarted) z.assign(part);
        else ev.addInplace(z, part);
        zStarted = true;
      }
      if (!zStarted || a === 0) {
        fixed += BigInt(sign) * beta * beta;
        return;
      }
      if (a !== 1) ev.multiplyPlainInplace(z, constant(BigInt(a)));
      if (beta !== 0n) ev.addPlainInplace(z, constant(beta));
      if (probe) worst = Math.min(worst, inspect.budget(z));
      ev.squareInplace(z);
      if (!started) {
        acc.assign(z);
        if (sign === -1) ev.negateInplace(acc);
        started = true;
      } else if (sign === 1) ev.addInplace(acc, z);
      else ev.subInplace(acc, z);
    });
    probe?.('before squares (worst unit)', worst);
    if (fixed !== 0n) ev.addPlainInplace(acc, constant(fixed));
    ev.relinearizeInplace(acc, relin);
    switches++;
    probe?.('after squares', inspect.budget(acc));
    while (acc.coeffModulusSize() > resultPrimes) ev.cipherModSwitchToNextInplace(acc);
    probe?.('result', inspect.budget(acc));
    baby.slice(1).forEach((r) => r.delete());
    z.delete();
    part.delete();
    return acc;
  };
  const fills = proofRecords(model, regions);
  const times: number[] = [];
  const resultBytes: Uint8Array[] = [];
  let exact = true;
  let margin = Infinity;
  const check = (bytes: Uint8Array, f: number) => {
    const ct = new seal.Ciphertext();
    ct.loadFromArray(context, bytes);
    const dec = new seal.Plaintext();
    inspect.decryptor.decrypt(ct, dec);
    const values = inspect.encoder.decodeBigInt64(dec) as BigInt64Array;
    const seen = { margin: inspect.budget(ct), exact: fills[f]!.every((q, r) => Number(values[r * R]!) === referenceScore(model, q)) };
    dec.delete();
    ct.delete();
    return seen;
  };
  try {
    for (const [f, records] of fills.entries()) {
      const v = new BigInt64Array(slots);
      records.forEach((q, r) => q.forEach((x, i) => (v[r * R + i] = BigInt(x))));
      const pt = new seal.Plaintext();
      inspect.encoder.encode(v, pt);
      const ser = inspect.encryptor.encryptSymmetricSerializable(pt);
      const up = ser.saveToArray(seal.ComprModeType.none) as Uint8Array;
      row.upBytes = up.length;
      if (f === 0) row.upBytesZstd = (ser.saveToArray(zstd) as Uint8Array).length;
      ser.delete();
      pt.delete();
      const x = new seal.Ciphertext();
      x.loadFromArray(context, up);
      if (f === 0) {
        const stages: Record<string, number> = {};
        run(x, (stage, bits) => (stages[stage] = bits)).delete();
        row.stageBudgets = stages;
      }
      let out!: Ciphertext;
      for (let r = 0; r < (f === 0 ? REPEATS + 1 : 1); r++) {
        const t0 = performance.now();
        out = run(x);
        if (r > 0) times.push(performance.now() - t0);
        if (r < (f === 0 ? REPEATS : 0)) out.delete();
      }
      x.delete();
      const bytes = out.saveToArray(seal.ComprModeType.none) as Uint8Array;
      resultBytes.push(bytes);
      row.downBytes = bytes.length;
      row.downBytesZstd = (out.saveToArray(zstd) as Uint8Array).length;
      out.delete();
      const seen = check(bytes, f);
      margin = Math.min(margin, seen.margin);
      if (!seen.exact) exact = false;
    }
    if (exact) {
      row.packedResult = packResults(seal, plan, resultBytes, check);
      row.flooding = floodResults(seal, plan, resultBytes, check, inspect.pk, margin);
    }
    row.keySwitchesPerEval = switches;
    row.evalMs = Math.min(...times);
    row.marginBits = margin;
    row.exact = exact;
  } catch (e) {
    row.refused = `the circuit failed: ${sealErrorText(e)}`;
  } finally {
    constants.forEach((pt) => pt.delete());
    relin.delete();
    galois.delete();
    ev.delete();
    client.dispose();
  }
  return judge(row);
}

async function main() {
  const seal = await loadSeal();
  const only = process.env.LEAN_MODELS?.split(',');
  const designsOnly = process.env.LEAN_DESIGNS?.split(',');
  const files = (await readdir(MODELS)).filter((f) => f.endsWith('.json')).sort();
  const rows: Row[] = [];
  const masks: Awaited<ReturnType<typeof maskStudy>>[] = [];
  for (const file of files) {
    const model = parseModel(JSON.parse(await readFile(new URL(file, MODELS), 'utf8')));
    if (only && !only.includes(model.id)) continue;
    if (!designsOnly || designsOnly.includes('c')) {
      for (const c of [DESIGNS[1]!.candidate, DESIGNS[0]!.candidate]) masks.push(await maskStudy(seal, model, c));
    }
    if (!designsOnly || designsOnly.includes('c2')) {
      for (const { c, resultPrimes } of SCALAR_CANDIDATES) {
        const row = await scalarDesign(seal, model, c, resultPrimes);
        rows.push(row);
        console.error(`${model.id} ${row.design}: ${row.refused ?? 'meets every target'}`);
      }
    }
    for (const design of DESIGNS) {
      if (designsOnly && !designsOnly.some((d) => design.id.startsWith(d))) continue;
      const row = await measure(seal, model, design);
      rows.push(row);
      console.error(`${model.id} ${design.id}: ${row.refused ?? 'meets every target'}`);
    }
  }
  const kb = (b: number) => (b / 1024).toFixed(1);
  const header = ['model', 'design', 'parameters', 'up KiB', 'up zstd', 'down KiB', 'down zstd', 'packed down (k0+k1, margin)', 'keys KiB', 'key switches', 'eval ms', 'margin', 'exact', 'flooded (f bits: margin)', 'budget by stage'];
  const table = rows.map((r) => [
    r.model, r.design, r.parameters, kb(r.upBytes), kb(r.upBytesZstd), kb(r.downBytes), kb(r.downBytesZstd),
    r.packedResult ? `${kb(r.packedResult.downBytes)} (${r.packedResult.k0}+${r.packedResult.k1}, ${r.packedResult.marginBits})` : '-',
    kb(r.keyBytes), String(r.keySwitchesPerEval ?? '-'), r.evalMs?.toFixed(1) ?? '-', String(r.marginBits ?? '-'), r.exact ? 'yes' : 'no',
    r.flooding ? `${r.flooding.floodBits}: ${r.flooding.marginAfter ?? 'does not fit'}${r.flooding.exact === false ? ' inexact' : ''}${r.flooding.afterSwitchToLast ? `, at the last prime ${r.flooding.afterSwitchToLast.marginBits}` : ''}` : '-',
    Object.entries(r.stageBudgets).map(([k, v]) => `${k} ${v}`).join(', '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  console.log([header, ...table].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n'));
  for (const m of masks) {
    console.log(`${m.model} ${m.parameters}, fresh budget ${m.freshBudgetBits} bits: ` + Object.entries(m.masks).map(([k, v]) => `${k}: −${v.budgetSpentBits} bits (${v.nonzeroCoefficients} coefficients, largest ${v.largestCoefficientBits} bits)`).join('; '));
  }
  const out = { machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version }, date: new Date().toISOString(), targets: TARGET, requiredMarginBits: REQUIRED_MARGIN_BITS, rows, maskStudy: masks };
  if (!only && !designsOnly) {
    await writeFile(new URL('./lean-results.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
    console.log('wrote bench/lean-results.json');
  }
}

await main();
