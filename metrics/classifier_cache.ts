// The weights cache of the small judge networks `gan eval` trains itself (Node only: it reads and
// writes files): load a trained ConvClassifier from .cache/metrics/ (or $GAN_METRICS_CACHE) when its
// file is there and readable, otherwise train it from its recipe (deterministic from the seed) and
// write it, a plain PyTorch-style state_dict with string metadata. The file name is the key: it
// must change with everything the weights depend on (recipe, data version, format). Used by the
// StarGAN skin-tone classifier (cli/eval_stargan.ts), the emoji feature net (cli/eval_emoji.ts) and
// the MNIST LeNet (lenet.ts).

import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { saveModel } from '../engine/checkpoint_node.js';
import { loadModelBytes } from '../engine/checkpoint.js';
import { loadSafetensorsFile } from '../engine/io/files.js';
import type { ConvClassifier } from './classifier.js';

export interface CachedClassifier {
  net: ConvClassifier;
  path: string;
  /** True when the weights came from the cache file. */
  cached: boolean;
  /** The file's metadata (cached) or what `train` returned (fresh). */
  metadata: Record<string, string>;
}

export interface CachedClassifierOptions {
  /** Cache file (its name is the key). */
  path: string;
  /** What the net is, for log lines ('domain classifier', 'emoji net'). */
  what: string;
  /** A fresh, initialised net of the recipe's shape. */
  create: () => ConvClassifier;
  /** Trains the fresh net; returns the metadata to store with it (recipe, accuracy, seconds). */
  train: (net: ConvClassifier) => Promise<Record<string, string>>;
  /** Throws when a readable file's metadata says it is stale (then the net is retrained). */
  check?: (metadata: Record<string, string>) => void;
  /** Ignore an existing file and retrain. */
  retrain?: boolean;
  log?: (line: string) => void;
}

/** The net from its cache file, or trained (and cached) when the file is missing or unreadable. */
export async function loadOrTrainClassifier(o: CachedClassifierOptions): Promise<CachedClassifier> {
  const log = o.log ?? (() => {});
  if (!o.retrain && existsSync(o.path)) {
    const net = o.create();
    try {
      const file = await loadSafetensorsFile(o.path);
      o.check?.(file.metadata);
      loadModelBytes(file, net, { source: `${o.what} cache '${o.path}'` });
      net.eval();
      return { net, path: o.path, cached: true, metadata: file.metadata };
    } catch (e) {
      net.dispose();
      log(`${o.what}: ignoring unreadable '${o.path}' (${(e as Error).message}); retraining`);
    }
  }
  const net = o.create();
  const metadata = await o.train(net);
  net.eval();
  try {
    mkdirSync(dirname(o.path), { recursive: true });
    await saveModel(o.path, net, metadata);
  } catch (e) {
    log(`${o.what}: could not cache the weights at '${o.path}': ${(e as Error).message}`);
  }
  return { net, path: o.path, cached: false, metadata };
}
