// Laplacian pyramid ops (LAPGAN): pyrDown, pyrUp, laplacianBand, laplacianPyramid,
// reconstructPyramid. Conventions are those of engine/ops/cpu/pyramid.ts (read its header):
// binomial [1 4 6 4 1]/16 separable blur with reflect padding 2; pyrDown keeps even rows/columns of
// the blurred image (ceil(H/2) x ceil(W/2)); pyrUp zero-inserts to outH x outW (ceil(out/2) = in)
// and blurs with 4x the kernel.
// pyrDown and pyrUp are each one fused resampling kernel (blur + subsample, zero-insert + blur;
// shaders/spatial.ts pyramidSource). Their backwards are the transposed resamplers wrapped as ops
// whose own backward is the forward again, so the whole pyramid is differentiable at any order;
// band, pyramid and reconstruct are compositions with sub/add.
import { pyramidSource, SPATIAL_WG, type PyramidMode } from '../../shaders/spatial.js';
import { type Tensor, empty, fmtShape } from '../tensor.js';
import { record } from '../tape.js';
import { grid1d, launch, i32 } from './kernel.js';
import { registerOp, type HostTensor } from './registry.js';
import { add, sub } from './elementwise.js';
import { reshape, concat } from './movement.js';
import { spatialExpect4d, linearAdjointReference } from './spatial.js';
import { pyrDownCpu, pyrUpCpu, laplacianBandCpu, laplacianPyramidCpu, reconstructPyramidCpu } from './cpu/pyramid.js';

/** Runs one resampler: `fine` is the full-resolution [H, W] and the coarse size is ceil(fine / 2). */
function resample(mode: PyramidMode, x: Tensor, fine: readonly [number, number], op: string): Tensor {
  const [n, c, ih, iw] = x.shape;
  const [fh, fw] = fine;
  const ch = Math.ceil(fh / 2);
  const cw = Math.ceil(fw / 2);
  const toCoarse = mode === 'down' || mode === 'upT';
  const [oh, ow] = toCoarse ? [ch, cw] : [fh, fw];
  const y = empty([n, c, oh, ow], op);
  if (y.size > 0) {
    launch(
      { key: `pyramid|${mode}`, code: () => pyramidSource(mode), bindings: ['read', 'rw'], op },
      [x, y],
      [y.size, ih, iw, oh, ow, i32(fh), i32(fw), i32(ch), i32(cw), 0, 0, 0],
      grid1d(y.size, SPATIAL_WG),
      { op },
    );
  }
  return y;
}

function checkFine(op: string, x: Tensor, h: number, w: number, what: string): void {
  if (h < 3 || w < 3) {
    throw new Error(
      `${op}: the reflect padding of 2 needs ${what} of at least 3x3, got ${h}x${w} (x ${fmtShape(x.shape)}); use fewer pyramid levels or a larger image`,
    );
  }
}

/** Blur with the binomial kernel, then keep even rows and columns: [N, C, ceil(H/2), ceil(W/2)]. */
export function pyrDown(x: Tensor): Tensor {
  const op = 'pyr_down';
  const [, , h, w] = spatialExpect4d(op, x);
  checkFine(op, x, h, w, 'planes');
  const y = resample('down', x, [h, w], op);
  return record(y, op, [x], (g) => [pyrDownAdjoint(g, [h, w])], []);
}

/** The transpose of pyrDown (its input gradient for g [N, C, ceil(H/2), ceil(W/2)]), differentiable. */
export function pyrDownAdjoint(g: Tensor, fine: readonly [number, number]): Tensor {
  const op = 'pyr_down_adjoint';
  const [, , gh, gw] = spatialExpect4d(op, g);
  const [h, w] = fine;
  checkFine(op, g, h, w, 'the fine size');
  if (gh !== Math.ceil(h / 2) || gw !== Math.ceil(w / 2))
    throw new Error(`${op}: gradient ${fmtShape(g.shape)} is not the pyrDown size of ${h}x${w}`);
  const dx = resample('downT', g, [h, w], op);
  return record(dx, op, [g], (gg) => [pyrDown(gg)], []);
}

/**
 * Expand x [N, C, h, w] to [N, C, outH, outW] (ceil(outH/2) = h, ceil(outW/2) = w; default 2h x 2w):
 * zero insertion, then the binomial blur times 4 with reflect padding on the upsampled grid.
 */
export function pyrUp(x: Tensor, outH?: number, outW?: number): Tensor {
  const op = 'pyr_up';
  const [, , h, w] = spatialExpect4d(op, x);
  const oh = outH ?? 2 * h;
  const ow = outW ?? 2 * w;
  if (Math.ceil(oh / 2) !== h || Math.ceil(ow / 2) !== w) {
    throw new Error(
      `${op}: x ${fmtShape(x.shape)} cannot be expanded to ${oh}x${ow}: the output must be ${2 * h - 1} or ${2 * h} high and ${2 * w - 1} or ${2 * w} wide (ceil(out/2) = in)`,
    );
  }
  checkFine(op, x, oh, ow, 'an output');
  const y = resample('up', x, [oh, ow], op);
  return record(y, op, [x], (g) => [pyrUpAdjoint(g)], []);
}

/** The transpose of pyrUp: g [N, C, outH, outW] -> [N, C, ceil(outH/2), ceil(outW/2)], differentiable. */
export function pyrUpAdjoint(g: Tensor): Tensor {
  const op = 'pyr_up_adjoint';
  const [, , oh, ow] = spatialExpect4d(op, g);
  checkFine(op, g, oh, ow, 'a gradient');
  const dx = resample('upT', g, [oh, ow], op);
  return record(dx, op, [g], (gg) => [pyrUp(gg, oh, ow)], []);
}

/** The finest band-pass image: x - pyrUp(pyrDown(x), H, W). */
export function laplacianBand(x: Tensor): Tensor {
  const [, , h, w] = spatialExpect4d('laplacian_band', x);
  return sub(x, pyrUp(pyrDown(x), h, w));
}

/**
 * [band_0 (finest), ..., band_{levels-1}, low-pass residual]: levels + 1 tensors, where
 * band_k = low_k - pyrUp(low_{k+1}), low_{k+1} = pyrDown(low_k), low_0 = x.
 */
export function laplacianPyramid(x: Tensor, levels: number): Tensor[] {
  const op = 'laplacian_pyramid';
  spatialExpect4d(op, x);
  if (!Number.isInteger(levels) || levels < 0) throw new Error(`${op}: levels must be an integer >= 0, got ${levels}`);
  const out: Tensor[] = [];
  let low = x;
  for (let k = 0; k < levels; k++) {
    const [, , h, w] = low.shape;
    if (h < 3 || w < 3) {
      throw new Error(
        `${op}: level ${k} is ${h}x${w}, too small for another level (needs 3x3); x ${fmtShape(x.shape)} supports fewer than ${levels} levels`,
      );
    }
    const next = pyrDown(low);
    out.push(sub(low, pyrUp(next, h, w)));
    low = next;
  }
  out.push(low);
  return out;
}

/** Inverse of laplacianPyramid: img = low; for k from coarse to fine: img = band_k + pyrUp(img). */
export function reconstructPyramid(bands: readonly Tensor[]): Tensor {
  const op = 'reconstruct_pyramid';
  if (bands.length === 0) throw new Error(`${op}: no bands; pass the list laplacianPyramid returned`);
  let img = bands[bands.length - 1];
  spatialExpect4d(op, img);
  for (let k = bands.length - 2; k >= 0; k--) {
    const [n, c, h, w] = spatialExpect4d(op, bands[k]);
    if (img.shape[0] !== n || img.shape[1] !== c || Math.ceil(h / 2) !== img.shape[2] || Math.ceil(w / 2) !== img.shape[3]) {
      throw new Error(
        `${op}: band ${k} ${fmtShape(bands[k].shape)} does not match the next level ${fmtShape(img.shape)} (each level halves H and W, rounding up)`,
      );
    }
    img = add(bands[k], pyrUp(img, h, w));
  }
  return img;
}

// ---- registry -------------------------------------------------------------------------------------

const flatHost = (ts: HostTensor[]): HostTensor => {
  const n = ts.reduce((s, t) => s + t.data.length, 0);
  const data = new Float64Array(n);
  let off = 0;
  for (const t of ts) {
    data.set(t.data, off);
    off += t.data.length;
  }
  return { shape: [n], data };
};

registerOp({
  name: 'pyr_down',
  run: ([x]) => pyrDown(x),
  reference: ([x]) => pyrDownCpu(x),
  doubleBackward: true,
});
registerOp({
  name: 'pyr_down_adjoint',
  run: ([g], a) => pyrDownAdjoint(g, a.fine as [number, number]),
  reference: ([g], a) => linearAdjointReference(pyrDownCpu, [g.shape[0], g.shape[1], ...(a.fine as number[])], g),
  doubleBackward: true,
});
registerOp({
  name: 'pyr_up',
  run: ([x], a) => pyrUp(x, ...(a.out as [number, number])),
  reference: ([x], a) => pyrUpCpu(x, ...(a.out as [number, number])),
  doubleBackward: true,
});
registerOp({
  name: 'pyr_up_adjoint',
  run: ([g]) => pyrUpAdjoint(g),
  reference: ([g]) =>
    linearAdjointReference(
      (x) => pyrUpCpu(x, g.shape[2], g.shape[3]),
      [g.shape[0], g.shape[1], Math.ceil(g.shape[2] / 2), Math.ceil(g.shape[3] / 2)],
      g,
    ),
  doubleBackward: true,
});
registerOp({
  name: 'laplacian_band',
  run: ([x]) => laplacianBand(x),
  reference: ([x]) => laplacianBandCpu(x),
  doubleBackward: true,
});
// The pyramid's levels flattened and concatenated into one vector, so the suite checks them all.
registerOp({
  name: 'laplacian_pyramid',
  run: ([x], a) =>
    concat(
      laplacianPyramid(x, a.levels as number).map((t) => reshape(t, [-1])),
      0,
    ),
  reference: ([x], a) => flatHost(laplacianPyramidCpu(x, a.levels as number)),
  doubleBackward: true,
});
registerOp({
  name: 'reconstruct_pyramid',
  run: (bands) => reconstructPyramid(bands),
  reference: (bands) => reconstructPyramidCpu(bands),
  doubleBackward: true,
});
