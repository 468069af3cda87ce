// Drawing samples: G(z) without gradients (generateWith), uniform noise, and the fixed inputs an
// image-to-image trainer shows its generator for sample grids (SampleInputs).

import { type Tensor, empty, noGrad, tidy, type Generator, ops, type nn, init } from '../../engine/index.js';

/**
 * G(z) without gradients. With batchStats (the PyTorch example's sample grids, whose G stays in
 * train mode) BN normalises with the samples' own statistics and the running statistics are left
 * untouched; otherwise G runs in eval mode on its running statistics.
 */
export function generateWith(netG: nn.Module, z: Tensor, batchStats: boolean): Tensor {
  const wasTraining = netG.training;
  return noGrad(() => {
    if (!batchStats) {
      netG.eval();
      try {
        return tidy(() => netG.call(z) as Tensor);
      } finally {
        netG.train(wasTraining);
      }
    }
    const buffers = netG.buffers();
    const saved = buffers.map((b) => init.fillFrom(empty(b.shape, 'bn_snapshot', b.dtype), b).keep());
    try {
      netG.train();
      return tidy(() => netG.call(z) as Tensor);
    } finally {
      buffers.forEach((b, i) => b.engine.copy(saved[i].buffer, 0, b.buffer, 0, b.size * 4));
      saved.forEach((t) => t.dispose());
      netG.train(wasTraining);
    }
  });
}

/** Samples of U[-1, 1) (the BEGAN and MAD-GAN reference noise). */
export function uniformNoise(shape: readonly number[], generator: Generator): Tensor {
  return ops.affine(ops.rand(shape, { generator }), 2, -1);
}

/**
 * The fixed inputs an image-to-image trainer shows its generator for sample grids (what a latent
 * batch is to DCGAN). Given explicitly with set() (e.g. held-out test images), or else gathered
 * from the first training batches until there are as many as were asked for. take(n) may be called
 * before any training step: the tensor it returns holds zeros until batches arrive, then the
 * inputs gathered so far (repeated to n), so a training loop that draws its fixed "noise" once at
 * the start still sees real inputs.
 */
export class SampleInputs {
  private source: Tensor | null = null;
  private explicit = false;
  /** How many inputs to gather from training batches (the largest take() so far). */
  private wanted = 0;
  private readonly pending: Tensor[] = [];

  constructor(readonly shape: readonly [channels: number, height: number, width: number]) {}

  get count(): number {
    return this.source?.shape[0] ?? 0;
  }

  /** Whether offer() still gathers inputs (part of a trainer's replay key: the step's work differs). */
  get gathering(): boolean {
    return !this.explicit && this.count < this.wanted;
  }

  /** Uses these images (N, C, H, W; copied) as the sample inputs from now on. */
  set(images: Tensor): void {
    this.explicit = true;
    this.replace(noGrad(() => tidy(() => ops.concat([images.detach()], 0))));
  }

  /** Offers a training batch: gathered while fewer inputs than asked for were set or seen. */
  offer(batch: Tensor): void {
    if (this.explicit || this.count >= this.wanted) return;
    const room = this.wanted - this.count;
    this.replace(
      noGrad(() =>
        tidy(() => {
          const fresh = batch.detach().narrow(0, 0, Math.min(room, batch.shape[0]));
          return ops.concat(this.source ? [this.source, fresh] : [fresh], 0);
        }),
      ),
    );
  }

  /** n sample inputs (a new tensor the caller owns; it fills in as training batches arrive). */
  take(n: number): Tensor {
    const [c, h, w] = this.shape;
    this.wanted = Math.max(this.wanted, n);
    const out = noGrad(() => ops.full([n, c, h, w], 0));
    if (this.source) this.fill(out);
    if (!this.explicit && this.count < n) this.pending.push(out);
    return out;
  }

  private replace(next: Tensor): void {
    this.source?.dispose();
    this.source = next.keep();
    for (const t of [...this.pending]) {
      if (t.isDisposed) this.pending.splice(this.pending.indexOf(t), 1);
      else this.fill(t);
    }
    if (this.explicit || this.count >= this.wanted) this.pending.length = 0;
  }

  private fill(dst: Tensor): void {
    const src = this.source!;
    const k = src.shape[0];
    const per = src.size / k;
    // Repeat the source images until dst is full (a plain copy in order, no host round trip).
    for (let i = 0; i < dst.shape[0]; i += k) {
      const m = Math.min(k, dst.shape[0] - i);
      dst.engine.copy(src.buffer, 0, dst.buffer, i * per * 4, m * per * 4);
    }
  }

  dispose(): void {
    this.source?.dispose();
    this.source = null;
    this.pending.length = 0;
  }
}
