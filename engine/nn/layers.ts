// The standard layers, mirroring torch.nn: same constructor arguments (camelCased options), same
// parameter and buffer names (so PyTorch state_dicts load as they are), same default
// initialisation (kaiming_uniform with a = sqrt(5) for weights, uniform(+-1/sqrt(fan_in)) for
// biases), same printed form. Each forward is one or two engine ops (engine/ops).
// Engine conventions differ from PyTorch's in one place: explicit 4-sided paddings are
// [top, bottom, left, right] everywhere (PyTorch's pad layers take (left, right, top, bottom)).

import { type Tensor, empty, fmtShape, tensor } from '../tensor.js';
import { noGrad } from '../tape.js';
import { conv2d, convTranspose2d } from '../ops/conv.js';
import { linear } from '../ops/matmul.js';
import {
  batchNorm,
  instanceNorm,
  pad2d,
  upsampleNearest,
  upsampleBilinear,
  avgPool2d,
  relu,
  leakyRelu,
  tanh,
  sigmoid,
  reshape,
  ones,
  zeros,
} from '../ops/index.js';
import { dropout, type Generator } from '../ops/random.js';
import { kaimingUniform_, uniform_ } from '../init.js';
import { Module, Parameter, type FusedActivation } from './module.js';

// ---- argument helpers ----------------------------------------------------------------------------

export type Size2 = number | readonly [number, number];
/** number (all sides), [ph, pw] (top/bottom, left/right) or [top, bottom, left, right]. */
export type Padding2d = number | readonly [number, number] | readonly [number, number, number, number];
export type PaddingMode = 'zeros' | 'reflect' | 'replicate';

const pair = (v: Size2): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/** Any Padding2d as [top, bottom, left, right]. */
export function paddingTBLR(p: Padding2d): [number, number, number, number] {
  if (typeof p === 'number') return [p, p, p, p];
  if (p.length === 2) return [p[0], p[0], p[1], p[1]];
  return [p[0], p[1], p[2], p[3]];
}

function checkPositiveInt(where: string, what: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${where}: ${what} must be a positive integer, got ${v}`);
}

/** Python's repr of a float (1e-05, 0.1, 2.0), as PyTorch prints hyperparameters. */
function pyFloat(v: number): string {
  if (Number.isInteger(v)) return v.toFixed(1);
  if (v !== 0 && Math.abs(v) < 1e-4) return v.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return String(v);
}
const pyTuple = (v: readonly number[]) => `(${v.join(', ')})`;
const pyBool = (b: boolean) => (b ? 'True' : 'False');

function checkInput(where: string, x: Tensor, rank: number | number[], channels?: number): void {
  const ranks = typeof rank === 'number' ? [rank] : rank;
  if (!ranks.includes(x.rank)) {
    throw new Error(
      `${where}: expects a ${ranks.join('-D or ')}-D input (${ranks.includes(4) ? 'N, C, H, W' : 'N, C, ...'}), got ${fmtShape(x.shape)}`,
    );
  }
  if (channels !== undefined && x.shape[1] !== channels) {
    throw new Error(`${where}: expects ${channels} input channels (dim 1), got an input of shape ${fmtShape(x.shape)}`);
  }
}

/** PyTorch's default init for conv and linear layers: weight kaiming_uniform(a = sqrt(5)), bias U(+-1/sqrt(fan_in)). */
function defaultInit(weight: Tensor, bias: Tensor | null, fanIn: number): void {
  noGrad(() => {
    kaimingUniform_(weight, { a: Math.sqrt(5) });
    if (bias) {
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform_(bias, -bound, bound);
    }
  });
}

// ---- convolution and linear -----------------------------------------------------------------------

export interface Conv2dOptions {
  stride?: Size2;
  padding?: Padding2d;
  dilation?: Size2;
  bias?: boolean;
  paddingMode?: PaddingMode;
}

/** 2-D convolution; weight [out, in, kh, kw], bias [out]. */
export class Conv2d extends Module {
  weight: Tensor;
  bias: Tensor | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: Padding2d;
  readonly dilation: [number, number];
  readonly paddingMode: PaddingMode;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Size2,
    opts: Conv2dOptions = {},
  ) {
    super();
    checkPositiveInt('Conv2d', 'inChannels', inChannels);
    checkPositiveInt('Conv2d', 'outChannels', outChannels);
    this.kernelSize = pair(kernelSize);
    this.stride = pair(opts.stride ?? 1);
    this.padding = opts.padding ?? 0;
    this.dilation = pair(opts.dilation ?? 1);
    this.paddingMode = opts.paddingMode ?? 'zeros';
    const [kh, kw] = this.kernelSize;
    this.weight = Parameter(empty([outChannels, inChannels, kh, kw], 'Conv2d.weight'));
    this.bias = (opts.bias ?? true) ? Parameter(empty([outChannels], 'Conv2d.bias')) : null;
    defaultInit(this.weight, this.bias, inChannels * kh * kw);
  }

  override forward(x: Tensor): Tensor {
    checkInput(this.typeName, x, 4, this.inChannels);
    // Reflect / replicate padding is folded into the conv's gathers (no padded copy of x).
    return conv2d(x, this.weight, this.bias, {
      stride: this.stride,
      dilation: this.dilation,
      padding: paddingTBLR(this.padding),
      paddingMode: this.paddingMode,
    });
  }

  /**
   * forward(pad2d(x, pad, mode)) for a Conv2d without padding of its own: Sequential's fusion of a
   * ReflectionPad2d / ReplicationPad2d followed by this conv.
   */
  forwardPadded(x: Tensor, pad: [number, number, number, number], mode: 'reflect' | 'replicate'): Tensor {
    checkInput(this.typeName, x, 4, this.inChannels);
    return conv2d(x, this.weight, this.bias, { stride: this.stride, dilation: this.dilation, padding: pad, paddingMode: mode });
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}, kernel_size=${pyTuple(this.kernelSize)}, stride=${pyTuple(this.stride)}`];
    const p = paddingTBLR(this.padding);
    if (p.some((v) => v !== 0)) parts.push(`padding=${p[0] === p[1] && p[2] === p[3] ? pyTuple([p[0], p[2]]) : pyTuple(p)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${pyTuple(this.dilation)}`);
    if (!this.bias) parts.push('bias=False');
    if (this.paddingMode !== 'zeros') parts.push(`padding_mode=${this.paddingMode}`);
    return parts.join(', ');
  }
}

export interface ConvTranspose2dOptions {
  stride?: Size2;
  padding?: Padding2d;
  outputPadding?: Size2;
  dilation?: Size2;
  bias?: boolean;
}

/** 2-D transposed convolution; weight [in, out, kh, kw] (PyTorch's layout), bias [out]. */
export class ConvTranspose2d extends Module {
  weight: Tensor;
  bias: Tensor | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: Padding2d;
  readonly outputPadding: [number, number];
  readonly dilation: [number, number];

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Size2,
    opts: ConvTranspose2dOptions = {},
  ) {
    super();
    checkPositiveInt('ConvTranspose2d', 'inChannels', inChannels);
    checkPositiveInt('ConvTranspose2d', 'outChannels', outChannels);
    this.kernelSize = pair(kernelSize);
    this.stride = pair(opts.stride ?? 1);
    this.padding = opts.padding ?? 0;
    this.outputPadding = pair(opts.outputPadding ?? 0);
    this.dilation = pair(opts.dilation ?? 1);
    const [kh, kw] = this.kernelSize;
    this.weight = Parameter(empty([inChannels, outChannels, kh, kw], 'ConvTranspose2d.weight'));
    this.bias = (opts.bias ?? true) ? Parameter(empty([outChannels], 'ConvTranspose2d.bias')) : null;
    // PyTorch computes fan_in from dim 1 of the weight, which for a transposed conv is out_channels.
    defaultInit(this.weight, this.bias, outChannels * kh * kw);
  }

  override forward(x: Tensor): Tensor {
    checkInput(this.typeName, x, 4, this.inChannels);
    return convTranspose2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: paddingTBLR(this.padding),
      outputPadding: this.outputPadding,
      dilation: this.dilation,
    });
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}, kernel_size=${pyTuple(this.kernelSize)}, stride=${pyTuple(this.stride)}`];
    const p = paddingTBLR(this.padding);
    if (p.some((v) => v !== 0)) parts.push(`padding=${p[0] === p[1] && p[2] === p[3] ? pyTuple([p[0], p[2]]) : pyTuple(p)}`);
    if (this.outputPadding.some((v) => v !== 0)) parts.push(`output_padding=${pyTuple(this.outputPadding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${pyTuple(this.dilation)}`);
    if (!this.bias) parts.push('bias=False');
    return parts.join(', ');
  }
}

/** y = x W^T + b; weight [out, in], bias [out]. */
export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: { bias?: boolean } = {},
  ) {
    super();
    checkPositiveInt('Linear', 'inFeatures', inFeatures);
    checkPositiveInt('Linear', 'outFeatures', outFeatures);
    this.weight = Parameter(empty([outFeatures, inFeatures], 'Linear.weight'));
    this.bias = (opts.bias ?? true) ? Parameter(empty([outFeatures], 'Linear.bias')) : null;
    defaultInit(this.weight, this.bias, inFeatures);
  }

  override forward(x: Tensor): Tensor {
    if (x.rank < 1 || x.shape[x.rank - 1] !== this.inFeatures) {
      throw new Error(`${this.typeName}: expects inputs whose last dim is ${this.inFeatures}, got ${fmtShape(x.shape)}`);
    }
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${pyBool(!!this.bias)}`;
  }
}

// ---- normalisation --------------------------------------------------------------------------------

export interface NormOptions {
  eps?: number;
  /** Running-average factor (PyTorch's cumulative average, momentum = None, is not supported). */
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
}

/** Shared by batch and instance norm: affine weight/bias and the running-statistics buffers. */
abstract class NormBase extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  readonly eps: number;
  readonly momentum: number;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;

  constructor(
    readonly numFeatures: number,
    opts: NormOptions,
    defaults: { affine: boolean; trackRunningStats: boolean },
  ) {
    super();
    checkPositiveInt(new.target.name, 'numFeatures', numFeatures);
    this.eps = opts.eps ?? 1e-5;
    if (opts.momentum === null)
      throw new Error(`${new.target.name}: momentum = null (cumulative moving average) is not supported; pass a number (default 0.1)`);
    this.momentum = opts.momentum ?? 0.1;
    this.affine = opts.affine ?? defaults.affine;
    this.trackRunningStats = opts.trackRunningStats ?? defaults.trackRunningStats;
    this.weight = this.affine ? Parameter(ones([numFeatures])) : null;
    this.bias = this.affine ? Parameter(zeros([numFeatures])) : null;
    if (this.trackRunningStats) {
      this.registerBuffer('running_mean', zeros([numFeatures]));
      this.registerBuffer('running_var', ones([numFeatures]));
      // PyTorch fills a missing num_batches_tracked in (state dicts without version metadata).
      this.registerBuffer('num_batches_tracked', tensor([0], [], 'int32'), { optional: true });
    }
  }

  get runningMean(): Tensor | null {
    return this.trackRunningStats ? this.getBuffer('running_mean') : null;
  }
  get runningVar(): Tensor | null {
    return this.trackRunningStats ? this.getBuffer('running_var') : null;
  }
  get numBatchesTracked(): Tensor | null {
    return this.trackRunningStats ? this.getBuffer('num_batches_tracked') : null;
  }

  /** Resets running statistics to mean 0, variance 1 and the batch counter to 0. */
  resetRunningStats(): void {
    if (!this.trackRunningStats) return;
    this.runningMean!.engine.upload(this.runningMean!.buffer, new Float32Array(this.numFeatures));
    this.runningVar!.engine.upload(this.runningVar!.buffer, new Float32Array(this.numFeatures).fill(1));
    this.numBatchesTracked!.engine.upload(this.numBatchesTracked!.buffer, new Int32Array(1));
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${pyFloat(this.momentum)}, affine=${pyBool(this.affine)}, track_running_stats=${pyBool(this.trackRunningStats)}`;
  }

  /** The normalisation with an activation applied in the same kernel (forward and backward). */
  abstract forwardAct(x: Tensor, act?: FusedActivation): Tensor;

  /**
   * Sequential's fusion hook: a ReLU or a LeakyReLU with a non-negative slope that follows this
   * norm (exactly those classes, so an overridden forward is never skipped) runs inside the norm's
   * kernels. Same values as the two layers one after the other.
   */
  override fusedWith(next: Module): ((x: Tensor) => Tensor) | null {
    if (!isPlainNormClass(this)) return null;
    const act = activationOf(next);
    return act ? (x) => this.forwardAct(x, act) : null;
  }
}

/** A ReLU or LeakyReLU (slope >= 0) as the norm kernels' fused activation, else null. */
function activationOf(m: Module): FusedActivation | null {
  if (m.constructor === ReLU) return { activation: 'relu' };
  if (m.constructor === LeakyReLU && (m as LeakyReLU).negativeSlope >= 0)
    return { activation: 'leaky_relu', slope: (m as LeakyReLU).negativeSlope };
  return null;
}

/** The norm layers whose forward is forwardAct(x) (a subclass may override forward: not fused). */
function isPlainNormClass(m: Module): boolean {
  return m.constructor === BatchNorm2d || m.constructor === BatchNorm1d || m.constructor === InstanceNorm2d;
}

/** Batch norm over (N, H, W) per channel; running statistics updated in place while training. */
abstract class BatchNormBase extends NormBase {
  constructor(numFeatures: number, opts: NormOptions = {}) {
    super(numFeatures, opts, { affine: true, trackRunningStats: true });
  }

  protected normalize(x: Tensor, act?: FusedActivation): Tensor {
    const track = this.trackRunningStats;
    // As PyTorch: batch statistics while training or when no running statistics are kept.
    const training = this.training || !track;
    return batchNorm(x, this.weight, this.bias, {
      training,
      runningMean: track ? this.runningMean! : undefined,
      runningVar: track ? this.runningVar! : undefined,
      // num_batches_tracked += 1 inside the statistics kernel (no host round trip, no extra dispatch).
      numBatchesTracked: this.training && track ? this.numBatchesTracked! : undefined,
      momentum: this.momentum,
      eps: this.eps,
      ...act,
    });
  }

  override forward(x: Tensor): Tensor {
    return this.forwardAct(x);
  }
}

export class BatchNorm2d extends BatchNormBase {
  override forwardAct(x: Tensor, act?: FusedActivation): Tensor {
    checkInput(this.typeName, x, 4, this.numFeatures);
    return this.normalize(x, act);
  }
}

/** Batch norm for [N, C] or [N, C, L] inputs (statistics per channel over N and L). */
export class BatchNorm1d extends BatchNormBase {
  override forwardAct(x: Tensor, act?: FusedActivation): Tensor {
    checkInput(this.typeName, x, [2, 3], this.numFeatures);
    return this.normalize(x, act);
  }
}

/**
 * Instance norm (per sample and channel over H, W). Without running statistics (the default) it
 * always normalises with the input's own statistics. With trackRunningStats, training also updates
 * the running mean/var with the batch average of the per-instance statistics (unbiased variance),
 * and evaluation normalises with them, as PyTorch does.
 */
export class InstanceNorm2d extends NormBase {
  constructor(numFeatures: number, opts: NormOptions = {}) {
    super(numFeatures, opts, { affine: false, trackRunningStats: false });
  }

  override forward(x: Tensor): Tensor {
    return this.forwardAct(x);
  }

  /** `residual + this(x)` with the add in the norm kernel (not in eval mode with running statistics). */
  override withResidual(): ((x: Tensor, residual: Tensor) => Tensor) | null {
    if (this.constructor !== InstanceNorm2d || (this.trackRunningStats && !this.training)) return null;
    return (x, residual) => {
      checkInput(this.typeName, x, 4, this.numFeatures);
      return instanceNorm(x, this.weight, this.bias, { eps: this.eps, residual, ...this.runningOpts() });
    };
  }

  override forwardAct(x: Tensor, act?: FusedActivation): Tensor {
    checkInput(this.typeName, x, 4, this.numFeatures);
    if (this.trackRunningStats && !this.training) {
      return batchNorm(x, this.weight, this.bias, {
        training: false,
        runningMean: this.runningMean!,
        runningVar: this.runningVar!,
        momentum: this.momentum,
        eps: this.eps,
        ...act,
      });
    }
    return instanceNorm(x, this.weight, this.bias, { eps: this.eps, ...act, ...this.runningOpts() });
  }

  /** Training with running statistics: the norm kernel and one small kernel update them (PyTorch's rule). */
  private runningOpts(): { runningMean?: Tensor; runningVar?: Tensor; momentum?: number } {
    if (!this.trackRunningStats) return {};
    return { runningMean: this.runningMean!, runningVar: this.runningVar!, momentum: this.momentum };
  }
}

// ---- regularisation -------------------------------------------------------------------------------

/** Inverted dropout while training; the identity in eval mode. */
export class Dropout extends Module {
  constructor(
    readonly p = 0.5,
    readonly opts: { generator?: Generator } = {},
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout: p = ${p} must be in [0, 1]`);
  }
  override forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training, generator: this.opts.generator });
  }
  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=False`;
  }
}

// ---- activations and shape ------------------------------------------------------------------------

export class ReLU extends Module {
  override forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }
  override extraRepr(): string {
    return `negative_slope=${this.negativeSlope}`;
  }
}

export class Tanh extends Module {
  override forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

export class Sigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

export class Identity extends Module {
  override forward(x: Tensor): Tensor {
    return x;
  }
}

/** Flattens dims startDim..endDim into one (a view). */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }
  override forward(x: Tensor): Tensor {
    const s = this.startDim < 0 ? this.startDim + x.rank : this.startDim;
    const e = this.endDim < 0 ? this.endDim + x.rank : this.endDim;
    if (s < 0 || e >= x.rank || s > e)
      throw new Error(`${this.typeName}(${this.startDim}, ${this.endDim}): invalid dims for input ${fmtShape(x.shape)}`);
    const shape: number[] = [...x.shape.slice(0, s), x.shape.slice(s, e + 1).reduce((a, b) => a * b, 1), ...x.shape.slice(e + 1)];
    return reshape(x, shape);
  }
  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

/** Reshapes to [N, ...shape] (a view), e.g. after a Linear layer in a DCGAN generator. */
export class Unflatten extends Module {
  constructor(readonly shape: readonly number[]) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return reshape(x, [x.shape[0], ...this.shape]);
  }
  override extraRepr(): string {
    return `unflattened_size=${pyTuple(this.shape)}`;
  }
}

// ---- padding, resampling, pooling -----------------------------------------------------------------

abstract class Pad2dBase extends Module {
  readonly padding: [number, number, number, number];
  constructor(
    padding: Padding2d,
    readonly mode: 'zeros' | 'reflect' | 'replicate',
    readonly value = 0,
  ) {
    super();
    this.padding = paddingTBLR(padding);
    for (const p of this.padding)
      if (!Number.isInteger(p) || p < 0)
        throw new Error(`${new.target.name}: padding ${fmtShape(this.padding)} must be non-negative integers`);
  }
  override forward(x: Tensor): Tensor {
    checkInput(this.typeName, x, 4);
    return pad2d(x, this.padding, this.mode, this.value);
  }

  /** Sequential's fusion hook: reflect / replicate padding followed by an unpadded Conv2d pads inside the conv. */
  override fusedWith(next: Module): ((x: Tensor) => Tensor) | null {
    const mode = this.mode;
    const cls: unknown = this.constructor;
    if (mode === 'zeros' || !(cls === ReflectionPad2d || cls === ReplicationPad2d)) return null;
    if (next.constructor !== Conv2d) return null;
    const conv = next as Conv2d;
    if (conv.paddingMode !== 'zeros' || paddingTBLR(conv.padding).some((p) => p !== 0)) return null;
    return (x) => {
      checkInput(this.typeName, x, 4);
      return conv.forwardPadded(x, this.padding, mode);
    };
  }
  override extraRepr(): string {
    // PyTorch prints (left, right, top, bottom).
    const [t, b, l, r] = this.padding;
    return pyTuple([l, r, t, b]);
  }
}

/** Reflection padding; `padding` is a number or [top, bottom, left, right]. */
export class ReflectionPad2d extends Pad2dBase {
  constructor(padding: Padding2d) {
    super(padding, 'reflect');
  }
}

/** Edge-replicating padding; `padding` is a number or [top, bottom, left, right]. */
export class ReplicationPad2d extends Pad2dBase {
  constructor(padding: Padding2d) {
    super(padding, 'replicate');
  }
}

/** Zero (or constant) padding; `padding` is a number or [top, bottom, left, right]. */
export class ZeroPad2d extends Pad2dBase {
  constructor(padding: Padding2d) {
    super(padding, 'zeros');
  }
}

export interface UpsampleOptions {
  size?: Size2;
  scaleFactor?: number;
  mode?: 'nearest' | 'bilinear';
  alignCorners?: boolean;
}

export class Upsample extends Module {
  readonly mode: 'nearest' | 'bilinear';
  constructor(readonly opts: UpsampleOptions) {
    super();
    this.mode = opts.mode ?? 'nearest';
    if ((opts.size === undefined) === (opts.scaleFactor === undefined))
      throw new Error('Upsample: give exactly one of size and scaleFactor');
    if (this.mode === 'nearest' && opts.alignCorners) throw new Error(`Upsample: alignCorners only applies to mode 'bilinear'`);
  }
  override forward(x: Tensor): Tensor {
    checkInput(this.typeName, x, 4);
    const { size, scaleFactor } = this.opts;
    if (this.mode === 'bilinear') {
      return upsampleBilinear(x, {
        size: size === undefined ? undefined : pair(size),
        scale: scaleFactor,
        alignCorners: this.opts.alignCorners ?? false,
      });
    }
    let scale = scaleFactor;
    if (size !== undefined) {
      const [oh, ow] = pair(size);
      const [h, w] = [x.shape[2], x.shape[3]];
      if (oh % h !== 0 || ow % w !== 0 || oh / h !== ow / w)
        throw new Error(`Upsample(nearest): size ${pyTuple([oh, ow])} is not a uniform integer multiple of the input ${fmtShape(x.shape)}`);
      scale = oh / h;
    }
    if (!Number.isInteger(scale) || scale! < 1) throw new Error(`Upsample(nearest): scaleFactor must be a positive integer, got ${scale}`);
    return upsampleNearest(x, scale!);
  }
  override extraRepr(): string {
    const s =
      this.opts.size !== undefined
        ? `size=${typeof this.opts.size === 'number' ? this.opts.size : pyTuple(this.opts.size)}`
        : `scale_factor=${pyFloat(this.opts.scaleFactor!)}`;
    return `${s}, mode='${this.mode}'`;
  }
}

export class AvgPool2d extends Module {
  readonly stride: number;
  readonly padding: number;
  constructor(
    readonly kernelSize: number,
    opts: { stride?: number; padding?: number } = {},
  ) {
    super();
    checkPositiveInt('AvgPool2d', 'kernelSize', kernelSize);
    this.stride = opts.stride ?? kernelSize;
    this.padding = opts.padding ?? 0;
  }
  override forward(x: Tensor): Tensor {
    checkInput(this.typeName, x, 4);
    return avgPool2d(x, this.kernelSize, this.stride, this.padding);
  }
  override extraRepr(): string {
    return `kernel_size=${this.kernelSize}, stride=${this.stride}, padding=${this.padding}`;
  }
}
