/** The lab reads a CSV as the CLI does, except that columns left out may hold text. */
import { describe, expect, it } from 'vitest';
import { inferFeatureSpecs } from '../../src/core/data/infer.ts';
import { parseCsv } from '../../src/core/data/csv.ts';
import { selectFeatures } from '../../src/core/data/select.ts';
import { readDataset } from './dataset.ts';

const bytes = (text: string) => new TextEncoder().encode(text).buffer as ArrayBuffer;

function csv(rows: number, extra = (i: number) => `P${i}`): string {
  const lines = ['id,age,sbp,smoker,label'];
  for (let i = 0; i < rows; i++) lines.push(`${extra(i)},${30 + (i % 40)},${110 + ((i * 7) % 60)},${i % 3 === 0 ? 1 : 0},${i % 2}`);
  return lines.join('\n') + '\n';
}

describe('readDataset', () => {
  it('reads the chosen columns exactly as the CLI reads a numeric file', () => {
    const text = csv(60);
    const lab = readDataset({ name: 'x.csv', bytes: bytes(text), label: 'label', features: ['age', 'sbp', 'smoker'] });
    const numeric = parseCsv(text.replace(/^id,/, '').replace(/\nP\d+,/g, '\n'), 'x.csv');
    const cli = selectFeatures(numeric, { features: ['age', 'sbp', 'smoker'], label: 'label' });
    expect(lab.X).toEqual(cli.X);
    expect(lab.y).toEqual(cli.y);
    expect(lab.featureSpecs).toEqual(inferFeatureSpecs(numeric, ['age', 'sbp', 'smoker']));
  });

  it('says which line and column hold text in a chosen column', () => {
    const text = csv(60).replace('\nP7,37,', '\nP7,thirty,');
    expect(() => readDataset({ name: 'x.csv', bytes: bytes(text), label: 'label', features: ['age', 'sbp'] })).toThrow('x.csv row 9, column "age": "thirty" is not a number');
  });

  it('refuses a label that is not 0/1, too few rows of a class, and a label chosen as a feature', () => {
    expect(() => readDataset({ name: 'x.csv', bytes: bytes(csv(60)), label: 'sbp', features: ['age'] })).toThrow(/must be 0 or 1/);
    expect(() => readDataset({ name: 'x.csv', bytes: bytes(csv(12)), label: 'label', features: ['age'] })).toThrow(/at least 10 of each/);
    expect(() => readDataset({ name: 'x.csv', bytes: bytes(csv(60)), label: 'label', features: ['label', 'age'] })).toThrow(/cannot also be a feature/);
    expect(() => readDataset({ name: 'x.csv', bytes: bytes(csv(60)), label: 'label', features: [] })).toThrow(/at least one feature/);
  });
});
