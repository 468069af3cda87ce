// The networks shared by the image-to-image papers (pix2pix, CycleGAN and those built on them), as in
// their reference implementation (junyanz/pytorch-CycleGAN-and-pix2pix, models/networks.py):
//
//   norm layers     'batch' | 'instance' | 'none', a factory keyed by name; conv biases exist only
//                   under instance norm (a bias before batch norm is cancelled by its mean)
//   ResnetGenerator c7s1-ngf, d2ngf, d4ngf, n x R4ngf, u2ngf, ungf, c7s1-out, tanh (Johnson et al.)
//   UnetGenerator   the U-Net as nested UnetSkipConnectionBlocks, innermost first; `skip: false`
//                   gives the paper's encoder-decoder ablation (same layers, no skip connections)
//   NLayerDiscriminator  the PatchGAN: C64 (no norm) - C128 - ... (stride 2), one stride-1 layer,
//                   a 1-channel conv; its receptive field is 16 / 70 / 286 px for n_layers 1 / 3 / 5
//   PixelDiscriminator   the 1x1 PixelGAN
//   initWeights_    conv weights N(0, 0.02), biases 0, batch-norm scales N(1, 0.02)
//   defaultInit_    PyTorch's default layer init, drawn from a run's own generator
//
// Every module keeps the reference's attribute names and layer order (`model`, `conv_block`,
// `net`, Sequential indices), so a state_dict saved by the reference loads as it is: e.g. in
// unet_256, `model.model.0.weight` is the outermost down conv [64, 3, 4, 4], `model.model.1.model.1`
// the second level's [128, 64, 4, 4] and `model.model.1.model.3.model.1` the third's.

import { noGrad, type Generator, type Tensor, ops, nn, init } from '../../engine/index.js';

// ---- normalisation and padding --------------------------------------------------------------------

export type NormName = 'batch' | 'instance' | 'none';

export interface NormLayer {
  /** A fresh normalisation layer over `channels` channels. */
  make(channels: number): nn.Module;
  /** Whether the convs feeding it carry a bias (the reference: only under instance norm). */
  useBias: boolean;
}

export const NORM_LAYERS: Record<NormName, NormLayer> = {
  // Learned scale and shift, running statistics for eval mode.
  batch: { make: (c) => new nn.BatchNorm2d(c, { affine: true, trackRunningStats: true }), useBias: false },
  // Per-image statistics always, no parameters (the convs' biases are kept instead).
  instance: { make: (c) => new nn.InstanceNorm2d(c, { affine: false, trackRunningStats: false }), useBias: true },
  // No normalisation. The reference still drops the conv biases here; kept so state_dicts match.
  none: { make: () => new nn.Identity(), useBias: false },
};

export function normLayer(name: string): NormLayer {
  const n = Object.hasOwn(NORM_LAYERS, name) ? NORM_LAYERS[name as NormName] : undefined;
  if (!n) throw new Error(`norm layer '${name}' is not known (known: ${Object.keys(NORM_LAYERS).join(', ')})`);
  return n;
}

export type PaddingType = 'reflect' | 'replicate' | 'zero';

/** Layers put before a 3x3 conv for each padding type, and the conv's own zero padding. */
const PADDINGS: Record<PaddingType, { layers: () => nn.Module[]; convPadding: number }> = {
  reflect: { layers: () => [new nn.ReflectionPad2d(1)], convPadding: 0 },
  replicate: { layers: () => [new nn.ReplicationPad2d(1)], convPadding: 0 },
  zero: { layers: () => [], convPadding: 1 },
};

/**
 * nn.Dropout, with the pix2pix option of staying on in eval mode: the paper's only noise source is
 * dropout "applied at both training and test time". (The reference gets this by never calling
 * eval() at test time; `activeAtTest` gives the same noise while batch norm uses running statistics.)
 */
export class PaperDropout extends nn.Dropout {
  activeAtTest = false;
  /** Off even in training mode (a test-time control: batch statistics without the dropout noise). */
  disabled = false;

  override forward(x: Tensor): Tensor {
    if (this.disabled) return x;
    return ops.dropout(x, this.p, { training: this.training || this.activeAtTest, generator: this.opts.generator });
  }

  override get typeName(): string {
    return 'Dropout';
  }
}

/**
 * Turns test-time dropout on or off in every dropout layer of a network; `disableInTraining` also
 * switches the layers off in training mode (for a generator run on batch statistics without noise).
 */
export function setTestTimeDropout(net: nn.Module, on: boolean, opts: { disableInTraining?: boolean } = {}): void {
  for (const m of net.modules()) {
    if (m instanceof PaperDropout) {
      m.activeAtTest = on;
      m.disabled = !on && !!opts.disableInTraining;
    }
  }
}

/** How many dropout layers a network has. */
export function dropoutLayers(net: nn.Module): number {
  let n = 0;
  for (const m of net.modules()) if (m instanceof PaperDropout) n++;
  return n;
}

// ---- generators -----------------------------------------------------------------------------------

export interface GeneratorOptions {
  inputNc: number;
  outputNc: number;
  ngf: number;
  norm: NormName;
  useDropout: boolean;
  /** Stream of the dropout masks (default: the engine's default generator). */
  rng?: Generator;
}

/** x + F(x) with F = pad, conv3x3, norm, ReLU, [dropout], pad, conv3x3, norm. */
export class ResnetBlock extends nn.Module {
  conv_block: nn.Sequential;

  constructor(dim: number, opts: { paddingType: PaddingType; norm: NormLayer; useDropout: boolean; useBias: boolean; rng?: Generator }) {
    super();
    const { norm, useBias } = opts;
    const pad = PADDINGS[opts.paddingType];
    const conv = () => new nn.Conv2d(dim, dim, 3, { padding: pad.convPadding, bias: useBias });
    this.conv_block = new nn.Sequential(
      ...pad.layers(),
      conv(),
      norm.make(dim),
      new nn.ReLU(),
      ...(opts.useDropout ? [new PaperDropout(0.5, { generator: opts.rng })] : []),
      ...pad.layers(),
      conv(),
      norm.make(dim),
    );
  }

  override forward(x: Tensor): Tensor {
    // x + conv_block(x), the add fused into the last norm's kernel where it allows.
    return this.conv_block.callResidual(x);
  }
}

/** CycleGAN's generator: two stride-2 downsamplings, n residual blocks, two stride-2 upsamplings. */
export class ResnetGenerator extends nn.Module {
  model: nn.Sequential;

  constructor(opts: GeneratorOptions & { nBlocks: number; paddingType?: PaddingType }) {
    super();
    const { inputNc, outputNc, ngf, nBlocks } = opts;
    const norm = normLayer(opts.norm);
    const bias = norm.useBias;
    const layers: nn.Module[] = [new nn.ReflectionPad2d(3), new nn.Conv2d(inputNc, ngf, 7, { bias }), norm.make(ngf), new nn.ReLU()];
    for (const m of [1, 2]) {
      layers.push(new nn.Conv2d(ngf * m, ngf * m * 2, 3, { stride: 2, padding: 1, bias }), norm.make(ngf * m * 2), new nn.ReLU());
    }
    for (let i = 0; i < nBlocks; i++) {
      layers.push(
        new ResnetBlock(ngf * 4, {
          paddingType: opts.paddingType ?? 'reflect',
          norm,
          useDropout: opts.useDropout,
          useBias: bias,
          rng: opts.rng,
        }),
      );
    }
    for (const m of [4, 2]) {
      layers.push(
        new nn.ConvTranspose2d(ngf * m, (ngf * m) / 2, 3, { stride: 2, padding: 1, outputPadding: 1, bias }),
        norm.make((ngf * m) / 2),
        new nn.ReLU(),
      );
    }
    layers.push(new nn.ReflectionPad2d(3), new nn.Conv2d(ngf, outputNc, 7), new nn.Tanh());
    this.model = new nn.Sequential(...layers);
  }

  override forward(x: Tensor): Tensor {
    return this.model.call(x);
  }
}

export interface UnetBlockOptions {
  /** Channels of the input when they differ from outerNc (the outermost block: the image). */
  inputNc?: number;
  submodule?: nn.Module;
  outermost?: boolean;
  innermost?: boolean;
  norm: NormLayer;
  useDropout?: boolean;
  /** false: no skip connection (the encoder-decoder ablation). */
  skip?: boolean;
  rng?: Generator;
}

/**
 * One U-Net level: downsample, the inner levels (submodule), upsample; its output is concatenated
 * to its input (the skip connection) except at the outermost level.
 *
 *   x ---------------------- identity --------------------- x
 *   |-- LeakyReLU, conv4/2, norm -- submodule -- ReLU, convT4/2, norm, [dropout] --|
 */
export class UnetSkipConnectionBlock extends nn.Module {
  model: nn.Sequential;
  readonly outermost: boolean;
  readonly skip: boolean;

  constructor(outerNc: number, innerNc: number, opts: UnetBlockOptions) {
    super();
    const { norm, submodule, outermost = false, innermost = false } = opts;
    this.outermost = outermost;
    this.skip = opts.skip ?? true;
    const bias = norm.useBias;
    const downconv = new nn.Conv2d(opts.inputNc ?? outerNc, innerNc, 4, { stride: 2, padding: 1, bias });
    // The submodule returns [x, inner(x)] (2 innerNc channels) unless it is the innermost level or skips are off.
    const upIn = innermost || !this.skip ? innerNc : innerNc * 2;
    const upconv = (withBias: boolean) => new nn.ConvTranspose2d(upIn, outerNc, 4, { stride: 2, padding: 1, bias: withBias });
    if (!innermost && !submodule) throw new Error('UnetSkipConnectionBlock: only the innermost block has no submodule');
    let layers: nn.Module[];
    if (outermost) {
      layers = [downconv, submodule!, new nn.ReLU(), upconv(true), new nn.Tanh()];
    } else if (innermost) {
      layers = [new nn.LeakyReLU(0.2), downconv, new nn.ReLU(), upconv(bias), norm.make(outerNc)];
    } else {
      layers = [new nn.LeakyReLU(0.2), downconv, norm.make(innerNc), submodule!, new nn.ReLU(), upconv(bias), norm.make(outerNc)];
      if (opts.useDropout) layers.push(new PaperDropout(0.5, { generator: opts.rng }));
    }
    this.model = new nn.Sequential(...layers);
  }

  override forward(x: Tensor): Tensor {
    if (this.outermost || !this.skip) return this.model.call(x);
    return ops.concat([x, this.model.call(x)], 1);
  }
}

/**
 * pix2pix's generator: numDowns stride-2 levels (unet_128: 7, unet_256: 8, so the bottleneck is
 * 1x1), built from the innermost level out. Widths ngf, 2ngf, 4ngf, then 8ngf for every deeper
 * level; the numDowns - 5 middle 8ngf levels carry dropout 0.5 when useDropout.
 *
 * `dropoutLevels` (default numDowns - 5, the reference's rule) puts the dropout instead on that
 * many levels counted from the one just outside the innermost, whatever their width. The reference
 * rule leaves a 5-level U-Net (unet_32) with no dropout at all; unet_32_dropout uses 3 levels, so
 * its decoder drops out at the same resolutions as unet_256's (its 2x2 -> 4x4, 4x4 -> 8x8 and
 * 8x8 -> 16x16 up-convolutions; the innermost 1x1 -> 2x2 one has none in the reference either).
 */
export class UnetGenerator extends nn.Module {
  model: UnetSkipConnectionBlock;

  constructor(opts: GeneratorOptions & { numDowns: number; skip?: boolean; dropoutLevels?: number }) {
    super();
    const { inputNc, outputNc, ngf, numDowns, skip, rng } = opts;
    if (!Number.isInteger(numDowns) || numDowns < 5) throw new Error(`UnetGenerator: numDowns must be an integer >= 5, got ${numDowns}`);
    const dropoutLevels = opts.dropoutLevels ?? numDowns - 5;
    if (!Number.isInteger(dropoutLevels) || dropoutLevels < 0 || dropoutLevels > numDowns - 2) {
      throw new Error(
        `UnetGenerator: dropoutLevels must be an integer in [0, ${numDowns - 2}] for ${numDowns} levels (the innermost and outermost have none), got ${dropoutLevels}`,
      );
    }
    const norm = normLayer(opts.norm);
    let level = 0; // levels built so far outside the innermost
    const drop = () => opts.useDropout && level++ < dropoutLevels;
    let block = new UnetSkipConnectionBlock(ngf * 8, ngf * 8, { innermost: true, norm, skip });
    for (let i = 0; i < numDowns - 5; i++) {
      block = new UnetSkipConnectionBlock(ngf * 8, ngf * 8, { submodule: block, norm, useDropout: drop(), skip, rng });
    }
    block = new UnetSkipConnectionBlock(ngf * 4, ngf * 8, { submodule: block, norm, useDropout: drop(), skip, rng });
    block = new UnetSkipConnectionBlock(ngf * 2, ngf * 4, { submodule: block, norm, useDropout: drop(), skip, rng });
    block = new UnetSkipConnectionBlock(ngf, ngf * 2, { submodule: block, norm, useDropout: drop(), skip, rng });
    this.model = new UnetSkipConnectionBlock(outputNc, ngf, { inputNc, submodule: block, outermost: true, norm, skip });
  }

  override forward(x: Tensor): Tensor {
    return this.model.call(x);
  }
}

/** Generators by the reference's --netG names, plus smaller U-Nets and the encoder-decoder ablation. */
export const GENERATORS: Record<string, { help: string; make: (o: GeneratorOptions) => nn.Module }> = {
  resnet_9blocks: { help: 'ResNet, 9 residual blocks (CycleGAN at 256 px)', make: (o) => new ResnetGenerator({ ...o, nBlocks: 9 }) },
  resnet_6blocks: { help: 'ResNet, 6 residual blocks (CycleGAN at 128 px)', make: (o) => new ResnetGenerator({ ...o, nBlocks: 6 }) },
  resnet_3blocks: {
    help: 'ResNet, 3 residual blocks (not in the reference; quick runs)',
    make: (o) => new ResnetGenerator({ ...o, nBlocks: 3 }),
  },
  unet_256: { help: 'U-Net, 8 downsamplings (pix2pix at 256 px)', make: (o) => new UnetGenerator({ ...o, numDowns: 8 }) },
  unet_128: { help: 'U-Net, 7 downsamplings (128 px)', make: (o) => new UnetGenerator({ ...o, numDowns: 7 }) },
  unet_64: { help: 'U-Net, 6 downsamplings (64 px)', make: (o) => new UnetGenerator({ ...o, numDowns: 6 }) },
  unet_32: {
    help: 'U-Net, 5 downsamplings (32 px); no dropout layer (the reference puts it only on 8ngf middle levels)',
    make: (o) => new UnetGenerator({ ...o, numDowns: 5 }),
  },
  unet_32_dropout: {
    help: "U-Net, 5 downsamplings (32 px), dropout 0.5 in the 3 decoder levels after the innermost (unet_256's dropout resolutions; quick runs)",
    make: (o) => new UnetGenerator({ ...o, numDowns: 5, dropoutLevels: 3 }),
  },
  encdec_256: {
    help: "encoder-decoder: unet_256 without skips (the paper's ablation)",
    make: (o) => new UnetGenerator({ ...o, numDowns: 8, skip: false }),
  },
  encdec_128: { help: 'encoder-decoder: unet_128 without skips', make: (o) => new UnetGenerator({ ...o, numDowns: 7, skip: false }) },
  encdec_64: { help: 'encoder-decoder: unet_64 without skips', make: (o) => new UnetGenerator({ ...o, numDowns: 6, skip: false }) },
  encdec_32: { help: 'encoder-decoder: unet_32 without skips', make: (o) => new UnetGenerator({ ...o, numDowns: 5, skip: false }) },
};

/** Smallest image side a U-Net / encoder-decoder generator accepts (1x1 at the bottleneck), else 4 (ResNet). */
export function generatorMinSize(name: string): number {
  const m = /^(?:unet|encdec)_(\d+)(?:_dropout)?$/.exec(name);
  return m ? Number(m[1]) : 4;
}

// ---- discriminators -------------------------------------------------------------------------------

export interface DiscriminatorOptions {
  inputNc: number;
  ndf: number;
  norm: NormName;
}

/**
 * The PatchGAN: conv4/2 + LeakyReLU(0.2) (no norm), n_layers - 1 more conv4/2 + norm + LeakyReLU
 * doubling the width (capped at 8 ndf), one conv4/1 + norm + LeakyReLU, then a conv4/1 to one
 * channel: a map of logits, one per overlapping patch.
 */
export class NLayerDiscriminator extends nn.Module {
  model: nn.Sequential;

  constructor(opts: DiscriminatorOptions & { nLayers: number }) {
    super();
    const { inputNc, ndf, nLayers } = opts;
    if (!Number.isInteger(nLayers) || nLayers < 0)
      throw new Error(`NLayerDiscriminator: nLayers must be a non-negative integer, got ${nLayers}`);
    const norm = normLayer(opts.norm);
    const bias = norm.useBias;
    const c4 = (cin: number, cout: number, stride: number, withBias: boolean) =>
      new nn.Conv2d(cin, cout, 4, { stride, padding: 1, bias: withBias });
    const layers: nn.Module[] = [c4(inputNc, ndf, 2, true), new nn.LeakyReLU(0.2)];
    let mult = 1;
    for (let n = 1; n < nLayers; n++) {
      const prev = mult;
      mult = Math.min(2 ** n, 8);
      layers.push(c4(ndf * prev, ndf * mult, 2, bias), norm.make(ndf * mult), new nn.LeakyReLU(0.2));
    }
    const prev = mult;
    mult = Math.min(2 ** nLayers, 8);
    layers.push(c4(ndf * prev, ndf * mult, 1, bias), norm.make(ndf * mult), new nn.LeakyReLU(0.2));
    layers.push(c4(ndf * mult, 1, 1, true));
    this.model = new nn.Sequential(...layers);
  }

  override forward(x: Tensor): Tensor {
    return this.model.call(x);
  }
}

/** The 1x1 PixelGAN: per-pixel conv1x1 ndf, conv1x1 2ndf + norm, conv1x1 to one logit per pixel. */
export class PixelDiscriminator extends nn.Module {
  net: nn.Sequential;

  constructor(opts: DiscriminatorOptions) {
    super();
    const { inputNc, ndf } = opts;
    const norm = normLayer(opts.norm);
    const bias = norm.useBias;
    this.net = new nn.Sequential(
      new nn.Conv2d(inputNc, ndf, 1),
      new nn.LeakyReLU(0.2),
      new nn.Conv2d(ndf, ndf * 2, 1, { bias }),
      norm.make(ndf * 2),
      new nn.LeakyReLU(0.2),
      new nn.Conv2d(ndf * 2, 1, 1, { bias }),
    );
  }

  override forward(x: Tensor): Tensor {
    return this.net.call(x);
  }
}

/** Receptive field of NLayerDiscriminator's outputs: 16, 34, 70, 142, 286 px for n_layers 1..5. */
export function patchReceptiveField(nLayers: number): number {
  // Walk back from one output: the final conv4/1 and the conv4/1 before it, then nLayers conv4/2.
  let rf = 1;
  for (let i = 0; i < 2; i++) rf += 3;
  for (let i = 0; i < nLayers; i++) rf = (rf - 1) * 2 + 4;
  return rf;
}

/** Side of NLayerDiscriminator's logit map for a size x size input (< 1: the input is too small). */
export function patchOutputSize(size: number, nLayers: number): number {
  let s = size;
  for (let i = 0; i < nLayers; i++) s = Math.floor(s / 2); // conv4/2 pad 1
  return s - 2; // two conv4/1 pad 1
}

/** Stride-2 layers of a DISCRIMINATORS entry (0 for the 1x1 PixelGAN). */
export function discriminatorLayers(name: string, nLayers = 3): number {
  return { basic: 3, n_layers: nLayers, pixel: 0, patch1: 0, patch16: 1, patch70: 3, patch286: 5 }[name] ?? 0;
}

/**
 * Discriminators by the reference's --netD names ('basic' is n_layers 3, 'n_layers' takes
 * nLayers) and by the paper's patch sizes (Table 3 / Figure 6 of the pix2pix paper).
 */
export const DISCRIMINATORS: Record<string, { help: string; make: (o: DiscriminatorOptions & { nLayers?: number }) => nn.Module }> = {
  basic: { help: '70x70 PatchGAN (n_layers 3)', make: (o) => new NLayerDiscriminator({ ...o, nLayers: 3 }) },
  n_layers: { help: 'PatchGAN with --n-layers-d stride-2 layers', make: (o) => new NLayerDiscriminator({ ...o, nLayers: o.nLayers ?? 3 }) },
  pixel: { help: '1x1 PixelGAN', make: (o) => new PixelDiscriminator(o) },
  patch1: { help: '1x1 PixelGAN (same as pixel)', make: (o) => new PixelDiscriminator(o) },
  patch16: { help: '16x16 PatchGAN (n_layers 1)', make: (o) => new NLayerDiscriminator({ ...o, nLayers: 1 }) },
  patch70: { help: '70x70 PatchGAN (n_layers 3)', make: (o) => new NLayerDiscriminator({ ...o, nLayers: 3 }) },
  patch286: { help: '286x286 ImageGAN at 256 px (n_layers 5)', make: (o) => new NLayerDiscriminator({ ...o, nLayers: 5 }) },
};

export function lookup<T>(table: Record<string, T>, what: string, name: string): T {
  const v = Object.hasOwn(table, name) ? table[name] : undefined;
  if (!v) throw new Error(`${what} '${name}' is not known (known: ${Object.keys(table).join(', ')})`);
  return v;
}

// ---- initialisation -------------------------------------------------------------------------------

export type InitType = 'normal' | 'xavier' | 'kaiming';

const WEIGHT_INITS: Record<InitType, (w: Tensor, gain: number, gen?: Generator) => void> = {
  normal: (w, gain, gen) => void init.normal_(w, 0, gain, gen),
  xavier: (w, gain, gen) => void init.xavierNormal_(w, gain, gen),
  kaiming: (w, _gain, gen) => void init.kaimingNormal_(w, { a: 0, mode: 'fan_in', generator: gen }),
};

/**
 * The reference's init_weights: conv and conv-transpose weights by `type` ('normal': N(0, gain)),
 * their biases 0; batch-norm scales N(1, gain), shifts 0. Instance norm here has no parameters.
 */
export function initWeights_(net: nn.Module, opts: { type?: InitType; gain?: number; generator?: Generator } = {}): void {
  const { type = 'normal', gain = 0.02, generator } = opts;
  const initWeight = lookup(WEIGHT_INITS, 'init type', type);
  noGrad(() => {
    for (const m of net.modules()) {
      if (m instanceof nn.Conv2d || m instanceof nn.ConvTranspose2d) {
        initWeight(m.weight, gain, generator);
        if (m.bias) init.zeros_(m.bias);
      } else if (m instanceof nn.BatchNorm2d && m.weight && m.bias) {
        init.normal_(m.weight, 1, gain, generator);
        init.zeros_(m.bias);
      }
    }
  });
}

/** define_G: builds the named generator and initialises it. */
export function defineG(name: string, opts: GeneratorOptions & { init?: InitType; initGain?: number }): nn.Module {
  const net = lookup(GENERATORS, 'generator', name).make(opts);
  initWeights_(net, { type: opts.init, gain: opts.initGain, generator: opts.rng });
  return net;
}

/** define_D: builds the named discriminator and initialises it. */
export function defineD(
  name: string,
  opts: DiscriminatorOptions & { nLayers?: number; init?: InitType; initGain?: number; rng?: Generator },
): nn.Module {
  const net = lookup(DISCRIMINATORS, 'discriminator', name).make(opts);
  initWeights_(net, { type: opts.init, gain: opts.initGain, generator: opts.rng });
  return net;
}

/**
 * PyTorch's default init of every Conv2d / ConvTranspose2d / Linear in `net` (weight
 * kaiming_uniform with a = sqrt(5), bias U(+-1/sqrt(fan_in))), drawn from `generator` so a run's
 * seed decides it (the layers' constructors draw from the engine's default stream).
 */
export function defaultInit_(net: nn.Module, generator: Generator): void {
  noGrad(() => {
    for (const m of net.modules()) {
      if (!(m instanceof nn.Conv2d || m instanceof nn.ConvTranspose2d || m instanceof nn.Linear)) continue;
      init.kaimingUniform_(m.weight, { a: Math.sqrt(5), generator });
      if (m.bias) {
        const { fanIn } = init.calculateFanInAndFanOut(m.weight.shape);
        const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
        init.uniform_(m.bias, -bound, bound, generator);
      }
    }
  });
}
