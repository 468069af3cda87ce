// Fused mean losses: BCE-with-logits against a constant label, MSE and L1 between two tensors, each
// as one forward kernel (elementwise term + mean) and one backward kernel, where the composed ops
// take 3-4 dispatches forward and 2-5 backward (engine/ops/losses.ts uses them when the reduction is
// 'mean' and the backward needs no graph of its own).
// Legend: a = logits (bce) or the first operand, b = the second operand (mse, l1); n elements;
// t = the constant target; beta / thr = softplus's (1, 20); invN = 1 / n; g = the scalar gradient
// of the loss. Each term is written as the composed ops compute it (softplus(x) - (x*t + 0), (a-b)^2,
// |a-b|), and the forward reduces like engine/ops/reduce.ts's full mean (one workgroup of
// REDUCE_WG threads, strided partial sums, then a tree), so the loss is the composition's value.
// The backward mirrors mean's backward (g * invN + 0) times the term's derivative:
//   bce: sigmoid(x) * 1 + (-t);   mse: (a - b) * 2 + 0 (db = -da);   l1: sign(a - b) (db = -da).
import { elementwiseHelpers } from './elementwise.js';
import { REDUCE_WG } from './reduce_copy.js';
import { index1d, main1d } from './common.js';

export type FusedLoss = 'bce' | 'mse' | 'l1';
export const LOSS_WG = 256;

const term: Record<FusedLoss, string> = {
  bce: 'select(log1p_exp(x * u.beta) / u.beta, x, x * u.beta > u.thr) - (x * u.t + 0.0)',
  mse: '(x - z) * (x - z)',
  l1: 'abs(x - z)',
};

export function lossMeanSource(kind: FusedLoss): string {
  const two = kind !== 'bce';
  return /* wgsl */ `
struct Params { n: u32, t: f32, beta: f32, thr: f32, invN: f32, p0: u32, p1: u32, p2: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
${two ? '@group(0) @binding(2) var<storage, read> b: array<f32>;\n' : ''}@group(0) @binding(${two ? 3 : 2}) var<storage, read_write> y: array<f32>;
${elementwiseHelpers}
var<workgroup> part: array<f32, ${REDUCE_WG}>;
@compute @workgroup_size(${REDUCE_WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var r = lid; r < u.n; r += ${REDUCE_WG}u) {
    let x = a[r];
    ${two ? 'let z = b[r];' : ''}
    let v = ${term[kind]};
    acc = acc + v;
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = ${REDUCE_WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { part[lid] = part[lid] + part[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { y[0] = part[0] * u.invN; }
}`;
}

const grad: Record<FusedLoss, string> = {
  bce: 'gm * (sigmoid(x) * 1.0 + (-u.t))',
  mse: 'gm * ((x - z) * 2.0 + 0.0)',
  l1: 'gm * sign(x - z)',
};

/** dA (and dB = -dA when `db`) of the mean loss for the scalar gradient g. */
export function lossMeanBackwardSource(kind: FusedLoss, db: boolean): string {
  const two = kind !== 'bce';
  let b = 1;
  const decl = (name: string, rw: boolean) => `@group(0) @binding(${b++}) var<storage, ${rw ? 'read_write' : 'read'}> ${name}: array<f32>;`;
  const lines = [
    decl('g', false),
    decl('a', false),
    ...(two ? [decl('b', false)] : []),
    decl('da', true),
    ...(db ? [decl('dbo', true)] : []),
  ];
  return /* wgsl */ `
struct Params { n: u32, t: f32, beta: f32, thr: f32, invN: f32, p0: u32, p1: u32, p2: u32 }
@group(0) @binding(0) var<uniform> u: Params;
${lines.join('\n')}
${elementwiseHelpers}
${main1d(LOSS_WG)} {
  let i = ${index1d(LOSS_WG)};
  if (i >= u.n) { return; }
  let gm = g[0] * u.invN + 0.0;
  let x = a[i];
  ${two ? 'let z = b[i];' : ''}
  let d = ${grad[kind]};
  ${db ? 'da[i] = d;\n  dbo[i] = d * -1.0 + 0.0;' : 'da[i] = d;'}
}`;
}
