// Edges -> emoji pairs, made the way edges2shoes was made: an edge detector run over the target
// images themselves, here the engine's own GPU kernels (engine/ops/edges.ts edgeMap: luminance,
// Sobel, non-maximum suppression, threshold; data/emoji.ts edgeMapCpu is its CPU reference).
// A is the edge map (black lines on white, three identical channels, like the RGB edge images of
// edges2shoes), B the Noto emoji it was drawn from, at the requested size (edges are detected at that
// size, so lines stay one pixel wide). Skin-tone variants are left out: their edge maps are those of
// the base emoji, so they would make the task ambiguous. Node only (reads the emoji PNGs); needs an
// initialised engine.

import { tensor } from '../engine/tensor.js';
import { edgeMap } from '../engine/ops/edges.js';
import { loadEmojiPairs, type EmojiLoadOptions } from './emoji.js';

export interface EmojiEdges {
  /** Edge maps, n x 3 x h x w, -1 (edge) or 1. */
  edges: Float32Array;
  /** The Noto images they were drawn from, n x 3 x h x w in [-1, 1]. */
  images: Float32Array;
  n: number;
  h: number;
  w: number;
  names: string[];
  codes: string[];
}

/** Images per GPU pass (bounded memory on any adapter). */
const CHUNK = 256;

export async function loadEmojiEdges(options: EmojiLoadOptions & { threshold?: number }): Promise<EmojiEdges> {
  const p = loadEmojiPairs({ ...options, skinTones: false });
  const per = 3 * p.h * p.w;
  const edges = new Float32Array(p.n * per);
  for (let i = 0; i < p.n; i += CHUNK) {
    const m = Math.min(CHUNK, p.n - i);
    const x = tensor(p.a.subarray(i * per, (i + m) * per), [m, 3, p.h, p.w]);
    const e = edgeMap(x, { threshold: options.threshold, channels: 3 });
    try {
      edges.set(await e.data(), i * per);
    } finally {
      x.dispose();
      e.dispose();
    }
  }
  return { edges, images: p.a, n: p.n, h: p.h, w: p.w, names: p.names, codes: p.codes };
}
