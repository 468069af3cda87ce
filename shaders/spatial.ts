// Spatial kernels over NCHW planes: 2-D padding, nearest / bilinear upsampling, average (and sum)
// pooling, the Laplacian-pyramid resamplers, and the adjoint (transpose) of each, so every
// backward is itself a kernel that a differentiable op wraps.
// Legend:
//   p           plane index n*C + c; every plane is processed independently.
//   H, W        the forward op's input size;  OH, OW  the forward op's output size. The adjoint
//               kernels keep these names (they map an [.., OH, OW] gradient to [.., H, W]).
//   i, j        output row/column (forward kernels); a, b  input row/column (adjoint kernels).
//   pad         top, left (bottom/right follow from OH, OW); mode zeros | reflect | replicate.
//   pool        kh, kw kernel; sh, sw stride; ph, pw padding; mul = 1/(kh*kw) (average) or 1 (sum).
//   bilinear    src(d) = d*(in-1)/(out-1) (align corners) or max((d+0.5)*in/out - 0.5, 0); taps
//               lo = min(floor(src), in-1), hi = min(lo+1, in-1), weight frac = src - lo.
//   pyramid     g = [1 4 6 4 1]/16 per axis, reflect padding 2 (edge not repeated). Per axis a fine
//               size nF and a coarse size nC = ceil(nF/2):
//                 down : coarse[i] = sum_s g[s] fine[R(2i+s)]
//                 up   : fine[i]   = sum_s 2 g[s] [R(i+s) even] coarse[R(i+s)/2]
//                 downT, upT: their transposes. A fine position q is hit by the positions
//                 P(q) = {q, -q (q >= 1), 2(nF-1)-q (q <= nF-2)}, so the transposes enumerate P(q).
//               down reads a fixed 5 x 5 window; up reads 3 x 3 coarse taps (reflection keeps parity,
//               so only 2 or 3 of the 5 positions per axis are even). The transposes build per-axis
//               lists of (source index, weight) taps and take the separable double sum over them.
// All kernels are 1-D over output elements (grid1d), one thread per element.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { index1d, main1d } from './common.js';

export const SPATIAL_WG = 256;

export type PadMode = 'zeros' | 'reflect' | 'replicate';
export type PyramidMode = 'down' | 'up' | 'downT' | 'upT';

const io = /* wgsl */ `
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;`;

/** Splits the thread index i into plane p, row r and column c of an [.., R, Cn] output. */
const split3 = (R: string, Cn: string) => /* wgsl */ `
  let plane = i / (${R} * ${Cn});
  let rc = i % (${R} * ${Cn});
  let r = i32(rc / ${Cn});
  let c = i32(rc % ${Cn});`;

// ---- padding --------------------------------------------------------------------------------------

const padParams = /* wgsl */ `
struct Params { n: u32, H: u32, W: u32, OH: u32, OW: u32, top: u32, left: u32, value: f32 }
@group(0) @binding(0) var<uniform> u: Params;`;

/** y[p, i, j] = x[p, src(i - top), src(j - left)], or `value` outside x (zeros mode). */
export function padSource(mode: PadMode): string {
  return wgsl`${padParams}${io}
// Source index along one axis of length n for the padded position k (may be outside [0, n)).
fn src(k: i32, n: i32) -> i32 {
#if ${mode === 'zeros'}
  return select(-1, k, k >= 0 && k < n);
#elif ${mode === 'replicate'}
  return clamp(k, 0, n - 1);
#else
  if (k < 0) { return -k; }
  if (k >= n) { return 2 * (n - 1) - k; }
  return k;
#endif
}
${main1d(SPATIAL_WG)} {
  let i = ${index1d(SPATIAL_WG)};
  if (i >= u.n) { return; }
  ${split3('u.OH', 'u.OW')}
  let si = src(r - i32(u.top), i32(u.H));
  let sj = src(c - i32(u.left), i32(u.W));
  var v = u.value;
  if (si >= 0 && sj >= 0) { v = x[(plane * u.H + u32(si)) * u.W + u32(sj)]; }
  y[i] = v;
}`;
}

/** The adjoint of padSource: dx[p, a, b] = sum of g over the padded positions that read (a, b). */
export function padAdjointSource(mode: PadMode): string {
  return wgsl`${padParams}${io}
// Inclusive ranges of padded positions along one axis that read source index a (empty: x > y).
fn hits(a: i32, n: i32, before: i32, outN: i32) -> array<vec2<i32>, 3> {
  var h = array<vec2<i32>, 3>(vec2<i32>(a + before), vec2<i32>(0, -1), vec2<i32>(0, -1));
#if ${mode === 'reflect'}
  if (a >= 1 && a <= before) { h[1] = vec2<i32>(before - a); }
  let m = before + 2 * (n - 1) - a;
  if (a <= n - 2 && m < outN) { h[2] = vec2<i32>(m); }
#elif ${mode === 'replicate'}
  if (a == 0) { h[0].x = 0; }
  if (a == n - 1) { h[0].y = outN - 1; }
#endif
  return h;
}
${main1d(SPATIAL_WG)} {
  let i = ${index1d(SPATIAL_WG)};
  if (i >= u.n) { return; }
  ${split3('u.H', 'u.W')}
  let hr = hits(r, i32(u.H), i32(u.top), i32(u.OH));
  let hc = hits(c, i32(u.W), i32(u.left), i32(u.OW));
  let base = i32(plane * u.OH);
  var acc = 0.0;
  for (var q = 0; q < 3; q++) {
    for (var oi = hr[q].x; oi <= hr[q].y; oi++) {
      let row = u32(base + oi) * u.OW;
      for (var t = 0; t < 3; t++) {
        for (var oj = hc[t].x; oj <= hc[t].y; oj++) { acc += x[row + u32(oj)]; }
      }
    }
  }
  y[i] = acc;
}`;
}

// ---- nearest upsampling ---------------------------------------------------------------------------

/** y[p, i, j] = x[p, i / sh, j / sw]. */
export function nearestSource(): string {
  return /* wgsl */ `
struct Params { n: u32, H: u32, W: u32, OH: u32, OW: u32, sh: u32, sw: u32, pad0: u32 }
@group(0) @binding(0) var<uniform> u: Params;${io}
${main1d(SPATIAL_WG)} {
  let i = ${index1d(SPATIAL_WG)};
  if (i >= u.n) { return; }
  ${split3('u.OH', 'u.OW')}
  y[i] = x[(plane * u.H + u32(r) / u.sh) * u.W + u32(c) / u.sw];
}`;
}

// ---- pooling --------------------------------------------------------------------------------------

const poolParams = /* wgsl */ `
struct Params { n: u32, H: u32, W: u32, OH: u32, OW: u32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, mul: f32 }
@group(0) @binding(0) var<uniform> u: Params;`;

/** y[p, i, j] = mul * sum of x over the window at (i*sh - ph, j*sw - pw) (padding counts as 0). */
export function poolSource(): string {
  return /* wgsl */ `${poolParams}${io}
${main1d(SPATIAL_WG)} {
  let i = ${index1d(SPATIAL_WG)};
  if (i >= u.n) { return; }
  ${split3('u.OH', 'u.OW')}
  let h0 = r * u.sh - u.ph;
  let w0 = c * u.sw - u.pw;
  let hHi = min(h0 + u.kh, i32(u.H));
  let wHi = min(w0 + u.kw, i32(u.W));
  var acc = 0.0;
  for (var a = max(h0, 0); a < hHi; a++) {
    let row = (plane * u.H + u32(a)) * u.W;
    for (var b = max(w0, 0); b < wHi; b++) { acc += x[row + u32(b)]; }
  }
  y[i] = acc * u.mul;
}`;
}

/** The adjoint of poolSource: dx[p, a, b] = mul * sum of g over the windows containing (a, b). */
export function poolAdjointSource(): string {
  return /* wgsl */ `${poolParams}${io}
// Inclusive range of window indices along one axis whose window covers a.
fn windows(a: i32, k: i32, s: i32, pd: i32, outN: i32) -> vec2<i32> {
  let t = a + pd - k + 1;
  let lo = select(0, (t + s - 1) / s, t > 0);
  let hi = min((a + pd) / s, outN - 1);
  return vec2<i32>(lo, hi);
}
${main1d(SPATIAL_WG)} {
  let i = ${index1d(SPATIAL_WG)};
  if (i >= u.n) { return; }
  ${split3('u.H', 'u.W')}
  let wr = windows(r, u.kh, u.sh, u.ph, i32(u.OH));
  let wc = windows(c, u.kw, u.sw, u.pw, i32(u.OW));
  var acc = 0.0;
  for (var oi = wr.x; oi <= wr.y; oi++) {
    let row = (plane * u.OH + u32(oi)) * u.OW;
    for (var oj = wc.x; oj <= wc.y; oj++) { acc += x[row + u32(oj)]; }
  }
  y[i] = acc * u.mul;
}`;
}

// ---- bilinear -------------------------------------------------------------------------------------

function bilinearCommon(alignCorners: boolean): string {
  return wgsl`
struct Params { n: u32, H: u32, W: u32, OH: u32, OW: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> u: Params;${io}
// Source coordinate of output index d (PyTorch's rule for an explicit output size).
fn srcCoord(d: i32, inN: u32, outN: u32) -> f32 {
#if ${alignCorners}
  if (outN > 1u) { return f32(d) * f32(inN - 1u) / f32(outN - 1u); }
  return 0.0;
#else
  return max((f32(d) + 0.5) * f32(inN) / f32(outN) - 0.5, 0.0);
#endif
}
struct Tap { lo: i32, hi: i32, frac: f32 }
fn tap(d: i32, inN: u32, outN: u32) -> Tap {
  let s = srcCoord(d, inN, outN);
  let lo = min(i32(floor(s)), i32(inN) - 1);
  return Tap(lo, min(lo + 1, i32(inN) - 1), s - f32(lo));
}`;
}

/** y[p, i, j] = bilinear interpolation of x at (src(i), src(j)). */
export function bilinearSource(alignCorners: boolean): string {
  return /* wgsl */ `${bilinearCommon(alignCorners)}
${main1d(SPATIAL_WG)} {
  let i = ${index1d(SPATIAL_WG)};
  if (i >= u.n) { return; }
  ${split3('u.OH', 'u.OW')}
  let ty = tap(r, u.H, u.OH);
  let tx = tap(c, u.W, u.OW);
  let r0 = (plane * u.H + u32(ty.lo)) * u.W;
  let r1 = (plane * u.H + u32(ty.hi)) * u.W;
  let top = (1.0 - tx.frac) * x[r0 + u32(tx.lo)] + tx.frac * x[r0 + u32(tx.hi)];
  let bottom = (1.0 - tx.frac) * x[r1 + u32(tx.lo)] + tx.frac * x[r1 + u32(tx.hi)];
  y[i] = (1.0 - ty.frac) * top + ty.frac * bottom;
}`;
}

/** The adjoint of bilinearSource: dx[p, a, b] = sum over outputs of weight(row) * weight(col) * g. */
export function bilinearAdjointSource(alignCorners: boolean): string {
  return wgsl`${bilinearCommon(alignCorners)}
// Weight of input index a in the interpolation of output index d.
fn weight(d: i32, a: i32, inN: u32, outN: u32) -> f32 {
  let t = tap(d, inN, outN);
  return select(0.0, 1.0 - t.frac, t.lo == a) + select(0.0, t.frac, t.hi == a);
}
// A range of output indices that contains every output reading input a (with a margin; the
// weights decide exactly).
fn outRange(a: i32, inN: u32, outN: u32) -> vec2<i32> {
  let last = i32(outN) - 1;
  if (inN <= 1u || outN <= 1u) { return vec2<i32>(0, last); }
#if ${alignCorners}
  let k = f32(outN - 1u) / f32(inN - 1u);
  let lo = floor(f32(a - 1) * k) - 1.0;
  let hi = ceil(f32(a + 1) * k) + 1.0;
#else
  let k = f32(outN) / f32(inN);
  let lo = floor((f32(a) - 0.5) * k - 0.5) - 1.0;
  let hi = ceil((f32(a) + 1.5) * k - 0.5) + 1.0;
#endif
  return vec2<i32>(max(i32(lo), 0), min(i32(hi), last));
}
${main1d(SPATIAL_WG)} {
  let i = ${index1d(SPATIAL_WG)};
  if (i >= u.n) { return; }
  ${split3('u.H', 'u.W')}
  let rr = outRange(r, u.H, u.OH);
  let cr = outRange(c, u.W, u.OW);
  var acc = 0.0;
  for (var d = rr.x; d <= rr.y; d++) {
    let wy = weight(d, r, u.H, u.OH);
    if (wy == 0.0) { continue; }
    let row = (plane * u.OH + u32(d)) * u.OW;
    var s = 0.0;
    for (var e = cr.x; e <= cr.y; e++) { s += weight(e, c, u.W, u.OW) * x[row + u32(e)]; }
    acc += wy * s;
  }
  y[i] = acc;
}`;
}

// ---- Laplacian pyramid resampling -----------------------------------------------------------------

/** One of the four separable pyramid resamplers (see the legend). */
export function pyramidSource(mode: PyramidMode): string {
  return wgsl`
struct Params { n: u32, inH: u32, inW: u32, outH: u32, outW: u32, fH: i32, fW: i32, cH: i32, cW: i32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> u: Params;${io}
const MAXTAPS = 16;
struct Taps { idx: array<i32, MAXTAPS>, w: array<f32, MAXTAPS>, n: i32 }

// Binomial tap g[s] for s in -2..2.
fn g5(s: i32) -> f32 {
  let a = abs(s);
  return select(select(0.0625, 0.25, a == 1), 0.375, a == 0);
}
fn refl(k: i32, n: i32) -> i32 {
  if (k < 0) { return -k; }
  if (k >= n) { return 2 * (n - 1) - k; }
  return k;
}
fn push(t: ptr<function, Taps>, idx: i32, w: f32) {
  (*t).idx[(*t).n] = idx;
  (*t).w[(*t).n] = w;
  (*t).n += 1;
}
struct Taps3 { idx: vec3<u32>, w: vec3<f32> }
// The coarse taps of fine output index o for pyrUp (see main); unused slots get weight 0.
fn upTaps(o: i32, nF: i32) -> Taps3 {
  if ((o & 1) == 0) {
    return Taps3(vec3<u32>(u32(refl(o - 2, nF) >> 1u), u32(o >> 1u), u32(refl(o + 2, nF) >> 1u)), vec3<f32>(0.125, 0.75, 0.125));
  }
  return Taps3(vec3<u32>(u32(refl(o - 1, nF) >> 1u), u32(refl(o + 1, nF) >> 1u), 0u), vec3<f32>(0.5, 0.5, 0.0));
}
// Member c (0..2) of P(q): the unreflected fine positions that reflect onto q; -1000000 if none.
fn hitPos(c: i32, q: i32, nF: i32) -> i32 {
  if (c == 0) { return q; }
  if (c == 1) { return select(-1000000, -q, q >= 1); }
  return select(-1000000, 2 * (nF - 1) - q, q <= nF - 2);
}
// The (source index, weight) taps of output index o along one axis (the transposed resamplers).
fn taps(o: i32, nF: i32, nC: i32) -> Taps {
  var t: Taps;
#if ${mode === 'downT'}
  // o is a fine index; coarse outputs i with 2i + s in P(o) read it with weight g[s].
  for (var c = 0; c < 3; c++) {
    let q = hitPos(c, o, nF);
    if (q == -1000000) { continue; }
    for (var i = (q - 2) >> 1u; i <= (q + 2) >> 1u; i++) {
      let s = q - 2 * i;
      if (i >= 0 && i < nC && s >= -2 && s <= 2) { push(&t, i, g5(s)); }
    }
  }
#else
  // o is a coarse index (fine position 2o); fine outputs i with i + s in P(2o) read it with 2 g[s].
  for (var c = 0; c < 3; c++) {
    let q = hitPos(c, 2 * o, nF);
    if (q == -1000000) { continue; }
    for (var s = -2; s <= 2; s++) {
      let i = q - s;
      if (i >= 0 && i < nF) { push(&t, i, 2.0 * g5(s)); }
    }
  }
#endif
  return t;
}
${main1d(SPATIAL_WG)} {
  let i = ${index1d(SPATIAL_WG)};
  if (i >= u.n) { return; }
  ${split3('u.outH', 'u.outW')}
  let base = plane * u.inH;
  var acc = 0.0;
#if ${mode === 'down'}
  // 5 x 5 taps around (2r, 2c) of the fine input.
  let c2 = 2 * c;
  let j0 = u32(refl(c2 - 2, u.fW));
  let j1 = u32(refl(c2 - 1, u.fW));
  let j2 = u32(c2);
  let j3 = u32(refl(c2 + 1, u.fW));
  let j4 = u32(refl(c2 + 2, u.fW));
  for (var s = -2; s <= 2; s++) {
    let row = (base + u32(refl(2 * r + s, u.fH))) * u.inW;
    let h = 0.0625 * (x[row + j0] + x[row + j4]) + 0.25 * (x[row + j1] + x[row + j3]) + 0.375 * x[row + j2];
    acc += g5(s) * h;
  }
#elif ${mode === 'up'}
  // Reflection keeps parity, so output r reads the coarse rows of the even positions among r-2..r+2:
  // r even: (r-2, r, r+2) with 2g = (1/8, 3/4, 1/8); r odd: (r-1, r+1) with (1/2, 1/2).
  let rt = upTaps(r, u.fH);
  let ct = upTaps(c, u.fW);
  for (var k = 0; k < 3; k++) {
    let row = (base + rt.idx[k]) * u.inW;
    acc += rt.w[k] * (ct.w[0] * x[row + ct.idx[0]] + ct.w[1] * x[row + ct.idx[1]] + ct.w[2] * x[row + ct.idx[2]]);
  }
#else
  let tr = taps(r, u.fH, u.cH);
  let tc = taps(c, u.fW, u.cW);
  for (var k = 0; k < tr.n; k++) {
    let row = (base + u32(tr.idx[k])) * u.inW;
    var s = 0.0;
    for (var m = 0; m < tc.n; m++) { s += tc.w[m] * x[row + u32(tc.idx[m])]; }
    acc += tr.w[k] * s;
  }
#endif
  y[i] = acc;
}`;
}
