/**
 * The web app in a real Chromium against the real server on loopback: the patient flow by
 * form and by FHIR import, the clinic flow with a 1,000-row CSV (some rows broken) and a
 * 4,096-row batch, keys across reloads, a browser restart, rotation and a backup restore, and
 * a check of every request body the browser sent. Every shown result must equal the plaintext
 * integer reference computed here. Timings are printed; screenshots land in
 * test-results/screenshots/.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedDataDir } from '../../src/cli/paths.ts';
import { mapFhirBundle } from '../../src/core/data/fhir.ts';
import { decodeMessage } from '../../src/core/protocol/codec.ts';
import type { TernaryModel } from '../../src/core/model/format.ts';
import { quantizeRecord, type PlainRecord } from '../../src/core/model/reference.ts';
import { openBackup, type SecretKeyEntry } from '../../src/core/vault/backup.ts';
import type { RunningServer } from '../../src/server/main.ts';
import { breastCancerCsv, clinicCsv, expectedBatch, loadModel, reference } from './support/data.ts';
import { Browser, buildApp, resultsDir, screenshot, startAppServer } from './support/harness.ts';
import { batchProbe, leaksIn, printableRuns, probes, type SentRecord } from './support/leaks.ts';

const timings: Record<string, number> = {};
const sent: { model: TernaryModel; record: SentRecord }[] = [];
const batches: SentRecord[][] = [];
let server: RunningServer;
let dataDir = '';
let browser: Browser;
let page: Page;
let url: string;
let framingham: TernaryModel;
let breast: TernaryModel;
let keyBackup: SecretKeyEntry[] = [];
const workDir = resolve(resultsDir, 'e2e');
const PASSPHRASE = 'a long passphrase for the test';

beforeAll(async () => {
  const t0 = performance.now();
  const [staticDir, f, b] = await Promise.all([buildApp(), loadModel('framingham-chd'), loadModel('breast-cancer')]);
  framingham = f;
  breast = b;
  ({ server, dataDir } = await startAppServer(staticDir));
  url = server.url;
  browser = new Browser();
  await browser.launch();
  page = await browser.page();
  await mkdir(workDir, { recursive: true });
  console.log(`e2e setup (build, server with compiled models, browser): ${Math.round(performance.now() - t0)} ms`);
}, 180_000);

afterAll(async () => {
  await browser?.dispose();
  await server?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  console.log('e2e timings (ms):', Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])));
});

// ---------------------------------------------------------------- helpers

/** The page's document inside page functions (they run in the page; this file compiles without DOM types). */
interface PageElement {
  id: string;
  getAttribute(name: string): string | null;
}
interface PageDocument {
  querySelector(selector: string): PageElement | null;
  activeElement: PageElement | null;
  documentElement: { scrollWidth: number; clientWidth: number };
}
type InPage = { document: PageDocument };

const field = (p: Page, label: string) => p.getByLabel(label, { exact: true });
const nav = (p: Page, name: string) => p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();

/** Types a record into the form, the way a person would. */
async function fillForm(p: Page, model: TernaryModel, record: PlainRecord) {
  for (const [i, f] of model.features.entries()) {
    const v = record[i];
    if (f.kind === 'binary') await field(p, f.label).selectOption(v === null || v === undefined ? '' : String(v));
    else await field(p, f.label).fill(v === null || v === undefined ? '' : String(v));
  }
}

/** Clicks "Encrypt and predict" and waits for a new result; returns it and the time from click to shown. */
async function predictAndWait(p: Page): Promise<{ probability: number; score: number; ms: number; text: string }> {
  const before = await p.getByTestId('probability').getAttribute('data-at', { timeout: 50 }).catch(() => null);
  const t0 = performance.now();
  await p.getByTestId('predict').click();
  await p.waitForFunction(
    (prev) => {
      const el = (globalThis as unknown as InPage).document.querySelector('[data-testid=probability]');
      return el !== null && el.getAttribute('data-at') !== prev;
    },
    before,
    { timeout: 30_000 },
  );
  const ms = performance.now() - t0;
  const el = p.getByTestId('probability');
  return { probability: Number(await el.getAttribute('data-value')), score: Number(await el.getAttribute('data-score')), ms, text: await el.innerText() };
}

const fingerprintShown = async (p: Page) => (await p.getByTestId('key-fingerprint').innerText()).replace(/\s/g, '');
const postsTo = (path: string) => browser.requests.filter((r) => r.method === 'POST' && new URL(r.url).pathname === path).length;
const remember = (model: TernaryModel, values: PlainRecord, line?: string) => sent.push({ model, record: { values, quantized: quantizeRecord(model, values), line } });

function framinghamRow(line: string): PlainRecord {
  const header = 'male,age,education,current_smoker,cigs_per_day,bp_meds,prevalent_stroke,prevalent_hypertension,diabetes,total_cholesterol,systolic_bp,diastolic_bp,bmi,heart_rate,glucose,label'.split(',');
  const cells = line.split(',');
  return framingham.features.map((f) => {
    const c = cells[header.indexOf(f.name)]!;
    return c === '' ? null : Number(c);
  });
}

/** Every row of the results table: line → decrypted score and shown probability. */
async function readResultRows(p: Page): Promise<Map<number, { score: number; probability: number }>> {
  await p.getByLabel('Rows per page').selectOption('0');
  const rows = await p.$$eval('[data-testid=results-table] tbody tr', (trs) =>
    trs.map((tr) => [Number(tr.getAttribute('data-line')), { score: Number(tr.getAttribute('data-score')), probability: Number(tr.getAttribute('data-probability')) }] as const),
  );
  await p.getByLabel('Rows per page').selectOption('50');
  return new Map(rows);
}

/**
 * The decrypted integer must equal the reference bit for bit; the probability is the same
 * formula evaluated by the browser's Math.exp, which may differ from Node's in the last bit.
 */
function expectReference(shown: { score: number; probability: number } | undefined, ref: { score: number; probability: number }, what: string) {
  expect(shown?.score, what).toBe(ref.score);
  expect(Math.abs(shown!.probability - ref.probability), what).toBeLessThanOrEqual(1e-12 * Math.max(1e-300, ref.probability) + 1e-300);
}

// ---------------------------------------------------------------- flows

describe('patient', () => {
  it('first visit: keys, registration and one record by the form, equal to the reference', async () => {
    const record = framinghamRow('1,39,4,0,0,0,0,0,0,195,106,70,26.97,80,77,0');
    const t0 = performance.now();
    await page.goto(`${url}/#/patient`);
    await field(page, 'Model').selectOption('framingham-chd');
    await fillForm(page, framingham, record);
    const r = await predictAndWait(page);
    timings.firstVisitToFirstResult = performance.now() - t0;
    const ref = reference(framingham, record);
    expectReference(r, ref, 'first record');
    expect(r.text).toBe(`${Math.round(ref.probability * 100)}%`);
    await expect(page.getByTestId('class').innerText()).resolves.toBe(framingham.classes[ref.probability >= 0.5 ? 1 : 0]);
    remember(framingham, record);
    expect(postsTo('/api/keys')).toBeGreaterThanOrEqual(1);
    console.log(`first visit → first result: ${Math.round(timings.firstVisitToFirstResult)} ms (target ≤ 3000)`);
    // The targets are printed; only a gross regression (3× the target) fails the run on a busy machine.
    expect(timings.firstVisitToFirstResult).toBeLessThan(9000);
  });

  it('checks ranges with a clear message, then predicts again in under a second', async () => {
    await field(page, 'Age').fill('150');
    await page.getByTestId('predict').click();
    const age = field(page, 'Age');
    await expect(age.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.locator('#f-age-error').innerText()).resolves.toBe('Age must be from 18 to 110 years; 150 years is outside that range.');
    expect(await age.getAttribute('aria-describedby')).toContain('f-age-error');
    await expect(page.evaluate(() => (globalThis as unknown as InPage).document.activeElement?.id)).resolves.toBe('f-age');

    await age.fill('61');
    await field(page, 'Current smoker').selectOption('1');
    await field(page, 'Cigarettes per day').fill('20');
    const record = framinghamRow('1,61,4,1,20,0,0,0,0,195,106,70,26.97,80,77,0');
    const r = await predictAndWait(page);
    timings.followingPrediction = r.ms;
    expectReference(r, reference(framingham, record), 'second record');
    remember(framingham, record);
    console.log(`following prediction, click → shown: ${Math.round(r.ms)} ms (target ≤ 1000)`);
    expect(r.ms).toBeLessThan(3000);
  });

  it('works from the keyboard: Enter submits, focus moves to the result', async () => {
    await field(page, 'Glucose').focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('95');
    const before = await page.getByTestId('probability').getAttribute('data-at');
    await page.keyboard.press('Enter');
    await page.waitForFunction((prev) => {
      const el = (globalThis as unknown as InPage).document.querySelector('[data-testid=probability]');
      return el !== null && el.getAttribute('data-at') !== prev;
    }, before);
    await expect(page.evaluate(() => (globalThis as unknown as InPage).document.activeElement?.id)).resolves.toBe('result-heading');
    const record = framinghamRow('1,61,4,1,20,0,0,0,0,195,106,70,26.97,80,95,0');
    expect(Number(await page.getByTestId('probability').getAttribute('data-score'))).toBe(reference(framingham, record).score);
    remember(framingham, record);
  });

  const bundles = ['Ardath226_Maude482_Feeney44_611bb297-2f51-beea-a7ec-4df0b59cb135.json', 'Bryan_Breitenberg_8ce561ed-8bf7-4b0b-b1cd-e26775a8a8f8.json'];
  it.each(bundles)('imports the FHIR bundle %s, shows provenance, and predicts the reference', async (file) => {
    const path = resolve(sharedDataDir(), 'fhir', file);
    expect(readdirSync(resolve(sharedDataDir(), 'fhir'))).toContain(file);
    const mapping = mapFhirBundle(JSON.parse(await readFile(path, 'utf8')), framingham.features, { source: file });
    await page.setInputFiles('#fhir-input', path);
    await page.getByTestId('fhir-summary').filter({ hasText: file }).waitFor();
    for (const [i, f] of framingham.features.entries()) {
      const v = mapping.values[i];
      await expect(field(page, f.label).inputValue(), f.name).resolves.toBe(v === null ? '' : String(v));
    }
    const systolic = await page.locator('#f-systolic_bp-source').innerText();
    expect(systolic).toContain('LOINC 8480-6');
    expect(systolic).toMatch(/blood-pressure panel (85354-9|55284-4)/);
    const missing = mapping.fills.filter((f) => f.status === 'missing');
    for (const m of missing) await expect(page.locator(`#f-${m.feature}-source`).innerText()).resolves.toContain('please fill in');
    const r = await predictAndWait(page);
    expectReference(r, reference(framingham, mapping.values), file);
    remember(framingham, mapping.values);
  });
});

describe('clinic', () => {
  it('checks a 1,000-row CSV row by row and predicts every valid row exactly', async () => {
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
    const lines = text.split('\n');
    const records = expected.rows.map((r) => ({ values: r.values, quantized: quantizeRecord(framingham, r.values), line: lines[r.line - 1]! }));
    batches.push(records);
    records.filter((_, i) => i % 200 === 0).forEach((r) => sent.push({ model: framingham, record: r }));

    // Sort by risk, filter by class, export.
    await page.getByRole('button', { name: 'Risk' }).click();
    const top = Number(await page.locator('[data-testid=results-table] tbody tr').first().getAttribute('data-score'));
    expect(top).toBe(Math.max(...expected.rows.map((r) => r.score)));
    await page.getByLabel('Class', { exact: true }).selectOption('positive');
    const positives = expected.rows.filter((r) => r.probability >= 0.5).length;
    await expect(page.getByTestId('result-count').innerText()).resolves.toBe(`${positives} of 990 rows shown`);
    await page.getByLabel('Class', { exact: true }).selectOption('all');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
    const exported = (await readFile(await download.path())).toString('utf8').trim().split('\n');
    expect(exported[0]).toBe(`${lines[0]},predicted_probability,predicted_class`);
    expect(exported).toHaveLength(1001);
    expect(exported.filter((l) => l.endsWith('not predicted (see validation report)'))).toHaveLength(10);
    console.log(`clinic 1,000 rows (990 valid), drop → table: ${Math.round(timings.clinic1000DropToTable)} ms`);
  });

  it('cancels a running batch and runs it again afterwards', async () => {
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
    const lines = text.split('\n');
    const records = expected.rows.map((r) => ({ values: r.values, quantized: quantizeRecord(breast, r.values), line: lines[r.line - 1]! }));
    batches.push(records);
    records.filter((_, i) => i % 1000 === 0).forEach((r) => sent.push({ model: breast, record: r }));
    console.log(`clinic 4,096 rows (breast cancer), drop → table: ${Math.round(timings.clinic4096DropToTable)} ms (target ≤ 15000)`);
    expect(timings.clinic4096DropToTable).toBeLessThan(45_000);
  });
});

describe('keys', () => {
  let fingerprint = '';
  const backupFile = resolve(workDir, 'keys-backup.json');

  it('survive a reload', async () => {
    await nav(page, 'My prediction');
    await field(page, 'Model').selectOption('framingham-chd');
    fingerprint = await fingerprintShown(page);
    expect(fingerprint).toMatch(/^[0-9a-f]{16}$/);
    await page.reload();
    await page.getByTestId('key-fingerprint').waitFor();
    expect(await fingerprintShown(page)).toBe(fingerprint);
    // The first Tab reaches the skip link, and Enter on it moves focus to the screen.
    await page.keyboard.press('Tab');
    await expect(page.locator(':focus').innerText()).resolves.toBe('Skip to content');
    await page.keyboard.press('Enter');
    await expect(page.evaluate(() => (globalThis as unknown as InPage).document.activeElement?.id)).resolves.toBe('main');
  });

  it('offline, the model cards saved on this device still give the form', async () => {
    const errorsBefore = browser.errors.length;
    await page.route('**/api/models', (route) => route.abort());
    await page.reload();
    await page.getByText('The service cannot be reached, so the models saved on this device are shown. Predictions made now are encrypted and queued').waitFor();
    await field(page, 'Systolic blood pressure').waitFor();
    await expect(field(page, 'Model').inputValue()).resolves.toBe('framingham-chd');
    // Predicting stays possible: the record is encrypted and queued (tests/e2e/pwa.test.ts sends it).
    await expect(page.getByTestId('predict').isDisabled()).resolves.toBe(false);
    await page.unroute('**/api/models');
    expect(browser.errors.splice(errorsBefore).every((e) => e.startsWith('Failed to load resource'))).toBe(true);
    await page.reload();
    await page.getByTestId('key-fingerprint').waitFor();
  });

  it('export to a passphrase-encrypted backup that holds the same keys', async () => {
    await nav(page, 'Keys');
    await expect(page.getByTestId('key-list').innerText()).resolves.toContain(fingerprint.match(/.{4}/g)!.join(' '));
    await page.getByLabel('Passphrase (8 characters or more)').fill(PASSPHRASE);
    await page.getByLabel('Passphrase again').fill(PASSPHRASE);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-backup').click()]);
    const bytes = await readFile(await download.path());
    await writeFile(backupFile, bytes);
    keyBackup = await openBackup(new Uint8Array(bytes), PASSPHRASE);
    expect(keyBackup.map((k) => k.fingerprint)).toContain(fingerprint);
    await expect(openBackup(new Uint8Array(bytes), 'not the passphrase')).rejects.toThrow('the passphrase is wrong');
  });

  it('survive a browser restart, and the service keeps their registration', async () => {
    await browser.close();
    await browser.launch();
    page = await browser.page();
    await page.goto(`${url}/#/patient`);
    await field(page, 'Model').selectOption('framingham-chd');
    await page.getByTestId('key-fingerprint').waitFor();
    expect(await fingerprintShown(page)).toBe(fingerprint);
    const registrations = postsTo('/api/keys');
    const record = framinghamRow('0,46,2,0,0,0,0,0,0,250,121,81,28.73,95,76,0');
    await fillForm(page, framingham, record);
    const r = await predictAndWait(page);
    expectReference(r, reference(framingham, record), 'after restart');
    expect(postsTo('/api/keys')).toBe(registrations);
    remember(framingham, record);
  });

  it('are registered again when the service has forgotten them', async () => {
    let refused = 0;
    await page.route('**/classify', async (route) => {
      if (refused++ > 0) return route.continue();
      await route.fulfill({ status: 404, contentType: 'application/json', body: JSON.stringify({ protocol: 1, error: { code: 'unknown_key', message: 'no evaluation keys are registered (or they expired)' } }) });
    });
    const registrations = postsTo('/api/keys');
    const record = framinghamRow('0,58,1,0,0,1,0,1,1,280,160,96,33.1,88,140,0');
    await fillForm(page, framingham, record);
    const errorsBefore = browser.errors.length;
    const r = await predictAndWait(page);
    await page.unroute('**/classify');
    // The browser logs the deliberate 404 to the console; that one is expected.
    expect(browser.errors.splice(errorsBefore)).toEqual(['Failed to load resource: the server responded with a status of 404 (Not Found)']);
    expect(refused).toBe(2);
    expect(postsTo('/api/keys')).toBe(registrations + 1);
    expectReference(r, reference(framingham, record), 'after re-registration');
    remember(framingham, record);
  });

  it('rotate to new keys, and a backup brings the old ones back', async () => {
    await nav(page, 'Keys');
    await page.getByRole('button', { name: 'Rotate keys' }).click();
    await page.getByRole('button', { name: 'Yes, rotate' }).click();
    await page.getByText('The old keys are gone').waitFor();
    await nav(page, 'My prediction');
    const record = framinghamRow('1,52,1,1,30,0,0,1,0,260,150,95,31.2,85,99,0');
    await fillForm(page, framingham, record);
    const registrations = postsTo('/api/keys');
    const r = await predictAndWait(page);
    expectReference(r, reference(framingham, record), 'after rotation');
    remember(framingham, record);
    expect(postsTo('/api/keys')).toBe(registrations + 1);
    const rotated = await fingerprintShown(page);
    expect(rotated).not.toBe(fingerprint);

    await nav(page, 'Keys');
    await page.setInputFiles('#backup-input', backupFile);
    await page.getByLabel('Passphrase of the backup').fill('wrong passphrase');
    await page.getByTestId('import-backup').click();
    await page.getByRole('alert').filter({ hasText: 'the passphrase is wrong' }).waitFor();
    await page.setInputFiles('#backup-input', backupFile);
    await page.getByLabel('Passphrase of the backup').fill(PASSPHRASE);
    await page.getByTestId('import-backup').click();
    await page.getByText(/Restored \d+ keys? from keys-backup.json/).waitFor();
    await nav(page, 'My prediction');
    expect(await fingerprintShown(page)).toBe(fingerprint);
    const again = await predictAndWait(page);
    expect(again.score).toBe(r.score);
  });
});

describe('what left the browser', () => {
  it('was never the secret key', () => {
    const posts = browser.requests.filter((r) => r.method === 'POST');
    expect(posts.length).toBeGreaterThan(8);
    expect(keyBackup.length).toBeGreaterThan(0);
    for (const key of keyBackup) {
      // Skip SEAL's 16-byte serialization header, which every SEAL object shares.
      for (let at = 64; at + 32 <= key.secretKey.length; at += Math.max(32, Math.floor(key.secretKey.length / 40))) {
        const slice = Buffer.from(key.secretKey.subarray(at, at + 32));
        for (const r of posts) expect(r.body.includes(slice), `${r.url} holds secret key bytes`).toBe(false);
      }
    }
  });

  it('was only protocol messages: hashes, counts and ciphertexts or public keys', () => {
    for (const r of browser.requests.filter((q) => q.method === 'POST')) {
      const path = new URL(r.url).pathname;
      const bytes = new Uint8Array(r.body.buffer, r.body.byteOffset, r.body.byteLength);
      if (path === '/api/keys') expect(Object.keys(decodeMessage(bytes, 'keys')).sort()).toEqual(['galois', 'keyId', 'modelHash', 'planHash', 'protocol', 'relin', 'type']);
      else {
        expect(path).toMatch(/^\/api\/models\/[a-z-]+\/classify$/);
        expect(Object.keys(decodeMessage(bytes, 'classify')).sort()).toEqual(['ciphertexts', 'count', 'keyId', 'layout', 'modelHash', 'planHash', 'protocol', 'type']);
      }
    }
  });

  it('held no readable text beyond the hashes naming model, plan and keys', () => {
    for (const r of browser.requests.filter((q) => q.method === 'POST')) {
      const runs = printableRuns(r.body);
      // MessagePack writes a 64-character string as 0xd9 0x40 then the text, and 0x40 is "@".
      expect(runs.filter((t) => !/^@?[0-9a-f]{64}$/.test(t)), `${r.url}: readable text`).toEqual([]);
      expect(runs.length, `${r.url}: the three hashes`).toBeLessThanOrEqual(3);
    }
  });

  it('never held a plaintext value in any readable encoding', () => {
    const posts = browser.requests.filter((r) => r.method === 'POST');
    expect(sent.length).toBeGreaterThan(10);
    for (const { model, record } of sent) {
      const list = probes(record, model.features.map((f) => f.name));
      for (const r of posts) expect(leaksIn(r.body, list), `${r.url} holds ${JSON.stringify(record.values)}`).toEqual([]);
    }
    for (const records of batches) {
      const probe = batchProbe(records)!;
      for (const r of posts) expect(r.body.includes(probe[1]), probe[0]).toBe(false);
    }
  });
});

describe('screens', () => {
  it('render at phone and desktop width (screenshots saved)', async () => {
    const screens = [
      ['patient', 'My prediction'],
      ['clinic', 'Clinic'],
      ['lab', 'Training lab'],
      ['history', 'History'],
      ['keys', 'Keys'],
      ['how', 'How it works'],
    ] as const;
    await nav(page, 'Clinic');
    await page.setInputFiles('#csv-input', resolve(workDir, 'clinic-1000.csv'));
    await page.getByTestId('results-table').waitFor({ timeout: 60_000 });
    const saved: string[] = [];
    for (const [name, link] of screens) {
      await nav(page, link);
      await page.locator('h1').first().waitFor();
      for (const width of [390, 1280]) {
        saved.push(await screenshot(page, name, width));
        // Nothing wider than the screen: no sideways scrolling at any width.
        const overflow = await page.evaluate(() => {
          const root = (globalThis as unknown as InPage).document.documentElement;
          return root.scrollWidth - root.clientWidth;
        });
        expect(overflow, `${name} at ${width}px scrolls sideways`).toBeLessThanOrEqual(0);
      }
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(saved).toHaveLength(12);
    expect(browser.errors).toEqual([]);
  });
});
