/** Starts the real server on a loopback port with a throwaway data dir, for one test file. */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerConfig } from '../../src/server/config.ts';
import { startServer, type RunningServer, type StartOptions } from '../../src/server/main.ts';
import type { TernaryModel } from '../../src/core/model/format.ts';

export const DEFAULT_MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));

export interface TestServer extends RunningServer {
  dataDir: string;
  /** Closes the server and removes its data dir. */
  stop(): Promise<void>;
}

/** A directory holding the given models as files, for `modelDirs`. */
export async function modelsDir(models: readonly TernaryModel[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cc-models-'));
  await mkdir(dir, { recursive: true });
  for (const m of models) await writeFile(join(dir, `${m.id}.json`), JSON.stringify(m));
  return dir;
}

export async function startTestServer(overrides: Partial<ServerConfig> = {}, options: StartOptions = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? (await mkdtemp(join(tmpdir(), 'cc-data-')));
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    modelDirs: [DEFAULT_MODELS_DIR],
    staticDir: join(dataDir, 'no-app'),
    workers: 2,
    logLevel: 'silent',
    rateLimitPerMinute: 0,
    adminToken: undefined,
    corsOrigins: [],
    ...overrides,
  }, options);
  return {
    ...server,
    dataDir,
    stop: async () => {
      await server.close();
      if (!overrides.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
