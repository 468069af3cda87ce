// The pages start from the trained weights shipped with the project (zoo/<model>/, issue 15), in
// headless Chromium (WebGPU on SwiftShader), against the engine in Node (Dawn) on the same files:
//   - DCGAN page (the repository's zoo/dcgan): with no URL options and a fresh browser profile it
//     loads the shipped run, says "trained: step N of M" (N from the served manifest) with a link to
//     the card, does not start training by itself, and its sample grid is what the same weights
//     generate in Node from the page's fixed latent codes (8-bit pixels within 2 levels; the same
//     comparison against untrained weights must fail by far); "Untrained" is one click away, and
//     "Trained weights" brings them back.
//   - draw page with a pix2pix written by this test (a tiny 32-px U-Net, ngf 4, seeded, exported
//     by scripts/zoo.mjs as float16 like the real zoo): the example sketch (the first held-out edge
//     map) turns into an image within a threshold of what the CLI's code makes of it: the shipped
//     file read by cli/checkpoint_io.ts, translated by the recipe's translate hook (as `gan eval`).
//     Both on the page's own input (exact comparison of the two engines) and on the CLI's held-out
//     input (the page's input is that map through 8-bit storage and the canvas).
//   - gallery: DCGAN's card shows the shipped grid, marked trained; the test's pix2pix, shipped
//     without a grid.png, is sampled in the tab from its shipped weights and marked trained too.
// The site is built as `npm run demo` builds it (unless DEMOS_SKIP_BUILD), then its zoo/ is
// rebuilt by scripts/demo-zoo.mjs from a temporary zoo: the repository's zoo/dcgan plus the test's
// pix2pix (so the draw page is tested whether or not the real pix2pix has landed); afterAll puts
// the real one back, as the demos build writes it (npm test builds the pages once for every file).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type StaticServer } from '../../scripts/serve.mjs';
import { buildZooSite, defaultZooDir } from '../../scripts/demo-zoo.mjs';
// @ts-expect-error: a plain ES module script without type declarations
import { exportWeights, readSafetensors, writeSafetensors } from '../../scripts/zoo.mjs';
import { initEngine } from '../../engine/device';
import { tensor, tidy, type Tensor } from '../../engine/tensor';
import { Generator } from '../../engine/ops/random';
import { makeGrid } from '../../data/grid';
import { getRecipe, type GanTrainer, type ModelConfig } from '../../nets/registry';
import { translationHooks } from '../../nets/lib/translation';
import { loadRunCheckpoint, restoreTrainer, saveRunCheckpoint } from '../../cli/checkpoint_io';
import '../../cli/heldout';
import { SKETCH_RUN } from '../../demos/shared/models';
import type { ZooManifest } from '../../demos/shared/zoo';
import { CHROMIUM_PATH, DEMOS_DIR, REPO_ROOT, chromiumAvailable, launchBrowser, openPage, screenshot } from './harness';

const WAIT = { timeout: 240_000, polling: 250 };
const inCI = !!process.env.CI && !['0', 'false'].includes(process.env.CI.toLowerCase());
const skip = !chromiumAvailable() && !inCI;
if (skip) console.warn(`trained-weights page suite SKIPPED: ${CHROMIUM_PATH} not found (with CI set this fails instead)`);

/** The generative model whose real shipped weights the test uses, and the translation model it writes a fixture of. */
const GEN_MODEL = 'dcgan';
const SKETCH_MODEL = SKETCH_RUN.model;
const FIXTURE_STEP = 7;
const FIXTURE_SEED = 4242;

async function read(fn: () => Tensor): Promise<Float32Array> {
  const t = tidy(fn);
  try {
    return await t.data();
  } finally {
    t.dispose();
  }
}

function dispose(t: GanTrainer): void {
  for (const m of Object.values(t.nets)) m.dispose();
  for (const o of Object.values(t.optimizers)) o.dispose();
}

/** A trainer with the networks of a zoo file, read as `gan sample --pretrained` / `gan eval --pretrained` read it. */
async function cliTrainer(file: string): Promise<GanTrainer> {
  const ck = await loadRunCheckpoint('test', file);
  const recipe = getRecipe(ck.info.model)!;
  const trainer = recipe.create(ck.info.config, { ...recipe.train, ...ck.info.settings }, ck.info.seed);
  restoreTrainer('test', file, ck, trainer, false);
  return trainer;
}

/** The test's pix2pix in `zoo/<model>/`: a seeded 32-px U-Net at width 4, exported as the zoo exports runs. */
async function writeSketchFixture(zoo: string, tmp: string): Promise<void> {
  const recipe = getRecipe(SKETCH_MODEL)!;
  const defaults: ModelConfig = {};
  for (const [k, o] of Object.entries(recipe.options)) if (o.default !== undefined) defaults[k] = o.default;
  const config: ModelConfig = { ...defaults, ...SKETCH_RUN.config, ngf: 4, ndf: 4 };
  const settings = { ...recipe.train, batch: 2, lr: 2e-4, dataset: SKETCH_RUN.dataset, steps: 3000 };
  const trainer = recipe.create(config, settings, FIXTURE_SEED);
  const ckpt = path.join(tmp, 'checkpoint.safetensors');
  try {
    await saveRunCheckpoint(ckpt, trainer, {
      model: SKETCH_MODEL,
      config,
      settings,
      seed: FIXTURE_SEED,
      step: FIXTURE_STEP,
      loader: null,
      dataset: SKETCH_RUN.dataset,
      limit: 0,
    });
  } finally {
    dispose(trainer);
  }
  // Freshly initialised (N(0, 0.02)), the U-Net's output hardly depends on its input: each conv
  // weight is rescaled to a standard deviation of 1 / sqrt(fan-in), so the image follows the sketch.
  const ck = readSafetensors(ckpt);
  for (const [name, t] of Object.entries(ck.tensors) as [string, { dtype: string; shape: number[]; bytes: Uint8Array }][]) {
    if (!name.startsWith(`${trainer.sampler}.`) || !name.endsWith('weight') || t.shape.length !== 4 || t.dtype !== 'F32') continue;
    const w = new Float32Array(t.bytes.slice().buffer);
    const std = Math.sqrt(w.reduce((a, v) => a + v * v, 0) / w.length);
    const fanIn = name.includes('Transpose') ? t.shape[0] * t.shape[2] * t.shape[3] : t.shape[1] * t.shape[2] * t.shape[3];
    for (let i = 0; i < w.length; i++) w[i] *= 1 / Math.sqrt(fanIn) / std;
    t.bytes = new Uint8Array(w.buffer);
  }
  writeSafetensors(ckpt, ck.tensors, ck.metadata);
  const dir = path.join(zoo, SKETCH_MODEL);
  mkdirSync(dir, { recursive: true });
  exportWeights(ckpt, path.join(dir, `${SKETCH_MODEL}.safetensors`), {
    ship: [trainer.sampler],
    zooMeta: { model: SKETCH_MODEL, step: FIXTURE_STEP, steps: settings.steps, seed: FIXTURE_SEED, preset: 'test fixture' },
  });
  writeFileSync(
    path.join(dir, 'recipe.json'),
    JSON.stringify({ model: SKETCH_MODEL, flags: { steps: settings.steps }, ship: [trainer.sampler] }),
  );
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const meanAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
};

describe.skipIf(skip)('pages start from the shipped trained weights', () => {
  let browser: Browser | undefined;
  let server: StaticServer | undefined;
  let manifest: ZooManifest;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'gan-trained-'));

  beforeAll(async () => {
    const real = path.join(REPO_ROOT, 'zoo', GEN_MODEL);
    if (!existsSync(path.join(real, `${GEN_MODEL}.safetensors`)))
      throw new Error(
        `zoo/${GEN_MODEL}/${GEN_MODEL}.safetensors is missing: this suite needs the shipped ${GEN_MODEL} weights (docs/zoo.md)`,
      );
    if (!process.env.DEMOS_SKIP_BUILD)
      execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs'), 'demos'], { cwd: REPO_ROOT, stdio: 'inherit' });
    await initEngine();
    const zoo = path.join(tmp, 'zoo');
    cpSync(real, path.join(zoo, GEN_MODEL), { recursive: true });
    await writeSketchFixture(zoo, tmp);
    manifest = buildZooSite(zoo, path.join(DEMOS_DIR, 'zoo'));
    server = await startServer(DEMOS_DIR, 0);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(tmp, { recursive: true, force: true });
    buildZooSite(defaultZooDir(), path.join(DEMOS_DIR, 'zoo'));
  });

  it(`the ${GEN_MODEL} page starts from the shipped weights, says so, and generates from them`, async () => {
    const e = manifest.models[GEN_MODEL];
    expect(e, 'manifest entry').toBeTruthy();
    const t0 = Date.now();
    const { page, log } = await openPage(browser!, `${server!.url}${GEN_MODEL}/?samples=16&walk=16&autosave=0`);
    try {
      await page.waitForFunction(() => window.__demo?.ready === true, WAIT);
      console.log(`${GEN_MODEL} page ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      const st = await page.evaluate(() => ({
        weights: window.__demo!.weights,
        step: window.__demo!.step,
        running: window.__demo!.running,
        text: document.getElementById('weights-text')!.textContent ?? '',
        card: (document.getElementById('weights-card') as HTMLAnchorElement | null)?.href ?? '',
        untrainedHidden: document.getElementById('btn-untrained')!.classList.contains('hidden'),
      }));
      expect(st.weights).toMatchObject({ kind: 'trained', step: e.step, shipped: e.step, full: !!e.resume });
      expect(st.step).toBe(e.step);
      expect(st.running, 'trained weights wait for a click before training').toBe(false);
      expect(st.text).toContain(`trained: step ${e.step}${e.steps && e.steps !== e.step ? ` of ${e.steps}` : ''}`);
      expect(st.untrainedHidden).toBe(false);
      // The card link opens the cards page at the model's anchor.
      const card = new URL(st.card);
      expect(card.hash).toBe(`#${GEN_MODEL}`);
      const cards = await (await fetch(card.href)).text();
      expect(cards).toContain(`id="${GEN_MODEL}"`);

      // The grid: the page's fixed codes (seed + 1000003) through the same weights in Node.
      const grid = await page.$eval('#samples', (c) => {
        const cv = c as HTMLCanvasElement;
        const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
        const r: number[] = [];
        for (let i = 0; i < d.length; i += 4) r.push(d[i]);
        return { r, width: cv.width, cols: Number(cv.dataset.cols), cells: Number(cv.dataset.cells) };
      });
      expect(grid.cells).toBe(16);
      const file = path.join(DEMOS_DIR, 'zoo', e.resume ? e.resume.file : e.file);
      const nodeGrid = async (trainer: GanTrainer) => {
        const imgs = await read(() => trainer.generate(trainer.noise(16, new Generator(e.seed + 1_000_003))));
        const size = Number(e.config.imageSize);
        const c = imgs.length / (16 * size * size);
        const g = makeGrid(imgs, 16, c, size, size, { padding: 1, padValue: 0.2, nrow: grid.cols });
        expect(g.width).toBe(grid.width);
        return Array.from({ length: g.width * g.height }, (_, i) => g.data[i * g.channels]);
      };
      const trained = await cliTrainer(file);
      let fresh: GanTrainer | null = null;
      try {
        const want = await nodeGrid(trained);
        const recipe = getRecipe(GEN_MODEL)!;
        fresh = recipe.create(e.config, { ...recipe.train, batch: e.batch, lr: e.lr }, e.seed);
        const untrained = await nodeGrid(fresh);
        const dTrained = maxAbs(grid.r, want);
        const dUntrained = meanAbs(grid.r, untrained);
        console.log(`${GEN_MODEL} grid vs Node: max |diff| ${dTrained} levels (untrained: mean ${dUntrained.toFixed(1)})`);
        expect(dTrained).toBeLessThanOrEqual(2);
        expect(dUntrained).toBeGreaterThan(10);
      } finally {
        dispose(trained);
        if (fresh) dispose(fresh);
      }
      await screenshot(page, 'demo-trained-dcgan');
      console.log(`${GEN_MODEL} compared with Node at ${((Date.now() - t0) / 1000).toFixed(1)} s`);

      // "Untrained" is one click away, and "Trained weights" comes back.
      await page.click('#btn-untrained');
      await page.waitForFunction(() => window.__demo!.weights.kind === 'untrained' && window.__demo!.step === 0, WAIT);
      await page.waitForFunction(() => !(document.getElementById('btn-trained') as HTMLButtonElement).disabled, WAIT);
      expect(await page.$eval('#weights-text', (x) => x.textContent)).toMatch(/untrained.*Trained weights are shipped: trained: step \d+/);
      await page.click('#btn-trained');
      await page.waitForFunction((n) => window.__demo!.weights.kind === 'trained' && window.__demo!.step === n, WAIT, e.step);
      await page.waitForFunction(() => !(document.getElementById('btn-untrained') as HTMLButtonElement).disabled, WAIT);
      expect(log.problems()).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('draw/ turns the example sketch into the image the CLI makes with the same weights', async () => {
    const e = manifest.models[SKETCH_MODEL];
    expect(e).toMatchObject({ step: FIXTURE_STEP, networks: ['netG'] });
    const { page, log } = await openPage(browser!, `${server!.url}draw/?autosave=0&samples=1`);
    try {
      await page.waitForFunction(() => window.__demo?.ready === true && !!window.__sketch, WAIT);
      const st = await page.evaluate(() => ({
        weights: window.__demo!.weights,
        running: window.__demo!.running,
        sketch: { input: Array.from(window.__sketch!.input), output: Array.from(window.__sketch!.output), shape: window.__sketch!.shape },
        name: document.getElementById('sketch-name')!.textContent ?? '',
      }));
      expect(st.weights).toMatchObject({ kind: 'trained', step: FIXTURE_STEP, full: false });
      expect(st.running).toBe(false);
      expect(st.name).toMatch(/^example: edges of /);
      const size = Number(e.config.imageSize);
      expect(st.sketch.shape).toEqual([1, 3, size, size]);

      // The CLI's side: the shipped file as gan eval reads it, the recipe's translate hook, and its held-out input.
      const recipe = getRecipe(SKETCH_MODEL)!;
      const hooks = translationHooks(recipe)!;
      const held = await hooks.heldOutPairs(e.config, { limit: 1, dataset: e.dataset });
      const cliInput = held.inputs.slice(0, 3 * size * size);
      const trainer = await cliTrainer(path.join(DEMOS_DIR, 'zoo', e.file));
      try {
        const onPageInput = await read(() => hooks.translate(trainer, tensor(Float32Array.from(st.sketch.input), [1, 3, size, size])));
        const onCliInput = await read(() => hooks.translate(trainer, tensor(cliInput, [1, 3, size, size])));
        const blank = await read(() => hooks.translate(trainer, tensor(new Float32Array(3 * size * size).fill(1), [1, 3, size, size])));
        const dIn = maxAbs(st.sketch.input, cliInput);
        const dSame = maxAbs(st.sketch.output, onPageInput);
        const dCli = meanAbs(st.sketch.output, onCliInput);
        const dBlank = meanAbs(st.sketch.output, blank);
        const mean = onCliInput.reduce((a, v) => a + v, 0) / onCliInput.length;
        const spread = Math.sqrt(onCliInput.reduce((a, v) => a + (v - mean) ** 2, 0) / onCliInput.length);
        console.log(
          `draw vs CLI (output std ${spread.toFixed(3)}): input max |diff| ${dIn.toFixed(4)}, output on the page's input max ${dSame.toExponential(2)}, on the CLI's input mean ${dCli.toExponential(2)} (a blank pad: mean ${dBlank.toFixed(3)})`,
        );
        // 8-bit storage of the page's data ((q - 127) / 127) and the canvas (round((v + 1) * 127.5)).
        expect(dIn).toBeLessThan(0.02);
        expect(dSame).toBeLessThan(1e-3);
        expect(dCli).toBeLessThan(0.01);
        // The threshold can fail: a different sketch gives a different image, by far.
        expect(dBlank).toBeGreaterThan(10 * 0.01);
      } finally {
        dispose(trainer);
      }
      await screenshot(page, 'demo-trained-draw');
      expect(log.problems()).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('the gallery shows trained thumbnails: the shipped grid, or samples of the shipped weights', async () => {
    // A window too short for any card: no thumbnail is sampled until a card is scrolled to.
    const { page, log } = await openPage(browser!, server!.url, { viewport: { width: 800, height: 120 } });
    try {
      const sel = `.thumb[data-thumb="${GEN_MODEL}"]`;
      await page.waitForFunction((s) => document.querySelector<HTMLElement>(s)?.dataset.trained === 'shipped', WAIT, sel);
      const t = await page.$eval(sel, (b) => ({ text: b.textContent ?? '', w: b.querySelector('canvas')?.width ?? 0 }));
      expect(t.text).toContain(`trained: step ${manifest.models[GEN_MODEL].step}`);
      expect(t.w).toBeGreaterThan(32);
      // The fixture ships no grid.png: its thumbnail is drawn here from the shipped weights.
      const sketch = `.thumb[data-thumb="${SKETCH_MODEL}"]`;
      await page.$eval(sketch, (b) => b.scrollIntoView({ block: 'center' }));
      await page.waitForFunction((s) => document.querySelector<HTMLElement>(s)?.dataset.state === 'drawn', WAIT, sketch);
      const p = await page.$eval(sketch, (b) => ({ text: b.textContent ?? '', trained: (b as HTMLElement).dataset.trained }));
      expect(p).toEqual({ text: `trained: step ${FIXTURE_STEP} of 3000 (shipped weights, sampled here)`, trained: 'shipped' });
      expect(log.problems()).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
