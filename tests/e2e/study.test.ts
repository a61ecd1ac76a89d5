/**
 * A private training study joined from the browser: three Chromium profiles (three hospitals)
 * and one `cipherclinic site join` process train a small Framingham study against the real
 * coordinator on loopback. The operator creates the study from the study page; the hospitals
 * make their identities in the browser, open the invitation link, compare the study hash, map
 * their CSV (one file names a column differently) and join. One hospital closes its tab
 * mid-study and comes back on another screen: it misses rounds, the study goes on with the other
 * three, and the reopened app takes part again from whichever screen it opened on. The published model serves encrypted predictions equal to its
 * reference, its card says how it was trained, and no request any site sent held a value of
 * its CSV or an unmasked update. Each browser's local step runs on TensorFlow.js in a training
 * worker, on the backend its panel names. Time per round and bytes per site are printed.
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/cli/paths.ts';
import { PrivacyAccountant } from '../../src/core/federated/accountant.ts';
import { parseManifest } from '../../src/core/federated/manifest.ts';
import { identityPublicKey } from '../../src/core/federated/agreement.ts';
import { openBackup } from '../../src/core/vault/backup.ts';
import { bytesToHex } from '@noble/hashes/utils.js';
import { decodeFederated } from '../../src/core/federated/messages.ts';
import { parameterCount } from '../../src/core/federated/network.ts';
import type { StudyStatus } from '../../src/core/federated/round.ts';
import { shapeOf } from '../../src/core/federated/update.ts';
import type { TextTable } from '../../src/core/data/csv.ts';
import { validateRows } from '../../src/core/data/validate.ts';
import { parseModel } from '../../src/core/model/format.ts';
import { quantizeRecord, referenceScore } from '../../src/core/model/reference.ts';
import { API } from '../../src/core/protocol/paths.ts';
import type { RunningServer } from '../../src/server/main.ts';
import { IndependentClient } from '../support/independent-client.ts';
import { DEFAULT_MODELS_DIR } from '../support/server-harness.ts';
import { framinghamStudy, framinghamTables } from '../support/study.ts';
import { randomRecords } from '../support/synthetic.ts';
import { Browser, buildApp, resultsDir, screenshot, startAppServer } from './support/harness.ts';
import { leaksIn, probes } from './support/leaks.ts';

const run = promisify(execFile);
const bin = resolve(repoRoot, 'bin/cipherclinic.mjs');
const TOKEN = 'e2e-study-operator-token-0123';
const ID = 'chd-browser';
/**
 * Enough rounds that, after a tab closes and returns and another site goes offline, rounds
 * remain for it to take part in again: with 10, a slow CI machine reached the last round while
 * the third browser was still reconnecting.
 */
const ROUNDS = 13;
/** Rows per hospital: a small study, to keep the file fast on two cores. */
const ROWS = 400;
const workDir = resolve(resultsDir, 'e2e-study');
/** Browser 3's file names the systolic pressure column its own way; the person maps it. */
const RENAMED = { feature: 'systolic_bp', column: 'SBP (mmHg)' };

let server: RunningServer;
let dataDir = '';
let base = '';
const browsers: Browser[] = [];
const pages: Page[] = [];
const tables: TextTable[] = [];
let hash = '';
let cli: Promise<{ code: number | null; stdout: string; stderr: string }> | undefined;
/** When each round finished, seen by polling the status as anyone may. */
const roundEnded = new Map<number, number>();
let watching = true;
let joinedAt = 0;
/** Answers 429 the browsers got (the four sites share one address here, and its rate limit). */
let refusedForRate = 0;
/** Bytes each browser received from the study routes. */
const bytesDown = [0, 0, 0];
const IDENTITY_FILE = join(workDir, 'hospital-1-identity.json');

beforeAll(async () => {
  const t0 = performance.now();
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  const staticDir = await buildApp('app-study');
  // Here the four sites and three study pages share one address, 127.0.0.1, and so one rate
  // limit (600 a minute by default); hospitals each have their own. Ten times the default.
  process.env.CIPHERCLINIC_RATE_LIMIT = '6000';
  ({ server, dataDir } = await startAppServer(staticDir, { adminToken: TOKEN }));
  base = server.url;
  for (let k = 0; k < 3; k++) {
    const b = new Browser();
    await b.launch();
    browsers.push(b);
    pages.push(await b.page());
    b.context.on('response', (r) => {
      if (r.status() === 429) refusedForRate++;
      if (new URL(r.url()).pathname.startsWith('/api/studies/')) void r.request().sizes().then((z) => (bytesDown[k] += z.responseBodySize), () => undefined);
    });
  }
  console.log(`study e2e setup (build, server, three browsers): ${Math.round(performance.now() - t0)} ms`);
}, 240_000);

afterAll(async () => {
  watching = false;
  for (const b of browsers) await b.dispose();
  await server?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function csvOf(t: TextTable, columns = t.columns): string {
  return [columns.join(','), ...t.rows.map((r) => r.join(','))].join('\n') + '\n';
}

async function status(): Promise<StudyStatus> {
  return (await (await fetch(base + API.study(ID))).json()) as StudyStatus;
}

/**
 * Records when each round ends, with the status route's long poll (answers when the step
 * changes): one request a step, so that watching does not eat the sites' rate limit.
 */
async function watchRounds(): Promise<void> {
  let seen = '';
  while (watching) {
    const res = await fetch(`${base}${API.study(ID)}?history=last${seen ? `&after=${seen}&wait=10000` : ''}`).catch(() => undefined);
    const s = res?.ok ? ((await res.json()) as StudyStatus) : undefined;
    if (!s) {
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    for (const h of s.history) if (!roundEnded.has(h.round)) roundEnded.set(h.round, performance.now());
    if (s.state !== 'running') return;
    seen = `${s.round}.${s.step}`;
  }
}

/** Pins the hash the operator gave in a hospital's browser, and maps its columns. */
async function prepareSite(page: Page, k: number) {
  await page.getByTestId('study-hash').filter({ hasText: hash }).waitFor({ timeout: 10_000 }).catch(async (e: unknown) => {
    console.log(`browser ${k + 1}:`, browsers[k]!.errors, await page.locator('main').innerText());
    throw e;
  });
  if (k === 1) {
    // A hash that is not the manifest's: said plainly, and Join stays off.
    await page.locator('#pin-hash').fill(hash.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')));
    expect(await page.getByRole('alert').filter({ hasText: 'not the hash of the manifest' }).textContent()).toMatch(/do not join/);
    expect(await page.getByTestId('join-study').isDisabled()).toBe(true);
  }
  await page.locator('#pin-hash').fill(hash);
  await page.getByTestId('hash-matches').waitFor();
  if (k === 2) {
    // The renamed column is not matched by name: read as missing until the person maps it.
    await page.getByTestId('unmapped').waitFor();
    await page.locator(`#map-${RENAMED.feature}`).selectOption(RENAMED.column);
    await page.getByTestId('unmapped').waitFor({ state: 'detached' });
  }
  await page.getByTestId('site-check').waitFor();
}

describe('a study joined from the browser', () => {
  it('three browsers and one command-line site train a study to the end; one tab closes and comes back', async () => {
    // Each hospital makes its identity: three in the browser, one on the command line.
    const keys: string[] = [];
    for (const page of pages) {
      await page.goto(`${base}/#/study`);
      await page.getByTestId('create-identity').click();
      keys.push((await page.getByTestId('identity-public-key').textContent())!.trim());
    }
    // A study the coordinator does not know: the words say so.
    await pages[0]!.locator('#study-id').fill('no-such-study');
    await pages[0]!.getByTestId('show-manifest').click();
    expect(await pages[0]!.getByTestId('site-error').textContent()).toMatch(/the coordinator says: .*no study "no-such-study"/);
    // The identity leaves the browser only as a passphrase-encrypted file.
    await pages[0]!.locator('#identity-passphrase').fill('a passphrase for the identity');
    const [download] = await Promise.all([pages[0]!.waitForEvent('download'), pages[0]!.getByRole('button', { name: 'Export, encrypted' }).click()]);
    await writeFile(IDENTITY_FILE, await readFile((await download.path())!));
    const exported = await openBackup(new Uint8Array(await readFile(IDENTITY_FILE)), 'a passphrase for the identity');
    expect(exported).toHaveLength(1);
    expect(bytesToHex(identityPublicKey(exported[0]!.secretKey))).toBe(keys[0]);

    const cliKey = join(workDir, 'hospital-4.key');
    const made = await run(process.execPath, [bin, 'site', 'keygen', '--out', cliKey], { cwd: repoRoot });
    keys.push(/public key\s+([0-9a-f]{64})/.exec(made.stdout)![1]!);
    expect(new Set(keys).size).toBe(4);
    for (const k of keys) expect(k).toMatch(/^[0-9a-f]{64}$/);

    // Their CSVs: small even splits of Framingham, written where the browsers pick them up.
    const { siteTables } = framinghamTables(4, 'even');
    const files: string[] = [];
    for (const [k, t] of siteTables.entries()) {
      const table = { ...t, rows: t.rows.slice(0, ROWS), lines: t.lines.slice(0, ROWS) };
      tables.push(table);
      const file = join(workDir, `hospital-${k + 1}.csv`);
      await writeFile(file, csvOf(table, k === 2 ? table.columns.map((c) => (c === RENAMED.feature ? RENAMED.column : c)) : table.columns));
      files.push(file);
    }
    // Each hospital chooses its file: it stays in the browser (IndexedDB, wrapped) until the study is known.
    for (const [k, page] of pages.entries()) {
      await page.setInputFiles('#site-csv-input', files[k]!);
      await page.getByTestId('site-data').waitFor();
    }

    // The operator's manifest: a privacy budget that allows exactly the planned rounds.
    const draft = framinghamStudy({ id: ID, sites: 4, threshold: 3, rounds: ROUNDS, stepSeconds: 6, samplingRate: 0.3, privacy: { epsilon: 1000, delta: 1e-5, noiseMultiplier: 1.5 } });
    const spent = new PrivacyAccountant(draft.manifest, parameterCount(shapeOf(draft.manifest))).spentAfter(ROUNDS).epsilon;
    const manifest = { ...draft.manifest, privacy: { ...draft.manifest.privacy!, epsilon: Math.ceil(spent * 100) / 100 }, sites: draft.manifest.sites.map((s, k) => ({ ...s, identityKey: keys[k]! })) };

    // The operator creates it from the study page of browser 1, with the admin token.
    const operator = pages[0]!;
    await operator.getByTestId('operator').locator('summary').click();
    await operator.locator('#operator-token').fill(TOKEN);
    await operator.locator('#manifest-text').fill(JSON.stringify(manifest, null, 2));
    await operator.getByTestId('create-study').click();
    const created = (await operator.getByTestId('operator-message').textContent())!;
    hash = /([0-9a-f]{64})/.exec(created)![1]!;
    expect(hash).toBe(parseManifest(manifest).hash);
    expect((await status()).study).toBe(hash);
    const link = (await operator.getByTestId('invitation-link').textContent())!.trim();
    expect(link).toBe(`${base}/#/study?url=${encodeURIComponent(base)}&id=${ID}`);

    // The fourth hospital joins from the command line, with the hash it was given.
    cli = new Promise((done) => {
      const child = spawn(process.execPath, [bin, 'site', 'join', base, '--study', ID, '--data', files[3]!, '--identity', cliKey, '--study-hash', hash], { cwd: repoRoot });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => done({ code, stdout, stderr }));
    });

    // Browser 1 shows the manifest of the study it made; browsers 2 and 3 open the invitation.
    await operator.getByTestId('show-manifest').click();
    for (const page of pages.slice(1)) await page.goto(link);
    for (const [k, page] of pages.entries()) {
      await prepareSite(page, k);
      await expect.poll(async () => page.getByTestId('site-name').textContent()).toBe(`Hospital ${k + 1}`);
      expect(Number(await page.getByTestId('site-check').getAttribute('data-train'))).toBeGreaterThan(250);
    }
    joinedAt = performance.now();
    const watched = watchRounds();
    for (const page of pages) {
      await page.getByTestId('join-study').click();
      await page.locator('[data-testid="site-phase"][data-phase="running"]').waitFor();
    }
    // Browser 2 closes its tab once two rounds are done, stays away until a round is summed
    // without it, and opens the study page again: it takes part again by itself.
    await expect.poll(async () => (await status()).roundsDone, { timeout: 90_000, interval: 200 }).toBeGreaterThanOrEqual(2);
    // Each browser's local step ran on TensorFlow.js in its training worker (headless Chromium
    // here has no GPU adapter: WebAssembly, else plain JavaScript), and its panel says which.
    for (const [k, page] of pages.entries()) {
      const said = page.locator('[data-testid="site-backend"]').filter({ hasText: 'the last one took' });
      await said.waitFor({ timeout: 30_000 });
      expect(['webgpu', 'wasm', 'cpu']).toContain(await said.getAttribute('data-backend'));
      console.log(`browser site ${k + 1}: ${(await said.textContent())!.replace(/\s+/g, ' ').trim()}`);
    }
    const closedAt = (await status()).round;
    await pages[1]!.close();
    await expect.poll(async () => (await status()).history.some((h) => h.round >= closedAt && h.outcome === 'done' && h.survivors.length === 3 && !h.survivors.includes(2)), { timeout: 90_000, interval: 200 }).toBe(true);
    // It reopens on another screen: the app takes part again at opening, and says so there.
    const back = await browsers[1]!.context.newPage();
    pages[1] = back;
    await back.goto(`${base}/#/history`);
    await back.locator('[data-testid="study-banner"][data-state="running"]').filter({ hasText: ID }).waitFor({ timeout: 30_000 });
    await expect.poll(async () => (await status()).history.some((h) => h.outcome === 'done' && h.survivors.includes(2) && h.round > closedAt), { timeout: 60_000, interval: 200 }).toBe(true);
    await back.goto(`${base}/#/study`);
    await back.locator('[data-testid="site-phase"][data-phase="running"]').waitFor({ timeout: 30_000 });
    await expect(back.getByTestId('identity-public-key').textContent()).resolves.toBe(keys[1]);
    // A second tab of the same browser does not take part twice: it says so.
    const second = await browsers[1]!.context.newPage();
    await second.goto(`${base}/#/keys`);
    await second.locator('[data-testid="study-banner"][data-state="elsewhere"]').waitFor({ timeout: 30_000 });
    await second.goto(`${base}/#/study`);
    expect(await second.getByTestId('site-error').textContent()).toMatch(/another tab of this browser is taking part/);
    await second.close();

    // Browser 3 loses the network mid-study: it says so, misses the rounds that close
    // meanwhile, and takes part again once the network is back.
    await expect.poll(async () => (await status()).history.some((h) => h.outcome === 'done' && h.survivors.includes(2) && h.round > closedAt), { timeout: 60_000, interval: 200 }).toBe(true);
    const offlineAt = (await status()).round;
    await browsers[2]!.context.setOffline(true);
    await pages[2]!.getByTestId('site-offline').waitFor({ timeout: 30_000 });
    await screenshot(pages[2]!, 'study-site-offline', 1280);
    await expect.poll(async () => (await status()).history.some((h) => h.round >= offlineAt && h.outcome === 'done' && !h.survivors.includes(3)), { timeout: 60_000, interval: 200 }).toBe(true);
    await browsers[2]!.context.setOffline(false);
    await pages[2]!.getByTestId('site-offline').waitFor({ state: 'detached', timeout: 30_000 });

    // Everyone to the end.
    for (const page of pages) await page.locator('[data-testid="site-phase"][data-phase="ended"]').waitFor({ timeout: 150_000 });
    const cliRun = await cli;
    expect(cliRun.code, cliRun.stderr).toBe(0);
    expect(cliRun.stdout).toMatch(new RegExp(`model "${ID}" is served`));
    const final = await status();
    await watched;
    expect(refusedForRate).toBe(0);
    expect(final.state).toBe('done');
    expect(final.roundsDone).toBe(ROUNDS);
    expect(final.privacy!.spent).toBeLessThanOrEqual(final.privacy!.epsilon);
    // The dropout shows in the history, and so does the return.
    const without = final.history.filter((h) => h.outcome === 'done' && !h.survivors.includes(2));
    const afterReturn = final.history.filter((h) => h.outcome === 'done' && h.round > without.at(-1)!.round && h.survivors.includes(2));
    expect(without.length).toBeGreaterThan(0);
    expect(afterReturn.length).toBeGreaterThan(0);
    const offline = final.history.filter((h) => h.outcome === 'done' && h.round >= offlineAt && !h.survivors.includes(3));
    expect(offline.length).toBeGreaterThan(0);
    expect(final.history.some((h) => h.outcome === 'done' && h.round > offline.at(-1)!.round && h.survivors.includes(3))).toBe(true);
    await pages[2]!.locator(`[data-testid="site-rounds"] tr[data-round="${offline[0]!.round}"][data-outcome="missed"]`).waitFor();
    // The reopened tab's own table says which rounds it took part in.
    for (const h of afterReturn) await back.locator(`[data-testid="site-rounds"] tr[data-round="${h.round}"][data-outcome="done"]`).waitFor();

    // The study page, for everyone, shows the rounds, the dropout and the privacy spent.
    const viewer = pages[2]!;
    await viewer.reload();
    await viewer.locator(`[data-testid="study-progress"][data-state="done"][data-rounds-done="${ROUNDS}"]`).waitFor();
    expect(await viewer.getByTestId('study-rounds').locator('tbody tr[data-outcome="done"]').count()).toBe(ROUNDS);
    expect(await viewer.getByTestId('study-epsilon').textContent()).toContain(`ε = ${final.privacy!.spent.toFixed(3)} spent of ${final.privacy!.epsilon}`);
    expect(await viewer.getByTestId('study-rounds').locator(`tr[data-round="${without[0]!.round}"]`).textContent()).toContain('Hospital 2');
    await screenshot(viewer, 'study-done', 1280);
    await screenshot(viewer, 'study-done', 390);

    // Time per round and bytes per site, as measured here.
    const ends = [...roundEnded.entries()].sort((a, b) => a[0] - b[0]);
    const perRound = ends.map(([r, t], i) => ({ round: r, ms: Math.round(t - (i ? ends[i - 1]![1] : joinedAt)), sites: final.history.find((h) => h.round === r)!.survivors.length }));
    const full = perRound.filter((r) => r.sites === 4 && r.round > 1).map((r) => r.ms).sort((a, b) => a - b);
    console.log('study rounds (ms, sites summed):', JSON.stringify(perRound), `; rate-limited answers: ${refusedForRate}`);
    if (full.length) console.log(`rounds with all four sites: median ${full[Math.floor(full.length / 2)]} ms, max ${full.at(-1)} ms`);
    for (const [k, b] of browsers.entries()) {
      const posts = b.requests.filter((r) => r.method === 'POST' && /\/api\/studies\/[^/]+\/(advertise|shares|masked|reveal)$/.test(new URL(r.url).pathname));
      const rounds = final.history.filter((h) => h.survivors.includes(k + 1)).length;
      const byType = Object.fromEntries(['advertise', 'shares', 'masked', 'reveal'].map((t) => [t, posts.filter((p) => p.url.endsWith(`/${t}`)).reduce((s, p) => s + p.body.length, 0)]));
      console.log(`browser site ${k + 1}: ${posts.length} messages, ${posts.reduce((s, p) => s + p.body.length, 0)} bytes up and ${bytesDown[k]} down (status, weights, roster, inbox, unmask, and the study page) in ${rounds} summed rounds; up by type ${JSON.stringify(byType)}`);
    }
  }, 300_000);

  it('publishes a model that serves encrypted predictions equal to its reference, and says how it was trained', async () => {
    const model = parseModel(JSON.parse(await readFile(join(dataDir, 'models', `${ID}.json`), 'utf8')));
    expect((model.training as { federated: { sites: number; rounds: number } }).federated).toMatchObject({ sites: 4, rounds: ROUNDS });
    const client = await IndependentClient.connect(base, ID, 'single');
    try {
      expect((await client.registerKeys()).status).toBe(201);
      for (const record of randomRecords(model, 2, 11)) expect(await client.classify([record])).toEqual([referenceScore(model, record)]);
    } finally {
      client.dispose();
    }
    // "About this model" on the patient screen.
    const page = pages[0]!;
    await page.goto(`${base}/#/patient`);
    await page.reload();
    await page.locator('#model-single').selectOption(ID);
    await page.locator('details', { hasText: 'About this model' }).locator('summary').click();
    const told = (await page.getByTestId('trained-privately').textContent())!;
    expect(told).toContain('across 4 hospitals');
    expect(told).toContain(`${ROUNDS} rounds`);
    expect(told).toMatch(/ε = \d+\.\d\d, δ = 0\.00001|ε = \d+\.\d\d, δ = 1e-5/);
  }, 120_000);
});

describe('the operator on the study page', () => {
  it('creates a study and stops it', async () => {
    const page = pages[0]!;
    await page.goto(`${base}/#/study`);
    await page.reload();
    const manifest = { ...framinghamStudy({ id: 'chd-stopped', sites: 3, threshold: 2 }).manifest };
    await page.getByTestId('operator').locator('summary').click();
    await page.locator('#operator-token').fill('not the token');
    await page.locator('#manifest-text').fill(JSON.stringify(manifest));
    await page.getByTestId('create-study').click();
    expect(await page.getByTestId('operator').getByRole('alert').textContent()).toMatch(/the coordinator says: /);
    await page.locator('#operator-token').fill(TOKEN);
    await page.getByTestId('create-study').click();
    await page.getByTestId('operator-message').filter({ hasText: 'chd-stopped' }).waitFor();
    await page.getByTestId('stop-study').click();
    await page.locator('[data-testid="study-progress"][data-state="stopped"]').waitFor();
    expect(((await (await fetch(base + API.study('chd-stopped'))).json()) as StudyStatus).state).toBe('stopped');
  }, 60_000);
});

describe('the site identity file', () => {
  it('imports into another browser with its passphrase, and says so when the passphrase is wrong', async () => {
    const page = pages[1]!;
    await page.goto(`${base}/#/study`);
    await page.reload();
    await page.getByRole('button', { name: 'Forget this identity' }).click();
    await page.getByLabel('Identity file', { exact: true }).setInputFiles(IDENTITY_FILE);
    await page.getByLabel('Passphrase of the identity file').fill('not the passphrase');
    await page.getByRole('button', { name: 'Import' }).click();
    expect(await page.getByTestId('site-error').textContent()).toContain('the passphrase is wrong');
    await page.getByLabel('Passphrase of the identity file').fill('a passphrase for the identity');
    await page.getByRole('button', { name: 'Import' }).click();
    const imported = (await page.getByTestId('identity-public-key').textContent())!.trim();
    expect(imported).toBe(bytesToHex(identityPublicKey((await openBackup(new Uint8Array(await readFile(IDENTITY_FILE)), 'a passphrase for the identity'))[0]!.secretKey)));
  }, 60_000);
});

describe('what left each hospital browser', () => {
  const sitePosts = (k: number) => browsers[k]!.requests.filter((r) => r.method === 'POST' && new URL(r.url).pathname !== API.createStudy);

  it('was only the study messages of its rounds', () => {
    for (const k of [0, 1, 2]) {
      const posts = sitePosts(k);
      expect(posts.length).toBeGreaterThanOrEqual(4 * 3);
      for (const p of posts) expect(new URL(p.url).pathname).toMatch(new RegExp(`^/api/studies/${ID}/(advertise|shares|masked|reveal)$`));
    }
  });

  it('never held a value of its CSV in any readable encoding', () => {
    const base = parseModel(JSON.parse(readFileSync(join(DEFAULT_MODELS_DIR, 'framingham-chd.json'), 'utf8')));
    for (const k of [0, 1, 2]) {
      const table = tables[k]!;
      const { records } = validateRows(base.features, table);
      const checked = records.filter((_, i) => i % 10 === 0);
      expect(sitePosts(k).length).toBeGreaterThanOrEqual(4 * 3);
      expect(checked.length).toBeGreaterThan(20);
      for (const r of checked) {
        const list = probes({ values: r.values, quantized: quantizeRecord(base, r.values), line: table.rows[r.index]!.join(',') }, base.features.map((f) => f.name));
        for (const p of sitePosts(k)) expect(leaksIn(p.body, list), `${p.url} holds row ${r.row} of hospital ${k + 1}`).toEqual([]);
      }
    }
  });

  it('sent its update only masked: every word of every upload looks uniformly random', () => {
    let uploads = 0;
    for (const k of [0, 1, 2]) {
      for (const p of sitePosts(k).filter((p) => p.url.endsWith('/masked'))) {
        const message = decodeFederated(new Uint8Array(p.body.buffer, p.body.byteOffset, p.body.byteLength), 'masked');
        const words = new Int32Array(message.vector.slice().buffer);
        expect(words.length).toBe(message.length);
        // An unmasked quantized update is small integers (gradients in units of 1/scale, counts);
        // a masked one is uniform in Z_2^32, where |v| < 2^16 has probability 2^-15 per word.
        const small = words.filter((v) => Math.abs(v) < 1 << 16).length;
        expect(small, `${p.url}: ${small} of ${words.length} words are small integers`).toBeLessThanOrEqual(2);
        uploads++;
      }
    }
    expect(uploads).toBeGreaterThanOrEqual(3 * 4);
  });
});

