/**
 * Where this site's local step runs: TensorFlow.js in a training worker of its own (started
 * from this worker) on the best backend the browser gives — WebGPU, else WebAssembly, else
 * plain JavaScript — and, should that worker fail to start or answer, float64 JavaScript here,
 * the command-line site's arithmetic. Either way only float gradients come back; clipping,
 * rounding, noise and masking are done here by src/core/federated. The backend that ran is
 * reported so the screen can say it.
 */
import { transfer, wrap, type Remote } from 'comlink';
import { float64Step, type LocalStep } from '../../src/core/federated/update.ts';
import type { TrainWorkerApi } from '../train.worker.ts';
import { gradientRows, localStepRequest, requestBuffers } from '../train/local-step-wire.ts';

export interface LocalBackend {
  name: 'webgpu' | 'wasm' | 'cpu' | 'float64';
  /** Why this one, in words. */
  reason: string;
  /** Backends tried first and why they were passed over. */
  skipped: { name: string; reason: string }[];
  /** Milliseconds the last local step took on it. */
  ms?: number;
}

/** Starting tfjs (and its WebGPU or wasm backend) may take seconds on a busy machine; not more. */
const START_MS = 30_000;
const STEP_MS = 15_000;

/** The work, or its failure once `ms` pass or the worker dies (`crashed`), whichever comes first. */
function within<T>(ms: number, what: string, work: Promise<T>, crashed: Promise<never>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took more than ${ms / 1000} s`)), ms)));
  return Promise.race([work, late, crashed]).finally(() => clearTimeout(timer));
}

const float64Reason = (why: string) => `TensorFlow.js could not run here (${why}): float64 JavaScript in the site worker, as the command-line site computes it`;

export class SiteLocalStep {
  #trainer: Remote<TrainWorkerApi> | undefined;
  #worker: Worker | undefined;
  /** Rejects when the training worker dies, so that a call waiting on it fails at once. */
  #crashed: Promise<never> = new Promise<never>(() => undefined);
  #failed = '';
  #reported = '';
  readonly #onBackend: (b: LocalBackend) => void;
  constructor(onBackend: (b: LocalBackend) => void) {
    this.#onBackend = onBackend;
  }

  #report(b: LocalBackend): void {
    const key = `${b.name}:${b.reason}`;
    if (key !== this.#reported || b.ms !== undefined) this.#onBackend(b);
    this.#reported = key;
  }

  #fallBack(reason: string): void {
    this.#failed = reason;
    this.#worker?.terminate();
    this.#worker = this.#trainer = undefined;
    this.#report({ name: 'float64', reason: float64Reason(reason), skipped: [] });
  }

  /** Starts the training worker and its backend ahead of the first round, and says which. */
  async start(): Promise<void> {
    if (this.#failed || this.#trainer) return;
    try {
      this.#worker = new Worker(new URL('../train.worker.ts', import.meta.url), { type: 'module', name: 'study-train' });
      this.#crashed = new Promise<never>((_, reject) => this.#worker!.addEventListener('error', () => reject(new Error('its worker failed to load'))));
      this.#crashed.catch(() => undefined);
      this.#trainer = wrap<TrainWorkerApi>(this.#worker);
      const choice = await within(START_MS, 'starting TensorFlow.js', this.#trainer.backend('auto'), this.#crashed);
      this.#report({ name: choice.name, reason: choice.reason, skipped: choice.skipped });
    } catch (e) {
      this.#fallBack((e as Error).message);
    }
  }

  /** Ends the training worker (the study is over or left). */
  dispose(): void {
    this.#worker?.terminate();
    this.#worker = this.#trainer = undefined;
  }

  /** The LocalStep runSite takes. */
  readonly step: LocalStep = async (weights, records, recordWeights) => {
    if (!this.#trainer && !this.#failed) await this.start();
    const trainer = this.#trainer;
    if (trainer) {
      try {
        const request = localStepRequest(weights, records, recordWeights);
        const answer = await within(STEP_MS, 'the local step', trainer.localStep(transfer(request, requestBuffers(request))), this.#crashed);
        this.#report({ name: answer.backend.name, reason: answer.backend.reason, skipped: answer.backend.skipped, ms: answer.ms });
        return gradientRows(answer.gradients, records.labels.length);
      } catch (e) {
        this.#fallBack((e as Error).message);
      }
    }
    const t0 = performance.now();
    const rows = float64Step(weights, records, recordWeights);
    this.#report({ name: 'float64', reason: float64Reason(this.#failed), skipped: [], ms: performance.now() - t0 });
    return rows;
  };
}
