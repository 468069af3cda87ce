// Metrics (metrics/): the Frechet distance against closed forms for Gaussians, KID against a
// direct O(n^2) evaluation of the unbiased MMD^2, improved precision/recall against brute force,
// PSNR/SSIM on the GPU against their float64 CPU references and closed forms, and the LeNet feature
// extractor: a short seeded training run on MNIST, its feature shapes, the weights cache, and
// FD(real, real) << FD(real, noise) on its features. Data are tiny (the software adapter is slow).

import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tensor } from '../engine/index.js';
import {
  featureSet,
  featureStats,
  frechetDistance,
  frechetDistanceOf,
  frechetTerms,
  symmetricEigen,
  sqrtmPsd,
  kernelInceptionDistance,
  kidFromDots,
  pairwiseDotsCpu,
  pairwiseDotsGpu,
  polyKernel,
  seededRandom,
  sampleWithoutReplacement,
  precisionRecall,
  precisionRecallFromDots,
  psnr,
  psnrCpu,
  ssim,
  ssimCpu,
  l1Cpu,
  l1PerImage,
  gaussianWindow,
  type FeatureSet,
} from '../metrics/index.js';
import {
  LENET_FEATURES,
  LENET_QUICK,
  createLeNet,
  evaluate,
  features,
  featureMetrics,
  leNetCachePath,
  leNetFeatureSet,
  loadMnistForLeNet,
  loadOrTrainLeNet,
  predictDigits,
  saveLeNet,
  toLeNetInput,
} from '../metrics/lenet.js';
import { ConvClassifier, classifierAccuracy, initClassifier_, trainClassifier } from '../metrics/classifier.js';
import { Generator } from '../engine/ops/random.js';
import { tempDir } from './support/util.js';

const tmp = tempDir('gan-metrics-');

beforeAll(async () => {
  await initEngine();
});

/** Standard normal samples from a seeded PRNG (Box-Muller). */
function gaussian(n: number, seed: number): Float64Array {
  const rand = seededRandom(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rand()));
    const t = 2 * Math.PI * rand();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

/** n samples of N(mean, diag(std^2)) in d dimensions. */
function gaussianSet(n: number, d: number, seed: number, mean = 0, std = 1): FeatureSet {
  const z = gaussian(n * d, seed);
  return featureSet(
    z.map((v) => mean + std * v),
    d,
  );
}

const eye = (d: number, scale = 1) => Float64Array.from({ length: d * d }, (_, i) => (i % (d + 1) === 0 ? scale : 0));

describe('Frechet distance', () => {
  it('symmetricEigen decomposes a symmetric matrix (A V = V diag(values))', () => {
    const d = 9;
    const r = gaussian(d * d, 3);
    const a = Float64Array.from({ length: d * d }, (_, k) => r[k] + r[(k % d) * d + Math.floor(k / d)]);
    const { values, vectors } = symmetricEigen(a, d);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let av = 0;
        for (let k = 0; k < d; k++) av += a[i * d + k] * vectors[k * d + j];
        expect(av).toBeCloseTo(values[j] * vectors[i * d + j], 10);
      }
    }
    const s = sqrtmPsd(eye(3, 4), 3);
    expect(Array.from(s)).toEqual(Array.from(eye(3, 2)).map((v) => expect.closeTo(v, 12)));
  });

  it('matches the closed form for diagonal covariances: |dmu|^2 + sum (sqrt a - sqrt b)^2', () => {
    const d = 6;
    const a = [0.5, 1, 2, 3, 0.1, 4];
    const b = [1, 1, 0.5, 5, 0.2, 0];
    const mu1 = Float64Array.from({ length: d }, (_, i) => i * 0.3);
    const mu2 = Float64Array.from({ length: d }, (_, i) => 1 - i * 0.1);
    const diag = (v: number[]) => Float64Array.from({ length: d * d }, (_, k) => (k % (d + 1) === 0 ? v[k / (d + 1)] : 0));
    let want = 0;
    for (let i = 0; i < d; i++) want += (mu1[i] - mu2[i]) ** 2 + (Math.sqrt(a[i]) - Math.sqrt(b[i])) ** 2;
    const got = frechetTerms({ mu: mu1, sigma: diag(a), d }, { mu: mu2, sigma: diag(b), d });
    expect(got.fd).toBeCloseTo(want, 10);
    expect(got.meanTerm + got.covTerm).toBeCloseTo(want, 10);
  });

  it('matches the closed form for non-commuting 2x2 covariances: tr sqrt M = sqrt(tr M + 2 sqrt det M)', () => {
    const s1 = Float64Array.from([2, 0.8, 0.8, 1]);
    const s2 = Float64Array.from([1, -0.5, -0.5, 3]);
    const det = (m: Float64Array) => m[0] * m[3] - m[1] * m[2];
    const trS1S2 = s1[0] * s2[0] + s1[1] * s2[2] + s1[2] * s2[1] + s1[3] * s2[3];
    const trRoot = Math.sqrt(trS1S2 + 2 * Math.sqrt(det(s1) * det(s2)));
    const want = 1 ** 2 + 2 ** 2 + (s1[0] + s1[3]) + (s2[0] + s2[3]) - 2 * trRoot;
    const got = frechetDistance({ mu: Float64Array.from([0, 0]), sigma: s1, d: 2 }, { mu: Float64Array.from([1, -2]), sigma: s2, d: 2 });
    expect(got).toBeCloseTo(want, 10);
    // Symmetric in its arguments.
    expect(
      frechetDistance({ mu: Float64Array.from([1, -2]), sigma: s2, d: 2 }, { mu: Float64Array.from([0, 0]), sigma: s1, d: 2 }),
    ).toBeCloseTo(want, 10);
  });

  it('is ~0 for identical sets and grows with a shift; stats are numpy.cov-style', () => {
    const x = gaussianSet(400, 12, 1);
    expect(frechetDistanceOf(x, x)).toBeLessThan(1e-8);
    const st = featureStats(featureSet(Float64Array.from([1, 2, 3, 6]), 2));
    expect(Array.from(st.mu)).toEqual([2, 4]);
    expect(Array.from(st.sigma)).toEqual([2, 4, 4, 8]);
    const same = frechetDistanceOf(x, gaussianSet(400, 12, 2));
    const shifted = frechetDistanceOf(x, gaussianSet(400, 12, 2, 1));
    expect(same).toBeLessThan(1);
    expect(shifted).toBeGreaterThan(11); // |dmu|^2 = 12
    expect(shifted).toBeLessThan(13.5);
  });

  it('handles singular covariances (fewer samples than dimensions)', () => {
    const x = gaussianSet(5, 20, 4);
    const y = gaussianSet(5, 20, 5);
    const fd = frechetDistanceOf(x, y);
    expect(Number.isFinite(fd)).toBe(true);
    expect(frechetDistanceOf(x, x)).toBeLessThan(1e-6);
  });
});

/** The unbiased MMD^2 with the cubic kernel, evaluated directly from the features. */
function mmdDirect(x: FeatureSet, y: FeatureSet, ix: ArrayLike<number>, iy: ArrayLike<number>): number {
  const d = x.d;
  const k = (a: FeatureSet, i: number, b: FeatureSet, j: number) => {
    let s = 0;
    for (let t = 0; t < d; t++) s += a.data[i * d + t] * b.data[j * d + t];
    return (s / d + 1) ** 3;
  };
  const m = ix.length;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let a = 0; a < m; a++) {
    for (let b = 0; b < m; b++) {
      if (a !== b) {
        sxx += k(x, ix[a], x, ix[b]);
        syy += k(y, iy[a], y, iy[b]);
      }
      sxy += k(x, ix[a], y, iy[b]);
    }
  }
  return (sxx + syy) / (m * (m - 1)) - (2 * sxy) / (m * m);
}

describe('KID', () => {
  const x = gaussianSet(40, 7, 11);
  const y = gaussianSet(30, 7, 12, 0.3, 1.2);

  it('equals a direct O(n^2) unbiased MMD^2 on every subset', () => {
    const opts = { subsets: 5, subsetSize: 17, seed: 9 };
    const got = kernelInceptionDistance(x, y, opts);
    const rand = seededRandom(9);
    const want = Array.from({ length: 5 }, () => {
      const ix = sampleWithoutReplacement(x.n, 17, rand);
      const iy = sampleWithoutReplacement(y.n, 17, rand);
      return mmdDirect(x, y, ix, iy);
    });
    got.values.forEach((v, i) => expect(v).toBeCloseTo(want[i], 10));
    const mean = want.reduce((a, b) => a + b) / 5;
    expect(got.mean).toBeCloseTo(mean, 10);
    expect(got.std).toBeCloseTo(Math.sqrt(want.reduce((a, b) => a + (b - mean) ** 2, 0) / 5), 10);
    // One subset of all of the smaller set; the subset size is capped there.
    const all = kernelInceptionDistance(x, y, { subsets: 1, subsetSize: 1000 });
    expect(all.subsetSize).toBe(30);
    expect(polyKernel(7, 7)).toBe(8);
  });

  it('is ~0 for samples of one distribution and positive for different ones', () => {
    const a = gaussianSet(200, 5, 21);
    const b = gaussianSet(200, 5, 22);
    const c = gaussianSet(200, 5, 23, 0.5);
    const same = kernelInceptionDistance(a, b, { subsets: 20, subsetSize: 100 });
    const diff = kernelInceptionDistance(a, c, { subsets: 20, subsetSize: 100 });
    expect(Math.abs(same.mean)).toBeLessThan(3 * same.std + 0.01);
    expect(diff.mean).toBeGreaterThan(10 * Math.abs(same.mean));
    expect(diff.mean).toBeGreaterThan(3 * diff.std);
  });

  it('GPU dot products agree with the CPU ones', async () => {
    const cpu = pairwiseDotsCpu(x, y);
    const gpu = await pairwiseDotsGpu(x, y);
    for (const k of ['xx', 'yy', 'xy'] as const) {
      expect([gpu[k].n, gpu[k].m]).toEqual([cpu[k].n, cpu[k].m]);
      cpu[k].data.forEach((v, i) => expect(gpu[k].data[i]).toBeCloseTo(v, 4));
    }
    const a = kidFromDots(cpu, { subsets: 3, subsetSize: 20 });
    const b = kidFromDots(gpu, { subsets: 3, subsetSize: 20 });
    expect(b.mean).toBeCloseTo(a.mean, 4);
  });
});

describe('precision / recall (k-NN manifolds)', () => {
  /** Brute force from the definitions. */
  function bruteForce(real: FeatureSet, fake: FeatureSet, k: number): { precision: number; recall: number } {
    const dist = (a: FeatureSet, i: number, b: FeatureSet, j: number) => {
      let s = 0;
      for (let t = 0; t < a.d; t++) s += (a.data[i * a.d + t] - b.data[j * b.d + t]) ** 2;
      return Math.sqrt(s);
    };
    const radii = (s: FeatureSet) =>
      Array.from(
        { length: s.n },
        (_, i) => Array.from({ length: s.n }, (_, j) => (j === i ? Infinity : dist(s, i, s, j))).sort((p, q) => p - q)[k - 1],
      );
    const inside = (q: FeatureSet, m: FeatureSet, r: number[]) => {
      let c = 0;
      for (let i = 0; i < q.n; i++) if (r.some((rad, j) => dist(q, i, m, j) <= rad)) c++;
      return c / q.n;
    };
    return { precision: inside(fake, real, radii(real)), recall: inside(real, fake, radii(fake)) };
  }

  it('matches a brute-force evaluation', () => {
    const real = gaussianSet(50, 4, 31);
    const fake = gaussianSet(40, 4, 32, 0.7, 0.6);
    for (const k of [1, 3, 5]) {
      const got = precisionRecall(real, fake, { k });
      const want = bruteForce(real, fake, k);
      expect(got.precision).toBeCloseTo(want.precision, 12);
      expect(got.recall).toBeCloseTo(want.recall, 12);
    }
  });

  it('is 1/1 for identical sets, 0/0 for disjoint ones, and sees a dropped mode in recall only', async () => {
    const real = gaussianSet(60, 3, 41);
    expect(precisionRecall(real, real)).toMatchObject({ precision: 1, recall: 1, k: 3 });
    const far = gaussianSet(60, 3, 42, 100);
    expect(precisionRecall(real, far)).toMatchObject({ precision: 0, recall: 0 });
    // Real: two clusters (at -10 and +10). Fake: only the first one.
    const two = featureSet(
      Float64Array.from(gaussianSet(80, 3, 43).data, (v, i) => v + (Math.floor(i / 3) % 2 ? 10 : -10)),
      3,
    );
    const one = gaussianSet(80, 3, 44, -10);
    const pr = precisionRecallFromDots(await pairwiseDotsGpu(two, one));
    expect(pr.precision).toBeGreaterThan(0.75);
    expect(pr.recall).toBeGreaterThan(0.35);
    expect(pr.recall).toBeLessThanOrEqual(0.5);
  });
});

describe('image metrics: PSNR, SSIM, L1', () => {
  /** Smooth patterns plus a little noise in [-1, 1], NCHW. */
  function images(n: number, c: number, h: number, w: number, seed: number): Float32Array {
    const z = gaussian(n * c * h * w, seed);
    return Float32Array.from(z, (v, k) => {
      const x = k % w;
      const y = Math.floor(k / w) % h;
      const p = Math.floor(k / (h * w));
      return Math.max(-1, Math.min(1, 0.6 * Math.sin(0.4 * x + p) * Math.cos(0.3 * y - p) + 0.15 * v));
    });
  }

  it('PSNR of a constant offset is 10 log10(L^2 / delta^2), on the GPU and CPU', async () => {
    const s = { n: 2, c: 3, h: 5, w: 7 };
    const a = images(s.n, s.c, s.h, s.w, 1).map((v) => v * 0.8);
    const b = a.map((v) => v + 0.1);
    // Range [-1, 1] (L = 2): the offset is 0.05 of the range.
    const want = 10 * Math.log10(2 ** 2 / 0.1 ** 2);
    const cpu = psnrCpu(a, b, s);
    const gpu = await psnr(tensor(a, [2, 3, 5, 7]), tensor(b, [2, 3, 5, 7]));
    for (const v of [...cpu.perImage, ...gpu.perImage]) expect(v).toBeCloseTo(want, 3);
    expect(psnrCpu(a, b, s, { range: [0, 1] }).mean).toBeCloseTo(20, 3);
    expect(psnrCpu(a, a, s).mean).toBe(Infinity);
    expect(l1Cpu(a, b, s).mean).toBeCloseTo(0.1, 6);
    expect((await l1PerImage(tensor(a, [2, 3, 5, 7]), tensor(b, [2, 3, 5, 7]))).mean).toBeCloseTo(0.1, 6);
  });

  it('SSIM(x, x) = 1 and constant images follow the luminance closed form', async () => {
    const s = { n: 2, c: 2, h: 12, w: 13 };
    const a = images(s.n, s.c, s.h, s.w, 2);
    const ta = tensor(a, [2, 2, 12, 13]);
    for (const v of (await ssim(ta, ta)).perImage) expect(v).toBeCloseTo(1, 5);
    for (const v of ssimCpu(a, a, s).perImage) expect(v).toBeCloseTo(1, 12);
    // Constant images: sigma = 0, SSIM = (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1) with mu in [0, 1].
    const cs = { n: 1, c: 1, h: 11, w: 11 };
    const x = new Float32Array(121).fill(0.25); // 0.625 in [0, 1]
    const y = new Float32Array(121).fill(-0.5); // 0.25 in [0, 1]
    const c1 = 0.01 ** 2;
    const want = (2 * 0.625 * 0.25 + c1) / (0.625 ** 2 + 0.25 ** 2 + c1);
    expect(ssimCpu(x, y, cs).mean).toBeCloseTo(want, 12);
    // float32 on the GPU: the local variances E[x^2] - mu^2 are ~1e-7 instead of 0, against C2 = 9e-4.
    expect((await ssim(tensor(x, [1, 1, 11, 11]), tensor(y, [1, 1, 11, 11]))).mean).toBeCloseTo(want, 4);
    expect(gaussianWindow(11, 1.5).reduce((p, q) => p + q)).toBeCloseTo(1, 14);
  });

  it('the GPU SSIM (separable, ops) agrees with the CPU reference (direct 2-D window)', async () => {
    const s = { n: 3, c: 3, h: 17, w: 14 };
    const a = images(s.n, s.c, s.h, s.w, 3);
    const b = images(s.n, s.c, s.h, s.w, 4).map((v, i) => 0.7 * v + 0.3 * a[i]);
    const cpu = ssimCpu(a, b, s);
    const gpu = await ssim(tensor(a, [3, 3, 17, 14]), tensor(b, [3, 3, 17, 14]));
    cpu.perImage.forEach((v, i) => expect(gpu.perImage[i]).toBeCloseTo(v, 4));
    // In chunks of 2 images (large sets are chunked to keep each dispatch within the adapter's
    // workgroup limits): the same numbers.
    const chunked = await ssim(tensor(a, [3, 3, 17, 14]), tensor(b, [3, 3, 17, 14]), { chunkImages: 2 });
    expect(Array.from(chunked.perImage)).toEqual(Array.from(gpu.perImage));
    expect(cpu.mean).toBeGreaterThan(0.05);
    expect(cpu.mean).toBeLessThan(0.95);
    // The same pictures given in [0, 1] score the same.
    const unit = (v: number) => (v + 1) / 2;
    expect(ssimCpu(a.map(unit), b.map(unit), s, { range: [0, 1] }).mean).toBeCloseTo(cpu.mean, 7);
    // A smaller window works too, and a too-large one is refused.
    const small = ssimCpu(a, b, s, { window: 7 });
    const smallGpu = await ssim(tensor(a, [3, 3, 17, 14]), tensor(b, [3, 3, 17, 14]), { window: 7 });
    expect(smallGpu.mean).toBeCloseTo(small.mean, 4);
    await expect(ssim(tensor(a, [3, 3, 17, 14]), tensor(b, [3, 3, 17, 14]), { window: 15 })).rejects.toThrow(
      /smaller than the 15x15 window/,
    );
  });
});

describe('ConvClassifier', () => {
  it('has the documented shapes and learns a small 3-channel task (a domain classifier in miniature)', async () => {
    const lenet = createLeNet(0);
    expect(lenet.featureDim).toBe(84);
    expect([...lenet.stateDict().keys()]).toEqual([
      'features.0.weight',
      'features.0.bias',
      'features.2.weight',
      'features.2.bias',
      'features.5.weight',
      'features.5.bias',
      'features.7.weight',
      'features.7.bias',
      'head.weight',
      'head.bias',
    ]);
    expect(() => new ConvClassifier({ inChannels: 1, size: 8, numClasses: 2, convs: [4, 4, 4] })).toThrow(/too small/);
    // Class = the channel that is brightest, under noise.
    const n = 96;
    const rand = seededRandom(7);
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    const images = new Float32Array(n * 3 * 16 * 16);
    for (let i = 0; i < n; i++)
      for (let ch = 0; ch < 3; ch++)
        for (let k = 0; k < 256; k++) images[(i * 3 + ch) * 256 + k] = (ch === labels[i] ? 0.4 : -0.4) + 0.8 * (rand() - 0.5);
    const data = { images, labels, n, c: 3, h: 16, w: 16 };
    const net = new ConvClassifier({
      inChannels: 3,
      size: 16,
      numClasses: 3,
      convs: [4, 8],
      kernel: 3,
      downsample: 'stride',
      hidden: [16],
    });
    initClassifier_(net, new Generator(1));
    const before = await classifierAccuracy(net, data);
    await trainClassifier(net, data, { steps: 40, batch: 16, seed: 1, lr: 1e-2 });
    const after = await classifierAccuracy(net, data);
    expect(after).toBeGreaterThan(0.9);
    expect(after).toBeGreaterThan(before);
  });
});

describe('LeNet features (MNIST)', () => {
  // The quick recipe shortened for the software adapter: STEPS steps of batch BATCH.
  const STEPS = 150;
  const BATCH = LENET_QUICK.batch;
  let net: ConvClassifier;
  let test: ReturnType<typeof loadMnistForLeNet>;

  it(`trains from a seed to > 90% accuracy on 1k test digits in ${STEPS} steps`, async () => {
    net = createLeNet(LENET_QUICK.seed);
    const train = loadMnistForLeNet('train', 20000);
    test = loadMnistForLeNet('test', 1000);
    const r = await trainClassifier(net, train, {
      steps: STEPS,
      batch: BATCH,
      seed: LENET_QUICK.seed,
      lr: LENET_QUICK.lr,
      logEvery: STEPS,
    });
    const acc = await evaluate(net, test);
    console.log(
      `lenet quick: ${STEPS} steps x ${BATCH} in ${r.seconds.toFixed(1)} s, loss ${r.loss.toFixed(3)}, 1k test accuracy ${(100 * acc).toFixed(1)}%`,
    );
    expect(acc).toBeGreaterThan(0.9);
  }, 900_000); // ~25 s on an idle 2-core software adapter (94% at 150 steps); much longer when the machine is shared

  it('gives [n, 84] features ([n, 252] for 3 channels) and per-channel digits', async () => {
    const n = 6;
    const imgs = test.images.subarray(0, n * 32 * 32);
    const f = await features(net, { images: imgs, n, c: 1, h: 32, w: 32 });
    expect(f.length).toBe(n * LENET_FEATURES);
    expect(f.every((v) => Number.isFinite(v) && v >= 0)).toBe(true); // after ReLU
    // 28 x 28 digits are padded to 32 x 32: same features as the padded originals.
    const raw = new Float32Array(n * 28 * 28);
    for (let i = 0; i < n; i++)
      for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) raw[(i * 28 + y) * 28 + x] = imgs[(i * 32 + y + 2) * 32 + x + 2];
    expect(Array.from(toLeNetInput({ images: raw, n, c: 1, h: 28, w: 28 }))).toEqual(Array.from(imgs));
    // Stacked: image i holds digits (i, i+1, i+2) of the test set as its channels.
    const stacked = new Float32Array(2 * 3 * 1024);
    for (let i = 0; i < 2; i++)
      for (let ch = 0; ch < 3; ch++) stacked.set(test.images.subarray((i + ch) * 1024, (i + ch + 1) * 1024), (i * 3 + ch) * 1024);
    const fs = await leNetFeatureSet(net, tensor(stacked, [2, 3, 32, 32]));
    expect([fs.n, fs.d]).toEqual([2, 3 * LENET_FEATURES]);
    for (let ch = 0; ch < 3; ch++) {
      for (let j = 0; j < LENET_FEATURES; j++) expect(fs.data[1 * 252 + ch * 84 + j]).toBeCloseTo(f[(1 + ch) * 84 + j], 4);
    }
    const digits = await predictDigits(net, { images: stacked, n: 2, c: 3, h: 32, w: 32 });
    const single = await predictDigits(net, { images: imgs, n: 4, c: 1, h: 32, w: 32 });
    expect(Array.from(digits)).toEqual([single[0], single[1], single[2], single[1], single[2], single[3]]);
  });

  it('FD(real, real) << FD(real, noise); KID and precision/recall agree', async () => {
    const half = 250;
    const a = { images: test.images.subarray(0, half * 1024), n: half, c: 1, h: 32, w: 32 };
    const b = { images: test.images.subarray(half * 1024, 2 * half * 1024), n: half, c: 1, h: 32, w: 32 };
    const rand = seededRandom(5);
    const noise = { images: Float32Array.from({ length: half * 1024 }, () => 2 * rand() - 1), n: half, c: 1, h: 32, w: 32 };
    const [fa, fb, fn] = [await leNetFeatureSet(net, a), await leNetFeatureSet(net, b), await leNetFeatureSet(net, noise)];
    const real = await featureMetrics(fa, fb, { kid: { subsets: 20, subsetSize: 100 } });
    const bad = await featureMetrics(fa, fn, { kid: { subsets: 20, subsetSize: 100 } });
    const show = (m: typeof real) => `FD ${m.fd.toFixed(2)} KID ${m.kid.toFixed(3)} P ${m.precision.toFixed(3)} R ${m.recall.toFixed(3)}`;
    console.log(`lenet features, ${half} vs ${half}: real/real ${show(real)}; real/noise ${show(bad)}`);
    expect(real.fd * 20).toBeLessThan(bad.fd);
    expect(Math.abs(real.kid) * 20).toBeLessThan(bad.kid);
    expect(real.precision).toBeGreaterThan(0.6);
    expect(real.recall).toBeGreaterThan(0.6);
    // Noise features sit in one tight clump: it covers no real digit (recall ~0). Its precision is not
    // checked: a few outlying real digits have k-NN balls wide enough to swallow the clump, the
    // metric's known sensitivity to real outliers at small n.
    expect(bad.recall).toBeLessThan(0.1);
  });

  it('caches the weights as safetensors and reloads them exactly', async () => {
    const recipe = { ...LENET_QUICK, steps: STEPS };
    const path = await saveLeNet(net, recipe, { dir: tmp, testAccuracy: 0.5 });
    expect(path).toBe(leNetCachePath(recipe, tmp));
    const loaded = await loadOrTrainLeNet(recipe, { dir: tmp });
    expect(loaded.cached).toBe(true);
    expect(loaded.testAccuracy).toBe(0.5);
    const batch = { images: test.images.subarray(0, 8 * 1024), n: 8, c: 1, h: 32, w: 32 };
    expect(Array.from(await features(loaded.model, batch))).toEqual(Array.from(await features(net, batch)));
  });
});
