/**
 * The web app's build (DESIGN §2): Svelte 5 in src/app, Web Workers in workers/ as ES modules,
 * and the service worker in src/sw (vite-plugin-pwa, injectManifest). The server serves dist/
 * under a strict CSP (no inline scripts or styles, no other origins), so the build emits only
 * files: CSS extracted, WebAssembly as hashed assets, the service worker registered from a
 * script file.
 */
import { readFileSync } from 'node:fs';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };
/** Shown in the footer; $CIPHERCLINIC_BUILD_ID tells two builds of one version apart (the e2e update test uses it). */
const appVersion = process.env.CIPHERCLINIC_BUILD_ID ? `${pkg.version}+${process.env.CIPHERCLINIC_BUILD_ID}` : pkg.version;

export default defineConfig({
  define: { __APP_VERSION__: JSON.stringify(appVersion) },
  plugins: [
    svelte(),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src/sw',
      filename: 'sw.ts',
      // A new version is announced and applied only when the person agrees (src/app/state/update.svelte.ts).
      registerType: 'prompt',
      // Registered by the app's own script (virtual:pwa-register), never an inline script.
      injectRegister: false,
      manifest: {
        name: 'Cipher Clinic',
        short_name: 'Cipher Clinic',
        description: 'Private health predictions: your record is encrypted on this device, classified while encrypted, and only this device can read the result.',
        start_url: '/#/patient',
        scope: '/',
        display: 'standalone',
        background_color: '#f6f7f5',
        theme_color: '#0b5c55',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: '/icons/icon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
      injectManifest: {
        // Everything the app can need offline: the shell, every worker script and every .wasm
        // (SEAL's, and tfjs's plain and SIMD builds). Workbox skips files above its 2 MiB
        // default; SEAL's wasm is 1.3 MB and the training worker 1.6 MB, so the limit is raised.
        globPatterns: ['**/*.{html,js,css,wasm,svg,png,webmanifest}'],
        globIgnores: ['**/maskable.svg'],
        maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
      },
    }),
  ],
  // node-seal locates its .wasm with `new URL('seal_throws.wasm', import.meta.url)`: pre-bundling
  // would move the JS away from the wasm, so the dev server must serve it as it is.
  optimizeDeps: { exclude: ['node-seal'] },
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    target: 'es2023',
    // Workers, tfjs and SEAL's glue are large by nature; the warning would only be noise.
    chunkSizeWarningLimit: 2048,
    // Never inline assets as data: URLs (CSP default-src 'self' refuses data: for images and fonts).
    assetsInlineLimit: 0,
  },
  // `npm run dev` serves the app with hot reload and forwards the API to a running `npm start`.
  server: { host: '127.0.0.1', proxy: { '/api': process.env.CIPHERCLINIC_API ?? 'http://127.0.0.1:8080' } },
  preview: { host: '127.0.0.1' },
});
