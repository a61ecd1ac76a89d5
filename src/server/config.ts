/**
 * Server settings, from environment variables (docs/server.md lists them with their why).
 * Every value is checked at start: a typo in a limit fails loudly instead of serving unbounded.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { firstIssue } from '../core/schema-issue.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const MiB = 1024 * 1024;

export interface ServerConfig {
  host: string;
  port: number;
  /** Directories of model files served at start (later ones win on the same id). */
  modelDirs: string[];
  /** Where published models and evaluation keys live. */
  dataDir: string;
  /** The built web app; a plain status page is served when it has no index.html. */
  staticDir: string;
  workers: number;
  /** Tasks that may wait for a worker; beyond it requests get 503. */
  maxQueue: number;
  /** Time limit of one evaluation, queue wait included. */
  taskTimeoutMs: number;
  /** Time limit of compiling one plan of a model (at start and on publish). */
  compileTimeoutMs: number;
  /** Body limits: classify (batch inputs are up to a few MiB), keys (a single plan's public key ~66 KB, a batch plan's relinearization keys ~140 KB), the rest. */
  maxClassifyBytes: number;
  maxKeyBytes: number;
  maxJsonBytes: number;
  keyStoreMaxBytes: number;
  keyTtlSeconds: number;
  /** Main-thread cache of key bytes in front of the store. */
  keyCacheBytes: number;
  /** Loaded (SEAL) key sets each worker keeps; each is up to ~10 MiB of WASM heap. */
  workerKeySets: number;
  /** Requests per minute per client address; 0 turns the limit off. */
  rateLimitPerMinute: number;
  corsOrigins: string[];
  adminToken: string | undefined;
  /** Redis (or Valkey) URL: every store (keys, idempotent answers, rate limits) goes there. */
  redisUrl: string | undefined;
  /** Honour X-Forwarded-For (set behind a load balancer, so rate limits see clients). */
  trustProxy: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

const int = (min: number) => z.coerce.number().int().min(min);
const list = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

const EnvSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0).max(65535).default(8080),
  CIPHERCLINIC_MODELS_DIR: list.default([`${repo}models`]),
  CIPHERCLINIC_DATA_DIR: z.string().min(1).default(`${repo}.data`),
  CIPHERCLINIC_STATIC_DIR: z.string().min(1).default(`${repo}dist`),
  CIPHERCLINIC_WORKERS: int(1).default(Math.max(1, availableParallelism())),
  CIPHERCLINIC_MAX_QUEUE: int(0).optional(),
  CIPHERCLINIC_TASK_TIMEOUT_MS: int(100).default(30_000),
  CIPHERCLINIC_COMPILE_TIMEOUT_MS: int(100).default(120_000),
  CIPHERCLINIC_MAX_CLASSIFY_BYTES: int(1024).default(16 * MiB),
  CIPHERCLINIC_MAX_KEY_BYTES: int(1024).default(16 * MiB),
  CIPHERCLINIC_MAX_JSON_BYTES: int(1024).default(2 * MiB),
  CIPHERCLINIC_KEY_STORE_MAX_BYTES: int(MiB).default(1024 * MiB),
  CIPHERCLINIC_KEY_TTL_SECONDS: int(1).default(24 * 3600),
  CIPHERCLINIC_KEY_CACHE_BYTES: int(0).default(128 * MiB),
  CIPHERCLINIC_WORKER_KEY_SETS: int(1).default(8),
  CIPHERCLINIC_RATE_LIMIT: int(0).default(600),
  CIPHERCLINIC_CORS_ORIGINS: list.default([]),
  CIPHERCLINIC_ADMIN_TOKEN: z.string().optional(),
  CIPHERCLINIC_REDIS_URL: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').optional(),
  CIPHERCLINIC_TRUST_PROXY: z.enum(['0', '1', 'true', 'false']).default('false'),
  CIPHERCLINIC_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** Reads and checks the configuration; throws with the variable's name when one is wrong. */
export function configFromEnv(env: Record<string, string | undefined> = process.env): ServerConfig {
  const parsed = EnvSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')));
  if (!parsed.success) {
    throw new Error(`environment variable ${firstIssue(parsed.error, '(environment)')}`);
  }
  const e = parsed.data;
  const token = e.CIPHERCLINIC_ADMIN_TOKEN;
  if (token !== undefined && token.length < 16) throw new Error('environment variable CIPHERCLINIC_ADMIN_TOKEN: use at least 16 characters');
  return {
    host: e.HOST,
    port: e.PORT,
    modelDirs: e.CIPHERCLINIC_MODELS_DIR,
    dataDir: e.CIPHERCLINIC_DATA_DIR,
    staticDir: e.CIPHERCLINIC_STATIC_DIR,
    workers: e.CIPHERCLINIC_WORKERS,
    maxQueue: e.CIPHERCLINIC_MAX_QUEUE ?? 16 * e.CIPHERCLINIC_WORKERS,
    taskTimeoutMs: e.CIPHERCLINIC_TASK_TIMEOUT_MS,
    compileTimeoutMs: e.CIPHERCLINIC_COMPILE_TIMEOUT_MS,
    maxClassifyBytes: e.CIPHERCLINIC_MAX_CLASSIFY_BYTES,
    maxKeyBytes: e.CIPHERCLINIC_MAX_KEY_BYTES,
    maxJsonBytes: e.CIPHERCLINIC_MAX_JSON_BYTES,
    keyStoreMaxBytes: e.CIPHERCLINIC_KEY_STORE_MAX_BYTES,
    keyTtlSeconds: e.CIPHERCLINIC_KEY_TTL_SECONDS,
    keyCacheBytes: e.CIPHERCLINIC_KEY_CACHE_BYTES,
    workerKeySets: e.CIPHERCLINIC_WORKER_KEY_SETS,
    rateLimitPerMinute: e.CIPHERCLINIC_RATE_LIMIT,
    corsOrigins: e.CIPHERCLINIC_CORS_ORIGINS,
    adminToken: token,
    redisUrl: e.CIPHERCLINIC_REDIS_URL,
    trustProxy: e.CIPHERCLINIC_TRUST_PROXY === '1' || e.CIPHERCLINIC_TRUST_PROXY === 'true',
    logLevel: e.CIPHERCLINIC_LOG_LEVEL,
  };
}
