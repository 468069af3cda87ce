// The benchmark's shape suite, as data. Both halves of the harness (this engine, and
// @tensorflow/tfjs-backend-webgpu in bench/tfjs.ts) read the same entries, so a ratio per shape
// compares the same work.
//
// Layout-free description: every case gives N, C, H, W in the PyTorch sense; each backend lays the
// data out its own way (the engine NCHW, tfjs NHWC with filters [kh, kw, in, out]).
//
// FLOP convention (what GFLOP/s figures mean):
//   conv2d            2 * N * Cout * Hout * Wout * Cin * kh * kw, the direct-convolution
//                     multiply-adds of the forward pass, padding taps included. The input gradient
//                     and the weight gradient are each counted the same (each is that many MACs in a
//                     direct formulation), so fwd + dgrad + wgrad = 3x.
//   conv_transpose2d  2 * N * Cin * H * W * Cout * kh * kw with H, W the transposed conv's *input*
//                     (the small side): the FLOPs of the equivalent forward conv that maps the big
//                     side back to the small one. Same for its input and weight gradients.
//   norms, pyramid, Adam: nominal element-wise counts (documented at each); they are memory-bound
//                     and the GB/s figure is the one to read.
// Byte convention: the minimal f32 traffic of one pass (every operand read once, every result
// written once), so GB/s = bytes / time is a lower bound on what the kernel really moved.

export type ConvPass = 'forward' | 'input_grad' | 'weight_grad';
export const CONV_PASSES: readonly ConvPass[] = ['forward', 'input_grad', 'weight_grad'];

/** [top, bottom, left, right] zero padding of the (equivalent forward) convolution. */
export type Pad4 = [number, number, number, number];

export interface ConvCase {
  id: string;
  title: string;
  kind: 'conv2d' | 'conv_transpose2d';
  /** Batch. */
  n: number;
  /** Input channels of the op as called (for conv_transpose2d: channels of its small input). */
  cin: number;
  /** Input height/width of the op as called (for conv_transpose2d: the small side). */
  h: number;
  w: number;
  /** Output channels of the op as called. */
  cout: number;
  /** Square kernel size. */
  k: number;
  stride: number;
  /**
   * conv2d: zero padding [t, b, l, r] of the input.
   * conv_transpose2d: PyTorch's `padding` per side; the output is
   *   Hout = (H - 1) * stride - t - b + k + outputPadding (likewise W with l, r).
   * That is also exactly the padding of the equivalent forward conv (big -> small), which is what
   * tfjs's conv2dTranspose / Conv2DBackpropInput take as explicit padding.
   */
  pad: Pad4;
  /** conv_transpose2d only (PyTorch `output_padding`), default 0; must be < stride. */
  outputPadding?: number;
  /** Output size of the op as called. */
  hout: number;
  wout: number;
  /** FLOPs of one pass, per the convention above (same for all three passes). */
  flops(pass: ConvPass): number;
  /** Minimal f32 bytes of one pass: forward x+w+y, input grad dy+w+dx, weight grad x+dy+dw. */
  bytes(pass: ConvPass): number;
  /** Element counts, handy for allocation: x (op input), w, y (op output). */
  sizes: { x: number; w: number; y: number };
}

function convCase(c: {
  id: string;
  title: string;
  kind: 'conv2d' | 'conv_transpose2d';
  n: number;
  cin: number;
  h: number;
  w: number;
  cout: number;
  k: number;
  stride: number;
  pad: number | Pad4;
  outputPadding?: number;
}): ConvCase {
  const pad: Pad4 = typeof c.pad === 'number' ? [c.pad, c.pad, c.pad, c.pad] : c.pad;
  const [t, b, l, r] = pad;
  const op = c.outputPadding ?? 0;
  let hout: number;
  let wout: number;
  if (c.kind === 'conv2d') {
    if (op) throw new Error(`${c.id}: outputPadding is for conv_transpose2d only`);
    hout = Math.floor((c.h + t + b - c.k) / c.stride) + 1;
    wout = Math.floor((c.w + l + r - c.k) / c.stride) + 1;
  } else {
    if (op >= c.stride) throw new Error(`${c.id}: outputPadding must be < stride`);
    hout = (c.h - 1) * c.stride - t - b + c.k + op;
    wout = (c.w - 1) * c.stride - l - r + c.k + op;
  }
  if (hout <= 0 || wout <= 0) throw new Error(`${c.id}: empty output`);
  const xs = c.n * c.cin * c.h * c.w;
  const ws = c.cin * c.cout * c.k * c.k;
  const ys = c.n * c.cout * hout * wout;
  // MACs of the direct conv, counted on the side where the conv is "forward".
  const macs = c.kind === 'conv2d' ? c.n * c.cout * hout * wout * c.cin * c.k * c.k : c.n * c.cin * c.h * c.w * c.cout * c.k * c.k;
  const out: ConvCase = {
    id: c.id,
    title: c.title,
    kind: c.kind,
    n: c.n,
    cin: c.cin,
    h: c.h,
    w: c.w,
    cout: c.cout,
    k: c.k,
    stride: c.stride,
    pad,
    hout,
    wout,
    flops: () => 2 * macs,
    bytes: () => 4 * (xs + ws + ys),
    sizes: { x: xs, w: ws, y: ys },
  };
  if (c.kind === 'conv_transpose2d') out.outputPadding = op;
  return out;
}

export type NormPass = 'forward' | 'forward_backward';
export const NORM_PASSES: readonly NormPass[] = ['forward', 'forward_backward'];

/**
 * Normalisation over an [N, C, H, W] activation, training mode (statistics from the batch).
 *   instance_norm: mean/var per (n, c) over H*W; CycleGAN's (affine false).
 *   batch_norm:    mean/var per c over N*H*W; affine gamma/beta (DCGAN, pix2pix).
 * Biased variance, eps 1e-5 (PyTorch's defaults). 'forward_backward' = forward plus the gradient
 * w.r.t. the input (and gamma/beta when affine) for a given dy: tfjs cannot run a backward without
 * recording its forward in the same call, so both halves time the pair.
 * FLOPs (nominal): forward 8 per element (mean 1, var 3, normalise 2, affine 2);
 * forward_backward 8 + 10 per element. Bytes: forward reads x once and writes y once
 * (8 B/elem); forward_backward adds reading dy and writing dx (16 B/elem) — a two-pass
 * implementation moves more; these are the floor.
 */
export interface NormCase {
  id: string;
  title: string;
  kind: 'instance_norm' | 'batch_norm';
  n: number;
  c: number;
  h: number;
  w: number;
  affine: boolean;
  eps: number;
  flops(pass: NormPass): number;
  bytes(pass: NormPass): number;
}

function normCase(c: Omit<NormCase, 'flops' | 'bytes' | 'eps'> & { eps?: number }): NormCase {
  const e = c.n * c.c * c.h * c.w;
  return {
    ...c,
    eps: c.eps ?? 1e-5,
    flops: (p) => (p === 'forward' ? 8 * e : 18 * e),
    bytes: (p) => (p === 'forward' ? 8 * e : 24 * e),
  };
}

/**
 * Laplacian pyramid (Burt-Adelson, as LAPGAN uses it) of an [N, C, H, W] image, forward only
 * (it is data preparation; nothing back-propagates through it). The engine's conventions
 * (engine/ops/cpu/pyramid.ts, its float64 reference, which both halves are checked against):
 *   g0 = x; for l in 0 .. levels-2: g[l+1] = down(g[l]); band[l] = g[l] - up(g[l+1])
 *   outputs: band[0 .. levels-2] and the low-pass g[levels-1]   (so 3 levels on 256x256 gives
 *   bands at 256 and 128 and a 64x64 low-pass, like LAPGAN's three generators). `levels` counts
 *   all outputs; the engine's laplacianPyramid(x, bands) takes bands = levels - 1.
 *   blur: depthwise 5x5 binomial ([1 4 6 4 1]/16 outer itself) with reflect padding 2
 *         (PyTorch 'reflect': x[-1] = x[1], x[-2] = x[2]; no edge repeat).
 *   down: blur, keep even rows and columns -> ceil(H/2) x ceil(W/2).
 *   up:   zero insertion (u[2i, 2j] = g[i, j], zeros elsewhere, at g[l]'s size), then the blur
 *         with the kernel times 4, reflect padding on u (the binomial expand).
 * FLOPs (nominal, a dense 5x5 tap count): down 50 per output element, up 50 per output element
 * (the zero taps counted), subtract 1.
 * Bytes (floor): per band level read g[l] once, write g[l+1] and band[l] once.
 */
export interface PyramidCase {
  id: string;
  title: string;
  kind: 'laplacian_pyramid';
  n: number;
  c: number;
  h: number;
  w: number;
  levels: number;
  flops(): number;
  bytes(): number;
}

function pyramidCase(c: Omit<PyramidCase, 'flops' | 'bytes' | 'kind'>): PyramidCase {
  let flops = 0;
  let bytes = 0;
  let h = c.h;
  let w = c.w;
  for (let l = 0; l < c.levels - 1; l++) {
    const h2 = Math.ceil(h / 2);
    const w2 = Math.ceil(w / 2);
    const big = c.n * c.c * h * w;
    const small = c.n * c.c * h2 * w2;
    flops += 50 * small + 51 * big;
    bytes += 4 * (big + small + big);
    h = h2;
    w = w2;
  }
  return { ...c, kind: 'laplacian_pyramid', flops: () => flops, bytes: () => bytes };
}

/**
 * One Adam step (PyTorch semantics, no weight decay, no amsgrad) over a list of parameter tensors:
 *   m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr / (1-b1^t) * m / (sqrt(v / (1-b2^t)) + eps)
 * The tensor list is a real model's (CycleGAN's ResNet-9 generator), because the number of tensors
 * matters as much as the element count to a framework that launches kernels per tensor.
 * FLOPs (nominal): 13 per parameter. Bytes (floor): read p, g, m, v and write p, m, v: 28 per
 * parameter.
 */
export interface AdamCase {
  id: string;
  title: string;
  kind: 'adam';
  /** Element count of each parameter tensor. */
  sizes: number[];
  total: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  flops(): number;
  bytes(): number;
}

/**
 * Parameter tensor sizes of CycleGAN's resnet_9blocks generator (instance norm without affine, so
 * every conv has a bias): c7s1-ngf, d(2ngf), d(4ngf), nBlocks x 2 convs 3x3 at 4ngf, u(2ngf), u(ngf)
 * (conv-transposes 3x3), c7s1-3. ngf 64, 9 blocks: 11,378,179 parameters in 48 tensors.
 */
export function resnetGeneratorParamSizes(ngf = 64, nBlocks = 9, inC = 3, outC = 3): number[] {
  const s: number[] = [];
  const conv = (ci: number, co: number, k: number) => s.push(ci * co * k * k, co);
  conv(inC, ngf, 7);
  conv(ngf, 2 * ngf, 3);
  conv(2 * ngf, 4 * ngf, 3);
  for (let b = 0; b < nBlocks; b++) {
    conv(4 * ngf, 4 * ngf, 3);
    conv(4 * ngf, 4 * ngf, 3);
  }
  conv(4 * ngf, 2 * ngf, 3);
  conv(2 * ngf, ngf, 3);
  conv(ngf, outC, 7);
  return s;
}

function adamCase(id: string, title: string, sizes: number[]): AdamCase {
  const total = sizes.reduce((a, b) => a + b, 0);
  return {
    id,
    title,
    kind: 'adam',
    sizes,
    total,
    lr: 2e-4,
    beta1: 0.5,
    beta2: 0.999,
    eps: 1e-8,
    flops: () => 13 * total,
    bytes: () => 28 * total,
  };
}

/**
 * End to end: one DCGAN training step on 64x64x3 images (the PyTorch example's networks).
 *   G: convT(nz->8ngf, 4, 1, 0), BN, ReLU; convT 8ngf->4ngf->2ngf->ngf (4/2/1) each BN, ReLU;
 *      convT(ngf->3, 4/2/1), tanh.  No conv biases.
 *   D: conv(3->ndf, 4/2/1), LeakyReLU 0.2; conv ndf->2ndf->4ndf->8ndf (4/2/1) each BN,
 *      LeakyReLU 0.2; conv(8ndf->1, 4, 1, 0) -> logit. No conv biases.
 *   Losses BCE with logits; Adam(2e-4, beta1 0.5, beta2 0.999) for each net.
 *   One step = D update on a real batch and a fake batch (separate forward passes, as in the
 *   PyTorch example, so batch norm sees each batch alone), then a G update through D.
 * nominalFlops: conv FLOPs of the PyTorch example's step: G forward once, its backward (dgrad +
 * wgrad) once; D forward 3x (real, fake for D, fake for G), D backward 3x (dgrad + wgrad each;
 * PyTorch also forms D's weight grads during the G step). Norm/activation/loss/Adam FLOPs ignored.
 */
export interface DcganCase {
  id: string;
  title: string;
  kind: 'dcgan_step';
  batch: number;
  nz: number;
  ngf: number;
  ndf: number;
  image: 64;
  gForwardFlops: number;
  dForwardFlops: number;
  nominalFlops: number;
  gParams: number;
  dParams: number;
}

export function dcganCase(id: string, title: string, batch: number, nz = 100, ngf = 64, ndf = 64): DcganCase {
  // Generator: sizes 1 -> 4 -> 8 -> 16 -> 32 -> 64.
  const gCh = [nz, 8 * ngf, 4 * ngf, 2 * ngf, ngf, 3];
  const gIn = [1, 4, 8, 16, 32];
  let gF = 0;
  let gP = 0;
  for (let i = 0; i < 5; i++) {
    gF += 2 * batch * gCh[i] * gIn[i] * gIn[i] * gCh[i + 1] * 16;
    gP += gCh[i] * gCh[i + 1] * 16;
    if (i < 4) gP += 2 * gCh[i + 1];
  }
  // Discriminator: 64 -> 32 -> 16 -> 8 -> 4 -> 1.
  const dCh = [3, ndf, 2 * ndf, 4 * ndf, 8 * ndf, 1];
  const dOut = [32, 16, 8, 4, 1];
  let dF = 0;
  let dP = 0;
  for (let i = 0; i < 5; i++) {
    dF += 2 * batch * dCh[i + 1] * dOut[i] * dOut[i] * dCh[i] * 16;
    dP += dCh[i] * dCh[i + 1] * 16;
    if (i >= 1 && i <= 3) dP += 2 * dCh[i + 1];
  }
  return {
    id,
    title,
    kind: 'dcgan_step',
    batch,
    nz,
    ngf,
    ndf,
    image: 64,
    gForwardFlops: gF,
    dForwardFlops: dF,
    nominalFlops: 3 * gF + 9 * dF,
    gParams: gP,
    dParams: dP,
  };
}

export interface Suite {
  name: 'full' | 'reduced';
  convs: ConvCase[];
  norms: NormCase[];
  pyramids: PyramidCase[];
  adams: AdamCase[];
  dcgan: DcganCase;
}

export type AnyCase = ConvCase | NormCase | PyramidCase | AdamCase | DcganCase;

/** The shapes. */
export const fullSuite: Suite = {
  name: 'full',
  convs: [
    convCase({
      id: 'cyclegan_res',
      title: 'CycleGAN res block conv 3x3 256->256, 64x64, N1',
      kind: 'conv2d',
      n: 1,
      cin: 256,
      h: 64,
      w: 64,
      cout: 256,
      k: 3,
      stride: 1,
      pad: 1,
    }),
    convCase({
      id: 'cyclegan_c7',
      title: 'CycleGAN first layer 7x7 3->64, 256x256, N1',
      kind: 'conv2d',
      n: 1,
      cin: 3,
      h: 256,
      w: 256,
      cout: 64,
      k: 7,
      stride: 1,
      pad: 3,
    }),
    convCase({
      id: 'patchgan',
      title: 'PatchGAN conv 4x4 s2 64->128, 128x128, N1',
      kind: 'conv2d',
      n: 1,
      cin: 64,
      h: 128,
      w: 128,
      cout: 128,
      k: 4,
      stride: 2,
      pad: 1,
    }),
    convCase({
      id: 'dcgan_d',
      title: 'DCGAN D conv 4x4 s2 128->256, 16x16, N64',
      kind: 'conv2d',
      n: 64,
      cin: 128,
      h: 16,
      w: 16,
      cout: 256,
      k: 4,
      stride: 2,
      pad: 1,
    }),
    convCase({
      id: 'dcgan_g1',
      title: 'DCGAN G convT 4x4 s2 512->256, 4x4->8x8, N64',
      kind: 'conv_transpose2d',
      n: 64,
      cin: 512,
      h: 4,
      w: 4,
      cout: 256,
      k: 4,
      stride: 2,
      pad: 1,
    }),
    convCase({
      id: 'dcgan_g2',
      title: 'DCGAN G convT 4x4 s2 256->128, 8x8->16x16, N64',
      kind: 'conv_transpose2d',
      n: 64,
      cin: 256,
      h: 8,
      w: 8,
      cout: 128,
      k: 4,
      stride: 2,
      pad: 1,
    }),
    convCase({
      id: 'dcgan_g3',
      title: 'DCGAN G convT 4x4 s2 128->64, 16x16->32x32, N64',
      kind: 'conv_transpose2d',
      n: 64,
      cin: 128,
      h: 16,
      w: 16,
      cout: 64,
      k: 4,
      stride: 2,
      pad: 1,
    }),
    convCase({
      id: 'dcgan_g4',
      title: 'DCGAN G convT 4x4 s2 64->3, 32x32->64x64, N64',
      kind: 'conv_transpose2d',
      n: 64,
      cin: 64,
      h: 32,
      w: 32,
      cout: 3,
      k: 4,
      stride: 2,
      pad: 1,
    }),
    convCase({
      id: 'unet_down1',
      title: 'pix2pix U-Net down1 conv 4x4 s2 3->64, 256x256->128, N1',
      kind: 'conv2d',
      n: 1,
      cin: 3,
      h: 256,
      w: 256,
      cout: 64,
      k: 4,
      stride: 2,
      pad: 1,
    }),
    convCase({
      id: 'unet_up2',
      title: 'pix2pix U-Net up2 convT 4x4 s2 256->64, 64x64->128, N1',
      kind: 'conv_transpose2d',
      n: 1,
      cin: 256,
      h: 64,
      w: 64,
      cout: 64,
      k: 4,
      stride: 2,
      pad: 1,
    }),
    convCase({
      id: 'unet_up1',
      title: 'pix2pix U-Net up1 convT 4x4 s2 128->3, 128x128->256, N1',
      kind: 'conv_transpose2d',
      n: 1,
      cin: 128,
      h: 128,
      w: 128,
      cout: 3,
      k: 4,
      stride: 2,
      pad: 1,
    }),
  ],
  norms: [
    normCase({
      id: 'instance_norm',
      title: 'instance norm 256x64x64 (no affine), N1',
      kind: 'instance_norm',
      n: 1,
      c: 256,
      h: 64,
      w: 64,
      affine: false,
    }),
    normCase({
      id: 'batch_norm',
      title: 'batch norm 256x64x64 (affine), N1',
      kind: 'batch_norm',
      n: 1,
      c: 256,
      h: 64,
      w: 64,
      affine: true,
    }),
    normCase({
      id: 'batch_norm_dcgan',
      title: 'batch norm 128x16x16 (affine), N64 (DCGAN D)',
      kind: 'batch_norm',
      n: 64,
      c: 128,
      h: 16,
      w: 16,
      affine: true,
    }),
  ],
  pyramids: [pyramidCase({ id: 'laplacian3', title: 'Laplacian pyramid, 3 levels, 3x256x256', n: 1, c: 3, h: 256, w: 256, levels: 3 })],
  adams: [adamCase('adam_11m', 'Adam over CycleGAN ResNet-9 G (11.38M params, 48 tensors)', resnetGeneratorParamSizes(64, 9))],
  dcgan: dcganCase('dcgan_step', 'DCGAN 64x64x3 training step, batch 64, ngf=ndf=64', 64, 100, 64, 64),
};

/**
 * The same layer types at sizes a software adapter (lavapipe, ~2 GFLOP/s) gets through in a
 * couple of minutes: channels and spatial sizes scaled down, strides/kernels/padding kept.
 * Sized so that tfjs picks the same kernels as on the full shapes: its conv2d takes the
 * im2col + small-output matmul path when N * ceil(Hout*Wout/32) * ceil(Cout/32) <= 8 and the
 * implicit-GEMM Conv2DMMProgram above that; every reduced conv (and the conv2d inside each
 * conv-transpose's input gradient) stays above 8, like the full ones.
 */
export const reducedSuite: Suite = {
  name: 'reduced',
  convs: [
    convCase({
      id: 'cyclegan_res',
      title: 'res block conv 3x3 32->32, 32x32, N1',
      kind: 'conv2d',
      n: 1,
      cin: 32,
      h: 32,
      w: 32,
      cout: 32,
      k: 3,
      stride: 1,
      pad: 1,
    }),
    convCase({
      id: 'cyclegan_c7',
      title: 'first layer 7x7 3->16, 32x32, N1',
      kind: 'conv2d',
      n: 1,
      cin: 3,
      h: 32,
      w: 32,
      cout: 16,
      k: 7,
      stride: 1,
      pad: 3,
    }),
    convCase({
      id: 'patchgan',
      title: 'PatchGAN conv 4x4 s2 16->32, 64x64, N1',
      kind: 'conv2d',
      n: 1,
      cin: 16,
      h: 64,
      w: 64,
      cout: 32,
      k: 4,
      stride: 2,
      pad: 1,
    }),
    convCase({
      id: 'dcgan_d',
      title: 'DCGAN D conv 4x4 s2 32->64, 8x8, N8',
      kind: 'conv2d',
      n: 8,
      cin: 32,
      h: 8,
      w: 8,
      cout: 64,
      k: 4,
      stride: 2,
      pad: 1,
    }),
    convCase({
      id: 'dcgan_g1',
      title: 'DCGAN G convT 4x4 s2 128->64, 2x2->4x4, N8',
      kind: 'conv_transpose2d',
      n: 8,
      cin: 128,
      h: 2,
      w: 2,
      cout: 64,
      k: 4,
      stride: 2,
      pad: 1,
    }),
    convCase({
      id: 'dcgan_g2',
      title: 'DCGAN G convT 4x4 s2 64->32, 4x4->8x8, N8',
      kind: 'conv_transpose2d',
      n: 8,
      cin: 64,
      h: 4,
      w: 4,
      cout: 32,
      k: 4,
      stride: 2,
      pad: 1,
    }),
    convCase({
      id: 'dcgan_g3',
      title: 'DCGAN G convT 4x4 s2 32->16, 8x8->16x16, N8',
      kind: 'conv_transpose2d',
      n: 8,
      cin: 32,
      h: 8,
      w: 8,
      cout: 16,
      k: 4,
      stride: 2,
      pad: 1,
    }),
    convCase({
      id: 'dcgan_g4',
      title: 'DCGAN G convT 4x4 s2 16->3, 16x16->32x32, N8',
      kind: 'conv_transpose2d',
      n: 8,
      cin: 16,
      h: 16,
      w: 16,
      cout: 3,
      k: 4,
      stride: 2,
      pad: 1,
    }),
    convCase({
      id: 'unet_down1',
      title: 'U-Net down1 conv 4x4 s2 3->16, 64x64->32, N1',
      kind: 'conv2d',
      n: 1,
      cin: 3,
      h: 64,
      w: 64,
      cout: 16,
      k: 4,
      stride: 2,
      pad: 1,
    }),
    convCase({
      id: 'unet_up2',
      title: 'U-Net up2 convT 4x4 s2 64->16, 16x16->32, N1',
      kind: 'conv_transpose2d',
      n: 1,
      cin: 64,
      h: 16,
      w: 16,
      cout: 16,
      k: 4,
      stride: 2,
      pad: 1,
    }),
    convCase({
      id: 'unet_up1',
      title: 'U-Net up1 convT 4x4 s2 32->3, 32x32->64, N1',
      kind: 'conv_transpose2d',
      n: 1,
      cin: 32,
      h: 32,
      w: 32,
      cout: 3,
      k: 4,
      stride: 2,
      pad: 1,
    }),
  ],
  norms: [
    normCase({
      id: 'instance_norm',
      title: 'instance norm 32x16x16 (no affine), N1',
      kind: 'instance_norm',
      n: 1,
      c: 32,
      h: 16,
      w: 16,
      affine: false,
    }),
    normCase({ id: 'batch_norm', title: 'batch norm 32x16x16 (affine), N1', kind: 'batch_norm', n: 1, c: 32, h: 16, w: 16, affine: true }),
    normCase({
      id: 'batch_norm_dcgan',
      title: 'batch norm 32x8x8 (affine), N4',
      kind: 'batch_norm',
      n: 4,
      c: 32,
      h: 8,
      w: 8,
      affine: true,
    }),
  ],
  pyramids: [pyramidCase({ id: 'laplacian3', title: 'Laplacian pyramid, 3 levels, 3x64x64', n: 1, c: 3, h: 64, w: 64, levels: 3 })],
  adams: [adamCase('adam_11m', 'Adam over ResNet-9 G at ngf 8 (180k params, 48 tensors)', resnetGeneratorParamSizes(8, 9))],
  dcgan: dcganCase('dcgan_step', 'DCGAN 64x64x3 training step, batch 2, ngf=ndf=8', 2, 100, 8, 8),
};

export function suiteByName(name: string): Suite {
  if (name === 'full') return fullSuite;
  if (name === 'reduced') return reducedSuite;
  throw new Error(`unknown suite '${name}' (full | reduced)`);
}

/** GFLOP/s and GB/s from a time in milliseconds. */
export function rates(flops: number, bytes: number, ms: number): { gflops: number; gbps: number } {
  return { gflops: flops / (ms * 1e6), gbps: bytes / (ms * 1e6) };
}
