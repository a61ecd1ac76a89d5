/**
 * The lifecycle every worker bridge shares (Squoosh's worker-bridge pattern): start the worker
 * lazily, run calls one after another, give every call an AbortSignal, and terminate the worker
 * on abort — the only way to stop running WebAssembly. The next call starts a fresh worker.
 * A worker that dies (a load error, WebAssembly out of memory) rejects the calls in flight.
 */
import { releaseProxy, wrap, type Remote } from 'comlink';

/** Raised in place of any result when a call was cancelled. */
export class CancelledError extends Error {
  override name = 'AbortError';
  constructor() {
    super('cancelled');
  }
}

export class WorkerBridge<Api> {
  readonly #create: () => Worker;
  readonly #label: string;
  #worker: Worker | undefined;
  #remote: Remote<Api> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #crashed: Promise<never> | undefined;

  /** `label` names the worker in error messages ("the encryption worker stopped: …"). */
  constructor(create: () => Worker, label: string) {
    this.#create = create;
    this.#label = label;
  }

  get running(): boolean {
    return this.#remote !== undefined;
  }

  #start(): Remote<Api> {
    if (!this.#remote) {
      const worker = this.#create();
      this.#crashed = new Promise<never>((_, reject) => {
        worker.addEventListener('error', (e) => {
          e.preventDefault();
          if (this.#worker === worker) this.terminate();
          reject(new Error(`the ${this.#label} worker stopped: ${e.message || 'it could not start'}`));
        });
      });
      this.#crashed.catch(() => undefined);
      this.#worker = worker;
      this.#remote = wrap<Api>(worker);
    }
    return this.#remote;
  }

  /** Stops the worker now; in-flight calls reject. */
  terminate(): void {
    this.#remote?.[releaseProxy]();
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#remote = undefined;
  }

  /** Queues one call; `before` runs first in the queue (e.g. to restart the worker). */
  call<T>(signal: AbortSignal | undefined, run: (api: Remote<Api>) => Promise<T>, before?: () => void): Promise<T> {
    const job = this.#queue.catch(() => undefined).then(async () => {
      if (signal?.aborted) throw new CancelledError();
      before?.();
      const api = this.#start();
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
}
