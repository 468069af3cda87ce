// CPU float64 references for the GAN losses. Each takes a `reduction` like PyTorch's: 'none' returns
// the elementwise (or per-sample) tensor, 'mean' / 'sum' return a scalar tensor of shape [].

import { hostTensor, hostScalar, type HostTensor, expectRank, expectSameShape, size } from './host.js';

export type Reduction = 'mean' | 'sum' | 'none';

function reduce(values: HostTensor, reduction: Reduction): HostTensor {
  if (reduction === 'none') return values;
  let sum = 0;
  for (const v of values.data) sum += v;
  return hostScalar(reduction === 'sum' ? sum : sum / values.data.length);
}

function elementwise(a: HostTensor, b: HostTensor, what: string, f: (x: number, y: number) => number): HostTensor {
  expectSameShape(a, b, what);
  const y = hostTensor(a.shape);
  for (let i = 0; i < y.data.length; i++) y.data[i] = f(a.data[i], b.data[i]);
  return y;
}

/**
 * F.binary_cross_entropy_with_logits: -(t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))), in the
 * overflow-free form max(x, 0) - x t + log(1 + exp(-|x|)). Targets may be soft (any value in [0, 1]).
 */
export function bceWithLogitsCpu(logits: HostTensor, targets: HostTensor, reduction: Reduction = 'mean'): HostTensor {
  const loss = elementwise(logits, targets, 'bceWithLogits', (x, t) => Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x))));
  return reduce(loss, reduction);
}

/** F.mse_loss: (a - b)^2. */
export function mseCpu(a: HostTensor, b: HostTensor, reduction: Reduction = 'mean'): HostTensor {
  return reduce(
    elementwise(a, b, 'mse', (x, y) => (x - y) ** 2),
    reduction,
  );
}

/** F.l1_loss: |a - b|. */
export function l1Cpu(a: HostTensor, b: HostTensor, reduction: Reduction = 'mean'): HostTensor {
  return reduce(
    elementwise(a, b, 'l1', (x, y) => Math.abs(x - y)),
    reduction,
  );
}

/**
 * F.cross_entropy for logits [N, C]. labels is either class indices (Int32Array of length N) or a
 * [N, C] tensor of target probabilities (one-hot or soft, PyTorch >= 1.10 semantics):
 * loss_n = -sum_c t[n, c] log_softmax(logits)[n, c]. 'none' gives the [N] per-sample losses.
 */
export function softmaxCrossEntropyCpu(logits: HostTensor, labels: Int32Array | HostTensor, reduction: Reduction = 'mean'): HostTensor {
  const [n, c] = expectRank(logits, 2, 'softmaxCrossEntropy');
  if (labels instanceof Int32Array) {
    if (labels.length !== n) throw new Error(`softmaxCrossEntropy: ${labels.length} labels for ${n} rows`);
  } else {
    expectSameShape(logits, labels, 'softmaxCrossEntropy');
  }
  const loss = hostTensor([n]);
  for (let i = 0; i < n; i++) {
    const row = logits.data.subarray(i * c, (i + 1) * c);
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    let sumExp = 0;
    for (const v of row) sumExp += Math.exp(v - max);
    const logZ = max + Math.log(sumExp);
    if (labels instanceof Int32Array) {
      const k = labels[i];
      if (k < 0 || k >= c) throw new Error(`softmaxCrossEntropy: label ${k} outside [0, ${c})`);
      loss.data[i] = logZ - row[k];
    } else {
      let acc = 0;
      for (let k = 0; k < c; k++) acc += labels.data[i * c + k] * (logZ - row[k]);
      loss.data[i] = acc;
    }
  }
  return reduce(loss, reduction);
}

/**
 * KL(N(mu, exp(logvar)) || N(0, 1)) for the conditioning augmentation of StackGAN (and VAEs):
 * per sample -0.5 * sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j)), summed over every axis but the
 * first, then averaged over the batch (axis 0). Returns a scalar tensor.
 */
export function gaussianKlCpu(mu: HostTensor, logvar: HostTensor): HostTensor {
  expectSameShape(mu, logvar, 'gaussianKl');
  if (mu.shape.length < 1) throw new Error('gaussianKl: inputs need a batch axis');
  const batch = mu.shape[0];
  const perSample = size(mu.shape.slice(1));
  let total = 0;
  for (let i = 0; i < batch * perSample; i++) {
    const m = mu.data[i];
    const lv = logvar.data[i];
    total += -0.5 * (1 + lv - m * m - Math.exp(lv));
  }
  return hostScalar(total / batch);
}

/** EBGAN's discriminator margin term on energies e: max(0, margin - e). */
export function hingeCpu(energy: HostTensor, margin: number, reduction: Reduction = 'mean'): HostTensor {
  const y = hostTensor(energy.shape);
  for (let i = 0; i < y.data.length; i++) y.data[i] = Math.max(0, margin - energy.data[i]);
  return reduce(y, reduction);
}
