// The emoji side of `gan eval` (Node only: it reads the emoji PNGs and the metrics cache): the emoji
// feature net (metrics/emojinet.ts), trained with a fixed seed on the category labels of the
// emoji-text training split and cached under .cache/metrics/, and the FeatureJudge that
// cli/eval.ts's evalGenerator scores emoji generators with (datasets `emoji` and `emoji-text`):
//
//   FD / KID / precision-recall   emoji-net features of N generated images against the N real test
//                  images (the held-out split of the dataset the run trained on, at the evaluated
//                  size, through the same resize as the generated ones), with the untrained generator
//                  and N real training images (a seeded draw) as the ends of the scale.
//   conditional accuracy  text-conditioned runs (a recipe whose text hook says so for the run's
//                  config): one image per test caption (each caption once, so
//                  N = the test split); the net reads each image's category, compared with the
//                  caption's. Reported with the net's accuracy on the real test images (the ceiling)
//                  and the chance levels of the test split's class prior.

import { join } from 'node:path';
import { Generator } from '../engine/ops/random.js';
import { mulberry32 } from '../engine/ops/cpu/host.js';
import { emojiPackageInfo, loadEmojiPairs, loadEmojiText } from '../data/emoji.js';
import { classifierAccuracy, trainClassifier, type ConvClassifier } from '../metrics/classifier.js';
import { loadOrTrainClassifier } from '../metrics/classifier_cache.js';
import {
  EMOJI_NET_CLASSES,
  EMOJI_NET_FORMAT,
  EMOJI_NET_SIZE,
  classPrior,
  conditionalAccuracy,
  createEmojiNet,
  emojiNetFeatureSet,
  imageRows,
  type EmojiNetRecipe,
  type RgbImages,
} from '../metrics/emojinet.js';
import { defaultMetricsCacheDir, drawnFeatureSet } from '../metrics/lenet.js';
import type { FeatureSet } from '../metrics/frechet.js';
import type { GanTrainer, ModelConfig, ModelRecipe, TextConditioning } from '../nets/registry.js';
import { noiseDraws, type FeatureJudge, type GeneratedFeatures, type Render } from './eval_judge.js';

/** Training datasets whose generators the emoji net scores. */
export const EMOJI_EVAL_DATASETS = ['emoji', 'emoji-text'] as const;
export type EmojiEvalDataset = (typeof EMOJI_EVAL_DATASETS)[number];

export function isEmojiEvalDataset(d: string): d is EmojiEvalDataset {
  return (EMOJI_EVAL_DATASETS as readonly string[]).includes(d);
}

/** Real emoji with captions and categories (Noto, no skin-tone variants), as the training datasets load them. */
export interface EmojiRealSet extends RgbImages {
  tokens: string[][];
  category: Uint8Array;
  names: string[];
}

/**
 * A split of the images a dataset trains on, at `size`: `emoji-text` is loadEmojiText (Noto,
 * captions), `emoji` the Noto half of the Noto/Twemoji pairs (cli/datasets.ts); both without skin
 * tones. Captions and categories come with both (the same emoji in the text set).
 */
export function emojiRealSet(dataset: EmojiEvalDataset, split: 'train' | 'test', size: number): EmojiRealSet {
  const t = loadEmojiText({ split, set: 'google', size, skinTones: false });
  if (dataset === 'emoji-text') return { images: t.images, n: t.n, size, tokens: t.tokens, category: t.category, names: t.names };
  const p = loadEmojiPairs({ split, size, skinTones: false });
  const row = new Map(t.codes.map((c, i) => [c, i]));
  const idx = p.codes.map((c) => row.get(c) ?? -1);
  return {
    images: p.a,
    n: p.n,
    size,
    tokens: idx.map((i) => (i >= 0 ? t.tokens[i] : [])),
    category: Uint8Array.from(idx, (i) => (i >= 0 ? t.category[i] : 0)),
    names: p.names,
  };
}

/** `count` rows of a set in a seeded random order (Fisher-Yates with a seeded host PRNG). */
export function seededSubset(set: RgbImages, count: number, seed: number): RgbImages {
  const n = set.n;
  const order = Array.from({ length: n }, (_, i) => i);
  // The draw only has to be fixed by the seed.
  const next = mulberry32(seed * 0x9e3779b1 + 0x6d2b79f5);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const m = Math.min(count, n);
  const per = 3 * set.size * set.size;
  const images = new Float32Array(m * per);
  for (let k = 0; k < m; k++) images.set(set.images.subarray(order[k] * per, (order[k] + 1) * per), k * per);
  return { images, n: m, size: set.size };
}

// ---- the cached net ------------------------------------------------------------------------------------

/** The cache file of a recipe: keyed by the format, the recipe and the emoji packages' versions. */
export function emojiNetPath(r: EmojiNetRecipe, dir = defaultMetricsCacheDir()): string {
  const google = emojiPackageInfo('google').version;
  const twitter = r.twemoji ? `-tw${emojiPackageInfo('twitter').version}` : '';
  const shape = `c${r.convs.join('.')}-h${r.hidden.join('.')}`;
  return join(
    dir,
    `emoji-net-v${EMOJI_NET_FORMAT}-emoji${google}${twitter}-${shape}-s${r.seed}-n${r.steps}-b${r.batch}-lr${r.lr}.safetensors`,
  );
}

/**
 * The net's training set: the emoji-text training split (Noto, no skin tones) at 32 x 32 with its
 * category labels, plus (recipe.twemoji) the Twemoji drawings of the training-split emoji, labelled
 * with the same category names.
 */
export function emojiNetTrainingData(
  r: Pick<EmojiNetRecipe, 'twemoji'>,
  limit?: number,
): { images: Float32Array; labels: Uint8Array; n: number; noto: number; twemoji: number } {
  const g = loadEmojiText({ split: 'train', set: 'google', size: EMOJI_NET_SIZE, skinTones: false, limit });
  if (!r.twemoji) return { images: g.images, labels: g.category, n: g.n, noto: g.n, twemoji: 0 };
  const t = loadEmojiText({ split: 'train', set: 'twitter', size: EMOJI_NET_SIZE, skinTones: false, limit });
  const labels = new Uint8Array(g.n + t.n);
  labels.set(g.category);
  for (let i = 0; i < t.n; i++) {
    const k = g.categoryNames.indexOf(t.categoryNames[t.category[i]]);
    if (k < 0) throw new Error(`emoji net: Twemoji category '${t.categoryNames[t.category[i]]}' is not a Noto category`);
    labels[g.n + i] = k;
  }
  const images = new Float32Array(g.images.length + t.images.length);
  images.set(g.images);
  images.set(t.images, g.images.length);
  return { images, labels, n: g.n + t.n, noto: g.n, twemoji: t.n };
}

/** Accuracy of the net on the real emoji-text test split (Noto, 32 x 32). */
export async function emojiNetTestAccuracy(net: ConvClassifier, limit?: number): Promise<{ accuracy: number; n: number }> {
  const t = loadEmojiText({ split: 'test', set: 'google', size: EMOJI_NET_SIZE, skinTones: false, limit });
  return { accuracy: await classifierAccuracy(net, { images: t.images, labels: t.category, n: t.n, c: 3, h: t.h, w: t.w }), n: t.n };
}

export interface CachedEmojiNet {
  net: ConvClassifier;
  path: string;
  cached: boolean;
  /** Where the weights came from: the shipped judges (zoo/judges/), the cache, or trained now. */
  source: 'shipped' | 'cache' | 'trained';
  /** Accuracy on the emoji-text test split (Noto), stored with the weights. */
  testAccuracy: number;
  trainImages: number;
  seconds: number;
}

/** The emoji net of `recipe`: shipped (zoo/judges/), else from the metrics cache, else trained (and cached). */
export async function loadOrTrainEmojiNet(
  recipe: EmojiNetRecipe,
  opts: { dir?: string; log?: (line: string) => void } = {},
): Promise<CachedEmojiNet> {
  const log = opts.log ?? (() => {});
  const path = emojiNetPath(recipe, opts.dir);
  const r = await loadOrTrainClassifier({
    path,
    what: 'emoji net',
    log,
    create: () => createEmojiNet(recipe),
    expect: { format_version: String(EMOJI_NET_FORMAT), recipe },
    async train(net) {
      const data = emojiNetTrainingData(recipe);
      log(
        `emoji net: training on ${data.n} images (${data.noto} Noto${data.twemoji ? ` + ${data.twemoji} Twemoji` : ''}, 32x32, 10 categories; ${recipe.steps} steps, batch ${recipe.batch}, seed ${recipe.seed}) -> ${path}`,
      );
      const every = Math.max(1, Math.round(recipe.steps / 5));
      const t = await trainClassifier(
        net,
        { images: data.images, labels: data.labels, n: data.n, c: 3, h: EMOJI_NET_SIZE, w: EMOJI_NET_SIZE },
        {
          steps: recipe.steps,
          batch: recipe.batch,
          seed: recipe.seed,
          lr: recipe.lr,
          logEvery: every,
          onLog: (s, l) => log(`emoji net: step ${s}/${recipe.steps} loss ${l.toFixed(4)}`),
        },
      );
      const test = await emojiNetTestAccuracy(net);
      log(`emoji net: test accuracy ${(100 * test.accuracy).toFixed(1)}% on ${test.n} Noto test emoji after ${t.seconds.toFixed(0)} s`);
      return {
        recipe: JSON.stringify(recipe),
        format_version: String(EMOJI_NET_FORMAT),
        test_accuracy: String(test.accuracy),
        test_images: String(test.n),
        train_images: String(data.n),
        train_seconds: t.seconds.toFixed(1),
      };
    },
  });
  const m = r.metadata;
  return {
    net: r.net,
    path: r.path,
    cached: r.cached,
    source: r.source,
    testAccuracy: Number(m.test_accuracy ?? NaN),
    trainImages: Number(m.train_images ?? NaN),
    seconds: Number(m.train_seconds ?? NaN),
  };
}

// ---- the judge `gan eval` uses --------------------------------------------------------------------------

/** Whether a run is text-conditioned (its recipe's text hook, for its config) and trained on captions. */
export function isTextConditioned(recipe: ModelRecipe, config: ModelConfig, dataset: string): boolean {
  return dataset === 'emoji-text' && (recipe.text?.conditioned(config) ?? false);
}

export interface EmojiJudgeOptions {
  dataset: EmojiEvalDataset;
  /** Side of the evaluated images (the model's output, or the stage scored). */
  size: number;
  /** Images per side, at most the test split (text models always use the whole test split). */
  n: number;
  seed: number;
  batch: number;
  /** Score conditional accuracy (a text-conditioned model): one image per test caption. */
  text: boolean;
  /** With `text`: the recipe's caption codes (ModelRecipe.text). */
  textCodes?: TextConditioning['codes'];
  net: CachedEmojiNet;
  recipeName: string;
}

/** The emoji-net FeatureJudge: real test and train features, and how generated images are drawn. */
export async function emojiJudge(o: EmojiJudgeOptions): Promise<FeatureJudge> {
  const net = o.net.net;
  const test = emojiRealSet(o.dataset, 'test', o.size);
  const n = o.text ? test.n : Math.min(o.n, test.n);
  const realTestImages = seededSubset(test, n, o.seed);
  const testSet: RgbImages = o.text ? test : realTestImages;
  const realTrain = seededSubset(emojiRealSet(o.dataset, 'train', o.size), n, o.seed + 1);
  const realTest = await emojiNetFeatureSet(net, testSet);
  const realTrainFeatures = await emojiNetFeatureSet(net, realTrain);
  const realAccuracy = o.text
    ? (await conditionalAccuracy(net, (s, m) => imageRows(test, s, m), test.category, { batch: o.batch })).accuracy
    : NaN;
  const prior = classPrior(test.category, EMOJI_NET_CLASSES);

  const generated = async (t: GanTrainer, render: Render): Promise<GeneratedFeatures> => {
    const g = new Generator(o.seed);
    if (!o.text) {
      const features = await drawnFeatureSet((x) => emojiNetFeatureSet(net, x), noiseDraws(t, render, g), n, o.batch);
      return { features };
    }
    const codes = o.textCodes;
    if (!codes) throw new Error(`${o.recipeName}: conditional accuracy needs the recipe's text hook (caption codes)`);
    const r = await conditionalAccuracy(
      net,
      (start, m) => {
        const z = codes(t, test.tokens.slice(start, start + m), g);
        try {
          return render(t, z);
        } finally {
          z.dispose();
        }
      },
      test.category,
      { batch: o.batch, withFeatures: true },
    );
    return { features: r.features as FeatureSet, extra: { conditionalAccuracy: r.accuracy } };
  };

  const acc = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : String(v));
  return {
    features: 'emoji-net features',
    realName: `real ${o.dataset} test images (Noto, ${o.size}x${o.size})`,
    n,
    realTest,
    realTrain: realTrainFeatures,
    generated,
    info: {
      emojiNet: { path: o.net.path, testAccuracy: o.net.testAccuracy, trainImages: o.net.trainImages, featureDim: net.featureDim },
      evaluatedSize: o.size,
    },
    summary(trained, untrained) {
      if (!o.text) return { lines: [], json: {} };
      const json = {
        conditional: {
          n: test.n,
          trained: trained.conditionalAccuracy,
          untrained: untrained.conditionalAccuracy,
          realTestImages: realAccuracy,
          chance: { majority: prior.majority, priorMatched: prior.priorMatched, prior: prior.prior },
        },
      };
      const lines = [
        `  conditional accuracy (the emoji net reads the caption's category in the image generated from it), ${test.n} test captions:`,
        `    trained ${acc(trained.conditionalAccuracy)}   untrained ${acc(untrained.conditionalAccuracy)}   real test images ${acc(realAccuracy)}   chance: majority class ${acc(prior.majority)}, prior-matched ${acc(prior.priorMatched)}`,
      ];
      return { lines, json };
    },
  };
}
