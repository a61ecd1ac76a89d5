/** The lab reads a CSV as the CLI does, except that columns left out may hold text. */
import { describe, expect, it } from 'vitest';
import { inferFeatureSpecs } from '../../src/core/data/infer.ts';
import { parseCsv } from '../../src/core/data/csv.ts';
import { selectFeatures } from '../../src/core/data/select.ts';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { repoRoot, sharedDataDir } from '../../src/cli/paths.ts';
import { parseDatasetSpec } from '../../src/core/data/spec.ts';
import { applyEdit, BUILDER_SOURCE, readDataset } from './dataset.ts';

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

describe("a default model's data set", () => {
  it("reads like `cipherclinic train --spec`: the spec's features and unmeasured zeros; a direction only as an edit", async () => {
    const spec = parseDatasetSpec(JSON.parse(await readFile(resolve(repoRoot, 'models/specs/pima-diabetes.json'), 'utf8')));
    const text = await readFile(resolve(sharedDataDir(), spec.data), 'utf8');
    const features = spec.features.map((f) => f.name);
    const edits = spec.features.flatMap((f) => (f.monotone ? [{ name: f.name, monotone: { ...f.monotone } }] : []));
    const lab = readDataset({ name: spec.data, bytes: bytes(text), label: spec.label, features, edits, known: spec.features, missingAsZero: spec.missingAsZero });
    const cli = selectFeatures(parseCsv(text, spec.data), { features: spec.features, label: spec.label, missingAsZero: spec.missingAsZero });
    expect(lab.X).toEqual(cli.X);
    expect(lab.y).toEqual(cli.y);
    expect(lab.X.some((r) => r.some((v) => v === null))).toBe(true); // zeros read as not measured
    expect(lab.featureSpecs).toEqual(spec.features);
    // A direction the person cleared is gone, though the spec declares it.
    const cleared = readDataset({ name: spec.data, bytes: bytes(text), label: spec.label, features, edits: edits.filter((e) => e.name !== 'glucose'), known: spec.features });
    expect(cleared.featureSpecs.find((f) => f.name === 'glucose')!.monotone).toBeUndefined();
    expect(cleared.featureSpecs.find((f) => f.name === 'glucose')!.description).toBe(spec.features.find((f) => f.name === 'glucose')!.description);
  });
});

describe('the builder’s edits of the inferred specs', () => {
  const spec = { name: 'glucose', label: 'Glucose', unit: '', min: 0, max: 300, kind: 'number' as const };
  it('keeps labels, units, ranges, codes and a direction with its reason', () => {
    const out = applyEdit(spec, { name: 'glucose', label: ' Plasma glucose ', unit: 'mg/dL', min: 20, max: 400, codes: '', monotone: { direction: 'increasing', reason: 'higher is worse' } });
    expect(out).toEqual({ ...spec, label: 'Plasma glucose', unit: 'mg/dL', min: 20, max: 400, monotone: { direction: 'increasing', reason: 'higher is worse', source: BUILDER_SOURCE } });
    expect(applyEdit(spec, { name: 'glucose', codes: '1 = low, 2 = high' }).description).toBe('Codes: 1 = low, 2 = high');
  });
  it('refuses a range that is not one, and a direction without a reason, in words', () => {
    expect(() => applyEdit(spec, { name: 'glucose', min: 50, max: 10 })).toThrow('Glucose: the lowest plausible value (50) must be below the highest (10)');
    expect(() => applyEdit(spec, { name: 'glucose', monotone: { direction: 'decreasing', reason: ' ' } })).toThrow('Glucose: say why the risk should fall with it, or choose no direction');
  });
});
