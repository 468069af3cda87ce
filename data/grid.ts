// Image grids for sample sheets (browser-safe): torchvision.utils.make_grid followed by save_image's
// quantisation. NCHW floats in, interleaved 8-bit pixels out (feed to encodePng). One-channel images
// become RGB, as in make_grid. Layout: min(nrow, n) columns, ceil(n / columns) rows, `padding`
// pixels around and between cells, filled with padValue.

export interface GridOptions {
  /** Images per grid row (torchvision's nrow). Default 8. */
  nrow?: number;
  /** Pixels of padding around and between images. Default 2. */
  padding?: number;
  /** Input value range mapped to [0, 255]; values outside are clamped. 'auto' uses the batch min/max. Default [-1, 1]. */
  range?: [number, number] | 'auto';
  /** Padding colour in output units [0, 1] (1 = white), as torchvision's pad_value after normalisation. Default 1. */
  padValue?: number;
}

export interface GridImage {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Uint8Array;
}

/** save_image's rounding: x * 255 + 0.5, clamped, truncated. NaN becomes 0. */
function toByte(v: number): number {
  const q = v * 255 + 0.5;
  return q >= 255 ? 255 : q > 0 ? Math.floor(q) : 0;
}

export function makeGrid(images: Float32Array, n: number, c: number, h: number, w: number, options: GridOptions = {}): GridImage {
  const { nrow = 8, padding = 2, range = [-1, 1], padValue = 1 } = options;
  if (c !== 1 && c !== 3 && c !== 4) throw new Error(`makeGrid: channels must be 1, 3 or 4, got ${c}`);
  if (![n, h, w].every((d) => Number.isInteger(d) && d > 0)) throw new Error(`makeGrid: bad shape [${n}, ${c}, ${h}, ${w}]`);
  if (images.length < n * c * h * w)
    throw new Error(`makeGrid: [${n}, ${c}, ${h}, ${w}] needs ${n * c * h * w} values, got ${images.length}`);
  if (!Number.isInteger(nrow) || nrow < 1) throw new Error(`makeGrid: nrow must be a positive integer, got ${nrow}`);
  if (!Number.isInteger(padding) || padding < 0) throw new Error(`makeGrid: padding must be a non-negative integer, got ${padding}`);

  let lo: number, hi: number;
  if (range === 'auto') {
    lo = Infinity;
    hi = -Infinity;
    for (let i = 0; i < n * c * h * w; i++) {
      const v = images[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  } else [lo, hi] = range;
  const span = hi > lo ? hi - lo : 1; // torchvision adds eps; a flat batch maps to its low end

  const outC: 3 | 4 = c === 4 ? 4 : 3;
  const cols = Math.min(nrow, n);
  const rows = Math.ceil(n / cols);
  const cellW = w + padding;
  const cellH = h + padding;
  const width = cols * cellW + padding;
  const height = rows * cellH + padding;
  const data = new Uint8Array(width * height * outC).fill(toByte(padValue));

  const plane = h * w;
  for (let k = 0; k < n; k++) {
    const gx = (k % cols) * cellW + padding;
    const gy = Math.floor(k / cols) * cellH + padding;
    const base = k * c * plane;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const o = ((gy + y) * width + gx + x) * outC;
        for (let ch = 0; ch < outC; ch++) {
          const v = images[base + (c === 1 ? 0 : ch) * plane + y * w + x];
          data[o + ch] = toByte((v - lo) / span);
        }
      }
    }
  }
  return { width, height, channels: outC, data };
}
