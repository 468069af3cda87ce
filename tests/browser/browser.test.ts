// Runs the in-browser test page (tests/browser/page.ts, bundled into dist/browser-tests/) in headless
// Chromium and holds it to: every check passed, no console errors, no page errors, no failed
// requests. Leaves a screenshot in artifacts/screenshots/browser-tests.png.
// Without /usr/bin/chromium the suite is skipped locally, but fails when CI is set.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type StaticServer } from '../../scripts/serve.mjs';
import { CHROMIUM_PATH, REPO_ROOT, chromiumAvailable, launchBrowser, openPage, screenshot } from './harness';
import type { PageResults } from './page';

const PAGE_DIR = path.join(REPO_ROOT, 'dist', 'browser-tests');
const DONE_TIMEOUT_MS = 180_000;

const inCI = !!process.env.CI && !['0', 'false'].includes(process.env.CI.toLowerCase());
const skip = !chromiumAvailable() && !inCI;
if (skip) {
  console.warn(`browser suite SKIPPED: ${CHROMIUM_PATH} not found (run scripts/setup.sh; with CI set this fails instead)`);
}

describe.skipIf(skip)('Chromium WebGPU page', () => {
  let browser: Browser | undefined;
  let server: StaticServer | undefined;

  beforeAll(async () => {
    if (!chromiumAvailable()) throw new Error(`${CHROMIUM_PATH} not found: install Chromium (scripts/setup.sh)`);
    if (!existsSync(path.join(PAGE_DIR, 'page.js'))) {
      throw new Error(`${PAGE_DIR}/page.js missing: run \`node scripts/build.mjs browser-tests\` first`);
    }
    server = await startServer(PAGE_DIR, 0);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('acquires a device, runs every check, logs no errors', async () => {
    const { page, log } = await openPage(browser!, server!.url);
    try {
      await page.waitForFunction(() => window.__done === true, { timeout: DONE_TIMEOUT_MS, polling: 250 });
    } finally {
      await screenshot(page, 'browser-tests').catch((err) => console.warn(`screenshot failed: ${err}`));
    }
    const results = (await page.evaluate(() => window.__results)) as PageResults | undefined;
    expect(results, 'page published no window.__results').toBeDefined();
    const r = results!;
    if (r.adapter) {
      const a = r.adapter;
      console.log(`browser adapter: ${a.vendor} / ${a.architecture} / ${a.device} (${a.description})`);
    }
    for (const c of r.checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name} (${c.ms} ms)${c.detail ? ` ${c.detail}` : ''}`);

    expect(r.error, 'page error').toBeUndefined();
    expect(r.adapter, 'no adapter').not.toBeNull();
    expect(r.checks.length, 'page ran no checks').toBeGreaterThan(0);
    expect(r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)).toEqual([]);
    expect(log.problems()).toEqual([]);
    expect(r.ok).toBe(true);
    await page.close();
  });
});
