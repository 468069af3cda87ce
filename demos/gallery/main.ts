// The gallery (demos/index.html): one card per architecture the project covers, with its paper and
// a one-line summary. An architecture whose net is in nets/registry.ts is "live"; if it also has a
// demo page, its card samples a small generator in this tab as a thumbnail: the generator saved by
// that page in this browser when there is one (a trained thumbnail), otherwise freshly initialised
// weights, and the card says which. Architectures still to come get no picture.

import { tidy } from '../../engine/tensor.js';
import { Generator } from '../../engine/ops/random.js';
import { checkpointInfo, restoreCheckpoint } from '../../engine/checkpoint.js';
import { recipes, type ModelConfig } from '../../nets/registry.js';
import { ARCHITECTURES, paperLink, registryKeyOf, type Architecture } from '../shared/architectures.js';
import { byId, el, setStatus } from '../shared/dom.js';
import { drawGrid } from '../shared/grid.js';
import { getCheckpoint } from '../shared/store.js';
import { adapterLine, renderStartFailure, startEngine } from '../shared/webgpu.js';

/** Thumbnail configs for the pages' models when no saved checkpoint exists: small and quick. */
const THUMB_CONFIGS: Record<string, ModelConfig> = {
  dcgan: { imageSize: 32, nc: 1, nz: 100, ngf: 8, ndf: 8 },
};
const THUMB_SAMPLES = 16;

const registered = Object.keys(recipes);

function card(a: Architecture): HTMLElement {
  const key = registryKeyOf(a, registered);
  const live = key !== null;
  const thumb = el('div', { class: 'thumb', 'data-thumb': a.page ?? '' },
    live ? (a.page ? 'sampling…' : `in the engine: gan train ${key}; its page is coming`) : 'coming: no samples until it runs',
  );
  return el(
    'article',
    { class: 'card', 'data-arch': a.name, 'data-status': live ? 'live' : 'coming' },
    el('h2', {}, a.name, el('span', { class: `badge ${live ? 'live' : 'coming'}` }, live ? 'live' : 'coming')),
    el('div', { class: 'paper' },
      el('cite', {}, a.paper.title), el('br'), `${a.paper.authors}, ${a.paper.year} · `,
      el('a', { href: paperLink(a).href, rel: 'noopener' }, paperLink(a).text),
    ),
    el('p', { class: 'summary' }, a.summary),
    thumb,
    el('div', { class: 'links' },
      live && a.page ? el('a', { href: `./${a.page}/` }, 'train it live →') : null,
      live && a.page ? el('a', { href: `./inspector/?model=${key}` }, 'inspect its kernels') : null,
    ),
  );
}

/** Samples the page model's generator into the card's thumbnail. */
async function thumbnail(a: Architecture, key: string, box: HTMLElement): Promise<void> {
  const recipe = recipes[key];
  const stored = a.page ? await getCheckpoint(a.page).catch(() => null) : null;
  let config = THUMB_CONFIGS[key];
  let caption = 'freshly initialised weights (untrained): train it on its page';
  if (stored) {
    const cfg = checkpointInfo(stored.bytes, 'browser checkpoint').config as { config?: ModelConfig } | null;
    if (cfg?.config) config = cfg.config;
  }
  if (!config) return;
  const trainer = recipe.create(config, recipe.train, 1);
  try {
    if (stored) {
      const netG = trainer.nets[trainer.sampler];
      restoreCheckpoint(stored.bytes, { models: { [trainer.sampler]: netG } }, { source: 'browser checkpoint', restoreDefaultGenerator: false });
      caption = `trained in this browser: step ${stored.step}`;
    }
    const out = tidy(() => trainer.generate(trainer.noise(THUMB_SAMPLES, new Generator(Date.now() % 100000))));
    const data = await out.data();
    const shape = [...out.shape];
    out.dispose();
    const canvas = el('canvas', { class: 'pixels', title: caption });
    drawGrid(canvas, data, shape, { nrow: 4 });
    box.replaceChildren(el('div', {}, canvas, el('div', { class: 'small' }, caption)));
    box.dataset.state = 'drawn';
  } finally {
    for (const m of Object.values(trainer.nets)) m.dispose();
    for (const o of Object.values(trainer.optimizers)) o.dispose();
  }
}

async function main(): Promise<void> {
  // The benchmark page (demos/bench/: the engine against tfjs-webgpu in this tab, or a saved run).
  const nav = document.querySelector('header.top nav');
  if (nav && !nav.querySelector('a[href="./bench/"]')) nav.append(el('a', { href: './bench/' }, 'Benchmark'));
  const cards = byId('cards');
  cards.replaceChildren(...ARCHITECTURES.map(card));
  const status = byId('status');
  const liveCount = ARCHITECTURES.filter((a) => registryKeyOf(a, registered)).length;
  setStatus(status, `${ARCHITECTURES.length} architectures, ${liveCount} live in the engine.`);

  const started = await startEngine();
  if ('failure' in started) {
    renderStartFailure(byId('webgpu-status'), started.failure);
    byId('adapter').textContent = 'no WebGPU';
    cards.querySelectorAll<HTMLElement>('.thumb[data-thumb]:not([data-thumb=""])').forEach((t) => (t.textContent = 'needs WebGPU for a live thumbnail'));
    document.body.dataset.ready = 'true';
    return;
  }
  byId('adapter').textContent = adapterLine(started.engine);
  for (const a of ARCHITECTURES) {
    const key = registryKeyOf(a, registered);
    const box = cards.querySelector<HTMLElement>(`.card[data-arch="${a.name}"] .thumb`);
    if (!key || !a.page || !box) continue;
    try {
      await thumbnail(a, key, box);
    } catch (e) {
      box.textContent = `thumbnail failed: ${(e as Error).message}`;
      console.error(e);
    }
  }
  document.body.dataset.ready = 'true';
}

main().catch((e: Error) => {
  setStatus(byId('status'), `gallery failed: ${e.message}`, 'error');
  console.error(e);
});
