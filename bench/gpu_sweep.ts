// GEMM tile sweep for the conv passes of the full suite, for tuning pickGemmConfig on a real GPU.
// For each conv case and pass, times the engine's choice and then every tile shape forced with
// setGemmOverride (split-K left to the heuristic, then also forced off), with timestamp queries.
// No validation here (bench/gpu_entry.ts validates every pass with the default choice; forcing a
// tile does not change the arithmetic, and tests/conv.test.ts covers every tile on small shapes).
//   ../shared/gpu/pack.sh bench/gpu_sweep.ts
//   device: bash .gpu/run.sh gpu_sweep.mjs --json $OUT/sweep.json
import { writeFileSync } from 'node:fs';
import { initEngine, engine, tidy, type Tensor } from '../engine/index.js';
import { randn } from '../engine/ops/random.js';
import { enginePassFn as passFn } from './conv_pass.js';
import { setGemmOverride, type GemmOverride } from '../engine/ops/matmul.js';
import { GEMM_TILES, type GemmTileName } from '../shaders/matmul.js';
import { fullSuite, reducedSuite, type ConvPass } from './suite.js';

interface Row {
  id: string;
  pass: ConvPass;
  choice: string;
  ms: number;
  tflops: number;
  dispatches: number;
}

async function timeIt(run: () => Tensor, reps: number): Promise<{ ms: number; dispatches: number }> {
  const e = engine();
  for (let i = 0; i < 2; i++) tidy(() => void run());
  await e.sync();
  e.startProfile();
  for (let i = 0; i < reps; i++) tidy(() => void run());
  const recs = await e.stopProfile();
  const total = recs.reduce((s, r) => s + r.ms, 0);
  return { ms: total / reps, dispatches: recs.length / reps };
}

async function main() {
  const jsonIdx = process.argv.indexOf('--json');
  const out = jsonIdx > 0 ? process.argv[jsonIdx + 1] : 'sweep.json';
  const e = await initEngine({ log: true });
  const rows: Row[] = [];
  const t0 = Date.now();
  const bIdx = process.argv.indexOf('--budget-s');
  const budgetMs = (bIdx > 0 ? Number(process.argv[bIdx + 1]) : 150) * 1000;
  const choices: [string, GemmOverride | null][] = [['auto', null]];
  for (const t of Object.keys(GEMM_TILES) as GemmTileName[]) {
    choices.push([t, { tile: t }]);
    choices.push([`${t}/nosplit`, { tile: t, splits: 1 }]);
  }
  const suite = process.argv.includes('--reduced') ? reducedSuite : fullSuite;
  for (const c of suite.convs) {
    const xs = [c.n, c.cin, c.h, c.w];
    const ws = c.kind === 'conv2d' ? [c.cout, c.cin, c.k, c.k] : [c.cin, c.cout, c.k, c.k];
    const ys = [c.n, c.cout, c.hout, c.wout];
    const x = randn(xs).keep();
    const w = randn(ws, { std: 0.05 }).keep();
    const dy = randn(ys).keep();
    for (const pass of ['forward', 'input_grad', 'weight_grad'] as ConvPass[]) {
      const run = passFn(c, pass, x, w, dy);
      for (const [name, o] of choices) {
        if (Date.now() - t0 > budgetMs) break;
        setGemmOverride(o);
        try {
          const { ms, dispatches } = await timeIt(run, 5);
          const row = { id: c.id, pass, choice: name, ms, tflops: c.flops(pass) / ms / 1e9, dispatches };
          rows.push(row);
          console.log(
            `${c.id.padEnd(14)} ${pass.padEnd(12)} ${name.padEnd(18)} ${ms.toFixed(4).padStart(9)} ms ${row.tflops.toFixed(2).padStart(7)} TFLOP/s (${dispatches} disp)`,
          );
        } catch (err) {
          console.log(`${c.id} ${pass} ${name}: ${(err as Error).message.split('\n')[0]}`);
        }
        setGemmOverride(null);
      }
      writeFileSync(out, JSON.stringify({ adapter: e.adapter, rows }, null, 1));
    }
    x.dispose();
    w.dispose();
    dy.dispose();
  }
  writeFileSync(out, JSON.stringify({ adapter: e.adapter, rows, complete: true }, null, 1));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
