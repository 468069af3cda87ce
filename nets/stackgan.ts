// StackGAN: Zhang, Xu, Li, Zhang, Wang, Huang & Metaxas, "StackGAN: Text to Photo-realistic Image
// Synthesis with Stacked Generative Adversarial Networks" (ICCV 2017); reference hanzhanggit/StackGAN
// (the TF code, whose trainer the step follows) and StackGAN-Pytorch. Conditioned on emoji captions
// encoded by nets/lib/text_encoder.ts; the conditioning augmentation and the building blocks it
// shares with StackGAN++ (nets/stackganpp.ts) are in nets/lib/text_conditioning.ts.
//
// Conditioning augmentation: phi_t -> Linear -> LeakyReLU(0.2) (as the TF code; StackGAN-Pytorch
// uses ReLU) -> (mu, logvar), c = mu + exp(logvar / 2) * eps, eps ~ N(0, I); the generator adds
// lambda_KL * KL(N(mu, sigma^2) || N(0, I)), averaged over elements as the reference's KL_loss.
// lambda_KL = 2, as the reference repositories' configs (TRAIN.COEFF.KL: 2.0 in StackGAN's
// misc/config.py and its birds / flowers ymls, StackGAN-Pytorch's coco ymls); the paper's text sets
// lambda = 1 for all its experiments (--kl-weight 1 gives the paper's text).
//
// Two stages, trained one after the other:
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
// Schedule (StackganTrainer.phase, from the optimisers' step counts, so a resumed run continues it):
// the first `textSteps` steps pretrain the text encoder (TextPretrainer), which is frozen
// afterwards as StackGAN's char-CNN-RNN is; then `stage1Steps` steps of Stage-I; then Stage-II with
// Stage-I frozen.
//
// Data: bind the captioned images (data/text.ts CaptionedData: emoji-text) with bindData() before
// training. Each step draws its batch (images, captions, mismatched captions, categories) from the
// bound set with the trainer's own stream, so a checkpoint resumes the batches: TextSampler's draw
// made on the GPU (nets/lib/text_batches.ts), so the step replays;
// step(real) uses only real's batch size. (The CLI's loop draws image batches with its own loader
// stream, which cannot carry the captions in the reference's order; the step goldens, fed the
// reference's draws, pin the trainer's stream order: batch indices first, then z and eps.)
//
// Latent codes (noise / generate) pack everything a sample needs: [z | eps1 | eps2 | caption bag of
// words]; noise() fills the caption part from the bound data (8 samples per caption), or zeros.
//
// Browser-safe: no Node imports.

import { Generator, type Tensor, noGrad, tidy, init, nn, ops, optim } from '../engine/index.js';
import { captionRows, captionRowsOf, TextSampler, type CaptionedData, type TextBatchTensors } from '../data/text.js';
import { defaultInit_ } from './lib/networks.js';
import { minimize } from './lib/step.js';
import { TextBatches } from './lib/text_batches.js';
import { generateWith } from './lib/sample.js';
import { defineModel, int, parseConfig, type ConfigOf } from './lib/model.js';
import { BowTextEncoder, TextPretrainHeads, TextPretrainer } from './lib/text_encoder.js';
import {
  ConditionalLogit,
  ConditioningAugmentation,
  Forward,
  ResBlock,
  caKl,
  downToFour,
  flattenImages,
  replicate,
  splitImages,
  textCodes,
  textParams,
  upBlock,
} from './lib/text_conditioning.js';
import type { GanTrainer, ModelConfig, StepStats, TrainSettings } from './registry.js';

const { add, avgPool2d, bceWithLogits, concat, mean, mulScalar, narrow, randn, reshape, sigmoid, upsampleNearest } = ops;

/** StackGAN's hyper-parameters: the flags of `gan train stackgan`, their defaults and bounds. */
const params = {
  stage1Size: int(16, 'Stage-I image side (64 in the paper); Stage-II generates 4x that'),
  stage2Down: int(2, 'stride-2 convs encoding the Stage-I image in Stage-II (2 in the paper)'),
  nz: int(100, 'noise length', { min: 1, max: 8192 }),
  ...textParams,
  ngf: int(128, "Stage-I generator width: 8 ngf channels at 4x4 (GF_DIM 128 in the reference's birds config)", { min: 1, max: 8192 }),
  ndf: int(64, 'Stage-I discriminator width (DF_DIM 64)', { min: 1, max: 8192 }),
  ngf2: int(128, 'Stage-II generator width: its first conv (GF_DIM 128)', { min: 1, max: 8192 }),
  ndf2: int(64, 'Stage-II discriminator width (DF_DIM 64)', { min: 1, max: 8192 }),
  resBlocks: int(2, 'Stage-II residual blocks', { min: 0, max: 1e9 }),
  stage1Steps: int(3000, 'Stage-I training steps (after text pretraining); Stage-II trains after them', { min: 0, max: 1e9 }),
  nc: int(3, 'image channels, from the training data', { fromData: true }),
};

/** A StackGAN's hyper-parameters, typed. */
export type StackganConfig = ConfigOf<typeof params>;

// ---- networks ---------------------------------------------------------------------------------------------

const CA_SLOPE_V1 = 0.2;

export class Stage1Generator extends nn.Module {
  ca: ConditioningAugmentation;
  fc: nn.Sequential;
  ups: nn.Sequential;
  img: nn.Sequential;
  private readonly ch0: number;

  constructor(cfg: StackganConfig) {
    super();
    this.ch0 = cfg.ngf * 8;
    this.ca = new ConditioningAugmentation(cfg.embedDim, cfg.cDim, CA_SLOPE_V1);
    this.fc = new nn.Sequential(
      new nn.Linear(cfg.nz + cfg.cDim, this.ch0 * 16, { bias: false }),
      new nn.BatchNorm1d(this.ch0 * 16),
      new nn.ReLU(),
    );
    const blocks: nn.Module[] = [];
    let ch = this.ch0;
    for (let s = 4; s < cfg.stage1Size; s *= 2) {
      const out = Math.max(1, ch >> 1);
      blocks.push(upBlock(ch, out));
      ch = out;
    }
    this.ups = new nn.Sequential(...blocks);
    this.img = new nn.Sequential(new nn.Conv2d(ch, cfg.nc, 3, { padding: 1 }), new nn.Tanh());
  }

  override forward(z: Tensor, phi: Tensor, eps: Tensor): { image: Tensor; mu: Tensor; logvar: Tensor } {
    const { c, mu, logvar } = this.ca.call(phi, eps);
    const h = reshape(this.fc.call(concat([z, c], 1)), [z.shape[0], this.ch0, 4, 4]);
    return { image: this.img.call(this.ups.call(h)), mu, logvar };
  }
}

export class Stage2Generator extends nn.Module {
  encoder: nn.Sequential;
  ca: ConditioningAugmentation;
  joint: nn.Sequential;
  residual: nn.Sequential;
  ups: nn.Sequential;
  img: nn.Sequential;

  constructor(cfg: StackganConfig) {
    super();
    let ch = cfg.ngf2;
    const enc: nn.Module[] = [new nn.Conv2d(cfg.nc, ch, 3, { padding: 1 }), new nn.ReLU()];
    for (let i = 0; i < cfg.stage2Down; i++) {
      enc.push(new nn.Conv2d(ch, ch * 2, 4, { stride: 2, padding: 1, bias: false }), new nn.BatchNorm2d(ch * 2), new nn.ReLU());
      ch *= 2;
    }
    this.encoder = new nn.Sequential(...enc);
    this.ca = new ConditioningAugmentation(cfg.embedDim, cfg.cDim, CA_SLOPE_V1);
    this.joint = new nn.Sequential(new nn.Conv2d(ch + cfg.cDim, ch, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(ch), new nn.ReLU());
    this.residual = new nn.Sequential(...Array.from({ length: cfg.resBlocks }, () => new ResBlock(ch)));
    const ups: nn.Module[] = [];
    for (let i = 0; i < cfg.stage2Down + 2; i++) {
      const out = Math.max(4, ch >> 1);
      ups.push(upBlock(ch, out));
      ch = out;
    }
    this.ups = new nn.Sequential(...ups);
    this.img = new nn.Sequential(new nn.Conv2d(ch, cfg.nc, 3, { padding: 1 }), new nn.Tanh());
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
export class ConditionalDiscriminator extends nn.Module {
  features: nn.Sequential;
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
export class StackganGenerator extends nn.Module {
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
    if (code.rank !== 2 || code.shape[1] !== this.codeDim)
      throw new Error(
        `StackganGenerator: codes must be [N, ${this.codeDim}] (z ${nz}, eps 2 x ${cDim}, caption ${buckets}), got [${code.shape.join(', ')}]`,
      );
    return {
      z: narrow(code, 1, 0, nz),
      eps1: narrow(code, 1, nz, cDim),
      eps2: narrow(code, 1, nz + cDim, cDim),
      bow: narrow(code, 1, nz + 2 * cDim, buckets),
    };
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

export class StackganDiscriminator extends nn.Module {
  stage1: ConditionalDiscriminator;
  stage2: ConditionalDiscriminator;
  constructor(cfg: StackganConfig) {
    super();
    this.stage1 = new ConditionalDiscriminator(cfg.nc, cfg.stage1Size, cfg.ndf, cfg.embedDim, cfg.nd);
    this.stage2 = new ConditionalDiscriminator(cfg.nc, 4 * cfg.stage1Size, cfg.ndf2, cfg.embedDim, cfg.nd);
  }
}

/** Runs only Stage-I (upsampled to the output size) through generateWith, for grids before Stage-II trains. */

// ---- the matching-aware loss ------------------------------------------------------------------------------

/** The reference's matching-aware terms of L_D (target and weight of each image/text pairing). */
export const MATCHING_AWARE_TERMS = [
  { image: 'real', text: 'matching', target: 1, weight: 1 },
  { image: 'real', text: 'mismatched', target: 0, weight: 0.5 },
  { image: 'fake', text: 'matching', target: 0, weight: 0.5 },
] as const;

/** L_D of StackGAN-v1 from the three logits (real/matching, real/mismatched, fake/matching). */
export function matchingAwareLossD(real: Tensor, wrong: Tensor, fake: Tensor): Tensor {
  const logits: Record<string, Tensor> = { 'real|matching': real, 'real|mismatched': wrong, 'fake|matching': fake };
  return MATCHING_AWARE_TERMS.map((t) => mulScalar(bceWithLogits(logits[`${t.image}|${t.text}`], t.target), t.weight)).reduce((a, b) =>
    add(a, b),
  );
}

// ---- the training step -------------------------------------------------------------------------------------

export type StackganPhase = 'text' | 'stage1' | 'stage2';

export class StackganTrainer implements GanTrainer {
  readonly nets: { netG: StackganGenerator; netD: StackganDiscriminator; netT: TextPretrainHeads };
  readonly optimizers: { netT: optim.Adam; netG: optim.Adam; netD: optim.Adam; netG2: optim.Adam; netD2: optim.Adam };
  readonly rng: Generator;
  readonly sampler = 'netG';
  readonly cfg: StackganConfig;
  readonly pretrainer: TextPretrainer;
  private data: TextSampler | null = null;
  /** The batches: drawn and gathered on the GPU when the bound set fits there (nets/lib/text_batches.ts). */
  private batches: TextBatches | null = null;

  /** `config`: any subset of the hyper-parameters (the rest take their declared defaults). */
  constructor(
    readonly config: ModelConfig,
    settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2'>,
    seed: number,
  ) {
    this.cfg = parseConfig(params, config);
    this.rng = new Generator(seed);
    const netG = new StackganGenerator(this.cfg);
    const netD = new StackganDiscriminator(this.cfg);
    // The head has one class per emoji category (10); a data set with fewer classes leaves some unused.
    const netT = new TextPretrainHeads(this.cfg.nc, 4 * this.cfg.stage1Size, this.cfg.imageWidth, this.cfg.embedDim, 10);
    // DCGAN init for the image networks; the text encoder and its pretraining heads get PyTorch's
    // default init (N(0, 0.02) on a sparse bag of words would start them nearly silent), drawn from
    // the run's stream like the rest, so a seed decides the whole model.
    init.dcganInit_([...netG.stage1.modules(), ...netG.stage2.modules(), ...netD.modules()], this.rng);
    defaultInit_(netG.text, this.rng);
    defaultInit_(netT, this.rng);
    this.nets = { netG, netD, netT };
    this.pretrainer = new TextPretrainer(netG.text, netT);
    const opt = { lr: settings.lr, betas: [settings.beta1, settings.beta2] as [number, number] };
    this.optimizers = {
      netT: this.pretrainer.optimizer,
      netG: new optim.Adam(netG.stage1, opt),
      netD: new optim.Adam(netD.stage1, opt),
      netG2: new optim.Adam(netG.stage2, opt),
      netD2: new optim.Adam(netD.stage2, opt),
    };
  }

  /** Binds the captioned images (final-stage size) the trainer draws its batches from. */
  bindData(data: CaptionedData): void {
    this.data = new TextSampler('stackgan', data, this.cfg.buckets, { channels: this.cfg.nc, size: 4 * this.cfg.stage1Size });
    this.batches?.dispose();
    this.batches = new TextBatches(this.data);
  }

  /** Which part trains next, from the optimisers' step counts (so a resumed run continues the schedule). */
  get phase(): StackganPhase {
    if (this.optimizers.netT.stepCount(0) < this.cfg.textSteps) return 'text';
    if (this.optimizers.netD.stepCount(0) < this.cfg.stage1Steps) return 'stage1';
    return 'stage2';
  }

  noise(n: number, generator: Generator): Tensor {
    const { nz, cDim, buckets } = this.cfg;
    return textCodes(n, nz + 2 * cDim, captionRows(this.data, n, buckets, generator), buckets, generator);
  }

  /** Codes for explicit captions (token lists), one per caption, z and eps from `generator`. */
  codesForText(captions: readonly (readonly string[])[], generator: Generator): Tensor {
    const { nz, cDim, buckets } = this.cfg;
    return textCodes(captions.length, nz + 2 * cDim, captionRowsOf(captions, buckets), buckets, generator);
  }

  /**
   * Replay: each step's batch (images, captions, mismatched captions, categories) is drawn and
   * gathered on the GPU (nets/lib/text_batches.ts: the host sampler's draw and rows, bit for bit), so
   * a step issues the same commands every step; the key is the phase (text pretraining, Stage-I,
   * Stage-II). A bound set too large for the GPU copy is gathered on the host and steps eagerly.
   */
  readonly replay = {
    key: () => (this.batches?.replayable ? `phase=${this.phase}` : null),
    why: () =>
      this.batches
        ? `stackgan: ${this.batches.why}, so it steps eagerly`
        : 'stackgan: no captions bound yet (bindData), so it steps eagerly',
  };

  step(real: Tensor, withStats: boolean): StepStats | null {
    if (!this.data || !this.batches) {
      throw new Error(
        'stackgan: no captions bound; call trainer.bindData(loadEmojiText({ split: "train", set, size })) before training (the image batches alone carry no text)',
      );
    }
    const n = real.shape[0];
    const batches = this.batches;
    const phase = this.phase;
    return tidy(() => {
      const b = batches.batch(n, this.rng);
      if (phase === 'text') return this.pretrainer.step(b.bow, b.images, b.categories, withStats);
      return phase === 'stage1' ? this.stageStep(1, b, withStats) : this.stageStep(2, b, withStats);
    });
  }

  /** Frees the networks, optimizers and the bound set's GPU copy. */
  dispose(): void {
    for (const o of Object.values(this.optimizers)) o.dispose();
    for (const net of Object.values(this.nets)) net.dispose();
    this.batches?.dispose();
    this.batches = null;
  }

  /**
   * One matching-aware GAN step of Stage-I (on the batch downsampled 4x) or Stage-II (Stage-I
   * frozen), as the TF reference's trainer: D's update and G's update are two runs of the graph, so
   * each draws its own z and eps (and, in Stage-II, its own Stage-I image); G is judged by the
   * updated D.
   */
  private stageStep(stage: 1 | 2, b: TextBatchTensors, withStats: boolean): StepStats | null {
    const { netG, netD } = this.nets;
    const { nz, cDim, klWeight } = this.cfg;
    const n = b.images.shape[0];
    const [phi, phiWrong] = noGrad(() => [netG.text.call(b.bow), netG.text.call(b.bowWrong)]);
    const real = stage === 1 ? avgPool2d(b.images, 4) : b.images;
    const D = stage === 1 ? netD.stage1 : netD.stage2;
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
    minimize(lossD, optD);

    const out = sample();
    const fakeLogitG = D.call(out.image, phi);
    const kl = caKl(out.mu, out.logvar);
    const lossG = add(bceWithLogits(fakeLogitG, 1), mulScalar(kl, klWeight));
    minimize(lossG, optG, { frozen: [D] });

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
    const netG = this.nets.netG;
    const net = this.phase === 'stage2' ? netG : new Forward(netG, (code) => upsampleNearest(netG.stage1Image(code), 4));
    return generateWith(net, z, opts.batchStats ?? true);
  }

  /** One stage's images at their own size: Stage-I (stage1Size) alone, or Stage-II (4 x stage1Size). */
  generateStage(z: Tensor, stage: 1 | 2, opts: { batchStats?: boolean } = {}): Tensor {
    const netG = this.nets.netG;
    return generateWith(stage === 1 ? new Forward(netG, (code) => netG.stage1Image(code)) : netG, z, opts.batchStats ?? true);
  }

  /** [Stage-I images, Stage-II images] for codes. */
  generateStages(z: Tensor, opts: { batchStats?: boolean } = {}): [Tensor, Tensor] {
    const s = this.cfg.stage1Size;
    const netG = this.nets.netG;
    return tidy(() => {
      const both = generateWith(new Forward(netG, (code) => flattenImages(netG.stages(code))), z, opts.batchStats ?? true);
      const [s1, s2] = splitImages(both, this.cfg.nc, [s, 4 * s]);
      return [s1, s2];
    });
  }
}

// ---- the declaration --------------------------------------------------------------------------------------

const isPow2 = (v: number) => Number.isInteger(v) && v >= 1 && (v & (v - 1)) === 0;

export const stackganRecipe = defineModel(
  {
    name: 'stackgan',
    description: 'StackGAN (Zhang et al. 2017): text-conditioned two-stage GAN with conditioning augmentation (emoji captions)',
    paper: {
      label: 'StackGAN',
      title: 'StackGAN: Text to Photo-realistic Image Synthesis with Stacked Generative Adversarial Networks',
      authors: 'Han Zhang, Tao Xu, Hongsheng Li, Shaoting Zhang, Xiaogang Wang, Xiaolei Huang, Dimitris Metaxas',
      year: 2016,
      arxiv: '1612.03242',
      code: 'github.com/hanzhanggit/StackGAN-Pytorch',
      summary:
        'Text-to-image in two stages: a sketch from the caption, then a refinement, with conditioning augmentation on the text code.',
    },
    params,
    train: {
      steps: 8000,
      batch: 64,
      lr: 2e-4,
      beta1: 0.5,
      beta2: 0.999,
      sampleEvery: 500,
      ckptEvery: 1000,
      logEvery: 25,
      dataset: 'emoji-text',
    },
    // lr 1e-3 as DCGAN's quick preset: at 2e-4 the 150 Stage-II steps leave grey noise and the
    // matching-aware D has not yet told matching from mismatched captions (D_wrong = D_x); with a
    // Stage-II G of width 16 its D wins and G collapses to one grey-yellow image.
    quick: {
      steps: 450,
      batch: 16,
      lr: 1e-3,
      stage1Size: 8,
      stage2Down: 1,
      cDim: 32,
      embedDim: 64,
      textHidden: 128,
      nd: 32,
      ngf: 8,
      ndf: 8,
      ngf2: 32,
      ndf2: 8,
      resBlocks: 1,
      textSteps: 50,
      stage1Steps: 250,
      sampleEvery: 50,
      ckptEvery: 50,
      logEvery: 10,
    },
    paperPreset: {
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
        embedDim: "the project's text encoder (the paper: 1024-d char-CNN-RNN embeddings); no paper counterpart",
        textHidden: "the project's text encoder; no paper counterpart",
        resBlocks: 'paper: two residual blocks in 128x128 models, four in 256x256 ones; reference R_NUM 4 (coco_s2: 2)',
        klWeight: 'paper: lambda = 1 (the reference config: COEFF.KL 2.0)',
        stage1Steps: 'paper: 600 Stage-I epochs, 600 x 1624 / 64',
        textSteps:
          'the paper uses the pretrained char-CNN-RNN embedding of Reed et al.; here a bag-of-words encoder pretrained for this many steps',
      },
      unconfirmed: ['klWeight'],
      note: "CUB birds, Oxford flowers and COCO are not here: --paper trains on the emoji with their captions (emoji-text, 1624 training images, 64 px upsampled to 256). The text encoder is the project's bag-of-words one, not a char-CNN-RNN.",
    },
    check(c) {
      const errs: string[] = [];
      const s = c.stage1Size;
      if (!isPow2(s) || s < 8 || s > 256) errs.push(`--stage1-size must be a power of two from 8 to 256, got ${c.stage1Size}`);
      const d = c.stage2Down;
      if (!Number.isInteger(d) || d < 1 || (isPow2(s) && s >> d < 2))
        errs.push(`--stage2-down must be an integer >= 1 leaving at least 2x2 (stage1Size / 2^d), got ${c.stage2Down}`);
      return errs;
    },
    adaptToData: (_c, data) => ({ nc: data.channels }),
    imageShape: (c) => ({ channels: c.nc, size: 4 * c.stage1Size }),
    create: (c, settings, seed) => new StackganTrainer(c, settings, seed),
  },
  {
    /** Conditioned on captions: `gan sample --caption`, `gan eval`'s conditional accuracy. */
    text: {
      conditioned: () => true,
      codes: (trainer: GanTrainer, captions: readonly (readonly string[])[], generator: Generator) =>
        (trainer as StackganTrainer).codesForText(captions, generator),
    },
    /** Stage-I, then Stage-II: `gan sample --stage`, `gan eval --stage`. */
    stages: {
      count: 2,
      label: (stage: number) => (stage === 1 ? 'Stage-I' : 'Stage-II'),
      reached: (trainer: GanTrainer) => ((trainer as StackganTrainer).phase === 'stage2' ? 2 : 1),
      phase: (trainer: GanTrainer) => (trainer as StackganTrainer).phase,
      size(config: ModelConfig, stage: number) {
        const c = parseConfig(params, config);
        return stage === 1 ? c.stage1Size : 4 * c.stage1Size;
      },
      generate: (trainer: GanTrainer, z: Tensor, stage: number, opts: { batchStats?: boolean }) =>
        (trainer as StackganTrainer).generateStage(z, stage === 1 ? 1 : 2, opts),
    },
  },
);
