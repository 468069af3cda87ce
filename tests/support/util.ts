// Small helpers the network test files share: recipe configs, seeded inputs, comparisons.

import { afterAll, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomHost } from '../../engine/ops/cpu/host.js';
import type { Module } from '../../engine/nn/module.js';
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

/** Deterministic host random numbers in [-1, 1) times `scale` (an LCG), so tests never depend on the GPU RNG. */
export function hostRandom(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s >>> 8) / 2 ** 23 - 1) * scale;
  }
  return out;
}

/** max |a - b| over equal-length arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** max |got - want| / max |want| over a whole output (a NaN counts as infinitely wrong). */
export function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    num = Math.max(num, Number.isNaN(e) ? Infinity : e);
    den = Math.max(den, Math.abs(want[i]));
  }
  return num / den;
}

/** A network's state_dict as [key, shape] pairs (what the golden params files list). */
export function keysOf(net: Module): [string, number[]][] {
  return [...net.stateDict()].map(([k, t]) => [k, [...t.shape]]);
}

/** Checks a network's state_dict keys, shapes and parameter count against a golden summary, then disposes it. */
export function expectNetSummary(net: Module, want: NetSummary): void {
  try {
    expect(keysOf(net)).toEqual(want.keys);
    expect(net.numParameters()).toBe(want.params);
  } finally {
    net.dispose();
  }
}

/** A fresh temporary folder (under the OS's), removed after the calling file's tests. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** One entry of a golden params file (tests/golden/nets/*params.json): the parameter count and the state_dict keys. */
export interface NetSummary {
  params: number;
  keys: [string, number[]][];
}

/**
 * Synthetic image pairs as rows of 6 channels, s x s: A a disc of random colour on white, B the
 * same disc recoloured (channels rotated, negated). Seeded (an LCG), so the rows are the same every run.
 */
export function synthDiscPairs(n: number, s: number, seed: number): Float32Array {
  const out = new Float32Array(n * 6 * s * s);
  let r = seed >>> 0;
  const rnd = () => (r = (Math.imul(r, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  for (let i = 0; i < n; i++) {
    const cx = rnd() * s,
      cy = rnd() * s,
      rad = s * (0.2 + 0.25 * rnd());
    const col = [rnd() * 2 - 1, rnd() * 2 - 1, rnd() * 2 - 1];
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < s; y++) {
        for (let x = 0; x < s; x++) {
          const inside = (x - cx) ** 2 + (y - cy) ** 2 < rad * rad;
          out[((i * 6 + c) * s + y) * s + x] = inside ? col[c] : 1;
          out[((i * 6 + 3 + c) * s + y) * s + x] = inside ? -col[(c + 1) % 3] : 1;
        }
      }
    }
  }
  return out;
}

/** The text-conditioning part of the tiny StackGAN / StackGAN++ configs the tests build. */
export const TINY_TEXT = { nz: 6, cDim: 4, embedDim: 8, buckets: 32, textHidden: 8, nd: 4 };

/** The tiny StackGAN (Stage-I at 8 px, a few channels each, one step per pretraining phase) the tests below build. */
export const TINY_STACKGAN = {
  ...TINY_TEXT,
  nc: 3,
  stage1Size: 8,
  stage2Down: 1,
  ngf: 2,
  ndf: 4,
  ngf2: 4,
  ndf2: 4,
  resBlocks: 1,
  imageWidth: 4,
  textSteps: 1,
  stage1Steps: 1,
};
