/**
 * The web app's build (DESIGN §2): Svelte 5 in src/app, Web Workers in workers/ as ES modules.
 * The server serves dist/ under a strict CSP (no inline scripts or styles, no other origins),
 * so the build emits only files: CSS extracted, WebAssembly as a hashed asset.
 */
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [svelte()],
  // node-seal locates its .wasm with `new URL('seal_throws.wasm', import.meta.url)`: pre-bundling
  // would move the JS away from the wasm, so the dev server must serve it as it is.
  optimizeDeps: { exclude: ['node-seal'] },
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    target: 'es2023',
    // Workers and SEAL's glue are large by nature; the warning would only be noise.
    chunkSizeWarningLimit: 2048,
    // Never inline assets as data: URLs (CSP default-src 'self' refuses data: for images and fonts).
    assetsInlineLimit: 0,
  },
  // `npm run dev` serves the app with hot reload and forwards the API to a running `npm start`.
  server: { host: '127.0.0.1', proxy: { '/api': process.env.CIPHERCLINIC_API ?? 'http://127.0.0.1:8080' } },
  preview: { host: '127.0.0.1' },
});
