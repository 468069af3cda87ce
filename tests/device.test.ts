// Device layer: per-dispatch GPU timing past one query set's capacity, and ownership of the
// gradients a caller passes to grad().
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, engine, tensor, grad } from '../engine/index.js';
import { tanh, mul } from '../engine/ops/elementwise.js';
import { sum } from '../engine/ops/reduce.js';

beforeAll(async () => {
  await initEngine();
});

describe('profiler', () => {
  it('times every dispatch, also past 2048 (one query set), when the adapter has timestamps', async () => {
    const e = engine();
    if (!e.features.has('timestamp-query')) return; // the adapters this suite runs on have it
    const x = tensor([0.5, -0.25, 1, 2], [4]);
    expect(e.startProfile()).toBe(true);
    let y = x;
    const n = 2100;
    for (let i = 0; i < n; i++) y = tanh(y);
    const recs = await e.stopProfile();
    expect(recs.length).toBe(n);
    expect(recs.every((r) => r.op === 'tanh' && Number.isFinite(r.ms) && r.ms >= 0)).toBe(true);
    expect(recs.reduce((s, r) => s + r.ms, 0)).toBeGreaterThan(0);
    let ref = [0.5, -0.25, 1, 2];
    for (let i = 0; i < n; i++) ref = ref.map(Math.tanh);
    const got = await y.data();
    // 2100 chained float32 tanh steps drift from float64 by ~1e-5 relative; a wrong order would be far off.
    ref.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThan(1e-3 * Math.max(1, Math.abs(v))));
  });
});

describe("grad() and the caller's tensors", () => {
  it('leaves gradOutputs usable after the call', async () => {
    const x = tensor([1, 2, 3], [3]).requireGrad();
    const y = mul(x, x);
    const dy = tensor([0.5, 1, -1], [3]);
    const [gx] = grad(y, [x], { gradOutputs: [dy] });
    expect(await gx.array()).toEqual([1, 4, -6]);
    expect(dy.isDisposed).toBe(false);
    expect(await dy.array()).toEqual([0.5, 1, -1]);
    const [gx2] = grad(sum(mul(x, dy)), [x]);
    expect(await gx2.array()).toEqual([0.5, 1, -1]);
  });
});
