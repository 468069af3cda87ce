// PNG encoder/decoder core (browser-safe). Compression is a parameter: pass a zlib-format
// deflate/inflate (Node: zlib.deflateSync/inflateSync, see png_node.ts), or `deflateStored` here,
// which writes valid uncompressed zlib streams with no dependencies.
//
// Decoder: colour types gray, gray+alpha, RGB, RGBA and palette; bit depths 1/2/4/8/16 where the
// spec allows them (16-bit is reduced to 8); tRNS transparency; all five row filters; Adam7
// interlacing; CRCs checked. Output is always 8 bits per sample.
// Encoder: 8-bit gray / gray+alpha / RGB / RGBA, one filter for all rows or a per-row adaptive choice.

export type PngChannels = 1 | 2 | 3 | 4;

export interface PngImage {
  width: number;
  height: number;
  channels: PngChannels;
  /** Row-major, interleaved, 8 bits per sample: data[(y * width + x) * channels + c]. */
  data: Uint8Array;
}

/** deflate or inflate; an inflate given `maxBytes` may stop (throw) once its output would exceed it. */
export type ZlibFn = (bytes: Uint8Array, maxBytes?: number) => Uint8Array;

/** Limits on what decodePng accepts, so a hostile header cannot make it allocate without bound. */
export interface DecodePngLimits {
  /** Largest width or height (default 16384). */
  maxDimension?: number;
  /** Largest width x height (default 64 Mi pixels). */
  maxPixels?: number;
}
export const PNG_MAX_DIMENSION = 16384;
export const PNG_MAX_PIXELS = 64 * 1024 * 1024;

export type PngFilter = 'none' | 'sub' | 'up' | 'average' | 'paeth' | 'adaptive';

export interface EncodePngOptions {
  /** Row filter. 'adaptive' (default) picks, per row, the filter with the smallest sum of |residual|. */
  filter?: PngFilter;
}

export interface PngChunk {
  type: string;
  data: Uint8Array;
}

export class PngError extends Error {
  override name = 'PngError';
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

// ---- checksums ----

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO 3309 / zlib / PNG). Pass a previous result as `crc` to continue over more bytes. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

export function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  // 5552 is the largest run before the sums can overflow 2^32 with no reduction (zlib's NMAX).
  for (let i = 0; i < bytes.length; ) {
    const end = Math.min(i + 5552, bytes.length);
    for (; i < end; i++) {
      a += bytes[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** A zlib stream of stored (uncompressed) deflate blocks: valid everywhere, no compression. */
export function deflateStored(bytes: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(bytes.length / 65535));
  const out = new Uint8Array(2 + blocks * 5 + bytes.length + 4);
  out[0] = 0x78; // deflate, 32K window
  out[1] = 0x01; // no preset dictionary, check bits make 0x7801 divisible by 31
  let o = 2;
  for (let b = 0; b < blocks; b++) {
    const start = b * 65535;
    const len = Math.min(65535, bytes.length - start);
    out[o++] = b === blocks - 1 ? 1 : 0; // BFINAL, BTYPE=00
    out[o++] = len & 0xff;
    out[o++] = len >>> 8;
    out[o++] = ~len & 0xff;
    out[o++] = (~len >>> 8) & 0xff;
    out.set(bytes.subarray(start, start + len), o);
    o += len;
  }
  const a = adler32(bytes);
  out[o++] = a >>> 24;
  out[o++] = (a >>> 16) & 0xff;
  out[o++] = (a >>> 8) & 0xff;
  out[o++] = a & 0xff;
  return out;
}

// ---- chunks ----

const ascii = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0));

/** Serialise a PNG: signature followed by the given chunks (lengths and CRCs computed here). */
export function writePngChunks(chunks: PngChunk[]): Uint8Array {
  let total = 8;
  for (const c of chunks) total += 12 + c.data.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(SIGNATURE, 0);
  let o = 8;
  for (const c of chunks) {
    if (!/^[A-Za-z]{4}$/.test(c.type)) throw new PngError(`png: bad chunk type '${c.type}'`);
    view.setUint32(o, c.data.length);
    out.set(ascii(c.type), o + 4);
    out.set(c.data, o + 8);
    view.setUint32(o + 8 + c.data.length, crc32(out.subarray(o + 4, o + 8 + c.data.length)));
    o += 12 + c.data.length;
  }
  return out;
}

/** Split a PNG into chunks, checking the signature, lengths and CRCs. Stops after IEND. */
export function readPngChunks(bytes: Uint8Array): PngChunk[] {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw new PngError('png: missing PNG signature (not a PNG file)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: PngChunk[] = [];
  let o = 8;
  for (;;) {
    if (o + 8 > bytes.length)
      throw new PngError(`png: truncated at byte ${o}: expected a chunk header${chunks.length ? ' (no IEND)' : ''}`);
    const len = view.getUint32(o);
    const type = String.fromCharCode(bytes[o + 4], bytes[o + 5], bytes[o + 6], bytes[o + 7]);
    if (!/^[A-Za-z]{4}$/.test(type)) throw new PngError(`png: corrupt chunk header at byte ${o}`);
    if (o + 12 + len > bytes.length)
      throw new PngError(`png: truncated in chunk '${type}' (needs ${len} bytes at byte ${o + 8}, file has ${bytes.length})`);
    const stored = view.getUint32(o + 8 + len);
    const actual = crc32(bytes.subarray(o + 4, o + 8 + len));
    if (stored !== actual) throw new PngError(`png: bad CRC in chunk '${type}' at byte ${o}`);
    chunks.push({ type, data: bytes.subarray(o + 8, o + 8 + len) });
    o += 12 + len;
    if (type === 'IEND') return chunks;
  }
}

// ---- filters ----

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

const FILTER_CODES: Record<Exclude<PngFilter, 'adaptive'>, number> = { none: 0, sub: 1, up: 2, average: 3, paeth: 4 };

/** Filter one row (`cur`, previous row `prev`, `bpp` bytes per pixel) with filter `type` into `out` (length = row length). */
function filterRow(type: number, cur: Uint8Array, prev: Uint8Array, bpp: number, out: Uint8Array): void {
  const n = cur.length;
  for (let i = 0; i < n; i++) {
    const a = i >= bpp ? cur[i - bpp] : 0;
    const b = prev[i];
    const c = i >= bpp ? prev[i - bpp] : 0;
    let pred = 0;
    if (type === 1) pred = a;
    else if (type === 2) pred = b;
    else if (type === 3) pred = (a + b) >>> 1;
    else if (type === 4) pred = paeth(a, b, c);
    out[i] = (cur[i] - pred) & 0xff;
  }
}

/** Undo the filter of one row in place. `prev` is the already-unfiltered previous row (zeros for the first). */
function unfilterRow(type: number, row: Uint8Array, prev: Uint8Array, bpp: number): void {
  const n = row.length;
  switch (type) {
    case 0:
      return;
    case 1:
      for (let i = bpp; i < n; i++) row[i] = (row[i] + row[i - bpp]) & 0xff;
      return;
    case 2:
      for (let i = 0; i < n; i++) row[i] = (row[i] + prev[i]) & 0xff;
      return;
    case 3:
      for (let i = 0; i < n; i++) row[i] = (row[i] + (((i >= bpp ? row[i - bpp] : 0) + prev[i]) >>> 1)) & 0xff;
      return;
    case 4:
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? row[i - bpp] : 0;
        const c = i >= bpp ? prev[i - bpp] : 0;
        row[i] = (row[i] + paeth(a, prev[i], c)) & 0xff;
      }
      return;
    default:
      throw new PngError(`png: unknown filter type ${type}`);
  }
}

// ---- encode ----

const COLOR_TYPE_FOR_CHANNELS = { 1: 0, 2: 4, 3: 2, 4: 6 } as const;

/** Encode 8-bit pixels (row-major, interleaved; channels 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA) as a PNG. */
export function encodePng(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: PngChannels,
  deflate: ZlibFn,
  options: EncodePngOptions = {},
): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 0x7fffffff || height > 0x7fffffff) {
    throw new PngError(`png: bad image size ${width}x${height}`);
  }
  if (!(channels in COLOR_TYPE_FOR_CHANNELS)) throw new PngError(`png: channels must be 1, 2, 3 or 4, got ${channels}`);
  if (pixels.length !== width * height * channels) {
    throw new PngError(`png: ${width}x${height}x${channels} image needs ${width * height * channels} bytes, got ${pixels.length}`);
  }
  const filter = options.filter ?? 'adaptive';
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1));
  const zeros = new Uint8Array(stride);
  const candidates = filter === 'adaptive' ? [0, 1, 2, 3, 4] : [FILTER_CODES[filter]];
  if (candidates[0] === undefined) throw new PngError(`png: unknown filter '${filter}'`);
  const scratch = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const cur = pixels.subarray(y * stride, (y + 1) * stride);
    const prev = y ? pixels.subarray((y - 1) * stride, y * stride) : zeros;
    const dst = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    let best = candidates[0];
    if (candidates.length > 1) {
      let bestCost = Infinity;
      for (const t of candidates) {
        filterRow(t, cur, prev, channels, scratch);
        let cost = 0;
        for (let i = 0; i < stride; i++) cost += scratch[i] < 128 ? scratch[i] : 256 - scratch[i];
        if (cost < bestCost) {
          bestCost = cost;
          best = t;
        }
      }
    }
    raw[y * (stride + 1)] = best;
    filterRow(best, cur, prev, channels, dst);
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = COLOR_TYPE_FOR_CHANNELS[channels];
  // compression 0, filter method 0, interlace 0
  return writePngChunks([
    { type: 'IHDR', data: ihdr },
    { type: 'IDAT', data: deflate(raw) },
    { type: 'IEND', data: new Uint8Array(0) },
  ]);
}

// ---- decode ----

const SAMPLES_PER_PIXEL: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ALLOWED_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

// Adam7: [x0, y0, dx, dy] per pass.
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** Decode a PNG to 8-bit samples. Channels: gray 1, gray+alpha 2, RGB or palette 3, RGBA or palette with tRNS 4. */
export function decodePng(bytes: Uint8Array, inflate: ZlibFn, limits: DecodePngLimits = {}): PngImage {
  const chunks = readPngChunks(bytes);
  if (chunks[0]?.type !== 'IHDR' || chunks[0].data.length !== 13) throw new PngError('png: first chunk is not a valid IHDR');
  const h = chunks[0].data;
  const hv = new DataView(h.buffer, h.byteOffset, 13);
  const width = hv.getUint32(0);
  const height = hv.getUint32(4);
  const depth = h[8];
  const colorType = h[9];
  if (width === 0 || height === 0) throw new PngError(`png: bad image size ${width}x${height}`);
  const maxDim = limits.maxDimension ?? PNG_MAX_DIMENSION;
  const maxPixels = limits.maxPixels ?? PNG_MAX_PIXELS;
  if (width > maxDim || height > maxDim || width * height > maxPixels) {
    throw new PngError(
      `png: image size ${width}x${height} is above the decoder's limit (${maxDim} pixels a side, ${maxPixels} pixels in all); is the file corrupt?`,
    );
  }
  if (!(colorType in SAMPLES_PER_PIXEL)) throw new PngError(`png: unknown colour type ${colorType}`);
  if (!ALLOWED_DEPTHS[colorType].includes(depth)) throw new PngError(`png: bit depth ${depth} is not allowed for colour type ${colorType}`);
  if (h[10] !== 0 || h[11] !== 0) throw new PngError(`png: unknown compression (${h[10]}) or filter method (${h[11]})`);
  if (h[12] > 1) throw new PngError(`png: unknown interlace method ${h[12]}`);
  const interlaced = h[12] === 1;

  let palette: Uint8Array | undefined;
  let trns: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  for (const c of chunks.slice(1)) {
    if (c.type === 'PLTE') palette = c.data;
    else if (c.type === 'tRNS') trns = c.data;
    else if (c.type === 'IDAT') idat.push(c.data);
    else if (c.type === 'IHDR') throw new PngError('png: more than one IHDR');
    else if (c.type !== 'IEND' && (c.type.charCodeAt(0) & 0x20) === 0) throw new PngError(`png: unsupported critical chunk '${c.type}'`);
  }
  if (!idat.length) throw new PngError('png: no IDAT chunk (no image data)');
  if (colorType === 3) {
    if (!palette || palette.length % 3 !== 0 || palette.length === 0) throw new PngError('png: palette image without a valid PLTE chunk');
  }

  let zdata: Uint8Array;
  if (idat.length === 1) zdata = idat[0];
  else {
    zdata = new Uint8Array(idat.reduce((s, d) => s + d.length, 0));
    let o = 0;
    for (const d of idat) {
      zdata.set(d, o);
      o += d.length;
    }
  }
  const spp = SAMPLES_PER_PIXEL[colorType];
  const bitsPerPixel = spp * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const passes = interlaced ? ADAM7 : ([[0, 0, 1, 1]] as const);
  // The exact size of the filtered scanlines: a filter byte plus the packed samples, per row of each pass.
  let rawBytes = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const pw = Math.ceil((width - x0) / dx);
    const ph = Math.ceil((height - y0) / dy);
    if (pw > 0 && ph > 0) rawBytes += ph * (1 + Math.ceil((pw * bitsPerPixel) / 8));
  }
  // A little slack for encoders that leave padding after the last row; a zip bomb stops here.
  const maxRaw = rawBytes + 4096;
  const tooBig = () =>
    new PngError(`png: image data inflates to more than the ${rawBytes} bytes a ${width}x${height} image needs (corrupt or hostile file)`);
  let raw: Uint8Array;
  try {
    raw = inflate(zdata, maxRaw);
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) throw tooBig();
    throw new PngError(`png: corrupt image data (inflate failed: ${(e as Error).message})`);
  }
  if (raw.length > maxRaw) throw tooBig();

  // Output format.
  const paletteCount = palette ? palette.length / 3 : 0;
  let channels: PngChannels;
  if (colorType === 3) channels = trns ? 4 : 3;
  else if (colorType === 0) channels = trns ? 2 : 1;
  else if (colorType === 2) channels = trns ? 4 : 3;
  else channels = colorType === 4 ? 2 : 4;
  const out = new Uint8Array(width * height * channels);

  // Colour key for gray/RGB tRNS, compared at full sample precision.
  let key: number[] | undefined;
  if (trns && (colorType === 0 || colorType === 2)) {
    const n = colorType === 0 ? 1 : 3;
    if (trns.length < 2 * n) throw new PngError('png: tRNS chunk too short');
    key = [];
    for (let i = 0; i < n; i++) key.push((trns[2 * i] << 8) | trns[2 * i + 1]);
  }
  const maxSample = (1 << depth) - 1;
  const scale = depth < 8 ? 255 / maxSample : 1;

  let pos = 0;
  const sample = new Array<number>(spp);
  for (const [x0, y0, dx, dy] of passes) {
    const pw = Math.ceil((width - x0) / dx);
    const ph = Math.ceil((height - y0) / dy);
    if (pw <= 0 || ph <= 0) continue;
    const rowBytes = Math.ceil((pw * bitsPerPixel) / 8);
    let prev: Uint8Array = new Uint8Array(rowBytes);
    for (let py = 0; py < ph; py++) {
      if (pos + 1 + rowBytes > raw.length) {
        throw new PngError(
          `png: image data truncated (${raw.length} bytes inflated, row ${py}${interlaced ? ' of an Adam7 pass' : ''} needs more)`,
        );
      }
      const ftype = raw[pos];
      const row = raw.subarray(pos + 1, pos + 1 + rowBytes);
      pos += 1 + rowBytes;
      if (ftype > 4) throw new PngError(`png: unknown filter type ${ftype} on row ${py}`);
      unfilterRow(ftype, row, prev, bpp);
      prev = row;
      const y = y0 + py * dy;
      for (let px = 0; px < pw; px++) {
        // Gather full-precision samples of this pixel.
        for (let s = 0; s < spp; s++) {
          if (depth === 8) sample[s] = row[px * spp + s];
          else if (depth === 16) sample[s] = (row[2 * (px * spp + s)] << 8) | row[2 * (px * spp + s) + 1];
          else {
            const bit = (px * spp + s) * depth;
            sample[s] = (row[bit >> 3] >> (8 - depth - (bit & 7))) & maxSample;
          }
        }
        const o = (y * width + x0 + px * dx) * channels;
        if (colorType === 3) {
          const idx = sample[0];
          if (idx >= paletteCount) throw new PngError(`png: palette index ${idx} out of range (palette has ${paletteCount} entries)`);
          out[o] = palette![3 * idx];
          out[o + 1] = palette![3 * idx + 1];
          out[o + 2] = palette![3 * idx + 2];
          if (channels === 4) out[o + 3] = idx < trns!.length ? trns![idx] : 255;
          continue;
        }
        for (let s = 0; s < spp; s++) {
          const v = sample[s];
          out[o + s] = depth === 16 ? v >>> 8 : depth < 8 ? Math.round(v * scale) : v;
        }
        if (key) {
          let match = true;
          for (let s = 0; s < key.length; s++) if (sample[s] !== key[s]) match = false;
          out[o + spp] = match ? 0 : 255;
        }
      }
    }
  }
  return { width, height, channels, data: out };
}

/** Convert between 1 (gray), 2 (gray+alpha), 3 (RGB), 4 (RGBA) channels. Gray from colour uses Rec. 601 luma. */
export function convertChannels(img: PngImage, channels: PngChannels): PngImage {
  if (img.channels === channels) return img;
  const n = img.width * img.height;
  const src = img.data;
  const ci = img.channels;
  const out = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    const p = i * ci;
    let r: number, g: number, b: number;
    if (ci <= 2) r = g = b = src[p];
    else {
      r = src[p];
      g = src[p + 1];
      b = src[p + 2];
    }
    const a = ci === 2 ? src[p + 1] : ci === 4 ? src[p + 3] : 255;
    const q = i * channels;
    if (channels <= 2) out[q] = ci <= 2 ? r : Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    else {
      out[q] = r;
      out[q + 1] = g;
      out[q + 2] = b;
    }
    if (channels === 2) out[q + 1] = a;
    if (channels === 4) out[q + 3] = a;
  }
  return { width: img.width, height: img.height, channels, data: out };
}
