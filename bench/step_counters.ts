// Per-step GPU object counts and host time of a model's training step, counted by wrapping the
// GPUDevice's create* calls and queue.submit (so the same script measures any version of the
// engine, before and after the eager-path changes of issue 14). Reduced-suite sized models.
//   npx esbuild bench/step_counters.ts --bundle --platform=node --format=esm --external:webgpu \
//     --outfile=.prof/step_counters.mjs && node .prof/step_counters.mjs dcgan 12 [logEvery] [submitEvery]
// Models: dcgan (32 px, widths 8, batch 2), dcgan16 (16 px, widths 4), dcgan64, pix2pix, cyclegan,
// stargan (32 px, widths 8, 2 residual blocks, 3 domains; n_critic 5, so every 5th step also
// trains G). The last lines give the mean dispatches per step over the steps after the third and
// the dispatches of the last step by op (the engine's trace), to see what a fusion removed.
import { initEngine } from '../engine/device.js';
import { readStats } from '../nets/lib/stats.js';
import { REPLAY_MODELS, type StepModel, stepTrainer } from './step_setup.js';

const model = process.argv[2] ?? 'dcgan';
const steps = Number(process.argv[3] ?? 12);
const logEvery = Number(process.argv[4] ?? 1);
const submitEvery = process.argv[5];
const e = await initEngine();
// Older engines have no submitEvery; leave them as they are.
if (submitEvery !== undefined && 'submitEvery' in e) (e as any).submitEvery = Number(submitEvery);
const dev = e.device as any;
const c = { bg: 0, buf: 0, sm: 0, submit: 0 };
for (const [name, key] of [
  ['createBindGroup', 'bg'],
  ['createBuffer', 'buf'],
  ['createShaderModule', 'sm'],
] as const) {
  const orig = dev[name].bind(dev);
  dev[name] = (d: any) => {
    (c as any)[key]++;
    return orig(d);
  };
}
const q = dev.queue;
const osub = q.submit.bind(q);
q.submit = (x: any) => {
  c.submit++;
  return osub(x);
};
// The replay benchmarks' models, a smaller DCGAN, and CycleGAN with its image pool (the trainer's
// default; the replay benchmarks turn it off so that the step replays).
const configs: Record<string, StepModel> = {
  ...REPLAY_MODELS,
  dcgan16: ['dcgan', 2, { imageSize: 16, nc: 1, nz: 8, ngf: 4, ndf: 4 }],
  cyclegan: ['cyclegan', 1, { imageSize: 64, netG: 'resnet_9blocks', netD: 'basic', ngf: 8, ndf: 8, norm: 'instance', ganMode: 'lsgan' }],
};
const { t, real } = stepTrainer(configs[model]);
const hosts: number[] = [];
const walls: number[] = [];
const dispatches: number[] = [];
for (let s = 1; s <= steps; s++) {
  if (s === steps && 'trace' in e) (e as any).trace = [];
  const c0 = { ...c, d: e.counters.dispatches };
  const t0 = performance.now();
  const st = t.step(real, s % logEvery === 0);
  const t1 = performance.now();
  let v: any = {};
  if (st) v = await readStats(st);
  else await e.sync();
  const t2 = performance.now();
  const m = e.memory();
  if (s > 3) {
    hosts.push(t1 - t0);
    walls.push(t2 - t0);
    dispatches.push(e.counters.dispatches - c0.d);
  }
  console.log(
    `step ${s}: host ${(t1 - t0).toFixed(1)} ms, wall ${(t2 - t0).toFixed(1)} ms, dispatches ${e.counters.dispatches - c0.d}, bindGroups ${c.bg - c0.bg}, buffers ${c.buf - c0.buf}, shaderModules ${c.sm - c0.sm}, submits ${c.submit - c0.submit}, live ${m.liveBuffers} pooled ${m.pooledBuffers} ${Object.values(
      v,
    )
      .map((x: any) => x.toFixed(4))
      .join(' ')}`,
  );
}
const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1];
// Steps 1-3 warm up (kernel compiles, pool growth, plan recording): the summary needs step 4 on.
if (dispatches.length) {
  console.log(`median host ${med(hosts).toFixed(1)} wall ${med(walls).toFixed(1)}`);
  console.log(`mean dispatches/step ${(dispatches.reduce((a, b) => a + b, 0) / dispatches.length).toFixed(1)} over steps 4..${steps}`);
} else console.log(`no summary: steps 1-3 are warm-up, run 4 or more (${steps} asked)`);
const trace = (e as any).trace as { op: string }[] | null | undefined;
if (trace) {
  const by = new Map<string, number>();
  for (const d of trace) by.set(d.op, (by.get(d.op) ?? 0) + 1);
  console.log(
    `last step by op: ${[...by]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
}
process.exit(0);
