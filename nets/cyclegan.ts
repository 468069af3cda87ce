// CycleGAN: Zhu, Park, Isola & Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent
// Adversarial Networks" (ICCV 2017), as in junyanz/pytorch-CycleGAN-and-pix2pix
// (models/cycle_gan_model.py).
//
//   G_A: A -> B and G_B: B -> A, ResNet generators (resnet_9blocks at 256 px), instance norm
//   D_A judges domain B (real B vs G_A(A)), D_B judges domain A; 70x70 PatchGANs
//   Losses, least squares (LSGAN) against targets 1 (real) / 0 (fake):
//     G: (D_A(G_A(A)) - 1)^2 + (D_B(G_B(B)) - 1)^2
//        + lambda_A |G_B(G_A(A)) - A|_1 + lambda_B |G_A(G_B(B)) - B|_1        (cycle, 10 each)
//        + lambda_idt (lambda_B |G_A(B) - B|_1 + lambda_A |G_B(A) - A|_1)     (identity, 0.5 x 10)
//     D_A: 0.5 [(D_A(B) - 1)^2 + D_A(pool_B(G_A(A)))^2], D_B likewise on domain A
//   The generators are updated first (the Ds held constant), then the Ds on images drawn from a
//   history of 50 generated images per domain (ImagePool, swapping with probability 1/2).
//   Adam 2e-4, betas (0.5, 0.999); the rate held for the first half of training, then decayed
//   linearly to zero (100 + 100 epochs in the paper; here measured in steps).
//
// The reference steps one Adam over both generators and one over both discriminators; Adam's update
// is per parameter, so one optimizer per network (as the CLI's checkpoints name them) is the same.
// The networks are junyanz's networks.py (nets/lib/networks.ts), the history nets/lib/pool.ts.
// Data: one batch tensor carries an A image and an (unrelated) B image per row, A's channels then
// B's ([N, inputNc + outputNc, H, W], data/pairs.ts packUnpaired); the losses never pair row i of A with row i
// of B, so the packing does not make training paired.

import { Generator, noGrad, tidy, type Tensor, ops, type nn, optim } from '../engine/index.js';
import { GAN_LOSSES, ganLoss, type GanMode } from './lib/losses.js';
import { ImagePool, ImagePoolState } from './lib/pool.js';
import { choice, defineModel, int, num, type ConfigOf } from './lib/model.js';
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
  twoWayNetworks,
} from './lib/image2image.js';
import type { HeldOutPairs, TranslationEval } from './lib/translation.js';
import { generateWith } from './lib/sample.js';
import { minimize } from './lib/step.js';
import type { GanTrainer, ModelConfig, ModelRecipe, StepStats, TrainSettings } from './registry.js';

/** A CycleGAN run's hyper-parameters (declared with the recipe below). */
export type CycleGanConfig = ConfigOf<typeof params>;

// ---- the training step ------------------------------------------------------------------------------

export class CycleGanTrainer extends TwoDomainTrainer implements GanTrainer {
  readonly nets: { netG_A: nn.Module; netG_B: nn.Module; netD_A: nn.Module; netD_B: nn.Module };
  readonly optimizers: { netG_A: optim.Adam; netG_B: optim.Adam; netD_A: optim.Adam; netD_B: optim.Adam };
  readonly schedulers: optim.LinearDecay[];
  readonly rng: Generator;
  readonly sampler = 'netG_A';
  readonly cfg: CycleGanConfig;
  /** Histories of generated images: fake B (for D_A) and fake A (for D_B). */
  readonly fakeBPool: ImagePool;
  readonly fakeAPool: ImagePool;
  /** The pools as checkpoint state (exact resume): fake B (D_A's history) and fake A (D_B's). */
  readonly trainingState: { pool_fake_B: ImagePoolState; pool_fake_A: ImagePoolState };
  private readonly gan: (prediction: Tensor, real: boolean) => Tensor;

  constructor(
    readonly config: CycleGanConfig,
    settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2' | 'steps'>,
    seed: number,
  ) {
    super(config);
    const cfg = config;
    this.cfg = config;
    this.rng = new Generator(seed);
    const { inputNc: ncA, outputNc: ncB } = cfg;
    this.nets = twoWayNetworks(cfg, this.rng);
    const opts = { lr: settings.lr, betas: [settings.beta1, settings.beta2] as [number, number] };
    const n = this.nets;
    this.optimizers = {
      netG_A: new optim.Adam(n.netG_A, opts),
      netG_B: new optim.Adam(n.netG_B, opts),
      netD_A: new optim.Adam(n.netD_A, opts),
      netD_B: new optim.Adam(n.netD_B, opts),
    };
    this.schedulers = decaySchedulers(this.optimizers, cfg, settings.steps);
    this.gan = ganLoss(cfg.ganMode);
    this.fakeBPool = new ImagePool(cfg.poolSize, seed ^ 0x5eed_b);
    this.fakeAPool = new ImagePool(cfg.poolSize, seed ^ 0x5eed_a);
    this.trainingState = {
      pool_fake_B: new ImagePoolState(this.fakeBPool, [ncB, cfg.imageSize, cfg.imageSize]),
      pool_fake_A: new ImagePoolState(this.fakeAPool, [ncA, cfg.imageSize, cfg.imageSize]),
    };
  }

  /**
   * Replay: as pix2pix's. The image pools replay too: their picks are drawn where their kernel's
   * per-step words are computed (nets/lib/pool.ts), so every step issues the same commands.
   */
  readonly replay = {
    key: () => `gathering=${+this.samples.gathering}`,
    host: () => scheduleFromSteps(this.schedulers),
  };

  step(batch: Tensor, withStats: boolean): StepStats | null {
    const { netG_A, netG_B, netD_A, netD_B } = this.nets;
    const { lambdaA, lambdaB, lambdaIdentity } = this.cfg;
    scheduleFromSteps(this.schedulers);
    return tidy(() => {
      const { realA, realB } = this.split(batch);
      this.samples.offer(realA);
      const fakeB = netG_A.call(realA) as Tensor;
      const recA = netG_B.call(fakeB) as Tensor;
      const fakeA = netG_B.call(realB) as Tensor;
      const recB = netG_A.call(fakeA) as Tensor;

      // (1) Both generators, with the discriminators held constant (one gradient, both stepped: the
      // reference's single Adam over G_A and G_B).
      const lossGA = this.gan(netD_A.call(fakeB) as Tensor, true);
      const lossGB = this.gan(netD_B.call(fakeA) as Tensor, true);
      const lossCycleA = ops.l1(recA, realA).mul(lambdaA);
      const lossCycleB = ops.l1(recB, realB).mul(lambdaB);
      let lossG = lossGA.add(lossGB).add(lossCycleA.add(lossCycleB));
      let lossIdtA: Tensor | null = null;
      let lossIdtB: Tensor | null = null;
      if (lambdaIdentity > 0) {
        // G_A should leave a B image alone, and G_B an A image.
        lossIdtA = ops.l1(netG_A.call(realB) as Tensor, realB).mul(lambdaB * lambdaIdentity);
        lossIdtB = ops.l1(netG_B.call(realA) as Tensor, realA).mul(lambdaA * lambdaIdentity);
        lossG = lossG.add(lossIdtA.add(lossIdtB));
      }
      minimize(lossG, [this.optimizers.netG_A, this.optimizers.netG_B], { frozen: [netD_A, netD_B] });

      // (2) Both discriminators, on real images and on images from the histories (detached).
      const basic = (netD: nn.Module, real: Tensor, fake: Tensor) => {
        const lossReal = this.gan(netD.call(real) as Tensor, true);
        const lossFake = this.gan(netD.call(fake) as Tensor, false);
        return lossReal.add(lossFake).mul(0.5);
      };
      const lossDA = basic(netD_A, realB, this.fakeBPool.query(fakeB));
      const lossDB = basic(netD_B, realA, this.fakeAPool.query(fakeA));
      minimize(lossDA, this.optimizers.netD_A);
      minimize(lossDB, this.optimizers.netD_B);

      if (!withStats) return null;
      return noGrad(() => ({
        loss_D_A: lossDA.detach(),
        loss_G_A: lossGA.detach(),
        loss_cycle_A: lossCycleA.detach(),
        ...(lossIdtA ? { loss_idt_A: lossIdtA.detach() } : {}),
        loss_D_B: lossDB.detach(),
        loss_G_B: lossGB.detach(),
        loss_cycle_B: lossCycleB.detach(),
        ...(lossIdtB ? { loss_idt_B: lossIdtB.detach() } : {}),
      }));
    });
  }

  /**
   * G_A(A) (or G_B(B) with `direction: 'BtoA'`) without gradients. Instance norm uses each image's
   * own statistics either way; batchStats (default true) matters only for --norm batch.
   */
  generate(x: Tensor, opts: { direction?: 'AtoB' | 'BtoA'; batchStats?: boolean } = {}): Tensor {
    const net = opts.direction === 'BtoA' ? this.nets.netG_B : this.nets.netG_A;
    return generateWith(net, x, opts.batchStats ?? true);
  }

  /** Mean |G_A(A) - B| over a packed batch of aligned held-out pairs (eval mode), as a scalar tensor. */
  evalL1(batch: Tensor): Tensor {
    return tidy(() => {
      const { realA, realB } = this.split(batch);
      const fake = this.generate(realA, { batchStats: false });
      return noGrad(() => ops.l1(fake, realB));
    });
  }

  override dispose(): void {
    super.dispose();
    this.fakeAPool.dispose();
    this.fakeBPool.dispose();
    for (const s of Object.values(this.trainingState)) s.dispose();
  }
}

// ---- the declaration --------------------------------------------------------------------------------

const params = {
  ...networkParams({
    netG: ['resnet_6blocks', 'generator (resnet_9blocks at 256 px, resnet_6blocks at 128 px in the paper)'],
    netD: ['basic', 'discriminator: basic = 70x70 PatchGAN'],
    ngf: 'generator width',
    ndf: 'discriminator width',
    norm: ['instance', 'normalisation layers'],
    dropout: [false, 'dropout 0.5 in the residual blocks (off in the paper)'],
  }),
  ganMode: choice(Object.keys(GAN_LOSSES) as GanMode[], 'lsgan', 'GAN loss: lsgan (MSE, the paper) or vanilla (BCE with logits)'),
  lambdaA: num(10, 'weight of the cycle loss A -> B -> A', { min: 0, metavar: 'X' }),
  lambdaB: num(10, 'weight of the cycle loss B -> A -> B', { min: 0, metavar: 'X' }),
  lambdaIdentity: num(0.5, 'identity loss weight relative to the cycle weights (0 to turn off)', { min: 0, metavar: 'X' }),
  poolSize: int(50, 'generated images kept for the discriminators (0: none)', { min: 0 }),
  ...lrSchedule,
  ...domainChannels,
};

export const cycleganRecipe = defineModel(
  {
    name: 'cyclegan',
    description: 'CycleGAN (Zhu et al. 2017): two ResNet Gs, two PatchGAN Ds, LSGAN + cycle + identity; unpaired A <-> B',
    paper: {
      label: 'CycleGAN',
      title: 'Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks',
      authors: 'Jun-Yan Zhu, Taesung Park, Phillip Isola, Alexei A. Efros',
      year: 2017,
      arxiv: '1703.10593',
      code: 'github.com/junyanz/pytorch-CycleGAN-and-pix2pix',
      summary: 'Two generators translating between unpaired domains, held together by a cycle-consistency loss.',
    },
    params,
    train: {
      steps: 4000,
      batch: 2,
      lr: 2e-4,
      beta1: 0.5,
      beta2: 0.999,
      sampleEvery: 500,
      ckptEvery: 1000,
      logEvery: 50,
      dataset: 'emoji-unpaired',
    },
    // Minutes on a software adapter, where the cost is per dispatch: 32 px, 3 residual blocks 8 wide.
    quick: { steps: 150, batch: 2, imageSize: 32, netG: 'resnet_3blocks', ngf: 8, ndf: 8, sampleEvery: 50, ckptEvery: 50, logEvery: 10 },
    paperPreset: {
      values: { steps: 321400, batch: 1, imageSize: 256, netG: 'resnet_9blocks', lrHold: 160700, lrDecay: 160700 },
      sources: {
        steps: 'paper Sec. 4 / Appendix 7.1: 100 epochs at 0.0002 then 100 of linear decay; 200 x the 1607 emoji-unpaired rows at batch 1',
        batch: 'Appendix 7.1: batch 1',
        lr: 'Appendix 7.1: Adam 0.0002, beta1 0.5',
        imageSize: 'paper: 256x256 (the 64 px emoji upsampled here)',
        netG: 'Appendix 7.2: 9 residual blocks for 256x256 training images',
        ngf: 'Appendix 7.2: c7s1-64 first layer',
        ndf: 'Appendix 7.2: 70x70 PatchGAN, C64-C128-C256-C512',
        lambdaA: 'paper Sec. 4: lambda = 10',
        lambdaB: 'paper Sec. 4: lambda = 10',
        lambdaIdentity: 'paper Sec. 5.2 / reference lambda_identity 0.5 (0.5 lambda; the paper uses it for painting <-> photo)',
        poolSize: 'paper Sec. 4: a history of 50 generated images',
        ganMode: 'paper Sec. 4: least-squares loss',
        lrHold: 'Appendix 7.1: 100 epochs at the base rate',
        lrDecay: 'Appendix 7.1: 100 epochs of linear decay to 0',
      },
      note: "The paper's unpaired sets (horse <-> zebra, monet <-> photo, maps...) are not here: --paper trains on the unpaired Noto / Twemoji emoji halves, drawn at 64 px and upsampled to 256. The reference's jitter (load 286, crop 256) and flips are not applied.",
    },
    check: checkNetworks,
    imageShape: packedShape,
    create: (c, settings, seed) => new CycleGanTrainer(c, settings, seed),
  },
  {
    bothWays: () => true,
    // Scored as A -> B (G_A) against the held-out partners: the unpaired training set never shows
    // them together, so they are ground truth the original CycleGAN datasets did not have.
    heldOutPairs: (config: ModelConfig, { limit, dataset }: { limit?: number; dataset?: string }): Promise<HeldOutPairs> =>
      heldOutTranslationPairs('cyclegan', cycleganRecipe.parse(config), { dataset: dataset ?? cycleganRecipe.train.dataset, limit }),
    scheduleFollowsSteps: (config: ModelConfig): boolean => decayFollowsSteps(cycleganRecipe.parse(config)),
    translate(trainer: GanTrainer, x: Tensor): Tensor {
      if (!(trainer instanceof CycleGanTrainer)) throw new Error('cyclegan.translate: not a CycleGanTrainer');
      return trainer.generate(x, { batchStats: false });
    },
    demo: {
      charts: [
        { title: 'Adversarial losses (LSGAN)', keys: /^loss_[DG]_/ },
        { title: 'Cycle and identity losses', keys: /^loss_(cycle|idt)_/ },
      ],
      blurb:
        'Trained on unpaired domains: the held-out partners are ground truth it never sees together. Flip the direction to see the other generator.',
    },
  } satisfies TranslationEval & Partial<ModelRecipe>,
);
