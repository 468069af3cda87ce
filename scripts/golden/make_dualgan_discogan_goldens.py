#!/usr/bin/env python3
"""Writes the DualGAN and DiscoGAN goldens in tests/golden/nets/, read by
tests/dualgan_discogan.test.ts.

Run with the Debian torch (python3-torch, 1.13) from the repo root:
    /usr/bin/python3 scripts/golden/make_dualgan_discogan_goldens.py

DualGAN's networks are pix2pix's U-Net and PatchGAN, imported from make_net_goldens.py. DiscoGAN's
are re-typed from SKTBrain/DiscoGAN discogan/model.py (Generator with extra_layers=False and
Discriminator, widths as parameters), with the same attribute names, so the state_dict keys are the
reference's. Outputs:

  dualgan_discogan_params.json   full-size networks: parameter counts, every state_dict key and shape
  discogan_G_ngf4.safetensors, discogan_D_ndf4.safetensors
                  tiny networks with random weights and running statistics (`state.<key>`), an
                  `input` and the eval-mode outputs (`output`; the discriminator also `feat0..2`),
                  computed in float64 from the float32 weights, then rounded to float32
(The training iterations: make_step_dualgan.py and make_step_discogan.py, element by element.)
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
from make_net_goldens import NLayerDiscriminator, UnetGenerator  # noqa: E402
from netgolden import OUT_DIR, randomize, write_params, write_safetensors  # noqa: E402


# ---- DiscoGAN (SKTBrain/DiscoGAN discogan/model.py) ------------------------------------------------

class DiscoDiscriminator(nn.Module):
    def __init__(self, input_nc=3, ndf=64):
        super().__init__()
        self.conv1 = nn.Conv2d(input_nc, ndf, 4, 2, 1, bias=False)
        self.relu1 = nn.LeakyReLU(0.2, inplace=True)
        self.conv2 = nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(ndf * 2)
        self.relu2 = nn.LeakyReLU(0.2, inplace=True)
        self.conv3 = nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(ndf * 4)
        self.relu3 = nn.LeakyReLU(0.2, inplace=True)
        self.conv4 = nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False)
        self.bn4 = nn.BatchNorm2d(ndf * 8)
        self.relu4 = nn.LeakyReLU(0.2, inplace=True)
        self.conv5 = nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False)

    def forward(self, x):
        relu1 = self.relu1(self.conv1(x))
        relu2 = self.relu2(self.bn2(self.conv2(relu1)))
        relu3 = self.relu3(self.bn3(self.conv3(relu2)))
        relu4 = self.relu4(self.bn4(self.conv4(relu3)))
        return torch.sigmoid(self.conv5(relu4)), [relu2, relu3, relu4]


class DiscoGenerator(nn.Module):
    def __init__(self, input_nc=3, output_nc=3, ngf=64):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(input_nc, ngf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ngf, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ngf * 2, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ngf * 4, ngf * 8, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, output_nc, 4, 2, 1, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.main(x)


def get_fm_loss(real_feats, fake_feats, criterion):
    """image_translation.py get_fm_loss (the target is ones in the reference's dtype)."""
    losses = 0
    for real_feat, fake_feat in zip(real_feats, fake_feats):
        l2 = (real_feat.mean(0) - fake_feat.mean(0)) * (real_feat.mean(0) - fake_feat.mean(0))
        losses += criterion(l2, torch.ones_like(l2))
    return losses


def get_gan_loss(dis_real, dis_fake, criterion):
    """image_translation.py get_gan_loss; labels shaped like the outputs (the reference's [N, 1]
    labels against [N, 1, 1, 1] outputs only worked with the PyTorch of 2017)."""
    dis_loss = criterion(dis_real, torch.ones_like(dis_real)) * 0.5 + criterion(dis_fake, torch.zeros_like(dis_fake)) * 0.5
    gen_loss = criterion(dis_fake, torch.ones_like(dis_fake))
    return dis_loss, gen_loss


# ---- full-size counts ---------------------------------------------------------------------------------

def full_size():
    nets = {
        'dualgan_G_unet_256': UnetGenerator(3, 3, 8, 64, 'batch', use_dropout=True),
        'dualgan_D_basic_3ch': NLayerDiscriminator(3, 64, 3, 'batch'),
        'discogan_G': DiscoGenerator(3, 3, 64),
        'discogan_D': DiscoDiscriminator(3, 64),
    }
    write_params('dualgan_discogan_params.json', nets)


# ---- tiny forward goldens -----------------------------------------------------------------------------

def tiny(name, net, input_shape, seed):
    gen = torch.Generator().manual_seed(seed)
    randomize(net, gen)
    net.eval()
    x = torch.rand(input_shape, generator=gen)  # DiscoGAN's images are in [0, 1]
    state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    with torch.no_grad():
        y = net.double()(x.double())
    tensors = {'input': x.numpy().astype(np.float32)}
    if isinstance(y, tuple):
        tensors['output'] = y[0].float().numpy()
        for i, f in enumerate(y[1]):
            tensors[f'feat{i}'] = f.float().numpy()
    else:
        tensors['output'] = y.float().numpy()
    for k, v in state.items():
        tensors['state.' + k] = v.numpy().astype(np.int64 if v.dtype == torch.int64 else np.float32)
    path = os.path.join(OUT_DIR, f'{name}.safetensors')
    write_safetensors(path, tensors)
    print(f'{path}: {sum(p.numel() for p in net.parameters())} params, {os.path.getsize(path)} bytes')


if __name__ == '__main__':
    os.makedirs(OUT_DIR, exist_ok=True)
    torch.manual_seed(0)
    full_size()
    tiny('discogan_G_ngf4', DiscoGenerator(3, 3, 4), (2, 3, 16, 16), 11)
    tiny('discogan_D_ndf4', DiscoDiscriminator(3, 4), (1, 3, 64, 64), 12)
