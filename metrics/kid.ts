// Kernel Inception Distance (Binkowski et al. 2018, "Demystifying MMD GANs"), here on LeNet
// features: the unbiased estimate of the squared maximum mean discrepancy between real (x) and
// generated (y) features under the cubic polynomial kernel
//
//   k(a, b) = (a . b / d + 1)^3
//   MMD^2_u = sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (m (m - 1))
//             - 2 sum_{i, j} k(x_i, y_j) / m^2
//
// averaged over `subsets` random subsets of m examples from each side (drawn without replacement
// within a subset, from a seeded generator), reported as mean and standard deviation, as the
// reference implementations do (subsets 100, m 1000 by default; m is capped at the smaller set).
// Unlike the Frechet distance it is unbiased, so it is comparable across sample sizes, and it can
// be slightly negative when the two sets are close.
//
// All pairwise dot products are formed once (x.x, y.y, x.y), on the CPU in float64 or with the
// engine's GEMM on the GPU (float32, in row blocks); the subsets then only sum kernel values. The
// same dot-product matrices serve the k-NN precision/recall (precision_recall.ts).
// Browser-safe (no Node imports).

import { tensor, tidy } from '../engine/tensor.js';
import { noGrad } from '../engine/tape.js';
import { matmul } from '../engine/ops/matmul.js';
import { mulberry32 } from '../engine/ops/cpu/host.js';
import { checkFeatureSet, type FeatureSet } from './frechet.js';

/** An [n, m] matrix of dot products a_i . b_j, row-major. */
export interface DotMatrix {
  data: Float32Array | Float64Array;
  n: number;
  m: number;
}

/** The three dot-product matrices between two feature sets. */
export interface PairwiseDots {
  xx: DotMatrix;
  yy: DotMatrix;
  xy: DotMatrix;
  d: number;
}

function checkPair(who: string, x: FeatureSet, y: FeatureSet): void {
  checkFeatureSet(who, x);
  checkFeatureSet(who, y);
  if (x.d !== y.d) throw new Error(`${who}: the feature sizes differ (${x.d} vs ${y.d})`);
}

/**
 * a_i . b_j for all i, j on the CPU, accumulated in float64. Rows of `a` are taken four at a time
 * (each row of `b` is read once per four); with `a === b` only the upper triangle is computed.
 */
export function dotMatrixCpu(a: FeatureSet, b: FeatureSet): DotMatrix {
  checkPair('dotMatrixCpu', a, b);
  const { d } = a;
  const na = a.n;
  const nb = b.n;
  const self = a === b;
  const out = new Float64Array(na * nb);
  const A = Float64Array.from(a.data.subarray(0, na * d));
  const B = self ? A : Float64Array.from(b.data.subarray(0, nb * d));
  for (let i = 0; i < na; i += 4) {
    const rows = Math.min(4, na - i);
    const o0 = i * d;
    const o1 = rows > 1 ? o0 + d : o0;
    const o2 = rows > 2 ? o0 + 2 * d : o0;
    const o3 = rows > 3 ? o0 + 3 * d : o0;
    for (let j = self ? i : 0; j < nb; j++) {
      const q = j * d;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < d; k++) {
        const v = B[q + k];
        s0 += A[o0 + k] * v;
        s1 += A[o1 + k] * v;
        s2 += A[o2 + k] * v;
        s3 += A[o3 + k] * v;
      }
      const sums = [s0, s1, s2, s3];
      for (let r = 0; r < rows; r++) {
        out[(i + r) * nb + j] = sums[r];
        if (self) out[j * nb + i + r] = sums[r];
      }
    }
  }
  return { data: out, n: na, m: nb };
}

/**
 * a_i . b_j for all i, j with the engine's GEMM (float32), in blocks of rows so no buffer exceeds
 * `maxBlockBytes` (default 64 MiB). Needs an initialised engine.
 */
export async function dotMatrixGpu(a: FeatureSet, b: FeatureSet, maxBlockBytes = 64 << 20): Promise<DotMatrix> {
  checkPair('dotMatrixGpu', a, b);
  const { d } = a;
  const out = new Float32Array(a.n * b.n);
  if (!a.n || !b.n) return { data: out, n: a.n, m: b.n };
  const tb = tensor(b.data.subarray(0, b.n * d), [b.n, d]);
  try {
    const rows = Math.max(1, Math.min(a.n, Math.floor(maxBlockBytes / (4 * Math.max(b.n, d)))));
    for (let i = 0; i < a.n; i += rows) {
      const r = Math.min(rows, a.n - i);
      const block = tidy(() => noGrad(() => matmul(tensor(a.data.subarray(i * d, (i + r) * d), [r, d]), tb, { transB: true })));
      out.set(await block.data(), i * b.n);
      block.dispose();
    }
  } finally {
    tb.dispose();
  }
  return { data: out, n: a.n, m: b.n };
}

/** x.x, y.y and x.y on the CPU (float64). */
export function pairwiseDotsCpu(x: FeatureSet, y: FeatureSet): PairwiseDots {
  checkPair('pairwiseDots', x, y);
  return { xx: dotMatrixCpu(x, x), yy: dotMatrixCpu(y, y), xy: dotMatrixCpu(x, y), d: x.d };
}

/** x.x, y.y and x.y on the GPU (float32). */
export async function pairwiseDotsGpu(x: FeatureSet, y: FeatureSet): Promise<PairwiseDots> {
  checkPair('pairwiseDots', x, y);
  return { xx: await dotMatrixGpu(x, x), yy: await dotMatrixGpu(y, y), xy: await dotMatrixGpu(x, y), d: x.d };
}

// ---- seeded subsets ---------------------------------------------------------------------------------

/** A small seeded PRNG (mulberry32 on a splitmix-hashed seed): floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  return mulberry32(Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b));
}

/** m distinct indices from 0..n-1 (a partial Fisher-Yates shuffle). */
export function sampleWithoutReplacement(n: number, m: number, rand: () => number): Int32Array {
  if (m > n) throw new Error(`sampleWithoutReplacement: cannot draw ${m} distinct indices from ${n}`);
  const pool = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(rand() * (n - i));
    const t = pool[i];
    pool[i] = pool[j];
    pool[j] = t;
  }
  return pool.slice(0, m);
}

// ---- KID --------------------------------------------------------------------------------------------

export interface KidOptions {
  /** Number of random subsets (default 100). */
  subsets?: number;
  /** Examples per subset and side (default 1000, capped at the smaller set). */
  subsetSize?: number;
  /** Seed of the subset draws (default 0). */
  seed?: number;
}

export interface KidResult {
  /** Mean of the per-subset MMD^2 estimates: the KID. */
  mean: number;
  /** Their standard deviation (population, over subsets). */
  std: number;
  values: Float64Array;
  subsetSize: number;
  subsets: number;
}

/** The cubic polynomial kernel of KID on a dot product: (dot / d + 1)^3. */
export const polyKernel = (dot: number, d: number): number => {
  const v = dot / d + 1;
  return v * v * v;
};

/** The unbiased MMD^2 of one pair of index sets, from precomputed dot products. */
export function mmdUnbiased(dots: PairwiseDots, ix: ArrayLike<number>, iy: ArrayLike<number>): number {
  const { d, xx, yy, xy } = dots;
  const m = ix.length;
  if (m < 2 || iy.length !== m)
    throw new Error(`mmdUnbiased: need two index sets of the same size >= 2, got ${ix.length} and ${iy.length}`);
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let a = 0; a < m; a++) {
    const rx = ix[a] * xx.m;
    const ry = iy[a] * yy.m;
    const rxy = ix[a] * xy.m;
    for (let b = 0; b < m; b++) {
      if (a !== b) {
        sxx += polyKernel(xx.data[rx + ix[b]], d);
        syy += polyKernel(yy.data[ry + iy[b]], d);
      }
      sxy += polyKernel(xy.data[rxy + iy[b]], d);
    }
  }
  return (sxx + syy) / (m * (m - 1)) - (2 * sxy) / (m * m);
}

/** KID from precomputed dot products (see kernelInceptionDistance). */
export function kidFromDots(dots: PairwiseDots, opts: KidOptions = {}): KidResult {
  const nx = dots.xx.n;
  const ny = dots.yy.n;
  const subsets = opts.subsets ?? 100;
  const m = Math.min(opts.subsetSize ?? 1000, nx, ny);
  if (!Number.isInteger(subsets) || subsets < 1) throw new Error(`kid: subsets must be a positive integer, got ${subsets}`);
  if (m < 2) throw new Error(`kid: needs at least 2 examples on each side (have ${nx} and ${ny})`);
  const rand = seededRandom(opts.seed ?? 0);
  const values = new Float64Array(subsets);
  for (let s = 0; s < subsets; s++) {
    // Sorted, so the sums walk each matrix row by row (the estimate does not depend on the order).
    const ix = sampleWithoutReplacement(nx, m, rand).sort();
    const iy = sampleWithoutReplacement(ny, m, rand).sort();
    values[s] = mmdUnbiased(dots, ix, iy);
  }
  let mean = 0;
  for (const v of values) mean += v;
  mean /= subsets;
  let varSum = 0;
  for (const v of values) varSum += (v - mean) ** 2;
  return { mean, std: Math.sqrt(varSum / subsets), values, subsetSize: m, subsets };
}

/** KID between real features x and generated features y, on the CPU (float64). */
export function kernelInceptionDistance(x: FeatureSet, y: FeatureSet, opts: KidOptions = {}): KidResult {
  return kidFromDots(pairwiseDotsCpu(x, y), opts);
}

/** KID with the dot products on the GPU (float32); for thousands of features. */
export async function kernelInceptionDistanceGpu(x: FeatureSet, y: FeatureSet, opts: KidOptions = {}): Promise<KidResult> {
  return kidFromDots(await pairwiseDotsGpu(x, y), opts);
}
