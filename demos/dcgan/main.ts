// The DCGAN page: trains nets/dcgan.ts on MNIST in the tab and shows it learning.
//   - sample grid from fixed latent codes, redrawn every few steps; a latent-space walk;
//   - loss curves and the discriminator's outputs on uPlot charts; steps per second; the adapter;
//   - pause/resume, single step, reset with a seed, learning rate;
//   - checkpoints: download/upload .safetensors (the CLI's run layout), keep one in IndexedDB
//     (restored automatically on reload; `?fresh=1` ignores it), autosave every N steps;
//   - a lost GPU device stops training and offers to resume from the last checkpoint on a new one.
//
// URL parameters (defaults in brackets) size the run; the browser tests use tiny ones:
//   size [32] nz [100] ngf [32] ndf [32] batch [64] samples [64] seed [1] lr [0.0002]
//   autostart [1] fresh [0] sampleEvery [20] autosave [250] walk [8]
// State for tests and the console: window.__demo (see DemoHandle).

import { engine } from '../../engine/device.js';
import type { ArrayDataset } from '../../engine/data/loader.js';
import { byId, fmt, intParam, setStatus } from '../shared/dom.js';
import { adapterLine, renderStartFailure, startEngine, watchDeviceLoss } from '../shared/webgpu.js';
import { LinePlot } from '../shared/plot.js';
import { canvasSpread, drawGrid } from '../shared/grid.js';
import { fetchMnistBytes, mnistDataset, type MnistManifest } from '../shared/mnist.js';
import { getCheckpoint, putCheckpoint } from '../shared/store.js';
import { downloadBytes, fileBytes } from '../shared/files.js';
import { TrainingSession, runSpecOf, type History, type RunSpec } from '../shared/session.js';

const STORE_KEY = 'dcgan';
const params = new URLSearchParams(location.search);
const numParam = (name: string, fallback: number, min: number, max: number): number => {
  const v = Number(params.get(name));
  return params.has(name) && Number.isFinite(v) && v >= min && v <= max ? v : fallback;
};

const options = {
  sampleCount: intParam(params, 'samples', 64, 1, 256),
  sampleEvery: intParam(params, 'sampleEvery', 20, 1, 100000),
  autosaveEvery: intParam(params, 'autosave', 250, 0, 1e9),
  walkFrames: intParam(params, 'walk', 8, 2, 32),
  autostart: params.get('autostart') !== '0',
  fresh: params.get('fresh') === '1',
};

function specFromUrl(seed = intParam(params, 'seed', 1, 0, 2 ** 31)): RunSpec {
  return {
    model: 'dcgan',
    config: {
      imageSize: intParam(params, 'size', 32, 8, 64),
      nc: 1,
      nz: intParam(params, 'nz', 100, 1, 512),
      ngf: intParam(params, 'ngf', 32, 1, 256),
      ndf: intParam(params, 'ndf', 32, 1, 256),
    },
    batch: intParam(params, 'batch', 64, 1, 512),
    lr: numParam('lr', 2e-4, 1e-7, 0.1),
    seed,
  };
}

// ---- page state ---------------------------------------------------------------------------------

const STAT_SERIES = { loss: ['lossD', 'lossG'], measures: ['D_x', 'D_G_z1', 'D_G_z2'] } as const;

let manifest: MnistManifest | null = null;
let mnistBytes: Uint8Array | null = null;
const datasets = new Map<number, ArrayDataset>();
let session: TrainingSession | null = null;
let running = false;
let loopDone: Promise<void> | null = null;
let lastStats: Record<string, number> | null = null;
/** The newest checkpoint the page made or loaded (memory copy, for recovering a lost device). */
let lastCheckpoint: { bytes: Uint8Array; step: number } | null = null;
let deviceLost = false;
let walkSeed = 7;
const stepTimes: number[] = [];

const ui = {
  status: byId('status'),
  adapter: byId('adapter'),
  toggle: byId<HTMLButtonElement>('btn-toggle'),
  step: byId<HTMLButtonElement>('btn-step'),
  reset: byId<HTMLButtonElement>('btn-reset'),
  lr: byId<HTMLInputElement>('lr'),
  lrApply: byId<HTMLButtonElement>('btn-lr'),
  seed: byId<HTMLInputElement>('seed'),
  saveIdb: byId<HTMLButtonElement>('btn-save-idb'),
  loadIdb: byId<HTMLButtonElement>('btn-load-idb'),
  download: byId<HTMLButtonElement>('btn-download'),
  upload: byId<HTMLInputElement>('upload'),
  walk: byId<HTMLButtonElement>('btn-walk'),
  samples: byId<HTMLCanvasElement>('samples'),
  latent: byId<HTMLCanvasElement>('latent'),
};

const lossPlot = new LinePlot(byId('plot-loss'), {
  title: 'BCE losses',
  series: [
    { label: 'loss D', color: '#d1495b' },
    { label: 'loss G', color: '#2f6feb' },
  ],
});
const measurePlot = new LinePlot(byId('plot-measures'), {
  title: 'mean discriminator output',
  yRange: [0, 1],
  series: [
    { label: 'D(x)', color: '#1a7f37' },
    { label: 'D(G(z)) before D step', color: '#9a6700' },
    { label: 'D(G(z)) after D step', color: '#8250df', dash: true },
  ],
});

function history(): History {
  const l = lossPlot.snapshot();
  const m = measurePlot.snapshot();
  const keep = (a: number[]) => a.slice(-2000);
  return {
    xs: keep(l.xs),
    series: Object.fromEntries([
      ...STAT_SERIES.loss.map((k, i) => [k, keep(l.ys[i])]),
      ...STAT_SERIES.measures.map((k, i) => [k, keep(m.ys[i])]),
    ]),
  };
}

function setHistory(h: History | null): void {
  const xs = h?.xs ?? [];
  lossPlot.setAll(xs, STAT_SERIES.loss.map((k) => h?.series[k] ?? []));
  measurePlot.setAll(xs, STAT_SERIES.measures.map((k) => h?.series[k] ?? []));
}

// ---- rendering ----------------------------------------------------------------------------------

function setControls(enabled: boolean): void {
  for (const b of [ui.toggle, ui.reset, ui.lrApply, ui.saveIdb, ui.loadIdb, ui.download, ui.walk]) b.disabled = !enabled;
  ui.upload.disabled = !enabled;
  byId('upload-label').classList.toggle('disabled', !enabled);
  ui.step.disabled = !enabled || running;
  ui.toggle.textContent = running ? 'Pause' : 'Resume';
  document.body.dataset.running = String(running);
}

function showStats(): void {
  const s = session;
  byId('stat-step').textContent = String(s?.step ?? 0);
  byId('stat-lossD').textContent = fmt(lastStats?.lossD);
  byId('stat-lossG').textContent = fmt(lastStats?.lossG);
  byId('stat-Dx').textContent = fmt(lastStats?.D_x);
  byId('stat-DGz').textContent = lastStats ? `${fmt(lastStats.D_G_z1)} → ${fmt(lastStats.D_G_z2)}` : '—';
  if (stepTimes.length >= 2) {
    const sps = (stepTimes.length - 1) / ((stepTimes[stepTimes.length - 1] - stepTimes[0]) / 1000);
    byId('stat-sps').textContent = sps.toFixed(sps < 10 ? 2 : 1);
  }
  if (s) {
    const c = s.spec.config;
    byId('stat-model').textContent = `${c.imageSize}×${c.imageSize}, nz ${c.nz}, ngf ${c.ngf}, ndf ${c.ndf}, batch ${s.spec.batch}`;
  }
}

async function drawSamples(): Promise<void> {
  if (!session) return;
  const { data, shape } = await session.samples();
  drawGrid(ui.samples, data, shape, { nrow: Math.ceil(Math.sqrt(shape[0])) });
  byId('samples-caption').textContent = `step ${session.step}`;
}

function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  const omega = Math.acos(Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb))));
  const out = new Float32Array(a.length);
  if (omega < 1e-4) {
    for (let i = 0; i < a.length; i++) out[i] = (1 - t) * a[i] + t * b[i];
    return out;
  }
  const s = Math.sin(omega);
  const wa = Math.sin((1 - t) * omega) / s;
  const wb = Math.sin(t * omega) / s;
  for (let i = 0; i < a.length; i++) out[i] = wa * a[i] + wb * b[i];
  return out;
}

async function drawWalk(): Promise<void> {
  if (!session) return;
  const F = options.walkFrames;
  const ends = await session.latents(2, walkSeed);
  const d = ends.data.length / 2;
  const za = ends.data.subarray(0, d);
  const zb = ends.data.subarray(d);
  const z = new Float32Array(F * d);
  for (let f = 0; f < F; f++) z.set(slerp(za, zb, f / (F - 1)), f * d);
  const img = await session.generateFrom(z, [F, ...ends.shape.slice(1)]);
  drawGrid(ui.latent, img.data, img.shape, { nrow: F });
  byId('walk-caption').textContent = `Spherical interpolation between two latent codes (endpoints #${walkSeed}), step ${session.step}.`;
}

// ---- sessions -----------------------------------------------------------------------------------

function datasetFor(size: number): ArrayDataset {
  let d = datasets.get(size);
  if (!d) {
    d = mnistDataset(manifest!, mnistBytes!, size);
    datasets.set(size, d);
  }
  return d;
}

function newSession(spec: RunSpec): TrainingSession {
  session?.dispose();
  session = null;
  const s = new TrainingSession({ ...spec, config: { ...spec.config } }, datasetFor(Number(spec.config.imageSize)), manifest!.name, options.sampleCount);
  session = s;
  lastStats = null;
  stepTimes.length = 0;
  ui.lr.value = String(s.lr);
  ui.seed.value = String(spec.seed);
  return s;
}

/** Restores checkpoint bytes, rebuilding the networks when the checkpoint's model differs. */
async function restoreBytes(bytes: Uint8Array, source: string): Promise<void> {
  const spec = runSpecOf(bytes, source);
  if (spec.model !== 'dcgan') throw new Error(`${source}: a '${spec.model}' checkpoint; this page trains dcgan`);
  const same = session && JSON.stringify(session.spec.config) === JSON.stringify(spec.config) && session.spec.batch === spec.batch;
  const s = same ? session! : newSession(spec);
  const { history: h } = s.restore(bytes, source);
  s.spec.seed = spec.seed;
  ui.seed.value = String(spec.seed);
  ui.lr.value = String(s.lr);
  lastStats = null;
  stepTimes.length = 0;
  setHistory(h);
  if (h?.xs.length) {
    const i = h.xs.length - 1;
    lastStats = Object.fromEntries(Object.entries(h.series).map(([k, v]) => [k, v[i]]));
  }
  lastCheckpoint = { bytes, step: s.step };
  byId('stat-ckpt').textContent = `step ${s.step} (${source})`;
  showStats();
  await drawSamples();
  await drawWalk();
}

async function checkpointNow(): Promise<Uint8Array> {
  const bytes = await session!.toBytes(history());
  lastCheckpoint = { bytes, step: session!.step };
  return bytes;
}

async function saveToBrowser(what: string): Promise<void> {
  const bytes = await checkpointNow();
  await putCheckpoint({ key: STORE_KEY, bytes, step: session!.step, savedAt: Date.now(), config: session!.spec.config });
  byId('stat-ckpt').textContent = `step ${session!.step} (${what}, ${(bytes.length / 1024).toFixed(0)} KiB)`;
}

// ---- the training loop --------------------------------------------------------------------------

async function oneStep(): Promise<void> {
  const s = session!;
  const stats = await s.trainStep(true);
  stepTimes.push(performance.now());
  if (stepTimes.length > 30) stepTimes.shift();
  if (stats) {
    lastStats = stats;
    lossPlot.push(s.step, STAT_SERIES.loss.map((k) => stats[k]));
    measurePlot.push(s.step, STAT_SERIES.measures.map((k) => stats[k]));
    const bad = Object.entries(stats).filter(([, v]) => !Number.isFinite(v));
    if (bad.length) {
      running = false;
      setStatus(ui.status, `stopped: non-finite ${bad.map(([k, v]) => `${k}=${v}`).join(', ')} at step ${s.step}; lower the learning rate and reset or load a checkpoint`, 'error');
    }
  }
  if (s.step % options.sampleEvery === 0 || !running) {
    await drawSamples();
    await drawWalk();
  }
  if (options.autosaveEvery && s.step % options.autosaveEvery === 0) await saveToBrowser('autosaved');
  showStats();
}

const yieldToUi = () => new Promise<void>((r) => setTimeout(r, 0));

function startLoop(): void {
  if (loopDone || !session) return;
  running = true;
  setControls(true);
  setStatus(ui.status, 'training…');
  loopDone = (async () => {
    try {
      while (running && session && !deviceLost) {
        await oneStep();
        await yieldToUi();
      }
    } catch (e) {
      running = false;
      if (deviceLost || engine().isLost) return; // the lost-device banner explains
      setStatus(ui.status, `training failed: ${(e as Error).message}`, 'error');
      console.error(e);
    } finally {
      loopDone = null;
      if (!deviceLost) {
        setControls(true);
        if (ui.status.dataset.kind !== 'error') setStatus(ui.status, `paused at step ${session?.step ?? 0}`);
      }
    }
  })();
}

async function stopLoop(): Promise<void> {
  running = false;
  await loopDone;
}

/** Runs `fn` with training paused, then resumes if it was running. Errors go to the status line. */
async function paused(what: string, fn: () => Promise<string | void>): Promise<void> {
  const wasRunning = running;
  setControls(false);
  await stopLoop();
  setStatus(ui.status, `${what}…`);
  try {
    const msg = await fn();
    setStatus(ui.status, msg ?? `${what}: done`, 'ok');
  } catch (e) {
    setStatus(ui.status, `${what} failed: ${(e as Error).message}`, 'error');
    setControls(true);
    return;
  }
  setControls(true);
  if (wasRunning) startLoop();
}

// ---- controls -----------------------------------------------------------------------------------

ui.toggle.addEventListener('click', () => {
  if (running) {
    setControls(false);
    void stopLoop().then(() => setControls(true));
  } else startLoop();
});

ui.step.addEventListener('click', () => paused('step', async () => {
  await oneStep(); // draws the samples too, since the loop is not running
  return `step ${session!.step}`;
}));

ui.reset.addEventListener('click', () => paused('reset', async () => {
  const seed = Number(ui.seed.value);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got '${ui.seed.value}'`);
  const lr = Number(ui.lr.value);
  const spec = { ...(session?.spec ?? specFromUrl()), seed, lr: lr > 0 ? lr : 2e-4 };
  newSession(spec);
  setHistory(null);
  byId('stat-ckpt').textContent = 'none yet';
  showStats();
  await drawSamples();
  await drawWalk();
  return `new networks from seed ${seed}`;
}));

ui.lrApply.addEventListener('click', () => {
  try {
    session!.setLr(Number(ui.lr.value));
    setStatus(ui.status, `learning rate ${session!.lr} from step ${session!.step + 1}`, 'ok');
  } catch (e) {
    setStatus(ui.status, (e as Error).message, 'error');
  }
});

ui.saveIdb.addEventListener('click', () => paused('save in browser', async () => {
  await saveToBrowser('saved in browser');
  return `saved step ${session!.step} in this browser (IndexedDB)`;
}));

ui.loadIdb.addEventListener('click', () => paused('load from browser', async () => {
  const rec = await getCheckpoint(STORE_KEY);
  if (!rec) throw new Error('no checkpoint is saved in this browser yet');
  await restoreBytes(rec.bytes, 'browser checkpoint');
  return `restored step ${rec.step} from this browser (saved ${new Date(rec.savedAt).toLocaleString()})`;
}));

ui.download.addEventListener('click', () => paused('download', async () => {
  const bytes = await checkpointNow();
  const c = session!.spec.config;
  const name = `dcgan-mnist${c.imageSize}-step${session!.step}.safetensors`;
  downloadBytes(name, bytes);
  byId('stat-ckpt').textContent = `step ${session!.step} (downloaded)`;
  return `downloaded ${name} (${(bytes.length / 1024).toFixed(0)} KiB)`;
}));

ui.upload.addEventListener('change', () => {
  const file = ui.upload.files?.[0];
  if (!file) return;
  void paused(`load ${file.name}`, async () => {
    await restoreBytes(await fileBytes(file), file.name);
    ui.upload.value = '';
    return `restored step ${session!.step} from ${file.name}`;
  });
});

ui.walk.addEventListener('click', () => paused('latent walk', async () => {
  walkSeed++;
  await drawWalk();
  return `new latent endpoints (#${walkSeed})`;
}));

// ---- device loss --------------------------------------------------------------------------------

function onDeviceLost(reason: string): void {
  deviceLost = true;
  running = false;
  setControls(false);
  byId('lost-reason').textContent = `Reason: ${reason}. ${lastCheckpoint ? `The last checkpoint is from step ${lastCheckpoint.step}.` : 'No checkpoint was kept yet: resuming starts new networks.'}`;
  byId('btn-recover').textContent = lastCheckpoint ? `Resume from step ${lastCheckpoint.step}` : 'Restart training';
  byId('lost-banner').classList.remove('hidden');
  setStatus(ui.status, 'GPU device lost', 'error');
}

async function connect(): Promise<boolean> {
  const started = await startEngine();
  if ('failure' in started) {
    renderStartFailure(byId('webgpu-status'), started.failure);
    byId('panels').classList.add('hidden');
    ui.adapter.textContent = 'no WebGPU';
    setStatus(ui.status, started.failure.message, 'error');
    return false;
  }
  const e = started.engine;
  ui.adapter.textContent = adapterLine(e);
  watchDeviceLoss(e, onDeviceLost);
  return true;
}

byId('btn-recover').addEventListener('click', async () => {
  const btn = byId<HTMLButtonElement>('btn-recover');
  btn.disabled = true;
  setStatus(ui.status, 'starting a new GPU device…');
  try {
    // The old session's buffers died with the old device: drop it without touching them.
    session = null;
    if (!(await connect())) return;
    deviceLost = false;
    byId('lost-banner').classList.add('hidden');
    const bytes = lastCheckpoint?.bytes ?? (await getCheckpoint(STORE_KEY).catch(() => null))?.bytes;
    if (bytes) {
      newSession(runSpecOf(bytes, 'last checkpoint'));
      await restoreBytes(bytes, 'last checkpoint');
    } else {
      newSession(specFromUrl(Number(ui.seed.value) || 1));
      setHistory(null);
      await drawSamples();
    }
    showStats();
    setControls(true);
    setStatus(ui.status, `resumed on a new device at step ${session!.step}`, 'ok');
    startLoop();
  } catch (e) {
    setStatus(ui.status, `could not resume: ${(e as Error).message}`, 'error');
  } finally {
    btn.disabled = false;
  }
});

// ---- start --------------------------------------------------------------------------------------

export interface DemoHandle {
  readonly ready: boolean;
  readonly step: number;
  readonly running: boolean;
  readonly lastStats: Record<string, number> | null;
  readonly deviceLost: boolean;
  /** Luminance spread of the sample grid's cells (0 = blank). */
  samplesSpread(): number;
  /** Destroys the GPU device, as a driver reset would (tests of the recovery path). */
  loseDevice(): void;
}

declare global {
  interface Window {
    __demo?: DemoHandle;
  }
}

let ready = false;
window.__demo = {
  get ready() {
    return ready;
  },
  get step() {
    return session?.step ?? 0;
  },
  get running() {
    return running;
  },
  get lastStats() {
    return lastStats;
  },
  get deviceLost() {
    return deviceLost;
  },
  samplesSpread: () => canvasSpread(ui.samples),
  loseDevice: () => engine().device.destroy(),
};

async function main(): Promise<void> {
  if (!(await connect())) return;
  setStatus(ui.status, 'loading MNIST from this site…');
  ({ manifest, bytes: mnistBytes } = await fetchMnistBytes());
  const spec = specFromUrl();
  setStatus(ui.status, 'building the networks…');
  newSession(spec);
  let note = '';
  if (!options.fresh) {
    const stored = await getCheckpoint(STORE_KEY).catch((e: Error) => {
      note = `Could not read the checkpoint store: ${e.message}`;
      return null;
    });
    if (stored) {
      try {
        await restoreBytes(stored.bytes, 'browser checkpoint');
        note = `Resumed from the checkpoint saved in this browser at step ${stored.step} (${new Date(stored.savedAt).toLocaleString()}). Reset starts over; add ?fresh=1 to the URL to ignore it on load.`;
      } catch (e) {
        note = `The checkpoint saved in this browser could not be restored (${(e as Error).message}); starting fresh.`;
        newSession(spec);
      }
    }
  }
  if (note) {
    const n = byId('restored-note');
    n.textContent = note;
    n.classList.remove('hidden');
  }
  showStats();
  setStatus(ui.status, 'drawing the first samples (compiling kernels)…');
  await drawSamples();
  await drawWalk();
  ready = true;
  setControls(true);
  setStatus(ui.status, `ready at step ${session!.step}`);
  if (options.autostart) startLoop();
}

main().catch((e: Error) => {
  setStatus(ui.status, `failed to start: ${e.message}`, 'error');
  console.error(e);
});
