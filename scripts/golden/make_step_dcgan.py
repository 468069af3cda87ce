#!/usr/bin/env python3
"""Step golden for DCGAN (tests/golden/steps/dcgan.safetensors): the training loop of
pytorch/examples dcgan/main.py, transcribed with G (step_generative_nets.DcganG) and D of
nets/dcgan.ts's structure (imageSize 8, nz 5, ngf 4, ndf 4, nc 1), batch 3, Adam(lr, betas (0.5, 0.999)), two iterations.

Per iteration, as in the example: D step on real (label 1) and G(z).detach() (label 0) with BCE
(here BCEWithLogits: the example's Sigmoid+BCELoss, folded into the loss as the engine does), then
G step on D(G(z)) with label 1 against the just-updated D. The noise z of each iteration is a
recorded draw (the engine is fed the same values). Weights: the example's weights_init
(step_generative_nets.dcgan_init).

    /usr/bin/python3 scripts/golden/make_step_dcgan.py
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from step_generative_nets import DcganG, dcgan_init
from stepgolden import StepGolden

torch.manual_seed(1234)
nz, ngf, ndf, nc, s, n = 5, 4, 4, 1, 8, 3
LR = 2e-4


class D(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, 1, 4, 1, 0, bias=False))

    def forward(self, x):
        return self.main(x).view(-1)


netG, netD = DcganG(s, nz, ngf, nc), D()
netG.apply(dcgan_init)
netD.apply(dcgan_init)
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
