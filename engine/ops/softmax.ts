// softmax and logSoftmax along any dim, plus oneHot for int32 labels. Host side of shaders/softmax.ts.
// The forward is one fused, max-shifted kernel over the last axis (other dims are permuted to the
// end and back). The backwards are written with ops on the saved output y, so they differentiate
// again (double backward):
//   softmax:     dx = y * (g - sum(g * y, -1))
//   logSoftmax:  dx = g - exp(y) * sum(g, -1)
import { softmaxSource, oneHotSource, SOFTMAX_WG, ONE_HOT_WG } from '../../shaders/softmax.js';
import { type Tensor, empty, checkFloat, fmtShape, numel, type Shape } from '../tensor.js';
import { record } from '../tape.js';
import { grid1d, launch } from './kernel.js';
import { registerOp, type HostTensor } from './registry.js';
import { mul, sub, exp } from './elementwise.js';
import { sum } from './reduce.js';
import { permute } from './movement.js';

function softmaxLastRaw(x: Tensor, log: boolean, op: string): Tensor {
  checkFloat(op, x);
  if (x.rank < 1) throw new Error(`${op}: needs at least one axis, got a scalar ${x.describe()}`);
  const C = x.shape[x.rank - 1];
  const rows = C === 0 ? 0 : x.size / C;
  const y = empty(x.shape, op);
  if (rows === 0) return y;
  const gx = Math.min(rows, 65535);
  const gy = Math.ceil(rows / gx);
  launch(
    { key: `softmax|${log ? 'log' : 'exp'}`, code: () => softmaxSource(log), bindings: ['read', 'rw'], op },
    [x, y],
    [rows, C, 0, 0],
    [gx, gy, 1],
    { op },
  );
  void SOFTMAX_WG;
  return y;
}

function softmaxLast(x: Tensor): Tensor {
  const y = softmaxLastRaw(x, false, 'softmax');
  return record(y, 'softmax', [x], (g) => [mul(y, sub(g, sum(mul(g, y), -1, true)))], [y]);
}

function logSoftmaxLast(x: Tensor): Tensor {
  const y = softmaxLastRaw(x, true, 'log_softmax');
  return record(y, 'log_softmax', [x], (g) => [sub(g, mul(exp(y), sum(g, -1, true)))], [y]);
}

/** Applies a last-axis op along `dim` by moving dim to the end and back. */
function alongDim(x: Tensor, dim: number, op: string, f: (t: Tensor) => Tensor): Tensor {
  const d = dim < 0 ? dim + x.rank : dim;
  if (!Number.isInteger(d) || d < 0 || d >= x.rank) throw new Error(`${op}: dim ${dim} is out of range for ${x.describe()}`);
  if (d === x.rank - 1) return f(x);
  const perm = [...Array(x.rank).keys()].filter((i) => i !== d).concat(d);
  const inv = perm.map((_, i) => perm.indexOf(i));
  return permute(f(permute(x, perm)), inv);
}

/** exp(x - logsumexp(x, dim)): probabilities along dim (default the last). */
export function softmax(x: Tensor, dim = -1): Tensor {
  return alongDim(x, dim, 'softmax', softmaxLast);
}

/** x - logsumexp(x, dim), computed without overflow. */
export function logSoftmax(x: Tensor, dim = -1): Tensor {
  return alongDim(x, dim, 'logSoftmax', logSoftmaxLast);
}

/**
 * One-hot float32 [...labels.shape, C] from int32 class indices (no gradient). An index outside
 * [0, C) gives a row of NaN, so it surfaces in the loss (check with assertFinite).
 */
export function oneHot(labels: Tensor, numClasses: number): Tensor {
  if (labels.dtype !== 'int32') throw new Error(`oneHot: labels must be an int32 tensor, got ${labels.dtype} ${fmtShape(labels.shape)}`);
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`oneHot: numClasses = ${numClasses} must be a positive integer`);
  const shape: Shape = [...labels.shape, numClasses];
  const y = empty(shape, 'one_hot');
  const n = numel(shape);
  if (n > 0)
    launch(
      { key: 'one_hot', code: () => oneHotSource(), bindings: ['read', 'rw'], op: 'one_hot' },
      [labels, y],
      [n, numClasses, 0, 0],
      grid1d(n, ONE_HOT_WG),
      { op: 'one_hot' },
    );
  return y;
}

// ---- registry ----------------------------------------------------------------------------------------

/** Host softmax / log-softmax along `dim` (float64). */
export function softmaxHost(x: HostTensor, dim: number, log: boolean): HostTensor {
  const d = dim < 0 ? dim + x.shape.length : dim;
  const C = x.shape[d];
  const inner = numel(x.shape.slice(d + 1));
  const outer = numel(x.shape.slice(0, d));
  const out = new Float64Array(x.data.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (c: number) => (o * C + c) * inner + i;
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, x.data[at(c)]);
      let s = 0;
      for (let c = 0; c < C; c++) s += Math.exp(x.data[at(c)] - m);
      for (let c = 0; c < C; c++) out[at(c)] = log ? x.data[at(c)] - m - Math.log(s) : Math.exp(x.data[at(c)] - m) / s;
    }
  }
  return { shape: x.shape, data: out };
}

for (const [name, fn, log] of [
  ['softmax', softmax, false],
  ['log_softmax', logSoftmax, true],
] as const) {
  registerOp({
    name,
    run: ([x], a) => fn(x, a.dim as number),
    reference: ([x], a) => softmaxHost(x, a.dim as number, log),
    doubleBackward: true,
    sample: (shape, _i, rand) => Float64Array.from({ length: numel(shape) }, () => 6 * rand() - 3),
  });
}
