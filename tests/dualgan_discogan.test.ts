// DualGAN and DiscoGAN (nets/dualgan.ts, nets/discogan.ts): state_dict keys, shapes and parameter
// counts of the full-size networks and the outputs of tiny ones against PyTorch (the training
// iterations against the references' code: tests/steps_i2i.test.ts); each loss against values
// computed here in float64; the
// update cadences, weight clipping, the gradient penalty, the eval hooks, and a few training steps
// with finite losses and no buffers kept per step. Goldens: tests/golden/nets/, made by
// scripts/golden/make_dualgan_discogan_goldens.py.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine, engine, assign, tensor, tidy, noGrad, type Tensor } from '../engine/index.js';
import { Conv2d } from '../engine/nn/layers.js';
import type { Module } from '../engine/nn/module.js';
import { decodeSafetensors, type SafetensorsTensor } from '../engine/io/safetensors.js';
import { gradientPenalty, Generator } from '../engine/ops/index.js';
import { defineD, defineG } from '../nets/lib/networks.js';
import { DualGanTrainer, clipWeights_, criticLoss, dualganRecipe } from '../nets/dualgan.js';
import {
  DiscoDiscriminator,
  DiscoGenerator,
  DiscoGanTrainer,
  discoGanLoss,
  discoganRecipe,
  featureMatchingLoss,
} from '../nets/discogan.js';
import { setHeldOutSource } from '../nets/lib/translation.js';
import { readStats } from '../nets/lib/stats.js';
import type { GanTrainer, ModelRecipe } from '../nets/registry.js';
import { type NetSummary, keysOf, relError, synthDiscPairs } from './support/util.js';

const GOLDEN = join(__dirname, 'golden', 'nets');
const verbose = !!process.env.GAN_TEST_VERBOSE;

beforeAll(async () => {
  await initEngine();
});

const readJson = <T>(name: string) => JSON.parse(readFileSync(join(GOLDEN, name), 'utf8')) as T;

async function values(t: Tensor): Promise<Float32Array> {
  return t.data();
}

// ---- networks against PyTorch ----

describe('full-size networks match the reference state_dicts', () => {
  const params = readJson<Record<string, NetSummary>>('dualgan_discogan_params.json');
  const cases: [string, () => Module][] = [
    // What DualGanTrainer builds at 256 px (the paper's size): defineG / defineD with its options.
    ['dualgan_G_unet_256', () => defineG('unet_256', { inputNc: 3, outputNc: 3, ngf: 64, norm: 'batch', useDropout: true })],
    ['dualgan_D_basic_3ch', () => defineD('basic', { inputNc: 3, ndf: 64, norm: 'batch' })],
    ['discogan_G', () => new DiscoGenerator()],
    ['discogan_D', () => new DiscoDiscriminator()],
  ];
  for (const [name, build] of cases) {
    it(`${name}: keys, shapes and parameter count`, () => {
      const net = build();
      try {
        expect(keysOf(net)).toEqual(params[name].keys);
        expect(net.numParameters()).toBe(params[name].params);
      } finally {
        net.dispose();
      }
    });
  }

  it("the trainers name their networks as the references do, with the reference's keys", () => {
    const dual = new DualGanTrainer(
      dualganRecipe.parse({ imageSize: 32, netG: 'unet_32', ngf: 2, netD: 'basic', ndf: 2 }),
      { lr: 5e-5 },
      1,
    );
    const disco = new DiscoGanTrainer(discoganRecipe.parse({ imageSize: 64, ngf: 2, ndf: 2 }), { lr: 2e-4, beta1: 0.5, beta2: 0.999 }, 1);
    try {
      expect(Object.keys(dual.nets)).toEqual(['netG_A', 'netG_B', 'netD_A', 'netD_B']);
      expect(Object.keys(disco.nets)).toEqual(['generator_A', 'generator_B', 'discriminator_A', 'discriminator_B']);
      const names = (s: NetSummary) => s.keys.map(([k]) => k);
      const params = readJson<Record<string, NetSummary>>('dualgan_discogan_params.json');
      expect(keysOf(disco.nets.generator_A).map(([k]) => k)).toEqual(names(params.discogan_G));
      expect(keysOf(disco.nets.discriminator_B).map(([k]) => k)).toEqual(names(params.discogan_D));
      expect(keysOf(dual.nets.netD_A).map(([k]) => k)).toEqual(names(params.dualgan_D_basic_3ch));
      const unet = defineG('unet_32', { inputNc: 3, outputNc: 3, ngf: 2, norm: 'batch', useDropout: true });
      expect(keysOf(dual.nets.netG_B)).toEqual(keysOf(unet));
      unet.dispose();
      expect(dual.optimizers.netD_A.typeName).toBe('RMSprop');
      expect(disco.optimizers.generator_A.weightDecay).toBe(1e-5);
    } finally {
      dual.dispose();
      disco.dispose();
    }
  });
});

describe('tiny DiscoGAN networks reproduce PyTorch outputs (eval mode)', () => {
  /** The golden's tensors, after loading its `state.*` into `net` and putting it in eval mode. */
  const load = (file: string, net: Module) => {
    const f = decodeSafetensors(readFileSync(join(GOLDEN, file)), file);
    const state: Record<string, SafetensorsTensor> = {};
    for (const [k, v] of Object.entries(f.tensors)) if (k.startsWith('state.')) state[k.slice(6)] = v;
    net.loadStateDict(state);
    net.eval();
    return f.tensors;
  };
  const input = (x: SafetensorsTensor) => tensor(x.data as Float32Array, x.shape);

  it('generator (4 wide, 16 px, sigmoid output)', async () => {
    const net = new DiscoGenerator({ ngf: 4 });
    try {
      const t = load('discogan_G_ngf4.safetensors', net);
      const y = noGrad(() => tidy(() => net.call(input(t.input))));
      expect([...y.shape]).toEqual(t.output.shape);
      const err = relError(await values(y), t.output.data as Float32Array);
      y.dispose();
      if (verbose) console.log(`discogan G: relative error ${err.toExponential(2)}`);
      expect(err).toBeLessThan(1e-4);
    } finally {
      net.dispose();
    }
  });

  it('discriminator (4 wide, 64 px): sigmoid output and the three feature maps', async () => {
    const net = new DiscoDiscriminator({ ndf: 4 });
    try {
      const t = load('discogan_D_ndf4.safetensors', net);
      const [prob, feats] = noGrad(() => net.call(input(t.input)));
      const outs: [Tensor, SafetensorsTensor][] = [
        [prob, t.output],
        ...feats.map((f, i): [Tensor, SafetensorsTensor] => [f, t[`feat${i}`]]),
      ];
      expect([...prob.shape]).toEqual([1, 1, 1, 1]);
      for (const [got, want] of outs) {
        expect([...got.shape]).toEqual(want.shape);
        const err = relError(await values(got), want.data as Float32Array);
        if (verbose) console.log(`discogan D ${want.shape}: relative error ${err.toExponential(2)}`);
        expect(err).toBeLessThan(1e-4);
        got.dispose();
      }
    } finally {
      net.dispose();
    }
  });
});

// ---- training iterations against the references: tests/steps_i2i.test.ts (element by element;
// scripts/golden/make_step_{dualgan,discogan}.py) ----

// ---- losses against float64 values computed here ----

const f64 = (n: number, seed: number, scale = 1) => Array.from({ length: n }, (_, i) => Math.fround(Math.sin(1.7 * i + seed) * scale));
const sigmoid64 = (x: number) => 1 / (1 + Math.exp(-x));
const mean64 = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/** A 1x1 conv critic 3 -> 1 with weights w and bias b: D(x)[n, 0, h, w] = b + sum_c w_c x[n, c]. */
function linearCritic(w: number[], b: number): Conv2d {
  const conv = new Conv2d(3, 1, 1);
  assign(conv.weight, w);
  assign(conv.bias!, [b]);
  return conv;
}

describe('losses equal float64 values computed here', () => {
  it('Wasserstein critic loss mean D(fake) - mean D(real), and the penalty of a linear critic', async () => {
    const w = [0.3, -0.7, 0.4];
    const critic = linearCritic(w, 0.25);
    const real = f64(2 * 3 * 2 * 2, 1);
    const fake = f64(2 * 3 * 2 * 2, 2);
    const score = (x: number[]) => {
      const out: number[] = [];
      for (let n = 0; n < 2; n++) for (let p = 0; p < 4; p++) out.push(0.25 + w.reduce((s, wc, c) => s + wc * x[(n * 3 + c) * 4 + p], 0));
      return mean64(out);
    };
    const r = tensor(real, [2, 3, 2, 2]);
    const f = tensor(fake, [2, 3, 2, 2]);
    const got = tidy(() => {
      const c = criticLoss(critic, r, f);
      return [c.loss.keep(), c.real.keep(), c.fake.keep()];
    });
    expect((await values(got[0]))[0]).toBeCloseTo(score(fake) - score(real), 6);
    expect((await values(got[1]))[0]).toBeCloseTo(score(real), 6);
    // d sum(D) / dx is w_c at every pixel: |grad| = sqrt(H W sum w_c^2) for every sample and every
    // interpolation, so the penalty is 10 (|grad| - 1)^2 whatever the random mix.
    const gp = tidy(() => gradientPenalty((x) => critic.call(x), r, f, { generator: new Generator(3), lambda: 10 }).keep());
    const norm = Math.sqrt(4 * w.reduce((s, v) => s + v * v, 0));
    expect((await values(gp))[0]).toBeCloseTo(10 * (norm - 1) ** 2, 4);
    for (const t of [...got, gp, r, f]) t.dispose();
    critic.dispose();
  });

  it('DiscoGAN GAN losses (BCE on the sigmoid, as nn.BCELoss) and feature matching', async () => {
    const lr = f64(2 * 1 * 2 * 2, 3, 2);
    const lf = f64(2 * 1 * 2 * 2, 4, 2);
    const bce = (p: number, t: number) => -(t * Math.log(p) + (1 - t) * Math.log(1 - p));
    const dis = 0.5 * mean64(lr.map((x) => bce(sigmoid64(x), 1))) + 0.5 * mean64(lf.map((x) => bce(sigmoid64(x), 0)));
    const gen = mean64(lf.map((x) => bce(sigmoid64(x), 1)));
    const shapes = [
      [2, 3, 2, 2],
      [3, 2, 1, 1],
    ];
    const featsR = shapes.map((sh, i) =>
      f64(
        sh.reduce((a, b) => a * b),
        10 + i,
      ),
    );
    const featsF = shapes.map((sh, i) =>
      f64(
        sh.reduce((a, b) => a * b),
        20 + i,
      ),
    );
    let fm = 0;
    shapes.forEach((sh, l) => {
      const [n, per] = [sh[0], sh[1] * sh[2] * sh[3]];
      let s = 0;
      for (let j = 0; j < per; j++) {
        let mr = 0;
        let mf = 0;
        for (let k = 0; k < n; k++) {
          mr += featsR[l][k * per + j] / n;
          mf += featsF[l][k * per + j] / n;
        }
        s += (mr - mf) ** 2;
      }
      fm += s / per;
    });
    const got = tidy(() => {
      const g = discoGanLoss(tensor(lr, [2, 1, 2, 2]), tensor(lf, [2, 1, 2, 2]));
      const f = featureMatchingLoss(
        featsR.map((v, i) => tensor(v, shapes[i])),
        featsF.map((v, i) => tensor(v, shapes[i])),
      );
      return [g.dis.keep(), g.gen.keep(), f.keep()];
    });
    expect((await values(got[0]))[0]).toBeCloseTo(dis, 5);
    expect((await values(got[1]))[0]).toBeCloseTo(gen, 5);
    expect((await values(got[2]))[0]).toBeCloseTo(fm, 5);
    for (const t of got) t.dispose();
  });
});

// ---- cadences, clipping, the penalty option ----

/** `steps` training steps on synthetic rows; the last step's statistics and the live-buffer count after each step. */
async function run(trainer: GanTrainer, s: number, batchSize: number, steps: number) {
  const data = synthDiscPairs(16, s, 5);
  const per = 6 * s * s;
  const live: number[] = [];
  const all: Record<string, number>[] = [];
  for (let i = 0; i < steps; i++) {
    const j = (i * batchSize) % 16;
    const batch = tensor(data.subarray(j * per, (j + batchSize) * per), [batchSize, 6, s, s]);
    const stats = trainer.step(batch, true);
    batch.dispose();
    all.push(await readStats(stats!));
    live.push(engine().memory().liveBuffers);
  }
  return { all, live };
}

async function maxAbs(net: Module): Promise<number> {
  let m = 0;
  for (const p of net.parameters()) for (const v of await values(p)) m = Math.max(m, Math.abs(v));
  return m;
}

describe('update cadences, weight clipping and the gradient penalty', () => {
  it('DualGAN: critics every step and clipped to [-c, c]; generators every n_critic-th step; finite losses, nothing kept per step', async () => {
    const trainer = new DualGanTrainer(
      dualganRecipe.parse({ imageSize: 32, netG: 'unet_32', ngf: 4, netD: 'basic', ndf: 4, nCritic: 2, clip: 0.02 }),
      { lr: 5e-5 },
      2,
    );
    try {
      expect(await maxAbs(trainer.nets.netD_A)).toBeGreaterThan(0.5); // BN scales start near 1
      const { all, live } = await run(trainer, 32, 2, 4);
      expect(await maxAbs(trainer.nets.netD_A)).toBeLessThanOrEqual(0.02);
      expect(await maxAbs(trainer.nets.netD_B)).toBeLessThanOrEqual(0.02);
      expect(trainer.optimizers.netD_A.stepCount(0)).toBe(4);
      expect(trainer.optimizers.netG_A.stepCount(0)).toBe(2);
      // Generator losses only on the generator steps (2 and 4).
      expect(all.map((st) => 'loss_rec_A' in st)).toEqual([false, true, false, true]);
      for (const st of all) expect(Object.values(st).every(Number.isFinite), JSON.stringify(st)).toBe(true);
      expect(live[3]).toBe(live[1]); // same phase of the cycle, after every optimizer state exists
    } finally {
      trainer.dispose();
    }
  });

  it('clipWeights_ clamps every parameter and leaves those inside alone', async () => {
    const conv = new Conv2d(2, 3, 3);
    const w = Array.from({ length: 54 }, (_, i) => Math.sin(i) * 0.3);
    assign(conv.weight, w);
    assign(conv.bias!, [0.5, -0.01, -0.2]);
    clipWeights_(conv, 0.1);
    expect(Array.from(await values(conv.weight))).toEqual(w.map((v) => Math.fround(Math.min(0.1, Math.max(-0.1, v)))));
    expect(Array.from(await values(conv.bias!))).toEqual([0.1, -0.01, -0.1].map(Math.fround));
    conv.dispose();
  });

  it('DualGAN --gp: the penalty through double backward, no clipping', async () => {
    const trainer = new DualGanTrainer(
      dualganRecipe.parse({
        imageSize: 32,
        netG: 'unet_32',
        ngf: 4,
        netD: 'patch16',
        ndf: 4,
        norm: 'instance',
        nCritic: 1,
        gp: true,
        clip: 0.01,
      }),
      { lr: 5e-5 },
      3,
    );
    try {
      const { all, live } = await run(trainer, 32, 2, 3);
      for (const st of all) {
        expect(Object.values(st).every(Number.isFinite), JSON.stringify(st)).toBe(true);
        expect(st.loss_gp_A).toBeGreaterThan(0);
        expect(st.loss_D_A).toBeCloseTo(-st.wdist_A + st.loss_gp_A, 4);
      }
      expect(await maxAbs(trainer.nets.netD_A)).toBeGreaterThan(0.01); // not clipped
      expect(live[2]).toBe(live[1]);
    } finally {
      trainer.dispose();
    }
  });

  it('DiscoGAN: a discriminator update every third iteration from the first, the curriculum rate; nothing kept per step', async () => {
    const trainer = new DiscoGanTrainer(
      discoganRecipe.parse({ imageSize: 64, ngf: 4, ndf: 4, ganCurriculum: 4 }),
      { lr: 2e-4, beta1: 0.5, beta2: 0.999 },
      4,
    );
    try {
      const rates: number[] = [];
      const data = synthDiscPairs(4, 64, 9);
      const live: number[] = [];
      for (let i = 0; i < 6; i++) {
        rates.push(trainer.rate);
        const j = (i * 2) % 4;
        const batch = tensor(data.subarray(j * 6 * 4096, (j + 2) * 6 * 4096), [2, 6, 64, 64]);
        const stats = await readStats(trainer.step(batch, true)!);
        batch.dispose();
        expect(Object.values(stats).every(Number.isFinite), JSON.stringify(stats)).toBe(true);
        live.push(engine().memory().liveBuffers);
      }
      expect(rates).toEqual([0.01, 0.01, 0.01, 0.01, 0.5, 0.5]);
      expect(trainer.optimizers.discriminator_A.stepCount(0)).toBe(2); // iterations 0 and 3
      expect(trainer.optimizers.generator_A.stepCount(0)).toBe(4);
      expect(trainer.iteration).toBe(6);
      expect(live[5]).toBe(live[2]);
    } finally {
      trainer.dispose();
    }
  });
});

// ---- recipes and eval hooks ----

describe('recipes and the eval hooks', () => {
  const defaultsOf = (r: ModelRecipe) =>
    Object.fromEntries(Object.entries(r.options).map(([k, o]) => [k, o.default as number | string | boolean]));

  it('accept their defaults and quick presets, and name the flag of a bad config', () => {
    for (const r of [dualganRecipe, discoganRecipe]) {
      const d = defaultsOf(r);
      expect(r.validate(d)).toEqual([]);
      expect(r.validate({ ...d, ...r.quick })).toEqual([]);
      expect(r.imageShape(d)).toEqual({ channels: 6, size: 64 });
      expect(r.train.dataset).toBe('emoji-unpaired');
    }
    expect(dualganRecipe.train.lr).toBe(5e-5);
    const dual = defaultsOf(dualganRecipe);
    expect(dualganRecipe.validate({ ...dual, gp: true })[0]).toMatch(/--gp .* --norm instance/);
    expect(dualganRecipe.validate({ ...dual, gp: true, norm: 'instance' })).toEqual([]);
    expect(dualganRecipe.validate({ ...dual, nCritic: 0 })[0]).toMatch(/--n-critic/);
    expect(dualganRecipe.validate({ ...dual, clip: 0 })[0]).toMatch(/--clip/);
    const disco = defaultsOf(discoganRecipe);
    expect(discoganRecipe.validate({ ...disco, imageSize: 32 })[0]).toMatch(/--image-size must be a multiple of 16 in \[64/);
    expect(discoganRecipe.validate({ ...disco, updateInterval: 1 })[0]).toMatch(/--update-interval/);
    expect(discoganRecipe.validate({ ...disco, startingRate: 2 })[0]).toMatch(/--starting-rate/);
  });

  it("heldOutPairs takes the dataset's aligned test pairs at the model's size (A in, B target); translate maps A -> B in [-1, 1], deterministically", async () => {
    const asked: unknown[] = [];
    setHeldOutSource((opts) => {
      asked.push(opts);
      const s = opts.size;
      return { data: synthDiscPairs(3, s, 1), n: 3, channelsA: 3, channelsB: 3, size: s, names: ['a', 'b', 'c'] };
    });
    try {
      for (const [recipe, config] of [
        [dualganRecipe, { imageSize: 32, netG: 'unet_32', ngf: 2, netD: 'basic', ndf: 2 }],
        [discoganRecipe, { imageSize: 64, ngf: 2, ndf: 2 }],
      ] as const) {
        const s = config.imageSize;
        const pairs = await recipe.heldOutPairs(config, { limit: 3 });
        expect(asked.at(-1)).toEqual({ dataset: 'emoji-unpaired', size: s, limit: 3 });
        const rows = synthDiscPairs(3, s, 1);
        expect(pairs.inputShape).toEqual([3, s, s]);
        expect(Array.from(pairs.inputs.subarray(0, 3 * s * s))).toEqual(Array.from(rows.subarray(0, 3 * s * s)));
        expect(Array.from(pairs.targets.subarray(0, 3 * s * s))).toEqual(Array.from(rows.subarray(3 * s * s, 6 * s * s)));
        const trainer = recipe.create(config, { ...recipe.train, lr: 1e-4 }, 1);
        const x = tensor(pairs.inputs, [3, 3, s, s]);
        try {
          const y1 = recipe.translate(trainer, x);
          const y2 = recipe.translate(trainer, x);
          expect([...y1.shape]).toEqual([3, 3, s, s]);
          const v1 = await values(y1);
          expect(Array.from(await values(y2))).toEqual(Array.from(v1));
          expect(v1.every((v) => v >= -1 && v <= 1)).toBe(true);
          y1.dispose();
          y2.dispose();
        } finally {
          x.dispose();
          (trainer as unknown as { dispose(): void }).dispose();
        }
      }
    } finally {
      setHeldOutSource(null);
    }
  });
});
