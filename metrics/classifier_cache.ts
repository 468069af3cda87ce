// The weights of the small judge networks `gan eval` scores with (Node only: it reads and writes
// files). A trained ConvClassifier comes from, in order:
//   1. the shipped judges, zoo/judges/<file> (or $GAN_JUDGES_DIR/<file>): trained once by this engine
//      and committed, so `gan eval` from a fresh clone trains nothing (docs/zoo.md, "Judges");
//   2. the cache, .cache/metrics/<file> (or $GAN_METRICS_CACHE/<file>);
//   3. training from its recipe (deterministic from the seed), then written to the cache.
// Each file is a plain PyTorch-style state_dict with string metadata. The file name is the key: it
// must change with everything the weights depend on (recipe, data version, format). A file found in
// 1 or 2 is used only when its metadata holds what the loader expects (`expect`: the recipe, the
// format version), so a renamed or stale file is passed over, never silently used. Used by the
// StarGAN skin-tone classifier (cli/eval_domains.ts), the emoji feature net (cli/eval_emoji.ts) and
// the MNIST LeNet (lenet.ts).

import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveModel } from '../engine/checkpoint_node.js';
import { loadModelBytes } from '../engine/checkpoint.js';
import { loadSafetensorsFile } from '../engine/io/files.js';
import type { Module } from '../engine/nn/module.js';
import type { ConvClassifier } from './classifier.js';

/**
 * The folder of the shipped judges: $GAN_JUDGES_DIR, else zoo/judges/ under the current directory
 * when there is one, else the zoo/judges/ of the tree this module (or the CLI bundle, dist/gan.mjs)
 * sits in: a clone's shipped judges wherever the command is run from.
 */
export function shippedJudgesDir(): string {
  if (process.env.GAN_JUDGES_DIR) return resolve(process.env.GAN_JUDGES_DIR);
  const here = resolve('zoo', 'judges');
  if (existsSync(here)) return here;
  try {
    const beside = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'zoo', 'judges');
    if (existsSync(beside)) return beside;
  } catch {
    /* not a file URL (bundled elsewhere): fall through */
  }
  return here;
}

/** Where a judge is shipped: the shipped-judges folder, under its cache file's name. */
export function shippedJudgePath(cachePath: string, dir = shippedJudgesDir()): string {
  return join(dir, basename(cachePath));
}

/** A JSON value with its object keys sorted (so two recipes compare whatever their key order). */
export function canonical(v: unknown): string {
  const sort = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(sort)
      : x && typeof x === 'object'
        ? Object.fromEntries(
            Object.keys(x as object)
              .sort()
              .map((k) => [k, sort((x as Record<string, unknown>)[k])]),
          )
        : x;
  return JSON.stringify(sort(v));
}

/**
 * Throws unless `metadata` holds every entry of `expect`: a string entry equal to the string, any
 * other value (a recipe object, a number) equal to the entry read as JSON, key order aside.
 */
export function checkJudgeMetadata(metadata: Record<string, string>, expect: Record<string, unknown>): void {
  for (const [k, want] of Object.entries(expect)) {
    const have = metadata[k];
    if (have === undefined) throw new Error(`its metadata has no '${k}' (expected ${canonical(want)})`);
    let got: unknown = have;
    if (typeof want !== 'string') {
      try {
        got = JSON.parse(have);
      } catch {
        throw new Error(`its metadata '${k}' is ${have}, not JSON (expected ${canonical(want)})`);
      }
    }
    if (canonical(got) !== canonical(want)) throw new Error(`its metadata '${k}' is ${canonical(got)}, expected ${canonical(want)}`);
  }
}

/** What the store keeps: a net, or something that holds one (a trainer whose network is the judge). */
export interface Disposable {
  dispose(): void;
}

export interface CachedClassifier<T extends Disposable = ConvClassifier> {
  net: T;
  /** The file the weights came from (shipped or cache), or the cache file they were written to. */
  path: string;
  /** True when the weights came from a file (shipped or cache), false when they were trained now. */
  cached: boolean;
  /** Where the weights came from. */
  source: 'shipped' | 'cache' | 'trained';
  /** The file's metadata (cached) or what `train` returned (fresh). */
  metadata: Record<string, string>;
}

export interface CachedClassifierOptions<T extends Disposable = ConvClassifier> {
  /** Cache file (its name is the key). */
  path: string;
  /**
   * The shipped file to read before the cache (default: shippedJudgePath(path), zoo/judges/<name>);
   * null: none.
   */
  shipped?: string | null;
  /** Metadata a shipped or cached file must hold to be used (checkJudgeMetadata): the recipe, the format. */
  expect?: Record<string, unknown>;
  /** What the net is, for log lines ('domain classifier', 'emoji net'). */
  what: string;
  /** A fresh, initialised net of the recipe's shape. */
  create: () => T;
  /** Trains the fresh net; returns the metadata to store with it (recipe, accuracy, seconds). */
  train: (net: T) => Promise<Record<string, string>>;
  /** The module whose state_dict the file holds (default: the net itself, a Module). */
  moduleOf?: (net: T) => Module;
  /** Throws when a readable file's metadata says it is stale (then the net is retrained). */
  check?: (metadata: Record<string, string>) => void;
  /** Ignore the shipped and cached files and retrain. */
  retrain?: boolean;
  log?: (line: string) => void;
}

/**
 * The net from its shipped file, else its cache file, else trained (and cached) when neither is there,
 * readable and of the expected recipe and format.
 */
export async function loadOrTrainClassifier<T extends Disposable = ConvClassifier>(
  o: CachedClassifierOptions<T>,
): Promise<CachedClassifier<T>> {
  const log = o.log ?? (() => {});
  const moduleOf = o.moduleOf ?? ((net: T) => net as unknown as Module);
  const shipped = o.shipped === undefined ? shippedJudgePath(o.path) : o.shipped;
  const candidates: { path: string; source: 'shipped' | 'cache'; where: string }[] = [];
  if (shipped && resolve(shipped) !== resolve(o.path)) candidates.push({ path: shipped, source: 'shipped', where: 'shipped file' });
  candidates.push({ path: o.path, source: 'cache', where: 'cache' });
  for (const c of o.retrain ? [] : candidates) {
    if (!existsSync(c.path)) continue;
    const net = o.create();
    try {
      const file = await loadSafetensorsFile(c.path);
      if (o.expect) checkJudgeMetadata(file.metadata, o.expect);
      o.check?.(file.metadata);
      loadModelBytes(file, moduleOf(net), { source: `${o.what} ${c.where} '${c.path}'` });
      moduleOf(net).eval();
      return { net, path: c.path, cached: true, source: c.source, metadata: file.metadata };
    } catch (e) {
      net.dispose();
      log(`${o.what}: ignoring the ${c.where} '${c.path}' (${(e as Error).message})`);
    }
  }
  const net = o.create();
  let metadata: Record<string, string>;
  try {
    metadata = await o.train(net);
  } catch (e) {
    net.dispose();
    throw e;
  }
  moduleOf(net).eval();
  try {
    mkdirSync(dirname(o.path), { recursive: true });
    await saveModel(o.path, moduleOf(net), metadata);
  } catch (e) {
    log(`${o.what}: could not cache the weights at '${o.path}': ${(e as Error).message}`);
  }
  return { net, path: o.path, cached: false, source: 'trained', metadata };
}
