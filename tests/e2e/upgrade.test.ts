/**
 * What an earlier version of the app left in this browser, read by this version in a real
 * Chromium against the real server on loopback: its key pair (of the earlier single plans'
 * parameters, BFV n = 8192, restored from a backup) stays in the ring beside the new one the
 * current plan's parameters need; History entries stay as they were and still show; a
 * prediction queued under the earlier single plan (the service no longer serves it) is
 * encrypted again under the current plan from the values kept with it, sent once and answered
 * exactly, into the same History entry; evaluation keys kept for the earlier plan are dropped
 * quietly, with no notice and nothing sent with them.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { hashParts } from '../../src/core/hash.ts';
import { chooseParameters, contextFor, describeParameters, parametersHash } from '../../src/core/he/params.ts';
import { loadSeal } from '../../src/core/he/seal.ts';
import type { ModelCard } from '../../src/core/model/card.ts';
import { sealBackup, type SecretKeyEntry } from '../../src/core/vault/backup.ts';
import type { PlainRecord } from '../../src/core/model/reference.ts';
import { loadModel, reference } from './support/data.ts';
import { fingerprintShown, nav, shownResult } from './support/forms.ts';
import { useAppSession } from './support/harness.ts';
import { SentRecords, secretKeysInBrowser, whatLeftTheBrowser } from './support/privacy.ts';

const app = useAppSession({ name: 'upgrade' });
const framingham = await loadModel('framingham-chd');
const sent = new SentRecords();

/** The little of IndexedDB's API the writes below use (this file compiles without DOM types). */
interface PageIdb {
  indexedDB: {
    open(name: string): {
      result: {
        transaction(store: string, mode?: string): {
          objectStore(name: string): { put(value: unknown, key: string): void; getAllKeys(): { result: unknown[]; onsuccess: () => void } };
          oncomplete: () => void;
          onerror: () => void;
        };
      };
      onsuccess: () => void;
      onerror: () => void;
    };
  };
}

/** Puts records into one of the page's idb-keyval stores, as an earlier version wrote them (`body`: bytes, given as numbers). */
async function put(page: Page, db: string, records: [string, Record<string, unknown>][]): Promise<void> {
  await page.evaluate(
    ({ db, records }) =>
      new Promise<void>((resolve, reject) => {
        const open = (globalThis as unknown as PageIdb).indexedDB.open(db);
        open.onerror = () => reject(new Error(`could not open ${db}`));
        open.onsuccess = () => {
          const store = db.replace('cipherclinic-', '');
          const tx = open.result.transaction(store, 'readwrite');
          for (const [key, value] of records) {
            const body = value.body as number[] | undefined;
            tx.objectStore(store).put(body ? { ...value, body: new Uint8Array(body) } : value, key);
          }
          tx.oncomplete = () => resolve();
          tx.onerror = () => reject(new Error(`could not write ${db}`));
        };
      }),
    { db, records },
  );
}

/** The keys of one of the page's idb-keyval stores. */
async function keysOf(page: Page, db: string): Promise<string[]> {
  return page.evaluate(
    (db) =>
      new Promise<string[]>((resolve, reject) => {
        const open = (globalThis as unknown as PageIdb).indexedDB.open(db);
        open.onerror = () => reject(new Error(`could not open ${db}`));
        open.onsuccess = () => {
          const store = db.replace('cipherclinic-', '');
          const req = open.result.transaction(store).objectStore(store).getAllKeys();
          req.onsuccess = () => resolve(req.result.map(String));
        };
      }),
    db,
  );
}

const random = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 256));

/** A key pair of the earlier single plans' parameters (BFV n = 8192, three 60-bit primes), as its ring held it. */
async function earlierKey(): Promise<SecretKeyEntry> {
  const seal = await loadSeal();
  const params = chooseParameters(seal, 'bfv', 8192, [60, 60, 60], 21);
  const keygen = new seal.KeyGenerator(contextFor(seal, params));
  const sk = keygen.secretKey();
  const secretKey = sk.saveToArray(seal.ComprModeType.zstd) as Uint8Array;
  sk.delete();
  keygen.delete();
  // The fingerprint as the HE worker makes it (core/he/client.ts).
  const fingerprint = hashParts([new TextEncoder().encode('cipherclinic key fingerprint v1'), secretKey]).slice(0, 16);
  return { paramsHash: parametersHash(params), fingerprint, createdAt: '2026-11-01T09:00:00.000Z', parameters: describeParameters(params), secretKey };
}

describe('after an upgrade of the app and the service', () => {
  const values: Record<string, number> = { male: 1, age: 58, cigs_per_day: 15, prevalent_hypertension: 1, diabetes: 0, total_cholesterol: 250, systolic_bp: 146, diastolic_bp: 90, glucose: 92 };
  const record: PlainRecord = framingham.features.map((f) => values[f.name] ?? null);
  const inputs = framingham.features.map((f) => ({ name: f.name, label: f.label, text: values[f.name] === undefined ? '' : String(values[f.name]), unit: f.unit }));
  /** A History entry as the earlier version saved it, under its key pair of the earlier parameters. */
  const earlierEntry = {
    id: 'earlier-entry', at: '2026-11-02T10:15:00.000Z', modelId: 'framingham-chd', modelTitle: 'Coronary heart disease in 10 years (Framingham)', source: 'form', origin: 'entered by hand',
    fingerprint: 'set below', modelHash: framingham.hash, risk: 0.1834, label: 'CHD in 10 years',
    outcome: { risk: 'of coronary heart disease within ten years', expects: 'to develop coronary heart disease within ten years', population: '4,240 adults followed by the Framingham Heart Study in Massachusetts' },
    inputs: inputs.map((v) => (v.name === 'age' ? { ...v, text: '61' } : v)),
  };

  it('History keeps its entries, the prediction queued under the earlier plan is encrypted again and answered, the earlier keys are dropped', async () => {
    const { page } = app;
    // The earlier version's key pair, restored into the ring from a backup as a person would.
    const old = await earlierKey();
    const backupFile = resolve(app.workDir, 'earlier-keys.json');
    await writeFile(backupFile, await sealBackup([old], 'the earlier passphrase'));
    await page.goto(`${app.url}/#/keys`);
    await page.setInputFiles('#backup-input', backupFile);
    await page.getByLabel('Passphrase of the backup').fill('the earlier passphrase');
    // (A ring with no key yet is restored without asking to replace it.)
    await page.getByTestId('import-backup').click();
    await page.getByText('Restored 1 key from earlier-keys.json').waitFor();
    await page.goto(`${app.url}/#/patient`);
    await page.getByTestId('predict').waitFor();
    const { cards } = (await (await fetch(`${app.url}/api/models`)).json()) as { cards: ModelCard[] };
    const card = cards.find((c) => c.id === 'framingham-chd')!;
    const plan = card.plans.single!;
    // What the earlier version left: a queued prediction made under its plan (another format,
    // another hash, a ciphertext the service cannot use), its evaluation keys, and a History entry.
    const earlierPlan = { ...plan, version: plan.version - 1, hash: 'e'.repeat(64) };
    earlierEntry.fingerprint = old.fingerprint;
    const queued = {
      v: 1, id: 'queued-under-earlier-plan', queuedAt: '2026-11-30T08:00:00.000Z', modelId: card.id, modelTitle: card.title, plan: earlierPlan, output: card.output, classes: card.classes,
      keyId: 'k'.repeat(64), fingerprint: old.fingerprint, body: random(2048), contentHash: 'c'.repeat(64), contentBytes: 2000, imputed: [], source: 'form', origin: 'entered by hand',
      facts: { modelHash: card.modelHash, outcome: earlierEntry.outcome, inputs }, variants: 40, attempts: 3,
    };
    const registration = { v: 1, keyId: 'k'.repeat(64), planHash: earlierPlan.hash, fingerprint: old.fingerprint, createdAt: '2026-11-01T09:00:00.000Z', body: random(4096), contentHash: 'k'.repeat(64), contentBytes: 3_100_000, expiresAt: '2026-12-31T00:00:00.000Z' };
    await put(page, 'cipherclinic-history', [[earlierEntry.id, earlierEntry]]);
    await put(page, 'cipherclinic-outbox', [[`prediction:${queued.id}`, queued]]);
    await put(page, 'cipherclinic-registrations', [[`${registration.fingerprint}:${registration.planHash}`, registration]]);
    const postsBefore = app.browser.requests.filter((r) => r.method === 'POST').length;

    await page.reload();
    // Encrypted again under the current plan (a new key pair for its parameters), sent once, answered exactly.
    // (The page shows no result after a reload until a queued one is delivered.)
    await page.getByTestId('risk').waitFor({ timeout: 90_000 });
    const shown = await shownResult(page);
    expect(shown.score).toBe(reference(framingham, record).score);
    sent.remember(framingham, record);
    const classify = app.browser.requests.filter((r) => r.url.endsWith('/classify') && r.headers['idempotency-key'] === queued.id);
    expect(classify).toHaveLength(1);
    const keyPosts = app.browser.postsTo('/api/keys');
    expect(keyPosts).toBe(1);
    expect(app.browser.requests.filter((r) => r.method === 'POST').length).toBe(postsBefore + 2);
    // Its explanation, planned again for the current plan's regions, came with it.
    await page.getByTestId('explanation').waitFor();
    // The earlier plan's keys are gone; only the current plan's are kept.
    await expect.poll(() => keysOf(page, 'cipherclinic-registrations')).toEqual([`${await fingerprintShown(page)}:${plan.hash}`]);
    expect(await page.locator('.notice').allInnerTexts()).not.toContainEqual(expect.stringMatching(/set aside|could not be read/));
    // A new key pair for the current plan's parameters; the earlier one is kept beside it.
    const current = await fingerprintShown(page);
    expect(current).not.toBe(old.fingerprint);
    await nav(page, 'Keys');
    const listed = page.getByTestId('key-list').locator('li');
    // (The screen renders after the click; the ring may still be refreshing from the key just made.)
    await expect.poll(() => listed.count(), { timeout: 10_000 }).toBe(2);
    const ring = await listed.allInnerTexts();
    expect(ring.some((k) => k.includes(old.fingerprint.match(/.{4}/g)!.join(' ')) && k.includes('BFV n=8192'))).toBe(true);
    expect(ring.some((k) => k.includes(current.match(/.{4}/g)!.join(' ')) && k.includes('BFV n=4096'))).toBe(true);

    // History: the earlier entry as it was, and the delivered one under the queued id.
    await nav(page, 'History');
    await page.getByTestId('history').waitFor();
    const earlier = page.locator('[data-testid=history-entry][data-id="earlier-entry"]');
    await expect(earlier.getByTestId('history-meaning').innerText()).resolves.toBe('Out of 100 people like those the model learned from (4,240 adults followed by the Framingham Heart Study in Massachusetts) with those values, it expected about 18 to develop coronary heart disease within ten years. Not a diagnosis.');
    await expect(earlier.getByTestId('history-inputs').textContent()).resolves.toContain('Age = 61 years');
    await expect(earlier.innerText()).resolves.toContain('18%');
    await expect(earlier.innerText()).resolves.toContain(`key ${old.fingerprint.match(/.{4}/g)!.join(' ')}`);
    const answered = page.locator(`[data-testid=history-entry][data-id="${queued.id}"]`);
    await expect(answered.getByTestId('history-queued').innerText()).resolves.toMatch(/^\(asked for offline at .*, sent when the service could be reached\)$/);
    await expect(answered.getByTestId('history-inputs').textContent()).resolves.toContain('Age = 58 years');
    expect(app.browser.errors).toEqual([]);
  });
});

whatLeftTheBrowser(app, sent, { secretKeys: () => secretKeysInBrowser(app), atLeast: { posts: 2, records: 1 } });
