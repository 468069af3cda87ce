// The held-out (test) split of each two-domain training dataset, packed like its training split
// (A's channels, then B's), registered as nets/lib/translation.ts's held-out source so the recipes'
// heldOutPairs hooks (browser-safe) can reach the PNG loaders (Node). Importing this module once
// registers it; `gan train`, `gan eval` and `gan sample` do.
//
//   emoji-pairs, emoji-unpaired  aligned (Noto, Twemoji) pairs of the test emoji (for the unpaired
//                                set these are the partners that training never shows together)
//   emoji-edges                  (edge map, Noto) pairs of the test emoji, edges made on the GPU
//   emoji-skin                   every test emoji in all six skin tones, for multi-domain
//                                translators (a recipe with domainTranslation): their held-out pairs
//                                (domainHeldOutPairs) and domain grids (heldOutDomains, domainGrid)
//
// It also holds what those three commands share about image-to-image models: the recipe's hooks
// merged with the Node-side ones (translationHooksOf, heldOutHooksOf), and the held-out pairs of
// either direction of a two-way model (heldOutDirection).

import { loadEmojiPairs, loadEmojiSkinTones } from '../data/emoji.js';
import { gatherImages, packDomains, type DomainSet } from '../data/domains.js';
import { loadEmojiEdges } from '../data/emoji_edges.js';
import { tensor, type Tensor } from '../engine/tensor.js';
import { packPairs } from '../data/pairs.js';
import type { DomainTranslation, GanTrainer, ModelConfig, ModelRecipe } from '../nets/registry.js';
import {
  firstPairs,
  heldOutEmojiPairs,
  setHeldOutSource,
  splitHeldOut,
  translationHooks,
  type HeldOutPairs,
  type PackedPairs,
  type TranslationEval,
} from '../nets/lib/translation.js';

export const HELD_OUT_DATASETS = ['emoji-pairs', 'emoji-unpaired', 'emoji-edges'] as const;

/** The held-out (test) split of `dataset` packed A then B; `split: 'train'` gives its training split the same way. */
export async function heldOutPackedPairs(opts: {
  dataset: string;
  size: number;
  limit?: number;
  split?: 'train' | 'test';
}): Promise<PackedPairs> {
  const { dataset, size, limit } = opts;
  const split = opts.split ?? 'test';
  if (dataset === 'emoji-pairs' || dataset === 'emoji-unpaired') {
    const p = loadEmojiPairs({ split, size, limit });
    return { data: packPairs(p.a, p.b, p.n, 3, 3, p.h, p.w), n: p.n, channelsA: 3, channelsB: 3, size: p.h, names: p.names };
  }
  if (dataset === 'emoji-edges') {
    const e = await loadEmojiEdges({ split, size, limit });
    return { data: packPairs(e.edges, e.images, e.n, 3, 3, e.h, e.w), n: e.n, channelsA: 3, channelsB: 3, size: e.h, names: e.names };
  }
  throw new Error(`dataset '${dataset}' has no held-out pairs with ground truth (those that do: ${HELD_OUT_DATASETS.join(', ')})`);
}

setHeldOutSource(heldOutPackedPairs);

/**
 * The training pairs of `dataset` as the recipe's heldOutPairs hook splits them (its direction, its
 * channels): the hook is called with the training split registered as the source for the duration.
 * Null when the hook does not read the registered source (a multi-domain translator's own pairs), so
 * no test pairs are ever passed off as training ones. For baselines fit on the training data
 * (meanTargetImage); `limit`: the first that many pairs only (tests).
 */
export async function trainingPairsOf(
  hooks: TranslationEval,
  config: ModelConfig,
  dataset: string,
  limit?: number,
): Promise<HeldOutPairs | null> {
  let read = false;
  setHeldOutSource((o) => {
    read = true;
    return heldOutPackedPairs({ dataset: o.dataset, size: o.size, split: 'train', limit });
  });
  try {
    const pairs = await hooks.heldOutPairs(config, { dataset, limit });
    return read ? pairs : null;
  } finally {
    setHeldOutSource(heldOutPackedPairs);
  }
}

/**
 * The "training set's mean image" baseline of an image-to-image model: the per-pixel mean of the
 * training targets (accumulated in float64), the one output that minimises the squared error
 * over the training set when the input is ignored. Float32Array of one target's [C, H, W].
 */
export function meanTargetImage(train: HeldOutPairs): Float32Array {
  const per = train.targetShape[0] * train.targetShape[1] * train.targetShape[2];
  if (train.n < 1) throw new Error('meanTargetImage: no training pairs');
  if (train.targets.length < train.n * per)
    throw new Error(`meanTargetImage: ${train.targets.length} target values for ${train.n} pairs of [${train.targetShape}]`);
  const sum = new Float64Array(per);
  for (let i = 0; i < train.n; i++) for (let j = 0; j < per; j++) sum[j] += train.targets[i * per + j];
  return Float32Array.from(sum, (v) => v / train.n);
}

/** A predict function for scoreTranslation that outputs `image` ([C, H, W]) for every input. */
export function constantPrediction(image: Float32Array, shape: readonly [number, number, number]): (x: Tensor) => Tensor {
  const per = shape[0] * shape[1] * shape[2];
  if (image.length !== per) throw new Error(`constantPrediction: ${image.length} values for an image of [${shape}]`);
  return (x) => {
    const m = x.shape[0];
    const out = new Float32Array(m * per);
    for (let i = 0; i < m; i++) out.set(image, i * per);
    return tensor(out, [m, ...shape]);
  };
}

// ---- multi-domain translators ------------------------------------------------------------------------------

/** The held-out domain set of a multi-domain translator's config (the skin-tone test split, `limit` emoji at most). */
export function heldOutDomainSet(recipe: ModelRecipe, config: ModelConfig, limit?: number): { d: DomainTranslation; s: DomainSet } {
  if (!recipe.domainTranslation) throw new Error(`${recipe.name} is not a multi-domain translator (no domainTranslation hook)`);
  const d = recipe.domainTranslation(config);
  const s = loadEmojiSkinTones({ split: 'test', size: d.size, limit });
  if (s.numDomains !== d.count)
    throw new Error(`${recipe.name}: the model has ${d.count} domains, the held-out skin-tone data ${s.numDomains}`);
  return { d, s };
}

/**
 * Held-out (input, target) pairs for the config's (source -> target) domain pair: one per test
 * emoji, `limit` at most. Inputs are packed rows (image + the target's label planes), targets the
 * same emoji drawn in the target domain (every emoji is drawn in all six tones).
 */
export function domainHeldOutPairs(recipe: ModelRecipe, config: ModelConfig, opts: { limit?: number } = {}): HeldOutPairs {
  const { d, s } = heldOutDomainSet(recipe, config, opts.limit);
  const src: number[] = [];
  for (let i = 0; i < s.n; i++) if (s.domain[i] === d.source) src.push(i);
  const dst = src.map((i) => s.counterpart[i * s.numDomains + d.target]);
  const n = src.length;
  return {
    inputs: packDomains(gatherImages(s, src), new Array<number>(n).fill(d.target), n, s.numDomains, 3, s.h, s.w),
    targets: gatherImages(s, dst),
    n,
    inputShape: [3 + s.numDomains, s.h, s.w],
    targetShape: [3, s.h, s.w],
  };
}

// ---- the hooks `gan eval`, `gan train` and `gan sample` share ------------------------------------------

/**
 * A recipe's TranslationEval hooks with the Node-side ones merged in: nets/ stays browser-safe, so
 * a multi-domain translator's heldOutPairs (which reads the skin-tone PNGs) lives here. Partial:
 * `gan eval` tells a recipe with translate() but no heldOutPairs() apart from one with neither.
 */
export function translationHooksOf(r: ModelRecipe): ModelRecipe & Partial<TranslationEval> {
  const domains = r.domainTranslation
    ? { heldOutPairs: (config: ModelConfig, o: { limit?: number }) => domainHeldOutPairs(r, config, o) }
    : {};
  return { ...(r as ModelRecipe & Partial<TranslationEval>), ...domains };
}

/** The merged hooks when the recipe has both (an image-to-image model with ground truth), else null. */
export function heldOutHooksOf(r: ModelRecipe): TranslationEval | null {
  return translationHooks(translationHooksOf(r));
}

export type Direction = 'AtoB' | 'BtoA';

/** Whether the run's model translates both ways with generators of its own (the recipe's bothWays hook). */
export function translatesBothWays(recipe: ModelRecipe, config: ModelConfig): boolean {
  return (recipe as ModelRecipe & Partial<TranslationEval>).bothWays?.(config) ?? false;
}

/** Held-out pairs of one direction and the translation that goes with them. */
export interface HeldOutDirection {
  direction: Direction;
  pairs: HeldOutPairs;
  translate(trainer: GanTrainer, x: Tensor): Tensor;
}

/**
 * A -> B: the recipe's own hooks (as `gan eval` scores it; a one-way model's A -> B may be a flag of its own).
 * B -> A (two-way models only): the same test pairs swapped, through generate(x, { direction: 'BtoA' })
 * in eval mode (running statistics, no dropout), as the demos' B -> A view.
 */
export async function heldOutDirection(
  recipe: ModelRecipe,
  hooks: TranslationEval,
  config: ModelConfig,
  dataset: string,
  direction: Direction,
  limit: number,
): Promise<HeldOutDirection> {
  if (direction === 'AtoB')
    return {
      direction,
      pairs: firstPairs(await hooks.heldOutPairs(config, { limit, dataset }), limit),
      translate: (t, x) => hooks.translate(t, x),
    };
  if (!translatesBothWays(recipe, config)) throw new Error(`${recipe.name} translates one way only`);
  const packed = await heldOutEmojiPairs({ dataset, size: Number(config.imageSize), limit });
  const generate = (t: GanTrainer, x: Tensor) =>
    (t.generate as (x: Tensor, o: { direction: Direction; batchStats: boolean }) => Tensor).call(t, x, {
      direction: 'BtoA',
      batchStats: false,
    });
  return { direction, pairs: firstPairs(splitHeldOut(packed, true), limit), translate: generate };
}

/** translate() over the inputs in chunks of `batch`, read back to the host. */
export async function translateAll(
  trainer: GanTrainer,
  translate: (t: GanTrainer, x: Tensor) => Tensor,
  inputs: Float32Array,
  n: number,
  shape: readonly number[],
  batch = 16,
): Promise<{ data: Float32Array; channels: number }> {
  const per = shape[0] * shape[1] * shape[2];
  let out: Float32Array | null = null;
  let channels = 0;
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    const x = tensor(inputs.subarray(i * per, (i + m) * per), [m, ...shape]);
    const y = translate(trainer, x);
    try {
      const d = await y.data();
      const yPer = y.shape[1] * y.shape[2] * y.shape[3];
      if (!out) {
        out = new Float32Array(n * yPer);
        channels = y.shape[1];
      }
      out.set(d.subarray(0, m * yPer), i * yPer);
    } finally {
      x.dispose();
      y.dispose();
    }
  }
  return { data: out ?? new Float32Array(0), channels };
}

/** Held-out images of one domain with their ground truth in every domain (a multi-domain translator's sample grids). */
export interface HeldOutDomains {
  /** n x 3 x h x w: test images of domain `source`, one per test subject. */
  inputs: Float32Array;
  /** n x numDomains x 3 x h x w: the same subject drawn in each domain (domain `source`: the input). */
  truth: Float32Array;
  n: number;
  numDomains: number;
  h: number;
  w: number;
  source: number;
  domainNames: readonly string[];
}

/** The held-out images of the recipe's source domain (`limit` test subjects at most) and their counterparts in every domain. */
export function heldOutDomains(recipe: ModelRecipe, config: ModelConfig, opts: { limit?: number } = {}): HeldOutDomains {
  const { d, s } = heldOutDomainSet(recipe, config, opts.limit);
  const C = s.numDomains;
  const src: number[] = [];
  for (let i = 0; i < s.n; i++) if (s.domain[i] === d.source) src.push(i);
  const truth = src.flatMap((i) => Array.from({ length: C }, (_, t) => s.counterpart[i * C + t]));
  return {
    inputs: gatherImages(s, src),
    truth: gatherImages(s, truth),
    n: src.length,
    numDomains: C,
    h: s.h,
    w: s.w,
    source: d.source,
    domainNames: s.domainNames,
  };
}

/**
 * A multi-domain translator's sample grid of held-out images, 1 + C columns: for each input, a row
 * of the input and its translations into domains 0 .. C-1 (through the translate hook: packed rows
 * with each target's label planes), then a row of the ground truth in each domain (first cell
 * blank). Returns images in [-1, 1] for makeGrid with nrow = cols.
 */
export async function domainGrid(
  trainer: GanTrainer,
  hooks: TranslationEval,
  d: HeldOutDomains,
): Promise<{ images: Float32Array; n: number; cols: number }> {
  const { n, numDomains: C, h, w } = d;
  const img = 3 * h * w;
  const cols = 1 + C;
  const images = new Float32Array(2 * n * cols * img).fill(1);
  for (let k = 0; k < n; k++) {
    images.set(d.inputs.subarray(k * img, (k + 1) * img), 2 * k * cols * img);
    for (let t = 0; t < C; t++) images.set(d.truth.subarray((k * C + t) * img, (k * C + t + 1) * img), ((2 * k + 1) * cols + 1 + t) * img);
  }
  for (let t = 0; t < C; t++) {
    const x = packDomains(d.inputs, new Array<number>(n).fill(t), n, C, 3, h, w);
    const y = await translateAll(trainer, (tr, xs) => hooks.translate(tr, xs), x, n, [3 + C, h, w]);
    for (let k = 0; k < n; k++) images.set(y.data.subarray(k * img, (k + 1) * img), (2 * k * cols + 1 + t) * img);
  }
  return { images, n: 2 * n * cols, cols };
}
