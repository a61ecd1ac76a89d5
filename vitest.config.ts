import { svelte } from '@sveltejs/vite-plugin-svelte';
import { configDefaults, defineConfig } from 'vitest/config';

// Node-side tests: unit tests beside their source and boundary tests under tests/.
// SEAL work is CPU-bound; two forks match the 2-core CI machine.
// The browser tests (tests/e2e, real Chromium against the real server) run after the rest,
// alone, so that the timings they print are not taken while other tests load the CPU.
// The app's state classes use Svelte runes: their tests (*.test.svelte.ts beside them) are
// compiled by the Svelte plugin, for the browser, on fake-indexeddb's in-memory IndexedDB.
export default defineConfig({
  test: {
    environment: 'node',
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['src/**/*.test.ts', 'workers/**/*.test.ts', 'tests/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'tests/e2e/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        plugins: [svelte()],
        resolve: { conditions: ['browser'] },
        test: {
          name: 'state',
          include: ['src/**/*.test.svelte.ts'],
          setupFiles: ['fake-indexeddb/auto'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          sequence: { groupOrder: 1 },
          // One browser file at a time: they print timings, and each builds the app and runs a server.
          maxWorkers: 1,
          testTimeout: 180_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
