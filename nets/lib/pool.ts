// The image pool CycleGAN (and the papers built on it) trains its discriminators on: a history of
// generated images (Shrivastava et al. 2017), drawn with a seeded host generator so a resumed run
// picks the same images.

import type { Tensor } from '../../engine/tensor.js';
import { noGrad } from '../../engine/tape.js';
import { tidy } from '../../engine/tensor.js';
import { concat, narrow } from '../../engine/ops/index.js';


/** mulberry32: a small seeded PRNG for the pool's coin flips (host side; no GPU round trip). */
function mulberry32(seed: number): { next(): number; state: number } {
  const g = {
    state: seed >>> 0,
    next(): number {
      g.state = (g.state + 0x6d2b79f5) >>> 0;
      let t = g.state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
  return g;
}

/**
 * A buffer of previously generated images (CycleGAN trains D on it to damp oscillation). query()
 * takes a batch of generated images and returns a batch of the same shape: while the pool is not
 * full each image is stored and returned as is; afterwards each image, with probability 1/2,
 * replaces a random stored one, which is returned in its place (otherwise it is returned itself).
 * The returned batch is detached. Pool images are kept GPU tensors; call dispose() when done.
 */
export class ImagePool {
  private readonly images: Tensor[] = [];
  private readonly rng: { next(): number; state: number };

  constructor(readonly poolSize: number, seed = 0) {
    if (!Number.isInteger(poolSize) || poolSize < 0) throw new Error(`ImagePool: poolSize must be a non-negative integer, got ${poolSize}`);
    this.rng = mulberry32(seed);
  }

  get size(): number {
    return this.images.length;
  }

  query(batch: Tensor): Tensor {
    if (this.poolSize === 0) return batch.detach();
    const retired: Tensor[] = [];
    const out = tidy(() => {
      const chosen: Tensor[] = [];
      for (let i = 0; i < batch.shape[0]; i++) {
        const image = narrow(batch.detach(), 0, i, 1);
        if (this.images.length < this.poolSize) {
          this.images.push(image.keep());
          chosen.push(image);
        } else if (this.rng.next() > 0.5) {
          const j = Math.floor(this.rng.next() * this.poolSize);
          chosen.push(this.images[j]);
          retired.push(this.images[j]);
          this.images[j] = image.keep();
        } else {
          chosen.push(image);
        }
      }
      return concat(chosen, 0);
    });
    // The copies into `out` are encoded already, so the swapped-out images can go back to the pool.
    for (const t of retired) t.dispose();
    return out;
  }

  /** The coin-flip generator's state (for checkpoints, with `stored`: nets/cyclegan.ts ImagePoolState). */
  getState(): { rng: number } {
    return { rng: this.rng.state };
  }

  setState(s: { rng: number }): void {
    this.rng.state = s.rng >>> 0;
  }

  /** The stored images in slot order ([1, C, H, W] each; the pool's live tensors: read, do not dispose). */
  get stored(): readonly Tensor[] {
    return this.images;
  }

  /** Replaces the stored images (the pool takes ownership; at most poolSize) and the coin-flip state: a resume. */
  load(images: readonly Tensor[], s: { rng: number }): void {
    if (images.length > this.poolSize) throw new Error(`ImagePool.load: ${images.length} images for a pool of ${this.poolSize}`);
    for (const t of this.images) t.dispose();
    this.images.length = 0;
    for (const t of images) this.images.push(t.keep());
    this.setState(s);
  }

  dispose(): void {
    for (const t of this.images) t.dispose();
    this.images.length = 0;
  }
}
