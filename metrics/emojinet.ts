// The emoji feature network: LeNet-FD's idea (lenet.ts) for colour emoji. A small ConvClassifier
// (classifier.ts) trained by the engine, from a fixed seed, to tell an emoji's category (10 classes:
// Smileys & Emotion, People & Body, ..., Flags) from its 32 x 32 RGB drawing; its penultimate layer
// gives the features of the Frechet distance, KID and precision/recall of emoji generators, and its
// predictions score text-conditioned generators (a caption's category against the category the net
// reads in the image generated from it). Browser-safe (engine ops only); the Node side that reads
// the emoji PNGs and caches the weights is cli/eval_emoji.ts.
//
// Network, on 32 x 32 x 3 in [-1, 1]:
//   conv 3x3 stride 2 pad 1, 3 -> 16, ReLU (32 -> 16); 16 -> 32 (16 -> 8); 32 -> 64 (8 -> 4);
//   fc 1024 -> 128, ReLU; fc 128 -> 64, ReLU (the features, 64-d); fc 64 -> 10 logits.
// Input geometry (toEmojiNetInput, on the GPU): 32 x 32 kept; sides that are multiples of 32 are area
// averaged (64 -> 32 is what the emoji loader's own 2x2 area averaging gives); any other side is
// resized bilinearly (align_corners false), so an 8 x 8 Stage-I image is read at 32 x 32. Real and
// generated images always take the same path.

import { Tensor, tensor, tidy } from '../engine/tensor.js';
import { noGrad } from '../engine/tape.js';
import { Generator } from '../engine/ops/random.js';
import { avgPool2d, upsampleBilinear } from '../engine/ops/spatial.js';
import { ConvClassifier, argmaxRows, initClassifier_, mapBatches } from './classifier.js';
import type { FeatureSet } from './frechet.js';

/** The net's input side. */
export const EMOJI_NET_SIZE = 32;
/** Emoji categories (the labels of data/emoji.ts loadEmojiText). */
export const EMOJI_NET_CLASSES = 10;

export interface EmojiNetRecipe {
  steps: number;
  batch: number;
  seed: number;
  lr: number;
  /** Also train on the Twemoji drawings of the training emoji (same split, same categories). */
  twemoji: boolean;
  /** Channels of the stride-2 conv stages. */
  convs: readonly number[];
  /** Hidden fully connected widths; the last is the feature length. */
  hidden: readonly number[];
}

/** The recipe behind `gan eval`'s emoji metrics. */
export const EMOJI_NET_FULL: EmojiNetRecipe = {
  steps: 400,
  batch: 64,
  seed: 0,
  lr: 1e-3,
  twemoji: true,
  convs: [16, 32, 64],
  hidden: [128, 64],
};
/** A few steps on a narrow net: for tests and smoke runs only (`gan eval --emoji-net quick`). */
export const EMOJI_NET_QUICK: EmojiNetRecipe = {
  steps: 150,
  batch: 32,
  seed: 0,
  lr: 2e-3,
  twemoji: false,
  convs: [8, 16, 32],
  hidden: [64, 32],
};

/** Bump when the architecture, the input transform or the training loop changes (renames the cache). */
export const EMOJI_NET_FORMAT = 1;

/** An untrained emoji net of `recipe`'s shape, initialised from its seed (PyTorch's default init). */
export function createEmojiNet(recipe: Pick<EmojiNetRecipe, 'convs' | 'hidden' | 'seed'>): ConvClassifier {
  const net = new ConvClassifier({
    inChannels: 3,
    size: EMOJI_NET_SIZE,
    numClasses: EMOJI_NET_CLASSES,
    convs: recipe.convs,
    kernel: 3,
    padding: 1,
    downsample: 'stride',
    hidden: recipe.hidden,
  });
  initClassifier_(net, new Generator(recipe.seed));
  return net;
}

/** RGB images [N, 3, s, s] -> [N, 3, 32, 32]: kept, area averaged (s = 32k) or bilinear (other s). */
export function toEmojiNetInput(x: Tensor): Tensor {
  if (x.rank !== 4 || x.shape[1] !== 3 || x.shape[2] !== x.shape[3])
    throw new Error(`toEmojiNetInput: expects square RGB images [N, 3, s, s], got ${x.describe()}`);
  const s = x.shape[2];
  if (s === EMOJI_NET_SIZE) return x;
  if (s % EMOJI_NET_SIZE === 0) return avgPool2d(x, s / EMOJI_NET_SIZE);
  return upsampleBilinear(x, { size: [EMOJI_NET_SIZE, EMOJI_NET_SIZE] });
}

/** RGB images as host data: n x 3 x size x size, [-1, 1]. */
export interface RgbImages {
  images: Float32Array;
  n: number;
  size: number;
}

function asRgb(who: string, images: RgbImages | Tensor): Promise<RgbImages> | RgbImages {
  if (!(images instanceof Tensor)) return images;
  if (images.rank !== 4 || images.shape[1] !== 3 || images.shape[2] !== images.shape[3])
    throw new Error(`${who}: expects square RGB images [N, 3, s, s], got ${images.describe()}`);
  const [n, , size] = images.shape;
  return images.data().then((d) => ({ images: d, n, size }));
}

/** Runs the net on images (any square size, via toEmojiNetInput) batch by batch: [n, k]. */
async function runNet(net: ConvClassifier, b: RgbImages, fn: (x: Tensor) => Tensor, batch = 256): Promise<Float32Array> {
  net.eval();
  return (await mapBatches(b.images, b.n, [3, b.size, b.size], batch, (x) => fn(toEmojiNetInput(x)))).data;
}

/** Penultimate features of images, as a FeatureSet [n, featureDim]. */
export async function emojiNetFeatureSet(net: ConvClassifier, images: RgbImages | Tensor): Promise<FeatureSet> {
  const b = await asRgb('emojiNetFeatureSet', images);
  return { data: await runNet(net, b, (x) => net.embed(x)), n: b.n, d: net.featureDim };
}

/** Predicted category of every image: Int32Array [n]. */
export async function emojiNetPredict(net: ConvClassifier, images: RgbImages | Tensor): Promise<Int32Array> {
  const b = await asRgb('emojiNetPredict', images);
  return argmaxRows(await runNet(net, b, (x) => net.call(x)), b.n, net.options.numClasses);
}

/** Fraction of positions where predicted equals the label. */
export function agreement(predicted: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (predicted.length !== labels.length) throw new Error(`agreement: ${predicted.length} predictions, ${labels.length} labels`);
  if (labels.length === 0) return NaN;
  let hits = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) hits++;
  return hits / labels.length;
}

/**
 * Chance levels of a conditional accuracy over `labels`: the class prior p (share of each class),
 * `majority` = max p (always answering the most common class) and `priorMatched` = sum p^2 (answers
 * drawn independently of the caption from the prior itself: an image model that ignores the text).
 */
export function classPrior(labels: ArrayLike<number>, numClasses: number): { prior: number[]; majority: number; priorMatched: number } {
  const count = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) count[labels[i]]++;
  const prior = count.map((c) => (labels.length ? c / labels.length : NaN));
  return { prior, majority: Math.max(...prior), priorMatched: prior.reduce((s, p) => s + p * p, 0) };
}

export interface ConditionalAccuracy {
  /** Share of generated images whose predicted category is their caption's. */
  accuracy: number;
  n: number;
  /** Predicted category of each generated image. */
  predicted: Int32Array;
}

/**
 * Conditional accuracy of a text-to-image generator: `render(start, count)` returns the images
 * generated for captions start .. start + count - 1 ([count, 3, s, s], disposed here); the emoji net
 * reads each image's category and compares it with the caption's (`labels`). Returns the images'
 * features too when `withFeatures`, so one generation pass serves FD / KID and this score.
 */
export async function conditionalAccuracy(
  net: ConvClassifier,
  render: (start: number, count: number) => Tensor,
  labels: ArrayLike<number>,
  opts: { batch?: number; withFeatures?: boolean } = {},
): Promise<ConditionalAccuracy & { features?: FeatureSet }> {
  const n = labels.length;
  const batch = opts.batch ?? 100;
  net.eval();
  const predicted = new Int32Array(n);
  let feats: Float32Array | null = null;
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    const x = render(i, m);
    try {
      if (x.rank !== 4 || x.shape[0] !== m || x.shape[1] !== 3)
        throw new Error(`conditionalAccuracy: render(${i}, ${m}) returned ${x.describe()}, expected [${m}, 3, s, s]`);
      const [logits, f] = tidy(() =>
        noGrad(() => {
          const h = net.embed(toEmojiNetInput(x));
          return [net.head.call(h), h];
        }),
      );
      const [l, fv] = await Promise.all([logits.data(), f.data()]);
      logits.dispose();
      f.dispose();
      predicted.set(argmaxRows(l, m, net.options.numClasses), i);
      if (opts.withFeatures) {
        feats ??= new Float32Array(n * net.featureDim);
        feats.set(fv, i * net.featureDim);
      }
    } finally {
      x.dispose();
    }
  }
  return {
    accuracy: agreement(predicted, labels),
    n,
    predicted,
    ...(feats ? { features: { data: feats, n, d: net.featureDim } } : {}),
  };
}

/** Rows `start .. start + count - 1` of host images as a tensor (a "generator" that returns real images). */
export function imageRows(b: RgbImages, start: number, count: number): Tensor {
  const per = 3 * b.size * b.size;
  return tensor(b.images.subarray(start * per, (start + count) * per), [count, 3, b.size, b.size]);
}
