// What the training pages need to know about each registered model, beyond nets/registry.ts:
//   - the run a page starts by default: the recipe's option defaults with its --quick preset on top
//     (small widths that learn visibly within minutes), plus the overrides of the model's `demo` hook;
//   - how URL parameters override that run (?ngf=4&batch=2&net-g=unet_32&size=16&dataset=...);
//   - how to show it: sample grid from latent codes, or held-out input | output | target rows for
//     image-to-image models; which stats share a chart (the `demo` hook's charts); labels for the stats.
// DOM-free, so the build's data step (demos/data/export.ts, in Node) reads the same defaults to
// know which datasets and sizes the pages will ask for.

import { kebab } from '../../cli/lib/args.js';
import { getRecipe, recipes, type ModelConfig, type ModelRecipe } from '../../nets/registry.js';
import type { ChartSpec, DemoProfile } from '../../nets/lib/model.js';
import type { TranslationEval } from '../../nets/lib/translation.js';

/** The run a page trains: what the session needs besides the dataset itself. */
export interface RunDefaults {
  model: string;
  config: ModelConfig;
  batch: number;
  lr: number;
  dataset: string;
}

/** A chart on a training page: the stats whose names match `keys`, in one uPlot chart. */
export type { ChartSpec };

const LOSSES = /^loss|_loss|loss_|mse/i;

/** Charts every model gets after its own: losses, then everything else the step reports. */
export const GENERIC_CHARTS: readonly ChartSpec[] = [
  { title: 'Losses', keys: LOSSES },
  { title: 'Measures', keys: /./ },
];

/** Held-out measures the pages compute themselves for image-to-image models (see PairGrid). */
export const HELD_OUT_CHARTS: readonly ChartSpec[] = [
  {
    title: 'Held-out L1',
    keys: /^heldout_L1/,
    note: 'Mean |G(input) - target| over the held-out pairs in the grid (unseen emoji), pixels in [-1, 1]. A point each time the grid is redrawn (see its caption).',
  },
  {
    title: 'Held-out PSNR (dB)',
    keys: /^heldout_PSNR/,
    note: 'PSNR of G(input) against its target, images mapped to [0, 1]; higher is closer. A point each time the grid is redrawn (see its caption).',
  },
];

/** How the pages show a model: its declaration's `demo` hook. */
export function demoOf(model: string): DemoProfile {
  const r = recipeOf(model);
  return r.demo ?? {};
}

/** Option names and aliases a URL may use for a config key (camelCase, kebab-case, `size`). */
const ALIASES: Record<string, string> = { size: 'imageSize' };

export function recipeOf(model: string): ModelRecipe {
  const r = getRecipe(model);
  if (!r) throw new Error(`no model '${model}' in nets/registry.ts (registered: ${Object.keys(recipes).join(', ')})`);
  return r;
}

/** A model's option defaults with its --quick preset on top (small widths that learn within minutes). */
export function quickConfig(model: string): ModelConfig {
  const r = recipeOf(model);
  const config: ModelConfig = {};
  for (const [k, o] of Object.entries(r.options)) if (o.default !== undefined) config[k] = o.default;
  const quick = r.quick as Record<string, unknown>;
  for (const k of Object.keys(r.options)) if (quick[k] !== undefined) config[k] = quick[k] as number | string | boolean;
  return config;
}

/** The page's default run of a model (before URL parameters): quickConfig, then the `demo` hook's overrides. */
export function runDefaults(model: string): RunDefaults {
  const r = recipeOf(model);
  const quick = r.quick as Record<string, unknown>;
  const o = demoOf(model).overrides ?? {};
  const config = { ...quickConfig(model), ...(o.config ?? {}) };
  return {
    model,
    config,
    batch: o.batch ?? Number(quick.batch ?? r.train.batch),
    lr: o.lr ?? Number(quick.lr ?? r.train.lr),
    dataset: o.dataset ?? String(quick.dataset ?? r.train.dataset),
  };
}

/** Parses one URL value by the option's type; throws with the option's name when it does not fit. */
function parseValue(r: ModelRecipe, key: string, raw: string): number | string | boolean {
  const spec = r.options[key];
  const bad = (what: string) => new Error(`URL parameter ${kebab(key)}=${raw}: ${what}`);
  switch (spec.type) {
    case 'boolean':
      if (['1', 'true', 'yes', ''].includes(raw)) return true;
      if (['0', 'false', 'no'].includes(raw)) return false;
      throw bad('expected true or false');
    case 'int': {
      const v = Number(raw);
      if (!Number.isInteger(v)) throw bad('expected an integer');
      return v;
    }
    case 'number': {
      const v = Number(raw);
      if (!Number.isFinite(v)) throw bad('expected a number');
      return v;
    }
    default:
      if (spec.choices && !spec.choices.includes(raw)) throw bad(`expected one of ${spec.choices.join(', ')}`);
      return raw;
  }
}

/**
 * The run a page trains: defaults, then URL parameters. Config keys may be camelCase or kebab-case
 * (`ngf`, `net-g`, `netG`, `size`); `batch`, `lr`, `dataset` set the run. Parameters that are not
 * options of this model are ignored (the generic page keeps them across model switches).
 */
export function runFromParams(model: string, params: URLSearchParams, base: Partial<RunDefaults> = {}): RunDefaults {
  const r = recipeOf(model);
  const d = runDefaults(model);
  const run: RunDefaults = { ...d, ...base, config: { ...d.config, ...(base.config ?? {}) } };
  const byName = new Map<string, string>();
  for (const k of Object.keys(r.options)) {
    byName.set(k, k);
    byName.set(kebab(k), k);
  }
  for (const [alias, k] of Object.entries(ALIASES)) if (k in r.options) byName.set(alias, k);
  for (const [name, raw] of params) {
    const key = byName.get(name);
    if (key) run.config[key] = parseValue(r, key, raw);
  }
  const num = (name: string, min: number, max: number, integer: boolean): number | undefined => {
    if (!params.has(name)) return undefined;
    const v = Number(params.get(name));
    if (!Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      throw new Error(`URL parameter ${name}=${params.get(name)}: expected ${integer ? 'an integer' : 'a number'} in [${min}, ${max}]`);
    }
    return v;
  };
  run.batch = num('batch', 1, 4096, true) ?? run.batch;
  run.lr = num('lr', 1e-7, 0.5, false) ?? run.lr;
  if (params.get('dataset')) run.dataset = params.get('dataset')!;
  return run;
}

/** The charts of a model's page, its own first. */
export function chartsOf(model: string, imageToImage: boolean): ChartSpec[] {
  return [...(demoOf(model).charts ?? []), ...(imageToImage ? HELD_OUT_CHARTS : []), ...GENERIC_CHARTS];
}

export function gridColsOf(model: string): number | undefined {
  return demoOf(model).gridCols;
}

/** Whether the run translates B -> A too, with a generator of its own (the recipe's bothWays hook). */
export function isBidirectional(model: string, config: ModelConfig): boolean {
  return (recipeOf(model) as ModelRecipe & Partial<TranslationEval>).bothWays?.(config) ?? false;
}

export function blurbOf(model: string): string | undefined {
  return demoOf(model).blurb;
}

/** Readable names for the stats the trainers return (the key itself when absent). */
export const STAT_LABELS: Record<string, string> = {
  lossD: 'loss D',
  lossG: 'loss G',
  D_x: 'D(x)',
  D_G_z1: 'D(G(z)) before D step',
  D_G_z2: 'D(G(z)) after D step',
  D_G_x: 'D(x, G(x))',
  recon_mse: 'reconstruction MSE',
  L_x: "L(x): D's loss on real",
  heldout_L1: 'A → B',
  heldout_PSNR: 'A → B',
  heldout_L1_BtoA: 'B → A',
  heldout_PSNR_BtoA: 'B → A',
};

const SUBSCRIPT = '₀₁₂₃₄₅₆₇₈₉';
const sub = (digits: string) => [...digits].map((d) => SUBSCRIPT[Number(d)]).join('');

/**
 * The one label of a statistic, for the stats panel and every chart legend: STAT_LABELS where it
 * names the key, else read from the key's shape: lossD_2 → "loss D₂", loss_D_real → "loss D real",
 * lossGp → "loss Gp", D_G_z → "D(G(z))", D_wrong → "D(wrong)", other underscores as spaces.
 */
export function statLabel(key: string): string {
  const known = STAT_LABELS[key];
  if (known) return known;
  let m = /^loss([A-Z][A-Za-z]*)_(\d+)$/.exec(key);
  if (m) return `loss ${m[1]}${sub(m[2])}`;
  m = /^loss([A-Z][A-Za-z]*)$/.exec(key);
  if (m) return `loss ${m[1]}`;
  m = /^([A-Z])_([A-Za-z0-9_]+)$/.exec(key);
  if (m) {
    const parts = m[2].split('_');
    // D_G_z → D(G(z)): single-letter nets applied to a single-letter input.
    if (parts.every((p) => p.length === 1)) return `${m[1]}(${parts.join('(')}${')'.repeat(parts.length)}`;
    return `${m[1]}(${parts.join(' ')})`;
  }
  return key.replace(/_/g, ' ');
}

/** The draw page's run: the registered model whose `demo` hook declares `sketch`, with its dataset and config. */
export const SKETCH_RUN = sketchRun();

function sketchRun(): { model: string; dataset: string; config: ModelConfig } {
  const r = Object.values(recipes).find((x) => x.demo?.sketch);
  if (!r?.demo?.sketch) throw new Error("nets/registry.ts: no registered model declares demo.sketch (the draw page's run)");
  return { model: r.name, dataset: r.demo.sketch.dataset, config: r.demo.sketch.config };
}

/** Every (dataset, image size) the pages train on by default: what the build's data step writes. */
export function pageDatasets(): { dataset: string; size: number }[] {
  const runs = Object.keys(recipes).map((m) => runDefaults(m));
  const sketch = { ...runDefaults(SKETCH_RUN.model), dataset: SKETCH_RUN.dataset };
  sketch.config = { ...sketch.config, ...SKETCH_RUN.config };
  const seen = new Map<string, { dataset: string; size: number }>();
  for (const r of [...runs, sketch]) {
    let size: number;
    try {
      size = recipeOf(r.model).imageShape(r.config).size;
    } catch {
      continue;
    }
    seen.set(`${r.dataset}@${size}`, { dataset: r.dataset, size });
  }
  return [...seen.values()];
}
