// The GAN losses several papers share: the reference pix2pix/CycleGAN GANLoss modes, and the
// per-sample mean the energy-based papers (EBGAN, BEGAN) take of a reconstruction error.

import type { Tensor } from '../../engine/tensor.js';
import { bceWithLogits, full, mean, mse, reshape } from '../../engine/ops/index.js';
import { lookup } from './networks.js';

export type GanMode = 'vanilla' | 'lsgan';

/**
 * The reference's GANLoss(mode)(prediction, targetIsReal), averaged over every logit of the patch
 * map: 'vanilla' is BCE with logits against 1 / 0 (the sigmoid lives in the loss), 'lsgan' the
 * squared distance to 1 / 0 (Mao et al.). (The reference's 'wgangp' mode is left out: its models
 * never add the gradient penalty, so it would be an unconstrained critic.)
 */
export const GAN_LOSSES: Record<GanMode, (prediction: Tensor, targetIsReal: boolean) => Tensor> = {
  vanilla: (p, real) => bceWithLogits(p, real ? 1 : 0),
  lsgan: (p, real) => mse(p, full(p.shape, real ? 1 : 0)),
};

export function ganLoss(mode: string): (prediction: Tensor, targetIsReal: boolean) => Tensor {
  return lookup(GAN_LOSSES, 'GAN loss mode', mode);
}

/** Mean over every axis but the first: one value per sample, [N]. */
export function perSampleMean(x: Tensor): Tensor {
  return mean(reshape(x, [x.shape[0], -1]), 1);
}
