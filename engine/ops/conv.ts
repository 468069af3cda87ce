// 2-D convolution (NCHW), its input and weight gradients as ops of their own, and transposed
// convolution (PyTorch layouts: conv weights [out, in, kh, kw], conv-transpose weights
// [in, out, kh, kw]; padding [top, bottom, left, right]).
//
// Three kernels do all the work, each an implicit GEMM on the skeleton of shaders/matmul.ts:
//   gather (forward geometry)     conv2d forward; conv2d's input gradient w.r.t. dy
//   gather (stride phases)        conv2dBackwardInput = convTranspose2d forward
//   wgrad (split-K)               conv2dBackwardWeight
// The three ops' backward passes are written with each other, so any order of gradient works:
//   conv2d(x, w)             -> dx = bwdInput(g, w),      dw = bwdWeight(x, g)
//   bwdInput(dy, w)          -> ddy = conv2d(g, w),       dw = bwdWeight(g, dy)
//   bwdWeight(x, dy)         -> dx = bwdInput(dy, g),     ddy = conv2d(x, g)
//   convTranspose2d(x, w)    -> dx = conv2d(g, w),        dw = bwdWeight(g, x)
import {
  gatherFamily,
  wgradFamily,
  GATHER_FIELDS,
  GATHER_FIELD_TYPES,
  GATHER_MAX_PHASES,
  GATHER_MAX_IMAGES,
  GATHER_RAGGED_SHIFT,
  WGRAD_FIELDS,
  WGRAD_FIELD_TYPES,
  type ConvAct,
  type ConvEdge,
} from '../../shaders/conv.js';
import { pad2d, pad2dAdjoint } from './spatial.js';
import { padCpu } from './cpu/nn.js';
import type { UniformValue } from '../device.js';
import { Tensor, empty, checkFloat, fmtShape, type Shape } from '../tensor.js';
import { record, isGradEnabled, accumulationTarget } from '../tape.js';
import { f32, i32 } from './kernel.js';
import { registerOp, type HostTensor } from './registry.js';
import { sum, sumInto } from './reduce.js';
import { affine, stepMask, mul } from './elementwise.js';
import { runGemm } from './matmul.js';
import { GEMM_ACC_OUT, GEMM_ACC_EXTRA } from '../../shaders/matmul.js';
import {
  conv2dCpu,
  conv2dBackwardInputCpu,
  conv2dBackwardWeightCpu,
  convTranspose2dCpu,
  convOutSize,
  convTransposeOutSize,
  type Conv2dOptions as CpuConvOptions,
} from './cpu/conv.js';

export type Pair = number | [number, number];
export type Padding = number | [number, number] | [number, number, number, number];

export interface Conv2dOpts {
  stride?: Pair;
  /** p => [p, p, p, p]; [ph, pw] => [ph, ph, pw, pw]; or [top, bottom, left, right]. */
  padding?: Padding;
  dilation?: Pair;
  /**
   * Fused into the forward kernel's epilogue (conv2d only). The backward uses the output's sign,
   * so it is exact for relu and for leaky_relu with a positive slope.
   */
  activation?: 'relu' | 'leaky_relu';
  /** Negative slope of leaky_relu (default 0.01). */
  slope?: number;
  /**
   * conv2d only: how `padding` fills, 'zeros' (default) or PyTorch's padding_mode 'reflect' /
   * 'replicate', folded into the conv's gathers (the same values as pad2d then an unpadded conv,
   * without writing the padded tensor).
   */
  paddingMode?: ConvEdge;
}

export interface ConvTranspose2dOpts extends Omit<Conv2dOpts, 'activation' | 'slope' | 'paddingMode'> {
  /** Extra rows/columns at the bottom/right of the output; each < stride or < dilation. */
  outputPadding?: Pair;
}

/** Resolved geometry of the forward convolution (the conv-transpose uses the conv it inverts). */
export interface ConvGeometry {
  sh: number;
  sw: number;
  pt: number;
  pb: number;
  pl: number;
  pr: number;
  dh: number;
  dw: number;
}

const pair = (v: Pair | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1]];

/** Normalises stride / padding / dilation and checks that they are sane. */
export function convGeometry(op: string, opts: { stride?: Pair; padding?: Padding; dilation?: Pair } = {}): ConvGeometry {
  const [sh, sw] = pair(opts.stride, 1);
  const [dh, dw] = pair(opts.dilation, 1);
  const p = opts.padding ?? 0;
  let pad: number[];
  if (typeof p === 'number') pad = [p, p, p, p];
  else if (p.length === 2) pad = [p[0], p[0], p[1], p[1]];
  else if (p.length === 4) pad = [...p];
  else throw new Error(`${op}: padding ${JSON.stringify(p)} must be a number, [ph, pw] or [top, bottom, left, right]`);
  for (const [name, v] of [
    ['stride', [sh, sw]],
    ['dilation', [dh, dw]],
  ] as const) {
    if (v.some((s) => !Number.isInteger(s) || s < 1)) throw new Error(`${op}: ${name} [${v.join(', ')}] must be integers >= 1`);
  }
  if (pad.some((s) => !Number.isInteger(s) || s < 0)) throw new Error(`${op}: padding [${pad.join(', ')}] must be integers >= 0`);
  return { sh, sw, pt: pad[0], pb: pad[1], pl: pad[2], pr: pad[3], dh, dw };
}

const padStr = (g: ConvGeometry) => `[${g.pt}, ${g.pb}, ${g.pl}, ${g.pr}]`;

function checkRank4(op: string, what: string, t: Tensor | Shape, layout: string): readonly number[] {
  const shape = t instanceof Tensor ? t.shape : t;
  if (shape.length !== 4) {
    throw new Error(
      `${op}: ${what} must be 4-D ${layout}, got ${fmtShape(shape)}${what === 'input' && shape.length === 3 ? '; add the batch dim with reshape(x, [1, ...x.shape])' : ''}`,
    );
  }
  return shape;
}

/** Output size of conv2d(x, w) with checks that name the op, both shapes and the fix. */
function convForwardShape(op: string, xShape: Shape, wShape: Shape, g: ConvGeometry): [number, number, number, number] {
  const [n, c, h, w] = checkRank4(op, 'input', xShape, '[N, C, H, W]');
  const [o, ci, kh, kw] = checkRank4(op, 'weight', wShape, '[out, in, kh, kw]');
  if (ci !== c) {
    throw new Error(
      `${op}: input ${fmtShape(xShape)} has ${c} channels but weight ${fmtShape(wShape)} expects ${ci}; ` +
        `make the weight [${o}, ${c}, ${kh}, ${kw}] or feed a ${ci}-channel input`,
    );
  }
  const eh = g.dh * (kh - 1) + 1;
  const ew = g.dw * (kw - 1) + 1;
  const ph = h + g.pt + g.pb;
  const pw = w + g.pl + g.pr;
  if (eh > ph || ew > pw) {
    throw new Error(
      `${op}: kernel ${kh}x${kw} (extent ${eh}x${ew} with dilation [${g.dh}, ${g.dw}]) is larger than the padded input ${ph}x${pw} ` +
        `(input ${fmtShape(xShape)} with padding ${padStr(g)}); add padding, use a smaller kernel or a larger input`,
    );
  }
  return [n, o, convOutSize(h, kh, g.sh, g.pt, g.pb, g.dh), convOutSize(w, kw, g.sw, g.pl, g.pr, g.dw)];
}

function checkBias(op: string, bias: Tensor | null, channels: number, wShape: Shape): void {
  if (bias && (bias.rank !== 1 || bias.shape[0] !== channels)) {
    throw new Error(
      `${op}: bias ${fmtShape(bias.shape)} must be [${channels}] (one value per output channel of weight ${fmtShape(wShape)})`,
    );
  }
}

// ---- raw launchers (no autograd) ------------------------------------------------------------------

const typed = (values: number[], types: readonly string[]): UniformValue[] =>
  values.map((v, i) => (types[i] === 'i32' ? i32(v) : types[i] === 'f32' ? f32(v) : v));

function gatherUniforms(v: Partial<Record<(typeof GATHER_FIELDS)[number], number>>): UniformValue[] {
  return typed(
    GATHER_FIELDS.map((f) => v[f] ?? 0),
    GATHER_FIELD_TYPES,
  );
}

/** y = conv2d(x, w) + bias, then the activation; output spatial size [oh, ow]. */
function convForwardRaw(
  op: string,
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  g: ConvGeometry,
  oh: number,
  ow: number,
  act: ConvAct = 'none',
  slope = 0.01,
  edge: ConvEdge = 'zeros',
): Tensor {
  const [nb, c, h, wd] = x.shape;
  const [o, , kh, kw] = w.shape;
  const y = empty([nb, o, oh, ow], op);
  runGemm({
    op,
    family: gatherFamily({ taps: kh * kw, tapW: kw, aContig: true, bias: !!bias, act, edge }),
    inputs: [w, x],
    epilogueInputs: bias ? [bias] : [],
    out: y,
    M: o,
    N: nb * oh * ow,
    K: c * kh * kw,
    batch: 1,
    uniforms: gatherUniforms({
      PH: oh,
      PW: ow,
      SH: h,
      SW: wd,
      SPh: g.sh,
      SPw: g.sw,
      OFFh: -g.pt,
      OFFw: -g.pl,
      TSh: g.dh,
      TSw: g.dw,
      srcBatch: c * h * wd,
      srcPlane: h * wd,
      KWW: kw,
      OSh: 1,
      OSw: 1,
      OWW: ow,
      outPlane: oh * ow,
      outBatch: o * oh * ow,
      slope,
    }),
  });
  return y;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * The stride phases of one axis of the input gradient. Pixel i = r + s*j of dx (j < count) is
 * reached by exactly the taps k = k0 + t*step (t < taps), from dy row j + base - t*tapStride.
 */
function phases(len: number, k: number, s: number, d: number, pad: number) {
  const step = s / gcd(s, d);
  const out: { r: number; count: number; k0: number; taps: number; base: number; tapStride: number; step: number }[] = [];
  for (let r = 0; r < s; r++) {
    const count = Math.ceil((len - r) / s);
    if (count <= 0) continue;
    let k0 = -1;
    for (let q = 0; q < Math.min(step, k); q++) {
      if ((((q * d - r - pad) % s) + s) % s === 0) {
        k0 = q;
        break;
      }
    }
    const taps = k0 < 0 ? 0 : Math.ceil((k - k0) / step);
    out.push({ r, count, k0: Math.max(k0, 0), taps, base: taps ? (r + pad - k0 * d) / s : 0, tapStride: (step * d) / s, step });
  }
  return out;
}

/**
 * Phase-batched input gradients (one dispatch for every stride phase) where the geometry allows;
 * `ragged` also batches phases whose tap counts differ (K covers the largest phase, the missing
 * taps read zero). Tests turn them off.
 */
export const convPhaseBatching = { enabled: true, ragged: true };

/** Reflect / replicate pad adjoints folded into the input-gradient gather; tests turn it off. */
export const convPadAdjointFolding = { enabled: true };

/** Images of each x index under a pad of [lo, hi] in `edge` mode: the most of any index. */
function maxImages(len: number, lo: number, hi: number, edge: 'reflect' | 'replicate'): number {
  const count = new Array<number>(len).fill(1);
  const map = (j: number) => (edge === 'reflect' ? (j < 0 ? -j : j >= len ? 2 * (len - 1) - j : j) : Math.min(Math.max(j, 0), len - 1));
  for (let j = -lo; j < 0; j++) count[map(j)]++;
  for (let j = len; j < len + hi; j++) count[map(j)]++;
  return Math.max(...count);
}

interface BackwardInputOptions {
  /** conv-transpose forward: bias[c] added in the epilogue. */
  bias?: Tensor | null;
  /** Add the result into this tensor (the tape's gradient accumulation) instead of a new one. */
  into?: Tensor | null;
  /**
   * The conv ran on x padded by `pads` in mode `edge` (g has no padding: the geometry on the padded
   * grid): dx of the unpadded x, the pad's adjoint folded into the gather (stride 1 only).
   */
  adjoint?: { edge: 'reflect' | 'replicate'; pads: [number, number, number, number] };
}

/**
 * dx = conv2d's input gradient for dy (any spatial size: taps that land outside dy read zero),
 * weight w [O, C, KH, KW], plus bias[c] (the conv-transpose forward). One GEMM per stride phase,
 * or, when every phase has the same pixel grid (4x4 and 3x3 stride-2 padding-1 layers on even
 * sizes), one GEMM over all phases as its batch, planned as one phase (with equal tap counts the
 * same tile and split-K, so the same sums in the same order as the per-phase launches).
 */
function convBackwardInputRaw(op: string, dy: Tensor, w: Tensor, xShape: Shape, g: ConvGeometry, o: BackwardInputOptions = {}): Tensor {
  const bias = o.bias ?? null;
  const [nb, oc, oh, ow] = dy.shape;
  const [, c, kh, kw] = w.shape;
  const [, , h, wd] = xShape;
  const into = o.into ?? null;
  if (into && (into.shape.length !== 4 || into.shape.some((d, i) => d !== xShape[i])))
    throw new Error(
      `${op}: accumulation target ${fmtShape(into.shape)} is not the input gradient's shape ${fmtShape(xShape)} (engine bug)`,
    );
  const dx = into ?? empty([nb, c, h, wd], op);
  const accumulate = into ? GEMM_ACC_OUT : 0;
  if (o.adjoint) {
    // One phase on the padded grid (stride 1): the output grid is x, each pixel summing its images.
    const [pt, pb, pl, pr] = o.adjoint.pads;
    const [py] = phases(h + pt + pb, kh, 1, g.dh, 0);
    const [px] = phases(wd + pl + pr, kw, 1, g.dw, 0);
    runGemm({
      op,
      family: gatherFamily({
        taps: py.taps * px.taps,
        tapW: px.taps,
        aContig: false,
        bias: false,
        act: 'none',
        adjointEdge: o.adjoint.edge,
      }),
      accumulate,
      inputs: [w, dy],
      epilogueInputs: [],
      out: dx,
      M: c,
      N: nb * h * wd,
      K: oc * py.taps * px.taps,
      batch: 1,
      uniforms: gatherUniforms({
        PH: h,
        PW: wd,
        SH: oh,
        SW: ow,
        SPh: 1,
        SPw: 1,
        OFFh: py.base,
        OFFw: px.base,
        TSh: -py.tapStride,
        TSw: -px.tapStride,
        srcBatch: oc * oh * ow,
        srcPlane: oh * ow,
        sAm: kh * kw,
        sAc: c * kh * kw,
        KWW: kw,
        KH0: py.k0,
        KW0: px.k0,
        KSh: py.step,
        KSw: px.step,
        OSh: 1,
        OSw: 1,
        OWW: wd,
        outPlane: h * wd,
        outBatch: c * h * wd,
        EPt: pt,
        EPb: pb,
        EPl: pl,
        EPr: pr,
      }),
    });
    return dx;
  }
  const phy = phases(h, kh, g.sh, g.dh, g.pt);
  const phx = phases(wd, kw, g.sw, g.dw, g.pl);
  const uniformAxis = (ps: ReturnType<typeof phases>, ragged: boolean) =>
    ps.length <= GATHER_MAX_PHASES &&
    ps.every(
      (p) =>
        (ragged || (p.taps > 0 && p.taps === ps[0].taps)) &&
        p.count === ps[0].count &&
        p.step === ps[0].step &&
        p.tapStride === ps[0].tapStride,
    );
  const even = uniformAxis(phy, false) && uniformAxis(phx, false);
  const ragged = !even && convPhaseBatching.ragged && uniformAxis(phy, true) && uniformAxis(phx, true);
  if (convPhaseBatching.enabled && phy.length * phx.length > 1 && (even || ragged)) {
    const [py, px] = [phy[0], phx[0]];
    const th = Math.max(...phy.map((p) => p.taps));
    const tw = Math.max(...phx.map((p) => p.taps));
    const table = (ps: ReturnType<typeof phases>, f: (p: (typeof ps)[number]) => number, signed: boolean) => {
      const v = [0, 1, 2, 3].map((i) => (i < ps.length ? f(ps[i]) : 0));
      return signed ? v.map((x) => i32(x)) : v;
    };
    if (th * tw > 0) {
      runGemm({
        op,
        family: gatherFamily({ taps: th * tw, tapW: tw, aContig: false, bias: !!bias, act: 'none', phased: true, ragged }),
        accumulate,
        inputs: [w, dy],
        epilogueInputs: bias ? [bias] : [],
        out: dx,
        M: c,
        N: nb * py.count * px.count,
        K: oc * th * tw,
        batch: phy.length * phx.length,
        planBatch: 1,
        uniforms: [
          ...gatherUniforms({
            PH: py.count,
            PW: px.count,
            SH: oh,
            SW: ow,
            SPh: 1,
            SPw: 1,
            TSh: -py.tapStride,
            TSw: -px.tapStride,
            srcBatch: oc * oh * ow,
            srcPlane: oh * ow,
            sAm: kh * kw,
            sAc: c * kh * kw,
            KWW: kw,
            KSh: py.step,
            KSw: px.step,
            OSh: g.sh,
            OSw: g.sw,
            OWW: wd,
            outPlane: h * wd,
            outBatch: c * h * wd,
            NPX: phx.length,
          }),
          ...table(phy, (p) => p.base, true),
          ...table(phx, (p) => p.base, true),
          // Ragged: each phase's tap count rides in the high half of its k0 entry.
          ...table(phy, (p) => p.k0 + (ragged ? p.taps << GATHER_RAGGED_SHIFT : 0), false),
          ...table(phx, (p) => p.k0 + (ragged ? p.taps << GATHER_RAGGED_SHIFT : 0), false),
          ...table(phy, (p) => p.r, false),
          ...table(phx, (p) => p.r, false),
        ],
      });
      return dx;
    }
  }
  for (const py of phy) {
    for (const px of phx) {
      const taps = py.taps * px.taps;
      runGemm({
        op,
        family: gatherFamily({ taps: Math.max(taps, 1), tapW: Math.max(px.taps, 1), aContig: false, bias: !!bias, act: 'none' }),
        accumulate,
        inputs: [w, dy],
        epilogueInputs: bias ? [bias] : [],
        out: dx,
        M: c,
        N: nb * py.count * px.count,
        K: oc * taps,
        batch: 1,
        uniforms: gatherUniforms({
          PH: py.count,
          PW: px.count,
          SH: oh,
          SW: ow,
          SPh: 1,
          SPw: 1,
          OFFh: py.base,
          OFFw: px.base,
          TSh: -py.tapStride,
          TSw: -px.tapStride,
          srcBatch: oc * oh * ow,
          srcPlane: oh * ow,
          sAm: kh * kw,
          sAc: c * kh * kw,
          KWW: kw,
          KH0: py.k0,
          KW0: px.k0,
          KSh: py.step,
          KSw: px.step,
          OH0: py.r,
          OW0: px.r,
          OSh: g.sh,
          OSw: g.sw,
          OWW: wd,
          outPlane: h * wd,
          outBatch: c * h * wd,
        }),
      });
    }
  }
  return dx;
}

/** Bias gradients folded into the weight-gradient GEMM (one more column); tests turn it off. */
export const convBiasGradFolding = { enabled: true };

/**
 * dw = conv2d's weight gradient for input x and output gradient dy (any spatial size); with
 * `dbias`, also the bias gradient sum over (n, oh, ow) of dy, as the GEMM's extra column (the
 * weight columns plan, split and so round as without it). `acc.dw`: add dw into that tensor (and
 * return it); `acc.db`: add the bias gradient into `dbias` instead of writing it.
 */
function convBackwardWeightRaw(
  op: string,
  x: Tensor,
  dy: Tensor,
  wShape: Shape,
  g: ConvGeometry,
  dbias: Tensor | null = null,
  edge: ConvEdge = 'zeros',
  acc: { dw?: Tensor | null; db?: boolean } = {},
): Tensor {
  const [nb, c, h, wd] = x.shape;
  const [, o, oh, ow] = dy.shape;
  const [, , kh, kw] = wShape;
  const into = acc.dw ?? null;
  if (into && (into.shape.length !== 4 || into.shape.some((d, i) => d !== wShape[i])))
    throw new Error(
      `${op}: accumulation target ${fmtShape(into.shape)} is not the weight gradient's shape ${fmtShape(wShape)} (engine bug)`,
    );
  const dw = into ?? empty([o, c, kh, kw], op);
  const NW = c * kh * kw;
  const v: Record<(typeof WGRAD_FIELDS)[number], number> = {
    OHW: oh * ow,
    OWd: ow,
    dyBatch: o * oh * ow,
    xBatch: c * h * wd,
    xPlane: h * wd,
    H: h,
    W: wd,
    sh: g.sh,
    sw: g.sw,
    pt: g.pt,
    pl: g.pl,
    dh: g.dh,
    dw: g.dw,
    NW,
    pad1: 0,
    pad2: 0,
  };
  runGemm({
    op,
    family: wgradFamily({ kk: kh * kw, kw, bias: !!dbias, edge }),
    accumulate: (into ? GEMM_ACC_OUT : 0) | (dbias && acc.db ? GEMM_ACC_EXTRA : 0),
    inputs: [dy, x],
    epilogueInputs: [],
    out: dw,
    extraOutputs: dbias ? [dbias] : [],
    M: o,
    N: NW + (dbias ? 1 : 0),
    K: nb * oh * ow,
    batch: 1,
    planN: NW,
    uniforms: typed(
      WGRAD_FIELDS.map((f) => v[f]),
      WGRAD_FIELD_TYPES,
    ),
  });
  return dw;
}

// ---- differentiable ops ---------------------------------------------------------------------------

/** The tape's accumulation target for `t`'s gradient when t wants one (see accumulationTarget). */
const target = (t: Tensor | null | undefined): Tensor | null => (t?.requiresGrad ? accumulationTarget(t) : null);

/**
 * Weight and bias gradients of a conv (no graph of the backward wanted): one GEMM, with the bias
 * column folded in when both are wanted, each added into the tape's accumulation target if any.
 */
function convParamGrads(
  x: Tensor,
  gy: Tensor,
  w: Tensor,
  bias: Tensor | null,
  g: ConvGeometry,
  edge: ConvEdge,
): [Tensor | null, Tensor | null] {
  const dwT = target(w);
  const dbT = target(bias);
  const fold = !!bias?.requiresGrad && w.requiresGrad && convBiasGradFolding.enabled;
  const db = fold ? (dbT ?? empty([bias!.shape[0]], 'conv2d_backward_bias')) : null;
  const dw = w.requiresGrad ? convBackwardWeightRaw('conv2d_backward_weight', x, gy, w.shape, g, db, edge, { dw: dwT, db: !!dbT }) : null;
  return [dw, db ?? (bias?.requiresGrad ? biasGrad(gy, bias) : null)];
}

/** sum(gy, [0, 2, 3]), added into the tape's accumulation target for the bias when it offers one. */
function biasGrad(gy: Tensor, bias: Tensor): Tensor {
  const t = target(bias);
  return t ? sumInto(t, gy, [0, 2, 3]) : sum(gy, [0, 2, 3]);
}

/** conv2d with an explicit output size (the conv-transpose's backward may need a cropped one). */
function conv2dOp(
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  g: ConvGeometry,
  oh: number,
  ow: number,
  act: ConvAct = 'none',
  slope = 0.01,
): Tensor {
  const y = convForwardRaw('conv2d', x, w, bias, g, oh, ow, act, slope);
  const inputs = bias ? [x, w, bias] : [x, w];
  return record(y, 'conv2d', inputs, (gy) => {
    // A fused activation: dL/d(pre-activation) from the output's sign (exact for relu / leaky relu).
    if (act === 'relu') gy = mul(gy, stepMask(y));
    else if (act === 'leaky_relu') gy = mul(gy, affine(stepMask(y), 1 - slope, slope));
    const dx = x.requiresGrad ? conv2dBackwardInputOp(gy, w, x.shape, g, target(x)) : null;
    if (!isGradEnabled()) return [dx, ...convParamGrads(x, gy, w, bias, g, 'zeros')];
    return [dx, w.requiresGrad ? conv2dBackwardWeightOp(x, gy, w.shape, g) : null, bias?.requiresGrad ? sum(gy, [0, 2, 3]) : null];
  });
}

/**
 * conv2d of x padded by g's pads in mode `edge` (reflect / replicate), with stride/dilation from g:
 * the pad folded into the forward and weight-gradient gathers, and (stride 1, createGraph off) its
 * adjoint into the input-gradient gather. Otherwise the input gradient is the unpadded conv's on
 * the padded grid, then pad2d's adjoint; under createGraph the weight gradient comes from a
 * materialised pad2d (differentiable again). The same values and gradients as pad2d + conv2d.
 */
function conv2dEdgeOp(
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  g: ConvGeometry,
  oh: number,
  ow: number,
  edge: ConvEdge,
  act: ConvAct,
  slope: number,
): Tensor {
  const y = convForwardRaw('conv2d', x, w, bias, g, oh, ow, act, slope, edge);
  const inputs = bias ? [x, w, bias] : [x, w];
  const pads: [number, number, number, number] = [g.pt, g.pb, g.pl, g.pr];
  const g0: ConvGeometry = { ...g, pt: 0, pb: 0, pl: 0, pr: 0 };
  const [nb, c, h, wd] = x.shape;
  const padded = [nb, c, h + g.pt + g.pb, wd + g.pl + g.pr];
  const adjEdge = edge as 'reflect' | 'replicate';
  return record(y, 'conv2d', inputs, (gy) => {
    if (act === 'relu') gy = mul(gy, stepMask(y));
    else if (act === 'leaky_relu') gy = mul(gy, affine(stepMask(y), 1 - slope, slope));
    if (!isGradEnabled()) {
      let dx: Tensor | null = null;
      if (x.requiresGrad) {
        const fold =
          convPadAdjointFolding.enabled &&
          g.sh === 1 &&
          g.sw === 1 &&
          maxImages(h, g.pt, g.pb, adjEdge) <= GATHER_MAX_IMAGES &&
          maxImages(wd, g.pl, g.pr, adjEdge) <= GATHER_MAX_IMAGES;
        dx = fold
          ? convBackwardInputRaw('conv2d_backward_input', gy, w, x.shape, g0, { into: target(x), adjoint: { edge: adjEdge, pads } })
          : pad2dAdjoint(conv2dBackwardInputOp(gy, w, padded, g0), [h, wd], pads, edge);
      }
      return [dx, ...convParamGrads(x, gy, w, bias, g, edge)].slice(0, inputs.length);
    }
    const dx = x.requiresGrad ? pad2dAdjoint(conv2dBackwardInputOp(gy, w, padded, g0), [h, wd], pads, edge) : null;
    const dw = w.requiresGrad ? conv2dBackwardWeightOp(pad2d(x, pads, edge), gy, w.shape, g0) : null;
    return [dx, dw, ...(bias ? [bias.requiresGrad ? sum(gy, [0, 2, 3]) : null] : [])];
  });
}

/** `into`: the tape's accumulation target (no graph recorded then: only with grad mode off). */
function conv2dBackwardInputOp(dy: Tensor, w: Tensor, xShape: Shape, g: ConvGeometry, into: Tensor | null = null): Tensor {
  const dx = convBackwardInputRaw('conv2d_backward_input', dy, w, xShape, g, { into });
  return record(dx, 'conv2d_backward_input', [dy, w], (gx) => [
    dy.requiresGrad ? conv2dOp(gx, w, null, g, dy.shape[2], dy.shape[3]) : null,
    w.requiresGrad ? conv2dBackwardWeightOp(gx, dy, w.shape, g) : null,
  ]);
}

function conv2dBackwardWeightOp(x: Tensor, dy: Tensor, wShape: Shape, g: ConvGeometry, into: Tensor | null = null): Tensor {
  const dw = convBackwardWeightRaw('conv2d_backward_weight', x, dy, wShape, g, null, 'zeros', { dw: into });
  return record(dw, 'conv2d_backward_weight', [x, dy], (gw) => [
    x.requiresGrad ? conv2dBackwardInputOp(dy, gw, x.shape, g) : null,
    dy.requiresGrad ? conv2dOp(x, gw, null, g, dy.shape[2], dy.shape[3]) : null,
  ]);
}

/**
 * 2-D cross-correlation, NCHW: x [N, C, H, W], w [out, C, kh, kw], bias [out] or null.
 * OH = floor((H + top + bottom - dilation*(kh-1) - 1) / stride) + 1 (OW alike).
 */
export function conv2d(x: Tensor, w: Tensor, bias: Tensor | null = null, opts: Conv2dOpts = {}): Tensor {
  const op = 'conv2d';
  const g = convGeometry(op, opts);
  const [, o, oh, ow] = convForwardShape(op, x.shape, w.shape, g);
  checkBias(op, bias, o, w.shape);
  checkFloat(op, x, w, ...(bias ? [bias] : []));
  const act: ConvAct = opts.activation ?? 'none';
  if (!['none', 'relu', 'leaky_relu'].includes(act))
    throw new Error(`conv2d: activation '${act}' is not fused; use 'relu' or 'leaky_relu', or apply it after the conv`);
  const edge = opts.paddingMode ?? 'zeros';
  if (edge !== 'zeros') {
    if (edge !== 'reflect' && edge !== 'replicate')
      throw new Error(`conv2d: paddingMode '${String(edge)}' is not one of 'zeros', 'reflect', 'replicate'`);
    const [, , h, wd] = x.shape;
    if (edge === 'reflect' && (Math.max(g.pt, g.pb) >= h || Math.max(g.pl, g.pr) >= wd)) {
      throw new Error(
        `conv2d: reflect padding ${padStr(g)} needs each pad smaller than the input dim it pads, but x is ${fmtShape(x.shape)}; use smaller padding or paddingMode 'replicate'`,
      );
    }
    if (edge === 'replicate' && (h === 0 || wd === 0))
      throw new Error(`conv2d: replicate padding of an empty input ${fmtShape(x.shape)} has nothing to repeat`);
    if (g.pt + g.pb + g.pl + g.pr > 0) return conv2dEdgeOp(x, w, bias, g, oh, ow, edge, act, opts.slope ?? 0.01);
  }
  return conv2dOp(x, w, bias, g, oh, ow, act, opts.slope ?? 0.01);
}

/** dL/dx of conv2d(x, w, opts) for dL/dy = dy; xShape is needed because several sizes map to one. */
export function conv2dBackwardInput(dy: Tensor, w: Tensor, xShape: Shape, opts: Conv2dOpts = {}): Tensor {
  const op = 'conv2dBackwardInput';
  const g = convGeometry(op, opts);
  const yShape = convForwardShape(op, xShape, w.shape, g);
  checkRank4(op, 'dy', dy, '[N, out, OH, OW]');
  if (dy.shape.some((d, i) => d !== yShape[i])) {
    throw new Error(
      `${op}: dy ${fmtShape(dy.shape)} does not match the forward output ${fmtShape(yShape)} of input ${fmtShape(xShape)} and weight ${fmtShape(w.shape)}; check xShape and the stride/padding/dilation`,
    );
  }
  checkFloat(op, dy, w);
  return conv2dBackwardInputOp(dy, w, xShape, g);
}

/** dL/dw of conv2d(x, w, opts) for dL/dy = dy. */
export function conv2dBackwardWeight(x: Tensor, dy: Tensor, wShape: Shape, opts: Conv2dOpts = {}): Tensor {
  const op = 'conv2dBackwardWeight';
  const g = convGeometry(op, opts);
  const yShape = convForwardShape(op, x.shape, wShape, g);
  checkRank4(op, 'dy', dy, '[N, out, OH, OW]');
  if (dy.shape.some((d, i) => d !== yShape[i])) {
    throw new Error(
      `${op}: dy ${fmtShape(dy.shape)} does not match the forward output ${fmtShape(yShape)} of input ${fmtShape(x.shape)} and weight ${fmtShape(wShape)}; check wShape and the stride/padding/dilation`,
    );
  }
  checkFloat(op, x, dy);
  return conv2dBackwardWeightOp(x, dy, wShape, g);
}

/**
 * Transposed convolution (the adjoint of conv2d with the same stride/padding/dilation), NCHW:
 * x [N, in, H, W], w [in, out, kh, kw] (PyTorch layout), bias [out] or null.
 * OH = (H - 1)*stride - top - bottom + dilation*(kh - 1) + outputPadding + 1 (OW alike).
 */
export function convTranspose2d(x: Tensor, w: Tensor, bias: Tensor | null = null, opts: ConvTranspose2dOpts = {}): Tensor {
  const op = 'convTranspose2d';
  const g = convGeometry(op, opts);
  const [n, cin, h, wd] = checkRank4(op, 'input', x, '[N, in, H, W]');
  const [wi, cout, kh, kw] = checkRank4(op, 'weight', w, '[in, out, kh, kw]');
  if (wi !== cin) {
    throw new Error(
      `${op}: input ${fmtShape(x.shape)} has ${cin} channels but weight ${fmtShape(w.shape)} expects ${wi} ` +
        `(conv-transpose weights are [in, out, kh, kw] as in PyTorch); make the weight [${cin}, ${cout}, ${kh}, ${kw}]`,
    );
  }
  const [oph, opw] = pair(opts.outputPadding, 0);
  if ([oph, opw].some((v) => !Number.isInteger(v) || v < 0) || !(oph < g.sh || oph < g.dh) || !(opw < g.sw || opw < g.dw)) {
    throw new Error(
      `${op}: outputPadding [${oph}, ${opw}] must be integers >= 0 and smaller than the stride [${g.sh}, ${g.sw}] or the dilation [${g.dh}, ${g.dw}]`,
    );
  }
  const oh = convTransposeOutSize(h, kh, g.sh, g.pt, g.pb, g.dh, oph);
  const ow = convTransposeOutSize(wd, kw, g.sw, g.pl, g.pr, g.dw, opw);
  if (oh < 1 || ow < 1) {
    throw new Error(
      `${op}: output would be ${oh}x${ow} for input ${fmtShape(x.shape)}, weight ${fmtShape(w.shape)} and padding ${padStr(g)}; use less padding`,
    );
  }
  checkBias(op, bias, cout, w.shape);
  checkFloat(op, x, w, ...(bias ? [bias] : []));
  const y = convBackwardInputRaw(op, x, w, [n, cout, oh, ow], g, { bias });
  const inputs = bias ? [x, w, bias] : [x, w];
  return record(y, 'conv_transpose2d', inputs, (gy) => [
    x.requiresGrad ? conv2dOp(gy, w, null, g, h, wd) : null,
    w.requiresGrad ? conv2dBackwardWeightOp(gy, x, w.shape, g, target(w)) : null,
    bias?.requiresGrad ? biasGrad(gy, bias) : null,
  ]);
}

// ---- registry -------------------------------------------------------------------------------------

function cpuOpts(a: Record<string, unknown>): CpuConvOptions & { outputPadding?: [number, number] } {
  const g = convGeometry('reference', a as Conv2dOpts);
  return {
    stride: [g.sh, g.sw],
    padding: [g.pt, g.pb, g.pl, g.pr],
    dilation: [g.dh, g.dw],
    outputPadding: pair(a.outputPadding as Pair | undefined, 0),
  };
}

const orNull = (t: HostTensor | undefined) => t ?? null;

// Every case stays under ~600 input elements (the checker differentiates the reference numerically).
// Reflect / replicate padding folded into the gathers, against pad2d's reference then an unpadded conv.
registerOp({
  name: 'conv2d_padding_mode',
  run: ([x, w, b], a) => conv2d(x, w, b ?? null, a as Conv2dOpts),
  reference: ([x, w, b], a) => {
    const g = convGeometry('conv2d', a as Conv2dOpts);
    const padded = padCpu(x, [g.pt, g.pb, g.pl, g.pr], a.paddingMode as 'reflect' | 'replicate');
    return conv2dCpu(padded, w, orNull(b), { ...cpuOpts(a), padding: [0, 0, 0, 0] });
  },
  doubleBackward: true,
});

registerOp({
  name: 'conv2d',
  run: ([x, w, b], a) => conv2d(x, w, b ?? null, a as Conv2dOpts),
  reference: ([x, w, b], a) => {
    const y = conv2dCpu(x, w, orNull(b), cpuOpts(a));
    const slope = a.activation === 'leaky_relu' ? ((a.slope as number | undefined) ?? 0.01) : a.activation === 'relu' ? 0 : 1;
    return { shape: y.shape, data: y.data.map((v) => (v > 0 ? v : slope * v)) };
  },
  doubleBackward: true,
});

registerOp({
  name: 'conv2d_backward_input',
  run: ([dy, w], a) => conv2dBackwardInput(dy, w, a.xShape as number[], a as Conv2dOpts),
  reference: ([dy, w], a) => conv2dBackwardInputCpu(dy, w, a.xShape as number[], cpuOpts(a)),
  doubleBackward: true,
});

registerOp({
  name: 'conv2d_backward_weight',
  run: ([x, dy], a) => conv2dBackwardWeight(x, dy, a.wShape as number[], a as Conv2dOpts),
  reference: ([x, dy], a) => conv2dBackwardWeightCpu(x, dy, a.wShape as number[], cpuOpts(a)),
  doubleBackward: true,
});

registerOp({
  name: 'conv_transpose2d',
  run: ([x, w, b], a) => convTranspose2d(x, w, b ?? null, a as ConvTranspose2dOpts),
  reference: ([x, w, b], a) => convTranspose2dCpu(x, w, orNull(b), cpuOpts(a)),
  doubleBackward: true,
});
