// Node suite: every test file under tests/ except the browser ones (tests/browser/*, run by vitest.browser.config.ts).
process.env.NODEVICE_SELECT = '1';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Longest files first, so that neither worker is left with a long file at the end while the other
 * idles. Vitest does this itself from its cache of the last run's durations; with no cache (a
 * fresh clone, CI) it would start the largest files by bytes, and small slow files (ops.test.ts's
 * 220 generated cases, resume.test.ts) would run last. Then tests/durations.json (seconds per
 * file from a measured run: `node scripts/test-times.mjs node.json --durations`) gives the order;
 * files not listed there (new ones) start first, as vitest starts unknown files first.
 */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const key = (f: TestSpecification) => path.relative(root, f.moduleId).split(path.sep).join('/');
    if (files.every((f) => this.ctx.cache.getFileTestResults(`${f.project.name}:${key(f)}`))) return super.sort(files);
    let seconds: Record<string, number> = {};
    try {
      seconds = JSON.parse(readFileSync(path.join(root, 'tests', 'durations.json'), 'utf8'));
    } catch {
      return super.sort(files);
    }
    const cost = (f: TestSpecification) => seconds[key(f)] ?? Number.POSITIVE_INFINITY;
    return [...files].sort((a, b) => (cost(a) === cost(b) ? 0 : cost(b) > cost(a) ? 1 : -1));
  }
}

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    exclude: ['tests/browser/**', 'node_modules/**'],
    pool: 'forks',
    // One GPU device per worker: two workers keep both cores busy without thrashing the software adapter.
    maxWorkers: 2,
    // Per test and hook, unless a test sets its own: a CLI test spawns `gan` with 300 s per process
    // (tests/cli.test.ts), and on a shared 2-core machine tests take several times their idle time
    // (2026-12-06: the stacked-mnist dataset test 97-103 s, a stargan CLI run past 120 s; idle, each
    // a fraction of that), so 120 s failed sound tests there. A hung test still fails, later.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    sequence: { sequencer: LongestFirst },
    // globalThis.gc in the workers: tests that bound the heap over a long loop (tests/faults.test.ts)
    // measure after a full collection, not whatever the collector left at that moment (without it
    // the heap of that loop read 10.9 MB above its step-499 figure on a loaded machine).
    execArgv: ['--expose-gc'],
    // TEST_CPU_LOG=FILE: each test appends its CPU seconds to FILE (tests/support/cpu_log.ts).
    setupFiles: process.env.TEST_CPU_LOG ? ['tests/support/cpu_log.ts'] : [],
  },
});
