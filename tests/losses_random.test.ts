// Random numbers (Philox4x32-10 on the GPU, generator state), dropout, losses, softmax, the WGAN-GP
// penalty, the NaN guard and the initialisers. The registered ops of these files also run through
// the generic checker here (forward vs CPU float64, backward and double backward vs finite
// differences), so this file stands on its own.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/device.js';
import { tensor, tidy, beginScope, endScope, liveTensorCount, type Tensor } from '../engine/tensor.js';
import { backward, grad } from '../engine/tape.js';
import { mul, square, sum, tanh } from '../engine/ops/index.js';
import {
  Generator,
  defaultGenerator,
  manualSeed,
  rand,
  randn,
  bernoulli,
  randint,
  randperm,
  dropout,
  philox4x32,
  philoxWords,
} from '../engine/ops/random.js';
import { bceWithLogits, mse, l1, softmaxCrossEntropy, gaussianKl, hinge, gradientPenalty, assertFinite } from '../engine/ops/losses.js';
import { softmax, logSoftmax, oneHot } from '../engine/ops/softmax.js';
import {
  normal_,
  uniform_,
  zeros_,
  ones_,
  constant_,
  fillFrom,
  xavierUniform_,
  xavierNormal_,
  kaimingUniform_,
  kaimingNormal_,
  calculateFanInAndFanOut,
  calculateGain,
  dcganInit_,
} from '../engine/init.js';
import { bceWithLogitsCpu, gaussianKlCpu, softmaxCrossEntropyCpu } from '../engine/ops/cpu/losses.js';
import { softmaxCpu, logSoftmaxCpu } from '../engine/ops/cpu/activations.js';
import { opRegistry } from '../engine/ops/registry.js';
import { checkOpCase, caseLabel } from './support/opcheck.js';
import { casesOf } from './support/op_cases.js';

beforeAll(async () => {
  await initEngine();
});

// ---- an independent Philox4x32-10 in BigInt arithmetic (no 16-bit tricks) -------------------------------

const M32 = 0xffffffffn;
function philoxBig(ctr: number[], key: number[]): number[] {
  let c = ctr.map(BigInt);
  let k = key.map(BigInt);
  for (let r = 0; r < 10; r++) {
    const p0 = 0xd2511f53n * c[0];
    const p1 = 0xcd9e8d57n * c[2];
    c = [(p1 >> 32n) ^ c[1] ^ k[0], p1 & M32, (p0 >> 32n) ^ c[3] ^ k[1], p0 & M32];
    k = [(k[0] + 0x9e3779b9n) & M32, (k[1] + 0xbb67ae85n) & M32];
  }
  return c.map(Number);
}

const KAT: [number[], number[], number[]][] = [
  [
    [0, 0, 0, 0],
    [0, 0],
    [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
  ],
  [
    [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    [0xffffffff, 0xffffffff],
    [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
  ],
  [
    [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    [0xa4093822, 0x299f31d0],
    [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  ],
];

/** Raw Philox words from the GPU: randint over the full int32 range returns word - 2^31. */
async function gpuWords(n: number, gen: Generator): Promise<number[]> {
  const t = randint([n], -(2 ** 31), 2 ** 31, { generator: gen });
  const v = Array.from(await t.dataInt(), (x) => x + 2 ** 31);
  t.dispose();
  return v;
}

function stats(v: ArrayLike<number>) {
  let m = 0;
  for (let i = 0; i < v.length; i++) m += v[i];
  m /= v.length;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] - m) ** 2;
  return { mean: m, std: Math.sqrt(s / (v.length - 1)) };
}

/** Pearson chi-square of counts against expected probabilities. */
function chiSquare(counts: number[], probs: number[], n: number): number {
  return counts.reduce((acc, c, i) => acc + (c - n * probs[i]) ** 2 / (n * probs[i]), 0);
}

function normalCdf(x: number): number {
  // Abramowitz-Stegun 7.1.26 erf, accurate to 1.5e-7: plenty for binned probabilities.
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return 0.5 * (1 + Math.sign(x) * erf);
}

const close = (a: number, b: number, tol: number) => expect(Math.abs(a - b), `${a} vs ${b}`).toBeLessThanOrEqual(tol);

// ---- Philox ------------------------------------------------------------------------------------------------

describe('Philox4x32-10', () => {
  it('matches the published known-answer vectors (CPU mirror and BigInt reference)', () => {
    for (const [ctr, key, want] of KAT) {
      expect(philoxBig(ctr, key)).toEqual(want);
      expect(philox4x32(ctr, key)).toEqual(want);
    }
  });

  it('the CPU mirror (16-bit halves) agrees with BigInt on random counters and keys', () => {
    let s = 12345;
    const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) ^ (Math.imul(s, 2654435761) >>> 0);
    for (let i = 0; i < 500; i++) {
      const ctr = [next() >>> 0, next() >>> 0, next() >>> 0, next() >>> 0];
      const key = [next() >>> 0, next() >>> 0];
      expect(philox4x32(ctr, key)).toEqual(philoxBig(ctr, key));
    }
  });

  it('the GPU kernel produces the known words for key 0, counter 0', async () => {
    const words = await gpuWords(4, new Generator(0));
    expect(words).toEqual(KAT[0][2]);
  });

  it('the GPU kernel matches the reference across the 2^32 carry of the counter', async () => {
    const seed = 2 ** 40 + 777; // both key words non-zero
    const gen = new Generator(seed).setState({ seed, offset: 2 ** 32 - 3 });
    const n = 4 * 7 - 2; // a partial last block
    const words = await gpuWords(n, gen);
    const want: number[] = [];
    for (let i = 0; i < 7; i++) {
      const c = 2 ** 32 - 3 + i;
      want.push(...philoxBig([c % 2 ** 32, Math.floor(c / 2 ** 32), 0, 0], [seed % 2 ** 32, Math.floor(seed / 2 ** 32)]));
    }
    expect(words).toEqual(want.slice(0, n));
    expect(Array.from(philoxWords(n, seed, 2 ** 32 - 3))).toEqual(want.slice(0, n));
    expect(gen.offset).toBe(2 ** 32 - 3 + 7);
  });
});

// ---- generator semantics --------------------------------------------------------------------------------

describe('Generator', () => {
  it('same seed gives identical values, different seeds differ, and the offset advances by ceil(n/4)', async () => {
    const a = await rand([257], { generator: new Generator(7) }).data();
    const b = await rand([257], { generator: new Generator(7) }).data();
    const c = await rand([257], { generator: new Generator(8) }).data();
    expect(Array.from(a)).toEqual(Array.from(b));
    let same = 0;
    for (let i = 0; i < a.length; i++) if (a[i] === c[i]) same++;
    expect(same).toBeLessThan(5);
    const g = new Generator(7);
    rand([257], { generator: g });
    expect(g.getState()).toEqual({ seed: 7, offset: 65 });
  });

  it('consecutive draws continue the stream, and getState/setState replays it', async () => {
    const g = new Generator(3);
    const whole = await rand([16], { generator: new Generator(3) }).data();
    const p1 = await rand([8], { generator: g }).data();
    const st = g.getState();
    const p2 = await rand([8], { generator: g }).data();
    expect([...p1, ...p2]).toEqual(Array.from(whole));
    expect(Array.from(p1)).not.toEqual(Array.from(p2));
    g.setState(st);
    expect(Array.from(await rand([8], { generator: g }).data())).toEqual(Array.from(p2));
    const restored = new Generator().setState(JSON.parse(JSON.stringify(g.getState())));
    expect(Array.from(await randn([5], { generator: restored }).data())).toEqual(Array.from(await randn([5], { generator: g }).data()));
  });

  it('manualSeed re-keys the default generator', async () => {
    manualSeed(42);
    const a = await randn([9]).data();
    expect(defaultGenerator.getState()).toEqual({ seed: 42, offset: 3 });
    manualSeed(42);
    expect(Array.from(await randn([9]).data())).toEqual(Array.from(a));
    expect(() => manualSeed(-1)).toThrow(/integer/);
    expect(() => manualSeed(1.5)).toThrow(/integer/);
  });
});

// ---- distributions -----------------------------------------------------------------------------------------

describe('distributions (100k samples)', () => {
  const N = 100_000;

  it('rand is uniform on [0, 1)', async () => {
    const v = await rand([N], { generator: new Generator(11) }).data();
    const { mean, std } = stats(v);
    close(mean, 0.5, 5 * Math.sqrt(1 / 12 / N));
    close(std, Math.sqrt(1 / 12), 0.003);
    const counts = new Array(20).fill(0);
    for (const x of v) {
      expect(x >= 0 && x < 1).toBe(true);
      counts[Math.floor(x * 20)]++;
    }
    expect(chiSquare(counts, new Array(20).fill(1 / 20), N)).toBeLessThan(43.8); // df 19, p = 0.001
  });

  it('randn is standard normal, and mean/std options shift and scale it', async () => {
    const v = await randn([N], { generator: new Generator(12) }).data();
    const { mean, std } = stats(v);
    close(mean, 0, 5 / Math.sqrt(N));
    close(std, 1, 0.012);
    const edges = [-Infinity, -2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, Infinity];
    const counts = new Array(edges.length - 1).fill(0);
    for (const x of v) {
      expect(Number.isFinite(x)).toBe(true);
      let b = 0;
      while (x >= edges[b + 1]) b++;
      counts[b]++;
    }
    const probs = counts.map((_, i) => (i === counts.length - 1 ? 1 : normalCdf(edges[i + 1])) - (i === 0 ? 0 : normalCdf(edges[i])));
    expect(chiSquare(counts, probs, N)).toBeLessThan(31.3); // df 11, p = 0.001
    const w = stats(await randn([N], { generator: new Generator(13), mean: -3, std: 0.5 }).data());
    close(w.mean, -3, (5 * 0.5) / Math.sqrt(N));
    close(w.std, 0.5, 0.006);
  });

  it('bernoulli and randint', async () => {
    const b = await bernoulli([N], 0.3, { generator: new Generator(14) }).data();
    expect(b.every((x) => x === 0 || x === 1)).toBe(true);
    close(stats(b).mean, 0.3, 5 * Math.sqrt(0.21 / N));
    expect((await bernoulli([50], 0).data()).every((x) => x === 0)).toBe(true);
    expect((await bernoulli([50], 1).data()).every((x) => x === 1)).toBe(true);
    const r = randint([N], -3, 4, { generator: new Generator(15) });
    expect(r.dtype).toBe('int32');
    const iv = await r.dataInt();
    const counts = new Array(7).fill(0);
    for (const x of iv) {
      expect(x >= -3 && x < 4).toBe(true);
      counts[x + 3]++;
    }
    expect(chiSquare(counts, new Array(7).fill(1 / 7), N)).toBeLessThan(22.5); // df 6, p = 0.001
    expect(() => randint([2], 3, 3)).toThrow(/low < high/);
  });

  it('randperm is a deterministic permutation', () => {
    const p = randperm(1000, 5);
    expect([...p].sort((a, b) => a - b)).toEqual([...Array(1000).keys()]);
    expect(Array.from(randperm(1000, 5))).toEqual(Array.from(p));
    expect(Array.from(randperm(1000, 6))).not.toEqual(Array.from(p));
    const g = new Generator(5);
    expect(Array.from(randperm(1000, g))).toEqual(Array.from(p));
    expect(g.offset).toBe(250);
    expect(randperm(0, 1).length).toBe(0);
  });
});

// ---- dropout -------------------------------------------------------------------------------------------------

describe('dropout', () => {
  it('zeroes about p of the elements, scales the rest by 1/(1-p), and backward uses the same mask', async () => {
    const n = 20_000;
    const p = 0.25;
    const xs = Float32Array.from({ length: n }, (_, i) => 1 + (i % 7));
    const x = tensor(xs, [n]).requireGrad();
    const y = dropout(x, p, { generator: new Generator(21) });
    const yv = await y.data();
    let zeros = 0;
    for (let i = 0; i < n; i++) {
      if (yv[i] === 0) zeros++;
      else close(yv[i], xs[i] / (1 - p), 1e-5 * xs[i]);
    }
    close(zeros / n, p, 5 * Math.sqrt((p * (1 - p)) / n));
    const [g] = grad(sum(y), [x]);
    const gv = await g.data();
    for (let i = 0; i < n; i++) close(gv[i], yv[i] === 0 ? 0 : 1 / (1 - p), 1e-6);
  });

  it('is the identity in eval mode or with p = 0, and reproducible from the generator', async () => {
    const x = tensor([1, 2, 3, 4, 5], [5]);
    expect(dropout(x, 0.5, { training: false })).toBe(x);
    expect(dropout(x, 0)).toBe(x);
    expect(Array.from(await dropout(x, 1).data())).toEqual([0, 0, 0, 0, 0]);
    const a = await dropout(x, 0.5, { generator: new Generator(1) }).data();
    const b = await dropout(x, 0.5, { generator: new Generator(1) }).data();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(() => dropout(x, 1.5)).toThrow(/\[0, 1\]/);
  });
});

// ---- losses and softmax --------------------------------------------------------------------------------------

describe('losses', () => {
  it('bceWithLogits: constant labels, extreme logits, and the gradient sigmoid(x) - t at x = 0', async () => {
    const xs = [-100, -3, 0, 0.5, 100];
    const x = tensor(xs, [5, 1]).requireGrad();
    const host = { shape: [5, 1], data: Float64Array.from(xs) };
    for (const t of [0, 1, 0.9]) {
      const loss = bceWithLogits(x, t);
      const ref = bceWithLogitsCpu(host, { shape: [5, 1], data: new Float64Array(5).fill(t) }).data[0];
      close(await loss.item(), ref, 1e-5 * Math.max(1, ref));
      const [g] = grad(loss, [x]);
      const gv = await g.data();
      xs.forEach((v, i) => close(gv[i], (1 / (1 + Math.exp(-v)) - t) / 5, 1e-6));
    }
    expect(Array.from(await bceWithLogits(x, 1, { reduction: 'none' }).data()).every(Number.isFinite)).toBe(true);
    // A tensor target broadcast against the logits.
    const lt = bceWithLogits(x, tensor([0.2], [1]), { reduction: 'sum' });
    const refT = bceWithLogitsCpu(host, { shape: [5, 1], data: new Float64Array(5).fill(Math.fround(0.2)) }, 'sum').data[0];
    close(await lt.item(), refT, 1e-4 * refT);
  });

  it('mse, l1 and hinge reductions', async () => {
    const a = tensor([1, 2, 3, 4], [2, 2]);
    const b = tensor([0, 2, 5, 3], [2, 2]);
    close(await mse(a, b).item(), (1 + 0 + 4 + 1) / 4, 1e-6);
    close(await mse(a, b, { reduction: 'sum' }).item(), 6, 1e-6);
    close(await l1(a, b).item(), (1 + 0 + 2 + 1) / 4, 1e-6);
    expect(Array.from(await l1(a, b, { reduction: 'none' }).data())).toEqual([1, 0, 2, 1]);
    close(await hinge(tensor([0.1, 0.5, 2], [3]), 1).item(), (0.9 + 0.5 + 0) / 3, 1e-6);
    expect(() => mse(a, tensor([1, 2], [2]))).toThrow(/same shape/);
    expect(() => mse(a, b, { reduction: 'avg' as never })).toThrow(/unknown reduction/);
  });

  it('softmaxCrossEntropy: int labels equal one-hot targets; a bad label gives NaN', async () => {
    const logits = [0.1, 2, -1, 3, 0.5, 0.5, -2, 1, 0];
    const x = tensor(logits, [3, 3]);
    const labels = [1, 0, 2];
    const li = softmaxCrossEntropy(x, tensor(labels, [3], 'int32'), { reduction: 'none' });
    const oh = oneHot(tensor(labels, [3], 'int32'), 3);
    expect(Array.from(await oh.data())).toEqual([0, 1, 0, 1, 0, 0, 0, 0, 1]);
    const lf = softmaxCrossEntropy(x, oh, { reduction: 'none' });
    const ref = softmaxCrossEntropyCpu({ shape: [3, 3], data: Float64Array.from(logits) }, Int32Array.from(labels), 'none');
    const [vi, vf] = [await li.data(), await lf.data()];
    for (let i = 0; i < 3; i++) {
      close(vi[i], ref.data[i], 1e-5);
      close(vf[i], ref.data[i], 1e-5);
    }
    const bad = softmaxCrossEntropy(x, tensor([1, 3, 0], [3], 'int32'), { reduction: 'none' });
    const bv = await bad.data();
    expect(Number.isNaN(bv[1]) && Number.isFinite(bv[0]) && Number.isFinite(bv[2])).toBe(true);
    await expect(assertFinite(softmaxCrossEntropy(x, tensor([1, 3, 0], [3], 'int32')), 'loss_C', { step: 3 })).rejects.toThrow(
      /loss_C became NaN at step 3/,
    );
  });

  it('softmax / logSoftmax match the CPU references and stay finite for huge logits', async () => {
    const xs = Float64Array.from({ length: 2 * 70 }, (_, i) => Math.sin(i) * 4);
    const x = tensor(Float32Array.from(xs), [2, 70]);
    const host = { shape: [2, 70], data: Float64Array.from(Float32Array.from(xs)) };
    const [s, ls] = [await softmax(x).data(), await logSoftmax(x).data()];
    const [rs, rls] = [softmaxCpu(host).data, logSoftmaxCpu(host).data];
    for (let i = 0; i < xs.length; i++) {
      close(s[i], rs[i], 1e-6);
      close(ls[i], rls[i], 1e-5);
    }
    const big = await logSoftmax(tensor([1000, 0, -1000], [1, 3])).data();
    expect(Array.from(big).map((v) => Math.round(v))).toEqual([0, -1000, -2000]);
    const sm = await softmax(tensor([1000, 1000, -1e30], [3, 1]), 0).data();
    expect(Array.from(sm)).toEqual([0.5, 0.5, 0]);
  });

  it('gaussianKl reductions (batchmean matches gaussianKlCpu)', async () => {
    const mu = [0.5, -1, 0.2, 0, 1.5, -0.3];
    const lv = [0.1, -0.5, 0.3, 0, -1, 0.7];
    const [m, l] = [tensor(mu, [2, 3]), tensor(lv, [2, 3])];
    const ref = gaussianKlCpu(
      { shape: [2, 3], data: Float64Array.from(Float32Array.from(mu)) },
      { shape: [2, 3], data: Float64Array.from(Float32Array.from(lv)) },
    ).data[0];
    close(await gaussianKl(m, l).item(), ref, 1e-5);
    close(await gaussianKl(m, l, { reduction: 'sum' }).item(), 2 * ref, 2e-5);
    close(await gaussianKl(m, l, { reduction: 'mean' }).item(), ref / 3, 1e-5);
    const per = await gaussianKl(m, l, { reduction: 'none' }).data();
    close(per[0] + per[1], 2 * ref, 2e-5);
  });
});

// ---- WGAN-GP --------------------------------------------------------------------------------------------------

describe('gradientPenalty', () => {
  it('a linear critic gives exactly lambda (||w|| - 1)^2, with the right gradient w.r.t. w', async () => {
    const wv = [0.3, -1.2, 0.8, 0.5, 0.1, -0.4];
    const w = tensor(wv, [1, 6]).requireGrad();
    const real = randn([5, 6], { generator: new Generator(1) });
    const fake = randn([5, 6], { generator: new Generator(2) });
    const gp = gradientPenalty((x) => sum(mul(x, w), -1), real, fake, { lambda: 10, generator: new Generator(3) });
    const norm = Math.hypot(...wv.map(Math.fround));
    close(await gp.item(), 10 * (norm - 1) ** 2, 1e-5 * 10);
    const [g] = grad(gp, [w]);
    const gv = await g.data();
    wv.forEach((v, i) => close(gv[i], (10 * 2 * (norm - 1) * Math.fround(v)) / norm, 1e-4));
  });

  it('a nonlinear critic: the gradient w.r.t. the critic parameters matches finite differences', async () => {
    const D = 4;
    const N = 3;
    const wv = [0.4, -0.7, 0.25, 0.9];
    const real = randn([N, D], { generator: new Generator(4) });
    const fake = randn([N, D], { generator: new Generator(5) });
    const critic = (w: Tensor) => (x: Tensor) => tanh(sum(mul(square(x), w), -1));
    const penalty = (w: Tensor) => gradientPenalty(critic(w), real, fake, { lambda: 10, generator: new Generator(6) });
    const w = tensor(wv, [D]).requireGrad();
    const [g] = grad(penalty(w), [w]);
    const gv = await g.data();
    // Central differences of the penalty itself, evaluated on the GPU in float32.
    const h = 1e-2;
    for (let j = 0; j < D; j++) {
      const at = async (d: number) =>
        penalty(
          tensor(
            wv.map((v, k) => (k === j ? v + d : v)),
            [D],
          ).requireGrad(),
        ).item();
      const fd = ((await at(h)) - (await at(-h))) / (2 * h);
      close(gv[j], fd, 2e-2 * Math.max(1, Math.abs(fd)));
    }
  });

  it('backward() accumulates the penalty into the critic parameters and tidy releases the graph', async () => {
    const w = tensor([0.5, 0.5, 0.5], [3]).requireGrad().keep();
    const real = tensor([1, 2, 3, 4, 5, 6], [2, 3]).keep();
    const fake = tensor([0, 1, 0, 1, 0, 1], [2, 3]).keep();
    const before = liveTensorCount();
    tidy(() => {
      const gp = gradientPenalty((x) => tanh(sum(mul(square(x), w), -1)), real, fake);
      backward(gp);
    });
    expect(w.grad).not.toBeNull();
    expect((await w.grad!.data()).every(Number.isFinite)).toBe(true);
    expect(liveTensorCount()).toBe(before + 1); // only w.grad survives
    for (const t of [w, real, fake]) t.dispose();
  });
});

describe('assertFinite', () => {
  it('returns the value when finite and names the loss and step otherwise', async () => {
    expect(await assertFinite(tensor([1.5], [1]), 'loss_G')).toBe(1.5);
    await expect(assertFinite(tensor([NaN], [1]), 'loss_D', { step: 120 })).rejects.toThrow(/^loss_D became NaN at step 120: /);
    await expect(assertFinite(tensor([1, -Infinity], [2]), 'grad_norm')).rejects.toThrow(
      /grad_norm became -Infinity \(element 1 of \[2\]\)/,
    );
  });
});

// ---- initialisers ----------------------------------------------------------------------------------------------

describe('init', () => {
  it('fans and gains follow PyTorch', () => {
    expect(calculateFanInAndFanOut([64, 3, 4, 4])).toEqual({ fanIn: 48, fanOut: 1024 });
    expect(calculateFanInAndFanOut([10, 5])).toEqual({ fanIn: 5, fanOut: 10 });
    expect(() => calculateFanInAndFanOut([7])).toThrow(/at least 2 dims/);
    expect(calculateGain('relu')).toBeCloseTo(Math.SQRT2);
    expect(calculateGain('tanh')).toBeCloseTo(5 / 3);
    expect(calculateGain('leaky_relu', 0.2)).toBeCloseTo(Math.sqrt(2 / 1.04));
    expect(calculateGain('leaky_relu')).toBeCloseTo(Math.sqrt(2 / 1.0001));
    expect(calculateGain('conv2d')).toBe(1);
    expect(calculateGain('selu')).toBe(0.75);
  });

  it('writes into the existing buffer, and the random ones have the right statistics', async () => {
    const t = tensor(new Float32Array(40_000), [100, 400]);
    const buf = t.buffer;
    expect(normal_(t, 2, 0.5, new Generator(9))).toBe(t);
    expect(t.buffer).toBe(buf);
    let s = stats(await t.data());
    close(s.mean, 2, 0.02);
    close(s.std, 0.5, 0.01);
    uniform_(t, -3, -1);
    const v = await t.data();
    expect(v.every((x) => x >= -3 && x <= -1)).toBe(true);
    close(stats(v).mean, -2, 0.02);
    const bx = Math.sqrt(6 / 500);
    xavierUniform_(t);
    expect((await t.data()).every((x) => Math.abs(x) <= bx)).toBe(true);
    close(stats(await t.data()).std, bx / Math.sqrt(3), 0.01 * bx);
    xavierNormal_(t, 2);
    close(stats(await t.data()).std, 2 * Math.sqrt(2 / 500), 0.01);
    kaimingNormal_(t, { mode: 'fan_out', nonlinearity: 'relu' });
    close(stats(await t.data()).std, Math.SQRT2 / Math.sqrt(100), 0.003);
    kaimingUniform_(t, { a: Math.sqrt(5) }); // nn.Linear's default init: bound 1/sqrt(fan_in)
    s = stats(await t.data());
    expect((await t.data()).every((x) => Math.abs(x) <= 1 / Math.sqrt(400) + 1e-7)).toBe(true);
    close(s.std, 1 / Math.sqrt(400) / Math.sqrt(3), 0.001);
    constant_(t, 0.75);
    expect((await t.data()).every((x) => x === 0.75)).toBe(true);
    zeros_(t);
    expect((await t.data()).every((x) => x === 0)).toBe(true);
    ones_(t);
    expect((await t.data()).every((x) => x === 1)).toBe(true);
    expect(t.buffer).toBe(buf);
    fillFrom(t, randn([100, 400], { generator: new Generator(1) }));
    expect(Array.from(await t.data())).toEqual(Array.from(await randn([100, 400], { generator: new Generator(1) }).data()));
    expect(t.buffer).toBe(buf);
    expect(() => fillFrom(t, tensor([1], [1]))).toThrow(/does not match/);
    expect(() => normal_(tensor([1], [1], 'int32'))).toThrow(/float32/);
  });

  it('dcganInit_: conv/linear N(0, 0.02), batch-norm weight N(1, 0.02), biases 0', async () => {
    class Conv2d {
      weight = tensor(new Float32Array(64 * 32 * 4 * 4).fill(9), [64, 32, 4, 4]);
      bias = tensor(new Float32Array(64).fill(9), [64]);
    }
    class BatchNorm2d {
      weight = tensor(new Float32Array(20_000).fill(9), [20_000]);
      bias = tensor(new Float32Array(20_000).fill(9), [20_000]);
    }
    class Tanh {}
    const conv = new Conv2d();
    const bn = new BatchNorm2d();
    const lin = { kind: 'Linear', weight: tensor(new Float32Array(100).fill(9), [10, 10]), bias: null };
    expect(dcganInit_([conv, bn, new Tanh(), lin], new Generator(2))).toBe(3);
    const cw = stats(await conv.weight.data());
    close(cw.mean, 0, 0.001);
    close(cw.std, 0.02, 0.0005);
    expect((await conv.bias.data()).every((x) => x === 0)).toBe(true);
    const bw = stats(await bn.weight.data());
    close(bw.mean, 1, 0.001);
    close(bw.std, 0.02, 0.0005);
    expect((await bn.bias.data()).every((x) => x === 0)).toBe(true);
    expect((await lin.weight.data()).every((x) => Math.abs(x) < 0.2)).toBe(true);
  });
});

// ---- the generic checker on this file's ops ---------------------------------------------------------------------

const MY_OPS = new Set([
  'rand',
  'randn',
  'bernoulli',
  'dropout',
  'softmax',
  'log_softmax',
  'bce_with_logits',
  'bce_with_logits_const',
  'mse',
  'l1',
  'softmax_cross_entropy',
  'softmax_cross_entropy_index',
  'gaussian_kl',
  'hinge',
  'gradient_penalty',
]);

describe('op checker (forward, backward, double backward)', () => {
  it('registers every op', () => {
    const names = new Set(opRegistry.map((s) => s.name));
    for (const n of MY_OPS) expect(names.has(n), n).toBe(true);
  });
  for (const spec of opRegistry.filter((s) => MY_OPS.has(s.name))) {
    for (const c of casesOf(spec.name)) {
      it(`${spec.name} ${caseLabel(c)}`, async () => {
        beginScope();
        try {
          const rs = await checkOpCase(spec, c);
          const bad = rs.filter((r) => !r.ok);
          expect(bad.map((r) => `${r.stage} ${r.message ?? ''} err=${r.err.toExponential(2)} tol=${r.tol}`)).toEqual([]);
        } finally {
          endScope();
        }
      });
    }
  }
});
