// Row-wise softmax / log-softmax over the last axis, and one-hot expansion of int32 class labels.
// Legend:
//   softmax:  x viewed as [rows, C]; one workgroup per row (row = wid.x + wid.y * nwg.x).
//             m = max_c x[c];  s = sum_c exp(x[c] - m);  lse = m + log(s)
//             softmax: y = exp(x - m) / s;  log_softmax: y = x - lse
//             A row of all -inf gives NaN (as in PyTorch).
//   one_hot:  labels: array<i32> of length N; y[n, c] = (c == labels[n]) ? 1 : 0, and a whole row of
//             NaN when labels[n] is outside [0, C), so a bad label poisons the loss instead of
//             being silently dropped.
import { index1d, main1d } from './common.js';

export const SOFTMAX_WG = 64;
export const ONE_HOT_WG = 256;

export function softmaxSource(log: boolean): string {
  const out = log ? 'x[base + c] - lse' : 'exp(x[base + c] - m) * inv';
  return /* wgsl */ `
struct Params { rows: u32, C: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
var<workgroup> part: array<f32, ${SOFTMAX_WG}>;
@compute @workgroup_size(${SOFTMAX_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;
  let live = row < u.rows;   // uniform per workgroup: all threads reach every barrier
  let base = row * u.C;
  var acc = -3.4028234e38;
  if (live) {
    for (var c = lid; c < u.C; c += ${SOFTMAX_WG}u) { acc = max(acc, x[base + c]); }
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = ${SOFTMAX_WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { part[lid] = max(part[lid], part[lid + s]); }
    workgroupBarrier();
  }
  let m = part[0];
  workgroupBarrier();
  var sum = 0.0;
  if (live) {
    for (var c = lid; c < u.C; c += ${SOFTMAX_WG}u) { sum += exp(x[base + c] - m); }
  }
  part[lid] = sum;
  workgroupBarrier();
  for (var s = ${SOFTMAX_WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { part[lid] = part[lid] + part[lid + s]; }
    workgroupBarrier();
  }
  let inv = 1.0 / part[0];
  let lse = m + log(part[0]);
  if (live) {
    for (var c = lid; c < u.C; c += ${SOFTMAX_WG}u) { y[base + c] = ${out}; }
  }
}`;
}

export function oneHotSource(): string {
  return /* wgsl */ `
struct Params { n: u32, C: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> labels: array<i32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
${main1d(ONE_HOT_WG)} {
  let i = ${index1d(ONE_HOT_WG)};
  if (i >= u.n) { return; }
  let r = i / u.C;
  let c = i32(i % u.C);
  let k = labels[r];
  // NaN built at run time (u.pad0 is 0): a NaN constant expression is a WGSL compile error.
  if (k < 0 || k >= i32(u.C)) { y[i] = bitcast<f32>(0x7fc00000u | u.pad0); return; }
  y[i] = select(0.0, 1.0, c == k);
}`;
}
