// The text-conditioned GANs' training batches drawn and gathered on the GPU (StackGAN, StackGAN++),
// so their steps replay (engine/replay.ts). data/text.ts TextSampler draws a batch with hostRandint
// and gathers images, captions, mismatched captions and categories on the host; here the bound set
// is uploaded once and the same batch is made by kernels: the indices by ops.randint (hostRandint's
// integers from the same Philox words, the generator advanced alike), the rows by ops.gatherRows,
// and the mismatched captions by ops.mismatchRows over integer caption keys (mismatchIndices'
// choice: the next caption of the batch, cyclically, whose text differs). Same batch, same bits,
// with no host data in the step.
//
// A set too large to keep on the GPU (above DEVICE_TEXT_BYTES, or the adapter's storage binding
// limit) stays on the host: the trainer then gathers with TextSampler.batch and steps eagerly.
//
// Browser-safe: no Node imports.

import { type Generator, type Tensor, engine, tensor, ops } from '../../engine/index.js';
import type { TextBatchTensors, TextSampler } from '../../data/text.js';

/** The most bytes of images a bound captioned set may keep on the GPU (emoji-text at 64 px: 80 MB). */
export const DEVICE_TEXT_BYTES = 512 * 2 ** 20;

/** A TextSampler's set on the GPU: images, bag-of-words rows, categories, caption keys. */
export class DeviceTextBatches {
  private readonly images: Tensor;
  private readonly bow: Tensor;
  private readonly categories: Tensor;
  private readonly keys: Tensor;

  /** Why `sampler`'s set cannot live on the GPU (null: it can). */
  static whyNot(sampler: TextSampler): string | null {
    const bytes = Math.max(sampler.data.images.byteLength, sampler.bow.byteLength);
    const limit = Math.min(DEVICE_TEXT_BYTES, engine().limits.maxStorageBufferBindingSize);
    if (bytes <= limit) return null;
    return `the bound set's ${(bytes / 2 ** 20).toFixed(0)} MiB of images stay on the host (above ${(limit / 2 ** 20).toFixed(0)} MiB), so each batch is gathered there`;
  }

  constructor(readonly sampler: TextSampler) {
    const why = DeviceTextBatches.whyNot(sampler);
    if (why) throw new Error(`DeviceTextBatches: ${why}`);
    const { data, nc, size, buckets } = sampler;
    const n = data.n;
    // Caption keys as integers: equal texts, equal keys (first-seen order).
    const ids = new Map<string, number>();
    const keys = Int32Array.from(sampler.keys, (k) => {
      let id = ids.get(k);
      if (id === undefined) ids.set(k, (id = ids.size));
      return id;
    });
    this.images = tensor(data.images.subarray(0, n * nc * size * size), [n, nc, size, size]).keep();
    this.bow = tensor(sampler.bow, [n, buckets]).keep();
    this.categories = tensor(Int32Array.from(data.category), [n], 'int32').keep();
    this.keys = tensor(keys, [n], 'int32').keep();
  }

  /**
   * A batch of n examples drawn from `rng`: TextSampler.batch's draw and rows, made on the GPU. New
   * tensors each call (the caller's scope disposes them).
   */
  batch(n: number, rng: Generator): TextBatchTensors {
    const idx = ops.randint([n], 0, this.sampler.data.n, { generator: rng });
    const wrong = ops.mismatchRows(this.keys, idx);
    const out = {
      images: ops.gatherRows(this.images, idx),
      bow: ops.gatherRows(this.bow, idx),
      bowWrong: ops.gatherRows(this.bow, wrong),
      categories: ops.gatherRows(this.categories, idx),
    };
    idx.dispose();
    wrong.dispose();
    return out;
  }

  dispose(): void {
    for (const t of [this.images, this.bow, this.categories, this.keys]) t.dispose();
  }
}

/**
 * The batch source of a text-conditioned trainer: the GPU copy of the bound set when it fits (made
 * on first use), else the host sampler. `replayable` says which, `why` why not.
 */
export class TextBatches {
  private device: DeviceTextBatches | null = null;
  readonly why: string | null;

  constructor(readonly sampler: TextSampler) {
    this.why = DeviceTextBatches.whyNot(sampler);
  }

  get replayable(): boolean {
    return this.why === null;
  }

  /**
   * n examples drawn from `rng` (the same draw and rows either way): new tensors from the GPU copy
   * (the caller's scope disposes them), or TextSampler.batch's persistent ones (not to be disposed).
   */
  batch(n: number, rng: Generator): TextBatchTensors {
    if (this.why) return this.sampler.batch(n, rng);
    this.device ??= new DeviceTextBatches(this.sampler);
    return this.device.batch(n, rng);
  }

  dispose(): void {
    this.device?.dispose();
    this.device = null;
  }
}
