// Host tensors for the CPU float64 references: a shape plus a contiguous row-major Float64Array.
// Every GPU kernel is checked against a function in engine/ops/cpu/*, and those functions take and
// return HostTensors. Also here: a small seeded PRNG (mulberry32) so tests build the same random
// inputs on every run and in every process.

export interface HostTensor {
  shape: number[];
  data: Float64Array;
}

/** Number of elements of a shape; the empty shape (a scalar) has one. */
export function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides, in elements. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** A tensor of the given shape: zeros, or a float64 copy of `data` (whose length must match). */
export function hostTensor(shape: readonly number[], data?: ArrayLike<number>): HostTensor {
  const n = size(shape);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`hostTensor: bad shape [${shape.join(', ')}]`);
  }
  if (data !== undefined && data.length !== n) {
    throw new Error(`hostTensor: shape [${shape.join(', ')}] needs ${n} values, got ${data.length}`);
  }
  return { shape: [...shape], data: data === undefined ? new Float64Array(n) : Float64Array.from(data) };
}

/** A scalar (shape []) tensor. */
export function hostScalar(value: number): HostTensor {
  return { shape: [], data: Float64Array.of(value) };
}

/**
 * mulberry32: a tiny 32-bit-state PRNG, good enough for test inputs and host-side coin flips (not
 * for cryptography). Its whole state is one u32, readable and settable, so a user that checkpoints
 * it (nets/lib/pool.ts) resumes the exact sequence.
 */
export class Mulberry32 {
  /** The u32 state; the next draw advances it first. */
  state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** mulberry32 from `seed` as a function giving uniform floats in [0, 1) (see Mulberry32). */
export function mulberry32(seed: number): () => number {
  const g = new Mulberry32(seed);
  return () => g.next();
}

/** A tensor of uniform values in [lo, hi), reproducible from `seed`. */
export function randomHost(shape: readonly number[], seed: number, lo = -1, hi = 1): HostTensor {
  const t = hostTensor(shape);
  const rand = mulberry32(seed);
  for (let i = 0; i < t.data.length; i++) t.data[i] = lo + (hi - lo) * rand();
  return t;
}

/** Throws unless `t` has rank `rank`; returns its shape for destructuring. */
export function expectRank(t: HostTensor, rank: number, what: string): number[] {
  if (t.shape.length !== rank) {
    throw new Error(`${what}: expected rank ${rank}, got shape [${t.shape.join(', ')}]`);
  }
  return t.shape;
}

/** Throws unless the two shapes are identical. */
export function expectSameShape(a: HostTensor, b: HostTensor, what: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${what}: shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] differ`);
  }
}

/** Elementwise map into a new tensor of the same shape. */
export function mapHost(x: HostTensor, f: (v: number) => number): HostTensor {
  const y = hostTensor(x.shape);
  for (let i = 0; i < x.data.length; i++) y.data[i] = f(x.data[i]);
  return y;
}
