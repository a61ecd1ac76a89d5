/**
 * What the lab draws of a repeated evaluation (workers/train/repeat.ts): one row per model with
 * its balanced accuracy on each split, and the axis of the strip chart. Pure, so it is tested
 * without a browser.
 */
import { MODEL_KINDS, MODEL_LOOK, type ModelKind } from './model-words.ts';
import type { RepeatOutcome } from './train-bridge.ts';

/** The lab offers up to ten splits: the protocol, and ten Framingham trainings are already minutes. */
export const MAX_REPEATS_SHOWN = 10;

export interface RepeatRow {
  kind: ModelKind;
  name: string;
  short: string;
  color: string;
  summary: RepeatOutcome['evaluation']['summary'][ModelKind];
  /** Balanced accuracy on each split, in seed order. */
  values: number[];
}

export function repeatRows(outcome: RepeatOutcome): RepeatRow[] {
  return MODEL_KINDS.map((kind) => ({
    kind,
    name: MODEL_LOOK[kind].name,
    short: MODEL_LOOK[kind].short,
    color: MODEL_LOOK[kind].color,
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
  const shown = [...all, outcome.targets.worstBalancedAccuracy.limit];
  const lo = Math.max(0, Math.floor(Math.min(...shown) * 20) / 20);
  const hi = Math.min(1, Math.max(lo + 0.05, Math.ceil(Math.max(...shown) * 20) / 20));
  const ticks: number[] = [];
  for (let t = lo; t <= hi + 1e-9; t += 0.05) ticks.push(Math.round(t * 100) / 100);
  return { x: (v: number) => left + ((v - lo) / (hi - lo)) * (right - left), ticks };
}
