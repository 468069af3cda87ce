// pix2pix and CycleGAN: the networks of nets/common.ts against PyTorch (state_dict keys, shapes and
// parameter counts of the full-size networks; outputs of tiny networks with random weights, from
// tests/golden/nets/, written by scripts/golden/make_net_goldens.py), the image pool, and short
// training runs on synthetic pairs in which the L1 distance to held-out targets must fall.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine, tensor, tidy, noGrad, type Module, type Tensor } from '../engine/index.js';
import { decodeSafetensors, type SafetensorsTensor } from '../engine/io/safetensors.js';
import {
  GENERATORS, DISCRIMINATORS, ResnetGenerator, UnetGenerator, NLayerDiscriminator, PixelDiscriminator, ImagePool,
  patchReceptiveField, setTestTimeDropout, type NormName,
} from '../nets/common.js';

const GOLDEN = join(__dirname, 'golden', 'nets');

beforeAll(async () => {
  await initEngine();
});

interface NetSummary {
  params: number;
  keys: [string, number[]][];
}

const params = JSON.parse(readFileSync(join(GOLDEN, 'params.json'), 'utf8')) as Record<string, NetSummary | string>;

function keysOf(net: Module): [string, number[]][] {
  return [...net.stateDict()].map(([k, t]) => [k, [...t.shape]]);
}

describe('full-size networks match the reference state_dicts', () => {
  const cases: [string, () => Module][] = [
    ['resnet_9blocks', () => GENERATORS.resnet_9blocks.make({ inputNc: 3, outputNc: 3, ngf: 64, norm: 'instance', useDropout: false })],
    ['unet_256', () => GENERATORS.unet_256.make({ inputNc: 3, outputNc: 3, ngf: 64, norm: 'batch', useDropout: true })],
    ['basic_D_6ch', () => DISCRIMINATORS.basic.make({ inputNc: 6, ndf: 64, norm: 'batch' })],
    ['resnet_6blocks', () => GENERATORS.resnet_6blocks.make({ inputNc: 3, outputNc: 3, ngf: 64, norm: 'instance', useDropout: false })],
    ['resnet_9blocks_batch_dropout', () => GENERATORS.resnet_9blocks.make({ inputNc: 3, outputNc: 3, ngf: 64, norm: 'batch', useDropout: true })],
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
      const net = build();
      try {
        expect(keysOf(net)).toEqual(want.keys);
        expect(net.numParameters()).toBe(want.params);
      } finally {
        net.dispose();
      }
    });
  }

  it('the paper\'s patch sizes', () => {
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

/** max |got - want| / max |want|: relative error over the whole output. */
function relError(got: Float32Array, want: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    num = Math.max(num, Number.isNaN(e) ? Infinity : e);
    den = Math.max(den, Math.abs(want[i]));
  }
  return num / den;
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
        expect(err, `${name}: relative error ${err.toExponential(2)}`).toBeLessThan(1e-4);
      } finally {
        net.dispose();
      }
    });
  }

  it('test-time dropout stays on in eval mode when asked (pix2pix), off otherwise', async () => {
    const net = new UnetGenerator({ inputNc: 3, outputNc: 3, ngf: 2, norm: 'batch', useDropout: true, numDowns: 6 });
    try {
      net.eval();
      const x = tensor(Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => Math.sin(i)), [1, 3, 64, 64]);
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
