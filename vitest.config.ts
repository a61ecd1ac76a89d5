import { defineConfig } from 'vitest/config';

// Node-side tests: unit tests beside their source and boundary tests under tests/.
// SEAL work is CPU-bound; two forks match the 2-core CI machine.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'tests/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
