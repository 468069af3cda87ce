// Fully connected networks for the low-dimensional experiments (the Gaussian-mixture comparisons
// of the MLP GAN baseline, MAD-GAN and GMAN in nets/mode_eval.ts, and the game page).

import { type Generator, type Tensor, nn } from '../../engine/index.js';

/** A multilayer perceptron: (Linear, activation[, dropout]) for each hidden width, then a Linear. */
export function mlp(
  inDim: number,
  hidden: readonly number[],
  outDim: number,
  opts: { act: 'relu' | 'leaky'; dropout?: number; rng?: Generator },
): nn.Sequential {
  const layers: nn.Module[] = [];
  let d = inDim;
  for (const h of hidden) {
    layers.push(new nn.Linear(d, h), opts.act === 'relu' ? new nn.ReLU() : new nn.LeakyReLU(0.2));
    if (opts.dropout) layers.push(new nn.Dropout(opts.dropout, { generator: opts.rng }));
    d = h;
  }
  layers.push(new nn.Linear(d, outDim));
  return new nn.Sequential(...layers);
}

/** Wraps a network with one output unit so it returns one logit per sample, [N]. */
export class FlatLogit extends nn.Module {
  constructor(readonly net: nn.Module) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return (this.net.call(x) as Tensor).reshape([-1]);
  }
}
