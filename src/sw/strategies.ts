/**
 * How the service worker answers. The app shell and assets come from the precache (served
 * without the network, updated only when a new version is applied). The model card list is
 * network-first: the service's answer when it can be reached within a few seconds, else the
 * last one cached, marked with the time it was cached so the page can say it is offline.
 */
import type { WorkboxPlugin } from 'workbox-core';
import { NetworkFirst } from 'workbox-strategies';
// The zod-free module only, so the service worker stays small.
import { CACHED_AT_HEADER } from '../core/protocol/constants.ts';
import { CARDS_CACHE } from './cache-list.ts';

/** Stamps a copy of each response it caches with the time it was cached. */
const stampCachedCopy: WorkboxPlugin = {
  cacheWillUpdate: async ({ response }) => {
    if (!response.ok) return null;
    const headers = new Headers(response.headers);
    headers.set(CACHED_AT_HEADER, new Date().toISOString());
    return new Response(await response.blob(), { status: response.status, statusText: response.statusText, headers });
  },
};

export const modelCards = new NetworkFirst({ cacheName: CARDS_CACHE, networkTimeoutSeconds: 4, plugins: [stampCachedCopy] });
