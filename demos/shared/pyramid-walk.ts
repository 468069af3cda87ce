// The pyramid walk: the training page's panel for trainers that sample coarse to fine and expose
// their sampling chain (GanTrainer.pyramidChain in nets/registry.ts; the Laplacian-pyramid cascade).
// For a few fixed latent codes, the chain as rows, coarse to fine: the coarse GAN's image Ĩ_K, then
// for each level k = K-1 .. 0 the expanded coarser image pyrUp(Ĩ_{k+1}), the band G_k draws for it
// from a noise plane, and their sum Ĩ_k (the same generator pass as the sample grid). The level
// buttons walk the chain: picking a level shows the rows up to it. Bands are drawn stretched to
// ±their largest magnitude (grey = 0), every image at the same display size, so a coarse level shows
// as blocks. "New noise" draws other codes; the rows are redrawn with the samples as training goes on.

import { concat, reshape } from '../../engine/ops/index.js';
import { tensor, tidy } from '../../engine/tensor.js';
import { el } from './dom.js';
import { drawGrid } from './grid.js';
import { readTensor } from './session.js';
import type { Extra, PageContext } from './training-page.js';

/** Samples per row (a 2 x 2 grid per picture). */
const COUNT = 4;
/** About this many CSS pixels per image side, whatever the level's size (an integer zoom of the finest). */
const CELL = 64;

interface Row {
  level: number;
  row: HTMLElement;
  image: HTMLCanvasElement;
  up?: HTMLCanvasElement;
  band?: HTMLCanvasElement;
  bandNote?: HTMLElement;
}

const canvas = (id: string, label: string) =>
  el('canvas', {
    id,
    width: 1,
    height: 1,
    'aria-label': label,
    style: 'image-rendering: pixelated; display: block; background: #000; border-radius: 4px;',
  });

const figure = (c: HTMLCanvasElement, ...caption: (Node | string)[]) =>
  el(
    'figure',
    { style: 'margin: 0; display: flex; flex-direction: column; gap: 0.2rem;' },
    c,
    el('figcaption', { class: 'muted small' }, ...caption),
  );

const op = (text: string) => el('span', { style: 'font-size: 1.4rem; color: var(--fg-dim);', 'aria-hidden': 'true' }, text);

/** Nearest-neighbour enlargement of NCHW images by an integer factor (a coarse level shows as blocks). */
function enlarge(data: Float32Array, shape: number[], f: number): { data: Float32Array; shape: number[] } {
  const [n, c, h, w] = shape;
  if (f === 1) return { data, shape };
  const H = h * f;
  const W = w * f;
  const out = new Float32Array(n * c * H * W);
  for (let p = 0; p < n * c; p++) {
    for (let y = 0; y < H; y++) {
      const src = p * h * w + Math.floor(y / f) * w;
      const dst = p * H * W + y * W;
      for (let x = 0; x < W; x++) out[dst + x] = data[src + Math.floor(x / f)];
    }
  }
  return { data: out, shape: [n, c, H, W] };
}

/** Draws NCHW images as a 2 x 2 grid at the finest level's size (enlarged), zoomed to about CELL CSS pixels per image. */
function draw(c: HTMLCanvasElement, img: { data: Float32Array; shape: number[] }, finest: number, range?: [number, number]): void {
  const big = enlarge(img.data, img.shape, finest / img.shape[3]);
  drawGrid(c, big.data, big.shape, { nrow: 2, ...(range ? { range } : {}) });
  c.style.width = `${c.width * Math.max(1, Math.round(CELL / finest))}px`;
}

/** The first three channels of a 4-channel batch (a band's alpha is not a colour); others as they are. */
function colourOnly(data: Float32Array, shape: number[]): { data: Float32Array; shape: number[] } {
  const [n, c, h, w] = shape;
  if (c !== 4) return { data, shape };
  const out = new Float32Array(n * 3 * h * w);
  for (let i = 0; i < n; i++) out.set(data.subarray(i * 4 * h * w, i * 4 * h * w + 3 * h * w), i * 3 * h * w);
  return { data: out, shape: [n, 3, h, w] };
}

export function pyramidWalk(ctx: PageContext): Extra | null {
  if (!ctx.session?.trainer.pyramidChain) return null;
  let codes = 11;
  /** The finest level shown (levels finer than it are hidden); 0 shows the whole chain. */
  let shown = 0;
  let rows: Row[] = [];
  /** levels/imageSize of the rows built. */
  let built = '';
  const rowsBox = el('div', { id: 'pyr-rows', style: 'display: flex; flex-direction: column; gap: 0.6rem;' });
  const walk = el('div', { class: 'controls', id: 'pyr-walk', role: 'group', 'aria-label': 'pyramid level' });
  const caption = el('p', { class: 'muted small', id: 'pyr-caption' });
  const noise = el('button', { id: 'btn-pyr-noise', disabled: true, 'data-needs-session': true }, 'New noise');
  noise.addEventListener('click', () => {
    codes++;
    void ctx.betweenSteps(
      'pyramid noise',
      async () => {
        await refresh();
        return `new codes for the pyramid walk (#${codes})`;
      },
      noise,
    );
  });

  const show = (level: number) => {
    shown = level;
    for (const r of rows) {
      r.row.classList.toggle('hidden', r.level < level);
      r.row.style.borderLeftColor = r.level === level ? 'var(--accent)' : 'transparent';
    }
    walk
      .querySelectorAll<HTMLButtonElement>('button[data-level]')
      .forEach((b) => b.setAttribute('aria-pressed', String(Number(b.dataset.level) === level)));
    walk.dataset.shown = String(level);
  };

  /** Builds the rows and level buttons for a cascade of `levels` levels below the coarse GAN. */
  const build = (levels: number, size: number) => {
    rows = [];
    const top = size >> levels;
    const coarse: Row = { level: levels, row: el('div'), image: canvas(`pyr-image-${levels}`, `coarse images, level ${levels}`) };
    coarse.row = el(
      'div',
      { class: 'pyr-row', id: `pyr-row-${levels}`, 'data-level': levels },
      el(
        'div',
        { class: 'pyr-label' },
        el('strong', {}, `level ${levels} · ${top}×${top}`),
        el('br'),
        el(
          'span',
          { class: 'muted small' },
          'the coarse MLP GAN: Ĩ',
          el('sub', {}, String(levels)),
          ' = G',
          el('sub', {}, String(levels)),
          '(z)',
        ),
      ),
      figure(coarse.image, 'Ĩ', el('sub', {}, String(levels))),
    );
    rows.push(coarse);
    for (let k = levels - 1; k >= 0; k--) {
      const s = size >> k;
      const r: Row = {
        level: k,
        row: el('div'),
        up: canvas(`pyr-up-${k}`, `level ${k}: the coarser image expanded`),
        band: canvas(`pyr-band-${k}`, `level ${k}: the generated band`),
        image: canvas(`pyr-image-${k}`, `level ${k}: expanded image plus band`),
        bandNote: el('span', {}),
      };
      const sub = (t: string | number) => el('sub', {}, String(t));
      r.row = el(
        'div',
        { class: 'pyr-row', id: `pyr-row-${k}`, 'data-level': k },
        el(
          'div',
          { class: 'pyr-label' },
          el('strong', {}, `level ${k} · ${s}×${s}`),
          el('br'),
          el('span', { class: 'muted small' }, 'G', sub(k), ' draws a band for the expanded coarser image and a noise plane z', sub(k)),
        ),
        figure(r.up!, 'pyrUp(Ĩ', sub(k + 1), ')'),
        op('+'),
        figure(r.band!, 'band G', sub(k), ' ', r.bandNote!),
        op('='),
        figure(r.image, 'Ĩ', sub(k)),
      );
      rows.push(r);
    }
    for (const r of rows) {
      r.row.style.cssText =
        'display: flex; flex-wrap: wrap; align-items: center; gap: 0.75rem; padding-left: 0.6rem; border-left: 3px solid transparent;';
      (r.row.firstChild as HTMLElement).style.cssText = 'width: 13rem;';
    }
    rowsBox.replaceChildren(...rows.map((r) => r.row));
    walk.replaceChildren(
      el('span', { class: 'muted small' }, 'walk: '),
      ...rows.map((r) => {
        const label = r.level === levels ? `coarse ${top}×${top}` : `level ${r.level} · ${size >> r.level}×${size >> r.level}`;
        const b = el('button', { 'data-level': r.level, title: `show the chain down to level ${r.level}` }, label);
        b.addEventListener('click', () => show(r.level));
        return b;
      }),
      el('span', { class: 'sep' }),
      noise,
    );
    show(Math.min(shown, levels));
  };

  const refresh = async () => {
    const s = ctx.session;
    const trainer = s?.trainer;
    if (!s || !trainer?.pyramidChain) return;
    const z = await s.latents(COUNT, codes);
    // The whole chain in one readback: [coarse | up, band, image per level, coarse to fine], flattened.
    const shapes: number[][] = [];
    const flat = await readTensor(() =>
      tidy(() => {
        const chain = trainer.pyramidChain!(tensor(z.data, z.shape));
        const parts = [chain.coarse, ...chain.steps.flatMap((st) => [st.up, st.band, st.image])];
        for (const p of parts) shapes.push([...p.shape]);
        return concat(
          parts.map((p) => reshape(p, [-1])),
          0,
        );
      }),
    );
    // Levels below the coarse image and the finest side, from the chain itself.
    const levels = (shapes.length - 1) / 3;
    const imageSize = shapes[shapes.length - 1][3];
    if (built !== `${levels}/${imageSize}`) {
      build(levels, imageSize);
      built = `${levels}/${imageSize}`;
    }
    let off = 0;
    const next = () => {
      const shape = shapes.shift()!;
      const n = shape.reduce((a, b) => a * b, 1);
      const data = flat.data.subarray(off, off + n);
      off += n;
      return { data, shape };
    };
    draw(rows[0].image, next(), imageSize);
    for (const r of rows.slice(1)) {
      const up = next();
      const raw = next();
      const band = colourOnly(raw.data, raw.shape);
      const image = next();
      draw(r.up!, up, imageSize);
      let m = 0;
      for (const v of band.data) m = Math.max(m, Math.abs(v));
      draw(r.band!, band, imageSize, [-(m || 1), m || 1]);
      r.bandNote!.textContent = `(±${m.toPrecision(2)}, grey = 0)`;
      draw(r.image, image, imageSize);
    }
    caption.textContent =
      `${COUNT} samples from codes #${codes} at step ${s.step}, coarse to fine: each level expands the coarser image (pyrUp) and adds ` +
      'the band its generator draws from it and a noise plane, Ĩₖ = pyrUp(Ĩₖ₊₁) + Gₖ(pyrUp(Ĩₖ₊₁), zₖ); the last level is the sample. ' +
      'Bands are stretched to ±their largest value (grey = 0); every level is shown at the finest size.';
  };

  const panel = el(
    'section',
    { class: 'panel wide', id: 'panel-pyramid' },
    el('h2', {}, 'Walk the Laplacian pyramid'),
    walk,
    rowsBox,
    caption,
  );
  return { panel, refresh };
}
