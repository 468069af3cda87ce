#!/usr/bin/env python3
"""Step golden for the autoencoder (tests/golden/steps/autoencoder.safetensors).

The reference nets/autoencoder.ts cites is Hinton & Salakhutdinov 2006 (deep autoencoders, trained
on the squared reconstruction error); the layer shapes are DCGAN's (arXiv:1511.06434). There is no
reference code to follow beyond that, so the loop is the textbook one: loss = MSE(AE(x), x) averaged
over every element, backward, Adam(lr 1e-3, betas (0.9, 0.999)) step; two steps on one batch.
The autoencoder draws no noise. Shapes: 8x8 images, nc 1, nf 4, code 6, batch norm, batch 3.

    /usr/bin/python3 scripts/golden/make_step_autoencoder.py
"""
import torch
import torch.nn.functional as F

from stepgolden import StepGolden
from step_generative_nets import ConvAutoencoder, dcgan_init

torch.manual_seed(2024)
size, nc, nf, code, n = 8, 1, 4, 6, 3
LR, B1, B2 = 1e-3, 0.9, 0.999

ae = ConvAutoencoder(size, nc, nf, code, 'batch')
ae.apply(dcgan_init)
with torch.no_grad():  # the code layer's bias: small non-zero values, so its update is checked too
    ae.encoder.main[-1].bias.uniform_(-0.05, 0.05)
    ae.decoder.main[-2].bias.uniform_(-0.05, 0.05)
nets = {'netAE': ae}
opt = torch.optim.Adam(ae.parameters(), lr=LR, betas=(B1, B2))

g = StepGolden('autoencoder', config={'imageSize': size, 'nc': nc, 'nf': nf, 'code': code, 'norm': 'batch'},
               settings={'lr': LR, 'beta1': B1, 'beta2': B2, 'batch': n},
               notes='MSE reconstruction + Adam, 2 steps on one batch')
g.init(nets)
real = g.input('real', torch.rand(n, nc, size, size) * 2 - 1)
for k in (1, 2):
    opt.zero_grad()
    loss = F.mse_loss(ae(real), real)
    loss.backward()
    g.grads(k, nets)
    opt.step()
    g.after(k, nets, {'recon_mse': loss.item()})
g.write()
