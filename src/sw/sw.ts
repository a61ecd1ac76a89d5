/**
 * The service worker's event wiring (the Squoosh split: wiring here, strategies and the list
 * of what is cached beside it). Installs by precaching the whole build, so the app opens, keys
 * and history are there, and the lab trains, with no network. A new version waits until the
 * person agrees (the page posts SKIP_WAITING), then takes over every tab.
 */
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { APP_SHELL, isModelList, NOT_THE_APP, precacheEntries } from './cache-list.ts';
import { modelCards } from './strategies.ts';

declare const self: ServiceWorkerGlobalScope;

precacheAndRoute(precacheEntries);
cleanupOutdatedCaches();
registerRoute(new NavigationRoute(createHandlerBoundToURL(APP_SHELL), { denylist: NOT_THE_APP }));
registerRoute(isModelList, modelCards);

self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});

// The first install takes control of the open page at once, so it works offline without a reload.
clientsClaim();
