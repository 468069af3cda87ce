// BEGAN's training step against PyTorch transcriptions of carpedm20's trainers (BEGAN-tensorflow,
// BEGAN-pytorch; scripts/golden/make_step_began.py), element by element: three steps each, every
// statistic (L_D, L_G, L(x), L(G(z_D)), k_t before and after, M_global, the step's rate) and every
// parameter and buffer (k_t and M_global are the balance module's buffers) after each step, and the
// gradients each step used.
//   began          k_0 = 0, separate z_D and z_G, the rate halved after every step down to 0.3 lr
//   began_k        k_0 = 0.5, lambda_k 0.05: the k-weighted fake term shapes D's gradient from step 1
//   began_sharedz  one z for both terms (BEGAN-tensorflow), k_0 = 0.3
// The goldens take both gradients before either optimiser writes; the old step (D's Adam update
// before G's backward through D) fails them at step 1 on G's weights.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/index.js';
import { BeganTrainer, beganRecipe } from '../nets/began.js';
import { disposeTrainer } from '../nets/mode_eval.js';
import { StepGolden, expectAllClose, runStepGolden } from './support/stepgolden.js';

beforeAll(async () => {
  await initEngine();
});

async function runGolden(name: string): Promise<void> {
  const g = new StepGolden(name);
  const t = new BeganTrainer(beganRecipe.parse(g.config), { lr: g.settings.lr, beta1: g.settings.beta1, beta2: g.settings.beta2 }, 1);
  try {
    // After each step, besides the statistics and every state element:
    const afterStep = async (k: number) => {
      // The gradients the step used (left on the parameters), per element against PyTorch's
      // d L_D / d theta_D and d L_G / d theta_G. Adam's update normalises a small change of the
      // gradient away (step 1 moves every weight by about +-lr whatever the magnitude), so the
      // parameters alone would not see G's gradient taken through D's updated weights; this does.
      for (const net of ['netG', 'netD'] as const) {
        for (const [name, p] of t.nets[net].namedParameters()) {
          expect(p.grad, `${name}: no gradient after step ${k}`).toBeTruthy();
          expectAllClose(`${name}: gradient at step ${k}`, await p.grad!.data(), g.get(`grad${k}.${net}.${name}`), {
            rtol: 1e-3,
            atolScale: 1e-4,
          });
        }
      }
    };
    const { loose } = await runStepGolden(t, g, { lr: g.settings.lr, afterStep });
    // Adam's first moves are lr g / (|g| + eps): where PyTorch's gradient is below 1e-5 of its
    // tensor's largest (a few D weights at step 1, |g| ~ 1e-9 against 1e-4: float32 summation order
    // decides them) the element is held to |move| <= lr instead (the base rate, the largest any
    // step uses). At most 2 such elements per step in these goldens; everything else per element.
    loose.forEach((l, i) => expect(l, `${name}: step ${i + 1} elements held only to the lr bound`).toBeLessThanOrEqual(2));
  } finally {
    disposeTrainer(t);
  }
}

describe('BEGAN step goldens (carpedm20 BEGAN-tensorflow / BEGAN-pytorch)', () => {
  it('began: k_0 = 0, z_D and z_G, both gradients before either update, k_t and M_global, the halving rate over 3 steps', async () => {
    await runGolden('began');
  });
  it('began_k: k_0 = 0.5, lambda_k 0.05, gamma 0.7: the k-weighted fake term and the controller over 3 steps', async () => {
    await runGolden('began_k');
  });
  it('began_sharedz: one z per step (BEGAN-tensorflow) over 3 steps', async () => {
    await runGolden('began_sharedz');
  });
});
