import { describe, expect, it } from 'vitest';
import { aboutOf } from '../../src/core/model/about.ts';
import { aboutInfo } from './about.ts';

describe('what the builder says the model predicts, and of whom', () => {
  it('becomes training-block entries the card reads', () => {
    const info = aboutInfo({ outcome: ' a positive diabetes test ', who: '768 women aged 21 or more', sex: 'female', ageMin: 21, ageMax: undefined });
    expect(info).toEqual({
      outcome: { risk: 'of a positive diabetes test', expects: 'to have a positive diabetes test', population: '768 women aged 21 or more' },
      population: { who: '768 women aged 21 or more', sex: 'female', age: { min: 21 } },
    });
    expect(aboutOf(info, ['glucose'])).toEqual(info);
  });

  it('leaves out what was left empty', () => {
    expect(aboutInfo({ outcome: 'x', who: ' ', sex: '' })).toEqual({});
    expect(aboutInfo({ outcome: '', who: 'people in Leeds', sex: '' })).toEqual({ population: { who: 'people in Leeds' } });
    expect(aboutInfo(undefined)).toEqual({});
  });
});
