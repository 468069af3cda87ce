// StarGAN: Choi, Choi, Kim, Ha, Kim & Choo, "StarGAN: Unified Generative Adversarial Networks for
// Multi-Domain Image-to-Image Translation" (CVPR 2018), as in yunjey/stargan (model.py, solver.py).
//
//   G(x, c): the target domain's label c (one-hot, c_dim long) tiled over the image and concatenated
//     to it; conv7 (3 + c_dim -> 64), two conv4/2 down (128, 256), 6 residual blocks, two convT4/2
//     up (128, 64), conv7 -> 3, tanh. Instance norm with affine parameters and running statistics
//     after every conv but the last, no conv biases, zero padding (the reference notes that the
//     tiled label needs zero padding: instance norm cancels a constant shift).
//   D(x): repeat_num conv4/2 + LeakyReLU(0.01) doubling the width (64 .. 64 * 2^(repeat_num - 1)),
//     no norm; two heads on the last map: conv1, a 3x3 conv to one channel (the PatchGAN source
//     scores), and conv2, a conv whose kernel covers the whole map (image_size / 2^repeat_num) to
//     c_dim domain logits. No bias on either head.
//   Losses, per iteration:
//     D: -mean D_src(x) + mean D_src(G(x, c')) + lambda_cls L_cls(D_cls(x), c) + lambda_gp GP
//        (WGAN-GP: GP = mean_n (||d D_src(x^) / d x^_n|| - 1)^2 on x^ = a x + (1 - a) G(x, c'),
//        a ~ U[0, 1) per image; the penalty's weight gradient is a double backward)
//     G, every n_critic iterations: -mean D_src(G(x, c')) + lambda_cls L_cls(D_cls(G(x, c')), c')
//        + lambda_rec mean |x - G(G(x, c'), c)|
//   where c is the image's own domain and c' the target: the batch's labels in a random order
//   (torch.randperm in solver.py). L_cls is softmax cross-entropy for single-label domains (the
//   reference's RaFD setting; our skin tones are one per image), or, with --cls-loss bce, the
//   CelebA setting's BCE with logits summed over attributes and averaged over the batch.
//   lambda_cls 1, lambda_rec 10, lambda_gp 10, n_critic 5; Adam 1e-4, betas (0.5, 0.999), batch 16.
//   Learning rate: constant, then linear decay to zero over the last num_iters_decay iterations,
//   updated every lr_update_step iterations (the paper: "linearly decay the learning rate to 0").
//   (solver.py subtracts lr / num_iters_decay per update, i.e. per 1000 iterations, which ends at
//   0.999 of the base rate; we follow the paper's stated schedule.)
//   Weights: PyTorch's default layer init (the reference sets none), drawn from the run's generator.
//   Augmentation: each training image is mirrored left-right with probability 1/2 (the paper and
//   data_loader.py's RandomHorizontalFlip); --no-flip turns it off.
//
// Data: one batch row is G's own input layout: the RGB image, then c_dim constant planes holding
// its domain's one-hot label (data/domains.ts packDomains; [N, 3 + c_dim, H, W]). The labels thus travel with the
// images through the CLI's one-tensor training loop and its data loader; the trainer reads each
// row's label from pixel (0, 0) of the planes. Held-out evaluation inputs use the same layout with
// the *target* label in the planes, so G's translation of a row is G applied to the row itself.
//
// State dicts: netG and netD carry the reference's keys (main.0.weight, main.1.running_mean,
// main.9.main.0.weight, ... / main.*, conv1.weight, conv2.weight), so a checkpoint converts both
// ways with `gan convert`. Browser-safe: no Node imports (the CLI reads the held-out skin-tone emoji
// for every recipe with a domainTranslation hook: cli/heldout.ts builds the held-out pairs and
// domain grids, cli/eval_domains.ts the domain-classifier scores).
//
// The file reads as the paper: the label layout, G and D, the losses, the training step, then the
// declaration (hyper-parameters, presets, paper, demo profile and the CLI hooks).

import { Generator, type Tensor, noGrad, tensor, tidy, nn, ops, optim } from '../engine/index.js';
import { defaultInit_ } from './lib/networks.js';
import { generateWith, SampleInputs } from './lib/sample.js';
import { minimize } from './lib/step.js';
import { bool, choice, defineModel, int, num, parseConfig, type ConfigOf } from './lib/model.js';
import type { GanTrainer, ModelConfig, StepStats, TrainSettings } from './registry.js';

const {
  add,
  affine,
  bceWithLogits,
  bernoulli,
  concat,
  expand,
  gradientPenalty,
  l1,
  matmul,
  mean,
  mul,
  mulScalar,
  narrow,
  neg,
  randpermMatrix,
  reshape,
  softmaxCrossEntropy,
} = ops;

/** StarGAN's hyper-parameters: the flags of `gan train stargan`, their defaults and bounds. */
const params = {
  imageSize: int(64, 'image side (the paper: 128; the emoji are 64 px, so 64 is the native size)', { min: 4, max: 1024 }),
  cDim: int(6, 'number of domains (set from the dataset: its channels minus 3)', { min: 1, max: 1024 }),
  gConvDim: int(64, "width of G's first layer", { min: 1, max: 4096 }),
  dConvDim: int(64, "width of D's first layer", { min: 1, max: 4096 }),
  gRepeatNum: int(6, 'residual blocks in G', { min: 0, max: 64 }),
  dRepeatNum: int(0, "stride-2 conv layers in D (0: down to a 2x2 map, as the paper's 6 at 128 px; 5 at 64 px)", { min: 0, max: 16 }),
  lambdaCls: num(1, 'weight of the domain classification loss', { min: 0, metavar: 'X' }),
  lambdaRec: num(10, 'weight of the reconstruction loss', { min: 0, metavar: 'X' }),
  lambdaGp: num(10, 'weight of the gradient penalty', { min: 0, metavar: 'X' }),
  nCritic: int(5, 'D updates per G update', { min: 1 }),
  clsLoss: choice(
    ['ce', 'bce'],
    'ce',
    'domain loss: ce = softmax cross-entropy (one domain per image, RaFD), bce = per-attribute BCE (CelebA)',
    { metavar: undefined },
  ),
  numItersDecay: int(0, 'final iterations over which the learning rate decays linearly to 0 (0: the second half of the run)', { min: 0 }),
  lrUpdateStep: int(1000, 'change the learning rate every N iterations', { min: 1 }),
  evalSource: int(0, 'domain `gan eval` translates from (emoji-skin: 0 default, 1 light .. 5 dark)', { metavar: 'D', min: 0 }),
  evalTarget: int(5, 'domain `gan eval` translates to and scores against its ground truth', { metavar: 'D', min: 0 }),
  flip: bool(true, 'mirror training images left-right with probability 1/2, as the paper (--no-flip to turn off)'),
};

/** A StarGAN's hyper-parameters, typed (dRepeatNum 0: autoRepeatNum). */
export type StarganConfig = ConfigOf<typeof params>;
export type ClsLoss = StarganConfig['clsLoss'];

/** D's stride-2 layers when --d-repeat-num is 0: down to a 2x2 map, as 6 layers do at 128 px. */
export function autoRepeatNum(imageSize: number): number {
  return Math.max(1, Math.round(Math.log2(imageSize)) - 1);
}

/** D's stride-2 layers of a config (--d-repeat-num, or autoRepeatNum's when 0). */
export function resolvedDRepeatNum(c: Pick<StarganConfig, 'dRepeatNum' | 'imageSize'>): number {
  return c.dRepeatNum > 0 ? c.dRepeatNum : autoRepeatNum(c.imageSize);
}

// ---- the label layout ----------------------------------------------------------------------------

/** Labels [N, C] tiled into constant planes [N, C, h, w] (the reference's c.view().repeat()). */
export function tileLabels(c: Tensor, h: number, w: number): Tensor {
  const [n, k] = c.shape;
  return expand(reshape(c, [n, k, 1, 1]), [n, k, h, w]);
}

/** The label planes' value at pixel (0, 0): [N, 3 + C, H, W] rows -> labels [N, C]. */
export function labelsOfRows(rows: Tensor, cDim: number): Tensor {
  const corner = narrow(narrow(narrow(rows, 1, 3, cDim), 2, 0, 1), 3, 0, 1);
  return reshape(corner, [rows.shape[0], cDim]);
}

/** Images [N, C, H, W] mirrored left-right (x[..., W - 1 - j]), as one matmul with a reversal matrix. */
export function flipWidth(x: Tensor): Tensor {
  const [n, c, h, w] = x.shape;
  const r = new Float32Array(w * w);
  for (let j = 0; j < w; j++) r[j * w + (w - 1 - j)] = 1;
  return reshape(matmul(reshape(x, [n * c * h, w]), tensor(r, [w, w])), [n, c, h, w]);
}

/** Each image mirrored with probability 1/2 (a Bernoulli mask from `rng`; torchvision's RandomHorizontalFlip). */
export function randomFlip(x: Tensor, rng: Generator): Tensor {
  return noGrad(() => {
    const mask = bernoulli([x.shape[0], 1, 1, 1], 0.5, { generator: rng });
    return add(mul(flipWidth(x), mask), mul(x, affine(mask, -1, 1))); // exact: the mask is 0 or 1
  });
}

/** Rows of c in the order perm (label_org[rand_idx]) as one matmul with a permutation matrix (host perm). */
export function permuteRows(c: Tensor, perm: ArrayLike<number>): Tensor {
  const n = c.shape[0];
  if (perm.length !== n) throw new Error(`permuteRows: a permutation of ${perm.length} for ${n} rows`);
  const p = new Float32Array(n * n);
  for (let i = 0; i < n; i++) p[i * n + perm[i]] = 1;
  return matmul(tensor(p, [n, n]), c);
}

// ---- networks -----------------------------------------------------------------------------------------

const instanceNorm = (c: number) => new nn.InstanceNorm2d(c, { affine: true, trackRunningStats: true });

/** x + main(x), main = conv3, IN, ReLU, conv3, IN (no biases). */
export class ResidualBlock extends nn.Module {
  main: nn.Sequential;
  constructor(dimIn: number, dimOut: number) {
    super();
    this.main = new nn.Sequential(
      new nn.Conv2d(dimIn, dimOut, 3, { padding: 1, bias: false }),
      instanceNorm(dimOut),
      new nn.ReLU(),
      new nn.Conv2d(dimOut, dimOut, 3, { padding: 1, bias: false }),
      instanceNorm(dimOut),
    );
  }
  override forward(x: Tensor): Tensor {
    // x + main(x), the add fused into the last norm's kernel where it allows.
    return this.main.callResidual(x);
  }
}

export class StarganGenerator extends nn.Module {
  main: nn.Sequential;
  readonly cDim: number;

  constructor(convDim = 64, cDim = 5, repeatNum = 6) {
    super();
    this.cDim = cDim;
    const layers: nn.Module[] = [new nn.Conv2d(3 + cDim, convDim, 7, { padding: 3, bias: false }), instanceNorm(convDim), new nn.ReLU()];
    let dim = convDim;
    for (let i = 0; i < 2; i++) {
      layers.push(new nn.Conv2d(dim, dim * 2, 4, { stride: 2, padding: 1, bias: false }), instanceNorm(dim * 2), new nn.ReLU());
      dim *= 2;
    }
    for (let i = 0; i < repeatNum; i++) layers.push(new ResidualBlock(dim, dim));
    for (let i = 0; i < 2; i++) {
      layers.push(new nn.ConvTranspose2d(dim, dim / 2, 4, { stride: 2, padding: 1, bias: false }), instanceNorm(dim / 2), new nn.ReLU());
      dim /= 2;
    }
    layers.push(new nn.Conv2d(dim, 3, 7, { padding: 3, bias: false }), new nn.Tanh());
    this.main = new nn.Sequential(...layers);
  }

  /**
   * G(x, c): images [N, 3, H, W] and target labels [N, cDim]. Without c, x is already G's input
   * (a packed row, [N, 3 + cDim, H, W], the label planes holding the target).
   */
  override forward(x: Tensor, c?: Tensor): Tensor {
    if (!c) {
      if (x.rank !== 4 || x.shape[1] !== 3 + this.cDim)
        throw new Error(
          `StarganGenerator: a packed input must be [N, ${3 + this.cDim}, H, W] (image + ${this.cDim} label planes), got ${x.describe()}`,
        );
      return this.main.call(x);
    }
    if (c.rank !== 2 || c.shape[0] !== x.shape[0] || c.shape[1] !== this.cDim) {
      throw new Error(`StarganGenerator: labels must be [${x.shape[0]}, ${this.cDim}] for images ${x.describe()}, got ${c.describe()}`);
    }
    return this.main.call(concat([x, tileLabels(c, x.shape[2], x.shape[3])], 1));
  }
}

export class StarganDiscriminator extends nn.Module {
  main: nn.Sequential;
  conv1: nn.Conv2d;
  conv2: nn.Conv2d;
  readonly imageSize: number;

  constructor(imageSize = 128, convDim = 64, cDim = 5, repeatNum = 6) {
    super();
    const kernel = imageSize / 2 ** repeatNum;
    if (!Number.isInteger(kernel) || kernel < 1) {
      throw new Error(
        `StarganDiscriminator: image size ${imageSize} must be divisible by 2^${repeatNum} (repeat_num ${repeatNum} stride-2 layers); lower repeat_num or change the size`,
      );
    }
    this.imageSize = imageSize;
    const layers: nn.Module[] = [new nn.Conv2d(3, convDim, 4, { stride: 2, padding: 1 }), new nn.LeakyReLU(0.01)];
    let dim = convDim;
    for (let i = 1; i < repeatNum; i++) {
      layers.push(new nn.Conv2d(dim, dim * 2, 4, { stride: 2, padding: 1 }), new nn.LeakyReLU(0.01));
      dim *= 2;
    }
    this.main = new nn.Sequential(...layers);
    this.conv1 = new nn.Conv2d(dim, 1, 3, { padding: 1, bias: false });
    this.conv2 = new nn.Conv2d(dim, cDim, kernel, { bias: false });
  }

  /** [source scores [N, 1, s, s], domain logits [N, cDim]] for images [N, 3, imageSize, imageSize]. */
  override forward(x: Tensor): [Tensor, Tensor] {
    if (x.rank !== 4 || x.shape[2] !== this.imageSize || x.shape[3] !== this.imageSize) {
      throw new Error(
        `StarganDiscriminator: expects [N, 3, ${this.imageSize}, ${this.imageSize}] images (conv2's kernel covers the last map), got ${x.describe()}`,
      );
    }
    const h = this.main.call(x);
    const cls = this.conv2.call(h);
    return [this.conv1.call(h), reshape(cls, [cls.shape[0], cls.shape[1]])];
  }
}

// ---- losses ---------------------------------------------------------------------------------------------

/**
 * Domain classification loss of logits [N, C] against labels [N, C]: softmax cross-entropy with
 * the one-hot labels as targets, averaged over the batch ('ce', the reference's F.cross_entropy for
 * RaFD), or BCE with logits summed over the C attributes and averaged over the batch ('bce', CelebA).
 */
export function classificationLoss(logits: Tensor, labels: Tensor, kind: ClsLoss = 'ce'): Tensor {
  if (kind === 'ce') return softmaxCrossEntropy(logits, labels);
  if (kind === 'bce') return mulScalar(bceWithLogits(logits, labels, { reduction: 'sum' }), 1 / logits.shape[0]);
  throw new Error(`classificationLoss: kind must be 'ce' or 'bce', got '${String(kind)}'`);
}

type LossWeights = Pick<StarganConfig, 'lambdaCls' | 'lambdaRec' | 'lambdaGp' | 'clsLoss'>;

export interface DLosses {
  lossReal: Tensor;
  lossFake: Tensor;
  lossCls: Tensor;
  /** The unweighted gradient penalty (weighted by lambda_gp in `loss`). */
  lossGp: Tensor;
  loss: Tensor;
}

/**
 * The discriminator's loss for one iteration (solver.py, "2. Train the discriminator"). G runs
 * without gradients (the reference detaches its output); the penalty's interpolation weights are
 * drawn from `rng`.
 */
export function discriminatorLosses(
  netG: nn.Module,
  netD: nn.Module,
  xReal: Tensor,
  cOrg: Tensor,
  cTrg: Tensor,
  w: LossWeights,
  rng: Generator,
): DLosses {
  const D = (x: Tensor) => netD.call(x) as [Tensor, Tensor];
  const [srcReal, clsReal] = D(xReal);
  const lossReal = neg(mean(srcReal));
  const lossCls = classificationLoss(clsReal, cOrg, w.clsLoss);
  const xFake = noGrad(() => netG.call(xReal, cTrg) as Tensor);
  const lossFake = mean(D(xFake)[0]);
  const lossGp = gradientPenalty((x) => D(x)[0], xReal, xFake, { generator: rng, lambda: 1 });
  const loss = add(add(lossReal, lossFake), add(mulScalar(lossCls, w.lambdaCls), mulScalar(lossGp, w.lambdaGp)));
  return { lossReal, lossFake, lossCls, lossGp, loss };
}

export interface GLosses {
  lossFake: Tensor;
  lossCls: Tensor;
  lossRec: Tensor;
  loss: Tensor;
}

/** The generator's loss (solver.py, "3. Train the generator"): translate, fool D, classify as c', reconstruct. */
export function generatorLosses(netG: nn.Module, netD: nn.Module, xReal: Tensor, cOrg: Tensor, cTrg: Tensor, w: LossWeights): GLosses {
  const xFake = netG.call(xReal, cTrg) as Tensor;
  const [src, cls] = netD.call(xFake) as [Tensor, Tensor];
  const lossFake = neg(mean(src));
  const lossCls = classificationLoss(cls, cTrg, w.clsLoss);
  const xRec = netG.call(xFake, cOrg) as Tensor;
  const lossRec = l1(xReal, xRec);
  const loss = add(add(lossFake, mulScalar(lossRec, w.lambdaRec)), mulScalar(lossCls, w.lambdaCls));
  return { lossFake, lossCls, lossRec, loss };
}

/**
 * The learning rate after `done` iterations: the base rate, then linear decay to zero over the
 * last `decay` of `total` iterations, changed every `every` iterations (at the multiples of
 * `every` past total - decay).
 */
export function starganLearningRate(base: number, done: number, o: { total: number; decay: number; every: number }): number {
  if (o.decay <= 0) return base;
  const every = Math.max(1, o.every);
  const passed = Math.max(0, Math.floor(done / every) - Math.floor((o.total - o.decay) / every));
  return base * Math.max(0, 1 - (passed * every) / o.decay);
}

// ---- the training step ----------------------------------------------------------------------------------------------

/** Columns of the CLI's sample grids. */
const GRID_COLUMNS = 8;

export class StarganTrainer implements GanTrainer {
  readonly nets: { netG: StarganGenerator; netD: StarganDiscriminator };
  readonly optimizers: { netG: optim.Adam; netD: optim.Adam };
  readonly rng: Generator;
  readonly sampler = 'netG';
  readonly cfg: StarganConfig;
  /** D's stride-2 layers (--d-repeat-num, or autoRepeatNum's when 0). */
  readonly dRepeatNum: number;
  readonly samples: SampleInputs;
  private readonly baseLr: number;
  private readonly totalSteps: number;

  /** `config`: any subset of the hyper-parameters (the rest take their declared defaults). */
  constructor(
    readonly config: ModelConfig,
    settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2' | 'steps'>,
    seed: number,
  ) {
    const cfg = (this.cfg = parseConfig(params, config));
    this.dRepeatNum = resolvedDRepeatNum(cfg);
    this.rng = new Generator(seed);
    const netG = new StarganGenerator(cfg.gConvDim, cfg.cDim, cfg.gRepeatNum);
    const netD = new StarganDiscriminator(cfg.imageSize, cfg.dConvDim, cfg.cDim, this.dRepeatNum);
    defaultInit_(netG, this.rng);
    defaultInit_(netD, this.rng);
    this.nets = { netG, netD };
    const opts = { lr: settings.lr, betas: [settings.beta1, settings.beta2] as [number, number] };
    this.optimizers = { netG: new optim.Adam(netG, opts), netD: new optim.Adam(netD, opts) };
    this.baseLr = settings.lr;
    this.totalSteps = settings.steps;
    this.samples = new SampleInputs([3 + cfg.cDim, cfg.imageSize, cfg.imageSize]);
  }

  /** Iterations done so far (D is updated once per iteration; a resumed run continues the count). */
  get iteration(): number {
    return this.optimizers.netD.stepCount(0);
  }

  /** Whether the iteration after `done` completed ones updates G ((i + 1) % n_critic == 0 in solver.py). */
  updatesG(done: number): boolean {
    return (done + 1) % this.cfg.nCritic === 0;
  }

  learningRate(done: number): number {
    const { numItersDecay, lrUpdateStep } = this.cfg;
    const decay = numItersDecay > 0 ? numItersDecay : Math.floor(this.totalSteps / 2);
    return starganLearningRate(this.baseLr, done, { total: this.totalSteps, decay, every: lrUpdateStep });
  }

  private checkBatch(batch: Tensor): void {
    const { cDim, imageSize: s } = this.cfg;
    const [n, c, h, w] = batch.shape;
    if (batch.rank !== 4 || c !== 3 + cDim || h !== s || w !== s || n < 1) {
      throw new Error(
        `stargan: a batch must be [N, ${3 + cDim}, ${s}, ${s}] (RGB + ${cDim} label planes, see packDomains), got ${batch.describe()}`,
      );
    }
  }

  /**
   * Replay: whether G updates this iteration (every n_critic-th) and whether sample inputs are
   * still gathered; the learning rate (set from the iteration count) is read by the optimisers'
   * refreshed uniforms, so host() sets it as step() does. The target labels' permutation and the
   * flips are drawn on the GPU.
   */
  readonly replay = {
    key: () => `updateG=${+this.updatesG(this.iteration)} gathering=${+this.samples.gathering}`,
    host: () => {
      const lr = this.learningRate(this.iteration);
      this.optimizers.netG.lr = lr;
      this.optimizers.netD.lr = lr;
    },
  };

  step(batch: Tensor, withStats: boolean): StepStats | null {
    this.checkBatch(batch);
    const { netG, netD } = this.nets;
    const done = this.iteration;
    const lr = this.learningRate(done);
    this.optimizers.netG.lr = lr;
    this.optimizers.netD.lr = lr;
    const n = batch.shape[0];
    return tidy(() => {
      // Target domains: the batch's own labels in a random order (drawn first, then the flips, then
      // the penalty's weights): randperm's permutation, drawn on the GPU as a permutation matrix
      // (the same permutation and bits as the host's randperm; a replayed step redraws it).
      const permMatrix = randpermMatrix(n, this.rng);
      this.samples.offer(batch);
      const image = narrow(batch, 1, 0, 3);
      const xReal = this.cfg.flip ? randomFlip(image, this.rng) : image;
      const cOrg = labelsOfRows(batch, this.cfg.cDim);
      const cTrg = matmul(permMatrix, cOrg);

      const d = discriminatorLosses(netG, netD, xReal, cOrg, cTrg, this.cfg, this.rng);
      minimize(d.loss, this.optimizers.netD);

      let g: GLosses | null = null;
      if (this.updatesG(done)) {
        g = generatorLosses(netG, netD, xReal, cOrg, cTrg, this.cfg);
        minimize(g.loss, this.optimizers.netG, { frozen: [netD] });
      }
      if (!withStats) return null;
      return noGrad(() => ({
        loss_D_real: d.lossReal.detach(),
        loss_D_fake: d.lossFake.detach(),
        loss_D_cls: d.lossCls.detach(),
        loss_D_gp: d.lossGp.detach(),
        ...(g ? { loss_G_fake: g.lossFake.detach(), loss_G_rec: g.lossRec.detach(), loss_G_cls: g.lossCls.detach() } : {}),
      }));
    });
  }

  /** The fixed sample inputs: packed rows (image + own label) from the first training batches. */
  noise(n: number, _generator?: Generator): Tensor {
    return this.samples.take(n);
  }

  /**
   * A sample grid's images from packed rows z (see noise()): for each of the first rows, the input
   * image, then its translation into every domain 0 .. cDim - 1, then (filling a row of 8) its
   * translation into its own domain; n images in all. G runs in training mode, i.e. with each
   * image's own instance statistics, as the reference's sampling and test() do (they never call
   * eval()); the running statistics are left untouched. batchStats false uses them instead.
   */
  generate(z: Tensor, opts: { batchStats?: boolean } = {}): Tensor {
    const { cDim } = this.cfg;
    const [n, , h, w] = z.shape;
    const per = Math.max(GRID_COLUMNS, cDim + 1);
    const sources = Math.min(n, Math.ceil(n / per));
    return noGrad(() =>
      tidy(() => {
        const src = narrow(z, 0, 0, sources);
        const x = narrow(src, 1, 0, 3);
        const xs = reshape(expand(reshape(x, [sources, 1, 3, h, w]), [sources, cDim, 3, h, w]), [sources * cDim, 3, h, w]);
        const eye = new Float32Array(sources * cDim * cDim);
        for (let r = 0; r < sources * cDim; r++) eye[r * cDim + (r % cDim)] = 1;
        const targets = concat([xs, tileLabels(tensor(eye, [sources * cDim, cDim]), h, w)], 1);
        const out = generateWith(this.nets.netG, concat([targets, src], 0), opts.batchStats ?? true);
        const images: Tensor[] = [];
        for (let s = 0; s < sources; s++) {
          images.push(narrow(x, 0, s, 1));
          for (let d = 0; d < cDim; d++) images.push(narrow(out, 0, s * cDim + d, 1));
          for (let k = cDim + 1; k < per; k++) images.push(narrow(out, 0, sources * cDim + s, 1));
        }
        return concat(images.slice(0, n), 0);
      }),
    );
  }

  /** G applied to packed rows (image + target label planes), as `gan eval` translates held-out images. */
  translate(inputs: Tensor): Tensor {
    this.checkBatch(inputs);
    return generateWith(this.nets.netG, inputs, true);
  }

  dispose(): void {
    for (const o of Object.values(this.optimizers)) o.dispose();
    for (const net of Object.values(this.nets)) net.dispose();
    this.samples.dispose();
  }
}

// ---- the declaration ------------------------------------------------------------------------------------------

/** Reads a config back from netG's or netD's state_dict shapes (for `gan convert`); null if neither. */
export function inferStarganConfig(net: string, shapes: ReadonlyMap<string, readonly number[]>): Partial<StarganConfig> | null {
  const first = shapes.get('main.0.weight');
  if (!first || first.length !== 4) return null;
  if (net === 'netG') {
    if (first[2] !== 7 || first[1] <= 3) return null;
    let blocks = 0;
    for (const k of shapes.keys()) if (/^main\.\d+\.main\.0\.weight$/.test(k)) blocks++;
    return { gConvDim: first[0], cDim: first[1] - 3, gRepeatNum: blocks };
  }
  if (net === 'netD') {
    const cls = shapes.get('conv2.weight');
    if (first[1] !== 3 || first[2] !== 4 || !cls || !shapes.has('conv1.weight')) return null;
    let layers = 0;
    for (const [k, s] of shapes) if (/^main\.\d+\.weight$/.test(k) && s.length === 4) layers++;
    return { dConvDim: first[0], cDim: cls[0], dRepeatNum: layers, imageSize: cls[2] * 2 ** layers };
  }
  return null;
}

export const starganRecipe = defineModel(
  {
    name: 'stargan',
    description: 'StarGAN (Choi et al. 2018): one G for all domains (label tiled onto the image), D with source + domain heads, WGAN-GP',
    paper: {
      label: 'StarGAN',
      title: 'StarGAN: Unified Generative Adversarial Networks for Multi-Domain Image-to-Image Translation',
      authors: 'Yunjey Choi, Minje Choi, Munyoung Kim, Jung-Woo Ha, Sunghun Kim, Jaegul Choo',
      year: 2017,
      arxiv: '1711.09020',
      code: 'github.com/yunjey/stargan',
      summary: 'One generator translating among many domains, conditioned on a target label, with an auxiliary domain classifier.',
    },
    params,
    train: {
      steps: 200000,
      batch: 16,
      lr: 1e-4,
      beta1: 0.5,
      beta2: 0.999,
      sampleEvery: 1000,
      ckptEvery: 10000,
      logEvery: 10,
      dataset: 'emoji-skin',
    },
    // Minutes on a software adapter: 32 px, 8 wide, 2 residual blocks, D 4 layers down to 2x2, and
    // lr 1e-3 so that 40 G updates move G (at 1e-4 the held-out L1 barely leaves the untrained value).
    quick: {
      steps: 200,
      batch: 8,
      lr: 1e-3,
      imageSize: 32,
      gConvDim: 8,
      dConvDim: 8,
      gRepeatNum: 2,
      lrUpdateStep: 10,
      sampleEvery: 50,
      ckptEvery: 50,
      logEvery: 5,
    },
    paperPreset: {
      values: { steps: 20100, imageSize: 128, dRepeatNum: 6, numItersDecay: 10050 },
      sources: {
        steps: 'paper (RaFD): 100 epochs at 0.0001, then 100 of linear decay; 200 x 1608 emoji-skin images / 16',
        batch: 'paper: batch 16',
        lr: 'paper: Adam 0.0001, beta1 0.5, beta2 0.999',
        imageSize: 'paper: 128x128 (the 64 px emoji upsampled here)',
        dRepeatNum: 'reference d_repeat_num 6 (128 px down to 2x2)',
        gRepeatNum: 'paper: 6 residual blocks',
        gConvDim: "paper: G's first conv 64 filters (reference g_conv_dim 64)",
        dConvDim: "paper: D's first conv 64 filters (reference d_conv_dim 64)",
        lrUpdateStep: 'reference lr_update_step 1000',
        nCritic: 'paper: one G update per 5 D updates',
        lambdaCls: 'paper: lambda_cls = 1',
        lambdaRec: 'paper: lambda_rec = 10',
        lambdaGp: 'paper: lambda_gp = 10',
        numItersDecay: 'paper (RaFD): decay over the last 100 of 200 epochs',
        clsLoss: 'RaFD: one expression per image, softmax cross-entropy',
      },
      note: "CelebA and RaFD are not here: --paper trains on the emoji skin-tone domains (one domain per image, like RaFD's expressions), upsampled from 64 to 128 px, with the paper's RaFD schedule counted in epochs of that set.",
    },
    check(c) {
      const errs: string[] = [];
      if (c.imageSize % 4 !== 0) errs.push(`--image-size must be a multiple of 4 in [4, 1024] (G halves it twice), got ${c.imageSize}`);
      const d = resolvedDRepeatNum(c);
      if (errs.length === 0 && !Number.isInteger(c.imageSize / 2 ** d)) {
        errs.push(`--d-repeat-num ${d} needs an image size divisible by ${2 ** d} (got ${c.imageSize}); use fewer layers or 0 (auto)`);
      }
      for (const k of ['evalSource', 'evalTarget'] as const) {
        if (c[k] > c.cDim - 1)
          errs.push(`--${k === 'evalSource' ? 'eval-source' : 'eval-target'} must be a domain index in 0..${c.cDim - 1}, got ${c[k]}`);
      }
      return errs;
    },
    adaptToData: (_c, data) => ({ cDim: data.channels - 3 }),
    imageShape: (c) => ({ channels: 3 + c.cDim, size: c.imageSize }),
    inferConfig: inferStarganConfig,
    create: (c, settings, seed) => new StarganTrainer(c, settings, seed),
  },
  {
    /** TranslationEval.translate: inputs are packed rows with the target label planes. */
    translate: (trainer: GanTrainer, inputs: Tensor) => (trainer as StarganTrainer).translate(inputs),
    /** The CLI's held-out pairs (evalSource -> evalTarget), domain grids and domain-classifier scores. */
    domainTranslation(config: ModelConfig) {
      const c = parseConfig(params, config);
      return { count: c.cDim, size: c.imageSize, source: c.evalSource, target: c.evalTarget };
    },
    demo: {
      gridCols: 8,
      charts: [
        { title: 'Adversarial losses (WGAN-GP)', keys: /^loss_[DG]_(real|fake)$/ },
        { title: 'Domain classification losses', keys: /_cls$/ },
        { title: 'Gradient penalty and reconstruction', keys: /^loss_(D_gp|G_rec)$/ },
      ],
      blurb:
        "Each row of the grid: an input image, then G's translation of it into each domain (default, light … dark), then into its own domain.",
    },
  },
);
