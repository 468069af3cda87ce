// Training-run checkpoints for the CLI, on top of engine/checkpoint.ts. Besides the networks,
// optimizers and generator states that the engine's format carries, a run checkpoint records what
// is needed to continue exactly: the model name and its config, the training settings, the seed,
// the dataset and the data loader's position. Every failure to read one becomes a single line
// naming the path (exit 1).

import { nonFiniteEntries, type SafetensorsFile } from '../engine/io/safetensors.js';
import { loadSafetensorsFile } from '../engine/io/files.js';
import { checkpointInfo, restoreCheckpoint, RestoreError, type CheckpointInfo, type Json } from '../engine/checkpoint.js';
import type { HyperValue } from '../engine/optim.js';
import { saveCheckpoint } from '../engine/checkpoint_node.js';
import type { LoaderState } from '../data/loader.js';
import type { GanTrainer, ModelConfig, TrainSettings } from '../nets/registry.js';
import { CliError, firstLine } from './common.js';

/** What the CLI stores in a checkpoint's config/extra metadata. */
export interface RunInfo {
  model: string;
  config: ModelConfig;
  settings: TrainSettings;
  seed: number;
  step: number;
  loader: LoaderState | null;
  dataset: string;
  /** Training images used (0: the whole dataset): part of the data order, so a resume keeps it. */
  limit: number;
}

export interface LoadedCheckpoint {
  info: RunInfo;
  file: SafetensorsFile;
  engineInfo: CheckpointInfo;
  /** Entries of engineInfo.models that are training state (GanTrainer.trainingState), not networks. */
  trainingState: string[];
  /**
   * A networks-only file that holds some of the trainer's networks (extra.networksOnly, e.g. a
   * zoo export with the generator alone): a restore without optimisers loads just these. Null: all.
   */
  networksOnly: string[] | null;
  /**
   * A networks-only file's record of its run's optimiser step counts (extra.optimizerSteps: optimiser
   * -> parameter index -> count; a zoo export keeps them, without the optimisers' state), restored
   * with the networks so training state that follows them (StackGAN's phase) is where the run left it.
   */
  optimizerSteps: Record<string, Record<string, number>> | null;
}

/**
 * Saves the trainer's networks, optimizers and noise generator plus the run's position. Every
 * parameter, buffer and optimiser state tensor is checked on the GPU first: if any holds NaN or Inf
 * a NonFiniteCheckpointError is thrown and the file on disk is left as it was.
 */
export async function saveRunCheckpoint(path: string, trainer: GanTrainer, run: RunInfo): Promise<void> {
  const config: Json = { model: run.model, config: run.config, settings: { ...run.settings }, seed: run.seed };
  const state = trainer.trainingState ?? {};
  const extra: Json = {
    loader: run.loader ? { ...run.loader } : null,
    dataset: run.dataset,
    limit: run.limit,
    trainingState: Object.keys(state),
  };
  await saveCheckpoint(
    path,
    {
      models: { ...trainer.nets, ...state },
      optimizers: trainer.optimizers,
      generators: { train: trainer.rng },
      step: run.step,
      config,
      extra,
    },
    { requireFinite: true },
  );
}

function asObject(v: Json | undefined): Record<string, Json> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : null;
}

/** Reads and checks a run checkpoint; `command` prefixes the one-line error. */
export async function loadRunCheckpoint(command: string, path: string): Promise<LoadedCheckpoint> {
  let file: SafetensorsFile;
  let engineInfo: CheckpointInfo;
  try {
    file = await loadSafetensorsFile(path);
    engineInfo = checkpointInfo(file, `checkpoint '${path}'`);
  } catch (e) {
    const msg = firstLine(e);
    throw new CliError(`${command}: ${msg.includes(path) ? msg : `cannot read checkpoint '${path}': ${msg}`}`, 1);
  }
  const cfg = asObject(engineInfo.config);
  const extra = asObject(engineInfo.extra);
  if (!cfg || typeof cfg.model !== 'string' || !asObject(cfg.config) || !asObject(cfg.settings)) {
    throw new CliError(`${command}: checkpoint '${path}' was not written by \`gan train\` (no model/config in its metadata)`, 1);
  }
  const bad = (field: string, why: string): never => {
    throw new CliError(`${command}: checkpoint '${path}': metadata ${field} ${why}`, 1);
  };
  const isCount = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  const settings = cfg.settings as Record<string, Json>;
  for (const k of ['steps', 'batch', 'sampleEvery', 'ckptEvery', 'logEvery'] as const) {
    if (settings[k] !== undefined && !isCount(settings[k]))
      bad(`config.settings.${k}`, `is ${JSON.stringify(settings[k])}, not a non-negative integer`);
  }
  for (const k of ['lr', 'beta1', 'beta2'] as const) {
    const v = settings[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0))
      bad(`config.settings.${k}`, `is ${JSON.stringify(v)}, not a finite number >= 0`);
  }
  if (cfg.seed !== undefined && !isCount(cfg.seed)) bad('config.seed', `is ${JSON.stringify(cfg.seed)}, not a non-negative integer`);
  for (const [k, v] of Object.entries(cfg.config as Record<string, Json>)) {
    if (v !== null && typeof v === 'object') bad(`config.config.${k}`, `is ${JSON.stringify(v)}, not a number, string or boolean`);
    if (typeof v === 'number' && !Number.isFinite(v)) bad(`config.config.${k}`, `is ${v}`);
  }
  if (extra?.loader !== undefined && extra.loader !== null) {
    const l = asObject(extra.loader);
    if (!l || !isCount(l.seed) || !isCount(l.epoch) || !isCount(l.cursor))
      bad('extra.loader', `is ${JSON.stringify(extra.loader)}, not {seed, epoch, cursor} non-negative integers`);
  }
  if (extra?.limit !== undefined && !isCount(extra.limit))
    bad('extra.limit', `is ${JSON.stringify(extra.limit)}, not a non-negative integer`);
  if (extra?.dataset !== undefined && typeof extra.dataset !== 'string')
    bad('extra.dataset', `is ${JSON.stringify(extra.dataset)}, not a name`);
  const nonFinite = nonFiniteEntries(file.tensors);
  if (nonFinite.length) {
    const list = nonFinite
      .slice(0, 3)
      .map((b) => `${b.name} [${b.shape.join(', ')}] (${b.count} of ${b.size} values)`)
      .join(', ');
    const more = nonFinite.length > 3 ? `, and ${nonFinite.length - 3} more tensors` : '';
    throw new CliError(
      `${command}: checkpoint '${path}' holds NaN/Inf values in ${list}${more}; it cannot be used (did the run diverge before this save? use an earlier checkpoint)`,
      1,
    );
  }
  const stepsOk = (v: Json): boolean => {
    const o = asObject(v);
    return (
      !!o &&
      Object.values(o).every((c) => {
        const counts = asObject(c);
        return !!counts && Object.values(counts).every(isCount);
      })
    );
  };
  if (extra?.optimizerSteps !== undefined && extra.optimizerSteps !== null && !stepsOk(extra.optimizerSteps))
    bad('extra.optimizerSteps', `is ${JSON.stringify(extra.optimizerSteps)}, not {optimizer: {parameter index: step count}}`);
  const loader = asObject(extra?.loader ?? null) as unknown as LoaderState | null;
  const state = Array.isArray(extra?.trainingState) ? extra.trainingState.filter((s): s is string => typeof s === 'string') : [];
  if (
    extra?.networksOnly !== undefined &&
    !(Array.isArray(extra.networksOnly) && extra.networksOnly.every((s) => typeof s === 'string' && engineInfo.models.includes(s)))
  ) {
    bad(
      'extra.networksOnly',
      `is ${JSON.stringify(extra.networksOnly)}, not a list of the file's networks (${engineInfo.models.join(', ')})`,
    );
  }
  return {
    file,
    engineInfo,
    trainingState: state,
    networksOnly: Array.isArray(extra?.networksOnly) ? (extra.networksOnly as string[]) : null,
    optimizerSteps: asObject(extra?.optimizerSteps ?? null) as LoadedCheckpoint['optimizerSteps'],
    info: {
      model: cfg.model,
      config: cfg.config as ModelConfig,
      settings: cfg.settings as unknown as TrainSettings,
      seed: Number(cfg.seed ?? 0),
      step: engineInfo.step,
      loader,
      dataset: typeof extra?.dataset === 'string' ? extra.dataset : String((cfg.settings as Record<string, Json>).dataset ?? ''),
      limit: typeof extra?.limit === 'number' ? extra.limit : 0,
    },
  };
}

/** Metadata only (model name, config, step) of a run checkpoint. */
export async function readCheckpointInfo(command: string, path: string): Promise<RunInfo> {
  return (await loadRunCheckpoint(command, path)).info;
}

/**
 * Whether the checkpoint holds the trainer's optimisers and noise stream (a `gan train` checkpoint;
 * `gan convert` writes networks only), so a full restore can bring back state that follows them,
 * such as StackGAN's phase (its optimisers' step counts).
 */
export function hasOptimiserState(ck: LoadedCheckpoint, trainer: GanTrainer): boolean {
  return Object.keys(trainer.optimizers).every((k) => ck.engineInfo.optimizers[k] !== undefined) && ck.engineInfo.rng.train !== undefined;
}

/**
 * Restores the trainer from a loaded checkpoint: every network, and when `full` the optimizers, the
 * noise generator and the training state too (a resume); sampling needs only the networks. Returns
 * the names of the trainer's training state that the checkpoint lacks (an older checkpoint: those
 * start afresh, so the resume is not exact; the caller says so).
 */
export function restoreTrainer(
  command: string,
  path: string,
  ck: LoadedCheckpoint,
  trainer: GanTrainer,
  full: boolean,
  optimizerHyper?: Record<string, Record<string, HyperValue>>,
): string[] {
  const state = full ? (trainer.trainingState ?? {}) : {};
  let nets = trainer.nets;
  if (!full && ck.networksOnly) {
    // A networks-only file with some of the networks (the generator of a zoo export): those, and
    // the one that samples must be among them.
    if (!ck.networksOnly.includes(trainer.sampler)) {
      throw new CliError(
        `${command}: '${path}' holds ${ck.networksOnly.join(', ')} only, not ${trainer.sampler}, the network that generates`,
        1,
      );
    }
    nets = Object.fromEntries(Object.entries(trainer.nets).filter(([k]) => ck.networksOnly!.includes(k)));
  }
  const present = Object.fromEntries(Object.entries(state).filter(([k]) => ck.trainingState.includes(k)));
  try {
    restoreCheckpoint(
      ck.file,
      full
        ? { models: { ...trainer.nets, ...present }, optimizers: trainer.optimizers, generators: { train: trainer.rng } }
        : { models: nets },
      { source: `checkpoint '${path}'`, restoreDefaultGenerator: full, optimizerHyper: full ? optimizerHyper : undefined },
    );
  } catch (e) {
    if (e instanceof RestoreError) throw new CliError(`${command}: ${formatRestoreError(e)}`, 1);
    throw new CliError(`${command}: ${firstLine(e)}`, 1);
  }
  if (!full && ck.optimizerSteps) {
    // Networks-only weights with their run's step counts: the schedule position, not the state.
    for (const [name, steps] of Object.entries(ck.optimizerSteps)) {
      const o = trainer.optimizers[name];
      if (!o) continue;
      try {
        o.setStepCounts(steps);
      } catch (e) {
        throw new CliError(`${command}: '${path}' extra.optimizerSteps of '${name}': ${firstLine(e)}`, 1);
      }
    }
  }
  return Object.keys(state).filter((k) => !(k in present));
}

/** How many of a restore's problems the CLI lists before "and N more". */
export const RESTORE_PROBLEMS_SHOWN = 8;

/** The first line, then the first few problems (expected vs found), then a count of the rest. */
export function formatRestoreError(e: RestoreError, shown = RESTORE_PROBLEMS_SHOWN): string {
  const n = e.problems.length;
  const lines = [`${e.source}: cannot restore (nothing was changed), ${n} problem${n === 1 ? '' : 's'}:`];
  for (const p of e.problems.slice(0, shown)) lines.push(`  ${p}`);
  if (n > shown) lines.push(`  ... and ${n - shown} more`);
  return lines.join('\n');
}
