// The kernel inspector: one training step of a registry model, every dispatch in encoding order.
//
// How the step is observed, all from outside the engine:
//   - engine().trace collects each dispatch's kernel key, op, workgroups and bytes;
//   - engine().startProfile()/stopProfile() time each dispatch with timestamp queries, when the
//     adapter has 'timestamp-query' (otherwise the time column shows '—' and a note says why);
//   - for shapes and WGSL, the page wraps the engine's dispatch() for the duration of the step:
//     the Kernel it receives carries its spec (key, source, binding access), and the tensors'
//     `buffer` getter (read by launch() just before it dispatches) maps each bound buffer to the
//     shape of the tensor that bound it. Both hooks are removed after the step.
// The real batch is random images of the model's input shape: data values do not change which
// kernels run. Models that bind labels or captions (GanTrainer.bindData) get the training page's set. Step 1 compiles pipelines and allocates optimiser state, so the page inspects step 2.
//
// URL parameters: model [the registry's first], batch [16], autorun [1], and any of the model's options (size or
// imageSize, ngf, ndf, nz, ...). With `mixture`, the game mode (./mixture.ts): the 2-D game page's
// trainers and updates (side=round|D|G, dSteps, gSteps, hidden, layers, nz and the model's mixture
// parameters), the game page's "inspect" links. State for tests: window.__inspector.

import { engine, fmtBytes, type DispatchInfo, type Engine, type Kernel, type PooledBuffer } from '../../engine/device.js';
import { Tensor, tensor } from '../../engine/tensor.js';
import { recipes, type ModelConfig } from '../../nets/registry.js';
import { byId, el, fmt, intParam, setStatus } from '../shared/dom.js';
import { adapterLine, renderStartFailure, startEngine } from '../shared/webgpu.js';
import { loadPageDataset } from '../shared/datasets.js';
import { quickConfig, runDefaults } from '../shared/models.js';
import { disposeTrainer } from '../shared/session.js';
import { mixtureModels, mixtureOptions, mixtureSubject } from './mixture.js';

/** URL/short names for options. */
const ALIASES: Record<string, string> = { size: 'imageSize' };

const params = new URLSearchParams(location.search);
/** The game mode: the 2-D game page's trainers and updates instead of the registry's image models. */
const gameMode = params.has('mixture');

export interface InspectedDispatch extends DispatchInfo {
  index: number;
  /** Shapes of the bound tensors, inputs ('read') first, outputs ('rw') last; null when unknown. */
  shapes: ({ shape: number[]; access: 'read' | 'rw' } | null)[];
  /** GPU milliseconds from timestamp queries, null without them. */
  ms: number | null;
}

interface Inspection {
  model: string;
  config: Record<string, number | string | boolean>;
  batch: number;
  dispatches: InspectedDispatch[];
  sources: Map<string, string>;
  timed: boolean;
  wallMs: number;
}

const ui = {
  model: byId<HTMLSelectElement>('model'),
  batch: byId<HTMLInputElement>('batch'),
  run: byId<HTMLButtonElement>('btn-run'),
  status: byId('status'),
};
const optionInputs = new Map<string, HTMLInputElement | HTMLSelectElement>();

// ---- observing one step -------------------------------------------------------------------------

/** Runs `fn` with the dispatch/buffer hooks installed; returns per-dispatch shapes and the WGSL by key. */
function observe(e: Engine, fn: () => void): { shapes: InspectedDispatch['shapes'][]; sources: Map<string, string> } {
  const shapeOfBuffer = new Map<number, number[]>();
  const shapes: InspectedDispatch['shapes'][] = [];
  const sources = new Map<string, string>();
  const proto = Tensor.prototype;
  const desc = Object.getOwnPropertyDescriptor(proto, 'buffer')!;
  Object.defineProperty(proto, 'buffer', {
    configurable: true,
    get(this: Tensor) {
      const b = desc.get!.call(this) as PooledBuffer;
      shapeOfBuffer.set(b.id, [...this.shape]);
      return b;
    },
  });
  const original = e.dispatch;
  // An own property shadowing the class method; deleting it restores the method.
  e.dispatch = (k: Kernel, buffers: PooledBuffer[], uniforms, workgroups, info) => {
    const [x, y = 1, z = 1] = workgroups;
    if (x > 0 && y > 0 && z > 0) {
      // The engine skips empty grids without tracing them; keep the lists aligned with the trace.
      sources.set(k.spec.key, k.spec.code);
      shapes.push(
        buffers.map((b, i) => (shapeOfBuffer.has(b.id) ? { shape: shapeOfBuffer.get(b.id)!, access: k.spec.bindings[i] } : null)),
      );
    }
    original.call(e, k, buffers, uniforms, workgroups, info);
  };
  try {
    fn();
  } finally {
    delete (e as unknown as Record<string, unknown>).dispatch;
    Object.defineProperty(proto, 'buffer', desc);
  }
  return { shapes, sources };
}

/** The model's options as declared (the registry recipe's, or in the game mode the game's). */
function optionSpecs(model: string): [string, { type: string; default?: unknown; help?: string; choices?: readonly unknown[] }][] {
  return gameMode ? mixtureOptions(model) : Object.entries(recipes[model].options);
}

function readConfig(model: string): ModelConfig {
  const config: ModelConfig = {};
  for (const [name, spec] of optionSpecs(model)) {
    const input = optionInputs.get(name);
    if (!input) continue;
    config[name] =
      spec.type === 'boolean' ? (input as HTMLInputElement).checked : spec.type === 'string' ? input.value : Number(input.value);
  }
  return config;
}

/** The game mode's inspection: steps 1 and 2 of a game update, the second observed. */
async function inspectGame(model: string, config: ModelConfig, batch: number): Promise<Inspection> {
  if (!Number.isInteger(batch) || batch < 2) throw new Error(`batch must be an integer >= 2, got ${batch}`);
  const subject = mixtureSubject(model, config, batch);
  try {
    return { model, batch, ...(await observeStep(() => subject.step())), config: subject.config };
  } finally {
    subject.dispose();
  }
}

/** Step 1 (compiles pipelines, allocates optimiser state), then step 2 with every dispatch observed. */
async function observeStep(step: () => void): Promise<Omit<Inspection, 'model' | 'config' | 'batch'>> {
  const e = engine();
  setStatus(ui.status, 'step 1: compiling pipelines and allocating optimiser state…');
  step();
  await e.sync();
  setStatus(ui.status, 'step 2: recording every dispatch…');
  e.trace = [];
  try {
    const timed = e.startProfile();
    const t0 = performance.now();
    const { shapes, sources } = observe(e, step);
    await e.sync();
    const wallMs = performance.now() - t0;
    const times = timed ? await e.stopProfile() : [];
    const trace = e.trace;
    if (shapes.length !== trace.length) throw new Error(`inspector: saw ${shapes.length} dispatches but the trace has ${trace.length}`);
    const dispatches = trace.map((d, i) => ({ ...d, index: i + 1, shapes: shapes[i], ms: times[i]?.ms ?? null }));
    return { dispatches, sources, timed: timed && times.length === trace.length, wallMs };
  } finally {
    e.trace = null;
  }
}

async function inspect(model: string, config: ModelConfig, batch: number): Promise<Inspection> {
  if (gameMode) return inspectGame(model, config, batch);
  const recipe = recipes[model];
  const errs = recipe.validate(config);
  if (errs.length) throw new Error(errs.join('; '));
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`batch must be a positive integer, got ${batch}`);
  const { channels, size } = recipe.imageShape(config);
  const trainer = recipe.create(config, { ...recipe.train, batch }, 1);
  if (trainer.bindData) {
    // Labels or captions (Triple-GAN, StackGAN): the set its training page uses, bound once.
    try {
      const d = await loadPageDataset(runDefaults(model).dataset, size);
      const [c, h, w] = d.data.sampleShape;
      trainer.bindData({ images: d.data.data, n: d.data.n, c, h, w, labels: d.data.labels, tokens: d.data.tokens });
    } catch (e) {
      disposeTrainer(trainer);
      throw e;
    }
  }
  const values = new Float32Array(batch * channels * size * size);
  for (let i = 0; i < values.length; i++) values[i] = Math.random() * 2 - 1;
  const real = tensor(values, [batch, channels, size, size]).keep();
  try {
    return { model, config, batch, ...(await observeStep(() => trainer.step(real, false))) };
  } finally {
    real.dispose();
    disposeTrainer(trainer);
  }
}

// ---- rendering ----------------------------------------------------------------------------------

const fmtShapes = (shapes: InspectedDispatch['shapes']): string => {
  const part = (acc: 'read' | 'rw') =>
    shapes
      .filter((s) => s?.access === acc)
      .map((s) => `[${s!.shape.join(',')}]`)
      .join(' ');
  const unknown = shapes.filter((s) => s === null).length;
  return `${part('read') || '∅'} → ${part('rw') || '∅'}${unknown ? ` (+${unknown} unnamed)` : ''}`;
};

const blobUrls: string[] = [];
function sourceUrl(key: string, code: string): string {
  const url = URL.createObjectURL(new Blob([`// ${key}\n${code}`], { type: 'text/plain' }));
  blobUrls.push(url);
  return url;
}

function showSource(r: Inspection, d: InspectedDispatch, row: HTMLTableRowElement): void {
  row.parentElement!.querySelectorAll('tr[aria-selected="true"]').forEach((tr) => tr.setAttribute('aria-selected', 'false'));
  row.setAttribute('aria-selected', 'true');
  byId('source-title').textContent = `WGSL · dispatch #${d.index} · ${d.op}`;
  byId('source-meta').textContent = `kernel ${d.kernel} · workgroups ${d.workgroups.join('×')} · ${fmtShapes(d.shapes)}`;
  byId('source').textContent = r.sources.get(d.kernel) ?? '(source not captured)';
  history.replaceState(null, '', `#d${d.index}`);
}

function render(r: Inspection): void {
  for (const u of blobUrls.splice(0)) URL.revokeObjectURL(u);
  const urls = new Map([...r.sources].map(([k, code]) => [k, sourceUrl(k, code)]));
  const tbody = byId('dispatches').querySelector('tbody')!;
  const rows = r.dispatches.map((d) => {
    const row = el(
      'tr',
      { id: `d${d.index}`, 'data-op': d.op, 'data-kernel': d.kernel },
      el('td', { class: 'num' }, String(d.index)),
      el('td', {}, d.op),
      el('td', { title: d.kernel, class: 'wrap' }, el('code', {}, d.kernel.length > 48 ? `${d.kernel.slice(0, 47)}…` : d.kernel)),
      el('td', { class: 'wrap' }, fmtShapes(d.shapes)),
      el('td', {}, d.workgroups.join('×')),
      el('td', { class: 'num' }, fmtBytes(d.bytes)),
      el('td', { class: 'num' }, d.ms === null ? '—' : (d.ms * 1000).toFixed(1)),
      el(
        'td',
        {},
        el('a', { href: urls.get(d.kernel) ?? '#', target: '_blank', rel: 'noopener', title: 'open the WGSL as a file' }, 'source'),
      ),
    );
    row.addEventListener('click', (ev) => {
      if ((ev.target as HTMLElement).closest('a')) return;
      showSource(r, d, row);
    });
    return row;
  });
  tbody.replaceChildren(...rows);

  const perOp = new Map<string, { n: number; bytes: number; ms: number }>();
  for (const d of r.dispatches) {
    const t = perOp.get(d.op) ?? { n: 0, bytes: 0, ms: 0 };
    t.n++;
    t.bytes += d.bytes;
    t.ms += d.ms ?? 0;
    perOp.set(d.op, t);
  }
  const totalMs = r.dispatches.reduce((s, d) => s + (d.ms ?? 0), 0);
  const totalBytes = r.dispatches.reduce((s, d) => s + d.bytes, 0);
  const sorted = [...perOp].sort((a, b) => (r.timed ? b[1].ms - a[1].ms : b[1].n - a[1].n));
  byId('per-op')
    .querySelector('tbody')!
    .replaceChildren(
      ...sorted.map(([op, t]) =>
        el(
          'tr',
          { 'data-op': op },
          el('td', {}, op),
          el('td', { class: 'num' }, String(t.n)),
          el('td', { class: 'num' }, fmtBytes(t.bytes)),
          el('td', { class: 'num' }, r.timed ? fmt(t.ms, 3) : '—'),
          el('td', { class: 'num' }, r.timed && totalMs > 0 ? `${((100 * t.ms) / totalMs).toFixed(1)}%` : '—'),
        ),
      ),
    );

  const cfg = Object.entries(r.config)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  byId('summary').textContent =
    `${r.model} (${cfg}, batch ${r.batch}): ${r.dispatches.length} dispatches of ${r.sources.size} distinct kernels, ` +
    `${fmtBytes(totalBytes)} moved, ${r.timed ? `${fmt(totalMs, 3)} ms of GPU time, ` : ''}${fmt(r.wallMs, 3)} ms wall time for the step.`;
  byId('timing-note').textContent = r.timed
    ? 'GPU times come from timestamp queries, one compute pass per dispatch while profiling (so the step runs slower than it does in training). Browsers may round timestamps (Chrome to 100 µs unless started with --enable-webgpu-developer-features).'
    : `No GPU times: this adapter does not offer the 'timestamp-query' feature, so the time columns show '—'.`;

  const hash = /^#d(\d+)$/.exec(location.hash);
  const first = hash ? r.dispatches[Number(hash[1]) - 1] : undefined;
  if (first) showSource(r, first, rows[first.index - 1]);
}

// ---- controls and start -------------------------------------------------------------------------

function buildOptionInputs(model: string): void {
  const box = ui.run.parentElement!;
  box.querySelectorAll('label[data-option]').forEach((l) => l.remove());
  optionInputs.clear();
  // The recipe's defaults with its --quick preset on top: small, so a step is quick to inspect even on a software adapter.
  // (The game's models: their declared defaults.)
  const defaults: ModelConfig = gameMode ? {} : quickConfig(model);
  for (const [name, spec] of optionSpecs(model)) {
    if (!['int', 'float', 'number', 'boolean', 'string'].includes(spec.type)) continue;
    const fromUrl = params.get(name) ?? params.get(Object.keys(ALIASES).find((a) => ALIASES[a] === name) ?? '');
    const value = fromUrl ?? String(defaults[name] ?? spec.default ?? '');
    let input: HTMLInputElement | HTMLSelectElement;
    if (spec.choices?.length) {
      // Declared choices: a select (the URL's value kept when it is one of them).
      const choices = spec.choices.map(String);
      input = el('select', { title: spec.help ?? name }, ...choices.map((c) => el('option', { value: c }, c)));
      input.value = choices.includes(value) ? value : String(spec.default);
    } else {
      input = el('input', {
        type: spec.type === 'boolean' ? 'checkbox' : spec.type === 'string' ? 'text' : 'number',
        step: spec.type === 'int' ? 1 : 'any',
        title: spec.help ?? name,
      });
      if (spec.type === 'boolean') input.checked = value === 'true';
      else input.value = value;
    }
    optionInputs.set(name, input);
    box.insertBefore(el('label', { 'data-option': name }, name, input), ui.batch.closest('label'));
  }
}

export interface InspectorHandle {
  readonly done: boolean;
  readonly result: { dispatches: InspectedDispatch[]; timed: boolean; kernels: number } | null;
  readonly error: string | null;
}
declare global {
  interface Window {
    __inspector?: InspectorHandle;
  }
}
let last: Inspection | null = null;
let done = false;
let error: string | null = null;
window.__inspector = {
  get done() {
    return done;
  },
  get result() {
    return last ? { dispatches: last.dispatches, timed: last.timed, kernels: last.sources.size } : null;
  },
  get error() {
    return error;
  },
};

async function run(): Promise<void> {
  ui.run.disabled = true;
  done = false;
  error = null;
  const model = ui.model.value;
  try {
    const r = await inspect(model, readConfig(model), Number(ui.batch.value));
    last = r;
    render(r);
    setStatus(ui.status, `inspected step 2 of ${model}: ${r.dispatches.length} dispatches`, 'ok');
  } catch (e) {
    error = (e as Error).message;
    setStatus(ui.status, `inspection failed: ${error}`, 'error');
    console.error(e);
  } finally {
    done = true;
    ui.run.disabled = false;
  }
}

async function main(): Promise<void> {
  const choices = gameMode
    ? mixtureModels().map((m) => ({ value: m.name, text: m.label }))
    : Object.keys(recipes).map((m) => ({ value: m, text: `${m}: ${recipes[m].description}` }));
  const models = choices.map((c) => c.value);
  const wanted = params.get('model');
  ui.model.replaceChildren(...choices.map((c) => el('option', { value: c.value }, c.text)));
  ui.model.value = wanted && models.includes(wanted) ? wanted : (models[0] ?? '');
  ui.batch.value = String(intParam(params, 'batch', gameMode ? 64 : 16, 1, 1024));
  buildOptionInputs(ui.model.value);
  ui.model.addEventListener('change', () => buildOptionInputs(ui.model.value));
  ui.run.addEventListener('click', () => void run());

  const started = await startEngine();
  if ('failure' in started) {
    renderStartFailure(byId('webgpu-status'), started.failure);
    byId('panels').classList.add('hidden');
    byId('adapter').textContent = 'no WebGPU';
    error = started.failure.message;
    done = true;
    return;
  }
  byId('adapter').textContent = adapterLine(started.engine);
  ui.run.disabled = false;
  setStatus(ui.status, 'ready');
  if (params.get('autorun') !== '0') await run();
}

main().catch((e: Error) => {
  error = e.message;
  done = true;
  setStatus(ui.status, `failed to start: ${e.message}`, 'error');
  console.error(e);
});
