/**
 * Per-feature input weights (`TrainOptions.inputWeights`). A ternary weight gives every input
 * the same say in a hidden unit, so a unit that adds a strong and a weak feature weighs them
 * alike. Shrinking a feature's quantization step by a weight s_i ≤ 1 (the model's `input.std`
 * becomes std_i / s_i) gives it less say in every unit at once, at the cost of fewer integer
 * levels for that feature; no feature gains levels or clips earlier. The model file needs
 * nothing new: the client quantizes with the model's `input` as always, and the monotone proof
 * and the encryption plan see the same integer box.
 *
 * The weights come from the logistic teacher (teacher.ts) fitted to the fitting rows:
 * s_i = max(floor, (|β_i| / max_k |β_k|)^γ), β its coefficients on standardized inputs. They are
 * fixed before any TernaryNet run, so every run of a sum shares one input quantization.
 */
import type { LoopOptions } from './loop.ts';
import type { PreparedData } from './prepare.ts';
import { fitTeacher } from './teacher.ts';
import { disposeTrainable } from './baselines.ts';

/** How coefficients become weights. */
export interface InputWeighting {
  /** Exponent on the relative coefficient: 0 leaves every weight 1; larger is steeper. */
  gamma: number;
  /** Least weight a feature keeps, in (0, 1]. */
  floor: number;
}

/** s_i = max(floor, (|β_i| / max |β|)^γ); all ones when every coefficient is zero. Throws for a floor outside (0, 1] or a negative γ. */
export function weightsFrom(coefficients: readonly number[], { gamma, floor }: InputWeighting): number[] {
  if (!(floor > 0 && floor <= 1)) throw new RangeError(`the least input weight must be in (0, 1], not ${floor}`);
  if (!(gamma >= 0)) throw new RangeError(`the input weights' exponent must be 0 or more, not ${gamma}`);
  const top = Math.max(0, ...coefficients.map(Math.abs));
  return coefficients.map((c) => (top > 0 ? Math.max(floor, (Math.abs(c) / top) ** gamma) : 1));
}

/** The weights from a logistic teacher fitted to `prepared`'s fitting rows (its validation rows choose the L2 strength). */
export async function teacherInputWeights(prepared: PreparedData, weighting: InputWeighting, seed: number, loop: Omit<LoopOptions, 'phase' | 'validation'>): Promise<number[]> {
  const teacher = await fitTeacher(prepared, seed, loop);
  try {
    return weightsFrom(Array.from(await teacher.coefficients.data()), weighting);
  } finally {
    disposeTrainable(teacher.model);
  }
}
