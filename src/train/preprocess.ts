/**
 * Input statistics and encodings, fitted on the training rows only (the held-out rows must
 * not leak into imputation or standardization).
 */
import type { InputQuantization } from '../core/model/format.ts';
import { qMax } from '../core/model/reference.ts';
import { type PlainRecord, type QuantizedRecord, quantizeRecord } from '../core/model/reference.ts';

export interface QuantizationOptions {
  /** Signed bits per quantized input (default 4: q in -7..7). */
  bits?: number;
  /** Standard deviations that map to ±qMax (default 3). */
  clipStd?: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Fits imputation (median: robust to the skewed lab values in the liver data, and the majority
 * value for a 0/1 feature), then mean and std of the imputed training values.
 */
export function fitInputQuantization(X: readonly PlainRecord[], trainRows: readonly number[], options: QuantizationOptions = {}): InputQuantization {
  const { bits = 4, clipStd = 3 } = options;
  const d = X[0]?.length ?? 0;
  const impute: number[] = [];
  const mean: number[] = [];
  const std: number[] = [];
  for (let i = 0; i < d; i++) {
    const present = trainRows.map((r) => X[r]![i]).filter((v): v is number => v !== null && v !== undefined);
    const fill = present.length ? median(present) : 0;
    const values = trainRows.map((r) => X[r]![i] ?? fill);
    const m = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, v) => a + (v - m) ** 2, 0) / values.length;
    impute.push(fill);
    mean.push(m);
    std.push(variance > 0 ? Math.sqrt(variance) : 1);
  }
  return { bits, scale: qMax({ bits }) / clipStd, mean, std, impute };
}

/** The input quantization with feature i's step shrunk by weights[i] (std_i / s_i; input-weights.ts says why). */
export function weightedInput(input: InputQuantization, weights: readonly number[]): InputQuantization {
  if (weights.length !== input.std.length) throw new RangeError(`${weights.length} input weights for ${input.std.length} features`);
  return { ...input, std: input.std.map((s, i) => s / weights[i]!) };
}

/** Imputed, standardized float rows: what the float baselines see. */
export function standardizeRows(X: readonly PlainRecord[], input: InputQuantization): number[][] {
  return X.map((row) => row.map((v, i) => ((v ?? input.impute[i]!) - input.mean[i]!) / input.std[i]!));
}

/** Quantized rows, computed by the reference code itself so training sees what the client sends. */
export function quantizeRows(X: readonly PlainRecord[], input: InputQuantization): QuantizedRecord[] {
  return X.map((row) => quantizeRecord({ input }, row));
}
