/**
 * The app's long-lived parts, made once and shared through Svelte context: the HE and training
 * worker bridges, the sender every prediction goes through, the service's model cards, the key
 * ring, the traffic log, the history, the outbox, the training lab and the router. Each part is
 * handed the collaborators it uses (never this whole object) and tells what happened through
 * events, which are wired here.
 */
import { getContext, setContext } from 'svelte';
import { observeRequests } from '../lib/api.ts';
import { HeBridge } from '../lib/he-bridge.ts';
import { OutboxStore } from '../lib/outbox.ts';
import { Registrations } from '../lib/registrations.ts';
import { Sender } from '../lib/sender.ts';
import { outboxStore, registrationStore } from '../lib/stores.ts';
import { TrainBridge } from '../lib/train-bridge.ts';
import type { ModelCard } from '../../core/model/card.ts';
import type { QueuedPrediction } from '../lib/outbox.ts';
import type { Prediction } from '../lib/he-bridge.ts';
import { ModelCatalog } from './catalog.svelte.ts';
import { ClinicBatch } from './clinic.svelte.ts';
import { PatientSession } from './patient.svelte.ts';
import { History } from './history.svelte.ts';
import { KeyRing } from './keys.svelte.ts';
import { Notices } from './notices.svelte.ts';
import { Outbox } from './outbox.svelte.ts';
import { TrainingLab } from './lab/lab.svelte.ts';
import { Router } from './router.svelte.ts';
import { TrafficLog } from './traffic.svelte.ts';
import { AppUpdate } from './update.svelte.ts';

export class AppState {
  readonly notices = new Notices();
  readonly #drop = (words: string) => this.notices.add(words);
  readonly bridge = new HeBridge();
  readonly #registrations = new Registrations(this.bridge, registrationStore, this.#drop);
  readonly #outboxStore = new OutboxStore(outboxStore, this.#drop);
  /** The one pipeline every prediction goes through, online or queued. */
  readonly sender = new Sender(this.bridge, this.#registrations);
  readonly catalog = new ModelCatalog(this.#drop);
  readonly keys = new KeyRing(this.bridge, this.#registrations, this.#drop);
  readonly traffic = new TrafficLog();
  readonly history = new History(this.#drop);
  readonly router = new Router();
  readonly clinic = new ClinicBatch({ sender: this.sender, history: this.history, keys: this.keys });
  readonly trainBridge = new TrainBridge();
  readonly lab = new TrainingLab(this.trainBridge, this.bridge, this.catalog);
  readonly outbox = new Outbox({ sender: this.sender, store: this.#outboxStore, history: this.history, cards: this.catalog });
  readonly update = new AppUpdate();
  readonly #patients = new Map<string, PatientSession>();

  constructor() {
    observeRequests((r) => this.traffic.add(r));
    this.outbox.ondeliver = (entry, prediction, regionScores) => this.#showDelivered(entry, prediction, regionScores);
    // The first prediction, even one queued, may have made this device's key.
    this.outbox.onqueue = () => void this.keys.refresh().catch(() => undefined);
  }

  /** The patient form of a model, kept while the app is open (switching screens keeps it). */
  patientSession(card: ModelCard): PatientSession {
    const id = `${card.id}:${card.modelHash}`;
    let session = this.#patients.get(id);
    if (!session) {
      session = new PatientSession({ sender: this.sender, history: this.history, keys: this.keys, catalog: this.catalog, outbox: this.outbox }, card);
      this.#patients.set(id, session);
    }
    return session;
  }

  /** Shows a queued prediction's answer on its model's patient screen (it is in the history already). */
  #showDelivered(entry: QueuedPrediction, prediction: Prediction, regionScores?: number[]): void {
    const card = this.catalog.byId(entry.modelId);
    if (card?.modelHash !== entry.plan.modelHash) return;
    this.patientSession(card).receive(entry, prediction, regionScores);
    if (this.catalog.status === 'offline') void this.catalog.load();
  }

  /**
   * Starts what every screen needs: cards, keys, history, the outbox, and the service worker.
   * SEAL's WebAssembly is not loaded here: the patient screen loads it once a model is chosen,
   * the lab's tfjs only when it trains.
   */
  async start(): Promise<void> {
    addEventListener('online', () => {
      void this.catalog.load();
      void this.update.check();
    });
    this.update.start();
    // Evaluation keys an earlier version kept beside queued predictions join the one store of registrations.
    const legacy = this.#outboxStore.takeLegacyKeys().then((keys) => this.#registrations.adopt(keys));
    await Promise.allSettled([this.catalog.load(), this.keys.refresh(), this.history.load(), legacy]);
    await this.outbox.start();
    // After the first sending round, which may have encrypted queued predictions under new plans.
    void this.outbox.flush().then(() => this.#pruneRegistrations()).catch(() => undefined);
  }

  /** Drops the kept evaluation keys of plans the service no longer offers (an earlier version's), once the cards came from it. */
  async #pruneRegistrations(): Promise<void> {
    if (this.catalog.status !== 'online') return;
    const plans = this.catalog.cards.flatMap((c) => [c.plans.single?.hash, c.plans.batch?.hash]);
    const queued = this.outbox.items.map((e) => e.plan.hash);
    await this.#registrations.prune(new Set([...plans, ...queued].filter((h): h is string => h !== undefined)));
  }
}

const KEY = Symbol('app');

export function provideApp(app: AppState): AppState {
  return setContext(KEY, app);
}

export function useApp(): AppState {
  return getContext<AppState>(KEY);
}
