// Training steps of the cascade and three-player models (LAPGAN, StackGAN Stage-I/II, StackGAN++,
// Triple-GAN) against PyTorch transcriptions of the reference training loops, element by element
// (tests/support/stepgolden.ts; goldens from scripts/golden/make_step_{lapgan,stackgan,stackganpp,triplegan}.py).
// Each case loads the golden's initial weights into a freshly built trainer, binds the golden's data
// (the trainers that draw their own batches get the batch indices as fed draws, like the noise,
// dropout masks and D's input noise), runs the steps and compares every statistic and every
// parameter and buffer after each step.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tensor, type Tensor } from '../engine/index.js';
import { LapganTrainer } from '../nets/lapgan.js';
import { TripleganTrainer } from '../nets/triplegan.js';
import { readStats } from '../nets/stats.js';
import { StepGolden, loadInit, feedDraws, expectStateMatches, expectStatsMatch } from './support/stepgolden.js';
import type { GanTrainer } from '../nets/registry.js';

beforeAll(async () => {
  await initEngine();
});

const input = (g: StepGolden, key: string): Tensor => tensor(g.get(`input.${key}`), g.shape(`input.${key}`));

/** Elements of the golden's step-k gradients with |g| <= abs. */
function tinyGrads(g: StepGolden, k: number, abs: number): number {
  let n = 0;
  for (const key of g.keys(`grad${k}.`)) for (const v of g.get(key)) if (Math.abs(v) <= abs) n++;
  return n;
}

/**
 * Runs g.steps steps (real = realOf(k)), comparing stats and every state element after each.
 * `adamBound`: hold elements whose PyTorch gradient is float noise only to Adam's |update| <= lr
 * (at most maxLoose of them); without it every element is held to the plain tolerance.
 */
async function runGolden(
  t: GanTrainer & { rng: { fedRemaining: number } }, g: StepGolden, realOf: (k: number) => Tensor,
  { adamBound = false, noiseGradAbs = 0 } = {},
): Promise<void> {
  for (let k = 1; k <= g.steps; k++) {
    const real = realOf(k);
    const stats = await readStats(t.step(real, true)!);
    real.dispose();
    expectStatsMatch(stats, g, k);
    const loose = await expectStateMatches(t, g, k, adamBound ? { lr: g.settings.lr, noiseGradAbs } : {});
    // only elements whose PyTorch gradient is zero or float noise (<= noiseGradAbs) may be loose
    expect(loose, `${g.name}: elements held only to Adam's noise bound after step ${k}`).toBeLessThanOrEqual(tinyGrads(g, k, noiseGradAbs));
  }
  expect(t.rng.fedRemaining).toBe(0);
}

describe('step goldens: Triple-GAN (warm-up, then the game; R_P from step 3)', () => {
  for (const mode of ['paper', 'code'] as const) {
    it(`C's adversarial term '${mode}' (${mode === 'paper' ? 'Algorithm 1: p_c log(1 - D)' : 'the Theano code: p_c BCE(D, 1)'})`, async () => {
      const g = new StepGolden(`triplegan_${mode}`);
      expect(g.config.classifierAdv).toBe(mode);
      const t = new TripleganTrainer(g.config, { lr: g.settings.lr, beta1: 0.5, beta2: 0.999 }, 1);
      loadInit(t, g);
      const labels = g.get('input.labelled_labels');
      t.bindData({ images: g.get('input.labelled_images'), labels: Int32Array.from(labels), n: labels.length });
      feedDraws(t.rng, g);
      // G's two linear biases feed BatchNorm1d: their PyTorch gradients are float noise (|g| ~ 1e-11)
      await runGolden(t, g, (k) => input(g, `real${k}`), { adamBound: true, noiseGradAbs: 1e-9 });
    });
  }
});

describe('step goldens: LAPGAN', () => {
  it("one pyramid level's conditional GAN and the coarse GAN: two iterations of eyescream's loop", async () => {
    const g = new StepGolden('lapgan');
    const t = new LapganTrainer(g.config, { lr: g.settings.lr, beta1: 0.5, beta2: 0.999 }, 1);
    loadInit(t, g);
    feedDraws(t.rng, g);
    await runGolden(t, g, () => input(g, 'real'));
  });
});
