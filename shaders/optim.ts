// Fused multi-tensor optimiser updates: one dispatch updates up to OPTIM_MAX_SLOTS parameter tensors
// (as many as the adapter's storage-buffer limit allows), reading each gradient and updating the
// parameter and the optimiser state in place (PyTorch semantics, see engine/optim.ts), plus a
// non-finite gradient counter (for checkFinite). (BatchNorm's num_batches_tracked is incremented by
// the norm forward kernel itself, shaders/norm.ts.)
// Legend:
//   g      gradient element (read-only)             p   parameter element (read_write, in place)
//   m, v   Adam first / second moment               wd  weight decay
//   sq     RMSprop running mean of g^2              ga  RMSprop running mean of g (centered)
//   buf    momentum buffer (SGD, RMSprop)           lr  learning rate
//   Scalars that depend only on the step (bias corrections, 1 - beta, the decoupled decay factor
//   1 - lr * wd) are computed on the host in float64 and passed as f32 uniforms.
// Layout: binding 0 uniforms; per slot k the gradient (read), the parameter, then its state buffers
// (read_write) in the order given by each source's `stateBuffers`.
// One element per thread over the concatenation of the slots' tensors, 1-D grid
// (index = gid.x + gid.y * nwg.x * WG).
import { index1d, main1d } from './common.js';

export const OPTIM_WG = 256;

/** How weight decay enters: none, L2 added to the gradient, or decoupled (AdamW) shrinkage of p. */
export type WeightDecayMode = 'none' | 'l2' | 'decoupled';

/** The most parameter tensors one multi-tensor dispatch updates (its uniforms must fit 256 bytes). */
export const OPTIM_MAX_SLOTS = 8;

/** A multi-tensor kernel's source and the state buffer names each slot binds after its parameter. */
export interface OptimSource {
  code: string;
  stateBuffers: string[];
}

/**
 * Storage declarations for `slots` parameter tensors: per slot k the gradient grad_{k} (read), the
 * parameter param_{k} and its state buffers {name}_{k} (read_write); slot k's bindings are
 * 1 + k * (2 + state.length) onwards.
 */
function bindings(state: string[], slots: number): string {
  const lines: string[] = [];
  let b = 1;
  for (let k = 0; k < slots; k++) {
    lines.push(`@group(0) @binding(${b++}) var<storage, read> grad_${k}: array<f32>;`);
    lines.push(`@group(0) @binding(${b++}) var<storage, read_write> param_${k}: array<f32>;`);
    for (const s of state) lines.push(`@group(0) @binding(${b++}) var<storage, read_write> ${s}_${k}: array<f32>;`);
  }
  return lines.join('\n');
}

/**
 * The multi-tensor kernel every update shares. Uniforms `u`: the optimiser's 8 header scalars
 * (`params`, which include `n`, the total element count), then `ends` (slot k covers elements
 * [ends[k-1], ends[k]) of the concatenation of all slots, packed 4 to a vec4<u32>), then `sf`, 4
 * per-slot floats (Adam's bias corrections, SGD's first-step flag). One thread per element: it finds
 * its slot and calls upd{k}(i) with i the index inside that tensor, which reads `g` = grad_{k}[i]
 * (carrying L2 weight decay when `l2`) and `p` = param_{k}[i] and runs the optimiser's `body(k)`.
 * The per-element arithmetic is the same expression for every slot count (one slot: the classic
 * one-tensor-per-dispatch kernel), so the result does not depend on how tensors are grouped.
 */
function updateKernel(params: string, stateBuffers: string[], l2: boolean, slots: number, body: (k: number) => string): OptimSource {
  if (!(slots >= 1 && slots <= OPTIM_MAX_SLOTS)) throw new Error(`optimiser kernel: ${slots} slots (must be 1..${OPTIM_MAX_SLOTS})`);
  const fns: string[] = [];
  for (let k = 0; k < slots; k++) {
    fns.push(`fn upd${k}(i: u32) {
  var g = grad_${k}[i];
  var p = param_${k}[i];${l2 ? '\n  g = g + u.wd * p;' : ''}
${body(k)}
}`);
  }
  const end = (k: number) => `u.ends[${k >> 2}][${k & 3}]`;
  const chain: string[] = [];
  for (let k = 0; k < slots; k++) {
    const call = `upd${k}(i${k ? ` - ${end(k - 1)}` : ''});`;
    chain.push(k === slots - 1 ? (k ? `else { ${call} }` : call) : `${k ? 'else ' : ''}if (i < ${end(k)}) { ${call} }`);
  }
  const code = `
struct Params { ${params},
  ends: array<vec4<u32>, ${Math.ceil(slots / 4)}>, sf: array<vec4<f32>, ${slots}> }
@group(0) @binding(0) var<uniform> u: Params;
${bindings(stateBuffers, slots)}
${fns.join('\n')}
${main1d(OPTIM_WG)} {
  let i = ${index1d(OPTIM_WG)};
  if (i >= u.n) { return; }
  ${chain.join('\n  ')}
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
 * with step_size = lr / (1 - beta1^t) and bc2_sqrt = sqrt(1 - beta2^t) per slot (sf[k].x, sf[k].y:
 * each parameter keeps its own step count t).
 */
export function adamSource(decay: WeightDecayMode, slots = 1): OptimSource {
  // Decoupled decay shrinks p before anything reads it; L2 adds wd * p to g (the prologue's `l2`).
  return updateKernel(
    'beta2: f32, one_minus_beta1: f32, one_minus_beta2: f32, eps: f32, wd: f32, decay: f32, n: u32, pad0: u32',
    ['m', 'v'],
    decay === 'l2',
    slots,
    (k) => `${decay === 'decoupled' ? '  p = p * u.decay;\n' : ''}  let m1 = m_${k}[i] + u.one_minus_beta1 * (g - m_${k}[i]);
  let v1 = u.beta2 * v_${k}[i] + u.one_minus_beta2 * g * g;
  m_${k}[i] = m1;
  v_${k}[i] = v1;
  param_${k}[i] = p - u.sf[${k}].x * m1 / (sqrt(v1) / u.sf[${k}].y + u.eps);`,
  );
}

/**
 * SGD with optional momentum, dampening, Nesterov and L2 weight decay, as torch.optim.SGD:
 *   d <- g + wd * p
 *   buf <- d (first step: sf[k].x == 1) | momentum * buf + (1 - dampening) * d
 *   d <- d + momentum * buf (nesterov) | buf
 *   p <- p - lr * d
 * (d is the kernel's `g`.)
 */
export function sgdSource(opts: { momentum: boolean; nesterov: boolean; weightDecay: boolean }, slots = 1): OptimSource {
  return updateKernel(
    'lr: f32, wd: f32, momentum: f32, one_minus_dampening: f32, n: u32, pad0: u32, pad1: u32, pad2: u32',
    opts.momentum ? ['buf'] : [],
    opts.weightDecay,
    slots,
    (k) =>
      (opts.momentum
        ? `  var b = g;
  if (u.sf[${k}].x == 0.0) { b = u.momentum * buf_${k}[i] + u.one_minus_dampening * g; }
  buf_${k}[i] = b;
  ${opts.nesterov ? 'g = g + u.momentum * b;' : 'g = b;'}
`
        : '') + `  param_${k}[i] = p - u.lr * g;`,
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
export function rmspropSource(opts: { centered: boolean; momentum: boolean; weightDecay: boolean }, slots = 1): OptimSource {
  return updateKernel(
    'lr: f32, alpha: f32, one_minus_alpha: f32, eps: f32, wd: f32, momentum: f32, n: u32, pad0: u32',
    ['sq', ...(opts.centered ? ['ga'] : []), ...(opts.momentum ? ['buf'] : [])],
    opts.weightDecay,
    slots,
    (k) => `  let s = u.alpha * sq_${k}[i] + u.one_minus_alpha * g * g;
  sq_${k}[i] = s;
${
  opts.centered
    ? `  let a = ga_${k}[i] + u.one_minus_alpha * (g - ga_${k}[i]);
  ga_${k}[i] = a;
  let avg = sqrt(s - a * a) + u.eps;`
    : '  let avg = sqrt(s) + u.eps;'
}
${
  opts.momentum
    ? `  let b = u.momentum * buf_${k}[i] + g / avg;
  buf_${k}[i] = b;
  param_${k}[i] = p - u.lr * b;`
    : `  param_${k}[i] = p - u.lr * g / avg;`
}`,
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
