// Emoji datasets for the image-to-image and generative GANs (Node only), from two npm packages of
// 64x64 RGBA PNGs that draw the same Unicode emoji in two styles:
//   domain A = Noto Color Emoji (`emoji-datasource-google`, Apache-2.0 artwork),
//   domain B = Twemoji          (`emoji-datasource-twitter`, CC-BY 4.0 artwork: attribution required).
// Both packages ship one emoji.json catalogue (names, short names, categories, skin variations).
//
// Everything comes out as plain row-major NCHW Float32Arrays in [-1, 1] (RGBA composited onto
// white, so a transparent pixel is exactly 1.0) with labels and names beside them:
//   loadEmojiPairs      aligned (Noto, Twemoji) pairs of the same emoji          (pix2pix)
//   loadEmojiUnpaired   train: Noto from one half of the emoji, Twemoji from the other half;
//                       test: aligned pairs as ground truth      (CycleGAN, DualGAN, DiscoGAN)
//   loadEmojiSkinTones  6 domains (default yellow + 5 Fitzpatrick tones) with, per image, the
//                       index of the same emoji in every other domain                (StarGAN)
//   loadEmojiText       images with names, tokens and category labels      (StackGAN, cGANs)
//   edgeMapCpu          Sobel edges, thinned, black on white                 (edges -> emoji)
//
// Splits are by emoji, never by image: an emoji's split is a hash of (seed, its group key), where a
// group joins an emoji with all its skin-tone variants, the emoji it obsoletes, and any emoji whose
// PNG is byte-identical in either set (flags shared by several regions, Twemoji's family glyphs).
// So a test emoji is unseen in training in any tone or under any alias, and the split is the same on
// every run and for every loader.
//
// Decoding all ~3800 PNGs of a set takes about a second; the decoded, composited 8-bit RGB of each
// set is cached under .cache/data/ (data/cache.ts), keyed by package version and file list.
// Missing or undecodable PNGs are skipped, listed in `skipped` and warned about once per call.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import type { PngImage } from './png.js';
import { decodePngNode } from './png_node.js';
import { cached, type CacheOptions } from './cache.js';
import { resizeBilinearCpu } from './mnist.js';

export type EmojiSet = 'google' | 'twitter';
export type EmojiSplit = 'train' | 'test';

export const EMOJI_SETS: readonly EmojiSet[] = ['google', 'twitter'];
export const EMOJI_PACKAGES: Record<EmojiSet, string> = {
  google: 'emoji-datasource-google',
  twitter: 'emoji-datasource-twitter',
};
/** The artwork's own names and licences (the npm packages themselves are MIT). */
export const EMOJI_ARTWORK: Record<EmojiSet, { name: string; licence: string }> = {
  google: { name: 'Noto Color Emoji (Google)', licence: 'Apache-2.0' },
  twitter: { name: 'Twemoji (Twitter)', licence: 'CC-BY-4.0' },
};

/** Side of the PNGs read from the packages (img/<set>/64). */
export const EMOJI_NATIVE_SIZE = 64;
/** Bump when the cached representation changes. */
const CACHE_FORMAT = 1;

/** Fitzpatrick modifiers U+1F3FB..U+1F3FF; skin-tone domain d (1..5) uses SKIN_TONE_CODES[d - 1]. */
export const SKIN_TONE_CODES = ['1F3FB', '1F3FC', '1F3FD', '1F3FE', '1F3FF'] as const;
/** Domain names of loadEmojiSkinTones: 0 is the emoji's default (yellow / no modifier). */
export const SKIN_TONE_DOMAINS = ['default', 'light', 'medium-light', 'medium', 'medium-dark', 'dark'] as const;

// ---- the catalogue ----

/** One image in the catalogue: a base emoji or one of its skin-tone variants. */
export interface EmojiEntry {
  /** Unicode code points, e.g. '1F385' or '1F385-1F3FB' (emoji.json's `unified`). */
  code: string;
  /** PNG file name inside img/<set>/64/. */
  image: string;
  /** Code of the base emoji (== code for a base emoji). */
  base: string;
  /** Skin-tone key of a variant ('1F3FB', or '1F3FB-1F3FC' for two-person emoji); null for a base. */
  toneKey: string | null;
  /** 0 for a base emoji, 1..5 for a single uniform tone, -1 for mixed tones (two people). */
  tone: number;
  /** Name as in emoji.json, plus ': LIGHT SKIN TONE' etc. for variants. */
  name: string;
  shortNames: string[];
  category: string;
  subcategory: string;
  /** Position in the catalogue's own order (emoji.json sort_order), variants after their base. */
  order: number;
  hasImage: Record<EmojiSet, boolean>;
  /** Code of the emoji this one replaces / is replaced by, when emoji.json says so. */
  obsoletes: string | null;
  obsoletedBy: string | null;
}

/** One entry that could not be used: a missing or corrupt PNG. */
export interface EmojiSkip {
  /** Path of the PNG. */
  file: string;
  reason: string;
  set: EmojiSet;
  code: string;
}

interface RawVariation {
  unified: string;
  image: string;
  has_img_google?: boolean;
  has_img_twitter?: boolean;
}

interface RawEmoji {
  name: string | null;
  unified: string;
  image: string;
  short_name: string;
  short_names: string[];
  category: string;
  subcategory: string;
  sort_order: number;
  has_img_google?: boolean;
  has_img_twitter?: boolean;
  skin_variations?: Record<string, RawVariation>;
  obsoletes?: string;
  obsoleted_by?: string;
}

interface EmojiPackage {
  set: EmojiSet;
  name: string;
  version: string;
  /** Directory of the 64px PNGs. */
  imageDir: string;
  catalogue: EmojiEntry[];
}

const packages = new Map<EmojiSet, EmojiPackage>();

function checkSet(set: unknown): EmojiSet {
  if (set !== 'google' && set !== 'twitter') throw new Error(`emoji: set must be 'google' or 'twitter', got '${String(set)}'`);
  return set;
}

function resolvePackageRoot(pkg: string): string {
  // From this module first; then from the working directory, for bundles run from outside the repo.
  for (const base of [import.meta.url, join(process.cwd(), 'package.json')]) {
    try {
      return dirname(createRequire(base).resolve(`${pkg}/package.json`));
    } catch {
      /* try the next base */
    }
  }
  throw new Error(
    `emoji: the npm package '${pkg}' is not installed. It is a devDependency of this repository: ` +
      `run 'npm install' in the repository root (or 'npm install --save-dev ${pkg}').`,
  );
}

function toneName(key: string): string {
  return key
    .split('-')
    .map((t) => `${SKIN_TONE_DOMAINS[SKIN_TONE_CODES.indexOf(t as (typeof SKIN_TONE_CODES)[number]) + 1].toUpperCase()} SKIN TONE`)
    .join(', ');
}

/** Tone index of a variation key: 1..5 for 'X' or 'X-X' (both people alike), -1 for mixed tones. */
function toneOfKey(key: string): number {
  const parts = key.split('-');
  const i = SKIN_TONE_CODES.indexOf(parts[0] as (typeof SKIN_TONE_CODES)[number]);
  if (i < 0 || parts.some((p) => p !== parts[0])) return -1;
  return i + 1;
}

function buildCatalogue(raw: RawEmoji[]): EmojiEntry[] {
  const sorted = [...raw].sort((x, y) => x.sort_order - y.sort_order || (x.unified < y.unified ? -1 : 1));
  const out: EmojiEntry[] = [];
  for (const e of sorted) {
    const name = e.name ?? e.short_name.toUpperCase();
    const common = {
      base: e.unified,
      shortNames: e.short_names ?? [e.short_name],
      category: e.category,
      subcategory: e.subcategory,
      obsoletes: e.obsoletes ?? null,
      obsoletedBy: e.obsoleted_by ?? null,
    };
    out.push({
      ...common,
      code: e.unified,
      image: e.image,
      toneKey: null,
      tone: 0,
      name,
      order: out.length,
      hasImage: { google: e.has_img_google === true, twitter: e.has_img_twitter === true },
    });
    for (const [key, v] of Object.entries(e.skin_variations ?? {})) {
      out.push({
        ...common,
        code: v.unified,
        image: v.image,
        toneKey: key,
        tone: toneOfKey(key),
        name: `${name}: ${toneName(key)}`,
        order: out.length,
        hasImage: { google: v.has_img_google === true, twitter: v.has_img_twitter === true },
      });
    }
  }
  return out;
}

function emojiPackage(set: EmojiSet): EmojiPackage {
  let p = packages.get(set);
  if (p) return p;
  const name = EMOJI_PACKAGES[set];
  const root = resolvePackageRoot(name);
  let version: string;
  let raw: RawEmoji[];
  try {
    version = String(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
    raw = JSON.parse(readFileSync(join(root, 'emoji.json'), 'utf8')) as RawEmoji[];
  } catch (e) {
    throw new Error(`emoji: cannot read the catalogue of '${name}' at ${root} (${(e as Error).message}); reinstall it with 'npm install'`);
  }
  if (!Array.isArray(raw))
    throw new Error(`emoji: ${join(root, 'emoji.json')} is not a list of emoji; reinstall '${name}' with 'npm install'`);
  p = { set, name, version, imageDir: join(root, 'img', set, String(EMOJI_NATIVE_SIZE)), catalogue: buildCatalogue(raw) };
  packages.set(set, p);
  return p;
}

/** Package name, version and PNG directory of a set (throws, naming the package, when it is missing). */
export function emojiPackageInfo(set: EmojiSet): { name: string; version: string; imageDir: string } {
  const p = emojiPackage(checkSet(set));
  return { name: p.name, version: p.version, imageDir: p.imageDir };
}

/** Every image the set's emoji.json lists (bases and variants), in catalogue order. */
export function emojiCatalogue(set: EmojiSet = 'google'): readonly EmojiEntry[] {
  return emojiPackage(checkSet(set)).catalogue;
}

/** Categories in catalogue order (the label order of loadEmojiText; stable across splits). */
export function emojiCategories(set: EmojiSet = 'google'): { categories: string[]; subcategories: string[] } {
  const categories: string[] = [];
  const subcategories: string[] = [];
  for (const e of emojiCatalogue(set)) {
    if (!categories.includes(e.category)) categories.push(e.category);
    if (!subcategories.includes(e.subcategory)) subcategories.push(e.subcategory);
  }
  return { categories, subcategories };
}

// ---- splits ----

export interface EmojiSplitOptions {
  /** Fraction of emoji groups held out for testing. Default 0.15. */
  testFraction?: number;
  /** Seed of the split hash: another seed gives another (equally stable) split. Default 0. */
  seed?: number;
}

/** FNV-1a over UTF-16 code units, then murmur3's finaliser so nearby strings spread out. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A deterministic number in [0, 1) for (purpose, seed, key). */
function unitHash(purpose: string, seed: number, key: string): number {
  return hash32(`${purpose}:${seed}:${key}`) / 2 ** 32;
}

/** The split of a group key (see emojiGroupKeys) for a seed and test fraction. */
export function splitOfGroup(groupKey: string, { testFraction = 0.15, seed = 0 }: EmojiSplitOptions = {}): EmojiSplit {
  return unitHash('split', seed, groupKey) < testFraction ? 'test' : 'train';
}

const groupKeyMemo = new Map<string, Map<string, string>>();

/**
 * Map from every code in the catalogue to its group key: the smallest base code among the emoji it
 * must share a split with (its variants, obsoletes/obsoleted-by partners, and byte-identical PNGs
 * in any installed set). Scanning the PNGs for duplicates reads every file once; the result is cached.
 */
export function emojiGroupKeys(options: { cache?: boolean; cacheDir?: string } = {}): Map<string, string> {
  const installed = EMOJI_SETS.filter((s) => {
    try {
      emojiPackage(s);
      return true;
    } catch {
      return false;
    }
  });
  if (installed.length === 0) emojiPackage('google'); // throws, naming the package
  const pkgs = installed.map(emojiPackage);
  const version = pkgs.map((p) => `${p.name}@${p.version}`).join(',') + `/fmt${CACHE_FORMAT}`;
  const memo = groupKeyMemo.get(version);
  if (memo) return memo;

  const catalogue = pkgs[0].catalogue;
  // Duplicate PNGs, as lists of codes whose files are byte-identical within one set.
  const { meta: duplicates } = cached<string[][]>(
    { dataset: 'emoji-duplicates', options: { sets: installed }, version },
    () => {
      const groups: string[][] = [];
      for (const p of pkgs) {
        const byHash = new Map<string, string[]>();
        for (const e of p.catalogue) {
          if (!e.hasImage[p.set]) continue;
          let bytes: Uint8Array;
          try {
            bytes = readFileSync(join(p.imageDir, e.image));
          } catch {
            continue; // reported when the loaders decode it
          }
          const h = createHash('sha1').update(bytes).digest('hex');
          const list = byHash.get(h);
          if (list) list.push(e.code);
          else byHash.set(h, [e.code]);
        }
        for (const list of byHash.values()) if (list.length > 1) groups.push(list);
      }
      return { tensors: {}, meta: groups };
    },
    { enabled: options.cache !== false, dir: options.cacheDir },
  );

  // Union-find over base codes; the representative is the smallest code of its group.
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  const union = (x: string, y: string) => {
    const rx = find(x);
    const ry = find(y);
    if (rx !== ry) rx < ry ? parent.set(ry, rx) : parent.set(rx, ry);
  };
  const baseOf = new Map<string, string>(catalogue.map((e) => [e.code, e.base]));
  for (const e of catalogue) {
    find(e.base);
    if (e.obsoletedBy && baseOf.has(e.obsoletedBy)) union(e.base, baseOf.get(e.obsoletedBy)!);
    if (e.obsoletes && baseOf.has(e.obsoletes)) union(e.base, baseOf.get(e.obsoletes)!);
  }
  for (const group of duplicates) {
    const bases = group.map((c) => baseOf.get(c)).filter((b): b is string => b !== undefined);
    for (let i = 1; i < bases.length; i++) union(bases[0], bases[i]);
  }
  const keys = new Map<string, string>();
  for (const e of catalogue) keys.set(e.code, find(e.base));
  groupKeyMemo.set(version, keys);
  return keys;
}

// ---- decoding ----

interface DecodedSet {
  /** k x 3 x 64 x 64 composited RGB, 8 bits. */
  rgb: Uint8Array;
  /** Row of each image file name. */
  row: Map<string, number>;
  /** 1 where the PNG decoded, 0 where it was skipped. */
  ok: Uint8Array;
  skipped: EmojiSkip[];
}

const PLANE = EMOJI_NATIVE_SIZE * EMOJI_NATIVE_SIZE;

/** Composite one decoded PNG onto white into planar RGB at `dst[off..off + 3 * 64 * 64)`. */
function compositeOnWhite(data: Uint8Array, channels: number, dst: Uint8Array, off: number): void {
  for (let p = 0; p < PLANE; p++) {
    const s = p * channels;
    let r: number, g: number, b: number, a: number;
    if (channels >= 3) {
      r = data[s];
      g = data[s + 1];
      b = data[s + 2];
      a = channels === 4 ? data[s + 3] : 255;
    } else {
      r = g = b = data[s];
      a = channels === 2 ? data[s + 1] : 255;
    }
    // Straight (non-premultiplied) alpha over white, rounded to nearest: (v a + 255 (255 - a)) / 255.
    const white = 255 * (255 - a) + 127;
    dst[off + p] = ((r * a + white) / 255) | 0;
    dst[off + PLANE + p] = ((g * a + white) / 255) | 0;
    dst[off + 2 * PLANE + p] = ((b * a + white) / 255) | 0;
  }
}

/**
 * Decoded sets kept in memory, so that several loaders in one process (train and test split, pairs
 * and text) read the cache file once. Two entries: both sets of the full catalogue (~47 MB each).
 */
const DECODED_MEMO_SIZE = 2;
const decodedMemo = new Map<string, DecodedSet>();

interface DecodeOptions {
  dir?: string;
  cache?: boolean;
  cacheDir?: string;
}

/** Decode the PNGs of `entries` from one set (cached). Entries may repeat; each file is decoded once. */
function decodeSet(set: EmojiSet, entries: readonly EmojiEntry[], options: DecodeOptions): DecodedSet {
  const pkg = emojiPackage(set);
  const dir = resolve(options.dir ?? pkg.imageDir);
  const images: string[] = [];
  const codes: string[] = [];
  const row = new Map<string, number>();
  for (const e of entries) {
    if (row.has(e.image)) continue;
    row.set(e.image, images.length);
    images.push(e.image);
    codes.push(e.code);
  }
  let dirMtimeMs = 0;
  try {
    dirMtimeMs = statSync(dir).mtimeMs;
  } catch {
    /* every file will be reported missing */
  }
  const key = {
    dataset: `emoji-${set}-rgb${EMOJI_NATIVE_SIZE}`,
    options: {
      set,
      dir,
      dirMtimeMs,
      background: 'white',
      count: images.length,
      files: createHash('sha256').update(images.join('\n')).digest('hex'),
    },
    version: `${pkg.name}@${pkg.version}/fmt${CACHE_FORMAT}`,
  };
  const memoKey = JSON.stringify(key);
  const memo = decodedMemo.get(memoKey);
  if (memo) {
    // Most recently used last, so the oldest entry is the first one dropped.
    decodedMemo.delete(memoKey);
    decodedMemo.set(memoKey, memo);
    return memo;
  }
  const cacheOptions: CacheOptions = { enabled: options.cache !== false, dir: options.cacheDir };
  const result = cached<{ skipped: EmojiSkip[] }>(
    key,
    () => {
      const rgb = new Uint8Array(images.length * 3 * PLANE);
      const ok = new Uint8Array(images.length);
      const skipped: EmojiSkip[] = [];
      for (let i = 0; i < images.length; i++) {
        const file = join(dir, images[i]);
        const skip = (reason: string) => skipped.push({ file, reason, set, code: codes[i] });
        if (!existsSync(file)) {
          skip('missing');
          continue;
        }
        let png: PngImage;
        try {
          png = decodePngNode(readFileSync(file));
        } catch (e) {
          skip(`corrupt: ${(e as Error).message}`);
          continue;
        }
        if (png.width !== EMOJI_NATIVE_SIZE || png.height !== EMOJI_NATIVE_SIZE) {
          skip(`unexpected size ${png.width}x${png.height} (expected ${EMOJI_NATIVE_SIZE}x${EMOJI_NATIVE_SIZE})`);
          continue;
        }
        compositeOnWhite(png.data, png.channels, rgb, i * 3 * PLANE);
        ok[i] = 1;
      }
      return {
        tensors: {
          rgb: { dtype: 'U8', shape: [images.length, 3, EMOJI_NATIVE_SIZE, EMOJI_NATIVE_SIZE], data: rgb },
          ok: { dtype: 'U8', shape: [images.length], data: ok },
        },
        meta: { skipped },
      };
    },
    cacheOptions,
  );
  const rgb = result.tensors.rgb?.data;
  const ok = result.tensors.ok?.data;
  if (
    !(rgb instanceof Uint8Array) ||
    !(ok instanceof Uint8Array) ||
    ok.length !== images.length ||
    rgb.length !== images.length * 3 * PLANE
  ) {
    throw new Error(`emoji: cache file '${result.path}' does not hold ${images.length} images; delete it and retry`);
  }
  const decoded = { rgb, ok, row, skipped: result.meta.skipped };
  decodedMemo.set(memoKey, decoded);
  if (decodedMemo.size > DECODED_MEMO_SIZE) decodedMemo.delete(decodedMemo.keys().next().value!);
  return decoded;
}

/** NCHW floats in [-1, 1] at size x size for the given rows of a decoded set. */
function toFloatImages(rgb: Uint8Array, rows: readonly number[], size: number): Float32Array {
  const S = EMOJI_NATIVE_SIZE;
  const n = rows.length;
  const out = new Float32Array(n * 3 * size * size);
  if (size === S) {
    for (let i = 0; i < n; i++) {
      const src = rows[i] * 3 * PLANE;
      const dst = i * 3 * PLANE;
      for (let j = 0; j < 3 * PLANE; j++) out[dst + j] = rgb[src + j] / 127.5 - 1;
    }
    return out;
  }
  if (S % size === 0) {
    // Integer downscale: average f x f blocks (area filter; bilinear would alias thin outlines).
    const f = S / size;
    const scale = 1 / (127.5 * f * f);
    for (let i = 0; i < n; i++) {
      for (let ch = 0; ch < 3; ch++) {
        const src = rows[i] * 3 * PLANE + ch * PLANE;
        const dst = (i * 3 + ch) * size * size;
        for (let y = 0; y < size; y++) {
          for (let x = 0; x < size; x++) {
            let sum = 0;
            for (let dy = 0; dy < f; dy++) {
              const r = src + (y * f + dy) * S + x * f;
              for (let dx = 0; dx < f; dx++) sum += rgb[r + dx];
            }
            out[dst + y * size + x] = sum * scale - 1;
          }
        }
      }
    }
    return out;
  }
  // Anything else (upscaling, non-integer factors): bilinear, a chunk of images at a time.
  const chunk = 64;
  for (let i0 = 0; i0 < n; i0 += chunk) {
    const m = Math.min(chunk, n - i0);
    const native = toFloatImages(rgb, rows.slice(i0, i0 + m), S);
    out.set(resizeBilinearCpu(native, m, 3, S, S, size, size), i0 * 3 * size * size);
  }
  return out;
}

// ---- shared option handling ----

export interface EmojiLoadOptions extends EmojiSplitOptions {
  split: EmojiSplit;
  /** Output side in pixels (default 64, the PNGs' own size). Divisors of 64 use area averaging, others bilinear. */
  size?: number;
  /**
   * Keep only the first `limit` images of the split in catalogue order (per domain for unpaired;
   * emoji groups of six for skin tones); only those files are read. Default: all.
   */
  limit?: number;
  /** Directories to read each set's 64px PNGs from instead of the installed packages (tests). */
  dir?: Partial<Record<EmojiSet, string>>;
  /** Use the decoded-image cache (default true). */
  cache?: boolean;
  /** Cache directory (default $GAN_DATA_CACHE or .cache/data). */
  cacheDir?: string;
}

interface Resolved {
  split: EmojiSplit;
  size: number;
  limit: number;
  testFraction: number;
  seed: number;
  groups: Map<string, string>;
  decode: (set: EmojiSet, entries: readonly EmojiEntry[]) => DecodedSet;
}

function resolveOptions(who: string, o: EmojiLoadOptions): Resolved {
  const { split, size = EMOJI_NATIVE_SIZE, limit, testFraction = 0.15, seed = 0 } = o;
  if (split !== 'train' && split !== 'test') throw new Error(`${who}: split must be 'train' or 'test', got '${String(split)}'`);
  if (!Number.isInteger(size) || size < 1) throw new Error(`${who}: size must be a positive integer, got ${size}`);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0))
    throw new Error(`${who}: limit must be a non-negative integer, got ${limit}`);
  if (!(testFraction >= 0 && testFraction <= 1)) throw new Error(`${who}: testFraction must be in [0, 1], got ${testFraction}`);
  if (!Number.isInteger(seed)) throw new Error(`${who}: seed must be an integer, got ${seed}`);
  const groups = emojiGroupKeys({ cache: o.cache, cacheDir: o.cacheDir });
  return {
    split,
    size,
    limit: limit ?? Infinity,
    testFraction,
    seed,
    groups,
    // Without a limit the whole set is decoded once and shared by every loader, split and size.
    decode: (set, entries) =>
      decodeSet(set, limit === undefined && !o.dir?.[set] ? emojiPackage(set).catalogue.filter((e) => e.hasImage[set]) : entries, {
        dir: o.dir?.[set],
        cache: o.cache,
        cacheDir: o.cacheDir,
      }),
  };
}

function groupOf(r: Resolved, e: EmojiEntry): string {
  return r.groups.get(e.code) ?? e.base;
}

function inSplit(r: Resolved, e: EmojiEntry): boolean {
  return splitOfGroup(groupOf(r, e), r) === r.split;
}

function warnSkipped(who: string, skipped: readonly EmojiSkip[]): void {
  if (skipped.length === 0) return;
  const first = skipped[0];
  console.warn(
    `${who}: skipped ${skipped.length} image${skipped.length === 1 ? '' : 's'} (missing or corrupt PNG), ` +
      `e.g. ${first.file}: ${first.reason}; the full list is in the result's 'skipped'`,
  );
}

/** Skips of the entries actually requested (the decoded set may cover more). */
function relevantSkips(decoded: DecodedSet, entries: readonly EmojiEntry[]): EmojiSkip[] {
  const wanted = new Set(entries.map((e) => e.image));
  return decoded.skipped.filter((s) => wanted.has(basename(s.file)));
}

function isOk(decoded: DecodedSet, e: EmojiEntry): boolean {
  const r = decoded.row.get(e.image);
  return r !== undefined && decoded.ok[r] === 1;
}

// ---- pairs ----

export interface EmojiPairsOptions extends EmojiLoadOptions {
  /** Include skin-tone variants as pairs of their own (default true; they share their base's split). */
  skinTones?: boolean;
}

export interface EmojiPairs {
  /** Domain A (Noto), n x 3 x h x w in [-1, 1]. */
  a: Float32Array;
  /** Domain B (Twemoji), aligned with `a`: b[i] is the same emoji as a[i]. */
  b: Float32Array;
  n: number;
  c: 3;
  h: number;
  w: number;
  names: string[];
  codes: string[];
  skipped: EmojiSkip[];
}

function pairEntries(r: Resolved, skinTones: boolean): EmojiEntry[] {
  const google = emojiPackage('google').catalogue;
  emojiPackage('twitter'); // both packages must be installed
  return google.filter((e) => e.hasImage.google && e.hasImage.twitter && (skinTones || e.toneKey === null) && inSplit(r, e));
}

/**
 * The catalogue entries of a split, without reading any image: those drawn in every set of `sets`
 * (default both, i.e. the pairs), in catalogue order. What the loaders select before `limit`.
 */
export function emojiSplitEntries(
  options: EmojiSplitOptions & { split: EmojiSplit; sets?: readonly EmojiSet[]; skinTones?: boolean; cache?: boolean; cacheDir?: string },
): EmojiEntry[] {
  const r = resolveOptions('emojiSplitEntries', { ...options, limit: undefined, dir: undefined });
  const sets = (options.sets ?? EMOJI_SETS).map(checkSet);
  if (sets.length === 0) throw new Error('emojiSplitEntries: sets must name at least one set');
  for (const s of sets) emojiPackage(s);
  return emojiPackage(sets[0]).catalogue.filter(
    (e) => sets.every((s) => e.hasImage[s]) && (options.skinTones !== false || e.toneKey === null) && inSplit(r, e),
  );
}

/** Drop the decoded sets held in memory (the on-disk cache stays); the next load reads the cache file. */
export function clearEmojiMemory(): void {
  decodedMemo.clear();
}

/** Aligned (Noto, Twemoji) pairs of every emoji both sets draw, split by emoji. */
export function loadEmojiPairs(options: EmojiPairsOptions): EmojiPairs {
  const who = 'loadEmojiPairs';
  const r = resolveOptions(who, options);
  const wanted = pairEntries(r, options.skinTones !== false).slice(0, r.limit);
  const decA = r.decode('google', wanted);
  const decB = r.decode('twitter', wanted);
  const skipped = [...relevantSkips(decA, wanted), ...relevantSkips(decB, wanted)];
  const kept = wanted.filter((e) => isOk(decA, e) && isOk(decB, e));
  warnSkipped(who, skipped);
  return {
    a: toFloatImages(
      decA.rgb,
      kept.map((e) => decA.row.get(e.image)!),
      r.size,
    ),
    b: toFloatImages(
      decB.rgb,
      kept.map((e) => decB.row.get(e.image)!),
      r.size,
    ),
    n: kept.length,
    c: 3,
    h: r.size,
    w: r.size,
    names: kept.map((e) => e.name),
    codes: kept.map((e) => e.code),
    skipped,
  };
}

// ---- unpaired ----

export interface EmojiUnpaired {
  /** Domain A (Noto) images, nA x 3 x h x w. */
  a: Float32Array;
  /** Domain B (Twemoji) images, nB x 3 x h x w. */
  b: Float32Array;
  nA: number;
  nB: number;
  c: 3;
  h: number;
  w: number;
  codesA: string[];
  codesB: string[];
  namesA: string[];
  namesB: string[];
  /** false for train (A and B drawn from disjoint emoji); true for test (a[i] and b[i] are the same emoji). */
  paired: boolean;
  skipped: EmojiSkip[];
}

/**
 * Unpaired domains for CycleGAN-style training. Train: the split's emoji groups are ordered by a
 * seeded hash and dealt alternately into two halves; A takes Noto images of the first half, B
 * Twemoji images of the second, so no training image has its partner. Test: aligned pairs.
 * `limit` caps each domain.
 */
export function loadEmojiUnpaired(options: EmojiPairsOptions): EmojiUnpaired {
  const who = 'loadEmojiUnpaired';
  const r = resolveOptions(who, options);
  if (r.split === 'test') {
    const p = loadEmojiPairs(options);
    return {
      a: p.a,
      b: p.b,
      nA: p.n,
      nB: p.n,
      c: 3,
      h: p.h,
      w: p.w,
      codesA: p.codes,
      codesB: [...p.codes],
      namesA: p.names,
      namesB: [...p.names],
      paired: true,
      skipped: p.skipped,
    };
  }
  const all = pairEntries(r, options.skinTones !== false);
  const groupKeys = [...new Set(all.map((e) => groupOf(r, e)))];
  groupKeys.sort((x, y) => unitHash('half', r.seed, x) - unitHash('half', r.seed, y) || (x < y ? -1 : 1));
  const half = new Map<string, number>(groupKeys.map((g, i) => [g, i % 2]));
  const wantA = all.filter((e) => half.get(groupOf(r, e)) === 0).slice(0, r.limit);
  const wantB = all.filter((e) => half.get(groupOf(r, e)) === 1).slice(0, r.limit);
  const decA = r.decode('google', wantA);
  const decB = r.decode('twitter', wantB);
  const skipped = [...relevantSkips(decA, wantA), ...relevantSkips(decB, wantB)];
  const keptA = wantA.filter((e) => isOk(decA, e));
  const keptB = wantB.filter((e) => isOk(decB, e));
  warnSkipped(who, skipped);
  return {
    a: toFloatImages(
      decA.rgb,
      keptA.map((e) => decA.row.get(e.image)!),
      r.size,
    ),
    b: toFloatImages(
      decB.rgb,
      keptB.map((e) => decB.row.get(e.image)!),
      r.size,
    ),
    nA: keptA.length,
    nB: keptB.length,
    c: 3,
    h: r.size,
    w: r.size,
    codesA: keptA.map((e) => e.code),
    codesB: keptB.map((e) => e.code),
    namesA: keptA.map((e) => e.name),
    namesB: keptB.map((e) => e.name),
    paired: false,
    skipped,
  };
}

// ---- skin tones ----

export interface EmojiSkinToneOptions extends EmojiLoadOptions {
  /** Which artwork (default 'google'). */
  set?: EmojiSet;
}

export interface EmojiSkinTones {
  /** n x 3 x h x w, grouped: image g * 6 + d is emoji group g in domain d. */
  images: Float32Array;
  n: number;
  c: 3;
  h: number;
  w: number;
  numDomains: 6;
  domainNames: readonly string[];
  /** Domain label of each image, 0..5 (SKIN_TONE_DOMAINS). */
  domain: Uint8Array;
  /** Emoji group (index into `groups`) of each image. */
  group: Int32Array;
  /** n x 6: counterpart[i * 6 + d] is the index of image i's emoji in domain d (ground truth). */
  counterpart: Int32Array;
  groups: { base: string; name: string }[];
  codes: string[];
  names: string[];
  skipped: EmojiSkip[];
  /** Groups left out whole: a skipped image, or tones drawn identically (no visible skin). */
  dropped: { base: string; name: string; reason: string }[];
}

/** Emoji with all five skin tones, as six domains (default + 5 tones) of one set, split by emoji. */
export function loadEmojiSkinTones(options: EmojiSkinToneOptions): EmojiSkinTones {
  const who = 'loadEmojiSkinTones';
  const set = checkSet(options.set ?? 'google');
  const r = resolveOptions(who, options);
  const catalogue = emojiPackage(set).catalogue;
  // Group the catalogue's variants by base: [default, tone 1..5]; prefer 'X' keys over 'X-X'.
  const byBase = new Map<string, (EmojiEntry | undefined)[]>();
  for (const e of catalogue) {
    if (!e.hasImage[set] || e.tone < 0) continue;
    let slots = byBase.get(e.base);
    if (!slots) byBase.set(e.base, (slots = Array.from({ length: 6 }, (): EmojiEntry | undefined => undefined)));
    if (!slots[e.tone] || (e.toneKey !== null && !e.toneKey.includes('-'))) slots[e.tone] = e;
  }
  const candidates: EmojiEntry[][] = [];
  for (const slots of byBase.values()) {
    if (slots.every((s) => s !== undefined) && inSplit(r, slots[0]!)) candidates.push(slots as EmojiEntry[]);
  }
  const chosen = candidates.slice(0, r.limit);
  const flat = chosen.flat();
  const dec = r.decode(set, flat);
  const skipped = relevantSkips(dec, flat);
  const dropped: EmojiSkinTones['dropped'] = [];
  const kept: EmojiEntry[][] = [];
  for (const slots of chosen) {
    const base = slots[0];
    if (!slots.every((e) => isOk(dec, e))) {
      dropped.push({ base: base.code, name: base.name, reason: 'an image of the group was skipped' });
      continue;
    }
    // Some artwork draws every tone the same (e.g. a snowboarder in full gear): no translation to learn.
    const light = dec.row.get(slots[1].image)! * 3 * PLANE;
    const dark = dec.row.get(slots[5].image)! * 3 * PLANE;
    let same = true;
    for (let j = 0; j < 3 * PLANE && same; j++) same = dec.rgb[light + j] === dec.rgb[dark + j];
    if (same) {
      dropped.push({ base: base.code, name: base.name, reason: 'light and dark tones are identical images' });
      continue;
    }
    kept.push(slots);
  }
  warnSkipped(who, skipped);
  const entries = kept.flat();
  const n = entries.length;
  const domain = new Uint8Array(n);
  const group = new Int32Array(n);
  const counterpart = new Int32Array(n * 6);
  for (let i = 0; i < n; i++) {
    const g = Math.floor(i / 6);
    domain[i] = i % 6;
    group[i] = g;
    for (let d = 0; d < 6; d++) counterpart[i * 6 + d] = g * 6 + d;
  }
  return {
    images: toFloatImages(
      dec.rgb,
      entries.map((e) => dec.row.get(e.image)!),
      r.size,
    ),
    n,
    c: 3,
    h: r.size,
    w: r.size,
    numDomains: 6,
    domainNames: SKIN_TONE_DOMAINS,
    domain,
    group,
    counterpart,
    groups: kept.map((s) => ({ base: s[0].code, name: s[0].name })),
    codes: entries.map((e) => e.code),
    names: entries.map((e) => e.name),
    skipped,
    dropped,
  };
}

// ---- text ----

export interface EmojiTextOptions extends EmojiPairsOptions {
  set: EmojiSet;
}

export interface EmojiText {
  images: Float32Array;
  n: number;
  c: 3;
  h: number;
  w: number;
  codes: string[];
  names: string[];
  shortNames: string[][];
  /** Category label of each image: an index into categoryNames (same order in every split). */
  category: Uint8Array;
  categoryNames: string[];
  subcategory: Uint16Array;
  subcategoryNames: string[];
  /** Lowercase words of name + short names + category, first occurrence kept. */
  tokens: string[][];
  /** tokens joined with spaces. */
  text: string[];
  skipped: EmojiSkip[];
}

/** Lowercase words (letters and digits, any script): 'St. Barthélemy Flag' -> ['st', 'barthélemy', 'flag']. */
export function tokenize(s: string): string[] {
  return s
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

/** The text of one catalogue entry, as loadEmojiText tokenises it. */
export function emojiTokens(e: EmojiEntry): string[] {
  const words = [...tokenize(e.name), ...e.shortNames.flatMap(tokenize), ...tokenize(e.category)];
  return [...new Set(words)];
}

/** One set's images with names, tokens and category labels (StackGAN text, conditional GANs). */
export function loadEmojiText(options: EmojiTextOptions): EmojiText {
  const who = 'loadEmojiText';
  const set = checkSet(options.set);
  const r = resolveOptions(who, options);
  const { categories, subcategories } = emojiCategories(set);
  const wanted = emojiPackage(set)
    .catalogue.filter((e) => e.hasImage[set] && (options.skinTones !== false || e.toneKey === null) && inSplit(r, e))
    .slice(0, r.limit);
  const dec = r.decode(set, wanted);
  const skipped = relevantSkips(dec, wanted);
  const kept = wanted.filter((e) => isOk(dec, e));
  warnSkipped(who, skipped);
  const tokens = kept.map(emojiTokens);
  return {
    images: toFloatImages(
      dec.rgb,
      kept.map((e) => dec.row.get(e.image)!),
      r.size,
    ),
    n: kept.length,
    c: 3,
    h: r.size,
    w: r.size,
    codes: kept.map((e) => e.code),
    names: kept.map((e) => e.name),
    shortNames: kept.map((e) => [...e.shortNames]),
    category: Uint8Array.from(kept, (e) => categories.indexOf(e.category)),
    categoryNames: categories,
    subcategory: Uint16Array.from(kept, (e) => subcategories.indexOf(e.subcategory)),
    subcategoryNames: subcategories,
    tokens,
    text: tokens.map((t) => t.join(' ')),
    skipped,
  };
}

/** A word list with id 0 = '<pad>' and 1 = '<unk>', then words by falling count (ties alphabetical). */
export interface Vocabulary {
  words: string[];
  index: Map<string, number>;
  padId: 0;
  unkId: 1;
}

/** Build a vocabulary from tokenised texts (usually the train split's). */
export function buildVocabulary(
  texts: readonly (readonly string[])[],
  { minCount = 1, maxSize = Infinity }: { minCount?: number; maxSize?: number } = {},
): Vocabulary {
  const counts = new Map<string, number>();
  for (const t of texts) for (const w of t) counts.set(w, (counts.get(w) ?? 0) + 1);
  const ranked = [...counts].filter(([, c]) => c >= minCount).sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const words = ['<pad>', '<unk>', ...ranked.slice(0, Math.max(0, maxSize - 2)).map(([w]) => w)];
  return { words, index: new Map(words.map((w, i) => [w, i])), padId: 0, unkId: 1 };
}

/** Token ids, truncated or padded (with padId) to maxLength; unknown words map to unkId. */
export function encodeTokens(vocab: Vocabulary, tokens: readonly string[], maxLength: number): Int32Array {
  const out = new Int32Array(maxLength);
  for (let i = 0; i < Math.min(maxLength, tokens.length); i++) out[i] = vocab.index.get(tokens[i]) ?? vocab.unkId;
  return out;
}

/** Word counts over the vocabulary (a fixed-length text embedding input). */
export function bagOfWords(vocab: Vocabulary, tokens: readonly string[]): Float32Array {
  const out = new Float32Array(vocab.words.length);
  for (const t of tokens) out[vocab.index.get(t) ?? vocab.unkId] += 1;
  return out;
}

// ---- edges ----

export interface EdgeMapOptions {
  /** Sobel magnitude threshold on luminance in [0, 1] (a unit step gives 4). Default 0.5. */
  threshold?: number;
  /** Output channels: 1, or c copies so edges stand in for the images (default c). */
  channels?: number;
}

/**
 * Edge maps like edges2shoes, the CPU reference: luminance (Rec. 601) of NCHW images in [-1, 1],
 * Sobel gradient with replicated borders, non-maximum suppression along the gradient direction
 * (one-pixel-wide lines), then a threshold. Edges are black (-1) on white (1).
 */
export function edgeMapCpu(images: Float32Array, n: number, c: number, h: number, w: number, options: EdgeMapOptions = {}): Float32Array {
  const { threshold = 0.5, channels = c } = options;
  if (c !== 1 && c !== 3) throw new Error(`edgeMapCpu: images must have 1 or 3 channels, got ${c}`);
  if (![n, h, w].every((d) => Number.isInteger(d) && d > 0)) throw new Error(`edgeMapCpu: bad shape [${n}, ${c}, ${h}, ${w}]`);
  if (images.length < n * c * h * w)
    throw new Error(`edgeMapCpu: [${n}, ${c}, ${h}, ${w}] needs ${n * c * h * w} values, got ${images.length}`);
  if (!Number.isInteger(channels) || channels < 1) throw new Error(`edgeMapCpu: channels must be a positive integer, got ${channels}`);
  const hw = h * w;
  const out = new Float32Array(n * channels * hw);
  const lum = new Float32Array(hw);
  const mag = new Float32Array(hw);
  const dir = new Uint8Array(hw); // gradient direction quantised to 0: -, 1: /, 2: |, 3: \
  const at = (y: number, x: number) => lum[Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))];
  const TAN22 = Math.tan(Math.PI / 8);
  for (let k = 0; k < n; k++) {
    const base = k * c * hw;
    for (let p = 0; p < hw; p++) {
      const v = c === 3 ? 0.299 * images[base + p] + 0.587 * images[base + hw + p] + 0.114 * images[base + 2 * hw + p] : images[base + p];
      lum[p] = (v + 1) / 2;
    }
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const gx = at(y - 1, x + 1) + 2 * at(y, x + 1) + at(y + 1, x + 1) - at(y - 1, x - 1) - 2 * at(y, x - 1) - at(y + 1, x - 1);
        const gy = at(y + 1, x - 1) + 2 * at(y + 1, x) + at(y + 1, x + 1) - at(y - 1, x - 1) - 2 * at(y - 1, x) - at(y - 1, x + 1);
        const p = y * w + x;
        mag[p] = Math.hypot(gx, gy);
        const ax = Math.abs(gx);
        const ay = Math.abs(gy);
        dir[p] = ay <= ax * TAN22 ? 0 : ax <= ay * TAN22 ? 2 : gx * gy > 0 ? 3 : 1;
      }
    }
    const edge = new Uint8Array(hw);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = y * w + x;
        const m = mag[p];
        if (m < threshold) continue;
        // Neighbours across the edge (along the gradient); out-of-image neighbours count as 0.
        const [dy, dx] = dir[p] === 0 ? [0, 1] : dir[p] === 2 ? [1, 0] : dir[p] === 3 ? [1, 1] : [1, -1];
        const m1 = y + dy < h && x + dx >= 0 && x + dx < w ? mag[(y + dy) * w + x + dx] : 0;
        const m2 = y - dy >= 0 && x - dx >= 0 && x - dx < w ? mag[(y - dy) * w + x - dx] : 0;
        // Strict on one side, so a two-pixel plateau keeps exactly one pixel.
        if (m >= m1 && m > m2) edge[p] = 1;
      }
    }
    for (let ch = 0; ch < channels; ch++) {
      const o = (k * channels + ch) * hw;
      for (let p = 0; p < hw; p++) out[o + p] = edge[p] ? -1 : 1;
    }
  }
  return out;
}
