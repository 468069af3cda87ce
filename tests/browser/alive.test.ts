// How the training pages behave while they start and while a step runs (issue 16), in headless
// Chromium on SwiftShader, checked by events and states the page publishes (window.__demo), never
// by wall-clock thresholds:
//   - start-up progress: a message (kernels counted as the first samples and the first step compile
//     them) is logged before the first step ends; the page keeps the run's kernel manifest, and a
//     reload compiles every kernel up front with createComputePipelineAsync ("k of N", logged with
//     k = 0 before any finished), after which the first samples and the first step compile nothing new;
//   - placeholders that say what is happening (steps/s, step time, statistics) and a measured step time;
//   - views refreshed by time as well as by steps, captioned with the step they show;
//   - Pause and "New endpoints" answer at once while a step is running ("after this step"), and
//     take effect when it ends (CycleGAN's A/B flip, the same during a step, is checked on the
//     training page's CycleGAN in tests/browser/demos.test.ts, which already trains one);
//   - adapter-sized defaults: ?adapter=software gives the smaller run and says so, ?adapter=gpu the
//     page's own, and the page's own detection agrees with the adapter line;
//   - a learning rate that is not a number is reported as such;
//   - layout at 1280 px: the first row of panels fills the width, chart legends show the latest
//     values (not "--"), the model dropdown fits its longest name, the bench page links every
//     page, the gallery's intro matches the registry (the inspector's table at 1280 px: demos.test.ts).
// DEMOS_SKIP_BUILD=1 serves dist/demos as it is.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import type { ProgressEntry } from '../../demos/shared/training-page';
import { CHROMIUM_PATH, chromiumAvailable, DEMOS_DIR, openPage, screenshot, useDemoSite } from './harness';
import { recipes } from '../../nets/registry';

/** A tiny DCGAN; samples redrawn by time only (sampleEvery far away, refresh every second). */
const TINY = 'size=16&nz=16&ngf=4&ndf=4&batch=4&samples=16&walk=4&autosave=0&sampleEvery=1000&refresh=1';
const WAIT = { timeout: 240_000, polling: 100 };

const inCI = !!process.env.CI && !['0', 'false'].includes(process.env.CI.toLowerCase());
const skip = !chromiumAvailable() && !inCI;
if (skip) console.warn(`alive browser suite SKIPPED: ${CHROMIUM_PATH} not found`);

const progressOf = (page: Page): Promise<ProgressEntry[]> => page.evaluate(() => [...window.__demo!.progress]);
const text = (page: Page, sel: string): Promise<string> => page.$eval(sel, (e) => e.textContent ?? '');

describe.skipIf(skip)('training pages feel alive', () => {
  const site = useDemoSite();

  it('shows start-up progress, prewarms kernels on reload, answers Pause and view changes mid-step, lays out at 1280 px', async () => {
    const url = `${site.url}dcgan/?${TINY}&fresh=1`;
    const { page, log } = await openPage(site.browser, url);
    try {
      // Before the first step: placeholders that say what is happening.
      await page.waitForFunction(() => !!window.__demo && window.__demo.progress.length > 0, WAIT);
      await page.waitForFunction(() => window.__demo?.progress.at(-1)?.phase === 'done' && window.__demo.step >= 1, WAIT);
      let p = await progressOf(page);
      const firstStep = p.findIndex((e) => e.phase === 'first-step');
      expect(firstStep, JSON.stringify(p)).toBeGreaterThan(0);
      expect(p[0].phase).toBe('samples'); // first visit: no manifest, kernels counted as they compile
      expect(p[0].total).toBeNull();
      expect(p[firstStep].step, 'the first-step message comes before step 1 ends').toBe(0);
      expect(p[firstStep].text).toMatch(/^first step \(step 1\): \d+ new kernels? compiled so far/);
      expect(Math.max(...p.filter((e) => e.phase === 'samples').map((e) => e.done))).toBeGreaterThan(0);
      expect(p.at(-1)!.phase).toBe('done');
      expect(await page.$eval('#progress', (e) => e.classList.contains('hidden'))).toBe(true);

      // Views refresh by time while training (sampleEvery is far away), labelled with their step.
      await page.waitForFunction(
        () => window.__demo!.running && Number(document.getElementById('samples-caption')!.dataset.step) >= 1,
        WAIT,
      );
      expect(await text(page, '#samples-caption')).toMatch(/^at step \d+ · redrawn every 1000 steps or 1 s while training$/);
      // A measured step time appears from the second step.
      await page.waitForFunction(() => /per step/.test(document.getElementById('stat-steptime')!.textContent ?? ''), WAIT);

      // "New endpoints" mid-step: marked at once, drawn when the step ends.
      const walk = await page.evaluate(() => {
        const step = window.__demo!.step;
        (document.getElementById('btn-walk') as HTMLButtonElement).click();
        const b = document.getElementById('btn-walk')!;
        return {
          step,
          pending: b.dataset.pending ?? null,
          queued: window.__demo!.queued,
          status: document.getElementById('status')!.textContent,
          running: window.__demo!.running,
        };
      });
      expect(walk.running).toBe(true);
      expect(walk.pending).toBe('after this step');
      expect(walk.queued).toBe(1);
      expect(walk.status).toMatch(/^latent walk: after this step \(step \d+ is running\)/);
      await page.waitForFunction(() => window.__demo!.queued === 0 && !document.getElementById('btn-walk')!.dataset.pending, WAIT);
      expect(await text(page, '#walk-caption')).toMatch(/endpoints #8/);

      // Pause mid-step: the button says so at once and the loop stops after the step in flight.
      const paused = await page.evaluate(() => {
        const step = window.__demo!.step;
        (document.getElementById('btn-toggle') as HTMLButtonElement).click();
        const t = document.getElementById('btn-toggle') as HTMLButtonElement;
        return { step, text: t.textContent, state: t.dataset.state, disabled: t.disabled, running: window.__demo!.running };
      });
      expect(paused).toMatchObject({ text: 'Pausing after this step…', state: 'pausing', disabled: false, running: false });
      await page.waitForFunction(() => document.getElementById('btn-toggle')!.dataset.state === 'paused', WAIT);
      const after = await page.evaluate(() => window.__demo!.step);
      expect(after - paused.step).toBeLessThanOrEqual(1);
      expect(await text(page, '#btn-toggle')).toBe('Resume');
      expect(await page.$eval('#samples-caption', (e) => Number((e as HTMLElement).dataset.step))).toBe(after);

      // A learning rate that is not a number says so (an <input type=number> holding "abc" reads as '').
      await page.click('#lr', { clickCount: 3 });
      await page.keyboard.type('abc');
      await page.click('#btn-lr');
      expect(await text(page, '#status')).toMatch(/learning rate: the box does not hold a number/);
      await screenshot(page, 'demo-alive-dcgan');

      // Reload with the same run: the manifest's kernels compile up front, "k of N" from k = 0.
      await page.goto(url, { waitUntil: 'load', timeout: WAIT.timeout });
      await page.waitForFunction(() => window.__demo?.progress.at(-1)?.phase === 'done' && window.__demo.step >= 1, WAIT);
      p = await progressOf(page);
      const kernels = p.filter((e) => e.phase === 'kernels');
      expect(kernels.length, JSON.stringify(p.slice(0, 5))).toBeGreaterThan(1);
      expect(p[0]).toMatchObject({ phase: 'kernels', done: 0 });
      const total = kernels[0].total!;
      expect(total).toBeGreaterThan(5);
      expect(kernels.at(-1)).toMatchObject({ done: total, total });
      expect(kernels.every((e, i) => i === 0 || e.done === kernels[i - 1].done + 1)).toBe(true);
      // Everything the first samples and the first step use was prewarmed.
      for (const phase of ['samples', 'first-step'] as const) {
        const last = p.filter((e) => e.phase === phase).at(-1);
        expect(last, phase).toBeDefined();
        expect(last!.done, `${phase}: kernels compiled after the prewarm`).toBe(0);
      }

      // The layout at 1280 px (the reloaded run trains on): the first row of panels fills the width,
      // and the chart legends show the latest values, with the step, without hovering.
      await page.setViewport({ width: 1280, height: 900 });
      await page.waitForFunction(() => (window.__demo?.step ?? 0) >= 2, WAIT);
      await page.click('#btn-toggle');
      await page.waitForFunction(() => document.getElementById('btn-toggle')!.dataset.state === 'paused', WAIT);
      const row = await page.evaluate(() => {
        const panels = document.getElementById('panels')!.getBoundingClientRect();
        const top = document.getElementById('panel-samples')!.getBoundingClientRect().top;
        const inRow = Array.from(document.querySelectorAll('#panels > .panel'))
          .map((e) => e.getBoundingClientRect())
          .filter((r) => Math.abs(r.top - top) < 2);
        return { right: panels.right, rowRight: Math.max(...inRow.map((r) => r.right)), n: inRow.length };
      });
      expect(row.n, 'panels in the first row at 1280 px').toBeGreaterThanOrEqual(3);
      expect(row.rowRight).toBeGreaterThan(row.right - 2);
      // Legends: the latest value of each series, with the step, without hovering.
      await page.mouse.move(5, 5);
      const legend = await page.evaluate(() => ({
        values: Array.from(document.querySelectorAll('#plot-bce-losses .u-legend .u-series .u-value')).map((e) => e.textContent ?? ''),
        step: window.__demo!.step,
        stats: window.__demo!.lastStats!,
      }));
      expect(legend.values.length).toBe(3); // step, loss D, loss G
      expect(legend.values[0]).toBe(String(legend.step));
      const num = (t: string) => Number(t.replace('\u2212', '-'));
      expect(num(legend.values[1])).toBeCloseTo(legend.stats.lossD, 3);
      expect(num(legend.values[2])).toBeCloseTo(legend.stats.lossG, 3);
      await screenshot(page, 'demo-alive-1280');
      expect(log.problems()).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('sizes the run to the adapter and says so', async () => {
    const base = `${site.url}dcgan/?fresh=1&autostart=0&samples=4&walk=2`;
    const model = async (page: Page) => {
      await page.waitForFunction(() => (document.getElementById('stat-model')?.textContent ?? '—') !== '—', WAIT);
      return text(page, '#stat-model');
    };
    let { page, log } = await openPage(site.browser, `${base}&adapter=software`);
    try {
      expect(await model(page)).toMatch(/^dcgan, 32×32, .*ngf 8, ndf 8.*, batch 16$/);
      expect(await page.$eval('#software-note', (e) => !e.classList.contains('hidden'))).toBe(true);
      expect(await text(page, '#software-note')).toMatch(/ngf 32 → 8, ndf 32 → 8, batch 64 → 16\. Add ngf=32&ndf=32&batch=64 to the URL/);
      expect(await page.evaluate(() => window.__demo!.software)).toBe(true);
      expect(log.problems()).toEqual([]);
    } finally {
      await page.close();
    }
    ({ page, log } = await openPage(site.browser, `${base}&adapter=gpu`));
    try {
      expect(await model(page)).toMatch(/^dcgan, 32×32, .*batch 64$/);
      expect(await text(page, '#stat-model')).not.toMatch(/ngf 8/);
      expect(await page.$eval('#software-note', (e) => e.classList.contains('hidden'))).toBe(true);
    } finally {
      await page.close();
    }
    // Without the override the page decides from the adapter: SwiftShader is a software adapter.
    ({ page, log } = await openPage(site.browser, `${base}&ngf=4&ndf=4`));
    try {
      await model(page);
      const adapter = await text(page, '#adapter');
      const software = await page.evaluate(() => window.__demo!.software);
      expect(software, adapter).toBe(/swiftshader|fallback|llvmpipe|lavapipe/i.test(adapter));
      // Widths the URL sets are kept; the batch is still sized to the adapter.
      if (software) expect(await text(page, '#stat-model')).toMatch(/ngf 4, ndf 4.*batch 16$/);
    } finally {
      await page.close();
    }
  });

  it('at 1280 px the model dropdown fits its longest name; the gallery and the bench page list every page', async () => {
    const { page } = await openPage(site.browser, `${site.url}train/?model=dcgan&${TINY}&fresh=1&autostart=0`);
    try {
      await page.setViewport({ width: 1280, height: 900 });
      // The training page's model dropdown is as wide as its longest option.
      await page.waitForFunction(() => !!document.querySelector('#model option'), WAIT);
      const select = await page.evaluate(() => {
        const s = document.getElementById('model') as HTMLSelectElement;
        const ctx = document.createElement('canvas').getContext('2d')!;
        ctx.font = getComputedStyle(s).font;
        return { width: s.clientWidth, longest: Math.max(...Array.from(s.options).map((o) => ctx.measureText(o.text).width)) };
      });
      expect(select.width).toBeGreaterThan(select.longest);

      // (The inspector's dispatch table at 1280 px is checked in tests/browser/demos.test.ts's inspector test.)

      // The gallery's status line says what is live: every registered model has a card, none "coming".
      await page.goto(`${site.url}`, { waitUntil: 'load', timeout: WAIT.timeout });
      await page.waitForFunction(() => /architectures/.test(document.getElementById('status')?.textContent ?? ''), WAIT);
      const gallery = await page.evaluate(() => ({
        status: document.getElementById('status')!.textContent!,
        coming: document.querySelectorAll('.card[data-status="coming"]').length,
        cards: document.querySelectorAll('.card').length,
      }));
      expect(gallery.coming).toBe(0);
      expect(gallery.cards).toBe(Object.keys(recipes).length);
      expect(gallery.status).toBe(`${gallery.cards} architectures, all live in the engine.`);
    } finally {
      await page.close();
    }
    // The bench page's navigation names every page the others do.
    const nav = (f: string) => {
      const nav = /<nav>(.*?)<\/nav>/s.exec(readFileSync(path.join(DEMOS_DIR, f, 'index.html'), 'utf8'))![1];
      return [...nav.matchAll(/<a href="([^"]+)"/g)].map((m) => new URL(m[1], `http://x/${f}/`).pathname).sort();
    };
    expect(nav('bench')).toEqual(nav('dcgan'));
  });
});
