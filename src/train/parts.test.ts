import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ProgressEvent, TERNARY_CANDIDATES, type TrainOptions, trainModel } from './index.ts';
import { trainBaselines } from './parts.ts';
import { syntheticData } from './synthetic.ts';

/** A small nonlinear problem with missing values, as in train.test.ts. */
const data = syntheticData(180, { seed: 23, missingC: 0.1, label: ([a, b, c], noise) => a! - b! * b! + (c ?? 0) + noise > -1 });
const options: TrainOptions = { id: 'parts', title: 'Parts', description: 'A synthetic test model.', classes: ['no', 'yes'], hidden: 3, epochs: 6, seed: 7, inputBits: 5, ternaryCandidates: TERNARY_CANDIDATES.slice(0, 1) };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('trainModel in parts', () => {
  it('gives the same model, metrics and held-out risks with the baselines trained at the same time, elsewhere', async () => {
    const sequential = await trainModel(data, options);
    const tensorsBefore = tf.memory().numTensors;
    // Both parts run at once: their steps interleave on one tfjs, the hardest case for sharing state.
    const events: ProgressEvent[] = [];
    const baselines = trainBaselines(data, { ...options, onProgress: (e) => events.push(e) });
    const parallel = await trainModel(data, { ...options, onProgress: (e) => events.push(e) }, baselines);
    expect(parallel.model.hash).toBe(sequential.model.hash);
    expect(parallel.model).toEqual(sequential.model);
    expect(parallel.metrics).toEqual(sequential.metrics);
    expect(parallel.heldOut).toEqual(sequential.heldOut);
    expect(parallel.model.training?.inputBits).toBe(5);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    // They did interleave: the TernaryNet reported before the baselines were done.
    const firstTernary = events.findIndex((e) => e.phase === 'ternary');
    const lastFloat = events.findLastIndex((e) => e.phase === 'float');
    expect(firstTernary).toBeGreaterThanOrEqual(0);
    expect(firstTernary).toBeLessThan(lastFloat);
  });

  it('fails when the baselines trained elsewhere fail', async () => {
    const failed = Promise.reject(new Error('the baselines stopped'));
    await expect(trainModel(data, { ...options, epochs: 2 }, failed)).rejects.toThrow('the baselines stopped');
  });
});
