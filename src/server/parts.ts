/** The pieces a running server is made of, handed to each group of routes. */
import type { Redis } from 'ioredis';
import type { ServerConfig } from './config.ts';
import type { SlabPool } from './http/slabs.ts';
import type { AnswerStore } from './idempotency/index.ts';
import type { KeyStore } from './keys/store.ts';
import type { EvaluationPool } from './pool/pool.ts';
import type { ModelRegistry } from './registry.ts';
import type { StudyCoordinator } from './studies/coordinator.ts';

export interface ServerParts {
  config: ServerConfig;
  registry: ModelRegistry;
  pool: EvaluationPool;
  keys: KeyStore;
  /** Answers kept for Idempotency-Key repeats (local, or shared through Redis). */
  answers: AnswerStore;
  /** The shared store's client when instances share Redis (CIPHERCLINIC_REDIS_URL). */
  redis: Redis | null;
  /** Private training studies (studies/coordinator.ts). */
  studies: StudyCoordinator;
  /** Reusable shared memory for classify bodies (http/slabs.ts). */
  slabs: SlabPool;
}
