/**
 * One minibatch Adam loop for every model we train (logistic, float MLP, ternary), written
 * out rather than `model.fit` so that batch order is seeded (fit shuffles with Math.random)
 * and so that the ternary forward pass can be any tfjs function. Reads tensors back only with
 * `await data()`, once per epoch: WebGPU forbids dataSync.
 */
import * as tf from '@tensorflow/tfjs';
import { balancedClassWeights } from '../core/metrics.ts';
import { seededRandom, shuffleInPlace } from './random.ts';

export type Phase = 'logistic' | 'float' | 'ternary';

/**
 * Reported after each epoch: loss and accuracy on the rows being trained on, and on the
 * validation rows when the run has them (the curves a model builder compares to see overfitting).
 */
export interface ProgressEvent {
  phase: Phase;
  epoch: number;
  epochs: number;
  loss: number;
  accuracy: number;
  validationLoss?: number;
  validationAccuracy?: number;
}
export type ProgressListener = (event: ProgressEvent) => void;

/** A binary classifier as a function of its variables. */
export interface Trainable {
  variables: tf.Variable[];
  /** Logits for a batch of rows, shape [n]. Called inside tf.tidy. */
  logits(x: tf.Tensor2D): tf.Tensor1D;
  /** Optional regularization added to the loss. Called inside tf.tidy. */
  penalty?(): tf.Scalar;
  /**
   * A training step's logits and penalty in one pass, when the two share work (the TernaryNet
   * ternarizes its weights once for both); the step then calls it instead of logits and penalty.
   * Called inside tf.tidy.
   */
  objective?(x: tf.Tensor2D): { logits: tf.Tensor1D; penalty?: tf.Scalar };
  /** Called before each epoch's batches, with the run's horizon (e.g. to move a ramp on). */
  startEpoch?(epoch: number, horizon: number): void;
}

/**
 * The first epoch whose weights a run with validation rows may keep: an epoch in the first
 * quarter of the run wins only by luck on a small validation set.
 */
export function firstKeptEpoch(horizon: number): number {
  return Math.ceil(horizon / 4);
}

/** Rows, labels and per-row weights (class balancing), all as tensors on the backend. */
export interface TrainingTensors {
  x: tf.Tensor2D;
  y: tf.Tensor1D;
  weight: tf.Tensor1D;
  n: number;
}

export interface LoopOptions {
  phase: Phase;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
  /** Rows held out of training: when given, the variables end at the epoch with least loss on them. */
  validation?: TrainingTensors;
  /** Epochs over which the learning rate decays (default `epochs`); a retrain for fewer epochs keeps the run's horizon. */
  decayEpochs?: number;
}

/** Adam whose learning rate can follow a schedule (tfjs reads it at every step). */
class ScheduledAdam extends tf.AdamOptimizer {
  constructor(private readonly initialRate: number) {
    super(initialRate, 0.9, 0.999);
  }
  /** Cosine decay to 5 % of the initial rate at the horizon: late epochs settle, so the best epoch is stable. */
  scheduleEpoch(epoch: number, horizon: number): void {
    const progress = Math.min(1, (epoch - 1) / Math.max(1, horizon));
    this.learningRate = this.initialRate * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * progress)));
  }
}

/** How a run ended: the epoch whose weights were kept and its validation loss (NaN without one). */
export interface FitOutcome {
  epoch: number;
  validationLoss: number;
}

/**
 * Progress over several runs (candidates, then a retrain) reported as one count of epochs,
 * so that a progress bar only moves forward.
 */
export class ProgressMeter {
  private last: ProgressEvent | undefined;
  constructor(
    private readonly listener: ProgressListener | undefined,
    readonly total: number,
  ) {}

  /** The listener for a run whose first epoch is epoch `offset + 1` of the total. */
  at(offset: number): ProgressListener | undefined {
    const listener = this.listener;
    if (!listener) return undefined;
    return (e) => {
      this.last = { ...e, epoch: Math.min(this.total, offset + e.epoch), epochs: this.total };
      listener(this.last);
    };
  }

  /** Reports the end (the last run may stop short of the planned total). */
  finish(): void {
    if (this.listener && this.last && this.last.epoch < this.total) this.listener({ ...this.last, epoch: this.total });
  }
}

/** Tensors for rows of a float matrix, with weights that give both classes equal total weight. */
export function toTensors(rows: readonly ArrayLike<number>[], labels: readonly number[]): TrainingTensors {
  const n = rows.length;
  const d = rows[0]?.length ?? 0;
  const flat = new Float32Array(n * d);
  rows.forEach((r, i) => flat.set(Array.from(r), i * d));
  return {
    x: tf.tensor2d(flat, [n, d]),
    y: tf.tensor1d([...labels], 'float32'),
    weight: tf.tensor1d(balancedClassWeights(labels), 'float32'),
    n,
  };
}

export function disposeTensors(t: TrainingTensors): void {
  tf.dispose([t.x, t.y, t.weight]);
}

/** Class-weighted mean sigmoid cross-entropy. */
function weightedLoss(logits: tf.Tensor1D, y: tf.Tensor1D, weight: tf.Tensor1D): tf.Scalar {
  return tf.losses.sigmoidCrossEntropy(y, logits, weight, 0, tf.Reduction.SUM_BY_NONZERO_WEIGHTS);
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException('training was cancelled', 'AbortError');
}

/**
 * Trains with Adam on shuffled minibatches and reports each epoch; throws on abort. With
 * validation rows, keeps the weights of the epoch with the least validation loss (early stopping
 * without stopping: the run is short, and a later epoch may still win).
 */
export async function fitBinary(model: Trainable, data: TrainingTensors, options: LoopOptions): Promise<FitOutcome> {
  const { epochs, batchSize, seed, validation } = options;
  const optimizer = new ScheduledAdam(options.learningRate);
  const random = seededRandom(seed);
  const order = Array.from({ length: data.n }, (_, i) => i);
  let best: { epoch: number; validationLoss: number; values: tf.Tensor[] } = { epoch: epochs, validationLoss: NaN, values: [] };
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      throwIfAborted(options.signal);
      optimizer.scheduleEpoch(epoch, options.decayEpochs ?? epochs);
      model.startEpoch?.(epoch, options.decayEpochs ?? epochs);
      shuffleInPlace(order, random);
      for (let start = 0; start < data.n; start += batchSize) {
        const batch = order.slice(start, start + batchSize);
        tf.tidy(() => {
          const index = tf.tensor1d(batch, 'int32');
          const x = tf.gather(data.x, index);
          const y = tf.gather(data.y, index);
          const w = tf.gather(data.weight, index);
          optimizer.minimize(() => {
            const { logits, penalty } = model.objective ? model.objective(x) : { logits: model.logits(x), penalty: model.penalty?.() };
            const loss = weightedLoss(logits, y, w);
            return penalty ? loss.add(penalty) : loss;
          }, false, model.variables);
        });
      }
      // Validation rows are scored every epoch someone watches, else only when they may choose it.
      const eligible = epoch >= firstKeptEpoch(options.decayEpochs ?? epochs);
      const scored = validation && (eligible || options.onProgress) ? await evaluateLoss(model, validation) : undefined;
      if (options.onProgress) {
        const [loss, accuracy] = await evaluateLoss(model, data);
        options.onProgress({ phase: options.phase, epoch, epochs, loss, accuracy, ...(scored ? { validationLoss: scored[0], validationAccuracy: scored[1] } : {}) });
      }
      if (scored && eligible) {
        const [validationLoss] = scored;
        if (Number.isFinite(validationLoss) && !(validationLoss >= best.validationLoss)) {
          tf.dispose(best.values);
          best = { epoch, validationLoss, values: model.variables.map((v) => v.clone()) };
        }
      }
    }
    if (validation) model.variables.forEach((v, i) => v.assign(best.values[i]!));
    return { epoch: best.epoch, validationLoss: best.validationLoss };
  } finally {
    tf.dispose(best.values);
    optimizer.dispose();
  }
}

/**
 * Trains each candidate (e.g. one per regularization strength) with early stopping and keeps
 * the one with the least validation loss; the others are disposed.
 */
export async function fitSelected(candidates: readonly (() => Trainable)[], data: TrainingTensors, options: LoopOptions & { validation: TrainingTensors }, meter?: ProgressMeter): Promise<{ model: Trainable; outcome: FitOutcome; candidate: number }> {
  let best: { model: Trainable; outcome: FitOutcome; candidate: number } | undefined;
  for (const [candidate, make] of candidates.entries()) {
    const model = make();
    let outcome: FitOutcome;
    try {
      outcome = await fitBinary(model, data, { ...options, onProgress: meter?.at(candidate * options.epochs) ?? options.onProgress });
    } catch (error) {
      tf.dispose([...model.variables, ...(best?.model.variables ?? [])]);
      throw error;
    }
    if (!best || outcome.validationLoss < best.outcome.validationLoss) {
      if (best) tf.dispose(best.model.variables);
      best = { model, outcome, candidate };
    } else {
      tf.dispose(model.variables);
    }
  }
  if (!best) throw new Error('no candidate models to train');
  return best;
}

/** Weighted loss and plain accuracy (threshold 0.5) on the given rows. */
async function evaluateLoss(model: Trainable, data: TrainingTensors): Promise<[number, number]> {
  const [lossT, accT] = tf.tidy(() => {
    const logits = model.logits(data.x);
    const correct = logits.greaterEqual(0).cast('float32').equal(data.y).cast('float32').mean();
    return [weightedLoss(logits, data.y, data.weight), correct];
  });
  const [loss, acc] = await Promise.all([lossT.data(), accT.data()]);
  tf.dispose([lossT, accT]);
  return [loss[0]!, acc[0]!];
}

/** Positive-class probabilities for rows, read back asynchronously. */
export async function predictProbabilities(model: Trainable, x: tf.Tensor2D): Promise<number[]> {
  const p = tf.tidy(() => tf.sigmoid(model.logits(x)));
  const values = Array.from(await p.data());
  p.dispose();
  return values;
}
