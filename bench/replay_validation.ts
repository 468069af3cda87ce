// A training step's host CPU, eager and replayed, with Dawn's validation on and off (the opt-in
// initEngine({ unsafeSkipValidation: true })), the four measured side by side in one process: two
// engines (one per Dawn instance), an eager trainer and a replayed one on each, stepped in turn,
// the order rotated every step, so that load drifts on a shared machine fall on all four alike
// (bench/replay_step.ts measures one path after another; its rounds moved by 2x at load 7-9).
//   npx esbuild bench/replay_validation.ts --bundle --platform=node --format=esm --external:webgpu \
//     --outfile=.prof/replay_validation.mjs && node .prof/replay_validation.mjs [steps] [model]
// model: cyclegan32 (default; CycleGAN ResNet-9, 32 px, the sizes of bench/replay_step.ts) or dcgan.
// Per step: the main thread's CPU time (schedstat after a getrusage refresh, as replay_step.ts)
// and the process's (process.cpuUsage: Dawn's, lavapipe's and V8's other threads too) over
// step() + flush(), submitEvery = 0, each step followed by sync(); medians of the measured steps
// after 5 warm-up steps (the replayed trainers replay from their 4th step).
import { readFileSync } from 'node:fs';
import { initEngine, setEngine, describeAdapter, validatesCommands, type Engine } from '../engine/device.js';
import type { Tensor } from '../engine/tensor.js';
import { replayed, type ReplayedTrainer } from '../nets/lib/step.js';
import { REPLAY_MODELS, stepTrainer, threadCpuMs } from './step_setup.js';

const steps = Number(process.argv[2] ?? 15);
const model = process.argv[3] ?? 'cyclegan32';
if (!REPLAY_MODELS[model])
  throw new Error(`replay_validation: model '${model}' unknown; use one of ${Object.keys(REPLAY_MODELS).join(', ')}`);

interface Runner {
  name: string;
  e: Engine;
  r: ReplayedTrainer;
  real: Tensor;
  thread: number[];
  cpu: number[];
  outcomes: string;
}

function make(e: Engine, replay: boolean, name: string): Runner {
  setEngine(e);
  const { t, real } = stepTrainer(REPLAY_MODELS[model]);
  return { name, e, r: replayed(t, { enabled: replay }), real, thread: [], cpu: [], outcomes: '' };
}

const on = await initEngine();
const off = await initEngine({ unsafeSkipValidation: true, log: () => {} });
for (const e of [on, off]) e.submitEvery = 0;
const [vOn, vOff] = [await validatesCommands(on.device), await validatesCommands(off.device)];
const runners = [
  make(on, false, 'eager, validation on'),
  make(on, true, 'replay, validation on'),
  make(off, false, 'eager, validation off'),
  make(off, true, 'replay, validation off'),
];
const load0 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
for (let s = 0; s < 5 + steps; s++) {
  for (let j = 0; j < runners.length; j++) {
    const x = runners[(s + j) % runners.length];
    setEngine(x.e);
    const th0 = threadCpuMs();
    const u0 = process.cpuUsage();
    x.r.step(x.real, false);
    x.e.flush();
    const u1 = process.cpuUsage(u0);
    const th1 = threadCpuMs();
    await x.e.sync();
    if (s >= 5) {
      x.thread.push(th1 - th0);
      x.cpu.push((u1.user + u1.system) / 1000);
    }
    x.outcomes += (x.r.lastOutcome ?? 'eager')[0];
  }
}
const load1 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const med = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
console.log(
  `adapter: ${describeAdapter(on.adapter)}; ${model}; ${steps} measured steps per path after 5 warm-up, the four paths in turn; ` +
    `Dawn validation ${vOn ? 'on' : 'OFF'} / ${vOff ? 'ON' : 'off'} (3-byte copy probe); load ${load0} -> ${load1}`,
);
const eagerOf = (x: Runner) => runners.find((y) => y.e === x.e && y !== x)!;
for (const x of runners) {
  const [th, cpu] = [med(x.thread), med(x.cpu)];
  const replay = x.name.startsWith('replay');
  const ratio = replay
    ? ` | / eager: thread ${((100 * th) / med(eagerOf(x).thread)).toFixed(1)}%, process ${((100 * cpu) / med(eagerOf(x).cpu)).toFixed(1)}%`
    : '';
  console.log(
    `${x.name.padEnd(24)} main-thread CPU ${th.toFixed(2)} ms (min ${Math.min(...x.thread).toFixed(2)}), process CPU ${cpu.toFixed(2)} ms (min ${Math.min(...x.cpu).toFixed(2)})${ratio} | steps ${x.outcomes}`,
  );
}
const [rOn, rOff] = [runners[1], runners[3]];
console.log(
  `replay, validation off / on: main-thread ${((100 * med(rOff.thread)) / med(rOn.thread)).toFixed(1)}%, process ${((100 * med(rOff.cpu)) / med(rOn.cpu)).toFixed(1)}%`,
);
process.exit(0);
