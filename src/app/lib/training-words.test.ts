/** The lab's words about how models are chosen follow the training code's own counts. */
import { describe, expect, it } from 'vitest';
import { TERNARY_CANDIDATES } from '../../train/qat.ts';
import { selectionWords, TERNARY_RESTARTS, TERNARY_RUNS, TERNARY_SETTINGS } from './training-words.ts';

describe('training words', () => {
  it('count the TernaryNet runs, settings and restarts that src/train compares', () => {
    expect(TERNARY_RUNS).toBe(TERNARY_CANDIDATES.length);
    const setting = (c: (typeof TERNARY_CANDIDATES)[number]) => JSON.stringify({ ...c, restart: undefined });
    expect(new Set(TERNARY_CANDIDATES.map(setting)).size).toBe(TERNARY_SETTINGS);
    expect(new Set(TERNARY_CANDIDATES.map((c) => c.restart)).size).toBe(TERNARY_RESTARTS);
    expect(selectionWords('full')).toContain('trained 8 times (4 settings, each from 2 starting points');
    expect(selectionWords('quick')).toContain('The TernaryNet is trained once');
  });
});
