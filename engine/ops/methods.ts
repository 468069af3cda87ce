// Installs the chainable Tensor methods declared in engine/tensor.ts: each is a one-line call of the
// op of the same name, so `lossGA.add(lossGB).add(cycA.mul(lambda))` runs exactly the kernels (and
// records exactly the autograd nodes) of `add(add(lossGA, lossGB), mul(cycA, lambda))`.
// engine/ops/index.ts imports this module for its side effect; tensor.ts itself imports no op.
import { Tensor } from '../tensor.js';
import {
  abs,
  add,
  clamp,
  div,
  elu,
  exp,
  leakyRelu,
  log,
  maximum,
  minimum,
  mul,
  neg,
  powScalar,
  reciprocal,
  relu,
  rsqrt,
  sigmoid,
  softplus,
  sqrt,
  square,
  sub,
  tanh,
} from './elementwise.js';
import { max, mean, min, sum } from './reduce.js';
import { expand, flatten, narrow, permute, reshape, transpose } from './movement.js';
import { matmul } from './matmul.js';
import { logSoftmax, softmax } from './softmax.js';

type Methods = { [K in keyof Tensor]?: Tensor[K] };

/** The methods, by name (tests check each against its function form). */
export const tensorMethods = {
  add(this: Tensor, other) {
    return add(this, other);
  },
  sub(this: Tensor, other) {
    return sub(this, other);
  },
  mul(this: Tensor, other) {
    return mul(this, other);
  },
  div(this: Tensor, other) {
    return div(this, other);
  },
  neg(this: Tensor) {
    return neg(this);
  },
  maximum(this: Tensor, other) {
    return maximum(this, other);
  },
  minimum(this: Tensor, other) {
    return minimum(this, other);
  },
  matmul(this: Tensor, other, opts) {
    return matmul(this, other, opts);
  },
  sum(this: Tensor, axes, keepdim) {
    return sum(this, axes, keepdim);
  },
  mean(this: Tensor, axes, keepdim) {
    return mean(this, axes, keepdim);
  },
  max(this: Tensor, axes, keepdim) {
    return max(this, axes, keepdim);
  },
  min(this: Tensor, axes, keepdim) {
    return min(this, axes, keepdim);
  },
  reshape(this: Tensor, shape) {
    return reshape(this, shape);
  },
  view(this: Tensor, shape) {
    return reshape(this, shape);
  },
  flatten(this: Tensor, startDim) {
    return flatten(this, startDim);
  },
  transpose(this: Tensor, dim0, dim1) {
    return transpose(this, dim0, dim1);
  },
  permute(this: Tensor, dims) {
    return permute(this, dims);
  },
  expand(this: Tensor, shape) {
    return expand(this, shape);
  },
  narrow(this: Tensor, dim, start, length) {
    return narrow(this, dim, start, length);
  },
  exp(this: Tensor) {
    return exp(this);
  },
  log(this: Tensor) {
    return log(this);
  },
  sqrt(this: Tensor) {
    return sqrt(this);
  },
  rsqrt(this: Tensor) {
    return rsqrt(this);
  },
  abs(this: Tensor) {
    return abs(this);
  },
  square(this: Tensor) {
    return square(this);
  },
  reciprocal(this: Tensor) {
    return reciprocal(this);
  },
  pow(this: Tensor, p) {
    return powScalar(this, p);
  },
  clamp(this: Tensor, lo, hi) {
    return clamp(this, lo, hi);
  },
  relu(this: Tensor) {
    return relu(this);
  },
  leakyRelu(this: Tensor, slope) {
    return leakyRelu(this, slope);
  },
  tanh(this: Tensor) {
    return tanh(this);
  },
  sigmoid(this: Tensor) {
    return sigmoid(this);
  },
  softplus(this: Tensor, beta, threshold) {
    return softplus(this, beta, threshold);
  },
  elu(this: Tensor, alpha) {
    return elu(this, alpha);
  },
  softmax(this: Tensor, dim) {
    return softmax(this, dim);
  },
  logSoftmax(this: Tensor, dim) {
    return logSoftmax(this, dim);
  },
} satisfies Methods;

for (const [name, fn] of Object.entries(tensorMethods)) {
  Object.defineProperty(Tensor.prototype, name, { value: fn, writable: true, configurable: true, enumerable: false });
}
