// Convolution and matmul kernels beyond the generic op suite: larger shapes (still quick on a
// software adapter) compared with the CPU float64 references in every pass, with each tile shape
// and split-K forced in turn so every tile edge (partial M tile, partial N tile, partial K step,
// uneven splits) is exercised; stride-phase launches of the input gradient; and error messages.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initEngine, engine, tensor, tidy, noGrad, grad } from '../engine/index.js';
import { sum } from '../engine/ops/reduce.js';
import { mul } from '../engine/ops/elementwise.js';
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight, convTranspose2d } from '../engine/ops/conv.js';
import { matmul, linear, setGemmOverride, directGemmAvailable } from '../engine/ops/matmul.js';
import { GEMM_TILES, type GemmTileName } from '../shaders/matmul.js';
import {
  conv2dCpu,
  conv2dBackwardInputCpu,
  conv2dBackwardWeightCpu,
  convTranspose2dCpu,
  type Conv2dOptions,
} from '../engine/ops/cpu/conv.js';
import { matmulCpu } from '../engine/ops/cpu/nn.js';
import type { HostTensor } from '../engine/ops/registry.js';
import { mulberry32, normErr } from './support/opcheck.js';

beforeAll(async () => {
  await initEngine();
});
afterEach(() => setGemmOverride(null));

const rand = mulberry32(42);
function host(shape: number[]): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float64Array.from({ length: n }, () => Math.fround(rand() * 2 - 1)) };
}
const up = (h: HostTensor) => tensor(Float32Array.from(h.data), h.shape);

async function expectClose(got: ReturnType<typeof up>, ref: HostTensor, what: string, tol = 2e-5) {
  expect(got.shape, what).toEqual(ref.shape);
  const err = normErr(await got.data(), ref.data);
  expect(err, `${what}: normalised error ${err.toExponential(2)}`).toBeLessThanOrEqual(tol);
}

interface ConvCase {
  label: string;
  x: number[];
  w: number[];
  opts: { stride?: [number, number]; padding?: [number, number, number, number]; dilation?: [number, number] };
}

const convCases: ConvCase[] = [
  { label: 'x [2,16,13,11] w [24,16,3,3] pad 1', x: [2, 16, 13, 11], w: [24, 16, 3, 3], opts: { padding: [1, 1, 1, 1] } },
  { label: '4x4 s2 p1, 37 -> 5 channels', x: [3, 37, 10, 9], w: [5, 37, 4, 4], opts: { stride: [2, 2], padding: [1, 1, 1, 1] } },
  {
    label: '3x3 s2 asym pad, dilation [1,2]',
    x: [2, 6, 15, 14],
    w: [33, 6, 3, 3],
    opts: { stride: [2, 2], padding: [1, 0, 2, 1], dilation: [1, 2] },
  },
  { label: '1x1, 70 -> 67 channels', x: [1, 70, 5, 7], w: [67, 70, 1, 1], opts: {} },
];

const toCpu = (o: ConvCase['opts']): Conv2dOptions => ({ stride: o.stride, padding: o.padding, dilation: o.dilation });

/** Forward, input gradient and weight gradient of one case against the CPU references. */
async function checkConvPasses(c: ConvCase, tol = 2e-5) {
  const x = host(c.x);
  const w = host(c.w);
  const b = host([c.w[0]]);
  const y = conv2dCpu(x, w, b, toCpu(c.opts));
  const dy = host(y.shape);
  const [gy, gdx, gdw] = noGrad(() => {
    const xt = up(x);
    const wt = up(w);
    return [conv2d(xt, wt, up(b), c.opts), conv2dBackwardInput(up(dy), wt, c.x, c.opts), conv2dBackwardWeight(xt, up(dy), c.w, c.opts)];
  });
  await expectClose(gy, y, `${c.label}: forward`, tol);
  await expectClose(gdx, conv2dBackwardInputCpu(dy, w, c.x, toCpu(c.opts)), `${c.label}: input grad`, tol);
  await expectClose(gdw, conv2dBackwardWeightCpu(x, dy, c.w, toCpu(c.opts)), `${c.label}: weight grad`, tol);
  // conv-transpose forward is the input-gradient geometry with a bias; x plays dy.
  const wt = host([c.w[0], c.w[1], c.w[2], c.w[3]]);
  const bt = host([c.w[1]]);
  const ct = noGrad(() => convTranspose2d(up(dy), up(wt), up(bt), c.opts));
  const ref = convTranspose2dCpu(dy, wt, bt, toCpu(c.opts));
  await expectClose(ct, ref, `${c.label}: conv-transpose`, tol);
}

describe('conv passes vs the CPU reference', () => {
  for (const c of convCases) {
    it(`${c.label} (automatic tile choice)`, async () => {
      await checkConvPasses(c);
    }, 300_000);
  }

  // Every tile shape on a shape that leaves partial tiles in M, N and K for all of them; the
  // weight gradient (the pass that needs it) goes through an uneven split-K. Each pass is its own
  // pipeline per tile, so this stays at three GEMM launches per tile (compiles dominate on a CPU).
  for (const tile of Object.keys(GEMM_TILES) as GemmTileName[]) {
    it(`forward, input grad (split 1) and weight grad (split 3) with tile ${tile}`, async () => {
      const c = { x: [1, 6, 13, 11], w: [37, 6, 3, 3], opts: { padding: [1, 1, 1, 1] as [number, number, number, number] } };
      const x = host(c.x);
      const w = host(c.w);
      const y = conv2dCpu(x, w, null, toCpu(c.opts));
      const dy = host(y.shape);
      setGemmOverride({ tile, splits: 1 });
      const [gy, gdx] = noGrad(() => [conv2d(up(x), up(w), null, c.opts), conv2dBackwardInput(up(dy), up(w), c.x, c.opts)]);
      setGemmOverride({ tile, splits: 3 });
      const gdw = noGrad(() => conv2dBackwardWeight(up(x), up(dy), c.w, c.opts));
      await expectClose(gy, y, `${tile}: forward`);
      await expectClose(gdx, conv2dBackwardInputCpu(dy, w, c.x, toCpu(c.opts)), `${tile}: input grad`);
      await expectClose(gdw, conv2dBackwardWeightCpu(x, dy, c.w, toCpu(c.opts)), `${tile}: weight grad`);
    }, 300_000);
  }

  // The direct kernel (the default on software adapters with subgroups: one column per
  // invocation, subgroup-broadcast weights) with each row-group count, on channel counts that
  // leave every row block partial; the input gradient runs phase-batched (8 columns: even phases)
  // and per phase (9 rows: uneven), the conv-transpose forward adds a bias. Skipped where the
  // device has no fixed subgroup size (the tiled kernels above are then the only path).
  for (const q of [1, 2, 4]) {
    it(`direct kernel, ${q} row group(s) per invocation: every pass`, async (ctx) => {
      if (!directGemmAvailable()) ctx.skip();
      setGemmOverride({ direct: true, directRowGroups: q });
      await checkConvPasses({
        label: `direct q=${q}`,
        x: [2, 11, 9, 8],
        w: [13, 11, 4, 4],
        opts: { stride: [2, 2], padding: [1, 1, 1, 1] },
      });
    }, 300_000);
  }

  // An adapter allows 65535 workgroups per dimension; a GEMM with more column blocks than that
  // (over 4.2M output pixels x batch for the 64-wide direct kernel) folds them into slices along
  // z. Simulated here by lowering the engine's copy of the limit to 16 so that small shapes need
  // 2-3 slices (x [2, 3, 24, 24], 3x3 pad 1: 1152 columns in the forward and input gradient =
  // 18 direct blocks, 36 t32 blocks); every other launch of these passes stays within 16, so the
  // engine's own dispatch check fails the test if a GEMM does not fold.
  for (const mode of ['direct', 't32'] as const) {
    it(`column blocks past the workgroups-per-dimension limit fold into z (${mode})`, async (ctx) => {
      if (mode === 'direct' && !directGemmAvailable()) ctx.skip();
      const e = engine() as { limits: GPUSupportedLimits };
      const saved = e.limits;
      e.limits = { ...saved, maxComputeWorkgroupsPerDimension: 16 } as GPUSupportedLimits;
      try {
        const c: ConvCase = { label: `folded ${mode}`, x: [2, 3, 24, 24], w: [5, 3, 3, 3], opts: { padding: [1, 1, 1, 1] } };
        if (mode === 'direct') {
          setGemmOverride({ direct: true, directRowGroups: 1 });
          await checkConvPasses(c);
        } else {
          // The forward and input-gradient kernels the tile test above compiles (same keys).
          setGemmOverride({ tile: 't32', splits: 1 });
          const x = host(c.x);
          const w = host(c.w);
          const dy = host(conv2dCpu(x, w, null, toCpu(c.opts)).shape);
          const [gy, gdx] = noGrad(() => [conv2d(up(x), up(w), null, c.opts), conv2dBackwardInput(up(dy), up(w), c.x, c.opts)]);
          await expectClose(gy, conv2dCpu(x, w, null, toCpu(c.opts)), 'folded t32: forward');
          await expectClose(gdx, conv2dBackwardInputCpu(dy, w, c.x, toCpu(c.opts)), 'folded t32: input grad');
        }
      } finally {
        e.limits = saved;
        setGemmOverride(null);
      }
    }, 300_000);
  }

  it('input gradient with stride 3 and dilation 2 (phases with 0, 1 and 2 taps)', async () => {
    // kh*2 = r + pt (mod 3) has solutions kh in {0..3} for every phase here, but with different
    // tap counts; kernel 2 leaves some phases with no tap at all (their dx must be exactly 0).
    for (const w of [
      [3, 4, 4, 4],
      [3, 4, 2, 2],
    ]) {
      await checkConvPasses({ label: `w ${w}`, x: [1, 4, 11, 10], w, opts: { stride: [3, 3], padding: [2, 1, 0, 2], dilation: [2, 2] } });
    }
  });

  it('conv-transpose CycleGAN and DCGAN geometries at a larger size', async () => {
    for (const [xs, ws, opts] of [
      [[2, 20, 6, 5], [20, 9, 3, 3], { stride: 2, padding: 1, outputPadding: 1 }],
      [[2, 24, 4, 4], [24, 12, 4, 4], { stride: 2, padding: 1 }],
      [[3, 10, 1, 1], [10, 8, 4, 4], { stride: 1, padding: 0 }],
    ] as const) {
      const x = host([...xs]);
      const w = host([...ws]);
      const b = host([ws[1]]);
      const p = opts.padding;
      const cpuOpts = {
        stride: [opts.stride, opts.stride] as [number, number],
        padding: [p, p, p, p] as [number, number, number, number],
        outputPadding: ['outputPadding' in opts ? opts.outputPadding : 0, 'outputPadding' in opts ? opts.outputPadding : 0] as [
          number,
          number,
        ],
      };
      const y = noGrad(() => convTranspose2d(up(x), up(w), up(b), opts));
      await expectClose(y, convTranspose2dCpu(x, w, b, cpuOpts), `convT ${xs} ${ws}`);
    }
  }, 300_000);

  it('conv2d gradients through autograd match the reference passes (and free their temporaries)', async () => {
    const c = convCases[1];
    const x = host(c.x);
    const w = host(c.w);
    const y = conv2dCpu(x, w, null, toCpu(c.opts));
    const G = host(y.shape);
    setGemmOverride({ splits: 4 });
    const before = engine().memory().liveBuffers;
    const [gx, gw] = tidy(() => {
      const xt = up(x).requireGrad();
      const wt = up(w).requireGrad();
      const loss = sum(mul(conv2d(xt, wt, null, c.opts), up(G)));
      return grad(loss, [xt, wt]);
    });
    await expectClose(gx, conv2dBackwardInputCpu(G, w, c.x, toCpu(c.opts)), 'dx');
    await expectClose(gw, conv2dBackwardWeightCpu(x, G, c.w, toCpu(c.opts)), 'dw');
    gx.dispose();
    gw.dispose();
    expect(engine().memory().liveBuffers).toBe(before);
  });
});

describe('matmul and linear vs the CPU reference', () => {
  const shapes: [number[], number[], boolean, boolean][] = [
    [[37, 45], [45, 133], false, false],
    [[45, 37], [45, 133], true, false],
    [[37, 45], [133, 45], false, true],
    [[2, 45, 70], [2, 66, 45], true, true],
    [[3, 21, 19], [19, 130], false, false],
  ];
  it('all transpose modes (automatic tile choice)', async () => {
    for (const [as, bs, transA, transB] of shapes) {
      const a = host(as);
      const b = host(bs);
      const y = noGrad(() => matmul(up(a), up(b), { transA, transB }));
      await expectClose(y, matmulCpu(a, b, { transA, transB }), `matmul ${as} x ${bs} tA=${transA} tB=${transB}`);
    }
  }, 300_000);
  for (const tile of Object.keys(GEMM_TILES) as GemmTileName[]) {
    it(`tile ${tile}: staging along each operand's contiguous dim, uneven split-K`, async () => {
      // [a, b] stored as-is and both transposed: the two staging layouts of each operand.
      for (const [as, bs, transA, transB, splits] of [
        [[37, 45], [45, 133], false, false, 1],
        [[2, 45, 70], [2, 66, 45], true, true, 3],
      ] as const) {
        setGemmOverride({ tile, splits });
        const a = host([...as]);
        const b = host([...bs]);
        const y = noGrad(() => matmul(up(a), up(b), { transA, transB }));
        await expectClose(y, matmulCpu(a, b, { transA, transB }), `${tile}: matmul ${as} x ${bs} tA=${transA} tB=${transB}`);
      }
    }, 300_000);
  }

  // The direct kernel (the default on software adapters with subgroups) with each row-group
  // count: every transpose mode, a batch broadcast of a rank-2 operand, linear's bias, row counts
  // that leave the last row block partial; and the same bits as the tiled kernel without split-K
  // (both sum k ascending with fma).
  for (const q of [1, 2, 4]) {
    it(`direct kernel, ${q} row group(s) per invocation: transpose modes, broadcast, bias`, async (ctx) => {
      if (!directGemmAvailable()) ctx.skip();
      for (const [as, bs, transA, transB] of shapes) {
        setGemmOverride({ direct: true, directRowGroups: q });
        const a = host(as);
        const b = host(bs);
        const y = noGrad(() => matmul(up(a), up(b), { transA, transB }));
        const what = `direct q=${q}: matmul ${as} x ${bs} tA=${transA} tB=${transB}`;
        await expectClose(y, matmulCpu(a, b, { transA, transB }), what);
        setGemmOverride({ tile: 't32', splits: 1 });
        const tiled = noGrad(() => matmul(up(a), up(b), { transA, transB }));
        expect(Array.from(await y.data()), `${what}: bits of the tiled t32 kernel`).toEqual(Array.from(await tiled.data()));
      }
      setGemmOverride({ direct: true, directRowGroups: q });
      const x = host([19, 70]);
      const w = host([33, 70]);
      const bias = host([33]);
      const ref = matmulCpu(x, w, { transB: true });
      ref.data = ref.data.map((v, i) => v + bias.data[i % 33]);
      await expectClose(
        noGrad(() => linear(up(x), up(w), up(bias))),
        ref,
        `direct q=${q}: linear`,
      );
    }, 300_000);
  }

  it('linear adds its bias in the epilogue, also through split-K', async () => {
    const x = host([19, 70]);
    const w = host([33, 70]);
    const b = host([33]);
    const ref = matmulCpu(x, w, { transB: true });
    ref.data = ref.data.map((v, i) => v + b.data[i % 33]);
    for (const splits of [1, 3]) {
      setGemmOverride({ splits });
      await expectClose(
        noGrad(() => linear(up(x), up(w), up(b))),
        ref,
        `linear splits ${splits}`,
      );
    }
  });
});

describe('shape errors name the op, the shapes and the fix', () => {
  const t = (shape: number[]) => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
  it('conv2d channel mismatch', () => {
    expect(() => conv2d(t([2, 3, 8, 8]), t([64, 1, 4, 4]))).toThrow(
      /conv2d: input \[2, 3, 8, 8\] has 3 channels but weight \[64, 1, 4, 4\] expects 1; make the weight \[64, 3, 4, 4\]/,
    );
  });
  it('conv2d kernel larger than the padded input', () => {
    expect(() => conv2d(t([1, 3, 3, 3]), t([4, 3, 7, 7]), null, { padding: 1 })).toThrow(
      /conv2d: kernel 7x7 .* larger than the padded input 5x5 .*add padding/,
    );
  });
  it('conv2d rank and bias', () => {
    expect(() => conv2d(t([3, 8, 8]), t([4, 3, 3, 3]))).toThrow(
      /conv2d: input must be 4-D \[N, C, H, W\], got \[3, 8, 8\]; add the batch dim/,
    );
    expect(() => conv2d(t([1, 3, 8, 8]), t([4, 3, 3, 3]), t([3]))).toThrow(/conv2d: bias \[3\] must be \[4\]/);
    expect(() => conv2d(t([1, 3, 8, 8]), t([4, 3, 3, 3]), null, { stride: 0 })).toThrow(/conv2d: stride \[0, 0\] must be integers >= 1/);
  });
  it('convTranspose2d weight layout and outputPadding', () => {
    expect(() => convTranspose2d(t([1, 8, 4, 4]), t([4, 8, 4, 4]))).toThrow(
      /convTranspose2d: input \[1, 8, 4, 4\] has 8 channels but weight \[4, 8, 4, 4\] expects 4 \(conv-transpose weights are \[in, out, kh, kw\]/,
    );
    expect(() => convTranspose2d(t([1, 8, 4, 4]), t([8, 4, 3, 3]), null, { stride: 2, outputPadding: 2 })).toThrow(
      /outputPadding \[2, 2\] must be .* smaller than the stride/,
    );
  });
  it('backward ops check dy against the forward geometry', () => {
    expect(() => conv2dBackwardInput(t([1, 4, 5, 5]), t([4, 3, 3, 3]), [1, 3, 8, 8], { padding: 1 })).toThrow(
      /conv2dBackwardInput: dy \[1, 4, 5, 5\] does not match the forward output \[1, 4, 8, 8\]/,
    );
    expect(() => conv2dBackwardWeight(t([1, 3, 8, 8]), t([1, 4, 6, 6]), [4, 3, 3, 3], { padding: 1 })).toThrow(
      /conv2dBackwardWeight: dy \[1, 4, 6, 6\] does not match/,
    );
  });
  it('matmul and linear', () => {
    expect(() => matmul(t([3, 4]), t([5, 6]))).toThrow(
      /matmul: inner sizes differ: a \[3, 4\] gives K = 4, b \[5, 6\] gives K = 5; transpose an operand/,
    );
    expect(() => matmul(t([2, 3, 4]), t([3, 4, 5]))).toThrow(/matmul: batch sizes differ/);
    expect(() => matmul(t([2, 3, 4, 5]), t([5, 6]))).toThrow(/matmul: a is \[2, 3, 4, 5\]; it must be rank 2/);
    expect(() => linear(t([8, 10]), t([4, 12]))).toThrow(
      /linear: x \[8, 10\] has 10 features but weight \[4, 12\] expects 12; the weight must be \[out, in\] = \[4, 10\]/,
    );
  });
});
