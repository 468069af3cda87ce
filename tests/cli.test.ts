// The `gan` CLI as a user runs it: bundle it (this file's own copy of dist/gan.mjs), spawn it,
// check exit codes, the one-line errors, and the files a tiny training run writes; then resume that run and check the resumed
// losses equal an uninterrupted run's, sample from the checkpoint, and round-trip it through the
// PyTorch state_dict format. Training runs are tiny (ngf = ndf = 4, batch 4, 6 steps).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodePngNode } from '../data/png_node.js';
import { decodeSafetensors, encodeSafetensors } from '../engine/io/safetensors.js';
import { DATASETS } from '../cli/datasets.js';
import { loadMnist } from '../data/mnist.js';
import { recipes } from '../nets/registry.js';
import { buildPrivateCli } from './support/cli_bundle.js';

const root = resolve(__dirname, '..');
/** This file's private CLI bundle (tests/support/cli_bundle.ts): no other file's build swaps it under a child. */
let bin: string;
let tmp: string;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stderr without the Vulkan loader / Dawn notices that native code prints on its own. */
  errors: string[];
}

function gan(args: string[], env: Record<string, string> = {}): Result {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 300_000 });
  const errors = r.stderr.split('\n').filter((l) => l.trim() && !/^(Warning: |\s+at )/.test(l));
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, errors };
}

const TINY = ['--batch', '4', '--ngf', '4', '--ndf', '4', '--nz', '16', '--limit', '64', '--log-every', '1'];

function metrics(dir: string): { step: number; lossD: number; lossG: number; D_x: number }[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

beforeAll(async () => {
  bin = await buildPrivateCli('cli');
  tmp = mkdtempSync(join(tmpdir(), 'gan-cli-'));
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  if (bin) rmSync(bin, { force: true });
});

describe('gan CLI: usage', () => {
  it('prints help for the program and every subcommand', () => {
    const top = gan(['--help']);
    expect(top.code).toBe(0);
    for (const c of ['train', 'sample', 'eval', 'info', 'convert', 'bench']) expect(top.stdout).toContain(c);
    const train = gan(['train', 'dcgan', '--help']);
    expect(train.code).toBe(0);
    for (const f of [
      '--steps',
      '--batch',
      '--lr',
      '--seed',
      '--image-size',
      '--ngf',
      '--ndf',
      '--nz',
      '--out',
      '--sample-every',
      '--ckpt-every',
      '--resume',
      '--quick',
      '--paper',
    ]) {
      expect(train.stdout).toContain(f);
    }
    // Help examples name models through cli/common.ts's exampleModel(): each one a registered model.
    const models = Object.keys(recipes);
    for (const c of ['sample', 'eval', 'info', 'convert']) {
      const r = gan([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toMatch(/Usage: gan/);
      const named = [...r.stdout.matchAll(/runs\/([a-z0-9-]+?)-\d{8}-\d{6}\/|--pretrained ([a-z0-9-]+) /g)].map((m) => m[1] ?? m[2]);
      expect(named.length, `${c}: models named in the help examples`).toBeGreaterThan(0);
      for (const m of named) expect(models, `${c} --help names '${m}'`).toContain(m);
    }
    expect(gan(['train', '--help']).code).toBe(0);
  });

  it('rejects unknown flags and bad values with one line and exit code 2', () => {
    const cases: [string[], RegExp][] = [
      [['train', 'dcgan', '--bogus'], /unknown option --bogus/],
      [['train', 'dcgan', '--stpes', '5'], /did you mean --steps/],
      [['train', 'dcgan', '--batch', 'abc'], /--batch expects an integer/],
      [['train', 'dcgan', '--batch', '0'], /--batch must be/],
      [['train', 'dcgan', '--image-size', '48'], /--image-size must be a power of two/],
      [['train', 'dcgan', '--lr', '-1'], /--lr must be/],
      [['train', 'nosuchgan'], /unknown model 'nosuchgan'/],
      [['train'], /missing <model>/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['sample'], /missing argument <checkpoint>/],
      [['info', '--bogus'], /unknown option --bogus/],
    ];
    for (const [args, re] of cases) {
      const r = gan(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(re);
    }
  });

  it('names an unreadable checkpoint in one line and exits 1', () => {
    const missing = join(tmp, 'nope', 'checkpoint.safetensors');
    const garbage = join(tmp, 'garbage.safetensors');
    writeFileSync(garbage, 'this is not a safetensors file at all');
    const notRun = join(tmp, 'plain.safetensors');
    writeFileSync(notRun, encodeSafetensors({ w: { dtype: 'F32', shape: [1], data: new Float32Array([1]) } }, { format: 'pt' }));
    for (const [args, path] of [
      [['train', 'dcgan', '--resume', missing], missing],
      [['sample', garbage], garbage],
      [['sample', notRun], notRun],
      [['eval', '--ckpt', missing], missing],
    ] as const) {
      const r = gan([...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toContain(path);
    }
  });

  it('says clearly when there is no adapter (exit 1)', () => {
    const r = gan(['info'], { VK_ICD_FILENAMES: join(tmp, 'no-driver.json'), VK_DRIVER_FILES: join(tmp, 'no-driver.json') });
    expect(r.code).toBe(1);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^gan info: No WebGPU adapter found/);
  });

  it('info prints the adapter, its limits and features, and the models', () => {
    const r = gan(['info']);
    expect(r.code).toBe(0);
    for (const s of [
      'Adapter',
      'Limits',
      'maxStorageBufferBindingSize',
      'maxComputeWorkgroupStorageSize',
      'Features',
      'timestamp-query',
      'dcgan',
    ]) {
      expect(r.stdout).toContain(s);
    }
    const j = gan(['info', '--json']);
    expect(j.code).toBe(0);
    const info = JSON.parse(j.stdout);
    expect(info.models).toContain('dcgan');
    expect(info.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
  });

  it('eval without a checkpoint says which flag is missing, in one line, exit 2', () => {
    const r = gan(['eval', 'dcgan']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/gan eval: .*--ckpt PATH/);
  });
});

describe('gan CLI: training runs', () => {
  let full: string;

  it('train dcgan writes sample grids, metrics and a checkpoint', () => {
    full = join(tmp, 'full');
    const r = gan(['train', 'dcgan', ...TINY, '--steps', '6', '--sample-every', '3', '--out', full]);
    expect(r.errors.filter((l) => /error/i.test(l))).toEqual([]);
    expect(r.code).toBe(0);
    for (const f of [
      'samples/step_00000.png',
      'samples/step_00003.png',
      'samples/step_00006.png',
      'final.png',
      'metrics.jsonl',
      'checkpoint.safetensors',
      'run.json',
    ]) {
      expect(existsSync(join(full, f)), f).toBe(true);
    }
    // An 8x8 grid of 32x32 images with 2-pixel padding.
    const png = decodePngNode(readFileSync(join(full, 'final.png')));
    expect([png.width, png.height]).toEqual([8 * 34 + 2, 8 * 34 + 2]);
    const m = metrics(full);
    expect(m.map((x) => x.step)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const x of m)
      for (const k of ['lossD', 'lossG', 'D_x', 'D_G_z1', 'D_G_z2', 'stepsPerSec'] as const)
        expect(Number.isFinite((x as Record<string, number>)[k]), k).toBe(true);
    const ck = decodeSafetensors(readFileSync(join(full, 'checkpoint.safetensors')));
    expect(ck.metadata.step).toBe('6');
    for (const k of ['netG.main.0.weight', 'netD.main.0.weight', 'netG.main.1.running_mean', 'optim.netG.0.m', 'optim.netD.0.v'])
      expect(ck.tensors[k], k).toBeDefined();
    expect(JSON.parse(ck.metadata.extra).loader).toMatchObject({ seed: 1, epoch: 0 });
    expect(JSON.parse(ck.metadata.rng).train.offset).toBeGreaterThan(0);
    expect(r.stdout).toContain('checkpoint.safetensors');
    expect(JSON.parse(readFileSync(join(full, 'run.json'), 'utf8'))).toMatchObject({
      model: 'dcgan',
      preset: 'full',
      settings: { steps: 6 },
    });
  });

  it('--resume continues exactly: the same losses as the uninterrupted run', () => {
    const half = join(tmp, 'half');
    expect(gan(['train', 'dcgan', ...TINY, '--steps', '3', '--sample-every', '3', '--out', half]).code).toBe(0);
    const resumed = gan(['train', 'dcgan', '--resume', join(half, 'checkpoint.safetensors'), '--steps', '6']);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/resuming from step 3/);
    // run.json keeps the preset the run started from.
    expect(JSON.parse(readFileSync(join(half, 'run.json'), 'utf8'))).toMatchObject({ preset: 'full', settings: { steps: 6 } });
    const a = metrics(full);
    const b = metrics(half);
    expect(b.map((x) => x.step)).toEqual([1, 2, 3, 4, 5, 6]);
    for (let i = 0; i < 6; i++) {
      expect(b[i].lossD, `lossD step ${i + 1}`).toBe(a[i].lossD);
      expect(b[i].lossG, `lossG step ${i + 1}`).toBe(a[i].lossG);
      expect(b[i].D_x, `D_x step ${i + 1}`).toBe(a[i].D_x);
    }
    expect(readFileSync(join(half, 'final.png'))).toEqual(readFileSync(join(full, 'final.png')));
    // A resumed run keeps its architecture.
    const clash = gan(['train', 'dcgan', '--resume', join(half, 'checkpoint.safetensors'), '--steps', '9', '--ngf', '8']);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/--ngf 8 differs from the checkpoint's 4/);
  });

  it("sample reproduces the run's final grid from its checkpoint", () => {
    const out = join(tmp, 'sampled.png');
    const r = gan(['sample', join(full, 'checkpoint.safetensors'), '--out', out]);
    expect(r.code).toBe(0);
    expect(readFileSync(out)).toEqual(readFileSync(join(full, 'final.png')));
    const other = join(tmp, 'sampled16.png');
    expect(gan(['sample', join(full, 'checkpoint.safetensors'), '--out', other, '--n', '16', '--seed', '5', '--running-stats']).code).toBe(
      0,
    );
    const png = decodePngNode(readFileSync(other));
    expect([png.width, png.height]).toEqual([8 * 34 + 2, 2 * 34 + 2]);
  });

  it('convert: checkpoint -> PyTorch state_dicts -> checkpoint keeps every weight, and reports mismatches', () => {
    const ptDir = join(tmp, 'pt');
    const toPt = gan(['convert', join(full, 'checkpoint.safetensors'), '--out', ptDir]);
    expect(toPt.code).toBe(0);
    const g = decodeSafetensors(readFileSync(join(ptDir, 'netG.safetensors')));
    const d = decodeSafetensors(readFileSync(join(ptDir, 'netD.safetensors')));
    expect(Object.keys(g.tensors)).toContain('main.0.weight');
    expect(g.tensors['main.1.num_batches_tracked'].dtype).toBe('I64');
    expect(Object.keys(d.tensors)).toContain('main.8.weight');

    const back = join(tmp, 'converted.safetensors');
    const toEngine = gan(['convert', join(ptDir, 'netD.safetensors'), join(ptDir, 'netG.safetensors'), '--out', back]);
    expect(toEngine.code).toBe(0);
    expect(toEngine.stdout).toMatch(/netG .*: 19 keys matched/);
    expect(toEngine.stdout).toMatch(/netD .*: 14 keys matched/);
    expect(toEngine.stdout).toMatch(/0 missing, 0 unexpected, 0 shape mismatches/);
    const ck = decodeSafetensors(readFileSync(back));
    const orig = decodeSafetensors(readFileSync(join(full, 'checkpoint.safetensors')));
    for (const k of ['netG.main.0.weight', 'netD.main.2.weight', 'netG.main.1.running_var']) {
      expect(Array.from(ck.tensors[k].data as Float32Array), k).toEqual(Array.from(orig.tensors[k].data as Float32Array));
    }
    expect(JSON.parse(ck.metadata.config).config).toMatchObject({ imageSize: 32, nz: 16, ngf: 4, ndf: 4, nc: 1 });
    const out = join(tmp, 'from-converted.png');
    expect(gan(['sample', back, '--out', out]).code).toBe(0);

    // A state_dict with a renamed key: the report names it and nothing is written.
    const bad = join(tmp, 'bad-netG.safetensors');
    const tensors = { ...g.tensors, 'main.1.gamma': g.tensors['main.1.weight'] };
    delete (tensors as Record<string, unknown>)['main.1.weight'];
    writeFileSync(bad, encodeSafetensors(tensors));
    const r = gan(['convert', bad, '--out', join(tmp, 'bad.safetensors')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/missing\s+main\.1\.weight/);
    expect(r.stdout).toMatch(/unexpected\s+main\.1\.gamma/);
    expect(existsSync(join(tmp, 'bad.safetensors'))).toBe(false);
  });

  it('info describes a checkpoint and a state_dict without a GPU: run, parameter counts, optimisers', () => {
    // The tiny DCGAN (nz 16, ngf 4, 32 px) by hand: conv-transposes 16->16, 16->8, 8->4, 4->1 (4x4,
    // no bias) and batch norm scale + shift after the first three.
    const netG = 16 * 16 * 16 + 16 * 8 * 16 + 8 * 4 * 16 + 4 * 1 * 16 + 2 * (16 + 8 + 4);
    const ckPath = join(full, 'checkpoint.safetensors');
    const r = gan(['info', ckPath], { VK_ICD_FILENAMES: join(tmp, 'no-driver.json'), VK_DRIVER_FILES: join(tmp, 'no-driver.json') });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/model\s+dcgan/);
    expect(r.stdout).toMatch(/step\s+6 of 6/);
    expect(r.stdout).toContain(`netG   ${netG.toLocaleString('en-US')} parameters in 10 tensors, 9 buffers`);
    const j = JSON.parse(gan(['info', ckPath, '--json']).stdout);
    expect(j.networks.netG.parameters).toBe(netG);
    // netD from its tensors: every float tensor that is not a running statistic.
    const ck = decodeSafetensors(readFileSync(ckPath));
    const netD = Object.entries(ck.tensors)
      .filter(([k]) => k.startsWith('netD.') && !/running_|num_batches/.test(k))
      .reduce((a, [, t]) => a + t.shape.reduce((x, y) => x * y, 1), 0);
    expect(j.networks.netD.parameters).toBe(netD);
    expect(j.optimizers.netG).toMatchObject({ type: 'Adam', steps: 6 });
    const pt = JSON.parse(gan(['info', join(tmp, 'pt', 'netG.safetensors'), '--json']).stdout);
    expect(pt.parameters).toBe(netG);
    expect(pt.tensors).toBe(10 + 9);
    const bad = gan(['info', join(tmp, 'nope.safetensors')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('gan CLI: Stacked MNIST', () => {
  it('the stacked-mnist dataset: 3 channels, each a padded training digit, labelled with its mode 100 r + 10 g + b', async () => {
    const entry = DATASETS['stacked-mnist'];
    expect(entry.channels).toBe(3);
    const d = await entry.load({ size: 32, limit: 12 });
    expect([d.n, d.channels, d.size, ...d.sampleShape]).toEqual([12, 3, 32, 3, 32, 32]);
    expect(d.data.length).toBe(12 * 3 * 32 * 32);
    expect(Array.from((await entry.load({ size: 32, limit: 12 })).data)).toEqual(Array.from(d.data)); // fixed seed
    // Every channel is some MNIST training digit padded to 32 with background (-1); the label is the
    // mode of those digits. The index holds the 28 x 28 originals (no padded copy of the whole split).
    const mnist = loadMnist({ split: 'train' });
    const hw = 32 * 32;
    const raw = 28 * 28;
    const interior = (img: Float32Array) => {
      const out = new Float32Array(raw);
      for (let y = 0; y < 28; y++) out.set(img.subarray((y + 2) * 32 + 2, (y + 2) * 32 + 30), y * 28);
      return out;
    };
    const index = new Map<string, number[]>();
    const key = (a: Float32Array) => {
      // A hash of the pixels (as 0..255 levels): equal images, equal keys.
      let h1 = 0x811c9dc5;
      let h2 = 0;
      for (let i = 0; i < a.length; i++) {
        const v = Math.round((a[i] + 1) * 127.5);
        h1 = Math.imul(h1 ^ v, 16777619);
        h2 = (h2 * 31 + v * (i + 1)) % 2147483647;
      }
      return `${h1}:${h2}`;
    };
    for (let j = 0; j < mnist.n; j++) {
      const k = key(mnist.images.subarray(j * raw, (j + 1) * raw));
      index.set(k, [...(index.get(k) ?? []), mnist.labels[j]]);
    }
    for (let i = 0; i < d.n; i++) {
      const mode = d.labels![i];
      const digits = [Math.floor(mode / 100), Math.floor(mode / 10) % 10, mode % 10];
      for (let ch = 0; ch < 3; ch++) {
        const img = d.data.subarray((i * 3 + ch) * hw, (i * 3 + ch + 1) * hw);
        const inside = interior(img);
        const inBorder = (p: number) => p < 2 * 32 || p >= 30 * 32 || p % 32 < 2 || p % 32 >= 30;
        expect(
          img.every((v, p) => !inBorder(p) || v === -1),
          `example ${i} channel ${ch}: the 2-pixel border is background`,
        ).toBe(true);
        const labels = index.get(key(inside));
        expect(labels, `example ${i} channel ${ch} is not an MNIST training digit`).toBeDefined();
        expect(labels, `example ${i} (mode ${mode}) channel ${ch}`).toContain(digits[ch]);
      }
    }
    expect(new Set(Array.from(d.labels!)).size).toBeGreaterThan(6); // not one mode repeated
  });

  it('train madgan and gman on stacked-mnist: 3-channel networks from the data, finite losses', () => {
    for (const [model, extra] of [
      ['madgan', ['--k', '2']],
      ['gman', ['--n', '2']],
    ] as const) {
      const dir = join(tmp, `stacked-${model}`);
      const r = gan(['train', model, '--dataset', 'stacked-mnist', ...TINY, ...extra, '--steps', '2', '--out', dir]);
      expect(
        r.errors.filter((l) => /error/i.test(l)),
        model,
      ).toEqual([]);
      expect(r.code, model).toBe(0);
      expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'))).toMatchObject({ model, dataset: 'stacked-mnist', config: { nc: 3 } });
      for (const m of metrics(dir)) for (const k of ['lossD', 'lossG'] as const) expect(Number.isFinite(m[k]), `${model} ${k}`).toBe(true);
      const ck = decodeSafetensors(readFileSync(join(dir, 'checkpoint.safetensors')));
      // D's first convolution reads 3 channels; G's last convolution-transpose writes 3.
      const first = Object.keys(ck.tensors).find((k) => k.startsWith('netD.') && k.endsWith('main.0.weight'))!;
      expect(ck.tensors[first].shape[1], `${model} ${first}`).toBe(3);
      const gConvs = Object.entries(ck.tensors).filter(([k, t]) => k.startsWith('netG.') && k.endsWith('.weight') && t.shape.length === 4);
      expect(
        gConvs.some(([, t]) => t.shape[1] === 3),
        model,
      ).toBe(true);
    }
  });
});
