/**
 * `cipherclinic train <data.csv> --out <model.json> [--label label] [--hidden N] [--epochs N] [--batch-size N] [--seed S] [--repeats N] [--spec spec.json] [--json]`
 * With --repeats N, the same procedure is first evaluated on N stratified 80/20 splits (seeds
 * 1..N) and the mean ± sd (worst split) of each metric printed; the model written is the one
 * trained on the --seed split, as without it. --label, given, overrides the spec's label.
 */
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DataError, idFromFileName, inferFeatureSpecs, labelFromName, parseDatasetSpec, selectFeatures, type DatasetSpec } from '../core/data/index.ts';
import { specTrainingOptions } from '../train/defaults.ts';
import { type TrainOptions, trainModel } from '../train/index.ts';
import { type RepeatedEvaluation, betterFloat, betterFloatName, repeatedEvaluation, repeatedTable, targets, targetsSentence } from '../train/repeated.ts';
import { verifyMonotone } from '../core/model/monotone.ts';
import { CliError, checkWritable, readCsvFile, readJsonFile, table, writeJsonFile } from './io.ts';
import { monotoneSummary, provedLines } from './monotone.ts';

export interface TrainCliOptions {
  out: string;
  /** The label column as --label gave it: overrides the spec's (an option given beats a file's default). */
  label?: string;
  hidden?: number;
  epochs?: number;
  batchSize?: number;
  seed?: number;
  repeats?: number;
  spec?: string;
  json: boolean;
}

/** The spec file, or one line naming the file and the first field that is wrong. */
async function readSpec(path: string): Promise<DatasetSpec> {
  const json = await readJsonFile(path, 'dataset spec');
  try {
    return parseDatasetSpec(json);
  } catch (e) {
    throw new CliError(`${path}: ${(e as Error).message}`);
  }
}

/**
 * The label column must be in the file and must not be a feature. The message says where the
 * label came from (--label, the spec, the default), so that the user knows what to change.
 */
function checkLabel(columns: readonly string[], features: readonly string[], label: string, source: string, options: Pick<TrainCliOptions, 'label' | 'spec'>): void {
  const named = options.label !== undefined ? 'the label given with --label' : options.spec ? `the label named by ${options.spec}; choose another with --label` : 'the default label; choose the label column with --label';
  if (!columns.includes(label)) throw new CliError(`${source} column ${JSON.stringify(label)} (${named}): is missing from the header`);
  if (features.includes(label)) throw new CliError(`${source} column ${JSON.stringify(label)} (${named}): is a feature of the spec, it cannot be the label too`);
}

/**
 * Chooses TensorFlow.js's CPU backend without its banner. On its first tensor the backend tells
 * Node users to install tfjs-node (a native build this project does not depend on) whenever the
 * IS_NODE flag is set. The flag is off for that one first write only, so every other warning,
 * and every other reader of the flag, is as before.
 */
async function cpuBackendQuietly(): Promise<void> {
  await tf.setBackend('cpu');
  const env = tf.env();
  const isNode = env.getBool('IS_NODE');
  env.set('IS_NODE', false);
  try {
    tf.tensor([0]).dispose();
  } finally {
    env.set('IS_NODE', isNode);
  }
}

/** Refuses a label with one class: the model would learn nothing and its ROC AUC be NaN. */
function checkBothClasses(y: readonly number[], label: string, source: string): void {
  const ones = y.filter((v) => v === 1).length;
  if (ones === 0 || ones === y.length) throw new CliError(`${source} label column ${JSON.stringify(label)}: every row is ${ones === 0 ? 0 : 1}; training needs rows of both classes`);
}

/** Whether two paths name one file: the same path, or (through a link) the same file on disk. */
async function sameFile(a: string, b: string): Promise<boolean> {
  if (resolve(a) === resolve(b)) return true;
  const [sa, sb] = await Promise.all([stat(a).catch(() => undefined), stat(b).catch(() => undefined)]);
  return sa !== undefined && sb !== undefined && sa.dev === sb.dev && sa.ino === sb.ino;
}

export async function trainCommand(dataPath: string, options: TrainCliOptions): Promise<void> {
  for (const input of [dataPath, options.spec]) {
    if (input !== undefined && (await sameFile(input, options.out))) throw new CliError(`--out ${options.out} is the ${input === dataPath ? 'data file' : 'spec'} being read; the model needs a file of its own`);
  }
  await checkWritable(options.out);
  await cpuBackendQuietly();
  const spec = options.spec ? await readSpec(options.spec) : undefined;
  const label = options.label ?? spec?.label ?? 'label';
  const specNames = spec?.features.map((f) => f.name);
  // A spec names the columns to read; without one every column is a feature (or the label).
  const csv = await readCsvFile(dataPath, specNames && [...specNames, label]).catch((e: unknown) => {
    if (spec || !(e instanceof DataError) || !e.detail.endsWith('is not a number') || e.column === label) throw e;
    throw new DataError(e.source, e.row, e.column, `${e.detail}; without --spec every column but the label is a feature (a spec, --spec, names the columns to train on)`);
  });
  const names = specNames ?? csv.columns.filter((c) => c !== label);
  checkLabel(csv.columns, names, label, basename(dataPath), options);
  const featureSpecs = spec?.features ?? inferFeatureSpecs(csv, names);
  const data = selectFeatures(csv, { features: names, label, missingAsZero: spec?.missingAsZero });
  checkBothClasses(data.y, label, basename(dataPath));
  const id = spec?.id ?? idFromFileName(basename(dataPath));
  const progress = process.stderr.isTTY && !options.json;
  const trainOptions: TrainOptions = {
      id,
      title: spec?.title ?? labelFromName(id),
      description: spec?.description ?? `Trained from ${basename(dataPath)}.`,
      classes: spec?.classes ?? ['negative', 'positive'],
      info: { dataset: basename(dataPath), label, missingAsZero: spec?.missingAsZero ?? [] },
      ...(spec ? specTrainingOptions(spec) : {}),
      hidden: options.hidden,
      epochs: options.epochs,
      batchSize: options.batchSize,
      seed: options.seed,
  };
  let repeated: RepeatedEvaluation | undefined;
  if (options.repeats) {
    repeated = await repeatedEvaluation({ X: data.X, y: data.y, featureSpecs }, trainOptions, {
      repeats: options.repeats,
      onSplit: progress ? (done, total) => process.stderr.write(`\rsplit ${done}/${total}   `) : undefined,
    });
    if (progress) process.stderr.write('\n');
  }
  const result = await trainModel(
    { X: data.X, y: data.y, featureSpecs },
    { ...trainOptions, onProgress: progress ? (e) => process.stderr.write(`\r${e.phase.padEnd(8)} epoch ${e.epoch}/${e.epochs} loss ${e.loss.toFixed(4)}   `) : undefined },
  );
  if (progress) process.stderr.write('\n');
  await writeJsonFile(options.out, result.model);
  const { float, ternary, logistic } = result.metrics;
  // Training already refused a model that breaks one (assertMonotone); this says what was proved.
  const proof = verifyMonotone(result.model);
  if (options.json) {
    console.log(JSON.stringify({ model: options.out, hash: result.model.hash, heldOut: { rows: result.split.test.length, seed: result.split.seed }, logistic, float, ternary, monotone: monotoneSummary(proof), ...(repeated ? { repeated: { seeds: repeated.seeds, summary: repeated.summary, splits: repeated.splits.map(({ seed, scores }) => ({ seed, scores })), better: betterFloat(repeated.summary), targets: targets(repeated) } } : {}) }));
    return;
  }
  if (repeated) {
    console.log(`${repeated.seeds.length} stratified 80/20 splits (seeds ${repeated.seeds[0]}–${repeated.seeds.at(-1)}): mean ± sd (worst split); Brier score on the risk shown (prior-corrected)`);
    console.log(repeatedTable(repeated).join('\n'));
    console.log(`TernaryNet against the better float baseline (${betterFloatName(repeated.summary)}): ${targetsSentence(repeated)}`);
    console.log('');
  }
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  console.log(`Wrote ${options.out} (${result.model.id}, hash ${result.model.hash.slice(0, 16)}…); held-out split of ${result.split.test.length} rows:`);
  console.log(
    table([
      ['', 'accuracy', 'balanced acc.', 'ROC AUC'],
      ...([['logistic regression', logistic], ['float MLP', float], ['ternary (integer, as encrypted)', ternary]] as const).map(([n, m]) => [n, pct(m.accuracy), pct(m.balancedAccuracy), m.auc.toFixed(4)]),
    ]),
  );
  for (const line of provedLines(proof)) console.log(line);
}
