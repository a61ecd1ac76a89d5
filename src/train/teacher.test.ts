import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { rocAuc } from '../core/metrics.ts';
import { trainModel } from './index.ts';
import { prepareRun } from './parts.ts';
import { distilledTargets } from './teacher.ts';
import { TINY_OPTIONS, syntheticData } from './synthetic.ts';

/** Labels from a noisy linear rule on three features: what a logistic teacher can learn. */
const data = syntheticData(240, { seed: 23, label: ([a, b, c], noise) => 1.5 * a! - b! + 0.3 * c! + 1.5 * noise > 0 });
const options = TINY_OPTIONS;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The targets of inner split 0 at a weight, with the split's labels. */
async function targetsAt(weight: number): Promise<{ targets: number[]; labels: number[] }> {
  // The procedure's 60 epochs: in the 8 the small models below train for, a logistic fit has barely left its initialization.
  const { prepared, plan } = prepareRun(data, { ...options, seed: 4, epochs: 60 });
  const inner = prepared.innerSplit(0);
  try {
    const distilled = await distilledTargets(inner, weight, plan.seed, plan.loop);
    const targets = Array.from(await distilled.y.data());
    distilled.y.dispose();
    expect(distilled.x).toBe(inner.fit.grid.x); // the TernaryNet's own grid inputs, not a copy
    return { targets, labels: inner.fitRows.map((r) => data.y[r]!) };
  } finally {
    inner.dispose();
    prepared.dispose();
  }
}

describe('distillation targets (teacher.ts)', () => {
  it('mix each label with a teacher that has learned the rule', async () => {
    const plain = await targetsAt(0);
    expect(plain.targets).toEqual(plain.labels);
    const teacher = await targetsAt(1);
    expect(teacher.labels).toEqual(plain.labels);
    // Probabilities, not labels, and ones that rank the fitting rows as the rule does.
    expect(teacher.targets.every((p) => p > 0 && p < 1)).toBe(true);
    expect(rocAuc(teacher.labels, teacher.targets)).toBeGreaterThan(0.85);
    const mixed = await targetsAt(0.9);
    mixed.targets.forEach((t, i) => expect(t).toBeCloseTo(0.1 * mixed.labels[i]! + 0.9 * teacher.targets[i]!, 5));
  });

  it('refuses a weight outside [0, 1] by name', async () => {
    await expect(targetsAt(1.5)).rejects.toThrow(/teacher's weight .* between 0 and 1, not 1.5/);
  });

  it('trains a deterministic model that records its teacher, and none without one', async () => {
    const first = await trainModel(data, { ...options, seed: 6, distill: 0.9 });
    const again = await trainModel(data, { ...options, seed: 6, distill: 0.9 });
    expect(again.model.hash).toBe(first.model.hash);
    expect(first.model.training).toMatchObject({ distill: { teacher: 'logistic regression', weight: 0.9 } });
    const plain = await trainModel(data, { ...options, seed: 6 });
    expect(plain.model.training).not.toHaveProperty('distill');
    expect(plain.model.hash).not.toBe(first.model.hash);
    expect((await trainModel(data, { ...options, seed: 6, distill: 0 })).model.hash).toBe(plain.model.hash);
  });
});
