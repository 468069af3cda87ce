// Elementwise kernels: unary maps (activations, scalar ops) and binary ops with NumPy broadcasting.
// Legend:
//   x           input element (unary) / left operand (binary);  z  right operand (binary)
//   p0, p1      scalar parameters from the uniform struct (slope, alpha, scale, shift, ...)
//   shape/sa/sb output shape and the element strides of a and b (0 on broadcast dims), as vec8s
// One kernel source per expression; the pipeline cache key carries the expression name.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { at8, index1d, main1d } from './common.js';

export const ELEMENTWISE_WG = 256;

/** Unary expressions of x with parameters p0, p1. */
export const unaryExpr: Record<string, string> = {
  copy: 'x',
  neg: '-x',
  abs: 'abs(x)',
  sign: 'sign(x)',
  exp: 'exp(x)',
  log: 'log(x)',
  sqrt: 'sqrt(x)',
  rsqrt: 'inverseSqrt(x)',
  square: 'x * x',
  reciprocal: '1.0 / x',
  affine: 'x * p0 + p1', // scale and shift by scalars
  pow_scalar: 'pow_signed(x, p0)',
  relu: 'max(x, 0.0)',
  leaky_relu: 'select(x * p0, x, x > 0.0)',
  tanh: 'tanh_stable(x)',
  sigmoid: 'sigmoid(x)',
  // PyTorch softplus(x, beta=p0, threshold=p1): linear above the threshold.
  softplus: 'select(log1p_exp(x * p0) / p0, x, x * p0 > p1)',
  elu: 'select(p0 * (exp(x) - 1.0), x, x > 0.0)',
  // Derivative masks (piecewise-constant, so their own gradient is zero).
  step: 'select(0.0, 1.0, x > 0.0)',
  leaky_step: 'select(p0, 1.0, x > 0.0)',
  in_range: 'select(0.0, 1.0, x >= p0 && x <= p1)',
  clamp: 'clamp(x, p0, p1)',
  gt_scalar: 'select(0.0, 1.0, x > p0)',
  fill: 'p0',
};

/** Binary expressions of x (left) and z (right). */
export const binaryExpr: Record<string, string> = {
  add: 'x + z',
  sub: 'x - z',
  mul: 'x * z',
  div: 'x / z',
  maximum: 'max(x, z)',
  minimum: 'min(x, z)',
  ge_mask: 'select(0.0, 1.0, x >= z)', // 1 where x >= z (max/min backward)
  eq_mask: 'select(0.0, 1.0, x == z)',
};

/** WGSL helper functions (sigmoid, tanh_stable, log1p_exp, pow_signed) shared with the fused losses. */
export const elementwiseHelpers = /* wgsl */ `
fn sigmoid(x: f32) -> f32 {
  // Stable for large |x|: never exponentiates a large positive number.
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
fn tanh_stable(x: f32) -> f32 {
  let t = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - t) / (1.0 + t);
}
fn log1p_exp(x: f32) -> f32 {
  // log(1 + e^x) without overflow.
  return max(x, 0.0) + log(1.0 + exp(-abs(x)));
}
fn pow_signed(x: f32, p: f32) -> f32 {
  // pow() is undefined for x < 0 in WGSL; integer exponents keep the sign rule of real powers.
  let m = pow(abs(x), p);
  if (x < 0.0 && fract(p * 0.5) != 0.0 && fract(p) == 0.0) { return -m; }
  if (x == 0.0 && p == 0.0) { return 1.0; }
  return m;
}
`;

export function unarySource(op: string): string {
  const expr = unaryExpr[op];
  if (!expr) throw new Error(`unary: unknown op ${op}`);
  return /* wgsl */ `
struct Params { n: u32, p0: f32, p1: f32, pad: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
${elementwiseHelpers}
${main1d(ELEMENTWISE_WG)} {
  let i = ${index1d(ELEMENTWISE_WG)};
  if (i >= u.n) { return; }
  let x = a[i];
  let p0 = u.p0;
  let p1 = u.p1;
  y[i] = ${expr};
}`;
}

/**
 * Activation gradients in one kernel (instead of a mask kernel and a multiply, or three ops for
 * tanh/sigmoid): dx = g * (the derivative written as the composed backward computes it), from
 * t = the input x (relu, leaky_relu: p0 = slope) or the output y (tanh, sigmoid; elu: p0 = alpha > 0).
 */
export const actBackwardExpr: Record<string, string> = {
  relu: 'g * select(0.0, 1.0, t > 0.0)',
  leaky_relu: 'g * select(p0, 1.0, t > 0.0)',
  tanh: 'g * ((t * t) * -1.0 + 1.0)',
  sigmoid: 'g * (t * (t * -1.0 + 1.0))',
  // t = y, p0 = alpha > 0: 1 where y > 0 (x > 0), else y + alpha (= alpha e^x).
  elu: 'g * select(t + p0, 1.0, t > 0.0)',
};

export function actBackwardSource(op: string): string {
  const expr = actBackwardExpr[op];
  if (!expr) throw new Error(`activation backward: unknown op ${op}`);
  return /* wgsl */ `
struct Params { n: u32, p0: f32, p1: f32, pad: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> gy: array<f32>;
@group(0) @binding(2) var<storage, read> tt: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
${main1d(ELEMENTWISE_WG)} {
  let i = ${index1d(ELEMENTWISE_WG)};
  if (i >= u.n) { return; }
  let g = gy[i];
  let t = tt[i];
  let p0 = u.p0;
  y[i] = ${expr};
}`;
}

export function binarySource(op: string, broadcast: boolean): string {
  const expr = binaryExpr[op];
  if (!expr) throw new Error(`binary: unknown op ${op}`);
  return wgsl`
struct Params { n: u32, rank: u32, pad0: u32, pad1: u32,
  shape: array<vec4<u32>, 2>, sa: array<vec4<u32>, 2>, sb: array<vec4<u32>, 2> }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
${at8}
${main1d(ELEMENTWISE_WG)} {
  let i = ${index1d(ELEMENTWISE_WG)};
  if (i >= u.n) { return; }
#if ${broadcast}
  var rem = i;
  var ia = 0u;
  var ib = 0u;
  for (var d = i32(u.rank) - 1; d >= 0; d--) {
    let k = u32(d);
    let s = at8(u.shape, k);
    let c = rem % s;
    rem = rem / s;
    ia += c * at8(u.sa, k);
    ib += c * at8(u.sb, k);
  }
#else
  let ia = i;
  let ib = i;
#endif
  let x = a[ia];
  let z = b[ib];
  y[i] = ${expr};
}`;
}
