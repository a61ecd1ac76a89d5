import { describe, expect, it } from 'vitest';
import type { FeatureSpec } from '../../core/model/format.ts';
import { batchOutside, recordWarning } from './applicability.ts';

const f = (name: string, kind: 'number' | 'binary' = 'number'): FeatureSpec => ({ name, label: name, unit: '', min: 0, max: 120, kind });
const card = { features: [f('male', 'binary'), f('age'), f('bmi')], population: { who: 'women aged 21 to 81', sex: 'female' as const, age: { min: 21, max: 81 } } };

describe('applicability in the app', () => {
  it('counts a batch’s rows outside the population, by reason', () => {
    const rows = [[0, 30, 22], [1, 30, 22], [1, 19, 22], [0, 85, null], [0, null, 30]];
    expect(batchOutside(card, rows)).toEqual({ rows: 3, reasons: [{ reason: 'men', rows: 2 }, { reason: 'younger than 21', rows: 1 }, { reason: 'older than 81', rows: 1 }] });
  });

  it('takes the sex of an imported patient when the values hold none', () => {
    const noSex = { ...card, features: [f('age'), f('bmi')] };
    expect(recordWarning(noSex, [40, 22], { id: 'p', gender: 'male', deceased: false })).toMatch(/^This model learned from women aged 21 to 81; this record is of a man\./);
    expect(recordWarning(noSex, [40, 22], { id: 'p', gender: 'female', deceased: false })).toBeUndefined();
  });
});
