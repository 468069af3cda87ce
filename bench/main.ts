// `npm run bench` (built to dist/bench.mjs): the engine against tfjs-webgpu on the shape suite of
// bench/suite.ts, on whatever adapter Dawn finds (lavapipe here, a real GPU elsewhere).
//
//   node dist/bench.mjs [--suite reduced|full] [--only ids] [--json path] [--no-tfjs]
//                       [--repeats N] [--warmup N] ...          (--help lists them all)
//   node dist/bench.mjs compare A.json B.json                    ratios per case/pass
//
// Each pass is validated against the CPU float64 reference before it is timed (bench/validate.ts),
// then timed on both sides in the same process (bench/engine_side.ts, bench/tfjs.ts); the table
// prints as rows land and the whole report goes to bench/results/<adapter>-<date>-<suite>.json.
// Exit status 1 when an engine pass failed or gave a wrong result; skipped passes (an op not yet
// in the tree) do not count as failures.

import { benchSpec, parseBenchArgs } from './options.js';
import { compareMain, runBenchToFile } from './node_io.js';
import { defaultResultPath } from './report.js';
import { runEsrganNode } from './esrgan_node.js';

const SPEC = benchSpec(
  'node dist/bench.mjs',
  'Benchmarks the engine and tfjs-webgpu on the GAN shape suite (validation first, then timing).\n' +
    'Subcommand: `compare A.json B.json` prints per-case ratios of two result files.',
  { suite: 'reduced', repeats: 5, warmup: 2, steps: 3, stepWarmup: 1, budgetS: 0 },
  [
    'npm run bench                                   # reduced suite, a few minutes on a software adapter',
    'node dist/bench.mjs --suite full --json out.json',
    'node dist/bench.mjs --only conv --no-tfjs',
    'node dist/bench.mjs --only esrgan --esrgan full          # UpscalerJS ESRGAN inference only, every model/scale',
    'node dist/bench.mjs --only cyclegan_res:weight_grad,dcgan_step',
    'node dist/bench.mjs compare bench/results/a.json bench/results/b.json',
  ],
);

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'compare') return compareMain(argv.slice(1));
  const log = (l: string) => process.stdout.write(l + '\n');
  const { run, json } = parseBenchArgs(argv, SPEC, log);
  log(`bench: suite ${run.suite.name}, ${run.time.repeats} repeats after ${run.time.warmup} warm-up, tfjs ${run.tfjs ? 'on' : 'off'}`);
  const report = await runBenchToFile({ ...run, savePath: json ?? defaultResultPath });
  // UpscalerJS ESRGAN inference after the kernel suite, into the same report file.
  const esrgan = await runEsrganNode(report, run, log);
  log(`results: ${String(report.options.json)}  (${report.elapsed_s.toFixed(0)} s)`);
  const bad = report.passes.filter((p) => p.engine.status === 'invalid' || p.engine.status === 'failed');
  const badSteps = report.steps.filter((s) => s.engine.status === 'failed');
  const badEsrgan = esrgan.filter((r) => r.engine.status === 'failed');
  return bad.length || badSteps.length || badEsrgan.length ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench: ${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  },
);
