// Small pieces shared by the generative-model files (autoencoder, EBGAN, BEGAN, GMAN, MAD-GAN and
// the MLP GAN baseline): taking an optimiser step on one loss for one set of parameters, uniform
// noise in [-1, 1], the per-sample mean used for energies, and PyTorch's default layer init drawn
// from a run's own generator. Browser-safe.

import type { Tensor } from '../engine/tensor.js';
import type { Optimizer } from '../engine/optim.js';
import type { Generator } from '../engine/ops/random.js';
import { grad, noGrad } from '../engine/tape.js';
import { affine, mean, rand, reshape } from '../engine/ops/index.js';
import { Conv2d, ConvTranspose2d, Linear, type Module } from '../engine/nn.js';
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from '../engine/init.js';

/**
 * d(loss)/d(params) into each parameter's .grad (replacing what was there), without an optimiser
 * step, so several gradients can be taken from one forward pass before any network changes (GMAN
 * updates every D and G at once, as its reference does). The graph stays usable for another call.
 * `frozen` networks have their parameters' requiresGrad switched off during the backward pass, so
 * a loss that runs through another network (G's loss through D) does not compute that network's
 * weight gradients only to drop them (a backward rule skips inputs that no longer require grad),
 * as set_requires_grad(netD, False) does in PyTorch.
 */
export function gradsInto(loss: Tensor, params: readonly Tensor[], frozen: readonly Module[] = []): void {
  const off = frozen.flatMap((m) => m.parameters()).filter((p) => p.requiresGrad && !params.includes(p));
  for (const p of off) p.requiresGrad = false;
  let grads: (Tensor | null)[];
  try {
    grads = grad(loss, [...params], { allowUnused: true });
  } finally {
    for (const p of off) p.requiresGrad = true;
  }
  params.forEach((p, i) => {
    p.grad?.dispose();
    p.grad = grads[i] ? grads[i]!.keep() : null;
  });
}

/**
 * gradsInto(loss, params, frozen), then one optimiser step. The graph stays usable for another
 * call (BEGAN differentiates L_D and L_G of one forward pass).
 */
export function stepOn(loss: Tensor, params: readonly Tensor[], optimizer: Optimizer, frozen: readonly Module[] = []): void {
  gradsInto(loss, params, frozen);
  optimizer.step();
}

/** Samples of U[-1, 1) (the BEGAN and MAD-GAN reference noise). */
export function uniformNoise(shape: readonly number[], generator: Generator): Tensor {
  return affine(rand(shape, { generator }), 2, -1);
}

/** Mean over every axis but the first: one value per sample, [N]. */
export function perSampleMean(x: Tensor): Tensor {
  return mean(reshape(x, [x.shape[0], -1]), 1);
}

/**
 * PyTorch's default init of every Conv2d / ConvTranspose2d / Linear in `net` (weight
 * kaiming_uniform with a = sqrt(5), bias U(+-1/sqrt(fan_in))), drawn from `generator` so a run's
 * seed decides it (the layers' constructors draw from the engine's default stream).
 */
export function defaultInit_(net: Module, generator: Generator): void {
  noGrad(() => {
    for (const m of net.modules()) {
      if (!(m instanceof Conv2d || m instanceof ConvTranspose2d || m instanceof Linear)) continue;
      kaimingUniform_(m.weight, { a: Math.sqrt(5), generator });
      if (m.bias) {
        const { fanIn } = calculateFanInAndFanOut(m.weight.shape);
        const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
        uniform_(m.bias, -bound, bound, generator);
      }
    }
  });
}
