// The 2-D game page: the engine's mixture trainers (nets/mode_eval.ts createMixtureTrainer, the
// trainers `gan eval modes` scores: the MLP GAN baseline and every model whose recipe has a
// `mixture` hook) on a 2-D Gaussian mixture, with the whole game drawn on one plane:
//   - the discriminator's output over the plane as a heat map (a grid of points through D, on the
//     GPU): P(real) for a one-discriminator GAN, each discriminator's (or their mean) for several,
//     and for a (k + 1)-class discriminator the winning class coloured per generator (white: real);
//   - real samples (black) and generated ones (a colour per generator) from fixed noise;
//   - the generator's map of a slice of its latent space (z1, z2 in [-2, 2], the rest 0) as a warped grid.
// "D step" and "G step" (one side's update, the other side held: ./sides.ts), "Round" (the D steps
// per round, then the G steps per round; one and one: the trainer's own step, D update then G
// update as `gan eval modes` trains), Run / Pause (rounds), a slowed-down mode, and the
// hyper-parameters in the page: learning rates of D and G and the steps per side (applied from the
// next update), mixture, model, batch, widths, and the model's own (N and GMAN's loss variants, k:
// each input or select whose id names a parameter of the model's mixture hook, shown only for the
// models declaring it (an element's data-params lists the parameters it holds); these start a new
// game). Links open the kernel inspector on the same game's round, D step, G step or drawing of the plane.
// Start-up: the status line says what compiles (kernels counted as the first view compiles them, or
// on a later visit with the same settings all of them up front with createComputePipelineAsync from
// the kernel manifest of the last visit, as the training pages do); window.__game.progress logs it.
// URL parameters: mixture, model, lr (both sides), lrD, lrG, dSteps [1], gSteps [1], batch, hidden,
// the models' own parameters, seed [1], autostart [0]. State for tests: window.__game.

import { engine } from '../../engine/device.js';
import { tensor, tidy, type Tensor } from '../../engine/tensor.js';
import { Generator } from '../../engine/ops/random.js';
import type { Module } from '../../engine/nn.js';
import {
  MIXTURES,
  MODE_DEFAULTS,
  MODE_MODELS,
  createMixtureTrainer,
  disposeTrainer,
  mixtureModel,
  withModelDefaults,
  type ModeRunOptions,
} from '../../nets/mode_eval.js';
import { MixtureSampler } from '../../data/mixtures.js';
import { readStats } from '../../nets/lib/stats.js';
import type { GanTrainer } from '../../nets/registry.js';
import { byId, el, fmt, nextFrame, setStatus } from '../shared/dom.js';
import { adapterLine, renderStartFailure, startEngine } from '../shared/webgpu.js';
import { loadManifest, manifestKey, saveManifest } from '../shared/warmup.js';
import { sideOptimizers, stepRound, stepSide, type Side } from './sides.js';
import { CELLS, EXTENT, arrowsTensor, evalMode, heatTensor } from './view.js';

const POINTS = 256;
const GEN_COLOURS = ['#e4572e', '#2e86ab', '#59a14f', '#b07aa1', '#f28e2b', '#76b7b2', '#edc948', '#9c755f'];

/** One start-up message: what the page is doing, kernels compiled so far (of total when known), when. */
export interface GameProgress {
  phase: 'start' | 'kernels' | 'first-view' | 'ready' | 'first-step';
  kernels: number;
  total: number | null;
  text: string;
  /** performance.now() when shown (ms since the page's navigation started). */
  t: number;
}

/** What the buttons do: one D update, one G update, or a round. */
type Action = Side | 'round';

interface GameState {
  /** Rounds played (Round, Run). */
  step: number;
  /** Updates per side so far (rounds and single-side steps). */
  dUpdates: number;
  gUpdates: number;
  /** Views drawn since the page loaded (each draw after an update or a change of view). */
  draws: number;
  /** The action in flight ('D', 'G', 'round'), null when idle. */
  busy: Action | null;
  running: boolean;
  ready: boolean;
  progress: GameProgress[];
  /** D's values over the grid as drawn (P(real), or the winning class), row-major. */
  heat: number[];
  /** Generated points as drawn, network units. */
  fakes: number[];
  /** At each generated point, the gradient of log D(x) (the way G's loss pushes it), as drawn; empty for a class-naming D. */
  arrows: number[];
  lastStats: Record<string, number> | null;
}

declare global {
  interface Window {
    __game?: GameState & {
      stepOnce(): Promise<void>;
      /** D's parameters (the first discriminator's), read back, for a float64 reference in tests. */
      dParams(): Promise<{ name: string; shape: number[]; data: number[] }[]>;
      /** The learning rates of D's and G's optimisers as set. */
      rates(): { d: number[]; g: number[] };
    };
  }
}

const params = new URLSearchParams(location.search);
const ui = {
  mixture: byId<HTMLSelectElement>('mixture'),
  model: byId<HTMLSelectElement>('model'),
  lrD: byId<HTMLInputElement>('lr-d'),
  lrG: byId<HTMLInputElement>('lr-g'),
  dSteps: byId<HTMLInputElement>('d-steps'),
  gSteps: byId<HTMLInputElement>('g-steps'),
  batch: byId<HTMLInputElement>('batch'),
  hidden: byId<HTMLInputElement>('hidden'),
  view: byId<HTMLSelectElement>('view'),
  reset: byId<HTMLButtonElement>('btn-reset'),
  step: byId<HTMLButtonElement>('btn-step'),
  dstep: byId<HTMLButtonElement>('btn-dstep'),
  gstep: byId<HTMLButtonElement>('btn-gstep'),
  run: byId<HTMLButtonElement>('btn-run'),
  slow: byId<HTMLInputElement>('slow'),
  canvas: byId<HTMLCanvasElement>('plane'),
  status: byId('status'),
};
const status = (t: string, kind: 'info' | 'ok' | 'warn' | 'error' = 'info') => setStatus(ui.status, t, kind);

const state: GameState = {
  step: 0,
  dUpdates: 0,
  gUpdates: 0,
  draws: 0,
  busy: null,
  running: false,
  ready: false,
  progress: [],
  heat: [],
  fakes: [],
  arrows: [],
  lastStats: null,
};
let trainer: GanTrainer | null = null;
let sampler: MixtureSampler | null = null;
let opts: ModeRunOptions | null = null;
let realPoints: Float32Array = new Float32Array(0);
let loop: Promise<void> | null = null;

// ---- controls from the URL and the trainers' defaults ----

for (const [name, m] of Object.entries(MIXTURES))
  if (m.make().dim === 2) ui.mixture.append(el('option', { value: name, title: m.help }, name));
for (const m of MODE_MODELS) ui.model.append(el('option', { value: m }, m));
const pick = (sel: HTMLSelectElement, v: string | null) => {
  if (v && [...Array.from(sel.options)].some((o) => o.value === v)) sel.value = v;
};
pick(ui.mixture, params.get('mixture'));
pick(ui.model, params.get('model'));
ui.lrD.value = params.get('lrD') ?? params.get('lr') ?? String(MODE_DEFAULTS.lr);
ui.lrG.value = params.get('lrG') ?? params.get('lr') ?? String(MODE_DEFAULTS.lr);
ui.dSteps.value = params.get('dSteps') ?? '1';
ui.gSteps.value = params.get('gSteps') ?? '1';
ui.batch.value = params.get('batch') ?? '64';
ui.hidden.value = params.get('hidden') ?? String(MODE_DEFAULTS.hidden);
// The models' own parameters: the page's input or select of the same id, its default (and a
// select's choices) from the first model that declares it.
const paramInputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
for (const name of MODE_MODELS) {
  for (const [key, p] of Object.entries(mixtureModel(name).params)) {
    const input = document.getElementById(key);
    if (paramInputs.has(key) || !(input instanceof HTMLInputElement || input instanceof HTMLSelectElement)) continue;
    paramInputs.set(key, input);
    if (input instanceof HTMLSelectElement) {
      const choices = ('choices' in p && p.choices ? p.choices : [p.default]).map(String);
      input.replaceChildren(...choices.map((c) => el('option', { value: c }, c)));
      input.value = String(p.default);
      pick(input, params.get(key));
    } else {
      input.value = params.get(key) ?? String(p.default);
    }
  }
}

/** A number box's value, checked (an <input type=number> holding text reads as '': said so). */
function num(input: HTMLInputElement, name: string, min: number, max: number, integer: boolean): number {
  const v = Number(input.value);
  if (input.validity.badInput || input.value.trim() === '')
    throw new Error(`${name}: the box does not hold a number (expected ${integer ? 'an integer' : 'a number'} in [${min}, ${max}])`);
  if (!Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new Error(`${name}: expected ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got '${input.value}'`);
  }
  return v;
}

/** The learning rates of D and G from their boxes. */
function readRates(): { d: number; g: number } {
  return { d: num(ui.lrD, 'learning rate D', 1e-6, 0.5, false), g: num(ui.lrG, 'learning rate G', 1e-6, 0.5, false) };
}

/** Updates per side in a round, from their boxes. */
function readRound(): { d: number; g: number } {
  return { d: num(ui.dSteps, 'D steps per round', 1, 20, true), g: num(ui.gSteps, 'G steps per round', 1, 20, true) };
}

function readOptions(): ModeRunOptions {
  const model = ui.model.value;
  // The model's own parameters from their inputs (numbers checked against the input's min and max).
  const own: Record<string, number | string> = {};
  for (const [key, p] of Object.entries(mixtureModel(model).params)) {
    const input = paramInputs.get(key);
    if (!input) continue;
    if (input instanceof HTMLSelectElement || p.type === 'string' || p.type === 'boolean') own[key] = input.value;
    else
      own[key] = num(
        input,
        input.closest('label')?.firstChild?.textContent?.trim() || key,
        Number(input.min),
        Number(input.max),
        p.type === 'int',
      );
  }
  return withModelDefaults({
    ...own,
    mixture: ui.mixture.value,
    model,
    lr: readRates().g,
    batch: num(ui.batch, 'batch', 2, 1024, true),
    hidden: num(ui.hidden, 'hidden', 4, 256, true),
    seed: Number(params.get('seed') ?? 1) || 1,
    decayTo: 1,
  });
}

/** Shows the controls (data-params) whose parameters all belong to the chosen model. */
function showModelOptions(): void {
  const own = mixtureModel(ui.model.value).params;
  for (const e of Array.from(document.querySelectorAll<HTMLElement>('[data-params]'))) {
    e.classList.toggle('hidden', !(e.dataset.params ?? '').split(' ').every((k) => k in own));
  }
}

/** The discriminators a view can show: one, each of N (and their mean), or D's classes. */
function discriminators(t: GanTrainer): Module[] {
  return mixtureModel(opts!.model).discriminators(t);
}

/** D's classes when it names each sample's generator (the last class: real); 1: a P(real) D. */
function dClasses(): number {
  return mixtureModel(opts!.model).classes?.(opts!) ?? 1;
}

function setViews(): void {
  const n = discriminators(trainer!).length;
  const classes = dClasses();
  const views: [string, string][] =
    n > 1
      ? [['mean', 'mean of the N'], ...Array.from({ length: n }, (_, i): [string, string] => [String(i), `D${i + 1}`])]
      : classes > 1
        ? [['classes', `its ${classes - 1} + 1 classes`]]
        : [['0', 'P(real)']];
  ui.view.replaceChildren(...views.map(([v, t]) => el('option', { value: v }, t)));
}

// ---- drawing ----

/** The discriminators the view shows (one, or all N for the mean). */
function shownDiscriminators(ds: Module[]): Module[] {
  return ui.view.value === 'mean' ? ds : [ds[Number(ui.view.value) || 0]];
}

/** A tensor's values, read back, then the tensor freed. */
async function readAndFree(t: Tensor): Promise<Float32Array> {
  try {
    return await t.data();
  } finally {
    t.dispose();
  }
}

/** G's output for the codes `z` makes (made and freed inside one tidy scope). */
async function generated(t: GanTrainer, z: () => Tensor): Promise<Float32Array> {
  const out = tidy(() => t.generate(z()));
  try {
    return await out.data();
  } finally {
    out.dispose();
  }
}

const toPx = (v: number, size: number, flip: boolean) => (((flip ? -v : v) + EXTENT) / (2 * EXTENT)) * size;

function hexRgb(h: string): [number, number, number] {
  return [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)];
}

async function draw(): Promise<void> {
  const t = trainer!;
  const o = opts!;
  const ds = discriminators(t);
  const classes = dClasses();
  const shown = classes > 1 ? ds : shownDiscriminators(ds);
  const values = await readAndFree(evalMode(ds, () => heatTensor(shown, classes)));
  const fakes = await generated(t, () => t.noise(POINTS, new Generator(o.seed + 7)));
  // Arrows follow G's loss through a P(real) D; a D that names generators has no single direction.
  const arrows = classes > 1 ? null : await readAndFree(evalMode(ds, () => arrowsTensor(shown, fakes)));
  // The latent slice: lines of constant z1 and of constant z2 (the other coordinates 0).
  const L = 9;
  const P = 24;
  const nz = o.nz;
  const zs = new Float32Array(2 * L * P * nz);
  for (let l = 0; l < L; l++) {
    for (let p = 0; p < P; p++) {
      const a = -2 + (4 * l) / (L - 1);
      const b = -2 + (4 * p) / (P - 1);
      zs[(l * P + p) * nz] = a;
      zs[(l * P + p) * nz + 1] = b;
      zs[((L + l) * P + p) * nz] = b;
      zs[((L + l) * P + p) * nz + 1] = a;
    }
  }
  // One generator's latent slice (several generators would share the codes out among them).
  const sizes = mixtureModel(o.model).generatorSizes?.(POINTS, o) ?? [POINTS];
  const manifold = sizes.length > 1 ? null : await generated(t, () => tensor(zs, [2 * L * P, nz]));

  const cv = ui.canvas;
  const g = cv.getContext('2d')!;
  const W = cv.width;
  const cell = W / CELLS;
  const heat: number[] = [];
  for (let r = 0; r < CELLS; r++) {
    for (let c = 0; c < CELLS; c++) {
      const i = r * CELLS + c;
      let rgb: [number, number, number];
      if (classes > 1) {
        let best = 0;
        for (let j = 1; j < classes; j++) if (values[i * classes + j] > values[i * classes + best]) best = j;
        const pmax = values[i * classes + best];
        heat.push(best + pmax);
        const base: [number, number, number] = best === classes - 1 ? [255, 255, 255] : hexRgb(GEN_COLOURS[best % GEN_COLOURS.length]);
        const a = 0.25 + 0.5 * pmax;
        rgb = [base[0] * a + 255 * (1 - a), base[1] * a + 255 * (1 - a), base[2] * a + 255 * (1 - a)];
      } else {
        // P(real), diverging at 0.5: green where D says real, purple where it says fake, white where unsure.
        const v = values[i];
        heat.push(v);
        const t = Math.min(1, Math.abs(v - 0.5) * 2) ** 0.6;
        const base: [number, number, number] = v >= 0.5 ? [89, 161, 79] : [150, 90, 170];
        rgb = [255 + (base[0] - 255) * t, 255 + (base[1] - 255) * t, 255 + (base[2] - 255) * t];
      }
      g.fillStyle = `rgb(${rgb[0] | 0}, ${rgb[1] | 0}, ${rgb[2] | 0})`;
      g.fillRect(c * cell, r * cell, cell + 0.5, cell + 0.5);
    }
  }
  if (manifold) {
    g.strokeStyle = 'rgba(60, 60, 60, 0.45)';
    g.lineWidth = 1;
    for (let l = 0; l < 2 * L; l++) {
      g.beginPath();
      for (let p = 0; p < P; p++) {
        const i = l * P + p;
        const x = toPx(manifold[2 * i], W, false);
        const y = toPx(manifold[2 * i + 1], W, true);
        if (p === 0) g.moveTo(x, y);
        else g.lineTo(x, y);
      }
      g.stroke();
    }
  }
  g.fillStyle = '#111';
  for (let i = 0; i < realPoints.length / 2; i++)
    g.fillRect(toPx(realPoints[2 * i], W, false) - 1.5, toPx(realPoints[2 * i + 1], W, true) - 1.5, 3, 3);
  if (arrows) {
    // Arrows scaled so the longest is 28 px: directions and relative sizes, not step lengths.
    let max = 1e-12;
    for (let j = 0; j < POINTS; j++) max = Math.max(max, Math.hypot(arrows[2 * j], arrows[2 * j + 1]));
    g.strokeStyle = 'rgba(120, 40, 10, 0.55)';
    g.lineWidth = 1;
    g.beginPath();
    for (let j = 0; j < POINTS; j += 2) {
      const x0 = toPx(fakes[2 * j], W, false);
      const y0 = toPx(fakes[2 * j + 1], W, true);
      g.moveTo(x0, y0);
      g.lineTo(x0 + (28 * arrows[2 * j]) / max, y0 - (28 * arrows[2 * j + 1]) / max);
    }
    g.stroke();
  }
  let i = 0;
  sizes.forEach((n, gi) => {
    g.fillStyle = GEN_COLOURS[gi % GEN_COLOURS.length];
    for (let j = 0; j < n; j++, i++) {
      g.beginPath();
      g.arc(toPx(fakes[2 * i], W, false), toPx(fakes[2 * i + 1], W, true), 2.5, 0, 2 * Math.PI);
      g.fill();
    }
  });
  state.heat = heat;
  state.fakes = [...fakes];
  state.arrows = arrows ? [...arrows] : [];
  const caption = byId('plane-caption');
  caption.textContent = `after ${state.dUpdates} D and ${state.gUpdates} G updates (round ${state.step})`;
  caption.dataset.step = String(state.step);
  caption.dataset.d = String(state.dUpdates);
  caption.dataset.g = String(state.gUpdates);
  state.draws++;
  byId('plane-legend').textContent =
    (classes > 1
      ? `Background: D's winning class (white: real, a colour per generator; stronger = surer). Points: real (black), each generator's samples in its colour.`
      : `Background: D's P(real) (green: real, purple: fake${ds.length > 1 ? `; ${ui.view.selectedOptions[0]?.text}` : ''}). Points: real (black), generated (orange).`) +
    (manifold ? " Grey lines: G's image of a square grid of (z1, z2) in [−2, 2]², the other latent coordinates 0." : '') +
    (arrows ? " Brown arrows (every other point): where G's loss pushes each sample, ∇ₓ log D(x) (longest drawn 28 px)." : '');
}

// ---- start-up progress ----

let progressTimer: ReturnType<typeof setInterval> | null = null;

/** Shows a start-up message on the status line and logs it (window.__game.progress). */
function progress(phase: GameProgress['phase'], text: string, kernels = 0, total: number | null = null): void {
  state.progress.push({ phase, kernels, total, text, t: performance.now() });
  status(text, phase === 'ready' || phase === 'first-step' ? 'ok' : 'info');
}

/** Runs `fn` while the status line counts the kernels it compiles (they compile when first used). */
async function counting<T>(phase: 'first-view' | 'first-step', what: string, fn: () => Promise<T>): Promise<T> {
  const base = engine().counters.pipelinesCompiled;
  const t0 = performance.now();
  const show = () => {
    const n = engine().counters.pipelinesCompiled - base;
    progress(
      phase,
      `${what}: ${n} new kernel${n === 1 ? '' : 's'} compiled so far (${((performance.now() - t0) / 1000).toFixed(0)} s)…`,
      n,
    );
  };
  show();
  await nextFrame(); // the message is painted before a step's kernels compile (that blocks the page's thread)
  if (progressTimer) clearInterval(progressTimer);
  progressTimer = setInterval(show, 500);
  try {
    return await fn();
  } finally {
    clearInterval(progressTimer);
    progressTimer = null;
    show(); // the final count
  }
}

/** The kernel manifest's key: the game's settings that decide which kernels run. */
const gameManifest = (o: ModeRunOptions) => manifestKey(`game:${o.model}`, { ...o, lr: 0, seed: 0 }, o.batch, POINTS);

// ---- the game ----

/** New games run one after another (a change of model while the last game still draws waits for it). */
let games: Promise<void> = Promise.resolve();
function newGame(): Promise<void> {
  games = games.then(startGame, startGame);
  return games;
}

/** Sets each side's optimisers to its learning rate (from the next update). */
function applyRates(): { d: number; g: number } {
  const rates = readRates();
  const sides = sideOptimizers(trainer!, discriminators(trainer!));
  for (const o of sides.D) o.lr = rates.d;
  for (const o of sides.G) o.lr = rates.g;
  return rates;
}

const ACTION_NAMES: Record<Action, string> = { D: 'D step', G: 'G step', round: 'round' };

/** The buttons as the state says: actions need a ready game and nothing in flight (Run pauses). */
function syncButtons(): void {
  const idle = state.ready && !state.busy && !loop;
  for (const b of [ui.dstep, ui.gstep, ui.step]) b.disabled = !idle;
  ui.run.disabled = !state.ready || (!!state.busy && !loop);
  for (const [b, a] of [
    [ui.dstep, 'D'],
    [ui.gstep, 'G'],
    [ui.step, 'round'],
  ] as const) {
    const busy = state.busy === a && !loop;
    if (busy) b.dataset.state = 'busy';
    else delete b.dataset.state;
    b.textContent = `${a === 'round' ? 'Round' : ACTION_NAMES[a]}${busy ? '…' : ''}`;
  }
}

/** The inspector links: this game's settings, and which update to inspect. */
function updateInspectLinks(): void {
  if (!opts) return;
  const q = new URLSearchParams({ mixture: opts.mixture, model: opts.model, batch: String(opts.batch), hidden: String(opts.hidden) });
  for (const key of Object.keys(mixtureModel(opts.model).params)) q.set(key, String(opts[key]));
  const round = readRoundOr({ d: 1, g: 1 });
  const link = (id: string, side: string, extra: Record<string, string> = {}) => {
    const p = new URLSearchParams(q);
    p.set('side', side);
    for (const [k, v] of Object.entries(extra)) p.set(k, v);
    byId<HTMLAnchorElement>(id).href = `../inspector/?${p}`;
  };
  link('inspect-round', 'round', round.d === 1 && round.g === 1 ? {} : { dSteps: String(round.d), gSteps: String(round.g) });
  link('inspect-d', 'D');
  link('inspect-g', 'G');
  link('inspect-view', 'view');
}

function readRoundOr(fallback: { d: number; g: number }): { d: number; g: number } {
  try {
    return readRound();
  } catch {
    return fallback;
  }
}

async function startGame(): Promise<void> {
  await stop();
  await pending; // a D step, G step or round in flight finishes on the old game
  state.ready = false;
  syncButtons();
  try {
    opts = readOptions();
    readRound();
  } catch (e) {
    status((e as Error).message, 'error');
    return;
  }
  if (trainer) disposeTrainer(trainer);
  sampler = new MixtureSampler(MIXTURES[opts.mixture].make(), opts.seed);
  trainer = createMixtureTrainer(opts, sampler.dim);
  applyRates();
  // The real points drawn: a fixed sample of the mixture, in network units.
  realPoints = sampler.toNetwork(new MixtureSampler(sampler.mix, opts.seed + 99).draw(POINTS));
  state.step = 0;
  state.dUpdates = 0;
  state.gUpdates = 0;
  state.lastStats = null;
  setViews();
  showStats();
  updateInspectLinks();
  // Kernels this game used on a previous visit compile up front, all at once and off the page's
  // thread where the browser can (createComputePipelineAsync); otherwise they compile as first used.
  const specs = loadManifest(gameManifest(opts));
  if (specs.length) {
    await engine().prewarm(specs, (done, total) => {
      if (total) progress('kernels', `compiling kernels: ${done} of ${total}…`, done, total);
    });
  }
  await counting('first-view', 'drawing the first view (D over the plane, samples, the latent grid)', () => draw());
  state.ready = true;
  syncButtons();
  progress('ready', `new game: ${opts.model} on ${opts.mixture}`);
}

function showStats(): void {
  byId('stat-step').textContent = String(state.step);
  byId('stat-updates').textContent = `D ${state.dUpdates} · G ${state.gUpdates}`;
  byId('stat-lossD').textContent = fmt(state.lastStats?.lossD);
  byId('stat-lossG').textContent = fmt(state.lastStats?.lossG);
}

/** One action (a D update, a G update, or a round), then the view redrawn. */
async function act(action: Action): Promise<void> {
  const t = trainer!;
  const o = opts!;
  const ds = discriminators(t);
  const round = action === 'round' ? readRound() : action === 'D' ? { d: 1, g: 0 } : { d: 0, g: 1 };
  const first = state.dUpdates + state.gUpdates === 0;
  const run = async () => {
    const stats =
      action === 'round'
        ? stepRound(t, ds, round, () => sampler!.batch(o.batch), true)
        : (() => {
            const real = sampler!.batch(o.batch);
            try {
              return stepSide(t, ds, action, real, true);
            } finally {
              real.dispose();
            }
          })();
    state.lastStats = stats ? await readStats(stats) : null;
  };
  if (first) await counting('first-step', `first update (${ACTION_NAMES[action]})`, run);
  else await run();
  if (action === 'round') state.step++;
  state.dUpdates += round.d;
  state.gUpdates += round.g;
  showStats();
  await draw();
  if (first) {
    saveManifest(gameManifest(o), engine().kernelSpecs());
    progress('first-step', `first ${ACTION_NAMES[action]} done`);
  }
}

/** A button's action: marked busy at once, the others disabled, the status says what runs. */
function clickAction(action: Action): void {
  if (loop || state.busy || !state.ready) return;
  state.busy = action;
  syncButtons();
  status(action === 'round' ? 'round: D steps, then G steps…' : `${ACTION_NAMES[action]}: updating ${action} only…`);
  // The busy state is painted before the update's work starts.
  pending = nextFrame()
    .then(() => act(action))
    .then(() => status(`${ACTION_NAMES[action]} done: D ${state.dUpdates} · G ${state.gUpdates} updates`, 'ok'))
    .catch((e: Error) => status(`${ACTION_NAMES[action]} failed: ${e.message}`, 'error'))
    .finally(() => {
      state.busy = null;
      syncButtons();
    });
}

/** The button action in flight (resolved when none). */
let pending: Promise<void> = Promise.resolve();

function setRunning(on: boolean): void {
  state.running = on;
  ui.run.textContent = on ? 'Pause' : loop ? 'Pausing after this step…' : 'Run';
  ui.run.dataset.state = on ? 'running' : loop ? 'pausing' : 'paused';
  syncButtons();
}

function start(): void {
  if (state.busy) return;
  if (loop) {
    setRunning(true);
    return;
  }
  state.running = true;
  loop = (async () => {
    try {
      while (state.running) {
        await act('round');
        await new Promise((r) => setTimeout(r, ui.slow.checked ? 600 : 0));
      }
    } catch (e) {
      status(`training failed: ${(e as Error).message}`, 'error');
    } finally {
      loop = null;
      setRunning(false);
    }
  })();
  setRunning(true);
}

async function stop(): Promise<void> {
  state.running = false;
  if (loop) setRunning(false);
  await loop;
}

ui.model.addEventListener('change', () => {
  showModelOptions();
  void newGame();
});
ui.mixture.addEventListener('change', () => void newGame());
ui.reset.addEventListener('click', () => void newGame());
ui.dstep.addEventListener('click', () => clickAction('D'));
ui.gstep.addEventListener('click', () => clickAction('G'));
ui.step.addEventListener('click', () => clickAction('round'));
ui.run.addEventListener('click', () => (state.running ? void stop() : start()));
ui.view.addEventListener('change', () => {
  if (!loop && !state.busy && trainer && state.ready) void draw();
});
// Learning rates and steps per side apply from the next update; the rest starts a new game.
for (const input of [ui.lrD, ui.lrG]) {
  input.addEventListener('change', () => {
    if (!trainer) return;
    try {
      const r = applyRates();
      status(`learning rates: D ${r.d}, G ${r.g} (from the next update)`, 'ok');
    } catch (e) {
      status((e as Error).message, 'error');
    }
  });
}
for (const input of [ui.dSteps, ui.gSteps]) {
  input.addEventListener('change', () => {
    try {
      const r = readRound();
      updateInspectLinks();
      status(`a round: ${r.d} D step${r.d === 1 ? '' : 's'}, then ${r.g} G step${r.g === 1 ? '' : 's'}`, 'ok');
    } catch (e) {
      status((e as Error).message, 'error');
    }
  });
}
for (const input of [ui.batch, ui.hidden, ...paramInputs.values()]) input.addEventListener('change', () => void newGame());

window.__game = Object.assign(state, {
  stepOnce: () => act('round'),
  dParams: async () => {
    const out: { name: string; shape: number[]; data: number[] }[] = [];
    for (const [name, p] of discriminators(trainer!)[0].namedParameters())
      out.push({ name, shape: [...p.shape], data: [...(await p.data())] });
    return out;
  },
  rates: () => {
    const sides = sideOptimizers(trainer!, discriminators(trainer!));
    return { d: sides.D.map((o) => o.lr), g: sides.G.map((o) => o.lr) };
  },
});

(async () => {
  showModelOptions();
  progress('start', 'starting WebGPU…');
  const started = await startEngine();
  if ('failure' in started) {
    renderStartFailure(byId('webgpu-status'), started.failure);
    byId('panels').classList.add('hidden');
    byId('adapter').textContent = 'no WebGPU';
    return;
  }
  byId('adapter').textContent = adapterLine(engine());
  await newGame();
  if (params.get('autostart') === '1') start();
})().catch((e: Error) => {
  status(`failed to start: ${e.message}`, 'error');
  console.error(e);
});
