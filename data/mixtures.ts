// Toy distributions for mode-collapse experiments (browser-safe, no Node imports), and the metrics
// the papers report on them:
//   ringMixture   8 Gaussians on a circle of radius 2, std 0.02       (Unrolled GAN, VEEGAN, PacGAN)
//   gridMixture   25 Gaussians on a 5x5 grid at {-4,-2,0,2,4}^2, std 0.05       (VEEGAN, PacGAN)
//   madGan1d      1-D: means 10, 20, 60, 80, 110, stds 3, 3, 2, 2, 1, equal weights      (MAD-GAN)
// Metrics assign each sample to its nearest mode in std units (|x - mean_k| / std_k) and call it
// high quality when that distance is at most `threshold` (3 std by default):
//   modesCovered         modes holding at least minCount high-quality samples
//   highQualityFraction  share of samples within threshold of some mode
//   modeKL               KL(target weights || histogram of high-quality samples over modes)
// Also here: a small seeded PRNG (createRng) shared by the data modules, and MixtureSampler, which
// draws real batches of a mixture on the CPU (seeded) and uploads them already normalised, so the
// networks see values of order 1 whatever the mixture's scale (MAD-GAN's 1-D mixture spans 1..113),
// and maps generated values back for the metrics. The normalisation is an affine map fixed by the
// mixture: centre and half-width of [min(mean - 3 std), max(mean + 3 std)] per axis.

import { tensor, type Tensor } from '../engine/tensor.js';

/** A seeded pseudo-random stream: uniform floats, standard normals, integers. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (Box-Muller; the second value of each pair is kept for the next call). */
  normal(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

/**
 * sfc32 (Chris Doty-Humphrey's small fast chaotic generator) seeded through splitmix32, so seeds
 * 0, 1, 2 ... give unrelated streams. 128 bits of state; far more than these samplers need.
 */
export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed)) throw new Error(`createRng: seed must be a finite number, got ${seed}`);
  let s = Math.trunc(seed) >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const u32 = () => {
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) u32(); // let the seed's bits spread
  let spare: number | null = null;
  const next = () => u32() / 4294967296;
  return {
    next,
    normal() {
      if (spare !== null) {
        const v = spare;
        spare = null;
        return v;
      }
      let u = next();
      while (u === 0) u = next();
      const r = Math.sqrt(-2 * Math.log(u));
      const theta = 2 * Math.PI * next();
      spare = r * Math.sin(theta);
      return r * Math.cos(theta);
    },
    int(n: number) {
      if (!Number.isInteger(n) || n < 1 || n > 4294967296) throw new Error(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
      return Math.floor(next() * n);
    },
  };
}

/** An isotropic Gaussian mixture: mode k is N(means[k], stds[k]^2 I), drawn with weights[k]. */
export interface Mixture {
  name: string;
  dim: number;
  /** Number of modes. */
  k: number;
  /** k x dim, row-major. */
  means: Float64Array;
  stds: Float64Array;
  /** Mixing weights, summing to 1. */
  weights: Float64Array;
}

function mixture(name: string, dim: number, means: number[], stds: number[], weights?: number[]): Mixture {
  const k = stds.length;
  if (means.length !== k * dim) throw new Error(`mixture '${name}': ${means.length} mean values for ${k} modes of dimension ${dim}`);
  if (stds.some((s) => !(s > 0))) throw new Error(`mixture '${name}': stds must be positive, got [${stds.join(', ')}]`);
  const w = weights ?? new Array<number>(k).fill(1);
  if (w.length !== k || w.some((x) => !(x >= 0))) throw new Error(`mixture '${name}': need ${k} non-negative weights`);
  const total = w.reduce((s, x) => s + x, 0);
  if (!(total > 0)) throw new Error(`mixture '${name}': weights sum to zero`);
  return {
    name,
    dim,
    k,
    means: Float64Array.from(means),
    stds: Float64Array.from(stds),
    weights: Float64Array.from(w, (x) => x / total),
  };
}

/** `modes` Gaussians evenly spaced on a circle (the first at angle 0). */
export function ringMixture({ modes = 8, radius = 2, std = 0.02 }: { modes?: number; radius?: number; std?: number } = {}): Mixture {
  const means: number[] = [];
  for (let i = 0; i < modes; i++) {
    const a = (2 * Math.PI * i) / modes;
    means.push(radius * Math.cos(a), radius * Math.sin(a));
  }
  return mixture(`ring${modes}`, 2, means, new Array<number>(modes).fill(std));
}

/** side x side Gaussians on a grid centred at the origin, `spacing` apart (default {-4,-2,0,2,4}^2). */
export function gridMixture({ side = 5, spacing = 2, std = 0.05 }: { side?: number; spacing?: number; std?: number } = {}): Mixture {
  const means: number[] = [];
  const c = (side - 1) / 2;
  for (let i = 0; i < side; i++) for (let j = 0; j < side; j++) means.push((i - c) * spacing, (j - c) * spacing);
  return mixture(`grid${side * side}`, 2, means, new Array<number>(side * side).fill(std));
}

/** MAD-GAN's 1-D mixture of five Gaussians. */
export function madGan1dMixture(): Mixture {
  return mixture('madgan1d', 1, [10, 20, 60, 80, 110], [3, 3, 2, 2, 1]);
}

/** n samples (n x dim, row-major) and the mode each was drawn from. */
export function sampleMixture(mix: Mixture, n: number, seed: number): { samples: Float32Array; modes: Int32Array } {
  if (!Number.isInteger(n) || n < 0) throw new Error(`sampleMixture: n must be a non-negative integer, got ${n}`);
  const rng = createRng(seed);
  const cdf = new Float64Array(mix.k);
  let acc = 0;
  for (let j = 0; j < mix.k; j++) cdf[j] = acc += mix.weights[j];
  const samples = new Float32Array(n * mix.dim);
  const modes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.next() * acc;
    let m = 0;
    while (m < mix.k - 1 && u >= cdf[m]) m++;
    modes[i] = m;
    for (let d = 0; d < mix.dim; d++) samples[i * mix.dim + d] = mix.means[m * mix.dim + d] + mix.stds[m] * rng.normal();
  }
  return { samples, modes };
}

export interface ModeAssignment {
  /** Nearest mode of each sample, in std units. */
  nearest: Int32Array;
  /** 1 where the sample is within threshold stds of its nearest mode. */
  highQuality: Uint8Array;
  /** High-quality samples per mode. */
  counts: Uint32Array;
  /** Total high-quality samples. */
  highQualityTotal: number;
}

function checkSamples(who: string, samples: ArrayLike<number>, mix: Mixture): number {
  if (samples.length % mix.dim !== 0) throw new Error(`${who}: ${samples.length} values are not a whole number of ${mix.dim}-D samples`);
  return samples.length / mix.dim;
}

/** Nearest mode of every sample (distance scaled by that mode's std) and whether it is within `threshold` stds. */
export function assignModes(samples: ArrayLike<number>, mix: Mixture, threshold = 3): ModeAssignment {
  const n = checkSamples('assignModes', samples, mix);
  const nearest = new Int32Array(n);
  const highQuality = new Uint8Array(n);
  const counts = new Uint32Array(mix.k);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let best = -1;
    let bestD2 = Infinity;
    for (let j = 0; j < mix.k; j++) {
      let d2 = 0;
      for (let d = 0; d < mix.dim; d++) {
        const diff = samples[i * mix.dim + d] - mix.means[j * mix.dim + d];
        d2 += diff * diff;
      }
      d2 /= mix.stds[j] * mix.stds[j];
      if (d2 < bestD2) {
        bestD2 = d2;
        best = j;
      }
    }
    nearest[i] = best;
    // NaN samples compare false everywhere: best stays -1 and they count as low quality.
    if (best >= 0 && bestD2 <= threshold * threshold) {
      highQuality[i] = 1;
      counts[best]++;
      total++;
    }
  }
  return { nearest, highQuality, counts, highQualityTotal: total };
}

/**
 * KL(target || empirical) over modes, the empirical distribution being counts plus `pseudoCount`
 * per mode (0.5, the Krichevsky-Trofimov estimate, keeps a missed mode's penalty finite; 0 makes it
 * infinite). Infinity when there are no counts at all. Natural log.
 */
export function klTargetToCounts(counts: ArrayLike<number>, target: ArrayLike<number>, pseudoCount = 0.5): number {
  if (counts.length !== target.length) throw new Error(`klTargetToCounts: ${counts.length} counts but ${target.length} target weights`);
  let total = 0;
  for (let j = 0; j < counts.length; j++) total += counts[j];
  if (total === 0) return Infinity;
  const denom = total + pseudoCount * counts.length;
  let kl = 0;
  for (let j = 0; j < counts.length; j++) {
    const t = target[j];
    if (t === 0) continue;
    const p = (counts[j] + pseudoCount) / denom;
    kl += p === 0 ? Infinity : t * Math.log(t / p);
  }
  return kl;
}

/** KL(empirical || target): finite whenever the target covers every mode (0 log 0 = 0). Infinity with no counts. */
export function klCountsToTarget(counts: ArrayLike<number>, target: ArrayLike<number>): number {
  if (counts.length !== target.length) throw new Error(`klCountsToTarget: ${counts.length} counts but ${target.length} target weights`);
  let total = 0;
  for (let j = 0; j < counts.length; j++) total += counts[j];
  if (total === 0) return Infinity;
  let kl = 0;
  for (let j = 0; j < counts.length; j++) {
    if (counts[j] === 0) continue;
    const p = counts[j] / total;
    kl += target[j] === 0 ? Infinity : p * Math.log(p / target[j]);
  }
  return kl;
}

export interface ModeMetricOptions {
  /** High-quality radius in stds of the nearest mode (default 3). */
  threshold?: number;
  /** High-quality samples a mode needs to count as covered (default 1). */
  minCount?: number;
  /** Added to every mode's count for KL(target || empirical) (default 0.5). */
  pseudoCount?: number;
}

export interface ModeStats {
  /** Modes with at least minCount high-quality samples. */
  covered: number;
  /** Fraction of samples within threshold of some mode. */
  highQuality: number;
  /** KL(target || empirical histogram of high-quality samples), smoothed by pseudoCount. */
  kl: number;
  /** KL(empirical || target), unsmoothed (the direction Unrolled GAN / VEEGAN tables use). */
  klReverse: number;
  /** High-quality samples per mode. */
  counts: Uint32Array;
}

/** All mode metrics from one assignment pass. */
export function modeStats(samples: ArrayLike<number>, mix: Mixture, options: ModeMetricOptions = {}): ModeStats {
  const { threshold = 3, minCount = 1, pseudoCount = 0.5 } = options;
  const n = checkSamples('modeStats', samples, mix);
  const a = assignModes(samples, mix, threshold);
  let covered = 0;
  for (let j = 0; j < mix.k; j++) if (a.counts[j] >= minCount) covered++;
  return {
    covered,
    highQuality: n === 0 ? 0 : a.highQualityTotal / n,
    kl: klTargetToCounts(a.counts, mix.weights, pseudoCount),
    klReverse: klCountsToTarget(a.counts, mix.weights),
    counts: a.counts,
  };
}

/** Number of modes holding at least minCount samples within `threshold` stds. */
export function modesCovered(samples: ArrayLike<number>, mix: Mixture, threshold = 3, minCount = 1): number {
  return modeStats(samples, mix, { threshold, minCount }).covered;
}

/** Fraction of samples within `threshold` stds of their nearest mode. */
export function highQualityFraction(samples: ArrayLike<number>, mix: Mixture, threshold = 3): number {
  return modeStats(samples, mix, { threshold }).highQuality;
}

/** KL(mixture weights || histogram of high-quality samples over modes); see klTargetToCounts. */
export function modeKL(samples: ArrayLike<number>, mix: Mixture, { threshold = 3, pseudoCount = 0.5 }: ModeMetricOptions = {}): number {
  return modeStats(samples, mix, { threshold, pseudoCount }).kl;
}

/** Draws normalised real batches of a mixture and maps values between data and network scale. */
export class MixtureSampler {
  readonly center: Float64Array;
  readonly scale: Float64Array;
  private readonly rng: Rng;

  constructor(
    readonly mix: Mixture,
    seed: number,
  ) {
    const { dim, k } = mix;
    this.center = new Float64Array(dim);
    this.scale = new Float64Array(dim);
    for (let a = 0; a < dim; a++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let j = 0; j < k; j++) {
        lo = Math.min(lo, mix.means[j * dim + a] - 3 * mix.stds[j]);
        hi = Math.max(hi, mix.means[j * dim + a] + 3 * mix.stds[j]);
      }
      this.center[a] = (lo + hi) / 2;
      this.scale[a] = (hi - lo) / 2;
    }
    this.rng = createRng(seed);
  }

  get dim(): number {
    return this.mix.dim;
  }

  /** n samples [n, dim] in network scale (drawn on the CPU: mode by weight, then Gaussian). */
  batch(n: number): Tensor {
    return tensor(this.toNetwork(this.draw(n)), [n, this.mix.dim]);
  }

  /** n raw samples in data scale. */
  draw(n: number): Float32Array {
    const { dim, k, means, stds, weights } = this.mix;
    const out = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) {
      let u = this.rng.next();
      let m = 0;
      while (m < k - 1 && u >= weights[m]) u -= weights[m++];
      for (let a = 0; a < dim; a++) out[i * dim + a] = means[m * dim + a] + stds[m] * this.rng.normal();
    }
    return out;
  }

  toNetwork(values: Float32Array): Float32Array {
    const d = this.mix.dim;
    return values.map((v, i) => (v - this.center[i % d]) / this.scale[i % d]);
  }

  toData(values: Float32Array): Float32Array {
    const d = this.mix.dim;
    return values.map((v, i) => v * this.scale[i % d] + this.center[i % d]);
  }
}
