#!/usr/bin/env python3
"""Step goldens for EBGAN (tests/golden/steps/ebgan.safetensors, ebgan_pretrain.safetensors).

EBGAN (Zhao, Mathieu & LeCun, ICLR 2017, arXiv:1609.03126) as its equations state it, with D an
autoencoder whose energy is the per-sample mean squared reconstruction error D(x) = mean((Dec(Enc(x)) - x)^2):
    L_D = mean_x D(x) + mean_z max(0, m - D(G(z)))                    (eq. 1, hinge with margin m)
    L_G = mean_z D(G(z)) + w_PT * f_PT(S)                             (eq. 2 plus section 2.4's PT)
    f_PT(S) = 1 / (N (N - 1)) sum_i sum_{j != i} (S_i . S_j / (|S_i| |S_j|))^2
on the encoder codes S of the generated batch. Per iteration: D step on real and G(z).detach(), then
G step on D(G(z)) with the same z through the just-updated D (the alternating loop of the paper's
Torch code and of DCGAN), Adam(2e-4, betas (0.5, 0.999)) for both. With --pretrain N, D is first
trained alone as an autoencoder on real data (L = mean_x D(x)) for N steps, with the same optimiser.

Shapes: 8x8, nc 1, nz 5, ngf 4, ndf 4, code 6, D with batch norm and a linear reconstruction layer,
batch 4. The margin m is set between the fake energies of the first step (computed on copies of the
initial nets), so the hinge is active for some samples and not for others.
  ebgan           pretrain 0, pt-weight 0.1, two adversarial iterations
  ebgan_pretrain  pretrain 1, pt-weight 0.1: one D-only autoencoder step, then one adversarial iteration

    /usr/bin/python3 scripts/golden/make_step_ebgan.py
"""
import copy

import torch
import torch.nn.functional as F

from stepgolden import StepGolden
from step_generative_nets import ConvAutoencoder, DcganG, dcgan_init

size, nc, nz, ngf, ndf, code, n = 8, 1, 5, 4, 4, 6, 4
LR, B1, B2, PT_W = 2e-4, 0.5, 0.999, 0.1


def energy(x, recon):
    return ((recon - x) ** 2).reshape(x.shape[0], -1).mean(1)


def pull_away(s):
    s = s.reshape(s.shape[0], -1)
    m = s.shape[0]
    unit = s / s.norm(dim=1, keepdim=True)
    cos = unit @ unit.t()
    off = 1 - torch.eye(m)
    return ((cos ** 2) * off).sum() / (m * (m - 1))


def make(name, pretrain, steps, seed):
    torch.manual_seed(seed)
    G = DcganG(size, nz, ngf, nc)
    D = ConvAutoencoder(size, nc, ndf, code, 'batch', out='linear')
    G.apply(dcgan_init)
    D.apply(dcgan_init)
    with torch.no_grad():
        D.encoder.main[-1].bias.uniform_(-0.05, 0.05)
        D.decoder.main[-1].bias.uniform_(-0.05, 0.05)
        # larger decoder output weights, so the fake energies spread around the margin
        D.decoder.main[-1].weight.mul_(10)
    nets = {'netG': G, 'netD': D}
    real = torch.rand(n, nc, size, size) * 2 - 1
    zs = [torch.randn(n, nz, 1, 1) for _ in range(steps)]
    # The margin: between the first adversarial step's fake energies under the initial nets.
    Gc, Dc = copy.deepcopy(G), copy.deepcopy(D)
    with torch.no_grad():
        Dc.reconstruct(real)
        f = Gc(zs[0])
        e = energy(f, Dc.reconstruct(f)[0]).sort().values
    margin = float((e[1] + e[2]) / 2)
    optD = torch.optim.Adam(D.parameters(), lr=LR, betas=(B1, B2))
    optG = torch.optim.Adam(G.parameters(), lr=LR, betas=(B1, B2))
    g = StepGolden(name, config={'imageSize': size, 'nc': nc, 'nz': nz, 'ngf': ngf, 'ndf': ndf, 'code': code,
                                 'dArch': 'conv', 'dNorm': 'batch', 'dOut': 'linear', 'margin': margin,
                                 'ptWeight': PT_W, 'pretrain': pretrain},
                   settings={'lr': LR, 'beta1': B1, 'beta2': B2, 'batch': n},
                   notes=f'EBGAN eq. 1-2 with PT, pretrain {pretrain}, {steps} steps; fake energies at init {e.tolist()}')
    g.init(nets)
    g.input('real', real)
    zi = 0
    for k in range(1, steps + 1):
        e_real = energy(real, D.reconstruct(real)[0])
        if k <= pretrain:
            loss_ae = e_real.mean()
            optD.zero_grad()
            loss_ae.backward()
            g.grads(k, {'netD': D})
            optD.step()
            g.after(k, nets, {'lossD': loss_ae.item(), 'energy_real': loss_ae.item()})
            continue
        z = g.draw(f'z{k}', zs[zi])
        zi += 1
        fake = G(z)
        e_fake = energy(fake.detach(), D.reconstruct(fake.detach())[0])
        loss_d = e_real.mean() + F.relu(margin - e_fake).mean()
        optD.zero_grad()
        loss_d.backward()
        g.grads(k, {'netD': D})
        optD.step()
        recon, s = D.reconstruct(fake)
        e_g = energy(fake, recon).mean()
        pt = pull_away(s)
        loss_g = e_g + PT_W * pt
        optG.zero_grad()
        loss_g.backward()
        g.grads(k, {'netG': G})
        optG.step()
        g.after(k, nets, {'lossD': loss_d.item(), 'lossG': loss_g.item(), 'energy_real': e_real.mean().item(),
                          'energy_fake': e_fake.mean().item(), 'pt': pt.item()})
    g.write()


make('ebgan', 0, 2, 11)
make('ebgan_pretrain', 1, 2, 12)
