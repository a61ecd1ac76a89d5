/**
 * The app as a PWA in a real Chromium against the real server: what the first load transfers
 * before the first screen is usable (printed; target ≤ 3 MB, and no .wasm), installability
 * (Chromium's own check) and a service worker that precaches the shell, the worker scripts and
 * every .wasm; offline, the app reloads from the service worker with its keys and history and
 * the training lab trains; a prediction made offline is queued, then delivered once the network
 * returns, exactly once and equal to the plaintext reference, with its explanation (its
 * variants rode in its ciphertext) and a History entry like an online one's — also when its
 * first answer is lost on the way, and across a browser restart before the network returns; a
 * new version is announced and applied only when the person agrees.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { sharedDataDir } from '../../src/cli/paths.ts';
import { averageVariant } from '../../src/core/explain/index.ts';
import { decodeRisk, quantizeRecord, referenceScore, type PlainRecord } from '../../src/core/model/reference.ts';
import { loadModel, reference } from './support/data.ts';
import { field, fillForm, fingerprintShown, nav, predictAndWait, shownResult } from './support/forms.ts';
import { useAppSession } from './support/harness.ts';

const app = useAppSession({ name: 'pwa', buildId: 'e2e-1', browser: { serviceWorkers: 'allow' } });
const framingham = await loadModel('framingham-chd');
const KB = (n: number) => `${(n / 1024).toFixed(1)} KB`;

// ---------------------------------------------------------------- helpers

/**
 * What page functions use in the browser. They run there, but this file compiles without DOM
 * types, so they reach the page's globals through `globalThis` cast to this (types only).
 */
interface PageGlobals {
  document: { querySelector(selector: string): { getAttribute(name: string): string | null } | null };
  navigator: { serviceWorker: { controller: unknown; ready: Promise<unknown> } };
  caches: { keys(): Promise<string[]>; open(name: string): Promise<{ keys(): Promise<{ url: string }[]> }> };
  indexedDB: {
    open(name: string): {
      error: unknown;
      result: { transaction(store: string): { objectStore(name: string): { getAllKeys(): { result: unknown[]; error: unknown; onsuccess: () => void; onerror: () => void } } } };
      onsuccess: () => void;
      onerror: () => void;
    };
  };
}

/** A Framingham record from named values: the ones the model needs (lib/minimum.ts) and a few more; the rest left blank, for the model to impute. */
function record(values: Record<string, number>): PlainRecord {
  return framingham.features.map((f) => values[f.name] ?? null);
}

async function predictOnline(p: Page, r: PlainRecord) {
  await fillForm(p, framingham, r);
  return predictAndWait(p);
}

/** Predicts while offline: returns the queued prediction's id (its idempotency key). */
async function predictQueued(p: Page, r: PlainRecord): Promise<string> {
  await fillForm(p, framingham, r);
  await p.getByTestId('predict').click();
  const queued = p.getByTestId('queued');
  await queued.waitFor({ timeout: 30_000 });
  return (await queued.getAttribute('data-id'))!;
}

/** Waits until the queued prediction's answer is on screen (and it left the queue). */
async function waitDelivered(p: Page, id: string) {
  await p.waitForFunction(
    (queuedId) => {
      const { document } = globalThis as unknown as PageGlobals;
      return !document.querySelector(`[data-testid=queued-item][data-id="${queuedId}"]`) && !document.querySelector(`[data-testid=queued][data-id="${queuedId}"]`);
    },
    id,
    { timeout: 60_000 },
  );
  await p.getByTestId('risk').waitFor({ timeout: 30_000 });
  return shownResult(p);
}

/**
 * The explanation shown with a delivered queued prediction: every bar equals the reference of
 * its variant, so the variants rode in the queued ciphertext and were read back.
 */
async function expectExplanation(p: Page, r: PlainRecord) {
  const riskOf = (v: PlainRecord) => decodeRisk(framingham.output, referenceScore(framingham, quantizeRecord(framingham, v)));
  await p.getByTestId('explanation').waitFor({ timeout: 30_000 });
  const bars = p.getByTestId('contribution');
  const count = await bars.count();
  expect(count).toBeGreaterThan(0);
  for (let k = 0; k < count; k++) {
    const name = await bars.nth(k).getAttribute('data-feature');
    const feature = framingham.features.findIndex((f) => f.name === name);
    expect(r[feature], `${name} was entered`).not.toBeNull();
    expect(Number(await bars.nth(k).getAttribute('data-risk-at-average')), `${name} at the average`).toBeCloseTo(riskOf(averageVariant(framingham, r, feature)), 12);
  }
  await expect(p.getByTestId('whatif').count()).resolves.toBeGreaterThan(0);
}

/** The History entry of a delivered queued prediction: the risk's words, the values, when it was asked for. */
async function expectHistoryEntry(p: Page, id: string, r: PlainRecord) {
  await nav(p, 'History');
  const entry = p.locator(`[data-testid=history-entry][data-id="${id}"]`);
  await expect(entry.getByTestId('history-meaning').innerText()).resolves.toMatch(/^Out of 100 people like those the model learned from \(.*Framingham Heart Study.*\) with those values, it expected .* Not a diagnosis\.$/);
  await expect(entry.getByTestId('history-queued').innerText()).resolves.toMatch(/^\(asked for offline at .*, sent when the service could be reached\)$/);
  await expect(entry.getByTestId('history-inputs').textContent()).resolves.toContain(`Age = ${r[framingham.features.findIndex((f) => f.name === 'age')]} years`);
  await expect(entry.innerText()).resolves.toMatch(/model [0-9a-f]{4}/);
  await nav(p, 'My prediction');
}

/** Classify requests the browser sent with this idempotency key. */
const sentWithKey = (id: string) => app.browser.requests.filter((r) => r.url.endsWith('/classify') && r.headers['idempotency-key'] === id).length;

async function historyIds(p: Page): Promise<string[]> {
  return p.evaluate(
    () =>
      new Promise<string[]>((resolve, reject) => {
        const open = (globalThis as unknown as PageGlobals).indexedDB.open('cipherclinic-history');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const req = open.result.transaction('history').objectStore('history').getAllKeys();
          req.onsuccess = () => resolve(req.result.map(String));
          req.onerror = () => reject(req.error);
        };
      }),
  );
}

/** Every file of the build, relative to its root. */
function buildFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

// ---------------------------------------------------------------- flows

describe('first load', () => {
  it(`transfers well under 3 MB before the first screen is usable, and no .wasm`, async () => {
    const { page, browser, url, staticDir } = app;
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    const urls = new Map<string, string>();
    const finished: { url: string; bytes: number }[] = [];
    cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
    cdp.on('Network.loadingFinished', (e) => finished.push({ url: urls.get(e.requestId) ?? '?', bytes: e.encodedDataLength }));
    const t0 = performance.now();
    await page.goto(`${url}/#/patient`);
    await page.getByTestId('predict').waitFor({ state: 'visible', timeout: 30_000 });
    const usableMs = performance.now() - t0;
    const atUsable = [...finished];
    const sent = atUsable.reduce((s, f) => s + f.bytes, 0);
    // What the same responses weigh gzip-compressed (this server sends them as they are).
    let gzipped = 0;
    for (const f of atUsable) {
      const path = new URL(f.url).pathname;
      const file = join(staticDir, path === '/' ? 'index.html' : path);
      const body = path.startsWith('/api/') ? Buffer.from(await (await fetch(f.url)).arrayBuffer()) : statSync(file, { throwIfNoEntry: false })?.isFile() ? readFileSync(file) : Buffer.alloc(0);
      gzipped += gzipSync(body, { level: 6 }).length;
    }
    console.log(`first load → first screen usable in ${Math.round(usableMs)} ms: ${atUsable.length} responses, ${KB(sent)} transferred (the server does not compress; ${KB(gzipped)} gzip-compressed); target ≤ 3 MB`);
    console.log(`  ${atUsable.map((f) => `${new URL(f.url).pathname} ${KB(f.bytes)}`).join(', ')}`);
    expect(sent).toBeLessThan(3 * 1024 * 1024);
    expect(atUsable.filter((f) => f.url.endsWith('.wasm'))).toEqual([]);
    // Nothing heavier follows on the page by itself: SEAL loads once a model is chosen, tfjs in the lab.
    await page.waitForTimeout(1500);
    expect(finished.filter((f) => f.url.endsWith('.wasm'))).toEqual([]);
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
    await cdp.detach();
  });
});

describe('installable, with everything precached', () => {
  it('passes Chromium’s installability check, with a manifest and icons', async () => {
    const { page, browser, url } = app;
    const manifest = (await (await fetch(`${url}/manifest.webmanifest`)).json()) as { name: string; display: string; start_url: string; icons: { src: string; sizes: string; type: string }[] };
    expect(manifest.name).toBe('Cipher Clinic');
    expect(manifest.display).toBe('standalone');
    for (const size of ['192x192', '512x512']) {
      const icon = manifest.icons.find((i) => i.sizes === size && i.type === 'image/png')!;
      const res = await fetch(url + icon.src);
      expect(res.headers.get('content-type')).toBe('image/png');
    }
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).navigator.serviceWorker.controller !== null, undefined, { timeout: 60_000 });
    const cdp = await browser.context.newCDPSession(page);
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: { errorId: string }[] };
    await cdp.detach();
    expect(installabilityErrors).toEqual([]);
  });

  it('precaches the shell, the worker scripts and every .wasm file', async () => {
    const { page, staticDir } = app;
    await page.evaluate(() => (globalThis as unknown as PageGlobals).navigator.serviceWorker.ready.then(() => true));
    const cached = await page.evaluate(async () => {
      const { caches } = globalThis as unknown as PageGlobals;
      const out: string[] = [];
      for (const name of await caches.keys()) for (const req of await (await caches.open(name)).keys()) out.push(new URL(req.url).pathname);
      return out;
    });
    const files = buildFiles(staticDir);
    const wasm = files.filter((f) => f.endsWith('.wasm'));
    const workers = files.filter((f) => /(he|train)\.worker-.*\.js$/.test(f));
    expect(wasm.length).toBeGreaterThanOrEqual(3);
    expect(workers).toHaveLength(2);
    for (const f of ['index.html', 'manifest.webmanifest', ...wasm, ...workers]) expect(cached, f).toContain(`/${f}`);
    const precached = files.filter((f) => cached.includes(`/${f}`));
    const bytes = precached.reduce((s, f) => s + statSync(join(staticDir, f)).size, 0);
    const gz = precached.reduce((s, f) => s + gzipSync(readFileSync(join(staticDir, f))).length, 0);
    console.log(`service worker precache (downloaded in the background after the first screen): ${precached.length} files, ${KB(bytes)} (${KB(gz)} gzip), of which .wasm: ${wasm.map((f) => f.split('/').pop()).join(', ')}`);
  });
});

describe('offline', () => {
  let fingerprint = '';
  const first = () => record({ male: 1, age: 52, cigs_per_day: 20, prevalent_hypertension: 0, diabetes: 0, systolic_bp: 138, total_cholesterol: 240, glucose: 85 });

  it('a first prediction online makes keys and a history entry', async () => {
    const { page } = app;
    await field(page, 'Model').selectOption('framingham-chd');
    const r = await predictOnline(page, first());
    expect(r.score).toBe(reference(framingham, first()).score);
    fingerprint = await fingerprintShown(page);
  });

  it('the app reloads from the service worker, with its keys, history and model cards', async () => {
    const { page, browser } = app;
    await browser.context.setOffline(true);
    const res = await page.reload();
    expect(res?.fromServiceWorker()).toBe(true);
    await page.getByTestId('key-fingerprint').waitFor();
    expect(await fingerprintShown(page)).toBe(fingerprint);
    await page.getByText('Predictions made now are encrypted and queued').waitFor();
    await expect(field(page, 'Model').inputValue()).resolves.toBe('framingham-chd');
    await nav(page, 'History');
    await expect.poll(() => page.getByTestId('history').locator('li').count()).toBe(1);
  });

  it('the training lab trains (tfjs and its .wasm from the service worker)', async () => {
    const { page, workDir } = app;
    await nav(page, 'Training lab');
    await page.getByTestId('backend').waitFor({ timeout: 30_000 });
    const csv = resolve(workDir, 'pima-200.csv');
    const lines = readFileSync(resolve(sharedDataDir(), 'pima_indians_diabetes.csv'), 'utf8').trim().split('\n').slice(0, 201);
    await writeFile(csv, lines.join('\n') + '\n');
    await page.setInputFiles('#train-csv-input', csv);
    await page.getByTestId('data-summary').waitFor();
    for (const [label, v] of [['Hidden units', 4], ['Epochs', 5]] as const) {
      await field(page, label).fill(String(v));
      await field(page, label).dispatchEvent('change');
    }
    await field(page, 'Ternary settings compared').selectOption('quick');
    await page.getByTestId('train').click();
    await page.getByTestId('lab-results').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('trained-backend').innerText()).resolves.toBe('wasm');
  });

  it('a prediction made offline is queued, then sent once the network returns, exactly once, with the right result', async () => {
    const { page, browser } = app;
    await nav(page, 'My prediction');
    const r = record({ male: 0, age: 63, cigs_per_day: 0, prevalent_hypertension: 1, diabetes: 1, total_cholesterol: 210, glucose: 160, systolic_bp: 150, bmi: 31 });
    const id = await predictQueued(page, r);
    await page.locator(`[data-testid=queued-item][data-id="${id}"][data-status=queued]`).waitFor();
    const historyBefore = await historyIds(page);
    expect(sentWithKey(id)).toBe(0);
    await browser.context.setOffline(false);
    const shown = await waitDelivered(page, id);
    expect(shown.score).toBe(reference(framingham, r).score);
    expect(sentWithKey(id)).toBe(1);
    const history = await historyIds(page);
    expect(history).toContain(id);
    expect(history).toHaveLength(historyBefore.length + 1);
    await expectExplanation(page, r);
    await expectHistoryEntry(page, id, r);
  });

  it('an answer lost on the way is asked for again and replayed by the service, not evaluated twice', async () => {
    const { page, browser } = app;
    await browser.context.setOffline(true);
    const r = record({ male: 1, age: 45, cigs_per_day: 0, prevalent_hypertension: 0, diabetes: 0, total_cholesterol: 190, systolic_bp: 122, glucose: 80, heart_rate: 70 });
    const id = await predictQueued(page, r);
    const answers: string[] = [];
    // The first attempt reaches the service (which evaluates and keeps the answer) but its answer never arrives.
    await page.route('**/classify', async (route) => {
      const response = await route.fetch();
      answers.push(response.headers()['idempotent-replayed'] ?? 'evaluated');
      await route.abort('connectionreset');
    }, { times: 1 });
    await browser.context.setOffline(false);
    await page.locator('[data-testid=outbox]').getByText(/Last try/).waitFor({ timeout: 30_000 });
    const replay = page.waitForResponse((res) => res.url().endsWith('/classify') && res.request().headers()['idempotency-key'] === id);
    // The network "returns" again: the outbox sends at once (it would also retry by itself after 15 s).
    await browser.context.setOffline(true);
    await browser.context.setOffline(false);
    const second = await replay;
    answers.push((await second.allHeaders())['idempotent-replayed'] ?? 'evaluated');
    const shown = await waitDelivered(page, id);
    expect(answers).toEqual(['evaluated', 'true']);
    expect(shown.score).toBe(reference(framingham, r).score);
    expect(sentWithKey(id)).toBe(2);
    expect((await historyIds(page)).filter((h) => h === id)).toHaveLength(1);
  });

  it('a queued prediction survives a browser restart before the network returns', async () => {
    const { browser, url } = app;
    await browser.context.setOffline(true);
    const r = record({ male: 0, age: 70, cigs_per_day: 0, prevalent_hypertension: 1, diabetes: 0, total_cholesterol: 230, glucose: 95, systolic_bp: 170, diastolic_bp: 95 });
    const id = await predictQueued(app.page, r);
    const page = await app.restartBrowser({ offline: true });
    const res = await page.goto(`${url}/#/patient`);
    expect(res?.fromServiceWorker()).toBe(true);
    await page.locator(`[data-testid=queued-item][data-id="${id}"]`).waitFor({ timeout: 30_000 });
    expect(sentWithKey(id)).toBe(0);
    await browser.context.setOffline(false);
    const shown = await waitDelivered(page, id);
    expect(shown.score).toBe(reference(framingham, r).score);
    expect(sentWithKey(id)).toBe(1);
    // The page that queued it is gone: the explanation is read from what the queue kept.
    await expectExplanation(page, r);
    await expectHistoryEntry(page, id, r);
    // Only the browser's own reports of requests refused while offline were logged.
    expect(browser.errors.filter((e) => !e.startsWith('Failed to load resource'))).toEqual([]);
  });
});

describe('updates', () => {
  it('a new version is announced, and applied only when the person agrees', async () => {
    const { page, browser } = app;
    await expect(page.getByTestId('app-version').innerText()).resolves.toBe('0.1.0+e2e-1');
    await app.rebuild('e2e-2');
    await page.reload();
    await page.getByTestId('update-banner').waitFor({ timeout: 60_000 });
    // Not applied yet: the page still runs the version it has.
    await expect(page.getByTestId('app-version').innerText()).resolves.toBe('0.1.0+e2e-1');
    await Promise.all([page.waitForEvent('load', { timeout: 30_000 }), page.getByTestId('apply-update').click()]);
    await page.getByTestId('app-version').filter({ hasText: '0.1.0+e2e-2' }).waitFor({ timeout: 30_000 });
    await page.getByTestId('key-fingerprint').waitFor();
    expect(browser.errors.filter((e) => !e.startsWith('Failed to load resource'))).toEqual([]);
  });
});
