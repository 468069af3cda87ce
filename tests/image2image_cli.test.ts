// `gan train` / `gan eval` for image-to-image models, end to end with tiny runs: pix2pix on
// edges -> emoji at batch 1 (the papers' batch size; the edge maps made on the GPU) writes loss
// lines and held-out L1 / PSNR / SSIM lines to metrics.jsonl and input | output | target grids;
// `gan eval` scores that checkpoint and a tiny CycleGAN checkpoint against the held-out pairs,
// for the trained, the untrained (seeded) and the identity model, checked against float64 CPU
// metrics computed here; `gan sample` on that checkpoint draws held-out input | output | target
// rows (inputs and targets the test split's images, outputs the restored model's translation
// computed here); `gan train stargan` logs held-out metrics and draws StarGAN's held-out domain
// grids, and `gan sample` draws the same layout from its checkpoint; a model that cannot train on
// one example says so (exit 2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initEngine, tensor } from '../engine/index.js';
import { decodePngNode } from '../data/png_node.js';
import { loadEmojiPairs, loadEmojiSkinTones, loadEmojiUnpaired } from '../data/emoji.js';
import { loadEmojiEdges } from '../data/emoji_edges.js';
import { l1Cpu, psnrCpu, ssimCpu } from '../metrics/image.js';
import { CycleGanTrainer } from '../nets/cyclegan.js';
import { packPairs, packUnpaired } from '../data/pairs.js';
import { cycleganRecipe } from '../nets/cyclegan.js';
import { Pix2pixTrainer, pix2pixRecipe } from '../nets/pix2pix.js';
import { loadRunCheckpoint, restoreTrainer, saveRunCheckpoint } from '../cli/checkpoint_io.js';
import { buildPrivateCli } from './support/cli_bundle.js';
import { configOf } from './support/util.js';

const root = resolve(__dirname, '..');
/** This file's private CLI bundle (tests/support/cli_bundle.ts): no other file's build swaps it under a child. */
let bin: string;
let tmp: string;

function gan(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  const errors = r.stderr
    .split('\n')
    .filter(
      (l) =>
        l.trim() &&
        !/^(Warning: |\s+at )/.test(l) &&
        !/^(gan train \w+: new run| {2}\w+=| {2}parameters: )/.test(l) &&
        !/\d+\/\d+ .*%/.test(l),
    );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, errors };
}

const byte = (v: number) => Math.min(255, Math.max(0, Math.floor(((v + 1) / 2) * 255 + 0.5)));

/** Pixel (y, x, ch) of cell (row, col) of a makeGrid PNG with `size` px cells and 2 px padding. */
function cellPixel(
  png: { data: Uint8Array; width: number; channels: number },
  size: number,
  row: number,
  col: number,
  y: number,
  x: number,
  ch: number,
): number {
  return png.data[((2 + row * (size + 2) + y) * png.width + 2 + col * (size + 2) + x) * png.channels + ch];
}

/** Every pixel of grid cell (row, col) against image k of `images` (k x 3 x size x size in [-1, 1]), within `tol` levels. */
function expectCell(
  png: { data: Uint8Array; width: number; channels: number },
  size: number,
  row: number,
  col: number,
  images: Float32Array,
  k: number,
  tol = 0,
  what = '',
): void {
  let worst = 0;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      for (let ch = 0; ch < 3; ch++) {
        worst = Math.max(worst, Math.abs(cellPixel(png, size, row, col, y, x, ch) - byte(images[((k * 3 + ch) * size + y) * size + x])));
      }
  expect(worst, `${what} cell (${row}, ${col})`).toBeLessThanOrEqual(tol);
}

type Scores = { n: number; l1: number; psnr: number; ssim: number; ssimWindow: number };
interface EvalJson {
  model: string;
  kind: string;
  n: number;
  dataset: string;
  metrics: Scores;
  untrained: Scores;
  identity: Scores | null;
}

/** The identity baseline's scores computed here, in float64 on the CPU. */
function expectIdentity(got: Scores, a: Float32Array, b: Float32Array, n: number, size: number): void {
  const s = { n, c: 3, h: size, w: size };
  expect(got.l1).toBeCloseTo(l1Cpu(a, b, s).mean, 5);
  expect(got.psnr).toBeCloseTo(psnrCpu(a, b, s).mean, 3);
  expect(got.ssim).toBeCloseTo(ssimCpu(a, b, s, { window: got.ssimWindow }).mean, 3);
}

beforeAll(async () => {
  bin = await buildPrivateCli('i2i');
  tmp = mkdtempSync(join(tmpdir(), 'gan-i2i-cli-'));
  await initEngine();
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  if (bin) rmSync(bin, { force: true });
});

describe('gan train / gan eval for image-to-image models', () => {
  it('pix2pix on emoji-edges at batch 1: losses and held-out metrics in metrics.jsonl, input | output | target grids, then eval', async () => {
    const dir = join(tmp, 'p2p');
    const r = gan([
      'train',
      'pix2pix',
      '--dataset',
      'emoji-edges',
      '--batch',
      '1',
      '--steps',
      '2',
      '--image-size',
      '32',
      '--net-g',
      'unet_32',
      '--net-d',
      'patch16',
      '--ngf',
      '2',
      '--ndf',
      '2',
      '--limit',
      '8',
      '--log-every',
      '1',
      '--sample-every',
      '1',
      '--out',
      dir,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.errors).toEqual([]);
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
    const losses = lines.filter((l) => 'loss_G_L1' in l);
    const held = lines.filter((l) => 'heldout_l1' in l);
    expect(losses.map((l) => l.step)).toEqual([1, 2]);
    for (const l of losses)
      for (const k of ['loss_G_GAN', 'loss_G_L1', 'loss_D_real', 'loss_D_fake']) expect(Number.isFinite(l[k]), k).toBe(true);
    expect(held.map((l) => l.step)).toEqual([0, 1, 2]);
    for (const l of held) {
      expect(l.heldout_n).toBe(16);
      for (const k of ['heldout_l1', 'heldout_psnr', 'heldout_ssim']) expect(Number.isFinite(l[k]), k).toBe(true);
    }

    // 16 held-out pairs, 8 per row: input, output, target rows twice; 32 px cells, 2 px padding.
    const png = decodePngNode(readFileSync(join(dir, 'samples', 'step_00001.png')));
    expect([png.width, png.height]).toEqual([8 * 34 + 2, 6 * 34 + 2]);
    const e = await loadEmojiEdges({ split: 'test', size: 32, limit: 16 });
    const px = (row: number, col: number, y: number, x: number, ch: number) =>
      png.data[((2 + row * 34 + y) * png.width + 2 + col * 34 + x) * png.channels + ch];
    for (const [row, src] of [
      [0, e.edges],
      [2, e.images],
    ] as const) {
      for (let y = 0; y < 32; y += 5)
        for (let x = 0; x < 32; x += 3)
          for (let ch = 0; ch < 3; ch++) {
            expect(px(row, 1, y, x, ch), `row ${row}`).toBe(byte(src[((1 * 3 + ch) * 32 + y) * 32 + x]));
          }
    }

    const ev = gan(['eval', '--ckpt', join(dir, 'checkpoint.safetensors'), '--n', '12', '--batch', '5']);
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stdout).toMatch(/trained .*\n.*untrained \(seeded init\) .*\n.*identity \(output = input\)/);
    const j = JSON.parse(readFileSync(join(dir, 'checkpoint.eval.json'), 'utf8')) as EvalJson;
    expect([j.model, j.kind, j.n, j.dataset]).toEqual(['pix2pix', 'translation', 12, 'emoji-edges']);
    const per = 3 * 32 * 32;
    expectIdentity(j.identity!, e.edges.subarray(0, 12 * per), e.images.subarray(0, 12 * per), 12, 32);
    for (const m of [j.metrics, j.untrained]) for (const k of ['l1', 'psnr', 'ssim'] as const) expect(Number.isFinite(m[k])).toBe(true);
    expect(j.metrics.l1).not.toBe(j.untrained.l1); // two training steps changed the networks
  });

  it('cyclegan: eval scores G_A against the held-out partners', async () => {
    // A tiny checkpoint made in this process: one step on unpaired training emoji.
    const s = 16;
    const config = configOf(cycleganRecipe, { imageSize: s, netG: 'resnet_3blocks', netD: 'patch16', ngf: 2, ndf: 2 });
    const settings = { ...cycleganRecipe.train, steps: 1, batch: 2 };
    const trainer = new CycleGanTrainer(cycleganRecipe.parse(config), settings, 3);
    const u = loadEmojiUnpaired({ split: 'train', size: s, limit: 2 });
    const batch = tensor(packUnpaired(u.a, u.nA, u.b, u.nB, 3, s, s), [2, 6, s, s]);
    trainer.step(batch, false);
    const path = join(tmp, 'cyclegan.safetensors');
    await saveRunCheckpoint(path, trainer, {
      model: 'cyclegan',
      config,
      settings,
      seed: 3,
      step: 1,
      loader: null,
      dataset: 'emoji-unpaired',
      limit: 2,
    });
    batch.dispose();
    trainer.dispose();

    const ev = gan(['eval', 'cyclegan', '--ckpt', path, '--n', '10']);
    expect(ev.code, ev.stderr).toBe(0);
    const j = JSON.parse(readFileSync(join(tmp, 'cyclegan.eval.json'), 'utf8')) as EvalJson;
    expect([j.model, j.kind, j.n, j.dataset]).toEqual(['cyclegan', 'translation', 10, 'emoji-unpaired']);
    expect(j.metrics.ssimWindow).toBe(11);
    const p = loadEmojiPairs({ split: 'test', size: s, limit: 10 });
    expectIdentity(j.identity!, p.a, p.b, 10, s);
    expect(j.metrics.l1).not.toBe(j.untrained.l1);
  });

  it('gan sample on the pix2pix checkpoint: held-out input | output | target rows of the test split', async () => {
    const dir = join(tmp, 'p2p'); // written by the first test
    const target = join(tmp, 'p2p-sample.png');
    const r = gan(['sample', join(dir, 'checkpoint.safetensors'), '--n', '5', '--nrow', '3', '--out', target]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/rows of input \| output \| target for 5 A -> B held-out pairs of 'emoji-edges'/);
    // Two groups of 3 columns (the second padded): input, output, target rows each.
    const png = decodePngNode(readFileSync(target));
    expect([png.width, png.height]).toEqual([3 * 34 + 2, 6 * 34 + 2]);
    const e = await loadEmojiEdges({ split: 'test', size: 32, limit: 5 });
    // The restored model's translation, computed here (eval mode, as the translate hook).
    const ck = await loadRunCheckpoint('test', join(dir, 'checkpoint.safetensors'));
    const trainer = pix2pixRecipe.create(ck.info.config, ck.info.settings, ck.info.seed);
    restoreTrainer('test', 'ckpt', ck, trainer, false);
    const x = tensor(e.edges, [5, 3, 32, 32]);
    const y = pix2pixRecipe.translate(trainer, x);
    const pred = await y.data();
    x.dispose();
    y.dispose();
    for (let k = 0; k < 5; k++) {
      const [g, col] = [Math.floor(k / 3), k % 3];
      expectCell(png, 32, 3 * g, col, e.edges, k, 0, 'input');
      expectCell(png, 32, 3 * g + 1, col, pred, k, 1, 'output');
      expectCell(png, 32, 3 * g + 2, col, e.images, k, 0, 'target');
    }
    for (const col of [2]) for (let row = 3; row < 6; row++) expect(cellPixel(png, 32, row, col, 16, 16, 0)).toBe(255); // padding cells are white
  });

  it('gan sample --dropout: several outputs of each held-out input with dropout on, and their spread; with dropout off they are identical', async () => {
    // A tiny pix2pix checkpoint with dropout in G (unet_32_dropout), one step on training pairs.
    const s = 32;
    const config = configOf(pix2pixRecipe, { imageSize: s, netG: 'unet_32_dropout', netD: 'patch16', ngf: 4, ndf: 2 });
    const settings = { ...pix2pixRecipe.train, steps: 1, batch: 2 };
    const trainer = new Pix2pixTrainer(pix2pixRecipe.parse(config), settings, 5);
    const p = loadEmojiPairs({ split: 'train', size: s, limit: 2 });
    const batch = tensor(packPairs(p.a, p.b, 2, 3, 3, s, s), [2, 6, s, s]);
    trainer.step(batch, false);
    const path = join(tmp, 'p2p-dropout.safetensors');
    await saveRunCheckpoint(path, trainer, {
      model: 'pix2pix',
      config,
      settings,
      seed: 5,
      step: 1,
      loader: null,
      dataset: 'emoji-pairs',
      limit: 2,
    });
    batch.dispose();
    trainer.dispose();

    const k = 3;
    const cells = (png: { data: Uint8Array; width: number; channels: number }, row: number) =>
      Array.from({ length: k + 3 }, (_, col) => {
        const v: number[] = [];
        for (let y = 0; y < s; y++)
          for (let x = 0; x < s; x++) for (let ch = 0; ch < 3; ch++) v.push(cellPixel(png, s, row, col, y, x, ch));
        return v;
      });
    const t = loadEmojiPairs({ split: 'test', size: s, limit: 2 });
    const spreadOf = (stdout: string) => [...stdout.matchAll(/mean per-pixel spread ([\d.]+)/g)].map((m) => Number(m[1]));

    const on = join(tmp, 'p2p-dropout-on.png');
    const r = gan(['sample', path, '--dropout', '--samples', String(k), '--n', '2', '--out', on]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/rows of input \| 3 outputs \| spread .*\| target, dropout on/);
    const png = decodePngNode(readFileSync(on));
    expect([png.width, png.height]).toEqual([(k + 3) * (s + 2) + 2, 2 * (s + 2) + 2]);
    expect(spreadOf(r.stdout)[0]).toBeGreaterThan(0);
    for (let row = 0; row < 2; row++) {
      expectCell(png, s, row, 0, t.a, row, 0, 'input');
      expectCell(png, s, row, k + 2, t.b, row, 0, 'target');
      const c = cells(png, row);
      for (let i = 1; i <= k; i++)
        for (let j = i + 1; j <= k; j++) expect(c[i], `row ${row}: outputs ${i} and ${j} differ`).not.toEqual(c[j]);
      expect(Math.max(...c[k + 1]), `row ${row}: the spread cell is not black`).toBeGreaterThan(0);
    }

    const off = join(tmp, 'p2p-dropout-off.png');
    const r2 = gan(['sample', path, '--samples', String(k), '--n', '2', '--out', off]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stdout).toMatch(/dropout off/);
    expect(spreadOf(r2.stdout)).toEqual([0]);
    const png2 = decodePngNode(readFileSync(off));
    for (let row = 0; row < 2; row++) {
      const c = cells(png2, row);
      for (let i = 2; i <= k; i++) expect(c[i], `row ${row}: output ${i} equals output 1`).toEqual(c[1]);
      expect(Math.max(...c[k + 1]), `row ${row}: the spread cell is black`).toBe(0);
    }

    // A generator without dropout layers cannot keep dropout on: said plainly.
    const plain = join(tmp, 'p2p-nodrop.safetensors');
    const t2 = new Pix2pixTrainer(pix2pixRecipe.parse({ ...config, netG: 'unet_32' }), settings, 5);
    await saveRunCheckpoint(plain, t2, {
      model: 'pix2pix',
      config: { ...config, netG: 'unet_32' },
      settings,
      seed: 5,
      step: 0,
      loader: null,
      dataset: 'emoji-pairs',
      limit: 2,
    });
    t2.dispose();
    const r3 = gan(['sample', plain, '--dropout', '--n', '1', '--out', join(tmp, 'nodrop.png')]);
    expect(r3.code).not.toBe(0);
    expect(r3.stderr).toMatch(/netG \(--net-g unet_32\) has no dropout layer.*unet_32_dropout/);
  });

  it('gan train stargan: held-out metrics and domain grids; gan sample draws its held-out domain grid', async () => {
    const dir = join(tmp, 'stargan');
    const s = 16;
    const r = gan([
      'train',
      'stargan',
      '--image-size',
      String(s),
      '--g-conv-dim',
      '2',
      '--d-conv-dim',
      '2',
      '--g-repeat-num',
      '1',
      '--batch',
      '2',
      '--steps',
      '1',
      '--limit',
      '6',
      '--log-every',
      '1',
      '--sample-every',
      '0',
      '--out',
      dir,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.errors).toEqual([]);
    const held = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>)
      .filter((l) => 'heldout_l1' in l);
    expect(held.map((l) => l.step)).toEqual([0, 1]);
    for (const l of held) {
      expect(l.heldout_n).toBeGreaterThan(1);
      for (const k of ['heldout_l1', 'heldout_psnr', 'heldout_ssim']) expect(Number.isFinite(l[k]), k).toBe(true);
    }
    // 8 held-out images: 1 + 6 columns, two rows each (translations, ground truth).
    const grid = decodePngNode(readFileSync(join(dir, 'samples', 'step_00001.png')));
    expect([grid.width, grid.height]).toEqual([7 * (s + 2) + 2, 16 * (s + 2) + 2]);

    const target = join(tmp, 'stargan-sample.png');
    const sr = gan(['sample', join(dir, 'checkpoint.safetensors'), '--n', '2', '--out', target]);
    expect(sr.code, sr.stderr).toBe(0);
    const png = decodePngNode(readFileSync(target));
    expect([png.width, png.height]).toEqual([7 * (s + 2) + 2, 4 * (s + 2) + 2]);
    // Inputs: the first test emoji in the default domain; below the outputs, their ground truth in each domain.
    const t = loadEmojiSkinTones({ split: 'test', size: s, limit: 2 });
    const src = Array.from({ length: t.n }, (_, i) => i).filter((i) => t.domain[i] === 0);
    for (let k = 0; k < 2; k++) {
      expectCell(png, s, 2 * k, 0, t.images, src[k], 0, 'input');
      for (let d = 0; d < 6; d++) expectCell(png, s, 2 * k + 1, 1 + d, t.images, t.counterpart[src[k] * 6 + d], 0, 'ground truth');
      expect(cellPixel(png, s, 2 * k + 1, 0, 8, 8, 0)).toBe(255); // blank first cell of a ground-truth row
    }
    // The translations: not constant within a cell, and different from the input.
    for (let d = 0; d < 6; d++) {
      const v = new Set<number>();
      let diff = 0;
      for (let y = 0; y < s; y++)
        for (let x = 0; x < s; x++) {
          v.add(cellPixel(png, s, 0, 1 + d, y, x, 1));
          diff += Math.abs(cellPixel(png, s, 0, 1 + d, y, x, 1) - cellPixel(png, s, 0, 0, y, x, 1));
        }
      expect(v.size, `domain ${d}`).toBeGreaterThan(10);
      expect(diff, `domain ${d}`).toBeGreaterThan(0);
    }
  });

  it('a model that cannot train on one example says so at its first step (exit 2, one line)', () => {
    // StackGAN++'s conditioning MLP has batch norm over [N, features]: one value per channel at N = 1.
    // (GMAN used to be the example: since each D gets a full batch, as in the reference, it trains at 1.)
    const r = gan(['train', 'stackganpp', '--quick', '--batch', '1', '--steps', '2', '--limit', '64', '--out', join(tmp, 'stackganpp')]);
    expect(r.code).toBe(2);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(
      /^gan train stackganpp: --batch 1 does not work for this model: batch_norm: training needs more than 1 value per channel, got x \[1, \d+\]/,
    );
  });
});
