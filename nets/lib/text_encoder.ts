// A small text encoder for the text-conditioned GANs (StackGAN, StackGAN++), trained by the engine.
//
// StackGAN conditions on a fixed, separately pretrained text embedding phi_t (Reed et al.'s
// char-CNN-RNN, 1024-d). Our captions are short keyword lists (an emoji's name, short names and
// category: "grinning face smile people emotion"), so the encoder is deliberately simple:
//
//   text   tokens -> hashed bag of words x (B buckets, FNV-1a of each distinct token, scaled by
//          1/sqrt(#tokens); data/text.ts hashedBagOfWords) -> Linear(B, H) -> ReLU -> Linear(H, E)
//          -> phi (L2-normalised)
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

import { type Tensor, noGrad, tensor, tidy, nn, ops, optim } from '../../engine/index.js';
import { minimize } from './step.js';
import { accuracy } from './stats.js';
import type { StepStats } from '../registry.js';

const { add, addScalar, div, matmul, mean, mulScalar, softmaxCrossEntropy, sqrt, square, sum, transpose } = ops;

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
export class BowTextEncoder extends nn.Module {
  main: nn.Sequential;
  constructor(readonly cfg: TextEncoderConfig) {
    super();
    this.main = new nn.Sequential(new nn.Linear(cfg.buckets, cfg.hidden), new nn.ReLU(), new nn.Linear(cfg.hidden, cfg.embedDim));
  }
  override forward(bow: Tensor): Tensor {
    return l2Normalize(this.main.call(bow));
  }
}

/** psi = I(x): stride-2 convs down to 4x4 (or the smallest even size), global average, Linear -> E, unit length. */
export class ImageEncoder extends nn.Module {
  features: nn.Sequential;
  proj: nn.Linear;
  constructor(nc: number, size: number, width: number, embedDim: number) {
    super();
    const layers: nn.Module[] = [];
    let ch = nc;
    let s = size;
    for (let i = 0; s > 4; i++) {
      const out = width << Math.min(i, 3);
      layers.push(new nn.Conv2d(ch, out, 4, { stride: 2, padding: 1, bias: i === 0 }));
      if (i > 0) layers.push(new nn.BatchNorm2d(out));
      layers.push(new nn.LeakyReLU(0.2));
      ch = out;
      s = Math.ceil(s / 2);
    }
    this.features = new nn.Sequential(...layers);
    this.proj = new nn.Linear(ch, embedDim);
  }
  override forward(x: Tensor): Tensor {
    const f = mean(this.features.call(x), [2, 3]);
    return l2Normalize(this.proj.call(f));
  }
}

/** What pretraining adds around the text encoder: the image encoder and the category head. */
export class TextPretrainHeads extends nn.Module {
  image: ImageEncoder;
  category: nn.Linear;
  constructor(nc: number, size: number, imageWidth: number, embedDim: number, numCategories: number) {
    super();
    this.image = new ImageEncoder(nc, size, imageWidth, embedDim);
    this.category = new nn.Linear(embedDim, numCategories);
  }
}

// ---- objectives ------------------------------------------------------------------------------------------

/** The indices 0..n-1 as an int32 tensor (the targets of a contrastive batch). */
function arange(n: number): Tensor {
  return tensor(
    Int32Array.from({ length: n }, (_, i) => i),
    [n],
    'int32',
  );
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
  readonly optimizer: optim.Adam;
  readonly temperature: number;
  readonly categoryWeight: number;
  readonly alignWeight: number;

  constructor(
    readonly encoder: BowTextEncoder,
    readonly heads: TextPretrainHeads,
    opts: TextPretrainOptions = {},
  ) {
    this.temperature = opts.temperature ?? 0.1;
    this.categoryWeight = opts.categoryWeight ?? 1;
    this.alignWeight = opts.alignWeight ?? 1;
    this.optimizer = new optim.Adam([...encoder.namedParameters('text'), ...heads.namedParameters('heads')], {
      lr: opts.lr ?? 1e-3,
      betas: [0.9, 0.999],
    });
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
      minimize(loss, this.optimizer);
      if (!withStats) return null;
      return { lossText: loss.detach(), lossCat: category.detach(), lossAlign: align.detach(), accCat: accuracy(logits, categories) };
    });
  }
}

/**
 * Retrieval quality of phi on a batch (for reports): category accuracy of the head and text -> image
 * recall@1 among the batch's images (chance: 1/N). Runs in eval mode, without gradients.
 */
export async function evaluateTextEncoder(
  encoder: BowTextEncoder,
  heads: TextPretrainHeads,
  bow: Tensor,
  images: Tensor,
  categories: Tensor,
): Promise<{ categoryAccuracy: number; recallAt1: number }> {
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
