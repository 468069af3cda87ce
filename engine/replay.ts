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

/** Replays one recurring step under keys (see the file comment). */
export class StepReplayer<T> {
  private plan: StepPlan | null = null;
  private planKey: string | null = null;
  private last: { key: string; rec: Recording } | null = null;
  /** The last reason this replayer ran a step eagerly (null after a replay or a warm-up step). */
  lastReason: string | null = null;
  /** Steps this replayer replayed and ran eagerly. */
  replayed = 0;
  eager = 0;

  constructor(readonly engine: Engine) {}

  /** The current plan (null when steps run eagerly). */
  get current(): StepPlan | null {
    return this.plan && !this.plan.stale ? this.plan : null;
  }

  private fallback(reason: string): void {
    this.lastReason = reason;
    const e = this.engine;
    e.counters.replayFallbacks++;
    e.replayFallbacks.set(reason, (e.replayFallbacks.get(reason) ?? 0) + 1);
  }

  /** Drops the plan, counting a fallback with `reason` (the plan's own staleness reason wins). */
  drop(reason: string): void {
    if (!this.plan) return;
    const stale = this.plan.stale;
    this.engine.dropPlan(this.plan, reason);
    this.fallback(stale ? `plan stale: ${stale}` : reason);
    this.plan = null;
    this.planKey = null;
  }

  /**
   * One step under `key` (null: never replay this step, `why` says why; it runs eagerly,
   * unrecorded, and counts as a fallback).
   */
  run(key: string | null, step: ReplayStep<T>, why = 'the step has no replay key'): { outcome: StepOutcome; value: T | null } {
    const e = this.engine;
    if (this.plan && (this.plan.stale || key !== this.planKey)) this.drop(`key changed: ${this.planKey} -> ${key ?? '(none)'}`);
    if (this.plan && e.isProfiling) this.drop('a profile is running (replay has no per-dispatch timing)');
    if (key === null) {
      this.last = null;
      this.fallback(why);
      const value = step.eager();
      this.eager++;
      e.counters.eagerSteps++;
      return { outcome: 'eager', value };
    }
    if (this.plan) {
      step.host?.();
      e.runPlan(this.plan);
      this.replayed++;
      e.counters.replayedSteps++;
      this.lastReason = null;
      return { outcome: 'replayed', value: null };
    }
    const { value, recording } = e.record(() => step.eager());
    this.eager++;
    e.counters.eagerSteps++;
    const eager = { outcome: 'eager' as StepOutcome, value };
    const prev = this.last;
    this.last = { key, rec: recording };
    if (recording.notReplayable.length) {
      this.fallback(`not replayable: ${[...new Set(recording.notReplayable)].join('; ')}`);
      return eager;
    }
    if (!prev || prev.key !== key || e.isProfiling) {
      this.lastReason = null;
      return eager;
    }
    const diff = compareRecordings(prev.rec, recording);
    if (diff) {
      this.fallback(`recordings differ: ${diff}`);
      return eager;
    }
    const plan = e.buildPlan(recording, step.outputs?.(value) ?? []);
    if (typeof plan === 'string') {
      this.fallback(`no plan: ${plan}`);
      return eager;
    }
    this.plan = plan;
    this.planKey = key;
    this.last = null;
    this.lastReason = null;
    return { outcome: 'planned', value };
  }

  /** Drops the plan (its held buffers go back to the pool); the next step runs eagerly. */
  dispose(): void {
    if (this.plan) this.engine.dropPlan(this.plan, 'the replayer was disposed');
    this.plan = null;
    this.planKey = null;
    this.last = null;
  }
}
