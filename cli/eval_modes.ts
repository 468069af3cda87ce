// `gan eval modes`: the mode-counting comparison on Gaussian mixtures (nets/mode_eval.ts). Trains
// the MLP GAN baseline and every registered model with a mixture hook with the same MLP sizes on each
// chosen mixture and prints a markdown table: modes covered, high-quality fraction and KL,
// untrained -> trained, plus time. Each model's own flags come from its hook's declaration.
// --json writes every run's numbers (and per-mode counts) for docs and plots.

import { writeFileSync } from 'node:fs';
import { describeAdapter } from '../engine/device.js';
import {
  MIXTURES,
  MODE_DEFAULTS,
  MODE_MODELS,
  QUICK_MIXTURES,
  checkModeRun,
  formatModeTable,
  mixtureModel,
  runOnMixture,
  withModelDefaults,
  type ModeRunResult,
} from '../nets/mode_eval.js';
import type { OptionSpec, ParsedOptions } from './lib/args.js';
import { acquireEngine, checkRange, out, parseOrHelp, usageError } from './common.js';

const d = MODE_DEFAULTS;

const shared = {
  mixtures: { type: 'string', default: 'ring8,grid25', help: `comma-separated mixtures (${Object.keys(MIXTURES).join(', ')})` },
  models: { type: 'string', default: MODE_MODELS.join(','), help: `comma-separated models (${MODE_MODELS.join(', ')})` },
  steps: { type: 'int', default: d.steps, help: 'training steps per run', metavar: 'N' },
  batch: { type: 'int', default: d.batch, help: 'real samples per step (several generators: also per generator)', metavar: 'N' },
  lr: { type: 'number', default: d.lr, help: 'Adam learning rate (every network)' },
  beta1: { type: 'number', default: d.beta1, help: 'Adam beta1' },
  nz: { type: 'int', default: d.nz, help: 'noise length', metavar: 'N' },
  hidden: { type: 'int', default: d.hidden, help: 'hidden width of every G and D', metavar: 'N' },
  layers: { type: 'int', default: d.layers, help: 'hidden layers of every G and D', metavar: 'N' },
  samples: { type: 'int', default: d.samples, help: 'samples drawn for the metrics', metavar: 'N' },
  seed: { type: 'int', default: d.seed, help: 'seed for initialisation, noise and data', metavar: 'N' },
  decayTo: {
    type: 'number',
    default: d.decayTo,
    help: 'learning rate at the end, as a fraction of --lr (linear decay over the second half; 1: none)',
  },
  logEvery: { type: 'int', default: 0, help: 'print the losses every N steps (0: never)', metavar: 'N' },
  json: { type: 'string', metavar: 'PATH', help: 'also write the results as JSON' },
  quick: { type: 'boolean', help: `a short smoke run: --steps 300 --samples 1000 --mixtures ${QUICK_MIXTURES.join(',')}` },
} as const;

/**
 * The models' own flags, from their mixture hooks: no CLI default (each model fills its own), the
 * help naming the model and its default.
 */
function modelOptions(): Record<string, OptionSpec> {
  const opts: Record<string, OptionSpec> = {};
  for (const name of MODE_MODELS) {
    const m = mixtureModel(name);
    for (const [key, p] of Object.entries(m.params)) {
      if (key in shared) throw new Error(`gan eval modes: ${name}'s mixture parameter '${key}' shadows a shared flag; rename it`);
      const { default: def, fromData: _, ...rest } = p;
      const line = `${m.label}: ${p.help} (default ${String(def)})`;
      opts[key] = key in opts ? { ...opts[key], help: `${opts[key].help}; ${line}` } : { ...rest, help: line };
    }
  }
  return opts;
}

const spec = {
  command: 'gan eval modes',
  description: `Mode counting on Gaussian mixtures: the MLP GAN baseline vs ${MODE_MODELS.slice(1).join(' vs ')} (modes covered, high-quality fraction, KL).`,
  options: { ...shared, ...modelOptions() },
  examples: [
    `gan eval modes                                   # ${shared.mixtures.default.replace(',', ' and ')}, all ${MODE_MODELS.length} models`,
    `gan eval modes --mixtures ${QUICK_MIXTURES[0]} --models ${MODE_MODELS.slice(0, 2).join(',')} --steps 2000`,
  ],
};

export async function evalModesCommand(argv: readonly string[]): Promise<number> {
  const args = parseOrHelp(argv, spec);
  if (!args) return 0;
  const all = args.options as Record<string, string | number | boolean | undefined>;
  const o = args.options as unknown as ParsedOptions<typeof shared>;
  const cmd = spec.command;
  const given = (flag: string) => argv.some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`));
  const steps = o.quick && !given('steps') ? 300 : o.steps;
  const samples = o.quick && !given('samples') ? 1000 : o.samples;
  const mixtures = (o.quick && !given('mixtures') ? QUICK_MIXTURES.join(',') : o.mixtures)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const models = o.models
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const m of mixtures) if (!MIXTURES[m]) throw usageError(cmd, `unknown mixture '${m}' (known: ${Object.keys(MIXTURES).join(', ')})`);
  for (const m of models) if (!MODE_MODELS.includes(m)) throw usageError(cmd, `unknown model '${m}' (known: ${MODE_MODELS.join(', ')})`);
  checkRange(cmd, 'steps', steps, 1, 1e7, 'an integer');
  checkRange(cmd, 'batch', o.batch, 2, 65536, 'an integer');
  checkRange(cmd, 'samples', samples, 1, 1e6, 'an integer');
  checkRange(cmd, 'layers', o.layers, 1, 16, 'an integer');
  checkRange(cmd, 'decay-to', o.decayTo, 0, 1);
  // Each model's run: the shared settings, and its own flags where given (else its declared defaults).
  const runs = models.map((model) => {
    const own = Object.fromEntries(
      Object.keys(mixtureModel(model).params)
        .filter((k) => all[k] !== undefined)
        .map((k) => [k, all[k] as string | number | boolean]),
    );
    const run = withModelDefaults({
      ...own,
      mixture: '',
      model,
      steps,
      samples,
      batch: o.batch,
      lr: o.lr,
      beta1: o.beta1,
      nz: o.nz,
      hidden: o.hidden,
      layers: o.layers,
      seed: o.seed,
      decayTo: o.decayTo,
    });
    const errs = checkModeRun(run);
    if (errs.length) throw usageError(cmd, `${model}: ${errs.join('; ')}`);
    return run;
  });

  const e = await acquireEngine(cmd);
  out.err(`${cmd}: ${mixtures.join(', ')} x ${models.join(', ')}, ${steps} steps, batch ${o.batch} | ${describeAdapter(e.adapter)}`);
  const results: ModeRunResult[] = [];
  for (const mixture of mixtures) {
    for (const run of runs) {
      const model = run.model;
      const r = await runOnMixture(
        { ...run, mixture },
        (step, v) =>
          out.err(
            `  ${mixture} ${model} step ${step}: ${Object.entries(v)
              .map(([k, x]) => `${k}=${x.toFixed(4)}`)
              .join(' ')}`,
          ),
        o.logEvery,
      );
      out.err(
        `  ${mixture} ${model}: ${r.final.covered}/${r.final.counts.length} modes, ${(100 * r.final.highQuality).toFixed(1)}% high quality, KL ${r.final.kl.toFixed(3)} (${r.seconds.toFixed(0)} s)`,
      );
      results.push(r);
    }
  }
  out.line(formatModeTable(results));
  if (o.json) {
    const rows = results.map((r) => ({
      mixture: r.mixture,
      model: r.model,
      steps: r.steps,
      seconds: +r.seconds.toFixed(1),
      init: { covered: r.init.covered, highQuality: r.init.highQuality, kl: r.init.kl, counts: Array.from(r.init.counts) },
      final: {
        covered: r.final.covered,
        highQuality: r.final.highQuality,
        kl: r.final.kl,
        klReverse: r.final.klReverse,
        counts: Array.from(r.final.counts),
      },
      last: r.last,
    }));
    writeFileSync(
      o.json,
      JSON.stringify({ adapter: describeAdapter(e.adapter), options: { ...all, steps, samples }, results: rows }, null, 2) + '\n',
    );
  }
  e.destroy();
  return 0;
}
