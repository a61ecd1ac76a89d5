import { describe, expect, it } from 'vitest';
import type { FeatureSpec } from '../../core/model/format.ts';
import { atLeastOf, neededFeatures, shortfallOf } from './minimum.ts';

const feature = (name: string, monotone = false): FeatureSpec => ({
  name, label: name, unit: '', min: 0, max: 10, kind: 'number',
  ...(monotone ? { monotone: { direction: 'increasing' as const, reason: 'r', source: 's' } } : {}),
});
const features = [feature('a', true), feature('b'), feature('c'), feature('d')];

describe('minimum', () => {
  it('without a declaration: the monotone features and half the values', () => {
    expect(neededFeatures(features).map((f) => f.name)).toEqual(['a']);
    expect(atLeastOf(features)).toBe(2);
    expect(shortfallOf(features, [1, 2, null, null])).toBeUndefined();
    expect(shortfallOf(features, [null, 2, 3, null])).toEqual({ missing: [features[0]], present: 2, atLeast: 2 });
  });

  it('a card’s declared minimum wins over the rule', () => {
    const card = { features, minimum: { features: ['b', 'c'], atLeast: 3 } };
    expect(neededFeatures(card).map((f) => f.name)).toEqual(['b', 'c']);
    expect(atLeastOf(card)).toBe(3);
    expect(shortfallOf(card, [null, 2, 3, null])).toEqual({ missing: [], present: 2, atLeast: 3 });
    expect(shortfallOf(card, [null, 2, 3, 4])).toBeUndefined();
  });
});
