// StackGAN (Zhang et al., "StackGAN: Text to Photo-realistic Image Synthesis with Stacked Generative
// Adversarial Networks", ICCV 2017; reference hanzhanggit/StackGAN, the TF code, and StackGAN-Pytorch) and StackGAN++
// (Zhang et al., "StackGAN++: Realistic Image Synthesis with Stacked Generative Adversarial
// Networks", TPAMI 2018; reference hanzhanggit/StackGAN-v2), conditioned on emoji captions encoded
// by nets/text_encoder.ts.
//
// Conditioning augmentation (both): phi_t -> Linear -> (mu, logvar), c = mu + exp(logvar / 2) * eps,
// eps ~ N(0, I); the generator adds lambda_KL * KL(N(mu, sigma^2) || N(0, I)), with the KL averaged
// over elements as the reference's KL_loss does (gaussianKl, reduction 'mean'). lambda_KL = 2, as the
// reference repositories' configs (TRAIN.COEFF.KL: 2.0 in StackGAN's misc/config.py and its birds /
// flowers ymls, StackGAN-Pytorch's coco ymls, StackGAN-v2's miscc/config.py default, which its birds
// config keeps); the StackGAN paper's text sets lambda = 1 for all its experiments. The recipe
// follows the code (--kl-weight 1 gives the paper's text). StackGAN-v1's CA applies LeakyReLU 0.2 to
// the Linear's output as the TF code does (StackGAN-Pytorch uses ReLU, StackGAN-v2 a GLU over a
// twice-as-wide Linear; StackGAN++ here keeps the plain Linear).
//
// StackGAN-v1 (two stages, trained one after the other):
//   Stage-I G:  [z (100) | c] -> FC -> 4x4 x 8ngf -> log2(s/4) x (nearest up, conv3, BN, ReLU) -> conv3, tanh -> s x s
//   Stage-I D:  image -> conv4/2 (LeakyReLU 0.2; BN after the first) down to 4x4 x C; phi compressed by
//               Linear -> N_d (LeakyReLU) and replicated 4x4; concat -> conv3, BN, LeakyReLU -> conv4 -> logit
//   Stage-II G: Stage-I image -> conv3, ReLU, d x (conv4/2, BN, ReLU) (d = 2: 64 -> 16); concat ĉ
//               (its own CA) replicated; conv3, BN, ReLU; residual blocks; d + 2 up blocks -> 4s x 4s
//   Stage-II D: like Stage-I D on the 4s x 4s image.
//   Matching-aware loss (Reed et al. 2016): real image + matching text -> 1, real image + mismatched
//   text -> 0, fake image + matching text -> 0; L_D = L(real) + (L(wrong) + L(fake)) / 2 as the
//   reference; L_G = BCE(D(G(z, c), phi), 1) + lambda_KL KL. The step is the TF reference's
//   (hanzhanggit/StackGAN stageI/stageII trainer.py): D's and G's updates are separate runs of the
//   graph, so G's update draws its own z and eps and is judged by the updated D. Differences kept:
//   eps ~ N(0, I) (TF: truncated normal), the mismatched pair is (real image, another caption of the
//   batch) as StackGAN-Pytorch (TF: another image with the matching caption), no lr halving every
//   100 epochs, one Adam per stage and network.
//
// StackGAN++ (StackGAN-v2): a tree of generators trained jointly. h_0 = F_0([z | c]) (FC + up blocks
// to the base size), h_i = F_i([h_{i-1} | c replicated]) (joint conv, residual blocks, one up block),
// image_i = tanh(conv3(h_i)), one discriminator per scale with an unconditional logit and (when
// conditional) a conditional one. Per branch, as in the reference's condGANTrainer:
//   L_D_i = [cond(x, phi) -> 1 + uncond(x) -> 1] + [cond(x, phi_wrong) -> 0 + uncond(x) -> 1]
//         + [cond(s_i, phi) -> 0 + uncond(s_i) -> 0]
//   L_G   = sum_i [cond(s_i, phi) -> 1 + uncond(s_i) -> 1] + lambda_KL KL + alpha sum_{i>0} L_C_i
// with the colour-consistency regulariser between consecutive scales (coarser image detached):
//   L_C_i = lambda_1 mean (mu_i - mu_{i-1})^2 + lambda_2 mean (Sigma_i - Sigma_{i-1})^2,
//   mu = pixel mean per image and channel, Sigma = (1/P) sum_k (x_k - mu)(x_k - mu)^T per image,
// lambda_1 = 1, lambda_2 = 5, alpha = 50 (the paper's weights) in unconditional runs only: the
// reference (StackGAN-v2 trainer.py) applies COLOR_LOSS, which its unconditional configs set to 50
// and its text-conditioned birds config leaves at 0 (`colorWeightCond`, default 0, sets it there).
// Differences from the reference kept: D's conditional logit sees the text embedding phi compressed
// by Linear + LeakyReLU (the reference: the CA mean mu, replicated without compression, detached in
// D's step only), the wrong pair is (real image, mismatched caption) (the reference: another image
// with the matching text), and each branch's real image is area-averaged from the finest (the
// reference: the loader's resized copy). Without text (`conditional: false`) c is replaced by z, as in the paper's
// unconditional StackGAN++, and the model trains on whatever images the loop gives it.
//
// Text data (StackganTrainer, conditional StackganppTrainer): bind a TextImageDataset (the shape of
// data/emoji.ts loadEmojiText's result) with bindData() before training. The trainer then draws
// its own batches from it with its noise stream (so a checkpoint resumes them) and uses only the batch
// size of the images step() receives. The first `textSteps` steps pretrain the text encoder
// (TextPretrainer), which is frozen afterwards, as StackGAN's char-CNN-RNN is.
//
// Latent codes (noise / generate) pack everything a sample needs: [z | eps (one per CA) | caption bag
// of words]; noise() fills the caption part from the bound data (8 samples per caption), or zeros.
//
// Browser-safe: no Node imports.

import {
  Module, ModuleList, Sequential, Conv2d, BatchNorm1d, BatchNorm2d, Linear, ReLU, LeakyReLU, Tanh, Upsample,
} from '../engine/nn.js';
import { Adam } from '../engine/optim.js';
import { dcganInit_ } from '../engine/init.js';
import { Tensor, assign, tensor, tidy } from '../engine/tensor.js';
import { noGrad } from '../engine/tape.js';
import {
  add, avgPool2d, bceWithLogits, concat, exp, expand, gaussianKl, leakyRelu, matmul, mean, mul, mulScalar, narrow, randn, relu,
  reshape, sigmoid, square, sub, upsampleNearest, hostRandint, Generator,
} from '../engine/ops/index.js';
import { defaultInit_ } from './lib/networks.js';
import { stepOn } from './lib/step.js';
import { generateWith } from './lib/sample.js';
import { BowTextEncoder, TextPretrainHeads, TextPretrainer, bagOfWordsMatrix, hashedBagOfWords } from './text_encoder.js';
import type { GanTrainer, ModelConfig, ModelRecipe, StepStats, TrainingData, TrainSettings } from './registry.js';

// ---- conditioning augmentation ---------------------------------------------------------------------------

/** c = mu + exp(logvar / 2) * eps (the reparameterisation; differentiable in mu and logvar). */
export function reparameterize(mu: Tensor, logvar: Tensor, eps: Tensor): Tensor {
  return add(mu, mul(exp(mulScalar(logvar, 0.5)), eps));
}

/**
 * phi_t [N, E] -> (mu, logvar) [N, cDim] each by one Linear (followed by LeakyReLU(slope) when a
 * slope is given: StackGAN's TF code applies leaky_rectify 0.2 to the whole (mean, log sigma)
 * output), then c with the given eps [N, cDim].
 */
export class ConditioningAugmentation extends Module {
  fc: Linear;
  constructor(readonly embedDim: number, readonly cDim: number, readonly slope: number | null = null) {
    super();
    this.fc = new Linear(embedDim, 2 * cDim);
  }
  override forward(phi: Tensor, eps: Tensor): { c: Tensor; mu: Tensor; logvar: Tensor } {
    const h = this.slope === null ? this.fc.call(phi) : leakyRelu(this.fc.call(phi), this.slope);
    const mu = narrow(h, 1, 0, this.cDim);
    const logvar = narrow(h, 1, this.cDim, this.cDim);
    return { c: reparameterize(mu, logvar, eps), mu, logvar };
  }
}

/** The CA regulariser as the reference's KL_loss: KL(N(mu, e^logvar) || N(0, I)) averaged over elements. */
export function caKl(mu: Tensor, logvar: Tensor): Tensor {
  return gaussianKl(mu, logvar, { reduction: 'mean' });
}

// ---- building blocks --------------------------------------------------------------------------------------

/** Nearest 2x upsampling, conv3 (no bias), BN, ReLU. */
export function upBlock(cin: number, cout: number): Sequential {
  return new Sequential(new Upsample({ scaleFactor: 2 }), new Conv2d(cin, cout, 3, { padding: 1, bias: false }), new BatchNorm2d(cout), new ReLU());
}

/** relu(x + BN(conv3(ReLU(BN(conv3(x)))))), the reference's ResBlock. */
export class ResBlock extends Module {
  block: Sequential;
  constructor(ch: number) {
    super();
    this.block = new Sequential(
      new Conv2d(ch, ch, 3, { padding: 1, bias: false }), new BatchNorm2d(ch), new ReLU(),
      new Conv2d(ch, ch, 3, { padding: 1, bias: false }), new BatchNorm2d(ch),
    );
  }
  override forward(x: Tensor): Tensor {
    return relu(add(x, this.block.call(x)));
  }
}

/** A condition vector [N, C] replicated over an h x w grid: [N, C, h, w]. */
export function replicate(c: Tensor, h: number, w: number): Tensor {
  return expand(reshape(c, [c.shape[0], c.shape[1], 1, 1]), [c.shape[0], c.shape[1], h, w]);
}

/** Stride-2 convs from `size` down to 4x4: channels width * 2^i (capped at 8x), BN after the first. */
export function downToFour(nc: number, size: number, width: number): { net: Sequential; channels: number } {
  const layers: Module[] = [];
  let ch = nc;
  for (let i = 0, s = size; s > 4; i++, s /= 2) {
    const out = width << Math.min(i, 3);
    layers.push(new Conv2d(ch, out, 4, { stride: 2, padding: 1, bias: i === 0 }));
    if (i > 0) layers.push(new BatchNorm2d(out));
    layers.push(new LeakyReLU(0.2));
    ch = out;
  }
  return { net: new Sequential(...layers), channels: ch };
}

/** The conditional logit on 4x4 features: [features | compress(phi) replicated] -> conv3, BN, LReLU -> conv4 -> [N]. */
export class ConditionalLogit extends Module {
  compress: Sequential;
  joint: Sequential;
  out: Conv2d;
  constructor(channels: number, embedDim: number, nd: number) {
    super();
    this.compress = new Sequential(new Linear(embedDim, nd), new LeakyReLU(0.2));
    this.joint = new Sequential(new Conv2d(channels + nd, channels, 3, { padding: 1, bias: false }), new BatchNorm2d(channels), new LeakyReLU(0.2));
    this.out = new Conv2d(channels, 1, 4, { stride: 4 });
  }
  override forward(features: Tensor, phi: Tensor): Tensor {
    const [, , h, w] = features.shape;
    const joined = concat([features, replicate(this.compress.call(phi), h, w)], 1);
    return reshape(this.out.call(this.joint.call(joined)), [-1]);
  }
}

/** The reference's matching-aware terms of L_D (target and weight of each image/text pairing). */
export const MATCHING_AWARE_TERMS = [
  { image: 'real', text: 'matching', target: 1, weight: 1 },
  { image: 'real', text: 'mismatched', target: 0, weight: 0.5 },
  { image: 'fake', text: 'matching', target: 0, weight: 0.5 },
] as const;

/** L_D of StackGAN-v1 from the three logits (real/matching, real/mismatched, fake/matching). */
export function matchingAwareLossD(real: Tensor, wrong: Tensor, fake: Tensor): Tensor {
  const logits: Record<string, Tensor> = { 'real|matching': real, 'real|mismatched': wrong, 'fake|matching': fake };
  return MATCHING_AWARE_TERMS.map((t) => mulScalar(bceWithLogits(logits[`${t.image}|${t.text}`], t.target), t.weight)).reduce((a, b) => add(a, b));
}

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

// ---- colour consistency (StackGAN++) ------------------------------------------------------------------------

/** Per-image pixel mean [N, C] and covariance (1/P) sum (x - mu)(x - mu)^T [N, C, C]. */
export function colorMoments(img: Tensor): { mu: Tensor; cov: Tensor } {
  const [n, c, h, w] = img.shape;
  const mu = mean(img, [2, 3]);
  const centred = reshape(sub(img, reshape(mu, [n, c, 1, 1])), [n, c, h * w]);
  const cov = mulScalar(matmul(centred, centred, { transB: true }), 1 / (h * w));
  return { mu, cov };
}

/** lambda_1 mean (mu_f - mu_c)^2 + lambda_2 mean (Sigma_f - Sigma_c)^2; pass the coarser image detached. */
export function colorConsistency(fine: Tensor, coarse: Tensor, lambda1 = 1, lambda2 = 5): Tensor {
  const f = colorMoments(fine);
  const c = colorMoments(coarse);
  return add(mulScalar(mean(square(sub(f.mu, c.mu))), lambda1), mulScalar(mean(square(sub(f.cov, c.cov))), lambda2));
}

// ---- text data ------------------------------------------------------------------------------------------------

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
 * What bindData accepts: a TextImageDataset, or the CLI's TrainingData (registry.ts) whose `labels`
 * are the categories. Captions (`tokens`) and categories must both be there.
 */
export type CaptionedData = Omit<TextImageDataset, 'tokens' | 'category'> & Pick<TrainingData, 'labels' | 'tokens'> & { category?: ArrayLike<number> };

/** Checks a captioned set and builds its BoundTextData; `who` names the model in errors. */
function bindText(who: string, data: CaptionedData, buckets: number, expect: { channels: number; size: number }): BoundTextData {
  const category = data.category ?? data.labels;
  if (!data.tokens || !category) throw new Error(`${who}: the training data has no captions and categories (train on --dataset emoji-text)`);
  const bound = new BoundTextData({ ...data, tokens: data.tokens, category }, buckets, expect);
  if (bound.numCategories > 10) throw new Error(`${who}: the text encoder's category head has 10 classes, the data has ${bound.numCategories}`);
  return bound;
}

/** One training batch on the host. */
export interface TextBatch {
  indices: Int32Array;
  images: Float32Array;
  bow: Float32Array;
  bowWrong: Float32Array;
  categories: Int32Array;
}

/** A bound text-image set: bag-of-words rows precomputed, batches drawn with a Philox stream. */
export class BoundTextData {
  readonly bow: Float32Array;
  readonly keys: string[];
  readonly numCategories: number;
  readonly nc: number;
  readonly size: number;

  constructor(readonly data: TextImageDataset, readonly buckets: number, expect: { channels: number; size: number }) {
    const nc = data.c ?? Math.round(data.images.length / Math.max(1, data.n * data.h * data.w));
    if (data.h !== expect.size || data.w !== expect.size || nc !== expect.channels) {
      throw new Error(`bindData: the model expects ${expect.channels}x${expect.size}x${expect.size} images, the data set has ${nc}x${data.h}x${data.w} (load it with size ${expect.size})`);
    }
    if (data.n < 2 || data.tokens.length !== data.n || data.category.length !== data.n) {
      throw new Error(`bindData: need at least 2 images, each with tokens and a category (n ${data.n}, tokens ${data.tokens.length}, categories ${data.category.length})`);
    }
    this.nc = nc;
    this.size = data.h;
    this.bow = bagOfWordsMatrix(data.tokens, buckets);
    this.keys = data.tokens.map((t) => t.join(' '));
    let maxCat = 0;
    for (let i = 0; i < data.n; i++) maxCat = Math.max(maxCat, data.category[i]);
    this.numCategories = maxCat + 1;
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
}

/** Persistent GPU tensors a batch is uploaded into (reallocated only when the batch size changes). */
class BatchTensors {
  images: Tensor | null = null;
  bow: Tensor | null = null;
  bowWrong: Tensor | null = null;
  categories: Tensor | null = null;

  upload(b: TextBatch, nc: number, size: number, buckets: number): { images: Tensor; bow: Tensor; bowWrong: Tensor; categories: Tensor } {
    const n = b.indices.length;
    if (!this.images || this.images.shape[0] !== n) {
      for (const t of [this.images, this.bow, this.bowWrong, this.categories]) t?.dispose();
      this.images = tensor(new Float32Array(n * nc * size * size), [n, nc, size, size]).keep();
      this.bow = tensor(new Float32Array(n * buckets), [n, buckets]).keep();
      this.bowWrong = tensor(new Float32Array(n * buckets), [n, buckets]).keep();
      this.categories = tensor(new Int32Array(n), [n], 'int32').keep();
    }
    assign(this.images, b.images);
    assign(this.bow!, b.bow);
    assign(this.bowWrong!, b.bowWrong);
    assign(this.categories!, b.categories);
    return { images: this.images, bow: this.bow!, bowWrong: this.bowWrong!, categories: this.categories! };
  }
}

/** Caption rows for n latent codes: 8 consecutive codes share a caption drawn from the stream. */
function captionRows(data: BoundTextData | null, n: number, buckets: number, gen: Generator): Float32Array {
  const out = new Float32Array(n * buckets);
  if (!data) return out;
  const captions = data.drawIndices(Math.ceil(n / 8), gen);
  for (let i = 0; i < n; i++) {
    const c = captions[Math.floor(i / 8)];
    out.set(data.bow.subarray(c * buckets, (c + 1) * buckets), i * buckets);
  }
  return out;
}

/** Codes [n, nz + eps + buckets] from z and eps drawn from `gen` and the given caption rows. */
function packCodes(n: number, gaussianDims: number, rows: Float32Array, buckets: number, gen: Generator): Tensor {
  return tidy(() => concat([randn([n, gaussianDims], { generator: gen }), tensor(rows, [n, buckets])], 1));
}

// ---- StackGAN-v1 networks -----------------------------------------------------------------------------------

export interface StackganConfig {
  /** Stage-I image side (64 in the paper); Stage-II works at 4x. */
  stage1Size: number;
  /** Stride-2 convs encoding the Stage-I image in Stage-II (2 in the paper: 64 -> 16). */
  stage2Down: number;
  nc: number;
  nz: number;
  /** Conditioning code size (128 in the paper). */
  cDim: number;
  /** Text embedding size E. */
  embedDim: number;
  /** Hash buckets of the caption bag of words. */
  buckets: number;
  textHidden: number;
  /** Stage-I G: 8 ngf channels at 4x4. */
  ngf: number;
  ndf: number;
  /** Stage-II G: ngf2 channels after its first conv. */
  ngf2: number;
  ndf2: number;
  resBlocks: number;
  /** D's compressed text size N_d (128 in the paper). */
  nd: number;
  klWeight: number;
  /** Steps that pretrain the text encoder before the GAN starts. */
  textSteps: number;
  /** Steps of Stage-I training; Stage-II trains after them with Stage-I frozen. */
  stage1Steps: number;
  /** Width of the image encoder used by text pretraining. */
  imageWidth: number;
}

/** StackGAN-v1's CA: leaky_rectify(0.2) on the Linear's output, as the TF reference's generate_condition. */
const CA_SLOPE_V1 = 0.2;

export class Stage1Generator extends Module {
  ca: ConditioningAugmentation;
  fc: Sequential;
  ups: Sequential;
  img: Sequential;
  private readonly ch0: number;

  constructor(cfg: StackganConfig) {
    super();
    this.ch0 = cfg.ngf * 8;
    this.ca = new ConditioningAugmentation(cfg.embedDim, cfg.cDim, CA_SLOPE_V1);
    this.fc = new Sequential(new Linear(cfg.nz + cfg.cDim, this.ch0 * 16, { bias: false }), new BatchNorm1d(this.ch0 * 16), new ReLU());
    const blocks: Module[] = [];
    let ch = this.ch0;
    for (let s = 4; s < cfg.stage1Size; s *= 2) {
      const out = Math.max(1, ch >> 1);
      blocks.push(upBlock(ch, out));
      ch = out;
    }
    this.ups = new Sequential(...blocks);
    this.img = new Sequential(new Conv2d(ch, cfg.nc, 3, { padding: 1 }), new Tanh());
  }

  override forward(z: Tensor, phi: Tensor, eps: Tensor): { image: Tensor; mu: Tensor; logvar: Tensor } {
    const { c, mu, logvar } = this.ca.call(phi, eps);
    const h = reshape(this.fc.call(concat([z, c], 1)), [z.shape[0], this.ch0, 4, 4]);
    return { image: this.img.call(this.ups.call(h)), mu, logvar };
  }
}

export class Stage2Generator extends Module {
  encoder: Sequential;
  ca: ConditioningAugmentation;
  joint: Sequential;
  residual: Sequential;
  ups: Sequential;
  img: Sequential;

  constructor(cfg: StackganConfig) {
    super();
    let ch = cfg.ngf2;
    const enc: Module[] = [new Conv2d(cfg.nc, ch, 3, { padding: 1 }), new ReLU()];
    for (let i = 0; i < cfg.stage2Down; i++) {
      enc.push(new Conv2d(ch, ch * 2, 4, { stride: 2, padding: 1, bias: false }), new BatchNorm2d(ch * 2), new ReLU());
      ch *= 2;
    }
    this.encoder = new Sequential(...enc);
    this.ca = new ConditioningAugmentation(cfg.embedDim, cfg.cDim, CA_SLOPE_V1);
    this.joint = new Sequential(new Conv2d(ch + cfg.cDim, ch, 3, { padding: 1, bias: false }), new BatchNorm2d(ch), new ReLU());
    this.residual = new Sequential(...Array.from({ length: cfg.resBlocks }, () => new ResBlock(ch)));
    const ups: Module[] = [];
    for (let i = 0; i < cfg.stage2Down + 2; i++) {
      const out = Math.max(4, ch >> 1);
      ups.push(upBlock(ch, out));
      ch = out;
    }
    this.ups = new Sequential(...ups);
    this.img = new Sequential(new Conv2d(ch, cfg.nc, 3, { padding: 1 }), new Tanh());
  }

  /** Stage-I image [N, nc, s, s] -> Stage-II image [N, nc, 4s, 4s]. */
  override forward(stage1: Tensor, phi: Tensor, eps: Tensor): { image: Tensor; mu: Tensor; logvar: Tensor } {
    const { c, mu, logvar } = this.ca.call(phi, eps);
    const h = this.encoder.call(stage1);
    const [, , hh, hw] = h.shape;
    const joined = this.joint.call(concat([h, replicate(c, hh, hw)], 1));
    return { image: this.img.call(this.ups.call(this.residual.call(joined))), mu, logvar };
  }
}

/** A conditional discriminator at one resolution: downToFour + ConditionalLogit. */
export class ConditionalDiscriminator extends Module {
  features: Sequential;
  logit: ConditionalLogit;
  constructor(nc: number, size: number, ndf: number, embedDim: number, nd: number) {
    super();
    const { net, channels } = downToFour(nc, size, ndf);
    this.features = net;
    this.logit = new ConditionalLogit(channels, embedDim, nd);
  }
  override forward(x: Tensor, phi: Tensor): Tensor {
    return this.logit.call(this.features.call(x), phi);
  }
}

/** Everything sampling needs: the text encoder and both stages (one network for checkpoints and demos). */
export class StackganGenerator extends Module {
  text: BowTextEncoder;
  stage1: Stage1Generator;
  stage2: Stage2Generator;
  constructor(readonly cfg: StackganConfig) {
    super();
    this.text = new BowTextEncoder({ buckets: cfg.buckets, hidden: cfg.textHidden, embedDim: cfg.embedDim });
    this.stage1 = new Stage1Generator(cfg);
    this.stage2 = new Stage2Generator(cfg);
  }

  /** Elements of one latent code: z, one eps per stage, the caption's bag of words. */
  get codeDim(): number {
    return this.cfg.nz + 2 * this.cfg.cDim + this.cfg.buckets;
  }

  /** Splits codes into z, eps1, eps2 and the caption rows. */
  splitCode(code: Tensor): { z: Tensor; eps1: Tensor; eps2: Tensor; bow: Tensor } {
    const { nz, cDim, buckets } = this.cfg;
    if (code.rank !== 2 || code.shape[1] !== this.codeDim) throw new Error(`StackganGenerator: codes must be [N, ${this.codeDim}] (z ${nz}, eps 2 x ${cDim}, caption ${buckets}), got [${code.shape.join(', ')}]`);
    return { z: narrow(code, 1, 0, nz), eps1: narrow(code, 1, nz, cDim), eps2: narrow(code, 1, nz + cDim, cDim), bow: narrow(code, 1, nz + 2 * cDim, buckets) };
  }

  /** Stage-I's image alone (stageSize x stageSize), without running Stage-II. */
  stage1Image(code: Tensor): Tensor {
    const { z, eps1, bow } = this.splitCode(code);
    return this.stage1.call(z, this.text.call(bow), eps1).image;
  }

  /** [Stage-I image, Stage-II image] for the codes. */
  stages(code: Tensor): [Tensor, Tensor] {
    const { z, eps1, eps2, bow } = this.splitCode(code);
    const phi = this.text.call(bow);
    const s1 = this.stage1.call(z, phi, eps1).image;
    return [s1, this.stage2.call(s1, phi, eps2).image];
  }

  override forward(code: Tensor): Tensor {
    return this.stages(code)[1];
  }
}

export class StackganDiscriminator extends Module {
  stage1: ConditionalDiscriminator;
  stage2: ConditionalDiscriminator;
  constructor(cfg: StackganConfig) {
    super();
    this.stage1 = new ConditionalDiscriminator(cfg.nc, cfg.stage1Size, cfg.ndf, cfg.embedDim, cfg.nd);
    this.stage2 = new ConditionalDiscriminator(cfg.nc, 4 * cfg.stage1Size, cfg.ndf2, cfg.embedDim, cfg.nd);
  }
}

/** Runs only Stage-I (upsampled to the output size) through generateWith, for grids before Stage-II trains. */
class Stage1Only extends Module {
  constructor(readonly netG: StackganGenerator) {
    super();
  }
  override forward(code: Tensor): Tensor {
    return this.netG.stage1Image(code);
  }
}

/** Stage-I's image, nearest-upsampled to the output size (the grids before Stage-II trains). */
class Stage1Preview extends Module {
  constructor(readonly netG: StackganGenerator) {
    super();
  }
  override forward(code: Tensor): Tensor {
    return upsampleNearest(this.netG.stage1Image(code), 4);
  }
}

export type StackganPhase = 'text' | 'stage1' | 'stage2';

export class StackganTrainer implements GanTrainer {
  readonly nets: { netG: StackganGenerator; netD: StackganDiscriminator; netT: TextPretrainHeads };
  readonly optimizers: { netT: Adam; netG: Adam; netD: Adam; netG2: Adam; netD2: Adam };
  readonly rng: Generator;
  readonly sampler = 'netG';
  readonly cfg: StackganConfig;
  readonly pretrainer: TextPretrainer;
  private data: BoundTextData | null = null;
  private readonly batch = new BatchTensors();

  constructor(readonly config: ModelConfig, settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2'>, seed: number) {
    this.cfg = stackganConfig(config);
    this.rng = new Generator(seed);
    const netG = new StackganGenerator(this.cfg);
    const netD = new StackganDiscriminator(this.cfg);
    // The head has one class per emoji category (10); a data set with fewer classes leaves some unused.
    const netT = new TextPretrainHeads(this.cfg.nc, 4 * this.cfg.stage1Size, this.cfg.imageWidth, this.cfg.embedDim, 10);
    // DCGAN init for the image networks; the text encoder and its pretraining heads get PyTorch's
    // default init (N(0, 0.02) on a sparse bag of words would start them nearly silent), drawn from
    // the run's stream like the rest, so a seed decides the whole model.
    dcganInit_([...netG.stage1.modules(), ...netG.stage2.modules(), ...netD.modules()], this.rng);
    defaultInit_(netG.text, this.rng);
    defaultInit_(netT, this.rng);
    this.nets = { netG, netD, netT };
    this.pretrainer = new TextPretrainer(netG.text, netT);
    const opt = { lr: settings.lr, betas: [settings.beta1, settings.beta2] as [number, number] };
    this.optimizers = {
      netT: this.pretrainer.optimizer,
      netG: new Adam(netG.stage1, opt),
      netD: new Adam(netD.stage1, opt),
      netG2: new Adam(netG.stage2, opt),
      netD2: new Adam(netD.stage2, opt),
    };
  }

  /** Binds the captioned images (final-stage size) the trainer draws its batches from. */
  bindData(data: CaptionedData): void {
    this.data = bindText('stackgan', data, this.cfg.buckets, { channels: this.cfg.nc, size: 4 * this.cfg.stage1Size });
  }

  get boundData(): BoundTextData | null {
    return this.data;
  }

  /** Which part trains next, from the optimisers' step counts (so a resumed run continues the schedule). */
  get phase(): StackganPhase {
    if (this.optimizers.netT.stepCount(0) < this.cfg.textSteps) return 'text';
    if (this.optimizers.netD.stepCount(0) < this.cfg.stage1Steps) return 'stage1';
    return 'stage2';
  }

  noise(n: number, generator: Generator): Tensor {
    const { nz, cDim, buckets } = this.cfg;
    return packCodes(n, nz + 2 * cDim, captionRows(this.data, n, buckets, generator), buckets, generator);
  }

  /** Codes for explicit captions (token lists), one per caption, z and eps from `generator`. */
  codesForText(captions: readonly (readonly string[])[], generator: Generator): Tensor {
    const { nz, cDim, buckets } = this.cfg;
    const rows = new Float32Array(captions.length * buckets);
    captions.forEach((t, i) => hashedBagOfWords(t, buckets, rows, i * buckets));
    return packCodes(captions.length, nz + 2 * cDim, rows, buckets, generator);
  }

  step(real: Tensor, withStats: boolean): StepStats | null {
    if (!this.data) {
      throw new Error('stackgan: no captions bound; call trainer.bindData(loadEmojiText({ split: "train", set, size })) before training (the image batches alone carry no text)');
    }
    const n = real.shape[0];
    const b = this.batch.upload(this.data.gather(this.data.drawIndices(n, this.rng)), this.data.nc, this.data.size, this.cfg.buckets);
    const phase = this.phase;
    if (phase === 'text') return this.pretrainer.step(b.bow, b.images, b.categories, withStats);
    return tidy(() => (phase === 'stage1' ? this.stageStep(1, b, withStats) : this.stageStep(2, b, withStats)));
  }

  /**
   * One matching-aware GAN step of Stage-I (on the batch downsampled 4x) or Stage-II (Stage-I
   * frozen), as the TF reference's trainer: D's update and G's update are two runs of the graph, so
   * each draws its own z and eps (and, in Stage-II, its own Stage-I image); G is judged by the
   * updated D.
   */
  private stageStep(stage: 1 | 2, b: { images: Tensor; bow: Tensor; bowWrong: Tensor }, withStats: boolean): StepStats | null {
    const { netG, netD } = this.nets;
    const { nz, cDim, klWeight } = this.cfg;
    const n = b.images.shape[0];
    const [phi, phiWrong] = noGrad(() => [netG.text.call(b.bow), netG.text.call(b.bowWrong)]);
    const real = stage === 1 ? avgPool2d(b.images, 4) : b.images;
    const D = stage === 1 ? netD.stage1 : netD.stage2;
    const gen = stage === 1 ? netG.stage1 : netG.stage2;
    const [optG, optD] = stage === 1 ? [this.optimizers.netG, this.optimizers.netD] : [this.optimizers.netG2, this.optimizers.netD2];
    // One run of the generator on fresh noise: z, eps, then (Stage-II) the Stage-I eps.
    const sample = (): { image: Tensor; mu: Tensor; logvar: Tensor } => {
      const z = randn([n, nz], { generator: this.rng });
      const eps = randn([n, cDim], { generator: this.rng });
      if (stage === 1) return netG.stage1.call(z, phi, eps);
      const eps1 = randn([n, cDim], { generator: this.rng });
      const s1 = noGrad(() => netG.stage1.call(z, phi, eps1).image);
      return netG.stage2.call(s1, phi, eps);
    };

    const fakeForD = noGrad(() => sample().image);
    const realLogit = D.call(real, phi);
    const wrongLogit = D.call(real, phiWrong);
    const fakeLogitD = D.call(fakeForD, phi);
    const lossD = matchingAwareLossD(realLogit, wrongLogit, fakeLogitD);
    stepOn(lossD, D.parameters(), optD);

    const out = sample();
    const fakeLogitG = D.call(out.image, phi);
    const kl = caKl(out.mu, out.logvar);
    const lossG = add(bceWithLogits(fakeLogitG, 1), mulScalar(kl, klWeight));
    stepOn(lossG, gen.parameters(), optG, [D]);

    if (!withStats) return null;
    return noGrad(() => ({
      lossD: lossD.detach(),
      lossG: lossG.detach(),
      KL: kl.detach(),
      D_x: mean(sigmoid(realLogit.detach())),
      D_wrong: mean(sigmoid(wrongLogit.detach())),
      D_G_z: mean(sigmoid(fakeLogitD.detach())),
    }));
  }

  /**
   * Images in [-1, 1] at the output size (4 x stage1Size): Stage-II's once it trains, Stage-I's
   * (nearest-upsampled) before, so the training grids show the stage being learned.
   */
  generate(z: Tensor, opts: { batchStats?: boolean } = {}): Tensor {
    const net = this.phase === 'stage2' ? this.nets.netG : new Stage1Preview(this.nets.netG);
    return generateWith(net, z, opts.batchStats ?? true);
  }

  /** One stage's images at their own size: Stage-I (stage1Size) alone, or Stage-II (4 x stage1Size). */
  generateStage(z: Tensor, stage: 1 | 2, opts: { batchStats?: boolean } = {}): Tensor {
    return generateWith(stage === 1 ? new Stage1Only(this.nets.netG) : this.nets.netG, z, opts.batchStats ?? true);
  }

  /** [Stage-I images, Stage-II images] for codes. */
  generateStages(z: Tensor, opts: { batchStats?: boolean } = {}): [Tensor, Tensor] {
    const s = this.cfg.stage1Size;
    const n = z.shape[0];
    const nc = this.cfg.nc;
    return tidy(() => {
      const both = generateWith(new StagesFlat(this.nets.netG), z, opts.batchStats ?? true);
      return [reshape(narrow(both, 1, 0, nc * s * s), [n, nc, s, s]), reshape(narrow(both, 1, nc * s * s, 16 * nc * s * s), [n, nc, 4 * s, 4 * s])];
    });
  }
}

/** Both stages' images flattened side by side (for generateStages through generateWith). */
class StagesFlat extends Module {
  constructor(readonly netG: StackganGenerator) {
    super();
  }
  override forward(code: Tensor): Tensor {
    const [a, b] = this.netG.stages(code);
    return concat([reshape(a, [code.shape[0], -1]), reshape(b, [code.shape[0], -1])], 1);
  }
}

const num = (c: ModelConfig, k: string) => Number(c[k]);

export function stackganConfig(c: ModelConfig): StackganConfig {
  const keys = ['stage1Size', 'stage2Down', 'nz', 'cDim', 'embedDim', 'buckets', 'textHidden', 'ngf', 'ndf', 'ngf2', 'ndf2', 'resBlocks', 'nd', 'klWeight', 'textSteps', 'stage1Steps', 'imageWidth'] as const;
  const out = { nc: Number(c.nc ?? 3) } as StackganConfig;
  for (const k of keys) (out as unknown as Record<string, number>)[k] = num(c, k);
  return out;
}

// ---- StackGAN++ ------------------------------------------------------------------------------------------------

export interface StackganppConfig {
  /** Side of the first branch's image (64 in the paper); branch i is baseSize * 2^i. */
  baseSize: number;
  /** Branches of the tree (3 in the paper: 64, 128, 256). */
  branches: number;
  nc: number;
  nz: number;
  /** Condition on captions (true) or not (the paper's unconditional variant: z replaces c). */
  conditional: boolean;
  cDim: number;
  embedDim: number;
  buckets: number;
  textHidden: number;
  /** Channels of h_0 at the base size; each later branch halves them. */
  ngf: number;
  ndf: number;
  resBlocks: number;
  nd: number;
  klWeight: number;
  /** alpha of the colour-consistency term in unconditional runs (0 turns it off). */
  colorWeight: number;
  /** alpha in conditional runs (0, off, as the reference's text-conditioned configs). */
  colorWeightCond: number;
  /** lambda_1 (means) and lambda_2 (covariances) inside it. */
  colorMu: number;
  colorCov: number;
  /** Weight of the unconditional terms when conditional (the reference's UNCOND_LOSS, 1). */
  uncondWeight: number;
  textSteps: number;
  imageWidth: number;
}

/** Image side of branch i. */
export const branchSize = (cfg: Pick<StackganppConfig, 'baseSize'>, i: number) => cfg.baseSize << i;

/** F_i for i > 0: [h_{i-1} | c replicated] -> conv3, BN, ReLU -> residual blocks -> up block (halves the channels). */
export class NextStage extends Module {
  joint: Sequential;
  residual: Sequential;
  up: Sequential;
  constructor(ch: number, condDim: number, resBlocks: number) {
    super();
    this.joint = new Sequential(new Conv2d(ch + condDim, ch, 3, { padding: 1, bias: false }), new BatchNorm2d(ch), new ReLU());
    this.residual = new Sequential(...Array.from({ length: resBlocks }, () => new ResBlock(ch)));
    this.up = upBlock(ch, Math.max(4, ch >> 1));
  }
  override forward(h: Tensor, cond: Tensor): Tensor {
    const [, , hh, hw] = h.shape;
    return this.up.call(this.residual.call(this.joint.call(concat([h, replicate(cond, hh, hw)], 1))));
  }
}

export class StackganppGenerator extends Module {
  text: BowTextEncoder | null;
  ca: ConditioningAugmentation | null;
  fc: Sequential;
  base: Sequential;
  branches: ModuleList;
  images: ModuleList;
  private readonly ch0: number;

  constructor(readonly cfg: StackganppConfig) {
    super();
    const { nz, cDim, nc } = cfg;
    this.text = cfg.conditional ? new BowTextEncoder({ buckets: cfg.buckets, hidden: cfg.textHidden, embedDim: cfg.embedDim }) : null;
    this.ca = cfg.conditional ? new ConditioningAugmentation(cfg.embedDim, cDim) : null;
    const ups = Math.log2(cfg.baseSize / 4);
    this.ch0 = cfg.ngf << ups;
    const inDim = nz + (cfg.conditional ? cDim : 0);
    this.fc = new Sequential(new Linear(inDim, this.ch0 * 16, { bias: false }), new BatchNorm1d(this.ch0 * 16), new ReLU());
    const blocks: Module[] = [];
    let ch = this.ch0;
    for (let i = 0; i < ups; i++) {
      blocks.push(upBlock(ch, ch >> 1));
      ch >>= 1;
    }
    this.base = new Sequential(...blocks);
    const condDim = cfg.conditional ? cDim : nz;
    const next: Module[] = [];
    const heads: Module[] = [new Sequential(new Conv2d(ch, nc, 3, { padding: 1 }), new Tanh())];
    for (let i = 1; i < cfg.branches; i++) {
      next.push(new NextStage(ch, condDim, cfg.resBlocks));
      ch = Math.max(4, ch >> 1);
      heads.push(new Sequential(new Conv2d(ch, nc, 3, { padding: 1 }), new Tanh()));
    }
    this.branches = new ModuleList(next);
    this.images = new ModuleList(heads);
  }

  get codeDim(): number {
    const { nz, cDim, buckets, conditional } = this.cfg;
    return conditional ? nz + cDim + buckets : nz;
  }

  /** Images of every branch, coarsest first, and the CA statistics (null when unconditional). */
  branchImages(code: Tensor): { images: Tensor[]; mu: Tensor | null; logvar: Tensor | null } {
    const { nz, cDim, buckets } = this.cfg;
    if (code.rank !== 2 || code.shape[1] !== this.codeDim) throw new Error(`StackganppGenerator: codes must be [N, ${this.codeDim}], got [${code.shape.join(', ')}]`);
    const z = narrow(code, 1, 0, nz);
    let cond = z;
    let mu: Tensor | null = null;
    let logvar: Tensor | null = null;
    let fcIn = z;
    if (this.text && this.ca) {
      const phi = this.text.call(narrow(code, 1, nz + cDim, buckets));
      const ca = this.ca.call(phi, narrow(code, 1, nz, cDim));
      ({ mu, logvar } = ca);
      cond = ca.c;
      fcIn = concat([z, ca.c], 1);
    }
    let h = this.base.call(reshape(this.fc.call(fcIn), [code.shape[0], this.ch0, 4, 4]));
    const images = [(this.images.at(0) as Sequential).call(h)];
    for (let i = 1; i < this.cfg.branches; i++) {
      h = (this.branches.at(i - 1) as NextStage).call(h, cond);
      images.push((this.images.at(i) as Sequential).call(h));
    }
    return { images, mu, logvar };
  }

  /** The finest branch's image. */
  override forward(code: Tensor): Tensor {
    const { images } = this.branchImages(code);
    return images[images.length - 1];
  }
}

/** D_i: downToFour, an unconditional logit and (when conditional) a conditional one. */
export class BranchDiscriminator extends Module {
  features: Sequential;
  uncond: Conv2d;
  cond: ConditionalLogit | null;
  constructor(nc: number, size: number, ndf: number, cond: { embedDim: number; nd: number } | null) {
    super();
    const { net, channels } = downToFour(nc, size, ndf);
    this.features = net;
    this.uncond = new Conv2d(channels, 1, 4, { stride: 4 });
    this.cond = cond ? new ConditionalLogit(channels, cond.embedDim, cond.nd) : null;
  }
  /** Features [N, C, 4, 4] (run once, then ask for either logit). */
  override forward(x: Tensor): Tensor {
    return this.features.call(x);
  }
  uncondLogit(f: Tensor): Tensor {
    return reshape(this.uncond.call(f), [-1]);
  }
  condLogit(f: Tensor, phi: Tensor): Tensor {
    if (!this.cond) throw new Error('BranchDiscriminator: no conditional head (unconditional model)');
    return this.cond.call(f, phi);
  }
}

export class StackganppDiscriminator extends Module {
  branches: ModuleList;
  constructor(cfg: StackganppConfig) {
    super();
    const cond = cfg.conditional ? { embedDim: cfg.embedDim, nd: cfg.nd } : null;
    this.branches = new ModuleList(Array.from({ length: cfg.branches }, (_, i) => new BranchDiscriminator(cfg.nc, branchSize(cfg, i), cfg.ndf, cond)));
  }
  at(i: number): BranchDiscriminator {
    return this.branches.at(i) as BranchDiscriminator;
  }
}

export class StackganppTrainer implements GanTrainer {
  readonly nets: Record<string, Module> & { netG: StackganppGenerator; netD: StackganppDiscriminator };
  readonly optimizers: Record<string, Adam> & { netG: Adam; netD: Adam };
  readonly rng: Generator;
  readonly sampler = 'netG';
  readonly cfg: StackganppConfig;
  readonly pretrainer: TextPretrainer | null;
  private data: BoundTextData | null = null;
  private readonly batch = new BatchTensors();

  constructor(readonly config: ModelConfig, settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2'>, seed: number) {
    this.cfg = stackganppConfig(config);
    this.rng = new Generator(seed);
    const netG = new StackganppGenerator(this.cfg);
    const netD = new StackganppDiscriminator(this.cfg);
    const final = branchSize(this.cfg, this.cfg.branches - 1);
    const netT = this.cfg.conditional ? new TextPretrainHeads(this.cfg.nc, final, this.cfg.imageWidth, this.cfg.embedDim, 10) : null;
    // DCGAN init for the image networks, PyTorch's default for the text encoder (see StackganTrainer).
    dcganInit_([...netG.modules().filter((m) => !(netG.text && netG.text.modules().includes(m))), ...netD.modules()], this.rng);
    if (netG.text) defaultInit_(netG.text, this.rng);
    if (netT) defaultInit_(netT, this.rng);
    const opt = { lr: settings.lr, betas: [settings.beta1, settings.beta2] as [number, number] };
    // The text encoder is trained by the pretrainer only; netG's Adam covers the image path.
    const imagePath = netG.namedParameters().filter(([k]) => !k.startsWith('text.'));
    this.nets = netT ? { netG, netD, netT } : { netG, netD };
    this.pretrainer = netT && netG.text ? new TextPretrainer(netG.text, netT) : null;
    this.optimizers = { netG: new Adam(imagePath, opt), netD: new Adam(netD, opt), ...(this.pretrainer ? { netT: this.pretrainer.optimizer } : {}) };
  }

  /**
   * Conditional models: binds the captioned images (finest branch size) the batches are drawn from.
   * The unconditional model trains on the loop's images and ignores the call (so `gan train` can
   * bind whatever it loaded).
   */
  bindData(data: CaptionedData): void {
    if (!this.cfg.conditional) return;
    this.data = bindText('stackganpp --conditional', data, this.cfg.buckets, { channels: this.cfg.nc, size: branchSize(this.cfg, this.cfg.branches - 1) });
  }

  get phase(): 'text' | 'gan' {
    return this.pretrainer && this.pretrainer.optimizer.stepCount(0) < this.cfg.textSteps ? 'text' : 'gan';
  }

  noise(n: number, generator: Generator): Tensor {
    const { nz, cDim, buckets, conditional } = this.cfg;
    if (!conditional) return randn([n, nz], { generator });
    return packCodes(n, nz + cDim, captionRows(this.data, n, buckets, generator), buckets, generator);
  }

  /** Conditional models: codes for explicit captions (token lists), one per caption. */
  codesForText(captions: readonly (readonly string[])[], generator: Generator): Tensor {
    const { nz, cDim, buckets, conditional } = this.cfg;
    if (!conditional) throw new Error('stackganpp: codesForText() needs the conditional model');
    const rows = new Float32Array(captions.length * buckets);
    captions.forEach((t, i) => hashedBagOfWords(t, buckets, rows, i * buckets));
    return packCodes(captions.length, nz + cDim, rows, buckets, generator);
  }

  step(real: Tensor, withStats: boolean): StepStats | null {
    const { cfg } = this;
    if (!cfg.conditional) return tidy(() => this.ganStep(real, null, withStats));
    if (!this.data) throw new Error('stackganpp --conditional: no captions bound; call trainer.bindData(loadEmojiText(...)) first, or train without --conditional');
    const n = real.shape[0];
    const b = this.batch.upload(this.data.gather(this.data.drawIndices(n, this.rng)), this.data.nc, this.data.size, cfg.buckets);
    if (this.phase === 'text') return this.pretrainer!.step(b.bow, b.images, b.categories, withStats);
    return tidy(() => this.ganStep(b.images, b, withStats));
  }

  /** One joint step of every branch's D, then G on the sum of the branch losses + KL + colour consistency. */
  private ganStep(real: Tensor, text: { bow: Tensor; bowWrong: Tensor } | null, withStats: boolean): StepStats | null {
    const { netG, netD } = this.nets;
    const { cfg } = this;
    const n = real.shape[0];
    const finest = branchSize(cfg, cfg.branches - 1);
    if (real.shape[2] !== finest) throw new Error(`stackganpp: expects ${finest}x${finest} images, got [${real.shape.join(', ')}]`);
    let code: Tensor;
    let phi: Tensor | null = null;
    let phiWrong: Tensor | null = null;
    if (text && netG.text) {
      [phi, phiWrong] = noGrad(() => [netG.text!.call(text.bow), netG.text!.call(text.bowWrong)]);
      code = concat([randn([n, cfg.nz + cfg.cDim], { generator: this.rng }), text.bow], 1);
    } else {
      code = randn([n, cfg.nz], { generator: this.rng });
    }
    const { images: fakes, mu, logvar } = netG.branchImages(code);
    // Real images at every branch's scale: area-averaged from the finest.
    const reals = fakes.map((_, i) => (i === cfg.branches - 1 ? real : avgPool2d(real, finest / branchSize(cfg, i))));
    const uw = cfg.uncondWeight;

    const lossesD: Tensor[] = [];
    const realProbs: Tensor[] = [];
    const fakeProbs: Tensor[] = [];
    reals.forEach((x, i) => {
      const D = netD.at(i);
      const fr = D.call(x);
      const ff = D.call(fakes[i].detach());
      const ur = D.uncondLogit(fr);
      const uf = D.uncondLogit(ff);
      realProbs.push(sigmoid(ur.detach()));
      fakeProbs.push(sigmoid(uf.detach()));
      let l: Tensor;
      if (phi && phiWrong) {
        const uReal = mulScalar(bceWithLogits(ur, 1), uw);
        l = add(add(bceWithLogits(D.condLogit(fr, phi), 1), uReal), add(bceWithLogits(D.condLogit(fr, phiWrong), 0), uReal));
        l = add(l, add(bceWithLogits(D.condLogit(ff, phi), 0), mulScalar(bceWithLogits(uf, 0), uw)));
      } else {
        l = add(bceWithLogits(ur, 1), bceWithLogits(uf, 0));
      }
      lossesD.push(l);
    });
    const lossD = lossesD.reduce((a, b) => add(a, b));
    stepOn(lossD, netD.parameters(), this.optimizers.netD);

    let adv: Tensor | null = null;
    fakes.forEach((s, i) => {
      const D = netD.at(i);
      const f = D.call(s);
      let l = phi ? add(bceWithLogits(D.condLogit(f, phi), 1), mulScalar(bceWithLogits(D.uncondLogit(f), 1), uw)) : bceWithLogits(D.uncondLogit(f), 1);
      adv = adv ? add(adv, l) : l;
    });
    let lossG = adv!;
    let kl: Tensor | null = null;
    if (mu && logvar) {
      kl = caKl(mu, logvar);
      lossG = add(lossG, mulScalar(kl, cfg.klWeight));
    }
    // The reference's COLOR_LOSS: 50 in its unconditional configs, 0 (off) in its text-conditioned ones.
    const colorWeight = cfg.conditional ? cfg.colorWeightCond : cfg.colorWeight;
    let color: Tensor | null = null;
    if (colorWeight > 0) {
      for (let i = 1; i < cfg.branches; i++) {
        const term = colorConsistency(fakes[i], fakes[i - 1].detach(), cfg.colorMu, cfg.colorCov);
        color = color ? add(color, term) : term;
      }
      if (color) lossG = add(lossG, mulScalar(color, colorWeight));
    }
    stepOn(lossG, this.optimizers.netG.params, this.optimizers.netG);

    if (!withStats) return null;
    return noGrad(() => {
      const stats: StepStats = {
        lossD: lossD.detach(),
        lossG: lossG.detach(),
        D_x: mean(concat(realProbs, 0)),
        D_G_z: mean(concat(fakeProbs, 0)),
      };
      lossesD.forEach((l, i) => (stats[`lossD_${i}`] = l.detach()));
      if (kl) stats.KL = kl.detach();
      if (color) stats.color = color.detach();
      return stats;
    });
  }

  generate(z: Tensor, opts: { batchStats?: boolean } = {}): Tensor {
    return generateWith(this.nets.netG, z, opts.batchStats ?? true);
  }

  /** Every branch's images for codes, coarsest first. */
  generateBranches(z: Tensor, opts: { batchStats?: boolean } = {}): Tensor[] {
    const n = z.shape[0];
    const { nc, branches } = this.cfg;
    return tidy(() => {
      const flat = generateWith(new BranchesFlat(this.nets.netG), z, opts.batchStats ?? true);
      const out: Tensor[] = [];
      let off = 0;
      for (let i = 0; i < branches; i++) {
        const s = branchSize(this.cfg, i);
        out.push(reshape(narrow(flat, 1, off, nc * s * s), [n, nc, s, s]));
        off += nc * s * s;
      }
      return out;
    });
  }
}

class BranchesFlat extends Module {
  constructor(readonly netG: StackganppGenerator) {
    super();
  }
  override forward(code: Tensor): Tensor {
    return concat(this.netG.branchImages(code).images.map((t) => reshape(t, [code.shape[0], -1])), 1);
  }
}

export function stackganppConfig(c: ModelConfig): StackganppConfig {
  const keys = ['baseSize', 'branches', 'nz', 'cDim', 'embedDim', 'buckets', 'textHidden', 'ngf', 'ndf', 'resBlocks', 'nd', 'klWeight', 'colorWeight', 'colorMu', 'colorCov', 'uncondWeight', 'textSteps', 'imageWidth'] as const;
  const out = { nc: Number(c.nc ?? 3), conditional: c.conditional === true || c.conditional === 'true' } as StackganppConfig;
  for (const k of keys) (out as unknown as Record<string, number>)[k] = num(c, k);
  out.colorWeightCond = Number(c.colorWeightCond ?? 0);
  return out;
}

// ---- recipes ----------------------------------------------------------------------------------------------------

const int = (def: number, help: string) => ({ type: 'int' as const, default: def, help, metavar: 'N' });
const real_ = (def: number, help: string) => ({ type: 'number' as const, default: def, help });
const isPow2 = (v: number) => Number.isInteger(v) && v >= 1 && (v & (v - 1)) === 0;

function checkInts(c: ModelConfig, keys: readonly string[], lo: number, hi: number, errs: string[]): void {
  for (const k of keys) {
    const v = Number(c[k]);
    if (!Number.isInteger(v) || v < lo || v > hi) errs.push(`--${k.replace(/[A-Z0-9]/g, (m) => '-' + m.toLowerCase())} must be an integer in [${lo}, ${hi}], got ${c[k]}`);
  }
}

const TEXT_OPTIONS = {
  cDim: int(128, 'conditioning-augmentation code size (128 in the paper)'),
  embedDim: int(128, 'text embedding size'),
  buckets: int(1024, 'hash buckets of the caption bag of words'),
  textHidden: int(256, 'hidden units of the text encoder'),
  nd: int(128, "discriminators' compressed text size N_d"),
  klWeight: real_(2, 'weight of the conditioning-augmentation KL term (2: the reference code\'s TRAIN.COEFF.KL; the papers\' text says 1)'),
  textSteps: int(1000, 'text-encoder pretraining steps before the GAN starts'),
  imageWidth: int(16, 'width of the image encoder used by text pretraining'),
};

export const stackganRecipe: ModelRecipe = {
  name: 'stackgan',
  description: 'StackGAN (Zhang et al. 2017): text-conditioned two-stage GAN with conditioning augmentation (emoji captions)',
  reference: 'arXiv:1612.03242; github.com/hanzhanggit/StackGAN-Pytorch',
  options: {
    stage1Size: int(16, 'Stage-I image side (64 in the paper); Stage-II generates 4x that'),
    stage2Down: int(2, 'stride-2 convs encoding the Stage-I image in Stage-II (2 in the paper)'),
    nz: int(100, 'noise length'),
    ...TEXT_OPTIONS,
    ngf: int(128, 'Stage-I generator width: 8 ngf channels at 4x4 (GF_DIM 128 in the reference\'s birds config)'),
    ndf: int(64, 'Stage-I discriminator width (DF_DIM 64)'),
    ngf2: int(128, 'Stage-II generator width: its first conv (GF_DIM 128)'),
    ndf2: int(64, 'Stage-II discriminator width (DF_DIM 64)'),
    resBlocks: int(2, 'Stage-II residual blocks'),
    stage1Steps: int(3000, 'Stage-I training steps (after text pretraining); Stage-II trains after them'),
  },
  train: { steps: 8000, batch: 64, lr: 2e-4, beta1: 0.5, beta2: 0.999, sampleEvery: 500, ckptEvery: 1000, logEvery: 25, dataset: 'emoji-text' },
  // lr 1e-3 as DCGAN's quick preset: at 2e-4 the 150 Stage-II steps leave grey noise and the
  // matching-aware D has not yet told matching from mismatched captions (D_wrong = D_x); with a
  // Stage-II G of width 16 its D wins and G collapses to one grey-yellow image.
  quick: {
    steps: 450, batch: 16, lr: 1e-3, stage1Size: 8, stage2Down: 1, cDim: 32, embedDim: 64, textHidden: 128, nd: 32, ngf: 8, ndf: 8, ngf2: 32, ndf2: 8, resBlocks: 1,
    textSteps: 50, stage1Steps: 250, sampleEvery: 50, ckptEvery: 50, logEvery: 10,
  },
  paper: {
    values: { steps: 31450, stage1Size: 64, resBlocks: 4, klWeight: 1, stage1Steps: 15225 },
    sources: {
      steps: 'paper: 600 epochs of Stage-I, then 600 of Stage-II; with 1000 text steps, 1000 + 2 x 600 x 1624 / 64 on emoji-text',
      batch: 'paper: batch 64',
      lr: 'paper: Adam 0.0002, halved every 100 epochs (no halving here)',
      stage1Size: 'paper: Stage-I 64x64, Stage-II 256x256 (the 64 px emoji upsampled here)',
      stage2Down: 'paper: Stage-I image encoded to M_g = 16 (64 / 2^2)',
      cDim: 'paper: N_g = 128',
      nd: 'paper: N_d = 128',
      ngf: 'reference GF_DIM 128',
      ndf: 'reference DF_DIM 64',
      ngf2: 'reference GF_DIM 128 (Stage-II)',
      ndf2: 'reference DF_DIM 64 (Stage-II)',
      embedDim: 'the project\'s text encoder (the paper: 1024-d char-CNN-RNN embeddings); no paper counterpart',
      textHidden: 'the project\'s text encoder; no paper counterpart',
      resBlocks: 'paper: two residual blocks in 128x128 models, four in 256x256 ones; reference R_NUM 4 (coco_s2: 2)',
      klWeight: 'paper: lambda = 1 (the reference config: COEFF.KL 2.0)',
      stage1Steps: 'paper: 600 Stage-I epochs, 600 x 1624 / 64',
      textSteps: 'the paper uses the pretrained char-CNN-RNN embedding of Reed et al.; here a bag-of-words encoder pretrained for this many steps',
    },
    unconfirmed: ['klWeight'],
    note: 'CUB birds, Oxford flowers and COCO are not here: --paper trains on the emoji with their captions (emoji-text, 1624 training images, 64 px upsampled to 256). The text encoder is the project\'s bag-of-words one, not a char-CNN-RNN.',
  },
  adaptToData: (c, data) => ({ ...c, nc: data.channels }),
  imageShape: (c) => ({ channels: Number(c.nc ?? 3), size: 4 * Number(c.stage1Size) }),
  validate(c) {
    const errs: string[] = [];
    const s = Number(c.stage1Size);
    if (!isPow2(s) || s < 8 || s > 256) errs.push(`--stage1-size must be a power of two from 8 to 256, got ${c.stage1Size}`);
    const d = Number(c.stage2Down);
    if (!Number.isInteger(d) || d < 1 || (isPow2(s) && s >> d < 2)) errs.push(`--stage2-down must be an integer >= 1 leaving at least 2x2 (stage1Size / 2^d), got ${c.stage2Down}`);
    checkInts(c, ['nz', 'cDim', 'embedDim', 'buckets', 'textHidden', 'ngf', 'ndf', 'ngf2', 'ndf2', 'nd', 'imageWidth'], 1, 8192, errs);
    checkInts(c, ['resBlocks', 'textSteps', 'stage1Steps'], 0, 1e9, errs);
    if (!(Number(c.klWeight) >= 0)) errs.push(`--kl-weight must be >= 0, got ${c.klWeight}`);
    return errs;
  },
  create: (config, settings, seed) => new StackganTrainer(config, settings, seed),
};

export const stackganppRecipe: ModelRecipe = {
  name: 'stackganpp',
  description: 'StackGAN++ (Zhang et al. 2018): a tree of generators at 3 scales trained jointly, colour consistency; unconditional or text-conditioned',
  reference: 'arXiv:1710.10916; github.com/hanzhanggit/StackGAN-v2',
  options: {
    baseSize: int(16, "first branch's image side (64 in the paper, for 256 px images); branch i is baseSize * 2^i"),
    branches: int(3, 'branches of the tree (3 in the paper: 64, 128, 256)'),
    nz: int(100, 'noise length'),
    conditional: { type: 'boolean', default: false, help: 'condition on captions (needs a text data set bound: emoji text); off: unconditional, z joins every branch' },
    ...TEXT_OPTIONS,
    ngf: int(64, 'channels of h_0 at the base size (halved by each later branch)'),
    ndf: int(64, 'discriminator width'),
    resBlocks: int(2, 'residual blocks per branch (R_NUM 2 in the reference)'),
    colorWeight: real_(50, 'alpha of the colour-consistency regulariser (50 in the paper; 0: off)'),
    colorWeightCond: real_(0, 'alpha of the colour-consistency regulariser in conditional runs (0: off, as the reference\'s text-conditioned configs; --color-weight applies to unconditional runs)'),
    colorMu: real_(1, 'lambda_1: weight of the pixel-mean term'),
    colorCov: real_(5, 'lambda_2: weight of the pixel-covariance term'),
    uncondWeight: real_(1, 'weight of the unconditional terms when conditional (UNCOND_LOSS)'),
  },
  train: { steps: 8000, batch: 24, lr: 2e-4, beta1: 0.5, beta2: 0.999, sampleEvery: 500, ckptEvery: 1000, logEvery: 25, dataset: 'mnist' },
  // nz 32: unconditional, z is the condition replicated into every later branch's joint conv, so
  // its length sets most of G's cost; ngf 32 leaves 8 channels at the finest branch.
  quick: { steps: 150, batch: 16, baseSize: 8, nz: 32, ngf: 32, ndf: 8, resBlocks: 1, cDim: 32, embedDim: 64, textHidden: 128, nd: 32, textSteps: 100, sampleEvery: 50, ckptEvery: 50, logEvery: 10 },
  paper: {
    values: { steps: 41600, batch: 24, dataset: 'emoji-text', baseSize: 64, conditional: true, colorWeight: 0 },
    sources: {
      steps: 'reference birds_3stages.yml: MAX_EPOCH 600; 1000 text steps + 600 x 1624 / 24 on emoji-text',
      batch: 'reference birds_3stages.yml: BATCH_SIZE 24',
      lr: 'reference: DISCRIMINATOR_LR = GENERATOR_LR = 0.0002, Adam beta1 0.5',
      dataset: 'the paper\'s text-to-image set-up (CUB birds): captioned emoji here',
      baseSize: 'paper / reference TREE.BASE_SIZE 64: branches at 64, 128, 256 (the 64 px emoji upsampled here)',
      branches: 'reference TREE.BRANCH_NUM 3',
      conditional: 'reference birds_3stages.yml B_CONDITION True',
      colorWeight: 'reference COEFF.COLOR_LOSS 0 for conditional runs (50 in its unconditional LSUN / ImageNet configs)',
      uncondWeight: 'reference birds_3stages.yml UNCOND_LOSS 1.0',
      klWeight: 'reference config COEFF.KL 2.0',
      ngf: 'reference GF_DIM 64',
      ndf: 'reference DF_DIM 64',
      resBlocks: 'reference R_NUM 2',
      cDim: 'reference EMBEDDING_DIM 128',
      nz: 'reference Z_DIM 100',
      nd: 'reference: D compresses the text to EMBEDDING_DIM 128',
      embedDim: 'the project\'s text encoder (the paper: 1024-d char-CNN-RNN embeddings); no paper counterpart',
      textHidden: 'the project\'s text encoder; no paper counterpart',
      textSteps: 'the project\'s text encoder, pretrained for this many steps (the paper uses a pretrained char-CNN-RNN)',
    },
    note: 'The text-conditioned CUB birds set-up (birds_3stages.yml) on captioned emoji (64 px, upsampled to 256). The unconditional set-ups of the paper (LSUN bedroom / church, ImageNet dog / cat, colour loss 50) have no data set here alike; for them add --no-conditional --color-weight 50 --dataset emoji.',
  },
  adaptToData: (c, data) => ({ ...c, nc: data.channels }),
  imageShape: (c) => ({ channels: Number(c.nc ?? 1), size: Number(c.baseSize) << (Number(c.branches) - 1) }),
  validate(c) {
    const errs: string[] = [];
    const s = Number(c.baseSize);
    if (!isPow2(s) || s < 8 || s > 256) errs.push(`--base-size must be a power of two from 8 to 256, got ${c.baseSize}`);
    checkInts(c, ['branches'], 1, 4, errs);
    checkInts(c, ['nz', 'cDim', 'embedDim', 'buckets', 'textHidden', 'ngf', 'ndf', 'nd', 'imageWidth'], 1, 8192, errs);
    checkInts(c, ['resBlocks', 'textSteps'], 0, 1e9, errs);
    if (!(Number(c.colorWeightCond ?? 0) >= 0)) errs.push(`--color-weight-cond must be >= 0, got ${c.colorWeightCond}`);
    for (const k of ['klWeight', 'colorWeight', 'colorMu', 'colorCov', 'uncondWeight']) if (!(Number(c[k]) >= 0)) errs.push(`--${k.replace(/[A-Z]/g, (m) => '-' + m.toLowerCase())} must be >= 0, got ${c[k]}`);
    return errs;
  },
  create: (config, settings, seed) => new StackganppTrainer(config, settings, seed),
};
