/**
 * Binary classification metrics over 0/1 labels and positive-class probabilities. Pure and
 * isomorphic: training, the CLI and the screens report the same numbers the same way.
 */

/** Counts of predictions against labels at one threshold. */
export interface ConfusionMatrix {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface Scores {
  accuracy: number;
  balancedAccuracy: number;
  /** Area under the ROC curve; NaN when only one class is present. */
  auc: number;
}

function checkLengths(labels: readonly number[], probabilities: readonly number[]): void {
  if (labels.length !== probabilities.length) throw new RangeError(`${labels.length} labels but ${probabilities.length} probabilities`);
}

/** Confusion matrix; a probability at or above the threshold predicts the positive class. */
export function confusionMatrix(labels: readonly number[], probabilities: readonly number[], threshold = 0.5): ConfusionMatrix {
  checkLengths(labels, probabilities);
  const m: ConfusionMatrix = { tp: 0, fp: 0, tn: 0, fn: 0 };
  labels.forEach((label, i) => {
    const positive = probabilities[i]! >= threshold;
    if (label === 1) positive ? m.tp++ : m.fn++;
    else positive ? m.fp++ : m.tn++;
  });
  return m;
}

/** Fraction of correct predictions; NaN for no data. */
export function accuracy(labels: readonly number[], probabilities: readonly number[], threshold = 0.5): number {
  return accuracyOf(confusionMatrix(labels, probabilities, threshold));
}

function accuracyOf({ tp, fp, tn, fn }: ConfusionMatrix): number {
  return (tp + tn) / (tp + fp + tn + fn);
}

/** Mean of sensitivity and specificity over the classes present (so a rare class counts). */
export function balancedAccuracy(labels: readonly number[], probabilities: readonly number[], threshold = 0.5): number {
  return balancedAccuracyOf(confusionMatrix(labels, probabilities, threshold));
}

function balancedAccuracyOf({ tp, fp, tn, fn }: ConfusionMatrix): number {
  const recalls: number[] = [];
  if (tp + fn > 0) recalls.push(tp / (tp + fn));
  if (tn + fp > 0) recalls.push(tn / (tn + fp));
  return recalls.length ? recalls.reduce((a, b) => a + b, 0) / recalls.length : NaN;
}

/**
 * ROC AUC as the Mann–Whitney statistic: the probability that a random positive scores above
 * a random negative, ties counting one half (average ranks).
 */
export function rocAuc(labels: readonly number[], probabilities: readonly number[]): number {
  checkLengths(labels, probabilities);
  const order = probabilities.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end < order.length && order[end]![0] === order[start]![0]) end++;
    const averageRank = (start + 1 + end) / 2; // ranks start..end-1 are 1-based start+1..end
    for (let k = start; k < end; k++) {
      if (labels[order[k]![1]] === 1) {
        positives++;
        rankSum += averageRank;
      }
    }
    start = end;
  }
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Accuracy, balanced accuracy and AUC in one go. */
export function scoreClassifier(labels: readonly number[], probabilities: readonly number[], threshold = 0.5): Scores {
  const matrix = confusionMatrix(labels, probabilities, threshold);
  return {
    accuracy: accuracyOf(matrix),
    balancedAccuracy: balancedAccuracyOf(matrix),
    auc: rocAuc(labels, probabilities),
  };
}

/**
 * Mean cross-entropy of the probabilities, each class weighted to equal total weight (the
 * training loss); probabilities are clipped away from 0 and 1.
 */
export function balancedLogLoss(labels: readonly number[], probabilities: readonly number[]): number {
  checkLengths(labels, probabilities);
  const positives = labels.filter((l) => l === 1).length;
  const negatives = labels.length - positives;
  let loss = 0;
  labels.forEach((label, i) => {
    const p = Math.min(1 - 1e-12, Math.max(1e-12, probabilities[i]!));
    loss += label === 1 ? -Math.log(p) / (2 * positives) : -Math.log(1 - p) / (2 * negatives);
  });
  return loss;
}

/**
 * Per-row weights that give both classes equal total weight (each class sums to n/2); a class
 * with no rows counts as one row.
 */
export function balancedClassWeights(labels: readonly number[]): number[] {
  const n = labels.length;
  const positives = labels.filter((l) => l === 1).length;
  return labels.map((l) => n / (2 * Math.max(1, l === 1 ? positives : n - positives)));
}

/**
 * Brier score: the mean squared difference between the predicted probability and the 0/1
 * outcome (lower is better; 0.25 for a constant 0.5). Measures calibration and sharpness
 * together, so callers should pass the risk a person is shown, not a class-balanced probability.
 */
export function brierScore(labels: readonly number[], probabilities: readonly number[]): number {
  checkLengths(labels, probabilities);
  if (labels.length === 0) return NaN;
  return labels.reduce((s, label, i) => s + (probabilities[i]! - label) ** 2, 0) / labels.length;
}

/**
 * Rows below which a reliability bin is drawn apart (a hollow dot, left off the line): with fewer
 * than ten rows, one row moves its observed share by more than ten points, so a line through it
 * shows noise as a shape (Framingham's TernaryNet once jumped to 100 % observed from one row).
 */
export const FEW_ROWS_PER_BIN = 10;

/**
 * A reliability diagram's points: rows sorted by predicted probability into `bins` bins of
 * equal width, each with its count, mean prediction and observed share of positives (empty
 * bins are left out).
 */
export function reliabilityBins(labels: readonly number[], probabilities: readonly number[], bins = 10): { count: number; predicted: number; observed: number }[] {
  checkLengths(labels, probabilities);
  const sums = Array.from({ length: bins }, () => ({ count: 0, predicted: 0, observed: 0 }));
  labels.forEach((label, i) => {
    const p = probabilities[i]!;
    const b = sums[Math.min(bins - 1, Math.max(0, Math.floor(p * bins)))]!;
    b.count++;
    b.predicted += p;
    b.observed += label;
  });
  return sums.filter((b) => b.count > 0).map((b) => ({ count: b.count, predicted: b.predicted / b.count, observed: b.observed / b.count }));
}
