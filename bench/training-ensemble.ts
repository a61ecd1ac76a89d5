/**
 * `npx tsx bench/training-ensemble.ts <id> [--seeds 1,2] [--out file.json] [--input-bits B] …`: the TernaryNet stage
 * alone on repeated splits (seeds 1–10 by default), scoring on the held-out rows the chosen run
 * and sums of several runs (src/train/ensemble.ts): the best K by validation loss, plainly or each
 * counted in proportion to its decoding slope, the best K by validation AUC, and the pair whose sum
 * has the least validation loss or the best validation AUC. The float
 * baselines are not trained here (bench/training.ts has them for the same splits); `single`
 * reproduces that table's TernaryNet. `--input-bits`, `--hidden`, `--alpha-max`, `--restarts N`, `--per-sign N`
 * (output units of each sign per run; 0: no cap), `--linear` (a linear skip term in every run) and
 * `--linear-l2 S` (its L2 strength), `--learning-rate R`, `--epochs E` and `--batches B` (steps per epoch, batches of at least 32 rows) change the runs for an experiment (which must name its `--out`); `--no-pairs` skips the pair sums. Writes bench/training-ensemble-<id>.json (or --out).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { modelsDir, sharedDataDir } from '../src/cli/paths.ts';
import { parseCsv } from '../src/core/data/csv.ts';
import { selectFeatures } from '../src/core/data/select.ts';
import { parseDatasetSpec } from '../src/core/data/spec.ts';
import { balancedLogLoss, brierScore, rocAuc, scoreClassifier } from '../src/core/metrics.ts';
import { type ModelBody } from '../src/core/model/format.ts';
import { verifyMonotone } from '../src/core/model/monotone.ts';
import { outputBound } from '../src/core/model/reference.ts';
import { outputUnitsPerSign, sumNetworks } from '../src/train/ensemble.ts';
import { DEFAULT_LIMITS, type IntegerLayers } from '../src/train/fold.ts';
import { monotoneSetup } from '../src/train/monotone.ts';
import { predictReference } from '../src/train/predict.ts';
import { prepareData } from '../src/train/prepare.ts';
import { TERNARY_CANDIDATES, type TernaryOutcome, trainTernary } from '../src/train/qat.ts';
import { subSeed } from '../src/train/random.ts';
import { priorShifted } from '../src/train/repeated.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { seeds: { type: 'string' }, out: { type: 'string' }, 'input-bits': { type: 'string' }, hidden: { type: 'string' }, 'alpha-max': { type: 'string' }, 'per-sign': { type: 'string' }, restarts: { type: 'string' }, linear: { type: 'boolean' }, 'linear-l2': { type: 'string' }, 'no-pairs': { type: 'boolean' }, 'learning-rate': { type: 'string' }, epochs: { type: 'string' }, batches: { type: 'string' } } });
const id = positionals[0] ?? 'pima-diabetes';
const seeds = values.seeds?.split(',').map(Number) ?? Array.from({ length: 10 }, (_, i) => i + 1);
const hidden = Number(values.hidden ?? 8);
const limits = { ...DEFAULT_LIMITS, ...(values['alpha-max'] ? { alphaMax: Number(values['alpha-max']) } : {}) };
/** `--per-sign 0`: no cap on the output units of each sign. */
const capped = values['per-sign'] === undefined ? TERNARY_CANDIDATES : TERNARY_CANDIDATES.map((c) => ({ ...c, outputPerSign: Number(values['per-sign']) || undefined }));
/** `--restarts N`: every configuration from N initializations instead of 2 (as bench/training.ts). */
const candidates = Array.from({ length: Number(values.restarts ?? 2) / 2 }, (_, k) => capped.map((c) => ({ ...c, restart: c.restart + 2 * k }))).flat();
/** The record (bench/training-ensemble-<id>.json) holds today's runs on seeds 1–10; any change to them is an experiment and must name its --out. */
const changed = Object.keys(values).filter((k) => !['out', 'no-pairs'].includes(k));
if (changed.length && !values.out) {
  console.error(`bench/training-ensemble.ts: an experiment (--${changed.join(', --')}) is written only where --out says; bench/training-ensemble-${id}.json keeps today's runs on seeds 1–10`);
  process.exit(2);
}
const out = values.out ?? new URL(`./training-ensemble-${id}.json`, import.meta.url).pathname;

await tf.setBackend('cpu');
const spec = parseDatasetSpec(JSON.parse(await readFile(resolve(modelsDir, 'specs', `${id}.json`), 'utf8')));
const table = parseCsv(await readFile(resolve(sharedDataDir(), spec.data), 'utf8'), spec.data);
const { X, y } = selectFeatures(table, { features: spec.features, label: spec.label, missingAsZero: spec.missingAsZero });

interface VariantScore { balancedAccuracy: number; auc: number; brier: number; validationLoss: number; bound: number; hidden: number; positive: number; negative: number; monotone: boolean }
const splits: { seed: number; seconds: number; variants: Record<string, VariantScore> }[] = [];

for (const seed of seeds) {
  const started = performance.now();
  const prepared = prepareData(X, y, { seed, bits: Number(values['input-bits'] ?? spec.training?.inputBits ?? 4) });
  try {
    const { split, input } = prepared;
    const loop = { epochs: Number(values.epochs ?? 60), batchSize: Math.max(32, Math.round(prepared.fitRows.length / Number(values.batches ?? 32))), learningRate: Number(values['learning-rate'] ?? 0.01), seed: subSeed(seed, 1) };
    const monotone = monotoneSetup({ features: spec.features, input });
    const trained = await trainTernary({ prepared, X, y, hidden, seed, limits, loop, finetuneEpochs: 20, features: spec.features, monotone, linear: values.linear, ...(values['linear-l2'] ? { linearL2: Number(values['linear-l2']) } : {}) }, candidates);
    const refit = { q: split.train.map((r) => prepared.quantized[r]!), labels: split.train.map((r) => y[r]!) };
    const validationRows = prepared.validationRows;
    const validationLabels = validationRows.map((r) => y[r]!);
    const testLabels = split.test.map((r) => y[r]!);
    const prior = refit.labels.reduce((a, b) => a + b, 0) / refit.labels.length;
    const body = (layers: IntegerLayers): Pick<ModelBody, 'features' | 'input' | 'hidden' | 'output'> => ({ features: spec.features, input, ...layers });
    const aucOf = (run: TernaryOutcome) => rocAuc(validationLabels, predictReference({ input, ...run.layers }, validationRows.map((r) => X[r]!)));
    const byLoss = [...trained.runs].sort((a, b) => a.validationLoss - b.validationLoss);
    const byAuc = trained.runs.map((run) => ({ run, auc: aucOf(run) })).sort((a, b) => b.auc - a.auc).map((e) => e.run);
    /** Each member counted in proportion to its decoding slope on its own y (at most 4 times). */
    const slopeTimes = (members: TernaryOutcome[]) => {
      const slopes = members.map((m) => Math.abs(m.layers.output.scale));
      const least = Math.min(...slopes);
      return slopes.map((s) => Math.min(4, Math.max(1, Math.round(s / least))));
    };
    const variants: Record<string, IntegerLayers> = { single: trained.layers };
    for (const k of [2, 3, 4, 6, 8]) variants[`loss${k}`] = sumNetworks(byLoss.slice(0, k).map((r) => r.layers), refit);
    for (const k of [3, 4, 8]) variants[`loss${k}w`] = sumNetworks(byLoss.slice(0, k).map((r) => r.layers), refit, slopeTimes(byLoss.slice(0, k)));
    // The first four runs alone (each configuration once, half the epochs): the best, and the sum of the best 2.
    const firstFour = trained.runs.slice(0, 4).sort((a, b) => a.validationLoss - b.validationLoss);
    variants.four = firstFour[0]!.layers;
    variants.four2 = sumNetworks(firstFour.slice(0, 2).map((r) => r.layers), refit);
    for (const k of [1, 2, 4]) variants[`auc${k}`] = k === 1 ? byAuc[0]!.layers : sumNetworks(byAuc.slice(0, k).map((r) => r.layers), refit);
    // The pair of runs whose sum has the least validation loss (or the best validation AUC).
    // `--no-pairs`: skip the 28 pair sums (most of a split's scoring time).
    const pairs = values['no-pairs'] ? [] : trained.runs.flatMap((a, i) => trained.runs.slice(i + 1).map((b) => sumNetworks([a.layers, b.layers], refit)));
    const validationOf = (layers: IntegerLayers) => predictReference({ input, ...layers }, validationRows.map((r) => X[r]!));
    const scored = pairs.map((layers) => { const p = validationOf(layers); return { layers, loss: balancedLogLoss(validationLabels, p), auc: rocAuc(validationLabels, p) }; });
    if (scored.length) {
      variants.pairLoss = scored.reduce((a, b) => (b.loss < a.loss ? b : a)).layers;
      variants.pairAuc = scored.reduce((a, b) => (b.auc > a.auc ? b : a)).layers;
    }
    const scores: Record<string, VariantScore> = {};
    for (const [name, layers] of Object.entries(variants)) {
      const model = body(layers);
      const test = predictReference(model, split.test.map((r) => X[r]!));
      const s = scoreClassifier(testLabels, test);
      const validation = predictReference(model, validationRows.map((r) => X[r]!));
      scores[name] = {
        balancedAccuracy: s.balancedAccuracy,
        auc: s.auc,
        brier: brierScore(testLabels, test.map((p) => priorShifted(p, prior))),
        validationLoss: balancedLogLoss(validationLabels, validation),
        bound: outputBound(model),
        hidden: layers.hidden.weights.length,
        ...outputUnitsPerSign(layers),
        monotone: verifyMonotone(model).checks.every((c) => c.holds),
      };
    }
    const seconds = (performance.now() - started) / 1000;
    splits.push({ seed, seconds, variants: scores });
    process.stderr.write(`${id} seed ${seed} ${seconds.toFixed(0)} s: ${Object.entries(scores).map(([n, v]) => `${n} ${(100 * v.balancedAccuracy).toFixed(1)}/${v.auc.toFixed(3)}`).join(' ')}\n`);
  } finally {
    prepared.dispose();
  }
  await writeFile(out, JSON.stringify({ id, seeds: splits.map((s) => s.seed), splits }, null, 2) + '\n');
}

const names = Object.keys(splits[0]!.variants);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`${id}: ${splits.length} splits; variant: balanced accuracy mean (worst) / AUC / Brier / bound bits / hidden / per sign / monotone`);
for (const name of names) {
  const v = splits.map((s) => s.variants[name]!);
  const bal = v.map((s) => s.balancedAccuracy);
  console.log(`${name.padEnd(8)} ${(100 * mean(bal)).toFixed(2)} (${(100 * Math.min(...bal)).toFixed(1)}) / ${mean(v.map((s) => s.auc)).toFixed(4)} / ${mean(v.map((s) => s.brier)).toFixed(4)} / ${Math.log2(Math.max(...v.map((s) => s.bound))).toFixed(1)} / ${Math.max(...v.map((s) => s.hidden))} / ${Math.max(...v.map((s) => Math.max(s.positive, s.negative)))} / ${v.every((s) => s.monotone)}`);
}
