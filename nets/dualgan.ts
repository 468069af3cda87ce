// DualGAN: Yi, Zhang, Tan & Gong, "DualGAN: Unsupervised Dual Learning for Image-to-Image
// Translation" (ICCV 2017), reference duxingren14/DualGAN (TensorFlow).
//
//   G_A: U -> V (here A -> B) and G_B: V -> U, U-Net generators (pix2pix's, skips, dropout 0.5 in
//        the inner decoder levels as the noise z); D_A critic of domain B (real v vs G_A(u)), D_B of
//        domain A; 70x70 PatchGANs WITHOUT a sigmoid: their outputs are Wasserstein critic scores
//   critic losses (Wasserstein, Arjovsky et al.), per critic and averaged over the patch map:
//     l_D_A = D_A(G_A(u)) - D_A(v)          l_D_B = D_B(G_B(v)) - D_B(u)
//   generator loss (eq. 3 of the paper), L1 averaged over pixels:
//     l_G = lambda_U |u - G_B(G_A(u))| + lambda_V |v - G_A(G_B(v))| - D_A(G_A(u)) - D_B(G_B(v))
//   Algorithm 1: n_critic critic updates (RMSProp 5e-5, each followed by clipping every critic
//   parameter to [-c, c]), then one generator update (RMSProp 5e-5). --gp replaces the clipping by
//   the WGAN-GP penalty 10 * (|grad D(x_hat)| - 1)^2 (Gulrajani et al.; the reference's later
//   'wgan-gp' mode), computed through a double backward.
//
// Choices where paper and reference differ (docs/image2image.md has the full list):
//   lambda_U = lambda_V = 1000: the README's commands; the paper gives [100, 1000] (the first code
//     release defaulted to 20 with a BCE loss, the later one to 500).
//   n_critic 2 and c 0.01: the paper sets n_critic to 2-4 and c within [0.01, 0.1].
//   RMSProp decay (alpha) 0.9 as the reference's tf.train.RMSPropOptimizer; PyTorch's update rule
//     otherwise (eps 1e-8 outside the square root, mean square starting at 0; TF starts it at 1).
//   Which iterations update G: the n_critic-th, 2 n_critic-th, ... (Algorithm 1: n_critic critic
//     updates, then one generator update). The TF code's counter reaches run_optim at 2, so with
//     n_critic 2 it updates G on the 1st, 3rd, ... iteration (one iteration earlier).
//   Architecture and state_dict names: pix2pix's U-Net and PatchGAN (nets/lib/networks.ts, the PyTorch
//     reference junyanz/pytorch-CycleGAN-and-pix2pix), which the paper cites for both networks; the
//     TF code's 5x5/3x3 kernels and per-image "batch_norm" are not copied. Batch norm by default
//     (--norm instance is the closest to the TF code's per-image normalisation).
//
// Training loop: each step() is one critic iteration on a fresh batch (both critics updated); every
// n_critic-th step also updates both generators on that batch, after the critics. The step counter
// is the critics' optimizer step count, so a resumed run continues the cycle where it stopped.
// Data: packed unpaired batches [N, ncA + ncB, H, W] (data/pairs.ts packUnpaired).

import { Generator, noGrad, tidy, type Tensor, ops, type nn, optim, init } from '../engine/index.js';
import { bool, defineModel, int, num, type ConfigOf } from './lib/model.js';
import {
  checkNetworks,
  domainChannels,
  networkParams,
  heldOutTranslationPairs,
  packedShape,
  TwoDomainTrainer,
  twoWayNetworks,
} from './lib/image2image.js';
import type { HeldOutPairs, TranslationEval } from './lib/translation.js';
import { generateWith } from './lib/sample.js';
import { minimize } from './lib/step.js';
import type { GanTrainer, ModelConfig, ModelRecipe, StepStats, TrainSettings } from './registry.js';

/** A DualGAN run's hyper-parameters (declared with the recipe below). */
export type DualGanConfig = ConfigOf<typeof params>;

// ---- the critics' loss and constraint ---------------------------------------------------------------

/** WGAN's weight clipping: every parameter of `net` clamped to [-c, c] in place (no gradient). */
export function clipWeights_(net: nn.Module, c: number): void {
  noGrad(() =>
    tidy(() => {
      for (const p of net.parameters()) init.fillFrom(p, p.clamp(-c, c));
    }),
  );
}

/** The Wasserstein critic loss mean D(fake) - mean D(real), fake detached (no gradient into G). */
export function criticLoss(netD: nn.Module, real: Tensor, fake: Tensor): { loss: Tensor; real: Tensor; fake: Tensor } {
  const scoreReal = (netD.call(real) as Tensor).mean();
  const scoreFake = (netD.call(fake.detach()) as Tensor).mean();
  return { loss: scoreFake.sub(scoreReal), real: scoreReal, fake: scoreFake };
}

// ---- the training step ------------------------------------------------------------------------------

export class DualGanTrainer extends TwoDomainTrainer implements GanTrainer {
  readonly nets: { netG_A: nn.Module; netG_B: nn.Module; netD_A: nn.Module; netD_B: nn.Module };
  readonly optimizers: { netG_A: optim.RMSprop; netG_B: optim.RMSprop; netD_A: optim.RMSprop; netD_B: optim.RMSprop };
  readonly rng: Generator;
  readonly sampler = 'netG_A';
  readonly cfg: DualGanConfig;

  constructor(
    readonly config: DualGanConfig,
    settings: Pick<TrainSettings, 'lr'>,
    seed: number,
  ) {
    super(config);
    const cfg = config;
    this.cfg = config;
    this.rng = new Generator(seed);
    this.nets = twoWayNetworks(cfg, this.rng);
    const n = this.nets;
    const opts = { lr: settings.lr, alpha: cfg.rmsAlpha };
    this.optimizers = {
      netG_A: new optim.RMSprop(n.netG_A, opts),
      netG_B: new optim.RMSprop(n.netG_B, opts),
      netD_A: new optim.RMSprop(n.netD_A, opts),
      netD_B: new optim.RMSprop(n.netD_B, opts),
    };
  }

  /** Critic iterations taken so far (= step() calls). */
  get iteration(): number {
    return this.optimizers.netD_A.stepCount(0);
  }

  /**
   * Replay: the step's control flow is whether G updates (every n_critic-th iteration) and whether
   * sample inputs are still gathered; the critic-only and the critic + G steps replay their own plans.
   */
  readonly replay = {
    key: () => `updateG=${+((this.iteration + 1) % this.cfg.nCritic === 0)} gathering=${+this.samples.gathering}`,
  };

  step(batch: Tensor, withStats: boolean): StepStats | null {
    const { netG_A, netG_B, netD_A, netD_B } = this.nets;
    const { lambdaA, lambdaB, nCritic, gp, lambdaGp, clip } = this.cfg;
    const updateG = (this.iteration + 1) % nCritic === 0;
    return tidy(() => {
      const { realA, realB } = this.split(batch);
      this.samples.offer(realA);
      const fakeB = netG_A.call(realA) as Tensor; // G_A(u)
      const fakeA = netG_B.call(realB) as Tensor; // G_B(v)

      // (1) Critics: D_A scores domain B (real v vs G_A(u)), D_B domain A; then clip (or penalise).
      const a = criticLoss(netD_A, realB, fakeB);
      const b = criticLoss(netD_B, realA, fakeA);
      let lossDA = a.loss;
      let lossDB = b.loss;
      let gpA: Tensor | null = null;
      let gpB: Tensor | null = null;
      if (gp) {
        gpA = ops.gradientPenalty((x) => netD_A.call(x) as Tensor, realB, fakeB, { generator: this.rng, lambda: lambdaGp });
        gpB = ops.gradientPenalty((x) => netD_B.call(x) as Tensor, realA, fakeA, { generator: this.rng, lambda: lambdaGp });
        lossDA = lossDA.add(gpA);
        lossDB = lossDB.add(gpB);
      }
      minimize(lossDA, this.optimizers.netD_A);
      minimize(lossDB, this.optimizers.netD_B);
      if (!gp) {
        clipWeights_(netD_A, clip);
        clipWeights_(netD_B, clip);
      }

      // (2) Every n_critic-th iteration: both generators against the updated critics, on a fresh
      // forward pass (the reference's g_optim is a separate sess.run, so G's dropout noise is drawn
      // anew, as Algorithm 1's fresh sample for the generator update; G's weights have not changed).
      let g: Record<string, Tensor> = {};
      if (updateG) {
        const fakeB = netG_A.call(realA) as Tensor; // G_A(u)
        const fakeA = netG_B.call(realB) as Tensor; // G_B(v)
        const recA = netG_B.call(fakeB) as Tensor; // G_B(G_A(u))
        const recB = netG_A.call(fakeA) as Tensor; // G_A(G_B(v))
        const lossGA = (netD_A.call(fakeB) as Tensor).mean().neg();
        const lossGB = (netD_B.call(fakeA) as Tensor).mean().neg();
        const lossRecA = ops.l1(recA, realA).mul(lambdaA);
        const lossRecB = ops.l1(recB, realB).mul(lambdaB);
        const lossG = lossGA.add(lossGB).add(lossRecA.add(lossRecB));
        minimize(lossG, [this.optimizers.netG_A, this.optimizers.netG_B], { frozen: [netD_A, netD_B] });
        g = { loss_G_A: lossGA, loss_G_B: lossGB, loss_rec_A: lossRecA, loss_rec_B: lossRecB };
      }

      if (!withStats) return null;
      return noGrad(() => {
        const stats: StepStats = {
          loss_D_A: lossDA.detach(),
          loss_D_B: lossDB.detach(),
          // The critics' estimates of the Wasserstein distance, E D(real) - E D(fake).
          wdist_A: a.real.sub(a.fake),
          wdist_B: b.real.sub(b.fake),
        };
        if (gpA && gpB) Object.assign(stats, { loss_gp_A: gpA.detach(), loss_gp_B: gpB.detach() });
        for (const [k, v] of Object.entries(g)) stats[k] = v.detach();
        return stats;
      });
    });
  }

  /**
   * G_A(A) (or G_B(B) with `direction: 'BtoA'`) without gradients; batch statistics and dropout
   * by default (as during training), eval mode (running statistics, no dropout) with batchStats false.
   */
  generate(x: Tensor, opts: { direction?: 'AtoB' | 'BtoA'; batchStats?: boolean } = {}): Tensor {
    const net = opts.direction === 'BtoA' ? this.nets.netG_B : this.nets.netG_A;
    return generateWith(net, x, opts.batchStats ?? true);
  }
}

// ---- the declaration --------------------------------------------------------------------------------

const params = {
  ...networkParams({
    netG: ['unet_64', 'generator (the paper: the pix2pix U-Net, unet_256 at 256 px)'],
    netD: ['basic', 'critic: basic = 70x70 PatchGAN (the paper), without a sigmoid'],
    ngf: 'generator width',
    ndf: 'critic width',
    norm: ['batch', 'normalisation layers (instance with --gp)'],
    dropout: [true, "dropout 0.5 in the U-Net's inner decoder levels, the noise z (--no-dropout to drop it)"],
    d: 'the critic',
  }),
  lambdaA: num(1000, 'lambda_U: weight of the reconstruction L1 A -> B -> A (the paper: 100 to 1000)', { min: 0, metavar: 'X' }),
  lambdaB: num(1000, 'lambda_V: weight of the reconstruction L1 B -> A -> B', { min: 0, metavar: 'X' }),
  nCritic: int(2, 'critic iterations per generator iteration (the paper: 2 to 4)', { min: 1 }),
  clip: num(0.01, 'weight clipping bound c of the critics (the paper: 0.01 to 0.1; off with --gp)', {
    min: 0,
    minExclusive: true,
    metavar: 'C',
  }),
  gp: bool(false, 'WGAN-GP gradient penalty instead of weight clipping (needs --norm instance or none)'),
  lambdaGp: num(10, 'weight of the gradient penalty with --gp', { min: 0, metavar: 'X' }),
  rmsAlpha: num(0.9, "RMSprop smoothing constant (the reference's TF decay 0.9; PyTorch's default is 0.99)", { metavar: 'X' }),
  ...domainChannels,
};

export const dualganRecipe = defineModel(
  {
    name: 'dualgan',
    description:
      'DualGAN (Yi et al. 2017): two U-Net Gs, two PatchGAN critics, Wasserstein loss + reconstruction L1, RMSprop; unpaired A <-> B',
    paper: {
      label: 'DualGAN',
      title: 'DualGAN: Unsupervised Dual Learning for Image-to-Image Translation',
      authors: 'Zili Yi, Hao Zhang, Ping Tan, Minglun Gong',
      year: 2017,
      arxiv: '1704.02510',
      code: 'github.com/duxingren14/DualGAN',
      summary: 'Unpaired translation as dual learning: primal and dual generators with Wasserstein critics and a reconstruction loss.',
    },
    params,
    train: {
      steps: 8000,
      batch: 4,
      lr: 5e-5,
      beta1: 0.5,
      beta2: 0.999,
      sampleEvery: 500,
      ckptEvery: 1000,
      logEvery: 50,
      dataset: 'emoji-unpaired',
    },
    // Minutes on a software adapter: 32 px, a 5-level U-Net and the PatchGAN 8 wide; a larger rate
    // than the paper's 5e-5 so that a few hundred steps show a translation.
    quick: {
      steps: 300,
      batch: 4,
      lr: 2e-4,
      imageSize: 32,
      netG: 'unet_32_dropout',
      ngf: 8,
      ndf: 8,
      sampleEvery: 100,
      ckptEvery: 100,
      logEvery: 10,
    },
    paperPreset: {
      values: { steps: 160700, batch: 1, imageSize: 256, netG: 'unet_256' },
      sources: {
        steps: 'reference train.sh: --epoch 100 (facades, sketch-photo); 100 x the 1607 emoji-unpaired rows at batch 1',
        batch: 'paper: batch size 1 to 4; reference batch_size 1',
        lr: 'paper: RMSProp, 0.00005',
        imageSize: 'paper / reference image_size 256 (the 64 px emoji upsampled here)',
        netG: 'paper: the pix2pix U-Net (8 downsamplings at 256 px)',
        netD: 'paper: 70x70 PatchGAN critic',
        ngf: 'reference gcn 64',
        ndf: 'reference dcn 64',
        lambdaA: 'paper: lambda_U, lambda_V in [100, 1000]; reference train.sh 1000 (facades)',
        lambdaB: 'as lambda_A',
        nCritic: 'paper: n_critic 2 to 4',
        clip: 'paper: clipping c in [0.01, 0.1]',
        rmsAlpha: 'reference: TensorFlow RMSProp decay 0.9',
      },
      note: "The paper's sets (facades, sketch-photo, day-night, oil-chinese...) are not here: --paper trains on the unpaired Noto / Twemoji halves, upsampled from 64 to 256 px. The paper uses weight clipping (kept); the reference code has since moved to WGAN-GP with n_critic 1.",
    },
    check(c) {
      const errs = checkNetworks(c);
      if (!(c.rmsAlpha >= 0 && c.rmsAlpha < 1)) errs.push(`--rms-alpha must be in [0, 1), got ${c.rmsAlpha}`);
      if (c.gp && c.norm === 'batch') {
        errs.push(
          "--gp penalises each image's gradient, but batch norm in the critic mixes the images of a batch (Gulrajani et al. drop it): add --norm instance (or --norm none)",
        );
      }
      return errs;
    },
    imageShape: packedShape,
    create: (c, settings, seed) => new DualGanTrainer(c, settings, seed),
  },
  {
    bothWays: () => true,
    heldOutPairs: (config: ModelConfig, { limit, dataset }: { limit?: number; dataset?: string }): Promise<HeldOutPairs> =>
      heldOutTranslationPairs('dualgan', dualganRecipe.parse(config), { dataset: dataset ?? dualganRecipe.train.dataset, limit }),
    translate: (trainer: GanTrainer, inputs: Tensor) => (trainer as DualGanTrainer).generate(inputs, { batchStats: false }),
    demo: {
      charts: [
        { title: 'Critic losses', keys: /^loss_D_/ },
        {
          title: 'Wasserstein distance estimates',
          keys: /^wdist_/,
          note: "The critics' estimate of the distance between real and translated images in each domain.",
        },
        { title: 'Generator losses', keys: /^loss_(G|recon)/ },
      ],
    },
  } satisfies TranslationEval & Partial<ModelRecipe>,
);
