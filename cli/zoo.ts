// The trained-model zoo (zoo/<model>/, docs/zoo.md) as the CLI sees it:
//
//   zoo/<model>/recipe.json       {"model", "flags": {kebab-flag: value, ...}, "ship", "target", ...}:
//                                 `gan train <model> --recipe zoo` is `gan train <model>` with these
//                                 flags (flags given on the command line replace the recipe's)
//   zoo/<model>/<model>.safetensors  the shipped networks (float16; engine checkpoint metadata, the
//                                 networks listed in extra.networksOnly): `gan sample --pretrained
//                                 <model>`, `gan eval --pretrained <model>`
// Written by scripts/zoo.mjs (export, resume, cards); nothing here names a model.
//
// The zoo folder: $GAN_ZOO_DIR, else ./zoo when the current directory has one, else the zoo/ folder
// beside the CLI bundle's dist/ (a clone's zoo/ wherever the command is run from).

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, usageError } from './common.js';

export function zooDir(): string {
  if (process.env.GAN_ZOO_DIR) return resolve(process.env.GAN_ZOO_DIR);
  const here = resolve('zoo');
  if (existsSync(here)) return here;
  try {
    const beside = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'zoo');
    if (existsSync(beside)) return beside;
  } catch {
    /* not a file URL (bundled elsewhere): fall through */
  }
  return here;
}

/** The models that have a folder with a recipe or shipped weights in the zoo. */
export function zooModels(dir = zooDir()): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter(
        (d) => d.isDirectory() && (existsSync(join(dir, d.name, 'recipe.json')) || existsSync(join(dir, d.name, `${d.name}.safetensors`))),
      )
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

export type ZooFlagValue = number | string | boolean;

export interface ZooRecipe {
  model: string;
  /** The run's flags, kebab-case names without the dashes (e.g. {"ngf": 32, "sample-every": 250, "seed": 1}). */
  flags: Record<string, ZooFlagValue>;
}

/** zoo/<model>/recipe.json, checked; a usage error naming the file when it is missing or malformed. */
export function readZooRecipe(command: string, model: string): ZooRecipe {
  const dir = zooDir();
  const path = join(dir, model, 'recipe.json');
  if (!existsSync(path)) {
    const have = zooModels(dir).filter((m) => existsSync(join(dir, m, 'recipe.json')));
    throw usageError(
      command,
      `--recipe zoo: no zoo recipe for ${model} (${path} is missing; zoo recipes: ${have.length ? have.join(', ') : 'none'}). See docs/zoo.md`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CliError(`${command}: --recipe zoo: ${path} is not valid JSON (${(e as Error).message})`, 1);
  }
  const r = raw as Partial<ZooRecipe>;
  if (!r || typeof r !== 'object' || r.model !== model || !r.flags || typeof r.flags !== 'object' || Array.isArray(r.flags)) {
    throw new CliError(`${command}: --recipe zoo: ${path} needs {"model": "${model}", "flags": {...}}`, 1);
  }
  for (const [k, v] of Object.entries(r.flags)) {
    if (!/^[a-z][a-z0-9-]*$/.test(k) || !['number', 'string', 'boolean'].includes(typeof v)) {
      throw new CliError(
        `${command}: --recipe zoo: ${path}: flag '${k}' = ${JSON.stringify(v)} (flags are kebab-case names with a number, string or boolean)`,
        1,
      );
    }
    if (['recipe', 'resume', 'out', 'force', 'quick', 'paper'].includes(k))
      throw new CliError(`${command}: --recipe zoo: ${path}: flag '${k}' cannot be part of a recipe`, 1);
  }
  return { model, flags: r.flags as Record<string, ZooFlagValue> };
}

/** The flag names an argv gives (`--name value`, `--name=value`, `--name`), kebab-case. */
function givenFlags(argv: readonly string[]): Set<string> {
  const s = new Set<string>();
  for (const a of argv) if (a.startsWith('--')) s.add(a.slice(2).split('=')[0]);
  return s;
}

/**
 * The argv of `--recipe zoo` expanded: the recipe's flags first, then the command line's (which
 * replace recipe flags of the same name, e.g. --steps for a shorter try). Returns argv unchanged
 * without --recipe.
 */
export function expandZooRecipe(command: string, model: string, argv: readonly string[]): string[] {
  const i = argv.findIndex((a) => a === '--recipe' || a.startsWith('--recipe='));
  if (i < 0) return [...argv];
  const value = argv[i].includes('=') ? argv[i].slice('--recipe='.length) : argv[i + 1];
  if (value !== 'zoo')
    throw usageError(
      command,
      `--recipe expects 'zoo' (the trained-model zoo's recipe, zoo/${model}/recipe.json), got ${value === undefined ? 'nothing' : `'${value}'`}`,
    );
  const given = givenFlags(argv);
  const recipe = readZooRecipe(command, model);
  const expanded: string[] = [];
  for (const [k, v] of Object.entries(recipe.flags)) {
    if (given.has(k) || (typeof v === 'boolean' && given.has(`no-${k}`))) continue;
    if (v === true) expanded.push(`--${k}`);
    else if (v !== false) expanded.push(`--${k}`, String(v));
  }
  return [...expanded, ...argv];
}

/** The shipped weights of a model: zoo/<model>/<model>.safetensors, or a usage error listing what is shipped. */
export function pretrainedPath(command: string, model: string): string {
  const dir = zooDir();
  const path = join(dir, model, `${model}.safetensors`);
  if (existsSync(path)) return path;
  const shipped = zooModels(dir).filter((m) => existsSync(join(dir, m, `${m}.safetensors`)));
  throw usageError(
    command,
    `--pretrained ${model}: no shipped weights (${path} is missing; shipped: ${shipped.length ? shipped.join(', ') : 'none'}); train them with gan train ${model} --recipe zoo, see docs/zoo.md`,
  );
}

/** The commit the working directory is at, and whether tracked files differ from it (null outside a git checkout). */
export function gitProvenance(cwd = process.cwd()): { commit: string; dirty: boolean } | null {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return /^[0-9a-f]{40}$/.test(commit) ? { commit, dirty: status.trim().length > 0 } : null;
  } catch {
    return null;
  }
}
