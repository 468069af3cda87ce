// The benchmark's validation references (bench/validate.ts), on the CPU only:
//   - the per-element conv formulas used for sampled validation agree with the engine's CPU
//     references (engine/ops/cpu/conv.ts) on every pass of awkward small cases (asymmetric
//     padding, stride 2, output padding, a 4x4 kernel on a 1x1 input);
//   - the analytic norm gradients agree with central differences of the CPU forward references;
//   - the Adam reference takes PyTorch's first step (p - lr * sign(g) for |g| >> eps);
//   - the comparison counts unwritten (NaN) elements and measures relative error as documented.
import { describe, expect, it } from 'vitest';
import type { ConvCase, NormCase, Pad4, AdamCase } from '../bench/suite.js';
import { CONV_PASSES } from '../bench/suite.js';
import {
  compareFull,
  compareSampled,
  convPassOutShape,
  convReferenceAt,
  convReferenceFull,
  normReference,
  adamReference,
  randomF32,
  sampleIndices,
  verdict,
} from '../bench/validate.js';

function convCase(
  id: string,
  kind: ConvCase['kind'],
  n: number,
  cin: number,
  h: number,
  w: number,
  cout: number,
  k: number,
  stride: number,
  pad: Pad4,
  op = 0,
): ConvCase {
  const [t, b, l, r] = pad;
  const hout = kind === 'conv2d' ? Math.floor((h + t + b - k) / stride) + 1 : (h - 1) * stride - t - b + k + op;
  const wout = kind === 'conv2d' ? Math.floor((w + l + r - k) / stride) + 1 : (w - 1) * stride - l - r + k + op;
  const macs = kind === 'conv2d' ? n * cout * hout * wout * cin * k * k : n * cin * h * w * cout * k * k;
  const sizes = { x: n * cin * h * w, w: cin * cout * k * k, y: n * cout * hout * wout };
  return {
    id,
    title: id,
    kind,
    n,
    cin,
    h,
    w,
    cout,
    k,
    stride,
    pad,
    outputPadding: op,
    hout,
    wout,
    flops: () => 2 * macs,
    bytes: () => 0,
    sizes,
  };
}

const cases: ConvCase[] = [
  convCase('c3', 'conv2d', 2, 3, 7, 6, 5, 3, 1, [1, 1, 1, 1]),
  convCase('c4s2asym', 'conv2d', 2, 3, 9, 8, 4, 4, 2, [1, 2, 0, 1]),
  convCase('c7', 'conv2d', 1, 2, 9, 9, 3, 7, 1, [3, 3, 3, 3]),
  convCase('t4s2', 'conv_transpose2d', 2, 4, 3, 4, 3, 4, 2, [1, 1, 1, 1]),
  convCase('t3s2op', 'conv_transpose2d', 1, 3, 4, 3, 2, 3, 2, [1, 1, 1, 1], 1),
  convCase('t4s1from1', 'conv_transpose2d', 2, 5, 1, 1, 3, 4, 1, [0, 0, 0, 0]),
  convCase('t4s2asym', 'conv_transpose2d', 1, 2, 3, 3, 3, 4, 2, [0, 1, 2, 0]),
];

describe('bench validation references', () => {
  for (const c of cases) {
    for (const pass of CONV_PASSES) {
      it(`per-element conv formula = CPU reference: ${c.id} ${pass}`, () => {
        const x = randomF32(c.sizes.x, 1);
        const w = randomF32(c.sizes.w, 2);
        const dy = randomF32(c.sizes.y, 3);
        const full = convReferenceFull(c, pass, x, w, dy);
        expect(full.length).toBe(convPassOutShape(c, pass).reduce((a, b) => a * b, 1));
        const at = convReferenceAt(c, pass, x, w, dy);
        let maxRef = 0;
        let maxDiff = 0;
        for (let i = 0; i < full.length; i++) {
          maxRef = Math.max(maxRef, Math.abs(full[i]));
          maxDiff = Math.max(maxDiff, Math.abs(at(i) - full[i]));
        }
        expect(maxRef).toBeGreaterThan(0);
        expect(maxDiff / maxRef).toBeLessThan(1e-12);
      });
    }
  }

  const norms: NormCase[] = [
    { id: 'in', title: '', kind: 'instance_norm', n: 2, c: 3, h: 3, w: 4, affine: false, eps: 1e-5, flops: () => 0, bytes: () => 0 },
    { id: 'bn', title: '', kind: 'batch_norm', n: 3, c: 2, h: 2, w: 3, affine: true, eps: 1e-5, flops: () => 0, bytes: () => 0 },
  ];
  for (const c of norms) {
    it(`norm gradients = central differences: ${c.kind}`, () => {
      const n = c.n * c.c * c.h * c.w;
      const x = randomF32(n, 4);
      const dy = randomF32(n, 5);
      const gamma = c.affine ? randomF32(c.c, 6, 0.5, 1.5) : null;
      const beta = c.affine ? randomF32(c.c, 7) : null;
      const ref = normReference(c, x, gamma, beta, dy);
      // L = sum(y * dy); dL/dx_i by central differences on a float64 copy of x.
      const loss = (xx: Float64Array, g: Float32Array | null) => {
        const y = normReference(c, xx as unknown as Float32Array, g, beta, null).y;
        let s = 0;
        for (let i = 0; i < n; i++) s += y[i] * dy[i];
        return s;
      };
      const h = 1e-6;
      const x64 = Float64Array.from(x);
      for (let i = 0; i < n; i += 5) {
        const xp = Float64Array.from(x64);
        const xm = Float64Array.from(x64);
        xp[i] += h;
        xm[i] -= h;
        expect(ref.dx![i]).toBeCloseTo((loss(xp, gamma) - loss(xm, gamma)) / (2 * h), 5);
      }
      if (c.affine) {
        for (let ch = 0; ch < c.c; ch++) {
          const gp = Float32Array.from(gamma!);
          // dL/dgamma from the definition: sum over the channel of dy * xhat = (L(gamma+1) - L(gamma)) since L is affine in gamma.
          gp[ch] += 1;
          expect(ref.dgamma![ch]).toBeCloseTo(loss(x64, gp) - loss(x64, gamma), 8);
          let db = 0;
          for (let nn = 0; nn < c.n; nn++) for (let p = 0; p < c.h * c.w; p++) db += dy[(nn * c.c + ch) * c.h * c.w + p];
          expect(ref.dbeta![ch]).toBeCloseTo(db, 10);
        }
      }
    });
  }

  it('Adam reference: first step moves each parameter by lr against the gradient sign', () => {
    const c = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 } as AdamCase;
    const p0 = Float32Array.of(0.5, -0.25, 0);
    const g = Float32Array.of(2, -0.5, 1e-3);
    const p1 = adamReference(c, p0, g, 1);
    for (let i = 0; i < 3; i++) expect(p1[i]).toBeCloseTo(p0[i] - 1e-3 * Math.sign(g[i]), 7);
  });

  it('comparison: NaN counts as unwritten and fails; relative error is max diff / max |ref|', () => {
    const ref = [1, -2, 4];
    const ok = compareFull('y', Float32Array.of(1, -2, 4.002), ref);
    expect(ok.err).toBeCloseTo(0.0005, 6);
    expect(verdict([ok], 'full', 0).ok).toBe(true);
    const nan = compareSampled('y', Float32Array.of(1, NaN, 4), [0, 2], (i) => ref[i]);
    expect(nan.nonFinite).toBe(1);
    expect(nan.err).toBe(0);
    const v = verdict([nan], 'sampled', 0);
    expect(v.ok).toBe(false);
    expect(v.message).toMatch(/1 of 3 elements not finite/);
  });

  it('sampling is deterministic, distinct, sorted and includes both ends', () => {
    const a = sampleIndices(100000, 500, 9);
    expect(a).toEqual(sampleIndices(100000, 500, 9));
    expect(new Set(a).size).toBe(500);
    expect(a[0]).toBe(0);
    expect(a[a.length - 1]).toBe(99999);
    expect(a.every((v, i) => i === 0 || v > a[i - 1])).toBe(true);
    expect(sampleIndices(10, 500, 1)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
