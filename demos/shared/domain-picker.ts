// StarGAN's target-domain picker: held-out emoji (the test split, never trained on) in their own
// domain, translated into the domain picked with the buttons, next to the same emoji really drawn
// in that domain. The rows are G's input layout (image, then one constant plane per domain:
// data/domains.ts packDomains), so a translation is the recipe's translate hook on the image with
// the target's plane set. For datasets whose held-out file names its label values (emoji-skin).

import { translationGrid } from '../../nets/lib/translation.js';
import { el } from './dom.js';
import { drawGrid } from './grid.js';
import type { Extra, PageContext } from './training-page.js';

export function domainPicker(ctx: PageContext): Extra | null {
  const held = ctx.heldOut;
  const names = held?.manifest?.labelNames;
  const labels = held?.data.labels;
  if (!held || !names || !labels) return null;
  const [rowC, h, w] = held.data.sampleShape;
  const k = names.length;
  const c = rowC - k;
  const plane = h * w;
  // Sources: the held-out images in domain 0; their counterparts in domain d share the emoji's
  // name up to the domain suffix (the loader groups an emoji's six tones together, in order).
  const sources: number[] = [];
  for (let i = 0; i < held.data.n; i++) if (labels[i] === 0) sources.push(i);
  const counterpart = (i: number, d: number) => (i + d < held.data.n && labels[i + d] === d ? i + d : -1);
  let target = Math.min(k - 1, 5);
  const canvas = el('canvas', { id: 'domains', class: 'pixels', width: 1, height: 1, 'aria-label': 'translations into the picked domain' });
  const caption = el('p', { class: 'muted small' });
  const buttons = names.map((name, d) => {
    const b = el('button', { 'data-domain': d, disabled: true, 'data-needs-session': true }, name);
    b.addEventListener('click', () => {
      // The pick shows at once (aria-pressed); the translation is drawn as soon as no step is running.
      target = d;
      buttons.forEach((x, j) => x.setAttribute('aria-pressed', String(j === d)));
      void ctx.betweenSteps(
        `translate to ${name}`,
        async () => {
          await draw();
          return `translated into '${names[target]}'`;
        },
        b,
      );
    });
    return b;
  });
  const draw = async () => {
    const s = ctx.session;
    if (!s || !sources.length) return;
    const n = sources.length;
    const x = new Float32Array(n * rowC * plane);
    const inputs = new Float32Array(n * c * plane);
    const truth = new Float32Array(n * c * plane).fill(1);
    sources.forEach((src, j) => {
      const img = held.data.data.subarray(src * rowC * plane, src * rowC * plane + c * plane);
      x.set(img, j * rowC * plane);
      x.fill(1, j * rowC * plane + (c + target) * plane, j * rowC * plane + (c + target + 1) * plane);
      inputs.set(img, j * c * plane);
      const t = counterpart(src, target);
      if (t >= 0) truth.set(held.data.data.subarray(t * rowC * plane, t * rowC * plane + c * plane), j * c * plane);
    });
    const out = await s.translate(x, [n, rowC, h, w]);
    const g = translationGrid(inputs, out.data, truth, n, { input: c, output: out.shape[1], target: c }, h, w, n);
    drawGrid(canvas, g.images, [g.n, 3, h, w], { nrow: n });
    buttons.forEach((b, d) => b.setAttribute('aria-pressed', String(d === target)));
    caption.textContent = `Rows: held-out emoji in '${names[0]}', G's translation into '${names[target]}', the same emoji drawn in '${names[target]}'. Step ${s.step}.`;
  };
  const panel = el(
    'section',
    { class: 'panel wide', id: 'panel-domains' },
    el('h2', {}, 'Pick a target domain'),
    el('div', { class: 'controls' }, ...buttons),
    canvas,
    caption,
  );
  return { panel, refresh: draw };
}
