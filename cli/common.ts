// Shared plumbing for the `gan` subcommands: how errors become exit codes, acquiring the GPU
// with a one-line failure, run directories, and small formatting helpers.
//
// Exit codes: 0 success; 1 a runtime failure (no adapter, unreadable checkpoint, a NaN loss...);
// 2 a usage error (unknown flag, bad value). Every failure prints exactly one line on stderr,
// prefixed with the command ("gan train: ..."), so scripts and people can both read it; a few
// failures add an indented list below that line (which tensors do not fit a checkpoint, and why).

import { closeSync, existsSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ArgsError, formatHelp, parseArgs, type ArgsSpec, type ParsedArgs } from './lib/args.js';
import { SKIP_VALIDATION_WARNING, initEngine, type Engine } from '../engine/device.js';
import { describeFsError, makeDirs } from '../engine/io/files.js';
import { recipes } from '../nets/registry.js';

/** A failure to report as one line and an exit code (1 runtime, 2 usage). */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

/** A usage error (exit 2), worded like the parser's own: "gan train: --batch must be ...". */
export function usageError(command: string, message: string): CliError {
  return new CliError(`${command}: ${message}`, 2);
}

/** Where stdout text goes; tests and embedding code may swap it. */
export const out = {
  line(s = ''): void {
    process.stdout.write(`${s}\n`);
  },
  err(s: string): void {
    process.stderr.write(`${s}\n`);
  },
};

/**
 * Parses argv against a spec. --help prints the generated help (plus `extraHelp`) and returns null;
 * a parse error becomes a CliError with exit code 2.
 */
export function parseOrHelp<const S extends ArgsSpec>(argv: readonly string[], spec: S, extraHelp = ''): ParsedArgs<S> | null {
  let parsed: ParsedArgs<S>;
  try {
    parsed = parseArgs(argv, spec);
  } catch (e) {
    if (e instanceof ArgsError) throw new CliError(e.message, 2);
    throw e;
  }
  if (parsed.help) {
    process.stdout.write(formatHelp(spec) + (extraHelp ? `\n${extraHelp.trimEnd()}\n` : ''));
    return null;
  }
  // An empty path ("--out ''") would resolve to the working directory: refuse it.
  for (const [k, v] of Object.entries(parsed.options as Record<string, unknown>)) {
    const o = spec.options[k];
    if (v === '' && o?.type === 'string' && /^(DIR|PATH|CKPT|FILE)$/.test(o.metavar ?? '')) {
      throw new CliError(
        `${spec.command}: --${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is empty; give a ${o.metavar === 'DIR' ? 'directory' : 'path'}`,
        2,
      );
    }
  }
  for (const [i, p] of parsed.positionals.entries()) {
    if (p === '') throw new CliError(`${spec.command}: argument ${i + 1} is an empty path`, 2);
  }
  return parsed;
}

/** Checks a parsed number; throws a usage error naming the flag when it is out of range. */
export function checkRange(command: string, flag: string, v: number, lo: number, hi = Infinity, what = 'a value'): void {
  if (!(v >= lo && v <= hi)) {
    const range = hi === Infinity ? `>= ${lo}` : `in [${lo}, ${hi}]`;
    throw usageError(command, `--${flag} must be ${what} ${range}, got ${v}`);
  }
}

/** The first line of an error's message (stack traces are for --verbose, never for users). */
export function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0].trim() || String(e);
}

/** `gan --verbose ...`: show what native code prints while the adapter starts (Dawn's notices). */
export const cliFlags = { verbose: false };

/**
 * Runs `fn` with file descriptor 2 pointed at /dev/null, so that notices native code prints straight
 * to stderr (Dawn's "maxDynamic... artificially reduced" on every adapter it opens) stay out of the
 * output. Linux only (it reopens the original stderr through /proc/self/fd); elsewhere, or when
 * anything about the swap fails, `fn` runs with stderr untouched. process.stderr writes are
 * synchronous on Linux, so nothing of ours is pending while the descriptor is swapped.
 */
export async function withNativeStderrQuiet<T>(fn: () => Promise<T>): Promise<T> {
  if (cliFlags.verbose || process.platform !== 'linux') return fn();
  void process.stderr; // create the stream (and its TTY check) on the real stderr first
  let saved = -1;
  try {
    saved = openSync('/proc/self/fd/2', 'a');
    closeSync(2);
    const nul = openSync('/dev/null', 'w');
    if (nul !== 2) throw new Error('fd 2 was not free');
  } catch {
    if (saved >= 0) restoreFd2(saved);
    return fn();
  }
  try {
    return await fn();
  } finally {
    restoreFd2(saved);
  }
}

function restoreFd2(saved: number): void {
  try {
    closeSync(2);
  } catch {
    /* already closed */
  }
  // The lowest free descriptor is 2 again: reopen the original stderr there.
  const fd = openSync(`/proc/self/fd/${saved}`, 'a');
  if (fd !== 2) closeSync(fd);
  closeSync(saved);
}

/**
 * Acquires the GPU, or fails with initEngine's one-line explanation (exit 1). `unsafeSkipValidation`
 * (gan train --skip-validation): Dawn without per-command validation; initEngine's warning goes to
 * stderr once the adapter is up.
 */
export async function acquireEngine(command: string, log = false, opts: { unsafeSkipValidation?: boolean } = {}): Promise<Engine> {
  // Lines initEngine logs are written after the native stderr is back.
  const lines: string[] = [];
  try {
    const e = await withNativeStderrQuiet(() =>
      initEngine({ log: log || opts.unsafeSkipValidation ? (l) => lines.push(l) : false, unsafeSkipValidation: opts.unsafeSkipValidation }),
    );
    // Without `log`, only the unvalidated mode's warning (initEngine logs the adapter line too).
    for (const l of lines) if (log || l === SKIP_VALIDATION_WARNING) out.err(l);
    return e;
  } catch (e) {
    throw new CliError(`${command}: ${firstLine(e)}`, 1);
  }
}

/** runs/<model>-YYYYMMDD-HHMMSS under the working directory (suffix -2, -3... if it exists). */
export function defaultRunDir(model: string, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  const base = resolve('runs', `${model}-${stamp}`);
  let dir = base;
  for (let k = 2; existsSync(dir); k++) dir = `${base}-${k}`;
  return dir;
}

/** mkdir -p, failing with one line that names the command, the directory and the reason. */
export function ensureDir(dir: string, command = 'gan'): string {
  try {
    makeDirs(dir);
  } catch (e) {
    throw new CliError(`${command}: cannot create directory '${dir}': ${describeFsError(e)}`, 1);
  }
  return dir;
}

export const stepName = (step: number) => `step_${String(step).padStart(5, '0')}`;
export const samplePath = (runDir: string, step: number) => join(runDir, 'samples', `${stepName(step)}.png`);

/** A two-column table for terminal output. */
export function table(rows: readonly (readonly [string, string])[], indent = '  '): string {
  const w = Math.max(0, ...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `${indent}${k.padEnd(w)}  ${v}`).join('\n');
}

/**
 * The model a help example names: the first registered model, or the first of `names` (a list of
 * models with some hook, as an array or a ", "-joined string). Examples never spell a model out, so
 * renaming or reordering the registry cannot leave a help text naming a model that does not exist.
 */
export function exampleModel(names: string | readonly string[] = Object.keys(recipes)): string {
  const list = typeof names === 'string' ? names.split(', ') : names;
  return list[0] ?? Object.keys(recipes)[0];
}

/** A run's checkpoint path as `gan train` writes it (runs/<model>-<stamp>/...), for help examples. */
export function exampleCheckpoint(model = exampleModel()): string {
  return `runs/${model}-20261127-101500/checkpoint.safetensors`;
}
