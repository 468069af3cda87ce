// Training steps of the cascade and three-player models (LAPGAN, StackGAN Stage-I/II, StackGAN++,
// Triple-GAN) against PyTorch transcriptions of the reference training loops, element by element
// (tests/support/stepgolden.ts; goldens from scripts/golden/make_step_{lapgan,stackgan,stackganpp,triplegan}.py).
// Each case loads the golden's initial weights into a freshly built trainer, binds the golden's data
// (the trainers that draw their own batches get the batch indices as fed draws, like the noise,
// dropout masks and D's input noise), runs the steps and compares every statistic and every
// parameter and buffer after each step.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tensor, type Tensor } from '../engine/index.js';
import { LapganTrainer, lapganRecipe } from '../nets/lapgan.js';
import { StackganTrainer } from '../nets/stackgan.js';
import { StackganppTrainer } from '../nets/stackganpp.js';
import { TripleganTrainer } from '../nets/triplegan.js';
import { StepGolden, runStepGolden } from './support/stepgolden.js';
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
 * Runs the golden (real = batch(k); `prepare` binds the data before the draws are fed), comparing
 * stats and every state element after each step. `adamBound`: hold elements whose PyTorch gradient
 * is float noise only to Adam's |update| <= lr; without it every element is held to the plain
 * tolerance.
 */
async function runGolden(
  t: GanTrainer,
  g: StepGolden,
  batch: (k: number) => Tensor,
  { adamBound = false, noiseGradAbs = 0, prepare }: { adamBound?: boolean; noiseGradAbs?: number; prepare?: () => void } = {},
): Promise<void> {
  const { loose } = await runStepGolden(t, g, { batch, prepare, ...(adamBound ? { lr: g.settings.lr, noiseGradAbs } : {}) });
  // only elements whose PyTorch gradient is zero or float noise (<= noiseGradAbs) may be loose
  loose.forEach((l, i) =>
    expect(l, `${g.name}: elements held only to Adam's noise bound after step ${i + 1}`).toBeLessThanOrEqual(
      tinyGrads(g, i + 1, noiseGradAbs),
    ),
  );
}

describe('step goldens: Triple-GAN (warm-up, then the game; R_P from step 3)', () => {
  for (const mode of ['paper', 'code'] as const) {
    it(`C's adversarial term '${mode}' (${mode === 'paper' ? 'Algorithm 1: p_c log(1 - D)' : 'the Theano code: p_c BCE(D, 1)'})`, async () => {
      const g = new StepGolden(`triplegan_${mode}`);
      expect(g.config.classifierAdv).toBe(mode);
      const t = new TripleganTrainer(g.config, { lr: g.settings.lr, beta1: 0.5, beta2: 0.999 }, 1);
      const labels = g.get('input.labelled_labels');
      const prepare = () => t.bindData({ images: g.get('input.labelled_images'), labels: Int32Array.from(labels), n: labels.length });
      // G's two linear biases feed BatchNorm1d: their PyTorch gradients are float noise (|g| ~ 1e-11)
      await runGolden(t, g, (k) => input(g, `real${k}`), { adamBound: true, noiseGradAbs: 1e-9, prepare });
    });
  }
});

describe('step goldens: LAPGAN', () => {
  it("one pyramid level's conditional GAN and the coarse GAN: two iterations of eyescream's loop", async () => {
    const g = new StepGolden('lapgan');
    const t = new LapganTrainer(lapganRecipe.parse(g.config), { lr: g.settings.lr, beta1: 0.5, beta2: 0.999 }, 1);
    await runGolden(t, g, () => input(g, 'real'));
  });
});

/** The golden's captioned images (StackGAN, conditional StackGAN++): images, captions, categories. */
function captioned(g: StepGolden) {
  const [n, c, h, w] = g.shape('input.images');
  const tokens = g.settings.tokens as string[][];
  expect(tokens.length).toBe(n);
  return { images: g.get('input.images'), n, c, h, w, tokens, category: Int32Array.from(g.get('input.categories')) };
}

/** A batch tensor of the right shape whose values the trainer ignores (it draws its own batch). */
function batchOf(g: StepGolden): Tensor {
  const [, c, h, w] = g.shape('input.images');
  const n = Number(g.settings.batch);
  return tensor(new Float32Array(n * c * h * w), [n, c, h, w]);
}

describe('step goldens: StackGAN (the TF reference trainer: D on one draw, G on a fresh one against the updated D)', () => {
  for (const stage of [1, 2] as const) {
    it(`Stage-${stage === 1 ? 'I' : 'II'}: matching-aware D, G with KL (weight 2), two iterations`, async () => {
      const g = new StepGolden(`stackgan_stage${stage}`);
      const t = new StackganTrainer(g.config, { lr: g.settings.lr, beta1: 0.5, beta2: 0.999 }, 1);
      const prepare = () => {
        t.bindData(captioned(g));
        expect(t.phase).toBe(stage === 1 ? 'stage1' : 'stage2');
      };
      await runGolden(t, g, () => batchOf(g), { prepare });
    });
  }
});

describe('step goldens: StackGAN++ (StackGAN-v2 trainer.py)', () => {
  it('conditional (condGANTrainer: conditional + unconditional terms, KL, no colour term), two iterations', async () => {
    const g = new StepGolden('stackganpp_cond');
    const t = new StackganppTrainer(g.config, { lr: g.settings.lr, beta1: 0.5, beta2: 0.999 }, 1);
    await runGolden(t, g, () => batchOf(g), { prepare: () => t.bindData(captioned(g)) });
  });

  it('unconditional (GANTrainer: colour consistency, alpha 50), two iterations', async () => {
    const g = new StepGolden('stackganpp_uncond');
    const t = new StackganppTrainer(g.config, { lr: g.settings.lr, beta1: 0.5, beta2: 0.999 }, 1);
    await runGolden(t, g, (k) => input(g, `real${k}`));
  });
});
