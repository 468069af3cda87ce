// DCGAN: Radford, Metz & Chintala, "Unsupervised Representation Learning with Deep Convolutional
// Generative Adversarial Networks" (ICLR 2016), as in PyTorch's examples/dcgan/main.py.
//
//   G: z [N, nz, 1, 1] -> convT 4/1/0 -> 4x4 -> (convT 4/2/1, BN, ReLU) x k -> convT 4/2/1 -> tanh
//   D: x [N, nc, s, s] -> conv 4/2/1, LeakyReLU(0.2) -> (conv 4/2/1, BN, LeakyReLU(0.2)) x k
//      -> conv 4/1/0 -> one logit per image
//
// The number of stride-2 layers follows from the image size (64 -> 4 up/down steps as in the paper,
// 32 -> 3 for MNIST padded to 32x32); channel widths double per step away from the image, so 64x64
// gives exactly the example's ngf*8 ... ngf and ndf ... ndf*8. Module names match the example's
// state_dict (`main.0.weight`, `main.1.running_mean`, ...) so its checkpoints load as they are.
// One deliberate difference: the example ends D with nn.Sigmoid and trains with BCELoss; here D
// returns the logit and the loss is BCE-with-logits (the same function, numerically stable). The
// Sigmoid has no parameters, so the state_dicts are identical.
//
// Training (DcganTrainer.step) is the example's loop: update D on a real batch (label 1) and on
// G(z).detach() (label 0), then update G with label 1 on D(G(z)) (the non-saturating loss), Adam
// with betas (0.5, 0.999) (lr 2e-4 in the paper; see the recipe's defaults for the CLI's choice).
// Everything a step allocates is freed inside it; the only values kept are the scalar statistics it
// returns on request, so the host reads the GPU only when it logs.

import { Generator, type Tensor, noGrad, tidy, ops, nn, optim, init } from '../engine/index.js';
import type { GanTrainer, StepStats, TrainSettings } from './registry.js';
import { defineModel, int, type ConfigOf } from './lib/model.js';
import { generateWith } from './lib/sample.js';
import { minimize } from './lib/step.js';

/** DCGAN's hyper-parameters: the flags of `gan train dcgan`, their defaults and bounds. */
const params = {
  imageSize: int(32, 'image side, a power of two (32: MNIST padded; 64: the paper)'),
  nz: int(100, 'latent vector length', { min: 1, max: 4096 }),
  ngf: int(16, 'generator width (channels of its last hidden layer; the paper: 64)', { min: 1, max: 4096 }),
  ndf: int(16, 'discriminator width (channels of its first layer; the paper: 64)', { min: 1, max: 4096 }),
  nc: int(1, 'image channels (1 for MNIST, 3 for RGB), from the training data', { fromData: true }),
};

/** A DCGAN's shape: image side, channels, latent length and the two widths. */
export type DcganConfig = ConfigOf<typeof params>;

/** Stride-2 layers between the 4x4 core and the image: log2(size) - 2 (64 -> 4, 32 -> 3). */
export function dcganDepth(imageSize: number): number {
  const k = Math.log2(imageSize) - 2;
  if (!Number.isInteger(k) || k < 1 || k > 6) {
    throw new Error(`DCGAN: image size must be a power of two from 8 to 256, got ${imageSize}`);
  }
  return k;
}

const conv4 = { bias: false } as const;

export class DcganGenerator extends nn.Module {
  main: nn.Sequential;

  constructor(readonly cfg: DcganConfig) {
    super();
    const { nz, ngf, nc } = cfg;
    const k = dcganDepth(cfg.imageSize);
    let ch = ngf * 2 ** (k - 1); // ngf*8 at 64x64
    const layers: nn.Module[] = [
      // z -> ch x 4 x 4
      new nn.ConvTranspose2d(nz, ch, 4, { ...conv4, stride: 1, padding: 0 }),
      new nn.BatchNorm2d(ch),
      new nn.ReLU(),
    ];
    for (let i = 1; i < k; i++) {
      // ch x s x s -> ch/2 x 2s x 2s
      layers.push(new nn.ConvTranspose2d(ch, ch / 2, 4, { ...conv4, stride: 2, padding: 1 }), new nn.BatchNorm2d(ch / 2), new nn.ReLU());
      ch /= 2;
    }
    // ngf x s/2 x s/2 -> nc x s x s, in [-1, 1]
    layers.push(new nn.ConvTranspose2d(ch, nc, 4, { ...conv4, stride: 2, padding: 1 }), new nn.Tanh());
    this.main = new nn.Sequential(...layers);
  }

  override forward(z: Tensor): Tensor {
    return this.main.call(z);
  }
}

export class DcganDiscriminator extends nn.Module {
  main: nn.Sequential;

  constructor(readonly cfg: DcganConfig) {
    super();
    const { nc, ndf } = cfg;
    const k = dcganDepth(cfg.imageSize);
    let ch = ndf;
    const layers: nn.Module[] = [
      // nc x s x s -> ndf x s/2 x s/2 (no batch norm on the first layer, as in the paper)
      new nn.Conv2d(nc, ch, 4, { ...conv4, stride: 2, padding: 1 }),
      new nn.LeakyReLU(0.2),
    ];
    for (let i = 1; i < k; i++) {
      layers.push(new nn.Conv2d(ch, ch * 2, 4, { ...conv4, stride: 2, padding: 1 }), new nn.BatchNorm2d(ch * 2), new nn.LeakyReLU(0.2));
      ch *= 2;
    }
    // ndf*8 x 4 x 4 -> 1 x 1 x 1: the logit (the example's Sigmoid lives in the loss)
    layers.push(new nn.Conv2d(ch, 1, 4, { ...conv4, stride: 1, padding: 0 }));
    this.main = new nn.Sequential(...layers);
  }

  /** One logit per image: [N]. */
  override forward(x: Tensor): Tensor {
    return this.main.call(x).reshape([-1]);
  }
}

/** Owns G, D, their optimizers and the noise generator; one call of step() is one training iteration. */
export class DcganTrainer implements GanTrainer {
  readonly nets: { netG: DcganGenerator; netD: DcganDiscriminator };
  readonly optimizers: { netG: optim.Adam; netD: optim.Adam };
  readonly rng: Generator;
  readonly sampler = 'netG';
  readonly cfg: DcganConfig;

  constructor(
    readonly config: DcganConfig,
    settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2'>,
    seed: number,
  ) {
    this.cfg = config;
    this.rng = new Generator(seed);
    const netG = new DcganGenerator(this.cfg);
    const netD = new DcganDiscriminator(this.cfg);
    // weights_init: conv N(0, 0.02), BN weight N(1, 0.02), BN bias 0; drawn from the run's stream.
    init.dcganInit_(netG.modules(), this.rng);
    init.dcganInit_(netD.modules(), this.rng);
    this.nets = { netG, netD };
    const betas: [number, number] = [settings.beta1, settings.beta2];
    this.optimizers = {
      netG: new optim.Adam(netG, { lr: settings.lr, betas }),
      netD: new optim.Adam(netD, { lr: settings.lr, betas }),
    };
  }

  /** Replay: every step takes the same path (noise, D, G are all on the GPU). */
  readonly replay = { key: () => '' };

  noise(n: number, generator: Generator): Tensor {
    return ops.randn([n, this.cfg.nz, 1, 1], { generator });
  }

  step(real: Tensor, withStats: boolean): StepStats | null {
    const { netG, netD } = this.nets;
    return tidy(() => {
      const z = this.noise(real.shape[0], this.rng);
      const fake = netG.call(z);

      // (1) Update D: maximise log D(x) + log(1 - D(G(z))).
      const outReal = netD.call(real);
      const outFake = netD.call(fake.detach());
      const lossD = ops.bceWithLogits(outReal, 1).add(ops.bceWithLogits(outFake, 0));
      minimize(lossD, this.optimizers.netD);

      // (2) Update G: maximise log D(G(z)). Only G's gradients are computed (D's weights are
      // constants here, as with requires_grad=False in PyTorch), which skips D's weight gradients.
      const outG = netD.call(fake);
      const lossG = ops.bceWithLogits(outG, 1);
      minimize(lossG, this.optimizers.netG, { frozen: [netD] });

      if (!withStats) return null;
      return noGrad(() => ({
        lossD: lossD.detach(),
        lossG: lossG.detach(),
        D_x: outReal.sigmoid().mean(),
        D_G_z1: outFake.sigmoid().mean(),
        D_G_z2: outG.sigmoid().mean(),
      }));
    });
  }

  generate(z: Tensor, opts: { batchStats?: boolean } = {}): Tensor {
    return generateWith(this.nets.netG, z, opts.batchStats ?? true);
  }
}

export const dcganRecipe = defineModel(
  {
    name: 'dcgan',
    description: 'DCGAN (Radford et al. 2016): conv G and D with batch norm; the PyTorch example',
    paper: {
      label: 'DCGAN',
      title: 'Unsupervised Representation Learning with Deep Convolutional Generative Adversarial Networks',
      authors: 'Alec Radford, Luke Metz, Soumith Chintala',
      year: 2015,
      arxiv: '1511.06434',
      code: 'github.com/pytorch/examples/tree/main/dcgan',
      summary: 'All-convolutional generator and discriminator with batch norm: the stable baseline every later GAN builds on.',
    },
    // The paper's setting is the --paper preset below (64 px, 1024 channels at 4x4 as its Fig. 1 and
    // ngf = ndf = 128 as the authors' code, batch 128, lr 2e-4; the PyTorch example has ngf = ndf = 64
    // and batch 64). The defaults are scaled to finish in minutes on a software adapter:
    // 16-channel nets on 32x32 MNIST. Adam moves each weight by about lr per step, and a narrow G
    // needs its last-layer weights to grow several times larger than a wide one's before it paints
    // the black background, so at 2e-4 these small nets would need ~4x the steps: 5e-4 (1e-3 for the
    // even smaller --quick nets) draws recognisable digits within the default run.
    params,
    train: {
      steps: 300,
      batch: 16,
      lr: 5e-4,
      beta1: 0.5,
      beta2: 0.999,
      sampleEvery: 50,
      ckptEvery: 100,
      logEvery: 10,
      dataset: 'mnist',
    },
    quick: { steps: 150, batch: 8, ngf: 16, ndf: 8, lr: 1e-3, sampleEvery: 50, ckptEvery: 50, logEvery: 10 },
    paperPreset: {
      values: { steps: 11719, batch: 128, lr: 2e-4, imageSize: 64, ngf: 128, ndf: 128 },
      sources: {
        steps: "25 epochs (niter 25 in the authors' faces/train_uncond_dcgan.py): 25 x 60000 / 128 on MNIST",
        batch: 'paper Sec. 4: mini-batch SGD with batch 128 (the PyTorch example: 64)',
        lr: 'paper Sec. 4: Adam 0.0002 (0.001 was too high)',
        beta1: 'paper Sec. 4: beta1 0.5 (0.9 oscillated)',
        imageSize: 'paper Sec. 4 / Fig. 1: 64x64 (MNIST resized here)',
        nz: 'paper Fig. 1: 100-d uniform z (here normal)',
        ngf: "paper Fig. 1: 1024 channels at 4x4 = 8 ngf; the authors' code ngf 128 (the PyTorch example: 64)",
        ndf: "the authors' code ndf 128 (the PyTorch example: 64)",
      },
      note: "The paper trains on LSUN bedrooms, ImageNet-1k and a faces set, none of them here: --paper trains on MNIST resized to 64x64. The authors' code also uses L2 weight decay 1e-5, which this trainer does not have.",
    },
    check(c) {
      const errs: string[] = [];
      const k = Math.log2(c.imageSize) - 2;
      if (!Number.isInteger(k) || k < 1 || k > 6) errs.push(`--image-size must be a power of two from 8 to 256, got ${c.imageSize}`);
      if (c.nc !== 1 && c.nc !== 3)
        errs.push(`--dataset must give 1- or 3-channel images (DCGAN draws one image per sample), got ${c.nc} channels`);
      return errs;
    },
    adaptToData: (_c, data) => ({ nc: data.channels }),
    imageShape: (c) => ({ channels: c.nc, size: c.imageSize }),
    inferConfig: inferDcganConfig,
    create: (c, settings, seed) => new DcganTrainer(c, settings, seed),
  },
  {
    demo: {
      // The page's own defaults since it first shipped: a wider net and the paper's batch and rate.
      overrides: { config: { ngf: 32, ndf: 32 }, batch: 64, lr: 2e-4 },
      charts: [
        { title: 'BCE losses', keys: /^loss/ },
        {
          title: 'Discriminator outputs',
          keys: /^D_/,
          yRange: [0, 1],
          note: "Mean D(x) on real digits, and D(G(z)) on fakes before (D step) and after (G step) the discriminator's update. At the game's equilibrium both approach 0.5.",
        },
      ],
      blurb: 'The grid shows the same fixed latent codes as training goes on; the latent walk below interpolates between two codes.',
      page: 'dcgan',
    },
  },
);

/**
 * Reads a DCGAN config back from one network's state_dict shapes: the conv weights sit at
 * main.0, main.3, ..., main.3k in G and at main.0, main.2, main.5, ..., main.(3k-1) in D, where k is
 * the number of stride-2 layers (so imageSize = 4 * 2^k). Null when the keys follow neither pattern.
 */
export function inferDcganConfig(net: string, shapes: ReadonlyMap<string, readonly number[]>): Partial<DcganConfig> | null {
  const convs: [number, readonly number[]][] = [];
  for (const [key, shape] of shapes) {
    const m = /^main\.(\d+)\.weight$/.exec(key);
    if (m && shape.length === 4) convs.push([Number(m[1]), shape]);
  }
  convs.sort((a, b) => a[0] - b[0]);
  const k = convs.length - 1;
  if (k < 1) return null;
  const at = convs.map(([i]) => i);
  const first = convs[0][1];
  const last = convs[k][1];
  if (net === 'netG') {
    if (!at.every((i, j) => i === 3 * j)) return null;
    return { imageSize: 4 * 2 ** k, nz: first[0], ngf: last[0], nc: last[1] };
  }
  if (net === 'netD') {
    if (!at.every((i, j) => i === (j === 0 ? 0 : 3 * j - 1))) return null;
    return { imageSize: 4 * 2 ** k, ndf: first[0], nc: first[1] };
  }
  return null;
}
