// A training run in the page: one registry recipe's trainer (networks, optimisers, noise
// generator), a DataLoader over an in-memory dataset, a persistent batch tensor, the fixed latent
// codes of the sample grid, and the step count. Checkpoints use the CLI's run layout
// (cli/checkpoint_io.ts: config {model, config, settings, seed}, extra {loader, dataset}), so a
// checkpoint downloaded from the page samples and resumes with `gan sample` / `gan train --resume`,
// plus the page's loss history under extra.history.

import { tensor, tidy, type Tensor } from '../../engine/tensor.js';
import { Generator } from '../../engine/ops/random.js';
import { checkpointInfo, checkpointToBytes, restoreCheckpoint, type Json } from '../../engine/checkpoint.js';
import { DataLoader, type ArrayDataset, type LoaderState } from '../../data/loader.js';
import { getRecipe, type GanTrainer, type ModelConfig, type ModelRecipe, type TrainSettings } from '../../nets/registry.js';
import { StepPipeline, type Logged } from '../../nets/lib/pipeline.js';
import { replayed, type ReplayedTrainer } from '../../nets/lib/step.js';
import type { TranslationEval } from '../../nets/lib/translation.js';
import type { History } from './charts.js';

export interface RunSpec {
  model: string;
  config: ModelConfig;
  batch: number;
  lr: number;
  seed: number;
  /** The dataset's name (checkpoints record it; absent in the page's own older ones). */
  dataset?: string;
}

export class TrainingSession {
  readonly recipe: ModelRecipe;
  readonly trainer: GanTrainer;
  /** The trainer's steps, replayed once recorded (nets/lib/step.ts replayed()). */
  readonly stepper: ReplayedTrainer;
  /** Steps submitted ahead of the GPU, their measures read back asynchronously. */
  private readonly pipe: StepPipeline<number>;
  readonly loader: DataLoader;
  readonly settings: TrainSettings;
  step = 0;
  private readonly real: Tensor;
  private readonly sampleZ: Tensor;

  constructor(
    readonly spec: RunSpec,
    readonly dataset: ArrayDataset & { tokens?: readonly (readonly string[])[] },
    readonly datasetName: string,
    sampleCount: number,
  ) {
    const recipe = getRecipe(spec.model);
    if (!recipe) throw new Error(`no model '${spec.model}' in nets/registry.ts`);
    const errs = recipe.validate(spec.config);
    if (errs.length) throw new Error(`${spec.model}: ${errs.join('; ')}`);
    const { channels, size } = recipe.imageShape(spec.config);
    const [dc, dh, dw] = dataset.sampleShape;
    if (dc !== channels || dh !== size || dw !== size) {
      throw new Error(`${spec.model} wants ${channels}x${size}x${size} images, the dataset has ${dataset.sampleShape.join('x')}`);
    }
    this.recipe = recipe;
    this.settings = { ...recipe.train, batch: spec.batch, lr: spec.lr, dataset: datasetName };
    this.trainer = recipe.create(spec.config, this.settings, spec.seed);
    // Models that need labels or captions (Triple-GAN, StackGAN) take the whole set once, as in `gan train`.
    if (this.trainer.bindData) {
      try {
        this.trainer.bindData({ images: dataset.data, n: dataset.n, c: dc, h: dh, w: dw, labels: dataset.labels, tokens: dataset.tokens });
      } catch (e) {
        disposeTrainer(this.trainer);
        throw new Error(`${spec.model}: ${(e as Error).message} (dataset ${datasetName})`);
      }
    }
    // Recorded-step replay: the same bits as trainer.step(), a fraction of the host work per step.
    this.stepper = replayed(this.trainer);
    this.pipe = new StepPipeline(this.stepper);
    this.loader = new DataLoader(dataset, { batchSize: spec.batch, seed: spec.seed });
    this.real = tensor(new Float32Array(spec.batch * dc * dh * dw), [spec.batch, dc, dh, dw]).keep();
    // The grid's latent codes come from their own stream, so they stay fixed while training runs.
    this.sampleZ = tidy(() => this.trainer.noise(sampleCount, new Generator(spec.seed + 1_000_003)).keep());
  }

  get lr(): number {
    return Object.values(this.trainer.optimizers)[0]?.lr ?? this.spec.lr;
  }

  /** Sets the learning rate of every optimiser (takes effect at the next step). */
  setLr(lr: number): void {
    if (!(lr > 0 && lr < 1)) throw new Error(`learning rate must be in (0, 1), got ${lr}`);
    for (const o of Object.values(this.trainer.optimizers)) o.lr = lr;
    this.spec.lr = lr;
    this.settings.lr = lr;
  }

  /**
   * One training step, submitted; the GPU may still be running it when this returns (the page
   * encodes the next step meanwhile: nets/lib/pipeline.ts, never more than one step ahead). With
   * `withStats` its scalar measures are read back asynchronously. Returns the measures that have
   * arrived, each with its step: this step's or earlier ones' (settle() waits for the rest).
   */
  async trainStep(withStats: boolean): Promise<Logged<number>[]> {
    this.loader.nextInto(this.real);
    const step = ++this.step;
    await this.pipe.step(this.real, withStats, step);
    return this.pipe.takeReady();
  }

  /** Waits for the measures of every step submitted so far (before drawing, saving, or stopping). */
  settle(): Promise<Logged<number>[]> {
    return this.pipe.drain();
  }

  /** The sample grid's images (NCHW in [-1, 1]) and their shape. */
  async samples(): Promise<{ data: Float32Array; shape: number[] }> {
    return readTensor(() => this.trainer.generate(this.sampleZ));
  }

  /** Latent codes for `n` samples from a seeded stream, read back to the host. */
  async latents(n: number, seed: number): Promise<{ data: Float32Array; shape: number[] }> {
    return readTensor(() => this.trainer.noise(n, new Generator(seed)));
  }

  /** Images generated from host latent codes of the given shape. */
  async generateFrom(z: Float32Array, shape: readonly number[]): Promise<{ data: Float32Array; shape: number[] }> {
    return readTensor(() => this.trainer.generate(tensor(z, shape)));
  }

  /**
   * An image-to-image model's outputs for host inputs, in eval mode (deterministic, training state
   * untouched): A -> B through the recipe's translate hook (as `gan eval` scores it), or B -> A
   * through generate(x, { direction: 'BtoA' }) for the two-generator models.
   */
  async translate(
    x: Float32Array,
    shape: readonly number[],
    direction: 'AtoB' | 'BtoA' = 'AtoB',
  ): Promise<{ data: Float32Array; shape: number[] }> {
    const hooks = this.recipe as ModelRecipe & Partial<TranslationEval>;
    if (!hooks.translate) throw new Error(`${this.spec.model} has no translate hook (nets/lib/translation.ts TranslationEval)`);
    const translate = hooks.translate.bind(hooks);
    const generate = this.trainer.generate as (x: Tensor, opts: { direction?: 'AtoB' | 'BtoA'; batchStats?: boolean }) => Tensor;
    return readTensor(() =>
      direction === 'AtoB'
        ? translate(this.trainer, tensor(x, shape))
        : generate.call(this.trainer, tensor(x, shape), { direction, batchStats: false }),
    );
  }

  /**
   * The run as checkpoint bytes in the CLI's run layout (cli/checkpoint_io.ts: networks, training
   * state, optimizers, noise stream, loader position, dataset and its size as `limit`), plus the
   * page's plot history under extra.history.
   */
  async toBytes(history: History | null): Promise<Uint8Array> {
    const state = this.trainer.trainingState ?? {};
    const config: Json = { model: this.spec.model, config: this.spec.config as Json, settings: { ...this.settings }, seed: this.spec.seed };
    const extra: Json = {
      loader: { ...this.loader.state },
      dataset: this.datasetName,
      limit: this.dataset.n,
      trainingState: Object.keys(state),
      history: history as unknown as Json,
    };
    return checkpointToBytes({
      models: { ...this.trainer.nets, ...state },
      optimizers: this.trainer.optimizers,
      generators: { train: this.trainer.rng },
      step: this.step,
      config,
      extra,
    });
  }

  /**
   * Restores networks, training state, optimisers, noise stream, loader position and step from
   * checkpoint bytes. A networks-only file (extra.networksOnly: the shipped weights of the zoo, the
   * generator alone in float16) restores just those networks and the step; the other networks,
   * the optimisers and the noise stream stay as they are (fresh), and `networksOnly` lists what came.
   */
  restore(bytes: Uint8Array, source: string): { history: History | null; networksOnly: string[] | null } {
    const info = checkpointInfo(bytes, source);
    const extra = (info.extra ?? {}) as {
      loader?: LoaderState;
      history?: History;
      trainingState?: string[];
      limit?: number;
      networksOnly?: unknown;
    };
    if (Array.isArray(extra.networksOnly)) {
      const only = extra.networksOnly.filter((n): n is string => typeof n === 'string');
      const missing = only.filter((n) => !(n in this.trainer.nets));
      if (missing.length)
        throw new Error(
          `${source}: holds ${missing.join(', ')}, which ${this.spec.model}'s trainer does not have (its networks: ${Object.keys(this.trainer.nets).join(', ')})`,
        );
      const nets = Object.fromEntries(only.map((n) => [n, this.trainer.nets[n]]));
      restoreCheckpoint(bytes, { models: nets }, { source, restoreDefaultGenerator: false });
      this.step = info.step;
      return { history: extra.history ?? null, networksOnly: only };
    }
    const saved = new Set(Array.isArray(extra.trainingState) ? extra.trainingState : []);
    const state = Object.fromEntries(Object.entries(this.trainer.trainingState ?? {}).filter(([k]) => saved.has(k)));
    // The data position only means something on the same examples: a checkpoint from a `gan train`
    // run over the whole dataset (limit 0 or another size) keeps the page's own data order.
    const sameData = extra.limit === undefined || extra.limit === this.dataset.n;
    // Loader first (it validates), so a checkpoint that does not fit changes nothing.
    const before = this.loader.state;
    if (extra.loader && sameData) this.loader.setState(extra.loader);
    try {
      restoreCheckpoint(
        bytes,
        { models: { ...this.trainer.nets, ...state }, optimizers: this.trainer.optimizers, generators: { train: this.trainer.rng } },
        { source },
      );
    } catch (e) {
      this.loader.setState(before);
      throw e;
    }
    this.step = info.step;
    this.spec.lr = this.lr;
    this.settings.lr = this.lr;
    return { history: extra.history ?? null, networksOnly: null };
  }

  /** Frees the run's GPU memory (the engine stays). */
  dispose(): void {
    this.stepper.dispose();
    disposeTrainer(this.trainer);
    this.real.dispose();
    this.sampleZ.dispose();
  }
}

/** Reads back the tensor `fn` makes (inside a tidy scope) and frees it. */
export async function readTensor(fn: () => Tensor): Promise<{ data: Float32Array; shape: number[] }> {
  const out = tidy(fn);
  try {
    return { data: await out.data(), shape: [...out.shape] };
  } finally {
    out.dispose();
  }
}

/** Frees a trainer's networks, optimisers and whatever else it holds (its own dispose() when it has one). */
export function disposeTrainer(t: GanTrainer): void {
  if (t.dispose) {
    t.dispose();
    return;
  }
  for (const m of Object.values(t.nets)) m.dispose();
  for (const o of Object.values(t.optimizers)) o.dispose();
}

/** The run a checkpoint was made with (model, config, batch, lr, seed, dataset), to rebuild a session for it. */
export function runSpecOf(bytes: Uint8Array, source: string): RunSpec {
  const info = checkpointInfo(bytes, source);
  const extra = info.extra as { dataset?: unknown } | null;
  const cfg = info.config as { model?: string; config?: ModelConfig; settings?: Partial<TrainSettings>; seed?: number } | null;
  if (!cfg || typeof cfg.model !== 'string' || !cfg.config || !cfg.settings) {
    throw new Error(`${source}: not a training-run checkpoint (no model/config/settings in its metadata)`);
  }
  return {
    model: cfg.model,
    config: cfg.config,
    batch: Number(cfg.settings.batch),
    lr: Number(cfg.settings.lr),
    seed: Number(cfg.seed ?? 0),
    dataset:
      typeof extra?.dataset === 'string' ? extra.dataset : typeof cfg.settings.dataset === 'string' ? cfg.settings.dataset : undefined,
  };
}
