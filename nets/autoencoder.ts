// Convolutional autoencoders: the plain one `gan train autoencoder` fits to MNIST, and the
// discriminators of the energy-based GANs (EBGAN uses either one below; BEGAN has its own
// architecture from its paper in began.ts).
//
//   ConvEncoder      x [N, nc, s, s] -> conv 4/2/1, LeakyReLU(0.2) -> (conv 4/2/1, norm, LeakyReLU(0.2)) x k
//                    -> conv 4/1/0 -> code [N, code]           (DCGAN's D with a code instead of a logit)
//   ConvDecoder      code -> convT 4/1/0 (4x4), norm, ReLU -> (convT 4/2/1, norm, ReLU) x k -> convT 4/2/1
//                    -> tanh, or linear with out: 'linear'     (DCGAN's G fed with the code)
//   ConvAutoencoder  encoder + decoder; reconstruct(x) gives the reconstruction and the code
//   UnetAutoencoder  the same stride-2 levels with the encoder's feature maps concatenated into the
//                    decoder at each resolution (a small U-Net, Ronneberger et al. 2015); its code is
//                    the bottleneck map. With skips it reconstructs easily, which is what EBGAN's
//                    --d-arch unet option is for: a discriminator whose energy is low almost
//                    everywhere unless the margin term pushes fakes up.
//
// The widths double per stride-2 level away from the image (nf, 2nf, 4nf, ...) down to a 4x4 map,
// so a 32x32 input has k = 2 middle levels, as in nets/dcgan.ts. `norm: 'none'` drops the batch
// norms and gives the convolutions biases instead.
//
// AutoencoderTrainer trains ConvAutoencoder with the mean squared reconstruction error and Adam. Its
// sample grids show reconstructions: rows of real images from the first training batch alternate
// with their reconstructions (without a probe batch, e.g. in `gan sample`, it decodes random codes).

import { Module, Sequential, ModuleList, Conv2d, ConvTranspose2d, BatchNorm2d, LeakyReLU, ReLU, Tanh, Identity } from '../engine/nn.js';
import { Adam } from '../engine/optim.js';
import { dcganInit_ } from '../engine/init.js';
import { Tensor, tidy } from '../engine/tensor.js';
import { noGrad } from '../engine/tape.js';
import { concat, mse, narrow, randn, reshape, Generator } from '../engine/ops/index.js';
import { dcganDepth } from './dcgan.js';
import { generateWith } from './lib/sample.js';
import { stepOn } from './lib/step.js';
import type { GanTrainer, ModelConfig, ModelRecipe, StepStats, TrainSettings } from './registry.js';

export type AeNorm = 'batch' | 'none';

export interface ConvAutoencoderConfig {
  /** Image side, a power of two from 8 to 256. */
  imageSize: number;
  nc: number;
  /** Width: channels of the first encoder layer (and of the last decoder layer). */
  nf: number;
  /** Length of the code vector. */
  code: number;
  norm: AeNorm;
  /** The decoder's last activation: tanh (images in [-1, 1], the default) or none (linear). */
  out?: 'tanh' | 'linear';
}

/** A module that reconstructs its input and exposes the code it went through (an EBGAN energy function). */
export interface EnergyAutoencoder extends Module {
  reconstruct(x: Tensor): { recon: Tensor; code: Tensor };
}

const normLayer = (norm: AeNorm, ch: number): Module => (norm === 'batch' ? new BatchNorm2d(ch) : new Identity());

/** DCGAN-shaped encoder: image -> code vector [N, code]. */
export class ConvEncoder extends Module {
  main: Sequential;

  constructor(readonly cfg: ConvAutoencoderConfig) {
    super();
    const { nc, nf, code, norm } = cfg;
    const k = dcganDepth(cfg.imageSize);
    const bias = norm === 'none';
    let ch = nf;
    const layers: Module[] = [new Conv2d(nc, ch, 4, { stride: 2, padding: 1, bias }), new LeakyReLU(0.2)];
    for (let i = 1; i < k; i++) {
      layers.push(new Conv2d(ch, ch * 2, 4, { stride: 2, padding: 1, bias }), normLayer(norm, ch * 2), new LeakyReLU(0.2));
      ch *= 2;
    }
    // 4x4 -> 1x1: the code (linear, no activation)
    layers.push(new Conv2d(ch, code, 4, { stride: 1, padding: 0 }));
    this.main = new Sequential(...layers);
  }

  override forward(x: Tensor): Tensor {
    return reshape(this.main.call(x), [x.shape[0], this.cfg.code]);
  }
}

/** DCGAN-shaped decoder: code vector [N, code] -> image in [-1, 1]. */
export class ConvDecoder extends Module {
  main: Sequential;

  constructor(readonly cfg: ConvAutoencoderConfig) {
    super();
    const { nc, nf, code, norm } = cfg;
    const k = dcganDepth(cfg.imageSize);
    const bias = norm === 'none';
    let ch = nf * 2 ** (k - 1);
    const layers: Module[] = [new ConvTranspose2d(code, ch, 4, { stride: 1, padding: 0, bias }), normLayer(norm, ch), new ReLU()];
    for (let i = 1; i < k; i++) {
      layers.push(new ConvTranspose2d(ch, ch / 2, 4, { stride: 2, padding: 1, bias }), normLayer(norm, ch / 2), new ReLU());
      ch /= 2;
    }
    layers.push(new ConvTranspose2d(ch, nc, 4, { stride: 2, padding: 1 }), ...(cfg.out === 'linear' ? [] : [new Tanh()]));
    this.main = new Sequential(...layers);
  }

  override forward(code: Tensor): Tensor {
    return this.main.call(reshape(code, [code.shape[0], this.cfg.code, 1, 1]));
  }
}

export class ConvAutoencoder extends Module implements EnergyAutoencoder {
  encoder: ConvEncoder;
  decoder: ConvDecoder;

  constructor(readonly cfg: ConvAutoencoderConfig) {
    super();
    this.encoder = new ConvEncoder(cfg);
    this.decoder = new ConvDecoder(cfg);
  }

  reconstruct(x: Tensor): { recon: Tensor; code: Tensor } {
    const code = this.encoder.call(x);
    return { recon: this.decoder.call(code), code };
  }

  /** The reconstruction. */
  override forward(x: Tensor): Tensor {
    return this.reconstruct(x).recon;
  }
}

/**
 * A small U-Net autoencoder: down_i = conv 4/2/1 (+ norm after the first) + LeakyReLU(0.2) down to
 * 4x4; up_i = convT 4/2/1 + norm + ReLU on [previous, down_i's output] (the skip), the last one to
 * nc channels + tanh. The code is the 4x4 bottleneck, flattened.
 */
export class UnetAutoencoder extends Module implements EnergyAutoencoder {
  down: ModuleList;
  up: ModuleList;

  constructor(readonly cfg: Omit<ConvAutoencoderConfig, 'code'>) {
    super();
    const { nc, nf, norm } = cfg;
    const k = dcganDepth(cfg.imageSize);
    const bias = norm === 'none';
    const widths = Array.from({ length: k }, (_, i) => nf * 2 ** i); // output channels of down_i
    this.down = new ModuleList(
      widths.map((ch, i) =>
        i === 0
          ? new Sequential(new Conv2d(nc, ch, 4, { stride: 2, padding: 1, bias }), new LeakyReLU(0.2))
          : new Sequential(new Conv2d(widths[i - 1], ch, 4, { stride: 2, padding: 1, bias }), normLayer(norm, ch), new LeakyReLU(0.2)),
      ),
    );
    // up_i undoes down_i; its input is up_{i+1}'s output concatenated with down_i's (none for the bottleneck).
    this.up = new ModuleList(
      widths.map((ch, i) => {
        const inCh = i === k - 1 ? ch : ch * 2;
        return i === 0
          ? new Sequential(new ConvTranspose2d(inCh, nc, 4, { stride: 2, padding: 1 }), ...(cfg.out === 'linear' ? [] : [new Tanh()]))
          : new Sequential(new ConvTranspose2d(inCh, widths[i - 1], 4, { stride: 2, padding: 1, bias }), normLayer(norm, widths[i - 1]), new ReLU());
      }),
    );
  }

  reconstruct(x: Tensor): { recon: Tensor; code: Tensor } {
    const skips: Tensor[] = [];
    let h = x;
    for (const d of this.down) {
      h = d.call(h) as Tensor;
      skips.push(h);
    }
    const code = reshape(h, [x.shape[0], -1]);
    const k = skips.length;
    for (let i = k - 1; i >= 0; i--) {
      const input = i === k - 1 ? h : concat([h, skips[i]], 1);
      h = this.up.at(i).call(input) as Tensor;
    }
    return { recon: h, code };
  }

  override forward(x: Tensor): Tensor {
    return this.reconstruct(x).recon;
  }
}

// ---- training -------------------------------------------------------------------------------------

/** Trains ConvAutoencoder on reconstruction MSE; one step() is one Adam update. */
export class AutoencoderTrainer implements GanTrainer {
  readonly nets: { netAE: ConvAutoencoder };
  readonly optimizers: { netAE: Adam };
  readonly rng: Generator;
  readonly sampler = 'netAE';
  readonly cfg: ConvAutoencoderConfig;
  /** Real images kept from the first training batch, reconstructed in the sample grids. */
  private probe: Tensor | null = null;

  constructor(readonly config: ModelConfig, settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2'>, seed: number) {
    this.cfg = autoencoderConfig(config);
    this.rng = new Generator(seed);
    const netAE = new ConvAutoencoder(this.cfg);
    dcganInit_(netAE.modules(), this.rng);
    this.nets = { netAE };
    this.optimizers = { netAE: new Adam(netAE, { lr: settings.lr, betas: [settings.beta1, settings.beta2] }) };
  }

  /** Random codes N(0, I) [n, code], what the decoder is fed when there is no probe batch. */
  noise(n: number, generator: Generator): Tensor {
    return randn([n, this.cfg.code], { generator });
  }

  step(real: Tensor, withStats: boolean): StepStats | null {
    // A copy: the loop refills `real` in place every step.
    if (!this.probe) this.probe = noGrad(() => narrow(real, 0, 0, Math.min(32, real.shape[0]))).keep();
    const net = this.nets.netAE;
    return tidy(() => {
      const loss = mse(net.call(real), real);
      stepOn(loss, net.parameters(), this.optimizers.netAE);
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
      const shown = narrow(probe, 0, 0, n / 2);
      const recon = generateWith(net, shown, batchStats);
      const rows = n / 16;
      const pair = noGrad(() => concat([reshape(shown, [rows, 1, -1]), reshape(recon, [rows, 1, -1])], 1));
      return reshape(pair, [n, ...probe.shape.slice(1)]);
    });
  }
}

export function autoencoderConfig(c: ModelConfig): ConvAutoencoderConfig {
  return { imageSize: Number(c.imageSize), nc: Number(c.nc ?? 1), nf: Number(c.nf), code: Number(c.code), norm: String(c.norm ?? 'batch') as AeNorm };
}

/** Problems with the shared image-size and width flags, as messages naming the flag. */
export function checkSizeAndWidths(c: ModelConfig, keys: readonly string[]): string[] {
  const errs: string[] = [];
  const k = Math.log2(Number(c.imageSize)) - 2;
  if (!Number.isInteger(k) || k < 1 || k > 6) errs.push(`--image-size must be a power of two from 8 to 256, got ${c.imageSize}`);
  for (const key of keys) {
    const v = Number(c[key]);
    if (!Number.isInteger(v) || v < 1 || v > 4096) errs.push(`--${key.replace(/[A-Z]/g, (m) => '-' + m.toLowerCase())} must be an integer in [1, 4096], got ${c[key]}`);
  }
  return errs;
}

export const autoencoderRecipe: ModelRecipe = {
  name: 'autoencoder',
  description: 'a convolutional autoencoder (DCGAN-shaped encoder and decoder) trained on reconstruction MSE',
  reference: 'Hinton & Salakhutdinov 2006 (deep autoencoders); DCGAN layer shapes from arXiv:1511.06434',
  options: {
    imageSize: { type: 'int', default: 32, help: 'image side, a power of two (32: MNIST padded)', metavar: 'N' },
    nf: { type: 'int', default: 32, help: 'width: channels of the first encoder / last decoder layer', metavar: 'N' },
    code: { type: 'int', default: 32, help: 'length of the code vector', metavar: 'N' },
    norm: { type: 'string', default: 'batch', choices: ['batch', 'none'], help: 'normalisation inside encoder and decoder' },
  },
  train: { steps: 1000, batch: 64, lr: 1e-3, beta1: 0.9, beta2: 0.999, sampleEvery: 100, ckptEvery: 250, logEvery: 10, dataset: 'mnist' },
  quick: { steps: 150, batch: 32, nf: 8, code: 16, sampleEvery: 50, ckptEvery: 50, logEvery: 10 },
  paper: {
    values: {},
    sources: {},
    note: 'No paper setting to follow: this convolutional autoencoder is the project\'s own baseline (DCGAN-shaped layers, not the RBM-pretrained fully connected nets of Hinton & Salakhutdinov 2006), so --paper is the full recipe.',
  },
  imageShape: (c) => ({ channels: Number(c.nc ?? 1), size: Number(c.imageSize) }),
  validate: (c) => checkSizeAndWidths(c, ['nf', 'code']),
  create: (config, settings, seed) => new AutoencoderTrainer(config, settings, seed),
};
