/**
 * The held-out numbers the lab shows beside trainModel's metrics: confusion matrices for the
 * ternary network (from the exported integers, through the plaintext reference: exactly what
 * runs encrypted) and for the float baseline.
 */
import { confusionMatrix, type ConfusionMatrix, type Scores } from '../../src/core/metrics.ts';
import type { TernaryModel } from '../../src/core/model/format.ts';
import type { PlainRecord } from '../../src/core/model/reference.ts';
import { predictReference } from '../../src/train/index.ts';

/** The ternary model's confusion matrix on the held-out rows it lists in `training.testRows`. */
export function ternaryConfusion(model: TernaryModel, X: readonly PlainRecord[], y: readonly number[], testRows: readonly number[]): ConfusionMatrix {
  return confusionMatrix(testRows.map((r) => y[r]!), predictReference(model, testRows.map((r) => X[r]!)));
}

/**
 * The confusion matrix that accuracy and balanced accuracy imply on P positive and N negative
 * rows (P ≠ N): tp + tn = acc·(P+N) and tp/P + tn/N = 2·bal have one solution. trainModel
 * reports the float baseline's scores but not its predictions, so this reads the matrix back
 * from them; it returns undefined when the two do not determine it (P = N, or one class absent),
 * and checks that the integers it finds give back both scores.
 */
export function confusionFromScores(scores: Scores, positives: number, negatives: number): ConfusionMatrix | undefined {
  const P = positives;
  const N = negatives;
  if (P === 0 || N === 0 || P === N) return undefined;
  const n = P + N;
  const tp = Math.round((2 * scores.balancedAccuracy - (scores.accuracy * n) / N) / (1 / P - 1 / N));
  const tn = Math.round(scores.accuracy * n) - tp;
  if (tp < 0 || tp > P || tn < 0 || tn > N) return undefined;
  const matrix = { tp, fn: P - tp, tn, fp: N - tn };
  const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;
  if (!close((tp + tn) / n, scores.accuracy) || !close((tp / P + tn / N) / 2, scores.balancedAccuracy)) return undefined;
  return matrix;
}
