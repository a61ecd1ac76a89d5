/**
 * Training, end to end: split, fit input statistics, train the float baselines and the
 * TernaryNet, fold it into the integer model file, and measure all three on the held-out rows
 * — the ternary numbers through the plaintext reference, i.e. exactly what runs encrypted.
 *
 * Every model gets the same protocol, so the comparison is fair: choices (L2 strength, ternary
 * configuration and restart, epoch counts) are made on a validation fifth of the training rows;
 * classes are weighted to balance in the loss. The float baselines are then retrained on all
 * training rows; the TernaryNet keeps its validated run (qat.ts says why) with its decoding
 * refitted on all training rows.
 * Isomorphic: the caller picks the tfjs backend (cpu in Node, WebGPU/wasm in the worker).
 */
import type { Scores } from '../core/metrics.ts';
import { scoreClassifier } from '../core/metrics.ts';
import { type FeatureSpec, type ModelBody, MODEL_FORMAT, MODEL_VERSION, type TernaryModel, sealModel } from '../core/model/format.ts';
import { type PlainRecord, outputBound } from '../core/model/reference.ts';
import { disposeTrainable, floatMlp, logisticRegression } from './baselines.ts';
import { DEFAULT_LIMITS, type FoldLimits } from './fold.ts';
import { type ProgressListener, ProgressMeter, type Trainable, fitBinary, fitSelected, predictProbabilities } from './loop.ts';
import { predictReference } from './predict.ts';
import { prepareData } from './prepare.ts';
import { subSeed } from './random.ts';
import { DEFAULT_SEED, type Split } from './split.ts';
import { type TernaryConfig, type TernarySchedule, trainTernary } from './qat.ts';
import { assertMonotone } from '../core/model/monotone.ts';
import { monotoneSetup } from './monotone.ts';

export interface TrainingData {
  /** One row per patient, features in `featureSpecs` order, null where missing. */
  X: PlainRecord[];
  /** 0/1 labels. */
  y: number[];
  featureSpecs: FeatureSpec[];
}

export interface TrainOptions {
  id: string;
  title: string;
  description: string;
  classes: [string, string];
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
  /** TernaryNet configurations to choose from on the validation rows (default TERNARY_CANDIDATES). */
  ternaryCandidates?: TernaryConfig[];
  /** Encryption-cost limits on the folded network. */
  limits?: Partial<FoldLimits>;
  /** Extra date-free facts stored in `model.training` (e.g. the data file's name). */
  info?: Record<string, unknown>;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

/** What `model.training` holds (date-free, so retraining reproduces the file and its hash). */
export interface TrainingRecord {
  /** Facts from TrainOptions.info, e.g. dataset (CSV file name), label, missingAsZero. */
  [fact: string]: unknown;
  seed: number;
  hiddenUnits: number;
  inputBits: number;
  epochs: number;
  batchSize: number;
  classWeighting: 'balanced';
  /** Global A of the folding (α = round(A·s/scale)). */
  amplification: number;
  ternaryConfig: TernaryConfig;
  ternarySchedule: TernarySchedule;
  alphaMax: number;
  outputBound: number;
  split: { train: number; test: number; validation: number };
  /** 0-based data-row indices of the held-out rows in the source CSV. */
  testRows: number[];
  /** Held-out metrics; NaN (one class only) is stored as null. */
  metrics: Record<keyof ModelMetrics, Record<keyof Scores, number | null>>;
}

export interface ModelMetrics {
  logistic: Scores;
  float: Scores;
  ternary: Scores;
}

/** Each model's probabilities on the held-out rows (in `split.test` order), and their labels. */
export interface HeldOutPredictions {
  labels: number[];
  probabilities: Record<keyof ModelMetrics, number[]>;
}

export interface TrainResult {
  model: TernaryModel;
  metrics: ModelMetrics;
  split: Split;
  heldOut: HeldOutPredictions;
}

const DEFAULTS = { hidden: 8, inputBits: 4, epochs: 60, learningRate: 0.01, finetuneEpochs: 20 };

/** Per-step cost is mostly overhead at these sizes: large data sets take larger batches, not more steps. */
function defaultBatchSize(rows: number): number {
  return Math.max(32, Math.round(rows / 32));
}
/** L2 strengths the float baselines choose from on the validation rows. */
const FLOAT_L2 = [1e-4, 1e-3, 1e-2];

/** Trains one model and its baselines; see the module comment. */
export async function trainModel(data: TrainingData, options: TrainOptions): Promise<TrainResult> {
  const hidden = options.hidden ?? DEFAULTS.hidden;
  const seed = options.seed ?? DEFAULT_SEED;
  const epochs = options.epochs ?? DEFAULTS.epochs;
  const learningRate = options.learningRate ?? DEFAULTS.learningRate;
  const limits: FoldLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const d = data.featureSpecs.length;
  const prepared = prepareData(data.X, data.y, { seed, bits: options.inputBits ?? DEFAULTS.inputBits });
  const { split, input, fit, validation } = prepared;
  const testLabels = split.test.map((r) => data.y[r]!);
  const loop = { epochs, batchSize: options.batchSize ?? defaultBatchSize(prepared.fitRows.length), learningRate, seed: subSeed(seed, 1), onProgress: options.onProgress, signal: options.signal };

  /** Chooses L2 on the validation rows, retrains on the whole training split, scores on the held-out rows. */
  const trainFloat = async (phase: 'logistic' | 'float', make: (l2: number, candidate: number) => Trainable): Promise<number[]> => {
    const meter = new ProgressMeter(loop.onProgress, (FLOAT_L2.length + 1) * epochs);
    const candidates = FLOAT_L2.map((l2, i) => () => make(l2, i));
    const selected = await fitSelected(candidates, fit.float, { ...loop, phase, validation: validation.float }, meter);
    disposeTrainable(selected.model);
    const model = make(FLOAT_L2[selected.candidate]!, selected.candidate);
    try {
      await fitBinary(model, prepared.all.float, { ...loop, phase, epochs: selected.outcome.epoch, decayEpochs: epochs, onProgress: meter.at(FLOAT_L2.length * epochs) });
      meter.finish();
      return await predictProbabilities(model, prepared.testFloat);
    } finally {
      disposeTrainable(model);
    }
  };

  try {
    const logisticHeldOut = await trainFloat('logistic', (l2, i) => logisticRegression(d, subSeed(seed, 10 + i), l2));
    const floatHeldOut = await trainFloat('float', (l2, i) => floatMlp(d, hidden, subSeed(seed, 20 + i), l2));

    const monotone = monotoneSetup({ features: data.featureSpecs, input });
    const folded = await trainTernary({ prepared, X: data.X, y: data.y, hidden, seed, limits, loop, finetuneEpochs: DEFAULTS.finetuneEpochs, features: data.featureSpecs, monotone }, options.ternaryCandidates);

    const body: ModelBody = {
      format: MODEL_FORMAT,
      version: MODEL_VERSION,
      id: options.id,
      title: options.title,
      description: options.description,
      classes: options.classes,
      features: data.featureSpecs,
      input,
      ...folded.layers,
    };
    // Never hand out a model that breaks what its features declare (the repair makes this hold).
    const proof = assertMonotone(body);
    const heldOut: HeldOutPredictions = {
      labels: testLabels,
      probabilities: { logistic: logisticHeldOut, float: floatHeldOut, ternary: predictReference(body, split.test.map((r) => data.X[r]!)) },
    };
    const score = (probabilities: number[]) => scoreClassifier(testLabels, probabilities);
    const metrics: ModelMetrics = { logistic: score(heldOut.probabilities.logistic), float: score(heldOut.probabilities.float), ternary: score(heldOut.probabilities.ternary) };
    const training: TrainingRecord = {
      ...options.info,
      seed,
      hiddenUnits: hidden,
      inputBits: input.bits,
      epochs,
      batchSize: loop.batchSize,
      classWeighting: 'balanced',
      amplification: folded.amplification,
      ternaryConfig: folded.config,
      ternarySchedule: folded.schedule,
      alphaMax: limits.alphaMax,
      outputBound: outputBound(body),
      ...(proof.checks.length ? { monotone: { verified: proof.checks.map((c) => ({ feature: c.feature, direction: c.direction, margin: c.margin })), repairs: folded.monotoneRepairs } } : {}),
      split: { train: split.train.length, test: split.test.length, validation: prepared.validationRows.length },
      testRows: split.test,
      metrics: jsonSafe(metrics),
    };
    return { model: sealModel({ ...body, training }), metrics, split, heldOut };
  } finally {
    prepared.dispose();
  }
}

/** Metrics for the model file: NaN (an AUC with one class in the split) is not JSON, so null. */
function jsonSafe(metrics: ModelMetrics): TrainingRecord['metrics'] {
  const safe = (s: Scores) => ({ accuracy: finiteOrNull(s.accuracy), balancedAccuracy: finiteOrNull(s.balancedAccuracy), auc: finiteOrNull(s.auc) });
  return { logistic: safe(metrics.logistic), float: safe(metrics.float), ternary: safe(metrics.ternary) };
}

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

export { DEFAULT_SEED, type Split, stratifiedSplit } from './split.ts';
export type { ProgressEvent, ProgressListener } from './loop.ts';
export { DEFAULT_LIMITS, type FoldLimits } from './fold.ts';
export { predictReference } from './predict.ts';
export { TERNARY_CANDIDATES, type TernaryConfig, type TernarySchedule } from './qat.ts';
