// One side of the game at a time, for the game page's "D step" and "G step" buttons and its steps
// per side (and for the kernel inspector's view of them). DOM-free, so the Node suite tests it.
//
// A mixture trainer's step() is one round (a D update, then a G update; GMAN's simultaneous
// update). A side's step is that same step() with the other side's optimisers held: their step()
// does nothing for the call, so the other side's weights, Adam moments and step counts stay as
// they were, while the side's own update is exactly the trainer's (its losses, its noise draws,
// its dropout). A D step is therefore the D half of a round; a G step is G's update against D as
// it stands (in a round of the sequential trainers G meets the D that was just updated). The held
// side's gradient is still computed (and dropped): for the page's MLPs, a small price for using
// each model's own losses rather than a second copy of them.

import type { Module } from '../../engine/nn.js';
import type { Optimizer } from '../../engine/optim.js';
import type { Tensor } from '../../engine/tensor.js';
import type { GanTrainer, StepStats } from '../../nets/registry.js';

export type Side = 'D' | 'G';

/**
 * The trainer's optimisers by side: D's are those whose parameters all belong to the given
 * discriminators (the model's mixture hook lists them); every other one (the generators', GMAN*'s
 * lambda) is G's.
 */
export function sideOptimizers(trainer: GanTrainer, discriminators: readonly Module[]): Record<Side, Optimizer[]> {
  const dParams = new Set(discriminators.flatMap((d) => d.parameters()));
  const out: Record<Side, Optimizer[]> = { D: [], G: [] };
  for (const o of Object.values(trainer.optimizers)) out[o.params.length > 0 && o.params.every((p) => dParams.has(p)) ? 'D' : 'G'].push(o);
  if (!out.D.length || !out.G.length) {
    const names = Object.keys(trainer.optimizers).join(', ');
    throw new Error(
      `game sides: expected optimisers for both D and G, found D: ${out.D.length}, G: ${out.G.length} (optimisers: ${names}); ` +
        "the model's mixture hook must list its discriminators",
    );
  }
  return out;
}

/**
 * One update of `side` only: trainer.step(real) with the other side's optimisers held (see the
 * header). Returns step()'s statistics (the losses as the step's forward pass computed them).
 */
export function stepSide(
  trainer: GanTrainer,
  discriminators: readonly Module[],
  side: Side,
  real: Tensor,
  withStats: boolean,
): StepStats | null {
  const held = sideOptimizers(trainer, discriminators)[side === 'D' ? 'G' : 'D'];
  // An own property shadowing the class method for this call; deleting it restores the method.
  for (const o of held) Object.defineProperty(o, 'step', { value: () => undefined, configurable: true, writable: true });
  try {
    return trainer.step(real, withStats);
  } finally {
    for (const o of held) delete (o as unknown as Record<string, unknown>).step;
  }
}

/** Steps per side of one round: `d` D updates, then `g` G updates. */
export interface Round {
  d: number;
  g: number;
}

/**
 * One round: with one update per side, the trainer's own step() (the round `gan eval modes`
 * trains); otherwise `d` D steps then `g` G steps, each on a fresh batch from `nextBatch` (which
 * this disposes). Statistics (when asked for) are the last update's; the caller disposes them.
 */
export function stepRound(
  trainer: GanTrainer,
  discriminators: readonly Module[],
  round: Round,
  nextBatch: () => Tensor,
  withStats: boolean,
): StepStats | null {
  const updates: ((real: Tensor, last: boolean) => StepStats | null)[] =
    round.d === 1 && round.g === 1
      ? [(real, last) => trainer.step(real, withStats && last)]
      : [
          ...Array.from(
            { length: round.d },
            () => (real: Tensor, last: boolean) => stepSide(trainer, discriminators, 'D', real, withStats && last),
          ),
          ...Array.from(
            { length: round.g },
            () => (real: Tensor, last: boolean) => stepSide(trainer, discriminators, 'G', real, withStats && last),
          ),
        ];
  let stats: StepStats | null = null;
  updates.forEach((update, i) => {
    const real = nextBatch();
    try {
      stats = update(real, i === updates.length - 1);
    } finally {
      real.dispose();
    }
  });
  return stats;
}
