import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OUTPUT_PER_SIGN } from '../model/budget.ts';
import { parameterCount, ternarize } from './network.ts';

describe('the TernaryNet of private training', () => {
  it(`keeps at most ${OUTPUT_PER_SIGN} output units of each sign, the largest, so the single-record plan keeps its keys`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 1000 }), (hidden, seed) => {
        const shape = { inputs: 3, hidden };
        const theta = Float64Array.from({ length: parameterCount(shape) }, (_, k) => Math.sin(seed * 7.3 + k * 1.7));
        const { outputPattern } = ternarize(theta, shape);
        const output = theta.subarray(hidden * 3 + hidden, hidden * 3 + 2 * hidden);
        for (const sign of [1, -1]) {
          const units = [...outputPattern.keys()].filter((j) => outputPattern[j] === sign);
          const sameSign = [...output.keys()].filter((j) => Math.sign(output[j]!) === sign);
          expect(units.length).toBe(Math.min(OUTPUT_PER_SIGN, sameSign.length));
          // Every unit left out is no larger than every unit kept.
          const smallestKept = Math.min(...units.map((j) => Math.abs(output[j]!)));
          for (const j of sameSign.filter((j) => !units.includes(j))) expect(Math.abs(output[j]!)).toBeLessThanOrEqual(smallestKept);
        }
      }),
    );
  });
});
