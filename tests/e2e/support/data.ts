/** Inputs the e2e flows send, built from ../shared/data, and their plaintext references. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { expect } from 'vitest';
import { modelsDir, sharedDataDir } from '../../../src/cli/paths.ts';
import { readCsv } from '../../../src/core/data/csv.ts';
import { validateRows } from '../../../src/core/data/validate.ts';
import { parseModel, type TernaryModel } from '../../../src/core/model/format.ts';
import { decodeScore, quantizeRecord, referenceScore, type DecodedScore, type PlainRecord } from '../../../src/core/model/reference.ts';

export async function loadModel(id: string): Promise<TernaryModel> {
  return parseModel(JSON.parse(await readFile(resolve(modelsDir, `${id}.json`), 'utf8')));
}

/** What the app must show: the plaintext integer reference, decoded (risk and class). */
export function reference(model: TernaryModel, record: PlainRecord): DecodedScore {
  return decodeScore(model.output, referenceScore(model, quantizeRecord(model, record)));
}

/**
 * The decrypted integer must equal the reference bit for bit; the risk is the same
 * formula evaluated by the browser's Math.exp, which may differ from Node's in the last bit.
 */
export function expectReference(shown: { score: number; risk: number } | undefined, ref: { score: number; risk: number }, what: string): void {
  expect(shown?.score, what).toBe(ref.score);
  expect(Math.abs(shown!.risk - ref.risk), what).toBeLessThanOrEqual(1e-12 * Math.max(1e-300, ref.risk) + 1e-300);
}

const FRAMINGHAM_COLUMNS = 'male,age,education,current_smoker,cigs_per_day,bp_meds,prevalent_stroke,prevalent_hypertension,diabetes,total_cholesterol,systolic_bp,diastolic_bp,bmi,heart_rate,glucose,label'.split(',');

/** A line of framingham_chd.csv as the model's record (blank cells are missing values). */
export function framinghamRow(model: TernaryModel, line: string): PlainRecord {
  const cells = line.split(',');
  return model.features.map((f) => {
    const c = cells[FRAMINGHAM_COLUMNS.indexOf(f.name)]!;
    return c === '' ? null : Number(c);
  });
}

/** What the CSV flow must produce: the valid rows (as the app validates them) and each one's reference. */
export function expectedBatch(model: TernaryModel, csv: string, name: string) {
  const table = readCsv(csv, name);
  const { records, problems } = validateRows(model.features, table, { missingAsZero: (model.training?.missingAsZero as string[] | undefined) ?? [] });
  return {
    problems,
    rows: records.map((r) => ({ line: r.row, values: r.values, ...reference(model, r.values) })),
  };
}

/**
 * 1,000 Framingham patients with an id column, and ten rows broken on purpose: text in a
 * number, out-of-range values, a 0/1 column holding 2, short rows.
 */
export async function clinicCsv(): Promise<{ text: string; broken: number[] }> {
  const lines = (await readFile(resolve(sharedDataDir(), 'framingham_chd.csv'), 'utf8')).replace(/\r/g, '').trim().split('\n');
  const header = lines[0]!.split(',');
  const col = (name: string) => header.indexOf(name) + 1; // +1: the id column comes first
  const rows = lines.slice(1, 1001).map((l, i) => [`P${String(i + 1).padStart(4, '0')}`, ...l.split(',')]);
  const broken: [number, (r: string[]) => void][] = [
    [7, (r) => (r[col('age')] = 'forty')],
    [42, (r) => (r[col('systolic_bp')] = '900')],
    [99, (r) => (r[col('diabetes')] = '2')],
    [150, (r) => r.splice(6)],
    [222, (r) => (r[col('bmi')] = '3')],
    [333, (r) => (r[col('total_cholesterol')] = '12,5')],
    [444, (r) => (r[col('heart_rate')] = '-80')],
    [555, (r) => (r[col('glucose')] = 'n/a')],
    [777, (r) => (r[col('male')] = 'M')],
    [888, (r) => r.push('extra')],
  ];
  for (const [i, f] of broken) f(rows[i]!);
  const text = [['id', ...header].join(','), ...rows.map((r) => r.map((c) => (c.includes(',') ? `"${c}"` : c)).join(','))].join('\n') + '\n';
  // File lines: header is line 1, row i is line i + 2.
  return { text, broken: broken.map(([i]) => i + 2) };
}

/** 4,096 breast-cancer rows: the data set's 569 rows, cycled, each with an id. */
export async function breastCancerCsv(): Promise<string> {
  const lines = (await readFile(resolve(sharedDataDir(), 'breast_cancer_wisconsin_diagnostic.csv'), 'utf8')).replace(/\r/g, '').trim().split('\n');
  const data = lines.slice(1);
  const rows = Array.from({ length: 4096 }, (_, i) => `B${i + 1},${data[i % data.length]}`);
  return ['id,' + lines[0], ...rows].join('\n') + '\n';
}
