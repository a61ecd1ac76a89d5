/**
 * The app's long-lived parts, made once and shared through Svelte context: the HE and training
 * worker bridges, the service's model cards, the key ring, the traffic log, the history, the
 * training lab and the router.
 */
import { getContext, setContext } from 'svelte';
import { observeRequests } from '../lib/api.ts';
import { HeBridge } from '../lib/he-bridge.ts';
import { TrainBridge } from '../lib/train-bridge.ts';
import type { ModelCard } from '../../core/model/card.ts';
import type { DecodedScore } from '../../core/model/reference.ts';
import type { QueuedPrediction } from '../lib/outbox.ts';
import { ModelCatalog } from './catalog.svelte.ts';
import { ClinicBatch } from './clinic.svelte.ts';
import { PatientSession } from './patient.svelte.ts';
import { History } from './history.svelte.ts';
import { KeyRing } from './keys.svelte.ts';
import { Outbox } from './outbox.svelte.ts';
import { TrainingLab } from './lab/lab.svelte.ts';
import { Router } from './router.svelte.ts';
import { TrafficLog } from './traffic.svelte.ts';
import { AppUpdate } from './update.svelte.ts';

export class AppState {
  readonly bridge = new HeBridge();
  readonly catalog = new ModelCatalog();
  readonly keys = new KeyRing(this.bridge);
  readonly traffic = new TrafficLog();
  readonly history = new History();
  readonly router = new Router();
  readonly clinic: ClinicBatch = new ClinicBatch(this);
  readonly trainBridge = new TrainBridge();
  readonly lab = new TrainingLab(this.trainBridge, this.bridge, this.catalog);
  readonly outbox: Outbox = new Outbox(this);
  readonly update = new AppUpdate();
  readonly #patients = new Map<string, PatientSession>();

  constructor() {
    observeRequests((r) => this.traffic.add(r));
  }

  /** The patient form of a model, kept while the app is open (switching screens keeps it). */
  patientSession(card: ModelCard): PatientSession {
    const id = `${card.id}:${card.modelHash}`;
    let session = this.#patients.get(id);
    if (!session) this.#patients.set(id, (session = new PatientSession(this, card)));
    return session;
  }

  /** Shows a queued prediction's answer on its model's patient screen (it is in the history already). */
  deliverQueued(entry: QueuedPrediction, prediction: DecodedScore): void {
    const card = this.catalog.byId(entry.modelId);
    if (card?.modelHash !== entry.plan.modelHash) return;
    this.patientSession(card).receive(entry, prediction);
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
    await Promise.allSettled([this.catalog.load(), this.keys.refresh(), this.history.load()]);
    await this.outbox.start();
  }
}

const KEY = Symbol('app');

export function provideApp(app: AppState): AppState {
  return setContext(KEY, app);
}

export function useApp(): AppState {
  return getContext<AppState>(KEY);
}
