// The one gradient step every trainer takes: minimise a loss over one optimiser's parameters with
// the other networks the loss runs through frozen (their weights constants, as
// set_requires_grad(net, False) in the PyTorch references). `gradsInto` is its first half, for the
// papers that take several gradients from one forward pass before any network changes (BEGAN's
// L_D and L_G, GMAN's joint update).

import {
  StepReplayer,
  engine,
  empty,
  grad,
  type PooledBuffer,
  type StepOutcome,
  type Tensor,
  type nn,
  type optim,
} from '../../engine/index.js';
import type { GanTrainer, StepStats } from '../registry.js';

/**
 * d(loss)/d(params) into each parameter's .grad (replacing what was there), without an optimiser
 * step, so several gradients can be taken from one forward pass before any network changes (GMAN
 * updates every D and G at once, as its reference does). The graph stays usable for another call.
 * `frozen` networks have their parameters' requiresGrad switched off during the backward pass, so
 * a loss that runs through another network (G's loss through D) does not compute that network's
 * weight gradients only to drop them (a backward rule skips inputs that no longer require grad),
 * as set_requires_grad(netD, False) does in PyTorch.
 */
export function gradsInto(loss: Tensor, params: readonly Tensor[], frozen: readonly nn.Module[] = []): void {
  const off = frozen.flatMap((m) => m.parameters()).filter((p) => p.requiresGrad && !params.includes(p));
  // The old gradients go first, so the new ones take the same buffers every step (a steady-state
  // step then issues the same commands, which recorded-step replay needs; grad() never reads .grad).
  for (const p of params) {
    p.grad?.dispose();
    p.grad = null;
  }
  for (const p of off) p.requiresGrad = false;
  let grads: (Tensor | null)[];
  try {
    grads = grad(loss, [...params], { allowUnused: true });
  } finally {
    for (const p of off) p.requiresGrad = true;
  }
  params.forEach((p, i) => {
    p.grad = grads[i] ? grads[i]!.keep() : null;
  });
}

/**
 * One optimisation step: d(loss)/d(params) of the optimiser's parameters into their .grad (the
 * `frozen` networks' weights held constant, their weight gradients never computed), then
 * optimizer.step(). Several optimisers are stepped on one gradient, taken before any of them moves
 * (the references' single Adam over both generators of CycleGAN, DualGAN, DiscoGAN). The graph
 * stays usable for another call.
 */
export function minimize(
  loss: Tensor,
  optimizer: optim.Optimizer | readonly optim.Optimizer[],
  opts: { frozen?: readonly nn.Module[] } = {},
): void {
  const optimizers = Array.isArray(optimizer) ? optimizer : [optimizer as optim.Optimizer];
  gradsInto(
    loss,
    optimizers.flatMap((o) => o.params),
    opts.frozen ?? [],
  );
  for (const o of optimizers) o.step();
}

// ---- recorded-step replay ---------------------------------------------------------------------------

/** A planned step's statistics: names, buffers, shapes. */
type StatsOut = { name: string; buffer: PooledBuffer; shape: number[]; dtype: Tensor['dtype'] }[];

/**
 * A trainer whose steps replay a recorded plan once two eager steps agree (engine/replay.ts): the
 * same parameters, moments and noise stream as trainer.step(), bit for bit, with a fraction of the
 * host work. The batch is copied into a fixed input tensor (one per shape) so the recorded step
 * reads it from the same buffer; the trainer always computes its statistics (a plan covers logging
 * and non-logging steps alike) and step() copies them out only when asked. Trainers without
 * `replay` hooks, and steps the engine finds not replayable, run eagerly: `report()` says why.
 */
export class ReplayedTrainer {
  private readonly replayer: StepReplayer<StepStats | null>;
  private input: Tensor | null = null;
  private inputKey = '';
  /** Each planned key's statistics: names, buffers, shapes (copied out on logging steps). */
  private outputs = new Map<string, StatsOut>();
  private modules: nn.Module[] | null = null;
  /** What the last step did: 'replayed', 'eager' or 'planned'. */
  lastOutcome: StepOutcome | null = null;

  constructor(
    readonly trainer: GanTrainer,
    readonly enabled = true,
  ) {
    this.replayer = new StepReplayer(engine());
  }

  private key(real: Tensor): string | null {
    const hooks = this.trainer.replay;
    if (!hooks) return null;
    const k = hooks.key();
    if (k === null) return null;
    this.modules ??= Object.values(this.trainer.nets).flatMap((m) => m.modules());
    let modes = '';
    for (const m of this.modules) modes += m.training ? '1' : '0';
    return `${real.dtype}[${real.shape.join(',')}] modes=${modes} ${k}`;
  }

  step(real: Tensor, withStats: boolean): StepStats | null {
    if (!this.enabled) return this.trainer.step(real, withStats);
    const e = real.engine;
    const shapeKey = `${real.dtype}[${real.shape.join(',')}]`;
    if (!this.input || this.inputKey !== shapeKey) {
      if (this.input) this.replayer.drop(`input shape ${this.inputKey} -> ${shapeKey}`);
      this.input?.dispose();
      this.input = empty(real.shape, 'replay_input', real.dtype).keep();
      this.inputKey = shapeKey;
    }
    const input = this.input;
    e.copy(real.buffer, 0, input.buffer, 0, real.size * 4);
    const key = this.key(real);
    const hooks = this.trainer.replay;
    const copyOut = (list: StatsOut) => {
      const stats: StepStats = {};
      for (const o of list) {
        const t = empty(o.shape, 'stats', o.dtype);
        e.copy(o.buffer, 0, t.buffer, 0, t.size * 4);
        stats[o.name] = t;
      }
      return stats;
    };
    const { outcome, value } = this.replayer.run(
      key,
      {
        eager: () => {
          // Gradients are never read across steps (gradsInto replaces them): freeing them first
          // gives every eager step the same live buffers at its start, so steady steps allocate
          // alike instead of alternating between two buffer sets; freeing them again at the end,
          // inside the recording, makes them the step's temporaries (held by its plan), so a step
          // of another key (n_critic: D-only, then D+G) does not release buffers a plan uses.
          if (!hooks) return this.trainer.step(input, true);
          const optimizers = Object.values(this.trainer.optimizers);
          for (const o of optimizers) o.zeroGrad();
          const stats = this.trainer.step(input, true);
          for (const o of optimizers) o.zeroGrad();
          return stats;
        },
        outputs: (stats) => Object.values(stats ?? {}).map((t) => t.buffer),
        host: () => hooks?.host?.(),
      },
      hooks
        ? (hooks.why?.() ?? `${this.trainer.constructor.name}: its replay key is null`)
        : `${this.trainer.constructor.name} has no replay hooks (host-side control flow not declared)`,
    );
    this.lastOutcome = outcome;
    if (outcome === 'replayed') return withStats ? copyOut(this.outputs.get(key!) ?? []) : null;
    // Eager: copy the statistics out (when asked) before releasing them; a plan built from this
    // step takes their buffers over on release and writes them again on every replay.
    const list = Object.entries(value ?? {}).map(([name, t]) => ({ name, buffer: t.buffer, shape: [...t.shape], dtype: t.dtype }));
    const out = withStats && value ? copyOut(list) : null;
    for (const t of Object.values(value ?? {})) t.dispose();
    if (outcome === 'planned') this.outputs.set(key!, list);
    return out;
  }

  /**
   * Steps replayed and run eagerly so far, the last step's plan size (null when it ran without
   * one), the plans kept now (one per key of the trainer's control flow), and the last fallback reason.
   */
  report(): { replayed: number; eager: number; planDispatches: number | null; plans: number; lastReason: string | null } {
    const p = this.replayer.current;
    return {
      replayed: this.replayer.replayed,
      eager: this.replayer.eager,
      planDispatches: p?.dispatches ?? null,
      plans: this.replayer.planKeys.length,
      lastReason: this.replayer.lastReason,
    };
  }

  /** Drops the plans and the input tensor (the trainer is left as it is). */
  dispose(): void {
    this.replayer.dispose();
    this.input?.dispose();
    this.input = null;
  }
}

/** `trainer` with recorded-step replay (see ReplayedTrainer); `enabled: false` passes steps straight through. */
export function replayed(trainer: GanTrainer, opts: { enabled?: boolean } = {}): ReplayedTrainer {
  return new ReplayedTrainer(trainer, opts.enabled ?? true);
}
