// Norm, spatial and pyramid ops beyond the generic op suite (tests/ops.test.ts checks every
// registered case forward, backward and double backward; its backward runs with createGraph on,
// i.e. the composed path). Here:
//   - the fused backward kernels (createGraph off) vs finite differences, and that they really run;
//   - larger shapes that take the register-cached, re-reading and scalar kernel paths, against the
//     CPU references and a float64 analytic backward;
//   - batch-norm running statistics (two training steps with momentum) and eval mode;
//   - exact Laplacian pyramid reconstruction; error messages.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, engine, tensor, tidy, beginScope, endScope, grad, noGrad, memory, type Tensor } from '../engine/index.js';
import { instanceNorm, batchNorm, normKernelForm } from '../engine/ops/norm.js';
import { fixedSubgroupSize } from '../engine/ops/matmul.js';
import { pad2d, upsampleNearest, upsampleBilinear, avgPool2d } from '../engine/ops/spatial.js';
import { pyrDown, pyrUp, laplacianPyramid, reconstructPyramid, laplacianBand } from '../engine/ops/pyramid.js';
import { opRegistry, type HostTensor } from '../engine/ops/registry.js';
import { checkOpCase, caseLabel, normErr } from './support/opcheck.js';
import { casesOf } from './support/op_cases.js';
import { randomHost } from '../engine/ops/cpu/host.js';
import {
  instanceNormCpu,
  batchNormTrainCpu,
  batchNormEvalCpu,
  padCpu,
  upsampleBilinearCpu,
  upsampleNearestCpu,
  avgPool2dCpu,
} from '../engine/ops/cpu/nn.js';
import { laplacianPyramidCpu, pyrDownCpu, pyrUpCpu } from '../engine/ops/cpu/pyramid.js';

beforeAll(async () => {
  await initEngine();
});

const up = (h: HostTensor, requireGrad = false): Tensor => {
  const t = tensor(Float32Array.from(h.data), h.shape);
  return requireGrad ? t.requireGrad() : t;
};

/** Runs fn with dispatch tracing on; returns the kernel keys it launched. */
function traced<T>(fn: () => T): { result: T; kernels: string[] } {
  const e = engine();
  const prev = e.trace;
  e.trace = [];
  try {
    const result = fn();
    return { result, kernels: e.trace.map((d) => d.kernel) };
  } finally {
    e.trace = prev;
  }
}

describe('fused norm backward (createGraph off) vs finite differences', () => {
  for (const name of ['instance_norm', 'batch_norm']) {
    const spec = opRegistry.find((s) => s.name === name)!;
    for (const c of casesOf(name)) {
      it(`${name} ${caseLabel(c)}`, async () => {
        const rs = await checkOpCase(spec, c, 4321, { doubleBackward: false });
        const bad = rs.filter((r) => !r.ok);
        expect(bad.map((r) => `${r.stage} ${r.message ?? ''} err=${r.err.toExponential(2)} tol=${r.tol}`)).toEqual([]);
        expect(rs.some((r) => r.stage === 'backward')).toBe(true);
      });
    }
  }

  it('uses the fused kernel without createGraph and the composed ops with it', () => {
    tidy(() => {
      const x = up(randomHost([2, 3, 4, 4], 1), true);
      const g = up(randomHost([3], 2, 0.5, 1.5), true);
      const b = up(randomHost([3], 3), true);
      // The tape consumes (disposes) the output gradient of a non-createGraph pass: one per call.
      const gy = () => up(randomHost([2, 3, 4, 4], 4));
      for (const norm of [
        () => instanceNorm(x, g, b, { activation: 'leaky_relu', slope: 0.2 }),
        () => batchNorm(x, g, b, { training: true, activation: 'relu' }),
      ]) {
        const fused = traced(() => grad(norm(), [x, g, b], { gradOutputs: [gy()] }));
        expect(fused.kernels.filter((k) => k.startsWith('norm_backward')).length).toBe(1);
        const composed = traced(() => grad(norm(), [x, g, b], { gradOutputs: [gy()], createGraph: true }));
        expect(composed.kernels.some((k) => k.startsWith('norm_backward'))).toBe(false);
      }
    });
  });
});

// ---- larger shapes: every kernel path -------------------------------------------------------------

/** float64 gradients of L = <act(norm(x)), gy> for instance ('instance') or batch statistics. */
function normBackwardCpu(
  kind: 'instance' | 'batch',
  x: HostTensor,
  gamma: HostTensor | null,
  y: HostTensor,
  gy: HostTensor,
  act: 'relu' | 'leaky_relu' | undefined,
  slope: number,
  eps: number,
) {
  const [n, c] = x.shape;
  const plane = x.data.length / (n * c);
  const groups = kind === 'instance' ? n * c : c;
  const members = (gi: number): number[] => {
    const out: number[] = [];
    if (kind === 'instance') for (let p = 0; p < plane; p++) out.push(gi * plane + p);
    else for (let s = 0; s < n; s++) for (let p = 0; p < plane; p++) out.push((s * c + gi) * plane + p);
    return out;
  };
  const dx = new Float64Array(x.data.length);
  const dgamma = new Float64Array(c);
  const dbeta = new Float64Array(c);
  for (let gi = 0; gi < groups; gi++) {
    const idx = members(gi);
    const ch = kind === 'instance' ? gi % c : gi;
    const M = idx.length;
    let mean = 0;
    for (const i of idx) mean += x.data[i];
    mean /= M;
    let v = 0;
    for (const i of idx) v += (x.data[i] - mean) ** 2;
    const rstd = 1 / Math.sqrt(v / M + eps);
    let s1 = 0;
    let s2 = 0;
    const gz = idx.map((i) => gy.data[i] * (act === undefined || y.data[i] > 0 ? 1 : act === 'relu' ? 0 : slope));
    const xh = idx.map((i) => (x.data[i] - mean) * rstd);
    idx.forEach((_, k) => {
      s1 += gz[k];
      s2 += gz[k] * xh[k];
    });
    dbeta[ch] += s1;
    dgamma[ch] += s2;
    const f = (gamma ? gamma.data[ch] : 1) * rstd;
    idx.forEach((i, k) => (dx[i] = f * (gz[k] - s1 / M - xh[k] * (s2 / M))));
  }
  return { dx, dgamma, dbeta };
}

function applyActCpu(y: HostTensor, act: 'relu' | 'leaky_relu' | undefined, slope: number): HostTensor {
  return act ? { shape: y.shape, data: y.data.map((v) => (v > 0 ? v : act === 'relu' ? 0 : slope * v)) } : y;
}

describe('norm kernel paths at larger sizes', () => {
  // [shape, note]: plane % 4 == 0 takes vec4; items per thread decide cached (<= 16 forward,
  // <= 8 backward) or re-read.
  const cases: { kind: 'instance' | 'batch'; shape: number[]; act?: 'relu' | 'leaky_relu'; affine: boolean; note: string }[] = [
    { kind: 'instance', shape: [2, 3, 32, 32], affine: true, note: 'vec4, cached' },
    { kind: 'instance', shape: [1, 2, 130, 130], affine: false, act: 'leaky_relu', note: 'vec4, re-read forward and backward' },
    { kind: 'instance', shape: [1, 2, 61, 61], affine: true, act: 'relu', note: 'scalar, cached forward, re-read backward' },
    { kind: 'batch', shape: [3, 2, 50, 50], affine: true, note: 'vec4, cached' },
    { kind: 'batch', shape: [8, 2, 45, 45], affine: true, act: 'leaky_relu', note: 'scalar, re-read' },
    { kind: 'batch', shape: [700, 3], affine: true, note: '[N, C] input' },
  ];
  // The one-subgroup form (software adapters: subgroupAdd reductions, 8 lanes on llvmpipe) caches
  // up to 16 / 8 items per lane: these take its cached and re-read paths.
  const small: typeof cases = [
    { kind: 'instance', shape: [2, 3, 8, 8], affine: true, act: 'relu', note: 'vec4, cached in the subgroup form' },
    { kind: 'instance', shape: [1, 2, 13, 13], affine: false, act: 'leaky_relu', note: 'scalar, re-read in the subgroup form' },
    { kind: 'batch', shape: [3, 2, 6, 6], affine: true, act: 'leaky_relu', note: 'vec4, cached in the subgroup form' },
  ];
  const forms: ['workgroup' | 'subgroup', typeof cases][] = [
    ['workgroup', cases],
    // (On software adapters the subgroup form is also the default every other norm test runs.)
    ['subgroup', [...cases.slice(5), ...small]],
  ];
  for (const [form, list] of forms) {
    for (const c of list) {
      it(`${c.kind} norm ${c.shape.join('x')} (${c.note}), ${form} form`, async (ctx) => {
        if (form === 'subgroup' && !fixedSubgroupSize()) ctx.skip();
        normKernelForm.choice = form;
        try {
          await checkNormCase(c, form);
        } finally {
          normKernelForm.choice = 'auto';
        }
      });
    }
  }

  async function checkNormCase(c: (typeof cases)[number], form: 'workgroup' | 'subgroup') {
    const C = c.shape[1];
    const slope = 0.2;
    const xh = randomHost(c.shape, 11, -2, 3);
    const gh = c.affine ? randomHost([C], 12, 0.5, 1.5) : null;
    const bh = c.affine ? randomHost([C], 13) : null;
    const gyh = randomHost(c.shape, 14);
    const ref = applyActCpu(c.kind === 'instance' ? instanceNormCpu(xh, gh, bh) : batchNormTrainCpu(xh, gh, bh).y, c.act, slope);
    beginScope();
    try {
      const x = up(xh, true);
      const g = gh ? up(gh, true) : null;
      const b = bh ? up(bh, true) : null;
      const opts = { activation: c.act, slope };
      const { result: y, kernels } = traced(() =>
        c.kind === 'instance' ? instanceNorm(x, g, b, opts) : batchNorm(x, g, b, { ...opts, training: true }),
      );
      expect(normErr(await y.data(), ref.data)).toBeLessThan(1e-5);
      const inputs = [x, ...(g ? [g] : []), ...(b ? [b] : [])];
      const { result: fused, kernels: bk } = traced(() => grad(y, inputs, { gradOutputs: [up(gyh)] }));
      const normKernels = [...kernels, ...bk].filter((k) => k.startsWith('norm_'));
      expect(normKernels.length, 'forward and fused backward norm kernels').toBe(2);
      for (const k of normKernels) expect(k.includes('|sg'), `${k} in the ${form} form`).toBe(form === 'subgroup');
      const composed = grad(y, inputs, { gradOutputs: [up(gyh)], createGraph: true });
      const want = normBackwardCpu(c.kind, xh, gh, ref, gyh, c.act, slope, 1e-5);
      const wants = [want.dx, ...(g ? [want.dgamma] : []), ...(b ? [want.dbeta] : [])];
      for (let k = 0; k < inputs.length; k++) {
        expect(normErr(await fused[k].data(), wants[k]), `fused grad ${k}`).toBeLessThan(2e-4);
        expect(normErr(await composed[k].data(), wants[k]), `composed grad ${k}`).toBeLessThan(2e-4);
      }
    } finally {
      endScope();
    }
  }
});

// ---- batch norm running statistics ----------------------------------------------------------------

describe('batch norm running statistics', () => {
  for (const shape of [
    [4, 3, 5, 6],
    [6, 5],
    [2, 4, 8, 8],
  ]) {
    it(`two training steps then eval, ${shape.join('x')}`, async () => {
      const C = shape[1];
      const momentum = 0.3;
      const rm = tidy(() => tensor(new Float32Array(C).fill(0), [C])).keep();
      const rv = tidy(() => tensor(new Float32Array(C).fill(1), [C])).keep();
      let hm = new Float64Array(C).fill(0);
      let hv = new Float64Array(C).fill(1);
      const gh = randomHost([C], 21, 0.5, 1.5);
      const bh = randomHost([C], 22);
      for (const seed of [31, 32]) {
        const xh = randomHost(shape, seed, -1, 2);
        const ref = batchNormTrainCpu(xh, gh, bh);
        const y = tidy(() => batchNorm(up(xh), up(gh), up(bh), { training: true, runningMean: rm, runningVar: rv, momentum }));
        expect(normErr(await y.data(), ref.y.data)).toBeLessThan(1e-5);
        y.dispose();
        hm = hm.map((v, i) => (1 - momentum) * v + momentum * ref.mean.data[i]);
        hv = hv.map((v, i) => (1 - momentum) * v + momentum * ref.varUnbiased.data[i]);
        expect(normErr(await rm.data(), hm)).toBeLessThan(1e-5);
        expect(normErr(await rv.data(), hv)).toBeLessThan(1e-5);
      }
      // Eval normalises with the running statistics and leaves them alone.
      const xh = randomHost(shape, 33);
      const ref = batchNormEvalCpu(xh, { shape: [C], data: hm }, { shape: [C], data: hv }, gh, bh);
      const y = tidy(() => batchNorm(up(xh), up(gh), up(bh), { training: false, runningMean: rm, runningVar: rv }));
      expect(normErr(await y.data(), ref.data)).toBeLessThan(1e-5);
      expect(normErr(await rm.data(), hm)).toBeLessThan(1e-5);
      y.dispose();
      rm.dispose();
      rv.dispose();
    });
  }

  it('updates the running stats under noGrad too, and only the one given', async () => {
    const rm = tidy(() => tensor([0, 0], [2])).keep();
    const xh = randomHost([3, 2, 2, 2], 41);
    const ref = batchNormTrainCpu(xh, null, null);
    tidy(() => noGrad(() => batchNorm(up(xh), null, null, { training: true, runningMean: rm })));
    expect(
      normErr(
        await rm.data(),
        ref.mean.data.map((v) => 0.1 * v),
      ),
    ).toBeLessThan(1e-5);
    rm.dispose();
  });
});

describe('instance norm running statistics (PyTorch track_running_stats)', () => {
  // float64: the batch average of each (n, c) plane's mean and unbiased variance, blended in.
  function expectedRunning(xh: HostTensor, m0: Float64Array, v0: Float64Array, momentum: number) {
    const [N, C] = xh.shape;
    const plane = xh.data.length / (N * C);
    const m = Float64Array.from(m0);
    const v = Float64Array.from(v0);
    for (let c = 0; c < C; c++) {
      let sm = 0;
      let sv = 0;
      for (let n = 0; n < N; n++) {
        const p = Array.from(xh.data.slice((n * C + c) * plane, (n * C + c + 1) * plane));
        const mu = p.reduce((a, b) => a + b, 0) / plane;
        sm += mu;
        sv += plane > 1 ? p.reduce((a, b) => a + (b - mu) ** 2, 0) / (plane - 1) : 0;
      }
      m[c] = (1 - momentum) * m[c] + (momentum * sm) / N;
      v[c] = (1 - momentum) * v[c] + (momentum * sv) / N;
    }
    return { m, v };
  }

  for (const shape of [
    [3, 4, 5, 6], // plane 30: the scalar kernel
    [2, 3, 8, 8], // plane 64: vec4
    [5, 2, 1, 1], // one value a plane: unbiased variance 0, as PyTorch's running_var update (bessel 0)
  ]) {
    it(`two training steps, ${shape.join('x')}: the output as without running stats, the stats as float64`, async () => {
      const C = shape[1];
      const momentum = 0.25;
      const rm = tidy(() => tensor(new Float32Array(C).fill(0.5), [C])).keep();
      const rv = tidy(() => tensor(new Float32Array(C).fill(2), [C])).keep();
      let hm = new Float64Array(C).fill(0.5);
      let hv = new Float64Array(C).fill(2);
      const gh = randomHost([C], 51, 0.5, 1.5);
      const bh = randomHost([C], 52);
      for (const seed of [61, 62]) {
        const xh = randomHost(shape, seed, -1, 2);
        const [y, y0] = tidy(() => [
          instanceNorm(up(xh), up(gh), up(bh), { runningMean: rm, runningVar: rv, momentum }).keep(),
          instanceNorm(up(xh), up(gh), up(bh)).keep(),
        ]);
        expect(Array.from(await y.data())).toEqual(Array.from(await y0.data()));
        y.dispose();
        y0.dispose();
        ({ m: hm, v: hv } = expectedRunning(xh, hm, hv, momentum));
        expect(normErr(await rm.data(), hm)).toBeLessThan(1e-5);
        expect(normErr(await rv.data(), hv)).toBeLessThan(1e-5);
      }
      rm.dispose();
      rv.dispose();
    });
  }

  it('updates only the one given, under noGrad too, and with a residual', async () => {
    const xh = randomHost([3, 2, 4, 4], 71);
    const rv = tidy(() => tensor([1, 1], [2])).keep();
    tidy(() => noGrad(() => instanceNorm(up(xh), null, null, { runningVar: rv })));
    const want = expectedRunning(xh, new Float64Array(2), new Float64Array(2).fill(1), 0.1);
    expect(normErr(await rv.data(), want.v)).toBeLessThan(1e-5);
    const rm = tidy(() => tensor([0, 0], [2])).keep();
    const res = randomHost([3, 2, 4, 4], 72);
    const [y, y0] = tidy(() => [
      instanceNorm(up(xh), null, null, { runningMean: rm, residual: up(res) }).keep(),
      instanceNorm(up(xh), null, null, { residual: up(res) }).keep(),
    ]);
    expect(Array.from(await y.data())).toEqual(Array.from(await y0.data()));
    expect(normErr(await rm.data(), want.m)).toBeLessThan(1e-5);
    for (const t of [rv, rm, y, y0]) t.dispose();
  });
});

// ---- pyramid ---------------------------------------------------------------------------------------

describe('Laplacian pyramid', () => {
  it('reconstructPyramid(laplacianPyramid(x)) == x to float precision', async () => {
    for (const [shape, levels] of [
      [[2, 3, 37, 50], 3],
      [[1, 1, 64, 64], 4],
      [[1, 2, 5, 5], 1],
    ] as const) {
      const xh = randomHost([...shape], 51, -1, 1);
      beginScope();
      const bands = laplacianPyramid(up(xh), levels);
      expect(bands.length).toBe(levels + 1);
      const ref = laplacianPyramidCpu(xh, levels);
      for (let k = 0; k < bands.length; k++) {
        expect(bands[k].shape).toEqual(ref[k].shape);
        expect(normErr(await bands[k].data(), ref[k].data)).toBeLessThan(1e-5);
      }
      const back = await reconstructPyramid(bands).data();
      let worst = 0;
      for (let i = 0; i < back.length; i++) worst = Math.max(worst, Math.abs(back[i] - Math.fround(xh.data[i])));
      expect(worst).toBeLessThan(1e-6);
      endScope();
    }
  });

  it('pyrDown / pyrUp match the CPU references on larger odd shapes', async () => {
    const xh = randomHost([1, 2, 33, 46], 61);
    const sh = randomHost([1, 2, 17, 23], 62);
    beginScope();
    expect(normErr(await pyrDown(up(xh)).data(), pyrDownCpu(xh).data)).toBeLessThan(1e-5);
    expect(normErr(await pyrUp(up(sh), 33, 46).data(), pyrUpCpu(sh, 33, 46).data)).toBeLessThan(1e-5);
    expect(normErr(await pyrUp(up(sh)).data(), pyrUpCpu(sh, 34, 46).data)).toBeLessThan(1e-5);
    endScope();
  });

  it('a constant image has zero bands', async () => {
    beginScope();
    const band = await laplacianBand(tensor(new Float32Array(2 * 9 * 7).fill(0.7), [1, 2, 9, 7])).data();
    expect(Math.max(...band.map(Math.abs))).toBeLessThan(1e-6);
    endScope();
  });
});

// ---- spatial ops at larger sizes ------------------------------------------------------------------

describe('spatial ops at larger sizes', () => {
  it('pad, upsample and pool match the CPU references', async () => {
    const xh = randomHost([2, 3, 17, 22], 71);
    beginScope();
    const x = up(xh);
    for (const mode of ['zeros', 'reflect', 'replicate'] as const) {
      expect(normErr(await pad2d(x, [3, 1, 0, 5], mode, 0.25).data(), padCpu(xh, [3, 1, 0, 5], mode, 0.25).data)).toBeLessThan(1e-6);
    }
    expect(normErr(await upsampleNearest(x, [2, 3]).data(), upsampleNearestCpu(xh, [2, 3]).data)).toBeLessThan(1e-6);
    expect(normErr(await upsampleBilinear(x, { scale: 2 }).data(), upsampleBilinearCpu(xh, 34, 44, false).data)).toBeLessThan(1e-5);
    expect(
      normErr(await upsampleBilinear(x, { size: [40, 9], alignCorners: true }).data(), upsampleBilinearCpu(xh, 40, 9, true).data),
    ).toBeLessThan(1e-5);
    expect(normErr(await avgPool2d(x, 3, 2, 1).data(), avgPool2dCpu(xh, 3, 2, 1, true).data)).toBeLessThan(1e-6);
    endScope();
  });
});

// ---- memory and errors ----------------------------------------------------------------------------

describe('memory', () => {
  it('forward + backward of every op inside tidy leaves nothing behind', () => {
    const before = memory().tensors;
    tidy(() => {
      const x = up(randomHost([2, 3, 8, 8], 81), true);
      const g = up(randomHost([3], 82), true);
      const parts = [
        instanceNorm(x, g, null, { activation: 'relu' }),
        batchNorm(x, g, null, { training: true }),
        pad2d(x, [1, 2, 3, 1], 'reflect'),
        upsampleBilinear(x, { scale: 2 }),
        avgPool2d(x, 2),
        ...laplacianPyramid(x, 2),
      ];
      for (const p of parts) grad(p, [x, g], { gradOutputs: [tensor(new Float32Array(p.size).fill(1), p.shape)], allowUnused: true });
    });
    expect(memory().tensors).toBe(before);
  });
});

describe('errors name the op, the shapes and the fix', () => {
  const x = () => tensor(new Float32Array(2 * 3 * 4 * 5), [2, 3, 4, 5]);
  const cases: [string, () => unknown, RegExp][] = [
    [
      'reflect pad >= dim',
      () => pad2d(x(), [4, 0, 0, 0], 'reflect'),
      /pad2d_reflect: reflect padding \[4, 0, 0, 0\].*\[2, 3, 4, 5\].*H 4 allows at most 3/,
    ],
    ['negative pad', () => pad2d(x(), [-1, 0, 0, 0]), /pad2d_zeros: padding must be 4 integers >= 0/],
    [
      'batch norm one value per channel',
      () => batchNorm(tensor([1, 2, 3], [1, 3]), null, null, { training: true }),
      /batch_norm: training needs more than 1 value per channel.*\[1, 3\]/,
    ],
    [
      'eval without running stats',
      () => batchNorm(x(), null, null, { training: false }),
      /batch_norm: eval mode .*runningMean and runningVar/,
    ],
    [
      'gamma shape',
      () => instanceNorm(x(), tensor([1, 2], [2]), null),
      /instance_norm: gamma has shape \[2\] but x \[2, 3, 4, 5\] has 3 channels/,
    ],
    ['instance norm rank', () => instanceNorm(tensor([1, 2, 3, 4], [2, 2]), null, null), /instance_norm: x must be \[N, C, H, W\]/],
    ['negative slope', () => instanceNorm(x(), null, null, { activation: 'leaky_relu', slope: -1 }), /slope >= 0/],
    ['pool padding', () => avgPool2d(x(), 2, 1, 2), /avg_pool2d: padding 2x2 must be at most half the kernel 2x2/],
    [
      'pyrDown too small',
      () => pyrDown(tensor(new Float32Array(4), [1, 1, 2, 2])),
      /pyr_down: the reflect padding of 2 needs planes of at least 3x3, got 2x2/,
    ],
    ['pyrUp bad size', () => pyrUp(x(), 9, 10), /pyr_up: x \[2, 3, 4, 5\] cannot be expanded to 9x10/],
    ['too many levels', () => laplacianPyramid(x(), 3), /laplacian_pyramid: level 1 is 2x3, too small/],
    ['bilinear no size', () => upsampleBilinear(x(), {}), /upsample_bilinear: pass \{ size: \[h, w\] \} or \{ scale \}/],
    ['nearest scale', () => upsampleNearest(x(), 1.5), /upsample_nearest: scale must be an integer >= 1/],
    ['rank', () => pad2d(tensor([1, 2, 3], [3]), [1, 1, 1, 1]), /pad2d_zeros: expects x of shape \[N, C, H, W\], got \[3\]/],
  ];
  for (const [label, fn, re] of cases) {
    it(label, () => {
      tidy(() => {
        expect(fn).toThrow(re);
      });
    });
  }
});
