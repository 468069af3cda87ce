// The architectures the gallery shows, in the registry's order: for each registered model, its
// paper and one-line summary (the declaration's `paper`, reachable as recipe.info) and its pages
// (the `demo` hook). Nothing here is per model: a new paper appears once nets/registry.ts lists it.

import { recipes, type ModelRecipe } from '../../nets/registry.js';
import type { PaperInfo } from '../../nets/lib/model.js';

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

/** The paper and pages of a registered model, from its declaration. */
function architecture(r: ModelRecipe): Architecture {
  const paper = r.info;
  if (!paper)
    throw new Error(
      `nets/registry.ts: model '${r.name}' has no paper info; declare it with defineModel({ paper: { label, title, authors, year, summary, ... } })`,
    );
  return { key: r.name, name: paper.label, paper, summary: paper.summary, page: r.demo?.page, pages: r.demo?.pages };
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
