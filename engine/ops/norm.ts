// Normalisation ops: instanceNorm and batchNorm (training with batch statistics and in-place
// running-stat updates, eval with running statistics), each with an optional fused activation.
// Host side of shaders/norm.ts.
//
// Forward: one fused kernel (statistics by workgroup reduction, then normalise + affine + act).
// Backward: when createGraph is off (grad disabled inside the backward) a fused kernel gives dx and
// the per-group sums behind dgamma/dbeta; with createGraph on, the same formula is built from ops
// (mean/sub/mul/rsqrt) with the statistics recomputed from x, so gradients of gradients work.
import {
  normForwardSource,
  normBackwardSource,
  normEvalSource,
  normKey,
  normForwardBindings,
  normBackwardBindings,
  normEvalBindings,
  NORM_WG,
  NORM_MAX_CACHE,
  NORM_MAX_CACHE_BACKWARD,
  NORM_ACC_DX,
  NORM_ACC_SUM_G,
  NORM_ACC_SUM_GX,
  normThreads,
  instanceRunningSource,
  INSTANCE_RUNNING_BINDINGS,
  type NormAct,
  type NormKind,
  type NormKernelOptions,
} from '../../shaders/norm.js';
import { type Tensor, empty, checkFloat, fmtShape, numel } from '../tensor.js';
import { record, isGradEnabled, accumulationTarget } from '../tape.js';
import { launch, grid1d, f32 } from './kernel.js';
import { fixedSubgroupSize, softwareSubgroupSize } from './matmul.js';
import { registerOp, type HostTensor } from './registry.js';
import { sub, mul, rsqrt, square, addScalar, affine, stepMask } from './elementwise.js';
import { mean, sum } from './reduce.js';
import { reshape } from './movement.js';
import { instanceNormCpu, batchNormTrainCpu, batchNormEvalCpu } from './cpu/nn.js';

export type NormActivation = 'relu' | 'leaky_relu';

export interface InstanceNormOptions {
  eps?: number;
  /** Activation fused into the normalise pass (still differentiable). */
  activation?: NormActivation;
  /** Leaky ReLU negative slope (default 0.01); must be >= 0. */
  slope?: number;
  /**
   * A tensor of x's shape added to the output in the same kernel: y = residual + norm(x) (a ResNet
   * block's `x + F(x)` with F's last norm; no activation). Its gradient is the output's.
   */
  residual?: Tensor;
  /**
   * Instance norm only (batchNorm has its own): [C] running statistics updated in place on the GPU,
   * as PyTorch's InstanceNorm with track_running_stats does while training: running = (1 -
   * momentum) * running + momentum * (the batch average of the per-instance mean / unbiased
   * variance). Not differentiable; the output still uses the input's own statistics.
   */
  runningMean?: Tensor;
  runningVar?: Tensor;
  /** Weight of the new statistics in the running update (default 0.1). */
  momentum?: number;
}

export interface BatchNormOptions extends InstanceNormOptions {
  /** true: batch statistics (and running-stat update); false: running statistics. */
  training: boolean;
  runningMean?: Tensor;
  runningVar?: Tensor;
  momentum?: number;
  /**
   * An int32 scalar (BatchNorm's num_batches_tracked) that a training forward adds 1 to, in the
   * same dispatch as the statistics.
   */
  numBatchesTracked?: Tensor;
}

interface Geometry {
  kind: NormKind;
  N: number;
  C: number;
  /** Elements per (n, c) plane. */
  plane: number;
  /** Groups (one workgroup each) and elements per group. */
  G: number;
  M: number;
}

function geometry(kind: NormKind, x: Tensor): Geometry {
  const [N, C] = x.shape;
  const plane = numel(x.shape.slice(2));
  return kind === 'instance' ? { kind, N, C, plane, G: N * C, M: plane } : { kind, N, C, plane, G: C, M: N * plane };
}

function checkParam(op: string, t: Tensor | null | undefined, C: number, what: string, x: Tensor): void {
  if (!t) return;
  checkFloat(op, t);
  if (t.rank !== 1 || t.shape[0] !== C) {
    throw new Error(
      `${op}: ${what} has shape ${fmtShape(t.shape)} but x ${fmtShape(x.shape)} has ${C} channels; pass a [${C}] tensor (or null for none)`,
    );
  }
}

function actOf(op: string, opts: InstanceNormOptions): { act: NormAct; slope: number } {
  const act = opts.activation ?? 'none';
  if (act !== 'none' && act !== 'relu' && act !== 'leaky_relu')
    throw new Error(`${op}: unknown activation '${String(act)}'; use 'relu' or 'leaky_relu'`);
  const slope = act === 'leaky_relu' ? (opts.slope ?? 0.01) : 0;
  if (!(slope >= 0))
    throw new Error(`${op}: fused leaky_relu needs slope >= 0 (got ${slope}); apply leakyRelu() separately for a negative slope`);
  return { act, slope };
}

/**
 * Which form the training-norm kernels take: 'auto' (one subgroup per group with subgroupAdd
 * reductions on software adapters with a fixed subgroup size, the workgroup tree on GPUs),
 * 'subgroup' or 'workgroup' (tests force each in turn).
 */
export const normKernelForm = { choice: 'auto' as 'auto' | 'subgroup' | 'workgroup' };

/** The subgroup size of the one-subgroup form for this launch, or 0 for the workgroup-tree form. */
function normSub(op: string): number {
  const c = normKernelForm.choice;
  if (c === 'workgroup') return 0;
  if (c === 'subgroup') {
    const sg = fixedSubgroupSize();
    if (!sg)
      throw new Error(`${op}: normKernelForm 'subgroup' needs the 'subgroups' feature with a fixed subgroup size; this device has none`);
    return sg;
  }
  return softwareSubgroupSize();
}

/** Items each thread keeps in registers: the smallest power of two that holds its share, or 0. */
function cacheSize(items: number, max: number, threads: number): number {
  const per = Math.ceil(items / threads);
  for (let k = 1; k <= max; k *= 2) if (per <= k) return k;
  return 0;
}

function groupGrid(G: number): [number, number, number] {
  const gx = Math.min(G, 65535);
  return [gx, Math.ceil(G / gx), 1];
}

/** Shape [1, C, 1, ...] that broadcasts a per-channel vector against x. */
const chanShape = (x: Tensor, C: number): number[] => [1, C, ...Array<number>(x.rank - 2).fill(1)];

// ---- forward kernels ------------------------------------------------------------------------------

function forwardRaw(
  op: string,
  geo: Geometry,
  x: Tensor,
  gamma: Tensor | null,
  beta: Tensor | null,
  eps: number,
  act: NormAct,
  slope: number,
  running: { mean: Tensor | null; var: Tensor | null; momentum: number } | null,
  counter: Tensor | null = null,
  residual: Tensor | null = null,
): { y: Tensor; stats: Tensor } {
  const vec4 = geo.plane % 4 === 0;
  const VW = vec4 ? 4 : 1;
  const P = geo.plane / VW;
  const items = geo.M / VW;
  // The kernel updates both running buffers together; a missing one gets a scratch buffer.
  const run = running && (running.mean || running.var) ? running : null;
  const sg = normSub(op);
  const o: NormKernelOptions = {
    kind: geo.kind,
    vec4,
    gamma: !!gamma,
    beta: !!beta,
    act,
    running: !!run,
    cache: cacheSize(items, NORM_MAX_CACHE, normThreads({ sub: sg })),
    counter: !!counter,
    residual: !!residual,
    sub: sg,
  };
  const y = empty(x.shape, op);
  const stats = empty([geo.G, 2], `${op}_stats`);
  const scratch = run && (!run.mean || !run.var) ? empty([geo.C], op) : null;
  const runMean = run ? (run.mean ?? scratch) : null;
  const runVar = run ? (run.var ?? scratch) : null;
  // Instance norm: the forward writes each group's statistics into these, then instance_running
  // folds them into the running buffers.
  const groupMean = run && geo.kind === 'instance' ? empty([geo.G], `${op}_group_mean`) : null;
  const groupVar = groupMean ? empty([geo.G], `${op}_group_var`) : null;
  const rm = groupMean ?? runMean;
  const rv = groupVar ?? runVar;
  const tensors = [
    x,
    ...(gamma ? [gamma] : []),
    ...(beta ? [beta] : []),
    ...(residual ? [residual] : []),
    y,
    stats,
    ...(rm && rv ? [rm, rv] : []),
    ...(counter ? [counter] : []),
  ];
  if (geo.G > 0 && geo.M > 0) {
    launch(
      { key: normKey('norm_forward', o), code: () => normForwardSource(o), bindings: normForwardBindings(o), op },
      tensors,
      [
        geo.G,
        items,
        P,
        geo.C,
        f32(1 / geo.M),
        f32(eps),
        f32(slope),
        f32(run?.momentum ?? 0),
        f32(geo.M > 1 ? geo.M / (geo.M - 1) : 0),
        0,
        0,
        0,
      ],
      groupGrid(geo.G),
      { op, bytes: (residual ? 12 : 8) * x.size },
    );
    if (run && groupMean && groupVar) {
      launch(
        { key: 'instance_running', code: instanceRunningSource, bindings: INSTANCE_RUNNING_BINDINGS, op },
        [groupMean, groupVar, runMean!, runVar!],
        [geo.N, geo.C, f32(run.momentum), f32(1 / geo.N)],
        grid1d(geo.C, 64),
        { op, bytes: 4 * (2 * geo.G + 4 * geo.C) },
      );
    }
  }
  groupMean?.dispose();
  groupVar?.dispose();
  scratch?.dispose();
  return { y, stats };
}

// ---- backward -------------------------------------------------------------------------------------

interface NormGrads {
  dx: Tensor | null;
  dgamma: Tensor | null;
  dbeta: Tensor | null;
}

/** Gradient at the affine output z: dy * act'(z), with the mask read off y (constant, no gradient). */
function gradAtZ(g: Tensor, y: Tensor, act: NormAct, slope: number): Tensor {
  if (act === 'none') return g;
  const step = stepMask(y);
  return mul(g, act === 'relu' ? step : affine(step, 1 - slope, slope));
}

/** Reduction axes of the statistics, and of dgamma/dbeta (every axis but 1). */
function statAxes(kind: NormKind, rank: number): number[] {
  const spatial = [...Array(rank).keys()].slice(2);
  return kind === 'instance' ? spatial : [0, ...spatial];
}

/** The backward built from differentiable ops (statistics recomputed from x). */
function backwardComposed(
  geo: Geometry,
  g: Tensor,
  x: Tensor,
  y: Tensor,
  gamma: Tensor | null,
  eps: number,
  act: NormAct,
  slope: number,
  want: boolean[],
): NormGrads {
  const axes = statAxes(geo.kind, x.rank);
  const paramAxes = statAxes('batch', x.rank);
  const mu = mean(x, axes, true);
  const xc = sub(x, mu);
  const rstd = rsqrt(addScalar(mean(square(xc), axes, true), eps));
  const xhat = mul(xc, rstd);
  const gz = gradAtZ(g, y, act, slope);
  let dx: Tensor | null = null;
  if (want[0]) {
    const dxhat = gamma ? mul(gz, reshape(gamma, chanShape(x, geo.C))) : gz;
    const inner = sub(sub(dxhat, mean(dxhat, axes, true)), mul(xhat, mean(mul(dxhat, xhat), axes, true)));
    dx = mul(rstd, inner);
  }
  const dgamma = want[1] ? reshape(sum(mul(gz, xhat), paramAxes), [geo.C]) : null;
  const dbeta = want[2] ? reshape(sum(gz, paramAxes), [geo.C]) : null;
  return { dx, dgamma, dbeta };
}

/**
 * The fused backward kernel (not differentiable itself: only used with createGraph off). Where the
 * tape offers accumulation targets (accumulationTarget) for x, gamma or beta, the kernel adds dx,
 * and for per-channel sums (batch norm, or instance norm of one image) dgamma / dbeta, into them.
 */
function backwardFused(
  op: string,
  geo: Geometry,
  g: Tensor,
  x: Tensor,
  y: Tensor,
  stats: Tensor,
  gamma: Tensor | null,
  beta: Tensor | null,
  act: NormAct,
  slope: number,
  want: boolean[],
): NormGrads {
  const vec4 = geo.plane % 4 === 0;
  const VW = vec4 ? 4 : 1;
  const items = geo.M / VW;
  const sg = normSub(op);
  const o: NormKernelOptions = {
    kind: geo.kind,
    vec4,
    gamma: !!gamma,
    beta: false,
    act,
    running: false,
    cache: cacheSize(items, NORM_MAX_CACHE_BACKWARD, normThreads({ sub: sg })),
    sub: sg,
  };
  // Per-group sums are dbeta/dgamma for batch norm; instance norm adds them up over n (a view for N = 1).
  const direct = geo.kind === 'batch' || geo.N === 1;
  const tx = want[0] ? accumulationTarget(x) : null;
  const tb = direct && want[2] && beta ? accumulationTarget(beta) : null;
  const tg = direct && want[1] && gamma ? accumulationTarget(gamma) : null;
  const dx = tx ?? empty(x.shape, `${op}_backward`);
  const sumG = tb ?? empty([geo.G], `${op}_backward`);
  const sumGX = tg ?? empty([geo.G], `${op}_backward`);
  const acc = (tx ? NORM_ACC_DX : 0) | (tb ? NORM_ACC_SUM_G : 0) | (tg ? NORM_ACC_SUM_GX : 0);
  launch(
    { key: normKey('norm_backward', o), code: () => normBackwardSource(o), bindings: normBackwardBindings(o), op: `${op}_backward` },
    [g, x, stats, ...(gamma ? [gamma] : []), ...(act !== 'none' ? [y] : []), dx, sumG, sumGX],
    [geo.G, items, geo.plane / VW, geo.C, f32(1 / geo.M), f32(slope), acc, 0],
    groupGrid(geo.G),
    { op: `${op}_backward`, bytes: (act !== 'none' ? 16 : 12) * x.size },
  );
  const perChannel = (t: Tensor, accumulated: boolean) =>
    accumulated ? t : direct ? reshape(t, [geo.C]) : sum(reshape(t, [geo.N, geo.C]), 0);
  const dbeta = want[2] ? perChannel(sumG, !!tb) : null;
  const dgamma = want[1] ? perChannel(sumGX, !!tg) : null;
  return { dx: want[0] ? dx : (dx.dispose(), null), dgamma, dbeta };
}

/** Records the training-statistics op (instance norm, batch norm in training); `residual` was added to y. */
function recordTrainNorm(
  op: string,
  geo: Geometry,
  x: Tensor,
  gamma: Tensor | null,
  beta: Tensor | null,
  y: Tensor,
  stats: Tensor,
  eps: number,
  act: NormAct,
  slope: number,
  residual: Tensor | null = null,
): Tensor {
  const inputs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : []), ...(residual ? [residual] : [])];
  return record(
    y,
    op,
    inputs,
    (g) => {
      const want = [x.requiresGrad, !!gamma?.requiresGrad, !!beta?.requiresGrad];
      const r =
        !isGradEnabled() && !stats.isDisposed
          ? backwardFused(op, geo, g, x, y, stats, gamma, beta, act, slope, want)
          : backwardComposed(geo, g, x, y, gamma, eps, act, slope, want);
      return [r.dx, ...(gamma ? [r.dgamma] : []), ...(beta ? [r.dbeta] : []), ...(residual ? [residual.requiresGrad ? g : null] : [])];
    },
    // The backward reads x (and gamma); not the residual.
    residual ? [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])] : undefined,
  );
}

/** Checks a fused residual: x's shape, float, and no activation (its mask would need y - residual). */
function checkResidual(op: string, x: Tensor, residual: Tensor | undefined, act: NormAct): Tensor | null {
  if (!residual) return null;
  checkFloat(op, residual);
  if (residual.shape.length !== x.shape.length || residual.shape.some((d, i) => d !== x.shape[i]))
    throw new Error(`${op}: residual ${fmtShape(residual.shape)} must have x's shape ${fmtShape(x.shape)} (y = residual + norm(x))`);
  if (act !== 'none')
    throw new Error(`${op}: a residual with a fused activation ('${act}') is not supported; add the residual after the activation instead`);
  return residual;
}

// ---- public ops -----------------------------------------------------------------------------------

/**
 * Instance normalisation over x [N, C, ...spatial] (statistics per (n, c) over the spatial dims,
 * biased variance), then y = act(xhat * gamma[c] + beta[c]). gamma/beta: [C] or null.
 */
export function instanceNorm(x: Tensor, gamma: Tensor | null = null, beta: Tensor | null = null, opts: InstanceNormOptions = {}): Tensor {
  const op = 'instance_norm';
  checkFloat(op, x);
  if (x.rank < 3)
    throw new Error(`instance_norm: x must be [N, C, H, W] (or [N, C, ...spatial]), got ${fmtShape(x.shape)}; use batchNorm or reshape`);
  const geo = geometry('instance', x);
  checkParam(op, gamma, geo.C, 'gamma', x);
  checkParam(op, beta, geo.C, 'beta', x);
  const eps = opts.eps ?? 1e-5;
  const { act, slope } = actOf(op, opts);
  const residual = checkResidual(op, x, opts.residual, act);
  checkParam(op, opts.runningMean, geo.C, 'runningMean', x);
  checkParam(op, opts.runningVar, geo.C, 'runningVar', x);
  const running =
    opts.runningMean || opts.runningVar
      ? { mean: opts.runningMean ?? null, var: opts.runningVar ?? null, momentum: opts.momentum ?? 0.1 }
      : null;
  const { y, stats } = forwardRaw(op, geo, x, gamma, beta, eps, act, slope, running, null, residual);
  return recordTrainNorm(op, geo, x, gamma, beta, y, stats, eps, act, slope, residual);
}

/**
 * Batch normalisation over x [N, C] or [N, C, ...spatial] (statistics per channel over every other
 * axis). training: batch statistics (biased variance) normalise x, and runningMean/runningVar (when
 * given) are updated in place on the GPU with PyTorch's rule running = (1 - momentum) * running +
 * momentum * stat (unbiased variance); not differentiable. eval: normalise with the running stats.
 */
export function batchNorm(x: Tensor, gamma: Tensor | null, beta: Tensor | null, opts: BatchNormOptions): Tensor {
  const op = 'batch_norm';
  checkFloat(op, x);
  if (x.rank < 2) throw new Error(`batch_norm: x must be [N, C] or [N, C, H, W], got ${fmtShape(x.shape)}`);
  const geo = geometry('batch', x);
  checkParam(op, gamma, geo.C, 'gamma', x);
  checkParam(op, beta, geo.C, 'beta', x);
  checkParam(op, opts.runningMean, geo.C, 'runningMean', x);
  checkParam(op, opts.runningVar, geo.C, 'runningVar', x);
  const nbt = opts.numBatchesTracked;
  if (nbt && (nbt.dtype !== 'int32' || nbt.size !== 1)) {
    throw new Error(`batch_norm: numBatchesTracked must be an int32 tensor of one element, got ${nbt.describe()}`);
  }
  const eps = opts.eps ?? 1e-5;
  const { act, slope } = actOf(op, opts);
  if (opts.training) {
    if (geo.M <= 1) {
      throw new Error(
        `batch_norm: training needs more than 1 value per channel, got x ${fmtShape(x.shape)}; use a batch of 2 or more, or eval mode (training: false)`,
      );
    }
    const momentum = opts.momentum ?? 0.1;
    const running = opts.runningMean || opts.runningVar ? { mean: opts.runningMean ?? null, var: opts.runningVar ?? null, momentum } : null;
    const residual = checkResidual(op, x, opts.residual, act);
    const { y, stats } = forwardRaw(op, geo, x, gamma, beta, eps, act, slope, running, nbt ?? null, residual);
    return recordTrainNorm(op, geo, x, gamma, beta, y, stats, eps, act, slope, residual);
  }
  const rm = opts.runningMean;
  const rv = opts.runningVar;
  if (!rm || !rv) throw new Error(`batch_norm: eval mode (training: false) needs runningMean and runningVar ([${geo.C}] tensors)`);
  if (opts.residual) throw new Error('batch_norm: a fused residual is for training mode only; add it after the eval-mode norm');
  return batchNormEval(geo, x, gamma, beta, rm, rv, eps, act, slope);
}

function batchNormEval(
  geo: Geometry,
  x: Tensor,
  gamma: Tensor | null,
  beta: Tensor | null,
  rm: Tensor,
  rv: Tensor,
  eps: number,
  act: NormAct,
  slope: number,
): Tensor {
  const op = 'batch_norm';
  const vec4 = geo.plane % 4 === 0;
  const VW = vec4 ? 4 : 1;
  const o: NormKernelOptions = { kind: 'batch', vec4, gamma: !!gamma, beta: !!beta, act, running: false, cache: 0 };
  const y = empty(x.shape, op);
  const n = x.size / VW;
  if (n > 0) {
    launch(
      { key: normKey('norm_eval', o), code: () => normEvalSource(o), bindings: normEvalBindings(o), op },
      [x, rm, rv, ...(gamma ? [gamma] : []), ...(beta ? [beta] : []), y],
      [n, geo.plane / VW, geo.C, 0, f32(eps), f32(slope), 0, 0],
      grid1d(n, NORM_WG),
      { op, bytes: 8 * x.size },
    );
  }
  const inputs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  return record(y, op, inputs, (g) => {
    // Linear in x given the running stats: dx = gz * gamma * rstd; all from ops.
    const cs = chanShape(x, geo.C);
    const rstd = reshape(rsqrt(addScalar(rv, eps)), cs);
    const gz = gradAtZ(g, y, act, slope);
    const paramAxes = statAxes('batch', x.rank);
    const dx = x.requiresGrad ? mul(gz, gamma ? mul(rstd, reshape(gamma, cs)) : rstd) : null;
    const dgamma = gamma?.requiresGrad ? reshape(sum(mul(gz, mul(sub(x, reshape(rm, cs)), rstd)), paramAxes), [geo.C]) : null;
    const dbeta = beta?.requiresGrad ? reshape(sum(gz, paramAxes), [geo.C]) : null;
    return [dx, ...(gamma ? [dgamma] : []), ...(beta ? [dbeta] : [])];
  });
}

// ---- registry -------------------------------------------------------------------------------------

function applyAct(y: HostTensor, act: string | undefined, slope: number): HostTensor {
  if (!act) return y;
  return { shape: y.shape, data: y.data.map((v) => (v > 0 ? v : act === 'relu' ? 0 : slope * v)) };
}

interface NormAttrs {
  affine?: boolean;
  act?: NormActivation;
  slope?: number;
  eps?: number;
}

const normOpts = (a: NormAttrs): InstanceNormOptions => ({ eps: a.eps, activation: a.act, slope: a.slope });

// Inputs: x, then gamma and beta when attrs.affine.
registerOp({
  name: 'instance_norm',
  run: ([x, g, b], a) => instanceNorm(x, g ?? null, b ?? null, normOpts(a as NormAttrs)),
  reference: ([x, g, b], a) => {
    const at = a as NormAttrs;
    return applyAct(instanceNormCpu(x, g ?? null, b ?? null, at.eps ?? 1e-5), at.act, at.slope ?? 0.01);
  },
  doubleBackward: true,
});

registerOp({
  name: 'batch_norm',
  run: ([x, g, b, rm, rv], a) => {
    const at = a as NormAttrs & { training?: boolean };
    return batchNorm(x, g ?? null, b ?? null, { ...normOpts(at), training: at.training !== false, runningMean: rm, runningVar: rv });
  },
  reference: ([x, g, b, rm, rv], a) => {
    const at = a as NormAttrs & { training?: boolean };
    const y =
      at.training === false
        ? batchNormEvalCpu(x, rm, rv, g ?? null, b ?? null, at.eps ?? 1e-5)
        : batchNormTrainCpu(x, g ?? null, b ?? null, at.eps ?? 1e-5).y;
    return applyAct(y, at.act, at.slope ?? 0.01);
  },
  doubleBackward: true,
  // The running variance must be positive.
  sample: (shape, i, rand) =>
    Float64Array.from({ length: numel(shape) }, () => {
      const r = rand();
      return i === 4 ? 0.3 + r : (r < 0.5 ? -1 : 1) * (0.05 + 1.9 * Math.abs(r - 0.5));
    }),
});
