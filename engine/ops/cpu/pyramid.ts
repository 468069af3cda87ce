// CPU float64 references for the Laplacian pyramid (LAPGAN). No PyTorch function exists for these;
// scripts/golden/make_cpu_goldens.py rebuilds them from F.pad + F.conv2d to pin the conventions,
// and the GPU kernels must copy them exactly:
//
//   kernel      g = [1, 4, 6, 4, 1] / 16, applied separably (rows, then columns), to each (n, c)
//               plane of x [N, C, H, W] independently.
//   padding     reflect by 2 on every side (PyTorch 'reflect': the edge pixel is not repeated,
//               x[-1] = x[1], x[-2] = x[2]), so every axis that is blurred needs length >= 3.
//   pyrDown(x)  blur(x) (same size), then keep even rows and columns:
//               out[i, j] = blur(x)[2i, 2j], size ceil(H/2) x ceil(W/2).
//   pyrUp(x, outH, outW)
//               zero insertion: u[2i, 2j] = x[i, j], every other u = 0, u of size outH x outW, which
//               requires ceil(outH/2) = h and ceil(outW/2) = w (outH is 2h or 2h-1);
//               then blur(u) with the kernel times 4 (2g per axis), reflect padding on u.
//               The factor 4 restores the mean: a constant image stays exactly constant, borders
//               included, for even and odd output sizes alike.
//   band        laplacianBand(x) = x - pyrUp(pyrDown(x), H, W).
//   pyramid     laplacianPyramid(x, levels) = [band_0, ..., band_{levels-1}, low], where
//               low_0 = x, band_k = low_k - pyrUp(low_{k+1}, size of low_k), low_{k+1} = pyrDown(low_k),
//               and low = low_levels, the coarsest low-pass image. levels >= 0 counts the bands;
//               the list has levels + 1 entries, finest first.
//   reconstruct img = low; for k = levels-1 .. 0: img = band_k + pyrUp(img, size of band_k).
//               This inverts the pyramid exactly (up to float rounding): band_k was defined with
//               the same pyrUp of the same low_{k+1}.

import { hostTensor, type HostTensor, expectRank, expectSameShape } from './host.js';

/** The 1-D binomial taps, offsets -2..2. */
export const BINOMIAL5 = [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16] as const;

/** Reflect index i into [0, n) without repeating the edge (valid for -n < i < 2n - 1). */
function reflect(i: number, n: number): number {
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}

/**
 * Same-size separable blur of every plane with taps `gain * BINOMIAL5` per axis and reflect
 * padding 2.
 */
function blurPlanes(x: HostTensor, gain: number): HostTensor {
  const [n, c, h, w] = expectRank(x, 4, 'pyramid blur');
  if (h < 3 || w < 3) throw new Error(`pyramid: reflect padding 2 needs planes of at least 3x3, got ${h}x${w}`);
  const taps = BINOMIAL5.map((t) => t * gain);
  const rowPass = new Float64Array(h * w);
  const y = hostTensor(x.shape);
  for (let plane = 0; plane < n * c; plane++) {
    const base = plane * h * w;
    // Horizontal pass.
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        let acc = 0;
        for (let t = -2; t <= 2; t++) acc += taps[t + 2] * x.data[base + i * w + reflect(j + t, w)];
        rowPass[i * w + j] = acc;
      }
    }
    // Vertical pass.
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        let acc = 0;
        for (let t = -2; t <= 2; t++) acc += taps[t + 2] * rowPass[reflect(i + t, h) * w + j];
        y.data[base + i * w + j] = acc;
      }
    }
  }
  return y;
}

/** Blur, then keep every second row and column starting at 0: [N, C, ceil(H/2), ceil(W/2)]. */
export function pyrDownCpu(x: HostTensor): HostTensor {
  const [n, c, h, w] = expectRank(x, 4, 'pyrDown');
  const blurred = blurPlanes(x, 1);
  const oh = Math.ceil(h / 2);
  const ow = Math.ceil(w / 2);
  const y = hostTensor([n, c, oh, ow]);
  for (let plane = 0; plane < n * c; plane++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        y.data[(plane * oh + i) * ow + j] = blurred.data[(plane * h + 2 * i) * w + 2 * j];
      }
    }
  }
  return y;
}

/** Zero-insertion upsample to outH x outW, then blur with 4 x the binomial kernel. */
export function pyrUpCpu(x: HostTensor, outH: number, outW: number): HostTensor {
  const [n, c, h, w] = expectRank(x, 4, 'pyrUp');
  if (Math.ceil(outH / 2) !== h || Math.ceil(outW / 2) !== w) {
    throw new Error(`pyrUp: ${h}x${w} cannot be upsampled to ${outH}x${outW} (need ceil(out/2) = in)`);
  }
  const u = hostTensor([n, c, outH, outW]);
  for (let plane = 0; plane < n * c; plane++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        u.data[(plane * outH + 2 * i) * outW + 2 * j] = x.data[(plane * h + i) * w + j];
      }
    }
  }
  return blurPlanes(u, 2);
}

function subtract(a: HostTensor, b: HostTensor): HostTensor {
  expectSameShape(a, b, 'pyramid subtract');
  const y = hostTensor(a.shape);
  for (let i = 0; i < y.data.length; i++) y.data[i] = a.data[i] - b.data[i];
  return y;
}

function add(a: HostTensor, b: HostTensor): HostTensor {
  expectSameShape(a, b, 'pyramid add');
  const y = hostTensor(a.shape);
  for (let i = 0; i < y.data.length; i++) y.data[i] = a.data[i] + b.data[i];
  return y;
}

/** The finest band-pass image: x minus its blurred-and-resampled self. */
export function laplacianBandCpu(x: HostTensor): HostTensor {
  const [, , h, w] = expectRank(x, 4, 'laplacianBand');
  return subtract(x, pyrUpCpu(pyrDownCpu(x), h, w));
}

/** [band_0 (finest), ..., band_{levels-1}, coarsest low-pass]; levels + 1 tensors. */
export function laplacianPyramidCpu(x: HostTensor, levels: number): HostTensor[] {
  if (!Number.isInteger(levels) || levels < 0) throw new Error(`laplacianPyramid: levels must be an integer >= 0, got ${levels}`);
  const out: HostTensor[] = [];
  let low = x;
  for (let k = 0; k < levels; k++) {
    const [, , h, w] = expectRank(low, 4, 'laplacianPyramid');
    const next = pyrDownCpu(low);
    out.push(subtract(low, pyrUpCpu(next, h, w)));
    low = next;
  }
  out.push(low);
  return out;
}

/** Inverse of laplacianPyramidCpu. */
export function reconstructPyramidCpu(bands: readonly HostTensor[]): HostTensor {
  if (bands.length === 0) throw new Error('reconstructPyramid: no bands');
  let img = bands[bands.length - 1];
  for (let k = bands.length - 2; k >= 0; k--) {
    const [, , h, w] = expectRank(bands[k], 4, 'reconstructPyramid');
    img = add(bands[k], pyrUpCpu(img, h, w));
  }
  return img;
}
