// The models the `gan` CLI (and the demos) know, by name. A ModelRecipe says how to build a
// model's networks from a config, what its hyper-parameters and training defaults are, and hands
// back a GanTrainer that owns the networks, their optimizers and the noise generator and knows
// how to take one training step and how to draw samples. The CLI's train/sample/convert commands
// are written once against these interfaces; a new paper registers one entry here.

import type { OptionSpec } from '../cli/lib/args.js';
import type { Tensor } from '../engine/tensor.js';
import type { Generator } from '../engine/ops/random.js';
import type { Module } from '../engine/nn.js';
import type { Optimizer } from '../engine/optim.js';
import type { DemoProfile, PaperInfo } from './lib/model.js';
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
import { stackganRecipe, stackganppRecipe } from './stackgan.js';
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
  readonly nets: Record<string, Module>;
  /** One optimizer per network, same names (Adam for most papers, RMSprop for DualGAN). */
  readonly optimizers: Record<string, Optimizer>;
  /** The generator drawing the training noise; its state goes into checkpoints. */
  readonly rng: Generator;
  /**
   * Training state beyond networks, optimizers and rng that an exact resume needs (CycleGAN's image
   * pools), as Modules whose state dicts carry it. Checkpoints store them next to the networks;
   * they are not networks (`gan convert` and `gan sample` skip them). Names: no dots.
   */
  readonly trainingState?: Record<string, Module>;
  /** Name of the network whose output `generate` returns (the sample grids' source). */
  readonly sampler: string;
  /**
   * One optimisation step on a batch of real images. Everything it allocates is released before it
   * returns, except the scalar tensors it returns when `withStats` is set (caller disposes them).
   */
  step(real: Tensor, withStats: boolean): StepStats | null;
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
}

export const recipes: Record<string, ModelRecipe> = {
  dcgan: dcganRecipe,
  pix2pix: pix2pixRecipe,
  cyclegan: cycleganRecipe,
  autoencoder: autoencoderRecipe,
  ebgan: ebganRecipe,
  began: beganRecipe,
  gman: gmanRecipe,
  madgan: madganRecipe,
  dualgan: dualganRecipe,
  discogan: discoganRecipe,
  stargan: starganRecipe,
  lapgan: lapganRecipe,
  stackgan: stackganRecipe,
  stackganpp: stackganppRecipe,
  triplegan: tripleganRecipe,
};

export function getRecipe(name: string): ModelRecipe | undefined {
  return Object.prototype.hasOwnProperty.call(recipes, name) ? recipes[name] : undefined;
}
