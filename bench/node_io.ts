// The Node-only parts of the benchmark, kept out of the modules the page demos/bench/ bundles:
//   runBenchToFile()  bench/runner.ts's runBench with this machine's host info (node:os) and the
//                     report written to a JSON file after every case and at the end (node:fs);
//   loadReport()      a result file from disk;
//   compareMain()     the `compare A.json B.json` subcommand of dist/bench.mjs.
// The CLI options are in bench/options.ts; the entry points are bench/main.ts (`npm run bench`)
// and bench/gpu_entry.ts (the GPU machine).

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname } from 'node:path';
import { compareReports } from './compare.js';
import { parseReport, type BenchReport, type HostInfo } from './report.js';
import { runBench, type RunOptions } from './runner.js';

export function nodeHostInfo(): HostInfo {
  const cpus = os.cpus();
  return { node: process.version, platform: process.platform, arch: process.arch, cpus: cpus.length, cpu_model: cpus[0]?.model ?? '' };
}

export interface FileRunOptions extends Omit<RunOptions, 'host' | 'onStart' | 'onUpdate'> {
  /**
   * Where the report is written, after every case (complete: false) and at the end; a function
   * gets the report (adapter known) and names the file; null: not written.
   */
  savePath: string | ((r: BenchReport) => string) | null;
  host?: HostInfo;
}

/** Writes the report as bench/results/*.json files are written (1-space indent, final newline). */
export function writeReport(path: string, r: BenchReport): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(r, null, 1) + '\n');
}

/** runBench on this machine, the report kept in a file (its path recorded as options.json). */
export function runBenchToFile(o: FileRunOptions): Promise<BenchReport> {
  const { savePath, ...rest } = o;
  let path: string | null = null;
  return runBench({
    ...rest,
    host: o.host ?? nodeHostInfo(),
    onStart: (r) => {
      path = typeof savePath === 'function' ? savePath(r) : savePath;
      r.options.json = path;
      if (path) o.log(`results will be written to ${path}`);
    },
    onUpdate: (r) => {
      if (path) writeReport(path, r);
    },
  });
}

export function loadReport(path: string): BenchReport {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`compare: cannot read ${path}: ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    return parseReport(text, path);
  } catch (e) {
    throw new Error(`compare: ${(e as Error).message}`);
  }
}

/** `compare A.json B.json`: prints the comparison; returns the exit code. */
export function compareMain(argv: readonly string[]): number {
  if (argv.length !== 2 || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(
      'Usage: node dist/bench.mjs compare A.json B.json\n\nPrints per-case/pass ratios B/A of two benchmark result files.\n',
    );
    return argv.length === 2 ? 0 : 2;
  }
  try {
    const a = loadReport(argv[0]);
    const b = loadReport(argv[1]);
    process.stdout.write(compareReports(a, b).join('\n') + '\n');
    return 0;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
}
