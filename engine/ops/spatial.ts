// Spatial ops over NCHW images: pad2d (zeros / reflect / replicate), upsampleNearest,
// upsampleBilinear, avgPool2d. Host side of shaders/spatial.ts.
// Each op's backward is the adjoint kernel wrapped as an op whose own backward is the forward op
// again (the adjoint of the adjoint), so gradients of any order stay on the GPU:
//   pad2d             <-> pad2dAdjoint        (scatter-add of reflected/replicated borders)
//   avgPool2d         <-> avgPool2dAdjoint
//   upsampleNearest   <-> sum pooling (kernel = stride = scale)
//   upsampleBilinear  <-> upsampleBilinearAdjoint
import {
  padSource,
  padAdjointSource,
  nearestSource,
  poolSource,
  poolAdjointSource,
  bilinearSource,
  bilinearAdjointSource,
  SPATIAL_WG,
  type PadMode,
} from '../../shaders/spatial.js';
import { type Tensor, empty, checkFloat, fmtShape, numel } from '../tensor.js';
import { record } from '../tape.js';
import { grid1d, launch, f32, i32, type LaunchInfo } from './kernel.js';
import { registerOp, type HostTensor } from './registry.js';
import { padCpu, upsampleNearestCpu, upsampleBilinearCpu, avgPool2dCpu } from './cpu/nn.js';

/** Padding mode of pad2d. */
export type Pad2dMode = PadMode;
/** [top, bottom, left, right]. */
type Pad4 = readonly [number, number, number, number];
type Pair = [number, number];

const PAD_MODES: readonly PadMode[] = ['zeros', 'reflect', 'replicate'];

/** Checks x is a float [N, C, H, W] tensor and returns its shape. */
export function spatialExpect4d(op: string, x: Tensor): [number, number, number, number] {
  checkFloat(op, x);
  if (x.rank !== 4)
    throw new Error(`${op}: expects x of shape [N, C, H, W], got ${fmtShape(x.shape)}; reshape it (e.g. add a batch or channel dim)`);
  return x.shape as unknown as [number, number, number, number];
}

function pairOf(op: string, what: string, v: number | readonly number[], min: number): Pair {
  const p: Pair = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (p.length !== 2 || !p.every((k) => Number.isInteger(k) && k >= min)) {
    throw new Error(`${op}: ${what} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}

/** Launches a 1-D spatial kernel over every element of `out`. */
function run1d(key: string, code: () => string, x: Tensor, out: Tensor, uniforms: Parameters<typeof launch>[2], info: LaunchInfo): Tensor {
  if (out.size > 0) {
    launch({ key, code, bindings: ['read', 'rw'], op: info.op }, [x, out], [out.size, ...uniforms], grid1d(out.size, SPATIAL_WG), info);
  }
  return out;
}

// ---- padding --------------------------------------------------------------------------------------

function checkPad(op: string, x: Tensor, pad: Pad4, mode: PadMode): void {
  const [, , h, w] = x.shape;
  if (!PAD_MODES.includes(mode)) throw new Error(`${op}: unknown mode '${String(mode)}'; use 'zeros', 'reflect' or 'replicate'`);
  if (!Array.isArray(pad) || pad.length !== 4 || !pad.every((p) => Number.isInteger(p) && p >= 0)) {
    throw new Error(`${op}: padding must be 4 integers >= 0 [top, bottom, left, right], got ${JSON.stringify(pad)}`);
  }
  const [top, bottom, left, right] = pad;
  if (mode === 'reflect' && (Math.max(top, bottom) >= h || Math.max(left, right) >= w)) {
    throw new Error(
      `${op}: reflect padding [${pad.join(', ')}] needs each pad smaller than the input dim it pads, but x is ${fmtShape(x.shape)} ` +
        `(H ${h} allows at most ${h - 1}, W ${w} at most ${w - 1}); use smaller padding, mode 'replicate', or pad in steps`,
    );
  }
  if (mode === 'replicate' && (h === 0 || w === 0) && pad.some((p) => p > 0)) {
    throw new Error(`${op}: replicate padding of an empty input ${fmtShape(x.shape)} has nothing to repeat`);
  }
}

/**
 * Pads the last two axes of x [N, C, H, W] by [top, bottom, left, right]: 'zeros' fills with
 * `value`, 'reflect' mirrors about the edge pixel (which is not repeated; each pad < that dim, as
 * in PyTorch), 'replicate' repeats the edge pixel.
 */
export function pad2d(x: Tensor, pad: Pad4, mode: PadMode = 'zeros', value = 0): Tensor {
  const op = `pad2d_${mode}`;
  const [n, c, h, w] = spatialExpect4d(op, x);
  checkPad(op, x, pad, mode);
  const [top, bottom, left, right] = pad;
  const oh = h + top + bottom;
  const ow = w + left + right;
  const y = empty([n, c, oh, ow], op);
  run1d(`pad2d|${mode}`, () => padSource(mode), x, y, [h, w, oh, ow, top, left, f32(mode === 'zeros' ? value : 0)], { op });
  return record(y, op, [x], (g) => [pad2dAdjoint(g, [h, w], pad, mode)], []);
}

/**
 * The adjoint of pad2d: sums the gradient of every padded position back onto the source pixel it
 * copied (a scatter-add written as a gather). g is [N, C, H + top + bottom, W + left + right].
 */
export function pad2dAdjoint(g: Tensor, inSize: readonly [number, number], pad: Pad4, mode: PadMode): Tensor {
  const op = `pad2d_${mode}_adjoint`;
  const [n, c, oh, ow] = spatialExpect4d(op, g);
  const [h, w] = inSize;
  const [top, bottom, left, right] = pad;
  if (oh !== h + top + bottom || ow !== w + left + right) {
    throw new Error(`${op}: gradient ${fmtShape(g.shape)} does not match input ${h}x${w} padded by [${pad.join(', ')}]`);
  }
  const dx = empty([n, c, h, w], op);
  run1d(`pad2d_adjoint|${mode}`, () => padAdjointSource(mode), g, dx, [h, w, oh, ow, top, left, f32(0)], { op });
  return record(dx, op, [g], (gg) => [pad2d(gg, pad, mode, 0)], []);
}

// ---- pooling --------------------------------------------------------------------------------------

interface PoolGeom {
  k: Pair;
  s: Pair;
  p: Pair;
  mul: number;
}

function poolUniforms(h: number, w: number, oh: number, ow: number, g: PoolGeom) {
  return [h, w, oh, ow, i32(g.k[0]), i32(g.k[1]), i32(g.s[0]), i32(g.s[1]), i32(g.p[0]), i32(g.p[1]), f32(g.mul)];
}

function poolRaw(op: string, x: Tensor, geo: PoolGeom): Tensor {
  const [n, c, h, w] = x.shape;
  const oh = Math.floor((h + 2 * geo.p[0] - geo.k[0]) / geo.s[0]) + 1;
  const ow = Math.floor((w + 2 * geo.p[1] - geo.k[1]) / geo.s[1]) + 1;
  if (oh < 1 || ow < 1) {
    throw new Error(
      `${op}: kernel ${geo.k.join('x')} with padding ${geo.p.join('x')} does not fit input ${fmtShape(x.shape)}; use a smaller kernel or more padding`,
    );
  }
  const y = empty([n, c, oh, ow], op);
  run1d('pool2d', () => poolSource(), x, y, poolUniforms(h, w, oh, ow, geo), { op });
  return record(y, op, [x], (g) => [poolAdjoint(g, [h, w], geo)], []);
}

function poolAdjoint(g: Tensor, inSize: readonly [number, number], geo: PoolGeom): Tensor {
  const op = geo.mul === 1 ? 'sum_pool2d_adjoint' : 'avg_pool2d_adjoint';
  const [n, c, oh, ow] = g.shape;
  const [h, w] = inSize;
  const dx = empty([n, c, h, w], op);
  run1d('pool2d_adjoint', () => poolAdjointSource(), g, dx, poolUniforms(h, w, oh, ow, geo), { op });
  return record(dx, op, [g], (gg) => [poolRaw(geo.mul === 1 ? 'sum_pool2d' : 'avg_pool2d', gg, geo)], []);
}

/**
 * F.avg_pool2d(x, kernel, stride, padding) with count_include_pad (zero padding counts towards the
 * average) and floor output size. stride defaults to the kernel; padding at most half the kernel.
 */
export function avgPool2d(
  x: Tensor,
  kernel: number | readonly [number, number],
  stride?: number | readonly [number, number],
  padding: number | readonly [number, number] = 0,
): Tensor {
  const op = 'avg_pool2d';
  spatialExpect4d(op, x);
  const k = pairOf(op, 'kernel', kernel, 1);
  const s = pairOf(op, 'stride', stride ?? kernel, 1);
  const p = pairOf(op, 'padding', padding, 0);
  if (2 * p[0] > k[0] || 2 * p[1] > k[1]) {
    throw new Error(
      `${op}: padding ${p.join('x')} must be at most half the kernel ${k.join('x')} (as in PyTorch); use a bigger kernel or pad2d first`,
    );
  }
  return poolRaw(op, x, { k, s, p, mul: 1 / (k[0] * k[1]) });
}

/** The adjoint of avgPool2d (its input gradient for gradient g), as a differentiable op. */
export function avgPool2dAdjoint(
  g: Tensor,
  inSize: readonly [number, number],
  kernel: number | readonly [number, number],
  stride?: number | readonly [number, number],
  padding: number | readonly [number, number] = 0,
): Tensor {
  const op = 'avg_pool2d_adjoint';
  spatialExpect4d(op, g);
  const k = pairOf(op, 'kernel', kernel, 1);
  return poolAdjoint(g, inSize, {
    k,
    s: pairOf(op, 'stride', stride ?? kernel, 1),
    p: pairOf(op, 'padding', padding, 0),
    mul: 1 / (k[0] * k[1]),
  });
}

// ---- nearest upsampling ---------------------------------------------------------------------------

/** F.interpolate(mode='nearest') by positive integer scales: each pixel becomes an sh x sw block. */
export function upsampleNearest(x: Tensor, scale: number | readonly [number, number]): Tensor {
  const op = 'upsample_nearest';
  const [n, c, h, w] = spatialExpect4d(op, x);
  const [sh, sw] = pairOf(op, 'scale', scale, 1);
  const y = empty([n, c, h * sh, w * sw], op);
  run1d('upsample_nearest', () => nearestSource(), x, y, [h, w, h * sh, w * sw, sh, sw, 0], { op });
  // The adjoint sums each block: sum pooling with kernel = stride = scale.
  return record(y, op, [x], (g) => [poolRaw('sum_pool2d', g, { k: [sh, sw], s: [sh, sw], p: [0, 0], mul: 1 })], []);
}

// ---- bilinear upsampling --------------------------------------------------------------------------

export interface UpsampleBilinearOptions {
  /** Output [height, width]. */
  size?: readonly [number, number];
  /** Scale factor (or [sh, sw]); the output is floor(in * scale) and the sampling grid uses in/out. */
  scale?: number | readonly [number, number];
  alignCorners?: boolean;
}

/** F.interpolate(mode='bilinear', size=..., align_corners=...) on x [N, C, H, W]. */
export function upsampleBilinear(x: Tensor, opts: UpsampleBilinearOptions): Tensor {
  const op = 'upsample_bilinear';
  const [, , h, w] = spatialExpect4d(op, x);
  let oh: number;
  let ow: number;
  if (opts.size) {
    [oh, ow] = pairOf(op, 'size', opts.size, 1);
  } else if (opts.scale !== undefined) {
    const s = typeof opts.scale === 'number' ? [opts.scale, opts.scale] : opts.scale;
    if (!s.every((v) => v > 0 && Number.isFinite(v))) throw new Error(`${op}: scale must be positive, got ${JSON.stringify(opts.scale)}`);
    oh = Math.floor(h * s[0]);
    ow = Math.floor(w * s[1]);
    if (oh < 1 || ow < 1)
      throw new Error(`${op}: scale ${JSON.stringify(opts.scale)} gives an empty output for input ${fmtShape(x.shape)}`);
  } else {
    throw new Error(`${op}: pass { size: [h, w] } or { scale }`);
  }
  if (h < 1 || w < 1) throw new Error(`${op}: cannot interpolate an empty input ${fmtShape(x.shape)}`);
  return bilinearRaw(x, oh, ow, !!opts.alignCorners);
}

function bilinearRaw(x: Tensor, oh: number, ow: number, align: boolean): Tensor {
  const op = 'upsample_bilinear';
  const [n, c, h, w] = x.shape;
  const y = empty([n, c, oh, ow], op);
  run1d(`upsample_bilinear|ac${+align}`, () => bilinearSource(align), x, y, [h, w, oh, ow, 0, 0, 0], { op });
  return record(y, op, [x], (g) => [upsampleBilinearAdjoint(g, [h, w], align)], []);
}

/** The adjoint of upsampleBilinear: g [N, C, OH, OW] -> [N, C, H, W], as a differentiable op. */
export function upsampleBilinearAdjoint(g: Tensor, inSize: readonly [number, number], alignCorners = false): Tensor {
  const op = 'upsample_bilinear_adjoint';
  const [n, c, oh, ow] = spatialExpect4d(op, g);
  const [h, w] = pairOf(op, 'input size', inSize, 1);
  const dx = empty([n, c, h, w], op);
  run1d(`upsample_bilinear_adjoint|ac${+alignCorners}`, () => bilinearAdjointSource(alignCorners), g, dx, [h, w, oh, ow, 0, 0, 0], { op });
  return record(dx, op, [g], (gg) => [bilinearRaw(gg, oh, ow, alignCorners)], []);
}

// ---- registry -------------------------------------------------------------------------------------

/**
 * Reference for the adjoint of a linear map f (given by its CPU reference): (A^T g)[k] = <f(e_k), g>.
 * Only for the tiny shapes of the op suite.
 */
export function linearAdjointReference(f: (x: HostTensor) => HostTensor, inShape: number[], g: HostTensor): HostTensor {
  const n = numel(inShape);
  const out = new Float64Array(n);
  const e: HostTensor = { shape: inShape, data: new Float64Array(n) };
  for (let k = 0; k < n; k++) {
    e.data.fill(0);
    e.data[k] = 1;
    const y = f(e).data;
    let s = 0;
    for (let m = 0; m < y.length; m++) s += y[m] * g.data[m];
    out[k] = s;
  }
  return { shape: inShape, data: out };
}

const pad4 = (a: Record<string, unknown>) => a.pad as [number, number, number, number];

for (const mode of PAD_MODES) {
  registerOp({
    name: `pad2d_${mode}`,
    run: ([x], a) => pad2d(x, pad4(a), mode, (a.value as number) ?? 0),
    reference: ([x], a) => padCpu(x, pad4(a), mode, (a.value as number) ?? 0),
    doubleBackward: true,
  });
  registerOp({
    name: `pad2d_${mode}_adjoint`,
    run: ([g], a) => pad2dAdjoint(g, a.in as [number, number], pad4(a), mode),
    reference: ([g], a) => {
      const inShape = [g.shape[0], g.shape[1], ...(a.in as number[])];
      return linearAdjointReference((x) => padCpu(x, pad4(a), mode, 0), inShape, g);
    },
    doubleBackward: true,
  });
}

interface PoolAttrs {
  k: number | Pair;
  s?: number | Pair;
  p?: number | Pair;
  in?: Pair;
}
registerOp({
  name: 'avg_pool2d',
  run: ([x], a) => {
    const at = a as unknown as PoolAttrs;
    return avgPool2d(x, at.k, at.s, at.p ?? 0);
  },
  reference: ([x], a) => {
    const at = a as unknown as PoolAttrs;
    return avgPool2dCpu(x, at.k, at.s ?? null, at.p ?? 0, true);
  },
  doubleBackward: true,
});
registerOp({
  name: 'avg_pool2d_adjoint',
  run: ([g], a) => {
    const at = a as unknown as PoolAttrs;
    return avgPool2dAdjoint(g, at.in!, at.k, at.s, at.p ?? 0);
  },
  reference: ([g], a) => {
    const at = a as unknown as PoolAttrs;
    return linearAdjointReference((x) => avgPool2dCpu(x, at.k, at.s ?? null, at.p ?? 0, true), [g.shape[0], g.shape[1], ...at.in!], g);
  },
  doubleBackward: true,
});
registerOp({
  name: 'upsample_nearest',
  run: ([x], a) => upsampleNearest(x, a.scale as number | Pair),
  reference: ([x], a) => upsampleNearestCpu(x, typeof a.scale === 'number' ? [a.scale, a.scale] : (a.scale as Pair)),
  doubleBackward: true,
});

interface BilinearAttrs {
  size: Pair;
  align?: boolean;
}
registerOp({
  name: 'upsample_bilinear',
  run: ([x], a) => upsampleBilinear(x, { size: (a as unknown as BilinearAttrs).size, alignCorners: !!a.align }),
  reference: ([x], a) => upsampleBilinearCpu(x, ...(a as unknown as BilinearAttrs).size, !!a.align),
  doubleBackward: true,
});
registerOp({
  name: 'upsample_bilinear_adjoint',
  run: ([g], a) => upsampleBilinearAdjoint(g, a.in as Pair, !!a.align),
  reference: ([g], a) =>
    linearAdjointReference(
      (x) => upsampleBilinearCpu(x, g.shape[2], g.shape[3], !!a.align),
      [g.shape[0], g.shape[1], ...(a.in as Pair)],
      g,
    ),
  doubleBackward: true,
});
