// DCGAN end to end through the public API: the proof that the engine trains a GAN.
//
// A small DCGAN (32x32 MNIST, ngf = ndf = 8, batch 16) trains for a few hundred steps on the
// software adapter. The test does not hard-code what good samples look like; it compares:
//   - losses stay finite, and D moves away from chance (lossD starts at 2 ln 2 = 1.386, D(x) and
//     D(G(z)) start near 0.5 and separate);
//   - the samples move from noise towards MNIST: statistics of G(fixed z) after training are much
//     closer to those of real digits than the untrained G's are (background fraction, mean, and the
//     Wasserstein-1 distance between pixel-value distributions);
//   - GPU memory (live buffers and tensors) is flat across steps: a step leaks nothing.
// Plus the cheap structural checks: state_dict keys and shapes of the 64x64 nets equal those of
// PyTorch's examples/dcgan, the data loader resumes exactly, and the trainer is deterministic.

import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, engine } from '../engine/device.js';
import { empty, memory, tensor, tidy } from '../engine/tensor.js';
import { Generator } from '../engine/ops/random.js';
import { loadMnist } from '../data/mnist.js';
import { DataLoader, epochPermutation } from '../data/loader.js';
import { DcganDiscriminator, DcganGenerator, DcganTrainer, dcganDepth, inferDcganConfig } from '../nets/dcgan.js';
import { recipes } from '../nets/registry.js';
import { readStats } from '../nets/lib/stats.js';

beforeAll(async () => {
  await initEngine();
});

/** Keys and shapes of `netG.state_dict()` / `netD.state_dict()` in PyTorch's examples/dcgan (nz 100, ngf = ndf = 64, nc 3). */
function pytorchDcganKeys(): { G: [string, number[]][]; D: [string, number[]][] } {
  const bn = (i: number, c: number): [string, number[]][] => [
    [`main.${i}.weight`, [c]],
    [`main.${i}.bias`, [c]],
    [`main.${i}.running_mean`, [c]],
    [`main.${i}.running_var`, [c]],
    [`main.${i}.num_batches_tracked`, []],
  ];
  const G: [string, number[]][] = [
    ['main.0.weight', [100, 512, 4, 4]],
    ...bn(1, 512),
    ['main.3.weight', [512, 256, 4, 4]],
    ...bn(4, 256),
    ['main.6.weight', [256, 128, 4, 4]],
    ...bn(7, 128),
    ['main.9.weight', [128, 64, 4, 4]],
    ...bn(10, 64),
    ['main.12.weight', [64, 3, 4, 4]],
  ];
  const D: [string, number[]][] = [
    ['main.0.weight', [64, 3, 4, 4]],
    ['main.2.weight', [128, 64, 4, 4]],
    ...bn(3, 128),
    ['main.5.weight', [256, 128, 4, 4]],
    ...bn(6, 256),
    ['main.8.weight', [512, 256, 4, 4]],
    ...bn(9, 512),
    ['main.11.weight', [1, 512, 4, 4]],
  ];
  return { G, D };
}

/** Fraction of dark pixels (below -0.5 in [-1, 1]): MNIST's background, absent from grey noise. */
function darkFraction(x: Float32Array): number {
  let n = 0;
  for (const v of x) if (v < -0.5) n++;
  return n / x.length;
}

/** Normalised 10-bin histogram of pixel values over [-1, 1]. */
function histogram(x: Float32Array, bins = 10): number[] {
  const h = new Array<number>(bins).fill(0);
  for (const v of x) h[Math.min(bins - 1, Math.max(0, Math.floor(((v + 1) / 2) * bins)))]++;
  return h.map((c) => c / x.length);
}

const l1 = (a: number[], b: number[]) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0);

/**
 * Wasserstein-1 (earth mover's) distance between the pixel-value distributions of two equally
 * sized sets: the mean |a_(i) - b_(i)| over their sorted values, i.e. how far, on average, each
 * pixel value must move to turn one distribution into the other. Unlike a histogram's L1 it has
 * no bin edges: a background drawn at -0.7 instead of -1 counts as 0.3 off, not as wholly wrong.
 */
function wasserstein1(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`wasserstein1: sets of ${a.length} and ${b.length} values; pass equal sizes`);
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i] - y[i]);
  return s / x.length;
}

/** Mean |x - mean image| over pixels: 0 for a batch of identical images (mode collapse). */
function diversity(x: Float32Array, n: number): number {
  const d = x.length / n;
  const mean = new Float64Array(d);
  for (let i = 0; i < x.length; i++) mean[i % d] += x[i] / n;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i] - mean[i % d]);
  return s / x.length;
}

describe('DCGAN architecture', () => {
  it('has exactly the state_dict keys and shapes of the PyTorch example at 64x64', () => {
    const cfg = { imageSize: 64, nc: 3, nz: 100, ngf: 64, ndf: 64 };
    const netG = new DcganGenerator(cfg);
    const netD = new DcganDiscriminator(cfg);
    const ref = pytorchDcganKeys();
    const got = (m: DcganGenerator | DcganDiscriminator) => [...m.stateDict()].map(([k, t]) => [k, [...t.shape]]);
    expect(got(netG)).toEqual(ref.G);
    expect(got(netD)).toEqual(ref.D);
    expect(netG.numParameters()).toBe(3_576_704); // the example's printed count for nc = 3
    expect(netD.numParameters()).toBe(2_765_568);
    // The architecture is recoverable from the shapes alone (gan convert relies on it).
    expect(inferDcganConfig('netG', new Map(ref.G))).toEqual({ imageSize: 64, nz: 100, ngf: 64, nc: 3 });
    expect(inferDcganConfig('netD', new Map(ref.D))).toEqual({ imageSize: 64, ndf: 64, nc: 3 });
    expect(inferDcganConfig('netD', new Map(ref.G))).toBeNull();
    netG.dispose();
    netD.dispose();
  });

  it('derives its depth from the image size and maps z to images and images to one logit', async () => {
    expect(dcganDepth(32)).toBe(3);
    expect(dcganDepth(64)).toBe(4);
    expect(() => dcganDepth(48)).toThrow(/power of two/);
    expect(recipes.dcgan.validate({ imageSize: 48, nz: 100, ngf: 8, ndf: 8, nc: 1 })[0]).toMatch(/--image-size/);
    const cfg = { imageSize: 32, nc: 1, nz: 7, ngf: 3, ndf: 5 };
    const netG = new DcganGenerator(cfg);
    const netD = new DcganDiscriminator(cfg);
    const [x, logits] = tidy(() => {
      const img = netG.call(
        tensor(
          Array.from({ length: 2 * 7 }, (_, i) => Math.sin(i)),
          [2, 7, 1, 1],
        ),
      );
      return [img, netD.call(img)];
    });
    expect(x.shape).toEqual([2, 1, 32, 32]);
    expect(logits.shape).toEqual([2]);
    for (const v of await x.data()) expect(Math.abs(v)).toBeLessThanOrEqual(1);
    x.dispose();
    logits.dispose();
    netG.dispose();
    netD.dispose();
  });
});

describe('DataLoader', () => {
  it('shuffles per epoch from (seed, epoch), covers every example once and resumes exactly', () => {
    const n = 10;
    const data = Float32Array.from({ length: n * 2 }, (_, i) => i);
    const ds = { data, n, sampleShape: [2] };
    const a = new DataLoader(ds, { batchSize: 3, seed: 5 });
    expect(a.batchesPerEpoch).toBe(3);
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) seen.push(...a.next().indices);
    expect(new Set(seen).size).toBe(9); // no repeats within an epoch
    expect(seen).toEqual(Array.from(epochPermutation(n, 5, 0).slice(0, 9)));
    const b = a.next(); // epoch 1 starts: the leftover example of epoch 0 is dropped
    expect(b.epoch).toBe(1);
    expect(Array.from(b.indices)).toEqual(Array.from(epochPermutation(n, 5, 1).slice(0, 3)));
    expect(Array.from(b.data.slice(0, 2))).toEqual([2 * b.indices[0], 2 * b.indices[0] + 1]);
    const saved = a.state;
    const expected = [a.next(), a.next(), a.next()].map((x) => Array.from(x.indices));
    const c = new DataLoader(ds, { batchSize: 3, seed: 0 });
    c.setState(saved);
    expect([c.next(), c.next(), c.next()].map((x) => Array.from(x.indices))).toEqual(expected);
    expect(() => new DataLoader(ds, { batchSize: 11 })).toThrow(/larger than the dataset/);
  });
});

describe('DCGAN trains on MNIST', () => {
  it('is deterministic: the same seed gives the same losses', async () => {
    const m = loadMnist({ split: 'train', limit: 64, pad32: true });
    const run = async () => {
      const trainer = new DcganTrainer({ imageSize: 32, nc: 1, nz: 16, ngf: 4, ndf: 4 }, { lr: 2e-4, beta1: 0.5, beta2: 0.999 }, 3);
      const loader = new DataLoader({ data: m.images, n: m.n, sampleShape: [1, 32, 32] }, { batchSize: 4, seed: 3 });
      const real = empty([4, 1, 32, 32]).keep();
      const losses: number[] = [];
      for (let s = 0; s < 3; s++) {
        loader.nextInto(real);
        const v = await readStats(trainer.step(real, true)!);
        losses.push(v.lossD, v.lossG);
      }
      real.dispose();
      for (const net of Object.values(trainer.nets)) net.dispose();
      for (const opt of Object.values(trainer.optimizers)) opt.dispose();
      return losses;
    };
    expect(await run()).toEqual(await run());
  });

  it('learns: D leaves chance, samples approach MNIST statistics, memory stays flat', async () => {
    const STEPS = 200;
    const BATCH = 8;
    const LOG_EVERY = 20;
    const t0 = performance.now();
    const mnist = loadMnist({ split: 'train', limit: 4096, pad32: true });
    // The CLI's --quick nets (G 16 channels wide, D 8). Small nets move their weights slowly at the
    // paper's lr 2e-4 (Adam moves each weight by about lr per step, and a narrow G needs large
    // last-layer weights to paint the background), so 1e-3 shows learning within the budget.
    const trainer = new DcganTrainer({ imageSize: 32, nc: 1, nz: 100, ngf: 16, ndf: 8 }, { lr: 1e-3, beta1: 0.5, beta2: 0.999 }, 1);
    const loader = new DataLoader({ data: mnist.images, n: mnist.n, sampleShape: [1, 32, 32] }, { batchSize: BATCH, seed: 1 });
    const real = empty([BATCH, 1, 32, 32], 'batch').keep();
    const fixedZ = trainer.noise(64, new Generator(99)).keep();

    const sample = async () => {
      const x = trainer.generate(fixedZ);
      const d = await x.data();
      x.dispose();
      return d;
    };
    const before = await sample();
    const realStats = mnist.images.subarray(0, 64 * 32 * 32);

    const logs: Record<string, number>[] = [];
    let memAfterWarmup: ReturnType<typeof memory> | null = null;
    for (let step = 1; step <= STEPS; step++) {
      loader.nextInto(real);
      const stats = trainer.step(real, step % LOG_EVERY === 0 || step === 1);
      engine().flush();
      if (stats) {
        const v = await readStats(stats);
        for (const [k, x] of Object.entries(v)) expect(Number.isFinite(x), `${k} at step ${step}`).toBe(true);
        logs.push({ step, ...v });
      }
      if (step === 3) memAfterWarmup = memory();
    }
    const memEnd = memory();
    const after = await sample();
    expect(memory().liveBuffers).toBe(memEnd.liveBuffers); // sampling frees its activations
    const elapsed = (performance.now() - t0) / 1000;

    // Start: D at chance. lossD = 2 ln 2 when D outputs 0.5 for everything.
    expect(logs[0].lossD).toBeGreaterThan(1.2);
    expect(Math.abs(logs[0].D_x - 0.5)).toBeLessThan(0.15);
    // Later: D separates real from fake (lower loss than chance, D(x) well above D(G(z))). The
    // average of the last logs smooths the batch-of-8 noise.
    const late = logs.slice(-4);
    const avg = (k: string) => late.reduce((s, l) => s + l[k], 0) / late.length;
    expect(avg('lossD')).toBeLessThan(1.2);
    expect(avg('D_x') - avg('D_G_z1')).toBeGreaterThan(0.15);

    // Samples: from noise towards digits. The untrained G (tanh of small activations) draws grey
    // noise around 0; MNIST is mostly black background (-1) with a few bright strokes. Every
    // statistic is compared with the untrained G's, against real digits, rather than hard-coded.
    const meanOf = (x: Float32Array) => x.reduce((s, v) => s + v, 0) / x.length;
    const real_ = { dark: darkFraction(realStats), mean: meanOf(realStats), hist: histogram(realStats) };
    const untrained = {
      dark: darkFraction(before),
      mean: meanOf(before),
      hist: l1(histogram(before), real_.hist),
      w1: wasserstein1(before, realStats),
    };
    const trained = {
      dark: darkFraction(after),
      mean: meanOf(after),
      hist: l1(histogram(after), real_.hist),
      w1: wasserstein1(after, realStats),
    };
    // The floor: two disjoint sets of 64 real digits (W1 0.002, histogram L1 0.009).
    const realFloor = wasserstein1(mnist.images.subarray(64 * 1024, 128 * 1024), realStats);
    console.log(
      `dcgan e2e: ${STEPS} steps in ${elapsed.toFixed(1)} s; lossD ${logs[0].lossD.toFixed(3)} -> ${avg('lossD').toFixed(3)}, ` +
        `lossG ${logs[0].lossG.toFixed(3)} -> ${avg('lossG').toFixed(3)}, D(x) ${avg('D_x').toFixed(2)} D(G(z)) ${avg('D_G_z1').toFixed(2)}; ` +
        `dark fraction real ${real_.dark.toFixed(2)} untrained ${untrained.dark.toFixed(2)} trained ${trained.dark.toFixed(2)}; ` +
        `mean pixel real ${real_.mean.toFixed(2)} untrained ${untrained.mean.toFixed(2)} trained ${trained.mean.toFixed(2)}; ` +
        `histogram L1 to real: untrained ${untrained.hist.toFixed(2)} trained ${trained.hist.toFixed(2)}; ` +
        `W1 to real: untrained ${untrained.w1.toFixed(3)} trained ${trained.w1.toFixed(3)} (real vs real ${realFloor.toFixed(3)}); ` +
        `diversity ${diversity(after, 64).toFixed(3)}`,
    );
    expect(trained.dark).toBeGreaterThan(untrained.dark + 0.3);
    expect(Math.abs(trained.dark - real_.dark)).toBeLessThan(Math.abs(untrained.dark - real_.dark) / 2);
    expect(Math.abs(trained.mean - real_.mean)).toBeLessThan(0.6 * Math.abs(untrained.mean - real_.mean));
    // The pixel distribution as a whole: the trained G's W1 to real digits is under half the
    // untrained G's. Measured (2026-12-06, trainer and loader seeds 1, 2, 3, fixed z as here):
    // untrained 0.92, 0.92, 0.88; after 100 steps 0.60, 0.51, 0.61 (ratios 0.65, 0.56, 0.69: this
    // check fails there); after 200 steps 0.36, 0.33, 0.37 (ratios 0.39, 0.36, 0.42); 300 steps
    // 0.24, 0.16. It replaces a 10-bin histogram L1 (trained < untrained - 0.2), which at 200 steps
    // hinged on how many background pixels had crossed the -0.8 bin edge (half of them sat at -0.8
    // to -0.6): 1.61, 1.50, 1.71 against limits 1.74, 1.73, 1.73 for the same seeds, luck.
    expect(trained.w1).toBeLessThan(0.5 * untrained.w1);
    expect(realFloor).toBeLessThan(0.05 * untrained.w1); // the distance itself is sound: real vs real ~ 0
    expect(diversity(after, 64)).toBeGreaterThan(0.02); // not collapsed to one image

    // No leak: every step frees what it allocates.
    expect(memEnd.liveBuffers).toBe(memAfterWarmup!.liveBuffers);
    expect(memEnd.tensors).toBe(memAfterWarmup!.tensors);
    expect(memEnd.liveBytes).toBe(memAfterWarmup!.liveBytes);

    real.dispose();
    fixedZ.dispose();
    await engine().sync();
  }, 600_000);
});
