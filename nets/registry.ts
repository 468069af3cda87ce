// The models the `gan` CLI (and the demos) know, by name. A ModelRecipe says how to build a
// model's networks from a config, what its hyper-parameters and training defaults are, and hands
// back a GanTrainer that owns the networks, their optimizers and the noise generator and knows
// how to take one training step and how to draw samples. The CLI's train/sample/convert commands
// are written once against these interfaces; a new paper registers one entry here.

import type { OptionSpec } from '../cli/lib/args.js';
import type { Generator, Tensor, nn, optim } from '../engine/index.js';
import type { DemoProfile, PaperInfo, Params } from './lib/model.js';
import { dcganRecipe } from './dcgan.js';
import { pix2pixRecipe } from './pix2pix.js';
import { cycleganRecipe } from './cyclegan.js';
import { autoencoderRecipe } from './autoencoder.js';
import { ebganRecipe } from './ebgan.js';
import { beganRecipe } from './began.js';
import { gmanRecipe } from './gman.js';
import { madganRecipe } from './madgan.js';
import { dualganRecipe } from './dualgan.js';
import { discoganRecipe } from './discogan.js';
import { starganRecipe } from './stargan.js';
import { lapganRecipe } from './lapgan.js';
import { stackganRecipe } from './stackgan.js';
import { stackganppRecipe } from './stackganpp.js';
import { tripleganRecipe } from './triplegan.js';

/** A model's hyper-parameters (flags such as --ngf), JSON-safe so checkpoints can store them. */
export type ModelConfig = Record<string, number | string | boolean>;

/** Training-loop settings every recipe gives defaults for (flags --steps, --batch, ...). */
export interface TrainSettings {
  steps: number;
  batch: number;
  lr: number;
  beta1: number;
  beta2: number;
  /** Write an 8x8 sample grid every this many steps (0: only at the end). */
  sampleEvery: number;
  /** Save the checkpoint every this many steps (0: only at the end). */
  ckptEvery: number;
  /** Read the losses back every this many steps (the only host sync in the loop). */
  logEvery: number;
  dataset: string;
}

/**
 * The --paper preset: the paper's own hyper-parameters (its reference implementation's where the
 * paper is silent), as overrides of the recipe's defaults in --quick's form, each with its source.
 * Where the engine or the data here cannot honour a setting (CelebA, CUB, LSUN are not available;
 * SGD or a learning-rate schedule the trainer does not have), the value is the closest one it can
 * run and `sources`/`note` say what differs. docs/hyperparameters.md is generated from these
 * (scripts/hparams-table.mjs) and a test keeps it current.
 */
export interface PaperPreset {
  /** Overrides of `train` and the option defaults (keys as in `quick`). */
  values: Partial<TrainSettings> & ModelConfig;
  /**
   * Where each value comes from ('paper Sec. 4', 'reference main.py default'), and what differs
   * from it here. May also name keys whose default already is the paper's value.
   */
  sources: Record<string, string>;
  /** Keys whose paper value could not be confirmed from the paper or its reference code. */
  unconfirmed?: readonly string[];
  /** The paper's data set(s) and what trains in their place, and anything else not honoured. */
  note: string;
}

export interface ModelRecipe {
  name: string;
  /** One line for `gan info` and --help. */
  description: string;
  /** The paper and the reference implementation followed. */
  reference: string;
  /** Model flags with their defaults, in the CLI's option-spec form (keys camelCase). */
  options: Record<string, OptionSpec>;
  /** Default training settings, and the --quick preset (overrides, about a minute on a software adapter). */
  train: TrainSettings;
  quick: Partial<TrainSettings> & ModelConfig;
  /** The --paper preset: the paper's settings, with sources (see PaperPreset). */
  paper: PaperPreset;
  /**
   * Config keys that follow from the training data rather than from flags (e.g. DCGAN's nc, the
   * dataset's channels); the CLI applies it before imageShape(). Absent: the config is used as is.
   */
  adaptToData?(config: ModelConfig, data: { channels: number }): ModelConfig;
  /** Image channels and size the model consumes, from its config (the dataset is loaded to match). */
  imageShape(config: ModelConfig): { channels: number; size: number };
  /** Problems with a config, as messages naming the flag ('--image-size must be ...'); empty when fine. */
  validate(config: ModelConfig): string[];
  /**
   * The part of a config readable from one network's PyTorch state_dict shapes (for `gan convert`),
   * or null when the keys do not look like that network.
   */
  inferConfig?(net: string, shapes: ReadonlyMap<string, readonly number[]>): Partial<ModelConfig> | null;
  /** Builds the networks (initialised from `seed`) and their optimizers. */
  create(config: ModelConfig, settings: TrainSettings, seed: number): GanTrainer;
  /** The paper (title, authors, year, links, the gallery's one-line summary). */
  info?: PaperInfo;
  /** How the demo pages show it (charts, grid, blurb, page defaults, its own page). */
  demo?: DemoProfile;
  /**
   * Multi-domain translation (StarGAN): the domains, image side and the (source, target) pair that
   * `gan eval` scores. The recipe's `translate` hook (nets/lib/translation.ts TranslationEval) takes
   * packed rows (data/domains.ts packDomains: the image, then one label plane per domain, the
   * target's set). With it, `gan eval` adds a domain classifier's reading of every held-out image
   * translated into every domain (cli/eval_domains.ts), and the sample grids of `gan train` and
   * `gan sample` show held-out images translated into every domain over their ground truth.
   */
  domainTranslation?(config: ModelConfig): DomainTranslation;
  /**
   * Text-conditioned models (StackGAN; StackGAN++ with --conditional): `gan sample --caption` and
   * the test captions of `gan sample` / `gan eval` become latent codes through `codes`.
   */
  text?: TextConditioning;
  /**
   * Models trained stage after stage (StackGAN's Stage-I, then Stage-II): `gan sample --stage` and
   * `gan eval --stage` show or score one stage's images at their own size.
   */
  stages?: Stages;
  /**
   * Its form on low-dimensional Gaussian mixtures (MLP networks), for the mode-counting comparison
   * (`gan eval modes`, nets/mode_eval.ts) and the 2-D game page (demos/game). Absent: not offered there.
   */
  mixture?: MixtureModel;
  /**
   * Numbers `gan eval` adds for a generator checkpoint beyond the image metrics (Triple-GAN: its
   * classifier's test error), from the trained and the untrained (seeded) trainer. The CLI passes
   * what it loads from disk (`testSet`, when the run trained on a labelled set it can load). Null:
   * nothing to add for this run.
   */
  evalExtras?(trained: GanTrainer, untrained: GanTrainer, ctx: EvalContext): Promise<EvalExtras | null>;
  /**
   * Whether a run with this config lays its learning-rate schedule out over --steps, so that a
   * resume with other --steps moves the schedule (`gan train` says so). Absent: a fixed schedule.
   */
  scheduleFollowsSteps?(config: ModelConfig): boolean;
}

/** What `gan eval` hands a recipe's evalExtras hook. */
export interface EvalContext {
  /** The data set the run trained on ('mnist', 'stacked-mnist', 'emoji', ...). */
  dataset: string;
  /** The images' channels and side as the model consumes them. */
  channels: number;
  size: number;
  /** The labelled test split of that data set at that geometry (given for MNIST runs; absent where the CLI has none). */
  testSet?: () => TrainingData & { labels: ArrayLike<number> };
  /** The labelled training split at that geometry (MNIST runs): what a baseline trained at eval time binds. */
  trainSet?: () => TrainingData & { labels: ArrayLike<number> };
  /** A fresh trainer of the run's recipe, settings and seed with this config (a baseline of the same networks). */
  createTrainer?: (config: ModelConfig) => GanTrainer;
  /** The step the evaluated checkpoint was saved at. */
  step?: number;
  /** Progress of long extras (a baseline's training), for the terminal. */
  log?: (line: string) => void;
  /**
   * Where an extra keeps the weights it trains (a baseline): the shipped file (zoo/judges/) or the
   * cache when one of this key is there, else trained now and cached (the CLI gives it). Absent:
   * the extra trains every time.
   */
  judgeStore?: JudgeStore;
}

/** What an extra asks of EvalContext.judgeStore. */
export interface JudgeRequest<T extends { dispose(): void }> {
  /** The file name's stem ('triplegan-baseline'); the store adds a hash of the key and of the run's settings. */
  name: string;
  /** Everything the weights depend on besides the run's settings, seed, data set and --limit (config, steps). */
  key: Record<string, unknown>;
  /** What it is, for log lines. */
  what: string;
  /** A fresh holder of the net (a trainer). */
  create: () => T;
  /** The net whose state_dict the file holds. */
  moduleOf: (value: T) => nn.Module;
  /** Trains the fresh holder; returns metadata to store beside the weights. */
  train: (value: T) => Promise<Record<string, string>>;
}

export type JudgeStore = <T extends { dispose(): void }>(
  request: JudgeRequest<T>,
) => Promise<{ value: T; source: 'shipped' | 'cache' | 'trained'; path: string; metadata: Record<string, string> }>;

/** What an evalExtras hook reports: lines for the terminal, and keys for <checkpoint>.eval.json. */
export interface EvalExtras {
  lines: string[];
  json: Record<string, unknown>;
}

/** The shared settings of a run on a mixture, with the model's own mixture parameters (MixtureModel.params). */
export interface MixtureRunConfig {
  [key: string]: number | string | boolean;
  /** Noise length, hidden width and hidden layers of every G and D. */
  nz: number;
  hidden: number;
  layers: number;
  lr: number;
  beta1: number;
  beta2: number;
  seed: number;
}

/**
 * A model on Gaussian mixtures: MLP versions of its networks at the comparison's shared sizes,
 * and what the game page needs to draw its discriminators and generators.
 */
export interface MixtureModel {
  /** Display name for its flags' help ('MAD-GAN'). */
  label: string;
  /** Its own parameters on mixtures, with the defaults these runs use (flags of `gan eval modes`). */
  params: Params;
  /** Checks involving the shared sizes (messages naming the flags). */
  check?(o: MixtureRunConfig): string[];
  /** A trainer on `dim`-dimensional vectors, initialised from o.seed; step(real [N, dim]). */
  create(o: MixtureRunConfig, dim: number): GanTrainer;
  /** Its discriminators, each giving one logit per sample (or `classes` logits). */
  discriminators(t: GanTrainer): nn.Module[];
  /** Logits per sample when D names the generator of a sample (the last class: real); absent: one logit. */
  classes?(o: MixtureRunConfig): number;
  /** How generate()'s n samples are shared among its generators, in order; absent: one generator. */
  generatorSizes?(n: number, o: MixtureRunConfig): number[];
}

/** How a text-conditioned model turns captions into latent codes (ModelRecipe.text). */
export interface TextConditioning {
  /** Whether a run with this config is conditioned on captions. */
  conditioned(config: ModelConfig): boolean;
  /** Latent codes for explicit captions (token lists), one per caption; z and noise from `generator`. */
  codes(trainer: GanTrainer, captions: readonly (readonly string[])[], generator: Generator): Tensor;
}

/** A model's stages (ModelRecipe.stages), numbered 1 .. count. */
export interface Stages {
  count: number;
  /** Its name in messages ('Stage-II'). */
  label(stage: number): string;
  /** The last stage the trainer's run has reached (its training state: optimiser step counts). */
  reached(trainer: GanTrainer): number;
  /** The trainer's training phase, for reports ('text', 'stage1', 'stage2'). */
  phase(trainer: GanTrainer): string;
  /** Image side of a stage's output. */
  size(config: ModelConfig, stage: number): number;
  /** One stage's images at its own size for latent codes z, without gradients. */
  generate(trainer: GanTrainer, z: Tensor, stage: number, opts: { batchStats?: boolean }): Tensor;
}

/** What a multi-domain translator's config says about its domains (ModelRecipe.domainTranslation). */
export interface DomainTranslation {
  /** Number of domains (label planes after the image's 3 channels). */
  count: number;
  /** Image side. */
  size: number;
  /** The domain pair `gan eval` scores with L1 / PSNR / SSIM, and the sample grids' source domain. */
  source: number;
  target: number;
}

/** Scalars of one step, kept on the GPU until the loop reads them all back at once. */
export type StepStats = Record<string, Tensor>;

/**
 * The whole training set as the CLI loaded it, for trainers that need more than image batches
 * (GanTrainer.bindData): Triple-GAN's class labels, StackGAN's captions. Images n x c x h x w in
 * [-1, 1], row-major.
 */
export interface TrainingData {
  images: Float32Array;
  n: number;
  c?: number;
  h: number;
  w: number;
  /** Integer class of each image (MNIST digits, emoji categories). */
  labels?: ArrayLike<number>;
  /** Each image's caption as lowercase tokens (emoji-text). */
  tokens?: readonly (readonly string[])[];
}

export interface GanTrainer {
  readonly config: ModelConfig;
  /** Networks by name ('netG', 'netD'), as the reference implementation saves them. */
  readonly nets: Record<string, nn.Module>;
  /** One optimizer per network, same names (Adam for most papers, RMSprop for DualGAN). */
  readonly optimizers: Record<string, optim.Optimizer>;
  /** The generator drawing the training noise; its state goes into checkpoints. */
  readonly rng: Generator;
  /**
   * Training state beyond networks, optimizers and rng that an exact resume needs (CycleGAN's image
   * pools), as Modules whose state dicts carry it. Checkpoints store them next to the networks;
   * they are not networks (`gan convert` and `gan sample` skip them). Names: no dots.
   */
  readonly trainingState?: Record<string, nn.Module>;
  /** Name of the network whose output `generate` returns (the sample grids' source). */
  readonly sampler: string;
  /**
   * One optimisation step on a batch of real images. Everything it allocates is released before it
   * returns, except the scalar tensors it returns when `withStats` is set (caller disposes them).
   */
  step(real: Tensor, withStats: boolean): StepStats | null;
  /**
   * Recorded-step replay (engine/replay.ts; `replayed()` in nets/lib/step.ts): what step() decides
   * and does on the host outside its GPU work. Absent: every step runs eagerly (the fallback reason
   * says so).
   */
  readonly replay?: ReplayHooks;
  /** Latent codes for n samples, drawn from `generator`. */
  noise(n: number, generator: Generator): Tensor;
  /**
   * Images in [-1, 1] from latent codes, without recording gradients. By default normalisation
   * layers use the batch's own statistics (as the reference sample grids do) and leave the running
   * statistics untouched; `batchStats: false` runs the generator in eval mode.
   */
  generate(z: Tensor, opts?: { batchStats?: boolean }): Tensor;
  /**
   * Trainers whose step needs side data (labels, captions) take the training set here, once, after
   * construction and before noise() or step() (`gan train` binds before restoring a checkpoint:
   * binding draws nothing from the noise stream); they draw what they need with their own
   * checkpointed stream. Throws, naming the dataset to use, when the data lacks what the model needs.
   */
  bindData?(data: TrainingData): void;
  /**
   * Cascades that sample coarse to fine (LAPGAN): the sampling chain of codes z, through the same
   * generator pass as generate(); the training page's "walk the pyramid" panel shows it for any
   * trainer that has it. No gradients; the caller owns (disposes) the tensors.
   */
  pyramidChain?(z: Tensor, opts?: { batchStats?: boolean }): PyramidChain;
  /**
   * Frees everything the trainer holds: networks, optimizers and what else it keeps (cached label
   * tensors, sample pools). Trainers that hold only networks and optimizers omit it (disposeTrainer
   * then frees those).
   */
  dispose?(): void;
}

/** A trainer's host side, for recorded-step replay (GanTrainer.replay). */
export interface ReplayHooks {
  /**
   * The control flow the next step() takes, from the trainer's host state: which networks update,
   * the phase, whether sample inputs are still being gathered. A replay runs only while this key
   * equals the recorded step's. Null: the next step cannot be replayed (say why in `why`).
   */
  key(): string | null;
  /** Why key() returned null. */
  why?(): string;
  /**
   * The host-only work step() does before its GPU work that a replay must redo in its place
   * (learning-rate schedules set from step counts, counters). Must leave the same state whether
   * step() runs after it or not.
   */
  host?(): void;
}

/** One conditional level of a coarse-to-fine sampling chain: up = pyrUp(coarser image), band = G_k(up, z_k), image = up + band. */
export interface PyramidStep {
  /** Pyramid level k (0 = finest). */
  level: number;
  /** The coarser image expanded to this level's size. */
  up: Tensor;
  /** The band the level's generator drew for it (unsquashed). */
  band: Tensor;
  /** up + band: the level's image (unclamped). */
  image: Tensor;
}

/** The coarse-to-fine sampling chain of a batch of codes ("walk the pyramid"). */
export interface PyramidChain {
  /** The coarsest level's image (the coarse GAN's). */
  coarse: Tensor;
  /** The finer levels, coarse to fine (the last one's image is the sample). */
  steps: PyramidStep[];
}

export const recipes: Record<string, ModelRecipe> = {
  dcgan: dcganRecipe,
  autoencoder: autoencoderRecipe,
  ebgan: ebganRecipe,
  began: beganRecipe,
  lapgan: lapganRecipe,
  stackgan: stackganRecipe,
  stackganpp: stackganppRecipe,
  gman: gmanRecipe,
  madgan: madganRecipe,
  triplegan: tripleganRecipe,
  pix2pix: pix2pixRecipe,
  cyclegan: cycleganRecipe,
  dualgan: dualganRecipe,
  discogan: discoganRecipe,
  stargan: starganRecipe,
};

export function getRecipe(name: string): ModelRecipe | undefined {
  return Object.hasOwn(recipes, name) ? recipes[name] : undefined;
}
