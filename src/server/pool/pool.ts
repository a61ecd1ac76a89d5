/**
 * The evaluation pool: homomorphic work runs on piscina worker threads so the event loop only
 * moves bytes. The queue is bounded (a full one is `busy`) and every task has a time limit
 * that covers its wait in the queue (`timeout`); both map to 503 with Retry-After.
 *
 * The bound is counted here, over every task not yet settled: piscina's own `maxQueue` does not
 * apply to tasks that carry an AbortSignal (they wait in an unbounded side queue).
 *
 * The time limit answers the client; it does not kill the worker. A task still queued at its
 * deadline is skipped by the worker that picks it up; one already running finishes and its
 * answer is dropped (its inputs are bounded, so it ends soon). Killing a worker mid-task would
 * throw away its SEAL runtime and caches and make the next tasks slower still. Only a task
 * running past `HARD_LIMIT_FACTOR` times the limit, which means something is wrong, gets its
 * worker terminated and replaced.
 */
import { Piscina } from 'piscina';
import type { EncryptedInput, EncryptedResult, EvaluationKeyBundle, HePlan, LayoutName } from '../../core/he/index.ts';
import { ProtocolError } from '../../core/protocol/index.ts';
import { NOT_CACHED, type CircuitRef, type PoolTask, type TaskOutcome, type TaskResults, type WorkerSettings } from './tasks.ts';

const HARD_LIMIT_FACTOR = 10;

type TaskOf<K extends keyof TaskResults> = Omit<Extract<PoolTask, { kind: K }>, 'deadline'>;
type RunOptions = NonNullable<Parameters<Piscina['run']>[1]>;

export interface PoolOptions {
  threads: number;
  maxQueue: number;
  taskTimeoutMs: number;
  workerKeySets: number;
}

export class EvaluationPool {
  readonly #piscina: Piscina<PoolTask, TaskOutcome<unknown>>;
  readonly #timeoutMs: number;
  readonly #threads: number;
  readonly #maxQueue: number;
  /** Tasks handed to piscina and not settled yet, running or waiting. */
  #inFlight = 0;

  constructor(options: PoolOptions) {
    const workerData: WorkerSettings = { keySets: options.workerKeySets, evaluators: 16 };
    this.#piscina = new Piscina({
      filename: new URL('./worker.mjs', import.meta.url).href,
      minThreads: options.threads,
      maxThreads: options.threads,
      // Workers hold SEAL contexts and caches that take ~1 s to rebuild: never retire them.
      idleTimeout: Infinity,
      workerData,
    });
    this.#timeoutMs = options.taskTimeoutMs;
    this.#threads = options.threads;
    this.#maxQueue = options.maxQueue;
  }

  get threads(): number {
    return this.#piscina.threads.length;
  }

  /** Tasks waiting for a worker. */
  get queued(): number {
    return Math.max(0, this.#inFlight - this.#threads);
  }

  get maxQueue(): number {
    return this.#maxQueue;
  }

  /** Compiles a plan on a worker (no time limit: it runs at start and on publish only). */
  compile(modelText: string, layout: LayoutName): Promise<HePlan> {
    return this.#run<'compile'>({ kind: 'compile', modelText, layout }, null);
  }

  /** Loads keys on a worker (and leaves them in its cache), refusing keys SEAL cannot use. */
  async checkKeys(circuit: CircuitRef, keys: EvaluationKeyBundle): Promise<void> {
    await this.#run<'checkKeys'>({ kind: 'checkKeys', circuit, keys }, this.#timeoutMs);
  }

  /**
   * Evaluates one input. `whenRead` is called once the worker is done with the input's bytes
   * (it answered, or the task never reached it): only then may their memory be reused. A
   * worker that crashed or was stopped never calls it.
   */
  evaluate(circuit: CircuitRef, keys: EvaluationKeyBundle, input: EncryptedInput, whenRead?: () => void): Promise<EncryptedResult> {
    const cached = { planHash: circuit.plan.hash, keyId: keys.keyId };
    return this.#run<'evaluateCached'>({ kind: 'evaluateCached', cached, input }, this.#timeoutMs, whenRead, { kind: 'evaluate', circuit, keys, input });
  }

  /**
   * Runs a task; one with a time limit is a client's and is refused when the queue is full. A
   * task a worker answers `not_cached` runs again as `full`, under the same deadline.
   */
  async #run<K extends keyof TaskResults>(task: TaskOf<K>, timeoutMs: number | null, whenRead?: () => void, full?: TaskOf<'evaluate'>): Promise<TaskResults[K]> {
    if (timeoutMs !== null && this.#inFlight >= this.#threads + this.#maxQueue) {
      whenRead?.();
      throw new ProtocolError('busy', 'every worker is busy and the queue is full; retry shortly');
    }
    const deadline = timeoutMs === null ? null : Date.now() + timeoutMs;
    const options: RunOptions = { signal: timeoutMs === null ? null : AbortSignal.timeout(timeoutMs * HARD_LIMIT_FACTOR) };
    this.#inFlight++;
    const send = (t: object) => this.#piscina.run({ ...t, deadline } as unknown as PoolTask, options);
    const running = send(task).then((outcome) => (!outcome.ok && outcome.code === NOT_CACHED && full ? send(full) : outcome));
    running.then(
      () => {
        this.#inFlight--;
        whenRead?.();
      },
      () => this.#inFlight--,
    );
    let timer: NodeJS.Timeout | undefined;
    let outcome: TaskOutcome<unknown>;
    try {
      const late = new Promise<never>((_, reject) => {
        if (timeoutMs !== null) timer = setTimeout(() => reject(new ProtocolError('timeout', `the evaluation did not finish within ${timeoutMs} ms; retry shortly`)), timeoutMs);
      });
      outcome = await Promise.race([running, late]);
    } catch (e) {
      if (e instanceof ProtocolError) throw e;
      if ((e as Error).name === 'AbortError') throw new ProtocolError('timeout', `the evaluation ran past ${HARD_LIMIT_FACTOR}× the time limit and was stopped`);
      throw e;
    } finally {
      clearTimeout(timer);
    }
    if (!outcome.ok) {
      if (outcome.code === NOT_CACHED) throw new Error('a worker answered not_cached to a task that carried everything');
      throw new ProtocolError(outcome.code, outcome.message);
    }
    return outcome.value as TaskResults[K];
  }

  /** Stops the workers, letting running tasks finish. */
  async close(): Promise<void> {
    await this.#piscina.close();
  }
}
