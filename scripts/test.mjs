#!/usr/bin/env node
// `npm test`: the format and lint check (biome ci, a few seconds), the Node suite (vitest run, Dawn
// on lavapipe), then the browser suite (vitest with vitest.browser.config.ts driving headless
// Chromium on every page its files serve, bundled once while the Node suite runs; the files skip
// their own builds through BROWSER_PAGES_BUILT below). With TEST_SUITES_PARALLEL=1 the browser
// suite instead starts beside the Node suite as soon as its pages are built (its output held until
// the Node suite ends, then streamed): each suite then fills the cores the other leaves idle (the
// browser suite's waits on pages, the Node suite's last file running alone), at the price of a
// machine loaded by both at once. Not the default yet: how much it saves on an idle 2-core machine
// with an empty shader cache is unmeasured (tests/README.md). All three always run; at the end
// each runner's summary and the total wall time are printed, and the exit status is non-zero if
// either suite (or the page build) failed.
// Extra arguments go to both vitest runs (e.g. `npm test -- --reporter=verbose`).
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vitestBin = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
const extra = process.argv.slice(2);

// Keep colours when a person is watching, even though we pipe the children's output.
const env = { ...process.env, NODEVICE_SELECT: '1' };
if (process.stdout.isTTY && !('NO_COLOR' in env)) env.FORCE_COLOR ??= '1';

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes start with ESC
const stripAnsi = (s) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

/**
 * The pages the browser files serve, built here in one go: each file otherwise builds its own
 * (the demos target alone, data included, is the slowest) before it starts Chromium, unless the
 * variable beside it says the build is there.
 */
const BROWSER_PAGES = ['browser-tests', 'demos', 'bench-page', 'upscale-page'];
const BROWSER_PAGES_BUILT = { DEMOS_SKIP_BUILD: '1', BENCH_PAGE_SKIP_BUILD: '1', UPSCALE_PAGE_SKIP_BUILD: '1' };

/**
 * Run a command; resolve to its exit code and captured text. Its output streams through live, or,
 * with `quiet`, is only captured (for a command that runs beside another whose output streams), or,
 * with `held`, is captured until `held.release()` is called, which prints what came so far and
 * streams the rest live.
 */
function run(args, extraEnv = {}, { quiet = false, nice = 0, held = null } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...env, ...extraEnv },
      stdio: [quiet || held ? 'ignore' : 'inherit', 'pipe', 'pipe'],
    });
    // Lower priority (inherited by what it spawns from now on, esbuild included) so that it uses
    // the cores the other command leaves idle rather than slowing it.
    if (nice && child.pid) {
      try {
        os.setPriority(child.pid, nice);
      } catch {}
    }
    let text = '';
    const live = () => !quiet && (!held || held.released);
    if (held)
      held.onRelease = () => {
        if (!quiet) process.stdout.write(text);
      };
    child.stdout.on('data', (d) => {
      if (live()) process.stdout.write(d);
      text += d;
    });
    child.stderr.on('data', (d) => {
      if (live()) process.stderr.write(d);
      text += d;
    });
    child.on('error', (err) => resolve({ code: 1, text: `${text}\n${err.message}` }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), text }));
  });
}

/** Output held back from a command running beside another (see `run`'s `held`). */
function holdOutput() {
  const held = {
    released: false,
    onRelease: () => {},
    release() {
      if (held.released) return;
      held.released = true;
      held.onRelease();
    },
  };
  return held;
}

/** vitest's closing block: the "Test Files", "Tests", "Errors" and "Duration" lines. */
function summaryOf(text) {
  const lines = stripAnsi(text)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^(Test Files|Tests|Errors|Duration)\b/.test(l) || /^No test files found/.test(l));
  return lines.length ? lines : ['(no vitest summary: see the output above)'];
}

function banner(title) {
  console.log(`\n==== ${title} ${'='.repeat(Math.max(0, 70 - title.length))}\n`);
}

const t0 = performance.now();
const results = [];

banner('Format and lint: biome ci (fix with `npm run format`)');
const lint = await run([path.join(root, 'node_modules', '@biomejs', 'biome', 'bin', 'biome'), 'ci', '.']);
results.push({
  name: 'lint',
  ...lint,
  summary: [lint.code === 0 ? 'biome ci: clean' : 'biome ci: see the diagnostics above; `npm run format` fixes formatting'],
});

const serial = !['1', 'true'].includes((process.env.TEST_SUITES_PARALLEL ?? '').toLowerCase());
banner(
  serial
    ? 'Node suite: vitest run (the browser pages build beside it, at low priority)'
    : 'Node suite: vitest run (beside it: the browser page build at low priority, then the browser suite, its output held)',
);
// The page build (esbuild and the demos' data, about 15 s on an idle 2-core machine) does not
// depend on the Node suite and no Node test reads what it writes (dist/demos, dist/browser-tests,
// dist/bench-page, dist/upscale-page), so it runs during the Node suite instead of after it; its
// output is printed when the Node suite has finished. Neither does the browser suite share anything
// with the Node suite (its servers take free ports, its temporary folders and CLI bundles are its
// own, its Chromium runs on SwiftShader, not lavapipe), so it starts when the build is done.
const pageBuildStart = performance.now();
const pageBuilding = run([path.join(root, 'scripts', 'build.mjs'), ...BROWSER_PAGES], {}, { quiet: true, nice: 10 }).then((r) => ({
  ...r,
  seconds: (performance.now() - pageBuildStart) / 1000,
}));
const browserArgs = [vitestBin, 'run', '--config', 'vitest.browser.config.ts', ...extra];
const browserHeld = holdOutput();
const browserStart = { at: 0 };
const browserRunning = serial
  ? null
  : pageBuilding.then((b) => {
      if (b.code !== 0) return null;
      browserStart.at = performance.now();
      return run(browserArgs, BROWSER_PAGES_BUILT, { held: browserHeld });
    });
const nodeStart = performance.now();
const nodeSuite = await run([vitestBin, 'run', '--passWithNoTests', ...extra]);
const nodeEnd = performance.now();
const nodeSeconds = (nodeEnd - nodeStart) / 1000;
results.push({ name: 'node', ...nodeSuite, summary: [...summaryOf(nodeSuite.text), `(node suite: ${nodeSeconds.toFixed(1)} s)`] });

banner(
  serial
    ? 'Browser suite: the pages built beside the Node suite, then vitest --config vitest.browser.config.ts'
    : 'Browser suite: vitest --config vitest.browser.config.ts, started beside the Node suite once the pages were built',
);
const pageBuild = await pageBuilding;
process.stdout.write(pageBuild.text);
console.log(`(page build: ${pageBuild.seconds.toFixed(1)} s, beside the Node suite)\n`);
if (pageBuild.code !== 0) {
  results.push({
    name: 'browser',
    code: pageBuild.code,
    summary: [`page build failed (node scripts/build.mjs ${BROWSER_PAGES.join(' ')})`],
  });
} else {
  if (!serial) {
    const ahead = (nodeEnd - browserStart.at) / 1000;
    console.log(
      ahead > 0
        ? `(browser suite: started ${ahead.toFixed(1)} s before the Node suite ended; its output from the start:)\n`
        : '(browser suite: started after the Node suite ended)\n',
    );
  }
  browserHeld.release();
  const browserSuite = await (browserRunning ?? run(browserArgs, BROWSER_PAGES_BUILT));
  results.push({ name: 'browser', ...browserSuite, summary: summaryOf(browserSuite.text) });
}

banner('Summary');
for (const r of results) {
  console.log(`${r.name} suite: ${r.code === 0 ? 'PASSED' : `FAILED (exit ${r.code})`}`);
  for (const line of r.summary) console.log(`    ${line}`);
}
const failed = results.filter((r) => r.code !== 0).map((r) => r.name);
console.log(`\ntotal wall time: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
console.log(failed.length ? `npm test: FAILED (${failed.join(', ')})` : 'npm test: all suites passed');
process.exit(failed.length ? 1 : 0);
