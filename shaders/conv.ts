// Convolutions as implicit GEMMs on the register-blocked skeleton of shaders/matmul.ts.
// Nothing is materialised: each staging load gathers its element straight from the NCHW tensors.
//
// Legend (forward conv geometry, PyTorch's):
//   x [NB, C, H, W], w [O, C, KH, KW], dy/y [NB, O, OH, OW]; stride (sh, sw), dilation (dh, dw),
//   padding top/left (pt, pl); ih = oh*sh - pt + kh*dh (iw alike); taps outside x read zero.
//
// Family "gather" (conv forward, conv input gradient, conv-transpose forward):
//   C[m, n] = sum_k A[m, k] * B[k, n] with
//     n = (nb, ph, pw)          a pixel of a PH x PW output grid (the whole output, or one phase)
//     k = (ch, tap), tap = (th, tw) < (TH, TW)   T = TH*TW taps per reduced channel ch
//     B[k, n] = src[nb, ch, ph*SPh + OFFh + th*TSh, pw*SPw + OFFw + tw*TSw]   (0 outside src)
//     A[m, k] = wt[m*sAm + ch*sAc + (KH0 + th*KSh)*KWW + KW0 + tw*KSw]         (contiguous = m*K + k
//               in the forward, where this is exactly w's [O, C*KH*KW] layout)
//     out[nb, m, OH0 + ph*OSh, OW0 + pw*OSw] = C[m, n] (+ bias[m], then the activation)
//   forward:     src = x, m = o, ch = c, SP = stride, OFF = -pad, TS = dilation, grid = OH x OW.
//   input grad:  src = dy, m = c, ch = o, one launch per stride phase (rh, rw): the dx pixels
//                ih = rh + sh*ph take exactly the taps kh = KH0 + th*KSh (kh*dh = rh + pt mod sh),
//                at oh = ph + OFFh - th*(KSh*dh/sh); so no launch multiplies a structural zero.
//                `phased`: when every phase has the same tap count and pixel grid (DCGAN's 4x4
//                stride-2 layers), all phases run in one dispatch as a GEMM batch: batch index
//                zb = (phase row) * NPX + (phase column), and OFF, KH0/KW0, OH0/OW0 come per phase
//                from the uniform tables ph* (up to 4 phases per axis).
//                conv-transpose is this with x as dy (its weight [in, out, kh, kw] is w's layout).
//   T and TW are compile-time constants (the divisions by them become multiply-shifts).
//
// Family "wgrad" (conv weight gradient):
//   dw[o, n = (c, kh, kw)] = sum_{k = (nb, oh, ow)} dy[nb, o, oh, ow] * x[nb, c, ih, iw]
//   M = O, N = C*KH*KW, K = NB*OH*OW: a short, wide output and a long reduction, so the host
//   splits K across workgroups (split-K) and a second pass sums the partials. Variant `bias`
//   appends column NW = C*KH*KW with B = 1: its outputs are the bias gradient sum_k dy[o, k].
//   Software adapters run its direct form instead (one invocation per column, no split-K, k
//   ascending as the unsplit tiled kernel sums; see buildWgrad).
import { accStore, GEMM_ACC_OUT, GEMM_ACC_EXTRA, type GemmFamily } from './matmul.js';

export type ConvAct = 'none' | 'relu' | 'leaky_relu';
/**
 * How taps outside the source read: 'zeros' (conv padding), or the reflect / replicate padding of a
 * ReflectionPad2d / ReplicationPad2d folded into the gather (the index is mirrored about the edge
 * pixel, or clamped to it), so the padded tensor is never written.
 */
export type ConvEdge = 'zeros' | 'reflect' | 'replicate';

/** WGSL statements mapping `ih` / `iw` (i32) into [0, lim) for an edge mode (pads < lim for reflect). */
function edgeMap(edge: ConvEdge, v: string, lim: string): string {
  if (edge === 'reflect') return `${v} = select(${v}, -${v}, ${v} < 0); ${v} = select(${v}, 2 * (${lim} - 1) - ${v}, ${v} >= ${lim});`;
  if (edge === 'replicate') return `${v} = clamp(${v}, 0, ${lim} - 1);`;
  return '';
}

export interface GatherVariant {
  /** Taps per reduced channel (TH*TW; at least 1) and taps per row (TW). */
  taps: number;
  tapW: number;
  /** A is wt[m*K + k] (the forward weight layout). */
  aContig: boolean;
  bias: boolean;
  act: ConvAct;
  /** All stride phases in one launch (GEMM batch = phase; per-phase offsets from uniform tables). */
  phased?: boolean;
  /** Forward only: padding folded into the gather (default zeros). */
  edge?: ConvEdge;
  /**
   * Input gradient only (stride 1, one phase): the adjoint of a reflect / replicate pad folded into
   * the gather. The output grid is the unpadded x; each x pixel sums the gathered dy values of
   * every padded-grid pixel that the pad maps onto it (itself, plus its mirror / clamp images in
   * the pad border, at most GATHER_MAX_IMAGES per axis), so dx never goes through the padded grid.
   */
  adjointEdge?: 'reflect' | 'replicate';
  /**
   * Phased launches whose phases differ in tap count: K covers the largest phase's taps, and the
   * taps a phase lacks read zero (per-phase tap counts in the high half of the phKH0 / phKW0 tables).
   */
  ragged?: boolean;
}

/** The most padded-grid images of one x row (or column) an adjoint-folded gather sums. */
export const GATHER_MAX_IMAGES = 4;

/** Uniform fields of the gather family, in order (after the GEMM head). */
export const GATHER_FIELDS = [
  'PH',
  'PW',
  'SH',
  'SW',
  'SPh',
  'SPw',
  'OFFh',
  'OFFw',
  'TSh',
  'TSw',
  'srcBatch',
  'srcPlane',
  'sAm',
  'sAc',
  'KWW',
  'KH0',
  'KW0',
  'KSh',
  'KSw',
  'OH0',
  'OW0',
  'OSh',
  'OSw',
  'OWW',
  'outPlane',
  'outBatch',
  'slope',
  'NPX',
  'EPt',
  'EPb',
  'EPl',
  'EPr',
] as const;
/** Phased variants: per-phase tables after GATHER_FIELDS, one vec4 (4 phases) each, rows then columns. */
export const GATHER_PHASE_TABLES = ['phOFFh', 'phOFFw', 'phKH0', 'phKW0', 'phOH0', 'phOW0'] as const;
/** Ragged phased variants pack each phase's tap count into its phKH0 / phKW0 entry: k0 | taps << 16. */
export const GATHER_RAGGED_SHIFT = 16;
/** The most stride phases per axis a phased launch takes. */
export const GATHER_MAX_PHASES = 4;
const GATHER_TYPES: Record<string, string> = {
  SH: 'i32',
  SW: 'i32',
  SPh: 'i32',
  SPw: 'i32',
  OFFh: 'i32',
  OFFw: 'i32',
  TSh: 'i32',
  TSw: 'i32',
  slope: 'f32',
  EPt: 'i32',
  EPb: 'i32',
  EPl: 'i32',
  EPr: 'i32',
};
export const GATHER_FIELD_TYPES = GATHER_FIELDS.map((f) => GATHER_TYPES[f] ?? 'u32');

const actExpr: Record<ConvAct, string> = {
  none: 'y',
  relu: 'max(y, 0.0)',
  leaky_relu: 'select(y * u.slope, y, y > 0.0)',
};

const gatherCache = new Map<string, GemmFamily>();

/** The gather family for one variant (built once per variant, then shared). */
export function gatherFamily(v: GatherVariant): GemmFamily {
  const T = Math.max(1, v.taps);
  const TW = Math.max(1, v.tapW);
  const key =
    `conv_gather|T=${T}|TW=${TW}|aContig=${+v.aContig}|bias=${+v.bias}|act=${v.act}${v.phased ? '|phased' : ''}` +
    `${v.ragged ? '|ragged' : ''}${v.edge && v.edge !== 'zeros' ? `|edge=${v.edge}` : ''}${v.adjointEdge ? `|adj=${v.adjointEdge}` : ''}`;
  let f = gatherCache.get(key);
  if (!f) gatherCache.set(key, (f = buildGather(key, v, T, TW)));
  return f;
}

function buildGather(key: string, v: GatherVariant, T: number, TW: number): GemmFamily {
  const ph = !!v.phased;
  const decl = v.edge && v.edge !== 'zeros' ? 'var' : 'let';
  if (ph && v.aContig) throw new Error('conv gather: a phased launch is an input gradient (aContig false)');
  if (v.ragged && !ph) throw new Error('conv gather: ragged tap counts need a phased launch');
  if (v.adjointEdge && (ph || v.aContig || (v.edge && v.edge !== 'zeros')))
    throw new Error('conv gather: the pad adjoint folds into a one-phase input gradient only');
  // Per-phase values: from the tables at this launch's batch index (zb in storeOut, gZb elsewhere).
  const tables = ph ? `phOFFh: vec4<i32>, phOFFw: vec4<i32>, phKH0: vec4<u32>, phKW0: vec4<u32>, phOH0: vec4<u32>, phOW0: vec4<u32>,` : '';
  const offH = ph ? 'u.phOFFh[gZb / u.NPX]' : 'u.OFFh';
  const offW = ph ? 'u.phOFFw[gZb % u.NPX]' : 'u.OFFw';
  const lo16 = (e: string) => (v.ragged ? `(${e} & 0xffffu)` : e);
  const kh0 = ph ? lo16('u.phKH0[gZb / u.NPX]') : 'u.KH0';
  const kw0 = ph ? lo16('u.phKW0[gZb % u.NPX]') : 'u.KW0';
  const tapsH = `(u.phKH0[gZb / u.NPX] >> ${GATHER_RAGGED_SHIFT}u)`;
  const tapsW = `(u.phKW0[gZb % u.NPX] >> ${GATHER_RAGGED_SHIFT}u)`;
  const oh0 = ph ? 'u.phOH0[zb / u.NPX]' : 'u.OH0';
  const ow0 = ph ? 'u.phOW0[zb % u.NPX]' : 'u.OW0';
  const adj = v.adjointEdge;
  // The images of this thread's x row (column) in the padded grid: itself, then the border pixels
  // the pad maps onto it (as base offsets of the padded-grid gather).
  // local: declared in the calling function (the direct kernel) instead of setup()'s private arrays.
  const images = (axis: 'h' | 'w', x: string, lim: string, lo: string, hi: string, local = false) => {
    const arr = axis === 'h' ? 'ihImg' : 'iwImg';
    const cnt = axis === 'h' ? 'nIh' : 'nIw';
    const sp = axis === 'h' ? 'u.SPh' : 'u.SPw';
    const off = axis === 'h' ? 'u.OFFh' : 'u.OFFw';
    const one = (range: string) => `for (${range}) {
    var e = j;
    ${edgeMap(adj ?? 'zeros', 'e', lim)}
    if (e == ${x} && ${cnt} < ${GATHER_MAX_IMAGES}u) { ${arr}[${cnt}] = (j + ${lo}) * ${sp} + ${off}; ${cnt}++; }
  }`;
    return `${
      local
        ? `var ${arr}: array<i32, ${GATHER_MAX_IMAGES}>;
  `
        : ''
    }${arr}[0] = (${x} + ${lo}) * ${sp} + ${off};
  ${local ? 'var ' : ''}${cnt} = 1u;
  ${one(`var j = -${lo}; j < 0; j++`)}
  ${one(`var j = ${lim}; j < ${lim} + ${hi}; j++`)}`;
  };
  const setup = adj
    ? /* wgsl */ `
var<private> bOk: bool;
var<private> bBase: u32;
var<private> ihImg: array<i32, ${GATHER_MAX_IMAGES}>;
var<private> iwImg: array<i32, ${GATHER_MAX_IMAGES}>;
var<private> nIh: u32;
var<private> nIw: u32;
fn setup() {
  let n = gN0 + gTid % BN;
  let pp = u.PH * u.PW;
  let r = n % pp;
  bOk = n < u.N;
  bBase = (n / pp) * u.srcBatch;
  let xr = i32(r / u.PW);
  let xc = i32(r % u.PW);
  ${images('h', 'xr', 'i32(u.PH)', 'u.EPt', 'u.EPb')}
  ${images('w', 'xc', 'i32(u.PW)', 'u.EPl', 'u.EPr')}
}`
    : /* wgsl */ `
var<private> bOk: bool;
var<private> bBase: u32;
var<private> ihBase: i32;
var<private> iwBase: i32;${v.ragged ? '\nvar<private> bTH: u32;\nvar<private> bTW: u32;' : ''}
fn setup() {
  let n = gN0 + gTid % BN;
  let pp = u.PH * u.PW;
  let r = n % pp;
  bOk = n < u.N;
  bBase = (n / pp) * u.srcBatch;
  ihBase = i32(r / u.PW) * u.SPh + ${offH};
  iwBase = i32(r % u.PW) * u.SPw + ${offW};${v.ragged ? `\n  bTH = ${tapsH};\n  bTW = ${tapsW};` : ''}
}`;
  // A ragged phase's missing taps read zero on both sides (A: no weight, B: no dy).
  const aTap = v.ragged ? ' && aTapOk' : '';
  const bVal = adj
    ? `let tap = k % ${T}u;
    let dth = i32(tap / ${TW}u) * u.TSh;
    let dtw = i32(tap % ${TW}u) * u.TSw;
    if (bOk && k < kEnd) {
      let plane = bBase + (k / ${T}u) * u.srcPlane;
      var sAdj = 0.0;
      for (var ia = 0u; ia < nIh; ia++) {
        let ih = ihImg[ia] + dth;
        if (ih >= 0 && ih < u.SH) {
          for (var ib = 0u; ib < nIw; ib++) {
            let iw = iwImg[ib] + dtw;
            if (iw >= 0 && iw < u.SW) { sAdj += src[plane + u32(ih * u.SW + iw)]; }
          }
        }
      }
      val = sAdj;
    }`
    : `let tap = k % ${T}u;
    ${decl} ih = ihBase + i32(tap / ${TW}u) * u.TSh;
    ${decl} iw = iwBase + i32(tap % ${TW}u) * u.TSw;
    ${edgeMap(v.edge ?? 'zeros', 'ih', 'u.SH')} ${edgeMap(v.edge ?? 'zeros', 'iw', 'u.SW')}
    if (bOk && k < kEnd && ih >= 0 && ih < u.SH && iw >= 0 && iw < u.SW${v.ragged ? ` && tap / ${TW}u < bTH && tap % ${TW}u < bTW` : ''}) {
      val = src[bBase + (k / ${T}u) * u.srcPlane + u32(ih * u.SW + iw)];
    }`;
  // The direct form (gemmDirectSource, software adapters): this invocation's pixel is decoded
  // once; per (channel, tap) each lane loads its pixel's src value and one weight (row m0 + sgid
  // + i*sg), and the weights reach the other lanes by subgroupBroadcast; taps outside src are a
  // select, not a branch, so control flow stays uniform.
  const z = (e: string) => e.replace(/gZb/g, 'zb');
  // The pad adjoint's direct form: this x pixel's images in the padded grid are found once (images(), as in
  // setup() above), and each (channel, tap) sums the gathered dy values over them in setup()'s
  // order, so the tiled kernel's B value and then its fma sequence are reproduced bit for bit.
  const direct = (q: number, sg: number) => {
    const rows = [...Array(q * sg).keys()];
    const groups = [...Array(q).keys()];
    const aIdx = v.aContig ? 'aCh + t' : 'aCh + (kh0 + th * u.KSh) * u.KWW + kw0 + tw * u.KSw';
    const inRange = v.edge && v.edge !== 'zeros' ? 'true' : 'ih >= 0 && ih < u.SH && iw >= 0 && iw < u.SW';
    const y = `res[i]${v.bias ? ' + bias[m]' : ''}`;
    return /* wgsl */ `
  let nc = min(n, u.N - 1u);
  let pp = u.PH * u.PW;
  let r = nc % pp;
  let bBase = (nc / pp) * u.srcBatch;
  ${
    adj
      ? `let xr = i32(r / u.PW);
  let xc = i32(r % u.PW);
  ${images('h', 'xr', 'i32(u.PH)', 'u.EPt', 'u.EPb', true)}
  ${images('w', 'xc', 'i32(u.PW)', 'u.EPl', 'u.EPr', true)}`
      : `let ihBase = i32(r / u.PW) * u.SPh + ${z(offH)};
  let iwBase = i32(r % u.PW) * u.SPw + ${z(offW)};`
  }${
    v.aContig
      ? ''
      : `
  let kh0 = ${z(kh0)};
  let kw0 = ${z(kw0)};`
  }${
    v.ragged
      ? `
  let bTH = ${z(tapsH)};
  let bTW = ${z(tapsW)};`
      : ''
  }
  ${groups.map((i) => `let aL${i} = min(m0 + sgid + ${i * sg}u, u.M - 1u) * ${v.aContig ? 'u.K' : 'u.sAm'};`).join('\n  ')}
  ${rows.map((i) => `var acc${i} = 0.0;`).join('\n  ')}
  // One loop over k (not channels x taps): a loop with a constant trip count gets unrolled, and
  // llvmpipe's per-lane expansion of each load then takes seconds of LLVM time per pipeline.
  for (var k = 0u; k < u.K; k++) {
    let ch = k / ${T}u;
    let t = k % ${T}u;
    let plane = bBase + ch * u.srcPlane;
    let aCh = ch * ${v.aContig ? `${T}u` : 'u.sAc'};
    let th = t / ${TW}u;
    let tw = t % ${TW}u;${v.ragged ? '\n    if (th >= bTH || tw >= bTW) { continue; }' : ''}${
      adj
        ? `
    let dth = i32(th) * u.TSh;
    let dtw = i32(tw) * u.TSw;
    var b = 0.0;
    for (var ia = 0u; ia < nIh; ia++) {
      let ih = ihImg[ia] + dth;
      if (ih >= 0 && ih < u.SH) {
        for (var ib = 0u; ib < nIw; ib++) {
          let iw = iwImg[ib] + dtw;
          if (iw >= 0 && iw < u.SW) { b += src[plane + u32(ih * u.SW + iw)]; }
        }
      }
    }`
        : `
    ${decl} ih = ihBase + i32(th) * u.TSh;
    ${decl} iw = iwBase + i32(tw) * u.TSw;
    ${edgeMap(v.edge ?? 'zeros', 'ih', 'u.SH')} ${edgeMap(v.edge ?? 'zeros', 'iw', 'u.SW')}
    let ok = ${inRange};
    let b = select(0.0, src[plane + u32(select(0, ih * u.SW + iw, ok))], ok);`
    }
    let ai = ${aIdx};
    ${groups.map((i) => `let a${i} = wt[aL${i} + ai];`).join('\n    ')}
    ${rows.map((i) => `acc${i} = fma(subgroupBroadcast(a${Math.floor(i / sg)}, ${i % sg}u), b, acc${i});`).join('\n    ')}
  }
  // The stores run as a loop over the rows (not unrolled), with the output index computed once
  // for the column (row m adds m * outPlane) and the accumulation flag (GEMM_ACC_OUT) as a select:
  // llvmpipe expands each store into a per-lane loop, and unrolled stores with per-row branches
  // cost seconds of LLVM compilation per pipeline.
  let oBase = (nc / pp) * u.outBatch + (${oh0} + (r / u.PW) * u.OSh) * u.OWW + ${ow0} + (r % u.PW) * u.OSw;
  let accOn = (u.acc & ${GEMM_ACC_OUT}u) != 0u;
  let res = array<f32, ${q * sg}>(${rows.map((i) => `acc${i}`).join(', ')});
  let rows = min(${q * sg}u, u.M - m0);
  if (n < u.N) {
    for (var i = 0u; i < rows; i++) {
      let m = m0 + i;
      let o = oBase + m * u.outPlane;
      let v = ${actExpr[v.act].replace(/\by\b/g, `(${y})`)};
      out[o] = select(v, out[o] + v, accOn);
    }
  }`;
  };
  return {
    key,
    direct,
    uniforms: GATHER_FIELDS.map((f, i) => `${f}: ${GATHER_FIELD_TYPES[i]},`).join(' ') + tables,
    inputs: ['wt', 'src'],
    epilogueInputs: v.bias ? ['bias'] : [],
    // A (weights) is staged k-fast: one k per thread, so its (channel, tap) is decoded once per
    // step. B is staged n-fast: one column (pixel) per thread, decoded once in setup().
    aFast: 'k',
    bFast: 'x',
    setup,
    prelude: v.aContig
      ? ''
      : /* wgsl */ `
  let ka = k0 + gTid % TK;
  let tapA = ka % ${T}u;
  let aOff = (ka / ${T}u) * u.sAc + (${kh0} + (tapA / ${TW}u) * u.KSh) * u.KWW + ${kw0} + (tapA % ${TW}u) * u.KSw;${
    v.ragged ? `\n  let aTapOk = tapA / ${TW}u < ${tapsH} && tapA % ${TW}u < ${tapsW};` : ''
  }`,
    aVal: v.aContig
      ? `let m = gM0 + xx;
    if (m < u.M && k < kEnd) { val = wt[m * u.K + k]; }`
      : `let m = gM0 + xx;
    if (m < u.M && k < kEnd${aTap}) { val = wt[m * u.sAm + aOff]; }`,
    bVal,
    store: /* wgsl */ `
fn storeOut(zb: u32, m: u32, n: u32, v: f32) {
  let pp = u.PH * u.PW;
  let r = n % pp;
  let idx = (n / pp) * u.outBatch + m * u.outPlane + (${oh0} + (r / u.PW) * u.OSh) * u.OWW + ${ow0} + (r % u.PW) * u.OSw;
  let y = v${v.bias ? ' + bias[m]' : ''};
  ${accStore('out[idx]', 'out', actExpr[v.act])}
}`,
  };
}

export interface WgradVariant {
  /** KH*KW and KW (compile-time, to decode a weight index n = (c, kh, kw)). */
  kk: number;
  kw: number;
  /**
   * Also the bias gradient db[o] = sum_k dy[o, k]: one more GEMM column (n = NW, the weight
   * columns C*KH*KW) whose B entries are 1, written to `dbias` by the epilogue.
   */
  bias?: boolean;
  /** Padding folded into the x gather (default zeros). */
  edge?: ConvEdge;
}

export const WGRAD_FIELDS = [
  'OHW',
  'OWd',
  'dyBatch',
  'xBatch',
  'xPlane',
  'H',
  'W',
  'sh',
  'sw',
  'pt',
  'pl',
  'dh',
  'dw',
  'NW',
  'pad1',
  'pad2',
] as const;
const WGRAD_TYPES: Record<string, string> = { H: 'i32', W: 'i32', sh: 'i32', sw: 'i32', pt: 'i32', pl: 'i32', dh: 'i32', dw: 'i32' };
export const WGRAD_FIELD_TYPES = WGRAD_FIELDS.map((f) => WGRAD_TYPES[f] ?? 'u32');

const wgradCache = new Map<string, GemmFamily>();

/** The weight-gradient family for one kernel size (built once, then shared). */
export function wgradFamily(v: WgradVariant): GemmFamily {
  const key = `conv_wgrad|KK=${v.kk}|KW=${v.kw}${v.bias ? '|bias' : ''}${v.edge && v.edge !== 'zeros' ? `|edge=${v.edge}` : ''}`;
  let f = wgradCache.get(key);
  if (!f) wgradCache.set(key, (f = buildWgrad(key, v)));
  return f;
}

function buildWgrad(key: string, v: WgradVariant): GemmFamily {
  const decl = v.edge && v.edge !== 'zeros' ? 'var' : 'let';
  const edged = !!v.edge && v.edge !== 'zeros';
  // The direct form (gemmDirectSource, software adapters): this invocation's column n = (c, kh, kw)
  // (or the bias column NW) is decoded once; the reduction k = (nb, oh, ow) runs as three nested
  // loops (no division per step), in the tiled kernel's order (k ascending, fma). Per step each lane
  // loads its column's x value (a select outside x, 1 in the bias column) and one dy value per row
  // group (row m0 + sgid + i*sg), which subgroupBroadcast hands to the other lanes.
  const direct = (q: number, sg: number) => {
    const rows = [...Array(q * sg).keys()];
    const groups = [...Array(q).keys()];
    const isBias = v.bias ? 'nc == u.NW' : 'false';
    return /* wgsl */ `
  let nc = min(n, u.N - 1u);
  let isBias = ${isBias};
  let c = nc / ${v.kk}u;
  let tap = nc % ${v.kk}u;
  let dth = i32(tap / ${v.kw}u) * u.dh - u.pt;
  let dtw = i32(tap % ${v.kw}u) * u.dw - u.pl;
  let nbs = u.K / max(u.OHW, 1u);
  let ohs = u.OHW / max(u.OWd, 1u);
  ${groups.map((i) => `let aL${i} = min(m0 + sgid + ${i * sg}u, u.M - 1u) * u.OHW;`).join('\n  ')}
  ${rows.map((i) => `var acc${i} = 0.0;`).join('\n  ')}
  for (var nb = 0u; nb < nbs; nb++) {
    let xB = nb * u.xBatch + select(c, 0u, isBias) * u.xPlane;
    var p = nb * u.dyBatch;
    for (var oh = 0u; oh < ohs; oh++) {
      ${decl} ih = i32(oh) * u.sh + dth;
      ${edgeMap(v.edge ?? 'zeros', 'ih', 'u.H')}
      let rowOk = ${edged ? '!isBias' : 'ih >= 0 && ih < u.H && !isBias'};
      for (var ow = 0u; ow < u.OWd; ow++) {
        ${decl} iw = i32(ow) * u.sw + dtw;
        ${edgeMap(v.edge ?? 'zeros', 'iw', 'u.W')}
        let ok = rowOk${edged ? '' : ' && iw >= 0 && iw < u.W'};
        let bx = x[xB + u32(select(0, ih * u.W + iw, ok))];
        let b = select(select(0.0, bx, ok), 1.0, isBias);
        ${groups.map((i) => `let a${i} = dy[aL${i} + p];`).join('\n        ')}
        ${rows.map((i) => `acc${i} = fma(subgroupBroadcast(a${Math.floor(i / sg)}, ${i % sg}u), b, acc${i});`).join('\n        ')}
        p++;
      }
    }
  }
  // Stores as a loop over rows with the accumulation flags as selects (see the gather family).
  let accOut = (u.acc & ${GEMM_ACC_OUT}u) != 0u;
  let res = array<f32, ${q * sg}>(${rows.map((i) => `acc${i}`).join(', ')});
  let rows = min(${q * sg}u, u.M - m0);
  if (n < u.N) {
    for (var i = 0u; i < rows; i++) {
      let m = m0 + i;
      let val = res[i];${
        v.bias
          ? `
      if (isBias) {
        dbias[m] = select(val, dbias[m] + val, (u.acc & ${GEMM_ACC_EXTRA}u) != 0u);
      } else {
        let o = m * u.NW + n;
        out[o] = select(val, out[o] + val, accOut);
      }`
          : `
      let o = m * u.NW + n;
      out[o] = select(val, out[o] + val, accOut);`
      }
    }
  }`;
  };
  return {
    key,
    direct,
    uniforms: WGRAD_FIELDS.map((f, i) => `${f}: ${WGRAD_FIELD_TYPES[i]},`).join(' '),
    inputs: ['dy', 'x'],
    epilogueInputs: [],
    // Both tiles are staged k-fast (pixels are contiguous in dy and, along a row, in x): this
    // thread always stages the same k, so its pixel (nb, oh, ow) is decoded once per step.
    aFast: 'k',
    bFast: 'k',
    setup: 'fn setup() {}',
    prelude: /* wgsl */ `
  let kp = k0 + gTid % TK;
  let kOk = kp < kEnd;
  let nb = kp / u.OHW;
  let p = kp % u.OHW;
  let aBase = nb * u.dyBatch + p;
  let ihb = i32(p / u.OWd) * u.sh - u.pt;
  let iwb = i32(p % u.OWd) * u.sw - u.pl;
  let xb = nb * u.xBatch;`,
    aVal: `let m = gM0 + xx;
    if (kOk && m < u.M) { val = dy[aBase + m * u.OHW]; }`,
    bVal: `let n = gN0 + xx;
    let tap = n % ${v.kk}u;
    ${decl} ih = ihb + i32(tap / ${v.kw}u) * u.dh;
    ${decl} iw = iwb + i32(tap % ${v.kw}u) * u.dw;
    ${edgeMap(v.edge ?? 'zeros', 'ih', 'u.H')} ${edgeMap(v.edge ?? 'zeros', 'iw', 'u.W')}
    if (kOk && n < u.NW && ih >= 0 && ih < u.H && iw >= 0 && iw < u.W) {
      val = x[xb + (n / ${v.kk}u) * u.xPlane + u32(ih * u.W + iw)];
    }${
      v.bias
        ? `
    if (kOk && n == u.NW) { val = 1.0; }`
        : ''
    }`,
    store: v.bias
      ? /* wgsl */ `
fn storeOut(zb: u32, m: u32, n: u32, v: f32) {
  if (n < u.NW) { ${accStore('out[m * u.NW + n]', 'out', 'v')} } else { ${accStore('dbias[m]', 'extra', 'v')} }
}`
      : /* wgsl */ `
fn storeOut(zb: u32, m: u32, n: u32, v: f32) { ${accStore('out[m * u.NW + n]', 'out', 'v')} }`,
    extraOutputs: v.bias ? ['dbias'] : [],
  };
}
