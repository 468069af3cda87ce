// Command-line options shared by the two benchmark entry points: bench/main.ts (`npm run bench`,
// reduced suite by default) and bench/gpu_entry.ts (the GPU machine: full suite, a time budget).
// Each entry passes its own defaults; parsing uses the CLI's argument parser (cli/lib/args.ts).
// Node-only, like bench/node_io.ts (the page demos/bench/ has its own controls).

import { parseArgsOrExit, type ArgsSpec, type OptionSpec } from '../cli/lib/args.js';
import { suiteByName } from './suite.js';
import type { FileRunOptions } from './node_io.js';
import type { ValidationMode } from './validate.js';

export interface BenchDefaults {
  suite: 'reduced' | 'full';
  repeats: number;
  warmup: number;
  steps: number;
  stepWarmup: number;
  /** 0: no budget. */
  budgetS: number;
}

export function benchOptions(d: BenchDefaults) {
  return {
    suite: { type: 'string', default: d.suite, choices: ['reduced', 'full'], help: 'shape suite (bench/suite.ts)' },
    only: {
      type: 'string',
      metavar: 'IDS',
      help: 'comma list of case ids, groups (conv, norm, pyramid, adam, steps), id:pass, or step ids (dcgan_step, pix2pix, ...)',
    },
    json: { type: 'string', metavar: 'PATH', help: 'result file (default bench/results/<adapter>-<date>-<suite>.json)' },
    tfjs: { type: 'boolean', default: true, help: 'also run tfjs-webgpu on the same shapes (--no-tfjs: engine only)' },
    repeats: { type: 'int', default: d.repeats, help: 'timed repeats per pass (median reported)' },
    warmup: { type: 'int', default: d.warmup, help: 'untimed runs per pass first' },
    targetMs: { type: 'number', default: 20, help: 'wall time one repeat aims for (sets passes per repeat)' },
    maxInner: { type: 'int', default: 50, help: 'at most this many passes per repeat' },
    profile: {
      type: 'boolean',
      default: true,
      help: 'GPU time from timestamp queries where the adapter has them (--no-profile: wall clock only)',
    },
    validation: {
      type: 'string',
      default: 'auto',
      choices: ['auto', 'full', 'sampled'],
      help: 'whole CPU reference, a sample of elements, or full when cheap',
    },
    samples: { type: 'int', default: 2000, help: 'elements compared per output when sampling' },
    timeInvalid: { type: 'boolean', default: false, help: 'time passes whose validation failed too' },
    steps: { type: 'int', default: d.steps, help: 'timed training steps per model (0: skip the end-to-end steps)' },
    stepWarmup: { type: 'int', default: d.stepWarmup, help: 'untimed training steps first' },
    budgetS: { type: 'number', default: d.budgetS, metavar: 'S', help: 'time budget in seconds: no new case starts after it (0: none)' },
    seed: { type: 'int', default: 1, help: 'seed of the models built for the training steps' },
    esrgan: {
      type: 'string',
      default: 'auto',
      choices: ['auto', 'quick', 'full', 'off'],
      help: 'ESRGAN inference (UpscalerJS weights): quick = default-model x2 and slim x4 at 64 px, full = every model/scale at 64 and 256 px; auto = quick on software adapters, full on GPUs',
    },
    esrganSizes: { type: 'string', metavar: 'LIST', help: 'ESRGAN input sizes, comma list (default: 64 for quick, 64,256 for full)' },
    thick: {
      type: 'boolean',
      default: false,
      help: 'add esrgan-thick to the ESRGAN cases (npm install --no-save @upscalerjs/esrgan-thick first)',
    },
  } as const satisfies Record<string, OptionSpec>;
}

export function benchSpec(
  command: string,
  description: string,
  d: BenchDefaults,
  examples: string[],
): ArgsSpec & { options: ReturnType<typeof benchOptions> } {
  return { command, description, options: benchOptions(d), examples };
}

/** Parses argv (exits on --help or a bad option) into the runner's options. */
export function parseBenchArgs(
  argv: readonly string[],
  spec: ArgsSpec & { options: ReturnType<typeof benchOptions> },
  log: (l: string) => void,
): { run: Omit<FileRunOptions, 'savePath'>; json: string | undefined; budgetS: number } {
  const { options: a } = parseArgsOrExit(argv, spec);
  const suite = suiteByName(a.suite);
  const budgetS = a.budgetS > 0 ? a.budgetS : 0;
  const t0 = Date.now();
  const recorded: Record<string, unknown> = { ...a };
  return {
    json: a.json,
    budgetS,
    run: {
      suite,
      only: a.only
        ? a.only
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : [],
      tfjs: a.tfjs,
      time: {
        warmup: a.warmup,
        repeats: Math.max(1, a.repeats),
        targetMs: a.targetMs,
        maxInner: Math.max(1, a.maxInner),
        profile: a.profile,
      },
      validation: a.validation as ValidationMode,
      samples: a.samples,
      timeInvalid: a.timeInvalid,
      stepWarmup: a.stepWarmup,
      steps: a.steps,
      seed: a.seed,
      deadline: budgetS ? t0 + budgetS * 1000 : null,
      // The end-to-end steps get the last quarter of the budget (at most 3 minutes).
      stepsReserveMs: budgetS ? Math.min(180_000, budgetS * 250) : 0,
      log,
      recorded,
    },
  };
}
