// The gallery (demos/index.html): one card per registered model, in the registry's order, with its
// paper and a one-line summary (the model's declaration, see demos/shared/architectures.ts). Each
// card links to the page that trains it in the browser (train/?model=NAME, or the model's own page;
// further pages its `demo` hook lists) and shows a thumbnail: the sample grid of the trained weights
// shipped with the project (zoo/<model>/grid.png, `gan sample --pretrained` of the shipped file,
// listed in the site's zoo manifest: demos/shared/zoo.ts) with a link to its card, shown without
// any GPU work; otherwise one made in this tab (demos/shared/preview.ts): the generator saved by its
// training page in this browser when there is one, else freshly initialised weights (the untrained
// look), and the card says which. A thumbnail made in the tab is drawn when
// its card scrolls into view, one at a time: each model compiles its own kernels, which takes a
// while on a software adapter, so nobody waits for the cards they do not look at.

import { recipes } from '../../nets/registry.js';
import { ARCHITECTURES, paperLink, type Architecture } from '../shared/architectures.js';
import { registerHeldOutSource } from '../shared/datasets.js';
import { byId, el, setStatus } from '../shared/dom.js';
import { drawGrid } from '../shared/grid.js';
import { getCheckpoint } from '../shared/store.js';
import { previewModel } from '../shared/preview.js';
import { adapterLine, renderStartFailure, startEngine } from '../shared/webgpu.js';
import { trainedCaption, zooBytes, zooManifest, zooUrl, type ZooEntry } from '../shared/zoo.js';

const registered = Object.keys(recipes);

/** The page that trains a registered model: its own page, else the generic one. */
function pageOf(a: Architecture): string {
  return a.page ? `./${a.page}/` : `./train/?model=${encodeURIComponent(a.key)}`;
}

function card(a: Architecture): HTMLElement {
  const thumb = el('div', { class: 'thumb', 'data-thumb': a.key, 'data-state': 'waiting' }, 'sampled here when it scrolls into view');
  return el(
    'article',
    { class: 'card', 'data-arch': a.name, 'data-status': 'live' },
    el('h2', {}, a.name, el('span', { class: 'badge live' }, 'live')),
    el(
      'div',
      { class: 'paper' },
      el('cite', {}, a.paper.title),
      el('br'),
      `${a.paper.authors}, ${a.paper.year} · `,
      el('a', { href: paperLink(a).href, rel: 'noopener' }, paperLink(a).text),
    ),
    el('p', { class: 'summary' }, a.summary),
    thumb,
    el(
      'div',
      { class: 'links' },
      el('a', { href: pageOf(a), class: 'train-link' }, 'train it live →'),
      ...(a.pages ?? []).map((p) => el('a', { href: `./${p.href}` }, p.text)),
      el('a', { href: `./inspector/?model=${a.key}` }, 'inspect its kernels'),
    ),
  );
}

/** Draws the model's preview into the card's thumbnail box (from shipped weights that came without their grid, when given). */
async function thumbnail(key: string, box: HTMLElement, shipped?: ZooEntry): Promise<void> {
  const p = await previewModel(
    key,
    16,
    shipped ? { bytes: await zooBytes(shipped.file), caption: `${trainedCaption(shipped)} (shipped weights, sampled here)` } : undefined,
  );
  const canvas = el('canvas', { class: 'pixels', title: p.caption });
  drawGrid(canvas, p.data, p.shape, { nrow: p.nrow });
  box.replaceChildren(el('div', {}, canvas, el('div', { class: 'small' }, p.caption)));
  box.dataset.state = 'drawn';
  box.dataset.trained = shipped ? 'shipped' : String(p.trained);
}

/** Shows the sample grid of the model's shipped trained weights (an image the build serves; no GPU work). */
async function shippedThumbnail(e: ZooEntry, box: HTMLElement): Promise<void> {
  const img = new Image();
  img.src = zooUrl(e.grid!);
  await img.decode();
  const canvas = el('canvas', {
    class: 'pixels',
    width: img.naturalWidth,
    height: img.naturalHeight,
    title: `gan sample --pretrained, step ${e.step}`,
  });
  canvas.getContext('2d')!.drawImage(img, 0, 0);
  box.replaceChildren(
    el(
      'div',
      {},
      canvas,
      el('div', { class: 'small' }, `${trainedCaption(e)} (shipped weights) · `, el('a', { href: zooUrl(e.card) }, 'see its card')),
    ),
  );
  box.dataset.state = 'drawn';
  box.dataset.trained = 'shipped';
}

async function main(): Promise<void> {
  // The benchmark page (demos/bench/: the engine against tfjs-webgpu in this tab, or a saved run).
  const nav = document.querySelector('header.top nav');
  if (nav && !nav.querySelector('a[href="./bench/"]')) nav.append(el('a', { href: './bench/' }, 'Benchmark'));
  const cards = byId('cards');
  cards.replaceChildren(...ARCHITECTURES.map(card));
  setStatus(byId('status'), `${ARCHITECTURES.length} architectures, all live in the engine.`);
  // Trained thumbnails first: they need no WebGPU.
  const shipped = await zooManifest().catch((e: Error) => {
    console.warn(e.message);
    return { models: {} as Record<string, ZooEntry> };
  });
  await Promise.all(
    Array.from(cards.querySelectorAll<HTMLElement>('.thumb[data-thumb]')).map(async (box) => {
      const e = shipped.models[box.dataset.thumb!];
      if (!e?.grid) return;
      try {
        await shippedThumbnail(e, box);
      } catch (err) {
        console.warn(`${e.model}: the trained grid did not load (${(err as Error).message}); sampling here instead`);
      }
    }),
  );

  const started = await startEngine();
  if ('failure' in started) {
    renderStartFailure(byId('webgpu-status'), started.failure);
    byId('adapter').textContent = 'no WebGPU';
    cards
      .querySelectorAll<HTMLElement>('.thumb[data-state="waiting"]')
      .forEach((t) => (t.textContent = 'needs WebGPU for a live thumbnail'));
    document.body.dataset.ready = 'true';
    return;
  }
  byId('adapter').textContent = adapterLine(started.engine);
  registerHeldOutSource();
  // Visible cards join a queue drawn one thumbnail at a time: trained models first (shipped weights
  // whose grid did not load, or a checkpoint of this browser), then in the order they came into view.
  const trained = new Set<string>(Object.keys(shipped.models));
  for (const key of registered) if (await getCheckpoint(key).catch(() => null)) trained.add(key);
  const queue: { key: string; box: HTMLElement }[] = [];
  const next = () => {
    const i = queue.findIndex((j) => trained.has(j.key));
    return queue.splice(i >= 0 ? i : 0, 1)[0];
  };
  let draining = false;
  const drain = async () => {
    if (draining) return;
    draining = true;
    for (let job = next(); job; job = next()) {
      job.box.textContent = 'sampling…';
      job.box.dataset.state = 'sampling';
      try {
        await thumbnail(job.key, job.box, shipped.models[job.key]);
      } catch (e) {
        job.box.textContent = `thumbnail failed: ${(e as Error).message}`;
        job.box.dataset.state = 'failed';
        console.error(e);
      }
    }
    draining = false;
  };
  const observer = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      const box = e.target as HTMLElement;
      observer.unobserve(box);
      queue.push({ key: box.dataset.thumb!, box });
    }
    void drain();
  });
  cards.querySelectorAll<HTMLElement>('.thumb[data-state="waiting"]').forEach((box) => observer.observe(box));
  document.body.dataset.ready = 'true';
}

main().catch((e: Error) => {
  setStatus(byId('status'), `gallery failed: ${e.message}`, 'error');
  console.error(e);
});
