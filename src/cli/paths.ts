/** Where Node-side tools find things: the repository's models and the shared data beside it. */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const modelsDir = resolve(repoRoot, 'models');

/** The data folder: $CIPHERCLINIC_DATA, else ../shared/data/ beside the repository. */
export function sharedDataDir(): string {
  return process.env.CIPHERCLINIC_DATA ? resolve(process.env.CIPHERCLINIC_DATA) : resolve(repoRoot, '../shared/data');
}
