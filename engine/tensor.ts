// Tensors: shapes and refcounted GPU storage, plus the scope machinery that releases them.
// A Tensor is a contiguous row-major (NCHW for images) array on one engine's buffer. Views
// (reshape, detach) share storage; the buffer returns to the pool when its last view is disposed.
// Release is deterministic: `tidy(fn)` disposes every tensor created inside fn that fn does not
// return, and `dispose()` frees one explicitly. Parameters are kept (never collected by tidy).

import { engine, type Engine, type PooledBuffer } from './device.js';
import type { MatmulOpts } from './ops/matmul.js';

export type Shape = readonly number[];
export type DType = 'float32' | 'int32';

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function fmtShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export class Storage {
  refs = 1;
  constructor(
    readonly engine: Engine,
    readonly buf: PooledBuffer,
    readonly bytes: number,
  ) {}
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs === 0) this.engine.release(this.buf);
  }
}

/** An autograd record: which op made a tensor, from what, and how to send a gradient back. */
export interface GradNode {
  op: string;
  inputs: Tensor[];
  /** The tensors the backward reads (inputs, the output, ...) and their versions when recorded. */
  saved: Tensor[];
  savedVersions: number[];
  /** Maps the output's gradient to one gradient per input (null where an input gets none). */
  backward: (grad: Tensor) => (Tensor | null | undefined)[];
}

/** Names of parameters by tensor, registered by optimisers (the module path of each parameter). */
const tensorLabels = new WeakMap<Tensor, string>();

/** Gives `t` a name for error messages unless it already has one (optimisers name their parameters). */
export function labelTensor(t: Tensor, label: string): void {
  if (!t.name && !tensorLabels.has(t)) tensorLabels.set(t, label);
}

let nextTensorId = 1;
let liveTensors = 0;

/** The id the next tensor will get (ids only grow: a tensor with id >= this was created later). */
export function nextTensorIdPeek(): number {
  return nextTensorId;
}

/**
 * Chainable forms of the common ops: `a.add(b).mul(0.5).relu()` is `relu(mul(add(a, b), 0.5))`.
 * Each method is the op of the same name in engine/ops (same kernels, same autograd record, same
 * result bit for bit); they are installed on Tensor.prototype by engine/ops/methods.ts, which
 * engine/ops/index.ts (and so the public entry, engine/index.ts) loads. This file declares them
 * only, so tensor.ts imports no op at run time.
 */
export interface Tensor {
  /** a + b (b broadcasts, or a number). */
  add(other: Tensor | number): Tensor;
  /** a - b (b broadcasts, or a number). */
  sub(other: Tensor | number): Tensor;
  /** a * b (b broadcasts, or a number). */
  mul(other: Tensor | number): Tensor;
  /** a / b (b broadcasts; a number b multiplies by 1 / b, as the function form does). */
  div(other: Tensor | number): Tensor;
  neg(): Tensor;
  /** Elementwise max / min with another tensor (broadcasts). */
  maximum(other: Tensor): Tensor;
  minimum(other: Tensor): Tensor;
  /** Matrix product over the last two dims (leading dims batch and broadcast). */
  matmul(other: Tensor, opts?: MatmulOpts): Tensor;
  /** Reductions over `axes` (default all), keeping the reduced dims as 1 when keepdim is set. */
  sum(axes?: number | readonly number[], keepdim?: boolean): Tensor;
  mean(axes?: number | readonly number[], keepdim?: boolean): Tensor;
  max(axes?: number | readonly number[], keepdim?: boolean): Tensor;
  min(axes?: number | readonly number[], keepdim?: boolean): Tensor;
  /** Same elements, another shape (one dim may be -1); recorded for autograd. */
  reshape(shape: readonly number[]): Tensor;
  /** reshape under PyTorch's other name (a view: contiguous tensors only, so always). */
  view(shape: readonly number[]): Tensor;
  /** Collapses dims from startDim on (default 1, keeping the batch dim: flatten() of [N, C, H, W] is [N, C*H*W]). */
  flatten(startDim?: number): Tensor;
  /** Swaps two dims (default the last two). */
  transpose(dim0?: number, dim1?: number): Tensor;
  permute(dims: readonly number[]): Tensor;
  expand(shape: readonly number[]): Tensor;
  narrow(dim: number, start: number, length: number): Tensor;
  exp(): Tensor;
  log(): Tensor;
  sqrt(): Tensor;
  rsqrt(): Tensor;
  abs(): Tensor;
  square(): Tensor;
  reciprocal(): Tensor;
  /** x ** p for a number p. */
  pow(p: number): Tensor;
  clamp(lo: number, hi: number): Tensor;
  relu(): Tensor;
  leakyRelu(slope?: number): Tensor;
  tanh(): Tensor;
  sigmoid(): Tensor;
  softplus(beta?: number, threshold?: number): Tensor;
  elu(alpha?: number): Tensor;
  softmax(dim?: number): Tensor;
  logSoftmax(dim?: number): Tensor;
}

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface above declares the op methods engine/ops/methods.ts installs on the prototype
export class Tensor {
  readonly id = nextTensorId++;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly storage: Storage;
  requiresGrad = false;
  /** Accumulated gradient (leaves only), kept until zeroGrad or dispose. */
  grad: Tensor | null = null;
  /** The op that produced this tensor, when it was recorded for autograd. */
  node: GradNode | null = null;
  isParameter = false;
  name?: string;
  private disposedFlag = false;
  private kept = false;

  constructor(shape: Shape, storage: Storage, dtype: DType = 'float32') {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new Error(`Tensor: invalid shape ${fmtShape(shape)} (dims must be non-negative integers)`);
    }
    this.shape = Object.freeze([...shape]);
    this.storage = storage;
    this.dtype = dtype;
    liveTensors++;
    track(this);
  }

  get size(): number {
    return numel(this.shape);
  }
  get rank(): number {
    return this.shape.length;
  }
  get engine(): Engine {
    return this.storage.engine;
  }
  /**
   * How many times the storage was written since it was allocated (kernels' read_write bindings,
   * copies, uploads). Views share it. The tape saves it with every tensor a backward reads and
   * refuses to run that backward once it has changed.
   */
  get version(): number {
    return this.storage.buf.version ?? 0;
  }
  get buffer(): PooledBuffer {
    if (this.disposedFlag) throw new Error(`Tensor ${this.describe()} was used after dispose()`);
    return this.storage.buf;
  }
  get isDisposed(): boolean {
    return this.disposedFlag;
  }
  get isKept(): boolean {
    return this.kept;
  }

  /** A name for error messages: the tensor's own name, else the parameter name an optimiser gave it. */
  get label(): string | undefined {
    return this.name ?? tensorLabels.get(this);
  }

  describe(): string {
    return `${this.name ? this.name + ' ' : ''}${fmtShape(this.shape)}${this.dtype === 'float32' ? '' : ' ' + this.dtype}`;
  }

  /** Reads the values back (submits pending work). */
  async data(): Promise<Float32Array> {
    const bytes = this.size * 4;
    if (bytes === 0) return new Float32Array(0);
    const ab = await this.engine.read(this.buffer, bytes);
    return new Float32Array(ab);
  }
  async dataInt(): Promise<Int32Array> {
    const ab = await this.engine.read(this.buffer, this.size * 4);
    return new Int32Array(ab);
  }
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item(): tensor ${this.describe()} has ${this.size} elements, expected 1`);
    return (await this.data())[0];
  }
  async array(): Promise<number[]> {
    return Array.from(await this.data());
  }

  /** Marks this tensor as a leaf that collects gradients. */
  requireGrad(on = true): this {
    if (this.node && on)
      throw new Error(
        `requireGrad(): ${this.describe()} is produced by ${this.node.op}; only leaf tensors can be made to require grad (detach() it first)`,
      );
    this.requiresGrad = on;
    return this;
  }

  /** Keeps this tensor alive past the enclosing tidy() scopes. */
  keep(): this {
    this.kept = true;
    untrack(this);
    return this;
  }

  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    liveTensors--;
    untrack(this);
    this.storage.release();
    this.node = null;
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
  }

  /** A view of the same storage with another shape (no copy, no autograd record). */
  viewAs(shape: Shape): Tensor {
    const n = numel(shape);
    if (n !== this.size)
      throw new Error(`reshape: cannot view ${this.describe()} (${this.size} elements) as ${fmtShape(shape)} (${n} elements)`);
    return new Tensor(shape, this.storage.retain(), this.dtype);
  }

  /** Same storage, cut from the graph. */
  detach(): Tensor {
    void this.buffer;
    return this.viewAs(this.shape);
  }

  toString(): string {
    return `Tensor${fmtShape(this.shape)}`;
  }
}

// ---- scopes ---------------------------------------------------------------------------------------

const scopes: Set<Tensor>[] = [];

function track(t: Tensor): void {
  if (scopes.length) scopes[scopes.length - 1].add(t);
}
function untrack(t: Tensor): void {
  for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i].delete(t)) return;
}

/** Collects the tensors reachable in a returned value (tensor, array, plain object). */
function collectTensors(v: unknown, out: Set<Tensor>, depth = 0): void {
  if (depth > 4 || v == null) return;
  if (v instanceof Tensor) out.add(v);
  else if (Array.isArray(v)) for (const x of v) collectTensors(x, out, depth + 1);
  else if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype)
    for (const x of Object.values(v as object)) collectTensors(x, out, depth + 1);
}

/**
 * Runs fn and disposes every tensor it created that it does not return (tensors in the returned
 * value, arrays or plain objects, move to the enclosing scope). fn must be synchronous.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
    if (result instanceof Promise) throw new Error('tidy(): fn must be synchronous; use beginScope()/endScope() around async code');
  } finally {
    scopes.pop();
    const keepSet = new Set<Tensor>();
    // eslint-disable-next-line no-unsafe-finally
    collectTensors(typeof result! === 'undefined' ? undefined : result!, keepSet);
    for (const t of scope) {
      if (keepSet.has(t)) track(t);
      else t.dispose();
    }
  }
  return result;
}

/** Explicit scopes for async code: everything created between begin and end is disposed at end. */
export function beginScope(): void {
  scopes.push(new Set());
}
export function endScope(...keepAlive: unknown[]): void {
  const scope = scopes.pop();
  if (!scope) throw new Error('endScope(): no scope is open');
  const keepSet = new Set<Tensor>();
  collectTensors(keepAlive, keepSet);
  for (const t of scope) {
    if (keepSet.has(t)) track(t);
    else t.dispose();
  }
}

export function liveTensorCount(): number {
  return liveTensors;
}

/** Live GPU memory for leak tests: tensors, buffers and bytes held by the current engine. */
export function memory() {
  return { tensors: liveTensors, ...engine().memory() };
}

// ---- creation -------------------------------------------------------------------------------------

/** An uninitialised tensor on the current engine (ops fill it). */
export function empty(shape: Shape, op = 'empty', dtype: DType = 'float32'): Tensor {
  const e = engine();
  const bytes = numel(shape) * 4;
  const buf = e.acquire(bytes, op);
  return new Tensor(shape, new Storage(e, buf, bytes), dtype);
}

/** A tensor holding host data (a copy). */
export function tensor(data: ArrayLike<number> | Float32Array, shape?: Shape, dtype: DType = 'float32'): Tensor {
  const s = shape ?? [data.length];
  if (numel(s) !== data.length) throw new Error(`tensor(): ${data.length} values do not fill shape ${fmtShape(s)} (${numel(s)} elements)`);
  const t = empty(s, 'tensor', dtype);
  if (data.length) {
    const arr =
      dtype === 'int32'
        ? data instanceof Int32Array
          ? data
          : Int32Array.from(data)
        : data instanceof Float32Array
          ? data
          : Float32Array.from(data);
    t.engine.upload(t.buffer, arr);
  }
  return t;
}

/** Overwrites a tensor's values from the host (e.g. loading a checkpoint, a new data batch). */
export function assign(t: Tensor, data: ArrayLike<number>): void {
  if (data.length !== t.size) throw new Error(`assign(): ${data.length} values for ${t.describe()} (${t.size} elements)`);
  const arr = t.dtype === 'int32' ? Int32Array.from(data) : data instanceof Float32Array ? data : Float32Array.from(data);
  t.engine.upload(t.buffer, arr);
}

export function checkSameEngine(op: string, ...ts: Tensor[]): Engine {
  const e = engine();
  for (const t of ts) {
    if (t.isDisposed) throw new Error(`${op}: input ${t.describe()} was disposed`);
    if (t.engine !== e) {
      throw new Error(
        `${op}: input ${t.describe()} lives on another GPU device (engine #${t.engine.id}, current #${e.id}); create it on the current engine or move it with tensor(await t.data(), t.shape)`,
      );
    }
  }
  return e;
}

export function checkFloat(op: string, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (t.dtype !== 'float32') throw new Error(`${op}: expects float32 tensors, got ${t.dtype} ${fmtShape(t.shape)}`);
  }
}
