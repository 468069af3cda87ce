// Step goldens: one (or a few) training steps of a trainer checked element by element against a
// PyTorch transcription of the reference implementation's training loop.
//
// A golden is tests/golden/steps/<name>.safetensors, written by scripts/golden/stepgolden.py:
//   init.<net>.<key>      every network's state (parameters and buffers) before the first step;
//                         the engine loads these, so both sides start from the same weights
//   input.<name>          the batch (and labels, captions, ...) each step consumes
//   draw.<i>              the i-th random draw of the run in the engine's order (noise, dropout
//                         masks, permutations): fed to the trainer's Generator, so neither side draws
//   step<k>.<net>.<key>   every network's state after step k (k = 1 .. steps)
//   grad<k>.<net>.<key>   optional: PyTorch's gradient of that parameter in step k (for tolerances)
//   stat<k>.<name>        the step's losses/statistics (1-element tensors)
// metadata: config (JSON ModelConfig), settings (JSON), steps, draw_labels (JSON list), notes.
//
// Comparison is per element: |got - want| <= atol + rtol |want| with atol relative to the tensor's
// largest magnitude. Adam's first updates are lr * g / (|g| + eps): a parameter whose PyTorch
// gradient is float32 noise (a conv bias before a normalisation, exactly zero in exact arithmetic)
// can move by +-lr on either side; where grad<k> is stored such elements are held only to |update| <= lr
// (stepsBound), never skipped silently: the report counts them.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { decodeSafetensors, tensorToFloat32, type SafetensorsFile } from '../../engine/io/safetensors.js';
import type { Generator } from '../../engine/ops/random.js';
import { tensor, type Tensor } from '../../engine/tensor.js';
import { readStats } from '../../nets/lib/stats.js';
import type { GanTrainer, ModelConfig, TrainSettings } from '../../nets/registry.js';

export const STEP_GOLDEN_DIR = join(__dirname, '..', 'golden', 'steps');

export class StepGolden {
  readonly file: SafetensorsFile;
  readonly config: ModelConfig;
  readonly settings: TrainSettings & Record<string, unknown>;
  readonly steps: number;
  readonly drawLabels: string[];

  constructor(
    readonly name: string,
    dir = STEP_GOLDEN_DIR,
  ) {
    this.file = decodeSafetensors(readFileSync(join(dir, `${name}.safetensors`)), `${name}.safetensors`);
    const md = this.file.metadata;
    this.config = JSON.parse(md.config ?? '{}');
    this.settings = JSON.parse(md.settings ?? '{}');
    this.steps = Number(md.steps ?? 1);
    this.drawLabels = JSON.parse(md.draw_labels ?? '[]');
  }

  has(key: string): boolean {
    return key in this.file.tensors;
  }

  get(key: string): Float32Array {
    const t = this.file.tensors[key];
    if (!t) throw new Error(`${this.name}: no tensor '${key}' in the golden (keys: ${this.keys('').slice(0, 8).join(', ')}, ...)`);
    return tensorToFloat32(t);
  }

  shape(key: string): number[] {
    return this.file.tensors[key].shape;
  }

  /** Keys under a prefix, in file order. */
  keys(prefix: string): string[] {
    return Object.keys(this.file.tensors).filter((k) => k.startsWith(prefix));
  }

  /** State of one network under a prefix ('init.netG.'), keys without the prefix. */
  state(prefix: string): Map<string, { shape: number[]; data: Float32Array }> {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const k of this.keys(prefix)) out.set(k.slice(prefix.length), { shape: this.shape(k), data: this.get(k) });
    return out;
  }

  /** Network names present in the init state. */
  netNames(): string[] {
    return [...new Set(this.keys('init.').map((k) => k.split('.')[1]))];
  }

  /** Statistics of step k (1-based) as numbers. */
  stats(k: number): Record<string, number> {
    const p = `stat${k}.`;
    return Object.fromEntries(this.keys(p).map((key) => [key.slice(p.length), this.get(key)[0]]));
  }
}

/**
 * Loads init.<net>.* into every network of the trainer (and of trainingState, if the golden has
 * it), strictly: a key missing on either side fails with the module's own message.
 */
export function loadInit(trainer: GanTrainer, g: StepGolden): void {
  const modules = { ...trainer.nets, ...(trainer.trainingState ?? {}) };
  for (const net of g.netNames()) {
    const m = modules[net];
    if (!m) throw new Error(`${g.name}: the golden has network '${net}', the trainer has ${Object.keys(modules).join(', ')}`);
    const dict = new Map<string, { dtype: string; shape: number[]; data: Float32Array | Int32Array }>();
    for (const [k, v] of g.state(`init.${net}.`)) {
      const own = m.stateDict().get(k);
      dict.set(k, {
        dtype: own?.dtype === 'int32' ? 'I32' : 'F32',
        shape: v.shape,
        data: own?.dtype === 'int32' ? Int32Array.from(v.data) : v.data,
      });
    }
    m.loadStateDict(dict as never);
  }
}

/** Feeds every draw.<i> of the golden, in order, to `gen` (labelled from the metadata). */
export function feedDraws(gen: Generator, g: StepGolden): number {
  const n = g.keys('draw.').length;
  for (let i = 0; i < n; i++) gen.feed([{ values: g.get(`draw.${i}`), label: g.drawLabels[i] ?? `draw.${i}` }]);
  return n;
}

export interface CompareOptions {
  /** Relative tolerance per element (default 1e-4). */
  rtol?: number;
  /** Absolute tolerance as a fraction of the tensor's largest |want| (default 1e-5). */
  atolScale?: number;
  /** Plain absolute floor (default 1e-7). */
  atol?: number;
}

/** The worst element of got vs want, or null when every element is within tolerance. */
export function worstMismatch(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  o: CompareOptions = {},
  skip?: (i: number) => boolean,
): { i: number; got: number; want: number; err: number; tol: number } | null {
  const rtol = o.rtol ?? 1e-4;
  let maxAbs = 0;
  for (let i = 0; i < want.length; i++) maxAbs = Math.max(maxAbs, Math.abs(want[i]));
  const atol = (o.atolScale ?? 1e-5) * maxAbs + (o.atol ?? 1e-7);
  let worst: { i: number; got: number; want: number; err: number; tol: number } | null = null;
  for (let i = 0; i < want.length; i++) {
    if (skip?.(i)) continue;
    const err = Math.abs(got[i] - want[i]);
    const tol = atol + rtol * Math.abs(want[i]);
    if (!(err <= tol) && (!worst || !(err / tol <= worst.err / worst.tol))) worst = { i, got: got[i], want: want[i], err, tol };
  }
  return worst;
}

/** Expects two arrays equal element by element within tolerance; the message names the worst element. */
export function expectAllClose(
  what: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  o: CompareOptions = {},
  skip?: (i: number) => boolean,
): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const w = worstMismatch(got, want, o, skip);
  expect(
    w,
    w ? `${what}[${w.i}]: ${w.got} vs PyTorch ${w.want} (|err| ${w.err.toExponential(2)} > tol ${w.tol.toExponential(2)})` : what,
  ).toBeNull();
}

export interface StateCheckOptions extends CompareOptions {
  /** The learning rate of each network's optimiser, for Adam's noise-gradient elements (see top). */
  lr?: Record<string, number> | number;
  /** Gradient magnitudes below this fraction of the tensor's largest are 'noise' (default 1e-5). */
  noiseGrad?: number;
  /**
   * Gradient magnitudes below this absolute value are 'noise' too (default 0: off). For tensors
   * whose every element is noise, e.g. a 1-channel conv's bias before instance norm, where the
   * relative test above cannot tell (its largest element is noise as well).
   */
  noiseGradAbs?: number;
}

/**
 * Compares every network's state after step k with step<k>.<net>.*: the key sets must be equal and
 * every element within tolerance. Returns how many elements were held only to the noise-gradient
 * bound (so a test can assert it is small).
 */
export async function expectStateMatches(trainer: GanTrainer, g: StepGolden, k: number, o: StateCheckOptions = {}): Promise<number> {
  const modules = { ...trainer.nets, ...(trainer.trainingState ?? {}) };
  let loose = 0;
  const nets = [...new Set(g.keys(`step${k}.`).map((key) => key.split('.')[1]))];
  expect(nets.length, `${g.name}: step${k} has no state`).toBeGreaterThan(0);
  for (const net of nets) {
    const want = g.state(`step${k}.${net}.`);
    const own = modules[net].stateDict();
    expect([...own.keys()].sort(), `${g.name}: state keys of ${net}`).toEqual([...want.keys()].sort());
    for (const [key, w] of want) {
      const t: Tensor = own.get(key)!;
      const got = t.dtype === 'int32' ? Float32Array.from(await t.dataInt()) : await t.data();
      const gradKey = `grad${k}.${net}.${key}`;
      let skip: ((i: number) => boolean) | undefined;
      if (g.has(gradKey) && o.lr !== undefined) {
        const gr = g.get(gradKey);
        let gmax = 0;
        for (const v of gr) gmax = Math.max(gmax, Math.abs(v));
        const cut = Math.max((o.noiseGrad ?? 1e-5) * gmax, o.noiseGradAbs ?? 0);
        const lr = typeof o.lr === 'number' ? o.lr : o.lr[net];
        // From the initial state (not step k - 1's golden value: the engine's element may already
        // sit up to lr on the other side of it after an earlier noise step).
        const init = g.get(`init.${net}.${key}`);
        skip = (i) => {
          if (Math.abs(gr[i]) > cut) return false;
          // a noise gradient: the update may take either sign, but never more than k * lr (Adam's bound)
          expect(
            Math.abs(got[i] - init[i]),
            `${g.name}: after step ${k}, ${net}.${key}[${i}] moved more than ${k} x lr from its initial value`,
          ).toBeLessThanOrEqual(1.01 * k * lr + 1e-6);
          loose++;
          return true;
        };
      }
      expectAllClose(`${g.name}: after step ${k}, ${net}.${key}`, got, w.data, o, skip);
    }
  }
  return loose;
}

/** Expects the step's returned statistics to match stat<k>.* (every golden stat must be returned). */
export function expectStatsMatch(stats: Record<string, number>, g: StepGolden, k: number, o: CompareOptions = {}): void {
  const want = g.stats(k);
  expect(Object.keys(want).length, `${g.name}: step ${k} has no stats`).toBeGreaterThan(0);
  for (const [name, v] of Object.entries(want)) {
    expect(stats[name], `${g.name}: step ${k} returned no '${name}' (got ${Object.keys(stats).join(', ')})`).toBeDefined();
    expectAllClose(`${g.name}: step ${k} ${name}`, [stats[name]], [v], { rtol: o.rtol ?? 1e-4, atolScale: 0, atol: o.atol ?? 1e-6 });
  }
}

export interface StepRunOptions extends StateCheckOptions {
  /** Called between loadInit and feedDraws (e.g. bindData, which must not take fed draws). */
  prepare?: () => void;
  /** The real batch of step k, disposed after the step (default: input.real, every step). */
  batch?: (k: number) => Tensor;
  /** Extra checks after step k's statistics and state were compared. */
  afterStep?: (k: number, stats: Record<string, number>) => void | Promise<void>;
}

/**
 * The whole golden on `trainer`: loadInit, prepare, feedDraws, then per step: the step on its
 * batch, expectStatsMatch, expectStateMatches; finally every fed draw must have been used. Returns
 * each step's statistics and how many elements were held only to the noise-gradient bound (the
 * caller bounds them: the allowance depends on the model).
 */
export async function runStepGolden(
  trainer: GanTrainer,
  g: StepGolden,
  o: StepRunOptions = {},
): Promise<{ stats: Record<string, number>[]; loose: number[] }> {
  const { prepare, batch, afterStep, ...check } = o;
  loadInit(trainer, g);
  prepare?.();
  feedDraws(trainer.rng, g);
  const batchOf = batch ?? (() => tensor(g.get('input.real'), g.shape('input.real')));
  const out = { stats: [] as Record<string, number>[], loose: [] as number[] };
  for (let k = 1; k <= g.steps; k++) {
    const real = batchOf(k);
    let stats: Record<string, number>;
    try {
      stats = await readStats(trainer.step(real, true)!);
    } finally {
      real.dispose();
    }
    expectStatsMatch(stats, g, k);
    out.loose.push(await expectStateMatches(trainer, g, k, check));
    await afterStep?.(k, stats);
    out.stats.push(stats);
  }
  expect(trainer.rng.fedRemaining, `${g.name}: fed draws left over`).toBe(0);
  return out;
}
