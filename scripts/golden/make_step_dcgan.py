#!/usr/bin/env python3
"""Step golden for DCGAN (tests/golden/steps/dcgan.safetensors): the training loop of
pytorch/examples dcgan/main.py, transcribed with G and D of nets/dcgan.ts's structure (imageSize 8,
nz 5, ngf 4, ndf 4, nc 1), batch 3, Adam(lr, betas (0.5, 0.999)), two iterations.

Per iteration, as in the example: D step on real (label 1) and G(z).detach() (label 0) with BCE
(here BCEWithLogits: the example's Sigmoid+BCELoss, folded into the loss as the engine does), then
G step on D(G(z)) with label 1 against the just-updated D. The noise z of each iteration is a
recorded draw (the engine is fed the same values). Weights: the example's weights_init.

    /usr/bin/python3 scripts/golden/make_step_dcgan.py
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from stepgolden import StepGolden

torch.manual_seed(1234)
nz, ngf, ndf, nc, s, n = 5, 4, 4, 1, 8, 3
LR = 2e-4


class G(nn.Module):
    def __init__(self):
        super().__init__()
        # imageSize 8: k = 1 stride-2 layer: z -> ngf*1 x 4 x 4 -> nc x 8 x 8
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z):
        return self.main(z)


class D(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, 1, 4, 1, 0, bias=False))

    def forward(self, x):
        return self.main(x).view(-1)


def weights_init(m):
    name = m.__class__.__name__
    if name.find('Conv') != -1:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif name.find('BatchNorm') != -1:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


netG, netD = G(), D()
netG.apply(weights_init)
netD.apply(weights_init)
nets = {'netG': netG, 'netD': netD}
optD = torch.optim.Adam(netD.parameters(), lr=LR, betas=(0.5, 0.999))
optG = torch.optim.Adam(netG.parameters(), lr=LR, betas=(0.5, 0.999))

g = StepGolden('dcgan', config={'imageSize': s, 'nz': nz, 'ngf': ngf, 'ndf': ndf, 'nc': nc},
               settings={'lr': LR, 'beta1': 0.5, 'beta2': 0.999, 'batch': n},
               notes='pytorch/examples dcgan main.py loop, 2 iterations')
g.init(nets)
real = g.input('real', torch.rand(n, nc, s, s) * 2 - 1)
for k in (1, 2):
    z = g.draw(f'z{k}', torch.randn(n, nz, 1, 1))
    fake = netG(z)
    netD.zero_grad()
    out_real = netD(real)
    out_fake = netD(fake.detach())
    lossD = F.binary_cross_entropy_with_logits(out_real, torch.ones(n)) + F.binary_cross_entropy_with_logits(out_fake, torch.zeros(n))
    lossD.backward()
    g.grads(k, {'netD': netD})
    optD.step()
    netG.zero_grad()
    out_g = netD(fake)
    lossG = F.binary_cross_entropy_with_logits(out_g, torch.ones(n))
    lossG.backward()
    g.grads(k, {'netG': netG})
    optG.step()
    g.after(k, nets, {'lossD': lossD.item(), 'lossG': lossG.item(), 'D_x': torch.sigmoid(out_real).mean().item(),
                      'D_G_z1': torch.sigmoid(out_fake).mean().item(), 'D_G_z2': torch.sigmoid(out_g).mean().item()})
g.write()
