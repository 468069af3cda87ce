// `gan sample <checkpoint>`: a grid of generated images from a trained (or converted) checkpoint.
// By default it draws the same fixed noise batch the training run used for its sample grids, so the
// grid of a finished run's checkpoint reproduces its final.png; --seed draws a new batch.

import { dirname, join, relative, resolve } from 'node:path';
import { makeGrid } from '../engine/io/grid.js';
import { writePng } from '../engine/io/png_node.js';
import { Generator } from '../engine/ops/random.js';
import { getRecipe } from '../nets/registry.js';
import { acquireEngine, checkRange, CliError, firstLine, out, parseOrHelp, usageError } from './common.js';
import { loadRunCheckpoint, restoreTrainer } from './checkpoint_io.js';
import { fixedNoiseSeed } from './train.js';

const spec = {
  command: 'gan sample',
  description: 'Write a grid of samples from a checkpoint (written by `gan train` or `gan convert`).',
  options: {
    out: { type: 'string', metavar: 'PNG', help: 'output image (default: samples.png beside the checkpoint)' },
    n: { type: 'int', default: 64, help: 'number of samples', metavar: 'N' },
    nrow: { type: 'int', default: 8, help: 'images per grid row', metavar: 'N' },
    seed: { type: 'int', metavar: 'N', help: 'draw a new noise batch from this seed (default: the run\'s fixed sample noise)' },
    runningStats: { type: 'boolean', help: 'normalise with the running statistics (eval mode) instead of the batch\'s own' },
  },
  positionals: [{ name: 'checkpoint', help: 'checkpoint.safetensors of a run', required: true }],
  examples: ['gan sample runs/dcgan-20261127-101500/checkpoint.safetensors --out digits.png'],
} as const;

export async function sampleCommand(argv: readonly string[]): Promise<number> {
  const args = parseOrHelp(argv, spec);
  if (!args) return 0;
  const o = args.options;
  checkRange('gan sample', 'n', o.n, 1, 1024, 'an integer');
  checkRange('gan sample', 'nrow', o.nrow, 1, 1024, 'an integer');
  if (o.seed !== undefined) checkRange('gan sample', 'seed', o.seed, 0, Number.MAX_SAFE_INTEGER, 'an integer');
  const path = resolve(args.positionals[0]);
  const ck = await loadRunCheckpoint('gan sample', path);
  const recipe = getRecipe(ck.info.model);
  if (!recipe) throw new CliError(`gan sample: checkpoint '${path}' is for model '${ck.info.model}', which this build does not know`, 1);
  if (!o.runningStats && o.n < 2) throw usageError('gan sample', '--n 1 needs --running-stats (batch statistics of one sample are degenerate)');

  const e = await acquireEngine('gan sample');
  const trainer = recipe.create(ck.info.config, ck.info.settings, ck.info.seed);
  restoreTrainer('gan sample', path, ck, trainer, false);
  const z = trainer.noise(o.n, new Generator(o.seed ?? fixedNoiseSeed(ck.info.seed)));
  const images = trainer.generate(z, { batchStats: !o.runningStats });
  const target = resolve(o.out ?? join(dirname(path), 'samples.png'));
  try {
    const [n, c, h, w] = images.shape;
    const grid = makeGrid(await images.data(), n, c, h, w, { nrow: o.nrow });
    writePng(target, grid.data, grid.width, grid.height, grid.channels);
  } catch (err) {
    throw new CliError(`gan sample: ${firstLine(err)}`, 1);
  } finally {
    z.dispose();
    images.dispose();
  }
  out.line(`gan sample: ${o.n} samples of ${ck.info.model} (step ${ck.info.step}) -> ${relative(process.cwd(), target)}`);
  e.destroy();
  return 0;
}
