// StackGAN++: Zhang, Xu, Li, Zhang, Wang, Huang & Metaxas, "StackGAN++: Realistic Image Synthesis
// with Stacked Generative Adversarial Networks" (TPAMI 2018); reference hanzhanggit/StackGAN-v2.
// It builds on StackGAN (nets/stackgan.ts, the same authors): the conditioning augmentation, up and
// residual blocks and the conditional logit are the shared modules of nets/lib/text_conditioning.ts,
// the text encoder is nets/lib/text_encoder.ts.
//
// A tree of generators trained jointly. h_0 = F_0([z | c]) (FC + up blocks to the base size),
// h_i = F_i([h_{i-1} | c replicated]) (joint conv, residual blocks, one up block),
// image_i = tanh(conv3(h_i)), one discriminator per scale with an unconditional logit and (when
// conditional) a conditional one. The conditioning augmentation is a plain Linear (StackGAN-v2 uses
// a GLU over a twice-as-wide Linear); lambda_KL = 2 (StackGAN-v2's miscc/config.py default, which
// its birds config keeps). Per branch, as in the reference's condGANTrainer:
//   L_D_i = [cond(x, phi) -> 1 + uncond(x) -> 1] + [cond(x, phi_wrong) -> 0 + uncond(x) -> 1]
//         + [cond(s_i, phi) -> 0 + uncond(s_i) -> 0]
//   L_G   = sum_i [cond(s_i, phi) -> 1 + uncond(s_i) -> 1] + lambda_KL KL + alpha sum_{i>0} L_C_i
// with the colour-consistency regulariser between consecutive scales (coarser image detached):
//   L_C_i = lambda_1 mean (mu_i - mu_{i-1})^2 + lambda_2 mean (Sigma_i - Sigma_{i-1})^2,
//   mu = pixel mean per image and channel, Sigma = (1/P) sum_k (x_k - mu)(x_k - mu)^T per image,
// lambda_1 = 1, lambda_2 = 5, alpha = 50 (the paper's weights) in unconditional runs only: the
// reference (StackGAN-v2 trainer.py) applies COLOR_LOSS, which its unconditional configs set to 50
// and its text-conditioned birds config leaves at 0 (`colorWeightCond`, default 0, sets it there).
// Differences from the reference kept: D's conditional logit sees the text embedding phi compressed
// by Linear + LeakyReLU (the reference: the CA mean mu, replicated without compression, detached in
// D's step only), the wrong pair is (real image, mismatched caption) (the reference: another image
// with the matching text), and each branch's real image is area-averaged from the finest (the
// reference: the loader's resized copy). Without text (`conditional: false`) c is replaced by z, as
// in the paper's unconditional StackGAN++, and the model trains on whatever images the loop gives it.
//
// Text data (conditional runs): bind the captioned images (data/text.ts CaptionedData: emoji-text)
// with bindData() before training; each step then draws its batch from the bound data/text.ts
// TextSampler's set with the trainer's own stream (so a checkpoint resumes the batches; drawn and
// gathered on the GPU, nets/lib/text_batches.ts, so the step replays) and uses only the
// batch size of the images step() receives. The first `textSteps` steps pretrain the text encoder
// (TextPretrainer), which is frozen afterwards.
//
// Latent codes (noise / generate): [z | eps | caption bag of words] when conditional, z otherwise;
// noise() fills the caption part from the bound data (8 samples per caption), or zeros.
//
// Browser-safe: no Node imports.

import { Generator, type Tensor, noGrad, tidy, init, nn, ops, optim } from '../engine/index.js';
import { captionRows, captionRowsOf, TextSampler, type CaptionedData } from '../data/text.js';
import { defaultInit_ } from './lib/networks.js';
import { minimize } from './lib/step.js';
import { TextBatches } from './lib/text_batches.js';
import { generateWith } from './lib/sample.js';
import { bool, defineModel, int, num, parseConfig, type ConfigOf } from './lib/model.js';
import { BowTextEncoder, TextPretrainHeads, TextPretrainer } from './lib/text_encoder.js';
import {
  ConditionalLogit,
  ConditioningAugmentation,
  Forward,
  ResBlock,
  caKl,
  downToFour,
  flattenImages,
  replicate,
  splitImages,
  textCodes,
  textParams,
  upBlock,
} from './lib/text_conditioning.js';
import type { GanTrainer, ModelConfig, StepStats, TrainSettings } from './registry.js';

const { add, avgPool2d, bceWithLogits, concat, matmul, mean, mulScalar, narrow, randn, reshape, sigmoid, square, sub } = ops;

/** StackGAN++'s hyper-parameters: the flags of `gan train stackganpp`, their defaults and bounds. */
const params = {
  baseSize: int(16, "first branch's image side (64 in the paper, for 256 px images); branch i is baseSize * 2^i"),
  branches: int(3, 'branches of the tree (3 in the paper: 64, 128, 256)', { min: 1, max: 4 }),
  nz: int(100, 'noise length', { min: 1, max: 8192 }),
  conditional: bool(false, 'condition on captions (needs a text data set bound: emoji text); off: unconditional, z joins every branch'),
  ...textParams,
  ngf: int(64, 'channels of h_0 at the base size (halved by each later branch)', { min: 1, max: 8192 }),
  ndf: int(64, 'discriminator width', { min: 1, max: 8192 }),
  resBlocks: int(2, 'residual blocks per branch (R_NUM 2 in the reference)', { min: 0, max: 1e9 }),
  colorWeight: num(50, 'alpha of the colour-consistency regulariser (50 in the paper; 0: off)', { min: 0 }),
  colorWeightCond: num(
    0,
    "alpha of the colour-consistency regulariser in conditional runs (0: off, as the reference's text-conditioned configs; --color-weight applies to unconditional runs)",
    { min: 0 },
  ),
  colorMu: num(1, 'lambda_1: weight of the pixel-mean term', { min: 0 }),
  colorCov: num(5, 'lambda_2: weight of the pixel-covariance term', { min: 0 }),
  uncondWeight: num(1, 'weight of the unconditional terms when conditional (UNCOND_LOSS)', { min: 0 }),
  nc: int(3, 'image channels, from the training data', { fromData: true }),
};

/** A StackGAN++'s hyper-parameters, typed. */
export type StackganppConfig = ConfigOf<typeof params>;

/** Image side of branch i. */
export const branchSize = (cfg: Pick<StackganppConfig, 'baseSize'>, i: number) => cfg.baseSize << i;

// ---- networks ---------------------------------------------------------------------------------------------

/** F_i for i > 0: [h_{i-1} | c replicated] -> conv3, BN, ReLU -> residual blocks -> up block (halves the channels). */
export class NextStage extends nn.Module {
  joint: nn.Sequential;
  residual: nn.Sequential;
  up: nn.Sequential;
  constructor(ch: number, condDim: number, resBlocks: number) {
    super();
    this.joint = new nn.Sequential(new nn.Conv2d(ch + condDim, ch, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(ch), new nn.ReLU());
    this.residual = new nn.Sequential(...Array.from({ length: resBlocks }, () => new ResBlock(ch)));
    this.up = upBlock(ch, Math.max(4, ch >> 1));
  }
  override forward(h: Tensor, cond: Tensor): Tensor {
    const [, , hh, hw] = h.shape;
    return this.up.call(this.residual.call(this.joint.call(concat([h, replicate(cond, hh, hw)], 1))));
  }
}

export class StackganppGenerator extends nn.Module {
  text: BowTextEncoder | null;
  ca: ConditioningAugmentation | null;
  fc: nn.Sequential;
  base: nn.Sequential;
  branches: nn.ModuleList;
  images: nn.ModuleList;
  private readonly ch0: number;

  constructor(readonly cfg: StackganppConfig) {
    super();
    const { nz, cDim, nc } = cfg;
    this.text = cfg.conditional ? new BowTextEncoder({ buckets: cfg.buckets, hidden: cfg.textHidden, embedDim: cfg.embedDim }) : null;
    this.ca = cfg.conditional ? new ConditioningAugmentation(cfg.embedDim, cDim) : null;
    const ups = Math.log2(cfg.baseSize / 4);
    this.ch0 = cfg.ngf << ups;
    const inDim = nz + (cfg.conditional ? cDim : 0);
    this.fc = new nn.Sequential(new nn.Linear(inDim, this.ch0 * 16, { bias: false }), new nn.BatchNorm1d(this.ch0 * 16), new nn.ReLU());
    const blocks: nn.Module[] = [];
    let ch = this.ch0;
    for (let i = 0; i < ups; i++) {
      blocks.push(upBlock(ch, ch >> 1));
      ch >>= 1;
    }
    this.base = new nn.Sequential(...blocks);
    const condDim = cfg.conditional ? cDim : nz;
    const next: nn.Module[] = [];
    const heads: nn.Module[] = [new nn.Sequential(new nn.Conv2d(ch, nc, 3, { padding: 1 }), new nn.Tanh())];
    for (let i = 1; i < cfg.branches; i++) {
      next.push(new NextStage(ch, condDim, cfg.resBlocks));
      ch = Math.max(4, ch >> 1);
      heads.push(new nn.Sequential(new nn.Conv2d(ch, nc, 3, { padding: 1 }), new nn.Tanh()));
    }
    this.branches = new nn.ModuleList(next);
    this.images = new nn.ModuleList(heads);
  }

  get codeDim(): number {
    const { nz, cDim, buckets, conditional } = this.cfg;
    return conditional ? nz + cDim + buckets : nz;
  }

  /** Images of every branch, coarsest first, and the CA statistics (null when unconditional). */
  branchImages(code: Tensor): { images: Tensor[]; mu: Tensor | null; logvar: Tensor | null } {
    const { nz, cDim, buckets } = this.cfg;
    if (code.rank !== 2 || code.shape[1] !== this.codeDim)
      throw new Error(`StackganppGenerator: codes must be [N, ${this.codeDim}], got [${code.shape.join(', ')}]`);
    const z = narrow(code, 1, 0, nz);
    let cond = z;
    let mu: Tensor | null = null;
    let logvar: Tensor | null = null;
    let fcIn = z;
    if (this.text && this.ca) {
      const phi = this.text.call(narrow(code, 1, nz + cDim, buckets));
      const ca = this.ca.call(phi, narrow(code, 1, nz, cDim));
      ({ mu, logvar } = ca);
      cond = ca.c;
      fcIn = concat([z, ca.c], 1);
    }
    let h = this.base.call(reshape(this.fc.call(fcIn), [code.shape[0], this.ch0, 4, 4]));
    const images = [(this.images.at(0) as nn.Sequential).call(h)];
    for (let i = 1; i < this.cfg.branches; i++) {
      h = (this.branches.at(i - 1) as NextStage).call(h, cond);
      images.push((this.images.at(i) as nn.Sequential).call(h));
    }
    return { images, mu, logvar };
  }

  /** The finest branch's image. */
  override forward(code: Tensor): Tensor {
    const { images } = this.branchImages(code);
    return images[images.length - 1];
  }
}

/** D_i: downToFour, an unconditional logit and (when conditional) a conditional one. */
export class BranchDiscriminator extends nn.Module {
  features: nn.Sequential;
  uncond: nn.Conv2d;
  cond: ConditionalLogit | null;
  constructor(nc: number, size: number, ndf: number, cond: { embedDim: number; nd: number } | null) {
    super();
    const { net, channels } = downToFour(nc, size, ndf);
    this.features = net;
    this.uncond = new nn.Conv2d(channels, 1, 4, { stride: 4 });
    this.cond = cond ? new ConditionalLogit(channels, cond.embedDim, cond.nd) : null;
  }
  /** Features [N, C, 4, 4] (run once, then ask for either logit). */
  override forward(x: Tensor): Tensor {
    return this.features.call(x);
  }
  uncondLogit(f: Tensor): Tensor {
    return reshape(this.uncond.call(f), [-1]);
  }
  condLogit(f: Tensor, phi: Tensor): Tensor {
    if (!this.cond) throw new Error('BranchDiscriminator: no conditional head (unconditional model)');
    return this.cond.call(f, phi);
  }
}

export class StackganppDiscriminator extends nn.Module {
  branches: nn.ModuleList;
  constructor(cfg: StackganppConfig) {
    super();
    const cond = cfg.conditional ? { embedDim: cfg.embedDim, nd: cfg.nd } : null;
    this.branches = new nn.ModuleList(
      Array.from({ length: cfg.branches }, (_, i) => new BranchDiscriminator(cfg.nc, branchSize(cfg, i), cfg.ndf, cond)),
    );
  }
  at(i: number): BranchDiscriminator {
    return this.branches.at(i) as BranchDiscriminator;
  }
}

// ---- colour consistency -------------------------------------------------------------------------------------

/** Per-image pixel mean [N, C] and covariance (1/P) sum (x - mu)(x - mu)^T [N, C, C]. */
export function colorMoments(img: Tensor): { mu: Tensor; cov: Tensor } {
  const [n, c, h, w] = img.shape;
  const mu = mean(img, [2, 3]);
  const centred = reshape(sub(img, reshape(mu, [n, c, 1, 1])), [n, c, h * w]);
  const cov = mulScalar(matmul(centred, centred, { transB: true }), 1 / (h * w));
  return { mu, cov };
}

/** lambda_1 mean (mu_f - mu_c)^2 + lambda_2 mean (Sigma_f - Sigma_c)^2; pass the coarser image detached. */
export function colorConsistency(fine: Tensor, coarse: Tensor, lambda1 = 1, lambda2 = 5): Tensor {
  const f = colorMoments(fine);
  const c = colorMoments(coarse);
  return add(mulScalar(mean(square(sub(f.mu, c.mu))), lambda1), mulScalar(mean(square(sub(f.cov, c.cov))), lambda2));
}

// ---- the training step ---------------------------------------------------------------------------------------

export class StackganppTrainer implements GanTrainer {
  readonly nets: Record<string, nn.Module> & { netG: StackganppGenerator; netD: StackganppDiscriminator };
  readonly optimizers: Record<string, optim.Adam> & { netG: optim.Adam; netD: optim.Adam };
  readonly rng: Generator;
  readonly sampler = 'netG';
  readonly cfg: StackganppConfig;
  readonly pretrainer: TextPretrainer | null;
  private data: TextSampler | null = null;
  /** Conditional runs' batches: drawn and gathered on the GPU when the bound set fits there (nets/lib/text_batches.ts). */
  private batches: TextBatches | null = null;

  /** `config`: any subset of the hyper-parameters (the rest take their declared defaults). */
  constructor(
    readonly config: ModelConfig,
    settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2'>,
    seed: number,
  ) {
    // A URL parameter may give conditional as the string 'true'.
    this.cfg = { ...parseConfig(params, config), conditional: config.conditional === true || config.conditional === 'true' };
    this.rng = new Generator(seed);
    const netG = new StackganppGenerator(this.cfg);
    const netD = new StackganppDiscriminator(this.cfg);
    const final = branchSize(this.cfg, this.cfg.branches - 1);
    const netT = this.cfg.conditional ? new TextPretrainHeads(this.cfg.nc, final, this.cfg.imageWidth, this.cfg.embedDim, 10) : null;
    // DCGAN init for the image networks, PyTorch's default for the text encoder (see StackganTrainer).
    init.dcganInit_([...netG.modules().filter((m) => !(netG.text && netG.text.modules().includes(m))), ...netD.modules()], this.rng);
    if (netG.text) defaultInit_(netG.text, this.rng);
    if (netT) defaultInit_(netT, this.rng);
    const opt = { lr: settings.lr, betas: [settings.beta1, settings.beta2] as [number, number] };
    // The text encoder is trained by the pretrainer only; netG's Adam covers the image path.
    const imagePath = netG.namedParameters().filter(([k]) => !k.startsWith('text.'));
    this.nets = netT ? { netG, netD, netT } : { netG, netD };
    this.pretrainer = netT && netG.text ? new TextPretrainer(netG.text, netT) : null;
    this.optimizers = {
      netG: new optim.Adam(imagePath, opt),
      netD: new optim.Adam(netD, opt),
      ...(this.pretrainer ? { netT: this.pretrainer.optimizer } : {}),
    };
  }

  /**
   * Conditional models: binds the captioned images (finest branch size) the batches are drawn from.
   * The unconditional model trains on the loop's images and ignores the call (so `gan train` can
   * bind whatever it loaded).
   */
  bindData(data: CaptionedData): void {
    if (!this.cfg.conditional) return;
    this.data = new TextSampler('stackganpp --conditional', data, this.cfg.buckets, {
      channels: this.cfg.nc,
      size: branchSize(this.cfg, this.cfg.branches - 1),
    });
    this.batches?.dispose();
    this.batches = new TextBatches(this.data);
  }

  get phase(): 'text' | 'gan' {
    return this.pretrainer && this.pretrainer.optimizer.stepCount(0) < this.cfg.textSteps ? 'text' : 'gan';
  }

  noise(n: number, generator: Generator): Tensor {
    const { nz, cDim, buckets, conditional } = this.cfg;
    if (!conditional) return randn([n, nz], { generator });
    return textCodes(n, nz + cDim, captionRows(this.data, n, buckets, generator), buckets, generator);
  }

  /** Conditional models: codes for explicit captions (token lists), one per caption. */
  codesForText(captions: readonly (readonly string[])[], generator: Generator): Tensor {
    const { nz, cDim, buckets, conditional } = this.cfg;
    if (!conditional) throw new Error('stackganpp: codesForText() needs the conditional model');
    return textCodes(captions.length, nz + cDim, captionRowsOf(captions, buckets), buckets, generator);
  }

  /**
   * Replay: the unconditional model's step has no host side. A conditional step's batch (images,
   * captions, mismatched captions, categories) is drawn and gathered on the GPU
   * (nets/lib/text_batches.ts: the host sampler's draw and rows, bit for bit), so it replays too; the
   * key is the phase (text pretraining, GAN). A bound set too large for the GPU copy is gathered on
   * the host and steps eagerly.
   */
  readonly replay = {
    key: () => (!this.cfg.conditional ? 'gan' : this.batches?.replayable ? `phase=${this.phase}` : null),
    why: () =>
      this.batches
        ? `stackganpp: ${this.batches.why}, so it steps eagerly`
        : 'stackganpp --conditional: no captions bound yet (bindData), so it steps eagerly',
  };

  step(real: Tensor, withStats: boolean): StepStats | null {
    const { cfg } = this;
    if (!cfg.conditional) return tidy(() => this.ganStep(real, null, withStats));
    if (!this.data || !this.batches)
      throw new Error(
        'stackganpp --conditional: no captions bound; call trainer.bindData(loadEmojiText(...)) first, or train without --conditional',
      );
    const n = real.shape[0];
    const batches = this.batches;
    const phase = this.phase;
    return tidy(() => {
      const b = batches.batch(n, this.rng);
      if (phase === 'text') return this.pretrainer!.step(b.bow, b.images, b.categories, withStats);
      return this.ganStep(b.images, b, withStats);
    });
  }

  /** Frees the networks, optimizers and the bound set's GPU copy. */
  dispose(): void {
    for (const o of Object.values(this.optimizers)) o.dispose();
    for (const net of Object.values(this.nets)) net.dispose();
    this.batches?.dispose();
    this.batches = null;
  }

  /** One joint step of every branch's D, then G on the sum of the branch losses + KL + colour consistency. */
  private ganStep(real: Tensor, text: { bow: Tensor; bowWrong: Tensor } | null, withStats: boolean): StepStats | null {
    const { netG, netD } = this.nets;
    const { cfg } = this;
    const n = real.shape[0];
    const finest = branchSize(cfg, cfg.branches - 1);
    if (real.shape[2] !== finest) throw new Error(`stackganpp: expects ${finest}x${finest} images, got [${real.shape.join(', ')}]`);
    let code: Tensor;
    let phi: Tensor | null = null;
    let phiWrong: Tensor | null = null;
    if (text && netG.text) {
      [phi, phiWrong] = noGrad(() => [netG.text!.call(text.bow), netG.text!.call(text.bowWrong)]);
      code = concat([randn([n, cfg.nz + cfg.cDim], { generator: this.rng }), text.bow], 1);
    } else {
      code = randn([n, cfg.nz], { generator: this.rng });
    }
    const { images: fakes, mu, logvar } = netG.branchImages(code);
    // Real images at every branch's scale: area-averaged from the finest.
    const reals = fakes.map((_, i) => (i === cfg.branches - 1 ? real : avgPool2d(real, finest / branchSize(cfg, i))));
    const uw = cfg.uncondWeight;

    const lossesD: Tensor[] = [];
    const realProbs: Tensor[] = [];
    const fakeProbs: Tensor[] = [];
    reals.forEach((x, i) => {
      const D = netD.at(i);
      const fr = D.call(x);
      const ff = D.call(fakes[i].detach());
      const ur = D.uncondLogit(fr);
      const uf = D.uncondLogit(ff);
      realProbs.push(sigmoid(ur.detach()));
      fakeProbs.push(sigmoid(uf.detach()));
      let l: Tensor;
      if (phi && phiWrong) {
        const uReal = mulScalar(bceWithLogits(ur, 1), uw);
        l = add(add(bceWithLogits(D.condLogit(fr, phi), 1), uReal), add(bceWithLogits(D.condLogit(fr, phiWrong), 0), uReal));
        l = add(l, add(bceWithLogits(D.condLogit(ff, phi), 0), mulScalar(bceWithLogits(uf, 0), uw)));
      } else {
        l = add(bceWithLogits(ur, 1), bceWithLogits(uf, 0));
      }
      lossesD.push(l);
    });
    const lossD = lossesD.reduce((a, b) => add(a, b));
    minimize(lossD, this.optimizers.netD);

    let adv: Tensor | null = null;
    fakes.forEach((s, i) => {
      const D = netD.at(i);
      const f = D.call(s);
      const l = phi
        ? add(bceWithLogits(D.condLogit(f, phi), 1), mulScalar(bceWithLogits(D.uncondLogit(f), 1), uw))
        : bceWithLogits(D.uncondLogit(f), 1);
      adv = adv ? add(adv, l) : l;
    });
    let lossG = adv!;
    let kl: Tensor | null = null;
    if (mu && logvar) {
      kl = caKl(mu, logvar);
      lossG = add(lossG, mulScalar(kl, cfg.klWeight));
    }
    // The reference's COLOR_LOSS: 50 in its unconditional configs, 0 (off) in its text-conditioned ones.
    const colorWeight = cfg.conditional ? cfg.colorWeightCond : cfg.colorWeight;
    let color: Tensor | null = null;
    if (colorWeight > 0) {
      for (let i = 1; i < cfg.branches; i++) {
        const term = colorConsistency(fakes[i], fakes[i - 1].detach(), cfg.colorMu, cfg.colorCov);
        color = color ? add(color, term) : term;
      }
      if (color) lossG = add(lossG, mulScalar(color, colorWeight));
    }
    minimize(lossG, this.optimizers.netG);

    if (!withStats) return null;
    return noGrad(() => {
      const stats: StepStats = {
        lossD: lossD.detach(),
        lossG: lossG.detach(),
        D_x: mean(concat(realProbs, 0)),
        D_G_z: mean(concat(fakeProbs, 0)),
      };
      lossesD.forEach((l, i) => (stats[`lossD_${i}`] = l.detach()));
      if (kl) stats.KL = kl.detach();
      if (color) stats.color = color.detach();
      return stats;
    });
  }

  generate(z: Tensor, opts: { batchStats?: boolean } = {}): Tensor {
    return generateWith(this.nets.netG, z, opts.batchStats ?? true);
  }

  /** Every branch's images for codes, coarsest first. */
  generateBranches(z: Tensor, opts: { batchStats?: boolean } = {}): Tensor[] {
    const netG = this.nets.netG;
    const sizes = Array.from({ length: this.cfg.branches }, (_, i) => branchSize(this.cfg, i));
    return tidy(() =>
      splitImages(
        generateWith(new Forward(netG, (code) => flattenImages(netG.branchImages(code).images)), z, opts.batchStats ?? true),
        this.cfg.nc,
        sizes,
      ),
    );
  }
}

// ---- the declaration --------------------------------------------------------------------------------------

const isPow2 = (v: number) => Number.isInteger(v) && v >= 1 && (v & (v - 1)) === 0;

export const stackganppRecipe = defineModel(
  {
    name: 'stackganpp',
    description:
      'StackGAN++ (Zhang et al. 2018): a tree of generators at 3 scales trained jointly, colour consistency; unconditional or text-conditioned',
    paper: {
      label: 'StackGAN++',
      title: 'StackGAN++: Realistic Image Synthesis with Stacked Generative Adversarial Networks',
      authors: 'Han Zhang, Tao Xu, Hongsheng Li, Shaoting Zhang, Xiaogang Wang, Xiaolei Huang, Dimitris Metaxas',
      year: 2017,
      arxiv: '1710.10916',
      code: 'github.com/hanzhanggit/StackGAN-v2',
      summary: 'A tree of generators and discriminators at several scales trained jointly, with a colour-consistency regulariser.',
    },
    params,
    train: {
      steps: 8000,
      batch: 24,
      lr: 2e-4,
      beta1: 0.5,
      beta2: 0.999,
      sampleEvery: 500,
      ckptEvery: 1000,
      logEvery: 25,
      dataset: 'mnist',
    },
    // nz 32: unconditional, z is the condition replicated into every later branch's joint conv, so
    // its length sets most of G's cost; ngf 32 leaves 8 channels at the finest branch.
    quick: {
      steps: 150,
      batch: 16,
      baseSize: 8,
      nz: 32,
      ngf: 32,
      ndf: 8,
      resBlocks: 1,
      cDim: 32,
      embedDim: 64,
      textHidden: 128,
      nd: 32,
      textSteps: 100,
      sampleEvery: 50,
      ckptEvery: 50,
      logEvery: 10,
    },
    paperPreset: {
      values: { steps: 41600, batch: 24, dataset: 'emoji-text', baseSize: 64, conditional: true, colorWeight: 0 },
      sources: {
        steps: 'reference birds_3stages.yml: MAX_EPOCH 600; 1000 text steps + 600 x 1624 / 24 on emoji-text',
        batch: 'reference birds_3stages.yml: BATCH_SIZE 24',
        lr: 'reference: DISCRIMINATOR_LR = GENERATOR_LR = 0.0002, Adam beta1 0.5',
        dataset: "the paper's text-to-image set-up (CUB birds): captioned emoji here",
        baseSize: 'paper / reference TREE.BASE_SIZE 64: branches at 64, 128, 256 (the 64 px emoji upsampled here)',
        branches: 'reference TREE.BRANCH_NUM 3',
        conditional: 'reference birds_3stages.yml B_CONDITION True',
        colorWeight: 'reference COEFF.COLOR_LOSS 0 for conditional runs (50 in its unconditional LSUN / ImageNet configs)',
        uncondWeight: 'reference birds_3stages.yml UNCOND_LOSS 1.0',
        klWeight: 'reference config COEFF.KL 2.0',
        ngf: 'reference GF_DIM 64',
        ndf: 'reference DF_DIM 64',
        resBlocks: 'reference R_NUM 2',
        cDim: 'reference EMBEDDING_DIM 128',
        nz: 'reference Z_DIM 100',
        nd: 'reference: D compresses the text to EMBEDDING_DIM 128',
        embedDim: "the project's text encoder (the paper: 1024-d char-CNN-RNN embeddings); no paper counterpart",
        textHidden: "the project's text encoder; no paper counterpart",
        textSteps: "the project's text encoder, pretrained for this many steps (the paper uses a pretrained char-CNN-RNN)",
      },
      note: 'The text-conditioned CUB birds set-up (birds_3stages.yml) on captioned emoji (64 px, upsampled to 256). The unconditional set-ups of the paper (LSUN bedroom / church, ImageNet dog / cat, colour loss 50) have no data set here alike; for them add --no-conditional --color-weight 50 --dataset emoji.',
    },
    check(c) {
      const s = c.baseSize;
      return !isPow2(s) || s < 8 || s > 256 ? [`--base-size must be a power of two from 8 to 256, got ${c.baseSize}`] : [];
    },
    adaptToData: (_c, data) => ({ nc: data.channels }),
    imageShape: (c) => ({ channels: c.nc, size: c.baseSize << (c.branches - 1) }),
    create: (c, settings, seed) => new StackganppTrainer(c, settings, seed),
  },
  {
    /** With --conditional, conditioned on captions: `gan sample --caption`, `gan eval`'s conditional accuracy. */
    text: {
      conditioned: (config: ModelConfig) => parseConfig(params, config).conditional === true,
      codes: (trainer: GanTrainer, captions: readonly (readonly string[])[], generator: Generator) =>
        (trainer as StackganppTrainer).codesForText(captions, generator),
    },
  },
);
