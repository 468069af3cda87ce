// The game page's one-side updates (demos/game/sides.ts: "D step", "G step", steps per side) on the
// engine's mixture trainers, tiny MLPs on 2-D points:
//   - a D step is the D half of the trainer's round: D's weights equal those after a full step()
//     from the same seed, while G's weights, Adam state and step counts are untouched;
//   - a G step leaves D (and its optimiser) untouched; for the MLP GAN, two G steps match a float64
//     CPU reference (G's loss -log sigmoid(D(G(z))) on the trainer's own noise draws, its gradient by
//     central differences, two Adam steps); for GMAN (a simultaneous update) G equals a full step's G;
//   - a round of d D steps and g G steps counts d and g updates per side; a round of 1 and 1 is the
//     trainer's own step(); nothing leaks;
//   - the inspector's game mode (demos/inspector/mixture.ts) builds and steps (or draws) every model's
//     game from its options as the page reads them, and names the option when one is out of range.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/device.js';
import { memory, tensor, type Tensor } from '../engine/tensor.js';
import type { Module } from '../engine/nn.js';
import { MODE_MODELS, createMixtureTrainer, mixtureModel, withModelDefaults, type ModeRunOptions } from '../nets/mode_eval.js';
import type { GanTrainer } from '../nets/registry.js';
import { sideOptimizers, stepRound, stepSide } from '../demos/game/sides.js';
import { mixtureOptions, mixtureSubject } from '../demos/inspector/mixture.js';
import { maxAbsDiff, seeded } from './support/util.js';

beforeAll(async () => {
  await initEngine();
});

const B = 8;
const options = (model: string): ModeRunOptions =>
  withModelDefaults({ mixture: 'ring8', model, nz: 4, hidden: 8, layers: 2, lr: 0.01, seed: 5, decayTo: 1 });

function make(model: string): { t: GanTrainer; ds: Module[] } {
  const t = createMixtureTrainer(options(model), 2);
  return { t, ds: mixtureModel(model).discriminators(t) };
}

/** Every parameter of the trainer's networks by side, read back (D: the hook's discriminators). */
async function weights(t: GanTrainer, ds: Module[]): Promise<{ D: number[]; G: number[] }> {
  const dSet = new Set(ds.flatMap((d) => d.parameters()));
  const all = [...new Set(Object.values(t.nets).flatMap((n) => n.parameters()))];
  const read = async (ps: Tensor[]) => (await Promise.all(ps.map((p) => p.data()))).flatMap((a) => [...a]);
  return { D: await read(all.filter((p) => dSet.has(p))), G: await read(all.filter((p) => !dSet.has(p))) };
}

const realBatch = (seed: number) => tensor(seeded(B * 2, seed), [B, 2]);
const steps = (t: GanTrainer, ds: Module[]) => {
  const s = sideOptimizers(t, ds);
  return { D: s.D.map((o) => o.stepCount()), G: s.G.map((o) => o.stepCount()) };
};

describe('game sides: one side at a time', () => {
  for (const model of MODE_MODELS) {
    it(`${model}: a D step is the D half of a round, a G step leaves D alone`, async () => {
      const a = make(model);
      const full = make(model);
      const g = make(model);
      const w0 = await weights(a.t, a.ds);
      expect(await weights(full.t, full.ds)).toEqual(w0); // same seed, same start

      const real = realBatch(1);
      try {
        stepSide(a.t, a.ds, 'D', real, false);
        full.t.step(real, false);
        stepSide(g.t, g.ds, 'G', real, false);
      } finally {
        real.dispose();
      }
      const wa = await weights(a.t, a.ds);
      const wf = await weights(full.t, full.ds);
      const wg = await weights(g.t, g.ds);
      // D step: D moved exactly as in the full step, G did not move, G's optimisers never stepped.
      expect(maxAbsDiff(wa.D, w0.D), 'D moved').toBeGreaterThan(1e-4);
      expect(maxAbsDiff(wa.D, wf.D), "D as the full step's D").toBeLessThan(1e-6);
      expect(wa.G).toEqual(w0.G);
      expect(steps(a.t, a.ds)).toEqual({ D: [1], G: [0] });
      // G step: G moved, D and its optimiser did not.
      expect(maxAbsDiff(wg.G, w0.G), 'G moved').toBeGreaterThan(1e-4);
      expect(wg.D).toEqual(w0.D);
      expect(steps(g.t, g.ds)).toEqual({ D: [0], G: [1] });
      if (model === 'gman') {
        // GMAN updates G and every D from one pass: its G step is the full step's G update.
        expect(maxAbsDiff(wg.G, wf.G)).toBeLessThan(1e-6);
      } else {
        // The sequential trainers meet the updated D in a round: a G step (against the old D) differs.
        expect(maxAbsDiff(wg.G, wf.G)).toBeGreaterThan(1e-6);
      }
    });
  }

  it('mlp_gan: two G steps against a float64 reference (finite-difference gradients, Adam)', async () => {
    const model = 'mlp_gan';
    const o = options(model);
    const { t, ds } = make(model);
    // The noise the two steps draw: a fresh trainer of the same seed draws the same codes.
    const twin = make(model).t;
    const zs: number[][] = [];
    for (let i = 0; i < 2; i++) {
      const z = twin.noise(B, twin.rng);
      zs.push([...(await z.data())]);
      z.dispose();
    }
    const net = async (m: Module) => {
      const ps = [...m.namedParameters()];
      const layers: { w: number[]; b: number[]; out: number; in: number }[] = [];
      for (let i = 0; i < ps.length; i += 2) {
        expect(ps[i][0].endsWith('weight') && ps[i + 1][0].endsWith('bias')).toBe(true);
        const w = ps[i][1];
        layers.push({ w: [...(await w.data())], b: [...(await ps[i + 1][1].data())], out: w.shape[0], in: w.shape[1] });
      }
      return layers;
    };
    const dNet = await net(ds[0]);
    const gNet = await net(t.nets.netG);
    const forward = (layers: typeof gNet, x: number[], act: (v: number) => number) => {
      let h = x;
      layers.forEach((l, li) => {
        const y = Array.from({ length: l.out }, (_, j) => l.b[j] + h.reduce((s, v, k) => s + v * l.w[j * l.in + k], 0));
        h = li < layers.length - 1 ? y.map(act) : y;
      });
      return h;
    };
    const relu = (v: number) => Math.max(0, v);
    const leaky = (v: number) => (v > 0 ? v : 0.2 * v);
    // G's loss: the mean over the batch of BCE(D(G(z)), 1) = softplus(-D(G(z))).
    const flat = gNet.flatMap((l) => [l.w, l.b]);
    const loss = (z: number[]) => {
      let s = 0;
      for (let i = 0; i < B; i++) {
        const x = forward(gNet, z.slice(i * o.nz, (i + 1) * o.nz), relu);
        const d = forward(dNet, x, leaky)[0];
        s += Math.max(-d, 0) + Math.log1p(Math.exp(-Math.abs(d)));
      }
      return s / B;
    };
    const gradient = (z: number[]) => {
      const g: number[] = [];
      const h = 1e-6;
      for (const arr of flat) {
        for (let j = 0; j < arr.length; j++) {
          const v = arr[j];
          arr[j] = v + h;
          const up = loss(z);
          arr[j] = v - h;
          const down = loss(z);
          arr[j] = v;
          g.push((up - down) / (2 * h));
        }
      }
      return g;
    };
    // Adam (PyTorch's), betas and lr as the run's, on the flattened G parameters, in float64.
    const p0 = flat.flatMap((a) => [...a]);
    const m = new Array<number>(p0.length).fill(0);
    const v = new Array<number>(p0.length).fill(0);
    for (let s = 1; s <= 2; s++) {
      const g = gradient(zs[s - 1]);
      let k = 0;
      for (const arr of flat) {
        for (let j = 0; j < arr.length; j++, k++) {
          m[k] = o.beta1 * m[k] + (1 - o.beta1) * g[k];
          v[k] = o.beta2 * v[k] + (1 - o.beta2) * g[k] * g[k];
          const mh = m[k] / (1 - o.beta1 ** s);
          const vh = v[k] / (1 - o.beta2 ** s);
          arr[j] -= (o.lr * mh) / (Math.sqrt(vh) + 1e-8);
        }
      }
    }
    const want = flat.flatMap((a) => [...a]);

    for (let s = 0; s < 2; s++) {
      const real = realBatch(10 + s);
      try {
        stepSide(t, ds, 'G', real, false);
      } finally {
        real.dispose();
      }
    }
    const got = (await net(t.nets.netG)).flatMap((l) => [...l.w, ...l.b]);
    const moved = want.map((w, i) => Math.abs(w - p0[i]));
    // Most parameters move by about lr per step; the second step's size depends on both gradients.
    expect(moved.filter((d) => d > 0.5 * o.lr).length).toBeGreaterThan(want.length / 2);
    // float32 against float64: about 2e-7 here; the minimax loss log(1 - D) instead misses by 3e-4.
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-3 * o.lr);
    // And D never moved.
    expect(
      maxAbsDiff(
        (await net(ds[0])).flatMap((l) => [...l.w, ...l.b]),
        dNet.flatMap((l) => [...l.w, ...l.b]),
      ),
    ).toBe(0);
  });

  it('a round counts its updates per side; 1 and 1 is the trainer step; nothing leaks', async () => {
    const a = make('mlp_gan');
    const b = make('mlp_gan');
    let seed = 20;
    // The first round allocates Adam's moments and the kept gradients; the second allocates nothing.
    stepRound(a.t, a.ds, { d: 2, g: 3 }, () => realBatch(seed++), false);
    expect(steps(a.t, a.ds)).toEqual({ D: [2], G: [3] });
    const before = memory().tensors;
    const stats = stepRound(a.t, a.ds, { d: 2, g: 3 }, () => realBatch(seed++), true);
    expect(stats && Object.keys(stats)).toContain('lossD');
    for (const s of Object.values(stats!)) s.dispose();
    expect(steps(a.t, a.ds)).toEqual({ D: [4], G: [6] });
    expect(memory().tensors).toBe(before);

    const c = make('mlp_gan');
    const r1 = stepRound(c.t, c.ds, { d: 1, g: 1 }, () => realBatch(7), false);
    expect(r1).toBeNull();
    const real = realBatch(7);
    b.t.step(real, false);
    real.dispose();
    expect(await weights(c.t, c.ds)).toEqual(await weights(b.t, b.ds));
  });

  it("the inspector's game mode steps every model from its page options and names bad ones", async () => {
    for (const model of MODE_MODELS) {
      const names = mixtureOptions(model).map(([k]) => k);
      expect(names.slice(0, 4)).toEqual(['side', 'dSteps', 'gSteps', 'mixture']);
      for (const side of ['round', 'D', 'G', 'view']) {
        const before = memory().tensors;
        const subject = mixtureSubject(model, { side, dSteps: 2, gSteps: 1, mixture: 'grid25', hidden: 8, layers: 2, nz: 4 }, 8);
        subject.step();
        subject.step();
        expect(subject.config).toMatchObject({ side, mixture: 'grid25', hidden: 8 });
        subject.dispose();
        // Everything freed, MAD-GAN's cached class labels included (its trainer's dispose()).
        expect(memory().tensors - before, `${model} ${side}: tensors left after dispose`).toBe(0);
      }
    }
    expect(() => mixtureSubject('mlp_gan', { side: 'both' }, 8)).toThrow(/side must be round, D, G or view, got 'both'/);
    expect(() => mixtureSubject('mlp_gan', { dSteps: 0 }, 8)).toThrow(
      /dSteps \(steps per side of a round\) must be an integer in \[1, 20\], got 0/,
    );
    expect(() => mixtureSubject('mlp_gan', { mixture: 'madgan1d' }, 8)).toThrow(
      /mixture must be a 2-D mixture \(ring8, grid25\), got 'madgan1d'/,
    );
    expect(() => mixtureSubject('madgan', { k: 0 }, 8)).toThrow(/k/);
  });
});
