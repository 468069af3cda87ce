// Validation of the benchmark's passes against CPU float64 references, before anything is timed.
//
// A pass is valid when
//   1. every element of every output is finite. The engine side runs the validation pass with
//      engine().poisonAllocations = true, so every buffer starts as NaN and an element a kernel
//      never wrote is still NaN when read back: this checks ALL elements, on every shape;
//   2. the relative error  max_i |gpu_i - ref_i| / max_i |ref_i|  over the checked elements is
//      below TOL (1e-3), the reference computed in float64 from the same float32 inputs.
//
// Which elements are compared with the reference:
//   full     every element, with the engine's own CPU references (engine/ops/cpu/conv.ts, nn.ts,
//            pyramid.ts) where the whole reference is cheap (reduced suite, norms, pyramid, Adam);
//   sampled  for the full suite's convolutions (a res-block conv is 2.4 GMAC: minutes in JS), a
//            deterministic sample of ~2000 output elements (first, last and seeded random ones),
//            each computed by the direct per-element formulas below. They are written
//            independently of engine/ops/cpu/conv.ts (tests/bench_validate.test.ts checks that the
//            two agree), so a shared geometry mistake would show up as a disagreement.
//
// Conv geometry used by the per-element formulas. conv2d and conv_transpose2d both relate a
// "small" tensor S (conv2d's output / conv-transpose's input) and a "big" one B (conv2d's input /
// conv-transpose's output) through W[cs, cb, k, k] (PyTorch puts the small side's channels first
// for both: conv2d [out, in, k, k], conv_transpose2d [in, out, k, k]):
//     S[n, s, oy, ox] = sum_{b, ky, kx} W[s, b, ky, kx] * B[n, b, oy*st - pt + ky, ox*st - pl + kx]
// with taps outside B read as zero. Then
//     conv2d            forward = S from B(x);  input grad = B from S(dy);  weight grad = W from (S=dy, B=x)
//     conv_transpose2d  forward = B from S(x);  input grad = S from B(dy);  weight grad = W from (S=x, B=dy)
// where "B from S" is the adjoint: B[n, b, iy, ix] = sum over (s, ky, kx) with (iy + pt - ky) a
// multiple of st (oy = (iy + pt - ky) / st inside S), same for x, of W * S.

import type { ConvCase, ConvPass, NormCase, NormPass, AdamCase } from './suite.js';
import { hostTensor, mulberry32, type HostTensor } from '../engine/ops/cpu/host.js';
import { conv2dCpu, conv2dBackwardInputCpu, conv2dBackwardWeightCpu, convTranspose2dCpu } from '../engine/ops/cpu/conv.js';
import { instanceNormCpu, batchNormTrainCpu } from '../engine/ops/cpu/nn.js';
import { laplacianPyramidCpu } from '../engine/ops/cpu/pyramid.js';

/** The bound on the relative error. */
export const TOL = 1e-3;
/** Elements compared per output when sampling. */
export const DEFAULT_SAMPLES = 2000;
/** Up to this many multiply-adds the whole conv reference is computed (a fraction of a second). */
export const FULL_REFERENCE_MACS = 3e7;

export type ValidationMode = 'auto' | 'full' | 'sampled';

/** The check of one output tensor. */
export interface OutputCheck {
  name: string;
  /** Relative error over the checked elements (Infinity when any of them is not finite). */
  err: number;
  /** Elements compared with the reference. */
  checked: number;
  /** Elements in the output. */
  total: number;
  /** Non-finite elements anywhere in the output (NaN: never written, with poisoned allocations). */
  nonFinite: number;
  /** Where the largest difference is. */
  worst?: { index: number; gpu: number; ref: number };
}

/** The check of one pass (one or more outputs). */
export interface ValidationResult {
  ok: boolean;
  /** Largest relative error over the outputs. */
  err: number;
  tol: number;
  method: 'full' | 'sampled';
  outputs: OutputCheck[];
  /** Wall time of the CPU reference and comparison. */
  ms: number;
  message?: string;
}

// ---- comparison ---------------------------------------------------------------------------------

function countNonFinite(a: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) n++;
  return n;
}

/** Compares a whole output with a whole reference. */
export function compareFull(name: string, gpu: ArrayLike<number>, ref: ArrayLike<number>): OutputCheck {
  if (gpu.length !== ref.length) throw new Error(`${name}: output has ${gpu.length} elements, reference ${ref.length}`);
  let maxRef = 0;
  let maxDiff = 0;
  let worst = -1;
  for (let i = 0; i < ref.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
    const d = Math.abs(gpu[i] - ref[i]);
    if (!(d <= maxDiff)) {
      maxDiff = Number.isNaN(d) ? Infinity : d;
      worst = i;
    }
  }
  const out: OutputCheck = { name, err: relErr(maxDiff, maxRef), checked: ref.length, total: gpu.length, nonFinite: countNonFinite(gpu) };
  if (worst >= 0) out.worst = { index: worst, gpu: gpu[worst], ref: ref[worst] };
  return out;
}

/** Compares the elements at `indices` with refAt(index); counts non-finite values over all of gpu. */
export function compareSampled(name: string, gpu: Float32Array, indices: readonly number[], refAt: (i: number) => number): OutputCheck {
  let maxRef = 0;
  let maxDiff = 0;
  let worst = -1;
  let worstRef = 0;
  for (const i of indices) {
    const r = refAt(i);
    maxRef = Math.max(maxRef, Math.abs(r));
    const d = Math.abs(gpu[i] - r);
    if (!(d <= maxDiff)) {
      maxDiff = Number.isNaN(d) ? Infinity : d;
      worst = i;
      worstRef = r;
    }
  }
  const out: OutputCheck = {
    name,
    err: relErr(maxDiff, maxRef),
    checked: indices.length,
    total: gpu.length,
    nonFinite: countNonFinite(gpu),
  };
  if (worst >= 0) out.worst = { index: worst, gpu: gpu[worst], ref: worstRef };
  return out;
}

function relErr(maxDiff: number, maxRef: number): number {
  if (maxDiff === 0) return 0;
  return maxDiff / Math.max(maxRef, 1e-30);
}

/** Folds output checks into a pass verdict. */
export function verdict(outputs: OutputCheck[], method: 'full' | 'sampled', ms: number, tol = TOL): ValidationResult {
  const err = outputs.reduce((m, o) => Math.max(m, o.err), 0);
  const problems: string[] = [];
  for (const o of outputs) {
    if (o.nonFinite) problems.push(`${o.name}: ${o.nonFinite} of ${o.total} elements not finite (NaN = never written)`);
    if (!(o.err < tol)) {
      const w = o.worst ? ` (worst at ${o.worst.index}: gpu ${o.worst.gpu}, ref ${o.worst.ref})` : '';
      problems.push(`${o.name}: relative error ${o.err.toExponential(2)} >= ${tol}${w}`);
    }
  }
  const r: ValidationResult = { ok: problems.length === 0, err, tol, method, outputs, ms };
  if (problems.length) r.message = problems.join('; ');
  return r;
}

/**
 * A deterministic sample of `count` distinct indices in [0, total): all of them when total <=
 * count, else 0, total - 1 and seeded uniform picks, sorted.
 */
export function sampleIndices(total: number, count: number, seed: number): number[] {
  if (total <= count) return Array.from({ length: total }, (_, i) => i);
  const rand = mulberry32(seed);
  const set = new Set<number>([0, total - 1]);
  while (set.size < count) set.add(Math.floor(rand() * total));
  return [...set].sort((a, b) => a - b);
}

/** Seeded uniform values in [lo, hi) as float32 (what gets uploaded; the reference reads the same). */
export function randomF32(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const rand = mulberry32(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rand();
  return a;
}

// ---- convolutions -------------------------------------------------------------------------------

/** The small/big relation of a conv case (see the header). */
export interface ConvRelation {
  n: number;
  cs: number;
  sh: number;
  sw: number;
  cb: number;
  bh: number;
  bw: number;
  k: number;
  st: number;
  pt: number;
  pl: number;
}

export function convRelation(c: ConvCase): ConvRelation {
  const isT = c.kind === 'conv_transpose2d';
  return {
    n: c.n,
    cs: isT ? c.cin : c.cout,
    sh: isT ? c.h : c.hout,
    sw: isT ? c.w : c.wout,
    cb: isT ? c.cout : c.cin,
    bh: isT ? c.hout : c.h,
    bw: isT ? c.wout : c.w,
    k: c.k,
    st: c.stride,
    pt: c.pad[0],
    pl: c.pad[2],
  };
}

/** S[idx] from B and W. */
export function smallAt(r: ConvRelation, B: ArrayLike<number>, W: ArrayLike<number>, idx: number): number {
  const ox = idx % r.sw;
  const oy = Math.floor(idx / r.sw) % r.sh;
  const s = Math.floor(idx / (r.sw * r.sh)) % r.cs;
  const n = Math.floor(idx / (r.sw * r.sh * r.cs));
  let acc = 0;
  for (let b = 0; b < r.cb; b++) {
    const bBase = (n * r.cb + b) * r.bh;
    const wBase = (s * r.cb + b) * r.k;
    for (let ky = 0; ky < r.k; ky++) {
      const iy = oy * r.st - r.pt + ky;
      if (iy < 0 || iy >= r.bh) continue;
      for (let kx = 0; kx < r.k; kx++) {
        const ix = ox * r.st - r.pl + kx;
        if (ix < 0 || ix >= r.bw) continue;
        acc += W[(wBase + ky) * r.k + kx] * B[(bBase + iy) * r.bw + ix];
      }
    }
  }
  return acc;
}

/** B[idx] from S and W (the adjoint of smallAt). */
export function bigAt(r: ConvRelation, S: ArrayLike<number>, W: ArrayLike<number>, idx: number): number {
  const ix = idx % r.bw;
  const iy = Math.floor(idx / r.bw) % r.bh;
  const b = Math.floor(idx / (r.bw * r.bh)) % r.cb;
  const n = Math.floor(idx / (r.bw * r.bh * r.cb));
  let acc = 0;
  for (let ky = 0; ky < r.k; ky++) {
    const ty = iy + r.pt - ky;
    if (ty < 0 || ty % r.st !== 0) continue;
    const oy = ty / r.st;
    if (oy >= r.sh) continue;
    for (let kx = 0; kx < r.k; kx++) {
      const tx = ix + r.pl - kx;
      if (tx < 0 || tx % r.st !== 0) continue;
      const ox = tx / r.st;
      if (ox >= r.sw) continue;
      for (let s = 0; s < r.cs; s++) {
        acc += W[((s * r.cb + b) * r.k + ky) * r.k + kx] * S[((n * r.cs + s) * r.sh + oy) * r.sw + ox];
      }
    }
  }
  return acc;
}

/** W[idx] = sum over batch and S's pixels of S * B (the weight gradient). */
export function weightAt(r: ConvRelation, S: ArrayLike<number>, B: ArrayLike<number>, idx: number): number {
  const kx = idx % r.k;
  const ky = Math.floor(idx / r.k) % r.k;
  const b = Math.floor(idx / (r.k * r.k)) % r.cb;
  const s = Math.floor(idx / (r.k * r.k * r.cb));
  let acc = 0;
  for (let n = 0; n < r.n; n++) {
    const sBase = (n * r.cs + s) * r.sh;
    const bBase = (n * r.cb + b) * r.bh;
    for (let oy = 0; oy < r.sh; oy++) {
      const iy = oy * r.st - r.pt + ky;
      if (iy < 0 || iy >= r.bh) continue;
      for (let ox = 0; ox < r.sw; ox++) {
        const ix = ox * r.st - r.pl + kx;
        if (ix < 0 || ix >= r.bw) continue;
        acc += S[(sBase + oy) * r.sw + ox] * B[(bBase + iy) * r.bw + ix];
      }
    }
  }
  return acc;
}

/** Shapes of the tensors of a conv case in the engine's layouts. */
export function convShapes(c: ConvCase): { x: number[]; w: number[]; y: number[] } {
  return {
    x: [c.n, c.cin, c.h, c.w],
    w: c.kind === 'conv2d' ? [c.cout, c.cin, c.k, c.k] : [c.cin, c.cout, c.k, c.k],
    y: [c.n, c.cout, c.hout, c.wout],
  };
}

/** The output shape of one pass: forward y, input grad dx (= x's shape), weight grad dw. */
export function convPassOutShape(c: ConvCase, pass: ConvPass): number[] {
  const s = convShapes(c);
  return pass === 'forward' ? s.y : pass === 'input_grad' ? s.x : s.w;
}

/** The whole reference of one conv pass, from the engine's CPU references. */
export function convReferenceFull(c: ConvCase, pass: ConvPass, x: Float32Array, w: Float32Array, dy: Float32Array): Float64Array {
  const s = convShapes(c);
  const X = hostTensor(s.x, x);
  const Wt = hostTensor(s.w, w);
  const DY = hostTensor(s.y, dy);
  const opts = { stride: [c.stride, c.stride] as const, padding: c.pad };
  let out: HostTensor;
  if (c.kind === 'conv2d') {
    if (pass === 'forward') out = conv2dCpu(X, Wt, null, opts);
    else if (pass === 'input_grad') out = conv2dBackwardInputCpu(DY, Wt, s.x, opts);
    else out = conv2dBackwardWeightCpu(X, DY, s.w, opts);
  } else {
    const op = c.outputPadding ?? 0;
    // conv_transpose2d(x) = the input gradient of conv2d(y) -> x, so its own input gradient is
    // conv2d(dy, w) and its weight gradient is conv2d's weight gradient with dy as the input.
    if (pass === 'forward') out = convTranspose2dCpu(X, Wt, null, { ...opts, outputPadding: [op, op] });
    else if (pass === 'input_grad') out = conv2dCpu(DY, Wt, null, opts);
    else out = conv2dBackwardWeightCpu(DY, X, s.w, opts);
  }
  return out.data;
}

/** The per-element reference of one conv pass: index into the pass's output -> value. */
export function convReferenceAt(c: ConvCase, pass: ConvPass, x: Float32Array, w: Float32Array, dy: Float32Array): (i: number) => number {
  const r = convRelation(c);
  const isT = c.kind === 'conv_transpose2d';
  if (pass === 'forward') return isT ? (i) => bigAt(r, x, w, i) : (i) => smallAt(r, x, w, i);
  if (pass === 'input_grad') return isT ? (i) => smallAt(r, dy, w, i) : (i) => bigAt(r, dy, w, i);
  return isT ? (i) => weightAt(r, x, dy, i) : (i) => weightAt(r, dy, x, i);
}

/** Multiply-adds of the whole reference of one pass (what choosing full vs sampled weighs). */
export function convReferenceMacs(c: ConvCase): number {
  return c.flops('forward') / 2;
}

/** Validates one conv pass's output given the inputs it was computed from. */
export function validateConv(
  c: ConvCase,
  pass: ConvPass,
  gpu: Float32Array,
  inputs: { x: Float32Array; w: Float32Array; dy: Float32Array },
  opts: { mode?: ValidationMode; samples?: number; seed?: number } = {},
): ValidationResult {
  const t0 = performance.now();
  const mode = opts.mode ?? 'auto';
  const full = mode === 'full' || (mode === 'auto' && convReferenceMacs(c) <= FULL_REFERENCE_MACS);
  const name = pass === 'forward' ? 'y' : pass === 'input_grad' ? 'dx' : 'dw';
  let check: OutputCheck;
  if (full) {
    check = compareFull(name, gpu, convReferenceFull(c, pass, inputs.x, inputs.w, inputs.dy));
  } else {
    const idx = sampleIndices(gpu.length, opts.samples ?? DEFAULT_SAMPLES, (opts.seed ?? 7) ^ hash(`${c.id}/${pass}`));
    check = compareSampled(name, gpu, idx, convReferenceAt(c, pass, inputs.x, inputs.w, inputs.dy));
  }
  return verdict([check], full ? 'full' : 'sampled', performance.now() - t0);
}

// ---- normalisation ------------------------------------------------------------------------------

/**
 * Forward and input/affine gradients of training-mode instance or batch norm in float64.
 * Groups: instance norm normalises each (n, c) plane, batch norm each channel over (n, plane).
 * With xhat = (x - mean) * rstd and dxhat = dy * gamma:
 *   dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))   (means over the group)
 *   dgamma[c] = sum dy * xhat,  dbeta[c] = sum dy                      (sums over n and the plane)
 */
export function normReference(
  c: NormCase,
  x: Float32Array,
  gamma: Float32Array | null,
  beta: Float32Array | null,
  dy: Float32Array | null,
): { y: Float64Array; dx?: Float64Array; dgamma?: Float64Array; dbeta?: Float64Array } {
  const shape = [c.n, c.c, c.h, c.w];
  const X = hostTensor(shape, x);
  const G = gamma ? hostTensor([c.c], gamma) : null;
  const Bt = beta ? hostTensor([c.c], beta) : null;
  const y = c.kind === 'instance_norm' ? instanceNormCpu(X, G, Bt, c.eps).data : batchNormTrainCpu(X, G, Bt, c.eps).y.data;
  if (!dy) return { y };
  const plane = c.h * c.w;
  const groups = c.kind === 'instance_norm' ? c.n * c.c : c.c;
  const members = (g: number): number[] => {
    // Start offsets of the planes of group g.
    if (c.kind === 'instance_norm') return [g * plane];
    return Array.from({ length: c.n }, (_, n) => (n * c.c + g) * plane);
  };
  const dx = new Float64Array(x.length);
  const dgamma = new Float64Array(c.c);
  const dbeta = new Float64Array(c.c);
  for (let g = 0; g < groups; g++) {
    const starts = members(g);
    const ch = c.kind === 'instance_norm' ? g % c.c : g;
    const gm = gamma ? gamma[ch] : 1;
    const count = starts.length * plane;
    let mean = 0;
    for (const s of starts) for (let p = 0; p < plane; p++) mean += x[s + p];
    mean /= count;
    let v = 0;
    for (const s of starts) for (let p = 0; p < plane; p++) v += (x[s + p] - mean) ** 2;
    v /= count;
    const rstd = 1 / Math.sqrt(v + c.eps);
    let sumD = 0;
    let sumDX = 0;
    for (const s of starts) {
      for (let p = 0; p < plane; p++) {
        const xh = (x[s + p] - mean) * rstd;
        sumD += dy[s + p] * gm;
        sumDX += dy[s + p] * gm * xh;
        dgamma[ch] += dy[s + p] * xh;
        dbeta[ch] += dy[s + p];
      }
    }
    const mD = sumD / count;
    const mDX = sumDX / count;
    for (const s of starts) {
      for (let p = 0; p < plane; p++) {
        const xh = (x[s + p] - mean) * rstd;
        dx[s + p] = rstd * (dy[s + p] * gm - mD - xh * mDX);
      }
    }
  }
  return c.affine ? { y, dx, dgamma, dbeta } : { y, dx };
}

/** Validates a norm pass: outputs named y, or dx (+ dgamma, dbeta when affine). */
export function validateNorm(
  c: NormCase,
  pass: NormPass,
  gpu: Record<string, Float32Array>,
  inputs: { x: Float32Array; gamma: Float32Array | null; beta: Float32Array | null; dy: Float32Array },
): ValidationResult {
  const t0 = performance.now();
  const ref = normReference(c, inputs.x, inputs.gamma, inputs.beta, pass === 'forward' ? null : inputs.dy);
  const checks: OutputCheck[] = [];
  for (const [name, arr] of Object.entries(gpu)) {
    const r = (ref as Record<string, Float64Array | undefined>)[name];
    if (!r) throw new Error(`${c.id}/${pass}: no reference for output '${name}'`);
    checks.push(compareFull(name, arr, r));
  }
  return verdict(checks, 'full', performance.now() - t0);
}

// ---- Laplacian pyramid --------------------------------------------------------------------------

/** The pyramid's outputs in float64: [band_0, ..., band_{bands-1}, low]. */
export function pyramidReference(shape: number[], x: Float32Array, bands: number): Float64Array[] {
  return laplacianPyramidCpu(hostTensor(shape, x), bands).map((t) => t.data);
}

export function validatePyramid(shape: number[], bands: number, gpu: Float32Array[], x: Float32Array): ValidationResult {
  const t0 = performance.now();
  const ref = pyramidReference(shape, x, bands);
  if (gpu.length !== ref.length) {
    return {
      ok: false,
      err: Infinity,
      tol: TOL,
      method: 'full',
      outputs: [],
      ms: performance.now() - t0,
      message: `expected ${ref.length} outputs (${bands} bands + low-pass), got ${gpu.length}`,
    };
  }
  const checks = ref.map((r, i) => compareFull(i < bands ? `band${i}` : 'low', gpu[i], r));
  return verdict(checks, 'full', performance.now() - t0);
}

// ---- Adam ---------------------------------------------------------------------------------------

/**
 * `steps` Adam steps (PyTorch semantics, no weight decay) from p0 with zero moments and the same
 * gradient every step, in float64. Returns the parameters after the last step.
 */
export function adamReference(c: AdamCase, p0: Float32Array, g: Float32Array, steps: number): Float64Array {
  const p = Float64Array.from(p0);
  const m = new Float64Array(p.length);
  const v = new Float64Array(p.length);
  for (let t = 1; t <= steps; t++) {
    const bc1 = 1 - c.beta1 ** t;
    const bc2 = 1 - c.beta2 ** t;
    for (let i = 0; i < p.length; i++) {
      m[i] = c.beta1 * m[i] + (1 - c.beta1) * g[i];
      v[i] = c.beta2 * v[i] + (1 - c.beta2) * g[i] * g[i];
      p[i] -= (c.lr / bc1) * (m[i] / (Math.sqrt(v[i] / bc2) + c.eps));
    }
  }
  return p;
}

/**
 * Validates Adam on the parameter *updates*: (p_gpu - p0) against (p_ref - p0). Comparing the
 * parameters themselves would bury the update (lr-sized) under the parameters' magnitude.
 */
export function validateAdam(c: AdamCase, p0: Float32Array, g: Float32Array, steps: number, gpu: Float32Array): ValidationResult {
  const t0 = performance.now();
  const ref = adamReference(c, p0, g, steps);
  const dRef = new Float64Array(ref.length);
  const dGpu = new Float64Array(ref.length);
  for (let i = 0; i < ref.length; i++) {
    dRef[i] = ref[i] - p0[i];
    // Exact in float64: both are float32 values.
    dGpu[i] = gpu[i] - p0[i];
  }
  const check = compareFull('update', dGpu, dRef);
  check.nonFinite = countNonFinite(gpu);
  return verdict([check], 'full', performance.now() - t0);
}

// ---- misc ---------------------------------------------------------------------------------------

/** FNV-1a of a string (seeds per case). */
export function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
