/**
 * The evaluation pool: homomorphic work runs on piscina worker threads so the event loop only
 * moves bytes. The queue is bounded (a full one is `busy`) and every task has a time limit
 * that covers its wait in the queue (`timeout`); both map to 503 with Retry-After.
 *
 * The queue is kept here, first in first out, and piscina gets at most one task per worker.
 * piscina puts tasks that carry an AbortSignal in a side queue of its own, unbounded and out of
 * order (measured: the 12th of 12 queued tasks ran second), so under load a task could wait
 * past its limit while later ones were served.
 *
 * The time limit answers the client; it does not kill the worker. A task still queued at its
 * deadline is dropped when its turn comes; one already running finishes and its answer is
 * dropped (its inputs are bounded, so it ends soon). Killing a worker mid-task would throw away
 * its SEAL runtime and caches and make the next tasks slower still. Only a task running past
 * `HARD_LIMIT_FACTOR` times the limit, which means something is wrong, gets its worker
 * terminated and replaced.
 *
 * Compiles are different: a model file's cost is bounded by its declared sizes, but a compile
 * still runs the real circuit and can take a worker for long. Each has its own time limit and
 * an AbortSignal (a sibling plan failed, the publisher gave up); aborting one terminates its
 * worker, which piscina replaces, and `close` aborts every compile so shutdown takes seconds.
 */
import { Piscina } from 'piscina';
import type { EncryptedInput, EncryptedResult, EvaluationKeyBundle, HePlan, LayoutName } from '../../core/he/index.ts';
import { ProtocolError } from '../../core/protocol/index.ts';
import { NOT_CACHED, type CircuitRef, type PoolTask, type TaskOutcome, type TaskResults, type WorkerSettings } from './tasks.ts';

const HARD_LIMIT_FACTOR = 10;
/** Circuits (evaluators, one per plan) each worker keeps built. */
const EVALUATORS_PER_WORKER = 16;

/** Young-generation limit of each worker's V8 heap (see the pool's constructor). */
const YOUNG_GENERATION_MB = 24;

type TaskOf<K extends keyof TaskResults> = Extract<PoolTask, { kind: K }>;

export interface PoolOptions {
  threads: number;
  maxQueue: number;
  taskTimeoutMs: number;
  workerKeySets: number;
}

/** How often the pool had to send a model text after a worker answered `not_cached`. */
export interface PoolCounts {
  evaluations: number;
  resent: number;
}

export class EvaluationPool {
  readonly #piscina: Piscina<PoolTask, TaskOutcome<unknown>>;
  readonly #timeoutMs: number;
  readonly #threads: number;
  readonly #maxQueue: number;
  /** Tasks handed to piscina and not settled yet: at most one per worker. */
  #running = 0;
  /** Tasks waiting for a worker, oldest first. */
  readonly #waiting: (() => void)[] = [];
  readonly #counts: PoolCounts = { evaluations: 0, resent: 0 };
  /** Aborted on close: running and waiting compiles stop. */
  readonly #closing = new AbortController();

  constructor(options: PoolOptions) {
    const workerData: WorkerSettings = { keySets: options.workerKeySets, evaluators: EVALUATORS_PER_WORKER };
    this.#piscina = new Piscina({
      filename: new URL('./worker.mjs', import.meta.url).href,
      minThreads: options.threads,
      maxThreads: options.threads,
      // Workers hold SEAL contexts and caches that take ~1 s to rebuild: never retire them.
      idleTimeout: Infinity,
      workerData,
      // A single-record result is packed with BigInt arithmetic (tens of thousands of short-lived
      // BigInts per result); at that allocation rate V8 doubles a worker's young generation to
      // its 64 MiB maximum after some hundreds of results, so resident memory kept rising long
      // after warm-up. Capped, each worker's heap is flat from its first tasks (measured: 137-139
      // MiB in place of 166 rising to 202, at the same evaluation time within noise).
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
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
    return this.#waiting.length;
  }

  get maxQueue(): number {
    return this.#maxQueue;
  }

  get counts(): Readonly<PoolCounts> {
    return { ...this.#counts };
  }

  /**
   * Compiles a plan on a worker within `timeoutMs`, or until `signal` aborts. A compile past
   * its limit is `model_not_compilable`; one stopped by the signal or by close rejects with
   * the signal's reason (or `not_ready` on close).
   */
  async compile(modelText: string, layout: LayoutName, timeoutMs: number, signal?: AbortSignal): Promise<HePlan> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const stop = AbortSignal.any([timeout, this.#closing.signal, ...(signal ? [signal] : [])]);
    try {
      return await this.#run<'compile'>({ kind: 'compile', modelText, layout }, null, undefined, undefined, stop);
    } catch (e) {
      if (!stop.aborted) throw e;
      if (timeout.aborted) throw new ProtocolError('model_not_compilable', `the ${layout} plan did not compile within ${timeoutMs} ms (the limit); make the model smaller`);
      if (this.#closing.signal.aborted) throw new ProtocolError('not_ready', 'the server is shutting down');
      throw signal?.reason ?? e;
    }
  }

  /** Loads keys on a worker (and leaves them in its cache), refusing keys SEAL cannot use. */
  async checkKeys(circuit: CircuitRef, keys: EvaluationKeyBundle): Promise<void> {
    await this.#run<'checkKeys'>({ kind: 'checkKeys', circuit, keys }, this.#timeoutMs);
  }

  /**
   * Evaluates one input. The circuit goes by plan hash; a worker without it answers
   * `not_cached` and is sent the model text in the same turn. `whenRead` is called once the
   * worker is done with the input's bytes (it answered, or the task never reached it): only
   * then may their memory be reused. A worker that crashed or was stopped never calls it.
   */
  evaluate(circuit: CircuitRef, keys: EvaluationKeyBundle, input: EncryptedInput, whenRead?: () => void): Promise<EncryptedResult> {
    this.#counts.evaluations++;
    return this.#run<'evaluateCached'>({ kind: 'evaluateCached', planHash: circuit.plan.hash, keys, input }, this.#timeoutMs, whenRead, { kind: 'evaluate', circuit, keys, input });
  }

  /**
   * Runs a task when a worker is free; one with a time limit is a client's and is refused when
   * the queue is full. A task a worker answers `not_cached` runs again as `full`, on the same
   * turn and under the same deadline.
   */
  async #run<K extends keyof TaskResults>(task: TaskOf<K>, timeoutMs: number | null, whenRead?: () => void, full?: TaskOf<'evaluate'>, stop?: AbortSignal): Promise<TaskResults[K]> {
    if (timeoutMs !== null && this.#running >= this.#threads && this.#waiting.length >= this.#maxQueue) {
      whenRead?.();
      throw new ProtocolError('busy', 'every worker is busy and the queue is full; retry shortly');
    }
    const deadline = timeoutMs === null ? null : Date.now() + timeoutMs;
    const running = this.#onTurn(async (): Promise<TaskOutcome<unknown>> => {
      if (deadline !== null && Date.now() > deadline) return { ok: false, code: 'timeout', message: 'the task waited past its deadline' };
      stop?.throwIfAborted();
      const options = { signal: stop ?? (timeoutMs === null ? null : AbortSignal.timeout(timeoutMs * HARD_LIMIT_FACTOR)) };
      const send = (t: PoolTask) => this.#piscina.run(t, options);
      const outcome = await send(task);
      if (outcome.ok || outcome.code !== NOT_CACHED || !full) return outcome;
      this.#counts.resent++;
      return send(full);
    });
    running.then(
      () => whenRead?.(),
      () => undefined,
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

  /** Runs `work` once a worker is free, oldest waiter first, and frees the turn after it. */
  async #onTurn<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running < this.#threads) this.#running++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await work();
    } finally {
      // The turn passes straight to the oldest waiter, or back to the pool.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }

  /** Aborts every compile (running or waiting): the first step of shutting down. */
  stopCompiles(): void {
    this.#closing.abort(new ProtocolError('not_ready', 'the server is shutting down'));
  }

  /** Stops the workers, letting running evaluations finish; compiles are aborted. */
  async close(): Promise<void> {
    this.stopCompiles();
    await this.#piscina.close();
  }
}
