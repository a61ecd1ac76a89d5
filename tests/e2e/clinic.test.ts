/**
 * The clinic screen in a real Chromium against the real server on loopback: a 1,000-row CSV
 * (some rows broken) checked row by row, sorted, filtered and exported; a batch cancelled and run
 * again; a 4,096-row batch (timed). Every shown result must equal the plaintext integer
 * reference computed here, and every request body the browser sent is checked.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { breastCancerCsv, clinicCsv, expectedBatch, expectReference, framinghamRow, loadModel, reference } from './support/data.ts';
import { sharedDataDir } from '../../src/cli/paths.ts';
import { field, nav, sidewaysOverflow, visitAndPredict } from './support/forms.ts';
import { screenshot, useAppSession } from './support/harness.ts';
import { SentRecords, secretKeysInBrowser, whatLeftTheBrowser } from './support/privacy.ts';

const app = useAppSession({ name: 'clinic' });
const { timings, workDir } = app;
const [framingham, breast] = await Promise.all([loadModel('framingham-chd'), loadModel('breast-cancer')]);
const sent = new SentRecords();

// The app is already in use when the CSV is dropped, as in app.test.ts, where the clinic flows
// followed the patient's: SEAL compiled in the worker and a key made by a first prediction (keys
// are made only when a prediction is asked for). Timings taken from a cold worker would not
// compare with those runs.
beforeAll(async () => {
  const record = framinghamRow(framingham, '1,39,4,0,0,0,0,0,0,195,106,70,26.97,80,77,0');
  expectReference(await visitAndPredict(app.page, app.url, framingham, record), reference(framingham, record), 'first record');
  sent.remember(framingham, record);
  await app.page.getByTestId('key-fingerprint').waitFor();
});

/** Every row of the results table: line → decrypted score and shown risk. */
async function readResultRows(p: Page): Promise<Map<number, { score: number; risk: number }>> {
  await p.getByLabel('Rows per page').selectOption('0');
  const rows = await p.$$eval('[data-testid=results-table] tbody tr', (trs) =>
    trs.map((tr) => [Number(tr.getAttribute('data-line')), { score: Number(tr.getAttribute('data-score')), risk: Number(tr.getAttribute('data-risk')) }] as const),
  );
  await p.getByLabel('Rows per page').selectOption('50');
  return new Map(rows);
}

describe('clinic', () => {
  it('checks a 1,000-row CSV row by row and predicts every valid row exactly', async () => {
    const { page } = app;
    const { text, broken } = await clinicCsv();
    const file = resolve(workDir, 'clinic-1000.csv');
    await writeFile(file, text);
    const expected = expectedBatch(framingham, text, 'clinic-1000.csv');
    expect(expected.rows).toHaveLength(990);
    await nav(page, 'Clinic');
    await field(page, 'Model').selectOption('framingham-chd');
    const t0 = performance.now();
    await page.setInputFiles('#csv-input', file);
    await page.getByTestId('results-table').waitFor({ timeout: 60_000 });
    timings.clinic1000DropToTable = performance.now() - t0;

    await expect(page.getByTestId('valid-count').innerText()).resolves.toBe('990');
    await expect(page.getByTestId('bad-count').innerText()).resolves.toBe('10');
    const report = await page.getByTestId('validation').innerText();
    const showAll = page.getByRole('button', { name: /Show all \d+ problems/ });
    if (await showAll.count()) await showAll.click();
    const cells = await page.$$eval('[data-testid=validation] li[data-row]', (lis) => lis.map((li) => Number(li.getAttribute('data-row'))));
    expect(new Set(cells)).toEqual(new Set(broken));
    expect(report).toMatch(/"forty" is not a number/);
    expect(report).toMatch(/900 mmHg is outside the plausible range 60–300 mmHg/);

    const shown = await readResultRows(page);
    expect(shown.size).toBe(expected.rows.length);
    for (const row of expected.rows) expectReference(shown.get(row.line), row, `line ${row.line}`);
    sent.rememberBatch(framingham, expected.rows, text, 200);

    // Sort by risk, filter by class, export.
    await page.getByRole('button', { name: 'Risk' }).click();
    const top = Number(await page.locator('[data-testid=results-table] tbody tr').first().getAttribute('data-score'));
    expect(top).toBe(Math.max(...expected.rows.map((r) => r.score)));
    await page.getByLabel('Risk level', { exact: true }).selectOption('positive');
    const positives = expected.rows.filter((r) => r.positive).length;
    await expect(page.getByTestId('result-count').innerText()).resolves.toBe(`${positives} of 990 rows shown`);
    const positivesText = await page.getByTestId('positives').innerText();
    expect(positivesText).toContain(`risk ${Math.round(framingham.output.prior! * 100)}% or more`);
    // Risk words, never a class name presented as a diagnosis.
    expect(positivesText).toContain('of coronary heart disease within ten years');
    expect(positivesText).not.toContain('predicted “');
    const tableText = await page.getByTestId('results').innerText();
    for (const c of framingham.classes ?? []) expect(tableText).not.toContain(c);
    expect(tableText).not.toContain('Predicted class');
    await page.getByLabel('Risk level', { exact: true }).selectOption('all');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
    const exported = (await readFile(await download.path())).toString('utf8').trim().split('\n');
    expect(exported[0]).toBe(`${text.split('\n')[0]},estimated_risk,risk_vs_average,filled`);
    expect(exported).toHaveLength(1001);
    expect(exported.filter((l) => l.includes(',at or above average risk,') || l.includes(',below average risk,'))).toHaveLength(990);
    // The History entry speaks of risk too.
    await nav(page, 'History');
    const entry = await page.getByTestId('history-batch').first().innerText();
    expect(entry).toContain('at or above the average estimated risk of coronary heart disease within ten years');
    expect(entry).not.toContain('predicted “');
    await nav(page, 'Clinic');
    expect(exported.filter((l) => l.endsWith('not predicted (see validation report),'))).toHaveLength(10);
    console.log(`clinic 1,000 rows (990 valid), drop → table: ${Math.round(timings.clinic1000DropToTable)} ms`);
  });

  it('cancels a running batch and runs it again afterwards', async () => {
    const { page } = app;
    await page.route('**/classify', async (route) => {
      await new Promise((r) => setTimeout(r, 1500));
      await route.continue().catch(() => undefined);
    });
    await page.setInputFiles('#csv-input', resolve(workDir, 'clinic-1000.csv'));
    await page.getByTestId('cancel').click();
    await page.getByText('Cancelled. Nothing more was sent').waitFor();
    await page.unroute('**/classify');
    await page.getByRole('button', { name: 'Run again' }).click();
    await page.getByTestId('results-table').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('valid-count').innerText()).resolves.toBe('990');
  });

  it('predicts 4,096 breast-cancer rows in one batch, every one equal to the reference', async () => {
    const { page } = app;
    const text = await breastCancerCsv();
    const file = resolve(workDir, 'breast-cancer-4096.csv');
    await writeFile(file, text);
    const expected = expectedBatch(breast, text, 'breast-cancer-4096.csv');
    expect(expected.rows).toHaveLength(4096);
    await field(page, 'Model').selectOption('breast-cancer');
    const t0 = performance.now();
    await page.setInputFiles('#csv-input', file);
    await page.getByTestId('results-table').waitFor({ timeout: 60_000 });
    timings.clinic4096DropToTable = performance.now() - t0;
    const shown = await readResultRows(page);
    expect(shown.size).toBe(4096);
    for (const row of expected.rows) expectReference(shown.get(row.line), row, `line ${row.line}`);
    sent.rememberBatch(breast, expected.rows, text, 1000);
    console.log(`clinic 4,096 rows (breast cancer), drop → table: ${Math.round(timings.clinic4096DropToTable)} ms (target ≤ 15000)`);
    expect(timings.clinic4096DropToTable).toBeLessThan(45_000);
    // Nothing logged an error on the way (app.test.ts checked this once, at its end, for all its flows).
    expect(app.browser.errors).toEqual([]);
  });

  it('reads a semicolon CSV with decimal commas: all 50 rows usable, each equal to the reference', async () => {
    const { page } = app;
    const lines = (await readFile(resolve(sharedDataDir(), 'framingham_chd.csv'), 'utf8')).replace(/\r/g, '').trim().split('\n').slice(0, 51);
    const pointText = lines.join('\n') + '\n';
    const commaText = lines.map((l) => l.split(',').map((c) => c.replace('.', ',')).join(';')).join('\n') + '\n';
    expect(commaText).toMatch(/;\d+,\d+/);
    const file = resolve(workDir, 'framingham-eu.csv');
    await writeFile(file, commaText);
    // The reference reads the decimal-point version of the same rows: the values must be the same.
    const expected = expectedBatch(framingham, pointText, 'framingham-eu.csv');
    expect(expected.rows).toHaveLength(50);
    await nav(page, 'Clinic');
    await field(page, 'Model').selectOption('framingham-chd');
    await page.setInputFiles('#csv-input', file);
    await page.getByTestId('results-table').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('valid-count').innerText()).resolves.toBe('50');
    await expect(page.getByTestId('bad-count').count()).resolves.toBe(0);
    const shown = await readResultRows(page);
    expect(shown.size).toBe(50);
    for (const row of expected.rows) expectReference(shown.get(row.line), row, `line ${row.line}`);
    sent.rememberBatch(framingham, expected.rows, commaText, 10);
    for (const width of [390, 1280]) {
      await screenshot(page, 'clinic-decimal-comma', width);
      expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    }
  });

  it('counts rows with blank cells honestly and marks each filled cell in the table and the export', async () => {
    const { page } = app;
    const path = resolve(sharedDataDir(), 'framingham_chd.csv');
    const text = (await readFile(path, 'utf8')).replace(/\r/g, '');
    const expected = expectedBatch(framingham, text, 'framingham_chd.csv');
    const filledOf = (values: readonly (number | null)[]) => framingham.features.filter((_, i) => values[i] === null).map((f) => f.name);
    const withBlanks = expected.rows.filter((r) => filledOf(r.values).length > 0);
    expect(withBlanks.length).toBeGreaterThan(400); // 489: blanks in the columns this model reads (582 rows have a blank somewhere)
    await nav(page, 'Clinic');
    await field(page, 'Model').selectOption('framingham-chd');
    await page.setInputFiles('#csv-input', path);
    await page.getByTestId('results-table').waitFor({ timeout: 60_000 });
    const total = expected.rows.length;
    await expect(page.getByTestId('complete-count').innerText()).resolves.toBe(String(total - withBlanks.length));
    await expect(page.getByTestId('filled-count').innerText()).resolves.toBe(String(withBlanks.length));
    await expect(page.getByTestId('valid-count').innerText()).resolves.toBe(String(total));
    const report = await page.getByTestId('validation').innerText();
    expect(report).toContain(`${total - withBlanks.length} of ${total} rows complete`);
    expect(report).not.toContain(`${total} of ${total} rows can be used`);
    // Every row's marks, as the table shows them.
    await page.getByLabel('Rows per page').selectOption('0');
    const marks = new Map(await page.$$eval('[data-testid=results-table] tbody tr', (trs) => trs.map((tr) => [Number(tr.getAttribute('data-line')), tr.querySelector('[data-filled]')!.getAttribute('data-filled')!] as const)));
    await page.getByLabel('Rows per page').selectOption('50');
    for (const row of expected.rows) expect(marks.get(row.line), `line ${row.line}`).toBe(filledOf(row.values).join(' '));
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
    const exported = (await readFile(await download.path())).toString('utf8').trim().split('\n');
    expect(exported[0]!.endsWith(',filled')).toBe(true);
    for (const row of expected.rows) expect(exported[row.line - 1]!.split(',').at(-1), `export line ${row.line}`).toBe(filledOf(row.values).join(' '));
    for (const width of [390, 1280]) {
      await screenshot(page, 'clinic-filled', width);
      expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    }
  });

  it('refuses a file without the columns the model needs, and sends nothing (1280 and 390 px)', async () => {
    const { page } = app;
    const posts = app.browser.requests.filter((r) => r.method === 'POST').length;
    await field(page, 'Model').selectOption('pima-diabetes');
    // The liver file has age, and none of glucose, BMI or the other Pima columns.
    await page.setInputFiles('#csv-input', resolve(sharedDataDir(), 'indian_liver_patient.csv'));
    const refusal = page.getByRole('alert').filter({ hasText: 'indian_liver_patient.csv cannot be used with this model' });
    await refusal.waitFor();
    const text = await refusal.innerText();
    expect(text).toContain('it has no glucose, bmi column');
    expect(text).toContain('it has 1 of the 5 columns the model reads, and the model needs at least 4');
    await expect(page.getByTestId('valid-count').innerText()).resolves.toBe('0');
    const report = await page.getByTestId('validation').innerText();
    expect(report).not.toContain('filled with typical values');
    expect(report).not.toContain('the rest still run');
    await expect(page.getByTestId('results').count()).resolves.toBe(0);
    for (const width of [390, 1280]) {
      await screenshot(page, 'clinic-refused', width);
      expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
      await expect(refusal.isVisible()).resolves.toBe(true);
    }
    await page.waitForTimeout(300);
    expect(app.browser.requests.filter((r) => r.method === 'POST').length).toBe(posts);
    await field(page, 'Model').selectOption('framingham-chd');
  });
});

whatLeftTheBrowser(app, sent, { secretKeys: () => secretKeysInBrowser(app), atLeast: { posts: 4, records: 10 } });
