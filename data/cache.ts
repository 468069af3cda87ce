// On-disk cache for decoded datasets (Node only). Decoding a few thousand PNGs takes seconds; the
// decoded arrays are kept as one safetensors file per (dataset, options) under .cache/data/
// (gitignored), so the second run reads a single file instead.
//
// Layout: <dir>/<dataset>-<16 hex of sha256(canonical key)>.safetensors, holding the arrays as
// tensors and, in the safetensors metadata, the full key, the version string and a JSON payload
// for anything that is not an array (names, skip lists). The version (package versions plus the
// loader's format revision) is checked on read but is not part of the file name, so a new package
// version overwrites the stale file instead of leaving it behind. Writes are atomic (temp file +
// rename), so a killed run never leaves a half-written cache. A corrupt or mismatched file is a
// miss, never an error: the caller rebuilds and overwrites it.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../engine/io/safetensors.js';
import { writeFileAtomicSync } from '../engine/io/files.js';

export interface CacheKey {
  /** Short dataset name, used in the file name: letters, digits, '-', '_'. */
  dataset: string;
  /** Everything that changes the content (JSON-serialisable; object key order does not matter). */
  options: Record<string, unknown>;
  /** Versions of the inputs (e.g. 'emoji-datasource-google@16.0.0/fmt1'): a mismatch is a miss. */
  version: string;
}

export interface CacheOptions {
  /** Cache directory; default $GAN_DATA_CACHE or <cwd>/.cache/data. */
  dir?: string;
  /** false: neither read nor write (always build). Default true. */
  enabled?: boolean;
}

export interface CachedArrays<M = unknown> {
  tensors: Record<string, SafetensorsTensor>;
  /** The JSON payload stored beside the arrays. */
  meta: M;
}

export interface CacheResult<M = unknown> extends CachedArrays<M> {
  /** True when the data came from the file. */
  hit: boolean;
  /** The cache file (whether or not it was used). */
  path: string;
}

const KEY_FIELD = 'cache.key';
const VERSION_FIELD = 'cache.version';
const META_FIELD = 'cache.meta';

export function defaultCacheDir(): string {
  return process.env.GAN_DATA_CACHE || join(process.cwd(), '.cache', 'data');
}

/** JSON with object keys sorted at every level, so equal keys serialise identically. */
export function canonicalJson(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v as object).sort()) {
        const x = (v as Record<string, unknown>)[k];
        if (x !== undefined) out[k] = sortKeys(x);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(sortKeys(value));
}

function keyText(key: CacheKey): string {
  return canonicalJson({ dataset: key.dataset, options: key.options });
}

export function cachePath(key: CacheKey, dir: string = defaultCacheDir()): string {
  if (!/^[A-Za-z0-9_-]+$/.test(key.dataset))
    throw new Error(`cache: dataset name '${key.dataset}' must use only letters, digits, '-' and '_'`);
  const digest = createHash('sha256').update(keyText(key)).digest('hex').slice(0, 16);
  return join(dir, `${key.dataset}-${digest}.safetensors`);
}

/** Read a cache entry; null when absent, written for another key or version, or unreadable (warned). */
export function readCache<M = unknown>(key: CacheKey, options: CacheOptions = {}): CachedArrays<M> | null {
  if (options.enabled === false) return null;
  const path = cachePath(key, options.dir);
  if (!existsSync(path)) return null;
  try {
    const file = decodeSafetensors(readFileSync(path), `cache file '${path}'`);
    // A different key can only share the name through a hash collision; check anyway.
    if (file.metadata[KEY_FIELD] !== keyText(key) || file.metadata[VERSION_FIELD] !== key.version) return null;
    const metaText = file.metadata[META_FIELD];
    return { tensors: file.tensors, meta: (metaText === undefined ? null : JSON.parse(metaText)) as M };
  } catch (e) {
    console.warn(`cache: ignoring unreadable '${path}' (${(e as Error).message}); it will be rebuilt`);
    return null;
  }
}

/** Write a cache entry atomically (replacing any previous one for this key). Returns the path. */
export function writeCache<M>(key: CacheKey, entry: CachedArrays<M>, options: CacheOptions = {}): string {
  const path = cachePath(key, options.dir);
  const metadata: Record<string, string> = {
    [KEY_FIELD]: keyText(key),
    [VERSION_FIELD]: key.version,
    [META_FIELD]: JSON.stringify(entry.meta ?? null),
  };
  writeFileAtomicSync(path, encodeSafetensors(entry.tensors, metadata));
  return path;
}

/**
 * Return the cached entry for `key`, or build it, store it and return it. A failed write (read-only
 * disk, full disk) is warned about and the freshly built data returned anyway.
 */
export function cached<M>(key: CacheKey, build: () => CachedArrays<M>, options: CacheOptions = {}): CacheResult<M> {
  const path = cachePath(key, options.dir);
  const found = readCache<M>(key, options);
  if (found) return { ...found, hit: true, path };
  const built = build();
  if (options.enabled !== false) {
    try {
      writeCache(key, built, options);
    } catch (e) {
      console.warn(`cache: could not store '${path}': ${(e as Error).message}`);
    }
  }
  return { ...built, hit: false, path };
}
