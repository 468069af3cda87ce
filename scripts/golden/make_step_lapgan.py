#!/usr/bin/env python3
"""Step golden for LAPGAN (tests/golden/steps/lapgan.safetensors): two iterations of the training loop
of the authors' Torch code (facebook/eyescream, cifar/train/conditional_adversarial.lua, and
adversarial.lua for the coarse GAN), for a cascade of one conditional pyramid level and the coarse
GAN, on networks of nets/lapgan.ts's structure (imageSize 8, levels 1: level 0 at 8x8 conditioned on
the expanded 4x4 image, the coarse MLP GAN at 4x4; nz 3, nh 8, ngf 4, ndf 4, nc 1), batch 3.

Per iteration and per level, as the reference:
  D: one BCE criterion over its batch [real pairs; fake pairs] with targets [1; 0], i.e. the mean
     of the two halves' means; a level's pair is (band + expanded coarse image, expanded coarse
     image), the coarse GAN's input the 4x4 image itself; the fake half comes from the current G
  G: fresh noise (noise_inputs:uniform refilled before the G step), target 1 against the updated D
Each level's D and G are independent networks, so one Adam per module over all levels is the same as
one per level. Pyramid: [1 4 6 4 1]/16 separable blur, reflect padding 2, even rows/columns kept;
expansion: zero insertion and the blur with 4x the kernel (engine/ops/pyramid.ts's conventions).
Kept different from the reference on purpose (see nets/lapgan.ts): Adam, Gaussian noise, and the
fake half conditioned on the same coarse images as the real half. The noise and D's dropout masks
are recorded draws in the engine's order.

    /usr/bin/python3 scripts/golden/make_step_lapgan.py
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from stepgolden import StepGolden

torch.manual_seed(7)
S, NC, NZ, NH, NGF, NDF, N = 8, 1, 3, 8, 4, 4, 3
CS = S // 2
LR = 2e-4
K5 = torch.tensor([1., 4., 6., 4., 1.]) / 16


def blur(x, gain=1.0):
    c = x.shape[1]
    k = (K5 * gain).to(x.dtype)
    x = F.conv2d(F.pad(x, (2, 2, 0, 0), mode='reflect'), k.view(1, 1, 1, 5).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(F.pad(x, (0, 0, 2, 2), mode='reflect'), k.view(1, 1, 5, 1).repeat(c, 1, 1, 1), groups=c)


def pyr_down(x):
    return blur(x)[:, :, ::2, ::2]


def pyr_up(x, h, w):
    u = torch.zeros(x.shape[0], x.shape[1], h, w, dtype=x.dtype)
    u[:, :, ::2, ::2] = x
    return blur(u, 2.0)


class Mask(nn.Module):  # the engine's Dropout: x * the fed mask (0 or 2)
    def forward(self, x):
        return x * MASKS.pop(0)


class CoarseG(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(NZ, NH), nn.ReLU(), nn.Linear(NH, NH), nn.ReLU(), nn.Linear(NH, NC * CS * CS), nn.Tanh())

    def forward(self, z):
        return self.main(z).view(-1, NC, CS, CS)


class CoarseD(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(nn.Flatten(), nn.Linear(NC * CS * CS, NH), nn.LeakyReLU(0.2), Mask(), nn.Linear(NH, NH), nn.LeakyReLU(0.2), Mask(), nn.Linear(NH, 1))

    def forward(self, x):
        return self.main(x).view(-1)


class LevelG(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(nn.Conv2d(NC + 1, NGF, 7, padding=3, bias=False), nn.BatchNorm2d(NGF), nn.ReLU(),
                                  nn.Conv2d(NGF, NGF, 7, padding=3, bias=False), nn.BatchNorm2d(NGF), nn.ReLU(),
                                  nn.Conv2d(NGF, NC, 5, padding=2))

    def forward(self, up, z):
        return self.main(torch.cat([up, z], 1))


class LevelD(nn.Module):
    def __init__(self):
        super().__init__()
        half = (S + 1) // 2
        self.main = nn.Sequential(nn.Conv2d(2 * NC, NDF, 5, padding=2), nn.LeakyReLU(0.2), nn.Conv2d(NDF, NDF, 5, stride=2, padding=2), nn.LeakyReLU(0.2),
                                  nn.Flatten(), Mask(), nn.Linear(NDF * half * half, 1))

    def forward(self, band, up):
        return self.main(torch.cat([band + up, up], 1)).view(-1)


class NetG(nn.Module):
    def __init__(self):
        super().__init__()
        self.coarse = CoarseG()
        self.levels = nn.ModuleList([LevelG()])


class NetD(nn.Module):
    def __init__(self):
        super().__init__()
        self.coarse = CoarseD()
        self.levels = nn.ModuleList([LevelD()])


netG, netD = NetG(), NetD()
with torch.no_grad():
    for m in netG.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.normal_(1, 0.1)
            m.bias.normal_(0, 0.1)
nets = {'netG': netG, 'netD': netD}
optD = torch.optim.Adam(netD.parameters(), lr=LR, betas=(0.5, 0.999))
optG = torch.optim.Adam(netG.parameters(), lr=LR, betas=(0.5, 0.999))
g = StepGolden('lapgan', config={'imageSize': S, 'nc': NC, 'levels': 1, 'nz': NZ, 'nh': NH, 'ngf': NGF, 'ndf': NDF},
               settings={'lr': LR, 'beta1': 0.5, 'beta2': 0.999, 'batch': N},
               notes='eyescream conditional_adversarial.lua loop: one pyramid level + the coarse GAN, 2 iterations')
g.init(nets)
real = g.input('real', torch.rand(N, NC, S, S) * 2 - 1)
low = pyr_down(real)
up = pyr_up(low, S, S)
band = real - up
MASKS = []


def masks(tag):
    # coarse D: two [N, NH] masks, then level 0's D: one [N, NDF * 4 * 4]
    shapes = [(N, NH), (N, NH), (N, NDF * ((S + 1) // 2) ** 2)]
    MASKS.extend(g.draw(f'{tag} dropout {i}', (torch.rand(sh) >= 0.5).float() * 2) for i, sh in enumerate(shapes))


def fakes(code):
    z, plane = code[:, :NZ], code[:, NZ:].view(N, 1, S, S)
    return netG.coarse(z), netG.levels[0](up, plane)


for k in (1, 2):
    code = g.draw(f'code for D {k}', torch.randn(N, NZ + S * S))
    with torch.no_grad():
        fc, fb = fakes(code)
    masks(f'D real {k}')
    r = [netD.coarse(low), netD.levels[0](band, up)]
    masks(f'D fake {k}')
    f = [netD.coarse(fc), netD.levels[0](fb, up)]
    lossesD = [F.binary_cross_entropy_with_logits(torch.cat([ri, fi]), torch.cat([torch.ones(N), torch.zeros(N)])) for ri, fi in zip(r, f)]
    lossD = sum(lossesD)
    optD.zero_grad()
    lossD.backward()
    optD.step()
    code = g.draw(f'code for G {k}', torch.randn(N, NZ + S * S))
    gc, gb = fakes(code)
    masks(f'D for G {k}')
    lossesG = [F.binary_cross_entropy_with_logits(netD.coarse(gc), torch.ones(N)), F.binary_cross_entropy_with_logits(netD.levels[0](gb, up), torch.ones(N))]
    lossG = sum(lossesG)
    optG.zero_grad()
    lossG.backward()
    optG.step()
    assert not MASKS
    g.after(k, nets, {'lossD': lossD.item(), 'lossG': lossG.item(), 'lossD_1': lossesD[0].item(), 'lossD_0': lossesD[1].item(),
                      'lossG_1': lossesG[0].item(), 'lossG_0': lossesG[1].item(),
                      'D_x': torch.sigmoid(torch.cat(r)).mean().item(), 'D_G_z': torch.sigmoid(torch.cat(f)).mean().item()})
g.write()
