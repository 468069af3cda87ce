// Triple-GAN: Li, Xu, Zhu & Zhang, "Triple Generative Adversarial Nets" (NeurIPS 2017), for
// semi-supervised MNIST with 100 labels, following the authors' Theano code
// (zhenxuan00/triple-gan, x2y_yz2x_xy2p_ssl_mnist.py).
//
// Three players over (image, label) pairs:
//   C  classifier p_c(y | x): a CNN with batch norm and dropout (the reference's: conv5 32 valid,
//      pool, dropout .5, conv3 64 same, conv3 64 valid, pool, dropout .5, conv3 128 same x 2, global
//      average, dense 10; here max pooling is a 2x2 max over a reshaped view); widths scale with cw.
//   G  generator p_g(x | y): an MLP with the one-hot label concatenated before every layer
//      ([z | y] -> 500 softplus BN -> [. | y] -> 500 softplus BN -> [. | y] -> 784 tanh).
//   D  discriminator D(x, y): an MLP with the label concatenated before every layer, Gaussian
//      noise on its input (sigma .3) and hidden layers (.5), LeakyReLU; widths 1000-500-250-250-250.
//
// The game (paper Eq. 4; alpha = 1/2 as in the paper and the code):
//   L_D = BCE(D(x_l, y_l), 1) + alpha BCE(D(x_u, y_c), 0) + (1 - alpha) BCE(D(G(z, y_g), y_g), 0)
//   L_G = (1 - alpha) BCE(D(G(z, y_g), y_g), 1)                                  (non-saturating)
//   L_C = alpha E_u[p_c(y_c | x_u) log(1 - D(x_u, y_c))] + R_L + alpha_P R_P        (classifierAdv 'paper')
//   L_C = alpha E_u[p_c(y_c | x_u) BCE(D(x_u, y_c), 1)] + R_L + alpha_P R_P          (classifierAdv 'code')
// The paper's Algorithm 1 descends alpha p_c log(1 - D) (the default here); the authors' Theano code
// (cla_cost_p_c = bce(D, 1) * p) descends -alpha p_c log D, a non-saturating swap. They push p_c in
// opposite directions: log(1 - D) < 0, so the paper's term always raises p_c(y_c | x_u), most on the
// pairs D accepts (D -> 1), while -log D > 0 always lowers it, most on the pairs D rejects (only the
// softmax coupling with the other classes turns that into 'raise what D accepts'). Both are
// step-golden tested (tests/steps_cascade.test.ts); docs/cascade.md has a short run of each.
// y_c = argmax p_c(y | x_u) (the reference's 'argmax' approximation of the expectation over
// p_c: the gradient reaches C through the weight p_c(y_c | x_u)), R_L = CE(C(x_l), y_l) on the labelled
// batch, and R_P = CE(C(G(z, y_g)), y_g) the pseudo-discriminative loss on generated pairs, weight
// alpha_P (0.1 in the code) switched on after `rpStart` steps (epoch 300 in the code), once G makes
// class-consistent digits. C is first warmed up on the labels alone for `warmupSteps` steps (the
// code pretrains C for 30 epochs when 100 labels are given).
//
// Data: bind the labelled training set (e.g. loadMnist's result) with bindData(); the trainer picks
// perClass examples of each class with a seeded permutation (selectLabelled: exactly 10 per class,
// the same ones for the same seed, as the reference's ssl_seed) and draws labelled batches from them
// with its noise stream. The images step() receives are the unlabelled stream x_u (labels unused).
// The labelled draw stays in the trainer, between the step's other draws from the one checkpointed
// stream (labelled indices, then G's labels, G's noise, D's input noise and dropout masks), which
// is what the step golden feeds and what exact resume restores; a data-layer draw would need a
// second checkpointed stream and would reorder that sequence.
// `supervisedOnly` trains C alone on the same labels: the baseline the paper compares against.
// `gan eval` adds C's MNIST test error through the recipe's evalExtras hook.
//
// Browser-safe: no Node imports.

import { Generator, type Tensor, noGrad, tensor, tidy, ops, nn, optim, init } from '../engine/index.js';
import { bool, choice, defineModel, int, num, parseConfig, type ConfigOf } from './lib/model.js';
import { minimize } from './lib/step.js';
import { generateWith } from './lib/sample.js';
import { accuracy } from './lib/stats.js';
import type { EvalContext, EvalExtras, GanTrainer, ModelConfig, StepStats, TrainSettings } from './registry.js';

/** A Triple-GAN's shape and game: the declaration's parameters, typed (see `params` below). */
export type TripleganConfig = ConfigOf<typeof params>;

// ---- the labelled subset ------------------------------------------------------------------------------------

/**
 * Indices of `perClass` examples of every class: the first ones of each class in a seeded random
 * permutation of the whole set (randperm, Philox), returned grouped by class. Throws when a class
 * has too few examples.
 */
export function selectLabelled(labels: ArrayLike<number>, perClass: number, numClasses: number, seed: number): Int32Array {
  const perm = ops.randperm(labels.length, seed);
  const picked: number[][] = Array.from({ length: numClasses }, () => []);
  for (const i of perm) {
    const y = labels[i];
    if (y >= 0 && y < numClasses && picked[y].length < perClass) picked[y].push(i);
  }
  picked.forEach((p, y) => {
    if (p.length < perClass) throw new Error(`selectLabelled: class ${y} has only ${p.length} examples, ${perClass} wanted`);
  });
  return Int32Array.from(picked.flat());
}

// ---- networks ----------------------------------------------------------------------------------------------------

/**
 * 2x2 max pooling (floor): [N, C, H, W] -> [N, C, H/2, W/2], the elementwise maximum of the four
 * phases of a [N, C, H/2, 2, W/2, 2] view (ties send the gradient to the first phase in row-major
 * order, as MaxPool2d's first maximum). Four slices and three maximums: on the software adapter a
 * max reduction over the two inner axes of the view costs several times more.
 */
export function maxPool2(x: Tensor): Tensor {
  const [n, c, h, w] = x.shape;
  const h2 = Math.floor(h / 2);
  const w2 = Math.floor(w / 2);
  const cropped = h2 * 2 === h && w2 * 2 === w ? x : x.narrow(2, 0, 2 * h2).narrow(3, 0, 2 * w2);
  const v = cropped.reshape([n, c, h2, 2, w2, 2]);
  const phase = (i: number, j: number) => ops.slice(v, [0, 0, 0, i, 0, j], [n, c, h2, i + 1, w2, j + 1]).reshape([n, c, h2, w2]);
  return phase(0, 0)
    .maximum(phase(0, 1))
    .maximum(phase(1, 0).maximum(phase(1, 1)));
}

class MaxPool2 extends nn.Module {
  override forward(x: Tensor): Tensor {
    return maxPool2(x);
  }
}

/** C: the reference's MNIST classifier (conv-BN-ReLU blocks, max pooling, dropout, global average, dense). */
export class TripleClassifier extends nn.Module {
  features: nn.Sequential;
  fc: nn.Linear;
  constructor(cfg: Pick<TripleganConfig, 'nc' | 'cw' | 'numClasses'>, rng?: Generator) {
    super();
    const w = cfg.cw;
    const block = (cin: number, cout: number, k: number, pad: number) => [
      new nn.Conv2d(cin, cout, k, { padding: pad, bias: false }),
      new nn.BatchNorm2d(cout),
      new nn.ReLU(),
    ];
    this.features = new nn.Sequential(
      ...block(cfg.nc, w, 5, 0),
      new MaxPool2(),
      new nn.Dropout(0.5, { generator: rng }),
      ...block(w, 2 * w, 3, 1),
      ...block(2 * w, 2 * w, 3, 0),
      new MaxPool2(),
      new nn.Dropout(0.5, { generator: rng }),
      ...block(2 * w, 4 * w, 3, 1),
      ...block(4 * w, 4 * w, 3, 1),
    );
    this.fc = new nn.Linear(4 * w, cfg.numClasses);
  }
  /** Class logits [N, numClasses]. */
  override forward(x: Tensor): Tensor {
    return this.fc.call(this.features.call(x).mean([2, 3]));
  }
}

/** A Linear fed [h | y]: the label joins every layer's input (the reference's MLPConcatLayer). */
class LabelledLinear extends nn.Module {
  fc: nn.Linear;
  constructor(inFeatures: number, numClasses: number, outFeatures: number) {
    super();
    this.fc = new nn.Linear(inFeatures + numClasses, outFeatures);
  }
  override forward(h: Tensor, y: Tensor): Tensor {
    return this.fc.call(ops.concat([h, y], 1));
  }
}

/** G(z, y): [z | y] -> softplus(BN(.)) x 2 with y joined each time -> image in [-1, 1]. */
export class TripleGenerator extends nn.Module {
  l1: LabelledLinear;
  bn1: nn.BatchNorm1d;
  l2: LabelledLinear;
  bn2: nn.BatchNorm1d;
  out: LabelledLinear;
  constructor(readonly cfg: Pick<TripleganConfig, 'nz' | 'ngh' | 'numClasses' | 'nc' | 'imageSize'>) {
    super();
    const { nz, ngh, numClasses, nc, imageSize } = cfg;
    this.l1 = new LabelledLinear(nz, numClasses, ngh);
    this.bn1 = new nn.BatchNorm1d(ngh);
    this.l2 = new LabelledLinear(ngh, numClasses, ngh);
    this.bn2 = new nn.BatchNorm1d(ngh);
    this.out = new LabelledLinear(ngh, numClasses, nc * imageSize * imageSize);
  }
  /** z [N, nz], y one-hot [N, numClasses] -> [N, nc, s, s]. */
  generate(z: Tensor, y: Tensor): Tensor {
    const h1 = this.bn1.call(this.l1.call(z, y)).softplus();
    const h2 = this.bn2.call(this.l2.call(h1, y)).softplus();
    const { nc, imageSize: s } = this.cfg;
    return this.out.call(h2, y).tanh().reshape([z.shape[0], nc, s, s]);
  }
  /** Packed codes [N, nz + numClasses] (z, then the one-hot label). */
  override forward(code: Tensor): Tensor {
    return this.generate(code.narrow(1, 0, this.cfg.nz), code.narrow(1, this.cfg.nz, this.cfg.numClasses));
  }
}

/** D(x, y): Gaussian noise, [h | y] -> LeakyReLU(0.2) through 5 hidden layers -> logit. */
export class TripleDiscriminator extends nn.Module {
  layers: nn.Sequential;
  out: LabelledLinear;
  constructor(
    readonly cfg: Pick<TripleganConfig, 'ndh' | 'numClasses' | 'nc' | 'imageSize'>,
    readonly rng?: Generator,
  ) {
    super();
    const h = cfg.ndh;
    const widths = [h, h >> 1, h >> 2, h >> 2, h >> 2].map((v) => Math.max(8, v));
    let inF = cfg.nc * cfg.imageSize * cfg.imageSize;
    const ls: nn.Module[] = [];
    for (const w of widths) {
      ls.push(new LabelledLinear(inF, cfg.numClasses, w));
      inF = w;
    }
    this.layers = new nn.Sequential(...ls);
    this.out = new LabelledLinear(inF, cfg.numClasses, 1);
  }
  private noisy(h: Tensor, sigma: number): Tensor {
    return this.training ? h.add(ops.randn(h.shape, { std: sigma, generator: this.rng })) : h;
  }
  /** One logit per pair: x [N, nc, s, s], y [N, numClasses] (one-hot or soft). */
  override forward(x: Tensor, y: Tensor): Tensor {
    let h = this.noisy(x.flatten(), 0.3);
    for (const l of this.layers) h = this.noisy((l as LabelledLinear).call(h, y).leakyRelu(0.2), 0.5);
    return this.out.call(h, y).reshape([-1]);
  }
}

/**
 * He-normal weights (LeakyReLU 0.2 gain), zero biases. D has no normalisation and adds noise of a
 * fixed scale to every hidden layer, so its activations must keep unit scale through the stack (the
 * reference gets this from weight normalisation's data-dependent init); N(0, 0.02) would shrink them
 * below the noise.
 */
export function initDiscriminator_(netD: TripleDiscriminator, rng: Generator): void {
  noGrad(() => {
    for (const m of netD.modules()) {
      if (m instanceof nn.Linear) {
        init.kaimingNormal_(m.weight, { a: 0.2, generator: rng });
        if (m.bias) init.zeros_(m.bias);
      }
    }
  });
}

// ---- training ------------------------------------------------------------------------------------------------------

/** The labelled set on the GPU-ready host side: images, labels, batches drawn with a Philox stream. */
export class LabelledSet {
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly indices: Int32Array;
  private readonly plane: number;

  constructor(
    source: { images: Float32Array; labels: ArrayLike<number>; n: number },
    cfg: Pick<TripleganConfig, 'perClass' | 'numClasses' | 'labelSeed' | 'nc' | 'imageSize'>,
  ) {
    this.plane = cfg.nc * cfg.imageSize * cfg.imageSize;
    if (source.images.length < source.n * this.plane) {
      throw new Error(
        `bindData: ${source.n} images of ${cfg.nc}x${cfg.imageSize}x${cfg.imageSize} need ${source.n * this.plane} values, got ${source.images.length} (load them at size ${cfg.imageSize})`,
      );
    }
    this.indices = selectLabelled(
      Array.from({ length: source.n }, (_, i) => source.labels[i]),
      cfg.perClass,
      cfg.numClasses,
      cfg.labelSeed,
    );
    const m = this.indices.length;
    this.images = new Float32Array(m * this.plane);
    this.labels = new Int32Array(m);
    this.indices.forEach((src, j) => {
      this.images.set(source.images.subarray(src * this.plane, (src + 1) * this.plane), j * this.plane);
      this.labels[j] = source.labels[src];
    });
  }

  get size(): number {
    return this.labels.length;
  }

  /** n examples drawn uniformly with replacement. */
  draw(n: number, rng: Generator): { images: Float32Array; labels: Int32Array } {
    const picks = ops.hostRandint(n, this.size, rng);
    const images = new Float32Array(n * this.plane);
    const labels = new Int32Array(n);
    picks.forEach((j, b) => {
      images.set(this.images.subarray(j * this.plane, (j + 1) * this.plane), b * this.plane);
      labels[b] = this.labels[j];
    });
    return { images, labels };
  }
}

/** One-hot rows of argmax (ties share): the hard label C assigns. */
function hardLabels(probs: Tensor): Tensor {
  return ops.eqMask(probs, probs.max(-1, true));
}

export class TripleganTrainer implements GanTrainer {
  readonly nets: { netG: TripleGenerator; netD: TripleDiscriminator; netC: TripleClassifier };
  readonly optimizers: { netG: optim.Adam; netD: optim.Adam; netC: optim.Adam };
  readonly rng: Generator;
  readonly sampler = 'netG';
  readonly cfg: TripleganConfig;
  private labelled: LabelledSet | null = null;
  private xl: Tensor | null = null;
  private yl: Tensor | null = null;

  constructor(
    readonly config: ModelConfig,
    settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2'>,
    seed: number,
  ) {
    this.cfg = parseConfig(params, config);
    this.rng = new Generator(seed);
    const netG = new TripleGenerator(this.cfg);
    const netD = new TripleDiscriminator(this.cfg, this.rng);
    const netC = new TripleClassifier(this.cfg, this.rng);
    init.dcganInit_(netG.modules(), this.rng);
    init.dcganInit_(netC.modules(), this.rng);
    initDiscriminator_(netD, this.rng);
    this.nets = { netG, netD, netC };
    const opt = { lr: settings.lr, betas: [settings.beta1, settings.beta2] as [number, number] };
    this.optimizers = { netG: new optim.Adam(netG, opt), netD: new optim.Adam(netD, opt), netC: new optim.Adam(netC, opt) };
  }

  /** Binds the labelled training set (images at imageSize, labels); selects the labelled subset. */
  bindData(data: { images: Float32Array; labels?: ArrayLike<number>; n: number }): void {
    const { labels } = data;
    if (!labels) throw new Error('triplegan: the training data has no class labels (train on --dataset mnist)');
    this.labelled = new LabelledSet({ images: data.images, labels, n: data.n }, this.cfg);
    this.dropLabelledTensors();
  }

  get labelledSet(): LabelledSet | null {
    return this.labelled;
  }

  /** Steps taken so far (C is updated every step). */
  get stepsDone(): number {
    return this.optimizers.netC.stepCount(0);
  }

  /** Codes [n, nz + numClasses]: z ~ N(0, I) and the one-hot label i mod numClasses. */
  noise(n: number, generator: Generator): Tensor {
    const { nz, numClasses } = this.cfg;
    return tidy(() => ops.concat([ops.randn([n, nz], { generator }), labelCodes(n, numClasses)], 1));
  }

  /**
   * A labelled batch of n examples drawn uniformly with replacement: LabelledSet.draw's picks (the
   * same hostRandint words from the stream), but drawn and gathered on the GPU from the labelled set
   * kept there (uploaded once), so a step that takes it can be replayed. The caller disposes them.
   */
  private drawLabelled(n: number): { x: Tensor; y: Tensor } {
    const set = this.labelled!;
    const { nc, imageSize: s } = this.cfg;
    if (!this.xl || !this.yl) {
      this.xl = tensor(set.images, [set.size, nc, s, s]).keep();
      this.yl = tensor(set.labels, [set.size], 'int32').keep();
    }
    const [x, y] = ops.sampleRows([this.xl, this.yl], n, this.rng);
    return { x, y };
  }

  /**
   * One step. x_u = `real` (unlabelled). During warm-up (and with supervisedOnly) only C trains, on
   * the labelled batch. Stats: lossC, lossCE (R_L), accL (C's accuracy on the labelled batch), and
   * in the game lossD, lossG, lossCadv, lossRP, D_x (labelled pairs), D_c (C's pairs), D_G_z.
   */
  /**
   * Replay: the phase is the step's control flow (warm-up: C alone; the game; the game with R_P).
   * The labelled batch and G's labels are drawn and gathered on the GPU (drawLabelled, ops.randint).
   */
  readonly replay = {
    key: () => {
      const { supervisedOnly, warmupSteps, rpStart, alphaP } = this.cfg;
      const done = this.stepsDone;
      const game = !supervisedOnly && done >= warmupSteps;
      return `game=${+game} rp=${+(game && done >= rpStart && alphaP > 0)}`;
    },
  };

  step(real: Tensor, withStats: boolean): StepStats | null {
    if (!this.labelled) {
      throw new Error(
        'triplegan: no labelled set bound; call trainer.bindData(loadMnist({ split: "train" })) before training (the image batches carry no labels)',
      );
    }
    const { cfg } = this;
    const { netG, netD, netC } = this.nets;
    const game = !cfg.supervisedOnly && this.stepsDone >= cfg.warmupSteps;
    const useRP = game && this.stepsDone >= cfg.rpStart && cfg.alphaP > 0;
    return tidy(() => {
      const { x: xl, y: yl } = this.drawLabelled(cfg.labelledBatch);
      const logitsL = netC.call(xl);
      const ce = ops.softmaxCrossEntropy(logitsL, yl);
      if (!game) {
        minimize(ce, this.optimizers.netC);
        return withStats ? noGrad(() => ({ lossC: ce.detach(), lossCE: ce.detach(), accL: accuracy(logitsL, yl) })) : null;
      }
      const { alpha, nz, numClasses } = cfg;
      const n = real.shape[0];
      const ylHot = ops.oneHot(yl, numClasses);
      // C labels the unlabelled batch; D sees the hard label, C's weight is its probability.
      const probsU = netC.call(real).softmax();
      const ycHot = noGrad(() => hardLabels(probsU.detach()));
      const pMax = probsU.mul(ycHot).sum(-1);
      // G draws labels uniformly.
      const yg = noGrad(() => ops.oneHot(ops.randint([n], 0, numClasses, { generator: this.rng }), numClasses));
      const fake = netG.generate(ops.randn([n, nz], { generator: this.rng }), yg);

      // D: labelled pairs real; C's and G's pairs fake, weighted alpha and 1 - alpha.
      const dReal = netD.call(xl, ylHot);
      const dC = netD.call(real, ycHot);
      const dFake = netD.call(fake.detach(), yg);
      const lossD = ops.bceWithLogits(dReal, 1).add(
        ops
          .bceWithLogits(dC, 0)
          .mul(alpha)
          .add(ops.bceWithLogits(dFake, 0).mul(1 - alpha)),
      );
      minimize(lossD, this.optimizers.netD);

      // G: fool the updated D on its pairs.
      const lossG = ops.bceWithLogits(netD.call(fake, yg), 1).mul(1 - alpha);
      minimize(lossG, this.optimizers.netG, { frozen: [netD] });

      // C: fool D on its pairs (through p_c(y_c | x)), fit the labels, and (later) G's pairs.
      const dCNow = noGrad(() => netD.call(real, ycHot));
      // paper: log(1 - D) = -BCE(D, 0); code: BCE(D, 1) = -log D (see the header).
      const advC =
        cfg.classifierAdv === 'code'
          ? pMax
              .mul(ops.bceWithLogits(dCNow, 1, { reduction: 'none' }))
              .mean()
              .mul(alpha)
          : pMax
              .mul(ops.bceWithLogits(dCNow, 0, { reduction: 'none' }))
              .mean()
              .mul(-alpha);
      let lossC = advC.add(ce);
      let rp: Tensor | null = null;
      if (useRP) {
        rp = ops.softmaxCrossEntropy(netC.call(fake.detach()), yg);
        lossC = lossC.add(rp.mul(cfg.alphaP));
      }
      minimize(lossC, this.optimizers.netC);

      if (!withStats) return null;
      return noGrad(() => {
        const stats: StepStats = {
          lossD: lossD.detach(),
          lossG: lossG.detach(),
          lossC: lossC.detach(),
          lossCE: ce.detach(),
          lossCadv: advC.detach(),
          accL: accuracy(logitsL, yl),
          D_x: dReal.detach().sigmoid().mean(),
          D_c: dC.detach().sigmoid().mean(),
          D_G_z: dFake.detach().sigmoid().mean(),
        };
        if (rp) stats.lossRP = rp.detach();
        return stats;
      });
    });
  }

  generate(z: Tensor, opts: { batchStats?: boolean } = {}): Tensor {
    return generateWith(this.nets.netG, z, opts.batchStats ?? true);
  }

  /**
   * C's error rate (fraction wrong) on a labelled set, in eval mode (running BN statistics, no
   * dropout), `batch` images per forward pass.
   */
  async evaluate(images: Float32Array, labels: ArrayLike<number>, n: number, batch = 500): Promise<number> {
    return classifierError(this.nets.netC, images, labels, n, this.cfg, batch);
  }

  /** Frees the networks, optimizers and the labelled set's GPU copy. */
  dispose(): void {
    for (const o of Object.values(this.optimizers)) o.dispose();
    for (const net of Object.values(this.nets)) net.dispose();
    this.dropLabelledTensors();
  }

  private dropLabelledTensors(): void {
    this.xl?.dispose();
    this.yl?.dispose();
    this.xl = null;
    this.yl = null;
  }
}

/** One-hot rows of the labels 0, 1, ..., numClasses - 1, 0, 1, ... */
function labelCodes(n: number, numClasses: number): Tensor {
  const data = new Float32Array(n * numClasses);
  for (let i = 0; i < n; i++) data[i * numClasses + (i % numClasses)] = 1;
  return tensor(data, [n, numClasses]);
}

/** Error rate of a classifier in eval mode over host images (n x nc x s x s) and labels. */
export async function classifierError(
  netC: TripleClassifier,
  images: Float32Array,
  labels: ArrayLike<number>,
  n: number,
  cfg: Pick<TripleganConfig, 'nc' | 'imageSize'>,
  batch = 500,
): Promise<number> {
  const plane = cfg.nc * cfg.imageSize * cfg.imageSize;
  const wasTraining = netC.training;
  netC.eval();
  let wrong = 0;
  try {
    for (let start = 0; start < n; start += batch) {
      const m = Math.min(batch, n - start);
      const logits = noGrad(() =>
        tidy(() => netC.call(tensor(images.subarray(start * plane, (start + m) * plane), [m, cfg.nc, cfg.imageSize, cfg.imageSize]))),
      );
      const v = await logits.data();
      logits.dispose();
      const k = v.length / m;
      for (let i = 0; i < m; i++) {
        let best = 0;
        for (let c = 1; c < k; c++) if (v[i * k + c] > v[i * k + best]) best = c;
        if (best !== labels[start + i]) wrong++;
      }
    }
  } finally {
    netC.train(wasTraining);
  }
  return wrong / n;
}

/**
 * The paper's baseline: C alone (supervisedOnly) on the same labelled subset (perClass, labelSeed),
 * the same architecture, settings and seed as the run, trained for `steps` steps (the run's own C
 * updates: one per step, warm-up included). Returns the trained trainer; the caller disposes it.
 */
export async function trainSupervisedBaseline(
  create: (config: ModelConfig) => GanTrainer,
  config: ModelConfig,
  data: { images: Float32Array; labels: ArrayLike<number>; n: number },
  steps: number,
  log?: (line: string) => void,
): Promise<TripleganTrainer> {
  const b = createSupervisedBaseline(create, config);
  try {
    await runSupervisedBaseline(b, data, steps, log);
  } catch (e) {
    b.dispose();
    throw e;
  }
  return b;
}

/** The judge store's name and key of a run's supervised-only baseline (EvalContext.judgeStore). */
export const SUPERVISED_BASELINE_NAME = 'triplegan-baseline';
export function supervisedBaselineKey(config: ModelConfig, steps: number): Record<string, unknown> {
  return { config: { ...config, supervisedOnly: true }, steps };
}

/** A fresh supervised-only twin of the run: the same config with supervisedOnly, untrained. */
function createSupervisedBaseline(create: (config: ModelConfig) => GanTrainer, config: ModelConfig): TripleganTrainer {
  return create({ ...config, supervisedOnly: true }) as TripleganTrainer;
}

/** Trains a fresh supervised-only twin for `steps` steps on the labelled subset of `data`. */
async function runSupervisedBaseline(
  b: TripleganTrainer,
  data: { images: Float32Array; labels: ArrayLike<number>; n: number },
  steps: number,
  log?: (line: string) => void,
): Promise<void> {
  b.bindData(data);
  const { nc, imageSize: s } = b.cfg;
  // C alone never reads the unlabelled batch; step() takes one all the same.
  const unused = tensor(new Float32Array(nc * s * s), [1, nc, s, s]).keep();
  try {
    for (let i = 1; i <= steps; i++) {
      const withStats = i % 50 === 0 || i === steps; // a readback now and then: the queue drains, memory stays flat
      const stats = b.step(unused, withStats);
      if (stats) {
        const loss = (await (stats.lossC as Tensor).data())[0];
        for (const v of Object.values(stats)) (v as Tensor).dispose?.();
        if (log && (i % 500 === 0 || i === steps)) log(`supervised-only baseline: step ${i}/${steps} lossC ${loss.toFixed(4)}`);
      }
    }
  } finally {
    unused.dispose();
  }
}

/**
 * `gan eval`'s extra for a run on MNIST: C scored as a classifier, its error on all 10000 test digits
 * at the model's geometry, as the paper reports it; the untrained C (the run's seeded
 * initialisation) gives the chance-level end of the scale. Given the training split and a trainer
 * factory (the CLI gives both), also the paper's comparison: a supervised-only C of the same
 * architecture trained on the same labelled examples for as many steps as the run
 * (trainSupervisedBaseline), scored on the same test digits (json supervisedBaseline.testError).
 */
async function evalClassifier(trained: GanTrainer, untrained: GanTrainer, ctx: EvalContext): Promise<EvalExtras | null> {
  if (!ctx.testSet) return null; // the CLI gives MNIST's labelled test split for runs on MNIST
  const test = ctx.testSet();
  const geometry = { nc: ctx.channels, imageSize: ctx.size };
  const netC = (trained as TripleganTrainer).nets.netC;
  const untrainedC = (untrained as TripleganTrainer).nets.netC;
  const testError = await classifierError(netC, test.images, test.labels, test.n, geometry);
  const untrainedTestError = await classifierError(untrainedC, test.images, test.labels, test.n, geometry);
  const pct = (v: number) => (Number.isFinite(v) ? (100 * v).toFixed(2) : String(v));
  const lines = [
    `  classifier (netC) MNIST test error ${pct(testError)}% (untrained ${pct(untrainedTestError)}%) on ${test.n} test digits`,
  ];
  const json: Record<string, unknown> = { classifier: { testError, untrainedTestError, n: test.n } };
  const cfg = (trained as TripleganTrainer).cfg;
  const steps = ctx.step ?? 0;
  if (!cfg.supervisedOnly && ctx.trainSet && ctx.createTrainer && steps > 0) {
    ctx.log?.(
      `supervised-only baseline: C alone on the run's ${cfg.perClass * cfg.numClasses} labels (label seed ${cfg.labelSeed}), ${steps} steps`,
    );
    const { createTrainer, trainSet, judgeStore } = ctx;
    // The store (the CLI's: zoo/judges/, then .cache/metrics/) keeps the trained baseline, so a second
    // eval of the run, or `gan eval --pretrained triplegan` from a clone, trains nothing.
    const { value: b, source } = judgeStore
      ? await judgeStore({
          name: SUPERVISED_BASELINE_NAME,
          key: supervisedBaselineKey(trained.config, steps),
          what: 'supervised-only baseline',
          create: () => createSupervisedBaseline(createTrainer, trained.config),
          moduleOf: (t) => t.nets.netC,
          train: async (t) => {
            const t0 = performance.now();
            await runSupervisedBaseline(t, trainSet(), steps, ctx.log);
            return { train_seconds: ((performance.now() - t0) / 1000).toFixed(1) };
          },
        })
      : { value: await trainSupervisedBaseline(createTrainer, trained.config, trainSet(), steps, ctx.log), source: 'trained' };
    try {
      const baselineError = await classifierError(b.nets.netC, test.images, test.labels, test.n, geometry);
      lines.push(
        `  supervised-only baseline (the same C on the same ${cfg.perClass * cfg.numClasses} labels, ${steps} steps): test error ${pct(baselineError)}% (weights ${source === 'trained' ? 'trained now' : `from the ${source === 'shipped' ? 'shipped file' : 'cache'}`})`,
      );
      json.supervisedBaseline = {
        testError: baselineError,
        steps,
        labels: cfg.perClass * cfg.numClasses,
        labelSeed: cfg.labelSeed,
        n: test.n,
        source,
      };
    } finally {
      b.dispose();
    }
  }
  return { lines, json };
}

// ---- the declaration ---------------------------------------------------------------------------

const count = { min: 1, max: 8192 };
const params = {
  imageSize: int(28, "image side (28: MNIST as is; 12 to 64 for the classifier's two poolings)", { min: 12, max: 64 }),
  numClasses: int(10, 'classes', count),
  nz: int(100, 'noise length', count),
  ngh: int(500, "generator's hidden units (500 in the paper)", count),
  ndh: int(1000, "discriminator's first hidden width (1000 in the paper; then 1/2, 1/4, 1/4, 1/4)", count),
  cw: int(32, "classifier's base width (32 in the paper: 32-64-64-128-128)", count),
  alpha: num(0.5, 'weight of the classifier pairs in the game (1/2 in the paper)', { min: 0, max: 1 }),
  alphaP: num(0.1, 'weight of the pseudo-discriminative loss R_P (0.1 in the code)', { min: 0 }),
  rpStart: int(20000, 'step from which R_P is used', { min: 0 }),
  warmupSteps: int(1000, 'supervised-only warm-up steps of C', { min: 0 }),
  perClass: int(10, 'labelled examples per class (10: 100 labels)', count),
  labelSeed: int(1, 'seed of the labelled-subset selection', { min: 0 }),
  labelledBatch: int(100, 'labelled examples per step', count),
  supervisedOnly: bool(false, 'train C alone on the labelled set (the supervised baseline)'),
  classifierAdv: choice(
    ['paper', 'code'],
    'paper',
    "C's adversarial term: paper = p_c log(1 - D) (Algorithm 1), code = p_c BCE(D, 1) (the authors' Theano code)",
  ),
  nc: int(1, 'image channels, from the training data', { fromData: true }),
};

export const tripleganRecipe = defineModel(
  {
    name: 'triplegan',
    description: 'Triple-GAN (Li et al. 2017): generator, classifier and discriminator; semi-supervised MNIST with 100 labels',
    paper: {
      label: 'Triple-GAN',
      title: 'Triple Generative Adversarial Nets',
      authors: 'Chongxuan Li, Kun Xu, Jun Zhu, Bo Zhang',
      year: 2017,
      arxiv: '1703.02291',
      code: 'github.com/zhenxuan00/triple-gan',
      summary:
        'A generator, a classifier and a discriminator over (image, label) pairs: semi-supervised classification and class-conditional generation.',
    },
    params,
    train: {
      steps: 60000,
      batch: 100,
      lr: 1e-3,
      beta1: 0.5,
      beta2: 0.999,
      sampleEvery: 2000,
      ckptEvery: 5000,
      logEvery: 50,
      dataset: 'mnist',
    },
    quick: {
      steps: 300,
      batch: 32,
      ngh: 128,
      ndh: 256,
      cw: 8,
      warmupSteps: 100,
      rpStart: 200,
      labelledBatch: 32,
      sampleEvery: 100,
      ckptEvery: 100,
      logEvery: 10,
    },
    paperPreset: {
      values: { steps: 603600, rpStart: 183000, warmupSteps: 3600 },
      sources: {
        steps:
          'reference x2y_yz2x_xy2p_ssl_mnist.py: num_epochs 1000 of 60000 / 100 iterations, after the 3600 warm-up steps (counted in --steps here)',
        batch: 'reference batch_size_u_c 100 (unlabelled batch of C; D and G use 400 and 200)',
        lr: 'reference lr 0.001, Adam beta1 0.5; annealed x0.995 per epoch from epoch 300 (not done here)',
        ngh: 'paper: G an MLP with 500 hidden units',
        ndh: 'paper: D an MLP of 1000 hidden units first',
        cw: 'paper: C a CNN of 32-64-64-128-128 filters',
        alphaP: 'reference alpha_cla_g 0.1',
        rpStart: 'reference epoch_cla_g 300: R_P from epoch 300, i.e. 3600 warm-up + 299 x 600 steps',
        warmupSteps:
          'reference: C pretrained 30 epochs of 60000 / 500 (semi-supervised, at lr 0.0003; here supervised warm-up at the main rate)',
        perClass: 'paper: 100 labels on MNIST',
        labelledBatch: 'reference batch_size_l_c 100',
      },
      note: "MNIST with 100 labels, as the paper. The reference's per-network batch sizes (C 100, D 400, G 200), its learning-rate annealing and its semi-supervised pretraining of C are approximated by one batch of 100, a constant rate and a supervised warm-up.",
    },
    adaptToData: (_c, data) => ({ nc: data.channels }),
    imageShape: (c) => ({ channels: c.nc, size: c.imageSize }),
    create: (c, settings, seed) => new TripleganTrainer(c, settings, seed),
  },
  {
    evalExtras: evalClassifier,
  },
);
