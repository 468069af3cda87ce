// The inspector's game mode (inspector/?mixture=NAME&model=...&side=round|D|G|view): the 2-D game
// page's trainers (nets/mode_eval.ts, the MLP GAN baseline and every model with a mixture hook), its
// updates (../game/sides.ts: a round, a D step with G held, a G step with D held) and its drawing of
// the plane (../game/view.ts: D over the grid, G's samples, the arrows' gradient), so the game page
// can open the kernels of everything it runs here. The options are the game's: the mixture, the
// shared MLP sizes, the model's own mixture parameters, the side and the steps per side of a round.

import { MixtureSampler } from '../../data/mixtures.js';
import {
  MIXTURES,
  MODE_DEFAULTS,
  MODE_MODELS,
  checkModeRun,
  createMixtureTrainer,
  disposeTrainer,
  mixtureModel,
  withModelDefaults,
} from '../../nets/mode_eval.js';
import type { Param } from '../../nets/lib/model.js';
import { stepRound, stepSide, type Side } from '../game/sides.js';
import { arrowsTensor, evalMode, gridPoints, heatTensor } from '../game/view.js';
import { Generator } from '../../engine/ops/random.js';
import { tidy } from '../../engine/tensor.js';

/** The models the game plays, with a label for the model picker. */
export function mixtureModels(): { name: string; label: string }[] {
  return MODE_MODELS.map((name) => ({ name, label: `${name}: ${mixtureModel(name).label} on a 2-D mixture (the game page's trainer)` }));
}

/** The options the game mode offers for a model, in order: declarations as the recipes' (type, default, choices, help). */
const twoD = () => Object.keys(MIXTURES).filter((m) => MIXTURES[m].make().dim === 2);

export function mixtureOptions(model: string): [string, Param][] {
  const shared: [string, Param][] = [
    [
      'side',
      {
        type: 'string',
        default: 'round',
        choices: ['round', 'D', 'G', 'view'],
        help: "what is inspected: a round, a D step (G held), a G step (D held), or the plane's drawing (D over the grid, G's samples, the arrows)",
      },
    ],
    ['dSteps', { type: 'int', default: 1, help: 'D steps in a round (1 and 1: the trainer’s own step)' }],
    ['gSteps', { type: 'int', default: 1, help: 'G steps in a round' }],
    ['mixture', { type: 'string', default: 'ring8', choices: twoD(), help: 'the 2-D mixture the real points come from' }],
    ['hidden', { type: 'int', default: Number(MODE_DEFAULTS.hidden), help: 'hidden width of every G and D' }],
    ['layers', { type: 'int', default: Number(MODE_DEFAULTS.layers), help: 'hidden layers of every G and D' }],
    ['nz', { type: 'int', default: Number(MODE_DEFAULTS.nz), help: 'latent length' }],
  ];
  return [...shared, ...Object.entries(mixtureModel(model).params)];
}

/** What the inspector steps: one update of the game, on real batches drawn from the mixture. */
export interface MixtureSubject {
  config: Record<string, number | string | boolean>;
  step(): void;
  dispose(): void;
}

/** A game trainer and its update as the options say; throws naming the option when one is out of range. */
export function mixtureSubject(model: string, values: Record<string, number | string | boolean>, batch: number): MixtureSubject {
  const side = String(values.side ?? 'round');
  if (!['round', 'D', 'G', 'view'].includes(side)) throw new Error(`side must be round, D, G or view, got '${side}'`);
  const d = Number(values.dSteps ?? 1);
  const g = Number(values.gSteps ?? 1);
  for (const [name, v] of [
    ['dSteps', d],
    ['gSteps', g],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 20)
      throw new Error(`${name} (steps per side of a round) must be an integer in [1, 20], got ${v}`);
  }
  const mixture = String(values.mixture ?? 'ring8');
  if (!MIXTURES[mixture] || MIXTURES[mixture].make().dim !== 2)
    throw new Error(`mixture must be a 2-D mixture (${twoD().join(', ')}), got '${mixture}'`);
  const own: Record<string, number | string | boolean> = {};
  for (const [key] of mixtureOptions(model)) if (!['side', 'dSteps', 'gSteps'].includes(key) && key in values) own[key] = values[key];
  const o = withModelDefaults({ ...own, mixture, model, batch, seed: 1, decayTo: 1 });
  const errs = checkModeRun(o);
  if (errs.length) throw new Error(errs.join('; '));
  const sampler = new MixtureSampler(MIXTURES[mixture].make(), o.seed);
  const trainer = createMixtureTrainer(o, sampler.dim);
  const hook = mixtureModel(model);
  const ds = hook.discriminators(trainer);
  return {
    config: { side, ...(side === 'round' ? { dSteps: d, gSteps: g } : {}), ...own, mixture },
    step() {
      // A fresh real batch for each update (uploads, not dispatches: the kernels are the same).
      if (side === 'round') stepRound(trainer, ds, { d, g }, () => sampler.batch(batch), false);
      else if (side === 'view') {
        // As the page draws the plane: D (its first discriminator's view, or its k + 1 classes)
        // over the grid, G on 256 fixed codes, the arrows at 256 points (none for a class-naming D).
        const classes = hook.classes?.(o) ?? 1;
        const shown = classes > 1 ? ds : ds.slice(0, 1);
        evalMode(ds, () => {
          heatTensor(shown, classes).dispose();
          tidy(() => trainer.generate(trainer.noise(256, new Generator(o.seed + 7)))).dispose();
          if (classes === 1) arrowsTensor(shown, gridPoints().slice(0, 512)).dispose();
        });
      } else {
        const real = sampler.batch(batch);
        try {
          stepSide(trainer, ds, side as Side, real, false);
        } finally {
          real.dispose();
        }
      }
    },
    dispose() {
      disposeTrainer(trainer);
    },
  };
}
