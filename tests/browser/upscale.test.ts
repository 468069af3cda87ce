// The super-resolution page (demos/upscale/) in headless Chromium, WebGPU on SwiftShader, built
// alone by `node scripts/build.mjs upscale-page` (the page, its UpscalerJS model files and emoji)
// and served by scripts/serve.mjs, against the `gan upscale` CLI (Dawn on lavapipe) on the same
// file: a 32x32 PNG (emoji 1f600 halved with the page's own 2x2 box filter) uploaded through the
// page's file input, default-model x2. The page's engine output must equal the CLI's PNG (each
// 8-bit sample within 1: two different software GPUs round a few .5 values differently), the page's
// tfjs-webgpu output must match its engine output (max relative error < 1e-4), the kernel inspector
// panel must list the forward pass's dispatches, and nothing may fail on the page.
// UPSCALE_PAGE_SKIP_BUILD=1 serves an existing dist/upscale-page.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, ElementHandle } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type StaticServer } from '../../scripts/serve.mjs';
import { readPng, writePng } from '../../data/png_node';
import { halveImage } from '../../pretrained/upscale';
import { buildPrivateCli } from '../support/cli_bundle';
import { CHROMIUM_PATH, REPO_ROOT, chromiumAvailable, launchBrowser, openPage, screenshot } from './harness';

const PAGE_ROOT = path.join(REPO_ROOT, 'dist', 'upscale-page');
const WAIT = { timeout: 240_000, polling: 250 };
const inCI = !!process.env.CI && !['0', 'false'].includes(process.env.CI.toLowerCase());
const skip = !chromiumAvailable() && !inCI;
if (skip) console.warn(`upscale page suite SKIPPED: ${CHROMIUM_PATH} not found (run scripts/setup.sh; with CI set this fails instead)`);

describe.skipIf(skip)('super-resolution page in Chromium vs the CLI', () => {
  let browser: Browser | undefined;
  let server: StaticServer | undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gan-upscale-'));
  const input = path.join(dir, 'emoji32.png');
  const cliOut = path.join(dir, 'cli.png');

  beforeAll(async () => {
    if (!process.env.UPSCALE_PAGE_SKIP_BUILD) {
      execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs'), 'upscale-page'], { cwd: REPO_ROOT, stdio: 'inherit' });
    }
    for (const f of [
      'upscale/index.html',
      'upscale/main.js',
      'shared/style.css',
      'upscalerjs/index.json',
      'upscalerjs/default-model/models/model.json',
      'upscale/emoji/1f600.png',
    ]) {
      if (!existsSync(path.join(PAGE_ROOT, f)))
        throw new Error(`dist/upscale-page/${f} missing: run \`node scripts/build.mjs upscale-page\``);
    }
    // The input file and the CLI's output (Node, Dawn).
    const small = halveImage(readPng(path.join(REPO_ROOT, 'node_modules/emoji-datasource-google/img/google/64/1f600.png')));
    writePng(input, new Uint8Array(small.data), small.width, small.height, 3);
    const cli = await buildPrivateCli('upscale');
    execFileSync(process.execPath, [cli, 'upscale', input, '--model', 'default-model', '--scale', '2', '--out', cliOut], {
      cwd: REPO_ROOT,
      stdio: 'pipe',
      env: { ...process.env, NODEVICE_SELECT: '1' },
      timeout: 180_000,
    });
    server = await startServer(PAGE_ROOT, 0);
    browser = await launchBrowser();
    // The CLI run above may take its own 180 s (cold shader cache, beside the Node suite in npm test),
    // more than the config's 120 s per hook.
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the page upscales an uploaded PNG as `gan upscale` does, and matches tfjs-webgpu', async () => {
    const { page, log } = await openPage(browser!, `${server!.url}upscale/?model=default-model&scale=2&size=full&autorun=1&upload=1`);
    try {
      await page.waitForFunction(() => ['idle', 'error'].includes(window.__upscale?.state ?? ''), WAIT);
      expect(await page.evaluate(() => window.__upscale!.error)).toBeNull();
      expect(await page.evaluate(() => window.__upscale!.available)).toEqual(
        expect.arrayContaining(['default-model', 'esrgan-slim', 'esrgan-medium']),
      );
      const fileInput = (await page.$('#file')) as ElementHandle<HTMLInputElement>;
      await fileInput.uploadFile(input);
      await page.waitForFunction(
        () =>
          (['done', 'error'].includes(window.__upscale?.state ?? '') && window.__upscale?.result !== null) ||
          window.__upscale?.state === 'error',
        WAIT,
      );
      const s = await page.evaluate(() => ({ ...window.__upscale!, rows: document.querySelectorAll('#dispatches tbody tr').length }));
      expect(s.error).toBeNull();
      expect(s.state).toBe('done');
      const r = s.result!;
      expect([r.model, r.scale, r.inputSize, r.width, r.height]).toEqual(['default-model', 2, [32, 32], 64, 64]);
      expect(r.maxRelErr).not.toBeNull();
      expect(r.maxRelErr!).toBeLessThan(1e-4);
      expect(r.dispatches).toBeGreaterThanOrEqual(12); // 12 convolutions at least
      expect(s.rows).toBe(r.dispatches);

      const png = readPng(cliOut);
      expect([png.width, png.height, png.channels]).toEqual([64, 64, 3]);
      let maxDiff = 0;
      let differing = 0;
      for (let i = 0; i < 64 * 64; i++)
        for (let c = 0; c < 3; c++) {
          const d = Math.abs(png.data[3 * i + c] - r.engineRgba[4 * i + c]);
          maxDiff = Math.max(maxDiff, d);
          if (d) differing++;
        }
      console.log(
        `page (SwiftShader) vs CLI (lavapipe), default-model x2 on 32x32: max sample difference ${maxDiff}, ` +
          `${differing} of ${64 * 64 * 3} samples differ; page engine vs tfjs max rel err ${r.maxRelErr!.toExponential(2)}; ${r.dispatches} dispatches`,
      );
      expect(maxDiff).toBeLessThanOrEqual(1);
      expect(differing).toBeLessThan(64 * 64 * 3 * 0.01);
      await screenshot(page, 'upscale-page');
      expect(log.problems()).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
