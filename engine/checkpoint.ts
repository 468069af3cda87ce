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

import { Tensor } from './tensor.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsFile, type SafetensorsTensor } from './io/safetensors.js';
import { defaultGenerator, type Generator, type GeneratorState } from './ops/random.js';
import { Module, type LoadStateDictResult } from './nn/module.js';
import { readTensors, toSafetensors, type StateValue } from './nn/state.js';
import type { LRScheduler, Optimizer, OptimizerStateDict, HyperValue } from './optim.js';

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

/** A training checkpoint as safetensors bytes. */
export async function checkpointToBytes(c: CheckpointContents): Promise<Uint8Array> {
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
  const version = Number(file.metadata.format_version);
  if (!(version <= CHECKPOINT_VERSION)) throw new Error(`${source}: checkpoint format version ${file.metadata.format_version} is newer than this engine reads (${CHECKPOINT_VERSION})`);
  return {
    step: Number(file.metadata.step ?? 0),
    config: parseJson<Json>(file, 'config', null, source),
    extra: parseJson<Json>(file, 'extra', null, source),
    models: parseJson<string[]>(file, 'models', [], source),
    optimizers: parseJson(file, 'optimizers', {}, source),
    schedulers: parseJson(file, 'schedulers', {}, source),
    rng: parseJson(file, 'rng', {}, source),
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
export function restoreCheckpoint(src: Uint8Array | SafetensorsFile, targets: CheckpointTargets, opts: RestoreOptions = {}): CheckpointInfo {
  const source = opts.source ?? 'checkpoint';
  const file = decode(src, source);
  const info = checkpointInfo(file, source);
  const missing = (kind: string, name: string, have: string[]) =>
    new Error(`${source}: no ${kind} named '${name}' in the checkpoint (it has: ${have.length ? have.join(', ') : 'none'})`);
  // Check every name first so a bad request changes nothing.
  for (const name of Object.keys(targets.models ?? {})) if (!info.models.includes(name)) throw missing('model', name, info.models);
  for (const name of Object.keys(targets.optimizers ?? {})) if (!info.optimizers[name]) throw missing('optimizer', name, Object.keys(info.optimizers));
  for (const name of Object.keys(targets.schedulers ?? {})) if (!info.schedulers[name]) throw missing('scheduler', name, Object.keys(info.schedulers));
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
    if (p.length) problems.push(`model '${name}' (${m.typeName}):\n\t${p.join('\n\t')}`);
  }
  for (const [name, o, sd] of optimStates) {
    const p = o.validateStateDict(sd);
    if (p.length) problems.push(`optimizer '${name}' (${o.typeName}):\n\t${p.join('\n\t')}`);
  }
  if (problems.length) throw new Error(`${source}: cannot restore (nothing was changed):\n${problems.join('\n')}`);
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
