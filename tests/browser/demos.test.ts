// The demo pages in headless Chromium (WebGPU on SwiftShader), built and served as `npm run demo`
// serves them: `node scripts/build.mjs demos`, `node demos/prepare-data.mjs`, then scripts/serve.mjs
// on a free localhost port. Every page must load without console errors, page errors or failed
// requests, and leave a screenshot under artifacts/screenshots/demo-*.png.
//   - DCGAN: trains a few steps of a tiny model (16x16, ngf/ndf 4, batch 4) with finite losses and
//     a non-blank sample grid; pause, learning rate, save in IndexedDB, reload (auto-restore), reset,
//     load from IndexedDB, download a .safetensors and upload it back, a step after restoring, and a
//     lost device resumed from the last checkpoint;
//   - inspector: one DCGAN step listed dispatch by dispatch, with WGSL on click;
//   - gallery: all 15 architectures, DCGAN live with a drawn thumbnail;
//   - without navigator.gpu the pages say so and how to enable it.
// The tests share one browser profile and run in order (the gallery reads the DCGAN page's save).
// DEMOS_SKIP_BUILD=1 skips the build and data steps and serves dist/demos as it is;
// DEMOS_CHROMIUM_ARGS='--flag ...' adds Chromium flags (e.g. for a real GPU).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, ElementHandle, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type StaticServer } from '../../scripts/serve.mjs';
import { ARCHITECTURES } from '../../demos/shared/architectures';
import { CHROMIUM_PATH, REPO_ROOT, chromiumAvailable, launchBrowser, openPage, screenshot, type PageLog } from './harness';

const DEMOS_DIR = path.join(REPO_ROOT, 'dist', 'demos');
/** A DCGAN small enough for SwiftShader; autosave off so the saves in the test are the only ones. */
const TINY = 'size=16&nz=16&ngf=4&ndf=4&batch=4&samples=16&walk=4&sampleEvery=2&autosave=0';
const WAIT = { timeout: 150_000, polling: 250 };

const inCI = !!process.env.CI && !['0', 'false'].includes(process.env.CI.toLowerCase());
const skip = !chromiumAvailable() && !inCI;
if (skip) console.warn(`demos browser suite SKIPPED: ${CHROMIUM_PATH} not found (run scripts/setup.sh; with CI set this fails instead)`);

interface DemoState {
  ready: boolean;
  step: number;
  running: boolean;
  deviceLost: boolean;
  stats: Record<string, number> | null;
  spread: number;
  status: string;
  controlsEnabled: boolean;
}

const demoState = (page: Page): Promise<DemoState> =>
  page.evaluate(() => {
    const d = window.__demo!;
    return {
      ready: d.ready,
      step: d.step,
      running: d.running,
      deviceLost: d.deviceLost,
      stats: d.lastStats,
      spread: d.samplesSpread(),
      status: document.getElementById('status')!.textContent ?? '',
      controlsEnabled: !(document.getElementById('btn-toggle') as HTMLButtonElement).disabled,
    };
  });

/** Waits until the page is idle (not training, controls enabled) with the step counter at `step` (any when undefined). */
async function idleAt(page: Page, step?: number): Promise<DemoState> {
  await page.waitForFunction(
    (want) => {
      const d = window.__demo;
      const toggle = document.getElementById('btn-toggle') as HTMLButtonElement | null;
      return !!d && d.ready && !d.running && !!toggle && !toggle.disabled && toggle.textContent === 'Resume' && (want === null || d.step === want);
    },
    WAIT,
    step ?? null,
  );
  return demoState(page);
}

function expectFiniteStats(s: DemoState): void {
  expect(s.stats, 'no training statistics').not.toBeNull();
  for (const k of ['lossD', 'lossG', 'D_x', 'D_G_z1', 'D_G_z2']) {
    expect(Number.isFinite(s.stats![k]), `${k} = ${s.stats![k]}`).toBe(true);
  }
}

function expectClean(log: PageLog): void {
  expect(log.problems()).toEqual([]);
}

describe.skipIf(skip)('demo pages in Chromium', () => {
  let browser: Browser | undefined;
  let server: StaticServer | undefined;
  let downloads = '';
  let savedStep = -1;

  beforeAll(async () => {
    if (!chromiumAvailable()) throw new Error(`${CHROMIUM_PATH} not found: install Chromium (scripts/setup.sh)`);
    // DEMOS_SKIP_BUILD=1 reuses an existing dist/demos (reruns, or a machine without the dev tools).
    if (!process.env.DEMOS_SKIP_BUILD) {
      execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs'), 'demos'], { cwd: REPO_ROOT, stdio: 'inherit' });
      execFileSync(process.execPath, [path.join(REPO_ROOT, 'demos', 'prepare-data.mjs')], { cwd: REPO_ROOT, stdio: 'inherit' });
    }
    for (const f of ['index.html', 'gallery/main.js', 'dcgan/main.js', 'dcgan/main.css', 'inspector/main.js', 'data/mnist-train-8k.u8']) {
      if (!existsSync(path.join(DEMOS_DIR, f))) throw new Error(`dist/demos/${f} missing after the build`);
    }
    server = await startServer(DEMOS_DIR, 0);
    // DEMOS_CHROMIUM_ARGS adds flags, e.g. to run the pages on a real GPU's Vulkan driver.
    browser = await launchBrowser((process.env.DEMOS_CHROMIUM_ARGS ?? '').split(/\s+/).filter(Boolean));
    downloads = await mkdtemp(path.join(os.tmpdir(), 'gan-demo-downloads-'));
    const cdp = await browser.target().createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (downloads) await rm(downloads, { recursive: true, force: true });
  });

  it('DCGAN page trains, plots, and saves, reloads and restores checkpoints', async () => {
    const url = `${server!.url}dcgan/?${TINY}`;
    const { page, log } = await openPage(browser!, `${url}&fresh=1`);
    try {
      // Trains on load; let it take a few steps, then pause.
      await page.waitForFunction(() => (window.__demo?.step ?? 0) >= 3, WAIT);
      await page.click('#btn-toggle');
      let s = await idleAt(page);
      expect(s.step).toBeGreaterThanOrEqual(3);
      expectFiniteStats(s);
      expect(s.spread, 'sample grid is blank').toBeGreaterThan(1);
      const shown = await page.$eval('#stat-lossD', (e) => Number(e.textContent));
      expect(Number.isFinite(shown)).toBe(true);
      expect(await page.$$eval('#plot-loss canvas, #plot-measures canvas', (c) => c.length)).toBeGreaterThanOrEqual(2);
      expect(await page.$eval('#adapter', (e) => e.textContent)).toMatch(/\[browser\]/);

      // Learning rate control.
      await page.$eval('#lr', (e) => ((e as HTMLInputElement).value = '0.0001'));
      await page.click('#btn-lr');
      await page.waitForFunction(() => /learning rate 0\.0001/.test(document.getElementById('status')!.textContent ?? ''), WAIT);

      // Save in IndexedDB.
      savedStep = s.step;
      await page.click('#btn-save-idb');
      await page.waitForFunction((n) => document.getElementById('status')!.textContent === `saved step ${n} in this browser (IndexedDB)`, WAIT, savedStep);
      await screenshot(page, 'demo-dcgan');

      // Download a .safetensors checkpoint of the same step.
      await page.click('#btn-download');
      await page.waitForFunction(() => /^downloaded /.test(document.getElementById('status')!.textContent ?? ''), WAIT);
      const file = await waitForDownload(downloads);
      expect(path.basename(file)).toBe(`dcgan-mnist16-step${savedStep}.safetensors`);

      // Reload: the page restores the saved checkpoint by itself.
      await page.goto(`${url}&autostart=0`, { waitUntil: 'load' });
      s = await idleAt(page, savedStep);
      expect(await page.$eval('#restored-note', (e) => !e.classList.contains('hidden') && /step \d+/.test(e.textContent ?? ''))).toBe(true);
      expect(await page.$eval('#stat-step', (e) => e.textContent)).toBe(String(savedStep));
      expect(await page.$eval('#lr', (e) => Number((e as HTMLInputElement).value))).toBeCloseTo(1e-4, 10);
      expectFiniteStats(s); // the plotted history came back with the checkpoint
      expect(s.spread).toBeGreaterThan(1);

      // Reset, then load from IndexedDB.
      await page.click('#btn-reset');
      await idleAt(page, 0);
      await page.click('#btn-load-idb');
      s = await idleAt(page, savedStep);
      expect(s.status).toMatch(new RegExp(`^restored step ${savedStep} from this browser`));

      // Reset, then upload the downloaded file.
      await page.click('#btn-reset');
      await idleAt(page, 0);
      const input = (await page.$('#upload')) as ElementHandle<HTMLInputElement>;
      await input.uploadFile(file);
      s = await idleAt(page, savedStep);
      expect(s.status).toMatch(/^restored step \d+ from dcgan-mnist16-step\d+\.safetensors$/);

      // Training continues from the restored state.
      await page.click('#btn-step');
      s = await idleAt(page, savedStep + 1);
      expectFiniteStats(s);

      // A lost device: the banner offers to resume from the last checkpoint (the upload, savedStep).
      await page.evaluate(() => window.__demo!.loseDevice());
      await page.waitForFunction(() => window.__demo!.deviceLost && !document.getElementById('lost-banner')!.classList.contains('hidden'), WAIT);
      expect(await page.$eval('#btn-recover', (e) => e.textContent)).toBe(`Resume from step ${savedStep}`);
      await screenshot(page, 'demo-dcgan-device-lost');
      await page.click('#btn-recover');
      await page.waitForFunction((n) => !window.__demo!.deviceLost && window.__demo!.step > n, WAIT, savedStep);
      await page.click('#btn-toggle');
      s = await idleAt(page);
      expectFiniteStats(s);
      expect(s.spread).toBeGreaterThan(1);
      expectClean(log);
    } finally {
      await page.close();
    }
  });

  it('inspector lists every dispatch of a DCGAN step with its WGSL', async () => {
    const { page, log } = await openPage(browser!, `${server!.url}inspector/?model=dcgan&size=16&nz=16&ngf=4&ndf=4&batch=4`);
    try {
      await page.waitForFunction(() => window.__inspector?.done === true, WAIT);
      const r = await page.evaluate(() => ({
        error: window.__inspector!.error,
        n: window.__inspector!.result?.dispatches.length ?? 0,
        timed: window.__inspector!.result?.timed,
        ops: [...new Set(window.__inspector!.result?.dispatches.map((d) => d.op))],
        rows: document.querySelectorAll('#dispatches tbody tr').length,
        perOp: document.querySelectorAll('#per-op tbody tr').length,
        shaped: window.__inspector!.result?.dispatches.filter((d) => d.shapes.some((s) => s !== null)).length ?? 0,
      }));
      expect(r.error).toBeNull();
      expect(r.n).toBeGreaterThan(20);
      expect(r.rows).toBe(r.n);
      expect(r.shaped).toBe(r.n);
      expect(r.ops.length).toBeGreaterThan(5);
      expect(r.ops.every((op) => typeof op === 'string' && op.length > 0)).toBe(true);
      expect(r.perOp).toBe(r.ops.length);
      const firstOp = await page.$eval('#dispatches tbody tr:nth-child(3) td:nth-child(2)', (e) => e.textContent);
      expect(r.ops).toContain(firstOp);
      await page.click('#dispatches tbody tr:nth-child(3) td:nth-child(2)');
      const source = await page.$eval('#source', (e) => e.textContent ?? '');
      expect(source).toMatch(/@compute/);
      console.log(`inspector: ${r.n} dispatches, ${r.ops.length} ops, GPU timestamps ${r.timed ? 'on' : 'off'}`);
      await screenshot(page, 'demo-inspector');
      expectClean(log);
    } finally {
      await page.close();
    }
  });

  it('gallery lists all 15 architectures, DCGAN live with a thumbnail', async () => {
    const { page, log } = await openPage(browser!, server!.url);
    try {
      await page.waitForFunction(() => document.body.dataset.ready === 'true', WAIT);
      const cards = await page.$$eval('.card', (cs) => cs.map((c) => ({ name: (c as HTMLElement).dataset.arch, status: (c as HTMLElement).dataset.status, paper: c.querySelector('.paper a')?.getAttribute('href') })));
      expect(cards.map((c) => c.name)).toEqual(ARCHITECTURES.map((a) => a.name));
      expect(cards).toHaveLength(15);
      expect(cards.filter((c) => !/^https:\/\/(arxiv\.org\/abs\/\d{4}\.\d{5}|doi\.org\/10\.\d+\/\S+)$/.test(c.paper ?? ''))).toEqual([]);
      expect(cards.find((c) => c.name === 'DCGAN')?.status).toBe('live');
      const thumb = await page.$eval('.card[data-arch="DCGAN"] .thumb', (t) => ({ state: (t as HTMLElement).dataset.state, text: t.textContent }));
      expect(thumb.state).toBe('drawn');
      // The DCGAN page's checkpoint is in this profile's IndexedDB, so the thumbnail is the trained generator.
      expect(thumb.text).toMatch(/trained in this browser: step \d+/);
      // Distinct grey levels in the thumbnail: a blank grid has two (background and padding).
      const levels = await page.$eval('.card[data-arch="DCGAN"] canvas', (c) => {
        const cv = c as HTMLCanvasElement;
        const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
        const seen = new Set<number>();
        for (let i = 0; i < d.length; i += 4) seen.add(d[i]);
        return seen.size;
      });
      expect(levels, 'thumbnail is blank').toBeGreaterThan(8);
      await screenshot(page, 'demo-gallery');
      expectClean(log);
    } finally {
      await page.close();
    }
  });

  it('says plainly when WebGPU is missing, and how to enable it', async () => {
    const page = await browser!.newPage();
    await page.evaluateOnNewDocument(() => {
      delete (Navigator.prototype as unknown as { gpu?: unknown }).gpu;
    });
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    try {
      for (const p of ['', 'dcgan/?autostart=0', 'inspector/']) {
        await page.goto(`${server!.url}${p}`, { waitUntil: 'load' });
        await page.waitForSelector('#webgpu-missing', { timeout: 30_000 });
        const text = await page.$eval('#webgpu-missing', (e) => e.textContent ?? '');
        expect(text).toMatch(/WebGPU is not available/);
        expect(text).toMatch(/chrome:\/\/flags\/#enable-unsafe-webgpu/);
        if (p === '') await screenshot(page, 'demo-no-webgpu');
      }
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});

/** The one finished download in `dir` (Chromium writes .crdownload until it is complete). */
async function waitForDownload(dir: string, timeoutMs = 30_000): Promise<string> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const done = readdirSync(dir).filter((f) => f.endsWith('.safetensors'));
    if (done.length) return path.join(dir, done[0]);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no .safetensors download appeared in ${dir} within ${timeoutMs} ms`);
}
