/**
 * `npx tsx bench/training-gap.ts <id> [--seeds 1,2,…]`: where a TernaryNet's gap to the float
 * models lies, one step at a time, on the same stratified splits as bench/training.ts. Held-out
 * ROC AUC and balanced accuracy (threshold 0.5 on class-balanced training) of:
 *
 * 1. logistic regression (L2 1e-4, 60 epochs, all training rows) on the float standardized
 *    inputs and on the quantized grid q / scale at a few bit widths and clip ranges: what the
 *    input grid costs;
 * 2. the float baselines as the protocol trains them (parts.ts): the model validated on the
 *    fitting rows, and its retrain on all training rows for the chosen epochs: what the retrain's
 *    extra fifth of rows is worth (the TernaryNet keeps its validated run instead);
 * 3. the TernaryNet's own network on the fitting rows with validation early stopping, once in
 *    float (square activation, the warm-up network) and once ternary (hidden threshold 0.7,
 *    restarts 0 and 1): what the square activation and then the ternary weights cost.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { modelsDir, sharedDataDir } from '../src/cli/paths.ts';
import { parseCsv } from '../src/core/data/csv.ts';
import { selectFeatures } from '../src/core/data/select.ts';
import { parseDatasetSpec } from '../src/core/data/spec.ts';
import { scoreClassifier } from '../src/core/metrics.ts';
import { OUTPUT_PER_SIGN } from '../src/core/model/budget.ts';
import { disposeTrainable, floatMlp, logisticRegression } from '../src/train/baselines.ts';
import { type Trainable, disposeTensors, fitBinary, fitSelected, predictProbabilities, toTensors } from '../src/train/loop.ts';
import { logisticCandidates } from '../src/train/parts.ts';
import { prepareData } from '../src/train/prepare.ts';
import { type QuantizationOptions, fitInputQuantization, quantizeRows, standardizeRows } from '../src/train/preprocess.ts';
import { subSeed } from '../src/train/random.ts';
import { stratifiedSplit } from '../src/train/split.ts';
import { ternaryNet } from '../src/train/ternary.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { seeds: { type: 'string' } } });
const id = positionals[0] ?? 'pima-diabetes';
const seeds = values.seeds?.split(',').map(Number) ?? Array.from({ length: 10 }, (_, i) => i + 1);

await tf.setBackend('cpu');
const spec = parseDatasetSpec(JSON.parse(await readFile(resolve(modelsDir, 'specs', `${id}.json`), 'utf8')));
const table = parseCsv(await readFile(resolve(sharedDataDir(), spec.data), 'utf8'), spec.data);
const { X, y } = selectFeatures(table, { features: spec.features, label: spec.label, missingAsZero: spec.missingAsZero });
const inputs = X[0]!.length;
const bits = spec.training?.inputBits ?? 4;

const scores: Record<string, { auc: number[]; balanced: number[] }> = {};
function record(name: string, labels: readonly number[], probabilities: readonly number[]): void {
  const s = scoreClassifier(labels, probabilities);
  const entry = (scores[name] ??= { auc: [], balanced: [] });
  entry.auc.push(s.auc);
  entry.balanced.push(s.balancedAccuracy);
}
/** Probabilities of a model on rows, the model disposed afterwards. */
async function heldOut(model: Trainable, x: tf.Tensor2D): Promise<number[]> {
  try {
    return await predictProbabilities(model, x);
  } finally {
    disposeTrainable(model);
  }
}

/** Each encoding, fitted on the training rows: a row index → the inputs the model sees. */
type Encoding = (train: readonly number[]) => (row: number) => number[];
const grid = (options: QuantizationOptions): Encoding => (train) => {
  const input = fitInputQuantization(X, train, options);
  const q = quantizeRows(X, input);
  return (row) => Array.from(q[row]!, (v) => v / input.scale);
};
const encodings: Record<string, Encoding> = {
  'float inputs': (train) => {
    const standardized = standardizeRows(X, fitInputQuantization(X, train));
    return (row) => standardized[row]!;
  },
  '4 bits, ±3 std': grid({ bits: 4 }),
  '4 bits, ±2.5 std': grid({ bits: 4, clipStd: 2.5 }),
  '4 bits, ±2 std': grid({ bits: 4, clipStd: 2 }),
  '5 bits, ±3 std': grid({ bits: 5 }),
};

for (const seed of seeds) {
  const split = stratifiedSplit(y, { seed });
  const testLabels = split.test.map((r) => y[r]!);
  // 1. The input grid.
  for (const [name, encoding] of Object.entries(encodings)) {
    const encode = encoding(split.train);
    const data = toTensors(split.train.map(encode), split.train.map((r) => y[r]!));
    const model = logisticRegression(inputs, seed, 1e-4);
    const x = tf.tensor2d(split.test.map(encode));
    await fitBinary(model, data, { phase: 'logistic', epochs: 60, batchSize: 32, learningRate: 0.01, seed });
    record(`1. logistic regression, ${name}`, testLabels, await heldOut(model, x));
    tf.dispose(x);
    disposeTensors(data);
  }
  const prepared = prepareData(X, y, { seed, bits });
  try {
    const loop = { epochs: 60, batchSize: Math.max(32, Math.round(prepared.fitRows.length / 32)), learningRate: 0.01, seed: subSeed(seed, 1) };
    // 2. The float baselines' retrain (the protocol's candidates and seeds, parts.ts).
    const baselines = { 'logistic regression': logisticCandidates(inputs, seed), 'float MLP': [1e-4, 1e-3, 1e-2].map((l2, i) => () => floatMlp(inputs, 8, subSeed(seed, 20 + i), l2)) };
    for (const [name, candidates] of Object.entries(baselines)) {
      const selected = await fitSelected(candidates, prepared.fit.float, { ...loop, phase: 'float', validation: prepared.validation.float });
      record(`2. ${name}, validated on the fitting rows`, testLabels, await heldOut(selected.model, prepared.testFloat));
      const retrained = candidates[selected.candidate]!();
      await fitBinary(retrained, prepared.all.float, { ...loop, phase: 'float', epochs: selected.outcome.epoch, decayEpochs: loop.epochs });
      record(`2. ${name}, retrained on all training rows`, testLabels, await heldOut(retrained, prepared.testFloat));
    }
    // 3. The TernaryNet's network in float and ternary, no monotone penalty, no folding.
    const testGrid = tf.tensor2d(split.test.map((r) => Array.from(prepared.quantized[r]!, (q) => q / prepared.input.scale)));
    for (const quantized of [false, true]) {
      for (const restart of [0, 1]) {
        const net = ternaryNet(inputs, 8, subSeed(seed, 4 + 100 * restart), { hiddenThreshold: 0.7, outputThreshold: 0, outputPerSign: OUTPUT_PER_SIGN });
        net.quantized = quantized;
        await fitBinary(net, prepared.fit.grid, { ...loop, phase: 'ternary', validation: prepared.validation.grid });
        record(`3. square-activation network, ${quantized ? 'ternary' : 'float'} weights, restart ${restart}`, testLabels, await heldOut(net, testGrid));
      }
    }
    tf.dispose(testGrid);
  } finally {
    prepared.dispose();
  }
  process.stderr.write(`${id} seed ${seed} done\n`);
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
console.log(`${id}: held-out ROC AUC and balanced accuracy %, mean (worst) over ${seeds.length} splits (seeds ${seeds.join(',')})`);
for (const [name, s] of Object.entries(scores)) {
  console.log(`${name.padEnd(72)} ${mean(s.auc).toFixed(4)} (${Math.min(...s.auc).toFixed(3)})  ${(100 * mean(s.balanced)).toFixed(1)} (${(100 * Math.min(...s.balanced)).toFixed(1)})`);
}
