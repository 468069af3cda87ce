// Mini-batches from an in-memory image set (browser-safe: no Node imports).
//
// A DataLoader walks a dataset in epochs. Each epoch visits the examples in a permutation drawn
// from (seed, epoch) alone, so the loader's whole state is three integers {seed, epoch, cursor}:
// a checkpoint stores them and a resumed run sees exactly the batches the uninterrupted run would
// have seen. With dropLast (the default, as GAN training wants fixed shapes) the tail of an epoch
// that does not fill a batch is skipped.
//
// Batches are assembled on the host into one reused Float32Array; `nextInto(t)` uploads it into a
// persistent tensor, so a training loop allocates no GPU buffer per step for its data.

import { assign, fmtShape, type Tensor } from '../engine/tensor.js';
import { mulberry32 } from '../engine/ops/cpu/host.js'; // small, fast; plenty for shuffling

/** Images (or any fixed-shape examples) held in one row-major Float32Array: n x sampleShape. */
export interface ArrayDataset {
  /** Example data, n x prod(sampleShape) values. */
  data: Float32Array;
  n: number;
  /** Shape of one example, e.g. [1, 32, 32]. */
  sampleShape: readonly number[];
  /** Optional integer labels (conditional models). */
  labels?: ArrayLike<number>;
}

export interface LoaderOptions {
  batchSize: number;
  /** Visit examples in a seeded random order each epoch (default true); false = dataset order. */
  shuffle?: boolean;
  /** Seed of the per-epoch permutations (default 0). */
  seed?: number;
  /** Skip an epoch's last partial batch (default true: every batch has batchSize examples). */
  dropLast?: boolean;
}

/** Everything needed to resume a loader exactly: JSON-safe integers. */
export interface LoaderState {
  seed: number;
  epoch: number;
  /** Examples of the current epoch's permutation already handed out. */
  cursor: number;
}

export interface Batch {
  /** batchSize x sampleShape values. Reused by the next call: copy it if you keep it. */
  data: Float32Array;
  /** [batchSize, ...sampleShape]. */
  shape: number[];
  /** Dataset indices of the examples in this batch. */
  indices: Int32Array;
  /** Labels of the examples, when the dataset has them. */
  labels: Int32Array | null;
  /** Epoch this batch belongs to (0-based). */
  epoch: number;
}

/** A 32-bit hash (splitmix32 finaliser), used to derive an epoch's stream from (seed, epoch). */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The permutation of 0..n-1 used for `epoch` under `seed` (Fisher-Yates). */
export function epochPermutation(n: number, seed: number, epoch: number): Int32Array {
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const rand = mulberry32(mix32(mix32(seed >>> 0) ^ Math.imul(epoch + 1, 0x27d4eb2d)));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm;
}

export class DataLoader {
  readonly dataset: ArrayDataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  private readonly sampleSize: number;
  private seed: number;
  private epochIndex = 0;
  private cursor = 0;
  private perm: Int32Array | null = null;
  private permEpoch = -1;
  private readonly buffer: Float32Array;
  private readonly indexBuffer: Int32Array;
  private readonly labelBuffer: Int32Array | null;

  constructor(dataset: ArrayDataset, options: LoaderOptions) {
    const { batchSize, shuffle = true, seed = 0, dropLast = true } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new Error(`DataLoader: batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(seed)) throw new Error(`DataLoader: seed must be an integer, got ${seed}`);
    this.sampleSize = dataset.sampleShape.reduce((a, b) => a * b, 1);
    if (dataset.data.length < dataset.n * this.sampleSize) {
      throw new Error(
        `DataLoader: dataset says ${dataset.n} examples of ${fmtShape(dataset.sampleShape)} but holds ${dataset.data.length} values (needs ${dataset.n * this.sampleSize})`,
      );
    }
    if (dataset.n === 0) throw new Error('DataLoader: the dataset is empty');
    if (dropLast && dataset.n < batchSize) {
      throw new Error(
        `DataLoader: batch size ${batchSize} is larger than the dataset (${dataset.n} examples); use a smaller --batch or more data`,
      );
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.seed = seed;
    this.buffer = new Float32Array(batchSize * this.sampleSize);
    this.indexBuffer = new Int32Array(batchSize);
    this.labelBuffer = dataset.labels ? new Int32Array(batchSize) : null;
  }

  /** Full batches per epoch (plus one partial batch when dropLast is off and n does not divide). */
  get batchesPerEpoch(): number {
    const n = this.dataset.n;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The epoch the next batch will come from. */
  get epoch(): number {
    return this.epochIndex;
  }

  get state(): LoaderState {
    return { seed: this.seed, epoch: this.epochIndex, cursor: this.cursor };
  }

  /** Restore a position saved with `state` (e.g. from a checkpoint). */
  setState(s: LoaderState): void {
    for (const k of ['seed', 'epoch', 'cursor'] as const) {
      if (!Number.isInteger(s?.[k]) || (k !== 'seed' && s[k] < 0))
        throw new Error(`DataLoader.setState: '${k}' must be a non-negative integer, got ${JSON.stringify(s?.[k])}`);
    }
    if (s.cursor > this.dataset.n)
      throw new Error(
        `DataLoader.setState: cursor ${s.cursor} is past the dataset's ${this.dataset.n} examples (a checkpoint from another dataset?)`,
      );
    this.seed = s.seed;
    this.epochIndex = s.epoch;
    this.cursor = s.cursor;
    this.perm = null;
    this.permEpoch = -1;
  }

  private order(): Int32Array {
    if (this.permEpoch !== this.epochIndex || !this.perm) {
      this.perm = this.shuffle
        ? epochPermutation(this.dataset.n, this.seed, this.epochIndex)
        : Int32Array.from({ length: this.dataset.n }, (_, i) => i);
      this.permEpoch = this.epochIndex;
    }
    return this.perm;
  }

  /** The next batch (moving on to a new epoch when this one is used up). Never ends. */
  next(): Batch {
    const n = this.dataset.n;
    const remaining = n - this.cursor;
    if (remaining <= 0 || (this.dropLast && remaining < this.batchSize)) {
      this.epochIndex++;
      this.cursor = 0;
    }
    const perm = this.order();
    const count = Math.min(this.batchSize, n - this.cursor);
    const { data } = this.dataset;
    const size = this.sampleSize;
    for (let b = 0; b < count; b++) {
      const idx = perm[this.cursor + b];
      this.indexBuffer[b] = idx;
      this.buffer.set(data.subarray(idx * size, (idx + 1) * size), b * size);
      if (this.labelBuffer) this.labelBuffer[b] = this.dataset.labels![idx];
    }
    const epoch = this.epochIndex;
    this.cursor += count;
    const full = count === this.batchSize;
    return {
      data: full ? this.buffer : this.buffer.subarray(0, count * size),
      shape: [count, ...this.dataset.sampleShape],
      indices: full ? this.indexBuffer : this.indexBuffer.subarray(0, count),
      labels: this.labelBuffer ? (full ? this.labelBuffer : this.labelBuffer.subarray(0, count)) : null,
      epoch,
    };
  }

  /**
   * Uploads the next batch into `t` (shape [batchSize, ...sampleShape]), reusing its GPU buffer.
   * Requires full batches (dropLast) so the shape never changes.
   */
  nextInto(t: Tensor): Batch {
    const expect = [this.batchSize, ...this.dataset.sampleShape];
    if (t.shape.length !== expect.length || t.shape.some((d, i) => d !== expect[i])) {
      throw new Error(`DataLoader.nextInto: target is ${fmtShape(t.shape)}, batches are ${fmtShape(expect)}`);
    }
    if (!this.dropLast) throw new Error('DataLoader.nextInto: needs dropLast (a partial batch would not fill the tensor)');
    const batch = this.next();
    assign(t, batch.data);
    return batch;
  }
}
