// Fewer dispatches per training step (issue 14, item 4): the multi-tensor optimiser kernels give
// the same bits as one dispatch per tensor; Sequential's norm + activation fusion gives the same
// values and gradients as the unfused layers (and the float64 references); and a tiny DCGAN
// step's dispatch count stays at its fused figure, so a regression fails here.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, engine, tensor, tidy, backward, type Tensor } from '../engine/index.js';
import { mul } from '../engine/ops/elementwise.js';
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
import { instanceNormCpu, batchNormTrainCpu } from '../engine/ops/cpu/nn.js';
import { conv2d, conv2dBackwardInput, convTranspose2d, convPhaseBatching, convBiasGradFolding } from '../engine/ops/conv.js';
import { conv2dBackwardInputCpu, convTranspose2dCpu } from '../engine/ops/cpu/conv.js';
import { bceWithLogits, mse, l1, fusedLosses } from '../engine/ops/losses.js';
import { relu, leakyRelu, tanh, sigmoid, fusedActivationBackward } from '../engine/ops/elementwise.js';
import { recipes } from '../nets/registry.js';

import { hostRandom } from './support/util.js';

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
  // 153 before the multi-tensor Adam, the norm fusion, the phase-batched input gradients, the fused losses and activation gradients.
  it('DCGAN (16 px, widths 4, batch 2): at most 81 dispatches in a steady-state step', async () => {
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
    expect(counts[2]).toBeLessThanOrEqual(81);
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
  };
  // name, kind, input shape, weight shape, stride, padding, whether phases share one launch, bias
  const rows: [string, Case['kind'], number[], number[], number, number, boolean, boolean?][] = [
    ['convTranspose2d 4x4 s2 p1 with bias (DCGAN G)', 'convT', [2, 5, 3, 4], [5, 3, 4, 4], 2, 1, true, true],
    ['conv2d input gradient 4x4 s2 p1 (DCGAN D)', 'bwd', [2, 3, 8, 6], [4, 3, 4, 4], 2, 1, true],
    ['conv2d input gradient, long K (split-K as one phase)', 'bwd', [1, 2, 4, 4], [300, 2, 4, 4], 2, 1, true],
    ['conv2d input gradient 6x6 s3 p0 (9 phases)', 'bwd', [1, 2, 9, 9], [3, 2, 6, 6], 3, 0, true],
    ['conv2d input gradient 3x3 s2 p1 on odd sizes (phases differ: one launch each)', 'bwd', [1, 2, 7, 5], [3, 2, 3, 3], 2, 1, false],
  ];
  const cases: Case[] = rows.map(([name, kind, x, w, stride, pad, phased, bias]) => ({ name, kind, x, w, stride, pad, phased, bias }));
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
        run = () => convTranspose2d(xT, wT, c.bias ? bT : null, opts);
        const xHost = { shape: [...inShape], data: Float64Array.from(await xT.data()) };
        const bHost = { shape: [c.w[1]], data: Float64Array.from(await bT.data()) };
        ref = () =>
          convTranspose2dCpu(xHost, wHost, c.bias ? bHost : null, { stride: [c.stride, c.stride], padding: [c.pad, c.pad, c.pad, c.pad] })
            .data;
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
      const each = await launchOnce(false);
      const one = await launchOnce(true);
      expectSameBits(one.v, each.v, c.name);
      if (c.phased) expect(one.d).toBeLessThan(each.d);
      else expect(one.d).toBe(each.d);
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
      const apart = await run(false);
      const fused = await run(true);
      expect(fused.fwd).toBeLessThan(apart.fwd);
      expectSameBits(fused.y, apart.y, 'y');
      expectSameBits(fused.dx, apart.dx, 'dx');
      expectSameBits(fused.dw, apart.dw, 'dw');
      if (fused.db) expectSameBits(fused.db, apart.db!, 'db');
    });
  }
});
