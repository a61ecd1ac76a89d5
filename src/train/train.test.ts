import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { scoreClassifier } from '../core/metrics.ts';
import { parseModel } from '../core/model/format.ts';
import { outputBound, quantizeRecord, referenceScore } from '../core/model/reference.ts';
import { type ProgressEvent, predictReference, trainModel } from './index.ts';
import { TINY_OPTIONS, syntheticData } from './synthetic.ts';

/** A small nonlinear problem: the label depends on x0 + x1² − x2, with noise and missing values. */
const data = syntheticData(200, { seed: 11, missingC: 0.1, flag: true, label: ([a, b, c], noise) => a! + b! * b! - (c ?? 0) + noise > 1 });
const options = TINY_OPTIONS;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('trainModel', () => {
  it('is deterministic: the same seed gives the same model hash', async () => {
    const events: ProgressEvent[] = [];
    const first = await trainModel(data, { ...options, seed: 3, onProgress: (e) => events.push(e) });
    const second = await trainModel(data, { ...options, seed: 3 });
    expect(second.model.hash).toBe(first.model.hash);
    expect(second.metrics).toEqual(first.metrics);

    // Progress: phases in order, epochs only moving forward, each phase ending at its total.
    const phases = [...new Set(events.map((e) => e.phase))];
    expect(phases).toEqual(['logistic', 'float', 'ternary']);
    for (const phase of phases) {
      const ofPhase = events.filter((e) => e.phase === phase);
      ofPhase.slice(1).forEach((e, i) => expect(e.epoch).toBeGreaterThanOrEqual(ofPhase[i]!.epoch));
      expect(ofPhase.at(-1)!.epoch).toBe(ofPhase.at(-1)!.epochs);
      // Runs chosen on validation rows report them each epoch (the lab's curves); only the float
      // baselines' retrain on every training row has none to report.
      const validated = ofPhase.filter((e) => e.validationLoss !== undefined);
      expect(validated.length).toBeGreaterThanOrEqual(phase === 'ternary' ? ofPhase.length : ofPhase.length / 2);
      for (const e of validated) expect(Number.isFinite(e.validationLoss) && e.validationAccuracy! >= 0 && e.validationAccuracy! <= 1).toBe(true);
    }
  });

  it('exports a valid model whose ternary metrics are those of the integer reference on the held-out rows', async () => {
    const tensorsBefore = tf.memory().numTensors;
    // 16 epochs: the kept run fits 128 rows (the validation rows are not trained on), and at 8
    // epochs of 4 steps each its runs stop short of learning the problem (held-out AUC 0.57–0.73).
    const { model, metrics, split, heldOut } = await trainModel(data, { ...options, epochs: 16, seed: 3 });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    const reread = parseModel(JSON.parse(JSON.stringify(model)));
    expect(reread.hash).toBe(model.hash);
    expect(outputBound(model)).toBeLessThanOrEqual(2 ** 21);
    expect(model.hidden.weights).toHaveLength(4);
    expect(model.training?.testRows).toEqual(split.test);
    expect(model.input.impute[2]).toBeTypeOf('number');
    const probabilities = predictReference(model, split.test.map((r) => data.X[r]!));
    expect(scoreClassifier(split.test.map((r) => data.y[r]!), probabilities)).toEqual(metrics.ternary);
    // The held-out predictions it returns are the ones its metrics were scored on.
    expect(heldOut.labels).toEqual(split.test.map((r) => data.y[r]!));
    expect(heldOut.probabilities.ternary).toEqual(probabilities);
    for (const m of ['logistic', 'float', 'ternary'] as const) expect(scoreClassifier(heldOut.labels, heldOut.probabilities[m])).toEqual(metrics[m]);
    expect(metrics.ternary.auc).toBeGreaterThan(0.7);
    const other = await trainModel(data, { ...options, seed: 4 });
    expect(other.model.hash).not.toBe(model.hash);
  });

  it('keeps the validated ternary run: the model of two candidates is that of the chosen one alone', async () => {
    const both = await trainModel(data, { ...options, seed: 5 });
    const chosen = (both.model.training as { ternaryConfig: unknown }).ternaryConfig;
    const index = options.ternaryCandidates!.findIndex((c) => JSON.stringify(c) === JSON.stringify(chosen));
    expect(index).toBeGreaterThanOrEqual(0);
    const alone = await trainModel(data, { ...options, seed: 5, ternaryCandidates: [options.ternaryCandidates![index]!] });
    expect(alone.model.hash).toBe(both.model.hash);
    const other = await trainModel(data, { ...options, seed: 5, ternaryCandidates: [options.ternaryCandidates![1 - index]!] });
    expect(other.model.hash).not.toBe(both.model.hash);
  });

  it('sums its best runs into one network when asked for an ensemble: its output is the runs\' outputs added', async () => {
    const summed = await trainModel(data, { ...options, seed: 5, ensemble: 2 });
    const alone = await Promise.all(options.ternaryCandidates!.map((c) => trainModel(data, { ...options, seed: 5, ternaryCandidates: [c] })));
    const active = (m: (typeof alone)[number]['model']) => m.output.weights.filter((t) => t !== 0).length;
    expect(summed.model.hidden.weights).toHaveLength(active(alone[0]!.model) + active(alone[1]!.model));
    expect((summed.model.training as { ensemble?: unknown[] }).ensemble).toHaveLength(2);
    // Each run's output counts with the sign that makes its risk rise with it.
    const sign = (m: (typeof alone)[number]['model']) => Math.sign(m.output.scale);
    for (const r of summed.split.test) {
      const q = quantizeRecord(summed.model, data.X[r]!);
      expect(referenceScore(summed.model, q)).toBe(sign(alone[0]!.model) * referenceScore(alone[0]!.model, q) + sign(alone[1]!.model) * referenceScore(alone[1]!.model, q));
    }
    expect(summed.model.output.scale).toBeGreaterThan(0);
  });

  it('with a linear skip term writes it into the model file, where the integer reference adds it', async () => {
    const { model, split } = await trainModel(data, { ...options, seed: 3, linear: true });
    const reread = parseModel(JSON.parse(JSON.stringify(model)));
    expect(reread.hash).toBe(model.hash);
    const linear = model.output.linear!;
    expect(linear).toHaveLength(data.featureSpecs.length);
    expect(linear.some((l) => l !== 0)).toBe(true);
    expect(outputBound(model)).toBeLessThanOrEqual(2 ** 21);
    // The skip term is part of y: dropping it changes the integer outputs.
    const without = { ...model, output: { ...model.output, linear: undefined } };
    const changed = split.test.filter((r) => { const q = quantizeRecord(model, data.X[r]!); return referenceScore(model, q) !== referenceScore(without, q); });
    expect(changed.length).toBeGreaterThan(0);
    expect((await trainModel(data, { ...options, seed: 3, linear: true })).model.hash).toBe(model.hash);
    // Written at the oldest version that holds it: 2 with the term, 1 (as before it existed) without.
    expect(model.version).toBe(2);
    const plain = (await trainModel(data, { ...options, seed: 3 })).model;
    expect(plain.output).not.toHaveProperty('linear');
    expect(plain.version).toBe(1);
  });

  it('stops when its signal is aborted, releasing its tensors', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const controller = new AbortController();
    controller.abort();
    await expect(trainModel(data, { ...options, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    const midway = new AbortController();
    const run = trainModel(data, { ...options, signal: midway.signal, onProgress: (e) => e.phase === 'ternary' && midway.abort() });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
