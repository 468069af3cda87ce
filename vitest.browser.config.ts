// Browser suite: tests/browser/*.test.ts drive headless Chromium through puppeteer (tests/browser/harness.ts).
// Run via `npm run test:browser` (or npm test), which first bundles every page the files serve, once
// (node scripts/build.mjs browser-tests demos bench-page upscale-page), and tells the files so
// (DEMOS_SKIP_BUILD, BENCH_PAGE_SKIP_BUILD, UPSCALE_PAGE_SKIP_BUILD); run alone, a file builds its own.
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
    // TEST_CPU_LOG=FILE: each test appends its CPU seconds (Chromium's included) to FILE (tests/support/cpu_log.ts).
    setupFiles: process.env.TEST_CPU_LOG ? ['tests/support/cpu_log.ts'] : [],
  },
});
