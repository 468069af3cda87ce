// Smoke run of the tfjs half of the benchmark: checks tfjs's conv passes (as bench/tfjs.ts calls
// them) against a plain JS reference on tiny shapes, then times a suite through tfjs-webgpu.
//
//   npx esbuild bench/tfjs_smoke.ts --bundle --platform=node --format=esm --external:webgpu \
//     --outfile=/tmp/tfjs_smoke.mjs && node /tmp/tfjs_smoke.mjs [--suite reduced|full] [--json out.json]
//     [--only conv,norm,pyramid,adam,dcgan] [--method auto|wall|timestamp] [--repeats N] [--warmup N]

import { writeFileSync } from 'node:fs';
import { CONV_PASSES, suiteByName, type ConvCase, type ConvPass, type Pad4 } from './suite.js';
import { createTfjs, timeTfjsSuite, tfjsConvReference, type TfjsHandle, type TfjsTiming, type TimeOptions } from './tfjs.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

// ---- a plain JS reference for the conv passes (NCHW, PyTorch weights) ---------------------------

/** A conv case for the check only (same fields as the suite's). */
function tinyCase(
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
  const sizes = { x: n * cin * h * w, w: cin * cout * k * k, y: n * cout * hout * wout };
  return { id, title: id, kind, n, cin, h, w, cout, k, stride, pad, outputPadding: op, hout, wout, flops: () => 0, bytes: () => 0, sizes };
}

/**
 * Both kinds relate a "small" tensor S (conv output / convT input) and a "big" one B (conv input /
 * convT output) through W[cs, cb, ky, kx] (PyTorch layout puts the small side's channels first for
 * both): S[n, cs, oy, ox] = sum W[cs, cb, ky, kx] * B[n, cb, oy*s - t + ky, ox*s - l + kx].
 */
function visit(c: ConvCase, f: (si: number, bi: number, wi: number) => void) {
  const isT = c.kind === 'conv_transpose2d';
  const [cs, cb] = isT ? [c.cin, c.cout] : [c.cout, c.cin];
  const [sh, sw] = isT ? [c.h, c.w] : [c.hout, c.wout];
  const [bh, bw] = isT ? [c.hout, c.wout] : [c.h, c.w];
  const [t, , l] = c.pad;
  for (let n = 0; n < c.n; n++)
    for (let s = 0; s < cs; s++)
      for (let oy = 0; oy < sh; oy++)
        for (let ox = 0; ox < sw; ox++)
          for (let b = 0; b < cb; b++)
            for (let ky = 0; ky < c.k; ky++)
              for (let kx = 0; kx < c.k; kx++) {
                const iy = oy * c.stride - t + ky;
                const ix = ox * c.stride - l + kx;
                if (iy < 0 || ix < 0 || iy >= bh || ix >= bw) continue;
                f(((n * cs + s) * sh + oy) * sw + ox, ((n * cb + b) * bh + iy) * bw + ix, ((s * cb + b) * c.k + ky) * c.k + kx);
              }
}

function reference(c: ConvCase, pass: ConvPass, x: Float32Array, w: Float32Array, dy: Float32Array): Float32Array {
  const isT = c.kind === 'conv_transpose2d';
  if (!isT) {
    if (pass === 'forward') {
      const y = new Float32Array(c.sizes.y);
      visit(c, (si, bi, wi) => (y[si] += w[wi] * x[bi]));
      return y;
    }
    if (pass === 'input_grad') {
      const dx = new Float32Array(c.sizes.x);
      visit(c, (si, bi, wi) => (dx[bi] += w[wi] * dy[si]));
      return dx;
    }
    const dw = new Float32Array(c.sizes.w);
    visit(c, (si, bi, wi) => (dw[wi] += dy[si] * x[bi]));
    return dw;
  }
  if (pass === 'forward') {
    const y = new Float32Array(c.sizes.y);
    visit(c, (si, bi, wi) => (y[bi] += w[wi] * x[si]));
    return y;
  }
  if (pass === 'input_grad') {
    const dx = new Float32Array(c.sizes.x);
    visit(c, (si, bi, wi) => (dx[si] += w[wi] * dy[bi]));
    return dx;
  }
  const dw = new Float32Array(c.sizes.w);
  visit(c, (si, bi, wi) => (dw[wi] += x[si] * dy[bi]));
  return dw;
}

function rand(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    a[i] = (s / 4294967296) * 2 - 1;
  }
  return a;
}

async function checkConvs(h: TfjsHandle): Promise<boolean> {
  const cases = [
    tinyCase('conv_k3_asym', 'conv2d', 2, 3, 7, 6, 5, 3, 1, [1, 0, 2, 1]),
    tinyCase('conv_k4_s2', 'conv2d', 2, 4, 8, 8, 3, 4, 2, [1, 1, 1, 1]),
    tinyCase('conv_k7_p3', 'conv2d', 1, 3, 9, 9, 4, 7, 1, [3, 3, 3, 3]),
    tinyCase('convT_k4_s2', 'conv_transpose2d', 2, 5, 3, 4, 3, 4, 2, [1, 1, 1, 1]),
    tinyCase('convT_k3_s2_op1', 'conv_transpose2d', 1, 4, 4, 4, 3, 3, 2, [1, 1, 1, 1], 1),
    tinyCase('convT_k4_s1_p0', 'conv_transpose2d', 3, 6, 1, 1, 4, 4, 1, [0, 0, 0, 0]),
  ];
  let ok = true;
  for (const c of cases) {
    const x = rand(c.sizes.x, 1);
    const w = rand(c.sizes.w, 2);
    const dy = rand(c.sizes.y, 3);
    const errs: string[] = [];
    for (const p of CONV_PASSES) {
      const want = reference(c, p, x, w, dy);
      const got = await tfjsConvReference(h, c, p, { x, w, dy });
      let maxErr = 0;
      let maxRef = 0;
      for (let i = 0; i < want.length; i++) {
        maxErr = Math.max(maxErr, Math.abs(got[i] - want[i]));
        maxRef = Math.max(maxRef, Math.abs(want[i]));
      }
      const rel = maxErr / (maxRef || 1);
      if (!(rel < 1e-4) || got.length !== want.length) ok = false;
      errs.push(`${p} ${rel.toExponential(1)}`);
    }
    console.log(`check ${c.id.padEnd(18)} ${errs.join('  ')}`);
  }
  return ok;
}

// ---- the run ------------------------------------------------------------------------------------

function fmt(x: number | undefined, d = 3): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  return x >= 100 ? x.toFixed(1) : x.toPrecision(d);
}

function row(t: TfjsTiming): string {
  return [
    t.id.padEnd(16),
    t.pass.padEnd(16),
    fmt(t.ms_median).padStart(9),
    fmt(t.wall_ms_median).padStart(9),
    fmt(t.gflops).padStart(8),
    fmt(t.gbps).padStart(8),
    String(t.inner).padStart(5),
    ' ' + summarizeKernels(t.kernels),
  ].join(' ');
}

function summarizeKernels(k: string[]): string {
  const counts = new Map<string, number>();
  for (const n of k) counts.set(n, (counts.get(n) ?? 0) + 1);
  const parts = [...counts].map(([n, c]) => (c > 1 ? `${n.replace(/Program$/, '')} x${c}` : n.replace(/Program$/, '')));
  const s = parts.join(', ');
  return s.length > 90 ? s.slice(0, 87) + '...' : s;
}

async function main() {
  const suite = suiteByName(arg('suite', 'reduced'));
  const only = new Set(arg('only', 'conv,norm,pyramid,adam,dcgan').split(','));
  const opts: TimeOptions = {
    warmup: Number(arg('warmup', '2')),
    repeats: Number(arg('repeats', '5')),
    method: arg('method', 'auto') as TimeOptions['method'],
    targetMs: Number(arg('target-ms', '20')),
  };
  const t0 = performance.now();
  const h = await createTfjs();
  const lim = h.device.limits;
  console.log(
    `tfjs ${h.tf.version_core} backend ${h.tf.getBackend()} | adapter: ${h.adapter} | timestamps: ${h.hasTimestamps} | maxStorageBinding ${lim.maxStorageBufferBindingSize}`,
  );
  console.log(`init ${(performance.now() - t0).toFixed(0)} ms`);

  const ok = await checkConvs(h);
  console.log(ok ? 'conv passes match the JS reference' : 'CONV CHECK FAILED');

  console.log(`\nsuite '${suite.name}', method ${opts.method}, warmup ${opts.warmup}, repeats ${opts.repeats}`);
  console.log(
    [
      'id'.padEnd(16),
      'pass'.padEnd(16),
      'ms'.padStart(9),
      'wall ms'.padStart(9),
      'GFLOP/s'.padStart(8),
      'GB/s'.padStart(8),
      'inner'.padStart(5),
      ' tfjs programs per op',
    ].join(' '),
  );
  const res = await timeTfjsSuite(h, suite, { ...opts, only: [...only], dcganSteps: Number(arg('steps', '3')) }, (t) => {
    if ('pass' in t) {
      console.log(row(t));
      return;
    }
    console.log(
      `dcgan_step batch ${t.batch} ngf ${suite.dcgan.ngf}: ${fmt(t.ms_median)} ms/step (${t.ms_all.map((m) => m.toFixed(1)).join(', ')}), ` +
        `${fmt(t.gflops)} GFLOP/s nominal, lossD ${t.lossD.toFixed(3)} lossG ${t.lossG.toFixed(3)}, tensor leak ${t.tensorLeak}`,
    );
  });
  console.log(`\ntotal ${((performance.now() - t0) / 1000).toFixed(1)} s; tfjs tensors alive ${h.tf.memory().numTensors}`);
  const json = arg('json', '');
  if (json) {
    writeFileSync(json, JSON.stringify({ ...res, opts, checkOk: ok }, null, 1));
    console.log(`wrote ${json}`);
  }
  if (!ok) process.exitCode = 1;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
