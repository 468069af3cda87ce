// GPU time of one training step by op and by kernel, for a model set up exactly as `gan train`
// resolves its command line (the --quick preset, --recipe zoo, explicit flags), on synthetic data.
// Each dispatch gets its own timed compute pass (timestamp queries; the engine's profiler), so the
// step runs eagerly. On a software adapter (lavapipe) the timestamps are the wall time of the
// driver's threads: run it on an otherwise quiet core and compare rows within one run.
//   npx esbuild bench/op_profile.ts --bundle --platform=node --format=esm --external:webgpu \
//     --outfile=.prof/op_profile.mjs
//   NODEVICE_SELECT=1 taskset -c 1 node .prof/op_profile.mjs began --recipe zoo [--warmup 3] [--profiled 2] [--top 25]
//   NODEVICE_SELECT=1 taskset -c 1 node .prof/op_profile.mjs dcgan --quick
// Prints: dispatches and GPU ms per profiled step, then the rows by op (ms, % of the step,
// dispatches) and by kernel key (the shader variant) with their workgroup counts.
import { initEngine } from '../engine/device.js';
import { tensor } from '../engine/tensor.js';
import { recipes } from '../nets/registry.js';
import { readStats } from '../nets/lib/stats.js';
import { resolveTrainRun } from '../cli/train.js';

const args = process.argv.slice(2);
const model = args.shift() ?? 'dcgan';
const own = (flag: string, def: number) => {
  const i = args.indexOf(flag);
  if (i < 0) return def;
  const v = Number(args[i + 1]);
  args.splice(i, 2);
  return v;
};
const warmup = own('--warmup', 3);
const profiled = own('--profiled', 2);
const top = own('--top', 25);
const recipe = recipes[model];
if (!recipe) throw new Error(`op_profile: unknown model '${model}' (known: ${Object.keys(recipes).join(', ')})`);
const r = await resolveTrainRun(recipe, [...args, '--out', '.prof/op_profile_run', '--force']);
if (!r) throw new Error('op_profile: the command line did not resolve (see the usage above)');
const e = await initEngine();
const { config, settings } = r;
const batch = settings.batch;
const t = recipe.create(config, settings, r.seed);
const { channels, size } = recipe.imageShape(config);
const real = tensor(
  new Float32Array(batch * channels * size * size).map((_, i) => Math.sin(i * 0.37)),
  [batch, channels, size, size],
).keep();
// Models that take a labelled set (Triple-GAN) get a synthetic one: 10 classes, 200 images of the
// same kind of values (captioned models need real captions: profile them from a run instead).
if (t.bindData) {
  const n = Math.max(200, batch);
  const per = channels * size * size;
  t.bindData({
    images: new Float32Array(n * per).map((_, i) => Math.sin(i * 0.29)),
    n,
    c: channels,
    h: size,
    w: size,
    labels: Int32Array.from({ length: n }, (_, i) => i % 10),
  });
}
console.log(
  `${model} ${args.join(' ')}: batch ${batch}, image ${channels}x${size}x${size}, adapter ${e.adapter.description || e.adapter.vendor}`,
);
for (let s = 0; s < warmup; s++) {
  const st = t.step(real, true);
  if (st) await readStats(st);
  else await e.sync();
}
if (!e.startProfile()) throw new Error('op_profile: the device has no timestamp-query feature');
const wall0 = performance.now();
for (let s = 0; s < profiled; s++) {
  const st = t.step(real, s === profiled - 1);
  if (st) await readStats(st);
}
const rows = await e.stopProfile();
const wall = (performance.now() - wall0) / profiled;
const total = rows.reduce((a, d) => a + d.ms, 0) / profiled;
console.log(
  `per step (mean of ${profiled} after ${warmup} warm-up): ${(rows.length / profiled).toFixed(0)} dispatches, GPU ${total.toFixed(1)} ms, wall ${wall.toFixed(1)} ms (profiling: one pass per dispatch)`,
);
const group = (key: (d: (typeof rows)[number]) => string) => {
  const m = new Map<string, { ms: number; n: number; wg: string }>();
  for (const d of rows) {
    const k = key(d);
    const g = m.get(k) ?? { ms: 0, n: 0, wg: d.workgroups.join('x') };
    g.ms += d.ms;
    g.n++;
    m.set(k, g);
  }
  return [...m].sort((a, b) => b[1].ms - a[1].ms);
};
console.log('by op: ms/step  %  dispatches/step');
for (const [k, g] of group((d) => d.op).slice(0, top))
  console.log(
    `  ${k.padEnd(28)} ${(g.ms / profiled).toFixed(1).padStart(8)} ${((100 * g.ms) / profiled / total).toFixed(1).padStart(5)}% ${(g.n / profiled).toFixed(0).padStart(5)}`,
  );
console.log('by kernel (op | kernel key): ms/step  %  dispatches/step  workgroups of the first');
for (const [k, g] of group((d) => `${d.op} | ${d.kernel}`).slice(0, top))
  console.log(
    `  ${k.slice(0, 110).padEnd(110)} ${(g.ms / profiled).toFixed(1).padStart(8)} ${((100 * g.ms) / profiled / total).toFixed(1).padStart(5)}% ${(g.n / profiled).toFixed(0).padStart(4)}  ${g.wg}`,
  );
process.exit(0);
