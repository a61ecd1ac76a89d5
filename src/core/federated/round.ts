/**
 * Where a study stands, as the coordinator tells every site and every person who asks: the
 * round, its step and deadline, and the history of rounds with the privacy spent and the
 * securely aggregated held-out metrics. JSON: small, read by the CLI, the browser lab and the
 * study page alike. The round's weights are a binary message of their own (weights.ts).
 */

export const STUDY_STEPS = ['advertising', 'sharing', 'uploading', 'revealing'] as const;
export type StudyStep = (typeof STUDY_STEPS)[number];
export type StudyState = 'running' | 'done' | 'stopped';

export interface RoundSummary {
  round: number;
  /** Sites at each step: advertised (U₁), shared (U₂), uploaded (U₃). */
  advertised: number[];
  participants: number[];
  survivors: number[];
  /** Participants whose upload never came (their mask keys were reconstructed). */
  dropped: number[];
  outcome: 'done' | 'failed';
  reason?: string;
  /** ε after this round at the manifest's δ (null: no differential privacy). */
  epsilon: number | null;
  /** Records sampled across sites, and held-out metrics from the summed confusion counts. */
  sampled?: number;
  heldOut?: { records: number; accuracy: number; balancedAccuracy: number; auc: number; threshold: number };
  /** Bytes of one masked upload. */
  uploadBytes?: number;
}

export interface StudyStatus {
  federated: 1;
  id: string;
  study: string;
  title: string;
  state: StudyState;
  round: number;
  step: StudyStep;
  /** Epoch milliseconds at which the current step closes. */
  deadline: number;
  sites: { index: number; id: string; name: string }[];
  threshold: number;
  roundsPlanned: number;
  roundsDone: number;
  privacy: { epsilon: number; delta: number; spent: number } | null;
  history: RoundSummary[];
  /** The published model's id once the study is done. */
  model?: string;
  reason?: string;
}

/**
 * Held-out metrics from summed confusion counts at several thresholds: the best balanced
 * accuracy (and its threshold), its accuracy, and the ROC AUC by the trapezoid rule over the
 * thresholds (a slight underestimate of the exact AUC).
 */
export function heldOutMetrics(counts: readonly { tp: number; fp: number; tn: number; fn: number }[], thresholds: readonly number[]): { records: number; accuracy: number; balancedAccuracy: number; auc: number; threshold: number } {
  let best = 0;
  const metrics = counts.map((c) => metricsOf(c));
  metrics.forEach((m, i) => {
    if (m.balancedAccuracy > metrics[best]!.balancedAccuracy) best = i;
  });
  const points = counts.map((c) => [c.fp + c.tn > 0 ? c.fp / (c.fp + c.tn) : 0, c.tp + c.fn > 0 ? c.tp / (c.tp + c.fn) : 0] as const);
  const roc = [[1, 1] as const, ...points, [0, 0] as const].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let auc = 0;
  for (let k = 1; k < roc.length; k++) auc += ((roc[k]![0] - roc[k - 1]![0]) * (roc[k]![1] + roc[k - 1]![1])) / 2;
  return { ...metrics[best]!, auc, threshold: thresholds[best]! };
}

/** Accuracy and balanced accuracy from summed confusion counts. */
export function metricsOf(c: { tp: number; fp: number; tn: number; fn: number }): { records: number; accuracy: number; balancedAccuracy: number } {
  const records = c.tp + c.fp + c.tn + c.fn;
  const sensitivity = c.tp + c.fn > 0 ? c.tp / (c.tp + c.fn) : 0;
  const specificity = c.tn + c.fp > 0 ? c.tn / (c.tn + c.fp) : 0;
  return { records, accuracy: records > 0 ? (c.tp + c.tn) / records : 0, balancedAccuracy: (sensitivity + specificity) / 2 };
}
