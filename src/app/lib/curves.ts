/**
 * Pictures of a classifier on its held-out rows: the ROC curve (how many with the outcome it
 * flags, against how many without, at every threshold) and the reliability of its risks (the
 * share who had the outcome among rows given about the same risk).
 */
export { FEW_ROWS_PER_BIN, reliabilityBins } from '../../core/metrics.ts';

/** [false-positive rate, true-positive rate] from (0,0) to (1,1), one point per distinct risk. */
export function rocPoints(labels: readonly number[], probabilities: readonly number[]): [number, number][] {
  const positives = labels.filter((y) => y === 1).length;
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) return [];
  const order = probabilities.map((p, i) => [p, labels[i]!] as const).sort((a, b) => b[0] - a[0]);
  const points: [number, number][] = [[0, 0]];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < order.length; i++) {
    if (order[i]![1] === 1) tp++;
    else fp++;
    // Rows with the same risk move together: one step per threshold, not per row.
    if (i === order.length - 1 || order[i + 1]![0] !== order[i]![0]) points.push([fp / negatives, tp / positives]);
  }
  return points;
}
