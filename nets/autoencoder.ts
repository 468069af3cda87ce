// A convolutional autoencoder: the project's no-adversary baseline, after Hinton & Salakhutdinov,
// "Reducing the Dimensionality of Data with Neural Networks" (Science 2006), with DCGAN's layer
// shapes (arXiv:1511.06434) instead of their RBM-pretrained fully connected nets.
//
//   encoder  x [N, nc, s, s] -> DCGAN's D with a code instead of a logit -> code [N, code]
//   decoder  code -> DCGAN's G fed with the code -> image in [-1, 1]          (nets/lib/autoencoders.ts)
//
// Objective: the mean squared reconstruction error E |Dec(Enc(x)) - x|^2, minimised with Adam. The
// same networks are EBGAN's energy function (nets/ebgan.ts). The sample grids show reconstructions:
// rows of real images from the first training batch alternate with their reconstructions (without a
// probe batch, e.g. in `gan sample`, the decoder draws random codes).

import { Generator, type Tensor, noGrad, tidy, ops, optim, init } from '../engine/index.js';
import { ConvAutoencoder } from './lib/autoencoders.js';
import { imageSizeErrors } from './lib/checks.js';
import { choice, defineModel, int, type ConfigOf } from './lib/model.js';
import { generateWith } from './lib/sample.js';
import { minimize } from './lib/step.js';
import type { GanTrainer, StepStats, TrainSettings } from './registry.js';

// ---- training -------------------------------------------------------------------------------------

/** Trains ConvAutoencoder on reconstruction MSE; one step() is one Adam update. */
export class AutoencoderTrainer implements GanTrainer {
  readonly nets: { netAE: ConvAutoencoder };
  readonly optimizers: { netAE: optim.Adam };
  readonly rng: Generator;
  readonly sampler = 'netAE';
  readonly cfg: AutoencoderConfig;
  /** Real images kept from the first training batch, reconstructed in the sample grids. */
  private probe: Tensor | null = null;

  constructor(
    readonly config: AutoencoderConfig,
    settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2'>,
    seed: number,
  ) {
    this.cfg = config;
    this.rng = new Generator(seed);
    const netAE = new ConvAutoencoder(config);
    init.dcganInit_(netAE.modules(), this.rng);
    this.nets = { netAE };
    this.optimizers = { netAE: new optim.Adam(netAE, { lr: settings.lr, betas: [settings.beta1, settings.beta2] }) };
  }

  /** Random codes N(0, I) [n, code], what the decoder is fed when there is no probe batch. */
  noise(n: number, generator: Generator): Tensor {
    return ops.randn([n, this.cfg.code], { generator });
  }

  /** Replay: the first step keeps a probe batch; after it every step takes the same path. */
  readonly replay = { key: () => `probe=${+!!this.probe}` };

  step(real: Tensor, withStats: boolean): StepStats | null {
    // A copy: the loop refills `real` in place every step.
    if (!this.probe) this.probe = noGrad(() => real.narrow(0, 0, Math.min(32, real.shape[0]))).keep();
    const net = this.nets.netAE;
    return tidy(() => {
      const loss = ops.mse(net.call(real), real);
      minimize(loss, this.optimizers.netAE);
      return withStats ? { recon_mse: loss.detach() } : null;
    });
  }

  /**
   * With a probe batch and n a multiple of 16 (at most twice the probe): rows of 8 real images
   * alternating with their reconstructions. Otherwise the decoder's images of the codes z.
   */
  generate(z: Tensor, opts: { batchStats?: boolean } = {}): Tensor {
    const net = this.nets.netAE;
    const n = z.shape[0];
    const batchStats = opts.batchStats ?? true;
    if (!this.probe || n % 16 !== 0 || n / 2 > this.probe.shape[0]) return generateWith(net.decoder, z, batchStats);
    const probe = this.probe;
    return tidy(() => {
      const shown = probe.narrow(0, 0, n / 2);
      const recon = generateWith(net, shown, batchStats);
      const rows = n / 16;
      const pair = noGrad(() => ops.concat([shown.reshape([rows, 1, -1]), recon.reshape([rows, 1, -1])], 1));
      return pair.reshape([n, ...probe.shape.slice(1)]);
    });
  }
}

// ---- the declaration ------------------------------------------------------------------------------

const params = {
  imageSize: int(32, 'image side, a power of two (32: MNIST padded)'),
  nf: int(32, 'width: channels of the first encoder / last decoder layer', { min: 1, max: 4096 }),
  code: int(32, 'length of the code vector', { min: 1, max: 4096 }),
  norm: choice(['batch', 'none'], 'batch', 'normalisation inside encoder and decoder'),
  nc: int(1, 'image channels: 1 (single-channel data sets such as MNIST; not a flag)', { fromData: true }),
};

export type AutoencoderConfig = ConfigOf<typeof params>;

export const autoencoderRecipe = defineModel(
  {
    name: 'autoencoder',
    description: 'a convolutional autoencoder (DCGAN-shaped encoder and decoder) trained on reconstruction MSE',
    paper: {
      label: 'Autoencoder',
      title: 'Reducing the Dimensionality of Data with Neural Networks',
      authors: 'Geoffrey E. Hinton, Ruslan R. Salakhutdinov',
      year: 2006,
      venue: 'Science 313 (5786)',
      url: 'https://doi.org/10.1126/science.1127647',
      summary:
        'An encoder and decoder trained to reconstruct their input through a small code: the baseline that EBGAN and BEGAN turn into discriminators.',
    },
    params,
    train: { steps: 1000, batch: 64, lr: 1e-3, beta1: 0.9, beta2: 0.999, sampleEvery: 100, ckptEvery: 250, logEvery: 10, dataset: 'mnist' },
    quick: { steps: 150, batch: 32, nf: 8, code: 16, sampleEvery: 50, ckptEvery: 50, logEvery: 10 },
    paperPreset: {
      values: {},
      sources: {},
      note: "No paper setting to follow: this convolutional autoencoder is the project's own baseline (DCGAN-shaped layers, not the RBM-pretrained fully connected nets of Hinton & Salakhutdinov 2006), so --paper is the full recipe.",
    },
    check: (c) => imageSizeErrors(c.imageSize),
    imageShape: (c) => ({ channels: c.nc, size: c.imageSize }),
    create: (c, settings, seed) => new AutoencoderTrainer(c, settings, seed),
  },
  {
    // Not a paper's reproduction: the line names the idea and where the layer shapes come from.
    reference: 'Hinton & Salakhutdinov 2006 (deep autoencoders); DCGAN layer shapes from arXiv:1511.06434',
    demo: {
      charts: [{ title: 'Reconstruction MSE', keys: /mse/i, logY: true }],
      gridCols: 8,
      blurb:
        'No adversary: an encoder and decoder trained on reconstruction. Grid rows alternate 8 real digits and their reconstructions; the walk interpolates in code space.',
    },
  },
);
