// CPU float64 references for the activations, each matching the PyTorch function named beside it.
// Elementwise ones work on any shape; softmax and logSoftmax act along the last axis.

import { hostTensor, type HostTensor, mapHost } from './host.js';

/** F.relu. */
export function reluCpu(x: HostTensor): HostTensor {
  return mapHost(x, (v) => (v > 0 ? v : 0));
}

/** F.leaky_relu(x, slope); PyTorch's default slope is 0.01, DCGAN/pix2pix use 0.2. */
export function leakyReluCpu(x: HostTensor, slope = 0.01): HostTensor {
  return mapHost(x, (v) => (v > 0 ? v : slope * v));
}

/** torch.tanh. */
export function tanhCpu(x: HostTensor): HostTensor {
  return mapHost(x, Math.tanh);
}

/** torch.sigmoid, written so exp never overflows for large |x|. */
export function sigmoidCpu(x: HostTensor): HostTensor {
  return mapHost(x, (v) => {
    if (v >= 0) return 1 / (1 + Math.exp(-v));
    const e = Math.exp(v);
    return e / (1 + e);
  });
}

/** F.softplus(x, beta, threshold): log(1 + exp(beta x)) / beta, or x itself where beta x > threshold. */
export function softplusCpu(x: HostTensor, beta = 1, threshold = 20): HostTensor {
  return mapHost(x, (v) => (v * beta > threshold ? v : Math.log1p(Math.exp(v * beta)) / beta));
}

/** F.elu(x, alpha): x for x > 0, alpha (exp(x) - 1) otherwise. */
export function eluCpu(x: HostTensor, alpha = 1): HostTensor {
  return mapHost(x, (v) => (v > 0 ? v : alpha * Math.expm1(v)));
}

/** Applies f(row, out) to each row of the last axis. */
function perRow(x: HostTensor, f: (row: Float64Array, out: Float64Array) => void): HostTensor {
  if (x.shape.length < 1) throw new Error('softmax: input needs at least one axis');
  const n = x.shape[x.shape.length - 1];
  const y = hostTensor(x.shape);
  for (let start = 0; start < x.data.length; start += n) {
    f(x.data.subarray(start, start + n), y.data.subarray(start, start + n));
  }
  return y;
}

/** log(sum(exp(row))), shifted by the row max so it cannot overflow. */
function logSumExp(row: Float64Array): number {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

/** F.log_softmax(x, dim=-1). */
export function logSoftmaxCpu(x: HostTensor): HostTensor {
  return perRow(x, (row, out) => {
    const lse = logSumExp(row);
    for (let i = 0; i < row.length; i++) out[i] = row[i] - lse;
  });
}

/** F.softmax(x, dim=-1). */
export function softmaxCpu(x: HostTensor): HostTensor {
  return perRow(x, (row, out) => {
    const lse = logSumExp(row);
    for (let i = 0; i < row.length; i++) out[i] = Math.exp(row[i] - lse);
  });
}
