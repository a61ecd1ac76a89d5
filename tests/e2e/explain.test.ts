/**
 * Explanations and what-ifs in a real Chromium against the real server on loopback: one
 * prediction is one classify request whose one ciphertext, the size of a plain prediction's
 * (at most 64 KB), carries the record and its variants; the page shows which values raised or
 * lowered the risk and how it would move with each modifiable value, and every number shown
 * equals the plaintext reference of its variant, computed here. Where the ciphertext has too few
 * regions for every value (breast cancer: 30 values, 8 regions), the page says which values it
 * could not explain. Every request body is checked afterwards.
 */
import { describe, expect, it } from 'vitest';
import { HeClient, parsePlan } from '../../src/core/he/index.ts';
import { averageVariant, planVariants, sweepVariant } from '../../src/core/explain/index.ts';
import type { TernaryModel } from '../../src/core/model/format.ts';
import { decodeRisk, quantizeRecord, referenceScore, type PlainRecord } from '../../src/core/model/reference.ts';
import { decodeMessage } from '../../src/core/protocol/codec.ts';
import { expectReference, framinghamRow, loadModel, reference } from './support/data.ts';
import { fillForm, field, predictAndWait, sidewaysOverflow } from './support/forms.ts';
import { screenshot, useAppSession } from './support/harness.ts';
import { SentRecords, secretKeysInBrowser, whatLeftTheBrowser } from './support/privacy.ts';

const app = useAppSession({ name: 'explain' });
const sent = new SentRecords();
const framingham = await loadModel('framingham-chd');
const pima = await loadModel('pima-diabetes');
const breast = await loadModel('breast-cancer');

/** The reference risk of a variant record. */
const riskOf = (model: TernaryModel, variant: PlainRecord) => decodeRisk(model.output, referenceScore(model, quantizeRecord(model, variant)));

/** Regions the served single plan gives a record (he/quadratic.ts), and the size of a plain prediction's ciphertext. */
async function regionsOf(model: TernaryModel): Promise<{ regions: number; singleBytes: number }> {
  const card = (await (await fetch(`${app.url}/api/models/${model.id}`)).json()) as { plans: { single: unknown } };
  const plan = parsePlan(card.plans.single);
  using client = await HeClient.create(plan);
  return { regions: client.regions, singleBytes: client.encryptRecord(quantizeRecord(model, model.input.mean)).ciphertexts[0]!.length };
}

/** Predicts `record` by the form and checks one request, its size, and every bar and point shown against the reference. */
async function predictAndCheck(model: TernaryModel, record: PlainRecord, sweeps: string[]) {
  const { page } = app;
  await page.goto(`${app.url}/#/patient`);
  await field(page, 'Model').selectOption(model.id);
  await fillForm(page, model, record);
  const classify = () => app.browser.requests.filter((r) => r.method === 'POST' && new URL(r.url).pathname === `/api/models/${model.id}/classify`);
  const before = classify().length;
  const r = await predictAndWait(page);
  expectReference(r, reference(model, record), `${model.id} result`);
  sent.remember(model, record);

  // One request, one ciphertext, as large as a plain single prediction's (zstd-compressed: equal
  // within a few bytes, as the random coefficients compress alike) and within 64 KB.
  const requests = classify().slice(before);
  expect(requests).toHaveLength(1);
  const message = decodeMessage(new Uint8Array(requests[0]!.body), 'classify');
  expect(message.count).toBe(1);
  expect(message.ciphertexts).toHaveLength(1);
  const { regions, singleBytes } = await regionsOf(model);
  expect(Math.abs(message.ciphertexts[0]!.length - singleBytes) / singleBytes).toBeLessThan(0.005);
  expect(requests[0]!.body.byteLength).toBeLessThanOrEqual(65_536);
  console.log(`${model.id}: ${regions} regions, ${message.ciphertexts[0]!.length.toLocaleString('en-US')} B ciphertext, ${requests[0]!.body.byteLength.toLocaleString('en-US')} B request`);

  // The planned variants are those the page shows.
  const plan = planVariants(model, record, regions);
  const risk = reference(model, record).risk;
  await page.getByTestId('explanation').waitFor();
  const bars = page.getByTestId('contribution');
  const shown = await bars.count();
  expect(shown).toBeGreaterThan(0);
  for (let k = 0; k < shown; k++) {
    const bar = bars.nth(k);
    const name = await bar.getAttribute('data-feature');
    const i = model.features.findIndex((f) => f.name === name);
    expect(plan.averages.some((a) => a.feature === i), `${name} was explained`).toBe(true);
    const atAverage = riskOf(model, averageVariant(model, record, i));
    expect(Number(await bar.getAttribute('data-risk-at-average')), `${name} at the average`).toBeCloseTo(atAverage, 12);
    expect(Number(await bar.getAttribute('data-change')), `${name} contribution`).toBeCloseTo(risk - atAverage, 12);
  }
  const charts = page.getByTestId('whatif');
  await expect(charts.count()).resolves.toBe(sweeps.length);
  for (const [k, name] of sweeps.entries()) {
    const chart = charts.nth(k);
    await expect(chart.getAttribute('data-feature')).resolves.toBe(name);
    const i = model.features.findIndex((f) => f.name === name);
    const points = JSON.parse((await chart.getAttribute('data-points'))!) as [number, number][];
    const planned = plan.sweeps.find((s) => s.feature === i)!.points.map((p) => p.value);
    expect(points.map(([v]) => v)).toEqual(planned);
    expect(points.length).toBeGreaterThanOrEqual(5);
    for (const [v, shownRisk] of points) expect(shownRisk, `${name} = ${v}`).toBeCloseTo(riskOf(model, sweepVariant(model, record, i, v)), 12);
    await expect(chart.getAttribute('data-current')).resolves.toBe(record[i] === null ? '' : String(record[i]));
    // The caption says whether a proof holds the curve's direction, and why medicine expects it.
    const direction = chart.getByTestId('whatif-direction');
    const declared = model.features[i]!.monotone;
    await expect(direction.getAttribute('data-declared')).resolves.toBe(declared?.direction ?? '');
    const words = await direction.innerText();
    if (declared) {
      expect(words).toContain(`the risk ${declared.direction === 'increasing' ? 'never falls' : 'never rises'} as ${model.features[i]!.label} rises`);
      expect(words).toContain(declared.reason);
    } else expect(words).toContain('No direction is declared');
  }
  // Values the request had no room for are named, in words; none when every value fitted.
  const unexplained = page.getByTestId('unexplained');
  if (plan.unexplained.length === 0) await expect(unexplained.count()).resolves.toBe(0);
  else {
    const words = await unexplained.innerText();
    expect(words).toContain(`${plan.unexplained.length} of your values could not be explained in this request`);
    for (const i of plan.unexplained) expect(words).toContain(model.features[i]!.label);
  }
  const text = await page.locator('main').innerText();
  if (sweeps.length) expect(text).toMatch(/not a promise/);
  expect(text).toContain('not a diagnosis');
  expect(app.browser.errors).toEqual([]);
}

describe('explanations and what-ifs', () => {
  it('Framingham: what each value contributed, and blood pressure, cholesterol, smoking and BMI swept, from one request', async () => {
    const record = framinghamRow(framingham, '1,61,3,1,30,0,0,1,0,225,150,95,28.58,65,103,1');
    await predictAndCheck(framingham, record, ['systolic_bp', 'total_cholesterol', 'cigs_per_day', 'bmi']);
    for (const width of [1280, 390]) {
      await screenshot(app.page, 'explain-framingham', width);
      expect(await sidewaysOverflow(app.page)).toBeLessThanOrEqual(0);
    }
    await app.page.setViewportSize({ width: 1280, height: 900 });
  });

  it('Pima: BMI and glucose swept, with a value left blank', async () => {
    const record: PlainRecord = pima.features.map((f) => ({ pregnancies: 2, glucose: 150, bmi: 34, diabetes_pedigree_function: null, age: 45 })[f.name] ?? null);
    await predictAndCheck(pima, record, ['bmi', 'glucose']);
  });

  it('breast cancer: the values farthest from the average explained in its 8 regions, the others named as not explained, no what-ifs', async () => {
    const record = breast.features.map((_, i) => Number((breast.input.mean[i]! + 0.8 * breast.input.std[i]! * (i % 3 === 0 ? 1 : -1)).toPrecision(4)));
    const { regions } = await regionsOf(breast);
    expect(regions).toBe(8);
    expect(planVariants(breast, record, regions).unexplained.length).toBeGreaterThan(0);
    await predictAndCheck(breast, record, []);
    for (const width of [1280, 390]) {
      await screenshot(app.page, 'explain-breast-cancer', width);
      expect(await sidewaysOverflow(app.page)).toBeLessThanOrEqual(0);
    }
    await app.page.setViewportSize({ width: 1280, height: 900 });
  });
});

whatLeftTheBrowser(app, sent, { secretKeys: () => secretKeysInBrowser(app), atLeast: { posts: 4, records: 3 } });
