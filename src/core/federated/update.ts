/**
 * One round's arithmetic, outside the cryptography: what a site computes from its records and
 * the round's weights (its update, in integers), and what the coordinator does with the
 * unmasked sum (one Adam step on θ). docs/federated.md §5 gives the why of each step.
 *
 * A site's vector is the gradient part (clipped per record, rounded, plus the site's noise
 * share) followed by COUNTS: records sampled, and the held-out confusion counts of the round's
 * weights on the site's own held-out rows. The counts are exact (no noise): the coordinator
 * learns their sum over sites, never one site's, which is what secure aggregation guarantees;
 * they are not covered by the differential-privacy accounting (the gradients are).
 */
import { qMax } from '../model/reference.ts';
import type { InputQuantization } from '../model/format.ts';
import type { StudyManifest } from './manifest.ts';
import { hexToBytes } from '@noble/hashes/utils.js';
import { adamStep, forward, initialParameters, parameterCount, recordGradient, type AdamState, type NetworkShape, type RoundWeights } from './network.ts';
import { heldOutMetrics } from './round.ts';
import { noiseShare, noiseShareLambda } from './noise.ts';
import { deriveRng, type ChaChaRng } from './prng.ts';
import { accumulate, poissonSample, quantizeRecord, toSigned } from './quantize.ts';

/**
 * Logit thresholds at which sites count their held-out confusion: the coordinator picks the
 * decision threshold with the best summed balanced accuracy (the published model's bias is
 * moved by it) and reads a ROC curve off them.
 */
export const THRESHOLDS: readonly number[] = Array.from({ length: 13 }, (_, k) => -3 + 0.5 * k);

/** Counts after the gradient: sampled records, then held-out TP, FP, TN, FN per threshold. */
export const COUNTS = 1 + 4 * THRESHOLDS.length;

/** Records ready for the network: standardized inputs on the quantization grid, 0/1 labels. */
export interface SiteRecords {
  inputs: Float64Array[];
  labels: (0 | 1)[];
}

export interface ConfusionCounts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export function shapeOf(manifest: StudyManifest): NetworkShape {
  return { inputs: manifest.features.length, hidden: manifest.network.hidden };
}

/** θ where a study starts: drawn from a generator seeded with the study hash (reproducible). */
export function studyInitialParameters(manifest: StudyManifest, studyHash: string): Float64Array {
  return initialParameters(shapeOf(manifest), deriveRng(hexToBytes(studyHash), 'coordinator/initial-parameters'));
}

/** Length of every site's vector in a study. */
export function vectorLength(manifest: StudyManifest): number {
  return parameterCount(shapeOf(manifest)) + COUNTS;
}

/** The input quantization every site and the published model use (4 bits, ±3 std). */
export function studyInput(manifest: StudyManifest): InputQuantization {
  const mean = manifest.standardization?.mean ?? manifest.features.map((f) => (f.min + f.max) / 2);
  const std = manifest.standardization?.std ?? manifest.features.map((f) => (f.max - f.min) / 4 || 1);
  const bits = 4;
  return { bits, scale: qMax({ bits }) / 3, mean, std, impute: mean };
}

/** Class weights that balance the classes at the manifest's prevalence (mean weight 1). */
export function classWeights(manifest: StudyManifest): [number, number] {
  const p = manifest.prevalence ?? 0.5;
  return [1 / (2 * (1 - p)), 1 / (2 * p)];
}

/** Confusion counts of the round's weights on records, positive when the logit ≥ each threshold. */
export function confusion(weights: RoundWeights, records: SiteRecords, thresholds: readonly number[] = THRESHOLDS): ConfusionCounts[] {
  const counts = thresholds.map((): ConfusionCounts => ({ tp: 0, fp: 0, tn: 0, fn: 0 }));
  records.inputs.forEach((u, k) => {
    const logit = forward(weights, u).logit;
    const label = records.labels[k];
    thresholds.forEach((threshold, i) => {
      const c = counts[i]!;
      if (logit >= threshold) label === 1 ? c.tp++ : c.fp++;
      else label === 1 ? c.fn++ : c.tn++;
    });
  });
  return counts;
}

/**
 * The local step: each sampled record's gradient of the class-weighted log loss with respect to
 * θ, straight through the ternarization (rows of length parameterCount). `float64Step` is the
 * reference, plain JavaScript in every runtime; a site may compute the same gradients elsewhere
 * (TensorFlow.js on the machine's GPU, workers/train/local-step.ts), in its own float
 * arithmetic. Everything after it — clipping, scaling, rounding, noise, counts — is this file's.
 */
export type LocalStep = (weights: RoundWeights, records: SiteRecords, recordWeights: Float64Array) => ArrayLike<number>[] | Promise<ArrayLike<number>[]>;

/** The reference local step: recordGradient in float64, record by record. */
export const float64Step = (weights: RoundWeights, records: SiteRecords, recordWeights: Float64Array): Float64Array[] =>
  records.inputs.map((u, k) => recordGradient(weights, u, records.labels[k]!, recordWeights[k]!));

/** The round's Poisson sample of a site's training records, with their class weights. */
function sampleRound(manifest: StudyManifest, train: SiteRecords, rng: ChaChaRng): { sampled: SiteRecords; recordWeights: Float64Array } {
  const [negativeWeight, positiveWeight] = classWeights(manifest);
  const picked = poissonSample(train.inputs.length, manifest.schedule.samplingRate, rng);
  const labels = picked.map((k) => train.labels[k]!);
  return { sampled: { inputs: picked.map((k) => train.inputs[k]!), labels }, recordWeights: Float64Array.from(labels, (l) => (l === 1 ? positiveWeight : negativeWeight)) };
}

/** Clips and rounds each record's gradient (in sample order), adds the noise share and the counts. */
function finishUpdate(manifest: StudyManifest, weights: RoundWeights, gradients: readonly ArrayLike<number>[], heldOut: SiteRecords, rng: ChaChaRng): Float64Array {
  const P = parameterCount(shapeOf(manifest));
  const sum = new Float64Array(P);
  for (const gradient of gradients) {
    if (gradient.length !== P) throw new RangeError(`a record's gradient has ${gradient.length} values, this study's ${P}`);
    accumulate(sum, quantizeRecord(gradient, manifest.update, rng));
  }
  const noise = noiseShare(P, noiseShareLambda(manifest), rng);
  const out = new Float64Array(P + COUNTS);
  for (let k = 0; k < P; k++) out[k] = sum[k]! + noise[k]!;
  out[P] = gradients.length;
  confusion(weights, heldOut).forEach((c, i) => out.set([c.tp, c.fp, c.tn, c.fn], P + 1 + 4 * i));
  return out;
}

/**
 * A site's vector for one round, as plain integers (the caller wraps it into Z_{2^32} and
 * masks it): Poisson-sampled records' clipped, rounded gradients, the noise share, the counts.
 * The generator is drawn in the same order whatever computes the gradients (sampling, then
 * each record's rounding, then the noise), so two local steps whose float gradients agree give
 * the same integers except where a value sits within their difference of a rounding boundary.
 */
export function siteUpdate(manifest: StudyManifest, weights: RoundWeights, train: SiteRecords, heldOut: SiteRecords, rng: ChaChaRng): Float64Array {
  const { sampled, recordWeights } = sampleRound(manifest, train, rng);
  return finishUpdate(manifest, weights, float64Step(weights, sampled, recordWeights), heldOut, rng);
}

/** `siteUpdate` with the gradients from another local step (which may run elsewhere, hence async). */
export async function siteUpdateWith(step: LocalStep, manifest: StudyManifest, weights: RoundWeights, train: SiteRecords, heldOut: SiteRecords, rng: ChaChaRng): Promise<Float64Array> {
  const { sampled, recordWeights } = sampleRound(manifest, train, rng);
  const gradients = sampled.inputs.length ? await step(weights, sampled, recordWeights) : [];
  if (gradients.length !== sampled.inputs.length) throw new RangeError(`the local step gave ${gradients.length} gradients for ${sampled.inputs.length} records`);
  return finishUpdate(manifest, weights, gradients, heldOut, rng);
}

/** What a round's unmasked sum says besides the gradient. */
export interface RoundOutcome {
  sampled: number;
  /** Held-out confusion of the round's weights, one per threshold of THRESHOLDS. */
  heldOut: ConfusionCounts[];
}

/**
 * The coordinator's step: the summed gradient (integers / scale) averaged over the records
 * sampled, one Adam step on θ in place. Returns the counts.
 */
export function applyRoundSum(manifest: StudyManifest, theta: Float64Array, adam: AdamState, sum: Uint32Array): RoundOutcome {
  const P = parameterCount(shapeOf(manifest));
  if (sum.length !== P + COUNTS) throw new RangeError(`the sum has ${sum.length} values, this study's vectors ${P + COUNTS}`);
  const signed = toSigned(sum);
  const sampled = Math.max(0, signed[P]!);
  const gradient = new Float64Array(P);
  const divisor = manifest.update.scale * Math.max(1, sampled);
  for (let k = 0; k < P; k++) gradient[k] = signed[k]! / divisor;
  if (sampled > 0) adamStep(theta, gradient, adam, manifest.schedule.learningRate);
  const heldOut = THRESHOLDS.map((_, i) => ({ tp: signed[P + 1 + 4 * i]!, fp: signed[P + 2 + 4 * i]!, tn: signed[P + 3 + 4 * i]!, fn: signed[P + 4 + 4 * i]! }));
  return { sampled, heldOut };
}

/** The round a study publishes: its weights (θ as the sites used them) and decision threshold. */
export interface ChosenRound {
  round: number;
  balancedAccuracy: number;
  threshold: number;
  theta: Float64Array;
}

/**
 * Keeps the round with the best summed held-out balanced accuracy (the earlier one on a tie):
 * selection on the sites' own held-out rows, never on anyone's test rows.
 */
export function keepBest(best: ChosenRound | null, round: number, used: Float64Array, outcome: RoundOutcome): ChosenRound {
  const m = heldOutMetrics(outcome.heldOut, THRESHOLDS);
  return best && best.balancedAccuracy >= m.balancedAccuracy ? best : { round, balancedAccuracy: m.balancedAccuracy, threshold: m.threshold, theta: used };
}
