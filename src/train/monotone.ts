/**
 * Training that keeps declared monotone constraints (FeatureSpec.monotone), in two parts:
 *
 * 1. A penalty during training. For the network logit = Σ_j v_j (Σ_i W_ij u_i + b_j)² + d on
 *    inputs u in a box, the change of the logit when input k rises by one quantization step δ
 *    is affine in u (core/model/monotone.ts), so its minimum over the whole box is a corner
 *    value computed in closed form. The penalty is a hinge on that minimum falling below a
 *    small margin — over the box, not the training rows — and its gradient flows to the
 *    weights (through the straight-through ternarizer), the biases and the output weights.
 * 2. An exact repair after folding: the integer model is verified (verifyMonotone); while a
 *    constraint fails, one hidden weight of the unit that pulls hardest against it at the
 *    failing corner is set to 0 (see repairMonotone for which; with a linear skip term, its
 *    weight l_k may be the one), and the decoding refitted. Each
 *    repair removes a nonzero weight, so this ends, at worst with the feature having no effect:
 *    a model that breaks a declared constraint is never returned.
 */
import * as tf from '@tensorflow/tfjs';
import type { FeatureSpec, ModelBody } from '../core/model/format.ts';
import { inputBox, verifyMonotone } from '../core/model/monotone.ts';
import { type QuantizedRecord, decodeProbability, referenceScore } from '../core/model/reference.ts';
import { balancedLogLoss } from '../core/metrics.ts';
import { type IntegerLayers, refitDecoding } from './fold.ts';

/** One declared constraint: feature index and +1 (risk must not decrease) or −1. */
export interface MonotoneConstraint {
  index: number;
  sign: 1 | -1;
}

/** The constraints a list of feature specs declares. */
export function constraintsOf(features: readonly FeatureSpec[]): MonotoneConstraint[] {
  return features.flatMap((f, index) => (f.monotone ? [{ index, sign: f.monotone.direction === 'increasing' ? (1 as const) : (-1 as const) }] : []));
}

/** What the penalty needs: constraints, the box in integer steps, and the size of one step. */
export interface MonotoneSetup {
  constraints: MonotoneConstraint[];
  lo: number[];
  hi: number[];
  /** Hinge margin: the least logit change per step (in the direction declared) asked for. */
  margin: number;
  /** Weight of the penalty in the loss. */
  strength: number;
}

export const MONOTONE_DEFAULTS = { margin: 0.002, strength: 5 };

export function monotoneSetup(model: Pick<ModelBody, 'features' | 'input'>, options: Partial<Pick<MonotoneSetup, 'margin' | 'strength'>> = {}): MonotoneSetup | undefined {
  const constraints = constraintsOf(model.features);
  if (!constraints.length) return undefined;
  const { lo, hi } = inputBox(model);
  return { constraints, lo, hi, ...MONOTONE_DEFAULTS, ...options };
}

/**
 * The hinge penalty for logit = Σ_j v_j (Σ_i W_ij x_i + b_j)² + Σ_i λ_i x_i + d, where one step of
 * input k is `step` in x units and the box is lo..hi steps. W: [d, H] effective (ternarized)
 * weights, b: [H], v: [H] effective output weights, λ: [d] or [d, 1] linear skip weights (if
 * any; a step of input k gains step·λ_k everywhere). Inside tf.tidy.
 *
 * All constraints at once, as [K, ·] tensors: the penalty runs at every training step, and a
 * loop over constraints made it most of the TernaryNet's training time (Framingham's seven
 * constraints: 112 of 123 s per model on the cpu backend), each constraint's ops dispatched
 * and differentiated one by one.
 */
export function monotonePenalty(setup: MonotoneSetup, W: tf.Tensor2D, b: tf.Tensor, v: tf.Tensor, step: number, linear?: tf.Tensor): tf.Scalar {
  const { constraints } = setup;
  const K = constraints.length;
  // Row c picks feature k_c: a one-hot product rather than a gather, whose gradient (a segment
  // sum) the wasm backend lacks; products with 0 and 1 are exact, so the values are the same.
  const pick = tf.tensor2d(constraints.map(({ index: k }) => Array.from({ length: W.shape[0] }, (_, i) => (i === k ? 1 : 0))), [K, W.shape[0]]);
  const signedStep = tf.tensor2d(constraints.map((c) => [step * c.sign]), [K, 1]);
  const colK = tf.matMul(pick, W); // [K, H]: row c is feature k_c's weight in every unit
  const g = colK.mul(v.reshape([1, -1])).mul(signedStep); // [K, H]: per unit, signed
  const quadratic = g.mul(colK.mul(step).add(b.reshape([1, -1]).mul(2))).sum(1); // [K]
  const c0 = linear ? quadratic.add(tf.matMul(pick, linear.reshape([-1, 1])).mul(signedStep).reshape([-1])) : quadratic;
  const c = tf.matMul(g.mul(2), W, false, true); // [K, d]: the change's slope in each input
  const lo = tf.tensor2d([setup.lo.map((q) => q * step)], [1, setup.lo.length]);
  // Input k itself can rise by a step only from below its top.
  const hi = tf.tensor2d(constraints.map(({ index: k }) => setup.hi.map((h, i) => (i === k ? h * step - step : h * step))));
  const least = c0.add(tf.minimum(c.mul(lo), c.mul(hi)).sum(1)); // [K]: the least change over the box
  return tf.relu(tf.scalar(setup.margin).sub(least)).sum().mul(setup.strength) as tf.Scalar;
}

/**
 * Makes folded integer layers provably monotone (see the module comment); returns them with
 * the number of weights set to zero. `refit` rows refit the decoding after each change.
 *
 * A failing constraint on feature k names the unit j that pulls hardest against it at the
 * failing corner: its pre-activation takes the wrong sign there. Either W_jk goes (feature k
 * leaves the unit) or another weight W_ji of the unit goes (the unit's range over the box
 * shrinks). With a linear skip term whose l_k pulls the wrong way, setting l_k to 0 is one more
 * candidate (the only one when l_k is what pulls hardest). Each candidate is refitted; among
 * those that raise feature k's margin, the one with the least balanced log-loss on the refit
 * rows is kept — but a constrained feature's last nonzero weight (hidden or linear) is removed
 * only when nothing else helps, so a repair does not silently drop a feature the constraint is
 * about (zeroing W_jk alone once took every age weight of Pima).
 */
export function repairMonotone(
  layers: IntegerLayers,
  model: Pick<ModelBody, 'features' | 'input'>,
  refit: { q: readonly QuantizedRecord[]; labels: readonly number[] },
): { layers: IntegerLayers; repairs: number } {
  let current = layers;
  let repairs = 0;
  const constraints = constraintsOf(model.features);
  const constrained = new Set(constraints.map((c) => c.index));
  for (;;) {
    const report = verifyMonotone({ ...model, ...current });
    const broken = report.checks.find((c) => !c.holds);
    if (!broken) return { layers: current, repairs };
    const H = current.hidden.weights.length;
    const j = broken.unit!;
    const k = broken.index;
    const linear = current.output.linear;
    const sign = constraints.find((c) => c.index === k)!.sign;
    // l_k pulls the wrong way when it lowers the margin: its sign against direction × decoding.
    const linearAgainst = !!linear && linear[k]! * sign * Math.sign(current.output.scale) < 0;
    const candidates: IntegerLayers[] = [];
    if (j < H) {
      const row = current.hidden.weights[j]!;
      if (row[k] === 0) throw new Error(`monotone repair made no progress on feature ${broken.feature}`);
      row.forEach((w, i) => {
        if (w === 0) return;
        const weights = current.hidden.weights.map((r, rj) => (rj === j ? r.map((v, ri) => (ri === i ? 0 : v)) : r.slice()));
        candidates.push({ ...current, hidden: { ...current.hidden, weights } });
      });
    }
    if (linearAgainst) candidates.push({ ...current, output: { ...current.output, linear: linear.map((l, i) => (i === k ? 0 : l)) } });
    if (!candidates.length) throw new Error(`monotone repair made no progress on feature ${broken.feature}`);
    let best: { layers: IntegerLayers; rank: [number, number, number] } | undefined;
    for (const changed of candidates) {
      const candidate = refitDecoding(changed, refit.q, refit.labels);
      const after = verifyMonotone({ ...model, ...candidate }).checks.find((c) => c.index === k)!;
      const removedK = (j < H && changed.hidden.weights[j]![k] === 0) || changed.output.linear?.[k] !== linear?.[k];
      const improves = removedK || after.margin > broken.margin;
      const dropsFeature = [...constrained].some((i) => hasEffect(current, i) && !hasEffect(changed, i));
      const loss = balancedLogLoss(refit.labels, refit.q.map((q) => decodeProbability(candidate.output, referenceScore(candidate, q))));
      // Lexicographic: helps the broken margin, keeps every constrained feature, least loss.
      const rank: [number, number, number] = [improves ? 0 : 1, dropsFeature ? 1 : 0, loss];
      if (!best || rank[0] < best.rank[0] || (rank[0] === best.rank[0] && (rank[1] < best.rank[1] || (rank[1] === best.rank[1] && rank[2] < best.rank[2])))) best = { layers: candidate, rank };
    }
    current = best!.layers;
    repairs++;
  }
}

/** Whether feature i still reaches the output: a nonzero hidden weight in its column or a nonzero skip weight. */
function hasEffect(layers: IntegerLayers, i: number): boolean {
  return layers.hidden.weights.some((r) => r[i] !== 0) || (layers.output.linear?.[i] ?? 0) !== 0;
}
