// The parts of the engine the benchmark drives, loaded at run time so the harness builds and runs
// while the tree is still growing: an op family or a network whose file does not exist yet makes
// its cases "skipped: engine/ops/conv.ts not yet written" instead of breaking the bundle.
//
// How: esbuild turns an import() of a template string into a table of the files matching the
// pattern at build time (a glob import), so a present file is bundled and a missing one rejects at
// run time with "Module not found in bundle". Core modules (device, tensor, tape, elementwise)
// always exist and are imported statically by the callers.
//
// The op types come from the modules themselves (type-only imports, erased from the bundle); the
// model recipes are typed structurally (nets/pix2pix.ts and nets/cyclegan.ts do not exist yet).
// Each loader checks at run time that the named exports are functions/classes.

import type { Tensor } from '../engine/tensor.js';
// Type-only imports: erased from the bundle, but they make tsc check the calls below against the
// real signatures while the files exist.
import type * as ConvModule from '../engine/ops/conv.js';
import type * as NormModule from '../engine/ops/norm.js';
import type * as PyramidModule from '../engine/ops/pyramid.js';
import type * as OptimModule from '../engine/optim.js';

// ---- op families --------------------------------------------------------------------------------

export type ConvApi = Pick<typeof ConvModule, 'conv2d' | 'conv2dBackwardInput' | 'conv2dBackwardWeight' | 'convTranspose2d'>;
export type NormApi = Pick<typeof NormModule, 'instanceNorm' | 'batchNorm'>;
/** laplacianPyramid(x, bands): `bands` band-pass images (finest first) plus the low-pass. */
export type PyramidApi = Pick<typeof PyramidModule, 'laplacianPyramid'>;
export type OptimApi = Pick<typeof OptimModule, 'Adam'>;

/** A module of the tree that is not there (yet), with the sentence the report prints. */
export class Missing {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {}
  get message(): string {
    return `skipped: ${this.file} ${this.reason}`;
  }
}

type Loaded<T> = T | Missing;

function notFound(e: unknown): boolean {
  const m = String((e as Error)?.message ?? e);
  return /not found in bundle|Cannot find module|Failed to (load|fetch)|ERR_MODULE_NOT_FOUND/i.test(m);
}

/** The files the benchmark loads lazily, by key. */
export type LazyFile = 'ops/conv' | 'ops/norm' | 'ops/pyramid' | 'optim' | StepFile;

/** The nets the end-to-end step benchmark trains. */
export type StepFile = 'nets/dcgan' | 'nets/pix2pix' | 'nets/cyclegan' | 'nets/stargan';

/**
 * One import per file, each a glob that matches that file alone (`conv${''}.ts` becomes the
 * pattern conv*.ts): a wider pattern such as nets/${name}.ts would also bundle nets/registry.ts,
 * whose static imports of models not yet written would break the build.
 */
function importLazy(key: LazyFile): Promise<unknown> {
  const s = '';
  switch (key) {
    case 'ops/conv':
      return import(`../engine/ops/conv${s}.ts`);
    case 'ops/norm':
      return import(`../engine/ops/norm${s}.ts`);
    case 'ops/pyramid':
      return import(`../engine/ops/pyramid${s}.ts`);
    case 'optim':
      return import(`../engine/optim${s}.ts`);
    case 'nets/dcgan':
      return import(`../nets/dcgan${s}.ts`);
    case 'nets/pix2pix':
      return import(`../nets/pix2pix${s}.ts`);
    case 'nets/cyclegan':
      return import(`../nets/cyclegan${s}.ts`);
    case 'nets/stargan':
      return import(`../nets/stargan${s}.ts`);
  }
}

export function lazyFileName(key: LazyFile): string {
  return key.startsWith('nets/') ? `${key}.ts` : `engine/${key}.ts`;
}

async function loadModule(key: LazyFile): Promise<Record<string, unknown> | Missing> {
  const file = lazyFileName(key);
  try {
    return (await importLazy(key)) as Record<string, unknown>;
  } catch (e) {
    if (notFound(e)) return new Missing(file, 'not yet written');
    // The file exists but failed to load (an error thrown while it initialised): say so.
    return new Missing(file, `failed to load: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
  }
}

function pick<T>(mod: Record<string, unknown> | Missing, file: string, names: readonly string[]): Loaded<T> {
  if (mod instanceof Missing) return mod;
  const absent = names.filter((n) => typeof mod[n] !== 'function');
  if (absent.length) return new Missing(file, `does not export ${absent.join(', ')} yet`);
  return Object.fromEntries(names.map((n) => [n, mod[n]])) as T;
}

export interface EngineApi {
  conv: Loaded<ConvApi>;
  norm: Loaded<NormApi>;
  pyramid: Loaded<PyramidApi>;
  optim: Loaded<OptimApi>;
}

let cached: Promise<EngineApi> | null = null;

/** Loads the op families once. */
export function loadEngineApi(): Promise<EngineApi> {
  cached ??= (async () => ({
    conv: pick<ConvApi>(await loadModule('ops/conv'), 'engine/ops/conv.ts', [
      'conv2d',
      'conv2dBackwardInput',
      'conv2dBackwardWeight',
      'convTranspose2d',
    ]),
    norm: pick<NormApi>(await loadModule('ops/norm'), 'engine/ops/norm.ts', ['instanceNorm', 'batchNorm']),
    pyramid: pick<PyramidApi>(await loadModule('ops/pyramid'), 'engine/ops/pyramid.ts', ['laplacianPyramid']),
    optim: pick<OptimApi>(await loadModule('optim'), 'engine/optim.ts', ['Adam']),
  }))();
  return cached;
}

// ---- networks -----------------------------------------------------------------------------------

/** The slice of nets/registry.ts's GanTrainer the step benchmark uses. */
export interface TrainerLike {
  step(real: Tensor, withStats: boolean): Record<string, Tensor> | null;
  readonly nets?: Record<string, { parameters?: () => Iterable<Tensor> }>;
}

/** The slice of nets/registry.ts's ModelRecipe the step benchmark uses. */
export interface RecipeLike {
  name: string;
  options: Record<string, { type: string; default?: string | number | boolean }>;
  train: Record<string, unknown> & { batch: number; lr: number; beta1: number; beta2: number };
  imageShape(config: Record<string, number | string | boolean>): { channels: number; size: number };
  validate(config: Record<string, number | string | boolean>): string[];
  create(config: Record<string, number | string | boolean>, settings: Record<string, unknown>, seed: number): TrainerLike;
}

/**
 * A model's recipe from nets/<file>.ts: the export named `<name>Recipe` (nets/registry.ts's
 * convention, e.g. dcganRecipe), else any exported object with create() and imageShape().
 */
export async function loadRecipe(key: StepFile, name: string): Promise<Loaded<RecipeLike>> {
  const mod = await loadModule(key);
  if (mod instanceof Missing) return mod;
  const isRecipe = (v: unknown): v is RecipeLike =>
    !!v && typeof v === 'object' && typeof (v as RecipeLike).create === 'function' && typeof (v as RecipeLike).imageShape === 'function';
  const named = mod[`${name}Recipe`];
  if (isRecipe(named)) return named;
  const any = Object.values(mod).find(isRecipe);
  return any ?? new Missing(lazyFileName(key), `has no recipe export (${name}Recipe) yet`);
}
