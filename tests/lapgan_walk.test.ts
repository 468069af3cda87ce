// LAPGAN's sampling chain as the training page walks it (nets/lapgan.ts LapganTrainer.pyramidChain,
// drawn by demos/shared/pyramid-walk.ts): every level's image is the CPU float64 pyrUp of the
// coarser level's image plus that level's generated band, the coarse image is the coarse GAN's,
// the finest level is what generate() returns, each noise plane only changes its own level and
// the ones below, and nothing leaks. Tiny widths for the software adapter.

import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, engine } from '../engine/device.js';
import { memory, tensor, tidy, type Tensor } from '../engine/tensor.js';
import { noGrad } from '../engine/tape.js';
import { Generator } from '../engine/ops/index.js';
import { pyrUpCpu } from '../engine/ops/cpu/pyramid.js';
import { hostTensor } from '../engine/ops/cpu/host.js';
import { LapganTrainer, lapganNoiseDim, lapganRecipe } from '../nets/lapgan.js';
import type { ModelConfig, PyramidChain } from '../nets/registry.js';
import { GAN_ADAM as SETTINGS, configOf, maxAbsDiff, seeded } from './support/util.js';

beforeAll(async () => {
  await initEngine();
});

const config: ModelConfig = configOf(lapganRecipe, { imageSize: 16, levels: 2, nc: 1, nz: 8, nh: 16, ngf: 4, ndf: 4 });

const chainTensors = (c: PyramidChain): Tensor[] => [c.coarse, ...c.steps.flatMap((s) => [s.up, s.band, s.image])];

/** A trainer one step into training (so batch and running BN statistics differ). */
async function trained(seed: number): Promise<LapganTrainer> {
  const t = new LapganTrainer(lapganRecipe.parse(config), SETTINGS, seed);
  const real = tensor(seeded(4 * 256, 9), [4, 1, 16, 16]);
  t.step(real, false);
  real.dispose();
  await engine().sync();
  return t;
}

describe('LAPGAN pyramid walk (pyramidChain)', () => {
  for (const batchStats of [true, false]) {
    it(`image_k = pyrUp(image_k+1) + band_k (CPU float64 pyrUp), coarse = G_K(z), last level = generate() (batchStats ${batchStats})`, async () => {
      const t = await trained(3);
      const code = t.noise(3, new Generator(7));
      const before = memory().tensors;
      const chain = t.pyramidChain(code, { batchStats });
      expect(chain.coarse.shape).toEqual([3, 1, 4, 4]);
      expect(chain.steps.map((s) => s.level)).toEqual([1, 0]);
      expect(chain.steps.map((s) => [s.up.shape, s.band.shape, s.image.shape])).toEqual([
        [
          [3, 1, 8, 8],
          [3, 1, 8, 8],
          [3, 1, 8, 8],
        ],
        [
          [3, 1, 16, 16],
          [3, 1, 16, 16],
          [3, 1, 16, 16],
        ],
      ]);

      // The coarse image is the coarse MLP GAN's output for the code's z (no BN: mode-independent).
      const coarseRef = tidy(() => noGrad(() => t.nets.netG.coarse.call(t.nets.netG.splitCode(code).z)));
      expect(maxAbsDiff(await chain.coarse.data(), await coarseRef.data())).toBeLessThan(1e-6);

      let prev = chain.coarse;
      for (const st of chain.steps) {
        const s = st.image.shape[2];
        const prevCpu = hostTensor(prev.shape, await prev.data());
        const upCpu = pyrUpCpu(prevCpu, s, s).data;
        const band = await st.band.data();
        // The band is not trivially zero (the sum below would then test nothing about it).
        expect(Math.max(...band.map(Math.abs))).toBeGreaterThan(1e-3);
        expect(maxAbsDiff(await st.up.data(), upCpu)).toBeLessThan(1e-5);
        const want = upCpu.map((u, i) => u + band[i]);
        expect(maxAbsDiff(await st.image.data(), want)).toBeLessThan(1e-5);
        prev = st.image;
      }

      // The finest level, clamped, is the sample generate() gives for the same codes and mode.
      const img = t.generate(code, { batchStats });
      const last = chain.steps[chain.steps.length - 1].image;
      const clamped = (await last.data()).map((v) => Math.min(1, Math.max(-1, v)));
      expect(maxAbsDiff(await img.data(), clamped)).toBeLessThan(1e-6);

      for (const x of [...chainTensors(chain), img]) x.dispose();
      expect(memory().tensors - before).toBe(1); // coarseRef: the chain left nothing behind
      for (const x of [coarseRef, code]) x.dispose();
      for (const m of Object.values(t.nets)) m.dispose();
      for (const o of Object.values(t.optimizers)) o.dispose();
    });
  }

  it("a level's noise plane changes that level's band and nothing coarser (eval mode: samples independent)", async () => {
    const t = await trained(4);
    const dim = lapganNoiseDim(t.cfg);
    const code = t.noise(2, new Generator(11));
    const base = await code.data();
    code.dispose();
    // Codes pack [nz | z_1 (8x8) | z_0 (16x16)]: redraw sample 1's finest plane only.
    const other = base.slice();
    other.set(seeded(256, 5), dim + dim - 256);
    const a = tidy(() => t.pyramidChain(tensor(base, [2, dim]), { batchStats: false }));
    const b = tidy(() => t.pyramidChain(tensor(other, [2, dim]), { batchStats: false }));
    const [la, lb] = [a.steps[0], b.steps[0]];
    const [fa, fb] = [a.steps[1], b.steps[1]];
    expect(maxAbsDiff(await a.coarse.data(), await b.coarse.data())).toBe(0);
    expect(maxAbsDiff(await la.image.data(), await lb.image.data())).toBe(0);
    expect(maxAbsDiff(await fa.up.data(), await fb.up.data())).toBe(0);
    const [ba, bb] = [await fa.band.data(), await fb.band.data()];
    expect(maxAbsDiff(ba.subarray(0, 256), bb.subarray(0, 256))).toBe(0); // sample 0 untouched
    expect(maxAbsDiff(ba.subarray(256), bb.subarray(256))).toBeGreaterThan(1e-4);
    for (const x of [...chainTensors(a), ...chainTensors(b)]) x.dispose();
    for (const m of Object.values(t.nets)) m.dispose();
    for (const o of Object.values(t.optimizers)) o.dispose();
  });
});
