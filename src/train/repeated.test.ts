import { describe, expect, it } from 'vitest';
import { MODEL_KINDS, type ModelKind, type RepeatedEvaluation, type SplitScores, summarizeSplits, targets, targetsSentence } from './repeated.ts';

/** Splits whose scores are given per model, the same on every metric's scale as the bench records them. */
function evaluation(per: Record<ModelKind, Partial<SplitScores>[]>): Pick<RepeatedEvaluation, 'summary'> {
  const n = per.ternary.length;
  const splits = Array.from({ length: n }, (_, i) => ({
    seed: i + 1,
    seconds: 0,
    scores: Object.fromEntries(MODEL_KINDS.map((k) => [k, { accuracy: 0.7, balancedAccuracy: 0.7, auc: 0.8, brier: 0.15, ...per[k][i] }])) as Record<ModelKind, SplitScores>,
  }));
  return { summary: summarizeSplits(splits) };
}

describe('the targets against the better float baseline (repeated.ts)', () => {
  it('compares with the better float model by mean balanced accuracy, and the Brier score with the MLP', () => {
    // Logistic regression is the better float model here (0.74 against 0.72), so the limits follow it;
    // the Brier limit is always the MLP's + 0.01.
    const e = evaluation({
      logistic: [{ balancedAccuracy: 0.74, auc: 0.84, brier: 0.1 }, { balancedAccuracy: 0.74, auc: 0.84, brier: 0.1 }],
      float: [{ balancedAccuracy: 0.72, auc: 0.9, brier: 0.2 }, { balancedAccuracy: 0.72, auc: 0.9, brier: 0.2 }],
      ternary: [{ balancedAccuracy: 0.735, auc: 0.83, brier: 0.21 }, { balancedAccuracy: 0.7, auc: 0.82, brier: 0.2 }],
    });
    const t = targets(e);
    expect(t.meanBalancedAccuracy).toMatchObject({ limit: expect.closeTo(0.73, 12), met: false });
    expect(t.meanBalancedAccuracy.value).toBeCloseTo(0.7175, 12);
    expect(t.worstBalancedAccuracy).toMatchObject({ value: 0.7, limit: expect.closeTo(0.7, 12), met: true });
    expect(t.meanAuc).toMatchObject({ value: expect.closeTo(0.825, 12), limit: expect.closeTo(0.83, 12), met: false });
    expect(t.meanBrier).toMatchObject({ value: expect.closeTo(0.205, 12), limit: expect.closeTo(0.21, 12), met: true });
    expect(targetsSentence(e)).toBe(
      'mean balanced accuracy 71.8 % against at least 73.0 % (missed); worst split 70.0 % against at least 70.0 % (met); mean AUC 0.825 against at least 0.8300 (missed); mean Brier score 0.205 against at most 0.210 (met): 2 of 4 missed.',
    );
  });

  it('says when all four are met', () => {
    const same = [{ balancedAccuracy: 0.8, auc: 0.9, brier: 0.1 }];
    expect(targetsSentence(evaluation({ logistic: same, float: same, ternary: same }))).toMatch(/: all four met\.$/);
  });
});
