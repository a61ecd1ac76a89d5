/**
 * The training worker's verb for a study site (docs/federated.md §12): the local step's float
 * gradients on this worker's backend (WebGPU, else WebAssembly, else plain JavaScript — the
 * lab's choice, backend.ts), handed back with the backend that computed them so the site panel
 * can say which ran. Rounding, noise and masking stay in the site worker.
 */
import { transfer } from 'comlink';
import { startBackend, type BackendChoice } from './backend.ts';
import { localGradients } from './local-step.ts';
import type { LocalStepRequest } from './local-step-wire.ts';

export interface LocalStepAnswer {
  /** B × P float32 gradients, row by row. */
  gradients: Float32Array;
  backend: BackendChoice;
  ms: number;
}

export async function localStep(request: LocalStepRequest): Promise<LocalStepAnswer> {
  const backend = await startBackend('auto');
  const t0 = performance.now();
  const gradients = await localGradients(request);
  return transfer({ gradients, backend, ms: performance.now() - t0 }, [gradients.buffer as ArrayBuffer]);
}
