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
  step_dualgan.json   one DualGAN iteration with n_critic 1 (closed-form weights and images as in
                  make_net_goldens.py): the critic losses and gradients, the critics' parameters after
                  RMSprop and weight clipping, then the generator losses and gradients against the
                  updated critics
  step_discogan.json  two DiscoGAN iterations as image_translation.py runs them (update_interval 3:
                  iteration 0 steps the discriminators, iteration 1 the generators; gan_curriculum 1,
                  so the rate is 0.01 then 0.5): every loss of both iterations and the gradients of
                  the networks each one steps
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
from make_net_goldens import (  # noqa: E402
    OUT_DIR, NLayerDiscriminator, UnetGenerator, describe, formula_images, formula_init, grads_of, randomize,
    write_safetensors,
)


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
    out = {'torch': torch.__version__}
    for name, net in nets.items():
        out[name] = describe(net)
        print(f'{name}: {out[name]["params"]:,} parameters, {len(out[name]["keys"])} state_dict entries')
    path = os.path.join(OUT_DIR, 'dualgan_discogan_params.json')
    with open(path, 'w') as f:
        json.dump(out, f, separators=(',', ':'))
    print(f'{path}: {os.path.getsize(path)} bytes')


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


# ---- one DualGAN iteration ----------------------------------------------------------------------------

DUALGAN_STEP = {'imageSize': 32, 'netG': 'unet_32', 'ngf': 2, 'netD': 'basic', 'ndf': 2, 'norm': 'batch', 'dropout': False,
                'lambdaA': 20, 'lambdaB': 30, 'nCritic': 1, 'clip': 0.05, 'rmsAlpha': 0.9, 'batch': 2, 'lr': 5e-5}


def step_dualgan(dtype):
    c = DUALGAN_STEP
    nets = {'netG_A': UnetGenerator(3, 3, 5, 2, 'batch'), 'netG_B': UnetGenerator(3, 3, 5, 2, 'batch'),
            'netD_A': NLayerDiscriminator(3, 2, 3, 'batch'), 'netD_B': NLayerDiscriminator(3, 2, 3, 'batch')}
    for net in nets.values():
        formula_init(net)
        net.to(dtype).train()
    G_A, G_B, D_A, D_B = nets['netG_A'], nets['netG_B'], nets['netD_A'], nets['netD_B']
    opt = {k: torch.optim.RMSprop(v.parameters(), lr=c['lr'], alpha=c['rmsAlpha']) for k, v in nets.items()}
    u = formula_images(2, 3, 32, 32, 0.0).to(dtype)  # domain A (U)
    v = formula_images(2, 3, 32, 32, 1.0).to(dtype)  # domain B (V)
    fake_B = G_A(u)
    fake_A = G_B(v)
    # Critics: l_D_A = D_A(G_A(u)) - D_A(v), l_D_B = D_B(G_B(v)) - D_B(u), fakes detached.
    loss_D_A = D_A(fake_B.detach()).mean() - D_A(v).mean()
    loss_D_B = D_B(fake_A.detach()).mean() - D_B(u).mean()
    for name, loss in (('netD_A', loss_D_A), ('netD_B', loss_D_B)):
        opt[name].zero_grad()
        loss.backward()
    grads = {'netD_A': grads_of(D_A), 'netD_B': grads_of(D_B)}
    for name in ('netD_A', 'netD_B'):
        opt[name].step()
        for p in nets[name].parameters():
            p.data.clamp_(-c['clip'], c['clip'])
    after = {name: {k: [float(x) for x in p.detach().double().reshape(-1)[:6]] for k, p in nets[name].named_parameters()} for name in ('netD_A', 'netD_B')}
    # Generators against the updated critics.
    for p in list(D_A.parameters()) + list(D_B.parameters()):
        p.requires_grad_(False)
    loss_G_A = -D_A(fake_B).mean()
    loss_G_B = -D_B(fake_A).mean()
    loss_rec_A = (G_B(fake_B) - u).abs().mean() * c['lambdaA']
    loss_rec_B = (G_A(fake_A) - v).abs().mean() * c['lambdaB']
    opt['netG_A'].zero_grad()
    opt['netG_B'].zero_grad()
    (loss_G_A + loss_G_B + loss_rec_A + loss_rec_B).backward()
    grads.update({'netG_A': grads_of(G_A), 'netG_B': grads_of(G_B)})
    losses = {'loss_D_A': loss_D_A, 'loss_D_B': loss_D_B, 'loss_G_A': loss_G_A, 'loss_G_B': loss_G_B,
              'loss_rec_A': loss_rec_A, 'loss_rec_B': loss_rec_B}
    return {
        'config': {k: v for k, v in c.items() if k != 'lr'},
        'lr': c['lr'],
        'iterations': [{'losses': {k: float(x) for k, x in losses.items()}, 'grads': grads}],
        'after': after,
    }


# ---- two DiscoGAN iterations --------------------------------------------------------------------------

DISCOGAN_STEP = {'imageSize': 64, 'ngf': 4, 'ndf': 4, 'ganCurriculum': 1, 'startingRate': 0.01, 'defaultRate': 0.5,
                 'updateInterval': 3, 'weightDecay': 1e-5, 'batch': 2, 'lr': 2e-4}


def step_discogan(dtype):
    c = DISCOGAN_STEP
    nets = {'generator_A': DiscoGenerator(3, 3, c['ngf']), 'generator_B': DiscoGenerator(3, 3, c['ngf']),
            'discriminator_A': DiscoDiscriminator(3, c['ndf']), 'discriminator_B': DiscoDiscriminator(3, c['ndf'])}
    for net in nets.values():
        formula_init(net)
        net.to(dtype).train()
    generator_A, generator_B = nets['generator_A'], nets['generator_B']
    discriminator_A, discriminator_B = nets['discriminator_A'], nets['discriminator_B']
    recon_criterion = nn.MSELoss()
    gan_criterion = nn.BCELoss()
    feat_criterion = nn.HingeEmbeddingLoss()
    gen_params = list(generator_A.parameters()) + list(generator_B.parameters())
    dis_params = list(discriminator_A.parameters()) + list(discriminator_B.parameters())
    optim_gen = torch.optim.Adam(gen_params, lr=c['lr'], betas=(0.5, 0.999), weight_decay=c['weightDecay'])
    optim_dis = torch.optim.Adam(dis_params, lr=c['lr'], betas=(0.5, 0.999), weight_decay=c['weightDecay'])
    iterations = []
    for iters in range(2):
        for net in nets.values():
            net.zero_grad()
        # The data in [-1, 1] as the engine's loaders give them, mapped to the reference's [0, 1].
        A = (formula_images(2, 3, 64, 64, 2.0 * iters).to(dtype) + 1) / 2
        B = (formula_images(2, 3, 64, 64, 2.0 * iters + 1.0).to(dtype) + 1) / 2
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
        rate = c['startingRate'] if iters < c['ganCurriculum'] else c['defaultRate']
        gen_loss_A_total = (gen_loss_B * 0.1 + fm_loss_B * 0.9) * (1. - rate) + recon_loss_A * rate
        gen_loss_B_total = (gen_loss_A * 0.1 + fm_loss_A * 0.9) * (1. - rate) + recon_loss_B * rate
        gen_loss = gen_loss_A_total + gen_loss_B_total
        dis_loss = dis_loss_A + dis_loss_B
        if iters % c['updateInterval'] == 0:
            dis_loss.backward()
            grads = {'discriminator_A': grads_of(discriminator_A), 'discriminator_B': grads_of(discriminator_B)}
            optim_dis.step()
        else:
            gen_loss.backward()
            grads = {'generator_A': grads_of(generator_A), 'generator_B': grads_of(generator_B)}
            optim_gen.step()
        losses = {'loss_dis_A': dis_loss_A, 'loss_dis_B': dis_loss_B, 'loss_gen_A': gen_loss_A, 'loss_gen_B': gen_loss_B,
                  'loss_fm_A': fm_loss_A, 'loss_fm_B': fm_loss_B, 'loss_recon_A': recon_loss_A, 'loss_recon_B': recon_loss_B}
        iterations.append({'losses': {k: float(x) for k, x in losses.items()}, 'grads': grads, 'phases': [2.0 * iters, 2.0 * iters + 1.0]})
    return {'config': {k: v for k, v in c.items() if k != 'lr'}, 'lr': c['lr'], 'iterations': iterations}


def training_steps():
    """float64 reference values; 'f32_err' per gradient is how far PyTorch's own float32 run lands
    from them (the round-off scale the engine's float32 gradients are held to)."""
    for name, fn in (('step_dualgan', step_dualgan), ('step_discogan', step_discogan)):
        out = fn(torch.float64)
        ref32 = fn(torch.float32)
        for it, it32 in zip(out['iterations'], ref32['iterations']):
            for net, grads in it['grads'].items():
                for k, g in grads.items():
                    g32 = it32['grads'][net][k]
                    g['f32_err'] = max([abs(g['norm'] - g32['norm'])] + [abs(a - b) for a, b in zip(g['first'], g32['first'])])
        out['torch'] = torch.__version__
        path = os.path.join(OUT_DIR, f'{name}.json')
        with open(path, 'w') as f:
            json.dump(out, f, separators=(',', ':'))
        print(f'{path}: {[it["losses"] for it in out["iterations"]]}, {os.path.getsize(path)} bytes')


if __name__ == '__main__':
    os.makedirs(OUT_DIR, exist_ok=True)
    torch.manual_seed(0)
    full_size()
    tiny('discogan_G_ngf4', DiscoGenerator(3, 3, 4), (2, 3, 16, 16), 11)
    tiny('discogan_D_ndf4', DiscoDiscriminator(3, 4), (1, 3, 64, 64), 12)
    training_steps()
