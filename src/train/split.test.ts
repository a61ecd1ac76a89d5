import { describe, expect, it } from 'vitest';
import { seededRandom, shuffleInPlace } from './random.ts';
import { DEFAULT_SEED, stratifiedSplit, stratifiedSubsplit } from './split.ts';

const labels = Array.from({ length: 1000 }, (_, i) => (i % 7 === 0 ? 1 : 0)); // 143 positives

describe('stratifiedSplit', () => {
  it('holds out 20 % of each class and partitions the rows', () => {
    const split = stratifiedSplit(labels);
    const positives = (rows: number[]) => rows.filter((r) => labels[r] === 1).length;
    expect(positives(split.test)).toBe(Math.round(143 * 0.2));
    expect(split.test.length - positives(split.test)).toBe(Math.round(857 * 0.2));
    expect([...split.train, ...split.test].sort((a, b) => a - b)).toEqual(labels.map((_, i) => i));
    expect(split.seed).toBe(DEFAULT_SEED);
    expect(split.test).toEqual([...split.test].sort((a, b) => a - b));
  });

  it('is the same for the same seed and different for another', () => {
    expect(stratifiedSplit(labels, { seed: 7 })).toEqual(stratifiedSplit(labels, { seed: 7 }));
    expect(stratifiedSplit(labels, { seed: 8 }).test).not.toEqual(stratifiedSplit(labels, { seed: 7 }).test);
  });

  it('splits a subset into indices of the full data', () => {
    const outer = stratifiedSplit(labels);
    const inner = stratifiedSubsplit(labels, outer.train, { seed: 3 });
    expect([...inner.train, ...inner.test].sort((a, b) => a - b)).toEqual(outer.train);
    expect(inner.test.filter((r) => labels[r] === 1).length).toBe(Math.round(outer.train.filter((r) => labels[r] === 1).length * 0.2));
  });

  it('refuses a test fraction outside (0, 1)', () => {
    expect(() => stratifiedSplit(labels, { testFraction: 1 })).toThrow(RangeError);
  });
});

describe('seededRandom', () => {
  it('repeats its sequence for a seed and shuffles reproducibly', () => {
    const a = seededRandom(1);
    const b = seededRandom(1);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
    expect(shuffleInPlace([1, 2, 3, 4, 5], seededRandom(9))).toEqual(shuffleInPlace([1, 2, 3, 4, 5], seededRandom(9)));
  });
});
