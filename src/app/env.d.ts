/// <reference types="svelte" />
/// <reference types="vite/client" />
/// <reference types="vite-plugin-pwa/vanillajs" />

/** The app's version (package.json, plus the build id when one is given); see vite.config.ts. */
declare const __APP_VERSION__: string;
