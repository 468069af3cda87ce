// `gan info`: which GPU adapter the engine gets here, its limits and features, and the models the
// CLI can train. Useful first thing on a new machine (and in bug reports).
// `gan info <file.safetensors>`: what a checkpoint holds, read from its header without a GPU: the
// run (model, step, dataset, seed, config, settings), each network's parameter count, the
// optimisers with their step counts, the training state; or, for a plain state_dict (PyTorch's or
// `gan convert`'s), its tensors grouped by top-level module.

import { statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { describeAdapter, fmtBytes } from '../engine/device.js';
import { CHECKPOINT_FORMAT, checkpointInfo, type CheckpointInfo } from '../engine/checkpoint.js';
import { loadSafetensorsFile } from '../engine/io/files.js';
import { nonFiniteEntries } from '../engine/io/safetensors.js';
import type { SafetensorsFile } from '../engine/io/safetensors.js';
import { recipes } from '../nets/registry.js';
import { acquireEngine, CliError, exampleCheckpoint, firstLine, out, parseOrHelp, table } from './common.js';

const spec = {
  command: 'gan info',
  description:
    'Print the WebGPU adapter, its limits and features, and the models available; or, given a\n' +
    'safetensors file, what it holds (run, networks and parameter counts, optimisers), without a GPU.',
  options: {
    json: { type: 'boolean', help: 'print one JSON object instead of tables' },
  },
  positionals: [{ name: 'file', help: 'a checkpoint (gan train) or state_dict (PyTorch, gan convert) .safetensors to describe' }],
  examples: ['gan info', `gan info ${exampleCheckpoint()}`],
} as const;

/** Buffers (not parameters) by their PyTorch names. */
const BUFFER = /(^|\.)(running_mean|running_var|num_batches_tracked)$/;

interface ModuleSummary {
  parameters: number;
  parameterTensors: number;
  buffers: number;
  dtypes: string[];
}

/** Parameter and buffer counts of the tensors under `prefix`, grouped by `groupOf` of the rest of each name. */
function summarise(file: SafetensorsFile, prefix: string, groupOf: (rest: string) => string): Record<string, ModuleSummary> {
  const res: Record<string, ModuleSummary> = {};
  for (const [key, t] of Object.entries(file.tensors)) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    const name = groupOf(rest);
    const m = (res[name] ??= { parameters: 0, parameterTensors: 0, buffers: 0, dtypes: [] });
    if (BUFFER.test(rest)) m.buffers++;
    else {
      m.parameters += t.shape.reduce((a, b) => a * b, 1);
      m.parameterTensors++;
    }
    if (!m.dtypes.includes(t.dtype)) m.dtypes.push(t.dtype);
  }
  return res;
}

const count = (n: number) => n.toLocaleString('en-US');
/** The path as the user would type it: relative below the working directory, absolute elsewhere. */
const shownPath = (p: string) => {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith('..') ? r : p;
};

/** What `gan train` writes is F32 (and I64 counters); anything else is worth showing. */
const unusual = (dtypes: readonly string[]) => (dtypes.some((d) => d !== 'F32' && d !== 'I64') ? ` (${dtypes.join(', ')})` : '');

function describeRunCheckpoint(path: string, file: SafetensorsFile, info: CheckpointInfo, json: boolean): void {
  const cfg = (info.config ?? {}) as Record<string, unknown>;
  const extra = (info.extra ?? {}) as Record<string, unknown>;
  const state = Array.isArray(extra.trainingState) ? (extra.trainingState as string[]) : [];
  const networks: Record<string, ModuleSummary> = {};
  for (const m of info.models)
    networks[m] = summarise(file, `${m}.`, () => m)[m] ?? { parameters: 0, parameterTensors: 0, buffers: 0, dtypes: [] };
  const settings = (cfg.settings ?? {}) as Record<string, unknown>;
  const model = String(cfg.model ?? '');
  const summary = {
    file: path,
    bytes: statSync(path).size,
    format: CHECKPOINT_FORMAT,
    model: model || null,
    step: info.step,
    steps: settings.steps ?? null,
    dataset: extra.dataset ?? settings.dataset ?? null,
    seed: cfg.seed ?? null,
    config: cfg.config ?? null,
    settings,
    networks: Object.fromEntries(Object.entries(networks).filter(([k]) => !state.includes(k))),
    trainingState: Object.fromEntries(Object.entries(networks).filter(([k]) => state.includes(k))),
    optimizers: Object.fromEntries(
      Object.entries(info.optimizers).map(([k, o]) => [k, { type: o.type, hyper: o.hyper, steps: Math.max(0, ...Object.values(o.steps)) }]),
    ),
    rng: Object.keys(info.rng),
  };
  if (json) {
    out.line(JSON.stringify(summary));
    return;
  }
  const kv = (o: unknown) =>
    Object.entries((o ?? {}) as Record<string, unknown>)
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`)
      .join(' ');
  const shown = shownPath(path);
  out.line(`${shown}: a gan train checkpoint (${fmtBytes(summary.bytes)})`);
  out.line(
    table([
      ['model', model ? `${model}${recipes[model] ? '' : ' (not in this build)'}` : '-'],
      ['step', `${info.step}${summary.steps ? ` of ${summary.steps}` : ''}`],
      ['dataset', String(summary.dataset ?? '-')],
      ['seed', String(summary.seed ?? '-')],
      ['config', kv(summary.config) || '-'],
      ['settings', kv(Object.fromEntries(Object.entries(settings).filter(([k]) => k !== 'dataset'))) || '-'],
    ]),
  );
  out.line('Networks');
  const total = Object.values(summary.networks).reduce((a, b) => a + b.parameters, 0);
  out.line(
    table([
      ...Object.entries(summary.networks).map(([k, n]): [string, string] => [
        k,
        `${count(n.parameters)} parameters in ${n.parameterTensors} tensors${n.buffers ? `, ${n.buffers} buffers` : ''}${unusual(n.dtypes)}`,
      ]),
      ['total', `${count(total)} parameters`],
    ]),
  );
  if (Object.keys(summary.optimizers).length) {
    out.line('Optimisers');
    out.line(
      table(Object.entries(summary.optimizers).map(([k, o]): [string, string] => [k, `${o.type} ${kv(o.hyper)} (${o.steps} steps)`])),
    );
  }
  if (state.length) out.line(`Training state: ${state.join(', ')}`);
  if (model && recipes[model]) out.line(`Continue: gan train ${model} --resume ${shown} --steps N; sample: gan sample ${shown}`);
}

function describeStateDict(path: string, file: SafetensorsFile, json: boolean): void {
  const modules = summarise(file, '', (rest) => (rest.includes('.') ? rest.slice(0, rest.indexOf('.')) : '(top level)'));
  const total = Object.values(modules).reduce((a, b) => a + b.parameters, 0);
  const bytes = statSync(path).size;
  if (json) {
    out.line(
      JSON.stringify({
        file: path,
        bytes,
        format: file.metadata.format ?? null,
        tensors: Object.keys(file.tensors).length,
        parameters: total,
        modules,
        metadata: file.metadata,
      }),
    );
    return;
  }
  const shown = shownPath(path);
  out.line(
    `${shown}: a state_dict (${fmtBytes(bytes)}, metadata format ${file.metadata.format ?? 'none'}), ${Object.keys(file.tensors).length} tensors, ${count(total)} parameters`,
  );
  out.line(
    table(
      Object.entries(modules).map(([k, m]): [string, string] => [
        k,
        `${count(m.parameters)} parameters in ${m.parameterTensors} tensors${m.buffers ? `, ${m.buffers} buffers` : ''} (${m.dtypes.join(', ')})`,
      ]),
    ),
  );
  const other = Object.entries(file.metadata).filter(([k]) => k !== 'format');
  if (other.length) out.line(`Metadata: ${other.map(([k, v]) => `${k}=${v.length > 60 ? `${v.slice(0, 57)}...` : v}`).join(' ')}`);
}

async function describeFile(arg: string, json: boolean): Promise<void> {
  const path = resolve(arg);
  let file: SafetensorsFile;
  try {
    file = await loadSafetensorsFile(path);
  } catch (e) {
    const msg = firstLine(e);
    throw new CliError(`gan info: ${msg.includes(arg) || msg.includes(path) ? msg : `cannot read '${arg}': ${msg}`}`, 1);
  }
  if (file.metadata.format === CHECKPOINT_FORMAT) {
    let info: CheckpointInfo;
    try {
      info = checkpointInfo(file, `checkpoint '${arg}'`);
    } catch (e) {
      throw new CliError(`gan info: ${firstLine(e)}`, 1);
    }
    describeRunCheckpoint(path, file, info, json);
  } else {
    describeStateDict(path, file, json);
  }
  // Described as it is, but a file with NaN/Inf weights is not usable: say which, and exit 1.
  const bad = nonFiniteEntries(file.tensors);
  if (bad.length) {
    const list = bad
      .slice(0, 3)
      .map((b) => `${b.name} [${b.shape.join(', ')}] (${b.count} of ${b.size} values)`)
      .join(', ');
    throw new CliError(
      `gan info: '${path}' holds NaN/Inf values in ${list}${bad.length > 3 ? `, and ${bad.length - 3} more tensors` : ''}; it cannot be used for sampling or training`,
      1,
    );
  }
}

/** Limits worth knowing for this engine, in the order shown. Byte-sized ones print as sizes. */
const LIMITS: readonly [string, boolean][] = [
  ['maxStorageBufferBindingSize', true],
  ['maxBufferSize', true],
  ['maxComputeWorkgroupStorageSize', true],
  ['maxComputeInvocationsPerWorkgroup', false],
  ['maxComputeWorkgroupSizeX', false],
  ['maxComputeWorkgroupSizeY', false],
  ['maxComputeWorkgroupSizeZ', false],
  ['maxComputeWorkgroupsPerDimension', false],
  ['maxStorageBuffersPerShaderStage', false],
  ['maxUniformBufferBindingSize', true],
  ['minStorageBufferOffsetAlignment', false],
  ['minUniformBufferOffsetAlignment', false],
];

export async function infoCommand(argv: readonly string[]): Promise<number> {
  const args = parseOrHelp(argv, spec);
  if (!args) return 0;
  if (args.positionals[0] !== undefined) {
    await describeFile(args.positionals[0], !!args.options.json);
    return 0;
  }
  const e = await acquireEngine('gan info');
  const a = e.adapter;
  const limits = e.limits as unknown as Record<string, number>;
  const features = [...e.features].sort();
  if (args.options.json) {
    out.line(
      JSON.stringify({
        adapter: a,
        limits: Object.fromEntries(LIMITS.map(([k]) => [k, limits[k]])),
        features,
        models: Object.keys(recipes),
        node: process.version,
      }),
    );
    e.destroy();
    return 0;
  }
  out.line('Adapter');
  out.line(
    table([
      ['description', describeAdapter(a)],
      ['vendor', a.vendor || '-'],
      ['architecture', a.architecture || '-'],
      ['device', a.device || '-'],
      ['fallback (software)', a.isFallbackAdapter ? 'yes' : 'no'],
      ['backend', a.backend],
      ['node', process.version],
    ]),
  );
  out.line('');
  out.line('Limits');
  out.line(
    table(
      LIMITS.filter(([k]) => typeof limits[k] === 'number').map(([k, bytes]) => [
        k,
        bytes ? `${fmtBytes(limits[k])} (${limits[k]})` : String(limits[k]),
      ]),
    ),
  );
  out.line('');
  out.line('Features');
  const wanted = ['timestamp-query', 'shader-f16', 'subgroups'];
  out.line(table(wanted.map((f) => [f, e.features.has(f) ? 'yes' : 'no'])));
  const others = features.filter((f) => !wanted.includes(f));
  if (others.length) out.line(`  other: ${others.join(', ')}`);
  out.line('');
  out.line('Models');
  out.line(table(Object.values(recipes).map((r) => [r.name, r.description])));
  e.destroy();
  return 0;
}
