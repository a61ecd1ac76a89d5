/** The pieces a running server is made of, handed to each group of routes. */
import type { ServerConfig } from './config.ts';
import type { SlabPool } from './http/slabs.ts';
import type { KeyStore } from './keys/store.ts';
import type { EvaluationPool } from './pool/pool.ts';
import type { ModelRegistry } from './registry.ts';

export interface ServerParts {
  config: ServerConfig;
  registry: ModelRegistry;
  pool: EvaluationPool;
  keys: KeyStore;
  /** Reusable shared memory for classify bodies (http/slabs.ts). */
  slabs: SlabPool;
}
