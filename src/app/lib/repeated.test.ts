import { describe, expect, it } from 'vitest';
import { repeatRows, stripScale } from './repeated.ts';
import type { RepeatOutcome } from './train-bridge.ts';

/** A repeated evaluation of three splits with the given balanced accuracies per model. */
function outcomeWith(values: Record<'logistic' | 'float' | 'ternary', number[]>, limit: number): RepeatOutcome {
  const summary = (v: number[]) => {
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const s = { mean, sd: 0, worst: Math.min(...v), values: v };
    return { accuracy: s, balancedAccuracy: s, auc: s, brier: s };
  };
  const seeds = values.logistic.map((_, i) => i + 1);
  return {
    backend: { name: 'wasm', reason: '' },
    evaluation: {
      seeds,
      summary: { logistic: summary(values.logistic), float: summary(values.float), ternary: summary(values.ternary) },
      splits: seeds.map((seed, i) => ({
        seed,
        seconds: 1,
        scores: Object.fromEntries((['logistic', 'float', 'ternary'] as const).map((k) => [k, { accuracy: 0, balancedAccuracy: values[k][i]!, auc: 0, brier: 0 }])) as RepeatOutcome['evaluation']['splits'][number]['scores'],
      })),
    },
    better: 'logistic',
    targets: { worstBalancedAccuracy: { value: Math.min(...values.ternary), limit, met: Math.min(...values.ternary) >= limit } },
    sentence: '',
    totalMs: 0,
  } as unknown as RepeatOutcome;
}

describe('repeated splits, as the lab draws them', () => {
  const outcome = outcomeWith({ logistic: [0.71, 0.66, 0.75], float: [0.7, 0.62, 0.74], ternary: [0.72, 0.6, 0.77] }, 0.67);

  it('gives each model its balanced accuracy on each split, in seed order', () => {
    const rows = repeatRows(outcome);
    expect(rows.map((r) => r.kind)).toEqual(['logistic', 'float', 'ternary']);
    expect(rows[2]!.values).toEqual([0.72, 0.6, 0.77]);
  });

  it('puts every split and the worst-split limit inside the axis, on whole 5-point ticks', () => {
    const { x, ticks } = stripScale(outcome, 100, 400);
    expect(ticks[0]).toBe(0.6);
    expect(ticks.at(-1)).toBe(0.8);
    for (const t of ticks) expect(Math.round(t * 1000) % 50).toBe(0);
    for (const v of [...repeatRows(outcome).flatMap((r) => r.values), 0.67]) {
      expect(x(v)).toBeGreaterThanOrEqual(100);
      expect(x(v)).toBeLessThanOrEqual(400);
    }
    expect(x(0.6)).toBe(100);
    expect(x(0.8)).toBeCloseTo(400, 9);
  });

  it('keeps a limit above every split in view', () => {
    const { x, ticks } = stripScale(outcomeWith({ logistic: [0.9, 0.91], float: [0.9, 0.92], ternary: [0.9, 0.9] }, 0.96), 0, 100);
    expect(ticks.at(-1)).toBe(1);
    expect(x(0.96)).toBeLessThanOrEqual(100);
  });
});
