/** Driving the app's screens the way a person would, and reading what they show. */
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import type { TernaryModel } from '../../../src/core/model/format.ts';
import type { PlainRecord } from '../../../src/core/model/reference.ts';

/**
 * The page's globals inside page functions. Those run in the browser, but these files compile
 * without DOM types, so they reach the page through `globalThis` cast to this (types only).
 */
interface InPage {
  document: {
    querySelector(selector: string): { getAttribute(name: string): string | null } | null;
    activeElement: { id: string } | null;
    documentElement: { scrollWidth: number; clientWidth: number };
  };
}

export const field = (p: Page, label: string) => p.getByLabel(label, { exact: true });
export const nav = (p: Page, name: string) => p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();

/** Types a record into the form. */
export async function fillForm(p: Page, model: TernaryModel, record: PlainRecord): Promise<void> {
  for (const [i, f] of model.features.entries()) {
    const v = record[i];
    if (f.kind === 'binary') await field(p, f.label).selectOption(v === null || v === undefined ? '' : String(v));
    else await field(p, f.label).fill(v === null || v === undefined ? '' : String(v));
  }
}

/** The decrypted score and the risk of the result on screen. */
export async function shownResult(p: Page): Promise<{ score: number; risk: number }> {
  const el = p.getByTestId('risk');
  return { score: Number(await el.getAttribute('data-score')), risk: Number(await el.getAttribute('data-value')) };
}

/** The `data-at` stamp of the result on screen (null: none shown); a new result gets a new one. */
const resultStamp = (p: Page) => p.getByTestId('risk').getAttribute('data-at', { timeout: 50 }).catch(() => null);

/** Waits until a result other than the one stamped `before` is on screen. */
export async function waitForNewResult(p: Page, before: string | null, timeout = 30_000): Promise<void> {
  await p.waitForFunction(
    (prev) => {
      const el = (globalThis as unknown as InPage).document.querySelector('[data-testid=risk]');
      return el !== null && el.getAttribute('data-at') !== prev;
    },
    before,
    { timeout },
  );
}

/** Clicks "Encrypt and predict" and waits for a new result; returns it and the time from click to shown. */
export async function predictAndWait(p: Page): Promise<{ risk: number; score: number; ms: number; text: string }> {
  const before = await resultStamp(p);
  const t0 = performance.now();
  await p.getByTestId('predict').click();
  await waitForNewResult(p, before);
  const ms = performance.now() - t0;
  return { ...(await shownResult(p)), ms, text: await p.getByTestId('risk').innerText() };
}

/** A visit to My prediction: opens it, picks the model, types the record, predicts. */
export async function visitAndPredict(p: Page, url: string, model: TernaryModel, record: PlainRecord) {
  await p.goto(`${url}/#/patient`);
  await field(p, 'Model').selectOption(model.id);
  await fillForm(p, model, record);
  return predictAndWait(p);
}

/** The fingerprint of the key in use, as shown (without its spacing). */
export const fingerprintShown = async (p: Page) => (await p.getByTestId('key-fingerprint').innerText()).replace(/\s/g, '');

/** On the Keys screen: exports the passphrase-encrypted backup and returns the downloaded file. */
export async function exportBackup(p: Page, passphrase: string): Promise<Uint8Array> {
  await p.getByLabel('Passphrase (8 characters or more)').fill(passphrase);
  await p.getByLabel('Passphrase again').fill(passphrase);
  const [download] = await Promise.all([p.waitForEvent('download'), p.getByTestId('export-backup').click()]);
  return new Uint8Array(await readFile(await download.path()));
}

/** The id of the focused element. */
export const focusedId = (p: Page) => p.evaluate(() => (globalThis as unknown as InPage).document.activeElement?.id);

/** How far the page is wider than the screen (> 0: it scrolls sideways). */
export const sidewaysOverflow = (p: Page) =>
  p.evaluate(() => {
    const root = (globalThis as unknown as InPage).document.documentElement;
    return root.scrollWidth - root.clientWidth;
  });
