// Datasets the CLI can train on, by name (Node only: they read files). Each loader returns images
// in [-1, 1], NCHW, at the size the model asks for. Paired and unpaired two-domain sets come packed
// one row per example, domain A's channels then B's (data/pairs.ts: the layout the
// image-to-image trainers split). Add an entry to DATASETS to make a new one available to
// `gan train <model> --dataset <name>`.

import { loadMnist } from '../data/mnist.js';
import { loadStackedMnist } from '../data/stacked_mnist.js';
import { loadEmojiPairs, loadEmojiSkinTones, loadEmojiText, loadEmojiUnpaired } from '../data/emoji.js';
import { loadEmojiEdges } from '../data/emoji_edges.js';
import type { ArrayDataset } from '../data/loader.js';
import { packPairs, packUnpaired } from '../data/pairs.js';
import { packDomains } from '../data/domains.js';

export interface ImageDataset extends ArrayDataset {
  name: string;
  /** Channels per example (a packed two-domain set counts both domains). */
  channels: number;
  size: number;
  /** Each example's caption as lowercase tokens (emoji-text; text-conditioned models such as StackGAN). */
  tokens?: readonly (readonly string[])[];
}

export interface DatasetEntry {
  description: string;
  /** Channels per example (a model's image channels must match). */
  channels: number;
  /** May be async (e.g. emoji-edges computes its edge maps on the GPU: initialise the engine first). */
  load(opts: { size: number; limit?: number }): ImageDataset | Promise<ImageDataset>;
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
  'stacked-mnist': {
    description: 'Stacked MNIST (three training digits as R, G, B; 1000 modes), 60k examples drawn with seed 0; padded 28->32 like mnist',
    channels: 3,
    load({ size, limit }) {
      // Fixed seed: the same stacked set every run (the loader's --seed only orders it). --limit N
      // draws N stacked examples from the whole training split. Labels are the modes (100 r + 10 g + b).
      const geometry = size === 32 ? { pad32: true } : { size };
      const s = loadStackedMnist({ split: 'train', n: limit, seed: 0, ...geometry });
      return { name: 'stacked-mnist', data: s.images, n: s.n, sampleShape: [3, s.h, s.w], labels: s.modes, channels: 3, size: s.h };
    },
  },
  emoji: {
    description: 'emoji drawings (Noto, RGB, 64px native; other sizes by area averaging or bilinear); training split',
    channels: 3,
    load({ size, limit }) {
      const p = loadEmojiPairs({ split: 'train', size, limit, skinTones: false });
      return { name: 'emoji', data: p.a, n: p.n, sampleShape: [3, p.h, p.w], channels: 3, size: p.h };
    },
  },
  'emoji-pairs': {
    description: 'aligned emoji pairs, Noto (A) and Twemoji (B) drawings of the same emoji, RGB; training split',
    channels: 6,
    load({ size, limit }) {
      const p = loadEmojiPairs({ split: 'train', size, limit });
      return {
        name: 'emoji-pairs',
        data: packPairs(p.a, p.b, p.n, 3, 3, p.h, p.w),
        n: p.n,
        sampleShape: [6, p.h, p.w],
        channels: 6,
        size: p.h,
      };
    },
  },
  'emoji-unpaired': {
    description: 'unpaired emoji domains, Noto (A) and Twemoji (B) drawn from disjoint emoji, RGB; training split',
    channels: 6,
    load({ size, limit }) {
      const u = loadEmojiUnpaired({ split: 'train', size, limit });
      const n = Math.max(u.nA, u.nB);
      return {
        name: 'emoji-unpaired',
        data: packUnpaired(u.a, u.nA, u.b, u.nB, 3, u.h, u.w),
        n,
        sampleShape: [6, u.h, u.w],
        channels: 6,
        size: u.h,
      };
    },
  },
  'emoji-edges': {
    description: "edges -> emoji like edges2shoes: edge maps (A, made by the engine's GPU kernels) and the Noto emoji (B); training split",
    channels: 6,
    async load({ size, limit }) {
      const e = await loadEmojiEdges({ split: 'train', size, limit });
      return {
        name: 'emoji-edges',
        data: packPairs(e.edges, e.images, e.n, 3, 3, e.h, e.w),
        n: e.n,
        sampleShape: [6, e.h, e.w],
        channels: 6,
        size: e.h,
      };
    },
  },
  'emoji-skin': {
    description:
      'emoji in 6 skin-tone domains (default yellow + 5 tones), Noto, RGB + 6 one-hot label planes per row (input of the multi-domain translators); training split',
    channels: 3 + 6,
    load({ size, limit }) {
      // --limit counts images; the loader takes whole emoji (all six tones of each).
      const s = loadEmojiSkinTones({ split: 'train', size, limit: limit ? Math.ceil(limit / 6) : undefined });
      const data = packDomains(s.images, s.domain, s.n, s.numDomains, 3, s.h, s.w);
      return {
        name: 'emoji-skin',
        data,
        n: s.n,
        sampleShape: [3 + s.numDomains, s.h, s.w],
        labels: s.domain,
        channels: 3 + s.numDomains,
        size: s.h,
      };
    },
  },
  'emoji-text': {
    description:
      'emoji drawings (Noto, RGB) with captions (name, short names, category as tokens) and category labels (input of the text-conditioned models); training split',
    channels: 3,
    load({ size, limit }) {
      const t = loadEmojiText({ split: 'train', set: 'google', size, limit, skinTones: false });
      return {
        name: 'emoji-text',
        data: t.images,
        n: t.n,
        sampleShape: [3, t.h, t.w],
        labels: t.category,
        tokens: t.tokens,
        channels: 3,
        size: t.h,
      };
    },
  },
};

export async function loadDataset(name: string, opts: { size: number; limit?: number }): Promise<ImageDataset> {
  const entry = DATASETS[name];
  if (!entry) throw new Error(`unknown dataset '${name}' (known: ${Object.keys(DATASETS).join(', ')})`);
  return await entry.load(opts);
}
