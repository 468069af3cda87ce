// One tiny training setup per registered model (network widths, dataset channels and size, how the
// dataset packs its rows), shared by the files that train every model on seeded images:
// tests/replay.test.ts (eager = replayed) and tests/resume.test.ts (exact resume). Each file picks
// its batch size and its own fields with `modelCase`, and may override config values there.

import { packDomains } from '../../data/domains.js';
import type { ModelConfig } from '../../nets/registry.js';
import { TINY_STACKGAN, seeded } from './util.js';

export interface ModelCase {
  model: string;
  config: ModelConfig;
  /** Channels (as the dataset packs them) and size of each training example. */
  c: number;
  size: number;
  /** Packs the rows (StarGAN: image + label planes). */
  pack?: (images: Float32Array, n: number) => Float32Array;
}

/** StarGAN's rows: a 3-channel image and 3 one-hot label planes, domains 0, 1, 2, 0, ... */
function packStarGan(images: Float32Array, n: number): Float32Array {
  return packDomains(
    images,
    Array.from({ length: n }, (_, i) => i % 3),
    n,
    3,
    3,
    16,
    16,
  );
}

const CASES: readonly ModelCase[] = [
  { model: 'dcgan', config: { imageSize: 16, nz: 4, ngf: 2, ndf: 2 }, c: 1, size: 16 },
  { model: 'pix2pix', config: { imageSize: 32, netG: 'unet_32', netD: 'basic', ngf: 2, ndf: 2, lrHold: 2, lrDecay: 4 }, c: 6, size: 32 },
  {
    model: 'cyclegan',
    config: { imageSize: 16, netG: 'resnet_3blocks', netD: 'pixel', ngf: 2, ndf: 2, poolSize: 0, lrHold: 2, lrDecay: 4 },
    c: 6,
    size: 16,
  },
  { model: 'autoencoder', config: { imageSize: 16, nf: 2, code: 4 }, c: 1, size: 16 },
  { model: 'ebgan', config: { imageSize: 16, nz: 4, ngf: 2, ndf: 2, code: 4, pretrain: 1 }, c: 1, size: 16 },
  // lrHalveEvery is each file's own (when the rate halves relative to its steps).
  { model: 'began', config: { imageSize: 16, nz: 4, nf: 2 }, c: 1, size: 16 },
  { model: 'gman', config: { imageSize: 16, nz: 4, ngf: 2, ndf: 2, n: 2, learnLambda: true }, c: 1, size: 16 },
  { model: 'madgan', config: { imageSize: 16, nz: 4, ngf: 2, ndf: 2, k: 2 }, c: 3, size: 16 },
  { model: 'lapgan', config: { imageSize: 16, levels: 2, nz: 8, nh: 16, ngf: 4, ndf: 4 }, c: 1, size: 16 },
  { model: 'stackganpp', config: { baseSize: 8, branches: 2, nz: 6, ngf: 8, ndf: 4, resBlocks: 1 }, c: 3, size: 16 },
  { model: 'dualgan', config: { imageSize: 32, netG: 'unet_32', ngf: 2, netD: 'basic', ndf: 2, nCritic: 2 }, c: 6, size: 32 },
  { model: 'discogan', config: { imageSize: 64, ngf: 2, ndf: 2, ganCurriculum: 2 }, c: 6, size: 64 },
  {
    model: 'stargan',
    config: { imageSize: 16, cDim: 3, gConvDim: 2, dConvDim: 2, gRepeatNum: 1, nCritic: 2, evalTarget: 2 },
    c: 3 + 3,
    size: 16,
    pack: packStarGan,
  },
  {
    model: 'triplegan',
    config: { nc: 1, imageSize: 16, nz: 4, ngh: 8, ndh: 16, cw: 2, perClass: 2, labelledBatch: 4, warmupSteps: 1, rpStart: 3 },
    c: 1,
    size: 16,
  },
  { model: 'stackgan', config: { ...TINY_STACKGAN, stage1Steps: 2 }, c: 3, size: 32 },
];

/** The models with a setup here, in the order of the table. */
export const MODEL_CASE_NAMES: readonly string[] = CASES.map((k) => k.model);

/**
 * `model`'s shared setup plus a file's own fields (`batch`, ...); `extra.config` is merged over the
 * shared config.
 */
export function modelCase<T extends { batch: number; config?: ModelConfig }>(model: string, extra: T): ModelCase & Omit<T, 'config'> {
  const base = CASES.find((k) => k.model === model);
  if (!base)
    throw new Error(
      `modelCase: no setup for model '${model}'; add one to tests/support/model_cases.ts (known: ${MODEL_CASE_NAMES.join(', ')})`,
    );
  return { ...base, ...extra, config: { ...base.config, ...extra.config } };
}

/**
 * `n` seeded examples (seed 17) laid out as `k`'s dataset packs them: `[n, c, size, size]`
 * (StarGAN's rows drawn as 3-channel images, then packed with their label planes).
 */
export function seededRows(k: ModelCase, n: number): { data: Float32Array; n: number; sampleShape: number[] } {
  const imgC = k.pack ? 3 : k.c;
  const images = seeded(n * imgC * k.size * k.size, 17);
  return { data: k.pack ? k.pack(images, n) : images, n, sampleShape: [k.c, k.size, k.size] };
}
