// The generic op checker, shared by the vitest suite (Node) and the in-browser test page.
// For every registered op and case:
//   forward : GPU output vs the CPU float64 reference, on random inputs with a fixed seed, with every
//             allocation poisoned with NaN first (an element the kernel never wrote fails the check);
//   backward: GPU gradient of L = sum(y * G) vs central finite differences of the reference;
//   double  : GPU gradient of S = sum_i <dL/dx_i, H_i> (through createGraph) vs finite differences
//             of the reference's directional derivative along H.
// Errors are normalised: max|gpu - ref| / max(max|ref|, 1e-3).
import { engine } from '../../engine/device.js';
import { tensor, beginScope, endScope, numel, type Tensor } from '../../engine/tensor.js';
import { grad } from '../../engine/tape.js';
import { add, mul } from '../../engine/ops/elementwise.js';
import { sum } from '../../engine/ops/reduce.js';
import { opRegistry, type HostTensor, type OpSpec } from '../../engine/ops/registry.js';
import { casesOf, type OpCase } from './op_cases.js';

export interface CheckResult {
  op: string;
  case: string;
  stage: 'forward' | 'backward' | 'double-backward';
  ok: boolean;
  err: number;
  tol: number;
  message?: string;
}

import { mulberry32 } from '../../engine/ops/cpu/host.js';

export { mulberry32 };

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

function defaultSample(shape: number[], _i: number, rand: () => number): Float64Array {
  const n = numel(shape);
  const d = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const r = rand();
    d[k] = (r < 0.5 ? -1 : 1) * (0.05 + 1.9 * Math.abs(r - 0.5));
  }
  return d;
}

function randomHost(shape: number[], rand: () => number): Float64Array {
  return Float64Array.from({ length: numel(shape) }, () => rand() * 2 - 1);
}

export function normErr(gpu: ArrayLike<number>, ref: ArrayLike<number>): number {
  let maxRef = 0;
  let maxDiff = 0;
  for (let i = 0; i < ref.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
    const d = Math.abs(gpu[i] - ref[i]);
    if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d; // NaN (unwritten) counts as infinite error
  }
  return maxDiff / Math.max(maxRef, 1e-3);
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function caseLabel(c: OpCase): string {
  return c.label ?? `${c.shapes.map((s) => `[${s.join('x')}]`).join(',')}${c.attrs ? ' ' + JSON.stringify(c.attrs) : ''}`;
}

/** Checks one case of one op. */
export async function checkOpCase(spec: OpSpec, c: OpCase, seed = 1234, opts: { doubleBackward?: boolean } = {}): Promise<CheckResult[]> {
  const label = caseLabel(c);
  const attrs = c.attrs ?? {};
  const rand = mulberry32(seed ^ hashString(spec.name + label));
  const sample = spec.sample ?? defaultSample;
  const xs: HostTensor[] = c.shapes.map((shape, i) => ({ shape, data: sample(shape, i, rand, attrs).map(Math.fround) }));
  const tol = { forward: 1e-4, grad: 1e-3, grad2: 5e-3, ...spec.tol };
  const h = spec.fdStep ?? 1e-3;
  const results: CheckResult[] = [];
  const ref = spec.reference(xs, attrs);
  const gradWanted = c.shapes.map((_, i) => c.backward !== false && (c.gradInputs ? !!c.gradInputs[i] : true));
  const e = engine();
  const wasPoisoned = e.poisonAllocations;
  e.poisonAllocations = true;
  beginScope();
  try {
    const ts = xs.map((x, i) => {
      const t = tensor(Float32Array.from(x.data), x.shape);
      return gradWanted[i] ? t.requireGrad() : t;
    });
    const y = spec.run(ts, attrs);
    const out = await y.data();
    const shapeOk = y.shape.length === ref.shape.length && y.shape.every((d, i) => d === ref.shape[i]);
    const fErr = shapeOk ? normErr(out, ref.data) : Infinity;
    results.push({
      op: spec.name,
      case: label,
      stage: 'forward',
      ok: fErr <= tol.forward,
      err: fErr,
      tol: tol.forward,
      message: shapeOk ? undefined : `shape [${y.shape}] but the reference gives [${ref.shape}]`,
    });
    if (!gradWanted.some(Boolean) || !shapeOk) return results;

    // ---- backward vs finite differences of the reference
    const G = randomHost(ref.shape, rand).map(Math.fround);
    const L = (inputs: HostTensor[]) => dot(spec.reference(inputs, attrs).data, G);
    const wantIdx = gradWanted.flatMap((w, i) => (w ? [i] : []));
    const double = (c.doubleBackward ?? spec.doubleBackward ?? false) && (opts.doubleBackward ?? true);
    let gs: Tensor[];
    try {
      gs = grad(
        y,
        wantIdx.map((i) => ts[i]),
        { gradOutputs: [tensor(Float32Array.from(G), ref.shape)], createGraph: double, allowUnused: true },
      );
    } catch (err) {
      results.push({
        op: spec.name,
        case: label,
        stage: 'backward',
        ok: false,
        err: Infinity,
        tol: tol.grad,
        message: `no backward: ${(err as Error).message}`,
      });
      return results;
    }
    const perturbed = (i: number, j: number, delta: number) =>
      xs.map((x, k) => (k === i ? { shape: x.shape, data: x.data.map((v, m) => (m === j ? v + delta : v)) } : x));
    for (const [n, i] of wantIdx.entries()) {
      const fd = new Float64Array(xs[i].data.length);
      for (let j = 0; j < fd.length; j++) fd[j] = (L(perturbed(i, j, h)) - L(perturbed(i, j, -h))) / (2 * h);
      const gpu = gs[n] ? await gs[n].data() : new Float32Array(fd.length);
      const err = normErr(gpu, fd);
      results.push({ op: spec.name, case: label, stage: 'backward', ok: err <= tol.grad, err, tol: tol.grad, message: `d/d input ${i}` });
    }
    if (!double) return results;

    // ---- double backward: S = sum_i <g_i, H_i>; dS/dx vs finite differences of the directional derivative
    const H = wantIdx.map((i) => randomHost(xs[i].shape, rand).map(Math.fround));
    const usable = gs.map((g) => !!g && g.requiresGrad);
    let S: Tensor | null = null;
    gs.forEach((g, n) => {
      if (!usable[n]) return;
      const term = sum(mul(g, tensor(Float32Array.from(H[n]), xs[wantIdx[n]].shape)));
      S = S ? add(S, term) : term;
    });
    const along = (inputs: HostTensor[], eps: number) =>
      inputs.map((x, k) => {
        const n = wantIdx.indexOf(k);
        return n < 0 ? x : { shape: x.shape, data: x.data.map((v, m) => v + eps * H[n][m]) };
      });
    const dirDeriv = (inputs: HostTensor[]) => (L(along(inputs, h)) - L(along(inputs, -h))) / (2 * h);
    const ggs = S
      ? grad(
          S,
          wantIdx.map((i) => ts[i]),
          { allowUnused: true },
        )
      : wantIdx.map(() => null);
    for (const [n, i] of wantIdx.entries()) {
      const fd = new Float64Array(xs[i].data.length);
      for (let j = 0; j < fd.length; j++) fd[j] = (dirDeriv(perturbed(i, j, h)) - dirDeriv(perturbed(i, j, -h))) / (2 * h);
      const gg = ggs[n];
      const gpu = gg ? await gg.data() : new Float32Array(fd.length);
      const err = normErr(gpu, fd);
      results.push({
        op: spec.name,
        case: label,
        stage: 'double-backward',
        ok: err <= tol.grad2,
        err,
        tol: tol.grad2,
        message: `d/d input ${i}`,
      });
    }
    return results;
  } catch (err) {
    results.push({
      op: spec.name,
      case: label,
      stage: 'forward',
      ok: false,
      err: Infinity,
      tol: 0,
      message: (err as Error).stack ?? String(err),
    });
    return results;
  } finally {
    endScope();
    e.poisonAllocations = wasPoisoned;
  }
}

export interface SuiteOptions {
  filter?: (name: string) => boolean;
  seed?: number;
  doubleBackward?: boolean;
  /** Check at most this many cases per op (the browser page, where each new kernel compiles slowly). */
  maxCases?: number;
  onResult?: (r: CheckResult) => void;
}

/** Runs every registered op's cases (or the filtered ones). */
export async function runOpSuite(opts: SuiteOptions = {}): Promise<CheckResult[]> {
  const all: CheckResult[] = [];
  for (const spec of opRegistry) {
    if (opts.filter && !opts.filter(spec.name)) continue;
    const cases = casesOf(spec.name);
    for (const c of cases.slice(0, opts.maxCases ?? cases.length)) {
      const rs = await checkOpCase(spec, c, opts.seed, opts);
      for (const r of rs) {
        opts.onResult?.(r);
        all.push(r);
      }
    }
  }
  return all;
}
