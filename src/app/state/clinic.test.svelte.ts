/**
 * A clinician's CSV for one model, with real parts (tests/support/app-parts.ts): rows checked
 * one by one, a file without the model's columns refused with nothing sent, and a batch whose
 * every risk equals the plaintext reference, filtered, sorted and exported, in the history first.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedDataDir } from '../../cli/paths.ts';
import { readCsv } from '../../core/data/csv.ts';
import { validateRows } from '../../core/data/validate.ts';
import type { ModelCard } from '../../core/model/card.ts';
import type { TernaryModel } from '../../core/model/format.ts';
import { deleteAll, exportBackup, importBackup, listKeys, rotate, unreadableKeys } from '../../../workers/he/keyring.ts';
import { appParts, loadModel, posts, reference, Service } from '../../../tests/support/app-parts.ts';
import { ClinicBatch } from './clinic.svelte.ts';
import { KeyRing } from './keys.svelte.ts';

const service = new Service();
let model: TernaryModel;
let card: ModelCard;
let csv = '';

beforeAll(async () => {
  model = await loadModel('framingham-chd');
  // The first 40 patients of the shared Framingham file, and one row no model can read.
  const lines = (await readFile(resolve(sharedDataDir(), 'framingham_chd.csv'), 'utf8')).split('\n').slice(0, 41);
  csv = [...lines, '1,abc,4,0,0,0,0,0,0,195,106,70,26.97,80,77,0'].join('\n');
  await service.start();
  card = await service.card(model.id);
}, 240_000);
afterAll(() => service.stop());

function batch() {
  const parts = appParts('clinic');
  const keys = new KeyRing({ listKeys, unreadableKeys, rotate, deleteAll, exportBackup, importBackup }, parts.registrations, (w) => parts.notices.add(w));
  return { ...parts, keys, clinic: new ClinicBatch({ ...parts, keys }) };
}

describe('clinic batch', () => {
  it('refuses a file without the columns the model needs, and sends nothing', async () => {
    const { clinic } = batch();
    const before = posts('classify').length + posts('keys').length;
    await clinic.load(new File(['id,age\n1,40\n2,50\n'], 'ages.csv'), card);
    expect(clinic.phase).toBe('error');
    expect(clinic.loaded!.refused).toMatch(/ages\.csv/);
    await clinic.run();
    expect(clinic.results).toEqual([]);
    expect(posts('classify').length + posts('keys').length).toBe(before);
  });

  it('predicts every valid row exactly, filters, sorts and exports them, in the history first', async () => {
    const { clinic, history } = batch();
    await clinic.load(new File([csv], 'patients.csv'), card);
    expect(clinic.phase).toBe('ready');
    expect(clinic.loaded!.valid).toBe(40);
    expect(clinic.loaded!.badRows).toBe(1);
    await clinic.run();
    expect(clinic.error).toBe('');
    expect(clinic.phase).toBe('done');

    // Each row's risk is the reference's, computed here from the same validated values.
    const { records } = validateRows(card.features, readCsv(csv, 'patients.csv'), { missingAsZero: card.missingAsZero });
    expect(clinic.results.map((r) => r.line)).toEqual(records.map((r) => r.row));
    for (const [i, r] of clinic.results.entries()) {
      const ref = reference(model, records[i]!.values);
      expect(r.score).toBe(ref.score);
      expect(r.risk).toBeCloseTo(ref.risk, 12);
    }
    expect(history.items[0]).toMatchObject({ source: 'csv', rows: 40, origin: 'patients.csv', positives: clinic.results.filter((r) => r.positive).length });

    clinic.sortBy('risk');
    const risks = clinic.view.map((r) => r.risk);
    expect(risks).toEqual([...risks].sort((a, b) => b - a));
    clinic.filterClass = 'positive';
    expect(clinic.view.every((r) => r.positive)).toBe(true);
    clinic.filterClass = 'all';
    clinic.minRisk = 20;
    expect(clinic.view.every((r) => r.risk >= 0.2)).toBe(true);

    const exported = Papa.parse<Record<string, string>>(clinic.exportCsv(), { header: true }).data;
    expect(exported).toHaveLength(41);
    const first = clinic.results[0]!;
    expect(Number(exported[first.line - 2]!.estimated_risk)).toBeCloseTo(first.risk, 4);
    expect(exported[40]!.risk_vs_average).toBe('not predicted (see validation report)');
  });
});
