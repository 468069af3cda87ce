// `gan train <model>`: the training loop shared by every registered model.
//
//   data (data/loader.ts, seeded per-epoch shuffles) -> trainer.step() (nets/<model>.ts)
//   every --log-every steps: read the step's statistics back in one readback, append metrics.jsonl
//   every --sample-every steps: an 8x8 grid from a fixed noise batch -> samples/step_XXXXX.png;
//     image-to-image models (recipes with TranslationEval hooks, nets/lib/translation.ts, merged with the
//     Node-side ones by cli/heldout.ts as for `gan eval`) instead show a fixed held-out batch as rows
//     of input | output | target (multi-domain translators: held-out images translated into every
//     domain, over their ground truth), and log L1 / PSNR / SSIM on it to metrics.jsonl ({"step", "heldout_n",
//     "heldout_l1", "heldout_psnr", "heldout_ssim"} lines, also at step 0 and at the end; the loss
//     lines are separate)
//   every --ckpt-every steps and at the end: checkpoint.safetensors (atomic), final.png at the end
//
// --batch 1 (the setting of several image-to-image papers) is allowed; a model whose ops cannot train on
// one example (batch norm over a single value per channel)
// stops at its first step with a usage error that says so.
//
// --resume continues a run exactly: the checkpoint holds the networks, optimizer moments, the noise
// generator's counter and the loader's position, so the resumed losses equal an uninterrupted
// run's. --lr / --beta1 / --beta2 on a resume replace the checkpoint's optimiser settings (said on
// stderr, recorded in run.json and the next checkpoint); flags a resume cannot honour (architecture,
// seed, batch, dataset, limit) are refused.
//
// Safety (see README "What a run does when things go wrong"):
//   SIGINT / SIGTERM finish the current step, save a checkpoint, print the resume command and exit
//     130 / 143 (a second signal quits at once; the previous checkpoint stays).
//   Every save first checks all parameters, buffers and optimiser state on the GPU (one readback):
//     non-finite values stop the run with exit 1, naming the first bad tensors and the step, and the
//     last good checkpoint.safetensors is kept.
//   A run folder that already holds a run is refused unless resumed or given --force; while a run
//     writes a folder it holds <out>/.gan-train.lock, so a second run cannot write the same folder;
//     temp files of a save killed mid-write (kill -9) are removed at the next run in that folder.

import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  appendFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { formatHelp, kebab, type ArgsSpec, type OptionSpec } from './lib/args.js';
import { Progress, formatDuration } from './lib/progress.js';
import { describeAdapter, engine } from '../engine/device.js';
import { empty, tensor, type Tensor } from '../engine/tensor.js';
import { Generator } from '../engine/ops/random.js';
import { DataLoader } from '../data/loader.js';
import { makeGrid } from '../data/grid.js';
import { writePng } from '../data/png_node.js';
import { getRecipe, recipes, type GanTrainer, type ModelConfig, type ModelRecipe, type TrainSettings } from '../nets/registry.js';
import { nonFinite } from '../nets/lib/stats.js';
import { replayed } from '../nets/lib/step.js';
import { StepPipeline, type Logged } from '../nets/lib/pipeline.js';
import { firstPairs, ssimWindowFor, translationGrid, type HeldOutPairs, type TranslationEval } from '../nets/lib/translation.js';
import { imageMetrics } from '../metrics/image.js';
import { domainGrid, heldOutDomains, heldOutHooksOf, type HeldOutDomains } from './heldout.js'; // importing it registers the emoji test splits as the held-out source
import { DATASETS, loadDataset } from './datasets.js';
import {
  CliError,
  acquireEngine,
  checkRange,
  defaultRunDir,
  ensureDir,
  firstLine,
  out,
  parseOrHelp,
  samplePath,
  usageError,
} from './common.js';
import { loadRunCheckpoint, restoreTrainer, saveRunCheckpoint, type LoadedCheckpoint } from './checkpoint_io.js';
import { NonFiniteCheckpointError } from '../engine/checkpoint.js';
import { describeNonFinite } from '../engine/finite.js';
import { describeFsError, removeStaleTempFiles } from '../engine/io/files.js';
import type { HyperValue } from '../engine/optim.js';
import { expandZooRecipe, gitProvenance } from './zoo.js';

/** Options every model's train command has; their defaults come from the recipe. */
function commonOptions(r: ModelRecipe) {
  const t = r.train;
  return {
    dataset: { type: 'string', default: t.dataset, choices: Object.keys(DATASETS), help: 'training data' },
    steps: { type: 'int', default: t.steps, help: 'total training steps (with --resume: the new total)', metavar: 'N' },
    batch: { type: 'int', default: t.batch, help: 'batch size', metavar: 'N' },
    lr: { type: 'number', default: t.lr, help: 'Adam learning rate (both networks)' },
    beta1: { type: 'number', default: t.beta1, help: 'Adam beta1' },
    beta2: { type: 'number', default: t.beta2, help: 'Adam beta2' },
    seed: { type: 'int', default: 1, help: 'seed for initialisation, noise and data order', metavar: 'N' },
    out: {
      type: 'string',
      metavar: 'DIR',
      help: `run directory (default runs/${r.name}-<timestamp>; with --resume, the checkpoint's directory)`,
    },
    sampleEvery: { type: 'int', default: t.sampleEvery, help: 'write an 8x8 sample grid every N steps (0: only at the end)', metavar: 'N' },
    ckptEvery: { type: 'int', default: t.ckptEvery, help: 'save the checkpoint every N steps (0: only at the end)', metavar: 'N' },
    logEvery: { type: 'int', default: t.logEvery, help: 'read losses back and log them every N steps', metavar: 'N' },
    limit: { type: 'int', default: 0, help: 'use only the first N training images (0: all)', metavar: 'N' },
    resume: {
      type: 'string',
      metavar: 'CKPT',
      help: 'continue a run from its checkpoint.safetensors (--lr, --beta1, --beta2 replace its optimiser settings)',
    },
    replay: {
      type: 'boolean',
      default: true,
      help: 'replay the recorded step once two eager steps agree (default on; the same bits, less host work: docs/engine.md)',
    },
    skipValidation: {
      type: 'boolean',
      help:
        "turn Dawn's per-command validation off for this run (Node only; less host CPU per replayed step, about half on a software adapter: " +
        'bench/NOTES.md). Unsafe: a malformed GPU command is undefined behaviour instead of an error; meant for long replayed runs of ' +
        'models the test suite covers (a warning says so)',
    },
    force: {
      type: 'boolean',
      help: 'start a new run in an --out folder that already holds one, replacing its checkpoint, metrics and samples',
    },
    quick: { type: 'boolean', help: `a small preset that finishes in a minute or two on a software adapter (${describePreset(r.quick)})` },
    paper: {
      type: 'boolean',
      help: `the paper's own hyper-parameters, sources in docs/hyperparameters.md (${describePreset(r.paper.values) || 'the same as the defaults'})`,
    },
    recipe: {
      type: 'string',
      choices: ['zoo'],
      metavar: 'NAME',
      help: `zoo: the trained-model zoo's run, the flags in zoo/${r.name}/recipe.json (docs/zoo.md; flags given here replace the recipe's)`,
    },
  } satisfies Record<string, OptionSpec>;
}

/** --replay is on by default: the last of --replay / --no-replay / --replay=<bool> wins (the parser reads an absent boolean as false). */
function replayFlag(argv: readonly string[]): boolean {
  let on = true;
  for (const a of argv) {
    if (a === '--') break;
    if (a === '--no-replay') on = false;
    else if (a === '--replay') on = true;
    else if (a.startsWith('--replay=')) on = !['false', '0', 'no', 'off'].includes(a.slice('--replay='.length));
  }
  return on;
}

function describePreset(p: Record<string, unknown>): string {
  return Object.entries(p)
    .map(([k, v]) => `--${kebab(k)} ${v}`)
    .join(' ');
}

const SETTING_KEYS = ['steps', 'batch', 'lr', 'beta1', 'beta2', 'sampleEvery', 'ckptEvery', 'logEvery', 'dataset'] as const;

function specFor(r: ModelRecipe, withDefaults: boolean): ArgsSpec {
  const options: Record<string, OptionSpec> = { ...commonOptions(r), ...r.options };
  const strip = (o: OptionSpec): OptionSpec => {
    const { default: _d, ...rest } = o;
    void _d;
    return rest;
  };
  return {
    command: `gan train ${r.name}`,
    description: `Train ${r.description}.\nReference: ${r.reference}`,
    options: withDefaults ? options : Object.fromEntries(Object.entries(options).map(([k, o]) => [k, strip(o)])),
    examples: [
      `gan train ${r.name}                       # the default run (MNIST), outputs under runs/`,
      `gan train ${r.name} --quick               # a one-minute smoke run`,
      `gan train ${r.name} --paper               # the paper's hyper-parameters (docs/hyperparameters.md)`,
      `gan train ${r.name} --resume runs/<run>/checkpoint.safetensors --steps 2000`,
    ],
  };
}

const TRAIN_HELP = `Usage: gan train <model> [options]

Train a model; outputs (sample grids, metrics.jsonl, checkpoint.safetensors, final.png) go to a run
directory under runs/. Models: ${Object.keys(recipes).join(', ')}.
Run \`gan train <model> --help\` for the model's options.
`;

/** Which set of defaults a run started from: the recipe's own, --quick's or --paper's (explicit flags override any). */
export type Preset = 'full' | 'quick' | 'paper' | 'zoo';

export interface Resolved {
  recipe: ModelRecipe;
  /** The preset the run was set up with (a resumed run: its first run's, from its run.json; null if unknown). */
  preset: Preset | null;
  config: ModelConfig;
  settings: TrainSettings;
  seed: number;
  limit: number;
  outDir: string;
  resume: { path: string; ck: LoadedCheckpoint } | null;
  /** Optimiser flags given on a resume that differ from the checkpoint's (applied over its state). */
  changedHyper: ('lr' | 'beta1' | 'beta2')[];
  force: boolean;
  /** Recorded-step replay (on unless --no-replay). */
  replay: boolean;
  /** --skip-validation: Dawn's skip_validation toggle (initEngine's unsafeSkipValidation). */
  skipValidation: boolean;
  /** The command line as given (before --recipe zoo was expanded), recorded in run.json. */
  argv: string[];
  /** The commit of the working directory when the command started (null outside a git checkout). */
  provenance: { commit: string; dirty: boolean } | null;
}

/**
 * Defaults < the --quick or --paper preset < explicit flags; with --resume the checkpoint's run
 * replaces the defaults. Reads nothing but a resumed checkpoint (and its run.json), so tests can
 * check what a command line resolves to without training.
 */
export async function resolveTrainRun(recipe: ModelRecipe, argv: readonly string[]): Promise<Resolved | null> {
  const full = specFor(recipe, true);
  const given0 = [...argv];
  argv = expandZooRecipe(full.command, recipe.name, argv);
  // Parsed without defaults, so that what the user typed can be told from what the defaults say
  // (the --quick / --paper preset and a resumed checkpoint sit between the two). trainCommand handled --help.
  const parsed = parseOrHelp(argv, specFor(recipe, false));
  if (!parsed) return null;
  const cmd = full.command;
  const given = parsed.options as Record<string, string | number | boolean | undefined>;
  const explicit = Object.fromEntries(
    Object.entries(given).filter(([k, v]) => v !== undefined && !(full.options[k].type === 'boolean' && v === false)),
  );
  if (given.quick && given.paper)
    throw usageError(cmd, "--quick and --paper are two different presets (a smoke run, the paper's settings); pass one of them");
  if (given.recipe && (given.quick || given.paper))
    throw usageError(cmd, `--recipe zoo and --${given.quick ? 'quick' : 'paper'} are two different presets; pass one of them`);
  if (given.recipe && given.resume)
    throw usageError(cmd, "--recipe zoo sets up a new run; a resumed run keeps its checkpoint's settings (drop --recipe)");
  const presetName: Preset = given.recipe ? 'zoo' : given.quick ? 'quick' : given.paper ? 'paper' : 'full';
  const preset: Record<string, unknown> = given.quick ? recipe.quick : given.paper ? recipe.paper.values : {};
  const pick = (keys: readonly string[], src: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(src).filter(([k]) => keys.includes(k)));
  const modelKeys = Object.keys(recipe.options);

  let config: ModelConfig;
  let settings: TrainSettings;
  let seed: number;
  let resume: Resolved['resume'] = null;
  const changedHyper: Resolved['changedHyper'] = [];
  if (typeof explicit.resume === 'string') {
    if (given.quick || given.paper)
      throw usageError(cmd, `--${given.quick ? 'quick' : 'paper'} sets up a new run; a resumed run keeps its checkpoint's settings`);
    const path = resolve(explicit.resume);
    const ck = await loadRunCheckpoint(cmd, path);
    if (ck.info.model !== recipe.name)
      throw usageError(cmd, `--resume: '${explicit.resume}' is a ${ck.info.model} checkpoint, not ${recipe.name}`);
    for (const k of modelKeys) {
      if (explicit[k] !== undefined && explicit[k] !== ck.info.config[k]) {
        throw usageError(
          cmd,
          `--${kebab(k)} ${explicit[k]} differs from the checkpoint's ${ck.info.config[k]} (a resumed run keeps its architecture)`,
        );
      }
    }
    if (explicit.seed !== undefined && explicit.seed !== ck.info.seed)
      throw usageError(cmd, `--seed ${explicit.seed} differs from the checkpoint's ${ck.info.seed}`);
    for (const k of ['batch', 'dataset'] as const) {
      if (explicit[k] !== undefined && explicit[k] !== ck.info.settings[k]) {
        throw usageError(cmd, `--${k} ${explicit[k]} differs from the checkpoint's ${ck.info.settings[k]} (the data order would change)`);
      }
    }
    if (explicit.limit !== undefined && explicit.limit !== ck.info.limit) {
      throw usageError(cmd, `--limit ${explicit.limit} differs from the checkpoint's ${ck.info.limit} (the data order would change)`);
    }
    if (given.force) throw usageError(cmd, '--force starts a new run; --resume continues one (it writes into its own folder without it)');
    config = { ...ck.info.config };
    settings = { ...recipe.train, ...ck.info.settings, ...pick(SETTING_KEYS, explicit) } as TrainSettings;
    for (const k of ['lr', 'beta1', 'beta2'] as const) {
      if (explicit[k] !== undefined && explicit[k] !== ck.info.settings[k]) changedHyper.push(k);
    }
    seed = ck.info.seed;
    resume = { path, ck };
  } else {
    const defaults = Object.fromEntries(modelKeys.map((k) => [k, recipe.options[k].default as number | string | boolean]));
    config = { ...defaults, ...pick(modelKeys, preset), ...pick(modelKeys, explicit) } as ModelConfig;
    settings = { ...recipe.train, ...pick(SETTING_KEYS, preset), ...pick(SETTING_KEYS, explicit) } as TrainSettings;
    seed = Number(explicit.seed ?? 1);
    if (recipe.adaptToData) config = recipe.adaptToData(config, { channels: DATASETS[settings.dataset].channels });
  }

  checkRange(cmd, 'steps', settings.steps, 1, 1e9, 'an integer');
  checkRange(cmd, 'batch', settings.batch, 1, 4096, 'an integer');
  checkRange(cmd, 'lr', settings.lr, 1e-12, 10);
  checkRange(cmd, 'beta1', settings.beta1, 0, 0.999999);
  checkRange(cmd, 'beta2', settings.beta2, 0, 0.999999);
  checkRange(cmd, 'sample-every', settings.sampleEvery, 0);
  checkRange(cmd, 'ckpt-every', settings.ckptEvery, 0);
  checkRange(cmd, 'log-every', settings.logEvery, 1);
  checkRange(cmd, 'seed', seed, 0, Number.MAX_SAFE_INTEGER, 'an integer');
  const limit = Number(explicit.limit ?? resume?.ck.info.limit ?? 0);
  checkRange(cmd, 'limit', limit, 0);
  const problems = recipe.validate(config);
  if (problems.length) throw usageError(cmd, problems[0]);
  if (resume && settings.steps <= resume.ck.info.step) {
    throw usageError(
      cmd,
      `--steps ${settings.steps} is not beyond the checkpoint's step ${resume.ck.info.step}; pass a larger --steps to continue`,
    );
  }
  const outDir = typeof explicit.out === 'string' ? resolve(explicit.out) : resume ? dirname(resume.path) : defaultRunDir(recipe.name);
  return {
    recipe,
    preset: resume ? presetOfRun(dirname(resume.path)) : presetName,
    config,
    settings,
    seed,
    limit,
    outDir,
    resume,
    changedHyper,
    force: !!given.force,
    replay: replayFlag(argv),
    skipValidation: !!given.skipValidation,
    argv: given0,
    provenance: gitProvenance(),
  };
}

/** The preset recorded in a run directory's run.json (null when absent or unreadable). */
function presetOfRun(dir: string): Preset | null {
  try {
    const p = (JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { preset?: unknown }).preset;
    return p === 'full' || p === 'quick' || p === 'paper' || p === 'zoo' ? p : null;
  } catch {
    return null;
  }
}

/** One process's part of a run (run.json "history"). */
export interface RunSegment {
  command: string;
  commit: string | null;
  /** Tracked files differed from the commit. */
  dirty: boolean | null;
  adapter: string;
  startStep: number;
  /** The step of this segment's last checkpoint. */
  endStep: number;
  /** Wall time from the first step to the last checkpoint. */
  wallSeconds: number;
  startedAt: string;
  endedAt?: string;
}

/** The history recorded in a run folder's run.json, up to `step` (a segment that reaches past the resumed checkpoint's step is dropped: its wall time to that step is unknown). */
function historyOf(dir: string, step: number): RunSegment[] {
  try {
    const h = (JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { history?: unknown }).history;
    if (!Array.isArray(h)) return [];
    return (h as RunSegment[]).filter((s) => s && typeof s.startStep === 'number' && s.startStep < step && s.endStep <= step);
  } catch {
    return [];
  }
}

/** A command-line word, quoted for a POSIX shell when it needs it. */
const shellWord = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/** The lock a run holds on its folder while it writes there. */
export const LOCK_NAME = '.gan-train.lock';

function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes <outDir>/.gan-train.lock (created exclusively, holding our pid), or fails naming the run
 * that holds it. A lock left by a process that is gone is taken over. Returns the release function
 * (also run on process exit).
 */
function lockRunDir(cmd: string, outDir: string): () => void {
  const path = join(outDir, LOCK_NAME);
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new CliError(`${cmd}: cannot write in '${outDir}': ${describeFsError(e)}`, 1);
      let holder = NaN;
      try {
        holder = Number.parseInt(readFileSync(path, 'utf8'), 10);
      } catch {
        /* unreadable: treat as stale */
      }
      if (pidAlive(holder) && holder !== process.pid) {
        throw new CliError(
          `${cmd}: another run (pid ${holder}) is writing '${outDir}'; wait for it, stop it, or choose another --out (lock file ${LOCK_NAME})`,
          1,
        );
      }
      try {
        unlinkSync(path); // stale: its process is gone
      } catch {
        /* removed by someone else meanwhile */
      }
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      process.off('exit', release);
      try {
        if (Number.parseInt(readFileSync(path, 'utf8'), 10) === process.pid) unlinkSync(path);
      } catch {
        /* already gone */
      }
    };
    process.on('exit', release);
    return release;
  }
  throw new CliError(`${cmd}: cannot take the lock ${path}; another run may be starting in '${outDir}'`, 1);
}

/** What a run writes in its folder: an --out holding any of these holds a run. */
const RUN_FILES = ['checkpoint.safetensors', 'metrics.jsonl', 'run.json', 'final.png', 'samples'];

/** Names of a folder's entries, ignoring the lock and temp files of killed saves. */
function runDirEntries(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n !== LOCK_NAME && !/^\..+\.\d+\.[a-z0-9]+\.tmp$/.test(n));
  } catch {
    return [];
  }
}

/**
 * Refuses to start a new run in a folder that is not empty (a run, or anything else) unless
 * --force; with --force the old run's files are removed first, so nothing of it mixes with the new.
 */
function checkRunDir(cmd: string, run: Resolved): void {
  const { outDir } = run;
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new CliError(`${cmd}: --out '${outDir}' is a file, not a directory`, 2);
  const entries = runDirEntries(outDir);
  if (run.resume) {
    // A resume writes into its checkpoint's folder, or into an empty one; another run's folder is refused.
    if (!entries.length || resolve(outDir) === dirname(run.resume.path) || run.force) return;
    throw usageError(
      cmd,
      `--out '${outDir}' already holds files (${entries.slice(0, 4).join(', ')}${entries.length > 4 ? ', ...' : ''}); a resumed run writes into its checkpoint's folder or an empty one`,
    );
  }
  if (!entries.length) return;
  if (!run.force) {
    const ck = join(outDir, 'checkpoint.safetensors');
    const hint = existsSync(ck) ? `continue it with --resume ${relative(process.cwd(), ck) || ck}, ` : '';
    throw usageError(
      cmd,
      `--out '${outDir}' is not empty (${entries.slice(0, 4).join(', ')}${entries.length > 4 ? ', ...' : ''}); ${hint}choose another --out, or pass --force to replace the run in it (its checkpoint, metrics and samples are deleted)`,
    );
  }
  for (const n of RUN_FILES) rmSync(join(outDir, n), { recursive: true, force: true });
}

/** Whether this run's learning-rate schedule is laid out over --steps (so changing it on a resume moves the schedule). */
export function scheduleFollowsSteps(recipe: ModelRecipe, config: ModelConfig): boolean {
  if (recipe.scheduleFollowsSteps) return recipe.scheduleFollowsSteps(config);
  if ('numItersDecay' in config) return !Number(config.numItersDecay); // StarGAN, until its recipe has the hook
  return false;
}

/** Keeps metrics.jsonl consistent with a resumed run: drop lines past the checkpoint's step. */
function truncateMetrics(path: string, step: number): void {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => {
      if (!l.trim()) return false;
      try {
        return (JSON.parse(l) as { step: number }).step <= step;
      } catch {
        return false;
      }
    });
  writeFileSync(path, kept.length ? kept.join('\n') + '\n' : '');
}

/** An 8x8 (or smaller) grid of G(fixedNoise) written as a PNG. */
async function writeSamples(trainer: GanTrainer, fixedNoise: Tensor, path: string): Promise<void> {
  const images = trainer.generate(fixedNoise);
  try {
    const [n, c, h, w] = images.shape;
    const data = await images.data();
    const grid = makeGrid(data, n, c, h, w, { nrow: 8 });
    writePng(path, grid.data, grid.width, grid.height, grid.channels);
  } finally {
    images.dispose();
  }
}

/** Held-out pairs shown in the image-to-image sample grids and scored during training. */
const HELD_OUT_BATCH = 16;
/** Held-out images in a multi-domain translator's grids (each translated into every domain, over its ground truth). */
const HELD_OUT_DOMAIN_ROWS = 8;

interface HeldOutBatch {
  hooks: TranslationEval;
  pairs: HeldOutPairs;
  x: Tensor;
  y: Tensor;
  /** Multi-domain translators: the grid's held-out images and their ground truth in every domain. */
  domains: HeldOutDomains | null;
}

/**
 * translate() of the held-out batch: an input | output | target grid written as a PNG (a multi-domain
 * translator: its domain grid, cli/heldout.ts domainGrid), and the L1 / PSNR / SSIM of the outputs against
 * the targets (eval mode: the training state is not touched).
 */
async function writeTranslationSamples(trainer: GanTrainer, held: HeldOutBatch, path: string): Promise<Record<string, number>> {
  const { pairs } = held;
  const pred = held.hooks.translate(trainer, held.x);
  try {
    const [, co, h, w] = pred.shape;
    const m = await imageMetrics(pred, held.y, { window: ssimWindowFor(h, w) });
    const g = held.domains
      ? await domainGrid(trainer, held.hooks, held.domains)
      : {
          ...translationGrid(
            pairs.inputs,
            await pred.data(),
            pairs.targets,
            pairs.n,
            { input: pairs.inputShape[0], output: co, target: pairs.targetShape[0] },
            h,
            w,
            8,
          ),
          cols: 8,
        };
    const grid = makeGrid(g.images, g.n, 3, h, w, { nrow: g.cols });
    writePng(path, grid.data, grid.width, grid.height, grid.channels);
    return { heldout_n: pairs.n, heldout_l1: +m.l1.toFixed(6), heldout_psnr: +m.psnr.toFixed(4), heldout_ssim: +m.ssim.toFixed(6) };
  } finally {
    pred.dispose();
  }
}

/** The fixed held-out batch of an image-to-image run (null for other models or datasets without ground truth). */
async function heldOutBatch(cmd: string, recipe: ModelRecipe, config: ModelConfig, dataset: string): Promise<HeldOutBatch | null> {
  const hooks = heldOutHooksOf(recipe);
  if (!hooks) return null;
  let pairs: HeldOutPairs;
  let domains: HeldOutDomains | null = null;
  try {
    pairs = firstPairs(await hooks.heldOutPairs(config, { limit: HELD_OUT_BATCH, dataset }), HELD_OUT_BATCH);
    if (recipe.domainTranslation) domains = heldOutDomains(recipe, config, { limit: HELD_OUT_DOMAIN_ROWS });
  } catch (e) {
    out.err(`${cmd}: no held-out pairs (${firstLine(e)}); sample grids show training inputs only`);
    return null;
  }
  if (pairs.n < 1) return null;
  const x = tensor(pairs.inputs, [pairs.n, ...pairs.inputShape]).keep();
  const y = tensor(pairs.targets, [pairs.n, ...pairs.targetShape]).keep();
  return { hooks, pairs, x, y, domains };
}

/** The statistics worth a place on the progress line: the losses, and D's output on real data. */
function shownStats(values: Record<string, number>): Record<string, number> {
  const shown: Record<string, number> = {};
  for (const [k, v] of Object.entries(values)) {
    if (k.startsWith('loss')) shown[k] = v;
    else if (k === 'D_x') shown['D(x)'] = v;
  }
  return shown;
}

/** A seed for the fixed sample noise, distinct from the training stream's. */
export const fixedNoiseSeed = (seed: number) => (seed * 7919 + 104729) % Number.MAX_SAFE_INTEGER;

export async function trainCommand(argv: readonly string[]): Promise<number> {
  const name = argv[0];
  if (name === undefined || name.startsWith('-')) {
    if (name === '--help' || name === '-h') {
      process.stdout.write(TRAIN_HELP);
      return 0;
    }
    throw usageError('gan train', `missing <model> (one of ${Object.keys(recipes).join(', ')}); see gan train --help`);
  }
  const recipe = getRecipe(name);
  if (!recipe) throw usageError('gan train', `unknown model '${name}' (known: ${Object.keys(recipes).join(', ')})`);
  const rest = argv.slice(1);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(formatHelp(specFor(recipe, true)));
    return 0;
  }
  const run = await resolveTrainRun(recipe, rest);
  if (!run) return 0;
  return train(run);
}

async function train(run: Resolved): Promise<number> {
  const { recipe, config, settings, outDir } = run;
  const cmd = `gan train ${recipe.name}`;
  const { channels } = recipe.imageShape(config);

  const entry = Object.hasOwn(DATASETS, settings.dataset) ? DATASETS[settings.dataset] : undefined;
  if (!entry) throw new CliError(`${cmd}: unknown dataset '${settings.dataset}' (known: ${Object.keys(DATASETS).join(', ')})`, 2);
  if (entry.channels !== channels)
    throw new CliError(`${cmd}: dataset ${settings.dataset} has ${entry.channels} channels, the model expects ${channels}`, 2);

  // The run folder: created, locked (one run at a time), checked (no silent overwrite), and cleared
  // of temp files that a save killed mid-write left behind. All before the GPU starts.
  ensureDir(outDir, cmd);
  const unlock = lockRunDir(cmd, outDir);
  try {
    checkRunDir(cmd, run);
  } catch (err) {
    unlock();
    throw err;
  }
  const stale = [...removeStaleTempFiles(outDir), ...removeStaleTempFiles(join(outDir, 'samples'))];
  if (stale.length)
    out.err(
      `${cmd}: removed ${stale.length} temp file${stale.length === 1 ? '' : 's'} of an interrupted save (${stale.slice(0, 2).join(', ')}${stale.length > 2 ? ', ...' : ''})`,
    );
  try {
    return await trainLocked(run);
  } finally {
    unlock();
  }
}

async function trainLocked(run: Resolved): Promise<number> {
  const { recipe, config, settings, seed, outDir } = run;
  const cmd = `gan train ${recipe.name}`;
  const { channels, size } = recipe.imageShape(config);
  // The engine first: some datasets are made on the GPU (emoji-edges).
  const e = await acquireEngine(cmd, false, { unsafeSkipValidation: run.skipValidation });
  let dataset: Awaited<ReturnType<typeof loadDataset>>;
  let held: HeldOutBatch | null;
  try {
    dataset = await loadDataset(settings.dataset, { size, limit: run.limit || undefined });
    held = await heldOutBatch(cmd, recipe, config, settings.dataset);
  } catch (err) {
    throw new CliError(`${cmd}: ${firstLine(err)}`, 1);
  }
  if (dataset.channels !== channels)
    throw new CliError(`${cmd}: dataset ${dataset.name} has ${dataset.channels} channels, the model expects ${channels}`, 2);
  if (dataset.n < settings.batch) throw usageError(cmd, `--batch ${settings.batch} is larger than the dataset (${dataset.n} images)`);

  const ckptPath = join(outDir, 'checkpoint.safetensors');
  const metricsPath = join(outDir, 'metrics.jsonl');
  const rel = (p: string) => relative(process.cwd(), p) || '.';

  const trainer = recipe.create(config, settings, seed);
  // Models that need labels or captions (Triple-GAN, StackGAN) take the whole set once.
  if (trainer.bindData) {
    try {
      trainer.bindData({
        images: dataset.data,
        n: dataset.n,
        c: dataset.sampleShape[0],
        h: dataset.sampleShape[1],
        w: dataset.sampleShape[2],
        labels: dataset.labels,
        tokens: dataset.tokens,
      });
    } catch (err) {
      throw usageError(cmd, `${firstLine(err)} (dataset ${dataset.name})`);
    }
  }
  const loader = new DataLoader(dataset, { batchSize: settings.batch, seed });
  let step = 0;
  if (run.resume) {
    // New optimiser flags: the fresh optimisers (built from the new settings) hold them; they replace
    // the checkpoint's values of the same hyperparameters, and only those.
    let optimizerHyper: Record<string, Record<string, HyperValue>> | undefined;
    if (run.changedHyper.length) {
      const keys = new Set<string>(run.changedHyper.map((k) => (k === 'lr' ? 'lr' : 'betas')));
      optimizerHyper = Object.fromEntries(
        Object.entries(trainer.optimizers).map(([n, o]) => [n, Object.fromEntries(Object.entries(o.hyper()).filter(([k]) => keys.has(k)))]),
      );
      const was = run.resume.ck.info.settings;
      out.err(
        `${cmd}: ${run.changedHyper.map((k) => `--${k} ${settings[k]} replaces the checkpoint's ${was[k]}`).join(', ')} (applied to the optimisers, recorded in run.json and the next checkpoint)`,
      );
    }
    const before = run.resume.ck.info.settings.steps;
    if (settings.steps !== before && scheduleFollowsSteps(recipe, config)) {
      out.err(
        `${cmd}: note: --steps ${settings.steps} changes the run's total from ${before}, and ${recipe.name}'s learning-rate schedule is laid out over the total, so it changes too (set its schedule flags at the start to fix it)`,
      );
    }
    const lacking = restoreTrainer(cmd, run.resume.path, run.resume.ck, trainer, true, optimizerHyper);
    if (lacking.length)
      out.err(
        `${cmd}: the checkpoint has no ${lacking.join(', ')} (written by an older version); they start empty, so this resume is not exact`,
      );
    if (run.resume.ck.info.loader) loader.setState(run.resume.ck.info.loader);
    step = run.resume.ck.info.step;
    ensureDir(join(outDir, 'samples'), cmd); // only now: a checkpoint that does not fit changes nothing on disk
    truncateMetrics(metricsPath, step);
  } else {
    ensureDir(join(outDir, 'samples'), cmd);
    writeFileSync(metricsPath, '');
  }
  // run.json: what the run is, and its history: one segment per process that trained it (command,
  // commit, adapter, steps, wall time), updated at every save, kept across resumes (read from the
  // run.json beside the resumed checkpoint, cut at its step). docs/zoo.md's cards are made from it.
  const segment: RunSegment = {
    command: ['gan', 'train', recipe.name, ...run.argv].map(shellWord).join(' '),
    ...(run.provenance ?? { commit: null, dirty: null }),
    adapter: describeAdapter(e.adapter),
    startStep: step,
    endStep: step,
    wallSeconds: 0,
    startedAt: new Date().toISOString(),
  };
  const history = run.resume ? historyOf(dirname(run.resume.path), step) : [];
  const writeRunJson = () =>
    writeFileSync(
      join(outDir, 'run.json'),
      JSON.stringify(
        {
          model: recipe.name,
          preset: run.preset,
          config,
          settings,
          seed,
          dataset: dataset.name,
          adapter: describeAdapter(e.adapter),
          limit: run.limit,
          history: [...history, segment],
        },
        null,
        2,
      ) + '\n',
    );
  writeRunJson();

  out.err(`${cmd}: ${run.resume ? `resuming from step ${step}` : 'new run'} -> ${rel(outDir)}`);
  out.err(
    `  ${Object.entries(config)
      .map(([k, v]) => `${k}=${v}`)
      .join(
        ' ',
      )} | batch ${settings.batch}, lr ${settings.lr}, ${settings.steps} steps | ${dataset.name} ${dataset.n} images ${channels}x${size}x${size} | ${describeAdapter(e.adapter)}`,
  );
  const counts = Object.entries(trainer.nets).map(([k, m]) => [k, m.numParameters()] as const);
  out.err(
    `  parameters: ${counts.map(([k, c]) => `${k} ${c.toLocaleString('en-US')}`).join(', ')}${counts.length > 1 ? ` (${counts.reduce((a, [, c]) => a + c, 0).toLocaleString('en-US')} in all)` : ''}`,
  );

  const fixedNoise = held ? null : trainer.noise(64, new Generator(fixedNoiseSeed(seed))).keep();
  const real = empty([settings.batch, channels, size, size], 'batch').keep();
  // Sample grids (and, for image-to-image models, held-out metrics lines).
  const snapshot = async (path: string, logStep: number | null) => {
    if (!held) return writeSamples(trainer, fixedNoise!, path);
    const m = await writeTranslationSamples(trainer, held, path);
    if (logStep !== null) appendFileSync(metricsPath, JSON.stringify({ step: logStep, ...m }) + '\n');
  };
  if (!run.resume) await snapshot(samplePath(outDir, 0), 0);

  // SIGINT (Ctrl-C) and SIGTERM (kill, a scheduler's stop): finish the step, save, exit 130 / 143.
  let stopSignal: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    const code = sig === 'SIGTERM' ? 143 : 130;
    if (stopSignal) process.exit(code);
    stopSignal = sig;
    out.err(
      `\n${cmd}: ${sig} received; saving a checkpoint after this step (${sig === 'SIGINT' ? 'Ctrl-C' : 'a second signal'} again to quit now, keeping the previous checkpoint)`,
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let savedStep = run.resume ? run.resume.ck.info.step : -1;
  const save = async () => {
    try {
      await saveRunCheckpoint(ckptPath, trainer, {
        model: recipe.name,
        config,
        settings,
        seed,
        step,
        loader: loader.state,
        dataset: dataset.name,
        limit: run.limit,
      });
    } catch (err) {
      const kept =
        savedStep >= 0 && existsSync(ckptPath)
          ? `the last good checkpoint ${rel(ckptPath)} (step ${savedStep}) was kept`
          : 'no checkpoint was written';
      if (err instanceof NonFiniteCheckpointError) {
        throw new CliError(
          `${cmd}: the run diverged: non-finite values at step ${step} in ${describeNonFinite(err.bad)}; ${kept}. Lower --lr${savedStep >= 0 ? `, or resume from step ${savedStep} with a lower --lr` : ''}`,
          1,
        );
      }
      throw new CliError(`${cmd}: ${firstLine(err)} (${kept})`, 1);
    }
    savedStep = step;
    segment.endStep = step;
    segment.wallSeconds = +((performance.now() - t0) / 1000).toFixed(1);
    segment.endedAt = new Date().toISOString();
    writeRunJson();
  };
  const progress = new Progress({ total: settings.steps - step, label: recipe.name });
  const t0 = performance.now();
  const first = step;
  let lastLog = { step, time: t0 };
  let last: Record<string, number> = {};
  const stepper = replayed(trainer, { enabled: run.replay });
  // The host encodes step n+1 while the GPU runs step n; statistics are read back asynchronously,
  // only on logging steps, and handled once they arrive (nets/lib/pipeline.ts). Sample and
  // checkpoint steps, and the last step, wait for them first, so a divergence is reported before
  // anything is written after it.
  const pipe = new StepPipeline<{ step: number; epoch: number }>(stepper);
  const logged = (r: Logged<{ step: number; epoch: number }>): Record<string, number> => {
    const { values } = r;
    const bad = nonFinite(values);
    if (bad.length) {
      const kept =
        savedStep >= 0 && existsSync(ckptPath)
          ? `the last good checkpoint ${rel(ckptPath)} (step ${savedStep}) was kept`
          : 'no checkpoint was written';
      throw new CliError(
        `${cmd}: the run diverged: non-finite loss at step ${r.tag.step} (${bad.join(', ')}); ${kept}. Lower --lr${savedStep >= 0 ? `, or resume from step ${savedStep} with a lower --lr` : ''}`,
        1,
      );
    }
    const stepsPerSec = (r.tag.step - lastLog.step) / ((r.time - lastLog.time) / 1000);
    lastLog = { step: r.tag.step, time: r.time };
    last = values;
    appendFileSync(
      metricsPath,
      JSON.stringify({
        step: r.tag.step,
        epoch: r.tag.epoch,
        ...values,
        stepsPerSec: +stepsPerSec.toFixed(4),
        time: +((r.time - t0) / 1000).toFixed(3),
      }) + '\n',
    );
    return shownStats(values);
  };
  const handle = (rs: Logged<{ step: number; epoch: number }>[]) => {
    let shown: ReturnType<typeof shownStats> | undefined;
    for (const r of rs) shown = logged(r);
    return shown;
  };
  try {
    while (step < settings.steps && !stopSignal) {
      const batch = loader.nextInto(real);
      step++;
      const logNow = step % settings.logEvery === 0 || step === settings.steps;
      try {
        await pipe.step(real, logNow, { step, epoch: batch.epoch });
      } catch (err) {
        // Some models cannot train on one example (batch norm over one value per channel, as in
        // StackGAN++'s conditioning MLP): a usage error, not a crash.
        if (settings.batch === 1 && step === first + 1) throw usageError(cmd, `--batch 1 does not work for this model: ${firstLine(err)}`);
        throw err;
      }
      const sampleNow = settings.sampleEvery > 0 && step % settings.sampleEvery === 0;
      const ckptNow = settings.ckptEvery > 0 && step % settings.ckptEvery === 0;
      const waitNow = sampleNow || ckptNow || step === settings.steps || stopSignal;
      progress.tick(1, handle(waitNow ? await pipe.drain() : pipe.takeReady()));
      if (sampleNow) await snapshot(samplePath(outDir, step), step);
      if (ckptNow) await save();
    }
    handle(await pipe.drain());
    progress.done();
    await save();
    await snapshot(join(outDir, 'final.png'), null);
    if (settings.sampleEvery === 0 || step % settings.sampleEvery !== 0) await snapshot(samplePath(outDir, step), step);
  } finally {
    stepper.dispose();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  await engine().sync();
  const secs = (performance.now() - t0) / 1000;
  const done = step - first;
  out.line(`${cmd}: ${done} steps in ${formatDuration(secs)} (${(done / secs).toFixed(2)} it/s)${finalLosses(last)}`);
  out.line(
    `  samples     ${rel(join(outDir, 'samples'))}/step_*.png (${held?.domains ? `${held.domains.n} held-out images translated into each of ${held.domains.numDomains} domains, each over its ground truth` : held ? `rows of input | output | target for ${held.pairs.n} held-out pairs` : '8x8 grids of a fixed noise batch'})`,
  );
  out.line(`  final grid  ${rel(join(outDir, 'final.png'))}`);
  const rp = stepper.report();
  if (run.replay)
    out.line(`  replay      ${rp.replayed} steps replayed, ${rp.eager} eager${rp.lastReason ? ` (last fallback: ${rp.lastReason})` : ''}`);
  out.line(`  metrics     ${rel(metricsPath)}`);
  out.line(`  checkpoint  ${rel(ckptPath)} (step ${step})`);
  if (stopSignal) {
    out.line(`  continue:   gan train ${recipe.name} --resume ${rel(ckptPath)}`);
    e.destroy();
    return stopSignal === 'SIGTERM' ? 143 : 130;
  }
  out.line(`  more steps: gan train ${recipe.name} --resume ${rel(ckptPath)} --steps ${settings.steps * 2}`);
  e.destroy();
  return 0;
}

/** ", final lossD 0.123 lossG 4.560" from the last logged statistics, naming only the losses it has (EBGAN's pretraining logs no lossG). */
function finalLosses(last: Record<string, number | undefined>): string {
  const parts = ['lossD', 'lossG'].filter((k) => typeof last[k] === 'number').map((k) => `${k} ${(last[k] as number).toFixed(3)}`);
  return parts.length ? `, final ${parts.join(' ')}` : '';
}
