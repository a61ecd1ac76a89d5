import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv.ts';
import { selectFeatures } from './select.ts';

describe('selectFeatures', () => {
  const table = parseCsv('glucose,age,label,extra\n0,50,1,9\n85,,0,9\n', 'pima.csv');

  it('selects features in the requested order with the label', () => {
    expect(selectFeatures(table, { features: ['age', 'glucose'], label: 'label' })).toEqual({ X: [[50, 0], [null, 85]], y: [1, 0] });
  });

  it('reads zeros as missing where the data set says so', () => {
    expect(selectFeatures(table, { features: [{ name: 'glucose' }, 'age'], label: 'label', missingAsZero: ['glucose'] }).X).toEqual([[null, 50], [85, null]]);
  });

  it('names the file and the missing column', () => {
    expect(() => selectFeatures(table, { features: ['age', 'bmi'], label: 'label' })).toThrow('pima.csv, column "bmi": is missing from the header');
    expect(() => selectFeatures(table, { features: ['age'], label: 'outcome' })).toThrow('pima.csv, column "outcome": is missing from the header');
  });

  it('insists on 0/1 labels, naming the line', () => {
    const bad = parseCsv('x,label\n1,0\n2,2\n', 'bad.csv');
    expect(() => selectFeatures(bad, { features: ['x'], label: 'label' })).toThrow('bad.csv row 3, column "label": the label must be 0 or 1, found 2');
    const empty = parseCsv('x,label\n1,\n', 'empty-label.csv');
    expect(() => selectFeatures(empty, { features: ['x'], label: 'label' })).toThrow('empty-label.csv row 2, column "label": the label must be 0 or 1, found an empty cell');
  });
});
