// A training loop that runs ahead of the GPU (issue 14 item 2, overlap): the host encodes step n+1
// while the GPU runs step n, and statistics come back asynchronously, only from the steps that
// asked for them (logging steps). `gan train` (cli/train.ts) and the demo pages' sessions use it.
//
//   const pipe = new StepPipeline(replayed(trainer));
//   for (...) {
//     await pipe.step(real, logNow, { step });      // encode, submit, start the stats read, throttle
//     for (const r of pipe.takeReady()) log(r);      // whatever statistics have arrived (in order)
//     if (sampleOrCheckpoint) for (const r of await pipe.drain()) log(r);
//   }
//   for (const r of await pipe.drain()) log(r);
//
// A non-logging step reads nothing back and never waits for the GPU to go idle: Engine.throttle()
// only waits for the step before it (queue.onSubmittedWorkDone), which keeps the queue one step
// deep. Statistics are copied into one small tensor and its read (a copy into a MAP_READ staging
// buffer and mapAsync) is started right after the step is submitted; the tensor goes back to the
// pool at once (queue order keeps later writes behind the copy), so a pending read holds no pool
// buffer and the next steps allocate exactly as they would have (recorded-step replay compares
// their buffers). Nothing here changes what is computed: the same kernels run in the same order.

import type { Tensor } from '../../engine/index.js';
import type { StepStats } from '../registry.js';
import { readStats } from './stats.js';

/** Anything that takes a training step (a trainer, or replayed(trainer)). */
export interface Stepper {
  step(real: Tensor, withStats: boolean): StepStats | null;
}

/** The statistics of one logging step, with the caller's tag for it and when they arrived (performance.now()). */
export interface Logged<T> {
  tag: T;
  values: Record<string, number>;
  time: number;
}

interface Pending<T> {
  tag: T;
  values: Record<string, number> | null;
  error: unknown;
  time: number;
  done: Promise<void>;
}

export class StepPipeline<T> {
  private pending: Pending<T>[] = [];

  /**
   * `depth`: how many submitted steps may still be running on the GPU when step() returns (1: the
   * host encodes the next step while the GPU runs this one; 0: every step waits for the GPU, as a
   * loop with a sync per step would).
   */
  constructor(
    readonly stepper: Stepper,
    readonly depth = 1,
  ) {}

  /**
   * One step: encodes and submits it; with `withStats`, starts reading its statistics back
   * (takeReady() / drain() hand them out with `tag`); then waits, without reading anything back,
   * until at most `depth` earlier steps are still on the GPU.
   */
  async step(real: Tensor, withStats: boolean, tag: T): Promise<void> {
    const stats = this.stepper.step(real, withStats);
    if (stats) this.track(tag, readStats(stats));
    await real.engine.throttle(this.depth);
  }

  private track(tag: T, read: Promise<Record<string, number>>): void {
    const p: Pending<T> = { tag, values: null, error: null, time: 0, done: Promise.resolve() };
    p.done = read.then(
      (v) => {
        p.values = v;
        p.time = performance.now();
      },
      (err: unknown) => {
        p.error = err ?? new Error('statistics read failed');
        p.time = performance.now();
      },
    );
    this.pending.push(p);
  }

  /** Statistics reads started and not yet handed out. */
  get inFlight(): number {
    return this.pending.length;
  }

  /**
   * The statistics that have arrived, oldest first, stopping at the first that has not (so they
   * come out in step order). A failed read throws here, in its turn.
   */
  takeReady(): Logged<T>[] {
    const out: Logged<T>[] = [];
    while (this.pending.length) {
      const p = this.pending[0];
      if (p.values === null && p.error === null) break;
      this.pending.shift();
      if (p.error !== null) throw p.error;
      out.push({ tag: p.tag, values: p.values!, time: p.time });
    }
    return out;
  }

  /** Waits for every statistics read started so far and hands them all out (takeReady()'s order). */
  async drain(): Promise<Logged<T>[]> {
    await Promise.all(this.pending.map((p) => p.done));
    return this.takeReady();
  }
}
