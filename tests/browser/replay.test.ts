// Recorded-step replay in Chromium (issue 14): a tiny DCGAN trained N steps eagerly and N steps
// through replayed() from one seed, in a page on the browser's WebGPU (SwiftShader here), must end
// with every parameter, buffer, optimiser moment and step count, and the noise stream bit for bit
// the same, and the same statistics; the last 3 steps replayed (2 eager steps record, the third plans). tests/replay.test.ts does the same for every model in Node.
// The page is bundled here from the inline entry below (esbuild, into dist/replay-page/).
//   node scripts/build.mjs browser-tests   (not needed: this file builds its own page)
//   taskset -c 1 npx vitest run --config vitest.browser.config.ts tests/browser/replay.test.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type StaticServer } from '../../scripts/serve.mjs';
import { CHROMIUM_PATH, REPO_ROOT, chromiumAvailable, launchBrowser, openPage } from './harness';

const OUT_DIR = path.join(REPO_ROOT, 'dist', 'replay-page');
const STEPS = 6;

/** What the page publishes: each run's state as u32 words per tensor (hex), outcomes, report. */
interface RunResult {
  state: Record<string, string>;
  outcomes: string[];
  report: { replayed: number; eager: number; plans: number; lastReason: string | null };
  stats: Record<string, number>[];
}
interface ReplayPageResult {
  adapter: string;
  eager: RunResult;
  replay: RunResult;
  /** Page time: engine start, the eager run (kernels compiled here), the replayed run. */
  ms: { init: number; eager: number; replay: number };
  error?: string;
}

declare global {
  interface Window {
    __replay?: ReplayPageResult;
  }
}

// The page: the DCGAN case of tests/replay.test.ts (16 px, nz 4, widths 2, batch 2), seeded host
// batches, statistics read on every third step, then the whole trainer state read back.
const ENTRY = /* ts */ `
import { initEngine, engine } from './engine/device';
import { tensor } from './engine/tensor';
import { randomHost } from './engine/ops/cpu/host';
import { dcganRecipe } from './nets/dcgan';
import { replayed } from './nets/lib/step';
import { readStats } from './nets/lib/stats';
import './engine/ops/index';

const hex = (a) => Array.from(new Uint32Array(Float32Array.from(a).buffer), (w) => w.toString(16).padStart(8, '0')).join('');

async function run(replay) {
  const r0 = dcganRecipe;
  const config = { ...Object.fromEntries(Object.entries(r0.options).map(([k, o]) => [k, o.default])), imageSize: 16, nz: 4, ngf: 2, ndf: 2 };
  const settings = { ...r0.train, lr: 2e-4, beta1: 0.5, beta2: 0.999, batch: 2, steps: ${STEPS} };
  const t = r0.create(config, settings, 5);
  const r = replayed(t, { enabled: replay });
  const outcomes = [];
  const stats = [];
  for (let i = 0; i < ${STEPS}; i++) {
    const real = tensor(Float32Array.from(randomHost([2 * 16 * 16], 100 + i, -1, 1).data), [2, 1, 16, 16]);
    const st = r.step(real, i % 3 === 2);
    real.dispose();
    outcomes.push(r.lastOutcome ?? 'direct');
    if (st) stats.push(await readStats(st));
  }
  const state = {};
  for (const [name, net] of Object.entries(t.nets)) for (const [k, v] of net.stateDict()) state[name + '.' + k] = hex(await v.data());
  for (const [name, o] of Object.entries(t.optimizers)) {
    const sd = o.stateDict();
    state['optim.' + name + '.steps'] = JSON.stringify(sd.steps);
    for (const [k, v] of Object.entries(sd.tensors)) state['optim.' + name + '.' + k] = hex(await v.data());
  }
  state.rng = JSON.stringify(t.rng.getState());
  const report = r.report();
  r.dispose();
  return { state, outcomes, report, stats };
}

(async () => {
  try {
    const t0 = performance.now();
    const e = await initEngine({ log: false });
    const a = e.adapter;
    const t1 = performance.now();
    const eager = await run(false);
    const t2 = performance.now();
    const replay = await run(true);
    const t3 = performance.now();
    const ms = { init: Math.round(t1 - t0), eager: Math.round(t2 - t1), replay: Math.round(t3 - t2) };
    window.__replay = { adapter: [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / '), eager, replay, ms };
  } catch (err) {
    window.__replay = { adapter: '', eager: null, replay: null, error: String(err && err.stack || err) };
  }
})();
`;

const inCI = !!process.env.CI && !['0', 'false'].includes(process.env.CI.toLowerCase());
const skip = !chromiumAvailable() && !inCI;
if (skip) console.warn(`browser replay test SKIPPED: ${CHROMIUM_PATH} not found (run scripts/setup.sh; with CI set this fails instead)`);

describe.skipIf(skip)('recorded-step replay in Chromium', () => {
  let browser: Browser | undefined;
  let server: StaticServer | undefined;

  beforeAll(async () => {
    if (!chromiumAvailable()) throw new Error(`${CHROMIUM_PATH} not found: install Chromium (scripts/setup.sh)`);
    mkdirSync(OUT_DIR, { recursive: true });
    await build({
      stdin: { contents: ENTRY, resolveDir: REPO_ROOT, sourcefile: 'replay-page.ts', loader: 'ts' },
      bundle: true,
      format: 'esm',
      target: 'es2022',
      platform: 'browser',
      external: ['webgpu', 'node:*'],
      loader: { '.wgsl': 'text' },
      logLevel: 'warning',
      outfile: path.join(OUT_DIR, 'page.js'),
    });
    writeFileSync(
      path.join(OUT_DIR, 'index.html'),
      '<!doctype html>\n<html><head><meta charset="utf-8"><title>replay</title><link rel="icon" href="data:,"></head><body><script type="module" src="./page.js"></script></body></html>\n',
    );
    server = await startServer(OUT_DIR, 0);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it(`DCGAN: ${STEPS} steps eager = ${STEPS} steps replayed, bit for bit, in the page`, async () => {
    const { page, log } = await openPage(browser!, server!.url, { echo: false });
    await page.waitForFunction(() => window.__replay !== undefined, { timeout: 240_000, polling: 250 });
    const r = (await page.evaluate(() => window.__replay)) as ReplayPageResult;
    expect(r.error, 'page error').toBeUndefined();
    console.log(`browser adapter: ${r.adapter}; ms ${JSON.stringify(r.ms)}; replay outcomes: ${r.replay.outcomes.join(' ')}`);
    expect(r.eager.outcomes.every((o) => o === 'direct')).toBe(true);
    expect(Object.keys(r.replay.state)).toEqual(Object.keys(r.eager.state));
    expect(Object.keys(r.eager.state).length).toBeGreaterThan(10);
    for (const [k, v] of Object.entries(r.eager.state)) expect(r.replay.state[k], k).toBe(v);
    expect(r.replay.stats).toEqual(r.eager.stats);
    expect(r.replay.stats.length).toBe(2);
    expect(r.replay.report.lastReason).toBeNull();
    expect(r.replay.report.replayed, r.replay.outcomes.join(' ')).toBeGreaterThanOrEqual(STEPS - 3);
    expect(r.replay.outcomes.slice(-2)).toEqual(['replayed', 'replayed']);
    expect(log.problems()).toEqual([]);
    await page.close();
  });
});
