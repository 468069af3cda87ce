// `gan convert`: moves weights between PyTorch and the engine, with a key-by-key report.
//
//   engine checkpoint -> PyTorch: each network's state_dict becomes <out>/<net>.safetensors with the
//     reference implementation's keys (main.0.weight, ..., num_batches_tracked as int64), loadable
//     with safetensors.torch.load_file + net.load_state_dict. The checkpoint is first checked against
//     the model it names (every tensor's presence, shape and dtype, and finite values), which builds
//     the model on the GPU; one that does not fit is reported and nothing is written.
//   PyTorch -> engine checkpoint: one safetensors state_dict per network (e.g. netG.safetensors
//     saved from the DCGAN example). Each file's network is recognised from its keys (or named with
//     --net), the architecture is read from the weight shapes (flags may pin it), every key is
//     checked against the engine's module (missing, unexpected, shape or dtype mismatches, NaN/Inf), and the weights
//     go into a checkpoint that `gan sample` and `gan train --resume` accept. Networks not given
//     keep their fresh initialisation. Any mismatch prints the report and exits 1.

import { dirname, join, relative, resolve } from 'node:path';
import { kebab, type OptionSpec } from './lib/args.js';
import { CHECKPOINT_FORMAT } from '../engine/checkpoint.js';
import { loadSafetensorsFile, saveSafetensorsFile } from '../engine/io/files.js';
import { nonFiniteEntries, type SafetensorsFile, type SafetensorsTensor } from '../engine/io/safetensors.js';
import { checkState } from '../engine/nn/state.js';
import { fmtCount } from '../engine/nn/module.js';
import { getRecipe, recipes, type ModelConfig, type ModelRecipe } from '../nets/registry.js';
import { DATASETS } from './datasets.js';
import { acquireEngine, CliError, exampleCheckpoint, exampleModel, firstLine, out, parseOrHelp, usageError } from './common.js';
import { loadRunCheckpoint, restoreTrainer, saveRunCheckpoint } from './checkpoint_io.js';

/** The first registered model: --model's default and the examples' model. */
const FIRST_MODEL = exampleModel();

const spec = {
  command: 'gan convert',
  description:
    'Convert between PyTorch safetensors state_dicts and engine checkpoints, checking every key.\n' +
    'Engine checkpoint in: writes one PyTorch state_dict per network into --out (a directory).\n' +
    'PyTorch state_dict(s) in: writes an engine checkpoint to --out (a .safetensors file).',
  options: {
    out: { type: 'string', metavar: 'PATH', help: 'output directory (to PyTorch) or checkpoint file (to engine)' },
    model: { type: 'string', default: FIRST_MODEL, choices: Object.keys(recipes), help: 'model the PyTorch weights belong to' },
    net: { type: 'string', metavar: 'NAME', help: 'which network a single PyTorch file holds (default: recognised from its keys)' },
    imageSize: { type: 'int', metavar: 'N', help: 'architecture flags: override what is read from the shapes' },
    nz: { type: 'int', metavar: 'N' },
    ngf: { type: 'int', metavar: 'N' },
    ndf: { type: 'int', metavar: 'N' },
    nc: { type: 'int', metavar: 'N', help: 'image channels' },
  } satisfies Record<string, OptionSpec>,
  positionals: [{ name: 'input', help: 'an engine checkpoint, or one PyTorch .safetensors per network', required: true }],
  rest: true,
  examples: [
    `gan convert ${exampleCheckpoint()} --out pytorch/     # -> pytorch/netG.safetensors, pytorch/netD.safetensors`,
    `gan convert netG.safetensors netD.safetensors --out ${FIRST_MODEL}.safetensors`,
  ],
} as const;

/** One file's keys against a module's state_dict. */
interface KeyReport {
  matched: string[];
  missing: string[];
  unexpected: string[];
  shapeMismatch: string[];
  params: number;
}

async function readFile(path: string): Promise<SafetensorsFile> {
  try {
    return await loadSafetensorsFile(path);
  } catch (e) {
    throw new CliError(`gan convert: ${firstLine(e)}`, 1);
  }
}

const fmtShape = (s: readonly number[]) => `[${s.join(', ')}]`;

export async function convertCommand(argv: readonly string[]): Promise<number> {
  const args = parseOrHelp(argv, spec);
  if (!args) return 0;
  const inputs = args.positionals.map((p) => resolve(p));
  const files = await Promise.all(inputs.map(readFile));
  const isCheckpoint = files.map((f) => f.metadata.format === CHECKPOINT_FORMAT);
  if (isCheckpoint.some(Boolean)) {
    if (inputs.length > 1) throw usageError('gan convert', 'give one engine checkpoint, or one PyTorch file per network, not both');
    return toPytorch(inputs[0], files[0], args.options.out);
  }
  const recipe = getRecipe(args.options.model)!;
  return toEngine(recipe, inputs, files, args.options as unknown as Record<string, string | number | undefined>);
}

/** Engine checkpoint -> one plain state_dict file per network (host-side only). */
async function toPytorch(path: string, file: SafetensorsFile, outOpt: string | undefined): Promise<number> {
  const ck = await loadRunCheckpoint('gan convert', path);
  // Check the networks against the model the checkpoint names before writing anything.
  const recipe = getRecipe(ck.info.model);
  if (!recipe) throw new CliError(`gan convert: checkpoint '${path}' is for model '${ck.info.model}', which this build does not know`, 1);
  const problems = recipe.validate(ck.info.config);
  if (problems.length)
    throw new CliError(`gan convert: checkpoint '${path}': its config does not describe a valid ${recipe.name}: ${problems[0]}`, 1);
  const e = await acquireEngine('gan convert');
  try {
    const trainer = recipe.create(ck.info.config, ck.info.settings, ck.info.seed);
    restoreTrainer('gan convert', path, ck, trainer, false);
  } finally {
    e.destroy();
  }
  const outDir = resolve(outOpt ?? join(dirname(path), 'pytorch'));
  const rel = (p: string) => relative(process.cwd(), p) || '.';
  out.line(`gan convert: ${ck.info.model} checkpoint (step ${ck.info.step}) -> PyTorch state_dicts in ${rel(outDir)}`);
  for (const net of ck.engineInfo.models) {
    if (ck.trainingState.includes(net)) continue; // training state (e.g. an image pool), not a network
    const prefix = `${net}.`;
    const tensors: Record<string, SafetensorsTensor> = {};
    let params = 0;
    for (const [k, t] of Object.entries(file.tensors)) {
      if (!k.startsWith(prefix)) continue;
      tensors[k.slice(prefix.length)] = t;
      if (!k.endsWith('num_batches_tracked') && !k.endsWith('running_mean') && !k.endsWith('running_var')) params += t.data.length;
    }
    const target = join(outDir, `${net}.safetensors`);
    try {
      await saveSafetensorsFile(target, tensors, { format: 'pt', model: ck.info.model, config: JSON.stringify(ck.info.config) });
    } catch (e) {
      throw new CliError(`gan convert: ${firstLine(e)}`, 1);
    }
    const keys = Object.keys(tensors);
    out.line(
      `  ${net.padEnd(6)} ${String(keys.length).padStart(3)} tensors, ${fmtCount(params)} parameters -> ${rel(target)}  (${keys.slice(0, 3).join(', ')}${keys.length > 3 ? ', ...' : ''})`,
    );
  }
  out.line('  load in PyTorch: net.load_state_dict(safetensors.torch.load_file(path))');
  return 0;
}

function shapesOf(file: SafetensorsFile): Map<string, readonly number[]> {
  return new Map(Object.entries(file.tensors).map(([k, t]) => [k, t.shape]));
}

/** PyTorch state_dicts (one per network) -> engine checkpoint. */
async function toEngine(
  recipe: ModelRecipe,
  inputs: string[],
  files: SafetensorsFile[],
  opts: Record<string, string | number | undefined>,
): Promise<number> {
  const cmd = 'gan convert';
  const rel = (p: string) => relative(process.cwd(), p) || '.';
  if (!recipe.inferConfig) throw new CliError(`${cmd}: ${recipe.name} does not support importing PyTorch weights yet`, 1);
  const netNames = ['netG', 'netD'];

  // Which network is each file, and what architecture do its shapes imply?
  if (opts.net !== undefined && inputs.length > 1) throw usageError(cmd, '--net names the network of a single input file');
  const assigned = new Map<string, number>();
  let inferred: Partial<ModelConfig> = {};
  files.forEach((f, i) => {
    const shapes = shapesOf(f);
    const candidates = (opts.net !== undefined ? [String(opts.net)] : netNames).filter((n) => recipe.inferConfig!(n, shapes));
    if (opts.net !== undefined && !netNames.includes(String(opts.net)))
      throw usageError(cmd, `--net must be one of ${netNames.join(', ')}; got '${opts.net}'`);
    if (candidates.length !== 1) {
      throw new CliError(
        `${cmd}: cannot tell which ${recipe.name} network '${rel(inputs[i])}' holds (its keys match ${candidates.length ? candidates.join(' and ') : 'none'}); name it with --net`,
        1,
      );
    }
    const net = candidates[0];
    if (assigned.has(net)) throw new CliError(`${cmd}: '${rel(inputs[assigned.get(net)!])}' and '${rel(inputs[i])}' both hold ${net}`, 1);
    assigned.set(net, i);
    const part = recipe.inferConfig!(net, shapes)!;
    for (const [k, v] of Object.entries(part)) {
      if (inferred[k] !== undefined && inferred[k] !== v) {
        throw new CliError(`${cmd}: the files disagree on ${k} (${inferred[k]} vs ${v}); are they from the same model?`, 1);
      }
      inferred = { ...inferred, [k]: v };
    }
  });

  const defaults = Object.fromEntries(Object.entries(recipe.options).map(([k, o]) => [k, o.default as number]));
  let config: ModelConfig = { ...defaults } as ModelConfig;
  if (recipe.adaptToData) config = recipe.adaptToData(config, { channels: DATASETS[recipe.train.dataset].channels });
  config = { ...config, ...inferred } as ModelConfig;
  for (const k of ['imageSize', 'nz', 'ngf', 'ndf', 'nc']) {
    const v = opts[k];
    if (v === undefined) continue;
    if (inferred[k] !== undefined && inferred[k] !== v)
      throw usageError(cmd, `--${kebab(k)} ${v} contradicts the weights' shapes, which say ${inferred[k]}`);
    config[k] = v;
  }
  const problems = recipe.validate(config);
  if (problems.length) throw usageError(cmd, problems[0]);

  const e = await acquireEngine(cmd);
  const trainer = recipe.create(config, recipe.train, 0);
  const reports = new Map<string, KeyReport>();
  for (const [net, i] of assigned) {
    const own = trainer.nets[net].stateDict();
    const given = files[i].tensors;
    const r: KeyReport = { matched: [], missing: [], unexpected: [], shapeMismatch: [], params: 0 };
    for (const [k, t] of own) {
      const g = given[k];
      if (!g) {
        // PyTorch itself tolerates a missing num_batches_tracked (state dicts from before it existed).
        if (!k.endsWith('num_batches_tracked')) r.missing.push(k);
      } else if (g.shape.length !== t.shape.length || g.shape.some((d, j) => d !== t.shape[j])) {
        r.shapeMismatch.push(`${k}: file ${fmtShape(g.shape)}, model ${fmtShape(t.shape)}`);
      } else if (checkState(k, t, g)) {
        r.shapeMismatch.push(`${k}: file ${g.dtype}, model ${t.dtype}`);
      } else {
        r.matched.push(k);
        if (t.isParameter) r.params += t.size;
      }
    }
    for (const k of Object.keys(given)) if (!own.has(k)) r.unexpected.push(k);
    for (const b of nonFiniteEntries(given))
      r.shapeMismatch.push(`${b.name}: ${b.count} NaN/Inf value${b.count === 1 ? '' : 's'} (of ${b.size})`);
    reports.set(net, r);
  }

  out.line(
    `gan convert: PyTorch -> ${recipe.name} (${Object.entries(config)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')})`,
  );
  let ok = true;
  for (const net of netNames) {
    const r = reports.get(net);
    if (!r) {
      out.line(`  ${net.padEnd(6)} not given: keeps a fresh initialisation`);
      continue;
    }
    const bad = r.missing.length + r.unexpected.length + r.shapeMismatch.length;
    ok &&= bad === 0;
    out.line(
      `  ${net.padEnd(6)} ${rel(inputs[assigned.get(net)!])}: ${r.matched.length} keys matched (${fmtCount(r.params)} parameters), ${r.missing.length} missing, ${r.unexpected.length} unexpected, ${r.shapeMismatch.length} shape mismatches`,
    );
    for (const k of r.missing) out.line(`      missing     ${k}`);
    for (const k of r.unexpected) out.line(`      unexpected  ${k}`);
    for (const k of r.shapeMismatch) out.line(`      ${k.includes(': file [') ? 'shape' : 'value'}       ${k}`);
  }
  if (!ok) {
    e.destroy();
    throw new CliError(`${cmd}: the keys do not match ${recipe.name}'s modules (see the report above); nothing was written`, 1);
  }
  for (const [net, i] of assigned) {
    try {
      trainer.nets[net].loadStateDict(files[i].tensors, { strict: false });
    } catch (err) {
      throw new CliError(`${cmd}: ${rel(inputs[i])}: ${firstLine(err)}`, 1);
    }
  }
  const target = resolve(String(opts.out ?? join(dirname(inputs[0]), `${recipe.name}-converted.safetensors`)));
  try {
    await saveRunCheckpoint(target, trainer, {
      model: recipe.name,
      config,
      settings: { ...recipe.train },
      seed: 0,
      step: 0,
      loader: null,
      dataset: recipe.train.dataset,
      limit: 0,
    });
  } catch (err) {
    throw new CliError(`${cmd}: ${firstLine(err)}`, 1);
  }
  out.line(`  checkpoint -> ${rel(target)}  (try: gan sample ${rel(target)})`);
  e.destroy();
  return 0;
}
