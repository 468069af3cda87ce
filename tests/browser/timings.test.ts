// A benchmark, not a check (skipped unless DEMOS_TIMINGS=1): how long the demo pages take, as a user
// feels it, on this machine's browser adapter (SwiftShader in headless Chromium; a GPU with
// DEMOS_CHROMIUM_ARGS). For each page at its default sizes (sized by the page to the adapter), times
// from navigation start:
//   - first message: the first progress message a person sees (the training pages' and the game's
//     start-up log, the first change of the status line elsewhere);
//   - first result: the end of the first training step (training pages), of the first round (the
//     game, clicked as soon as its first view is drawn, which is timed too), the first inspected
//     step (inspector), the first thumbnail (gallery), the first upscaled image (upscale);
//   - the same on a reload, where the page prewarms the kernels of its last visit (training pages, game);
//   - a click and its visible effect: Pause in the middle of a step ("Pausing after this step…" in the
//     same task, then paused), the game's "D step" (busy at once, then the heat map redrawn), the
//     inspector's dispatch row (its WGSL shown), upscale's Run (running, then the new image).
// Writes artifacts/demo-timings.json, a 1280 × 900 screenshot of each page after its click
// (artifacts/screenshots/timings-<page>.png: README's pictures come from these and game.test.ts's),
// and prints a table for demos/README.md.
//   DEMOS_TIMINGS=1 NODEVICE_SELECT=1 npx vitest run --config vitest.browser.config.ts tests/browser/timings.test.ts
// DEMOS_TIMINGS_PAGES='dcgan/ game/' picks the pages; DEMOS_SKIP_BUILD=1 serves dist/demos as it is.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import type { ProgressEntry } from '../../demos/shared/training-page';
import type { GameProgress } from '../../demos/game/main';
import { chromiumAvailable, REPO_ROOT, SCREENSHOT_DIR, useDemoSite } from './harness';

const ALL = ['dcgan/', 'train/?model=began', 'draw/', 'game/', 'inspector/', 'gallery', 'upscale/'];
const PAGES = (process.env.DEMOS_TIMINGS_PAGES ?? ALL.join(' ')).split(/\s+/).filter(Boolean);
const WAIT = { timeout: 580_000, polling: 50 };

/** One page's measurements (milliseconds from navigation start; null: not applicable). */
interface Row {
  page: string;
  run: string;
  adapter: string;
  firstMessageMs: number;
  /** The game: its first view drawn (before the first round). */
  firstViewMs: number | null;
  firstResultMs: number;
  reload: { firstMessageMs: number; firstResultMs: number; kernels: number | null } | null;
  click: { what: string; visibleMs: number | null; doneMs: number } | null;
  stepTime: string | null;
}

declare global {
  interface Window {
    __statusLog?: { t: number; text: string }[];
    /** When the first gallery thumbnail was drawn. */
    __thumbAt?: number;
  }
}

/** A new tab that logs every change of the page's #status line (with its time) and the first drawn thumbnail, from the start. */
async function open(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  await page.evaluateOnNewDocument(() => {
    window.__statusLog = [];
    // From the document's start (module scripts may set the status before DOMContentLoaded): every
    // change inside #status (but the parser's own 'loading…'), and the first thumbnail drawn.
    new MutationObserver((records) => {
      for (const r of records) {
        const e = (r.target.nodeType === Node.TEXT_NODE ? r.target.parentElement : r.target) as HTMLElement | null;
        if (!e?.closest) continue;
        if (r.type === 'attributes') {
          if (window.__thumbAt === undefined && e.classList.contains('thumb') && e.dataset.state === 'drawn')
            window.__thumbAt = performance.now();
          continue;
        }
        const status = e.closest('#status');
        const text = status?.textContent ?? '';
        if (status && text !== 'loading…' && text !== window.__statusLog!.at(-1)?.text)
          window.__statusLog!.push({ t: performance.now(), text });
      }
    }).observe(document, { childList: true, characterData: true, subtree: true, attributes: true, attributeFilter: ['data-state'] });
  });
  await page.goto(url, { waitUntil: 'load', timeout: 120_000 });
  return page;
}

/** The window as a person sees it (1280 × 900), after the page's click. */
async function keep(page: Page, p: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const name = `timings-${p.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'gallery'}.png`;
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, name) as `${string}.png` });
}

const firstStatusChange = (page: Page) =>
  page.evaluate(async () => {
    while (!window.__statusLog?.length) await new Promise((r) => setTimeout(r, 20));
    return window.__statusLog[0].t;
  });

// ---- the training pages (dcgan/, train/, draw/): their start-up log, Pause mid-step ------------------

async function trainingVisit(page: Page): Promise<{ firstMessageMs: number; firstResultMs: number; kernels: number | null }> {
  await page.waitForFunction(() => window.__demo?.progress.at(-1)?.phase === 'done' && window.__demo.step >= 1, WAIT);
  const p: ProgressEntry[] = await page.evaluate(() => [...window.__demo!.progress]);
  return { firstMessageMs: p[0].t, firstResultMs: p.at(-1)!.t, kernels: p.find((e) => e.phase === 'kernels')?.total ?? null };
}

async function trainingPage(browser: Browser, base: string, p: string): Promise<Row> {
  // autostart=1: a page that starts from shipped trained weights does not train by itself (Resume
  // does); here it trains at once, so the first step is measured from the same start.
  const url = `${base}${p}${p.includes('?') ? '&' : '?'}fresh=1&autosave=0&autostart=1`;
  const page = await open(browser, url);
  try {
    const adapter = await page.$eval('#adapter', (e) => e.textContent ?? '');
    const first = await trainingVisit(page);
    const run = await page.$eval('#stat-model', (e) => e.textContent ?? '');
    // A click on Pause while a step runs: the visible state in the same task, the pause when the step ends.
    const click = await page.evaluate(async () => {
      const t0 = performance.now();
      const b = document.getElementById('btn-toggle') as HTMLButtonElement;
      b.click();
      const shown = b.textContent === 'Pausing after this step…' ? performance.now() - t0 : null;
      await new Promise<void>((resolve) => {
        const check = () => (b.dataset.state === 'paused' ? resolve() : setTimeout(check, 20));
        check();
      });
      return { what: 'Pause mid-step → paused', visibleMs: shown, doneMs: performance.now() - t0 };
    });
    const stepTime = await page.$eval('#stat-steptime', (e) => e.textContent ?? '');
    await keep(page, p);
    await page.goto(url, { waitUntil: 'load' });
    const reload = await trainingVisit(page);
    return {
      page: p,
      run,
      adapter,
      firstMessageMs: first.firstMessageMs,
      firstViewMs: null,
      firstResultMs: first.firstResultMs,
      reload,
      click,
      stepTime,
    };
  } finally {
    await page.close();
  }
}

// ---- the game: its start-up log, the first round clicked when the first view is drawn, "D step" ---

async function gameVisit(
  page: Page,
): Promise<{ firstMessageMs: number; firstViewMs: number; firstResultMs: number; kernels: number | null }> {
  await page.waitForFunction(() => window.__game?.ready === true, WAIT);
  await page.click('#btn-step');
  await page.waitForFunction(() => window.__game!.progress.some((e) => e.phase === 'first-step'), WAIT);
  const p: GameProgress[] = await page.evaluate(() => [...window.__game!.progress]);
  // The first message about compiling (the kernel count, or the prewarm's "k of N").
  const compiling = p.find((e) => e.phase === 'kernels' || e.phase === 'first-view')!;
  return {
    firstMessageMs: compiling.t,
    firstViewMs: p.find((e) => e.phase === 'ready')!.t,
    firstResultMs: p.find((e) => e.phase === 'first-step')!.t,
    kernels: p.find((e) => e.phase === 'kernels')?.total ?? null,
  };
}

async function gamePage(browser: Browser, base: string, p: string): Promise<Row> {
  const url = `${base}${p}`;
  const page = await open(browser, url);
  try {
    const adapter = await page.$eval('#adapter', (e) => e.textContent ?? '');
    const first = await gameVisit(page);
    await page.waitForFunction(() => window.__game!.busy === null, WAIT);
    const run = await page.evaluate(
      () =>
        `${(document.getElementById('model') as HTMLSelectElement).value} on ${(document.getElementById('mixture') as HTMLSelectElement).value}, ` +
        `hidden ${(document.getElementById('hidden') as HTMLInputElement).value}, batch ${(document.getElementById('batch') as HTMLInputElement).value}`,
    );
    const click = await page.evaluate(async () => {
      const g = window.__game!;
      const draws = g.draws;
      const t0 = performance.now();
      const b = document.getElementById('btn-dstep') as HTMLButtonElement;
      b.click();
      const shown = b.dataset.state === 'busy' ? performance.now() - t0 : null;
      await new Promise<void>((resolve) => {
        const check = () => (g.draws > draws && g.busy === null ? resolve() : setTimeout(check, 5));
        check();
      });
      return { what: 'D step → heat map redrawn', visibleMs: shown, doneMs: performance.now() - t0 };
    });
    await keep(page, p);
    await page.goto(url, { waitUntil: 'load' });
    const reload = await gameVisit(page);
    return {
      page: p,
      run,
      adapter,
      firstMessageMs: first.firstMessageMs,
      firstViewMs: first.firstViewMs,
      firstResultMs: first.firstResultMs,
      reload: { firstMessageMs: reload.firstMessageMs, firstResultMs: reload.firstResultMs, kernels: reload.kernels },
      click,
      stepTime: null,
    };
  } finally {
    await page.close();
  }
}

// ---- the other pages: the status line, their first result, a click ---------------------------------

async function otherPage(browser: Browser, base: string, p: string): Promise<Row> {
  const url = `${base}${p === 'gallery' ? '' : p}${p === 'upscale/' ? '?autorun=1' : ''}`;
  const page = await open(browser, url);
  try {
    const adapter = await page.$eval('#adapter', (e) => e.textContent ?? '');
    const firstMessageMs = await firstStatusChange(page);
    let firstResultMs: number;
    let run: string;
    let click: Row['click'] = null;
    if (p === 'inspector/') {
      await page.waitForFunction(() => window.__inspector?.done === true, WAIT);
      firstResultMs = await page.evaluate(() => window.__statusLog!.find((e) => /^inspected/.test(e.text))!.t);
      run = await page.$eval('#summary', (e) => (e.textContent ?? '').split(':')[0]);
      click = await page.evaluate(() => {
        const t0 = performance.now();
        (document.querySelector('#dispatches tbody tr:nth-child(3) td') as HTMLElement).click();
        const shown = (document.getElementById('source')!.textContent ?? '').length > 0 ? performance.now() - t0 : null;
        return { what: 'dispatch row → its WGSL', visibleMs: shown, doneMs: performance.now() - t0 };
      });
    } else if (p === 'gallery') {
      await page.waitForFunction(() => window.__thumbAt !== undefined, WAIT);
      firstResultMs = await page.evaluate(() => window.__thumbAt!);
      // For the screenshot: every thumbnail in the window drawn.
      await page.waitForFunction(
        () =>
          Array.from(document.querySelectorAll<HTMLElement>('.thumb'))
            .filter((t) => t.getBoundingClientRect().top < innerHeight)
            .every((t) => t.dataset.state === 'drawn' || t.dataset.state === 'failed'),
        WAIT,
      );
      run = await page.$eval('#status', (e) => e.textContent ?? '');
    } else if (p === 'upscale/') {
      await page.waitForFunction(() => window.__upscale?.state === 'done' || window.__upscale?.state === 'error', WAIT);
      const s = await page.evaluate(() => ({ error: window.__upscale!.error }));
      if (s.error) throw new Error(`upscale: ${s.error}`);
      firstResultMs = await page.evaluate(() => window.__statusLog!.at(-1)!.t);
      run = await page.evaluate(
        () =>
          `${(document.getElementById('model') as HTMLSelectElement).value}, ×${(document.getElementById('scale') as HTMLSelectElement).value}, engine and tfjs`,
      );
      click = await page.evaluate(async () => {
        const t0 = performance.now();
        (document.getElementById('btn-run') as HTMLButtonElement).click();
        const shown = window.__upscale!.state === 'running' ? performance.now() - t0 : null;
        await new Promise<void>((resolve) => {
          const check = () =>
            window.__upscale!.state === 'done' || window.__upscale!.state === 'error' ? resolve() : setTimeout(check, 20);
          check();
        });
        return { what: 'Run → upscaled image', visibleMs: shown, doneMs: performance.now() - t0 };
      });
    } else throw new Error(`timings: no measurement for page '${p}' (known: ${ALL.join(' ')})`);
    await keep(page, p);
    return { page: p, run, adapter, firstMessageMs, firstViewMs: null, firstResultMs, reload: null, click, stepTime: null };
  } finally {
    await page.close();
  }
}

describe.skipIf(!process.env.DEMOS_TIMINGS || !chromiumAvailable())('demo page timings', () => {
  const site = useDemoSite();

  it('measures first progress, first result, a reload and a click on each page', async () => {
    const loadBefore = os.loadavg().map((l) => l.toFixed(1));
    const rows: Row[] = [];
    for (const p of PAGES) {
      const kind = ['dcgan/', 'train/', 'draw/'].some((t) => p.startsWith(t)) ? trainingPage : p.startsWith('game/') ? gamePage : otherPage;
      const row = await kind(site.browser, site.url, p);
      rows.push(row);
      console.log(JSON.stringify(row));
      if (row.click) expect(row.click.visibleMs, `${p}: the click's visible state`).not.toBeNull();
    }
    const load = os.loadavg().map((l) => l.toFixed(1));
    mkdirSync(path.join(REPO_ROOT, 'artifacts'), { recursive: true });
    writeFileSync(
      path.join(REPO_ROOT, 'artifacts', 'demo-timings.json'),
      JSON.stringify({ date: new Date().toISOString(), cpus: os.cpus().length, loadBefore, loadAfter: load, rows }, null, 2),
    );
    const s = (ms: number | null | undefined) => (ms === null || ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);
    const ms = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v < 1000 ? `${v.toFixed(0)} ms` : s(v));
    console.log(
      `load average (1, 5, 15 min) before the run: ${loadBefore.join(', ')}; after: ${load.join(', ')}; ${os.cpus().length} CPUs`,
    );
    console.log('| page | run | first message | first result | reload: first result (kernels prewarmed) | click | → visible | → done |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      const first = r.firstViewMs === null ? s(r.firstResultMs) : `${s(r.firstResultMs)} (first view ${s(r.firstViewMs)})`;
      const reload = r.reload ? `${s(r.reload.firstResultMs)} (${r.reload.kernels ?? 0})` : '—';
      console.log(
        `| \`${r.page}\` | ${r.run} | ${s(r.firstMessageMs)} | ${first} | ${reload} | ${r.click?.what ?? '—'} | ${ms(r.click?.visibleMs)} | ${ms(r.click?.doneMs)} |`,
      );
    }
  }, 2_400_000);
});
