// Elementwise ops: arithmetic with broadcasting, scalar ops, activations, fills.
// Host side of shaders/elementwise.ts. Each differentiable op records a backward written with
// these same ops, so gradients of gradients work (tanh' = 1 - y^2 is itself a graph of ops).
import { binarySource, unarySource, actBackwardSource, type binaryExpr, type unaryExpr } from '../../shaders/elementwise.js';
import { fillSource, COPY_WG } from '../../shaders/reduce_copy.js';
import { type Tensor, empty, checkFloat, fmtShape, numel, stridesOf, type Shape } from '../tensor.js';
import { record, registerTapeOps, isGradEnabled } from '../tape.js';
import { grid1d, launch, vec8, f32 } from './kernel.js';
import { registerOp, type HostTensor } from './registry.js';
import { sumTo } from './reduce.js';

// ---- raw launchers --------------------------------------------------------------------------------

function unaryRaw(op: keyof typeof unaryExpr, x: Tensor, p0 = 0, p1 = 0, name = op): Tensor {
  checkFloat(name, x);
  const y = empty(x.shape, name);
  launch(
    { key: `unary|${op}`, code: () => unarySource(op), bindings: ['read', 'rw'], op: name },
    [x, y],
    [x.size, f32(p0), f32(p1), 0],
    grid1d(x.size),
    { op: name },
  );
  return y;
}

export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast (dim ${i - r}: ${da} vs ${db}); reshape one to size 1 on that dim or make them equal`,
      );
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Element strides of `shape` read as `outShape` (0 on broadcast dims). */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const st = stridesOf(shape);
  const r = outShape.length;
  return outShape.map((_, i) => {
    const j = shape.length - r + i;
    return j < 0 || shape[j] === 1 ? 0 : st[j];
  });
}

function binaryRaw(op: keyof typeof binaryExpr, a: Tensor, b: Tensor, name = op): Tensor {
  checkFloat(name, a, b);
  const shape = broadcastShapes(name, a.shape, b.shape);
  const y = empty(shape, name);
  const same = a.size === y.size && b.size === y.size;
  if (same) {
    launch(
      { key: `binary|${op}|same`, code: () => binarySource(op, false), bindings: ['read', 'read', 'rw'], op: name },
      [a, b, y],
      [y.size, 0, 0, 0, ...vec8([]), ...vec8([]), ...vec8([])],
      grid1d(y.size),
      { op: name },
    );
  } else {
    launch(
      { key: `binary|${op}|bcast`, code: () => binarySource(op, true), bindings: ['read', 'read', 'rw'], op: name },
      [a, b, y],
      [y.size, shape.length, 0, 0, ...vec8(shape, 1), ...vec8(broadcastStrides(a.shape, shape)), ...vec8(broadcastStrides(b.shape, shape))],
      grid1d(y.size),
      { op: name },
    );
  }
  return y;
}

// ---- fills ----------------------------------------------------------------------------------------

export function full(shape: Shape, value: number): Tensor {
  const y = empty(shape, 'full');
  const n = numel(shape);
  if (n > 0)
    launch({ key: 'fill', code: () => fillSource(), bindings: ['rw'], op: 'full' }, [y], [n, f32(value), 0, 0], grid1d(n, COPY_WG), {
      op: 'full',
    });
  return y;
}
export const zeros = (shape: Shape) => full(shape, 0);
export const ones = (shape: Shape) => full(shape, 1);
export const zerosLike = (t: Tensor) => full(t.shape, 0);
export const onesLike = (t: Tensor) => full(t.shape, 1);

// ---- binary ops -----------------------------------------------------------------------------------

type Operand = Tensor | number;

export function add(a: Tensor, b: Operand): Tensor {
  if (typeof b === 'number') return affine(a, 1, b);
  const y = binaryRaw('add', a, b);
  return record(y, 'add', [a, b], (g) => [sumTo(g, a.shape), sumTo(g, b.shape)], []);
}

export function sub(a: Tensor, b: Operand): Tensor {
  if (typeof b === 'number') return affine(a, 1, -b);
  const y = binaryRaw('sub', a, b);
  return record(y, 'sub', [a, b], (g) => [sumTo(g, a.shape), sumTo(neg(g), b.shape)], []);
}

export function mul(a: Tensor, b: Operand): Tensor {
  if (typeof b === 'number') return affine(a, b, 0);
  const y = binaryRaw('mul', a, b);
  return record(y, 'mul', [a, b], (g) => [
    a.requiresGrad ? sumTo(mul(g, b), a.shape) : null,
    b.requiresGrad ? sumTo(mul(g, a), b.shape) : null,
  ]);
}

export function div(a: Tensor, b: Operand): Tensor {
  if (typeof b === 'number') return affine(a, 1 / b, 0);
  const y = binaryRaw('div', a, b);
  return record(y, 'div', [a, b], (g) => [
    a.requiresGrad ? sumTo(div(g, b), a.shape) : null,
    // d(a/b)/db = -a / b^2
    b.requiresGrad ? sumTo(neg(div(mul(g, a), square(b))), b.shape) : null,
  ]);
}

/** Elementwise max; the gradient goes to a where a >= b, else to b. */
export function maximum(a: Tensor, b: Tensor): Tensor {
  const y = binaryRaw('maximum', a, b);
  return record(y, 'maximum', [a, b], (g) => {
    const m = binaryRaw('ge_mask', a, b);
    return [sumTo(mul(g, m), a.shape), sumTo(mul(g, affine(m, -1, 1)), b.shape)];
  });
}

export function minimum(a: Tensor, b: Tensor): Tensor {
  const y = binaryRaw('minimum', a, b);
  return record(y, 'minimum', [a, b], (g) => {
    const m = binaryRaw('ge_mask', b, a); // 1 where a <= b
    return [sumTo(mul(g, m), a.shape), sumTo(mul(g, affine(m, -1, 1)), b.shape)];
  });
}

/** 1 where a >= b, else 0 (no gradient). */
export const geMask = (a: Tensor, b: Tensor) => binaryRaw('ge_mask', a, b);
/** 1 where a == b, else 0 (no gradient). */
export const eqMask = (a: Tensor, b: Tensor) => binaryRaw('eq_mask', a, b);

// ---- unary ops ------------------------------------------------------------------------------------

/** x * scale + shift. */
export function affine(x: Tensor, scale: number, shift: number): Tensor {
  const y = unaryRaw('affine', x, scale, shift, 'affine');
  return record(y, 'affine', [x], (g) => [affine(g, scale, 0)], []);
}
export const mulScalar = (x: Tensor, s: number) => affine(x, s, 0);
export const addScalar = (x: Tensor, s: number) => affine(x, 1, s);

export function neg(x: Tensor): Tensor {
  return affine(x, -1, 0);
}

export function exp(x: Tensor): Tensor {
  const y = unaryRaw('exp', x);
  return record(y, 'exp', [x], (g) => [mul(g, y)], [y]);
}

export function log(x: Tensor): Tensor {
  const y = unaryRaw('log', x);
  return record(y, 'log', [x], (g) => [div(g, x)]);
}

export function sqrt(x: Tensor): Tensor {
  const y = unaryRaw('sqrt', x);
  return record(y, 'sqrt', [x], (g) => [div(mulScalar(g, 0.5), y)], [y]);
}

export function rsqrt(x: Tensor): Tensor {
  const y = unaryRaw('rsqrt', x);
  // d x^-1/2 = -1/2 x^-3/2 = -0.5 * y^3
  return record(y, 'rsqrt', [x], (g) => [mul(g, mulScalar(mul(y, square(y)), -0.5))], [y]);
}

export function square(x: Tensor): Tensor {
  const y = unaryRaw('square', x);
  return record(y, 'square', [x], (g) => [mul(g, mulScalar(x, 2))]);
}

export function reciprocal(x: Tensor): Tensor {
  const y = unaryRaw('reciprocal', x);
  return record(y, 'reciprocal', [x], (g) => [neg(mul(g, square(y)))], [y]);
}

export function powScalar(x: Tensor, p: number): Tensor {
  const y = unaryRaw('pow_scalar', x, p);
  return record(y, 'pow', [x], (g) => [mul(g, mulScalar(powScalar(x, p - 1), p))]);
}

export function abs(x: Tensor): Tensor {
  const y = unaryRaw('abs', x);
  return record(y, 'abs', [x], (g) => [mul(g, unaryRaw('sign', x))]);
}

export const sign = (x: Tensor) => unaryRaw('sign', x);
/** 1 where x > 0 else 0 (no gradient). */
export const stepMask = (x: Tensor) => unaryRaw('step', x);

/** Fused activation backward kernels (one dispatch instead of 2-3); tests turn them off. */
export const fusedActivationBackward = { enabled: true };

/**
 * g * act'(t) in one kernel when the backward needs no graph (createGraph off), with the same
 * arithmetic as `composed`, which runs otherwise (and differentiates again).
 */
function actGrad(op: string, g: Tensor, t: Tensor, p0: number, composed: () => Tensor): Tensor {
  if (isGradEnabled() || !fusedActivationBackward.enabled || g.size !== t.size) return composed();
  const dx = empty(t.shape, `${op}_backward`);
  if (t.size > 0) {
    launch(
      { key: `act_backward|${op}`, code: () => actBackwardSource(op), bindings: ['read', 'read', 'rw'], op: `${op}_backward` },
      [g, t, dx],
      [t.size, f32(p0), 0, 0],
      grid1d(t.size),
      { op: `${op}_backward` },
    );
  }
  return dx;
}

export function relu(x: Tensor): Tensor {
  const y = unaryRaw('relu', x);
  return record(y, 'relu', [x], (g) => [actGrad('relu', g, x, 0, () => mul(g, unaryRaw('step', x)))]);
}

export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  const y = unaryRaw('leaky_relu', x, slope);
  return record(y, 'leaky_relu', [x], (g) => [actGrad('leaky_relu', g, x, slope, () => mul(g, unaryRaw('leaky_step', x, slope)))]);
}

export function tanh(x: Tensor): Tensor {
  const y = unaryRaw('tanh', x);
  // 1 - y^2, built from ops so the second derivative flows through y.
  return record(y, 'tanh', [x], (g) => [actGrad('tanh', g, y, 0, () => mul(g, affine(square(y), -1, 1)))], [y]);
}

export function sigmoid(x: Tensor): Tensor {
  const y = unaryRaw('sigmoid', x);
  return record(y, 'sigmoid', [x], (g) => [actGrad('sigmoid', g, y, 0, () => mul(g, mul(y, affine(y, -1, 1))))], [y]);
}

export function softplus(x: Tensor, beta = 1, threshold = 20): Tensor {
  const y = unaryRaw('softplus', x, beta, threshold);
  return record(y, 'softplus', [x], (g) => {
    // sigmoid(beta x) below the threshold, 1 above it.
    const s = sigmoid(mulScalar(x, beta));
    const above = unaryRaw('gt_scalar', mulScalar(x, beta), threshold);
    return [mul(g, add(mul(s, affine(above, -1, 1)), above))];
  });
}

export function elu(x: Tensor, alpha = 1): Tensor {
  const y = unaryRaw('elu', x, alpha);
  return record(
    y,
    'elu',
    [x],
    (g) => {
      // 1 for x > 0, y + alpha (= alpha e^x) otherwise.
      const composed = () => {
        const pos = unaryRaw('step', x);
        return mul(g, add(pos, mul(affine(pos, -1, 1), addScalar(y, alpha))));
      };
      // One kernel from y (for alpha > 0, y > 0 exactly where x > 0; the same bits as composed).
      return [alpha > 0 ? actGrad('elu', g, y, alpha, composed) : composed()];
    },
    [x, y],
  );
}

export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  const y = unaryRaw('clamp', x, lo, hi);
  return record(y, 'clamp', [x], (g) => [mul(g, unaryRaw('in_range', x, lo, hi))]);
}

registerTapeOps(add, onesLike);

// ---- registry: CPU references and cases -----------------------------------------------------------

function mapHost(x: HostTensor, f: (v: number) => number): HostTensor {
  return { shape: x.shape, data: x.data.map(f) };
}

function binaryHost(a: HostTensor, b: HostTensor, f: (x: number, z: number) => number): HostTensor {
  const shape = broadcastShapes('ref', a.shape, b.shape);
  const sa = broadcastStrides(a.shape, shape);
  const sb = broadcastStrides(b.shape, shape);
  const n = numel(shape);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let rem = i,
      ia = 0,
      ib = 0;
    for (let d = shape.length - 1; d >= 0; d--) {
      const c = rem % shape[d];
      rem = Math.floor(rem / shape[d]);
      ia += c * sa[d];
      ib += c * sb[d];
    }
    out[i] = f(a.data[ia], b.data[ib]);
  }
  return { shape, data: out };
}

const binaryRefs: [string, (a: Tensor, b: Tensor) => Tensor, (x: number, z: number) => number, number[]?][] = [
  ['add', add, (x, z) => x + z],
  ['sub', sub, (x, z) => x - z],
  ['mul', mul, (x, z) => x * z],
  ['div', div, (x, z) => x / z],
  ['maximum', maximum, (x, z) => Math.max(x, z)],
  ['minimum', minimum, (x, z) => Math.min(x, z)],
];
for (const [name, fn, f] of binaryRefs) {
  registerOp({
    name,
    run: ([a, b]) => fn(a, b),
    reference: ([a, b]) => binaryHost(a, b, f),
    doubleBackward: true,
    // div: keep the divisor away from 0; max/min: keep the operands apart so no tie is straddled.
    sample: (shape, i, rand) => {
      const n = numel(shape);
      const d = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const r = rand();
        if (name === 'div' && i === 1) d[k] = (r < 0.5 ? -1 : 1) * (0.5 + r);
        else if (name === 'maximum' || name === 'minimum') d[k] = i === 0 ? -1 + 2 * r : r < 0.5 ? -1.1 + r : 0.6 + r;
        else d[k] = -1 + 2 * r;
      }
      return d;
    },
  });
}

const sigmoidRef = (v: number) => 1 / (1 + Math.exp(-v));
const unaryRefs: [string, (x: Tensor) => Tensor, (v: number) => number, 'pos'?][] = [
  ['exp', exp, Math.exp],
  ['log', log, Math.log, 'pos'],
  ['sqrt', sqrt, Math.sqrt, 'pos'],
  ['rsqrt', rsqrt, (v) => 1 / Math.sqrt(v), 'pos'],
  ['square', square, (v) => v * v],
  ['reciprocal', reciprocal, (v) => 1 / v, 'pos'],
  ['abs', abs, Math.abs],
  ['pow_scalar', (x) => powScalar(x, 3), (v) => v ** 3],
  ['affine', (x) => affine(x, -1.5, 0.25), (v) => -1.5 * v + 0.25],
  ['relu', relu, (v) => Math.max(v, 0)],
  ['leaky_relu', (x) => leakyRelu(x, 0.2), (v) => (v > 0 ? v : 0.2 * v)],
  ['tanh', tanh, Math.tanh],
  ['sigmoid', sigmoid, sigmoidRef],
  ['softplus', (x) => softplus(x, 2, 3), (v) => (2 * v > 3 ? v : Math.log1p(Math.exp(2 * v)) / 2)],
  ['elu', (x) => elu(x, 0.7), (v) => (v > 0 ? v : 0.7 * (Math.exp(v) - 1))],
  ['clamp', (x) => clamp(x, -0.5, 0.6), (v) => Math.min(Math.max(v, -0.5), 0.6)],
];
for (const [name, fn, f, domain] of unaryRefs) {
  registerOp({
    name,
    run: ([x]) => fn(x),
    reference: ([x]) => mapHost(x, f),
    doubleBackward: true,
    sample: (shape, _i, rand) => {
      const n = numel(shape);
      const d = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const r = rand();
        if (domain === 'pos') d[k] = 0.3 + 1.5 * r;
        else if (name === 'softplus')
          d[k] = r < 0.5 ? -2 + 2.8 * r : 1.6 + r; // avoid the threshold at 1.5
        else if (name === 'clamp')
          d[k] = [-0.9, -0.2, 0.2, 0.9][Math.floor(r * 4)] + ((r * 97) % 0.1); // away from the bounds
        else d[k] = (r < 0.5 ? -1 : 1) * (0.05 + 1.9 * Math.abs(r - 0.5));
      }
      return d;
    },
  });
}
