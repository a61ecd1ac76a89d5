/**
 * The app's long-lived parts, made once and shared through Svelte context: the HE worker
 * bridge, the service's model cards, the key ring, the traffic log, the history and the router.
 */
import { getContext, setContext } from 'svelte';
import { observeRequests } from '../lib/api.ts';
import { HeBridge } from '../lib/he-bridge.ts';
import type { ModelCard } from '../../core/model/card.ts';
import { ModelCatalog } from './catalog.svelte.ts';
import { ClinicBatch } from './clinic.svelte.ts';
import { PatientSession } from './patient.svelte.ts';
import { History } from './history.svelte.ts';
import { KeyRing } from './keys.svelte.ts';
import { Router } from './router.svelte.ts';
import { TrafficLog } from './traffic.svelte.ts';

export class AppState {
  readonly bridge = new HeBridge();
  readonly catalog = new ModelCatalog();
  readonly keys = new KeyRing(this.bridge);
  readonly traffic = new TrafficLog();
  readonly history = new History();
  readonly router = new Router();
  readonly clinic: ClinicBatch = new ClinicBatch(this);
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

  /** Starts what every screen needs: SEAL compiling in the worker, cards, keys, history. */
  async start(): Promise<void> {
    void this.bridge.warm().catch(() => undefined);
    await Promise.allSettled([this.catalog.load(), this.keys.refresh(), this.history.load()]);
  }
}

const KEY = Symbol('app');

export function provideApp(app: AppState): AppState {
  return setContext(KEY, app);
}

export function useApp(): AppState {
  return getContext<AppState>(KEY);
}
