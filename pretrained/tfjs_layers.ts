// A tfjs layers-model importer: model.json (a Keras functional or sequential topology, as the
// TensorFlow.js converter writes it) + its weight shards -> an ordinary engine Module.
//
// Layout conversions (tfjs is NHWC, the engine NCHW):
//   Conv2D kernel [kh, kw, in, out] -> engine weight [out, in, kh, kw]; bias as is.
//   Concatenate axis 3 / -1 (channels) -> dim 1; axis 1 (rows) -> dim 2; axis 2 (columns) -> dim 3.
//   PixelShuffle<N>x (UpscalerJS's tf.depthToSpace(x, N, 'NHWC')): output (h*N + i, w*N + j, c) takes
//     input channel (i*N + j)*C + c, which is NOT PyTorch's pixel_shuffle order (c*N*N + i*N + j);
//     done here as reshape [B, N, N, C, H, W] -> permute [B, C, H, N, W, N] -> reshape.
//   Conv2D padding 'same' is TensorFlow's rule: out = ceil(in / stride), total pad =
//     max((out - 1) * stride + (k - 1) * dilation + 1 - in, 0), top/left = floor(total / 2), the rest
//     bottom/right. Symmetric for odd kernels at stride 1; one more row/column at the bottom/right for
//     even kernels. Computed per forward pass from the input size.
//
// Layer types: InputLayer, Conv2D (linear / relu / sigmoid / tanh activation, use_bias, strides,
// dilation, padding same/valid, channels_last, groups 1), Activation (linear, relu, sigmoid, tanh),
// Concatenate, Add, UpSampling2D (nearest, integer factors), and UpscalerJS's two custom layers of
// esrgan-thick: MultiplyBeta (x * config.beta, 0.2 in UpscalerJS's definition when the config has
// none) and PixelShuffle<N>x (config.scale, else the N of the class name). Anything else fails at
// import with the layer's type, its name and the supported list.
//
// Parameters are engine Conv2d modules registered under their Keras layer names, so the state dict
// reads `F_m1.weight`, `F_m1.bias`, ... (safetensors, inspection, optimisers, gradients all work).
// The graph runs in the model's own value range; pretrained/catalogue.ts knows each package's range.

import { assign, isGradEnabled, nn, ops, type Tensor } from '../engine/index.js';

const { Conv2d, Module } = nn;
type Conv2d = InstanceType<typeof nn.Conv2d>;
const { add, concat, conv2d, mulScalar, permute, relu, reshape, sigmoid, tanh, upsampleNearest } = ops;

// ---- model.json types ---------------------------------------------------------------------------

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number; original_dtype?: string };
}

export interface TfjsWeightsGroup {
  paths: string[];
  weights: TfjsWeightSpec[];
}

export interface KerasLayerJson {
  class_name: string;
  name?: string;
  config: Record<string, unknown> & { name?: string };
  inbound_nodes?: unknown[];
}

export interface TfjsLayersModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  modelTopology: {
    keras_version?: string;
    backend?: string;
    model_config?: {
      class_name: string;
      config: { name?: string; layers: KerasLayerJson[]; input_layers?: unknown[]; output_layers?: unknown[] };
    };
    // Some converters write the model config at the top level.
    class_name?: string;
    config?: { name?: string; layers: KerasLayerJson[]; input_layers?: unknown[]; output_layers?: unknown[] };
  };
  weightsManifest: TfjsWeightsGroup[];
}

export interface HostWeight {
  shape: number[];
  data: Float32Array;
}

/** The layer types the importer understands (PixelShuffle<N>x stands for any N). */
export const SUPPORTED_LAYERS = [
  'InputLayer',
  'Conv2D',
  'Activation',
  'Concatenate',
  'Add',
  'UpSampling2D',
  'MultiplyBeta',
  'PixelShuffle<N>x',
] as const;
const ACTIVATIONS = ['linear', 'relu', 'sigmoid', 'tanh'] as const;
type ActivationName = (typeof ACTIVATIONS)[number];

/** MultiplyBeta's factor in UpscalerJS's esrgan model definition (used when a config has no beta). */
export const UPSCALERJS_BETA = 0.2;

// ---- weights ------------------------------------------------------------------------------------

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Decodes a weights manifest: `groupBytes[g]` is group g's shards concatenated in `paths` order (a
 * weight may straddle two shards). float32 and int32 as stored; quantized uint8/uint16 (v * scale +
 * min) and float16 are dequantised to float32. Each weight's length is checked against the bytes.
 */
export function decodeWeights(manifest: readonly TfjsWeightsGroup[], groupBytes: readonly Uint8Array[]): Map<string, HostWeight> {
  if (groupBytes.length !== manifest.length) {
    throw new Error(
      `decodeWeights: the manifest has ${manifest.length} weight groups but ${groupBytes.length} byte buffers were given (one per group, its shards concatenated)`,
    );
  }
  const out = new Map<string, HostWeight>();
  manifest.forEach((group, g) => {
    const bytes = groupBytes[g];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let off = 0;
    for (const w of group.weights) {
      const n = numel(w.shape);
      const q = w.quantization;
      const elemBytes = q ? (q.dtype === 'uint8' ? 1 : 2) : 4;
      const need = n * elemBytes;
      if (off + need > bytes.byteLength) {
        throw new Error(
          `decodeWeights: weight '${w.name}' (shape [${w.shape.join(', ')}], ${q ? q.dtype : w.dtype}) needs bytes ${off}..${off + need} but group ${g} (${group.paths.join(', ')}) has ${bytes.byteLength}: a shard is missing or truncated`,
        );
      }
      const data = new Float32Array(n);
      if (q) {
        if (q.dtype === 'float16') for (let i = 0; i < n; i++) data[i] = halfToFloat(view.getUint16(off + 2 * i, true));
        else if (q.dtype === 'uint8' || q.dtype === 'uint16') {
          const scale = q.scale ?? 1;
          const min = q.min ?? 0;
          for (let i = 0; i < n; i++)
            data[i] = (q.dtype === 'uint8' ? view.getUint8(off + i) : view.getUint16(off + 2 * i, true)) * scale + min;
        } else
          throw new Error(
            `decodeWeights: weight '${w.name}' has quantization dtype '${(q as { dtype: string }).dtype}'; supported: uint8, uint16, float16`,
          );
      } else if (w.dtype === 'float32') {
        for (let i = 0; i < n; i++) data[i] = view.getFloat32(off + 4 * i, true);
      } else if (w.dtype === 'int32') {
        for (let i = 0; i < n; i++) data[i] = view.getInt32(off + 4 * i, true);
      } else {
        throw new Error(
          `decodeWeights: weight '${w.name}' has dtype '${w.dtype}'; supported: float32, int32 and uint8/uint16/float16 quantization`,
        );
      }
      out.set(w.name, { shape: [...w.shape], data });
      off += need;
    }
    if (off !== bytes.byteLength) {
      throw new Error(
        `decodeWeights: group ${g} (${group.paths.join(', ')}) has ${bytes.byteLength} bytes but its weights take ${off}: the shards do not match the manifest`,
      );
    }
  });
  return out;
}

/** [kh, kw, in, out] (tfjs) -> [out, in, kh, kw] (engine). */
export function tfKernelToEngine(w: HostWeight): Float32Array {
  const [kh, kw, ci, co] = w.shape;
  const out = new Float32Array(w.data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = w.data[((y * kw + x) * ci + i) * co + o];
  return out;
}

/** TensorFlow's 'same' padding [before, after] along one axis. */
export function tfSamePadding(inSize: number, k: number, stride: number, dilation: number): [number, number] {
  const eff = (k - 1) * dilation + 1;
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + eff - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

// ---- graph --------------------------------------------------------------------------------------

type LayerOp =
  | { kind: 'input' }
  | {
      kind: 'conv';
      conv: Conv2d;
      padding: 'same' | 'valid';
      stride: [number, number];
      dilation: [number, number];
      activation: ActivationName;
    }
  | { kind: 'activation'; activation: ActivationName }
  | { kind: 'concat'; dim: number }
  | { kind: 'add' }
  | { kind: 'upsample'; size: [number, number] }
  | { kind: 'multiply'; beta: number }
  | { kind: 'pixelshuffle'; scale: number };

export interface GraphNode {
  /** The Keras layer name. */
  name: string;
  /** The Keras class name (Conv2D, ...). */
  type: string;
  inputs: string[];
  op: LayerOp;
}

const pair = (v: unknown, what: string, layer: string): [number, number] => {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x))) return [v[0], v[1]];
  throw new Error(`tfjs importer: layer '${layer}': ${what} must be an integer or a pair of integers, got ${JSON.stringify(v)}`);
};

function activationOf(v: unknown, layer: string, type: string): ActivationName {
  const a = (v ?? 'linear') as string;
  if (!(ACTIVATIONS as readonly string[]).includes(a)) {
    throw new Error(`tfjs importer: layer '${layer}' (${type}) has activation '${a}'; supported: ${ACTIVATIONS.join(', ')}`);
  }
  return a as ActivationName;
}

function applyActivation(x: Tensor, a: ActivationName): Tensor {
  switch (a) {
    case 'linear':
      return x;
    case 'relu':
      return relu(x);
    case 'sigmoid':
      return sigmoid(x);
    case 'tanh':
      return tanh(x);
  }
}

/** Inbound layer names of a Keras (2.x) functional layer: inbound_nodes = [[[name, node, tensor, kwargs], ...]]. */
function inboundOf(l: KerasLayerJson, name: string): string[] {
  const nodes = l.inbound_nodes ?? [];
  if (nodes.length === 0) return [];
  if (nodes.length > 1)
    throw new Error(
      `tfjs importer: layer '${name}' (${l.class_name}) is called ${nodes.length} times (a shared layer); shared layers are not supported`,
    );
  const node = nodes[0];
  if (!Array.isArray(node)) {
    throw new Error(
      `tfjs importer: layer '${name}' has inbound node ${JSON.stringify(node).slice(0, 120)} in a format this importer does not read (Keras 3 'args'/'keras_history'?); re-export with the TensorFlow.js converter from Keras 2`,
    );
  }
  return node.map((e) => {
    if (!Array.isArray(e) || typeof e[0] !== 'string')
      throw new Error(
        `tfjs importer: layer '${name}' has an inbound entry ${JSON.stringify(e)}; expected [layerName, nodeIndex, tensorIndex, kwargs]`,
      );
    if (e[2] !== undefined && e[2] !== 0)
      throw new Error(`tfjs importer: layer '${name}' reads output ${e[2]} of '${e[0]}'; only single-output layers are supported`);
    return e[0];
  });
}

/** The module name a Keras layer's parameters live under (Module names cannot contain dots). */
export const moduleNameOf = (layer: string) => layer.replace(/\./g, '_');

export interface ImportOptions {
  /** Name shown by describe() (default: the Keras model name). */
  name?: string;
}

/**
 * An imported tfjs layers model. forward(x) takes NCHW input in the model's own value range and
 * returns NCHW output. Convolutions are Conv2d children named after their Keras layers.
 */
export class TfjsLayersModel extends Module {
  readonly modelName: string;
  readonly nodes: readonly GraphNode[];
  readonly inputName: string;
  readonly outputName: string;
  private readonly convs = new Map<string, Conv2d>();
  /** Activation(relu) layers folded into the preceding Conv2D's epilogue. */
  readonly fusedActivations: string[] = [];

  constructor(json: TfjsLayersModelJson, weights: Map<string, HostWeight>, opts: ImportOptions = {}) {
    super();
    const topo = json.modelTopology;
    const mc = topo?.model_config ?? (topo?.class_name ? { class_name: topo.class_name, config: topo.config! } : undefined);
    if (!mc || !mc.config || !Array.isArray(mc.config.layers)) {
      throw new Error(
        'tfjs importer: model.json has no modelTopology.model_config.config.layers (is this a graph model? only layers models are supported)',
      );
    }
    const sequential = mc.class_name === 'Sequential';
    if (!sequential && mc.class_name !== 'Functional' && mc.class_name !== 'Model') {
      throw new Error(`tfjs importer: model class '${mc.class_name}' is not supported (Functional, Model or Sequential)`);
    }
    this.modelName = opts.name ?? mc.config.name ?? 'model';
    const nodes: GraphNode[] = [];
    const known = new Set<string>();
    const used = new Set<string>();
    let prev: string | null = null;
    for (const l of mc.config.layers) {
      const name = l.name ?? l.config?.name;
      if (!name) throw new Error(`tfjs importer: a ${l.class_name} layer has no name`);
      const c = l.config ?? {};
      let inputs = sequential ? (prev ? [prev] : []) : inboundOf(l, name);
      if (sequential && !prev && l.class_name !== 'InputLayer') {
        // A Sequential model without an explicit InputLayer: synthesise one.
        nodes.push({ name: '__input__', type: 'InputLayer', inputs: [], op: { kind: 'input' } });
        known.add('__input__');
        inputs = ['__input__'];
      }
      for (const i of inputs) {
        if (!known.has(i)) throw new Error(`tfjs importer: layer '${name}' reads '${i}', which is not defined before it`);
        used.add(i);
      }
      const type = l.class_name;
      let op: LayerOp;
      const pixelShuffle = /^PixelShuffle(\d+)x$/.exec(type);
      if (c.data_format !== undefined && c.data_format !== 'channels_last') {
        throw new Error(
          `tfjs importer: layer '${name}' (${type}) has data_format '${c.data_format}'; only channels_last (tfjs's NHWC) is supported`,
        );
      }
      switch (true) {
        case type === 'InputLayer': {
          const shape = c.batch_input_shape as (number | null)[] | undefined;
          if (shape && shape.length !== 4)
            throw new Error(
              `tfjs importer: input '${name}' has shape [${shape.join(', ')}]; only image inputs [batch, height, width, channels] are supported`,
            );
          op = { kind: 'input' };
          break;
        }
        case type === 'Conv2D': {
          const filters = c.filters as number;
          const k = pair(c.kernel_size, 'kernel_size', name);
          const stride = pair(c.strides ?? 1, 'strides', name);
          const dilation = pair(c.dilation_rate ?? 1, 'dilation_rate', name);
          const padding = (c.padding ?? 'valid') as string;
          if (padding !== 'same' && padding !== 'valid')
            throw new Error(`tfjs importer: layer '${name}' (Conv2D) has padding '${padding}'; supported: same, valid`);
          if ((c.groups ?? 1) !== 1)
            throw new Error(`tfjs importer: layer '${name}' (Conv2D) has groups ${c.groups}; only groups 1 is supported`);
          if ((stride[0] > 1 || stride[1] > 1) && (dilation[0] > 1 || dilation[1] > 1)) {
            throw new Error(
              `tfjs importer: layer '${name}' (Conv2D) has both strides ${stride} and dilation ${dilation} > 1, which Keras rejects`,
            );
          }
          const useBias = c.use_bias !== false;
          const kw = weights.get(`${name}/kernel`);
          if (!kw) throw new Error(`tfjs importer: no weight '${name}/kernel' in the weights manifest (layer '${name}', Conv2D)`);
          if (kw.shape.length !== 4 || kw.shape[0] !== k[0] || kw.shape[1] !== k[1] || kw.shape[3] !== filters) {
            throw new Error(
              `tfjs importer: '${name}/kernel' has shape [${kw.shape.join(', ')}], expected [${k[0]}, ${k[1]}, in, ${filters}] from the layer config`,
            );
          }
          const conv = new Conv2d(kw.shape[2], filters, k, { stride, dilation, bias: useBias });
          assign(conv.weight, tfKernelToEngine(kw));
          if (useBias) {
            const b = weights.get(`${name}/bias`);
            if (!b || b.data.length !== filters)
              throw new Error(
                `tfjs importer: layer '${name}' (Conv2D, use_bias) needs '${name}/bias' of ${filters} values, got ${b ? `[${b.shape.join(', ')}]` : 'none'}`,
              );
            assign(conv.bias!, b.data);
          }
          this.convs.set(moduleNameOf(name), conv);
          op = { kind: 'conv', conv, padding, stride, dilation, activation: activationOf(c.activation, name, type) };
          break;
        }
        case type === 'Activation':
          op = { kind: 'activation', activation: activationOf(c.activation, name, type) };
          break;
        case type === 'Concatenate': {
          const axis = (c.axis ?? -1) as number;
          const dims: Record<number, number> = { [-1]: 1, 3: 1, 1: 2, 2: 3, [-3]: 2, [-2]: 3 };
          if (!(axis in dims))
            throw new Error(`tfjs importer: layer '${name}' (Concatenate) has axis ${axis}; supported: 1, 2, 3 / -1 (NHWC)`);
          op = { kind: 'concat', dim: dims[axis] };
          break;
        }
        case type === 'Add':
          op = { kind: 'add' };
          break;
        case type === 'UpSampling2D': {
          const interp = (c.interpolation ?? 'nearest') as string;
          if (interp !== 'nearest')
            throw new Error(`tfjs importer: layer '${name}' (UpSampling2D) has interpolation '${interp}'; only nearest is supported`);
          op = { kind: 'upsample', size: pair(c.size ?? 2, 'size', name) };
          break;
        }
        case type === 'MultiplyBeta':
          op = { kind: 'multiply', beta: typeof c.beta === 'number' ? c.beta : UPSCALERJS_BETA };
          break;
        case pixelShuffle !== null: {
          const scale = typeof c.scale === 'number' ? c.scale : Number(pixelShuffle![1]);
          if (!Number.isInteger(scale) || scale < 1)
            throw new Error(`tfjs importer: layer '${name}' (${type}) has scale ${c.scale}; expected a positive integer`);
          op = { kind: 'pixelshuffle', scale };
          break;
        }
        default:
          throw new Error(`tfjs importer: unsupported layer type '${type}' (layer '${name}'); supported: ${SUPPORTED_LAYERS.join(', ')}`);
      }
      const arity = op.kind === 'input' ? 0 : op.kind === 'concat' || op.kind === 'add' ? -1 : 1;
      if (arity >= 0 && inputs.length !== arity)
        throw new Error(`tfjs importer: layer '${name}' (${type}) has ${inputs.length} inputs, expected ${arity}`);
      if (arity < 0 && inputs.length < 2)
        throw new Error(`tfjs importer: layer '${name}' (${type}) has ${inputs.length} inputs, expected at least 2`);
      nodes.push({ name, type, inputs, op });
      known.add(name);
      prev = name;
    }
    const inputsDecl = nodes.filter((n) => n.op.kind === 'input');
    if (inputsDecl.length !== 1) throw new Error(`tfjs importer: the model has ${inputsDecl.length} inputs; exactly one is supported`);
    this.inputName = inputsDecl[0].name;
    const outs = sequential ? [[prev]] : (mc.config.output_layers ?? []);
    if (outs.length !== 1) throw new Error(`tfjs importer: the model has ${outs.length} outputs; exactly one is supported`);
    this.outputName = (outs[0] as unknown[])[0] as string;
    if (!known.has(this.outputName)) throw new Error(`tfjs importer: output layer '${this.outputName}' is not among the layers`);
    // Fuse Conv2D (linear) -> Activation(relu) into the convolution's epilogue when the activation
    // is the convolution's only reader (RDN's F_*_Relu and UPN*_Relu): one dispatch and one
    // full-size write less each; the Activation node then passes its input through.
    const readers = new Map<string, number>();
    for (const n of nodes) for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
    const byName = new Map(nodes.map((n) => [n.name, n]));
    for (const n of nodes) {
      if (n.op.kind !== 'activation' || n.op.activation !== 'relu') continue;
      const src = byName.get(n.inputs[0])!;
      if (src.op.kind === 'conv' && src.op.activation === 'linear' && readers.get(src.name) === 1 && src.name !== this.outputName) {
        src.op.activation = 'relu';
        n.op = { kind: 'activation', activation: 'linear' };
        this.fusedActivations.push(n.name);
      }
    }
    this.nodes = nodes;
    for (const n of weights.keys()) {
      const layer = n.split('/')[0];
      if (!this.convs.has(moduleNameOf(layer)))
        throw new Error(`tfjs importer: weight '${n}' belongs to no layer of the model (layer '${layer}' has no weights here)`);
    }
  }

  /** Children are the Conv2d layers, by Keras layer name (state dict: `<layer>.weight`, `<layer>.bias`). */
  protected override ownEntries(): [string, unknown][] {
    return [...this.convs.entries()];
  }

  override get typeName(): string {
    return 'TfjsLayersModel';
  }

  /** The Conv2d of a Keras layer (by its name). */
  conv(layer: string): Conv2d {
    const c = this.convs.get(moduleNameOf(layer));
    if (!c) throw new Error(`${this.typeName}: no Conv2D layer named '${layer}' (have ${[...this.convs.keys()].join(', ')})`);
    return c;
  }

  /** Number of layers of each type, e.g. { Conv2D: 12, Add: 3, ... }. */
  layerCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const n of this.nodes) out[n.type] = (out[n.type] ?? 0) + 1;
    return out;
  }

  /** Every layer's output shape [C, H, W] for an H x W input (no GPU work). */
  activationShapes(h: number, w: number): [number, number, number][] {
    const shapes = new Map<string, [number, number, number]>();
    for (const n of this.nodes) {
      const ins = n.inputs.map((i) => shapes.get(i)!);
      const op = n.op;
      let s: [number, number, number];
      switch (op.kind) {
        case 'input':
          s = [3, h, w];
          break;
        case 'conv': {
          const [kh, kw] = op.conv.kernelSize;
          const dim = (i: number, k: number, st: number, d: number) =>
            op.padding === 'same' ? Math.ceil(i / st) : Math.floor((i - (k - 1) * d - 1) / st) + 1;
          s = [op.conv.outChannels, dim(ins[0][1], kh, op.stride[0], op.dilation[0]), dim(ins[0][2], kw, op.stride[1], op.dilation[1])];
          break;
        }
        case 'concat': {
          const d = op.dim - 1;
          s = [...ins[0]];
          s[d] = ins.reduce((a, t) => a + t[d], 0);
          break;
        }
        case 'upsample':
          s = [ins[0][0], ins[0][1] * op.size[0], ins[0][2] * op.size[1]];
          break;
        case 'pixelshuffle':
          s = [ins[0][0] / (op.scale * op.scale), ins[0][1] * op.scale, ins[0][2] * op.scale];
          break;
        default:
          s = [...ins[0]];
      }
      shapes.set(n.name, s);
    }
    return [...shapes.values()];
  }

  /** The largest layer output for an H x W input: its layer, shape [C, H, W] and float32 bytes. */
  largestActivation(h: number, w: number): { layer: string; shape: [number, number, number]; bytes: number } {
    const shapes = this.activationShapes(h, w);
    let best = 0;
    shapes.forEach((s, i) => {
      if (s[0] * s[1] * s[2] > shapes[best][0] * shapes[best][1] * shapes[best][2]) best = i;
    });
    const s = shapes[best];
    return { layer: this.nodes[best].name, shape: s, bytes: 4 * s[0] * s[1] * s[2] };
  }

  override forward(x: Tensor): Tensor {
    if (x.rank !== 4)
      throw new Error(`${this.typeName}(${this.modelName}): expects an NCHW image batch [N, C, H, W], got [${x.shape.join(', ')}]`);
    // Without a tape, an intermediate is freed once its last reader has run (the big models hold
    // dozens of full-resolution feature maps otherwise).
    const free = !isGradEnabled();
    const readers = new Map<string, number>();
    for (const n of this.nodes) for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
    const values = new Map<string, Tensor>();
    for (const n of this.nodes) {
      const ins = n.inputs.map((i) => values.get(i)!);
      const y = this.runNode(n, ins, x);
      values.set(n.name, y);
      if (free) {
        for (const i of n.inputs) {
          const left = readers.get(i)! - 1;
          readers.set(i, left);
          const t = values.get(i)!;
          if (left === 0 && i !== this.outputName && t !== x && t !== y) {
            values.delete(i);
            t.dispose();
          }
        }
      }
      if (n.name === this.outputName) return y;
    }
    throw new Error(`${this.typeName}: output '${this.outputName}' was never computed`);
  }

  private runNode(n: GraphNode, ins: Tensor[], x: Tensor): Tensor {
    const op = n.op;
    switch (op.kind) {
      case 'input':
        return x;
      case 'conv': {
        const [h, w] = [ins[0].shape[2], ins[0].shape[3]];
        const [kh, kw] = op.conv.kernelSize;
        let padding: [number, number, number, number] = [0, 0, 0, 0];
        if (op.padding === 'same') {
          const [t, b] = tfSamePadding(h, kh, op.stride[0], op.dilation[0]);
          const [l, r] = tfSamePadding(w, kw, op.stride[1], op.dilation[1]);
          padding = [t, b, l, r];
        }
        if (ins[0].shape[1] !== op.conv.inChannels) {
          throw new Error(
            `${this.typeName}: layer '${n.name}' (Conv2D) expects ${op.conv.inChannels} channels, got an input of shape [${ins[0].shape.join(', ')}]`,
          );
        }
        const fused = op.activation === 'relu' ? 'relu' : undefined;
        const y = conv2d(ins[0], op.conv.weight, op.conv.bias, { stride: op.stride, dilation: op.dilation, padding, activation: fused });
        return fused ? y : applyActivation(y, op.activation);
      }
      case 'activation':
        return applyActivation(ins[0], op.activation);
      case 'concat':
        return concat(ins, op.dim);
      case 'add':
        return ins.slice(1).reduce((a, b) => add(a, b), ins[0]);
      case 'upsample':
        return upsampleNearest(ins[0], op.size);
      case 'multiply':
        return mulScalar(ins[0], op.beta);
      case 'pixelshuffle':
        return depthToSpaceNhwcOrder(ins[0], op.scale);
    }
  }
}

/**
 * tf.depthToSpace(x, s, 'NHWC') on an NCHW tensor: [B, s*s*C, H, W] -> [B, C, H*s, W*s], where
 * output (c, h*s + i, w*s + j) reads input channel (i*s + j)*C + c.
 */
export function depthToSpaceNhwcOrder(x: Tensor, s: number): Tensor {
  const [b, cin, h, w] = x.shape;
  if (cin % (s * s) !== 0)
    throw new Error(`depthToSpace: ${cin} channels do not divide by scale^2 = ${s * s} (input [${x.shape.join(', ')}])`);
  const c = cin / (s * s);
  const y = permute(reshape(x, [b, s, s, c, h, w]), [0, 3, 4, 1, 5, 2]);
  return reshape(y, [b, c, h * s, w * s]);
}

// ---- loading ------------------------------------------------------------------------------------

/** Concatenates byte arrays (one weight group's shards). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

/** Builds the engine model from model.json and its decoded weights. */
export function importLayersModel(json: TfjsLayersModelJson, weights: Map<string, HostWeight>, opts: ImportOptions = {}): TfjsLayersModel {
  if (json.format !== undefined && json.format !== 'layers-model') {
    throw new Error(
      `tfjs importer: model.json has format '${json.format}'; only 'layers-model' is supported (a graph model needs tfjs-converter)`,
    );
  }
  return new TfjsLayersModel(json, weights, opts);
}

/** Reads a file relative to model.json: returns its bytes. */
export type ReadBytes = (relPath: string) => Promise<Uint8Array>;

/** Loads model.json + shards through `read` (Node: fs; browser: fetch) and imports the model. */
export async function loadLayersModel(
  modelJsonText: string,
  read: ReadBytes,
  opts: ImportOptions = {},
): Promise<{ model: TfjsLayersModel; json: TfjsLayersModelJson; weights: Map<string, HostWeight> }> {
  const json = JSON.parse(modelJsonText) as TfjsLayersModelJson;
  if (!Array.isArray(json.weightsManifest)) throw new Error('tfjs importer: model.json has no weightsManifest');
  const groups = await Promise.all(json.weightsManifest.map(async (g) => concatBytes(await Promise.all(g.paths.map((p) => read(p))))));
  const weights = decodeWeights(json.weightsManifest, groups);
  return { model: importLayersModel(json, weights, opts), json, weights };
}

/** Browser (or any fetch): model.json at `url`, shards beside it. */
export async function fetchLayersModel(
  url: string,
  opts: ImportOptions & { fetch?: typeof fetch } = {},
): Promise<{ model: TfjsLayersModel; json: TfjsLayersModelJson; weights: Map<string, HostWeight> }> {
  const f = opts.fetch ?? fetch;
  const res = await f(url);
  if (!res.ok) throw new Error(`tfjs importer: fetching ${url} failed: HTTP ${res.status}`);
  const text = await res.text();
  const base = new URL('.', new URL(url, (globalThis as { location?: { href: string } }).location?.href ?? 'file:///'));
  return loadLayersModel(
    text,
    async (p) => {
      const u = new URL(p, base).href;
      const r = await f(u);
      if (!r.ok) throw new Error(`tfjs importer: fetching weight shard ${u} failed: HTTP ${r.status}`);
      return new Uint8Array(await r.arrayBuffer());
    },
    opts,
  );
}
