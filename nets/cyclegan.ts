// CycleGAN: Zhu, Park, Isola & Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent
// Adversarial Networks" (ICCV 2017), as in junyanz/pytorch-CycleGAN-and-pix2pix
// (models/cycle_gan_model.py).
//
//   G_A: A -> B and G_B: B -> A, ResNet generators (resnet_9blocks at 256 px), instance norm
//   D_A judges domain B (real B vs G_A(A)), D_B judges domain A; 70x70 PatchGANs
//   Losses, least squares (LSGAN) against targets 1 (real) / 0 (fake):
//     G: (D_A(G_A(A)) - 1)^2 + (D_B(G_B(B)) - 1)^2
//        + lambda_A |G_B(G_A(A)) - A|_1 + lambda_B |G_A(G_B(B)) - B|_1        (cycle, 10 each)
//        + lambda_idt (lambda_B |G_A(B) - B|_1 + lambda_A |G_B(A) - A|_1)     (identity, 0.5 x 10)
//     D_A: 0.5 [(D_A(B) - 1)^2 + D_A(pool_B(G_A(A)))^2], D_B likewise on domain A
//   The generators are updated first (the Ds held constant), then the Ds on images drawn from a
//   history of 50 generated images per domain (ImagePool, swapping with probability 1/2).
//   Adam 2e-4, betas (0.5, 0.999); the rate held for the first half of training, then decayed
//   linearly to zero (100 + 100 epochs in the paper; here measured in steps).
//
// The reference steps one Adam over both generators and one over both discriminators; Adam's update
// is per parameter, so one optimizer per network (as the CLI's checkpoints name them) is the same.
// Data: one batch tensor carries an A image and an (unrelated) B image per row, A's channels then
// B's ([N, inputNc + outputNc, H, W], see packUnpaired); the losses never pair row i of A with row i
// of B, so the packing does not make training paired.

import { Module } from '../engine/nn/module.js';
import { stateEntries, stateKind, stateShape, copyStateInto, type StateDictLike, type StateValue } from '../engine/nn/state.js';
import type { LoadStateDictResult } from '../engine/nn/module.js';
import { Adam, LinearDecay } from '../engine/optim.js';
import { Tensor, assign, empty, fmtShape, tensor, tidy } from '../engine/tensor.js';
import { noGrad } from '../engine/tape.js';
import { add, l1, mulScalar, narrow, Generator } from '../engine/ops/index.js';
import { generateWith } from './lib/sample.js';
import { DISCRIMINATORS, GENERATORS, defineD, defineG, type NormName } from './lib/networks.js';
import { GAN_LOSSES, ganLoss, type GanMode } from './lib/losses.js';
import { ImagePool } from './lib/pool.js';
import { SampleInputs } from './lib/sample.js';
import { setGradients } from './lib/step.js';
import { scheduleFromSteps, validateImageToImage } from './pix2pix.js';
import { heldOutEmojiPairs, splitHeldOut, type TranslationEval } from './lib/translation.js';
import type { GanTrainer, ModelConfig, ModelRecipe, StepStats, TrainSettings } from './registry.js';

export interface CycleGanConfig {
  imageSize: number;
  inputNc: number;
  outputNc: number;
  netG: string;
  netD: string;
  nLayersD: number;
  ngf: number;
  ndf: number;
  norm: NormName;
  dropout: boolean;
  ganMode: GanMode;
  /** Cycle weights A -> B -> A and B -> A -> B. */
  lambdaA: number;
  lambdaB: number;
  /** Identity weight, relative to the cycle weights (0.5: effective weight 5). */
  lambdaIdentity: number;
  poolSize: number;
  lrHold: number;
  lrDecay: number;
}

export function cycleGanConfig(c: ModelConfig): CycleGanConfig {
  return {
    imageSize: Number(c.imageSize),
    inputNc: Number(c.inputNc ?? 3),
    outputNc: Number(c.outputNc ?? 3),
    netG: String(c.netG),
    netD: String(c.netD),
    nLayersD: Number(c.nLayersD ?? 3),
    ngf: Number(c.ngf),
    ndf: Number(c.ndf),
    norm: String(c.norm ?? 'instance') as NormName,
    dropout: c.dropout === true,
    ganMode: String(c.ganMode ?? 'lsgan') as GanMode,
    lambdaA: Number(c.lambdaA ?? 10),
    lambdaB: Number(c.lambdaB ?? 10),
    lambdaIdentity: Number(c.lambdaIdentity ?? 0.5),
    poolSize: Number(c.poolSize ?? 50),
    lrHold: Number(c.lrHold ?? 0),
    lrDecay: Number(c.lrDecay ?? 0),
  };
}

/**
 * Unpaired domains (e.g. loadEmojiUnpaired's a: nA images, b: nB images) as rows of one array:
 * max(nA, nB) rows, row i holding A image i mod nA and B image i mod nB, channels A then B.
 */
export function packUnpaired(a: Float32Array, nA: number, b: Float32Array, nB: number, c: number, h: number, w: number): Float32Array {
  const img = c * h * w;
  if (a.length !== nA * img || b.length !== nB * img || nA === 0 || nB === 0) {
    throw new Error(`packUnpaired: expected ${nA} and ${nB} (> 0) images of ${c}x${h}x${w}, got ${a.length} and ${b.length} values`);
  }
  const n = Math.max(nA, nB);
  const out = new Float32Array(n * 2 * img);
  for (let i = 0; i < n; i++) {
    const ia = i % nA;
    const ib = i % nB;
    out.set(a.subarray(ia * img, (ia + 1) * img), 2 * i * img);
    out.set(b.subarray(ib * img, (ib + 1) * img), (2 * i + 1) * img);
  }
  return out;
}

/**
 * An ImagePool as checkpoint state, so a resumed run draws its discriminators' fakes from the same
 * history as an uninterrupted one. A Module only as a carrier for the checkpoint format: its state
 * dict is the stored images, `images.0` ... `images.{k-1}` ([1, C, H, W] each, k = how many are
 * stored, which grows to poolSize), and the coin-flip state, `rng` (int32 [1]: the u32 state's
 * bits). Not a network: no parameters; `gan convert` and `gan sample` skip it (GanTrainer.trainingState).
 */
export class ImagePoolState extends Module {
  private readonly rngState: Tensor;

  constructor(readonly pool: ImagePool, readonly imageShape: readonly [number, number, number]) {
    super();
    this.rngState = tensor([0], [1], 'int32').keep();
  }

  override extraRepr(): string {
    return `pool_size=${this.pool.poolSize}, stored=${this.pool.size}, image=[1, ${this.imageShape.join(', ')}]`;
  }

  /** The live pool images plus `rng` (uploaded now, so read the dict before the next query()). */
  override stateDict(prefix = ''): Map<string, Tensor> {
    assign(this.rngState, [this.pool.getState().rng | 0]);
    const out = new Map<string, Tensor>();
    this.pool.stored.forEach((t, i) => out.set(`${prefix}images.${i}`, t));
    out.set(`${prefix}rng`, this.rngState);
    return out;
  }

  override validateStateDict(dict: StateDictLike, opts: { strict?: boolean } = {}): LoadStateDictResult & { problems: string[] } {
    const entries = new Map(stateEntries(dict));
    const problems: string[] = [];
    const unexpectedKeys = [...entries.keys()].filter((k) => k !== 'rng' && !/^images\.(0|[1-9]\d*)$/.test(k));
    const missingKeys: string[] = [];
    const rng = entries.get('rng');
    if (!rng) missingKeys.push('rng');
    else if (stateShape(rng).length !== 1 || stateShape(rng)[0] !== 1 || stateKind(rng) !== 'int32') {
      problems.push(`rng: expected an integer tensor of shape [1], got ${stateKind(rng)} ${fmtShape(stateShape(rng))}`);
    } else if (rng instanceof Tensor) problems.push('rng: a pool state loads from checkpoint data, not from a GPU tensor');
    const k = [...entries.keys()].filter((key) => key.startsWith('images.')).length;
    if (k > this.pool.poolSize) problems.push(`${k} pool images for a pool of ${this.pool.poolSize} (--pool-size differs from the checkpoint's?)`);
    const want = [1, ...this.imageShape];
    for (let i = 0; i < k; i++) {
      const v = entries.get(`images.${i}`);
      if (!v) missingKeys.push(`images.${i}`);
      else if (stateKind(v) !== 'float32' || stateShape(v).length !== 4 || stateShape(v).some((d, j) => d !== want[j])) {
        problems.push(`images.${i}: expected a float tensor ${fmtShape(want)}, got ${stateKind(v)} ${fmtShape(stateShape(v))}`);
      }
    }
    if (missingKeys.length) problems.push(`Missing key(s) in pool state: ${missingKeys.map((m) => `"${m}"`).join(', ')}.`);
    if ((opts.strict ?? true) && unexpectedKeys.length) problems.push(`Unexpected key(s) in pool state: ${unexpectedKeys.map((m) => `"${m}"`).join(', ')}.`);
    return { missingKeys, unexpectedKeys, problems };
  }

  override loadStateDict(dict: StateDictLike, opts: { strict?: boolean } = {}): LoadStateDictResult {
    const { missingKeys, unexpectedKeys, problems } = this.validateStateDict(dict, opts);
    if (problems.length) throw new Error(`Error(s) in loading the image pool state:\n\t${problems.join('\n\t')}`);
    const entries = new Map<string, StateValue>(stateEntries(dict));
    const k = [...entries.keys()].filter((key) => key.startsWith('images.')).length;
    const images: Tensor[] = [];
    for (let i = 0; i < k; i++) {
      const t = empty([1, ...this.imageShape], 'pool_image');
      copyStateInto(t, entries.get(`images.${i}`)!);
      images.push(t);
    }
    const rng = entries.get('rng')!;
    this.pool.load(images, { rng: Number((rng as { data: ArrayLike<number | bigint> }).data[0]) >>> 0 });
    return { missingKeys, unexpectedKeys };
  }

  override dispose(): void {
    this.rngState.dispose();
  }
}

export class CycleGanTrainer implements GanTrainer {
  readonly nets: { netG_A: Module; netG_B: Module; netD_A: Module; netD_B: Module };
  readonly optimizers: { netG_A: Adam; netG_B: Adam; netD_A: Adam; netD_B: Adam };
  readonly schedulers: LinearDecay[];
  readonly rng: Generator;
  readonly sampler = 'netG_A';
  readonly cfg: CycleGanConfig;
  /** Histories of generated images: fake B (for D_A) and fake A (for D_B). */
  readonly fakeBPool: ImagePool;
  readonly fakeAPool: ImagePool;
  /** The pools as checkpoint state (exact resume): fake B (D_A's history) and fake A (D_B's). */
  readonly trainingState: { pool_fake_B: ImagePoolState; pool_fake_A: ImagePoolState };
  readonly samples: SampleInputs;
  private readonly gan: (prediction: Tensor, real: boolean) => Tensor;

  constructor(readonly config: ModelConfig, settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2' | 'steps'>, seed: number) {
    const cfg = (this.cfg = cycleGanConfig(config));
    this.rng = new Generator(seed);
    const { inputNc: ncA, outputNc: ncB, ngf, ndf, norm } = cfg;
    const g = { ngf, norm, useDropout: cfg.dropout, rng: this.rng };
    const d = { ndf, norm, nLayers: cfg.nLayersD, rng: this.rng };
    this.nets = {
      netG_A: defineG(cfg.netG, { ...g, inputNc: ncA, outputNc: ncB }),
      netG_B: defineG(cfg.netG, { ...g, inputNc: ncB, outputNc: ncA }),
      netD_A: defineD(cfg.netD, { ...d, inputNc: ncB }),
      netD_B: defineD(cfg.netD, { ...d, inputNc: ncA }),
    };
    const opts = { lr: settings.lr, betas: [settings.beta1, settings.beta2] as [number, number] };
    const n = this.nets;
    this.optimizers = { netG_A: new Adam(n.netG_A, opts), netG_B: new Adam(n.netG_B, opts), netD_A: new Adam(n.netD_A, opts), netD_B: new Adam(n.netD_B, opts) };
    const hold = cfg.lrHold || Math.ceil(settings.steps / 2);
    const decay = cfg.lrDecay || Math.max(settings.steps - hold, 0);
    this.schedulers = Object.values(this.optimizers).map((o) => new LinearDecay(o, { nEpochs: hold, nEpochsDecay: decay }));
    this.gan = ganLoss(cfg.ganMode);
    this.fakeBPool = new ImagePool(cfg.poolSize, seed ^ 0x5eed_b);
    this.fakeAPool = new ImagePool(cfg.poolSize, seed ^ 0x5eed_a);
    this.trainingState = {
      pool_fake_B: new ImagePoolState(this.fakeBPool, [ncB, cfg.imageSize, cfg.imageSize]),
      pool_fake_A: new ImagePoolState(this.fakeAPool, [ncA, cfg.imageSize, cfg.imageSize]),
    };
    this.samples = new SampleInputs([ncA, cfg.imageSize, cfg.imageSize]);
  }

  /** Splits a packed batch [N, ncA + ncB, H, W] into its A and B images. */
  split(batch: Tensor): { realA: Tensor; realB: Tensor } {
    const { inputNc, outputNc } = this.cfg;
    return { realA: narrow(batch, 1, 0, inputNc), realB: narrow(batch, 1, inputNc, outputNc) };
  }

  step(batch: Tensor, withStats: boolean): StepStats | null {
    const { netG_A, netG_B, netD_A, netD_B } = this.nets;
    const { lambdaA, lambdaB, lambdaIdentity } = this.cfg;
    for (const s of this.schedulers) scheduleFromSteps(s);
    return tidy(() => {
      const { realA, realB } = this.split(batch);
      this.samples.offer(realA);
      const fakeB = netG_A.call(realA) as Tensor;
      const recA = netG_B.call(fakeB) as Tensor;
      const fakeA = netG_B.call(realB) as Tensor;
      const recB = netG_A.call(fakeA) as Tensor;

      // (1) Both generators, with the discriminators held constant.
      const lossGA = this.gan(netD_A.call(fakeB) as Tensor, true);
      const lossGB = this.gan(netD_B.call(fakeA) as Tensor, true);
      const lossCycleA = mulScalar(l1(recA, realA), lambdaA);
      const lossCycleB = mulScalar(l1(recB, realB), lambdaB);
      let lossG = add(add(lossGA, lossGB), add(lossCycleA, lossCycleB));
      let lossIdtA: Tensor | null = null;
      let lossIdtB: Tensor | null = null;
      if (lambdaIdentity > 0) {
        // G_A should leave a B image alone, and G_B an A image.
        lossIdtA = mulScalar(l1(netG_A.call(realB) as Tensor, realB), lambdaB * lambdaIdentity);
        lossIdtB = mulScalar(l1(netG_B.call(realA) as Tensor, realA), lambdaA * lambdaIdentity);
        lossG = add(lossG, add(lossIdtA, lossIdtB));
      }
      setGradients(lossG, [netG_A, netG_B]);
      this.optimizers.netG_A.step();
      this.optimizers.netG_B.step();

      // (2) Both discriminators, on real images and on images from the histories (detached).
      const basic = (netD: Module, real: Tensor, fake: Tensor) => {
        const lossReal = this.gan(netD.call(real) as Tensor, true);
        const lossFake = this.gan(netD.call(fake) as Tensor, false);
        return mulScalar(add(lossReal, lossFake), 0.5);
      };
      const lossDA = basic(netD_A, realB, this.fakeBPool.query(fakeB));
      const lossDB = basic(netD_B, realA, this.fakeAPool.query(fakeA));
      setGradients(lossDA, [netD_A]);
      setGradients(lossDB, [netD_B]);
      this.optimizers.netD_A.step();
      this.optimizers.netD_B.step();

      if (!withStats) return null;
      return noGrad(() => ({
        loss_D_A: lossDA.detach(),
        loss_G_A: lossGA.detach(),
        loss_cycle_A: lossCycleA.detach(),
        ...(lossIdtA ? { loss_idt_A: lossIdtA.detach() } : {}),
        loss_D_B: lossDB.detach(),
        loss_G_B: lossGB.detach(),
        loss_cycle_B: lossCycleB.detach(),
        ...(lossIdtB ? { loss_idt_B: lossIdtB.detach() } : {}),
      }));
    });
  }

  /** The fixed sample inputs (A images; see SampleInputs): the first training batch's unless set. */
  noise(n: number, _generator?: Generator): Tensor {
    return this.samples.take(n);
  }

  /**
   * G_A(A) (or G_B(B) with `direction: 'BtoA'`) without gradients. Instance norm uses each image's
   * own statistics either way; batchStats (default true) matters only for --norm batch.
   */
  generate(x: Tensor, opts: { direction?: 'AtoB' | 'BtoA'; batchStats?: boolean } = {}): Tensor {
    const net = opts.direction === 'BtoA' ? this.nets.netG_B : this.nets.netG_A;
    return generateWith(net, x, opts.batchStats ?? true);
  }

  /** Mean |G_A(A) - B| over a packed batch of aligned held-out pairs (eval mode), as a scalar tensor. */
  evalL1(batch: Tensor): Tensor {
    return tidy(() => {
      const { realA, realB } = this.split(batch);
      const fake = this.generate(realA, { batchStats: false });
      return noGrad(() => l1(fake, realB));
    });
  }

  dispose(): void {
    for (const o of Object.values(this.optimizers)) o.dispose();
    for (const n of Object.values(this.nets)) n.dispose();
    this.fakeAPool.dispose();
    this.fakeBPool.dispose();
    for (const s of Object.values(this.trainingState)) s.dispose();
    this.samples.dispose();
  }
}

export const cycleganRecipe: ModelRecipe & TranslationEval = {
  name: 'cyclegan',
  description: 'CycleGAN (Zhu et al. 2017): two ResNet Gs, two PatchGAN Ds, LSGAN + cycle + identity; unpaired A <-> B',
  reference: 'arXiv:1703.10593; github.com/junyanz/pytorch-CycleGAN-and-pix2pix',
  options: {
    imageSize: { type: 'int', default: 64, help: 'image side (the emoji are 64 px; the paper uses 256)', metavar: 'N' },
    netG: { type: 'string', default: 'resnet_6blocks', choices: Object.keys(GENERATORS), help: 'generator (resnet_9blocks at 256 px, resnet_6blocks at 128 px in the paper)' },
    netD: { type: 'string', default: 'basic', choices: Object.keys(DISCRIMINATORS), help: 'discriminator: basic = 70x70 PatchGAN' },
    nLayersD: { type: 'int', default: 3, help: 'stride-2 layers of D when --net-d n_layers', metavar: 'N' },
    ngf: { type: 'int', default: 64, help: 'generator width', metavar: 'N' },
    ndf: { type: 'int', default: 64, help: 'discriminator width', metavar: 'N' },
    norm: { type: 'string', default: 'instance', choices: ['batch', 'instance', 'none'], help: 'normalisation layers' },
    dropout: { type: 'boolean', default: false, help: 'dropout 0.5 in the residual blocks (off in the paper)' },
    ganMode: { type: 'string', default: 'lsgan', choices: Object.keys(GAN_LOSSES), help: 'GAN loss: lsgan (MSE, the paper) or vanilla (BCE with logits)' },
    lambdaA: { type: 'number', default: 10, help: 'weight of the cycle loss A -> B -> A', metavar: 'X' },
    lambdaB: { type: 'number', default: 10, help: 'weight of the cycle loss B -> A -> B', metavar: 'X' },
    lambdaIdentity: { type: 'number', default: 0.5, help: 'identity loss weight relative to the cycle weights (0 to turn off)', metavar: 'X' },
    poolSize: { type: 'int', default: 50, help: 'generated images kept for the discriminators (0: none)', metavar: 'N' },
    lrHold: { type: 'int', default: 0, help: 'steps at the base learning rate (0: half the run)', metavar: 'N' },
    lrDecay: { type: 'int', default: 0, help: 'steps of linear decay to zero after that (0: the rest of the run)', metavar: 'N' },
  },
  train: {
    steps: 4000,
    batch: 2,
    lr: 2e-4,
    beta1: 0.5,
    beta2: 0.999,
    sampleEvery: 500,
    ckptEvery: 1000,
    logEvery: 50,
    dataset: 'emoji-unpaired',
  },
  // Minutes on a software adapter, where the cost is per dispatch: 32 px, 3 residual blocks 8 wide.
  quick: { steps: 150, batch: 2, imageSize: 32, netG: 'resnet_3blocks', ngf: 8, ndf: 8, sampleEvery: 50, ckptEvery: 50, logEvery: 10 },
  paper: {
    values: { steps: 321400, batch: 1, imageSize: 256, netG: 'resnet_9blocks', lrHold: 160700, lrDecay: 160700 },
    sources: {
      steps: 'paper Sec. 4 / Appendix 7.1: 100 epochs at 0.0002 then 100 of linear decay; 200 x the 1607 emoji-unpaired rows at batch 1',
      batch: 'Appendix 7.1: batch 1',
      lr: 'Appendix 7.1: Adam 0.0002, beta1 0.5',
      imageSize: 'paper: 256x256 (the 64 px emoji upsampled here)',
      netG: 'Appendix 7.2: 9 residual blocks for 256x256 training images',
      ngf: 'Appendix 7.2: c7s1-64 first layer',
      ndf: 'Appendix 7.2: 70x70 PatchGAN, C64-C128-C256-C512',
      lambdaA: 'paper Sec. 4: lambda = 10',
      lambdaB: 'paper Sec. 4: lambda = 10',
      lambdaIdentity: 'paper Sec. 5.2 / reference lambda_identity 0.5 (0.5 lambda; the paper uses it for painting <-> photo)',
      poolSize: 'paper Sec. 4: a history of 50 generated images',
      ganMode: 'paper Sec. 4: least-squares loss',
      lrHold: 'Appendix 7.1: 100 epochs at the base rate',
      lrDecay: 'Appendix 7.1: 100 epochs of linear decay to 0',
    },
    note: 'The paper\'s unpaired sets (horse <-> zebra, monet <-> photo, maps...) are not here: --paper trains on the unpaired Noto / Twemoji emoji halves, drawn at 64 px and upsampled to 256. The reference\'s jitter (load 286, crop 256) and flips are not applied.',
  },
  imageShape: (c) => ({ channels: Number(c.inputNc ?? 3) + Number(c.outputNc ?? 3), size: Number(c.imageSize) }),
  validate(c) {
    const errs = validateImageToImage(c, [String(c.netD)]);
    for (const key of ['lambdaA', 'lambdaB', 'lambdaIdentity'] as const) {
      const v = Number(c[key] ?? 0);
      if (!(v >= 0)) errs.push(`--${key.replace(/[A-Z]/g, (m) => '-' + m.toLowerCase())} must be a non-negative number, got ${c[key]}`);
    }
    const pool = Number(c.poolSize ?? 50);
    if (!Number.isInteger(pool) || pool < 0) errs.push(`--pool-size must be a non-negative integer, got ${c.poolSize}`);
    return errs;
  },
  create: (config, settings, seed) => new CycleGanTrainer(config, settings, seed),
  bothWays: () => true,
  // Scored as A -> B (G_A) against the held-out partners: the unpaired training set never shows
  // them together, so they are ground truth the original CycleGAN datasets did not have.
  async heldOutPairs(config, { limit, dataset }) {
    const cfg = cycleGanConfig(config);
    const p = await heldOutEmojiPairs({ dataset: dataset ?? cycleganRecipe.train.dataset, size: cfg.imageSize, limit });
    if (p.channelsA !== cfg.inputNc || p.channelsB !== cfg.outputNc) {
      throw new Error(`cyclegan: held-out pairs of '${dataset}' have ${p.channelsA} -> ${p.channelsB} channels, the model ${cfg.inputNc} -> ${cfg.outputNc}`);
    }
    return splitHeldOut(p);
  },
  translate(trainer, x) {
    if (!(trainer instanceof CycleGanTrainer)) throw new Error('cyclegan.translate: not a CycleGanTrainer');
    return trainer.generate(x, { batchStats: false });
  },
};
