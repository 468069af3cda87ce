// Full-reference image metrics for models with ground truth (pix2pix, CycleGAN test pairs, the
// autoencoder): L1, PSNR and SSIM, on the GPU with engine ops and as float64 CPU references.
//
// Value range. Images are given in `range` (default [-1, 1], the engine's convention; pass [0, 1]
// for images in [0, 1]). PSNR and SSIM are computed on the images mapped to [0, 1] with data range
// L = 1, i.e. the numbers skimage / pytorch-msssim report for the same pictures as floats in [0, 1]
// (PSNR is unchanged by the mapping; SSIM's constants C1 = (K1 L)^2, C2 = (K2 L)^2 are not shift
// invariant, so the mapping matters there). L1 is the mean |x - y| in the input's own scale (the
// pix2pix loss), so it is twice the [0, 1] value for [-1, 1] images.
//
// PSNR per image: 10 log10(L^2 / MSE) over all its pixels and channels (+Infinity when identical);
// the reported mean is over images (a set with an identical pair has mean +Infinity).
//
// SSIM (Wang et al. 2004) with the standard settings: an 11x11 Gaussian window of sigma 1.5
// (normalised to sum 1), K1 = 0.01, K2 = 0.03, local statistics over 'valid' window positions only
// (no padding: the original MATLAB code and pytorch-msssim), population (biased) local variances,
// computed per channel and averaged over channels and positions for each image. Images must be at
// least as large as the window. On the GPU the window is applied as two 1-D passes (conv2d with a
// 1 x 11 then an 11 x 1 kernel) to the five maps x, y, x^2, y^2, xy stacked along the batch; the
// CPU reference applies the full 2-D window directly, so the two agree only if both are right.
// Browser-safe (no Node imports).

import { type Tensor, fmtShape, tensor, tidy } from '../engine/tensor.js';
import { noGrad } from '../engine/tape.js';
import { abs, add, affine, div, mul, mulScalar, addScalar, square, sub } from '../engine/ops/elementwise.js';
import { mean } from '../engine/ops/reduce.js';
import { concat, narrow, reshape } from '../engine/ops/movement.js';
import { conv2d } from '../engine/ops/conv.js';

export interface ImageMetricOptions {
  /** The images' value range (default [-1, 1]). */
  range?: readonly [number, number];
}

export interface SsimOptions extends ImageMetricOptions {
  /** Window side (odd, default 11). */
  window?: number;
  /** Gaussian sigma (default 1.5). */
  sigma?: number;
  k1?: number;
  k2?: number;
  /** Images blurred per batch (default: as many as fit SSIM_CHUNK_ELEMENTS map elements). */
  chunkImages?: number;
}

/** A per-image metric and its mean over images. */
export interface PerImage {
  perImage: Float64Array;
  mean: number;
}

/** NCHW dimensions of host image arrays. */
export interface ImageShape {
  n: number;
  c: number;
  h: number;
  w: number;
}

const DEFAULT_RANGE: readonly [number, number] = [-1, 1];

function rangeOf(opts: ImageMetricOptions): [number, number] {
  const [lo, hi] = opts.range ?? DEFAULT_RANGE;
  if (!(hi > lo)) throw new Error(`image metrics: range [${lo}, ${hi}] must have hi > lo`);
  return [lo, hi];
}

function ssimSettings(opts: SsimOptions): { win: number; sigma: number; c1: number; c2: number } {
  const win = opts.window ?? 11;
  const sigma = opts.sigma ?? 1.5;
  if (!Number.isInteger(win) || win < 1 || win % 2 === 0) throw new Error(`ssim: window must be an odd positive integer, got ${win}`);
  if (!(sigma > 0)) throw new Error(`ssim: sigma must be positive, got ${sigma}`);
  // Data range L = 1 after mapping to [0, 1].
  return { win, sigma, c1: (opts.k1 ?? 0.01) ** 2, c2: (opts.k2 ?? 0.03) ** 2 };
}

/** The normalised 1-D Gaussian of `size` taps (the SSIM window is its outer product). */
export function gaussianWindow(size: number, sigma: number): Float64Array {
  const g = new Float64Array(size);
  const c = (size - 1) / 2;
  let s = 0;
  for (let i = 0; i < size; i++) s += g[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
  for (let i = 0; i < size; i++) g[i] /= s;
  return g;
}

function meanOf(v: Float64Array): number {
  let s = 0;
  for (const x of v) s += x;
  return v.length ? s / v.length : NaN;
}

const psnrFromMse = (mse: number): number => (mse === 0 ? Infinity : -10 * Math.log10(mse));

// ---- GPU ------------------------------------------------------------------------------------------

function checkPair(who: string, x: Tensor, y: Tensor): [number, number, number, number] {
  if (x.rank !== 4 || y.rank !== 4 || x.shape.some((d, i) => d !== y.shape[i])) {
    throw new Error(`${who}: expects two [N, C, H, W] tensors of the same shape, got ${fmtShape(x.shape)} and ${fmtShape(y.shape)}`);
  }
  return [x.shape[0], x.shape[1], x.shape[2], x.shape[3]];
}

/** Maps `range` to [0, 1]. */
function toUnit(x: Tensor, [lo, hi]: [number, number]): Tensor {
  return lo === 0 && hi === 1 ? x : affine(x, 1 / (hi - lo), -lo / (hi - lo));
}

/** Mean |x - y| per image (in the input's scale) on the GPU. */
export async function l1PerImage(x: Tensor, y: Tensor): Promise<PerImage> {
  checkPair('l1PerImage', x, y);
  const t = tidy(() => noGrad(() => mean(abs(sub(x, y)), [1, 2, 3])));
  const perImage = Float64Array.from(await t.data());
  t.dispose();
  return { perImage, mean: meanOf(perImage) };
}

/** PSNR per image on the GPU (see the header for the convention). */
export async function psnr(x: Tensor, y: Tensor, opts: ImageMetricOptions = {}): Promise<PerImage> {
  checkPair('psnr', x, y);
  const [lo, hi] = rangeOf(opts);
  const t = tidy(() => noGrad(() => mean(square(mulScalar(sub(x, y), 1 / (hi - lo))), [1, 2, 3])));
  const perImage = Float64Array.from(await t.data(), psnrFromMse);
  t.dispose();
  return { perImage, mean: meanOf(perImage) };
}

/** Map elements (5 maps per channel per image) blurred in one batch by ssim(). */
export const SSIM_CHUNK_ELEMENTS = 1 << 21;

/** SSIM per image on the GPU (see the header for the settings). */
export async function ssim(x: Tensor, y: Tensor, opts: SsimOptions = {}): Promise<PerImage> {
  const [n, c, h, w] = checkPair('ssim', x, y);
  const range = rangeOf(opts);
  const { win, sigma, c1, c2 } = ssimSettings(opts);
  if (h < win || w < win)
    throw new Error(`ssim: images of ${h}x${w} are smaller than the ${win}x${win} window (pass a smaller odd window)`);
  const g = Float32Array.from(gaussianWindow(win, sigma));
  // Images in chunks: the blur convolves 5 maps per channel of every image in one batch, and a
  // large set (200 RGB images at 64x64: 3000 maps) would need more workgroups in one dispatch than
  // adapters allow (65535 per dimension). Each image's SSIM is computed on its own, so chunking
  // gives the same numbers.
  const chunk = opts.chunkImages ?? Math.max(1, Math.floor(SSIM_CHUNK_ELEMENTS / (5 * c * h * w)));
  const perImage = new Float64Array(n);
  for (let i0 = 0; i0 < n; i0 += chunk) {
    const k = Math.min(chunk, n - i0);
    const t = tidy(() =>
      noGrad(() => {
        const m = k * c;
        const xs = k === n ? x : narrow(x, 0, i0, k);
        const ys = k === n ? y : narrow(y, 0, i0, k);
        const a = reshape(toUnit(xs, range), [m, 1, h, w]);
        const b = reshape(toUnit(ys, range), [m, 1, h, w]);
        const maps = concat([a, b, square(a), square(b), mul(a, b)], 0);
        const blurred = conv2d(conv2d(maps, tensor(g, [1, 1, 1, win])), tensor(g, [1, 1, win, 1]));
        const [muA, muB, eAA, eBB, eAB] = [0, 1, 2, 3, 4].map((j) => narrow(blurred, 0, j * m, m));
        const muAB = mul(muA, muB);
        const muAA = square(muA);
        const muBB = square(muB);
        const num = mul(addScalar(mulScalar(muAB, 2), c1), addScalar(mulScalar(sub(eAB, muAB), 2), c2));
        const den = mul(addScalar(add(muAA, muBB), c1), addScalar(add(sub(eAA, muAA), sub(eBB, muBB)), c2));
        const oh = h - win + 1;
        const ow = w - win + 1;
        return mean(reshape(div(num, den), [k, c * oh * ow]), 1);
      }),
    );
    perImage.set(await t.data(), i0);
    t.dispose();
  }
  return { perImage, mean: meanOf(perImage) };
}

export interface ImageMetrics {
  n: number;
  l1: number;
  psnr: number;
  ssim: number;
}

/** L1, PSNR and SSIM means of predictions against ground truth, on the GPU. */
export async function imageMetrics(pred: Tensor, target: Tensor, opts: SsimOptions = {}): Promise<ImageMetrics> {
  return {
    n: pred.shape[0],
    l1: (await l1PerImage(pred, target)).mean,
    psnr: (await psnr(pred, target, opts)).mean,
    ssim: (await ssim(pred, target, opts)).mean,
  };
}

// ---- CPU references (float64) ------------------------------------------------------------------------

function checkHost(who: string, a: ArrayLike<number>, b: ArrayLike<number>, s: ImageShape): number {
  const size = s.n * s.c * s.h * s.w;
  if (a.length < size || b.length < size)
    throw new Error(`${who}: ${s.n}x${s.c}x${s.h}x${s.w} images need ${size} values each, got ${a.length} and ${b.length}`);
  return size / Math.max(s.n, 1);
}

/** Mean |x - y| per image, float64. */
export function l1Cpu(a: ArrayLike<number>, b: ArrayLike<number>, s: ImageShape): PerImage {
  const per = checkHost('l1Cpu', a, b, s);
  const perImage = new Float64Array(s.n);
  for (let i = 0; i < s.n; i++) {
    let acc = 0;
    for (let k = i * per; k < (i + 1) * per; k++) acc += Math.abs(a[k] - b[k]);
    perImage[i] = acc / per;
  }
  return { perImage, mean: meanOf(perImage) };
}

/** PSNR per image, float64. */
export function psnrCpu(a: ArrayLike<number>, b: ArrayLike<number>, s: ImageShape, opts: ImageMetricOptions = {}): PerImage {
  const per = checkHost('psnrCpu', a, b, s);
  const [lo, hi] = rangeOf(opts);
  const perImage = new Float64Array(s.n);
  for (let i = 0; i < s.n; i++) {
    let acc = 0;
    for (let k = i * per; k < (i + 1) * per; k++) acc += ((a[k] - b[k]) / (hi - lo)) ** 2;
    perImage[i] = psnrFromMse(acc / per);
  }
  return { perImage, mean: meanOf(perImage) };
}

/** SSIM per image, float64, with the full 2-D window applied directly. */
export function ssimCpu(a: ArrayLike<number>, b: ArrayLike<number>, s: ImageShape, opts: SsimOptions = {}): PerImage {
  checkHost('ssimCpu', a, b, s);
  const [lo, hi] = rangeOf(opts);
  const { win, sigma, c1, c2 } = ssimSettings(opts);
  const { n, c, h, w } = s;
  if (h < win || w < win) throw new Error(`ssimCpu: images of ${h}x${w} are smaller than the ${win}x${win} window`);
  const g = gaussianWindow(win, sigma);
  const oh = h - win + 1;
  const ow = w - win + 1;
  const unit = (v: number) => (v - lo) / (hi - lo);
  const perImage = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (let ch = 0; ch < c; ch++) {
      const base = (i * c + ch) * h * w;
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let ma = 0;
          let mb = 0;
          let saa = 0;
          let sbb = 0;
          let sab = 0;
          for (let ky = 0; ky < win; ky++) {
            for (let kx = 0; kx < win; kx++) {
              const wt = g[ky] * g[kx];
              const k = base + (oy + ky) * w + ox + kx;
              const va = unit(a[k]);
              const vb = unit(b[k]);
              ma += wt * va;
              mb += wt * vb;
              saa += wt * va * va;
              sbb += wt * vb * vb;
              sab += wt * va * vb;
            }
          }
          const va = saa - ma * ma;
          const vb = sbb - mb * mb;
          const cov = sab - ma * mb;
          acc += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
        }
      }
    }
    perImage[i] = acc / (c * oh * ow);
  }
  return { perImage, mean: meanOf(perImage) };
}
