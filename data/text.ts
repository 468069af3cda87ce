// Captioned images as the text-conditioned GANs (StackGAN, StackGAN++) train on them (browser-safe,
// no Node imports):
//
//   hashedBagOfWords   a caption (token list) -> its bag-of-words row: 1 in the bucket of each
//                      distinct token (FNV-1a), times 1/sqrt(#tokens); the text encoder's input
//   TextSampler        a bound captioned set: bag-of-words rows precomputed, batches of (image,
//                      caption, mismatched caption, category) drawn with the model's own Philox
//                      stream (so a checkpoint resumes them), uploaded into persistent tensors;
//                      captionRows gives the caption part of sample codes (8 codes per caption)
//
// The data come from data/emoji.ts loadEmojiText (emoji-text: name, short names and category as
// tokens) or from the CLI's TrainingData (nets/registry.ts), whose `labels` are the categories.

import { assign, tensor, type Tensor } from '../engine/tensor.js';
import { hostRandint, type Generator } from '../engine/ops/index.js';

// ---- hashed bag of words -------------------------------------------------------------------------------

/** FNV-1a over the UTF-16 code units of a word, reduced to a bucket in [0, buckets). */
export function hashToken(word: string, buckets: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 0x01000193);
  return (h >>> 0) % buckets;
}

/**
 * The encoder's input for one caption: 1 in the bucket of each distinct token (collisions add),
 * times 1/sqrt(#distinct tokens), so captions of any length have a comparable scale. An empty
 * caption is all zeros. Written into `out` at `offset` when given.
 */
export function hashedBagOfWords(tokens: readonly string[], buckets: number, out = new Float32Array(buckets), offset = 0): Float32Array {
  const distinct = [...new Set(tokens)];
  const scale = distinct.length ? 1 / Math.sqrt(distinct.length) : 0;
  for (const t of distinct) out[offset + hashToken(t, buckets)] += scale;
  return out;
}

/** hashedBagOfWords of every caption: a row-major n x buckets matrix. */
export function bagOfWordsMatrix(texts: readonly (readonly string[])[], buckets: number): Float32Array {
  const out = new Float32Array(texts.length * buckets);
  texts.forEach((t, i) => hashedBagOfWords(t, buckets, out, i * buckets));
  return out;
}

// ---- captioned sets ------------------------------------------------------------------------------------

/** Images with captions: the structure data/emoji.ts loadEmojiText returns. */
export interface TextImageDataset {
  /** n x c x h x w, row-major, in [-1, 1]. */
  images: Float32Array;
  n: number;
  c?: number;
  h: number;
  w: number;
  /** Each image's caption as tokens (name, short names, category). */
  tokens: readonly (readonly string[])[];
  /** Category label of each image (the text encoder's classification target). */
  category: ArrayLike<number>;
  categoryNames?: readonly string[];
}

/**
 * What a text-conditioned trainer's bindData accepts: a TextImageDataset, or the CLI's TrainingData
 * (nets/registry.ts) whose `labels` are the categories. Captions and categories must both be there.
 */
export type CaptionedData = Omit<TextImageDataset, 'tokens' | 'category'> & {
  tokens?: readonly (readonly string[])[];
  labels?: ArrayLike<number>;
  category?: ArrayLike<number>;
};

/**
 * For each caption of a batch, the index of a mismatched caption from the same batch: the next
 * caption (cyclically) whose key differs, so a "wrong" pair never repeats its own text even when
 * the batch holds duplicates. Falls back to the next index when every key is the same.
 */
export function mismatchIndices(keys: readonly string[]): Int32Array {
  const n = keys.length;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let j = (i + 1) % n;
    for (let step = 1; step < n && keys[j] === keys[i]; step++) j = (i + 1 + step) % n;
    out[i] = keys[j] === keys[i] ? (i + 1) % n : j;
  }
  return out;
}

/** One training batch on the host. */
export interface TextBatch {
  indices: Int32Array;
  images: Float32Array;
  bow: Float32Array;
  bowWrong: Float32Array;
  categories: Int32Array;
}

/** A batch on the GPU: images [n, c, s, s], captions and mismatched captions [n, B], categories [n] (int32). */
export interface TextBatchTensors {
  images: Tensor;
  bow: Tensor;
  bowWrong: Tensor;
  categories: Tensor;
}

/** A bound captioned set: bag-of-words rows precomputed, batches drawn from a Philox stream. */
export class TextSampler {
  readonly bow: Float32Array;
  readonly keys: string[];
  readonly numCategories: number;
  readonly nc: number;
  readonly size: number;
  readonly data: TextImageDataset;
  private readonly tensors: Partial<TextBatchTensors> = {};

  /**
   * Checks a captioned set against the images the model expects and binds it; `who` names the model
   * in errors. `maxCategories`: the text encoder's category head.
   */
  constructor(
    who: string,
    data: CaptionedData,
    readonly buckets: number,
    expect: { channels: number; size: number },
    maxCategories = 10,
  ) {
    const category = data.category ?? data.labels;
    if (!data.tokens || !category)
      throw new Error(`${who}: the training data has no captions and categories (train on --dataset emoji-text)`);
    const d: TextImageDataset = { ...data, tokens: data.tokens, category };
    const nc = d.c ?? Math.round(d.images.length / Math.max(1, d.n * d.h * d.w));
    if (d.h !== expect.size || d.w !== expect.size || nc !== expect.channels) {
      throw new Error(
        `bindData: the model expects ${expect.channels}x${expect.size}x${expect.size} images, the data set has ${nc}x${d.h}x${d.w} (load it with size ${expect.size})`,
      );
    }
    if (d.n < 2 || d.tokens.length !== d.n || d.category.length !== d.n) {
      throw new Error(
        `bindData: need at least 2 images, each with tokens and a category (n ${d.n}, tokens ${d.tokens.length}, categories ${d.category.length})`,
      );
    }
    this.data = d;
    this.nc = nc;
    this.size = d.h;
    this.bow = bagOfWordsMatrix(d.tokens, buckets);
    this.keys = d.tokens.map((t) => t.join(' '));
    let maxCat = 0;
    for (let i = 0; i < d.n; i++) maxCat = Math.max(maxCat, d.category[i]);
    this.numCategories = maxCat + 1;
    if (this.numCategories > maxCategories)
      throw new Error(`${who}: the text encoder's category head has ${maxCategories} classes, the data has ${this.numCategories}`);
  }

  /** n dataset indices drawn uniformly (with replacement) from the generator's stream. */
  drawIndices(n: number, rng: Generator): Int32Array {
    return hostRandint(n, this.data.n, rng);
  }

  /** Host arrays of the examples `indices`: images, captions, mismatched captions, categories. */
  gather(indices: Int32Array): TextBatch {
    const n = indices.length;
    const B = this.buckets;
    const plane = this.nc * this.size * this.size;
    const images = new Float32Array(n * plane);
    const bow = new Float32Array(n * B);
    const bowWrong = new Float32Array(n * B);
    const wrong = mismatchIndices(Array.from(indices, (i) => this.keys[i]));
    const categories = new Int32Array(n);
    for (let b = 0; b < n; b++) {
      const i = indices[b];
      images.set(this.data.images.subarray(i * plane, (i + 1) * plane), b * plane);
      bow.set(this.bow.subarray(i * B, (i + 1) * B), b * B);
      bowWrong.set(this.bow.subarray(indices[wrong[b]] * B, (indices[wrong[b]] + 1) * B), b * B);
      categories[b] = this.data.category[i];
    }
    return { indices, images, bow, bowWrong, categories };
  }

  /**
   * A batch of n examples drawn from `rng`, in persistent GPU tensors (reallocated only when the
   * batch size changes; the caller must not dispose them).
   */
  batch(n: number, rng: Generator): TextBatchTensors {
    const b = this.gather(this.drawIndices(n, rng));
    const t = this.tensors;
    if (!t.images || t.images.shape[0] !== n) {
      for (const x of [t.images, t.bow, t.bowWrong, t.categories]) x?.dispose();
      t.images = tensor(new Float32Array(n * this.nc * this.size * this.size), [n, this.nc, this.size, this.size]).keep();
      t.bow = tensor(new Float32Array(n * this.buckets), [n, this.buckets]).keep();
      t.bowWrong = tensor(new Float32Array(n * this.buckets), [n, this.buckets]).keep();
      t.categories = tensor(new Int32Array(n), [n], 'int32').keep();
    }
    assign(t.images, b.images);
    assign(t.bow!, b.bow);
    assign(t.bowWrong!, b.bowWrong);
    assign(t.categories!, b.categories);
    return t as TextBatchTensors;
  }
}

/** Caption rows for n latent codes: 8 consecutive codes share a caption drawn from `gen` (zeros without data). */
export function captionRows(data: TextSampler | null, n: number, buckets: number, gen: Generator): Float32Array {
  const out = new Float32Array(n * buckets);
  if (!data) return out;
  const captions = data.drawIndices(Math.ceil(n / 8), gen);
  for (let i = 0; i < n; i++) {
    const c = captions[Math.floor(i / 8)];
    out.set(data.bow.subarray(c * buckets, (c + 1) * buckets), i * buckets);
  }
  return out;
}

/** The caption rows of explicit captions (token lists), one per caption. */
export function captionRowsOf(captions: readonly (readonly string[])[], buckets: number): Float32Array {
  return bagOfWordsMatrix(captions, buckets);
}
