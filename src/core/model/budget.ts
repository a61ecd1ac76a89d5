/**
 * Limits a TernaryNet keeps so that its encryption plan stays inside today's budgets.
 *
 * Every output unit adds to the output bound (the plain modulus t) and to the weight polynomial's
 * l1 norm (the flooding noise of a single-record result, core/he/quadratic.ts), and costs the
 * batch circuit one square. At degree 4096 a single plan has 93 bits for t, the flood and the
 * packing; the default models leave 1–4 of them (bench/lean-results.json). Four units of each sign per trained run was
 * the measured setting when rotations priced each unit (an earlier plan); it is kept as the
 * per-run default, and central and private training both keep at most this many units of each
 * output sign.
 */
export const OUTPUT_PER_SIGN = 4;

/**
 * The cap holds per trained run. A model that sums several runs (a spec's `training.ensemble`,
 * src/train/ensemble.ts) holds up to runs × OUTPUT_PER_SIGN units of each sign: summing is the
 * way past the cap, for encryption plans whose cost does not depend on the hidden width.
 */
export function outputPerSignOfSum(runs: number): number {
  return runs * OUTPUT_PER_SIGN;
}
