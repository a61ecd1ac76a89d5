/**
 * Runs the float baselines in a second worker while this one trains the TernaryNet: the two are
 * independent parts of trainModel (src/train/parts.ts), and phones and laptops have more than one
 * core. Where a worker cannot start another (no nested workers) or the device has one core, the
 * caller trains them in line instead, as trainModel does on its own.
 */
import { proxy, wrap } from 'comlink';
import type { ProgressListener } from '../../src/train/loop.ts';
import type { RunOptions, TrainingData } from '../../src/train/parts.ts';
import type { BackendName } from './backend.ts';
import type { BaselineReporting, BaselinesDone, BaselinesWorkerApi } from './baselines.worker.ts';

export type { BaselineReporting };

/** Baselines being trained in the second worker; `stop` ends it (also once they are done). */
export interface BaselinesBeside {
  done: Promise<BaselinesDone>;
  stop(): void;
}

/** Why the baselines train in line on this device, or '' when a second worker can take them. */
export function inLineReason(): string {
  if (typeof Worker === 'undefined') return 'this browser cannot start a worker from a worker';
  if ((navigator.hardwareConcurrency ?? 1) < 2) return 'this device has one processor core';
  return '';
}

/**
 * Starts the second worker and its `backend`, then the baselines in it. It resolves once the
 * worker trains: a worker started from a worker loads through its parent, which must not be
 * busy training meanwhile.
 */
export async function trainBaselinesBeside(data: TrainingData, options: Omit<RunOptions, 'onProgress' | 'signal'>, backend: BackendName, reporting: BaselineReporting, onProgress?: ProgressListener): Promise<BaselinesBeside> {
  const worker = new Worker(new URL('./baselines.worker.ts', import.meta.url), { type: 'module', name: 'train-baselines' });
  const crashed = new Promise<never>((_, reject) =>
    worker.addEventListener('error', (e) => {
      e.preventDefault();
      reject(new Error(`the second training worker (float baselines) stopped${e.message ? `: ${e.message}` : ''}`));
    }),
  );
  crashed.catch(() => undefined);
  const api = wrap<BaselinesWorkerApi>(worker);
  try {
    await Promise.race([api.start(backend), crashed]);
  } catch (e) {
    worker.terminate();
    throw e;
  }
  const done = Promise.race([api.baselines(data, options, reporting, onProgress ? proxy(onProgress) : undefined), crashed]);
  // Whoever awaits `done` sees a failure; a failure nobody awaits (the TernaryNet failed first) is not an error of its own.
  done.catch(() => undefined);
  return { done, stop: () => worker.terminate() };
}
