/**
 * Runs the float baselines in a second worker while this one trains the TernaryNet: the two are
 * independent parts of trainModel (src/train/parts.ts), and phones and laptops have several
 * cores. A second worker costs CPU of its own (another tfjs, another heap to collect): measured
 * on Framingham, about 17 s more CPU in all, so with fewer than 4 cores (where the page, the
 * collector and the two workers share two) the caller trains the baselines in line, as trainModel
 * does on its own, unless the person chose otherwise.
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

/** Where the lab trains the float baselines: decided by the cores (auto), or as the person chose. */
export type BaselinesPlace = 'auto' | 'beside' | 'in-line';

/** Fewest cores for which `auto` trains the baselines in a second worker. */
export const MIN_CORES_BESIDE = 4;

/** Why the baselines train in line, in words, or '' when a second worker takes them. */
export function inLineReason(place: BaselinesPlace = 'auto'): string {
  if (place === 'in-line') return 'that was chosen';
  if (typeof Worker === 'undefined') return 'this browser cannot start a worker from a worker';
  const cores = navigator.hardwareConcurrency ?? 1;
  if (place === 'auto' && cores < MIN_CORES_BESIDE) return `this device has ${cores} processor core${cores === 1 ? '' : 's'}, too few to gain from a second worker`;
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
