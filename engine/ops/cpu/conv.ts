// CPU float64 references for 2-D convolution (NCHW), its gradients, and transposed convolution.
//
// Conventions (PyTorch's):
//   conv2d           x [N, C, H, W], w [O, C/groups, KH, KW], bias [O] -> y [N, O, OH, OW]
//                    OH = floor((H + padTop + padBottom - dh*(KH-1) - 1) / sh) + 1   (OW alike)
//                    y[n,o,oh,ow] = bias[o] + sum_{c,kh,kw} x[n, g*C/groups + c, oh*sh - padTop + kh*dh,
//                                                          ow*sw - padLeft + kw*dw] * w[o,c,kh,kw]
//                    where g = o / (O/groups); taps that fall in the padding read zero.
//   convTranspose2d  x [N, Cin, H, W], w [Cin, Cout/groups, KH, KW], bias [Cout] -> y [N, Cout, OH, OW]
//                    OH = (H-1)*sh - padTop - padBottom + dh*(KH-1) + outputPadding[0] + 1 (OW alike)
//                    It is the adjoint of conv2d with the same stride/padding/dilation: each input
//                    pixel scatters w * x into the output. outputPadding only adds rows/columns at
//                    the bottom/right, so it never changes which output pixel a tap lands on.
//
// Padding is explicit and asymmetric: [top, bottom, left, right]. PyTorch's symmetric `padding=p`
// is [p, p, p, p]; its `padding='same'` with an even kernel pads the extra pixel at the bottom/right.
//
// All three conv2d functions (forward, input gradient, weight gradient) walk the same index
// relation, `forEachTap`, and differ only in which pair of tensors they multiply and where they
// accumulate, so a bug in the geometry cannot make them disagree with each other; the PyTorch
// goldens in tests/golden check the geometry itself.

import { hostTensor, type HostTensor, expectRank } from './host.js';

export type Pair = readonly [number, number];
export type Pad4 = readonly [number, number, number, number];

export interface Conv2dOptions {
  /** [sh, sw], default [1, 1]. */
  stride?: Pair;
  /** [top, bottom, left, right], default zeros. */
  padding?: Pad4;
  /** [dh, dw], default [1, 1]. */
  dilation?: Pair;
  /** Default 1. */
  groups?: number;
}

export interface ConvTranspose2dOptions extends Conv2dOptions {
  /** Extra [rows, columns] at the bottom/right of the output; each must be < stride or < dilation. */
  outputPadding?: Pair;
}

/** Every size and offset one conv2d needs, resolved and checked once. */
interface ConvGeometry {
  n: number;
  c: number;
  h: number;
  w: number;
  o: number;
  kh: number;
  kw: number;
  oh: number;
  ow: number;
  sh: number;
  sw: number;
  padTop: number;
  padLeft: number;
  dh: number;
  dw: number;
  groups: number;
}

/** Output spatial size of conv2d along one axis. */
export function convOutSize(inSize: number, k: number, stride: number, padBefore: number, padAfter: number, dilation: number): number {
  return Math.floor((inSize + padBefore + padAfter - dilation * (k - 1) - 1) / stride) + 1;
}

/** Output spatial size of convTranspose2d along one axis. */
export function convTransposeOutSize(
  inSize: number,
  k: number,
  stride: number,
  padBefore: number,
  padAfter: number,
  dilation: number,
  outputPadding: number,
): number {
  return (inSize - 1) * stride - padBefore - padAfter + dilation * (k - 1) + outputPadding + 1;
}

/**
 * Resolves the geometry of conv2d(x, w). `outSize` overrides the derived [OH, OW]; convTranspose2d
 * uses it because with outputPadding >= stride (allowed when < dilation) its output is taller than
 * the conv that would map it back to the input size.
 */
function geometry(xShape: readonly number[], wShape: readonly number[], opts: Conv2dOptions, outSize?: Pair): ConvGeometry {
  const [sh, sw] = opts.stride ?? [1, 1];
  const [padTop, padBottom, padLeft, padRight] = opts.padding ?? [0, 0, 0, 0];
  const [dh, dw] = opts.dilation ?? [1, 1];
  const groups = opts.groups ?? 1;
  if (xShape.length !== 4 || wShape.length !== 4) throw new Error('conv2d: x and w must be rank 4');
  const [n, c, h, w] = xShape;
  const [o, cPerGroup, kh, kw] = wShape;
  if (c % groups !== 0 || o % groups !== 0) throw new Error(`conv2d: channels ${c} -> ${o} not divisible by groups ${groups}`);
  if (cPerGroup !== c / groups) throw new Error(`conv2d: weight expects ${cPerGroup * groups} input channels, x has ${c}`);
  if (Math.min(sh, sw, dh, dw) < 1) throw new Error('conv2d: stride and dilation must be >= 1');
  if (Math.min(padTop, padBottom, padLeft, padRight) < 0) throw new Error('conv2d: padding must be >= 0');
  const [oh, ow] = outSize ?? [convOutSize(h, kh, sh, padTop, padBottom, dh), convOutSize(w, kw, sw, padLeft, padRight, dw)];
  if (oh < 1 || ow < 1) throw new Error(`conv2d: empty output ${oh}x${ow}`);
  return { n, c, h, w, o, kh, kw, oh, ow, sh, sw, padTop, padLeft, dh, dw, groups };
}

/**
 * Calls visit(xIndex, wIndex, yIndex) once for every (input pixel, weight, output pixel) triple that
 * conv2d multiplies together; taps landing in the zero padding are skipped.
 */
function forEachTap(g: ConvGeometry, visit: (xi: number, wi: number, yi: number) => void): void {
  const cPerGroup = g.c / g.groups;
  const oPerGroup = g.o / g.groups;
  const xPlane = g.h * g.w;
  const wFilter = cPerGroup * g.kh * g.kw;
  for (let n = 0; n < g.n; n++) {
    for (let o = 0; o < g.o; o++) {
      const firstChannel = Math.floor(o / oPerGroup) * cPerGroup;
      for (let oh = 0; oh < g.oh; oh++) {
        for (let ow = 0; ow < g.ow; ow++) {
          const yi = ((n * g.o + o) * g.oh + oh) * g.ow + ow;
          for (let c = 0; c < cPerGroup; c++) {
            const xBase = (n * g.c + firstChannel + c) * xPlane;
            const wBase = o * wFilter + c * g.kh * g.kw;
            for (let kh = 0; kh < g.kh; kh++) {
              const ih = oh * g.sh - g.padTop + kh * g.dh;
              if (ih < 0 || ih >= g.h) continue;
              for (let kw = 0; kw < g.kw; kw++) {
                const iw = ow * g.sw - g.padLeft + kw * g.dw;
                if (iw < 0 || iw >= g.w) continue;
                visit(xBase + ih * g.w + iw, wBase + kh * g.kw + kw, yi);
              }
            }
          }
        }
      }
    }
  }
}

/** Adds bias[channel] to every element of y [N, C, H, W]. */
function addChannelBias(y: HostTensor, bias: HostTensor | null): void {
  if (bias === null) return;
  const [n, c, h, w] = y.shape;
  if (bias.data.length !== c) throw new Error(`bias has ${bias.data.length} values for ${c} channels`);
  const plane = h * w;
  for (let i = 0; i < n * c; i++) {
    const b = bias.data[i % c];
    for (let p = i * plane; p < (i + 1) * plane; p++) y.data[p] += b;
  }
}

/** conv2d forward (cross-correlation, as in PyTorch). */
export function conv2dCpu(x: HostTensor, w: HostTensor, bias: HostTensor | null, opts: Conv2dOptions = {}): HostTensor {
  const g = geometry(x.shape, w.shape, opts);
  const y = hostTensor([g.n, g.o, g.oh, g.ow]);
  forEachTap(g, (xi, wi, yi) => {
    y.data[yi] += x.data[xi] * w.data[wi];
  });
  addChannelBias(y, bias);
  return y;
}

/** dL/dx of conv2d given dL/dy; xShape is needed because several input sizes give one output size. */
export function conv2dBackwardInputCpu(dy: HostTensor, w: HostTensor, xShape: readonly number[], opts: Conv2dOptions = {}): HostTensor {
  const g = geometry(xShape, w.shape, opts);
  checkOutputShape(dy, g);
  const dx = hostTensor(xShape);
  forEachTap(g, (xi, wi, yi) => {
    dx.data[xi] += dy.data[yi] * w.data[wi];
  });
  return dx;
}

/** dL/dw of conv2d given the forward input x and dL/dy. */
export function conv2dBackwardWeightCpu(x: HostTensor, dy: HostTensor, wShape: readonly number[], opts: Conv2dOptions = {}): HostTensor {
  const g = geometry(x.shape, wShape, opts);
  checkOutputShape(dy, g);
  const dw = hostTensor(wShape);
  forEachTap(g, (xi, wi, yi) => {
    dw.data[wi] += x.data[xi] * dy.data[yi];
  });
  return dw;
}

/** dL/dbias of conv2d (or convTranspose2d): dy summed over batch and space, per channel. */
export function conv2dBackwardBiasCpu(dy: HostTensor): HostTensor {
  const [n, c, h, w] = expectRank(dy, 4, 'conv2dBackwardBias');
  const db = hostTensor([c]);
  const plane = h * w;
  for (let i = 0; i < n * c; i++) {
    let sum = 0;
    for (let p = i * plane; p < (i + 1) * plane; p++) sum += dy.data[p];
    db.data[i % c] += sum;
  }
  return db;
}

/**
 * convTranspose2d forward. It is conv2d's input gradient with x in the role of dy and an output of
 * the transposed size: the tap walk is conv2d's with the roles of input and output swapped.
 */
export function convTranspose2dCpu(x: HostTensor, w: HostTensor, bias: HostTensor | null, opts: ConvTranspose2dOptions = {}): HostTensor {
  const [n, cIn, h, wIn] = expectRank(x, 4, 'convTranspose2d');
  const [wIn0, oPerGroup, kh, kw] = expectRank(w, 4, 'convTranspose2d weight');
  const groups = opts.groups ?? 1;
  if (wIn0 !== cIn) throw new Error(`convTranspose2d: weight has ${wIn0} input channels, x has ${cIn}`);
  const [sh, sw] = opts.stride ?? [1, 1];
  const [padTop, padBottom, padLeft, padRight] = opts.padding ?? [0, 0, 0, 0];
  const [dh, dw] = opts.dilation ?? [1, 1];
  const [oph, opw] = opts.outputPadding ?? [0, 0];
  if (!(oph < sh || oph < dh) || !(opw < sw || opw < dw) || oph < 0 || opw < 0) {
    throw new Error('convTranspose2d: outputPadding must be smaller than stride or dilation');
  }
  const outShape = [
    n,
    oPerGroup * groups,
    convTransposeOutSize(h, kh, sh, padTop, padBottom, dh, oph),
    convTransposeOutSize(wIn, kw, sw, padLeft, padRight, dw, opw),
  ];
  if (outShape[2] < 1 || outShape[3] < 1) throw new Error(`convTranspose2d: empty output ${outShape[2]}x${outShape[3]}`);
  // Scatter x through w: the same taps as conv2d(y, w) mapping y back onto x's grid.
  const g = geometry(outShape, w.shape, opts, [h, wIn]);
  const y = hostTensor(outShape);
  forEachTap(g, (yi, wi, xi) => {
    y.data[yi] += x.data[xi] * w.data[wi];
  });
  addChannelBias(y, bias);
  return y;
}

function checkOutputShape(dy: HostTensor, g: ConvGeometry): void {
  const expected = [g.n, g.o, g.oh, g.ow];
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== expected[i])) {
    throw new Error(`conv2d backward: dy is [${dy.shape.join(', ')}], forward output is [${expected.join(', ')}]`);
  }
}
