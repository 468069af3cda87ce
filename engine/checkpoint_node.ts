// Node file wrappers around the browser-safe checkpoint core (engine/checkpoint.ts): checkpoints
// and model files are written atomically (temp file, fsync, rename: a run killed mid-save keeps its
// previous checkpoint) and read with errors that name the path.
// Kept out of engine/index.ts because it imports node:fs; Node code imports it directly.

import { loadSafetensorsFile, writeFileAtomic } from './io/files.js';
import type { Module, LoadStateDictResult } from './nn/module.js';
import {
  checkpointInfo,
  checkpointToBytes,
  loadModelBytes,
  modelToBytes,
  restoreCheckpoint,
  type CheckpointContents,
  type CheckpointInfo,
  type CheckpointTargets,
  type LoadModelOptions,
  type RestoreOptions,
} from './checkpoint.js';

/**
 * Saves a training checkpoint (models, optimisers, schedulers, generator states, step, config).
 * `requireFinite`: check every tensor first and throw NonFiniteCheckpointError, leaving the file on
 * disk as it was, when any holds NaN or Inf.
 */
export async function saveCheckpoint(path: string, contents: CheckpointContents, opts: { requireFinite?: boolean } = {}): Promise<void> {
  await writeFileAtomic(path, await checkpointToBytes(contents, opts));
}

/** Restores what `targets` names from the checkpoint at `path`; returns its metadata. */
export async function loadCheckpoint(path: string, targets: CheckpointTargets, opts: RestoreOptions = {}): Promise<CheckpointInfo> {
  const file = await loadSafetensorsFile(path);
  return restoreCheckpoint(file, targets, { source: `checkpoint '${path}'`, ...opts });
}

/** Reads a checkpoint's metadata only. */
export async function readCheckpointMeta(path: string): Promise<CheckpointInfo> {
  return checkpointInfo(await loadSafetensorsFile(path), `checkpoint '${path}'`);
}

/** Saves `module`'s state_dict as a plain PyTorch-compatible safetensors file. */
export async function saveModel(path: string, module: Module, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, await modelToBytes(module, metadata));
}

/** Loads a PyTorch-style safetensors state_dict (or, with `prefix`, one model of a checkpoint). */
export async function loadModel(path: string, module: Module, opts: LoadModelOptions = {}): Promise<LoadStateDictResult> {
  const file = await loadSafetensorsFile(path);
  return loadModelBytes(file, module, { source: `model file '${path}'`, ...opts });
}
