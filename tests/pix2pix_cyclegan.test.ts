// pix2pix and CycleGAN: the networks of nets/lib/networks.ts against PyTorch (state_dict keys, shapes and
// parameter counts of the full-size networks; outputs of tiny networks with random weights), from
// tests/golden/nets/ (scripts/golden/make_net_goldens.py; the training steps are checked element by
// element in tests/steps_i2i.test.ts); the image pool, the sample inputs, the
// learning-rate schedule, and short training runs on synthetic pairs in which the L1 distance to
// held-out targets must fall.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine, engine, tensor, tidy, noGrad, type Tensor } from '../engine/index.js';
import type { Module } from '../engine/nn/module.js';
import { decodeSafetensors, type SafetensorsTensor } from '../engine/io/safetensors.js';
import {
  GENERATORS,
  DISCRIMINATORS,
  ResnetGenerator,
  UnetGenerator,
  NLayerDiscriminator,
  PixelDiscriminator,
  patchReceptiveField,
  setTestTimeDropout,
  dropoutLayers,
  type NormName,
} from '../nets/lib/networks.js';
import { ImagePool } from '../nets/lib/pool.js';
import { Pix2pixTrainer, pix2pixRecipe } from '../nets/pix2pix.js';
import { CycleGanTrainer, cycleganRecipe } from '../nets/cyclegan.js';
import { packPairs, packUnpaired } from '../data/pairs.js';
import { readStats } from '../nets/lib/stats.js';
import { type NetSummary, expectNetSummary, relError, synthDiscPairs } from './support/util.js';

const GOLDEN = join(__dirname, 'golden', 'nets');

beforeAll(async () => {
  await initEngine();
});

const params = JSON.parse(readFileSync(join(GOLDEN, 'params.json'), 'utf8')) as Record<string, NetSummary | string>;

describe('full-size networks match the reference state_dicts', () => {
  const cases: [string, () => Module][] = [
    ['resnet_9blocks', () => GENERATORS.resnet_9blocks.make({ inputNc: 3, outputNc: 3, ngf: 64, norm: 'instance', useDropout: false })],
    ['unet_256', () => GENERATORS.unet_256.make({ inputNc: 3, outputNc: 3, ngf: 64, norm: 'batch', useDropout: true })],
    ['basic_D_6ch', () => DISCRIMINATORS.basic.make({ inputNc: 6, ndf: 64, norm: 'batch' })],
    ['resnet_6blocks', () => GENERATORS.resnet_6blocks.make({ inputNc: 3, outputNc: 3, ngf: 64, norm: 'instance', useDropout: false })],
    [
      'resnet_9blocks_batch_dropout',
      () => GENERATORS.resnet_9blocks.make({ inputNc: 3, outputNc: 3, ngf: 64, norm: 'batch', useDropout: true }),
    ],
    ['unet_128', () => GENERATORS.unet_128.make({ inputNc: 3, outputNc: 3, ngf: 64, norm: 'batch', useDropout: true })],
    ['unet_256_instance', () => GENERATORS.unet_256.make({ inputNc: 3, outputNc: 3, ngf: 64, norm: 'instance', useDropout: false })],
    ['encdec_256', () => GENERATORS.encdec_256.make({ inputNc: 3, outputNc: 3, ngf: 64, norm: 'batch', useDropout: true })],
    ['pixel_D_6ch', () => DISCRIMINATORS.pixel.make({ inputNc: 6, ndf: 64, norm: 'batch' })],
    ['n_layers1_D_6ch', () => DISCRIMINATORS.patch16.make({ inputNc: 6, ndf: 64, norm: 'batch' })],
    ['n_layers5_D_6ch', () => DISCRIMINATORS.patch286.make({ inputNc: 6, ndf: 64, norm: 'batch' })],
    ['basic_D_3ch_instance', () => DISCRIMINATORS.patch70.make({ inputNc: 3, ndf: 64, norm: 'instance' })],
  ];
  for (const [name, build] of cases) {
    it(`${name}: keys, shapes and parameter count`, () => {
      const want = params[name] as NetSummary;
      expectNetSummary(build(), want);
    });
  }

  it("the paper's patch sizes", () => {
    expect([1, 3, 5].map(patchReceptiveField)).toEqual([16, 70, 286]);
  });
});

// ---- forward passes against PyTorch ----

interface GoldenCase {
  file: string;
  net: 'resnet' | 'unet' | 'encdec' | 'n_layers' | 'pixel';
  norm: NormName;
  ngf?: number;
  ndf?: number;
  n_blocks?: number;
  num_downs?: number;
  n_layers?: number;
  dropout?: boolean;
  input_nc?: number;
  output_nc?: number;
}

const goldenCases = (JSON.parse(readFileSync(join(GOLDEN, 'cases.json'), 'utf8')) as { cases: Record<string, GoldenCase> }).cases;

function buildGolden(c: GoldenCase): Module {
  const g = { inputNc: c.input_nc ?? 3, outputNc: c.output_nc ?? 3, ngf: c.ngf ?? 0, norm: c.norm, useDropout: !!c.dropout };
  const d = { inputNc: c.input_nc ?? 3, ndf: c.ndf ?? 0, norm: c.norm };
  switch (c.net) {
    case 'resnet':
      return new ResnetGenerator({ ...g, nBlocks: c.n_blocks! });
    case 'unet':
      return new UnetGenerator({ ...g, numDowns: c.num_downs! });
    case 'encdec':
      return new UnetGenerator({ ...g, numDowns: c.num_downs!, skip: false });
    case 'n_layers':
      return new NLayerDiscriminator({ ...d, nLayers: c.n_layers! });
    case 'pixel':
      return new PixelDiscriminator(d);
  }
}

function toF32(t: SafetensorsTensor): Float32Array {
  return t.data as Float32Array;
}

describe('tiny networks reproduce PyTorch outputs (eval mode)', () => {
  for (const [name, c] of Object.entries(goldenCases)) {
    it(name, async () => {
      const file = decodeSafetensors(readFileSync(join(GOLDEN, c.file)), c.file);
      const state: Record<string, SafetensorsTensor> = {};
      for (const [k, v] of Object.entries(file.tensors)) if (k.startsWith('state.')) state[k.slice(6)] = v;
      const net = buildGolden(c);
      try {
        net.loadStateDict(state);
        net.eval();
        const x = file.tensors.input;
        const want = file.tensors.output;
        const y = noGrad(() => tidy(() => net.call(tensor(toF32(x), x.shape)) as Tensor));
        expect([...y.shape]).toEqual(want.shape);
        const got = await y.data();
        y.dispose();
        const err = relError(got, toF32(want));
        if (process.env.GAN_TEST_VERBOSE) console.log(`${name}: relative error ${err.toExponential(2)}`);
        expect(err, `${name}: relative error ${err.toExponential(2)}`).toBeLessThan(1e-4);
      } finally {
        net.dispose();
      }
    });
  }

  it("dropout layers: unet_256 has 3 (its 8ngf middle levels), unet_32 none, unet_32_dropout 3 at unet_256's resolutions", async () => {
    const o = { inputNc: 3, outputNc: 3, ngf: 1, norm: 'batch' as NormName, useDropout: true };
    const where = (net: Module) => [...net.namedModules()].filter(([, m]) => m.typeName === 'Dropout').map(([name]) => name);
    const nets = {
      unet_256: GENERATORS.unet_256.make(o),
      unet_32: GENERATORS.unet_32.make(o),
      unet_32_dropout: GENERATORS.unet_32_dropout.make(o),
    };
    try {
      expect(dropoutLayers(nets.unet_256)).toBe(3);
      expect(dropoutLayers(nets.unet_32)).toBe(0);
      expect(dropoutLayers(nets.unet_32_dropout)).toBe(3);
      expect(dropoutLayers(GENERATORS.unet_32_dropout.make({ ...o, useDropout: false }))).toBe(0);
      // The decoder outputs 2x2 -> 4x4, 4x4 -> 8x8, 8x8 -> 16x16 (levels 2-4 from the innermost) in
      // both: unet_256's 3 levels outside the innermost, unet_32_dropout's 3 outermost but one.
      const depth = (name: string) => name.split('.model.').length;
      const d256 = where(nets.unet_256).map(depth);
      const d32 = where(nets.unet_32_dropout).map(depth);
      expect(d256.map((d) => 9 - d)).toEqual(d32.map((d) => 6 - d));
      expect(() => new UnetGenerator({ ...o, numDowns: 5, dropoutLevels: 4 })).toThrow(/dropoutLevels must be an integer in \[0, 3\]/);
    } finally {
      for (const n of Object.values(nets)) n.dispose();
    }
  });

  it('test-time dropout stays on in eval mode when asked (pix2pix), off otherwise', async () => {
    const net = new UnetGenerator({ inputNc: 3, outputNc: 3, ngf: 2, norm: 'batch', useDropout: true, numDowns: 6 });
    try {
      net.eval();
      const x = tensor(
        Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => Math.sin(i)),
        [1, 3, 64, 64],
      );
      const run = async () => {
        const y = noGrad(() => net.call(x) as Tensor);
        const d = await y.data();
        y.dispose();
        return d;
      };
      const a = await run();
      expect(await run()).toEqual(a);
      setTestTimeDropout(net, true);
      const b = await run();
      expect(b).not.toEqual(a);
      x.dispose();
    } finally {
      net.dispose();
    }
  });
});

describe('ImagePool', () => {
  it('fills, then swaps with probability 1/2, deterministically per seed', async () => {
    const img = (v: number) => tensor(new Float32Array(4).fill(v), [1, 1, 2, 2]);
    const run = async (seed: number) => {
      const pool = new ImagePool(3, seed);
      const seen: number[] = [];
      for (let i = 0; i < 20; i++) {
        const x = img(i);
        const y = pool.query(x);
        seen.push((await y.data())[0]);
        x.dispose();
        y.dispose();
      }
      expect(pool.size).toBe(3);
      pool.dispose();
      return seen;
    };
    const a = await run(7);
    expect(a.slice(0, 3)).toEqual([0, 1, 2]); // the pool fills first
    expect(await run(7)).toEqual(a);
    const swapped = a.slice(3).filter((v, i) => v !== i + 3).length;
    expect(swapped).toBeGreaterThan(2); // 17 coin flips: about half return an older image
    expect(swapped).toBeLessThan(15);
    for (let i = 3; i < 20; i++) expect(a[i]).toBeLessThanOrEqual(i); // only ever older images
  });

  it('size 0 returns the batch itself (detached)', async () => {
    const pool = new ImagePool(0);
    const x = tensor([1, 2, 3, 4], [1, 1, 2, 2]);
    const y = pool.query(x);
    expect(Array.from(await y.data())).toEqual([1, 2, 3, 4]);
    x.dispose();
  });
});

// ---- training ----

const SETTINGS = { lr: 2e-4, beta1: 0.5, beta2: 0.999, steps: 100 };

// One training step of each model against the reference's optimize_parameters(), element by
// element: tests/steps_i2i.test.ts (goldens from scripts/golden/make_step_{pix2pix,cyclegan}.py).

/** Deterministic test images: sin(0.11 i + phase) * 0.9 over the flat index. */
const formulaImages = (n: number, c: number, h: number, w: number, phase: number) =>
  Float32Array.from({ length: n * c * h * w }, (_, i) => Math.fround(Math.sin(0.11 * i + phase) * 0.9));

describe('data layout, sample inputs and schedule', () => {
  it("packPairs / packUnpaired put A's channels, then B's, in each row", () => {
    const a = Float32Array.from([1, 2, 3, 4]); // 2 images of 1x1x2
    const b = Float32Array.from([5, 6, 7, 8]);
    expect(Array.from(packPairs(a, b, 2, 1, 1, 1, 2))).toEqual([1, 2, 5, 6, 3, 4, 7, 8]);
    // 2 A images, 1 B image: rows (A0, B0), (A1, B0)
    expect(Array.from(packUnpaired(a, 2, b.subarray(0, 2), 1, 1, 1, 2))).toEqual([1, 2, 5, 6, 3, 4, 5, 6]);
    expect(() => packPairs(a, b, 3, 1, 1, 1, 2)).toThrow(/packPairs/);
  });

  it('the recipes accept their defaults and quick presets and name the flag of a bad config', () => {
    for (const r of [pix2pixRecipe, cycleganRecipe]) {
      const defaults = Object.fromEntries(Object.entries(r.options).map(([k, o]) => [k, o.default as number | string | boolean]));
      expect(r.validate(defaults)).toEqual([]);
      expect(r.validate({ ...defaults, ...r.quick })).toEqual([]);
      expect(r.imageShape(defaults)).toEqual({ channels: 6, size: 64 });
    }
    const base = { imageSize: 32, netG: 'unet_32', netD: 'basic', ngf: 8, ndf: 8 };
    expect(pix2pixRecipe.validate({ ...base, netG: 'unet_64' })[0]).toMatch(/--net-g unet_64 needs an image size divisible by 64/);
    expect(pix2pixRecipe.validate({ ...base, imageSize: 16, netG: 'resnet_6blocks' })[0]).toMatch(/--net-d basic .* at least 24 px/);
    expect(pix2pixRecipe.validate({ ...base, imageSize: 16, netG: 'resnet_6blocks', netD: 'patch16' })).toEqual([]);
    expect(pix2pixRecipe.validate({ ...base, netD: 'nope' })[0]).toMatch(/--net-d must be one of/);
    expect(cycleganRecipe.validate({ ...base, lambdaIdentity: -1 })[0]).toMatch(/--lambda-identity/);
  });

  it('noise() before training fills in with the training inputs; the lr holds, then decays linearly', async () => {
    const s = 32;
    const trainer = new Pix2pixTrainer(
      pix2pixRecipe.parse({ imageSize: s, netG: 'unet_32', ngf: 2, netD: 'basic', ndf: 2, lrHold: 2, lrDecay: 3 }),
      SETTINGS,
      1,
    );
    const fixed = trainer.noise(3, undefined).keep();
    expect(Array.from(await fixed.data()).every((v) => v === 0)).toBe(true);
    const lrs: number[] = [];
    const batches: Float32Array[] = [];
    for (let i = 0; i < 5; i++) {
      const data = packPairs(formulaImages(2, 3, s, s, i), formulaImages(2, 3, s, s, i + 0.5), 2, 3, 3, s, s);
      batches.push(data);
      const batch = tensor(data, [2, 6, s, s]);
      trainer.step(batch, false);
      batch.dispose();
      lrs.push(trainer.optimizers.netG.lr);
    }
    // Three inputs were asked for: both A images of batch 0, then the first of batch 1.
    const plane = 3 * s * s;
    const want = [...batches[0].subarray(0, plane), ...batches[0].subarray(2 * plane, 3 * plane), ...batches[1].subarray(0, plane)];
    expect(Array.from(await fixed.data())).toEqual(want);
    // LinearDecay(hold 2, decay 3): factor 1 - max(0, e + 1 - 2) / 4 for the e-th step.
    expect(lrs.map((v) => +(v / 2e-4).toFixed(6))).toEqual([1, 1, 0.75, 0.5, 0.25]);
    fixed.dispose();
    trainer.dispose();
  });
});

/** Trains for `steps` on synthetic pairs; returns held-out L1 before and after and the live-buffer counts per step. */
async function shortRun(trainer: Pix2pixTrainer | CycleGanTrainer, s: number, batchSize: number, steps: number) {
  const train = synthDiscPairs(32, s, 1);
  const held = tensor(synthDiscPairs(8, s, 99), [8, 6, s, s]);
  const l1 = async () => {
    const t = trainer.evalL1(held);
    const v = (await t.data())[0];
    t.dispose();
    return v;
  };
  const before = await l1();
  const live: number[] = [];
  const per = 6 * s * s;
  let last: Record<string, number> = {};
  for (let i = 0; i < steps; i++) {
    const j = (i * batchSize) % 32;
    const batch = tensor(train.subarray(j * per, (j + batchSize) * per), [batchSize, 6, s, s]);
    const stats = trainer.step(batch, i === steps - 1);
    batch.dispose();
    if (stats) last = await readStats(stats);
    live.push(engine().memory().liveBuffers);
  }
  const after = await l1();
  if (process.env.GAN_TEST_VERBOSE) console.log(`held-out L1 ${before.toFixed(4)} -> ${after.toFixed(4)}`, last);
  held.dispose();
  return { before, after, live, last };
}

describe('short training runs: held-out L1 falls', () => {
  it('pix2pix (unet_32, 4 wide, 32 px)', async () => {
    const trainer = new Pix2pixTrainer(
      pix2pixRecipe.parse({ imageSize: 32, netG: 'unet_32', ngf: 4, netD: 'basic', ndf: 4, dropout: false }),
      { ...SETTINGS, lr: 1e-3, steps: 30 },
      3,
    );
    try {
      const { before, after, live, last } = await shortRun(trainer, 32, 4, 30);
      expect(Object.values(last).every(Number.isFinite)).toBe(true);
      expect(after, `held-out L1 ${before.toFixed(4)} -> ${after.toFixed(4)}`).toBeLessThan(0.8 * before);
      expect(live.at(-1)).toBe(live[4]); // nothing kept per step
    } finally {
      trainer.dispose();
    }
  });

  it('cyclegan (resnet_6blocks, 4 wide, 16 px, 16x16 PatchGAN)', async () => {
    const trainer = new CycleGanTrainer(
      cycleganRecipe.parse({ imageSize: 16, netG: 'resnet_6blocks', ngf: 4, netD: 'patch16', ndf: 4, poolSize: 4 }),
      { ...SETTINGS, lr: 1e-3, steps: 8 },
      3,
    );
    try {
      const { before, after, live, last } = await shortRun(trainer, 16, 2, 8);
      expect(Object.values(last).every(Number.isFinite)).toBe(true);
      expect(after, `held-out L1 ${before.toFixed(4)} -> ${after.toFixed(4)}`).toBeLessThan(0.9 * before);
      expect(trainer.fakeAPool.size).toBe(4);
      expect(live.at(-1)).toBe(live[4]); // the pools are full after 2 steps; then nothing is kept per step
    } finally {
      trainer.dispose();
    }
  });
});
