/**
 * Stratified, seeded train/test split: each class is split in the same proportion, so a rare
 * class (CHD in Framingham: 15 %) is represented in the held-out split as in the data.
 */
import { seededRandom, shuffleInPlace } from './random.ts';

/** The seed the default models use; any fixed number would do. */
export const DEFAULT_SEED = 42;
const DEFAULT_TEST_FRACTION = 0.2;

/** Row indices (0-based, ascending) of each part, and the seed that drew them. */
export interface Split {
  train: number[];
  test: number[];
  seed: number;
}

export interface SplitOptions {
  testFraction?: number;
  seed?: number;
}

/** Splits row indices of 0/1 labels, class by class, with a seeded shuffle. */
export function stratifiedSplit(labels: readonly number[], options: SplitOptions = {}): Split {
  const { testFraction = DEFAULT_TEST_FRACTION, seed = DEFAULT_SEED } = options;
  if (!(testFraction > 0 && testFraction < 1)) throw new RangeError(`testFraction must be between 0 and 1, got ${testFraction}`);
  const random = seededRandom(seed);
  const train: number[] = [];
  const test: number[] = [];
  for (const label of [0, 1]) {
    const rows = shuffleInPlace(labels.flatMap((l, i) => (l === label ? [i] : [])), random);
    const nTest = Math.round(rows.length * testFraction);
    test.push(...rows.slice(0, nTest));
    train.push(...rows.slice(nTest));
  }
  const ascending = (a: number, b: number) => a - b;
  return { train: train.sort(ascending), test: test.sort(ascending), seed };
}

/** Splits a subset (e.g. the training rows) further, returning indices into the full data. */
export function stratifiedSubsplit(labels: readonly number[], rows: readonly number[], options: SplitOptions): Split {
  const inner = stratifiedSplit(rows.map((r) => labels[r]!), options);
  return { train: inner.train.map((i) => rows[i]!), test: inner.test.map((i) => rows[i]!), seed: inner.seed };
}
