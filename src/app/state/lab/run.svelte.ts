/**
 * One training run as the lab shows it: which backend and why, the live loss and accuracy of
 * each model, the phase, the elapsed time, cancel, and the outcome. The work happens in the
 * training worker; cancelling terminates it.
 */
import { CancelledError } from '../../lib/he-bridge.ts';
import { plainMessage } from '../../lib/plain-error.ts';
import type { BackendChoice, BackendPreference, TrainBridge, TrainOutcome, TrainPhase, TrainProgress, TrainRequest } from '../../lib/train-bridge.ts';

export type RunPhase = 'idle' | 'training' | 'done' | 'cancelled' | 'error';
export type Series = Record<TrainPhase, TrainProgress[]>;

const EMPTY: Series = { logistic: [], float: [], ternary: [] };

export class TrainingRun {
  readonly #bridge: TrainBridge;
  #phase = $state<RunPhase>('idle');
  #backend = $state.raw<BackendChoice | undefined>();
  #backendError = $state('');
  #series = $state.raw<Series>(EMPTY);
  #latest = $state.raw<TrainProgress | undefined>();
  #outcome = $state.raw<TrainOutcome | undefined>();
  #error = $state('');
  #controller: AbortController | undefined;

  constructor(bridge: TrainBridge) {
    this.#bridge = bridge;
  }

  get phase() {
    return this.#phase;
  }
  get backend() {
    return this.#backend;
  }
  get backendError() {
    return this.#backendError;
  }
  get series(): Series {
    return this.#series;
  }
  get latest() {
    return this.#latest;
  }
  get outcome() {
    return this.#outcome;
  }
  get error() {
    return this.#error;
  }

  /** Starts the worker's backend so the screen can say which one will train, and why. */
  async detect(preference: BackendPreference): Promise<void> {
    this.#backendError = '';
    try {
      this.#backend = await this.#bridge.backend(preference);
    } catch (e) {
      this.#backend = undefined;
      this.#backendError = plainMessage(e, 'no training backend could be started in this browser');
    }
  }

  async start(request: TrainRequest): Promise<TrainOutcome | undefined> {
    this.cancel();
    const controller = new AbortController();
    this.#controller = controller;
    this.#phase = 'training';
    this.#series = EMPTY;
    this.#latest = undefined;
    this.#outcome = undefined;
    this.#error = '';
    const show = (p: TrainProgress) => {
      if (this.#controller !== controller) return;
      this.#latest = p;
      this.#series = { ...this.#series, [p.phase]: [...this.#series[p.phase], p] };
    };
    // The float baselines train in a second worker and report here directly (see TrainRequest.progressChannel).
    const channel = typeof BroadcastChannel === 'undefined' ? undefined : new BroadcastChannel(`lab-baselines-${crypto.randomUUID()}`);
    if (channel) channel.onmessage = (e: MessageEvent<TrainProgress>) => show(e.data);
    try {
      const outcome = await this.#bridge.train(channel ? { ...request, progressChannel: channel.name } : request, { signal: controller.signal, onProgress: show });
      if (this.#controller !== controller) return undefined;
      this.#backend = outcome.backend;
      this.#outcome = outcome;
      this.#phase = 'done';
      return outcome;
    } catch (e) {
      if (this.#controller !== controller) return undefined;
      if (e instanceof CancelledError) this.#phase = 'cancelled';
      else {
        this.#phase = 'error';
        this.#error = plainMessage(e, 'the training worker stopped without saying why; try again, or with fewer epochs');
      }
      return undefined;
    } finally {
      channel?.close();
      if (this.#controller === controller) this.#controller = undefined;
    }
  }

  /** Stops the running training at once (the worker is terminated). */
  cancel(): void {
    this.#controller?.abort();
  }
}
