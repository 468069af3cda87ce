// Exact resume (`gan train --resume`: same parameters, buffers, training state, optimiser moments
// and step counts, random state and data position) for every registered model whose resume is not
// checked elsewhere: DCGAN in tests/cli.test.ts, pix2pix and CycleGAN in tests/image2image.test.ts,
// Triple-GAN and StackGAN in tests/cascade.test.ts. Tiny networks on seeded images, 4 steps each,
// chosen to cross each model's own cadence (EBGAN's pretraining, n_critic, DiscoGAN's update
// interval and curriculum) across the checkpoint.

import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/device.js';
import { recipes } from '../nets/registry.js';
import { expectExactResume } from './support/resume.js';
import { modelCase, seededRows } from './support/model_cases.js';
import { configOf } from './support/util.js';

beforeAll(async () => {
  await initEngine();
});

/** Batch 4, or 2 for the 6-channel models at 32 and 64 pixels; the shared setups otherwise. */
const CASES = [
  modelCase('autoencoder', { batch: 4 }),
  modelCase('ebgan', { batch: 4 }),
  modelCase('began', { batch: 4, config: { lrHalveEvery: 3 } }), // the rate halves at step 4, after the checkpoint
  modelCase('gman', { batch: 4 }),
  modelCase('madgan', { batch: 4 }),
  modelCase('lapgan', { batch: 4 }),
  modelCase('stackganpp', { batch: 4 }),
  modelCase('dualgan', { batch: 2 }),
  modelCase('discogan', { batch: 2 }),
  modelCase('stargan', { batch: 2 }),
];

describe('exact resume from a run checkpoint, every other model', () => {
  it('covers every registered model (here or in the files named above)', () => {
    const elsewhere = ['dcgan', 'pix2pix', 'cyclegan', 'triplegan', 'stackgan'];
    expect([...CASES.map((c) => c.model), ...elsewhere].sort()).toEqual(Object.keys(recipes).sort());
  });

  for (const k of CASES) {
    it(`${k.model}: 2 steps, checkpoint, 2 more = 4 straight steps, bit for bit`, async () => {
      const recipe = recipes[k.model];
      const data = seededRows(k, 8);
      let config = configOf(recipe, k.config);
      if (recipe.adaptToData) config = recipe.adaptToData(config, { channels: k.c });
      expect(recipe.validate?.(config) ?? [], k.model).toEqual([]);
      await expectExactResume(recipe, config, data, 4, k.batch);
    });
  }
});
