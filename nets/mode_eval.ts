// Mode counting on Gaussian mixtures: the MLP GAN baseline (nets/mlp_gan.ts) against MAD-GAN
// (nets/madgan.ts, k generators) and GMAN (nets/gman.ts, N discriminators), all with the same MLP
// widths, on the 8-Gaussian ring, the 25-Gaussian grid and MAD-GAN's 1-D mixture of five
// (data/mixtures.ts). After training, `samples` draws from a fixed noise stream are mapped
// back to data scale and scored with modeStats: modes covered (>= 1 sample within 3 std), the
// high-quality fraction (samples within 3 std of some mode) and KL(mixture weights || histogram of
// the high-quality samples over modes). runOnMixture also scores the untrained model, so a table
// shows what training changed. Every model gets the same Adam settings and the same schedule: a
// constant learning rate, then a linear decay to decayTo x lr over the second half. Browser-safe (no Node imports); `gan eval modes` (cli/eval_modes.ts)
// prints the table.

import { tidy } from '../engine/tensor.js';
import type { Tensor } from '../engine/tensor.js';
import { Module } from '../engine/nn.js';
import { Generator, randn, reshape } from '../engine/ops/index.js';
import { gridMixture, madGan1dMixture, modeStats, ringMixture, type Mixture, type ModeStats } from '../data/mixtures.js';
import { MixtureSampler, MlpGanTrainer, mlp } from './mlp_gan.js';
import { MadganTrainer, mlpMultiGenerator } from './madgan.js';
import { GmanTrainer, gmanDropout, type GmanCombine, type GmanDiversity, type GmanObjective } from './gman.js';
import { defaultInit_ } from './lib/networks.js';
import { readStats } from './lib/stats.js';
import type { GanTrainer } from './registry.js';

export const MIXTURES: Record<string, { make: () => Mixture; help: string }> = {
  ring8: { make: () => ringMixture(), help: '8 Gaussians on a circle of radius 2, std 0.02' },
  grid25: { make: () => gridMixture(), help: '25 Gaussians on a 5x5 grid {-4,-2,0,2,4}^2, std 0.05' },
  madgan1d: { make: () => madGan1dMixture(), help: "MAD-GAN's 1-D mixture: means 10, 20, 60, 80, 110, stds 3, 3, 2, 2, 1" },
};

export const MODE_MODELS = ['mlp_gan', 'madgan', 'gman'] as const;
export type ModeModel = (typeof MODE_MODELS)[number];

export interface ModeRunOptions {
  mixture: string;
  model: ModeModel;
  steps: number;
  batch: number;
  lr: number;
  beta1: number;
  beta2: number;
  nz: number;
  /** Hidden width and number of hidden layers of every G and D. */
  hidden: number;
  layers: number;
  /** MAD-GAN: generators and trunk layers shared among them. */
  k: number;
  shared: number;
  /** GMAN: discriminators and how they are combined and diversified. */
  n: number;
  combine: GmanCombine;
  lambda: number;
  learnLambda: boolean;
  diversity: GmanDiversity;
  objective: GmanObjective;
  /** Samples drawn for the metrics. */
  samples: number;
  seed: number;
  /**
   * Learning-rate decay over the second half of training: linear from lr to lr * decayTo (1: none).
   * Every model gets the same schedule; it lets the generators settle onto the narrow modes.
   */
  decayTo: number;
}

export const MODE_DEFAULTS: Omit<ModeRunOptions, 'mixture' | 'model'> = {
  steps: 1500,
  batch: 128,
  lr: 1e-3,
  beta1: 0.5,
  beta2: 0.999,
  nz: 16,
  hidden: 64,
  layers: 2,
  k: 4,
  shared: 1,
  n: 3,
  combine: 'softmax',
  lambda: 1,
  learnLambda: false,
  diversity: 'dropout',
  objective: 'modified',
  samples: 2000,
  seed: 1,
  decayTo: 0.1,
};

/** A trainer for one of the three models on `dim`-dimensional data, with the options' MLP sizes. */
export function createMixtureTrainer(o: ModeRunOptions, dim: number): GanTrainer {
  const settings = { lr: o.lr, beta1: o.beta1, beta2: o.beta2 };
  const hidden = new Array<number>(o.layers).fill(o.hidden);
  const config = { model: o.model, dim, nz: o.nz, hidden: o.hidden, layers: o.layers, k: o.k, shared: o.shared, n: o.n };
  switch (o.model) {
    case 'mlp_gan':
      return new MlpGanTrainer(config, settings, o.seed);
    case 'madgan':
      return new MadganTrainer(config, settings, o.seed, (rng) => {
        const netG = mlpMultiGenerator({ nz: o.nz, hidden: o.hidden, layers: o.layers, dim }, o.k, o.shared);
        const netD = mlp(dim, hidden, o.k + 1, { act: 'leaky' });
        defaultInit_(netG, rng);
        defaultInit_(netD, rng);
        return { netG, netD, noise: (n, generator) => noiseVectors(n, o.nz, generator), batchNorm: false };
      });
    case 'gman': {
      const cfg = { n: o.n, combine: o.combine, lambda: o.lambda, learnLambda: o.learnLambda, diversity: o.diversity, objective: o.objective };
      return new GmanTrainer(config, settings, o.seed, (rng) => {
        const netG = mlp(o.nz, hidden, dim, { act: 'relu' });
        defaultInit_(netG, rng);
        const useDropout = o.diversity !== 'split';
        const discriminators = Array.from({ length: o.n }, (_, i) => {
          const d = mlp(dim, hidden, 1, { act: 'leaky', dropout: useDropout ? gmanDropout(i, o.n) : 0, rng });
          defaultInit_(d, rng);
          return new Flat(d);
        });
        return { netG, discriminators, noise: (n, generator) => noiseVectors(n, o.nz, generator), batchNorm: false };
      }, cfg);
    }
    default:
      throw new Error(`mode_eval: unknown model '${o.model as string}' (${MODE_MODELS.join(', ')})`);
  }
}

const noiseVectors = (n: number, nz: number, generator: Generator) => randn([n, nz], { generator });

/** Wraps an MLP discriminator so it returns one logit per sample, [N]. */
class Flat extends Module {
  constructor(readonly net: Module) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return reshape(this.net.call(x) as Tensor, [-1]);
  }
}

/** Mode statistics of `n` samples drawn from a fixed noise stream (seeded by `seed`). */
export async function scoreSamples(trainer: GanTrainer, sampler: MixtureSampler, n: number, seed: number): Promise<{ stats: ModeStats; samples: Float32Array }> {
  const out = tidy(() => trainer.generate(trainer.noise(n, new Generator(seed))));
  try {
    const samples = sampler.toData(await out.data());
    return { stats: modeStats(samples, sampler.mix), samples };
  } finally {
    out.dispose();
  }
}

export interface ModeRunResult {
  model: ModeModel;
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
export async function runOnMixture(options: Partial<ModeRunOptions> & Pick<ModeRunOptions, 'mixture' | 'model'>, onLog?: (step: number, values: Record<string, number>) => void, logEvery = 0): Promise<ModeRunResult> {
  const o: ModeRunOptions = { ...MODE_DEFAULTS, ...options };
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

/** Frees a trainer's networks and optimiser state. */
export function disposeTrainer(trainer: GanTrainer): void {
  for (const opt of Object.values(trainer.optimizers)) opt?.dispose();
  for (const net of Object.values(trainer.nets)) net?.dispose();
}
