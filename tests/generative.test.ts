// The generative models of nets/: autoencoder, EBGAN, BEGAN, GMAN, MAD-GAN and the MLP GAN on
// mixtures. Each trains a few steps on tiny shapes (finite losses, no leak), and the mechanics that
// make each paper what it is are checked against hand calculations in float64 on the CPU:
//   EBGAN     per-sample energies, the hinge L_D, the pulling-away term; the D-only pretraining phase
//   BEGAN     k_t over 3 steps replayed from the logged losses, M_global, no readback per step
//   GMAN      arithmetic / geometric / harmonic / softmax combinations of known per-D losses, the
//             softmax's lambda gradient (GMAN*), lambda kept >= 0, per-D dropout rates and shares
//   MAD-GAN   the D labels, one trunk tensor shared by every head (each head's loss reaches it, and
//             the gradients add), k + 1 logits; on the 1-D five-Gaussian mixture a short run covers
//             more modes than the untrained generators
// Shapes are kept tiny: the software adapter is slow.

import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, engine } from '../engine/device.js';
import { type Tensor, memory, tensor, tidy } from '../engine/tensor.js';
import { grad, noGrad } from '../engine/tape.js';
import { add, concat, mean, mulScalar, randn, Generator } from '../engine/ops/index.js';
import { readStats } from '../nets/lib/stats.js';
import { AutoencoderTrainer } from '../nets/autoencoder.js';
import { ConvAutoencoder, UnetAutoencoder } from '../nets/lib/autoencoders.js';
import { EbganTrainer, ebganRecipe, ebganLosses, pullAwayTerm, pullAwayTermCpu, reconstructionEnergy } from '../nets/ebgan.js';
import { BeganTrainer, beganRecipe, beganKUpdateCpu, beganMGlobalCpu } from '../nets/began.js';
import {
  type GmanDiscriminator,
  GmanTrainer,
  combineLosses,
  combineLossesCpu,
  gmanDropout,
  meanLog1mD,
  meanLogD,
  type GmanCombine,
} from '../nets/gman.js';
import { MadganTrainer, madganLabels, splitSizes, type MultiGenerator } from '../nets/madgan.js';
import { mlp } from '../nets/lib/mlp.js';
import { minimize } from '../nets/lib/step.js';
import { SGD } from '../engine/optim.js';
import { MODE_MODELS, checkModeRun, disposeTrainer, runOnMixture, withModelDefaults } from '../nets/mode_eval.js';
import { MixtureSampler, madGan1dMixture } from '../data/mixtures.js';
import type { GanTrainer, StepStats } from '../nets/registry.js';

beforeAll(async () => {
  await initEngine();
});

const adam = { lr: 2e-4, beta1: 0.5, beta2: 0.999 };

/** A deterministic pseudo-image batch in [-1, 1] (no zeros: the tests never run on zeros). */
function images(n: number, c: number, s: number, phase = 0): Tensor {
  return tensor(
    Array.from({ length: n * c * s * s }, (_, i) => 0.9 * Math.sin(0.37 * i + phase + 0.1)),
    [n, c, s, s],
  );
}

const close = (a: number, b: number, rel = 1e-4, abs = 1e-5) => Math.abs(a - b) <= abs + rel * Math.abs(b);

async function stepStats(t: GanTrainer, real: Tensor): Promise<Record<string, number>> {
  const values = await readStats(t.step(real, true) as StepStats);
  for (const [k, v] of Object.entries(values)) expect(Number.isFinite(v), `${k} = ${v}`).toBe(true);
  return values;
}

async function snapshot(params: Tensor[]): Promise<Float32Array[]> {
  return Promise.all(params.map((p) => p.data()));
}

const changed = (a: Float32Array[], b: Float32Array[]) => a.some((x, i) => x.some((v, j) => v !== b[i][j]));

describe('autoencoder', () => {
  it('reconstructs: finite MSE that falls on a fixed batch, and grids pair reals with reconstructions', async () => {
    const t = new AutoencoderTrainer({ imageSize: 8, nc: 1, nf: 4, code: 6, norm: 'batch' }, { lr: 3e-3, beta1: 0.9, beta2: 0.999 }, 3);
    const real = images(16, 1, 8).keep();
    const first = (await stepStats(t, real)).recon_mse;
    for (let i = 0; i < 8; i++) t.step(real, false);
    const last = (await stepStats(t, real)).recon_mse;
    expect(last).toBeLessThan(first);
    // 16 samples: 8 real images of the first batch, then their 8 reconstructions.
    const grid = t.generate(t.noise(16, new Generator(1)));
    expect(grid.shape).toEqual([16, 1, 8, 8]);
    const g = await grid.data();
    const r = await real.data();
    expect(Array.from(g.slice(0, 64))).toEqual(Array.from(r.slice(0, 64)));
    grid.dispose();
    // Without a probe batch of the right size it decodes the codes.
    const dec = t.generate(t.noise(4, new Generator(1)));
    expect(dec.shape).toEqual([4, 1, 8, 8]);
    dec.dispose();
    real.dispose();
    disposeTrainer(t);
  });

  it('builds the U-Net variant with skips at every level and a bottleneck code', () => {
    const net = new UnetAutoencoder({ imageSize: 16, nc: 1, nf: 3, norm: 'none' });
    const { recon, code } = tidy(() => net.reconstruct(images(2, 1, 16)));
    expect(recon.shape).toEqual([2, 1, 16, 16]);
    expect(code.shape).toEqual([2, 6 * 4 * 4]); // 2nf channels at 4x4 (two stride-2 levels)
    recon.dispose();
    code.dispose();
    net.dispose();
  });
});

describe('EBGAN', () => {
  it('computes per-sample energies, the hinge loss and the pulling-away term like a CPU reference', async () => {
    const ae = new ConvAutoencoder({ imageSize: 8, nc: 1, nf: 2, code: 5, norm: 'none' });
    const x = images(3, 1, 8);
    const [recon, code, energy] = tidy(() => {
      const r = ae.reconstruct(x);
      return [r.recon, r.code, noGrad(() => reconstructionEnergy(x, r.recon))];
    });
    const [xs, rs, es] = await Promise.all([x.data(), recon.data(), energy.data()]);
    for (let i = 0; i < 3; i++) {
      let s = 0;
      for (let j = 0; j < 64; j++) s += (rs[i * 64 + j] - xs[i * 64 + j]) ** 2;
      expect(close(es[i], s / 64)).toBe(true);
    }
    // Hinge: L_D = mean D(x) + mean max(0, m - D(G(z))) on known energies, some above the margin.
    const eReal = [0.3, 0.7, 0.05, 1.4];
    const eFake = [0.2, 1.6, 0.95, 0.01];
    const m = 1;
    const lossD = tidy(() => ebganLosses(tensor(eReal), tensor(eFake), m));
    const want = eReal.reduce((a, v) => a + v, 0) / 4 + eFake.reduce((a, v) => a + Math.max(0, m - v), 0) / 4;
    expect(close(await lossD.item(), want)).toBe(true);
    // PT on a known batch of codes (and on the encoder's own codes).
    const S = [0.3, -1.2, 0.5, 2.0, 0.1, -0.4, 0.9, 0.9, -0.7, 0.2, 1.5, -0.3, 0.05, 0.6, -1.1];
    const pt = tidy(() => pullAwayTerm(tensor(S, [3, 5])));
    expect(close(await pt.item(), pullAwayTermCpu(S, 3))).toBe(true);
    const ptCode = tidy(() => noGrad(() => pullAwayTerm(code)));
    expect(close(await ptCode.item(), pullAwayTermCpu(await code.data(), 3))).toBe(true);
    // Identical codes are maximally similar (PT = 1); orthogonal ones give 0.
    const same = tidy(() => pullAwayTerm(tensor([1, 2, 1, 2], [2, 2])));
    const orth = tidy(() => pullAwayTerm(tensor([1, 0, 0, 1], [2, 2])));
    expect(close(await same.item(), 1)).toBe(true);
    expect(Math.abs(await orth.item())).toBeLessThan(1e-6);
    for (const t of [x, recon, code, energy, lossD, pt, ptCode, same, orth]) t.dispose();
    ae.dispose();
  });

  it('pretrains D alone, then trains both with finite losses (conv and U-Net D)', async () => {
    const base = { imageSize: 8, nc: 1, nz: 6, ngf: 4, ndf: 4, code: 8, dNorm: 'batch', margin: 1, ptWeight: 0.1 };
    const t = new EbganTrainer(ebganRecipe.parse({ ...base, dArch: 'conv', pretrain: 2 }), adam, 5);
    const real = images(6, 1, 8).keep();
    const g0 = await snapshot(t.nets.netG.parameters());
    const s1 = await stepStats(t, real);
    expect(s1.lossG).toBeUndefined(); // D-only phase
    await stepStats(t, real);
    expect(changed(g0, await snapshot(t.nets.netG.parameters()))).toBe(false);
    expect(t.pretraining).toBe(false);
    const s3 = await stepStats(t, real);
    expect(s3.pt).toBeGreaterThanOrEqual(0);
    expect(s3.pt).toBeLessThanOrEqual(1);
    // L_G = mean energy (>= 0) + 0.1 PT; its exact value is checked by the ebgan step golden
    // (tests/steps_generative.test.ts), element by element against PyTorch.
    expect(s3.lossG).toBeGreaterThanOrEqual(0.1 * s3.pt);
    expect(changed(g0, await snapshot(t.nets.netG.parameters()))).toBe(true);
    const before = memory().tensors;
    t.step(real, false);
    expect(memory().tensors).toBe(before);
    disposeTrainer(t);

    const u = new EbganTrainer(ebganRecipe.parse({ ...base, dArch: 'unet', pretrain: 0 }), adam, 5);
    const su = await stepStats(u, real);
    expect(su.lossD).toBeGreaterThan(0);
    disposeTrainer(u);
    real.dispose();
  });
});

describe('BEGAN', () => {
  it('updates k_t on the GPU as clip(k + lambda_k (gamma L(x) - L(G(z))), 0, 1), and M_global, without per-step readbacks', async () => {
    const gamma = 0.5;
    const lambdaK = 0.4; // large, so three steps move k visibly (the paper's 0.001 would barely move it)
    const t = new BeganTrainer(
      beganRecipe.parse({ imageSize: 16, nc: 1, nz: 8, nf: 4, gamma, lambdaK }),
      { lr: 1e-4, beta1: 0.5, beta2: 0.999 },
      7,
    );
    const real = images(4, 1, 16).keep();
    let k = 0; // k_0
    for (let step = 0; step < 3; step++) {
      const s = await stepStats(t, real);
      expect(close(s.k_t, k, 0, 1e-7)).toBe(true); // the k this step used is the replayed one
      k = beganKUpdateCpu(k, s.L_x, s.lossG, gamma, lambdaK);
      expect(close(s.k_next, k, 1e-5, 1e-7)).toBe(true);
      expect(close(s.M_global, beganMGlobalCpu(s.L_x, s.lossG, gamma), 1e-5)).toBe(true);
      expect(close(s.lossD, s.L_x - s.k_t * s.L_G_zD, 1e-5)).toBe(true); // D's fake term is L(G(z_D)), a separate draw
      k = s.k_next; // continue from the GPU's float32 value
    }
    expect(k).toBeGreaterThan(0);
    // The controller clips: a huge lambda_k drives k to a bound and it stays in [0, 1].
    const clipped = beganKUpdateCpu(0.3, 1, 0.1, 0.5, 100);
    expect(clipped).toBe(1);
    // A step without statistics reads nothing back.
    const reads = engine().counters.readbacks;
    t.step(real, false);
    t.step(real, false);
    expect(engine().counters.readbacks).toBe(reads);
    const kNow = await t.nets.balance.k.item();
    expect(kNow).toBeGreaterThanOrEqual(0);
    expect(kNow).toBeLessThanOrEqual(1);
    // k_t is part of the checkpointed state.
    expect([...t.nets.balance.stateDict().keys()]).toEqual(['k', 'm_global']);
    const img = t.generate(t.noise(3, new Generator(2)));
    expect(img.shape).toEqual([3, 1, 16, 16]);
    for (const v of await img.data()) expect(Math.abs(v)).toBeLessThanOrEqual(1);
    img.dispose();
    real.dispose();
    disposeTrainer(t);
  });
});

describe('GMAN', () => {
  const combos: GmanCombine[] = ['arithmetic', 'geometric', 'harmonic', 'softmax'];

  it('combines known per-discriminator losses like the CPU reference, for both objectives', async () => {
    const cases: { v: number[]; sign: 1 | -1 }[] = [
      { v: [0.9, 0.2, 1.7, 0.45], sign: 1 }, // modified objective: -log D >= 0
      { v: [-0.3, -1.1, -0.05], sign: -1 }, // original objective: log(1 - D) <= 0
    ];
    for (const { v, sign } of cases) {
      for (const combine of combos) {
        for (const lambda of combine === 'softmax' ? [0, 1, 3.5] : [1]) {
          const got = tidy(() => combineLosses(tensor(v), combine, { sign, lambda }));
          const want = combineLossesCpu(v, combine, sign, lambda);
          expect(close(await got.item(), want), `${combine} lambda=${lambda} on [${v}]: ${await got.item()} vs ${want}`).toBe(true);
          got.dispose();
        }
      }
      // lambda = 0 is the arithmetic mean; a large lambda approaches the harshest (largest) loss.
      expect(close(combineLossesCpu(v, 'softmax', sign, 0), combineLossesCpu(v, 'arithmetic', sign))).toBe(true);
      expect(close(combineLossesCpu(v, 'softmax', sign, 200), Math.max(...v), 1e-3)).toBe(true);
    }
    // Unweighted (lambda 0), the means are ordered on positive losses: the reference's shifted
    // harmonic mean (near the smallest loss) <= geometric <= arithmetic.
    const v = [0.9, 0.2, 1.7];
    expect(combineLossesCpu(v, 'harmonic', 1, 0)).toBeLessThan(combineLossesCpu(v, 'geometric', 1, 0));
    expect(combineLossesCpu(v, 'geometric', 1, 0)).toBeLessThan(combineLossesCpu(v, 'arithmetic', 1, 0));
  });

  it("takes E log D and E log(1 - D) with the reference's squash 0.98 sigmoid + 0.01, or exactly (--d-clip 0)", async () => {
    const l = [-3.2, -0.4, 0.05, 1.7, 6.5];
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    const avg = (f: (x: number) => number) => l.reduce((a, x) => a + f(x), 0) / l.length;
    for (const clip of [0.01, 0]) {
      const p = (x: number) => (1 - 2 * clip) * sig(x) + clip;
      const [a, b] = tidy(() => [meanLogD(tensor(l), clip), meanLog1mD(tensor(l), clip)]);
      expect(
        close(
          await a.item(),
          avg((x) => Math.log(p(x))),
          1e-5,
        ),
        `E log D, clip ${clip}`,
      ).toBe(true);
      expect(
        close(
          await b.item(),
          avg((x) => Math.log(1 - p(x))),
          1e-5,
        ),
        `E log(1 - D), clip ${clip}`,
      ).toBe(true);
      a.dispose();
      b.dispose();
    }
  });

  it("gives lambda the softmax's gradient, the variance of V under the weights (GMAN*)", async () => {
    const v = [0.9, 0.2, 1.7];
    const lam = tensor([0.8], []).requireGrad();
    const [g] = tidy(() => grad(combineLosses(tensor(v), 'softmax', { sign: 1, lambda: lam }), [lam]));
    const h = 1e-4;
    const fd = (combineLossesCpu(v, 'softmax', 1, 0.8 + h) - combineLossesCpu(v, 'softmax', 1, 0.8 - h)) / (2 * h);
    expect(close(await g.item(), fd, 1e-3)).toBe(true);
    expect(await g.item()).toBeGreaterThan(0); // so G alone would lower lambda; the -0.001 lambda reward pushes back
    g.dispose();
    lam.dispose();
  });

  it('trains N discriminators with their own dropout rates and batches of fakes; GMAN* keeps lambda >= 0', async () => {
    // GMAN.py: keep_prob = base_prob + delta_p (i + 1), base_prob 0.4, delta_p = (0.6 - base_prob) / N
    expect([0, 1, 2].map((i) => +gmanDropout(i, 3).toFixed(4))).toEqual([0.5333, 0.4667, 0.4]);
    expect(splitSizes(10, 3)).toEqual([4, 3, 3]);
    const cfg = {
      imageSize: 8,
      nc: 1,
      nz: 6,
      ngf: 4,
      ndf: 3,
      n: 3,
      combine: 'softmax',
      lambda: 0.002,
      learnLambda: true,
      diversity: 'both',
      objective: 'original',
    };
    const t = new GmanTrainer(cfg, { lr: 0.01, beta1: 0.5, beta2: 0.999 }, 9);
    const rates = [...t.nets.netD].map((d) =>
      (d as GmanDiscriminator).main
        .modules()
        .filter((m) => m.typeName === 'Dropout')
        .map((m) => (m as unknown as { p: number }).p),
    );
    expect(rates.map((r) => r.length)).toEqual([2, 2, 2]);
    expect(new Set(rates.map((r) => r[0])).size).toBe(3);
    const real = images(7, 1, 8).keep(); // every D sees these 7 and its own 7 of G's 21 samples
    const lambdas: number[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await stepStats(t, real);
      expect(s.V_0).toBeLessThanOrEqual(0); // the original objective's V_i = E log(1 - D_i(G(z)))
      expect(
        close(
          s.lossG,
          combineLossesCpu([s.V_0, s.V_1, s.V_2], 'softmax', -1, lambdas.at(-1) ?? 0.002) - 0.001 * (lambdas.at(-1) ?? 0.002),
          1e-4,
        ),
      ).toBe(true);
      lambdas.push(s.lambda);
      expect(s.lambda).toBeGreaterThanOrEqual(0);
    }
    expect(lambdas[0]).not.toBe(0.002);
    disposeTrainer(t);
    // Fixed-lambda arithmetic GMAN with the modified objective and split batches.
    const a = new GmanTrainer(
      { ...cfg, n: 2, combine: 'arithmetic', learnLambda: false, diversity: 'split', objective: 'modified' },
      adam,
      9,
    );
    const sa = await stepStats(a, real);
    expect(close(sa.lossG, (sa.V_0 + sa.V_1) / 2, 1e-5)).toBe(true);
    expect(sa.lambda).toBeUndefined();
    disposeTrainer(a);
    real.dispose();
  });
});

describe('MAD-GAN', () => {
  it('labels D batches by generator with real last', () => {
    expect(Array.from(madganLabels(3, 2))).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    expect(Array.from(madganLabels(1, 3))).toEqual([0, 0, 0, 1, 1, 1]);
  });

  it('shares one trunk among the heads: one tensor, gradients from every head that add up', async () => {
    const cfg = { imageSize: 8, nc: 1, nz: 5, ngf: 4, ndf: 3, k: 3, shared: 1 };
    const t = new MadganTrainer(cfg, adam, 11);
    const g: MultiGenerator = t.nets.netG;
    const trunkW = g.trunk.parameters()[0];
    const all = g.parameters();
    expect(all.filter((p) => p === trunkW).length).toBe(1);
    expect(all.length).toBe(g.trunk.parameters().length + 3 * g.heads.at(0).parameters().length);
    const labels = t.labelsFor(2);
    expect(Array.from(await labels.d.dataInt())).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    expect(Array.from(await labels.g.dataInt())).toEqual([3, 3, 3, 3, 3, 3]);
    // Each head's own output depends on the trunk; the gradient of the sum is the sum of gradients.
    const z = randn([6, 5, 1, 1], { generator: new Generator(4) });
    const parts = g.forwardSplit(z, [2, 2, 2]);
    expect(parts.map((p) => p.shape)).toEqual([
      [2, 1, 8, 8],
      [2, 1, 8, 8],
      [2, 1, 8, 8],
    ]);
    const losses = parts.map((p) => mean(p));
    const per = await Promise.all(losses.map(async (l) => await tidy(() => grad(l, [trunkW]))[0].data()));
    for (const gr of per) expect(gr.some((v) => v !== 0)).toBe(true);
    const [total] = grad(
      losses.reduce((a, b) => add(a, b)),
      [trunkW],
    );
    const tot = await total.data();
    tot.forEach((v, i) => expect(close(v, per[0][i] + per[1][i] + per[2][i], 1e-3, 1e-6)).toBe(true));
    // D has k + 1 logits; a few training steps stay finite.
    const real = images(2, 1, 8).keep();
    const logits = tidy(() => t.nets.netD.call(real) as Tensor);
    expect(logits.shape).toEqual([2, 4]);
    const s = await stepStats(t, real);
    expect(s.lossD).toBeGreaterThan(0);
    await stepStats(t, real);
    const img = t.generate(t.noise(7, new Generator(1)));
    expect(img.shape).toEqual([7, 1, 8, 8]); // rows 3, 2, 2 from generators 0, 1, 2
    for (const x of [z, ...parts, ...losses, total, real, logits, img]) x.dispose();
    disposeTrainer(t);
  });

  it("D's loss is the (k + 1)-way cross-entropy of D's logits with each source passed as a batch of its own", async () => {
    // 16x16 so D has a batch-norm layer: its logits depend on which samples share a batch.
    const cfg = { imageSize: 16, nc: 1, nz: 5, ngf: 4, ndf: 3, k: 2, shared: 1 };
    const t = new MadganTrainer(cfg, adam, 5);
    const { netG, netD } = t.nets;
    // Logits of order 1 (DCGAN init gives ~0.01), so the batchings' losses differ clearly.
    noGrad(() =>
      tidy(() => {
        const w = netD.parameters().at(-1)!; // the last conv: k + 1 output channels
        expect(w.shape[0]).toBe(3);
        const scaled = mulScalar(w, 100);
        w.engine.copy(scaled.buffer, 0, w.buffer, 0, w.size * 4);
      }),
    );
    const m = 3;
    const real = images(m, 1, 16, 0.4).keep();
    // The step's noise: a copy of the trainer's stream, so the step itself draws the same z.
    const z = t.noise(2 * m, new Generator(0).setState(t.rng.getState()));
    const [f0, f1] = noGrad(() => tidy(() => netG.forwardSplit(z, [m, m])));
    const rows = async (x: Tensor) => Array.from(await tidy(() => noGrad(() => netD.call(x) as Tensor)).data());
    const perSource = [...(await rows(f0)), ...(await rows(f1)), ...(await rows(real))];
    const joint = [...(await rows(tidy(() => concat([f0, f1], 0)))), ...(await rows(real))];
    // Cross-entropy by hand, float64: labels 0 x m, 1 x m, 2 x m (real last).
    const ce = (logits: number[]) => {
      let total = 0;
      for (let i = 0; i < 3 * m; i++) {
        const row = logits.slice(3 * i, 3 * i + 3);
        const top = Math.max(...row);
        const logZ = top + Math.log(row.reduce((a, v) => a + Math.exp(v - top), 0));
        total += logZ - row[Math.floor(i / m)];
      }
      return total / (3 * m);
    };
    const expected = ce(perSource);
    expect(Math.abs(ce(joint) - expected)).toBeGreaterThan(0.02); // the two batchings do differ here
    const s = await stepStats(t, real);
    expect(close(s.lossD, expected, 1e-4, 1e-5), `lossD ${s.lossD} vs ${expected}`).toBe(true);
    for (const x of [real, z, f0, f1]) x.dispose();
    disposeTrainer(t);
  });

  it('covers more of the 1-D five-Gaussian mixture after a short run than untrained', async () => {
    const r = await runOnMixture({
      mixture: 'madgan1d',
      model: 'madgan',
      steps: 100,
      batch: 32,
      hidden: 32,
      k: 4,
      shared: 1,
      samples: 800,
      seed: 1,
    });
    expect(Number.isFinite(r.last.lossD)).toBe(true);
    expect(r.final.covered).toBeGreaterThan(r.init.covered);
  });
});

describe("the mixture comparison (recipes' mixture hooks)", () => {
  it('runs the baseline and the models whose recipes declare a mixture form, with their own defaults and checks', () => {
    expect(MODE_MODELS[0]).toBe('mlp_gan');
    expect([...MODE_MODELS].sort()).toEqual(['gman', 'madgan', 'mlp_gan']);
    // The mixture runs' defaults (not the image recipes'): 4 generators on a 1-layer trunk; 3
    // discriminators with dropout diversity and the non-saturating loss.
    const mad = withModelDefaults({ mixture: 'ring8', model: 'madgan' });
    expect([mad.k, mad.shared, mad.hidden, mad.layers]).toEqual([4, 1, 64, 2]);
    const gm = withModelDefaults({ mixture: 'ring8', model: 'gman', n: 2 });
    expect([gm.n, gm.combine, gm.diversity, gm.objective, gm.learnLambda]).toEqual([2, 'softmax', 'dropout', 'modified', false]);
    expect(checkModeRun(mad)).toEqual([]);
    expect(checkModeRun({ ...mad, shared: 3 })[0]).toMatch(/--shared must be an integer in \[1, 2\]/);
    expect(checkModeRun({ ...mad, k: 0 })[0]).toMatch(/--k must be an integer in \[1, 64\], got 0/);
    expect(checkModeRun({ ...gm, learnLambda: true, combine: 'harmonic' })[0]).toMatch(/--learn-lambda \(GMAN\*\) needs --combine softmax/);
    expect(checkModeRun({ ...gm, combine: 'median' })[0]).toMatch(/--combine must be one of/);
    expect(() => withModelDefaults({ mixture: 'ring8', model: 'wgan' })).toThrow(/unknown model 'wgan' \(mlp_gan, /);
  });
});

describe('minimize', () => {
  it("skips a frozen network's weight gradients without changing the others, and restores requiresGrad", async () => {
    const G = mlp(3, [5], 4, { act: 'relu' });
    const D = mlp(4, [6], 1, { act: 'leaky' });
    const z = tensor(
      Array.from({ length: 9 }, (_, i) => Math.cos(i + 0.3)),
      [3, 3],
    );
    const run = async (frozen: boolean) => {
      const opt = new SGD(G, { lr: 0 }); // lr 0: the weights stay put, only .grad is compared
      const before = engine().counters.dispatches;
      tidy(() => minimize(mean(D.call(G.call(z)) as Tensor), opt, { frozen: frozen ? [D] : [] }));
      const dispatches = engine().counters.dispatches - before;
      const grads = await Promise.all(G.parameters().map((p) => p.grad!.data()));
      opt.dispose();
      return { dispatches, grads };
    };
    const plain = await run(false);
    const frozen = await run(true);
    expect(frozen.dispatches).toBeLessThan(plain.dispatches);
    frozen.grads.forEach((g, i) => g.forEach((v, j) => expect(v).toBeCloseTo(plain.grads[i][j], 6)));
    expect(D.parameters().every((p) => p.requiresGrad)).toBe(true);
    expect(D.parameters().every((p) => p.grad === null)).toBe(true);
    z.dispose();
    G.dispose();
    D.dispose();
  });
});

describe('mixture sampler', () => {
  it('normalises a mixture to about [-1, 1] and maps back exactly', async () => {
    const s = new MixtureSampler(madGan1dMixture(), 3);
    // [min(mean - 3 std), max(mean + 3 std)] = [10 - 9, 110 + 3]
    expect(s.center[0]).toBeCloseTo((1 + 113) / 2, 6);
    expect(s.scale[0]).toBeCloseTo((113 - 1) / 2, 6);
    const raw = s.draw(500);
    const back = s.toData(s.toNetwork(raw));
    raw.forEach((v, i) => expect(back[i]).toBeCloseTo(v, 3));
    const t = s.batch(4);
    expect(t.shape).toEqual([4, 1]);
    for (const v of await t.data()) expect(Math.abs(v)).toBeLessThan(1.3);
    t.dispose();
  });
});
