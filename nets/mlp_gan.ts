// The plain MLP GAN on low-dimensional Gaussian mixtures: the baseline the mode-counting
// comparisons (nets/mode_eval.ts) measure MAD-GAN and GMAN against. Goodfellow et al. 2014's
// minimax game with the non-saturating generator loss, as in the mode-collapse literature's toy
// set-ups (Unrolled GAN, VEEGAN, PacGAN): fully connected G and D, Adam.
//
//   G: z [N, nz] ~ N(0, I) -> (Linear, ReLU) x layers -> Linear -> x [N, dim]
//   D: x -> (Linear, LeakyReLU(0.2)) x layers -> Linear -> one logit
//   L_D = BCE(D(x), 1) + BCE(D(G(z)), 0)        L_G = BCE(D(G(z)), 1)
//
// It trains only on mixtures, so it is not a registered image model: `mlpGanMixture` is its entry
// in the comparison, in the form the registered models give through their recipe's `mixture` hook.
// The real batches come from data/mixtures.ts (MixtureSampler), the MLPs from nets/lib/mlp.ts.

import { Generator, type Tensor, noGrad, tidy, ops, type nn, optim } from '../engine/index.js';
import { mlp } from './lib/mlp.js';
import { defaultInit_ } from './lib/networks.js';
import { minimize } from './lib/step.js';
import type { GanTrainer, MixtureModel, ModelConfig, StepStats, TrainSettings } from './registry.js';

/** The baseline's shape: data dimension (1 or 2 for the mixtures), noise length, MLP sizes. */
export interface MlpGanConfig {
  dim: number;
  nz: number;
  /** Hidden width of G and D. */
  hidden: number;
  /** Hidden layers of G and D. */
  layers: number;
}

/** One step(real [N, dim]) = one D update then one G update. */
export class MlpGanTrainer implements GanTrainer {
  readonly nets: { netG: nn.Sequential; netD: nn.Sequential };
  readonly optimizers: { netG: optim.Adam; netD: optim.Adam };
  readonly rng: Generator;
  readonly sampler = 'netG';

  constructor(
    readonly cfg: MlpGanConfig,
    settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2'>,
    seed: number,
  ) {
    const { dim, nz, hidden, layers } = cfg;
    this.rng = new Generator(seed);
    const widths = new Array<number>(layers).fill(hidden);
    const netG = mlp(nz, widths, dim, { act: 'relu' });
    const netD = mlp(dim, widths, 1, { act: 'leaky' });
    defaultInit_(netG, this.rng);
    defaultInit_(netD, this.rng);
    this.nets = { netG, netD };
    const betas: [number, number] = [settings.beta1, settings.beta2];
    this.optimizers = { netG: new optim.Adam(netG, { lr: settings.lr, betas }), netD: new optim.Adam(netD, { lr: settings.lr, betas }) };
  }

  get config(): ModelConfig {
    return { ...this.cfg };
  }

  noise(n: number, generator: Generator): Tensor {
    return ops.randn([n, this.cfg.nz], { generator });
  }

  step(real: Tensor, withStats: boolean): StepStats | null {
    const { netG, netD } = this.nets;
    return tidy(() => {
      const fake = netG.call(this.noise(real.shape[0], this.rng));
      const outReal = netD.call(real).reshape([-1]);
      const outFake = netD.call(fake.detach()).reshape([-1]);
      const lossD = ops.bceWithLogits(outReal, 1).add(ops.bceWithLogits(outFake, 0));
      minimize(lossD, this.optimizers.netD);
      const lossG = ops.bceWithLogits(netD.call(fake).reshape([-1]), 1);
      minimize(lossG, this.optimizers.netG, { frozen: [netD] });
      if (!withStats) return null;
      return noGrad(() => ({ lossD: lossD.detach(), lossG: lossG.detach(), D_x: outReal.sigmoid().mean() }));
    });
  }

  generate(z: Tensor): Tensor {
    return noGrad(() => this.nets.netG.call(z));
  }
}

/** The baseline in the mixture comparison: no parameters of its own, one D giving P(real). */
export const mlpGanMixture: MixtureModel = {
  label: 'MLP GAN',
  params: {},
  create: (o, dim) => new MlpGanTrainer({ dim, nz: o.nz, hidden: o.hidden, layers: o.layers }, o, o.seed),
  discriminators: (t) => [t.nets.netD],
};
