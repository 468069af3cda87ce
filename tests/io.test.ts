// GPU-independent I/O: safetensors, atomic files, PNG, image grids, MNIST, progress bar, CLI args.

import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import {
  bf16ToFloat32,
  decodeSafetensors,
  encodeSafetensors,
  f16ToFloat32,
  float32ToBf16,
  float32ToF16,
  numberToF16Bits,
  tensorToFloat32,
  type SafetensorsTensor,
} from '../engine/io/safetensors.js';
import { loadSafetensorsFile, saveSafetensorsFile, writeFileAtomic, writeFileAtomicSync } from '../engine/io/files.js';
import {
  convertChannels,
  crc32,
  decodePng,
  deflateStored,
  encodePng,
  readPngChunks,
  writePngChunks,
  type PngChannels,
} from '../data/png.js';
import { decodePngNode, encodePngNode, readPng, writePng } from '../data/png_node.js';
import { makeGrid } from '../data/grid.js';
import { loadMnist, resizeBilinearCpu } from '../data/mnist.js';
import { Progress, formatMetric } from '../cli/lib/progress.js';
import { formatHelp, parseArgs } from '../cli/lib/args.js';

/** Deterministic bytes (LCG), so tests never run on zeros. */
function randomBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

const ascii = (s: string) => new TextEncoder().encode(s);
const concat = (...parts: (Uint8Array | number[])[]) => {
  const arr = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arr.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of arr) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const u64le = (n: number) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
};

describe('safetensors', () => {
  it('round-trips many dtypes, odd shapes and metadata', () => {
    const tensors: Record<string, SafetensorsTensor> = {
      'conv.weight': { dtype: 'F32', shape: [3, 2, 3, 3], data: Float32Array.from({ length: 54 }, (_, i) => Math.sin(i) * 3) },
      half: { dtype: 'F16', shape: [5], data: float32ToF16(Float32Array.of(1, -2, 0.5, 65504, -0.000061035156)) },
      brain: { dtype: 'BF16', shape: [2, 1], data: float32ToBf16(Float32Array.of(3.140625, -1e20)) },
      steps: { dtype: 'I64', shape: [2], data: BigInt64Array.of(-5n, 9007199254740993n) },
      idx: { dtype: 'I32', shape: [1, 3], data: Int32Array.of(-7, 0, 2147483647) },
      bytes: { dtype: 'U8', shape: [7], data: randomBytes(7) },
      mask: { dtype: 'BOOL', shape: [3], data: Uint8Array.of(1, 0, 1) },
      dbl: { dtype: 'F64', shape: [], data: Float64Array.of(Math.PI) },
      empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
      '10': { dtype: 'I8', shape: [1], data: Int8Array.of(-128) },
    };
    const meta = { format: 'pt', note: 'ünïcode "quoted"\n' };
    const bytes = encodeSafetensors(tensors, meta);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const back = decodeSafetensors(bytes);
    expect(back.metadata).toEqual(meta);
    expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const b = back.tensors[name];
      expect(b.dtype, name).toBe(t.dtype);
      expect(b.shape, name).toEqual(t.shape);
      expect(b.data.constructor, name).toBe(t.data.constructor);
      expect(Array.from(b.data as ArrayLike<number>), name).toEqual(Array.from(t.data as ArrayLike<number>));
    }
    // Widest dtypes first, then by name: every tensor starts 8-byte aligned in the file.
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    for (const [name, e] of Object.entries<{ dtype: string; data_offsets: number[] }>(header)) {
      if (name === '__metadata__') continue;
      if (e.dtype === 'F64' || e.dtype === 'I64') expect(e.data_offsets[0] % 8).toBe(0);
    }
    expect(Array.from(tensorToFloat32(back.tensors.half))).toEqual([1, -2, 0.5, 65504, -0.000061035156].map((v) => Math.fround(v)));
    expect(tensorToFloat32(back.tensors.brain)[0]).toBe(3.140625);
  });

  it('writes exactly the bytes of the reference (Python safetensors) writer', () => {
    // safetensors.numpy.save({"test": np.zeros((2, 2), dtype=np.int32)}) from the library's own test suite.
    const expected1 = concat(
      [0x40, 0, 0, 0, 0, 0, 0, 0],
      ascii('{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}    '),
      new Uint8Array(16),
    );
    expect(encodeSafetensors({ test: { dtype: 'I32', shape: [2, 2], data: new Int32Array(4) } })).toEqual(expected1);

    // safetensors.torch.save_file({"weight": tensor([[1., 2.], [3., 4.]]), "step": tensor([7]),
    //   "h": tensor([1., -2.], dtype=float16)}, path, metadata={"format": "pt"}), built by hand from the
    // spec: "__metadata__" first, tensors sorted by dtype descending (I64 > F32 > F16), the 204-byte
    // header padded with 4 spaces to 208 = 0xd0.
    const header =
      '{"__metadata__":{"format":"pt"},' +
      '"step":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},' +
      '"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]},' +
      '"h":{"dtype":"F16","shape":[2],"data_offsets":[24,28]}}';
    const expected2 = concat(
      [0xd0, 0, 0, 0, 0, 0, 0, 0],
      ascii(header + '    '),
      [7, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40],
      [0x00, 0x3c, 0x00, 0xc0],
    );
    const got = encodeSafetensors(
      {
        weight: { dtype: 'F32', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) },
        step: { dtype: 'I64', shape: [1], data: BigInt64Array.of(7n) },
        h: { dtype: 'F16', shape: [2], data: float32ToF16(Float32Array.of(1, -2)) },
      },
      { format: 'pt' },
    );
    expect(got).toEqual(expected2);
    const back = decodeSafetensors(expected2);
    expect(Array.from(back.tensors.weight.data as Float32Array)).toEqual([1, 2, 3, 4]);
    expect(back.tensors.step.data).toEqual(BigInt64Array.of(7n));
    expect(Array.from(f16ToFloat32(back.tensors.h.data as Uint16Array))).toEqual([1, -2]);
  });

  it('reads files from other writers: unpadded header, unaligned data, no metadata', () => {
    const header = ascii('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'); // 55 bytes: data starts unaligned
    const bytes = concat(u64le(header.length), header, new Uint8Array(Float32Array.of(1.5, -3).buffer));
    const holder = new Uint8Array(bytes.length + 3);
    holder.set(bytes, 3);
    const { tensors, metadata } = decodeSafetensors(holder.subarray(3)); // a view at an odd offset
    expect(metadata).toEqual({});
    expect(Array.from(tensors.a.data as Float32Array)).toEqual([1.5, -3]);
  });

  describe('rejects corrupt files with a clear message', () => {
    const file = (header: object | string, data: Uint8Array | number = 0) => {
      const h = ascii(typeof header === 'string' ? header : JSON.stringify(header));
      return concat(u64le(h.length), h, typeof data === 'number' ? new Uint8Array(data) : data);
    };
    const ok = file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 8);
    const cases: [string, Uint8Array, RegExp][] = [
      ['too short', new Uint8Array(5), /truncated.*5 bytes/],
      ['header longer than file', concat(u64le(1000), ascii('{}')), /truncated: header length says 1000/],
      ['absurd header length', concat(u64le(2 ** 40), ascii('{}')), /exceeds/],
      ['data truncated', ok.subarray(0, ok.length - 1), /truncated: tensor 'a' ends at byte 8.*only 7/],
      ['not JSON', file('{"a": nope}'), /not valid JSON/],
      ['not an object', file('[1,2]'), /does not start with '\{'/],
      ['invalid UTF-8', concat(u64le(3), [0x7b, 0xff, 0x7d]), /UTF-8/],
      ['unknown dtype', file({ a: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, 1), /tensor 'a': unknown dtype "F8"/],
      ['bad shape', file({ a: { dtype: 'U8', shape: [-1], data_offsets: [0, 1] } }, 1), /shape/],
      ['offsets reversed', file({ a: { dtype: 'U8', shape: [0], data_offsets: [4, 2] } }, 4), /end before begin/],
      ['size mismatch', file({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), /8 bytes but F32 \[3\] needs 12/],
      [
        'overlap',
        file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8),
        /overlapping ranges.*'b'.*'a'/,
      ],
      ['gap', file({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), /gap of 4 bytes/],
      ['trailing bytes', file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 8), /4 trailing bytes/],
      ['metadata not strings', file({ __metadata__: { epoch: 3 } }), /metadata 'epoch' is not a string/],
    ];
    for (const [what, bytes, re] of cases) {
      it(what, () => expect(() => decodeSafetensors(bytes, 'ckpt.safetensors')).toThrow(re));
    }
    it('names the source', () => expect(() => decodeSafetensors(new Uint8Array(3), 'g.safetensors')).toThrow(/^g\.safetensors: /));
    it('validates on encode', () => {
      expect(() => encodeSafetensors({ a: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(/3 elements.*2 data/);
      expect(() => encodeSafetensors({ a: { dtype: 'F16', shape: [2], data: new Float32Array(2) } })).toThrow(
        /F16 but its data is a Float32Array/,
      );
    });
  });

  it('converts float16 and bfloat16 exactly', () => {
    expect(numberToF16Bits(1)).toBe(0x3c00);
    expect(numberToF16Bits(-2)).toBe(0xc000);
    expect(numberToF16Bits(0.1)).toBe(0x2e66);
    expect(numberToF16Bits(65504)).toBe(0x7bff);
    expect(numberToF16Bits(65520)).toBe(0x7c00); // rounds up to infinity
    expect(numberToF16Bits(2 ** -24)).toBe(0x0001);
    expect(numberToF16Bits(2 ** -25)).toBe(0x0000); // tie to even
    expect(numberToF16Bits(1.5 * 2 ** -25)).toBe(0x0001);
    expect(numberToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie to even
    expect(numberToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(numberToF16Bits(-0)).toBe(0x8000);
    expect(f16ToFloat32(Uint16Array.of(0x7e00))[0]).toBeNaN();
    // Every non-NaN half survives half -> float -> half.
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const back = float32ToF16(f16ToFloat32(all));
    for (let i = 0; i < 65536; i++) {
      if ((i & 0x7c00) === 0x7c00 && i & 0x3ff) continue;
      if (back[i] !== i) throw new Error(`f16 0x${i.toString(16)} came back as 0x${back[i].toString(16)}`);
    }
    const bf = float32ToBf16(Float32Array.of(1, -2.5, 1 + 2 ** -8, 1 + 3 * 2 ** -8, NaN));
    expect(Array.from(bf.slice(0, 4))).toEqual([0x3f80, 0xc020, 0x3f80, 0x3f82]);
    expect(bf16ToFloat32(bf)[4]).toBeNaN();
  });
});

describe('files', () => {
  it('writes atomically and loads safetensors, naming the path in errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'io-test-'));
    try {
      const path = join(dir, 'sub', 'g.safetensors');
      const t = { w: { dtype: 'F32' as const, shape: [2], data: Float32Array.of(0.25, -4) } };
      await saveSafetensorsFile(path, t, { step: '12' });
      await saveSafetensorsFile(path, { w: { dtype: 'F32', shape: [1], data: Float32Array.of(7) } }, { step: '13' }); // overwrite
      const back = await loadSafetensorsFile(path);
      expect(back.metadata.step).toBe('13');
      expect(Array.from(back.tensors.w.data as Float32Array)).toEqual([7]);
      expect(readdirSync(join(dir, 'sub'))).toEqual(['g.safetensors']); // no temp files left behind

      writeFileAtomicSync(join(dir, 'x.bin'), Uint8Array.of(1, 2, 3));
      await writeFileAtomic(join(dir, 'y.bin'), Uint8Array.of(4));
      expect(Array.from(readFileSync(join(dir, 'x.bin')))).toEqual([1, 2, 3]);
      expect(Array.from(readFileSync(join(dir, 'y.bin')))).toEqual([4]);

      await expect(loadSafetensorsFile(join(dir, 'missing.safetensors'))).rejects.toThrow(/missing\.safetensors.*ENOENT/);
      writeFileSync(join(dir, 'bad.safetensors'), Uint8Array.of(1, 2));
      await expect(loadSafetensorsFile(join(dir, 'bad.safetensors'))).rejects.toThrow(/bad\.safetensors.*truncated/);
      await expect(writeFileAtomic(join(dir, 'x.bin', 'under-a-file'), Uint8Array.of(1))).rejects.toThrow(/cannot write .*under-a-file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('png', () => {
  const inflate = (b: Uint8Array) => inflateSync(b);
  const deflate = (b: Uint8Array) => deflateSync(b);

  it('crc32 matches the standard check value', () => {
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    expect(crc32(ascii('IEND'))).toBe(0xae426082);
  });

  for (const channels of [1, 2, 3, 4] as PngChannels[]) {
    for (const filter of ['none', 'sub', 'up', 'average', 'paeth', 'adaptive'] as const) {
      it(`round-trips ${channels} channel(s) with filter ${filter}`, () => {
        const w = 13;
        const h = 7;
        // Smooth gradient plus noise, so filters have something to predict.
        const noise = randomBytes(w * h * channels, channels * 7 + filter.length);
        const px = noise.map((v, i) => (((i / channels) % w) * 9 + Math.floor(i / (w * channels)) * 5 + (v & 15)) & 0xff);
        const png = encodePng(px, w, h, channels, deflate, { filter });
        const img = decodePng(png, inflate);
        expect(img).toMatchObject({ width: w, height: h, channels });
        expect(img.data).toEqual(px);
        // The IDAT really uses the asked filter.
        const raw = inflateSync(readPngChunks(png).find((c) => c.type === 'IDAT')!.data);
        const types = new Set(Array.from({ length: h }, (_, y) => raw[y * (w * channels + 1)]));
        if (filter !== 'adaptive') expect([...types]).toEqual([['none', 'sub', 'up', 'average', 'paeth'].indexOf(filter)]);
      });
    }
  }

  it('unfilters hand-made rows of every filter type, with byte wrap-around', () => {
    const rows = [
      [1, 10, 5, 5], // sub -> 10 15 20
      [2, 1, 2, 3], // up -> 11 17 23
      [3, 4, 4, 4], // average -> 9 17 24
      [4, 1, 1, 1], // paeth -> 10 18 25
      [1, 250, 10, 0], // sub, wrapping -> 250 4 4
      [0, 7, 8, 9], // none
    ];
    const ihdr = Uint8Array.of(0, 0, 0, 3, 0, 0, 0, rows.length, 8, 0, 0, 0, 0);
    const png = writePngChunks([
      { type: 'IHDR', data: ihdr },
      { type: 'IDAT', data: deflateSync(Uint8Array.from(rows.flat())) },
      { type: 'IEND', data: new Uint8Array(0) },
    ]);
    const img = decodePng(png, inflate);
    expect(img.channels).toBe(1);
    expect(Array.from(img.data)).toEqual([10, 15, 20, 11, 17, 23, 9, 17, 24, 10, 18, 25, 250, 4, 4, 7, 8, 9]);
  });

  const makePng = (
    w: number,
    h: number,
    depth: number,
    colorType: number,
    raw: number[],
    extra: { type: string; data: Uint8Array }[] = [],
    interlace = 0,
    split = false,
  ) => {
    const ihdr = new Uint8Array(13);
    const v = new DataView(ihdr.buffer);
    v.setUint32(0, w);
    v.setUint32(4, h);
    ihdr.set([depth, colorType, 0, 0, interlace], 8);
    const z = deflateSync(Uint8Array.from(raw));
    const idat = split ? [z.subarray(0, 5), z.subarray(5)] : [z];
    return writePngChunks([
      { type: 'IHDR', data: ihdr },
      ...extra,
      ...idat.map((data) => ({ type: 'IDAT', data })),
      { type: 'IEND', data: new Uint8Array(0) },
    ]);
  };

  it('decodes palette images with transparency (8-bit and 4-bit), split IDAT', () => {
    const plte = { type: 'PLTE', data: Uint8Array.of(255, 0, 0, 0, 255, 0, 0, 0, 255) };
    const trns = { type: 'tRNS', data: Uint8Array.of(0, 128) }; // entry 2 has no alpha -> opaque
    const img8 = decodePng(makePng(3, 2, 8, 3, [0, 0, 1, 2, 0, 2, 2, 1], [plte, trns], 0, true), inflate);
    expect(img8.channels).toBe(4);
    expect(Array.from(img8.data)).toEqual([255, 0, 0, 0, 0, 255, 0, 128, 0, 0, 255, 255, 0, 0, 255, 255, 0, 0, 255, 255, 0, 255, 0, 128]);
    // 4-bit: 3 pixels = 12 bits -> 2 bytes per row: indices (1, 2, 0) packed as 0x12 0x00
    const img4 = decodePng(makePng(3, 1, 4, 3, [0, 0x12, 0x00], [plte]), inflate);
    expect(img4.channels).toBe(3);
    expect(Array.from(img4.data)).toEqual([0, 255, 0, 0, 0, 255, 255, 0, 0]);
    expect(() => decodePng(makePng(1, 1, 8, 3, [0, 5], [plte]), inflate)).toThrow(/palette index 5 out of range/);
  });

  it('decodes 1-bit gray, 16-bit RGB, gray with a tRNS colour key', () => {
    const g1 = decodePng(makePng(10, 1, 1, 0, [0, 0b10110000, 0b01000000]), inflate);
    expect(Array.from(g1.data)).toEqual([255, 0, 255, 255, 0, 0, 0, 0, 0, 255]);
    const rgb16 = decodePng(makePng(1, 1, 16, 2, [0, 0x12, 0x34, 0xff, 0xff, 0x00, 0x01]), inflate);
    expect(Array.from(rgb16.data)).toEqual([0x12, 0xff, 0x00]);
    const key = decodePng(makePng(2, 1, 8, 0, [0, 9, 10], [{ type: 'tRNS', data: Uint8Array.of(0, 9) }]), inflate);
    expect(key.channels).toBe(2);
    expect(Array.from(key.data)).toEqual([9, 0, 10, 255]);
  });

  it('decodes Adam7 interlaced images', () => {
    // 5x5 gray, pixel (x, y) = 10 * y + x. Build the seven passes by hand (filter none).
    const W = 5;
    const H = 5;
    const passes = [
      [0, 0, 8, 8],
      [4, 0, 8, 8],
      [0, 4, 4, 8],
      [2, 0, 4, 4],
      [0, 2, 2, 4],
      [1, 0, 2, 2],
      [0, 1, 1, 2],
    ];
    const raw: number[] = [];
    for (const [x0, y0, dx, dy] of passes) {
      for (let y = y0; y < H; y += dy) {
        if (x0 >= W) break;
        raw.push(0);
        for (let x = x0; x < W; x += dx) raw.push(10 * y + x);
      }
    }
    const img = decodePng(makePng(W, H, 8, 0, raw, [], 1), inflate);
    expect(Array.from(img.data)).toEqual(Array.from({ length: 25 }, (_, i) => 10 * Math.floor(i / 5) + (i % 5)));
  });

  it('rejects corrupt PNGs', () => {
    const png = encodePng(randomBytes(12), 2, 2, 3, deflate);
    expect(() => decodePng(png.subarray(1), inflate)).toThrow(/signature/);
    const bad = png.slice();
    bad[20] ^= 1; // inside IHDR
    expect(() => decodePng(bad, inflate)).toThrow(/bad CRC in chunk 'IHDR'/);
    expect(() => decodePng(png.subarray(0, 40), inflate)).toThrow(/truncated/);
    expect(() => decodePng(makePng(4, 4, 8, 0, [0, 1, 2, 3, 4]), inflate)).toThrow(/image data truncated/);
    expect(() => encodePng(new Uint8Array(5), 2, 2, 1, deflate)).toThrow(/needs 4 bytes, got 5/);
  });

  it('writes stored (uncompressed) zlib that zlib accepts', () => {
    for (const n of [0, 1, 70000]) {
      const data = randomBytes(n, n + 3);
      expect(Buffer.from(data).equals(inflateSync(deflateStored(data)))).toBe(true);
    }
    const px = randomBytes(4 * 3 * 4);
    expect(decodePng(encodePng(px, 4, 3, 4, deflateStored), inflate).data).toEqual(px);
  });

  it('node helpers write and read files; channel conversion', () => {
    const dir = mkdtempSync(join(tmpdir(), 'png-test-'));
    try {
      const px = randomBytes(6 * 5 * 3, 11);
      writePng(join(dir, 'a.png'), px, 6, 5, 3);
      const img = readPng(join(dir, 'a.png'));
      expect(img.data).toEqual(px);
      writePng(join(dir, 'b.png'), convertChannels(img, 4));
      expect(readPng(join(dir, 'b.png')).channels).toBe(4);
      expect(decodePngNode(encodePngNode(px, 6, 5, 3, { level: 9 })).data).toEqual(px);
      expect(() => readPng(join(dir, 'nope.png'))).toThrow(/nope\.png/);
      expect(convertChannels({ width: 1, height: 1, channels: 3, data: Uint8Array.of(255, 0, 0) }, 1).data[0]).toBe(76);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const emojiDir = 'node_modules/emoji-datasource-google/img/google/64';
  it.skipIf(!existsSync(emojiDir))('decodes real emoji PNGs', () => {
    const files = readdirSync(emojiDir)
      .filter((f) => f.endsWith('.png'))
      .slice(0, 20);
    for (const f of files) {
      const img = decodePngNode(readFileSync(join(emojiDir, f)));
      expect(img.width, f).toBe(64);
      expect(img.height, f).toBe(64);
      const rgba = convertChannels(img, 4);
      let opaque = 0;
      for (let i = 3; i < rgba.data.length; i += 4) if (rgba.data[i] > 128) opaque++;
      expect(opaque, f).toBeGreaterThan(300); // an emoji covers a good part of its square
    }
  });

  const sprite = 'node_modules/seedrandom/coverage/lcov-report/sort-arrow-sprite.png';
  it.skipIf(!existsSync(sprite))('decodes a third-party PNG (istanbul sprite, 7x27 RGBA)', () => {
    const img = decodePngNode(readFileSync(sprite));
    expect(img).toMatchObject({ width: 7, height: 27, channels: 4 });
  });
});

describe('makeGrid', () => {
  it('lays out a 2x3 grid with padding like torchvision make_grid + save_image', () => {
    const n = 5,
      c = 1,
      h = 2,
      w = 3;
    // Image k is filled with one value; image 0 has a bright and an out-of-range pixel.
    const values = [-1, 0, 1, 0.5, -0.5];
    const imgs = new Float32Array(n * c * h * w);
    for (let k = 0; k < n; k++) imgs.fill(values[k], k * h * w, (k + 1) * h * w);
    imgs[1] = 2; // image 0, (y 0, x 1): clamps to 255
    imgs[2] = -3; // clamps to 0
    imgs[5] = 1; // image 0, (y 1, x 2)
    const g = makeGrid(imgs, n, c, h, w, { nrow: 3, padding: 2 });
    expect(g).toMatchObject({ width: 3 * 5 + 2, height: 2 * 4 + 2, channels: 3 });
    const px = (x: number, y: number) => Array.from(g.data.subarray((y * g.width + x) * 3, (y * g.width + x) * 3 + 3));
    expect(px(0, 0)).toEqual([255, 255, 255]); // padding is white
    expect(px(2, 2)).toEqual([0, 0, 0]); // image 0 top-left: -1
    expect(px(3, 2)).toEqual([255, 255, 255]); // 2 clamps
    expect(px(4, 2)).toEqual([0, 0, 0]); // -3 clamps
    expect(px(4, 3)).toEqual([255, 255, 255]);
    expect(px(5, 2)).toEqual([255, 255, 255]); // padding between columns
    expect(px(7, 2)).toEqual([128, 128, 128]); // image 1: 0 -> 127.5 + 0.5 -> 128
    expect(px(12, 3)).toEqual([255, 255, 255]); // image 2: 1
    expect(px(2, 6)).toEqual([191, 191, 191]); // image 3 (row 2): 0.5 -> 191.25 + 0.5
    expect(px(9, 7)).toEqual([64, 64, 64]); // image 4: -0.5 -> 63.75 + 0.5
    expect(px(2, 4)).toEqual([255, 255, 255]); // padding between rows
    expect(px(12, 6)).toEqual([255, 255, 255]); // empty sixth cell
    expect(px(16, 9)).toEqual([255, 255, 255]);
    const black = makeGrid(imgs, n, c, h, w, { nrow: 3, padding: 1, padValue: 0, range: [0, 1] });
    expect(black.width).toBe(3 * 4 + 1);
    expect(Array.from(black.data.subarray(0, 3))).toEqual([0, 0, 0]);
  });

  it('keeps RGB channels apart', () => {
    const img = Float32Array.of(-1, 1, 0); // 1x3x1x1: R=-1, G=1, B=0
    const g = makeGrid(img, 1, 3, 1, 1, { padding: 0 });
    expect(Array.from(g.data)).toEqual([0, 255, 128]);
  });
});

describe('mnist', () => {
  it('loads train and test with the right first labels, shapes and range', () => {
    const train = loadMnist({ split: 'train', limit: 64 });
    expect(train).toMatchObject({ n: 64, h: 28, w: 28 });
    expect(train.images.length).toBe(64 * 28 * 28);
    expect(train.labels[0]).toBe(5);
    expect(Array.from(train.labels.subarray(0, 8))).toEqual([5, 0, 4, 1, 9, 2, 1, 3]);
    let lo = Infinity,
      hi = -Infinity;
    for (const v of train.images) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBe(-1);
    expect(hi).toBe(1);

    const test = loadMnist({ split: 'test' });
    expect(test.n).toBe(10000);
    expect(test.labels[0]).toBe(7);
    expect(test.images.length).toBe(10000 * 784);
  });

  it('pads to 32x32 and resizes to 64x64', () => {
    const a = loadMnist({ split: 'train', limit: 3 });
    const p = loadMnist({ split: 'train', limit: 3, pad32: true });
    expect(p).toMatchObject({ n: 3, h: 32, w: 32 });
    expect(p.images[0]).toBe(-1);
    expect(p.images[2 * 32 * 32 + 31]).toBe(-1);
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 28; x++) {
        expect(p.images[2 * 1024 + (y + 2) * 32 + x + 2]).toBe(a.images[2 * 784 + y * 28 + x]);
      }
    const r = loadMnist({ split: 'train', limit: 2, size: 64 });
    expect(r).toMatchObject({ h: 64, w: 64 });
    expect(r.images.length).toBe(2 * 64 * 64);
    expect(() => loadMnist({ split: 'train', dir: '/nonexistent' })).toThrow(/cannot open '\/nonexistent\/train-images-idx3-ubyte'/);
  });

  it('rejects a file with the wrong IDX magic', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnist-test-'));
    try {
      writeFileSync(join(dir, 'train-images-idx3-ubyte'), Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0));
      expect(() => loadMnist({ split: 'train', dir })).toThrow(/IDX magic 0x00000801, expected 0x00000803/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bilinear resize matches F.interpolate(align_corners=False) and align_corners=True', () => {
    const src = Float32Array.of(0, 1, 2, 3);
    expect(Array.from(resizeBilinearCpu(src, 1, 1, 2, 2, 4, 4))).toEqual([
      0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3,
    ]);
    expect(Array.from(resizeBilinearCpu(src, 1, 1, 2, 2, 3, 3, { alignCorners: true }))).toEqual([0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3]);
  });
});

describe('progress', () => {
  const capture = (isTTY: boolean) => {
    const out: string[] = [];
    return { stream: { isTTY, write: (s: string) => out.push(s) }, out };
  };

  it('logs a bounded number of lines when not a TTY', () => {
    const { stream, out } = capture(false);
    let t = 0;
    const p = new Progress({ total: 10000, label: 'train', stream, now: () => t });
    for (let i = 0; i < 10000; i++) {
      t += 1;
      p.tick(1, { loss: 1 / (i + 1) });
    }
    p.done();
    const lines = out.join('').split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThanOrEqual(10);
    expect(lines.length).toBeLessThanOrEqual(11);
    expect(lines.at(-1)).toMatch(/^train 10000\/10000 100\.0% 1000 it\/s in 0:10 loss=1\.00e-4$/);

    // A slow run adds a heartbeat line every 30 s, no more.
    const slow = capture(false);
    t = 0;
    const q = new Progress({ total: 1000, stream: slow.stream, now: () => t });
    for (let i = 0; i < 1000; i++) {
      t += 1000; // 1 s per step, 1000 s in all
      q.tick();
    }
    q.done();
    const n = slow.out.join('').split('\n').filter(Boolean).length;
    expect(n).toBeLessThanOrEqual(10 + Math.ceil(1000 / 30) + 1);
  });

  it('redraws one line on a TTY, throttled', () => {
    const { stream, out } = capture(true);
    let t = 0;
    const p = new Progress({ total: 500, label: 'gen', stream, now: () => t });
    for (let i = 0; i < 500; i++) {
      t += 2;
      p.tick(1, { d_loss: 0.123456, g: 'ok' });
    }
    p.done();
    const text = out.join('');
    expect(out.length).toBeLessThan(20);
    expect(text.split('\n').length).toBe(2); // one final newline
    expect(text.startsWith('\r')).toBe(true);
    expect(text).toMatch(/gen \[#{24}\] 500\/500 100\.0% 500 it\/s in 0:01 d_loss=0\.1235 g=ok/);
  });

  it('formats metrics', () => {
    expect(formatMetric(0.123456)).toBe('0.1235');
    expect(formatMetric(2)).toBe('2');
    expect(formatMetric(1.5e-5)).toBe('1.50e-5');
    expect(formatMetric(12345.6)).toBe('12346');
  });
});

describe('args', () => {
  const spec = {
    command: 'gan train',
    description: 'Train a GAN.',
    positionals: [{ name: 'net', required: true, choices: ['dcgan', 'wgan'] }],
    options: {
      lr: { type: 'number', default: 2e-4, help: 'learning rate' },
      batchSize: { type: 'int', default: 64, short: 'b', help: 'batch size' },
      dataset: { type: 'string', choices: ['mnist', 'celeba'], default: 'mnist' },
      out: { type: 'string', metavar: 'DIR' },
      amp: { type: 'boolean', help: 'half precision' },
      shift: { type: 'number', default: 0 },
    },
  } as const;

  it('parses values, defaults and forms', () => {
    const a = parseArgs(['dcgan', '--lr', '1e-3', '--batch-size=32', '--amp', '--shift', '-0.5', '--out', 'runs/a'], spec);
    expect(a.positionals).toEqual(['dcgan']);
    expect(a.options).toEqual({ lr: 1e-3, batchSize: 32, dataset: 'mnist', out: 'runs/a', amp: true, shift: -0.5 });
    const lr: number = a.options.lr; // typed from the spec
    const out: string | undefined = a.options.out;
    expect([lr, out]).toEqual([1e-3, 'runs/a']);
    const b = parseArgs(['-b', '8', 'wgan', '--no-amp', '--batchSize', '16', '--', '--not-an-option'], { ...spec, rest: true });
    expect(b.options.batchSize).toBe(16);
    expect(b.options.amp).toBe(false);
    expect(b.positionals).toEqual(['wgan', '--not-an-option']);
    expect(parseArgs(['-b4', 'dcgan', '--amp=false'], spec).options).toMatchObject({ batchSize: 4, amp: false });
    expect(parseArgs(['--help'], spec).help).toBe(true); // no required-argument error with --help
  });

  it('reports clear one-line errors', () => {
    const err = (argv: string[]) => {
      try {
        parseArgs(argv, spec);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err(['dcgan', '--lr', 'abc'])).toBe(`gan train: --lr expects a number, got 'abc'`);
    expect(err(['dcgan', '--batch-size', '2.5'])).toBe(`gan train: --batch-size expects an integer, got '2.5'`);
    expect(err(['dcgan', '--lr'])).toBe(`gan train: --lr expects a number, got nothing`);
    expect(err(['dcgan', '--out', '--amp'])).toBe(`gan train: --out expects a value, got nothing`);
    expect(err(['dcgan', '--dataset', 'cifar'])).toBe(`gan train: --dataset must be one of mnist, celeba; got 'cifar'`);
    expect(err(['dcgan', '--lrr', '1'])).toBe(`gan train: unknown option --lrr (did you mean --lr?); see --help`);
    expect(err(['dcgan', '-x'])).toBe(`gan train: unknown option -x; see --help`);
    expect(err([])).toBe(`gan train: missing argument <net> (one of dcgan, wgan)`);
    expect(err(['biggan'])).toBe(`gan train: <net> must be one of dcgan, wgan; got 'biggan'`);
    expect(err(['dcgan', 'extra'])).toBe(`gan train: unexpected argument 'extra'`);
    expect(err(['dcgan', '--amp=maybe'])).toBe(`gan train: --amp expects true or false, got 'maybe'`);
  });

  it('generates help', () => {
    const help = formatHelp(spec);
    expect(help).toContain('Usage: gan train [options] <net>');
    expect(help).toMatch(/--lr <number> +learning rate \(default: 0\.0002\)/);
    expect(help).toMatch(/-b, --batch-size <int> +batch size \(default: 64\)/);
    expect(help).toMatch(/--dataset <string> +\(choices: mnist, celeba; default: mnist\)/);
    expect(help).toMatch(/--out <DIR>/);
    expect(help).toMatch(/--amp, --no-amp +half precision/);
    expect(help).toMatch(/-h, --help +show this help/);
  });
});
