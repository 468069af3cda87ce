// Puppeteer helpers for the Chromium suite (headless Debian Chromium, WebGPU on its SwiftShader).
//   launchBrowser()          Chromium with WebGPU enabled and a throwaway profile (removed on close)
//   openPage(browser, url)   a page that records console messages, page errors and failed requests
//   screenshot(page, name)   a PNG under artifacts/screenshots/ (gitignored)
// WebGPU needs a secure context, so pages must come from http://localhost (scripts/serve.mjs),
// never about:blank or file://.
//   startSite(root, ...)     server + browser + download folder for a page suite; closeSite ends them
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll } from 'vitest';
import { startServer, type StaticServer } from '../../scripts/serve.mjs';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'artifacts', 'screenshots');

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** Flags for headless Chromium with WebGPU, no network chatter and no first-run UI. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless=new',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

/** Launch Chromium with a fresh temporary profile; closing the browser deletes the profile. */
export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'gan-chromium-'));
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      userDataDir,
      args: [...CHROMIUM_ARGS, ...extraArgs],
      // SwiftShader WebGPU on a shared 2-core machine is slow; give the protocol room.
      protocolTimeout: 300_000,
    });
  } catch (err) {
    await rm(userDataDir, { recursive: true, force: true });
    throw err;
  }
  const close = browser.close.bind(browser);
  browser.close = async () => {
    try {
      await close();
    } finally {
      await rm(userDataDir, { recursive: true, force: true, maxRetries: 3 });
    }
  };
  return browser;
}

export interface ConsoleEntry {
  type: string;
  text: string;
  location?: string;
}

/** What a page said while it ran; tests assert on it after the page finishes. */
export interface PageLog {
  console: ConsoleEntry[];
  pageErrors: string[];
  failedRequests: string[];
  /** Console errors/asserts, uncaught page errors and failed requests, formatted one per line. */
  problems(): string[];
}

export interface OpenedPage {
  page: Page;
  log: PageLog;
}

/**
 * Open `url` in a new tab, recording console output, uncaught errors and failed requests from the
 * start. With `echo`, console lines are also printed to this process's stdout as they arrive;
 * `viewport` sizes the tab before the page loads.
 */
export async function openPage(
  browser: Browser,
  url: string,
  { echo = true, timeoutMs = 60_000, viewport }: { echo?: boolean; timeoutMs?: number; viewport?: { width: number; height: number } } = {},
): Promise<OpenedPage> {
  const page = await browser.newPage();
  if (viewport) await page.setViewport(viewport);
  const log: PageLog = {
    console: [],
    pageErrors: [],
    failedRequests: [],
    problems() {
      return [
        ...this.console
          .filter((m) => m.type === 'error' || m.type === 'assert')
          .map((m) => `console.${m.type}: ${m.text}${m.location ? ` (${m.location})` : ''}`),
        ...this.pageErrors.map((e) => `page error: ${e}`),
        ...this.failedRequests.map((r) => `request failed: ${r}`),
      ];
    },
  };
  page.on('console', (msg) => {
    const loc = msg.location();
    const entry: ConsoleEntry = {
      type: msg.type(),
      text: msg.text(),
      location: loc.url ? `${loc.url}:${loc.lineNumber ?? 0}` : undefined,
    };
    log.console.push(entry);
    if (echo) console.log(`[page ${entry.type}] ${entry.text}`);
  });
  page.on('pageerror', (err) => {
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    log.pageErrors.push(text);
    if (echo) console.log(`[page error] ${text}`);
  });
  page.on('requestfailed', (req) => {
    if (req.url().endsWith('/favicon.ico')) return;
    log.failedRequests.push(`${req.method()} ${req.url()}: ${req.failure()?.errorText ?? 'failed'}`);
  });
  page.on('response', (res) => {
    // A 404 for a script or asset is a broken build even though the request "succeeded".
    // The browser's own favicon probe is not the page's fault.
    if (res.status() >= 400 && !res.url().endsWith('/favicon.ico'))
      log.failedRequests.push(`${res.request().method()} ${res.url()}: HTTP ${res.status()}`);
  });
  await page.goto(url, { waitUntil: 'load', timeout: timeoutMs });
  return { page, log };
}

/** Save a full-page PNG to artifacts/screenshots/<name>.png and return its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_');
  const file = path.join(SCREENSHOT_DIR, safe.endsWith('.png') ? safe : `${safe}.png`);
  await page.screenshot({ path: file as `${string}.png`, fullPage: true });
  return file;
}

/** Save a PNG of one element (its bounding box) to artifacts/screenshots/<name>.png and return its path. */
export async function screenshotElement(page: Page, selector: string, name: string): Promise<string> {
  const handle = await page.$(selector);
  if (!handle) throw new Error(`screenshotElement: no element matches ${selector}`);
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^A-Za-z0-9._-]+/g, '_')}.png`);
  await handle.screenshot({ path: file as `${string}.png` });
  return file;
}

/** The built demo site (scripts/build.mjs demos). */
/**
 * The finished download in `dir` named `name`, or the first whose name passes `name` when it is a
 * test (Chromium writes .crdownload until a file is complete).
 */
export async function waitForDownload(dir: string, name: string | ((file: string) => boolean), timeoutMs = 30_000): Promise<string> {
  const matches = typeof name === 'string' ? (f: string) => f === name : name;
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const done = readdirSync(dir).find(matches);
    if (done) return path.join(dir, done);
    await new Promise((r) => setTimeout(r, 100));
  }
  const what = typeof name === 'string' ? name : `passing ${name}`;
  throw new Error(`no download ${what} appeared in ${dir} within ${timeoutMs} ms (there: ${readdirSync(dir).join(', ') || 'nothing'})`);
}

/** A new page whose scripts see no WebGPU (navigator.gpu removed before any of them runs). */
export async function newPageWithoutWebGPU(browser: Browser): Promise<Page> {
  const page = await browser.newPage();
  await page.evaluateOnNewDocument(() => {
    delete (Navigator.prototype as unknown as { gpu?: unknown }).gpu;
  });
  return page;
}

/** What a page suite starts before its tests: a static server on a folder, a browser, and a folder the browser downloads into. */
export interface Site {
  server: StaticServer;
  browser: Browser;
  downloads: string;
}

/** Serves `root` on localhost, launches Chromium (with `chromiumArgs` added) and sends its downloads to a fresh temporary folder. */
export async function startSite(root: string, chromiumArgs: string[], downloadsPrefix: string): Promise<Site> {
  const server = await startServer(root, 0);
  const browser = await launchBrowser(chromiumArgs);
  const downloads = await mkdtemp(path.join(os.tmpdir(), downloadsPrefix));
  const cdp = await browser.target().createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
  return { server, browser, downloads };
}

/** Closes what startSite started (any part may be missing when the start failed) and removes the download folder. */
export async function closeSite(site: Partial<Site>): Promise<void> {
  await site.browser?.close();
  await site.server?.close();
  if (site.downloads) await rm(site.downloads, { recursive: true, force: true });
}

export const DEMOS_DIR = path.join(REPO_ROOT, 'dist', 'demos');

/**
 * For a describe block over the demo pages: builds them (unless DEMOS_SKIP_BUILD), serves
 * dist/demos on a free localhost port and launches Chromium (extra flags from DEMOS_CHROMIUM_ARGS)
 * before its tests, and closes both after. Read `site.browser` and `site.url` inside the tests.
 */
export function useDemoSite(): { readonly browser: Browser; readonly url: string } {
  let browser: Browser | undefined;
  let server: StaticServer | undefined;
  beforeAll(async () => {
    if (!process.env.DEMOS_SKIP_BUILD)
      execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs'), 'demos'], { cwd: REPO_ROOT, stdio: 'inherit' });
    server = await startServer(DEMOS_DIR, 0);
    browser = await launchBrowser((process.env.DEMOS_CHROMIUM_ARGS ?? '').split(/\s+/).filter(Boolean));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  return {
    get browser() {
      if (!browser) throw new Error('useDemoSite: the browser is not started yet (use it inside a test)');
      return browser;
    },
    get url() {
      if (!server) throw new Error('useDemoSite: the server is not started yet (use it inside a test)');
      return server.url;
    },
  };
}
