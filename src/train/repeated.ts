/**
 * Honest evaluation: one split is one draw, and a model builder who sees one split sees luck.
 * `repeatedEvaluation` trains the three models (logistic regression, float MLP, TernaryNet)
 * on repeated stratified 80/20 splits (seeds 1..N by default: each seed draws its own split
 * and its own inner validation rows) and summarizes every metric over the splits: mean,
 * standard deviation and the worst split.
 *
 * The Brier score is computed on the risk a person is shown — the class-balanced log-odds
 * shifted by the training prior (decodeRisk) — for all three models alike, so that it measures
 * calibration to the population, not to a balanced one.
 */
import { brierScore, scoreClassifier } from '../core/metrics.ts';
import { logistic } from '../core/model/reference.ts';
import { type ModelMetrics, type TrainOptions, type TrainResult, type TrainingData, trainModel } from './index.ts';

export const MODEL_KINDS = ['logistic', 'float', 'ternary'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];
export const METRIC_NAMES = ['accuracy', 'balancedAccuracy', 'auc', 'brier'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** One split's four numbers for one model. */
export type SplitScores = Record<MetricName, number>;

/** A metric over the splits. `worst` is the minimum, except for the Brier score (maximum). */
export interface MetricSummary {
  mean: number;
  sd: number;
  worst: number;
  values: number[];
}

export interface RepeatedEvaluation {
  seeds: number[];
  /** Per model and metric, over the splits. */
  summary: Record<ModelKind, Record<MetricName, MetricSummary>>;
  /** Per split: its seed, and each model's scores. */
  splits: { seed: number; scores: Record<ModelKind, SplitScores>; seconds: number }[];
}

export interface RepeatedOptions {
  /** Number of splits (seeds 1..repeats) unless `seeds` is given. */
  repeats?: number;
  seeds?: number[];
  /** Called after each split, e.g. to print progress. */
  onSplit?: (done: number, total: number, split: RepeatedEvaluation['splits'][number]) => void;
}

/** The risk shown to a person from a class-balanced probability and the training prior. */
export function priorShifted(balanced: number, prior: number): number {
  const p = Math.min(1 - 1e-12, Math.max(1e-12, balanced));
  return logistic(Math.log(p / (1 - p)) + Math.log(prior / (1 - prior)));
}

/** Each model's scores, Brier included, on one trained split's held-out rows. */
export function splitScores(result: TrainResult, y: readonly number[]): Record<ModelKind, SplitScores> {
  const { labels, probabilities } = result.heldOut;
  const prior = result.split.train.reduce((s, r) => s + y[r]!, 0) / result.split.train.length;
  const of = (kind: ModelKind): SplitScores => {
    const p = probabilities[kind];
    return { ...scoreClassifier(labels, p), brier: brierScore(labels, p.map((v) => priorShifted(v, prior))) };
  };
  return { logistic: of('logistic'), float: of('float'), ternary: of('ternary') };
}

export function summarize(values: number[], higherIsBetter: boolean): MetricSummary {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  const worst = higherIsBetter ? Math.min(...values) : Math.max(...values);
  return { mean, sd, worst, values };
}

/** Summaries of per-split scores. */
export function summarizeSplits(splits: RepeatedEvaluation['splits']): RepeatedEvaluation['summary'] {
  const summary = {} as RepeatedEvaluation['summary'];
  for (const kind of MODEL_KINDS) {
    summary[kind] = {} as Record<MetricName, MetricSummary>;
    for (const metric of METRIC_NAMES) summary[kind][metric] = summarize(splits.map((s) => s.scores[kind][metric]), metric !== 'brier');
  }
  return summary;
}

/** Trains on each split and summarizes; see the module comment. */
export async function repeatedEvaluation(data: TrainingData, options: TrainOptions, repeated: RepeatedOptions = {}): Promise<RepeatedEvaluation> {
  const seeds = repeated.seeds ?? Array.from({ length: repeated.repeats ?? 10 }, (_, i) => i + 1);
  const splits: RepeatedEvaluation['splits'] = [];
  for (const seed of seeds) {
    const started = performance.now();
    const result = await trainModel(data, { ...options, seed });
    const split = { seed, scores: splitScores(result, data.y), seconds: (performance.now() - started) / 1000 };
    splits.push(split);
    repeated.onSplit?.(splits.length, seeds.length, split);
  }
  return { seeds, summary: summarizeSplits(splits), splits };
}

/** The better float baseline by mean balanced accuracy, as the targets compare against it. */
export function betterFloat(summary: RepeatedEvaluation['summary']): 'logistic' | 'float' {
  return summary.logistic.balancedAccuracy.mean > summary.float.balancedAccuracy.mean ? 'logistic' : 'float';
}

/** One target: the TernaryNet's value, its limit, and whether it meets it. */
export interface TargetCheck {
  value: number;
  limit: number;
  met: boolean;
}

/**
 * The TernaryNet's targets against the better float baseline (docs/training.md): mean balanced
 * accuracy ≥ its mean − 1 point, worst split ≥ its mean − 4 points, mean AUC ≥ its AUC − 0.01,
 * and mean Brier score ≤ the float MLP's + 0.01.
 */
export function targets(e: Pick<RepeatedEvaluation, 'summary'>): Record<'meanBalancedAccuracy' | 'worstBalancedAccuracy' | 'meanAuc' | 'meanBrier', TargetCheck> {
  const t = e.summary.ternary;
  const b = e.summary[betterFloat(e.summary)];
  const check = (value: number, limit: number, lower = false) => ({ value, limit, met: lower ? value <= limit + 1e-12 : value >= limit - 1e-12 });
  return {
    meanBalancedAccuracy: check(t.balancedAccuracy.mean, b.balancedAccuracy.mean - 0.01),
    worstBalancedAccuracy: check(t.balancedAccuracy.worst, b.balancedAccuracy.mean - 0.04),
    meanAuc: check(t.auc.mean, b.auc.mean - 0.01),
    meanBrier: check(t.brier.mean, e.summary.float.brier.mean + 0.01, true),
  };
}

/** The better float baseline in words, as reports and the CLI name it. */
export function betterFloatName(summary: RepeatedEvaluation['summary']): string {
  return betterFloat(summary) === 'logistic' ? 'logistic regression' : 'the MLP';
}

const percent = (x: number) => `${(100 * x).toFixed(1)} %`;
const fixed = (digits: number) => (x: number) => x.toFixed(digits);

/**
 * How each target reads in a sentence: its words, whether its limit is a floor, and how its value
 * and limit are written (the AUC limit with a fourth decimal: Pima's 0.8211 is not its 0.821).
 */
const TARGET_WORDS: Record<keyof ReturnType<typeof targets>, { words: string; floor: boolean; value: (x: number) => string; limit: (x: number) => string }> = {
  meanBalancedAccuracy: { words: 'mean balanced accuracy', floor: true, value: percent, limit: percent },
  worstBalancedAccuracy: { words: 'worst split', floor: true, value: percent, limit: percent },
  meanAuc: { words: 'mean AUC', floor: true, value: fixed(3), limit: fixed(4) },
  meanBrier: { words: 'mean Brier score', floor: false, value: fixed(3), limit: fixed(3) },
};

/** The targets in a sentence for a report: each value against its limit, met or missed. */
export function targetsSentence(e: Pick<RepeatedEvaluation, 'summary'>): string {
  const checks = Object.entries(targets(e)) as [keyof typeof TARGET_WORDS, TargetCheck][];
  const parts = checks.map(([name, c]) => {
    const w = TARGET_WORDS[name];
    return `${w.words} ${w.value(c.value)} against at ${w.floor ? 'least' : 'most'} ${w.limit(c.limit)} (${c.met ? 'met' : 'missed'})`;
  });
  const missed = checks.filter(([, c]) => !c.met).length;
  return `${parts.join('; ')}: ${missed ? `${missed} of ${checks.length} missed` : 'all four met'}.`;
}

const pct = (x: number) => (100 * x).toFixed(1);

/** Markdown rows: one per model, mean ± sd (worst) of each metric. */
export function repeatedTable(evaluation: RepeatedEvaluation, names: Record<ModelKind, string> = { logistic: 'logistic regression (float)', float: 'MLP (float)', ternary: 'TernaryNet (integers, as encrypted)' }): string[] {
  const cell = (s: MetricSummary, percent: boolean) => (percent ? `${pct(s.mean)} ± ${pct(s.sd)} (${pct(s.worst)})` : `${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)} (${s.worst.toFixed(3)})`);
  return [
    '| model | accuracy % | balanced accuracy % | ROC AUC | Brier score |',
    '|---|---|---|---|---|',
    ...MODEL_KINDS.map((kind) => {
      const s = evaluation.summary[kind];
      return `| ${names[kind]} | ${cell(s.accuracy, true)} | ${cell(s.balancedAccuracy, true)} | ${cell(s.auc, false)} | ${cell(s.brier, false)} |`;
    }),
  ];
}

export type { ModelMetrics };
