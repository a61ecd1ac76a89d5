/**
 * `npx tsx bench/training-threshold.ts <id> [--seeds 1,2] [--out file.json]`: how much of a split's
 * balanced accuracy is where the decision threshold falls. Per split (seeds 1–10 by default),
 * the procedure of the spec trains its three models (src/train, as bench/training.ts), and this
 * prints each model's held-out balanced accuracy
 *
 * - at its own threshold (the class-balanced probability 0.5: the risk at the training prior),
 *   the figure the issue's targets read;
 * - at the best threshold for the held-out rows themselves: hindsight, a ceiling that no
 *   procedure may use, which says whether the model's ranking of those rows allows a score;
 *
 * and the TernaryNet's at thresholds chosen without held-out rows: the best for its training
 * rows, the best for its validation rows, and midway between the first and its own.
 * Writes bench/training-threshold-<id>.json (or --out).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { modelsDir, sharedDataDir } from '../src/cli/paths.ts';
import { parseDatasetSpec } from '../src/core/data/spec.ts';
import { balancedAccuracy } from '../src/core/metrics.ts';
import { datasetFromSpec, trainFromSpec } from '../src/train/defaults.ts';
import { predictReference } from '../src/train/predict.ts';
import { innerSplitRows } from '../src/train/prepare.ts';
import { MODEL_KINDS, type ModelKind } from '../src/train/repeated.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { seeds: { type: 'string' }, out: { type: 'string' } } });
const id = positionals[0] ?? 'liver-patient';
const seeds = values.seeds?.split(',').map(Number) ?? Array.from({ length: 10 }, (_, i) => i + 1);
const out = values.out ?? new URL(`./training-threshold-${id}.json`, import.meta.url).pathname;

/** The threshold with the best balanced accuracy on these rows (midpoints between scores; ties go to the one nearest 0.5). */
function bestThreshold(labels: readonly number[], probabilities: readonly number[]): number {
  const scores = [...new Set(probabilities)].sort((a, b) => a - b);
  const candidates = [scores[0]!, ...scores.slice(1).map((s, i) => (scores[i]! + s) / 2), scores.at(-1)! + 1e-9];
  let best = 0.5;
  let bestScore = -1;
  for (const t of candidates) {
    const s = balancedAccuracy(labels, probabilities, t);
    if (s > bestScore || (s === bestScore && Math.abs(t - 0.5) < Math.abs(best - 0.5))) [best, bestScore] = [t, s];
  }
  return best;
}

await tf.setBackend('cpu');
const spec = parseDatasetSpec(JSON.parse(await readFile(resolve(modelsDir, 'specs', `${id}.json`), 'utf8')));
const csv = await readFile(resolve(sharedDataDir(), spec.data), 'utf8');
const { X, y } = datasetFromSpec(spec, csv);

/** The TernaryNet's thresholds chosen without held-out rows, as the table names them. */
const RULES = { training: 'the best for its training rows', validation: 'the best for its validation rows', midway: 'midway between the first and 0.5' } as const;
type Row = { seed: number; own: Record<ModelKind, number>; hindsight: Record<ModelKind, number>; ternary: Record<keyof typeof RULES, number> };
const rows: Row[] = [];
for (const seed of seeds) {
  const result = await trainFromSpec(spec, csv, { seed });
  const { labels, probabilities } = result.heldOut;
  // The validation rows the procedure chose its runs on.
  const validationRows = innerSplitRows(y, result.split.train, seed).test;
  const thresholdOn = (rowIds: readonly number[]) => bestThreshold(rowIds.map((r) => y[r]!), predictReference(result.model, rowIds.map((r) => X[r]!)));
  const onTraining = thresholdOn(result.split.train);
  const ternaryAt = (t: number) => balancedAccuracy(labels, probabilities.ternary, t);
  const row: Row = {
    seed,
    own: Object.fromEntries(MODEL_KINDS.map((k) => [k, balancedAccuracy(labels, probabilities[k])])) as Row['own'],
    hindsight: Object.fromEntries(MODEL_KINDS.map((k) => [k, balancedAccuracy(labels, probabilities[k], bestThreshold(labels, probabilities[k]))])) as Row['hindsight'],
    ternary: { training: ternaryAt(onTraining), validation: ternaryAt(thresholdOn(validationRows)), midway: ternaryAt((onTraining + 0.5) / 2) },
  };
  rows.push(row);
  const pct = (v: number) => (100 * v).toFixed(1);
  process.stderr.write(`${id} seed ${seed}: ${MODEL_KINDS.map((k) => `${k} ${pct(row.own[k])} (hindsight ${pct(row.hindsight[k])})`).join(', ')}; TernaryNet at training ${pct(row.ternary.training)}, validation ${pct(row.ternary.validation)}, midway ${pct(row.ternary.midway)}\n`);
  await writeFile(out, JSON.stringify({ id, seeds: rows.map((r) => r.seed), splits: rows }, null, 2) + '\n');
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const cell = (xs: number[]) => `${(100 * mean(xs)).toFixed(1)} (${(100 * Math.min(...xs)).toFixed(1)})`;
console.log(`${id}, ${rows.length} splits: balanced accuracy % mean (worst split)`);
for (const k of MODEL_KINDS) console.log(`${k.padEnd(9)} own threshold ${cell(rows.map((r) => r.own[k]))}; hindsight ${cell(rows.map((r) => r.hindsight[k]))}`);
for (const rule of Object.keys(RULES) as (keyof typeof RULES)[]) console.log(`TernaryNet at ${RULES[rule]}: ${cell(rows.map((r) => r.ternary[rule]))}`);
