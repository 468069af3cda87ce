// The LeNet feature extractor that stands in for Inception (whose weights cannot be downloaded
// here): a LeNet-5-shaped digit classifier trained by the engine on MNIST from a fixed seed, whose
// 84-wide penultimate layer gives the features of the Frechet distance, KID and precision/recall
// of MNIST generators, and whose predictions count Stacked-MNIST modes. Node only (reads MNIST and
// the weights cache); the pieces it builds on (classifier.ts, frechet.ts, kid.ts, ...) are not.
//
// Network (classifier.ts ConvClassifier), on 32 x 32 digits in [-1, 1]: LeNet-5's layout in its
// all-convolutional form, each conv + 2x2 pool pair replaced by one stride-2 conv (the same 14 x 14
// and 5 x 5 maps at a fraction of the cost on a software adapter), with the convs a little wider:
//   conv 5x5 stride 2 1->16, ReLU (32 -> 14); conv 5x5 stride 2 16->32, ReLU (14 -> 5);
//   fc 800->120, ReLU; fc 120->84, ReLU (the features); fc 84->10.
// MNIST's 28 x 28 digits are padded to 32 x 32 with background (-1), as LeNet-5 was fed and as the
// DCGAN recipe trains on them; images of another size are resized to 32 x 32 (bilinear) first
// (toLeNetInput), real and generated alike. Multi-channel images (Stacked MNIST) are read one
// channel at a time: c digits per image, features concatenated to [n, 84 c].
//
// Recipes: LENET_FULL (Adam 1e-3, batch 64, 2 epochs, lr / 10 for the last quarter) is the one the
// metrics use; LENET_QUICK (200 steps) is for tests. The trained weights are cached as a plain
// safetensors state_dict under .cache/metrics/ (or $GAN_METRICS_CACHE), named after the recipe; the
// full recipe's file is also shipped in zoo/judges/ and read first (classifier_cache.ts); a missing
// or unreadable file is retrained, reproducibly, from the recipe's seed.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from '../engine/tensor.js';
import { Generator } from '../engine/ops/random.js';
import { saveModel } from '../engine/checkpoint_node.js';
import { loadOrTrainClassifier } from './classifier_cache.js';
import { loadMnist, padImages, resizeBilinearCpu } from '../data/mnist.js';
import { countModes, type StackedModeCount } from '../data/stacked_mnist.js';
import {
  ConvClassifier,
  classifierAccuracy,
  classifierFeatures,
  classifierPredict,
  initClassifier_,
  trainClassifier,
  type LabeledImages,
} from './classifier.js';
import { featureStats, frechetTerms, type FeatureSet } from './frechet.js';
import { kidFromDots, pairwiseDotsCpu, pairwiseDotsGpu, type KidOptions } from './kid.js';
import { precisionRecallFromDots } from './precision_recall.js';

/** LeNet's input side. */
export const LENET_SIZE = 32;
/** Length of a LeNet feature vector (per channel). */
export const LENET_FEATURES = 84;

export interface LeNetRecipe {
  steps: number;
  batch: number;
  seed: number;
  lr: number;
}

/** The recipe behind the cached metric network: 2 epochs of MNIST's 60k digits. */
export const LENET_FULL: LeNetRecipe = { steps: 1875, batch: 64, seed: 0, lr: 1e-3 };
/** A fast recipe for tests (a few seconds on a GPU; about >90% test accuracy). */
export const LENET_QUICK: LeNetRecipe = { steps: 200, batch: 64, seed: 0, lr: 2e-3 };

/** Bump when the architecture, the data pipeline or the training loop changes (renames the cache). */
const LENET_FORMAT = 3;

/** An untrained LeNet initialised from `seed`. */
export function createLeNet(seed = 0): ConvClassifier {
  const net = new ConvClassifier({
    inChannels: 1,
    size: LENET_SIZE,
    numClasses: 10,
    convs: [16, 32],
    kernel: 5,
    downsample: 'stride',
    hidden: [120, 84],
  });
  initClassifier_(net, new Generator(seed));
  return net;
}

/** Images (any NCHW batch of digits in [-1, 1]) as host data. */
export interface ImageBatch {
  images: Float32Array;
  n: number;
  c: number;
  h: number;
  w: number;
}

/** A Tensor [N, C, H, W] as an ImageBatch (reads it back). */
export async function imageBatchOf(t: Tensor): Promise<ImageBatch> {
  if (t.rank !== 4) throw new Error(`imageBatchOf: expects [N, C, H, W], got ${t.describe()}`);
  const [n, c, h, w] = t.shape;
  return { images: await t.data(), n, c, h, w };
}

/**
 * Digits as LeNet input [n c, 1, 32, 32]: every channel becomes one digit; 28 x 28 is padded with
 * background (-1), 32 x 32 kept, any other size resized bilinearly.
 */
export function toLeNetInput(b: ImageBatch): Float32Array {
  const { n, c, h, w } = b;
  const m = n * c;
  const src = b.images.subarray(0, m * h * w);
  if (h === LENET_SIZE && w === LENET_SIZE) return src;
  if (h === 28 && w === 28) return padImages(src, m, h, w, 2, -1);
  return resizeBilinearCpu(src, m, 1, h, w, LENET_SIZE, LENET_SIZE);
}

/** MNIST digits at LeNet's geometry (32 x 32, [-1, 1]). */
export function loadMnistForLeNet(split: 'train' | 'test', limit?: number): LabeledImages {
  const m = loadMnist({ split, limit, pad32: true });
  return { images: m.images, labels: m.labels, n: m.n, c: 1, h: m.h, w: m.w };
}

export interface TrainLeNetOptions extends Partial<LeNetRecipe> {
  /** Train on the first `limit` MNIST training digits only. */
  limit?: number;
  /** Read the loss back every this many steps (default 50) and pass it to onLog. */
  logEvery?: number;
  onLog?: (step: number, loss: number) => void;
}

/** Trains a LeNet on MNIST (train split) with a recipe (defaults: LENET_FULL); `net` defaults to a fresh one from the seed. */
export async function trainLeNet(opts: TrainLeNetOptions = {}, net?: ConvClassifier): Promise<ConvClassifier> {
  const r: LeNetRecipe = { ...LENET_FULL, ...opts };
  net ??= createLeNet(r.seed);
  const train = loadMnistForLeNet('train', opts.limit);
  await trainClassifier(net, train, { steps: r.steps, batch: r.batch, seed: r.seed, lr: r.lr, logEvery: opts.logEvery, onLog: opts.onLog });
  return net;
}

/** Test accuracy of a digit classifier on labelled digits (any size: converted to LeNet input). */
export async function evaluate(model: ConvClassifier, test: LabeledImages): Promise<number> {
  if (test.c !== 1) throw new Error(`evaluate: expects single-channel digits, got ${test.c} channels`);
  return classifierAccuracy(model, { ...test, images: toLeNetInput(test), h: LENET_SIZE, w: LENET_SIZE });
}

/**
 * LeNet features of a batch of digit images: Float32Array [n, 84 c] (each channel's 84 features
 * side by side; [n, 84] for ordinary MNIST images).
 */
export async function features(model: ConvClassifier, images: ImageBatch | Tensor): Promise<Float32Array> {
  const b = images instanceof Tensor ? await imageBatchOf(images) : images;
  // [n c, 84] row-major is [n, 84 c]: each image's channels' features side by side.
  return classifierFeatures(model, toLeNetInput(b), b.n * b.c);
}

/** Predicted digit of every channel of every image: Uint8Array [n, c]. */
export async function predictDigits(model: ConvClassifier, images: ImageBatch | Tensor): Promise<Uint8Array> {
  const b = images instanceof Tensor ? await imageBatchOf(images) : images;
  return Uint8Array.from(await classifierPredict(model, toLeNetInput(b), b.n * b.c));
}

/** Mode coverage of generated Stacked-MNIST images (n x 3 x h x w) through the digit classifier. */
export async function stackedMnistModes(model: ConvClassifier, images: ImageBatch | Tensor): Promise<StackedModeCount> {
  const b = images instanceof Tensor ? await imageBatchOf(images) : images;
  if (b.c !== 3) throw new Error(`stackedMnistModes: expects 3-channel Stacked-MNIST images, got ${b.c} channels`);
  return countModes(await predictDigits(model, b));
}

// ---- the cached metric network ----------------------------------------------------------------------

export function defaultMetricsCacheDir(): string {
  return process.env.GAN_METRICS_CACHE || join(process.cwd(), '.cache', 'metrics');
}

/** The cache file of a recipe. */
export function leNetCachePath(r: LeNetRecipe, dir = defaultMetricsCacheDir()): string {
  return join(dir, `lenet-v${LENET_FORMAT}-s${r.seed}-n${r.steps}-b${r.batch}-lr${r.lr}.safetensors`);
}

/** What a LeNet cache file records besides the weights: the recipe, the format, accuracy and time. */
function leNetMetadata(recipe: LeNetRecipe, testAccuracy?: number, seconds?: number): Record<string, string> {
  return {
    recipe: JSON.stringify(recipe),
    format_version: String(LENET_FORMAT),
    test_accuracy: String(testAccuracy ?? NaN),
    train_seconds: (seconds ?? NaN).toFixed(1),
  };
}

/** Writes a trained LeNet to its recipe's cache file (a plain state_dict plus the recipe as metadata). */
export async function saveLeNet(
  model: ConvClassifier,
  recipe: LeNetRecipe,
  opts: { dir?: string; testAccuracy?: number; seconds?: number } = {},
): Promise<string> {
  const dir = opts.dir ?? defaultMetricsCacheDir();
  const path = leNetCachePath(recipe, dir);
  mkdirSync(dir, { recursive: true });
  await saveModel(path, model, leNetMetadata(recipe, opts.testAccuracy, opts.seconds));
  return path;
}

export interface CachedLeNet {
  model: ConvClassifier;
  path: string;
  /** True when the weights came from a file (shipped or cache). */
  cached: boolean;
  /** Where they came from: the shipped judges (zoo/judges/), the cache, or trained now. */
  source: 'shipped' | 'cache' | 'trained';
  /** MNIST test accuracy (all 10k digits), measured after training and stored with the weights. */
  testAccuracy: number;
  /** Training time in seconds (0 when cached). */
  seconds: number;
}

export interface LoadLeNetOptions {
  /** The cache folder (default defaultMetricsCacheDir()). */
  dir?: string;
  /** The shipped file read first (default zoo/judges/<cache file name>, classifier_cache.ts); null: none. */
  shipped?: string | null;
  /** Ignore the shipped and cached files and retrain. */
  retrain?: boolean;
  /** Progress lines (training steps, where the file goes). */
  log?: (line: string) => void;
}

/**
 * The LeNet of `recipe`: the shipped file (zoo/judges/), else the cache, each used only when its metadata
 * holds this recipe and format; trained (and cached) when neither is.
 */
export async function loadOrTrainLeNet(recipe: LeNetRecipe = LENET_FULL, opts: LoadLeNetOptions = {}): Promise<CachedLeNet> {
  const path = leNetCachePath(recipe, opts.dir ?? defaultMetricsCacheDir());
  const log = opts.log ?? (() => {});
  let seconds = 0;
  const c = await loadOrTrainClassifier({
    path,
    what: 'lenet',
    shipped: opts.shipped,
    create: () => createLeNet(recipe.seed),
    expect: { format_version: String(LENET_FORMAT), recipe },
    retrain: opts.retrain,
    log,
    async train(model) {
      log(`lenet: training (${recipe.steps} steps, batch ${recipe.batch}, seed ${recipe.seed}) -> ${path}`);
      const t0 = performance.now();
      const every = Math.max(1, Math.round(recipe.steps / 10));
      await trainLeNet(
        { ...recipe, logEvery: every, onLog: (s, l) => log(`lenet: step ${s}/${recipe.steps} loss ${l.toFixed(4)}`) },
        model,
      );
      seconds = (performance.now() - t0) / 1000;
      const testAccuracy = await evaluate(model, loadMnistForLeNet('test'));
      log(`lenet: MNIST test accuracy ${(100 * testAccuracy).toFixed(2)}% after ${seconds.toFixed(0)} s`);
      return leNetMetadata(recipe, testAccuracy, seconds);
    },
  });
  return { model: c.net, path: c.path, cached: c.cached, source: c.source, testAccuracy: Number(c.metadata.test_accuracy ?? NaN), seconds };
}

// ---- sample-quality metrics on LeNet features ---------------------------------------------------------

export interface FeatureMetricsOptions {
  kid?: KidOptions;
  /** k of the k-NN precision/recall (default 3). */
  k?: number;
  /** Form the pairwise dot products on the GPU (default: when either set has over 1000 samples). */
  gpu?: boolean;
}

export interface FeatureMetrics {
  /** Samples per side. */
  nReal: number;
  nFake: number;
  /** Frechet distance and its mean / covariance terms. */
  fd: number;
  fdMean: number;
  fdCov: number;
  kid: number;
  kidStd: number;
  kidSubsets: number;
  kidSubsetSize: number;
  precision: number;
  recall: number;
}

/** FD, KID and precision/recall between real and generated feature sets. */
export async function featureMetrics(real: FeatureSet, fake: FeatureSet, opts: FeatureMetricsOptions = {}): Promise<FeatureMetrics> {
  const t = frechetTerms(featureStats(real), featureStats(fake));
  const gpu = opts.gpu ?? Math.max(real.n, fake.n) > 1000;
  const dots = gpu ? await pairwiseDotsGpu(real, fake) : pairwiseDotsCpu(real, fake);
  const kid = kidFromDots(dots, opts.kid);
  const pr = precisionRecallFromDots(dots, { k: opts.k ?? 3 });
  return {
    nReal: real.n,
    nFake: fake.n,
    fd: t.fd,
    fdMean: t.meanTerm,
    fdCov: t.covTerm,
    kid: kid.mean,
    kidStd: kid.std,
    kidSubsets: kid.subsets,
    kidSubsetSize: kid.subsetSize,
    precision: pr.precision,
    recall: pr.recall,
  };
}

/** LeNet features of a batch as a FeatureSet ([n, 84 c]). */
export async function leNetFeatureSet(model: ConvClassifier, images: ImageBatch | Tensor): Promise<FeatureSet> {
  const b = images instanceof Tensor ? await imageBatchOf(images) : images;
  return { data: await features(model, b), n: b.n, d: LENET_FEATURES * b.c };
}

/**
 * Features of n images drawn `batch` at a time from `draw(count)` (e.g. a generator's samples,
 * [count, C, H, W] in [-1, 1]); each drawn tensor is disposed after use. `model` is the LeNet, or
 * any feature extractor (e.g. the emoji net's, metrics/emojinet.ts).
 */
export async function drawnFeatureSet(
  model: ConvClassifier | ((images: Tensor) => Promise<FeatureSet>),
  draw: (count: number) => Tensor,
  n: number,
  batch = 100,
): Promise<FeatureSet> {
  if (!Number.isInteger(n) || n < 1) throw new Error(`drawnFeatureSet: n must be a positive integer, got ${n}`);
  const extract = model instanceof ConvClassifier ? (t: Tensor) => leNetFeatureSet(model, t) : model;
  let out: Float32Array | null = null;
  let d = 0;
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    const t = draw(m);
    try {
      if (t.rank !== 4 || t.shape[0] !== m)
        throw new Error(`drawnFeatureSet: draw(${m}) returned ${t.describe()}, expected [${m}, C, H, W]`);
      const f = await extract(t);
      out ??= new Float32Array(n * (d = f.d));
      out.set(f.data, i * d);
    } finally {
      t.dispose();
    }
  }
  return { data: out!, n, d };
}
