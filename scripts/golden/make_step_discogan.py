#!/usr/bin/env python3
"""Step golden for DiscoGAN (tests/golden/steps/discogan.safetensors): two iterations of
SKTBrain/DiscoGAN discogan/image_translation.py's training loop (model_arch 'discogan'),
update_interval 3: iteration 0 steps the discriminators on dis_loss_A + dis_loss_B, iteration 1
the generators on gen_loss_A_total + gen_loss_B_total; gan_curriculum 1, so the reconstruction rate
is starting_rate 0.01 in iteration 0 and default_rate afterwards (0.3 here: at the reference's 0.5,
rate and 1 - rate are the same).

Networks: model.py's Generator (extra_layers False) and Discriminator with widths 1 (ngf, ndf), from
make_dualgan_discogan_goldens.py; PyTorch's default initialisation (the reference has none of its
own). One image per domain, 64x64 (the discriminator's last 4x4 conv needs 64 px), given to the
engine in [-1, 1] (its datasets' range; the trainer maps to the reference's [0, 1]), used by both
iterations. Adam(2e-4, (0.5, 0.999), weight_decay 1e-5) over both generators and over both
discriminators (per parameter the same as one optimizer each).

Per iteration, as the reference: zero every net's gradients; AB = generator_B(A), BA = generator_A(B),
ABA = generator_A(AB), BAB = generator_B(BA); MSE reconstructions; discriminator_A on A and BA,
discriminator_B on B and AB (BCE on the sigmoid, feature matching over relu2..4 with
HingeEmbeddingLoss against 1); totals as get_gan_loss / get_fm_loss.

    /usr/bin/python3 scripts/golden/make_step_discogan.py
"""
import torch
import torch.nn as nn

from stepgolden import StepGolden
from make_dualgan_discogan_goldens import DiscoDiscriminator, DiscoGenerator, get_fm_loss, get_gan_loss

torch.manual_seed(2017)
n, s, ngf, ndf, LR, WD = 1, 64, 1, 1, 2e-4, 1e-5
# default_rate 0.3 rather than the reference's 0.5, where rate and 1 - rate coincide (a swapped
# rate would go unnoticed).
CURRICULUM, STARTING, DEFAULT, INTERVAL, STEPS = 1, 0.01, 0.3, 3, 2

config = {'imageSize': s, 'inputNc': 3, 'outputNc': 3, 'ngf': ngf, 'ndf': ndf, 'modelArch': 'discogan',
          'ganCurriculum': CURRICULUM, 'startingRate': STARTING, 'defaultRate': DEFAULT, 'updateInterval': INTERVAL,
          'weightDecay': WD}
g = StepGolden('discogan', config=config, settings={'lr': LR, 'beta1': 0.5, 'beta2': 0.999, 'steps': STEPS, 'batch': n},
               notes='image_translation.py x2: discriminators, then generators (update_interval 3, gan_curriculum 1)')

generator_A, generator_B = DiscoGenerator(3, 3, ngf), DiscoGenerator(3, 3, ngf)
discriminator_A, discriminator_B = DiscoDiscriminator(3, ndf), DiscoDiscriminator(3, ndf)
nets = {'generator_A': generator_A, 'generator_B': generator_B, 'discriminator_A': discriminator_A, 'discriminator_B': discriminator_B}
for net in nets.values():
    net.train()
g.init(nets)
recon_criterion = nn.MSELoss()
gan_criterion = nn.BCELoss()
feat_criterion = nn.HingeEmbeddingLoss()
gen_params = list(generator_A.parameters()) + list(generator_B.parameters())
dis_params = list(discriminator_A.parameters()) + list(discriminator_B.parameters())
optim_gen = torch.optim.Adam(gen_params, lr=LR, betas=(0.5, 0.999), weight_decay=WD)
optim_dis = torch.optim.Adam(dis_params, lr=LR, betas=(0.5, 0.999), weight_decay=WD)

A_signed = torch.rand(n, 3, s, s) * 2 - 1
B_signed = torch.rand(n, 3, s, s) * 2 - 1
g.input('batch', torch.cat([A_signed, B_signed], 1))
A, B = (A_signed + 1) / 2, (B_signed + 1) / 2
for iters in range(STEPS):
    for net in nets.values():
        net.zero_grad()
    AB = generator_B(A)
    BA = generator_A(B)
    ABA = generator_A(AB)
    BAB = generator_B(BA)
    recon_loss_A = recon_criterion(ABA, A)
    recon_loss_B = recon_criterion(BAB, B)
    A_dis_real, A_feats_real = discriminator_A(A)
    A_dis_fake, A_feats_fake = discriminator_A(BA)
    dis_loss_A, gen_loss_A = get_gan_loss(A_dis_real, A_dis_fake, gan_criterion)
    fm_loss_A = get_fm_loss(A_feats_real, A_feats_fake, feat_criterion)
    B_dis_real, B_feats_real = discriminator_B(B)
    B_dis_fake, B_feats_fake = discriminator_B(AB)
    dis_loss_B, gen_loss_B = get_gan_loss(B_dis_real, B_dis_fake, gan_criterion)
    fm_loss_B = get_fm_loss(B_feats_real, B_feats_fake, feat_criterion)
    rate = STARTING if iters < CURRICULUM else DEFAULT
    gen_loss_A_total = (gen_loss_B * 0.1 + fm_loss_B * 0.9) * (1. - rate) + recon_loss_A * rate
    gen_loss_B_total = (gen_loss_A * 0.1 + fm_loss_A * 0.9) * (1. - rate) + recon_loss_B * rate
    gen_loss = gen_loss_A_total + gen_loss_B_total
    dis_loss = dis_loss_A + dis_loss_B
    if iters % INTERVAL == 0:
        dis_loss.backward()
        optim_dis.step()
    else:
        gen_loss.backward()
        optim_gen.step()
    g.after(iters + 1, nets, {
        'loss_dis_A': dis_loss_A.item(), 'loss_dis_B': dis_loss_B.item(), 'loss_gen_A': gen_loss_A.item(),
        'loss_gen_B': gen_loss_B.item(), 'loss_fm_A': fm_loss_A.item(), 'loss_fm_B': fm_loss_B.item(),
        'loss_recon_A': recon_loss_A.item(), 'loss_recon_B': recon_loss_B.item(),
        'D_x': B_dis_real.mean().item(), 'D_G_x': B_dis_fake.mean().item()})
g.write()
