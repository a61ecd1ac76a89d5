/**
 * What the service worker keeps, and under which names. The precache list itself is written
 * into the built worker by vite-plugin-pwa (`self.__WB_MANIFEST`: every file of the build —
 * HTML, scripts, styles, icons, the manifest and every .wasm — each with a content hash); the
 * glob patterns that choose it are in vite.config.ts. At run time, only the model cards are
 * cached: they are public, small, and what the screens need to work offline.
 */
import { API } from '../core/protocol/paths.ts';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (string | { url: string; revision: string | null })[] };

/** Bumped when the runtime caches change shape; the precache is versioned by its content hashes. */
export const CACHE_VERSION = 1;
export const CARDS_CACHE = `cipherclinic-cards-v${CACHE_VERSION}`;

/** The build's files, injected at build time. */
export const precacheEntries = self.__WB_MANIFEST;

/** The app shell every navigation gets (routes are hash routes, so one document serves all). */
export const APP_SHELL = 'index.html';

/** Same-origin GET of the model card list. */
export const isModelList = ({ url, request }: { url: URL; request: Request }): boolean =>
  request.method === 'GET' && url.origin === self.location.origin && url.pathname === API.models;

/** Navigations that are the app (not the API or a file). */
export const NOT_THE_APP = [/^\/api\//, /\.[a-z0-9]+$/i];
