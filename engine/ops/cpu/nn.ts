// CPU float64 references for the non-convolution layers: linear / matmul, instance and batch
// normalisation, padding, upsampling and average pooling. Images are NCHW, as in PyTorch, and each
// function follows the PyTorch function named in its comment, edge cases included.

import { hostTensor, type HostTensor, expectRank, size } from './host.js';
import type { Pad4, Pair } from './conv.js';

// ---------------------------------------------------------------------------------------------
// Linear algebra

/** F.linear: y[N, out] = x[N, in] w[out, in]^T + b[out]. */
export function linearCpu(x: HostTensor, w: HostTensor, b: HostTensor | null): HostTensor {
  const [n, inF] = expectRank(x, 2, 'linear x');
  const [outF, wIn] = expectRank(w, 2, 'linear w');
  if (wIn !== inF) throw new Error(`linear: x has ${inF} features, w expects ${wIn}`);
  if (b !== null && b.data.length !== outF) throw new Error(`linear: bias has ${b.data.length} values for ${outF} outputs`);
  const y = hostTensor([n, outF]);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < outF; o++) {
      let acc = b === null ? 0 : b.data[o];
      for (let k = 0; k < inF; k++) acc += x.data[i * inF + k] * w.data[o * inF + k];
      y.data[i * outF + o] = acc;
    }
  }
  return y;
}

export interface MatmulOptions {
  /** Use A^T: a is stored [K, M] (per batch). */
  transA?: boolean;
  /** Use B^T: b is stored [N, K] (per batch). */
  transB?: boolean;
}

/**
 * op(A) op(B) for rank-2 operands, or batched over a leading dimension for rank-3 ones. A rank-2
 * operand next to a rank-3 one is shared by every batch (torch.matmul broadcasting).
 * Result [M, N] or [batch, M, N].
 */
export function matmulCpu(a: HostTensor, b: HostTensor, opts: MatmulOptions = {}): HostTensor {
  const { transA = false, transB = false } = opts;
  for (const t of [a, b]) {
    if (t.shape.length !== 2 && t.shape.length !== 3) throw new Error(`matmul: rank must be 2 or 3, got [${t.shape.join(', ')}]`);
  }
  const batchA = a.shape.length === 3 ? a.shape[0] : 0;
  const batchB = b.shape.length === 3 ? b.shape[0] : 0;
  if (batchA && batchB && batchA !== batchB) throw new Error(`matmul: batch sizes ${batchA} and ${batchB} differ`);
  const batch = Math.max(batchA, batchB, 1);
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [m, k] = transA ? [ac, ar] : [ar, ac];
  const [kb, n] = transB ? [bc, br] : [br, bc];
  if (k !== kb) throw new Error(`matmul: inner sizes ${k} and ${kb} differ`);
  // Element (i, j) of op(A) lives at i*strideI + j*strideJ within one batch.
  const [aI, aK] = transA ? [1, ac] : [ac, 1];
  const [bK, bJ] = transB ? [1, bc] : [bc, 1];
  const y = hostTensor(batchA || batchB ? [batch, m, n] : [m, n]);
  for (let p = 0; p < batch; p++) {
    const aBase = batchA ? p * ar * ac : 0;
    const bBase = batchB ? p * br * bc : 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let q = 0; q < k; q++) acc += a.data[aBase + i * aI + q * aK] * b.data[bBase + q * bK + j * bJ];
        y.data[(p * m + i) * n + j] = acc;
      }
    }
  }
  return y;
}

// ---------------------------------------------------------------------------------------------
// Normalisation

/**
 * F.instance_norm (no running stats): per (n, c) plane, y = (x - mean) / sqrt(var + eps) * gamma[c]
 * + beta[c], var biased (divided by H*W). gamma/beta null means no affine transform.
 */
export function instanceNormCpu(x: HostTensor, gamma: HostTensor | null, beta: HostTensor | null, eps = 1e-5): HostTensor {
  if (x.shape.length < 3) throw new Error('instanceNorm: x must be [N, C, ...spatial]');
  const [n, c] = x.shape;
  const plane = size(x.shape.slice(2));
  const y = hostTensor(x.shape);
  for (let i = 0; i < n * c; i++) {
    const base = i * plane;
    let mean = 0;
    for (let p = 0; p < plane; p++) mean += x.data[base + p];
    mean /= plane;
    let variance = 0;
    for (let p = 0; p < plane; p++) variance += (x.data[base + p] - mean) ** 2;
    variance /= plane;
    const rstd = 1 / Math.sqrt(variance + eps);
    const scale = gamma === null ? rstd : gamma.data[i % c] * rstd;
    const shift = beta === null ? 0 : beta.data[i % c];
    for (let p = 0; p < plane; p++) y.data[base + p] = (x.data[base + p] - mean) * scale + shift;
  }
  return y;
}

export interface BatchNormTrainResult {
  y: HostTensor;
  /** Per-channel batch mean [C]. */
  mean: HostTensor;
  /** Per-channel biased variance [C] (divided by count): the one used to normalise. */
  var: HostTensor;
  /** Per-channel unbiased variance [C] (divided by count - 1): the one PyTorch folds into running_var. */
  varUnbiased: HostTensor;
}

/** Per-channel [C] statistics over every axis but 1, for x [N, C, ...]. */
function channelMoments(x: HostTensor): { mean: Float64Array; sumSq: Float64Array; count: number } {
  if (x.shape.length < 2) throw new Error('batchNorm: x must be [N, C, ...]');
  const [n, c] = x.shape;
  const plane = size(x.shape.slice(2));
  const mean = new Float64Array(c);
  const sumSq = new Float64Array(c);
  for (let i = 0; i < n * c; i++) {
    for (let p = i * plane; p < (i + 1) * plane; p++) mean[i % c] += x.data[p];
  }
  const count = n * plane;
  for (let ch = 0; ch < c; ch++) mean[ch] /= count;
  for (let i = 0; i < n * c; i++) {
    for (let p = i * plane; p < (i + 1) * plane; p++) sumSq[i % c] += (x.data[p] - mean[i % c]) ** 2;
  }
  return { mean, sumSq, count };
}

/** y = (x - mean[c]) / sqrt(var[c] + eps) * gamma[c] + beta[c] over x [N, C, ...]. */
function normalizeChannels(
  x: HostTensor,
  mean: ArrayLike<number>,
  variance: ArrayLike<number>,
  gamma: HostTensor | null,
  beta: HostTensor | null,
  eps: number,
): HostTensor {
  const [n, c] = x.shape;
  const plane = size(x.shape.slice(2));
  const y = hostTensor(x.shape);
  for (let i = 0; i < n * c; i++) {
    const ch = i % c;
    const scale = (gamma === null ? 1 : gamma.data[ch]) / Math.sqrt(variance[ch] + eps);
    const shift = beta === null ? 0 : beta.data[ch];
    for (let p = i * plane; p < (i + 1) * plane; p++) y.data[p] = (x.data[p] - mean[ch]) * scale + shift;
  }
  return y;
}

/**
 * F.batch_norm in training mode for x [N, C] or [N, C, H, W] (statistics over every axis but 1).
 * Running-stat update, as PyTorch does it: running = (1 - momentum) * running + momentum * stat,
 * with `varUnbiased` for the variance.
 */
export function batchNormTrainCpu(x: HostTensor, gamma: HostTensor | null, beta: HostTensor | null, eps = 1e-5): BatchNormTrainResult {
  const { mean, sumSq, count } = channelMoments(x);
  const c = mean.length;
  const variance = sumSq.map((s) => s / count);
  const varUnbiased = sumSq.map((s) => (count > 1 ? s / (count - 1) : NaN));
  return {
    y: normalizeChannels(x, mean, variance, gamma, beta, eps),
    mean: hostTensor([c], mean),
    var: hostTensor([c], variance),
    varUnbiased: hostTensor([c], varUnbiased),
  };
}

/** F.batch_norm in eval mode: normalise with the running statistics. */
export function batchNormEvalCpu(
  x: HostTensor,
  runningMean: HostTensor,
  runningVar: HostTensor,
  gamma: HostTensor | null,
  beta: HostTensor | null,
  eps = 1e-5,
): HostTensor {
  return normalizeChannels(x, runningMean.data, runningVar.data, gamma, beta, eps);
}

// ---------------------------------------------------------------------------------------------
// Padding

export type PadMode = 'zeros' | 'reflect' | 'replicate';

/** Maps an index in the padded axis (possibly out of [0, n)) back into the source axis. */
function sourceIndex(i: number, n: number, mode: PadMode): number {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case 'zeros':
      return -1;
    case 'replicate':
      return i < 0 ? 0 : n - 1;
    case 'reflect':
      // Mirror about the edge pixel, which is not repeated: [a b c] -> c b [a b c] b a.
      return i < 0 ? -i : 2 * (n - 1) - i;
  }
}

/**
 * F.pad on the last two axes of x [N, C, H, W] with [top, bottom, left, right] >= 0. 'zeros' fills
 * with `value` (F.pad mode 'constant'); 'reflect' needs each pad < the axis length, as in PyTorch.
 */
export function padCpu(x: HostTensor, pad: Pad4, mode: PadMode = 'zeros', value = 0): HostTensor {
  const [n, c, h, w] = expectRank(x, 4, 'pad');
  const [top, bottom, left, right] = pad;
  if (Math.min(top, bottom, left, right) < 0) throw new Error('pad: negative padding is not supported');
  if (mode === 'reflect' && (Math.max(top, bottom) >= h || Math.max(left, right) >= w)) {
    throw new Error(`pad: reflect padding [${pad.join(', ')}] needs pads smaller than the input ${h}x${w}`);
  }
  const oh = h + top + bottom;
  const ow = w + left + right;
  const y = hostTensor([n, c, oh, ow]);
  // Column sources are the same for every row and plane.
  const colSource = Array.from({ length: ow }, (_, j) => sourceIndex(j - left, w, mode));
  for (let plane = 0; plane < n * c; plane++) {
    for (let i = 0; i < oh; i++) {
      const si = sourceIndex(i - top, h, mode);
      const out = (plane * oh + i) * ow;
      for (let j = 0; j < ow; j++) {
        const sj = colSource[j];
        y.data[out + j] = si < 0 || sj < 0 ? value : x.data[(plane * h + si) * w + sj];
      }
    }
  }
  return y;
}

// ---------------------------------------------------------------------------------------------
// Resampling

/** F.interpolate(mode='nearest', scale_factor=(sh, sw)) with positive integer scales: each pixel repeated. */
export function upsampleNearestCpu(x: HostTensor, scale: Pair): HostTensor {
  const [n, c, h, w] = expectRank(x, 4, 'upsampleNearest');
  const [sh, sw] = scale;
  if (!Number.isInteger(sh) || !Number.isInteger(sw) || sh < 1 || sw < 1)
    throw new Error('upsampleNearest: scales must be positive integers');
  const oh = h * sh;
  const ow = w * sw;
  const y = hostTensor([n, c, oh, ow]);
  for (let plane = 0; plane < n * c; plane++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        y.data[(plane * oh + i) * ow + j] = x.data[(plane * h + Math.floor(i / sh)) * w + Math.floor(j / sw)];
      }
    }
  }
  return y;
}

/**
 * Source coordinates for one output axis of bilinear resize, PyTorch's rule with an explicit output
 * size: align_corners maps the corner pixel centres onto each other (src = dst * (in-1)/(out-1));
 * otherwise pixel areas align (src = (dst + 0.5) * in/out - 0.5, clamped at 0). Returns the two
 * source indices and the weight of the second.
 */
function bilinearTaps(inSize: number, outSize: number, alignCorners: boolean): { i0: Int32Array; i1: Int32Array; frac: Float64Array } {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const frac = new Float64Array(outSize);
  for (let d = 0; d < outSize; d++) {
    let src: number;
    if (alignCorners) src = outSize > 1 ? (d * (inSize - 1)) / (outSize - 1) : 0;
    else src = Math.max(((d + 0.5) * inSize) / outSize - 0.5, 0);
    const lo = Math.min(Math.floor(src), inSize - 1);
    i0[d] = lo;
    i1[d] = Math.min(lo + 1, inSize - 1);
    frac[d] = src - lo;
  }
  return { i0, i1, frac };
}

/** F.interpolate(mode='bilinear', size=(outH, outW), align_corners). */
export function upsampleBilinearCpu(x: HostTensor, outH: number, outW: number, alignCorners: boolean): HostTensor {
  const [n, c, h, w] = expectRank(x, 4, 'upsampleBilinear');
  const rows = bilinearTaps(h, outH, alignCorners);
  const cols = bilinearTaps(w, outW, alignCorners);
  const y = hostTensor([n, c, outH, outW]);
  for (let plane = 0; plane < n * c; plane++) {
    const base = plane * h * w;
    for (let i = 0; i < outH; i++) {
      const r0 = base + rows.i0[i] * w;
      const r1 = base + rows.i1[i] * w;
      const fy = rows.frac[i];
      for (let j = 0; j < outW; j++) {
        const c0 = cols.i0[j];
        const c1 = cols.i1[j];
        const fx = cols.frac[j];
        const top = (1 - fx) * x.data[r0 + c0] + fx * x.data[r0 + c1];
        const bottom = (1 - fx) * x.data[r1 + c0] + fx * x.data[r1 + c1];
        y.data[(plane * outH + i) * outW + j] = (1 - fy) * top + fy * bottom;
      }
    }
  }
  return y;
}

// ---------------------------------------------------------------------------------------------
// Pooling

function asPair(v: number | Pair): Pair {
  return typeof v === 'number' ? [v, v] : v;
}

/**
 * F.avg_pool2d(x, kernel, stride, padding, ceil_mode=False, count_include_pad). Padding is symmetric
 * [ph, pw] (PyTorch allows at most half the kernel). countIncludePad divides by the full kernel area;
 * otherwise by the number of real (non-padding) pixels in the window. stride defaults to the kernel.
 */
export function avgPool2dCpu(
  x: HostTensor,
  kernel: number | Pair,
  stride: number | Pair | null = null,
  padding: number | Pair = 0,
  countIncludePad = true,
): HostTensor {
  const [n, c, h, w] = expectRank(x, 4, 'avgPool2d');
  const [kh, kw] = asPair(kernel);
  const [sh, sw] = asPair(stride ?? kernel);
  const [ph, pw] = asPair(padding);
  if (2 * ph > kh || 2 * pw > kw) throw new Error('avgPool2d: padding must be at most half the kernel');
  const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
  const y = hostTensor([n, c, oh, ow]);
  for (let plane = 0; plane < n * c; plane++) {
    for (let i = 0; i < oh; i++) {
      const h0 = i * sh - ph;
      const hLo = Math.max(h0, 0);
      const hHi = Math.min(h0 + kh, h);
      for (let j = 0; j < ow; j++) {
        const w0 = j * sw - pw;
        const wLo = Math.max(w0, 0);
        const wHi = Math.min(w0 + kw, w);
        let sum = 0;
        for (let r = hLo; r < hHi; r++) {
          for (let q = wLo; q < wHi; q++) sum += x.data[(plane * h + r) * w + q];
        }
        const count = countIncludePad ? kh * kw : (hHi - hLo) * (wHi - wLo);
        y.data[(plane * oh + i) * ow + j] = sum / count;
      }
    }
  }
  return y;
}
