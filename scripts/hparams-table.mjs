#!/usr/bin/env node
// Writes docs/hyperparameters.md from the recipes in nets/*.ts (cli/hparams_table.ts does the work):
//   node scripts/hparams-table.mjs           write the file
//   node scripts/hparams-table.mjs --check   exit 1 if the committed file differs (writes nothing)
// The TypeScript is bundled with esbuild (scripts/esbuild-options.mjs, as scripts/build.mjs does) into a temporary file and
// imported from there. tests/hparams_table.test.ts makes the same comparison inside the test suite.
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { nodeOptions, root } from './esbuild-options.mjs';

const target = path.join(root, 'docs', 'hyperparameters.md');
const check = process.argv.includes('--check');

const dir = mkdtempSync(path.join(tmpdir(), 'gan-hparams-'));
let text;
try {
  const outfile = path.join(dir, 'hparams.mjs');
  await build({
    stdin: {
      contents: "export { hyperparameterTable } from './cli/hparams_table.ts'; export { recipes } from './nets/registry.ts';",
      resolveDir: root,
      sourcefile: 'hparams-entry.ts',
      loader: 'ts',
    },
    ...nodeOptions,
    outfile,
  });
  const { hyperparameterTable, recipes } = await import(pathToFileURL(outfile).href);
  text = hyperparameterTable(recipes);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const rel = path.relative(process.cwd(), target) || target;
if (check) {
  let old = '';
  try {
    old = readFileSync(target, 'utf8');
  } catch {
    // missing: differs
  }
  if (old !== text) {
    process.stderr.write(`${rel} is out of date: run node scripts/hparams-table.mjs\n`);
    process.exit(1);
  }
  process.stdout.write(`${rel} is current\n`);
} else {
  writeFileSync(target, text);
  process.stdout.write(`wrote ${rel} (${text.split('\n').length} lines)\n`);
}
