/**
 * What the main thread asks of a worker and what comes back. Plain data only: bytes and JSON
 * cross the thread boundary, SEAL objects never do. Refusals of client data come back as values
 * (error classes do not survive structured cloning); anything thrown is a server fault.
 */
import type { EncryptedInput, EncryptedResult, EvaluationKeyBundle, HePlan, LayoutName } from '../../core/he/index.ts';

/** The model (its file text, parsed once per worker) and one of its plans. */
export interface CircuitRef {
  modelText: string;
  plan: HePlan;
}

export type PoolTask =
  | { kind: 'compile'; modelText: string; layout: LayoutName }
  | { kind: 'checkKeys'; circuit: CircuitRef; keys: EvaluationKeyBundle }
  | { kind: 'evaluate'; circuit: CircuitRef; keys: EvaluationKeyBundle; input: EncryptedInput }
  /**
   * The circuit named by its plan hash alone, for a worker that has built it: the model text
   * (~17 KB, copied into the worker and parsed there) is sent only after `not_cached`. Key
   * bytes always go along; they sit in shared memory, so that copies nothing.
   */
  | { kind: 'evaluateCached'; planHash: string; keys: EvaluationKeyBundle; input: EncryptedInput };

export type RefusalCode = 'ciphertext_refused' | 'keys_refused' | 'key_id_mismatch' | 'model_not_compilable' | 'timeout';

/** The worker lacks the circuit an `evaluateCached` task names (never reaches a client). */
export const NOT_CACHED = 'not_cached';

export type TaskOutcome<T> = { ok: true; value: T } | { ok: false; code: RefusalCode; message: string } | { ok: false; code: typeof NOT_CACHED };

export interface TaskResults {
  compile: HePlan;
  checkKeys: null;
  evaluate: EncryptedResult;
  evaluateCached: EncryptedResult;
}

/** Settings a worker reads from piscina's workerData. */
export interface WorkerSettings {
  keySets: number;
  evaluators: number;
}
