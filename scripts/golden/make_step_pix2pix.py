#!/usr/bin/env python3
"""Step golden for pix2pix (tests/golden/steps/pix2pix.safetensors): three iterations of
junyanz/pytorch-CycleGAN-and-pix2pix models/pix2pix_model.py optimize_parameters(), with dropout on
through recorded masks and the linear learning-rate decay of networks.get_scheduler('linear').

Networks: G unet_32_dropout (a 5-level U-Net, ngf 1, batch norm, dropout 0.5 on the 3 levels just
outside the innermost: nets/lib/networks.ts's dropoutLevels; the reference's own rule would give a
5-level U-Net no dropout at all), D the 70x70 PatchGAN (n_layers 3, ndf 1) on concat(A, B).
Weights: networks.init_weights('normal', 0.02). One batch of 2 32x32 pairs (used by all three iterations), direction AtoB. No gradients are stored:
every element is held to the default tolerance.

Per iteration, as the reference: forward (fake_B = G(real_A), the dropout masks are draws); D step on
netD(cat(A, fake_B).detach()) (label 0) then netD(cat(A, B)) (label 1), loss (fake + real) * 0.5,
vanilla GAN loss (BCEWithLogits); G step on netD(cat(A, fake_B)) (label 1) + 100 |fake_B - B|_1
against the just-updated D (D's weights take no gradient). Adam(2e-4, (0.5, 0.999)) for each;
the rate follows lambda_rule with n_epochs 1, n_epochs_decay 2 (one step per 'epoch': 1, 2/3, 1/3),
as the engine's lrHold 1, lrDecay 2.

    /usr/bin/python3 scripts/golden/make_step_pix2pix.py
"""
import torch
import torch.nn.functional as F

from stepgolden import StepGolden
from stepgolden_i2i import UnetGenerator, feed_dropout, init_weights, linear_decay, uniform_images
from make_net_goldens import NLayerDiscriminator

torch.manual_seed(2017)
n, s, ngf, ndf, LR, LAMBDA_L1 = 2, 32, 1, 1, 2e-4, 100.0
HOLD, DECAY, STEPS = 1, 2, 3

config = {'imageSize': s, 'inputNc': 3, 'outputNc': 3, 'netG': 'unet_32_dropout', 'netD': 'basic', 'ngf': ngf, 'ndf': ndf,
          'norm': 'batch', 'dropout': True, 'ganMode': 'vanilla', 'lambdaL1': LAMBDA_L1, 'direction': 'AtoB',
          'lrHold': HOLD, 'lrDecay': DECAY}
g = StepGolden('pix2pix', config=config, settings={'lr': LR, 'beta1': 0.5, 'beta2': 0.999, 'steps': STEPS, 'batch': n},
               notes='pix2pix_model.py optimize_parameters x3, dropout masks fed, linear lr decay (1 hold + 2 decay)')

netG = UnetGenerator(3, 3, 5, ngf, 'batch', use_dropout=True, dropout_levels=3)
netD = NLayerDiscriminator(6, ndf, 3, 'batch')
init_weights(netG)
init_weights(netD)
netG.train()
netD.train()
assert feed_dropout(netG, g, 'netG') == 3
nets = {'netG': netG, 'netD': netD}
g.init(nets)
optG = torch.optim.Adam(netG.parameters(), lr=LR, betas=(0.5, 0.999))
optD = torch.optim.Adam(netD.parameters(), lr=LR, betas=(0.5, 0.999))
schedulers = [torch.optim.lr_scheduler.LambdaLR(o, lr_lambda=linear_decay(HOLD, DECAY)) for o in (optG, optD)]

A = uniform_images(n, 3, s)
B = uniform_images(n, 3, s)
g.input('batch', torch.cat([A, B], 1))  # the engine's packed layout: A's channels, then B's
for k in range(1, STEPS + 1):
    fake_B = netG(A)
    # update D
    for p in netD.parameters():
        p.requires_grad_(True)
    optD.zero_grad()
    pred_fake = netD(torch.cat([A, fake_B], 1).detach())
    loss_D_fake = F.binary_cross_entropy_with_logits(pred_fake, torch.zeros_like(pred_fake))
    pred_real = netD(torch.cat([A, B], 1))
    loss_D_real = F.binary_cross_entropy_with_logits(pred_real, torch.ones_like(pred_real))
    loss_D = (loss_D_fake + loss_D_real) * 0.5
    loss_D.backward()
    optD.step()
    # update G
    for p in netD.parameters():
        p.requires_grad_(False)
    optG.zero_grad()
    pred = netD(torch.cat([A, fake_B], 1))
    loss_G_GAN = F.binary_cross_entropy_with_logits(pred, torch.ones_like(pred))
    loss_G_L1 = (fake_B - B).abs().mean() * LAMBDA_L1
    (loss_G_GAN + loss_G_L1).backward()
    optG.step()
    for sch in schedulers:
        sch.step()
    g.after(k, nets, {'loss_G_GAN': loss_G_GAN.item(), 'loss_G_L1': loss_G_L1.item(), 'loss_D_real': loss_D_real.item(),
                      'loss_D_fake': loss_D_fake.item(), 'D_x': torch.sigmoid(pred_real).mean().item(),
                      'D_G_x': torch.sigmoid(pred_fake).mean().item()})
g.write()
