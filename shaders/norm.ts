// Normalisation kernels: instance norm and batch norm (training and eval), with an optional fused
// activation, and their fused backward.
// Legend:
//   group g     the set of elements that share one mean/variance: an (n, c) plane for instance norm
//               (G = N*C groups), a channel c over every n and spatial position for batch norm
//               (G = C groups). One workgroup of NORM_WG threads owns one group.
//   VT / VW     the element type the kernel moves: vec4<f32> (VW = 4) when the plane size H*W is a
//               multiple of 4, else f32 (VW = 1). "Items" below are VT elements.
//   P           items per (n, c) plane (= H*W / VW); items = items per group (P for instance norm,
//               N*P for batch norm); M = elements per group (items * VW); invM = 1 / M.
//   addr(g, j)  index (in items) of item j of group g: instance g*P + j; batch (j/P*C + g)*P + j%P.
//   cache K     when a group fits in K items per thread (K <= NORM_MAX_CACHE), each thread keeps its
//               items in registers after the first read, so x is read from memory exactly once;
//               K = 0 re-reads x (from cache/L2) on each pass instead.
//   stats       [G, 2] = (mean, rstd) per group, saved by the forward for the fused backward.
//   act         'none' | 'relu' | 'leaky_relu' (slope): applied to z = xhat*gamma + beta in the
//               normalise pass; the backward recovers its derivative mask from y (slope >= 0).
//   sumG, sumGX [G] each: sum gz and sum gz*xhat per group, written by the backward; they are dbeta
//               and dgamma for batch norm, and are summed over n on the host side for instance norm.
// Forward: pass 1 mean (workgroup tree reduction), pass 2 centred variance (second reduction, which
// is exact where sum/sum-of-squares would cancel), pass 3 normalise + affine + activation; the
// batch-norm forward also folds the running-stat update (unbiased variance) into thread 0 (instance
// norm with running statistics writes each group's statistics there instead, and one small kernel,
// instance_running, averages them over the batch into the running buffers), and
// (option `counter`) num_batches_tracked += 1 into thread 0 of group 0, and (option `residual`, a
// ResNet block's last norm) adds a residual tensor to the output: y = res + act(z).
// Backward (createGraph off): dx = gamma*rstd*(gz - mean(gz) - xhat*mean(gz*xhat)), gz = dy*act'.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { index1d, main1d } from './common.js';

export const NORM_WG = 256;
/** The largest number of items per thread kept in registers by the forward / backward. */
export const NORM_MAX_CACHE = 16;
export const NORM_MAX_CACHE_BACKWARD = 8;

export type NormKind = 'instance' | 'batch';
export type NormAct = 'none' | 'relu' | 'leaky_relu';

export interface NormKernelOptions {
  kind: NormKind;
  vec4: boolean;
  gamma: boolean;
  beta: boolean;
  act: NormAct;
  /**
   * Training with running statistics. Batch norm: update the running mean/var in place. Instance
   * norm: write each (n, c) group's mean and unbiased variance into two [G] buffers bound in their
   * place, which the instance_running kernel (instanceRunningSource) folds into the running stats.
   */
  running: boolean;
  /** Forward: add 1 to an int32 counter (BatchNorm's num_batches_tracked) in the same dispatch. */
  counter?: boolean;
  /** Items kept in registers per thread (0: re-read). */
  cache: number;
  /** Forward: y = res + normalised (a residual add in the epilogue; activation 'none' only). */
  residual?: boolean;
  /**
   * Software adapters (0 or absent: the GPU form): the subgroup size; each group is then one
   * workgroup of exactly one subgroup, and the reductions are subgroupAdd (no workgroup memory,
   * no barriers: on llvmpipe every workgroup-memory access is a per-lane scalar loop and every
   * barrier a coroutine switch of each subgroup; bench/NOTES.md). Lanes stride over the group's
   * items as the GPU form's threads do, so only the order of the final sums differs.
   */
  sub?: number;
}

/** Threads per group (one workgroup) of the forward / backward kernels. */
export const normThreads = (o: Pick<NormKernelOptions, 'sub'>): number => o.sub || NORM_WG;

/**
 * Accumulation flags of the fused backward (its uniform `acc`): add dx / sumG / sumGX into their
 * buffers instead of overwriting them (the tape's gradient accumulation, one rounding as the add).
 */
export const NORM_ACC_DX = 1;
export const NORM_ACC_SUM_G = 2;
export const NORM_ACC_SUM_GX = 4;

export function normKey(prefix: string, o: Partial<NormKernelOptions>): string {
  return `${prefix}|${o.kind}|v${o.vec4 ? 4 : 1}|g${+!!o.gamma}|b${+!!o.beta}|${o.act}|r${+!!o.running}|k${o.cache ?? 0}${o.counter ? '|n1' : ''}${o.residual ? '|res' : ''}${o.sub ? `|sg${o.sub}` : ''}`;
}

/** Storage bindings of each kernel, in order (inputs read-only first, then outputs). */
export function normForwardBindings(o: NormKernelOptions): ('read' | 'rw')[] {
  return [
    'read',
    ...(o.gamma ? ['read' as const] : []),
    ...(o.beta ? ['read' as const] : []),
    ...(o.residual ? ['read' as const] : []),
    'rw',
    'rw',
    ...(o.running ? ['rw' as const, 'rw' as const] : []),
    ...(o.counter ? ['rw' as const] : []),
  ];
}
export function normBackwardBindings(o: NormKernelOptions): ('read' | 'rw')[] {
  return ['read', 'read', 'read', ...(o.gamma ? ['read' as const] : []), ...(o.act !== 'none' ? ['read' as const] : []), 'rw', 'rw', 'rw'];
}
export function normEvalBindings(o: NormKernelOptions): ('read' | 'rw')[] {
  return ['read', 'read', 'read', ...(o.gamma ? ['read' as const] : []), ...(o.beta ? ['read' as const] : []), 'rw'];
}

/** Declares `var<storage> name` at consecutive bindings from 1. */
function bindings(list: [string, 'read' | 'rw', string][]): string {
  return list
    .map(
      ([name, access, type], i) =>
        `@group(0) @binding(${i + 1}) var<storage, ${access === 'read' ? 'read' : 'read_write'}> ${name}: array<${type}>;`,
    )
    .join('\n');
}

function common(o: NormKernelOptions): string {
  const vt = o.vec4 ? 'vec4<f32>' : 'f32';
  return wgsl`
alias VT = ${vt};
fn hsum(v: VT) -> f32 {
#if ${o.vec4}
  return dot(v, VT(1.0));
#else
  return v;
#endif
}
fn addr(g: u32, j: u32) -> u32 {
#if ${o.kind === 'instance'}
  return g * u.P + j;
#else
  return ((j / u.P) * u.C + g) * u.P + (j % u.P);
#endif
}
fn act(z: VT) -> VT {
#if ${o.act === 'relu'}
  return max(z, VT(0.0));
#elif ${o.act === 'leaky_relu'}
  return select(z * u.slope, z, z > VT(0.0));
#else
  return z;
#endif
}
fn actMask(y: VT) -> VT {
#if ${o.act === 'relu'}
  return select(VT(0.0), VT(1.0), y > VT(0.0));
#else
  return select(VT(u.slope), VT(1.0), y > VT(0.0));
#endif
}`;
}

const groupMain = (wg: number) => /* wgsl */ `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32)`;

/** Forward: statistics per group, then normalise + affine + activation, one workgroup per group. */
export function normForwardSource(o: NormKernelOptions): string {
  const K = o.cache;
  const cached = K > 0;
  const list: [string, 'read' | 'rw', string][] = [['x', 'read', 'VT']];
  if (o.gamma) list.push(['gamma', 'read', 'f32']);
  if (o.beta) list.push(['beta', 'read', 'f32']);
  if (o.residual) list.push(['res', 'read', 'VT']);
  list.push(['y', 'rw', 'VT'], ['stats', 'rw', 'f32']);
  if (o.running) list.push(['runMean', 'rw', 'f32'], ['runVar', 'rw', 'f32']);
  if (o.counter) list.push(['counter', 'rw', 'i32']);
  const WG = normThreads(o);
  return wgsl`${o.sub ? 'enable subgroups;' : ''}
struct Params { G: u32, items: u32, P: u32, C: u32,
  invM: f32, eps: f32, slope: f32, momentum: f32, bessel: f32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> u: Params;
${bindings(list)}
${common(o)}
#if ${!!o.sub}
// Sum of v over the workgroup, which is one subgroup. Call from uniform control flow.
fn wgSum(v: f32, lid: u32) -> f32 { return subgroupAdd(v); }
#else
var<workgroup> red: array<f32, ${NORM_WG}>;

// Sum of v over the workgroup (every thread gets the result). Call from uniform control flow.
fn wgSum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = ${NORM_WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
#endif

${groupMain(WG)} {
  let g = wid.x + wid.y * nwg.x;
  if (g >= u.G) { return; }
#if ${o.kind === 'instance'}
  let c = g % u.C;
#else
  let c = g;
#endif
  // Pass 1: mean.
  var s = 0.0;
#if ${cached}
  var cache: array<VT, ${Math.max(K, 1)}>;
  for (var k = 0u; k < ${K}u; k++) {
    let j = lid + k * ${WG}u;
    if (j < u.items) {
      let v = x[addr(g, j)];
      cache[k] = v;
      s += hsum(v);
    }
  }
#else
  for (var j = lid; j < u.items; j += ${WG}u) { s += hsum(x[addr(g, j)]); }
#endif
  let mean = wgSum(s, lid) * u.invM;
  // Pass 2: centred second moment.
  var q = 0.0;
#if ${cached}
  for (var k = 0u; k < ${K}u; k++) {
    if (lid + k * ${WG}u < u.items) {
      let d = cache[k] - VT(mean);
      q += hsum(d * d);
    }
  }
#else
  for (var j = lid; j < u.items; j += ${WG}u) {
    let d = x[addr(g, j)] - VT(mean);
    q += hsum(d * d);
  }
#endif
  let variance = wgSum(q, lid) * u.invM;
  let rstd = inverseSqrt(variance + u.eps);
#if ${o.gamma}
  let scale = gamma[c] * rstd;
#else
  let scale = rstd;
#endif
#if ${o.beta}
  let shift = beta[c];
#else
  let shift = 0.0;
#endif
  // Pass 3: normalise, affine, activation.
#if ${cached}
  for (var k = 0u; k < ${K}u; k++) {
    let j = lid + k * ${WG}u;
    if (j < u.items) {
      let a = addr(g, j);
      y[a] = ${o.residual ? 'res[a] + ' : ''}act((cache[k] - VT(mean)) * VT(scale) + VT(shift));
    }
  }
#else
  for (var j = lid; j < u.items; j += ${WG}u) {
    let a = addr(g, j);
    y[a] = ${o.residual ? 'res[a] + ' : ''}act((x[a] - VT(mean)) * VT(scale) + VT(shift));
  }
#endif
  if (lid == 0u) {
    stats[2u * g] = mean;
    stats[2u * g + 1u] = rstd;
#if ${o.running && o.kind === 'batch'}
    runMean[c] = (1.0 - u.momentum) * runMean[c] + u.momentum * mean;
    runVar[c] = (1.0 - u.momentum) * runVar[c] + u.momentum * variance * u.bessel;
#endif
#if ${o.running && o.kind === 'instance'}
    // Per (n, c) group: its mean and unbiased variance; instanceRunningSource averages them over n.
    runMean[g] = mean;
    runVar[g] = variance * u.bessel;
#endif
#if ${!!o.counter}
    if (g == 0u) { counter[0] = counter[0] + 1; }
#endif
  }
}`;
}

/** Fused backward: dx for every element and per-group sum gz, sum gz*xhat; one workgroup per group. */
export function normBackwardSource(o: NormKernelOptions): string {
  const K = o.cache;
  const cached = K > 0;
  const hasAct = o.act !== 'none';
  const list: [string, 'read' | 'rw', string][] = [
    ['gy', 'read', 'VT'],
    ['x', 'read', 'VT'],
    ['stats', 'read', 'f32'],
  ];
  if (o.gamma) list.push(['gamma', 'read', 'f32']);
  if (hasAct) list.push(['y', 'read', 'VT']);
  list.push(['dx', 'rw', 'VT'], ['sumG', 'rw', 'f32'], ['sumGX', 'rw', 'f32']);
  const WG = normThreads(o);
  return wgsl`${o.sub ? 'enable subgroups;' : ''}
struct Params { G: u32, items: u32, P: u32, C: u32, invM: f32, slope: f32, acc: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> u: Params;
${bindings(list)}
${common(o)}
#if ${!!o.sub}
fn wgSum2(v: vec2<f32>, lid: u32) -> vec2<f32> { return subgroupAdd(v); }
#else
var<workgroup> red: array<vec2<f32>, ${NORM_WG}>;

fn wgSum2(v: vec2<f32>, lid: u32) -> vec2<f32> {
  red[lid] = v;
  workgroupBarrier();
  for (var s = ${NORM_WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  return red[0];
}
#endif

// gz = dy * act'(z), the gradient at the affine output.
fn gradZ(a: u32) -> VT {
#if ${hasAct}
  return gy[a] * actMask(y[a]);
#else
  return gy[a];
#endif
}

${groupMain(WG)} {
  let g = wid.x + wid.y * nwg.x;
  if (g >= u.G) { return; }
#if ${o.kind === 'instance'}
  let c = g % u.C;
#else
  let c = g;
#endif
  let mean = stats[2u * g];
  let rstd = stats[2u * g + 1u];
  var acc = vec2<f32>(0.0);
#if ${cached}
  var cg: array<VT, ${Math.max(K, 1)}>;
  var ch: array<VT, ${Math.max(K, 1)}>;
  for (var k = 0u; k < ${K}u; k++) {
    let j = lid + k * ${WG}u;
    if (j < u.items) {
      let a = addr(g, j);
      let gz = gradZ(a);
      let xh = (x[a] - VT(mean)) * VT(rstd);
      cg[k] = gz;
      ch[k] = xh;
      acc += vec2<f32>(hsum(gz), hsum(gz * xh));
    }
  }
#else
  for (var j = lid; j < u.items; j += ${WG}u) {
    let a = addr(g, j);
    let gz = gradZ(a);
    let xh = (x[a] - VT(mean)) * VT(rstd);
    acc += vec2<f32>(hsum(gz), hsum(gz * xh));
  }
#endif
  let tot = wgSum2(acc, lid);
#if ${o.gamma}
  let f = gamma[c] * rstd;
#else
  let f = rstd;
#endif
  let m1 = tot.x * u.invM;
  let m2 = tot.y * u.invM;
#if ${cached}
  for (var k = 0u; k < ${K}u; k++) {
    let j = lid + k * ${WG}u;
    if (j < u.items) {
      let a = addr(g, j);
      let d = VT(f) * (cg[k] - VT(m1) - ch[k] * VT(m2));
      if ((u.acc & ${NORM_ACC_DX}u) != 0u) { dx[a] = dx[a] + d; } else { dx[a] = d; }
    }
  }
#else
  for (var j = lid; j < u.items; j += ${WG}u) {
    let a = addr(g, j);
    let xh = (x[a] - VT(mean)) * VT(rstd);
    let d = VT(f) * (gradZ(a) - VT(m1) - xh * VT(m2));
    if ((u.acc & ${NORM_ACC_DX}u) != 0u) { dx[a] = dx[a] + d; } else { dx[a] = d; }
  }
#endif
  if (lid == 0u) {
    if ((u.acc & ${NORM_ACC_SUM_G}u) != 0u) { sumG[g] = sumG[g] + tot.x; } else { sumG[g] = tot.x; }
    if ((u.acc & ${NORM_ACC_SUM_GX}u) != 0u) { sumGX[g] = sumGX[g] + tot.y; } else { sumGX[g] = tot.y; }
  }
}`;
}

/** Batch norm in eval mode: y = act((x - rm[c]) * rsqrt(rv[c] + eps) * gamma[c] + beta[c]), one thread per item. */
export function normEvalSource(o: NormKernelOptions): string {
  const list: [string, 'read' | 'rw', string][] = [
    ['x', 'read', 'VT'],
    ['rm', 'read', 'f32'],
    ['rv', 'read', 'f32'],
  ];
  if (o.gamma) list.push(['gamma', 'read', 'f32']);
  if (o.beta) list.push(['beta', 'read', 'f32']);
  list.push(['y', 'rw', 'VT']);
  return wgsl`
struct Params { n: u32, P: u32, C: u32, pad0: u32, eps: f32, slope: f32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> u: Params;
${bindings(list)}
${common({ ...o, kind: 'instance' })}
${main1d(NORM_WG)} {
  let i = ${index1d(NORM_WG)};
  if (i >= u.n) { return; }
  let c = (i / u.P) % u.C;
#if ${o.gamma}
  let scale = gamma[c] * inverseSqrt(rv[c] + u.eps);
#else
  let scale = inverseSqrt(rv[c] + u.eps);
#endif
#if ${o.beta}
  let shift = beta[c];
#else
  let shift = 0.0;
#endif
  y[i] = act((x[i] - VT(rm[c])) * VT(scale) + VT(shift));
}`;
}

/** instanceRunningSource's storage buffers: the groups' means and variances, then the running mean and var. */
const INSTANCE_RUNNING_LIST: [string, 'read' | 'rw', string][] = [
  ['grpMean', 'read', 'f32'],
  ['grpVar', 'read', 'f32'],
  ['runMean', 'rw', 'f32'],
  ['runVar', 'rw', 'f32'],
];
export const INSTANCE_RUNNING_BINDINGS: ('read' | 'rw')[] = INSTANCE_RUNNING_LIST.map(([, access]) => access);

/**
 * Instance norm's running-stat update (PyTorch's rule for track_running_stats: the batch average of
 * the per-instance statistics, unbiased variance): running = (1 - momentum) * running + momentum *
 * mean over n of the (n, c) group's statistic, one thread per channel, n ascending. The forward
 * kernel wrote the groups' statistics (`running` option, kind 'instance').
 */
export function instanceRunningSource(): string {
  return /* wgsl */ `
struct Params { N: u32, C: u32, momentum: f32, invN: f32 }
@group(0) @binding(0) var<uniform> u: Params;
${bindings(INSTANCE_RUNNING_LIST)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= u.C) { return; }
  var m = 0.0;
  var v = 0.0;
  for (var n = 0u; n < u.N; n++) {
    m = m + grpMean[n * u.C + c];
    v = v + grpVar[n * u.C + c];
  }
  runMean[c] = (1.0 - u.momentum) * runMean[c] + u.momentum * (m * u.invN);
  runVar[c] = (1.0 - u.momentum) * runVar[c] + u.momentum * (v * u.invN);
}`;
}
