// `gan eval`: evaluations. `gan eval modes` runs the mode-counting comparison on Gaussian mixtures
// (cli/eval_modes.ts). `gan eval [model] --ckpt PATH` scores a training checkpoint
// (docs/metrics.md) and writes the numbers as JSON next to it (<checkpoint>.eval.json):
//
//   generators trained on MNIST (or Stacked MNIST): N generated vs N real test images, through the
//     LeNet feature extractor (metrics/lenet.ts, trained and cached on first use): Frechet
//     distance, KID, precision/recall; the same for the untrained generator (the run's own seeded
//     initialisation) and for N real training images, as the two ends of the scale; Stacked MNIST
//     adds the mode count.
//   generators trained on emoji (`emoji`, `emoji-text`): the same numbers on the features of the emoji
//     net (metrics/emojinet.ts, cli/eval_emoji.ts: a classifier of the emoji categories trained
//     and cached on first use) against the emoji test split; text-conditioned runs (the recipe's text
//     hook) add the conditional accuracy of images generated from the test captions. For a model
//     trained in stages (the stages hook), `--stage N` scores stage N's output at its own size.
//   image-to-image models whose recipe exposes `translate` and `heldOutPairs` (TranslationEval,
//     nets/lib/translation.ts): L1, PSNR and SSIM of the translations against held-out ground truth
//     (the test split of the dataset the run trained on), for the trained networks, for the same
//     networks as initialised at the start of the run (the seeded untrained model), for the
//     identity (output = input) and for the training set's mean image (every output the per-pixel
//     mean of the training targets; models whose pairs come from the registered held-out source),
//     so the numbers have both ends of a scale.
// Any other model or dataset gets a plain "not yet available" (exit 1) rather than numbers that
// mean nothing.

import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { Generator } from '../engine/ops/random.js';
import { loadMnist } from '../data/mnist.js';
import { countModes, loadStackedMnist } from '../data/stacked_mnist.js';
import { scoreTranslation, type TranslationEval, type TranslationScores } from '../nets/lib/translation.js';
import { constantPrediction, meanTargetImage, trainingPairsOf, translationHooksOf } from './heldout.js'; // importing it registers the emoji test splits as the held-out source
import {
  LENET_FULL,
  LENET_QUICK,
  defaultMetricsCacheDir,
  drawnFeatureSet,
  featureMetrics,
  leNetFeatureSet,
  loadOrTrainLeNet,
  predictDigits,
  type FeatureMetrics,
  type ImageBatch,
} from '../metrics/lenet.js';
import { EMOJI_NET_FULL, EMOJI_NET_QUICK } from '../metrics/emojinet.js';
import type { ConvClassifier } from '../metrics/classifier.js';
import { canonical, loadOrTrainClassifier } from '../metrics/classifier_cache.js';
import { getRecipe, recipes, type GanTrainer, type JudgeStore, type ModelRecipe } from '../nets/registry.js';
import {
  acquireEngine,
  checkRange,
  CliError,
  exampleCheckpoint,
  exampleModel,
  firstLine,
  out,
  parseOrHelp,
  table,
  usageError,
} from './common.js';
import {
  hasOptimiserState,
  loadRunCheckpoint,
  readCheckpointInfo,
  restoreTrainer,
  type LoadedCheckpoint,
  type RunInfo,
} from './checkpoint_io.js';
import { evalModesCommand } from './eval_modes.js';
import { noiseDraws, type FeatureJudge, type Render } from './eval_judge.js';
import { evalDomainTranslation } from './eval_domains.js';
import { emojiJudge, isEmojiEvalDataset, isTextConditioned, loadOrTrainEmojiNet } from './eval_emoji.js';
import { loadDataset } from './datasets.js';
import { pretrainedPath } from './zoo.js';

// The hooks' interfaces (and the emoji held-out helper, heldOutEmojiPairs) live in
// nets/lib/translation.ts; re-exported here for existing imports.
export type { HeldOutPairs, TranslationEval } from '../nets/lib/translation.js';

const spec = {
  command: 'gan eval',
  description:
    'Evaluate a training checkpoint: LeNet-feature FD / KID / precision-recall for MNIST generators (emoji-net\n' +
    'features and, for text models, conditional accuracy for emoji generators), or\n' +
    'L1 / PSNR / SSIM against held-out pairs for image-to-image models; writes <checkpoint>.eval.json.\n' +
    '`gan eval modes` compares mode coverage on Gaussian mixtures (see `gan eval modes --help`).',
  options: {
    ckpt: { type: 'string', metavar: 'PATH', help: 'checkpoint to evaluate (its model is read from it)' },
    pretrained: {
      type: 'string',
      metavar: 'MODEL',
      help: 'evaluate the shipped trained weights of MODEL (zoo/<model>/, docs/zoo.md) instead of a checkpoint',
    },
    n: {
      type: 'int',
      default: 2000,
      metavar: 'N',
      help: 'generated and real images per side (generators); max held-out pairs (image-to-image)',
    },
    batch: { type: 'int', default: 100, metavar: 'N', help: 'images per forward pass' },
    seed: { type: 'int', default: 0, metavar: 'N', help: 'seed of the evaluation noise and of the real-image draw' },
    lenet: {
      type: 'string',
      default: 'full',
      choices: ['full', 'quick'],
      help: 'LeNet feature extractor recipe (full: 2 MNIST epochs; quick: 200 steps, for smoke tests)',
    },
    emojiNet: {
      type: 'string',
      default: 'full',
      choices: ['full', 'quick'],
      help: 'emoji feature net recipe (emoji generators; full: 400 steps of 64 on Noto + Twemoji; quick: 150 steps of 32, Noto only, for smoke tests)',
    },
    stage: {
      type: 'int',
      metavar: 'N',
      help: "models trained in stages: score this stage's output at its own size (default: the last stage the run trained)",
    },
    runningStats: { type: 'boolean', help: "generate with the running statistics (eval mode) instead of each batch's own" },
    out: {
      type: 'string',
      metavar: 'JSON',
      help: 'where to write the metrics (default: <checkpoint>.eval.json beside it; with --pretrained, runs/pretrained-<model>.eval.json)',
    },
  },
  positionals: [{ name: 'model', help: `model name (${Object.keys(recipes).join(', ')}), or 'modes'` }],
  examples: [`gan eval --ckpt ${exampleCheckpoint()} --n 2000`, `gan eval --pretrained ${exampleModel()} --n 1000`],
} as const;

type EvalOptions = NonNullable<ReturnType<typeof parseOrHelp<typeof spec>>>['options'];

export async function evalCommand(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'modes') return evalModesCommand(argv.slice(1));
  const args = parseOrHelp(argv, spec);
  if (!args) return 0;
  const o = args.options;
  let model = args.positionals[0];
  if (o.pretrained !== undefined) {
    if (o.ckpt) throw usageError('gan eval', `give --ckpt or --pretrained ${o.pretrained}, not both`);
    o.ckpt = pretrainedPath('gan eval', o.pretrained);
  }
  if (o.ckpt) {
    const fromCkpt = (await readCheckpointInfo('gan eval', o.ckpt)).model;
    if (model && model !== fromCkpt) throw usageError('gan eval', `checkpoint '${o.ckpt}' is for ${fromCkpt}, not ${model}`);
    model = fromCkpt;
  }
  if (!model) throw usageError('gan eval', 'give a model name or --ckpt PATH; see --help');
  const recipe = getRecipe(model);
  if (!recipe) throw usageError('gan eval', `unknown model '${model}' (known: ${Object.keys(recipes).join(', ')})`);
  if (!o.ckpt)
    throw usageError(
      'gan eval',
      `give the checkpoint to evaluate: gan eval --ckpt PATH (e.g. runs/${model}-<timestamp>/checkpoint.safetensors)`,
    );
  checkRange('gan eval', 'n', o.n, 10, 100_000, 'an integer');
  checkRange('gan eval', 'batch', o.batch, 1, 4096, 'an integer');
  checkRange('gan eval', 'seed', o.seed, 0, Number.MAX_SAFE_INTEGER, 'an integer');

  const path = resolve(o.ckpt);
  const ck = await loadRunCheckpoint('gan eval', path);
  const hooks = translationHooksOf(recipe);
  const kind = hooks.translate ? 'translation' : isEmojiEvalDataset(ck.info.dataset) ? 'emoji' : mnistKind(ck.info.dataset);
  if (!kind) {
    throw new CliError(
      `gan eval: evaluation is not yet available for ${model} on '${ck.info.dataset}' (LeNet metrics cover MNIST generators, emoji-net metrics generators of emoji / emoji-text; image-to-image recipes need translate/heldOutPairs)`,
      1,
    );
  }
  if (o.stage !== undefined && !recipe.stages)
    throw usageError('gan eval', `--stage is for models trained in stages (this one is ${model})`);
  if (o.stage !== undefined && recipe.stages && !(Number.isInteger(o.stage) && o.stage >= 1 && o.stage <= recipe.stages.count)) {
    throw usageError(
      'gan eval',
      `--stage must be ${Array.from({ length: recipe.stages.count }, (_, i) => i + 1).join(' or ')}, got ${o.stage}`,
    );
  }
  if (kind === 'translation' && !hooks.heldOutPairs)
    throw new CliError(
      `gan eval: the ${model} recipe has translate() but no heldOutPairs(), so there is no ground truth to score against`,
      1,
    );

  const e = await acquireEngine('gan eval');
  const t0 = performance.now();
  let result: Record<string, unknown>;
  try {
    result =
      kind === 'translation'
        ? await evalTranslation(recipe, hooks as TranslationEval, ck, path, o)
        : await evalGenerator(recipe, ck, path, o, kind);
    if (recipe.domainTranslation && hooks.translate)
      result = { ...result, ...(await evalDomainTranslation(recipe, hooks.translate, ck, path, o)) };
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`gan eval: ${firstLine(err)}`, 1);
  }
  const report = {
    model,
    checkpoint: path,
    step: ck.info.step,
    dataset: ck.info.dataset,
    ...result,
    seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
    date: new Date().toISOString(),
  };
  const target = resolve(
    o.out ??
      (o.pretrained !== undefined
        ? join('runs', `pretrained-${o.pretrained}.eval.json`)
        : join(dirname(path), `${basename(path).replace(/\.safetensors$/, '')}.eval.json`)),
  );
  try {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, JSON.stringify(report, null, 2) + '\n');
  } catch (err) {
    throw new CliError(`gan eval: cannot write '${target}': ${firstLine(err)}`, 1);
  }
  out.line(`gan eval: metrics -> ${relative(process.cwd(), target)}`);
  e.destroy();
  return 0;
}

/** Which MNIST family a training dataset belongs to (null: no LeNet metrics for it). */
function mnistKind(dataset: string): 'mnist' | 'stacked' | null {
  if (dataset === 'mnist') return 'mnist';
  if (/^stacked[-_]?mnist$/.test(dataset)) return 'stacked';
  return null;
}

/** Real MNIST (or Stacked-MNIST) images at the model's geometry, as the training loader made them. */
function realImages(kind: 'mnist' | 'stacked', split: 'train' | 'test', n: number, size: number, seed: number): ImageBatch {
  const geometry = size === 32 ? { pad32: true } : { size };
  if (kind === 'stacked') {
    const s = loadStackedMnist({ split, n, seed, ...geometry });
    return { images: s.images, n: s.n, c: 3, h: s.h, w: s.w };
  }
  const m = loadMnist({ split, limit: n, ...geometry });
  if (m.n < n) throw new CliError(`gan eval: --n ${n} is more than the ${m.n} MNIST ${split} images`, 2);
  return { images: m.images, n: m.n, c: 1, h: m.h, w: m.w };
}

const fmt = (v: number, digits = 3) => (Number.isFinite(v) ? v.toFixed(digits) : String(v));

export type { FeatureJudge, GeneratedFeatures, Render } from './eval_judge.js';

/** The LeNet judge of MNIST (or Stacked-MNIST) generators: n noise draws from Generator(seed). */
async function leNetJudge(kind: 'mnist' | 'stacked', size: number, o: EvalOptions): Promise<FeatureJudge & { lenet: ConvClassifier }> {
  const lenetRecipe = o.lenet === 'quick' ? LENET_QUICK : LENET_FULL;
  const lenet = await loadOrTrainLeNet(lenetRecipe, { log: (l) => out.line(`gan eval: ${l}`) });
  out.line(
    `gan eval: LeNet features from ${relative(process.cwd(), lenet.path)} (${lenet.source === 'trained' ? 'trained now' : lenet.source}; MNIST test accuracy ${fmt(100 * lenet.testAccuracy, 2)}%)`,
  );
  const n = o.n;
  return {
    lenet: lenet.model,
    features: 'LeNet features',
    realName: 'MNIST test images',
    n,
    realTest: await leNetFeatureSet(lenet.model, realImages(kind, 'test', n, size, o.seed)),
    realTrain: await leNetFeatureSet(lenet.model, realImages(kind, 'train', n, size, o.seed + 1)),
    async generated(t, render) {
      return { features: await drawnFeatureSet(lenet.model, noiseDraws(t, render, new Generator(o.seed)), n, o.batch) };
    },
    info: { lenet: { path: lenet.path, source: lenet.source, recipe: lenetRecipe, testAccuracy: lenet.testAccuracy } },
  };
}

async function evalGenerator(
  recipe: ModelRecipe,
  ck: LoadedCheckpoint,
  path: string,
  o: EvalOptions,
  kind: 'mnist' | 'stacked' | 'emoji',
): Promise<Record<string, unknown>> {
  const { channels, size } = recipe.imageShape(ck.info.config);
  const wantChannels = kind === 'mnist' ? 1 : 3;
  if (channels !== wantChannels)
    throw new CliError(`gan eval: ${recipe.name} makes ${channels}-channel images, '${ck.info.dataset}' has ${wantChannels}`, 1);

  // The trained generator and, for scale, the same network as initialised at the start of the run.
  const trained = recipe.create(ck.info.config, ck.info.settings, ck.info.seed);
  const untrained = recipe.create(ck.info.config, ck.info.settings, ck.info.seed);
  if (kind === 'emoji' && trained.bindData) {
    // Text models take their captions as `gan train` gives them (before the restore; binding draws nothing).
    const d = await loadDataset(ck.info.dataset, { size, limit: ck.info.limit || undefined });
    const data = {
      images: d.data,
      n: d.n,
      c: d.sampleShape[0],
      h: d.sampleShape[1],
      w: d.sampleShape[2],
      labels: d.labels,
      tokens: d.tokens,
    };
    trained.bindData(data);
    untrained.bindData?.(data);
  }
  // The optimisers too when the checkpoint has them: training state such as a staged model's phase follows
  // their step counts (a converted checkpoint has none: networks only).
  const full = hasOptimiserState(ck, trained);
  restoreTrainer('gan eval', path, ck, trained, full);
  const batchStats = !o.runningStats;

  // What is scored: generate(), or for a model trained in stages one stage at its own size
  // (default: the last stage the run trained, for both the trained and the untrained model).
  let render: Render = (t, z) => t.generate(z, { batchStats });
  let evalSize = size;
  let what = `${recipe.name} step ${ck.info.step}`;
  const stages = recipe.stages;
  if (stages) {
    const stage = o.stage ?? stages.reached(trained); // --stage is checked above
    evalSize = stages.size(ck.info.config, stage);
    render = (t, z) => stages.generate(t, z, stage, { batchStats });
    what += `, ${stages.label(stage)} (${evalSize}x${evalSize}; phase ${stages.phase(trained)}${full ? '' : ', networks only'})`;
  }

  let judge: FeatureJudge;
  let lenet: ConvClassifier | null = null;
  if (kind === 'emoji') {
    const netRecipe = o.emojiNet === 'quick' ? EMOJI_NET_QUICK : EMOJI_NET_FULL;
    const net = await loadOrTrainEmojiNet(netRecipe, { log: (l) => out.line(`gan eval: ${l}`) });
    out.line(
      `gan eval: emoji-net features from ${relative(process.cwd(), net.path)} (${net.source === 'trained' ? 'trained now' : net.source}; emoji test-split category accuracy ${fmt(100 * net.testAccuracy, 1)}%)`,
    );
    const text = isTextConditioned(recipe, ck.info.config, ck.info.dataset);
    const dataset = ck.info.dataset as 'emoji' | 'emoji-text';
    judge = await emojiJudge({
      dataset,
      size: evalSize,
      n: o.n,
      seed: o.seed,
      batch: o.batch,
      text,
      textCodes: recipe.text?.codes,
      net,
      recipeName: recipe.name,
    });
    if (judge.n < o.n)
      out.line(`gan eval: ${judge.n} images per side (${text ? 'one per test caption: ' : ''}the ${dataset} test split has ${judge.n})`);
  } else {
    const j = await leNetJudge(kind, size, o);
    lenet = j.lenet;
    judge = j;
  }
  const n = judge.n;

  // Subsets of half the samples (at most 1000), so they differ and the spread means something.
  const kid = { subsets: 100, subsetSize: Math.min(1000, Math.max(2, Math.floor(n / 2))), seed: o.seed };
  const gTrained = await judge.generated(trained, render);
  const gUntrained = await judge.generated(untrained, render);
  const modelMetrics = await featureMetrics(judge.realTest, gTrained.features, { kid });
  const untrainedMetrics = await featureMetrics(judge.realTest, gUntrained.features, { kid });
  const reference = await featureMetrics(judge.realTest, judge.realTrain, { kid });

  let modes: { covered: number; kl: number; untrained: { covered: number; kl: number } } | undefined;
  if (kind === 'stacked' && lenet) {
    // Each channel of each sample classified as a digit; mode = 100 r + 10 g + b. The untrained
    // generator's count (the same noise) is the start of the scale.
    const count = async (t: GanTrainer) => {
      const g = new Generator(o.seed);
      const digits = new Uint8Array(3 * n);
      for (let i = 0; i < n; i += o.batch) {
        const m = Math.min(o.batch, n - i);
        const z = t.noise(m, g);
        const x = render(t, z);
        z.dispose();
        try {
          digits.set(await predictDigits(lenet!, x), 3 * i);
        } finally {
          x.dispose();
        }
      }
      const c = countModes(digits);
      return { covered: c.covered, kl: c.kl };
    };
    modes = { ...(await count(trained)), untrained: await count(untrained) };
  }

  // The model's own numbers (its recipe's evalExtras: a classifier network's test error, ...), given
  // the labelled test split, and for a baseline trained now (Triple-GAN's supervised-only C) the
  // training split the run bound (its --limit too) and trainers of the run's recipe, settings and seed.
  const mnistSplit = (split: 'train' | 'test', limit?: number) => ({
    ...(size === 32 ? loadMnist({ split, pad32: true, limit }) : loadMnist({ split, size, limit })),
    c: 1,
  });
  const extras = await recipe.evalExtras?.(trained, untrained, {
    dataset: ck.info.dataset,
    channels,
    size,
    step: ck.info.step,
    createTrainer: (config) => recipe.create(config, ck.info.settings, ck.info.seed),
    judgeStore: runJudgeStore(ck, (l) => out.line(`gan eval: ${l}`)),
    log: (l) => out.line(`gan eval: ${l}`),
    ...(kind === 'mnist' ? { testSet: () => mnistSplit('test'), trainSet: () => mnistSplit('train', ck.info.limit || undefined) } : {}),
  });
  const summary = judge.summary?.(gTrained.extra ?? {}, gUntrained.extra ?? {});

  const row = (name: string, m: FeatureMetrics): [string, string] => [
    name,
    `FD ${fmt(m.fd, 2)}   KID ${fmt(m.kid, 4)} +- ${fmt(m.kidStd, 4)}   precision ${fmt(m.precision)}   recall ${fmt(m.recall)}`,
  ];
  out.line(`gan eval: ${what}, ${n} generated vs ${n} ${judge.realName} (${judge.features}):`);
  out.line(table([row('trained', modelMetrics), row('untrained', untrainedMetrics), row('real (train split)', reference)]));
  if (modes)
    out.line(
      `  modes covered ${modes.covered} / 1000 (untrained ${modes.untrained.covered}), KL(modes || uniform) ${fmt(modes.kl)} (untrained ${fmt(modes.untrained.kl)})`,
    );
  for (const l of extras?.lines ?? []) out.line(l);
  for (const l of summary?.lines ?? []) out.line(l);
  return {
    kind: 'generator',
    n,
    seed: o.seed,
    batchStats,
    ...judge.info,
    ...(stages ? { stage: what } : {}),
    metrics: modelMetrics,
    untrained: untrainedMetrics,
    realReference: reference,
    ...(modes ? { modes } : {}),
    ...(extras?.json ?? {}),
    ...(summary?.json ?? {}),
  };
}

/**
 * EvalContext.judgeStore for a run: the file's name and metadata carry the request's key plus what
 * else the weights depend on (the model, the run's optimiser settings, seed, data set and --limit),
 * so a baseline trained for one run is never used for another; shipped (zoo/judges/) before cached.
 */
function runJudgeStore(ck: LoadedCheckpoint, log: (line: string) => void): JudgeStore {
  return async (r) => {
    const { key, file } = judgeStoreFile(ck.info, r.name, r.key);
    const c = await loadOrTrainClassifier({
      path: join(defaultMetricsCacheDir(), file),
      what: r.what,
      create: r.create,
      moduleOf: r.moduleOf,
      expect: { key },
      train: async (v) => ({ ...(await r.train(v)), key: JSON.stringify(key) }),
      log,
    });
    log(
      `${r.what}: ${c.source === 'trained' ? 'trained now, cached at' : `weights from the ${c.source === 'shipped' ? 'shipped file' : 'cache'}`} ${c.path}`,
    );
    return { value: c.net, source: c.source, path: c.path, metadata: c.metadata };
  };
}

/**
 * The judge store's key for a request of a run (the request's own key plus the model, the run's
 * optimiser settings, seed, data set and --limit) and its file name: `<name>-<16 hex of its hash>.safetensors`.
 */
export function judgeStoreFile(
  info: RunInfo,
  name: string,
  requestKey: Record<string, unknown>,
): { key: Record<string, unknown>; file: string } {
  const { batch, lr, beta1, beta2, steps } = info.settings;
  const key = {
    ...requestKey,
    model: info.model,
    settings: { batch, lr, beta1, beta2, steps },
    seed: info.seed,
    dataset: info.dataset,
    limit: info.limit,
    format: JUDGE_STORE_FORMAT,
  };
  return { key, file: `${name}-${createHash('sha256').update(canonical(key)).digest('hex').slice(0, 16)}.safetensors` };
}

/** Bump when what the judge store's files hold changes meaning. */
const JUDGE_STORE_FORMAT = 1;

async function evalTranslation(
  recipe: ModelRecipe,
  hooks: TranslationEval,
  ck: LoadedCheckpoint,
  path: string,
  o: EvalOptions,
): Promise<Record<string, unknown>> {
  const pairs = await hooks.heldOutPairs(ck.info.config, { limit: o.n, dataset: ck.info.dataset });
  if (pairs.n < 1) throw new CliError(`gan eval: ${recipe.name} has no held-out pairs`, 1);
  // The trained networks, and the same networks as the run initialised them (its seed).
  const trainer = recipe.create(ck.info.config, ck.info.settings, ck.info.seed);
  restoreTrainer('gan eval', path, ck, trainer, false);
  const untrained = recipe.create(ck.info.config, ck.info.settings, ck.info.seed);
  const metrics = await scoreTranslation(pairs, (x) => hooks.translate(trainer, x), o.batch);
  const untrainedMetrics = await scoreTranslation(pairs, (x) => hooks.translate(untrained, x), o.batch);
  const sameShape = pairs.inputShape.every((d, i) => d === pairs.targetShape[i]);
  const identity = sameShape ? await scoreTranslation(pairs, null, o.batch) : null;
  // The training set's mean image as every output (input ignored): the best constant guess.
  const train = await trainingPairsOf(hooks, ck.info.config, ck.info.dataset);
  const meanFits = train && train.targetShape.every((d, i) => d === pairs.targetShape[i]);
  const meanImage = meanFits
    ? {
        ...(await scoreTranslation(pairs, constantPrediction(meanTargetImage(train), pairs.targetShape), o.batch)),
        trainingPairs: train.n,
      }
    : null;

  const row = (name: string, m: TranslationScores): [string, string] => [
    name,
    `L1 ${fmt(m.l1, 4)}   PSNR ${fmt(m.psnr, 2)} dB   SSIM ${fmt(m.ssim, 4)}`,
  ];
  out.line(
    `gan eval: ${recipe.name} step ${ck.info.step}, ${pairs.n} held-out pairs of '${ck.info.dataset}' (L1 on the [-1, 1] scale; PSNR, SSIM on [0, 1], ${metrics.ssimWindow}x${metrics.ssimWindow} window):`,
  );
  out.line(
    table([
      row('trained', metrics),
      row('untrained (seeded init)', untrainedMetrics),
      ...(identity ? [row('identity (output = input)', identity)] : []),
      ...(meanImage ? [row(`training mean image (${meanImage.trainingPairs} pairs)`, meanImage)] : []),
    ]),
  );
  return { kind: 'translation', n: pairs.n, metrics, untrained: untrainedMetrics, identity, meanImage };
}
