import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    setupFiles: ['test/support/polyfills.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
