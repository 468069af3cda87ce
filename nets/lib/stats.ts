// Reading a training step's statistics back to the host: every scalar is packed into one small
// tensor on the GPU, so logging costs a single readback (one GPU sync) however many values are
// logged. Browser-safe.

import { tidy } from '../../engine/tensor.js';
import { concat, reshape } from '../../engine/ops/index.js';
import type { StepStats } from '../registry.js';

/** Reads every scalar of `stats` with one readback and disposes them. */
export async function readStats(stats: StepStats): Promise<Record<string, number>> {
  const names = Object.keys(stats);
  if (!names.length) return {};
  const packed = tidy(() => concat(names.map((k) => reshape(stats[k], [1])), 0));
  for (const k of names) stats[k].dispose();
  try {
    const values = await packed.data();
    return Object.fromEntries(names.map((k, i) => [k, values[i]]));
  } finally {
    packed.dispose();
  }
}

/** Names of the non-finite values, empty when all are finite. */
export function nonFinite(values: Record<string, number>): string[] {
  return Object.entries(values).filter(([, v]) => !Number.isFinite(v)).map(([k, v]) => `${k}=${v}`);
}
