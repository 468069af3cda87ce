// Recorded-step replay (engine/replay.ts, nets/lib/step.ts replayed()): for every registered model,
// N steps eager and N steps through replayed() from the same seed must leave every parameter,
// buffer, optimiser moment and step count, training state and the noise stream bit for bit the
// same, with the same statistics on logging steps, and every model must reach its plans and replay.
// Also: a steady-state eager step creates no bind groups; a replayed step creates no bind groups or
// buffers and live buffers stay constant over 200 replayed steps; a shape change drops the plan,
// re-records and stays bit-identical; releasing a buffer the plan uses makes it stale.

import { beforeAll, describe, expect, it } from 'vitest';
import { engine, initEngine } from '../engine/device.js';
import { tensor, type Tensor } from '../engine/tensor.js';
import { Generator, Mulberry32, StepReplayer, init, ops, tidy } from '../engine/index.js';
import { DataLoader } from '../data/loader.js';
import { TextSampler } from '../data/text.js';
import { ImagePool, ImagePoolState } from '../nets/lib/pool.js';
import { DeviceTextBatches } from '../nets/lib/text_batches.js';
import { readStats } from '../nets/lib/stats.js';
import { replayed } from '../nets/lib/step.js';
import { recipes, type GanTrainer, type ModelConfig, type ModelRecipe } from '../nets/registry.js';
import { trainerState } from './support/resume.js';
import { type ModelCase, modelCase, seededRows } from './support/model_cases.js';
import { GAN_ADAM, TINY_TEXT, configOf, seeded } from './support/util.js';

beforeAll(async () => {
  await initEngine();
});

type Case = ModelCase & {
  batch: number;
  labels?: boolean;
  tokens?: boolean;
  /** Plans a replaying model ends with (n_critic models: 2, a D-only and a D+G step); default 1. */
  plans?: number;
};

const TOKENS = [
  ['red', 'apple'],
  ['green', 'apple'],
  ['dog', 'face'],
  ['cat', 'face'],
  ['car', 'travel'],
  ['car', 'road'],
];

/** `model`'s shared setup with this file's fields (`config` merged over the shared one). */
const replayCase = (model: string, extra: Omit<Case, keyof ModelCase> & { config?: ModelConfig }): Case => modelCase(model, extra);

/**
 * The shared setups (tests/support/model_cases.ts) at batch 2, or 1 for the 6-channel models at 32
 * and 64 pixels. Smaller images barely cut this file's cost: a step's CPU time on lavapipe is mostly
 * per dispatch, not per pixel (CycleGAN at 8 px took 0.82 and 0.96 of its 16 px CPU seconds in two
 * alternating runs, 2026-12-06).
 */
const CASES: Case[] = [
  replayCase('dcgan', { batch: 2 }),
  replayCase('pix2pix', { batch: 1 }),
  // A history of 5 images: the pool fills over the first 5 steps (two eager, three replayed), then swaps.
  replayCase('cyclegan', { batch: 1, config: { poolSize: 5 } }),
  replayCase('autoencoder', { batch: 2 }),
  replayCase('ebgan', { batch: 2 }),
  replayCase('began', { batch: 2, config: { lrHalveEvery: 100 } }),
  replayCase('gman', { batch: 2 }),
  replayCase('madgan', { batch: 2 }),
  replayCase('lapgan', { batch: 2 }),
  // Conditional: the batch of images, captions and mismatched captions drawn on the GPU (the
  // unconditional step has no host side at all).
  replayCase('stackganpp', {
    batch: 2,
    tokens: true,
    labels: true,
    config: { ...TINY_TEXT, conditional: true, textSteps: 1, imageWidth: 4 },
  }),
  replayCase('dualgan', { batch: 1, plans: 2 }),
  replayCase('discogan', { batch: 1, plans: 2 }),
  replayCase('stargan', { batch: 2, plans: 2 }),
  replayCase('triplegan', { batch: 2, labels: true }),
  replayCase('stackgan', { batch: 2, tokens: true, labels: true }),
];

/** Steps per run: the models warm up in 3 to 8 eager steps (one plan per key of their control flow), then replay. */
const STEPS = 20;

function makeRun(k: Case) {
  const recipe: ModelRecipe = recipes[k.model];
  let config = configOf(recipe, k.config);
  if (recipe.adaptToData) config = recipe.adaptToData(config, { channels: k.c });
  const n = 20;
  const data = {
    ...seededRows(k, n),
    labels: k.labels ? Int32Array.from({ length: n }, (_, i) => i % 10) : undefined,
    tokens: k.tokens ? Array.from({ length: n }, (_, i) => TOKENS[i % TOKENS.length]) : undefined,
  };
  const settings = { ...recipe.train, ...GAN_ADAM, batch: k.batch, steps: STEPS };
  return { recipe, config, data, settings };
}

async function train(k: Case, replay: boolean, steps = STEPS) {
  const { recipe, config, data, settings } = makeRun(k);
  const t: GanTrainer = recipe.create(config, settings, 5);
  const [c, h, w] = data.sampleShape;
  t.bindData?.({ images: data.data, n: data.n, c, h, w, labels: data.labels, tokens: data.tokens });
  const loader = new DataLoader(data, { batchSize: k.batch, seed: 5 });
  const real = tensor(new Float32Array(k.batch * c * h * w), [k.batch, c, h, w]).keep();
  const r = replayed(t, { enabled: replay });
  const rows: Record<string, number>[] = [];
  const outcomes: string[] = [];
  for (let i = 0; i < steps; i++) {
    loader.nextInto(real);
    const st = r.step(real, i % 3 === 2 || i === steps - 1);
    outcomes.push(r.lastOutcome ?? 'direct');
    if (st) rows.push(await readStats(st));
  }
  const state = await trainerState(t);
  const report = r.report();
  r.dispose();
  real.dispose();
  return { state, rows, report, outcomes };
}

function expectSameBits(a: Map<string, ArrayLike<number> | string>, b: Map<string, ArrayLike<number> | string>, what: string) {
  expect([...b.keys()], what).toEqual([...a.keys()]);
  for (const [key, va] of a) {
    const vb = b.get(key)!;
    if (typeof va === 'string') expect(vb, `${what}: ${key}`).toBe(va);
    else {
      const x = new Uint32Array(Float32Array.from(va as ArrayLike<number>).buffer);
      const y = new Uint32Array(Float32Array.from(vb as ArrayLike<number>).buffer);
      let bad = -1;
      for (let i = 0; i < x.length && bad < 0; i++) if (x[i] !== y[i]) bad = i;
      expect(bad, `${what}: ${key} differs first at element ${bad}`).toBe(-1);
    }
  }
}

describe('recorded-step replay: bit-identical to eager, every registered model', () => {
  it('covers every registered model', () => {
    expect(CASES.map((c) => c.model).sort()).toEqual(Object.keys(recipes).sort());
  });

  for (const k of CASES) {
    it(`${k.model}: ${STEPS} steps eager = ${STEPS} steps through replayed(), bit for bit`, async () => {
      const eager = await train(k, false);
      const rep = await train(k, true);
      expectSameBits(eager.state, rep.state, k.model);
      expect(rep.rows).toEqual(eager.rows);
      expect(rep.report.lastReason, k.model).toBeNull();
      expect(rep.report.replayed, `${k.model}: steps replayed (${rep.outcomes.join(' ')})`).toBeGreaterThanOrEqual(STEPS - 9);
      expect(rep.outcomes.slice(-3), k.model).toEqual(['replayed', 'replayed', 'replayed']);
      expect(rep.report.plans, `${k.model}: plans`).toBe(k.plans ?? 1);
    });
  }
});

// ---- the plan's life: counters, memory, fallbacks ---------------------------------------------------------

const DCGAN = CASES.find((k) => k.model === 'dcgan')!;

/** A tiny DCGAN, its replayed() wrapper and a batch source; `batches[i]` is step i's batch size. */
function dcganRun(replay: boolean) {
  const { recipe, config, data, settings } = makeRun(DCGAN);
  const t = recipe.create(config, settings, 5);
  const r = replayed(t, { enabled: replay });
  let seed = 1;
  const step = (batch: number, withStats = false) => {
    const real = tensor(seeded(batch * 16 * 16, seed++), [batch, 1, 16, 16]);
    const st = r.step(real, withStats);
    real.dispose();
    return st;
  };
  return { t, r, step, data };
}

describe('recorded-step replay: counters, memory and fallbacks', () => {
  it('a steady-state eager step creates no bind groups and no buffers', async () => {
    const { t, step } = dcganRun(false);
    for (let i = 0; i < 4; i++) step(2);
    await engine().sync();
    const before = engine().snapshotCounters();
    step(2);
    const d = engine().countersSince(before);
    expect(d.dispatches).toBeGreaterThan(20);
    expect(d.bindGroupsCreated).toBe(0);
    expect(d.buffersCreated).toBe(0);
    await trainerState(t);
  });

  it('replayed steps create no bind groups or buffers; live buffers stay constant over 200 replayed steps', async () => {
    const e = engine();
    const { r, step } = dcganRun(true);
    for (let i = 0; i < 4; i++) {
      const st = step(2, true);
      if (st) await readStats(st);
    }
    expect(r.lastOutcome).toBe('replayed');
    await e.sync();
    const mem0 = e.memory();
    const before = e.snapshotCounters();
    const plan = r.report().planDispatches!;
    for (let i = 0; i < 200; i++) {
      const st = step(2, i % 50 === 49);
      if (st) {
        expect(Object.keys(st).length).toBe(5);
        for (const v of Object.values(st)) v.dispose();
      }
      expect(r.lastOutcome).toBe('replayed');
      if (i === 9) expect(e.memory()).toEqual(mem0);
    }
    await e.sync();
    const d = e.countersSince(before);
    expect(d.replayedSteps).toBe(200);
    expect(d.eagerSteps).toBe(0);
    expect(d.bindGroupsCreated).toBe(0);
    expect(d.buffersCreated).toBe(0);
    expect(d.dispatches).toBe(200 * plan);
    expect(e.memory()).toEqual(mem0);
    expect(mem0.heldBuffers).toBeGreaterThan(0);
    r.dispose();
    expect(e.memory().heldBuffers).toBe(0);
  });

  it('a shape change, a state dict loaded into new tensors and trimPool() fall back, re-record, and stay bit-identical', async () => {
    const e = engine();
    const sizes = [2, 2, 2, 2, 2, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2];
    const go = async (replay: boolean) => {
      const { t, r, step } = dcganRun(replay);
      const before = new Map(e.replayFallbacks);
      const outcomes: string[] = [];
      for (let i = 0; i < sizes.length; i++) {
        if (i === 13) {
          // A state dict loaded into new tensors (the same values): the old moments' buffers, which
          // the plan uses, are released: stale.
          const o = t.optimizers.netD;
          const sd = o.stateDict();
          const entries = Object.entries(sd.tensors) as [string, Tensor][];
          const tensors = Object.fromEntries(
            await Promise.all(entries.map(async ([n, v]) => [n, tensor(await v.data(), v.shape).keep()] as const)),
          );
          const copy = { ...sd, tensors };
          o.dispose();
          o.loadStateDict(copy);
          for (const v of Object.values(copy.tensors)) v.dispose();
        }
        if (i === 17) e.trimPool();
        step(sizes[i]);
        outcomes.push(r.lastOutcome ?? 'direct');
      }
      const reasons = [...e.replayFallbacks].filter(([k, n]) => n !== before.get(k)).map(([k]) => k);
      const state = await trainerState(t);
      const report = r.report();
      r.dispose();
      return { state, reasons, report, outcomes };
    };
    const a = await go(false);
    const b = await go(true);
    expectSameBits(a.state, b.state, 'dcgan, shapes 2 -> 3 -> 2');
    expect(b.report.replayed, b.outcomes.join(' ')).toBeGreaterThanOrEqual(4);
    const all = b.reasons.join('\n');
    expect(all).toMatch(/input shape float32\[2,1,16,16\] -> float32\[3,1,16,16\]/);
    expect(all).toMatch(/plan stale: buffer #\d+ .*released outside the step/);
    expect(all).toMatch(/plan stale: trimPool\(\) was called/);
  });

  it("ImagePool's GPU exchange equals the host loop it replaced (fill, swaps, a slot swapped twice in a batch, more rows than one dispatch), records replayably, and resumes from both checkpoint layouts", async () => {
    const plane = 3;
    const rows = (b: number, seed: number) => seeded(b * plane, seed);
    // The pool before the slots tensor, on host arrays: the same Mulberry32 draws in the same order.
    const host = (size: number, seed: number) => {
      const rng = new Mulberry32(seed);
      const images: Float32Array[] = [];
      return {
        images,
        query(x: Float32Array): Float32Array {
          const out = new Float32Array(x.length);
          for (let i = 0; i < x.length / plane; i++) {
            const img = x.slice(i * plane, (i + 1) * plane);
            if (images.length < size) {
              images.push(img);
              out.set(img, i * plane);
            } else if (rng.next() > 0.5) {
              const j = Math.floor(rng.next() * size);
              out.set(images[j], i * plane);
              images[j] = img;
            } else out.set(img, i * plane);
          }
          return out;
        },
      };
    };
    const size = 4;
    const batches = [1, 2, 3, 6, 1, 53, 2, 5].map((b, i) => rows(b, 40 + i));
    const ref = host(size, 9);
    const pool = new ImagePool(size, 9);
    const query = async (p: ImagePool, x: Float32Array) => {
      const t = tensor(x, [x.length / plane, 1, 1, plane]);
      const { value: y, recording } = engine().record(() => p.query(t));
      expect(recording.notReplayable).toEqual([]);
      const out = await y.data();
      t.dispose();
      y.dispose();
      return out;
    };
    for (const [i, x] of batches.entries()) {
      const want = ref.query(x);
      expect(Array.from(await query(pool, x)), `query ${i} (${x.length / plane} rows)`).toEqual(Array.from(want));
    }
    expect(pool.size).toBe(size);
    const stored = await pool.store!.data();
    ref.images.forEach((img, j) => expect(Array.from(stored.subarray(j * plane, (j + 1) * plane)), `slot ${j}`).toEqual(Array.from(img)));

    // A resume from the slots layout (images, stored, rng) and from the per-image one written before
    // it (images.0 ... images.{k-1}, rng): the next queries return what the uninterrupted pool does.
    const state = new ImagePoolState(pool, [1, 1, plane]);
    const dict = state.stateDict();
    expect([...dict.keys()]).toEqual(['images', 'stored', 'rng']);
    const rngWord = (await dict.get('rng')!.dataInt())[0];
    expect(Array.from(await dict.get('stored')!.dataInt())).toEqual([size]);
    const f32 = (data: Float32Array, shape: number[]) => ({ dtype: 'F32' as const, shape, data });
    const i64 = (v: number) => ({ dtype: 'I64' as const, shape: [1], data: BigInt64Array.of(BigInt(v)) });
    const layouts = {
      slots: { images: f32(stored, [size, 1, 1, plane]), stored: i64(size), rng: i64(rngWord) },
      legacy: {
        ...Object.fromEntries(ref.images.map((img, j) => [`images.${j}`, f32(img, [1, 1, 1, plane])])),
        rng: i64(rngWord),
      },
    };
    const resumed = Object.entries(layouts).map(([name, d]) => {
      const p = new ImagePool(size, 0);
      const st = new ImagePoolState(p, [1, 1, plane]);
      st.loadStateDict(d);
      return { name, p, st };
    });
    for (const [i, x] of [rows(3, 70), rows(4, 71)].entries()) {
      const want = Array.from(await query(pool, x));
      for (const r of resumed) expect(Array.from(await query(r.p, x)), `${r.name} layout, query ${i} after the resume`).toEqual(want);
    }
    // The legacy layout with fewer images than slots (a pool still filling) and a mismatched image.
    const filling = new ImagePool(size, 0);
    const fst = new ImagePoolState(filling, [1, 1, plane]);
    fst.loadStateDict({ 'images.0': f32(ref.images[2], [1, 1, 1, plane]), rng: i64(5) });
    expect(filling.size).toBe(1);
    expect(Array.from(await query(filling, rows(1, 80))), 'stored in slot 1, returned as is').toEqual(Array.from(rows(1, 80)));
    expect(Array.from((await filling.store!.data()).subarray(0, 2 * plane))).toEqual([...ref.images[2], ...rows(1, 80)]);
    expect(() => fst.loadStateDict({ 'images.0': f32(new Float32Array(4), [1, 1, 1, 4]), rng: i64(5) })).toThrow(
      /images\.0: expected a float tensor \[1, 1, 1, 3\], got float32 \[1, 1, 1, 4\]/,
    );
    expect(() => fst.loadStateDict({ ...layouts.slots, 'images.0': f32(ref.images[0], [1, 1, 1, plane]) })).toThrow(
      /a pool state holds one layout/,
    );
    for (const r of [...resumed, { p: filling, st: fst }]) {
      r.st.dispose();
      r.p.dispose();
    }
    state.dispose();
    pool.dispose();
  });

  it("the text GANs' GPU batches equal TextSampler's host batches (draw, rows, mismatched captions), replayably", async () => {
    const m = 9;
    const s = 4;
    // Captions with repeats (two rows share each text) and a set where every caption is the same.
    const sets = {
      repeats: Array.from({ length: m }, (_, i) => TOKENS[Math.floor(i / 2) % TOKENS.length]),
      same: Array.from({ length: m }, () => TOKENS[0]),
    };
    for (const [name, tokens] of Object.entries(sets)) {
      const data = {
        images: seeded(m * 3 * s * s, 21),
        n: m,
        c: 3,
        h: s,
        w: s,
        tokens,
        labels: Int32Array.from({ length: m }, (_, i) => i % 4),
      };
      const sampler = new TextSampler('test', data, 16, { channels: 3, size: s });
      const dev = new DeviceTextBatches(sampler);
      for (const [n, seed, offset] of [
        [7, 3, 0],
        [2, 8, 2 ** 32 - 1],
      ]) {
        const g1 = new Generator(seed).setState({ seed, offset });
        const g2 = new Generator(seed).setState({ seed, offset });
        const want = sampler.batch(n, g1);
        const { value: got, recording } = engine().record(() => dev.batch(n, g2));
        expect(recording.notReplayable, `${name}, n = ${n}`).toEqual([]);
        expect(g2.getState(), `${name}, n = ${n}: the generator advances alike`).toEqual(g1.getState());
        for (const key of ['images', 'bow', 'bowWrong'] as const)
          expect(Array.from(await got[key].data()), `${name}, n = ${n}: ${key}`).toEqual(Array.from(await want[key].data()));
        expect(Array.from(await got.categories.dataInt()), `${name}, n = ${n}: categories`).toEqual(
          Array.from(await want.categories.dataInt()),
        );
        for (const t of Object.values(got)) t.dispose();
      }
      dev.dispose();
    }
  });

  it('one plan per key (LRU of maxPlans): alternating keys replay their own plans; a fourth plan evicts the least recently used', async () => {
    // A toy step per key: x <- x * a_k + b_k in place (each key its own kernel words), no pool traffic.
    const e = engine();
    const run = (replay: boolean, keys: string[]) => {
      const x = tensor(seeded(8, 3), [8]).keep();
      const rep = new StepReplayer<null>(e, 3);
      const outcomes: string[] = [];
      for (const k of keys) {
        const a = 1 + k.charCodeAt(0) / 64;
        const step = () => {
          tidy(() => init.fillFrom(x, ops.affine(x, a, -0.25)));
          return null;
        };
        if (replay) outcomes.push(rep.run(k, { eager: step }).outcome);
        else step();
      }
      return { x, rep, outcomes };
    };
    const keys = 'ababababab'.split('').concat('cdcdcd'.split(''), 'a', 'a', 'a');
    const eager = run(false, keys);
    const rep = run(true, keys);
    expect(Array.from(await rep.x.data()), 'bits').toEqual(Array.from(await eager.x.data()));
    // a, b: eager twice each; a plans first and holds its temporary, so b's next recording takes
    // another buffer and differs from its first: b plans on its third step; then both replay.
    expect(rep.outcomes.slice(0, 10)).toEqual([
      'eager',
      'eager',
      'planned',
      'eager',
      'replayed',
      'planned',
      'replayed',
      'replayed',
      'replayed',
      'replayed',
    ]);
    // c and d alike; d's plan is the fourth: the least recently used (a) makes room, and a records again.
    expect(rep.outcomes.slice(10, 16)).toEqual(['eager', 'eager', 'planned', 'eager', 'replayed', 'planned']);
    expect(rep.outcomes.slice(16)).toEqual(['eager', 'planned', 'replayed']);
    const reasons = [...e.replayFallbacks.keys()].join('\n');
    expect(reasons).toMatch(/more than 3 keys: the least recently used plan \(a\) made room/);
    expect(reasons).toMatch(/more than 3 keys: the least recently used plan \(b\) made room/);
    expect(rep.rep.planKeys).toEqual(['c', 'd', 'a']);
    rep.rep.dispose();
    expect(e.memory().heldBuffers).toBe(0);
    eager.x.dispose();
    rep.x.dispose();
  });

  it("randpermMatrix (StarGAN's target labels) draws randperm's permutation on the GPU, replayably", async () => {
    for (const [n, seed, offset] of [
      [1, 3, 0],
      [2, 7, 5],
      [5, 1, 2 ** 32 - 1],
      [33, 99, 12],
    ]) {
      const host = new Generator(seed).setState({ seed, offset });
      const dev = new Generator(seed).setState({ seed, offset });
      const perm = ops.randperm(n, host);
      const { value: m, recording } = engine().record(() => ops.randpermMatrix(n, dev));
      expect(recording.notReplayable, `n = ${n}`).toEqual([]);
      expect(dev.getState(), `n = ${n}: the generator advances as randperm's`).toEqual(host.getState());
      const want = new Float32Array(n * n);
      for (let i = 0; i < n; i++) want[i * n + perm[i]] = 1;
      expect(Array.from(await m.data()), `n = ${n}, offset ${offset}`).toEqual(Array.from(want));
      m.dispose();
    }
    // A fed draw is host data: uploaded, and the step is marked not replayable.
    const g = new Generator(1).feed([[2, 0, 1]]);
    const { value: m, recording } = engine().record(() => ops.randpermMatrix(3, g));
    expect(recording.notReplayable.join()).toMatch(/randperm: a fed draw/);
    expect(Array.from(await m.data())).toEqual([0, 0, 1, 1, 0, 0, 0, 1, 0]);
    m.dispose();
  });

  it("sampleRows (Triple-GAN's labelled batch) draws hostRandint's rows on the GPU, replayably", async () => {
    const m = 7;
    const x = tensor(seeded(m * 3 * 2, 11), [m, 3, 2]);
    const labels = Int32Array.from({ length: m }, (_, i) => 100 + i * 3);
    const y = tensor(labels, [m], 'int32');
    for (const [n, seed, offset] of [
      [1, 2, 0],
      [9, 5, 2 ** 32 - 2],
    ]) {
      const host = new Generator(seed).setState({ seed, offset });
      const dev = new Generator(seed).setState({ seed, offset });
      const picks = ops.hostRandint(n, m, host);
      const { value, recording } = engine().record(() => ops.sampleRows([x, y], n, dev));
      expect(recording.notReplayable, `n = ${n}`).toEqual([]);
      expect(dev.getState(), `n = ${n}: the generator advances as hostRandint's`).toEqual(host.getState());
      const [xs, ys] = value;
      expect(xs.shape).toEqual([n, 3, 2]);
      const xh = await x.data();
      const want = Float32Array.from({ length: n * 6 }, (_, i) => xh[picks[Math.floor(i / 6)] * 6 + (i % 6)]);
      expect(Array.from(await xs.data())).toEqual(Array.from(want));
      expect(Array.from(await ys.dataInt())).toEqual(Array.from(picks, (j) => labels[j]));
      xs.dispose();
      ys.dispose();
    }
    x.dispose();
    y.dispose();
  });

  it('a step drawing host data is recorded as not replayable', () => {
    const e = engine();
    const { recording } = e.record(() => ops.randperm(5, new Generator(1)));
    expect(recording.notReplayable.join()).toMatch(/randperm/);
    const { recording: r2 } = e.record(() => ops.randn([4], { generator: new Generator(1) }).dispose());
    expect(r2.notReplayable).toEqual([]);
    expect(r2.ops.length).toBe(1);
  });
});
