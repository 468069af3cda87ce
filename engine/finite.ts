// Finite checks of many tensors at once, on the GPU: one small kernel per tensor adds its count of
// NaN/Inf values into one slot of a shared counter buffer (the optimisers' checkFinite kernel,
// shaders/optim.ts nonFiniteCountSource), then a single readback of the counters. Used before a
// checkpoint is written, so non-finite weights never replace a good file on disk.
// int32 tensors (BatchNorm's num_batches_tracked) cannot hold NaN and are counted as 0.

import { type Tensor, fmtShape, tensor } from './tensor.js';
import type { KernelSpec } from './device.js';
import { launch, grid1d } from './ops/kernel.js';
import { nonFiniteCountSource, OPTIM_WG } from '../shaders/optim.js';

let SPEC: KernelSpec | null = null;

/**
 * Per tensor, how many of its values are NaN or +-Inf (one readback for the whole list). A null
 * entry (a parameter without a gradient) counts 0. Also the optimisers' checkFinite step.
 */
export async function countNonFinite(tensors: readonly (Tensor | null | undefined)[]): Promise<number[]> {
  const n = tensors.length;
  if (n === 0) return [];
  const counts = tensor(new Int32Array(n), [n], 'int32').keep();
  try {
    const spec = (SPEC ??= {
      key: 'optim_nonfinite_count',
      code: () => nonFiniteCountSource(),
      bindings: ['read', 'rw'],
      op: 'check_finite',
    });
    tensors.forEach((t, i) => {
      if (!t || t.dtype !== 'float32' || t.size === 0) return;
      launch(spec, [t, counts], [t.size, i, 0, 0], grid1d(t.size, OPTIM_WG), { op: 'check_finite', bytes: 4 * t.size });
    });
    return Array.from(new Uint32Array((await counts.dataInt()).buffer));
  } finally {
    counts.dispose();
  }
}

export interface NonFiniteTensor {
  name: string;
  shape: readonly number[];
  /** NaN/Inf values in it. */
  count: number;
  size: number;
}

/** The named tensors that hold NaN or Inf, in the given order (empty when all are finite). */
export async function nonFiniteTensors(named: Iterable<readonly [string, Tensor]>): Promise<NonFiniteTensor[]> {
  const list = [...named];
  const counts = await countNonFinite(list.map(([, t]) => t));
  return list.flatMap(([name, t], i) => (counts[i] > 0 ? [{ name, shape: t.shape, count: counts[i], size: t.size }] : []));
}

/** "netG.main.0.weight [16, 8, 4, 4] (3 of 2048 values), ... and 4 more tensors" */
export function describeNonFinite(bad: readonly NonFiniteTensor[], show = 3): string {
  const head = bad.slice(0, show).map((b) => `${b.name} ${fmtShape(b.shape)} (${b.count} of ${b.size} values)`);
  const rest = bad.length - show;
  return head.join(', ') + (rest > 0 ? `, and ${rest} more tensor${rest === 1 ? '' : 's'}` : '');
}
