// Fewer dispatches per training step (issue 14, item 4): the multi-tensor optimiser kernels give
// the same bits as one dispatch per tensor; Sequential's norm + activation fusion gives the same
// values and gradients as the unfused layers (and the float64 references); and a tiny DCGAN
// step's dispatch count stays at its fused figure, so a regression fails here.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initEngine, engine, tensor, tidy, backward, grad, type Tensor } from '../engine/index.js';
import { gradAccumulation } from '../engine/tape.js';
import { instanceNorm } from '../engine/ops/norm.js';
import { add, mul } from '../engine/ops/elementwise.js';
import { sum } from '../engine/ops/reduce.js';
import { Parameter, Sequential, type Module } from '../engine/nn/module.js';
import {
  BatchNorm2d,
  BatchNorm1d,
  InstanceNorm2d,
  ReLU,
  LeakyReLU,
  Tanh,
  ReflectionPad2d,
  ReplicationPad2d,
  Conv2d,
} from '../engine/nn/layers.js';
import { Adam, AdamW, SGD, RMSprop, type Optimizer } from '../engine/optim.js';
import { instanceNormCpu, batchNormTrainCpu, padCpu } from '../engine/ops/cpu/nn.js';
import {
  conv2d,
  conv2dBackwardInput,
  convTranspose2d,
  convPhaseBatching,
  convBiasGradFolding,
  convPadAdjointFolding,
} from '../engine/ops/conv.js';
import { conv2dBackwardInputCpu, convTranspose2dCpu } from '../engine/ops/cpu/conv.js';
import { bceWithLogits, mse, l1, fusedLosses } from '../engine/ops/losses.js';
import { relu, leakyRelu, tanh, sigmoid, elu, fusedActivationBackward } from '../engine/ops/elementwise.js';
import { recipes } from '../nets/registry.js';
import { hostRandom } from './support/util.js';
import { setGemmOverride } from '../engine/ops/matmul.js';

beforeAll(async () => {
  await initEngine();
});

const expectSameBits = (a: Float32Array, b: Float32Array, what: string) => {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) expect(`${what}[${i}] = ${a[i]}`).toBe(`${what}[${i}] = ${b[i]}`);
};

describe('multi-tensor optimisers', () => {
  // Mixed sizes (one element, not a multiple of the workgroup, several workgroups) and 11 tensors, so
  // groups of 4 leave a partial last group.
  const sizes = [1, 300, 7, 1024, 2, 513, 64, 3, 257, 5, 40];
  const makers: [string, (ps: Tensor[], k?: number) => Optimizer, string[]][] = [
    ['Adam (L2)', (ps, k) => new Adam(ps, { lr: 0.01, weightDecay: 0.1, tensorsPerDispatch: k }), ['m', 'v']],
    ['AdamW', (ps, k) => new AdamW(ps, { lr: 0.01, betas: [0.9, 0.99], tensorsPerDispatch: k }), ['m', 'v']],
    [
      'RMSprop (centered, momentum, L2)',
      (ps, k) => new RMSprop(ps, { lr: 0.01, centered: true, momentum: 0.9, weightDecay: 0.01, tensorsPerDispatch: k }),
      ['square_avg', 'grad_avg', 'momentum_buffer'],
    ],
    [
      'SGD (Nesterov, L2)',
      (ps, k) => new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01, tensorsPerDispatch: k }),
      ['momentum_buffer'],
    ],
  ];

  for (const [name, make, stateNames] of makers) {
    it(`${name}: grouped dispatches give the bits of one dispatch per tensor, with fewer dispatches`, async () => {
      const run = async (k: number | undefined) => {
        const ps = sizes.map((n, i) => Parameter(tensor(hostRandom(n, 10 + i), [n])));
        const opt = make(ps, k);
        const e = engine();
        let dispatches = 0;
        for (let step = 0; step < 3; step++) {
          ps.forEach((p, i) => {
            p.grad?.dispose();
            // Parameter 3 has no gradient on step 1: it is skipped and its step count lags.
            p.grad = step === 1 && i === 3 ? null : tensor(hostRandom(p.size, 100 * step + i), [p.size]);
          });
          const before = e.snapshotCounters();
          opt.step();
          // The first step also fills the new state tensors with zeros: count the later two.
          if (step > 0) dispatches += e.countersSince(before).dispatches;
        }
        const out: Float32Array[] = [];
        for (let i = 0; i < ps.length; i++) {
          out.push(await ps[i].data());
          for (const s of stateNames) out.push(await opt.stateOf(i, s)!.data());
        }
        expect(opt.stepCount(3)).toBe(2);
        expect(opt.stepCount(0)).toBe(3);
        opt.dispose();
        ps.forEach((p) => p.dispose());
        return { out, dispatches };
      };
      const one = await run(1);
      const grouped = await run(undefined);
      expect(one.dispatches).toBe(2 * sizes.length - 1);
      const perDispatch = Math.min(8, Math.floor(engine().limits.maxStorageBuffersPerShaderStage / (2 + stateNames.length)));
      const groups = (n: number) => Math.ceil(n / perDispatch);
      expect(grouped.dispatches).toBe(groups(sizes.length) + groups(sizes.length - 1));
      expect(grouped.dispatches).toBeLessThan(one.dispatches);
      one.out.forEach((a, i) => expectSameBits(grouped.out[i], a, `${name} tensor ${i}`));
    });
  }

  it('rejects a tensorsPerDispatch that is not a positive integer', () => {
    const p = Parameter(tensor([1, 2], [2]));
    expect(() => new Adam([p], { tensorsPerDispatch: 0 })).toThrow(/tensorsPerDispatch must be a positive integer, got 0/);
    p.dispose();
  });
});

describe('Sequential norm + activation fusion', () => {
  type Case = {
    name: string;
    shape: number[];
    make: () => Module[];
    fusedPairs: number;
    ref: (x: Float64Array, shape: number[], g: Float64Array | null, b: Float64Array | null) => Float64Array;
  };
  const act = (slope: number) => (v: number) => (v > 0 ? v : slope * v);
  const cases: Case[] = [
    {
      name: 'BatchNorm2d + ReLU',
      shape: [3, 4, 5, 4],
      make: () => [new BatchNorm2d(4), new ReLU()],
      fusedPairs: 1,
      ref: (x, shape, g, b) =>
        batchNormTrainCpu({ shape, data: x }, g && { shape: [shape[1]], data: g }, b && { shape: [shape[1]], data: b }).y.data.map(act(0)),
    },
    {
      name: 'BatchNorm1d + LeakyReLU(0.2)',
      shape: [6, 5],
      make: () => [new BatchNorm1d(5), new LeakyReLU(0.2)],
      fusedPairs: 1,
      ref: (x, shape, g, b) =>
        batchNormTrainCpu({ shape, data: x }, g && { shape: [shape[1]], data: g }, b && { shape: [shape[1]], data: b }).y.data.map(
          act(0.2),
        ),
    },
    {
      name: 'InstanceNorm2d(affine) + ReLU',
      shape: [2, 3, 6, 5],
      make: () => [new InstanceNorm2d(3, { affine: true }), new ReLU()],
      fusedPairs: 1,
      ref: (x, shape, g, b) =>
        instanceNormCpu({ shape, data: x }, g && { shape: [shape[1]], data: g }, b && { shape: [shape[1]], data: b }).data.map(act(0)),
    },
    {
      name: 'InstanceNorm2d + LeakyReLU(0.01), then Tanh (not fused)',
      shape: [1, 2, 4, 4],
      make: () => [new InstanceNorm2d(2), new LeakyReLU(), new Tanh()],
      fusedPairs: 1,
      ref: (x, shape) => instanceNormCpu({ shape, data: x }, null, null).data.map(act(0.01)).map(Math.tanh),
    },
  ];

  for (const c of cases) {
    it(`${c.name}: the fused pair gives the unfused layers' values and gradients bit for bit, in fewer dispatches, and matches float64`, async () => {
      const n = c.shape.reduce((a, b) => a * b, 1);
      const xData = hostRandom(n, 7, 2);
      const dyData = hostRandom(n, 8);
      const run = async (fuse: boolean) => {
        const layers = c.make();
        const net = new Sequential(...layers);
        net.fuse = fuse;
        const norm = layers[0] as BatchNorm2d;
        if (norm.weight) {
          norm.weight.dispose();
          norm.weight = Parameter(tensor(hostRandom(c.shape[1], 9, 1.5), [c.shape[1]]));
          norm.bias!.dispose();
          norm.bias = Parameter(tensor(hostRandom(c.shape[1], 10), [c.shape[1]]));
        }
        const x = Parameter(tensor(xData, c.shape));
        const e = engine();
        const before = e.snapshotCounters();
        const y = net.call(x);
        const forward = e.countersSince(before).dispatches;
        tidy(() => backward(sum(mul(y, tensor(dyData, c.shape)))));
        const out = {
          y: await y.data(),
          dx: await x.grad!.data(),
          dgamma: norm.weight ? await norm.weight.grad!.data() : null,
          dbeta: norm.bias ? await norm.bias.grad!.data() : null,
          running: norm.runningMean
            ? [await norm.runningMean.data(), await norm.runningVar!.data(), await norm.numBatchesTracked!.dataInt()]
            : [],
          gamma: norm.weight ? Float64Array.from(await norm.weight.data()) : null,
          beta: norm.bias ? Float64Array.from(await norm.bias.data()) : null,
          forward,
        };
        y.dispose();
        x.dispose();
        net.parameters().forEach((p) => p.dispose());
        return out;
      };
      const unfused = await run(false);
      const fused = await run(true);
      expect(fused.forward).toBe(unfused.forward - c.fusedPairs);
      expectSameBits(fused.y, unfused.y, 'y');
      expectSameBits(fused.dx, unfused.dx, 'dx');
      if (fused.dgamma) expectSameBits(fused.dgamma, unfused.dgamma!, 'dgamma');
      if (fused.dbeta) expectSameBits(fused.dbeta, unfused.dbeta!, 'dbeta');
      fused.running.forEach((r, i) => expectSameBits(Float32Array.from(r), Float32Array.from(unfused.running[i]), `running state ${i}`));
      if (fused.running.length) expect(Array.from(fused.running[2])).toEqual([1]);
      // Float64 reference of the forward (the fused kernels' gradients are checked against finite
      // differences by the op suite's batch_norm / instance_norm cases with act).
      const want = c.ref(Float64Array.from(xData), c.shape, fused.gamma, fused.beta);
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(fused.y[i] - want[i]));
      expect(worst).toBeLessThan(1e-5);
    });
  }

  it('does not fuse a negative LeakyReLU slope, a norm subclass with its own forward, or an activation before the norm', async () => {
    class MyNorm extends BatchNorm2d {}
    const count = (layers: Module[]) => {
      const net = new Sequential(...layers);
      const x = tensor(hostRandom(2 * 3 * 2 * 2, 3), [2, 3, 2, 2]);
      const before = engine().snapshotCounters();
      const y = net.call(x);
      const d = engine().countersSince(before).dispatches;
      y.dispose();
      x.dispose();
      net.parameters().forEach((p) => p.dispose());
      return d;
    };
    expect(count([new BatchNorm2d(3), new LeakyReLU(-0.5)])).toBe(2);
    expect(count([new MyNorm(3), new ReLU()])).toBe(2);
    expect(count([new ReLU(), new BatchNorm2d(3)])).toBe(2);
    expect(count([new BatchNorm2d(3), new ReLU()])).toBe(1);
  });
});

describe('dispatches per training step', () => {
  // 153 before the multi-tensor Adam, the norm fusion, the phase-batched input gradients, the fused losses and activation gradients;
  // 78 before gradient accumulation in the producers.
  it('DCGAN (16 px, widths 4, batch 2): at most 73 dispatches in a steady-state step', async () => {
    const recipe = recipes.dcgan;
    const config: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(recipe.options))
      if ((v as { default?: unknown }).default !== undefined) config[k] = (v as { default?: unknown }).default;
    Object.assign(config, { imageSize: 16, nc: 1, nz: 8, ngf: 4, ndf: 4 });
    const t = recipe.create(config as never, { ...recipe.train, batch: 2 }, 1);
    const real = tensor(hostRandom(2 * 16 * 16, 5), [2, 1, 16, 16]).keep();
    const e = engine();
    const counts: number[] = [];
    for (let s = 0; s < 3; s++) {
      const before = e.snapshotCounters();
      t.step(real, false);
      counts.push(e.countersSince(before).dispatches);
      await e.sync();
    }
    real.dispose();
    expect(counts[2]).toBeLessThanOrEqual(73);
    expect(counts[2]).toBe(counts[1]);
  });
});

describe('stride phases of the conv input gradient in one dispatch', () => {
  type Case = {
    name: string;
    kind: 'bwd' | 'convT';
    x: number[];
    w: number[];
    stride: number;
    pad: number;
    bias?: boolean;
    phased: boolean;
    outputPadding?: number;
    /** Only the batched launch against float64 (no per-phase run). */
    floatOnly?: boolean;
  };
  const cases: Case[] = [
    {
      name: 'convTranspose2d 4x4 s2 p1 with bias (DCGAN G)',
      kind: 'convT',
      x: [2, 5, 3, 4],
      w: [5, 3, 4, 4],
      stride: 2,
      pad: 1,
      bias: true,
      phased: true,
    },
    { name: 'conv2d input gradient 4x4 s2 p1 (DCGAN D)', kind: 'bwd', x: [2, 3, 8, 6], w: [4, 3, 4, 4], stride: 2, pad: 1, phased: true },
    {
      name: 'conv2d input gradient, long K (split-K as one phase)',
      kind: 'bwd',
      x: [1, 2, 4, 4],
      w: [300, 2, 4, 4],
      stride: 2,
      pad: 1,
      phased: true,
    },
    { name: 'conv2d input gradient 6x6 s3 p0 (9 phases)', kind: 'bwd', x: [1, 2, 9, 9], w: [3, 2, 6, 6], stride: 3, pad: 0, phased: true },
    {
      name: 'conv2d input gradient 3x3 s2 p1 on even sizes (ragged: 1 and 2 taps per axis, CycleGAN downsampling)',
      kind: 'bwd',
      x: [1, 3, 8, 6],
      w: [4, 3, 3, 3],
      stride: 2,
      pad: 1,
      phased: true,
    },
    {
      name: 'convTranspose2d 3x3 s2 p1 output padding 1 with bias (ragged, CycleGAN upsampling)',
      kind: 'convT',
      x: [1, 4, 3, 4],
      w: [4, 2, 3, 3],
      stride: 2,
      pad: 1,
      bias: true,
      phased: true,
      outputPadding: 1,
      // Its per-phase launches would compile four more pipelines: the case above compares them.
      floatOnly: true,
    },
    {
      name: 'conv2d input gradient 3x3 s2 p1 on odd sizes (phases differ: one launch each)',
      kind: 'bwd',
      x: [1, 2, 7, 5],
      w: [3, 2, 3, 3],
      stride: 2,
      pad: 1,
      phased: false,
    },
  ];
  /** A tensor of `shape` filled with hostRandom(seed). */
  const randomTensor = (shape: number[], seed: number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return tensor(hostRandom(n, seed), shape);
  };
  for (const c of cases) {
    it(`${c.name}: the same bits as one launch per phase, and the float64 reference`, async () => {
      const opts = { stride: c.stride, padding: c.pad };
      const wT = randomTensor(c.w, 21);
      let inShape: number[];
      let run: () => Tensor;
      let ref: () => Float64Array;
      const wHost = { shape: [...c.w], data: Float64Array.from(await wT.data()) };
      if (c.kind === 'convT') {
        inShape = c.x;
        const xT = randomTensor(inShape, 22);
        const bT = tensor(hostRandom(c.w[1], 23), [c.w[1]]);
        run = () => convTranspose2d(xT, wT, c.bias ? bT : null, { ...opts, outputPadding: c.outputPadding ?? 0 });
        const xHost = { shape: [...inShape], data: Float64Array.from(await xT.data()) };
        const bHost = { shape: [c.w[1]], data: Float64Array.from(await bT.data()) };
        ref = () =>
          convTranspose2dCpu(xHost, wHost, c.bias ? bHost : null, {
            stride: [c.stride, c.stride],
            padding: [c.pad, c.pad, c.pad, c.pad],
            outputPadding: [c.outputPadding ?? 0, c.outputPadding ?? 0],
          }).data;
      } else {
        const oh = Math.floor((c.x[2] + 2 * c.pad - c.w[2]) / c.stride) + 1;
        const ow = Math.floor((c.x[3] + 2 * c.pad - c.w[3]) / c.stride) + 1;
        inShape = [c.x[0], c.w[0], oh, ow];
        const dyT = randomTensor(inShape, 24);
        run = () => conv2dBackwardInput(dyT, wT, c.x, opts);
        const dyHost = { shape: [...inShape], data: Float64Array.from(await dyT.data()) };
        ref = () =>
          conv2dBackwardInputCpu(dyHost, wHost, c.x, { stride: [c.stride, c.stride], padding: [c.pad, c.pad, c.pad, c.pad] }).data;
      }
      const e = engine();
      const launchOnce = async (phased: boolean) => {
        convPhaseBatching.enabled = phased;
        try {
          const before = e.snapshotCounters();
          const y = run();
          const d = e.countersSince(before).dispatches;
          const v = await y.data();
          y.dispose();
          return { v, d };
        } finally {
          convPhaseBatching.enabled = true;
        }
      };
      const one = await launchOnce(true);
      if (c.floatOnly) expect(one.d).toBe(1);
      else {
        const each = await launchOnce(false);
        expectSameBits(one.v, each.v, c.name);
        if (c.phased) expect(one.d).toBeLessThan(each.d);
        else expect(one.d).toBe(each.d);
      }
      const want = ref();
      let worst = 0;
      let scale = 0;
      for (let i = 0; i < want.length; i++) {
        worst = Math.max(worst, Math.abs(one.v[i] - want[i]));
        scale = Math.max(scale, Math.abs(want[i]));
      }
      expect(one.v.length).toBe(want.length);
      expect(worst / scale).toBeLessThan(1e-5);
    });
  }
});

describe('single-kernel mean losses', () => {
  const n = 300;
  const cases: [string, (a: Tensor, b: Tensor) => Tensor, boolean][] = [
    ['bceWithLogits(x, 1)', (a) => bceWithLogits(a, 1), false],
    ['bceWithLogits(x, 0.9)', (a) => bceWithLogits(a, 0.9), false],
    ['mse(a, b), both with gradients', (a, b) => mse(a, b), true],
    ['l1(a, b), both with gradients', (a, b) => l1(a, b), true],
    ['mse(a, target) with a constant target', (a, b) => mse(a, b), false],
  ];
  for (const [name, f, gradB] of cases) {
    it(`${name}: one dispatch forward and one backward, the composed ops' loss and gradients bit for bit`, async () => {
      const run = async (fused: boolean) => {
        fusedLosses.enabled = fused;
        try {
          const a = Parameter(tensor(hostRandom(n, 31, 5), [3, n / 3]));
          const b = tensor(hostRandom(n, 32, 2), [3, n / 3]);
          if (gradB) b.requireGrad();
          const e = engine();
          let before = e.snapshotCounters();
          const loss = f(a, b);
          const fwd = e.countersSince(before).dispatches;
          before = e.snapshotCounters();
          backward(loss);
          const bwd = e.countersSince(before).dispatches;
          const out = { loss: await loss.data(), da: await a.grad!.data(), db: gradB ? await b.grad!.data() : null, fwd, bwd };
          loss.dispose();
          a.dispose();
          b.dispose();
          return out;
        } finally {
          fusedLosses.enabled = true;
        }
      };
      const composed = await run(false);
      const fused = await run(true);
      expect(fused.fwd).toBe(1);
      expect(fused.bwd).toBeLessThanOrEqual(2); // the seed gradient's fill, then the loss's backward kernel
      expect(fused.fwd + fused.bwd).toBeLessThan(composed.fwd + composed.bwd);
      expectSameBits(fused.loss, composed.loss, 'loss');
      expectSameBits(fused.da, composed.da, 'da');
      if (gradB) expectSameBits(fused.db!, composed.db!, 'db');
    });
  }
});

describe('activation gradients in one kernel', () => {
  const acts: [string, (x: Tensor) => Tensor][] = [
    ['relu', (x) => relu(x)],
    ['leakyRelu(0.2)', (x) => leakyRelu(x, 0.2)],
    ['tanh', (x) => tanh(x)],
    ['sigmoid', (x) => sigmoid(x)],
    ['elu(0.7)', (x) => elu(x, 0.7)],
    ['elu(1)', (x) => elu(x)],
  ];
  for (const [name, f] of acts) {
    it(`${name}: one backward dispatch, the composed backward's gradient bit for bit`, async () => {
      const run = async (fused: boolean) => {
        fusedActivationBackward.enabled = fused;
        try {
          const x = Parameter(tensor(hostRandom(257, 41, 3), [257]));
          const y = f(x);
          const dy = tensor(hostRandom(257, 42), [257]);
          const e = engine();
          const before = e.snapshotCounters();
          backward(y, dy);
          const d = e.countersSince(before).dispatches;
          const dx = await x.grad!.data();
          y.dispose();
          x.dispose();
          return { dx, d };
        } finally {
          fusedActivationBackward.enabled = true;
        }
      };
      const composed = await run(false);
      const fused = await run(true);
      expect(fused.d).toBe(1);
      expect(composed.d).toBeGreaterThan(1);
      expectSameBits(fused.dx, composed.dx, 'dx');
    });
  }
});

describe('conv bias gradient folded into the weight-gradient GEMM', () => {
  const cases: [string, number[], number[], number, number][] = [
    ['3x3 s1 p1', [2, 3, 6, 5], [4, 3, 3, 3], 1, 1],
    ['4x4 s2 p1, long reduction (split-K)', [2, 2, 32, 32], [5, 2, 4, 4], 2, 1],
  ];
  for (const [name, xs, ws, stride, pad] of cases) {
    it(`${name}: the same weight gradient bits, the bias gradient of the float64 sum, one dispatch fewer`, async () => {
      const n = xs.reduce((a, b) => a * b, 1);
      const run = async (fold: boolean) => {
        convBiasGradFolding.enabled = fold;
        try {
          const x = tensor(hostRandom(n, 51, 2), xs);
          const w = Parameter(
            tensor(
              hostRandom(
                ws.reduce((a, b) => a * b, 1),
                52,
              ),
              ws,
            ),
          );
          const b = Parameter(tensor(hostRandom(ws[0], 53), [ws[0]]));
          const y = conv2d(x, w, b, { stride, padding: pad });
          const dy = tensor(hostRandom(y.size, 54), y.shape);
          const dyHost = await dy.data();
          const e = engine();
          const before = e.snapshotCounters();
          backward(y, dy);
          const d = e.countersSince(before).dispatches;
          const out = { dw: await w.grad!.data(), db: await b.grad!.data(), d, dyHost, yShape: [...y.shape] };
          for (const t of [x, w, b, y]) t.dispose();
          return out;
        } finally {
          convBiasGradFolding.enabled = true;
        }
      };
      const apart = await run(false);
      const folded = await run(true);
      expect(folded.d).toBe(apart.d - 1);
      expectSameBits(folded.dw, apart.dw, 'dw');
      const [nb, o, oh, ow] = folded.yShape;
      for (let c = 0; c < o; c++) {
        let want = 0;
        let scale = 0;
        for (let i = 0; i < nb; i++)
          for (let p = 0; p < oh * ow; p++) {
            want += folded.dyHost[(i * o + c) * oh * ow + p];
            scale += Math.abs(folded.dyHost[(i * o + c) * oh * ow + p]);
          }
        expect(Math.abs(folded.db[c] - want)).toBeLessThan(1e-6 * scale + 1e-7);
        expect(Math.abs(apart.db[c] - want)).toBeLessThan(1e-6 * scale + 1e-7);
      }
    });
  }
});

describe('reflect / replicate padding folded into the conv gathers', () => {
  const cases: [string, () => Module[], number[]][] = [
    ['ReflectionPad2d(3) + Conv2d 7x7 (CycleGAN)', () => [new ReflectionPad2d(3), new Conv2d(2, 3, 7)], [1, 2, 6, 5]],
    [
      'ReflectionPad2d(1) + Conv2d 3x3 + InstanceNorm2d + ReLU',
      () => [new ReflectionPad2d(1), new Conv2d(3, 4, 3), new InstanceNorm2d(4), new ReLU()],
      [2, 3, 5, 6],
    ],
    [
      'ReplicationPad2d([2, 1, 0, 1]) + Conv2d 3x3 stride 2, no bias',
      () => [new ReplicationPad2d([2, 1, 0, 1]), new Conv2d(2, 3, 3, { stride: 2, bias: false })],
      [1, 2, 7, 6],
    ],
  ];
  for (const [name, make, xs] of cases) {
    it(`${name}: the unfused layers' output and gradients bit for bit, without the pad dispatch`, async () => {
      const n = xs.reduce((a, b) => a * b, 1);
      const run = async (fuse: boolean) => {
        const layers = make();
        const net = new Sequential(...layers);
        net.fuse = fuse;
        const conv = layers[1] as Conv2d;
        // The same weights for both runs.
        conv.weight.dispose();
        conv.weight = Parameter(tensor(hostRandom(conv.weight.size, 61), conv.weight.shape));
        if (conv.bias) {
          conv.bias.dispose();
          conv.bias = Parameter(tensor(hostRandom(conv.bias.size, 62), conv.bias.shape));
        }
        const x = Parameter(tensor(hostRandom(n, 63, 2), xs));
        const e = engine();
        const before = e.snapshotCounters();
        const y = net.call(x);
        const fwd = e.countersSince(before).dispatches;
        backward(sum(mul(y, tensor(hostRandom(y.size, 64), y.shape))));
        const out = {
          y: await y.data(),
          dx: await x.grad!.data(),
          dw: await conv.weight.grad!.data(),
          db: conv.bias ? await conv.bias.grad!.data() : null,
          fwd,
        };
        y.dispose();
        x.dispose();
        net.parameters().forEach((p) => p.dispose());
        return out;
      };
      // The pad's adjoint folded into the input gradient sums in another order (checked against
      // float64 below); off here, dx keeps the unfused layers' bits.
      convPadAdjointFolding.enabled = false;
      let apart: Awaited<ReturnType<typeof run>>;
      let fused: Awaited<ReturnType<typeof run>>;
      try {
        apart = await run(false);
        fused = await run(true);
      } finally {
        convPadAdjointFolding.enabled = true;
      }
      expect(fused.fwd).toBeLessThan(apart.fwd);
      expectSameBits(fused.y, apart.y, 'y');
      expectSameBits(fused.dx, apart.dx, 'dx');
      expectSameBits(fused.dw, apart.dw, 'dw');
      if (fused.db) expectSameBits(fused.db, apart.db!, 'db');
    });
  }
});

// ---- issue 14 item 4, second round: gradient accumulation in the producers, the pad adjoint in the
// input-gradient gather, ragged stride phases in one dispatch, the residual add in the norm kernel.

/** Max |a - b| / max |b| over two arrays. */
function relErr(a: Float32Array, b: ArrayLike<number>): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return worst / Math.max(scale, 1e-30);
}

describe('gradient accumulation in the producers (tape accumulationTarget)', () => {
  type Graph = { params: Tensor[]; loss: () => Tensor };
  const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const cases: [string, () => Graph][] = [
    [
      'conv2d: x and w (bias folded) used by two convs, one reflect-padded; a long reduction (split-K)',
      () => {
        const x = Parameter(tensor(hostRandom(n([1, 2, 24, 24]), 71, 2), [1, 2, 24, 24]));
        const w = Parameter(tensor(hostRandom(n([3, 2, 3, 3]), 72), [3, 2, 3, 3]));
        const b = Parameter(tensor(hostRandom(3, 73), [3]));
        const r = tensor(hostRandom(3 * 24 * 24, 74), [1, 3, 24, 24]);
        return {
          params: [x, w, b],
          loss: () =>
            sum(mul(conv2d(x, w, b, { padding: 1 }), r)).add(sum(mul(conv2d(x, w, b, { padding: 1, paddingMode: 'reflect' }), r))),
        };
      },
    ],
    [
      'convTranspose2d: w and bias (sum) used twice, then a conv of both outputs',
      () => {
        const x = Parameter(tensor(hostRandom(n([2, 3, 3, 4]), 75), [2, 3, 3, 4]));
        const w = Parameter(tensor(hostRandom(n([3, 2, 4, 4]), 76), [3, 2, 4, 4]));
        const b = Parameter(tensor(hostRandom(2, 77), [2]));
        const w2 = Parameter(tensor(hostRandom(n([2, 2, 3, 3]), 78), [2, 2, 3, 3]));
        return {
          params: [x, w, b, w2],
          loss: () => {
            const y1 = convTranspose2d(x, w, b, { stride: 2, padding: 1 });
            const y2 = convTranspose2d(mul(x, x), w, b, { stride: 2, padding: 1 });
            return sum(mul(conv2d(y1, w2, null, { padding: 1 }), y2)).add(sum(mul(y1, y1)));
          },
        };
      },
    ],
    [
      'batch norm: gamma / beta shared by two inputs, x also used by a conv',
      () => {
        const x = Parameter(tensor(hostRandom(n([3, 2, 4, 4]), 79, 2), [3, 2, 4, 4]));
        const x2 = Parameter(tensor(hostRandom(n([3, 2, 4, 4]), 80, 2), [3, 2, 4, 4]));
        const bn = new BatchNorm2d(2);
        const w = Parameter(tensor(hostRandom(n([2, 2, 3, 3]), 81), [2, 2, 3, 3]));
        const r = tensor(hostRandom(n([3, 2, 4, 4]), 82), [3, 2, 4, 4]);
        return {
          params: [x, x2, w, bn.weight!, bn.bias!],
          loss: () => {
            const y = sum(mul(conv2d(x, w, null, { padding: 1 }), r));
            return y.add(sum(mul(bn.call(x), r))).add(sum(mul(bn.call(x2), bn.call(x))));
          },
        };
      },
    ],
  ];
  for (const [name, make] of cases) {
    it(`${name}: the same gradients bit for bit as separate adds, in fewer dispatches`, async () => {
      const run = async (on: boolean) => {
        gradAccumulation.enabled = on;
        try {
          const g = make();
          const loss = g.loss();
          const e = engine();
          const before = e.snapshotCounters();
          backward(loss);
          const d = e.countersSince(before).dispatches;
          const grads = await Promise.all(g.params.map((p) => p.grad!.data()));
          loss.dispose();
          g.params.forEach((p) => p.dispose());
          return { grads, d };
        } finally {
          gradAccumulation.enabled = true;
        }
      };
      const apart = await run(false);
      const inPlace = await run(true);
      apart.grads.forEach((gr, i) => expectSameBits(inPlace.grads[i], gr, `grad ${i}`));
      expect(inPlace.d).toBeLessThan(apart.d);
    });
  }

  it('leaves a caller-owned gradient and an input used twice by one op alone (the same bits as separate adds)', async () => {
    const x = Parameter(tensor(hostRandom(2 * 2 * 5 * 5, 83), [2, 2, 5, 5]));
    const w = Parameter(tensor(hostRandom(2 * 2 * 9, 84), [2, 2, 3, 3]));
    const root = tensor(hostRandom(x.size, 86), x.shape);
    const rootBefore = await root.data();
    const run = async (on: boolean) => {
      gradAccumulation.enabled = on;
      try {
        // x's slot first holds a view of the caller's root gradient (through the add): the conv's
        // input gradient must not be added into it. mul(x, x) names x twice: no target either.
        const z = add(x, conv2d(x, w, null, { padding: 1 })).add(conv2d(mul(x, x), w, null, { padding: 1 }));
        const [gx] = grad(z, [x], { gradOutputs: [root] });
        const out = await gx.data();
        z.dispose();
        gx.dispose();
        return out;
      } finally {
        gradAccumulation.enabled = true;
      }
    };
    const apart = await run(false);
    const inPlace = await run(true);
    expectSameBits(await root.data(), rootBefore, 'root gradient');
    expectSameBits(inPlace, apart, 'dx');
    for (const t of [x, w, root]) t.dispose();
  });
});

describe('pad adjoint folded into the conv input-gradient gather', () => {
  afterEach(() => setGemmOverride(null));
  const cases: [string, number[], number[], [number, number, number, number], 'reflect' | 'replicate', number][] = [
    ['reflect pad 1, 3x3 (CycleGAN residual block)', [2, 3, 5, 6], [4, 3, 3, 3], [1, 1, 1, 1], 'reflect', 1],
    ['reflect pad 3, 7x7 on 4x5 (three images of a row)', [1, 2, 4, 5], [3, 2, 7, 7], [3, 3, 3, 3], 'reflect', 1],
    ['replicate [2, 1, 0, 1], 3x3 dilation 2', [1, 2, 7, 6], [3, 2, 3, 3], [2, 1, 0, 1], 'replicate', 2],
  ];
  // Each case runs the GEMMs' default form (on software adapters with subgroups: the direct
  // kernels, whose pad-adjoint gather sums the same images in the same order) and the tiled one.
  const forms: [string, boolean | undefined][] = [
    ['default kernels', undefined],
    ['tiled kernels', false],
  ];
  for (const [name, xs, ws, pads, mode, dil] of cases)
    for (const [formName, direct] of forms) {
      it(`${name}: dx against float64, one dispatch instead of two (${formName})`, async () => {
        setGemmOverride(direct === undefined ? null : { direct });
        const x = Parameter(
          tensor(
            hostRandom(
              xs.reduce((a, b) => a * b, 1),
              91,
              2,
            ),
            xs,
          ),
        );
        const w = Parameter(
          tensor(
            hostRandom(
              ws.reduce((a, b) => a * b, 1),
              92,
            ),
            ws,
          ),
        );
        const run = async (fold: boolean) => {
          convPadAdjointFolding.enabled = fold;
          try {
            const y = conv2d(x, w, null, { padding: pads, paddingMode: mode, dilation: dil });
            const dy = tensor(hostRandom(y.size, 93), y.shape);
            const e = engine();
            const before = e.snapshotCounters();
            const [dx] = grad(y, [x], { gradOutputs: [dy] });
            const d = e.countersSince(before).dispatches;
            const out = { dx: await dx.data(), d, dy: Float64Array.from(await dy.data()), yShape: [...y.shape] };
            for (const t of [y, dy, dx]) t.dispose();
            return out;
          } finally {
            convPadAdjointFolding.enabled = true;
          }
        };
        const apart = await run(false);
        const folded = await run(true);
        expect(folded.d).toBe(apart.d - 1);
        // float64: the input gradient on the padded grid, then each padded pixel's value sent to the
        // x pixel the pad copied it from (the pad applied to an index tensor says which).
        const padded = [xs[0], xs[1], xs[2] + pads[0] + pads[1], xs[3] + pads[2] + pads[3]];
        const wHost = { shape: ws, data: Float64Array.from(await w.data()) };
        const dxp = conv2dBackwardInputCpu({ shape: folded.yShape, data: folded.dy }, wHost, padded, { dilation: [dil, dil] });
        const idx = padCpu({ shape: xs, data: Float64Array.from({ length: x.size }, (_, i) => i) }, pads, mode);
        const want = new Float64Array(x.size);
        idx.data.forEach((src, p) => {
          want[src] += dxp.data[p];
        });
        expect(relErr(folded.dx, want)).toBeLessThan(1e-5);
        expect(relErr(apart.dx, want)).toBeLessThan(1e-5);
        x.dispose();
        w.dispose();
      });
    }
});

describe('fused residual add in the instance-norm kernel', () => {
  it('instanceNorm(x, g, b, { residual }): residual + norm(x) bit for bit, its gradients too, and float64', async () => {
    const shape = [2, 3, 4, 4];
    const size = shape.reduce((a, b) => a * b, 1);
    const run = async (fused: boolean) => {
      const x = Parameter(tensor(hostRandom(size, 101, 2), shape));
      const res = Parameter(tensor(hostRandom(size, 102), shape));
      const g = Parameter(tensor(hostRandom(3, 103, 1.5), [3]));
      const b = Parameter(tensor(hostRandom(3, 104), [3]));
      const e = engine();
      const before = e.snapshotCounters();
      const y = fused ? instanceNorm(x, g, b, { residual: res }) : add(res, instanceNorm(x, g, b));
      const fwd = e.countersSince(before).dispatches;
      backward(sum(mul(y, tensor(hostRandom(size, 105), shape))));
      const out = { y: await y.data(), fwd, grads: await Promise.all([x, res, g, b].map((p) => p.grad!.data())) };
      for (const t of [x, res, g, b, y]) t.dispose();
      return out;
    };
    const apart = await run(false);
    const fused = await run(true);
    expect(fused.fwd).toBe(apart.fwd - 1);
    expectSameBits(fused.y, apart.y, 'y');
    fused.grads.forEach((gr, i) => expectSameBits(gr, apart.grads[i], `grad ${i}`));
    const ref = instanceNormCpu(
      { shape, data: Float64Array.from(hostRandom(size, 101, 2)) },
      { shape: [3], data: Float64Array.from(hostRandom(3, 103, 1.5)) },
      { shape: [3], data: Float64Array.from(hostRandom(3, 104)) },
    ).data.map((v, i) => v + hostRandom(size, 102)[i]);
    expect(relErr(fused.y, ref)).toBeLessThan(1e-5);
  });

  it('Sequential.callResidual: a CycleGAN-style block (reflect pad, conv, norm, ReLU, pad, conv, norm) in one dispatch fewer, same bits', async () => {
    const run = async (fuse: boolean) => {
      const layers: Module[] = [
        new ReflectionPad2d(1),
        new Conv2d(3, 3, 3),
        new InstanceNorm2d(3),
        new ReLU(),
        new ReflectionPad2d(1),
        new Conv2d(3, 3, 3),
        new InstanceNorm2d(3),
      ];
      const net = new Sequential(...layers);
      net.fuse = fuse;
      let seed = 110;
      for (const p of net.parameters()) {
        const v = tensor(hostRandom(p.size, seed++), p.shape);
        p.storage.engine.copy(v.buffer, 0, p.buffer, 0, 4 * p.size);
        v.dispose();
      }
      const x = Parameter(tensor(hostRandom(2 * 3 * 5 * 4, 120, 2), [2, 3, 5, 4]));
      const e = engine();
      const before = e.snapshotCounters();
      const y = net.callResidual(x);
      const fwd = e.countersSince(before).dispatches;
      backward(sum(mul(y, tensor(hostRandom(y.size, 121), y.shape))));
      const out = { y: await y.data(), dx: await x.grad!.data(), dw: await (layers[1] as Conv2d).weight.grad!.data(), fwd };
      y.dispose();
      x.dispose();
      net.parameters().forEach((p) => p.dispose());
      return out;
    };
    const apart = await run(false);
    const fused = await run(true);
    expect(fused.fwd).toBeLessThan(apart.fwd);
    expectSameBits(fused.y, apart.y, 'y');
    // The unfused run also leaves the pads as layers (their adjoint is a separate op), so dx and dw
    // agree to rounding, not bitwise.
    expect(relErr(fused.dx, apart.dx)).toBeLessThan(1e-5);
    expect(relErr(fused.dw, apart.dw)).toBeLessThan(1e-5);
  });

  it('rejects a residual of another shape, or with a fused activation, naming the op and the fix', () => {
    const x = tensor(hostRandom(2 * 3 * 4, 130), [1, 2, 3, 4]);
    const r = tensor(hostRandom(2 * 3 * 4, 131), [1, 2, 4, 3]);
    expect(() => instanceNorm(x, null, null, { residual: r })).toThrow(
      /instance_norm: residual \[1, 2, 4, 3\] must have x's shape \[1, 2, 3, 4\]/,
    );
    expect(() => instanceNorm(x, null, null, { residual: x, activation: 'relu' })).toThrow(
      /instance_norm: a residual with a fused activation/,
    );
    x.dispose();
    r.dispose();
  });
});
