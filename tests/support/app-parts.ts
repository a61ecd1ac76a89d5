/**
 * The app's state classes outside a browser, with real parts: the HE worker's own verbs run in
 * this process (real SEAL; the vault on IndexedDB — fake-indexeddb's in-memory implementation,
 * loaded by the vitest 'state' project — and WebCrypto), the real service on loopback, the
 * browser's network events and flag (Node has neither). Used by the *.test.svelte.ts files.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createStore } from 'idb-keyval';
import { modelsDir } from '../../src/cli/paths.ts';
import type { ModelCard } from '../../src/core/model/card.ts';
import { parseModel, type TernaryModel } from '../../src/core/model/format.ts';
import { decodeScore, quantizeRecord, referenceScore, type DecodedScore, type PlainRecord } from '../../src/core/model/reference.ts';
import { startServer, type RunningServer } from '../../src/server/main.ts';
import { decryptResults, encryptRecords, prepare, registration } from '../../workers/he/requests.ts';
import { fetchCards, observeRequests, useService, type SentRequest } from '../../src/app/lib/api.ts';
import { OutboxStore } from '../../src/app/lib/outbox.ts';
import { Registrations } from '../../src/app/lib/registrations.ts';
import { Sender, type SenderBridge } from '../../src/app/lib/sender.ts';
import { validCards } from '../../src/app/lib/stored.ts';
import { History } from '../../src/app/state/history.svelte.ts';
import { Notices } from '../../src/app/state/notices.svelte.ts';
import { Outbox } from '../../src/app/state/outbox.svelte.ts';

/** Fired as the browser fires 'online' and 'offline' on the window. */
export const network = new EventTarget();
let online = true;
Object.assign(globalThis, { addEventListener: network.addEventListener.bind(network) });
Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => online });

/** Sets the browser's network flag and fires its event. */
export function setOnline(value: boolean): void {
  online = value;
  network.dispatchEvent(new Event(value ? 'online' : 'offline'));
}

/** The HE worker's verbs, run here. */
export const he: SenderBridge & { registration: typeof registration } = {
  prepare: (plan) => prepare(plan),
  registration: (plan) => registration(plan),
  encryptRecords: (plan, model, keyId, records, options) => encryptRecords(plan, model, keyId, records, options),
  decryptResults: (plan, output, results, options) => decryptResults(plan, output, results, options),
};

/** Every request the page's api module sent, in order. */
export const sent: SentRequest[] = [];
observeRequests((r) => sent.push(r));
export const posts = (kind: 'keys' | 'classify') => sent.filter((r) => r.method === 'POST' && (kind === 'keys' ? r.path === '/api/keys' : r.path.endsWith('/classify')));

/** A loopback address nothing listens on: the service cannot be reached. */
export const UNREACHABLE = 'http://127.0.0.1:9';

/** The real service with the default models, on a free loopback port; the api module talks to it. */
export class Service {
  server!: RunningServer;
  #dataDir = '';

  async start(): Promise<void> {
    this.#dataDir = await mkdtemp(join(tmpdir(), 'cipherclinic-state-'));
    this.server = await startServer({ host: '127.0.0.1', port: 0, dataDir: this.#dataDir, workers: 1, logLevel: 'warn', modelDirs: [modelsDir] });
    useService(this.server.url);
  }

  /** Points the api module back at this service (after UNREACHABLE). */
  use(): void {
    useService(this.server.url);
  }

  async stop(): Promise<void> {
    await this.server?.close();
    if (this.#dataDir) await rm(this.#dataDir, { recursive: true, force: true });
  }

  /** A card as the service sends it, checked as the app checks it. */
  async card(id: string): Promise<ModelCard> {
    const dropped: string[] = [];
    const card = validCards((await fetchCards()).cards, (w) => dropped.push(w)).find((c) => c.id === id);
    if (!card || dropped.length) throw new Error(`the service did not send a readable card for ${id}: ${dropped.join(' ')}`);
    return card;
  }
}

export async function loadModel(id: string): Promise<TernaryModel> {
  return parseModel(JSON.parse(await readFile(resolve(modelsDir, `${id}.json`), 'utf8')));
}

/** The plaintext reference of a record: what the encrypted path must give bit for bit. */
export function reference(model: TernaryModel, record: PlainRecord): DecodedScore {
  return decodeScore(model.output, referenceScore(model, quantizeRecord(model, record)));
}

/** The first row of framingham_chd.csv, by feature name. */
export const FRAMINGHAM_FIRST_ROW: Record<string, number> = { male: 1, age: 39, education: 4, current_smoker: 0, cigs_per_day: 0, bp_meds: 0, prevalent_stroke: 0, prevalent_hypertension: 0, diabetes: 0, total_cholesterol: 195, systolic_bp: 106, diastolic_bp: 70, bmi: 26.97, heart_rate: 80, glucose: 77 };

/** The app's prediction parts, on IndexedDB stores named for one test. */
export function appParts(name: string) {
  const notices = new Notices();
  const drop = (w: string) => notices.add(w);
  const registrations = new Registrations(he, createStore(`${name}-registrations`, 'registrations'), drop);
  const store = new OutboxStore(createStore(`${name}-outbox`, 'outbox'), drop);
  const history = new History();
  const sender = new Sender(he, registrations);
  const outbox = new Outbox({ sender, store, history });
  return { notices, registrations, store, history, sender, outbox };
}
