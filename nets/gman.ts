// GMAN: Durugkar, Gemp & Mahadevan, "Generative Multi-Adversarial Networks" (ICLR 2017,
// arXiv:1611.01673), following the authors' code (github.com/iDurugkar/GMAN: GMAN.py, helper.py
// mix_prediction, models.py).
//
// N discriminators D_1..D_N play the ordinary GAN game against one generator; each trains on its own
// loss, L_D_i = BCE(D_i(x), 1) + BCE(D_i(G(z)), 0). They are made different by (--diversity)
//   dropout  every D sees the whole batch, with its own dropout rate p_i = 0.6 - 0.1 (i + 1) / N
//            (the reference's keep probabilities 0.4 + 0.1 (i + 1) / N, after its first two convs),
//   split    each D gets its own 1/N share of the real and generated batch, no dropout,
//   both     the reference's set-up (its default): own dropout rate and own share.
// G's loss combines its per-discriminator losses V_i into one (--combine):
//   arithmetic  F = mean_i V_i                                           (GMAN-0)
//   geometric   F = s exp(mean_i log(s V_i))                             (s = the sign of the V_i)
//   harmonic    F = s / mean_i (1 / (s V_i))
//   softmax     F = sum_i w_i V_i, w = softmax(lambda V)                 (GMAN-lambda: lambda = 0 is
//               the arithmetic mean, lambda -> inf the harshest D alone)
// and GMAN* (--learn-lambda, softmax only) lets G choose lambda by gradient descent on
//   F_lambda(V) - 0.001 lambda,    lambda >= 0,
// the regulariser rewarding G for raising lambda (taking on the harsher discriminators); lambda is
// projected back to >= 0 after every update.
// --objective picks V_i: 'original' is the minimax game G was meant to play, V_i = E log(1 - D_i(G(z)))
// (<= 0, so s = -1), which the paper shows GMAN can train with; 'modified' is the non-saturating
// V_i = -E log D_i(G(z)) (>= 0, s = +1). The reference squashes D's outputs into [0.01, 0.99]
// before taking logs; here the logs come from the logits (softplus), which needs no clipping.
//
// Networks (images): G is the DCGAN generator; each D_i the reference's discriminator: conv3 s2
// (ndf), LeakyReLU(0.2), dropout; conv3 s2 (2 ndf), LeakyReLU(0.2), dropout; conv3 s1 (4 ndf),
// LeakyReLU(0.2); Linear to one logit. Adam 2e-4, beta1 0.5 for G, every D and lambda.

import { Module, ModuleList, Sequential, Conv2d, LeakyReLU, Dropout, Flatten, Linear, Parameter } from '../engine/nn.js';
import { Adam } from '../engine/optim.js';
import { dcganInit_ } from '../engine/init.js';
import { Tensor, tensor, tidy } from '../engine/tensor.js';
import { noGrad } from '../engine/tape.js';
import {
  add, bceWithLogits, clamp, concat, exp, log, mean, mul, mulScalar, narrow, neg, randn, reciprocal, reshape, softmax, sub, sum, Generator,
} from '../engine/ops/index.js';
import { DcganGenerator, generateWith } from './dcgan.js';
import { checkSizeAndWidths } from './autoencoder.js';
import { stepOn } from './gan_util.js';
import { splitSizes } from './madgan.js';
import type { GanTrainer, ModelConfig, ModelRecipe, StepStats, TrainSettings } from './registry.js';

export type GmanCombine = 'arithmetic' | 'geometric' | 'harmonic' | 'softmax';
export type GmanDiversity = 'dropout' | 'split' | 'both';
export type GmanObjective = 'original' | 'modified';

/** The GMAN* regulariser's slope: G minimises F_lambda - LAMBDA_REWARD * lambda. */
export const LAMBDA_REWARD = 0.001;

/** Dropout rate of discriminator i of n (the reference's keep probability 0.4 + 0.1 (i + 1) / n). */
export function gmanDropout(i: number, n: number): number {
  return 1 - (0.4 + (0.1 * (i + 1)) / n);
}

/**
 * G's combined loss from its per-discriminator losses V [N] (sign s: -1 for the original objective,
 * whose V_i are <= 0; +1 for the modified one). `lambda` (a number or a scalar tensor, which then
 * gets a gradient) is used by 'softmax' only.
 */
export function combineLosses(v: Tensor, combine: GmanCombine, opts: { sign: 1 | -1; lambda?: Tensor | number }): Tensor {
  const s = opts.sign;
  // |V_i| floored so log and 1/x stay finite when a discriminator is fooled completely.
  const mag = () => clamp(mulScalar(v, s), 1e-12, Infinity);
  switch (combine) {
    case 'arithmetic':
      return mean(v);
    case 'geometric':
      return mulScalar(exp(mean(log(mag()))), s);
    case 'harmonic':
      return mulScalar(reciprocal(mean(reciprocal(mag()))), s);
    case 'softmax': {
      const lam = opts.lambda ?? 1;
      const logits = typeof lam === 'number' ? mulScalar(v, lam) : mul(v, reshape(lam, [1]));
      return sum(mul(softmax(logits, 0), v));
    }
    default:
      throw new Error(`GMAN: unknown combination '${combine as string}' (arithmetic, geometric, harmonic, softmax)`);
  }
}

/** CPU float64 twin of combineLosses (tests). */
export function combineLossesCpu(v: readonly number[], combine: GmanCombine, sign: 1 | -1, lambda = 1): number {
  const n = v.length;
  const mag = v.map((x) => Math.max(sign * x, 1e-12));
  switch (combine) {
    case 'arithmetic':
      return v.reduce((a, x) => a + x, 0) / n;
    case 'geometric':
      return sign * Math.exp(mag.reduce((a, x) => a + Math.log(x), 0) / n);
    case 'harmonic':
      return sign / (mag.reduce((a, x) => a + 1 / x, 0) / n);
    case 'softmax': {
      const top = Math.max(...v.map((x) => lambda * x));
      const e = v.map((x) => Math.exp(lambda * x - top));
      const z = e.reduce((a, x) => a + x, 0);
      return v.reduce((a, x, i) => a + (e[i] / z) * x, 0);
    }
  }
}

/** G's loss against one discriminator, from its logits on G(z): V_i of the chosen objective. */
export function generatorLossV(logits: Tensor, objective: GmanObjective): Tensor {
  // original: E log(1 - sigmoid(l)) = -E softplus(l) = -BCE(l, 0); modified: -E log sigmoid(l) = BCE(l, 1)
  return objective === 'original' ? neg(bceWithLogits(logits, 0)) : bceWithLogits(logits, 1);
}

/** The reference's image discriminator with dropout rate p after its first two convolutions. */
export class GmanDiscriminator extends Module {
  main: Sequential;

  constructor(cfg: { imageSize: number; nc: number; ndf: number }, p: number, rng?: Generator) {
    super();
    const { nc, ndf, imageSize } = cfg;
    const drop = () => (p > 0 ? [new Dropout(p, { generator: rng })] : []);
    const side = Math.ceil(Math.ceil(imageSize / 2) / 2);
    this.main = new Sequential(
      new Conv2d(nc, ndf, 3, { stride: 2, padding: 1 }), new LeakyReLU(0.2), ...drop(),
      new Conv2d(ndf, ndf * 2, 3, { stride: 2, padding: 1 }), new LeakyReLU(0.2), ...drop(),
      new Conv2d(ndf * 2, ndf * 4, 3, { stride: 1, padding: 1 }), new LeakyReLU(0.2),
      new Flatten(), new Linear(ndf * 4 * side * side, 1),
    );
  }

  /** One logit per sample, [N]. */
  override forward(x: Tensor): Tensor {
    return reshape(this.main.call(x), [-1]);
  }
}

/** GMAN*'s learned lambda, a module so checkpoints and optimisers treat it like a network. */
export class GmanLambda extends Module {
  lambda: Tensor;
  constructor(init: number) {
    super();
    this.lambda = Parameter(tensor([init], []));
  }
}

export interface GmanConfig {
  /** Number of discriminators N. */
  n: number;
  combine: GmanCombine;
  /** The softmax weighting's lambda (its initial value with learnLambda). */
  lambda: number;
  learnLambda: boolean;
  diversity: GmanDiversity;
  objective: GmanObjective;
}

export interface GmanImageConfig extends GmanConfig {
  imageSize: number;
  nc: number;
  nz: number;
  ngf: number;
  ndf: number;
}

export function gmanConfig(c: ModelConfig): GmanImageConfig {
  return {
    imageSize: Number(c.imageSize),
    nc: Number(c.nc ?? 1),
    nz: Number(c.nz),
    ngf: Number(c.ngf),
    ndf: Number(c.ndf),
    n: Number(c.n),
    combine: String(c.combine) as GmanCombine,
    lambda: Number(c.lambda),
    learnLambda: c.learnLambda === true || c.learnLambda === 'true',
    diversity: String(c.diversity) as GmanDiversity,
    objective: String(c.objective) as GmanObjective,
  };
}

/** What a GMAN trainer is built from: G, the N discriminators (made with their dropout rates) and the noise. */
export interface GmanParts {
  netG: Module;
  discriminators: Module[];
  noise(n: number, generator: Generator): Tensor;
  batchNorm: boolean;
}

function imageParts(cfg: GmanImageConfig, rng: Generator): GmanParts {
  const netG = new DcganGenerator(cfg);
  dcganInit_(netG.modules(), rng);
  const useDropout = cfg.diversity !== 'split';
  const discriminators = Array.from({ length: cfg.n }, (_, i) => {
    const d = new GmanDiscriminator(cfg, useDropout ? gmanDropout(i, cfg.n) : 0, rng);
    dcganInit_(d.modules(), rng); // the reference's N(0, 0.02) weights, zero biases
    return d;
  });
  return { netG, discriminators, noise: (n, generator) => randn([n, cfg.nz, 1, 1], { generator }), batchNorm: true };
}

export class GmanTrainer implements GanTrainer {
  readonly nets: { netG: Module; netD: ModuleList; mixer?: GmanLambda };
  readonly optimizers: { netG: Adam; netD: Adam; mixer?: Adam };
  readonly rng: Generator;
  readonly sampler = 'netG';
  readonly cfg: GmanConfig;
  private readonly parts: GmanParts;

  constructor(
    readonly config: ModelConfig,
    settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2'>,
    seed: number,
    build?: (rng: Generator) => GmanParts,
    cfg: GmanConfig = gmanConfig(config),
  ) {
    this.cfg = cfg;
    this.rng = new Generator(seed);
    this.parts = build ? build(this.rng) : imageParts(gmanConfig(config), this.rng);
    const netD = new ModuleList(this.parts.discriminators);
    const betas: [number, number] = [settings.beta1, settings.beta2];
    const opt = (m: Module) => new Adam(m, { lr: settings.lr, betas });
    if (cfg.learnLambda) {
      const mixer = new GmanLambda(cfg.lambda);
      this.nets = { netG: this.parts.netG, netD, mixer };
      this.optimizers = { netG: opt(this.parts.netG), netD: opt(netD), mixer: opt(mixer) };
    } else {
      this.nets = { netG: this.parts.netG, netD };
      this.optimizers = { netG: opt(this.parts.netG), netD: opt(netD) };
    }
  }

  get sign(): 1 | -1 {
    return this.cfg.objective === 'original' ? -1 : 1;
  }

  noise(n: number, generator: Generator): Tensor {
    return this.parts.noise(n, generator);
  }

  /** Discriminator i's share of a batch: all of it, or its slice of N near-equal slices when splitting. */
  private share(x: Tensor, i: number): Tensor {
    if (this.cfg.diversity === 'dropout') return x;
    const sizes = splitSizes(x.shape[0], this.cfg.n);
    const start = sizes.slice(0, i).reduce((a, b) => a + b, 0);
    return narrow(x, 0, start, sizes[i]);
  }

  step(real: Tensor, withStats: boolean): StepStats | null {
    const { netG, netD, mixer } = this.nets;
    const { n, combine, objective } = this.cfg;
    const ds = [...netD] as Module[];
    if (this.cfg.diversity !== 'dropout' && real.shape[0] < n) {
      throw new Error(`GMAN: a batch of ${real.shape[0]} cannot be split among ${n} discriminators (--diversity ${this.cfg.diversity}); use --batch >= ${n}`);
    }
    return tidy(() => {
      const fake = netG.call(this.noise(real.shape[0], this.rng)) as Tensor;
      const fakeD = fake.detach();

      // (1) every D_i on its own loss (the sum trains each on its own: their weights are disjoint).
      const lossesD = ds.map((d, i) =>
        add(bceWithLogits(d.call(this.share(real, i)) as Tensor, 1), bceWithLogits(d.call(this.share(fakeD, i)) as Tensor, 0)),
      );
      const lossD = lossesD.reduce((a, b) => add(a, b));
      stepOn(lossD, netD.parameters(), this.optimizers.netD);

      // (2) G on the combination of its per-D losses (and lambda, for GMAN*).
      const v = concat(ds.map((d, i) => reshape(generatorLossV(d.call(this.share(fake, i)) as Tensor, objective), [1])), 0);
      const lambda = mixer ? mixer.lambda : this.cfg.lambda;
      let lossG = combineLosses(v, combine, { sign: this.sign, lambda });
      if (mixer) {
        lossG = sub(lossG, mulScalar(mixer.lambda, LAMBDA_REWARD));
        stepOn(lossG, [...netG.parameters(), mixer.lambda], this.optimizers.netG, [netD]);
        this.optimizers.mixer!.step(); // lambda's gradient was set by stepOn above
        noGrad(() => tidy(() => {
          const projected = clamp(mixer.lambda, 0, Infinity);
          mixer.lambda.engine.copy(projected.buffer, 0, mixer.lambda.buffer, 0, 4);
        }));
      } else {
        stepOn(lossG, netG.parameters(), this.optimizers.netG, [netD]);
      }

      if (!withStats) return null;
      return noGrad(() => {
        const stats: StepStats = { lossD: mulScalar(lossD.detach(), 1 / n), lossG: lossG.detach() };
        lossesD.forEach((l, i) => (stats[`lossD_${i}`] = l.detach()));
        const vd = v.detach();
        for (let i = 0; i < n; i++) stats[`V_${i}`] = reshape(narrow(vd, 0, i, 1), []);
        if (mixer) stats.lambda = mulScalar(mixer.lambda, 1);
        return stats;
      });
    });
  }

  generate(z: Tensor, opts: { batchStats?: boolean } = {}): Tensor {
    if (this.parts.batchNorm) return generateWith(this.nets.netG, z, opts.batchStats ?? true);
    return noGrad(() => this.nets.netG.call(z) as Tensor);
  }
}

export const gmanRecipe: ModelRecipe = {
  name: 'gman',
  description: 'GMAN (Durugkar et al. 2017): one G against N discriminators, their losses combined by a mean',
  reference: 'arXiv:1611.01673 (Generative Multi-Adversarial Networks); github.com/iDurugkar/GMAN',
  options: {
    imageSize: { type: 'int', default: 32, help: 'image side, a power of two (32: MNIST padded)', metavar: 'N' },
    nz: { type: 'int', default: 100, help: 'latent vector length', metavar: 'N' },
    ngf: { type: 'int', default: 32, help: 'generator width (DCGAN G)', metavar: 'N' },
    ndf: { type: 'int', default: 32, help: 'discriminator width (first conv)', metavar: 'N' },
    n: { type: 'int', default: 5, help: 'number of discriminators N', metavar: 'N' },
    combine: { type: 'string', default: 'softmax', choices: ['arithmetic', 'geometric', 'harmonic', 'softmax'], help: 'how G combines its per-D losses' },
    lambda: { type: 'number', default: 1, help: 'softmax weighting lambda (GMAN-lambda; the start value with --learn-lambda)' },
    learnLambda: { type: 'boolean', default: false, help: 'GMAN*: G learns lambda (with the -0.001 lambda reward), softmax only' },
    diversity: { type: 'string', default: 'both', choices: ['dropout', 'split', 'both'], help: 'what makes the Ds differ: own dropout rate, own batch share, or both' },
    objective: { type: 'string', default: 'original', choices: ['original', 'modified'], help: 'G\'s per-D loss: minimax log(1 - D) or non-saturating -log D' },
  },
  train: { steps: 1000, batch: 50, lr: 2e-4, beta1: 0.5, beta2: 0.999, sampleEvery: 100, ckptEvery: 250, logEvery: 10, dataset: 'mnist' },
  quick: { steps: 150, batch: 16, n: 2, ngf: 8, ndf: 8, sampleEvery: 50, ckptEvery: 50, logEvery: 10 },
  // The image channels follow the training data (1 for MNIST, 3 for Stacked MNIST or emoji).
  adaptToData: (c, data) => ({ ...c, nc: data.channels }),
  imageShape: (c) => ({ channels: Number(c.nc ?? 1), size: Number(c.imageSize) }),
  validate(c) {
    const errs = checkSizeAndWidths(c, ['nz', 'ngf', 'ndf', 'n']);
    if (![1, 3].includes(Number(c.nc ?? 1))) errs.push(`--dataset must give 1- or 3-channel images, got ${c.nc} channels`);
    if (Number(c.n) > 16) errs.push(`--n must be at most 16, got ${c.n}`);
    if (!(Number(c.lambda) >= 0)) errs.push(`--lambda must be >= 0, got ${c.lambda}`);
    if ((c.learnLambda === true || c.learnLambda === 'true') && c.combine !== 'softmax') errs.push(`--learn-lambda (GMAN*) needs --combine softmax, got ${c.combine}`);
    return errs;
  },
  create: (config, settings, seed) => new GmanTrainer(config, settings, seed),
};
