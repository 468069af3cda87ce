// Reductions along any axes: sum, mean, max, min; and sumTo, which undoes broadcasting in backward.
// Host side of the reduce kernel in shaders/reduce_copy.ts.
import { reduceSource, REDUCE_WG, type ReduceKind } from '../../shaders/reduce_copy.js';
import { type Tensor, empty, checkFloat, fmtShape, numel, stridesOf, type Shape } from '../tensor.js';
import { record } from '../tape.js';
import { launch, vec8, f32 } from './kernel.js';
import { registerOp, type HostTensor } from './registry.js';
import { expand, reshape } from './movement.js';
import { mul, div, eqMask, mulScalar } from './elementwise.js';

/** Normalises axes (negative allowed, undefined = all) to a sorted unique list. */
export function normAxes(op: string, rank: number, axes?: number | readonly number[]): number[] {
  if (axes === undefined) return [...Array(rank).keys()];
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out = new Set<number>();
  for (const a of list) {
    const k = a < 0 ? a + rank : a;
    if (!Number.isInteger(k) || k < 0 || k >= rank) throw new Error(`${op}: axis ${a} is out of range for a tensor of rank ${rank}`);
    out.add(k);
  }
  return [...out].sort((p, q) => p - q);
}

function reducedShape(shape: Shape, axes: number[], keepdim: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (axes.includes(i)) {
      if (keepdim) out.push(1);
    } else out.push(d);
  });
  return out;
}

function reduceRaw(
  kind: ReduceKind,
  x: Tensor,
  axes: number[],
  keepdim: boolean,
  scale: number,
  op: string,
  into: Tensor | null = null,
): Tensor {
  checkFloat(op, x);
  const st = stridesOf(x.shape);
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const kshape = kept.map((i) => x.shape[i]);
  const rshape = axes.map((i) => x.shape[i]);
  const R = numel(rshape);
  const yShape = reducedShape(x.shape, axes, keepdim);
  if (into && (into.shape.length !== yShape.length || into.shape.some((d, i) => d !== yShape[i])))
    throw new Error(`${op}: accumulation target ${fmtShape(into.shape)} is not the result's shape ${fmtShape(yShape)} (engine bug)`);
  const y = into ?? empty(yShape, op);
  const nOut = y.size;
  if (nOut === 0) return y;
  if (R === 0 && kind !== 'sum') throw new Error(`${op}: cannot take ${kind} over an empty dimension of ${fmtShape(x.shape)}`);
  const gx = Math.min(nOut, 65535);
  const gy = Math.ceil(nOut / gx);
  launch(
    { key: `reduce|${kind}`, code: () => reduceSource(kind), bindings: ['read', 'rw'], op },
    [x, y],
    [
      nOut,
      R,
      kshape.length,
      rshape.length,
      f32(scale),
      into ? 1 : 0,
      0,
      0,
      ...vec8(kshape, 1),
      ...vec8(kept.map((i) => st[i])),
      ...vec8(rshape, 1),
      ...vec8(axes.map((i) => st[i])),
    ],
    [gx, gy, 1],
    { op },
  );
  void REDUCE_WG;
  return y;
}

/** Broadcasts a reduced gradient back over the reduced axes. */
function unreduce(g: Tensor, inShape: Shape, axes: number[]): Tensor {
  return expand(reshape(g, reducedShape(inShape, axes, true)), inShape);
}

/**
 * sum(x, axes) added into `into` (a tensor of the result's shape; no autograd record): a backward's
 * gradient accumulated in place (the tape's accumulationTarget), one rounding as a separate add.
 */
export function sumInto(into: Tensor, x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  return reduceRaw('sum', x, normAxes('sum', x.rank, axes), keepdim, 1, 'sum', into);
}

export function sum(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  const ax = normAxes('sum', x.rank, axes);
  const y = reduceRaw('sum', x, ax, keepdim, 1, 'sum');
  return record(y, 'sum', [x], (g) => [unreduce(g, x.shape, ax)], []);
}

export function mean(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  const ax = normAxes('mean', x.rank, axes);
  const R = numel(ax.map((i) => x.shape[i]));
  const y = reduceRaw('sum', x, ax, keepdim, 1 / Math.max(R, 1), 'mean');
  return record(y, 'mean', [x], (g) => [mulScalar(unreduce(g, x.shape, ax), 1 / Math.max(R, 1))], []);
}

function maxMin(kind: 'max' | 'min', x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  const ax = normAxes(kind, x.rank, axes);
  const y = reduceRaw(kind, x, ax, keepdim, 1, kind);
  return record(
    y,
    kind,
    [x],
    (g) => {
      // The gradient is shared among tied extrema (as for max over all elements in PyTorch).
      const yk = expand(reshape(y, reducedShape(x.shape, ax, true)), x.shape);
      const mask = eqMask(x, yk);
      const count = reduceRaw('sum', mask, ax, true, 1, `${kind}_backward`);
      return [div(mul(unreduce(g, x.shape, ax), mask), count)];
    },
    [x, y],
  );
}
export const max = (x: Tensor, axes?: number | readonly number[], keepdim = false) => maxMin('max', x, axes, keepdim);
export const min = (x: Tensor, axes?: number | readonly number[], keepdim = false) => maxMin('min', x, axes, keepdim);

/** Sums a broadcast gradient back to `shape` (the inverse of broadcasting in the forward). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (g.rank === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  if (lead < 0) throw new Error(`sumTo: gradient ${fmtShape(g.shape)} has lower rank than ${fmtShape(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead) axes.push(i);
    else if (shape[i - lead] === 1 && g.shape[i] !== 1) axes.push(i);
  }
  const s = axes.length ? sum(g, axes, true) : g;
  return reshape(s, shape);
}

// ---- registry ------------------------------------------------------------------------------------

function reduceHost(x: HostTensor, axesIn: number[] | undefined, keepdim: boolean, f: 'sum' | 'mean' | 'max' | 'min'): HostTensor {
  const axes = normAxes('ref', x.shape.length, axesIn);
  const shape = reducedShape(x.shape, axes, keepdim);
  const keptShape = reducedShape(x.shape, axes, true);
  const n = numel(shape);
  const out = new Float64Array(n).fill(f === 'max' ? -Infinity : f === 'min' ? Infinity : 0);
  const ks = stridesOf(keptShape);
  const R = numel(axes.map((i) => x.shape[i]));
  for (let i = 0; i < x.data.length; i++) {
    let rem = i,
      o = 0;
    for (let d = x.shape.length - 1; d >= 0; d--) {
      const c = rem % x.shape[d];
      rem = Math.floor(rem / x.shape[d]);
      if (!axes.includes(d)) o += c * ks[d];
    }
    const v = x.data[i];
    if (f === 'max') out[o] = Math.max(out[o], v);
    else if (f === 'min') out[o] = Math.min(out[o], v);
    else out[o] += v;
  }
  if (f === 'mean') for (let i = 0; i < n; i++) out[i] /= R;
  return { shape, data: out };
}

for (const [name, fn] of [
  ['sum', sum],
  ['mean', mean],
  ['max', max],
  ['min', min],
] as const) {
  registerOp({
    name,
    run: ([x], a) => fn(x, a.axes as number[] | undefined, a.keepdim as boolean),
    reference: ([x], a) => reduceHost(x, a.axes as number[] | undefined, a.keepdim as boolean, name),
    doubleBackward: true,
    // max/min: distinct, well separated values so no finite-difference step changes the argmax.
    sample:
      name === 'max' || name === 'min'
        ? (shape, _i, rand) => {
            const n = numel(shape);
            const perm = [...Array(n).keys()].sort(() => rand() - 0.5);
            return Float64Array.from(perm, (p) => (p / n) * 2 - 1);
          }
        : undefined,
  });
}
