/**
 * What people are told, in a real Chromium against the real server on loopback, at desktop and
 * phone widths: who a model learned from and a warning when a record is of someone else (a
 * man's FHIR record with the Pima model), cholesterol and glucose in mmol/L (form and Clinic CSV)
 * giving exactly the result of the same values in mg/dL, the printed result, History with its
 * inputs and CSV export, confirmations before deleting, and the Clinic's offline note.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { sharedDataDir } from '../../src/cli/paths.ts';
import { MG_DL_PER_MMOL_L } from '../../src/core/data/units.ts';
import { expectReference, expectedBatch, framinghamRow, loadModel, reference } from './support/data.ts';
import { field, fillForm, nav, predictAndWait, sidewaysOverflow } from './support/forms.ts';
import { screenshot, useAppSession } from './support/harness.ts';
import { SentRecords, secretKeysInBrowser, whatLeftTheBrowser } from './support/privacy.ts';

const app = useAppSession({ name: 'trust' });
const framingham = await loadModel('framingham-chd');
const pima = await loadModel('pima-diabetes');
const sent = new SentRecords();
const WIDTHS = [1280, 390];
/** Rows the Clinic flow predicted, for History's entry. */
let clinicRows = 0;
const MAN = 'Brent_Beer_7dc94cc0-8c2e-4835-9994-cecbe894bcbf.json';

/** The record the form holds now, read back from its fields (in the model's units). */
async function formRecord(model: typeof pima): Promise<(number | null)[]> {
  const out: (number | null)[] = [];
  for (const f of model.features) {
    const text = await field(app.page, f.label).inputValue();
    out.push(text.trim() === '' ? null : Number(text.replace(',', '.')));
  }
  return out;
}

describe('what people are told', () => {
  it('Pima with a man’s FHIR record: a warning before the prediction and with the result', async () => {
    const { page } = app;
    await page.goto(`${app.url}/#/patient`);
    await field(page, 'Model').selectOption('pima-diabetes');
    // Before any record: who the model learned from.
    await expect(page.getByTestId('population').innerText()).resolves.toBe('This model learned from women of Pima heritage aged 21 or more. Its estimates are for people like them.');
    await page.setInputFiles('#fhir-input', resolve(sharedDataDir(), 'fhir', MAN));
    await page.getByTestId('fhir-summary').filter({ hasText: MAN }).waitFor();
    const warning = page.getByTestId('applicability');
    await expect(warning.innerText()).resolves.toMatch(/^This model learned from women of Pima heritage aged 21 or more; this record is of a man\. Its estimate may not apply to this person/);
    // What the record lacks, typed in (glucose has no FHIR code the model accepts).
    for (const [label, value] of [['Plasma glucose, 2 h after oral glucose', '150'], ['Pregnancies', '0']] as const) {
      if ((await field(page, label).inputValue()) === '') await field(page, label).fill(value);
    }
    const record = await formRecord(pima);
    const r = await predictAndWait(page);
    expectReference(r, reference(pima, record), 'Pima, man’s record');
    sent.remember(pima, record);
    await expect(page.getByTestId('result-applicability').innerText()).resolves.toBe(await warning.innerText());
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      await expect(page.getByTestId('result-applicability').isVisible()).resolves.toBe(true);
      await expect(page.getByTestId('applicability').isVisible()).resolves.toBe(true);
      expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
      await screenshot(page, 'trust-applicability', width);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('cholesterol and glucose typed in mmol/L give exactly the result of the same values in mg/dL', async () => {
    const { page } = app;
    await page.goto(`${app.url}/#/patient`);
    await field(page, 'Model').selectOption('framingham-chd');
    const record = framinghamRow(framingham, '1,61,3,1,30,0,0,1,0,225,150,95,28.58,65,103,1');
    await fillForm(page, framingham, record);
    const chol = framingham.features.find((f) => f.name === 'total_cholesterol')!;
    const glucose = framingham.features.find((f) => f.name === 'glucose')!;
    // Out of range in the chosen unit: said in that unit.
    await page.getByLabel(`${chol.label} unit`).selectOption('mmol/L');
    await field(page, chol.label).fill('30');
    await field(page, chol.label).blur();
    await expect(page.locator(`#f-${chol.name}-error`).innerText()).resolves.toMatch(new RegExp(`^${chol.label} must be from [\\d.]+ to [\\d.]+ mmol/L; 30 mmol/L is outside that range\\.$`));
    await field(page, chol.label).fill('5,8');
    await page.getByLabel(`${glucose.label} unit`).selectOption('mmol/L');
    await field(page, glucose.label).fill('5.5');
    const inMgDl = framingham.features.map((f, i) => (f === chol ? 5.8 * MG_DL_PER_MMOL_L.cholesterol : f === glucose ? 5.5 * MG_DL_PER_MMOL_L.glucose : record[i]!));
    const r = await predictAndWait(page);
    expectReference(r, reference(framingham, inMgDl), 'mmol/L form');
    sent.remember(framingham, inMgDl);
    // The record the form handed on is in mg/dL, converted once: 5.8 × 38.67 = 224.286; the values are said as typed, then as the model read them.
    await expect(page.getByTestId('print-inputs').textContent()).resolves.toContain('5,8 mmol/L (224.286 mg/dL)');
    await expect(page.getByTestId('print-inputs').textContent()).resolves.toContain('5.5 mmol/L (99.088 mg/dL)');
    await expect(page.getByTestId('print-inputs').textContent()).resolves.toMatch(/Hypertension\s*yes/);
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      await expect(page.getByLabel(`${chol.label} unit`).isVisible()).resolves.toBe(true);
      expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
      await screenshot(page, 'trust-units', width);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('prints a result with its context and values, without navigation, form or buttons', async () => {
    const { page } = app;
    await page.emulateMedia({ media: 'print' });
    try {
      for (const width of WIDTHS) {
        await page.setViewportSize({ width, height: 900 });
        await expect(page.getByTestId('result').isVisible()).resolves.toBe(true);
        await expect(page.getByTestId('meaning').isVisible()).resolves.toBe(true);
        await expect(page.getByTestId('print-context').innerText()).resolves.toContain(framingham.title);
        await expect(page.getByTestId('print-inputs').isVisible()).resolves.toBe(true);
        await expect(page.getByTestId('print-inputs').innerText()).resolves.toContain('Systolic blood pressure');
        await expect(page.getByRole('navigation', { name: 'Main' }).isVisible()).resolves.toBe(false);
        await expect(page.getByTestId('predict').isVisible()).resolves.toBe(false);
        await expect(page.getByTestId('print').isVisible()).resolves.toBe(false);
        await expect(page.getByRole('heading', { name: 'Import your health record' }).isVisible()).resolves.toBe(false);
        await screenshot(page, 'trust-print', width);
      }
    } finally {
      await page.emulateMedia({ media: 'screen' });
      await page.setViewportSize({ width: 1280, height: 900 });
    }
    await expect(page.getByTestId('print-inputs').isVisible()).resolves.toBe(false);
    await expect(page.getByTestId('print').isVisible()).resolves.toBe(true);
  });

  it('the Clinic reads columns named in mmol/L and gives the same risks', async () => {
    const { page } = app;
    const lines = (await readFile(resolve(sharedDataDir(), 'framingham_chd.csv'), 'utf8')).replace(/\r/g, '').trim().split('\n').slice(0, 41);
    const table = Papa.parse<Record<string, string>>(lines.join('\n'), { header: true }).data;
    // Two people older and younger than anyone in the Framingham study (32 to 70).
    table[0]!.age = '25';
    table[1]!.age = '75';
    const si = table.map((row) => ({
      ...row,
      total_cholesterol: row.total_cholesterol ? String(Number((Number(row.total_cholesterol) / MG_DL_PER_MMOL_L.cholesterol).toFixed(3))) : '',
      glucose: row.glucose ? String(Number((Number(row.glucose) / MG_DL_PER_MMOL_L.glucose).toFixed(3))) : '',
    }));
    const text = `${Papa.unparse(si, { newline: '\n' }).replace(/^(.*)$/m, (header) => header.replace('total_cholesterol', 'total_cholesterol_mmol_l').replace(/\bglucose\b/, 'glucose_mmol_l'))}\n`;
    const file = resolve(app.workDir, 'framingham-mmol.csv');
    await writeFile(file, text);
    const expected = expectedBatch(framingham, text, 'framingham-mmol.csv');
    expect(expected.rows.length).toBeGreaterThan(30);
    await nav(page, 'Clinic');
    await field(page, 'Model').selectOption('framingham-chd');
    await page.setInputFiles('#csv-input', file);
    await page.getByTestId('results-table').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('converted-columns').innerText()).resolves.toBe('total_cholesterol_mmol_l read in mmol/L and converted to mg/dL (1 mmol/L = 38.67 mg/dL); glucose_mmol_l read in mmol/L and converted to mg/dL (1 mmol/L = 18.016 mg/dL).');
    await expect(page.getByTestId('batch-outside').innerText()).resolves.toBe(`2 of ${expected.rows.length} rows are of people unlike those the model learned from (women and men aged 32 to 70 followed by the Framingham Heart Study in Massachusetts): 1 younger than 32, 1 older than 70. Their estimated risks may not apply to them; read them with that in mind.`);
    await page.getByLabel('Rows per page').selectOption('0');
    const shown = new Map(await page.$$eval('[data-testid=results-table] tbody tr', (trs) => trs.map((tr) => [Number(tr.getAttribute('data-line')), { score: Number(tr.getAttribute('data-score')), risk: Number(tr.getAttribute('data-risk')) }] as const)));
    expect(shown.size).toBe(expected.rows.length);
    for (const row of expected.rows) expectReference(shown.get(row.line), row, `line ${row.line}`);
    sent.rememberBatch(framingham, expected.rows, text, 10);
    clinicRows = expected.rows.length;
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      await expect(page.getByTestId('converted-columns').isVisible()).resolves.toBe(true);
      expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('a spreadsheet or picture given for a CSV is refused in words, never shown as bytes', async () => {
    const { page } = app;
    await nav(page, 'Clinic');
    const zip = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00, 0x08, 0x00, 0x00, 0x00, 0x21, 0x00, 0xff, 0xfe, 0x00, 0x9c]);
    await page.setInputFiles('#csv-input', { name: 'patients.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer: zip });
    await expect(page.getByTestId('csv-refused').innerText()).resolves.toBe('patients.xlsx is not a text file: it looks like a spreadsheet, a picture or another binary file. Choose a CSV file saved as text (a spreadsheet can save one with “Save as”).');
    const shown = await page.locator('main').innerText();
    expect(shown).not.toContain('PK');
    expect(shown).not.toContain('\ufffd');
  });

  it('History keeps the model and the risk words, exports a CSV made here, and asks before deleting', async () => {
    const { page } = app;
    await nav(page, 'History');
    const entries = page.getByTestId('history-entry');
    await expect.poll(() => entries.count()).toBe(3);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('history-export').click()]);
    const csv = Papa.parse<Record<string, string>>((await readFile(await download.path(), 'utf8')).trim(), { header: true }).data;
    expect(csv).toHaveLength(3);
    const [batch, units, man] = csv;
    expect(man).toMatchObject({ model_id: 'pima-diabetes', model_hash: pima.hash, risk_of: 'estimated risk of a positive diabetes test', population: '768 women of Pima heritage aged 21 or more' });
    expect(man!.warning).toMatch(/^This model learned from women of Pima heritage aged 21 or more; this record is of a man\./);
    expect(man!.inputs).toContain('Plasma glucose, 2 h after oral glucose = 150 mg/dL');
    expect(units).toMatchObject({ model_id: 'framingham-chd', model_hash: framingham.hash, source: 'form', warning: '' });
    // In the unit the person typed, and in the model's.
    expect(units!.inputs).toContain('Total cholesterol = 5,8 mmol/L (224.286 mg/dL)');
    expect(units!.inputs).toContain('Glucose = 5.5 mmol/L (99.088 mg/dL)');
    expect(units!.queued_at).toBe('');
    expect(units!.inputs).toContain('Hypertension = yes');
    expect(batch).toMatchObject({ model_id: 'framingham-chd', model_hash: framingham.hash, source: 'csv', rows: String(clinicRows), risk_of: 'estimated risk of coronary heart disease within ten years' });
    // What it was computed from, and the warning shown with it, stay with the entry.
    await expect(entries.nth(2).getByTestId('history-warning').isVisible()).resolves.toBe(true);
    await entries.nth(1).getByText('Values it was computed from').click();
    await expect(entries.nth(1).getByTestId('history-inputs').innerText()).resolves.toContain('Total cholesterol = 5,8 mmol/L (224.286 mg/dL)');
    // Deleting one asks first.
    await entries.nth(1).getByRole('button', { name: /^Delete the prediction of/ }).click();
    await page.getByRole('button', { name: 'Keep it' }).click();
    await expect.poll(() => entries.count()).toBe(3);
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
      await screenshot(page, 'trust-history', width);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    await entries.nth(1).getByRole('button', { name: /^Delete the prediction of/ }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await expect.poll(() => entries.count()).toBe(2);
    await page.getByRole('button', { name: 'Delete all' }).click();
    await expect(page.getByText('Delete all 2 predictions on this device? This cannot be undone.').isVisible()).resolves.toBe(true);
    await page.getByRole('button', { name: 'Keep them' }).click();
    await expect(entries.count()).resolves.toBe(2);
  });

  it('offline, the Clinic does not promise a queue it does not keep', async () => {
    const { page } = app;
    await page.route('**/api/models', (route) => route.abort('internetdisconnected'));
    try {
      await page.goto(`${app.url}/#/clinic`);
      await page.reload(); // a new hash alone would not load the app again
      const note = page.getByTestId('offline-note');
      await note.waitFor();
      const text = await note.innerText();
      expect(text).toContain('A patient list cannot be run offline');
      expect(text).not.toMatch(/queue/i);
      await expect(page.locator('#csv-input').isDisabled()).resolves.toBe(true);
      await nav(page, 'My prediction');
      // Polled: for a moment after the click the Clinic's note (same test id) is still on screen.
      await expect.poll(() => page.getByTestId('offline-note').innerText()).toMatch(/queued/);
    } finally {
      await page.unroute('**/api/models');
    }
  });
});

whatLeftTheBrowser(app, sent, { secretKeys: () => secretKeysInBrowser(app), atLeast: { posts: 3, records: 5 } });
