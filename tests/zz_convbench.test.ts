import { beforeAll, it } from 'vitest';
import { initEngine, engine, tensor, conv2d, conv2dBackwardInput, conv2dBackwardWeight, matmul, setGemmOverride, noGrad } from '../engine/index.js';
beforeAll(async () => { await initEngine(); });
const rnd = (n: number) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
it('bench', async () => {
  const B = Number(process.env.BB ?? 1), C = 64, H = 32;
  const x = tensor(rnd(B * C * H * H), [B, C, H, H]);
  const w = tensor(rnd(C * C * 9), [C, C, 3, 3]);
  const dy = tensor(rnd(B * C * H * H), [B, C, H, H]);
  const flop = 2 * B * C * C * 9 * H * H;
  const time = async (f: () => unknown, reps = 3) => {
    noGrad(() => f()); await engine().sync();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) noGrad(() => f());
    await engine().sync();
    return (performance.now() - t0) / reps;
  };
  for (const o of (process.env.CFG ?? 'auto,t32,t64,t128').split(',')) {
    setGemmOverride(o === 'auto' ? null : { tile: o as 't32' });
    const f = await time(() => conv2d(x, w, null, { padding: 1 }));
    const bi = await time(() => conv2dBackwardInput(dy, w, x.shape, { padding: 1 }));
    const bw = await time(() => conv2dBackwardWeight(x, dy, w.shape, { padding: 1 }));
    console.log(`${o}: fwd ${f.toFixed(1)} ms (${(flop / f / 1e6).toFixed(2)} GF/s)  dgrad ${bi.toFixed(1)} ms (${(flop / bi / 1e6).toFixed(2)})  wgrad ${bw.toFixed(1)} ms (${(flop / bw / 1e6).toFixed(2)})`);
  }
  setGemmOverride(null);
  const a = tensor(rnd(512 * 512), [512, 512]);
  const mm = await time(() => matmul(a, a));
  console.log(`matmul 512^3 ${mm.toFixed(1)} ms ${(2 * 512 ** 3 / mm / 1e6).toFixed(2)} GF/s`);
}, 600000);
