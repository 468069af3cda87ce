// The emoji feature net (metrics/emojinet.ts, cli/eval_emoji.ts): its input transform against
// CPU references, the Twemoji labels of its training set, the class prior's chance levels by hand,
// FD(real, real) << FD(real, noise) on its features after a short seeded training run, the
// conditional accuracy of a "generator" that returns the real test image of each caption (= the
// net's accuracy on those images), and the weights cache. Tiny data: a few hundred emoji, 25 steps.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine, tensor } from '../engine/index.js';
import { loadEmojiText } from '../data/emoji.js';
import { resizeBilinearCpu } from '../data/mnist.js';
import { classifierAccuracy, classifierFeatures, trainClassifier, type ConvClassifier } from '../metrics/classifier.js';
import { frechetDistanceOf } from '../metrics/frechet.js';
import { loadOrTrainClassifier } from '../metrics/classifier_cache.js';
import {
  EMOJI_NET_QUICK,
  classPrior,
  conditionalAccuracy,
  createEmojiNet,
  emojiNetFeatureSet,
  emojiNetPredict,
  imageRows,
  toEmojiNetInput,
} from '../metrics/emojinet.js';
import { emojiNetTrainingData } from '../cli/eval_emoji.js';

let tmp: string;
let net: ConvClassifier;
const recipe = { ...EMOJI_NET_QUICK, steps: 25, batch: 16 };

beforeAll(async () => {
  await initEngine();
  tmp = mkdtempSync(join(tmpdir(), 'gan-emoji-metrics-'));
  const data = emojiNetTrainingData({ twemoji: false }, 160);
  net = createEmojiNet(recipe);
  await trainClassifier(
    net,
    { images: data.images, labels: data.labels, n: data.n, c: 3, h: 32, w: 32 },
    { steps: recipe.steps, batch: recipe.batch, seed: 0, lr: recipe.lr },
  );
});

afterAll(() => {
  net?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('emoji net input', () => {
  it('keeps 32x32, area-averages 64x64 and resizes 8x8 bilinearly (CPU references)', async () => {
    const rnd = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed + i * 12.9898) * 0.9);
    const x64 = rnd(2 * 3 * 64 * 64, 1);
    const got64 = await toEmojiNetInput(tensor(x64, [2, 3, 64, 64])).data();
    const want64 = new Float32Array(2 * 3 * 32 * 32);
    for (let p = 0; p < 6; p++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          const s = (dy: number, dx: number) => x64[p * 4096 + (2 * y + dy) * 64 + 2 * x + dx];
          want64[p * 1024 + y * 32 + x] = (s(0, 0) + s(0, 1) + s(1, 0) + s(1, 1)) / 4;
        }
      }
    }
    for (let i = 0; i < want64.length; i++) expect(got64[i]).toBeCloseTo(want64[i], 5);
    const x8 = rnd(2 * 3 * 8 * 8, 2);
    const got8 = await toEmojiNetInput(tensor(x8, [2, 3, 8, 8])).data();
    const want8 = resizeBilinearCpu(x8, 2, 3, 8, 8, 32, 32);
    for (let i = 0; i < want8.length; i++) expect(got8[i]).toBeCloseTo(want8[i], 5);
    const t32 = tensor(x64.subarray(0, 3 * 32 * 32), [1, 3, 32, 32]);
    expect(toEmojiNetInput(t32)).toBe(t32);
  });

  it('labels the Twemoji drawings with the Noto category of the same name', () => {
    const both = emojiNetTrainingData({ twemoji: true }, 30);
    expect(both.twemoji).toBe(30);
    expect(both.n).toBe(both.noto + both.twemoji);
    const g = loadEmojiText({ split: 'train', set: 'google', size: 32, skinTones: false, limit: 30 });
    const t = loadEmojiText({ split: 'train', set: 'twitter', size: 32, skinTones: false, limit: 30 });
    const byCode = new Map(g.codes.map((c, i) => [c, g.categoryNames[g.category[i]]]));
    let shared = 0;
    t.codes.forEach((c, i) => {
      const name = byCode.get(c);
      if (name === undefined) return;
      shared++;
      expect(g.categoryNames[both.labels[both.noto + i]]).toBe(name);
    });
    expect(shared).toBeGreaterThan(20);
  });
});

describe('emoji net metrics', () => {
  it('class prior and its chance levels by hand', () => {
    const p = classPrior([0, 0, 1, 2, 2, 2, 0, 0], 4);
    expect(p.prior).toEqual([0.5, 0.125, 0.375, 0]);
    expect(p.majority).toBe(0.5);
    expect(p.priorMatched).toBeCloseTo(0.25 + 1 / 64 + 9 / 64, 12);
  });

  it('FD(real, real) is ~0 against FD(real, noise) on its features', async () => {
    const test = loadEmojiText({ split: 'test', set: 'google', size: 32, skinTones: false, limit: 60 });
    const train = loadEmojiText({ split: 'train', set: 'google', size: 32, skinTones: false, limit: 60 });
    const real = await emojiNetFeatureSet(net, { images: test.images, n: test.n, size: 32 });
    const other = await emojiNetFeatureSet(net, { images: train.images, n: train.n, size: 32 });
    const noise = Float32Array.from({ length: test.images.length }, (_, i) => Math.sin(i * 78.233) * 0.99);
    const fake = await emojiNetFeatureSet(net, { images: noise, n: test.n, size: 32 });
    expect(real.d).toBe(net.featureDim);
    const same = frechetDistanceOf(real, real);
    const realReal = frechetDistanceOf(real, other);
    const realNoise = frechetDistanceOf(real, fake);
    expect(realNoise).toBeGreaterThan(0);
    expect(Math.abs(same)).toBeLessThan(1e-6 * realNoise);
    expect(realReal).toBeLessThan(0.5 * realNoise);
  });

  it("a generator that returns the captioned real test images scores the net's test accuracy", async () => {
    const t32 = loadEmojiText({ split: 'test', set: 'google', size: 32, skinTones: false, limit: 50 });
    const acc = await classifierAccuracy(net, { images: t32.images, labels: t32.category, n: t32.n, c: 3, h: 32, w: 32 });
    const b32 = { images: t32.images, n: t32.n, size: 32 };
    const r = await conditionalAccuracy(net, (s, m) => imageRows(b32, s, m), t32.category, { batch: 16, withFeatures: true });
    expect(r.n).toBe(t32.n);
    expect(r.accuracy).toBe(acc);
    // The features it returns are the net's features of the same images.
    const f = await classifierFeatures(net, t32.images, t32.n);
    for (let i = 0; i < f.length; i++) expect(r.features!.data[i]).toBeCloseTo(f[i], 4);
    // At 64x64 (the loader's native size) the net reads the area average, which is what the loader makes at 32.
    const t64 = loadEmojiText({ split: 'test', set: 'google', size: 64, skinTones: false, limit: 50 });
    const p64 = await emojiNetPredict(net, { images: t64.images, n: t64.n, size: 64 });
    const p32 = await emojiNetPredict(net, b32);
    let same = 0;
    for (let i = 0; i < p32.length; i++) if (p32[i] === p64[i]) same++;
    expect(same).toBeGreaterThanOrEqual(p32.length - 1);
    // A caption-blind "generator" (every caption gets the first test image) scores that image's class share.
    const one = { images: t32.images.subarray(0, 3 * 32 * 32), n: 1, size: 32 };
    const blind = await conditionalAccuracy(
      net,
      (_s, m) =>
        tensor(
          new Float32Array(m * 3 * 32 * 32).map((_, j) => one.images[j % one.images.length]),
          [m, 3, 32, 32],
        ),
      t32.category,
      { batch: 16 },
    );
    const k = (await emojiNetPredict(net, one))[0];
    expect(blind.accuracy).toBeCloseTo(Array.from(t32.category).filter((c) => c === k).length / t32.n, 12);
  });

  it('caches the trained net and reads it back (same predictions)', async () => {
    const path = join(tmp, 'cache', 'emoji-net-test.safetensors');
    const data = emojiNetTrainingData({ twemoji: false }, 40);
    let trainedCalls = 0;
    const opts = {
      path,
      what: 'emoji net',
      create: () => createEmojiNet(recipe),
      async train(n: ConvClassifier) {
        trainedCalls++;
        await trainClassifier(
          n,
          { images: data.images, labels: data.labels, n: data.n, c: 3, h: 32, w: 32 },
          { steps: 3, batch: 8, seed: 0 },
        );
        return { note: 'test' };
      },
    };
    const first = await loadOrTrainClassifier(opts);
    const second = await loadOrTrainClassifier(opts);
    expect([first.cached, second.cached, trainedCalls]).toEqual([false, true, 1]);
    expect(second.metadata.note).toBe('test');
    const a = await classifierFeatures(first.net, data.images, 8);
    const b = await classifierFeatures(second.net, data.images, 8);
    expect(Array.from(b)).toEqual(Array.from(a));
    first.net.dispose();
    second.net.dispose();
  });
});
