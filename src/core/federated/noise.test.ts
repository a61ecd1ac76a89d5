import { describe, expect, it } from 'vitest';
import { exampleStudy } from './fixtures.ts';
import { noiseShare, noiseShareLambda, samplePoisson, sampleSkellam } from './noise.ts';
import { deriveRng } from './prng.ts';

function moments(xs: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  const mean = s / xs.length;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i]! - mean) ** 2;
  return { mean, variance: v / (xs.length - 1) };
}

describe('Skellam noise shares', () => {
  it('Poisson variates have mean and variance λ, on both sides of the method switch', () => {
    const rng = deriveRng(new Uint8Array(32), 'poisson');
    for (const lambda of [0.5, 3, 9.9, 10, 37.5, 1000]) {
      const n = 20_000;
      const xs = Float64Array.from({ length: n }, () => samplePoisson(lambda, rng));
      const { mean, variance } = moments(xs);
      // Standard error of the mean √(λ/n); of the variance ≈ λ√(2/n) (plus the excess kurtosis, small).
      expect(Math.abs(mean - lambda)).toBeLessThan(5 * Math.sqrt(lambda / n));
      expect(Math.abs(variance / lambda - 1)).toBeLessThan(5 * Math.sqrt(2 / n) + 5 / Math.sqrt(n * lambda));
      expect(xs.every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
    }
  });

  it('the shares of any h sites add up to the central variance', () => {
    const study = exampleStudy(); // N = 5, t = 3, z = 1.1, C = 1, scale = 64
    const lambda = noiseShareLambda(study.manifest);
    const central = (1.1 * 64) ** 2;
    expect(2 * lambda * study.manifest.threshold).toBeCloseTo(central, 9);
    const rng = deriveRng(new Uint8Array(32), 'shares');
    const sum = new Float64Array(20_000);
    for (let site = 0; site < study.manifest.threshold; site++) {
      const share = noiseShare(sum.length, lambda, rng);
      for (let k = 0; k < sum.length; k++) sum[k]! += share[k]!;
    }
    const { mean, variance } = moments(sum);
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(central / sum.length));
    expect(Math.abs(variance / central - 1)).toBeLessThan(0.05);
    expect(noiseShareLambda({ ...study.manifest, privacy: null })).toBe(0);
  });

  it('is deterministic for a fixed seed', () => {
    const a = noiseShare(64, 812.5, deriveRng(new Uint8Array(32).fill(2), 'noise'));
    const b = noiseShare(64, 812.5, deriveRng(new Uint8Array(32).fill(2), 'noise'));
    expect([...a]).toEqual([...b]);
    expect(sampleSkellam(0, deriveRng(new Uint8Array(32), 'z'))).toBe(0);
  });
});
