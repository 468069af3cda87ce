// The trained-model zoo (issue 15): scripts/zoo.mjs's float16 export and its load back into float32
// weights, `gan sample --pretrained` on a tiny zoo fixture, `gan train MODEL --recipe zoo`'s flags,
// the target verdicts of the cards, and docs/zoo.md being what `scripts/zoo.mjs cards` writes from
// the committed zoo/ folders.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initEngine } from '../engine/device.js';
import { Generator } from '../engine/ops/random.js';
import { decodePngNode } from '../data/png_node.js';
import { f16ToFloat32, float32ToF16 } from '../engine/io/safetensors.js';
import { recipes, type TrainSettings } from '../nets/registry.js';
import { loadRunCheckpoint, restoreTrainer, saveRunCheckpoint } from '../cli/checkpoint_io.js';
import { fixedNoiseSeed, resolveTrainRun } from '../cli/train.js';
import { pretrainedPath } from '../cli/zoo.js';
import { readCheckpointInfo } from '../cli/checkpoint_io.js';
import { judgeStoreFile } from '../cli/eval.js';
import { checkJudgeMetadata, shippedJudgesDir } from '../metrics/classifier_cache.js';
import { SUPERVISED_BASELINE_NAME, supervisedBaselineKey } from '../nets/triplegan.js';
import { buildPrivateCli } from './support/cli_bundle.js';
import { TINY_STACKGAN, configOf, seeded } from './support/util.js';
// @ts-expect-error: a plain ES module script without type declarations
import * as zoo from '../scripts/zoo.mjs';

const root = resolve(__dirname, '..');
let tmp: string;

beforeAll(async () => {
  await initEngine();
  tmp = mkdtempSync(join(tmpdir(), 'gan-zoo-'));
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** Half precision's rounding bound for a float32 value: half an ulp of binary16 (subnormal spacing 2^-24 below 2^-14). */
const halfBound = (x: number) => (Math.abs(x) < 2 ** -14 ? 2 ** -25 : 2 ** (Math.floor(Math.log2(Math.abs(x))) - 11));

describe('float16 conversion (scripts/zoo.mjs)', () => {
  it("rounds every float32 to the nearest binary16, ties to even, as the engine's converter does", () => {
    const special = [
      0,
      -0,
      1,
      -1,
      65504,
      65519.99,
      65520,
      -70000,
      2 ** -14,
      2 ** -24,
      2 ** -25,
      3 * 2 ** -26,
      2 ** -26,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
      0.1,
      1e-6,
      1e-8,
      // biome-ignore lint/suspicious/noApproximativeNumericConstant: a value with many significant bits, not pi
      3.14159,
    ];
    const values = Float32Array.from([...special, ...seeded(4000, 11, -3, 3), ...Array.from(seeded(2000, 12, -1, 1), (v) => v * 1e-4)]);
    const mine = Uint16Array.from(values, (v) => zoo.toHalfBits(v));
    // Two implementations (float64 arithmetic here, bit manipulation in the engine) agree bit for bit.
    expect(Array.from(mine)).toEqual(Array.from(float32ToF16(values)));
    const back = f16ToFloat32(mine);
    for (let i = 0; i < values.length; i++) {
      const x = values[i];
      if (Math.abs(x) >= 65520) continue;
      expect(Math.abs(back[i] - x), `${x}`).toBeLessThanOrEqual(halfBound(x));
    }
    expect(back[special.indexOf(65520)]).toBe(Infinity);
    expect(Object.is(back[1], -0)).toBe(true);
  });
});

const TINY = { imageSize: 8, nz: 8, ngf: 4, ndf: 4, nc: 1 };
const SETTINGS: TrainSettings = {
  steps: 10,
  batch: 4,
  lr: 2e-4,
  beta1: 0.5,
  beta2: 0.999,
  sampleEvery: 0,
  ckptEvery: 0,
  logEvery: 1,
  dataset: 'mnist',
};

async function paramsOf(net: {
  stateDict(): Map<string, { data(): Promise<Float32Array>; dtype: string }>;
}): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [k, t] of net.stateDict()) if (t.dtype === 'float32') out.set(k, await t.data());
  return out;
}

/** A tiny DCGAN run checkpoint (one training step, so G's weights are not the seeded init) and a zoo folder exported from it. */
async function tinyZoo(): Promise<{ zooDir: string; ckpt: string; trainer: ReturnType<(typeof recipes)['dcgan']['create']> }> {
  const recipe = recipes.dcgan;
  const config = configOf(recipe, TINY);
  const trainer = recipe.create(config, SETTINGS, 3);
  const real = (await import('../engine/tensor.js')).tensor(seeded(4 * 64, 5), [4, 1, 8, 8]);
  trainer.step(real, false);
  real.dispose();
  const run = join(tmp, 'run');
  mkdirSync(run, { recursive: true });
  const ckpt = join(run, 'checkpoint.safetensors');
  // Recorded as seed 4 (trained from 3): a sampler that failed to load the weights would draw its
  // own seed-4 initialisation, nothing like these.
  await saveRunCheckpoint(ckpt, trainer, {
    model: 'dcgan',
    config,
    settings: SETTINGS,
    seed: 4,
    step: 1,
    loader: null,
    dataset: 'mnist',
    limit: 0,
  });
  const zooDir = join(tmp, 'zoo');
  mkdirSync(join(zooDir, 'dcgan'), { recursive: true });
  zoo.exportWeights(ckpt, join(zooDir, 'dcgan', 'dcgan.safetensors'), { ship: ['netG'], zooMeta: { step: 1 } });
  return { zooDir, ckpt, trainer };
}

let fixture: Awaited<ReturnType<typeof tinyZoo>>;
let bundle: string | null = null;
/** This file's private CLI bundle (built once). */
async function cli(): Promise<string> {
  bundle ??= await buildPrivateCli('zoo');
  return bundle;
}
afterAll(() => {
  if (bundle) rmSync(bundle, { force: true });
});

function gan(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [bundle!, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 240_000,
  });
}

describe('zoo export: float16 weights loaded back into float32', () => {
  it('ships only G, in float16, and restores it within half precision of the float32 weights', async () => {
    fixture = await tinyZoo();
    const path = join(fixture.zooDir, 'dcgan', 'dcgan.safetensors');
    const ck = await loadRunCheckpoint('test', path);
    expect(ck.networksOnly).toEqual(['netG']);
    expect(ck.engineInfo.models).toEqual(['netG']);
    expect(Object.keys(ck.engineInfo.optimizers)).toEqual([]);
    const dtypes = new Set(Object.values(ck.file.tensors).map((t) => t.dtype));
    expect(dtypes.has('F16')).toBe(true);
    expect(dtypes.has('F32')).toBe(false);
    expect(Object.keys(ck.file.tensors).every((k) => k.startsWith('netG.'))).toBe(true);
    expect(JSON.parse(ck.file.metadata.zoo).float16Bytes * 2).toBe(JSON.parse(ck.file.metadata.zoo).float32Bytes);

    // A trainer of another seed: its G must become the shipped one, its D stay its own.
    const other = recipes.dcgan.create(ck.info.config, ck.info.settings, 99);
    const dBefore = await paramsOf(other.nets.netD);
    restoreTrainer('test', path, ck, other, false);
    const want = await paramsOf(fixture.trainer.nets.netG);
    const got = await paramsOf(other.nets.netG);
    expect([...got.keys()]).toEqual([...want.keys()]);
    let worst = 0;
    for (const [k, w] of want) {
      const g = got.get(k)!;
      for (let i = 0; i < w.length; i++) {
        const err = Math.abs(g[i] - w[i]);
        expect(err, `${k}[${i}] = ${w[i]} came back as ${g[i]}`).toBeLessThanOrEqual(halfBound(w[i]));
        worst = Math.max(worst, err);
      }
    }
    expect(worst).toBeGreaterThan(0); // it was rounded (not float32 passed through)
    const dAfter = await paramsOf(other.nets.netD);
    for (const [k, v] of dBefore) expect(Array.from(dAfter.get(k)!), k).toEqual(Array.from(v));
  });

  it('refuses a networks-only file without the generator, naming what it holds', async () => {
    const path = join(tmp, 'zoo', 'dcgan', 'd-only.safetensors');
    zoo.exportWeights(fixture.ckpt, path, { ship: ['netD'] });
    const ck = await loadRunCheckpoint('test', path);
    const other = recipes.dcgan.create(ck.info.config, ck.info.settings, 99);
    expect(() => restoreTrainer('gan sample', path, ck, other, false)).toThrow(/holds netD only, not netG/);
    rmSync(path);
  });

  it('gan sample --pretrained dcgan draws the shipped weights (tiny zoo fixture via GAN_ZOO_DIR)', async () => {
    const bin = await cli();
    const png = join(tmp, 'pretrained.png');
    void bin;
    const r = gan(['sample', '--pretrained', 'dcgan', '--n', '8', '--nrow', '8', '--out', png], { GAN_ZOO_DIR: fixture.zooDir });
    expect(r.status, r.stderr).toBe(0);
    // The reference: the float32 trainer itself on the run's fixed sample noise, as the CLI draws it.
    const z = fixture.trainer.noise(8, new Generator(fixedNoiseSeed(4)));
    const x = fixture.trainer.generate(z);
    const ref = await x.data();
    z.dispose();
    x.dispose();
    const img = decodePngNode(readFileSync(png));
    expect([img.width, img.height]).toEqual([8 * 8 + 9 * 2, 8 + 2 * 2]); // 8 tiles of 8 px, 2-px padding
    let worst = 0;
    for (let i = 0; i < 8; i++) {
      for (let y = 0; y < 8; y++) {
        for (let xx = 0; xx < 8; xx++) {
          const px = img.data[((2 + y) * img.width + 2 + i * 10 + xx) * img.channels];
          const want = Math.round(((Math.max(-1, Math.min(1, ref[i * 64 + y * 8 + xx])) + 1) / 2) * 255);
          worst = Math.max(worst, Math.abs(px - want));
        }
      }
    }
    expect(worst).toBeLessThanOrEqual(2); // float16 weights, 8-bit pixels
  });

  it('gan sample / gan eval --pretrained: one line and exit 2 for a model without weights or with a checkpoint as well', async () => {
    await cli();
    const env = { GAN_ZOO_DIR: fixture.zooDir };
    const cases: [string[], RegExp][] = [
      [['sample', '--pretrained', 'began'], /gan sample: --pretrained began: no shipped weights .*shipped: dcgan/],
      [['eval', '--pretrained', 'began'], /gan eval: --pretrained began: no shipped weights .*shipped: dcgan/],
      [['sample', fixture.ckpt, '--pretrained', 'dcgan'], /give a checkpoint or --pretrained dcgan, not both/],
      [['eval', '--ckpt', fixture.ckpt, '--pretrained', 'dcgan'], /give --ckpt or --pretrained dcgan, not both/],
    ];
    for (const [args, re] of cases) {
      const r = gan(args, env);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(re);
    }
  });

  it('names what is shipped and how to train it when a model has no weights', () => {
    const before = process.env.GAN_ZOO_DIR;
    process.env.GAN_ZOO_DIR = fixture.zooDir;
    try {
      expect(pretrainedPath('gan sample', 'dcgan')).toBe(join(fixture.zooDir, 'dcgan', 'dcgan.safetensors'));
      expect(() => pretrainedPath('gan sample', 'began')).toThrow(
        /--pretrained began: no shipped weights .*shipped: dcgan\); train them with gan train began --recipe zoo/,
      );
    } finally {
      if (before === undefined) delete process.env.GAN_ZOO_DIR;
      else process.env.GAN_ZOO_DIR = before;
    }
  });
});

describe("StackGAN's zoo export: both stages and the phase its run reached", () => {
  it('ships the text encoder and both stages, and restores the step counts its phase follows', async () => {
    const recipe = recipes.stackgan;
    const config = configOf(recipe, { ...TINY_STACKGAN, textSteps: 2, stage1Steps: 3 });
    const settings = { ...SETTINGS, dataset: 'emoji-text' };
    const trainer = recipe.create(config, settings, 5);
    // A run that reached Stage-II: the text encoder's and Stage-I's optimisers past their steps (the
    // counts the trainer's phase reads), Stage-II's on its way.
    const counts = { netT: 2, netG: 3, netD: 3, netG2: 4, netD2: 4 } as const;
    for (const [name, o] of Object.entries(trainer.optimizers))
      o.setStepCounts(Object.fromEntries(o.params.map((_, i) => [i, counts[name as keyof typeof counts]])));
    expect(recipe.stages!.reached(trainer)).toBe(2);
    const ckpt = join(tmp, 'stackgan-run.safetensors');
    await saveRunCheckpoint(ckpt, trainer, {
      model: 'stackgan',
      config,
      settings,
      seed: 5,
      step: 7,
      loader: null,
      dataset: 'emoji-text',
      limit: 0,
    });
    const path = join(tmp, 'stackgan.safetensors');
    zoo.exportWeights(ckpt, path, { ship: ['netG'] });

    const ck = await loadRunCheckpoint('test', path);
    expect(ck.networksOnly).toEqual(['netG']);
    const names = Object.keys(ck.file.tensors);
    for (const part of ['netG.text.', 'netG.stage1.', 'netG.stage2.'])
      expect(
        names.some((k) => k.startsWith(part)),
        `${part}* in ${names.slice(0, 5).join(', ')}...`,
      ).toBe(true);
    expect(Object.keys(ck.optimizerSteps ?? {}).sort()).toEqual(Object.keys(counts).sort());

    // A fresh trainer (another seed) restored as gan sample / gan eval --pretrained do (networks only).
    const fresh = recipe.create(ck.info.config, ck.info.settings, 99);
    expect(recipe.stages!.reached(fresh)).toBe(1);
    restoreTrainer('test', path, ck, fresh, false);
    expect(recipe.stages!.phase(fresh)).toBe('stage2');
    expect(recipe.stages!.reached(fresh)).toBe(2);
    for (const [name, o] of Object.entries(fresh.optimizers)) expect(o.stepCount(0), name).toBe(counts[name as keyof typeof counts]);
    const want = await paramsOf(trainer.nets.netG);
    const got = await paramsOf(fresh.nets.netG);
    expect([...got.keys()]).toEqual([...want.keys()]);
    for (const [k, w] of want)
      for (let i = 0; i < w.length; i++) expect(Math.abs(got.get(k)![i] - w[i]), k).toBeLessThanOrEqual(halfBound(w[i]));
  });
});

describe('gan train MODEL --recipe zoo', () => {
  it('takes the flags of zoo/<model>/recipe.json; command-line flags replace them; presets and --resume are refused', async () => {
    const dir = join(tmp, 'zoo-recipes');
    mkdirSync(join(dir, 'dcgan'), { recursive: true });
    writeFileSync(
      join(dir, 'dcgan', 'recipe.json'),
      JSON.stringify({ model: 'dcgan', flags: { ngf: 12, ndf: 6, batch: 24, lr: 0.0004, steps: 777, seed: 5, 'log-every': 7 } }),
    );
    const before = process.env.GAN_ZOO_DIR;
    process.env.GAN_ZOO_DIR = dir;
    try {
      const run = (await resolveTrainRun(recipes.dcgan, ['--recipe', 'zoo', '--out', join(tmp, 'r1')]))!;
      expect(run.preset).toBe('zoo');
      expect(run.config).toMatchObject({ ngf: 12, ndf: 6 });
      expect(run.settings).toMatchObject({ batch: 24, lr: 0.0004, steps: 777, logEvery: 7 });
      expect(run.seed).toBe(5);
      expect(run.argv).toEqual(['--recipe', 'zoo', '--out', join(tmp, 'r1')]);
      const over = (await resolveTrainRun(recipes.dcgan, ['--recipe', 'zoo', '--steps', '3', '--out', join(tmp, 'r2')]))!;
      expect(over.settings.steps).toBe(3);
      expect(over.settings.batch).toBe(24);
      await expect(resolveTrainRun(recipes.dcgan, ['--recipe', 'zoo', '--quick'])).rejects.toThrow(/--recipe zoo and --quick/);
      await expect(resolveTrainRun(recipes.dcgan, ['--recipe', 'paper'])).rejects.toThrow(/--recipe/);
      await expect(resolveTrainRun(recipes.began, ['--recipe', 'zoo'])).rejects.toThrow(/no zoo recipe for began/);
    } finally {
      if (before === undefined) delete process.env.GAN_ZOO_DIR;
      else process.env.GAN_ZOO_DIR = before;
    }
  });

  it('the committed zoo recipes parse and name only flags of their model', async () => {
    const dir = join(root, 'zoo');
    const models = readdirSync(dir).filter((m) => existsSync(join(dir, m, 'recipe.json')));
    expect(models.length).toBeGreaterThan(0);
    const before = process.env.GAN_ZOO_DIR;
    process.env.GAN_ZOO_DIR = dir;
    try {
      for (const m of models) {
        const flags = JSON.parse(readFileSync(join(dir, m, 'recipe.json'), 'utf8')).flags as Record<string, unknown>;
        const run = (await resolveTrainRun(recipes[m], ['--recipe', 'zoo', '--out', join(tmp, `c-${m}`)]))!;
        expect(run.preset, m).toBe('zoo');
        if (typeof flags.steps === 'number') expect(run.settings.steps, m).toBe(flags.steps);
        if (typeof flags.seed === 'number') expect(run.seed, m).toBe(flags.seed);
        // "ship" names networks the model has, the one that generates among them.
        const ship = JSON.parse(readFileSync(join(dir, m, 'recipe.json'), 'utf8')).ship as string[] | undefined;
        const trainer = recipes[m].create(run.config, run.settings, run.seed);
        if (ship) {
          for (const n of ship) expect(Object.keys(trainer.nets), `${m}: ship ${n}`).toContain(n);
          expect(ship, m).toContain(trainer.sampler);
        }
        (trainer as { dispose?: () => void }).dispose?.();
        // A twin (the comparison run) adds flags of the same model to the recipe's.
        const twin = JSON.parse(readFileSync(join(dir, m, 'recipe.json'), 'utf8')).twin as { flags: Record<string, unknown> } | undefined;
        if (twin) {
          const extra = Object.entries(twin.flags).flatMap(([k, v]) => [`--${k}`, String(v)]);
          const t = (await resolveTrainRun(recipes[m], ['--recipe', 'zoo', ...extra, '--out', join(tmp, `t-${m}`)]))!;
          expect(t.preset, m).toBe('zoo');
          expect(t.config, m).not.toEqual(run.config);
        }
      }
    } finally {
      if (before === undefined) delete process.env.GAN_ZOO_DIR;
      else process.env.GAN_ZOO_DIR = before;
    }
  });
});

describe('the run record (run.json history) across a resume from zoo/<model>/resume/', () => {
  it('keeps one segment per process with its command, commit, steps and wall time, and the resume folder continues it', async () => {
    await cli();
    const run = join(tmp, 'hist-run');
    const tiny = [
      '--image-size',
      '8',
      '--nz',
      '8',
      '--ngf',
      '4',
      '--ndf',
      '4',
      '--batch',
      '4',
      '--limit',
      '32',
      '--log-every',
      '1',
      '--sample-every',
      '0',
      '--seed',
      '2',
    ];
    const a = gan(['train', 'dcgan', ...tiny, '--steps', '2', '--ckpt-every', '1', '--out', run]);
    expect(a.status, a.stderr).toBe(0);
    const first = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8'));
    expect(first.history).toHaveLength(1);
    expect(first.history[0]).toMatchObject({ startStep: 0, endStep: 2 });
    expect(first.history[0].command).toBe(['gan', 'train', 'dcgan', ...tiny, '--steps', '2', '--ckpt-every', '1', '--out', run].join(' '));
    expect(first.history[0].wallSeconds).toBeGreaterThan(0);
    expect(first.history[0].adapter).toBe(first.adapter);
    // In this repository the commit is recorded (null only outside a git checkout).
    expect(first.history[0].commit).toMatch(/^[0-9a-f]{40}$/);

    // The zoo's resume folder (paths scrubbed), copied out and continued.
    const zooDir = join(tmp, 'hist-zoo');
    zoo.saveResume(run, { zoo: zooDir });
    const saved = readFileSync(join(zooDir, 'dcgan', 'resume', 'run.json'), 'utf8');
    expect(saved).not.toContain(tmp);
    expect(JSON.parse(saved).history[0].command).toContain('--out RUN');
    const copy = join(tmp, 'hist-copy');
    mkdirSync(copy);
    for (const f of ['checkpoint.safetensors', 'run.json', 'metrics.jsonl'])
      writeFileSync(join(copy, f), readFileSync(join(zooDir, 'dcgan', 'resume', f)));
    const b = gan(['train', 'dcgan', '--resume', join(copy, 'checkpoint.safetensors'), '--steps', '4']);
    expect(b.status, b.stderr).toBe(0);
    const second = JSON.parse(readFileSync(join(copy, 'run.json'), 'utf8'));
    expect(second.history).toHaveLength(2);
    expect(second.history[0]).toMatchObject({ startStep: 0, endStep: 2, command: first.history[0].command.replace(run, 'RUN') });
    expect(second.history[1]).toMatchObject({ startStep: 2, endStep: 4 });
    expect(second.history[1].command).toContain('--resume');
    expect(zoo.summarizeHistory(second)).toMatchObject({ segments: 2, step: 4 });
    expect(zoo.summarizeHistory(second).wallSeconds).toBeCloseTo(second.history[0].wallSeconds + second.history[1].wallSeconds, 6);
  });
});

describe('zoo cards', () => {
  it('judge a target as met or missed with the measured figure', () => {
    const target = { check: { value: 'metrics.fd', reference: 'realReference.fd', maxRatio: 3 } };
    const met = zoo.judgeTarget(target, { n: 1000, metrics: { fd: 20 }, realReference: { fd: 9.9 } });
    expect(met.met).toBe(true);
    const missed = zoo.judgeTarget(target, { n: 1000, metrics: { fd: 120.5 }, realReference: { fd: 10 } });
    expect(missed.met).toBe(false);
    expect(missed.text).toContain('120.50');
    expect(missed.text).toContain('30.00');
    expect(missed.text).toContain('n = 1000');
    expect(zoo.judgeTarget(target, null).met).toBe(null);
    // A check's own sample count (StarGAN: 1500 translations of 54 source images).
    const own = zoo.judgeTarget(
      { check: { value: 'domains.trained.accuracy', min: 0.8, n: 'domains.trained.translations' } },
      { n: 54, domains: { trained: { accuracy: 0.9, translations: 1500 } } },
    );
    expect(own.met).toBe(true);
    expect(own.text).toContain('n = 1500');
    expect(zoo.judgeTarget({ check: { value: 'metrics.l1', max: 0.2 } }, { n: 50, metrics: { l1: 0.25 } }).met).toBe(false);
    // Several checks: all must hold (pix2pix: L1 below the identity's and SSIM above it).
    const both = {
      check: [
        { value: 'metrics.l1', below: 'identity.l1' },
        { value: 'metrics.ssim', above: 'identity.ssim' },
      ],
    };
    expect(zoo.judgeTarget(both, { n: 50, metrics: { l1: 0.2, ssim: 0.5 }, identity: { l1: 0.3, ssim: 0.4 } }).met).toBe(true);
    const half = zoo.judgeTarget(both, { n: 50, metrics: { l1: 0.2, ssim: 0.3 }, identity: { l1: 0.3, ssim: 0.4 } });
    expect(half.met).toBe(false);
    expect(half.text).toContain('SSIM 0.3000 <= 0.4000 (identity)');
    // atLeast / atMost against the twin run (StackGAN: two-stage vs Stage-I alone); a definite miss
    // is a miss even while the twin is not evaluated, and a met check waits for it.
    const twin = {
      check: [
        { value: 'conditional.trained', min: 0.3, name: 'acc' },
        { value: 'conditional.trained', atLeast: 'twin.conditional.trained', name: 'two-stage acc' },
        { value: 'metrics.fd', atMost: 'twin.metrics.fd', name: 'two-stage FD' },
      ],
    };
    const ev = { n: 287, conditional: { trained: 0.31 }, metrics: { fd: 50 } };
    expect(zoo.judgeTarget(twin, ev).met).toBe(null);
    expect(zoo.judgeTarget(twin, ev).text).toContain('two-stage acc: the twin run is not evaluated yet');
    expect(zoo.judgeTarget(twin, { ...ev, conditional: { trained: 0.2 } }).met).toBe(false);
    const tie = { ...ev, twin: { conditional: { trained: 0.31 }, metrics: { fd: 50 } } };
    expect(zoo.judgeTarget(twin, tie).met).toBe(true);
    const worse = zoo.judgeTarget(twin, { ...ev, twin: { conditional: { trained: 0.31 }, metrics: { fd: 49.9 } } });
    expect(worse.met).toBe(false);
    expect(worse.text).toContain('two-stage FD 50.0000 > 49.9000 (twin)');
  });

  it("curve checks read the run's logged curves; the README block and the card judge the twin and the curves alike", () => {
    const records = zoo.parseMetrics(
      ['{"step":25,"k_t":0,"lossD":1,"lr":0.1}', '{"step":50,"k_t":0.1,"lossD":0.5}', '', '{"step":75,"k_t":0.2,"lossD":"x"}'].join('\n'),
    );
    const stats = zoo.curveStats(records);
    expect(stats.lr).toBeUndefined(); // bookkeeping, not a curve
    expect(stats.step).toBeUndefined();
    expect(stats.k_t).toEqual({ logged: 3, first: 0, last: 0.2, min: 0, max: 0.2, mean: expect.closeTo(0.1, 12), positive: 2 / 3 });
    expect(stats.lossD.logged).toBe(2); // a non-number is not logged
    const target = {
      check: [
        { value: 'metrics.fd', max: 100 },
        { value: 'curve.k_t.positive', min: 0.9, name: "k_t's positive share", n: 'curve.k_t.logged' },
      ],
    };
    const ev = { n: 1000, metrics: { fd: 90 } };
    const missed = zoo.judgeTarget(target, { ...ev, curve: stats });
    expect(missed.met).toBe(false);
    expect(missed.text).toBe("FD 90.0000 <= 100, n = 1000; k_t's positive share 0.6667 < 0.9, n = 3");
    expect(zoo.judgeTarget(target, ev).text).toContain("the run's metrics.jsonl has no k_t");
    // judgedEval: eval.json plus twin.json's eval and metrics.jsonl's statistics of a zoo folder.
    const dir = mkdtempSync(join(tmpdir(), 'zoo-judged-'));
    try {
      expect(zoo.judgedEval(dir, {}, null)).toBe(null);
      writeFileSync(join(dir, 'metrics.jsonl'), '{"step":1,"k_t":0.5}\n{"step":2,"k_t":0.25}\n');
      writeFileSync(join(dir, 'twin.json'), JSON.stringify({ eval: { metrics: { fd: 80 } } }));
      const withTwin = { twin: { name: 'alone' }, target: { check: { value: 'metrics.fd', atMost: 'twin.metrics.fd' } } };
      const judged = zoo.judgedEval(dir, withTwin, ev);
      expect(judged.curve.k_t.positive).toBe(1);
      expect(judged.twin).toEqual({ metrics: { fd: 80 } });
      expect(zoo.judgeTarget(withTwin.target, judged).text).toBe('FD 90.0000 > 80.0000 (twin), n = 1000');
      // A recipe without a twin does not read twin.json.
      expect(zoo.judgedEval(dir, {}, ev).twin).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("other seeds: each check's figure per seed, mean and sample sd, and on how many seeds the target holds", () => {
    const target = { check: { value: 'metrics.fd', max: 100 } };
    const shipped = { seed: 1, eval: { n: 1000, metrics: { fd: 90 } } };
    const others = [
      { seed: 2, eval: { n: 1000, metrics: { fd: 110 } } },
      { seed: 3, eval: { n: 1000, metrics: { fd: 100 } } },
    ];
    const line = zoo.seedsLine(target, shipped, others);
    // mean 100, sd sqrt(((-10)^2 + 10^2 + 0) / 2) = 10; fd <= 100 holds for seeds 1 and 3.
    expect(line).toBe('3 seeds (1 shipped, 2, 3): FD 90.0000 / 110.0000 / 100.0000: mean 100.0000, sd 10.0000; the target holds on 2 of 3');
    expect(zoo.seedsLine(target, shipped, [])).toBe(null);
    expect(zoo.seedsLine(target, null, others)).toBe(null);
    // The records come from zoo/<model>/seeds/seed-S.json, sorted by seed; other files are ignored.
    const dir = mkdtempSync(join(tmpdir(), 'zoo-seeds-'));
    try {
      expect(zoo.readSeeds(dir)).toEqual([]);
      mkdirSync(join(dir, 'seeds'));
      for (const r of [...others].reverse()) writeFileSync(join(dir, 'seeds', `seed-${r.seed}.json`), JSON.stringify(r));
      writeFileSync(join(dir, 'seeds', '.seed-4.tmp.json'), '{}');
      expect(zoo.readSeeds(dir).map((r: { seed: number }) => r.seed)).toEqual([2, 3]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gan eval --pretrained trains no judge: every judge a card was scored with is shipped in zoo/judges/', () => {
    const dir = join(root, 'zoo');
    const judges = shippedJudgesDir();
    let seen = 0;
    for (const m of readdirSync(dir).filter((x) => existsSync(join(dir, x, 'eval.json')))) {
      // The judges' files, wherever the eval found them (shipped, or the cache of the machine that scored it).
      const text = readFileSync(join(dir, m, 'eval.json'), 'utf8');
      for (const [, file] of text.matchAll(/"path": "[^"]*?([^/"]+\.safetensors)"/g)) {
        if (file === `${m}.safetensors`) continue; // the model's own weights
        expect(existsSync(join(judges, file)), `${m}: ${file} is not in zoo/judges/`).toBe(true);
        seen++;
      }
    }
    expect(seen).toBeGreaterThan(0);
  });

  it("gan eval --pretrained triplegan trains nothing: the shipped judges hold its supervised-only baseline under the run's key", async () => {
    const weights = resolve(__dirname, '..', 'zoo', 'triplegan', 'triplegan.safetensors');
    expect(existsSync(weights)).toBe(true);
    const info = await readCheckpointInfo('test', weights);
    const { key, file } = judgeStoreFile(info, SUPERVISED_BASELINE_NAME, supervisedBaselineKey(info.config, info.step));
    const path = join(shippedJudgesDir(), file);
    expect(existsSync(path), `${file} is not in zoo/judges/`).toBe(true);
    const m = zoo.readSafetensors(path).metadata;
    expect(() => checkJudgeMetadata(m, { key })).not.toThrow();
    // The card's baseline figure is of the same number of steps.
    const ev = JSON.parse(readFileSync(resolve(__dirname, '..', 'zoo', 'triplegan', 'eval.json'), 'utf8'));
    expect(ev.supervisedBaseline.steps).toBe(info.step);
  });

  it('keep no absolute paths of the machine that trained', () => {
    expect(
      zoo.scrubPaths(
        'gan train dcgan --out /somewhere/runs/x --resume /somewhere/runs/x/checkpoint.safetensors',
        '/somewhere/runs/x',
        '/repo',
      ),
    ).toBe('gan train dcgan --out RUN --resume RUN/checkpoint.safetensors');
    expect(zoo.scrubPaths('/repo/.cache/metrics/lenet.safetensors and /etc/other.txt', '/nowhere', '/repo')).toBe(
      '.cache/metrics/lenet.safetensors and <elsewhere>/other.txt',
    );
  });

  it('zoo/ stays under 80 MB', () => {
    expect(zoo.folderBytes(join(root, 'zoo'))).toBeLessThan(zoo.ZOO_LIMIT_BYTES);
  });

  it('training curves: one panel per metric, steps on x, each panel scaled to its own min and max', () => {
    const records = zoo.parseMetrics(
      '{"step":10,"lossD":2,"lossG":0.5,"time":1}\n\n{"step":20,"lossD":1,"lossG":0.5,"stepsPerSec":3}\n{"step":30,"lossD":0,"lossG":0.5}\n',
    );
    expect(zoo.curveKeys(records)).toEqual(['lossD', 'lossG']);
    expect(zoo.curveKeys(records, { curves: ['lossG'] })).toEqual(['lossG']);
    const svg: string = zoo.renderCurves(records, ['lossD'], 't');
    // Panel 0: plot box x 44..250, y 40..130 (a 22 px title row, then the panel: 18 px above the box, 22 below).
    const pts = /<polyline points="([^"]+)"/
      .exec(svg)![1]
      .split(' ')
      .map((p) => p.split(',').map(Number));
    expect(pts).toEqual([
      [44, 40],
      [147, 85],
      [250, 130],
    ]);
    expect(svg).toContain('>2.00<');
    expect(svg).toContain('>0.000<');
    expect(svg).toContain('>step 30<');
    // A flat series gets a range around its value instead of a division by zero.
    expect(zoo.renderCurves(records, ['lossG'])).not.toContain('NaN');
  });

  it('each zoo model with metrics ships curves.svg as scripts/zoo.mjs cards writes it', () => {
    const dir = join(root, 'zoo');
    let checked = 0;
    for (const m of readdirSync(dir).filter((m) => existsSync(join(dir, m, 'recipe.json')))) {
      const svg = zoo.curvesFor(join(dir, m), JSON.parse(readFileSync(join(dir, m, 'recipe.json'), 'utf8')));
      if (svg === null) continue;
      expect(readFileSync(join(dir, m, 'curves.svg'), 'utf8'), `zoo/${m}/curves.svg`).toBe(svg);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(3);
  });

  it("docs/zoo.md and README's trained-models block are what scripts/zoo.mjs cards writes from zoo/", () => {
    const text = zoo.renderCards(join(root, 'zoo'));
    expect(readFileSync(join(root, 'docs', 'zoo.md'), 'utf8')).toBe(text);
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain('<!-- zoo:begin');
    expect(zoo.readmeWithBlock(readme, join(root, 'zoo'))).toBe(readme);
  });
});
