/**
 * My prediction in a real Chromium against the real server on loopback: a first visit (keys,
 * registration and one record by the form; timed), range checks with clear messages, the
 * keyboard, and FHIR bundles imported with their provenance. Every shown result must equal the
 * plaintext integer reference computed here, and every request body the browser sent is checked.
 * The browser runs in America/Los_Angeles, west of Greenwich, where a date read as midnight UTC
 * shows as the day before.
 */
import { readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedDataDir } from '../../src/cli/paths.ts';
import { mapFhirBundle } from '../../src/core/data/fhir.ts';
import type { TernaryModel } from '../../src/core/model/format.ts';
import { expectReference, framinghamRow, loadModel, reference } from './support/data.ts';
import { field, fillForm, focusedId, nav, predictAndWait, sidewaysOverflow, visitAndPredict, waitForNewResult } from './support/forms.ts';
import { screenshot, useAppSession } from './support/harness.ts';
import { SentRecords, secretKeysInBrowser, whatLeftTheBrowser } from './support/privacy.ts';

const TIME_ZONE = 'America/Los_Angeles';
const app = useAppSession({ name: 'patient', browser: { timezoneId: TIME_ZONE, locale: 'en-US' } });
const { timings } = app;
const framingham = await loadModel('framingham-chd');
const sent = new SentRecords();

/**
 * The record with the highest risk among the corners of the form's ranges: every constrained
 * risk factor at its riskier end, every other value at either end (found by trying them all,
 * so the test does not depend on one trained model's weights).
 */
function riskiestCorner(model: TernaryModel): number[] {
  const free = model.features.filter((f) => !f.monotone);
  let best = { risk: -1, record: [] as number[] };
  for (let mask = 0; mask < 1 << free.length; mask++) {
    const record = model.features.map((f) => (f.monotone ? (f.monotone.direction === 'decreasing' ? f.min : f.max) : (mask >> free.indexOf(f)) & 1 ? f.max : f.min));
    const { risk } = reference(model, record);
    if (risk > best.risk) best = { risk, record };
  }
  return best.record;
}

/** "1964-08-30" or "2021-03-22T00:48:33+00:00" as an en-US reader expects it: "Aug 30, 1964", the date as written. */
function writtenDate(fhir: string): string {
  const [y, m, d] = fhir.slice(0, 10).split('-').map(Number);
  return new Date(Date.UTC(y!, m! - 1, d!, 12)).toLocaleDateString('en-US', { dateStyle: 'medium', timeZone: 'UTC' });
}

describe('patient', () => {
  it('first visit: keys, registration and one record by the form, equal to the reference', async () => {
    const { page } = app;
    const record = framinghamRow(framingham, '1,39,4,0,0,0,0,0,0,195,106,70,26.97,80,77,0');
    // A first visit starts on a model a patient can fill in or import, not on breast cancer's 30 image measurements.
    await page.goto(`${app.url}/#/patient`);
    await expect(field(page, 'Model').inputValue()).resolves.toBe('framingham-chd');
    await expect(page.getByRole('heading', { name: 'Import your health record' }).isVisible()).resolves.toBe(true);
    await expect(field(page, 'Systolic blood pressure').isVisible()).resolves.toBe(true);
    const t0 = performance.now();
    const r = await visitAndPredict(page, app.url, framingham, record);
    timings.firstVisitToFirstResult = performance.now() - t0;
    const ref = reference(framingham, record);
    expectReference(r, ref, 'first record');
    expect(r.text).toBe(`${Math.round(ref.risk * 100)}%`);
    // A risk with its population and meaning, never a class label read as a diagnosis.
    const shown = await page.getByTestId('result').innerText();
    expect(shown).not.toContain('Predicted class');
    for (const c of framingham.classes) expect(shown).not.toContain(c);
    expect(shown).toContain('estimated risk of coronary heart disease within ten years');
    await expect(page.getByTestId('meaning').innerText()).resolves.toMatch(/^Out of 100 people like those the model learned from \(4,240 adults .*\) with values like yours, the model expects about \d+ to develop coronary heart disease within ten years\./);
    await expect(page.getByTestId('per100').innerText()).resolves.toBe(`about ${Math.round(ref.risk * 100)}`);
    // The gauge marks the training data's average, where the model's decision lies.
    await expect(page.getByTestId('average').textContent()).resolves.toBe(`average ${Math.round(framingham.output.prior! * 100)}%`);
    sent.remember(framingham, record);
    expect(app.browser.postsTo('/api/keys')).toBeGreaterThanOrEqual(1);
    console.log(`first visit → first result: ${Math.round(timings.firstVisitToFirstResult)} ms (target ≤ 3000)`);
    // The targets are printed; only a gross regression (3× the target) fails the run on a busy machine.
    expect(timings.firstVisitToFirstResult).toBeLessThan(9000);
  });

  it('checks ranges with a clear message, then predicts again in under a second', async () => {
    const { page } = app;
    await field(page, 'Age').fill('150');
    await page.getByTestId('predict').click();
    const age = field(page, 'Age');
    await expect(age.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.locator('#f-age-error').innerText()).resolves.toBe('Age must be from 18 to 110 years; 150 years is outside that range.');
    expect(await age.getAttribute('aria-describedby')).toContain('f-age-error');
    await expect(focusedId(page)).resolves.toBe('f-age');

    await age.fill('61');
    await field(page, 'Cigarettes per day').fill('20');
    const record = framinghamRow(framingham, '1,61,4,1,20,0,0,0,0,195,106,70,26.97,80,77,0');
    const r = await predictAndWait(page);
    timings.followingPrediction = r.ms;
    expectReference(r, reference(framingham, record), 'second record');
    sent.remember(framingham, record);
    console.log(`following prediction, click → shown: ${Math.round(r.ms)} ms (target ≤ 1000)`);
    expect(r.ms).toBeLessThan(3000);
  });

  it('works from the keyboard: Enter submits, focus moves to the result', async () => {
    const { page } = app;
    await field(page, 'Glucose').focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('95');
    const before = await page.getByTestId('risk').getAttribute('data-at');
    await page.keyboard.press('Enter');
    await waitForNewResult(page, before);
    await expect(focusedId(page)).resolves.toBe('result-heading');
    const record = framinghamRow(framingham, '1,61,4,1,20,0,0,0,0,195,106,70,26.97,80,95,0');
    expect(Number(await page.getByTestId('risk').getAttribute('data-score'))).toBe(reference(framingham, record).score);
    sent.remember(framingham, record);
  });

  it.each([1280, 390])('a near-certain risk reads "more than 99 in 100", never 100, here and in History (%i px)', async (width) => {
    const { page } = app;
    await page.setViewportSize({ width, height: width < 600 ? 844 : 900 });
    const record = riskiestCorner(framingham);
    const ref = reference(framingham, record);
    expect(ref.risk).toBeGreaterThan(0.995);
    await fillForm(page, framingham, record);
    const r = await predictAndWait(page);
    expectReference(r, ref, `near-certain record at ${width} px`);
    sent.remember(framingham, record);
    expect(r.text).toBe('>99%');
    await expect(page.getByTestId('per100').innerText()).resolves.toBe('more than 99');
    const meaning = await page.getByTestId('meaning').innerText();
    expect(meaning).toContain('the model expects more than 99 to develop coronary heart disease within ten years.');
    expect(meaning).not.toMatch(/expects (about )?100\b/);
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await screenshot(page, 'patient-result', width);

    await nav(page, 'History');
    const entry = page.getByTestId('history').locator('li').first();
    await expect(entry.innerText()).resolves.toContain('>99% estimated risk of coronary heart disease within ten years');
    await expect(entry.getByTestId('history-meaning').innerText()).resolves.toBe('Out of 100 people like those the model learned from (4,240 adults followed by the Framingham Heart Study in Massachusetts) with those values, it expected more than 99 to develop coronary heart disease within ten years. Not a diagnosis.');
    for (const c of framingham.classes) await expect(page.getByTestId('history').innerText()).resolves.not.toContain(c);
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await screenshot(page, 'history', width);
    await nav(page, 'My prediction');
    await page.getByTestId('result').waitFor();
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it.each([1280, 390])('marks the result out of date as soon as a value changes, beside the result and the button (%i px)', async (width) => {
    const { page } = app;
    await page.setViewportSize({ width, height: width < 600 ? 844 : 900 });
    const result = page.getByTestId('result');
    await expect(result.getAttribute('data-stale')).resolves.toBe('false');
    const age = field(page, 'Age');
    const was = await age.inputValue();
    await age.fill(String(Number(was) + 1));
    await page.getByTestId('stale').waitFor();
    await expect(result.getAttribute('data-stale')).resolves.toBe('true');
    await expect(page.getByTestId('stale').innerText()).resolves.toContain('you changed Age after this result');
    await expect(page.getByTestId('stale-form').isVisible()).resolves.toBe(true);
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await screenshot(page, 'patient-stale', width);
    // Back to the value it was computed from: the result is current again.
    await age.fill(was);
    await page.getByTestId('stale').waitFor({ state: 'detached' });
    await expect(result.getAttribute('data-stale')).resolves.toBe('false');
    await expect(page.getByTestId('stale-form').count()).resolves.toBe(0);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  const bundles = ['Ardath226_Maude482_Feeney44_611bb297-2f51-beea-a7ec-4df0b59cb135.json', 'Bryan_Breitenberg_8ce561ed-8bf7-4b0b-b1cd-e26775a8a8f8.json'];
  it.each(bundles)('imports the FHIR bundle %s, shows provenance, and predicts the reference', async (file) => {
    const { page } = app;
    const path = resolve(sharedDataDir(), 'fhir', file);
    expect(readdirSync(resolve(sharedDataDir(), 'fhir'))).toContain(file);
    const mapping = mapFhirBundle(JSON.parse(await readFile(path, 'utf8')), framingham.features, { source: file });
    await page.setInputFiles('#fhir-input', path);
    await page.getByTestId('fhir-summary').filter({ hasText: file }).waitFor();
    for (const [i, f] of framingham.features.entries()) {
      const v = mapping.values[i];
      await expect(field(page, f.label).inputValue(), f.name).resolves.toBe(v === null ? '' : String(v));
    }
    // Dates are calendar dates, as the record writes them, whatever the browser's time zone.
    await expect(page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone)).resolves.toBe(TIME_ZONE);
    const birthDate = mapping.patient.birthDate!;
    await expect(page.getByTestId('fhir-summary').innerText()).resolves.toContain(`born ${writtenDate(birthDate)}`);
    await expect(page.locator('#f-age-source').innerText()).resolves.toContain(`From the record, ${writtenDate(birthDate)}.`);
    const systolicFill = mapping.fills.find((f) => f.feature === 'systolic_bp')!;
    await expect(page.locator('#f-systolic_bp-source').innerText()).resolves.toContain(`From the record, ${writtenDate(systolicFill.date!)}.`);
    const systolic = await page.locator('#f-systolic_bp-source').innerText();
    expect(systolic).toContain('LOINC 8480-6');
    expect(systolic).toMatch(/blood-pressure panel (85354-9|55284-4)/);
    const missing = mapping.fills.filter((f) => f.status === 'missing');
    for (const m of missing) await expect(page.locator(`#f-${m.feature}-source`).innerText()).resolves.toContain('please fill in');
    const r = await predictAndWait(page);
    expectReference(r, reference(framingham, mapping.values), file);
    sent.remember(framingham, mapping.values);
    // Nothing logged an error on the way (app.test.ts checked this once, at its end, for all its flows).
    expect(app.browser.errors).toEqual([]);
  });

  it('a failed import replaces the one before: no old summary, values or result beside the error', async () => {
    const { page } = app;
    await expect(page.getByTestId('fhir-summary').count()).resolves.toBe(1);
    await expect(page.getByTestId('result').count()).resolves.toBe(1);
    const broken = resolve(app.workDir, 'broken-record.json');
    await writeFile(broken, '{"resourceType": "Bundle", "entry": [');
    await page.setInputFiles('#fhir-input', broken);
    const error = page.getByRole('alert').filter({ hasText: 'broken-record.json' });
    await error.waitFor();
    await expect(error.innerText()).resolves.toContain('could not be read');
    await expect(page.getByTestId('fhir-summary').count()).resolves.toBe(0);
    await expect(page.getByTestId('result').count()).resolves.toBe(0);
    for (const f of framingham.features) await expect(field(page, f.label).inputValue(), f.name).resolves.toBe('');
    expect(app.browser.errors).toEqual([]);
  });

  it.each([1280, 390])('does not predict from an empty form, nor without the values the model needs (%i px)', async (width) => {
    const { page } = app;
    await page.setViewportSize({ width, height: width < 600 ? 844 : 900 });
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    const classify = () => app.browser.postsTo('/api/models/framingham-chd/classify');
    const before = classify();
    await page.getByTestId('predict').click();
    const shortfall = page.getByTestId('shortfall');
    await shortfall.waitFor();
    await expect(shortfall.innerText()).resolves.toContain('It needs at least 7 of its 13 values; none is filled in.');
    await expect(focusedId(page)).resolves.toBe('f-age');
    // Every value but the seven risk factors the card needs.
    const some: Record<string, number> = { male: 1, bp_meds: 0, prevalent_stroke: 0, diastolic_bp: 80, bmi: 26, heart_rate: 75 };
    await fillForm(page, framingham, framingham.features.map((f) => some[f.name] ?? null));
    await page.getByTestId('predict').click();
    await expect(shortfall.innerText()).resolves.toContain('Fill in Age, Cigarettes per day, Hypertension, Diabetes, Total cholesterol, Systolic blood pressure, Glucose: this model does not predict without them.');
    await expect(shortfall.isVisible()).resolves.toBe(true);
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await screenshot(page, 'patient-shortfall', width);
    await page.waitForTimeout(300);
    await expect(page.getByTestId('result').count()).resolves.toBe(0);
    expect(classify()).toBe(before);
    // With the values it needs it predicts; the one left blank is filled with a typical value.
    const record = framinghamRow(framingham, '1,50,4,0,0,0,0,0,0,220,130,80,26,,90,0');
    await fillForm(page, framingham, record);
    await expect(shortfall.count()).resolves.toBe(0);
    const r = await predictAndWait(page);
    expectReference(r, reference(framingham, record), `minimum record at ${width} px`);
    sent.remember(framingham, record);
    expect(classify()).toBe(before + 1);
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});

whatLeftTheBrowser(app, sent, { secretKeys: () => secretKeysInBrowser(app), atLeast: { posts: 6, records: 5 } });
