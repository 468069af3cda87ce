// What one encoded compute dispatch costs the host through the npm `webgpu` package (Dawn under
// Node), call by call: the CPU split of a replayed step's dispatch (bench/NOTES.md, issue 14).
//   npx esbuild bench/encode_calls.ts --bundle --platform=node --format=esm --external:webgpu \
//     --outfile=.prof/encode_calls.mjs && node .prof/encode_calls.mjs [toggle sets...]
// A toggle set is `+name` (enable) and `-name` (disable) joined by commas, e.g. `+skip_validation`
// or `-lazy_clear_resource_on_first_use`; Dawn's defaults are always measured first.
// One trivial kernel (a uniform at binding 0 with a dynamic offset, three storage buffers, as the
// engine's kernels bind them), N dispatches a pass, 8 bind groups and 2 pipelines cycled. Each
// variant encodes a pass of N dispatches, then finishes and submits it; the main thread's CPU time
// (/proc/thread-self/schedstat after a getrusage refresh, as bench/replay_step.ts) is taken over
// encoding, finish() and submit() separately, median of the rounds, per dispatch. The variants
// drop one call kind at a time (the GPU work they produce differs; only host time is measured) and
// compare the forms of setBindGroup's dynamic offsets, and how the bindings weigh (1, 3 or 7
// storage buffers; the uniform at a dynamic offset, or at a static one with one bind group per
// dispatch). Each round's wait naps (napWhile), as the engine's do, so the poll loop's garbage does
// not land in the next round's calls. Dawn toggle sets are measured side by side in one process
// (one Dawn instance and device each, rounds alternated): across processes the same figure moved
// by 2x on this shared machine.
import { readFileSync } from 'node:fs';
import { napWhile } from '../engine/device.js';

const N = 1000;
const rounds = Number(process.env.ROUNDS ?? 15);
const mod = 'webgpu';
const dawn = (await import(/* @vite-ignore */ mod)) as { create: (o: string[]) => GPU; globals: Record<string, unknown> };
Object.assign(globalThis, dawn.globals);

function threadMs(): number {
  process.cpuUsage(); // brings this thread's schedstat count up to date (see bench/replay_step.ts)
  return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
}

const code = (k: number) => `
struct U { n: u32, a: f32 }
@group(0) @binding(0) var<uniform> u: U;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> z: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < u.n) { z[g.x] = x[g.x] * u.a + y[g.x] + ${k}.0; }
}`;
const SLOT = 256;
const offsets = Uint32Array.from({ length: N }, (_, d) => d * SLOT);
const perDispatch = Array.from({ length: N }, (_, d) => Uint32Array.of(d * SLOT));
const perDispatchArr = Array.from({ length: N }, (_, d) => [d * SLOT]);
// A pipeline change on 29 of 30 dispatches (CycleGAN's replayed plan: 903 of 932).
const setPipe = Uint8Array.from({ length: N }, (_, d) => (d % 30 === 29 ? 0 : 1));

type Variant = (pass: GPUComputePassEncoder) => void;
async function setup(set: string) {
  const on = set
    .split(',')
    .filter((t) => t.startsWith('+'))
    .map((t) => t.slice(1));
  const off = [
    'timestamp_quantization',
    ...set
      .split(',')
      .filter((t) => t.startsWith('-'))
      .map((t) => t.slice(1)),
  ];
  const flags = [`disable-dawn-features=${off.join(',')}`, ...(on.length ? [`enable-dawn-features=${on.join(',')}`] : [])];
  const gpu = dawn.create(flags);
  const device = await (await gpu.requestAdapter())!.requestDevice();
  const bgl = device.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } },
      { binding: 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } },
      { binding: 2, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } },
      { binding: 3, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } },
    ],
  });
  const layout = device.createPipelineLayout({ bindGroupLayouts: [bgl] });
  const pipes = [0, 1].map((k) =>
    device.createComputePipeline({ layout, compute: { module: device.createShaderModule({ code: code(k) }), entryPoint: 'main' } }),
  );
  const uni = device.createBuffer({ size: N * SLOT, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const words = new Uint32Array((N * SLOT) / 4);
  for (let d = 0; d < N; d++) words[(d * SLOT) / 4] = 64;
  device.queue.writeBuffer(uni, 0, words);
  const bufs = Array.from({ length: 10 }, () => device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE }));
  const bgs = Array.from({ length: 8 }, (_, i) =>
    device.createBindGroup({
      layout: bgl,
      entries: [
        { binding: 0, resource: { buffer: uni, size: SLOT } },
        { binding: 1, resource: { buffer: bufs[i] } },
        { binding: 2, resource: { buffer: bufs[i + 1] } },
        { binding: 3, resource: { buffer: bufs[i + 2] } },
      ],
    }),
  );
  // Whether Dawn validates: a 3-byte copy is a validation error unless skip_validation is on.
  const probe = [0, 1].map(() => device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST }));
  device.pushErrorScope('validation');
  const pe = device.createCommandEncoder();
  pe.copyBufferToBuffer(probe[0], 0, probe[1], 0, 3);
  device.queue.submit([pe.finish()]);
  const validates = (await device.popErrorScope()) !== null;
  // The bindings' share: the same loop over kernels binding `nb` storage buffers, the uniform at a
  // dynamic offset (the engine's form) or at a static one (one bind group per dispatch).
  const bindingVariant = (nb: number, dynamic: boolean): Variant => {
    const decl = Array.from(
      { length: nb },
      (_, i) => `@group(0) @binding(${i + 1}) var<storage, ${i === nb - 1 ? 'read_write' : 'read'}> b${i}: array<f32>;`,
    ).join('\n');
    const sum = Array.from({ length: nb }, (_, i) => `b${i}[g.x]`).join(' + ');
    const src = (k: number) =>
      `struct U { n: u32, a: f32 }\n@group(0) @binding(0) var<uniform> u: U;\n${decl}\n` +
      `@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) { if (g.x < u.n) { b${nb - 1}[g.x] = (${sum}) * u.a + ${k}.0; } }`;
    const layoutN = device.createBindGroupLayout({
      entries: [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: dynamic } },
        ...Array.from({ length: nb }, (_, i) => ({
          binding: i + 1,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: (i === nb - 1 ? 'storage' : 'read-only-storage') as GPUBufferBindingType },
        })),
      ],
    });
    const pl = device.createPipelineLayout({ bindGroupLayouts: [layoutN] });
    const pp = [0, 1].map((k) =>
      device.createComputePipeline({ layout: pl, compute: { module: device.createShaderModule({ code: src(k) }), entryPoint: 'main' } }),
    );
    const groups = Array.from({ length: dynamic ? 8 : N }, (_, j) =>
      device.createBindGroup({
        layout: layoutN,
        entries: [
          { binding: 0, resource: { buffer: uni, offset: dynamic ? 0 : j * SLOT, size: SLOT } },
          ...Array.from({ length: nb }, (_, i) => ({ binding: i + 1, resource: { buffer: bufs[(j + i) % bufs.length] } })),
        ],
      }),
    );
    return dynamic
      ? (p) => {
          for (let d = 0; d < N; d++) {
            if (setPipe[d]) p.setPipeline(pp[d & 1]);
            p.setBindGroup(0, groups[d & 7], offsets, d, 1);
            p.dispatchWorkgroups(1, 1, 1);
          }
        }
      : (p) => {
          for (let d = 0; d < N; d++) {
            if (setPipe[d]) p.setPipeline(pp[d & 1]);
            p.setBindGroup(0, groups[d]);
            p.dispatchWorkgroups(1, 1, 1);
          }
        };
  };
  const all: Variant = (p) => {
    for (let d = 0; d < N; d++) {
      if (setPipe[d]) p.setPipeline(pipes[d & 1]);
      p.setBindGroup(0, bgs[d & 7], offsets, d, 1);
      p.dispatchWorkgroups(1, 1, 1);
    }
  };
  const variants: Record<string, Variant> = {
    'all calls (offsets: typed array, start, length)': all,
  };
  if (set === '') {
    Object.assign(variants, {
      'all calls (offsets: a Uint32Array per dispatch, 0, 1)': (p: GPUComputePassEncoder) => {
        for (let d = 0; d < N; d++) {
          if (setPipe[d]) p.setPipeline(pipes[d & 1]);
          p.setBindGroup(0, bgs[d & 7], perDispatch[d], 0, 1);
          p.dispatchWorkgroups(1, 1, 1);
        }
      },
      'all calls (offsets: a JS array per dispatch)': (p: GPUComputePassEncoder) => {
        for (let d = 0; d < N; d++) {
          if (setPipe[d]) p.setPipeline(pipes[d & 1]);
          p.setBindGroup(0, bgs[d & 7], perDispatchArr[d]);
          p.dispatchWorkgroups(1, 1, 1);
        }
      },
      'no setPipeline (one pipeline, set once)': (p: GPUComputePassEncoder) => {
        p.setPipeline(pipes[0]);
        for (let d = 0; d < N; d++) {
          p.setBindGroup(0, bgs[d & 7], offsets, d, 1);
          p.dispatchWorkgroups(1, 1, 1);
        }
      },
      'no setBindGroup (set once)': (p: GPUComputePassEncoder) => {
        p.setBindGroup(0, bgs[0], offsets, 0, 1);
        for (let d = 0; d < N; d++) {
          if (setPipe[d]) p.setPipeline(pipes[d & 1]);
          p.dispatchWorkgroups(1, 1, 1);
        }
      },
      'no dispatchWorkgroups': (p: GPUComputePassEncoder) => {
        for (let d = 0; d < N; d++) {
          if (setPipe[d]) p.setPipeline(pipes[d & 1]);
          p.setBindGroup(0, bgs[d & 7], offsets, d, 1);
        }
      },
      '1 storage buffer, uniform at a dynamic offset': bindingVariant(1, true),
      '1 storage buffer, uniform at a static offset': bindingVariant(1, false),
      '3 storage buffers, uniform at a dynamic offset': bindingVariant(3, true),
      '3 storage buffers, uniform at a static offset': bindingVariant(3, false),
      '7 storage buffers, uniform at a dynamic offset': bindingVariant(7, true),
      '7 storage buffers, uniform at a static offset': bindingVariant(7, false),
      'JavaScript only (the loop, no calls)': (p: GPUComputePassEncoder) => {
        let s = 0;
        for (let d = 0; d < N; d++) {
          if (setPipe[d]) s += d;
          s += offsets[d] + (bgs[d & 7] === (p as unknown) ? 1 : 0);
        }
        if (s < 0) console.log(s);
      },
    });
  }
  return { gpu, device, flags, validates, variants }; // gpu kept: a collected instance takes its devices down
}

const sets = ['', ...process.argv.slice(2).filter((a) => /^[+-]/.test(a))];
const setups = [];
for (const set of sets) setups.push({ set, ...(await setup(set)) });
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const results = new Map<string, { enc: number[]; fin: number[]; sub: number[] }>();
for (let r = 0; r < rounds; r++) {
  // Alternated: every toggle set and variant once a round.
  for (const { set, device, variants } of setups) {
    for (const [name, run] of Object.entries(variants)) {
      const key = `${set || 'Dawn defaults'}: ${name}`;
      if (!results.has(key)) results.set(key, { enc: [], fin: [], sub: [] });
      const t0 = threadMs();
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      run(pass);
      pass.end();
      const t1 = threadMs();
      const cb = enc.finish();
      const t2 = threadMs();
      device.queue.submit([cb]);
      const t3 = threadMs();
      await napWhile(device.queue.onSubmittedWorkDone());
      if (r > 0) {
        const res = results.get(key)!;
        res.enc.push(t1 - t0);
        res.fin.push(t2 - t1);
        res.sub.push(t3 - t2);
      }
    }
  }
}
for (const { set, flags, validates } of setups)
  console.log(`${set || 'Dawn defaults'}: flags ${flags.join(' ')}; validation ${validates ? 'on' : 'off'}`);
console.log(`${N} dispatches a pass, ${rounds - 1} rounds; main-thread CPU us per dispatch (median): encode | finish | submit | total`);
for (const [name, r] of results) {
  const [e, f, s] = [med(r.enc), med(r.fin), med(r.sub)].map((ms) => (1000 * ms) / N);
  console.log(
    `${name.padEnd(72)} ${e.toFixed(2).padStart(6)} | ${f.toFixed(2).padStart(6)} | ${s.toFixed(2).padStart(6)} | ${(e + f + s).toFixed(2).padStart(6)}`,
  );
}
process.exit(0);
