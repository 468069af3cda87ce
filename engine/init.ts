// Parameter initialisers with PyTorch's semantics (torch.nn.init), writing in place into a
// tensor's existing GPU buffer: random ones generate straight into the buffer with the Philox
// kernel (engine/ops/random.ts), constant ones run the fill kernel on it. Nothing is recorded for
// autograd (like torch's no_grad init), and each returns its tensor for chaining.
// Fans: calculateFanInAndFanOut([out, in, ...kernel]) = (in * receptive, out * receptive) where
// receptive = prod(kernel dims), exactly as PyTorch (so conv-transpose weights [in, out, kh, kw]
// get PyTorch's numbers too).
import { fillSource, COPY_WG } from '../shaders/reduce_copy.js';
import { type Tensor, checkFloat, fmtShape, numel, type Shape } from './tensor.js';
import { grid1d, launch, f32 } from './ops/kernel.js';
import { fillRandom_, type Generator } from './ops/random.js';

/** t ~ N(mean, std^2), in place. */
export function normal_(t: Tensor, mean = 0, std = 1, gen?: Generator): Tensor {
  checkFloat('normal_', t);
  if (!(std >= 0)) throw new Error(`normal_: std = ${std} must be non-negative`);
  return fillRandom_(t, 'normal', [mean, std], gen, 'normal_');
}

/** t ~ U[a, b), in place. */
export function uniform_(t: Tensor, a = 0, b = 1, gen?: Generator): Tensor {
  checkFloat('uniform_', t);
  if (!(b >= a)) throw new Error(`uniform_: need a <= b (got a = ${a}, b = ${b})`);
  return fillRandom_(t, 'uniform', [a, b], gen, 'uniform_');
}

/** Every element set to `value`, in place. */
export function constant_(t: Tensor, value: number): Tensor {
  checkFloat('constant_', t);
  const n = t.size;
  if (n > 0)
    launch({ key: 'fill', code: () => fillSource(), bindings: ['rw'], op: 'constant_' }, [t], [n, f32(value), 0, 0], grid1d(n, COPY_WG), {
      op: 'constant_',
    });
  return t;
}
export const zeros_ = (t: Tensor) => constant_(t, 0);
export const ones_ = (t: Tensor) => constant_(t, 1);

/** Copies src's values into t's existing buffer (same number of elements and dtype), in order with the GPU work. */
export function fillFrom(t: Tensor, src: Tensor): Tensor {
  if (src.size !== t.size || src.dtype !== t.dtype) {
    throw new Error(`fillFrom: source ${src.describe()} (${src.size} elements) does not match target ${t.describe()} (${t.size} elements)`);
  }
  if (t.size > 0 && src.buffer !== t.buffer) t.engine.copy(src.buffer, 0, t.buffer, 0, t.size * 4);
  return t;
}

// ---- fans and gains ---------------------------------------------------------------------------------

/** PyTorch's fans: [out, in, ...receptive field] -> (in * rf, out * rf). Needs at least 2 dims. */
export function calculateFanInAndFanOut(shape: Shape): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new Error(`calculateFanInAndFanOut: needs a tensor with at least 2 dims, got ${fmtShape(shape)}`);
  const rf = numel(shape.slice(2));
  return { fanIn: shape[1] * rf, fanOut: shape[0] * rf };
}

export type Nonlinearity =
  | 'linear'
  | 'identity'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';

/** torch.nn.init.calculate_gain (leaky_relu's slope defaults to 0.01 when param is undefined). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      return 1; // linear, identity, conv*, sigmoid
  }
}

/** Glorot uniform: U(-b, b) with b = gain * sqrt(6 / (fanIn + fanOut)). */
export function xavierUniform_(t: Tensor, gain = 1, gen?: Generator): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t.shape);
  const b = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -b, b, gen);
}

/** Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fanIn + fanOut)). */
export function xavierNormal_(t: Tensor, gain = 1, gen?: Generator): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t.shape);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), gen);
}

export interface KaimingOptions {
  /** Negative slope of the leaky ReLU that follows (0 by default, i.e. ReLU). */
  a?: number;
  mode?: 'fan_in' | 'fan_out';
  nonlinearity?: Nonlinearity;
  generator?: Generator;
}

function kaimingStd(t: Tensor, o: KaimingOptions, op: string): number {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t.shape);
  const mode = o.mode ?? 'fan_in';
  if (mode !== 'fan_in' && mode !== 'fan_out') throw new Error(`${op}: mode must be 'fan_in' or 'fan_out', got '${mode as string}'`);
  const fan = mode === 'fan_in' ? fanIn : fanOut;
  if (fan === 0) throw new Error(`${op}: ${fmtShape(t.shape)} has a zero ${mode}`);
  return calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0) / Math.sqrt(fan);
}

/** He uniform: U(-b, b) with b = sqrt(3) * gain / sqrt(fan). */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const b = Math.sqrt(3) * kaimingStd(t, opts, 'kaimingUniform_');
  return uniform_(t, -b, b, opts.generator);
}

/** He normal: N(0, std^2) with std = gain / sqrt(fan). */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, opts, 'kaimingNormal_'), opts.generator);
}

// ---- DCGAN ---------------------------------------------------------------------------------------------

/** Anything with a weight and/or bias; its kind comes from `kind` or else its class name. */
export interface InitTarget {
  kind?: string;
  weight?: Tensor | null;
  bias?: Tensor | null;
}

/**
 * The DCGAN paper's init (Radford et al. 2015; PyTorch's DCGAN example weights_init): for every
 * module whose kind (or class name) contains 'Conv' or 'Linear': weight ~ N(0, 0.02), bias = 0 when
 * present; for every 'BatchNorm' (or 'Norm' with an affine weight): weight ~ N(1, 0.02), bias = 0.
 * Other modules are left alone. Pass a flat list, e.g. net.modules(). Returns how many were set.
 */
export function dcganInit_(modules: Iterable<InitTarget | object>, gen?: Generator): number {
  let count = 0;
  for (const m of modules) {
    const mod = m as InitTarget;
    const kind = (mod.kind ?? (m as object).constructor?.name ?? '').toLowerCase();
    if (kind.includes('conv') || kind.includes('linear')) {
      if (mod.weight) normal_(mod.weight, 0, 0.02, gen);
      if (mod.bias) zeros_(mod.bias);
      count++;
    } else if (kind.includes('norm')) {
      if (mod.weight) normal_(mod.weight, 1, 0.02, gen);
      if (mod.bias) zeros_(mod.bias);
      count++;
    }
  }
  return count;
}
