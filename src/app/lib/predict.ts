/**
 * How a private prediction's progress is told: its phases, and the words for the one time a
 * model's evaluation keys are made and sent (lib/sender.ts runs the pipeline).
 */
import { bytes } from './format.ts';

export type Phase = 'keys' | 'encrypting' | 'evaluating' | 'decrypting' | 'done';

export interface PredictProgress {
  phase: Phase;
  /** In the 'keys' phase, when evaluation keys are being made and sent: their size in bytes. */
  keyBytes?: number;
  /** Records finished. */
  done: number;
  total: number;
}

/** What a person is told when a prediction must first send this model's evaluation keys. */
export function keysWords(keyBytes: number): string {
  // About 65 KB for a single-record plan (a public key), 140 KB for a batch plan's relinearization keys;
  // said in the unit that fits, as the lab's preview says it.
  return `This model needs ${bytes(keyBytes)} of keys, sent once`;
}
