// The architectures the gallery shows, in the registry's order: for each registered model, its
// paper and one-line summary (the declaration's `paper`, reachable as recipe.info) and its pages
// (the `demo` hook). Nothing here is per model: a new paper appears once nets/registry.ts lists it.

import { recipes, type ModelRecipe } from '../../nets/registry.js';
import type { DemoProfile, PaperInfo } from '../../nets/lib/model.js';

export interface Architecture {
  /** The registry key (`gan train KEY`, train/?model=KEY). */
  key: string;
  /** Short display name ('DCGAN', 'StackGAN++'). */
  name: string;
  paper: PaperInfo;
  summary: string;
  /** Its own demo page folder under demos/ (otherwise the generic train/?model=KEY page). */
  page?: string;
  /** Further pages for it (interactive ones), relative to the gallery. */
  pages?: { href: string; text: string }[];
}

// FALLBACK until pix2pix, cyclegan, dualgan, discogan, stargan, stackgan, stackganpp declare info/demo: the lead deletes this after merging.
// Used only for a registered model whose recipe has no `info`; the entries are the old catalogue's.
const FALLBACK: Record<string, { paper: PaperInfo; pages?: DemoProfile['pages'] }> = {
  stackgan: {
    paper: {
      label: 'StackGAN',
      title: 'StackGAN: Text to Photo-realistic Image Synthesis with Stacked Generative Adversarial Networks',
      authors: 'Han Zhang, Tao Xu, Hongsheng Li, Shaoting Zhang, Xiaogang Wang, Xiaolei Huang, Dimitris Metaxas',
      year: 2016,
      arxiv: '1612.03242',
      summary: 'Text-to-image in two stages: a sketch from the caption, then a refinement, with conditioning augmentation on the text code.',
    },
  },
  stackganpp: {
    paper: {
      label: 'StackGAN++',
      title: 'StackGAN++: Realistic Image Synthesis with Stacked Generative Adversarial Networks',
      authors: 'Han Zhang, Tao Xu, Hongsheng Li, Shaoting Zhang, Xiaogang Wang, Xiaolei Huang, Dimitris Metaxas',
      year: 2017,
      arxiv: '1710.10916',
      summary: 'A tree of generators and discriminators at several scales trained jointly, with a colour-consistency regulariser.',
    },
  },
  pix2pix: {
    paper: {
      label: 'pix2pix',
      title: 'Image-to-Image Translation with Conditional Adversarial Networks',
      authors: 'Phillip Isola, Jun-Yan Zhu, Tinghui Zhou, Alexei A. Efros',
      year: 2016,
      arxiv: '1611.07004',
      summary: 'Paired translation with a U-Net generator, a PatchGAN discriminator and an L1 term.',
    },
    pages: [{ href: 'draw/', text: 'draw edges → emoji' }],
  },
  cyclegan: {
    paper: {
      label: 'CycleGAN',
      title: 'Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks',
      authors: 'Jun-Yan Zhu, Taesung Park, Phillip Isola, Alexei A. Efros',
      year: 2017,
      arxiv: '1703.10593',
      summary: 'Two generators translating between unpaired domains, held together by a cycle-consistency loss.',
    },
  },
  dualgan: {
    paper: {
      label: 'DualGAN',
      title: 'DualGAN: Unsupervised Dual Learning for Image-to-Image Translation',
      authors: 'Zili Yi, Hao Zhang, Ping Tan, Minglun Gong',
      year: 2017,
      arxiv: '1704.02510',
      summary: 'Unpaired translation as dual learning: primal and dual generators with Wasserstein critics and a reconstruction loss.',
    },
  },
  discogan: {
    paper: {
      label: 'DiscoGAN',
      title: 'Learning to Discover Cross-Domain Relations with Generative Adversarial Networks',
      authors: 'Taeksoo Kim, Moonsu Cha, Hyunsoo Kim, Jung Kwon Lee, Jiwon Kim',
      year: 2017,
      arxiv: '1703.05192',
      summary: 'Discovers relations between two unpaired domains with coupled generators and a reconstruction loss each way.',
    },
  },
  stargan: {
    paper: {
      label: 'StarGAN',
      title: 'StarGAN: Unified Generative Adversarial Networks for Multi-Domain Image-to-Image Translation',
      authors: 'Yunjey Choi, Minje Choi, Munyoung Kim, Jung-Woo Ha, Sunghun Kim, Jaegul Choo',
      year: 2017,
      arxiv: '1711.09020',
      summary: 'One generator translating among many domains, conditioned on a target label, with an auxiliary domain classifier.',
    },
  },
};
// END FALLBACK

/** The paper and pages of a registered model, from its declaration (or, until it has one, the fallback). */
function architecture(r: ModelRecipe): Architecture {
  const fallback = r.info ? undefined : FALLBACK[r.name];
  const paper = r.info ?? fallback?.paper;
  if (!paper) throw new Error(`nets/registry.ts: model '${r.name}' has no paper info; declare it with defineModel({ paper: { label, title, authors, year, summary, ... } })`);
  return { key: r.name, name: paper.label, paper, summary: paper.summary, page: r.demo?.page, pages: r.demo ? r.demo.pages : fallback?.pages };
}

/** Every registered model's architecture, in the registry's order (the gallery's). */
export const ARCHITECTURES: readonly Architecture[] = Object.values(recipes).map(architecture);

/** The architecture registered under `model`, or null. */
export function architectureOf(model: string): Architecture | null {
  return ARCHITECTURES.find((a) => a.key === model) ?? null;
}

export function arxivUrl(id: string): string {
  return `https://arxiv.org/abs/${id}`;
}

/** Where to read the paper, and the link's text. */
export function paperLink(a: Architecture): { href: string; text: string } {
  if (a.paper.arxiv) return { href: arxivUrl(a.paper.arxiv), text: `arXiv:${a.paper.arxiv}` };
  return { href: a.paper.url ?? '#', text: a.paper.venue ?? 'paper' };
}
