/**
 * The one bridge to the HE worker (lifecycle in worker-bridge.ts). After an abort the next call
 * starts a fresh worker, which reloads the keys from the vault. Buffers cross by transfer,
 * never by copy.
 */
import { transfer, type Remote } from 'comlink';
import { CancelledError, WorkerBridge } from './worker-bridge.ts';
import type { HeWorkerApi } from '../../../workers/he.worker.ts';
import type { KeyInfo } from '../../../workers/he/vault.ts';
import type { DecryptedResult, DecryptOptions, EncryptOptions, Prediction, WireBody } from '../../../workers/he/requests.ts';
import type { CompiledPlans } from '../../../workers/he/compile.ts';
import type { HePlan } from '../../core/he/plan.ts';
import type { ModelCard } from '../../core/model/card.ts';
import type { OutputDecoding } from '../../core/model/format.ts';
import type { PlainRecord } from '../../core/model/reference.ts';

export type { CompiledPlans, DecryptedResult, DecryptOptions, EncryptOptions, KeyInfo, Prediction, WireBody };


export { CancelledError };

export class HeBridge {
  readonly #bridge = new WorkerBridge<HeWorkerApi>(() => new Worker(new URL('../../../workers/he.worker.ts', import.meta.url), { type: 'module', name: 'he' }), 'encryption');

  /** Calls run one after another: SEAL work is CPU-bound and the worker is single-threaded. */
  #call<T>(signal: AbortSignal | undefined, run: (api: Remote<HeWorkerApi>) => Promise<T>): Promise<T> {
    return this.#bridge.call(signal, run);
  }

  /** Loads or makes the key for a plan. */
  prepare(plan: HePlan, signal?: AbortSignal): Promise<KeyInfo> {
    return this.#call(signal, (api) => api.prepare(plan));
  }

  /** New evaluation keys for a plan, as an encoded registration body. */
  registration(plan: HePlan, signal?: AbortSignal): Promise<WireBody & { keyId: string }> {
    return this.#call(signal, (api) => api.registration(plan));
  }

  /**
   * Encrypts records (values as entered, null where missing) into request bodies: the worker
   * quantizes them with the card's public statistics, so the page never holds quantized values.
   */
  encryptRecords(plan: HePlan, model: Pick<ModelCard, 'input'>, keyId: string, records: readonly PlainRecord[], options: EncryptOptions = {}, signal?: AbortSignal): Promise<WireBody[]> {
    return this.#call(signal, (api) => api.encryptRecords(plan, { input: model.input }, keyId, records, options));
  }

  /** Decrypts result bodies (moved to the worker) into each record's decoded prediction. */
  decryptResults(plan: HePlan, output: OutputDecoding, results: Uint8Array[], options: DecryptOptions = {}, signal?: AbortSignal): Promise<DecryptedResult[]> {
    return this.#call(signal, (api) => api.decryptResults(plan, output, transfer(results, results.map((r) => r.buffer as ArrayBuffer)), options));
  }

  listKeys(): Promise<KeyInfo[]> {
    return this.#call(undefined, (api) => api.listKeys());
  }

  /** How many stored keys cannot be read (kept, unused). */
  unreadableKeys(): Promise<number> {
    return this.#call(undefined, (api) => api.unreadableKeys());
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
