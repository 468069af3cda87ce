// Image-to-image plumbing (issue 3): the GPU edge-map op against its CPU reference (edgeMapCpu),
// batch norm on one example (pix2pix's batch 1: instance norm), the held-out pairs and scoring that
// `gan eval` / `gan train` use (nets/translation.ts: CPU float64 references and hand-made layouts),
// and exact resume of pix2pix and CycleGAN through the CLI's checkpoint files: N steps straight
// equal N/2 + save + restore (into a trainer built from another seed) + N/2, bit for bit, in every
// parameter and buffer, the optimiser state, the random streams, the image pools and the step.
// Shapes are tiny; the CLI end to end (train, eval) is tests/image2image_cli.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { initEngine, engine, assign, tensor, grad, noGrad, tidy, defaultGenerator, type Tensor } from '../engine/index.js';
import { mean } from '../engine/ops/reduce.js';
import { mul, affine } from '../engine/ops/elementwise.js';
import { instanceNorm } from '../engine/ops/norm.js';
import { BatchNorm2d } from '../engine/nn/layers.js';
import { edgeMap } from '../engine/ops/edges.js';
import { edgeMapCpu, loadEmojiPairs } from '../data/emoji.js';
import { l1Cpu, psnrCpu, ssimCpu } from '../metrics/image.js';
import { Pix2pixTrainer, pix2pixRecipe } from '../nets/pix2pix.js';
import { CycleGanTrainer, cycleganRecipe } from '../nets/cyclegan.js';
import { packPairs, packUnpaired } from '../data/pairs.js';
import {
  firstPairs,
  scoreTranslation,
  splitHeldOut,
  ssimWindowFor,
  translationGrid,
  translationHooks,
  type HeldOutPairs,
} from '../nets/lib/translation.js';
import type { GanTrainer, ModelConfig, TrainSettings } from '../nets/registry.js';
import { tempDir } from './support/util.js';
import { loadRunCheckpoint, restoreTrainer, saveRunCheckpoint } from '../cli/checkpoint_io.js';
import '../cli/heldout.js';

const tmp = tempDir('gan-i2i-');

beforeAll(async () => {
  await initEngine();
});

/** A deterministic stream in [0, 1). */
function lcg(seed: number): () => number {
  let r = seed >>> 0;
  return () => (r = (Math.imul(r, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** Shapes on white: a disc and a rectangle per image, random colours, NCHW in [-1, 1]. */
function shapes(n: number, c: number, h: number, w: number, seed: number, levels: number[] | null = null): Float32Array {
  const rnd = lcg(seed);
  const out = new Float32Array(n * c * h * w).fill(1);
  const colour = () => (levels ? levels[Math.floor(rnd() * levels.length)] : rnd() * 2 - 1);
  for (let i = 0; i < n; i++) {
    const cx = rnd() * w,
      cy = rnd() * h,
      r = 2 + rnd() * Math.min(h, w) * 0.3;
    const [x0, y0] = [Math.floor(rnd() * w * 0.5), Math.floor(rnd() * h * 0.5)];
    const [x1, y1] = [x0 + 2 + Math.floor(rnd() * w * 0.5), y0 + 2 + Math.floor(rnd() * h * 0.5)];
    const disc = Array.from({ length: c }, colour);
    const rect = Array.from({ length: c }, colour);
    for (let k = 0; k < c; k++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const at = ((i * c + k) * h + y) * w + x;
          if ((x - cx) ** 2 + (y - cy) ** 2 < r * r) out[at] = disc[k];
          else if (x >= x0 && x < x1 && y >= y0 && y < y1) out[at] = rect[k];
        }
      }
    }
  }
  return out;
}

// ---- edge maps -----------------------------------------------------------------------------------

/**
 * Per pixel, how close edgeMapCpu's decision is to flipping, recomputed in float64: the smallest of
 * |mag - threshold|, |mag - neighbour| for both neighbours, and the distances to the direction
 * boundaries. A float32 GPU result may only disagree where this is tiny.
 */
function decisionMargins(images: Float32Array, n: number, c: number, h: number, w: number, threshold: number): Float64Array {
  const T = Math.tan(Math.PI / 8);
  const out = new Float64Array(n * h * w);
  for (let k = 0; k < n; k++) {
    const lum = new Float64Array(h * w);
    for (let p = 0; p < h * w; p++) {
      const b = k * c * h * w;
      const v = c === 3 ? 0.299 * images[b + p] + 0.587 * images[b + h * w + p] + 0.114 * images[b + 2 * h * w + p] : images[b + p];
      lum[p] = (v + 1) / 2;
    }
    const at = (y: number, x: number) => lum[Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))];
    const gx = new Float64Array(h * w);
    const gy = new Float64Array(h * w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        gx[y * w + x] = at(y - 1, x + 1) + 2 * at(y, x + 1) + at(y + 1, x + 1) - at(y - 1, x - 1) - 2 * at(y, x - 1) - at(y + 1, x - 1);
        gy[y * w + x] = at(y + 1, x - 1) + 2 * at(y + 1, x) + at(y + 1, x + 1) - at(y - 1, x - 1) - 2 * at(y - 1, x) - at(y - 1, x + 1);
      }
    }
    const mag = (y: number, x: number) => (y < 0 || x < 0 || y >= h || x >= w ? 0 : Math.hypot(gx[y * w + x], gy[y * w + x]));
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = y * w + x;
        const ax = Math.abs(gx[p]);
        const ay = Math.abs(gy[p]);
        const m = mag(y, x);
        let margin = Math.min(Math.abs(m - threshold), Math.abs(ay - ax * T), Math.abs(ax - ay * T), Math.abs(gx[p] * gy[p]));
        for (const [dy, dx] of [
          [0, 1],
          [1, 0],
          [1, 1],
          [1, -1],
        ]) {
          margin = Math.min(margin, Math.abs(m - mag(y + dy, x + dx)), Math.abs(m - mag(y - dy, x - dx)));
        }
        out[k * h * w + p] = margin;
      }
    }
  }
  return out;
}

/** Compares GPU and CPU edge maps: returns the mismatching pixels and the largest margin among them. */
function compareEdges(gpu: Float32Array, cpu: Float32Array, margins: Float64Array, n: number, channels: number, plane: number) {
  let mismatched = 0;
  let worst = 0;
  for (let k = 0; k < n; k++) {
    // Every channel is a copy of the first.
    for (let ch = 1; ch < channels; ch++) {
      const first = gpu.subarray(k * channels * plane, (k * channels + 1) * plane);
      expect(gpu.subarray((k * channels + ch) * plane, (k * channels + ch + 1) * plane)).toEqual(first);
    }
    for (let p = 0; p < plane; p++) {
      const v = cpu[k * channels * plane + p];
      if (gpu[k * channels * plane + p] !== v) {
        mismatched++;
        worst = Math.max(worst, margins[k * plane + p]);
      }
    }
  }
  return { mismatched, worst };
}

describe('edgeMap (GPU) against edgeMapCpu', () => {
  it('is identical on images whose arithmetic is exact (one channel, levels -1, 0, 1), with channel copies', async () => {
    const [n, h, w] = [3, 19, 23];
    const x = shapes(n, 1, h, w, 5, [-1, 0, 1]);
    const cpu = edgeMapCpu(x, n, 1, h, w, { channels: 3 });
    const t = tensor(x, [n, 1, h, w]);
    const y = edgeMap(t, { channels: 3 });
    expect(y.shape).toEqual([n, 3, h, w]);
    const gpu = await y.data();
    expect(Array.from(gpu)).toEqual(Array.from(cpu));
    const edges = cpu.filter((v) => v === -1).length;
    expect(edges).toBeGreaterThan(0.02 * cpu.length); // there are edges, and not everywhere
    expect(edges).toBeLessThan(0.5 * cpu.length);
    // A lower threshold finds more, never fewer.
    const y2 = edgeMap(t, { threshold: 0.1, channels: 1 });
    const more = await y2.data();
    expect(Array.from(more)).toEqual(Array.from(edgeMapCpu(x, n, 1, h, w, { threshold: 0.1, channels: 1 })));
    for (const u of [t, y, y2]) u.dispose();
  });

  it('agrees on RGB shapes and on real emoji except where the float64 decision is a near tie', async () => {
    const cases: [string, Float32Array, number, number][] = [['shapes', shapes(4, 3, 17, 21, 9), 17, 21]];
    const p = loadEmojiPairs({ split: 'test', size: 32, limit: 24, skinTones: false });
    cases.push(['emoji', p.a, 32, 32]);
    for (const [what, x, h, w] of cases) {
      const n = x.length / (3 * h * w);
      const t = tensor(x, [n, 3, h, w]);
      const y = edgeMap(t);
      const gpu = await y.data();
      t.dispose();
      y.dispose();
      const cpu = edgeMapCpu(x, n, 3, h, w);
      const { mismatched, worst } = compareEdges(gpu, cpu, decisionMargins(x, n, 3, h, w, 0.5), n, 3, h * w);
      if (process.env.GAN_TEST_VERBOSE) console.log(what, 'mismatched', mismatched, 'of', n * h * w, 'worst margin', worst);
      expect(mismatched, what).toBeLessThanOrEqual(Math.ceil(0.002 * n * h * w));
      expect(worst, `${what}: a mismatch away from a tie`).toBeLessThan(1e-5);
    }
  });

  it('names bad inputs', () => {
    const t = tensor(new Float32Array(2 * 16), [1, 2, 4, 4]);
    expect(() => edgeMap(t)).toThrow(/edge_map: expects \[N, 1 or 3, H, W\].*\[1, 2, 4, 4\]/);
    t.dispose();
  });
});

// ---- batch norm on one example ---------------------------------------------------------------------

describe("batch norm with batch 1 (pix2pix at the papers' batch size)", () => {
  it('normalises over H x W per channel, like instance norm; running stats take the unbiased variance', async () => {
    const [c, h, w] = [2, 3, 5];
    const x = Float32Array.from({ length: c * h * w }, (_, i) => Math.sin(1.7 * i) + 0.1 * i);
    const gamma = [1.5, -0.5];
    const beta = [0.25, 1];
    const bn = new BatchNorm2d(c);
    assign(bn.weight!, gamma);
    assign(bn.bias!, beta);
    const xt = tensor(x, [1, c, h, w]);
    const y = bn.call(xt) as Tensor;
    const got = await y.data();
    // float64 reference: per channel mean and biased variance over the 15 pixels.
    const m = h * w;
    for (let k = 0; k < c; k++) {
      const v = Array.from(x.subarray(k * m, (k + 1) * m));
      const mu = v.reduce((a, b) => a + b) / m;
      const varB = v.reduce((a, b) => a + (b - mu) ** 2, 0) / m;
      v.forEach((xi, i) => expect(got[k * m + i]).toBeCloseTo((gamma[k] * (xi - mu)) / Math.sqrt(varB + 1e-5) + beta[k], 5));
      expect((await bn.runningMean!.data())[k]).toBeCloseTo(0.1 * mu, 6);
      expect((await bn.runningVar!.data())[k]).toBeCloseTo(0.9 + (0.1 * varB * m) / (m - 1), 6);
    }
    // Gradients equal instance norm's (whose backward the op suite checks by finite differences).
    const wts = tensor(
      Float32Array.from({ length: c * m }, (_, i) => Math.cos(0.3 * i)),
      [1, c, h, w],
    );
    const xv = tensor(x, [1, c, h, w]).requireGrad();
    const [gx, gg, gb] = grad(mean(mul(bn.call(xv) as Tensor, wts)), [xv, bn.weight!, bn.bias!]);
    const xi = tensor(x, [1, c, h, w]).requireGrad();
    const [g2, gb2] = [tensor(gamma, [c]).requireGrad(), tensor(beta, [c]).requireGrad()];
    const [ix, ig, ib] = grad(mean(mul(instanceNorm(xi, g2, gb2), wts)), [xi, g2, gb2]);
    for (const [a, b] of [
      [gx, ix],
      [gg, ig],
      [gb, ib],
    ]) {
      const [da, db] = [await a.data(), await b.data()];
      da.forEach((v, i) => expect(v).toBeCloseTo(db[i], 6));
    }
    // One value per channel cannot be normalised: a clear error, as in PyTorch.
    const one = tensor([1, 2], [1, 2, 1, 1]);
    expect(() => bn.call(one)).toThrow(/batch_norm: training needs more than 1 value per channel.*\[1, 2, 1, 1\].*batch of 2 or more/);
    bn.dispose();
  });
});

// ---- held-out pairs, scores and grids ---------------------------------------------------------------

describe('held-out pairs, scoring and sample grids (nets/translation.ts)', () => {
  it('the recipes give the test split at their size, in their direction; emoji-edges pairs edges with the emoji', async () => {
    const base = { imageSize: 32, netG: 'unet_32', netD: 'basic', ngf: 2, ndf: 2 };
    const p = loadEmojiPairs({ split: 'test', size: 32, limit: 3 });
    const ab = await pix2pixRecipe.heldOutPairs(base, { limit: 3 });
    expect(ab.n).toBe(3);
    expect(ab.inputShape).toEqual([3, 32, 32]);
    expect(Array.from(ab.inputs)).toEqual(Array.from(p.a));
    expect(Array.from(ab.targets)).toEqual(Array.from(p.b));
    const ba = await pix2pixRecipe.heldOutPairs({ ...base, direction: 'BtoA' }, { limit: 3 });
    expect(Array.from(ba.inputs)).toEqual(Array.from(p.b));
    const cyc = await cycleganRecipe.heldOutPairs({ ...base, netG: 'resnet_3blocks' }, { limit: 3 });
    expect(Array.from(cyc.targets)).toEqual(Array.from(p.b));
    expect(translationHooks(pix2pixRecipe)).not.toBeNull();
    expect(translationHooks(cycleganRecipe)).not.toBeNull();

    const edges = await pix2pixRecipe.heldOutPairs(base, { limit: 4, dataset: 'emoji-edges' });
    const noto = loadEmojiPairs({ split: 'test', size: 32, limit: 4, skinTones: false });
    expect(Array.from(edges.targets)).toEqual(Array.from(noto.a));
    expect(edges.inputs.every((v) => v === 1 || v === -1)).toBe(true);
    const cpu = edgeMapCpu(noto.a, 4, 3, 32, 32);
    const { mismatched, worst } = compareEdges(edges.inputs, cpu, decisionMargins(noto.a, 4, 3, 32, 32, 0.5), 4, 3, 32 * 32);
    expect(mismatched).toBeLessThanOrEqual(4);
    expect(worst).toBeLessThan(1e-5);
    await expect(pix2pixRecipe.heldOutPairs(base, { dataset: 'mnist' })).rejects.toThrow(/'mnist' has no held-out pairs/);
  });

  it('splitHeldOut and firstPairs unpack A | B rows', () => {
    // Two pairs of 1x1 images, A with 1 channel, B with 3.
    const packed = { data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), n: 2, channelsA: 1, channelsB: 3, size: 1, names: ['x', 'y'] };
    const p = splitHeldOut(packed);
    expect(Array.from(p.inputs)).toEqual([1, 5]);
    expect(Array.from(p.targets)).toEqual([2, 3, 4, 6, 7, 8]);
    const q = splitHeldOut(packed, true);
    expect(Array.from(q.inputs)).toEqual([2, 3, 4, 6, 7, 8]);
    expect(q.inputShape).toEqual([3, 1, 1]);
    const f = firstPairs(p, 1);
    expect([f.n, Array.from(f.inputs), Array.from(f.targets)]).toEqual([1, [1], [2, 3, 4]]);
  });

  it('scoreTranslation equals the float64 references, batched or not, for a model and for the identity', async () => {
    const [n, c, h, w] = [3, 3, 12, 13];
    const a = shapes(n, c, h, w, 21);
    const b = shapes(n, c, h, w, 22).map((v, i) => 0.6 * v + 0.4 * a[i]);
    const pairs: HeldOutPairs = { inputs: a, targets: b, n, inputShape: [c, h, w], targetShape: [c, h, w] };
    const s = { n, c, h, w };
    expect(ssimWindowFor(h, w)).toBe(11);
    expect(ssimWindowFor(8, 9)).toBe(7);
    for (const batch of [1, 2, 50]) {
      const id = await scoreTranslation(pairs, null, batch);
      expect(id.l1).toBeCloseTo(l1Cpu(a, b, s).mean, 6);
      expect(id.psnr).toBeCloseTo(psnrCpu(a, b, s).mean, 4);
      expect(id.ssim).toBeCloseTo(ssimCpu(a, b, s).mean, 4);
      // A "model" that halves its input.
      const half = await scoreTranslation(pairs, (x) => affine(x, 0.5, 0), batch);
      const ah = a.map((v) => 0.5 * v);
      expect(half.l1).toBeCloseTo(l1Cpu(ah, b, s).mean, 6);
      expect(half.psnr).toBeCloseTo(psnrCpu(ah, b, s).mean, 4);
      expect(half.ssim).toBeCloseTo(ssimCpu(ah, b, s).mean, 4);
    }
    // Hand value: targets = inputs + 0.1 everywhere: L1 0.1, PSNR 10 log10(2^2 / 0.1^2) = 26.02 dB.
    const off = await scoreTranslation({ ...pairs, targets: a.map((v) => v + 0.1) }, null);
    expect(off.l1).toBeCloseTo(0.1, 5);
    expect(off.psnr).toBeCloseTo(10 * Math.log10(400), 3);
    await expect(scoreTranslation({ ...pairs, targetShape: [1, h, w], targets: b.subarray(0, n * h * w) }, null)).rejects.toThrow(
      /identity baseline needs/,
    );
  });

  it('translationGrid lays out rows of inputs, outputs, targets per group (1-channel inputs as grey)', () => {
    // 3 pairs of 1x1 images, 2 columns: groups [0, 1] and [2, pad].
    const inputs = Float32Array.from([0.1, 0.2, 0.3]);
    const outputs = Float32Array.from([1, 1, 1, 2, 2, 2, 3, 3, 3]).map((v) => v / 10);
    const targets = outputs.map((v) => -v);
    const g = translationGrid(inputs, outputs, targets, 3, { input: 1, output: 3, target: 3 }, 1, 1, 2);
    expect(g.n).toBe(12);
    const cell = (k: number) => Array.from(g.images.subarray(3 * k, 3 * k + 3)).map((v) => +v.toFixed(3));
    expect([cell(0), cell(1), cell(2), cell(3), cell(4), cell(5)]).toEqual([
      [0.1, 0.1, 0.1],
      [0.2, 0.2, 0.2],
      [0.1, 0.1, 0.1],
      [0.2, 0.2, 0.2],
      [-0.1, -0.1, -0.1],
      [-0.2, -0.2, -0.2],
    ]);
    expect([cell(6), cell(7), cell(8), cell(9), cell(10), cell(11)]).toEqual([
      [0.3, 0.3, 0.3],
      [1, 1, 1],
      [0.3, 0.3, 0.3],
      [1, 1, 1],
      [-0.3, -0.3, -0.3],
      [1, 1, 1],
    ]);
  });
});

// ---- exact resume ----------------------------------------------------------------------------------------

/** Bitwise copy of everything a resume must restore. */
async function trainingState(t: GanTrainer): Promise<Record<string, Uint8Array | string>> {
  const out: Record<string, Uint8Array | string> = {};
  const bytes = async (x: Tensor) => {
    const d = x.dtype === 'int32' ? await x.dataInt() : await x.data();
    return new Uint8Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength));
  };
  for (const [name, net] of Object.entries(t.nets)) for (const [k, x] of net.stateDict()) out[`${name}.${k}`] = await bytes(x);
  for (const [name, o] of Object.entries(t.optimizers)) {
    const sd = o.stateDict();
    out[`optim.${name}`] = JSON.stringify({ hyper: sd.hyper, steps: sd.steps });
    for (const [k, x] of Object.entries(sd.tensors)) out[`optim.${name}.${k}`] = await bytes(x as Tensor);
  }
  out.rng = JSON.stringify(t.rng.getState());
  out.defaultRng = JSON.stringify(defaultGenerator.getState());
  for (const [name, s] of Object.entries(t.trainingState ?? {})) for (const [k, x] of s.stateDict()) out[`${name}.${k}`] = await bytes(x);
  return out;
}

function expectSameState(a: Record<string, Uint8Array | string>, b: Record<string, Uint8Array | string>): void {
  expect(Object.keys(b)).toEqual(Object.keys(a));
  for (const k of Object.keys(a)) {
    const [x, y] = [a[k], b[k]];
    if (typeof x === 'string') expect(y, k).toBe(x);
    else {
      const z = y as Uint8Array;
      const first = x.length === z.length ? x.findIndex((v, i) => v !== z[i]) : 0;
      expect(first, `${k}: first differing byte`).toBe(-1);
    }
  }
}

/**
 * Trains `steps` straight; then a second trainer trains half, saves a run checkpoint (the CLI's
 * format) and is dropped; a third, built with another seed, restores it and trains the rest.
 */
async function checkResume(
  model: string,
  make: (seed: number) => GanTrainer & { dispose(): void },
  batches: Tensor[],
  config: ModelConfig,
  settings: TrainSettings,
  translate: (t: GanTrainer, x: Tensor) => Tensor,
  probe: Tensor,
): Promise<{ straight: GanTrainer & { dispose(): void }; resumed: GanTrainer & { dispose(): void } }> {
  const steps = batches.length;
  const half = steps / 2;
  const rng0 = defaultGenerator.getState();
  const straight = make(7);
  for (let i = 0; i < steps; i++) {
    straight.step(batches[i], false);
    // As `gan train` does at its sample intervals: scoring must leave the training state alone.
    if (i === half - 1) translate(straight, probe).dispose();
  }
  const want = await trainingState(straight);

  defaultGenerator.setState(rng0);
  const first = make(7);
  for (let i = 0; i < half; i++) first.step(batches[i], false);
  const path = join(tmp, `${model}.safetensors`);
  await saveRunCheckpoint(path, first, { model, config, settings, seed: 7, step: half, loader: null, dataset: 'emoji-pairs', limit: 0 });
  first.dispose();
  defaultGenerator.setState({ seed: 12345, offset: 678 }); // restored from the checkpoint too

  const resumed = make(8);
  const ck = await loadRunCheckpoint('test', path);
  expect(ck.info.step).toBe(half);
  expect(restoreTrainer('test', path, ck, resumed, true)).toEqual([]);
  for (let i = half; i < steps; i++) resumed.step(batches[i], false);
  expectSameState(want, await trainingState(resumed));
  for (const o of Object.values(resumed.optimizers)) expect(o.stepCount(0)).toBe(steps);
  return { straight, resumed };
}

describe('exact resume through run checkpoints', () => {
  const settings: TrainSettings = {
    steps: 4,
    batch: 2,
    lr: 1e-3,
    beta1: 0.5,
    beta2: 0.999,
    sampleEvery: 0,
    ckptEvery: 0,
    logEvery: 1,
    dataset: 'emoji-pairs',
  };

  it("pix2pix (U-Net with dropout from the run's stream, batch norm, lr decay): 2 + resume + 2 = 4 steps", async () => {
    const s = 32;
    const config = { imageSize: s, netG: 'unet_32', netD: 'patch16', ngf: 2, ndf: 2, lrHold: 2, lrDecay: 2 };
    const batches = [0, 1, 2, 3].map((i) =>
      tensor(packPairs(shapes(2, 3, s, s, 30 + i), shapes(2, 3, s, s, 40 + i), 2, 3, 3, s, s), [2, 6, s, s]).keep(),
    );
    const probe = tensor(shapes(2, 3, s, s, 99), [2, 3, s, s]).keep();
    const { straight, resumed } = await checkResume(
      'pix2pix',
      (seed) => new Pix2pixTrainer(pix2pixRecipe.parse(config), settings, seed),
      batches,
      config,
      settings,
      pix2pixRecipe.translate,
      probe,
    );
    // The dropout stream moved (the comparison covers it) and the two translate alike.
    const [a, b] = [pix2pixRecipe.translate(straight, probe), pix2pixRecipe.translate(resumed, probe)];
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    for (const t of [a, b, probe, ...batches]) t.dispose();
    straight.dispose();
    resumed.dispose();
  });

  it('cyclegan (image pools full and swapping after the resume): 2 + resume + 2 = 4 steps', async () => {
    const s = 16;
    const config = { imageSize: s, netG: 'resnet_3blocks', netD: 'patch16', ngf: 2, ndf: 2, poolSize: 2, lrHold: 2, lrDecay: 2 };
    const batches = [0, 1, 2, 3].map((i) =>
      tensor(packUnpaired(shapes(1, 3, s, s, 50 + i), 1, shapes(1, 3, s, s, 60 + i), 1, 3, s, s), [1, 6, s, s]).keep(),
    );
    const probe = tensor(shapes(2, 3, s, s, 98), [2, 3, s, s]).keep();
    const cs = { ...settings, steps: 4, batch: 1, dataset: 'emoji-unpaired' };
    const { straight, resumed } = await checkResume(
      'cyclegan',
      (seed) => new CycleGanTrainer(cycleganRecipe.parse(config), cs, seed),
      batches,
      config,
      cs,
      cycleganRecipe.translate,
      probe,
    );
    const r = resumed as CycleGanTrainer;
    expect([r.fakeAPool.size, r.fakeBPool.size]).toEqual([2, 2]);
    expect([...r.trainingState.pool_fake_B.stateDict().keys()]).toEqual(['images', 'stored', 'rng']);
    for (const t of [probe, ...batches]) t.dispose();
    straight.dispose();
    resumed.dispose();
  });
});

describe('scoring keeps nothing', () => {
  it('scoreTranslation frees its batches and the predictions', async () => {
    const pairs: HeldOutPairs = {
      inputs: shapes(2, 3, 11, 11, 1),
      targets: shapes(2, 3, 11, 11, 2),
      n: 2,
      inputShape: [3, 11, 11],
      targetShape: [3, 11, 11],
    };
    await scoreTranslation(pairs, null);
    const before = engine().memory().liveBuffers;
    await scoreTranslation(pairs, (x) => tidy(() => noGrad(() => affine(x, 0.5, 0))), 1);
    await scoreTranslation(pairs, null);
    expect(engine().memory().liveBuffers).toBe(before);
  });
});
