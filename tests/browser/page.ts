// The in-browser test page (bundled to dist/browser-tests/page.js by `node scripts/build.mjs browser-tests`).
// It acquires a WebGPU adapter and device from navigator.gpu, runs a list of checks, shows them on
// the page, and publishes
//   window.__results = { ok, adapter, checks: [{ name, ok, ms, detail? }] }
//   window.__done = true
// for tests/browser/browser.test.ts to read. Keep in-page work small: headless Chromium runs
// WebGPU on SwiftShader (a CPU rasteriser), so every dispatch is slow.
//
// To add checks: push `Check` records into `checks` at the marked spot in `runChecks` (for example
// the engine's generic op suite).

import { initEngine, hasEngine, engine } from '../../engine/device';
import { runOpSuite } from '../support/opcheck';
import '../../engine/ops/index';

export interface Check {
  name: string;
  ok: boolean;
  /** Wall time of the check in milliseconds. */
  ms: number;
  /** Why it failed (or a short note when it passed). */
  detail?: string;
}

export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  features: string[];
  limits: Record<string, number>;
}

export interface PageResults {
  ok: boolean;
  adapter: AdapterReport | null;
  checks: Check[];
  error?: string;
}

declare global {
  interface Window {
    __results?: PageResults;
    __done?: boolean;
  }
}

const checks: Check[] = [];

/** Ops checked in the page (forward, backward and double backward), when registered. */
const BROWSER_OPS = [
  'add',
  'mul',
  'tanh',
  'leaky_relu',
  'sum',
  'max',
  'concat',
  'slice',
  'conv2d',
  'conv_transpose2d',
  'linear',
  'instance_norm',
  'batch_norm',
  'bce_with_logits',
];

/** Run `fn` as a named check; a throw or a returned string (the failure reason) fails it. */
async function check(name: string, fn: () => Promise<string | void> | string | void): Promise<void> {
  const t0 = performance.now();
  let ok = true;
  let detail: string | undefined;
  try {
    const failure = await fn();
    if (typeof failure === 'string') {
      ok = false;
      detail = failure;
    }
  } catch (err) {
    ok = false;
    detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
  const result: Check = { name, ok, ms: Math.round(performance.now() - t0), detail };
  checks.push(result);
  if (ok) console.log(`PASS ${name} (${result.ms} ms)`);
  else console.error(`FAIL ${name}: ${detail}`);
}

function describeAdapter(adapter: GPUAdapter): AdapterReport {
  const info = adapter.info;
  const limits: Record<string, number> = {};
  // GPUSupportedLimits keeps its fields on the prototype as getters, so walk it by name.
  for (const key in adapter.limits) {
    const v = (adapter.limits as unknown as Record<string, unknown>)[key];
    if (typeof v === 'number') limits[key] = v;
  }
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: info.isFallbackAdapter ?? false,
    features: [...adapter.features].sort(),
    limits,
  };
}

/** y = 2x + 1 over n floats: one storage buffer in, one out, read back through a staging buffer. */
const AFFINE_WGSL = /* wgsl */ `
  // x: input, y: output, both n = arrayLength(&x) floats.
  @group(0) @binding(0) var<storage, read> x: array<f32>;
  @group(0) @binding(1) var<storage, read_write> y: array<f32>;
  override WORKGROUP_SIZE: u32 = 64;

  @compute @workgroup_size(WORKGROUP_SIZE)
  fn affine(@builtin(global_invocation_id) gid: vec3u) {
    let i = gid.x;
    if (i < arrayLength(&x)) { y[i] = 2.0 * x[i] + 1.0; }
  }
`;

async function checkAffineKernel(device: GPUDevice): Promise<string | void> {
  const n = 1000; // not a multiple of the workgroup size, so the bounds check matters
  const workgroupSize = 64;
  const x = new Float32Array(n);
  let seed = 12345; // fixed-seed LCG: reproducible, never all zeros
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    x[i] = seed / 2 ** 32 - 0.5;
  }
  const bytes = n * 4;
  const xBuf = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const yBuf = device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const readBuf = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    device.queue.writeBuffer(xBuf, 0, x);
    // Poison the output so an element the kernel skipped shows up as NaN.
    device.queue.writeBuffer(yBuf, 0, new Float32Array(n).fill(NaN));

    device.pushErrorScope('validation');
    const module = device.createShaderModule({ code: AFFINE_WGSL, label: 'affine' });
    const pipeline = device.createComputePipeline({
      layout: 'auto',
      compute: { module, entryPoint: 'affine', constants: { WORKGROUP_SIZE: workgroupSize } },
    });
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: xBuf } },
        { binding: 1, resource: { buffer: yBuf } },
      ],
    });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(n / workgroupSize));
    pass.end();
    encoder.copyBufferToBuffer(yBuf, 0, readBuf, 0, bytes);
    device.queue.submit([encoder.finish()]);
    const validation = await device.popErrorScope();
    if (validation) return `validation error: ${validation.message}`;

    await readBuf.mapAsync(GPUMapMode.READ);
    const y = new Float32Array(readBuf.getMappedRange().slice(0));
    readBuf.unmap();

    let worst = 0;
    for (let i = 0; i < n; i++) {
      const want = 2 * x[i] + 1;
      if (!Number.isFinite(y[i])) return `y[${i}] = ${y[i]} (element not written)`;
      worst = Math.max(worst, Math.abs(y[i] - want));
    }
    if (worst > 1e-6) return `max |y - (2x+1)| = ${worst}`;
  } finally {
    xBuf.destroy();
    yBuf.destroy();
    readBuf.destroy();
  }
}

async function runChecks(): Promise<PageResults> {
  const gpu = navigator.gpu;
  if (!gpu) return { ok: false, adapter: null, checks, error: 'navigator.gpu is missing (not a secure context, or WebGPU disabled)' };
  const adapter = await gpu.requestAdapter();
  if (!adapter) return { ok: false, adapter: null, checks, error: 'requestAdapter() returned null' };
  const report = describeAdapter(adapter);
  console.log(
    `adapter: ${report.vendor || '?'} / ${report.architecture || '?'} / ${report.device || '?'}` +
      ` (${report.description || 'no description'})${report.isFallbackAdapter ? ' [fallback]' : ''}`,
  );
  const device = await adapter.requestDevice();
  let lost: string | null = null;
  void device.lost.then((info) => {
    if (info.reason !== 'destroyed') lost = `device lost (${info.reason}): ${info.message}`;
  });
  device.addEventListener('uncapturederror', (ev) => {
    const message = (ev as GPUUncapturedErrorEvent).error.message;
    checks.push({ name: 'uncaptured GPU error', ok: false, ms: 0, detail: message });
    console.error(`uncaptured GPU error: ${message}`);
  });

  await check('webgpu: affine kernel y = 2x + 1 over 1000 floats', () => checkAffineKernel(device));

  // ---- the engine's generic op suite, a subset (SwiftShader is slow) -----------------------------
  await check('engine: initEngine on navigator.gpu', async () => {
    await initEngine({ gpu });
  });
  if (hasEngine()) {
    const wanted = new Set(BROWSER_OPS);
    const t0 = performance.now();
    // One case per op: SwiftShader compiles each new kernel slowly; the Node suite runs every case.
    const results = await runOpSuite({ filter: (name) => wanted.has(name), maxCases: 1 });
    const ran = new Set(results.map((r) => r.op));
    for (const r of results) {
      checks.push({
        name: `op ${r.op} ${r.case} ${r.stage}`,
        ok: r.ok,
        ms: 0,
        detail: `err ${r.err.toExponential(2)} (tol ${r.tol})${r.message ? ' ' + r.message : ''}`,
      });
    }
    checks.push({
      name: `op suite: ${ran.size} ops, ${results.length} checks`,
      ok: ran.size >= 8,
      ms: Math.round(performance.now() - t0),
      detail: [...ran].join(', '),
    });
    engine().destroy();
  }

  device.destroy();
  if (lost) checks.push({ name: 'device stayed alive', ok: false, ms: 0, detail: lost });
  return { ok: checks.length > 0 && checks.every((c) => c.ok), adapter: report, checks };
}

function render(results: PageResults): void {
  const el = document.getElementById('log');
  if (!el) return;
  const passed = results.checks.filter((c) => c.ok).length;
  const lines = [`${results.ok ? 'PASS' : 'FAIL'}  ${passed}/${results.checks.length} checks`];
  if (results.error) lines.push(`error: ${results.error}`);
  if (results.adapter) {
    const a = results.adapter;
    lines.push(`adapter: ${a.vendor} ${a.architecture} ${a.description}${a.isFallbackAdapter ? ' [fallback]' : ''}`);
  }
  lines.push('');
  for (const c of results.checks) {
    lines.push(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}  (${c.ms} ms)${c.detail ? `  ${c.detail}` : ''}`);
  }
  el.textContent = lines.join('\n');
  el.className = results.ok ? 'pass' : 'fail';
  document.title = `${results.ok ? 'PASS' : 'FAIL'} webgpu-gan browser tests`;
}

async function main(): Promise<void> {
  let results: PageResults;
  try {
    results = await runChecks();
  } catch (err) {
    const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    results = { ok: false, adapter: null, checks, error };
  }
  if (results.error) console.error(results.error);
  window.__results = results;
  render(results);
  window.__done = true;
}

void main();
