/**
 * Evaluation keys go to the service when a person asks for a prediction, with their size said
 * (a single plan's public key: about 65 KB; a batch plan's relinearization keys: 140 KB), and never
 * while someone browses the models. A real Chromium against
 * the real server on loopback browses every model on both screens and opens "About this
 * model" on each (no key leaves), then predicts once (exactly one key registration, whose
 * size the page stated), then predicts again (none).
 */
import { describe, expect, it } from 'vitest';
import { expectReference, framinghamRow, loadModel, reference } from './support/data.ts';
import { field, fillForm, nav, predictAndWait } from './support/forms.ts';
import { useAppSession } from './support/harness.ts';
import { SentRecords, secretKeysInBrowser, whatLeftTheBrowser } from './support/privacy.ts';

const app = useAppSession({ name: 'keys-on-demand' });
const framingham = await loadModel('framingham-chd');
const sent = new SentRecords();
const keyPosts = () => app.browser.postsTo('/api/keys');

/** Picks every model the screen's picker offers and opens its "About this model"; returns the ids. */
async function browseEveryModel(): Promise<string[]> {
  const { page } = app;
  // The picker fills in once the cards have come.
  await field(page, 'Model').locator('option').first().waitFor({ state: 'attached' });
  const ids = await field(page, 'Model').locator('option').evaluateAll((options) => options.map((o) => (o as unknown as { value: string }).value));
  for (const id of ids) {
    await field(page, 'Model').selectOption(id);
    // The box stays open from one model to the next once opened; open it where it is closed.
    if ((await page.locator('details[open] .description').count()) === 0) await page.getByText('About this model').click();
    await page.locator('details[open] .description').waitFor();
    // Give any background work the picking might start the time to send something.
    await page.waitForTimeout(300);
  }
  return ids;
}

describe('keys on demand', () => {
  it('browsing and picking every model and reading about it sends no key', async () => {
    const { page } = app;
    await page.goto(`${app.url}/#/patient`);
    const single = await browseEveryModel();
    await nav(page, 'Clinic');
    const batch = await browseEveryModel();
    await nav(page, 'My prediction');
    await field(page, 'Model').selectOption('framingham-chd');
    // Typing a record is not asking for a prediction either.
    await field(page, 'Age').fill('39');
    await page.waitForTimeout(1000);
    expect(single.length).toBeGreaterThanOrEqual(2);
    expect(batch.length).toBeGreaterThanOrEqual(1);
    expect(keyPosts()).toBe(0);
    expect(app.browser.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('the first prediction registers the keys once, saying their size; the next sends none', async () => {
    const { page } = app;
    const record = framinghamRow(framingham, '1,39,4,0,0,0,0,0,0,195,106,70,26.97,80,77,0');
    await fillForm(page, framingham, record);
    // The size is said while the keys are made and sent. That can last a fraction of a second, so
    // every notice the page shows is recorded as it appears rather than polled for.
    // (A string, so that these page globals need no DOM types here.)
    await page.evaluate(`(() => {
      const seen = (globalThis.seenNotices = []);
      new MutationObserver(() => {
        for (const n of document.querySelectorAll('.notice')) if (n.textContent && !seen.includes(n.textContent)) seen.push(n.textContent);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    })()`);
    const r = await predictAndWait(page);
    const notices = (await page.evaluate('globalThis.seenNotices')) as string[];
    const said = notices.map((n) => /^This model needs (\d+\.\d) KB of keys, sent once\. Making and sending them…$/.exec(n.trim())).filter((m) => m !== null);
    expect(said).toHaveLength(1);
    expectReference(r, reference(framingham, record), 'first record');
    sent.remember(framingham, record);
    expect(keyPosts()).toBe(1);
    // The stated size is the size sent: the registration body carries the keys (and a few hashes).
    const body = app.browser.requests.find((q) => new URL(q.url).pathname === '/api/keys')!.body.byteLength;
    const { cards } = (await (await fetch(`${app.url}/api/models`)).json()) as { cards: { id: string; plans: { single: { report: { evaluationKeyBytes: number } } } }[] };
    const plan = cards.find((c) => c.id === 'framingham-chd')!.plans.single;
    // Keys are random and sent compressed, so two key sets differ in size a little (1.2 % once seen).
    expect(Math.abs(body - plan.report.evaluationKeyBytes) / plan.report.evaluationKeyBytes).toBeLessThan(0.02);
    // The single plan's keys are its public key alone: the size said is the size sent, well under 2 MB.
    expect(Math.abs(Number(said[0]![1]) * 1024 - body) / body).toBeLessThan(0.02);
    expect(body).toBeLessThan(2 * 1024 * 1024);
    console.log(`keys registered with the first prediction: ${(body / 1024).toFixed(1)} KB in one request`);

    await field(page, 'Age').fill('61');
    const again = framinghamRow(framingham, '1,61,4,0,0,0,0,0,0,195,106,70,26.97,80,77,0');
    expectReference(await predictAndWait(page), reference(framingham, again), 'second record');
    sent.remember(framingham, again);
    expect(keyPosts()).toBe(1);
  });

  it('sets aside a stored record it cannot read, with a notice in words, and goes on working', async () => {
    const { page, browser } = app;
    const errorsBefore = browser.errors.length;
    const notice = 'A prediction waiting to be sent was stored by an earlier or damaged version of this app and could not be read, so it was set aside.';
    // A damaged queued prediction, written where the app keeps them (IndexedDB, as idb-keyval lays it out).
    await page.evaluate(
      () =>
        new Promise<void>((resolve, reject) => {
          const idb = (globalThis as unknown as { indexedDB: { open(name: string): IdbRequest } }).indexedDB;
          const open = idb.open('cipherclinic-outbox');
          open.onerror = () => reject(new Error('could not open the outbox'));
          open.onsuccess = () => {
            const tx = open.result.transaction('outbox', 'readwrite');
            tx.objectStore('outbox').put({ id: 'damaged', body: 'not a ciphertext' }, 'prediction:damaged');
            tx.oncomplete = () => resolve();
            tx.onerror = () => reject(new Error('could not write'));
          };
        }),
    );
    await page.reload();
    await page.getByText(notice).waitFor();
    await page.getByRole('button', { name: 'Dismiss' }).click();
    await expect(page.getByText(notice).count()).resolves.toBe(0);
    // Set aside for good: the next visit says nothing, and the form still predicts.
    await page.reload();
    await field(page, 'Systolic blood pressure').waitFor();
    await page.waitForTimeout(500);
    await expect(page.getByText(notice).count()).resolves.toBe(0);
    expect(browser.errors.slice(errorsBefore)).toEqual([]);
  });
});

/** The little of IndexedDB's API the damaged-record test uses (these files compile without DOM types). */
interface IdbRequest {
  result: { transaction(store: string, mode: string): { objectStore(name: string): { put(value: unknown, key: string): void }; oncomplete: () => void; onerror: () => void } };
  onsuccess: () => void;
  onerror: () => void;
}

whatLeftTheBrowser(app, sent, { secretKeys: () => secretKeysInBrowser(app), atLeast: { posts: 3, records: 2 } });
