import { describe, expect, it } from 'vitest';
import { directionNote } from './direction.ts';

describe('directionNote', () => {
  const label = 'Systolic blood pressure';
  it('says what a declared direction guarantees, and why', () => {
    const note = directionNote({ label, monotone: { direction: 'increasing', reason: 'Higher pressure damages arteries.', source: 'a guideline' } });
    expect(note).toBe('Proved for this model, for every combination of values: the risk never falls as Systolic blood pressure rises. Why: Higher pressure damages arteries.');
    expect(directionNote({ label: 'Albumin', monotone: { direction: 'decreasing', reason: 'Low albumin marks a failing liver.', source: 's' } })).toContain('the risk never rises as Albumin rises');
  });
  it('says plainly when nothing holds the direction', () => {
    expect(directionNote({ label })).toBe('No direction is declared for Systolic blood pressure: this curve moves the way the training data taught the model.');
  });
});
