/**
 * Rows → the tensors every model trains on. The training split is split again into rows that
 * fit the weights and validation rows that choose epochs and regularization, so that nothing
 * about any model is chosen by looking at the held-out rows.
 */
import * as tf from '@tensorflow/tfjs';
import type { InputQuantization } from '../core/model/format.ts';
import type { PlainRecord, QuantizedRecord } from '../core/model/reference.ts';
import { type TrainingTensors, disposeTensors, toTensors } from './loop.ts';
import { fitInputQuantization, quantizeRows, standardizeRows, weightedInput } from './preprocess.ts';
import { subSeed } from './random.ts';
import { type Split, stratifiedSplit, stratifiedSubsplit } from './split.ts';

/** Float inputs (standardized), grid inputs (q / scale) and integer inputs (q) of some rows. */
export interface RowTensors {
  float: TrainingTensors;
  grid: TrainingTensors;
  integer: TrainingTensors;
}

/** One inner split of the training rows: rows that fit weights and rows that validate them. */
export interface InnerSplit {
  fitRows: number[];
  validationRows: number[];
  fit: RowTensors;
  validation: RowTensors;
  /** Frees this split's tensors (a no-op for split 0, which the prepared data own). */
  dispose(): void;
}

export interface PreparedData {
  split: Split;
  /** Training rows that fit weights, and validation rows (both subsets of split.train). */
  fitRows: number[];
  validationRows: number[];
  input: InputQuantization;
  quantized: QuantizedRecord[];
  fit: RowTensors;
  validation: RowTensors;
  /** The whole training split (fit and validation rows), for the final retrain. */
  all: RowTensors;
  /** Standardized held-out rows for the float baselines. */
  testFloat: tf.Tensor2D;
  /**
   * Inner split k of the training rows (0: fitRows / validationRows above; k > 0: another
   * stratified 80/20 split with its own seed), its tensors made on demand so that the caller
   * holds one split's at a time and disposes them.
   */
  innerSplit(k: number): InnerSplit;
  dispose(): void;
}

/** Fraction of the training split kept aside for validation. */
const VALIDATION_FRACTION = 0.2;

function disposeRowTensors(t: RowTensors): void {
  Object.values(t).forEach(disposeTensors);
}

/** Inner split k's seed: split 0 keeps the one the procedure always used, so one split is unchanged. */
function innerSeed(seed: number, k: number): number {
  return k === 0 ? subSeed(seed, 5) : subSeed(subSeed(seed, 5), k);
}

/** Inner split k of a split's training rows into fitting and validation rows (stratified, deterministic for the seed). */
export function innerSplitRows(y: readonly number[], trainRows: readonly number[], seed: number, k = 0): Split {
  return stratifiedSubsplit(y, trainRows, { seed: innerSeed(seed, k), testFraction: VALIDATION_FRACTION });
}

/** With `weights`, the quantization's steps are shrunk per feature (input-weights.ts); the same split, standardization and float rows either way. */
export function prepareData(X: readonly PlainRecord[], y: readonly number[], options: { seed: number; bits: number; weights?: readonly number[] }): PreparedData {
  const split = stratifiedSplit(y, { seed: options.seed });
  const innerRows = (k: number) => innerSplitRows(y, split.train, options.seed, k);
  const inner = innerRows(0);
  // Input statistics use every training row (fit and validation alike), never a held-out one.
  const plain = fitInputQuantization(X, split.train, { bits: options.bits });
  // The float baselines see standardized values; only the TernaryNet's grid takes the input weights.
  const standardized = standardizeRows(X, plain);
  const input = options.weights ? weightedInput(plain, options.weights) : plain;
  const quantized = quantizeRows(X, input);
  const tensorsOf = (rows: readonly number[]): RowTensors => {
    const labels = rows.map((r) => y[r]!);
    return {
      float: toTensors(rows.map((r) => standardized[r]!), labels),
      grid: toTensors(rows.map((r) => Array.from(quantized[r]!, (q) => q / input.scale)), labels),
      integer: toTensors(rows.map((r) => quantized[r]!), labels),
    };
  };
  const fit = tensorsOf(inner.train);
  const validation = tensorsOf(inner.test);
  const all = tensorsOf(split.train);
  const testFloat = tf.tensor2d(split.test.map((r) => standardized[r]!), [split.test.length, X[0]!.length]);
  return {
    split,
    fitRows: inner.train,
    validationRows: inner.test,
    input,
    quantized,
    fit,
    validation,
    all,
    testFloat,
    innerSplit: (k) => {
      if (k === 0) return { fitRows: inner.train, validationRows: inner.test, fit, validation, dispose: () => {} };
      const rows = innerRows(k);
      const [kFit, kValidation] = [tensorsOf(rows.train), tensorsOf(rows.test)];
      return { fitRows: rows.train, validationRows: rows.test, fit: kFit, validation: kValidation, dispose: () => [kFit, kValidation].forEach(disposeRowTensors) };
    },
    dispose: () => {
      for (const t of [fit, validation, all]) disposeRowTensors(t);
      testFloat.dispose();
    },
  };
}
