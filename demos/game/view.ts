// What the game page computes to draw the plane, DOM-free (the page reads these tensors back; the
// kernel inspector's game mode, side=view, records their dispatches):
//   - D over a grid of the plane: P(real) = sigmoid(D(x)) averaged over the shown discriminators,
//     or for a D that names generators the softmax of its k + 1 logits;
//   - G's samples from fixed noise;
//   - the arrows: -d/dx of G's non-saturating loss, -log sigmoid(D(x)), at each sample, averaged
//     over the shown discriminators (where G's update pushes that sample), through the engine's autograd.
// Discriminators are evaluated in eval mode (GMAN's dropout off): `evalMode`.

import type { Module } from '../../engine/nn.js';
import { add, bceWithLogits, reshape, sigmoid, softmax } from '../../engine/ops/index.js';
import { grad, noGrad } from '../../engine/tape.js';
import { tensor, tidy, type Tensor } from '../../engine/tensor.js';

/** Heat-map resolution (cells per side) and the plane's extent in network units. */
export const CELLS = 40;
export const EXTENT = 1.25;

/** Grid cell centres in network units, [CELLS * CELLS, 2], row 0 at the top (y up). */
export function gridPoints(): Float32Array {
  const p = new Float32Array(CELLS * CELLS * 2);
  for (let r = 0; r < CELLS; r++) {
    for (let c = 0; c < CELLS; c++) {
      const i = r * CELLS + c;
      p[2 * i] = -EXTENT + ((c + 0.5) * 2 * EXTENT) / CELLS;
      p[2 * i + 1] = EXTENT - ((r + 0.5) * 2 * EXTENT) / CELLS;
    }
  }
  return p;
}

/** Runs `fn` with the discriminators in evaluation mode (GMAN's dropout off), then restores their mode. */
export function evalMode<T>(ds: readonly Module[], fn: () => T): T {
  const was = ds.map((d) => d.training);
  ds.forEach((d) => d.train(false));
  const restore = () => ds.forEach((d, i) => d.train(was[i]));
  try {
    const out = fn();
    if (out instanceof Promise) return out.finally(restore) as T;
    restore();
    return out;
  } catch (e) {
    restore();
    throw e;
  }
}

/**
 * D over the grid: with `classes` > 1, the softmax of the first discriminator's logits
 * [CELLS², classes]; otherwise P(real) averaged over `shown`, [CELLS²]. The caller disposes it.
 */
export function heatTensor(shown: readonly Module[], classes: number): Tensor {
  return tidy(() =>
    noGrad(() => {
      const x = tensor(gridPoints(), [CELLS * CELLS, 2]);
      if (classes > 1) return softmax(shown[0].call(x) as Tensor, -1);
      let acc: Tensor | null = null;
      for (const d of shown) {
        const p = reshape(sigmoid(d.call(x) as Tensor), [-1]);
        acc = acc ? add(acc, p) : p;
      }
      return acc!.mul(1 / shown.length);
    }),
  );
}

/** -d/dx of -log sigmoid(D(x)) at `points` (n × 2, row-major), averaged over `shown`: [n, 2]. The caller disposes it. */
export function arrowsTensor(shown: readonly Module[], points: Float32Array): Tensor {
  const x = tensor(points, [points.length / 2, 2]).requireGrad();
  try {
    return tidy(() => {
      let loss: Tensor | null = null;
      for (const d of shown) {
        const l = bceWithLogits(reshape(d.call(x) as Tensor, [-1]), 1, { reduction: 'sum' });
        loss = loss ? add(loss, l) : l;
      }
      return grad(loss!, [x])[0].mul(-1 / shown.length);
    });
  } finally {
    x.dispose();
  }
}
