// Training data for the pages, fetched from the built site (never the network): MNIST from its own
// file (demos/shared/mnist.ts, resampled to any size), every other dataset from the files the
// build's data step wrote (demos/data/export.ts; format in demos/shared/data-format.ts). A dataset
// asked for at a size the build did not write is area-averaged down from a stored multiple of it.
// registerHeldOutSource() makes the image-to-image recipes' heldOutPairs hooks (nets/lib/translation.ts)
// read the held-out pairs written beside each two-domain dataset, as `gan eval` reads the test split.

import type { ArrayDataset } from '../../data/loader.js';
import { setHeldOutSource, type PackedPairs } from '../../nets/lib/translation.js';
import { DATA_INDEX, type DataIndex, type DataManifest } from './data-format.js';
import { fetchMnistBytes, mnistDataset, type MnistManifest } from './mnist.js';

/** Examples, with their captions when the dataset has them (what GanTrainer.bindData takes). */
export type PageExamples = ArrayDataset & { tokens?: readonly (readonly string[])[] };

/** A dataset as a page trains on it. */
export interface PageDataset {
  name: string;
  data: PageExamples;
  /** Channels per example (a two-domain set counts both). */
  channels: number;
  /** The manifest of the file it came from (absent for MNIST). */
  manifest?: DataManifest;
  /** One line for the page: where the examples came from. */
  source: string;
}

const DATA_DIR = '../data/';
const HINT = 'build the demos with their data step: node scripts/build.mjs demos (or node demos/prepare-data.mjs)';

let indexPromise: Promise<DataIndex> | null = null;
const sets = new Map<string, Promise<{ manifest: DataManifest; data: PageExamples }>>();
let mnist: Promise<{ manifest: MnistManifest; bytes: Uint8Array }> | null = null;

async function fetchOk(url: string, what: string): Promise<Response> {
  const res = await fetch(url).catch((e: Error) => {
    throw new Error(`${what}: cannot fetch ${url} (${e.message}); ${HINT}`);
  });
  if (!res.ok) throw new Error(`${what}: ${url} answered HTTP ${res.status}; ${HINT}`);
  return res;
}

function dataIndex(): Promise<DataIndex> {
  indexPromise ??= fetchOk(DATA_DIR + DATA_INDEX, 'demo data index').then((r) => r.json() as Promise<DataIndex>);
  indexPromise.catch(() => (indexPromise = null));
  return indexPromise;
}

/** Values of a data file as floats: uint8 q -> (q - 127) / 127, float32 as stored. */
function decode(m: DataManifest, bytes: ArrayBuffer): PageExamples {
  const per = m.sampleShape.reduce((a, b) => a * b, 1);
  const count = m.n * per;
  let data: Float32Array;
  if (m.dtype === 'uint8') {
    const q = new Uint8Array(bytes, m.dataOffset, count);
    data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = (q[i] - 127) / 127;
  } else {
    data = new Float32Array(bytes.slice(m.dataOffset, m.dataOffset + 4 * count));
  }
  const labels = m.labelsOffset !== undefined ? new Int32Array(bytes.slice(m.labelsOffset, m.labelsOffset + 4 * m.n)) : undefined;
  return { data, n: m.n, sampleShape: m.sampleShape, labels, ...(m.tokens ? { tokens: m.tokens } : {}) };
}

function fetchSet(stem: string): Promise<{ manifest: DataManifest; data: PageExamples }> {
  let p = sets.get(stem);
  if (!p) {
    p = (async () => {
      const manifest = (await (await fetchOk(`${DATA_DIR}${stem}.json`, stem)).json()) as DataManifest;
      const bytes = await (await fetchOk(`${DATA_DIR}${stem}.bin`, stem)).arrayBuffer();
      const per = manifest.sampleShape.reduce((a, b) => a * b, 1) * (manifest.dtype === 'uint8' ? 1 : 4);
      if (bytes.byteLength < manifest.dataOffset + manifest.n * per) {
        throw new Error(`${stem}.bin has ${bytes.byteLength} bytes, its manifest needs ${manifest.dataOffset + manifest.n * per}; ${HINT}`);
      }
      return { manifest, data: decode(manifest, bytes) };
    })();
    p.catch(() => sets.delete(stem));
    sets.set(stem, p);
  }
  return p;
}

/** Area average of NCHW examples by an integer factor (the emoji loaders' own way of shrinking). */
export function areaDownsample(d: PageExamples, factor: number): PageExamples {
  const [c, h, w] = d.sampleShape;
  const oh = h / factor;
  const ow = w / factor;
  const out = new Float32Array(d.n * c * oh * ow);
  const inv = 1 / (factor * factor);
  for (let p = 0; p < d.n * c; p++) {
    const src = p * h * w;
    const dst = p * oh * ow;
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        let s = 0;
        for (let dy = 0; dy < factor; dy++) for (let dx = 0; dx < factor; dx++) s += d.data[src + (y * factor + dy) * w + x * factor + dx];
        out[dst + y * ow + x] = s * inv;
      }
    }
  }
  return { data: out, n: d.n, sampleShape: [c, oh, ow], labels: d.labels, tokens: d.tokens };
}

/** Channels per example of a dataset in this build's data (before loading it), or null. */
export async function datasetChannels(name: string): Promise<number | null> {
  return (await dataIndex()).channels?.[name] ?? null;
}

/** The stored file of `name` at `size`, or a larger stored size it divides (with the factor). */
async function locate(name: string, size: number): Promise<{ stem: string; factor: number }> {
  const idx = await dataIndex();
  const sizes = idx.datasets[name];
  if (!sizes) {
    const known = ['mnist', ...Object.keys(idx.datasets)];
    throw new Error(
      `dataset '${name}' is not in this build's data (it has: ${known.join(', ')}); demos/data/export.ts writes the datasets the registered models train on`,
    );
  }
  if (sizes[String(size)]) return { stem: sizes[String(size)], factor: 1 };
  const larger = Object.keys(sizes)
    .map(Number)
    .filter((s) => s > size && s % size === 0)
    .sort((a, b) => a - b)[0];
  if (larger) return { stem: sizes[String(larger)], factor: larger / size };
  throw new Error(
    `dataset '${name}' is in this build at ${Object.keys(sizes).join(', ')} px, not ${size}: rebuild the data with node demos/prepare-data.mjs --sizes ${size}`,
  );
}

/** A dataset at an image side, as the pages train on it. */
export async function loadPageDataset(name: string, size: number): Promise<PageDataset> {
  if (name === 'mnist') {
    mnist ??= fetchMnistBytes();
    mnist.catch(() => (mnist = null));
    const { manifest, bytes } = await mnist;
    return {
      name,
      data: mnistDataset(manifest, bytes, size),
      channels: 1,
      source: `MNIST, first ${manifest.count} training digits, ${size}×${size}`,
    };
  }
  const { stem, factor } = await locate(name, size);
  const { manifest, data } = await fetchSet(stem);
  const scaled = factor === 1 ? data : areaDownsample(data, factor);
  return {
    name,
    data: scaled,
    channels: data.sampleShape[0],
    manifest,
    source: `${name}: ${manifest.n} examples, ${size}×${size}${factor > 1 ? ` (area-averaged from ${manifest.size} px)` : ''}`,
  };
}

/** The held-out examples stored beside a dataset (aligned pairs; StarGAN's tones), or null. */
export async function loadHeldOut(name: string, size: number): Promise<PageDataset | null> {
  if (name === 'mnist') return null;
  const { stem, factor } = await locate(name, size);
  const { manifest } = await fetchSet(stem);
  if (!manifest.heldOut) return null;
  const held = await fetchSet(manifest.heldOut);
  const data = factor === 1 ? held.data : areaDownsample(held.data, factor);
  return { name: `${name}-heldout`, data, channels: data.sampleShape[0], manifest: held.manifest, source: held.manifest.source };
}

/**
 * Makes nets/lib/translation.ts's heldOutEmojiPairs (and so every image-to-image recipe's
 * heldOutPairs hook) read the held-out pairs of this build's data.
 */
export function registerHeldOutSource(): void {
  setHeldOutSource(async ({ dataset, size, limit }): Promise<PackedPairs> => {
    const held = await loadHeldOut(dataset, size);
    const domains = held?.manifest?.domains;
    if (!held || !domains || domains.length !== 2) throw new Error(`dataset '${dataset}' has no held-out pairs in this build`);
    const n = Math.min(limit ?? held.data.n, held.data.n);
    const per = held.channels * size * size;
    return {
      data: held.data.data.subarray(0, n * per),
      n,
      channelsA: domains[0].channels,
      channelsB: domains[1].channels,
      size,
      names: (held.manifest?.names ?? []).slice(0, n),
    };
  });
}
