// Random numbers on the GPU from a counter-based generator (Philox4x32-10, shaders/random.ts).
// A Generator is just (seed, offset): the seed is the Philox key, the offset the first unused
// 128-bit counter. Every op reserves the counters it consumes (one per 4 values) and advances the
// offset, so a run is reproducible from (seed, offset) alone and a checkpoint stores
// generator.getState(). Nothing here has a gradient except dropout (whose mask is a constant).
//
// CPU mirrors (philox4x32, uniformFromWord, boxMuller) reproduce the GPU bits exactly; they back the
// op registry's references, randperm, and the tests.
import { philoxWgsl, randomSource, RANDOM_WG, type RandomKind } from '../../shaders/random.js';
import { index1d, main1d } from '../../shaders/common.js';
import { type Tensor, empty, checkFloat, numel, type Shape } from '../tensor.js';
import { engine, hasEngine } from '../device.js';
import { grid1d, launch, f32, i32 } from './kernel.js';
import { registerOp, type HostTensor } from './registry.js';
import { mul, zerosLike } from './elementwise.js';

// ---- the generator ---------------------------------------------------------------------------------

const TWO32 = 4294967296;

export interface GeneratorState {
  seed: number;
  offset: number;
}

function checkU53(what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${what}: ${v} must be an integer in [0, 2^53)`);
}

/** A Philox stream: key = seed, counters from `offset` on (both integers below 2^53). */
export class Generator {
  seed = 0;
  offset = 0;
  /**
   * Draws served from the host instead of Philox, in order (see feed()); null: draw normally.
   * Tests use it to give the engine and a PyTorch transcription the very same noise and masks.
   */
  private fed: FedDraw[] | null = null;
  /** What each fed draw was used for, in order: op and shape (for error messages and tests). */
  readonly fedLog: { op: string; shape: number[] }[] = [];

  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Re-keys the generator and restarts its counter at 0. */
  manualSeed(seed: number): this {
    checkU53('manualSeed', seed);
    this.seed = seed;
    this.offset = 0;
    return this;
  }

  getState(): GeneratorState {
    return { seed: this.seed, offset: this.offset };
  }

  setState(st: GeneratorState): this {
    checkU53('setState seed', st.seed);
    checkU53('setState offset', st.offset);
    this.seed = st.seed;
    this.offset = st.offset;
    return this;
  }

  /** Reserves `blocks` counters and returns the first (callers use offset .. offset + blocks - 1). */
  reserve(blocks: number): number {
    const start = this.offset;
    this.offset += blocks;
    checkU53('Generator offset', this.offset);
    return start;
  }

  clone(): Generator {
    return new Generator().setState(this.getState());
  }

  /**
   * From now on every draw from this generator takes the next of `draws` instead of Philox values:
   * each is the exact tensor the op would have produced (rand: values in [0, 1); randn: already
   * scaled by mean/std; bernoulli: 0/1; dropout: the scaled mask, 0 or 1/(1-p); randint: integers;
   * randperm: a permutation). Shapes must match the draw in size, and the offset does not advance.
   * Calling feed again appends; `fedRemaining` says how many are left (a test asserts 0).
   */
  feed(draws: readonly (ArrayLike<number> | FedDraw)[]): this {
    this.fed ??= [];
    for (const d of draws) this.fed.push(isFedDraw(d) ? d : { values: d });
    return this;
  }

  get fedRemaining(): number {
    return this.fed?.length ?? 0;
  }

  /** Stops serving fed draws (leftover ones are dropped). */
  unfeed(): this {
    this.fed = null;
    return this;
  }

  /** The next fed draw for `op` of n values, or null when nothing is fed. */
  takeFed(op: string, shape: readonly number[]): ArrayLike<number> | null {
    if (!this.fed) return null;
    const n = numel(shape);
    const d = this.fed.shift();
    const k = this.fedLog.length;
    if (!d)
      throw new Error(
        `${op}: draw #${k} of shape ${JSON.stringify(shape)} from a fed generator, but no fed draws are left (feed one more, or unfeed())`,
      );
    if (d.values.length !== n) {
      throw new Error(
        `${op}: draw #${k} wants ${n} values (shape ${JSON.stringify(shape)}), but the fed draw${d.label ? ` '${d.label}'` : ''} has ${d.values.length}`,
      );
    }
    this.fedLog.push({ op, shape: [...shape] });
    return d.values;
  }
}

/** One fed draw: its values and an optional label for error messages. */
export interface FedDraw {
  values: ArrayLike<number>;
  label?: string;
}

function isFedDraw(d: ArrayLike<number> | FedDraw): d is FedDraw {
  return typeof (d as FedDraw).values === 'object' && (d as FedDraw).values !== null;
}

/** PyTorch's default seed value, so an unseeded run is still deterministic. */
export const defaultGenerator = new Generator(67280421310721);

/** Seeds the default generator (and restarts its stream). */
export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}

const split = (v: number): [number, number] => [(v % TWO32) >>> 0, Math.floor(v / TWO32) >>> 0];

// ---- CPU mirror of the kernel ------------------------------------------------------------------------

/** Full 32x32 -> 64-bit product as [hi, lo] (unsigned), from 16-bit halves like the shader. */
export function mulhilo32(a: number, b: number): [number, number] {
  const a0 = a & 0xffff,
    a1 = a >>> 16,
    b0 = b & 0xffff,
    b1 = b >>> 16;
  const p00 = a0 * b0,
    p01 = a0 * b1,
    p10 = a1 * b0,
    p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const hi = (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
  return [hi, Math.imul(a, b) >>> 0];
}

/** Philox4x32-10 of a 4-word counter under a 2-word key; returns 4 unsigned words. */
export function philox4x32(ctr: readonly number[], key: readonly number[]): [number, number, number, number] {
  let [c0, c1, c2, c3] = ctr.map((v) => v >>> 0);
  let k0 = key[0] >>> 0,
    k1 = key[1] >>> 0;
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      k0 = (k0 + 0x9e3779b9) >>> 0;
      k1 = (k1 + 0xbb67ae85) >>> 0;
    }
    const [hi0, lo0] = mulhilo32(0xd2511f53, c0);
    const [hi1, lo1] = mulhilo32(0xcd9e8d57, c2);
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
  }
  return [c0, c1, c2, c3];
}

/** The first n words a kernel launch with (seed, offset) consumes, in output order. */
export function philoxWords(n: number, seed: number, offset: number): Uint32Array {
  const key = split(seed);
  const out = new Uint32Array(n);
  for (let i = 0; 4 * i < n; i++) {
    const w = philox4x32(split(offset + i).concat(0, 0), key);
    for (let j = 0; j < 4 && 4 * i + j < n; j++) out[4 * i + j] = w[j];
  }
  return out;
}

/** Word -> [0, 1) exactly as the shader does it. */
export const uniformFromWord = (w: number) => (w >>> 8) * 2 ** -24;

/** Box-Muller on two words exactly as the shader does it (up to float32 rounding). */
export function boxMuller(w0: number, w1: number): [number, number] {
  const r = Math.sqrt(-2 * Math.log(((w0 >>> 8) + 1) * 2 ** -24));
  const theta = 2 * Math.PI * uniformFromWord(w1) - Math.PI;
  return [r * Math.cos(theta), r * Math.sin(theta)];
}

// ---- launchers -----------------------------------------------------------------------------------------

type RandomParams = [number, number];

/**
 * Writes n = t.size random values of `kind` into t's own buffer (in place; no autograd record) and
 * advances the generator by ceil(n / 4) counters.
 */
export function fillRandom_(
  t: Tensor,
  kind: RandomKind,
  params: RandomParams,
  generator: Generator = defaultGenerator,
  op: string = kind,
): Tensor {
  const want = kind === 'randint' ? 'int32' : 'float32';
  if (t.dtype !== want) throw new Error(`${op}: writes ${want} values, but the target ${t.describe()} is ${t.dtype}`);
  const n = t.size;
  if (n === 0) return t;
  const fed = generator.takeFed(op, t.shape);
  if (fed) {
    t.engine.notReplayable(`${op}: a fed draw (Generator.feed) is host data`);
    const arr = want === 'int32' ? Int32Array.from(fed) : Float32Array.from(fed);
    t.engine.upload(t.buffer, arr);
    return t;
  }
  const blocks = Math.ceil(n / 4);
  const p = kind === 'randint' ? [i32(params[0]), params[1] >>> 0] : [f32(params[0]), f32(params[1])];
  // Reserving the counters is the host state a replayed step advances (refresh), in the same order.
  const uniforms = () => [n, ...split(generator.seed), ...split(generator.reserve(blocks)), ...p, 0];
  launch({ key: `random|${kind}`, code: () => randomSource(kind), bindings: ['rw'], op }, [t], uniforms(), grid1d(blocks, RANDOM_WG), {
    op,
    bytes: 4 * n,
    refresh: uniforms,
  });
  return t;
}

export interface RandomOptions {
  generator?: Generator;
}

/** Uniform samples in [0, 1). */
export function rand(shape: Shape, opts: RandomOptions = {}): Tensor {
  return fillRandom_(empty(shape, 'rand'), 'uniform', [0, 1], opts.generator, 'rand');
}

/** Normal samples (Box-Muller), mean 0 and std 1 unless given. */
export function randn(shape: Shape, opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  return fillRandom_(empty(shape, 'randn'), 'normal', [opts.mean ?? 0, opts.std ?? 1], opts.generator, 'randn');
}

/** 1 with probability p, else 0 (float32). */
export function bernoulli(shape: Shape, p: number, opts: RandomOptions = {}): Tensor {
  if (!(p >= 0 && p <= 1)) throw new Error(`bernoulli: p = ${p} must be in [0, 1]`);
  return fillRandom_(empty(shape, 'bernoulli'), 'bernoulli', [p, 1], opts.generator, 'bernoulli');
}

/** Integers uniform in [low, high) as an int32 tensor. */
export function randint(shape: Shape, low: number, high: number, opts: RandomOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low || low < -(2 ** 31) || high > 2 ** 31 || high - low > TWO32) {
    throw new Error(`randint: need integers low < high within int32 (got low = ${low}, high = ${high})`);
  }
  return fillRandom_(empty(shape, 'randint', 'int32'), 'randint', [low, high - low], opts.generator, 'randint');
}

/**
 * n integers uniform in [0, high) on the CPU, one Philox word each from the generator's stream (e.g.
 * the batch indices of trainers that pick their own examples), or the next fed draw.
 */
export function hostRandint(n: number, high: number, rng: Generator = defaultGenerator): Int32Array {
  if (hasEngine()) engine().notReplayable('hostRandint: integers drawn on the host');
  const fed = rng.takeFed('randint', [n]);
  if (fed) {
    const out = Int32Array.from(fed);
    for (const v of out) if (!(v >= 0 && v < high)) throw new Error(`hostRandint: the fed draw holds ${v}, outside [0, ${high})`);
    return out;
  }
  const words = philoxWords(n, rng.seed, rng.reserve(Math.ceil(n / 4)));
  return Int32Array.from(words, (w) => mulhilo32(w, high)[0]);
}

/**
 * A random permutation of 0 .. n-1 on the CPU (Fisher-Yates over Philox words), e.g. to shuffle a
 * data set. A number seeds a one-off stream; a Generator (default: the global one) is advanced.
 */
export function randperm(n: number, seed?: number | Generator): Int32Array {
  if (!Number.isInteger(n) || n < 0) throw new Error(`randperm: n = ${n} must be a non-negative integer`);
  const gen = typeof seed === 'number' ? new Generator(seed) : (seed ?? defaultGenerator);
  if (typeof seed !== 'number' && hasEngine()) engine().notReplayable('randperm: a permutation drawn on the host');
  const fed = gen.takeFed('randperm', [n]);
  if (fed) {
    const perm = Int32Array.from(fed);
    const seen = new Uint8Array(n);
    for (const v of perm) {
      if (!(v >= 0 && v < n) || seen[v]) throw new Error(`randperm: the fed draw is not a permutation of 0..${n - 1}`);
      seen[v] = 1;
    }
    return perm;
  }
  const words = philoxWords(n, gen.seed, gen.reserve(Math.ceil(n / 4)));
  const out = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = mulhilo32(words[i], i + 1)[0]; // uniform in [0, i]
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}

/**
 * randperm(n, generator) as an n x n permutation matrix drawn on the GPU: P[i, perm[i]] = 1, every
 * other element 0, for the very permutation randperm() returns on the host from the same generator
 * state (the same Philox words, the same Fisher-Yates swaps: integer arithmetic, so the same bits),
 * and the generator advanced alike. P @ X gathers X's rows in the order perm (X[perm]). Being a
 * kernel with a refreshed counter rather than host data, a step that draws it can be replayed
 * (engine/replay.ts). A fed draw (Generator.feed, op 'randperm') is uploaded from the host instead.
 */
export function randpermMatrix(n: number, generator: Generator = defaultGenerator): Tensor {
  if (!Number.isInteger(n) || n < 1) throw new Error(`randpermMatrix: n = ${n} must be a positive integer`);
  const fed = generator.takeFed('randperm', [n]);
  const out = empty([n, n], 'randperm_matrix');
  if (fed) {
    out.engine.notReplayable('randperm: a fed draw (Generator.feed) is host data');
    const seen = new Uint8Array(n);
    const m = new Float32Array(n * n);
    for (let i = 0; i < n; i++) {
      const v = fed[i];
      if (!(v >= 0 && v < n) || seen[v]) throw new Error(`randpermMatrix: the fed draw is not a permutation of 0..${n - 1}`);
      seen[v] = 1;
      m[i * n + v] = 1;
    }
    out.engine.upload(out.buffer, m);
    return out;
  }
  const scratch = empty([n], 'randperm_scratch', 'int32');
  const blocks = Math.ceil(n / 4);
  const uniforms = () => [n, ...split(generator.seed), ...split(generator.reserve(blocks))];
  launch(
    { key: 'randperm_matrix', code: randpermMatrixSource, bindings: ['rw', 'rw'], op: 'randperm' },
    [out, scratch],
    uniforms(),
    [1, 1, 1],
    {
      op: 'randperm',
      bytes: 4 * n * (n + 1),
      refresh: uniforms,
    },
  );
  scratch.dispose();
  return out;
}

/** One invocation: randperm()'s Fisher-Yates on the Philox words into `perm`, then P[i, perm[i]] = 1. */
const randpermMatrixSource = () => /* wgsl */ `
struct Params { n: u32, k0: u32, k1: u32, off_lo: u32, off_hi: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> perm: array<i32>;
${philoxWgsl}
fn word(i: u32) -> u32 {
  let c0 = u.off_lo + i / 4u;
  let carry = select(0u, 1u, c0 < u.off_lo);
  let w = philox4x32_10(vec4<u32>(c0, u.off_hi + carry, 0u, 0u), vec2<u32>(u.k0, u.k1));
  return w[i % 4u];
}
@compute @workgroup_size(1)
fn main() {
  let n = u.n;
  for (var i = 0u; i < n; i++) { perm[i] = i32(i); }
  for (var i = n - 1u; i > 0u; i--) {
    let j = mulhilo(word(i), i + 1u).x;
    let t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  for (var k = 0u; k < n * n; k++) { y[k] = 0.0; }
  for (var i = 0u; i < n; i++) { y[i * n + u32(perm[i])] = 1.0; }
}`;

/**
 * n rows drawn uniformly with replacement from the first dimension of `sources` (all the same
 * length m; float32 or int32), the same rows from each: out[k][b] = sources[k][idx[b]]. The indices
 * are hostRandint(n, m, generator)'s, bit for bit (the same Philox words through the randint kernel,
 * the same generator advance, the same fed draw), but they stay on the GPU and the rows are copied
 * by a kernel, so a step that samples a stored set this way can be replayed (Triple-GAN's labelled
 * batch). The caller owns the returned tensors.
 */
export function sampleRows(sources: readonly Tensor[], n: number, generator: Generator = defaultGenerator): Tensor[] {
  if (!sources.length) throw new Error('sampleRows: no source tensors');
  const m = sources[0].shape[0];
  for (const t of sources) {
    if (t.rank < 1 || t.shape[0] !== m)
      throw new Error(`sampleRows: every source needs the same first dimension (${m} rows), got ${t.describe()}`);
  }
  if (!Number.isInteger(n) || n < 1) throw new Error(`sampleRows: n = ${n} must be a positive integer`);
  if (m < 1) throw new Error('sampleRows: the sources have no rows');
  const idx = randint([n], 0, m, { generator });
  const out = sources.map((t) => {
    const rowWords = t.size / m;
    const o = empty([n, ...t.shape.slice(1)], 'sample_rows', t.dtype);
    const total = n * rowWords;
    launch(
      { key: 'sample_rows', code: sampleRowsSource, bindings: ['read', 'read', 'rw'], op: 'sampleRows' },
      [t, idx, o],
      [total, rowWords],
      grid1d(total, RANDOM_WG),
      { op: 'sampleRows', bytes: 8 * total },
    );
    return o;
  });
  idx.dispose();
  return out;
}

/** y[b * row + j] = x[idx[b] * row + j], raw 32-bit words (float32 or int32 alike). */
const sampleRowsSource = () => /* wgsl */ `
struct Params { total: u32, row: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<u32>;
${main1d(RANDOM_WG)} {
  let i = ${index1d(RANDOM_WG)};
  if (i >= u.total) { return; }
  let b = i / u.row;
  let j = i - b * u.row;
  y[i] = x[u32(idx[b]) * u.row + j];
}`;

// ---- dropout -------------------------------------------------------------------------------------------

/**
 * Inverted dropout: zeroes each element with probability p and scales the rest by 1 / (1 - p), so
 * the expectation is unchanged and evaluation (training = false) is the identity. The mask (already
 * scaled) is drawn from the generator and saved by the multiply, so backward is g * mask / (1 - p),
 * itself differentiable in g.
 */
export function dropout(x: Tensor, p: number, opts: RandomOptions & { training?: boolean } = {}): Tensor {
  checkFloat('dropout', x);
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: p = ${p} must be in [0, 1]`);
  if (opts.training === false || p === 0) return x;
  if (p === 1) return mul(x, zerosLike(x));
  const mask = fillRandom_(empty(x.shape, 'dropout'), 'bernoulli', [1 - p, 1 / (1 - p)], opts.generator, 'dropout_mask');
  return mul(x, mask);
}

// ---- registry: the GPU bits must match the CPU mirror --------------------------------------------------

const REG_SEED = 0x1234567;
const REG_OFFSET = 0xfffffffe; // straddles the 2^32 carry of the counter's low word

function regGen(): Generator {
  return new Generator(REG_SEED).setState({ seed: REG_SEED, offset: REG_OFFSET });
}

function hostFromWords(shape: number[], f: (w: Uint32Array, i: number) => number): HostTensor {
  const n = numel(shape);
  const w = philoxWords(4 * Math.ceil(n / 4), REG_SEED, REG_OFFSET); // whole blocks: Box-Muller pairs
  return { shape, data: Float64Array.from({ length: n }, (_, i) => f(w, i)) };
}

registerOp({
  name: 'rand',
  run: (_, a) => rand(a.shape as number[], { generator: regGen() }),
  reference: (_, a) => hostFromWords(a.shape as number[], (w, i) => uniformFromWord(w[i])),
});
registerOp({
  name: 'randn',
  run: (_, a) => randn(a.shape as number[], { generator: regGen(), mean: 0.5, std: 2 }),
  reference: (_, a) =>
    hostFromWords(a.shape as number[], (w, i) => {
      const b = i & ~1;
      return 0.5 + 2 * boxMuller(w[b], w[b + 1])[i & 1];
    }),
  // WGSL's log is only accurate to ~2^-21 absolute near 1 (tiny radii); tests check statistics too.
  tol: { forward: 2e-3 },
});
registerOp({
  name: 'bernoulli',
  run: (_, a) => bernoulli(a.shape as number[], 0.3, { generator: regGen() }),
  reference: (_, a) => hostFromWords(a.shape as number[], (w, i) => (uniformFromWord(w[i]) < Math.fround(0.3) ? 1 : 0)),
});
registerOp({
  name: 'dropout',
  run: ([x]) => dropout(x, 0.4, { generator: regGen() }),
  reference: ([x]) => {
    const keep = Math.fround(0.6);
    const w = philoxWords(x.data.length, REG_SEED, REG_OFFSET);
    return { shape: x.shape, data: x.data.map((v, i) => (uniformFromWord(w[i]) < keep ? v * Math.fround(1 / 0.6) : 0)) };
  },
  doubleBackward: true,
});
