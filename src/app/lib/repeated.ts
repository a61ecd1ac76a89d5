/**
 * What the lab draws of a repeated evaluation (workers/train/repeat.ts): one row per model with
 * its balanced accuracy on each split, and the axis of the strip chart. Pure, so it is tested
 * without a browser.
 */
import type { RepeatOutcome } from './train-bridge.ts';

/** The lab offers up to ten splits: the protocol, and ten Framingham trainings are already minutes. */
export const MAX_REPEATS_SHOWN = 10;

type Kind = 'logistic' | 'float' | 'ternary';

const NAMES: Record<Kind, { name: string; short: string; color: string }> = {
  logistic: { name: 'Logistic regression', short: 'Logistic', color: '#8a949c' },
  float: { name: 'Float MLP', short: 'Float MLP', color: '#b36b00' },
  ternary: { name: 'TernaryNet (integers)', short: 'TernaryNet', color: '#0b5c55' },
};

export interface RepeatRow {
  kind: Kind;
  name: string;
  short: string;
  color: string;
  summary: RepeatOutcome['evaluation']['summary'][Kind];
  /** Balanced accuracy on each split, in seed order. */
  values: number[];
}

export function repeatRows(outcome: RepeatOutcome): RepeatRow[] {
  return (['logistic', 'float', 'ternary'] as const).map((kind) => ({
    kind,
    ...NAMES[kind],
    summary: outcome.evaluation.summary[kind],
    values: outcome.evaluation.splits.map((s) => s.scores[kind].balancedAccuracy),
  }));
}

/**
 * The strip chart's x axis: every split's balanced accuracy and the worst-split limit in view,
 * widened to whole 5-point ticks, mapped onto [left, right].
 */
export function stripScale(outcome: RepeatOutcome, left: number, right: number): { x: (v: number) => number; ticks: number[] } {
  const all = repeatRows(outcome).flatMap((r) => r.values);
  const limit = outcome.targets.worstBalancedAccuracy?.limit;
  const shown = limit === undefined ? all : [...all, limit];
  const lo = Math.max(0, Math.floor(Math.min(...shown) * 20) / 20);
  const hi = Math.min(1, Math.max(lo + 0.05, Math.ceil(Math.max(...shown) * 20) / 20));
  const ticks: number[] = [];
  for (let t = lo; t <= hi + 1e-9; t += 0.05) ticks.push(Math.round(t * 100) / 100);
  return { x: (v: number) => left + ((v - lo) / (hi - lo)) * (right - left), ticks };
}
