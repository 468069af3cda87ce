// The benchmark page (demos/bench/) in headless Chromium, WebGPU on SwiftShader, built alone by
// `node scripts/build.mjs bench-page` (no training data: seconds) and served by scripts/serve.mjs.
//   - a run in the tab: two kernels of the reduced suite (DCGAN G's last conv-transpose forward and
//     a batch norm forward: the quickest pair for SwiftShader to compile), each validated against the CPU reference and timed (2 repeats after 1 warm-up), with
//     tfjs-webgpu on the same shapes; every figure finite, the table and the chart drawn, and the
//     "Download JSON" file equal to the page's report in the bench/results/*.json format;
//   - a committed result file (the H200 run in bench/results/) uploaded: the table has one row per
//     pass, the chart one bar per pass with a ratio, the ratios as the file has them; a committed run
//     picked from the list the build serves; a file of another schema refused with a clear message;
//     all of it with navigator.gpu removed (the page says WebGPU is missing and Run stays disabled).
// No console errors, page errors or failed requests; screenshots in artifacts/screenshots/bench-*.png.
// BENCH_PAGE_SKIP_BUILD=1 serves an existing dist/bench-page.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, ElementHandle, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StaticServer } from '../../scripts/serve.mjs';
import { SCHEMA, fmtRatio, type BenchReport } from '../../bench/report';
import {
  CHROMIUM_PATH,
  REPO_ROOT,
  chromiumAvailable,
  closeSite,
  newPageWithoutWebGPU,
  openPage,
  screenshot,
  startSite,
  waitForDownload,
} from './harness';

const PAGE_ROOT = path.join(REPO_ROOT, 'dist', 'bench-page');
const RESULTS = path.join(REPO_ROOT, 'bench', 'results');
const H200 = 'nvidia-h200-2026-11-27-full.json';
const WAIT = { timeout: 120_000, polling: 200 };

const inCI = !!process.env.CI && !['0', 'false'].includes(process.env.CI.toLowerCase());
const skip = !chromiumAvailable() && !inCI;
if (skip) console.warn(`bench page suite SKIPPED: ${CHROMIUM_PATH} not found (run scripts/setup.sh; with CI set this fails instead)`);

/** The page's state (window.__bench) and what its table and chart show. */
async function pageState(page: Page) {
  return page.evaluate(() => {
    const b = window.__bench!;
    const cells = (col: string) =>
      Array.from(document.querySelectorAll(`#passes tbody td[data-col="${col}"]`)).map((c) => c.textContent ?? '');
    return {
      state: b.state,
      error: b.error,
      source: b.source,
      report: b.report,
      drawnBars: b.drawnBars(),
      canvases: document.querySelectorAll('#chart canvas').length,
      rows: document.querySelectorAll('#passes tbody tr').length,
      stepRows: document.querySelectorAll('#steps-table tbody tr').length,
      cols: {
        engineMs: cells('engine-ms'),
        gflops: cells('gflops'),
        gbps: cells('gbps'),
        tfjsMs: cells('tfjs-ms'),
        ratio: cells('ratio'),
        check: cells('check'),
      },
      ratioOf: Object.fromEntries(
        Array.from(document.querySelectorAll('#passes tbody tr')).map((tr) => [
          `${(tr as HTMLElement).dataset.id}:${(tr as HTMLElement).dataset.pass}`,
          tr.querySelector('td[data-col="ratio"]')?.textContent ?? '',
        ]),
      ),
      info: document.getElementById('run-info')!.textContent ?? '',
      status: document.getElementById('status')!.textContent ?? '',
    };
  });
}

const finitePositive = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x > 0;

describe.skipIf(skip)('benchmark page in Chromium', () => {
  let browser: Browser | undefined;
  let server: StaticServer | undefined;
  let downloads = '';

  beforeAll(async () => {
    if (!chromiumAvailable()) throw new Error(`${CHROMIUM_PATH} not found: install Chromium (scripts/setup.sh)`);
    if (!process.env.BENCH_PAGE_SKIP_BUILD) {
      execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs'), 'bench-page'], { cwd: REPO_ROOT, stdio: 'inherit' });
    }
    for (const f of [
      'bench/index.html',
      'bench/main.js',
      'bench/main.css',
      'shared/style.css',
      'bench/results/index.json',
      `bench/results/${H200}`,
    ]) {
      if (!existsSync(path.join(PAGE_ROOT, f))) throw new Error(`dist/bench-page/${f} missing: run \`node scripts/build.mjs bench-page\``);
    }
    ({ server, browser, downloads } = await startSite(PAGE_ROOT, [], 'gan-bench-downloads-'));
  });

  afterAll(() => closeSite({ browser, server, downloads }));

  it('runs two kernels in the tab (validated, timed, tfjs side by side) and downloads the report', async () => {
    const only = 'dcgan_g4:forward,batch_norm_dcgan:forward';
    const { page, log } = await openPage(
      browser!,
      `${server!.url}bench/?suite=reduced&only=${only}&repeats=2&warmup=1&targetMs=1&maxInner=2&autorun=1`,
    );
    try {
      await page.waitForFunction(() => ['done', 'error'].includes(window.__bench?.state ?? ''), WAIT);
      const s = await pageState(page);
      expect(s.error).toBeNull();
      expect(s.state).toBe('done');
      expect(await page.$eval('#sel-count', (e) => e.textContent)).toBe('2 of 41 passes selected');
      const r = s.report!;
      expect(r.schema).toBe(SCHEMA);
      expect(r.complete).toBe(true);
      expect(r.adapter.backend).toBe('browser');
      expect(r.host.user_agent).toMatch(/Chrom/);
      expect(r.passes.map((p) => `${p.id}:${p.pass}`)).toEqual(only.split(','));
      expect(r.steps).toEqual([]);
      expect(r.tfjs && 'adapter' in r.tfjs).toBe(true);
      for (const p of r.passes) {
        const e = p.engine;
        expect(e.status, `${p.id}: ${e.message}`).toBe('ok');
        expect(e.validation?.ok).toBe(true);
        expect(e.validation!.err).toBeLessThan(1e-3);
        expect(e.validation!.outputs.every((o) => o.nonFinite === 0 && o.checked > 0)).toBe(true);
        const t = e.timing!;
        expect(t.wall_ms_all).toHaveLength(2);
        for (const v of [t.ms_median, t.wall_ms_median, t.gflops, t.gbps])
          expect(finitePositive(v), `${p.id} timing ${JSON.stringify(t)}`).toBe(true);
        expect(p.tfjs?.status, JSON.stringify(p.tfjs)).toBe('ok');
        if (p.tfjs?.status === 'ok') expect(finitePositive(p.tfjs.ms_median) && finitePositive(p.tfjs.gflops)).toBe(true);
        expect(finitePositive(p.ratio)).toBe(true);
        expect(p.ratio_basis).toMatch(/^(gpu|wall)$/);
      }
      // The table shows the same finite numbers, the chart one bar per pass.
      expect(s.rows).toBe(2);
      for (const col of [s.cols.engineMs, s.cols.gflops, s.cols.gbps, s.cols.tfjsMs])
        for (const c of col) expect(Number.isFinite(Number(c)) && Number(c) > 0, `cell '${c}'`).toBe(true);
      for (const c of s.cols.ratio) expect(c).toMatch(/^\d+(\.\d+)?x$/);
      expect(s.cols.check.every((c) => /^ok /.test(c))).toBe(true);
      expect(s.canvases).toBeGreaterThan(0);
      expect(s.drawnBars).toBe(2);
      console.log(
        `bench page run: ${r.adapter.name}, ${r.passes.map((p) => `${p.id}/${p.pass} ${fmtRatio(p.ratio)} (${p.ratio_basis})`).join(', ')}, ${r.elapsed_s.toFixed(1)} s`,
      );
      await screenshot(page, 'bench-run');

      // Download JSON: the report as bench/results/*.json files are written.
      await page.click('#btn-download');
      const file = await waitForDownload(downloads, (f) => f.endsWith('.json'));
      expect(path.basename(file)).toBe(`${r.adapter.slug}-${r.date.slice(0, 10)}-reduced.json`);
      const text = readFileSync(file, 'utf8');
      expect(text).toBe(JSON.stringify(r, null, 1) + '\n');
      expect(log.problems()).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('charts committed result files without running anything (and without WebGPU)', async () => {
    // navigator.gpu removed before the page's scripts run: loading a file must not need a GPU.
    const page = await newPageWithoutWebGPU(browser!);
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(`console.error: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${String(e)}`));
    page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()} ${r.url()}`));
    await page.goto(`${server!.url}bench/`, { waitUntil: 'load', timeout: WAIT.timeout });
    try {
      await page.waitForFunction(() => window.__bench?.state === 'idle', WAIT);
      expect(await page.$eval('#webgpu-missing', (e) => e.textContent ?? '')).toMatch(/WebGPU is not available/);
      expect(await page.$eval('#btn-run', (b) => (b as HTMLButtonElement).disabled)).toBe(true);
      const want = JSON.parse(readFileSync(path.join(RESULTS, H200), 'utf8')) as BenchReport;
      const input = (await page.$('#load-file')) as ElementHandle<HTMLInputElement>;
      await input.uploadFile(path.join(RESULTS, H200));
      await page.waitForFunction((f) => window.__bench?.state === 'loaded' && window.__bench.source === f, WAIT, H200);
      let s = await pageState(page);
      expect(s.report!.passes).toHaveLength(want.passes.length);
      expect(s.rows).toBe(want.passes.length);
      expect(s.stepRows).toBe(want.steps.length);
      expect(s.info).toContain(want.adapter.name);
      const withRatio = want.passes.filter((p) => p.ratio !== undefined && Number.isFinite(p.ratio) && p.ratio > 0);
      expect(withRatio.length).toBeGreaterThan(30);
      expect(s.drawnBars).toBe(withRatio.length);
      for (const p of want.passes) expect(s.ratioOf[`${p.id}:${p.pass}`], `${p.id}:${p.pass}`).toBe(fmtRatio(p.ratio));
      await screenshot(page, 'bench-h200');

      // A committed run from the list the build serves.
      const other = 'nvidia-h200-2026-11-27-full-before-tile-retune.json';
      const otherReport = JSON.parse(readFileSync(path.join(RESULTS, other), 'utf8')) as BenchReport;
      await page.select('#committed', other);
      await page.click('#btn-committed');
      await page.waitForFunction((f) => window.__bench?.source === f, WAIT, other);
      s = await pageState(page);
      expect(s.rows).toBe(otherReport.passes.length);
      expect(s.ratioOf['cyclegan_res:forward']).toBe(
        fmtRatio(otherReport.passes.find((p) => p.id === 'cyclegan_res' && p.pass === 'forward')!.ratio),
      );

      // A JSON file that is not a report: refused, the chart keeps the last report.
      const sweep = readdirSync(RESULTS).find((f) => f.includes('tile-sweep') && f.endsWith('.json'));
      if (sweep) {
        await input.uploadFile(path.join(RESULTS, sweep));
        await page.waitForFunction(() => /is not a benchmark result/.test(document.getElementById('status')!.textContent ?? ''), WAIT);
        s = await pageState(page);
        expect(s.status).toContain(sweep);
        expect(s.source).toBe(other);
        expect(s.drawnBars).toBeGreaterThan(30);
      }
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
