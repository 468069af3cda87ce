// What the step benchmarks (replay_step.ts, replay_validation.ts, step_counters.ts) share: a
// registered model's trainer at benchmark sizes with a fixed input batch, the replay benchmarks'
// model sizes, and the calling thread's CPU clock.
import { readFileSync } from 'node:fs';
import { tensor, type Tensor } from '../engine/tensor.js';
import { recipes, type GanTrainer } from '../nets/registry.js';

/** A benchmark model: the registered recipe, its batch and the options over its defaults. */
export type StepModel = [recipe: string, batch: number, over: Record<string, unknown>];

/** The replay benchmarks' models (narrow widths, paper depths). */
export const REPLAY_MODELS: Record<string, StepModel> = {
  dcgan: ['dcgan', 2, { imageSize: 32, nc: 3, nz: 16, ngf: 8, ndf: 8 }],
  dcgan64: ['dcgan', 2, { imageSize: 64, nc: 3, nz: 100, ngf: 8, ndf: 8 }],
  pix2pix: [
    'pix2pix',
    1,
    { imageSize: 64, netG: 'unet_64', netD: 'basic', ngf: 8, ndf: 8, norm: 'batch', dropout: true, ganMode: 'vanilla' },
  ],
  cyclegan: [
    'cyclegan',
    1,
    { imageSize: 64, netG: 'resnet_9blocks', netD: 'basic', ngf: 8, ndf: 8, norm: 'instance', ganMode: 'lsgan', poolSize: 0 },
  ],
  cyclegan32: [
    'cyclegan',
    1,
    { imageSize: 32, netG: 'resnet_9blocks', netD: 'basic', ngf: 8, ndf: 8, norm: 'instance', ganMode: 'lsgan', poolSize: 0 },
  ],
  stargan: ['stargan', 2, { imageSize: 32, gConvDim: 8, dConvDim: 8, gRepeatNum: 2, cDim: 3 }],
};

/**
 * A trainer of `recipe` (its option defaults with `over` on top, seed 1) and a kept input batch of
 * sin(i) values in its image shape.
 */
export function stepTrainer([name, batch, over]: StepModel): { t: GanTrainer; real: Tensor } {
  const recipe = recipes[name];
  const config: Record<string, number | string | boolean> = {};
  for (const [k, v] of Object.entries(recipe.options)) if (v.default !== undefined) config[k] = v.default as number | string | boolean;
  Object.assign(config, over);
  const t = recipe.create(config, { ...recipe.train, batch }, 1);
  const { channels, size } = recipe.imageShape(config);
  const real = tensor(
    new Float32Array(batch * channels * size * size).map((_, i) => Math.sin(i)),
    [batch, channels, size, size],
  ).keep();
  return { t, real };
}

// The calling thread's CPU time in ms: schedstat's first field (ns on CPU), else the process's.
// schedstat alone is stale for a running thread (the kernel adds the time since the last scheduler
// event only at the next tick or switch: a tight loop read it back unchanged for milliseconds);
// getrusage(RUSAGE_SELF), behind process.cpuUsage(), brings the calling thread's count up to date
// first, so it is called just before the read.
let schedstat = true;
try {
  readFileSync('/proc/thread-self/schedstat', 'utf8');
} catch {
  schedstat = false;
}
export function threadCpuMs(): number {
  if (schedstat) {
    process.cpuUsage();
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  }
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
