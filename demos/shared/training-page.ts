// A page that trains one registered model live in the tab: what the DCGAN page, the generic
// training page (train/?model=NAME) and the draw page have in common.
//   - the layout (panels built here: samples, training controls and stats, charts, the page's
//     extra panels), the header's adapter line, the no-WebGPU notice;
//   - the run: recipe defaults + quick preset + URL parameters (demos/shared/models.ts), the data
//     (demos/shared/datasets.ts), a TrainingSession (session.ts) and its training loop, steps/s;
//   - the sample grid: from fixed latent codes, or for image-to-image models held-out
//     input | output | target rows (both directions for the two-generator models) with held-out
//     L1 / PSNR charted beside the trainer's own stats (charts.ts);
//   - pause/resume, single step, reset with a seed, learning rate; checkpoints as .safetensors
//     download/upload (the CLI's run layout, so `gan sample` / `gan train --resume` read them) and
//     in IndexedDB (restored on load unless ?fresh=1; autosaved every N steps);
//   - a lost GPU device stops training and offers to resume from the last checkpoint on a new one.
//
// URL parameters: model (generic page), any of the model's options (camelCase, kebab-case; size =
// imageSize), batch, lr, dataset, seed [1], samples [64], sampleEvery [20], autosave [250],
// walk [8], autostart [1], fresh [0]. State for tests and the console: window.__demo (DemoHandle).

import { engine } from '../../engine/device.js';
import { l1Cpu, psnrCpu } from '../../metrics/image.js';
import { SampleInputs } from '../../nets/lib/sample.js';
import { recipes } from '../../nets/registry.js';
import { heldOutEmojiPairs, splitHeldOut, translationGrid, translationHooks, firstPairs, type HeldOutPairs } from '../../nets/lib/translation.js';
import { StatsCharts } from './charts.js';
import { byId, el, fmt, intParam, setStatus } from './dom.js';
import { downloadBytes, fileBytes } from './files.js';
import { canvasSpread, drawGrid } from './grid.js';
import { loadHeldOut, loadPageDataset, registerHeldOutSource, type PageDataset } from './datasets.js';
import { blurbOf, chartsOf, gridColsOf, isBidirectional, recipeOf, runFromParams, statLabel, type RunDefaults } from './models.js';
import { TrainingSession, runSpecOf, type RunSpec } from './session.js';
import { getCheckpoint, putCheckpoint } from './store.js';
import { adapterLine, renderStartFailure, startEngine, watchDeviceLoss } from './webgpu.js';
import { fmtSeconds, isSoftwareAdapter, loadManifest, manifestKey, saveManifest, softwareSized } from './warmup.js';

// ---- what pages plug in ---------------------------------------------------------------------------

/** What an extra panel can reach. */
export interface PageContext {
  readonly model: string;
  readonly session: TrainingSession | null;
  readonly data: PageDataset | null;
  readonly heldOut: PageDataset | null;
  /** Runs `fn` with training paused (then resumes); its message or error goes to the status line. */
  paused(what: string, fn: () => Promise<string | void>): Promise<void>;
  /**
   * Runs a view change that needs no training step (flip, domain, latent walk): at once when no step
   * is running, else queued for the end of the current step, with `button` marked "after this step".
   */
  betweenSteps(what: string, fn: () => Promise<string | void>, button?: HTMLElement): Promise<void>;
  status(text: string, kind?: 'info' | 'ok' | 'warn' | 'error'): void;
}

/** A panel of a page's own (latent walk, direction picker, sketch pad) redrawn as the model trains. */
export interface Extra {
  panel: HTMLElement;
  /** Placed before the samples panel instead of after the training panel. */
  first?: boolean;
  /** Redraws from the current networks (after steps that redraw the samples, resets and restores). */
  refresh(): Promise<void>;
  dispose?(): void;
}

export interface TrainingPageOptions {
  /** The model this page trains; null: ?model= (default dcgan) with a picker of every registered model. */
  model: string | null;
  /** Run settings before the URL's (the draw page's dataset and widths). */
  base?: (model: string) => Partial<RunDefaults>;
  /** IndexedDB key of the model's checkpoint (default: the model's name). */
  storeKey?: (model: string) => string;
  /** The page's own panels for a model (called when the model's data is loaded). */
  extras?: (ctx: PageContext) => Extra[];
  /** Header title and lede paragraph for a model. */
  title: (model: string) => string;
  lede: (model: string) => (Node | string)[];
}

export interface DemoHandle {
  readonly ready: boolean;
  readonly model: string;
  readonly step: number;
  readonly running: boolean;
  readonly lastStats: Record<string, number> | null;
  readonly deviceLost: boolean;
  /** Luminance spread of the sample grid's cells (0 = blank). */
  samplesSpread(): number;
  /** The same for any canvas drawn by drawGrid, by id. */
  spread(canvasId: string): number;
  /** Switches the page to another model in place (same GPU device); params replace the URL's. */
  switchModel(model: string, params?: Record<string, string | number>): Promise<void>;
  /** Destroys the GPU device, as a driver reset would (tests of the recovery path). */
  loseDevice(): void;
  /** What the page showed while starting, in order (tests: progress before the first step). */
  readonly progress: readonly ProgressEntry[];
  /** Whether the page sized its run for a software adapter. */
  readonly software: boolean;
  /** View changes waiting for the current step to end. */
  readonly queued: number;
}

/** One progress message of a page's start: phase, kernels compiled (of total when known), step then. */
export interface ProgressEntry {
  phase: 'kernels' | 'samples' | 'first-step' | 'done';
  done: number;
  total: number | null;
  step: number;
  text: string;
  /** performance.now() when shown (ms since the page's navigation started). */
  t: number;
}

declare global {
  interface Window {
    __demo?: DemoHandle;
  }
}

// ---- sample views -------------------------------------------------------------------------------

interface SampleView {
  draw(s: TrainingSession): Promise<void>;
}

/** The generator's images of fixed latent codes (or the trainer's own sample layout). */
class NoiseGrid implements SampleView {
  constructor(private readonly canvas: HTMLCanvasElement, private readonly cols: number | undefined) {}

  async draw(s: TrainingSession): Promise<void> {
    const { data, shape } = await s.samples();
    drawGrid(this.canvas, data, shape, { nrow: this.cols ?? Math.ceil(Math.sqrt(shape[0])) });
  }
}

/**
 * Held-out input | output | target rows of an image-to-image model, A -> B through the recipe's own
 * heldOutPairs/translate hooks (as `gan eval` scores it), and B -> A for the two-generator models;
 * records held-out L1 and PSNR at each redraw.
 */
class PairGrid implements SampleView {
  direction: 'AtoB' | 'BtoA' = 'AtoB';
  private readonly pairs = new Map<string, HeldOutPairs>();

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly run: RunDefaults,
    private readonly count: number,
    private readonly charts: () => StatsCharts,
  ) {}

  private async pairsFor(direction: 'AtoB' | 'BtoA'): Promise<HeldOutPairs> {
    let p = this.pairs.get(direction);
    if (!p) {
      if (direction === 'AtoB') {
        p = await translationHooks(recipeOf(this.run.model))!.heldOutPairs(this.run.config, { limit: this.count, dataset: this.run.dataset });
      } else {
        p = splitHeldOut(await heldOutEmojiPairs({ dataset: this.run.dataset, size: Number(this.run.config.imageSize), limit: this.count }), true);
      }
      p = firstPairs(p, this.count);
      this.pairs.set(direction, p);
    }
    return p;
  }

  async draw(s: TrainingSession): Promise<void> {
    const p = await this.pairsFor(this.direction);
    const out = await s.translate(p.inputs, [p.n, ...p.inputShape], this.direction);
    const [, h, w] = p.targetShape;
    const shape = { n: p.n, c: p.targetShape[0], h, w };
    const suffix = this.direction === 'AtoB' ? '' : '_BtoA';
    this.charts().record(s.step, {
      [`heldout_L1${suffix}`]: l1Cpu(out.data, p.targets, shape).mean,
      [`heldout_PSNR${suffix}`]: psnrCpu(out.data, p.targets, shape).mean,
    });
    const cols = Math.min(8, p.n);
    const g = translationGrid(p.inputs, out.data, p.targets, p.n, { input: p.inputShape[0], output: out.shape[1], target: p.targetShape[0] }, h, w, cols);
    drawGrid(this.canvas, g.images, [g.n, 3, h, w], { nrow: cols });
  }
}

// ---- the page -----------------------------------------------------------------------------------

const yieldToUi = () => new Promise<void>((r) => setTimeout(r, 0));

export function startTrainingPage(opts: TrainingPageOptions): void {
  new TrainingPage(opts).start();
}

class TrainingPage implements PageContext {
  model: string;
  session: TrainingSession | null = null;
  data: PageDataset | null = null;
  heldOut: PageDataset | null = null;
  private run: RunDefaults | null = null;
  private running = false;
  private loopDone: Promise<void> | null = null;
  private lastStats: Record<string, number> | null = null;
  /** The newest checkpoint the page made or loaded (memory copy, for recovering a lost device). */
  private lastCheckpoint: { bytes: Uint8Array; step: number } | null = null;
  private deviceLost = false;
  private ready = false;
  private stepTimes: number[] = [];
  private charts: StatsCharts | null = null;
  private view: SampleView | null = null;
  private extras: Extra[] = [];
  private statKeys = '';
  private readonly ui: ReturnType<typeof buildLayout>;
  private readonly progressLog: ProgressEntry[] = [];
  private progressTimer: ReturnType<typeof setInterval> | null = null;
  /** Whether the current session has finished a training step on this page (kernels compiled). */
  private firstStepDone = false;
  private software = false;
  /** Seconds per step of the steps after the first (which also compiles kernels). */
  private stepSeconds: number[] = [];
  private lastDrawAt = 0;
  private queue: { what: string; fn: () => Promise<string | void>; button?: HTMLElement; done: () => void }[] = [];

  constructor(private readonly opts: TrainingPageOptions) {
    this.model = opts.model ?? (new URLSearchParams(location.search).get('model') || 'dcgan');
    this.ui = buildLayout(opts.model === null);
  }

  private get params(): URLSearchParams {
    return new URLSearchParams(location.search);
  }

  private get options() {
    const p = this.params;
    return {
      sampleCount: intParam(p, 'samples', 64, 1, 256),
      sampleEvery: intParam(p, 'sampleEvery', 20, 1, 100000),
      /** Seconds between redraws of the views while training, whatever the step count. */
      refreshSeconds: intParam(p, 'refresh', 5, 0, 3600),
      autosaveEvery: intParam(p, 'autosave', 250, 0, 1e9),
      autostart: p.get('autostart') !== '0',
      fresh: p.get('fresh') === '1',
      seed: intParam(p, 'seed', 1, 0, 2 ** 31),
    };
  }

  private storeKey(model = this.model): string {
    return this.opts.storeKey?.(model) ?? model;
  }

  status(text: string, kind: 'info' | 'ok' | 'warn' | 'error' = 'info'): void {
    setStatus(this.ui.status, text, kind);
  }

  // ---- rendering ----

  private setControls(enabled: boolean): void {
    const u = this.ui;
    for (const b of [u.toggle, u.reset, u.lrApply, u.saveIdb, u.loadIdb, u.download]) b.disabled = !enabled;
    u.upload.disabled = !enabled;
    u.uploadLabel.classList.toggle('disabled', !enabled);
    u.step.disabled = !enabled || this.running;
    if (u.picker) u.picker.disabled = !enabled;
    if (u.direction) u.direction.disabled = !enabled;
    for (const x of this.extras) x.panel.querySelectorAll<HTMLButtonElement>('button[data-needs-session]').forEach((b) => (b.disabled = !enabled));
    // Pause answers at once: the button says so while the step in flight finishes; clicking it
    // again cancels the pause.
    const pausing = !this.running && !!this.loopDone;
    if (pausing) u.toggle.disabled = false;
    u.toggle.textContent = this.running ? 'Pause' : pausing ? 'Pausing after this step…' : 'Resume';
    u.toggle.dataset.state = this.running ? 'running' : pausing ? 'pausing' : 'paused';
    document.body.dataset.running = String(this.running);
  }

  private showStats(): void {
    const s = this.session;
    const stats = this.lastStats ?? {};
    const keys = Object.keys(stats);
    if (keys.join() !== this.statKeys || !keys.length) {
      this.statKeys = keys.join();
      this.ui.statRows.replaceChildren(
        ...(keys.length
          ? keys.flatMap((k) => [el('dt', {}, statLabel(k)), el('dd', { id: `stat-${k}` }, '—')])
          : [el('dt', {}, 'statistics'), el('dd', { id: 'stat-pending', class: 'muted' }, this.firstStepDone ? 'none reported' : 'after the first step (it compiles the training kernels)')]),
      );
    }
    for (const k of keys) {
      const dd = document.getElementById(`stat-${k}`);
      if (dd) dd.textContent = fmt(stats[k]);
    }
    byId('stat-step').textContent = String(s?.step ?? 0);
    const t = this.stepTimes;
    if (t.length >= 2) {
      const sps = (t.length - 1) / ((t[t.length - 1] - t[0]) / 1000);
      byId('stat-sps').textContent = sps.toFixed(sps < 10 ? 2 : 1);
    } else byId('stat-sps').textContent = this.firstStepDone ? 'after one more step' : this.running ? 'after the first steps (the first compiles kernels)' : 'not training yet';
    const secs = [...this.stepSeconds].sort((a, b) => a - b);
    byId('stat-steptime').textContent = secs.length
      ? `${fmtSeconds(secs[secs.length >> 1])} per step${this.software ? ' (software adapter)' : ''}`
      : this.firstStepDone ? 'measured from the second step' : 'measured after the first step';
    const est = document.getElementById('software-steptime');
    if (est && secs.length) est.textContent = ` Here a step takes about ${fmtSeconds(secs[secs.length >> 1])}.`;
    if (s) {
      // The options that differ from the recipe's defaults (the rest as `gan train <model> --help` says).
      const c = s.spec.config;
      const defaults = s.recipe.options;
      const opts = Object.entries(c).filter(([k, v]) => k !== 'imageSize' && defaults[k] && defaults[k].default !== v).map(([k, v]) => `${k} ${v}`);
      byId('stat-model').textContent = `${s.spec.model}, ${c.imageSize}×${c.imageSize}${opts.length ? `, ${opts.join(', ')}` : ''}, batch ${s.spec.batch}`;
      byId('stat-data').textContent = this.data?.source ?? '—';
    }
  }

  /** Redraws the sample grid and the extra panels from the current networks. */
  private async drawAll(): Promise<void> {
    const s = this.session;
    if (!s || !this.view) return;
    const step = s.step;
    await this.view.draw(s);
    const o = this.options;
    byId('samples-caption').textContent = `at step ${step} · redrawn every ${o.sampleEvery} steps${o.refreshSeconds ? ` or ${o.refreshSeconds} s` : ''} while training`;
    byId('samples-caption').dataset.step = String(step);
    for (const x of this.extras) await x.refresh();
    this.lastDrawAt = performance.now();
  }

  // ---- start-up progress ----

  /** Shows (and logs) a start-up message; 'done' hides the progress bar. */
  private progress(phase: ProgressEntry['phase'], done: number, total: number | null, text: string): void {
    this.progressLog.push({ phase, done, total, step: this.session?.step ?? 0, text, t: performance.now() });
    const box = byId('progress');
    box.classList.toggle('hidden', phase === 'done');
    box.dataset.phase = phase;
    byId('progress-text').textContent = text;
    const bar = byId<HTMLProgressElement>('progress-bar');
    if (total) {
      bar.max = total;
      bar.value = done;
    } else bar.removeAttribute('value'); // indeterminate
    if (phase !== 'done') this.status(text);
  }

  /** Counts kernels compiled while `fn` runs (first visits: the total is not known beforehand). */
  private async counting<T>(phase: 'samples' | 'first-step', what: string, fn: () => Promise<T>): Promise<T> {
    const base = engine().counters.pipelinesCompiled;
    const t0 = performance.now();
    const show = () => {
      const n = engine().counters.pipelinesCompiled - base;
      const secs = ((performance.now() - t0) / 1000).toFixed(0);
      this.progress(phase, n, null, `${what}: ${n} new kernel${n === 1 ? '' : 's'} compiled so far (${secs} s)…`);
    };
    show();
    if (this.progressTimer) clearInterval(this.progressTimer);
    this.progressTimer = setInterval(show, 500);
    try {
      return await fn();
    } finally {
      clearInterval(this.progressTimer);
      this.progressTimer = null;
      show(); // the final count
    }
  }

  private manifestKey(): string {
    const s = this.session!;
    return manifestKey(s.spec.model, s.spec.config, s.spec.batch, this.options.sampleCount);
  }

  /** Compiles the kernels this run used last time (all at once, asynchronously), with progress. */
  private async prewarm(): Promise<void> {
    const specs = loadManifest(this.manifestKey());
    if (!specs.length) return;
    await engine().prewarm(specs, (done, total) => {
      if (total) this.progress('kernels', done, total, `compiling kernels: ${done} of ${total}…`);
    });
  }

  // ---- data and sessions ----

  /** The run from the URL for the current model (defaults, then the page's base, then the URL). */
  private runFromUrl(): RunDefaults {
    const run = runFromParams(this.model, this.params, this.opts.base?.(this.model) ?? {});
    const note = byId('software-note');
    if (!this.software) {
      note.classList.add('hidden');
      return run;
    }
    const { run: small, changed } = softwareSized(run, this.params);
    note.replaceChildren(
      el('strong', {}, 'Software adapter. '),
      changed.length
        ? `This WebGPU adapter runs on the CPU, so the page trains a smaller run than on a GPU: ${changed.map(([k, a, b]) => `${k} ${a} → ${b}`).join(', ')}. Add ${changed.map(([k, a]) => `${k}=${a}`).join('&')} to the URL for the GPU sizes.`
        : 'This WebGPU adapter runs on the CPU: steps are slow.',
      el('span', { id: 'software-steptime' }),
    );
    note.classList.remove('hidden');
    return small;
  }

  /** Loads the dataset (and held-out set) a run needs, and adapts the config to the data. */
  private async loadData(run: RunDefaults): Promise<RunDefaults> {
    const recipe = recipeOf(run.model);
    const size = recipe.imageShape(run.config).size;
    if (!this.data || this.data.name !== run.dataset || this.data.data.sampleShape[1] !== size) {
      this.status(`loading ${run.dataset} from this site…`);
      this.data = await loadPageDataset(run.dataset, size);
      this.heldOut = await loadHeldOut(run.dataset, size);
    }
    const config = recipe.adaptToData ? recipe.adaptToData(run.config, { channels: this.data.channels }) : run.config;
    return { ...run, config };
  }

  private newSession(spec: RunSpec): TrainingSession {
    this.session?.dispose();
    this.session = null;
    const s = new TrainingSession({ ...spec, config: { ...spec.config } }, this.data!.data, this.data!.name, this.options.sampleCount);
    this.session = s;
    this.lastStats = null;
    this.stepTimes.length = 0;
    this.stepSeconds.length = 0;
    this.firstStepDone = false;
    this.ui.lr.value = String(s.lr);
    this.ui.seed.value = String(spec.seed);
    return s;
  }

  /** Builds the views, extras and charts of the current model, run and session. */
  private buildViews(run: RunDefaults): void {
    for (const x of this.extras) {
      x.dispose?.();
      x.panel.remove();
    }
    this.charts?.destroy();
    const recipe = recipeOf(run.model);
    const translation = !!translationHooks(recipe) && !!this.heldOut?.manifest?.domains;
    this.charts = new StatsCharts(this.ui.panels, chartsOf(run.model, translation));
    if (translation) {
      const grid = new PairGrid(this.ui.samples, run, Math.min(8, this.options.sampleCount), () => this.charts!);
      this.view = grid;
      this.ui.direction?.classList.toggle('hidden', !isBidirectional(run.model, run.config));
      if (this.ui.direction) {
        this.ui.direction.textContent = 'Show B → A';
        this.ui.direction.onclick = () => {
          // The button answers at once (the direction it will show); the redraw waits for the step in flight.
          grid.direction = grid.direction === 'AtoB' ? 'BtoA' : 'AtoB';
          this.ui.direction!.textContent = grid.direction === 'AtoB' ? 'Show B → A' : 'Show A → B';
          this.ui.direction!.dataset.showing = grid.direction;
          void this.betweenSteps('flip direction', async () => {
            await this.drawAll();
            return `showing ${grid.direction === 'AtoB' ? 'A → B' : 'B → A'} (${this.heldOut?.manifest?.domains?.map((d) => d.name).join(' ↔ ')})`;
          }, this.ui.direction!);
        };
      }
      const d = this.heldOut!.manifest!.domains!;
      this.ui.samplesNote.textContent = `Rows: held-out input, the model's output, the real target (${d[0].name} → ${d[1].name}; emoji never in the training split). ${blurbOf(run.model) ?? ''}`;
    } else {
      this.view = new NoiseGrid(this.ui.samples, gridColsOf(run.model));
      this.ui.direction?.classList.add('hidden');
      this.ui.samplesNote.textContent = blurbOf(run.model) ?? 'The same fixed latent codes as training goes on.';
    }
    this.extras = this.opts.extras?.(this) ?? [];
    for (const x of this.extras) {
      if (x.first) this.ui.panels.insertBefore(x.panel, this.ui.panels.firstChild);
      else this.ui.trainingPanel.after(x.panel);
    }
  }

  /** Restores checkpoint bytes, rebuilding the networks (and the data) when the checkpoint's run differs. */
  /** Returns the step the checkpoint records (the step the page now continues from). */
  private async restoreBytes(bytes: Uint8Array, source: string): Promise<number> {
    const spec = runSpecOf(bytes, source);
    if (spec.model !== this.model) {
      if (this.opts.model !== null) throw new Error(`${source}: a '${spec.model}' checkpoint; this page trains ${this.model}`);
      if (!recipes[spec.model]) throw new Error(`${source}: a '${spec.model}' checkpoint, a model this build does not have`);
      await this.enter(spec.model, { restoring: true });
    }
    const dataset = spec.dataset ?? this.run!.dataset;
    const cur = this.session;
    const same = cur && JSON.stringify(cur.spec.config) === JSON.stringify(spec.config) && cur.spec.batch === spec.batch && this.data?.name === dataset;
    if (!same) {
      this.run = await this.loadData({ model: spec.model, config: spec.config, batch: spec.batch, lr: spec.lr, dataset });
      this.newSession(spec);
      this.buildViews(this.run);
    }
    const s = this.session!;
    const { history } = s.restore(bytes, source);
    s.spec.seed = spec.seed;
    this.ui.seed.value = String(spec.seed);
    this.ui.lr.value = String(s.lr);
    this.stepTimes.length = 0;
    this.charts!.setHistory(history);
    this.lastStats = history?.xs.length ? this.charts!.latest() : null;
    if (this.lastStats) for (const k of Object.keys(this.lastStats)) if (k.startsWith('heldout_')) delete this.lastStats[k];
    const step = s.step;
    this.lastCheckpoint = { bytes, step };
    byId('stat-ckpt').textContent = `step ${step} (${source})`;
    this.showStats();
    await this.drawAll();
    return step;
  }

  private async checkpointNow(): Promise<Uint8Array> {
    const bytes = await this.session!.toBytes(this.charts!.history());
    this.lastCheckpoint = { bytes, step: this.session!.step };
    return bytes;
  }

  private async saveToBrowser(what: string): Promise<void> {
    const s = this.session!;
    const bytes = await this.checkpointNow();
    await putCheckpoint({ key: this.storeKey(), bytes, step: s.step, savedAt: Date.now(), config: s.spec.config });
    byId('stat-ckpt').textContent = `step ${s.step} (${what}, ${(bytes.length / 1024).toFixed(0)} KiB)`;
  }

  // ---- the training loop ----

  private async oneStep(): Promise<void> {
    const s = this.session!;
    const t0 = performance.now();
    const first = !this.firstStepDone;
    const stats = first ? await this.counting('first-step', `first step (step ${s.step + 1})`, () => s.trainStep(true)) : await s.trainStep(true);
    if (first) {
      this.firstStepDone = true;
      saveManifest(this.manifestKey(), engine().kernelSpecs());
      this.progress('done', 0, null, `first step done in ${fmtSeconds((performance.now() - t0) / 1000)}`);
      if (this.running) this.status('training…');
    } else {
      this.stepSeconds.push((performance.now() - t0) / 1000);
      if (this.stepSeconds.length > 15) this.stepSeconds.shift();
    }
    this.stepTimes.push(performance.now());
    if (this.stepTimes.length > 30) this.stepTimes.shift();
    if (stats) {
      this.lastStats = stats;
      this.charts!.record(s.step, stats);
      const bad = Object.entries(stats).filter(([, v]) => !Number.isFinite(v));
      if (bad.length) {
        this.running = false;
        this.status(`stopped: non-finite ${bad.map(([k, v]) => `${k}=${v}`).join(', ')} at step ${s.step}; lower the learning rate and reset or load a checkpoint`, 'error');
      }
    }
    const o = this.options;
    const stale = o.refreshSeconds > 0 && performance.now() - this.lastDrawAt >= o.refreshSeconds * 1000;
    if (s.step % o.sampleEvery === 0 || !this.running || stale) await this.drawAll();
    const every = this.options.autosaveEvery;
    if (every && s.step % every === 0) await this.saveToBrowser('autosaved');
    this.showStats();
  }

  /** Starts training; `keepStatus` leaves the status line's message (an action that just finished). */
  private startLoop(keepStatus = false): void {
    if (this.loopDone || !this.session) return;
    this.running = true;
    this.setControls(true);
    if (!keepStatus) this.status('training…');
    this.loopDone = (async () => {
      try {
        while (this.running && this.session && !this.deviceLost) {
          await this.oneStep();
          await this.drainQueue();
          await yieldToUi();
        }
      } catch (e) {
        this.running = false;
        if (this.deviceLost || engine().isLost) return; // the lost-device banner explains
        this.status(`training failed: ${(e as Error).message}`, 'error');
        console.error(e);
      } finally {
        this.loopDone = null;
        // Paused between steps: the views show the step the counter shows.
        if (this.session && !this.deviceLost && byId('samples-caption').dataset.step !== String(this.session.step)) await this.drawAll().catch(() => undefined);
        await this.drainQueue();
        if (!this.deviceLost) {
          this.setControls(true);
          if (this.ui.status.dataset.kind !== 'error') this.status(`paused at step ${this.session?.step ?? 0}`);
        }
      }
    })();
  }

  private async stopLoop(): Promise<void> {
    this.running = false;
    await this.loopDone;
  }

  /** Runs the view changes queued during a step, in order. */
  private async drainQueue(): Promise<void> {
    while (this.queue.length && !this.deviceLost) {
      const q = this.queue.shift()!;
      await this.runNow(q.what, q.fn);
      if (q.button) delete q.button.dataset.pending;
      q.done();
    }
  }

  private async runNow(what: string, fn: () => Promise<string | void>): Promise<void> {
    try {
      const msg = await fn();
      this.status(msg ?? `${what}: done`, 'ok');
    } catch (e) {
      this.status(`${what} failed: ${(e as Error).message}`, 'error');
    }
  }

  betweenSteps(what: string, fn: () => Promise<string | void>, button?: HTMLElement): Promise<void> {
    if (!this.loopDone) return this.runNow(what, fn);
    return new Promise<void>((done) => {
      this.queue.push({ what, fn, button, done });
      if (button) button.dataset.pending = 'after this step';
      this.status(`${what}: after this step (step ${(this.session?.step ?? 0) + 1} is running)…`);
    });
  }

  async paused(what: string, fn: () => Promise<string | void>): Promise<void> {
    const wasRunning = this.running;
    if (this.loopDone) this.status(`${what}: after this step (step ${(this.session?.step ?? 0) + 1} is running)…`);
    this.setControls(false);
    await this.stopLoop();
    this.status(`${what}…`);
    try {
      const msg = await fn();
      this.status(msg ?? `${what}: done`, 'ok');
    } catch (e) {
      this.status(`${what} failed: ${(e as Error).message}`, 'error');
      this.setControls(true);
      return;
    }
    this.setControls(true);
    if (wasRunning) this.startLoop(true);
  }

  // ---- models ----

  /** Sets up the page for a model: run from the URL, data, views, a new session (no drawing). */
  private async enter(model: string, { restoring = false } = {}): Promise<void> {
    this.model = model;
    recipeOf(model);
    if (this.opts.model === null && this.params.get('model') !== model) {
      const p = this.params;
      p.set('model', model);
      history.replaceState(null, '', `?${p}`);
    }
    document.title = `${this.opts.title(model)} · webgpu-gan`;
    byId('title').textContent = this.opts.title(model);
    byId('lede').replaceChildren(...this.opts.lede(model));
    if (this.ui.picker) this.ui.picker.value = model;
    byId('restored-note').classList.add('hidden');
    const run = this.runFromUrl();
    this.run = await this.loadData(run);
    this.status('building the networks…');
    this.newSession({ model, config: this.run.config, batch: this.run.batch, lr: this.run.lr, seed: this.options.seed, dataset: this.run.dataset });
    this.buildViews(this.run);
    if (!restoring) {
      byId('stat-ckpt').textContent = 'none yet';
      this.lastCheckpoint = null;
    }
  }

  /** Sets up a model, restores its browser checkpoint (unless ?fresh=1), draws, and starts training. */
  private async load(model: string): Promise<void> {
    this.ready = false;
    await this.enter(model);
    let note = '';
    if (!this.options.fresh) {
      const stored = await getCheckpoint(this.storeKey()).catch((e: Error) => {
        note = `Could not read the checkpoint store: ${e.message}`;
        return null;
      });
      if (stored) {
        try {
          await this.restoreBytes(stored.bytes, 'browser checkpoint');
          note = `Resumed from the checkpoint saved in this browser at step ${stored.step} (${new Date(stored.savedAt).toLocaleString()}). Reset starts over; add ?fresh=1 to the URL to ignore it on load.`;
        } catch (e) {
          note = `The checkpoint saved in this browser could not be restored (${(e as Error).message}); starting fresh.`;
          await this.enter(model);
        }
      }
    }
    if (note) {
      const n = byId('restored-note');
      n.textContent = note;
      n.classList.remove('hidden');
    }
    this.showStats();
    await this.prewarm();
    await this.counting('samples', 'drawing the first samples', () => this.drawAll());
    if (!this.options.autostart) this.progress('done', 0, null, 'ready');
    this.ready = true;
    this.setControls(true);
    this.status(`ready at step ${this.session!.step}`);
    if (this.options.autostart) this.startLoop();
  }

  async switchModel(model: string, params?: Record<string, string | number>): Promise<void> {
    if (!recipes[model]) throw new Error(`no model '${model}' (registered: ${Object.keys(recipes).join(', ')})`);
    this.setControls(false);
    await this.stopLoop();
    const p = params ? new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])) : this.params;
    p.set('model', model);
    history.replaceState(null, '', `?${p}`);
    this.session?.dispose();
    this.session = null;
    this.lastStats = null;
    try {
      await this.load(model);
    } catch (e) {
      this.status(`${model} failed to start: ${(e as Error).message}`, 'error');
      this.setControls(!!this.session);
      throw e;
    }
  }

  // ---- controls ----

  private wire(): void {
    const u = this.ui;
    u.toggle.addEventListener('click', () => {
      if (this.running) {
        // Answers at once: the step in flight finishes, then the loop stops ("Pausing after this step…").
        this.running = false;
        this.setControls(true);
        this.status(`pausing after step ${(this.session?.step ?? 0) + 1}…`);
      } else if (this.loopDone) {
        // Clicked again while pausing: keep training.
        this.running = true;
        this.setControls(true);
        this.status('training…');
      } else this.startLoop();
    });
    u.step.addEventListener('click', () =>
      this.paused('step', async () => {
        await this.oneStep(); // draws the samples too, since the loop is not running
        return `step ${this.session!.step}`;
      }),
    );
    u.reset.addEventListener('click', () =>
      this.paused('reset', async () => {
        const seed = Number(u.seed.value);
        if (!Number.isInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got '${u.seed.value}'`);
        const lr = Number(u.lr.value);
        const r = this.run!;
        this.newSession({ ...(this.session?.spec ?? { model: this.model, config: r.config, batch: r.batch, lr: r.lr }), seed, lr: lr > 0 ? lr : r.lr, dataset: r.dataset });
        this.charts!.setHistory(null);
        byId('stat-ckpt').textContent = 'none yet';
        this.showStats();
        await this.drawAll();
        return `new networks from seed ${seed}`;
      }),
    );
    u.lrApply.addEventListener('click', () => {
      try {
        if (u.lr.validity.badInput || u.lr.value.trim() === '') {
          throw new Error('learning rate: the box does not hold a number; type one such as 0.0002');
        }
        this.session!.setLr(Number(u.lr.value));
        this.status(`learning rate ${this.session!.lr} from step ${this.session!.step + 1}`, 'ok');
      } catch (e) {
        this.status((e as Error).message, 'error');
      }
    });
    u.saveIdb.addEventListener('click', () =>
      this.paused('save in browser', async () => {
        await this.saveToBrowser('saved in browser');
        return `saved step ${this.session!.step} in this browser (IndexedDB)`;
      }),
    );
    u.loadIdb.addEventListener('click', () =>
      this.paused('load from browser', async () => {
        const rec = await getCheckpoint(this.storeKey());
        if (!rec) throw new Error('no checkpoint is saved in this browser yet');
        await this.restoreBytes(rec.bytes, 'browser checkpoint');
        return `restored step ${rec.step} from this browser (saved ${new Date(rec.savedAt).toLocaleString()})`;
      }),
    );
    u.download.addEventListener('click', () =>
      this.paused('download', async () => {
        const s = this.session!;
        const bytes = await this.checkpointNow();
        const name = `${s.spec.model}-${this.data!.name}${s.spec.config.imageSize}-step${s.step}.safetensors`;
        downloadBytes(name, bytes);
        byId('stat-ckpt').textContent = `step ${s.step} (downloaded)`;
        return `downloaded ${name} (${(bytes.length / 1024).toFixed(0)} KiB)`;
      }),
    );
    u.upload.addEventListener('change', () => {
      const file = u.upload.files?.[0];
      if (!file) return;
      void this.paused(`load ${file.name}`, async () => {
        const step = await this.restoreBytes(await fileBytes(file), file.name);
        u.upload.value = '';
        return `restored step ${step} from ${file.name}`;
      });
    });
    u.picker?.addEventListener('change', () => {
      void this.switchModel(u.picker!.value).catch((e: Error) => console.warn(e));
    });
    byId('btn-recover').addEventListener('click', () => void this.recover());
  }

  // ---- device loss ----

  private onDeviceLost(reason: string): void {
    this.deviceLost = true;
    this.running = false;
    this.setControls(false);
    const c = this.lastCheckpoint;
    byId('lost-reason').textContent = `Reason: ${reason}. ${c ? `The last checkpoint is from step ${c.step}.` : 'No checkpoint was kept yet: resuming starts new networks.'}`;
    byId('btn-recover').textContent = c ? `Resume from step ${c.step}` : 'Restart training';
    byId('lost-banner').classList.remove('hidden');
    this.status('GPU device lost', 'error');
  }

  private async connect(): Promise<boolean> {
    const started = await startEngine();
    if ('failure' in started) {
      renderStartFailure(byId('webgpu-status'), started.failure);
      this.ui.panels.classList.add('hidden');
      this.ui.adapter.textContent = 'no WebGPU';
      this.status(started.failure.message, 'error');
      return false;
    }
    const e = started.engine;
    this.ui.adapter.textContent = adapterLine(e);
    this.software = isSoftwareAdapter(e, this.params);
    watchDeviceLoss(e, (reason) => this.onDeviceLost(reason));
    return true;
  }

  private async recover(): Promise<void> {
    const btn = byId<HTMLButtonElement>('btn-recover');
    btn.disabled = true;
    this.status('starting a new GPU device…');
    try {
      // The old session's buffers died with the old device: drop them without touching them.
      this.session = null;
      if (!(await this.connect())) return;
      this.deviceLost = false;
      byId('lost-banner').classList.add('hidden');
      const bytes = this.lastCheckpoint?.bytes ?? (await getCheckpoint(this.storeKey()).catch(() => null))?.bytes;
      // Views hold no GPU state; the session is rebuilt on the new device.
      this.newSession({ model: this.model, config: this.run!.config, batch: this.run!.batch, lr: this.run!.lr, seed: Number(this.ui.seed.value) || 1, dataset: this.run!.dataset });
      if (bytes) await this.restoreBytes(bytes, 'last checkpoint');
      else {
        this.charts!.setHistory(null);
        await this.drawAll();
      }
      this.showStats();
      this.setControls(true);
      this.status(`resumed on a new device at step ${this.session!.step}`, 'ok');
      this.startLoop();
    } catch (e) {
      this.status(`could not resume: ${(e as Error).message}`, 'error');
    } finally {
      btn.disabled = false;
    }
  }

  // ---- start ----

  start(): void {
    // Image-to-image recipes find their held-out pairs in this build's data.
    registerHeldOutSource();
    this.wire();
    this.exposeHandle();
    (async () => {
      byId('title').textContent = this.opts.title(this.model);
      if (!(await this.connect())) return;
      await this.load(this.model);
    })().catch((e: Error) => {
      this.status(`failed to start: ${e.message}`, 'error');
      console.error(e);
    });
  }

  private exposeHandle(): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const page = this;
    window.__demo = {
      get ready() {
        return page.ready;
      },
      get model() {
        return page.model;
      },
      get step() {
        return page.session?.step ?? 0;
      },
      get running() {
        return page.running;
      },
      get lastStats() {
        return page.lastStats;
      },
      get deviceLost() {
        return page.deviceLost;
      },
      samplesSpread: () => canvasSpread(page.ui.samples),
      spread: (id) => canvasSpread(byId<HTMLCanvasElement>(id)),
      switchModel: (model, params) => page.switchModel(model, params),
      loseDevice: () => engine().device.destroy(),
      get progress() {
        return page.progressLog;
      },
      get software() {
        return page.software;
      },
      get queued() {
        return page.queue.length;
      },
    };
  }
}

/** Models whose noise() hands out sample inputs (images) rather than latent codes: no latent space. */
export function hasLatentCodes(s: TrainingSession): boolean {
  return !((s.trainer as unknown as { samples?: unknown }).samples instanceof SampleInputs);
}

// ---- layout ---------------------------------------------------------------------------------------

/** The training page's panels, inside the page's <main id="app">; returns the elements it wires. */
function buildLayout(withPicker: boolean) {
  const button = (id: string, text: string, title?: string, cls?: string) => el('button', { id, disabled: true, title, class: cls }, text);
  const picker = withPicker
    ? el('select', { id: 'model', 'aria-label': 'model' }, ...Object.keys(recipes).map((m) => el('option', { value: m }, m)))
    : null;
  const direction = el('button', { id: 'btn-direction', class: 'hidden', disabled: true }, 'Show B → A');
  const samples = el('canvas', { id: 'samples', class: 'pixels', width: 1, height: 1, 'aria-label': 'generated samples' });
  const samplesNote = el('p', { class: 'muted small', id: 'samples-note' });
  const samplesPanel = el(
    'section',
    { class: 'panel', id: 'panel-samples' },
    el('h2', {}, 'Samples ', el('span', { class: 'muted small', id: 'samples-caption' })),
    el('div', { class: 'controls' }, picker ? el('label', {}, 'model ', picker) : null, direction),
    samples,
    samplesNote,
  );
  const upload = el('input', { id: 'upload', type: 'file', accept: '.safetensors', class: 'hidden', disabled: true });
  const uploadLabel = el('label', { class: 'button', id: 'upload-label', title: 'load a .safetensors checkpoint' }, 'Upload…', upload);
  const statRows = el('div', { class: 'stat-rows' });
  const status = el('p', { class: 'status', id: 'status', 'aria-live': 'polite' }, 'loading…');
  const lr = el('input', { id: 'lr', type: 'number', step: '0.0001', min: '0.000001', max: '0.5' });
  const seed = el('input', { id: 'seed', type: 'number', step: '1', min: '0' });
  const trainingPanel = el(
    'section',
    { class: 'panel', id: 'panel-training' },
    el('h2', {}, 'Training'),
    el('div', { class: 'controls' },
      button('btn-toggle', 'Pause', undefined, 'primary'),
      button('btn-step', 'Step', 'one training step (while paused)'),
      button('btn-reset', 'Reset', 'new networks from the seed'),
    ),
    el('div', { class: 'controls' }, el('label', {}, 'learning rate ', lr), button('btn-lr', 'Apply'), el('label', {}, 'seed ', seed)),
    el('div', { class: 'controls' },
      button('btn-save-idb', 'Save in browser', 'keep a checkpoint in this browser (IndexedDB)'),
      button('btn-load-idb', 'Load from browser', 'restore the checkpoint kept in this browser'),
      el('span', { class: 'sep' }),
      button('btn-download', 'Download .safetensors', 'download a .safetensors checkpoint (gan sample / gan train --resume read it)'),
      uploadLabel,
    ),
    el('div', { id: 'progress', class: 'progress', role: 'status' },
      el('progress', { id: 'progress-bar' }),
      el('span', { id: 'progress-text' }, 'starting WebGPU…'),
    ),
    el('dl', { class: 'stats' },
      el('dt', {}, 'step'), el('dd', { id: 'stat-step' }, '0'),
      el('dt', {}, 'steps / s'), el('dd', { id: 'stat-sps' }, 'not training yet'),
      el('dt', {}, 'step time'), el('dd', { id: 'stat-steptime' }, 'measured after the first step'),
      statRows,
      el('dt', {}, 'model'), el('dd', { id: 'stat-model' }, '—'),
      el('dt', {}, 'data'), el('dd', { id: 'stat-data' }, '—'),
      el('dt', {}, 'checkpoint'), el('dd', { id: 'stat-ckpt' }, 'none yet'),
    ),
    status,
  );
  const panels = el('div', { class: 'panels', id: 'panels' }, samplesPanel, trainingPanel);
  byId('app').replaceChildren(
    el('p', { class: 'lede', id: 'lede' }),
    el('div', { id: 'webgpu-status' }),
    el('div', { id: 'lost-banner', class: 'notice error hidden', role: 'alert' },
      el('h2', {}, 'The GPU device was lost'),
      el('p', { id: 'lost-reason' }),
      el('p', {}, 'Training stopped. The page can start a new device and continue from the last checkpoint it kept.'),
      el('button', { id: 'btn-recover', class: 'primary' }, 'Resume from last checkpoint'),
    ),
    el('div', { id: 'restored-note', class: 'notice info hidden' }),
    el('div', { id: 'software-note', class: 'notice info hidden' }),
    panels,
  );
  return {
    status,
    adapter: byId('adapter'),
    toggle: byId<HTMLButtonElement>('btn-toggle'),
    step: byId<HTMLButtonElement>('btn-step'),
    reset: byId<HTMLButtonElement>('btn-reset'),
    lr,
    lrApply: byId<HTMLButtonElement>('btn-lr'),
    seed,
    saveIdb: byId<HTMLButtonElement>('btn-save-idb'),
    loadIdb: byId<HTMLButtonElement>('btn-load-idb'),
    download: byId<HTMLButtonElement>('btn-download'),
    upload,
    uploadLabel,
    picker,
    direction,
    samples,
    samplesNote,
    statRows,
    panels,
    trainingPanel,
  };
}
