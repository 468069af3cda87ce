// The draw page: sketch edges and watch a paired translation model (SKETCH_RUN.model, whose demo
// profile links this page) turn them into an emoji as you draw. The model is trained live in this
// tab on edges -> emoji pairs (the 'emoji-edges' dataset:
// edge maps of Noto emoji, data/emoji.ts edgeMapCpu, as edges2shoes was made), or loaded
// from a checkpoint (Upload…; a recipe that trains a better one with the CLI is in demos/README.md).
// Every stroke runs the generator on the sketch (eval mode, as `gan eval` translates), while
// training goes on between strokes; training redraws it too. With trained weights shipped for the
// model (zoo/, loaded by training-page.ts when they fit the page's run) the first stroke already
// gives an emoji, and training waits for a click.
//
// The sketch is drawn on a canvas 8x the model's side, one model pixel per 8 canvas pixels, and
// area-averaged down to the model's input: black lines on white, three identical channels, like
// the edge maps the model trains on. "Example" loads the next held-out edge map (emoji the model
// never trains on) onto the pad.
//
// URL parameters as the training pages (training-page.ts): ngf, ndf, batch, lr, seed, ...

import { el, nextFrame } from '../shared/dom.js';
import { drawGrid } from '../shared/grid.js';
import { SKETCH_RUN } from '../shared/models.js';
import { modelLede } from '../shared/about.js';
import { startTrainingPage, type Extra, type PageContext } from '../shared/training-page.js';

/** Canvas pixels per model pixel. */
const SCALE = 8;

declare global {
  interface Window {
    /** The last translation (for tests and the console): the model's input and output, NCHW floats. */
    __sketch?: { input: Float32Array; output: Float32Array; shape: number[]; step: number } | null;
  }
}

function sketchPad(ctx: PageContext): Extra {
  const size = Number(ctx.session?.spec.config.imageSize ?? SKETCH_RUN.config.imageSize);
  const side = size * SCALE;
  const pad = el('canvas', { id: 'sketch', width: side, height: side, class: 'sketch', 'aria-label': 'draw edges here' });
  const output = el('canvas', {
    id: 'sketch-output',
    class: 'pixels sketch-output',
    width: 1,
    height: 1,
    'aria-label': "the model's emoji",
  });
  const g = pad.getContext('2d', { willReadFrequently: true })!;
  /** Whether the pad holds no stroke (set by Clear, unset by drawing or an example). */
  let blank = false;
  const clear = () => {
    g.fillStyle = '#fff';
    g.fillRect(0, 0, side, side);
    blank = true;
  };
  clear();
  /** An empty pad has an empty output: white, until the next stroke. */
  const clearOutput = () => {
    output.width = size;
    output.height = size;
    const o = output.getContext('2d')!;
    o.fillStyle = '#fff';
    o.fillRect(0, 0, size, size);
    Object.assign(output.dataset, { step: '', checksum: '', blank: '1' });
  };

  /** The sketch as the model's input: [1, 3, size, size] in [-1, 1], area-averaged. */
  const input = (): Float32Array => {
    const px = g.getImageData(0, 0, side, side).data;
    const plane = size * size;
    const x = new Float32Array(3 * plane);
    for (let y = 0; y < size; y++) {
      for (let xx = 0; xx < size; xx++) {
        let sum = 0;
        for (let dy = 0; dy < SCALE; dy++) {
          for (let dx = 0; dx < SCALE; dx++) {
            const i = 4 * ((y * SCALE + dy) * side + xx * SCALE + dx);
            sum += 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
          }
        }
        const v = sum / (SCALE * SCALE) / 127.5 - 1;
        for (let c = 0; c < 3; c++) x[c * plane + y * size + xx] = v;
      }
    }
    return x;
  };

  // Translations are coalesced: at most one in flight, and one more if the sketch changed meanwhile.
  let inFlight: Promise<void> | null = null;
  let dirty = false;
  const translate = async (): Promise<void> => {
    if (inFlight) {
      dirty = true;
      return inFlight;
    }
    inFlight = (async () => {
      do {
        dirty = false;
        const s = ctx.session;
        if (!s) break;
        if (blank) {
          clearOutput();
          break;
        }
        const x = input();
        const out = await s.translate(x, [1, 3, size, size]);
        drawGrid(output, out.data, out.shape, { nrow: 1, padding: 0 });
        window.__sketch = { input: x, output: out.data, shape: out.shape, step: s.step };
        // For tests and the console: which step drew it, and a weighted sum of the float output
        // (it changes with any output value, where the 8-bit canvas may not early in training).
        let sum = 0;
        for (let i = 0; i < out.data.length; i++) sum += out.data[i] * ((i % 7) + 1);
        Object.assign(output.dataset, { step: String(s.step), checksum: String(sum), blank: '' });
      } while (dirty);
    })().finally(() => (inFlight = null));
    return inFlight;
  };
  const changed = () => void translate().catch((e: Error) => ctx.status(`translation failed: ${e.message}`, 'error'));

  // Drawing: black round strokes one model pixel wide.
  let last: [number, number] | null = null;
  const point = (e: PointerEvent): [number, number] => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) * side) / r.width, ((e.clientY - r.top) * side) / r.height];
  };
  const stroke = (from: [number, number], to: [number, number]) => {
    g.strokeStyle = erase.checked ? '#fff' : '#000';
    g.lineWidth = erase.checked ? 3 * SCALE : SCALE;
    g.lineCap = 'round';
    g.lineJoin = 'round';
    g.beginPath();
    g.moveTo(...from);
    g.lineTo(...to);
    g.stroke();
  };
  pad.addEventListener('pointerdown', (e) => {
    pad.setPointerCapture(e.pointerId);
    blank = false;
    last = point(e);
    stroke(last, last);
    changed();
  });
  pad.addEventListener('pointermove', (e) => {
    if (!last) return;
    const p = point(e);
    stroke(last, p);
    last = p;
    changed();
  });
  const end = () => (last = null);
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);

  // Held-out edge maps as starting points.
  let example = -1;
  const loadExample = () => {
    const held = ctx.heldOut;
    if (!held) return;
    example = (example + 1) % held.data.n;
    const [rowC, h, w] = held.data.sampleShape;
    const plane = h * w;
    const rgba = new Uint8ClampedArray(side * side * 4);
    const base = example * rowC * plane; // channel 0 of the edges (A)
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const v = Math.round((held.data.data[base + Math.floor(y / SCALE) * w + Math.floor(x / SCALE)] + 1) * 127.5);
        const i = 4 * (y * side + x);
        rgba[i] = rgba[i + 1] = rgba[i + 2] = v;
        rgba[i + 3] = 255;
      }
    }
    g.putImageData(new ImageData(rgba, side, side), 0, 0);
    blank = false;
    name.textContent = held.manifest?.names?.[example] ? `example: edges of ${held.manifest.names[example].toLowerCase()}` : '';
  };
  const name = el('span', { class: 'muted small', id: 'sketch-name' });
  const erase = el('input', { type: 'checkbox', id: 'sketch-erase' });
  const clearButton = el('button', { id: 'btn-clear' }, 'Clear');
  clearButton.addEventListener('click', () => {
    clear();
    name.textContent = '';
    changed();
  });
  const exampleButton = el('button', { id: 'btn-example' }, 'Example');
  exampleButton.addEventListener('click', () => {
    loadExample();
    changed();
  });
  loadExample();

  const panel = el(
    'section',
    { class: 'panel wide', id: 'panel-sketch' },
    el('h2', {}, `Draw edges → ${SKETCH_RUN.model}`),
    el('div', { class: 'controls' }, clearButton, exampleButton, el('label', {}, erase, ' eraser'), name),
    el(
      'div',
      { class: 'sketch-row' },
      el('figure', {}, pad, el('figcaption', { class: 'muted small' }, `your sketch (${size}×${size} to the model)`)),
      el('figure', {}, output, el('figcaption', { class: 'muted small' }, 'G(sketch), redrawn as you draw and as it trains')),
    ),
  );
  return {
    panel,
    first: true,
    refresh: async () => {
      await nextFrame();
      await translate();
    },
  };
}

startTrainingPage({
  model: SKETCH_RUN.model,
  base: () => ({ dataset: SKETCH_RUN.dataset, config: { ...SKETCH_RUN.config } }),
  storeKey: () => `draw-${SKETCH_RUN.model}`,
  extras: (ctx) => [sketchPad(ctx)],
  title: () => `Draw edges, watch ${SKETCH_RUN.model} make an emoji`,
  lede: (model) => [
    ...modelLede(model),
    ' Here it turns edges into emoji (pairs of edge maps of Noto emoji and the emoji, the way edges2shoes was made): draw on the pad and every stroke goes through the generator, the trained one shipped with the project where there is one (the weights line says which), and it can go on learning in this tab.',
  ],
});
