/** Small random TernaryNets for tests that need a model but not a trained one. */
import { sealModel, type TernaryModel } from '../../src/core/model/format.ts';

export interface SyntheticOptions {
  /** A linear skip term (output.linear, one integer per feature): the model is then file version 2. */
  linear?: readonly number[];
}

/**
 * A deterministic random model with d features and H hidden units; version 1 (no linear term)
 * unless options give one.
 */
export function syntheticModel(d: number, H: number, seed = 7, id = 'synthetic', options: SyntheticOptions = {}): TernaryModel {
  let s = seed;
  const r = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  return sealModel({
    format: 'cipherclinic/ternarynet',
    version: options.linear ? 2 : 1,
    id,
    title: `Synthetic ${d}×${H}`,
    description: 'random weights for tests',
    classes: ['no', 'yes'],
    features: Array.from({ length: d }, (_, i) => ({ name: `f${i}`, label: `Feature ${i}`, unit: '', min: -10, max: 10, kind: 'number' as const })),
    input: { bits: 4, scale: 2.33, mean: Array(d).fill(0), std: Array(d).fill(1), impute: Array(d).fill(0) },
    hidden: {
      weights: Array.from({ length: H }, () => Array.from({ length: d }, () => (Math.floor(r() * 3) - 1) as -1 | 0 | 1)),
      alpha: Array.from({ length: H }, () => 1 + Math.floor(r() * 3)),
      beta: Array.from({ length: H }, () => Math.floor(r() * 60) - 30),
    },
    output: {
      weights: Array.from({ length: H }, (_, j) => (j % 3 === 2 ? 0 : j % 2 ? -1 : 1) as -1 | 0 | 1),
      scale: 1e-4,
      bias: 0,
      ...(options.linear ? { linear: [...options.linear] } : {}),
    },
  });
}

/**
 * A deterministic linear skip term of d integers whose magnitudes sum to about l1 (each within
 * ±50% of its even share, random signs), with one zero when d > 2 (a feature the term skips).
 */
export function syntheticLinear(d: number, l1: number, seed = 5): number[] {
  let s = seed;
  const r = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const nonzero = d > 2 ? d - 1 : d;
  return Array.from({ length: d }, (_, i) => {
    const m = Math.round((l1 / nonzero) * (0.5 + r()));
    return d > 2 && i === 1 ? 0 : r() < 0.5 ? -m : m;
  });
}

/** Deterministic quantized records for a model. */
export function randomRecords(model: TernaryModel, n: number, seed = 3): Int32Array[] {
  let s = seed;
  const Q = 2 ** (model.input.bits - 1) - 1;
  const r = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  return Array.from({ length: n }, () => Int32Array.from(model.features, () => Math.floor(r() * (2 * Q + 1)) - Q));
}
