// The demo pages in headless Chromium (WebGPU on SwiftShader), built and served as `npm run demo`
// serves them: `node scripts/build.mjs demos` (bundles and writes the pages' data), then
// scripts/serve.mjs on a free localhost port. Every page must load without console errors, page
// errors or failed requests, and leave a screenshot under artifacts/screenshots/demo-*.png.
//   - DCGAN: trains a few steps of a tiny model (16x16, ngf/ndf 4, batch 4) with finite losses and
//     a non-blank sample grid; pause, learning rate, save in IndexedDB, reload (auto-restore), reset,
//     load from IndexedDB, download a .safetensors and upload it back, a step after restoring, and a
//     lost device resumed from the last checkpoint;
//   - training page: one model of each kind the page shows (TRAIN_PAGE_MODELS; DEMOS_ALL_MODELS=1:
//     every registered model), switched in place in one tab (one GPU device: SwiftShader compiles
//     each new WGSL pipeline slowly, and the models share most kernels), tiny widths, two steps each
//     with finite stats and a non-blank grid; CycleGAN's direction flip and its checkpoint round
//     trips (IndexedDB, download/upload: its image pools are training state), LAPGAN's pyramid
//     walk, StarGAN's target-domain picker;
//   - draw page: tiny pix2pix on edges -> emoji; a synthetic stroke and "Clear" change the output;
//   - inspector: one DCGAN step listed dispatch by dispatch, with WGSL on click;
//   - gallery: all 15 architectures, every registered one live with a link to its page; thumbnails
//     drawn as cards come into view (DCGAN's the grid of its shipped weights when zoo/ has them,
//     else the checkpoint the test above saved; CycleGAN's from that checkpoint; the Autoencoder's
//     from fresh weights unless it ships weights);
//   - without navigator.gpu the pages say so and how to enable it.
// The tests share one browser profile and run in order (the gallery reads the pages' saves).
// DEMOS_SKIP_BUILD=1 skips the build and data steps and serves dist/demos as it is;
// DEMOS_CHROMIUM_ARGS='--flag ...' adds Chromium flags (e.g. for a real GPU).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, ElementHandle, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StaticServer } from '../../scripts/serve.mjs';
import { ARCHITECTURES } from '../../demos/shared/architectures';
import { runDefaults } from '../../demos/shared/models';
import { recipes } from '../../nets/registry';
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
  screenshotElement,
  type PageLog,
} from './harness';

const DEMOS_DIR = path.join(REPO_ROOT, 'dist', 'demos');
/** A DCGAN small enough for SwiftShader; autosave off so the saves in the test are the only ones. */
const TINY = 'size=16&nz=16&ngf=4&ndf=4&batch=4&samples=16&walk=4&sampleEvery=2&autosave=0';
const WAIT = { timeout: 150_000, polling: 250 };
/** Long waits: a model's first steps compile its kernels (slow on SwiftShader, slower on a busy machine). */
const LONG_WAIT = { timeout: 420_000, polling: 250 };

/**
 * Models the training page test runs, one per kind of page the generic page makes: GMAN (latent
 * codes: sample grid, latent walk, its own charts), LAPGAN (the pyramid walk), CycleGAN (held-out
 * input | output | target rows, both directions, checkpoints with training state), StarGAN
 * (image-conditioned samples, target-domain picker). DCGAN and pix2pix have pages of their own
 * below. DEMOS_ALL_MODELS=1 runs every registered model (each new one compiles kernels of its own:
 * on SwiftShader about 100 s more CPU time for the 13 models registered when this was written).
 */
const TRAIN_PAGE_MODELS = process.env.DEMOS_ALL_MODELS
  ? Object.keys(recipes)
      .filter((m) => m !== 'dcgan' && m !== 'pix2pix')
      .sort((a, b) => Number(runDefaults(a).dataset !== 'mnist') - Number(runDefaults(b).dataset !== 'mnist'))
  : ['gman', 'lapgan', 'cyclegan', 'stargan'].filter((m) => m in recipes);

/**
 * Tiny runs for the training page: widths at 4 (hidden units 16, codes 8), two discriminators or
 * generators where a model has several, no warm-up or pretraining phases, batch 4 (2 for
 * image-to-image), MNIST models at 16 px. The page ignores options a model does not have.
 */
function tinyParams(model: string): Record<string, string> {
  const mnist = runDefaults(model).dataset === 'mnist';
  return {
    fresh: '1',
    autosave: '0',
    sampleEvery: '1',
    samples: '16',
    walk: '4',
    ngf: '4',
    ndf: '4',
    nf: '4',
    ngf2: '4',
    ndf2: '4',
    cw: '4',
    nh: '16',
    ngh: '16',
    ndh: '16',
    nz: '8',
    code: '8',
    n: '2',
    k: '2',
    pretrain: '0',
    'warmup-steps': '0',
    'labelled-batch': '4',
    'text-steps': '1',
    'stage1-steps': '1',
    'g-conv-dim': '4',
    'd-conv-dim': '4',
    'g-repeat-num': '1',
    'n-critic': '1',
    batch: mnist ? '4' : '2',
    ...(mnist ? { size: '16' } : {}),
  };
}

interface DemoState {
  ready: boolean;
  model: string;
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
      model: d.model,
      step: d.step,
      running: d.running,
      deviceLost: d.deviceLost,
      stats: d.lastStats,
      spread: d.samplesSpread(),
      status: document.getElementById('status')!.textContent ?? '',
      controlsEnabled: !(document.getElementById('btn-toggle') as HTMLButtonElement).disabled,
    };
  });

/**
 * Pauses a training page: waits for the Pause button to be enabled, clicks it through the DOM (a
 * mouse click at its coordinates can miss while the page lays itself out as steps finish and stats
 * rows, charts and notices appear), and checks that the button left its running state, clicking
 * again if a click was lost. idleAt() then waits for the step in flight to finish.
 */
async function pauseTraining(page: Page): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.waitForFunction(() => {
      const b = document.getElementById('btn-toggle') as HTMLButtonElement | null;
      return !!b && !b.disabled && (b.dataset.state === 'running' || b.dataset.state === 'paused');
    }, WAIT);
    const state = await page.$eval('#btn-toggle', (b) => {
      if ((b as HTMLButtonElement).dataset.state === 'running') (b as HTMLButtonElement).click();
      return (b as HTMLButtonElement).dataset.state;
    });
    if (state !== 'running') return; // pausing or already paused
  }
  throw new Error('pauseTraining: the Pause button stayed in its running state after 3 clicks');
}

/** Waits until the page is idle (not training, controls enabled) with the step counter at `step` (any when undefined). */
async function idleAt(page: Page, step?: number): Promise<DemoState> {
  await page.waitForFunction(
    (want) => {
      const d = window.__demo;
      const toggle = document.getElementById('btn-toggle') as HTMLButtonElement | null;
      return (
        !!d &&
        d.ready &&
        !d.running &&
        !!toggle &&
        !toggle.disabled &&
        toggle.textContent === 'Resume' &&
        (want === null || d.step === want)
      );
    },
    WAIT,
    step ?? null,
  );
  return demoState(page);
}

/** Every stat the step returned is finite (and `keys`, when given, are among them). */
function expectFiniteStats(s: DemoState, keys: string[] = []): void {
  expect(s.stats, `${s.model}: no training statistics`).not.toBeNull();
  expect(Object.keys(s.stats!).length, `${s.model}: empty statistics`).toBeGreaterThan(0);
  for (const k of keys) expect(s.stats!, `${s.model}: no '${k}'`).toHaveProperty(k);
  for (const [k, v] of Object.entries(s.stats!)) expect(Number.isFinite(v), `${s.model}: ${k} = ${v}`).toBe(true);
}

/** Clicks a button and waits for the status line to match. */
async function clickFor(page: Page, selector: string, status: RegExp): Promise<void> {
  await page.click(selector);
  await page.waitForFunction((src) => new RegExp(src).test(document.getElementById('status')!.textContent ?? ''), WAIT, status.source);
}

/**
 * CycleGAN's A/B flip while a step runs (issue 16; was tests/browser/alive.test.ts's own CycleGAN
 * page): the button answers at once ("after this step"), the flip applies when the step ends, and
 * training goes on without a pause.
 */
async function flipDuringStep(page: Page): Promise<void> {
  await page.waitForFunction(() => window.__demo?.progress.at(-1)?.phase === 'done' && window.__demo.running, WAIT);
  const flip = await page.evaluate(() => {
    const b = document.getElementById('btn-direction') as HTMLButtonElement;
    b.click();
    return {
      text: b.textContent,
      pending: b.dataset.pending ?? null,
      showing: b.dataset.showing,
      queued: window.__demo!.queued,
      running: window.__demo!.running,
      disabled: b.disabled,
    };
  });
  expect(flip).toMatchObject({
    text: 'Show A → B',
    pending: 'after this step',
    showing: 'BtoA',
    queued: 1,
    running: true,
    disabled: false,
  });
  await page.waitForFunction(
    () => window.__demo!.queued === 0 && /^showing B → A/.test(document.getElementById('status')!.textContent ?? ''),
    WAIT,
  );
  expect(await page.$eval('#btn-direction', (b) => (b as HTMLElement).dataset.pending ?? null)).toBeNull();
  expect(await page.evaluate(() => window.__demo!.running)).toBe(true); // the flip did not pause the loop
}

const DCGAN_STATS = ['lossD', 'lossG', 'D_x', 'D_G_z1', 'D_G_z2'];

function expectClean(log: PageLog): void {
  expect(log.problems()).toEqual([]);
}

const inCI = !!process.env.CI && !['0', 'false'].includes(process.env.CI.toLowerCase());
const skip = !chromiumAvailable() && !inCI;
if (skip) console.warn(`demos browser suite SKIPPED: ${CHROMIUM_PATH} not found (run scripts/setup.sh; with CI set this fails instead)`);

describe.skipIf(skip)('demo pages in Chromium', () => {
  let browser: Browser | undefined;
  let server: StaticServer | undefined;
  let downloads = '';
  let savedStep = -1;

  beforeAll(async () => {
    if (!chromiumAvailable()) throw new Error(`${CHROMIUM_PATH} not found: install Chromium (scripts/setup.sh)`);
    // DEMOS_SKIP_BUILD=1 reuses an existing dist/demos (reruns, or a machine without the dev tools).
    if (!process.env.DEMOS_SKIP_BUILD) {
      // The demos target writes the data too (demos/prepare-data.mjs).
      execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs'), 'demos'], { cwd: REPO_ROOT, stdio: 'inherit' });
    }
    for (const f of [
      'index.html',
      'gallery/main.js',
      'dcgan/main.js',
      'dcgan/main.css',
      'train/main.js',
      'draw/main.js',
      'inspector/main.js',
      'data/mnist-train-8k.u8',
      'data/index.json',
    ]) {
      if (!existsSync(path.join(DEMOS_DIR, f))) throw new Error(`dist/demos/${f} missing after the build`);
    }
    // DEMOS_CHROMIUM_ARGS adds flags, e.g. to run the pages on a real GPU's Vulkan driver.
    const chromiumArgs = (process.env.DEMOS_CHROMIUM_ARGS ?? '').split(/\s+/).filter(Boolean);
    ({ server, browser, downloads } = await startSite(DEMOS_DIR, chromiumArgs, 'gan-demo-downloads-'));
  });

  afterAll(() => closeSite({ browser, server, downloads }));

  it('DCGAN page trains, plots, and saves, reloads and restores checkpoints', async () => {
    const url = `${server!.url}dcgan/?${TINY}`;
    const { page, log } = await openPage(browser!, `${url}&fresh=1`);
    try {
      // Trains on load; let it take a few steps, then pause.
      await page.waitForFunction(() => (window.__demo?.step ?? 0) >= 3, WAIT);
      await pauseTraining(page);
      let s = await idleAt(page);
      expect(s.step).toBeGreaterThanOrEqual(3);
      expectFiniteStats(s, DCGAN_STATS);
      expect(s.spread, 'sample grid is blank').toBeGreaterThan(1);
      const shown = await page.$eval('#stat-lossD', (e) => Number(e.textContent));
      expect(Number.isFinite(shown)).toBe(true);
      expect(await page.$$eval('#plot-bce-losses canvas, #plot-discriminator-outputs canvas', (c) => c.length)).toBeGreaterThanOrEqual(2);
      expect(await page.$eval('#latent', (c) => (c as HTMLCanvasElement).width)).toBeGreaterThan(1);
      expect(await page.$eval('#adapter', (e) => e.textContent)).toMatch(/\[browser\]/);

      // Learning rate control.
      await page.$eval('#lr', (e) => ((e as HTMLInputElement).value = '0.0001'));
      await page.click('#btn-lr');
      await page.waitForFunction(() => /learning rate 0\.0001/.test(document.getElementById('status')!.textContent ?? ''), WAIT);

      // Save in IndexedDB.
      savedStep = s.step;
      await page.click('#btn-save-idb');
      await page.waitForFunction(
        (n) => document.getElementById('status')!.textContent === `saved step ${n} in this browser (IndexedDB)`,
        WAIT,
        savedStep,
      );
      await screenshot(page, 'demo-dcgan');

      // Download a .safetensors checkpoint of the same step.
      await page.click('#btn-download');
      await page.waitForFunction(() => /^downloaded /.test(document.getElementById('status')!.textContent ?? ''), WAIT);
      const file = await waitForDownload(downloads, `dcgan-mnist16-step${savedStep}.safetensors`);

      // Reload: the page restores the saved checkpoint by itself.
      await page.goto(`${url}&autostart=0`, { waitUntil: 'load', timeout: WAIT.timeout });
      s = await idleAt(page, savedStep);
      expect(await page.$eval('#restored-note', (e) => !e.classList.contains('hidden') && /step \d+/.test(e.textContent ?? ''))).toBe(true);
      expect(await page.$eval('#stat-step', (e) => e.textContent)).toBe(String(savedStep));
      expect(await page.$eval('#lr', (e) => Number((e as HTMLInputElement).value))).toBeCloseTo(1e-4, 10);
      expectFiniteStats(s, DCGAN_STATS); // the plotted history came back with the checkpoint
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
      expectFiniteStats(s, DCGAN_STATS);

      // A lost device: the banner offers to resume from the last checkpoint (the upload, savedStep).
      await page.evaluate(() => window.__demo!.loseDevice());
      await page.waitForFunction(
        () => window.__demo!.deviceLost && !document.getElementById('lost-banner')!.classList.contains('hidden'),
        WAIT,
      );
      expect(await page.$eval('#btn-recover', (e) => e.textContent)).toBe(`Resume from step ${savedStep}`);
      await screenshot(page, 'demo-dcgan-device-lost');
      await page.click('#btn-recover');
      await page.waitForFunction((n) => !window.__demo!.deviceLost && window.__demo!.step > n, WAIT, savedStep);
      await pauseTraining(page);
      s = await idleAt(page);
      expectFiniteStats(s, DCGAN_STATS);
      expect(s.spread).toBeGreaterThan(1);
      expectClean(log);
    } finally {
      await page.close();
    }
  });

  it(`training page trains ${TRAIN_PAGE_MODELS.join(', ')} in one tab, switching in place`, async () => {
    const first = TRAIN_PAGE_MODELS[0];
    const { page, log } = await openPage(browser!, `${server!.url}train/?model=${first}&${new URLSearchParams(tinyParams(first))}`);
    try {
      for (const model of TRAIN_PAGE_MODELS) {
        const t0 = Date.now();
        if (model !== first) await page.evaluate((m, p) => window.__demo!.switchModel(m, p), model, tinyParams(model));
        await page.waitForFunction((m) => window.__demo?.model === m && window.__demo.ready && window.__demo.step >= 2, LONG_WAIT, model);
        if (model === 'cyclegan') await flipDuringStep(page);
        await pauseTraining(page);
        const s = await idleAt(page);
        expect(s.model).toBe(model);
        expectFiniteStats(s);
        expect(s.spread, `${model}: sample grid is blank`).toBeGreaterThan(1);
        expect(await page.$$eval('.chart canvas', (c) => c.length), `${model}: no charts`).toBeGreaterThan(0);
        expect(await page.$eval('#title', (e) => e.textContent)).toMatch(/trained in this tab/);
        console.log(`training page: ${model} ready and 2 steps in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

        if (model === 'cyclegan') {
          // Held-out scores are charted; the other generator's direction (flipped during a step above) draws too,
          // and a flip while paused applies at once.
          expect(await page.$$eval('#plot-held-out-l1 canvas, #plot-held-out-psnr-db canvas', (c) => c.length)).toBeGreaterThanOrEqual(2);
          expect(await page.$eval('#btn-direction', (b) => (b as HTMLElement).dataset.showing)).toBe('BtoA');
          expect(await page.evaluate(() => window.__demo!.samplesSpread())).toBeGreaterThan(1);
          await clickFor(page, '#btn-direction', /^showing A → B/);
          expect(await page.evaluate(() => window.__demo!.samplesSpread())).toBeGreaterThan(1);
          await screenshot(page, 'demo-train-cyclegan');

          // Checkpoints: IndexedDB round trip, then a download uploaded back, then a step.
          const step = s.step;
          await clickFor(page, '#btn-save-idb', new RegExp(`^saved step ${step} in this browser`));
          await page.click('#btn-reset');
          await idleAt(page, 0);
          await page.click('#btn-load-idb');
          expect((await idleAt(page, step)).status).toMatch(new RegExp(`^restored step ${step} from this browser`));
          await clickFor(page, '#btn-download', /^downloaded /);
          const file = await waitForDownload(downloads, `cyclegan-emoji-unpaired32-step${step}.safetensors`);
          await page.click('#btn-reset');
          await idleAt(page, 0);
          await ((await page.$('#upload')) as ElementHandle<HTMLInputElement>).uploadFile(file);
          expect((await idleAt(page, step)).status).toBe(`restored step ${step} from ${path.basename(file)}`);
          await page.click('#btn-step');
          expectFiniteStats(await idleAt(page, step + 1));
        }
        if (model === 'lapgan') {
          // The pyramid walk: every picture of every level drawn (coarse image; expanded coarser
          // image, band and sum per level); the level buttons show the chain down to the level picked.
          // Two steps in, the tiny coarse MLP's images are nearly flat grey (spread ~0.5 of 255), so
          // those (and their expansion) only have to differ from a blank canvas; bands are stretched.
          const spread = (id: string) => page.evaluate((i) => window.__demo!.spread(i), id);
          for (const id of ['pyr-image-2', 'pyr-up-1']) expect(await spread(id), `${id} is blank`).toBeGreaterThan(0);
          for (const id of ['pyr-band-1', 'pyr-image-1', 'pyr-up-0', 'pyr-band-0', 'pyr-image-0'])
            expect(await spread(id), `${id} is blank`).toBeGreaterThan(1);
          const shown = () =>
            page.$$eval('#pyr-rows .pyr-row', (rs) =>
              rs.filter((r) => !r.classList.contains('hidden')).map((r) => (r as HTMLElement).dataset.level),
            );
          expect(await shown()).toEqual(['2', '1', '0']);
          await page.click('#pyr-walk button[data-level="2"]');
          expect(await shown()).toEqual(['2']);
          await page.click('#pyr-walk button[data-level="1"]');
          expect(await shown()).toEqual(['2', '1']);
          expect(await page.$eval('#pyr-walk button[data-level="1"]', (b) => b.getAttribute('aria-pressed'))).toBe('true');
          await page.click('#pyr-walk button[data-level="0"]');
          // New noise: other codes, other pictures.
          const pixels = () => page.$eval('#pyr-image-0', (c) => (c as HTMLCanvasElement).toDataURL());
          const before = await pixels();
          await clickFor(page, '#btn-pyr-noise', /^new codes for the pyramid walk/);
          expect(await pixels()).not.toBe(before);
          await screenshotElement(page, '#panel-pyramid', 'demo-train-lapgan-pyramid');
          console.log(`training page: lapgan pyramid walk checked in ${((Date.now() - t0) / 1000).toFixed(1)} s from the switch`);
        }
        if (model === 'stargan') {
          await clickFor(page, '#panel-domains button[data-domain="3"]', /^translated into /);
          expect(await page.evaluate(() => window.__demo!.spread('domains')), 'domain picker grid is blank').toBeGreaterThan(1);
          await screenshot(page, 'demo-train-stargan');
        }
      }
      expectClean(log);
    } finally {
      await page.close();
    }
  }, 1_200_000);

  it('draw page: pix2pix trains on edges -> emoji and a stroke changes its output', async () => {
    const { page, log } = await openPage(browser!, `${server!.url}draw/?ngf=4&ndf=4&batch=2&samples=8&sampleEvery=1&autosave=0&fresh=1`);
    try {
      await page.waitForFunction(() => (window.__demo?.step ?? 0) >= 2, LONG_WAIT);
      await pauseTraining(page);
      const s = await idleAt(page);
      expectFiniteStats(s, ['loss_G_GAN', 'loss_G_L1', 'loss_D_real', 'loss_D_fake']);
      expect(s.spread, 'held-out grid is blank').toBeGreaterThan(1);
      const checksum = () => page.$eval('#sketch-output', (c) => (c as HTMLCanvasElement).dataset.checksum ?? '');
      await page.waitForFunction((n) => document.getElementById('sketch-output')!.dataset.step === String(n), WAIT, s.step);
      const before = await checksum();
      expect(before).not.toBe('');
      // A stroke across the pad, as a mouse would draw it, scrolled into view first as a person
      // would (the weights line and the software-adapter notice can push the pad below the fold).
      await page.$eval('#sketch', (el) => el.scrollIntoView({ block: 'center' }));
      const box = (await (await page.$('#sketch'))!.boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.5);
      await page.mouse.down();
      for (let i = 1; i <= 8; i++) await page.mouse.move(box.x + box.width * (0.2 + 0.075 * i), box.y + box.height * (0.5 - 0.03 * i));
      await page.mouse.up();
      await page.waitForFunction((b) => (document.getElementById('sketch-output')!.dataset.checksum ?? b) !== b, WAIT, before);
      const _afterStroke = await checksum();
      // "Clear" empties the pad and the output (white until the next stroke).
      await page.click('#btn-clear');
      await page.waitForFunction(() => document.getElementById('sketch-output')!.dataset.blank === '1', WAIT);
      expect(await page.evaluate(() => window.__demo!.spread('sketch-output'))).toBe(0);
      await page.click('#btn-example');
      await page.waitForFunction(() => /^example: edges of /.test(document.getElementById('sketch-name')!.textContent ?? ''), WAIT);
      await screenshot(page, 'demo-draw');
      expectClean(log);
    } finally {
      await page.close();
    }
  }, 600_000);

  it('inspector lists every dispatch of a DCGAN step with its WGSL', async () => {
    const { page, log } = await openPage(browser!, `${server!.url}inspector/?model=dcgan&size=16&nz=16&ngf=4&ndf=4&batch=4`);
    try {
      await page.setViewport({ width: 1280, height: 900 });
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
      // The dispatch table fits its panel at 1280 px, no clipped columns (was tests/browser/alive.test.ts's own inspector run).
      const table = await page.evaluate(() => {
        const box = document.getElementById('dispatches')!.parentElement!;
        return { scroll: box.scrollWidth, client: box.clientWidth };
      });
      expect(table.scroll).toBeLessThanOrEqual(table.client + 1);
      console.log(`inspector: ${r.n} dispatches, ${r.ops.length} ops, GPU timestamps ${r.timed ? 'on' : 'off'}`);
      await screenshot(page, 'demo-inspector');
      expectClean(log);
    } finally {
      await page.close();
    }
  });

  it("gallery lists all 15 architectures in the registry's order, each live, thumbnails drawn as they come into view", async () => {
    const { page, log } = await openPage(browser!, server!.url);
    try {
      await page.waitForFunction(() => document.body.dataset.ready === 'true', WAIT);
      const cards = await page.$$eval('.card', (cs) =>
        cs.map((c) => ({
          name: (c as HTMLElement).dataset.arch,
          status: (c as HTMLElement).dataset.status,
          paper: c.querySelector('.paper a')?.getAttribute('href'),
          summary: c.querySelector('.summary')?.textContent ?? '',
          thumb: (c.querySelector('.thumb') as HTMLElement).dataset.state ?? '',
          train: c.querySelector('a.train-link')?.getAttribute('href') ?? null,
        })),
      );
      expect(cards.map((c) => c.name)).toEqual(ARCHITECTURES.map((a) => a.name));
      expect(cards).toHaveLength(15);
      // The 2-D game page is linked from the gallery's own text, not only from the navigation.
      expect(await page.$eval('#game-link a', (a) => a.getAttribute('href'))).toBe('./game/');
      expect(cards.filter((c) => !/^https:\/\/(arxiv\.org\/abs\/\d{4}\.\d{5}|doi\.org\/10\.\d+\/\S+)$/.test(c.paper ?? ''))).toEqual([]);
      expect(cards.filter((c) => c.summary.length < 20)).toEqual([]);
      expect(ARCHITECTURES.map((a) => a.key)).toEqual(Object.keys(recipes));
      for (const a of ARCHITECTURES) {
        const c = cards.find((x) => x.name === a.name)!;
        expect(c.status, a.name).toBe('live');
        expect(c.thumb, `${a.name}: thumbnail`).toMatch(/^(waiting|sampling|drawn)$/);
        expect(c.train, a.name).toBe(a.page ? `./${a.page}/` : `./train/?model=${a.key}`);
      }
      // Thumbnails are drawn as cards come into view: DCGAN's and the Autoencoder's are on the first
      // screen; CycleGAN's after scrolling to it. DCGAN's and CycleGAN's come from the checkpoints
      // the tests above saved in this profile's IndexedDB, the Autoencoder's from fresh weights.
      const drawn = (name: string) =>
        page.waitForFunction(
          (n) => document.querySelector<HTMLElement>(`.card[data-arch="${n}"] .thumb`)!.dataset.state === 'drawn',
          WAIT,
          name,
        );
      await drawn('DCGAN');
      await drawn('Autoencoder');
      await page.$eval('.card[data-arch="CycleGAN"]', (c) => c.scrollIntoView({ block: 'center' }));
      await drawn('CycleGAN');
      // A model with shipped weights (zoo/, the site's zoo/index.json) shows their grid instead.
      const zoo = JSON.parse(readFileSync(path.join(DEMOS_DIR, 'zoo', 'index.json'), 'utf8')) as {
        models: Record<string, { step: number }>;
      };
      const shippedStep = (name: string) => zoo.models[ARCHITECTURES.find((a) => a.name === name)!.key]?.step;
      for (const name of ['DCGAN', 'CycleGAN']) {
        expect(await page.$eval(`.card[data-arch="${name}"] .thumb`, (t) => t.textContent), name).toMatch(
          shippedStep(name) === undefined ? /trained in this browser: step \d+/ : `trained: step ${shippedStep(name)}`,
        );
      }
      expect(await page.$eval('.card[data-arch="Autoencoder"] .thumb', (t) => t.textContent)).toMatch(
        shippedStep('Autoencoder') === undefined ? /freshly initialised weights/ : /trained: step \d+/,
      );
      expect(await page.$$eval('.thumb[data-state="failed"]', (t) => t.map((x) => x.textContent))).toEqual([]);
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
    const page = await newPageWithoutWebGPU(browser!);
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    try {
      for (const p of ['', 'dcgan/?autostart=0', 'train/?model=cyclegan&autostart=0', 'draw/?autostart=0', 'inspector/']) {
        await page.goto(`${server!.url}${p}`, { waitUntil: 'load', timeout: WAIT.timeout });
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
