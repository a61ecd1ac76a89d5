/**
 * Several trained TernaryNets summed into one. The network's output is
 * y = Σ_j t_j (α_j h_j + β_j)², so the sum of K networks' outputs is exactly the output of one
 * network whose hidden layer holds all their units (rows, α, β and t concatenated): the server
 * computes it as it computes any model, and the decoding is refitted on the summed output
 * exactly as for one network. A member can count m times (its units repeated m times), the only
 * weighting integers allow without touching α. Linear skip terms add up too: the sum's l is
 * Σ_k m_k · (±l_k), a member without one counting as zeros.
 *
 * Each member's decoding slope is made positive first (flipping its t when the refit came out
 * negative), so that every member's risk rises with its y; then a sum of members that are each
 * monotone in a feature is monotone in it too (the minimum of a sum is at least the sum of the
 * minima), and the exact verification of the sum agrees.
 */
import type { QuantizedRecord } from '../core/model/reference.ts';
import { type IntegerLayers, refitDecoding } from './fold.ts';

type Ternary = -1 | 0 | 1;

/** Units of `layers` with a nonzero output weight, repeated `times` times, t flipped if `flip`. */
function unitsOf(layers: IntegerLayers, times: number, flip: boolean): { weights: Ternary[][]; alpha: number[]; beta: number[]; t: Ternary[] } {
  const units = { weights: [] as Ternary[][], alpha: [] as number[], beta: [] as number[], t: [] as Ternary[] };
  for (let copy = 0; copy < times; copy++) {
    layers.output.weights.forEach((t, j) => {
      if (t === 0) return;
      units.weights.push(layers.hidden.weights[j]!.slice());
      units.alpha.push(layers.hidden.alpha[j]!);
      units.beta.push(layers.hidden.beta[j]!);
      units.t.push(flip ? (-t as Ternary) : t);
    });
  }
  return units;
}

/**
 * One network whose output is the sum of the members' outputs (each counted `times[k]` times,
 * default once), its decoding refitted on `refit` rows.
 */
export function sumNetworks(members: readonly IntegerLayers[], refit: { q: readonly QuantizedRecord[]; labels: readonly number[] }, times: readonly number[] = members.map(() => 1)): IntegerLayers {
  if (!members.length) throw new Error('an ensemble needs at least one network');
  const weights: Ternary[][] = [];
  const alpha: number[] = [];
  const beta: number[] = [];
  const output: Ternary[] = [];
  members.forEach((layers, k) => {
    const units = unitsOf(layers, times[k] ?? 1, layers.output.scale < 0);
    weights.push(...units.weights);
    alpha.push(...units.alpha);
    beta.push(...units.beta);
    output.push(...units.t);
  });
  const linear = summedLinear(members, times);
  const decoding = { ...members[0]!.output };
  delete decoding.linear; // the first member's own, replaced by the sum (if any)
  const summed: IntegerLayers = {
    hidden: { weights, alpha, beta },
    output: { ...decoding, weights: output, scale: 1, bias: 0, ...(linear ? { linear } : {}) },
  };
  return refitDecoding(summed, refit.q, refit.labels);
}

/** Σ_k times_k · (±l_k) over the members with a skip term (flipped as their units are); none: undefined. */
function summedLinear(members: readonly IntegerLayers[], times: readonly number[]): number[] | undefined {
  if (!members.some((m) => m.output.linear)) return undefined;
  const d = members[0]!.hidden.weights[0]?.length ?? members.find((m) => m.output.linear)!.output.linear!.length;
  const sum = new Array<number>(d).fill(0);
  members.forEach((layers, k) => {
    const factor = (times[k] ?? 1) * (layers.output.scale < 0 ? -1 : 1);
    layers.output.linear?.forEach((l, i) => {
      sum[i] += factor * l;
    });
  });
  return sum.map((l) => l || 0); // never -0
}

/** Units of each output sign, the count core/model/budget.ts caps per trained run. */
export function outputUnitsPerSign(layers: IntegerLayers): { positive: number; negative: number } {
  const w = layers.output.weights;
  return { positive: w.filter((t) => t > 0).length, negative: w.filter((t) => t < 0).length };
}
