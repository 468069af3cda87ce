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
//   Architecture and state_dict names: pix2pix's U-Net and PatchGAN (nets/common.ts, the PyTorch
//     reference junyanz/pytorch-CycleGAN-and-pix2pix), which the paper cites for both networks; the
//     TF code's 5x5/3x3 kernels and per-image "batch_norm" are not copied. Batch norm by default
//     (--norm instance is the closest to the TF code's per-image normalisation).
//
// Training loop: each step() is one critic iteration on a fresh batch (both critics updated); every
// n_critic-th step also updates both generators on that batch, after the critics. The step counter
// is the critics' optimizer step count, so a resumed run continues the cycle where it stopped.
// Data: packed unpaired batches [N, ncA + ncB, H, W] (nets/cyclegan.ts packUnpaired).

import type { Module } from '../engine/nn.js';
import { kebab } from '../cli/lib/args.js';
import { RMSprop } from '../engine/optim.js';
import { Tensor, tidy } from '../engine/tensor.js';
import { noGrad } from '../engine/tape.js';
import { add, clamp, gradientPenalty, l1, mean, mulScalar, narrow, neg, sub, Generator } from '../engine/ops/index.js';
import { fillFrom } from '../engine/init.js';
import { generateWith } from './lib/sample.js';
import { DISCRIMINATORS, GENERATORS, defineD, defineG, type NormName } from './lib/networks.js';
import { SampleInputs } from './lib/sample.js';
import { setGradients } from './lib/step.js';
import { validateImageToImage } from './pix2pix.js';
import { heldOutEmojiPairs, splitHeldOut, type HeldOutPairs, type TranslationEval } from './lib/translation.js';
import type { GanTrainer, ModelConfig, ModelRecipe, StepStats, TrainSettings } from './registry.js';

export interface DualGanConfig {
  imageSize: number;
  inputNc: number;
  outputNc: number;
  netG: string;
  netD: string;
  nLayersD: number;
  ngf: number;
  ndf: number;
  norm: NormName;
  /** Dropout 0.5 in the U-Net's inner decoder levels (the paper's noise z). */
  dropout: boolean;
  /** Reconstruction weights: lambda_U for A -> B -> A, lambda_V for B -> A -> B. */
  lambdaA: number;
  lambdaB: number;
  /** Critic iterations per generator iteration. */
  nCritic: number;
  /** Weight clipping bound c (unused with gp). */
  clip: number;
  /** WGAN-GP instead of weight clipping. */
  gp: boolean;
  lambdaGp: number;
  /** RMSprop smoothing constant (TF's decay). */
  rmsAlpha: number;
}

export function dualGanConfig(c: ModelConfig): DualGanConfig {
  return {
    imageSize: Number(c.imageSize),
    inputNc: Number(c.inputNc ?? 3),
    outputNc: Number(c.outputNc ?? 3),
    netG: String(c.netG),
    netD: String(c.netD ?? 'basic'),
    nLayersD: Number(c.nLayersD ?? 3),
    ngf: Number(c.ngf),
    ndf: Number(c.ndf),
    norm: String(c.norm ?? 'batch') as NormName,
    dropout: c.dropout !== false,
    lambdaA: Number(c.lambdaA ?? 1000),
    lambdaB: Number(c.lambdaB ?? 1000),
    nCritic: Number(c.nCritic ?? 2),
    clip: Number(c.clip ?? 0.01),
    gp: c.gp === true,
    lambdaGp: Number(c.lambdaGp ?? 10),
    rmsAlpha: Number(c.rmsAlpha ?? 0.9),
  };
}

/** WGAN's weight clipping: every parameter of `net` clamped to [-c, c] in place (no gradient). */
export function clipWeights_(net: Module, c: number): void {
  noGrad(() => tidy(() => {
    for (const p of net.parameters()) fillFrom(p, clamp(p, -c, c));
  }));
}

/** The Wasserstein critic loss mean D(fake) - mean D(real), fake detached (no gradient into G). */
export function criticLoss(netD: Module, real: Tensor, fake: Tensor): { loss: Tensor; real: Tensor; fake: Tensor } {
  const scoreReal = mean(netD.call(real) as Tensor);
  const scoreFake = mean(netD.call(fake.detach()) as Tensor);
  return { loss: sub(scoreFake, scoreReal), real: scoreReal, fake: scoreFake };
}

export class DualGanTrainer implements GanTrainer {
  readonly nets: { netG_A: Module; netG_B: Module; netD_A: Module; netD_B: Module };
  readonly optimizers: { netG_A: RMSprop; netG_B: RMSprop; netD_A: RMSprop; netD_B: RMSprop };
  readonly rng: Generator;
  readonly sampler = 'netG_A';
  readonly cfg: DualGanConfig;
  readonly samples: SampleInputs;

  constructor(readonly config: ModelConfig, settings: Pick<TrainSettings, 'lr'>, seed: number) {
    const cfg = (this.cfg = dualGanConfig(config));
    this.rng = new Generator(seed);
    const { inputNc: ncA, outputNc: ncB, ngf, ndf, norm } = cfg;
    const g = { ngf, norm, useDropout: cfg.dropout, rng: this.rng };
    const d = { ndf, norm, nLayers: cfg.nLayersD, rng: this.rng };
    this.nets = {
      netG_A: defineG(cfg.netG, { ...g, inputNc: ncA, outputNc: ncB }),
      netG_B: defineG(cfg.netG, { ...g, inputNc: ncB, outputNc: ncA }),
      netD_A: defineD(cfg.netD, { ...d, inputNc: ncB }),
      netD_B: defineD(cfg.netD, { ...d, inputNc: ncA }),
    };
    const n = this.nets;
    const opts = { lr: settings.lr, alpha: cfg.rmsAlpha };
    this.optimizers = {
      netG_A: new RMSprop(n.netG_A, opts), netG_B: new RMSprop(n.netG_B, opts),
      netD_A: new RMSprop(n.netD_A, opts), netD_B: new RMSprop(n.netD_B, opts),
    };
    this.samples = new SampleInputs([ncA, cfg.imageSize, cfg.imageSize]);
  }

  /** Critic iterations taken so far (= step() calls). */
  get iteration(): number {
    return this.optimizers.netD_A.stepCount(0);
  }

  /** Splits a packed batch [N, ncA + ncB, H, W] into its A and B images. */
  split(batch: Tensor): { realA: Tensor; realB: Tensor } {
    const { inputNc, outputNc } = this.cfg;
    return { realA: narrow(batch, 1, 0, inputNc), realB: narrow(batch, 1, inputNc, outputNc) };
  }

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
        gpA = gradientPenalty((x) => netD_A.call(x) as Tensor, realB, fakeB, { generator: this.rng, lambda: lambdaGp });
        gpB = gradientPenalty((x) => netD_B.call(x) as Tensor, realA, fakeA, { generator: this.rng, lambda: lambdaGp });
        lossDA = add(lossDA, gpA);
        lossDB = add(lossDB, gpB);
      }
      setGradients(lossDA, [netD_A]);
      setGradients(lossDB, [netD_B]);
      this.optimizers.netD_A.step();
      this.optimizers.netD_B.step();
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
        const lossGA = neg(mean(netD_A.call(fakeB) as Tensor));
        const lossGB = neg(mean(netD_B.call(fakeA) as Tensor));
        const lossRecA = mulScalar(l1(recA, realA), lambdaA);
        const lossRecB = mulScalar(l1(recB, realB), lambdaB);
        setGradients(add(add(lossGA, lossGB), add(lossRecA, lossRecB)), [netG_A, netG_B]);
        this.optimizers.netG_A.step();
        this.optimizers.netG_B.step();
        g = { loss_G_A: lossGA, loss_G_B: lossGB, loss_rec_A: lossRecA, loss_rec_B: lossRecB };
      }

      if (!withStats) return null;
      return noGrad(() => {
        const stats: StepStats = {
          loss_D_A: lossDA.detach(),
          loss_D_B: lossDB.detach(),
          // The critics' estimates of the Wasserstein distance, E D(real) - E D(fake).
          wdist_A: sub(a.real, a.fake),
          wdist_B: sub(b.real, b.fake),
        };
        if (gpA && gpB) Object.assign(stats, { loss_gp_A: gpA.detach(), loss_gp_B: gpB.detach() });
        for (const [k, v] of Object.entries(g)) stats[k] = v.detach();
        return stats;
      });
    });
  }

  /** The fixed sample inputs (A images; see SampleInputs): the first training batch's unless set. */
  noise(n: number, _generator?: Generator): Tensor {
    return this.samples.take(n);
  }

  /**
   * G_A(A) (or G_B(B) with `direction: 'BtoA'`) without gradients; batch statistics and dropout
   * by default (as during training), eval mode (running statistics, no dropout) with batchStats false.
   */
  generate(x: Tensor, opts: { direction?: 'AtoB' | 'BtoA'; batchStats?: boolean } = {}): Tensor {
    const net = opts.direction === 'BtoA' ? this.nets.netG_B : this.nets.netG_A;
    return generateWith(net, x, opts.batchStats ?? true);
  }

  dispose(): void {
    for (const o of Object.values(this.optimizers)) o.dispose();
    for (const n of Object.values(this.nets)) n.dispose();
    this.samples.dispose();
  }
}

// ---- the recipe -----------------------------------------------------------------------------------

/**
 * TranslationEval.heldOutPairs of the unpaired recipes (DualGAN, DiscoGAN): the aligned test pairs
 * of the training dataset (for emoji-unpaired, the same emoji in both styles, never shown in
 * training) at the model's size, A as input and B as target.
 */
export async function unpairedHeldOutPairs(config: ModelConfig, opts: { limit?: number; dataset?: string }): Promise<HeldOutPairs> {
  return splitHeldOut(await heldOutEmojiPairs({ dataset: opts.dataset ?? 'emoji-unpaired', size: Number(config.imageSize), limit: opts.limit }));
}

export const dualganRecipe: ModelRecipe & TranslationEval = {
  name: 'dualgan',
  description: 'DualGAN (Yi et al. 2017): two U-Net Gs, two PatchGAN critics, Wasserstein loss + reconstruction L1, RMSprop; unpaired A <-> B',
  reference: 'arXiv:1704.02510; github.com/duxingren14/DualGAN',
  options: {
    imageSize: { type: 'int', default: 64, help: 'image side (the emoji are 64 px; the paper uses 256)', metavar: 'N' },
    netG: { type: 'string', default: 'unet_64', choices: Object.keys(GENERATORS), help: 'generator (the paper: the pix2pix U-Net, unet_256 at 256 px)' },
    netD: { type: 'string', default: 'basic', choices: Object.keys(DISCRIMINATORS), help: 'critic: basic = 70x70 PatchGAN (the paper), without a sigmoid' },
    nLayersD: { type: 'int', default: 3, help: 'stride-2 layers of the critic when --net-d n_layers', metavar: 'N' },
    ngf: { type: 'int', default: 64, help: 'generator width', metavar: 'N' },
    ndf: { type: 'int', default: 64, help: 'critic width', metavar: 'N' },
    norm: { type: 'string', default: 'batch', choices: ['batch', 'instance', 'none'], help: 'normalisation layers (instance with --gp)' },
    dropout: { type: 'boolean', default: true, help: 'dropout 0.5 in the U-Net\'s inner decoder levels, the noise z (--no-dropout to drop it)' },
    lambdaA: { type: 'number', default: 1000, help: 'lambda_U: weight of the reconstruction L1 A -> B -> A (the paper: 100 to 1000)', metavar: 'X' },
    lambdaB: { type: 'number', default: 1000, help: 'lambda_V: weight of the reconstruction L1 B -> A -> B', metavar: 'X' },
    nCritic: { type: 'int', default: 2, help: 'critic iterations per generator iteration (the paper: 2 to 4)', metavar: 'N' },
    clip: { type: 'number', default: 0.01, help: 'weight clipping bound c of the critics (the paper: 0.01 to 0.1; off with --gp)', metavar: 'C' },
    gp: { type: 'boolean', default: false, help: 'WGAN-GP gradient penalty instead of weight clipping (needs --norm instance or none)' },
    lambdaGp: { type: 'number', default: 10, help: 'weight of the gradient penalty with --gp', metavar: 'X' },
    rmsAlpha: { type: 'number', default: 0.9, help: 'RMSprop smoothing constant (the reference\'s TF decay 0.9; PyTorch\'s default is 0.99)', metavar: 'X' },
  },
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
  quick: { steps: 300, batch: 4, lr: 2e-4, imageSize: 32, netG: 'unet_32_dropout', ngf: 8, ndf: 8, sampleEvery: 100, ckptEvery: 100, logEvery: 10 },
  paper: {
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
    note: 'The paper\'s sets (facades, sketch-photo, day-night, oil-chinese...) are not here: --paper trains on the unpaired Noto / Twemoji halves, upsampled from 64 to 256 px. The paper uses weight clipping (kept); the reference code has since moved to WGAN-GP with n_critic 1.',
  },
  imageShape: (c) => ({ channels: Number(c.inputNc ?? 3) + Number(c.outputNc ?? 3), size: Number(c.imageSize) }),
  validate(c) {
    const errs = validateImageToImage(c, [String(c.netD ?? 'basic')]);
    for (const key of ['lambdaA', 'lambdaB', 'lambdaGp'] as const) {
      const v = Number(c[key] ?? 0);
      if (!(v >= 0)) errs.push(`--${kebab(key)} must be a non-negative number, got ${c[key]}`);
    }
    const nCritic = Number(c.nCritic ?? 2);
    if (!Number.isInteger(nCritic) || nCritic < 1) errs.push(`--n-critic must be a positive integer, got ${c.nCritic}`);
    const clip = Number(c.clip ?? 0.01);
    if (!(clip > 0)) errs.push(`--clip must be a positive number, got ${c.clip}`);
    const alpha = Number(c.rmsAlpha ?? 0.9);
    if (!(alpha >= 0 && alpha < 1)) errs.push(`--rms-alpha must be in [0, 1), got ${c.rmsAlpha}`);
    if (c.gp === true && String(c.norm ?? 'batch') === 'batch') {
      errs.push('--gp penalises each image\'s gradient, but batch norm in the critic mixes the images of a batch (Gulrajani et al. drop it): add --norm instance (or --norm none)');
    }
    return errs;
  },
  create: (config, settings, seed) => new DualGanTrainer(config, settings, seed),
  bothWays: () => true,
  heldOutPairs: (config, opts) => unpairedHeldOutPairs(config, opts),
  translate: (trainer, inputs) => (trainer as DualGanTrainer).generate(inputs, { batchStats: false }),
};
