// Drawing image batches onto a canvas with the engine's makeGrid (torchvision's make_grid), and
// a cheap "is anything drawn" measure that the page and the browser tests share.

import { makeGrid, type GridOptions } from '../../data/grid.js';

/** Draws NCHW images in [-1, 1] as a grid; the canvas takes the grid's pixel size (CSS scales it). */
export function drawGrid(canvas: HTMLCanvasElement, images: Float32Array, shape: readonly number[], opts: GridOptions = {}): void {
  const [n, c, h, w] = shape;
  const options = { padding: 1, padValue: 0.2, nrow: 8, ...opts };
  const g = makeGrid(images, n, c, h, w, options);
  const rgba = new Uint8ClampedArray(g.width * g.height * 4);
  for (let i = 0, j = 0; i < g.width * g.height; i++, j += g.channels) {
    rgba[4 * i] = g.data[j];
    rgba[4 * i + 1] = g.data[j + 1];
    rgba[4 * i + 2] = g.data[j + 2];
    rgba[4 * i + 3] = g.channels === 4 ? g.data[j + 3] : 255;
  }
  canvas.width = g.width;
  canvas.height = g.height;
  canvas.getContext('2d', { willReadFrequently: true })!.putImageData(new ImageData(rgba, g.width, g.height), 0, 0);
  // Where the cells are, so canvasSpread can ignore the padding lines.
  Object.assign(canvas.dataset, {
    cells: String(n),
    cols: String(Math.min(options.nrow, n)),
    cellH: String(h),
    cellW: String(w),
    pad: String(options.padding),
  });
  canvas.dataset.drawn = String(Number(canvas.dataset.drawn ?? 0) + 1);
}

/**
 * Standard deviation of the luminance over the image cells of a canvas drawn by drawGrid (padding
 * excluded): 0 when every sample pixel has the same colour, i.e. the grid is blank.
 */
export function canvasSpread(canvas: HTMLCanvasElement): number {
  const { cells, cols, cellH, cellW, pad } = canvas.dataset;
  if (!cells || !canvas.width) return 0;
  const [n, nc, h, w, p] = [cells, cols, cellH, cellW, pad].map(Number);
  const d = canvas.getContext('2d', { willReadFrequently: true })!.getImageData(0, 0, canvas.width, canvas.height).data;
  let s = 0;
  let s2 = 0;
  let count = 0;
  for (let k = 0; k < n; k++) {
    const x0 = (k % nc) * (w + p) + p;
    const y0 = Math.floor(k / nc) * (h + p) + p;
    for (let y = y0; y < y0 + h; y++) {
      for (let x = x0; x < x0 + w; x++) {
        const i = 4 * (y * canvas.width + x);
        const l = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
        s += l;
        s2 += l * l;
        count++;
      }
    }
  }
  if (!count) return 0;
  const mean = s / count;
  return Math.sqrt(Math.max(0, s2 / count - mean * mean));
}
