/**
 * After training: the encryption preview (the trained model's plans, compiled in the HE worker
 * by the same compiler the server runs, with expected latency from one round trip timed on this device)
 * and publishing the model to the service with the operator's admin token.
 */
import type { LayoutName } from '../../../core/he/layout.ts';
import type { HePlan } from '../../../core/he/plan.ts';
import type { ModelCard } from '../../../core/model/card.ts';
import type { TernaryModel } from '../../../core/model/format.ts';
import { ApiError, publishModel } from '../../lib/api.ts';
import type { HeBridge } from '../../lib/he-bridge.ts';
import { expectedLatency, type LatencyEstimate } from '../../lib/latency.ts';

export interface PlanPreview {
  layout: LayoutName;
  plan: HePlan;
  latency?: LatencyEstimate;
}

export class EncryptionPreview {
  readonly #bridge: HeBridge;
  #status = $state<'idle' | 'compiling' | 'done' | 'error'>('idle');
  #plans = $state.raw<PlanPreview[]>([]);
  #errors = $state.raw<Partial<Record<LayoutName, string>>>({});
  #error = $state('');
  #ms = $state(0);
  #for: string | undefined;

  constructor(bridge: HeBridge) {
    this.#bridge = bridge;
  }

  get status() {
    return this.#status;
  }
  get plans(): readonly PlanPreview[] {
    return this.#plans;
  }
  get errors() {
    return this.#errors;
  }
  get error() {
    return this.#error;
  }
  get ms() {
    return this.#ms;
  }

  clear(): void {
    this.#for = undefined;
    this.#status = 'idle';
    this.#plans = [];
    this.#errors = {};
    this.#error = '';
  }

  async compile(model: TernaryModel): Promise<void> {
    this.#for = model.hash;
    this.#status = 'compiling';
    this.#error = '';
    try {
      const compiled = await this.#bridge.compile(model);
      if (this.#for !== model.hash) return;
      this.#plans = (['single', 'batch'] as const).flatMap((layout) => {
        const plan = compiled.plans[layout];
        return plan ? [{ layout, plan, latency: expectedLatency(plan, compiled.timings[layout]) }] : [];
      });
      this.#errors = compiled.errors;
      this.#ms = compiled.ms;
      this.#status = 'done';
    } catch (e) {
      if (this.#for !== model.hash) return;
      this.#status = 'error';
      this.#error = (e as Error).message;
    }
  }
}

export class ModelPublisher {
  #status = $state<'idle' | 'publishing' | 'done' | 'error'>('idle');
  #card = $state.raw<ModelCard | undefined>();
  #error = $state('');

  get status() {
    return this.#status;
  }
  get card() {
    return this.#card;
  }
  get error() {
    return this.#error;
  }

  clear(): void {
    this.#status = 'idle';
    this.#card = undefined;
    this.#error = '';
  }

  /** Sends the model file with the admin token; returns the card the service now serves. */
  async publish(model: TernaryModel, token: string): Promise<ModelCard | undefined> {
    this.#status = 'publishing';
    this.#error = '';
    try {
      this.#card = await publishModel(model, token.trim());
      this.#status = 'done';
      return this.#card;
    } catch (e) {
      this.#status = 'error';
      const code = e instanceof ApiError ? e.code : undefined;
      this.#error =
        code === 'unauthorized' || code === 'forbidden'
          ? 'The service refused the admin token. Check it with the service’s operator.'
          : `The model was not published: ${(e as Error).message}`;
      return undefined;
    }
  }
}
