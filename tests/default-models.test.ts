/**
 * Every default model, on its whole held-out split, in both layouts, through real encryption:
 * the decrypted integer equals the plaintext reference for every record. Also checks the
 * accuracy targets the models were trained for, and that the risks shown are calibrated to the
 * prevalence.
 */
import { describe, expect, it } from 'vitest';
import { compilePlan, encryptedScores, FLOODED_MARGIN_BITS, LAYOUTS, REQUIRED_MARGIN_BITS, SINGLE_TARGETS } from '../src/core/he/index.ts';
import { decodeProbability, decodeRisk, quantizeRecord, referenceScore } from '../src/core/model/reference.ts';
import { describeViolations, inputBox, verifyMonotone } from '../src/core/model/monotone.ts';
import { scoreClassifier } from '../src/core/metrics.ts';
import { defaultModels, heldOut } from './support/defaults.ts';
import { type RepeatedEvaluation, betterFloat } from '../src/train/repeated.ts';
import { readFile } from 'node:fs/promises';

const models = await defaultModels();
const benchResults = await readFile(new URL('../bench/training-results.json', import.meta.url), 'utf8').then(
  (text) => (JSON.parse(text) as { results: Record<string, Pick<RepeatedEvaluation, 'summary'>> }).results,
  () => undefined,
);

describe.each(models.map((m) => [m.id, m] as const))('%s', (_id, model) => {
  it.each(LAYOUTS)('decrypts to the reference on every held-out record (%s layout)', async (layout) => {
    const { records } = await heldOut(model);
    expect(records.length).toBeGreaterThan(100);
    const plan = await compilePlan(model, layout);
    expect(plan.report.noiseMarginBits).toBeGreaterThanOrEqual(layout === 'single' ? FLOODED_MARGIN_BITS : REQUIRED_MARGIN_BITS);
    expect(plan.galoisSteps).toEqual([]);
    if (layout === 'single') {
      // A patient's request: one plaintext product, the public key only, within the size targets.
      expect(plan.keys).toEqual({ relin: false, publicKey: true });
      expect(plan.params.polyModulusDegree).toBe(4096);
      expect(plan.report.uploadBytesPerInput).toBeLessThanOrEqual(SINGLE_TARGETS.uploadBytes);
      expect(plan.report.downloadBytesPerResult).toBeLessThanOrEqual(SINGLE_TARGETS.downloadBytes);
      expect(plan.report.evaluationKeyBytes).toBeLessThanOrEqual(SINGLE_TARGETS.evaluationKeyBytes);
    }
    const run = await encryptedScores(model, plan, records);
    const reference = records.map((q) => referenceScore(model, q));
    const disagreeing = run.scores.filter((y, i) => y !== reference[i]).length;
    expect(disagreeing).toBe(0);
    expect(run.scores).toHaveLength(records.length);
  }, 400_000); // Framingham's 848 batch records at BGV n = 4096 and 25 fully packed single round trips

  it('meets its accuracy targets on the held-out split', async () => {
    const { records, labels } = await heldOut(model);
    const probabilities = records.map((q) => decodeProbability(model.output, referenceScore(model, q)));
    const ternary = scoreClassifier(labels, probabilities);
    // One split is luck either way (issue 11): where bench/training.ts has the ten-split table,
    // this split is held to the worst-split target (the better float baseline's mean
    // − 4 points); without it, to the float MLP on this same split − 2 points.
    const repeated = benchResults?.[model.id];
    if (repeated) expect(ternary.balancedAccuracy).toBeGreaterThanOrEqual(repeated.summary[betterFloat(repeated.summary)].balancedAccuracy.mean - 0.04);
    else expect(ternary.balancedAccuracy).toBeGreaterThanOrEqual((model.training?.metrics as { float: { balancedAccuracy: number } }).float.balancedAccuracy - 0.02);
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

/**
 * Declared monotone constraints, checked the slow way as well as proved: for 1,000 random
 * records per model (values drawn within the card's ranges, some missing), each constrained
 * feature is swept across its whole range, and the risk shown must never move the wrong way —
 * in plaintext through the reference for every value on a fine grid, and under real
 * encryption (batch layout) for every quantization level the feature can take.
 */
describe.each(models.filter((m) => m.features.some((f) => f.monotone)).map((m) => [m.id, m] as const))('%s: monotone constraints', (_id, model) => {
  const constrained = model.features.flatMap((f, k) => (f.monotone ? [{ f, k, sign: f.monotone.direction === 'increasing' ? 1 : -1 }] : []));
  let s = 12345;
  const rand = () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
  const records: (number | null)[][] = Array.from({ length: 1000 }, () =>
    model.features.map((f) => (rand() < 0.05 ? null : f.kind === 'binary' ? (rand() < 0.5 ? 0 : 1) : f.min + rand() * (f.max - f.min))),
  );

  it('is proved by the exact verifier', () => {
    const report = verifyMonotone(model);
    expect(report.checks.map((c) => c.feature)).toEqual(constrained.map((c) => c.f.name));
    expect(describeViolations(model, report)).toEqual([]);
  });

  it.each(constrained.map((c) => [c.f.name, c] as const))('the risk never moves the wrong way as %s sweeps its range (plaintext, 1,000 records)', (_name, { f, k, sign }) => {
    const steps = f.kind === 'binary' ? [0, 1] : Array.from({ length: 201 }, (_, i) => f.min + ((f.max - f.min) * i) / 200);
    let wrong = 0;
    for (const record of records) {
      let last = -Infinity;
      for (const v of steps) {
        const x = record.slice();
        x[k] = v;
        const risk = sign * decodeRisk(model.output, referenceScore(model, quantizeRecord(model, x)));
        if (risk < last) wrong++;
        last = risk;
      }
    }
    expect(wrong).toBe(0);
  });

  it('the decrypted scores never move the wrong way along any constrained feature (batch layout, 1,000 records)', async () => {
    const plan = await compilePlan(model, 'batch');
    const { lo, hi } = inputBox(model);
    const base = records.map((r) => quantizeRecord(model, r));
    const swept: Int32Array[] = [];
    const index: { k: number; level: number; record: number }[] = [];
    for (const { k } of constrained) {
      for (let level = lo[k]!; level <= hi[k]!; level++) {
        base.forEach((q, record) => {
          const x = Int32Array.from(q);
          x[k] = level;
          swept.push(x);
          index.push({ k, level, record });
        });
      }
    }
    const run = await encryptedScores(model, plan, swept);
    const reference = swept.map((q) => referenceScore(model, q));
    expect(run.scores.filter((y, i) => y !== reference[i]).length).toBe(0);
    const decodeSign = Math.sign(model.output.scale);
    let wrong = 0;
    const last = new Map<string, number>();
    run.scores.forEach((y, i) => {
      const { k, record } = index[i]!;
      const sign = constrained.find((c) => c.k === k)!.sign * decodeSign;
      const key = `${k}:${record}`;
      const previous = last.get(key);
      if (previous !== undefined && sign * y < previous) wrong++;
      last.set(key, sign * y);
    });
    expect(wrong).toBe(0);
  }, 400_000);
});
