#!/usr/bin/env python3
"""Step goldens for GMAN (tests/golden/steps/gman_*.safetensors).

A transcription of the training step of the authors' code, github.com/iDurugkar/GMAN (GMAN.py,
helper.py, models.py), with our networks' structure (nets/gman.ts: DCGAN G, the reference's
conv3-conv3-conv3-linear D with dropout after the first two convolutions):
  - z ~ U[-1, 1] (tf.random_uniform), N B noise vectors; fake = G(z) split into N batches of B, one
    per discriminator (fake_split); with diversity 'dropout' all Ds see one batch of B fakes (the
    reference's boosting variants pass [fake] * N). Every D sees the real batch (the reference feeds
    N B reals and splits them; our loop supplies one batch, shared).
  - D's probabilities squashed: helper.sigmoid(l) = 0.98 sigmoid(l) + 0.01.
  - D_loss_i = mean(-log D_i(x) - log(1 - D_i(G(z)))); G_losses_i = mean(log(1 - D_i(G(z)))) for the
    original objective (sign -1), mean(-log D_i(G(z))) for the modified one (sign +1).
  - G_loss = mix_prediction(G_losses, lambda, mean_typ, sign): weights exp(lambda V) (ones at
    lambda = 0); arithmetic sum(w V) / sum(w); geometric sign exp(weighted mean of log(sign V));
    harmonic mn + 1 / weighted mean of 1 / (V - mn) with mn = min(V) - 0.001.
    Our 'arithmetic' is the reference's arithmetic at lambda 0, 'softmax' its arithmetic at lambda.
  - One sess.run of every optimiser (all_opt): every gradient from the same forward pass (same
    dropout masks, weights before the step), then every Adam(lr, beta1 0.5) steps: a simultaneous
    update. Dropout (tf.nn.dropout, keep 0.4 + 0.2 (i + 1) / N: base_prob 0.4, delta_p (0.6 - 0.4) / N) masks are recorded draws.
  - GMAN* (the paper, section on automating lambda; the reference's self_learnt lambda is never
    trained, it is not among G_vars): G_loss - 0.001 lambda minimised over lambda too, with its own
    Adam (G's settings), lambda projected to >= 0 after each step.
The reference uses one TF Adam object for all N discriminators' minimize ops, whose shared beta1/beta2
power accumulators advance N times per step; we give each D parameter standard Adam bias
correction (PyTorch's Adam over all Ds), as nets/gman.ts does.

Shapes: 8x8, nc 1, nz 5, ngf 4, ndf 3, N 3 discriminators, batch B = 3. Each D's final linear layer
is scaled up (and given a bias) so the per-D losses differ and the combinations are told apart.

    /usr/bin/python3 scripts/golden/make_step_gman.py
"""
import math

import torch
import torch.nn as nn

from stepgolden import StepGolden
from step_generative_nets import DcganG, dcgan_init

size, nc, nz, ngf, ndf, N, B = 8, 1, 5, 4, 3, 3, 3
LR, B1, B2 = 2e-4, 0.5, 0.999
CLIP, SF, REWARD = 0.01, 1e-3, 0.001


def keep_prob(i, n):
    return 0.4 + 0.2 * (i + 1) / n  # GMAN.py: base_prob 0.4, delta_p = (0.6 - base_prob) / N


class GmanD(nn.Module):
    def __init__(self, dropout):
        super().__init__()
        side = math.ceil(math.ceil(size / 2) / 2)
        drop = [nn.Dropout()] if dropout else []  # placeholders (state-free): masks are applied by hand
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 3, 2, 1), nn.LeakyReLU(0.2), *drop,
            nn.Conv2d(ndf, ndf * 2, 3, 2, 1), nn.LeakyReLU(0.2), *drop,
            nn.Conv2d(ndf * 2, ndf * 4, 3, 1, 1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(ndf * 4 * side * side, 1))

    def forward(self, x, masks):
        h = x
        for layer in self.main:
            h = h * masks.pop(0) if isinstance(layer, nn.Dropout) else layer(h)
        return h.reshape(-1)


class Mixer(nn.Module):
    def __init__(self, init):
        super().__init__()
        self.register_parameter('lambda', nn.Parameter(torch.tensor(init)))


def squash(l):
    return (1 - 2 * CLIP) * torch.sigmoid(l) + CLIP


def mix_prediction(losses, lam, mean_typ, sign):
    weights = torch.exp(lam * losses)
    wmean = lambda w, x: (w * x).sum() / w.sum()
    if mean_typ == 'arithmetic':
        return wmean(weights, losses)
    if mean_typ == 'geometric':
        return sign * torch.exp(wmean(weights, torch.log(sign * losses)))
    mn = losses.min() - SF
    return mn + 1 / wmean(weights, 1 / (losses - mn))


def make(name, combine, diversity, objective, lam, learn, steps, seed):
    torch.manual_seed(seed)
    use_dropout = diversity != 'split'
    own = diversity != 'dropout'
    G = DcganG(size, nz, ngf, nc)
    G.apply(dcgan_init)
    Ds = nn.ModuleList([GmanD(use_dropout) for _ in range(N)])
    Ds.apply(dcgan_init)
    with torch.no_grad():
        for i, d in enumerate(Ds):
            d.main[-1].weight.mul_(40 * (i + 1))
            d.main[-1].bias.uniform_(-0.5, 0.5)
    nets = {'netG': G, 'netD': Ds}
    mixer = Mixer(lam) if learn else None
    if mixer:
        nets['mixer'] = mixer
    optD = torch.optim.Adam(Ds.parameters(), lr=LR, betas=(B1, B2))
    optG = torch.optim.Adam(G.parameters(), lr=LR, betas=(B1, B2))
    optL = torch.optim.Adam(mixer.parameters(), lr=LR, betas=(B1, B2)) if mixer else None
    sign = -1.0 if objective == 'original' else 1.0
    g = StepGolden(name, config={'imageSize': size, 'nc': nc, 'nz': nz, 'ngf': ngf, 'ndf': ndf, 'n': N, 'combine': combine,
                                 'lambda': lam, 'learnLambda': learn, 'diversity': diversity, 'objective': objective,
                                 'dClip': CLIP},
                   settings={'lr': LR, 'beta1': B1, 'beta2': B2, 'batch': B},
                   notes=f'iDurugkar/GMAN step: {combine}, {diversity}, {objective}, lambda {lam}, learn {learn}, {steps} steps')
    g.init(nets)
    real = g.input('real', torch.rand(B, nc, size, size) * 2 - 1)

    def masks(i, n):
        if not use_dropout:
            return []
        kp = keep_prob(i, N)
        shapes = [(n, ndf, size // 2, size // 2), (n, ndf * 2, size // 4, size // 4)]
        return [g.draw(f'mask{i}', (torch.rand(s) < kp).float() / kp) for s in shapes]

    for k in range(1, steps + 1):
        u = g.draw(f'z{k}', torch.rand(N * B if own else B, nz, 1, 1))
        fake = G(u * 2 - 1)
        lf = [d(fake[i * B:(i + 1) * B] if own else fake, masks(i, B)) for i, d in enumerate(Ds)]
        lr_ = [d(real, masks(i, B)) for i, d in enumerate(Ds)]
        d_losses = [(-torch.log(squash(lr_[i])) - torch.log(1 - squash(lf[i]))).mean() for i in range(N)]
        if objective == 'original':
            v = torch.stack([torch.log(1 - squash(l)).mean() for l in lf])
        else:
            v = torch.stack([(-torch.log(squash(l))).mean() for l in lf])
        used = getattr(mixer, 'lambda') if mixer else torch.tensor(0.0 if combine == 'arithmetic' else lam)
        mean_typ = 'arithmetic' if combine in ('arithmetic', 'softmax') else combine
        loss_g = mix_prediction(v, used, mean_typ, sign)
        if mixer:
            loss_g = loss_g - REWARD * getattr(mixer, 'lambda')
        loss_d = sum(d_losses)
        d_params = list(Ds.parameters())
        g_params = list(G.parameters()) + (list(mixer.parameters()) if mixer else [])
        gd = torch.autograd.grad(loss_d, d_params, retain_graph=True)
        gg = torch.autograd.grad(loss_g, g_params)
        for p, gr in zip(d_params + g_params, list(gd) + list(gg)):
            p.grad = gr
        g.grads(k, nets)
        optD.step()
        optG.step()
        if mixer:
            optL.step()
            with torch.no_grad():
                getattr(mixer, 'lambda').clamp_(min=0)
        stats = {'lossD': loss_d.item() / N, 'lossG': loss_g.item()}
        for i in range(N):
            stats[f'lossD_{i}'] = d_losses[i].item()
            stats[f'V_{i}'] = v[i].item()
        if mixer:
            stats['lambda'] = getattr(mixer, 'lambda').item()
        g.after(k, nets, stats)
    g.write()


make('gman_arithmetic', 'arithmetic', 'both', 'original', 1.0, False, 1, 21)
make('gman_geometric', 'geometric', 'both', 'modified', 0.7, False, 1, 22)
make('gman_harmonic', 'harmonic', 'split', 'original', 1.0, False, 1, 23)
make('gman_softmax', 'softmax', 'dropout', 'original', 2.0, False, 1, 24)
make('gman_star', 'softmax', 'both', 'original', 0.5, True, 3, 25)
