/**
 * The patient's keys in a real Chromium against the real server on loopback: across reloads,
 * offline with the model cards saved on the device, a browser restart, a service that forgot
 * them, a rotation and a backup restore; every request body the browser sent is checked. Last,
 * every screen renders at phone and desktop width (screenshots land in test-results/screenshots/)
 * with this session's keys, history and result on them.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openBackup, type SecretKeyEntry } from '../../src/core/vault/backup.ts';
import { clinicCsv, expectReference, framinghamRow, loadModel, reference } from './support/data.ts';
import { exportBackup, field, fillForm, fingerprintShown, focusedId, nav, predictAndWait, sidewaysOverflow, visitAndPredict } from './support/forms.ts';
import { screenshot, useAppSession } from './support/harness.ts';
import { SentRecords, secretKeysInBrowser, whatLeftTheBrowser } from './support/privacy.ts';

const app = useAppSession({ name: 'keys' });
const framingham = await loadModel('framingham-chd');
const sent = new SentRecords();
const PASSPHRASE = 'a long passphrase for the test';
let keyBackup: SecretKeyEntry[] = [];
let rotatedKeys: SecretKeyEntry[] = [];

// The keys come from a first visit, as a patient's do (patient.test.ts times and checks that visit).
beforeAll(async () => {
  const record = framinghamRow(framingham, '1,39,4,0,0,0,0,0,0,195,106,70,26.97,80,77,0');
  expectReference(await visitAndPredict(app.page, app.url, framingham, record), reference(framingham, record), 'first record');
  sent.remember(framingham, record);
});

describe('keys', () => {
  let fingerprint = '';
  const backupFile = resolve(app.workDir, 'keys-backup.json');

  it('survive a reload', async () => {
    const { page } = app;
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
    await expect(focusedId(page)).resolves.toBe('main');
  });

  it('offline, the model cards saved on this device still give the form', async () => {
    const { page, browser } = app;
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
    const { page } = app;
    await nav(page, 'Keys');
    await expect(page.getByTestId('key-list').innerText()).resolves.toContain(fingerprint.match(/.{4}/g)!.join(' '));
    const bytes = await exportBackup(page, PASSPHRASE);
    await writeFile(backupFile, bytes);
    keyBackup = await openBackup(bytes, PASSPHRASE);
    expect(keyBackup.map((k) => k.fingerprint)).toContain(fingerprint);
    await expect(openBackup(bytes, 'not the passphrase')).rejects.toThrow('the passphrase is wrong');
  });

  it('survive a browser restart, and the service keeps their registration', async () => {
    const page = await app.restartBrowser();
    await page.goto(`${app.url}/#/patient`);
    await field(page, 'Model').selectOption('framingham-chd');
    await page.getByTestId('key-fingerprint').waitFor();
    expect(await fingerprintShown(page)).toBe(fingerprint);
    const registrations = app.browser.postsTo('/api/keys');
    const record = framinghamRow(framingham, '0,46,2,0,0,0,0,0,0,250,121,81,28.73,95,76,0');
    await fillForm(page, framingham, record);
    const r = await predictAndWait(page);
    expectReference(r, reference(framingham, record), 'after restart');
    expect(app.browser.postsTo('/api/keys')).toBe(registrations);
    sent.remember(framingham, record);
  });

  it('are registered again when the service has forgotten them', async () => {
    const { page, browser } = app;
    let refused = 0;
    await page.route('**/classify', async (route) => {
      if (refused++ > 0) return route.continue();
      await route.fulfill({ status: 404, contentType: 'application/json', body: JSON.stringify({ protocol: 1, error: { code: 'unknown_key', message: 'no evaluation keys are registered (or they expired)' } }) });
    });
    const registrations = browser.postsTo('/api/keys');
    const record = framinghamRow(framingham, '0,58,1,0,0,1,0,1,1,280,160,96,33.1,88,140,0');
    await fillForm(page, framingham, record);
    const errorsBefore = browser.errors.length;
    const r = await predictAndWait(page);
    await page.unroute('**/classify');
    // The browser logs the deliberate 404 to the console; that one is expected.
    expect(browser.errors.splice(errorsBefore)).toEqual(['Failed to load resource: the server responded with a status of 404 (Not Found)']);
    expect(refused).toBe(2);
    expect(browser.postsTo('/api/keys')).toBe(registrations + 1);
    expectReference(r, reference(framingham, record), 'after re-registration');
    sent.remember(framingham, record);
  });

  it('rotate to new keys, and a backup brings the old ones back', async () => {
    const { page, browser } = app;
    await nav(page, 'Keys');
    await page.getByRole('button', { name: 'Rotate keys' }).click();
    await page.getByRole('button', { name: 'Yes, rotate' }).click();
    await page.getByText('The old keys are gone').waitFor();
    await nav(page, 'My prediction');
    const record = framinghamRow(framingham, '1,52,1,1,30,0,0,1,0,260,150,95,31.2,85,99,0');
    await fillForm(page, framingham, record);
    const registrations = browser.postsTo('/api/keys');
    const r = await predictAndWait(page);
    expectReference(r, reference(framingham, record), 'after rotation');
    sent.remember(framingham, record);
    expect(browser.postsTo('/api/keys')).toBe(registrations + 1);
    const rotated = await fingerprintShown(page);
    expect(rotated).not.toBe(fingerprint);
    // The rotated key is checked against every request too, not only the first one.
    rotatedKeys = await secretKeysInBrowser(app);
    expect(rotatedKeys.map((k) => k.fingerprint)).toContain(rotated);

    await nav(page, 'Keys');
    await page.setInputFiles('#backup-input', backupFile);
    await page.getByLabel('Passphrase of the backup').fill('wrong passphrase');
    await page.getByTestId('import-backup').click();
    await page.getByTestId('confirm-restore').click();
    await page.getByRole('alert').filter({ hasText: 'the passphrase is wrong' }).waitFor();
    await page.setInputFiles('#backup-input', backupFile);
    await page.getByLabel('Passphrase of the backup').fill(PASSPHRASE);
    await page.getByTestId('import-backup').click();
    await page.getByTestId('confirm-restore').click();
    await page.getByText(/Restored \d+ keys? from keys-backup.json/).waitFor();
    await nav(page, 'My prediction');
    expect(await fingerprintShown(page)).toBe(fingerprint);
    const again = await predictAndWait(page);
    expect(again.score).toBe(r.score);
  });
});

whatLeftTheBrowser(app, sent, { secretKeys: () => [...keyBackup, ...rotatedKeys], atLeast: { posts: 8, records: 4 } });

describe('screens', () => {
  it('render at phone and desktop width (screenshots saved)', async () => {
    const { page, browser } = app;
    const screens = [
      ['patient', 'My prediction'],
      ['clinic', 'Clinic'],
      ['lab', 'Training lab'],
      ['history', 'History'],
      ['keys', 'Keys'],
      ['how', 'How it works'],
    ] as const;
    // The clinic screen with a table of results (clinic.test.ts checks them).
    const csv = resolve(app.workDir, 'clinic-1000.csv');
    await writeFile(csv, (await clinicCsv()).text);
    await nav(page, 'Clinic');
    await page.setInputFiles('#csv-input', csv);
    await page.getByTestId('results-table').waitFor({ timeout: 60_000 });
    const saved: string[] = [];
    for (const [name, link] of screens) {
      await nav(page, link);
      await page.locator('h1').first().waitFor();
      for (const width of [390, 1280]) {
        saved.push(await screenshot(page, name, width));
        // Nothing wider than the screen: no sideways scrolling at any width.
        expect(await sidewaysOverflow(page), `${name} at ${width}px scrolls sideways`).toBeLessThanOrEqual(0);
      }
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(saved).toHaveLength(12);
    expect(browser.errors).toEqual([]);
  });
});
