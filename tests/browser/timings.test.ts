// A benchmark, not a check (skipped unless DEMOS_TIMINGS=1): how long the training pages take, as a
// user feels it, on this machine's browser adapter (SwiftShader in headless Chromium; a GPU with
// DEMOS_CHROMIUM_ARGS). For each page at its default sizes (sized by the page to the adapter): time
// from navigation start to the first progress message and to the end of the first training step,
// on a first visit and on a reload (kernels prewarmed from the page's manifest); and from a click
// on Pause in the middle of a step to the button's "Pausing" state and to the paused state.
// Writes artifacts/demo-timings.json and prints a table for demos/README.md.
//   DEMOS_TIMINGS=1 NODEVICE_SELECT=1 npx vitest run --config vitest.browser.config.ts tests/browser/timings.test.ts
// DEMOS_TIMINGS_PAGES='dcgan/ draw/' picks the pages; DEMOS_SKIP_BUILD=1 serves dist/demos as it is.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import type { ProgressEntry } from '../../demos/shared/training-page';
import { chromiumAvailable, openPage, REPO_ROOT, useDemoSite } from './harness';

const PAGES = (process.env.DEMOS_TIMINGS_PAGES ?? 'dcgan/ draw/').split(/\s+/).filter(Boolean);
const WAIT = { timeout: 580_000, polling: 50 };

interface Visit {
  firstMessageMs: number;
  firstStepMs: number;
  kernels: number | null;
}

async function visit(page: Page): Promise<Visit> {
  await page.waitForFunction(() => window.__demo?.progress.at(-1)?.phase === 'done' && window.__demo.step >= 1, WAIT);
  const p: ProgressEntry[] = await page.evaluate(() => [...window.__demo!.progress]);
  const kernels = p.find((e) => e.phase === 'kernels')?.total ?? null;
  return { firstMessageMs: p[0].t, firstStepMs: p.at(-1)!.t, kernels };
}

describe.skipIf(!process.env.DEMOS_TIMINGS || !chromiumAvailable())('demo page timings', () => {
  const site = useDemoSite();

  it('measures first progress, first step and a click mid-step', async () => {
    const rows: Record<string, unknown>[] = [];
    for (const p of PAGES) {
      const url = `${site.url}${p}${p.includes('?') ? '&' : '?'}fresh=1&autosave=0`;
      const { page } = await openPage(site.browser, url, { echo: false, timeoutMs: 120_000 });
      try {
        const adapter = await page.$eval('#adapter', (e) => e.textContent ?? '');
        const first = await visit(page);
        const model = await page.$eval('#stat-model', (e) => e.textContent ?? '');
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
          return { visibleMs: shown, pausedMs: performance.now() - t0 };
        });
        const stepTime = await page.$eval('#stat-steptime', (e) => e.textContent ?? '');
        await page.goto(url, { waitUntil: 'load' });
        const reload = await visit(page);
        rows.push({ page: p, adapter, model, first, reload, click, stepTime });
        console.log(JSON.stringify(rows.at(-1)));
        expect(click.visibleMs).not.toBeNull();
      } finally {
        await page.close();
      }
    }
    mkdirSync(path.join(REPO_ROOT, 'artifacts'), { recursive: true });
    writeFileSync(path.join(REPO_ROOT, 'artifacts', 'demo-timings.json'), JSON.stringify(rows, null, 2));
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(
      '| page | run | first message | first step | reload: first step (kernels prewarmed) | click → visible | click → paused | step time |',
    );
    for (const r of rows as {
      page: string;
      model: string;
      first: Visit;
      reload: Visit;
      click: { visibleMs: number; pausedMs: number };
      stepTime: string;
    }[]) {
      console.log(
        `| ${r.page} | ${r.model} | ${s(r.first.firstMessageMs)} | ${s(r.first.firstStepMs)} | ${s(r.reload.firstStepMs)} (${r.reload.kernels ?? 0}) | ${r.click.visibleMs.toFixed(0)} ms | ${s(r.click.pausedMs)} | ${r.stepTime} |`,
      );
    }
  }, 1_800_000);
});
