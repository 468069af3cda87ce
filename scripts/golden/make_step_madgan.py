#!/usr/bin/env python3
"""Step golden for MAD-GAN (tests/golden/steps/madgan.safetensors).

MAD-GAN (Ghosh et al., CVPR 2018, arXiv:1704.02906) as its equations state it: k generators that
share their early layers (here the DCGAN generator's first block, as one trunk run on all k m noise
vectors) and one discriminator with k + 1 softmax outputs, class i < k for generator i's samples and
class k for real data.
    L_D   = cross-entropy of D's softmax against the source labels, over m samples of each
            generator and m real samples (mean over the (k + 1) m samples)
    L_G   = sum_i E_z[-log D_k(G_i(z))]      (each G_i wants its samples called real; the
            non-saturating form of the paper's E log(1 - D_{k+1}(G_i(z))), as nets/madgan.ts documents)
Each source passes through D as a batch of its own (D's batch norm never mixes sources, as DCGAN's
loop passes real and fake separately). One iteration: D step on the detached samples, then one
step of all generators through the just-updated D. Adam(2e-4, betas (0.5, 0.999)); two iterations.

Shapes: 16x16 (so D has a batch-norm layer and each head a BN block), nc 1, nz 5, ngf 4, ndf 3,
k = 2 generators sharing 1 block, m = 3 samples per source.

    /usr/bin/python3 scripts/golden/make_step_madgan.py
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from stepgolden import StepGolden
from step_generative_nets import dcgan_init

torch.manual_seed(77)
size, nc, nz, ngf, ndf, k, shared, m = 16, 1, 5, 4, 3, 2, 1, 3
LR, B1, B2 = 2e-4, 0.5, 0.999


class MultiG(nn.Module):
    def __init__(self):
        super().__init__()
        ch = ngf * 2  # depth 2 at 16x16: ngf * 2^(depth - 1)
        self.trunk = nn.Sequential(nn.ConvTranspose2d(nz, ch, 4, 1, 0, bias=False), nn.BatchNorm2d(ch), nn.ReLU())
        self.heads = nn.ModuleList([nn.Sequential(
            nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(),
            nn.ConvTranspose2d(ch // 2, nc, 4, 2, 1, bias=False), nn.Tanh()) for _ in range(k)])

    def forward_split(self, z, sizes):
        h = self.trunk(z)
        return [head(p) for head, p in zip(self.heads, torch.split(h, sizes, 0))]


class MadD(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2),
            nn.Conv2d(ndf * 2, k + 1, 4, 1, 0, bias=False))

    def forward(self, x):
        return self.main(x).reshape(x.shape[0], k + 1)


G, D = MultiG(), MadD()
G.apply(dcgan_init)
D.apply(dcgan_init)
with torch.no_grad():
    D.main[-1].weight.mul_(20)  # logits of order 1, so the softmax is not flat
nets = {'netG': G, 'netD': D}
optD = torch.optim.Adam(D.parameters(), lr=LR, betas=(B1, B2))
optG = torch.optim.Adam(G.parameters(), lr=LR, betas=(B1, B2))
g = StepGolden('madgan', config={'imageSize': size, 'nc': nc, 'nz': nz, 'ngf': ngf, 'ndf': ndf, 'k': k, 'shared': shared},
               settings={'lr': LR, 'beta1': B1, 'beta2': B2, 'batch': m},
               notes='MAD-GAN: (k+1)-way CE for D, sum of non-saturating G_i losses, 2 iterations')
g.init(nets)
real = g.input('real', torch.rand(m, nc, size, size) * 2 - 1)
labels_d = torch.arange(k + 1).repeat_interleave(m)
labels_g = torch.full((k * m,), k)
for it in (1, 2):
    z = g.draw(f'z{it}', torch.randn(k * m, nz, 1, 1))
    fakes = G.forward_split(z, [m] * k)
    logits_fake = torch.cat([D(f.detach()) for f in fakes], 0)
    logits_real = D(real)
    loss_d = F.cross_entropy(torch.cat([logits_fake, logits_real], 0), labels_d)
    optD.zero_grad()
    loss_d.backward()
    g.grads(it, {'netD': D})
    optD.step()
    logits_g = torch.cat([D(f) for f in fakes], 0)
    loss_g = k * F.cross_entropy(logits_g, labels_g)
    optG.zero_grad()
    loss_g.backward()
    g.grads(it, {'netG': G})
    optG.step()
    g.after(it, nets, {'lossD': loss_d.item(), 'lossG': loss_g.item(),
                       'D_real': torch.softmax(logits_real, 1)[:, k].mean().item()})
g.write()
