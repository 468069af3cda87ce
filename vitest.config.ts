// Node suite: every test file under tests/ except the browser ones (tests/browser/*, run by vitest.browser.config.ts).
process.env.NODEVICE_SELECT = '1';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    exclude: ['tests/browser/**', 'node_modules/**'],
    pool: 'forks',
    // One GPU device per worker: two workers keep both cores busy without thrashing the software adapter.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
