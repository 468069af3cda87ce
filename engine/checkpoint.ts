// Checkpoints and model files as safetensors bytes (browser-safe: no Node imports; the Node file
// wrappers live in checkpoint_node.ts, the demos hand these bytes to downloads or IndexedDB).
//
// A training checkpoint is one safetensors file:
//   tensors   `${model}.${stateDictKey}`           e.g. G.main.0.weight, D.main.1.running_mean
//             `optim.${name}.${index}.${state}`    e.g. optim.G.0.m, optim.G.0.v
//   metadata  format, format_version, step, models (names), optimizers (type, hyperparameters and
//             per-parameter step counts), schedulers, rng (generator states), config, extra;
//             every value a JSON string.
// A model file is a plain PyTorch state_dict (no prefixes; num_batches_tracked as I64), loadable
// with safetensors.torch.load_file and model.load_state_dict as is.
// All tensors are read back in one batch (their copies are encoded before the first await), so a
// checkpoint is a consistent snapshot of the moment checkpointToBytes() was called.

import type { Tensor } from './tensor.js';
import { decodeSafetensors, encodeSafetensors, nonFiniteEntries, type SafetensorsFile, type SafetensorsTensor } from './io/safetensors.js';
import { defaultGenerator, type Generator, type GeneratorState } from './ops/random.js';
import type { Module, LoadStateDictResult } from './nn/module.js';
import { readTensors, toSafetensors, type StateValue } from './nn/state.js';
import type { LRScheduler, Optimizer, OptimizerStateDict, HyperValue } from './optim.js';
import { describeNonFinite, nonFiniteTensors, type NonFiniteTensor } from './finite.js';

export const CHECKPOINT_FORMAT = 'webgpu-gan/checkpoint';
export const CHECKPOINT_VERSION = 1;

/** JSON-safe values for config and extra metadata. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface CheckpointContents {
  models?: Record<string, Module>;
  optimizers?: Record<string, Optimizer>;
  schedulers?: Record<string, LRScheduler>;
  /** Random generators by name; the default generator is always saved, as 'default'. */
  generators?: Record<string, Generator>;
  /** Training step (or iteration) count. */
  step?: number;
  /** The run's configuration (model and training flags). */
  config?: Json;
  /** Anything else worth keeping (metrics, dataset name, ...). */
  extra?: Json;
}

/** What loadCheckpoint/restoreCheckpoint should restore: the same names as at save time. */
export interface CheckpointTargets {
  models?: Record<string, Module>;
  optimizers?: Record<string, Optimizer>;
  schedulers?: Record<string, LRScheduler>;
  generators?: Record<string, Generator>;
}

export interface RestoreOptions {
  /** Missing or unexpected model keys are errors (default true). */
  strict?: boolean;
  /** Restore the default generator's state too (default true, for an exact resume). */
  restoreDefaultGenerator?: boolean;
  /** Names the file in error messages. */
  source?: string;
  /** Accept NaN/Inf values in the restored tensors (default false: they are a restore problem). */
  allowNonFinite?: boolean;
  /**
   * Hyperparameters that replace the saved ones, per optimiser name (e.g. a resumed run given a new
   * learning rate): applied after the saved state is loaded, and validated with it.
   */
  optimizerHyper?: Record<string, Record<string, HyperValue>>;
}

/** A checkpoint that does not fit its targets; `problems` lists every reason, one line each. */
export class RestoreError extends Error {
  override name = 'RestoreError';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(
      `${source}: cannot restore (nothing was changed), ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`,
    );
  }
}

/** The metadata of a checkpoint, readable without restoring anything. */
export interface CheckpointInfo {
  step: number;
  config: Json;
  extra: Json;
  models: string[];
  optimizers: Record<string, { type: string; hyper: Record<string, HyperValue>; steps: Record<string, number> }>;
  schedulers: Record<string, { epoch: number; baseLr: number }>;
  rng: Record<string, GeneratorState>;
}

function checkName(kind: string, name: string): void {
  if (!name || name.includes('.') || (kind === 'model' && name === 'optim')) {
    throw new Error(`checkpoint: invalid ${kind} name '${name}' (non-empty, no dots${kind === 'model' ? ", not 'optim'" : ''})`);
  }
}

// ---- saving ---------------------------------------------------------------------------------------

/** Every tensor a checkpoint of `c` holds, under its checkpoint key, plus the optimisers' metadata. */
function checkpointTensors(c: CheckpointContents): {
  keys: string[];
  ts: Tensor[];
  optimizers: CheckpointInfo['optimizers'];
  models: [string, Module][];
} {
  const keys: string[] = [];
  const ts: Tensor[] = [];
  const models = Object.entries(c.models ?? {});
  for (const [name, m] of models) {
    checkName('model', name);
    for (const [k, t] of m.stateDict()) {
      keys.push(`${name}.${k}`);
      ts.push(t);
    }
  }
  const optimizers: CheckpointInfo['optimizers'] = {};
  for (const [name, o] of Object.entries(c.optimizers ?? {})) {
    checkName('optimizer', name);
    const sd = o.stateDict();
    optimizers[name] = { type: sd.type, hyper: sd.hyper, steps: sd.steps };
    for (const [k, t] of Object.entries(sd.tensors)) {
      keys.push(`optim.${name}.${k}`);
      ts.push(t as Tensor);
    }
  }
  return { keys, ts, optimizers, models };
}

/** Thrown instead of writing a checkpoint whose parameters, buffers or optimiser state are not all finite. */
export class NonFiniteCheckpointError extends Error {
  override name = 'NonFiniteCheckpointError';
  constructor(readonly bad: NonFiniteTensor[]) {
    super(`checkpoint: non-finite values (NaN or Inf) in ${describeNonFinite(bad)}; nothing was written`);
  }
}

/**
 * The checkpoint's tensors that hold NaN or Inf (parameters, buffers and optimiser state; checkpoint
 * keys), found on the GPU with one readback. Empty when everything is finite.
 */
export async function nonFiniteInCheckpoint(c: CheckpointContents): Promise<NonFiniteTensor[]> {
  const { keys, ts } = checkpointTensors(c);
  return nonFiniteTensors(keys.map((k, i) => [k, ts[i]] as const));
}

/**
 * A training checkpoint as safetensors bytes. With `requireFinite`, every tensor is checked first
 * (on the GPU, one readback) and a NonFiniteCheckpointError is thrown instead of returning bytes
 * that hold NaN or Inf.
 */
export async function checkpointToBytes(c: CheckpointContents, opts: { requireFinite?: boolean } = {}): Promise<Uint8Array> {
  if (opts.requireFinite) {
    const bad = await nonFiniteInCheckpoint(c);
    if (bad.length) throw new NonFiniteCheckpointError(bad);
  }
  const { keys, ts, optimizers, models } = checkpointTensors(c);
  const rng: Record<string, GeneratorState> = { default: defaultGenerator.getState() };
  for (const [name, g] of Object.entries(c.generators ?? {})) rng[name] = g.getState();
  const schedulers: CheckpointInfo['schedulers'] = {};
  for (const [name, s] of Object.entries(c.schedulers ?? {})) schedulers[name] = s.stateDict();
  // Everything host-side is captured above, synchronously, before the GPU reads are awaited.
  const data = await readTensors(ts);
  const tensors: Record<string, SafetensorsTensor> = {};
  keys.forEach((k, i) => (tensors[k] = toSafetensors(ts[i], data[i])));
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    format_version: String(CHECKPOINT_VERSION),
    step: String(c.step ?? 0),
    models: JSON.stringify(models.map(([n]) => n)),
    optimizers: JSON.stringify(optimizers),
    schedulers: JSON.stringify(schedulers),
    rng: JSON.stringify(rng),
    config: JSON.stringify(c.config ?? null),
    extra: JSON.stringify(c.extra ?? null),
  };
  return encodeSafetensors(tensors, metadata);
}

/** A module's plain PyTorch state_dict as safetensors bytes (metadata {format: 'pt'} plus any given). */
export async function modelToBytes(module: Module, metadata: Record<string, string> = {}): Promise<Uint8Array> {
  const sd = [...module.stateDict()];
  const data = await readTensors(sd.map(([, t]) => t));
  const tensors: Record<string, SafetensorsTensor> = {};
  sd.forEach(([k, t], i) => (tensors[k] = toSafetensors(t, data[i])));
  return encodeSafetensors(tensors, { format: 'pt', ...metadata });
}

// ---- loading --------------------------------------------------------------------------------------

function decode(src: Uint8Array | SafetensorsFile, source: string): SafetensorsFile {
  return src instanceof Uint8Array ? decodeSafetensors(src, source) : src;
}

function parseJson<T>(file: SafetensorsFile, key: string, fallback: T, source: string): T {
  const raw = file.metadata[key];
  if (raw === undefined) return fallback;
  try {
    return JSON.parse(raw) as T;
  } catch (e) {
    throw new Error(`${source}: metadata '${key}' is not valid JSON (${(e as Error).message})`);
  }
}

/** The checkpoint's metadata (step, config, names, optimiser settings) without restoring anything. */
export function checkpointInfo(src: Uint8Array | SafetensorsFile, source = 'checkpoint'): CheckpointInfo {
  const file = decode(src, source);
  const fmt = file.metadata.format;
  if (fmt !== CHECKPOINT_FORMAT) {
    throw new Error(
      `${source}: not a ${CHECKPOINT_FORMAT} file (metadata format is ${fmt === undefined ? 'missing' : `'${fmt}'`}); ` +
        'for a plain PyTorch state_dict use loadModel()',
    );
  }
  const bad = (key: string, why: string): never => {
    throw new Error(`${source}: metadata '${key}' ${why}`);
  };
  const rawVersion = file.metadata.format_version;
  if (rawVersion === undefined) bad('format_version', 'is missing');
  if (!/^[0-9]{1,9}$/.test(rawVersion) || Number(rawVersion) < 1)
    bad('format_version', `is ${JSON.stringify(rawVersion)}, not a version number (1, 2, ...)`);
  if (Number(rawVersion) > CHECKPOINT_VERSION)
    bad('format_version', `is ${rawVersion}: newer than this engine reads (${CHECKPOINT_VERSION}); update the engine`);
  const rawStep = file.metadata.step ?? '0';
  if (!/^[0-9]{1,16}$/.test(rawStep) || !Number.isSafeInteger(Number(rawStep)))
    bad('step', `is ${JSON.stringify(rawStep)}, not a non-negative integer`);
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  const models = parseJson<unknown>(file, 'models', [], source);
  if (!Array.isArray(models) || models.some((m) => typeof m !== 'string')) bad('models', 'is not a list of names');
  const optimizers = parseJson<unknown>(file, 'optimizers', {}, source);
  if (!isObj(optimizers)) bad('optimizers', 'is not an object');
  for (const [name, o] of Object.entries(optimizers as Record<string, unknown>)) {
    if (!isObj(o) || typeof o.type !== 'string' || !isObj(o.hyper) || !isObj(o.steps))
      bad('optimizers', `entry '${name}' needs a type, hyper and steps`);
    for (const [k, v] of Object.entries((o as { steps: Record<string, unknown> }).steps)) {
      if (!count(v))
        bad('optimizers', `entry '${name}': step count of parameter #${k} is ${JSON.stringify(v)}, not a non-negative integer`);
    }
  }
  const schedulers = parseJson<unknown>(file, 'schedulers', {}, source);
  if (!isObj(schedulers)) bad('schedulers', 'is not an object');
  for (const [name, v] of Object.entries(schedulers as Record<string, unknown>)) {
    if (!isObj(v) || typeof v.epoch !== 'number' || typeof v.baseLr !== 'number' || !Number.isFinite(v.baseLr))
      bad('schedulers', `entry '${name}' needs numbers epoch and baseLr`);
  }
  const rng = parseJson<unknown>(file, 'rng', {}, source);
  if (!isObj(rng)) bad('rng', 'is not an object');
  for (const [name, g] of Object.entries(rng as Record<string, unknown>)) {
    if (!isObj(g) || !count(g.seed) || !count(g.offset))
      bad('rng', `generator '${name}' needs integer seed and offset >= 0, got ${JSON.stringify(g)}`);
  }
  return {
    step: Number(rawStep),
    config: parseJson<Json>(file, 'config', null, source),
    extra: parseJson<Json>(file, 'extra', null, source),
    models: models as string[],
    optimizers: optimizers as CheckpointInfo['optimizers'],
    schedulers: schedulers as CheckpointInfo['schedulers'],
    rng: rng as CheckpointInfo['rng'],
  };
}

/** The entries under `prefix`, with the prefix removed. */
function entriesUnder(file: SafetensorsFile, prefix: string): Record<string, StateValue> {
  const out: Record<string, StateValue> = {};
  for (const [k, v] of Object.entries(file.tensors)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

/**
 * Restores models, optimisers, schedulers and generators from checkpoint bytes (or a decoded file)
 * and returns its metadata. Every requested name must be in the checkpoint; entries not asked for
 * are ignored (e.g. load only the generator to sample). Every model and optimiser is validated
 * before any is written: a checkpoint that does not fit throws and changes nothing.
 */
export function restoreCheckpoint(
  src: Uint8Array | SafetensorsFile,
  targets: CheckpointTargets,
  opts: RestoreOptions = {},
): CheckpointInfo {
  const source = opts.source ?? 'checkpoint';
  const file = decode(src, source);
  const info = checkpointInfo(file, source);
  const missing = (kind: string, name: string, have: string[]) =>
    new Error(`${source}: no ${kind} named '${name}' in the checkpoint (it has: ${have.length ? have.join(', ') : 'none'})`);
  // Check every name first so a bad request changes nothing.
  for (const name of Object.keys(targets.models ?? {})) if (!info.models.includes(name)) throw missing('model', name, info.models);
  for (const name of Object.keys(targets.optimizers ?? {}))
    if (!info.optimizers[name]) throw missing('optimizer', name, Object.keys(info.optimizers));
  for (const name of Object.keys(targets.schedulers ?? {}))
    if (!info.schedulers[name]) throw missing('scheduler', name, Object.keys(info.schedulers));
  for (const name of Object.keys(targets.generators ?? {})) if (!info.rng[name]) throw missing('generator', name, Object.keys(info.rng));

  // Validate every model and optimiser before writing any, so a bad checkpoint changes nothing.
  const strict = opts.strict ?? true;
  const modelDicts = Object.entries(targets.models ?? {}).map(([name, m]) => [name, m, entriesUnder(file, `${name}.`)] as const);
  const optimStates = Object.entries(targets.optimizers ?? {}).map(
    ([name, o]) => [name, o, { ...info.optimizers[name], tensors: entriesUnder(file, `optim.${name}.`) } as OptimizerStateDict] as const,
  );
  const problems: string[] = [];
  for (const [name, m, dict] of modelDicts) {
    const p = m.validateStateDict(dict, { strict }).problems;
    for (const x of p) problems.push(`model '${name}' (${m.typeName}): ${x}`);
  }
  const hyper = opts.optimizerHyper ?? {};
  for (const name of Object.keys(hyper))
    if (!targets.optimizers?.[name]) throw new Error(`${source}: optimizerHyper names '${name}', which is not being restored`);
  for (const [name, o, sd] of optimStates) {
    if (hyper[name]) sd.hyper = { ...sd.hyper, ...hyper[name] };
    const p = o.validateStateDict(sd);
    for (const x of p) problems.push(`optimizer '${name}' (${o.typeName}): ${x}`);
  }
  if (!opts.allowNonFinite) {
    const restored: Record<string, SafetensorsTensor> = {};
    for (const [name] of modelDicts) for (const [k, v] of Object.entries(file.tensors)) if (k.startsWith(`${name}.`)) restored[k] = v;
    for (const [name] of optimStates)
      for (const [k, v] of Object.entries(file.tensors)) if (k.startsWith(`optim.${name}.`)) restored[k] = v;
    for (const b of nonFiniteEntries(restored))
      problems.push(`${b.name} [${b.shape.join(', ')}] holds ${b.count} NaN/Inf value${b.count === 1 ? '' : 's'} (of ${b.size})`);
  }
  if (problems.length) throw new RestoreError(source, problems);
  for (const [, m, dict] of modelDicts) m.loadStateDict(dict, { strict });
  for (const [, o, sd] of optimStates) o.loadStateDict(sd);
  for (const [name, s] of Object.entries(targets.schedulers ?? {})) s.loadStateDict(info.schedulers[name]);
  for (const [name, g] of Object.entries(targets.generators ?? {})) g.setState(info.rng[name]);
  if ((opts.restoreDefaultGenerator ?? true) && info.rng.default) defaultGenerator.setState(info.rng.default);
  return info;
}

export interface LoadModelOptions {
  strict?: boolean;
  /** Load only the entries under this prefix (e.g. 'G.' to take a model out of a training checkpoint). */
  prefix?: string;
  source?: string;
}

/** Loads a PyTorch-style state_dict (bytes or a decoded file) into `module`. */
export function loadModelBytes(src: Uint8Array | SafetensorsFile, module: Module, opts: LoadModelOptions = {}): LoadStateDictResult {
  const source = opts.source ?? 'model file';
  const file = decode(src, source);
  const dict = opts.prefix ? entriesUnder(file, opts.prefix) : file.tensors;
  try {
    return module.loadStateDict(dict, { strict: opts.strict ?? true });
  } catch (e) {
    throw new Error(`${source}: ${(e as Error).message}`);
  }
}
