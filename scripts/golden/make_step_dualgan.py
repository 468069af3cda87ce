#!/usr/bin/env python3
"""Step golden for DualGAN (tests/golden/steps/dualgan.safetensors): two iterations of
duxingren14/DualGAN model.py run_optim() with GAN_type 'wgan' (weight clipping, the paper's form) and
n_critic 2, transcribed to PyTorch: iteration 1 updates the critics only, iteration 2 the critics and
then the generators (Algorithm 1 of the paper; the TF code's step counter is one ahead, see
nets/dualgan.ts).

Networks (as nets/dualgan.ts: pix2pix's, which the paper cites): G_A, G_B unet_32_dropout (ngf 1,
batch norm, dropout 0.5 on the 3 levels outside the innermost, masks recorded as draws); D_A, D_B the
70x70 PatchGAN (n_layers 3, ndf 1, batch norm) without a sigmoid. networks.init_weights('normal',
0.02). One batch of 1 unpaired 32x32 image per domain (the reference's batch_size 1), used by both
iterations.

Per iteration, as run_optim: d_optim's sess.run computes A2B = G_A(u), B2A = G_B(v) (dropout drawn)
and d_loss = [mean D_A(A2B) - mean D_A(v)] + [mean D_B(B2A) - mean D_B(u)]; RMSProp step of both
critics, then clip_ops (every critic variable, batch-norm scales included, to [-c, c]). When the
iteration updates G, g_optim's sess.run recomputes the graph (G's dropout drawn anew):
A2B, B2A, A2B2A = G_B(A2B), B2A2B = G_A(B2A), g_loss = -mean D_A(A2B) - mean D_B(B2A)
+ lambda_B |B2A2B - v|_1 + lambda_A |A2B2A - u|_1 against the updated critics; RMSProp step of both
generators. RMSProp: PyTorch's rule with alpha 0.9 (TF's decay 0.9; TF starts the mean square at 1
and puts eps 1e-10 inside the square root: a documented difference, nets/dualgan.ts). lr 5e-5,
lambda 1000, c 0.01. (The TF code's per-image normalisation has no running statistics; here batch
norm's running statistics are compared too, in the engine's call order: real before fake.)

    /usr/bin/python3 scripts/golden/make_step_dualgan.py
"""
import torch

from stepgolden import StepGolden
from stepgolden_i2i import UnetGenerator, feed_dropout, init_weights, uniform_images
from make_net_goldens import NLayerDiscriminator

torch.manual_seed(2017)
n, s, ngf, ndf, LR, CLIP, LAMBDA, N_CRITIC, STEPS = 1, 32, 1, 1, 5e-5, 0.01, 1000.0, 2, 2

config = {'imageSize': s, 'inputNc': 3, 'outputNc': 3, 'netG': 'unet_32_dropout', 'netD': 'basic', 'ngf': ngf, 'ndf': ndf,
          'norm': 'batch', 'dropout': True, 'lambdaA': LAMBDA, 'lambdaB': LAMBDA, 'nCritic': N_CRITIC, 'clip': CLIP,
          'gp': False, 'rmsAlpha': 0.9}
g = StepGolden('dualgan', config=config, settings={'lr': LR, 'steps': STEPS, 'batch': n},
               notes="DualGAN run_optim x2, GAN_type wgan, n_critic 2 (critics; critics then generators), dropout masks fed")

G_A = UnetGenerator(3, 3, 5, ngf, 'batch', use_dropout=True, dropout_levels=3)
G_B = UnetGenerator(3, 3, 5, ngf, 'batch', use_dropout=True, dropout_levels=3)
D_A = NLayerDiscriminator(3, ndf, 3, 'batch')
D_B = NLayerDiscriminator(3, ndf, 3, 'batch')
for net in (G_A, G_B, D_A, D_B):
    init_weights(net)
    net.train()
feed_dropout(G_A, g, 'netG_A')
feed_dropout(G_B, g, 'netG_B')
nets = {'netG_A': G_A, 'netG_B': G_B, 'netD_A': D_A, 'netD_B': D_B}
g.init(nets)
opt = {k: torch.optim.RMSprop(v.parameters(), lr=LR, alpha=0.9) for k, v in nets.items()}

u = uniform_images(n, 3, s)  # domain A (U)
v = uniform_images(n, 3, s)  # domain B (V)
g.input('batch', torch.cat([u, v], 1))
for k in range(1, STEPS + 1):
    # d_optim
    A2B = G_A(u)
    B2A = G_B(v)
    Ad_real, Ad_fake = D_A(v).mean(), D_A(A2B.detach()).mean()
    Bd_real, Bd_fake = D_B(u).mean(), D_B(B2A.detach()).mean()
    Ad_loss = Ad_fake - Ad_real
    Bd_loss = Bd_fake - Bd_real
    for name in ('netD_A', 'netD_B'):
        opt[name].zero_grad()
    (Ad_loss + Bd_loss).backward()
    opt['netD_A'].step()
    opt['netD_B'].step()
    with torch.no_grad():  # clip_ops
        for p in list(D_A.parameters()) + list(D_B.parameters()):
            p.clamp_(-CLIP, CLIP)
    stats = {'loss_D_A': Ad_loss.item(), 'loss_D_B': Bd_loss.item(), 'wdist_A': (Ad_real - Ad_fake).item(),
             'wdist_B': (Bd_real - Bd_fake).item()}
    if k % N_CRITIC == 0:
        # g_optim: a fresh run of the graph
        for p in list(D_A.parameters()) + list(D_B.parameters()):
            p.requires_grad_(False)
        A2B = G_A(u)
        B2A = G_B(v)
        A2B2A = G_B(A2B)
        B2A2B = G_A(B2A)
        A_loss = (A2B2A - u).abs().mean()
        B_loss = (B2A2B - v).abs().mean()
        Ag = -D_A(A2B).mean()
        Bg = -D_B(B2A).mean()
        for name in ('netG_A', 'netG_B'):
            opt[name].zero_grad()
        (Ag + Bg + LAMBDA * A_loss + LAMBDA * B_loss).backward()
        opt['netG_A'].step()
        opt['netG_B'].step()
        for p in list(D_A.parameters()) + list(D_B.parameters()):
            p.requires_grad_(True)
        stats.update({'loss_G_A': Ag.item(), 'loss_G_B': Bg.item(), 'loss_rec_A': (LAMBDA * A_loss).item(),
                      'loss_rec_B': (LAMBDA * B_loss).item()})
    g.after(k, nets, stats)
g.write()
