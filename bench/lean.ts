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
 * The designs, circuit copy, table rows and result studies are in bench/lean/.
 *
 * Run: nice -n 10 npx tsx bench/lean.ts   (LEAN_MODELS=pima-diabetes,... to restrict)
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { parseModel, type TernaryModel } from '../src/core/model/format.ts';
import { outputBound, referenceScore } from '../src/core/model/reference.ts';
import { bodyFor, draftPlan, plainBitsFor, REQUIRED_MARGIN_BITS } from '../src/core/he/compile.ts';
import { HeClient } from '../src/core/he/client.ts';
import { HeEvaluator } from '../src/core/he/evaluator.ts';
import { singleRegions, singleSlotsUsed } from '../src/core/he/layout.ts';
import { contextFor, describeParameters } from '../src/core/he/params.ts';
import { loadSeal, sealErrorText, type Ciphertext, type Seal } from '../src/core/he/seal.ts';
import { keyBytesOf, type EncryptedInput, type EncryptedResult } from '../src/core/he/types.ts';
import { benchCircuit, keyStepsFor } from './lean/circuit.ts';
import { DESIGNS, type Design, SCALAR_CANDIDATES } from './lean/designs.ts';
import { Inspector, REPEATS, type Row, TARGET, judge, proofRecords } from './lean/harness.ts';
import { floodResults, packResults } from './lean/results.ts';
import { maskStudy, scalarDesign } from './lean/studies.ts';

const MODELS = new URL('../models/', import.meta.url);

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
