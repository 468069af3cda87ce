// The held-out (test) split of each two-domain training dataset, packed like its training split
// (A's channels, then B's), registered as nets/translation.ts's held-out source so the recipes'
// heldOutPairs hooks (browser-safe) can reach the PNG loaders (Node). Importing this module once
// registers it; `gan train` and `gan eval` do.
//
//   emoji-pairs, emoji-unpaired  aligned (Noto, Twemoji) pairs of the test emoji (for the unpaired
//                                set these are the partners that training never shows together)
//   emoji-edges                  (edge map, Noto) pairs of the test emoji, edges made on the GPU

import { loadEmojiPairs } from '../engine/data/emoji.js';
import { loadEmojiEdges } from '../engine/data/emoji_edges.js';
import { packPairs } from '../nets/pix2pix.js';
import { setHeldOutSource, type PackedPairs } from '../nets/translation.js';

export const HELD_OUT_DATASETS = ['emoji-pairs', 'emoji-unpaired', 'emoji-edges'] as const;

export async function heldOutPackedPairs(opts: { dataset: string; size: number; limit?: number }): Promise<PackedPairs> {
  const { dataset, size, limit } = opts;
  if (dataset === 'emoji-pairs' || dataset === 'emoji-unpaired') {
    const p = loadEmojiPairs({ split: 'test', size, limit });
    return { data: packPairs(p.a, p.b, p.n, 3, 3, p.h, p.w), n: p.n, channelsA: 3, channelsB: 3, size: p.h, names: p.names };
  }
  if (dataset === 'emoji-edges') {
    const e = await loadEmojiEdges({ split: 'test', size, limit });
    return { data: packPairs(e.edges, e.images, e.n, 3, 3, e.h, e.w), n: e.n, channelsA: 3, channelsB: 3, size: e.h, names: e.names };
  }
  throw new Error(`dataset '${dataset}' has no held-out pairs with ground truth (those that do: ${HELD_OUT_DATASETS.join(', ')})`);
}

setHeldOutSource(heldOutPackedPairs);
