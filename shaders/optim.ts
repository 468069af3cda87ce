// Fused optimiser updates: one dispatch per parameter tensor reads its gradient and updates the
// parameter and the optimiser state in place (PyTorch semantics, see engine/optim.ts), plus two
// small helpers: a non-finite gradient counter (for checkFinite) and an int32 counter increment
// (BatchNorm's num_batches_tracked).
// Legend:
//   g      gradient element (read-only)             p   parameter element (read_write, in place)
//   m, v   Adam first / second moment               wd  weight decay
//   sq     RMSprop running mean of g^2              ga  RMSprop running mean of g (centered)
//   buf    momentum buffer (SGD, RMSprop)           lr  learning rate
//   Scalars that depend only on the step (bias corrections, 1 - beta, the decoupled decay factor
//   1 - lr * wd) are computed on the host in float64 and passed as f32 uniforms.
// Layout: binding 0 uniforms; binding 1 the gradient (read); bindings 2.. the parameter then its
// state buffers (read_write), in the order given by each source's `stateBuffers`.
// One element per thread, 1-D grid (index = gid.x + gid.y * nwg.x * WG).
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { index1d, main1d } from './common.js';

export const OPTIM_WG = 256;

/** How weight decay enters: none, L2 added to the gradient, or decoupled (AdamW) shrinkage of p. */
export type WeightDecayMode = 'none' | 'l2' | 'decoupled';

/** Storage declarations: the gradient, then the parameter and `state` buffers, all f32. */
function bindings(state: string[]): string {
  const lines = [
    '@group(0) @binding(1) var<storage, read> grad: array<f32>;',
    '@group(0) @binding(2) var<storage, read_write> param: array<f32>;',
  ];
  state.forEach((s, i) => lines.push(`@group(0) @binding(${3 + i}) var<storage, read_write> ${s}: array<f32>;`));
  return lines.join('\n');
}

/**
 * The kernel every update shares: uniforms `u` (struct fields `params`, `n` first), the bindings,
 * one element per thread with `g` = grad[i] and `p` = param[i] as variables (`g` already carrying
 * L2 weight decay when `l2`), then the optimiser's own `body`, which writes param[i] and its state.
 */
function updateKernel(params: string, stateBuffers: string[], l2: boolean, body: string): { code: string; stateBuffers: string[] } {
  const code = wgsl`
struct Params { ${params} }
@group(0) @binding(0) var<uniform> u: Params;
${bindings(stateBuffers)}
${main1d(OPTIM_WG)} {
  let i = ${index1d(OPTIM_WG)};
  if (i >= u.n) { return; }
  var g = grad[i];
  var p = param[i];
#if ${l2}
  g = g + u.wd * p;
#endif
${body}
}`;
  return { code, stateBuffers };
}

/**
 * Adam / AdamW (Kingma & Ba 2015; Loshchilov & Hutter 2019), as torch.optim.Adam(W):
 *   p  <- p * decay                                   (decoupled only; decay = 1 - lr * wd)
 *   g  <- g + wd * p                                  (l2 only)
 *   m  <- m + (1 - beta1) * (g - m)
 *   v  <- beta2 * v + (1 - beta2) * g^2
 *   p  <- p - step_size * m / (sqrt(v) / bc2_sqrt + eps)
 * with step_size = lr / (1 - beta1^t) and bc2_sqrt = sqrt(1 - beta2^t).
 */
export function adamSource(decay: WeightDecayMode): { code: string; stateBuffers: string[] } {
  // Decoupled decay shrinks p before anything reads it; L2 adds wd * p to g (the prologue's `l2`).
  return updateKernel(
    `n: u32, beta2: f32, one_minus_beta1: f32, one_minus_beta2: f32,
  eps: f32, wd: f32, decay: f32, step_size: f32, bc2_sqrt: f32, pad0: u32, pad1: u32, pad2: u32`,
    ['m', 'v'],
    decay === 'l2',
    wgsl`
#if ${decay === 'decoupled'}
  p = p * u.decay;
#endif
  let m1 = m[i] + u.one_minus_beta1 * (g - m[i]);
  let v1 = u.beta2 * v[i] + u.one_minus_beta2 * g * g;
  m[i] = m1;
  v[i] = v1;
  param[i] = p - u.step_size * m1 / (sqrt(v1) / u.bc2_sqrt + u.eps);`,
  );
}

/**
 * SGD with optional momentum, dampening, Nesterov and L2 weight decay, as torch.optim.SGD:
 *   d <- g + wd * p
 *   buf <- d (first step) | momentum * buf + (1 - dampening) * d
 *   d <- d + momentum * buf (nesterov) | buf
 *   p <- p - lr * d
 * (d is the kernel's `g`.)
 */
export function sgdSource(opts: { momentum: boolean; nesterov: boolean; weightDecay: boolean }): { code: string; stateBuffers: string[] } {
  return updateKernel(
    'n: u32, lr: f32, wd: f32, momentum: f32, one_minus_dampening: f32, first: u32, pad0: u32, pad1: u32',
    opts.momentum ? ['buf'] : [],
    opts.weightDecay,
    wgsl`
#if ${opts.momentum}
  var b = g;
  if (u.first == 0u) { b = u.momentum * buf[i] + u.one_minus_dampening * g; }
  buf[i] = b;
#if ${opts.nesterov}
  g = g + u.momentum * b;
#else
  g = b;
#endif
#endif
  param[i] = p - u.lr * g;`,
  );
}

/**
 * RMSprop (Hinton's lecture 6e; centered variant of Graves 2013), as torch.optim.RMSprop:
 *   g  <- g + wd * p
 *   sq <- alpha * sq + (1 - alpha) * g^2
 *   ga <- ga + (1 - alpha) * (g - ga);  avg = sqrt(sq - ga^2) + eps     (centered)
 *                                       avg = sqrt(sq) + eps            (otherwise)
 *   buf <- momentum * buf + g / avg;  p <- p - lr * buf                  (momentum > 0)
 *   p <- p - lr * g / avg                                                (otherwise)
 */
export function rmspropSource(opts: { centered: boolean; momentum: boolean; weightDecay: boolean }): { code: string; stateBuffers: string[] } {
  return updateKernel(
    'n: u32, lr: f32, alpha: f32, one_minus_alpha: f32, eps: f32, wd: f32, momentum: f32, pad0: u32',
    ['sq', ...(opts.centered ? ['ga'] : []), ...(opts.momentum ? ['buf'] : [])],
    opts.weightDecay,
    wgsl`
  let s = u.alpha * sq[i] + u.one_minus_alpha * g * g;
  sq[i] = s;
#if ${opts.centered}
  let a = ga[i] + u.one_minus_alpha * (g - ga[i]);
  ga[i] = a;
  let avg = sqrt(s - a * a) + u.eps;
#else
  let avg = sqrt(s) + u.eps;
#endif
#if ${opts.momentum}
  let b = u.momentum * buf[i] + g / avg;
  buf[i] = b;
  param[i] = p - u.lr * b;
#else
  param[i] = p - u.lr * g / avg;
#endif`,
  );
}

/**
 * counts[slot] += the number of non-finite (NaN or +-Inf) elements of x[0 .. n). Tested on the bit
 * pattern (exponent all ones), which no fast-math assumption can fold away. Each workgroup sums
 * its own count in workgroup memory and adds it to the global slot once.
 */
export function nonFiniteCountSource(): string {
  return /* wgsl */ `
struct Params { n: u32, slot: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>>;
var<workgroup> local_count: atomic<u32>;
@compute @workgroup_size(${OPTIM_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = ${index1d(OPTIM_WG)};
  if (lid == 0u) { atomicStore(&local_count, 0u); }
  workgroupBarrier();
  if (i < u.n) {
    let bits = bitcast<u32>(x[i]);
    if ((bits & 0x7f800000u) == 0x7f800000u) { atomicAdd(&local_count, 1u); }
  }
  workgroupBarrier();
  if (lid == 0u) {
    let c = atomicLoad(&local_count);
    if (c > 0u) { atomicAdd(&counts[u.slot], c); }
  }
}`;
}

/** c[0] += delta on an int32 counter (BatchNorm's num_batches_tracked), without a host round trip. */
export function counterAddSource(): string {
  return /* wgsl */ `
struct Params { delta: i32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read_write> c: array<i32>;
@compute @workgroup_size(1)
fn main() {
  c[0] = c[0] + u.delta;
}`;
}
