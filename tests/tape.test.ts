// Autograd tape and runtime behaviour: topological order (a shared subgraph is walked once),
// accumulation, noGrad/detach, higher-order gradients, release of memory, and clear errors.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, engine, tensor, tidy, memory, backward, grad, noGrad, type Tensor } from '../engine/index.js';
import { add, sub, mul, tanh, square, sigmoid, exp, mulScalar } from '../engine/ops/elementwise.js';
import { sum, mean } from '../engine/ops/reduce.js';
import { reshape, concat, slice, expand } from '../engine/ops/movement.js';

beforeAll(async () => {
  await initEngine();
});

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i])));
};

describe('autograd tape', () => {
  it('walks a shared subgraph once: 12 chained residual skips stay linear in nodes visited', async () => {
    // x -> h1 = h0 + tanh(h0) -> ... each h_{k} feeds both branches of the next node: 2^12 paths.
    const x = tensor([0.3, -0.2, 0.5], [3]).requireGrad();
    let h: Tensor = x;
    let nodes = 0;
    const depth = 12;
    for (let k = 0; k < depth; k++) {
      h = add(h, mulScalar(tanh(h), 0.1));
      nodes += 4; // tanh, affine, add (+ the walk itself)
    }
    const before = engine().counters.dispatches;
    backward(sum(h));
    const dispatched = engine().counters.dispatches - before;
    // Each node's backward is a handful of dispatches; a per-path walk would need ~2^12.
    expect(dispatched).toBeLessThan(nodes * 8);
    // Reference in float64: d/dx of the same chain.
    const xs = [0.3, -0.2, 0.5];
    const ref = xs.map((v) => {
      let hv = v;
      let d = 1;
      for (let k = 0; k < depth; k++) {
        const t = Math.tanh(hv);
        d *= 1 + 0.1 * (1 - t * t);
        hv = hv + 0.1 * t;
      }
      return d;
    });
    close(await x.grad!.data(), ref, 1e-5);
    x.dispose();
  });

  it('accumulates gradients across backward calls and from several uses of one tensor', async () => {
    const x = tensor([1, 2, 3], [3]).requireGrad();
    tidy(() => backward(sum(mul(x, x)))); // 2x
    tidy(() => backward(sum(add(x, mul(x, 3))))); // 4
    close(await x.grad!.data(), [2 + 4, 4 + 4, 6 + 4]);
    x.dispose();
  });

  it('noGrad records nothing and detach cuts the graph', async () => {
    const x = tensor([1, 2], [2]).requireGrad();
    const y = noGrad(() => mul(x, x));
    expect(y.requiresGrad).toBe(false);
    expect(y.node).toBeNull();
    const z = mul(x.detach(), x); // d/dx = x.detach() only
    backward(sum(z));
    close(await x.grad!.data(), [1, 2]);
    expect(() => backward(sum(y))).toThrow(/does not require grad/);
  });

  it('grad of grad: d2/dx2 of sum(exp(2x) * x) and a mixed partial', async () => {
    const xs = [0.2, -0.4, 0.7];
    const x = tensor(xs, [3]).requireGrad();
    const w = tensor([0.5, 1.5, -1], [3]).requireGrad();
    const f = sum(mul(mul(exp(mulScalar(x, 2)), x), w));
    const [gx] = grad(f, [x], { createGraph: true });
    // df/dx = w e^{2x} (1 + 2x); d/dx sum(df/dx) = w e^{2x}(4 + 4x); d/dw sum(df/dx) = e^{2x}(1+2x)
    const [gxx, gxw] = grad(sum(gx), [x, w]);
    const W = [0.5, 1.5, -1];
    close(
      await gx.data(),
      xs.map((v, i) => W[i] * Math.exp(2 * v) * (1 + 2 * v)),
    );
    close(
      await gxx.data(),
      xs.map((v, i) => W[i] * Math.exp(2 * v) * (4 + 4 * v)),
    );
    close(
      await gxw.data(),
      xs.map((v) => Math.exp(2 * v) * (1 + 2 * v)),
    );
  });

  it('second-order paths pass through ops whose backward forwards the gradient unchanged (add, sub)', async () => {
    // f = sum((a - b)^2 + a*b) ; df/da = 2(a - b) + b ; d/db sum(df/da) = -2 + 1 per element
    const a = tensor([0.5, -1, 2], [3]).requireGrad();
    const b = tensor([1, 0.25, -0.5], [3]).requireGrad();
    const f = sum(add(square(sub(a, b)), mul(a, b)));
    const [ga] = grad(f, [a], { createGraph: true });
    expect(ga.requiresGrad).toBe(true);
    const [gab] = grad(sum(ga), [b]);
    close(await gab.data(), [-1, -1, -1]);
  });

  it('third-order gradient through sigmoid', async () => {
    const v = 0.3;
    const x = tensor([v], [1]).requireGrad();
    const [g1] = grad(sum(sigmoid(x)), [x], { createGraph: true });
    const [g2] = grad(sum(g1), [x], { createGraph: true });
    const [g3] = grad(sum(g2), [x]);
    const s = 1 / (1 + Math.exp(-v));
    // s' = s(1-s); s'' = s'(1-2s); s''' = s'(1-2s)^2 - 2 s'^2
    const d1 = s * (1 - s);
    close(await g3.data(), [d1 * (1 - 2 * s) ** 2 - 2 * d1 * d1], 1e-4);
  });

  it('grad w.r.t. an intermediate tensor, and allowUnused', async () => {
    const x = tensor([1, -2, 3, 0.5], [2, 2]).requireGrad();
    const u = tidy(() => square(x));
    const y = sum(mul(reshape(u, [4]), tensor([1, 2, 3, 4], [4])));
    const other = tensor([1], [1]).requireGrad();
    const [gu, go] = grad(y, [u, other], { allowUnused: true });
    close(await gu.data(), [1, 2, 3, 4]);
    expect(go).toBeNull();
    expect(() => grad(y, [other])).toThrow(/not used/);
  });

  it('movement ops route gradients (concat, slice, expand)', async () => {
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]).requireGrad();
    const b = tensor([7, 8], [2, 1]).requireGrad();
    const c = concat([a, b], 1); // [2, 4]
    const s = slice(c, [0, 1], [2, 4]); // columns 1..3
    const e = expand(reshape(s, [1, 2, 3]), [4, 2, 3]);
    backward(sum(mul(e, e)));
    // d/ds = 4 * 2 s; a's column 0 gets nothing
    close(await a.grad!.data(), [0, 16, 24, 0, 40, 48]);
    close(await b.grad!.data(), [56, 64]);
  });
});

describe('memory', () => {
  it('tidy releases intermediates; a training-style loop does not leak', async () => {
    const w = tensor(
      Array.from({ length: 64 }, (_, i) => Math.sin(i)),
      [8, 8],
    )
      .requireGrad()
      .keep();
    const x = tensor(
      Array.from({ length: 64 }, (_, i) => Math.cos(i)),
      [8, 8],
    ).keep();
    const step = () =>
      tidy(() => {
        const loss = mean(square(tanh(mul(w, x))));
        backward(loss);
        mulScalar(w.grad!, 0.1); // an update-like temporary, released by tidy
        return loss;
      });
    step();
    w.grad!.dispose();
    w.grad = null;
    await engine().sync();
    const m0 = memory();
    for (let i = 0; i < 10; i++) {
      step();
      w.grad!.dispose();
      w.grad = null;
    }
    await engine().sync();
    const m1 = memory();
    // The losses returned by step() were kept: one tensor each, nothing else.
    expect(m1.tensors - m0.tensors).toBe(10);
    expect(m1.liveBuffers - m0.liveBuffers).toBe(10);
  });

  it('an upload into a recycled buffer never overtakes a queued kernel that reads it', async () => {
    const xs = [0.1, -0.7, 0.4, 1.2];
    const a = tensor(xs, [4]);
    const b = tanh(a); // queued, not yet submitted: reads a's buffer
    const bufferOfA = a.buffer;
    a.dispose();
    const c = tensor([9, 9, 9, 9], [4]); // same size class: gets a's buffer back from the pool
    expect(c.buffer).toBe(bufferOfA);
    close(await b.data(), xs.map(Math.tanh));
    expect(await c.array()).toEqual([9, 9, 9, 9]);
  });

  it('reshape views share storage; the buffer lives until the last view is disposed', async () => {
    const before = memory().liveBuffers;
    const a = tensor([1, 2, 3, 4], [2, 2]);
    const v = a.viewAs([4]);
    expect(memory().liveBuffers).toBe(before + 1);
    a.dispose();
    expect(await v.array()).toEqual([1, 2, 3, 4]);
    v.dispose();
    expect(memory().liveBuffers).toBe(before);
    expect(() => v.buffer).toThrow(/after dispose/);
  });
});

describe('errors name the op, the shapes and the fix', () => {
  it('broadcast mismatch', () => {
    expect(() => add(tensor([1, 2, 3], [3]), tensor([1, 2], [2]))).toThrow(/add: shapes \[3\] and \[2\] do not broadcast/);
  });
  it('bad reshape', () => {
    expect(() => reshape(tensor([1, 2, 3], [3]), [2, 2])).toThrow(/reshape: cannot reshape \[3\]/);
  });
  it('int tensors in float ops', () => {
    expect(() => add(tensor([1, 2], [2], 'int32'), tensor([1, 2], [2]))).toThrow(/expects float32/);
  });
  it('a disposed input', () => {
    const t = tensor([1], [1]);
    t.dispose();
    expect(() => tanh(t)).toThrow(/disposed/);
  });
  it('a buffer over the binding limit', () => {
    const max = engine().limits.maxStorageBufferBindingSize;
    expect(() => engine().acquire(max + 4, 'conv2d')).toThrow(
      /conv2d: needs a buffer of .* above this adapter's maxStorageBufferBindingSize/,
    );
  });
  it('a non-scalar backward', () => {
    const x = tensor([1, 2], [2]).requireGrad();
    expect(() => backward(mul(x, x))).toThrow(/not a scalar/);
  });
});
