// Reductions along any set of axes, and the strided copy behind permute/expand/slice/concat/pad.
// Legend:
//   reduce: one workgroup per output element; kshape/kstr = kept dims of the input and their
//           strides, rshape/rstr = reduced dims and strides; R = number of reduced elements;
//           acc != 0 adds the result into y instead of writing it.
//   copy:   iterate over `shape`; source index = soff + sum(idx_d * sstr_d), destination index =
//           doff + sum(idx_d * dstr_d). Strides of 0 broadcast; any permutation is a stride order.
import { at8, index1d, main1d } from './common.js';

export const REDUCE_WG = 64;
export const COPY_WG = 256;

export type ReduceKind = 'sum' | 'max' | 'min';

const init: Record<ReduceKind, string> = { sum: '0.0', max: '-3.4028234e38', min: '3.4028234e38' };
const combine: Record<ReduceKind, (a: string, b: string) => string> = {
  sum: (a, b) => `${a} + ${b}`,
  max: (a, b) => `max(${a}, ${b})`,
  min: (a, b) => `min(${a}, ${b})`,
};

export function reduceSource(kind: ReduceKind): string {
  const c = combine[kind];
  return /* wgsl */ `
struct Params { nOut: u32, R: u32, krank: u32, rrank: u32, scale: f32, acc: u32, p2: u32, p3: u32,
  kshape: array<vec4<u32>, 2>, kstr: array<vec4<u32>, 2>, rshape: array<vec4<u32>, 2>, rstr: array<vec4<u32>, 2> }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
var<workgroup> part: array<f32, ${REDUCE_WG}>;
${at8}
@compute @workgroup_size(${REDUCE_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = wid.x + wid.y * nwg.x;
  // Uniform control flow: every thread of a workgroup reaches the barriers, even past nOut.
  var base = 0u;
  var rem = o;
  for (var d = i32(u.krank) - 1; d >= 0; d--) {
    let k = u32(d);
    let s = at8(u.kshape, k);
    base += (rem % s) * at8(u.kstr, k);
    rem = rem / s;
  }
  var acc = ${init[kind]};
  if (o < u.nOut) {
    for (var r = lid; r < u.R; r += ${REDUCE_WG}u) {
      var off = base;
      var q = r;
      for (var d = i32(u.rrank) - 1; d >= 0; d--) {
        let k = u32(d);
        let s = at8(u.rshape, k);
        off += (q % s) * at8(u.rstr, k);
        q = q / s;
      }
      acc = ${c('acc', 'x[off]')};
    }
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = ${REDUCE_WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { part[lid] = ${c('part[lid]', 'part[lid + s]')}; }
    workgroupBarrier();
  }
  if (lid == 0u && o < u.nOut) {
    // acc: add into y (the tape's gradient accumulation, one rounding as the add it replaces).
    if (u.acc != 0u) { y[o] = y[o] + part[0] * u.scale; } else { y[o] = part[0] * u.scale; }
  }
}`;
}

export function copySource(): string {
  return /* wgsl */ `
struct Params { n: u32, rank: u32, soff: u32, doff: u32,
  shape: array<vec4<u32>, 2>, sstr: array<vec4<u32>, 2>, dstr: array<vec4<u32>, 2> }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
${at8}
${main1d(COPY_WG)} {
  let i = ${index1d(COPY_WG)};
  if (i >= u.n) { return; }
  var rem = i;
  var si = u.soff;
  var di = u.doff;
  for (var d = i32(u.rank) - 1; d >= 0; d--) {
    let k = u32(d);
    let s = at8(u.shape, k);
    let c = rem % s;
    rem = rem / s;
    si += c * at8(u.sstr, k);
    di += c * at8(u.dstr, k);
  }
  dst[di] = src[si];
}`;
}

/** The strided copy's contiguous case (both sides unit stride after coalescing): dst[doff + i] = src[soff + i]. */
export function contigCopySource(): string {
  return /* wgsl */ `
struct Params { n: u32, soff: u32, doff: u32, pad0: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
${main1d(COPY_WG)} {
  let i = ${index1d(COPY_WG)};
  if (i >= u.n) { return; }
  dst[u.doff + i] = src[u.soff + i];
}`;
}

export function fillSource(): string {
  return /* wgsl */ `
struct Params { n: u32, value: f32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
${main1d(COPY_WG)} {
  let i = ${index1d(COPY_WG)};
  if (i < u.n) { y[i] = u.value; }
}`;
}
