// The `ops` namespace of the public entry (engine/index.ts): the ops a model is written with, as
// functions (`ops.conv2d(x, w, b, { stride: 2 })`). Every one is also reachable from its family
// file in this folder; kernel plumbing, CPU references and backward-only helpers (the adjoints,
// conv2dBackwardInput, sumTo, Philox internals) stay out of the namespace. The common ones are
// Tensor methods too (engine/ops/methods.ts).

// creation and random
export { full, zeros, ones, zerosLike, onesLike } from './elementwise.js';
export {
  rand,
  randn,
  bernoulli,
  randint,
  randperm,
  randpermMatrix,
  sampleRows,
  hostRandint,
  dropout,
  type RandomOptions,
} from './random.js';
// rows picked by GPU-held or per-step indices (replayable sampling, image pools)
export { gatherRows, mismatchRows, poolExchange_, poolStore, poolSwap, POOL_KEEP } from './rows.js';
// elementwise
export {
  add,
  sub,
  mul,
  div,
  maximum,
  minimum,
  neg,
  exp,
  log,
  sqrt,
  rsqrt,
  square,
  reciprocal,
  powScalar,
  abs,
  sign,
  clamp,
  affine,
  mulScalar,
  addScalar,
  relu,
  leakyRelu,
  tanh,
  sigmoid,
  softplus,
  elu,
  geMask,
  eqMask,
  stepMask,
} from './elementwise.js';
// reductions
export { sum, mean, max, min } from './reduce.js';
// shape and movement
export { reshape, flatten, permute, transpose, expand, slice, narrow, concat, split, tile } from './movement.js';
// linear algebra
export { matmul, linear, type MatmulOpts } from './matmul.js';
// softmax, one-hot
export { softmax, logSoftmax, oneHot } from './softmax.js';
// normalisation
export { instanceNorm, batchNorm, type InstanceNormOptions, type BatchNormOptions, type NormActivation } from './norm.js';
// convolution
export { conv2d, convTranspose2d, type Conv2dOpts, type ConvTranspose2dOpts, type Padding, type Pair } from './conv.js';
// padding, pooling, resampling
export { pad2d, avgPool2d, upsampleNearest, upsampleBilinear, type Pad2dMode, type UpsampleBilinearOptions } from './spatial.js';
// Laplacian pyramids (LAPGAN)
export { pyrDown, pyrUp, laplacianBand, laplacianPyramid, reconstructPyramid } from './pyramid.js';
// image edges (pix2pix's edges2x data)
export { edgeMap, type EdgeMapGpuOptions } from './edges.js';
// losses
export {
  bceWithLogits,
  mse,
  l1,
  softmaxCrossEntropy,
  gaussianKl,
  hinge,
  gradientPenalty,
  type Reduction,
  type ReductionOptions,
  type GradientPenaltyOptions,
} from './losses.js';
// the registry, for adding an op from outside (see docs/engine.md)
export { opRegistry, registerOp, type OpSpec, type HostTensor } from './registry.js';
