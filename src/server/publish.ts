/**
 * Serving a new model: validated and compiled (both plans) by the registry, written to the
 * data dir so it survives a restart, then served. One path for models published by an operator
 * (POST /api/admin/models) and for the model a private training study ends with.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelRegistry, ServedModel } from './registry.ts';

export function publishedModelsDir(dataDir: string): string {
  return join(dataDir, 'models');
}

/** Publishes a model file's JSON; `created` is false when the same model was already served. */
export async function publishModel(registry: ModelRegistry, dataDir: string, json: unknown): Promise<{ served: ServedModel; created: boolean }> {
  const served = await registry.prepare(json);
  if (registry.byId(served.model.id) === served) return { served, created: false }; // same hash, served
  const dir = publishedModelsDir(dataDir);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${served.model.id}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, JSON.stringify(served.model, null, 2) + '\n');
    await rename(tmp, join(dir, `${served.model.id}.json`));
  } finally {
    await rm(tmp, { force: true }).catch(() => {});
  }
  registry.add(served);
  return { served, created: true };
}
