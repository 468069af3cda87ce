// Datasets the CLI can train on, by name (Node only: they read files). Each loader returns images
// in [-1, 1], NCHW, at the size the model asks for. Add an entry to DATASETS to make a new one
// available to `gan train <model> --dataset <name>`.

import { loadMnist } from '../engine/data/mnist.js';
import type { ArrayDataset } from '../engine/data/loader.js';

export interface ImageDataset extends ArrayDataset {
  name: string;
  channels: number;
  size: number;
}

export interface DatasetEntry {
  description: string;
  /** Channels of its images (a model's nc must match). */
  channels: number;
  load(opts: { size: number; limit?: number }): ImageDataset;
}

export const DATASETS: Record<string, DatasetEntry> = {
  mnist: {
    description: 'MNIST training digits (60k, 1 channel); padded 28->32, or resized to other sizes',
    channels: 1,
    load({ size, limit }) {
      // 32 is the common DCGAN-on-MNIST size: pad 2 background pixels per side, no resampling.
      const m = size === 32 ? loadMnist({ split: 'train', limit, pad32: true }) : loadMnist({ split: 'train', limit, size });
      return { name: 'mnist', data: m.images, n: m.n, sampleShape: [1, m.h, m.w], labels: m.labels, channels: 1, size: m.h };
    },
  },
};

export function loadDataset(name: string, opts: { size: number; limit?: number }): ImageDataset {
  const entry = DATASETS[name];
  if (!entry) throw new Error(`unknown dataset '${name}' (known: ${Object.keys(DATASETS).join(', ')})`);
  return entry.load(opts);
}
