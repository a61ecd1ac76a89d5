import { describe, expect, it } from 'vitest';
import { OUTPUT_PER_SIGN, outputPerSignOfSum } from '../core/model/budget.ts';
import type { FeatureSpec } from '../core/model/format.ts';
import { verifyMonotone } from '../core/model/monotone.ts';
import { outputBound, referenceScore } from '../core/model/reference.ts';
import { outputUnitsPerSign, sumNetworks } from './ensemble.ts';
import type { IntegerLayers } from './fold.ts';
import { seededRandom } from './random.ts';

type Ternary = -1 | 0 | 1;
const declared = { direction: 'increasing' as const, reason: 'test', source: 'test' };
const features: FeatureSpec[] = ['a', 'b', 'c'].map((name) => ({ name, label: name, unit: '', min: -3, max: 3, kind: 'number' as const, monotone: declared }));
const input = { bits: 3, scale: 1, mean: [0, 0, 0], std: [1, 1, 1], impute: [0, 0, 0] };

/** Two networks each increasing in a, b and c over the box (checked below), one with a zero output weight. */
const first: IntegerLayers = {
  hidden: { weights: [[1, 1, 0], [0, 0, 1], [1, -1, 1]] as Ternary[][], alpha: [2, 3, 1], beta: [20, 15, 4] },
  output: { weights: [1, 1, 0] as Ternary[], scale: 0.01, bias: -2 },
};
const second: IntegerLayers = {
  hidden: { weights: [[1, 0, 1], [0, 1, 0]] as Ternary[][], alpha: [1, 2], beta: [-12, 9] },
  output: { weights: [-1, 1] as Ternary[], scale: 0.02, bias: 1 },
};
/** The same as `second` but decoded with a negative slope: its risk falls as its y rises. */
const flipped: IntegerLayers = {
  hidden: second.hidden,
  output: { weights: [1, -1] as Ternary[], scale: -0.02, bias: 1 },
};

const random = seededRandom(3);
const q = Array.from({ length: 200 }, () => Int32Array.from({ length: 3 }, () => Math.round(random() * 6 - 3)));
const labels = q.map((record) => (record[0]! + record[1]! + record[2]! + random() * 3 > 1.5 ? 1 : 0));

describe('sums of TernaryNets', () => {
  it('are one network whose integer output is the sum of the members', () => {
    const summed = sumNetworks([first, second], { q, labels });
    expect(summed.hidden.weights).toHaveLength(4); // the zero output unit is dropped
    for (const record of q) expect(referenceScore(summed, record)).toBe(referenceScore(first, record) + referenceScore(second, record));
    expect(outputBound({ ...summed, input })).toBe(outputBound({ ...first, input }) + outputBound({ ...second, input }));
    expect(outputUnitsPerSign(summed)).toEqual({ positive: 3, negative: 1 });
    expect(summed.output.scale).toBeGreaterThan(0); // refitted on the rows: risk rises with the summed output
  });

  it('of capped runs hold at most the cap per run of each sign', () => {
    const capped = (sign: Ternary): IntegerLayers => ({
      hidden: { weights: Array.from({ length: OUTPUT_PER_SIGN + 2 }, () => [1, 0, 0] as Ternary[]), alpha: Array(OUTPUT_PER_SIGN + 2).fill(1), beta: Array(OUTPUT_PER_SIGN + 2).fill(5) },
      output: { weights: [...Array(OUTPUT_PER_SIGN).fill(sign), 0, 0] as Ternary[], scale: 0.01, bias: 0 },
    });
    const summed = sumNetworks([capped(1), capped(1), capped(-1)], { q, labels });
    const units = outputUnitsPerSign(summed);
    expect(Math.max(units.positive, units.negative)).toBeLessThanOrEqual(outputPerSignOfSum(3));
    expect(units.positive + units.negative).toBe(3 * OUTPUT_PER_SIGN);
  });

  it('count a member several times by repeating its units', () => {
    const summed = sumNetworks([first, second], { q, labels }, [1, 3]);
    for (const record of q) expect(referenceScore(summed, record)).toBe(referenceScore(first, record) + 3 * referenceScore(second, record));
  });

  it('turn a member with a negative decoding around, so members add risks, not cancel them', () => {
    const summed = sumNetworks([first, flipped], { q, labels });
    for (const record of q) expect(referenceScore(summed, record)).toBe(referenceScore(first, record) - referenceScore(flipped, record));
  });

  it('of monotone members are proven monotone', () => {
    for (const member of [first, second]) expect(verifyMonotone({ features, input, ...member }).holds).toBe(true);
    expect(verifyMonotone({ features, input, ...sumNetworks([first, second], { q, labels }) }).holds).toBe(true);
  });
});

describe('sums of TernaryNets with linear skip terms', () => {
  const withLinear = (layers: IntegerLayers, linear: number[]): IntegerLayers => ({ ...layers, output: { ...layers.output, linear } });

  it('add the members\' skip weights, times their counts, negated for a turned-around member', () => {
    const a = withLinear(first, [3, -1, 0]);
    const b = withLinear(flipped, [2, 5, -4]);
    const summed = sumNetworks([a, b, second], { q, labels }, [2, 1, 3]);
    expect(summed.output.linear).toEqual([2 * 3 - 2, 2 * -1 - 5, 4]); // `second` has none: zeros
    for (const record of q) expect(referenceScore(summed, record)).toBe(2 * referenceScore(a, record) - referenceScore(b, record) + 3 * referenceScore(second, record));
    expect(outputBound({ ...summed, input })).toBeLessThanOrEqual(2 * outputBound({ ...a, input }) + outputBound({ ...b, input }) + 3 * outputBound({ ...second, input }));
  });

  it('have none when no member has one', () => {
    expect(sumNetworks([first, second], { q, labels }).output).not.toHaveProperty('linear');
  });
});
