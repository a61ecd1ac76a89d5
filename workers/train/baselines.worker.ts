/**
 * The lab's second training worker: the float baselines (logistic regression and the float MLP),
 * trained while the training worker trains the TernaryNet (beside.ts starts it from there). Same
 * backend and same code as when trainModel trains them first (src/train/parts.ts), so the
 * numbers are the same; only the time they take is no longer added to the TernaryNet's.
 *
 * Its progress goes straight to the page on a BroadcastChannel the page names: the training
 * worker cannot pass it on while it trains (tfjs's reads resolve without yielding to its event
 * loop, so messages to it wait until the TernaryNet is done).
 */
import { expose } from 'comlink';
import type { ProgressEvent, ProgressListener } from '../../src/train/loop.ts';
import { type BaselineHeldOut, type RunOptions, type TrainingData, trainBaselines } from '../../src/train/parts.ts';
import { type BackendChoice, type BackendName, startBackend } from './backend.ts';

/** Where the baselines' progress goes, and the run's start on the shared clock (timeOrigin + now). */
export interface BaselineReporting {
  /** Name of the page's BroadcastChannel; without one, `onProgress` (relayed by the training worker) gets it. */
  channel?: string;
  startedAt: number;
  epochsSet: number;
}

export interface BaselinesDone {
  heldOut: BaselineHeldOut;
  /** Each baseline's time, from the start of its training (or of the one before it) to its last report. */
  phases: { logistic?: number; float?: number };
}

/** The same clock in every worker and the page. */
const clock = () => performance.timeOrigin + performance.now();

/** Starts `backend` (the one the training worker chose); the training worker waits for this before it trains. */
async function start(backend: BackendName): Promise<BackendChoice> {
  const started = await startBackend(backend);
  if (started.name !== backend) throw new Error(`the second training worker could not start ${backend} (it started ${started.name})`);
  return started;
}

async function baselines(data: TrainingData, options: Omit<RunOptions, 'onProgress' | 'signal'>, reporting: BaselineReporting, onProgress?: ProgressListener): Promise<BaselinesDone> {
  const channel = reporting.channel && typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel(reporting.channel) : undefined;
  const last: Partial<Record<ProgressEvent['phase'], number>> = {};
  const t0 = clock();
  try {
    const heldOut = await trainBaselines(data, {
      ...options,
      onProgress: (event) => {
        const now = clock();
        last[event.phase] = now;
        if (channel) channel.postMessage({ ...event, elapsedMs: now - reporting.startedAt, epochsSet: reporting.epochsSet });
        else onProgress?.(event);
      },
    });
    const logistic = last.logistic;
    return { heldOut, phases: { ...(logistic ? { logistic: logistic - t0 } : {}), ...(last.float ? { float: last.float - (logistic ?? t0) } : {}) } };
  } finally {
    channel?.close();
  }
}

const api = { start, baselines };

export type BaselinesWorkerApi = typeof api;

expose(api);
