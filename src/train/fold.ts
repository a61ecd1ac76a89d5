/**
 * Folding a trained TernaryNet into the integers of the model file:
 *   α_j = round(A · s_j / inputScale) ≥ 0,  β_j = round(A · b_j),  y = Σ t_j (α_j h_j + β_j)²
 * so that y ≈ A² · Σ t_j z_j² and logit = (c / A²) · y + d. A linear skip term λ (logit per
 * standardized input unit, x = q / inputScale) folds into y as l_i = round(λ_i · A² / (c · inputScale)),
 * so that (c / A²) · l_i q_i ≈ λ_i x_i: its weight beside the units depends on c. The global amplification A trades
 * precision of α and β against the output bound, which sets the plain modulus (and with it
 * the HE cost): A is the largest value for which α fits its bits and the bound its limit.
 * The parts it folds and the exact refit of the decoding live here too, so the fine-tune and the
 * monotone repair share them without importing each other.
 */
import type { ModelBody } from '../core/model/format.ts';
import { balancedClassWeights } from '../core/metrics.ts';
import { type QuantizedRecord, logistic, outputBound, referenceScore } from '../core/model/reference.ts';

/** The trained network's ternary parts, read back as plain numbers. */
export interface TernaryParts {
  /** H × d ternary matrix (row j = unit j, as in the model file). */
  pattern: number[][];
  /** Per-unit scale s_j (in standardized input units). */
  unitScale: number[];
  /** Hidden biases b_j. */
  bias: number[];
  /** Ternary output weights t_j. */
  outputPattern: number[];
  /** Output scale c and bias d. */
  outputScale: number;
  outputBias: number;
  /** Linear skip weights λ_i, logit per standardized input unit (absent: no skip term). */
  linear?: number[];
}

/** Encryption-cost limits the folded network must respect. */
export interface FoldLimits {
  /** Largest α_j (e.g. 7: three bits). */
  alphaMax: number;
  /** Largest allowed outputBound (2^21 keeps the plain modulus within 23 bits). */
  boundLimit: number;
}
export const DEFAULT_LIMITS: FoldLimits = { alphaMax: 7, boundLimit: 2 ** 21 };

type Ternary = -1 | 0 | 1;
export type IntegerLayers = Pick<ModelBody, 'hidden' | 'output'>;

const asTernary = (v: number): Ternary => (v > 0 ? 1 : v < 0 ? -1 : 0);

/** Integer layers for amplification A, with hidden biases given in standardized units. */
export function foldLayers(parts: TernaryParts, inputScale: number, A: number, limits: FoldLimits, bias: readonly number[] = parts.bias): IntegerLayers {
  // Units whose output weight is 0 do not count; their α is clamped so they never set A.
  const alpha = parts.unitScale.map((s) => Math.min(limits.alphaMax, Math.round((A * s) / inputScale)));
  return {
    hidden: {
      weights: parts.pattern.map((row) => row.map(asTernary)),
      alpha,
      beta: bias.map((b) => Math.round(A * b)),
    },
    output: {
      weights: parts.outputPattern.map(asTernary),
      scale: parts.outputScale / (A * A),
      bias: parts.outputBias,
      ...(parts.linear ? { linear: foldLinear(parts.linear, parts.outputScale, inputScale, A) } : {}),
    },
  };
}

/**
 * Integer skip weights l_i = round(λ_i · A² / (c · inputScale)). With no output scale to set it
 * against (c = 0: every unit's output weight is zero) y would be the linear term alone, at an
 * arbitrary scale; A² / inputScale is then used (the refit of the decoding finds the slope).
 */
function foldLinear(linear: readonly number[], c: number, inputScale: number, A: number): number[] {
  const per = Math.abs(c) > 1e-9 ? (A * A) / (c * inputScale) : (A * A) / inputScale;
  return linear.map((lambda) => Math.round(lambda * per) || 0); // never -0
}

/** Output bound of folded layers under the model's input quantization. */
export function boundOf(layers: IntegerLayers, input: ModelBody['input']): number {
  return outputBound({ ...layers, input });
}

/**
 * The largest amplification A whose α fit `alphaMax` and whose output bound fits the limit
 * (bisection: the bound grows with A up to rounding).
 */
export function chooseAmplification(parts: TernaryParts, input: ModelBody['input'], limits: FoldLimits): number {
  const largestScale = Math.max(...parts.unitScale.map((s, j) => (parts.outputPattern[j] !== 0 ? s : 0)), 1e-12);
  const fits = (A: number) => {
    const layers = foldLayers(parts, input.scale, A, limits);
    return boundOf(layers, input) <= limits.boundLimit;
  };
  let high = ((limits.alphaMax + 0.49) * input.scale) / largestScale; // the largest α rounds to alphaMax, not past it
  if (fits(high)) return high;
  let low = 0;
  for (let k = 0; k < 60; k++) {
    const mid = (low + high) / 2;
    if (fits(mid)) low = mid;
    else high = mid;
  }
  if (low === 0) throw new Error('no amplification keeps the output bound within its limit; use fewer hidden units or inputs');
  return low;
}

/**
 * Weighted 1-D logistic regression by Newton's method: the output decoding (scale, bias) that
 * best fits the exact integer outputs. `features` should be of order one for conditioning.
 */
export function fitLogistic1d(features: readonly number[], labels: readonly number[], weights: readonly number[], ridge = 1e-6): { slope: number; intercept: number } {
  let slope = 0;
  let intercept = 0;
  for (let iteration = 0; iteration < 100; iteration++) {
    let g0 = ridge * slope, g1 = 0, h00 = ridge, h01 = 0, h11 = 1e-12;
    features.forEach((f, i) => {
      const p = logistic(slope * f + intercept);
      const w = weights[i]!;
      const r = w * (p - labels[i]!);
      const c = w * p * (1 - p);
      g0 += r * f;
      g1 += r;
      h00 += c * f * f;
      h01 += c * f;
      h11 += c;
    });
    const det = h00 * h11 - h01 * h01;
    if (!(Math.abs(det) > 0)) break;
    const step0 = (h11 * g0 - h01 * g1) / det;
    const step1 = (h00 * g1 - h01 * g0) / det;
    slope -= step0;
    intercept -= step1;
    if (Math.abs(step0) + Math.abs(step1) < 1e-12) break;
  }
  return { slope, intercept };
}

/** Refits the output decoding on the exact integer outputs of the training rows. */
export function refitDecoding(layers: IntegerLayers, q: readonly QuantizedRecord[], labels: readonly number[]): IntegerLayers {
  const y = q.map((record) => referenceScore(layers, record));
  const norm = y.reduce((m, v) => Math.max(m, Math.abs(v)), 1); // not Math.max(...y): rows may exceed the argument limit
  const positives = labels.filter((l) => l === 1).length;
  const { slope, intercept } = fitLogistic1d(y.map((v) => v / norm), labels, balancedClassWeights(labels));
  // Balanced weights make the logit read as if half the rows were positive; the prior restores
  // the true share for the risk shown to people (decodeRisk).
  const prior = Math.min(0.999, Math.max(0.001, positives / Math.max(1, labels.length)));
  return { ...layers, output: { ...layers.output, scale: slope / norm, bias: intercept, prior } };
}
