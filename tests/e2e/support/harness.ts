/**
 * The e2e harness: builds the web app once, starts the real server on loopback serving that
 * build, and drives Debian's Chromium through playwright-core (never a downloaded browser).
 * Every request body the browser sends is recorded for the privacy checks. `useAppSession`
 * is how every e2e file sets all of this up and tears it down.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll } from 'vitest';
import { repoRoot } from '../../../src/cli/paths.ts';
import { startServer, type RunningServer } from '../../../src/server/main.ts';

/** Debian's chromium: $CHROMIUM_PATH, else the first `chromium` on the PATH (`command -v chromium`). */
export const CHROMIUM =
  process.env.CHROMIUM_PATH ??
  (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'chromium')).find((path) => existsSync(path)) ??
  '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--headless'];
export const resultsDir = resolve(repoRoot, 'test-results');
export const screenshotDir = resolve(resultsDir, 'screenshots');

export interface RecordedRequest {
  method: string;
  url: string;
  body: Buffer;
  headers: Record<string, string>;
}

/**
 * Builds the app into test-results/<name> (so dist/ is left alone, and each test file has its
 * own). `buildId` sets $CIPHERCLINIC_BUILD_ID, which makes a build a new version of the app.
 */
export async function buildApp(name = 'app', options: { buildId?: string } = {}): Promise<string> {
  const outDir = resolve(resultsDir, name);
  // The build `npm run build` makes: vitest sets NODE_ENV=test, which would keep dev-only code
  // (Svelte's and workbox's) in the bundles whose sizes the tests print.
  const before = { CIPHERCLINIC_BUILD_ID: process.env.CIPHERCLINIC_BUILD_ID, NODE_ENV: process.env.NODE_ENV };
  process.env.NODE_ENV = 'production';
  if (options.buildId) process.env.CIPHERCLINIC_BUILD_ID = options.buildId;
  else delete process.env.CIPHERCLINIC_BUILD_ID;
  try {
    await build({ root: repoRoot, configFile: resolve(repoRoot, 'vite.config.ts'), mode: 'production', logLevel: 'error', build: { outDir, emptyOutDir: true } });
  } finally {
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  return outDir;
}

export async function startAppServer(staticDir: string, options: { adminToken?: string } = {}): Promise<{ server: RunningServer; dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cipherclinic-e2e-'));
  const server = await startServer({ host: '127.0.0.1', port: 0, dataDir, staticDir, workers: 2, logLevel: 'warn', modelDirs: [resolve(repoRoot, 'models')], adminToken: options.adminToken });
  return { server, dataDir };
}

export interface BrowserOptions {
  /** Extra Chromium flags, e.g. --enable-unsafe-webgpu. */
  args?: string[];
  /** Service workers are blocked unless a test is about them (they answer requests page.route would see). */
  serviceWorkers?: 'allow' | 'block';
  /** The browser's time zone (IANA name, e.g. America/Los_Angeles); default: the machine's. */
  timezoneId?: string;
  /** The browser's locale (e.g. en-US), which sets how dates and numbers are written; default: Chromium's. */
  locale?: string;
}

/** A browser with a profile on disk, so that closing and relaunching it is a real restart. */
export class Browser {
  readonly requests: RecordedRequest[] = [];
  readonly errors: string[] = [];
  context!: BrowserContext;
  #profile = '';
  readonly #options: BrowserOptions;

  constructor(options: BrowserOptions = {}) {
    this.#options = options;
  }

  /** Starts Chromium on this browser's profile; `offline` starts it with the network off. */
  async launch(launch: { offline?: boolean } = {}): Promise<BrowserContext> {
    if (!existsSync(CHROMIUM)) throw new Error(`the browser tests drive Debian's Chromium at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH`);
    this.#profile ||= await mkdtemp(join(tmpdir(), 'cipherclinic-profile-'));
    this.context = await chromium.launchPersistentContext(this.#profile, {
      executablePath: CHROMIUM,
      args: [...ARGS, ...(this.#options.args ?? [])],
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
      serviceWorkers: this.#options.serviceWorkers ?? 'block',
      offline: launch.offline ?? false,
      ...(this.#options.timezoneId ? { timezoneId: this.#options.timezoneId } : {}),
      ...(this.#options.locale ? { locale: this.#options.locale } : {}),
    });
    this.context.on('request', (r) => {
      const body = r.postDataBuffer();
      if (body) this.requests.push({ method: r.method(), url: r.url(), body, headers: r.headers() });
    });
    this.context.on('page', (p) => this.#watch(p));
    for (const p of this.context.pages()) this.#watch(p);
    return this.context;
  }

  #watch(page: Page) {
    page.on('pageerror', (e) => this.errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && this.errors.push(m.text()));
  }

  async page(): Promise<Page> {
    return this.context.pages()[0] ?? (await this.context.newPage());
  }

  /** How many POST requests went to this path (e.g. /api/keys: key registrations). */
  postsTo(path: string): number {
    return this.requests.filter((r) => r.method === 'POST' && new URL(r.url).pathname === path).length;
  }

  /** Closes the browser (its profile stays on disk for the next launch). */
  async close(): Promise<void> {
    await this.context?.close();
  }

  async dispose(): Promise<void> {
    await this.close();
    if (this.#profile) await rm(this.#profile, { recursive: true, force: true });
  }
}

export interface SessionOptions {
  /** Names the file's folders (test-results/app-<name>, test-results/e2e-<name>) and prefixes what it prints. */
  name: string;
  /** $CIPHERCLINIC_BUILD_ID of the build (see buildApp). */
  buildId?: string;
  /** The admin token the server accepts for publishing models; none: publishing is off. */
  adminToken?: string;
  browser?: BrowserOptions;
}

/**
 * One e2e file's app under test: its own build, the real server on loopback serving it, one
 * browser and its page. Files do not share one: each runs in its own process, and the flows
 * of one must not depend on what another left in a browser profile or on the server.
 */
export class AppSession {
  /** Durations the file measures, by name; printed (in ms) when the file ends. */
  readonly timings: Record<string, number> = {};
  /** Where the file writes its inputs and downloads. */
  readonly workDir: string;
  staticDir = '';
  server!: RunningServer;
  browser!: Browser;
  page!: Page;
  readonly #options: SessionOptions;
  #dataDir = '';

  constructor(options: SessionOptions) {
    this.#options = options;
    this.workDir = resolve(resultsDir, `e2e-${options.name}`);
  }

  get url(): string {
    return this.server.url;
  }

  /** Builds the app, starts the server with the default models compiled, and opens the browser on a blank page. */
  async start(): Promise<void> {
    const t0 = performance.now();
    this.staticDir = await this.rebuild(this.#options.buildId);
    ({ server: this.server, dataDir: this.#dataDir } = await startAppServer(this.staticDir, { adminToken: this.#options.adminToken }));
    this.browser = new Browser(this.#options.browser);
    await this.browser.launch();
    this.page = await this.browser.page();
    await mkdir(this.workDir, { recursive: true });
    console.log(`${this.#options.name} e2e setup (build, server with compiled models, browser): ${Math.round(performance.now() - t0)} ms`);
  }

  /** Builds the app again into the folder the server serves; another `buildId` makes it a new version. */
  rebuild(buildId?: string): Promise<string> {
    return buildApp(`app-${this.#options.name}`, { buildId });
  }

  /** Closes the browser and starts it again on the same profile (a real restart); `page` is its page. */
  async restartBrowser(launch: { offline?: boolean } = {}): Promise<Page> {
    await this.browser.close();
    await this.browser.launch(launch);
    return (this.page = await this.browser.page());
  }

  /** Disposes of the browser and starts another, on a new profile, with other options. */
  async replaceBrowser(options: BrowserOptions): Promise<Page> {
    await this.browser.dispose();
    this.browser = new Browser(options);
    await this.browser.launch();
    return (this.page = await this.browser.page());
  }

  /** Stops everything start() started (whatever part of it did start) and prints the timings. */
  async stop(): Promise<void> {
    await this.browser?.dispose();
    await this.server?.close();
    if (this.#dataDir) await rm(this.#dataDir, { recursive: true, force: true });
    const timings = Object.entries(this.timings);
    if (timings.length) console.log(`${this.#options.name} e2e timings (ms):`, Object.fromEntries(timings.map(([k, v]) => [k, Math.round(v)])));
  }
}

/**
 * The session of the calling test file, started before its first test and stopped after its
 * last; its fields are set once the file's tests run, not when this returns.
 */
export function useAppSession(options: SessionOptions): AppSession {
  const session = new AppSession(options);
  beforeAll(() => session.start(), 180_000);
  afterAll(() => session.stop());
  return session;
}

export async function screenshot(page: Page, name: string, width: number): Promise<string> {
  await mkdir(screenshotDir, { recursive: true });
  await page.setViewportSize({ width, height: width < 600 ? 844 : 900 });
  await page.waitForTimeout(100);
  const path = resolve(screenshotDir, `${name}-${width}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
