/** The lab's words about how models are chosen follow the training code's own counts. */
import { describe, expect, it } from 'vitest';
import { TERNARY_CANDIDATES } from '../../train/qat.ts';
import { RUNS_OF_SEARCH, searchForRuns } from '../../train/search.ts';
import { selectionWords, TERNARY_RESTARTS, TERNARY_RUNS, TERNARY_SETTINGS } from './training-words.ts';

describe('training words', () => {
  it('count the TernaryNet runs, settings and restarts that src/train compares', () => {
    expect(TERNARY_RUNS).toBe(TERNARY_CANDIDATES.length);
    const setting = (c: (typeof TERNARY_CANDIDATES)[number]) => JSON.stringify({ ...c, restart: undefined });
    expect(new Set(TERNARY_CANDIDATES.map(setting)).size).toBe(TERNARY_SETTINGS);
    expect(new Set(TERNARY_CANDIDATES.map((c) => c.restart)).size).toBe(TERNARY_RESTARTS);
    // A spec's `runs: 4` and the lab's "once" take the first four: every setting, once.
    expect(new Set(TERNARY_CANDIDATES.slice(0, TERNARY_SETTINGS).map(setting)).size).toBe(TERNARY_SETTINGS);
    expect(RUNS_OF_SEARCH.once).toBe(TERNARY_SETTINGS);
    expect([1, 4, 8, undefined].map((runs) => searchForRuns(runs))).toEqual(['quick', 'once', 'full', 'full']);
    expect(selectionWords('full')).toContain('trained 8 times (4 settings, each from 2 starting points');
    expect(selectionWords('once')).toContain('trained 4 times (4 settings, each from one starting point');
    expect(selectionWords('full', 2)).toContain('the 2 runs whose integer models have the least loss on the validation rows are summed into one network');
    expect(selectionWords('quick')).toContain('The TernaryNet is trained once');
  });
});
