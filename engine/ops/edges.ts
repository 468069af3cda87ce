// Edge maps on the GPU, the way edges2shoes was made (HED/Canny-style thin lines from the photos):
// luminance, Sobel gradient, non-maximum suppression along the gradient direction, threshold.
// The luminance and the Sobel filters are the engine's conv2d with fixed weights (replicated
// borders through pad2d); the suppression and threshold are one kernel (shaders/edges.ts). The CPU
// reference is data/emoji.ts edgeMapCpu (same definition; tests/image2image.test.ts compares
// the two). A data-preparation op: no gradient, nothing recorded on the tape.
// Browser-safe.

import { type Tensor, checkFloat, empty, fmtShape, tensor, tidy } from '../tensor.js';
import { noGrad } from '../tape.js';
import { conv2d } from './conv.js';
import { affine } from './elementwise.js';
import { pad2d } from './spatial.js';
import { f32, grid1d, launch } from './kernel.js';
import { EDGES_WG, edgeNmsSource } from '../../shaders/edges.js';

export interface EdgeMapGpuOptions {
  /** Sobel magnitude threshold on luminance in [0, 1] (a unit step gives 4). Default 0.5, as edgeMapCpu. */
  threshold?: number;
  /** Output channels: 1, or copies so edges stand in for the images (default: the input's). */
  channels?: number;
}

// Rec. 601 luminance of [-1, 1] RGB mapped to [0, 1]: (0.299 r + 0.587 g + 0.114 b + 1) / 2.
const LUMA = [0.299, 0.587, 0.114];
// Cross-correlation kernels (conv2d), rows ky = -1..1, columns kx = -1..1.
const SOBEL_X = [-1, 0, 1, -2, 0, 2, -1, 0, 1];
const SOBEL_Y = [-1, -2, -1, 0, 0, 0, 1, 2, 1];

/** Black-on-white edge maps (-1 on edges, 1 elsewhere) of NCHW images in [-1, 1] with 1 or 3 channels. */
export function edgeMap(x: Tensor, opts: EdgeMapGpuOptions = {}): Tensor {
  const op = 'edge_map';
  checkFloat(op, x);
  if (x.rank !== 4 || (x.shape[1] !== 1 && x.shape[1] !== 3)) {
    throw new Error(`${op}: expects [N, 1 or 3, H, W] images in [-1, 1], got ${fmtShape(x.shape)}`);
  }
  const [n, c, h, w] = x.shape;
  const threshold = opts.threshold ?? 0.5;
  const channels = opts.channels ?? c;
  if (!(threshold >= 0)) throw new Error(`${op}: threshold must be >= 0, got ${threshold}`);
  if (!Number.isInteger(channels) || channels < 1) throw new Error(`${op}: channels must be a positive integer, got ${channels}`);
  return noGrad(() =>
    tidy(() => {
      const lum =
        c === 3
          ? conv2d(
              x,
              tensor(
                LUMA.map((v) => v / 2),
                [1, 3, 1, 1],
              ),
              tensor([0.5], [1]),
            )
          : affine(x, 0.5, 0.5);
      const grad = conv2d(pad2d(lum, [1, 1, 1, 1], 'replicate'), tensor([...SOBEL_X, ...SOBEL_Y], [2, 1, 3, 3]));
      const y = empty([n, channels, h, w], op);
      const pixels = n * h * w;
      if (pixels > 0) {
        launch(
          { key: 'edge_nms', code: () => edgeNmsSource(), bindings: ['read', 'rw'], op },
          [grad, y],
          [pixels, h, w, channels, f32(threshold)],
          grid1d(pixels, EDGES_WG),
          { op },
        );
      }
      return y;
    }),
  );
}
