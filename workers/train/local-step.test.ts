/**
 * The browser site's local step on TensorFlow.js (the training worker's `localStep`, here on
 * tfjs's cpu and wasm backends in Node: the same module and the same float32 arithmetic a
 * browser without a GPU runs) against the float64 reference of the command-line site. Its gradients agree to
 * float32 precision; its quantized updates equal the float64 ones except for a measured tiny
 * fraction of coordinates that sit at a rounding boundary; a whole study trained with it reaches
 * the float64 study's held-out accuracy.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { adamState, parameterCount, ternarize } from '../../src/core/federated/network.ts';
import { deriveRng } from '../../src/core/federated/prng.ts';
import { toZ32 } from '../../src/core/federated/quantize.ts';
import { siteDataset, type SiteDataset } from '../../src/core/federated/records.ts';
import { applyRoundSum, classWeights, float64Step, keepBest, shapeOf, siteUpdate, siteUpdateWith, studyInitialParameters, vectorLength, type ChosenRound, type LocalStep } from '../../src/core/federated/update.ts';
import { studyModel } from '../../src/train/federated.ts';
import { framinghamStudy, framinghamTables, scoreModel, type TestStudy } from '../../tests/support/study.ts';
import { tfjsLocalStep } from './local-step.ts';

const ROUNDS = 36;
const siteSeed = (k: number) => new Uint8Array(32).fill(100 + k);

function datasets(study: TestStudy, skew: 'even' | 'age' = 'even'): SiteDataset[] {
  return framinghamTables(study.identities.length, skew).siteTables.map((t, k) => siteDataset(study.manifest, t, new Uint8Array(32).fill(k + 1)));
}

/**
 * The study's arithmetic in process (tests/support/study.ts simulateStudy) with a chosen local
 * step; also counts, round by round, how many coordinates of each site's update differ from the
 * float64 update for the same weights and seed.
 */
async function simulate(study: TestStudy, data: SiteDataset[], step: LocalStep) {
  const { manifest } = study;
  const theta = studyInitialParameters(manifest, study.hash);
  const adam = adamState(theta.length);
  const P = parameterCount(shapeOf(manifest));
  let best: ChosenRound | null = null;
  let compared = 0;
  let differing = 0;
  let largest = 0;
  for (let round = 1; round <= manifest.schedule.rounds; round++) {
    const used = theta.slice();
    const weights = ternarize(theta, shapeOf(manifest));
    const sum = new Uint32Array(vectorLength(manifest));
    for (const [k, d] of data.entries()) {
      const seed = () => deriveRng(siteSeed(k), `site-update/round-${round}`);
      const update = await siteUpdateWith(step, manifest, weights, d.train, d.heldOut, seed());
      const reference = siteUpdate(manifest, weights, d.train, d.heldOut, seed());
      // The counts after the gradient do not depend on the local step: equal, always.
      expect(Array.from(update.subarray(P))).toEqual(Array.from(reference.subarray(P)));
      for (let i = 0; i < P; i++) {
        compared++;
        if (update[i] !== reference[i]) {
          differing++;
          largest = Math.max(largest, Math.abs(update[i]! - reference[i]!));
        }
      }
      const z = toZ32(update);
      for (let i = 0; i < sum.length; i++) sum[i] = (sum[i]! + z[i]!) >>> 0;
    }
    best = keepBest(best, round, used, applyRoundSum(manifest, theta, adam, sum));
  }
  const model = studyModel(manifest, best!.theta, best!.threshold, { study: manifest.id, studyHash: study.hash, sites: data.length, rounds: manifest.schedule.rounds, epsilon: null, delta: null, heldOut: null, selectedRound: best!.round });
  return { model, compared, differing, largest };
}

describe.each(['cpu', 'wasm'] as const)('the local step on TensorFlow.js, %s backend', (backend) => {
  beforeAll(async () => {
    // One thread, as the browser runs it (the app asks for no cross-origin isolation).
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    expect(await tf.setBackend(backend)).toBe(true);
  });

  it('gives each record the float64 gradient to float32 precision', async () => {
    const study = framinghamStudy({ id: 'chd-tfjs-gradients', rounds: 1 });
    const [site] = datasets(study);
    const weights = ternarize(studyInitialParameters(study.manifest, study.hash), shapeOf(study.manifest));
    const [negative, positive] = classWeights(study.manifest);
    const records = { inputs: site!.train.inputs.slice(0, 200), labels: site!.train.labels.slice(0, 200) };
    const recordWeights = Float64Array.from(records.labels, (l) => (l === 1 ? positive : negative));
    const expected = float64Step(weights, records, recordWeights);
    const got = await tfjsLocalStep(weights, records, recordWeights);
    expect(got).toHaveLength(200);
    let worst = 0;
    for (const [k, row] of got.entries()) {
      const ref = expected[k]!;
      expect(row.length).toBe(ref.length);
      let norm = 0;
      for (let i = 0; i < ref.length; i++) norm = Math.max(norm, Math.abs(ref[i]!));
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(row[i]! - ref[i]!) / Math.max(norm, 1e-12));
    }
    console.log(`tfjs ${backend} vs float64 per-record gradients: largest difference ${worst.toExponential(2)} of the record's largest coordinate`);
    expect(worst).toBeLessThan(1e-5);
    // No sampled records, no call and no gradient.
    expect(await siteUpdateWith(() => Promise.reject(new Error('called')), { ...study.manifest, schedule: { ...study.manifest.schedule, samplingRate: 0 } }, weights, site!.train, site!.heldOut, deriveRng(siteSeed(0), 'x'))).toBeInstanceOf(Float64Array);
  });

  it.each(['even', 'age'] as const)('gives the float64 quantized updates except at rounding boundaries, and trains a study to the same accuracy (%s split)', async (skew) => {
    expect(tf.getBackend()).toBe(backend);
    const study = framinghamStudy({ id: `chd-tfjs-${skew}`, rounds: ROUNDS });
    const data = datasets(study, skew);
    const { test } = framinghamTables(5, skew);
    const viaTfjs = await simulate(study, data, tfjsLocalStep);
    const viaFloat64 = await simulate(study, data, float64Step);
    expect(viaFloat64.differing).toBe(0);
    const fraction = viaTfjs.differing / viaTfjs.compared;
    const tfjsScore = scoreModel(viaTfjs.model, test);
    const float64Score = scoreModel(viaFloat64.model, test);
    console.log(
      `${skew} split: quantized updates, tfjs ${backend} vs float64 (5 sites × ${ROUNDS} rounds, ${viaTfjs.compared} gradient coordinates): ${viaTfjs.differing} differ (${(fraction * 100).toFixed(4)} %), by at most ${viaTfjs.largest}; ` +
        `held-out balanced accuracy ${tfjsScore.balancedAccuracy.toFixed(3)} (AUC ${tfjsScore.auc.toFixed(3)}) against ${float64Score.balancedAccuracy.toFixed(3)} (${float64Score.auc.toFixed(3)}); ` +
        `published model ${viaTfjs.model.hash === viaFloat64.model.hash ? 'identical' : 'different'}`,
    );
    expect(fraction).toBeLessThan(1e-3);
    // The rare ±1 can move the discrete choices downstream (the best round, its threshold), so the
    // published model may differ; it must do as well as the float64 study's.
    expect(tfjsScore.auc).toBeGreaterThan(0.6);
    expect(tfjsScore.balancedAccuracy).toBeGreaterThan(float64Score.balancedAccuracy - 0.02);
    expect(tfjsScore.auc).toBeGreaterThan(float64Score.auc - 0.02);
  }, 300_000);
});
