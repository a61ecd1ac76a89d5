/**
 * A pool worker: owns one SEAL runtime and runs the engine on bytes it is sent. It keeps two
 * small LRU caches — evaluators per plan and loaded evaluation keys per key id — and frees the
 * SEAL objects of every entry it evicts, so its WebAssembly heap stays bounded. An input comes
 * with its circuit named by plan hash only; a worker that has not built that circuit (or has
 * evicted it) answers `not_cached`, and the pool sends the task again with the model text.
 */
import { workerData } from 'node:worker_threads';
import { LRUCache } from 'lru-cache';
import { ciphertextBytesBound, compilePlan, HeEvaluator, HeInputError, keyIdOf, PlanError, SealBytesError, type EncryptedInput, type EncryptedResult, type EvaluationKeyBundle, type LoadedKeys } from '../../core/he/index.ts';
import { sealErrorText } from '../../core/he/seal.ts';
import { ModelFormatError, parseModel } from '../../core/model/format.ts';
import { boundedSealBytes, KEY_NAMES, keyBoundsOf, type KeyKind } from './seal-bytes.ts';
import { NOT_CACHED, type CircuitRef, type PoolTask, type RefusalCode, type TaskOutcome, type WorkerSettings } from './tasks.ts';

const settings = workerData as WorkerSettings;

const evaluators = new LRUCache<string, HeEvaluator>({ max: settings.evaluators, dispose: (e) => e.dispose() });
const keySets = new LRUCache<string, LoadedKeys>({ max: settings.keySets, dispose: (k) => k.dispose() });

class Refusal extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message);
  }
}

async function evaluatorFor(circuit: CircuitRef): Promise<HeEvaluator> {
  const cached = evaluators.get(circuit.plan.hash);
  if (cached) return cached;
  const evaluator = await HeEvaluator.create(parseModel(JSON.parse(circuit.modelText)), circuit.plan);
  evaluators.set(circuit.plan.hash, evaluator);
  return evaluator;
}

/**
 * Loads keys after checking their id and inflating each within the plan's bound for its kind. A
 * cached set is reused by id; `verify` checks the id against the bytes even then (registration:
 * bytes claiming someone else's id must be refused, not matched to the cache). Keys SEAL cannot
 * load are refused as `keys_refused`.
 */
function keysFor(evaluator: HeEvaluator, bundle: EvaluationKeyBundle, verify: boolean): LoadedKeys {
  const slot = `${bundle.planHash}:${bundle.keyId}`;
  const cached = keySets.get(slot);
  if (cached && !verify) return cached;
  if (keyIdOf(bundle.relin, bundle.galois, bundle.publicKey) !== bundle.keyId) {
    throw new Refusal('key_id_mismatch', 'the key id is not the hash of the key bytes');
  }
  if (cached) return cached;
  const bounds = keyBoundsOf(evaluator.plan);
  const inflate = (kind: KeyKind): Uint8Array | null => {
    const bytes = bundle[kind];
    return bytes && boundedSealBytes(bytes, bounds[kind], KEY_NAMES[kind]);
  };
  try {
    const loaded = evaluator.loadKeys({ planHash: bundle.planHash, relin: inflate('relin'), galois: inflate('galois'), publicKey: inflate('publicKey') });
    keySets.set(slot, loaded);
    return loaded;
  } catch (e) {
    if (e instanceof HeInputError || e instanceof SealBytesError) throw new Refusal('keys_refused', e.message);
    throw e;
  }
}

async function run(task: PoolTask): Promise<unknown> {
  switch (task.kind) {
    case 'compile': {
      try {
        return await compilePlan(parseModel(JSON.parse(task.modelText)), task.layout);
      } catch (e) {
        if (e instanceof PlanError || e instanceof ModelFormatError) throw new Refusal('model_not_compilable', e.message);
        throw e;
      }
    }
    case 'checkKeys': {
      keysFor(await evaluatorFor(task.circuit), task.keys, true);
      return null;
    }
    case 'evaluate': {
      const evaluator = await evaluatorFor(task.circuit);
      return evaluate(evaluator, keysFor(evaluator, task.keys, false), task.input);
    }
    case 'evaluateCached': {
      const evaluator = evaluators.get(task.planHash);
      if (!evaluator) return NOT_CACHED;
      return evaluate(evaluator, keysFor(evaluator, task.keys, false), task.input);
    }
  }
}

/**
 * Inflates each input ciphertext within the exact size of one fresh ciphertext at the plan's
 * data level, uncompressed (a seeded one is smaller still), then evaluates.
 */
function evaluate(evaluator: HeEvaluator, keys: LoadedKeys, input: EncryptedInput): EncryptedResult {
  const bound = ciphertextBytesBound(evaluator.plan.params);
  try {
    const ciphertexts = input.ciphertexts.map((c, i) => boundedSealBytes(c, bound, `ciphertext ${i}`));
    return evaluator.evaluate({ ...input, ciphertexts }, keys);
  } catch (e) {
    if (e instanceof HeInputError || e instanceof SealBytesError) throw new Refusal('ciphertext_refused', e.message);
    throw e;
  }
}

/** The piscina entry: every refusal of client data is a value, every other failure a throw. */
export default async function handle(task: PoolTask): Promise<TaskOutcome<unknown>> {
  try {
    const value = await run(task);
    return value === NOT_CACHED ? { ok: false, code: NOT_CACHED } : { ok: true, value };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, code: e.code, message: e.message };
    // A SEAL exception (WebAssembly.Exception) cannot be cloned to the main thread: thrown as
    // it is, it would take the worker down with every task on it. Its words travel instead.
    if (e instanceof Error) throw e;
    throw new Error(sealErrorText(e));
  }
}
