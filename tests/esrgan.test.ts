// UpscalerJS's published ESRGAN generators (tfjs layers models) imported into the engine
// (pretrained/) and run against tfjs itself on the very same weights: tfjs-webgpu on the same Dawn
// adapter, in this process. Every model and scale the installed packages ship, on an 8x8 and an
// odd 7x9 patch cut from an emoji and from UpscalerJS's own fixture photo, values 0..255.
// Error measure: max |engine - tfjs| / max |tfjs| over the whole output (elementwise relative error
// is meaningless where outputs cross zero); bound 1e-4. The layer types of esrgan-thick (not
// installed here: 110 MB) run on a tiny synthetic model.json built below against a float64 CPU
// interpreter of the same json, and through tfjs with UpscalerJS's own layer definitions.

import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backward, getGpu, initEngine, io, noGrad, ops, tensor, tidy, type Tensor } from '../engine/index.js';

const { modelToBytes, loadModelBytes } = io;
const { mul, sum } = ops;
import { readPng, writePng } from '../data/png_node.js';
import { createTfjs, type TfjsHandle } from '../bench/tfjs.js';
import { UPSCALER_MODELS, modelJsonPath, upscalerModel } from '../pretrained/catalogue.js';
import { findPackageDir, loadUpscalerModel } from '../pretrained/node.js';
import {
  concatBytes,
  decodeWeights,
  fetchLayersModel,
  importLayersModel,
  tfSamePadding,
  type HostWeight,
  type TfjsLayersModelJson,
} from '../pretrained/tfjs_layers.js';
import { activationTooLarge, toPlanarRgb, upscaleImage } from '../pretrained/upscale.js';
import { buildPrivateCli } from './support/cli_bundle.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readFileSync } from 'node:fs';
import { seeded } from './support/util.js';

type Tfl = typeof import('@tensorflow/tfjs-layers');
let h: TfjsHandle;
let tfl: Tfl;

beforeAll(async () => {
  await initEngine();
  h = await createTfjs(await getGpu());
  tfl = (await import('@tensorflow/tfjs-layers')) as Tfl;
  registerThickLayers(h.tf);
});

const root = join(import.meta.dirname, '..');

/** A patch [3, ph, pw] (0..255, alpha over white) cut at (y, x) from a PNG. */
function patch(file: string, y: number, x: number, ph: number, pw: number): { data: Float32Array; h: number; w: number } {
  const img = readPng(file);
  const rgb = toPlanarRgb(img);
  const out = new Float32Array(3 * ph * pw);
  for (let c = 0; c < 3; c++)
    for (let i = 0; i < ph; i++)
      for (let j = 0; j < pw; j++) out[(c * ph + i) * pw + j] = rgb[(c * img.height + y + i) * img.width + x + j];
  return { data: out, h: ph, w: pw };
}

const EMOJI = join(root, 'node_modules/emoji-datasource-google/img/google/64/1f600.png');
const FIXTURE = join(root, 'node_modules/@upscalerjs/default-model/assets/fixture.png');
const PATCHES = () => [
  { name: 'emoji 8x8', ...patch(EMOJI, 20, 16, 8, 8) },
  { name: 'photo 7x9', ...patch(FIXTURE, 50, 41, 7, 9) },
];

/** tfjs's own model from the same model.json and weight bytes (tf.io.fromMemory). */
async function tfjsModel(json: TfjsLayersModelJson, groups: Uint8Array[]) {
  const { tf } = h;
  const all = concatBytes(groups);
  const handler = tf.io.fromMemory({
    modelTopology: json.modelTopology as never,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights) as never,
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
  });
  return tfl.loadLayersModel(handler);
}

/** Runs a tfjs model on planar [3, H, W] data; returns its output planar [C, H', W'] and shape. */
async function runTfjs(
  m: Awaited<ReturnType<typeof tfjsModel>>,
  p: { data: Float32Array; h: number; w: number },
  scale = 1,
): Promise<{ out: Float32Array; shape: number[] }> {
  const { tf } = h;
  const y = tf.tidy(() => {
    const x = tf.transpose(tf.tensor4d(p.data, [1, 3, p.h, p.w]), [0, 2, 3, 1]);
    const o = m.predict(scale === 1 ? x : tf.mul(x, scale)) as TfCoreTensor;
    return tf.transpose(o, [0, 3, 1, 2]);
  });
  const out = (await y.data()) as Float32Array;
  const shape = y.shape;
  y.dispose();
  return { out, shape };
}
type TfCoreTensor = import('@tensorflow/tfjs-core').Tensor;

async function runEngine(
  model: { call: (x: Tensor) => Tensor },
  p: { data: Float32Array; h: number; w: number },
): Promise<{ out: Float32Array; shape: number[] }> {
  const y = noGrad(() => tidy(() => model.call(tensor(p.data, [1, 3, p.h, p.w]))));
  const out = await y.data();
  const shape = [...y.shape];
  y.dispose();
  return { out, shape };
}

function relErr(a: Float32Array | Float64Array, ref: Float32Array | Float64Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    d = Math.max(d, Math.abs(a[i] - ref[i]));
    m = Math.max(m, Math.abs(ref[i]));
  }
  return d / m;
}

const report: string[] = [];
afterAll(() => {
  if (report.length) console.log(`engine vs tfjs-webgpu (max |diff| / max |tfjs|):\n${report.join('\n')}`);
});

describe('UpscalerJS models: engine vs tfjs on the same weights', () => {
  const installed = UPSCALER_MODELS.filter((m) => !m.optional || findPackageDir(m.pkg));
  for (const m of installed) {
    for (const scale of m.scales) {
      it(`${m.id} x${scale}`, async () => {
        const { model, json, modelJson } = await loadUpscalerModel(m.id, scale);
        const groups = json.weightsManifest.map((g) =>
          concatBytes(g.paths.map((p) => new Uint8Array(readFileSync(join(modelJson, '..', p))))),
        );
        const tm = await tfjsModel(json, groups);
        // Every ReLU of these RDNs follows a Conv2D that nothing else reads: all fused into the conv.
        expect(model.fusedActivations.length).toBe(model.layerCounts().Activation);
        const [lo, hi] = m.inputRange;
        for (const p0 of PATCHES()) {
          const p = { ...p0, data: p0.data.map((v) => lo + (v * (hi - lo)) / 255) };
          const e = await runEngine(model, p);
          const t = await runTfjs(tm, p);
          expect(e.shape).toEqual([1, 3, p.h * scale, p.w * scale]);
          expect(t.shape).toEqual(e.shape);
          const err = relErr(e.out, t.out);
          report.push(`  ${m.id} x${scale} ${p.name}: ${err.toExponential(2)}`);
          expect(err).toBeLessThan(1e-4);
        }
        tm.dispose();
      });
    }
  }
});

// ---- the thick model's layer types on a synthetic model ------------------------------------------

/** A Keras-2 functional layer entry. */
function layer(cls: string, name: string, config: Record<string, unknown>, inputs: string[]) {
  return {
    class_name: cls,
    name,
    config: { name, trainable: true, dtype: 'float32', ...config },
    inbound_nodes: inputs.length ? [inputs.map((i) => [i, 0, 0, {}])] : [],
  };
}
const conv = (name: string, filters: number, k: number, input: string, extra: Record<string, unknown> = {}) =>
  layer(
    'Conv2D',
    name,
    {
      filters,
      kernel_size: [k, k],
      strides: [1, 1],
      padding: 'same',
      data_format: 'channels_last',
      dilation_rate: [1, 1],
      groups: 1,
      activation: 'linear',
      use_bias: true,
      ...extra,
    },
    [input],
  );

/**
 * A tiny RRDN-like model.json: MultiplyBeta (config beta 0.3, and one without beta: UpscalerJS's
 * 0.2), a residual Add, Concatenate on channels, an even 4x4 'same' kernel (TF pads 1 before, 2
 * after), a 1x1 'valid' conv, PixelShuffle2x (tf.depthToSpace order), and a 3x3 stride-2 'same'
 * conv (asymmetric pad on the odd input). Weights from a seeded generator, in tfjs's layout.
 */
function syntheticModel(): { json: TfjsLayersModelJson; groups: Uint8Array[] } {
  const layers = [
    layer('InputLayer', 'LR', { batch_input_shape: [null, null, null, 3] }, []),
    conv('A', 8, 3, 'LR', { activation: 'relu' }),
    conv('B', 8, 4, 'A'),
    layer('MultiplyBeta', 'mb1', { beta: 0.3 }, ['B']),
    layer('Add', 'res', {}, ['A', 'mb1']),
    layer('Activation', 'res_relu', { activation: 'relu' }, ['res']),
    layer('Concatenate', 'cat', { axis: 3 }, ['res_relu', 'A']),
    layer('MultiplyBeta', 'mb2', {}, ['cat']),
    conv('E', 12, 1, 'mb2', { padding: 'valid' }),
    layer('PixelShuffle2x', 'pixel_shuffle', { scale: 2 }, ['E']),
    conv('SR', 3, 3, 'pixel_shuffle', { strides: [2, 2] }),
  ];
  const shapes: [string, number[]][] = [
    ['A/kernel', [3, 3, 3, 8]],
    ['A/bias', [8]],
    ['B/kernel', [4, 4, 8, 8]],
    ['B/bias', [8]],
    ['E/kernel', [1, 1, 16, 12]],
    ['E/bias', [12]],
    ['SR/kernel', [3, 3, 3, 3]],
    ['SR/bias', [3]],
  ];
  // Two groups, the second split over two shards mid-weight, as the converter does for big models.
  const data = shapes.map(([, s], i) =>
    seeded(
      s.reduce((a, b) => a * b, 1),
      100 + i,
      -0.5,
      0.5,
    ),
  );
  const bytes = (arrs: Float32Array[]) => concatBytes(arrs.map((a) => new Uint8Array(a.buffer.slice(0))));
  const json: TfjsLayersModelJson = {
    format: 'layers-model',
    generatedBy: 'tests/esrgan.test.ts',
    modelTopology: {
      keras_version: '2.10.0',
      backend: 'tensorflow',
      model_config: {
        class_name: 'Functional',
        config: { name: 'tiny_rrdn', layers, input_layers: [['LR', 0, 0]], output_layers: [['SR', 0, 0]] },
      },
    },
    weightsManifest: [
      { paths: ['group1-shard1of1.bin'], weights: shapes.slice(0, 4).map(([name, shape]) => ({ name, shape, dtype: 'float32' })) },
      {
        paths: ['group2-shard1of2.bin', 'group2-shard2of2.bin'],
        weights: shapes.slice(4).map(([name, shape]) => ({ name, shape, dtype: 'float32' })),
      },
    ],
  };
  return { json, groups: [bytes(data.slice(0, 4)), bytes(data.slice(4))] };
}

/** float64 NHWC interpreter of a layers-model json (batch 1): the reference for the importer. */
function referenceForward(
  json: TfjsLayersModelJson,
  w: Map<string, HostWeight>,
  x: Float64Array,
  H: number,
  W: number,
): { out: Float64Array; h: number; w: number; c: number } {
  type V = { d: Float64Array; h: number; w: number; c: number };
  const vals = new Map<string, V>();
  const layers = json.modelTopology.model_config!.config.layers;
  let last: V | null = null;
  for (const l of layers) {
    const c = l.config as Record<string, any>;
    const ins = ((l.inbound_nodes?.[0] as unknown[][]) ?? []).map((e) => vals.get(e[0] as string)!);
    let v: V;
    const ps = /^PixelShuffle(\d+)x$/.exec(l.class_name);
    if (l.class_name === 'InputLayer') v = { d: x, h: H, w: W, c: 3 };
    else if (l.class_name === 'Conv2D') {
      const k = w.get(`${c.name}/kernel`)!;
      const b = w.get(`${c.name}/bias`)!;
      const [kh, kw, ci, co] = k.shape;
      const [sh, sw] = c.strides;
      const a = ins[0];
      let oh = a.h - kh + 1,
        ow = a.w - kw + 1,
        pt = 0,
        pl = 0;
      if (c.padding === 'same') {
        oh = Math.ceil(a.h / sh);
        ow = Math.ceil(a.w / sw);
        pt = Math.floor(Math.max((oh - 1) * sh + kh - a.h, 0) / 2);
        pl = Math.floor(Math.max((ow - 1) * sw + kw - a.w, 0) / 2);
      } else {
        oh = Math.floor((a.h - kh) / sh) + 1;
        ow = Math.floor((a.w - kw) / sw) + 1;
      }
      const d = new Float64Array(oh * ow * co);
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++)
          for (let o = 0; o < co; o++) {
            let s = b.data[o];
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const iy = y * sh + i - pt,
                  ix = xx * sw + j - pl;
                if (iy < 0 || iy >= a.h || ix < 0 || ix >= a.w) continue;
                for (let q = 0; q < ci; q++) s += a.d[(iy * a.w + ix) * ci + q] * k.data[((i * kw + j) * ci + q) * co + o];
              }
            d[(y * ow + xx) * co + o] = c.activation === 'relu' ? Math.max(s, 0) : s;
          }
      v = { d, h: oh, w: ow, c: co };
    } else if (l.class_name === 'Activation') v = { ...ins[0], d: ins[0].d.map((t) => (c.activation === 'relu' ? Math.max(t, 0) : t)) };
    else if (l.class_name === 'MultiplyBeta') v = { ...ins[0], d: ins[0].d.map((t) => t * (c.beta ?? 0.2)) };
    else if (l.class_name === 'Add') v = { ...ins[0], d: ins[0].d.map((_, i) => ins.reduce((s, u) => s + u.d[i], 0)) };
    else if (l.class_name === 'Concatenate') {
      const C = ins.reduce((s, u) => s + u.c, 0);
      const d = new Float64Array(ins[0].h * ins[0].w * C);
      for (let p = 0; p < ins[0].h * ins[0].w; p++) {
        let off = 0;
        for (const u of ins) {
          for (let q = 0; q < u.c; q++) d[p * C + off + q] = u.d[p * u.c + q];
          off += u.c;
        }
      }
      v = { d, h: ins[0].h, w: ins[0].w, c: C };
    } else if (ps) {
      const s = Number(c.scale ?? ps[1]);
      const a = ins[0];
      const C = a.c / (s * s);
      const d = new Float64Array(a.h * s * a.w * s * C);
      for (let y = 0; y < a.h * s; y++)
        for (let xx = 0; xx < a.w * s; xx++)
          for (let q = 0; q < C; q++)
            d[(y * a.w * s + xx) * C + q] = a.d[(Math.floor(y / s) * a.w + Math.floor(xx / s)) * a.c + ((y % s) * s + (xx % s)) * C + q];
      v = { d, h: a.h * s, w: a.w * s, c: C };
    } else throw new Error(`reference: no ${l.class_name}`);
    vals.set(c.name, v);
    last = v;
  }
  return { out: last!.d, h: last!.h, w: last!.w, c: last!.c };
}

/** UpscalerJS's two custom layers, registered with tfjs (as its model definition's setup() does). */
function registerThickLayers(tf: TfjsHandle['tf']) {
  const Layer = tfl.layers.Layer as unknown as new (c: object) => { getConfig(): Record<string, unknown> };
  class MultiplyBeta extends Layer {
    static className = 'MultiplyBeta';
    beta: number;
    constructor(config: { beta?: number }) {
      super(config);
      this.beta = config.beta ?? 0.2;
    }
    call(inputs: TfCoreTensor | TfCoreTensor[]) {
      return tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, this.beta);
    }
    override getConfig() {
      return { ...super.getConfig(), beta: this.beta };
    }
  }
  // One class per scale, named as UpscalerJS names them (`PixelShuffle${scale}x`).
  const pixelShuffle = (n: number) =>
    class PixelShuffle extends Layer {
      static className = `PixelShuffle${n}x`;
      scale: number;
      constructor(config: { scale?: number }) {
        super(config);
        this.scale = config.scale ?? n;
      }
      computeOutputShape(s: number[]) {
        return [s[0], s[1] === null ? null : s[1] * this.scale, s[2] === null ? null : s[2] * this.scale, s[3] / (this.scale * this.scale)];
      }
      call(inputs: TfCoreTensor | TfCoreTensor[]) {
        return tf.depthToSpace((Array.isArray(inputs) ? inputs[0] : inputs) as never, this.scale, 'NHWC');
      }
      override getConfig() {
        return { ...super.getConfig(), scale: this.scale };
      }
    };
  tf.serialization.registerClass(MultiplyBeta as never);
  for (const n of [2, 3, 4, 8]) tf.serialization.registerClass(pixelShuffle(n) as never);
}

describe('MultiplyBeta, PixelShuffle<N>x, even and strided same padding (synthetic model)', () => {
  it('matches a float64 CPU interpreter and tfjs with UpscalerJS-style custom layers', async () => {
    const { json, groups } = syntheticModel();
    const weights = decodeWeights(json.weightsManifest, groups);
    const model = importLayersModel(json, weights);
    expect(model.layerCounts()).toEqual({
      InputLayer: 1,
      Conv2D: 4,
      MultiplyBeta: 2,
      Add: 1,
      Activation: 1,
      Concatenate: 1,
      PixelShuffle2x: 1,
    });
    const p = { name: 'photo 7x9', ...patch(FIXTURE, 60, 30, 7, 9) };
    p.data = p.data.map((v) => v / 255); // the RRDN range
    // reference on NHWC float64
    const nhwc = new Float64Array(7 * 9 * 3);
    for (let c = 0; c < 3; c++) for (let i = 0; i < 63; i++) nhwc[i * 3 + c] = p.data[c * 63 + i];
    const ref = referenceForward(json, weights, nhwc, 7, 9);
    const refNchw = new Float64Array(ref.out.length);
    for (let c = 0; c < ref.c; c++) for (let i = 0; i < ref.h * ref.w; i++) refNchw[c * ref.h * ref.w + i] = ref.out[i * ref.c + c];
    expect([ref.h, ref.w, ref.c]).toEqual([7, 9, 3]);
    const e = await runEngine(model, p);
    expect(e.shape).toEqual([1, 3, 7, 9]);
    const errRef = relErr(e.out, refNchw);
    const tm = await tfjsModel(json, groups);
    const t = await runTfjs(tm, p);
    tm.dispose();
    const errTf = relErr(e.out, Float32Array.from(t.out));
    report.push(`  synthetic RRDN layers 7x9: vs float64 ${errRef.toExponential(2)}, vs tfjs ${errTf.toExponential(2)}`);
    expect(errRef).toBeLessThan(1e-5);
    expect(errTf).toBeLessThan(1e-4);
  });

  it("TF 'same' padding: symmetric for odd kernels, the extra row/column after for even ones", () => {
    expect(tfSamePadding(7, 3, 1, 1)).toEqual([1, 1]);
    expect(tfSamePadding(7, 5, 1, 1)).toEqual([2, 2]);
    expect(tfSamePadding(7, 4, 1, 1)).toEqual([1, 2]);
    expect(tfSamePadding(8, 2, 1, 1)).toEqual([0, 1]);
    expect(tfSamePadding(14, 3, 2, 1)).toEqual([0, 1]);
    expect(tfSamePadding(7, 3, 1, 2)).toEqual([2, 2]);
  });
});

describe('importer errors and the imported Module', () => {
  it('an unknown layer type fails naming the type, the layer and the supported list', () => {
    const { json, groups } = syntheticModel();
    const layers = json.modelTopology.model_config!.config.layers;
    layers.splice(2, 0, layer('BatchNormalization', 'bn_7', { axis: 3 }, ['A']));
    const weights = decodeWeights(json.weightsManifest, groups);
    expect(() => importLayersModel(json, weights)).toThrow(
      "tfjs importer: unsupported layer type 'BatchNormalization' (layer 'bn_7'); supported: InputLayer, Conv2D, Activation, Concatenate, Add, UpSampling2D, MultiplyBeta, PixelShuffle<N>x",
    );
  });

  it('a missing shard or a weight that is not in the model is reported with names', () => {
    const { json, groups } = syntheticModel();
    expect(() => decodeWeights(json.weightsManifest, [groups[0], groups[1].subarray(0, 100)])).toThrow(
      /weight 'E\/kernel'.*group 1 \(group2-shard1of2.bin, group2-shard2of2.bin\) has 100: a shard is missing or truncated/,
    );
    const w = decodeWeights(json.weightsManifest, groups);
    w.set('ghost/kernel', { shape: [1], data: new Float32Array(1) });
    expect(() => importLayersModel(json, w)).toThrow("weight 'ghost/kernel' belongs to no layer of the model");
    const bad = structuredClone(json);
    (bad.modelTopology.model_config!.config.layers[1].config as Record<string, unknown>).activation = 'selu';
    expect(() => importLayersModel(bad, decodeWeights(json.weightsManifest, groups))).toThrow(
      "layer 'A' (Conv2D) has activation 'selu'; supported: linear, relu, sigmoid, tanh",
    );
  });

  it('is an ordinary Module: state dict by Keras layer name, safetensors round trip, gradients match float64 finite differences', async () => {
    const { json, groups } = syntheticModel();
    const weights = decodeWeights(json.weightsManifest, groups);
    const model = importLayersModel(json, weights);
    const sd = model.stateDict();
    expect([...sd.keys()]).toEqual(['A.weight', 'A.bias', 'B.weight', 'B.bias', 'E.weight', 'E.bias', 'SR.weight', 'SR.bias']);
    expect(sd.get('B.weight')!.shape).toEqual([8, 8, 4, 4]);
    // safetensors round trip into a second import with other weights
    const bytes = await modelToBytes(model);
    const other = importLayersModel(json, new Map([...weights].map(([k, v]) => [k, { shape: v.shape, data: v.data.map((x) => x + 1) }])));
    loadModelBytes(bytes, other);
    expect(await other.conv('B').weight.data()).toEqual(await model.conv('B').weight.data());

    // d/dtheta sum(out * r) through the engine's tape vs central differences of the float64 reference.
    const H = 5,
      W = 7;
    const x = seeded(3 * H * W, 7, 0, 1);
    const r = seeded(3 * H * W, 8);
    const nhwc = new Float64Array(H * W * 3);
    for (let c = 0; c < 3; c++) for (let i = 0; i < H * W; i++) nhwc[i * 3 + c] = x[c * H * W + i];
    const lossRef = (wm: Map<string, HostWeight>) => {
      const o = referenceForward(json, wm, nhwc, H, W);
      let l = 0;
      for (let c = 0; c < 3; c++) for (let i = 0; i < H * W; i++) l += o.out[i * 3 + c] * r[c * H * W + i];
      return l;
    };
    const loss = mul(model.call(tensor(x, [1, 3, H, W])), tensor(r, [1, 3, H, W]));
    backward(sum(loss));
    // (tf name, tf index, engine param, engine index): B/kernel (1,2,4,5) = B.weight[5,4,1,2]; E/kernel (0,0,9,3) = E.weight[3,9,0,0]
    const picks: [string, number, Tensor, number][] = [
      ['B/kernel', ((1 * 4 + 2) * 8 + 4) * 8 + 5, model.conv('B').weight, ((5 * 8 + 4) * 4 + 1) * 4 + 2],
      ['E/kernel', 9 * 12 + 3, model.conv('E').weight, 3 * 16 + 9],
      ['A/bias', 3, model.conv('A').bias!, 3],
      ['SR/kernel', ((2 * 3 + 0) * 3 + 1) * 3 + 2, model.conv('SR').weight, ((2 * 3 + 1) * 3 + 2) * 3 + 0],
    ];
    for (const [name, ti, p, ei] of picks) {
      const eps = 1e-4;
      const at = (d: number) => {
        const wm = new Map(weights);
        const data = Float64Array.from(weights.get(name)!.data) as unknown as Float32Array;
        data[ti] += d;
        wm.set(name, { shape: weights.get(name)!.shape, data });
        return lossRef(wm);
      };
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      const g = (await p.grad!.data())[ei];
      expect(Math.abs(g - fd), `${name}[${ti}]: engine ${g} vs finite difference ${fd}`).toBeLessThan(1e-3 * Math.max(1, Math.abs(fd)));
    }
  });
});

describe('loading through fetch (the browser path)', () => {
  it("fetchLayersModel resolves the shards beside model.json and gives the node loader's weights", async () => {
    const pkgDir = findPackageDir('@upscalerjs/esrgan-slim')!;
    const asked: string[] = [];
    const fakeFetch = (async (u: string | URL) => {
      const url = String(u);
      asked.push(url);
      const rel = url.replace('http://models.test/slim/', '');
      return new Response(readFileSync(join(pkgDir, 'models', rel)));
    }) as typeof fetch;
    const { model } = await fetchLayersModel('http://models.test/slim/x3/model.json', { fetch: fakeFetch });
    expect(asked).toEqual(['http://models.test/slim/x3/model.json', 'http://models.test/slim/x3/group1-shard1of1.bin']);
    const ref = (await loadUpscalerModel('esrgan-slim', 3)).model;
    expect(await model.conv('UPN3').weight.data()).toEqual(await ref.conv('UPN3').weight.data());
  });
});

describe('the catalogue matches the installed packages', () => {
  const require = createRequire(import.meta.url);
  for (const m of UPSCALER_MODELS.filter((e) => !e.optional || findPackageDir(e.pkg))) {
    it(`${m.id}: scales, model.json paths and value ranges as its model definition declares`, () => {
      const main = require(m.pkg) as Record<
        string,
        { scale: number; inputRange: number[]; outputRange: number[]; _internals: { path: string }; meta: { architecture: string } }
      > & { scale?: number };
      const defs = m.id === 'default-model' ? { x2: main as never } : main;
      expect(Object.keys(defs).sort()).toEqual(m.scales.map((s) => `x${s}`).sort());
      for (const s of m.scales) {
        const d = defs[`x${s}`];
        expect(d.scale).toBe(s);
        expect(d._internals.path).toBe(modelJsonPath(m, s));
        expect(d.inputRange).toEqual([...m.inputRange]);
        expect(d.outputRange).toEqual([...m.outputRange]);
        expect(d.meta.architecture).toBe(m.architecture);
      }
    });
  }
  it('esrgan-thick is optional: loaded only when installed', () => {
    const thick = upscalerModel('esrgan-thick');
    if (!findPackageDir(thick.pkg)) {
      console.log(
        'esrgan-thick is not installed (110 MB): its parity test is skipped; `npm install --no-save @upscalerjs/esrgan-thick` enables it',
      );
      return expect(loadUpscalerModel('esrgan-thick', 4)).rejects.toThrow('npm install --no-save @upscalerjs/esrgan-thick');
    }
    expect(thick.architecture).toBe('rrdn');
  });
});

describe('gan upscale', () => {
  it('writes the image upscaleImage() gives in-process, refuses unshipped scales; oversized activations are named', async () => {
    const cli = await buildPrivateCli('esrgan');
    const dir = mkdtempSync(join(tmpdir(), 'gan-esrgan-'));
    try {
      const src = readPng(FIXTURE); // 128x128 RGBA photo
      const crop = new Uint8Array(9 * 7 * 4);
      for (let y = 0; y < 7; y++) crop.set(src.data.subarray(((30 + y) * 128 + 40) * 4, ((30 + y) * 128 + 49) * 4), y * 9 * 4);
      const input = join(dir, 'in.png');
      writePng(input, crop, 9, 7, 4);
      const run = (...args: string[]) =>
        spawnSync(process.execPath, [cli, 'upscale', input, ...args], {
          encoding: 'utf8',
          env: { ...process.env, NODEVICE_SELECT: '1' },
          timeout: 120_000,
        });
      const ok = run('--model', 'esrgan-slim', '--scale', '3', '--out', join(dir, 'out.png'), '--json');
      expect(ok.status, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ model: 'esrgan-slim', scale: 3, inputSize: [9, 7], outputSize: [27, 21] });
      const got = readPng(join(dir, 'out.png'));
      const { model, entry } = await loadUpscalerModel('esrgan-slim', 3);
      const want = await upscaleImage(model, entry, { width: 9, height: 7, data: crop, channels: 4 });
      expect([got.width, got.height, got.channels]).toEqual([27, 21, 3]);
      let maxDiff = 0;
      for (let i = 0; i < 27 * 21; i++)
        for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(got.data[3 * i + c] - want.rgba[4 * i + c]));
      expect(maxDiff).toBe(0);
      const bad = run('--model', 'default-model', '--scale', '4');
      expect(bad.status).toBe(2);
      expect(bad.stderr.trim()).toBe('gan upscale: default-model has no x4 model; it ships x2 (use --scale 2)');
      // The CLI's size check (in-process; no adapter here has to be small): medium x8 on the 128 px
      // photo is 192 x 1024 x 1024 floats after the upsampling, 768 MiB.
      const medium8 = (await loadUpscalerModel('esrgan-medium', 8)).model;
      expect(activationTooLarge(medium8, 128, 128, 128 * 2 ** 20)).toBe(
        'esrgan-medium x8 on 128x128 needs a 768 MiB activation (layer UPsample, 192 x 1024 x 1024), ' +
          "more than this adapter's 128 MiB storage-binding limit: use a smaller image or a lower --scale (tiling is not implemented)",
      );
      expect(activationTooLarge(medium8, 128, 128, 768 * 2 ** 20)).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
