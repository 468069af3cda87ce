// Improved precision and recall (Kynkaanniemi et al. 2019, "Improved Precision and Recall Metric
// for Assessing Generative Models"), on any features (LeNet here).
//
// Each set's manifold is approximated by the union of balls around its points, the radius of the
// ball at a point being the distance to its k-th nearest neighbour in the same set (k = 3 by
// default, itself excluded). Then
//   precision = fraction of generated points inside the real manifold  (sample quality),
//   recall    = fraction of real points inside the generated manifold  (coverage / diversity).
// A point is inside a manifold when its distance to some point p of it is <= p's radius.
//
// Squared distances come from the dot products of kid.ts, |a - b|^2 = a.a + b.b - 2 a.b (CPU
// float64, or GPU float32 for thousands of points); the paper's reference code does the same.
// Browser-safe (no Node imports).

import type { FeatureSet } from './frechet.js';
import { pairwiseDotsCpu, pairwiseDotsGpu, type DotMatrix, type PairwiseDots } from './kid.js';

export interface PrecisionRecallOptions {
  /** Neighbour whose distance sets each ball's radius (default 3). */
  k?: number;
}

export interface PrecisionRecall {
  precision: number;
  recall: number;
  k: number;
}

/** Squared distance from row i of a to row j of b, given the dot-product matrices. */
function dist2(ab: DotMatrix, aa: DotMatrix, bb: DotMatrix, i: number, j: number): number {
  return Math.max(aa.data[i * aa.m + i] + bb.data[j * bb.m + j] - 2 * ab.data[i * ab.m + j], 0);
}

/**
 * The squared k-NN radius of every point of a set from its self dot-product matrix: the k-th
 * smallest squared distance to the other points (infinite when the set has k points or fewer).
 */
export function knnRadii2(self: DotMatrix, k: number): Float64Array {
  const n = self.n;
  const radii = new Float64Array(n);
  const best = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    best.fill(Infinity);
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const v = dist2(self, self, self, i, j);
      if (v >= best[k - 1]) continue;
      // Insert into the sorted list of the k smallest.
      let p = k - 1;
      while (p > 0 && best[p - 1] > v) {
        best[p] = best[p - 1];
        p--;
      }
      best[p] = v;
    }
    radii[i] = best[k - 1];
  }
  return radii;
}

/** Fraction of the query points (rows of `qm`) inside some ball of the manifold (columns). */
function coverage(qm: DotMatrix, qq: DotMatrix, mm: DotMatrix, radii2: Float64Array, transposed: boolean): number {
  // qm holds query.manifold dot products, or manifold.query when `transposed`.
  const nq = transposed ? qm.m : qm.n;
  const nm = transposed ? qm.n : qm.m;
  let inside = 0;
  for (let q = 0; q < nq; q++) {
    const qn = qq.data[q * qq.m + q];
    for (let p = 0; p < nm; p++) {
      const dot = transposed ? qm.data[p * qm.m + q] : qm.data[q * qm.m + p];
      const d2 = Math.max(qn + mm.data[p * mm.m + p] - 2 * dot, 0);
      if (d2 <= radii2[p]) {
        inside++;
        break;
      }
    }
  }
  return nq ? inside / nq : NaN;
}

/** Precision and recall from precomputed dot products of real (x) and generated (y) features. */
export function precisionRecallFromDots(dots: PairwiseDots, opts: PrecisionRecallOptions = {}): PrecisionRecall {
  const k = opts.k ?? 3;
  if (!Number.isInteger(k) || k < 1) throw new Error(`precisionRecall: k must be a positive integer, got ${k}`);
  const { xx, yy, xy } = dots;
  if (xx.n <= k || yy.n <= k)
    throw new Error(`precisionRecall: each set needs more than k = ${k} points (have ${xx.n} real, ${yy.n} generated)`);
  const realRadii = knnRadii2(xx, k);
  const fakeRadii = knnRadii2(yy, k);
  // precision: generated points (columns of xy) inside the real manifold (rows of xy).
  const precision = coverage(xy, yy, xx, realRadii, true);
  // recall: real points (rows of xy) inside the generated manifold.
  const recall = coverage(xy, xx, yy, fakeRadii, false);
  return { precision, recall, k };
}

/** Improved precision/recall of generated features y against real features x (CPU, float64). */
export function precisionRecall(x: FeatureSet, y: FeatureSet, opts: PrecisionRecallOptions = {}): PrecisionRecall {
  return precisionRecallFromDots(pairwiseDotsCpu(x, y), opts);
}

/** The same with the dot products on the GPU (float32). */
export async function precisionRecallGpu(x: FeatureSet, y: FeatureSet, opts: PrecisionRecallOptions = {}): Promise<PrecisionRecall> {
  return precisionRecallFromDots(await pairwiseDotsGpu(x, y), opts);
}
