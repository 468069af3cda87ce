// GMAN: Durugkar, Gemp & Mahadevan, "Generative Multi-Adversarial Networks" (ICLR 2017,
// arXiv:1611.01673), following the authors' code (github.com/iDurugkar/GMAN: GMAN.py, helper.py
// mix_prediction, models.py).
//
// N discriminators D_1..D_N play the ordinary GAN game against one generator; each trains on its own
// loss, L_D_i = -E log D_i(x) - E log(1 - D_i(G(z))). They are made different by (--diversity)
//   dropout  every D sees the same batch, with its own dropout rate p_i = 0.6 - 0.2 (i + 1) / N
//            (the reference's keep probabilities base_prob + delta_p (i + 1) with base_prob 0.4 and
//            delta_p = (0.6 - 0.4) / N, after its first two convs; until 2026-12-06 this read
//            0.1 (i + 1) / N, a misreading of delta_p),
//   split    each D gets its own full batch of B generated samples (G makes N B per step, the
//            reference's fake_split), no dropout,
//   both     the reference's set-up (its default): own dropout rate and own batch of fakes.
// Every D sees the whole real batch of B (the reference feeds N B real images and gives each D its
// own B; the training loop here supplies one batch of B, so the Ds share it). Until the fix of issue
// 11 'split' gave each D only a B/N share of one batch; the reference gives each a full batch.
// G's loss combines its per-discriminator losses V_i into one (--combine), as the reference's
// helper.mix_prediction does, with weights w = softmax(lambda V) (uniform at lambda = 0):
//   arithmetic  F = mean_i V_i                                           (GMAN-0; lambda unused)
//   softmax     F = sum_i w_i V_i                                        (GMAN-lambda: lambda = 0 is
//               the arithmetic mean, lambda -> inf the harshest D alone)
//   geometric   F = s exp(sum_i w_i log(s V_i))                          (s = the sign of the V_i)
//   harmonic    F = m + 1 / sum_i (w_i / (V_i - m)),  m = min_i V_i - 0.001
//               (the reference's harmonic mean of the losses shifted to be positive, which works
//               for either sign; it leans towards the smallest V_i, the most lenient D)
// The reference weights geometric and harmonic by lambda too (its --lam defaults to 1), so
// --lambda applies to softmax, geometric and harmonic.
// GMAN* (--learn-lambda, softmax only) lets G choose lambda by gradient descent on
//   F_lambda(V) - 0.001 lambda,    lambda >= 0,
// the paper's regulariser rewarding G for raising lambda (taking on the harsher discriminators);
// lambda has its own Adam (G's settings) and is projected back to >= 0 after every update. (The
// reference's self_learnt flag builds a softplus-parametrised lambda that is not among G_vars, so it
// is never trained there; we follow the paper.)
// --objective picks V_i: 'original' is the minimax game G was meant to play, V_i = E log(1 - D_i(G(z)))
// (<= 0, so s = -1), which the paper shows GMAN can train with; 'modified' is the non-saturating
// V_i = -E log D_i(G(z)) (>= 0, s = +1). As in the reference (helper.sigmoid), D's probabilities are
// squashed into [c, 1 - c], D = (1 - 2c) sigmoid(logit) + c with c = --d-clip 0.01, before the logs;
// --d-clip 0 takes the exact log-sigmoids from the logits instead.
// One step, as the reference's single sess.run of every optimiser: z ~ U[-1, 1] (the reference's
// noise), one forward pass (each D_i on its fakes, then each on the real batch, each pass with its
// own dropout masks), every gradient taken from that pass (each D_i's from L_D_i, G's and lambda's
// from F through the same D outputs), then every optimiser steps: a simultaneous update, no network
// sees another's new weights within the step.
//
// Networks (images): G is the DCGAN generator (imported from nets/dcgan.ts, as the reference's G is
// DCGAN's); each D_i the reference's discriminator: conv3 s2 (ndf), LeakyReLU(0.2), dropout; conv3
// s2 (2 ndf), LeakyReLU(0.2), dropout; conv3 s1 (4 ndf), LeakyReLU(0.2); Linear to one logit. Adam
// 2e-4, beta1 0.5 for G, every D and lambda. On Gaussian mixtures (the `mixture` hook: `gan eval
// modes`, the game page) G and every D_i are MLPs, each D_i with its own dropout rate.

import { Generator, type Tensor, noGrad, tensor, tidy, ops, nn, optim, init } from '../engine/index.js';
import { DcganGenerator } from './dcgan.js';
import { imageSizeErrors } from './lib/checks.js';
import { bool, choice, defineModel, int, num, parseConfig, type ConfigOf } from './lib/model.js';
import { FlatLogit, mlp } from './lib/mlp.js';
import { defaultInit_ } from './lib/networks.js';
import { generateWith, uniformNoise } from './lib/sample.js';
import { gradsInto } from './lib/step.js';
import type { GanTrainer, MixtureModel, ModelConfig, StepStats, TrainSettings } from './registry.js';

/** How G combines its per-D losses, what makes the Ds differ, and G's per-D loss (--combine, --diversity, --objective). */
export type GmanCombine = GmanImageConfig['combine'];
export type GmanDiversity = GmanImageConfig['diversity'];
export type GmanObjective = GmanImageConfig['objective'];

// ---- the losses --------------------------------------------------------------------------------

/** The GMAN* regulariser's slope: G minimises F_lambda - LAMBDA_REWARD * lambda. */
export const LAMBDA_REWARD = 0.001;

/** Dropout rate of discriminator i of n (the reference's keep probability 0.4 + 0.2 (i + 1) / n: GMAN.py delta_p = (0.6 - 0.4) / N). */
export function gmanDropout(i: number, n: number): number {
  return 1 - (0.4 + (0.2 * (i + 1)) / n);
}

/** The harmonic mean's shift below the smallest loss (the reference's sf). */
export const HARMONIC_SHIFT = 1e-3;

/**
 * G's combined loss from its per-discriminator losses V [N] (sign s: -1 for the original objective,
 * whose V_i are <= 0; +1 for the modified one), as the reference's mix_prediction. `lambda` (a number
 * or a scalar tensor, which then gets a gradient) weights softmax, geometric and harmonic by
 * softmax(lambda V); the weights carry gradient, as in the reference.
 */
export function combineLosses(v: Tensor, combine: GmanCombine, opts: { sign: 1 | -1; lambda?: Tensor | number }): Tensor {
  const s = opts.sign;
  const lam = opts.lambda ?? 1;
  const weights = () => (typeof lam === 'number' ? v.mul(lam) : v.mul(lam.reshape([1]))).softmax(0);
  switch (combine) {
    case 'arithmetic':
      return v.mean();
    case 'softmax':
      return weights().mul(v).sum();
    case 'geometric': {
      // |V_i| floored so the log stays finite when a discriminator is fooled completely.
      const mag = v.mul(s).clamp(1e-12, Infinity);
      return weights().mul(mag.log()).sum().exp().mul(s);
    }
    case 'harmonic': {
      let lo = v.narrow(0, 0, 1);
      for (let i = 1; i < v.shape[0]; i++) lo = lo.minimum(v.narrow(0, i, 1));
      const m = lo.sub(HARMONIC_SHIFT); // [1]
      return m.reshape([]).add(weights().div(v.sub(m)).sum().reciprocal());
    }
    default:
      throw new Error(`GMAN: unknown combination '${combine as string}' (arithmetic, geometric, harmonic, softmax)`);
  }
}

/** CPU float64 twin of combineLosses (tests). */
export function combineLossesCpu(v: readonly number[], combine: GmanCombine, sign: 1 | -1, lambda = 1): number {
  const n = v.length;
  const top = Math.max(...v.map((x) => lambda * x));
  const e = v.map((x) => Math.exp(lambda * x - top));
  const z = e.reduce((a, x) => a + x, 0);
  const w = e.map((x) => x / z);
  switch (combine) {
    case 'arithmetic':
      return v.reduce((a, x) => a + x, 0) / n;
    case 'softmax':
      return v.reduce((a, x, i) => a + w[i] * x, 0);
    case 'geometric':
      return sign * Math.exp(v.reduce((a, x, i) => a + w[i] * Math.log(Math.max(sign * x, 1e-12)), 0));
    case 'harmonic': {
      const m = Math.min(...v) - HARMONIC_SHIFT;
      return m + 1 / v.reduce((a, x, i) => a + w[i] / (x - m), 0);
    }
  }
}

/** E log D(x) per batch from D's logits, with D's probability squashed into [clip, 1 - clip]. */
export function meanLogD(logits: Tensor, clip: number): Tensor {
  return (clip > 0 ? ops.affine(logits.sigmoid(), 1 - 2 * clip, clip).log() : logits.neg().softplus().neg()).mean();
}

/** E log(1 - D(x)) per batch from D's logits, with D's probability squashed into [clip, 1 - clip]. */
export function meanLog1mD(logits: Tensor, clip: number): Tensor {
  return (clip > 0 ? ops.affine(logits.sigmoid(), -(1 - 2 * clip), 1 - clip).log() : logits.softplus().neg()).mean();
}

/** G's loss against one discriminator, from its logits on G(z): V_i of the chosen objective. */
export function generatorLossV(logits: Tensor, objective: GmanObjective, clip = 0): Tensor {
  // original: E log(1 - D(G(z))); modified: -E log D(G(z))
  return objective === 'original' ? meanLog1mD(logits, clip) : meanLogD(logits, clip).neg();
}

// ---- the networks ------------------------------------------------------------------------------

/** The reference's image discriminator with dropout rate p after its first two convolutions. */
export class GmanDiscriminator extends nn.Module {
  main: nn.Sequential;

  constructor(cfg: { imageSize: number; nc: number; ndf: number }, p: number, rng?: Generator) {
    super();
    const { nc, ndf, imageSize } = cfg;
    const drop = () => (p > 0 ? [new nn.Dropout(p, { generator: rng })] : []);
    const side = Math.ceil(Math.ceil(imageSize / 2) / 2);
    this.main = new nn.Sequential(
      new nn.Conv2d(nc, ndf, 3, { stride: 2, padding: 1 }),
      new nn.LeakyReLU(0.2),
      ...drop(),
      new nn.Conv2d(ndf, ndf * 2, 3, { stride: 2, padding: 1 }),
      new nn.LeakyReLU(0.2),
      ...drop(),
      new nn.Conv2d(ndf * 2, ndf * 4, 3, { stride: 1, padding: 1 }),
      new nn.LeakyReLU(0.2),
      new nn.Flatten(),
      new nn.Linear(ndf * 4 * side * side, 1),
    );
  }

  /** One logit per sample, [N]. */
  override forward(x: Tensor): Tensor {
    return this.main.call(x).reshape([-1]);
  }
}

/** GMAN*'s learned lambda, a module so checkpoints and optimisers treat it like a network. */
export class GmanLambda extends nn.Module {
  lambda: Tensor;
  constructor(init: number) {
    super();
    this.lambda = nn.Parameter(tensor([init], []));
  }
}

// ---- the training step -------------------------------------------------------------------------

/** The reference's squash of D's probabilities (helper.sigmoid: 0.98 sigmoid + 0.01). */
export const GMAN_D_CLIP = 0.01;

/** The game's settings (the declaration's parameters without the networks' sizes). */
export type GmanConfig = Pick<GmanImageConfig, 'n' | 'combine' | 'lambda' | 'learnLambda' | 'diversity' | 'objective'> & { dClip?: number };

/** What a GMAN trainer is built from: G, the N discriminators (made with their dropout rates) and the noise. */
export interface GmanParts {
  netG: nn.Module;
  discriminators: nn.Module[];
  noise(n: number, generator: Generator): Tensor;
  batchNorm: boolean;
}

/** The image networks: DCGAN's G and N reference discriminators, each with its dropout rate. */
function imageParts(cfg: GmanImageConfig, rng: Generator): GmanParts {
  const netG = new DcganGenerator(cfg);
  init.dcganInit_(netG.modules(), rng);
  const useDropout = cfg.diversity !== 'split';
  const discriminators = Array.from({ length: cfg.n }, (_, i) => {
    const d = new GmanDiscriminator(cfg, useDropout ? gmanDropout(i, cfg.n) : 0, rng);
    init.dcganInit_(d.modules(), rng); // the reference's N(0, 0.02) weights, zero biases
    return d;
  });
  // z ~ U[-1, 1], the reference's tf.random_uniform(minval=-1, maxval=1)
  return { netG, discriminators, noise: (n, generator) => uniformNoise([n, cfg.nz, 1, 1], generator), batchNorm: true };
}

export class GmanTrainer implements GanTrainer {
  readonly nets: { netG: nn.Module; netD: nn.ModuleList; mixer?: GmanLambda };
  readonly optimizers: { netG: optim.Adam; netD: optim.Adam; mixer?: optim.Adam };
  readonly rng: Generator;
  readonly sampler = 'netG';
  readonly cfg: GmanConfig;
  private readonly parts: GmanParts;

  constructor(
    readonly config: ModelConfig,
    settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2'>,
    seed: number,
    build?: (rng: Generator) => GmanParts,
    cfg: GmanConfig = parseConfig(params, config),
  ) {
    this.cfg = cfg;
    this.rng = new Generator(seed);
    this.parts = build ? build(this.rng) : imageParts(parseConfig(params, config), this.rng);
    const netD = new nn.ModuleList(this.parts.discriminators);
    const betas: [number, number] = [settings.beta1, settings.beta2];
    const opt = (m: nn.Module) => new optim.Adam(m, { lr: settings.lr, betas });
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

  /** Replay: every step takes the same path (the combination and lambda live on the GPU). */
  readonly replay = { key: () => '' };

  step(real: Tensor, withStats: boolean): StepStats | null {
    const { netG, netD, mixer } = this.nets;
    const { n, combine, objective } = this.cfg;
    const clip = this.cfg.dClip ?? GMAN_D_CLIP;
    const ds = [...netD] as nn.Module[];
    const b = real.shape[0];
    // 'split' and 'both': every D gets its own full batch of b fakes (G makes n b); 'dropout': one shared batch.
    const own = this.cfg.diversity !== 'dropout';
    return tidy(() => {
      const fake = netG.call(this.noise(own ? n * b : b, this.rng)) as Tensor;
      // One forward pass, in the reference's order: every D_i on its fakes, then every D_i on the real batch.
      const logitsFake = ds.map((d, i) => (d.call(own ? fake.narrow(0, i * b, b) : fake) as Tensor).reshape([-1]));
      const logitsReal = ds.map((d) => (d.call(real) as Tensor).reshape([-1]));
      // (1) L_D_i = -E log D_i(x) - E log(1 - D_i(G(z))); the sum gives each D_i its own gradient (disjoint weights).
      const lossesD = ds.map((_, i) => meanLogD(logitsReal[i], clip).add(meanLog1mD(logitsFake[i], clip)).neg());
      const lossD = lossesD.reduce((a, l) => a.add(l));
      // (2) G (and lambda, for GMAN*) on the combination of its per-D losses, through the same D outputs.
      const v = ops.concat(
        logitsFake.map((l) => generatorLossV(l, objective, clip).reshape([1])),
        0,
      );
      let lossG = combineLosses(v, combine, { sign: this.sign, lambda: mixer ? mixer.lambda : this.cfg.lambda });
      if (mixer) lossG = lossG.sub(mixer.lambda.mul(LAMBDA_REWARD));
      // Every gradient from this one pass, then every optimiser: the reference's simultaneous update.
      gradsInto(lossD, netD.parameters());
      gradsInto(lossG, mixer ? [...netG.parameters(), mixer.lambda] : netG.parameters(), [netD]);
      this.optimizers.netD.step();
      this.optimizers.netG.step();
      if (mixer) {
        this.optimizers.mixer!.step();
        noGrad(() =>
          tidy(() => {
            const projected = mixer.lambda.clamp(0, Infinity);
            mixer.lambda.engine.copy(projected.buffer, 0, mixer.lambda.buffer, 0, 4);
          }),
        );
      }

      if (!withStats) return null;
      return noGrad(() => {
        const stats: StepStats = { lossD: lossD.detach().mul(1 / n), lossG: lossG.detach() };
        lossesD.forEach((l, i) => (stats[`lossD_${i}`] = l.detach()));
        const vd = v.detach();
        for (let i = 0; i < n; i++) stats[`V_${i}`] = vd.narrow(0, i, 1).reshape([]);
        if (mixer) stats.lambda = ops.mulScalar(mixer.lambda, 1);
        return stats;
      });
    });
  }

  generate(z: Tensor, opts: { batchStats?: boolean } = {}): Tensor {
    if (this.parts.batchNorm) return generateWith(this.nets.netG, z, opts.batchStats ?? true);
    return noGrad(() => this.nets.netG.call(z) as Tensor);
  }
}

// ---- the declaration ---------------------------------------------------------------------------

const width = { min: 1, max: 4096 };
const game = {
  n: int(5, 'number of discriminators N', { min: 1, max: 16 }),
  combine: choice(['arithmetic', 'geometric', 'harmonic', 'softmax'], 'softmax', 'how G combines its per-D losses'),
  lambda: num(1, 'weights softmax(lambda V) of softmax, geometric and harmonic (GMAN-lambda; the start value with --learn-lambda)', {
    min: 0,
  }),
  learnLambda: bool(false, 'GMAN*: G learns lambda (with the -0.001 lambda reward), softmax only'),
  diversity: choice(['dropout', 'split', 'both'], 'both', 'what makes the Ds differ: own dropout rate, own batch of fakes, or both'),
  objective: choice(['original', 'modified'], 'original', "G's per-D loss: minimax log(1 - D) or non-saturating -log D"),
};
const params = {
  imageSize: int(32, 'image side, a power of two (32: MNIST padded)'),
  nz: int(100, 'latent vector length', width),
  ngf: int(32, 'generator width (DCGAN G)', width),
  ndf: int(32, 'discriminator width (first conv)', width),
  ...game,
  dClip: num(GMAN_D_CLIP, "D's probabilities squashed into [c, 1 - c] before the logs, as the reference (0: exact log-sigmoid)"),
  nc: int(1, 'image channels (1 for MNIST, 3 for Stacked MNIST or emoji), from the training data', { fromData: true }),
};

/** A GMAN on images: DCGAN's G sizes, the reference D's width, and the game's settings. */
export type GmanImageConfig = ConfigOf<typeof params>;

/** GMAN* needs the softmax weighting (the only one whose lambda G can learn). */
const lambdaCheck = (c: { [key: string]: unknown }) =>
  c.learnLambda === true && c.combine !== 'softmax' ? [`--learn-lambda (GMAN*) needs --combine softmax, got ${c.combine}`] : [];

/** GMAN on a Gaussian mixture: an MLP G against N MLP discriminators, each with its own dropout rate. */
const mixture: MixtureModel = {
  label: 'GMAN',
  // The mixture runs' own defaults: 3 discriminators, dropout diversity, the non-saturating loss.
  params: {
    ...game,
    n: { ...game.n, default: 3 },
    diversity: { ...game.diversity, default: 'dropout' },
    objective: { ...game.objective, default: 'modified' },
  },
  check: lambdaCheck,
  create(o, dim) {
    const cfg = o as unknown as GmanConfig;
    const hidden = new Array<number>(o.layers).fill(o.hidden);
    return new GmanTrainer(
      o,
      o,
      o.seed,
      (rng) => {
        const netG = mlp(o.nz, hidden, dim, { act: 'relu' });
        defaultInit_(netG, rng);
        const useDropout = cfg.diversity !== 'split';
        const discriminators = Array.from({ length: cfg.n }, (_, i) => {
          const d = mlp(dim, hidden, 1, { act: 'leaky', dropout: useDropout ? gmanDropout(i, cfg.n) : 0, rng });
          defaultInit_(d, rng);
          return new FlatLogit(d);
        });
        return { netG, discriminators, noise: (n, generator) => ops.randn([n, o.nz], { generator }), batchNorm: false };
      },
      {
        n: cfg.n,
        combine: cfg.combine,
        lambda: cfg.lambda,
        learnLambda: cfg.learnLambda,
        diversity: cfg.diversity,
        objective: cfg.objective,
      },
    );
  },
  discriminators: (t) => [...(t.nets.netD as nn.ModuleList)] as nn.Module[],
};

export const gmanRecipe = defineModel(
  {
    name: 'gman',
    description: 'GMAN (Durugkar et al. 2017): one G against N discriminators, their losses combined by a mean',
    paper: {
      label: 'GMAN',
      title: 'Generative Multi-Adversarial Networks',
      authors: 'Ishan Durugkar, Ian Gemp, Sridhar Mahadevan',
      year: 2016,
      arxiv: '1611.01673',
      code: 'github.com/iDurugkar/GMAN',
      summary: 'One generator against several discriminators whose feedback is combined by a softened mean, from adversary to teacher.',
    },
    params,
    train: { steps: 1000, batch: 50, lr: 2e-4, beta1: 0.5, beta2: 0.999, sampleEvery: 100, ckptEvery: 250, logEvery: 10, dataset: 'mnist' },
    quick: { steps: 150, batch: 16, n: 2, ngf: 8, ndf: 8, sampleEvery: 50, ckptEvery: 50, logEvery: 10 },
    paperPreset: {
      values: { steps: 15000, batch: 100 },
      sources: {
        steps: 'iDurugkar/GMAN GMAN.py: 25 epochs x 600 iterations',
        batch:
          'GMAN.py batch_size 100 per discriminator: each D gets its own 100 fakes (as here: --batch counts the fakes per D); the reference also feeds each D its own 100 reals, here the Ds share one real batch',
        lr: 'GMAN.py learning_rate 0.0002, Adam beta1 0.5 (paper)',
        n: 'GMAN.py num_disc 5 (paper: N in {1, 2, 5})',
        combine: 'GMAN.py: softmax weights softmax(lambda V) over the discriminators (GMAN-lambda)',
        lambda: 'GMAN.py lam 1 (GMAN-1; the paper also runs GMAN-0 and GMAN*)',
        objective: "GMAN.py objective original (the README's MNIST command uses modified)",
        ngf: "README MNIST command num_hidden 128: G's 4x4 layer = 4 ngf",
        ndf: "num_hidden 128: D's first conv has num_hidden / 4",
        diversity: 'GMAN.py: each D its own slice of the batch and its own dropout keep rate',
        imageSize: 'GMAN.py image_size 32',
      },
      note: 'The paper trains on MNIST, CIFAR-10 and CelebA; --paper is its MNIST set-up (32x32, as GMAN.py).',
    },
    check(c) {
      const errs = imageSizeErrors(c.imageSize);
      if (c.nc !== 1 && c.nc !== 3) errs.push(`--dataset must give 1- or 3-channel images, got ${c.nc} channels`);
      if (!(c.dClip >= 0 && c.dClip < 0.5)) errs.push(`--d-clip must be in [0, 0.5), got ${c.dClip}`);
      return [...errs, ...lambdaCheck(c)];
    },
    // The image channels follow the training data (1 for MNIST, 3 for Stacked MNIST or emoji).
    adaptToData: (_c, data) => ({ nc: data.channels }),
    imageShape: (c) => ({ channels: c.nc, size: c.imageSize }),
    create: (c, settings, seed) => new GmanTrainer(c, settings, seed),
  },
  {
    // The line docs/hyperparameters.md has always printed (the paper's title after its arXiv id).
    reference: 'arXiv:1611.01673 (Generative Multi-Adversarial Networks); github.com/iDurugkar/GMAN',
    mixture,
    demo: {
      charts: [
        { title: "Losses (mean over the Ds, and G's combined loss)", keys: /^loss[DG]$/ },
        { title: "Each discriminator's loss", keys: /^lossD_\d+$/ },
        { title: "G's loss against each discriminator (V_i)", keys: /^V_\d+$/ },
        { title: 'lambda (GMAN*)', keys: /^lambda$/ },
      ],
    },
  },
);
