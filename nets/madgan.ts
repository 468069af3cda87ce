// MAD-GAN: Ghosh, Kulharia, Namboodiri, Torr & Dokania, "Multi-Agent Diverse Generative
// Adversarial Networks" (CVPR 2018, arXiv:1704.02906).
//
// k generators against one discriminator that must also say WHICH generator made a sample: D has
// k + 1 softmax outputs, class i < k for generator i and class k for real data. With one minibatch
// of m real samples and m samples from every generator,
//     L_D   = cross-entropy of D's softmax against those labels, over all (k + 1) m samples
//     L_G_i = -E_z log D_k(G_i(z))          (G_i wants its samples called real; the non-saturating
//                                            form of the paper's min E log(1 - D_k(G_i(z))))
// To win, D must separate the generators from each other, which pushes them to different modes.
// The generators share their first layers (the paper shares all but the last layers): ONE trunk
// module, run once on all k m noise vectors, feeds k heads, so every head's loss reaches the same
// trunk tensors and their gradients add up there.
//
//   images   (gan train madgan): the paper builds on DCGAN, and so does this file: it imports
//            DCGAN's discriminator (nets/dcgan.ts) and gives its last conv k + 1 output channels;
//            the generator is DCGAN's cut into a trunk of its first --shared blocks (convT + BN +
//            ReLU) and k heads of the remaining blocks ending in tanh. Sample grids give each
//            generator an equal run of rows (64 samples, k = 4: two rows each).
//   mixtures (the `mixture` hook: `gan eval modes`, the game page): MLPs; the trunk is the first
//            --shared (Linear, ReLU) layers, D an MLP with k + 1 outputs.
//
// Every step: one D update on [G_0's m, ..., G_{k-1}'s m, m real] (each source through D as a batch
// of its own, so D's batch norm never mixes sources), then one update of all generators (the sum of
// their losses; heads have separate weights, the trunk gets the summed gradient).
// Adam 2e-4, betas (0.5, 0.999) (the --quick recipe: 1e-3, as DCGAN's).

import { Generator, type Tensor, noGrad, tensor, tidy, ops, nn, optim, init } from '../engine/index.js';
import { DcganDiscriminator, dcganDepth } from './dcgan.js';
import { imageSizeErrors } from './lib/checks.js';
import { defineModel, int, parseConfig, type ConfigOf } from './lib/model.js';
import { mlp } from './lib/mlp.js';
import { defaultInit_ } from './lib/networks.js';
import { generateWith } from './lib/sample.js';
import { minimize } from './lib/step.js';
import type { GanTrainer, MixtureModel, ModelConfig, StepStats, TrainSettings } from './registry.js';

// ---- the generators: one trunk, k heads --------------------------------------------------------

/** Rows per generator when n samples are shared among k generators as evenly as possible. */
export function splitSizes(n: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}

/** k generators as one shared trunk and k heads. */
export class MultiGenerator extends nn.Module {
  trunk: nn.Sequential;
  heads: nn.ModuleList;

  constructor(trunk: nn.Sequential, heads: nn.Module[]) {
    super();
    this.trunk = trunk;
    this.heads = new nn.ModuleList(heads);
  }

  get k(): number {
    return this.heads.length;
  }

  /**
   * Samples of every generator: rows sizes[0] of z go to G_0, the next sizes[1] to G_1, ...;
   * the trunk runs once on all of z, the outputs come back in the same order.
   */
  forwardSplit(z: Tensor, sizes: readonly number[]): Tensor[] {
    const h = this.trunk.call(z);
    const parts = ops.split(h, sizes, 0);
    return parts.map((p, i) => this.heads.at(i).call(p) as Tensor);
  }

  /** All generators' samples, concatenated in generator order (equal shares of z). */
  override forward(z: Tensor): Tensor {
    return ops.concat(this.forwardSplit(z, splitSizes(z.shape[0], this.k)), 0);
  }
}

/** The DCGAN generator cut after `shared` blocks into a trunk and k heads. */
export function dcganMultiGenerator(
  cfg: { imageSize: number; nc: number; nz: number; ngf: number },
  k: number,
  shared: number,
): MultiGenerator {
  const depth = dcganDepth(cfg.imageSize); // blocks with BN + ReLU; then the output block
  if (!(shared >= 1 && shared <= depth))
    throw new Error(`MAD-GAN: --shared must be in [1, ${depth}] for ${cfg.imageSize}x${cfg.imageSize} images, got ${shared}`);
  const blocks: (() => nn.Module[])[] = [];
  let ch = cfg.ngf * 2 ** (depth - 1);
  blocks.push(
    ((c) => () => [new nn.ConvTranspose2d(cfg.nz, c, 4, { stride: 1, padding: 0, bias: false }), new nn.BatchNorm2d(c), new nn.ReLU()])(ch),
  );
  for (let i = 1; i < depth; i++) {
    blocks.push(
      ((c) => () => [
        new nn.ConvTranspose2d(c, c / 2, 4, { stride: 2, padding: 1, bias: false }),
        new nn.BatchNorm2d(c / 2),
        new nn.ReLU(),
      ])(ch),
    );
    ch /= 2;
  }
  blocks.push(((c) => () => [new nn.ConvTranspose2d(c, cfg.nc, 4, { stride: 2, padding: 1, bias: false }), new nn.Tanh()])(ch));
  const trunk = new nn.Sequential(...blocks.slice(0, shared).flatMap((b) => b()));
  const heads = Array.from({ length: k }, () => new nn.Sequential(...blocks.slice(shared).flatMap((b) => b())));
  return new MultiGenerator(trunk, heads);
}

/** MLP generators for the mixtures: `shared` (Linear, ReLU) layers in the trunk, the rest per head. */
export function mlpMultiGenerator(
  cfg: { nz: number; hidden: number; layers: number; dim: number },
  k: number,
  shared: number,
): MultiGenerator {
  if (!(shared >= 1 && shared <= cfg.layers)) throw new Error(`MAD-GAN: shared layers must be in [1, ${cfg.layers}], got ${shared}`);
  const trunk: nn.Module[] = [];
  for (let i = 0; i < shared; i++) trunk.push(new nn.Linear(i === 0 ? cfg.nz : cfg.hidden, cfg.hidden), new nn.ReLU());
  const heads = Array.from({ length: k }, () =>
    mlp(cfg.hidden, new Array<number>(cfg.layers - shared).fill(cfg.hidden), cfg.dim, { act: 'relu' }),
  );
  return new MultiGenerator(new nn.Sequential(...trunk), heads);
}

// ---- the (k + 1)-way discriminator -------------------------------------------------------------

/** The DCGAN discriminator with k + 1 logits per image (its last conv has k + 1 channels). */
export class MadganDiscriminator extends DcganDiscriminator {
  constructor(
    cfg: { imageSize: number; nc: number; nz: number; ngf: number; ndf: number },
    readonly classes: number,
  ) {
    super(cfg);
    const layers = [...this.main];
    const last = layers.pop() as nn.Conv2d;
    this.main = new nn.Sequential(...layers, new nn.Conv2d(last.inChannels, classes, 4, { stride: 1, padding: 0, bias: false }));
    last.dispose();
  }

  /** Logits [N, k + 1]. */
  override forward(x: Tensor): Tensor {
    return this.main.call(x).reshape([x.shape[0], this.classes]);
  }
}

/**
 * Class labels of one D batch: m samples of each generator 0..k-1, then m real samples (class k).
 * The order matches the concatenation in MadganTrainer.step.
 */
export function madganLabels(k: number, m: number): Int32Array {
  const labels = new Int32Array((k + 1) * m);
  for (let c = 0; c <= k; c++) labels.fill(c, c * m, (c + 1) * m);
  return labels;
}

// ---- the training step -------------------------------------------------------------------------

/** What a MAD-GAN trainer is built from: the k generators, D (k + 1 logits) and the noise. */
export interface MadganParts {
  netG: MultiGenerator;
  netD: nn.Module;
  noise(n: number, generator: Generator): Tensor;
  /** Whether generate() should keep BN batch statistics snapshots (image generators with BN). */
  batchNorm: boolean;
}

/** MAD-GAN on any data: the parts decide images (the default, from the config) or vectors. */
export class MadganTrainer implements GanTrainer {
  readonly nets: { netG: MultiGenerator; netD: nn.Module };
  readonly optimizers: { netG: optim.Adam; netD: optim.Adam };
  readonly rng: Generator;
  readonly sampler = 'netG';
  readonly k: number;
  private readonly parts: MadganParts;
  private labels: { m: number; d: Tensor; g: Tensor } | null = null;

  constructor(
    readonly config: ModelConfig,
    settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2'>,
    seed: number,
    build: (rng: Generator) => MadganParts = (rng) => imageParts(parseConfig(params, config), rng),
  ) {
    this.rng = new Generator(seed);
    this.parts = build(this.rng);
    const { netG, netD } = this.parts;
    this.k = netG.k;
    this.nets = { netG, netD };
    const betas: [number, number] = [settings.beta1, settings.beta2];
    this.optimizers = { netG: new optim.Adam(netG, { lr: settings.lr, betas }), netD: new optim.Adam(netD, { lr: settings.lr, betas }) };
  }

  noise(n: number, generator: Generator): Tensor {
    return this.parts.noise(n, generator);
  }

  /**
   * int32 labels for batches of m, built once per batch size: `d` for D's batch (madganLabels),
   * `g` for the generators' k m samples (all class k, "real").
   */
  /** Frees the networks, optimizers and the cached label tensors. */
  dispose(): void {
    for (const o of Object.values(this.optimizers)) o.dispose();
    for (const net of Object.values(this.nets)) net.dispose();
    this.labels?.d.dispose();
    this.labels?.g.dispose();
    this.labels = null;
  }

  labelsFor(m: number): { d: Tensor; g: Tensor } {
    if (this.labels?.m !== m) {
      this.labels?.d.dispose();
      this.labels?.g.dispose();
      const k = this.k;
      this.labels = {
        m,
        d: tensor(madganLabels(k, m), [(k + 1) * m], 'int32').keep(),
        g: tensor(new Int32Array(k * m).fill(k), [k * m], 'int32').keep(),
      };
    }
    return this.labels;
  }

  /** Replay: every step takes the same path (noise and labels are drawn on the GPU). */
  readonly replay = { key: () => '' };

  step(real: Tensor, withStats: boolean): StepStats | null {
    const { netG, netD } = this.nets;
    const k = this.k;
    const m = real.shape[0];
    const labels = this.labelsFor(m);
    return tidy(() => {
      const fakes = netG.forwardSplit(this.noise(k * m, this.rng), new Array<number>(k).fill(m));

      // (1) D: classify every sample as its generator or as real. Each source passes through D as a
      // batch of its own (as DCGAN passes reals and fakes separately), so D's batch norm never mixes
      // sources: not real with fake, and not one generator with another. (One pass over all k m
      // fakes, normalising the generators together, left D near chance on the real class and the
      // quick recipe's samples flat grey; docs/results.md.) Logits are stacked in label order.
      const logitsFake = ops.concat(
        fakes.map((f) => netD.call(f.detach()) as Tensor),
        0,
      );
      const logitsReal = netD.call(real) as Tensor;
      const lossD = ops.softmaxCrossEntropy(ops.concat([logitsFake, logitsReal], 0), labels.d);
      minimize(lossD, this.optimizers.netD);

      // (2) every G_i: make D say "real" (class k); the sum over generators of their mean losses.
      // D sees each generator's batch on its own again, as in (1).
      const logitsG = ops.concat(
        fakes.map((f) => netD.call(f) as Tensor),
        0,
      );
      const lossG = ops.softmaxCrossEntropy(logitsG, labels.g).mul(k);
      minimize(lossG, this.optimizers.netG, { frozen: [netD] });

      if (!withStats) return null;
      return noGrad(() => {
        const pReal = logitsReal.softmax(-1).narrow(1, k, 1);
        return { lossD: lossD.detach(), lossG: lossG.detach(), D_real: pReal.mean() };
      });
    });
  }

  /** Samples with the rows shared evenly among the generators, in generator order. */
  generate(z: Tensor, opts: { batchStats?: boolean } = {}): Tensor {
    const sizes = splitSizes(z.shape[0], this.k);
    const split = new SplitForward(this.nets.netG, sizes);
    if (this.parts.batchNorm) return generateWith(split, z, opts.batchStats ?? true);
    return noGrad(() => split.call(z));
  }
}

/** Adapts MultiGenerator.forwardSplit to a single-input module for generateWith. */
class SplitForward extends nn.Module {
  constructor(
    readonly net: MultiGenerator,
    readonly sizes: number[],
  ) {
    super();
  }
  override forward(z: Tensor): Tensor {
    return ops.concat(this.net.forwardSplit(z, this.sizes), 0);
  }
}

/** The image networks: DCGAN's, k heads on a trunk and a (k + 1)-way D, with DCGAN's init. */
function imageParts(cfg: MadganConfig, rng: Generator): MadganParts {
  const netG = dcganMultiGenerator(cfg, cfg.k, cfg.shared);
  const netD = new MadganDiscriminator(cfg, cfg.k + 1);
  init.dcganInit_(netG.modules(), rng);
  init.dcganInit_(netD.modules(), rng);
  return { netG, netD, noise: (n, generator) => ops.randn([n, cfg.nz, 1, 1], { generator }), batchNorm: true };
}

// ---- the declaration ---------------------------------------------------------------------------

const width = { min: 1, max: 4096 };
const params = {
  imageSize: int(32, 'image side, a power of two (32: MNIST padded)'),
  nz: int(100, 'latent vector length', width),
  ngf: int(32, 'generator width (DCGAN G)', width),
  ndf: int(32, 'discriminator width (DCGAN D)', width),
  k: int(4, 'number of generators', { min: 1, max: 64 }),
  shared: int(2, 'generator blocks in the shared trunk (the rest is per generator)'),
  nc: int(1, 'image channels (1 for MNIST, 3 for Stacked MNIST or emoji), from the training data', { fromData: true }),
};

/** A MAD-GAN's shape: DCGAN's image side, widths and latent length, k generators, the shared trunk. */
export type MadganConfig = ConfigOf<typeof params>;

/** MAD-GAN on a Gaussian mixture: MLP generators on a shared trunk, an MLP D with k + 1 outputs. */
const mixture: MixtureModel = {
  label: 'MAD-GAN',
  params: {
    k: int(4, 'number of generators', { min: 1, max: 64 }),
    shared: int(1, 'hidden layers shared by the generators', { min: 1 }),
  },
  check: (o) => (Number(o.shared) > o.layers ? [`--shared must be an integer in [1, ${o.layers}] (--layers), got ${o.shared}`] : []),
  create(o, dim) {
    const k = Number(o.k);
    return new MadganTrainer(o, o, o.seed, (rng) => {
      const netG = mlpMultiGenerator({ nz: o.nz, hidden: o.hidden, layers: o.layers, dim }, k, Number(o.shared));
      const netD = mlp(dim, new Array<number>(o.layers).fill(o.hidden), k + 1, { act: 'leaky' });
      defaultInit_(netG, rng);
      defaultInit_(netD, rng);
      return { netG, netD, noise: (n, generator) => ops.randn([n, o.nz], { generator }), batchNorm: false };
    });
  },
  discriminators: (t) => [t.nets.netD],
  classes: (o) => Number(o.k) + 1,
  generatorSizes: (n, o) => splitSizes(n, Number(o.k)),
};

export const madganRecipe = defineModel(
  {
    name: 'madgan',
    description: 'MAD-GAN (Ghosh et al. 2018): k generators with a shared trunk, D with k+1 classes',
    paper: {
      label: 'MAD-GAN',
      title: 'Multi-Agent Diverse Generative Adversarial Networks',
      authors: 'Arnab Ghosh, Viveka Kulharia, Vinay Namboodiri, Philip H. S. Torr, Puneet K. Dokania',
      year: 2017,
      arxiv: '1704.02906',
      summary: 'Several generators and one discriminator that must also tell which generator made a fake, pushing them to different modes.',
    },
    params,
    train: { steps: 1000, batch: 32, lr: 2e-4, beta1: 0.5, beta2: 0.999, sampleEvery: 100, ckptEvery: 250, logEvery: 10, dataset: 'mnist' },
    // --quick: DCGAN's quick sizes and learning rate (ngf 16, ndf 8, lr 1e-3: narrow nets at 2e-4 barely
    // move in a few hundred steps), 8 samples per generator, and twice DCGAN's steps.
    quick: { steps: 300, batch: 8, k: 3, ngf: 16, ndf: 8, lr: 1e-3, sampleEvery: 50, ckptEvery: 50, logEvery: 10 },
    paperPreset: {
      values: {},
      sources: {
        lr: "paper: DCGAN's networks and Adam settings (0.0002, beta1 0.5)",
      },
      unconfirmed: ['k', 'shared', 'batch', 'steps', 'ngf', 'ndf'],
      note: "The paper's image experiments (Stacked-MNIST, CelebA, LSUN, image-to-image) use DCGAN's networks with k generators sharing all but their last layers; the number of generators and the training length per experiment could not be confirmed here, so --paper keeps the full recipe's values for them.",
    },
    check(c) {
      const errs = imageSizeErrors(c.imageSize);
      const depth = Math.log2(c.imageSize) - 2;
      if (c.nc !== 1 && c.nc !== 3) errs.push(`--dataset must give 1- or 3-channel images, got ${c.nc} channels`);
      if (Number.isInteger(depth) && !(Number.isInteger(c.shared) && c.shared >= 1 && c.shared <= depth)) {
        errs.push(
          `--shared must be an integer in [1, ${depth}] (blocks of the ${c.imageSize}x${c.imageSize} generator before its output block), got ${c.shared}`,
        );
      }
      return errs;
    },
    // The image channels follow the training data (1 for MNIST, 3 for Stacked MNIST or emoji).
    adaptToData: (_c, data) => ({ nc: data.channels }),
    imageShape: (c) => ({ channels: c.nc, size: c.imageSize }),
    create: (c, settings, seed) => new MadganTrainer(c, settings, seed),
  },
  {
    // The line docs/hyperparameters.md has always printed (the paper's title after its arXiv id).
    reference: 'arXiv:1704.02906 (Multi-Agent Diverse Generative Adversarial Networks)',
    mixture,
    demo: {
      charts: [
        { title: 'Cross-entropy losses', keys: /^loss/ },
        { title: "D's probability that real data is real", keys: /^D_real$/, yRange: [0, 1] },
      ],
      blurb: 'Rows of the grid come from the k generators in turn (the latent codes are shared out among them).',
    },
  },
);
