// Recorded-step replay: run a training step's GPU work again without its JavaScript.
//
// A steady-state training step issues the same commands every step: the same kernels on the same
// buffers with the same workgroup counts (the pool hands out the lowest free buffer id first), and
// only a few uniform words change (optimiser step counts and bias corrections, learning rates, RNG
// counter offsets). Those words come from host state that the op advances where it computes them
// (Engine.dispatch's `refresh`), so the replay of a step calls the very functions eager calls, in
// the same order, and dispatches the same kernels on the same bits.
//
// A StepReplayer drives it, one step at a time, under a key naming the step's host-side control
// flow (input shape, train/eval modes, the trainer's own decisions: see nets/lib/step.ts):
//   1. a step whose key has no plan runs eagerly under Engine.record();
//   2. the next eager step with the same key is recorded too and compared command by command with
//      the first (kernel, buffers, workgroups, uniform words except the refreshed ones, copies,
//      uploaded bytes); identical, and neither marked not replayable (readbacks, host-drawn data),
//      it becomes a plan (Engine.buildPlan: the temporaries are held out of the pool, the live
//      buffers watched, bind groups and one uniform buffer built once);
//   3. later steps with that key replay the plan (Engine.runPlan): no tape, no pool traffic, no
//      bind-group or buffer creation.
// Why two recordings suffice: an eager step reads its state (parameters, moments, gradients' old
// buffers) from the buffers the previous step left it in; two consecutive steps with identical
// command lists therefore keep that state in place, and replaying the list again is what the
// next eager step would compute (its own buffers may be named differently, with the same bits).
// Anything that breaks this falls back to eager and re-records, counted with its reason in
// Engine.counters.replayFallbacks / Engine.replayFallbacks: the key changes (shape, mode, phase),
// a buffer the plan uses is released (a parameter replaced, a state dict loaded into new tensors),
// trimPool(), a profile running, a step not replayable.

import type { Engine, PooledBuffer, Recording, RecordedOp, StepPlan } from './device.js';

/** Why two recordings of one step differ (null: identical up to the refreshed uniform words). */
export function compareRecordings(a: Recording, b: Recording): string | null {
  if (a.ops.length !== b.ops.length) return `${a.ops.length} commands, then ${b.ops.length}`;
  for (let i = 0; i < a.ops.length; i++) {
    const why = compareOp(a.ops[i], b.ops[i]);
    if (why) return `command #${i} (${describeOp(a.ops[i])}): ${why}`;
  }
  return null;
}

function describeOp(op: RecordedOp): string {
  if (op.kind === 'dispatch') return op.info.op;
  if (op.kind === 'copy') return `copy of ${op.bytes} bytes`;
  return `upload of ${op.data.byteLength} bytes`;
}

const ids = (bs: readonly { id: number }[]) => bs.map((b) => `#${b.id}`).join(',');

function compareOp(x: RecordedOp, y: RecordedOp): string | null {
  if (x.kind !== y.kind) return `a ${x.kind}, then a ${y.kind}`;
  if (x.kind === 'dispatch' && y.kind === 'dispatch') {
    if (x.kernel !== y.kernel) return `kernel ${x.kernel.spec.key}, then ${y.kernel.spec.key}`;
    if (x.buffers.length !== y.buffers.length || x.buffers.some((b, i) => b !== y.buffers[i]))
      return `buffers ${ids(x.buffers)}, then ${ids(y.buffers)}`;
    if (x.workgroups.some((w, i) => w !== y.workgroups[i])) return `workgroups [${x.workgroups}], then [${y.workgroups}]`;
    if (!x.refresh !== !y.refresh) return 'per-step uniforms in one step only';
    if (x.uniforms.length !== y.uniforms.length) return `${x.uniforms.length} uniform words, then ${y.uniforms.length}`;
    if (!x.refresh) {
      for (let k = 0; k < x.uniforms.length; k++)
        if (x.uniforms[k] !== y.uniforms[k])
          return `uniform word ${k} is 0x${x.uniforms[k].toString(16)}, then 0x${y.uniforms[k].toString(16)} (a per-step value without a refresh)`;
    }
    return null;
  }
  if (x.kind === 'copy' && y.kind === 'copy') {
    if (x.src !== y.src || x.dst !== y.dst) return `#${x.src.id} -> #${x.dst.id}, then #${y.src.id} -> #${y.dst.id}`;
    if (x.srcOffset !== y.srcOffset || x.dstOffset !== y.dstOffset || x.bytes !== y.bytes) return 'offsets or sizes differ';
    return null;
  }
  if (x.kind === 'upload' && y.kind === 'upload') {
    if (x.dst !== y.dst) return `into #${x.dst.id}, then #${y.dst.id}`;
    if (x.byteOffset !== y.byteOffset || x.data.byteLength !== y.data.byteLength) return 'offsets or sizes differ';
    for (let k = 0; k < x.data.byteLength; k++)
      if (x.data[k] !== y.data[k]) return `the uploaded bytes differ at byte ${k} (host data that changes per step)`;
    return null;
  }
  return 'kinds differ';
}

/** What StepReplayer.run did. 'planned': ran eagerly and built a plan that the next step replays. */
export type StepOutcome = 'replayed' | 'eager' | 'planned';

export interface ReplayStep<T> {
  /** The step itself (eager; recorded). */
  eager: () => T;
  /**
   * The buffers of eager's result that the caller releases once run() returns (statistics): a plan
   * built from this step takes them into its held set on release, and a replay writes them again.
   */
  outputs?: (value: T) => PooledBuffer[];
  /** The step's host-only work, run before a replay in place of the step's JavaScript. */
  host?: () => void;
}

/**
 * Replays one recurring step under keys (see the file comment). It keeps a small cache of plans,
 * one per key, least recently used first out (`maxPlans`): a trainer whose steps alternate between
 * a few control flows (n_critic models: a D-only step, then a D+G step) replays each from its own
 * plan. Each key is verified on its own: a plan is built from two consecutive equal recordings of
 * that key (steps of other keys may run in between). Plans never share a temporary: a plan holds
 * its temporaries out of the pool, so the steps of another key, eager or replayed, cannot touch them.
 */
export class StepReplayer<T> {
  private readonly plans = new Map<string, StepPlan>();
  /** The last eager recording of each key not planned yet (verification). */
  private readonly last = new Map<string, Recording>();
  /** The key of the last step run (report: its plan is `current`). */
  private lastKey: string | null = null;
  /** The last reason this replayer ran a step eagerly (null after a replay or a warm-up step). */
  lastReason: string | null = null;
  /** Steps this replayer replayed and ran eagerly. */
  replayed = 0;
  eager = 0;

  constructor(
    readonly engine: Engine,
    /** Plans kept at once (least recently used dropped first). */
    readonly maxPlans = 3,
  ) {
    if (!(Number.isInteger(maxPlans) && maxPlans >= 1)) throw new Error(`StepReplayer: maxPlans = ${maxPlans} must be an integer >= 1`);
  }

  /** The plan of the last step's key (null when that step ran eagerly without a plan). */
  get current(): StepPlan | null {
    const p = this.lastKey === null ? undefined : this.plans.get(this.lastKey);
    return p && !p.stale ? p : null;
  }

  /** The keys that have a plan now, least recently used first. */
  get planKeys(): string[] {
    return [...this.plans].filter(([, p]) => !p.stale).map(([k]) => k);
  }

  private fallback(reason: string): void {
    this.lastReason = reason;
    const e = this.engine;
    e.counters.replayFallbacks++;
    e.replayFallbacks.set(reason, (e.replayFallbacks.get(reason) ?? 0) + 1);
  }

  private dropKey(key: string, reason: string): void {
    const plan = this.plans.get(key);
    if (!plan) return;
    const stale = plan.stale;
    this.engine.dropPlan(plan, reason);
    this.fallback(stale ? `plan stale: ${stale}` : reason);
    this.plans.delete(key);
  }

  /** Drops every plan, counting a fallback with `reason` for each (a plan's own staleness reason wins). */
  drop(reason: string): void {
    for (const key of [...this.plans.keys()]) this.dropKey(key, reason);
    this.last.clear();
  }

  /**
   * One step under `key` (null: never replay this step, `why` says why; it runs eagerly,
   * unrecorded, and counts as a fallback).
   */
  run(key: string | null, step: ReplayStep<T>, why = 'the step has no replay key'): { outcome: StepOutcome; value: T | null } {
    const e = this.engine;
    // Stale plans (a buffer they use was released, trimPool()) go first, whatever the key.
    for (const [k, p] of [...this.plans]) if (p.stale) this.dropKey(k, 'stale');
    if (this.plans.size && e.isProfiling) this.drop('a profile is running (replay has no per-dispatch timing)');
    this.lastKey = key;
    if (key === null) {
      // Host-side control flow the replayer cannot follow: the recordings of other keys may not
      // be consecutive with the next ones any more (the plans stay: their buffers are watched).
      this.last.clear();
      this.fallback(why);
      const value = step.eager();
      this.eager++;
      e.counters.eagerSteps++;
      return { outcome: 'eager', value };
    }
    const plan = this.plans.get(key);
    if (plan) {
      this.plans.delete(key); // most recently used last
      this.plans.set(key, plan);
      step.host?.();
      e.runPlan(plan);
      this.replayed++;
      e.counters.replayedSteps++;
      this.lastReason = null;
      return { outcome: 'replayed', value: null };
    }
    const { value, recording } = e.record(() => step.eager());
    this.eager++;
    e.counters.eagerSteps++;
    const eager = { outcome: 'eager' as StepOutcome, value };
    const prev = this.last.get(key);
    this.last.delete(key);
    this.last.set(key, recording);
    while (this.last.size > this.maxPlans + 1) this.last.delete(this.last.keys().next().value!);
    if (recording.notReplayable.length) {
      this.fallback(`not replayable: ${[...new Set(recording.notReplayable)].join('; ')}`);
      return eager;
    }
    if (!prev || e.isProfiling) {
      this.lastReason = null;
      return eager;
    }
    const diff = compareRecordings(prev, recording);
    if (diff) {
      this.fallback(`recordings differ: ${diff}`);
      return eager;
    }
    const built = e.buildPlan(recording, step.outputs?.(value) ?? []);
    if (typeof built === 'string') {
      this.fallback(`no plan: ${built}`);
      return eager;
    }
    while (this.plans.size >= this.maxPlans) {
      const [oldest] = this.plans.keys();
      this.dropKey(oldest, `more than ${this.maxPlans} keys: the least recently used plan (${oldest}) made room`);
    }
    this.plans.set(key, built);
    this.last.delete(key);
    this.lastReason = null;
    return { outcome: 'planned', value };
  }

  /** Drops the plans (their held buffers go back to the pool); the next step runs eagerly. */
  dispose(): void {
    for (const p of this.plans.values()) this.engine.dropPlan(p, 'the replayer was disposed');
    this.plans.clear();
    this.last.clear();
  }
}
