// The npm package: another project installs this repository and trains a model with it. The test
// builds the library bundles (scripts/build.mjs lib-js; the type declarations take a minute of tsc
// and are left to `npm run build:lib`), packs the repository with `npm pack` (package.json `files`
// and `exports` decide what ships), installs the tarball into a fresh package in the system's temp
// folder, outside the source tree, and runs a script there that imports the package BY NAME
// ('webgpu-gan', 'webgpu-gan/models', 'webgpu-gan/node') and takes one DCGAN training step on the
// Dawn adapter. There is no network here, so "install" is what npm does offline: the tarball is
// unpacked into node_modules/webgpu-gan, and the package's run-time dependencies are linked from
// this repository's node_modules (npm's cache does not hold them).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(path.join(tmpdir(), 'gan-package-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

const CONSUMER = `
import { Tensor, ops, tidy } from 'webgpu-gan';
import { getRecipe } from 'webgpu-gan/models';
import { initNodeEngine } from 'webgpu-gan/node';

await initNodeEngine();
const recipe = getRecipe('dcgan');
const defaults = Object.fromEntries(Object.entries(recipe.options).map(([k, o]) => [k, o.default]));
const config = { ...defaults, imageSize: 32, nc: 1, nz: 8, ngf: 4, ndf: 4 };
const problems = recipe.validate(config);
if (problems.length) throw new Error(problems.join('; '));
const trainer = recipe.create(config, { ...recipe.train, batch: 2 }, 1);
const params = Object.entries(trainer.nets).flatMap(([net, m]) => m.parameters().map((p) => [net, p]));
const before = await Promise.all(params.map(([, p]) => p.data()));
const real = tidy(() => ops.rand([2, 1, 32, 32]).mul(2).sub(1)).keep();
const stats = trainer.step(real, true);
const losses = {};
for (const [k, t] of Object.entries(stats)) {
  losses[k] = await t.item();
  t.dispose();
}
const after = await Promise.all(params.map(([, p]) => p.data()));
const changed = {};
params.forEach(([net], i) => {
  changed[net] ??= { changed: 0, total: 0 };
  changed[net].total++;
  if (after[i].some((v, j) => v !== before[i][j])) changed[net].changed++;
});
const sample = tidy(() => trainer.generate(trainer.noise(1, trainer.rng)));
const result = { losses, changed, sameTensorClass: sample instanceof Tensor && real instanceof Tensor, sampleShape: sample.shape };
console.log('RESULT ' + JSON.stringify(result));
process.exit(0);
`;

describe('npm package', () => {
  it('installs outside the source tree and trains one DCGAN step through its public names', () => {
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), 'lib-js'], { cwd: root, stdio: 'pipe', timeout: 60_000 });

    // npm pack (scripts off: the lib is built above; `prepare` would also run tsc for the types).
    const packDir = path.join(work, 'pack');
    mkdirSync(packDir);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const packed = JSON.parse(
      execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', packDir], {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
      }),
    ) as { filename: string; files: { path: string }[] }[];
    const files = packed[0].files.map((f) => f.path);
    for (const f of ['package.json', 'dist/lib/index.js', 'dist/lib/models.js', 'dist/lib/node.js']) expect(files, f).toContain(f);
    // The built package, not the sources.
    expect(files.filter((f) => /^(engine|nets|tests|cli|data|metrics)\//.test(f))).toEqual([]);

    // The consumer: a package of its own in the temp folder, with webgpu-gan installed in node_modules.
    const app = path.join(work, 'app');
    const installed = path.join(app, 'node_modules', 'webgpu-gan');
    mkdirSync(installed, { recursive: true });
    writeFileSync(
      path.join(app, 'package.json'),
      JSON.stringify({
        name: 'gan-consumer',
        private: true,
        type: 'module',
        dependencies: { 'webgpu-gan': `file:../pack/${packed[0].filename}` },
      }),
    );
    execFileSync('tar', ['-xzf', path.join(packDir, packed[0].filename), '-C', installed, '--strip-components=1'], { timeout: 60_000 });
    const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const dep of Object.keys(manifest.dependencies)) {
      const from = path.join(root, 'node_modules', dep);
      if (existsSync(from)) symlinkSync(from, path.join(app, 'node_modules', dep), 'dir');
    }
    writeFileSync(path.join(app, 'main.mjs'), CONSUMER);
    expect(path.relative(root, app).startsWith('..')).toBe(true);

    const out = execFileSync(process.execPath, [path.join(app, 'main.mjs')], { cwd: app, encoding: 'utf8', timeout: 90_000 });
    const line = out.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line, out).toBeDefined();
    const r = JSON.parse(line!.slice(7)) as {
      losses: Record<string, number>;
      changed: Record<string, { changed: number; total: number }>;
      sameTensorClass: boolean;
      sampleShape: number[];
    };
    expect(Object.keys(r.losses)).toEqual(expect.arrayContaining(['lossD', 'lossG']));
    for (const [k, v] of Object.entries(r.losses)) expect(Number.isFinite(v), `${k} = ${v}`).toBe(true);
    // One step moves every parameter of both networks.
    expect(Object.keys(r.changed).sort()).toEqual(['netD', 'netG']);
    for (const [net, c] of Object.entries(r.changed)) {
      expect(c.total, net).toBeGreaterThan(0);
      expect(c.changed, net).toBe(c.total);
    }
    // The three entry points share one engine: tensors the models make are the main entry's Tensor.
    expect(r.sameTensorClass).toBe(true);
    expect(r.sampleShape).toEqual([1, 1, 32, 32]);
  });
});
