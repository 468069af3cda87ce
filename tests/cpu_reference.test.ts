// Checks the CPU float64 references (engine/ops/cpu/*) against PyTorch. The golden files in
// tests/golden/cpu_*.json hold inputs and PyTorch float64 outputs; scripts/golden/make_cpu_goldens.py
// wrote them. A table maps each golden `op` to a call of the reference, so adding a case to the
// script needs no change here. A few identities that need no PyTorch (adjointness of the conv
// gradients, exact pyramid reconstruction) follow.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hostTensor, mulberry32, randomHost, size, strides, type HostTensor } from '../engine/ops/cpu/host.js';
import {
  conv2dBackwardBiasCpu,
  conv2dBackwardInputCpu,
  conv2dBackwardWeightCpu,
  conv2dCpu,
  convTranspose2dCpu,
  type Conv2dOptions,
  type Pad4,
  type Pair,
} from '../engine/ops/cpu/conv.js';
import {
  avgPool2dCpu,
  batchNormEvalCpu,
  batchNormTrainCpu,
  instanceNormCpu,
  linearCpu,
  matmulCpu,
  padCpu,
  upsampleBilinearCpu,
  upsampleNearestCpu,
  type PadMode,
} from '../engine/ops/cpu/nn.js';
import { laplacianBandCpu, laplacianPyramidCpu, pyrDownCpu, pyrUpCpu, reconstructPyramidCpu } from '../engine/ops/cpu/pyramid.js';
import {
  bceWithLogitsCpu,
  gaussianKlCpu,
  hingeCpu,
  l1Cpu,
  mseCpu,
  softmaxCrossEntropyCpu,
  type Reduction,
} from '../engine/ops/cpu/losses.js';
import {
  eluCpu,
  leakyReluCpu,
  logSoftmaxCpu,
  reluCpu,
  sigmoidCpu,
  softmaxCpu,
  softplusCpu,
  tanhCpu,
} from '../engine/ops/cpu/activations.js';

// Both sides are float64 and the goldens keep 10 significant digits.
const RTOL = 1e-8;
const ATOL = 1e-9;

interface GoldenTensor {
  shape: number[];
  data: number[];
  dtype?: 'int32';
}

interface GoldenCase {
  op: string;
  name: string;
  // Parameters are whatever the script wrote for that op; each runner reads its own.
  params: Record<string, any>;
  inputs: Record<string, GoldenTensor>;
  outputs: Record<string, GoldenTensor>;
}

/** Named access to one case's inputs. */
class Inputs {
  constructor(private readonly raw: Record<string, GoldenTensor>) {}

  tensor(name: string): HostTensor {
    const t = this.raw[name];
    if (t === undefined) throw new Error(`golden case has no input '${name}'`);
    return hostTensor(t.shape, t.data);
  }

  optional(name: string): HostTensor | null {
    return name in this.raw ? this.tensor(name) : null;
  }

  /** Integer class labels as Int32Array, or a float tensor (one-hot or soft targets). */
  labels(name: string): Int32Array | HostTensor {
    const t = this.raw[name];
    return t.dtype === 'int32' ? Int32Array.from(t.data) : this.tensor(name);
  }
}

type Runner = (inp: Inputs, params: GoldenCase['params']) => Record<string, HostTensor>;

function convOptions(p: GoldenCase['params']): Conv2dOptions & { outputPadding?: Pair } {
  return {
    stride: p.stride as Pair,
    padding: p.padding as Pad4,
    dilation: p.dilation as Pair,
    groups: p.groups as number,
    outputPadding: p.outputPadding as Pair | undefined,
  };
}

const runners: Record<string, Runner> = {
  conv2d(inp, p) {
    const opts = convOptions(p);
    const [x, w, dy, b] = [inp.tensor('x'), inp.tensor('w'), inp.tensor('dy'), inp.optional('b')];
    const out: Record<string, HostTensor> = {
      y: conv2dCpu(x, w, b, opts),
      dx: conv2dBackwardInputCpu(dy, w, x.shape, opts),
      dw: conv2dBackwardWeightCpu(x, dy, w.shape, opts),
    };
    if (b !== null) out.db = conv2dBackwardBiasCpu(dy);
    return out;
  },
  convTranspose2d: (inp, p) => ({ y: convTranspose2dCpu(inp.tensor('x'), inp.tensor('w'), inp.optional('b'), convOptions(p)) }),

  linear: (inp) => ({ y: linearCpu(inp.tensor('x'), inp.tensor('w'), inp.optional('b')) }),
  matmul: (inp, p) => ({ y: matmulCpu(inp.tensor('a'), inp.tensor('b'), { transA: p.transA, transB: p.transB }) }),
  instanceNorm: (inp, p) => ({ y: instanceNormCpu(inp.tensor('x'), inp.optional('gamma'), inp.optional('beta'), p.eps) }),
  batchNormTrain(inp, p) {
    const { y, mean, var: variance, varUnbiased } = batchNormTrainCpu(inp.tensor('x'), inp.optional('gamma'), inp.optional('beta'), p.eps);
    return { y, mean, var: variance, varUnbiased };
  },
  batchNormEval: (inp, p) => ({
    y: batchNormEvalCpu(
      inp.tensor('x'),
      inp.tensor('runningMean'),
      inp.tensor('runningVar'),
      inp.optional('gamma'),
      inp.optional('beta'),
      p.eps,
    ),
  }),
  pad: (inp, p) => ({ y: padCpu(inp.tensor('x'), p.pad as Pad4, p.mode as PadMode, p.value) }),
  upsampleNearest: (inp, p) => ({ y: upsampleNearestCpu(inp.tensor('x'), p.scale as Pair) }),
  upsampleBilinear: (inp, p) => ({ y: upsampleBilinearCpu(inp.tensor('x'), p.outH, p.outW, p.alignCorners) }),
  avgPool2d: (inp, p) => ({ y: avgPool2dCpu(inp.tensor('x'), p.kernel, p.stride, p.padding, p.countIncludePad) }),

  pyramid(inp, p) {
    const x = inp.tensor('x');
    const [, , h, w] = x.shape;
    const down = pyrDownCpu(x);
    const out: Record<string, HostTensor> = { down, up: pyrUpCpu(down, h, w), band: laplacianBandCpu(x) };
    laplacianPyramidCpu(x, p.levels).forEach((t, k) => (out[`pyramid${k}`] = t));
    return out;
  },

  bceWithLogits: (inp, p) => ({ y: bceWithLogitsCpu(inp.tensor('logits'), inp.tensor('targets'), p.reduction as Reduction) }),
  mse: (inp, p) => ({ y: mseCpu(inp.tensor('a'), inp.tensor('b'), p.reduction as Reduction) }),
  l1: (inp, p) => ({ y: l1Cpu(inp.tensor('a'), inp.tensor('b'), p.reduction as Reduction) }),
  softmaxCrossEntropy: (inp, p) => ({ y: softmaxCrossEntropyCpu(inp.tensor('logits'), inp.labels('labels'), p.reduction as Reduction) }),
  gaussianKl: (inp) => ({ y: gaussianKlCpu(inp.tensor('mu'), inp.tensor('logvar')) }),
  hinge: (inp, p) => ({ y: hingeCpu(inp.tensor('energy'), p.margin, p.reduction as Reduction) }),

  relu: (inp) => ({ y: reluCpu(inp.tensor('x')) }),
  leakyRelu: (inp, p) => ({ y: leakyReluCpu(inp.tensor('x'), p.slope) }),
  tanh: (inp) => ({ y: tanhCpu(inp.tensor('x')) }),
  sigmoid: (inp) => ({ y: sigmoidCpu(inp.tensor('x')) }),
  softplus: (inp, p) => ({ y: softplusCpu(inp.tensor('x'), p.beta, p.threshold) }),
  elu: (inp, p) => ({ y: eluCpu(inp.tensor('x'), p.alpha) }),
  softmax: (inp) => ({ y: softmaxCpu(inp.tensor('x')) }),
  logSoftmax: (inp) => ({ y: logSoftmaxCpu(inp.tensor('x')) }),
};

/** Fails with the worst element's index and values unless every |a - b| <= ATOL + RTOL |b|. */
function expectClose(actual: HostTensor, expected: { shape: readonly number[]; data: ArrayLike<number> }, label: string): void {
  expect(actual.shape, `${label}: shape`).toEqual([...expected.shape]);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i];
    const b = expected.data[i];
    const excess = Math.abs(a - b) - (ATOL + RTOL * Math.abs(b));
    if (!(excess <= worstExcess)) {
      worst = i;
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
    }
  }
  if (worst >= 0) {
    expect.fail(`${label}: element ${worst} is ${actual.data[worst]}, PyTorch gives ${expected.data[worst]}`);
  }
}

const FAMILIES = ['conv', 'nn', 'pyramid', 'losses', 'activations'];
const goldens = FAMILIES.map((family) => {
  const url = new URL(`./golden/cpu_${family}.json`, import.meta.url);
  return { family, cases: (JSON.parse(readFileSync(url, 'utf8')) as { cases: GoldenCase[] }).cases };
});

for (const { family, cases } of goldens) {
  describe(`CPU references vs PyTorch: ${family}`, () => {
    for (const c of cases) {
      it(`${c.op}: ${c.name}`, () => {
        const runner = runners[c.op];
        expect(runner, `no runner for op '${c.op}'`).toBeDefined();
        const actual = runner(new Inputs(c.inputs), c.params);
        expect(Object.keys(actual).sort()).toEqual(Object.keys(c.outputs).sort());
        for (const [name, expected] of Object.entries(c.outputs)) expectClose(actual[name], expected, `${c.op} ${c.name} ${name}`);
      });
    }
  });
}

it('every runner has at least one golden case', () => {
  const covered = new Set(goldens.flatMap((g) => g.cases.map((c) => c.op)));
  expect(Object.keys(runners).filter((op) => !covered.has(op))).toEqual([]);
});

// ---------------------------------------------------------------------------------------------
// Identities that hold without PyTorch.

function dot(a: HostTensor, b: HostTensor): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i] * b.data[i];
  return s;
}

describe('CPU reference identities', () => {
  it('host helpers: sizes, strides, reproducible random tensors', () => {
    expect(size([2, 3, 4])).toBe(24);
    expect(size([])).toBe(1);
    expect(strides([2, 3, 4])).toEqual([12, 4, 1]);
    const a = randomHost([3, 5], 7, -2, 3);
    expect(Array.from(a.data)).toEqual(Array.from(randomHost([3, 5], 7, -2, 3).data));
    expect(a.data.every((v) => v >= -2 && v < 3)).toBe(true);
    expect(mulberry32(1)()).not.toBe(mulberry32(2)());
  });

  it('conv2d gradients are the adjoints of the forward: <conv(x, w), dy> = <x, dx> = <w, dw>', () => {
    const opts: Conv2dOptions = { stride: [2, 1], padding: [1, 2, 0, 1], dilation: [1, 2], groups: 2 };
    const x = randomHost([2, 4, 7, 6], 1);
    const w = randomHost([6, 2, 3, 2], 2);
    const y = conv2dCpu(x, w, null, opts);
    const dy = randomHost(y.shape, 3);
    const forward = dot(y, dy);
    expect(dot(x, conv2dBackwardInputCpu(dy, w, x.shape, opts))).toBeCloseTo(forward, 10);
    expect(dot(w, conv2dBackwardWeightCpu(x, dy, w.shape, opts))).toBeCloseTo(forward, 10);
  });

  it("conv-transpose is conv2d's input gradient when the sizes line up", () => {
    // (9 + 1 + 2 - 3) % 2 = 1 row left over: outputPadding 1 restores the 9 input rows.
    const opts = { stride: [2, 2] as Pair, padding: [1, 2, 1, 1] as Pad4, dilation: [1, 1] as Pair, outputPadding: [1, 0] as Pair };
    const x = randomHost([1, 3, 9, 7], 4);
    const w = randomHost([2, 3, 3, 3], 5);
    const dy = randomHost(conv2dCpu(x, w, null, opts).shape, 6);
    expectClose(convTranspose2dCpu(dy, w, null, opts), conv2dBackwardInputCpu(dy, w, x.shape, opts), 'convT vs dx');
  });

  it('pyramid: reconstruction is exact and pyrUp keeps constants, for odd and even sizes', () => {
    const x = randomHost([2, 3, 13, 10], 8);
    const bands = laplacianPyramidCpu(x, 3);
    expect(bands.map((b) => b.shape.slice(2))).toEqual([
      [13, 10],
      [7, 5],
      [4, 3],
      [2, 2],
    ]);
    expectClose(reconstructPyramidCpu(bands), x, 'reconstruction');
    for (const [outH, outW] of [
      [6, 8],
      [5, 7],
    ]) {
      const constant = hostTensor([1, 1, 3, 4], new Array(12).fill(0.75));
      const up = pyrUpCpu(constant, outH, outW);
      expectClose(up, { shape: [1, 1, outH, outW], data: new Array(outH * outW).fill(0.75) }, `pyrUp ${outH}x${outW}`);
    }
  });
});
