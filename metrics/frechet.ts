// The Frechet distance between two feature distributions, each summarised by its mean and
// covariance (FID's formula, here on LeNet features since Inception weights cannot be downloaded):
//
//   FD = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr( (S1^1/2 S2 S1^1/2)^1/2 )
//
// The cross term uses the symmetric form S1^1/2 S2 S1^1/2 (similar to S1 S2, so it has the same
// trace of the square root), which is symmetric positive semi-definite: both square roots come
// from a symmetric eigendecomposition (cyclic Jacobi, exact enough and fast for d <= a few
// hundred), with eigenvalues clamped at 0 against round-off. No complex parts, no Newton-Schulz
// iteration, nothing that can fail to converge on a singular covariance.
// Everything runs on the CPU in float64. Browser-safe (no Node imports).

/** n feature vectors of length d, row-major (n x d). */
export interface FeatureSet {
  data: Float32Array | Float64Array;
  n: number;
  d: number;
}

/** Mean and covariance of a feature set (the sufficient statistics of the Frechet distance). */
export interface FeatureStats {
  /** [d] */
  mu: Float64Array;
  /** [d, d], row-major, unbiased (divided by n - 1, as numpy.cov). */
  sigma: Float64Array;
  d: number;
  n: number;
}

/** A FeatureSet over `data` with rows of length d. */
export function featureSet(data: Float32Array | Float64Array, d: number): FeatureSet {
  if (!Number.isInteger(d) || d < 1) throw new Error(`featureSet: d must be a positive integer, got ${d}`);
  if (data.length % d !== 0) throw new Error(`featureSet: ${data.length} values are not whole rows of ${d}`);
  return { data, n: data.length / d, d };
}

export function checkFeatureSet(who: string, f: FeatureSet): void {
  if (!Number.isInteger(f.n) || f.n < 0 || !Number.isInteger(f.d) || f.d < 1)
    throw new Error(`${who}: invalid feature set (n = ${f.n}, d = ${f.d})`);
  if (f.data.length < f.n * f.d) throw new Error(`${who}: ${f.n} features of length ${f.d} need ${f.n * f.d} values, got ${f.data.length}`);
}

/** Mean and unbiased covariance (two passes, float64). Needs n >= 2. */
export function featureStats(f: FeatureSet): FeatureStats {
  checkFeatureSet('featureStats', f);
  const { data, n, d } = f;
  if (n < 2) throw new Error(`featureStats: a covariance needs at least 2 samples, got ${n}`);
  const mu = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mu[j] += data[i * d + j];
  for (let j = 0; j < d; j++) mu[j] /= n;
  const sigma = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = data[i * d + j] - mu[j];
    // Upper triangle only; mirrored below.
    for (let a = 0; a < d; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      const off = a * d;
      for (let b = a; b < d; b++) sigma[off + b] += ra * row[b];
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = sigma[a * d + b] / (n - 1);
      sigma[a * d + b] = v;
      sigma[b * d + a] = v;
    }
  }
  return { mu, sigma, d, n };
}

export interface SymmetricEigen {
  /** Eigenvalues, in no particular order. */
  values: Float64Array;
  /** Eigenvectors as columns of a row-major d x d matrix: vector i is (vectors[k * d + i])_k. */
  vectors: Float64Array;
  sweeps: number;
}

/**
 * Eigendecomposition of a symmetric d x d matrix (row-major; only its symmetric part is used) by
 * cyclic Jacobi rotations, A = V diag(values) V^T. Stops when the off-diagonal mass is below
 * 1e-22 of the total (about machine precision squared) or after maxSweeps.
 */
export function symmetricEigen(matrix: ArrayLike<number>, d: number, maxSweeps = 60): SymmetricEigen {
  if (matrix.length < d * d) throw new Error(`symmetricEigen: a ${d}x${d} matrix needs ${d * d} values, got ${matrix.length}`);
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a[i * d + j] = 0.5 * (matrix[i * d + j] + matrix[j * d + i]);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  let total = 0;
  for (let i = 0; i < d * d; i++) total += a[i] * a[i];
  let sweeps = 0;
  for (; sweeps < maxSweeps; sweeps++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += 2 * a[p * d + q] * a[p * d + q];
    if (!(off > 1e-22 * total) || off === 0) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (apq === 0) continue;
        const app = a[p * d + p];
        const aqq = a[q * d + q];
        // Rotation angle that zeroes a[p][q]: t = tan(phi), the smaller root of t^2 + 2 theta t - 1 = 0.
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // A <- J^T A J with J the identity except J[p][p] = J[q][q] = c, J[p][q] = s, J[q][p] = -s.
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p];
          const akq = a[k * d + q];
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k];
          const aqk = a[q * d + k];
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        a[p * d + q] = 0;
        a[q * d + p] = 0;
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p];
          const vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = a[i * d + i];
  return { values, vectors: v, sweeps };
}

/** The PSD square root V diag(sqrt(max(lambda, 0))) V^T of a symmetric matrix. */
export function sqrtmPsd(matrix: ArrayLike<number>, d: number): Float64Array {
  const { values, vectors } = symmetricEigen(matrix, d);
  const r = values.map((l) => Math.sqrt(Math.max(l, 0)));
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += vectors[i * d + k] * r[k] * vectors[j * d + k];
      out[i * d + j] = s;
      out[j * d + i] = s;
    }
  }
  return out;
}

/** c = a b for d x d row-major matrices (float64). */
function matmulSquare(a: Float64Array, b: ArrayLike<number>, d: number): Float64Array {
  const c = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k];
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) c[i * d + j] += aik * b[k * d + j];
    }
  }
  return c;
}

export interface FrechetTerms {
  /** The Frechet distance (never negative: round-off below 0 is reported as 0). */
  fd: number;
  /** |mu1 - mu2|^2 */
  meanTerm: number;
  /** tr(S1) + tr(S2) - 2 tr sqrt(S1^1/2 S2 S1^1/2) */
  covTerm: number;
}

/** The Frechet distance between two Gaussians N(mu1, S1), N(mu2, S2), with its two terms. */
export function frechetTerms(a: Pick<FeatureStats, 'mu' | 'sigma' | 'd'>, b: Pick<FeatureStats, 'mu' | 'sigma' | 'd'>): FrechetTerms {
  if (a.d !== b.d) throw new Error(`frechetDistance: the feature sizes differ (${a.d} vs ${b.d})`);
  const d = a.d;
  let meanTerm = 0;
  for (let i = 0; i < d; i++) meanTerm += (a.mu[i] - b.mu[i]) ** 2;
  const root1 = sqrtmPsd(a.sigma, d);
  const m = matmulSquare(matmulSquare(root1, b.sigma, d), root1, d);
  const { values } = symmetricEigen(m, d);
  let trRoot = 0;
  for (const l of values) trRoot += Math.sqrt(Math.max(l, 0));
  let tr1 = 0;
  let tr2 = 0;
  for (let i = 0; i < d; i++) {
    tr1 += a.sigma[i * d + i];
    tr2 += b.sigma[i * d + i];
  }
  const covTerm = tr1 + tr2 - 2 * trRoot;
  return { fd: Math.max(meanTerm + covTerm, 0), meanTerm, covTerm };
}

/** The Frechet distance between two Gaussians given by their statistics. */
export function frechetDistance(a: Pick<FeatureStats, 'mu' | 'sigma' | 'd'>, b: Pick<FeatureStats, 'mu' | 'sigma' | 'd'>): number {
  return frechetTerms(a, b).fd;
}

/** The Frechet distance between the Gaussians fitted to two feature sets. */
export function frechetDistanceOf(x: FeatureSet, y: FeatureSet): number {
  return frechetDistance(featureStats(x), featureStats(y));
}
