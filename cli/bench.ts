// `gan bench`: runs the benchmark harness (bench/main.ts, built to dist/bench.mjs) with the same
// arguments, when it has been built; otherwise says how to get it. The harness is a separate bundle
// so the CLI does not carry its code (or tfjs) around.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, out } from './common.js';

const HELP = `Usage: gan bench [harness options]

Runs the benchmark harness (bench/main.ts). It is built separately: \`npm run bench\` builds and
runs it; after that, \`gan bench\` forwards its arguments to dist/bench.mjs (try \`gan bench --help\`).
`;

/** dist/bench.mjs beside this bundle (dist/gan.mjs), or under the working directory. */
function findHarness(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [join(here, 'bench.mjs'), resolve('dist', 'bench.mjs')]) if (existsSync(p)) return p;
  return null;
}

export async function benchCommand(argv: readonly string[]): Promise<number> {
  const harness = findHarness();
  if (!harness) {
    if (argv.includes('--help') || argv.includes('-h')) {
      out.line(HELP.trimEnd());
      return 0;
    }
    const src = resolve('bench', 'main.ts');
    throw new CliError(
      existsSync(src)
        ? 'gan bench: the harness is not built; run `npm run bench` (or `node scripts/build.mjs bench`) first'
        : 'gan bench: the benchmark harness (bench/main.ts) is not available in this build yet',
      1,
    );
  }
  return await new Promise<number>((resolvePromise) => {
    const child = spawn(process.execPath, [harness, ...argv], { stdio: 'inherit' });
    child.on('error', (e) => {
      out.err(`gan bench: cannot start ${harness}: ${e.message}`);
      resolvePromise(1);
    });
    child.on('close', (code, signal) => resolvePromise(code ?? (signal ? 1 : 0)));
  });
}
