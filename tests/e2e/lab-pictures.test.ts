/**
 * The training lab's pictures and the builder's say over the features, in a real Chromium
 * against the real server, at desktop and phone widths: labels, units, ranges, a monotone
 * constraint with its reason and a code list set before training and found in the downloaded
 * model file (the constraint proved there); progress counted in the epochs set; ROC and
 * reliability pictures of the held-out rows whose AUC equals the file's own on those rows; the
 * model size shown equal to the downloaded file's bytes.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { sharedDataDir } from '../../src/cli/paths.ts';
import { parseCsv } from '../../src/core/data/csv.ts';
import { selectFeatures } from '../../src/core/data/select.ts';
import { rocAuc } from '../../src/core/metrics.ts';
import { makeModelCard } from '../../src/core/model/card.ts';
import { parseModel } from '../../src/core/model/format.ts';
import { verifyMonotone } from '../../src/core/model/monotone.ts';
import { decodeRisk, quantizeRecord, referenceScore } from '../../src/core/model/reference.ts';
import { reliabilityBins } from '../../src/app/lib/curves.ts';
import { predictReference } from '../../src/train/index.ts';
import { field, sidewaysOverflow } from './support/forms.ts';
import { screenshot, useAppSession } from './support/harness.ts';

const app = useAppSession({ name: 'lab-pictures' });
/** The Pima file with a coded column added (age group 1 to 4), written into the test's folder. */
const PIMA = resolve(app.workDir, 'pima-coded.csv');
const AGE_GROUPS = '1 = 21 to 29, 2 = 30 to 39, 3 = 40 to 49, 4 = 50 or more';
const WIDTHS = [1280, 390];
const EPOCHS = 6;

const row = (p: Page, name: string) => p.locator(`[data-testid=feature-specs] tr[data-feature=${name}]`);

describe('lab: features described before training, pictures after', () => {
  it('trains with the builder’s labels, units, ranges, codes and a monotone constraint', async () => {
    const { page } = app;
    const lines = (await readFile(resolve(sharedDataDir(), 'pima_indians_diabetes.csv'), 'utf8')).trim().split('\n');
    const age = lines[0]!.split(',').indexOf('age');
    await writeFile(PIMA, `${lines.map((l, i) => (i === 0 ? `age_group,${l}` : `${Math.min(4, Math.max(1, Math.floor(Number(l.split(',')[age]) / 10) - 1))},${l}`)).join('\n')}\n`);
    await page.goto(`${app.url}/#/lab`);
    await page.setInputFiles('#train-csv-input', PIMA);
    await page.getByTestId('data-summary').filter({ hasText: 'pima-coded.csv' }).waitFor();
    await field(page, 'Epochs').fill(String(EPOCHS));
    await field(page, 'Epochs').dispatchEvent('change');
    await field(page, 'Hidden units').fill('4');
    await field(page, 'Hidden units').dispatchEvent('change');
    await field(page, 'Ternary settings compared').selectOption('quick');

    // What it predicts and of whom: the card tells every risk in these words.
    await field(page, 'What it predicts (the risk of …)').fill('a positive diabetes test');
    await field(page, 'Who the rows are').fill('768 women of Pima heritage aged 21 or more');
    await field(page, 'Sex of the people in the data').selectOption('female');
    await field(page, 'Youngest age').fill('21');
    await field(page, 'Youngest age').dispatchEvent('change');
    await page.getByLabel('glucose label').fill('Plasma glucose, 2 h');
    await page.getByLabel('glucose unit').fill('mg/dL');
    // The data's own zeros (a glucose not measured) stay inside the range.
    await page.getByLabel('glucose lowest plausible value').fill('0');
    await page.getByLabel('glucose highest plausible value').fill('400');
    await page.getByLabel('glucose direction of the risk').selectOption('increasing');
    // A direction without a reason is refused before training, in words.
    await expect(page.locator('[data-feature-more=glucose] [data-testid=spec-problem]').innerText()).resolves.toBe('Say why the risk should move this way, or choose no direction.');
    await page.getByLabel('glucose reason').fill('Higher 2-hour glucose means more impaired glucose tolerance.');
    await expect(page.locator('[data-feature-more=glucose] [data-testid=spec-problem]').count()).resolves.toBe(0);
    await page.getByLabel('age_group codes').fill(AGE_GROUPS);
    await expect(row(page, 'age').isVisible()).resolves.toBe(true);
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
      await screenshot(page, 'lab-feature-specs', width);
    }
    await page.setViewportSize({ width: 1280, height: 900 });

    await page.getByTestId('train').click();
    // Progress in the epochs set: the float models compare settings, then train once more.
    const stage = page.getByTestId('stage-logistic');
    await stage.waitFor({ timeout: 60_000 });
    expect(await stage.innerText()).toMatch(new RegExp(`^(setting \\d of \\d|final training on all rows): epoch \\d of ${EPOCHS}$`));
    await page.getByTestId('lab-results').waitFor({ timeout: 180_000 });
    // How each model was chosen, as src/train does it: the TernaryNet's one run kept as it is.
    await expect(page.getByTestId('selection-words').innerText()).resolves.toMatch(/then retrain the best on all training rows\. The TernaryNet is trained once, with the first setting, and kept as it is;/);

    // The model size shown is the downloaded file's.
    const shownBytes = Number(await page.getByTestId('model-size').getAttribute('data-bytes'));
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-model').click()]);
    const bytes = await readFile(await download.path());
    expect(shownBytes).toBe(bytes.length);
    await expect(page.getByTestId('model-size').innerText()).resolves.toContain(`(${bytes.length.toLocaleString('en-US')} bytes)`);
    const model = parseModel(JSON.parse(bytes.toString('utf8')));
    const glucose = model.features.find((f) => f.name === 'glucose')!;
    expect(glucose).toMatchObject({ label: 'Plasma glucose, 2 h', unit: 'mg/dL', min: 0, max: 400, monotone: { direction: 'increasing', reason: 'Higher 2-hour glucose means more impaired glucose tolerance.' } });
    expect(glucose.monotone!.source).toMatch(/model builder/);
    expect(model.features.find((f) => f.name === 'age_group')!.description).toBe(`Codes: ${AGE_GROUPS}`);
    const card = makeModelCard(model, {});
    expect(card.outcome).toEqual({ risk: 'of a positive diabetes test', expects: 'to have a positive diabetes test', population: '768 women of Pima heritage aged 21 or more' });
    expect(card.population).toEqual({ who: '768 women of Pima heritage aged 21 or more', sex: 'female', age: { min: 21 } });
    // The constraint holds on the file, over the whole input box.
    const proof = verifyMonotone(model);
    expect(proof.holds).toBe(true);
    expect(proof.checks.map((c) => c.feature)).toEqual(['glucose']);

    // ROC: the area printed for the TernaryNet is the file's own on its held-out rows.
    const table = parseCsv(await readFile(PIMA, 'utf8'), 'pima-coded.csv');
    const { X, y } = selectFeatures(table, { features: model.features, label: 'label' });
    const rows = model.training!.testRows as number[];
    const auc = rocAuc(rows.map((r) => y[r]!), predictReference(model, rows.map((r) => X[r]!)));
    await expect(page.getByTestId('roc-auc').innerText()).resolves.toContain(`TernaryNet (integers) ${auc.toFixed(3)}`);
    await expect(page.locator('#chart-roc-desc').textContent()).resolves.toContain(`TernaryNet (integers): area under the curve ${auc.toFixed(3)}`);
    // Reliability: of the risks people are shown (decodeRisk, prior-shifted), not the class-balanced probabilities.
    const shown = rows.map((r) => decodeRisk(model.output, referenceScore(model, quantizeRecord(model, X[r]!))));
    const bins = reliabilityBins(rows.map((r) => y[r]!), shown).filter((b) => b.count > 0);
    const pct = (x: number) => `${Math.round(100 * x)}%`;
    await expect(page.locator('#chart-calibration-desc').textContent()).resolves.toContain(`TernaryNet (integers): ${bins.map((b) => `risk about ${pct(b.predicted)}, ${pct(b.observed)} had it (${b.count} rows)`).join(', ')}`);
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      await expect(page.getByTestId('roc').isVisible()).resolves.toBe(true);
      await expect(page.getByTestId('calibration').isVisible()).resolves.toBe(true);
      expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
      await screenshot(page, 'lab-pictures', width);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});
