/**
 * Limits a TernaryNet keeps so that its encryption plan stays inside today's budgets.
 *
 * The single-record layout folds the hidden units of each output sign in a power-of-two group
 * with log2(group) + 1 rotations (core/he/layout.ts), each needing its own Galois key: a fifth
 * unit of one sign doubles the group and adds a key (Pima's keys grew 2.76 → 3.15 MB). Central
 * training and private training both keep at most this many units of each output sign.
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
