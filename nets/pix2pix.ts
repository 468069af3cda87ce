// pix2pix: Isola, Zhu, Zhou & Efros, "Image-to-Image Translation with Conditional Adversarial
// Networks" (CVPR 2017), as in junyanz/pytorch-CycleGAN-and-pix2pix (models/pix2pix_model.py).
//
//   G: U-Net (unet_256 in the paper: 8 levels, skips, dropout 0.5 in the 3 innermost 512-channel
//      decoder levels, which stays on at test time: the model's only noise), batch norm
//   D: conditional PatchGAN on concat(A, B) (70x70 by default; 1x1, 16x16, 286x286 are the paper's
//      other patch sizes), batch norm, one logit per patch
//   D loss: 0.5 * [BCE(D(A, B), 1) + BCE(D(A, G(A)), 0)]
//   G loss: BCE(D(A, G(A)), 1) + lambda_L1 * |G(A) - B|_1, lambda_L1 = 100
//   Adam 2e-4, betas (0.5, 0.999); the rate held for the first half of training, then decayed
//   linearly to zero (100 + 100 epochs in the paper; here measured in steps).
//
// The networks are junyanz's networks.py (nets/lib/networks.ts). Data: one batch tensor carries
// both domains, A's channels then B's ([N, inputNc + outputNc, H, W], data/pairs.ts packPairs), so
// the trainer fits the CLI's one-tensor training loop. Everything a step allocates is freed inside
// it; D and G are updated once each per step, D first.

import { Generator, noGrad, tidy, ops, optim, type Tensor, type nn } from '../engine/index.js';
import { defineD, defineG, setTestTimeDropout } from './lib/networks.js';
import { GAN_LOSSES, ganLoss, type GanMode } from './lib/losses.js';
import { choice, defineModel, num, type ConfigOf } from './lib/model.js';
import {
  checkNetworks,
  decayFollowsSteps,
  decaySchedulers,
  domainChannels,
  heldOutTranslationPairs,
  lrSchedule,
  networkParams,
  packedShape,
  scheduleFromSteps,
  TwoDomainTrainer,
} from './lib/image2image.js';
import { generateWith } from './lib/sample.js';
import { minimize } from './lib/step.js';
import type { HeldOutPairs, TranslationEval } from './lib/translation.js';
import type { GanTrainer, ModelConfig, ModelRecipe, StepStats, TrainSettings } from './registry.js';

/** A pix2pix run's hyper-parameters (declared with the recipe below). */
export type Pix2pixConfig = ConfigOf<typeof params>;

// ---- the training step ------------------------------------------------------------------------------

export class Pix2pixTrainer extends TwoDomainTrainer implements GanTrainer {
  readonly nets: { netG: nn.Module; netD: nn.Module };
  readonly optimizers: { netG: optim.Adam; netD: optim.Adam };
  readonly schedulers: optim.LinearDecay[];
  readonly rng: Generator;
  readonly sampler = 'netG';
  readonly cfg: Pix2pixConfig;
  private readonly gan: (prediction: Tensor, real: boolean) => Tensor;

  constructor(
    readonly config: Pix2pixConfig,
    settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2' | 'steps'>,
    seed: number,
  ) {
    super(config, config.direction === 'AtoB' ? config.inputNc : config.outputNc);
    const cfg = config;
    this.cfg = config;
    this.rng = new Generator(seed);
    const { inputNc, outputNc } = this.generatorChannels();
    const netG = defineG(cfg.netG, { inputNc, outputNc, ngf: cfg.ngf, norm: cfg.norm, useDropout: cfg.dropout, rng: this.rng });
    // D is conditional: it sees the input image next to the real or generated output.
    const netD = defineD(cfg.netD, { inputNc: inputNc + outputNc, ndf: cfg.ndf, norm: cfg.norm, nLayers: cfg.nLayersD, rng: this.rng });
    this.nets = { netG, netD };
    const opts = { lr: settings.lr, betas: [settings.beta1, settings.beta2] as [number, number] };
    this.optimizers = { netG: new optim.Adam(netG, opts), netD: new optim.Adam(netD, opts) };
    this.schedulers = decaySchedulers(this.optimizers, cfg, settings.steps);
    this.gan = ganLoss(cfg.ganMode);
  }

  /** Channels of G's input and output after --direction. */
  private generatorChannels(): { inputNc: number; outputNc: number } {
    const { inputNc, outputNc, direction } = this.cfg;
    return direction === 'AtoB' ? { inputNc, outputNc } : { inputNc: outputNc, outputNc: inputNc };
  }

  /** Splits a packed batch [N, ncA + ncB, H, W] into G's input and its target (after --direction). */
  override split(batch: Tensor): { realA: Tensor; realB: Tensor } {
    const { realA: a, realB: b } = super.split(batch);
    return this.cfg.direction === 'AtoB' ? { realA: a, realB: b } : { realA: b, realB: a };
  }

  /** Replay: the rate schedule is set from the step counts; the path changes only while sample inputs are gathered. */
  readonly replay = {
    key: () => `gathering=${+this.samples.gathering}`,
    host: () => scheduleFromSteps(this.schedulers),
  };

  step(batch: Tensor, withStats: boolean): StepStats | null {
    const { netG, netD } = this.nets;
    scheduleFromSteps(this.schedulers);
    return tidy(() => {
      const { realA, realB } = this.split(batch);
      this.samples.offer(realA);
      const fakeB = netG.call(realA) as Tensor;
      const fakeAB = ops.concat([realA, fakeB], 1);
      const realAB = ops.concat([realA, realB], 1);

      // (1) D: real pairs to 1, generated pairs (detached: no gradient into G) to 0, halved.
      const predFake = netD.call(fakeAB.detach()) as Tensor;
      const predReal = netD.call(realAB) as Tensor;
      const lossDFake = this.gan(predFake, false);
      const lossDReal = this.gan(predReal, true);
      const lossD = lossDFake.add(lossDReal).mul(0.5);
      minimize(lossD, this.optimizers.netD);

      // (2) G: fool the updated D, and stay close to the target in L1.
      const predG = netD.call(fakeAB) as Tensor;
      const lossGGan = this.gan(predG, true);
      const lossGL1 = ops.l1(fakeB, realB).mul(this.cfg.lambdaL1);
      const lossG = lossGGan.add(lossGL1);
      minimize(lossG, this.optimizers.netG, { frozen: [netD] });

      if (!withStats) return null;
      return noGrad(() => ({
        loss_G_GAN: lossGGan.detach(),
        loss_G_L1: lossGL1.detach(),
        loss_D_real: lossDReal.detach(),
        loss_D_fake: lossDFake.detach(),
        ...(this.cfg.ganMode === 'vanilla' ? { D_x: predReal.sigmoid().mean(), D_G_x: predFake.sigmoid().mean() } : {}),
      }));
    });
  }

  /**
   * G(A) without gradients. By default as the reference's test script runs it (no eval()): batch
   * norm on the batch's own statistics (running statistics left as they were) and dropout on, the
   * paper's test-time noise; its masks come from the training stream (this.rng).
   * `batchStats: false` runs G in eval mode (running statistics, no dropout), deterministic;
   * `testDropout` then keeps dropout on.
   */
  generate(a: Tensor, opts: { batchStats?: boolean; testDropout?: boolean } = {}): Tensor {
    const netG = this.nets.netG;
    setTestTimeDropout(netG, !!opts.testDropout);
    try {
      return generateWith(netG, a, opts.batchStats ?? true);
    } finally {
      setTestTimeDropout(netG, false);
    }
  }

  /** Mean |G(A) - B| over a packed batch of held-out pairs, as a scalar tensor (eval mode by default). */
  evalL1(batch: Tensor, opts: { batchStats?: boolean } = {}): Tensor {
    return tidy(() => {
      const { realA, realB } = this.split(batch);
      const fake = this.generate(realA, { batchStats: opts.batchStats ?? false });
      return noGrad(() => ops.l1(fake, realB));
    });
  }
}

// ---- the declaration --------------------------------------------------------------------------------

const params = {
  ...networkParams({
    netG: ['unet_64', 'generator (unet_256 in the paper)'],
    netD: ['basic', 'discriminator: basic = 70x70 PatchGAN; pixel/patch16/patch286'],
    ngf: 'generator width (channels of its first layer)',
    ndf: 'discriminator width (channels of its first layer)',
    norm: ['batch', 'normalisation layers'],
    dropout: [true, "dropout 0.5 in the U-Net's inner decoder levels (--no-dropout to drop it)"],
  }),
  ganMode: choice(Object.keys(GAN_LOSSES) as GanMode[], 'vanilla', 'GAN loss: vanilla (BCE with logits), lsgan (MSE)'),
  lambdaL1: num(100, 'weight of the L1 term', { metavar: 'X' }),
  direction: choice(['AtoB', 'BtoA'] as const, 'AtoB', 'translate A -> B (Noto -> Twemoji) or B -> A'),
  ...lrSchedule,
  ...domainChannels,
};

export const pix2pixRecipe = defineModel(
  {
    name: 'pix2pix',
    description: 'pix2pix (Isola et al. 2017): U-Net G, conditional PatchGAN D, GAN + 100 L1; paired A -> B',
    paper: {
      label: 'pix2pix',
      title: 'Image-to-Image Translation with Conditional Adversarial Networks',
      authors: 'Phillip Isola, Jun-Yan Zhu, Tinghui Zhou, Alexei A. Efros',
      year: 2016,
      arxiv: '1611.07004',
      code: 'github.com/junyanz/pytorch-CycleGAN-and-pix2pix',
      summary: 'Paired translation with a U-Net generator, a PatchGAN discriminator and an L1 term.',
    },
    params,
    train: {
      steps: 4000,
      batch: 4,
      lr: 2e-4,
      beta1: 0.5,
      beta2: 0.999,
      sampleEvery: 500,
      ckptEvery: 1000,
      logEvery: 50,
      dataset: 'emoji-pairs',
    },
    // A few minutes on a software adapter: 32 px, a 5-level U-Net 8 wide, batch 4.
    quick: { steps: 300, batch: 4, imageSize: 32, netG: 'unet_32_dropout', ngf: 8, ndf: 8, sampleEvery: 100, ckptEvery: 100, logEvery: 20 },
    paperPreset: {
      values: { steps: 637800, batch: 1, imageSize: 256, netG: 'unet_256', lrHold: 318900, lrDecay: 318900 },
      sources: {
        steps: 'reference: 100 epochs at the base rate + 100 of linear decay (facades); 200 x the 3189 emoji-pairs at batch 1',
        batch: 'paper Sec. 3.3 / reference: batch 1 (batch norm over one image: instance-norm-like)',
        lr: 'paper Sec. 3.3: Adam 0.0002, beta1 0.5',
        imageSize: 'paper: 256x256 (the 64 px emoji upsampled here)',
        netG: 'paper Sec. 3.2 / Appendix 6.1.1: U-Net of 8 downsamplings at 256 px',
        ngf: 'Appendix 6.1.1: C64 first encoder layer',
        ndf: 'Appendix 6.1.2: 70x70 PatchGAN, C64-C128-C256-C512',
        lambdaL1: 'paper: lambda = 100',
        lrHold: 'reference n_epochs 100 (epochs at the base rate)',
        lrDecay: 'reference n_epochs_decay 100 (epochs of linear decay to 0)',
        dropout: 'paper Sec. 3.1: dropout 0.5 in the decoder as the noise, at train and test time',
      },
      note: "The paper's data sets (facades, maps, cityscapes, edges2shoes...) are not here: --paper trains on the Noto -> Twemoji emoji pairs, drawn at 64 px and upsampled to 256 (no extra detail). The reference's random jitter (resize to 286, crop 256) and mirroring are not applied.",
    },
    check: checkNetworks,
    imageShape: packedShape,
    create: (c, settings, seed) => new Pix2pixTrainer(c, settings, seed),
  },
  {
    async heldOutPairs(config: ModelConfig, { limit, dataset }: { limit?: number; dataset?: string }): Promise<HeldOutPairs> {
      const c = pix2pixRecipe.parse(config);
      return heldOutTranslationPairs('pix2pix', c, {
        dataset: dataset ?? pix2pixRecipe.train.dataset,
        limit,
        swap: c.direction === 'BtoA',
      });
    },
    // Eval mode (running statistics, no dropout): deterministic, and it leaves the training state
    // alone. The paper's own test protocol (batch statistics, dropout on) is generate()'s default.
    scheduleFollowsSteps: (config: ModelConfig): boolean => decayFollowsSteps(pix2pixRecipe.parse(config)),
    translate(trainer: GanTrainer, x: Tensor): Tensor {
      if (!(trainer instanceof Pix2pixTrainer)) throw new Error('pix2pix.translate: not a Pix2pixTrainer');
      return trainer.generate(x, { batchStats: false });
    },
    demo: {
      charts: [
        { title: 'GAN losses', keys: /^loss_(G_GAN|D_)/ },
        { title: 'L1 term (weighted by lambda_L1)', keys: /^loss_G_L1$/ },
        { title: 'Discriminator outputs', keys: /^D_/, yRange: [0, 1] },
      ],
      pages: [{ href: 'draw/', text: 'draw edges → emoji' }],
      // The draw page: edge maps (data/emoji.ts edgeMapCpu: Sobel, thinned, black on white) to the
      // Noto emoji they came from, 32 px, a 5-level U-Net.
      sketch: { dataset: 'emoji-edges', config: { imageSize: 32, netG: 'unet_32', ngf: 16, ndf: 16 } },
    },
  } satisfies TranslationEval & Partial<ModelRecipe>,
);
