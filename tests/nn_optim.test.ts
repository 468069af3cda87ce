// Modules, optimisers and checkpoints: PyTorch state_dict names and parameter counts, default
// init ranges, state_dict round trips through safetensors bytes, load errors, each optimiser
// against a float64 CPU implementation of the same update, checkFinite, schedulers, an exact
// resume from a checkpoint, and a flat live-buffer count over a training loop.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine, engine, tensor, tidy, backward, manualSeed, Generator, type Tensor } from '../engine/index.js';
import { mean } from '../engine/ops/reduce.js';
import { square } from '../engine/ops/elementwise.js';
import { randn } from '../engine/ops/random.js';
import { Module, Parameter, Sequential, ModuleList } from '../engine/nn/module.js';
import {
  Conv2d,
  ConvTranspose2d,
  BatchNorm2d,
  BatchNorm1d,
  InstanceNorm2d,
  LeakyReLU,
  ReLU,
  Tanh,
  Flatten,
  Linear,
  Dropout,
  ReflectionPad2d,
  Upsample,
  AvgPool2d,
  Identity,
} from '../engine/nn/layers.js';
import { Adam, AdamW, SGD, RMSprop, LinearDecay, StepLR, type Optimizer } from '../engine/optim.js';
import { checkpointToBytes, restoreCheckpoint, checkpointInfo, modelToBytes, loadModelBytes } from '../engine/checkpoint.js';
import { decodeSafetensors } from '../engine/io/safetensors.js';
import { saveCheckpoint, loadCheckpoint, saveModel, loadModel } from '../engine/checkpoint_node.js';

import { hostRandom } from './support/util.js';

beforeAll(async () => {
  await initEngine();
});

const expectClose = (got: ArrayLike<number>, want: ArrayLike<number>, what: string, rel = 1e-5, abs = 1e-6) => {
  expect(got.length, what).toBe(want.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i] - want[i]) - rel * Math.abs(want[i]);
    if (!(err <= worst)) {
      worst = Number.isNaN(err) ? Infinity : err;
      at = i;
    }
  }
  expect(worst <= abs, `${what}: element ${at} is ${got[at]}, want ${want[at]}`).toBe(true);
};

const expectSame = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) expect(`${what}[${i}] = ${a[i]}`).toBe(`${what}[${i}] = ${b[i]}`);
};

/** Every state_dict value of a module, read back (int buffers as numbers). */
async function snapshot(m: Module): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const [k, t] of m.stateDict()) out.set(k, Array.from(t.dtype === 'int32' ? await t.dataInt() : await t.data()));
  return out;
}

// ---- module structure -----------------------------------------------------------------------------

/** Conv -> BN -> LeakyReLU -> ConvT -> IN(affine) -> Tanh -> Flatten -> Linear, on [N, 3, 5, 5]. */
function smallNet(): Sequential {
  return new Sequential(
    new Conv2d(3, 8, 3, { padding: 1 }),
    new BatchNorm2d(8),
    new LeakyReLU(0.2),
    new ConvTranspose2d(8, 4, 4, { stride: 2, padding: 1, bias: false }),
    new InstanceNorm2d(4, { affine: true }),
    new Tanh(),
    new Flatten(),
    new Linear(4 * 10 * 10, 3),
  );
}

class Wrapper extends Module {
  main: Sequential;
  head: Linear;
  blocks: ModuleList;
  scale: Tensor;
  constructor() {
    super();
    this.main = new Sequential(new Conv2d(2, 3, 1), new BatchNorm2d(3), new ReLU());
    this.head = new Linear(3, 2, { bias: false });
    this.blocks = new ModuleList([new Identity(), new InstanceNorm2d(3, { trackRunningStats: true })]);
    this.scale = Parameter(tensor([1, 2], [2]));
  }
}

describe('nn modules', () => {
  it('names parameters and buffers as PyTorch does, with the same counts and shapes', () => {
    const net = smallNet();
    // Written by hand from PyTorch's rules: own parameters, then own buffers, then children '0', '1', ...
    const expected: [string, number[]][] = [
      ['0.weight', [8, 3, 3, 3]],
      ['0.bias', [8]],
      ['1.weight', [8]],
      ['1.bias', [8]],
      ['1.running_mean', [8]],
      ['1.running_var', [8]],
      ['1.num_batches_tracked', []],
      ['3.weight', [8, 4, 4, 4]],
      ['4.weight', [4]],
      ['4.bias', [4]],
      ['7.weight', [3, 400]],
      ['7.bias', [3]],
    ];
    expect([...net.stateDict()].map(([k, t]) => [k, [...t.shape]])).toEqual(expected);
    expect(net.namedParameters().map(([k]) => k)).toEqual([
      '0.weight',
      '0.bias',
      '1.weight',
      '1.bias',
      '3.weight',
      '4.weight',
      '4.bias',
      '7.weight',
      '7.bias',
    ]);
    expect(net.namedBuffers().map(([k]) => k)).toEqual(['1.running_mean', '1.running_var', '1.num_batches_tracked']);
    expect(net.numParameters()).toBe(216 + 8 + 8 + 8 + 512 + 4 + 4 + 1200 + 3);
    expect(net.stateDict().get('1.num_batches_tracked')!.dtype).toBe('int32');

    const w = new Wrapper();
    expect([...w.stateDict().keys()]).toEqual([
      'scale',
      'main.0.weight',
      'main.0.bias',
      'main.1.weight',
      'main.1.bias',
      'main.1.running_mean',
      'main.1.running_var',
      'main.1.num_batches_tracked',
      'head.weight',
      'blocks.1.running_mean',
      'blocks.1.running_var',
      'blocks.1.num_batches_tracked',
    ]);
    expect(w.namedModules().map(([k]) => k)).toEqual(['', 'main', 'main.0', 'main.1', 'main.2', 'head', 'blocks', 'blocks.0', 'blocks.1']);
    net.dispose();
    w.dispose();
  });

  it('prints the tree like PyTorch, with parameter counts', () => {
    const net = smallNet();
    const text = net.describe();
    expect(text.split('\n')).toEqual([
      'Sequential(  # 1,963 params',
      '  (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))  # 224 params',
      '  (1): BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)  # 16 params',
      '  (2): LeakyReLU(negative_slope=0.2)',
      '  (3): ConvTranspose2d(8, 4, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), bias=False)  # 512 params',
      '  (4): InstanceNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=False)  # 8 params',
      '  (5): Tanh()',
      '  (6): Flatten(start_dim=1, end_dim=-1)',
      '  (7): Linear(in_features=400, out_features=3, bias=True)  # 1,203 params',
      ')',
    ]);
    expect(String(new ReflectionPad2d([1, 2, 3, 4]))).toBe('ReflectionPad2d((3, 4, 1, 2))');
    expect(String(new Upsample({ scaleFactor: 2 }))).toBe("Upsample(scale_factor=2.0, mode='nearest')");
    expect(String(new AvgPool2d(2))).toBe('AvgPool2d(kernel_size=2, stride=2, padding=0)');
    net.dispose();
  });

  it('initialises like PyTorch: weights and biases within +-1/sqrt(fan_in), BN weight 1 and bias 0', async () => {
    manualSeed(3);
    const net = smallNet();
    const sd = net.stateDict();
    const within = async (key: string, bound: number) => {
      const v = await sd.get(key)!.data();
      const max = v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expect(max, key).toBeLessThanOrEqual(bound);
      expect(max, key).toBeGreaterThan(0.5 * bound); // really spread over the range
    };
    await within('0.weight', 1 / Math.sqrt(27));
    await within('0.bias', 1 / Math.sqrt(27));
    await within('3.weight', 1 / Math.sqrt(4 * 16)); // fan_in of a transposed conv is out * kh * kw
    await within('7.weight', 1 / Math.sqrt(400));
    expect(Array.from(await sd.get('1.weight')!.data())).toEqual(new Array(8).fill(1));
    expect(Array.from(await sd.get('1.bias')!.data())).toEqual(new Array(8).fill(0));
    expect(Array.from(await sd.get('1.running_var')!.data())).toEqual(new Array(8).fill(1));
    net.dispose();
  });

  it('train()/eval() reach every descendant; BN counts training batches on the GPU', async () => {
    const net = smallNet();
    expect(net.modules().every((m) => m.training)).toBe(true);
    net.eval();
    expect(net.modules().some((m) => m.training)).toBe(false);
    net.train();
    const x = tensor(hostRandom(2 * 3 * 5 * 5, 9), [2, 3, 5, 5]);
    tidy(() => void net.call(x));
    tidy(() => void net.call(x));
    net.eval();
    tidy(() => void net.call(x));
    expect(Array.from(await net.stateDict().get('1.num_batches_tracked')!.dataInt())).toEqual([2]);
    const rm = await net.stateDict().get('1.running_mean')!.data();
    expect(rm.some((v) => v !== 0)).toBe(true);
    x.dispose();
    net.dispose();
  });

  it('round-trips a state_dict through safetensors bytes: identical outputs, I64 counters', async () => {
    manualSeed(11);
    const a = smallNet();
    const x = tensor(hostRandom(2 * 3 * 5 * 5, 5), [2, 3, 5, 5]);
    for (let i = 0; i < 3; i++) tidy(() => void a.call(x)); // move the running statistics
    a.eval();
    const bytes = await modelToBytes(a);
    const file = decodeSafetensors(bytes);
    expect(Object.keys(file.tensors).sort()).toEqual([...a.stateDict().keys()].sort());
    expect(file.tensors['1.num_batches_tracked'].dtype).toBe('I64');
    expect(file.tensors['1.num_batches_tracked'].shape).toEqual([]);
    expect(Array.from(file.tensors['1.num_batches_tracked'].data as BigInt64Array)).toEqual([3n]);
    expect(file.tensors['0.weight'].dtype).toBe('F32');
    expect(file.metadata.format).toBe('pt');

    const b = smallNet(); // a different initialisation
    b.eval();
    const ya = await tidy(() => a.call(x)).data();
    const before = await tidy(() => b.call(x)).data();
    expect(Array.from(before)).not.toEqual(Array.from(ya));
    const res = loadModelBytes(bytes, b);
    expect(res).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const yb = await tidy(() => b.call(x)).data();
    expectSame(yb, ya, 'output after load');
    expect(await snapshot(b)).toEqual(await snapshot(a));

    // A live state dict loads too (GPU copies).
    const c = smallNet();
    c.loadStateDict(a.stateDict());
    c.eval();
    expectSame(await tidy(() => c.call(x)).data(), ya, 'output after GPU load');
    for (const m of [a, b, c]) m.dispose();
    x.dispose();
  });

  it('reports missing, unexpected and mis-shaped keys clearly, and a failed load changes nothing', async () => {
    const net = smallNet();
    const before = await snapshot(net);
    const other = new Sequential(new Conv2d(3, 8, 5), new BatchNorm2d(8));
    const sd = other.stateDict();
    let msg = '';
    try {
      net.loadStateDict(sd);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain('Error(s) in loading state_dict for Sequential');
    expect(msg).toContain('Missing key(s) in state_dict: "3.weight", "4.weight", "4.bias", "7.weight", "7.bias".');
    expect(msg).toContain(
      'size mismatch for 0.weight: copying a tensor with shape [8, 3, 5, 5] from the state dict, the shape in the current model is [8, 3, 3, 3]',
    );
    expect(await snapshot(net)).toEqual(before);

    const extra = new Map(net.stateDict());
    extra.set('9.weight', tensor([1], [1]));
    expect(() => net.loadStateDict(extra)).toThrow(/Unexpected key\(s\) in state_dict: "9.weight"/);
    expect(net.loadStateDict(extra, { strict: false })).toEqual({ missingKeys: [], unexpectedKeys: ['9.weight'] });
    extra.get('9.weight')!.dispose();

    // num_batches_tracked may be absent (PyTorch tolerates it for state dicts without version info).
    const noCounter = new Map(net.stateDict());
    noCounter.delete('1.num_batches_tracked');
    expect(net.loadStateDict(noCounter)).toEqual({ missingKeys: [], unexpectedKeys: [] });

    // A plain array of modules is an error, not a silent omission.
    class Bad extends Module {
      layers = [new ReLU()];
    }
    expect(() => new Bad().namedParameters()).toThrow(/ModuleList/);
    net.dispose();
    other.dispose();
  });

  it('InstanceNorm2d with running statistics: batch-averaged instance stats (unbiased) while training, used in eval', async () => {
    const [n, c, h, w] = [3, 2, 3, 4];
    const xs = hostRandom(n * c * h * w, 77, 2);
    const x = tensor(xs, [n, c, h, w]);
    const norm = new InstanceNorm2d(c, { trackRunningStats: true, momentum: 0.2 });
    tidy(() => void norm.call(x));
    const rm = new Float64Array(c);
    const rv = new Float64Array(c);
    for (let ch = 0; ch < c; ch++) {
      for (let b = 0; b < n; b++) {
        const plane = Array.from(xs.subarray((b * c + ch) * h * w, (b * c + ch + 1) * h * w));
        const mu = plane.reduce((a, v) => a + v, 0) / plane.length;
        rm[ch] += (0.2 * mu) / n;
        rv[ch] += (0.2 * plane.reduce((a, v) => a + (v - mu) ** 2, 0)) / (plane.length - 1) / n;
      }
      rv[ch] += 0.8;
    }
    expectClose(await norm.runningMean!.data(), rm, 'running_mean');
    expectClose(await norm.runningVar!.data(), rv, 'running_var');
    norm.eval();
    const y = await tidy(() => norm.call(x)).data();
    const want = Array.from(xs, (v, i) => {
      const ch = Math.floor(i / (h * w)) % c;
      return (v - rm[ch]) / Math.sqrt(rv[ch] + 1e-5);
    });
    expectClose(y, want, 'eval output', 1e-4, 1e-5);
    x.dispose();
    norm.dispose();
  });

  it('runs the remaining layers forward (shapes), BatchNorm1d and tracked InstanceNorm', async () => {
    const x = tensor(hostRandom(2 * 3 * 6 * 6, 2), [2, 3, 6, 6]);
    const net = new Sequential(
      new ReflectionPad2d(1),
      new Conv2d(3, 4, 3, { paddingMode: 'replicate', padding: 1 }),
      new Upsample({ scaleFactor: 2 }),
      new AvgPool2d(2),
      new Upsample({ size: 12, mode: 'bilinear' }),
      new Dropout(0.5),
      new InstanceNorm2d(4, { trackRunningStats: true }),
    );
    const y = tidy(() => net.call(x));
    expect([...y.shape]).toEqual([2, 4, 12, 12]);
    expect(Array.from(await net.stateDict().get('6.running_mean')!.data()).some((v) => v !== 0)).toBe(true);
    net.eval();
    const z = tidy(() => net.call(x));
    expect([...z.shape]).toEqual([2, 4, 12, 12]);
    const bn = new BatchNorm1d(3);
    const v = tensor(hostRandom(4 * 3, 4), [4, 3]);
    const w = tidy(() => bn.call(v));
    const d = await w.data();
    for (let c = 0; c < 3; c++) expect(Math.abs(d[c] + d[3 + c] + d[6 + c] + d[9 + c])).toBeLessThan(1e-5); // zero mean per channel
    for (const t of [x, y, z, v, w]) t.dispose();
    net.dispose();
    bn.dispose();
  });
});

// ---- optimisers vs float64 references -------------------------------------------------------------

interface RefState {
  p: Float64Array;
  step: number;
  buf: Record<string, Float64Array>;
}

type RefUpdate = (s: RefState, g: Float64Array) => void;

function adamRef(o: { lr: number; b1: number; b2: number; eps: number; wd: number; decoupled: boolean }): RefUpdate {
  return (s, g) => {
    s.step++;
    const m = (s.buf.m ??= new Float64Array(s.p.length));
    const v = (s.buf.v ??= new Float64Array(s.p.length));
    const t = s.step;
    for (let i = 0; i < s.p.length; i++) {
      let gi = g[i];
      if (o.wd && o.decoupled) s.p[i] *= 1 - o.lr * o.wd;
      else if (o.wd) gi += o.wd * s.p[i];
      m[i] += (1 - o.b1) * (gi - m[i]);
      v[i] = o.b2 * v[i] + (1 - o.b2) * gi * gi;
      s.p[i] -= ((o.lr / (1 - o.b1 ** t)) * m[i]) / (Math.sqrt(v[i]) / Math.sqrt(1 - o.b2 ** t) + o.eps);
    }
  };
}

function sgdRef(o: { lr: number; momentum: number; dampening: number; wd: number; nesterov: boolean }): RefUpdate {
  return (s, g) => {
    s.step++;
    const first = !s.buf.b;
    const b = (s.buf.b ??= new Float64Array(s.p.length));
    for (let i = 0; i < s.p.length; i++) {
      let d = g[i] + o.wd * s.p[i];
      if (o.momentum > 0) {
        b[i] = first ? d : o.momentum * b[i] + (1 - o.dampening) * d;
        d = o.nesterov ? d + o.momentum * b[i] : b[i];
      }
      s.p[i] -= o.lr * d;
    }
  };
}

function rmspropRef(o: { lr: number; alpha: number; eps: number; wd: number; momentum: number; centered: boolean }): RefUpdate {
  return (s, g) => {
    s.step++;
    const sq = (s.buf.sq ??= new Float64Array(s.p.length));
    const ga = (s.buf.ga ??= new Float64Array(s.p.length));
    const b = (s.buf.b ??= new Float64Array(s.p.length));
    for (let i = 0; i < s.p.length; i++) {
      const gi = g[i] + o.wd * s.p[i];
      sq[i] = o.alpha * sq[i] + (1 - o.alpha) * gi * gi;
      let avg: number;
      if (o.centered) {
        ga[i] += (1 - o.alpha) * (gi - ga[i]);
        avg = Math.sqrt(sq[i] - ga[i] * ga[i]) + o.eps;
      } else avg = Math.sqrt(sq[i]) + o.eps;
      if (o.momentum > 0) {
        b[i] = o.momentum * b[i] + gi / avg;
        s.p[i] -= o.lr * b[i];
      } else s.p[i] -= (o.lr * gi) / avg;
    }
  };
}

const SHAPES = [[3, 5], [7], [1030]];

/** Runs `steps` steps of `make(params)` against `ref` with random grads (param 1 has no grad at step 2). */
async function compareOptimizer(label: string, make: (ps: Tensor[]) => Optimizer, ref: RefUpdate, steps = 4) {
  const params = SHAPES.map((s, i) =>
    Parameter(
      tensor(
        hostRandom(
          s.reduce((a, b) => a * b, 1),
          100 + i,
        ),
        s,
      ),
    ),
  );
  const refs: RefState[] = params.map((p, i) => ({ p: Float64Array.from(hostRandom(p.size, 100 + i)), step: 0, buf: {} }));
  const opt = make(params);
  for (let step = 1; step <= steps; step++) {
    params.forEach((p, i) => {
      p.grad?.dispose();
      p.grad = null;
      if (step === 2 && i === 1) return;
      const g = hostRandom(p.size, 1000 * step + i, 0.5 + i);
      p.grad = tensor(g, p.shape).keep();
      ref(refs[i], Float64Array.from(g));
    });
    opt.step();
    for (let i = 0; i < params.length; i++) {
      expectClose(await params[i].data(), refs[i].p, `${label}: param ${i} after step ${step}`);
    }
  }
  expect(opt.stepCount(0)).toBe(steps);
  expect(opt.stepCount(1)).toBe(steps - 1);
  opt.dispose();
  for (const p of params) p.dispose();
}

describe('optimisers', () => {
  it('Adam (GAN defaults, L2 weight decay) and AdamW match float64 references, bias correction included', async () => {
    await compareOptimizer(
      'Adam',
      (ps) => new Adam(ps, { lr: 1e-2 }),
      adamRef({ lr: 1e-2, b1: 0.5, b2: 0.999, eps: 1e-8, wd: 0, decoupled: false }),
    );
    await compareOptimizer(
      'Adam wd',
      (ps) => new Adam(ps, { lr: 3e-2, betas: [0.9, 0.99], eps: 1e-6, weightDecay: 0.1 }),
      adamRef({ lr: 3e-2, b1: 0.9, b2: 0.99, eps: 1e-6, wd: 0.1, decoupled: false }),
    );
    await compareOptimizer(
      'AdamW',
      (ps) => new AdamW(ps, { lr: 3e-2, weightDecay: 0.2 }),
      adamRef({ lr: 3e-2, b1: 0.5, b2: 0.999, eps: 1e-8, wd: 0.2, decoupled: true }),
    );
  });

  it('SGD (plain, momentum with dampening and weight decay, Nesterov) matches float64 references', async () => {
    await compareOptimizer('SGD', (ps) => new SGD(ps, { lr: 0.1 }), sgdRef({ lr: 0.1, momentum: 0, dampening: 0, wd: 0, nesterov: false }));
    await compareOptimizer(
      'SGD momentum',
      (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }),
      sgdRef({ lr: 0.05, momentum: 0.9, dampening: 0.1, wd: 0.01, nesterov: false }),
    );
    await compareOptimizer(
      'SGD nesterov',
      (ps) => new SGD(ps, { lr: 0.05, momentum: 0.8, nesterov: true }),
      sgdRef({ lr: 0.05, momentum: 0.8, dampening: 0, wd: 0, nesterov: true }),
    );
  });

  it('RMSprop (plain; centered with momentum and weight decay) matches float64 references', async () => {
    await compareOptimizer(
      'RMSprop',
      (ps) => new RMSprop(ps, { lr: 1e-2 }),
      rmspropRef({ lr: 1e-2, alpha: 0.99, eps: 1e-8, wd: 0, momentum: 0, centered: false }),
    );
    await compareOptimizer(
      'RMSprop centered',
      (ps) => new RMSprop(ps, { lr: 5e-3, alpha: 0.9, momentum: 0.5, centered: true, weightDecay: 0.05 }),
      rmspropRef({ lr: 5e-3, alpha: 0.9, eps: 1e-8, wd: 0.05, momentum: 0.5, centered: true }),
    );
  });

  it('checkFinite: a NaN/Inf gradient fails the step and leaves parameters, state and step counts as they were', async () => {
    const a = Parameter(tensor(hostRandom(6, 1), [2, 3]));
    const b = Parameter(tensor(hostRandom(300, 2), [300]));
    const opt = new Adam(
      [
        ['a', a],
        ['b', b],
      ],
      { lr: 0.1, checkFinite: true },
    );
    a.grad = tensor(hostRandom(6, 3), [2, 3]).keep();
    b.grad = tensor(hostRandom(300, 4), [300]).keep();
    await opt.step();
    const pa = await a.data();
    const pb = await b.data();
    const m = await opt.stateOf(1, 'm')!.data();
    const bad = hostRandom(300, 5);
    bad[7] = NaN;
    bad[290] = Infinity;
    b.grad.dispose();
    b.grad = tensor(bad, [300]).keep();
    await expect(opt.step()).rejects.toThrow(/non-finite gradients \(NaN or Inf\) in b \[300\] \(2 of 300 values\).*unchanged/);
    expectSame(await a.data(), pa, 'a');
    expectSame(await b.data(), pb, 'b');
    expectSame(await opt.stateOf(1, 'm')!.data(), m, 'm');
    expect(opt.stepCount(0)).toBe(1);
    b.grad.dispose();
    b.grad = tensor(hostRandom(300, 6), [300]).keep();
    await opt.step();
    expect(opt.stepCount(1)).toBe(2);
    opt.zeroGrad();
    expect(a.grad).toBeNull();
    opt.dispose();
    a.dispose();
    b.dispose();
  });

  it('state_dict restores hyperparameters, step counts and moments; mismatches are reported', async () => {
    const p = Parameter(tensor(hostRandom(10, 1), [10]));
    const opt = new Adam([p], { lr: 0.01 });
    p.grad = tensor(hostRandom(10, 2), [10]).keep();
    opt.step();
    opt.step();
    opt.lr = 0.005;
    const sd = opt.stateDict();
    expect(sd.type).toBe('Adam');
    expect(sd.steps).toEqual({ 0: 2 });
    expect(Object.keys(sd.tensors)).toEqual(['0.m', '0.v']);
    const q = Parameter(tensor(hostRandom(10, 1), [10]));
    const opt2 = new Adam([q], { lr: 1 });
    opt2.loadStateDict(sd);
    expect(opt2.lr).toBe(0.005);
    expect(opt2.stepCount(0)).toBe(2);
    expectSame(await opt2.stateOf(0, 'v')!.data(), await opt.stateOf(0, 'v')!.data(), 'v');

    const r = Parameter(tensor(hostRandom(4, 1), [4]));
    const opt3 = new Adam([r]);
    expect(() => opt3.loadStateDict(sd)).toThrow(/size mismatch for '0.m'/);
    expect(() => new SGD([r]).loadStateDict(sd)).toThrow(/the state is for Adam, this optimiser is SGD/);
    expect(opt3.stepCount(0)).toBe(0);
    for (const o of [opt, opt2, opt3]) o.dispose();
    for (const t of [p, q, r]) t.dispose();
  });

  it('LinearDecay follows the pix2pix/CycleGAN lambda_rule; StepLR multiplies by gamma', () => {
    const p = Parameter(tensor([1], [1]));
    const opt = new Adam([p], { lr: 1 });
    const sched = new LinearDecay(opt, { nEpochs: 3, nEpochsDecay: 2 });
    const lrs = [opt.lr];
    for (let e = 0; e < 6; e++) {
      sched.step();
      lrs.push(opt.lr);
    }
    // 1 - max(0, e + 1 - 3) / 3 for e = 0..6
    expect(lrs.map((v) => +v.toFixed(6))).toEqual([1, 1, 1, 2 / 3, 1 / 3, 0, 0].map((v) => +v.toFixed(6)));
    const opt2 = new SGD([p], { lr: 0.1 });
    const s2 = new StepLR(opt2, 2, 0.5);
    const lrs2 = [opt2.lr];
    for (let e = 0; e < 4; e++) {
      s2.step();
      lrs2.push(opt2.lr);
    }
    expect(lrs2).toEqual([0.1, 0.1, 0.05, 0.05, 0.025]);
    const s3 = new StepLR(new SGD([p], { lr: 0.1 }), 2, 0.5);
    s3.loadStateDict(s2.stateDict());
    expect(s3.lr).toBe(0.025);
    p.dispose();
  });
});

// ---- checkpoints and training loops ---------------------------------------------------------------

function tinyNet(): Sequential {
  return new Sequential(
    new Conv2d(2, 4, 3, { padding: 1 }),
    new BatchNorm2d(4),
    new LeakyReLU(0.2),
    new Dropout(0.25),
    new Conv2d(4, 2, 3, { stride: 2, padding: 1 }),
    new Flatten(),
    new Linear(2 * 2 * 2, 3),
  );
}

interface Run {
  net: Sequential;
  opt: Adam;
  sched: StepLR;
  data: Generator;
}

function newRun(seed: number): Run {
  manualSeed(seed);
  const net = tinyNet();
  const opt = new Adam(net, { lr: 1e-2 });
  return { net, opt, sched: new StepLR(opt, 1, 0.5), data: new Generator(seed + 1) };
}

/** One training step: noise batch from the run's generator, dropout from the default one. */
function trainStep(r: Run): void {
  tidy(() => {
    r.opt.zeroGrad();
    const x = randn([3, 2, 4, 4], { generator: r.data });
    const y = r.net.call(x);
    backward(mean(square(y)));
    r.opt.step();
  });
  if (r.opt.stepCount(0) % 2 === 0) r.sched.step();
}

describe('checkpoints', () => {
  it('resumes a training loop exactly: 3 + save + 3 equals load + 3 (params, BN stats, moments, rng)', async () => {
    const a = newRun(21);
    for (let i = 0; i < 3; i++) trainStep(a);
    const bytes = await checkpointToBytes({
      models: { G: a.net },
      optimizers: { G: a.opt },
      schedulers: { G: a.sched },
      generators: { data: a.data },
      step: 3,
      config: { lr: 1e-2, net: 'tiny' },
      extra: { note: 'test' },
    });
    for (let i = 0; i < 3; i++) trainStep(a);
    const want = await snapshot(a.net);
    const wantM = await a.opt.stateOf(0, 'm')!.data();

    const b = newRun(99); // different init, noise stream and default-generator state
    const info = restoreCheckpoint(bytes, {
      models: { G: b.net },
      optimizers: { G: b.opt },
      schedulers: { G: b.sched },
      generators: { data: b.data },
    });
    expect(info.step).toBe(3);
    expect(info.config).toEqual({ lr: 1e-2, net: 'tiny' });
    expect(info.extra).toEqual({ note: 'test' });
    expect(b.opt.lr).toBe(5e-3); // halved by the scheduler after step 2, restored from the checkpoint
    for (let i = 0; i < 3; i++) trainStep(b);
    const got = await snapshot(b.net);
    expect([...got.keys()]).toEqual([...want.keys()]);
    for (const [k, v] of want) expectSame(got.get(k)!, v, k);
    expectSame(await b.opt.stateOf(0, 'm')!.data(), wantM, 'optim m');
    expect(b.opt.lr).toBe(a.opt.lr);

    const keys = Object.keys(decodeSafetensors(bytes).tensors);
    expect(keys).toContain('G.0.weight');
    expect(keys).toContain('G.1.num_batches_tracked');
    expect(keys).toContain('optim.G.0.m');
    expect(keys).toContain('optim.G.7.v'); // 8 parameter tensors: 0..7
    expect(keys).not.toContain('optim.G.8.v');
    expect(checkpointInfo(bytes).optimizers.G.type).toBe('Adam');
    expect(() => restoreCheckpoint(bytes, { models: { D: b.net } })).toThrow(/no model named 'D' in the checkpoint \(it has: G\)/);
    // All or nothing: the model fits but the optimiser does not, so the model is not touched either.
    const c = newRun(42);
    const before = await snapshot(c.net);
    const sgd = new SGD(c.net, { momentum: 0.9 });
    expect(() => restoreCheckpoint(bytes, { models: { G: c.net }, optimizers: { G: sgd } })).toThrow(
      /nothing was changed[\s\S]*the state is for Adam, this optimiser is SGD/,
    );
    expect(await snapshot(c.net)).toEqual(before);
    c.opt.dispose();
    c.net.dispose();
    for (const r of [a, b]) {
      r.opt.dispose();
      r.net.dispose();
    }
  });

  it('saves and loads checkpoints and PyTorch-style model files on disk (atomic writes)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nn-optim-'));
    try {
      const a = newRun(5);
      trainStep(a);
      await saveCheckpoint(join(dir, 'ckpt', 'last.safetensors'), { models: { G: a.net }, optimizers: { G: a.opt }, step: 1 });
      await saveModel(join(dir, 'G.safetensors'), a.net);
      const b = newRun(6);
      const info = await loadCheckpoint(join(dir, 'ckpt', 'last.safetensors'), { models: { G: b.net }, optimizers: { G: b.opt } });
      expect(info.step).toBe(1);
      expect(await snapshot(b.net)).toEqual(await snapshot(a.net));
      const c = newRun(7);
      await loadModel(join(dir, 'G.safetensors'), c.net);
      expect(await snapshot(c.net)).toEqual(await snapshot(a.net));
      const d = newRun(8);
      await loadModel(join(dir, 'ckpt', 'last.safetensors'), d.net, { prefix: 'G.' });
      expect(await snapshot(d.net)).toEqual(await snapshot(a.net));
      await expect(loadModel(join(dir, 'missing.safetensors'), d.net)).rejects.toThrow(/missing\.safetensors/);
      for (const r of [a, b, c, d]) {
        r.opt.dispose();
        r.net.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the live buffer count flat over 20 training steps after warm-up', () => {
    const r = newRun(13);
    trainStep(r);
    trainStep(r);
    const base = engine().memory().liveBuffers;
    for (let i = 0; i < 20; i++) {
      trainStep(r);
      expect(engine().memory().liveBuffers, `step ${i}`).toBe(base);
    }
    r.opt.dispose();
    r.net.dispose();
  });
});
