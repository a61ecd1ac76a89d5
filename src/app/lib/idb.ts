/**
 * idb-keyval reads by name prefix, for the page's stores and the workers' alike (browser code:
 * IndexedDB exists in pages and workers, not in Node, so this is not in src/core): the names are
 * listed first and only the matching values are read, so a store that also keeps large values
 * under other prefixes (evaluation keys an earlier version kept beside queued predictions,
 * megabytes each) does not load them all.
 */
import { getMany, keys, type UseStore } from 'idb-keyval';

/** The names in a store that start with `prefix`. */
export async function namesWithPrefix(prefix: string, store: UseStore): Promise<string[]> {
  return (await keys(store)).filter((k): k is string => typeof k === 'string' && k.startsWith(prefix));
}

/** The values stored under names that start with `prefix` (in name order). */
export async function valuesWithPrefix<T>(prefix: string, store: UseStore): Promise<T[]> {
  return (await getMany<T | undefined>(await namesWithPrefix(prefix, store), store)).filter((v): v is T => v !== undefined);
}
