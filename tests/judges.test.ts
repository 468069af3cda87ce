// The judges `gan eval` scores with and the baselines it scores against (issue 15):
//   - shipped judges (zoo/judges/, metrics/classifier_cache.ts): a shipped file is read before the
//     cache, used only when its metadata holds the loader's recipe and format (a mismatched one is
//     passed over for the cache, then for training), on tiny fixtures; and the committed LeNet judge
//     is what loadOrTrainLeNet returns with an empty cache (a fresh clone trains nothing);
//   - the training set's mean-image baseline of image-to-image models (cli/heldout.ts, cli/eval.ts):
//     the mean and its L1 / PSNR / SSIM against an independent float64 CPU reference, and the training
//     pairs it is fit on (the training split, in the model's direction; none for hooks that do not
//     read the registered source).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initEngine } from '../engine/device.js';
import { Generator } from '../engine/ops/random.js';
import { saveModel } from '../engine/checkpoint_node.js';
import { ConvClassifier, classifierFeatures, initClassifier_ } from '../metrics/classifier.js';
import { checkJudgeMetadata, loadOrTrainClassifier, shippedJudgePath, shippedJudgesDir } from '../metrics/classifier_cache.js';
import {
  LENET_FULL,
  LENET_QUICK,
  createLeNet,
  features,
  leNetCachePath,
  loadMnistForLeNet,
  loadOrTrainLeNet,
  saveLeNet,
} from '../metrics/lenet.js';
import { l1Cpu, psnrCpu, ssimCpu } from '../metrics/image.js';
import { scoreTranslation, ssimWindowFor, type HeldOutPairs, type TranslationEval } from '../nets/lib/translation.js';
import { constantPrediction, heldOutPackedPairs, meanTargetImage, trainingPairsOf, translationHooksOf } from '../cli/heldout.js';
import { getRecipe } from '../nets/registry.js';
import { configOf, seeded } from './support/util.js';

const root = resolve(__dirname, '..');
let tmp: string;

beforeAll(async () => {
  await initEngine();
  tmp = mkdtempSync(join(tmpdir(), 'gan-judges-'));
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** A tiny classifier (8 x 8 grey, one conv stage) initialised from `seed`: different seeds, different weights. */
function tinyNet(seed: number): ConvClassifier {
  const net = new ConvClassifier({
    inChannels: 1,
    size: 8,
    numClasses: 3,
    convs: [2],
    kernel: 3,
    padding: 1,
    downsample: 'stride',
    hidden: [4],
  });
  initClassifier_(net, new Generator(seed));
  return net;
}

const probe = Float32Array.from({ length: 2 * 64 }, (_, i) => Math.sin(i * 0.37));
const featuresOf = async (net: ConvClassifier) => Array.from(await classifierFeatures(net, probe, 2));

describe('shipped judges', () => {
  const recipe = { steps: 5, batch: 4, seed: 0, lr: 0.001 };

  it('checkJudgeMetadata compares recipes whatever their key order and names what differs', () => {
    const m = { recipe: JSON.stringify({ lr: 0.001, seed: 0, batch: 4, steps: 5 }), format_version: '3' };
    expect(() => checkJudgeMetadata(m, { recipe, format_version: '3' })).not.toThrow();
    expect(() => checkJudgeMetadata(m, { recipe: { ...recipe, steps: 6 } })).toThrow(/'recipe' is .*"steps":5.*expected .*"steps":6/);
    expect(() => checkJudgeMetadata(m, { format_version: '4' })).toThrow(/'format_version' is "3", expected "4"/);
    expect(() => checkJudgeMetadata({}, { recipe })).toThrow(/has no 'recipe'/);
  });

  it('reads the shipped file before the cache, passes over a mismatched recipe, then trains', async () => {
    const dir = join(tmp, 'order');
    const cache = join(dir, 'cache', 'tiny-judge.safetensors');
    const shipped = join(dir, 'judges', 'tiny-judge.safetensors');
    const good = { recipe: JSON.stringify(recipe), format_version: '1' };
    await saveModel(shipped, tinyNet(1), good);
    await saveModel(cache, tinyNet(2), good);
    const lines: string[] = [];
    let trained = 0;
    const opts = {
      path: cache,
      shipped,
      what: 'tiny judge',
      create: () => tinyNet(9),
      expect: { recipe, format_version: '1' },
      log: (l: string) => lines.push(l),
      async train(net: ConvClassifier) {
        trained++;
        initClassifier_(net, new Generator(3));
        return { ...good, note: 'trained' };
      },
    };
    const fromShipped = await loadOrTrainClassifier(opts);
    expect([fromShipped.source, fromShipped.cached, fromShipped.path, trained]).toEqual(['shipped', true, shipped, 0]);
    expect(await featuresOf(fromShipped.net)).toEqual(await featuresOf(tinyNet(1)));

    // A shipped file of another recipe (steps 6) under the same name: passed over, the cache is used.
    await saveModel(shipped, tinyNet(1), { recipe: JSON.stringify({ ...recipe, steps: 6 }), format_version: '1' });
    const fromCache = await loadOrTrainClassifier(opts);
    expect([fromCache.source, fromCache.path, trained]).toEqual(['cache', cache, 0]);
    expect(await featuresOf(fromCache.net)).toEqual(await featuresOf(tinyNet(2)));
    expect(lines.join('\n')).toMatch(/ignoring the shipped file .*'recipe' is .*"steps":6.*expected .*"steps":5/);

    // The cache of another format too: trained now, and the cache rewritten.
    await saveModel(cache, tinyNet(2), { recipe: JSON.stringify(recipe), format_version: '0' });
    const fresh = await loadOrTrainClassifier(opts);
    expect([fresh.source, fresh.cached, trained]).toEqual(['trained', false, 1]);
    expect(await featuresOf(fresh.net)).toEqual(await featuresOf(tinyNet(3)));
    const again = await loadOrTrainClassifier(opts);
    expect([again.source, again.metadata.note, trained]).toEqual(['cache', 'trained', 1]);
  });

  it('loadOrTrainLeNet takes a shipped LeNet of its recipe, checking recipe and format', async () => {
    const quick = { ...LENET_QUICK, steps: 1 };
    const shippedDir = join(tmp, 'lenet-judges');
    const emptyCache = join(tmp, 'lenet-cache');
    const net = createLeNet(7);
    const written = await saveLeNet(net, quick, { dir: shippedDir, testAccuracy: 0.25 });
    const shipped = await loadOrTrainLeNet(quick, { dir: emptyCache, shipped: written });
    expect([shipped.source, shipped.cached, shipped.path, shipped.testAccuracy]).toEqual(['shipped', true, written, 0.25]);
    const batch = { images: loadMnistForLeNet('test', 4).images, n: 4, c: 1, h: 32, w: 32 };
    expect(Array.from(await features(shipped.model, batch))).toEqual(Array.from(await features(net, batch)));
    expect(existsSync(emptyCache)).toBe(false);

    // (A shipped LeNet of another recipe falls through to training like any judge's: the tiny-fixture
    // test above; its training here would cost minutes on a software adapter.)
  });

  it("a fresh clone's gan eval reads the committed LeNet judge and trains nothing", async () => {
    expect(shippedJudgesDir()).toBe(join(root, 'zoo', 'judges'));
    const path = shippedJudgePath(leNetCachePath(LENET_FULL));
    expect(existsSync(path), `${path} is missing: copy the full LeNet into zoo/judges/ (docs/zoo.md, Judges)`).toBe(true);
    const lines: string[] = [];
    const l = await loadOrTrainLeNet(LENET_FULL, { dir: join(tmp, 'no-cache'), log: (s) => lines.push(s) });
    expect([l.source, l.cached, l.path]).toEqual(['shipped', true, path]);
    expect(lines).toEqual([]);
    expect(l.testAccuracy).toBeGreaterThan(0.98);
    expect(existsSync(join(tmp, 'no-cache'))).toBe(false);
    // Only judges live there: every file is a safetensors judge (no stray run files).
    expect(readdirSync(shippedJudgesDir()).filter((f) => !f.endsWith('.safetensors') && f !== 'README.md')).toEqual([]);
  });
});

describe("the training set's mean-image baseline", () => {
  /** Pairs with random 3 x 12 x 12 inputs and targets. */
  function pairsOf(n: number, seed: number): HeldOutPairs {
    const per = 3 * 12 * 12;
    return { inputs: seeded(n * per, seed), targets: seeded(n * per, seed + 100), n, inputShape: [3, 12, 12], targetShape: [3, 12, 12] };
  }

  it('is the float64 per-pixel mean of the training targets, scored like any prediction', async () => {
    const train = pairsOf(5, 1);
    const test = pairsOf(4, 2);
    const per = 3 * 12 * 12;
    const mean = meanTargetImage(train);
    const ref = new Float64Array(per);
    for (let i = 0; i < train.n; i++) for (let j = 0; j < per; j++) ref[j] += train.targets[i * per + j] / train.n;
    for (let j = 0; j < per; j++) expect(mean[j]).toBeCloseTo(ref[j], 6);

    const tiled = new Float64Array(test.n * per);
    for (let i = 0; i < test.n; i++) tiled.set(ref, i * per);
    const shape = { n: test.n, c: 3, h: 12, w: 12 };
    const window = ssimWindowFor(12, 12);
    const got = await scoreTranslation(test, constantPrediction(mean, test.targetShape), 3);
    expect(got.l1).toBeCloseTo(l1Cpu(tiled, test.targets, shape).mean, 4);
    expect(got.psnr).toBeCloseTo(psnrCpu(tiled, test.targets, shape).mean, 3);
    expect(got.ssim).toBeCloseTo(ssimCpu(tiled, test.targets, shape, { window }).mean, 4);
    // Not the identity baseline under another name.
    const identity = await scoreTranslation(test, null, 3);
    expect(Math.abs(identity.l1 - got.l1)).toBeGreaterThan(1e-3);
    expect(() => constantPrediction(mean.subarray(1), test.targetShape)).toThrow(/constantPrediction: 431 values/);
  });

  it("fits on the training split in the model's direction, and on nothing for hooks that skip the source", async () => {
    const recipe = getRecipe('pix2pix')!;
    const hooks = translationHooksOf(recipe) as TranslationEval;
    const config = configOf(recipe, { imageSize: 16, netG: 'unet_32', ngf: 4, ndf: 4 });
    const train = await trainingPairsOf(hooks, config, 'emoji-edges', 6);
    const packedTrain = await heldOutPackedPairs({ dataset: 'emoji-edges', size: 16, split: 'train', limit: 6 });
    const packedTest = await heldOutPackedPairs({ dataset: 'emoji-edges', size: 16, limit: 6 });
    expect(train).not.toBeNull();
    expect(train!.n).toBe(6);
    expect(packedTrain.names).not.toEqual(packedTest.names);
    // A -> B: the targets are the Noto images (B, the last 3 channels of the packed rows).
    const plane = 16 * 16;
    expect(Array.from(train!.targets.subarray(0, 3 * plane))).toEqual(Array.from(packedTrain.data.subarray(3 * plane, 6 * plane)));
    // The test split is the registered source again afterwards.
    const test = await hooks.heldOutPairs(config, { dataset: 'emoji-edges', limit: 6 });
    expect(Array.from(test.targets.subarray(0, 3 * plane))).toEqual(Array.from(packedTest.data.subarray(3 * plane, 6 * plane)));

    const own: TranslationEval = { heldOutPairs: () => pairsOf(2, 3), translate: (_t, x) => x };
    expect(await trainingPairsOf(own, config, 'emoji-edges')).toBeNull();
  });
});
