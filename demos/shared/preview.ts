// A small picture of what a model makes, without a training session: the gallery's thumbnails.
// The shipped trained weights when the caller passes them (a zoo file without its grid.png), else
// the generator of the checkpoint a training page saved in this browser (IndexedDB, key = the
// model's name) when there is one, else freshly initialised weights of the page's default run.
//   - image-to-image models with held-out pairs: input | output | target rows (the recipe's
//     heldOutPairs/translate hooks, as the training pages and `gan eval` show them);
//   - models whose samples start from images (StarGAN): generate() on held-out rows (its own
//     layout: each input, then its translation into every domain);
//   - the rest: generate() on a few latent codes.

import { tensor } from '../../engine/tensor.js';
import { Generator } from '../../engine/ops/random.js';
import { checkpointInfo, restoreCheckpoint } from '../../engine/checkpoint.js';
import { SampleInputs } from '../../nets/lib/sample.js';
import { firstPairs, translationGrid, translationHooks } from '../../nets/lib/translation.js';
import { datasetChannels, loadHeldOut, loadPageDataset } from './datasets.js';
import { recipeOf, runDefaults, gridColsOf } from './models.js';
import { disposeTrainer, readTensor, runSpecOf, type RunSpec } from './session.js';
import { getCheckpoint } from './store.js';

export interface Preview {
  data: Float32Array;
  shape: number[];
  nrow: number;
  /** Whose weights: 'trained in this browser: step N' or 'freshly initialised weights (untrained)'. */
  caption: string;
  trained: boolean;
}

/**
 * The model's picture: `count` samples (or pairs), from `shipped` (trained weights: their bytes and
 * the caption that says so), else its saved checkpoint, else fresh weights.
 */
export async function previewModel(model: string, count = 16, shipped?: { bytes: Uint8Array; caption: string }): Promise<Preview> {
  const recipe = recipeOf(model);
  const stored = shipped
    ? { bytes: shipped.bytes, step: checkpointInfo(shipped.bytes, 'trained weights').step }
    : await getCheckpoint(model).catch(() => null);
  let spec: RunSpec;
  if (stored) spec = runSpecOf(stored.bytes, 'browser checkpoint');
  else {
    const d = runDefaults(model);
    const channels = await datasetChannels(d.dataset);
    const config = recipe.adaptToData && channels ? recipe.adaptToData(d.config, { channels }) : d.config;
    spec = { model, config, batch: d.batch, lr: d.lr, seed: 1, dataset: d.dataset };
  }
  const dataset = spec.dataset ?? runDefaults(model).dataset;
  const trainer = recipe.create(spec.config, { ...recipe.train, batch: spec.batch, lr: spec.lr }, spec.seed);
  try {
    if (trainer.bindData) {
      // Labels or captions (Triple-GAN, StackGAN): the training set, as the page binds it.
      const d = await loadPageDataset(dataset, recipe.imageShape(spec.config).size);
      const [c, h, w] = d.data.sampleShape;
      trainer.bindData({ images: d.data.data, n: d.data.n, c, h, w, labels: d.data.labels, tokens: d.data.tokens });
    }
    if (stored) {
      // A networks-only file (the zoo's: the generator alone) restores just those networks.
      const only = (checkpointInfo(stored.bytes, 'checkpoint').extra as { networksOnly?: string[] } | null)?.networksOnly;
      const nets = Array.isArray(only) ? Object.fromEntries(only.map((n) => [n, trainer.nets[n]])) : trainer.nets;
      restoreCheckpoint(
        stored.bytes,
        { models: nets },
        { source: shipped ? 'trained weights' : 'browser checkpoint', restoreDefaultGenerator: false },
      );
    }
    const caption = shipped
      ? shipped.caption
      : stored
        ? `trained in this browser: step ${stored.step}`
        : 'freshly initialised weights (untrained): train it on its page';
    const size = recipe.imageShape(spec.config).size;
    const hooks = translationHooks(recipe);
    const base = { caption, trained: !!stored };
    if (hooks) {
      const pairs = firstPairs(await hooks.heldOutPairs(spec.config, { limit: count / 4, dataset }), count / 4);
      const out = await readTensor(() => hooks.translate(trainer, tensor(pairs.inputs, [pairs.n, ...pairs.inputShape])));
      const g = translationGrid(
        pairs.inputs,
        out.data,
        pairs.targets,
        pairs.n,
        { input: pairs.inputShape[0], output: out.shape[1], target: pairs.targetShape[0] },
        size,
        size,
        pairs.n,
      );
      return { ...base, data: g.images, shape: [g.n, 3, size, size], nrow: pairs.n };
    }
    if ((trainer as unknown as { samples?: unknown }).samples instanceof SampleInputs) {
      const held = await loadHeldOut(dataset, size);
      if (!held) throw new Error(`${model}: no held-out images of '${dataset}' in this build to start its samples from`);
      const n = Math.min(count, held.data.n);
      const rows = held.data.data.subarray(0, n * held.channels * size * size);
      const out = await readTensor(() => trainer.generate(tensor(rows, [n, held.channels, size, size])));
      return { ...base, ...out, nrow: gridColsOf(model) ?? Math.ceil(Math.sqrt(n)) };
    }
    const out = await readTensor(() => trainer.generate(trainer.noise(count, new Generator(7))));
    return { ...base, ...out, nrow: gridColsOf(model) ?? Math.ceil(Math.sqrt(count)) };
  } finally {
    disposeTrainer(trainer);
  }
}
