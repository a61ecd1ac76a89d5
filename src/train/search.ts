/**
 * The lab's "Ternary settings compared" and the TernaryNet runs each trains (trainModel's `runs`:
 * the first N of TERNARY_CANDIDATES, whose first four are each configuration once). One table
 * for the worker (setting → runs) and the page (a spec's runs → setting); no TensorFlow.js here,
 * so the page can import it.
 */
export type TernarySearch = 'full' | 'once' | 'quick';

/** Runs each setting trains; undefined: all of TERNARY_CANDIDATES. */
export const RUNS_OF_SEARCH: Record<TernarySearch, number | undefined> = { full: undefined, once: 4, quick: 1 };

/** The setting that trains a spec's `runs` (1, 4 or 8; absent or 8: all). */
export function searchForRuns(runs?: number): TernarySearch {
  return (Object.keys(RUNS_OF_SEARCH) as TernarySearch[]).find((s) => RUNS_OF_SEARCH[s] === runs) ?? 'full';
}
