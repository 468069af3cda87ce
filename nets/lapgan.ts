// LAPGAN: Denton, Chintala, Szlam & Fergus, "Deep Generative Image Models using a Laplacian
// Pyramid of Adversarial Networks" (NeurIPS 2015), following the CIFAR-10 model of the authors'
// Torch code (facebook/eyescream): a cascade of GANs, one per level of a Laplacian pyramid.
//
// With I_0 the image and I_{k+1} = pyrDown(I_k) (engine/ops/pyramid.ts), level k < K holds the band
// h_k = I_k - l_k, where l_k = pyrUp(I_{k+1}) is the coarser image expanded back to level k's size;
// the coarsest level K holds I_K itself.
//
//   coarsest (K):  G_K(z) -> I_K                         an MLP GAN (a small image: 8x8 at 32/3 levels)
//   level k < K:   G_k([l_k, z_k]) -> h_k                z_k one noise plane, concatenated as a channel;
//                                                        conv 7x7 - conv 7x7 - conv 5x5, width ngf
//                                                        (128 in the paper), BN + ReLU between
//                  D_k([h_k + l_k, l_k]) -> logit        D judges the reconstructed fine image next
//                                                        to its coarse condition (the coarse image
//                                                        is added back to the band, as in eyescream)
//
// Training (paper, Sec. 3): every level is an independent conditional GAN trained on the pyramid of
// real images: G_k only ever sees the *real* coarse image l_k during training. One step() here
// updates every level on the same batch (the losses touch disjoint parameters, so one backward is
// exactly independent training), with the non-saturating BCE losses and Adam (2e-4, beta1 0.5).
// The step follows eyescream's cifar/train/conditional_adversarial.lua: D's criterion is one BCE
// averaged over its [real; fake] batch (here the mean of the two halves' means), then G's step
// draws fresh noise and is judged by the updated D. Kept different from eyescream on purpose:
// Adam instead of its SGD with momentum, Gaussian noise instead of its U(-1, 1), the real and fake
// halves of D's batch (and G's batch) conditioned on the same coarse images instead of separately
// drawn ones. tests/steps_cascade.test.ts checks one step against a PyTorch transcription.
//
// Sampling runs the cascade coarse to fine: Ĩ_K = G_K(z), Ĩ_k = pyrUp(Ĩ_{k+1}) + G_k(pyrUp(Ĩ_{k+1}), z_k),
// i.e. reconstructPyramid's recursion img = band_k + pyrUp(img) with generated bands.
// sampleLevels() returns every Ĩ_k, pyramidChain() every step's expanded coarse image, band and sum
// (GanTrainer's optional pyramidChain: the training page's "walk the pyramid" panel shows it for any
// trainer that has one); generate() the finest image.
// The latent code of one sample packs z and every noise plane: [nz | z_{K-1} (s_{K-1}^2) | ... | z_0 (s_0^2)],
// so a fixed code always gives the same image.
//
// Browser-safe: no Node imports.

import { Generator, type Tensor, noGrad, tidy, ops, nn, optim, init } from '../engine/index.js';
import { defineModel, int, type ConfigOf } from './lib/model.js';
import { minimize } from './lib/step.js';
import { generateWith } from './lib/sample.js';
import type { GanTrainer, PyramidChain, PyramidStep, StepStats, TrainSettings } from './registry.js';

/** Image side at pyramid level k (0 = finest). */
export function levelSize(cfg: Pick<LapganConfig, 'imageSize'>, k: number): number {
  return cfg.imageSize >> k;
}

/** Elements of one latent code: nz plus one noise plane per conditional level. */
export function lapganNoiseDim(cfg: LapganConfig): number {
  let n = cfg.nz;
  for (let k = 0; k < cfg.levels; k++) n += levelSize(cfg, k) ** 2;
  return n;
}

// ---- networks -----------------------------------------------------------------------------------------

/** The coarsest level's generator: z -> hidden -> hidden -> nc x s x s in [-1, 1]. */
export class CoarseGenerator extends nn.Module {
  main: nn.Sequential;
  constructor(
    readonly nz: number,
    readonly nh: number,
    readonly nc: number,
    readonly size: number,
  ) {
    super();
    this.main = new nn.Sequential(
      new nn.Linear(nz, nh),
      new nn.ReLU(),
      new nn.Linear(nh, nh),
      new nn.ReLU(),
      new nn.Linear(nh, nc * size * size),
      new nn.Tanh(),
    );
  }
  override forward(z: Tensor): Tensor {
    return this.main.call(z).reshape([z.shape[0], this.nc, this.size, this.size]);
  }
}

/** The coarsest level's discriminator: an MLP with dropout (as eyescream's), one logit per image. */
export class CoarseDiscriminator extends nn.Module {
  main: nn.Sequential;
  constructor(nh: number, nc: number, size: number, rng?: Generator) {
    super();
    this.main = new nn.Sequential(
      new nn.Flatten(),
      new nn.Linear(nc * size * size, nh),
      new nn.LeakyReLU(0.2),
      new nn.Dropout(0.5, { generator: rng }),
      new nn.Linear(nh, nh),
      new nn.LeakyReLU(0.2),
      new nn.Dropout(0.5, { generator: rng }),
      new nn.Linear(nh, 1),
    );
  }
  override forward(x: Tensor): Tensor {
    return this.main.call(x).reshape([-1]);
  }
}

/** G_k: [coarse expanded (nc) | noise plane (1)] -> conv7 -> conv7 -> conv5 -> band (nc, no squashing). */
export class LevelGenerator extends nn.Module {
  main: nn.Sequential;
  constructor(nc: number, ngf: number) {
    super();
    this.main = new nn.Sequential(
      new nn.Conv2d(nc + 1, ngf, 7, { padding: 3, bias: false }),
      new nn.BatchNorm2d(ngf),
      new nn.ReLU(),
      new nn.Conv2d(ngf, ngf, 7, { padding: 3, bias: false }),
      new nn.BatchNorm2d(ngf),
      new nn.ReLU(),
      new nn.Conv2d(ngf, nc, 5, { padding: 2 }),
    );
  }
  /** The band for the expanded coarse image `up` [N, nc, s, s] and noise planes `z` [N, 1, s, s]. */
  override forward(up: Tensor, z: Tensor): Tensor {
    return this.main.call(ops.concat([up, z], 1));
  }
}

/** D_k: [band + coarse (the fine image) | coarse] -> conv5 -> conv5 stride 2 -> dropout -> linear -> logit. */
export class LevelDiscriminator extends nn.Module {
  main: nn.Sequential;
  constructor(nc: number, ndf: number, size: number, rng?: Generator) {
    super();
    const half = Math.ceil(size / 2);
    this.main = new nn.Sequential(
      new nn.Conv2d(2 * nc, ndf, 5, { padding: 2 }),
      new nn.LeakyReLU(0.2),
      new nn.Conv2d(ndf, ndf, 5, { stride: 2, padding: 2 }),
      new nn.LeakyReLU(0.2),
      new nn.Flatten(),
      new nn.Dropout(0.5, { generator: rng }),
      new nn.Linear(ndf * half * half, 1),
    );
  }
  override forward(band: Tensor, up: Tensor): Tensor {
    return this.main.call(ops.concat([band.add(up), up], 1)).reshape([-1]);
  }
}

/** Every generator of the cascade: `coarse` (level K) and `levels` (index k = pyramid level, 0 finest). */
export class LapganGenerator extends nn.Module {
  coarse: CoarseGenerator;
  levels: nn.ModuleList;

  constructor(readonly cfg: LapganConfig) {
    super();
    const { nc, levels } = cfg;
    this.coarse = new CoarseGenerator(cfg.nz, cfg.nh, nc, levelSize(cfg, levels));
    this.levels = new nn.ModuleList(Array.from({ length: levels }, () => new LevelGenerator(nc, cfg.ngf)));
  }

  level(k: number): LevelGenerator {
    return this.levels.at(k) as LevelGenerator;
  }

  /** Splits packed codes [N, noiseDim] into z [N, nz] and the planes, planes[k] [N, 1, s_k, s_k]. */
  splitCode(code: Tensor): { z: Tensor; planes: Tensor[] } {
    const { cfg } = this;
    const n = code.shape[0];
    if (code.rank !== 2 || code.shape[1] !== lapganNoiseDim(cfg)) {
      throw new Error(
        `LapganGenerator: codes must be [N, ${lapganNoiseDim(cfg)}] (nz ${cfg.nz} + one noise plane per level), got [${code.shape.join(', ')}]`,
      );
    }
    const z = code.narrow(1, 0, cfg.nz);
    const planes: Tensor[] = new Array(cfg.levels);
    let off = cfg.nz;
    for (let k = cfg.levels - 1; k >= 0; k--) {
      const s = levelSize(cfg, k);
      planes[k] = code.narrow(1, off, s * s).reshape([n, 1, s, s]);
      off += s * s;
    }
    return { z, planes };
  }

  /**
   * The sampling chain, coarse to fine: the coarse GAN's image Ĩ_K, then for k = K-1 .. 0 the
   * expanded coarser image pyrUp(Ĩ_{k+1}), the generated band G_k(pyrUp(Ĩ_{k+1}), z_k) and their
   * sum Ĩ_k (steps[0] is level K-1, the last step level 0).
   */
  chain(code: Tensor): PyramidChain {
    const { z, planes } = this.splitCode(code);
    const coarse = this.coarse.call(z);
    const steps: PyramidStep[] = [];
    let img = coarse;
    for (let k = this.cfg.levels - 1; k >= 0; k--) {
      const s = levelSize(this.cfg, k);
      const up = ops.pyrUp(img, s, s);
      const band = this.level(k).call(up, planes[k]);
      img = up.add(band);
      steps.push({ level: k, up, band, image: img });
    }
    return { coarse, steps };
  }

  /** Images at every level, coarsest first: [Ĩ_K, Ĩ_{K-1}, ..., Ĩ_0]. */
  sampleLevels(code: Tensor): Tensor[] {
    const { coarse, steps } = this.chain(code);
    return [coarse, ...steps.map((s) => s.image)];
  }

  /** The finest image of the cascade (unclamped; see LapganTrainer.generate). */
  override forward(code: Tensor): Tensor {
    const imgs = this.sampleLevels(code);
    return imgs[imgs.length - 1];
  }
}

/** Every discriminator: `coarse` and `levels` (index k = pyramid level). */
export class LapganDiscriminator extends nn.Module {
  coarse: CoarseDiscriminator;
  levels: nn.ModuleList;

  /** `rng` draws the dropout masks (the trainer passes its own stream, so a resumed run repeats them). */
  constructor(
    readonly cfg: LapganConfig,
    rng?: Generator,
  ) {
    super();
    this.coarse = new CoarseDiscriminator(cfg.nh, cfg.nc, levelSize(cfg, cfg.levels), rng);
    this.levels = new nn.ModuleList(
      Array.from({ length: cfg.levels }, (_, k) => new LevelDiscriminator(cfg.nc, cfg.ndf, levelSize(cfg, k), rng)),
    );
  }

  level(k: number): LevelDiscriminator {
    return this.levels.at(k) as LevelDiscriminator;
  }
}

// ---- training -------------------------------------------------------------------------------------------

/** The training pyramid of a batch: lows[k] = I_k (lows[0] = x), ups[k] = pyrUp(I_{k+1}) at level k's size, bands[k] = I_k - ups[k]. */
export function trainingPyramid(x: Tensor, levels: number): { lows: Tensor[]; ups: Tensor[]; bands: Tensor[] } {
  const lows = [x];
  for (let k = 0; k < levels; k++) lows.push(ops.pyrDown(lows[k]));
  const ups: Tensor[] = [];
  const bands: Tensor[] = [];
  for (let k = 0; k < levels; k++) {
    const [, , h, w] = lows[k].shape;
    ups.push(ops.pyrUp(lows[k + 1], h, w));
    bands.push(lows[k].sub(ups[k]));
  }
  return { lows, ups, bands };
}

/** Reads every level's samples through generateWith (batch-statistics / eval handling in one place). */
class LevelStack extends nn.Module {
  constructor(readonly netG: LapganGenerator) {
    super();
  }
  override forward(code: Tensor): Tensor {
    const n = code.shape[0];
    return ops.concat(
      this.netG.sampleLevels(code).map((t) => t.reshape([n, -1])),
      1,
    );
  }
}

/** The whole chain flattened per sample, [coarse | up, band, image of level K-1 | ... | of level 0], for generateWith. */
class ChainStack extends nn.Module {
  constructor(readonly netG: LapganGenerator) {
    super();
  }
  override forward(code: Tensor): Tensor {
    const n = code.shape[0];
    const { coarse, steps } = this.netG.chain(code);
    const parts = [coarse, ...steps.flatMap((s) => [s.up, s.band, s.image])];
    return ops.concat(
      parts.map((t) => t.reshape([n, -1])),
      1,
    );
  }
}

/** Owns the cascade's generators and discriminators (one module each), their Adams and the noise stream. */
export class LapganTrainer implements GanTrainer {
  readonly nets: { netG: LapganGenerator; netD: LapganDiscriminator };
  readonly optimizers: { netG: optim.Adam; netD: optim.Adam };
  readonly rng: Generator;
  readonly sampler = 'netG';
  readonly cfg: LapganConfig;

  constructor(
    readonly config: LapganConfig,
    settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2'>,
    seed: number,
  ) {
    this.cfg = config;
    this.rng = new Generator(seed);
    const netG = new LapganGenerator(this.cfg);
    const netD = new LapganDiscriminator(this.cfg, this.rng);
    init.dcganInit_(netG.modules(), this.rng);
    init.dcganInit_(netD.modules(), this.rng);
    this.nets = { netG, netD };
    const betas: [number, number] = [settings.beta1, settings.beta2];
    // One Adam per module: its per-parameter updates make this exactly one optimiser per level.
    this.optimizers = { netG: new optim.Adam(netG, { lr: settings.lr, betas }), netD: new optim.Adam(netD, { lr: settings.lr, betas }) };
  }

  noise(n: number, generator: Generator): Tensor {
    return ops.randn([n, lapganNoiseDim(this.cfg)], { generator });
  }

  /**
   * One step on every level, as eyescream's conditional_adversarial.lua: D_k on (real band, fake
   * band) given the real coarse image, with BCE averaged over the real and fake halves of its batch
   * (the reference's one criterion over [real; fake]); then G_k against the updated D_k
   * (non-saturating) on a fresh noise draw (the reference refills noise_inputs before its G step).
   * Stats: lossD / lossG summed over levels, per-level lossD_k / lossG_k (k = pyramid level, K = the
   * coarse GAN), and D(x) / D(G(z)) averaged over levels.
   */
  /** Replay: every step takes the same path. */
  readonly replay = { key: () => '' };

  step(real: Tensor, withStats: boolean): StepStats | null {
    const { netG, netD } = this.nets;
    const L = this.cfg.levels;
    const n = real.shape[0];
    return tidy(() => {
      const pyr = noGrad(() => trainingPyramid(real, L));
      const fakes = (code: Tensor) => {
        const { z, planes } = netG.splitCode(code);
        return { coarse: netG.coarse.call(z), bands: pyr.ups.map((up, k) => netG.level(k).call(up, planes[k])) };
      };
      // D: every level's real pair -> 1, fake pair -> 0 (the samples need no graph here).
      const forD = noGrad(() => fakes(this.noise(n, this.rng)));
      const realLogits = [netD.coarse.call(pyr.lows[L]), ...pyr.bands.map((b, k) => netD.level(k).call(b, pyr.ups[k]))];
      const fakeLogitsD = [netD.coarse.call(forD.coarse), ...forD.bands.map((b, k) => netD.level(k).call(b, pyr.ups[k]))];
      const lossesD = realLogits.map((r, i) => ops.bceWithLogits(r, 1).add(ops.bceWithLogits(fakeLogitsD[i], 0)).mul(0.5));
      const lossD = lossesD.reduce((a, b) => a.add(b));
      minimize(lossD, this.optimizers.netD);

      // G: fresh noise, every level's fake pair -> 1 under the updated D.
      const forG = fakes(this.noise(n, this.rng));
      const fakeLogitsG = [netD.coarse.call(forG.coarse), ...forG.bands.map((b, k) => netD.level(k).call(b, pyr.ups[k]))];
      const lossesG = fakeLogitsG.map((f) => ops.bceWithLogits(f, 1));
      const lossG = lossesG.reduce((a, b) => a.add(b));
      minimize(lossG, this.optimizers.netG, { frozen: [netD] });

      if (!withStats) return null;
      return noGrad(() => {
        // Index i of the lists is the coarse GAN (level L) for i = 0, level i - 1 otherwise.
        const name = (i: number) => (i === 0 ? L : i - 1);
        const stats: StepStats = { lossD: lossD.detach(), lossG: lossG.detach() };
        lossesD.forEach((l, i) => (stats[`lossD_${name(i)}`] = l.detach()));
        lossesG.forEach((l, i) => (stats[`lossG_${name(i)}`] = l.detach()));
        stats.D_x = ops
          .concat(
            realLogits.map((r) => r.detach().sigmoid()),
            0,
          )
          .mean();
        stats.D_G_z = ops
          .concat(
            fakeLogitsD.map((f) => f.detach().sigmoid()),
            0,
          )
          .mean();
        return stats;
      });
    });
  }

  /** The finest images in [-1, 1] (clamped: the bands are not squashed). */
  generate(z: Tensor, opts: { batchStats?: boolean } = {}): Tensor {
    return tidy(() => generateWith(this.nets.netG, z, opts.batchStats ?? true).clamp(-1, 1));
  }

  /** Every level's images for the codes, coarsest first (unclamped): the walk up the pyramid. */
  sampleLevels(z: Tensor, opts: { batchStats?: boolean } = {}): Tensor[] {
    const n = z.shape[0];
    const { nc, levels } = this.cfg;
    return tidy(() => {
      const flat = generateWith(new LevelStack(this.nets.netG), z, opts.batchStats ?? true);
      const out: Tensor[] = [];
      let off = 0;
      for (let k = levels; k >= 0; k--) {
        const s = levelSize(this.cfg, k);
        out.push(flat.narrow(1, off, nc * s * s).reshape([n, nc, s, s]));
        off += nc * s * s;
      }
      return out;
    });
  }

  /**
   * The sampling chain for the codes, coarse to fine, through the same generator pass as
   * generate() (batch statistics by default): the coarse image, then per level k = K-1 .. 0 the
   * expanded coarser image, the generated band and their sum (unclamped; the last step's image,
   * clamped to [-1, 1], is generate(z)). No gradients; the caller owns (disposes) the tensors.
   */
  pyramidChain(z: Tensor, opts: { batchStats?: boolean } = {}): PyramidChain {
    const n = z.shape[0];
    const { nc, levels } = this.cfg;
    return tidy(() => {
      const flat = generateWith(new ChainStack(this.nets.netG), z, opts.batchStats ?? true);
      let off = 0;
      const take = (s: number) => {
        const t = flat.narrow(1, off, nc * s * s).reshape([n, nc, s, s]);
        off += nc * s * s;
        return t;
      };
      const coarse = take(levelSize(this.cfg, levels));
      const steps: PyramidStep[] = [];
      for (let k = levels - 1; k >= 0; k--) {
        const s = levelSize(this.cfg, k);
        steps.push({ level: k, up: take(s), band: take(s), image: take(s) });
      }
      return { coarse, steps };
    });
  }
}

// ---- the declaration ------------------------------------------------------------------------------

const params = {
  imageSize: int(32, 'finest image side (32: MNIST padded, emoji at 32; 64: emoji)'),
  levels: int(2, 'conditional pyramid levels; the coarse GAN works at imageSize / 2^levels (32 and 2: 8x8, as the paper on CIFAR)', {
    min: 1,
    max: 5,
  }),
  nz: int(100, 'latent length of the coarse GAN', { min: 1, max: 4096 }),
  nh: int(600, 'hidden units of the coarse MLP generator and discriminator', { min: 1, max: 4096 }),
  ngf: int(128, 'channels of each level generator (128 in the paper)', { min: 1, max: 4096 }),
  ndf: int(64, 'channels of each level discriminator', { min: 1, max: 4096 }),
  nc: int(1, 'image channels (1 for MNIST, 3 or 4 for emoji), from the training data', { fromData: true }),
};

/**
 * A LAPGAN cascade: the finest image side and channels, the conditional levels below the coarse GAN
 * (the coarsest image is imageSize / 2^levels), the coarse GAN's latent length and hidden units, and
 * the level networks' widths (ngf 128 in the paper).
 */
export type LapganConfig = ConfigOf<typeof params>;

export const lapganRecipe = defineModel({
  name: 'lapgan',
  description: 'LAPGAN (Denton et al. 2015): a Laplacian pyramid of conditional GANs, sampled coarse to fine',
  paper: {
    label: 'LAPGAN',
    title: 'Deep Generative Image Models using a Laplacian Pyramid of Adversarial Networks',
    authors: 'Emily Denton, Soumith Chintala, Arthur Szlam, Rob Fergus',
    year: 2015,
    arxiv: '1506.05751',
    code: 'github.com/facebook/eyescream (CIFAR-10 model)',
    summary: 'A cascade of conditional GANs, each generating the band-pass residual of a Laplacian pyramid level, coarse to fine.',
  },
  params,
  train: { steps: 5000, batch: 64, lr: 2e-4, beta1: 0.5, beta2: 0.999, sampleEvery: 500, ckptEvery: 1000, logEvery: 25, dataset: 'mnist' },
  quick: { steps: 200, batch: 16, nh: 256, ngf: 8, ndf: 8, sampleEvery: 100, ckptEvery: 100, logEvery: 10 },
  paperPreset: {
    values: { batch: 128 },
    sources: {
      batch: 'facebook/eyescream train_cifar_coarse_to_fine.lua batchSize 128 (train_cifar.lua, the coarse GAN: 100)',
      lr: 'paper Sec. 4 / eyescream: SGD, rate 0.02, momentum 0.5; this trainer has Adam only, kept at 0.0002 / beta1 0.5',
      imageSize: 'paper (CIFAR-10): 32x32',
      levels: 'paper (CIFAR-10): 8x8 coarse GAN, then 16 and 32 (2 conditional levels)',
      ngf: 'paper: level generators of 3 convs (7x7, 7x7, 5x5) with 128 feature maps (eyescream default hidden_G 64)',
      ndf: 'eyescream hidden_D 64',
      nh: 'paper: fully connected coarse G and D; 600 hidden units not confirmed',
      steps: 'eyescream trains until stopped; the paper gives no length',
    },
    unconfirmed: ['nh', 'steps'],
    note: "The paper's CIFAR-10 and STL models are not reproducible here (no CIFAR-10): --paper trains the CIFAR-10 pyramid on MNIST padded to 32x32. The paper uses SGD with momentum; the trainer uses Adam.",
  },
  check(c) {
    const { imageSize: size, levels } = c;
    if (size < 8 || size > 256 || size % 2 ** levels !== 0 || size >> levels < 4) {
      return [
        `--image-size must be in [8, 256], divisible by 2^levels, with a coarsest level of at least 4x4; got ${size} with ${levels} levels`,
      ];
    }
    return [];
  },
  adaptToData: (_c, data) => ({ nc: data.channels }),
  imageShape: (c) => ({ channels: c.nc, size: c.imageSize }),
  create: (c, settings, seed) => new LapganTrainer(c, settings, seed),
});
