// What the training pages need to know about each registered model, beyond nets/registry.ts:
//   - the run a page starts by default: the recipe's option defaults with its --quick preset on top
//     (small widths that learn visibly within minutes), plus a few page overrides;
//   - how URL parameters override that run (?ngf=4&batch=2&net-g=unet_32&size=16&dataset=...);
//   - how to show it: sample grid from latent codes, or held-out input | output | target rows for
//     image-to-image models; which stats share a chart; labels for the stats.
// DOM-free, so the build's data step (demos/data/export.ts, in Node) reads the same defaults to
// know which datasets and sizes the pages will ask for.

import { kebab } from '../../cli/lib/args.js';
import { getRecipe, recipes, type ModelConfig, type ModelRecipe } from '../../nets/registry.js';
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
export interface ChartSpec {
  title: string;
  keys: RegExp;
  yRange?: [number, number];
  logY?: boolean;
  note?: string;
}

interface PageProfile {
  /** Page defaults on top of the recipe's defaults and quick preset (config keys, batch, lr). */
  overrides?: Partial<Omit<RunDefaults, 'model' | 'config'>> & { config?: ModelConfig };
  /** Charts in order; a stat goes to the first that matches, else to the generic ones. */
  charts?: ChartSpec[];
  /** Columns of the sample grid (default: square). */
  gridCols?: number;
  /** One paragraph about what the page shows for this model. */
  blurb?: string;
}

const LOSSES = /^loss|_loss|loss_|mse/i;

/** Charts every model gets after its own: losses, then everything else the step reports. */
export const GENERIC_CHARTS: readonly ChartSpec[] = [
  { title: 'Losses', keys: LOSSES },
  { title: 'Measures', keys: /./ },
];

/** Held-out measures the pages compute themselves for image-to-image models (see PairGrid). */
export const HELD_OUT_CHARTS: readonly ChartSpec[] = [
  { title: 'Held-out L1', keys: /^heldout_L1/, note: 'Mean |G(input) - target| over the held-out pairs in the grid (unseen emoji), pixels in [-1, 1]. A point each time the grid is redrawn (see its caption).' },
  { title: 'Held-out PSNR (dB)', keys: /^heldout_PSNR/, note: 'PSNR of G(input) against its target, images mapped to [0, 1]; higher is closer. A point each time the grid is redrawn (see its caption).' },
];

const PROFILES: Record<string, PageProfile> = {
  dcgan: {
    // The page's own defaults since it first shipped: a wider net and the paper's batch and rate.
    overrides: { config: { ngf: 32, ndf: 32 }, batch: 64, lr: 2e-4 },
    charts: [
      { title: 'BCE losses', keys: /^loss/ },
      {
        title: 'Discriminator outputs',
        keys: /^D_/,
        yRange: [0, 1],
        note: 'Mean D(x) on real digits, and D(G(z)) on fakes before (D step) and after (G step) the discriminator\'s update. At the game\'s equilibrium both approach 0.5.',
      },
    ],
    blurb: 'The grid shows the same fixed latent codes as training goes on; the latent walk below interpolates between two codes.',
  },
  autoencoder: {
    charts: [{ title: 'Reconstruction MSE', keys: /mse/i, logY: true }],
    gridCols: 8,
    blurb: 'No adversary: an encoder and decoder trained on reconstruction. Grid rows alternate 8 real digits and their reconstructions; the walk interpolates in code space.',
  },
  ebgan: {
    charts: [
      { title: 'Losses', keys: /^loss/ },
      { title: 'Energies (D\'s reconstruction MSE)', keys: /^energy_/, note: 'D\'s energy on real and generated images; the hinge pushes fakes up to the margin.' },
      { title: 'Pulling-away term', keys: /^pt$/ },
    ],
  },
  began: {
    charts: [
      { title: 'L1 autoencoder losses', keys: /^(loss|L_)/ },
      { title: 'Convergence measure M_global', keys: /^M_global$/, note: 'M_global = L(x) + |gamma L(x) - L(G(z))|: falls as the images improve (the paper\'s Figure 2).' },
      { title: 'Equilibrium control k_t', keys: /^k_/, note: 'The proportional controller\'s weight of the fake loss in D\'s objective.' },
    ],
  },
  gman: {
    charts: [
      { title: 'Losses (mean over the Ds, and G\'s combined loss)', keys: /^loss[DG]$/ },
      { title: 'Each discriminator\'s loss', keys: /^lossD_\d+$/ },
      { title: 'G\'s loss against each discriminator (V_i)', keys: /^V_\d+$/ },
      { title: 'lambda (GMAN*)', keys: /^lambda$/ },
    ],
  },
  madgan: {
    charts: [
      { title: 'Cross-entropy losses', keys: /^loss/ },
      { title: 'D\'s probability that real data is real', keys: /^D_real$/, yRange: [0, 1] },
    ],
    blurb: 'Rows of the grid come from the k generators in turn (the latent codes are shared out among them).',
  },
  pix2pix: {
    charts: [
      { title: 'GAN losses', keys: /^loss_(G_GAN|D_)/ },
      { title: 'L1 term (weighted by lambda_L1)', keys: /^loss_G_L1$/ },
      { title: 'Discriminator outputs', keys: /^D_/, yRange: [0, 1] },
    ],
  },
  cyclegan: {
    charts: [
      { title: 'Adversarial losses (LSGAN)', keys: /^loss_[DG]_/ },
      { title: 'Cycle and identity losses', keys: /^loss_(cycle|idt)_/ },
    ],
    blurb: 'Trained on unpaired domains: the held-out partners are ground truth it never sees together. Flip the direction to see the other generator.',
  },
  dualgan: {
    charts: [
      { title: 'Critic losses', keys: /^loss_D_/ },
      { title: 'Wasserstein distance estimates', keys: /^wdist_/, note: 'The critics\' estimate of the distance between real and translated images in each domain.' },
      { title: 'Generator losses', keys: /^loss_(G|recon)/ },
    ],
  },
  discogan: {
    charts: [
      { title: 'Discriminator losses', keys: /^loss_dis_/ },
      { title: 'Generator losses', keys: /^loss_(gen|fm)_/ },
      { title: 'Reconstruction losses', keys: /^loss_recon_/ },
    ],
  },
  stargan: {
    gridCols: 8,
    charts: [
      { title: 'Adversarial losses (WGAN-GP)', keys: /^loss_[DG]_(real|fake)$/ },
      { title: 'Domain classification losses', keys: /_cls$/ },
      { title: 'Gradient penalty and reconstruction', keys: /^loss_(D_gp|G_rec)$/ },
    ],
    blurb: 'Each row of the grid: an input image, then G\'s translation of it into each domain (default, light … dark), then into its own domain.',
  },
};

/** Option names and aliases a URL may use for a config key (camelCase, kebab-case, `size`). */
const ALIASES: Record<string, string> = { size: 'imageSize' };

export function recipeOf(model: string): ModelRecipe {
  const r = getRecipe(model);
  if (!r) throw new Error(`no model '${model}' in nets/registry.ts (registered: ${Object.keys(recipes).join(', ')})`);
  return r;
}

/** The page's default run of a model (before URL parameters). */
export function runDefaults(model: string): RunDefaults {
  const r = recipeOf(model);
  const config: ModelConfig = {};
  for (const [k, o] of Object.entries(r.options)) if (o.default !== undefined) config[k] = o.default;
  const quick = r.quick as Record<string, unknown>;
  for (const k of Object.keys(r.options)) if (quick[k] !== undefined) config[k] = quick[k] as number | string | boolean;
  const o = PROFILES[model]?.overrides ?? {};
  Object.assign(config, o.config ?? {});
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
  return [...(PROFILES[model]?.charts ?? []), ...(imageToImage ? HELD_OUT_CHARTS : []), ...GENERIC_CHARTS];
}

export function gridColsOf(model: string): number | undefined {
  return PROFILES[model]?.gridCols;
}

/** Whether the run translates B -> A too, with a generator of its own (the recipe's bothWays hook). */
export function isBidirectional(model: string, config: ModelConfig): boolean {
  return (recipeOf(model) as ModelRecipe & Partial<TranslationEval>).bothWays?.(config) ?? false;
}

export function blurbOf(model: string): string | undefined {
  return PROFILES[model]?.blurb;
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
  L_x: 'L(x): D\'s loss on real',
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

/**
 * The draw page's run: pix2pix from edge maps (data/emoji.ts edgeMapCpu: Sobel, thinned,
 * black on white) to the Noto emoji they came from, 32 px, a 5-level U-Net.
 */
export const SKETCH_RUN = {
  model: 'pix2pix',
  dataset: 'emoji-edges',
  config: { imageSize: 32, netG: 'unet_32', ngf: 16, ndf: 16 } as ModelConfig,
} as const;

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
