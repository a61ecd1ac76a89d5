/**
 * Engine benchmark: per default model and layout, the cost of each stage of a private
 * prediction on this machine, one thread. Prints a table and writes bench/results.json.
 * See bench/README.md for what each figure means.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { parseModel, type TernaryModel } from '../src/core/model/format.ts';
import { compilePlan, describeParameters, encryptedScores, HeClient, HeEvaluator, LAYOUTS, type HePlan } from '../src/core/he/index.ts';
import { randomRecords } from './records.ts';

const MODELS = new URL('../models/', import.meta.url);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Times the circuit alone (inputs already loaded) and the same circuit with each SEAL call timed. */
async function circuitCost(model: TernaryModel, plan: HePlan) {
  const client = await HeClient.create(plan);
  const evaluator = await HeEvaluator.create(model, plan);
  try {
    using keys = evaluator.loadKeys(client.evaluationKeys());
    const [input] = client.encryptRecords(randomRecords(model, plan.recordsPerInput));
    const loaded = evaluator.loadInputs(input!);
    const circuit: number[] = [];
    const raw: number[] = [];
    const full: number[] = [];
    const perOp = new Map<string, number>();
    for (let r = 0; r < REPEATS + 1; r++) {
      let t = performance.now();
      evaluator.circuit.evaluate(loaded, keys).delete();
      const c = performance.now() - t;
      let sum = 0;
      const ops = new Map<string, number>();
      evaluator.circuit.evaluate(loaded, keys, (op, ms) => {
        sum += ms;
        ops.set(op, (ops.get(op) ?? 0) + ms);
      }).delete();
      t = performance.now();
      evaluator.evaluate(input!, keys);
      const f = performance.now() - t;
      if (r === 0) continue; // warm-up
      circuit.push(c);
      raw.push(sum);
      full.push(f);
      for (const [k, v] of ops) perOp.set(k, (perOp.get(k) ?? 0) + v / REPEATS);
    }
    loaded.forEach((c) => c.delete());
    return { circuitMs: median(circuit), rawOpsMs: median(raw), evaluateWithIoMs: median(full), perOpMs: Object.fromEntries(perOp) };
  } finally {
    evaluator.dispose();
    client.dispose();
  }
}

async function main() {
  const files = (await readdir(MODELS)).filter((f) => f.endsWith('.json'));
  const results = [];
  for (const file of files.sort()) {
    const model = parseModel(JSON.parse(await readFile(new URL(file, MODELS), 'utf8')));
    for (const layout of LAYOUTS) {
      const plan = await compilePlan(model, layout);
      const n = plan.recordsPerInput;
      // One full input: one record (single) or a full batch of n records.
      const stages: Awaited<ReturnType<typeof encryptedScores>>["timings"][] = [];
      for (let r = 0; r < 3; r++) stages.push((await encryptedScores(model, plan, randomRecords(model, n))).timings);
      const t = (k: keyof (typeof stages)[number]) => median(stages.map((s) => s[k]));
      const cost = await circuitCost(model, plan);
      const row = {
        model: model.id,
        layout,
        parameters: describeParameters(plan.params),
        recordsPerInput: n,
        keygenMs: t('keygenMs'),
        encryptMs: t('encryptMs'),
        evaluateMs: t('evaluateMs'),
        decryptMs: t('decryptMs'),
        evaluationKeyBytes: t('evaluationKeyBytes'),
        uploadBytes: t('uploadBytes'),
        downloadBytes: t('downloadBytes'),
        uploadBytesPerRecord: Math.ceil(t('uploadBytes') / n),
        downloadBytesPerRecord: Math.ceil(t('downloadBytes') / n),
        recordsPerSecond: (n / cost.evaluateWithIoMs) * 1000,
        circuitMs: cost.circuitMs,
        rawOpsMs: cost.rawOpsMs,
        evaluateWithIoMs: cost.evaluateWithIoMs,
        engineOverhead: cost.circuitMs / cost.rawOpsMs - 1,
        noiseMarginBits: plan.report.noiseMarginBits,
        perOpMs: cost.perOpMs,
      };
      results.push(row);
      console.error(`${model.id} ${layout}: done`);
    }
  }
  const kb = (b: number) => (b / 1024).toFixed(1);
  const header = ['model', 'layout', 'parameters', 'keygen ms', 'encrypt ms', 'eval ms', 'decrypt ms', 'eval keys KiB', 'up KiB/rec', 'down KiB/rec', 'records/s', 'circuit ms', 'raw ops ms', 'overhead', 'margin bits'];
  const rows = results.map((r) => [r.model, r.layout, r.parameters, r.keygenMs.toFixed(1), r.encryptMs.toFixed(1), r.evaluateMs.toFixed(1), r.decryptMs.toFixed(1), kb(r.evaluationKeyBytes), kb(r.uploadBytesPerRecord), kb(r.downloadBytesPerRecord), r.recordsPerSecond.toFixed(0), r.circuitMs.toFixed(2), r.rawOpsMs.toFixed(2), `${(100 * r.engineOverhead).toFixed(1)}%`, String(r.noiseMarginBits)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  console.log([header, ...rows].map((r) => r.map((c, i) => c.padStart(widths[i]!)).join('  ')).join('\n'));
  const out = { machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version }, date: new Date().toISOString(), repeats: REPEATS, results };
  await writeFile(new URL('./results.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
  console.log('wrote bench/results.json');
}

await main();
