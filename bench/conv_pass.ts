// One pass of a bench conv case on the engine, as the sweeps time it (bench/gpu_sweep.ts,
// bench/tile_sweep.ts): the same calls as bench/engine_side.ts's passes, without validation.
import type { Tensor } from '../engine/index.js';
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight, convTranspose2d } from '../engine/ops/conv.js';
import type { ConvCase, ConvPass } from './suite.js';

/** x: the op's input, w: its weight (PyTorch layout), dy: the gradient of its output. */
export function enginePassFn(c: ConvCase, pass: ConvPass, x: Tensor, w: Tensor, dy: Tensor): () => Tensor {
  const opts = { stride: c.stride, padding: c.pad };
  if (c.kind === 'conv2d') {
    if (pass === 'forward') return () => conv2d(x, w, null, opts);
    if (pass === 'input_grad') return () => conv2dBackwardInput(dy, w, x.shape, opts);
    return () => conv2dBackwardWeight(x, dy, w.shape, opts);
  }
  const topts = { ...opts, outputPadding: c.outputPadding ?? 0 };
  if (pass === 'forward') return () => convTranspose2d(x, w, null, topts);
  // conv-transpose's input gradient is a conv of dy (the big side) back to x's size.
  if (pass === 'input_grad') return () => conv2d(dy, w, null, opts);
  return () => conv2dBackwardWeight(dy, x, w.shape, opts);
}
