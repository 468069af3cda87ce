// Device layer: per-dispatch GPU timing past one query set's capacity, and ownership of the
// gradients a caller passes to grad().
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, engine, tensor, grad } from '../engine/index.js';
import { tanh, mul } from '../engine/ops/elementwise.js';
import { sum } from '../engine/ops/reduce.js';
import { matmul } from '../engine/ops/matmul.js';
import { napWhile } from '../engine/node.js';

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

// Under Node, the `webgpu` package waits on a pending promise by polling Dawn from setImmediate,
// a busy loop; Engine.wait (sync, throttle, read, error scopes, prewarm) naps between its turns.
describe('waits on the GPU under Node nap between polls', () => {
  // Every setImmediate call in a window (Dawn's AsyncRunner looks setImmediate up on the global
  // object each turn, so its polls are counted too, as are the nap loop's own turns).
  async function countImmediates<T>(fn: () => Promise<T>): Promise<{ value: T; turns: number; ms: number }> {
    const g = globalThis as unknown as { setImmediate: (...a: unknown[]) => unknown };
    const orig = g.setImmediate;
    let turns = 0;
    g.setImmediate = (...a: unknown[]) => {
      turns++;
      return (orig as (...b: unknown[]) => unknown)(...a);
    };
    const t0 = performance.now();
    try {
      const value = await fn();
      return { value, turns, ms: performance.now() - t0 };
    } finally {
      g.setImmediate = orig;
    }
  }

  it('is on by default under Dawn and can be turned off', async () => {
    expect(engine().adapter.backend).toBe('node-dawn');
    expect(engine().napWaits).toBe(true);
    const off = await initEngine({ napWaits: false });
    expect(off.napWaits).toBe(false);
    off.destroy();
    await initEngine();
  });

  it('a long wait polls at most about once a nap (>= 50 us, 1/20 of the time waited, <= 1 ms), and the loop stops after', async () => {
    const e = engine();
    // Work that keeps a software adapter busy for tens of ms: chained 384x384 matmuls.
    const n = 384;
    const a = tensor(
      new Float32Array(n * n).map((_, i) => Math.sin(i) / n),
      [n, n],
    );
    let y = a;
    for (let i = 0; i < 6; i++) y = matmul(y, a);
    const { turns, ms } = await countImmediates(() => e.sync());
    // Napped: <= 20 turns in the first ms, about 20 ln 20 = 60 up to 20 ms, then one a ms; two
    // loops (Dawn's and the nap's). A busy poll takes a few us a turn (thousands over this wait).
    expect(ms).toBeGreaterThan(2); // the wait was long enough to tell (lavapipe: 30-300 ms)
    expect(turns).toBeLessThanOrEqual(2 * (100 + ms));
    // Nothing keeps polling once the wait is over.
    const after = await countImmediates(() => new Promise((r) => setTimeout(r, 30)));
    expect(after.turns).toBe(0);
    // The result is what the host computes.
    const got = await y.data();
    expect(Number.isFinite(got[0])).toBe(true);
  });

  it('napWhile resolves and rejects as the promise it wraps, also when several wait at once', async () => {
    const v = await Promise.all([napWhile(Promise.resolve(7)), napWhile(new Promise((r) => setTimeout(() => r('late'), 5)))]);
    expect(v).toEqual([7, 'late']);
    await expect(napWhile(Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const after = await countImmediates(() => new Promise((r) => setTimeout(r, 20)));
    expect(after.turns).toBe(0);
  });
});
