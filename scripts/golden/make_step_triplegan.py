#!/usr/bin/env python3
"""Step goldens for Triple-GAN (tests/golden/steps/triplegan_paper.safetensors, triplegan_code.safetensors).

A PyTorch transcription of one iteration of the game as the paper's Algorithm 1 and the authors' code
(zhenxuan00/triple-gan, x2y_yz2x_xy2p_ssl_mnist.py, objective_flag 'argmax') define it, on networks
of nets/triplegan.ts's structure (C: conv5 valid, pool, dropout, conv3 same, conv3 valid, pool,
dropout, conv3 same x 2, BN+ReLU after each conv, global mean, dense; G: label-concatenating MLP with
softplus BN; D: label-concatenating MLP with Gaussian noise 0.3 / 0.5 and LeakyReLU 0.2), tiny:
12x12 images, 3 classes, cw 2, nz 4, 8 G hidden units, D widths 16-8-8-8-8.

Three iterations: step 1 is C's supervised warm-up (CE on the labelled batch only), steps 2 and 3 the
game, R_P (alpha_P CE(C(G(z, y_g)), y_g)) switched on at step 3:
  D: BCE(D(x_l, y_l), 1) + alpha BCE(D(x_u, y_c), 0) + (1 - alpha) BCE(D(G(z, y_g), y_g), 0), y_c the
     argmax of C(x_u)                                          (the code's dis_cost; alpha = 1/2)
  G: (1 - alpha) BCE(D(G(z, y_g), y_g), 1) against the updated D  (gen_cost)
  C: alpha mean(p_c(y_c | x_u) A) + CE(C(x_l), y_l) [+ alpha_P R_P] against the updated D, with
       A = log(1 - D(x_u, y_c))       ('paper': Algorithm 1, Eq. for C's gradient)
       A = BCE(D(x_u, y_c), 1)        ('code': cla_cost_p_c of the Theano code)
     the gradient reaching C through p_c only (D's input label is C's argmax).
The labelled set is the whole 3-image labelled input (one per class, as selectLabelled returns it);
each step's labelled batch, G's labels, z, D's noise and C's dropout masks are recorded draws in the
engine's order (the engine is fed them). Not transcribed (the engine leaves them out on purpose, see
nets/triplegan.ts and docs/cascade.md): the code's extra "real" pairs (x_u_d, C's label), its entropy
and weight-decay terms on C, parameter averaging, and fresh z / C forwards for each player.

    /usr/bin/python3 scripts/golden/make_step_triplegan.py
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from stepgolden import StepGolden

S, NC, K, CW, NZ, NGH, NDH = 12, 1, 3, 2, 4, 8, 16
N, M = 4, 3  # unlabelled batch, labelled batch
ALPHA, ALPHA_P, LR = 0.3, 0.1, 1e-3  # alpha 0.3 (the paper: 1/2) so that swapping alpha and 1 - alpha shows


class Noop(nn.Module):
    def forward(self, x):
        return x


class C(nn.Module):
    def __init__(self):
        super().__init__()
        w = CW

        def block(cin, cout, k, pad):
            return [nn.Conv2d(cin, cout, k, padding=pad, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
        # indices as the engine's Sequential (pool and dropout hold no parameters)
        self.features = nn.Sequential(*block(NC, w, 5, 0), Noop(), Noop(), *block(w, 2 * w, 3, 1), *block(2 * w, 2 * w, 3, 0),
                                      Noop(), Noop(), *block(2 * w, 4 * w, 3, 1), *block(4 * w, 4 * w, 3, 1))
        self.fc = nn.Linear(4 * w, K)

    def forward(self, x, masks):
        f = self.features
        h = x
        for i in range(0, 3):
            h = f[i](h)
        h = F.max_pool2d(h, 2) * masks[0]
        for i in range(5, 11):
            h = f[i](h)
        h = F.max_pool2d(h, 2) * masks[1]
        for i in range(13, 19):
            h = f[i](h)
        return self.fc(h.mean((2, 3)))

    def mask_shapes(self, n):
        s1 = (S - 4) // 2
        s2 = (s1 - 2) // 2
        return [(n, CW, s1, s1), (n, 2 * CW, s2, s2)]


class LL(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.fc = nn.Linear(i + K, o)

    def forward(self, h, y):
        return self.fc(torch.cat([h, y], 1))


class G(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1, self.bn1 = LL(NZ, NGH), nn.BatchNorm1d(NGH)
        self.l2, self.bn2 = LL(NGH, NGH), nn.BatchNorm1d(NGH)
        self.out = LL(NGH, NC * S * S)

    def forward(self, z, y):
        h = F.softplus(self.bn1(self.l1(z, y)))
        h = F.softplus(self.bn2(self.l2(h, y)))
        return torch.tanh(self.out(h, y)).view(-1, NC, S, S)


WIDTHS = [max(8, v) for v in (NDH, NDH >> 1, NDH >> 2, NDH >> 2, NDH >> 2)]


class D(nn.Module):
    def __init__(self):
        super().__init__()
        ls, i = [], NC * S * S
        for w in WIDTHS:
            ls.append(LL(i, w))
            i = w
        self.layers = nn.Sequential(*ls)
        self.out = LL(i, 1)

    def forward(self, x, y, noise):
        h = x.flatten(1) + noise[0]
        for j, l in enumerate(self.layers):
            h = F.leaky_relu(l(h, y), 0.2) + noise[j + 1]
        return self.out(h, y).view(-1)


def make(mode):
    torch.manual_seed(11)
    netG, netD, netC = G(), D(), C()
    with torch.no_grad():  # non-default BN affine values, so a wrong BN would show
        for m in list(netG.modules()) + list(netC.modules()):
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.weight.normal_(1, 0.1)
                m.bias.normal_(0, 0.1)
    nets = {'netG': netG, 'netD': netD, 'netC': netC}
    opt = {k: torch.optim.Adam(m.parameters(), lr=LR, betas=(0.5, 0.999)) for k, m in nets.items()}
    g = StepGolden(f'triplegan_{mode}', config={
        'imageSize': S, 'nc': NC, 'numClasses': K, 'nz': NZ, 'ngh': NGH, 'ndh': NDH, 'cw': CW, 'alpha': ALPHA, 'alphaP': ALPHA_P,
        'rpStart': 2, 'warmupSteps': 1, 'perClass': 1, 'labelSeed': 1, 'labelledBatch': M, 'supervisedOnly': False, 'classifierAdv': mode,
    }, settings={'lr': LR, 'beta1': 0.5, 'beta2': 0.999, 'batch': N},
        notes=f'Triple-GAN, warm-up step then 2 game steps (R_P from step 3), classifier term {mode}')
    g.init(nets)
    lab_x = g.input('labelled_images', torch.rand(K, NC, S, S) * 2 - 1)
    lab_y = g.input('labelled_labels', torch.arange(K).float()).long()
    def masks(n, tag):
        return [g.draw(f'{tag} dropout {i}', (torch.rand(sh) >= 0.5).float() * 2) for i, sh in enumerate(netC.mask_shapes(n))]

    def dnoise(n, tag):
        shapes = [NC * S * S] + WIDTHS
        return [g.draw(f'{tag} noise {i}', torch.randn(n, w) * (0.3 if i == 0 else 0.5)) for i, w in enumerate(shapes)]

    for k in (1, 2, 3):
        real = g.input(f'real{k}', torch.rand(N, NC, S, S) * 2 - 1)
        idx = g.draw('labelled batch', torch.randint(0, K, (M,)).float()).long()
        xl, yl = lab_x[idx], lab_y[idx]
        logits_l = netC(xl, masks(M, 'C(x_l)'))
        ce = F.cross_entropy(logits_l, yl)
        stats = {}
        if k == 1:
            for o in opt.values():
                o.zero_grad()
            ce.backward()
            opt['netC'].step()
            stats = {'lossC': ce.item(), 'lossCE': ce.item()}
            g.after(k, nets, stats)
            continue
        probs_u = F.softmax(netC(real, masks(N, 'C(x_u)')), 1)
        yc = probs_u.detach().argmax(1)
        yc_hot = F.one_hot(yc, K).float()
        p = probs_u.max(1).values
        yg = g.draw('G labels', torch.randint(0, K, (N,)).float()).long()
        yg_hot = F.one_hot(yg, K).float()
        z = g.draw('z', torch.randn(N, NZ))
        fake = netG(z, yg_hot)
        yl_hot = F.one_hot(yl, K).float()
        d_real = netD(xl, yl_hot, dnoise(M, 'D(x_l)'))
        d_c = netD(real, yc_hot, dnoise(N, 'D(x_u)'))
        d_fake = netD(fake.detach(), yg_hot, dnoise(N, 'D(G)'))
        lossD = (F.binary_cross_entropy_with_logits(d_real, torch.ones(M)) + ALPHA * F.binary_cross_entropy_with_logits(d_c, torch.zeros(N))
                 + (1 - ALPHA) * F.binary_cross_entropy_with_logits(d_fake, torch.zeros(N)))
        opt['netD'].zero_grad()
        lossD.backward()
        opt['netD'].step()
        lossG = (1 - ALPHA) * F.binary_cross_entropy_with_logits(netD(fake, yg_hot, dnoise(N, 'D(G) for G')), torch.ones(N))
        opt['netG'].zero_grad()
        lossG.backward()
        g.grads(k, {'netG': netG})  # G's linear biases before BatchNorm1d: float-noise gradients (Adam's +-lr)
        opt['netG'].step()
        with torch.no_grad():
            d_now = netD(real, yc_hot, dnoise(N, 'D(x_u) for C'))
        if mode == 'paper':
            adv = ALPHA * (p * F.logsigmoid(-d_now)).mean()      # p log(1 - D)
        else:
            adv = ALPHA * (p * -F.logsigmoid(d_now)).mean()      # p BCE(D, 1)
        lossC = adv + ce
        if k >= 3:
            rp = F.cross_entropy(netC(fake.detach(), masks(N, 'C(G)')), yg)
            lossC = lossC + ALPHA_P * rp
            stats['lossRP'] = rp.item()
        opt['netC'].zero_grad()
        lossC.backward()
        opt['netC'].step()
        stats.update({'lossD': lossD.item(), 'lossG': lossG.item(), 'lossC': lossC.item(), 'lossCE': ce.item(), 'lossCadv': adv.item(),
                      'D_x': torch.sigmoid(d_real).mean().item(), 'D_c': torch.sigmoid(d_c).mean().item(),
                      'D_G_z': torch.sigmoid(d_fake).mean().item()})
        g.after(k, nets, stats)
    g.write()


make('paper')
make('code')
