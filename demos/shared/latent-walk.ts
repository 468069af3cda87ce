// The latent-walk panel of the training pages: the generator's images along a spherical
// interpolation (slerp, as in the DCGAN paper's walks and White 2016) between two latent codes drawn
// from a seeded stream; "New endpoints" draws the next pair. For models whose noise() gives latent
// codes (the unconditional generators; for a decoder, its code space).

import { el, intParam } from './dom.js';
import { drawGrid } from './grid.js';
import type { Extra, PageContext } from './training-page.js';

/** Spherical interpolation between two vectors (linear when they are nearly parallel). */
export function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  const omega = Math.acos(Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb))));
  const out = new Float32Array(a.length);
  if (omega < 1e-4) {
    for (let i = 0; i < a.length; i++) out[i] = (1 - t) * a[i] + t * b[i];
    return out;
  }
  const s = Math.sin(omega);
  const wa = Math.sin((1 - t) * omega) / s;
  const wb = Math.sin(t * omega) / s;
  for (let i = 0; i < a.length; i++) out[i] = wa * a[i] + wb * b[i];
  return out;
}

/** The walk panel (frames from ?walk=, default 8). */
export function latentWalk(ctx: PageContext): Extra {
  const frames = intParam(new URLSearchParams(location.search), 'walk', 8, 2, 32);
  let endpoints = 7;
  const canvas = el('canvas', { id: 'latent', class: 'strip', width: 1, height: 1, 'aria-label': 'latent interpolation' });
  const caption = el(
    'span',
    { class: 'muted small', id: 'walk-caption' },
    'Spherical interpolation between two latent codes, left to right.',
  );
  const draw = async () => {
    const s = ctx.session;
    if (!s) return;
    const ends = await s.latents(2, endpoints);
    const d = ends.data.length / 2;
    const za = ends.data.subarray(0, d);
    const zb = ends.data.subarray(d);
    const z = new Float32Array(frames * d);
    for (let f = 0; f < frames; f++) z.set(slerp(za, zb, f / (frames - 1)), f * d);
    const img = await s.generateFrom(z, [frames, ...ends.shape.slice(1)]);
    drawGrid(canvas, img.data, img.shape, { nrow: frames });
    caption.textContent = `Spherical interpolation between two latent codes (endpoints #${endpoints}), step ${s.step}.`;
  };
  const button = el('button', { id: 'btn-walk', disabled: true, 'data-needs-session': true }, 'New endpoints');
  button.addEventListener('click', () => {
    endpoints++;
    void ctx.betweenSteps(
      'latent walk',
      async () => {
        await draw();
        return `new latent endpoints (#${endpoints})`;
      },
      button,
    );
  });
  const panel = el(
    'section',
    { class: 'panel wide', id: 'panel-walk' },
    el('h2', {}, 'Latent walk'),
    el('div', { class: 'controls' }, button, caption),
    canvas,
  );
  return { panel, refresh: draw };
}
