// What image-to-image models (pix2pix, CycleGAN, DualGAN, DiscoGAN, StarGAN) share for evaluation:
// held-out (input, target) pairs, the `translate` hook, scoring with L1 / PSNR / SSIM against the
// ground truth, and sample grids laid out as rows of inputs | outputs | targets.
//
// Browser-safe (no Node imports): nets/ is bundled into the demos. Reading the held-out images is
// Node-only work (data/emoji.ts reads PNGs), so it goes through a source that the Node side
// registers once (cli/heldout.ts registers the emoji test splits; importing it is enough):
//
//   recipe.heldOutPairs(config, { limit, dataset })
//     -> heldOutEmojiPairs({ dataset, size, limit })     (this file; asks the registered source)
//     -> the dataset's test split, packed A channels then B ([n, cA + cB, h, w], like training)
//     -> splitHeldOut(packed, ...)                       (the model picks input and target)
//
// The recipes of nets/pix2pix.ts and nets/cyclegan.ts show the pattern; another image-to-image
// recipe adds the same two hooks (TranslationEval) and `gan eval` / `gan train` pick them up.

import { tensor, type Tensor } from '../../engine/index.js';
import { imageMetrics, type ImageMetrics } from '../../metrics/image.js';
import type { GanTrainer, ModelConfig, ModelRecipe } from '../registry.js';

/** Held-out (input, target) pairs for an image-to-image model, NCHW in [-1, 1]. */
export interface HeldOutPairs {
  inputs: Float32Array;
  targets: Float32Array;
  n: number;
  /** [C, H, W] of one input and of one target. */
  inputShape: readonly [number, number, number];
  targetShape: readonly [number, number, number];
}

/**
 * What an image-to-image recipe adds to ModelRecipe so `gan eval` can score it (and `gan train`
 * can log held-out metrics and draw input | output | target grids):
 *   heldOutPairs(config, { limit, dataset })  the test split at the model's size (limit: at most
 *                                   that many; dataset: the training dataset's name, whose test
 *                                   split to take; default the recipe's own dataset),
 *   translate(trainer, inputs)      the trainer's prediction for a batch of inputs, [N, C, H, W] in
 *                                   [-1, 1], without gradients, deterministic (eval mode), and
 *                                   without touching the training state (running statistics,
 *                                   random streams), so scoring mid-run keeps a resume exact.
 */
export interface TranslationEval {
  heldOutPairs(config: ModelConfig, opts: { limit?: number; dataset?: string }): HeldOutPairs | Promise<HeldOutPairs>;
  translate(trainer: GanTrainer, inputs: Tensor): Tensor;
  /**
   * Whether a run with this config also translates B -> A with a generator of its own
   * (generate(x, { direction: 'BtoA' })): CycleGAN, DualGAN, DiscoGAN (not its one-way ablations).
   */
  bothWays?(config: ModelConfig): boolean;
}

/** The recipe's TranslationEval hooks when it has both heldOutPairs and translate, else null. */
export function translationHooks(r: ModelRecipe): TranslationEval | null {
  const h = r as ModelRecipe & Partial<TranslationEval>;
  return typeof h.translate === 'function' && typeof h.heldOutPairs === 'function' ? (h as ModelRecipe & TranslationEval) : null;
}

// ---- the held-out source -----------------------------------------------------------------------------

/** A dataset's held-out split, packed like its training split: A's channels, then B's. */
export interface PackedPairs {
  data: Float32Array;
  n: number;
  /** Channels of A and of B in each row. */
  channelsA: number;
  channelsB: number;
  size: number;
  /** Names of the examples (e.g. emoji names), in order. */
  names: string[];
}

export type HeldOutSource = (opts: { dataset: string; size: number; limit?: number }) => PackedPairs | Promise<PackedPairs>;

let source: HeldOutSource | null = null;

/** Registers where held-out pairs come from (cli/heldout.ts does this for the emoji datasets). */
export function setHeldOutSource(s: HeldOutSource | null): void {
  source = s;
}

/** The held-out split of `dataset` at `size` px (at most `limit` pairs), from the registered source. */
export async function heldOutEmojiPairs(opts: { dataset: string; size: number; limit?: number }): Promise<PackedPairs> {
  if (!source) {
    throw new Error(
      `held-out pairs of '${opts.dataset}': no data source is registered (Node: import cli/heldout.js once; it registers the emoji test splits)`,
    );
  }
  return source(opts);
}

/**
 * Input and target of packed held-out pairs: A -> B, or with `swap` B -> A (pix2pix --direction BtoA,
 * CycleGAN's G_B).
 */
export function splitHeldOut(p: PackedPairs, swap = false): HeldOutPairs {
  const plane = p.size * p.size;
  const ca = p.channelsA;
  const cb = p.channelsB;
  const a = new Float32Array(p.n * ca * plane);
  const b = new Float32Array(p.n * cb * plane);
  for (let i = 0; i < p.n; i++) {
    const row = i * (ca + cb) * plane;
    a.set(p.data.subarray(row, row + ca * plane), i * ca * plane);
    b.set(p.data.subarray(row + ca * plane, row + (ca + cb) * plane), i * cb * plane);
  }
  const shapeA = [ca, p.size, p.size] as const;
  const shapeB = [cb, p.size, p.size] as const;
  return swap
    ? { inputs: b, targets: a, n: p.n, inputShape: shapeB, targetShape: shapeA }
    : { inputs: a, targets: b, n: p.n, inputShape: shapeA, targetShape: shapeB };
}

/** The first `n` pairs (a fixed held-out batch). */
export function firstPairs(p: HeldOutPairs, n: number): HeldOutPairs {
  const m = Math.min(n, p.n);
  const per = (s: readonly number[]) => s[0] * s[1] * s[2];
  return { ...p, n: m, inputs: p.inputs.slice(0, m * per(p.inputShape)), targets: p.targets.slice(0, m * per(p.targetShape)) };
}

// ---- scoring -------------------------------------------------------------------------------------------

/** The SSIM window for images of this size: 11 (the standard), or the largest odd side that fits. */
export function ssimWindowFor(h: number, w: number): number {
  const side = Math.min(h, w);
  return side >= 11 ? 11 : side % 2 ? side : side - 1;
}

export interface TranslationScores extends ImageMetrics {
  ssimWindow: number;
}

/**
 * Mean L1 (in [-1, 1] units), PSNR and SSIM (on [0, 1], data range 1; metrics/image.ts) of
 * `predict(inputs)` against the targets over all pairs, `batch` pairs per forward pass. `predict`
 * returns a tensor the caller disposes; null `predict` scores the inputs themselves (the identity
 * baseline: output = input), which needs inputs and targets of one shape.
 */
export async function scoreTranslation(
  pairs: HeldOutPairs,
  predict: ((x: Tensor) => Tensor) | null,
  batch = 50,
): Promise<TranslationScores> {
  const [ci, hi, wi] = pairs.inputShape;
  const [ct, ht, wt] = pairs.targetShape;
  if (pairs.n < 1) throw new Error('scoreTranslation: no pairs to score');
  if (!predict && (ci !== ct || hi !== ht || wi !== wt)) {
    throw new Error(
      `scoreTranslation: the identity baseline needs inputs shaped like the targets, got [${pairs.inputShape}] and [${pairs.targetShape}]`,
    );
  }
  const window = ssimWindowFor(ht, wt);
  const sums = { l1: 0, psnr: 0, ssim: 0 };
  for (let i = 0; i < pairs.n; i += batch) {
    const m = Math.min(batch, pairs.n - i);
    const x = tensor(pairs.inputs.subarray(i * ci * hi * wi, (i + m) * ci * hi * wi), [m, ci, hi, wi]);
    const y = tensor(pairs.targets.subarray(i * ct * ht * wt, (i + m) * ct * ht * wt), [m, ct, ht, wt]);
    const pred = predict ? predict(x) : x;
    try {
      const r = await imageMetrics(pred, y, { window });
      sums.l1 += r.l1 * m;
      sums.psnr += r.psnr * m;
      sums.ssim += r.ssim * m;
    } finally {
      if (pred !== x) pred.dispose();
      x.dispose();
      y.dispose();
    }
  }
  return { n: pairs.n, l1: sums.l1 / pairs.n, psnr: sums.psnr / pairs.n, ssim: sums.ssim / pairs.n, ssimWindow: window };
}

// ---- sample grids ---------------------------------------------------------------------------------------

/** 1 -> 3 channels by repetition (so a grid can mix edge maps and RGB images); 3 stays. */
export function toRgb(x: Float32Array, n: number, c: number, plane: number): Float32Array {
  if (c === 3) return x;
  if (c !== 1) throw new Error(`translationGrid: images must have 1 or 3 channels, got ${c}`);
  const out = new Float32Array(n * 3 * plane);
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) out.set(x.subarray(i * plane, (i + 1) * plane), (i * 3 + k) * plane);
  return out;
}

/**
 * Images for an input | output | target sample grid of `cols` columns: for each group of `cols`
 * pairs, a row of inputs, a row of the model's outputs, a row of targets (a short last group is
 * padded with white). Returns n x 3 x h x w images in [-1, 1] to hand to makeGrid with nrow = cols.
 */
export function translationGrid(
  inputs: Float32Array,
  outputs: Float32Array,
  targets: Float32Array,
  n: number,
  channels: { input: number; output: number; target: number },
  h: number,
  w: number,
  cols = 8,
): { images: Float32Array; n: number } {
  const plane = h * w;
  const rows = [
    toRgb(inputs, n, channels.input, plane),
    toRgb(outputs, n, channels.output, plane),
    toRgb(targets, n, channels.target, plane),
  ];
  const groups = Math.ceil(n / cols);
  const count = groups * 3 * cols;
  const img = 3 * plane;
  const images = new Float32Array(count * img).fill(1);
  for (let g = 0; g < groups; g++) {
    for (let r = 0; r < 3; r++) {
      for (let j = 0; j < cols; j++) {
        const i = g * cols + j;
        if (i >= n) break;
        images.set(rows[r].subarray(i * img, (i + 1) * img), ((g * 3 + r) * cols + j) * img);
      }
    }
  }
  return { images, n: count };
}
