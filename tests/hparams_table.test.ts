// The --paper preset of every model (cli/train.ts resolveTrainRun: what a command line resolves to,
// without training) and docs/hyperparameters.md, generated from the recipes (cli/hparams_table.ts,
// scripts/hparams-table.mjs): the committed file must equal what the script writes now.

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { recipes, type ModelRecipe } from '../nets/registry.js';
import { resolveTrainRun, type Resolved } from '../cli/train.js';
import { CliError } from '../cli/common.js';
import { hyperparameterTable, modelHparams } from '../cli/hparams_table.js';

const root = resolve(__dirname, '..');
const BOOKKEEPING = ['sampleEvery', 'ckptEvery', 'logEvery'];

async function resolved(r: ModelRecipe, argv: string[]): Promise<Resolved> {
  const run = await resolveTrainRun(r, argv);
  if (!run) throw new Error(`${r.name} ${argv.join(' ')}: resolved to nothing (help?)`);
  return run;
}

/** A resolved run's value of a preset key: a training setting or a model option. */
function presetValue(run: Resolved, key: string): unknown {
  return key in run.settings ? (run.settings as unknown as Record<string, unknown>)[key] : run.config[key];
}

/** What a key is without any preset: the recipe's training default or the option's default. */
function defaultOf(r: ModelRecipe, key: string): unknown {
  return key in r.train ? (r.train as unknown as Record<string, unknown>)[key] : r.options[key]?.default;
}

async function usageErrorOf(p: Promise<unknown>): Promise<CliError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CliError) return e;
    throw e;
  }
  throw new Error('expected a usage error');
}

describe('gan train --paper', () => {
  it('resolves for every model to a valid config carrying every value of its paper preset', async () => {
    for (const r of Object.values(recipes)) {
      const run = await resolved(r, ['--paper']);
      expect(run.preset, r.name).toBe('paper');
      expect(r.validate(run.config), r.name).toEqual([]);
      for (const [k, v] of Object.entries(r.paper.values)) expect(presetValue(run, k), `${r.name} ${k}`).toEqual(v);
      // Keys the preset does not set keep the full recipe's values (keys derived from the data,
      // such as nc, follow the preset's dataset instead).
      const full = await resolved(r, []);
      expect(full.preset, r.name).toBe('full');
      for (const k of Object.keys(r.options)) if (!(k in r.paper.values)) expect(run.config[k], `${r.name} ${k}`).toEqual(full.config[k]);
      for (const k of Object.keys(full.settings))
        if (!(k in r.paper.values)) expect(presetValue(run, k), `${r.name} ${k}`).toEqual(presetValue(full, k));
    }
  });

  it('has a paper preset for every model whose values are options or settings of the recipe, each with a source', () => {
    for (const r of Object.values(recipes)) {
      expect(r.paper.note.length, r.name).toBeGreaterThan(20);
      for (const k of Object.keys(r.paper.values)) {
        expect(k in r.train || k in r.options, `${r.name}: ${k}`).toBe(true);
        expect(r.paper.sources[k], `${r.name}: source of ${k}`).toBeTruthy();
      }
      for (const k of r.paper.unconfirmed ?? []) expect(k in r.train || k in r.options, `${r.name}: unconfirmed ${k}`).toBe(true);
    }
    // The values the issue found off-paper in the full recipes are the paper's in the preset.
    expect(recipes.dcgan.paper.values).toMatchObject({ ngf: 128, ndf: 128, lr: 2e-4, batch: 128, imageSize: 64 });
    expect(recipes.began.paper.values).toMatchObject({ imageSize: 64, nf: 128 });
    expect(recipes.stackgan.paper.values).toMatchObject({ stage1Size: 64, resBlocks: 4 });
  });

  it('lets explicit flags override the preset, and says so in run.preset', async () => {
    const run = await resolved(recipes.dcgan, ['--paper', '--steps', '7', '--ngf', '8']);
    expect(run.preset).toBe('paper');
    expect(run.settings.steps).toBe(7);
    expect(run.config.ngf).toBe(8);
    expect(run.config.ndf).toBe(128);
    expect(run.settings.batch).toBe(128);
    expect((await resolved(recipes.dcgan, ['--quick'])).preset).toBe('quick');
  });

  it('refuses --paper with --quick, and with --resume, in one usage line (exit 2)', async () => {
    for (const argv of [
      ['--paper', '--quick'],
      ['--quick', '--paper'],
    ]) {
      const e = await usageErrorOf(resolveTrainRun(recipes.ebgan, argv));
      expect(e.exitCode).toBe(2);
      expect(e.message).toMatch(/^gan train ebgan: --quick and --paper are two different presets/);
      expect(e.message.split('\n')).toHaveLength(1);
    }
    const e = await usageErrorOf(
      resolveTrainRun(recipes.dcgan, ['--paper', '--resume', join(root, 'no-such-run', 'checkpoint.safetensors')]),
    );
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/--paper sets up a new run/);
  });
});

describe('docs/hyperparameters.md', () => {
  it('lists exactly the hyper-parameters whose paper, full and quick values are not all equal', () => {
    let rows = 0;
    for (const r of Object.values(recipes)) {
      const m = modelHparams(r);
      const keys = new Set([...Object.keys(r.quick), ...Object.keys(r.paper.values)].filter((k) => !BOOKKEEPING.includes(k)));
      const differing = [...keys].filter((k) => {
        const d = defaultOf(r, k);
        return (r.quick[k] ?? d) !== d || (r.paper.values[k] ?? d) !== d;
      });
      expect(m.rows.map((row) => row.key).sort(), r.name).toEqual(differing.sort());
      for (const row of m.rows) {
        expect(row.full, `${r.name} ${row.key}`).toEqual(defaultOf(r, row.key));
        expect(row.quick, `${r.name} ${row.key}`).toEqual(r.quick[row.key] ?? defaultOf(r, row.key));
        expect(row.paper, `${r.name} ${row.key}`).toEqual(r.paper.values[row.key] ?? defaultOf(r, row.key));
      }
      rows += m.rows.length;
    }
    expect(rows).toBeGreaterThan(Object.keys(recipes).length);
  });

  it('is what the script generates from the recipes now', () => {
    const committed = readFileSync(join(root, 'docs', 'hyperparameters.md'), 'utf8');
    expect(committed).toBe(hyperparameterTable(recipes));
    // The script itself (esbuild bundle of the same code) agrees, and its --check says so.
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'hparams-table.mjs'), '--check'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('is linked from the README', () => {
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain('(docs/hyperparameters.md)');
  });
});
