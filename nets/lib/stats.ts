// Reading a training step's statistics back to the host: every scalar is packed into one small
// tensor on the GPU, so logging costs a single readback (one GPU sync) however many values are
// logged. Also the accuracy statistic of classifier logits (Triple-GAN's C, StackGAN's text
// encoder). Browser-safe.

import { noGrad, tidy, type Tensor, ops } from '../../engine/index.js';
import type { StepStats } from '../registry.js';

/** Reads every scalar of `stats` with one readback and disposes them. */
export async function readStats(stats: StepStats): Promise<Record<string, number>> {
  const names = Object.keys(stats);
  if (!names.length) return {};
  const packed = tidy(() =>
    ops.concat(
      names.map((k) => stats[k].reshape([1])),
      0,
    ),
  );
  for (const k of names) stats[k].dispose();
  // data() encodes and submits the copy into a staging buffer before it first awaits, so the
  // tensor can go back to the pool now (queue order keeps later writes behind the copy): a pending
  // read then holds no pool buffer while the caller encodes more steps (nets/lib/pipeline.ts).
  let read: Promise<Float32Array>;
  try {
    read = packed.data();
  } finally {
    packed.dispose();
  }
  const values = await read;
  return Object.fromEntries(names.map((k, i) => [k, values[i]]));
}

/** Names of the non-finite values, empty when all are finite. */
export function nonFinite(values: Record<string, number>): string[] {
  return Object.entries(values)
    .filter(([, v]) => !Number.isFinite(v))
    .map(([k, v]) => `${k}=${v}`);
}

/** Fraction of rows whose largest logit is at the label (ties count for every tied class). */
export function accuracy(logits: Tensor, labels: Tensor): Tensor {
  return noGrad(() => {
    const l = logits.detach();
    const hit = ops.eqMask(l, l.max(-1, true)).mul(ops.oneHot(labels, l.shape[1]));
    return hit.sum(-1).mean();
  });
}
