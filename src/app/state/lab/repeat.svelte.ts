/**
 * "Is this split luck?": the shown model's training request run again on more splits in the
 * training worker (workers/train/repeat.ts). Its result belongs to that request only: a new
 * training clears it, so no spread is ever shown beside a model it was not measured for.
 */
import { CancelledError } from '../../lib/worker-bridge.ts';
import { plainMessage } from '../../lib/plain-error.ts';
import type { RepeatOutcome, RepeatProgress, TrainBridge, TrainRequest } from '../../lib/train-bridge.ts';

export type RepeatPhase = 'idle' | 'running' | 'done' | 'cancelled' | 'error';

export class RepeatedSplits {
  readonly #bridge: TrainBridge;
  #phase = $state<RepeatPhase>('idle');
  #progress = $state.raw<RepeatProgress | undefined>();
  #outcome = $state.raw<RepeatOutcome | undefined>();
  #error = $state('');
  #controller: AbortController | undefined;
  /** The request the shown model was trained from, with its own copy of the file's bytes. */
  #request: TrainRequest | undefined;

  constructor(bridge: TrainBridge) {
    this.#bridge = bridge;
  }

  get phase() {
    return this.#phase;
  }
  get progress() {
    return this.#progress;
  }
  get outcome() {
    return this.#outcome;
  }
  get error() {
    return this.#error;
  }
  /** Whether there is a trained request to repeat. */
  get ready(): boolean {
    return this.#request !== undefined;
  }

  /** Remembers what the next shown model is trained from (its bytes copied: the original moves to the worker), and forgets any earlier result. */
  remember(request: TrainRequest | undefined): void {
    // Forget the running controller before aborting, so its rejection cannot mark the new model's splits cancelled.
    const running = this.#controller;
    this.#controller = undefined;
    running?.abort();
    this.#request = request && { ...request, bytes: request.bytes.slice(0) };
    this.#show('idle');
  }

  /** A phase with nothing yet to show in it: no progress, result or error of an earlier run. */
  #show(phase: RepeatPhase): void {
    this.#phase = phase;
    this.#progress = undefined;
    this.#outcome = undefined;
    this.#error = '';
  }

  async start(repeats: number): Promise<void> {
    const request = this.#request;
    if (!request) return;
    this.cancel();
    const controller = new AbortController();
    this.#controller = controller;
    this.#show('running');
    try {
      const { progressChannel: _channel, ...plain } = request;
      const outcome = await this.#bridge.repeat(
        { ...plain, bytes: request.bytes.slice(0), repeats },
        { signal: controller.signal, onProgress: (p) => void (this.#controller === controller && (this.#progress = p)) },
      );
      if (this.#controller !== controller) return;
      this.#outcome = outcome;
      this.#phase = 'done';
    } catch (e) {
      if (this.#controller !== controller) return;
      if (e instanceof CancelledError) this.#phase = 'cancelled';
      else {
        this.#phase = 'error';
        this.#error = plainMessage(e, 'the training worker stopped without saying why; try again with fewer splits');
      }
    } finally {
      if (this.#controller === controller) this.#controller = undefined;
    }
  }

  cancel(): void {
    this.#controller?.abort();
  }
}
