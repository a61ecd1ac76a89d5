/**
 * `npx tsx bench/training-grid.ts <id> [--seeds 1,2,…]`: how much of a TernaryNet's AUC gap the
 * input grid explains. Logistic regression (L2 1e-4, 60 epochs, all training rows) is trained on
 * the float standardized inputs and on the quantized grid q / scale at a few bit widths and clip
 * ranges, and scored by held-out ROC AUC on the same stratified splits as bench/training.ts.
 * A model that fits a grid as well as the float inputs says the gap is the ternary network's.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { modelsDir, sharedDataDir } from '../src/cli/paths.ts';
import { parseCsv } from '../src/core/data/csv.ts';
import { selectFeatures } from '../src/core/data/select.ts';
import { parseDatasetSpec } from '../src/core/data/spec.ts';
import { rocAuc } from '../src/core/metrics.ts';
import { disposeTrainable, logisticRegression } from '../src/train/baselines.ts';
import { disposeTensors, fitBinary, toTensors } from '../src/train/loop.ts';
import { type QuantizationOptions, fitInputQuantization, quantizeRows, standardizeRows } from '../src/train/preprocess.ts';
import { stratifiedSplit } from '../src/train/split.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { seeds: { type: 'string' } } });
const id = positionals[0] ?? 'pima-diabetes';
const seeds = values.seeds?.split(',').map(Number) ?? Array.from({ length: 10 }, (_, i) => i + 1);

await tf.setBackend('cpu');
const spec = parseDatasetSpec(JSON.parse(await readFile(resolve(modelsDir, 'specs', `${id}.json`), 'utf8')));
const table = parseCsv(await readFile(resolve(sharedDataDir(), spec.data), 'utf8'), spec.data);
const { X, y } = selectFeatures(table, { features: spec.features, label: spec.label, missingAsZero: spec.missingAsZero });

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

const aucs: Record<string, number[]> = {};
for (const seed of seeds) {
  const split = stratifiedSplit(y, { seed });
  const testLabels = split.test.map((r) => y[r]!);
  for (const [name, encoding] of Object.entries(encodings)) {
    const encode = encoding(split.train);
    const data = toTensors(split.train.map(encode), split.train.map((r) => y[r]!));
    const model = logisticRegression(X[0]!.length, seed, 1e-4);
    try {
      await fitBinary(model, data, { phase: 'logistic', epochs: 60, batchSize: 32, learningRate: 0.01, seed });
      const logits = tf.tidy(() => model.logits(tf.tensor2d(split.test.map(encode))));
      (aucs[name] ??= []).push(rocAuc(testLabels, Array.from(await logits.data())));
      logits.dispose();
    } finally {
      disposeTrainable(model);
      disposeTensors(data);
    }
  }
}
console.log(`${id}: logistic regression's held-out ROC AUC on ${seeds.length} splits (seeds ${seeds.join(',')}), mean and per split`);
for (const [name, values] of Object.entries(aucs)) {
  console.log(`${name.padEnd(18)} ${(values.reduce((a, b) => a + b, 0) / values.length).toFixed(4)}  ${values.map((v) => v.toFixed(3)).join(' ')}`);
}
