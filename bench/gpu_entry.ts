// The one script to run on a GPU machine: the full suite, engine and tfjs-webgpu side by side,
// every pass validated against the CPU reference before it is timed, all results to one JSON file.
//
// Pack and run (see ../shared/gpu/README.md beside the repository; run.sh runs from .gpu/, so give --json an absolute
// path):
//   ../shared/gpu/pack.sh bench/gpu_entry.ts
//   device tool: carry [".gpu"], timeout_s 540,
//     command: bash .gpu/run.sh gpu_entry.mjs --json $OUT/bench.json --budget-s 400
//
// Built to finish: --budget-s (default 400) stops new cases when it is spent (passes stop early
// enough to leave the end-to-end steps a quarter of it), a failing case is recorded and the run
// goes on, the JSON is rewritten after every case (complete: false until the end), and a watchdog
// exits 60 s past the budget even if a GPU call hangs, leaving the file of the last finished case.
// Same options as `npm run bench` otherwise (--help); defaults here: full suite, 7 repeats after
// 3 warm-up, 5 training steps after 2, then the ESRGAN inference cases (--esrgan, bench/esrgan.ts).

import { benchSpec, parseBenchArgs } from './options.js';
import { runBenchToFile } from './node_io.js';
import { defaultResultPath } from './report.js';
import { errorLine } from './engine_side.js';
import { runEsrganNode } from './esrgan_node.js';

const SPEC = benchSpec(
  'gpu_entry.mjs',
  'Full benchmark for a GPU machine: engine and tfjs-webgpu, validation first, JSON results, time budget.',
  { suite: 'full', repeats: 7, warmup: 3, steps: 5, stepWarmup: 2, budgetS: 400 },
  ['bash .gpu/run.sh gpu_entry.mjs --json $OUT/bench.json --budget-s 400'],
);

/** Past the budget by this much, the watchdog ends the process. */
const WATCHDOG_GRACE_MS = 60_000;

async function main(argv: string[]): Promise<number> {
  const t0 = Date.now();
  const log = (l: string) => process.stdout.write(l + '\n');
  const { run, json, budgetS } = parseBenchArgs(argv, SPEC, log);
  if (budgetS) {
    const watchdog = setTimeout(
      () => {
        log(
          `gpu_entry: watchdog: ${((Date.now() - t0) / 1000).toFixed(0)} s, past the ${budgetS} s budget; exiting with the results written so far`,
        );
        process.exit(3);
      },
      budgetS * 1000 + WATCHDOG_GRACE_MS,
    );
    watchdog.unref();
  }
  // A stray rejection (a GPU callback after a case already failed) must not end the run.
  process.on('unhandledRejection', (reason) => log(`gpu_entry: unhandled rejection (run continues): ${errorLine(reason)}`));
  log(
    `gpu_entry: suite ${run.suite.name}, budget ${budgetS || 'none'} s, ${run.time.repeats} repeats after ${run.time.warmup} warm-up, tfjs ${run.tfjs ? 'on' : 'off'}`,
  );
  const report = await runBenchToFile({ ...run, savePath: json ?? defaultResultPath });
  // UpscalerJS ESRGAN inference (every model/scale at 64 and 256 px on a GPU; the packages must be
  // in node_modules), into the same file; no case starts later than 40 s past the budget.
  await runEsrganNode(report, run, log, budgetS ? t0 + budgetS * 1000 + 40_000 : null);
  log(`gpu_entry: results ${String(report.options.json)} (${report.elapsed_s.toFixed(0)} s, complete)`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`gpu_entry: ${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  },
);
