"""PyTorch twins of the network STRUCTURES that nets/autoencoder.ts, ebgan.ts, gman.ts and madgan.ts
build (layer order and state_dict keys as the engine names them), for the step goldens written by
make_step_autoencoder.py, make_step_ebgan.py, make_step_gman.py and make_step_madgan.py.

Only the shapes are shared with the engine: the training loops in those scripts are transcriptions
of the reference implementations (see each script), and the initial weights are drawn here and
loaded into the engine by the test.
"""
import math

import torch
import torch.nn as nn


def depth(size):
    k = int(math.log2(size)) - 2
    assert 1 <= k <= 6 and 2 ** (k + 2) == size
    return k


def dcgan_init(m):
    """DCGAN's weights_init: conv N(0, 0.02), BN weight N(1, 0.02), BN bias 0 (and conv biases 0)."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class DcganG(nn.Module):
    """nets/dcgan.ts DcganGenerator: main.{0: convT 4/1/0, BN, ReLU, (convT 4/2/1, BN, ReLU)*, convT 4/2/1, tanh}."""

    def __init__(self, size, nz, ngf, nc):
        super().__init__()
        k = depth(size)
        ch = ngf * 2 ** (k - 1)
        layers = [nn.ConvTranspose2d(nz, ch, 4, 1, 0, bias=False), nn.BatchNorm2d(ch), nn.ReLU()]
        for _ in range(1, k):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU()]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, z):
        return self.main(z)


def _norm(norm, ch):
    return nn.BatchNorm2d(ch) if norm == 'batch' else nn.Identity()


class ConvEncoder(nn.Module):
    def __init__(self, size, nc, nf, code, norm):
        super().__init__()
        k = depth(size)
        bias = norm == 'none'
        ch = nf
        layers = [nn.Conv2d(nc, ch, 4, 2, 1, bias=bias), nn.LeakyReLU(0.2)]
        for _ in range(1, k):
            layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=bias), _norm(norm, ch * 2), nn.LeakyReLU(0.2)]
            ch *= 2
        layers.append(nn.Conv2d(ch, code, 4, 1, 0))
        self.main = nn.Sequential(*layers)
        self.code = code

    def forward(self, x):
        return self.main(x).reshape(x.shape[0], self.code)


class ConvDecoder(nn.Module):
    def __init__(self, size, nc, nf, code, norm, out='tanh'):
        super().__init__()
        k = depth(size)
        bias = norm == 'none'
        ch = nf * 2 ** (k - 1)
        layers = [nn.ConvTranspose2d(code, ch, 4, 1, 0, bias=bias), _norm(norm, ch), nn.ReLU()]
        for _ in range(1, k):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=bias), _norm(norm, ch // 2), nn.ReLU()]
            ch //= 2
        layers.append(nn.ConvTranspose2d(ch, nc, 4, 2, 1))
        if out != 'linear':
            layers.append(nn.Tanh())
        self.main = nn.Sequential(*layers)
        self.code = code

    def forward(self, c):
        return self.main(c.reshape(c.shape[0], self.code, 1, 1))


class ConvAutoencoder(nn.Module):
    """nets/lib/autoencoders.ts ConvAutoencoder (the autoencoder model, EBGAN's D): encoder.main.*, decoder.main.*."""

    def __init__(self, size, nc, nf, code, norm, out='tanh'):
        super().__init__()
        self.encoder = ConvEncoder(size, nc, nf, code, norm)
        self.decoder = ConvDecoder(size, nc, nf, code, norm, out)

    def reconstruct(self, x):
        c = self.encoder(x)
        return self.decoder(c), c

    def forward(self, x):
        return self.reconstruct(x)[0]
