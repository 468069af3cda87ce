// Header title and lede of a model's training page, from the model's declaration: its paper
// (recipe.info, through architectures.ts), its one-line summary, and the recipe's description.

import { recipes } from '../../nets/registry.js';
import { architectureOf, paperLink } from './architectures.js';
import { el } from './dom.js';

export function modelTitle(model: string): string {
  return `${architectureOf(model)?.name ?? model}, trained in this tab`;
}

export function modelLede(model: string): (Node | string)[] {
  const a = architectureOf(model);
  const r = recipes[model];
  const parts: (Node | string)[] = [];
  if (a) {
    const link = paperLink(a);
    parts.push(`${a.paper.authors}, `, el('a', { href: link.href, rel: 'noopener' }, a.paper.title), ` (${a.paper.year}). ${a.summary} `);
  }
  if (r)
    parts.push(
      "The networks are the engine's ",
      el('code', {}, `nets/${model}.ts`),
      ` (${r.description}), trained here with every kernel running as WGSL on your GPU.`,
    );
  return parts;
}
