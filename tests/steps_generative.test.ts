// Step goldens of the generative models (autoencoder, EBGAN, GMAN, MAD-GAN): each case loads the
// golden's initial weights into a freshly built trainer, feeds its generator the golden's draws,
// runs the steps and compares every statistic and every parameter and buffer after each step,
// element by element (tests/support/stepgolden.ts). The goldens come from PyTorch transcriptions of
// the reference training loops: scripts/golden/make_step_{autoencoder,ebgan,gman,madgan}.py.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/index.js';
import { AutoencoderTrainer, autoencoderRecipe } from '../nets/autoencoder.js';
import { EbganTrainer, ebganRecipe } from '../nets/ebgan.js';
import { MadganTrainer } from '../nets/madgan.js';
import { GmanTrainer } from '../nets/gman.js';
import { disposeTrainer } from '../nets/mode_eval.js';
import type { GanTrainer, ModelConfig, TrainSettings } from '../nets/registry.js';
import { StepGolden, runStepGolden } from './support/stepgolden.js';

beforeAll(async () => {
  await initEngine();
});

type Make = (config: ModelConfig, settings: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2'>) => GanTrainer;

/** Runs golden `name` on a trainer from `make`; returns the per-step stats for extra checks. */
async function runGolden(name: string, make: Make, o: { maxLoose?: number } = {}): Promise<Record<string, number>[]> {
  const g = new StepGolden(name);
  const s = g.settings;
  const t = make(g.config, { lr: s.lr, beta1: s.beta1, beta2: s.beta2 });
  try {
    const { stats, loose } = await runStepGolden(t, g, { lr: s.lr });
    loose.forEach((l, i) =>
      expect(l, `${name}: elements held only to the noise-gradient bound at step ${i + 1}`).toBeLessThanOrEqual(o.maxLoose ?? 0),
    );
    return stats;
  } finally {
    disposeTrainer(t);
  }
}

describe('step goldens: generative models', () => {
  it('autoencoder: two Adam steps on the mean squared reconstruction error', async () => {
    // 6 of the 384 weights of the decoder's first convT (1x1 code -> 4x4, then batch norm) have
    // PyTorch gradients below 1e-5 of the largest (batch norm cancels them): held to |update| <= lr.
    await runGolden('autoencoder', (c, s) => new AutoencoderTrainer(autoencoderRecipe.parse(c), s, 1), { maxLoose: 6 });
  });

  it("ebgan: two iterations of the paper's L_D (hinge at margin m) and L_G with the pulling-away term", async () => {
    const stats = await runGolden('ebgan', (c, s) => new EbganTrainer(ebganRecipe.parse(c), s, 1));
    expect(stats[0].pt).toBeGreaterThan(0);
  });

  it('ebgan with --pretrain 1: one D-only autoencoder step, then an adversarial iteration', async () => {
    const stats = await runGolden('ebgan_pretrain', (c, s) => new EbganTrainer(ebganRecipe.parse(c), s, 1));
    expect(stats[0].lossG).toBeUndefined();
    expect(stats[1].lossG).toBeDefined();
  });

  it('madgan: two iterations of the (k + 1)-way D and the k generators on a shared trunk', async () => {
    await runGolden('madgan', (c, s) => new MadganTrainer(c, s, 1));
  });

  // iDurugkar/GMAN's step: one forward pass, every D's and G's gradient from it, then every optimiser.
  const gman = (c: ModelConfig, s: Pick<TrainSettings, 'lr' | 'beta1' | 'beta2'>) => new GmanTrainer(c, s, 1);
  // With dropout on 4x4 and 2x2 maps of a batch of 3, some weights of D's second and third convs see
  // only dropped (or padded) inputs: their PyTorch gradients are exactly 0 or float noise (< 1e-5 of
  // the largest), held to |update| <= lr: up to 61 of the ~2700 D weights in a step (89 in GMAN*'s third).
  const dropoutLoose = { maxLoose: 64 };
  it('gman, arithmetic mean (GMAN-0), own fakes and dropout per D, original objective', async () => {
    await runGolden('gman_arithmetic', gman, dropoutLoose);
  });
  it('gman, geometric mean weighted by softmax(0.7 V), modified objective', async () => {
    await runGolden('gman_geometric', gman, dropoutLoose);
  });
  it("gman, the reference's shifted harmonic mean, split fakes without dropout", async () => {
    await runGolden('gman_harmonic', gman, { maxLoose: 2 }); // two third-conv weights with noise gradients
  });
  it('gman, softmax weighting with fixed lambda 2 (GMAN-lambda), dropout diversity on one shared batch', async () => {
    await runGolden('gman_softmax', gman, dropoutLoose);
  });
  it('gman* : G learns lambda (F_lambda - 0.001 lambda, projected to >= 0) over 3 steps', async () => {
    const stats = await runGolden('gman_star', gman, { maxLoose: 96 });
    expect(stats[2].lambda).not.toBe(0.5);
  });
});
