// The 2-D game page (demos/game/) in headless Chromium: the engine's mixture trainers on the
// 8-Gaussian ring with tiny MLPs, checked by states and pixels, never by time:
//   - the heat map is D's P(real) (against a float64 forward pass of D's weights), the arrows
//     grad_x log D(x) (against central differences); a round changes the heat map and moves the points;
//   - "D step": the button shows its busy state at once (the others disabled), then the heat map
//     changes (values and canvas pixels) while the generated points stay exactly where they were;
//     "G step": the points move while the heat map stays exactly the same;
//   - learning rates apply to the running game's optimisers; steps per side make a round of d D and g G updates;
//   - the "inspect" links open the kernel inspector on the same game's update: a D step's dispatches
//     hold one Adam update (D's), a round's two;
//   - GMAN offers each of its N discriminators and their mean and its loss variants; MAD-GAN's heat
//     map is its k + 1 classes. No console errors.
import type { Page } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import { CHROMIUM_PATH, chromiumAvailable, openPage, screenshot, useDemoSite } from './harness';

const WAIT = { timeout: 240_000, polling: 100 };
const inCI = !!process.env.CI && !['0', 'false'].includes(process.env.CI.toLowerCase());
const skip = !chromiumAvailable() && !inCI;
if (skip) console.warn(`game browser suite SKIPPED: ${CHROMIUM_PATH} not found`);

const snapshot = (page: Page) =>
  page.evaluate(() => ({
    step: window.__game!.step,
    d: window.__game!.dUpdates,
    g: window.__game!.gUpdates,
    draws: window.__game!.draws,
    heat: [...window.__game!.heat],
    fakes: [...window.__game!.fakes],
  }));
/**
 * The plane canvas's pixels that changed since the last call (the first call keeps a capture and
 * returns -1). Compared in the page: a 480 × 480 capture is too large to send back and forth.
 */
const changedPixels = (page: Page) =>
  page.$eval('#plane', (c) => {
    const cv = c as HTMLCanvasElement;
    const now = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
    const w = window as unknown as { __pixels?: Uint8ClampedArray };
    const last = w.__pixels;
    w.__pixels = now;
    if (!last) return -1;
    let n = 0;
    for (let i = 0; i < now.length; i += 4) if (now[i] !== last[i] || now[i + 1] !== last[i + 1] || now[i + 2] !== last[i + 2]) n++;
    return n;
  });

/** Clicks a side's button; returns what the page shows in the same task (before the update runs). */
const clickSide = (page: Page, id: string) =>
  page.evaluate((id) => {
    const b = document.getElementById(id) as HTMLButtonElement;
    b.click();
    const others = ['btn-dstep', 'btn-gstep', 'btn-step'].filter((x) => x !== id);
    return {
      state: b.dataset.state ?? null,
      text: b.textContent,
      othersDisabled: others.every((x) => (document.getElementById(x) as HTMLButtonElement).disabled),
      busy: window.__game!.busy,
      status: document.getElementById('status')!.textContent,
    };
  }, id);
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
      await page.setViewport({ width: 1280, height: 900 });
      await page.waitForFunction(() => window.__game?.ready === true, WAIT);
      // Start-up: messages before the first kernel compiled, kernels counted as the first view compiles them.
      const progress = await page.evaluate(() => [...window.__game!.progress]);
      expect(progress[0]).toMatchObject({ phase: 'start', text: 'starting WebGPU…' });
      const view = progress.filter((e) => e.phase === 'first-view');
      expect(view[0].kernels, 'a message before any kernel compiled').toBe(0);
      expect(view[0].text).toMatch(/^drawing the first view .*: 0 new kernels compiled so far/);
      expect(view.at(-1)!.kernels).toBeGreaterThan(5);
      expect(progress.at(-1)).toMatchObject({ phase: 'ready', text: 'new game: mlp_gan on ring8' });
      const before = await snapshot(page);
      expect(before.step).toBe(0);
      expect(before.heat.length).toBe(40 * 40);
      expect(before.fakes.length).toBe(2 * 256);
      // The heat map is D's P(real) at each cell: against a float64 forward pass of the same weights.
      expect(maxDiff(before.heat, await referenceHeat(page))).toBeLessThan(1e-4);
      await page.click('#btn-step');
      await page.waitForFunction(() => window.__game!.step === 1 && document.getElementById('plane-caption')!.dataset.step === '1', WAIT);
      expect(await page.evaluate(() => window.__game!.progress.at(-1))).toMatchObject({ phase: 'first-step', text: 'first round done' });
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

      // D step: busy at once, then D's heat map changes (values and pixels) and G's points stay put.
      expect(await changedPixels(page)).toBe(-1);
      const d0 = await snapshot(page);
      expect(await clickSide(page, 'btn-dstep')).toEqual({
        state: 'busy',
        text: 'D step…',
        othersDisabled: true,
        busy: 'D',
        status: 'D step: updating D only…',
      });
      await page.waitForFunction((n) => window.__game!.draws > n && window.__game!.busy === null, WAIT, d0.draws);
      const d1 = await snapshot(page);
      expect([d1.step, d1.d, d1.g]).toEqual([d0.step, d0.d + 1, d0.g]);
      expect(maxDiff(d0.heat, d1.heat), 'D changed').toBeGreaterThan(1e-4);
      expect(maxDiff(d1.heat, await referenceHeat(page))).toBeLessThan(1e-4);
      expect(d1.fakes, 'G held: its points did not move').toEqual(d0.fakes);
      expect(await changedPixels(page), 'the heat map was redrawn').toBeGreaterThan(100);
      expect(await page.$eval('#plane-caption', (e) => e.textContent)).toBe(`after ${d1.d} D and ${d1.g} G updates (round ${d1.step})`);

      // G step: the points move, D's heat map stays exactly as it was.
      expect((await clickSide(page, 'btn-gstep')).busy).toBe('G');
      await page.waitForFunction((n) => window.__game!.draws > n && window.__game!.busy === null, WAIT, d1.draws);
      const g1 = await snapshot(page);
      expect([g1.step, g1.d, g1.g]).toEqual([d1.step, d1.d, d1.g + 1]);
      expect(g1.heat, 'D held: its heat map did not change').toEqual(d1.heat);
      expect(maxDiff(d1.fakes, g1.fakes), 'G moved its points').toBeGreaterThan(1e-4);
      expect(await changedPixels(page), 'the points were redrawn').toBeGreaterThan(10);

      // Learning rates apply to this game's optimisers at once (no new game); steps per side shape a round.
      const setBox = (id: string, v: string) =>
        page.evaluate(
          (id, v) => {
            const e = document.getElementById(id) as HTMLInputElement;
            e.value = v;
            e.dispatchEvent(new Event('change'));
          },
          id,
          v,
        );
      await setBox('lr-d', '0.002');
      expect(await page.evaluate(() => window.__game!.rates())).toEqual({ d: [0.002], g: [0.01] });
      await setBox('d-steps', '2');
      await setBox('g-steps', '1');
      expect(await page.$eval('#status', (e) => e.textContent)).toBe('a round: 2 D steps, then 1 G step');
      await page.click('#btn-step');
      await page.waitForFunction((s) => window.__game!.step === s + 1 && window.__game!.busy === null, WAIT, g1.step);
      const r2 = await snapshot(page);
      expect([r2.d, r2.g]).toEqual([g1.d + 2, g1.g + 1]);
      const links = await page.$$eval('#inspect-links a', (a) => a.map((x) => (x as HTMLAnchorElement).href));
      expect(links[0]).toMatch(/inspector\/\?.*mixture=ring8.*model=mlp_gan.*side=round.*dSteps=2&gSteps=1/);
      expect(links.map((l) => new URL(l).searchParams.get('side'))).toEqual(['round', 'D', 'G', 'view']);
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

      // The inspector on this game's D step: Adam updates D's weights only (D: 2 -> 8 -> 8 -> 1 logit;
      // G: 16 -> 8 -> 8 -> 2); then on a round: both networks'.
      await page.goto(links[1], { waitUntil: 'load', timeout: WAIT.timeout });
      await page.waitForFunction(() => window.__inspector?.done === true, WAIT);
      const adamShapes = () =>
        page.evaluate(() => {
          const r = window.__inspector!;
          if (r.error) throw new Error(r.error);
          const shapes = r.result!.dispatches.filter((d) => d.op === 'adam_step').flatMap((d) => d.shapes.map((s) => s?.shape.join('x')));
          return [...new Set(shapes)].filter(Boolean).sort();
        });
      const dShapes = ['1', '1x8', '8', '8x2', '8x8'];
      expect(await adamShapes()).toEqual(dShapes);
      expect(await page.$eval('#model', (e) => (e as HTMLSelectElement).value)).toBe('mlp_gan');
      await page.select('select[title^="what is inspected"]', 'round');
      await page.evaluate(() => {
        const d = document.querySelector('label[data-option="dSteps"] input') as HTMLInputElement;
        d.value = '1';
        const g = document.querySelector('label[data-option="gSteps"] input') as HTMLInputElement;
        g.value = '1';
      });
      await page.evaluate(() => {
        (window as unknown as { __seen: unknown }).__seen = window.__inspector!.result!.dispatches;
      });
      await page.click('#btn-run');
      await page.waitForFunction(
        () => window.__inspector!.done && window.__inspector!.result?.dispatches !== (window as unknown as { __seen: unknown }).__seen,
        WAIT,
      );
      expect(await adamShapes()).toEqual([...dShapes, '2', '2x8', '8x16'].sort());
      expect(await page.$eval('#summary', (e) => e.textContent)).toMatch(
        /^mlp_gan \(side round, dSteps 1, gSteps 1, mixture ring8, hidden 8, .*batch 16\)/,
      );
      // And the plane's drawing: D over the 40 × 40 grid, G's samples, the arrows; no update.
      await page.select('select[title^="what is inspected"]', 'view');
      await page.evaluate(() => {
        (window as unknown as { __seen: unknown }).__seen = window.__inspector!.result!.dispatches;
      });
      await page.click('#btn-run');
      await page.waitForFunction(
        () => window.__inspector!.done && window.__inspector!.result?.dispatches !== (window as unknown as { __seen: unknown }).__seen,
        WAIT,
      );
      expect(await adamShapes()).toEqual([]);
      const bound = await page.evaluate(() => [
        ...new Set(window.__inspector!.result!.dispatches.flatMap((d) => d.shapes.map((x) => x?.shape.join('x')))),
      ]);
      expect(bound).toEqual(expect.arrayContaining(['1600x2', '256x16', '256x2']));
      expect(log.problems()).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
