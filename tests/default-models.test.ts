/**
 * Every default model, on its whole held-out split, in both layouts, through real encryption:
 * the decrypted integer equals the plaintext reference for every record. Also checks the
 * accuracy targets the models were trained for, and that the risks shown are calibrated to the
 * prevalence.
 */
import { describe, expect, it } from 'vitest';
import { compilePlan, encryptedScores, LAYOUTS, REQUIRED_MARGIN_BITS } from '../src/core/he/index.ts';
import { decodeProbability, decodeRisk, referenceScore } from '../src/core/model/reference.ts';
import { scoreClassifier } from '../src/core/metrics.ts';
import { defaultModels, heldOut } from './support/defaults.ts';

const models = await defaultModels();

describe.each(models.map((m) => [m.id, m] as const))('%s', (_id, model) => {
  it.each(LAYOUTS)('decrypts to the reference on every held-out record (%s layout)', async (layout) => {
    const { records } = await heldOut(model);
    expect(records.length).toBeGreaterThan(100);
    const plan = await compilePlan(model, layout);
    expect(plan.report.noiseMarginBits).toBeGreaterThanOrEqual(REQUIRED_MARGIN_BITS);
    const run = await encryptedScores(model, plan, records);
    const reference = records.map((q) => referenceScore(model, q));
    const disagreeing = run.scores.filter((y, i) => y !== reference[i]).length;
    expect(disagreeing).toBe(0);
    expect(run.scores).toHaveLength(records.length);
  }, 400_000); // Framingham's 848 single-record round trips take ~35 s alone, longer beside other tests

  it('meets its accuracy targets on the held-out split', async () => {
    const { records, labels } = await heldOut(model);
    const probabilities = records.map((q) => decodeProbability(model.output, referenceScore(model, q)));
    const ternary = scoreClassifier(labels, probabilities);
    const float = (model.training?.metrics as { float: { balancedAccuracy: number } }).float;
    expect(ternary.balancedAccuracy).toBeGreaterThanOrEqual(float.balancedAccuracy - 0.02);
    if (model.id === 'breast-cancer') expect(ternary.accuracy).toBeGreaterThanOrEqual(0.95);
  });

  it('shows risks that average to the held-out prevalence', async () => {
    // Class-balanced training alone would read as if half the people had the condition
    // (Framingham: a mean of 45% against 15% with CHD); the prior brings the mean back.
    const { records, labels } = await heldOut(model);
    const meanRisk = records.reduce((s, q) => s + decodeRisk(model.output, referenceScore(model, q)), 0) / records.length;
    const prevalence = labels.reduce((s, l) => s + l, 0) / labels.length;
    expect(model.output.prior).toBeDefined();
    expect(Math.abs(meanRisk - prevalence)).toBeLessThanOrEqual(0.05);
  });
});
