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
 * The baselines and the TernaryNet are independent parts (parts.ts): a caller with a second
 * thread trains the baselines there (`trainBaselines`) and hands them in, with the same result.
 */
import type { Scores } from '../core/metrics.ts';
import { scoreClassifier } from '../core/metrics.ts';
import { rowsDigest } from '../core/data/select.ts';
import { type ModelBody, MODEL_FORMAT, type TernaryModel, sealModel, versionFor } from '../core/model/format.ts';
import { outputBound } from '../core/model/reference.ts';
import { DEFAULT_LIMITS, type FoldLimits } from './fold.ts';
import { type BaselineHeldOut, type RunOptions, type TrainingData, baselinesOn, prepareRun } from './parts.ts';
import { predictReference } from './predict.ts';
import type { Split } from './split.ts';
import { TERNARY_CANDIDATES, type TernaryConfig, type TernarySchedule, trainTernary } from './qat.ts';
import { assertMonotone } from '../core/model/monotone.ts';
import { monotoneSetup } from './monotone.ts';
import { type InputWeighting, teacherInputWeights } from './input-weights.ts';

export type { BaselineHeldOut, RunOptions, TrainingData };

/** Everything the parts read (hidden units, seed, input bits, epochs, batch size, progress), and the model's names. */
export interface TrainOptions extends RunOptions {
  id: string;
  title: string;
  description: string;
  classes: [string, string];
  /** TernaryNet configurations to choose from on the validation rows (default TERNARY_CANDIDATES). */
  ternaryCandidates?: TernaryConfig[];
  /** TernaryNet runs trained and compared: the first `runs` of TERNARY_CANDIDATES (default all 8; 4: each configuration once). Ignored with ternaryCandidates. */
  runs?: number;
  /** TernaryNet runs summed into the model, the best by validation loss (default 1; qat.ts). */
  ensemble?: number;
  /** Inner 80/20 splits of the training rows the runs are spread over; the model sums each split's best (default 1; qat.ts). */
  innerSplits?: number;
  /** A full-precision linear skip term beside the ternary units (output.linear; ternary.ts). */
  linear?: boolean;
  /** L2 strength on the skip weights during quantization-aware training (default none). */
  linearL2?: number;
  /** The teacher's weight w in the TernaryNet's training targets (1 − w)·y + w·p (teacher.ts; default 0). */
  distill?: number;
  /** Per-feature input weights from the logistic teacher's coefficients (input-weights.ts; default none: every weight 1). */
  inputWeights?: InputWeighting;
  /** Encryption-cost limits on the folded network. */
  limits?: Partial<FoldLimits>;
  /** Extra date-free facts stored in `model.training` (e.g. the data file's name). */
  info?: Record<string, unknown>;
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
  /** TernaryNet runs compared, when a spec or option set fewer than TERNARY_CANDIDATES (the first `runs` of them). */
  runs?: number;
  /** With an ensemble: each summed run's configuration, best first (ternaryConfig is the first's). */
  ensemble?: TernaryConfig[];
  /** Inner splits the runs were spread over, when more than one (each gave its best runs to the sum). */
  innerSplits?: number;
  /** With distillation: the teacher and its weight in the targets. */
  distill?: { teacher: 'logistic regression'; weight: number };
  /** With input weights: how they were made and each feature's weight (already in input.std). */
  inputWeights?: InputWeighting & { teacher: 'logistic regression'; weights: number[] };
  alphaMax: number;
  outputBound: number;
  split: { train: number; test: number; validation: number };
  /** The rows trained on and held out, as the model read them: their count and rowsDigest. */
  data: { rows: number; sha256: string };
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

const DEFAULTS = { finetuneEpochs: 20 };

/**
 * Trains one model and its baselines; see the module comment. `baselinesElsewhere`, when given,
 * are the baselines being trained by `trainBaselines` with the same data and options (in another
 * worker): then this trains only the TernaryNet, and waits for them at the end.
 */
export async function trainModel(data: TrainingData, options: TrainOptions, baselinesElsewhere?: Promise<BaselineHeldOut>): Promise<TrainResult> {
  const limits: FoldLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const run = prepareRun(data, options);
  const { hidden, seed, epochs, loop } = run.plan;
  let prepared = run.prepared;
  let weights: number[] | undefined;
  const { split } = prepared;
  const testLabels = split.test.map((r) => data.y[r]!);

  try {
    const baselinesHere = baselinesElsewhere ? undefined : await baselinesOn(prepared, run.plan);
    if (options.inputWeights) {
      // Same split and standardization; the TernaryNet's grid takes the teacher's weights.
      weights = await teacherInputWeights(prepared, options.inputWeights, seed, loop);
      prepared = prepareRun(data, options, weights).prepared;
    }
    const { input } = prepared;

    const monotone = monotoneSetup({ features: data.featureSpecs, input });
    const folded = await trainTernary({ prepared, X: data.X, y: data.y, hidden, seed, limits, loop, finetuneEpochs: DEFAULTS.finetuneEpochs, features: data.featureSpecs, monotone, ensemble: options.ensemble, linear: options.linear, linearL2: options.linearL2, innerSplits: options.innerSplits, distill: options.distill }, options.ternaryCandidates ?? (options.runs ? TERNARY_CANDIDATES.slice(0, options.runs) : undefined));

    const body: ModelBody = {
      format: MODEL_FORMAT,
      version: versionFor(folded.layers.output),
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
    const { logistic: logisticHeldOut, float: floatHeldOut } = baselinesHere ?? (await baselinesElsewhere!);
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
      ...(options.runs && !options.ternaryCandidates ? { runs: folded.runs.length } : {}),
      ...(folded.members.length > 1 ? { ensemble: folded.members.map((m) => m.config) } : {}),
      ...(folded.innerSplits > 1 ? { innerSplits: folded.innerSplits } : {}),
      ...(options.distill ? { distill: { teacher: 'logistic regression', weight: options.distill } } : {}),
      ...(options.inputWeights && weights ? { inputWeights: { ...options.inputWeights, teacher: 'logistic regression', weights } } : {}),
      alphaMax: limits.alphaMax,
      outputBound: outputBound(body),
      ...(proof.checks.length ? { monotone: { verified: proof.checks.map((c) => ({ feature: c.feature, direction: c.direction, margin: c.margin })), repairs: folded.monotoneRepairs } } : {}),
      split: { train: split.train.length, test: split.test.length, validation: prepared.validationRows.length },
      data: { rows: data.X.length, sha256: rowsDigest(data) },
      testRows: split.test,
      metrics: jsonSafe(metrics),
    };
    return { model: sealModel({ ...body, training }), metrics, split, heldOut };
  } finally {
    run.prepared.dispose();
    if (prepared !== run.prepared) prepared.dispose();
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
export type { InputWeighting } from './input-weights.ts';
export { TERNARY_CANDIDATES, type TernaryConfig, type TernarySchedule } from './qat.ts';
