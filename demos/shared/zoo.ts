// The trained weights shipped with the project (zoo/<model>/, docs/zoo.md), as the build serves them
// beside the pages (scripts/demo-zoo.mjs): zoo/index.json lists every model that ships weights (the
// step, the run's config, settings and dataset, the networks in the float16 file, its sample grid,
// and the run's float32 checkpoint when it is of the same step), zoo/index.html holds the cards.
// The training pages start from these weights by default (training-page.ts), the gallery shows
// their grids; a model absent from the manifest has no trained weights shipped yet.

import type { ModelConfig } from '../../nets/registry.js';
import { runFromParams, type RunDefaults } from './models.js';

/** One model's shipped weights (scripts/demo-zoo.mjs zooEntry); paths relative to the site's zoo/. */
export interface ZooEntry {
  model: string;
  /** The training step the shipped networks are of. */
  step: number;
  /** The run's planned steps, when known. */
  steps: number | null;
  config: ModelConfig;
  batch: number;
  lr: number;
  seed: number;
  dataset: string;
  /** The networks the file holds (the generator alone, usually). */
  networks: string[];
  file: string;
  grid: string | null;
  /** The run's logged statistics (gan train's metrics.jsonl: one JSON object per logged step). */
  metrics: string | null;
  /** The model's card in the cards page. */
  card: string;
  adapters: string[];
  wallSeconds: number | null;
  /** The run's own float32 checkpoint of the same step (every network, optimisers, noise stream). */
  resume: { file: string; step: number; networks: string[]; optimizers: string[] } | null;
}

export interface ZooManifest {
  format: string;
  models: Record<string, ZooEntry>;
}

const ZOO_DIR = '../zoo/';
const FORMAT = 'webgpu-gan/zoo-manifest/1';

let manifest: Promise<ZooManifest> | null = null;

/** The site's zoo manifest (fetched once); a build without one ships no weights, which the pages say. */
export function zooManifest(): Promise<ZooManifest> {
  manifest ??= (async () => {
    const url = `${ZOO_DIR}index.json`;
    const res = await fetch(url).catch((e: Error) => {
      throw new Error(`trained weights: cannot fetch ${url} (${e.message})`);
    });
    if (!res.ok)
      throw new Error(
        `trained weights: ${url} answered HTTP ${res.status}; build the pages with node scripts/build.mjs demos (it writes the zoo)`,
      );
    const m = (await res.json()) as ZooManifest;
    if (m?.format !== FORMAT || typeof m.models !== 'object')
      throw new Error(`trained weights: ${url} is not a ${FORMAT} manifest (format ${JSON.stringify(m?.format)}); rebuild the pages`);
    return m;
  })();
  manifest.catch(() => (manifest = null));
  return manifest;
}

/** The model's shipped weights, or null when none are shipped (or the manifest cannot be read: `error`). */
export async function shippedWeights(model: string): Promise<{ entry: ZooEntry | null; error?: string }> {
  try {
    return { entry: (await zooManifest()).models[model] ?? null };
  } catch (e) {
    return { entry: null, error: (e as Error).message };
  }
}

/** A file of the site's zoo/ folder as a URL the page can use (links, images). */
export function zooUrl(file: string): string {
  return `${ZOO_DIR}${file}`;
}

/** The bytes of a file of the site's zoo/ folder. */
export async function zooBytes(file: string): Promise<Uint8Array> {
  const url = zooUrl(file);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`trained weights: ${url} answered HTTP ${res.status}; rebuild the pages (node scripts/build.mjs demos)`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Columns of gan train's metrics.jsonl that are not the trainer's statistics. */
const NOT_STATS = new Set(['step', 'epoch', 'stepsPerSec', 'time']);

/** The run's logged statistics as chart history (charts.ts History), up to `step`. */
export async function zooHistory(file: string, step: number): Promise<{ xs: number[]; series: Record<string, (number | null)[]> }> {
  const url = zooUrl(file);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`trained weights: ${url} answered HTTP ${res.status}`);
  const rows = (await res.text())
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, number>)
    .filter((r) => Number.isFinite(r.step) && r.step <= step);
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => !NOT_STATS.has(k));
  const series: Record<string, (number | null)[]> = {};
  for (const k of keys) series[k] = rows.map((r) => (typeof r[k] === 'number' && Number.isFinite(r[k]) ? r[k] : null));
  return { xs: rows.map((r) => r.step), series };
}

/** "trained: step 925 of 2500" */
export function trainedCaption(e: ZooEntry): string {
  return `trained: step ${e.step}${e.steps && e.steps !== e.step ? ` of ${e.steps}` : ''}`;
}

/**
 * Why the shipped weights do not fit the run the URL asks for (null when they do): a model option
 * the URL sets to another value than the weights were trained with (ngf=4 against ngf 32), or
 * another dataset than theirs set by the URL or the page. Options the URL leaves alone take the
 * weights' values.
 */
export function shippedMismatch(e: ZooEntry, params: URLSearchParams, base: Partial<RunDefaults> = {}): string | null {
  const asked = runFromParams(e.model, params, base);
  const plain = runFromParams(e.model, new URLSearchParams(), base);
  const diffs: string[] = [];
  for (const [k, v] of Object.entries(asked.config)) {
    if (plain.config[k] === v) continue; // not set by the URL
    if (k in e.config && e.config[k] !== v) diffs.push(`${k} ${v} (they have ${e.config[k]})`);
  }
  const datasetSet = params.get('dataset') || base.dataset;
  if (datasetSet && asked.dataset !== e.dataset) diffs.push(`dataset ${asked.dataset} (they were trained on ${e.dataset})`);
  return diffs.length ? `this URL asks for ${diffs.join(', ')}` : null;
}
