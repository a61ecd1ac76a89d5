import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deriveRng } from './prng.ts';
import { checkHeadroom, clipL2, dequantize, poissonSample, quantizeRecord, roundedL1Bound, roundedL2Bound, toSigned, toZ32 } from './quantize.ts';

describe('quantization of updates', () => {
  it('clips to the L2 norm and leaves short vectors alone', () => {
    const long = clipL2([3, 4], 1);
    expect(Math.hypot(...long)).toBeCloseTo(1, 12);
    expect([...clipL2([0.3, 0.4], 1)]).toEqual([0.3, 0.4]);
  });

  it('rounds every record within the L2 bound Δ₂ and L1 bound Δ₁, unbiased on average', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 1000 }), (g, seed) => {
        const rng = deriveRng(new Uint8Array(32).fill(seed % 256), `q${seed}`);
        const r = quantizeRecord(g, { clip: 1, scale: 20 }, rng);
        const l2 = Math.hypot(...r);
        const bound = roundedL2Bound(1, 20, g.length);
        expect(l2).toBeLessThanOrEqual(bound + 1e-9);
        expect(r.reduce((s, x) => s + Math.abs(x), 0)).toBeLessThanOrEqual(roundedL1Bound(bound, g.length) + 1e-9);
      }),
      { numRuns: 200 },
    );
    // Unbiased: the mean of many roundings of 0.3 · scale is 0.3 · scale.
    const rng = deriveRng(new Uint8Array(32), 'bias');
    let s = 0;
    for (let i = 0; i < 4000; i++) s += quantizeRecord([0.3, 0], { clip: 1, scale: 10 }, rng)[0]!;
    expect(s / 4000).toBeCloseTo(3, 1);
  });

  it('is deterministic for a fixed seed', () => {
    const a = quantizeRecord([0.11, -0.52, 0.93], { clip: 1, scale: 50 }, deriveRng(new Uint8Array(32).fill(7), 'x'));
    const b = quantizeRecord([0.11, -0.52, 0.93], { clip: 1, scale: 50 }, deriveRng(new Uint8Array(32).fill(7), 'x'));
    expect([...a]).toEqual([...b]);
  });

  it('wraps into Z_2^32 and back, negatives as two\'s complement', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })), (v) => {
        expect([...toSigned(toZ32(v))]).toEqual(v);
      }),
    );
    expect([...toZ32([-1, 2 ** 32 + 5])]).toEqual([0xffffffff, 5]);
    expect([...dequantize(toZ32([-64, 32]), 64)]).toEqual([-1, 0.5]);
  });

  it('samples records independently with probability q', () => {
    const picked = poissonSample(100_000, 0.05, deriveRng(new Uint8Array(32), 'sample'));
    expect(Math.abs(picked.length - 5000)).toBeLessThan(4 * Math.sqrt(5000 * 0.95));
    expect(new Set(picked).size).toBe(picked.length);
  });

  it('refuses parameters whose sum could wrap', () => {
    const ok = { sites: 5, recordsPerSite: 1000, samplingRate: 0.05, clip: 1, scale: 64, dimension: 200, noiseVariance: 5000 };
    expect(() => checkHeadroom(ok)).not.toThrow();
    expect(() => checkHeadroom({ ...ok, scale: 1e7 })).toThrow(/2\^31/);
  });
});
