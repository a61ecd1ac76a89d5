/**
 * Exact proof that a model's risk moves the way its feature specs declare (FeatureSpec.monotone).
 *
 * The network is y(q) = Σ_j t_j (α_j h_j + β_j)² + Σ_i l_i q_i, h_j = Σ_i W_ji q_i, on integer
 * inputs q in a box; the risk is increasing in y when output.scale > 0 (decreasing when < 0).
 * Raising input k by one step changes y by
 *
 *   Δ_k(q) = y(q + e_k) − y(q) = Σ_j t_j α_j W_jk (2(α_j h_j + β_j) + α_j W_jk) + l_k
 *          = c_0 + Σ_i c_i q_i,   c_i = 2 Σ_j t_j α_j² W_jk W_ji,
 *                                 c_0 = Σ_j t_j α_j W_jk (2β_j + α_j W_jk) + l_k,
 *
 * an affine function of q (y is quadratic). Its minimum over a box is reached at a corner and
 * is computed exactly — c_0 + Σ_i min(c_i lo_i, c_i hi_i) — in integers. So the check is not a
 * bound but the exact answer: the model is monotone in feature k over the box if and only if
 * that minimum (times the sign of the decoding and of the direction) is ≥ 0. When it fails, the
 * corner is a concrete input whose step lowers the risk, and the unit that pulls it down most
 * is named.
 *
 * The box: every value a card allows for feature i (spec min..max, and the imputed value used
 * for a missing one), quantized as the client does — quantization is non-decreasing, so
 * monotone in q means monotone in the value. Feature k itself steps over q_k ∈ [lo_k, hi_k − 1].
 * For a 0/1 feature the check covers every unit step between q(0) and q(1), which is sufficient.
 */
import type { FeatureSpec, ModelBody } from './format.ts';
import { type QuantizedRecord, quantizeValue, referenceScore } from './reference.ts';

type MonotoneModel = Pick<ModelBody, 'features' | 'input' | 'hidden' | 'output'>;

/** Integer bounds [lo, hi] of each quantized input over the values the card allows. */
export function inputBox(model: Pick<ModelBody, 'features' | 'input'>): { lo: number[]; hi: number[] } {
  const { impute } = model.input;
  const q = (i: number, x: number) => quantizeValue(model.input, i, x);
  const lo: number[] = [];
  const hi: number[] = [];
  model.features.forEach((f, i) => {
    const values = [q(i, f.min), q(i, f.max), q(i, impute[i]!)];
    lo.push(Math.min(...values));
    hi.push(Math.max(...values));
  });
  return { lo, hi };
}

/** The result of checking one declared constraint. */
export interface MonotoneCheck {
  feature: string;
  index: number;
  direction: 'increasing' | 'decreasing';
  /** True when no step of the feature anywhere in the box moves the risk the wrong way. */
  holds: boolean;
  /**
   * The least change of y, in the declared direction (sign of decoding and direction applied),
   * over every unit step in the box: ≥ 0 exactly when the constraint holds.
   */
  margin: number;
  /** Where the margin is reached: the quantized input q before the step (a box corner). */
  at: number[];
  /** y(at + e_k) − y(at): the raw change of the integer output at that corner. */
  delta: number;
  /**
   * The unit contributing the most negative term at `at` (when the constraint fails); the
   * number of hidden units when it is the linear skip term's l_k.
   */
  unit?: number;
}

export interface MonotoneReport {
  holds: boolean;
  checks: MonotoneCheck[];
}

/**
 * Checks one feature k in one direction; `sign` is +1 when the risk must not decrease in k.
 * `terms` holds each unit's signed share of the margin, then the linear term's (index H).
 */
export function stepMargin(model: Pick<ModelBody, 'hidden' | 'output'>, box: { lo: number[]; hi: number[] }, k: number, sign: 1 | -1): { margin: number; at: number[]; terms: number[] } {
  const { weights: W, alpha, beta } = model.hidden;
  const t = model.output.weights;
  const d = box.lo.length;
  const decode = Math.sign(model.output.scale);
  const s = sign * decode; // the sign Δ_k must have
  const c = new Array<number>(d).fill(0);
  const lk = model.output.linear?.[k] ?? 0;
  let c0 = lk;
  W.forEach((row, j) => {
    const a = alpha[j]!;
    const tw = t[j]! * a * row[k]!;
    if (tw === 0) return;
    c0 += tw * (2 * beta[j]! + a * row[k]!);
    row.forEach((w, i) => {
      c[i] += 2 * tw * a * w;
    });
  });
  // Minimize s·Δ_k over the box (feature k steps from lo_k to hi_k − 1).
  const at = box.lo.map((lo, i) => {
    const hi = i === k ? box.hi[i]! - 1 : box.hi[i]!;
    return s * c[i]! >= 0 ? lo : hi;
  });
  if (box.hi[k]! <= box.lo[k]!) return { margin: 0, at: box.lo.slice(), terms: [...W.map(() => 0), 0] }; // the feature cannot move
  const terms = W.map((row, j) => {
    const a = alpha[j]!;
    if (t[j] === 0 || row[k] === 0 || a === 0) return 0;
    let h = 0;
    row.forEach((w, i) => {
      h += w * at[i]!;
    });
    return s * t[j]! * a * row[k]! * (2 * (a * h + beta[j]!) + a * row[k]!);
  });
  terms.push(s * lk);
  const margin = decode === 0 ? 0 : terms.reduce((x, y) => x + y, 0);
  return { margin, at, terms };
}

/** Proves or refutes every declared constraint of a model; see the module comment. */
export function verifyMonotone(model: MonotoneModel): MonotoneReport {
  const box = inputBox(model);
  const checks: MonotoneCheck[] = [];
  model.features.forEach((f: FeatureSpec, k) => {
    if (!f.monotone) return;
    const sign = f.monotone.direction === 'increasing' ? 1 : -1;
    const { margin, at, terms } = stepMargin(model, box, k, sign);
    const holds = margin >= 0;
    const decode = Math.sign(model.output.scale);
    const check: MonotoneCheck = { feature: f.name, index: k, direction: f.monotone.direction, holds, margin, at, delta: decode === 0 ? 0 : (margin * sign) / decode };
    if (!holds) check.unit = terms.reduce((worst, v, j) => (v < terms[worst]! ? j : worst), 0);
    checks.push(check);
  });
  return { holds: checks.every((c) => c.holds), checks };
}

/** Feature values (in the spec's units, within its range; approximate: quantization rounds) of a quantized input. */
export function valuesOf(model: Pick<ModelBody, 'input' | 'features'>, q: readonly number[]): number[] {
  const { mean, std, scale } = model.input;
  return q.map((v, i) => {
    const f = model.features[i]!;
    const x = Math.min(f.max, Math.max(f.min, mean[i]! + (v / scale) * std[i]!));
    return f.kind === 'binary' ? Math.round(x) : x;
  });
}

/** One sentence per broken constraint: feature, direction, unit and the input that breaks it. */
export function describeViolations(model: MonotoneModel, report: MonotoneReport): string[] {
  return report.checks
    .filter((c) => !c.holds)
    .map((c) => {
      const values = valuesOf(model, c.at);
      const input = model.features.map((f, i) => `${f.name}=${c.at[i]} (≈${values[i]!.toPrecision(3)})`).join(', ');
      const units = model.hidden.weights.length;
      const culprit = c.unit === units ? `the linear term ${model.output.linear?.[c.index]} on "${c.feature}" pulls hardest` : `hidden unit ${(c.unit ?? 0) + 1} of ${units}, row ${c.unit} of hidden.weights, pulls hardest`;
      const must = c.direction === 'increasing' ? 'never fall' : 'never rise';
      return `the risk must ${must} as "${c.feature}" rises (declared ${c.direction}), but one step up from q = [${c.at.join(', ')}] moves the integer output by ${c.delta}, the wrong way (${culprit}); that input is ${input}`;
    });
}

/** Thrown when a model declares a monotone constraint it breaks. */
export class MonotoneError extends Error {
  override name = 'MonotoneError';
}

/** What a report's broken constraints say about the model, in one sentence (undefined when all hold). */
export function violationMessage(model: MonotoneModel & { id?: string }, report: MonotoneReport): string | undefined {
  if (report.holds) return undefined;
  return `model ${model.id ?? ''} breaks its declared monotone constraints: ${describeViolations(model, report).join('; ')}`.replace('model  ', 'model ');
}

/** Throws MonotoneError naming the first broken constraints; returns the report when all hold. */
export function assertMonotone(model: MonotoneModel & { id?: string }): MonotoneReport {
  const report = verifyMonotone(model);
  const message = violationMessage(model, report);
  if (message) throw new MonotoneError(message);
  return report;
}

/** How the risk moved, over some records, as one feature swept its range (see sweepCounts). */
export interface SweepCounts {
  /** Records whose risk only rose (at least once, never fell). */
  rises: number;
  /** Records whose risk only fell. */
  falls: number;
  /** Records whose risk rose at some steps and fell at others. */
  both: number;
  /** Records whose risk did not move. */
  flat: number;
}

/**
 * What a clinician's sweep of one value at a time shows for feature k with no declared
 * direction: each record's feature k is stepped through every level of the box (the other
 * values as they are; a yes/no feature only from no to yes, the levels between are no one's)
 * and the plaintext reference score (what the encrypted path computes) says whether the risk
 * rose, fell, both or neither. The decoding's sign turns y into risk.
 */
export function sweepCounts(model: MonotoneModel, records: readonly QuantizedRecord[], k: number, box = inputBox(model)): SweepCounts {
  const f = model.features[k]!;
  const levels = f.kind === 'binary' ? [quantizeValue(model.input, k, f.min), quantizeValue(model.input, k, f.max)] : Array.from({ length: box.hi[k]! - box.lo[k]! + 1 }, (_, i) => box.lo[k]! + i);
  const decode = Math.sign(model.output.scale);
  const counts: SweepCounts = { rises: 0, falls: 0, both: 0, flat: 0 };
  for (const record of records) {
    const q = Int32Array.from(record);
    let up = false;
    let down = false;
    let previous: number | undefined;
    for (const level of levels) {
      q[k] = level;
      const y = referenceScore(model, q) * decode;
      if (previous !== undefined && y > previous) up = true;
      if (previous !== undefined && y < previous) down = true;
      previous = y;
    }
    counts[up && down ? 'both' : up ? 'rises' : down ? 'falls' : 'flat']++;
  }
  return counts;
}

/** How the risk moves along one feature with no declared direction (freeFeatureSweeps). */
export interface FreeFeatureSweep {
  index: number;
  feature: string;
  label: string;
  counts: SweepCounts;
  /** A direction the exact verifier proves over the whole box anyway, if any. */
  proved?: 'increasing' | 'decreasing';
}

/**
 * For each feature with no declared direction: how the risk moves for each of these records as
 * that one value sweeps the card's range (sweepCounts), and any direction proved over the box.
 * What the model reports and the lab show a builder, so that a risk falling where medicine says
 * it rises is seen before the model is published.
 */
export function freeFeatureSweeps(model: MonotoneModel, records: readonly QuantizedRecord[]): FreeFeatureSweep[] {
  const box = inputBox(model);
  return model.features.flatMap((f, k) => {
    if (f.monotone) return [];
    const proved = stepMargin(model, box, k, 1).margin >= 0 ? 'increasing' : stepMargin(model, box, k, -1).margin >= 0 ? 'decreasing' : undefined;
    return [{ index: k, feature: f.name, label: f.label, counts: sweepCounts(model, records, k, box), ...(proved ? { proved } : {}) }];
  });
}
