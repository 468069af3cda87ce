// The tfjs half of the benchmark: the suite's shapes through @tensorflow/tfjs-backend-webgpu 4.22
// on the same adapter, in the same process, as the engine.
//
// What each of our passes dispatches in tfjs (NHWC activations; conv filters [kh, kw, in, out]):
//   conv2d forward            tf.conv2d -> kernel Conv2D (implicit-GEMM Conv2DMMProgram; im2col +
//                             matmul when the output is small; matmul for 1x1).
//   conv2d input grad         runKernel('Conv2DBackpropInput', {dy, filter}) — exactly what the
//                             gradient of tf.conv2d dispatches for dx (Conv2DDerInputProgram, the
//                             naive direct kernel, while WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE is true,
//                             its default).
//   conv2d weight grad        runKernel('Conv2DBackpropFilter', {x, dy}) — what the gradient of
//                             tf.conv2d dispatches for dfilter (Conv2DDerFilterProgram: one thread
//                             per filter element looping over N x Hout x Wout).
//   conv_transpose2d forward  tf.conv2dTranspose -> kernel Conv2DBackpropInput (same naive kernel).
//   conv_transpose2d dgrad    tf.conv2d(dy, filter) -> Conv2D, as conv2dTranspose's gradient does.
//   conv_transpose2d wgrad    runKernel('Conv2DBackpropFilter', {x: dy, dy: x}), as its gradient
//                             does (filter [kh, kw, out, in] of the transposed conv).
// Padding is always passed explicitly as [[0,0],[t,b],[l,r],[0,0]] (tfjs accepts asymmetric pads);
// for conv_transpose2d the suite's pad is PyTorch's padding, which is also the padding of the
// equivalent forward conv that tfjs's Conv2DBackpropInput takes, and output_padding is expressed
// through the explicit outputShape.
//
// Timing. tfjs batches up to 15 dispatches per command buffer and submits lazily; a fence here is
// "end tfjs's pass, submit its encoder, await queue.onSubmittedWorkDone()".
//   'timestamp' (default where the device has timestamp-query): tf.time(), which makes tfjs put
//     each kernel in its own compute pass with timestamp writes and sums the kernels' GPU time.
//     Per-op ms = that sum / inner ops. This is GPU time only (no tfjs CPU overhead, no gaps).
//   'wall': `inner` ops back to back between two fences, wall clock / inner. This includes tfjs's
//     per-op CPU work (shader key, bind group, uniform buffer) when the GPU outruns it.
// Both figures are reported when timestamps exist (ms_median is the timestamp one); nothing is
// subtracted; the median of `repeats` repeats after `warmup` runs.

import type * as TfCore from '@tensorflow/tfjs-core';
import { napWhile } from '../engine/device.js';
import {
  CONV_PASSES,
  NORM_PASSES,
  rates,
  type Suite,
  type AdamCase,
  type ConvCase,
  type ConvPass,
  type DcganCase,
  type NormCase,
  type NormPass,
  type PyramidCase,
} from './suite.js';

export type Tf = typeof TfCore;
type Tensor = TfCore.Tensor;
type Tensor4D = TfCore.Tensor4D;

/** The parts of tfjs's WebGPUBackend this harness touches (public members of the class). */
export interface TfWebGPUBackendLike {
  device: GPUDevice;
  queue: GPUQueue;
  supportTimestampQuery: boolean;
  commandEncoder: GPUCommandEncoder | null;
  endComputePassEncoder(): void;
  submitQueue(): void;
  numDataIds(): number;
}

export interface TfjsHandle {
  tf: Tf;
  backend: TfWebGPUBackendLike;
  device: GPUDevice;
  /** Adapter as tfjs's device reports it (vendor / architecture / description). */
  adapter: string;
  hasTimestamps: boolean;
  /** Submits whatever tfjs has encoded and not yet submitted. */
  flush(): void;
  /** flush() and wait for the GPU to finish everything submitted. */
  sync(): Promise<void>;
}

export interface CreateTfjsOptions {
  /** tfjs environment flags to set before the backend initialises, e.g. WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE. */
  flags?: Record<string, number | boolean | string>;
  /**
   * When no GPU is given under Node: options for webgpu's create(). Default
   * ['disable-dawn-features=timestamp_quantization']: Dawn otherwise rounds every timestamp down to
   * a multiple of 65.536 us (measured here), useless for kernels of tens of microseconds. A GPU
   * handed in keeps whatever its creator chose (pass the engine's, created with the same option, to
   * share one Dawn instance).
   */
  dawnOptions?: string[];
}

const isNode =
  typeof process !== 'undefined' && !!process.versions?.node && typeof (globalThis as { window?: unknown }).window === 'undefined';

type DawnModule = { create: (o: string[]) => GPU; globals: Record<string, unknown> };

/**
 * The `webgpu` package. A bundle written outside the repository (e.g. /tmp/x.mjs) cannot resolve it
 * from its own location, so fall back to resolving it from the working directory.
 */
async function importDawn(): Promise<DawnModule> {
  const mod = 'webgpu';
  try {
    return (await import(/* @vite-ignore */ mod)) as DawnModule;
  } catch (e) {
    const nodeModule = 'node:module';
    const { createRequire } = (await import(/* @vite-ignore */ nodeModule)) as {
      createRequire: (p: string) => { resolve: (s: string) => string };
    };
    let path: string;
    try {
      path = createRequire(process.cwd() + '/').resolve(mod);
    } catch {
      throw e;
    }
    const url = 'file://' + path;
    return (await import(/* @vite-ignore */ url)) as DawnModule;
  }
}

/**
 * Creates tfjs with the WebGPU backend. Under Node, tfjs's webgpu package registers its backend at
 * import time only if `navigator.gpu` exists, so this sets `globalThis.navigator = { gpu }` (the
 * given GPU, else a Dawn instance from the `webgpu` package, with its globals such as
 * GPUBufferUsage installed) before importing it. In a browser the existing navigator.gpu is used.
 */
export async function createTfjs(gpu?: GPU, opts: CreateTfjsOptions = {}): Promise<TfjsHandle> {
  const g = globalThis as unknown as { navigator?: { gpu?: GPU } };
  let theGpu = gpu ?? g.navigator?.gpu;
  if (!theGpu || typeof (globalThis as { GPUBufferUsage?: unknown }).GPUBufferUsage === 'undefined') {
    if (!isNode) {
      if (!theGpu) throw new Error('createTfjs: WebGPU is not available in this browser (no navigator.gpu).');
    } else {
      const dawn = await importDawn();
      // tfjs uses GPUBufferUsage, GPUMapMode, `instanceof GPUBuffer` ... as globals.
      for (const [k, v] of Object.entries(dawn.globals)) {
        if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
      }
      if (!theGpu) {
        if (!process.env.NODEVICE_SELECT) process.env.NODEVICE_SELECT = '1';
        theGpu = dawn.create(opts.dawnOptions ?? ['disable-dawn-features=timestamp_quantization']);
      }
    }
  }
  if (!g.navigator) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: theGpu }, configurable: true, writable: true });
  } else if (g.navigator.gpu !== theGpu) {
    // Node 21+ has a global Navigator without gpu; a browser page could be handed another GPU.
    Object.defineProperty(g.navigator, 'gpu', { value: theGpu, configurable: true, writable: true });
  }

  // tfjs-core's Node platform calls require('util') when it loads. Inside an ESM bundle (esbuild
  // --format=esm) there is no require, and esbuild's shim looks for a global one at call time, so
  // lend it one for the duration of the import.
  let lentRequire = false;
  if (isNode && typeof (globalThis as { require?: unknown }).require === 'undefined') {
    const nodeModule = 'node:module';
    const { createRequire } = (await import(/* @vite-ignore */ nodeModule)) as { createRequire: (p: string) => unknown };
    (globalThis as { require?: unknown }).require = createRequire(process.cwd() + '/');
    lentRequire = true;
  }
  let tf: Tf;
  let webgpu: { WebGPUBackend: new (device: GPUDevice, adapterInfo?: unknown) => TfCore.KernelBackend };
  try {
    tf = (await import('@tensorflow/tfjs-core')) as Tf;
    webgpu = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as typeof webgpu;
    // tfjs-core's Node entry (tf-core.node.js) registers no gradients (the @tensorflow/tfjs union
    // package normally does). Its ESM register_all_gradients registers them into the same global
    // registry (tfjs keeps registries and the engine on globalThis precisely so copies can share).
    if (!tf.getGradient('Multiply')) {
      try {
        await import('@tensorflow/tfjs-core/dist/register_all_gradients');
      } catch (e) {
        // That file is ESM inside a CommonJS package: plain Node cannot load it unbundled.
        console.warn(
          `[tfjs] could not register tfjs gradients (${(e as Error).message.split('\n')[0]}); ` +
            'bundle with esbuild to time norms and the DCGAN step (conv passes do not need them).',
        );
      }
    }
  } finally {
    if (lentRequire) delete (globalThis as { require?: unknown }).require;
  }
  for (const [k, v] of Object.entries(opts.flags ?? {})) tf.env().set(k, v as never);
  if (!tf.findBackendFactory('webgpu')) {
    // tfjs-backend-webgpu was imported earlier, before navigator.gpu existed: register the same
    // factory it would have (adapter limits and timestamp-query requested, as tfjs does).
    const gpuRef = theGpu!;
    tf.registerBackend(
      'webgpu',
      async () => {
        const adapter = await gpuRef.requestAdapter({ powerPreference: 'high-performance' });
        if (!adapter) throw new Error('createTfjs: no WebGPU adapter');
        const requiredFeatures: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
        const l = adapter.limits;
        const device = await adapter.requestDevice({
          requiredFeatures,
          requiredLimits: {
            maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
            maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
            maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
            maxBufferSize: l.maxBufferSize,
            maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
            maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
          },
        });
        return new webgpu.WebGPUBackend(device, (adapter as GPUAdapter & { info?: unknown }).info);
      },
      3,
    );
  }
  const ok = await tf.setBackend('webgpu');
  await tf.ready();
  if (!ok || tf.getBackend() !== 'webgpu') {
    throw new Error(`createTfjs: tfjs could not initialise its webgpu backend (got '${tf.getBackend()}')`);
  }
  const backend = tf.backend() as unknown as TfWebGPUBackendLike & { adapterInfo?: { vendor?: string; architecture?: string } };
  const device = backend.device;
  device.addEventListener?.('uncapturederror', (e) => {
    console.error(`[tfjs-webgpu] uncaptured GPU error: ${(e as GPUUncapturedErrorEvent).error.message}`);
  });
  const flush = () => {
    if (backend.commandEncoder) {
      backend.endComputePassEncoder();
      backend.submitQueue();
    }
  };
  const ai = backend.adapterInfo;
  return {
    tf,
    backend,
    device,
    adapter: [ai?.vendor, ai?.architecture].filter(Boolean).join(' / ') || 'unknown',
    hasTimestamps: backend.supportTimestampQuery,
    flush,
    sync: async () => {
      flush();
      // Napped under Node as the engine's waits are (napWhile): a spinning wait would take a core
      // from a software adapter's threads while tfjs's kernels run, and slow them, not ours.
      await napWhile(device.queue.onSubmittedWorkDone());
    },
  };
}

// ---- timing -------------------------------------------------------------------------------------

export interface TimeOptions {
  warmup?: number;
  repeats?: number;
  /** Ops per repeat; default: enough for `targetMs` of wall time per repeat (1 .. maxInner). */
  inner?: number;
  targetMs?: number;
  maxInner?: number;
  /** 'auto': timestamps where the device has them, else wall clock. */
  method?: 'auto' | 'timestamp' | 'wall';
  /** Also take the wall-clock figure when the primary method is 'timestamp' (default true). */
  wall?: boolean;
}

export interface TfjsTiming {
  id: string;
  pass: string;
  method: 'timestamp' | 'wall';
  /** Per-op milliseconds, median of the repeats (by `method`). */
  ms_median: number;
  ms_all: number[];
  /** Wall clock per op (between fences, inner ops per repeat), when measured. */
  wall_ms_median?: number;
  wall_ms_all?: number[];
  inner: number;
  flops: number;
  bytes: number;
  gflops: number;
  gbps: number;
  /** The tfjs programs one op dispatched, in order (from tf.time's profile). */
  kernels: string[];
}

type Outs = Tensor | Tensor[] | TfCore.NamedTensorMap | void | null | undefined;

function disposeOuts(o: Outs): void {
  if (!o) return;
  if (Array.isArray(o)) o.forEach((t) => t.dispose());
  else if ('dispose' in o && typeof o.dispose === 'function') (o as Tensor).dispose();
  else Object.values(o as TfCore.NamedTensorMap).forEach((t) => t.dispose());
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Times `run` (which dispatches one op and returns what it made; the harness disposes it).
 * Exported so that other tfjs measurements share the same method.
 */
export async function timeTfjsOp(
  h: TfjsHandle,
  id: string,
  pass: string,
  flops: number,
  bytes: number,
  run: () => Outs,
  opts: TimeOptions = {},
): Promise<TfjsTiming> {
  const { tf } = h;
  const warmup = opts.warmup ?? 2;
  const repeats = opts.repeats ?? 5;
  const method: 'timestamp' | 'wall' = opts.method === 'wall' || (opts.method !== 'timestamp' && !h.hasTimestamps) ? 'wall' : 'timestamp';
  if (method === 'timestamp' && !h.hasTimestamps) throw new Error('timeTfjsOp: this device has no timestamp-query');

  // Warm-up (pipeline compilation, buffer pool), one fenced op at a time.
  let warmMs = Infinity;
  for (let i = 0; i < Math.max(1, warmup); i++) {
    await h.sync();
    const t0 = performance.now();
    disposeOuts(tf.tidy(() => run() as never));
    await h.sync();
    warmMs = Math.min(warmMs, performance.now() - t0);
  }
  const inner = opts.inner ?? Math.max(1, Math.min(opts.maxInner ?? 50, Math.ceil((opts.targetMs ?? 20) / Math.max(warmMs, 1e-3))));

  // Which kernels one op dispatches (tf.time records program names even without timestamps).
  let kernels: string[] = [];
  {
    const info = await napWhile(tf.time(() => disposeOuts(tf.tidy(() => run() as never))));
    const extra = (info as { getExtraProfileInfo?: () => string }).getExtraProfileInfo?.() ?? '';
    kernels = extra ? extra.split(', ').map((s) => s.replace(/: .*$/, '').replace(/(Program)\d+$/, '$1')) : [];
    await h.sync();
  }

  const wallRun = async (): Promise<number> => {
    await h.sync();
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) disposeOuts(tf.tidy(() => run() as never));
    await h.sync();
    return (performance.now() - t0) / inner;
  };
  const stampRun = async (): Promise<number> => {
    const info = await napWhile(
      tf.time(() => {
        for (let i = 0; i < inner; i++) disposeOuts(tf.tidy(() => run() as never));
      }),
    );
    await h.sync();
    const k = info.kernelMs;
    if (typeof k !== 'number') throw new Error(`tf.time: ${k.error}`);
    return k / inner;
  };

  const msAll: number[] = [];
  const wallAll: number[] = [];
  const alsoWall = method === 'timestamp' && opts.wall !== false;
  for (let r = 0; r < repeats; r++) {
    msAll.push(method === 'timestamp' ? await stampRun() : await wallRun());
    if (alsoWall) wallAll.push(await wallRun());
  }
  const ms = median(msAll);
  const { gflops, gbps } = rates(flops, bytes, ms);
  const out: TfjsTiming = { id, pass, method, ms_median: ms, ms_all: msAll, inner, flops, bytes, gflops, gbps, kernels };
  if (method === 'wall') {
    out.wall_ms_median = ms;
    out.wall_ms_all = msAll;
  } else if (alsoWall) {
    out.wall_ms_median = median(wallAll);
    out.wall_ms_all = wallAll;
  }
  return out;
}

// ---- convolutions -------------------------------------------------------------------------------

type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

function explicitPad(c: ConvCase): ExplicitPad {
  const [t, b, l, r] = c.pad;
  return [
    [0, 0],
    [t, b],
    [l, r],
    [0, 0],
  ];
}

/** tfjs shapes of a conv case: x = op input, y = op output (NHWC), filter as tfjs wants it. */
export function tfjsConvShapes(c: ConvCase): {
  x: [number, number, number, number];
  y: [number, number, number, number];
  filter: [number, number, number, number];
} {
  return {
    x: [c.n, c.h, c.w, c.cin],
    y: [c.n, c.hout, c.wout, c.cout],
    // conv2d: [kh, kw, in, out]; conv2dTranspose: the forward conv's filter, [kh, kw, out, in].
    filter: c.kind === 'conv2d' ? [c.k, c.k, c.cin, c.cout] : [c.k, c.k, c.cout, c.cin],
  };
}

/**
 * The tfjs call for one pass of a conv case, given x (op input, NHWC), filter (tfjs layout) and dy
 * (gradient w.r.t. the op output, NHWC). Returns forward: y; input_grad: dx; weight_grad: dfilter.
 */
export function tfjsConvPass(tf: Tf, c: ConvCase, pass: ConvPass, x: Tensor4D, filter: Tensor4D, dy: Tensor4D): Tensor4D {
  const pad = explicitPad(c);
  const strides: [number, number] = [c.stride, c.stride];
  const s = tfjsConvShapes(c);
  if (c.kind === 'conv2d') {
    if (pass === 'forward') return tf.conv2d(x, filter, strides, pad);
    if (pass === 'input_grad') {
      return tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, {
        inputShape: s.x,
        strides,
        pad,
        dataFormat: 'NHWC',
        dimRoundingMode: undefined,
      } as never) as Tensor4D;
    }
    return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
      strides,
      pad,
      dataFormat: 'NHWC',
      dimRoundingMode: undefined,
      filterShape: s.filter,
    } as never) as Tensor4D;
  }
  // conv_transpose2d: y = conv2dTranspose(x) is the input-gradient of a conv mapping y -> x.
  if (pass === 'forward') return tf.conv2dTranspose(x, filter, s.y, strides, pad);
  if (pass === 'input_grad') return tf.conv2d(dy, filter, strides, pad);
  return tf.engine().runKernel('Conv2DBackpropFilter', { x: dy, dy: x }, {
    strides,
    pad,
    dataFormat: 'NHWC',
    dimRoundingMode: undefined,
    filterShape: s.filter,
  } as never) as Tensor4D;
}

/** Times one pass of a conv case in tfjs (random inputs, created and disposed here). */
export async function timeTfjsCase(h: TfjsHandle, c: ConvCase, pass: ConvPass, opts: TimeOptions = {}): Promise<TfjsTiming> {
  const { tf } = h;
  const s = tfjsConvShapes(c);
  const x = tf.randomNormal(s.x) as Tensor4D;
  const filter = tf.randomNormal(s.filter, 0, 0.05) as Tensor4D;
  const dy = tf.randomNormal(s.y) as Tensor4D;
  try {
    return await timeTfjsOp(h, c.id, pass, c.flops(pass), c.bytes(pass), () => tfjsConvPass(tf, c, pass, x, filter, dy), opts);
  } finally {
    x.dispose();
    filter.dispose();
    dy.dispose();
  }
}

/** All three passes of every conv case. */
export async function timeTfjsConvs(
  h: TfjsHandle,
  cases: ConvCase[],
  opts: TimeOptions = {},
  log?: (t: TfjsTiming) => void,
): Promise<TfjsTiming[]> {
  const out: TfjsTiming[] = [];
  for (const c of cases) {
    for (const p of CONV_PASSES) {
      const t = await timeTfjsCase(h, c, p, opts);
      log?.(t);
      out.push(t);
    }
  }
  return out;
}

// Layout helpers for cross-checking the engine against tfjs (engine: NCHW, PyTorch weights).
function nchwToNhwc(a: Float32Array, n: number, c: number, hh: number, w: number): Float32Array {
  const o = new Float32Array(a.length);
  for (let i = 0; i < n; i++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < hh; y++) for (let x = 0; x < w; x++) o[((i * hh + y) * w + x) * c + ch] = a[((i * c + ch) * hh + y) * w + x];
  return o;
}
function nhwcToNchw(a: Float32Array, n: number, c: number, hh: number, w: number): Float32Array {
  const o = new Float32Array(a.length);
  for (let i = 0; i < n; i++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < hh; y++) for (let x = 0; x < w; x++) o[((i * c + ch) * hh + y) * w + x] = a[((i * hh + y) * w + x) * c + ch];
  return o;
}
/** PyTorch weight [A, B, kh, kw] <-> tfjs [kh, kw, B, A] (conv: A=out, B=in; convT: A=in, B=out). */
function torchWToTf(a: Float32Array, A: number, B: number, k: number): Float32Array {
  const o = new Float32Array(a.length);
  for (let i = 0; i < A; i++)
    for (let j = 0; j < B; j++)
      for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) o[((y * k + x) * B + j) * A + i] = a[((i * B + j) * k + y) * k + x];
  return o;
}
function tfWToTorch(a: Float32Array, A: number, B: number, k: number): Float32Array {
  const o = new Float32Array(a.length);
  for (let i = 0; i < A; i++)
    for (let j = 0; j < B; j++)
      for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) o[((i * B + j) * k + y) * k + x] = a[((y * k + x) * B + j) * A + i];
  return o;
}

/**
 * tfjs's answer for one pass of a conv case, in the engine's layouts: x [N, Cin, H, W] (op input),
 * w in PyTorch layout (conv2d [Cout, Cin, k, k]; conv_transpose2d [Cin, Cout, k, k]), dy [N, Cout,
 * Hout, Wout]. Returns y (NCHW), dx (NCHW) or dw (PyTorch layout). Use on small shapes to check the
 * engine's kernels against an independent implementation on the same adapter.
 */
export async function tfjsConvReference(
  h: TfjsHandle,
  c: ConvCase,
  pass: ConvPass,
  data: { x: Float32Array; w: Float32Array; dy: Float32Array },
): Promise<Float32Array> {
  const { tf } = h;
  const s = tfjsConvShapes(c);
  const isT = c.kind === 'conv_transpose2d';
  const [A, B] = isT ? [c.cin, c.cout] : [c.cout, c.cin];
  const x = tf.tensor4d(nchwToNhwc(data.x, c.n, c.cin, c.h, c.w), s.x);
  const f = tf.tensor4d(torchWToTf(data.w, A, B, c.k), s.filter);
  const dy = tf.tensor4d(nchwToNhwc(data.dy, c.n, c.cout, c.hout, c.wout), s.y);
  try {
    const r = tfjsConvPass(tf, c, pass, x, f, dy);
    const v = (await r.data()) as Float32Array;
    r.dispose();
    if (pass === 'forward') return nhwcToNchw(v, c.n, c.cout, c.hout, c.wout);
    if (pass === 'input_grad') return nhwcToNchw(v, c.n, c.cin, c.h, c.w);
    return tfWToTorch(v, A, B, c.k);
  } finally {
    x.dispose();
    f.dispose();
    dy.dispose();
  }
}

// ---- norms --------------------------------------------------------------------------------------

/** Instance norm as a tfjs user writes it: moments over H, W per (n, c), then (x - mean) * rsqrt(var + eps). */
export function tfjsInstanceNorm(tf: Tf, x: Tensor4D, eps: number, gamma?: Tensor, beta?: Tensor): Tensor4D {
  const { mean, variance } = tf.moments(x, [1, 2], true);
  let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))) as Tensor4D;
  if (gamma) y = tf.mul(y, gamma) as Tensor4D;
  if (beta) y = tf.add(y, beta) as Tensor4D;
  return y;
}

/** Training-mode batch norm as tfjs users write it: moments over N, H, W, then tf.batchNorm. */
export function tfjsBatchNorm(tf: Tf, x: Tensor4D, eps: number, gamma?: Tensor, beta?: Tensor): Tensor4D {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.batchNorm(x, mean, variance, beta as TfCore.Tensor1D | undefined, gamma as TfCore.Tensor1D | undefined, eps) as Tensor4D;
}

export async function timeTfjsNorm(h: TfjsHandle, c: NormCase, pass: NormPass, opts: TimeOptions = {}): Promise<TfjsTiming> {
  const { tf } = h;
  const x = tf.randomNormal([c.n, c.h, c.w, c.c]) as Tensor4D;
  const dy = tf.randomNormal([c.n, c.h, c.w, c.c]) as Tensor4D;
  const gamma = c.affine ? tf.randomNormal([c.c], 1, 0.02) : undefined;
  const beta = c.affine ? tf.zeros([c.c]) : undefined;
  const norm = c.kind === 'instance_norm' ? tfjsInstanceNorm : tfjsBatchNorm;
  const run =
    pass === 'forward'
      ? () => norm(tf, x, c.eps, gamma, beta)
      : c.affine
        ? () => tf.grads((a: Tensor, g: Tensor, b: Tensor) => norm(tf, a as Tensor4D, c.eps, g, b))([x, gamma!, beta!], dy)
        : () => tf.grad((a: Tensor) => norm(tf, a as Tensor4D, c.eps))(x, dy);
  try {
    return await timeTfjsOp(h, c.id, pass, c.flops(pass), c.bytes(pass), run, opts);
  } finally {
    for (const t of [x, dy, gamma, beta]) t?.dispose();
  }
}

export async function timeTfjsNorms(
  h: TfjsHandle,
  cases: NormCase[],
  opts: TimeOptions = {},
  log?: (t: TfjsTiming) => void,
): Promise<TfjsTiming[]> {
  const out: TfjsTiming[] = [];
  for (const c of cases) {
    for (const p of NORM_PASSES) {
      const t = await timeTfjsNorm(h, c, p, opts);
      log?.(t);
      out.push(t);
    }
  }
  return out;
}

// ---- Laplacian pyramid --------------------------------------------------------------------------

/** The two blur filters of the pyramid: the binomial kernel for down, 4x it for up. */
export interface PyramidFilters {
  down: Tensor4D;
  up: Tensor4D;
}

const REFLECT2: [[number, number], [number, number], [number, number], [number, number]] = [
  [0, 0],
  [2, 2],
  [2, 2],
  [0, 0],
];

/**
 * pyrUp in tfjs (NHWC): zero insertion x[i, j] -> u[2i, 2j] up to outH x outW, reflect padding 2,
 * then the 5x5 binomial blur times 4 (depthwise, stride 1). The zero insertion is two rank-4 pads
 * with reshapes: interleave a zero after every column, then a zero row after every row.
 */
export function tfjsPyrUp(tf: Tf, x: Tensor4D, outH: number, outW: number, upFilter: Tensor4D): Tensor4D {
  const [n, h, w, c] = x.shape;
  const cols = tf.pad(tf.reshape(x, [n * h, w, 1, c]), [
    [0, 0],
    [0, 0],
    [0, 1],
    [0, 0],
  ]);
  const rows = tf.pad(tf.reshape(cols, [n * h, 1, 2 * w, c]), [
    [0, 0],
    [0, 1],
    [0, 0],
    [0, 0],
  ]);
  let u = tf.reshape(rows, [n, 2 * h, 2 * w, c]) as Tensor4D;
  if (outH !== 2 * h || outW !== 2 * w) u = tf.slice(u, [0, 0, 0, 0], [n, outH, outW, c]);
  return tf.depthwiseConv2d(tf.mirrorPad(u, REFLECT2, 'reflect'), upFilter, 1, 'valid');
}

/**
 * The suite's Laplacian pyramid in tfjs, with the engine's conventions (engine/ops/cpu/pyramid.ts):
 * pyrDown = reflect padding 2, 5x5 binomial blur, stride 2; pyrUp as tfjsPyrUp.
 * Returns [band_0, ..., band_(levels-2), lowpass] (NHWC): `levels` tensors, the suite's count.
 */
export function tfjsLaplacianPyramid(tf: Tf, x: Tensor4D, levels: number, filters: PyramidFilters): Tensor4D[] {
  const out: Tensor4D[] = [];
  let g = x;
  for (let l = 0; l < levels - 1; l++) {
    const down = tf.depthwiseConv2d(tf.mirrorPad(g, REFLECT2, 'reflect'), filters.down, 2, 'valid');
    out.push(tf.sub(g, tfjsPyrUp(tf, down, g.shape[1], g.shape[2], filters.up)) as Tensor4D);
    g = down;
  }
  out.push(g);
  return out;
}

/** The 5x5 binomial kernel ([1 4 6 4 1]/16 outer itself) times `gain`, as a depthwise filter [5, 5, C, 1]. */
export function binomialFilter(tf: Tf, channels: number, gain = 1): Tensor4D {
  const b = [1, 4, 6, 4, 1];
  const v: number[] = [];
  for (let y = 0; y < 5; y++) for (let x = 0; x < 5; x++) for (let c = 0; c < channels; c++) v.push((gain * b[y] * b[x]) / 256);
  return tf.tensor4d(v, [5, 5, channels, 1]);
}

export function pyramidFilters(tf: Tf, channels: number): PyramidFilters {
  return { down: binomialFilter(tf, channels, 1), up: binomialFilter(tf, channels, 4) };
}

/**
 * tfjs's pyramid of an NCHW image, returned NCHW (for checking it against the CPU reference on the
 * same data as the engine).
 */
export async function tfjsPyramidNchw(
  h: TfjsHandle,
  x: Float32Array,
  shape: [number, number, number, number],
  levels: number,
): Promise<Float32Array[]> {
  const { tf } = h;
  const [n, c, hh, w] = shape;
  const xt = tf.tensor4d(nchwToNhwc(x, n, c, hh, w), [n, hh, w, c]);
  const f = pyramidFilters(tf, c);
  try {
    const outs = tfjsLaplacianPyramid(tf, xt, levels, f);
    const res: Float32Array[] = [];
    for (const o of outs) {
      const [, oh, ow] = o.shape;
      res.push(nhwcToNchw((await o.data()) as Float32Array, n, c, oh, ow));
      if (o !== xt) o.dispose();
    }
    return res;
  } finally {
    xt.dispose();
    f.down.dispose();
    f.up.dispose();
  }
}

export async function timeTfjsPyramid(h: TfjsHandle, c: PyramidCase, opts: TimeOptions = {}): Promise<TfjsTiming> {
  const { tf } = h;
  const x = tf.randomUniform([c.n, c.h, c.w, c.c], -1, 1) as Tensor4D;
  const f = pyramidFilters(tf, c.c);
  try {
    return await timeTfjsOp(h, c.id, 'forward', c.flops(), c.bytes(), () => tfjsLaplacianPyramid(tf, x, c.levels, f), opts);
  } finally {
    x.dispose();
    f.down.dispose();
    f.up.dispose();
  }
}

// ---- Adam ---------------------------------------------------------------------------------------

let varCounter = 0;

/** One tf.train.adam step (applyGradients) over the case's parameter tensors. */
export async function timeTfjsAdam(h: TfjsHandle, c: AdamCase, opts: TimeOptions = {}): Promise<TfjsTiming> {
  const { tf } = h;
  const tag = `adam${varCounter++}`;
  const vars = c.sizes.map((n, i) => tf.tidy(() => tf.variable(tf.randomNormal([n], 0, 0.02), true, `${tag}_p${i}`)));
  const grads: Record<string, Tensor> = {};
  c.sizes.forEach((n, i) => (grads[`${tag}_p${i}`] = tf.randomNormal([n], 0, 1e-3)));
  const optimizer = tf.train.adam(c.lr, c.beta1, c.beta2, c.eps);
  try {
    return await timeTfjsOp(h, c.id, 'step', c.flops(), c.bytes(), () => optimizer.applyGradients(grads as never), opts);
  } finally {
    optimizer.dispose();
    vars.forEach((v) => v.dispose());
    Object.values(grads).forEach((t) => t.dispose());
  }
}

// ---- DCGAN training step ------------------------------------------------------------------------

export interface DcganConfig {
  batch: number;
  nz?: number;
  ngf?: number;
  ndf?: number;
}

export interface DcganTiming {
  id: string;
  batch: number;
  ms_median: number;
  ms_all: number[];
  /** Nominal conv GFLOP/s (DcganCase.nominalFlops convention) when a DcganCase was given. */
  gflops?: number;
  lossD: number;
  lossG: number;
  /** Tensors alive after the timed steps minus before (a leak check; 0 expected). */
  tensorLeak: number;
}

/** Builds the PyTorch example's DCGAN in tfjs-core (variables, NHWC). */
export function buildTfjsDcgan(tf: Tf, cfg: DcganConfig) {
  const nz = cfg.nz ?? 100;
  const ngf = cfg.ngf ?? 64;
  const ndf = cfg.ndf ?? 64;
  const B = cfg.batch;
  const tag = `dcgan${varCounter++}`;
  let vi = 0;
  const v = (t: Tensor) => {
    const r = tf.variable(t, true, `${tag}_${vi++}`);
    t.dispose();
    return r;
  };
  const w = (shape: number[]) => v(tf.randomNormal(shape, 0, 0.02));
  const bn = (c: number) => ({ gamma: v(tf.randomNormal([c], 1, 0.02)), beta: v(tf.zeros([c])) });
  const p1: ExplicitPad = [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ];

  // G: convT filters are [4, 4, out, in].
  const gCh = [nz, 8 * ngf, 4 * ngf, 2 * ngf, ngf, 3];
  const gW = gCh.slice(0, 5).map((ci, i) => w([4, 4, gCh[i + 1], ci]));
  const gBn = gCh.slice(1, 5).map((c) => bn(c));
  // D: conv filters [4, 4, in, out].
  const dCh = [3, ndf, 2 * ndf, 4 * ndf, 8 * ndf, 1];
  const dW = dCh.slice(0, 5).map((ci, i) => w([4, 4, ci, dCh[i + 1]]));
  const dBn = dCh.slice(2, 5).map((c) => bn(c));
  const batchNorm = (x: Tensor4D, p: { gamma: TfCore.Variable; beta: TfCore.Variable }) => tfjsBatchNorm(tf, x, 1e-5, p.gamma, p.beta);

  const G = (z: Tensor4D): Tensor4D => {
    let x = tf.conv2dTranspose(z, gW[0] as Tensor4D, [B, 4, 4, gCh[1]], 1, 'valid');
    x = tf.relu(batchNorm(x, gBn[0]));
    let s = 4;
    for (let i = 1; i < 5; i++) {
      s *= 2;
      x = tf.conv2dTranspose(x, gW[i] as Tensor4D, [B, s, s, gCh[i + 1]], 2, p1);
      x = i < 4 ? tf.relu(batchNorm(x, gBn[i])) : tf.tanh(x);
    }
    return x;
  };
  const D = (img: Tensor4D): Tensor => {
    let x = tf.leakyRelu(tf.conv2d(img, dW[0] as Tensor4D, 2, p1), 0.2);
    for (let i = 1; i < 4; i++) x = tf.leakyRelu(batchNorm(tf.conv2d(x, dW[i] as Tensor4D, 2, p1), dBn[i - 1]), 0.2);
    return tf.reshape(tf.conv2d(x, dW[4] as Tensor4D, 1, 'valid'), [B, 1]);
  };
  const gVars = [...gW, ...gBn.flatMap((p) => [p.gamma, p.beta])];
  const dVars = [...dW, ...dBn.flatMap((p) => [p.gamma, p.beta])];
  const dispose = () => [...gVars, ...dVars].forEach((x) => x.dispose());
  return { G, D, gVars, dVars, nz, dispose };
}

/**
 * Median ms per DCGAN training step in tfjs: D update (BCE-with-logits on a real batch and a fake
 * batch, tf.train.adam(2e-4, 0.5)), then G update through D. Written as a tfjs user writes it:
 * optimizer.minimize with a varList per network, so G's forward runs twice per step (once in each
 * minimize; PyTorch reuses one) and D's weight gradients are not formed during the G update.
 * Batch-norm running statistics are not tracked (they do not affect the training step).
 * The step is fenced by reading both losses back (what a training loop that logs losses does).
 */
export async function timeTfjsDcganStep(
  h: TfjsHandle,
  cfg: DcganConfig | DcganCase,
  opts: { warmup?: number; steps?: number } = {},
): Promise<DcganTiming> {
  const { tf } = h;
  const B = cfg.batch;
  const net = buildTfjsDcgan(tf, cfg);
  const optD = tf.train.adam(2e-4, 0.5, 0.999);
  const optG = tf.train.adam(2e-4, 0.5, 0.999);
  const real = tf.randomUniform([B, 64, 64, 3], -1, 1) as Tensor4D;
  const ones = tf.ones([B, 1]);
  const zeros = tf.zeros([B, 1]);
  const step = async (): Promise<[number, number]> => {
    const z = tf.randomNormal([B, 1, 1, net.nz]) as Tensor4D;
    const lossD = optD.minimize(
      () => {
        const errReal = tf.losses.sigmoidCrossEntropy(ones, net.D(real));
        const errFake = tf.losses.sigmoidCrossEntropy(zeros, net.D(net.G(z)));
        return tf.add(errReal, errFake) as TfCore.Scalar;
      },
      true,
      net.dVars,
    )!;
    const lossG = optG.minimize(() => tf.losses.sigmoidCrossEntropy(ones, net.D(net.G(z))) as TfCore.Scalar, true, net.gVars)!;
    const [a, b] = await napWhile(Promise.all([lossD.data(), lossG.data()]));
    z.dispose();
    lossD.dispose();
    lossG.dispose();
    return [a[0], b[0]];
  };
  const warmup = opts.warmup ?? 2;
  const steps = opts.steps ?? 5;
  try {
    for (let i = 0; i < warmup; i++) await step();
    await h.sync();
    const before = tf.memory().numTensors;
    const all: number[] = [];
    let losses: [number, number] = [NaN, NaN];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      losses = await step();
      all.push(performance.now() - t0);
    }
    const leak = tf.memory().numTensors - before;
    const ms = median(all);
    const out: DcganTiming = {
      id: 'id' in cfg ? cfg.id : 'dcgan_step',
      batch: B,
      ms_median: ms,
      ms_all: all,
      lossD: losses[0],
      lossG: losses[1],
      tensorLeak: leak,
    };
    if ('nominalFlops' in cfg) out.gflops = cfg.nominalFlops / (ms * 1e6);
    return out;
  } finally {
    optD.dispose();
    optG.dispose();
    net.dispose();
    real.dispose();
    ones.dispose();
    zeros.dispose();
  }
}

// ---- the whole suite ----------------------------------------------------------------------------

export interface TfjsSuiteResult {
  suite: string;
  adapter: string;
  timestamps: boolean;
  results: TfjsTiming[];
  dcgan: DcganTiming | null;
}

/**
 * Every case of a suite through tfjs: conv passes, norms, pyramid, Adam, then the DCGAN step
 * (skipped with dcganSteps 0). `log` sees each timing as it lands.
 */
export async function timeTfjsSuite(
  h: TfjsHandle,
  suite: Suite,
  opts: TimeOptions & { only?: string[]; dcganSteps?: number; dcganWarmup?: number } = {},
  log?: (t: TfjsTiming | DcganTiming) => void,
): Promise<TfjsSuiteResult> {
  const only = new Set(opts.only ?? ['conv', 'norm', 'pyramid', 'adam', 'dcgan']);
  const results: TfjsTiming[] = [];
  const add = (t: TfjsTiming) => {
    results.push(t);
    log?.(t);
  };
  if (only.has('conv')) for (const c of suite.convs) for (const p of CONV_PASSES) add(await timeTfjsCase(h, c, p, opts));
  if (only.has('norm')) for (const c of suite.norms) for (const p of NORM_PASSES) add(await timeTfjsNorm(h, c, p, opts));
  if (only.has('pyramid')) for (const c of suite.pyramids) add(await timeTfjsPyramid(h, c, opts));
  if (only.has('adam')) for (const c of suite.adams) add(await timeTfjsAdam(h, c, opts));
  let dcgan: DcganTiming | null = null;
  if (only.has('dcgan') && (opts.dcganSteps ?? 3) > 0) {
    dcgan = await timeTfjsDcganStep(h, suite.dcgan, { warmup: opts.dcganWarmup ?? 1, steps: opts.dcganSteps ?? 3 });
    log?.(dcgan);
  }
  return { suite: suite.name, adapter: h.adapter, timestamps: h.hasTimestamps, results, dcgan };
}
