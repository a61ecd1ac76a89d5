/**
 * Small seeded problems for the training tests: three features drawn uniformly from [−2, 2]
 * (the third missing with some probability), optionally a binary flag, and a label from a rule
 * plus uniform noise. One home, so that each test says only its rule; the draws are in a fixed
 * order (a row's features, then, after all rows, each row's noise), so a seed gives the same rows.
 */
import type { FeatureSpec } from '../core/model/format.ts';
import { TERNARY_CANDIDATES, type TrainOptions } from './index.ts';
import { seededRandom } from './random.ts';

/** A row's values: a, b, c (null when missing), then the flag (0 or 1) when asked for. */
export type SyntheticRow = (number | null)[];

export interface SyntheticProblem {
  seed: number;
  /** Whether a row is labelled 1, from its values and a noise draw uniform in [−0.5, 0.5). */
  label: (row: SyntheticRow, noise: number) => boolean;
  /** Probability that c is missing (default 0: never, and no draw is spent on it). */
  missingC?: number;
  /** A fourth, binary feature `flag` that no rule needs to use. */
  flag?: boolean;
}

/** `n` rows of the problem with their labels and feature specs. */
export function syntheticData(n: number, { seed, label, missingC = 0, flag = false }: SyntheticProblem): { X: SyntheticRow[]; y: number[]; featureSpecs: FeatureSpec[] } {
  const random = seededRandom(seed);
  const X = Array.from({ length: n }, () => {
    const row: SyntheticRow = [random() * 4 - 2, random() * 4 - 2, missingC > 0 && random() < missingC ? null : random() * 4 - 2];
    if (flag) row.push(random() < 0.5 ? 1 : 0);
    return row;
  });
  const y = X.map((row) => (label(row, random() - 0.5) ? 1 : 0));
  const featureSpecs: FeatureSpec[] = ['a', 'b', 'c'].map((name) => ({ name, label: name.toUpperCase(), unit: '', min: -2, max: 2, kind: 'number' as const }));
  if (flag) featureSpecs.push({ name: 'flag', label: 'Flag', unit: '', min: 0, max: 1, kind: 'binary' });
  return { X, y, featureSpecs };
}

/** A tiny model that trains in a second or two: 4 hidden units, 8 epochs, two ternary runs. */
export const TINY_OPTIONS: TrainOptions = { id: 'tiny', title: 'Tiny', description: 'A synthetic test model.', classes: ['no', 'yes'], hidden: 4, epochs: 8, ternaryCandidates: TERNARY_CANDIDATES.slice(0, 2) };
