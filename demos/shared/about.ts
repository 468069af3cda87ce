// Header title and lede of a model's training page, from the architecture catalogue
// (architectures.ts): the paper, its one-line summary, and the recipe's own description.

import { recipes } from '../../nets/registry.js';
import { ARCHITECTURES, paperLink, registryKeyOf, type Architecture } from './architectures.js';
import { el } from './dom.js';

export function architectureOf(model: string): Architecture | null {
  const registered = Object.keys(recipes);
  return ARCHITECTURES.find((a) => registryKeyOf(a, registered) === model) ?? null;
}

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
  if (r) parts.push('The networks are the engine\'s ', el('code', {}, `nets/${model}.ts`), ` (${r.description}), trained here with every kernel running as WGSL on your GPU.`);
  return parts;
}
