/**
 * The one bridge to the training worker (lifecycle in worker-bridge.ts; terminating is the
 * only way to stop tfjs mid-epoch). The worker picks its backend once, so asking for another
 * backend starts a fresh worker. The CSV's bytes cross by transfer.
 */
import { proxy, transfer, type Remote } from 'comlink';
import type { TrainWorkerApi } from '../../../workers/train.worker.ts';
import type { BackendChoice, BackendName, BackendPreference } from '../../../workers/train/backend.ts';
import type { LabSettings, ModelNaming, TrainOutcome, TrainPhase, TrainProgress, TrainRequest } from '../../../workers/train/train.ts';
import type { RepeatOutcome, RepeatProgress, RepeatRequest } from '../../../workers/train/repeat.ts';
import { WorkerBridge } from './worker-bridge.ts';

export type { BackendChoice, BackendName, BackendPreference, LabSettings, ModelNaming, RepeatOutcome, RepeatProgress, RepeatRequest, TrainOutcome, TrainPhase, TrainProgress, TrainRequest };

export class TrainBridge {
  readonly #bridge = new WorkerBridge<TrainWorkerApi>(() => new Worker(new URL('../../../workers/train.worker.ts', import.meta.url), { type: 'module', name: 'train' }), 'training');
  #preference: BackendPreference | undefined;

  /** The worker picks its backend once: another preference restarts it. */
  #call<T>(preference: BackendPreference, signal: AbortSignal | undefined, run: (api: Remote<TrainWorkerApi>) => Promise<T>): Promise<T> {
    return this.#bridge.call(signal, run, () => {
      if (this.#bridge.running && this.#preference !== preference) this.#bridge.terminate();
      this.#preference = preference;
    });
  }

  /** Starts the backend the worker would train on, and says which and why. */
  backend(preference: BackendPreference, signal?: AbortSignal): Promise<BackendChoice> {
    return this.#call(preference, signal, (api) => api.backend(preference));
  }

  /** Trains; the request's bytes are moved to the worker. Abort to stop at once. */
  train(request: TrainRequest, options: { signal?: AbortSignal; onProgress?: (p: TrainProgress) => void } = {}): Promise<TrainOutcome> {
    const progress = options.onProgress ? proxy(options.onProgress) : undefined;
    return this.#call(request.backend, options.signal, (api) => api.train(transfer(request, [request.bytes]), progress));
  }

  /** Trains the same request on more splits and summarizes them; nothing is kept. Abort to stop at once. */
  repeat(request: RepeatRequest, options: { signal?: AbortSignal; onProgress?: (p: RepeatProgress) => void } = {}): Promise<RepeatOutcome> {
    const progress = options.onProgress ? proxy(options.onProgress) : undefined;
    return this.#call(request.backend, options.signal, (api) => api.repeat(transfer(request, [request.bytes]), progress));
  }
}
