/**
 * The one bridge to the HE worker (Squoosh's worker-bridge pattern): it starts the worker
 * lazily, queues calls, gives every call an AbortSignal, and terminates the worker on abort —
 * the only way to stop running WebAssembly. The next call starts a fresh worker, which reloads
 * the keys from the vault. Buffers cross by transfer, never by copy.
 */
import { proxy, releaseProxy, transfer, wrap, type Remote } from 'comlink';
import type { HeWorkerApi } from '../../../workers/he.worker.ts';
import type { KeyInfo } from '../../../workers/he/vault.ts';
import type { WireBody } from '../../../workers/he/requests.ts';
import type { CompiledPlans } from '../../../workers/he/compile.ts';
import type { HePlan } from '../../core/he/plan.ts';

export type { CompiledPlans, KeyInfo, WireBody };

/** Raised in place of any result when a call was cancelled. */
export class CancelledError extends Error {
  override name = 'AbortError';
  constructor() {
    super('cancelled');
  }
}

export class HeBridge {
  #worker: Worker | undefined;
  #remote: Remote<HeWorkerApi> | undefined;
  /** Calls run one after another: SEAL work is CPU-bound and the worker is single-threaded. */
  #queue: Promise<unknown> = Promise.resolve();

  /** Rejects when the running worker dies (a load error, or WebAssembly out of memory). */
  #crashed: Promise<never> | undefined;

  #start(): Remote<HeWorkerApi> {
    if (!this.#remote) {
      const worker = new Worker(new URL('../../../workers/he.worker.ts', import.meta.url), { type: 'module', name: 'he' });
      this.#crashed = new Promise<never>((_, reject) => {
        worker.addEventListener('error', (e) => {
          e.preventDefault();
          if (this.#worker === worker) this.terminate();
          reject(new Error(`the encryption worker stopped: ${e.message || 'it could not start'}`));
        });
      });
      this.#crashed.catch(() => undefined);
      this.#worker = worker;
      this.#remote = wrap<HeWorkerApi>(worker);
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

  #call<T>(signal: AbortSignal | undefined, run: (api: Remote<HeWorkerApi>) => Promise<T>): Promise<T> {
    const job = this.#queue.catch(() => undefined).then(async () => {
      if (signal?.aborted) throw new CancelledError();
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

  /** Compiles SEAL in the worker ahead of use. */
  warm(): Promise<true> {
    return this.#call(undefined, (api) => api.ready());
  }

  /** Loads or makes the key for a plan. */
  prepare(plan: HePlan, signal?: AbortSignal): Promise<KeyInfo & { created: boolean }> {
    return this.#call(signal, (api) => api.prepare(plan));
  }

  /** New evaluation keys for a plan, as an encoded registration body. */
  registration(plan: HePlan, signal?: AbortSignal): Promise<WireBody & { keyId: string }> {
    return this.#call(signal, (api) => api.registration(plan));
  }

  /** Encrypts quantized records (row-major, the buffer is moved to the worker) into request bodies. */
  encrypt(plan: HePlan, keyId: string, flat: Int32Array, options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {}): Promise<WireBody[]> {
    const progress = options.onProgress ? proxy(options.onProgress) : undefined;
    return this.#call(options.signal, (api) => api.encrypt(plan, keyId, transfer(flat, [flat.buffer as ArrayBuffer]), progress));
  }

  /** Decrypts result bodies (moved to the worker) into integer scores. */
  decrypt(plan: HePlan, results: Uint8Array[], signal?: AbortSignal): Promise<number[][]> {
    return this.#call(signal, (api) => api.decrypt(plan, transfer(results, results.map((r) => r.buffer as ArrayBuffer))));
  }

  listKeys(): Promise<KeyInfo[]> {
    return this.#call(undefined, (api) => api.listKeys());
  }

  rotate(): Promise<void> {
    return this.#call(undefined, (api) => api.rotate());
  }

  deleteAll(): Promise<void> {
    return this.#call(undefined, (api) => api.deleteAll());
  }

  /** The passphrase-encrypted backup file's bytes. */
  exportBackup(passphrase: string, signal?: AbortSignal): Promise<Uint8Array> {
    return this.#call(signal, (api) => api.exportBackup(passphrase));
  }

  importBackup(file: Uint8Array, passphrase: string, signal?: AbortSignal): Promise<KeyInfo[]> {
    return this.#call(signal, (api) => api.importBackup(transfer(file, [file.buffer as ArrayBuffer]), passphrase));
  }

  /** Compiles a model's plans (both layouts) as the server will, with throwaway keys. */
  compile(model: unknown, signal?: AbortSignal): Promise<CompiledPlans> {
    return this.#call(signal, (api) => api.compile(model));
  }
}
