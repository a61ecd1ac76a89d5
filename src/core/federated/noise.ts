/**
 * Each site's share of the distributed noise: per coordinate, Skellam Sk(λ) = Pois(λ) − Pois(λ)
 * (variance 2λ). Sums of independent Skellams are Skellam, so with λ = V/(2h) any h sites'
 * shares add up to exactly Sk(V/2), of variance V: the noise the accountant charges for
 * (Agarwal, Kairouz, Liu, NeurIPS 2021). A round completes only with ≥ t survivors and h ≤ t,
 * so the coordinator always sees at least the full noise.
 *
 * Poisson variates: the multiplication method for λ < 10, Hörmann's PTRS (transformed rejection
 * with squeeze, 1993; NumPy's method) above. Floating-point, deterministic per seed in V8; see
 * docs/federated.md §6.2 for what that does and does not give.
 */
import { noiseSharesOf, type StudyManifest } from './manifest.ts';
import type { ChaChaRng } from './prng.ts';

/** log Γ(x) for x ≥ 1 by the Stirling series (as NumPy's random_loggam). */
function logGamma(x: number): number {
  const a = [8.333333333333333e-2, -2.777777777777778e-3, 7.936507936507937e-4, -5.952380952380952e-4, 8.417508417508418e-4, -1.917526917526918e-3, 6.41025641025641e-3, -2.955065359477124e-2, 1.796443723688307e-1, -1.3924322169059];
  if (x === 1 || x === 2) return 0;
  let x0 = x;
  let n = 0;
  if (x < 7) {
    n = 7 - Math.floor(x);
    x0 = x + n;
  }
  const x2 = 1 / (x0 * x0);
  let gl0 = a[9]!;
  for (let k = 8; k >= 0; k--) gl0 = gl0 * x2 + a[k]!;
  let gl = gl0 / x0 + 0.5 * Math.log(2 * Math.PI) + (x0 - 0.5) * Math.log(x0) - x0;
  if (x < 7) {
    for (let k = 1; k <= n; k++) {
      gl -= Math.log(x0 - 1);
      x0 -= 1;
    }
  }
  return gl;
}

/** One Poisson(λ) variate. */
export function samplePoisson(lambda: number, rng: ChaChaRng): number {
  if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new RangeError(`Poisson mean ${lambda} must be finite and ≥ 0`);
  if (lambda === 0) return 0;
  if (lambda < 10) {
    const limit = Math.exp(-lambda);
    let k = 0;
    let product = rng.float();
    while (product > limit) {
      k++;
      product *= rng.float();
    }
    return k;
  }
  const sqrtLam = Math.sqrt(lambda);
  const logLam = Math.log(lambda);
  const b = 0.931 + 2.53 * sqrtLam;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng.float() - 0.5;
    const v = rng.float();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -lambda + k * logLam - logGamma(k + 1)) return k;
  }
}

/** One symmetric Skellam variate Pois(λ) − Pois(λ), variance 2λ. */
export function sampleSkellam(lambda: number, rng: ChaChaRng): number {
  return samplePoisson(lambda, rng) - samplePoisson(lambda, rng);
}

/**
 * λ of each site's share: V/(2h), V = (z · C · scale)² the central variance in integer units,
 * h = privacy.noiseShares (default t). 0 for a study without differential privacy.
 */
export function noiseShareLambda(manifest: StudyManifest): number {
  if (!manifest.privacy) return 0;
  const sd = manifest.privacy.noiseMultiplier * manifest.update.clip * manifest.update.scale;
  return (sd * sd) / (2 * noiseSharesOf(manifest));
}

/** A site's noise share: `length` Skellam(λ) integers. */
export function noiseShare(length: number, lambda: number, rng: ChaChaRng): Float64Array {
  const out = new Float64Array(length);
  if (lambda === 0) return out;
  for (let k = 0; k < length; k++) out[k] = sampleSkellam(lambda, rng);
  return out;
}
