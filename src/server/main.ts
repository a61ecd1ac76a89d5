/**
 * Starting and stopping the classifier service. `serveFromEnv` is `npm start` (through the CLI's
 * `serve` command); `startServer` is what tests and the benchmark use, with settings in code.
 *
 * The server listens at once and compiles its models on the worker pool in the background:
 * GET /api/ready answers 503 until they are compiled, so a load balancer waits for it.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import { SlabPool } from './http/slabs.ts';
import { configFromEnv, type ServerConfig } from './config.ts';
import { EvaluationPool } from './pool/pool.ts';
import { ModelRegistry } from './registry.ts';
import { publishedModelsDir, publishModel } from './publish.ts';
import { StudyCoordinator } from './studies/coordinator.ts';
import { openStores } from './stores.ts';

/** Free body slabs kept for reuse: room for about 64 batch bodies waiting or running at once. */
const SLAB_RETAINED_BYTES = 64 * 1024 * 1024;

export interface RunningServer {
  url: string;
  config: ServerConfig;
  app: FastifyInstance;
  registry: ModelRegistry;
  /** Settles when the models present at start are compiled (or skipped). */
  modelsLoaded: Promise<void>;
  /** Stops accepting requests, lets running ones finish, then stops the workers. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Wait for the models to compile before resolving (default true). */
  waitForModels?: boolean;
  /** Where the JSON log lines go (default: stdout). */
  logStream?: NodeJS.WritableStream;
}

/**
 * The service moves about a mebibyte of buffers per batch request (socket reads, results). By
 * default V8 (13.x, Node 24) keeps buffer memory out of its heap limits and meets it with a
 * separate trigger. That trigger started a full mark-compact of the event loop's heap every ~10
 * requests, though almost nothing was garbage: measured, 1.2 ms of event-loop CPU and 1.5 ms of
 * V8's helper threads per request, a fifth of the service's CPU. Counting buffers in the global
 * limit, which grows with the heap, cuts those collections by about five times (docs/server.md).
 * The flag is read at each limit check, so setting it here, before the first request, holds
 * for this isolate and for the pool's workers, which start later.
 */
function countBuffersInHeapLimit(): void {
  setFlagsFromString('--external-memory-accounted-in-global-limit');
}

/** Starts a server with the environment's settings, overridden by `overrides`. */
export async function startServer(overrides: Partial<ServerConfig> = {}, options: StartOptions = {}): Promise<RunningServer> {
  countBuffersInHeapLimit();
  const config: ServerConfig = { ...configFromEnv(), ...overrides };
  await mkdir(config.dataDir, { recursive: true });
  // The log is the app's once it exists; the key store's first sweep runs before that.
  const early: [Record<string, unknown>, string][] = [];
  let log: (fields: Record<string, unknown>, message: string) => void = (fields, message) => void early.push([fields, message]);
  const stores = await openStores(config, (fields, message) => log(fields, message));
  const pool = new EvaluationPool({ threads: config.workers, maxQueue: config.maxQueue, taskTimeoutMs: config.taskTimeoutMs, workerKeySets: config.workerKeySets });
  const registry = new ModelRegistry(pool, config.compileTimeoutMs);
  const slabs = new SlabPool(SLAB_RETAINED_BYTES);
  const studies = new StudyCoordinator({
    store: stores.studies,
    publish: async (model) => (await publishModel(registry, config.dataDir, model)).served.model.id,
    serves: (id) => registry.byId(id) !== undefined,
    log: (fields, message) => log(fields, message),
  });
  const app = await buildApp({ config, registry, pool, keys: stores.keys, answers: stores.answers, redis: stores.redis, studies, slabs }, { logStream: options.logStream });
  log = (fields, message) => app.log.info(fields, message);
  for (const [fields, message] of early.splice(0)) log(fields, message);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    // Compiles first: a publish waiting on one would otherwise hold app.close() for minutes.
    pool.stopCompiles();
    await app.close();
    await studies.close();
    await pool.close();
    await stores.close();
  };
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (e) {
    await close();
    throw e;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const t0 = performance.now();
  const modelsLoaded = registry
    .loadDirs([...config.modelDirs, publishedModelsDir(config.dataDir)], (level, fields, message) => app.log[level](fields, message))
    .then(() => app.log.info({ models: registry.list().map((s) => s.model.id), ms: Math.round(performance.now() - t0) }, 'ready'));
  if (options.waitForModels ?? true) await modelsLoaded;
  return { url: `http://${host}:${port}`, config, app, registry, modelsLoaded, close };
}

/** Shutdown waits this long for running requests; then the process ends anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

/** `npm start`: serves until SIGINT or SIGTERM, then shuts down cleanly. */
export async function serveFromEnv(): Promise<void> {
  const server = await startServer({}, { waitForModels: false });
  server.app.log.info({ url: server.url, workers: server.config.workers }, `Cipher Clinic classifier listening at ${server.url}`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      server.app.log.info({ signal }, 'shutting down');
      setTimeout(() => {
        server.app.log.warn({ graceMs: SHUTDOWN_GRACE_MS }, 'shutdown took too long; exiting');
        process.exit(1);
      }, SHUTDOWN_GRACE_MS).unref();
      server.close().then(resolve, (e) => {
        server.app.log.error({ err: e }, 'shutdown failed');
        process.exitCode = 1;
        resolve();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
