// Small helpers the network test files share: recipe configs, seeded inputs, comparisons.

import { expect } from 'vitest';
import { randomHost } from '../../engine/ops/cpu/host.js';
import type { ModelConfig, ModelRecipe } from '../../nets/registry.js';

/** Adam as the GAN papers set it (DCGAN's 2e-4, betas (0.5, 0.999)). */
export const GAN_ADAM = { lr: 2e-4, beta1: 0.5, beta2: 0.999 };

/** A recipe's defaults with overrides (what the CLI builds from flags). */
export function configOf(r: ModelRecipe, over: ModelConfig): ModelConfig {
  const c = Object.fromEntries(Object.entries(r.options).map(([k, o]) => [k, o.default as number | string | boolean]));
  return { ...c, ...over };
}

/** Deterministic values in [lo, hi) (mulberry32, engine/ops/cpu/host.ts), as float32. */
export function seeded(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from(randomHost([n], seed, lo, hi).data);
}

/** max |a - b| over equal-length arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
