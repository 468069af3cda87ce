// pix2pix: Isola, Zhu, Zhou & Efros, "Image-to-Image Translation with Conditional Adversarial
// Networks" (CVPR 2017), as in junyanz/pytorch-CycleGAN-and-pix2pix (models/pix2pix_model.py).
//
//   G: U-Net (unet_256 in the paper: 8 levels, skips, dropout 0.5 in the 3 innermost 512-channel
//      decoder levels, which stays on at test time: the model's only noise), batch norm
//   D: conditional PatchGAN on concat(A, B) (70x70 by default; 1x1, 16x16, 286x286 are the paper's
//      other patch sizes), batch norm, one logit per patch
//   D loss: 0.5 * [BCE(D(A, B), 1) + BCE(D(A, G(A)), 0)]
//   G loss: BCE(D(A, G(A)), 1) + lambda_L1 * |G(A) - B|_1, lambda_L1 = 100
//   Adam 2e-4, betas (0.5, 0.999); the rate held for the first half of training, then decayed
//   linearly to zero (100 + 100 epochs in the paper; here measured in steps).
//
// Data: one batch tensor carries both domains, A's channels then B's ([N, inputNc + outputNc, H, W],
// see packPairs), so the trainer fits the CLI's one-tensor training loop. Everything a step
// allocates is freed inside it; G and D are updated once each per step, D first.

import type { Module } from '../engine/nn.js';
import { Adam, LinearDecay } from '../engine/optim.js';
import { Tensor, tidy } from '../engine/tensor.js';
import { noGrad } from '../engine/tape.js';
import { add, concat, l1, mean, mulScalar, narrow, sigmoid, Generator } from '../engine/ops/index.js';
import { generateWith } from './lib/sample.js';
import { DISCRIMINATORS, GENERATORS, defineD, defineG, discriminatorLayers, generatorMinSize, patchOutputSize, setTestTimeDropout, type NormName } from './lib/networks.js';
import { GAN_LOSSES, ganLoss, type GanMode } from './lib/losses.js';
import { SampleInputs } from './lib/sample.js';
import { setGradients } from './lib/step.js';
import { heldOutEmojiPairs, splitHeldOut, type TranslationEval } from './lib/translation.js';
import type { GanTrainer, ModelConfig, ModelRecipe, StepStats, TrainSettings } from './registry.js';

export interface Pix2pixConfig {
  imageSize: number;
  inputNc: number;
  outputNc: number;
  /** A generator name of nets/common.ts GENERATORS (unet_256 in the paper). */
  netG: string;
  /** A discriminator name of DISCRIMINATORS (basic = the 70x70 PatchGAN). */
  netD: string;
  /** Stride-2 layers of D when netD is 'n_layers'. */
  nLayersD: number;
  ngf: number;
  ndf: number;
  norm: NormName;
  /** Dropout in G (the paper's noise); off with --no-dropout. */
  dropout: boolean;
  ganMode: GanMode;
  lambdaL1: number;
  /** 'AtoB' translates the batch's first half of channels into the second; 'BtoA' the reverse. */
  direction: 'AtoB' | 'BtoA';
  /** Steps at the base learning rate, then steps of linear decay (0: half of the run each). */
  lrHold: number;
  lrDecay: number;
}

export function pix2pixConfig(c: ModelConfig): Pix2pixConfig {
  return {
    imageSize: Number(c.imageSize),
    inputNc: Number(c.inputNc ?? 3),
    outputNc: Number(c.outputNc ?? 3),
    netG: String(c.netG),
    netD: String(c.netD),
    nLayersD: Number(c.nLayersD ?? 3),
    ngf: Number(c.ngf),
    ndf: Number(c.ndf),
    norm: String(c.norm ?? 'batch') as NormName,
    dropout: c.dropout !== false,
    ganMode: String(c.ganMode ?? 'vanilla') as GanMode,
    lambdaL1: Number(c.lambdaL1 ?? 100),
    direction: c.direction === 'BtoA' ? 'BtoA' : 'AtoB',
    lrHold: Number(c.lrHold ?? 0),
    lrDecay: Number(c.lrDecay ?? 0),
  };
}

/**
 * Aligned pairs (e.g. loadEmojiPairs' a and b, each n x c x h x w) as one array of
 * n x 2c x h x w: image i's A channels, then its B channels. The trainers' batch layout.
 */
export function packPairs(a: Float32Array, b: Float32Array, n: number, ca: number, cb: number, h: number, w: number): Float32Array {
  const plane = h * w;
  if (a.length !== n * ca * plane || b.length !== n * cb * plane) {
    throw new Error(`packPairs: expected ${n} x ${ca} and ${n} x ${cb} images of ${h}x${w}, got ${a.length} and ${b.length} values`);
  }
  const out = new Float32Array(n * (ca + cb) * plane);
  for (let i = 0; i < n; i++) {
    out.set(a.subarray(i * ca * plane, (i + 1) * ca * plane), i * (ca + cb) * plane);
    out.set(b.subarray(i * cb * plane, (i + 1) * cb * plane), (i * (ca + cb) + ca) * plane);
  }
  return out;
}

/**
 * Sets an optimizer's rate for the coming step from the steps it has taken (so a resumed run
 * continues the schedule): the base rate for `hold` steps, then linear decay over `decay` steps.
 */
export function scheduleFromSteps(scheduler: LinearDecay): void {
  scheduler.loadStateDict({ epoch: scheduler.optimizer.stepCount(0) });
}

export class Pix2pixTrainer implements GanTrainer {
  readonly nets: { netG: Module; netD: Module };
  readonly optimizers: { netG: Adam; netD: Adam };
  readonly schedulers: LinearDecay[];
  readonly rng: Generator;
  readonly sampler = 'netG';
  readonly cfg: Pix2pixConfig;
  readonly samples: SampleInputs;
  private readonly gan: (prediction: Tensor, real: boolean) => Tensor;

  constructor(readonly config: ModelConfig, settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2' | 'steps'>, seed: number) {
    const cfg = (this.cfg = pix2pixConfig(config));
    this.rng = new Generator(seed);
    const { inputNc, outputNc } = this.generatorChannels();
    const netG = defineG(cfg.netG, { inputNc, outputNc, ngf: cfg.ngf, norm: cfg.norm, useDropout: cfg.dropout, rng: this.rng });
    // D is conditional: it sees the input image next to the real or generated output.
    const netD = defineD(cfg.netD, { inputNc: inputNc + outputNc, ndf: cfg.ndf, norm: cfg.norm, nLayers: cfg.nLayersD, rng: this.rng });
    this.nets = { netG, netD };
    const opts = { lr: settings.lr, betas: [settings.beta1, settings.beta2] as [number, number] };
    this.optimizers = { netG: new Adam(netG, opts), netD: new Adam(netD, opts) };
    const hold = cfg.lrHold || Math.ceil(settings.steps / 2);
    const decay = cfg.lrDecay || Math.max(settings.steps - hold, 0);
    this.schedulers = Object.values(this.optimizers).map((o) => new LinearDecay(o, { nEpochs: hold, nEpochsDecay: decay }));
    this.gan = ganLoss(cfg.ganMode);
    this.samples = new SampleInputs([inputNc, cfg.imageSize, cfg.imageSize]);
  }

  /** Channels of G's input and output after --direction. */
  private generatorChannels(): { inputNc: number; outputNc: number } {
    const { inputNc, outputNc, direction } = this.cfg;
    return direction === 'AtoB' ? { inputNc, outputNc } : { inputNc: outputNc, outputNc: inputNc };
  }

  /** Splits a packed batch [N, ncA + ncB, H, W] into G's input and its target (after --direction). */
  split(batch: Tensor): { realA: Tensor; realB: Tensor } {
    const { inputNc, outputNc, direction } = this.cfg;
    const a = narrow(batch, 1, 0, inputNc);
    const b = narrow(batch, 1, inputNc, outputNc);
    return direction === 'AtoB' ? { realA: a, realB: b } : { realA: b, realB: a };
  }

  step(batch: Tensor, withStats: boolean): StepStats | null {
    const { netG, netD } = this.nets;
    for (const s of this.schedulers) scheduleFromSteps(s);
    return tidy(() => {
      const { realA, realB } = this.split(batch);
      this.samples.offer(realA);
      const fakeB = netG.call(realA) as Tensor;
      const fakeAB = concat([realA, fakeB], 1);
      const realAB = concat([realA, realB], 1);

      // (1) D: real pairs to 1, generated pairs (detached: no gradient into G) to 0, halved.
      const predFake = netD.call(fakeAB.detach()) as Tensor;
      const predReal = netD.call(realAB) as Tensor;
      const lossDFake = this.gan(predFake, false);
      const lossDReal = this.gan(predReal, true);
      const lossD = mulScalar(add(lossDFake, lossDReal), 0.5);
      setGradients(lossD, [netD]);
      this.optimizers.netD.step();

      // (2) G: fool the updated D, and stay close to the target in L1.
      const predG = netD.call(fakeAB) as Tensor;
      const lossGGan = this.gan(predG, true);
      const lossGL1 = mulScalar(l1(fakeB, realB), this.cfg.lambdaL1);
      const lossG = add(lossGGan, lossGL1);
      setGradients(lossG, [netG]);
      this.optimizers.netG.step();

      if (!withStats) return null;
      return noGrad(() => ({
        loss_G_GAN: lossGGan.detach(),
        loss_G_L1: lossGL1.detach(),
        loss_D_real: lossDReal.detach(),
        loss_D_fake: lossDFake.detach(),
        ...(this.cfg.ganMode === 'vanilla' ? { D_x: mean(sigmoid(predReal)), D_G_x: mean(sigmoid(predFake)) } : {}),
      }));
    });
  }

  /** The fixed sample inputs (see SampleInputs): the first training batch's A images unless set. */
  noise(n: number, _generator?: Generator): Tensor {
    return this.samples.take(n);
  }

  /**
   * G(A) without gradients. By default as the reference's test script runs it (no eval()): batch
   * norm on the batch's own statistics (running statistics left as they were) and dropout on, the
   * paper's test-time noise; its masks come from the training stream (this.rng).
   * `batchStats: false` runs G in eval mode (running statistics, no dropout), deterministic;
   * `testDropout` then keeps dropout on.
   */
  generate(a: Tensor, opts: { batchStats?: boolean; testDropout?: boolean } = {}): Tensor {
    const netG = this.nets.netG;
    setTestTimeDropout(netG, !!opts.testDropout);
    try {
      return generateWith(netG, a, opts.batchStats ?? true);
    } finally {
      setTestTimeDropout(netG, false);
    }
  }

  /** Mean |G(A) - B| over a packed batch of held-out pairs, as a scalar tensor (eval mode by default). */
  evalL1(batch: Tensor, opts: { batchStats?: boolean } = {}): Tensor {
    return tidy(() => {
      const { realA, realB } = this.split(batch);
      const fake = this.generate(realA, { batchStats: opts.batchStats ?? false });
      return noGrad(() => l1(fake, realB));
    });
  }

  dispose(): void {
    for (const o of Object.values(this.optimizers)) o.dispose();
    for (const n of Object.values(this.nets)) n.dispose();
    this.samples.dispose();
  }
}

// ---- the recipe -----------------------------------------------------------------------------------

/** Problems shared by the pix2pix and CycleGAN recipes (size vs generator, widths, names). */
export function validateImageToImage(c: ModelConfig, netDs: readonly string[]): string[] {
  const errs: string[] = [];
  const size = Number(c.imageSize);
  if (!Number.isInteger(size) || size < 4 || size > 1024) errs.push(`--image-size must be an integer in [4, 1024], got ${c.imageSize}`);
  const g = String(c.netG);
  if (!Object.prototype.hasOwnProperty.call(GENERATORS, g)) errs.push(`--net-g must be one of ${Object.keys(GENERATORS).join(', ')}; got '${g}'`);
  else {
    const min = generatorMinSize(g);
    if (size % min !== 0) errs.push(`--net-g ${g} needs an image size divisible by ${min} (got ${size}); pick the unet_/encdec_ matching --image-size`);
  }
  for (const d of netDs) {
    if (!Object.prototype.hasOwnProperty.call(DISCRIMINATORS, d)) errs.push(`--net-d must be one of ${Object.keys(DISCRIMINATORS).join(', ')}; got '${d}'`);
    else {
      const n = discriminatorLayers(d, Number(c.nLayersD ?? 3));
      if (n > 0 && patchOutputSize(size, n) < 1) errs.push(`--net-d ${d} (${n} stride-2 layers) needs images of at least ${2 ** n * 3} px (got ${size}); use fewer layers, e.g. --net-d patch16`);
    }
  }
  for (const key of ['ngf', 'ndf'] as const) {
    const v = Number(c[key]);
    if (!Number.isInteger(v) || v < 1 || v > 1024) errs.push(`--${key} must be an integer in [1, 1024], got ${c[key]}`);
  }
  if (c.norm !== undefined && !['batch', 'instance', 'none'].includes(String(c.norm))) errs.push(`--norm must be batch, instance or none; got '${c.norm}'`);
  if (c.ganMode !== undefined && !Object.prototype.hasOwnProperty.call(GAN_LOSSES, String(c.ganMode))) errs.push(`--gan-mode must be one of ${Object.keys(GAN_LOSSES).join(', ')}; got '${c.ganMode}'`);
  for (const key of ['lrHold', 'lrDecay'] as const) {
    const v = Number(c[key] ?? 0);
    if (!Number.isInteger(v) || v < 0) errs.push(`--${key === 'lrHold' ? 'lr-hold' : 'lr-decay'} must be a non-negative integer, got ${c[key]}`);
  }
  return errs;
}

export const pix2pixRecipe: ModelRecipe & TranslationEval = {
  name: 'pix2pix',
  description: 'pix2pix (Isola et al. 2017): U-Net G, conditional PatchGAN D, GAN + 100 L1; paired A -> B',
  reference: 'arXiv:1611.07004; github.com/junyanz/pytorch-CycleGAN-and-pix2pix',
  options: {
    imageSize: { type: 'int', default: 64, help: 'image side (the emoji are 64 px; the paper uses 256)', metavar: 'N' },
    netG: { type: 'string', default: 'unet_64', choices: Object.keys(GENERATORS), help: 'generator (unet_256 in the paper)' },
    netD: { type: 'string', default: 'basic', choices: Object.keys(DISCRIMINATORS), help: 'discriminator: basic = 70x70 PatchGAN; pixel/patch16/patch286' },
    nLayersD: { type: 'int', default: 3, help: 'stride-2 layers of D when --net-d n_layers', metavar: 'N' },
    ngf: { type: 'int', default: 64, help: 'generator width (channels of its first layer)', metavar: 'N' },
    ndf: { type: 'int', default: 64, help: 'discriminator width (channels of its first layer)', metavar: 'N' },
    norm: { type: 'string', default: 'batch', choices: ['batch', 'instance', 'none'], help: 'normalisation layers' },
    dropout: { type: 'boolean', default: true, help: 'dropout 0.5 in the U-Net\'s inner decoder levels (--no-dropout to drop it)' },
    ganMode: { type: 'string', default: 'vanilla', choices: Object.keys(GAN_LOSSES), help: 'GAN loss: vanilla (BCE with logits), lsgan (MSE)' },
    lambdaL1: { type: 'number', default: 100, help: 'weight of the L1 term', metavar: 'X' },
    direction: { type: 'string', default: 'AtoB', choices: ['AtoB', 'BtoA'], help: 'translate A -> B (Noto -> Twemoji) or B -> A' },
    lrHold: { type: 'int', default: 0, help: 'steps at the base learning rate (0: half the run)', metavar: 'N' },
    lrDecay: { type: 'int', default: 0, help: 'steps of linear decay to zero after that (0: the rest of the run)', metavar: 'N' },
  },
  train: {
    steps: 4000,
    batch: 4,
    lr: 2e-4,
    beta1: 0.5,
    beta2: 0.999,
    sampleEvery: 500,
    ckptEvery: 1000,
    logEvery: 50,
    dataset: 'emoji-pairs',
  },
  // A few minutes on a software adapter: 32 px, a 5-level U-Net 8 wide, batch 4.
  quick: { steps: 300, batch: 4, imageSize: 32, netG: 'unet_32_dropout', ngf: 8, ndf: 8, sampleEvery: 100, ckptEvery: 100, logEvery: 20 },
  paper: {
    values: { steps: 637800, batch: 1, imageSize: 256, netG: 'unet_256', lrHold: 318900, lrDecay: 318900 },
    sources: {
      steps: 'reference: 100 epochs at the base rate + 100 of linear decay (facades); 200 x the 3189 emoji-pairs at batch 1',
      batch: 'paper Sec. 3.3 / reference: batch 1 (batch norm over one image: instance-norm-like)',
      lr: 'paper Sec. 3.3: Adam 0.0002, beta1 0.5',
      imageSize: 'paper: 256x256 (the 64 px emoji upsampled here)',
      netG: 'paper Sec. 3.2 / Appendix 6.1.1: U-Net of 8 downsamplings at 256 px',
      ngf: 'Appendix 6.1.1: C64 first encoder layer',
      ndf: 'Appendix 6.1.2: 70x70 PatchGAN, C64-C128-C256-C512',
      lambdaL1: 'paper: lambda = 100',
      lrHold: 'reference n_epochs 100 (epochs at the base rate)',
      lrDecay: 'reference n_epochs_decay 100 (epochs of linear decay to 0)',
      dropout: 'paper Sec. 3.1: dropout 0.5 in the decoder as the noise, at train and test time',
    },
    note: 'The paper\'s data sets (facades, maps, cityscapes, edges2shoes...) are not here: --paper trains on the Noto -> Twemoji emoji pairs, drawn at 64 px and upsampled to 256 (no extra detail). The reference\'s random jitter (resize to 286, crop 256) and mirroring are not applied.',
  },
  imageShape: (c) => ({ channels: Number(c.inputNc ?? 3) + Number(c.outputNc ?? 3), size: Number(c.imageSize) }),
  validate: (c) => validateImageToImage(c, [String(c.netD)]),
  create: (config, settings, seed) => new Pix2pixTrainer(config, settings, seed),
  async heldOutPairs(config, { limit, dataset }) {
    const cfg = pix2pixConfig(config);
    const p = await heldOutEmojiPairs({ dataset: dataset ?? pix2pixRecipe.train.dataset, size: cfg.imageSize, limit });
    if (p.channelsA !== cfg.inputNc || p.channelsB !== cfg.outputNc) {
      throw new Error(`pix2pix: held-out pairs of '${dataset}' have ${p.channelsA} + ${p.channelsB} channels, the model ${cfg.inputNc} + ${cfg.outputNc}`);
    }
    return splitHeldOut(p, cfg.direction === 'BtoA');
  },
  // Eval mode (running statistics, no dropout): deterministic, and it leaves the training state
  // alone. The paper's own test protocol (batch statistics, dropout on) is generate()'s default.
  translate(trainer, x) {
    if (!(trainer instanceof Pix2pixTrainer)) throw new Error('pix2pix.translate: not a Pix2pixTrainer');
    return trainer.generate(x, { batchStats: false });
  },
};
