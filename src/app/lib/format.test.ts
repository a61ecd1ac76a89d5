import { describe, expect, it } from 'vitest';
import { calendarDate, per100, percent } from './format.ts';

describe('format', () => {
  it('never shows a risk as a flat 0% or 100%, nor 0 or 100 people in 100', () => {
    expect([0, 0.004, 0.009, 0.01, 0.16, 0.99, 0.994, 0.998, 1].map(percent)).toEqual(['<1%', '<1%', '<1%', '1%', '16%', '99%', '>99%', '>99%', '>99%']);
    expect([0, 0.004, 0.16, 0.995, 1].map(per100)).toEqual(['fewer than 1', 'fewer than 1', 'about 16', 'more than 99', 'more than 99']);
  });

  it('shows FHIR dates as the calendar date written, whatever the time zone', () => {
    const day = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d)).toLocaleDateString(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
    expect(calendarDate('1963-09-27')).toBe(day(1963, 9, 27));
    expect(calendarDate('2021-03-22T00:48:33+00:00')).toBe(day(2021, 3, 22));
    expect(calendarDate('2021-03-21T23:48:33-08:00')).toBe(day(2021, 3, 21));
    expect(calendarDate('1963')).toBe('1963');
    expect(calendarDate('not a date')).toBe('not a date');
  });
});
