// DCGAN-shaped convolutional autoencoders: the model of nets/autoencoder.ts and the energy
// functions (discriminators) of EBGAN (nets/ebgan.ts); BEGAN has its own architecture from its paper.
//
//   ConvEncoder      x [N, nc, s, s] -> conv 4/2/1, LeakyReLU(0.2) -> (conv 4/2/1, norm, LeakyReLU(0.2)) x k
//                    -> conv 4/1/0 -> code [N, code]           (DCGAN's D with a code instead of a logit)
//   ConvDecoder      code -> convT 4/1/0 (4x4), norm, ReLU -> (convT 4/2/1, norm, ReLU) x k -> convT 4/2/1
//                    -> tanh, or linear with out: 'linear'     (DCGAN's G fed with the code)
//   ConvAutoencoder  encoder + decoder; reconstruct(x) gives the reconstruction and the code
//   UnetAutoencoder  the same stride-2 levels with the encoder's feature maps concatenated into the
//                    decoder at each resolution (a small U-Net, Ronneberger et al. 2015); its code is
//                    the bottleneck map. With skips it reconstructs easily, which is what EBGAN's
//                    --d-arch unet option is for: a discriminator whose energy is low almost
//                    everywhere unless the margin term pushes fakes up.
//
// The widths double per stride-2 level away from the image (nf, 2nf, 4nf, ...) down to a 4x4 map,
// so a 32x32 input has k = 2 middle levels, as DCGAN's networks (their depth rule, dcganDepth, is
// DCGAN's). `norm: 'none'` drops the batch norms and gives the convolutions biases instead.

import { type Tensor, ops, nn } from '../../engine/index.js';
import { dcganDepth } from '../dcgan.js';

export type AeNorm = 'batch' | 'none';

export interface ConvAutoencoderConfig {
  /** Image side, a power of two from 8 to 256. */
  imageSize: number;
  nc: number;
  /** Width: channels of the first encoder layer (and of the last decoder layer). */
  nf: number;
  /** Length of the code vector. */
  code: number;
  norm: AeNorm;
  /** The decoder's last activation: tanh (images in [-1, 1], the default) or none (linear). */
  out?: 'tanh' | 'linear';
}

/** A module that reconstructs its input and exposes the code it went through (an EBGAN energy function). */
export interface EnergyAutoencoder extends nn.Module {
  reconstruct(x: Tensor): { recon: Tensor; code: Tensor };
}

const normLayer = (norm: AeNorm, ch: number): nn.Module => (norm === 'batch' ? new nn.BatchNorm2d(ch) : new nn.Identity());

/** DCGAN-shaped encoder: image -> code vector [N, code]. */
export class ConvEncoder extends nn.Module {
  main: nn.Sequential;

  constructor(readonly cfg: ConvAutoencoderConfig) {
    super();
    const { nc, nf, code, norm } = cfg;
    const k = dcganDepth(cfg.imageSize);
    const bias = norm === 'none';
    let ch = nf;
    const layers: nn.Module[] = [new nn.Conv2d(nc, ch, 4, { stride: 2, padding: 1, bias }), new nn.LeakyReLU(0.2)];
    for (let i = 1; i < k; i++) {
      layers.push(new nn.Conv2d(ch, ch * 2, 4, { stride: 2, padding: 1, bias }), normLayer(norm, ch * 2), new nn.LeakyReLU(0.2));
      ch *= 2;
    }
    // 4x4 -> 1x1: the code (linear, no activation)
    layers.push(new nn.Conv2d(ch, code, 4, { stride: 1, padding: 0 }));
    this.main = new nn.Sequential(...layers);
  }

  override forward(x: Tensor): Tensor {
    return this.main.call(x).reshape([x.shape[0], this.cfg.code]);
  }
}

/** DCGAN-shaped decoder: code vector [N, code] -> image in [-1, 1]. */
export class ConvDecoder extends nn.Module {
  main: nn.Sequential;

  constructor(readonly cfg: ConvAutoencoderConfig) {
    super();
    const { nc, nf, code, norm } = cfg;
    const k = dcganDepth(cfg.imageSize);
    const bias = norm === 'none';
    let ch = nf * 2 ** (k - 1);
    const layers: nn.Module[] = [new nn.ConvTranspose2d(code, ch, 4, { stride: 1, padding: 0, bias }), normLayer(norm, ch), new nn.ReLU()];
    for (let i = 1; i < k; i++) {
      layers.push(new nn.ConvTranspose2d(ch, ch / 2, 4, { stride: 2, padding: 1, bias }), normLayer(norm, ch / 2), new nn.ReLU());
      ch /= 2;
    }
    layers.push(new nn.ConvTranspose2d(ch, nc, 4, { stride: 2, padding: 1 }), ...(cfg.out === 'linear' ? [] : [new nn.Tanh()]));
    this.main = new nn.Sequential(...layers);
  }

  override forward(code: Tensor): Tensor {
    return this.main.call(code.reshape([code.shape[0], this.cfg.code, 1, 1]));
  }
}

export class ConvAutoencoder extends nn.Module implements EnergyAutoencoder {
  encoder: ConvEncoder;
  decoder: ConvDecoder;

  constructor(readonly cfg: ConvAutoencoderConfig) {
    super();
    this.encoder = new ConvEncoder(cfg);
    this.decoder = new ConvDecoder(cfg);
  }

  reconstruct(x: Tensor): { recon: Tensor; code: Tensor } {
    const code = this.encoder.call(x);
    return { recon: this.decoder.call(code), code };
  }

  /** The reconstruction. */
  override forward(x: Tensor): Tensor {
    return this.reconstruct(x).recon;
  }
}

/**
 * A small U-Net autoencoder: down_i = conv 4/2/1 (+ norm after the first) + LeakyReLU(0.2) down to
 * 4x4; up_i = convT 4/2/1 + norm + ReLU on [previous, down_i's output] (the skip), the last one to
 * nc channels + tanh. The code is the 4x4 bottleneck, flattened.
 */
export class UnetAutoencoder extends nn.Module implements EnergyAutoencoder {
  down: nn.ModuleList;
  up: nn.ModuleList;

  constructor(readonly cfg: Omit<ConvAutoencoderConfig, 'code'>) {
    super();
    const { nc, nf, norm } = cfg;
    const k = dcganDepth(cfg.imageSize);
    const bias = norm === 'none';
    const widths = Array.from({ length: k }, (_, i) => nf * 2 ** i); // output channels of down_i
    this.down = new nn.ModuleList(
      widths.map((ch, i) =>
        i === 0
          ? new nn.Sequential(new nn.Conv2d(nc, ch, 4, { stride: 2, padding: 1, bias }), new nn.LeakyReLU(0.2))
          : new nn.Sequential(
              new nn.Conv2d(widths[i - 1], ch, 4, { stride: 2, padding: 1, bias }),
              normLayer(norm, ch),
              new nn.LeakyReLU(0.2),
            ),
      ),
    );
    // up_i undoes down_i; its input is up_{i+1}'s output concatenated with down_i's (none for the bottleneck).
    this.up = new nn.ModuleList(
      widths.map((ch, i) => {
        const inCh = i === k - 1 ? ch : ch * 2;
        return i === 0
          ? new nn.Sequential(
              new nn.ConvTranspose2d(inCh, nc, 4, { stride: 2, padding: 1 }),
              ...(cfg.out === 'linear' ? [] : [new nn.Tanh()]),
            )
          : new nn.Sequential(
              new nn.ConvTranspose2d(inCh, widths[i - 1], 4, { stride: 2, padding: 1, bias }),
              normLayer(norm, widths[i - 1]),
              new nn.ReLU(),
            );
      }),
    );
  }

  reconstruct(x: Tensor): { recon: Tensor; code: Tensor } {
    const skips: Tensor[] = [];
    let h = x;
    for (const d of this.down) {
      h = d.call(h) as Tensor;
      skips.push(h);
    }
    const code = h.reshape([x.shape[0], -1]);
    const k = skips.length;
    for (let i = k - 1; i >= 0; i--) {
      const input = i === k - 1 ? h : ops.concat([h, skips[i]], 1);
      h = this.up.at(i).call(input) as Tensor;
    }
    return { recon: h, code };
  }

  override forward(x: Tensor): Tensor {
    return this.reconstruct(x).recon;
  }
}
