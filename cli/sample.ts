// `gan sample <checkpoint>`: a grid of images from a trained (or converted) checkpoint.
//
//   generators          G(z) of the same fixed noise batch the training run used for its sample
//                       grids, so the grid of a finished run's checkpoint reproduces its final.png;
//                       --seed draws a new batch.
//   image-to-image      (recipes with TranslationEval hooks,
//                       merged with the Node-side ones by cli/heldout.ts as `gan eval` and `gan
//                       train` do) the first --n pairs of the held-out (test) split of the dataset
//                       the run trained on, as rows of input | output | target, --nrow per row, in
//                       eval mode (the translate hook). Two-way models (the bothWays hook)
//                       show A -> B rows, then B -> A rows (--direction picks one).
//   multi-domain        (recipes with a domainTranslation hook) the first --n held-out images of
//                       the config's source domain, each as a row of the input and its translations
//                       into every domain, over a row of the ground truth (the same emoji drawn in
//                       each domain).
//   text-conditioned    (recipes whose text hook says so for the run's config) codes for captions:
//                       one row per caption of the emoji-text test split (captions the run never
//                       trained on), --nrow noise draws each, or one --caption repeated over the
//                       grid. The optimisers' step counts are restored with the networks, so a
//                       model trained in stages (the stages hook) generates from the stage its run
//                       has reached (earlier stages upsampled); --stage picks one.

import { dirname, join, relative, resolve } from 'node:path';
import { makeGrid } from '../data/grid.js';
import { writePng } from '../data/png_node.js';
import { Generator } from '../engine/ops/random.js';
import type { Tensor } from '../engine/tensor.js';
import { loadEmojiText, tokenize } from '../data/emoji.js';
import { getRecipe, recipes, type GanTrainer, type ModelConfig, type ModelRecipe } from '../nets/registry.js';
import { toRgb, translationGrid, translationHooks, type TranslationEval } from '../nets/lib/translation.js';
import { dropoutLayers, setTestTimeDropout } from '../nets/lib/networks.js';
import { generateWith } from '../nets/lib/sample.js';
import { tensor } from '../engine/tensor.js';
import type { Module } from '../engine/nn.js';
import {
  acquireEngine,
  checkRange,
  CliError,
  ensureDir,
  exampleCheckpoint,
  exampleModel,
  firstLine,
  out,
  parseOrHelp,
  usageError,
} from './common.js';
import { pretrainedPath } from './zoo.js';
import { hasOptimiserState, loadRunCheckpoint, restoreTrainer, type LoadedCheckpoint } from './checkpoint_io.js';
import {
  domainGrid,
  heldOutDirection,
  heldOutDomains,
  heldOutHooksOf,
  translateAll,
  translatesBothWays,
  type Direction,
} from './heldout.js';
import { fixedNoiseSeed } from './train.js';

/** The registered image-to-image models (at their default config) that pass `test`, by name: found through their hooks. */
function translators(test: (r: ModelRecipe, defaults: ModelConfig) => boolean): string {
  const defaults = (r: ModelRecipe) =>
    Object.fromEntries(Object.entries(r.options).map(([k, o]) => [k, o.default as number | string | boolean]));
  return Object.values(recipes)
    .filter((r) => translationHooks(r) && test(r, defaults(r)))
    .map((r) => r.name)
    .join(', ');
}
/** Models with a B -> A generator of their own (the bothWays hook). */
const TWO_WAY = translators((r, c) => translatesBothWays(r, c));
/** Models with a dropout flag for their generator. */
const WITH_DROPOUT = translators((r) => 'dropout' in r.options);

const spec = {
  command: 'gan sample',
  description:
    'Write a grid of samples from a checkpoint (written by `gan train` or `gan convert`): generated images,\n' +
    'held-out input | output | target rows for image-to-image models, images from captions for text-conditioned models.',
  options: {
    out: {
      type: 'string',
      metavar: 'PNG',
      help: 'output image (default: samples.png beside the checkpoint; with --pretrained, runs/pretrained-<model>.png)',
    },
    pretrained: {
      type: 'string',
      metavar: 'MODEL',
      help: 'sample the shipped trained weights of MODEL (zoo/<model>/, docs/zoo.md) instead of a checkpoint',
    },
    n: {
      type: 'int',
      metavar: 'N',
      help: 'number of samples (default 64), or of held-out examples for image-to-image models (default 16)',
    },
    nrow: {
      type: 'int',
      default: 8,
      help: 'images per grid row (multi-domain translators: 1 + their domains, fixed; text-conditioned models: noise draws per caption)',
      metavar: 'N',
    },
    seed: { type: 'int', metavar: 'N', help: "draw a new noise batch from this seed (default: the run's fixed sample noise)" },
    runningStats: {
      type: 'boolean',
      help: "normalise with the running statistics (eval mode) instead of the batch's own (generators, text-conditioned models; image-to-image grids run G as `gan eval` scores it)",
    },
    direction: {
      type: 'string',
      choices: ['AtoB', 'BtoA', 'both'],
      metavar: 'DIR',
      help: `two-way image-to-image models (${TWO_WAY}): which direction to show (default both)`,
    },
    caption: {
      type: 'string',
      metavar: 'TEXT',
      help: 'text-conditioned models: one caption for the whole grid, a new noise draw per image (default: test-split captions)',
    },
    stage: {
      type: 'int',
      choices: [1, 2],
      metavar: 'S',
      help: "models trained in stages: which stage's images to show, at their own size (default: the stage the run has reached, from its optimiser step counts)",
    },
    dropout: {
      type: 'boolean',
      help: `image-to-image models with dropout in G (${WITH_DROPOUT}, with their --dropout on): keep it on at test time as Isola et al. do, and draw --samples outputs of each held-out input plus their per-pixel spread`,
    },
    samples: {
      type: 'int',
      metavar: 'K',
      help: 'with --dropout: outputs per input (default 4); without --dropout, the same layout with dropout off (every output the same: a control)',
    },
  },
  positionals: [{ name: 'checkpoint', help: 'checkpoint.safetensors of a run (or --pretrained MODEL)' }],
  examples: [
    `gan sample ${exampleCheckpoint()} --out digits.png`,
    `gan sample --pretrained ${exampleModel()} --out digits.png`,
    `gan sample ${exampleCheckpoint(exampleModel(TWO_WAY))} --n 8 --direction BtoA`,
    `gan sample ${exampleCheckpoint(exampleModel(modelsWith('text')))} --caption "red apple fruit"`,
    `gan sample ${exampleCheckpoint(exampleModel(WITH_DROPOUT))} --dropout --samples 6 --n 8`,
  ],
} as const;

type SampleOptions = NonNullable<ReturnType<typeof parseOrHelp<typeof spec>>>['options'];

/** Text-conditioned runs: the recipe's text hook says so for this config. */
function captioned(recipe: ModelRecipe, config: ModelConfig): boolean {
  return recipe.text?.conditioned(config) ?? false;
}

/** The registered models with a hook, for messages. */
function modelsWith(hook: 'text' | 'stages'): string {
  return Object.values(recipes)
    .filter((r) => r[hook])
    .map((r) => r.name)
    .join(', ');
}

export async function sampleCommand(argv: readonly string[]): Promise<number> {
  const args = parseOrHelp(argv, spec);
  if (!args) return 0;
  const o = args.options;
  if (o.n !== undefined) checkRange('gan sample', 'n', o.n, 1, 1024, 'an integer');
  checkRange('gan sample', 'nrow', o.nrow, 1, 1024, 'an integer');
  if (o.seed !== undefined) checkRange('gan sample', 'seed', o.seed, 0, Number.MAX_SAFE_INTEGER, 'an integer');
  const given = args.positionals[0];
  if (given !== undefined && o.pretrained !== undefined)
    throw usageError('gan sample', `give a checkpoint or --pretrained ${o.pretrained}, not both`);
  if (given === undefined && o.pretrained === undefined)
    throw usageError('gan sample', 'missing argument <checkpoint> (or --pretrained MODEL for shipped weights); see gan sample --help');
  const path = o.pretrained !== undefined ? pretrainedPath('gan sample', o.pretrained) : resolve(given!);
  const ck = await loadRunCheckpoint('gan sample', path);
  const recipe = getRecipe(ck.info.model);
  if (!recipe) throw new CliError(`gan sample: checkpoint '${path}' is for model '${ck.info.model}', which this build does not know`, 1);
  const config = ck.info.config;
  const hooks = heldOutHooksOf(recipe);
  const text = captioned(recipe, config);
  if (o.direction !== undefined && !(hooks && translatesBothWays(recipe, config))) {
    throw usageError(
      'gan sample',
      `--direction is for models that translate both ways (${TWO_WAY}); ${recipe.name} ${hooks ? 'translates one way' : 'does not translate images'}`,
    );
  }
  if (o.caption !== undefined && !text)
    throw usageError(
      'gan sample',
      `--caption is for text-conditioned models (${modelsWith('text')}; some only with their conditioning flag), not ${recipe.name}${recipe.text ? ' with this config' : ''}`,
    );
  if (o.stage !== undefined && !recipe.stages)
    throw usageError('gan sample', `--stage is for models trained in stages (${modelsWith('stages')}), not ${recipe.name}`);
  if (!hooks && !o.runningStats && (o.n ?? 64) < 2)
    throw usageError('gan sample', '--n 1 needs --running-stats (batch statistics of one sample are degenerate)');
  const spread = o.dropout === true || o.samples !== undefined;
  if (o.samples !== undefined) checkRange('gan sample', 'samples', o.samples, 2, 32, 'an integer');
  if (spread && (!hooks || recipe.domainTranslation)) {
    throw usageError(
      'gan sample',
      `--dropout / --samples are for image-to-image models with dropout in G (${WITH_DROPOUT}, with their --dropout on), not ${recipe.name}`,
    );
  }

  const e = await acquireEngine('gan sample');
  const trainer = recipe.create(config, ck.info.settings, ck.info.seed);
  const target = resolve(
    o.out ?? (o.pretrained !== undefined ? join('runs', `pretrained-${o.pretrained}.png`) : join(dirname(path), 'samples.png')),
  );
  if (o.pretrained !== undefined) ensureDir(dirname(target), 'gan sample');
  let what: string;
  try {
    if (hooks && spread) what = await sampleDropout(recipe, hooks, trainer, ck, path, o, target);
    else if (hooks) what = await sampleTranslation(recipe, hooks, trainer, ck, path, o, target);
    else if (text) what = await sampleCaptions(recipe, trainer, ck, path, o, target);
    else what = await sampleNoise(trainer, ck, path, o, target);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`gan sample: ${firstLine(err)}`, 1);
  } finally {
    (trainer as GanTrainer & { dispose?: () => void }).dispose?.();
  }
  out.line(`gan sample: ${ck.info.model} (step ${ck.info.step}), ${what} -> ${relative(process.cwd(), target)}`);
  e.destroy();
  return 0;
}

function writeGrid(target: string, images: Float32Array, n: number, c: number, h: number, w: number, nrow: number): void {
  const grid = makeGrid(images, n, c, h, w, { nrow });
  writePng(target, grid.data, grid.width, grid.height, grid.channels);
}

async function writeTensorGrid(target: string, images: Tensor, nrow: number): Promise<void> {
  const [n, c, h, w] = images.shape;
  writeGrid(target, await images.data(), n, c, h, w, nrow);
}

/** G(z) of the run's fixed sample noise (or --seed's). */
async function sampleNoise(trainer: GanTrainer, ck: LoadedCheckpoint, path: string, o: SampleOptions, target: string): Promise<string> {
  restoreTrainer('gan sample', path, ck, trainer, false);
  const n = o.n ?? 64;
  const z = trainer.noise(n, new Generator(o.seed ?? fixedNoiseSeed(ck.info.seed)));
  const images = trainer.generate(z, { batchStats: !o.runningStats });
  try {
    await writeTensorGrid(target, images, o.nrow);
  } finally {
    z.dispose();
    images.dispose();
  }
  return `${n} samples`;
}

/** Held-out input | output | target rows (both directions of a two-way model), or a multi-domain translator's domain grid. */
async function sampleTranslation(
  recipe: ModelRecipe,
  hooks: TranslationEval,
  trainer: GanTrainer,
  ck: LoadedCheckpoint,
  path: string,
  o: SampleOptions,
  target: string,
): Promise<string> {
  restoreTrainer('gan sample', path, ck, trainer, false);
  const config = ck.info.config;
  const limit = o.n ?? 16;
  if (recipe.domainTranslation) {
    const d = heldOutDomains(recipe, config, { limit });
    if (d.n < 1) throw new CliError(`gan sample: ${recipe.name}: no held-out images`, 1);
    const g = await domainGrid(trainer, hooks, d);
    writeGrid(target, g.images, g.n, 3, d.h, d.w, g.cols);
    return `${d.n} held-out ${d.domainNames[d.source]} images, each translated into ${d.domainNames.join(', ')} over its ground truth`;
  }
  const directions: Direction[] =
    o.direction === 'AtoB' || o.direction === 'BtoA' ? [o.direction] : translatesBothWays(recipe, config) ? ['AtoB', 'BtoA'] : ['AtoB'];
  const parts: Float32Array[] = [];
  let count = 0;
  let size: [number, number] = [0, 0];
  const described: string[] = [];
  for (const direction of directions) {
    const { pairs, translate } = await heldOutDirection(recipe, hooks, config, ck.info.dataset, direction, limit);
    if (pairs.n < 1) throw new CliError(`gan sample: ${recipe.name}: no held-out pairs in '${ck.info.dataset}'`, 1);
    const [, h, w] = pairs.targetShape;
    const pred = await translateAll(trainer, translate, pairs.inputs, pairs.n, pairs.inputShape);
    const g = translationGrid(
      pairs.inputs,
      pred.data,
      pairs.targets,
      pairs.n,
      { input: pairs.inputShape[0], output: pred.channels, target: pairs.targetShape[0] },
      h,
      w,
      o.nrow,
    );
    parts.push(g.images);
    count += g.n;
    size = [h, w];
    described.push(`${pairs.n} ${direction === 'AtoB' ? 'A -> B' : 'B -> A'}`);
  }
  const images = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    images.set(p, off);
    off += p.length;
  }
  writeGrid(target, images, count, 3, size[0], size[1], o.nrow);
  return `rows of input | output | target for ${described.join(', then ')} held-out pairs of '${ck.info.dataset}'`;
}

/** The generator of a direction: the sampler for A -> B, its partner for B -> A (two-way models). */
function generatorOf(trainer: GanTrainer, direction: Direction): { name: string; net: Module } {
  const partner: Record<string, string> = { netG_A: 'netG_B', generator_B: 'generator_A' };
  const name = direction === 'AtoB' ? trainer.sampler : partner[trainer.sampler];
  const net = name ? trainer.nets[name] : undefined;
  if (!net) throw new CliError(`gan sample: no generator for ${direction} among ${Object.keys(trainer.nets).join(', ')}`, 1);
  return { name, net };
}

/** How white a spread cell is drawn: a per-pixel standard deviation of this much (or more). */
export const SPREAD_WHITE = 0.25;

/**
 * --dropout / --samples: for each held-out input, K outputs of G with dropout kept on at test time
 * (the only noise of Isola et al.'s image-to-image GAN: "we apply dropout at test time, and we apply batch normalization
 * using the statistics of the test batch"), each run alone (batch 1, so its batch statistics are its
 * own, as the reference's test script at its default batch size 1; --running-stats uses the running
 * statistics instead), then the per-pixel spread: the standard deviation over the K outputs,
 * averaged over channels, drawn in gray (white at SPREAD_WHITE or more). Rows of
 * input | output 1 .. K | spread | target. Without --dropout every output is the same (a control).
 */
async function sampleDropout(
  recipe: ModelRecipe,
  hooks: TranslationEval,
  trainer: GanTrainer,
  ck: LoadedCheckpoint,
  path: string,
  o: SampleOptions,
  target: string,
): Promise<string> {
  restoreTrainer('gan sample', path, ck, trainer, false);
  const config = ck.info.config;
  const k = o.samples ?? 4;
  const on = o.dropout === true;
  const limit = o.n ?? 8;
  const directions: Direction[] =
    o.direction === 'AtoB' || o.direction === 'BtoA' ? [o.direction] : translatesBothWays(recipe, config) ? ['AtoB', 'BtoA'] : ['AtoB'];
  const cols = k + 3;
  const rows: Float32Array[] = [];
  let size: [number, number] = [0, 0];
  const described: string[] = [];
  for (const direction of directions) {
    const { name, net } = generatorOf(trainer, direction);
    const layers = dropoutLayers(net);
    if (on && layers === 0) {
      throw new CliError(
        `gan sample: --dropout: ${recipe.name}'s ${name} (--net-g ${String(config.netG)}${config.dropout === false ? ', --no-dropout' : ''}) has no dropout layer; ` +
          'train a generator that has one (e.g. --net-g unet_32_dropout at 32 px, unet_256 at 256 px, or a resnet with --dropout)',
        1,
      );
    }
    const { pairs } = await heldOutDirection(recipe, hooks, config, ck.info.dataset, direction, limit);
    if (pairs.n < 1) throw new CliError(`gan sample: ${recipe.name}: no held-out pairs in '${ck.info.dataset}'`, 1);
    const [, h, w] = pairs.targetShape;
    const plane = h * w;
    const img = 3 * plane;
    const inPer = pairs.inputShape[0] * plane;
    let spreadSum = 0;
    setTestTimeDropout(net, on, { disableInTraining: !on });
    try {
      for (let i = 0; i < pairs.n; i++) {
        const outs: Float32Array[] = [];
        for (let j = 0; j < k; j++) {
          const x = tensor(pairs.inputs.subarray(i * inPer, (i + 1) * inPer), [1, ...pairs.inputShape]);
          const y = generateWith(net, x, !o.runningStats);
          try {
            outs.push(toRgb(await y.data(), 1, y.shape[1], plane));
          } finally {
            x.dispose();
            y.dispose();
          }
        }
        const sd = new Float32Array(plane);
        for (let p = 0; p < plane; p++) {
          let acc = 0;
          for (let c = 0; c < 3; c++) {
            let m = 0;
            for (const v of outs) m += v[c * plane + p];
            m /= k;
            let q = 0;
            for (const v of outs) q += (v[c * plane + p] - m) ** 2;
            acc += Math.sqrt(q / k);
          }
          sd[p] = acc / 3;
          spreadSum += sd[p];
        }
        const row = new Float32Array(cols * img);
        row.set(toRgb(pairs.inputs.subarray(i * inPer, (i + 1) * inPer), 1, pairs.inputShape[0], plane), 0);
        outs.forEach((v, j) => row.set(v, (1 + j) * img));
        for (let c = 0; c < 3; c++)
          for (let p = 0; p < plane; p++) row[(1 + k) * img + c * plane + p] = 2 * Math.min(1, sd[p] / SPREAD_WHITE) - 1;
        const tPer = pairs.targetShape[0] * plane;
        row.set(toRgb(pairs.targets.subarray(i * tPer, (i + 1) * tPer), 1, pairs.targetShape[0], plane), (2 + k) * img);
        rows.push(row);
      }
    } finally {
      setTestTimeDropout(net, false);
    }
    size = [h, w];
    described.push(
      `${pairs.n} ${direction === 'AtoB' ? 'A -> B' : 'B -> A'} (mean per-pixel spread ${(spreadSum / (pairs.n * plane)).toFixed(4)})`,
    );
  }
  const images = new Float32Array(rows.reduce((s, r) => s + r.length, 0));
  let off = 0;
  for (const r of rows) {
    images.set(r, off);
    off += r.length;
  }
  writeGrid(target, images, rows.length * cols, 3, size[0], size[1], cols);
  const mode = `dropout ${on ? 'on' : 'off'}, ${o.runningStats ? 'running statistics' : "each run's own batch statistics (batch 1)"}`;
  return `rows of input | ${k} outputs | spread (std, white >= ${SPREAD_WHITE}) | target, ${mode}, for ${described.join(', then ')} held-out inputs of '${ck.info.dataset}'`;
}

/**
 * Images from caption codes: the emoji-text test split's first captions, --nrow noise draws each
 * (or --caption over the whole grid). The networks and the optimisers (a full restore) come from
 * the checkpoint, so the training phase of a model trained in stages, which follows the optimisers'
 * step counts, is the run's.
 * `gan convert` writes fresh optimisers (phase: text pretraining); --stage 2 shows its Stage-II.
 */
async function sampleCaptions(
  recipe: ModelRecipe,
  trainer: GanTrainer,
  ck: LoadedCheckpoint,
  path: string,
  o: SampleOptions,
  target: string,
): Promise<string> {
  const withOptimisers = hasOptimiserState(ck, trainer);
  restoreTrainer('gan sample', path, ck, trainer, withOptimisers);
  const n = o.n ?? 64;
  const perCaption = o.nrow;
  let captions: string[][];
  let rows: string[];
  if (o.caption !== undefined) {
    const tokens = tokenize(o.caption);
    if (!tokens.length) throw usageError('gan sample', `--caption '${o.caption}' has no words`);
    captions = new Array<string[]>(n).fill(tokens);
    rows = [tokens.join(' ')];
  } else {
    const size = recipe.imageShape(ck.info.config).size;
    const t = loadEmojiText({ split: 'test', set: 'google', size, limit: Math.ceil(n / perCaption), skinTones: false });
    if (t.n < 1) throw new CliError('gan sample: the emoji-text test split has no captions', 1);
    captions = Array.from({ length: n }, (_, i) => t.tokens[Math.floor(i / perCaption) % t.n]);
    rows = Array.from({ length: Math.min(t.n, Math.ceil(n / perCaption)) }, (_, r) => `${t.names[r]}: ${t.tokens[r].join(' ')}`);
  }
  const gen = new Generator(o.seed ?? fixedNoiseSeed(ck.info.seed));
  const batchStats = !o.runningStats;
  if (!recipe.text) throw new CliError(`gan sample: ${recipe.name} has no caption codes`, 1);
  const codes = recipe.text.codes(trainer, captions, gen);
  const stages = recipe.stages;
  let stage = '';
  let images: Tensor;
  try {
    if (stages) {
      const last = stages.count;
      const show = o.stage ?? stages.reached(trainer);
      images = o.stage === undefined ? trainer.generate(codes, { batchStats }) : stages.generate(trainer, codes, show, { batchStats });
      stage =
        show === last
          ? ` (${stages.label(last)})`
          : ` (${stages.label(show)}${o.stage === undefined ? `, upsampled: ${stages.label(last)} has not trained yet` : ''})`;
    } else images = trainer.generate(codes, { batchStats });
  } finally {
    codes.dispose();
  }
  try {
    await writeTensorGrid(target, images, perCaption);
  } finally {
    images.dispose();
  }
  if (!withOptimisers) out.err('gan sample: the checkpoint has no optimiser state, so the training phase is unknown (taken as the start)');
  if (o.caption !== undefined) out.line(`gan sample: every image from the caption '${rows[0]}', a new noise draw each`);
  else {
    out.line(`gan sample: ${perCaption} noise draws per row, one caption each (emoji-text test split, never seen in training):`);
    rows.forEach((r, i) => out.line(`  row ${i + 1}: ${r}`));
  }
  return `${n} samples${stage}`;
}
