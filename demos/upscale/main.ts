// The super-resolution page: UpscalerJS's ESRGAN generators (tfjs layers models, served by the
// build from their npm packages under ../upscalerjs/<model>/) imported into the engine
// (pretrained/tfjs_layers.ts) and run next to tfjs-webgpu on the same weights. Shows the input
// (nearest-neighbour upscaled), both outputs with their times and their difference, and every
// dispatch of the engine's forward pass (op, kernel, workgroups, bytes, GPU time, WGSL).
//
// Pixels: PNGs are decoded exactly (pretrained/upscale.ts decodePngAsync, no canvas colour
// management), alpha composited over white, fed in the model's value range, and the output rounded
// and clamped as `gan upscale` does, so the page and the CLI give the same image for the same file.
// Other formats go through a canvas. Emoji are halved to 32 px unless `size=full`.
//
// URL parameters: model [esrgan-slim], scale [2], emoji [1f600], size [32|full], tfjs [1],
// autorun [0]. State for tests: window.__upscale.

import { engine, noGrad, tidy, type Engine, type Tensor } from '../../engine/index.js';
import type { DispatchInfo, Kernel, PooledBuffer } from '../../engine/device.js';
import { createTfjs, type TfjsHandle } from '../../bench/tfjs.js';
import { UPSCALER_MODELS, upscalerModel, type UpscalerModelEntry } from '../../pretrained/catalogue.js';
import {
  concatBytes,
  decodeWeights,
  importLayersModel,
  type TfjsLayersModel,
  type TfjsLayersModelJson,
} from '../../pretrained/tfjs_layers.js';
import { decodePngAsync, halveImage, imageToInput, outputToRgba, type RgbImage } from '../../pretrained/upscale.js';
import { byId, el, fmt, setStatus } from '../shared/dom.js';
import { adapterLine, renderStartFailure, startEngine } from '../shared/webgpu.js';

const EMOJI = ['1f600', '1f98a', '1f355', '1f308', '1f431', '1f680', '1f33b', '2764-fe0f', '1f34e', '1f427'];
const MODELS_BASE = '../upscalerjs/';

interface RunResult {
  model: string;
  scale: number;
  inputSize: [number, number];
  width: number;
  height: number;
  engineMs: number;
  tfjsMs: number | null;
  maxRelErr: number | null;
  dispatches: number;
  /** The engine's output image, RGBA bytes. */
  engineRgba: number[];
}

interface UpscaleState {
  state: 'loading' | 'idle' | 'running' | 'done' | 'error';
  error: string | null;
  result: RunResult | null;
  /** Ids whose model files the site serves. */
  available: string[];
}

declare global {
  interface Window {
    __upscale?: UpscaleState;
  }
}

const params = new URLSearchParams(location.search);
const S: UpscaleState = { state: 'loading', error: null, result: null, available: [] };
window.__upscale = S;

const ui = {
  model: byId<HTMLSelectElement>('model'),
  scale: byId<HTMLSelectElement>('scale'),
  size: byId<HTMLSelectElement>('size'),
  tfjs: byId<HTMLInputElement>('tfjs'),
  run: byId<HTMLButtonElement>('btn-run'),
  emoji: byId('emoji'),
  file: byId<HTMLInputElement>('file'),
  drop: byId('drop'),
  status: byId('status'),
};

let image: { img: RgbImage; name: string; isEmoji: boolean } | null = null;
let tfjs: { h: TfjsHandle; tfl: typeof import('@tensorflow/tfjs-layers') } | null = null;
const files = new Map<string, Promise<{ json: TfjsLayersModelJson; groups: Uint8Array[] }>>();
let loaded: { key: string; model: TfjsLayersModel; tm: { predict(x: unknown): unknown; dispose(): void } | null } | null = null;

// ---- inputs -------------------------------------------------------------------------------------

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`fetching ${url} failed: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** PNG exactly; anything else through a canvas (RGBA). */
async function decodeImage(bytes: Uint8Array, type: string): Promise<RgbImage> {
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  if (isPng) return decodePngAsync(bytes);
  const bmp = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const c = new OffscreenCanvas(bmp.width, bmp.height);
  const ctx = c.getContext('2d')!;
  ctx.drawImage(bmp, 0, 0);
  const d = ctx.getImageData(0, 0, bmp.width, bmp.height);
  return { width: d.width, height: d.height, data: new Uint8Array(d.data.buffer), channels: 4 };
}

async function pickEmoji(code: string): Promise<void> {
  image = { img: await decodeImage(await fetchBytes(`./emoji/${code}.png`), 'image/png'), name: `emoji ${code}`, isEmoji: true };
  for (const b of Array.from(ui.emoji.querySelectorAll('button'))) b.setAttribute('aria-pressed', String(b.dataset.code === code));
  setStatus(ui.status, `${image.name}: ${image.img.width}x${image.img.height}`);
}

async function pickFile(f: File): Promise<void> {
  image = { img: await decodeImage(new Uint8Array(await f.arrayBuffer()), f.type), name: f.name, isEmoji: false };
  for (const b of Array.from(ui.emoji.querySelectorAll('button'))) b.setAttribute('aria-pressed', 'false');
  setStatus(ui.status, `${f.name}: ${image.img.width}x${image.img.height}`);
}

function effectiveInput(): RgbImage {
  if (!image) throw new Error('pick an emoji or drop an image first');
  return image.isEmoji && ui.size.value === '32' ? halveImage(image.img) : image.img;
}

// ---- models -------------------------------------------------------------------------------------

function modelFiles(entry: UpscalerModelEntry, scale: number) {
  const key = `${entry.id}/${scale}`;
  if (!files.has(key)) {
    const base = `${MODELS_BASE}${entry.id}/${entry.id === 'default-model' ? 'models/' : `models/x${scale}/`}`;
    files.set(
      key,
      (async () => {
        const json = JSON.parse(new TextDecoder().decode(await fetchBytes(`${base}model.json`))) as TfjsLayersModelJson;
        const groups = await Promise.all(
          json.weightsManifest.map(async (g) => concatBytes(await Promise.all(g.paths.map((p) => fetchBytes(base + p))))),
        );
        return { json, groups };
      })(),
    );
  }
  return files.get(key)!;
}

async function ensureModel(entry: UpscalerModelEntry, scale: number, withTfjs: boolean) {
  const key = `${entry.id} x${scale}`;
  if (loaded && loaded.key === key && (!withTfjs || loaded.tm)) return loaded;
  if (loaded) {
    loaded.tm?.dispose();
    for (const p of loaded.model.parameters()) p.dispose();
    loaded = null;
  }
  setStatus(ui.status, `loading ${key} (${entry.pkg})…`);
  const { json, groups } = await modelFiles(entry, scale);
  const model = importLayersModel(json, decodeWeights(json.weightsManifest, groups), { name: key });
  let tm = null;
  if (withTfjs) {
    if (!tfjs) {
      setStatus(ui.status, 'starting tfjs-webgpu…');
      tfjs = { h: await createTfjs((navigator as Navigator & { gpu: GPU }).gpu), tfl: await import('@tensorflow/tfjs-layers') };
    }
    const all = concatBytes(groups);
    tm = (await tfjs.tfl.loadLayersModel(
      tfjs.h.tf.io.fromMemory({
        modelTopology: json.modelTopology as never,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights) as never,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer,
      }),
    )) as unknown as { predict(x: unknown): unknown; dispose(): void };
  }
  loaded = { key, model, tm };
  return loaded;
}

// ---- the kernel inspector part ------------------------------------------------------------------

/** Runs fn with the engine's dispatch wrapped to capture each kernel's WGSL by key. */
function captureSources(e: Engine, fn: () => void): Map<string, string> {
  const sources = new Map<string, string>();
  const original = e.dispatch;
  e.dispatch = (k: Kernel, buffers: PooledBuffer[], uniforms, workgroups, info) => {
    sources.set(k.spec.key, k.spec.code);
    original.call(e, k, buffers, uniforms, workgroups, info);
  };
  try {
    fn();
  } finally {
    delete (e as unknown as Record<string, unknown>).dispatch;
  }
  return sources;
}

function renderDispatches(trace: (DispatchInfo & { ms?: number })[], sources: Map<string, string>, timed: boolean): void {
  const tbody = byId('dispatches').querySelector('tbody')!;
  const byOp = new Map<string, number>();
  for (const d of trace) byOp.set(d.op, (byOp.get(d.op) ?? 0) + 1);
  const gpuMs = trace.reduce((s, d) => s + (d.ms ?? 0), 0);
  byId('dispatch-summary').textContent =
    `${trace.length} dispatches (${[...byOp].map(([op, n]) => `${op} ${n}`).join(', ')})` +
    (timed ? `, ${fmt(gpuMs, 3)} ms of GPU time by timestamp queries` : ', no timestamp-query on this adapter: no GPU times');
  tbody.replaceChildren(
    ...trace.map((d, i) => {
      const row = el(
        'tr',
        { 'data-op': d.op },
        el('td', { class: 'num' }, String(i + 1)),
        el('td', {}, d.op),
        el('td', { class: 'wrap' }, el('code', {}, d.kernel)),
        el('td', {}, d.workgroups.join('×')),
        el('td', { class: 'num' }, String(d.bytes)),
        el('td', { class: 'num' }, d.ms === undefined ? '—' : (d.ms * 1000).toFixed(1)),
      );
      row.addEventListener('click', () => {
        for (const tr of Array.from(tbody.querySelectorAll('tr[aria-selected="true"]'))) tr.setAttribute('aria-selected', 'false');
        row.setAttribute('aria-selected', 'true');
        byId('source-title').textContent = `WGSL · dispatch #${i + 1} · ${d.op}`;
        byId('source').textContent = sources.get(d.kernel) ?? '(source not captured)';
      });
      return row;
    }),
  );
}

// ---- drawing ------------------------------------------------------------------------------------

function draw(id: string, rgba: Uint8ClampedArray, w: number, h: number): void {
  const c = byId<HTMLCanvasElement>(id);
  c.width = w;
  c.height = h;
  c.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(rgba), w, h), 0, 0);
}

function nearestUp(img: RgbImage, s: number): Uint8ClampedArray {
  const w = img.width * s;
  const out = new Uint8ClampedArray(4 * w * img.height * s);
  for (let y = 0; y < img.height * s; y++)
    for (let x = 0; x < w; x++) {
      const src = (Math.floor(y / s) * img.width + Math.floor(x / s)) * img.channels;
      const px = img.data.subarray(src, src + img.channels);
      const o = 4 * (y * w + x);
      const gray = img.channels <= 2;
      out[o] = px[0];
      out[o + 1] = gray ? px[0] : px[1];
      out[o + 2] = gray ? px[0] : px[2];
      out[o + 3] = img.channels === 2 ? px[1] : img.channels === 4 ? px[3] : 255;
    }
  return out;
}

// ---- run ----------------------------------------------------------------------------------------

async function run(): Promise<void> {
  S.state = 'running';
  S.error = null;
  ui.run.disabled = true;
  try {
    const entry = upscalerModel(ui.model.value);
    const scale = Number(ui.scale.value);
    const input = effectiveInput();
    const withTfjs = ui.tfjs.checked;
    const m = await ensureModel(entry, scale, withTfjs);
    const e = engine();
    draw('cv-input', nearestUp(input, scale), input.width * scale, input.height * scale);
    byId('cap-input').textContent = `input ${input.width}x${input.height} (${image!.name}), nearest-neighbour x${scale}`;

    setStatus(ui.status, `engine: ${m.key} on ${input.width}x${input.height} (the first run compiles its kernels)…`);
    const x = imageToInput(input, entry).keep();
    let y: Tensor | null = null;
    let sources = new Map<string, string>();
    await e.sync();
    e.trace = [];
    const timed = e.startProfile();
    const t0 = performance.now();
    try {
      sources = captureSources(e, () => {
        y = noGrad(() => tidy(() => m.model.call(x) as Tensor));
      });
      await e.sync();
    } finally {
      x.dispose();
    }
    const engineMs = performance.now() - t0;
    const times = timed ? await e.stopProfile() : [];
    const trace = e.trace ?? [];
    e.trace = null;
    const yy = y! as Tensor;
    const [, , oh, ow] = yy.shape;
    const raw = await yy.data();
    yy.dispose();
    const rgba = outputToRgba(raw, ow, oh, entry);
    draw('cv-engine', rgba, ow, oh);
    byId('cap-engine').textContent =
      `engine: ${ow}x${oh} in ${fmt(engineMs, 3)} ms (wall, profiled${S.result ? '' : ', first run includes compilation'})`;
    renderDispatches(
      trace.map((d, i) => ({ ...d, ms: times.length === trace.length ? times[i].ms : undefined })),
      sources,
      timed && times.length === trace.length,
    );

    let tfjsMs: number | null = null;
    let maxRelErr: number | null = null;
    if (withTfjs && tfjs && m.tm) {
      setStatus(ui.status, `tfjs-webgpu: ${m.key}…`);
      const { tf } = tfjs.h;
      const planar = imageToInput(input, entry);
      const vals = await planar.data();
      planar.dispose();
      const tx = tf.tidy(() => tf.transpose(tf.tensor4d(vals, [1, 3, input.height, input.width]), [0, 2, 3, 1]));
      await tfjs.h.sync();
      const t1 = performance.now();
      const ty = m.tm.predict(tx) as import('@tensorflow/tfjs-core').Tensor;
      await tfjs.h.sync();
      tfjsMs = performance.now() - t1;
      const tp = tf.tidy(() => tf.transpose(ty, [0, 3, 1, 2]));
      const tv = (await tp.data()) as Float32Array;
      tf.dispose([tx, ty, tp]);
      const trgba = outputToRgba(tv, ow, oh, entry);
      draw('cv-tfjs', trgba, ow, oh);
      let d = 0;
      let mx = 0;
      for (let i = 0; i < tv.length; i++) {
        d = Math.max(d, Math.abs(tv[i] - raw[i]));
        mx = Math.max(mx, Math.abs(tv[i]));
      }
      maxRelErr = d / mx;
      // |engine - tfjs| per pixel of the raw outputs, scaled so the largest difference is white.
      const n = ow * oh;
      const diff = new Uint8ClampedArray(4 * n);
      for (let i = 0; i < n; i++) {
        let v = 0;
        for (let c = 0; c < 3; c++) v = Math.max(v, Math.abs(tv[c * n + i] - raw[c * n + i]));
        const g = d > 0 ? Math.round((255 * v) / d) : 0;
        diff[4 * i] = diff[4 * i + 1] = diff[4 * i + 2] = g;
        diff[4 * i + 3] = 255;
      }
      draw('cv-diff', diff, ow, oh);
      byId('cap-tfjs').textContent = `tfjs-webgpu: ${fmt(tfjsMs, 3)} ms (wall${S.result ? '' : ', first run includes compilation'})`;
      byId('cap-diff').textContent = `|engine − tfjs| (white = ${d.toExponential(2)}, max relative error ${maxRelErr.toExponential(2)})`;
    }
    S.result = {
      model: entry.id,
      scale,
      inputSize: [input.width, input.height],
      width: ow,
      height: oh,
      engineMs,
      tfjsMs,
      maxRelErr,
      dispatches: trace.length,
      engineRgba: Array.from(rgba),
    };
    S.state = 'done';
    setStatus(
      ui.status,
      `done: ${m.key}, ${input.width}x${input.height} -> ${ow}x${oh}; engine ${fmt(engineMs, 3)} ms${tfjsMs === null ? '' : `, tfjs ${fmt(tfjsMs, 3)} ms, max relative difference ${maxRelErr!.toExponential(2)}`}`,
      'ok',
    );
  } catch (err) {
    S.state = 'error';
    S.error = (err as Error).message ?? String(err);
    setStatus(ui.status, S.error, 'error');
  } finally {
    ui.run.disabled = false;
  }
}

// ---- set-up -------------------------------------------------------------------------------------

function fillScales(): void {
  const entry = upscalerModel(ui.model.value);
  const want = Number(params.get('scale') ?? ui.scale.value ?? 2);
  ui.scale.replaceChildren(...entry.scales.map((s) => el('option', { value: s }, `x${s}`)));
  ui.scale.value = String(entry.scales.includes(want) ? want : entry.scales[0]);
}

async function main(): Promise<void> {
  let available: string[] = [];
  try {
    available = (JSON.parse(new TextDecoder().decode(await fetchBytes(`${MODELS_BASE}index.json`))) as { id: string }[]).map((m) => m.id);
  } catch {
    available = [];
  }
  S.available = available;
  ui.model.replaceChildren(
    ...UPSCALER_MODELS.map((m) =>
      el(
        'option',
        { value: m.id, disabled: !available.includes(m.id) },
        `${m.id}${available.includes(m.id) ? '' : m.optional ? ' (npm install --no-save ' + m.pkg + ', then rebuild)' : ' (not served)'}`,
      ),
    ),
  );
  const wantModel = params.get('model') ?? 'esrgan-slim';
  ui.model.value = available.includes(wantModel) ? wantModel : (available[0] ?? wantModel);
  fillScales();
  ui.model.addEventListener('change', fillScales);
  if (params.get('size') === 'full') ui.size.value = 'full';
  if (params.get('tfjs') === '0') ui.tfjs.checked = false;
  ui.emoji.replaceChildren(
    ...EMOJI.map((code) => {
      const b = el(
        'button',
        { type: 'button', 'data-code': code, title: code, 'aria-pressed': 'false' },
        el('img', { src: `./emoji/${code}.png`, alt: code }),
      );
      b.addEventListener('click', () => void pickEmoji(code));
      return b;
    }),
  );
  ui.file.addEventListener('change', () => {
    if (ui.file.files?.[0])
      void pickFile(ui.file.files[0]).then(async () => {
        if (params.get('autorun') === '1') await run();
      });
  });
  ui.drop.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    ui.drop.classList.add('over');
  });
  ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
  ui.drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    ui.drop.classList.remove('over');
    const f = ev.dataTransfer?.files?.[0];
    if (f) void pickFile(f);
  });
  ui.run.addEventListener('click', () => void run());

  const started = await startEngine();
  if ('failure' in started) {
    renderStartFailure(byId('webgpu-status'), started.failure);
    byId('adapter').textContent = 'no WebGPU';
    S.state = 'error';
    S.error = started.failure.message;
    setStatus(ui.status, 'WebGPU is not available: see above', 'error');
    return;
  }
  byId('adapter').textContent = adapterLine(started.engine);
  if (started.engine.isSoftware) {
    ui.size.value = params.get('size') === 'full' ? 'full' : '32';
  }
  await pickEmoji(params.get('emoji') ?? EMOJI[0]);
  if (!available.length) {
    S.state = 'error';
    S.error = `no model files at ${MODELS_BASE} (build with \`node scripts/build.mjs demos\`)`;
    setStatus(ui.status, S.error, 'error');
    return;
  }
  ui.run.disabled = false;
  S.state = 'idle';
  if (params.get('autorun') === '1' && !params.get('upload')) await run();
}

void main();
