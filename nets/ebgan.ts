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
// Networks: G is DCGAN's generator (nets/dcgan.ts: the paper's 64x64 models use a DCGAN-style G); D
// is the DCGAN-shaped ConvAutoencoder of nets/lib/autoencoders.ts (a conv encoder to a code vector
// and a conv-transpose decoder, as the paper's ImageNet/LSUN models), or with --d-arch unet the
// small U-Net there. Options from the paper:
// --margin m, --pt-weight (0 turns PT off: "EBGAN" vs "EBGAN-PT"), and --pretrain N, which first
// trains D alone as an autoencoder on real data for N steps (the paper's semi-supervised set-up
// pretrains the autoencoder; here it is an option for any run). Each step updates D then G, Adam
// 2e-4, betas (0.5, 0.999).

import { Generator, type Tensor, noGrad, tidy, ops, optim, init } from '../engine/index.js';
import { DcganGenerator } from './dcgan.js';
import { ConvAutoencoder, UnetAutoencoder, type EnergyAutoencoder } from './lib/autoencoders.js';
import { imageSizeErrors } from './lib/checks.js';
import { perSampleMean } from './lib/losses.js';
import { choice, defineModel, int, num, type ConfigOf } from './lib/model.js';
import { generateWith } from './lib/sample.js';
import { minimize } from './lib/step.js';
import type { GanTrainer, StepStats, TrainSettings } from './registry.js';

// ---- the energy and the losses ---------------------------------------------------------------------

/** Energy of each sample: its mean squared reconstruction error, [N]. */
export function reconstructionEnergy(x: Tensor, recon: Tensor): Tensor {
  return perSampleMean(ops.mse(recon, x, { reduction: 'none' }));
}

/**
 * The pulling-away term on codes S [N, d]: the mean over ordered pairs i != j of the squared cosine
 * similarity. The diagonal of the Gram matrix of the normalised codes is subtracted exactly (its
 * entries are |S_i|^2 / (|S_i|^2 + eps), not quite 1).
 */
export function pullAwayTerm(codes: Tensor): Tensor {
  const n = codes.shape[0];
  if (n < 2) throw new Error(`pullAwayTerm: needs at least 2 codes, got ${codes.describe()}`);
  const s = codes.reshape([n, -1]);
  const norm = s.square().sum(1, true).add(1e-12).sqrt(); // [N, 1]
  const unit = s.div(norm);
  const cos = unit.matmul(unit, { transB: true }); // [N, N]
  const diag = unit.square().sum(1).square().sum(); // sum_i (S_i . S_i)^2
  return cos
    .square()
    .sum()
    .sub(diag)
    .mul(1 / (n * (n - 1)));
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
  return eReal.mean().add(ops.hinge(eFake, margin));
}

// ---- training -------------------------------------------------------------------------------------

export class EbganTrainer implements GanTrainer {
  readonly nets: { netG: DcganGenerator; netD: EnergyAutoencoder };
  readonly optimizers: { netG: optim.Adam; netD: optim.Adam };
  readonly rng: Generator;
  readonly sampler = 'netG';
  readonly cfg: EbganConfig;

  constructor(
    readonly config: EbganConfig,
    settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2'>,
    seed: number,
  ) {
    this.cfg = config;
    const c = config;
    this.rng = new Generator(seed);
    const netG = new DcganGenerator({ imageSize: c.imageSize, nc: c.nc, nz: c.nz, ngf: c.ngf, ndf: c.ndf });
    const netD: EnergyAutoencoder =
      c.dArch === 'unet'
        ? new UnetAutoencoder({ imageSize: c.imageSize, nc: c.nc, nf: c.ndf, norm: c.dNorm, out: c.dOut })
        : new ConvAutoencoder({ imageSize: c.imageSize, nc: c.nc, nf: c.ndf, code: c.code, norm: c.dNorm, out: c.dOut });
    init.dcganInit_(netG.modules(), this.rng);
    init.dcganInit_(netD.modules(), this.rng);
    this.nets = { netG, netD };
    const betas: [number, number] = [settings.beta1, settings.beta2];
    this.optimizers = { netG: new optim.Adam(netG, { lr: settings.lr, betas }), netD: new optim.Adam(netD, { lr: settings.lr, betas }) };
  }

  /** Whether the next step is still in the D-only autoencoder phase (D's update count, so a resume keeps it). */
  get pretraining(): boolean {
    return this.optimizers.netD.stepCount(0) < this.cfg.pretrain;
  }

  noise(n: number, generator: Generator): Tensor {
    return ops.randn([n, this.cfg.nz, 1, 1], { generator });
  }

  /** Replay: the path changes once, when pretraining ends (from the step count). */
  readonly replay = { key: () => `pretraining=${+this.pretraining}` };

  step(real: Tensor, withStats: boolean): StepStats | null {
    const { netG, netD } = this.nets;
    const { margin, ptWeight } = this.cfg;
    return tidy(() => {
      const eReal = reconstructionEnergy(real, netD.reconstruct(real).recon);
      if (this.pretraining) {
        const lossAE = eReal.mean();
        minimize(lossAE, this.optimizers.netD);
        return withStats ? { lossD: lossAE.detach(), energy_real: lossAE.detach() } : null;
      }

      // (1) D: low energy on data, at least m on samples.
      const fake = netG.call(this.noise(real.shape[0], this.rng));
      const fakeD = fake.detach();
      const eFake = reconstructionEnergy(fakeD, netD.reconstruct(fakeD).recon);
      const lossD = ebganLosses(eReal, eFake, margin);
      minimize(lossD, this.optimizers.netD);

      // (2) G: low energy under the updated D, plus the pulling-away term on D's codes of G(z).
      const { recon, code } = netD.reconstruct(fake);
      const eG = reconstructionEnergy(fake, recon).mean();
      const pt = ptWeight > 0 ? pullAwayTerm(code) : null;
      const lossG = pt ? eG.add(pt.mul(ptWeight)) : eG;
      minimize(lossG, this.optimizers.netG, { frozen: [netD] });

      if (!withStats) return null;
      return noGrad(() => ({
        lossD: lossD.detach(),
        lossG: lossG.detach(),
        energy_real: eReal.mean(),
        energy_fake: eFake.mean(),
        ...(pt ? { pt: pt.detach() } : {}),
      }));
    });
  }

  generate(z: Tensor, opts: { batchStats?: boolean } = {}): Tensor {
    return generateWith(this.nets.netG, z, opts.batchStats ?? true);
  }
}

// ---- the declaration ------------------------------------------------------------------------------

const params = {
  imageSize: int(32, 'image side, a power of two (32: MNIST padded)'),
  nz: int(100, 'latent vector length', { min: 1, max: 4096 }),
  ngf: int(32, 'generator width (DCGAN G)', { min: 1, max: 4096 }),
  ndf: int(32, 'discriminator (autoencoder) width', { min: 1, max: 4096 }),
  code: int(64, "D's code length (conv autoencoder)", { min: 1, max: 4096 }),
  dArch: choice(['conv', 'unet'], 'conv', "D's autoencoder: DCGAN-shaped conv, or a small U-Net"),
  dNorm: choice(['batch', 'none'], 'batch', 'normalisation inside D'),
  dOut: choice(['linear', 'tanh'], 'linear', "D's reconstruction layer: linear (unbounded energies) or tanh"),
  margin: num(1, 'hinge margin m on the fake energies (per-pixel MSE scale)', { min: 0, minExclusive: true }),
  ptWeight: num(0.1, 'weight of the pulling-away term (0: plain EBGAN)', { min: 0 }),
  pretrain: int(0, 'first train D alone as an autoencoder on real data for N steps', { min: 0 }),
  nc: int(1, 'image channels: 1 (single-channel data sets such as MNIST; not a flag)', { fromData: true }),
};

export type EbganConfig = ConfigOf<typeof params>;

export const ebganRecipe = defineModel(
  {
    name: 'ebgan',
    description: 'EBGAN (Zhao et al. 2017): an autoencoder D as energy, hinge margin, pulling-away term',
    paper: {
      label: 'EBGAN',
      title: 'Energy-based Generative Adversarial Network',
      authors: 'Junbo Zhao, Michael Mathieu, Yann LeCun',
      year: 2016,
      arxiv: '1609.03126',
      summary: 'The discriminator is an autoencoder whose reconstruction error is an energy, with a margin loss and a pull-away term.',
    },
    params,
    train: { steps: 1000, batch: 64, lr: 2e-4, beta1: 0.5, beta2: 0.999, sampleEvery: 100, ckptEvery: 250, logEvery: 10, dataset: 'mnist' },
    quick: { steps: 300, batch: 16, lr: 5e-4, ngf: 8, ndf: 8, code: 32, pretrain: 10, sampleEvery: 100, ckptEvery: 100, logEvery: 10 },
    paperPreset: {
      values: { lr: 1e-3, imageSize: 64, ngf: 64, ndf: 64 },
      sources: {
        lr: 'paper (64x64 LSUN / CelebA models): Adam 0.001, beta1 0.5',
        imageSize: 'paper: 64x64 LSUN bedrooms and CelebA (MNIST resized here)',
        ngf: 'paper: DCGAN-style generator of the 64x64 models, 64 filters at the last layer',
        ndf: 'paper: the auto-encoder discriminator of the 64x64 models, 64 filters at its first layer',
        ptWeight: 'paper Sec. 2.4: pulling-away term weight 0.1 (EBGAN-PT)',
        code: "this project's conv autoencoder code length (the paper's 64x64 D has no fully connected code)",
        pretrain: "no auto-encoder pretraining in the paper's generation experiments",
        margin:
          "paper: m = 20 for the 64x64 models on its own energy scale; this trainer's energy is the per-pixel MSE, where 1 is the comparable margin",
      },
      unconfirmed: ['lr', 'ngf', 'ndf', 'margin', 'steps', 'batch'],
      note: "The paper's MNIST experiments are a grid search over fully connected nets (no single setting); its 64x64 conv models (LSUN, CelebA) are what --paper follows, on MNIST resized to 64x64. The training length is not stated.",
    },
    check: (c) => imageSizeErrors(c.imageSize),
    imageShape: (c) => ({ channels: c.nc, size: c.imageSize }),
    create: (c, settings, seed) => new EbganTrainer(c, settings, seed),
  },
  {
    reference: 'arXiv:1609.03126 (Energy-based Generative Adversarial Network)',
    demo: {
      charts: [
        { title: 'Losses', keys: /^loss/ },
        {
          title: "Energies (D's reconstruction MSE)",
          keys: /^energy_/,
          note: "D's energy on real and generated images; the hinge pushes fakes up to the margin.",
        },
        { title: 'Pulling-away term', keys: /^pt$/ },
      ],
    },
  },
);
