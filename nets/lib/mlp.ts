// Fully connected networks for the low-dimensional experiments (the Gaussian-mixture comparisons
// of the MLP GAN baseline, MAD-GAN and GMAN in nets/mode_eval.ts, and the game page).

import { Module, Sequential, Linear, ReLU, LeakyReLU, Dropout } from '../../engine/nn.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Generator } from '../../engine/ops/random.js';
import { reshape } from '../../engine/ops/index.js';

/** A multilayer perceptron: (Linear, activation[, dropout]) for each hidden width, then a Linear. */
export function mlp(inDim: number, hidden: readonly number[], outDim: number, opts: { act: 'relu' | 'leaky'; dropout?: number; rng?: Generator }): Sequential {
  const layers: Module[] = [];
  let d = inDim;
  for (const h of hidden) {
    layers.push(new Linear(d, h), opts.act === 'relu' ? new ReLU() : new LeakyReLU(0.2));
    if (opts.dropout) layers.push(new Dropout(opts.dropout, { generator: opts.rng }));
    d = h;
  }
  layers.push(new Linear(d, outDim));
  return new Sequential(...layers);
}

/** Wraps a network with one output unit so it returns one logit per sample, [N]. */
export class FlatLogit extends Module {
  constructor(readonly net: Module) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return reshape(this.net.call(x) as Tensor, [-1]);
  }
}
