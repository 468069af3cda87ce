// The 2-D game page (demos/game/) in headless Chromium: the engine's mixture trainers on the
// 8-Gaussian ring with tiny MLPs. After a step (a D update then a G update) the discriminator's heat
// map over the plane changes and the generated points move; GMAN's page offers each of its N
// discriminators and their mean and its loss variants; MAD-GAN's heat map is its k + 1 classes.
// No console errors.
import type { Page } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import { CHROMIUM_PATH, chromiumAvailable, openPage, screenshot, useDemoSite } from './harness';

const WAIT = { timeout: 240_000, polling: 100 };
const inCI = !!process.env.CI && !['0', 'false'].includes(process.env.CI.toLowerCase());
const skip = !chromiumAvailable() && !inCI;
if (skip) console.warn(`game browser suite SKIPPED: ${CHROMIUM_PATH} not found`);

const snapshot = (page: Page) =>
  page.evaluate(() => ({ step: window.__game!.step, heat: [...window.__game!.heat], fakes: [...window.__game!.fakes] }));
const maxDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/**
 * The heat map's reference: sigmoid(D(x)) in float64 on the CPU for every cell centre (40 x 40 over
 * [-1.25, 1.25]^2, row 0 at the top), D as the page's parameters say: Linear layers (weight
 * [out, in], bias [out]) with LeakyReLU(0.2) between them (nets/mlp_gan.ts mlp()).
 */
async function referenceD(page: Page): Promise<(x: number, y: number) => number> {
  const params = await page.evaluate(() => window.__game!.dParams());
  const layers: { w: number[]; b: number[]; out: number; in: number }[] = [];
  for (let i = 0; i < params.length; i += 2) {
    const [w, b] = [params[i], params[i + 1]];
    expect(w.name.endsWith('weight') && b.name.endsWith('bias'), `${w.name}, ${b.name}`).toBe(true);
    layers.push({ w: w.data, b: b.data, out: w.shape[0], in: w.shape[1] });
  }
  return (x, y) => {
    let h = [x, y];
    layers.forEach((l, li) => {
      const o = new Array<number>(l.out).fill(0).map((_, j) => l.b[j] + h.reduce((s, v, k) => s + v * l.w[j * l.in + k], 0));
      h = li < layers.length - 1 ? o.map((v) => (v > 0 ? v : 0.2 * v)) : o;
    });
    return h[0];
  };
}

async function referenceHeat(page: Page): Promise<number[]> {
  const d = await referenceD(page);
  const C = 40;
  const E = 1.25;
  const heat: number[] = [];
  for (let r = 0; r < C; r++)
    for (let c = 0; c < C; c++) heat.push(1 / (1 + Math.exp(-d(-E + ((c + 0.5) * 2 * E) / C, E - ((r + 0.5) * 2 * E) / C))));
  return heat;
}

/** grad_x log sigmoid(D(x)) at each point, by central differences of the float64 forward pass. */
async function referenceArrows(page: Page, points: number[]): Promise<number[]> {
  const d = await referenceD(page);
  const f = (x: number, y: number) => -Math.log1p(Math.exp(-d(x, y)));
  const h = 1e-5;
  const out: number[] = [];
  for (let i = 0; i < points.length; i += 2) {
    const [x, y] = [points[i], points[i + 1]];
    out.push((f(x + h, y) - f(x - h, y)) / (2 * h), (f(x, y + h) - f(x, y - h)) / (2 * h));
  }
  return out;
}

describe.skipIf(skip)('2-D game page', () => {
  const site = useDemoSite();

  it('draws D over the plane, real and generated points; a step changes the heat map and moves the points', async () => {
    const { page, log } = await openPage(site.browser, `${site.url}game/?model=mlp_gan&mixture=ring8&hidden=8&batch=16&lr=0.01`);
    try {
      await page.waitForFunction(() => window.__game?.ready === true, WAIT);
      const before = await snapshot(page);
      expect(before.step).toBe(0);
      expect(before.heat.length).toBe(40 * 40);
      expect(before.fakes.length).toBe(2 * 256);
      // The heat map is D's P(real) at each cell: against a float64 forward pass of the same weights.
      expect(maxDiff(before.heat, await referenceHeat(page))).toBeLessThan(1e-4);
      await page.click('#btn-step');
      await page.waitForFunction(() => window.__game!.step === 1 && document.getElementById('plane-caption')!.dataset.step === '1', WAIT);
      const after = await snapshot(page);
      expect(maxDiff(before.heat, after.heat), 'D changed').toBeGreaterThan(1e-4);
      expect(maxDiff(after.heat, await referenceHeat(page))).toBeLessThan(1e-4);
      // Gradient arrows: the engine's autograd against finite differences of the float64 D.
      const arrows = await page.evaluate(() => [...window.__game!.arrows]);
      const ref = await referenceArrows(page, after.fakes);
      const scale = Math.max(...ref.map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      expect(maxDiff(arrows, ref) / scale).toBeLessThan(1e-3);
      expect(maxDiff(before.fakes, after.fakes), 'G moved its points').toBeGreaterThan(1e-4);
      expect(Number(await page.$eval('#stat-lossD', (e) => e.textContent))).toBeGreaterThan(0);
      await screenshot(page, 'demo-game');

      // GMAN: a view per discriminator and their mean.
      await page.select('#model', 'gman');
      await page.waitForFunction(
        () => document.querySelectorAll('#view option').length > 0 && window.__game!.step === 0 && window.__game!.heat.length === 1600,
        WAIT,
      );
      expect(await page.$$eval('#view option', (o) => o.map((x) => x.textContent))).toEqual(['mean of the N', 'D1', 'D2', 'D3']);
      // Its loss variants, as its recipe declares them; picking one starts a new game that steps.
      expect(await page.$eval('#gman-options', (e) => e.classList.contains('hidden'))).toBe(false);
      expect(await page.$$eval('#objective option', (o) => o.map((x) => (x as HTMLOptionElement).value))).toEqual(['original', 'modified']);
      await page.waitForFunction(() => window.__game!.ready, WAIT);
      await page.select('#objective', 'original');
      await page.waitForFunction(() => window.__game!.ready && window.__game!.step === 0, WAIT);
      await page.click('#btn-step');
      await page.waitForFunction(() => window.__game!.step === 1, WAIT);
      expect(Number.isFinite(Number(await page.$eval('#stat-lossG', (e) => e.textContent)))).toBe(true);
      // MAD-GAN: the winning class of k + 1 per cell (generators 0..k-1, real k).
      await page.select('#model', 'madgan');
      await page.waitForFunction(() => (document.getElementById('status')!.textContent ?? '').startsWith('new game: madgan'), WAIT);
      const mad = await snapshot(page);
      const k = Number(await page.$eval('#k', (e) => (e as HTMLInputElement).value));
      for (const v of mad.heat) expect(v >= 0 && v <= k + 1).toBe(true);
      expect(log.problems()).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
