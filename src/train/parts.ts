/**
 * The parts of `trainModel` that do not depend on each other. The float baselines and the
 * TernaryNet share only the prepared rows and the loop settings, both functions of the data
 * and the options alone, and each draws from its own sub-seeds; so the baselines can train
 * somewhere else at the same time (the lab runs them in a second worker, beside the
 * TernaryNet) and give the same numbers, bit for bit, as when trainModel runs them first.
 */
import type { FeatureSpec } from '../core/model/format.ts';
import type { PlainRecord } from '../core/model/reference.ts';
import { disposeTrainable, floatMlp, logisticRegression } from './baselines.ts';
import { type LoopOptions, type ProgressListener, ProgressMeter, type Trainable, fitBinary, fitSelected, predictProbabilities } from './loop.ts';
import { type PreparedData, prepareData } from './prepare.ts';
import { subSeed } from './random.ts';
import { DEFAULT_SEED } from './split.ts';

export interface TrainingData {
  /** One row per patient, features in `featureSpecs` order, null where missing. */
  X: PlainRecord[];
  /** 0/1 labels. */
  y: number[];
  featureSpecs: FeatureSpec[];
}

/** The options every part reads (trainModel's options add the model's names and the ternary choices). */
export interface RunOptions {
  /** Hidden units (default 8). */
  hidden?: number;
  /** Seed for split, initializers and batch order (default DEFAULT_SEED). */
  seed?: number;
  /** Signed bits per quantized input (default 4). */
  inputBits?: number;
  /** Epochs of quantization-aware training (the float MLP gets the same). */
  epochs?: number;
  learningRate?: number;
  /** Rows per step (default: enough for about 32 steps per epoch, at least 32). */
  batchSize?: number;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

export const RUN_DEFAULTS = { hidden: 8, inputBits: 4, epochs: 60, learningRate: 0.01 };

/** Per-step cost is mostly overhead at these sizes: large data sets take larger batches, not more steps. */
function defaultBatchSize(rows: number): number {
  return Math.max(32, Math.round(rows / 32));
}

/** L2 strengths the float baselines choose from on the validation rows. */
const FLOAT_L2 = [1e-4, 1e-3, 1e-2];

/**
 * The logistic baseline's candidates, one per L2 strength: the baseline and the TernaryNet's
 * teacher (teacher.ts) choose among the same models.
 */
export function logisticCandidates(inputs: number, seed: number): (() => Trainable)[] {
  return FLOAT_L2.map((l2, i) => () => logisticRegression(inputs, subSeed(seed, 10 + i), l2));
}

/** The settings every part trains with, resolved from the options once. */
export interface RunPlan {
  hidden: number;
  seed: number;
  epochs: number;
  /** Inputs of the data (features per row). */
  inputs: number;
  loop: Omit<LoopOptions, 'phase' | 'validation'> & { batchSize: number };
}

/** Splits and prepares the rows (their grid with per-feature `weights`, input-weights.ts), and resolves the settings; the caller disposes `prepared`. */
export function prepareRun(data: TrainingData, options: RunOptions, weights?: readonly number[]): { prepared: PreparedData; plan: RunPlan } {
  const seed = options.seed ?? DEFAULT_SEED;
  const epochs = options.epochs ?? RUN_DEFAULTS.epochs;
  const prepared = prepareData(data.X, data.y, { seed, bits: options.inputBits ?? RUN_DEFAULTS.inputBits, weights });
  const loop = {
    epochs,
    batchSize: options.batchSize ?? defaultBatchSize(prepared.fitRows.length),
    learningRate: options.learningRate ?? RUN_DEFAULTS.learningRate,
    seed: subSeed(seed, 1),
    onProgress: options.onProgress,
    signal: options.signal,
  };
  return { prepared, plan: { hidden: options.hidden ?? RUN_DEFAULTS.hidden, seed, epochs, inputs: data.featureSpecs.length, loop } };
}

/** The float baselines' probabilities on the held-out rows (in `split.test` order). */
export interface BaselineHeldOut {
  logistic: number[];
  float: number[];
}

/** Chooses L2 on the validation rows, retrains on the whole training split, scores on the held-out rows. */
async function trainFloat(prepared: PreparedData, plan: RunPlan, phase: 'logistic' | 'float', candidates: readonly (() => Trainable)[]): Promise<number[]> {
  const { loop, epochs } = plan;
  const meter = new ProgressMeter(loop.onProgress, (candidates.length + 1) * epochs);
  const selected = await fitSelected(candidates, prepared.fit.float, { ...loop, phase, validation: prepared.validation.float }, meter);
  disposeTrainable(selected.model);
  const model = candidates[selected.candidate]!();
  try {
    await fitBinary(model, prepared.all.float, { ...loop, phase, epochs: selected.outcome.epoch, decayEpochs: epochs, onProgress: meter.at(candidates.length * epochs) });
    meter.finish();
    return await predictProbabilities(model, prepared.testFloat);
  } finally {
    disposeTrainable(model);
  }
}

/** Logistic regression, then the float MLP, on rows already prepared. */
export async function baselinesOn(prepared: PreparedData, plan: RunPlan): Promise<BaselineHeldOut> {
  const { inputs: d, hidden, seed } = plan;
  const logistic = await trainFloat(prepared, plan, 'logistic', logisticCandidates(d, seed));
  const float = await trainFloat(prepared, plan, 'float', FLOAT_L2.map((l2, i) => () => floatMlp(d, hidden, subSeed(seed, 20 + i), l2)));
  return { logistic, float };
}

/** The float baselines alone, from the data and the options trainModel gets (for another worker). */
export async function trainBaselines(data: TrainingData, options: RunOptions): Promise<BaselineHeldOut> {
  const { prepared, plan } = prepareRun(data, options);
  try {
    return await baselinesOn(prepared, plan);
  } finally {
    prepared.dispose();
  }
}
