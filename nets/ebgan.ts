// EBGAN: Zhao, Mathieu & LeCun, "Energy-based Generative Adversarial Network" (ICLR 2017).
//
// The discriminator is an energy function: an autoencoder whose reconstruction error is low on the
// data and pushed up elsewhere. With the energy of one sample
//     D(x) = mean over pixels of (Dec(Enc(x)) - x)^2                     (per-sample MSE)
// the two losses of the paper (eq. 1, 2) are, averaged over a batch,
//     L_D = E_x[D(x)] + E_z[max(0, m - D(G(z)))]                         (hinge with margin m)
//     L_G = E_z[D(G(z))] + w_PT * PT(S)                                  (w_PT = 0.1)
// and the pulling-away term (section 2.4) on the encoder codes S_1..S_N of the generated batch,
//     PT(S) = 1 / (N (N - 1)) * sum_{i != j} (S_i . S_j / (|S_i| |S_j|))^2,
// keeps G from collapsing: it is the mean squared cosine similarity of distinct codes.
//
// Networks: G is the DCGAN generator (nets/dcgan.ts); D is nets/autoencoder.ts's ConvAutoencoder
// (a DCGAN-shaped conv encoder to a code vector and conv-transpose decoder, as the paper's
// ImageNet/LSUN models), or with --d-arch unet the small U-Net there. Options from the paper:
// --margin m, --pt-weight (0 turns PT off: "EBGAN" vs "EBGAN-PT"), and --pretrain N, which first
// trains D alone as an autoencoder on real data for N steps (the paper's semi-supervised set-up
// pretrains the autoencoder; here it is an option for any run). Each step updates D then G, Adam
// 2e-4, betas (0.5, 0.999).

import { Adam } from '../engine/optim.js';
import { dcganInit_ } from '../engine/init.js';
import { Tensor, tidy } from '../engine/tensor.js';
import { noGrad } from '../engine/tape.js';
import { add, div, hinge, matmul, mean, mse, mulScalar, randn, reshape, sqrt, square, sub, sum, addScalar, Generator } from '../engine/ops/index.js';
import { DcganGenerator } from './dcgan.js';
import { generateWith } from './lib/sample.js';
import { ConvAutoencoder, UnetAutoencoder, checkSizeAndWidths, type AeNorm, type EnergyAutoencoder } from './autoencoder.js';
import { perSampleMean } from './lib/losses.js';
import { stepOn } from './lib/step.js';
import type { GanTrainer, ModelConfig, ModelRecipe, StepStats, TrainSettings } from './registry.js';

export interface EbganConfig {
  imageSize: number;
  nc: number;
  nz: number;
  ngf: number;
  /** D's width (its autoencoder's first encoder layer). */
  ndf: number;
  /** D's code length (conv autoencoder). */
  code: number;
  dArch: 'conv' | 'unet';
  dNorm: AeNorm;
  /** D's reconstruction: linear (energies unbounded, the default) or squashed by tanh into [-1, 1]. */
  dOut: 'linear' | 'tanh';
  /** The hinge margin m on fake energies. */
  margin: number;
  /** Weight of the pulling-away term in L_G (0.1 in the paper). */
  ptWeight: number;
  /** D-only autoencoder steps on real data before the adversarial game starts. */
  pretrain: number;
}

/** Energy of each sample: its mean squared reconstruction error, [N]. */
export function reconstructionEnergy(x: Tensor, recon: Tensor): Tensor {
  return perSampleMean(mse(recon, x, { reduction: 'none' }));
}

/**
 * The pulling-away term on codes S [N, d]: the mean over ordered pairs i != j of the squared cosine
 * similarity. The diagonal of the Gram matrix of the normalised codes is subtracted exactly (its
 * entries are |S_i|^2 / (|S_i|^2 + eps), not quite 1).
 */
export function pullAwayTerm(codes: Tensor): Tensor {
  const n = codes.shape[0];
  if (n < 2) throw new Error(`pullAwayTerm: needs at least 2 codes, got ${codes.describe()}`);
  const s = reshape(codes, [n, -1]);
  const norm = sqrt(addScalar(sum(square(s), 1, true), 1e-12)); // [N, 1]
  const unit = div(s, norm);
  const cos = matmul(unit, unit, { transB: true }); // [N, N]
  const diag = sum(square(sum(square(unit), 1))); // sum_i (S_i . S_i)^2
  return mulScalar(sub(sum(square(cos)), diag), 1 / (n * (n - 1)));
}

/** CPU float64 twin of pullAwayTerm (tests). */
export function pullAwayTermCpu(codes: ArrayLike<number>, n: number): number {
  const d = codes.length / n;
  const unit: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: d }, (_, k) => codes[i * d + k]);
    const len = Math.sqrt(row.reduce((a, v) => a + v * v, 0) + 1e-12);
    unit.push(row.map((v) => v / len));
  }
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const c = unit[i].reduce((a, v, k) => a + v * unit[j][k], 0);
      total += c * c;
    }
  }
  return total / (n * (n - 1));
}

/** The EBGAN losses of one batch, from energies and the fake codes (exported for the tests). */
export function ebganLosses(eReal: Tensor, eFake: Tensor, margin: number): Tensor {
  return add(mean(eReal), hinge(eFake, margin));
}

export class EbganTrainer implements GanTrainer {
  readonly nets: { netG: DcganGenerator; netD: EnergyAutoencoder };
  readonly optimizers: { netG: Adam; netD: Adam };
  readonly rng: Generator;
  readonly sampler = 'netG';
  readonly cfg: EbganConfig;

  constructor(readonly config: ModelConfig, settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2'>, seed: number) {
    this.cfg = ebganConfig(config);
    const c = this.cfg;
    this.rng = new Generator(seed);
    const netG = new DcganGenerator({ imageSize: c.imageSize, nc: c.nc, nz: c.nz, ngf: c.ngf, ndf: c.ndf });
    const netD: EnergyAutoencoder =
      c.dArch === 'unet'
        ? new UnetAutoencoder({ imageSize: c.imageSize, nc: c.nc, nf: c.ndf, norm: c.dNorm, out: c.dOut })
        : new ConvAutoencoder({ imageSize: c.imageSize, nc: c.nc, nf: c.ndf, code: c.code, norm: c.dNorm, out: c.dOut });
    dcganInit_(netG.modules(), this.rng);
    dcganInit_(netD.modules(), this.rng);
    this.nets = { netG, netD };
    const betas: [number, number] = [settings.beta1, settings.beta2];
    this.optimizers = { netG: new Adam(netG, { lr: settings.lr, betas }), netD: new Adam(netD, { lr: settings.lr, betas }) };
  }

  /** Whether the next step is still in the D-only autoencoder phase (D's update count, so a resume keeps it). */
  get pretraining(): boolean {
    return this.optimizers.netD.stepCount(0) < this.cfg.pretrain;
  }

  noise(n: number, generator: Generator): Tensor {
    return randn([n, this.cfg.nz, 1, 1], { generator });
  }

  step(real: Tensor, withStats: boolean): StepStats | null {
    const { netG, netD } = this.nets;
    const { margin, ptWeight } = this.cfg;
    return tidy(() => {
      const eReal = reconstructionEnergy(real, netD.reconstruct(real).recon);
      if (this.pretraining) {
        const lossAE = mean(eReal);
        stepOn(lossAE, netD.parameters(), this.optimizers.netD);
        return withStats ? { lossD: lossAE.detach(), energy_real: lossAE.detach() } : null;
      }

      // (1) D: low energy on data, at least m on samples.
      const fake = netG.call(this.noise(real.shape[0], this.rng));
      const fakeD = fake.detach();
      const eFake = reconstructionEnergy(fakeD, netD.reconstruct(fakeD).recon);
      const lossD = ebganLosses(eReal, eFake, margin);
      stepOn(lossD, netD.parameters(), this.optimizers.netD);

      // (2) G: low energy under the updated D, plus the pulling-away term on D's codes of G(z).
      const { recon, code } = netD.reconstruct(fake);
      const eG = mean(reconstructionEnergy(fake, recon));
      const pt = ptWeight > 0 ? pullAwayTerm(code) : null;
      const lossG = pt ? add(eG, mulScalar(pt, ptWeight)) : eG;
      stepOn(lossG, netG.parameters(), this.optimizers.netG, [netD]);

      if (!withStats) return null;
      return noGrad(() => ({
        lossD: lossD.detach(),
        lossG: lossG.detach(),
        energy_real: mean(eReal),
        energy_fake: mean(eFake),
        ...(pt ? { pt: pt.detach() } : {}),
      }));
    });
  }

  generate(z: Tensor, opts: { batchStats?: boolean } = {}): Tensor {
    return generateWith(this.nets.netG, z, opts.batchStats ?? true);
  }
}

export function ebganConfig(c: ModelConfig): EbganConfig {
  return {
    imageSize: Number(c.imageSize),
    nc: Number(c.nc ?? 1),
    nz: Number(c.nz),
    ngf: Number(c.ngf),
    ndf: Number(c.ndf),
    code: Number(c.code),
    dArch: String(c.dArch ?? 'conv') as EbganConfig['dArch'],
    dNorm: String(c.dNorm ?? 'batch') as AeNorm,
    dOut: String(c.dOut ?? 'linear') as EbganConfig['dOut'],
    margin: Number(c.margin),
    ptWeight: Number(c.ptWeight),
    pretrain: Number(c.pretrain ?? 0),
  };
}

export const ebganRecipe: ModelRecipe = {
  name: 'ebgan',
  description: 'EBGAN (Zhao et al. 2017): an autoencoder D as energy, hinge margin, pulling-away term',
  reference: 'arXiv:1609.03126 (Energy-based Generative Adversarial Network)',
  options: {
    imageSize: { type: 'int', default: 32, help: 'image side, a power of two (32: MNIST padded)', metavar: 'N' },
    nz: { type: 'int', default: 100, help: 'latent vector length', metavar: 'N' },
    ngf: { type: 'int', default: 32, help: 'generator width (DCGAN G)', metavar: 'N' },
    ndf: { type: 'int', default: 32, help: 'discriminator (autoencoder) width', metavar: 'N' },
    code: { type: 'int', default: 64, help: 'D\'s code length (conv autoencoder)', metavar: 'N' },
    dArch: { type: 'string', default: 'conv', choices: ['conv', 'unet'], help: 'D\'s autoencoder: DCGAN-shaped conv, or a small U-Net' },
    dNorm: { type: 'string', default: 'batch', choices: ['batch', 'none'], help: 'normalisation inside D' },
    dOut: { type: 'string', default: 'linear', choices: ['linear', 'tanh'], help: 'D\'s reconstruction layer: linear (unbounded energies) or tanh' },
    margin: { type: 'number', default: 1, help: 'hinge margin m on the fake energies (per-pixel MSE scale)' },
    ptWeight: { type: 'number', default: 0.1, help: 'weight of the pulling-away term (0: plain EBGAN)' },
    pretrain: { type: 'int', default: 0, help: 'first train D alone as an autoencoder on real data for N steps', metavar: 'N' },
  },
  train: { steps: 1000, batch: 64, lr: 2e-4, beta1: 0.5, beta2: 0.999, sampleEvery: 100, ckptEvery: 250, logEvery: 10, dataset: 'mnist' },
  quick: { steps: 300, batch: 16, lr: 5e-4, ngf: 8, ndf: 8, code: 32, pretrain: 10, sampleEvery: 100, ckptEvery: 100, logEvery: 10 },
  paper: {
    values: { lr: 1e-3, imageSize: 64, ngf: 64, ndf: 64 },
    sources: {
      lr: 'paper (64x64 LSUN / CelebA models): Adam 0.001, beta1 0.5',
      imageSize: 'paper: 64x64 LSUN bedrooms and CelebA (MNIST resized here)',
      ngf: 'paper: DCGAN-style generator of the 64x64 models, 64 filters at the last layer',
      ndf: 'paper: the auto-encoder discriminator of the 64x64 models, 64 filters at its first layer',
      ptWeight: 'paper Sec. 2.4: pulling-away term weight 0.1 (EBGAN-PT)',
      code: 'this project\'s conv autoencoder code length (the paper\'s 64x64 D has no fully connected code)',
      pretrain: 'no auto-encoder pretraining in the paper\'s generation experiments',
      margin: 'paper: m = 20 for the 64x64 models on its own energy scale; this trainer\'s energy is the per-pixel MSE, where 1 is the comparable margin',
    },
    unconfirmed: ['lr', 'ngf', 'ndf', 'margin', 'steps', 'batch'],
    note: 'The paper\'s MNIST experiments are a grid search over fully connected nets (no single setting); its 64x64 conv models (LSUN, CelebA) are what --paper follows, on MNIST resized to 64x64. The training length is not stated.',
  },
  imageShape: (c) => ({ channels: Number(c.nc ?? 1), size: Number(c.imageSize) }),
  validate(c) {
    const errs = checkSizeAndWidths(c, ['nz', 'ngf', 'ndf', 'code']);
    if (!(Number(c.margin) > 0)) errs.push(`--margin must be positive, got ${c.margin}`);
    if (!(Number(c.ptWeight) >= 0)) errs.push(`--pt-weight must be >= 0, got ${c.ptWeight}`);
    if (!Number.isInteger(Number(c.pretrain ?? 0)) || Number(c.pretrain ?? 0) < 0) errs.push(`--pretrain must be a non-negative integer, got ${c.pretrain}`);
    return errs;
  },
  create: (config, settings, seed) => new EbganTrainer(config, settings, seed),
};
