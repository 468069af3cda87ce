// How a model describes itself: one typed declaration per paper gives its hyper-parameters (their
// TypeScript type, CLI flags, defaults, help text and validation in one place), its presets (the
// defaults, --quick and --paper), its paper, how to build its trainer, and optional hooks for what
// the CLI and the demo pages do differently for it. `defineModel` turns the declaration into the
// ModelRecipe that nets/registry.ts lists and that cli/ and demos/ read; they never name a model.
//
//   export const dcgan = defineModel({
//     name: 'dcgan',
//     params: { imageSize: int(32, 'image side, a power of two'), nz: int(100, 'latent length', { min: 1 }) },
//     create: (c, settings, seed) => new DcganTrainer(c, settings, seed),   // c: { imageSize: number; nz: number }
//     ...
//   });
//
// A parameter is a CLI flag (`imageSize` -> --image-size) unless declared `fromData` (set by
// adaptToData from the training data, e.g. DCGAN's channel count). Checkpoints store the config as
// JSON, so every value is a number, a string or a boolean.

import type { GanTrainer, ModelConfig, ModelRecipe, PaperPreset, TrainSettings } from '../registry.js';

// ---- hyper-parameters ---------------------------------------------------------------------------

interface ParamBase {
  /** One line for --help and docs/hyperparameters.md. */
  help: string;
  /** Placeholder in --help ('N', 'NAME'). */
  metavar?: string;
  /** Not a flag: the CLI sets it from the training data (the recipe's adaptToData). */
  fromData?: boolean;
  /**
   * The value a stored config written before this parameter existed is read with (what the model
   * did then), so an old checkpoint resumes as it ran; absent: the default.
   */
  whenAbsent?: number | string | boolean;
}

export interface IntParam extends ParamBase {
  type: 'int';
  default: number;
  /** Inclusive bounds, checked by validate(). */
  min?: number;
  max?: number;
  choices?: readonly number[];
}

export interface NumberParam extends ParamBase {
  type: 'number';
  default: number;
  min?: number;
  max?: number;
  /** The lower bound is exclusive (a rate must be > 0). */
  minExclusive?: boolean;
}

export interface BoolParam extends ParamBase {
  type: 'boolean';
  default: boolean;
}

export interface StringParam<C extends string = string> extends ParamBase {
  type: 'string';
  default: C;
  /** The allowed values; absent: any string. */
  choices?: readonly C[];
}

export type Param = IntParam | NumberParam | BoolParam | StringParam;
export type Params = Record<string, Param>;

type ValueOf<P> = P extends IntParam | NumberParam ? number : P extends BoolParam ? boolean : P extends StringParam<infer C> ? C : never;

/** The typed config of a model with parameters P (what its trainer is built from). */
export type ConfigOf<P extends Params> = { -readonly [K in keyof P]: ValueOf<P[K]> };

type Extra<T extends Param> = Partial<Omit<T, 'type' | 'default' | 'help'>>;

/** An integer flag. */
export function int(def: number, help: string, extra: Extra<IntParam> = {}): IntParam {
  return { type: 'int', default: def, help, metavar: 'N', ...extra };
}

/** A real-valued flag. */
export function num(def: number, help: string, extra: Extra<NumberParam> = {}): NumberParam {
  return { type: 'number', default: def, help, ...extra };
}

/** An on/off flag (--flag, --no-flag). */
export function bool(def: boolean, help: string, extra: Extra<BoolParam> = {}): BoolParam {
  return { type: 'boolean', default: def, help, ...extra };
}

/** One of a fixed set of names. */
export function choice<const C extends string>(
  choices: readonly C[],
  def: NoInfer<C>,
  help: string,
  extra: Extra<StringParam<C>> = {},
): StringParam<C> {
  return { type: 'string', default: def, help, choices, metavar: 'NAME', ...extra };
}

/** A free-form string flag. */
export function str(def: string, help: string, extra: Extra<StringParam> = {}): StringParam {
  return { type: 'string', default: def, help, ...extra };
}

/** --my-flag for myFlag. */
export function flagName(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (ch) => '-' + ch.toLowerCase());
}

/** Problems with one value against its declaration, as messages naming the flag. */
function checkParam(key: string, p: Param, v: unknown): string[] {
  const flag = flagName(key);
  if (p.type === 'boolean') return typeof v === 'boolean' ? [] : [`${flag} must be true or false, got ${String(v)}`];
  if (p.type === 'string') {
    if (typeof v !== 'string') return [`${flag} must be a string, got ${String(v)}`];
    if (p.choices && !p.choices.includes(v)) return [`${flag} must be one of ${p.choices.join(', ')}, got ${v}`];
    return [];
  }
  const n = v as number;
  const kind = p.type === 'int' ? 'an integer' : 'a number';
  const range =
    p.min !== undefined || p.max !== undefined
      ? ` in ${p.type === 'number' && p.minExclusive ? '(' : '['}${p.min ?? '-inf'}, ${p.max ?? 'inf'}]`
      : '';
  const bad =
    typeof v !== 'number' ||
    !Number.isFinite(n) ||
    (p.type === 'int' && !Number.isInteger(n)) ||
    (p.min !== undefined && (p.type === 'number' && p.minExclusive ? n <= p.min : n < p.min)) ||
    (p.max !== undefined && n > p.max);
  if (bad) return [`${flag} must be ${kind}${range}, got ${String(v)}`];
  if (p.type === 'int' && p.choices && !p.choices.includes(n)) return [`${flag} must be one of ${p.choices.join(', ')}, got ${n}`];
  return [];
}

/**
 * A typed config from a stored or parsed one: missing keys take their declared defaults (a
 * checkpoint written before a parameter existed), unknown keys are dropped. Call validate() first
 * where the values come from a user; this only fills and types.
 */
export function parseConfig<P extends Params>(params: P, c: ModelConfig): ConfigOf<P> {
  const out: Record<string, number | string | boolean> = {};
  for (const [key, p] of Object.entries(params)) out[key] = c[key] ?? p.whenAbsent ?? p.default;
  return out as ConfigOf<P>;
}

/** Problems with a config: every declared bound and choice, then the model's own cross-checks. */
export function validateConfig<P extends Params>(params: P, c: ModelConfig, check?: (c: ConfigOf<P>) => string[]): string[] {
  const errs: string[] = [];
  for (const [key, p] of Object.entries(params)) errs.push(...checkParam(key, p, c[key] ?? p.whenAbsent ?? p.default));
  if (errs.length || !check) return errs;
  return check(parseConfig(params, c));
}

// ---- the declaration ----------------------------------------------------------------------------

/** The paper a model implements, for `gan info`, --help, the gallery and docs. */
export interface PaperInfo {
  /** The model's short display name ('DCGAN', 'StackGAN++'). */
  label: string;
  title: string;
  authors: string;
  year: number;
  arxiv?: string;
  /** Where a paper not on arXiv appeared, and its link. */
  venue?: string;
  url?: string;
  /** The reference implementation followed, where the paper is silent. */
  code?: string;
  /** One sentence for the gallery card. */
  summary: string;
}

/** A chart on a model's demo page: the step statistics whose names match `keys`, in one chart. */
export interface ChartSpec {
  title: string;
  keys: RegExp;
  yRange?: [number, number];
  logY?: boolean;
  note?: string;
}

/** How the demo pages show a model (demos/shared reads it; DOM-free so Node can read it too). */
export interface DemoProfile {
  /** Page defaults on top of the declaration's defaults and --quick preset. */
  overrides?: { config?: ModelConfig; batch?: number; lr?: number; dataset?: string };
  /** The model's own charts, in order; a statistic goes to the first that matches. */
  charts?: ChartSpec[];
  /** Columns of the sample grid (default: square). */
  gridCols?: number;
  /** One paragraph about what the page shows for this model. */
  blurb?: string;
  /** Its own page folder under demos/ (otherwise the generic train/?model=NAME page). */
  page?: string;
  /** Further (interactive) pages for it, relative to the gallery. */
  pages?: { href: string; text: string }[];
  /**
   * The draw page's run (demos/draw: a sketch of edges in, an image out): the paired dataset and
   * the config it trains this model with. One registered model declares it.
   */
  sketch?: { dataset: string; config: ModelConfig };
}

/** A preset's values: training settings and (typed) hyper-parameters. */
export type PresetValues<P extends Params> = Partial<TrainSettings> & Partial<ConfigOf<P>>;

export interface ModelSpec<P extends Params, T extends GanTrainer> {
  name: string;
  /** One line for `gan info` and --help. */
  description: string;
  paper: PaperInfo;
  /** Hyper-parameters: flags, defaults, help, bounds. */
  params: P;
  /** Default training settings. */
  train: TrainSettings;
  /** The --quick preset: about a minute on a software adapter. */
  quick: PresetValues<P>;
  /** The --paper preset: the paper's settings, each with its source. */
  paperPreset: Omit<PaperPreset, 'values'> & { values: PresetValues<P> };
  /** Checks across parameters (a power-of-two size, widths that divide), as messages naming the flags. */
  check?(c: ConfigOf<P>): string[];
  /** Parameters that follow from the training data (declared `fromData`). */
  adaptToData?(c: ConfigOf<P>, data: { channels: number }): Partial<ConfigOf<P>>;
  /** Image channels and size the model consumes. */
  imageShape(c: ConfigOf<P>): { channels: number; size: number };
  /** The part of a config readable from one network's PyTorch state_dict shapes (`gan convert`). */
  inferConfig?(net: string, shapes: ReadonlyMap<string, readonly number[]>): Partial<ConfigOf<P>> | null;
  /** Builds the networks (initialised from `seed`), their optimisers and the noise stream. */
  create(c: ConfigOf<P>, settings: TrainSettings, seed: number): T;
}

/** What defineModel adds to the ModelRecipe: the typed declaration it came from. */
export interface DefinedModel<P extends Params, T extends GanTrainer> extends ModelRecipe {
  readonly params: P;
  readonly info: PaperInfo;
  /** The typed config of a stored one (defaults filled in). */
  parse(c: ModelConfig): ConfigOf<P>;
  create(config: ModelConfig, settings: TrainSettings, seed: number): T;
}

function referenceLine(p: PaperInfo): string {
  const where = p.arxiv ? `arXiv:${p.arxiv}` : (p.url ?? p.venue ?? '');
  return [where, p.code?.replace(/^https?:\/\//, '')].filter(Boolean).join('; ');
}

/**
 * The registry entry for a model declaration. `hooks` are the optional model-specific behaviours
 * of ModelRecipe (held-out translation, evaluation extras, demo page profile, ...), passed through.
 */
export function defineModel<P extends Params, T extends GanTrainer, H extends Partial<ModelRecipe> = object>(
  spec: ModelSpec<P, T>,
  hooks?: H,
): DefinedModel<P, T> & H {
  const { params } = spec;
  const options = Object.fromEntries(Object.entries(params).filter(([, p]) => !p.fromData));
  const parse = (c: ModelConfig): ConfigOf<P> => parseConfig(params, c);
  const recipe: DefinedModel<P, T> = {
    name: spec.name,
    description: spec.description,
    reference: referenceLine(spec.paper),
    info: spec.paper,
    params,
    options,
    train: spec.train,
    quick: spec.quick as ModelRecipe['quick'],
    paper: spec.paperPreset as PaperPreset,
    imageShape: (c) => spec.imageShape(parse(c)),
    validate: (c) => validateConfig(params, c, spec.check),
    parse,
    create: (c, settings, seed) => spec.create(parse(c), settings, seed),
    ...(spec.adaptToData
      ? { adaptToData: (c: ModelConfig, data: { channels: number }) => ({ ...c, ...spec.adaptToData!(parse(c), data) }) }
      : {}),
    ...(spec.inferConfig ? { inferConfig: spec.inferConfig as ModelRecipe['inferConfig'] } : {}),
  };
  return Object.assign(recipe, hooks ?? {}) as DefinedModel<P, T> & H;
}
