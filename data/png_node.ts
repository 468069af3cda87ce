// Node bindings for the PNG core: zlib from node:zlib, atomic file writes, errors that name the path.

import { deflateSync, inflateSync, constants as zlibConstants } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { decodePng, encodePng, type EncodePngOptions, type PngChannels, type PngImage } from './png.js';
import { writeFileAtomicSync } from '../engine/io/files.js';

export interface EncodePngNodeOptions extends EncodePngOptions {
  /** zlib level 0-9 (default 6, zlib's own default). */
  level?: number;
}

export function encodePngNode(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: PngChannels,
  options: EncodePngNodeOptions = {},
): Uint8Array {
  const level = options.level ?? zlibConstants.Z_DEFAULT_COMPRESSION;
  return encodePng(pixels, width, height, channels, (b) => deflateSync(b, { level }), options);
}

export function decodePngNode(bytes: Uint8Array): PngImage {
  return decodePng(bytes, (b, maxBytes) => inflateSync(b, maxBytes ? { maxOutputLength: maxBytes } : {}));
}

/** Write a PNG atomically: `writePng(path, image)` or `writePng(path, pixels, width, height, channels)`. */
export function writePng(path: string, image: PngImage, options?: EncodePngNodeOptions): void;
export function writePng(
  path: string,
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: PngChannels,
  options?: EncodePngNodeOptions,
): void;
export function writePng(
  path: string,
  a: PngImage | Uint8Array,
  b?: number | EncodePngNodeOptions,
  height?: number,
  channels?: PngChannels,
  options?: EncodePngNodeOptions,
): void {
  let bytes: Uint8Array;
  try {
    if (a instanceof Uint8Array) bytes = encodePngNode(a, b as number, height!, channels!, options);
    else bytes = encodePngNode(a.data, a.width, a.height, a.channels, b as EncodePngNodeOptions | undefined);
  } catch (e) {
    throw new Error(`cannot write PNG '${path}': ${(e as Error).message}`);
  }
  writeFileAtomicSync(path, bytes);
}

export function readPng(path: string): PngImage {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read PNG '${path}': ${(e as Error).message}`);
  }
  try {
    return decodePngNode(bytes);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}
