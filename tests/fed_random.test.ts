// Fed generators: a Generator can serve host-given draws instead of Philox values, so a step-golden
// test gives the engine and a PyTorch transcription the very same noise, dropout masks and
// permutations. Every random op must take the fed values verbatim, in order, and refuse a size
// mismatch or a missing draw with a message that names the op.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tensor, Generator } from '../engine/index.js';
import { rand, randn, bernoulli, randint, randperm, dropout, hostRandint, philoxWords, mulhilo32 } from '../engine/ops/random.js';

beforeAll(async () => {
  await initEngine();
});

describe('fed generator', () => {
  it('serves fed draws verbatim, in order, to rand/randn/bernoulli/randint/dropout/randperm', async () => {
    const g = new Generator(7).feed([
      [0.25, 0.5, 0.75],
      { values: [-1.5, 2, 0.125, 3], label: 'z' },
      [1, 0],
      [4, -2],
      [0, 2.5, 2.5, 0],
      [2, 0, 1],
    ]);
    const before = g.getState();
    expect(Array.from(await rand([3], { generator: g }).data())).toEqual([0.25, 0.5, 0.75]);
    expect(Array.from(await randn([2, 2], { generator: g, mean: 9, std: 9 }).data())).toEqual([-1.5, 2, 0.125, 3]);
    expect(Array.from(await bernoulli([2], 0.5, { generator: g }).data())).toEqual([1, 0]);
    expect(Array.from(await randint([2], -5, 5, { generator: g }).dataInt())).toEqual([4, -2]);
    const x = tensor([1, 2, 3, 4], [4]);
    expect(Array.from(await dropout(x, 0.6, { generator: g }).data())).toEqual([0, 5, 7.5, 0]);
    expect(Array.from(randperm(3, g))).toEqual([2, 0, 1]);
    expect(g.fedRemaining).toBe(0);
    expect(g.getState()).toEqual(before); // fed draws consume no Philox counters
    expect(g.fedLog.map((d) => d.op)).toEqual(['rand', 'randn', 'bernoulli', 'randint', 'dropout_mask', 'randperm']);
  });

  it('refuses a size mismatch, a missing draw and a non-permutation, naming the op', () => {
    const g = new Generator(1).feed([{ values: [1, 2], label: 'z_D' }]);
    expect(() => rand([3], { generator: g })).toThrow(/rand: draw #0 wants 3 values.*'z_D' has 2/);
    expect(() => randn([1], { generator: g })).toThrow(/randn: draw #0 .*no fed draws are left/);
    g.feed([[0, 0]]);
    expect(() => randperm(2, g)).toThrow(/randperm: the fed draw is not a permutation/);
  });

  it('hostRandint: Philox words mapped to [0, high), or the fed integers (checked against the range)', () => {
    const g = new Generator(11);
    const words = philoxWords(6, 11, 0);
    expect(Array.from(hostRandint(6, 7, g))).toEqual(Array.from(words, (w) => mulhilo32(w, 7)[0]));
    expect(g.offset).toBe(2);
    g.feed([[3, 0, 6], [7]]);
    expect(Array.from(hostRandint(3, 7, g))).toEqual([3, 0, 6]);
    expect(() => hostRandint(1, 7, g)).toThrow(/hostRandint: the fed draw holds 7, outside \[0, 7\)/);
  });

  it('draws Philox values again after unfeed()', async () => {
    const g = new Generator(3).feed([[0.5]]).unfeed();
    const ref = new Generator(3);
    expect(Array.from(await rand([5], { generator: g }).data())).toEqual(Array.from(await rand([5], { generator: ref }).data()));
  });
});
