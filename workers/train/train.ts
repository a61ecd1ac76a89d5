/**
 * The lab's one job: read the CSV, start the backend, run `trainModel` (the same code the
 * command-line `train` runs), and add what the lab shows: held-out confusion matrices and
 * timings. The float baselines train in a second worker at the same time (beside.ts), with the
 * same result as in line. The file's bytes are moved here and never leave the worker except as
 * the model (the baselines' worker gets the parsed rows).
 */
import { confusionMatrix, type ConfusionMatrix } from '../../src/core/metrics.ts';
import type { TernaryModel } from '../../src/core/model/format.ts';
import { freeFeatureSweeps, type FreeFeatureSweep } from '../../src/core/model/monotone.ts';
import { quantizeRecord, type PlainRecord } from '../../src/core/model/reference.ts';
import { trainModel, type InputWeighting, type ModelMetrics, type ProgressEvent, type TrainOptions, type TrainResult } from '../../src/train/index.ts';
import { startBackend, type BackendChoice, type BackendPreference } from './backend.ts';
import { inLineReason, trainBaselinesBeside, type BaselinesBeside, type BaselinesPlace } from './beside.ts';
import { aboutInfo, type ModelAbout } from './about.ts';
import { readDataset, type DatasetRequest } from './dataset.ts';
import { RUNS_OF_SEARCH, type TernarySearch } from '../../src/train/search.ts';
import { priorShifted } from '../../src/train/repeated.ts';

export type { ModelAbout };

export type TrainPhase = ProgressEvent['phase'];

/** What the person chose; every field maps onto a `trainModel` option. */
export interface LabSettings {
  hidden: number;
  epochs: number;
  /** Rows per step; undefined leaves it to trainModel (the CLI's choice: larger for larger files). */
  batchSize?: number;
  seed: number;
  /** Ternary runs compared on validation rows: all of TERNARY_CANDIDATES, each configuration once (the first four), or the first. */
  search: TernarySearch;
  /** Signed bits per quantized input; undefined leaves it to trainModel (4). */
  inputBits?: number;
  /** The logistic teacher's weight in the TernaryNet's training targets (src/train/teacher.ts); undefined or 0: the labels alone. */
  distill?: number;
  /** Per-feature input weights from the logistic teacher (src/train/input-weights.ts); undefined: every feature alike. */
  inputWeights?: InputWeighting;
  /** TernaryNet runs summed into the model, the best by validation loss (src/train/ensemble.ts); undefined: the best run alone. */
  ensemble?: number;
  /** Where the float baselines train (beside.ts); the result is the same, only the time differs. */
  baselines?: BaselinesPlace;
}

export interface ModelNaming {
  id: string;
  title: string;
  description: string;
  classes: [string, string];
}

export interface TrainRequest extends DatasetRequest {
  naming: ModelNaming;
  about?: ModelAbout;
  settings: LabSettings;
  backend: BackendPreference;
  /**
   * A BroadcastChannel the page listens on for the float baselines' progress when they train in
   * a second worker (this worker cannot relay it while it trains); without one, it comes at the end.
   */
  progressChannel?: string;
}

/**
 * One epoch's report, with the time since training started. `epoch` of `epochs` counts every
 * epoch of the phase (settings compared on validation rows, then the final retrain);
 * `epochsSet` is the number the person set, which each of those runs is planned around.
 */
export interface TrainProgress extends ProgressEvent {
  elapsedMs: number;
  epochsSet: number;
  /** Loss and accuracy on the validation rows after the epoch, when the training loop reports them. */
  validationLoss?: number;
  validationAccuracy?: number;
}

export interface HeldOut {
  rows: number;
  positives: number;
  /** From the exported integers through the plaintext reference: exactly what runs encrypted. */
  ternary: ConfusionMatrix;
  float: ConfusionMatrix;
  /**
   * Each held-out row's label and every model's risk as people are shown it: the class-balanced
   * probability shifted by the training rows' prevalence (core/model/reference.ts decodeRisk),
   * for the ROC and reliability pictures. Unshifted, a 15 % outcome's reliability curve would
   * show risks about three times too high.
   */
  labels: number[];
  risks: { logistic: number[]; float: number[]; ternary: number[] };
}

export interface TrainOutcome {
  backend: BackendChoice;
  model: TernaryModel;
  metrics: ModelMetrics;
  heldOut: HeldOut;
  split: { train: number; test: number };
  /**
   * Each phase's time from its start to its last report; the baselines' run at the same time as
   * the TernaryNet's unless `baselinesInLine` says why they could not (then one after another).
   */
  timings: { totalMs: number; phases: Partial<Record<TrainPhase, number>>; baselinesInLine?: string };
  /** How the risk moves along each feature with no declared direction, over the file's rows (core/model/monotone.ts). */
  freeFeatures: { rows: number; sweeps: FreeFeatureSweep[] };
}


/** The backend this worker would train on (started now, so the page can say which and why). */
export function backend(preference: BackendPreference = 'auto'): Promise<BackendChoice> {
  return startBackend(preference);
}

/** What the float baselines read of the settings (beside.ts sends them to their own worker). */
function baselineSettings(settings: LabSettings) {
  return { hidden: settings.hidden, epochs: settings.epochs, batchSize: settings.batchSize, seed: settings.seed, inputBits: settings.inputBits };
}

/** The person's choices as `trainModel` options: one mapping for a training and for its repeated splits. */
export function trainOptionsOf(request: TrainRequest, chosen: BackendChoice): TrainOptions {
  const { settings, naming } = request;
  return {
    ...naming,
    ...baselineSettings(settings),
    ...(RUNS_OF_SEARCH[settings.search] ? { runs: RUNS_OF_SEARCH[settings.search] } : {}),
    ...(settings.distill ? { distill: settings.distill } : {}),
    ...(settings.inputWeights ? { inputWeights: settings.inputWeights } : {}),
    ...(settings.ensemble && settings.ensemble > 1 ? { ensemble: settings.ensemble } : {}),
    info: { dataset: request.name, label: request.label, missingAsZero: request.missingAsZero ?? [], trainedIn: `browser, tfjs ${chosen.name}`, ...aboutInfo(request.about) },
  };
}

export async function train(request: TrainRequest, onProgress?: (p: TrainProgress) => void): Promise<TrainOutcome> {
  const data = readDataset(request);
  const chosen = await startBackend(request.backend);
  const { settings } = request;
  const t0 = performance.now();
  const lastReport: Partial<Record<TrainPhase, number>> = {};
  const report = (event: ProgressEvent) => {
    const now = performance.now();
    lastReport[event.phase] = now;
    onProgress?.({ ...event, elapsedMs: now - t0, epochsSet: settings.epochs });
  };
  const run = baselineSettings(settings);
  let inLine = inLineReason(settings.baselines);
  let beside: BaselinesBeside | undefined;
  if (!inLine) {
    try {
      beside = await trainBaselinesBeside(data, run, chosen.name, { channel: request.progressChannel, startedAt: performance.timeOrigin + t0, epochsSet: settings.epochs }, report);
    } catch (e) {
      inLine = `the second worker did not start (${(e as Error).message})`;
    }
  }
  try {
    const baselines = beside?.done;
    const baselinesHeldOut = baselines?.then((b) => b.heldOut);
    baselinesHeldOut?.catch(() => undefined); // trainModel awaits it; a failure before then is not unhandled
    const result = await trainModel(data, { ...trainOptionsOf(request, chosen), onProgress: report }, baselinesHeldOut);
    const totalMs = performance.now() - t0;
    // In line, each phase runs from the end of the one before it; beside, the TernaryNet from the start and the baselines as their worker timed them.
    const ternaryFrom = inLine ? (lastReport.float ?? t0) : t0;
    const phases: Partial<Record<TrainPhase, number>> = baselines
      ? { ...(await baselines).phases }
      : { logistic: (lastReport.logistic ?? t0) - t0, float: (lastReport.float ?? t0) - (lastReport.logistic ?? t0) };
    if (lastReport.ternary !== undefined) phases.ternary = lastReport.ternary - ternaryFrom;
    return outcomeOf(chosen, result, { totalMs, phases, ...(inLine ? { baselinesInLine: inLine } : {}) }, data.X);
  } finally {
    beside?.stop();
  }
}

function outcomeOf(chosen: BackendChoice, result: TrainResult, timings: TrainOutcome['timings'], records: readonly PlainRecord[]): TrainOutcome {
  const { split, metrics, model, heldOut } = result;
  const prior = model.output.prior;
  const shown = (p: number[]) => (prior === undefined ? p : p.map((v) => priorShifted(v, prior)));
  return {
    freeFeatures: { rows: records.length, sweeps: freeFeatureSweeps(model, records.map((r) => quantizeRecord(model, r))) },
    backend: chosen,
    model,
    metrics,
    heldOut: {
      rows: split.test.length,
      positives: heldOut.labels.filter((v) => v === 1).length,
      ternary: confusionMatrix(heldOut.labels, heldOut.probabilities.ternary),
      float: confusionMatrix(heldOut.labels, heldOut.probabilities.float),
      labels: heldOut.labels,
      risks: { logistic: shown(heldOut.probabilities.logistic), float: shown(heldOut.probabilities.float), ternary: shown(heldOut.probabilities.ternary) },
    },
    split: { train: split.train.length, test: split.test.length },
    timings,
  };
}
