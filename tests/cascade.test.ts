// The cascade and multi-player models: LAPGAN (nets/lapgan.ts), StackGAN and StackGAN++
// (nets/stackgan.ts, nets/stackganpp.ts, with nets/lib/text_encoder.ts) and Triple-GAN (nets/triplegan.ts).
// Structural checks against CPU float64 references on known batches, shape checks of the sampling
// chains, and a few training steps of tiny configurations (finite losses, nothing leaked); the
// trained results live in docs/cascade.md. Everything here is sized for the software adapter.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodePngNode } from '../data/png_node.js';
import { DATASETS } from '../cli/datasets.js';
import { getRecipe } from '../nets/registry.js';
import { initEngine, engine } from '../engine/device.js';
import { memory, tensor, tidy, type Tensor } from '../engine/tensor.js';
import { grad, noGrad } from '../engine/tape.js';
import { Generator, add, pyrUp, reconstructPyramid, softmaxCrossEntropy } from '../engine/ops/index.js';
import { Dropout } from '../engine/nn.js';
import { decodeSafetensors } from '../engine/io/safetensors.js';
import { loadMnist } from '../data/mnist.js';
import { loadEmojiText } from '../data/emoji.js';
import { LapganTrainer, lapganNoiseDim, lapganRecipe, trainingPyramid } from '../nets/lapgan.js';
import { MATCHING_AWARE_TERMS, StackganTrainer, matchingAwareLossD, stackganRecipe } from '../nets/stackgan.js';
import { StackganppTrainer, colorConsistency, colorMoments, stackganppRecipe } from '../nets/stackganpp.js';
import { caKl, reparameterize } from '../nets/lib/text_conditioning.js';
import { hashToken, hashedBagOfWords, mismatchIndices, type TextImageDataset } from '../data/text.js';
import {
  TripleClassifier,
  TripleganTrainer,
  classifierError,
  maxPool2,
  selectLabelled,
  trainSupervisedBaseline,
  tripleganRecipe,
} from '../nets/triplegan.js';
import { buildPrivateCli } from './support/cli_bundle.js';
import { readStats } from '../nets/lib/stats.js';
import { expectExactResume } from './support/resume.js';
import { GAN_ADAM as SETTINGS, TINY_STACKGAN, TINY_TEXT, configOf, maxAbsDiff, relError, seeded } from './support/util.js';
import type { GanTrainer, TrainSettings } from '../nets/registry.js';
// @ts-expect-error: a plain ES module script without type declarations
import * as zoo from '../scripts/zoo.mjs';

beforeAll(async () => {
  await initEngine();
});

const GOLDEN = join(__dirname, 'golden', 'nets');

/** Runs `steps` steps on a fixed batch with stats every step; returns every logged value. */
async function trainSteps(trainer: Pick<GanTrainer, 'step'>, real: Tensor, steps: number): Promise<Record<string, number>[]> {
  const out: Record<string, number>[] = [];
  for (let i = 0; i < steps; i++) {
    const st = trainer.step(real, true);
    if (st) out.push(await readStats(st));
  }
  return out;
}

const allFinite = (rows: Record<string, number>[]) => rows.every((r) => Object.values(r).every(Number.isFinite));

// ---- LAPGAN ----------------------------------------------------------------------------------------------

describe('LAPGAN', () => {
  const config = configOf(lapganRecipe, { imageSize: 16, levels: 2, nc: 1, nz: 8, nh: 16, ngf: 4, ndf: 4 });

  it('validates its config (levels and image size)', () => {
    expect(lapganRecipe.validate(config)).toEqual([]);
    expect(lapganRecipe.validate({ ...config, imageSize: 12, levels: 2 })[0]).toMatch(/--image-size/);
    expect(lapganRecipe.validate({ ...config, levels: 0 })[0]).toMatch(/--levels/);
  });

  it('training pyramid: bands + expanded coarse images rebuild every level exactly', async () => {
    const x = tensor(seeded(2 * 16 * 16, 3), [2, 1, 16, 16]);
    const { lows, ups, bands } = trainingPyramid(x, 2);
    expect(lows.map((t) => t.shape[2])).toEqual([16, 8, 4]);
    expect(bands.map((t) => t.shape[2])).toEqual([16, 8]);
    expect(ups[0].shape).toEqual([2, 1, 16, 16]);
    const rebuilt = reconstructPyramid([bands[0], bands[1], lows[2]]);
    expect(maxAbsDiff(await rebuilt.data(), await x.data())).toBeLessThan(1e-5);
    for (const t of [x, ...lows.slice(1), ...ups, ...bands, rebuilt]) t.dispose();
  });

  it('sampling runs the chain coarse to fine: each level = pyrUp(coarser) + its generator output', async () => {
    const t = new LapganTrainer(lapganRecipe.parse(config), SETTINGS, 1);
    const { netG } = t.nets;
    const code = t.noise(3, new Generator(7));
    expect(code.shape).toEqual([3, lapganNoiseDim(t.cfg)]);
    expect(lapganNoiseDim(t.cfg)).toBe(8 + 16 * 16 + 8 * 8);
    const levels = t.sampleLevels(code, { batchStats: false });
    expect(levels.map((l) => l.shape)).toEqual([
      [3, 1, 4, 4],
      [3, 1, 8, 8],
      [3, 1, 16, 16],
    ]);
    // Recompute each fine level from the coarser one with that level's generator (eval mode).
    netG.eval();
    const { planes } = netG.splitCode(code);
    for (let k = 1; k >= 0; k--) {
      const coarse = levels[1 - k];
      const fine = levels[2 - k];
      const s = fine.shape[2];
      const rebuilt = noGrad(() =>
        tidy(() => {
          const up = pyrUp(coarse, s, s);
          const band = netG.level(k).call(up, planes[k]);
          expect(band.shape).toEqual(fine.shape);
          return add(up, band);
        }),
      );
      expect(maxAbsDiff(await rebuilt.data(), await fine.data())).toBeLessThan(1e-4);
      rebuilt.dispose();
    }
    netG.train();
    const img = t.generate(code);
    expect(img.shape).toEqual([3, 1, 16, 16]);
    const v = await img.data();
    expect(v.every((x) => x >= -1 && x <= 1)).toBe(true);
    for (const l of [...levels, img, code]) l.dispose();
  });

  it('a few training steps on every level keep the losses finite and leak nothing', async () => {
    const t = new LapganTrainer(lapganRecipe.parse(config), SETTINGS, 2);
    const real = tensor(seeded(4 * 256, 5), [4, 1, 16, 16]).keep();
    await trainSteps(t, real, 1);
    await engine().sync();
    const before = memory();
    const rows = await trainSteps(t, real, 2);
    await engine().sync();
    const after = memory();
    expect(allFinite(rows)).toBe(true);
    expect(Object.keys(rows[0])).toEqual(expect.arrayContaining(['lossD', 'lossG', 'lossD_0', 'lossD_1', 'lossD_2', 'lossG_2', 'D_x']));
    expect(after.tensors).toBe(before.tensors);
    expect(after.liveBuffers).toBe(before.liveBuffers);
    real.dispose();
  });
});

// ---- StackGAN / StackGAN++ ---------------------------------------------------------------------------------

/** A tiny captioned image set: 6 images of 3 categories, distinct captions (one duplicate pair). */
function toyTextData(size: number): TextImageDataset {
  const tokens = [
    ['red', 'apple', 'food'],
    ['green', 'apple', 'food'],
    ['dog', 'face', 'animal'],
    ['cat', 'face', 'animal'],
    ['car', 'travel'],
    ['car', 'travel'],
  ];
  return { images: seeded(6 * 3 * size * size, 11), n: 6, c: 3, h: size, w: size, tokens, category: [0, 0, 1, 1, 2, 2] };
}

describe('StackGAN conditioning augmentation', () => {
  it('c = mu + exp(logvar / 2) eps and the KL (mean over elements) match the CPU on a known batch', async () => {
    const n = 3;
    const d = 5;
    const mu = seeded(n * d, 21);
    const lv = seeded(n * d, 22, -2, 1);
    const eps = seeded(n * d, 23, -2, 2);
    const [c, kl] = tidy(() => {
      const m = tensor(mu, [n, d]);
      const l = tensor(lv, [n, d]);
      return [reparameterize(m, l, tensor(eps, [n, d])), caKl(m, l)];
    });
    const cRef = Array.from(mu, (m, i) => m + Math.exp(lv[i] / 2) * eps[i]);
    let klRef = 0;
    for (let i = 0; i < n * d; i++) klRef += -0.5 * (1 + lv[i] - mu[i] ** 2 - Math.exp(lv[i]));
    klRef /= n * d;
    expect(maxAbsDiff(await c.data(), cRef)).toBeLessThan(1e-5);
    expect(Math.abs((await kl.item()) - klRef)).toBeLessThan(1e-5);
    c.dispose();
    kl.dispose();
  });
});

describe('StackGAN matching-aware discriminator', () => {
  it('pairs every caption with a different caption of the batch', () => {
    const keys = ['a', 'b', 'b', 'c', 'a'];
    const w = mismatchIndices(keys);
    expect(Array.from(w)).toEqual([1, 3, 3, 4, 1]);
    w.forEach((j, i) => {
      expect(j).not.toBe(i);
      expect(keys[j]).not.toBe(keys[i]);
    });
    expect(Array.from(mismatchIndices(['x', 'x', 'x']))).toEqual([1, 2, 0]); // nothing differs: next index
  });

  it('labels real+matching 1, real+mismatched 0, fake+matching 0 with the reference weights', async () => {
    expect(MATCHING_AWARE_TERMS.map((t) => [t.image, t.text, t.target, t.weight])).toEqual([
      ['real', 'matching', 1, 1],
      ['real', 'mismatched', 0, 0.5],
      ['fake', 'matching', 0, 0.5],
    ]);
    const r = seeded(4, 31, -3, 3);
    const w = seeded(4, 32, -3, 3);
    const f = seeded(4, 33, -3, 3);
    const loss = tidy(() => matchingAwareLossD(tensor(r, [4]), tensor(w, [4]), tensor(f, [4])));
    const bce = (x: number, t: number) => Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));
    const mean = (xs: Float32Array, t: number) => xs.reduce((s, x) => s + bce(x, t), 0) / xs.length;
    const ref = mean(r, 1) + 0.5 * (mean(w, 0) + mean(f, 0));
    expect(Math.abs((await loss.item()) - ref)).toBeLessThan(1e-5);
    loss.dispose();
  });
});

/** Tiny text conditioning (codes, caption embedding, bag-of-words buckets) for StackGAN and StackGAN++ below. */

describe('StackGAN stages', () => {
  const config = configOf(stackganRecipe, TINY_STACKGAN);

  it('hashes captions into a fixed-width bag of words', () => {
    const b = hashedBagOfWords(['red', 'apple', 'red'], 32);
    expect(b.reduce((s, v) => s + v, 0)).toBeCloseTo(2 / Math.sqrt(2), 6);
    expect(b[hashToken('apple', 32)]).toBeGreaterThan(0);
    expect(hashedBagOfWords([], 32).every((v) => v === 0)).toBe(true);
  });

  it('Stage-II outputs 4x the Stage-I size; a step of each phase is finite', async () => {
    expect(stackganRecipe.validate(config)).toEqual([]);
    expect(stackganRecipe.imageShape(config)).toEqual({ channels: 3, size: 32 });
    const t = new StackganTrainer(config, SETTINGS, 3);
    t.bindData(toyTextData(32));
    const code = t.noise(2, new Generator(4));
    const [s1, s2] = t.generateStages(code);
    expect(s1.shape).toEqual([2, 3, 8, 8]);
    expect(s2.shape).toEqual([2, 3, 32, 32]);
    const real = tensor(new Float32Array(4 * 3 * 32 * 32), [4, 3, 32, 32]).keep();
    const phases: string[] = [];
    const rows: Record<string, number>[] = [];
    for (let i = 0; i < 3; i++) {
      phases.push(t.phase);
      rows.push(...(await trainSteps(t, real, 1)));
    }
    expect(phases).toEqual(['text', 'stage1', 'stage2']);
    expect(allFinite(rows)).toBe(true);
    expect(Object.keys(rows[0])).toContain('lossText');
    expect(Object.keys(rows[2])).toEqual(expect.arrayContaining(['lossD', 'lossG', 'KL', 'D_wrong']));
    const g = t.generate(code);
    expect(g.shape).toEqual([2, 3, 32, 32]);
    for (const x of [s1, s2, code, real, g]) x.dispose();
  });

  it('refuses to train without captions', () => {
    const t = new StackganTrainer(config, SETTINGS, 3);
    const real = tensor(new Float32Array(2 * 3 * 32 * 32), [2, 3, 32, 32]);
    expect(() => t.step(real, false)).toThrow(/bindData/);
    real.dispose();
  });
});

describe('StackGAN++', () => {
  it('colour consistency (means and covariances of pixels) matches the CPU', async () => {
    const [n, c, h, w] = [2, 3, 4, 5];
    const a = seeded(n * c * h * w, 41);
    const b = seeded(n * c * h * w, 42);
    const { loss, cov } = tidy(() => {
      const ta = tensor(a, [n, c, h, w]);
      return { loss: colorConsistency(ta, tensor(b, [n, c, h, w]), 1, 5), cov: colorMoments(ta).cov };
    });
    const moments = (x: Float32Array) => {
      const P = h * w;
      const mu: number[] = [];
      const cv: number[] = [];
      for (let i = 0; i < n; i++) {
        const m = Array.from({ length: c }, (_, ch) => x.slice((i * c + ch) * P, (i * c + ch + 1) * P).reduce((s, v) => s + v, 0) / P);
        mu.push(...m);
        for (let p = 0; p < c; p++) {
          for (let q = 0; q < c; q++) {
            let s = 0;
            for (let k = 0; k < P; k++) s += (x[(i * c + p) * P + k] - m[p]) * (x[(i * c + q) * P + k] - m[q]);
            cv.push(s / P);
          }
        }
      }
      return { mu, cv };
    };
    const ma = moments(a);
    const mb = moments(b);
    const msd = (u: number[], v: number[]) => u.reduce((s, x, i) => s + (x - v[i]) ** 2, 0) / u.length;
    const ref = msd(ma.mu, mb.mu) + 5 * msd(ma.cv, mb.cv);
    expect(maxAbsDiff(await cov.data(), ma.cv)).toBeLessThan(1e-5);
    expect(Math.abs((await loss.item()) - ref)).toBeLessThan(1e-5);
    loss.dispose();
    cov.dispose();
  });

  it('trains its three branches jointly, unconditional and text-conditioned', async () => {
    const base = {
      ...TINY_TEXT,
      nc: 3,
      baseSize: 8,
      branches: 3,
      ngf: 8,
      ndf: 4,
      resBlocks: 1,
      imageWidth: 4,
      textSteps: 1,
    };
    const real = tensor(seeded(2 * 3 * 32 * 32, 51), [2, 3, 32, 32]).keep();
    for (const conditional of [false, true]) {
      const config = configOf(stackganppRecipe, { ...base, conditional });
      expect(stackganppRecipe.validate(config)).toEqual([]);
      const t = new StackganppTrainer(config, SETTINGS, 5);
      if (conditional) t.bindData(toyTextData(32));
      const code = t.noise(2, new Generator(1));
      const branches = t.generateBranches(code);
      expect(branches.map((b) => b.shape[2])).toEqual([8, 16, 32]);
      const rows = await trainSteps(t, real, conditional ? 2 : 1);
      expect(allFinite(rows)).toBe(true);
      const last = rows[rows.length - 1];
      expect(Object.keys(last)).toEqual(expect.arrayContaining(['lossD', 'lossG', 'lossD_2']));
      if (conditional) expect(Object.keys(last)).toContain('KL');
      // the colour term: unconditional runs only (StackGAN-v2's COLOR_LOSS is 0 in its text configs)
      if (conditional) expect(Object.keys(last)).not.toContain('color');
      else expect(Object.keys(last)).toContain('color');
      for (const b of [...branches, code]) b.dispose();
    }
    real.dispose();
  });
});

// ---- Triple-GAN ------------------------------------------------------------------------------------------------

describe('Triple-GAN', () => {
  let mnist: ReturnType<typeof loadMnist>;
  beforeAll(() => {
    mnist = loadMnist({ split: 'train', limit: 3000, size: 28 });
  });
  const config = configOf(tripleganRecipe, { nc: 1, ngh: 16, ndh: 32, cw: 4, warmupSteps: 2, rpStart: 3, labelledBatch: 20 });

  it('selects exactly 10 labelled examples per class, the same ones for the same seed', () => {
    const a = selectLabelled(mnist.labels, 10, 10, 1);
    const b = selectLabelled(mnist.labels, 10, 10, 1);
    const c = selectLabelled(mnist.labels, 10, 10, 2);
    expect(a.length).toBe(100);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    const counts = new Array(10).fill(0);
    for (const i of a) counts[mnist.labels[i]]++;
    expect(counts).toEqual(new Array(10).fill(10));
    expect(new Set(a).size).toBe(100);
    expect(() => selectLabelled([0, 0, 1], 2, 2, 1)).toThrow(/class 1/);
  });

  it('max pooling takes the 2x2 maximum', async () => {
    const x = seeded(2 * 5 * 5, 61);
    const y = noGrad(() => maxPool2(tensor(x, [1, 2, 5, 5])));
    expect(y.shape).toEqual([1, 2, 2, 2]);
    const ref: number[] = [];
    for (let c = 0; c < 2; c++)
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 2; j++) {
          ref.push(
            Math.max(
              x[c * 25 + 2 * i * 5 + 2 * j],
              x[c * 25 + 2 * i * 5 + 2 * j + 1],
              x[c * 25 + (2 * i + 1) * 5 + 2 * j],
              x[c * 25 + (2 * i + 1) * 5 + 2 * j + 1],
            ),
          );
        }
    expect(maxAbsDiff(await y.data(), ref)).toBe(0);
    y.dispose();
  });

  it('C matches PyTorch: eval and training logits, the loss, every gradient, the running statistics', async () => {
    // tests/golden/nets/triplegan_C_tiny.safetensors (scripts/golden/make_triplegan_goldens.py): the
    // authors' classifier at cw 2 on 16x16, random weights and running statistics, dropout off.
    const file = decodeSafetensors(readFileSync(join(GOLDEN, 'triplegan_C_tiny.safetensors')), 'triplegan_C_tiny.safetensors');
    const g = (k: string) => file.tensors[k].data as Float32Array;
    const part = (prefix: string) =>
      Object.fromEntries(
        Object.entries(file.tensors)
          .filter(([k]) => k.startsWith(prefix))
          .map(([k, v]) => [k.slice(prefix.length), v]),
      );
    const C = new TripleClassifier({ nc: 1, cw: 2, numClasses: 10 });
    C.loadStateDict(part('C.'));
    const x = tensor(g('x'), [4, 1, 16, 16]);
    const y = tensor(Int32Array.from(g('y')), [4], 'int32');
    C.eval();
    const le = noGrad(() => C.call(x));
    expect(relError(await le.data(), g('logits_eval'))).toBeLessThan(1e-5);
    C.train();
    for (const m of C.modules()) if (m instanceof Dropout) m.eval();
    const params = C.namedParameters();
    const [logits, loss, ...grads] = tidy(() => {
      const lt = C.call(x);
      const l = softmaxCrossEntropy(lt, y);
      return [
        lt,
        l,
        ...grad(
          l,
          params.map(([, p]) => p),
        ).map((t) => t!),
      ].map((t) => t.keep());
    });
    expect(relError(await logits.data(), g('logits_train'))).toBeLessThan(1e-5);
    expect(Math.abs((await loss.item()) - g('loss')[0])).toBeLessThan(1e-5);
    expect(params.length).toBe(17); // 5 convs, 5 BN (weight, bias), dense (weight, bias)
    for (let i = 0; i < params.length; i++) {
      const err = relError(await grads[i].data(), g(`grad.${params[i][0]}`));
      expect(err, `${params[i][0]}: relative error ${err.toExponential(2)}`).toBeLessThan(1e-4);
    }
    const after = part('after.');
    const state = C.stateDict();
    expect(Object.keys(after).length).toBe(10);
    for (const [k, want] of Object.entries(after))
      expect(relError(await state.get(k)!.data(), want.data as Float32Array), k).toBeLessThan(1e-5);
    for (const t of [x, y, le, logits, loss, ...grads]) t.dispose();
    C.dispose();
  });

  it("gan eval's hook: C's error on the test set the CLI gives, against a host count of eval-mode argmax misses", async () => {
    const mnist16 = loadMnist({ split: 'train', limit: 600, size: 16 });
    const cfg16 = configOf(tripleganRecipe, { nc: 1, imageSize: 16, nz: 4, ngh: 8, ndh: 16, cw: 2, labelledBatch: 8, warmupSteps: 5 });
    const trained = tripleganRecipe.create(cfg16, SETTINGS as TrainSettings, 3) as TripleganTrainer;
    const untrained = tripleganRecipe.create(cfg16, SETTINGS as TrainSettings, 3) as TripleganTrainer;
    trained.bindData(mnist16);
    const real = tensor(new Float32Array(4 * 256), [4, 1, 16, 16]).keep();
    for (let i = 0; i < 3; i++) trained.step(real, false);
    const n = 37;
    const test = { images: mnist16.images.subarray(0, n * 256), labels: mnist16.labels.subarray(0, n), n, h: 16, w: 16, c: 1 };
    const misses = async (t: TripleganTrainer) => {
      const C = t.nets.netC;
      C.eval();
      const logits = noGrad(() => C.call(tensor(test.images, [n, 1, 16, 16])));
      const v = await logits.data();
      logits.dispose();
      C.train();
      let wrong = 0;
      for (let i = 0; i < n; i++) {
        const row = Array.from(v.subarray(10 * i, 10 * i + 10));
        if (row.indexOf(Math.max(...row)) !== test.labels[i]) wrong++;
      }
      return wrong / n;
    };
    const ctx = { dataset: 'mnist', channels: 1, size: 16 };
    expect(await tripleganRecipe.evalExtras(trained, untrained, ctx)).toBeNull(); // no labelled test split given
    const got = (await tripleganRecipe.evalExtras(trained, untrained, { ...ctx, testSet: () => test }))!;
    const c = got.json.classifier as { testError: number; untrainedTestError: number; n: number };
    expect(c.n).toBe(n);
    expect(c.testError).toBeCloseTo(await misses(trained), 12);
    expect(c.untrainedTestError).toBeCloseTo(await misses(untrained), 12);
    expect(got.lines[0]).toMatch(
      new RegExp(
        `MNIST test error ${(100 * c.testError).toFixed(2)}% \\(untrained ${(100 * c.untrainedTestError).toFixed(2)}%\\) on ${n} test digits`,
      ),
    );
    expect(got.json.supervisedBaseline).toBeUndefined(); // no training split or trainer factory given
    real.dispose();
    for (const t of [trained, untrained]) for (const net of Object.values(t.nets)) net.dispose();
  });

  it("gan eval's supervised-only baseline: C alone on the run's labels for the run's steps, scored on the same test digits", async () => {
    const mnist16 = loadMnist({ split: 'train', limit: 300, size: 16 });
    const cfg16 = configOf(tripleganRecipe, {
      nc: 1,
      imageSize: 16,
      nz: 4,
      ngh: 8,
      ndh: 16,
      cw: 2,
      perClass: 2,
      labelledBatch: 8,
      warmupSteps: 1,
    });
    const create = (c: typeof cfg16) => tripleganRecipe.create(c, SETTINGS as TrainSettings, 3);
    const trained = create(cfg16) as TripleganTrainer;
    const untrained = create(cfg16) as TripleganTrainer;
    trained.bindData(mnist16);
    const real = tensor(seeded(4 * 256, 5), [4, 1, 16, 16]).keep();
    for (let i = 0; i < 4; i++) trained.step(real, false); // warm-up, then the game
    const steps = 4;
    // The twin, built by hand: the same networks and seed, supervisedOnly, the same labelled subset.
    const twin = new TripleganTrainer({ ...cfg16, supervisedOnly: true }, SETTINGS, 3);
    twin.bindData(mnist16);
    const unused = tensor(new Float32Array(256), [1, 1, 16, 16]).keep();
    for (let i = 0; i < steps; i++) twin.step(unused, false);
    const wantC = twin.nets.netC.stateDict();
    const b = await trainSupervisedBaseline(create, cfg16, mnist16, steps);
    expect(b.cfg.supervisedOnly).toBe(true);
    expect(b.stepsDone).toBe(steps);
    expect(Array.from(b.labelledSet!.labels)).toEqual(Array.from(twin.labelledSet!.labels));
    const gotC = b.nets.netC.stateDict();
    for (const [k, w] of wantC) expect(maxAbsDiff(await gotC.get(k)!.data(), await w.data()), k).toBe(0);
    // ...and not the run's C (the game moved it) nor the untrained one.
    const convW = [...wantC.keys()].find((k) => /weight/.test(k))!;
    expect(maxAbsDiff(await trained.nets.netC.stateDict().get(convW)!.data(), await wantC.get(convW)!.data())).toBeGreaterThan(0);
    expect(maxAbsDiff(await untrained.nets.netC.stateDict().get(convW)!.data(), await wantC.get(convW)!.data())).toBeGreaterThan(0);
    b.dispose();

    const n = 50;
    const test = {
      images: mnist16.images.subarray(100 * 256, (100 + n) * 256),
      labels: mnist16.labels.subarray(100, 100 + n),
      n,
      h: 16,
      w: 16,
      c: 1,
    };
    const logs: string[] = [];
    const got = (await tripleganRecipe.evalExtras!(trained, untrained, {
      dataset: 'mnist',
      channels: 1,
      size: 16,
      step: steps,
      testSet: () => test,
      trainSet: () => mnist16,
      createTrainer: (c) => create(c as typeof cfg16),
      log: (l) => logs.push(l),
    }))!;
    const sb = got.json.supervisedBaseline as { testError: number; steps: number; labels: number; n: number };
    expect(sb.steps).toBe(steps);
    expect(sb.labels).toBe(20);
    expect(sb.n).toBe(n);
    expect(sb.testError).toBeCloseTo(await classifierError(twin.nets.netC, test.images, test.labels, n, twin.cfg), 12);
    expect(got.lines[1]).toMatch(
      new RegExp(`supervised-only baseline .*20 labels, ${steps} steps\\): test error ${(100 * sb.testError).toFixed(2)}%`),
    );
    expect(logs.some((l) => l.includes(`${steps}/${steps}`))).toBe(true);
    // The zoo recipe's target reads both figures where gan eval's report puts them (eval.json merges the hook's json).
    const { target } = JSON.parse(readFileSync(new URL('../zoo/triplegan/recipe.json', import.meta.url), 'utf8'));
    const report = { n: 1000, ...got.json };
    const judged = zoo.judgeTarget(target, report);
    const c = got.json.classifier as { testError: number };
    expect(judged.met).toBe(c.testError <= 0.05 && c.testError < sb.testError);
    expect(judged.text).toContain(`C's test error ${c.testError.toFixed(4)}`);
    expect(judged.text).toContain(`${sb.testError.toFixed(4)} (supervisedBaseline)`);
    const good = { ...report, classifier: { ...c, testError: 0.04 }, supervisedBaseline: { ...sb, testError: 0.2 } };
    expect(zoo.judgeTarget(target, good).met).toBe(true);
    expect(zoo.judgeTarget(target, { ...good, supervisedBaseline: { ...sb, testError: 0.03 } }).met).toBe(false);
    for (const t of [real, unused]) t.dispose();
    for (const t of [trained, untrained, twin]) t.dispose();
  });

  it("C's accuracy on the labelled set rises well above chance after a short supervised warm-up", async () => {
    // The classifier averages BN-ReLU maps globally before its dense layer, so it needs tens of
    // steps to separate 100 digits, and eval mode needs the running statistics to forget their
    // start (variance 1, while N(0, 0.02) convs give ~1e-2): PyTorch, given the same network,
    // init, Adam and batches, also stays at 0.9 error after 25 steps of cw 4 on 28x28 (the
    // reference pretrains C for 30 epochs). 60 steps of cw 8 on 16x16: 0.15-0.39 in PyTorch over 6
    // seeds.
    const mnist16 = loadMnist({ split: 'train', limit: 3000, size: 16 });
    const cfg16 = { ...config, imageSize: 16, cw: 8, labelledBatch: 32, supervisedOnly: true };
    const t = new TripleganTrainer(cfg16, { ...SETTINGS, lr: 3e-3 }, 4);
    t.bindData(mnist16);
    const set = t.labelledSet!;
    const before = await classifierError(t.nets.netC, set.images, set.labels, set.size, t.cfg);
    const real = tensor(new Float32Array(8 * 256), [8, 1, 16, 16]).keep();
    const first = await trainSteps(t, real, 1);
    for (let i = 1; i < 60; i++) t.step(real, false);
    const last = await trainSteps(t, real, 1);
    const after = await classifierError(t.nets.netC, set.images, set.labels, set.size, t.cfg);
    expect(t.stepsDone).toBe(61);
    expect(before).toBeGreaterThan(0.6);
    expect(last[0].lossCE).toBeLessThan(first[0].lossCE - 0.5);
    expect(after).toBeLessThan(0.6); // chance is 0.9
    real.dispose();
  }, 300_000);
});

// ---- exact resume through the CLI's run checkpoint (tests/support/resume.ts) ------------------------------

describe('exact resume from a run checkpoint (the mechanism of gan train --resume)', () => {
  it('Triple-GAN: across the end of the warm-up and the start of R_P', async () => {
    const n = 40;
    const data = { data: seeded(n * 256, 71), n, sampleShape: [1, 16, 16], labels: Int32Array.from({ length: n }, (_, i) => i % 10) };
    const config = configOf(tripleganRecipe, {
      nc: 1,
      imageSize: 16,
      nz: 4,
      ngh: 8,
      ndh: 16,
      cw: 2,
      perClass: 2,
      labelledBatch: 4,
      warmupSteps: 1,
      rpStart: 3,
    });
    const { resumed, rows } = await expectExactResume(tripleganRecipe, config, data, 4, 4);
    expect((resumed as TripleganTrainer).stepsDone).toBe(4);
    // Warm-up (C alone), the game, then R_P; every loss finite.
    expect(Object.keys(rows[0])).toEqual(['lossC', 'lossCE', 'accL']);
    expect(Object.keys(rows[1])).toEqual(expect.arrayContaining(['lossD', 'lossG', 'lossC', 'lossCadv', 'D_x', 'D_c', 'D_G_z']));
    expect(Object.keys(rows[2])).not.toContain('lossRP');
    expect(Object.keys(rows[3])).toContain('lossRP');
    const g = resumed.generate(resumed.noise(10, new Generator(2)));
    expect(g.shape).toEqual([10, 1, 16, 16]);
    g.dispose();
  });

  it('StackGAN: text pretraining | Stage-I || Stage-II, the schedule continues from the optimisers', async () => {
    const t = toyTextData(32);
    const data = { data: t.images, n: t.n, sampleShape: [3, 32, 32], labels: t.category, tokens: t.tokens.map((x) => [...x]) };
    const config = configOf(stackganRecipe, TINY_STACKGAN);
    const { resumed } = await expectExactResume(stackganRecipe, config, data, 4, 4);
    expect((resumed as StackganTrainer).phase).toBe('stage2');
  });
});

// ---- the CLI ----------------------------------------------------------------------------------------------

describe('gan train with the cascade models', () => {
  const root = resolve(__dirname, '..');
  // A bundle of our own (same options as scripts/build.mjs's Node bundles), so no other suite's
  // rebuild of dist/gan.mjs can swap the file under a spawned run.
  let bin = '';
  let tmp: string;
  beforeAll(async () => {
    bin = await buildPrivateCli('cascade');
    tmp = mkdtempSync(join(tmpdir(), 'gan-cascade-cli-'));
  });
  afterAll(() => {
    if (bin) rmSync(bin, { force: true });
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  const gan = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000, env: { ...process.env, ...env } });
  const metricsOf = (dir: string) =>
    readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);

  it('registers lapgan, stackgan, stackganpp, triplegan; emoji-text carries captions and categories', async () => {
    for (const name of ['lapgan', 'stackgan', 'stackganpp', 'triplegan']) {
      const r = getRecipe(name)!;
      expect(r.name).toBe(name);
      expect(r.train.dataset in DATASETS, `${name}: default dataset ${r.train.dataset}`).toBe(true);
    }
    const t = await DATASETS['emoji-text'].load({ size: 16, limit: 8 });
    expect(t.sampleShape).toEqual([3, 16, 16]);
    expect(t.tokens!.length).toBe(t.n);
    expect(t.labels!.length).toBe(t.n);
    expect(t.tokens![0].length).toBeGreaterThan(1);
    // What gan train binds from a dataset without the side data: an error naming the dataset to use.
    const plain = { images: new Float32Array(4 * 3 * 32 * 32), n: 4, c: 3, h: 32, w: 32 };
    const stack = getRecipe('stackgan')!;
    const sc = configOf(stack, TINY_STACKGAN);
    expect(() => stack.create(sc, SETTINGS as TrainSettings, 1).bindData!(plain)).toThrow(/no captions.*--dataset emoji-text/);
    const tg = getRecipe('triplegan')!;
    expect(() =>
      tg.create(configOf(tg, { cw: 2, ngh: 8, ndh: 16 }), SETTINGS as TrainSettings, 1).bindData!({ ...plain, c: 1, h: 28, w: 28 }),
    ).toThrow(/no class labels.*--dataset mnist/);
    // The unconditional StackGAN++ trains on the loop's images and ignores what it is given.
    const pp = getRecipe('stackganpp')!;
    expect(() => pp.create(configOf(pp, { baseSize: 8, ngf: 4, ndf: 4 }), SETTINGS as TrainSettings, 1).bindData!(plain)).not.toThrow();
  });

  it('stackgan on emoji-text: every phase from the CLI, sample grids, metrics, checkpoint', () => {
    const tiny = [
      '--stage1-size',
      '8',
      '--stage2-down',
      '1',
      '--nz',
      '8',
      '--c-dim',
      '4',
      '--embed-dim',
      '8',
      '--buckets',
      '64',
      '--text-hidden',
      '8',
      '--nd',
      '4',
      '--ngf',
      '2',
      '--ndf',
      '4',
      '--ngf2',
      '4',
      '--ndf2',
      '4',
      '--res-blocks',
      '1',
      '--image-width',
      '4',
      '--text-steps',
      '1',
      '--stage1-steps',
      '1',
      '--batch',
      '4',
      '--limit',
      '16',
      '--log-every',
      '1',
      '--sample-every',
      '0',
    ];
    const dir = join(tmp, 'stackgan');
    const r = gan(['train', 'stackgan', ...tiny, '--steps', '3', '--out', dir]);
    expect(r.status, r.stderr).toBe(0);
    for (const f of ['checkpoint.safetensors', 'final.png', 'run.json', 'samples/step_00000.png', 'samples/step_00003.png'])
      expect(existsSync(join(dir, f)), f).toBe(true);
    expect(decodePngNode(readFileSync(join(dir, 'final.png'))).width).toBe(8 * 32 + 9 * 2); // 8 columns of 32 px, 2 px padding
    const m = metricsOf(dir);
    expect(m.map((l) => l.step)).toEqual([1, 2, 3]);
    expect(Object.keys(m[0])).toContain('lossText');
    expect(Object.keys(m[2])).toEqual(expect.arrayContaining(['lossD', 'lossG', 'KL', 'D_wrong']));

    // gan sample: Stage-II (the run reached it: the optimisers' step counts are restored) from the
    // first two test-split captions, 8 noise draws each.
    const s = gan(['sample', join(dir, 'checkpoint.safetensors'), '--n', '16', '--out', join(dir, 'captions.png')]);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/16 samples \(Stage-II\)/);
    const names = loadEmojiText({ split: 'test', set: 'google', size: 32, limit: 2, skinTones: false }).names;
    expect(s.stdout).toContain(`row 1: ${names[0]}: `);
    expect(s.stdout).toContain(`row 2: ${names[1]}: `);
    const png = decodePngNode(readFileSync(join(dir, 'captions.png')));
    expect([png.width, png.height]).toEqual([8 * 34 + 2, 2 * 34 + 2]);
  });

  it('triplegan on MNIST: the labels reach the trainer, warm-up then the game', () => {
    const dir = join(tmp, 'triplegan');
    const r = gan([
      'train',
      'triplegan',
      '--steps',
      '2',
      '--batch',
      '4',
      '--limit',
      '200',
      '--image-size',
      '16',
      '--cw',
      '2',
      '--ngh',
      '8',
      '--ndh',
      '16',
      '--nz',
      '4',
      '--labelled-batch',
      '4',
      '--per-class',
      '2',
      '--warmup-steps',
      '1',
      '--log-every',
      '1',
      '--sample-every',
      '0',
      '--out',
      dir,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const m = metricsOf(dir);
    expect(Object.keys(m[0])).toEqual(expect.arrayContaining(['lossC', 'accL']));
    expect(Object.keys(m[1])).toEqual(expect.arrayContaining(['lossD', 'lossG', 'lossCadv', 'D_c']));

    // gan eval trains the supervised-only baseline once and keeps it: a second eval reads it back
    // (same test error, nothing trained), and a run with other settings does not.
    const cache = join(tmp, 'metrics-cache');
    const evalOnce = (ckpt: string, name: string) => {
      const out = join(tmp, `${name}.eval.json`);
      const e = gan(['eval', '--ckpt', ckpt, '--n', '64', '--out', out], { GAN_METRICS_CACHE: cache });
      expect(e.status, e.stderr).toBe(0);
      return { json: JSON.parse(readFileSync(out, 'utf8')), stdout: e.stdout };
    };
    const first = evalOnce(join(dir, 'checkpoint.safetensors'), 'first');
    expect(first.json.supervisedBaseline.source).toBe('trained');
    expect(first.stdout).toMatch(/supervised-only baseline: step 2\/2/);
    const files = readdirSync(cache).filter((f) => f.startsWith('triplegan-baseline-'));
    expect(files).toHaveLength(1);
    const second = evalOnce(join(dir, 'checkpoint.safetensors'), 'second');
    expect(second.json.supervisedBaseline.source).toBe('cache');
    expect(second.stdout).not.toMatch(/supervised-only baseline: step/);
    expect(second.json.supervisedBaseline.testError).toBe(first.json.supervisedBaseline.testError);
    expect(second.json.classifier.testError).toBe(first.json.classifier.testError);
    // The file's metadata holds what the weights depend on (a stale key is passed over: judges.test.ts).
    const bytes = readFileSync(join(cache, files[0]));
    const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString('utf8'));
    const key = JSON.parse(header.__metadata__.key);
    expect([key.model, key.steps, key.config.supervisedOnly, key.limit, key.settings.batch]).toEqual(['triplegan', 2, true, 200, 4]);
  });
});
