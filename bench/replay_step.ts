// Host CPU time of a training step, eager against recorded-step replay (issue 14 item 1), with the
// engine's counters per step (dispatches, bind groups and buffers created, fallbacks).
//   npx esbuild bench/replay_step.ts --bundle --platform=node --format=esm --external:webgpu \
//     --outfile=.prof/replay_step.mjs && node .prof/replay_step.mjs [steps] [models...]
// For each model: a trainer stepped eagerly (trainer.step, no statistics) and one stepped through
// replayed() (from the same seed), `steps` measured steps each after 5 warm-up steps, every step
// followed by engine.sync() so the host time of one step is not mixed with waiting for the last.
// "host" is step() plus flush() (encoding, command-buffer finish and submit; for eager also the
// graph's JavaScript), measured with submitEvery = 0: on a software adapter the "GPU" runs on the
// same CPU cores, and work submitted while the host encodes would be timed as host time. "wall"
// adds the GPU time (sync). "CPU" is the process's CPU time (process.cpuUsage, median) over the
// same interval: not inflated when the shared machine deschedules us (no GPU work runs in this
// process then: the last step was synced and nothing is submitted before the final flush). "thread"
// is the main thread's own CPU time over the same interval (/proc/thread-self/schedstat's first
// field; process.cpuUsage where that file is missing): the JavaScript, the N-API calls and Dawn's
// encoding on this thread, without lavapipe's or Dawn's worker threads (the process figure counts
// them). The sizes are step_counters.ts's (narrow widths, paper depths).
import { initEngine, describeAdapter, validatesCommands } from '../engine/device.js';
import { replayed } from '../nets/lib/step.js';
import { REPLAY_MODELS, stepTrainer, threadCpuMs } from './step_setup.js';

const steps = Number(process.argv[2] ?? 10);
// --replay-only: skip the eager runs (for a CPU profile of the replay path: node --cpu-prof).
const replayOnly = process.argv.includes('--replay-only');
const wanted = process.argv.slice(3).filter((a) => !a.startsWith('--'));
// --skip-validation: Dawn's skip_validation toggle (initEngine's opt-in unsafeSkipValidation; no
// per-command validation: bench/NOTES.md).
const skipValidation = process.argv.includes('--skip-validation');
const e = await initEngine({ unsafeSkipValidation: skipValidation });
e.submitEvery = 0;
// Time spent in encoder.finish() and queue.submit(): Dawn translates the commands to Vulkan there
// (and lavapipe records them), for eager and replay alike; the rest of "host" is encoding.
let submitMs = 0;
const dev = e.device;
const q = dev.queue;
const submit0 = q.submit.bind(q);
q.submit = (cbs: Iterable<GPUCommandBuffer>) => {
  const t = performance.now();
  submit0(cbs);
  submitMs += performance.now() - t;
};
const cce = dev.createCommandEncoder.bind(dev);
dev.createCommandEncoder = (d?: GPUCommandEncoderDescriptor) => {
  const enc = cce(d);
  const finish = enc.finish.bind(enc);
  enc.finish = (fd?: GPUCommandBufferDescriptor) => {
    const t = performance.now();
    const cb = finish(fd);
    submitMs += performance.now() - t;
    return cb;
  };
  return enc;
};
console.log(
  `adapter: ${describeAdapter(e.adapter)}; ${steps} measured steps per path after 5 warm-up steps; Dawn validation ${(await validatesCommands(e.device)) ? 'on' : 'off (skip_validation)'}`,
);

const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
// On a shared machine a step is often descheduled; the fastest of n steps is the best estimate of
// its CPU cost, the median of what a run sees.
const min = (a: number[]) => Math.min(...a);

async function measure(model: string, replay: boolean) {
  if (!REPLAY_MODELS[model]) throw new Error(`replay_step: model '${model}' unknown; use one of ${Object.keys(REPLAY_MODELS).join(', ')}`);
  const { t, real } = stepTrainer(REPLAY_MODELS[model]);
  const r = replayed(t, { enabled: replay });
  const host: number[] = [];
  const sub: number[] = [];
  const cpu: number[] = [];
  const thread: number[] = [];
  const wall: number[] = [];
  const c0 = { ...e.counters };
  let outcomes = '';
  for (let s = 0; s < 5 + steps; s++) {
    if (s === 5) Object.assign(c0, e.counters);
    const th0 = threadCpuMs();
    const u0 = process.cpuUsage();
    submitMs = 0;
    const t0 = performance.now();
    r.step(real, false);
    e.flush();
    const t1 = performance.now();
    const u1 = process.cpuUsage(u0);
    const th1 = threadCpuMs();
    await e.sync();
    const t2 = performance.now();
    if (s >= 5) {
      host.push(t1 - t0);
      sub.push(submitMs);
      cpu.push((u1.user + u1.system) / 1000);
      thread.push(th1 - th0);
      wall.push(t2 - t0);
    }
    outcomes += (r.lastOutcome ?? 'eager')[0];
  }
  const d = e.countersSince(c0);
  const report = r.report();
  r.dispose();
  real.dispose();
  return {
    hostMin: min(host),
    submitMin: min(sub),
    cpu: med(cpu),
    thread: med(thread),
    threadMin: min(thread),
    host: med(host),
    wall: med(wall),
    dispatches: d.dispatches / steps,
    bindGroups: d.bindGroupsCreated / steps,
    buffers: d.buffersCreated / steps,
    replayed: d.replayedSteps,
    outcomes,
    reason: report.lastReason,
  };
}

const rows: string[] = [];
for (const model of wanted.length ? wanted : ['dcgan', 'pix2pix', 'cyclegan', 'stargan']) {
  if (replayOnly) {
    const rep = await measure(model, true);
    console.log(
      `${model}: replay CPU ${rep.cpu.toFixed(2)} ms, thread CPU ${rep.thread.toFixed(2)} (min ${rep.threadMin.toFixed(2)}) ms, host min ${rep.hostMin.toFixed(2)} (finish+submit ${rep.submitMin.toFixed(2)}) median ${rep.host.toFixed(2)} ms (${rep.replayed}/${steps} replayed)`,
    );
    continue;
  }
  const eager = await measure(model, false);
  const rep = await measure(model, true);
  const line =
    `${model}: eager CPU ${eager.cpu.toFixed(2)} ms, thread CPU ${eager.thread.toFixed(2)} (min ${eager.threadMin.toFixed(2)}) ms, host min ${eager.hostMin.toFixed(2)} (finish+submit ${eager.submitMin.toFixed(2)}) median ${eager.host.toFixed(2)} ms wall ${eager.wall.toFixed(1)} ms (${eager.dispatches.toFixed(0)} dispatches, ${eager.bindGroups} bind groups, ${eager.buffers} buffers /step) | ` +
    `replay CPU ${rep.cpu.toFixed(2)} ms, thread CPU ${rep.thread.toFixed(2)} (min ${rep.threadMin.toFixed(2)}) ms, host min ${rep.hostMin.toFixed(2)} (finish+submit ${rep.submitMin.toFixed(2)}) median ${rep.host.toFixed(2)} ms wall ${rep.wall.toFixed(1)} ms (${rep.dispatches.toFixed(0)} dispatches, ${rep.bindGroups} bind groups, ${rep.buffers} buffers /step, ${rep.replayed}/${steps} replayed, steps ${rep.outcomes}) | ` +
    `CPU ratio ${((100 * rep.cpu) / eager.cpu).toFixed(1)}%, thread CPU ratio ${((100 * rep.thread) / eager.thread).toFixed(1)}% (min ${((100 * rep.threadMin) / eager.threadMin).toFixed(1)}%), host ratio (min) ${((100 * rep.hostMin) / eager.hostMin).toFixed(1)}%, (median) ${((100 * rep.host) / eager.host).toFixed(1)}%${rep.reason ? ` | fallback: ${rep.reason}` : ''}`;
  console.log(line);
  rows.push(line);
}
process.exit(0);
