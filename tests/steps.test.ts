// Training steps against PyTorch transcriptions of the reference training loops, element by element
// (tests/support/stepgolden.ts; goldens from scripts/golden/make_step_*.py). Each case loads the
// golden's initial weights into a freshly built trainer, feeds its generator the golden's noise, runs
// the steps and compares every statistic and every parameter and buffer after each step.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tensor } from '../engine/index.js';
import { DcganTrainer } from '../nets/dcgan.js';
import { readStats } from '../nets/stats.js';
import { StepGolden, loadInit, feedDraws, expectStateMatches, expectStatsMatch } from './support/stepgolden.js';

beforeAll(async () => {
  await initEngine();
});

describe('step goldens', () => {
  it('dcgan: two iterations of pytorch/examples main.py (D on real and detached fake, then G against the updated D)', async () => {
    const g = new StepGolden('dcgan');
    const t = new DcganTrainer(g.config, { lr: g.settings.lr, beta1: 0.5, beta2: 0.999 }, 1);
    loadInit(t, g);
    feedDraws(t.rng, g);
    const real = tensor(g.get('input.real'), g.shape('input.real'));
    for (let k = 1; k <= g.steps; k++) {
      const stats = await readStats(t.step(real, true)!);
      expectStatsMatch(stats, g, k);
      const loose = await expectStateMatches(t, g, k, { lr: g.settings.lr });
      expect(loose).toBe(0);
    }
    expect(t.rng.fedRemaining).toBe(0);
    real.dispose();
  });
});
