/**
 * The models this instance serves: each parsed, its plans compiled on the pool for both
 * layouts, and its public card built, before it is reachable. Models come from directories at
 * start (the defaults, then those published into the data dir) and from the admin route.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LAYOUTS, type HePlan, type LayoutName } from '../core/he/index.ts';
import { ModelFormatError, parseModel, type TernaryModel } from '../core/model/format.ts';
import { makeModelCard, type ModelCard } from '../core/model/card.ts';
import { ProtocolError } from '../core/protocol/index.ts';
import type { EvaluationPool } from './pool/pool.ts';
import type { CircuitRef } from './pool/tasks.ts';

export interface ServedModel {
  model: TernaryModel;
  /** The model file as workers receive it (they parse and hash-check it once). */
  modelText: string;
  plans: Record<LayoutName, HePlan>;
  card: ModelCard;
}

/** Loading's log: a model left out is a warning (the operator must act), a compiled one routine. */
type Log = (level: 'info' | 'warn', fields: Record<string, unknown>, message: string) => void;

export class ModelRegistry {
  readonly #pool: EvaluationPool;
  readonly #compileTimeoutMs: number;
  readonly #byId = new Map<string, ServedModel>();
  readonly #byPlan = new Map<string, { served: ServedModel; plan: HePlan }>();
  #loaded = false;

  constructor(pool: EvaluationPool, compileTimeoutMs: number) {
    this.#pool = pool;
    this.#compileTimeoutMs = compileTimeoutMs;
  }

  /** True once the models present at start are compiled. */
  get loaded(): boolean {
    return this.#loaded;
  }

  list(): ServedModel[] {
    return [...this.#byId.values()].sort((a, b) => a.model.id.localeCompare(b.model.id));
  }

  byId(id: string): ServedModel | undefined {
    return this.#byId.get(id);
  }

  byPlan(planHash: string): { served: ServedModel; plan: HePlan } | undefined {
    return this.#byPlan.get(planHash);
  }

  /** Parses a model file's JSON and compiles both plans; refusals are ProtocolErrors. */
  async prepare(json: unknown): Promise<ServedModel> {
    const model = parseServable(json);
    const existing = this.#byId.get(model.id);
    if (existing?.model.hash === model.hash) return existing;
    return this.#compile(model);
  }

  /** Compiles both plans at once; the first failure cancels the other (its worker is freed). */
  async #compile(model: TernaryModel, spec?: Record<string, unknown>): Promise<ServedModel> {
    const modelText = JSON.stringify(model);
    const siblings = new AbortController();
    const compiled = await Promise.all(
      LAYOUTS.map((layout) =>
        this.#pool.compile(modelText, layout, this.#compileTimeoutMs, siblings.signal).catch((e: unknown) => {
          if (!siblings.signal.aborted) siblings.abort(e);
          throw e;
        }),
      ),
    );
    const plans = Object.fromEntries(LAYOUTS.map((l, i) => [l, compiled[i]!])) as Record<LayoutName, HePlan>;
    return { model, modelText, plans, card: makeModelCard(model, plans, spec) };
  }

  /** Serves a prepared model, replacing any model with the same id. */
  add(served: ServedModel): void {
    const old = this.#byId.get(served.model.id);
    if (old) for (const plan of Object.values(old.plans)) this.#byPlan.delete(plan.hash);
    this.#byId.set(served.model.id, served);
    for (const plan of Object.values(served.plans)) this.#byPlan.set(plan.hash, { served, plan });
  }

  /**
   * Loads every *.json model file of the directories, in order (a later file with the same id
   * wins, so only it is compiled; an earlier one serves if it fails). Models compile at once:
   * the pool runs as many as it has workers, so none idles. A bad file is logged and skipped.
   */
  async loadDirs(dirs: readonly string[], log: Log): Promise<void> {
    const files: string[] = [];
    for (const dir of dirs) {
      const names = await readdir(dir).catch(() => [] as string[]);
      files.push(...names.filter((n) => n.endsWith('.json')).sort().map((n) => join(dir, n)));
    }
    const candidates = new Map<string, { file: string; model: TernaryModel }[]>();
    for (const file of files) {
      try {
        const model = parseServable(JSON.parse(await readFile(file, 'utf8')));
        candidates.set(model.id, [{ file, model }, ...(candidates.get(model.id) ?? [])]);
      } catch (e) {
        log('warn', { file, error: (e as Error).message }, 'model skipped');
      }
    }
    await Promise.all(
      [...candidates.values()].map(async (latestFirst) => {
        for (const { file, model } of latestFirst) {
          const t0 = performance.now();
          try {
            this.add(await this.#compile(model, await specBeside(file, model.id)));
            log('info', { file, model: model.id, ms: Math.round(performance.now() - t0) }, 'model compiled');
            return;
          } catch (e) {
            log('warn', { file, error: (e as Error).message }, 'model skipped');
          }
        }
      }),
    );
    this.#loaded = true;
  }
}

/** The dataset spec beside a model file (specs/<id>.json), whose outcome and population words its card carries; none: undefined. */
async function specBeside(file: string, id: string): Promise<Record<string, unknown> | undefined> {
  return readFile(join(dirname(file), 'specs', `${id}.json`), 'utf8').then((text) => JSON.parse(text) as Record<string, unknown>, () => undefined);
}

/** A model file's JSON as a model, or a ProtocolError saying what is wrong with it. */
function parseServable(json: unknown): TernaryModel {
  try {
    return parseModel(json);
  } catch (e) {
    if (e instanceof ModelFormatError) throw new ProtocolError('invalid_model', e.message);
    throw e;
  }
}

export function circuitOf(served: ServedModel, plan: HePlan): CircuitRef {
  return { modelText: served.modelText, plan };
}
