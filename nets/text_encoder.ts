// A small text encoder for the text-conditioned GANs (StackGAN, StackGAN++), trained by the engine.
//
// StackGAN conditions on a fixed, separately pretrained text embedding phi_t (Reed et al.'s
// char-CNN-RNN, 1024-d). Our captions are short keyword lists (an emoji's name, short names and
// category: "grinning face smile people emotion"), so the encoder is deliberately simple:
//
//   text   tokens -> hashed bag of words x (B buckets, FNV-1a of each distinct token, scaled by
//          1/sqrt(#tokens)) -> Linear(B, H) -> ReLU -> Linear(H, E) -> phi (L2-normalised)
//
// Hashing instead of a vocabulary keeps the architecture independent of the data set (B is a
// hyper-parameter, so a checkpoint needs no vocabulary file and any caption, even with unseen
// words, encodes); with B = 1024 and a ~2000-word emoji vocabulary a few words share buckets, which
// the category and alignment objectives tolerate.
//
// Training objective (pretraining, before the GAN sees phi; TextPretrainer):
//   L = w_cat * CE(W_cat phi, category)                       predict the emoji category (10 classes)
//     + w_align * InfoNCE(phi, psi)                            align with an image encoder psi = I(x)
// where InfoNCE is the symmetric contrastive loss of CLIP over the batch: logits_ij = <phi_i, psi_j> / tau
// with unit vectors, cross-entropy towards the diagonal in both directions. The category head makes
// phi cluster by category; the alignment term makes it carry what the image looks like, so that
// captions of similar-looking emoji get nearby codes, which is what the generator needs.
// The image encoder and category head only serve pretraining (they are not used for sampling).
//
// Browser-safe: no Node imports.

import { Module, Sequential, Conv2d, BatchNorm2d, Linear, LeakyReLU, ReLU } from '../engine/nn.js';
import { Adam } from '../engine/optim.js';
import { Tensor, tensor, tidy } from '../engine/tensor.js';
import { noGrad } from '../engine/tape.js';
import {
  add, addScalar, div, eqMask, matmul, max, mean, mulScalar, oneHot, softmaxCrossEntropy, sqrt, square, sum, mul, transpose,
} from '../engine/ops/index.js';
import { stepOn } from './lib/step.js';
import type { StepStats } from './registry.js';

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

// ---- networks ------------------------------------------------------------------------------------------

export interface TextEncoderConfig {
  /** Hash buckets of the bag of words (the input width). */
  buckets: number;
  /** Hidden units. */
  hidden: number;
  /** Embedding size E (phi_t). */
  embedDim: number;
}

/** Rows scaled to unit L2 norm (eps keeps the all-zero row finite). */
export function l2Normalize(x: Tensor, eps = 1e-8): Tensor {
  return div(x, sqrt(addScalar(sum(square(x), -1, true), eps)));
}

/** Bag of words [N, B] -> phi [N, E]: Linear - ReLU - Linear, then unit length. */
export class BowTextEncoder extends Module {
  main: Sequential;
  constructor(readonly cfg: TextEncoderConfig) {
    super();
    this.main = new Sequential(new Linear(cfg.buckets, cfg.hidden), new ReLU(), new Linear(cfg.hidden, cfg.embedDim));
  }
  override forward(bow: Tensor): Tensor {
    return l2Normalize(this.main.call(bow));
  }
}

/** psi = I(x): stride-2 convs down to 4x4 (or the smallest even size), global average, Linear -> E, unit length. */
export class ImageEncoder extends Module {
  features: Sequential;
  proj: Linear;
  constructor(nc: number, size: number, width: number, embedDim: number) {
    super();
    const layers: Module[] = [];
    let ch = nc;
    let s = size;
    for (let i = 0; s > 4; i++) {
      const out = width << Math.min(i, 3);
      layers.push(new Conv2d(ch, out, 4, { stride: 2, padding: 1, bias: i === 0 }));
      if (i > 0) layers.push(new BatchNorm2d(out));
      layers.push(new LeakyReLU(0.2));
      ch = out;
      s = Math.ceil(s / 2);
    }
    this.features = new Sequential(...layers);
    this.proj = new Linear(ch, embedDim);
  }
  override forward(x: Tensor): Tensor {
    const f = mean(this.features.call(x), [2, 3]);
    return l2Normalize(this.proj.call(f));
  }
}

/** What pretraining adds around the text encoder: the image encoder and the category head. */
export class TextPretrainHeads extends Module {
  image: ImageEncoder;
  category: Linear;
  constructor(nc: number, size: number, imageWidth: number, embedDim: number, numCategories: number) {
    super();
    this.image = new ImageEncoder(nc, size, imageWidth, embedDim);
    this.category = new Linear(embedDim, numCategories);
  }
}

// ---- objectives ------------------------------------------------------------------------------------------

/** The indices 0..n-1 as an int32 tensor (the targets of a contrastive batch). */
function arange(n: number): Tensor {
  return tensor(Int32Array.from({ length: n }, (_, i) => i), [n], 'int32');
}

/**
 * Symmetric InfoNCE (CLIP) between unit vectors a [N, E] and b [N, E]: logits = a b^T / tau,
 * (CE(logits, diag) + CE(logits^T, diag)) / 2.
 */
export function infoNce(a: Tensor, b: Tensor, temperature: number): Tensor {
  const logits = mulScalar(matmul(a, b, { transB: true }), 1 / temperature);
  const diag = arange(a.shape[0]);
  return mulScalar(add(softmaxCrossEntropy(logits, diag), softmaxCrossEntropy(transpose(logits), diag)), 0.5);
}

/** Fraction of rows whose largest logit is at the label (ties count for every tied class). */
export function accuracy(logits: Tensor, labels: Tensor): Tensor {
  return noGrad(() => {
    const l = logits.detach();
    const hit = mul(eqMask(l, max(l, -1, true)), oneHot(labels, l.shape[1]));
    return mean(sum(hit, -1));
  });
}

export interface TextPretrainOptions {
  /** InfoNCE temperature. */
  temperature?: number;
  /** Weight of the category cross-entropy. */
  categoryWeight?: number;
  /** Weight of the image-text alignment. */
  alignWeight?: number;
  lr?: number;
}

/**
 * Pretrains a BowTextEncoder (owned elsewhere: StackGAN keeps it inside its generator, so sampling
 * needs one network) with the category + alignment objective. One Adam over the encoder and heads.
 */
export class TextPretrainer {
  readonly optimizer: Adam;
  readonly temperature: number;
  readonly categoryWeight: number;
  readonly alignWeight: number;

  constructor(readonly encoder: BowTextEncoder, readonly heads: TextPretrainHeads, opts: TextPretrainOptions = {}) {
    this.temperature = opts.temperature ?? 0.1;
    this.categoryWeight = opts.categoryWeight ?? 1;
    this.alignWeight = opts.alignWeight ?? 1;
    this.optimizer = new Adam([...encoder.namedParameters('text'), ...heads.namedParameters('heads')], { lr: opts.lr ?? 1e-3, betas: [0.9, 0.999] });
  }

  /** The losses on one batch: bow [N, B], images [N, C, S, S], categories int32 [N]. */
  losses(bow: Tensor, images: Tensor, categories: Tensor): { loss: Tensor; category: Tensor; align: Tensor; phi: Tensor; logits: Tensor } {
    const phi = this.encoder.call(bow);
    const logits = this.heads.category.call(phi);
    const category = softmaxCrossEntropy(logits, categories);
    const align = infoNce(phi, this.heads.image.call(images), this.temperature);
    const loss = add(mulScalar(category, this.categoryWeight), mulScalar(align, this.alignWeight));
    return { loss, category, align, phi, logits };
  }

  /** One Adam step; stats lossText, lossCat, lossAlign, accCat (category accuracy on the batch). */
  step(bow: Tensor, images: Tensor, categories: Tensor, withStats: boolean): StepStats | null {
    return tidy(() => {
      this.heads.train();
      const { loss, category, align, logits } = this.losses(bow, images, categories);
      stepOn(loss, this.optimizer.params, this.optimizer);
      if (!withStats) return null;
      return { lossText: loss.detach(), lossCat: category.detach(), lossAlign: align.detach(), accCat: accuracy(logits, categories) };
    });
  }
}

/**
 * Retrieval quality of phi on a batch (for reports): category accuracy of the head and text -> image
 * recall@1 among the batch's images (chance: 1/N). Runs in eval mode, without gradients.
 */
export async function evaluateTextEncoder(encoder: BowTextEncoder, heads: TextPretrainHeads, bow: Tensor, images: Tensor, categories: Tensor): Promise<{ categoryAccuracy: number; recallAt1: number }> {
  const wasTraining = heads.training;
  heads.eval();
  try {
    const [acc, recall] = noGrad(() =>
      tidy(() => {
        const phi = encoder.call(bow);
        const sims = matmul(phi, heads.image.call(images), { transB: true });
        return [accuracy(heads.category.call(phi), categories), accuracy(sims, arange(bow.shape[0]))];
      }),
    );
    const out = { categoryAccuracy: await acc.item(), recallAt1: await recall.item() };
    acc.dispose();
    recall.dispose();
    return out;
  } finally {
    heads.train(wasTraining);
  }
}

/** The first n rows of a host bag-of-words matrix as an [n, buckets] tensor. */
export function bowTensor(rows: Float32Array, n: number, buckets: number): Tensor {
  return tensor(rows.subarray(0, n * buckets), [n, buckets]);
}
