// Training steps against PyTorch transcriptions of the reference training loops, element by element
// (tests/support/stepgolden.ts; goldens from scripts/golden/make_step_*.py). Each case loads the
// golden's initial weights into a freshly built trainer, feeds its generator the golden's noise, runs
// the steps and compares every statistic and every parameter and buffer after each step.
import { beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { recipes } from '../nets/registry.js';
import { initEngine } from '../engine/index.js';
import { DcganTrainer, dcganRecipe } from '../nets/dcgan.js';
import { StepGolden, STEP_GOLDEN_DIR, runStepGolden } from './support/stepgolden.js';

beforeAll(async () => {
  await initEngine();
});

describe('step goldens', () => {
  it('dcgan: two iterations of pytorch/examples main.py (D on real and detached fake, then G against the updated D)', async () => {
    const g = new StepGolden('dcgan');
    const t = new DcganTrainer(dcganRecipe.parse(g.config), { lr: g.settings.lr, beta1: 0.5, beta2: 0.999 }, 1);
    const { loose } = await runStepGolden(t, g, { lr: g.settings.lr });
    expect(loose).toEqual(new Array(g.steps).fill(0));
  });
});

describe('coverage', () => {
  it('every registered model has a step golden that a steps test loads', () => {
    const goldens = readdirSync(STEP_GOLDEN_DIR)
      .filter((f) => f.endsWith('.safetensors'))
      .map((f) => f.replace(/\.safetensors$/, ''));
    const testSources = readdirSync(__dirname)
      .filter((f) => /^steps.*\.test\.ts$/.test(f))
      .map((f) => readFileSync(join(__dirname, f), 'utf8'))
      .join('\n');
    for (const name of Object.keys(recipes)) {
      const mine = goldens.filter((g) => g === name || g.startsWith(`${name}_`));
      expect(mine.length, `${name}: no tests/golden/steps/${name}*.safetensors`).toBeGreaterThan(0);
      // Each golden is loaded by name somewhere in the steps suites (a literal, or a template like `gman_${mode}`).
      const loaded = mine.filter(
        (g) => testSources.includes(`'${g}'`) || testSources.includes(`\`${name}_`) || testSources.includes(`'${name}_`),
      );
      expect(loaded.length, `${name}: its goldens ${mine.join(', ')} are loaded by no tests/steps*.test.ts`).toBeGreaterThan(0);
    }
  });
});
