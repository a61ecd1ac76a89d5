/** Lean requests (bench/lean.ts): the weight-mask study (c) and the constant-weight designs (c2). */
import type { TernaryModel } from '../../src/core/model/format.ts';
import { outputBound, referenceScore } from '../../src/core/model/reference.ts';
import { bodyFor, draftPlan, plainBitsFor, sampleRecords, type Candidate } from '../../src/core/he/compile.ts';
import { HeClient } from '../../src/core/he/client.ts';
import { HeEvaluator } from '../../src/core/he/evaluator.ts';
import { nextPow2, singleSlotsUsed, singleWeightMask } from '../../src/core/he/layout.ts';
import { contextFor, describeParameters } from '../../src/core/he/params.ts';
import { sealErrorText, type Ciphertext, type Plaintext, type Seal } from '../../src/core/he/seal.ts';
import { Inspector, REPEATS, type Row, judge, proofRecords } from './harness.ts';
import { floodResults, mod, packResults } from './results.ts';

/**
 * (c) What multiplying a fresh ciphertext by a plaintext costs in noise budget, by mask: the
 * model's weight mask, the same mask with signs only (α left out), the mask in region 0 only (not
 * replicated), and the constant 7 (the largest α). Batching turns any slot pattern that is not
 * constant into a polynomial whose coefficients are spread over all of Z_t, so the sign-only mask
 * costs about as much as the real one.
 */
export async function maskStudy(seal: Seal, model: TernaryModel, c: Candidate) {
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
export async function scalarDesign(seal: Seal, model: TernaryModel, c: Candidate, resultPrimes = 1): Promise<Row> {
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
