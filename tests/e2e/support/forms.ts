/** Filling the patient form the way a person would, and reading the result shown. */
import type { Page } from 'playwright-core';
import type { TernaryModel } from '../../../src/core/model/format.ts';
import type { PlainRecord } from '../../../src/core/model/reference.ts';

export const field = (p: Page, label: string) => p.getByLabel(label, { exact: true });
export const nav = (p: Page, name: string) => p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();

export async function fillForm(p: Page, model: TernaryModel, record: PlainRecord): Promise<void> {
  for (const [i, f] of model.features.entries()) {
    const v = record[i];
    if (f.kind === 'binary') await field(p, f.label).selectOption(v === null || v === undefined ? '' : String(v));
    else await field(p, f.label).fill(v === null || v === undefined ? '' : String(v));
  }
}

/** The decrypted score and probability of the result on screen. */
export async function shownResult(p: Page): Promise<{ score: number; probability: number }> {
  const el = p.getByTestId('probability');
  return { score: Number(await el.getAttribute('data-score')), probability: Number(await el.getAttribute('data-value')) };
}
