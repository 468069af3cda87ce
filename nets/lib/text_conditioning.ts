// What the text-conditioned stacked GANs share (StackGAN, nets/stackgan.ts, and StackGAN++,
// nets/stackganpp.ts, the same authors' two papers and reference repositories):
//
//   ConditioningAugmentation  phi_t -> Linear -> (mu, logvar), c = mu + exp(logvar / 2) * eps,
//                             eps ~ N(0, I); caKl: KL(N(mu, sigma^2) || N(0, I)) averaged over
//                             elements, as the references' KL_loss
//   upBlock, ResBlock         nearest 2x up, conv3, BN, ReLU; relu(x + BN(conv3(ReLU(BN(conv3 x)))))
//   downToFour                stride-2 convs from the image down to 4x4 (BN after the first)
//   ConditionalLogit          D's text-conditioned logit: [features | compress(phi) replicated]
//                             -> conv3, BN, LeakyReLU -> conv4
//   textParams                their shared hyper-parameters (CA size, text encoder, KL weight)
//   textCodes                 sample codes [z | eps ... | caption bag of words], and
//   Forward                   a network adapter, so generateWith can run one path of a generator
//                             (one stage, every branch) with its batch-statistics handling

import { type Generator, type Tensor, tensor, tidy, nn, ops } from '../../engine/index.js';
import { int, num } from './model.js';

const { add, concat, exp, expand, gaussianKl, leakyRelu, mul, mulScalar, narrow, randn, relu, reshape } = ops;

/** The hyper-parameters of the text path and conditioning augmentation, shared by both papers. */
export const textParams = {
  cDim: int(128, 'conditioning-augmentation code size (128 in the paper)', { min: 1, max: 8192 }),
  embedDim: int(128, 'text embedding size', { min: 1, max: 8192 }),
  buckets: int(1024, 'hash buckets of the caption bag of words', { min: 1, max: 8192 }),
  textHidden: int(256, 'hidden units of the text encoder', { min: 1, max: 8192 }),
  nd: int(128, "discriminators' compressed text size N_d", { min: 1, max: 8192 }),
  klWeight: num(2, "weight of the conditioning-augmentation KL term (2: the reference code's TRAIN.COEFF.KL; the papers' text says 1)", {
    min: 0,
  }),
  textSteps: int(1000, 'text-encoder pretraining steps before the GAN starts', { min: 0, max: 1e9 }),
  imageWidth: int(16, 'width of the image encoder used by text pretraining', { min: 1, max: 8192 }),
};

// ---- conditioning augmentation ---------------------------------------------------------------------------

/** c = mu + exp(logvar / 2) * eps (the reparameterisation; differentiable in mu and logvar). */
export function reparameterize(mu: Tensor, logvar: Tensor, eps: Tensor): Tensor {
  return add(mu, mul(exp(mulScalar(logvar, 0.5)), eps));
}

/**
 * phi_t [N, E] -> (mu, logvar) [N, cDim] each by one Linear (followed by LeakyReLU(slope) when a
 * slope is given: StackGAN's TF code applies leaky_rectify 0.2 to the whole (mean, log sigma)
 * output), then c with the given eps [N, cDim].
 */
export class ConditioningAugmentation extends nn.Module {
  fc: nn.Linear;
  constructor(
    readonly embedDim: number,
    readonly cDim: number,
    readonly slope: number | null = null,
  ) {
    super();
    this.fc = new nn.Linear(embedDim, 2 * cDim);
  }
  override forward(phi: Tensor, eps: Tensor): { c: Tensor; mu: Tensor; logvar: Tensor } {
    const h = this.slope === null ? this.fc.call(phi) : leakyRelu(this.fc.call(phi), this.slope);
    const mu = narrow(h, 1, 0, this.cDim);
    const logvar = narrow(h, 1, this.cDim, this.cDim);
    return { c: reparameterize(mu, logvar, eps), mu, logvar };
  }
}

/** The CA regulariser as the reference's KL_loss: KL(N(mu, e^logvar) || N(0, I)) averaged over elements. */
export function caKl(mu: Tensor, logvar: Tensor): Tensor {
  return gaussianKl(mu, logvar, { reduction: 'mean' });
}

// ---- building blocks --------------------------------------------------------------------------------------

/** Nearest 2x upsampling, conv3 (no bias), BN, ReLU. */
export function upBlock(cin: number, cout: number): nn.Sequential {
  return new nn.Sequential(
    new nn.Upsample({ scaleFactor: 2 }),
    new nn.Conv2d(cin, cout, 3, { padding: 1, bias: false }),
    new nn.BatchNorm2d(cout),
    new nn.ReLU(),
  );
}

/** relu(x + BN(conv3(ReLU(BN(conv3(x)))))), the reference's ResBlock. */
export class ResBlock extends nn.Module {
  block: nn.Sequential;
  constructor(ch: number) {
    super();
    this.block = new nn.Sequential(
      new nn.Conv2d(ch, ch, 3, { padding: 1, bias: false }),
      new nn.BatchNorm2d(ch),
      new nn.ReLU(),
      new nn.Conv2d(ch, ch, 3, { padding: 1, bias: false }),
      new nn.BatchNorm2d(ch),
    );
  }
  override forward(x: Tensor): Tensor {
    return relu(add(x, this.block.call(x)));
  }
}

/** A condition vector [N, C] replicated over an h x w grid: [N, C, h, w]. */
export function replicate(c: Tensor, h: number, w: number): Tensor {
  return expand(reshape(c, [c.shape[0], c.shape[1], 1, 1]), [c.shape[0], c.shape[1], h, w]);
}

/** Stride-2 convs from `size` down to 4x4: channels width * 2^i (capped at 8x), BN after the first. */
export function downToFour(nc: number, size: number, width: number): { net: nn.Sequential; channels: number } {
  const layers: nn.Module[] = [];
  let ch = nc;
  for (let i = 0, s = size; s > 4; i++, s /= 2) {
    const out = width << Math.min(i, 3);
    layers.push(new nn.Conv2d(ch, out, 4, { stride: 2, padding: 1, bias: i === 0 }));
    if (i > 0) layers.push(new nn.BatchNorm2d(out));
    layers.push(new nn.LeakyReLU(0.2));
    ch = out;
  }
  return { net: new nn.Sequential(...layers), channels: ch };
}

/** The conditional logit on 4x4 features: [features | compress(phi) replicated] -> conv3, BN, LReLU -> conv4 -> [N]. */
export class ConditionalLogit extends nn.Module {
  compress: nn.Sequential;
  joint: nn.Sequential;
  out: nn.Conv2d;
  constructor(channels: number, embedDim: number, nd: number) {
    super();
    this.compress = new nn.Sequential(new nn.Linear(embedDim, nd), new nn.LeakyReLU(0.2));
    this.joint = new nn.Sequential(
      new nn.Conv2d(channels + nd, channels, 3, { padding: 1, bias: false }),
      new nn.BatchNorm2d(channels),
      new nn.LeakyReLU(0.2),
    );
    this.out = new nn.Conv2d(channels, 1, 4, { stride: 4 });
  }
  override forward(features: Tensor, phi: Tensor): Tensor {
    const [, , h, w] = features.shape;
    const joined = concat([features, replicate(this.compress.call(phi), h, w)], 1);
    return reshape(this.out.call(this.joint.call(joined)), [-1]);
  }
}

// ---- sampling -------------------------------------------------------------------------------------------

/** Codes [n, gaussianDims + buckets]: z and eps drawn from `gen`, then the given caption rows (data/text.ts). */
export function textCodes(n: number, gaussianDims: number, rows: Float32Array, buckets: number, gen: Generator): Tensor {
  return tidy(() => concat([randn([n, gaussianDims], { generator: gen }), tensor(rows, [n, buckets])], 1));
}

/**
 * One path through a generator as a network of its own (Stage-I alone, every branch flattened side
 * by side), so generateWith runs it with the generator's batch-statistics handling: `netG` is a
 * child, so its buffers are the adapter's.
 */
export class Forward extends nn.Module {
  constructor(
    readonly netG: nn.Module,
    private readonly path: (code: Tensor) => Tensor,
  ) {
    super();
  }
  override forward(code: Tensor): Tensor {
    return this.path(code);
  }
}

/** Images [n, c, s, s] flattened side by side into [n, sum c s s] (for Forward). */
export function flattenImages(images: readonly Tensor[]): Tensor {
  return concat(
    images.map((t) => reshape(t, [t.shape[0], -1])),
    1,
  );
}

/** The images flattenImages put side by side, back in their shapes [n, c, s_i, s_i]. */
export function splitImages(flat: Tensor, nc: number, sizes: readonly number[]): Tensor[] {
  const n = flat.shape[0];
  const out: Tensor[] = [];
  let off = 0;
  for (const s of sizes) {
    out.push(reshape(narrow(flat, 1, off, nc * s * s), [n, nc, s, s]));
    off += nc * s * s;
  }
  return out;
}
