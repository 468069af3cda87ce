// Shared plumbing for the `gan` subcommands: how errors become exit codes, acquiring the GPU
// with a one-line failure, run directories, and small formatting helpers.
//
// Exit codes: 0 success; 1 a runtime failure (no adapter, unreadable checkpoint, a NaN loss...);
// 2 a usage error (unknown flag, bad value). Every failure prints exactly one line on stderr,
// prefixed with the command ("gan train: ..."), so scripts and people can both read it.

import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ArgsError, formatHelp, parseArgs, type ArgsSpec, type ParsedArgs } from '../engine/cli/args.js';
import { initEngine, type Engine } from '../engine/device.js';

/** A failure to report as one line and an exit code (1 runtime, 2 usage). */
export class CliError extends Error {
  override name = 'CliError';
  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
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

/** Acquires the GPU, or fails with initEngine's one-line explanation (exit 1). */
export async function acquireEngine(command: string, log = false): Promise<Engine> {
  try {
    return await initEngine({ log: log ? (l) => out.err(l) : false });
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

export function ensureDir(dir: string): string {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new CliError(`cannot create directory '${dir}': ${firstLine(e)}`, 1);
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
