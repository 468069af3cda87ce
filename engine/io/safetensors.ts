// safetensors encode/decode (browser-safe, no Node imports), plus float16/bfloat16 converters.
//
// Format (https://github.com/huggingface/safetensors): an 8-byte little-endian u64 N, then N bytes
// of UTF-8 JSON header, then the tensor bytes. The header maps each tensor name to
// {"dtype","shape","data_offsets":[begin,end]} (offsets relative to the end of the header) and may
// hold a "__metadata__" string->string map. The encoder mirrors the reference writer byte for byte:
// compact JSON, "__metadata__" first, tensors ordered by dtype (widest first) then name, header
// padded with spaces to a multiple of 8 so every tensor starts 8-byte aligned, no gaps.
// The decoder applies the reference validation: known dtypes, sizes matching shapes, ranges that
// tile the data section exactly (no overlap, no gap, nothing past the end or left over).

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

export type SafetensorsData =
  | Float64Array
  | Float32Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint32Array
  | Uint16Array
  | Uint8Array;

export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Element data, row-major. F16 and BF16 hold raw 16-bit patterns in a Uint16Array. */
  data: SafetensorsData;
}

export interface SafetensorsFile {
  tensors: Record<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

interface DtypeInfo {
  bytes: number;
  /** Position in the reference implementation's Dtype enum: the writer sorts by it, descending. */
  rank: number;
  array: { new (buffer: ArrayBuffer): SafetensorsData; name: string };
}

const DTYPES: Record<SafetensorsDtype, DtypeInfo> = {
  BOOL: { bytes: 1, rank: 0, array: Uint8Array },
  U8: { bytes: 1, rank: 1, array: Uint8Array },
  I8: { bytes: 1, rank: 2, array: Int8Array },
  I16: { bytes: 2, rank: 5, array: Int16Array },
  U16: { bytes: 2, rank: 6, array: Uint16Array },
  F16: { bytes: 2, rank: 7, array: Uint16Array },
  BF16: { bytes: 2, rank: 8, array: Uint16Array },
  I32: { bytes: 4, rank: 9, array: Int32Array },
  U32: { bytes: 4, rank: 10, array: Uint32Array },
  F32: { bytes: 4, rank: 11, array: Float32Array },
  F64: { bytes: 8, rank: 12, array: Float64Array },
  I64: { bytes: 8, rank: 13, array: BigInt64Array },
  U64: { bytes: 8, rank: 14, array: BigUint64Array },
};

/** The reference reader refuses headers above 100 MB; so do we (a corrupt length would otherwise allocate wildly). */
const MAX_HEADER_BYTES = 100_000_000;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

export function isSafetensorsDtype(s: string): s is SafetensorsDtype {
  return Object.hasOwn(DTYPES, s);
}

export function dtypeByteSize(dtype: SafetensorsDtype): number {
  return DTYPES[dtype].bytes;
}

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function compareUtf8(a: string, b: string, enc: TextEncoder): number {
  // Rust orders String by bytes; JS `<` orders by UTF-16 units. They differ only past U+FFFF, but be exact.
  const x = enc.encode(a);
  const y = enc.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

function checkHost(): void {
  if (!LITTLE_ENDIAN_HOST) throw new SafetensorsError('safetensors: big-endian hosts are not supported');
}

/**
 * Serialise tensors (and optional string metadata) to safetensors bytes, identical to what
 * `safetensors.torch.save` / `safetensors.numpy.save` produce for the same tensors.
 */
export function encodeSafetensors(tensors: Record<string, SafetensorsTensor>, metadata?: Record<string, string>): Uint8Array {
  checkHost();
  const enc = new TextEncoder();
  const names = Object.keys(tensors);
  for (const name of names) {
    if (name === '__metadata__') throw new SafetensorsError(`safetensors: '__metadata__' is reserved and cannot name a tensor`);
    const t = tensors[name];
    if (!isSafetensorsDtype(t.dtype)) throw new SafetensorsError(`safetensors: tensor '${name}' has unknown dtype '${String(t.dtype)}'`);
    const info = DTYPES[t.dtype];
    if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      throw new SafetensorsError(`safetensors: tensor '${name}' has invalid shape [${String(t.shape)}]`);
    }
    if (
      t.data.BYTES_PER_ELEMENT !== info.bytes ||
      t.data instanceof Float32Array !== (t.dtype === 'F32') ||
      t.data instanceof BigInt64Array !== (t.dtype === 'I64') ||
      t.data instanceof Float64Array !== (t.dtype === 'F64')
    ) {
      throw new SafetensorsError(`safetensors: tensor '${name}' is ${t.dtype} but its data is a ${t.data.constructor.name}`);
    }
    if (t.data.length !== numel(t.shape)) {
      throw new SafetensorsError(
        `safetensors: tensor '${name}' has shape [${t.shape.join(', ')}] (${numel(t.shape)} elements) but ${t.data.length} data elements`,
      );
    }
  }
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`safetensors: metadata '${k}' must be a string, got ${typeof v}`);
    }
  }

  names.sort((a, b) => DTYPES[tensors[b].dtype].rank - DTYPES[tensors[a].dtype].rank || compareUtf8(a, b, enc));

  // Build the header by hand so key order is exactly ours (JSON.stringify would hoist integer-like names).
  const parts: string[] = [];
  if (metadata) {
    const entries = Object.entries(metadata).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
    parts.push(`"__metadata__":{${entries.join(',')}}`);
  }
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const size = t.data.byteLength;
    parts.push(`${JSON.stringify(name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + size}]}`);
    offset += size;
  }
  const json = enc.encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;

  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let pos = 8 + headerLen;
  for (const name of names) {
    const d = tensors[name].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}

/**
 * Parse safetensors bytes. Tensor data is copied out (so it is aligned and independent of `bytes`).
 * `source` names the file in error messages.
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors data'): SafetensorsFile {
  checkHost();
  const fail = (msg: string): never => {
    throw new SafetensorsError(`${source}: ${msg}`);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n64} exceeds the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
  const n = Number(n64);
  if (8 + n > bytes.length) fail(`truncated: header length says ${n} bytes but only ${bytes.length - 8} follow`);

  let headerText: string;
  try {
    headerText = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail('header is not valid UTF-8');
  }
  if (!headerText.startsWith('{')) fail(`header does not start with '{' (not a safetensors file?)`);
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  // JSON.parse keeps the last of two equal keys without a word; the reference reader refuses them.
  const dup = firstDuplicateKey(headerText);
  if (dup) fail(`duplicate key ${JSON.stringify(dup.key)} in the header${dup.path ? ` (inside ${dup.path})` : ''}`);

  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];

  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`'__metadata__' is not an object`);
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`metadata '${k}' is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`tensor '${name}': entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
    if (typeof dtype !== 'string' || !isSafetensorsDtype(dtype)) fail(`tensor '${name}': unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      fail(`tensor '${name}': shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || offsets.some((o) => !Number.isSafeInteger(o) || o < 0)) {
      fail(`tensor '${name}': bad data_offsets ${JSON.stringify(offsets)} (want [begin, end])`);
    }
    const [begin, end] = offsets as number[];
    if (end < begin) fail(`tensor '${name}': bad data_offsets [${begin}, ${end}] (end before begin)`);
    const dt = dtype as SafetensorsDtype;
    const want = numel(shape as number[]) * DTYPES[dt].bytes;
    if (end - begin !== want) {
      fail(
        `tensor '${name}': bad data_offsets [${begin}, ${end}]: ${end - begin} bytes but ${dt} [${(shape as number[]).join(', ')}] needs ${want}`,
      );
    }
    if (end > dataLen) fail(`truncated: tensor '${name}' ends at byte ${end} of the data section but only ${dataLen} bytes are present`);
    entries.push({ name, dtype: dt, shape: shape as number[], begin, end });
  }

  // The ranges must tile [0, dataLen) exactly, as the reference reader demands.
  const byStart = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (let i = 0; i < byStart.length; i++) {
    const e = byStart[i];
    if (e.begin < cursor) {
      fail(
        `overlapping ranges: tensor '${e.name}' [${e.begin}, ${e.end}] overlaps '${byStart[i - 1].name}' [${byStart[i - 1].begin}, ${byStart[i - 1].end}]`,
      );
    }
    if (e.begin > cursor) fail(`bad offsets: gap of ${e.begin - cursor} bytes before tensor '${e.name}' at data byte ${cursor}`);
    cursor = e.end;
  }
  if (cursor !== dataLen)
    fail(
      `bad offsets: ${dataLen - cursor} trailing bytes after the last tensor (data section is ${dataLen} bytes, tensors cover ${cursor})`,
    );

  const tensors: Record<string, SafetensorsTensor> = {};
  for (const e of entries) {
    // An explicit copy: Node's Buffer.slice returns a view into a shared pool, not a copy.
    const copy = new Uint8Array(e.end - e.begin);
    copy.set(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    tensors[e.name] = { dtype: e.dtype, shape: e.shape, data: new DTYPES[e.dtype].array(copy.buffer) };
  }
  return { tensors, metadata };
}

/**
 * The first key that occurs twice in one object of a (valid) JSON text, with the key of the object
 * that holds it ('' at the top level), or null. A small scanner: strings, brackets, colons.
 */
export function firstDuplicateKey(json: string): { key: string; path: string } | null {
  const stack: { keys: Set<string> | null; name: string }[] = [];
  let lastString: string | null = null;
  let pendingKey: string | null = null;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (j < json.length && json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      lastString = JSON.parse(json.slice(i, j + 1)) as string;
      i = j;
      continue;
    }
    if (c === ':') {
      const top = stack[stack.length - 1];
      if (top?.keys && lastString !== null) {
        if (top.keys.has(lastString))
          return {
            key: lastString,
            path: stack
              .slice(1)
              .map((f) => f.name)
              .join('.'),
          };
        top.keys.add(lastString);
        pendingKey = lastString;
      }
    } else if (c === '{' || c === '[') {
      stack.push({ keys: c === '{' ? new Set() : null, name: pendingKey ?? '' });
      pendingKey = null;
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      pendingKey = null;
    }
    if (c !== ' ' && c !== '\n' && c !== '\t' && c !== '\r') lastString = c === ':' ? lastString : null;
  }
  return null;
}

/** Float tensors (F32, F64, F16, BF16) that hold NaN or +-Inf, with their counts, in file order. */
export function nonFiniteEntries(
  tensors: Record<string, SafetensorsTensor>,
): { name: string; shape: number[]; count: number; size: number }[] {
  const out: { name: string; shape: number[]; count: number; size: number }[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    let count = 0;
    if (t.dtype === 'F32' || t.dtype === 'F64') {
      const d = t.data as Float32Array | Float64Array;
      for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) count++;
    } else if (t.dtype === 'F16' || t.dtype === 'BF16') {
      const d = t.data as Uint16Array;
      const mask = t.dtype === 'F16' ? 0x7c00 : 0x7f80;
      for (let i = 0; i < d.length; i++) if ((d[i] & mask) === mask) count++;
    }
    if (count) out.push({ name, shape: t.shape, count, size: t.data.length });
  }
  return out;
}

// ---- half-precision conversions ----

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE binary16 bit pattern -> number. */
export function f16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** number -> IEEE binary16 bit pattern, round to nearest even (like numpy/PyTorch). */
export function numberToF16Bits(x: number): number {
  f32Scratch[0] = x;
  const f = u32Scratch[0];
  const sign = (f >>> 16) & 0x8000;
  const exp = (f >>> 23) & 0xff;
  const mant = f & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN (quiet)
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00; // overflow
  if (e <= 0) {
    if (e < -10) return sign; // underflows to zero even after rounding
    const m = mant | 0x800000; // implicit bit
    const shift = 14 - e; // 24-bit significand down to the subnormal's 10 bits
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // may carry into the exponent; that is correct rounding
  return sign | h;
}

export function f16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = f16BitsToNumber(bits[i]);
  return out;
}

export function float32ToF16(x: Float32Array): Uint16Array {
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = numberToF16Bits(x[i]);
  return out;
}

/** bfloat16 is the top half of a float32, so decoding is a shift. */
export function bf16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) u[i] = bits[i] << 16;
  return out;
}

/** float32 -> bfloat16 bits, round to nearest even; NaN stays NaN. */
export function float32ToBf16(x: Float32Array): Uint16Array {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const f = u[i];
    if ((f & 0x7f800000) === 0x7f800000 && f & 0x7fffff) {
      out[i] = (f >>> 16) | 0x40;
      continue;
    }
    out[i] = (f + 0x7fff + ((f >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** Any tensor's values as float32 (F16/BF16 decoded, integers converted; 64-bit integers may lose precision). */
export function tensorToFloat32(t: SafetensorsTensor): Float32Array {
  switch (t.dtype) {
    case 'F32':
      return t.data as Float32Array;
    case 'F16':
      return f16ToFloat32(t.data as Uint16Array);
    case 'BF16':
      return bf16ToFloat32(t.data as Uint16Array);
    case 'I64':
    case 'U64': {
      const d = t.data as BigInt64Array | BigUint64Array;
      const out = new Float32Array(d.length);
      for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
      return out;
    }
    default:
      return Float32Array.from(t.data as ArrayLike<number>);
  }
}
