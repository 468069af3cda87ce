// GAN losses, composed from differentiable ops (so every one supports double backward), the
// WGAN-GP gradient penalty, and a NaN/Inf guard for training loops.
// Reductions follow PyTorch: 'mean' (default) and 'sum' give a scalar of shape [], 'none' the
// elementwise (or, for cross-entropy, per-sample) values. CPU references: engine/ops/cpu/losses.ts.
import { type Tensor, checkFloat, fmtShape, tensor, empty, type Shape } from '../tensor.js';
import { grad, noGrad, record, isGradEnabled } from '../tape.js';
import { launch, grid1d, f32 } from './kernel.js';
import { lossMeanSource, lossMeanBackwardSource, LOSS_WG, type FusedLoss } from '../../shaders/losses.js';
import { registerOp, type HostTensor } from './registry.js';
import {
  add,
  sub,
  mul,
  neg,
  abs,
  sign,
  square,
  sqrt,
  exp,
  relu,
  sigmoid,
  softplus,
  tanh,
  affine,
  mulScalar,
  addScalar,
} from './elementwise.js';
import { sum, mean, sumTo } from './reduce.js';
import { reshape, expand } from './movement.js';
import { logSoftmax, oneHot } from './softmax.js';
import { rand, Generator, philoxWords, uniformFromWord } from './random.js';
import { bceWithLogitsCpu, mseCpu, l1Cpu, softmaxCrossEntropyCpu, gaussianKlCpu, hingeCpu } from './cpu/losses.js';

export type Reduction = 'mean' | 'sum' | 'none';

export interface ReductionOptions {
  reduction?: Reduction;
}

function reduce(op: string, v: Tensor, reduction: Reduction = 'mean'): Tensor {
  switch (reduction) {
    case 'mean':
      return mean(v);
    case 'sum':
      return sum(v);
    case 'none':
      return v;
    default:
      throw new Error(`${op}: unknown reduction '${reduction as string}' (use 'mean', 'sum' or 'none')`);
  }
}

function checkSame(op: string, a: Tensor, b: Tensor): void {
  checkFloat(op, a, b);
  if (a.rank !== b.rank || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${op}: input ${fmtShape(a.shape)} and target ${fmtShape(b.shape)} must have the same shape`);
  }
}

// ---- fused mean losses ---------------------------------------------------------------------------------

/** Single-kernel mean losses (shaders/losses.ts) for BCE-with-logits (constant label), MSE and L1; tests turn it off. */
export const fusedLosses = { enabled: true };

/**
 * mean(term(a, b)) in one dispatch, with a one-dispatch backward when no graph of the backward is
 * wanted (createGraph off); with createGraph the backward is built from the composed ops, so the
 * loss differentiates twice. The values are those of the composed ops (same terms, same reduction
 * order).
 */
function fusedMean(
  op: string,
  kind: FusedLoss,
  a: Tensor,
  b: Tensor | null,
  target: number,
  composedBackward: (g: Tensor) => (Tensor | null)[],
): Tensor {
  const n = a.size;
  const uni = [n, f32(target), f32(1), f32(20), f32(1 / Math.max(n, 1)), 0, 0, 0];
  const y = empty([], op);
  const ins = b ? [a, b] : [a];
  launch(
    { key: `loss_mean|${kind}`, code: () => lossMeanSource(kind), bindings: [...ins.map(() => 'read' as const), 'rw'], op },
    [...ins, y],
    uni,
    [1, 1, 1],
    { op, bytes: 4 * n * ins.length },
  );
  return record(y, op, ins, (g) => {
    if (isGradEnabled()) return composedBackward(g);
    const wantB = !!b?.requiresGrad;
    const da = empty(a.shape, `${op}_backward`);
    const db = wantB ? empty(b!.shape, `${op}_backward`) : null;
    const bufs = [g, ...ins, da, ...(db ? [db] : [])];
    launch(
      {
        key: `loss_mean_backward|${kind}|db=${+wantB}`,
        code: () => lossMeanBackwardSource(kind, wantB),
        bindings: [...bufs.slice(0, 1 + ins.length).map(() => 'read' as const), 'rw', ...(db ? ['rw' as const] : [])],
        op: `${op}_backward`,
      },
      bufs,
      uni,
      grid1d(n, LOSS_WG),
      { op: `${op}_backward`, bytes: 4 * n * (ins.length + 1 + (db ? 1 : 0)) },
    );
    if (!a.requiresGrad) {
      da.dispose();
      return [null, ...(b ? [db] : [])];
    }
    return [da, ...(b ? [db] : [])];
  });
}

// ---- elementwise losses --------------------------------------------------------------------------------

/**
 * Binary cross-entropy on logits, -(t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))), evaluated as
 * softplus(x) - x t = max(x, 0) - x t + log(1 + exp(-|x|)) so it never overflows. A number target
 * is a constant label for every element (the GAN case: 1 for real, 0 for fake, 0.9 for label
 * smoothing); a tensor target may be soft and broadcasts against the logits.
 * Gradients: d/dx = sigmoid(x) - t (smooth everywhere, also at x = 0), d/dt = -x.
 */
export function bceWithLogits(logits: Tensor, target: Tensor | number, opts: ReductionOptions = {}): Tensor {
  checkFloat('bceWithLogits', logits);
  let y: Tensor;
  if (typeof target === 'number' && (opts.reduction ?? 'mean') === 'mean' && fusedLosses.enabled && logits.size > 0) {
    const n = logits.size;
    return fusedMean('bce_with_logits', 'bce', logits, null, target, (g) => [
      mul(
        mulScalar(
          expand(
            reshape(
              g,
              logits.shape.map(() => 1),
            ),
            logits.shape,
          ),
          1 / n,
        ),
        addScalar(sigmoid(logits), -target),
      ),
    ]);
  }
  if (typeof target === 'number') {
    y = noGrad(() => sub(softplus(logits), mulScalar(logits, target)));
    y = record(y, 'bce_with_logits', [logits], (g) => [mul(g, addScalar(sigmoid(logits), -target))]);
  } else {
    checkFloat('bceWithLogits', target);
    y = noGrad(() => sub(softplus(logits), mul(logits, target)));
    y = record(y, 'bce_with_logits', [logits, target], (g) => [
      logits.requiresGrad ? sumTo(mul(g, sub(sigmoid(logits), target)), logits.shape) : null,
      target.requiresGrad ? sumTo(neg(mul(g, logits)), target.shape) : null,
    ]);
  }
  return reduce('bceWithLogits', y, opts.reduction);
}

/**
 * Mean squared error (a - b)^2 (LSGAN, pix2pix/CycleGAN identity terms). Its own record with the
 * backward 2 g (a - b) / -2 g (a - b), built from ops, so it differentiates again.
 */
export function mse(a: Tensor, b: Tensor, opts: ReductionOptions = {}): Tensor {
  checkSame('mse', a, b);
  if ((opts.reduction ?? 'mean') === 'mean' && fusedLosses.enabled && a.size > 0) {
    return fusedMean('mse', 'mse', a, b, 0, (g) => {
      const d = mul(
        mulScalar(
          expand(
            reshape(
              g,
              a.shape.map(() => 1),
            ),
            a.shape,
          ),
          1 / a.size,
        ),
        mulScalar(sub(a, b), 2),
      );
      return [a.requiresGrad ? d : null, b.requiresGrad ? neg(d) : null];
    });
  }
  const y = record(
    noGrad(() => square(sub(a, b))),
    'mse',
    [a, b],
    (g) => {
      const d = mul(g, mulScalar(sub(a, b), 2));
      return [a.requiresGrad ? d : null, b.requiresGrad ? neg(d) : null];
    },
  );
  return reduce('mse', y, opts.reduction);
}

/** Mean absolute error |a - b| (pix2pix, CycleGAN cycle loss). The gradient at a == b is 0. */
export function l1(a: Tensor, b: Tensor, opts: ReductionOptions = {}): Tensor {
  checkSame('l1', a, b);
  if ((opts.reduction ?? 'mean') === 'mean' && fusedLosses.enabled && a.size > 0) {
    return fusedMean('l1', 'l1', a, b, 0, (g) => {
      const d = mul(
        mulScalar(
          expand(
            reshape(
              g,
              a.shape.map(() => 1),
            ),
            a.shape,
          ),
          1 / a.size,
        ),
        sign(sub(a, b)),
      );
      return [a.requiresGrad ? d : null, b.requiresGrad ? neg(d) : null];
    });
  }
  return reduce('l1', abs(sub(a, b)), opts.reduction);
}

/**
 * Cross-entropy of logits [N, C] against class indices (int32 [N]) or target probabilities
 * (float [N, C], one-hot or soft; the soft targets get a gradient too):
 * loss_n = -sum_c t[n, c] log_softmax(logits)[n, c]. 'none' gives the [N] per-sample losses.
 * An index outside [0, C) makes that sample's loss NaN.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor, opts: ReductionOptions = {}): Tensor {
  checkFloat('softmaxCrossEntropy', logits);
  if (logits.rank !== 2) throw new Error(`softmaxCrossEntropy: logits must be [N, C], got ${fmtShape(logits.shape)}`);
  const [n, c] = logits.shape;
  let t: Tensor;
  if (labels.dtype === 'int32') {
    if (labels.rank !== 1 || labels.shape[0] !== n)
      throw new Error(`softmaxCrossEntropy: int32 labels must be [${n}], got ${fmtShape(labels.shape)}`);
    t = oneHot(labels, c);
  } else {
    checkSame('softmaxCrossEntropy', logits, labels);
    t = labels;
  }
  const perSample = neg(sum(mul(t, logSoftmax(logits, -1)), -1));
  return reduce('softmaxCrossEntropy', perSample, opts.reduction);
}

/**
 * KL(N(mu, exp(logvar)) || N(0, I)) = -0.5 * sum(1 + logvar - mu^2 - exp(logvar)), for StackGAN's
 * conditioning augmentation and VAEs. Reduction (matches gaussianKlCpu by default):
 *   'batchmean' (default): summed over every axis but the first, averaged over the batch (axis 0);
 *   'sum': summed over everything; 'mean': averaged over every element; 'none': per sample [N].
 */
export function gaussianKl(mu: Tensor, logvar: Tensor, opts: { reduction?: Reduction | 'batchmean' } = {}): Tensor {
  checkSame('gaussianKl', mu, logvar);
  if (mu.rank < 1) throw new Error(`gaussianKl: inputs need a batch axis, got ${fmtShape(mu.shape)}`);
  // -0.5 (1 + lv - mu^2 - e^lv) = 0.5 (mu^2 + e^lv - lv - 1)
  const terms = mulScalar(addScalar(sub(add(square(mu), exp(logvar)), logvar), -1), 0.5);
  const r = opts.reduction ?? 'batchmean';
  if (r === 'mean' || r === 'sum') return reduce('gaussianKl', terms, r);
  const axes = [...Array(mu.rank).keys()].slice(1);
  const perSample = axes.length ? sum(terms, axes) : terms;
  if (r === 'none') return perSample;
  if (r === 'batchmean') return mean(perSample);
  throw new Error(`gaussianKl: unknown reduction '${r as string}' (use 'batchmean', 'mean', 'sum' or 'none')`);
}

/** EBGAN's margin term on energies: max(0, margin - e), averaged by default. */
export function hinge(energy: Tensor, margin: number, opts: ReductionOptions = {}): Tensor {
  checkFloat('hinge', energy);
  return reduce('hinge', relu(affine(energy, -1, margin)), opts.reduction);
}

// ---- WGAN-GP --------------------------------------------------------------------------------------------

export interface GradientPenaltyOptions {
  generator?: Generator;
  /** Weight of the penalty (10 in Gulrajani et al.). */
  lambda?: number;
}

/**
 * WGAN-GP: lambda * mean_n (||d critic(xhat) / d xhat_n||_2 - 1)^2 with
 * xhat = eps * real + (1 - eps) * fake, eps ~ U[0, 1) drawn once per sample from the generator.
 * xhat is built from detached real/fake (a fresh leaf), so the penalty reaches the critic's
 * parameters only (through the double backward of grad(..., { createGraph: true })), never the
 * generator. critic maps [N, ...] to one score per sample (any shape with N * k elements; the
 * scores are summed, which gives each sample its own gradient because samples are independent).
 */
export function gradientPenalty(critic: (x: Tensor) => Tensor, real: Tensor, fake: Tensor, opts: GradientPenaltyOptions = {}): Tensor {
  checkSame('gradientPenalty', real, fake);
  if (real.rank < 1) throw new Error(`gradientPenalty: inputs need a batch axis, got ${fmtShape(real.shape)}`);
  const lambda = opts.lambda ?? 10;
  const n = real.shape[0];
  const epsShape: Shape = [n, ...real.shape.slice(1).map(() => 1)];
  const xhat = noGrad(() => {
    const eps = rand(epsShape, { generator: opts.generator });
    const r = real.detach();
    const f = fake.detach();
    return add(f, mul(eps, sub(r, f))); // eps * real + (1 - eps) * fake
  }).requireGrad();
  const scores = critic(xhat);
  if (!scores.requiresGrad) {
    throw new Error('gradientPenalty: the critic output does not depend on its input (did it run under noGrad, or detach its input?)');
  }
  const [g] = grad(sum(scores), [xhat], { createGraph: true });
  const g2 = reshape(g, [n, -1]);
  const norm = sqrt(addScalar(sum(square(g2), 1), 1e-12)); // tiny floor: finite gradient at g = 0
  return mulScalar(mean(square(addScalar(norm, -1))), lambda);
}

// ---- NaN / Inf guard ------------------------------------------------------------------------------------

/**
 * Reads t back and throws if any element is NaN or infinite, with a message naming the quantity and
 * step ("loss_D became NaN at step 120: ..."). Returns t's first value (a scalar loss, for logging).
 * This synchronises with the GPU, so call it every few steps rather than every op.
 */
export async function assertFinite(t: Tensor, what: string, context: { step?: number; hint?: string } = {}): Promise<number> {
  const v = await t.data();
  let bad = -1;
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) {
      bad = i;
      break;
    }
  }
  if (bad >= 0) {
    const kind = Number.isNaN(v[bad]) ? 'NaN' : v[bad] > 0 ? 'Infinity' : '-Infinity';
    const where = context.step !== undefined ? ` at step ${context.step}` : '';
    const elem = v.length > 1 ? ` (element ${bad} of ${t.describe()})` : '';
    const hint = context.hint ?? 'lower the learning rate, check the inputs are normalised and finite, or resume from the last checkpoint';
    throw new Error(`${what} became ${kind}${where}${elem}: ${hint}`);
  }
  return v.length ? v[0] : NaN;
}

// ---- registry --------------------------------------------------------------------------------------------

const asRed = (a: Record<string, unknown>) => (a.reduction as Reduction | undefined) ?? 'mean';
const sampleIn = (lo: number, hi: number) => (shape: number[], _i: number, r: () => number) =>
  Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * r());
const host = (shape: number[], value: number): HostTensor => ({
  shape,
  data: new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(value),
});

registerOp({
  name: 'bce_with_logits',
  run: ([x, t], a) => bceWithLogits(x, t, { reduction: asRed(a) }),
  reference: ([x, t], a) => bceWithLogitsCpu(x, t, asRed(a)),
  doubleBackward: true,
  sample: (shape, i, r) => sampleIn(i === 0 ? -4 : 0, i === 0 ? 4 : 1)(shape, i, r),
});
registerOp({
  name: 'bce_with_logits_const',
  run: ([x], a) => bceWithLogits(x, a.target as number, { reduction: asRed(a) }),
  reference: ([x], a) => bceWithLogitsCpu(x, host(x.shape, a.target as number), asRed(a)),
  doubleBackward: true,
  sample: sampleIn(-4, 4),
});
registerOp({
  name: 'mse',
  run: ([x, y], a) => mse(x, y, { reduction: asRed(a) }),
  reference: ([x, y], a) => mseCpu(x, y, asRed(a)),
  doubleBackward: true,
});
registerOp({
  name: 'l1',
  run: ([x, y], a) => l1(x, y, { reduction: asRed(a) }),
  reference: ([x, y], a) => l1Cpu(x, y, asRed(a)),
  doubleBackward: true,
  // Keep a - b away from the kink at 0: a in [0.2, 1], b in [-1, -0.2] or swapped by sign.
  sample: (shape, i, r) => sampleIn(i === 0 ? 0.2 : -1, i === 0 ? 1 : -0.2)(shape, i, r),
});
registerOp({
  name: 'softmax_cross_entropy',
  run: ([x, t], a) => softmaxCrossEntropy(x, t, { reduction: asRed(a) }),
  reference: ([x, t], a) => softmaxCrossEntropyCpu(x, t, asRed(a)),
  doubleBackward: true,
  sample: (shape, i, r) => (i === 0 ? sampleIn(-3, 3)(shape, i, r) : sampleIn(0, 1)(shape, i, r)),
});
registerOp({
  name: 'softmax_cross_entropy_index',
  run: ([x], a) => softmaxCrossEntropy(x, tensor(a.labels as number[], [(a.labels as number[]).length], 'int32'), { reduction: asRed(a) }),
  reference: ([x], a) => softmaxCrossEntropyCpu(x, Int32Array.from(a.labels as number[]), asRed(a)),
  doubleBackward: true,
  sample: sampleIn(-3, 3),
});
registerOp({
  name: 'gaussian_kl',
  run: ([m, lv]) => gaussianKl(m, lv),
  reference: ([m, lv]) => gaussianKlCpu(m, lv),
  doubleBackward: true,
});
registerOp({
  name: 'hinge',
  run: ([e], a) => hinge(e, a.margin as number, { reduction: asRed(a) }),
  reference: ([e], a) => hingeCpu(e, a.margin as number, asRed(a)),
  doubleBackward: true,
  // Energies on both sides of the margin but never at it.
  sample: (shape, _i, r) =>
    Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (r() < 0.5 ? -0.5 + 0.6 * r() : 0.4 + r())),
});

// Gradient penalty with the critic tanh(sum_j w_j x_j^2) per sample; inputs real [N, D], fake
// [N, D], w [D]. Only w gets a gradient (xhat is detached from real/fake by design).
const GP_SEED = 99;
function gpHost(real: HostTensor, fake: HostTensor, w: HostTensor, lambda: number): HostTensor {
  const [n, d] = real.shape;
  const words = philoxWords(n, GP_SEED, 0);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const eps = uniformFromWord(words[i]);
    const x = Array.from({ length: d }, (_, j) => eps * real.data[i * d + j] + (1 - eps) * fake.data[i * d + j]);
    const s = x.reduce((a, v, j) => a + w.data[j] * v * v, 0);
    const dt = 1 - Math.tanh(s) ** 2;
    const norm = Math.sqrt(x.reduce((a, v, j) => a + (dt * 2 * w.data[j] * v) ** 2, 0) + 1e-12);
    acc += (norm - 1) ** 2;
  }
  return { shape: [], data: Float64Array.of((lambda * acc) / n) };
}
registerOp({
  name: 'gradient_penalty',
  run: ([real, fake, w]) =>
    gradientPenalty((x) => tanh(sum(mul(square(x), w), -1)), real, fake, { generator: new Generator(GP_SEED), lambda: 3 }),
  reference: ([real, fake, w]) => gpHost(real, fake, w, 3),
  doubleBackward: true,
  tol: { grad: 3e-3, grad2: 2e-2 },
});
