// A page that trains one registered model live in the tab: what the DCGAN page, the generic
// training page (train/?model=NAME) and the draw page have in common. This file is the page's
// session control: which model and run it trains, its data, the TrainingSession (session.ts) and
// what a step, a restore, a model switch and a lost device do to it. The parts live beside it in
// training/:
//   - api.ts: what pages and their extra panels plug in, and window.__demo (DemoHandle);
//   - layout.ts: the panels (samples, training controls and stats, then charts and the page's
//     extra panels), the lost-device banner, the notices;
//   - views.ts: the sample grid from fixed latent codes, or for image-to-image models held-out
//     input | output | target rows (both directions for the two-generator models) with held-out
//     L1 / PSNR charted beside the trainer's own stats (charts.ts);
//   - run-loop.ts: the training loop, pause/resume, actions run paused, view changes queued
//     between steps;
//   - controls.ts: the buttons' states and actions (step, reset with a seed, learning rate,
//     save/load in the browser, download/upload, model picker);
//   - checkpoints.ts: .safetensors checkpoints (the CLI's run layout, so `gan sample` /
//     `gan train --resume` read them) in memory, in IndexedDB (restored on load unless ?fresh=1;
//     autosaved every N steps) and as files;
//   - stats-panel.ts: step, steps/s, step time, the trainer's statistics, the run;
//   - progress.ts: start-up progress while kernels compile.
// Which weights a page starts from: the checkpoint this browser saved for the model (unless
// ?fresh=1), else the trained weights shipped with the project when the model has them
// (zoo/<model>/, served by the build with a manifest: shared/zoo.ts) and the URL asks for nothing
// they do not fit (another width, size or dataset), else untrained networks. The weights line
// above the samples says which ("trained: step N of M, see its card"), with "Untrained" and
// "Trained weights" one click away. Shipped weights hold the generator alone (float16): training
// continues from them with a fresh discriminator and fresh optimisers, unless the zoo also ships
// the run's float32 checkpoint of the same step (then the page loads that: the run itself). A page
// that starts from trained weights does not start training by itself (?autostart=1 makes it).
// The run is the recipe's defaults + quick preset + the model's `demo` overrides + URL parameters
// (models.ts); a lost GPU device stops training and offers to resume from the last checkpoint on a
// new one.
//
// URL parameters: model (generic page), any of the model's options (camelCase, kebab-case; size =
// imageSize), batch, lr, dataset, seed [1], samples [64], sampleEvery [20], autosave [250],
// walk [8], autostart [1; 0 with trained weights], fresh [0] (1: untrained networks, ignoring this
// browser's checkpoint and the shipped weights). State for tests and the console: window.__demo
// (DemoHandle).

import { engine } from '../../engine/device.js';
import { recipes } from '../../nets/registry.js';
import { translationHooks } from '../../nets/lib/translation.js';
import { StatsCharts } from './charts.js';
import { byId, el, intParam, setStatus } from './dom.js';
import { canvasSpread } from './grid.js';
import { loadHeldOut, loadPageDataset, registerHeldOutSource, type PageDataset } from './datasets.js';
import { blurbOf, chartsOf, gridColsOf, isBidirectional, recipeOf, runFromParams, type RunDefaults } from './models.js';
import { TrainingSession, runSpecOf, type RunSpec } from './session.js';
import type { Logged } from '../../nets/lib/pipeline.js';
import { adapterLine, renderStartFailure, startEngine, watchDeviceLoss } from './webgpu.js';
import { WIDTH_OPTION, fmtSeconds, isSoftwareAdapter, manifestKey, saveManifest, softwareSized } from './warmup.js';
import { shippedMismatch, shippedWeights, trainedCaption, zooBytes, zooHistory, zooUrl, type ZooEntry } from './zoo.js';
import type { Extra, PageContext, StatusKind, TrainingPageOptions, WeightsState } from './training/api.js';
import { Checkpoints } from './training/checkpoints.js';
import { renderControls, wireControls } from './training/controls.js';
import { buildLayout, type PageLayout } from './training/layout.js';
import { StartupProgress } from './training/progress.js';
import { RunLoop } from './training/run-loop.js';
import { StatsPanel } from './training/stats-panel.js';
import { NoiseGrid, PairGrid, type SampleView } from './training/views.js';

export type { DemoHandle, Extra, PageContext, ProgressEntry, TrainingPageOptions, WeightsState } from './training/api.js';
export { hasLatentCodes } from './training/views.js';

export function startTrainingPage(opts: TrainingPageOptions): void {
  new TrainingPage(opts).start();
}

class TrainingPage implements PageContext {
  model: string;
  session: TrainingSession | null = null;
  data: PageDataset | null = null;
  heldOut: PageDataset | null = null;
  private run: RunDefaults | null = null;
  private lastStats: Record<string, number> | null = null;
  private deviceLost = false;
  private ready = false;
  private charts: StatsCharts | null = null;
  private view: SampleView | null = null;
  private extras: Extra[] = [];
  private readonly ui: PageLayout;
  /** Whether the current session has finished a training step on this page (kernels compiled). */
  private firstStepDone = false;
  private software = false;
  private lastDrawAt = 0;
  private readonly loop: RunLoop;
  private readonly stats: StatsPanel;
  private readonly startup: StartupProgress;
  private readonly checkpoints: Checkpoints;
  /** The current model's shipped weights (null: none shipped) and why they do not fit the URL's run. */
  private shipped: { entry: ZooEntry | null; mismatch: string | null; error?: string } = { entry: null, mismatch: null };
  private weights: WeightsState = { kind: 'untrained', why: 'starting', shipped: null };

  constructor(private readonly opts: TrainingPageOptions) {
    this.model = opts.model ?? (new URLSearchParams(location.search).get('model') || Object.keys(recipes)[0]);
    this.ui = buildLayout(opts.model === null);
    this.stats = new StatsPanel(this.ui.statRows);
    this.startup = new StartupProgress(
      () => this.session?.step ?? 0,
      (text, kind) => this.status(text, kind),
    );
    this.checkpoints = new Checkpoints(() => this.storeKey());
    this.loop = new RunLoop({
      oneStep: () => this.oneStep(),
      hasSession: () => !!this.session,
      deviceLost: () => this.deviceLost,
      step: () => this.session?.step ?? 0,
      catchUp: async () => {
        const late = await this.session!.settle();
        if (late.length) {
          this.recordLogged(late);
          this.showStats();
        }
        if (byId('samples-caption').dataset.step !== String(this.session!.step)) await this.drawAll();
      },
      setControls: (enabled) => this.setControls(enabled),
      status: (text, kind) => this.status(text, kind),
      statusKind: () => this.ui.status.dataset.kind,
      engineLost: () => engine().isLost,
    });
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

  status(text: string, kind: StatusKind = 'info'): void {
    setStatus(this.ui.status, text, kind);
  }

  paused(what: string, fn: () => Promise<string | void>): Promise<void> {
    return this.loop.paused(what, fn);
  }

  betweenSteps(what: string, fn: () => Promise<string | void>, button?: HTMLElement): Promise<void> {
    return this.loop.betweenSteps(what, fn, button);
  }

  // ---- rendering ----

  private setControls(enabled: boolean): void {
    renderControls(
      this.ui,
      this.loop,
      enabled,
      this.extras.map((x) => x.panel),
    );
  }

  private showStats(): void {
    this.stats.show({
      session: this.session,
      stats: this.lastStats,
      firstStepDone: this.firstStepDone,
      running: this.loop.running,
      software: this.software,
      dataSource: this.data?.source,
    });
  }

  /** Redraws the sample grid and the extra panels from the current networks. */
  private async drawAll(): Promise<void> {
    const s = this.session;
    if (!s || !this.view) return;
    const step = s.step;
    await this.view.draw(s);
    const o = this.options;
    byId('samples-caption').textContent =
      `at step ${step} · redrawn every ${o.sampleEvery} steps${o.refreshSeconds ? ` or ${o.refreshSeconds} s` : ''} while training`;
    byId('samples-caption').dataset.step = String(step);
    for (const x of this.extras) await x.refresh();
    this.lastDrawAt = performance.now();
  }

  private manifestKey(): string {
    const s = this.session!;
    return manifestKey(s.spec.model, s.spec.config, s.spec.batch, this.options.sampleCount);
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
    this.stats.resetTimes(true);
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
          void this.betweenSteps(
            'flip direction',
            async () => {
              await this.drawAll();
              return `showing ${grid.direction === 'AtoB' ? 'A → B' : 'B → A'} (${this.heldOut?.manifest?.domains?.map((d) => d.name).join(' ↔ ')})`;
            },
            this.ui.direction!,
          );
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

  /**
   * Restores checkpoint bytes, rebuilding the networks (and the data) when the checkpoint's run
   * differs. Returns the step the checkpoint records (the step the page now continues from).
   */
  private async restoreBytes(
    bytes: Uint8Array,
    source: string,
    { batch, weights }: { batch?: number; weights?: (step: number, networksOnly: string[] | null) => WeightsState } = {},
  ): Promise<number> {
    const spec = runSpecOf(bytes, source);
    if (batch !== undefined) spec.batch = batch;
    if (spec.model !== this.model) {
      if (this.opts.model !== null) throw new Error(`${source}: a '${spec.model}' checkpoint; this page trains ${this.model}`);
      if (!recipes[spec.model]) throw new Error(`${source}: a '${spec.model}' checkpoint, a model this build does not have`);
      await this.enter(spec.model, { restoring: true });
    }
    const dataset = spec.dataset ?? this.run!.dataset;
    const cur = this.session;
    const same =
      cur &&
      JSON.stringify(cur.spec.config) === JSON.stringify(spec.config) &&
      cur.spec.batch === spec.batch &&
      this.data?.name === dataset;
    if (!same) {
      this.run = await this.loadData({ model: spec.model, config: spec.config, batch: spec.batch, lr: spec.lr, dataset });
      this.newSession(spec);
      this.buildViews(this.run);
    }
    const s = this.session!;
    const { history, networksOnly } = s.restore(bytes, source);
    s.spec.seed = spec.seed;
    this.ui.seed.value = String(spec.seed);
    this.ui.lr.value = String(s.lr);
    this.stats.resetTimes(false);
    this.charts!.setHistory(history);
    this.lastStats = history?.xs.length ? this.charts!.latest() : null;
    if (this.lastStats) for (const k of Object.keys(this.lastStats)) if (k.startsWith('heldout_')) delete this.lastStats[k];
    const step = s.step;
    this.checkpoints.restored(bytes, step, source);
    this.setWeights(weights?.(step, networksOnly) ?? { kind: 'checkpoint', source, step, shipped: this.shipped.entry?.step ?? null });
    this.showStats();
    await this.drawAll();
    return step;
  }

  // ---- one training step ----

  private async oneStep(): Promise<void> {
    const s = this.session!;
    const t0 = performance.now();
    const first = !this.firstStepDone;
    // The step is submitted and the GPU may still run it (the next one is encoded meanwhile); its
    // measures come back with a later step's, or from settle() before anything is drawn or saved.
    let logged = first
      ? await this.startup.counting('first-step', `first step (step ${s.step + 1})`, async () => [
          ...(await s.trainStep(true)),
          ...(await s.settle()),
        ])
      : await s.trainStep(true);
    const o = this.options;
    const stale = o.refreshSeconds > 0 && performance.now() - this.lastDrawAt >= o.refreshSeconds * 1000;
    const draw = s.step % o.sampleEvery === 0 || !this.loop.running || stale;
    const every = this.options.autosaveEvery;
    const save = !!every && s.step % every === 0;
    if (draw || save) logged = [...logged, ...(await s.settle())];
    if (first) {
      this.firstStepDone = true;
      saveManifest(this.manifestKey(), engine().kernelSpecs());
      this.startup.show('done', 0, null, `first step done in ${fmtSeconds((performance.now() - t0) / 1000)}`);
      if (this.loop.running) this.status('training…');
    }
    this.stats.recordStep(first ? null : (performance.now() - t0) / 1000);
    this.recordLogged(logged);
    if (draw || !this.loop.running) {
      // Stopping (a pause, or a non-finite stop): the last step's measures first.
      this.recordLogged(await s.settle());
      await this.drawAll();
    }
    if (save) await this.checkpoints.saveToBrowser(s, this.charts!, 'autosaved');
    this.showStats();
  }

  /** Charts the measures of finished steps (in step order); a non-finite one stops the loop. */
  private recordLogged(logged: readonly Logged<number>[]): void {
    for (const { tag: step, values: stats } of logged) {
      this.lastStats = stats;
      this.charts!.record(step, stats);
      const bad = Object.entries(stats).filter(([, v]) => !Number.isFinite(v));
      if (bad.length && this.loop.running) {
        this.loop.running = false;
        this.status(
          `stopped: non-finite ${bad.map(([k, v]) => `${k}=${v}`).join(', ')} at step ${step}; lower the learning rate and reset or load a checkpoint`,
          'error',
        );
      }
    }
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
    this.newSession({
      model,
      config: this.run.config,
      batch: this.run.batch,
      lr: this.run.lr,
      seed: this.options.seed,
      dataset: this.run.dataset,
    });
    this.buildViews(this.run);
    if (!restoring) this.checkpoints.clear();
  }

  /** Sets up a model, restores its browser checkpoint (unless ?fresh=1), draws, and starts training. */
  private async load(model: string): Promise<void> {
    this.ready = false;
    await this.enter(model);
    let note = '';
    let trained = false;
    const found = await shippedWeights(model);
    this.shipped = {
      ...found,
      mismatch: found.entry ? shippedMismatch(found.entry, this.params, this.opts.base?.(model) ?? {}) : null,
    };
    this.setWeights({
      kind: 'untrained',
      why: this.options.fresh ? 'fresh=1 in the URL' : 'new networks',
      shipped: found.entry?.step ?? null,
    });
    if (!this.options.fresh) {
      const stored = await this.checkpoints.stored().catch((e: Error) => {
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
      } else if (this.shipped.entry && !this.shipped.mismatch) {
        try {
          await this.loadShipped(this.shipped.entry);
          trained = true;
        } catch (e) {
          note = `The trained weights could not be loaded (${(e as Error).message}); starting from untrained networks.`;
          await this.enter(model);
          this.setWeights({ kind: 'untrained', why: 'the trained weights failed to load', shipped: this.shipped.entry.step });
        }
      }
    }
    if (note) {
      const n = byId('restored-note');
      n.textContent = note;
      n.classList.remove('hidden');
    }
    this.showStats();
    await this.startup.prewarm(this.manifestKey());
    await this.startup.counting('samples', 'drawing the first samples', () => this.drawAll());
    // Trained weights are there to be looked at: training waits for a click unless the URL asks.
    const autostart = this.options.autostart && (!trained || this.params.get('autostart') === '1');
    if (!autostart) this.startup.show('done', 0, null, 'ready');
    this.ready = true;
    this.setControls(true);
    this.status(
      trained
        ? `ready: the trained weights of step ${this.session!.step}; Resume continues training from them`
        : `ready at step ${this.session!.step}`,
    );
    if (autostart) this.loop.start();
  }

  // ---- weights: shipped, untrained, checkpoints ----

  /**
   * Loads the model's shipped weights into a session of their run (their config and dataset; the
   * page's batch, sized to the adapter): the run's float32 checkpoint when the zoo ships one of the
   * same step, else the float16 networks (the rest fresh). Charts get the run's logged statistics.
   */
  private async loadShipped(e: ZooEntry): Promise<void> {
    const full = e.resume && e.resume.step === e.step ? e.resume : null;
    const file = full ? full.file : e.file;
    this.status(`loading the trained weights (zoo/${file})…`);
    const bytes = await zooBytes(file);
    const batch = this.run!.batch;
    await this.restoreBytes(bytes, `trained weights zoo/${file}`, {
      batch,
      weights: (step) => ({ kind: 'trained', step, full: !!full, shipped: e.step }),
    });
    if (e.metrics && (this.charts?.history().xs.length ?? 0) === 0) {
      try {
        this.charts!.setHistory(await zooHistory(e.metrics, e.step));
      } catch (err) {
        console.warn(`trained weights: the run's statistics did not load (${(err as Error).message})`);
      }
    }
    if (this.software) {
      const note = byId('software-note');
      note.replaceChildren(
        el('strong', {}, 'Software adapter. '),
        `This WebGPU adapter runs on the CPU. The trained weights keep the widths they were trained with (${Object.entries(e.config)
          .filter(([k]) => WIDTH_OPTION.test(k))
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}), so training steps are slow; batch ${batch}. "Untrained" starts the page's smaller run.`,
        el('span', { id: 'software-steptime' }),
      );
      note.classList.remove('hidden');
    }
  }

  /** Records where the networks came from and shows it on the weights line. */
  private setWeights(w: WeightsState): void {
    this.weights = w;
    const e = this.shipped.entry;
    const u = this.ui;
    const card = () => el('a', { href: zooUrl(e!.card), id: 'weights-card' }, 'see its card');
    const parts: (Node | string)[] = [];
    if (w.kind === 'trained') {
      parts.push(
        el('strong', {}, trainedCaption(e!)),
        ', ',
        card(),
        w.full
          ? ". Continuing trains on with the run's own discriminator and optimiser state (its float32 checkpoint)."
          : `. The zoo ships ${e!.networks.join(', ')} (float16): continuing trains with a fresh discriminator and fresh optimiser state.`,
      );
    } else if (w.kind === 'checkpoint') {
      parts.push(el('strong', {}, `${w.source}: step ${w.step}`), '.');
      if (e) parts.push(` Trained weights are shipped (${trainedCaption(e)}, `, card(), ').');
    } else {
      parts.push(el('strong', {}, 'untrained'), ` (${w.why}, seed ${this.ui.seed.value || this.options.seed}). `);
      if (!e)
        parts.push(
          this.shipped.error ? `The trained weights could not be listed: ${this.shipped.error}.` : 'No trained weights shipped yet.',
        );
      else if (this.shipped.mismatch)
        parts.push(`Trained weights are shipped (${trainedCaption(e)}, `, card(), `) but do not fit: ${this.shipped.mismatch}.`);
      else parts.push(`Trained weights are shipped: ${trainedCaption(e)}, `, card(), '.');
    }
    u.weightsText.replaceChildren('weights: ', ...parts);
    u.weights.dataset.weights = w.kind;
    u.weights.dataset.step = w.kind === 'untrained' ? '' : String(w.step);
    u.weights.dataset.shipped = e ? String(e.step) : '';
    u.trained.dataset.usable = e && !this.shipped.mismatch ? '1' : '';
    u.trained.classList.toggle('hidden', !e);
    u.trained.title = this.shipped.mismatch
      ? `the shipped weights do not fit this page's run: ${this.shipped.mismatch}`
      : 'load the trained weights shipped with the project (zoo/, docs/zoo.md)';
    u.untrained.classList.toggle('hidden', w.kind === 'untrained');
  }

  async switchModel(model: string, params?: Record<string, string | number>): Promise<void> {
    if (!recipes[model]) throw new Error(`no model '${model}' (registered: ${Object.keys(recipes).join(', ')})`);
    this.setControls(false);
    await this.loop.stop();
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
    wireControls(this.ui, {
      loop: this.loop,
      status: (text, kind) => this.status(text, kind),
      step: async () => {
        await this.oneStep(); // draws the samples too, since the loop is not running
        return `step ${this.session!.step}`;
      },
      reset: async (seed, lr) => {
        const r = this.run!;
        this.newSession({
          ...(this.session?.spec ?? { model: this.model, config: r.config, batch: r.batch, lr: r.lr }),
          seed,
          lr: lr > 0 ? lr : r.lr,
          dataset: r.dataset,
        });
        this.charts!.setHistory(null);
        this.checkpoints.note('none yet');
        this.setWeights({ kind: 'untrained', why: 'reset', shipped: this.shipped.entry?.step ?? null });
        this.showStats();
        await this.drawAll();
        return `new networks from seed ${seed}`;
      },
      setLr: (lr) => {
        this.session!.setLr(lr);
        return `learning rate ${this.session!.lr} from step ${this.session!.step + 1}`;
      },
      saveInBrowser: async () => {
        await this.checkpoints.saveToBrowser(this.session!, this.charts!, 'saved in browser');
        return `saved step ${this.session!.step} in this browser (IndexedDB)`;
      },
      loadFromBrowser: async () => {
        const rec = await this.checkpoints.stored();
        if (!rec) throw new Error('no checkpoint is saved in this browser yet');
        await this.restoreBytes(rec.bytes, 'browser checkpoint');
        return `restored step ${rec.step} from this browser (saved ${new Date(rec.savedAt).toLocaleString()})`;
      },
      download: () => this.checkpoints.download(this.session!, this.charts!, this.data!.name),
      upload: async (bytes, name) => `restored step ${await this.restoreBytes(bytes, name)} from ${name}`,
      pickModel: (model) => void this.switchModel(model).catch((e: Error) => console.warn(e)),
      recover: () => void this.recover(),
      trained: async () => {
        const e = this.shipped.entry;
        if (!e) throw new Error(`no trained weights are shipped for ${this.model} (docs/zoo.md)`);
        if (this.shipped.mismatch) throw new Error(`the shipped weights do not fit this page's run: ${this.shipped.mismatch}`);
        // New networks first, so whatever the zoo does not ship starts fresh; loadShipped draws.
        await this.enter(this.model);
        await this.loadShipped(e);
        return `loaded the trained weights: step ${this.session!.step}`;
      },
      untrained: async () => {
        await this.enter(this.model);
        this.setWeights({ kind: 'untrained', why: 'new networks', shipped: this.shipped.entry?.step ?? null });
        this.showStats();
        await this.drawAll();
        return `untrained networks from seed ${this.session!.spec.seed}`;
      },
    });
  }

  // ---- device loss ----

  private onDeviceLost(reason: string): void {
    this.deviceLost = true;
    this.loop.running = false;
    this.setControls(false);
    const c = this.checkpoints.last;
    byId('lost-reason').textContent =
      `Reason: ${reason}. ${c ? `The last checkpoint is from step ${c.step}.` : 'No checkpoint was kept yet: resuming starts new networks.'}`;
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
      const bytes = this.checkpoints.last?.bytes ?? (await this.checkpoints.stored().catch(() => null))?.bytes;
      // Views hold no GPU state; the session is rebuilt on the new device.
      this.newSession({
        model: this.model,
        config: this.run!.config,
        batch: this.run!.batch,
        lr: this.run!.lr,
        seed: Number(this.ui.seed.value) || 1,
        dataset: this.run!.dataset,
      });
      if (bytes) await this.restoreBytes(bytes, 'last checkpoint');
      else {
        this.charts!.setHistory(null);
        await this.drawAll();
      }
      this.showStats();
      this.setControls(true);
      this.status(`resumed on a new device at step ${this.session!.step}`, 'ok');
      this.loop.start();
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
        return page.loop.running;
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
        return page.startup.log;
      },
      get software() {
        return page.software;
      },
      get queued() {
        return page.loop.queued;
      },
      get weights() {
        return page.weights;
      },
    };
  }
}
