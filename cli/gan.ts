// `gan`: the command-line front end of the engine (built to dist/gan.mjs; `npm start` runs
// `gan train dcgan`). Subcommands live in cli/<name>.ts; this file only routes argv to them and
// turns failures into one line on stderr plus an exit code (1 runtime, 2 usage; see common.ts).

import { benchCommand } from './bench.js';
import { CliError, cliFlags, exampleModel, firstLine, out } from './common.js';
import { convertCommand } from './convert.js';
import { evalCommand } from './eval.js';
import { infoCommand } from './info.js';
import { sampleCommand } from './sample.js';
import { trainCommand } from './train.js';
import { upscaleCommand } from './upscale.js';

interface Subcommand {
  summary: string;
  run(argv: readonly string[]): Promise<number>;
}

const COMMANDS: Record<string, Subcommand> = {
  train: { summary: `train a model (e.g. \`gan train ${exampleModel()} --quick\`)`, run: trainCommand },
  sample: { summary: 'write a grid of samples from a checkpoint', run: sampleCommand },
  eval: { summary: 'sample-quality metrics for a checkpoint', run: evalCommand },
  info: { summary: 'show the WebGPU adapter, its limits and features, and the models', run: infoCommand },
  convert: { summary: 'PyTorch safetensors state_dict <-> engine checkpoint, with a key report', run: convertCommand },
  bench: { summary: 'run the kernel benchmark harness', run: benchCommand },
  upscale: { summary: 'super-resolve a PNG with a pretrained ESRGAN (UpscalerJS) generator', run: upscaleCommand },
};

function help(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    'Usage: gan <command> [options]',
    '',
    'A GAN engine for WebGPU: train the classic GAN papers on your GPU (Dawn in Node).',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}  ${c.summary}`),
    '',
    'Run `gan <command> --help` for its options. Exit codes: 0 ok, 1 failure, 2 usage error,',
    '130 / 143 a training run stopped by SIGINT / SIGTERM after saving its checkpoint.',
    '--verbose (anywhere before a lone --) also shows the notices the GPU driver prints at start-up.',
    '',
  ].join('\n');
}

/** A reader that goes away (`gan info | head -1`): stop quietly, as other command-line tools do. */
function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    throw e;
  });
}
quietOnClosedPipe(process.stdout);
quietOnClosedPipe(process.stderr);

/** Takes the global --verbose out of argv (up to a lone --). */
function globalFlags(argv: readonly string[]): string[] {
  const end = argv.indexOf('--');
  const head = end < 0 ? argv : argv.slice(0, end);
  if (head.includes('--verbose')) cliFlags.verbose = true;
  return [...head.filter((a) => a !== '--verbose'), ...(end < 0 ? [] : argv.slice(end))];
}

async function main(argvIn: readonly string[]): Promise<number> {
  const argv = globalFlags(argvIn);
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    out.line('gan 0.1.0');
    return 0;
  }
  const cmd = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!cmd) {
    const what = name.startsWith('-') ? `unknown option ${name}` : `unknown command '${name}'`;
    throw new CliError(`gan: ${what} (commands: ${Object.keys(COMMANDS).join(', ')}); see gan --help`, 2);
  }
  return cmd.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof CliError) {
      // One line, plus the indented details a few errors carry (a restore's list of problems).
      out.err(e.message.trimEnd());
      process.exitCode = e.exitCode;
      return;
    }
    // Anything else is unexpected: still one line, plus the stack when GAN_DEBUG is set.
    out.err(`gan: ${firstLine(e)}`);
    if (process.env.GAN_DEBUG && e instanceof Error && e.stack) out.err(e.stack);
    process.exitCode = 1;
  },
);
