// Browser suite: tests/browser/*.test.ts drive headless Chromium through puppeteer (tests/browser/harness.ts).
// Run via `npm run test:browser`, which first bundles the page (node scripts/build.mjs browser-tests).
// One worker, one file at a time: Chromium's SwiftShader WebGPU already keeps the cores busy.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/browser/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
