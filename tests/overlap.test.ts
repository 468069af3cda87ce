// Overlapped training steps (issue 14, overlap; nets/lib/pipeline.ts, Engine.throttle): a
// non-logging step reads nothing back and never waits for the GPU to go idle, the statistics of
// logging steps arrive asynchronously and in step order, the host is never more than one step ahead,
// and none of it changes a bit of the training state or of the logged values (compared with the
// loop it replaced: a readback awaited on every logging step and a full sync after every step).
//
// All assertions are on the engine's counters and on values, none on timing. Tiny DCGAN (16 px,
// widths 4, batch 2), 12 steps per run.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, engine } from '../engine/device.js';
import { tensor, type Tensor } from '../engine/tensor.js';
import { recipes, type GanTrainer } from '../nets/registry.js';
import { readStats } from '../nets/lib/stats.js';
import { replayed } from '../nets/lib/step.js';
import { StepPipeline } from '../nets/lib/pipeline.js';
import { configOf, seeded } from './support/util.js';
import { trainerState } from './support/resume.js';

beforeAll(async () => {
  await initEngine();
});

const TINY = { imageSize: 16, nc: 1, nz: 8, ngf: 4, ndf: 4 };
const BATCH = 2;
const STEPS = 12;
const LOG_EVERY = 4;

function tinyDcgan(): GanTrainer {
  const r = recipes.dcgan;
  return r.create(configOf(r, TINY), { ...r.train, batch: BATCH }, 5);
}

/** Step s's batch: a different seeded batch every step, written into one persistent tensor (as the CLI's loader does). */
function fill(real: Tensor, s: number): void {
  real.engine.upload(real.buffer, seeded(BATCH * 16 * 16, 100 + s));
}

function dispose(t: GanTrainer): void {
  for (const m of Object.values(t.nets)) m.dispose();
  for (const o of Object.values(t.optimizers)) o.dispose();
}

/** A run's end: the trainer's state and the replayer's report, then everything freed. */
async function finish(t: GanTrainer, r: ReturnType<typeof replayed>, real: Tensor) {
  const state = await trainerState(t);
  const report = r.report();
  r.dispose();
  real.dispose();
  dispose(t);
  return { state, report };
}

/** The loop `gan train` had before: every logging step awaits its readback, every step ends in sync(). */
async function serialRun(replay: boolean) {
  const e = engine();
  const t = tinyDcgan();
  const r = replayed(t, { enabled: replay });
  const real = tensor(new Float32Array(BATCH * 16 * 16), [BATCH, 1, 16, 16]).keep();
  const logged: { step: number; values: Record<string, number> }[] = [];
  for (let s = 1; s <= STEPS; s++) {
    fill(real, s);
    const stats = r.step(real, s % LOG_EVERY === 0);
    if (stats) logged.push({ step: s, values: await readStats(stats) });
    await e.sync();
  }
  return { logged, ...(await finish(t, r, real)) };
}

/** The pipelined loop, with the engine's counters taken around every step. */
async function pipelinedRun(replay: boolean) {
  const e = engine();
  const t = tinyDcgan();
  const r = replayed(t, { enabled: replay });
  const pipe = new StepPipeline<number>(r);
  const real = tensor(new Float32Array(BATCH * 16 * 16), [BATCH, 1, 16, 16]).keep();
  const logged: { step: number; values: Record<string, number> }[] = [];
  const perStep: { step: number; logging: boolean; readbacks: number; syncs: number; submits: number }[] = [];
  for (let s = 1; s <= STEPS; s++) {
    fill(real, s);
    const logging = s % LOG_EVERY === 0;
    const before = e.snapshotCounters();
    await pipe.step(real, logging, s);
    for (const l of pipe.takeReady()) logged.push({ step: l.tag, values: l.values });
    const d = e.countersSince(before);
    perStep.push({ step: s, logging, readbacks: d.readbacks, syncs: d.syncs, submits: d.submits });
  }
  for (const l of await pipe.drain()) logged.push({ step: l.tag, values: l.values });
  await e.sync();
  return { logged, ...(await finish(t, r, real)), perStep, left: pipe.inFlight };
}

function expectSameBits(a: Map<string, ArrayLike<number> | string>, b: Map<string, ArrayLike<number> | string>): void {
  expect([...b.keys()]).toEqual([...a.keys()]);
  for (const [k, v] of a) {
    const w = b.get(k)!;
    if (typeof v === 'string') expect(w, k).toBe(v);
    else {
      // Compare the raw bytes (data() hands out the buffer's bits as a Float32Array).
      const x = new Uint32Array(Float32Array.from(v).buffer);
      const y = new Uint32Array(Float32Array.from(w as ArrayLike<number>).buffer);
      let bad = -1;
      for (let i = 0; i < x.length && bad < 0; i++) if (x[i] !== y[i]) bad = i;
      expect(y.length, k).toBe(x.length);
      expect(bad, `${k} differs first at element ${bad}`).toBe(-1);
    }
  }
}

describe('overlapped training steps', () => {
  for (const replay of [true, false]) {
    it(`${replay ? 'replayed' : 'eager'} steps: no readback or sync on a non-logging step; the same bits and logged values as the serial loop`, async () => {
      const serial = await serialRun(replay);
      const piped = await pipelinedRun(replay);
      for (const p of piped.perStep) {
        // A non-logging step reads nothing back and never waits for the GPU to go idle; a logging
        // step starts exactly one read (all its statistics packed into one tensor).
        expect(p.readbacks, `step ${p.step} readbacks`).toBe(p.logging ? 1 : 0);
        expect(p.syncs, `step ${p.step} syncs`).toBe(0);
        // Every step is submitted before step() returns (the GPU starts on it while the host goes on).
        expect(p.submits, `step ${p.step} submits`).toBeGreaterThanOrEqual(1);
      }
      expect(piped.left).toBe(0);
      // The statistics of every logging step, in order, with the values the serial loop read.
      expect(piped.logged.map((l) => l.step)).toEqual([4, 8, 12]);
      expect(piped.logged).toEqual(serial.logged);
      for (const l of piped.logged) expect(Number.isFinite(l.values.lossD) && Number.isFinite(l.values.lossG)).toBe(true);
      expectSameBits(serial.state, piped.state);
      if (replay) {
        // The pending statistics hold no pool buffer, so steps allocate alike and replay as before.
        expect(piped.report.replayed).toBe(serial.report.replayed);
        expect(piped.report.replayed).toBeGreaterThanOrEqual(STEPS - 4);
      }
    });
  }

  it('throttle(1) returns once the step before is done on the GPU, not the step just submitted', async () => {
    const e = engine();
    const q = e.device.queue;
    const original = q.onSubmittedWorkDone;
    const done: boolean[] = [];
    q.onSubmittedWorkDone = function (this: GPUQueue) {
      const i = done.push(false) - 1;
      const p = original.call(this);
      p.then(() => {
        done[i] = true;
      });
      return p;
    };
    const t = tinyDcgan();
    const pipe = new StepPipeline<number>(t);
    const real = tensor(new Float32Array(BATCH * 16 * 16), [BATCH, 1, 16, 16]).keep();
    try {
      for (let s = 1; s <= 4; s++) {
        fill(real, s);
        await pipe.step(real, false, s);
        // One mark per step; every mark but the newest has resolved when step() returns.
        expect(done.length).toBe(s);
        expect(done.slice(0, s - 1).every(Boolean), `step ${s}: marks ${done}`).toBe(true);
      }
    } finally {
      q.onSubmittedWorkDone = original;
      await e.sync();
      real.dispose();
      dispose(t);
    }
  });
});
