// Exact resume (`gan train --resume`: same parameters, buffers, training state, optimiser moments
// and step counts, random state and data position) for every registered model whose resume is not
// checked elsewhere: DCGAN in tests/cli.test.ts, pix2pix and CycleGAN in tests/image2image.test.ts,
// Triple-GAN and StackGAN in tests/cascade.test.ts. Tiny networks on seeded images, 4 steps each,
// chosen to cross each model's own cadence (EBGAN's pretraining, n_critic, DiscoGAN's update
// interval and curriculum) across the checkpoint.

import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/device.js';
import { recipes, type ModelConfig } from '../nets/registry.js';
import { packDomains } from '../data/domains.js';
import { expectExactResume } from './support/resume.js';
import { configOf, seeded } from './support/util.js';

beforeAll(async () => {
  await initEngine();
});

interface Case {
  model: string;
  config: ModelConfig;
  /** Channels (as the dataset packs them) and size of each training example. */
  c: number;
  size: number;
  batch: number;
  /** Packs the rows (StarGAN: image + label planes). */
  pack?: (images: Float32Array, n: number) => Float32Array;
}

const CASES: Case[] = [
  { model: 'autoencoder', config: { imageSize: 16, nf: 2, code: 4 }, c: 1, size: 16, batch: 4 },
  { model: 'ebgan', config: { imageSize: 16, nz: 4, ngf: 2, ndf: 2, code: 4, pretrain: 1 }, c: 1, size: 16, batch: 4 },
  { model: 'began', config: { imageSize: 16, nz: 4, nf: 2, lrHalveEvery: 3 }, c: 1, size: 16, batch: 4 }, // the rate halves at step 4, after the checkpoint
  { model: 'gman', config: { imageSize: 16, nz: 4, ngf: 2, ndf: 2, n: 2, learnLambda: true }, c: 1, size: 16, batch: 4 },
  { model: 'madgan', config: { imageSize: 16, nz: 4, ngf: 2, ndf: 2, k: 2 }, c: 3, size: 16, batch: 4 },
  { model: 'lapgan', config: { imageSize: 16, levels: 2, nz: 8, nh: 16, ngf: 4, ndf: 4 }, c: 1, size: 16, batch: 4 },
  { model: 'stackganpp', config: { baseSize: 8, branches: 2, nz: 6, ngf: 8, ndf: 4, resBlocks: 1 }, c: 3, size: 16, batch: 4 },
  { model: 'dualgan', config: { imageSize: 32, netG: 'unet_32', ngf: 2, netD: 'basic', ndf: 2, nCritic: 2 }, c: 6, size: 32, batch: 2 },
  { model: 'discogan', config: { imageSize: 64, ngf: 2, ndf: 2, ganCurriculum: 2 }, c: 6, size: 64, batch: 2 },
  {
    model: 'stargan',
    config: { imageSize: 16, cDim: 3, gConvDim: 2, dConvDim: 2, gRepeatNum: 1, nCritic: 2, evalTarget: 2 },
    c: 3 + 3,
    size: 16,
    batch: 2,
    pack: (images, n) =>
      packDomains(
        images,
        Array.from({ length: n }, (_, i) => i % 3),
        n,
        3,
        3,
        16,
        16,
      ),
  },
];

describe('exact resume from a run checkpoint, every other model', () => {
  it('covers every registered model (here or in the files named above)', () => {
    const elsewhere = ['dcgan', 'pix2pix', 'cyclegan', 'triplegan', 'stackgan'];
    expect([...CASES.map((c) => c.model), ...elsewhere].sort()).toEqual(Object.keys(recipes).sort());
  });

  for (const k of CASES) {
    it(`${k.model}: 2 steps, checkpoint, 2 more = 4 straight steps, bit for bit`, async () => {
      const recipe = recipes[k.model];
      const n = 8;
      const imgC = k.pack ? 3 : k.c;
      const images = seeded(n * imgC * k.size * k.size, 17);
      const data = { data: k.pack ? k.pack(images, n) : images, n, sampleShape: [k.c, k.size, k.size] };
      let config = configOf(recipe, k.config);
      if (recipe.adaptToData) config = recipe.adaptToData(config, { channels: k.c });
      expect(recipe.validate?.(config) ?? [], k.model).toEqual([]);
      await expectExactResume(recipe, config, data, 4, k.batch);
    });
  }
});
