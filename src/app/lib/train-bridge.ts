/**
 * The one bridge to the training worker (the HeBridge pattern): lazy start, one call at a
 * time, an AbortSignal on every call, and terminate on abort — the only way to stop tfjs
 * mid-epoch. The worker picks its backend once, so asking for another backend starts a fresh
 * worker. The CSV's bytes cross by transfer.
 */
import { proxy, releaseProxy, transfer, wrap, type Remote } from 'comlink';
import type { TrainWorkerApi } from '../../../workers/train.worker.ts';
import type { BackendChoice, BackendName, BackendPreference } from '../../../workers/train/backend.ts';
import type { LabSettings, ModelNaming, TrainOutcome, TrainPhase, TrainProgress, TrainRequest } from '../../../workers/train/train.ts';
import { CancelledError } from './he-bridge.ts';

export type { BackendChoice, BackendName, BackendPreference, LabSettings, ModelNaming, TrainOutcome, TrainPhase, TrainProgress, TrainRequest };

export class TrainBridge {
  #worker: Worker | undefined;
  #remote: Remote<TrainWorkerApi> | undefined;
  #preference: BackendPreference | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #crashed: Promise<never> | undefined;

  #start(preference: BackendPreference): Remote<TrainWorkerApi> {
    if (this.#remote && this.#preference !== preference) this.terminate();
    if (!this.#remote) {
      const worker = new Worker(new URL('../../../workers/train.worker.ts', import.meta.url), { type: 'module', name: 'train' });
      this.#crashed = new Promise<never>((_, reject) => {
        worker.addEventListener('error', (e) => {
          e.preventDefault();
          if (this.#worker === worker) this.terminate();
          reject(new Error(`the training worker stopped: ${e.message || 'it could not start'}`));
        });
      });
      this.#crashed.catch(() => undefined);
      this.#worker = worker;
      this.#remote = wrap<TrainWorkerApi>(worker);
      this.#preference = preference;
    }
    return this.#remote;
  }

  /** Stops the worker now (and with it any training); in-flight calls reject. */
  terminate(): void {
    this.#remote?.[releaseProxy]();
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#remote = undefined;
    this.#preference = undefined;
  }

  #call<T>(preference: BackendPreference, signal: AbortSignal | undefined, run: (api: Remote<TrainWorkerApi>) => Promise<T>): Promise<T> {
    const job = this.#queue.catch(() => undefined).then(async () => {
      if (signal?.aborted) throw new CancelledError();
      const api = this.#start(preference);
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => {
          this.terminate();
          reject(new CancelledError());
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      try {
        return await Promise.race([run(api), aborted, this.#crashed!]);
      } finally {
        if (onAbort) signal?.removeEventListener('abort', onAbort);
      }
    });
    this.#queue = job;
    return job;
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
}
