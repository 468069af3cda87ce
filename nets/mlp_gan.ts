// The plain MLP GAN on low-dimensional Gaussian mixtures: the baseline the mode-counting
// comparisons (nets/mode_eval.ts) measure MAD-GAN and GMAN against. Goodfellow et al. 2014's
// minimax game with the non-saturating generator loss, as in the mode-collapse literature's toy
// set-ups (Unrolled GAN, VEEGAN, PacGAN): fully connected G and D, Adam.
//
//   G: z [N, nz] ~ N(0, I) -> (Linear, ReLU) x layers -> Linear -> x [N, dim]
//   D: x -> (Linear, LeakyReLU(0.2)) x layers -> Linear -> one logit
//   L_D = BCE(D(x), 1) + BCE(D(G(z)), 0)        L_G = BCE(D(G(z)), 1)
//
// Also here, for every mixture trainer: MixtureSampler, which draws real batches on the CPU from
// data/mixtures.ts (seeded) and uploads them already normalised, so the networks see values
// of order 1 whatever the mixture's scale (MAD-GAN's 1-D mixture spans 1..113), and maps generated
// values back for the mode metrics. The normalisation is an affine map fixed by the mixture: centre
// and half-width of [min(mean - 3 std), max(mean + 3 std)] per axis.

import { Module, Sequential, Linear, ReLU, LeakyReLU, Dropout } from '../engine/nn.js';
import { Adam } from '../engine/optim.js';
import { Tensor, tensor, tidy } from '../engine/tensor.js';
import { noGrad } from '../engine/tape.js';
import { add, bceWithLogits, mean, randn, reshape, sigmoid, Generator } from '../engine/ops/index.js';
import { createRng, type Mixture, type Rng } from '../data/mixtures.js';
import { defaultInit_ } from './lib/networks.js';
import { stepOn } from './lib/step.js';
import type { GanTrainer, ModelConfig, StepStats, TrainSettings } from './registry.js';

/** A multilayer perceptron: (Linear, activation[, dropout]) for each hidden width, then a Linear. */
export function mlp(inDim: number, hidden: readonly number[], outDim: number, opts: { act: 'relu' | 'leaky'; dropout?: number; rng?: Generator }): Sequential {
  const layers: Module[] = [];
  let d = inDim;
  for (const h of hidden) {
    layers.push(new Linear(d, h), opts.act === 'relu' ? new ReLU() : new LeakyReLU(0.2));
    if (opts.dropout) layers.push(new Dropout(opts.dropout, { generator: opts.rng }));
    d = h;
  }
  layers.push(new Linear(d, outDim));
  return new Sequential(...layers);
}

/** Draws normalised real batches of a mixture and maps values between data and network scale. */
export class MixtureSampler {
  readonly center: Float64Array;
  readonly scale: Float64Array;
  private readonly rng: Rng;

  constructor(readonly mix: Mixture, seed: number) {
    const { dim, k } = mix;
    this.center = new Float64Array(dim);
    this.scale = new Float64Array(dim);
    for (let a = 0; a < dim; a++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let j = 0; j < k; j++) {
        lo = Math.min(lo, mix.means[j * dim + a] - 3 * mix.stds[j]);
        hi = Math.max(hi, mix.means[j * dim + a] + 3 * mix.stds[j]);
      }
      this.center[a] = (lo + hi) / 2;
      this.scale[a] = (hi - lo) / 2;
    }
    this.rng = createRng(seed);
  }

  get dim(): number {
    return this.mix.dim;
  }

  /** n samples [n, dim] in network scale (drawn on the CPU: mode by weight, then Gaussian). */
  batch(n: number): Tensor {
    return tensor(this.toNetwork(this.draw(n)), [n, this.mix.dim]);
  }

  /** n raw samples in data scale. */
  draw(n: number): Float32Array {
    const { dim, k, means, stds, weights } = this.mix;
    const out = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) {
      let u = this.rng.next();
      let m = 0;
      while (m < k - 1 && u >= weights[m]) u -= weights[m++];
      for (let a = 0; a < dim; a++) out[i * dim + a] = means[m * dim + a] + stds[m] * this.rng.normal();
    }
    return out;
  }

  toNetwork(values: Float32Array): Float32Array {
    const d = this.mix.dim;
    return values.map((v, i) => (v - this.center[i % d]) / this.scale[i % d]);
  }

  toData(values: Float32Array): Float32Array {
    const d = this.mix.dim;
    return values.map((v, i) => v * this.scale[i % d] + this.center[i % d]);
  }
}

export interface MlpGanConfig {
  /** Data dimension (1 or 2 for the mixtures). */
  dim: number;
  nz: number;
  /** Hidden width of G and D. */
  hidden: number;
  /** Hidden layers of G and D. */
  layers: number;
}

export function mlpGanConfig(c: ModelConfig): MlpGanConfig {
  return { dim: Number(c.dim), nz: Number(c.nz ?? 16), hidden: Number(c.hidden ?? 64), layers: Number(c.layers ?? 2) };
}

/** One step(real [N, dim]) = one D update then one G update. */
export class MlpGanTrainer implements GanTrainer {
  readonly nets: { netG: Sequential; netD: Sequential };
  readonly optimizers: { netG: Adam; netD: Adam };
  readonly rng: Generator;
  readonly sampler = 'netG';
  readonly cfg: MlpGanConfig;

  constructor(readonly config: ModelConfig, settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2'>, seed: number) {
    this.cfg = mlpGanConfig(config);
    const { dim, nz, hidden, layers } = this.cfg;
    this.rng = new Generator(seed);
    const widths = new Array<number>(layers).fill(hidden);
    const netG = mlp(nz, widths, dim, { act: 'relu' });
    const netD = mlp(dim, widths, 1, { act: 'leaky' });
    defaultInit_(netG, this.rng);
    defaultInit_(netD, this.rng);
    this.nets = { netG, netD };
    const betas: [number, number] = [settings.beta1, settings.beta2];
    this.optimizers = { netG: new Adam(netG, { lr: settings.lr, betas }), netD: new Adam(netD, { lr: settings.lr, betas }) };
  }

  noise(n: number, generator: Generator): Tensor {
    return randn([n, this.cfg.nz], { generator });
  }

  step(real: Tensor, withStats: boolean): StepStats | null {
    const { netG, netD } = this.nets;
    return tidy(() => {
      const fake = netG.call(this.noise(real.shape[0], this.rng));
      const outReal = reshape(netD.call(real), [-1]);
      const outFake = reshape(netD.call(fake.detach()), [-1]);
      const lossD = add(bceWithLogits(outReal, 1), bceWithLogits(outFake, 0));
      stepOn(lossD, netD.parameters(), this.optimizers.netD);
      const lossG = bceWithLogits(reshape(netD.call(fake), [-1]), 1);
      stepOn(lossG, netG.parameters(), this.optimizers.netG, [netD]);
      if (!withStats) return null;
      return noGrad(() => ({ lossD: lossD.detach(), lossG: lossG.detach(), D_x: mean(sigmoid(outReal)) }));
    });
  }

  generate(z: Tensor): Tensor {
    return noGrad(() => this.nets.netG.call(z));
  }
}
