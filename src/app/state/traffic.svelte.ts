/** Every request this page sent to the service, for the "what left this device" panel. */
import type { SentRequest } from '../lib/api.ts';

export interface TrafficEntry extends SentRequest {
  id: number;
  at: number;
}

const LIMIT = 200;

export class TrafficLog {
  #entries = $state<TrafficEntry[]>([]);
  #next = 1;

  /** Newest first. */
  get entries(): readonly TrafficEntry[] {
    return this.#entries;
  }

  add(request: SentRequest): void {
    this.#entries = [{ ...request, id: this.#next++, at: Date.now() }, ...this.#entries].slice(0, LIMIT);
  }
}
