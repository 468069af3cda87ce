// DiscoGAN: Kim, Cha, Kim, Lee & Kim, "Learning to Discover Cross-Domain Relations with Generative
// Adversarial Networks" (ICML 2017), as in the reference SKTBrain/DiscoGAN (PyTorch,
// discogan/model.py and discogan/image_translation.py).
//
//   Generator (64 px): an encoder-decoder without skips, `main` =
//     conv4/2 ngf, LReLU(0.2) | conv4/2 2ngf, BN, LReLU | conv4/2 4ngf, BN, LReLU | conv4/2 8ngf, BN, LReLU
//     | convT4/2 4ngf, BN, ReLU | convT4/2 2ngf, BN, ReLU | convT4/2 ngf, BN, ReLU | convT4/2 3, sigmoid
//     (no biases; images in [0, 1])
//   Discriminator: conv1 4/2 ndf, LReLU | conv2 4/2 2ndf, bn2, LReLU | conv3 4/2 4ndf, bn3, LReLU |
//     conv4 4/2 8ndf, bn4, LReLU | conv5 4/1 pad 0 to one channel, sigmoid; it also returns the three
//     post-activation feature maps [relu2, relu3, relu4] for feature matching.
//   generator_A maps B -> A and generator_B maps A -> B (the reference's naming: AB = generator_B(A));
//   discriminator_A judges domain A, discriminator_B domain B.
//   Losses, per domain X in {A, B}, every term averaged:
//     dis_loss_X = 0.5 BCE(D_X(real X), 1) + 0.5 BCE(D_X(fake X), 0)
//     gen_loss_X = BCE(D_X(fake X), 1)
//     fm_loss_X  = sum over the 3 feature maps of mean_chw (mean_n f(real X) - mean_n f(fake X))^2
//                  (the reference's HingeEmbeddingLoss against 1, which is the identity on these)
//     recon_loss_A = MSE(G_A(G_B(A)), A), recon_loss_B = MSE(G_B(G_A(B)), B)
//     gen_loss_A_total = (0.1 gen_loss_B + 0.9 fm_loss_B) (1 - rate) + rate recon_loss_A, B alike
//     rate = 0.01 (starting_rate) for the first 10000 iterations (gan_curriculum), then 0.5
//   Updates: one iteration per batch; every update_interval-th (3) iteration, from the first, steps
//   the discriminators on sum(dis_loss), the others step the generators on sum(gen_loss_*_total).
//   Adam 2e-4, betas (0.5, 0.999), weight decay 1e-5 (L2, as torch.optim.Adam), batch 64, no
//   custom initialisation (PyTorch's defaults: kaiming_uniform(a = sqrt(5)), BN scale 1, shift 0).
//
// The engine computes the BCE from the final conv's logits (bceWithLogits), which equals the
// reference's BCELoss on the sigmoid but does not clamp log() at -100 when the sigmoid saturates.
// The data are in [-1, 1]; the trainer maps them to the reference's [0, 1] before the networks and
// maps the generators' outputs back, so the losses (and the rate balance) are the reference's.
// Data: packed unpaired batches [N, ncA + ncB, H, W] (data/pairs.ts packUnpaired).

import { Generator, noGrad, tidy, type Tensor, ops, nn, optim } from '../engine/index.js';
import { defaultInit_ } from './lib/networks.js';
import { choice, defineModel, int, num, type ConfigOf } from './lib/model.js';
import { domainChannels, heldOutTranslationPairs, packedShape, TwoDomainTrainer } from './lib/image2image.js';
import type { HeldOutPairs, TranslationEval } from './lib/translation.js';
import { generateWith } from './lib/sample.js';
import { minimize } from './lib/step.js';
import type { GanTrainer, ModelConfig, ModelRecipe, StepStats, TrainSettings } from './registry.js';

/** The reference's --model_arch: discogan (both directions), recongan (A -> B -> A), gan (A -> B). */
export type DiscoArch = 'discogan' | 'recongan' | 'gan';

/** A DiscoGAN run's hyper-parameters (declared with the recipe below). */
export type DiscoGanConfig = ConfigOf<typeof params>;

// ---- networks -------------------------------------------------------------------------------------

/** The reference's Generator (extra_layers=False): four conv4/2 down, four convT4/2 up, sigmoid. */
export class DiscoGenerator extends nn.Module {
  main: nn.Sequential;

  constructor(opts: { inputNc?: number; outputNc?: number; ngf?: number } = {}) {
    super();
    const { inputNc = 3, outputNc = 3, ngf = 64 } = opts;
    const down = (cin: number, cout: number) => new nn.Conv2d(cin, cout, 4, { stride: 2, padding: 1, bias: false });
    const up = (cin: number, cout: number) => new nn.ConvTranspose2d(cin, cout, 4, { stride: 2, padding: 1, bias: false });
    const lrelu = () => new nn.LeakyReLU(0.2);
    this.main = new nn.Sequential(
      down(inputNc, ngf),
      lrelu(),
      down(ngf, ngf * 2),
      new nn.BatchNorm2d(ngf * 2),
      lrelu(),
      down(ngf * 2, ngf * 4),
      new nn.BatchNorm2d(ngf * 4),
      lrelu(),
      down(ngf * 4, ngf * 8),
      new nn.BatchNorm2d(ngf * 8),
      lrelu(),
      up(ngf * 8, ngf * 4),
      new nn.BatchNorm2d(ngf * 4),
      new nn.ReLU(),
      up(ngf * 4, ngf * 2),
      new nn.BatchNorm2d(ngf * 2),
      new nn.ReLU(),
      up(ngf * 2, ngf),
      new nn.BatchNorm2d(ngf),
      new nn.ReLU(),
      up(ngf, outputNc),
      new nn.Sigmoid(),
    );
  }

  /** [N, inputNc, H, W] in [0, 1] (H, W multiples of 16) -> [N, outputNc, H, W] in (0, 1). */
  override forward(x: Tensor): Tensor {
    return this.main.call(x);
  }
}

/** What the discriminator computes: the final conv's logits, and the three feature maps. */
export interface DiscoDiscriminatorOutput {
  logits: Tensor;
  features: [Tensor, Tensor, Tensor];
}

/** The reference's Discriminator: conv1..conv5 with bn2..bn4; sigmoid output plus features. */
export class DiscoDiscriminator extends nn.Module {
  conv1: nn.Conv2d;
  relu1: nn.LeakyReLU;
  conv2: nn.Conv2d;
  bn2: nn.BatchNorm2d;
  relu2: nn.LeakyReLU;
  conv3: nn.Conv2d;
  bn3: nn.BatchNorm2d;
  relu3: nn.LeakyReLU;
  conv4: nn.Conv2d;
  bn4: nn.BatchNorm2d;
  relu4: nn.LeakyReLU;
  conv5: nn.Conv2d;

  constructor(opts: { inputNc?: number; ndf?: number } = {}) {
    super();
    const { inputNc = 3, ndf = 64 } = opts;
    const c4 = (cin: number, cout: number) => new nn.Conv2d(cin, cout, 4, { stride: 2, padding: 1, bias: false });
    this.conv1 = c4(inputNc, ndf);
    this.relu1 = new nn.LeakyReLU(0.2);
    this.conv2 = c4(ndf, ndf * 2);
    this.bn2 = new nn.BatchNorm2d(ndf * 2);
    this.relu2 = new nn.LeakyReLU(0.2);
    this.conv3 = c4(ndf * 2, ndf * 4);
    this.bn3 = new nn.BatchNorm2d(ndf * 4);
    this.relu3 = new nn.LeakyReLU(0.2);
    this.conv4 = c4(ndf * 4, ndf * 8);
    this.bn4 = new nn.BatchNorm2d(ndf * 8);
    this.relu4 = new nn.LeakyReLU(0.2);
    this.conv5 = new nn.Conv2d(ndf * 8, 1, 4, { stride: 1, padding: 0, bias: false });
  }

  /** The logits (before the sigmoid) and [relu2, relu3, relu4]. */
  run(x: Tensor): DiscoDiscriminatorOutput {
    const relu1 = this.relu1.call(this.conv1.call(x));
    const relu2 = this.relu2.call(this.bn2.call(this.conv2.call(relu1)));
    const relu3 = this.relu3.call(this.bn3.call(this.conv3.call(relu2)));
    const relu4 = this.relu4.call(this.bn4.call(this.conv4.call(relu3)));
    return { logits: this.conv5.call(relu4), features: [relu2, relu3, relu4] };
  }

  /** As the reference: (sigmoid(conv5), [relu2, relu3, relu4]); [N, 1, H/16 - 3, W/16 - 3]. */
  override forward(x: Tensor): [Tensor, Tensor[]] {
    const { logits, features } = this.run(x);
    return [logits.sigmoid(), features];
  }
}

// ---- losses ---------------------------------------------------------------------------------------

/** The reference's get_gan_loss on logits: (0.5 BCE(real, 1) + 0.5 BCE(fake, 0), BCE(fake, 1)). */
export function discoGanLoss(logitsReal: Tensor, logitsFake: Tensor): { dis: Tensor; gen: Tensor } {
  const dis = ops.bceWithLogits(logitsReal, 1).mul(0.5).add(ops.bceWithLogits(logitsFake, 0).mul(0.5));
  return { dis, gen: ops.bceWithLogits(logitsFake, 1) };
}

/** The reference's get_fm_loss: sum over layers of the mean squared difference of the batch-mean features. */
export function featureMatchingLoss(real: readonly Tensor[], fake: readonly Tensor[]): Tensor {
  if (!real.length || real.length !== fake.length)
    throw new Error(`featureMatchingLoss: expected equal, non-empty lists of feature maps, got ${real.length} and ${fake.length}`);
  let total: Tensor | null = null;
  for (let i = 0; i < real.length; i++) {
    const l2 = real[i].mean(0).sub(fake[i].mean(0)).square().mean();
    total = total ? total.add(l2) : l2;
  }
  return total!;
}

// ---- the training step ------------------------------------------------------------------------------

/** [-1, 1] (the datasets) -> [0, 1] (the reference's images) and back. */
const to01 = (x: Tensor) => ops.affine(x, 0.5, 0.5);
const toSigned = (x: Tensor) => ops.affine(x, 2, -1);

export class DiscoGanTrainer extends TwoDomainTrainer implements GanTrainer {
  readonly nets: {
    generator_A: DiscoGenerator;
    generator_B: DiscoGenerator;
    discriminator_A: DiscoDiscriminator;
    discriminator_B: DiscoDiscriminator;
  };
  readonly optimizers: { generator_A: optim.Adam; generator_B: optim.Adam; discriminator_A: optim.Adam; discriminator_B: optim.Adam };
  readonly rng: Generator;
  /** A -> B is generator_B in the reference's naming. */
  readonly sampler = 'generator_B';
  readonly cfg: DiscoGanConfig;

  constructor(
    readonly config: DiscoGanConfig,
    settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2'>,
    seed: number,
  ) {
    super(config);
    const cfg = config;
    this.cfg = config;
    this.rng = new Generator(seed);
    const { inputNc: ncA, outputNc: ncB, ngf, ndf } = cfg;
    this.nets = {
      generator_A: new DiscoGenerator({ inputNc: ncB, outputNc: ncA, ngf }),
      generator_B: new DiscoGenerator({ inputNc: ncA, outputNc: ncB, ngf }),
      discriminator_A: new DiscoDiscriminator({ inputNc: ncA, ndf }),
      discriminator_B: new DiscoDiscriminator({ inputNc: ncB, ndf }),
    };
    // No custom initialisation in the reference: PyTorch's defaults, drawn from the run's stream.
    for (const net of Object.values(this.nets)) defaultInit_(net, this.rng);
    const n = this.nets;
    const opts = { lr: settings.lr, betas: [settings.beta1, settings.beta2] as [number, number], weightDecay: cfg.weightDecay };
    this.optimizers = {
      generator_A: new optim.Adam(n.generator_A, opts),
      generator_B: new optim.Adam(n.generator_B, opts),
      discriminator_A: new optim.Adam(n.discriminator_A, opts),
      discriminator_B: new optim.Adam(n.discriminator_B, opts),
    };
  }

  /**
   * Iterations so far (the reference's `iters`): discriminator plus generator updates. The
   * generator count is read from generator_B, which every architecture trains.
   */
  get iteration(): number {
    return this.optimizers.discriminator_B.stepCount(0) + this.optimizers.generator_B.stepCount(0);
  }

  /** The weight of the reconstruction terms at the current iteration. */
  get rate(): number {
    return this.iteration < this.cfg.ganCurriculum ? this.cfg.startingRate : this.cfg.defaultRate;
  }

  /**
   * Replay: the step updates the discriminators or the generators (every update_interval-th
   * iteration the discriminators), the reconstruction rate is a constant of the step (the
   * curriculum's starting rate, then the default), and sample inputs may still be gathered.
   */
  readonly replay = {
    key: () => `updateD=${+(this.iteration % this.cfg.updateInterval === 0)} rate=${this.rate} gathering=${+this.samples.gathering}`,
  };

  step(batch: Tensor, withStats: boolean): StepStats | null {
    const { generator_A, generator_B, discriminator_A, discriminator_B } = this.nets;
    const arch = this.cfg.modelArch;
    const iter = this.iteration;
    const rate = this.rate;
    const updateD = iter % this.cfg.updateInterval === 0;
    return tidy(() => {
      const { realA, realB } = this.split(batch);
      this.samples.offer(realA);
      const A = to01(realA);
      const B = to01(realB);
      // Everything the reference computes each iteration (so batch-norm statistics move alike).
      const AB = generator_B.call(A);
      const BA = generator_A.call(B);
      const ABA = generator_A.call(AB);
      const BAB = generator_B.call(BA);
      const reconA = ops.mse(ABA, A);
      const reconB = ops.mse(BAB, B);
      const aReal = discriminator_A.run(A);
      const aFake = discriminator_A.run(BA);
      const ganA = discoGanLoss(aReal.logits, aFake.logits);
      const fmA = featureMatchingLoss(aReal.features, aFake.features);
      const bReal = discriminator_B.run(B);
      const bFake = discriminator_B.run(AB);
      const ganB = discoGanLoss(bReal.logits, bFake.logits);
      const fmB = featureMatchingLoss(bReal.features, bFake.features);

      const genATotal = ganB.gen
        .mul(0.1)
        .add(fmB.mul(0.9))
        .mul(1 - rate)
        .add(reconA.mul(rate));
      const genBTotal = ganA.gen
        .mul(0.1)
        .add(fmA.mul(0.9))
        .mul(1 - rate)
        .add(reconB.mul(rate));
      let genLoss: Tensor;
      let disLoss: Tensor;
      if (arch === 'discogan') {
        genLoss = genATotal.add(genBTotal);
        disLoss = ganA.dis.add(ganB.dis);
      } else if (arch === 'recongan') {
        genLoss = genATotal;
        disLoss = ganB.dis;
      } else {
        genLoss = ganB.gen.mul(0.1).add(fmB.mul(0.9));
        disLoss = ganB.dis;
      }
      // One Adam over both discriminators and one over both generators in the reference: one
      // gradient each, every network it reaches stepped (the other side held constant).
      const o = this.optimizers;
      const twoWay = arch === 'discogan';
      if (updateD) {
        minimize(disLoss, twoWay ? [o.discriminator_A, o.discriminator_B] : o.discriminator_B, { frozen: [generator_A, generator_B] });
      } else {
        // generator_A gets a gradient only where its output reaches the loss (not in 'gan').
        minimize(genLoss, arch === 'gan' ? o.generator_B : [o.generator_A, o.generator_B], { frozen: [discriminator_A, discriminator_B] });
      }

      if (!withStats) return null;
      return noGrad(() => ({
        loss_dis_A: ganA.dis.detach(),
        loss_dis_B: ganB.dis.detach(),
        loss_gen_A: ganA.gen.detach(),
        loss_gen_B: ganB.gen.detach(),
        loss_fm_A: fmA.detach(),
        loss_fm_B: fmB.detach(),
        loss_recon_A: reconA.detach(),
        loss_recon_B: reconB.detach(),
        D_x: bReal.logits.sigmoid().mean(),
        D_G_x: bFake.logits.sigmoid().mean(),
      }));
    });
  }

  /**
   * A -> B (generator_B; `direction: 'BtoA'` uses generator_A) for images in [-1, 1], returned in
   * [-1, 1], without gradients. Batch statistics by default, running statistics with batchStats false.
   */
  generate(x: Tensor, opts: { direction?: 'AtoB' | 'BtoA'; batchStats?: boolean } = {}): Tensor {
    const net = opts.direction === 'BtoA' ? this.nets.generator_A : this.nets.generator_B;
    return noGrad(() =>
      tidy(() => {
        const y = generateWith(net, to01(x), opts.batchStats ?? true);
        return toSigned(y);
      }),
    );
  }
}

// ---- the declaration --------------------------------------------------------------------------------

const params = {
  imageSize: int(64, 'image side: 64 in every experiment of the paper (multiples of 16, at least 64)'),
  ngf: int(64, 'generator width', { min: 1, max: 1024 }),
  ndf: int(64, 'discriminator width', { min: 1, max: 1024 }),
  modelArch: choice(
    ['discogan', 'recongan', 'gan'] as const satisfies readonly DiscoArch[],
    'discogan',
    "the reference's --model_arch: discogan, recongan (GAN + reconstruction one way) or gan",
  ),
  ganCurriculum: int(10000, 'iterations at the starting rate before the default rate', { min: 0 }),
  startingRate: num(0.01, 'weight of the reconstruction loss during the curriculum (GAN + feature matching get 1 - rate)', {
    min: 0,
    max: 1,
    metavar: 'X',
  }),
  defaultRate: num(0.5, 'weight of the reconstruction loss after the curriculum', { min: 0, max: 1, metavar: 'X' }),
  updateInterval: int(3, 'a discriminator update every N iterations, generator updates in between'),
  weightDecay: num(1e-5, 'Adam weight decay (L2) of all four networks', { min: 0, metavar: 'X' }),
  ...domainChannels,
};

export const discoganRecipe = defineModel(
  {
    name: 'discogan',
    description: 'DiscoGAN (Kim et al. 2017): encoder-decoder Gs, conv Ds with feature matching, GAN + reconstruction; unpaired A <-> B',
    paper: {
      label: 'DiscoGAN',
      title: 'Learning to Discover Cross-Domain Relations with Generative Adversarial Networks',
      authors: 'Taeksoo Kim, Moonsu Cha, Hyunsoo Kim, Jung Kwon Lee, Jiwon Kim',
      year: 2017,
      arxiv: '1703.05192',
      code: 'github.com/SKTBrain/DiscoGAN',
      summary: 'Discovers relations between two unpaired domains with coupled generators and a reconstruction loss each way.',
    },
    params,
    train: {
      steps: 20000,
      batch: 64,
      lr: 2e-4,
      beta1: 0.5,
      beta2: 0.999,
      sampleEvery: 1000,
      ckptEvery: 5000,
      logEvery: 50,
      dataset: 'emoji-unpaired',
    },
    // Minutes on a software adapter: 8-wide networks at the paper's 64 px (the discriminator's smallest
    // size), batch 4, lr 2e-3, and the reconstruction weight at 0.9 from the first iteration (GAN +
    // feature matching get 0.1): with the paper's schedule (rate 0.01, then 0.5) the GAN terms
    // dominate a run this short and the outputs collapse (docs/image2image.md).
    quick: {
      steps: 150,
      batch: 4,
      lr: 2e-3,
      ngf: 8,
      ndf: 8,
      ganCurriculum: 0,
      defaultRate: 0.9,
      sampleEvery: 50,
      ckptEvery: 50,
      logEvery: 10,
    },
    paperPreset: {
      values: { steps: 120000 },
      sources: {
        steps: 'reference epoch_size 5000 epochs of min(A, B) // 64 batches: 5000 x (1582 // 64)',
        batch: 'reference batch_size 64',
        lr: 'reference: Adam 0.0002, betas (0.5, 0.999)',
        imageSize: 'reference image_size 64 ("64 for every experiment in the paper")',
        ngf: "reference model.py: 64 filters in the generator's first conv",
        ndf: "reference model.py: 64 filters in the discriminator's first conv",
        ganCurriculum: 'reference gan_curriculum 10000',
        startingRate: 'reference starting_rate 0.01',
        defaultRate: 'reference default_rate 0.5',
        updateInterval: 'reference update_interval 3',
        weightDecay: 'reference: Adam weight_decay 0.00001',
      },
      note: "The paper's sets (CelebA attributes, car / face angles, edges2shoes / handbags, facescrub) are not here: --paper trains on the unpaired Noto / Twemoji emoji halves at 64 px.",
    },
    check(c) {
      const errs: string[] = [];
      if (c.imageSize < 64 || c.imageSize % 16 !== 0 || c.imageSize > 1024) {
        errs.push(
          `--image-size must be a multiple of 16 in [64, 1024] (the discriminator's last 4x4 conv needs a 4x4 map after four halvings), got ${c.imageSize}`,
        );
      }
      if (c.updateInterval < 2)
        errs.push(`--update-interval must be an integer >= 2 (1 would never update the generators), got ${c.updateInterval}`);
      return errs;
    },
    imageShape: packedShape,
    create: (c, settings, seed) => new DiscoGanTrainer(c, settings, seed),
  },
  {
    // `--model-arch gan` never trains its B -> A generator.
    bothWays: (config: ModelConfig): boolean => discoganRecipe.parse(config).modelArch !== 'gan',
    heldOutPairs: (config: ModelConfig, { limit, dataset }: { limit?: number; dataset?: string }): Promise<HeldOutPairs> =>
      heldOutTranslationPairs('discogan', discoganRecipe.parse(config), { dataset: dataset ?? discoganRecipe.train.dataset, limit }),
    translate: (trainer: GanTrainer, inputs: Tensor) => (trainer as DiscoGanTrainer).generate(inputs, { batchStats: false }),
    demo: {
      charts: [
        { title: 'Discriminator losses', keys: /^loss_dis_/ },
        { title: 'Generator losses', keys: /^loss_(gen|fm)_/ },
        { title: 'Reconstruction losses', keys: /^loss_recon_/ },
      ],
    },
  } satisfies TranslationEval & Partial<ModelRecipe>,
);
