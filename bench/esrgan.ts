// Whole-network inference benchmark: UpscalerJS's ESRGAN generators (pretrained/) run by the
// engine and by tfjs-webgpu on the same weights, the same input and the same adapter, in one
// process (Node: dist/bench.mjs; browser: the bench page). Each case is validated first (max
// |engine - tfjs| / max |tfjs| on the benchmark input itself, bound 1e-4), then timed.
//
// Time per image = wall clock from dispatching the model on a resident input to the queue being
// idle (device.queue.onSubmittedWorkDone), median of `repeats` after `warmup` untimed runs (the
// first compiles the kernels; its time is reported apart as first_ms). Neither side reads the
// output back. Host encoding is included, as an application would see it.
//
// Case selection: `quick` (the default on software adapters: default-model x2 and slim x4 at 64 px), `full`
// (every model and scale at 64 and 256 px; the default on GPUs). A case whose largest activation
// would exceed the device's maxStorageBufferBindingSize (e.g. x8 at 256 px: 2048 x 2048 x 192
// floats after the upsampling) is recorded as skipped with that reason.
// Browser-safe: model files come through a `ModelSource` (Node: node_modules; page: fetch).

import { engine, noGrad, tensor, tidy, type Tensor } from '../engine/index.js';
import { UPSCALER_MODELS, upscalerModel, type UpscalerModelEntry } from '../pretrained/catalogue.js';
import {
  concatBytes,
  decodeWeights,
  importLayersModel,
  type TfjsLayersModel,
  type TfjsLayersModelJson,
} from '../pretrained/tfjs_layers.js';
import type { TfjsHandle } from './tfjs.js';

export interface EsrganCase {
  model: string;
  scale: number;
  /** Input is size x size. */
  size: number;
}

export type EsrganMode = 'quick' | 'full';

export interface EsrganSideTiming {
  status: 'ok' | 'failed' | 'skipped';
  message?: string;
  ms_median?: number;
  ms_all?: number[];
  /** The first run (kernel compilation included). */
  first_ms?: number;
}

export interface EsrganRecord extends EsrganCase {
  out: [number, number];
  /** Largest activation of the network at this size, bytes. */
  peak_activation_bytes: number;
  engine: EsrganSideTiming;
  tfjs?: EsrganSideTiming;
  /** max |engine - tfjs| / max |tfjs| on the benchmark input. */
  max_rel_err?: number;
  /** tfjs ms / engine ms (> 1: the engine is faster). */
  ratio?: number;
}

/** model.json text and each weight group's shards concatenated. */
export type ModelSource = (entry: UpscalerModelEntry, scale: number) => Promise<{ json: TfjsLayersModelJson; groups: Uint8Array[] }>;

export function esrganCases(mode: EsrganMode, opts: { thick?: boolean; sizes?: number[] } = {}): EsrganCase[] {
  if (mode === 'quick') {
    const sizes = opts.sizes ?? [64];
    return sizes.flatMap((size) => [
      { model: 'default-model', scale: 2, size },
      { model: 'esrgan-slim', scale: 4, size },
    ]);
  }
  const sizes = opts.sizes ?? [64, 256];
  const out: EsrganCase[] = [];
  for (const size of sizes)
    for (const m of UPSCALER_MODELS) {
      if (m.optional && !opts.thick) continue;
      for (const scale of m.scales) out.push({ model: m.id, scale, size });
    }
  return out;
}

/** A deterministic test image in 0..1, [1, 3, size, size] planar: smooth gradients and a few edges. */
export function benchImage(size: number): Float32Array {
  const d = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const u = x / size;
        const v = y / size;
        const ring = Math.sin(12 * Math.hypot(u - 0.5, v - 0.5) + c) * 0.5 + 0.5;
        const check = ((x >> 3) + (y >> 3)) % 2;
        d[(c * size + y) * size + x] = 0.6 * ring + 0.3 * check * (c === 1 ? u : v) + 0.05 * c;
      }
  return d;
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface EsrganRunOptions {
  warmup: number;
  repeats: number;
  log?: (l: string) => void;
  /** No case starts after this time (Date.now() ms); the rest are recorded as skipped. */
  deadline?: number | null;
  /** tfjs-layers, loaded by the caller (dynamic import). */
  tfl?: typeof import('@tensorflow/tfjs-layers') | null;
}

type TfLayersModel = { predict(x: unknown): unknown; dispose(): void };

/** Runs the cases in order, loading each model once per (model, scale). */
export async function runEsrganBench(
  cases: readonly EsrganCase[],
  source: ModelSource,
  h: TfjsHandle | null,
  o: EsrganRunOptions,
): Promise<EsrganRecord[]> {
  const log = o.log ?? (() => {});
  const out: EsrganRecord[] = [];
  const limit = engine().limits.maxStorageBufferBindingSize;
  let loadedKey = '';
  let model: TfjsLayersModel | null = null;
  let tm: TfLayersModel | null = null;
  const release = () => {
    tm?.dispose();
    tm = null;
    for (const p of model?.parameters() ?? []) p.dispose();
    model = null;
  };
  log('');
  log('ESRGAN inference (UpscalerJS weights), ms per image, wall clock to an idle queue');
  log('model            scale   input -> output      engine ms   tfjs ms   tfjs/engine   max rel err');
  try {
    for (const c of cases) {
      const entry = upscalerModel(c.model);
      const key = `${c.model} x${c.scale}`;
      const rec: EsrganRecord = {
        ...c,
        out: [c.size * c.scale, c.size * c.scale],
        peak_activation_bytes: 0,
        engine: { status: 'skipped' },
      };
      if (o.deadline && Date.now() > o.deadline) {
        rec.engine = { status: 'skipped', message: 'time budget spent' };
        out.push(rec);
        log(row(rec));
        continue;
      }
      try {
        if (key !== loadedKey) {
          release();
          const { json, groups } = await source(entry, c.scale);
          model = importLayersModel(json, decodeWeights(json.weightsManifest, groups), { name: key });
          if (h && o.tfl) {
            const all = concatBytes(groups);
            tm = (await o.tfl.loadLayersModel(
              h.tf.io.fromMemory({
                modelTopology: json.modelTopology as never,
                weightSpecs: json.weightsManifest.flatMap((g) => g.weights) as never,
                weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer,
              }),
            )) as unknown as TfLayersModel;
          }
          loadedKey = key;
        }
      } catch (err) {
        rec.engine = { status: 'failed', message: `load: ${(err as Error).message.split('\n')[0]}` };
        out.push(rec);
        log(row(rec));
        continue;
      }
      const m = model!;
      rec.peak_activation_bytes = Math.max(...m.activationShapes(c.size, c.size).map((s) => 4 * s.reduce((a, b) => a * b, 1)));
      if (rec.peak_activation_bytes > limit) {
        const msg = `largest activation ${(rec.peak_activation_bytes / 2 ** 20).toFixed(0)} MiB > maxStorageBufferBindingSize ${(limit / 2 ** 20).toFixed(0)} MiB (would need tiling)`;
        rec.engine = { status: 'skipped', message: msg };
        if (h) rec.tfjs = { status: 'skipped', message: msg };
        out.push(rec);
        log(row(rec));
        continue;
      }
      const [lo, hi] = entry.inputRange;
      const img = benchImage(c.size).map((v) => lo + v * (hi - lo));
      // ---- engine
      const x = tensor(img, [1, 3, c.size, c.size]).keep();
      let eOut: Float32Array | null = null;
      try {
        const runOnce = async (read: boolean): Promise<number> => {
          await engine().sync();
          const t0 = performance.now();
          const y = noGrad(() => tidy(() => m.call(x) as Tensor));
          await engine().sync();
          const ms = performance.now() - t0;
          if (read) eOut = await y.data();
          y.dispose();
          return ms;
        };
        const first = await runOnce(true);
        for (let i = 1; i < o.warmup; i++) await runOnce(false);
        const all: number[] = [];
        for (let i = 0; i < o.repeats; i++) all.push(await runOnce(false));
        rec.engine = { status: 'ok', ms_median: median(all), ms_all: all, first_ms: first };
      } catch (err) {
        rec.engine = { status: 'failed', message: (err as Error).message.split('\n')[0] };
      } finally {
        x.dispose();
      }
      // ---- tfjs
      if (h && tm) {
        const tf = h.tf;
        const tx = tf.tidy(() => tf.transpose(tf.tensor4d(img, [1, 3, c.size, c.size]), [0, 2, 3, 1]));
        try {
          const runOnce = async (read: boolean): Promise<number> => {
            await h.sync();
            const t0 = performance.now();
            const y = tm!.predict(tx) as import('@tensorflow/tfjs-core').Tensor;
            await h.sync();
            const ms = performance.now() - t0;
            if (read && eOut) {
              const t = tf.tidy(() => tf.transpose(y, [0, 3, 1, 2]));
              const tv = (await t.data()) as Float32Array;
              t.dispose();
              let d = 0;
              let mx = 0;
              for (let i = 0; i < tv.length; i++) {
                d = Math.max(d, Math.abs(tv[i] - eOut[i]));
                mx = Math.max(mx, Math.abs(tv[i]));
              }
              rec.max_rel_err = tv.length === eOut.length ? d / mx : Infinity;
            }
            y.dispose();
            return ms;
          };
          const first = await runOnce(true);
          for (let i = 1; i < o.warmup; i++) await runOnce(false);
          const all: number[] = [];
          for (let i = 0; i < o.repeats; i++) all.push(await runOnce(false));
          rec.tfjs = { status: 'ok', ms_median: median(all), ms_all: all, first_ms: first };
          if (rec.engine.ms_median) rec.ratio = rec.tfjs.ms_median! / rec.engine.ms_median;
          if (rec.max_rel_err !== undefined && !(rec.max_rel_err < 1e-4)) {
            rec.engine = {
              ...rec.engine,
              status: 'failed',
              message: `output differs from tfjs: max rel err ${rec.max_rel_err.toExponential(2)} >= 1e-4`,
            };
          }
        } catch (err) {
          rec.tfjs = { status: 'failed', message: (err as Error).message.split('\n')[0] };
        } finally {
          tx.dispose();
        }
      }
      out.push(rec);
      log(row(rec));
    }
  } finally {
    release();
  }
  return out;
}

const fmt = (v: number | undefined, d = 1) => (v === undefined ? '-' : v.toFixed(d));

export function row(r: EsrganRecord): string {
  const io = `${r.size}x${r.size} -> ${r.out[0]}x${r.out[1]}`;
  const e = r.engine.status === 'ok' ? fmt(r.engine.ms_median) : r.engine.status;
  const t = r.tfjs ? (r.tfjs.status === 'ok' ? fmt(r.tfjs.ms_median) : r.tfjs.status) : '-';
  const ratio = r.ratio ? `${r.ratio.toFixed(2)}x` : '-';
  const err = r.max_rel_err !== undefined ? r.max_rel_err.toExponential(1) : '-';
  const msg = r.engine.message ? `  (${r.engine.message})` : '';
  return `${r.model.padEnd(16)} x${String(r.scale).padEnd(5)} ${io.padEnd(20)} ${e.padStart(9)} ${t.padStart(9)} ${ratio.padStart(13)} ${err.padStart(13)}${msg}`;
}
