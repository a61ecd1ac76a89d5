/**
 * `npx tsx bench/training.ts [ids…] [--repeats N | --seeds 3,4] [--input-bits B] [--hidden N] [--epochs N] [--restarts N] [--ensemble N] [--inner-splits K [--spread blocks]] [--linear] [--linear-l2 S] [--ramp] [--distill W] [--input-weights G,F|none] [--runs N] [--spec variant.json] [--out file.json]` or `--join a.json,b.json [--out file.json]`: the repeated-split table
 * of the training procedure for the default data sets (models/specs, shared data): ten
 * stratified 80/20 splits (seeds 1..10) by default, logistic regression, float MLP and
 * TernaryNet side by side, with the targets checked against the better float baseline.
 * The plain run (each spec's own settings, seeds 1–10) writes its data sets into the record,
 * bench/training-results.json, keeping the others there; an experiment (an override, --spec,
 * --seeds or --repeats) is refused without --out, so that it never replaces the record. Halves run
 * in two processes (--seeds 1,3,… --out a.json, --seeds 2,4,… --out b.json) are joined with
 * --join, into the record only where they are its splits and settings. Timings are printed, never asserted.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { modelsDir, sharedDataDir } from '../src/cli/paths.ts';
import { type DatasetSpec, parseDatasetSpec } from '../src/core/data/spec.ts';
import { DEFAULT_MODEL_IDS, evaluateSpec } from '../src/train/defaults.ts';
import { TERNARY_CANDIDATES, type TrainOptions } from '../src/train/index.ts';
import { type RepeatedEvaluation, betterFloatName, repeatedTable, summarizeSplits, targets, targetsSentence } from '../src/train/repeated.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { join: { type: 'string' }, repeats: { type: 'string' }, seeds: { type: 'string' }, 'input-bits': { type: 'string' }, hidden: { type: 'string' }, epochs: { type: 'string' }, restarts: { type: 'string' }, ensemble: { type: 'string' }, 'inner-splits': { type: 'string' }, spread: { type: 'string' }, linear: { type: 'boolean' }, ramp: { type: 'boolean' }, distill: { type: 'string' }, 'input-weights': { type: 'string' }, 'linear-l2': { type: 'string' }, runs: { type: 'string' }, spec: { type: 'string' }, out: { type: 'string' } } });
/** `--seeds` runs some of the splits only (e.g. in several processes); the summaries are then of those splits. */
const seeds = values.seeds?.split(',').map(Number);
const repeats = seeds?.length ?? Number(values.repeats ?? process.env.BENCH_TRAIN_REPEATS ?? 10);
const ids = positionals.length ? positionals : [...DEFAULT_MODEL_IDS];
/** Settings come from each spec's training block, else the procedure's defaults; `--input-bits`, `--hidden` and `--epochs` override them for every data set. */
const options: Partial<TrainOptions> = {
  ...(values['input-bits'] ? { inputBits: Number(values['input-bits']) } : {}),
  ...(values.hidden ? { hidden: Number(values.hidden) } : {}),
  ...(values.epochs ? { epochs: Number(values.epochs) } : {}),
  // Every configuration of TERNARY_CANDIDATES from N initializations instead of 2.
  // The sum of the N best runs by validation loss (qat.ts) instead of the spec's setting.
  ...(values.ensemble ? { ensemble: Number(values.ensemble) } : {}),
  // The runs spread over K inner splits, the model the sum of each split's best (qat.ts), whatever the spec says.
  ...(values['inner-splits'] ? { innerSplits: Number(values['inner-splits']) } : {}),
  // A full-precision linear skip term beside the ternary units (ternary.ts), whatever the spec says.
  ...(values.linear ? { linear: true } : {}),
  // Where the skip term starts: a logistic regression fitted to the fitting rows instead of zeros.
  // An L2 penalty of this strength on the skip weights during quantization-aware training.
  ...(values['linear-l2'] ? { linearL2: Number(values['linear-l2']) } : {}),
  // The TernaryNet trained on soft targets from a logistic-regression teacher of this weight (teacher.ts), whatever the spec says.
  ...(values.distill ? { distill: Number(values.distill) } : {}),
  // Per-feature input weights from the logistic teacher, `gamma,floor` (input-weights.ts), whatever the spec says; `none` turns a spec's off.
  ...(values['input-weights'] ? { inputWeights: values['input-weights'] === 'none' ? undefined : (([gamma, floor]) => ({ gamma: gamma!, floor: floor! }))(values['input-weights'].split(',').map(Number)) } : {}),
  // The first N of TERNARY_CANDIDATES (4: each configuration once), whatever the spec says.
  ...(values.runs ? { runs: Number(values.runs) } : {}),
  ...(values.restarts ? { ternaryCandidates: Array.from({ length: Number(values.restarts) / 2 }, (_, k) => TERNARY_CANDIDATES.map((c) => ({ ...c, restart: c.restart + 2 * k }))).flat() } : {}),
};
// `--ramp`: every candidate meets its ternary weights gradually (gradual ternarization, ternary.ts).
if (values.ramp) options.ternaryCandidates = (options.ternaryCandidates ?? TERNARY_CANDIDATES).map((c) => ({ ...c, ramp: true }));
// `--spread blocks`: candidates reordered so that the runs of inner split k are the k-th block of
// TERNARY_CANDIDATES (with 2 splits each sees all four configurations, one restart of each)
// instead of every K-th candidate (with 2 splits, one hidden threshold each).
if (values.spread === 'blocks') {
  const K = options.innerSplits ?? 1;
  const candidates = options.ternaryCandidates ?? TERNARY_CANDIDATES;
  if (candidates.length % K) throw new Error(`--spread blocks needs the ${candidates.length} candidates to divide into ${K} inner splits`);
  const per = candidates.length / K;
  options.ternaryCandidates = candidates.map((_, p) => candidates[(p % K) * per + Math.floor(p / K)]!);
}
const record = new URL('./training-results.json', import.meta.url).pathname;
/** The record holds the procedure's own run: each spec's settings on seeds 1–10. Anything else is an experiment. */
const experiment = Object.keys(options).length > 0 || values.ramp || values.spread || values.spec || seeds || repeats !== 10;
if (values.join && (Object.keys(options).length > 0 || values.ramp || values.spread || seeds || values.repeats)) {
  console.error('bench/training.ts --join: joins finished runs; it takes no training option (their settings are in the files)');
  process.exit(2);
}
if (experiment && !values.out && !values.join) {
  console.error(`bench/training.ts: an experiment (an override, --spec, --seeds or --repeats) is written only where --out says; ${record} keeps the procedure's own ten splits (join halves run with --seeds into it with --join a.json,b.json)`);
  process.exit(2);
}
const out = values.out ?? record;

/** What a result says about how it was trained, from the spec and the overrides. */
function settingsOf(spec: DatasetSpec): Record<string, unknown> {
  const t = spec.training;
  return {
    inputBits: options.inputBits ?? t?.inputBits ?? 4,
    ensemble: options.ensemble ?? t?.ensemble ?? 1,
    innerSplits: options.innerSplits ?? t?.innerSplits ?? 1,
    ...(values.spread ? { spread: values.spread } : {}),
    linear: options.linear ?? t?.linear ?? false,
    ramp: values.ramp ?? false,
    distill: options.distill ?? t?.distill ?? 0,
    runs: options.runs ?? t?.runs ?? TERNARY_CANDIDATES.length,
    ...(options.linearL2 ? { linearL2: options.linearL2 } : {}),
    ...((options.inputWeights ?? t?.inputWeights) ? { inputWeights: options.inputWeights ?? t?.inputWeights } : {}),
  };
}

const specOf = async (id: string) => parseDatasetSpec(JSON.parse(await readFile(values.spec ?? resolve(modelsDir, 'specs', `${id}.json`), 'utf8')));

/** Writes results into `file`, keeping the other data sets a record already holds. */
async function save(file: string, results: Record<string, unknown>): Promise<void> {
  const before = file === record ? JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) : {};
  await writeFile(file, JSON.stringify({ machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version }, repeats, results: { ...before.results, ...results } }, null, 2) + '\n');
  console.error(`wrote ${Object.keys(results).join(', ')} to ${file}`);
}

/** `--join a.json,b.json`: the splits of runs made in several processes, as one result per data set. */
async function join(files: string[]): Promise<Record<string, unknown>> {
  const parts = await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8')).results as Record<string, RepeatedEvaluation & Record<string, unknown>>));
  const joined: Record<string, unknown> = {};
  const defaults = settingsOf({ training: undefined } as DatasetSpec);
  for (const id of new Set(parts.flatMap((p) => Object.keys(p)))) {
    const runs = parts.map((p) => p[id]).filter((r) => r !== undefined);
    // A result written before a setting existed was trained at its default.
    const settingsIn = ({ splits: _a, seeds: _b, summary: _c, targets: _e, secondsPerSplit: _f, ...own }: Record<string, unknown>) => JSON.stringify({ ...defaults, ...own });
    const settings = JSON.parse(settingsIn(runs[0]!)) as Record<string, unknown>;
    for (const r of runs) {
      if (settingsIn(r) !== JSON.stringify(settings)) throw new Error(`${id}: the files were trained with different settings (${JSON.stringify(settings)} against ${settingsIn(r)})`);
    }
    const splits = [...new Map(runs.flatMap((r) => r.splits).map((s) => [s.seed, s])).values()].sort((a, b) => a.seed - b.seed);
    const seedsJoined = splits.map((s) => s.seed);
    if (out === record) {
      const expected = settingsOf(await specOf(id));
      if (JSON.stringify(settings) !== JSON.stringify(expected) || seedsJoined.join() !== Array.from({ length: 10 }, (_, i) => i + 1).join()) {
        throw new Error(`${id}: only the spec's own settings on seeds 1–10 go into the record; these are ${JSON.stringify(settings)} on seeds ${seedsJoined.join(',')} (pass --out)`);
      }
    }
    const evaluation = { seeds: seedsJoined, summary: summarizeSplits(splits), splits };
    joined[id] = { ...settings, ...evaluation, secondsPerSplit: splits.reduce((a, s) => a + s.seconds, 0) / splits.length, targets: targets(evaluation) };
    console.log(`\n${id}: ${splits.length} splits joined (seeds ${seedsJoined.join(', ')})\n`);
    console.log(repeatedTable(evaluation).join('\n'));
    console.log(`TernaryNet against ${betterFloatName(evaluation.summary)}: ${targetsSentence(evaluation)}`);
  }
  return joined;
}

if (values.join) {
  try {
    await save(out, await join(values.join.split(',')));
  } catch (error) {
    console.error(`bench/training.ts --join: ${(error as Error).message}`);
    process.exit(1);
  }
  process.exit(0);
}

await tf.setBackend('cpu');

const results: Record<string, unknown> = {};
for (const id of ids) {
  // `--spec file.json`: a variant of the data set's spec (e.g. other declared directions) instead of models/specs/<id>.json.
  const spec = await specOf(id);
  const csv = await readFile(resolve(sharedDataDir(), spec.data), 'utf8');
  const evaluation = await evaluateSpec(spec, csv, options, { repeats, seeds, onSplit: (done, total, s) => process.stderr.write(`${id}: split ${done}/${total} (seed ${s.seed}) ${s.seconds.toFixed(1)} s, ternary bal ${(100 * s.scores.ternary.balancedAccuracy).toFixed(1)}\n`) });
  const seconds = evaluation.splits.reduce((a, s) => a + s.seconds, 0);
  const met = targets(evaluation);
  console.log(`\n${id}: ${repeats} stratified 80/20 splits (seeds ${evaluation.seeds[0]}–${evaluation.seeds.at(-1)}), mean ± sd (worst split); ${(seconds / repeats).toFixed(1)} s per split\n`);
  console.log(repeatedTable(evaluation).join('\n'));
  console.log(`TernaryNet against ${betterFloatName(evaluation.summary)}: ${targetsSentence(evaluation)}`);
  results[id] = { ...settingsOf(spec), ...evaluation, secondsPerSplit: seconds / repeats, targets: met };
}
await save(out, results);
