// The opt-in unvalidated mode for long replayed runs (initEngine({ unsafeSkipValidation: true }),
// `gan train --skip-validation`): the Dawn instance really runs without validation (a 3-byte
// buffer copy, a validation error by default, passes unreported), initEngine warns once and marks
// the engine, the default engine still validates, and replayed DCGAN steps under it leave every
// parameter, moment, step count and the noise stream bit for bit as with validation on.

import { describe, expect, it } from 'vitest';
import { initEngine, validatesCommands } from '../engine/device.js';
import { tensor } from '../engine/tensor.js';
import { DataLoader } from '../data/loader.js';
import { replayed } from '../nets/lib/step.js';
import { recipes } from '../nets/registry.js';
import { resolveTrainRun } from '../cli/train.js';
import { trainerState } from './support/resume.js';
import { modelCase, seededRows } from './support/model_cases.js';
import { GAN_ADAM, configOf } from './support/util.js';

const STEPS = 6; // two recorded eager steps, the planning step, then replays

/** STEPS steps of a tiny DCGAN through replayed() on the current engine: its whole state after. */
async function trainDcgan() {
  const k = modelCase('dcgan', { batch: 2 });
  const recipe = recipes.dcgan;
  const config = configOf(recipe, k.config);
  const data = seededRows(k, 8);
  const t = recipe.create(config, { ...recipe.train, ...GAN_ADAM, batch: k.batch, steps: STEPS }, 5);
  const [c, h, w] = data.sampleShape;
  const loader = new DataLoader(data, { batchSize: k.batch, seed: 5 });
  const real = tensor(new Float32Array(k.batch * c * h * w), [k.batch, c, h, w]).keep();
  const r = replayed(t);
  const outcomes: string[] = [];
  for (let i = 0; i < STEPS; i++) {
    loader.nextInto(real);
    r.step(real, false);
    outcomes.push(r.lastOutcome ?? 'direct');
  }
  const state = await trainerState(t);
  r.dispose();
  real.dispose();
  return { state, outcomes };
}

describe('unsafeSkipValidation (gan train --skip-validation)', () => {
  it('turns Dawn validation off for its engine only, warns, and replays to the same bits as a validated engine', async () => {
    const safe = await initEngine();
    expect(safe.skipsValidation).toBe(false);
    expect(await validatesCommands(safe.device)).toBe(true);
    const want = await trainDcgan();
    expect(want.outcomes.slice(-2)).toEqual(['replayed', 'replayed']);

    const logged: string[] = [];
    const unsafe = await initEngine({ unsafeSkipValidation: true, log: (l) => logged.push(l) });
    expect(unsafe.skipsValidation).toBe(true);
    expect(logged.filter((l) => /validation is off/.test(l))).toHaveLength(1);
    expect(await validatesCommands(unsafe.device)).toBe(false);
    // The default instance is untouched (a second default engine still validates).
    expect(await validatesCommands((await initEngine()).device)).toBe(true);

    await initEngine({ unsafeSkipValidation: true, log: () => {} });
    const got = await trainDcgan();
    expect(got.outcomes).toEqual(want.outcomes);
    expect([...got.state.keys()]).toEqual([...want.state.keys()]);
    for (const [key, va] of want.state) {
      const vb = got.state.get(key)!;
      if (typeof va === 'string') expect(vb, key).toBe(va);
      else {
        const x = new Uint32Array(Float32Array.from(va).buffer);
        const y = new Uint32Array(Float32Array.from(vb as ArrayLike<number>).buffer);
        let bad = -1;
        for (let i = 0; i < x.length && bad < 0; i++) if (x[i] !== y[i]) bad = i;
        expect(bad, `${key} differs first at element ${bad}`).toBe(-1);
      }
    }
  });

  it('gan train --skip-validation resolves to the opt-in (off unless given)', async () => {
    const on = await resolveTrainRun(recipes.dcgan, ['--quick', '--skip-validation']);
    const off = await resolveTrainRun(recipes.dcgan, ['--quick']);
    expect(on?.skipValidation).toBe(true);
    expect(off?.skipValidation).toBe(false);
  });
});
