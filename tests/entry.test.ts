// The public entry (engine/index.ts): the chainable Tensor methods against their function forms
// (bit for bit, forward and gradients), the shape of the entry (core on top, five namespaces), the
// engine's import graph (nothing in engine/ imports the entry or anything outside engine/ and
// shaders/), and a module that imports only the entry, bundled by esbuild and run by Node.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import * as entry from '../engine/index.js';
import { Tensor, grad, initEngine, ops, tensor, tidy } from '../engine/index.js';
import { tensorMethods } from '../engine/ops/methods.js';
import { seeded } from './support/util.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

beforeAll(async () => {
  await initEngine();
});

type Fn = (...ts: Tensor[]) => Tensor;
interface MethodCase {
  /** Input shapes; inputs are drawn in [lo, hi). */
  shapes: number[][];
  lo?: number;
  hi?: number;
  method: Fn;
  fn: Fn;
}

// Each method against the op it stands for, written out here (not read from methods.ts).
const cases: Record<string, MethodCase[]> = {
  add: [
    { shapes: [[2, 3], [3]], method: (a, b) => a.add(b), fn: (a, b) => ops.add(a, b) },
    { shapes: [[2, 3]], method: (a) => a.add(0.75), fn: (a) => ops.add(a, 0.75) },
  ],
  sub: [
    {
      shapes: [
        [2, 3],
        [2, 3],
      ],
      method: (a, b) => a.sub(b),
      fn: (a, b) => ops.sub(a, b),
    },
    { shapes: [[2, 3]], method: (a) => a.sub(1.5), fn: (a) => ops.sub(a, 1.5) },
  ],
  mul: [
    {
      shapes: [
        [2, 3],
        [2, 1],
      ],
      method: (a, b) => a.mul(b),
      fn: (a, b) => ops.mul(a, b),
    },
    { shapes: [[2, 3]], method: (a) => a.mul(-3), fn: (a) => ops.mul(a, -3) },
  ],
  div: [
    {
      shapes: [
        [2, 3],
        [2, 3],
      ],
      lo: 0.5,
      hi: 2,
      method: (a, b) => a.div(b),
      fn: (a, b) => ops.div(a, b),
    },
    { shapes: [[2, 3]], method: (a) => a.div(3), fn: (a) => ops.div(a, 3) },
  ],
  neg: [{ shapes: [[5]], method: (a) => a.neg(), fn: (a) => ops.neg(a) }],
  maximum: [
    {
      shapes: [
        [2, 3],
        [2, 3],
      ],
      method: (a, b) => a.maximum(b),
      fn: (a, b) => ops.maximum(a, b),
    },
  ],
  minimum: [
    {
      shapes: [
        [2, 3],
        [2, 3],
      ],
      method: (a, b) => a.minimum(b),
      fn: (a, b) => ops.minimum(a, b),
    },
  ],
  matmul: [
    {
      shapes: [
        [3, 4],
        [4, 2],
      ],
      method: (a, b) => a.matmul(b),
      fn: (a, b) => ops.matmul(a, b),
    },
    {
      shapes: [
        [3, 4],
        [2, 4],
      ],
      method: (a, b) => a.matmul(b, { transB: true }),
      fn: (a, b) => ops.matmul(a, b, { transB: true }),
    },
  ],
  sum: [
    { shapes: [[2, 3, 4]], method: (a) => a.sum(), fn: (a) => ops.sum(a) },
    { shapes: [[2, 3, 4]], method: (a) => a.sum([0, 2], true), fn: (a) => ops.sum(a, [0, 2], true) },
  ],
  mean: [
    { shapes: [[2, 3, 4]], method: (a) => a.mean(), fn: (a) => ops.mean(a) },
    { shapes: [[2, 3, 4]], method: (a) => a.mean(1), fn: (a) => ops.mean(a, 1) },
  ],
  max: [{ shapes: [[3, 5]], method: (a) => a.max(-1), fn: (a) => ops.max(a, -1) }],
  min: [{ shapes: [[3, 5]], method: (a) => a.min([0], true), fn: (a) => ops.min(a, [0], true) }],
  reshape: [{ shapes: [[2, 6]], method: (a) => a.reshape([3, -1]), fn: (a) => ops.reshape(a, [3, -1]) }],
  view: [{ shapes: [[2, 6]], method: (a) => a.view([4, 3]), fn: (a) => ops.reshape(a, [4, 3]) }],
  flatten: [
    { shapes: [[2, 3, 2]], method: (a) => a.flatten(), fn: (a) => ops.flatten(a) },
    { shapes: [[2, 3, 2]], method: (a) => a.flatten(0), fn: (a) => ops.flatten(a, 0) },
  ],
  transpose: [
    { shapes: [[2, 3, 4]], method: (a) => a.transpose(), fn: (a) => ops.transpose(a) },
    { shapes: [[2, 3, 4]], method: (a) => a.transpose(0, 2), fn: (a) => ops.transpose(a, 0, 2) },
  ],
  permute: [{ shapes: [[2, 3, 4]], method: (a) => a.permute([2, 0, 1]), fn: (a) => ops.permute(a, [2, 0, 1]) }],
  expand: [{ shapes: [[3, 1]], method: (a) => a.expand([2, 3, 4]), fn: (a) => ops.expand(a, [2, 3, 4]) }],
  narrow: [{ shapes: [[4, 5]], method: (a) => a.narrow(1, 1, 3), fn: (a) => ops.narrow(a, 1, 1, 3) }],
  exp: [{ shapes: [[7]], method: (a) => a.exp(), fn: (a) => ops.exp(a) }],
  log: [{ shapes: [[7]], lo: 0.2, hi: 3, method: (a) => a.log(), fn: (a) => ops.log(a) }],
  sqrt: [{ shapes: [[7]], lo: 0.2, hi: 3, method: (a) => a.sqrt(), fn: (a) => ops.sqrt(a) }],
  rsqrt: [{ shapes: [[7]], lo: 0.2, hi: 3, method: (a) => a.rsqrt(), fn: (a) => ops.rsqrt(a) }],
  abs: [{ shapes: [[7]], method: (a) => a.abs(), fn: (a) => ops.abs(a) }],
  square: [{ shapes: [[7]], method: (a) => a.square(), fn: (a) => ops.square(a) }],
  reciprocal: [{ shapes: [[7]], lo: 0.5, hi: 2, method: (a) => a.reciprocal(), fn: (a) => ops.reciprocal(a) }],
  pow: [{ shapes: [[7]], lo: 0.2, hi: 2, method: (a) => a.pow(2.5), fn: (a) => ops.powScalar(a, 2.5) }],
  clamp: [{ shapes: [[9]], method: (a) => a.clamp(-0.3, 0.4), fn: (a) => ops.clamp(a, -0.3, 0.4) }],
  relu: [{ shapes: [[9]], method: (a) => a.relu(), fn: (a) => ops.relu(a) }],
  leakyRelu: [
    { shapes: [[9]], method: (a) => a.leakyRelu(), fn: (a) => ops.leakyRelu(a) },
    { shapes: [[9]], method: (a) => a.leakyRelu(0.2), fn: (a) => ops.leakyRelu(a, 0.2) },
  ],
  tanh: [{ shapes: [[9]], method: (a) => a.tanh(), fn: (a) => ops.tanh(a) }],
  sigmoid: [{ shapes: [[9]], method: (a) => a.sigmoid(), fn: (a) => ops.sigmoid(a) }],
  softplus: [{ shapes: [[9]], method: (a) => a.softplus(2, 3), fn: (a) => ops.softplus(a, 2, 3) }],
  elu: [{ shapes: [[9]], method: (a) => a.elu(0.7), fn: (a) => ops.elu(a, 0.7) }],
  softmax: [{ shapes: [[2, 5]], method: (a) => a.softmax(), fn: (a) => ops.softmax(a) }],
  logSoftmax: [{ shapes: [[2, 5]], method: (a) => a.logSoftmax(0), fn: (a) => ops.logSoftmax(a, 0) }],
};

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Output and the gradients of sum(out * w) (w fixed, so every element's gradient differs) w.r.t. every input. */
async function run(c: MethodCase, which: 'method' | 'fn', seed: number) {
  const outs = tidy(() => {
    const xs = c.shapes.map((s, i) =>
      tensor(
        seeded(
          s.reduce((p, q) => p * q, 1),
          seed + i,
          c.lo ?? -1,
          c.hi ?? 1,
        ),
        s,
      ).requireGrad(),
    );
    const y = (which === 'method' ? c.method : c.fn)(...xs);
    const w = tensor(seeded(y.size, seed + 99, 0.5, 1.5), y.shape);
    const gs = grad(ops.sum(ops.mul(y, w)), xs);
    return [y, ...gs.map((g, i) => g ?? ops.zeros(c.shapes[i]))];
  });
  const data = await Promise.all(outs.map((t) => t.data()));
  for (const t of outs) t.dispose();
  return data;
}

describe('Tensor methods', () => {
  it('every installed method has cases here, and every method is on Tensor.prototype', () => {
    expect(Object.keys(tensorMethods).sort()).toEqual(Object.keys(cases).sort());
    for (const name of Object.keys(tensorMethods))
      expect(typeof (Tensor.prototype as unknown as Record<string, unknown>)[name], name).toBe('function');
  });

  for (const [name, list] of Object.entries(cases)) {
    it(`${name} equals its function form bit for bit, forward and gradient`, async () => {
      for (const [k, c] of list.entries()) {
        const seed = 1000 + 17 * k + name.length;
        const m = await run(c, 'method', seed);
        const f = await run(c, 'fn', seed);
        expect(m.length).toBe(c.shapes.length + 1);
        for (let i = 0; i < m.length; i++)
          expect(bits(m[i]), `${name} case ${k} ${i === 0 ? 'output' : `grad ${i - 1}`}`).toEqual(bits(f[i]));
        // The gradient flows: finite, and not all zero for each input.
        for (let i = 1; i < m.length; i++) {
          expect(m[i].every(Number.isFinite), `${name} grad ${i - 1} finite`).toBe(true);
          expect(
            m[i].some((v) => v !== 0),
            `${name} grad ${i - 1} non-zero`,
          ).toBe(true);
        }
      }
    });
  }

  it('a loss written with methods reads as arithmetic and matches the nested calls', async () => {
    const [a, b, c] = [
      [2, 3],
      [2, 3],
      [2, 3],
    ].map((s, i) => tensor(seeded(6, 50 + i), s).requireGrad());
    const viaMethods = tidy(() => {
      const loss = a.sub(b).abs().mean().add(c.square().mean().mul(10));
      return [loss, ...grad(loss, [a, b, c]).map((g) => g!)];
    });
    const viaCalls = tidy(() => {
      const loss = ops.add(ops.mean(ops.abs(ops.sub(a, b))), ops.mul(ops.mean(ops.square(c)), 10));
      return [loss, ...grad(loss, [a, b, c]).map((g) => g!)];
    });
    for (let i = 0; i < 4; i++) expect(bits(await viaMethods[i].data())).toEqual(bits(await viaCalls[i].data()));
    // And against float64 on the host: mean|a - b| + 10 mean(c^2).
    const [ha, hb, hc] = await Promise.all([a.data(), b.data(), c.data()]);
    let ref = 0;
    for (let i = 0; i < 6; i++) ref += Math.abs(ha[i] - hb[i]) / 6 + (10 * hc[i] * hc[i]) / 6;
    expect(Math.abs((await viaMethods[0].item()) - ref)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref)));
    for (const t of [...viaMethods, ...viaCalls, a, b, c]) t.dispose();
  });
});

describe('the public entry', () => {
  it('has the core on top and five namespaces, with no op at the top level', () => {
    const top = Object.keys(entry);
    // biome-ignore lint/performance/noDynamicNamespaceImportAccess: the test walks the entry's namespaces by name
    for (const ns of ['ops', 'nn', 'optim', 'init', 'io'] as const) expect(typeof entry[ns], ns).toBe('object');
    for (const name of [
      'Tensor',
      'tensor',
      'tidy',
      'noGrad',
      'backward',
      'grad',
      'initEngine',
      'engine',
      'Generator',
      'manualSeed',
      'Mulberry32',
    ])
      expect(top, name).toContain(name);
    expect(top.filter((n) => n in entry.ops)).toEqual([]);
    expect(typeof entry.ops.conv2d).toBe('function');
    expect(typeof entry.nn.Conv2d).toBe('function');
    expect(typeof entry.optim.Adam).toBe('function');
    expect(typeof entry.init.kaimingUniform_).toBe('function');
    expect(typeof entry.io.decodeSafetensors).toBe('function');
    expect(typeof entry.io.restoreCheckpoint).toBe('function');
    // Kernel plumbing and backward-only helpers stay out of the ops namespace.
    for (const internal of ['runGemm', 'sumTo', 'conv2dBackwardInput', 'philoxWords', 'broadcastStrides', 'softmaxHost'])
      expect(internal in entry.ops, internal).toBe(false);
  });

  it('engine/ imports neither the entry nor anything outside engine/ and shaders/; import cycles stay inside the op families', () => {
    const files = execFileSync('git', ['ls-files', 'engine', 'shaders'], { cwd: root, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
    expect(files.length).toBeGreaterThan(20);
    const graph = new Map<string, string[]>();
    const bad: string[] = [];
    for (const f of files) {
      const src = readFileSync(path.join(root, f), 'utf8');
      const deps: string[] = [];
      for (const m of src.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?'(\.[^']+)'/gm)) {
        let t = path.posix.normalize(path.posix.join(path.posix.dirname(f), m[2])).replace(/\.js$/, '.ts');
        if (!existsSync(path.join(root, t)) && existsSync(path.join(root, t + '.ts'))) t += '.ts';
        if (!/^(engine|shaders)\//.test(t)) bad.push(`${f} imports ${m[2]} (outside engine/ and shaders/)`);
        if (t === 'engine/index.ts' && f !== 'engine/index.ts') bad.push(`${f} imports the public entry`);
        if (!m[1]) deps.push(t);
      }
      graph.set(f, deps);
    }
    expect(bad).toEqual([]);
    // Cycles (run-time imports only). The op families elementwise/reduce/movement call each other
    // inside function bodies only; any other cycle (tensor <-> ops, entry, methods) fails.
    const allowed = new Set(['engine/ops/elementwise.ts', 'engine/ops/reduce.ts', 'engine/ops/movement.ts']);
    const state = new Map<string, number>();
    const cycles: string[] = [];
    const visit = (n: string, stack: string[]) => {
      if (state.get(n) === 2) return;
      if (state.get(n) === 1) {
        const cyc = stack.slice(stack.indexOf(n));
        if (!cyc.every((x) => allowed.has(x))) cycles.push([...cyc, n].join(' -> '));
        return;
      }
      state.set(n, 1);
      stack.push(n);
      for (const d of graph.get(n) ?? []) visit(d, stack);
      stack.pop();
      state.set(n, 2);
    };
    for (const f of files) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('a module importing only the entry bundles with esbuild and runs in Node (methods installed, an op on the device)', async () => {
    // Inside dist/ (ignored), so the bundle resolves the external `webgpu` from this repository.
    mkdirSync(path.join(root, 'dist'), { recursive: true });
    const dir = mkdtempSync(path.join(root, 'dist', 'entry-test-'));
    try {
      const out = path.join(dir, 'main.mjs');
      await build({
        stdin: {
          contents: [
            `import { initEngine, tensor, tidy, ops, nn, optim, init, Tensor } from ${JSON.stringify(path.join(root, 'engine', 'index.ts'))};`,
            'await initEngine();',
            'const y = tidy(() => tensor([1, 2, 3], [3]).mul(2).add(tensor([0.5, 0.5, 0.5], [3])).sum().keep());',
            'const lin = new nn.Linear(3, 2);',
            'const types = { methods: typeof Tensor.prototype.matmul, ops: typeof ops.conv2d, adam: typeof optim.Adam, init: typeof init.normal_ };',
            'console.log(JSON.stringify({ y: await y.item(), ...types, params: lin.parameters().length }));',
            'process.exit(0);',
          ].join('\n'),
          resolveDir: root,
          loader: 'ts',
        },
        bundle: true,
        format: 'esm',
        platform: 'node',
        target: 'es2022',
        loader: { '.wgsl': 'text' },
        external: ['webgpu'],
        outfile: out,
        logLevel: 'error',
      });
      const text = execFileSync(process.execPath, [out], { encoding: 'utf8', cwd: root, timeout: 90_000 });
      const r = JSON.parse(text.trim().split('\n').pop()!);
      expect(r).toEqual({ y: 13.5, methods: 'function', ops: 'function', adam: 'function', init: 'function', params: 2 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('docs/engine.md', () => {
  it("the entry's example trains: its loop, run as written, fits y = x0 + x1", async () => {
    const doc = readFileSync(path.join(root, 'docs', 'engine.md'), 'utf8');
    const block = /```ts\n(import \{[^}]*\} from '\.\.\/engine\/index\.js';[\s\S]*?)```/.exec(doc);
    expect(block, 'the first ts block of docs/engine.md imports the entry').not.toBeNull();
    const [importLine, ...rest] = block![1].split('\n');
    const names = /\{([^}]*)\}/
      .exec(importLine)![1]
      .split(',')
      .map((s) => s.trim());
    const body = rest.filter((l) => !l.trimStart().startsWith('//')).join('\n') + '\nreturn net;';
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
      ...a: string[]
    ) => (...v: unknown[]) => Promise<unknown>;
    const net = (await new AsyncFunction(...names, body)(...names.map((n) => (entry as Record<string, unknown>)[n]))) as InstanceType<
      typeof entry.nn.Sequential
    >;
    const x = tensor(seeded(128, 7), [64, 2]);
    const loss = tidy(() => net.call(x).sub(x.sum(1, true)).square().mean().keep());
    const l = await loss.item();
    // The target's variance is about 2/3 (x uniform in [-1, 1]); a fitted net explains nearly all of it.
    expect(l).toBeLessThan(0.05);
    for (const t of [x, loss]) t.dispose();
    for (const p of net.parameters()) p.dispose();
  });
});
