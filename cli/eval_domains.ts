// The domain-classifier part of `gan eval` for multi-domain translators (a recipe with a
// domainTranslation hook), Node only: it reads the emoji skin-tone splits. cli/eval.ts
// calls evalDomainTranslation after the generic L1 / PSNR / SSIM of the config's (source, target)
// pair (the recipe's heldOutPairs hook); the sample grids of `gan train` and `gan sample` show
// cli/heldout.ts heldOutDomains.
//
//   domain accuracy  a small classifier (metrics/classifier.ts ConvClassifier, trained with a
//                  fixed seed on the real training images, labels = domain) reads the domain of
//                  every test image translated into every other domain; the accuracy is the share
//                  read as the target domain (the paper's classification-error measure on RaFD).
//                  Reported with the classifier's accuracy on the real test images (the ceiling),
//                  the same for the untrained generator (the run's own seeded initialisation), the
//                  mean L1 of each (source -> target) translation against its ground truth, and the
//                  identity baseline (output = input). The trained classifier is cached under
//                  .cache/metrics/ (keyed by image size, domains, seed, recipe and emoji package).

import { join } from 'node:path';
import { tensor } from '../engine/tensor.js';
import { emojiPackageInfo, loadEmojiSkinTones, type EmojiSkinTones } from '../data/emoji.js';
import { defaultMetricsCacheDir } from '../metrics/lenet.js';
import { loadOrTrainClassifier } from '../metrics/classifier_cache.js';
import { ConvClassifier, classifierAccuracy, classifierPredict, initClassifier_, trainClassifier } from '../metrics/classifier.js';
import { Generator } from '../engine/ops/random.js';
import { gatherImages, packDomains, type DomainSet } from '../data/domains.js';
import { heldOutDomainSet } from './heldout.js';
import type { DomainTranslation, GanTrainer, ModelRecipe } from '../nets/registry.js';
import type { TranslationEval } from '../nets/lib/translation.js';
import { out, table } from './common.js';
import { restoreTrainer, type LoadedCheckpoint } from './checkpoint_io.js';

/** The domain classifier's recipe: 3 stride-2 3x3 convs (16-32-64), one hidden layer of 64; Adam. */
export const DOMAIN_CLASSIFIER = { convs: [16, 32, 64], kernel: 3, padding: 1, hidden: [64], steps: 1000, batch: 32, lr: 1e-3 } as const;

/** The skin-tone training split at the model's size, checked against its domain count. */
function trainingDomains(d: DomainTranslation): EmojiSkinTones {
  const s = loadEmojiSkinTones({ split: 'train', size: d.size });
  if (s.numDomains !== d.count) throw new Error(`domain eval: the model has ${d.count} domains, the skin-tone data ${s.numDomains}`);
  return s;
}

function domainClassifierNet(d: DomainTranslation): ConvClassifier {
  const { convs, kernel, padding, hidden } = DOMAIN_CLASSIFIER;
  return new ConvClassifier({ inChannels: 3, size: d.size, numClasses: d.count, convs, kernel, padding, hidden, downsample: 'stride' });
}

/** Where the trained classifier of a (size, domains, seed) is cached (also keyed by the emoji package version). */
export function domainClassifierPath(d: DomainTranslation, seed: number, dir = defaultMetricsCacheDir()): string {
  const { steps, batch, lr } = DOMAIN_CLASSIFIER;
  const version = emojiPackageInfo('google').version;
  return join(dir, `skin-tone-classifier-v1-emoji${version}-px${d.size}-c${d.count}-s${seed}-n${steps}-b${batch}-lr${lr}.safetensors`);
}

/**
 * The domain classifier for the model's image size, trained with a fixed seed on the real training
 * images (deterministic), from the metrics cache when it was trained before.
 */
export async function loadOrTrainDomainClassifier(
  d: DomainTranslation,
  seed: number,
  log: (line: string) => void = () => {},
): Promise<{ net: ConvClassifier; path: string; cached: boolean }> {
  const path = domainClassifierPath(d, seed);
  const { steps, batch, lr } = DOMAIN_CLASSIFIER;
  const { net, cached } = await loadOrTrainClassifier({
    path,
    what: 'domain classifier',
    log,
    create: () => domainClassifierNet(d),
    expect: { recipe: DOMAIN_CLASSIFIER },
    async train(net) {
      const s = trainingDomains(d);
      initClassifier_(net, new Generator(seed));
      log(`domain classifier: training on ${s.n} real images (${steps} steps, batch ${batch}, seed ${seed}) -> ${path}`);
      const r = await trainClassifier(
        net,
        { images: s.images, labels: s.domain, n: s.n, c: 3, h: s.h, w: s.w },
        {
          steps,
          batch,
          lr,
          seed,
          logEvery: steps / 4,
          onLog: (step, loss) => log(`domain classifier: step ${step}/${steps} loss ${loss.toFixed(4)}`),
        },
      );
      return { recipe: JSON.stringify(DOMAIN_CLASSIFIER), train_seconds: r.seconds.toFixed(1) };
    },
  });
  return { net, path, cached };
}

export interface DomainTranslationScores {
  /** Share of translations (source != target) the classifier reads as their target domain. */
  accuracy: number;
  /** Mean L1 ([-1, 1] scale) against the ground truth, [source][target] (the diagonal: into its own domain). */
  l1: number[][];
  /** Mean of l1 over source != target. */
  meanL1: number;
  translations: number;
}

/** Translates every test image into every domain and scores the results (classifier, ground truth). */
export async function scoreDomainTranslations(
  trainer: GanTrainer,
  translate: TranslationEval['translate'],
  test: DomainSet,
  classifier: ConvClassifier,
  batch: number,
): Promise<DomainTranslationScores> {
  const C = test.numDomains;
  const img = 3 * test.h * test.w;
  const l1 = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  const count = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  let hits = 0;
  let off = 0;
  for (let start = 0; start < test.n; start += batch) {
    const m = Math.min(batch, test.n - start);
    const idx = Array.from({ length: m }, (_, k) => start + k);
    const images = gatherImages(test, idx);
    for (let d = 0; d < C; d++) {
      const x = tensor(packDomains(images, new Array<number>(m).fill(d), m, C, 3, test.h, test.w), [m, 3 + C, test.h, test.w]);
      const y = translate(trainer, x);
      x.dispose();
      const fake = await y.data();
      y.dispose();
      const pred = await classifierPredict(classifier, fake, m);
      idx.forEach((i, k) => {
        const s = test.domain[i];
        const truth = test.counterpart[i * C + d] * img;
        let e = 0;
        for (let j = 0; j < img; j++) e += Math.abs(fake[k * img + j] - test.images[truth + j]);
        l1[s][d] += e / img;
        count[s][d]++;
        if (s !== d) {
          off++;
          if (pred[k] === d) hits++;
        }
      });
    }
  }
  const mean = l1.map((row, s) => row.map((v, d) => (count[s][d] ? v / count[s][d] : NaN)));
  let sum = 0;
  let k = 0;
  mean.forEach((row, s) =>
    row.forEach((v, d) => {
      if (s !== d && Number.isFinite(v)) {
        sum += v;
        k++;
      }
    }),
  );
  return { accuracy: off ? hits / off : NaN, l1: mean, meanL1: k ? sum / k : NaN, translations: off };
}

/** Mean L1 of each test image against its counterpart in every other domain (output = input: the floor to beat). */
export function identityL1(test: DomainSet): number {
  const C = test.numDomains;
  const img = 3 * test.h * test.w;
  let sum = 0;
  let k = 0;
  for (let i = 0; i < test.n; i++) {
    for (let d = 0; d < C; d++) {
      if (d === test.domain[i]) continue;
      const t = test.counterpart[i * C + d] * img;
      let e = 0;
      for (let j = 0; j < img; j++) e += Math.abs(test.images[i * img + j] - test.images[t + j]);
      sum += e / img;
      k++;
    }
  }
  return k ? sum / k : NaN;
}

const fmt = (v: number, digits = 3) => (Number.isFinite(v) ? v.toFixed(digits) : String(v));

/**
 * `gan eval`'s domain-classifier accuracy for a multi-domain translator: the classifier trained on
 * real images, the trained and the untrained generator's translations of the test split (at most
 * `n` test images), through the recipe's translate hook.
 */
export async function evalDomainTranslation(
  recipe: ModelRecipe,
  translate: TranslationEval['translate'],
  ck: LoadedCheckpoint,
  path: string,
  o: { n: number; batch: number; seed: number },
): Promise<Record<string, unknown>> {
  const config = ck.info.config;
  // At most n test images: n / count emoji, each drawn in every domain.
  const count = recipe.domainTranslation?.(config).count ?? 1;
  const { d, s: test } = heldOutDomainSet(recipe, config, Math.max(1, Math.ceil(o.n / count)));
  const { net: classifier, path: classifierPath, cached } = await loadOrTrainDomainClassifier(d, o.seed, (l) => out.line(`gan eval: ${l}`));
  if (cached) out.line(`gan eval: domain classifier from the cache: ${classifierPath}`);
  try {
    const realAccuracy = await classifierAccuracy(classifier, {
      images: test.images,
      labels: test.domain,
      n: test.n,
      c: 3,
      h: test.h,
      w: test.w,
    });
    const trained = recipe.create(config, ck.info.settings, ck.info.seed);
    const untrained = recipe.create(config, ck.info.settings, ck.info.seed);
    try {
      restoreTrainer('gan eval', path, ck, trained, false);
      const model = await scoreDomainTranslations(trained, translate, test, classifier, o.batch);
      const initial = await scoreDomainTranslations(untrained, translate, test, classifier, o.batch);
      const names = test.domainNames;
      const identity = identityL1(test);
      out.line(`gan eval: domain classifier on ${test.n} real test images: accuracy ${fmt(100 * realAccuracy, 1)}%`);
      out.line(`gan eval: ${model.translations} translations of the test images into every other domain:`);
      out.line(
        table([
          ['trained G', `classified as the target ${fmt(100 * model.accuracy, 1)}%   L1 to ground truth ${fmt(model.meanL1, 4)}`],
          ['untrained G', `classified as the target ${fmt(100 * initial.accuracy, 1)}%   L1 to ground truth ${fmt(initial.meanL1, 4)}`],
          ['identity (output = input)', `L1 to ground truth ${fmt(identity, 4)}`],
        ]),
      );
      out.line('  L1 of the trained G by source (rows) and target (columns): ' + names.join(', '));
      for (const [s, row] of model.l1.entries()) out.line(`  ${names[s].padEnd(13)} ${row.map((v) => fmt(v, 3)).join('  ')}`);
      return {
        domains: {
          names,
          testImages: test.n,
          classifier: { recipe: DOMAIN_CLASSIFIER, seed: o.seed, path: classifierPath, realTestAccuracy: realAccuracy },
          trained: model,
          untrained: initial,
          identityL1: identity,
        },
      };
    } finally {
      (trained as { dispose?(): void }).dispose?.();
      (untrained as { dispose?(): void }).dispose?.();
    }
  } finally {
    classifier.dispose();
  }
}
