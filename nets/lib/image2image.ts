// What the two-domain image-to-image papers share beyond their networks (nets/lib/networks.ts):
//
//   the batch layout     one tensor per batch, A's channels then B's ([N, inputNc + outputNc, H, W],
//                        data/pairs.ts packs it; splitDomains takes it apart), and the trainers'
//                        common plumbing (TwoDomainTrainer: split, sample inputs, dispose)
//   the common flags     the domains' channels (not flags: the emoji sets give 3 + 3), the
//                        flags of junyanz's networks (networkParams) checked against the image size
//                        (checkNetworks), and junyanz's linear learning-rate decay (lrSchedule,
//                        decaySchedulers, scheduleFromSteps: pix2pix, CycleGAN)
//   the held-out pairs   the dataset's aligned test pairs at the model's size (heldOutTranslationPairs),
//                        for the TranslationEval hooks of nets/lib/translation.ts
//
// Browser-safe: nets/ is bundled into the demos.

import { type Generator, type Tensor, type nn, optim } from '../../engine/index.js';
import { bool, choice, int } from './model.js';
import {
  DISCRIMINATORS,
  GENERATORS,
  defineD,
  defineG,
  discriminatorLayers,
  generatorMinSize,
  patchOutputSize,
  type NormName,
} from './networks.js';
import { SampleInputs } from './sample.js';
import { heldOutEmojiPairs, splitHeldOut, type HeldOutPairs } from './translation.js';

// ---- the batch layout -----------------------------------------------------------------------------

/** The channels of each domain: config keys set by the data (3 + 3 for the emoji sets), not flags. */
export const domainChannels = {
  inputNc: int(3, 'channels of domain A (the first channels of a packed row)', { fromData: true }),
  outputNc: int(3, 'channels of domain B (the remaining channels of a packed row)', { fromData: true }),
};

/** Splits a packed batch [N, ncA + ncB, H, W] into its A and its B images. */
export function splitDomains(batch: Tensor, ncA: number, ncB: number): { realA: Tensor; realB: Tensor } {
  return { realA: batch.narrow(1, 0, ncA), realB: batch.narrow(1, ncA, ncB) };
}

/**
 * What every two-domain trainer does the same way, so that a paper's trainer holds its networks
 * and its step: the packed batch's split, the fixed sample inputs its grids translate (what a
 * latent batch is to DCGAN; SampleInputs: the first training batches' inputs unless set), and
 * releasing its networks, optimisers and inputs. A subclass builds `nets` and `optimizers`.
 */
export abstract class TwoDomainTrainer {
  abstract readonly nets: Record<string, nn.Module>;
  abstract readonly optimizers: Record<string, optim.Optimizer>;
  readonly samples: SampleInputs;

  /** `inputChannels`: channels of the generator's input (A's, unless the model translates B -> A). */
  constructor(
    private readonly domains: { inputNc: number; outputNc: number; imageSize: number },
    inputChannels = domains.inputNc,
  ) {
    this.samples = new SampleInputs([inputChannels, domains.imageSize, domains.imageSize]);
  }

  /** Splits a packed batch [N, ncA + ncB, H, W] into its A and B images. */
  split(batch: Tensor): { realA: Tensor; realB: Tensor } {
    return splitDomains(batch, this.domains.inputNc, this.domains.outputNc);
  }

  /** The fixed sample inputs (see SampleInputs): the first training batch's A images unless set. */
  noise(n: number, _generator?: Generator): Tensor {
    return this.samples.take(n);
  }

  dispose(): void {
    for (const o of Object.values(this.optimizers)) o.dispose();
    for (const n of Object.values(this.nets)) n.dispose();
    this.samples.dispose();
  }
}

/** What a packed two-domain model consumes: both domains' channels in one row, at imageSize. */
export function packedShape(c: { inputNc: number; outputNc: number; imageSize: number }): { channels: number; size: number } {
  return { channels: c.inputNc + c.outputNc, size: c.imageSize };
}

// ---- the networks' flags ----------------------------------------------------------------------------

/**
 * The flags of junyanz's define_G / define_D (networks.py), in the order the recipes list them,
 * with each paper's defaults and help: [default, help] pairs, and the help of the widths.
 */
export function networkParams(o: {
  netG: [string, string];
  netD: [string, string];
  ngf: string;
  ndf: string;
  norm: [NormName, string];
  dropout: [boolean, string];
  /** What D is called in the help ('D', 'the critic'). */
  d?: string;
}) {
  return {
    imageSize: int(64, 'image side (the emoji are 64 px; the paper uses 256)', { min: 4, max: 1024 }),
    netG: choice(Object.keys(GENERATORS), o.netG[0], o.netG[1]),
    netD: choice(Object.keys(DISCRIMINATORS), o.netD[0], o.netD[1]),
    nLayersD: int(3, `stride-2 layers of ${o.d ?? 'D'} when --net-d n_layers`),
    ngf: int(64, o.ngf, { min: 1, max: 1024 }),
    ndf: int(64, o.ndf, { min: 1, max: 1024 }),
    norm: choice(['batch', 'instance', 'none'] as const, o.norm[0], o.norm[1]),
    dropout: bool(o.dropout[0], o.dropout[1]),
  };
}

/** The flags twoWayNetworks reads (networkParams' and the domains' channels). */
export interface TwoWayNetworkConfig {
  inputNc: number;
  outputNc: number;
  netG: string;
  netD: string;
  nLayersD: number;
  ngf: number;
  ndf: number;
  norm: NormName;
  dropout: boolean;
}

/**
 * CycleGAN's four networks (cycle_gan_model.py), which DualGAN builds alike: G_A: A -> B and
 * G_B: B -> A (define_G), D_A judging domain B and D_B domain A (define_D), initialised from `rng`
 * in that order.
 */
export function twoWayNetworks(
  c: TwoWayNetworkConfig,
  rng: Generator,
): { netG_A: nn.Module; netG_B: nn.Module; netD_A: nn.Module; netD_B: nn.Module } {
  const g = { ngf: c.ngf, norm: c.norm, useDropout: c.dropout, rng };
  const d = { ndf: c.ndf, norm: c.norm, nLayers: c.nLayersD, rng };
  return {
    netG_A: defineG(c.netG, { ...g, inputNc: c.inputNc, outputNc: c.outputNc }),
    netG_B: defineG(c.netG, { ...g, inputNc: c.outputNc, outputNc: c.inputNc }),
    netD_A: defineD(c.netD, { ...d, inputNc: c.outputNc }),
    netD_B: defineD(c.netD, { ...d, inputNc: c.inputNc }),
  };
}

/**
 * Problems of a GENERATORS / DISCRIMINATORS choice at this image size (the names themselves are
 * checked by their declarations): a U-Net needs a side divisible by its bottleneck's reduction, a
 * PatchGAN at least one patch.
 */
export function checkNetworks(c: { imageSize: number; netG: string; netD: string; nLayersD: number }): string[] {
  const errs: string[] = [];
  const size = c.imageSize;
  const min = generatorMinSize(c.netG);
  if (size % min !== 0)
    errs.push(`--net-g ${c.netG} needs an image size divisible by ${min} (got ${size}); pick the unet_/encdec_ matching --image-size`);
  const n = discriminatorLayers(c.netD, c.nLayersD);
  if (n > 0 && patchOutputSize(size, n) < 1)
    errs.push(
      `--net-d ${c.netD} (${n} stride-2 layers) needs images of at least ${2 ** n * 3} px (got ${size}); use fewer layers, e.g. --net-d patch16`,
    );
  return errs;
}

// ---- junyanz's learning-rate schedule -----------------------------------------------------------------

/** The flags of the linear decay (the reference's n_epochs / n_epochs_decay, here in steps). */
export const lrSchedule = {
  lrHold: int(0, 'steps at the base learning rate (0: half the run)', { min: 0 }),
  lrDecay: int(0, 'steps of linear decay to zero after that (0: the rest of the run)', { min: 0 }),
};

/**
 * One LinearDecay per optimiser: the base rate for lrHold steps (0: half of `steps`), then linear
 * decay to zero over lrDecay steps (0: the rest of the run).
 */
export function decaySchedulers(
  optimizers: Record<string, optim.Optimizer>,
  c: { lrHold: number; lrDecay: number },
  steps: number,
): optim.LinearDecay[] {
  const hold = c.lrHold || Math.ceil(steps / 2);
  const decay = c.lrDecay || Math.max(steps - hold, 0);
  return Object.values(optimizers).map((o) => new optim.LinearDecay(o, { nEpochs: hold, nEpochsDecay: decay }));
}

/** Whether the decay is laid out over the run's --steps (either length left at 0): the scheduleFollowsSteps hook. */
export function decayFollowsSteps(c: { lrHold: number; lrDecay: number }): boolean {
  return !c.lrHold || !c.lrDecay;
}

/**
 * Sets each optimiser's rate for the coming step from the steps it has taken (so a resumed run
 * continues the schedule where it stopped).
 */
export function scheduleFromSteps(schedulers: readonly optim.LinearDecay[]): void {
  for (const s of schedulers) s.loadStateDict({ epoch: s.optimizer.stepCount(0) });
}

// ---- held-out pairs -------------------------------------------------------------------------------------

/**
 * The aligned test pairs of `dataset` at the model's size (for emoji-unpaired, the same emoji in
 * both styles, never shown together in training), A as input and B as target (`swap`: B -> A).
 * Throws, naming both, when the dataset's domains do not have the model's channels.
 */
export async function heldOutTranslationPairs(
  model: string,
  c: { imageSize: number; inputNc: number; outputNc: number },
  opts: { dataset: string; limit?: number; swap?: boolean },
): Promise<HeldOutPairs> {
  const p = await heldOutEmojiPairs({ dataset: opts.dataset, size: c.imageSize, limit: opts.limit });
  if (p.channelsA !== c.inputNc || p.channelsB !== c.outputNc) {
    throw new Error(
      `${model}: held-out pairs of '${opts.dataset}' have ${p.channelsA} + ${p.channelsB} channels, the model ${c.inputNc} + ${c.outputNc}`,
    );
  }
  return splitHeldOut(p, opts.swap ?? false);
}
