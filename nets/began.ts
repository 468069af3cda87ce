// BEGAN: Berthelot, Schumm & Metz, "BEGAN: Boundary Equilibrium Generative Adversarial Networks"
// (arXiv:1703.10717, 2017).
//
// D is an autoencoder and the GAN matches the distributions of autoencoder losses. With the pixel-wise
// L1 reconstruction loss L(v) = mean |v - D(v)| (over the batch and every pixel), the objective is
//     L_D = L(x) - k_t L(G(z_D))          for D's weights
//     L_G = L(G(z_G))                     for G's weights
//     k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z_G))), 0, 1)       (proportional control)
// with the diversity ratio gamma = E[L(G(z))] / E[L(x)] (0.5 in the full recipe, 0.9 in the quick one,
// 0.3 to 0.7 in the paper's figures),
// lambda_k = 0.001 and k_0 = 0. Convergence is tracked by
//     M_global = L(x) + |gamma L(x) - L(G(z_G))|.
// k_t and M_global live on the GPU (the `balance` module's buffers, so checkpoints carry them): each
// step updates them with a few ops on 1-element tensors and a buffer copy, and the host reads them
// only with the step's other statistics, when the loop logs.
//
// One step (the paper's section 3.4; carpedm20/BEGAN-tensorflow and BEGAN-pytorch, trainer.py):
// draw z_D then z_G (U[-1, 1]^nz, two draws), run G(z_D) (no gradient: D's fake term treats it as a
// constant), G(z_G), D(x), D(G(z_D)), D(G(z_G)); take d L_D / d theta_D and d L_G / d theta_G (D held
// fixed) from these forward passes, and only then run both optimisers, so neither gradient sees the
// other network's update (tf.train minimize of both ops in one session.run; loss.backward() then both
// optimiser steps in BEGAN-pytorch); finally update k_t and M_global from the same forward values.
// --shared-z draws one z for both terms (BEGAN-tensorflow's single tf.random_uniform: D(G(z)) serves
// L_D and L_G), one draw and one G/D forward fewer. BEGAN-pytorch draws z_D and z_G but, since its
// commit "split G and D update step", uses only z_G (z_D is drawn and unused); its first version used
// G(z_D) for D's fake term and G(z_G) for G's loss and k_t, which is the paper's form followed here.
// BEGAN-pytorch's loss.backward() of L_D + L_G also sends L_G's gradient into D's weights (D(G(z_G))
// is not detached); BEGAN-tensorflow's var_list keeps it out, as the paper's objective and this file
// do. Until issue 11 this step ran D's optimiser before differentiating L_G, so G's gradient read D's
// updated weights; the effect on training was below what the logs show (docs/results.md, section 5).
//
// Learning rate. The paper: Adam, lr 1e-4, "decayed by a factor of 2 when the measure of convergence
// stalls". The reference code differs: BEGAN-tensorflow (the maintained one) halves both rates on a
// fixed schedule, every lr_update_step = 100000 of its 500000 steps, with a floor lr_lower_boundary
// (2e-5 for its initial 8e-5: at most two halvings, at 20% and 40% of the run), and keeps Adam's
// moments; BEGAN-pytorch halves when the mean M_global over the last lr_update_step steps is not
// below 0.9999 x the previous window's (the paper's stall test) and rebuilds its optimisers. This
// file follows BEGAN-tensorflow, scaled to our step counts: --lr-halve-every 400 of the full recipe's
// 2000 steps (100000 in --paper), --lr-floor 0.25 of the base rate; --lr-halve-every 0 keeps the
// rate constant, as the quick recipe does (150 steps: halving every 30 steps slows G, and k_t stays at
// 0 longer; docs/results.md, section 5). The rate of step s (0-based) is
// max(lr 0.5^floor(s / every), floor lr), computed from the optimisers' step counts, which
// checkpoints carry with the config: a resumed run continues the schedule exactly. The stall test is not implemented (it needs a host readback of M_global
// at every window's end).
//
// Architecture (the paper's figure 1, as in the reference re-implementations): no batch norm,
// ELU after every 3x3 convolution; n filters.
//   decoder / G:  z [N, h] -> Linear -> n x 8 x 8 -> (conv3, ELU, conv3, ELU, upsample 2x nearest) x r
//                 -> conv3, ELU, conv3, ELU -> conv3 to nc channels        (r = log2(size) - 3)
//   encoder:      x -> conv3, ELU -> (conv3, ELU, conv3, ELU, conv3 stride 2 to the next width, ELU) x r
//                 -> conv3, ELU, conv3, ELU -> Linear -> h;   widths n, 2n, 3n, ... (linear growth)
// G and D's decoder have the same shape and separate weights. z ~ U[-1, 1]^nz (BEGAN-tensorflow;
// BEGAN-pytorch uses N(0, 1)), h = nz = 64; Adam betas (0.5, 0.999). G's output is not squashed (as in
// the paper); sample grids clamp it to [-1, 1].

import { Generator, type Tensor, noGrad, tidy, ops, nn, optim } from '../engine/index.js';
import { imageSizeErrors } from './lib/checks.js';
import { bool, defineModel, int, num, type ConfigOf } from './lib/model.js';
import { defaultInit_ } from './lib/networks.js';
import { gradsInto } from './lib/step.js';
import { uniformNoise } from './lib/sample.js';
import type { GanTrainer, StepStats, TrainSettings } from './registry.js';

// ---- networks -------------------------------------------------------------------------------------

/** What the networks are built from: image side and channels, z length, filters n. */
export type BeganShape = Pick<BeganConfig, 'imageSize' | 'nc' | 'nz' | 'nf'>;

export class ELU extends nn.Module {
  constructor(readonly alpha = 1) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return x.elu(this.alpha);
  }
}

/** Upsampling levels between the 8x8 start and the image: log2(size) - 3. */
export function beganLevels(imageSize: number): number {
  const r = Math.log2(imageSize) - 3;
  if (!Number.isInteger(r) || r < 1 || r > 5) throw new Error(`BEGAN: image size must be a power of two from 16 to 256, got ${imageSize}`);
  return r;
}

const conv3 = (cin: number, cout: number, stride = 1) => new nn.Conv2d(cin, cout, 3, { stride, padding: 1 });

/** z or h [N, nz] -> image [N, nc, s, s]: BEGAN's generator, also D's decoder. */
export class BeganDecoder extends nn.Module {
  main: nn.Sequential;

  constructor(readonly cfg: BeganShape) {
    super();
    const { nz, nf: n, nc } = cfg;
    const r = beganLevels(cfg.imageSize);
    const layers: nn.Module[] = [new nn.Linear(nz, n * 8 * 8), new nn.Unflatten([n, 8, 8])];
    for (let i = 0; i <= r; i++) {
      layers.push(conv3(n, n), new ELU(), conv3(n, n), new ELU());
      if (i < r) layers.push(new nn.Upsample({ scaleFactor: 2 }));
    }
    layers.push(conv3(n, nc));
    this.main = new nn.Sequential(...layers);
  }

  override forward(z: Tensor): Tensor {
    return this.main.call(z);
  }
}

/** image -> embedding h [N, nz]. */
export class BeganEncoder extends nn.Module {
  main: nn.Sequential;
  fc: nn.Linear;

  constructor(readonly cfg: BeganShape) {
    super();
    const { nz, nf: n, nc } = cfg;
    const r = beganLevels(cfg.imageSize);
    const layers: nn.Module[] = [conv3(nc, n), new ELU()];
    for (let i = 0; i <= r; i++) {
      const ch = n * (i + 1);
      layers.push(conv3(i === 0 ? n : ch, ch), new ELU(), conv3(ch, ch), new ELU());
      if (i < r) layers.push(conv3(ch, n * (i + 2), 2), new ELU());
    }
    this.main = new nn.Sequential(...layers);
    this.fc = new nn.Linear(n * (r + 1) * 8 * 8, nz);
  }

  override forward(x: Tensor): Tensor {
    return this.fc.call(this.main.call(x).flatten());
  }
}

/** D: encoder then decoder; forward gives the reconstruction. */
export class BeganDiscriminator extends nn.Module {
  encoder: BeganEncoder;
  decoder: BeganDecoder;

  constructor(readonly cfg: BeganShape) {
    super();
    this.encoder = new BeganEncoder(cfg);
    this.decoder = new BeganDecoder(cfg);
  }

  override forward(x: Tensor): Tensor {
    return this.decoder.call(this.encoder.call(x));
  }
}

// ---- the equilibrium controller and the rate schedule -----------------------------------------------

/** The equilibrium controller's state: k_t and the last M_global, as GPU scalars saved with checkpoints. */
export class BeganBalance extends nn.Module {
  constructor() {
    super();
    this.registerBuffer('k', ops.zeros([]));
    this.registerBuffer('m_global', ops.zeros([]));
  }
  get k(): Tensor {
    return this.getBuffer('k')!;
  }
  get mGlobal(): Tensor {
    return this.getBuffer('m_global')!;
  }

  /**
   * k <- clip(k + lambdaK (gamma lossReal - lossFake), 0, 1) and M_global <- lossReal +
   * |gamma lossReal - lossFake|, on the GPU (no readback). The inputs are scalar tensors.
   */
  update(lossReal: Tensor, lossFake: Tensor, gamma: number, lambdaK: number): void {
    tidy(() =>
      noGrad(() => {
        const balance = lossReal.detach().mul(gamma).sub(lossFake.detach());
        const kNext = this.k.add(balance.mul(lambdaK)).clamp(0, 1);
        const m = lossReal.detach().add(balance.abs());
        this.k.engine.copy(kNext.buffer, 0, this.k.buffer, 0, 4);
        this.mGlobal.engine.copy(m.buffer, 0, this.mGlobal.buffer, 0, 4);
      }),
    );
  }
}

/** CPU replay of the controller, for tests: returns k_{t+1}. float32 rounding as on the GPU is not modelled. */
export function beganKUpdateCpu(k: number, lossReal: number, lossFake: number, gamma: number, lambdaK: number): number {
  return Math.min(1, Math.max(0, k + lambdaK * (gamma * lossReal - lossFake)));
}

export function beganMGlobalCpu(lossReal: number, lossFake: number, gamma: number): number {
  return lossReal + Math.abs(gamma * lossReal - lossFake);
}

/** The learning rate of step `s` (0-based): base 0.5^floor(s / every), not below floor x base (BEGAN-tensorflow's schedule). */
export function beganLr(base: number, s: number, every: number, floor: number): number {
  if (!(every > 0)) return base;
  return Math.max(base * 0.5 ** Math.floor(s / every), floor * base);
}

// ---- training -------------------------------------------------------------------------------------

export class BeganTrainer implements GanTrainer {
  readonly nets: { netG: BeganDecoder; netD: BeganDiscriminator; balance: BeganBalance };
  readonly optimizers: { netG: optim.Adam; netD: optim.Adam };
  readonly rng: Generator;
  readonly sampler = 'netG';
  readonly cfg: BeganConfig;
  /** The base learning rate the schedule halves. */
  readonly baseLr: number;

  constructor(
    readonly config: BeganConfig,
    settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2'>,
    seed: number,
  ) {
    this.cfg = config;
    this.rng = new Generator(seed);
    // PyTorch's default init, drawn from the run's stream.
    const netG = new BeganDecoder(this.cfg);
    const netD = new BeganDiscriminator(this.cfg);
    defaultInit_(netG, this.rng);
    defaultInit_(netD, this.rng);
    this.nets = { netG, netD, balance: new BeganBalance() };
    const betas: [number, number] = [settings.beta1, settings.beta2];
    this.baseLr = settings.lr;
    this.optimizers = { netG: new optim.Adam(netG, { lr: settings.lr, betas }), netD: new optim.Adam(netD, { lr: settings.lr, betas }) };
  }

  noise(n: number, generator: Generator): Tensor {
    return uniformNoise([n, this.cfg.nz], generator);
  }

  /** Sets both rates for the coming step from the steps already taken (so a resumed run continues the schedule). */
  private scheduleLr(): number {
    const lr = beganLr(this.baseLr, this.optimizers.netD.stepCount(0), this.cfg.lrHalveEvery, this.cfg.lrFloor);
    this.optimizers.netD.lr = lr;
    this.optimizers.netG.lr = lr;
    return lr;
  }

  /**
   * Replay: the rate is set from the step count before each step (host); the key holds the rate, so
   * a halving re-records (the statistics carry the rate as a constant). k_t lives on the GPU.
   */
  readonly replay = {
    key: () => `lr=${beganLr(this.baseLr, this.optimizers.netD.stepCount(0), this.cfg.lrHalveEvery, this.cfg.lrFloor)}`,
    host: () => void this.scheduleLr(),
  };

  step(real: Tensor, withStats: boolean): StepStats | null {
    const { netG, netD, balance } = this.nets;
    const { gamma, lambdaK, sharedZ } = this.cfg;
    const lr = this.scheduleLr();
    return tidy(() => {
      const n = real.shape[0];
      const zD = this.noise(n, this.rng);
      const zG = sharedZ ? zD : this.noise(n, this.rng);
      const fakeG = netG.call(zG);
      const lossReal = ops.l1(netD.call(real), real); // L(x)
      const lossFake = ops.l1(netD.call(fakeG), fakeG); // L(G(z_G))
      // L(G(z_D)): D's fake term, G's output a constant (with one z, the same value as L(G(z_G)); the
      // gradient for D's weights ignores the path through G either way).
      let lossFakeD = lossFake;
      if (!sharedZ) {
        const fakeD = noGrad(() => netG.call(zD));
        lossFakeD = ops.l1(netD.call(fakeD), fakeD);
      }
      const lossD = lossReal.sub(balance.k.mul(lossFakeD));
      // Both gradients from these forward passes, before either network changes.
      gradsInto(lossD, netD.parameters(), [netG]);
      gradsInto(lossFake, netG.parameters(), [netD]);
      this.optimizers.netD.step();
      this.optimizers.netG.step();
      const kUsed = withStats ? noGrad(() => ops.mulScalar(balance.k, 1)) : null; // k_t, before the update
      balance.update(lossReal, lossFake, gamma, lambdaK);
      if (!withStats) return null;
      return noGrad(() => ({
        lossD: lossD.detach(),
        lossG: lossFake.detach(),
        L_x: lossReal.detach(),
        L_G_zD: lossFakeD.detach(),
        k_t: kUsed!,
        k_next: ops.mulScalar(balance.k, 1),
        M_global: ops.mulScalar(balance.mGlobal, 1),
        lr: ops.full([], lr),
      }));
    });
  }

  /** G(z) clamped to [-1, 1] (G's output is linear, as in the paper). */
  generate(z: Tensor): Tensor {
    return noGrad(() => tidy(() => this.nets.netG.call(z).clamp(-1, 1)));
  }
}

// ---- the declaration ------------------------------------------------------------------------------

const params = {
  imageSize: int(32, 'image side, a power of two from 16 (32: MNIST padded)'),
  nz: int(64, "length of z and of D's embedding h", { min: 1, max: 4096 }),
  nf: int(32, 'filters n of the first level (64 or 128 in the paper)', { min: 1, max: 4096 }),
  gamma: num(0.5, 'diversity ratio gamma = E[L(G(z))] / E[L(x)]', { min: 0, minExclusive: true, max: 1 }),
  lambdaK: num(0.001, 'learning rate lambda_k of the controller k_t', { min: 0 }),
  sharedZ: bool(false, "one z for D's fake term and G's loss (BEGAN-tensorflow) instead of separate z_D and z_G (the paper)"),
  lrHalveEvery: int(400, 'halve both learning rates every N steps (BEGAN-tensorflow: 100000 of 500000 steps; 0: constant)', {
    min: 0,
    whenAbsent: 0, // checkpoints from before the schedule existed trained at a constant rate
  }),
  lrFloor: num(0.25, 'lowest halved rate, as a fraction of --lr (BEGAN-tensorflow: 2e-5 of 8e-5)', { min: 0, max: 1 }),
  nc: int(1, 'image channels: 1 (single-channel data sets such as MNIST; not a flag)', { fromData: true }),
};

/** A BEGAN: image side (a power of two from 16 to 256: the decoders start at 8x8), z length, width n, controller and schedule. */
export type BeganConfig = ConfigOf<typeof params>;

export const beganRecipe = defineModel(
  {
    name: 'began',
    description: 'BEGAN (Berthelot et al. 2017): autoencoder D, L1 losses, equilibrium control of k_t',
    paper: {
      label: 'BEGAN',
      title: 'BEGAN: Boundary Equilibrium Generative Adversarial Networks',
      authors: 'David Berthelot, Thomas Schumm, Luke Metz',
      year: 2017,
      arxiv: '1703.10717',
      code: 'github.com/carpedm20/BEGAN-tensorflow',
      summary:
        'Matches autoencoder loss distributions and balances G and D with a proportional control term, giving a convergence measure.',
    },
    params,
    train: { steps: 2000, batch: 16, lr: 1e-4, beta1: 0.5, beta2: 0.999, sampleEvery: 200, ckptEvery: 500, logEvery: 10, dataset: 'mnist' },
    // quick: gamma 0.9 and a constant rate, so that the controller acts within 150 steps: with the
    // paper's 0.5 (or 0.7, 0.8) k_t returns to 0 by step 20 to 50 and stays there on most seeds, since
    // L(G(z)) > gamma L(x) for the first few hundred steps at this size (docs/results.md, section 5).
    quick: {
      steps: 150,
      batch: 16,
      imageSize: 16,
      nf: 8,
      lr: 3e-4,
      gamma: 0.9,
      lrHalveEvery: 0,
      sampleEvery: 50,
      ckptEvery: 50,
      logEvery: 10,
    },
    paperPreset: {
      values: { steps: 500000, lr: 8e-5, imageSize: 64, nf: 128, lrHalveEvery: 100000 },
      sources: {
        steps: 'carpedm20/BEGAN-tensorflow max_step 500000 (the paper gives no length)',
        batch: 'carpedm20 batch_size 16',
        lr: 'paper: Adam from a rate in [5e-5, 1e-4], halved when M_global stalls; carpedm20 d_lr = g_lr = 8e-5, halved every 100k steps down to 2e-5',
        lrHalveEvery: 'carpedm20/BEGAN-tensorflow lr_update_step 100000 (the paper: halve when M_global stalls, not implemented)',
        lrFloor: 'carpedm20/BEGAN-tensorflow lr_lower_boundary 2e-5 = 0.25 x 8e-5',
        beta1: 'carpedm20 beta1 0.5, beta2 0.999',
        imageSize: 'paper: 32 to 256 px, the 64x64 model being the main one; carpedm20 input_scale_size 64',
        nz: 'paper: N_z = n_h = 64',
        nf: 'carpedm20 conv_hidden_num 128 (paper Fig. 1: n filters per level)',
        gamma: 'paper: gamma in [0, 1] (its figures show 0.3 to 0.7); carpedm20 default 0.5',
        lambdaK: 'paper: lambda_k = 0.001',
      },
      unconfirmed: ['nf'],
      note: "The paper trains on CelebA (not available): --paper trains on MNIST resized to 64x64. The rate halves on BEGAN-tensorflow's fixed schedule; the paper's halving on a stalled convergence measure is not implemented.",
    },
    check(c) {
      const errs = imageSizeErrors(c.imageSize);
      const r = Math.log2(c.imageSize) - 3;
      if (!(Number.isInteger(r) && r >= 1))
        errs.push(`--image-size must be at least 16 for BEGAN (the decoders start at 8x8), got ${c.imageSize}`);
      return errs;
    },
    imageShape: (c) => ({ channels: c.nc, size: c.imageSize }),
    create: (c, settings, seed) => new BeganTrainer(c, settings, seed),
  },
  {
    reference: 'arXiv:1703.10717 (BEGAN: Boundary Equilibrium Generative Adversarial Networks)',
    demo: {
      charts: [
        { title: 'L1 autoencoder losses', keys: /^(loss|L_)/ },
        {
          title: 'Convergence measure M_global',
          keys: /^M_global$/,
          note: "M_global = L(x) + |gamma L(x) - L(G(z))|: falls as the images improve (the paper's Figure 2).",
        },
        { title: 'Equilibrium control k_t', keys: /^k_/, note: "The proportional controller's weight of the fake loss in D's objective." },
      ],
    },
  },
);
