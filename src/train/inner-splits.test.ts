import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { balancedLogLoss } from '../core/metrics.ts';
import type { InputQuantization } from '../core/model/format.ts';
import { type QuantizedRecord, quantizeRecord, referenceScore } from '../core/model/reference.ts';
import { DEFAULT_LIMITS } from './fold.ts';
import { TERNARY_CANDIDATES, trainModel } from './index.ts';
import { prepareRun } from './parts.ts';
import { predictReference } from './predict.ts';
import { type TernaryConfig, type TernaryRuns, trainTernary } from './qat.ts';
import { TINY_OPTIONS, syntheticData } from './synthetic.ts';

/** A small nonlinear problem: the label depends on a + b² − c, with noise. */
const data = syntheticData(200, { seed: 17, label: ([a, b, c], noise) => a! + b! * b! - c! + noise > 1 });
const options = TINY_OPTIONS;

/** The TernaryNet stage alone on the data's default preparation, with K inner splits. */
async function ternaryRuns(innerSplits: number, candidates: readonly TernaryConfig[], ensemble = 1): Promise<{ runs: TernaryRuns; input: InputQuantization; rowsOf: (k: number) => { fitRows: number[]; validationRows: number[]; train: number[] } }> {
  const { prepared, plan } = prepareRun(data, { ...options, seed: 5 });
  try {
    const runs = await trainTernary({ prepared, X: data.X, y: data.y, hidden: plan.hidden, seed: plan.seed, limits: DEFAULT_LIMITS, loop: plan.loop, finetuneEpochs: 4, features: data.featureSpecs, ensemble, innerSplits }, candidates);
    const splits = [0, 1].map((k) => {
      const inner = prepared.innerSplit(k);
      inner.dispose();
      return { fitRows: inner.fitRows, validationRows: inner.validationRows, train: prepared.split.train };
    });
    return { runs, input: prepared.input, rowsOf: (k) => splits[k]! };
  } finally {
    prepared.dispose();
  }
}

const scoreOf = (layers: TernaryRuns['layers'], q: QuantizedRecord) => referenceScore(layers, q);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('TernaryNet runs spread over inner splits', () => {
  it('with one inner split are the procedure with none', async () => {
    const plain = await trainModel(data, { ...options, seed: 3 });
    const one = await trainModel(data, { ...options, seed: 3, innerSplits: 1 });
    expect(one.model.hash).toBe(plain.model.hash);
    expect(one.model.training).not.toHaveProperty('innerSplits');
  });

  it('with two, sum the best run of each split, each validated on its own split', async () => {
    const candidates = TERNARY_CANDIDATES.slice(0, 2);
    const one = await ternaryRuns(1, candidates);
    const two = await ternaryRuns(2, candidates);
    // Split 1 is another stratified 80/20 split of the same training rows.
    const [split0, split1] = [two.rowsOf(0), two.rowsOf(1)];
    expect(split0.validationRows).toEqual(one.rowsOf(0).validationRows);
    expect(split1.validationRows).not.toEqual(split0.validationRows);
    expect([...split1.fitRows, ...split1.validationRows].sort((a, b) => a - b)).toEqual([...split1.train].sort((a, b) => a - b));
    expect(split1.validationRows.filter((r) => split1.fitRows.includes(r))).toEqual([]);
    const positives = (rows: number[]) => rows.filter((r) => data.y[r] === 1).length / rows.length;
    expect(Math.abs(positives(split1.validationRows) - positives(split1.train))).toBeLessThan(0.03);

    // Run 0 trains on split 0 as before; run 1 on split 1, so it is another network.
    expect(two.runs.runs[0]!.layers).toEqual(one.runs.runs[0]!.layers);
    expect(two.runs.runs[1]!.layers).not.toEqual(one.runs.runs[1]!.layers);
    const lossOn = (rows: number[], layers: TernaryRuns['layers']) => balancedLogLoss(rows.map((r) => data.y[r]!), predictReference({ input: two.input, ...layers }, rows.map((r) => data.X[r]!)));
    expect(two.runs.runs[1]!.validationLoss).toBeCloseTo(lossOn(split1.validationRows, two.runs.runs[1]!.layers), 12);

    // The model is the two split winners' sum (each counted with the sign that makes its risk rise with it).
    expect(two.runs.members).toEqual([two.runs.runs[0], two.runs.runs[1]]);
    const active = (layers: TernaryRuns['layers']) => layers.output.weights.filter((t) => t !== 0).length;
    expect(two.runs.layers.hidden.weights).toHaveLength(active(two.runs.runs[0]!.layers) + active(two.runs.runs[1]!.layers));
    const sign = (layers: TernaryRuns['layers']) => Math.sign(layers.output.scale);
    for (const record of data.X.slice(0, 40)) {
      const q = quantizeRecord({ input: two.input }, record);
      expect(scoreOf(two.runs.layers, q)).toBe(two.runs.members.reduce((sum, m) => sum + sign(m.layers) * scoreOf(m.layers, q), 0));
    }
  });

  it('with an ensemble of 2 per split, sum the two best of each split', async () => {
    const candidates = TERNARY_CANDIDATES.slice(0, 4);
    const { runs } = await ternaryRuns(2, candidates, 2);
    expect(runs.members).toHaveLength(4);
    // Split 0 trained candidates 0 and 2, split 1 candidates 1 and 3: each gives both, best first.
    const bySplit = (k: number) => [runs.runs[k]!, runs.runs[k + 2]!].sort((a, b) => a.validationLoss - b.validationLoss);
    expect(runs.members).toEqual([...bySplit(0), ...bySplit(1)]);
  });

  it('are deterministic for a seed, and the model file says how many splits', async () => {
    const first = await trainModel(data, { ...options, seed: 3, innerSplits: 2 });
    const second = await trainModel(data, { ...options, seed: 3, innerSplits: 2 });
    expect(second.model.hash).toBe(first.model.hash);
    expect(first.model.training).toMatchObject({ innerSplits: 2 });
    expect((first.model.training as { ensemble?: unknown[] }).ensemble).toHaveLength(2);
    expect(first.model.hash).not.toBe((await trainModel(data, { ...options, seed: 3 })).model.hash);
    // More splits than candidates: one run per split, and the file says how many were used.
    const capped = await trainModel(data, { ...options, seed: 3, innerSplits: 5 });
    expect(capped.model.training).toMatchObject({ innerSplits: 2 });
    expect(capped.model.hash).toBe(first.model.hash);
  });
});
