// A small convolutional classifier and its training loop, for metrics that need a trained network
// but cannot download one: the LeNet feature extractor of the Frechet distance / KID (lenet.ts),
// the digit classifier that counts Stacked-MNIST modes, and a domain classifier for StarGAN's
// skin-tone domains (data/emoji.ts loadEmojiSkinTones).
//
// Architecture (ConvClassifier), LeNet-5's shape with ReLU:
//   [conv k x k (pad p) -> ReLU -> avg pool 2x2] per entry of `convs`   (channels per stage)
//   or, with downsample 'stride', [conv k x k stride 2 (pad p) -> ReLU] per stage
//   flatten -> [linear -> ReLU] per entry of `hidden` -> linear numClasses
// State-dict keys: features.<i>.weight/bias (the trunk up to the last hidden ReLU), head.weight/bias.
// `embed` returns the trunk's output (the last hidden layer after its ReLU): the feature vector.
//
// Everything is reproducible from a seed: weights are drawn with PyTorch's default init
// distributions (kaiming_uniform(a = sqrt(5)) weights, U(+-1/sqrt(fan_in)) biases) from a
// Generator(seed), and the batch order comes from a DataLoader seeded the same way. Training is
// Adam on softmax cross-entropy, with the learning rate cut 10x for the last quarter of the steps.
// Browser-safe (no Node imports).

import { type Tensor, tensor, tidy } from '../engine/tensor.js';
import { backward, noGrad } from '../engine/tape.js';
import { softmaxCrossEntropy } from '../engine/ops/losses.js';
import type { Generator } from '../engine/ops/random.js';
import { kaimingUniform_, uniform_ } from '../engine/init.js';
import { Module, Sequential } from '../engine/nn/module.js';
import { AvgPool2d, Conv2d, Flatten, Linear, ReLU } from '../engine/nn/layers.js';
import { Adam } from '../engine/optim.js';
import { DataLoader } from '../data/loader.js';

export interface ConvClassifierOptions {
  inChannels: number;
  /** Input height and width (square inputs). */
  size: number;
  numClasses: number;
  /** Output channels of each conv stage (default [6, 16], LeNet-5). */
  convs?: readonly number[];
  /** Conv kernel side (default 5). */
  kernel?: number;
  /** Zero padding of every conv (default 0: valid convolutions). */
  padding?: number;
  /** Widths of the hidden fully connected layers (default [120, 84]). */
  hidden?: readonly number[];
  /**
   * How each stage halves the resolution: 'pool' (default) = conv stride 1 then 2x2 average
   * pooling (LeNet-5); 'stride' = the conv itself has stride 2 (all-convolutional, about 4x cheaper).
   */
  downsample?: 'pool' | 'stride';
}

/** Spatial side after the conv stages, or a message saying why the input is too small. */
function trunkSide(o: Required<ConvClassifierOptions>): number {
  let s = o.size;
  for (let i = 0; i < o.convs.length; i++) {
    const span = s + 2 * o.padding - o.kernel;
    const next = o.downsample === 'stride' ? Math.floor(span / 2) + 1 : Math.floor((span + 1) / 2);
    if (span < 0 || next < 1) {
      const what = o.downsample === 'stride' ? 'stride-2 conv' : 'conv + 2x2 pool';
      throw new Error(
        `ConvClassifier: a ${o.size}x${o.size} input is too small for ${o.convs.length} stages of ${o.kernel}x${o.kernel} ${what} (padding ${o.padding}; stage ${i + 1} would see ${s}x${s})`,
      );
    }
    s = next;
  }
  return s;
}

export class ConvClassifier extends Module {
  readonly features: Sequential;
  readonly head: Linear;
  readonly options: Required<ConvClassifierOptions>;
  /** Length of the feature vector `embed` returns (the last hidden width). */
  readonly featureDim: number;

  constructor(opts: ConvClassifierOptions) {
    super();
    const o: Required<ConvClassifierOptions> = {
      convs: [6, 16],
      kernel: 5,
      padding: 0,
      hidden: [120, 84],
      downsample: 'pool',
      ...opts,
    };
    for (const [k, v] of Object.entries({ inChannels: o.inChannels, size: o.size, numClasses: o.numClasses, kernel: o.kernel })) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`ConvClassifier: ${k} must be a positive integer, got ${v}`);
    }
    if (!Number.isInteger(o.padding) || o.padding < 0)
      throw new Error(`ConvClassifier: padding must be a non-negative integer, got ${o.padding}`);
    if (!o.convs.length) throw new Error('ConvClassifier: give at least one conv stage');
    const side = trunkSide(o);
    const layers: Module[] = [];
    let c = o.inChannels;
    if (o.downsample !== 'pool' && o.downsample !== 'stride')
      throw new Error(`ConvClassifier: downsample must be 'pool' or 'stride', got '${String(o.downsample)}'`);
    for (const out of o.convs) {
      if (o.downsample === 'stride') layers.push(new Conv2d(c, out, o.kernel, { padding: o.padding, stride: 2 }), new ReLU());
      else layers.push(new Conv2d(c, out, o.kernel, { padding: o.padding }), new ReLU(), new AvgPool2d(2));
      c = out;
    }
    layers.push(new Flatten());
    let width = c * side * side;
    for (const h of o.hidden) {
      layers.push(new Linear(width, h), new ReLU());
      width = h;
    }
    this.features = new Sequential(...layers);
    this.head = new Linear(width, o.numClasses);
    this.options = o;
    this.featureDim = width;
  }

  /** Logits [N, numClasses] for images [N, inChannels, size, size]. */
  override forward(x: Tensor): Tensor {
    return this.head.call(this.features.call(x));
  }

  /** The penultimate activations [N, featureDim] (after the last hidden ReLU). */
  embed(x: Tensor): Tensor {
    return this.features.call(x);
  }

  override extraRepr(): string {
    const o = this.options;
    return `in=${o.inChannels}, size=${o.size}, classes=${o.numClasses}, convs=[${o.convs.join(', ')}], kernel=${o.kernel}, downsample=${o.downsample}, hidden=[${o.hidden.join(', ')}]`;
  }
}

/** Redraws every conv and linear layer with PyTorch's default init from `generator`. */
export function initClassifier_(net: Module, generator: Generator): void {
  noGrad(() => {
    for (const m of net.modules()) {
      if (!(m instanceof Conv2d) && !(m instanceof Linear)) continue;
      const fanIn = m.weight.size / m.weight.shape[0];
      kaimingUniform_(m.weight, { a: Math.sqrt(5), generator });
      if (m.bias) uniform_(m.bias, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), generator);
    }
  });
}

/** Images with integer class labels, NCHW row-major. */
export interface LabeledImages {
  images: Float32Array;
  labels: ArrayLike<number>;
  n: number;
  c: number;
  h: number;
  w: number;
}

export interface TrainClassifierOptions {
  steps: number;
  batch: number;
  seed: number;
  /** Adam learning rate (default 1e-3); divided by 10 for the last quarter of the steps. */
  lr?: number;
  /** Read the loss back every this many steps (default 50); each read is a host sync. */
  logEvery?: number;
  /** Called with each read-back loss. */
  onLog?: (step: number, loss: number) => void;
}

export interface TrainClassifierResult {
  /** The last read-back training loss (mean of the batch). */
  loss: number;
  seconds: number;
}

function checkData(who: string, d: LabeledImages): void {
  if (d.images.length < d.n * d.c * d.h * d.w)
    throw new Error(`${who}: ${d.n} images of ${d.c}x${d.h}x${d.w} need ${d.n * d.c * d.h * d.w} values, got ${d.images.length}`);
  if (d.labels.length < d.n) throw new Error(`${who}: ${d.n} images but ${d.labels.length} labels`);
}

/**
 * Trains `net` (already initialised, e.g. with initClassifier_) on `data` for `steps` Adam steps of
 * `batch` examples drawn in a seeded order. Leaves the net in eval mode.
 */
export async function trainClassifier(
  net: ConvClassifier,
  data: LabeledImages,
  opts: TrainClassifierOptions,
): Promise<TrainClassifierResult> {
  checkData('trainClassifier', data);
  const o = net.options;
  if (data.c !== o.inChannels || data.h !== o.size || data.w !== o.size) {
    throw new Error(`trainClassifier: the net takes ${o.inChannels}x${o.size}x${o.size} inputs, the data is ${data.c}x${data.h}x${data.w}`);
  }
  for (let i = 0; i < data.n; i++) {
    const l = data.labels[i];
    if (!Number.isInteger(l) || l < 0 || l >= o.numClasses)
      throw new Error(`trainClassifier: label ${l} of example ${i} is not in 0..${o.numClasses - 1}`);
  }
  const { steps, batch, seed } = opts;
  const lr = opts.lr ?? 1e-3;
  const logEvery = Math.max(1, opts.logEvery ?? 50);
  const t0 = performance.now();
  const loader = new DataLoader(
    { data: data.images, n: data.n, sampleShape: [data.c, data.h, data.w], labels: data.labels },
    { batchSize: batch, seed },
  );
  const x = tensor(new Float32Array(batch * data.c * data.h * data.w), [batch, data.c, data.h, data.w]).keep();
  const optimizer = new Adam(net, { lr });
  net.train();
  let last = NaN;
  try {
    for (let step = 1; step <= steps; step++) {
      optimizer.lr = step > Math.floor(0.75 * steps) ? lr / 10 : lr;
      const b = loader.nextInto(x);
      const loss = tidy(() => {
        const y = tensor(b.labels!, [batch], 'int32');
        const l = softmaxCrossEntropy(net.call(x), y);
        net.zeroGrad();
        backward(l);
        optimizer.step();
        return step % logEvery === 0 || step === steps ? l.detach() : null;
      });
      if (loss) {
        last = (await loss.data())[0];
        loss.dispose();
        if (!Number.isFinite(last)) throw new Error(`trainClassifier: the loss is ${last} at step ${step} (lower the learning rate?)`);
        opts.onLog?.(step, last);
      }
    }
  } finally {
    net.zeroGrad();
    optimizer.dispose();
    x.dispose();
    net.eval();
  }
  return { loss: last, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Runs `fn` on the net over `images` (n x c x h x w) in batches, without gradients, and concatenates
 * the [batch, k] outputs into one Float32Array [n, k].
 */
export async function mapBatches(
  images: Float32Array,
  n: number,
  shape: readonly [number, number, number],
  batch: number,
  fn: (x: Tensor) => Tensor,
): Promise<{ data: Float32Array; k: number }> {
  const per = shape[0] * shape[1] * shape[2];
  if (images.length < n * per)
    throw new Error(`mapBatches: ${n} images of ${shape.join('x')} need ${n * per} values, got ${images.length}`);
  let out: Float32Array | null = null;
  let k = 0;
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    const y = tidy(() => noGrad(() => fn(tensor(images.subarray(i * per, (i + m) * per), [m, ...shape]))));
    const vals = await y.data();
    y.dispose();
    if (!out) {
      k = vals.length / m;
      out = new Float32Array(n * k);
    }
    out.set(vals, i * k);
  }
  return { data: out ?? new Float32Array(0), k };
}

/** Logits [n, numClasses] of the net (in eval mode) for images [n, c, h, w]. */
export async function classifierLogits(net: ConvClassifier, images: Float32Array, n: number, batch = 256): Promise<Float32Array> {
  const o = net.options;
  net.eval();
  return (await mapBatches(images, n, [o.inChannels, o.size, o.size], batch, (x) => net.call(x))).data;
}

/** Penultimate features [n, featureDim] of the net (in eval mode) for images [n, c, h, w]. */
export async function classifierFeatures(net: ConvClassifier, images: Float32Array, n: number, batch = 256): Promise<Float32Array> {
  const o = net.options;
  net.eval();
  return (await mapBatches(images, n, [o.inChannels, o.size, o.size], batch, (x) => net.embed(x))).data;
}

/** Row-wise argmax of an [n, k] array. */
export function argmaxRows(values: ArrayLike<number>, n: number, k: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (values[i * k + j] > values[i * k + best]) best = j;
    out[i] = best;
  }
  return out;
}

/** Predicted classes [n] for images [n, c, h, w]. */
export async function classifierPredict(net: ConvClassifier, images: Float32Array, n: number, batch = 256): Promise<Int32Array> {
  return argmaxRows(await classifierLogits(net, images, n, batch), n, net.options.numClasses);
}

/** Fraction of `data` the net classifies correctly. */
export async function classifierAccuracy(net: ConvClassifier, data: LabeledImages, batch = 256): Promise<number> {
  checkData('classifierAccuracy', data);
  if (data.n === 0) return NaN;
  const pred = await classifierPredict(net, data.images, data.n, batch);
  let hits = 0;
  for (let i = 0; i < data.n; i++) if (pred[i] === data.labels[i]) hits++;
  return hits / data.n;
}
