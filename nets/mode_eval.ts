// Mode counting on Gaussian mixtures: the MLP GAN baseline (nets/mlp_gan.ts) against every
// registered model that declares a `mixture` hook (MAD-GAN's k generators, GMAN's N discriminators),
// all with the same MLP widths, on the 8-Gaussian ring, the 25-Gaussian grid and MAD-GAN's 1-D
// mixture of five (data/mixtures.ts). After training, `samples` draws from a fixed noise stream are
// mapped back to data scale and scored with modeStats: modes covered (>= 1 sample within 3 std), the
// high-quality fraction (samples within 3 std of some mode) and KL(mixture weights || histogram of
// the high-quality samples over modes). runOnMixture also scores the untrained model, so a table
// shows what training changed. Every model gets the same Adam settings and the same schedule: a
// constant learning rate, then a linear decay to decayTo x lr over the second half. Browser-safe (no
// Node imports); `gan eval modes` (cli/eval_modes.ts) prints the table, the game page plays it.

import { Generator, tidy } from '../engine/index.js';
import { MixtureSampler, gridMixture, madGan1dMixture, modeStats, ringMixture, type Mixture, type ModeStats } from '../data/mixtures.js';
import { mlpGanMixture } from './mlp_gan.js';
import { parseConfig, validateConfig } from './lib/model.js';
import { readStats } from './lib/stats.js';
import { getRecipe, recipes, type GanTrainer, type MixtureModel, type MixtureRunConfig } from './registry.js';

export const MIXTURES: Record<string, { make: () => Mixture; help: string }> = {
  ring8: { make: () => ringMixture(), help: '8 Gaussians on a circle of radius 2, std 0.02' },
  grid25: { make: () => gridMixture(), help: '25 Gaussians on a 5x5 grid {-4,-2,0,2,4}^2, std 0.05' },
  madgan1d: { make: () => madGan1dMixture(), help: "MAD-GAN's 1-D mixture: means 10, 20, 60, 80, 110, stds 3, 3, 2, 2, 1" },
};

/** The mixtures of a --quick smoke run: the 1-D mixture of five and the ring. */
export const QUICK_MIXTURES: readonly string[] = ['madgan1d', 'ring8'];

/** The baseline's name in the comparison (not a registered model: it trains only on mixtures). */
export const BASELINE = 'mlp_gan';

/** The models the comparison runs: the baseline, then the registered ones with a mixture hook. */
export const MODE_MODELS: readonly string[] = [
  BASELINE,
  ...Object.values(recipes)
    .filter((r) => r.mixture)
    .map((r) => r.name),
];

/** A model's mixture form, by name; throws naming the known ones. */
export function mixtureModel(name: string): MixtureModel {
  const m = name === BASELINE ? mlpGanMixture : getRecipe(name)?.mixture;
  if (!m) throw new Error(`mode_eval: unknown model '${name}' (${MODE_MODELS.join(', ')})`);
  return m;
}

/** One run: the shared settings below, and the model's own mixture parameters (its hook's params). */
export interface ModeRunOptions extends MixtureRunConfig {
  mixture: string;
  model: string;
  steps: number;
  batch: number;
  /** Samples drawn for the metrics. */
  samples: number;
  /**
   * Learning-rate decay over the second half of training: linear from lr to lr * decayTo (1: none).
   * Every model gets the same schedule; it lets the generators settle onto the narrow modes.
   */
  decayTo: number;
}

/** The shared settings' defaults (a model's own parameters default to its hook's declaration). */
export const MODE_DEFAULTS: Omit<ModeRunOptions, 'mixture' | 'model'> = {
  steps: 1500,
  batch: 128,
  lr: 1e-3,
  beta1: 0.5,
  beta2: 0.999,
  nz: 16,
  hidden: 64,
  layers: 2,
  samples: 2000,
  seed: 1,
  decayTo: 0.1,
};

/** The options with the model's own parameters filled from its declaration where not given. */
export function withModelDefaults(o: Partial<ModeRunOptions> & Pick<ModeRunOptions, 'mixture' | 'model'>): ModeRunOptions {
  const m = mixtureModel(o.model);
  return { ...MODE_DEFAULTS, ...parseConfig(m.params, o as ModeRunOptions), ...o } as ModeRunOptions;
}

/** Problems with a run's model parameters (bounds, choices, the model's cross-checks), naming the flags. */
export function checkModeRun(o: ModeRunOptions): string[] {
  const m = mixtureModel(o.model);
  const errs = validateConfig(m.params, o);
  return errs.length ? errs : (m.check?.(o) ?? []);
}

/** A trainer for one model on `dim`-dimensional data, with the options' MLP sizes. */
export function createMixtureTrainer(o: ModeRunOptions, dim: number): GanTrainer {
  return mixtureModel(o.model).create(o, dim);
}

/** Mode statistics of `n` samples drawn from a fixed noise stream (seeded by `seed`). */
export async function scoreSamples(
  trainer: GanTrainer,
  sampler: MixtureSampler,
  n: number,
  seed: number,
): Promise<{ stats: ModeStats; samples: Float32Array }> {
  const out = tidy(() => trainer.generate(trainer.noise(n, new Generator(seed))));
  try {
    const samples = sampler.toData(await out.data());
    return { stats: modeStats(samples, sampler.mix), samples };
  } finally {
    out.dispose();
  }
}

export interface ModeRunResult {
  model: string;
  mixture: string;
  steps: number;
  seconds: number;
  init: ModeStats;
  final: ModeStats;
  /** Losses read at the last step. */
  last: Record<string, number>;
  samples: Float32Array;
}

/** Trains one model on one mixture for `steps` steps and scores it before and after. */
export async function runOnMixture(
  options: Partial<ModeRunOptions> & Pick<ModeRunOptions, 'mixture' | 'model'>,
  onLog?: (step: number, values: Record<string, number>) => void,
  logEvery = 0,
): Promise<ModeRunResult> {
  const o = withModelDefaults(options);
  const errs = checkModeRun(o);
  if (errs.length) throw new Error(`mode_eval: ${o.model}: ${errs.join('; ')}`);
  const entry = MIXTURES[o.mixture];
  if (!entry) throw new Error(`mode_eval: unknown mixture '${o.mixture}' (${Object.keys(MIXTURES).join(', ')})`);
  const sampler = new MixtureSampler(entry.make(), o.seed);
  const trainer = createMixtureTrainer(o, sampler.dim);
  const evalSeed = o.seed * 7919 + 17;
  const init = (await scoreSamples(trainer, sampler, o.samples, evalSeed)).stats;
  const t0 = performance.now();
  let last: Record<string, number> = {};
  const half = Math.floor(o.steps / 2);
  for (let step = 1; step <= o.steps; step++) {
    if (step > half && o.decayTo !== 1) {
      const lr = o.lr * (1 - ((1 - o.decayTo) * (step - half)) / Math.max(1, o.steps - half));
      for (const opt of Object.values(trainer.optimizers)) if (opt) opt.lr = lr;
    }
    const real = sampler.batch(o.batch);
    const log = step === o.steps || (logEvery > 0 && step % logEvery === 0);
    try {
      const stats = trainer.step(real, log);
      if (stats) {
        last = await readStats(stats);
        onLog?.(step, last);
      }
    } finally {
      real.dispose();
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const { stats: final, samples } = await scoreSamples(trainer, sampler, o.samples, evalSeed);
  disposeTrainer(trainer);
  return { model: o.model, mixture: o.mixture, steps: o.steps, seconds, init, final, last, samples };
}

/** A markdown table of results: modes covered, high-quality fraction, KL, before and after training. */
export function formatModeTable(results: readonly ModeRunResult[]): string {
  const rows = [
    '| mixture | model | steps | modes (init -> trained) | high quality | KL(target \\|\\| samples) | time |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const k = r.final.counts.length;
    rows.push(
      `| ${r.mixture} | ${r.model} | ${r.steps} | ${r.init.covered}/${k} -> ${r.final.covered}/${k} | ${(100 * r.init.highQuality).toFixed(1)}% -> ${(100 * r.final.highQuality).toFixed(1)}% | ${r.init.kl.toFixed(2)} -> ${r.final.kl.toFixed(2)} | ${r.seconds.toFixed(0)} s |`,
    );
  }
  return rows.join('\n');
}

/** Frees a trainer: its own dispose() when it has one, else its networks and optimiser state. */
export function disposeTrainer(trainer: GanTrainer): void {
  if (trainer.dispose) return trainer.dispose();
  for (const opt of Object.values(trainer.optimizers)) opt?.dispose();
  for (const net of Object.values(trainer.nets)) net?.dispose();
}
