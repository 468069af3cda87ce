// Image in, image out with an imported super-resolution model (browser-safe): 8-bit pixels ->
// NCHW float32 in the model's input range -> model -> the output range mapped back to 0..255,
// rounded and clamped (as UpscalerJS does). Alpha is composited over white before the model sees
// the image (the models are RGB; a transparent emoji background would otherwise be its hidden RGB).

import { noGrad, tensor, tidy, type nn, type Tensor } from '../engine/index.js';

type Module = InstanceType<typeof nn.Module>;
import type { UpscalerModelEntry } from './catalogue.js';
import type { TfjsLayersModel } from './tfjs_layers.js';

export interface RgbImage {
  width: number;
  height: number;
  /** Interleaved 8-bit samples, `channels` per pixel (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA). */
  data: Uint8Array | Uint8ClampedArray;
  channels: 1 | 2 | 3 | 4;
}

/** RGB float values 0..255 (alpha over white), planar [3, H, W]. */
export function toPlanarRgb(img: RgbImage): Float32Array {
  const { width: w, height: h, data, channels: ch } = img;
  const out = new Float32Array(3 * w * h);
  for (let i = 0; i < w * h; i++) {
    const px = data.subarray(i * ch, i * ch + ch);
    const gray = ch <= 2;
    const a = ch === 2 ? px[1] / 255 : ch === 4 ? px[3] / 255 : 1;
    for (let c = 0; c < 3; c++) {
      const v = gray ? px[0] : px[c];
      out[c * w * h + i] = v * a + 255 * (1 - a);
    }
  }
  return out;
}

/** The model's input tensor [1, 3, H, W] for an image (values mapped from 0..255 to its input range). */
export function imageToInput(img: RgbImage, entry: Pick<UpscalerModelEntry, 'inputRange'>): Tensor {
  const rgb = toPlanarRgb(img);
  const [lo, hi] = entry.inputRange;
  const s = (hi - lo) / 255;
  for (let i = 0; i < rgb.length; i++) rgb[i] = rgb[i] * s + lo;
  return tensor(rgb, [1, 3, img.height, img.width]);
}

/** Output values (planar [3, H, W], the model's output range) -> RGBA 8-bit, rounded and clamped. */
export function outputToRgba(
  values: Float32Array,
  width: number,
  height: number,
  entry: Pick<UpscalerModelEntry, 'outputRange'>,
): Uint8ClampedArray {
  const [lo, hi] = entry.outputRange;
  const s = 255 / (hi - lo);
  const n = width * height;
  if (values.length !== 3 * n) throw new Error(`outputToRgba: ${values.length} values for a 3 x ${height} x ${width} image`);
  const out = new Uint8ClampedArray(4 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) out[4 * i + c] = Math.round((values[c * n + i] - lo) * s);
    out[4 * i + 3] = 255;
  }
  return out;
}

export interface UpscaleResult {
  width: number;
  height: number;
  /** RGBA 8-bit. */
  rgba: Uint8ClampedArray;
  /** The raw model output, planar [3, H, W], in the model's output range. */
  raw: Float32Array;
}

/** Runs `model` on an image (no tape) and returns the upscaled image. */
export async function upscaleImage(
  model: Module,
  entry: Pick<UpscalerModelEntry, 'inputRange' | 'outputRange'>,
  img: RgbImage,
): Promise<UpscaleResult> {
  const y = noGrad(() => tidy(() => model.call(imageToInput(img, entry)) as Tensor));
  try {
    const [, c, h, w] = y.shape;
    if (c !== 3) throw new Error(`upscaleImage: the model returned ${c} channels ([${y.shape.join(', ')}]); expected RGB`);
    const raw = await y.data();
    return { width: w, height: h, rgba: outputToRgba(raw, w, h, entry), raw };
  } finally {
    y.dispose();
  }
}

/** Halves an image with a 2x2 box filter (alpha composited over white first); odd edges dropped. RGB out. */
export function halveImage(img: RgbImage): RgbImage {
  const rgb = toPlanarRgb(img);
  const w = img.width >> 1;
  const h = img.height >> 1;
  if (w < 1 || h < 1) throw new Error(`halveImage: ${img.width}x${img.height} is too small to halve`);
  const n = img.width * img.height;
  const data = new Uint8Array(3 * w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        const at = (yy: number, xx: number) => rgb[c * n + yy * img.width + xx];
        const s = at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1);
        data[3 * (y * w + x) + c] = Math.round(s / 4);
      }
  return { width: w, height: h, data, channels: 3 };
}

/**
 * Decodes a PNG exactly (no colour management or alpha premultiplication, unlike a canvas) where
 * only an asynchronous inflate exists: the browser's DecompressionStream (also in Node 18+).
 */
export async function decodePngAsync(bytes: Uint8Array): Promise<RgbImage> {
  const { readPngChunks, decodePng } = await import('../data/png.js');
  const idat = readPngChunks(bytes).filter((c) => c.type === 'IDAT');
  const z = new Uint8Array(idat.reduce((s, c) => s + c.data.length, 0));
  let off = 0;
  for (const c of idat) {
    z.set(c.data, off);
    off += c.data.length;
  }
  const stream = new Blob([z]).stream().pipeThrough(new DecompressionStream('deflate'));
  const inflated = new Uint8Array(await new Response(stream).arrayBuffer());
  return decodePng(bytes, () => inflated);
}

/**
 * Why `model` cannot run on an H x W image on a device whose storage bindings hold `limitBytes`
 * (its largest activation, named, against the limit), or null when it fits. Tiling is not implemented.
 */
export function activationTooLarge(model: TfjsLayersModel, h: number, w: number, limitBytes: number): string | null {
  const peak = model.largestActivation(h, w);
  if (peak.bytes <= limitBytes) return null;
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  return (
    `${model.modelName} on ${w}x${h} needs a ${mib(peak.bytes)} activation (layer ${peak.layer}, ${peak.shape.join(' x ')}), ` +
    `more than this adapter's ${mib(limitBytes)} storage-binding limit: use a smaller image or a lower --scale (tiling is not implemented)`
  );
}
