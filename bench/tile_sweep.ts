// GEMM configuration sweep of the conv passes against tfjs-webgpu, on whatever adapter this runs on
// (written for the software adapters, where the machine is shared and noisy): every configuration
// of a pass, tfjs included, is timed once per round, rounds alternate the order, and the result
// keeps every sample, so ratios are taken between figures measured side by side.
//   node scripts/build.mjs tile-sweep && node dist/tile_sweep.mjs --rounds 5 --json bench/results/<name>.json
//   --only dcgan_d,unet_up1   --passes forward,input_grad   --choices auto,t32,t64/unrolled
// Times are GPU times from timestamp queries (engine: the profiler; tfjs: tf.time's kernelMs),
// summed over `reps` runs of the pass, per run. On a software adapter those are wall time of the
// adapter's worker threads, which a loaded machine stretches 2-20x by preemption; `--clock cpu`
// times instead the CPU time (Linux /proc/self/task/*/schedstat, ns) that every thread but the
// main one (the JavaScript host) spent over the same runs: the adapter's queue and worker threads. No validation here: forcing a tile or fetch variant does not change the
// arithmetic (tests/conv.test.ts covers every tile), and `npm run bench` validates the default choice.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { initEngine, getGpu, engine, tidy, type Tensor } from '../engine/index.js';
import { randn } from '../engine/ops/random.js';
import { setGemmOverride, type GemmOverride } from '../engine/ops/matmul.js';
import { GEMM_TILES, type GemmTileName } from '../shaders/matmul.js';
import { reducedSuite, fullSuite, type ConvCase, type ConvPass } from './suite.js';
import { createTfjs, tfjsConvPass, tfjsConvShapes, type TfjsHandle } from './tfjs.js';
import { enginePassFn } from './conv_pass.js';
import { napWhile } from '../engine/device.js';

interface Sample {
  id: string;
  pass: ConvPass;
  choice: string;
  round: number;
  ms: number;
  dispatches: number;
  kernels?: string;
  /** Wall ms of the first run of this choice (round 0 only): pipeline compilation plus one run. */
  firstMs?: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Every candidate: the picker's choice, then each tile with looped and unrolled staging. */
function allChoices(): [string, GemmOverride | null][] {
  const out: [string, GemmOverride | null][] = [['auto', null]];
  for (const t of Object.keys(GEMM_TILES) as GemmTileName[]) {
    out.push([t, { tile: t, looped: true }]);
    out.push([`${t}/unrolled`, { tile: t, looped: false }]);
  }
  out.push(['auto/nosplit', { splits: 1 }]);
  out.push(['tiled', { direct: false }]);
  for (const q of [1, 2, 4]) out.push([`direct${q}`, { direct: true, directRowGroups: q }]);
  return out;
}

const clock = arg('clock') ?? 'gpu';

/** CPU ns spent so far by every thread of this process but the main one (Linux only). */
function workerCpuNs(): number {
  let ns = 0;
  for (const t of readdirSync('/proc/self/task')) {
    if (Number(t) === process.pid) continue;
    try {
      ns += Number(readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return ns;
}

/** Runs `body` (which ends with its work finished) and returns the worker threads' CPU ms. */
async function cpuMs(body: () => Promise<void>): Promise<number> {
  const t0 = workerCpuNs();
  await body();
  return (workerCpuNs() - t0) / 1e6;
}

async function timeEngine(run: () => Tensor, reps: number): Promise<{ ms: number; dispatches: number; kernels: string; firstMs: number }> {
  const e = engine();
  await e.sync();
  const t0 = performance.now();
  tidy(() => void run());
  await e.sync();
  const firstMs = performance.now() - t0;
  if (clock === 'cpu') {
    const ms = await cpuMs(async () => {
      for (let i = 0; i < reps; i++) tidy(() => void run());
      await e.sync();
    });
    e.startProfile();
    tidy(() => void run());
    const recs = await e.stopProfile();
    return { ms: ms / reps, dispatches: recs.length, kernels: kernelNames(recs), firstMs };
  }
  e.startProfile();
  for (let i = 0; i < reps; i++) tidy(() => void run());
  const recs = await e.stopProfile();
  return { ms: recs.reduce((s, r) => s + r.ms, 0) / reps, dispatches: recs.length / reps, kernels: kernelNames(recs), firstMs };
}

function kernelNames(recs: { kernel: string }[]): string {
  return [
    ...new Set(
      recs.map((r) => r.kernel.replace(/^conv_gather\|.*?\|act=\w+\|/, 'gather|').replace(/^conv_wgrad\|.*?\|KW=\d+\|/, 'wgrad|')),
    ),
  ].join(' ');
}

async function timeTfjs(h: TfjsHandle, run: () => unknown, reps: number): Promise<number> {
  const { tf } = h;
  tf.tidy(() => void run());
  await h.sync();
  if (clock === 'cpu') {
    const ms = await cpuMs(async () => {
      for (let i = 0; i < reps; i++) tf.tidy(() => void run());
      await h.sync();
    });
    return ms / reps;
  }
  const info = await napWhile(
    tf.time(() => {
      for (let i = 0; i < reps; i++) tf.tidy(() => void run());
    }),
  );
  await h.sync();
  if (typeof info.kernelMs !== 'number') throw new Error(`tf.time: ${info.kernelMs.error}`);
  return info.kernelMs / reps;
}

async function main() {
  const e = await initEngine({ log: true });
  const gpu = await getGpu();
  const h = await createTfjs(gpu);
  const rounds = Number(arg('rounds') ?? 3);
  const reps = Number(arg('reps') ?? 3);
  const suite = arg('suite') === 'full' ? fullSuite : reducedSuite;
  const only = arg('only')?.split(',');
  const passes = (arg('passes')?.split(',') ?? ['forward', 'input_grad']) as ConvPass[];
  const wanted = arg('choices')?.split(',');
  const choices = allChoices().filter(([n]) => !wanted || wanted.includes(n));
  const out = arg('json') ?? 'tile-sweep.json';
  const samples: Sample[] = [];
  const t0 = Date.now();
  const save = (complete: boolean) =>
    writeFileSync(
      out,
      JSON.stringify(
        {
          adapter: e.adapter,
          tfjsAdapter: h.adapter,
          date: new Date().toISOString(),
          rounds,
          reps,
          clock,
          command: process.argv.slice(2).join(' '),
          suite: suite.name,
          complete,
          samples,
          summary: summarise(samples),
        },
        null,
        1,
      ),
    );
  for (const c of suite.convs.filter((c) => !only || only.includes(c.id))) {
    const inputs = engineInputs(c);
    const s = tfjsConvShapes(c);
    const tx = h.tf.randomNormal(s.x);
    const tw = h.tf.randomNormal(s.filter, 0, 0.05);
    const tdy = h.tf.randomNormal(s.y);
    for (const pass of passes) {
      const run = enginePassFn(c, pass, inputs.x, inputs.w, inputs.dy);
      const tfRun = () => tfjsConvPass(h.tf, c, pass, tx as never, tw as never, tdy as never);
      const all: [string, GemmOverride | null | 'tfjs'][] = [['tfjs', 'tfjs'], ...choices];
      for (let r = 0; r < rounds; r++) {
        // Rotate the order each round so no configuration always runs first or last.
        const order = all.map((_, i) => all[(i + r) % all.length]);
        for (const [name, o] of order) {
          try {
            if (o === 'tfjs') {
              samples.push({ id: c.id, pass, choice: name, round: r, ms: await timeTfjs(h, tfRun, reps), dispatches: 0 });
            } else {
              setGemmOverride(o);
              const t = await timeEngine(run, reps);
              samples.push({
                id: c.id,
                pass,
                choice: name,
                round: r,
                ms: t.ms,
                dispatches: t.dispatches,
                kernels: t.kernels,
                ...(r === 0 ? { firstMs: t.firstMs } : {}),
              });
            }
          } catch (err) {
            console.log(`${c.id} ${pass} ${name}: ${(err as Error).message.split('\n')[0]}`);
          } finally {
            setGemmOverride(null);
          }
        }
      }
      const sum = summarise(samples.filter((x) => x.id === c.id && x.pass === pass));
      for (const row of sum) {
        console.log(
          `${c.id.padEnd(13)} ${pass.padEnd(11)} ${row.choice.padEnd(18)} ${row.ms.toFixed(3).padStart(8)} ms (min ${row.minMs.toFixed(3).padStart(8)})  tfjs/this ${row.ratio.toFixed(2).padStart(5)}x` +
            `  first run ${row.firstMs === undefined ? '-' : row.firstMs.toFixed(0).padStart(6) + ' ms'}  ${row.kernels ?? ''}`,
        );
      }
      save(false);
      console.log(`  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
    inputs.x.dispose();
    inputs.w.dispose();
    inputs.dy.dispose();
    tx.dispose();
    tw.dispose();
    tdy.dispose();
  }
  save(true);
}

function engineInputs(c: ConvCase) {
  const xs = [c.n, c.cin, c.h, c.w];
  const ws = c.kind === 'conv2d' ? [c.cout, c.cin, c.k, c.k] : [c.cin, c.cout, c.k, c.k];
  const ys = [c.n, c.cout, c.hout, c.wout];
  return { x: randn(xs).keep(), w: randn(ws, { std: 0.05 }).keep(), dy: randn(ys).keep() };
}

/**
 * Per case, pass and choice: the median of its samples, and the median over rounds of tfjs's time
 * divided by this choice's time in the same round (a ratio of neighbours, robust to load drifting
 * between rounds).
 */
export function summarise(samples: Sample[]) {
  const keys = new Map<string, Sample[]>();
  for (const s of samples) {
    const k = `${s.id}|${s.pass}|${s.choice}`;
    if (!keys.has(k)) keys.set(k, []);
    keys.get(k)!.push(s);
  }
  const rows: {
    id: string;
    pass: ConvPass;
    choice: string;
    ms: number;
    minMs: number;
    ratio: number;
    firstMs?: number;
    kernels?: string;
  }[] = [];
  for (const list of keys.values()) {
    const { id, pass, choice, kernels } = list[0];
    const ratios: number[] = [];
    for (const s of list) {
      const tf = samples.find((x) => x.id === id && x.pass === pass && x.choice === 'tfjs' && x.round === s.round);
      if (tf) ratios.push(tf.ms / s.ms);
    }
    const firstMs = list.find((s) => s.firstMs !== undefined)?.firstMs;
    rows.push({
      id,
      pass,
      choice,
      ms: median(list.map((s) => s.ms)),
      minMs: Math.min(...list.map((s) => s.ms)),
      ratio: ratios.length ? median(ratios) : NaN,
      firstMs,
      kernels,
    });
  }
  return rows;
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
