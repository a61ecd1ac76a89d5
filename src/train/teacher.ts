/**
 * Distillation from a float teacher (`TrainOptions.distill`): the TernaryNet's quantization-aware
 * training fits the targets (1 − w)·y + w·p instead of the labels y, p the probability that a
 * logistic regression gives each fitting row. The teacher is the logistic baseline as it stands
 * before its retrain: the same candidates (parts.ts logisticCandidates), fitted to the same
 * fitting rows, its L2 strength chosen on the same validation rows; it never sees a held-out
 * row, and the validation rows still judge the TernaryNet by the true labels.
 *
 * Why: on liver, splits that chose nothing about the procedure (seeds 11–30) showed the
 * TernaryNet 3.3 points of balanced accuracy under logistic regression, whatever its width
 * (2, 4 or 8 hidden units gave the same); a few hundred noisy labels are a rough target for a
 * network whose weights move in steps, and the teacher's probabilities are a smooth one.
 * Measured in docs/training.md.
 */
import * as tf from '@tensorflow/tfjs';
import { disposeTrainable } from './baselines.ts';
import { type LoopOptions, type Trainable, type TrainingTensors, fitSelected } from './loop.ts';
import { logisticCandidates } from './parts.ts';
import type { InnerSplit } from './prepare.ts';

/**
 * The logistic teacher of some fitting rows: the baseline's candidates fitted to them, the L2
 * strength chosen on the validation rows. `coefficients` ([inputs, 1], on standardized inputs)
 * is the model's weight variable (logisticRegression's first), freed with the model.
 */
export async function fitTeacher(rows: Pick<InnerSplit, 'fit' | 'validation'>, seed: number, loop: Omit<LoopOptions, 'phase' | 'validation'>): Promise<{ model: Trainable; coefficients: tf.Variable }> {
  const inputs = rows.fit.float.x.shape[1];
  const { model } = await fitSelected(logisticCandidates(inputs, seed), rows.fit.float, { ...loop, phase: 'logistic', onProgress: undefined, validation: rows.validation.float });
  return { model, coefficients: model.variables[0]! };
}

/**
 * The grid rows of `inner`'s fitting rows with targets (1 − weight)·y + weight·p, p from the
 * teacher; the caller disposes `y` only (x and the row weights are the split's own tensors).
 * Throws for a weight outside [0, 1].
 */
export async function distilledTargets(inner: InnerSplit, weight: number, seed: number, loop: Omit<LoopOptions, 'phase' | 'validation'>): Promise<TrainingTensors> {
  if (!(weight >= 0 && weight <= 1)) throw new RangeError(`the teacher's weight in the targets must be between 0 and 1, not ${weight}`);
  const { model } = await fitTeacher(inner, seed, loop);
  try {
    const y = tf.tidy(() => inner.fit.grid.y.mul(1 - weight).add(tf.sigmoid(model.logits(inner.fit.float.x)).mul(weight)) as tf.Tensor1D);
    return { x: inner.fit.grid.x, y, weight: inner.fit.grid.weight, n: inner.fit.grid.n };
  } finally {
    disposeTrainable(model);
  }
}
