#!/usr/bin/env python3
"""Step goldens for StackGAN Stage-I and Stage-II and StackGAN++ (conditional and unconditional):
tests/golden/steps/stackgan_stage1, stackgan_stage2, stackganpp_cond, stackganpp_uncond.

StackGAN (v1): the training loop of the TF reference, hanzhanggit/StackGAN stageI/trainer.py and
stageII/trainer.py, on networks of nets/stackgan.ts's structure (tiny). Per iteration:
  D step (one sess.run of the graph): z and eps drawn, fake = G(z, c) (Stage-II: G2(G1(z, c1), c)
  with Stage-I frozen), d_loss = BCE(D(x, phi), 1) + (BCE(D(x, phi_wrong), 0) + BCE(D(fake, phi), 0)) / 2
  G step (a second sess.run: fresh z and eps): g_loss = BCE(D(G(z, c), phi), 1) + COEFF.KL * KL_loss,
  KL_loss = mean(-log sigma + (-1 + sigma^2 + mu^2) / 2) (= the mean of -0.5 (1 + logvar - mu^2 -
  e^logvar)), COEFF.KL = 2 (the configs), against the updated D.
  CA as the TF code's generate_condition: leaky_rectify(0.2) of one fully connected layer, split into
  (mean, log sigma); c = mean + exp(log sigma) * eps (here logvar = 2 log sigma).
  Stage-I trains on the batch area-averaged 4x (the TF code loads 64 px copies); the wrong pair is
  (real image, another caption of the batch: the next one with a different text), the engine's
  convention (StackGAN-Pytorch: real_features[:-1] with cond[1:]; TF: wrong images).

StackGAN++ (v2): hanzhanggit/StackGAN-v2 code/trainer.py, condGANTrainer (B_CONDITION True, birds
config: UNCOND_LOSS 1, COLOR_LOSS 0, KL 2) and GANTrainer (unconditional, COLOR_LOSS 50), one
iteration = one G forward, every branch's D step on it (detached), then G's step against the
updated Ds:
  cond D_i:   [BCE(D_i(x, phi), 1) + u BCE(D_i^u(x), 1)] + [BCE(D_i(x, phi_wrong), 0) + u BCE(D_i^u(x), 1)]
            + [BCE(D_i(s_i, phi), 0) + u BCE(D_i^u(s_i), 0)]
  uncond D_i: BCE(D_i(x), 1) + BCE(D_i(s_i), 0)
  G: sum_i [BCE(D_i(s_i, phi), 1) + u BCE(D_i^u(s_i), 1)] + KL * KL_loss        (cond)
     sum_i BCE(D_i(s_i), 1) + alpha sum_{i>0} [MSE(mu_i, mu_{i-1}) + 5 MSE(Sigma_i, Sigma_{i-1})]
     with the coarser image detached, alpha = COLOR_LOSS = 50                   (uncond)
  (one Adam per D in the reference; the Ds are disjoint, so one Adam over all is the same).
  The engine's differences kept (nets/stackgan.ts, nets/stackganpp.ts): D's condition is phi compressed by Linear +
  LeakyReLU (the reference: mu), the wrong pair (real image, mismatched caption), the reals of the
  coarser branches area-averaged from the finest.
The text encoder (bag of words -> Linear, ReLU, Linear, unit length) is frozen (pretrained, as
StackGAN's char-CNN-RNN); the batch indices, z and eps are recorded draws in the engine's order.

    /usr/bin/python3 scripts/golden/make_step_stackgan.py
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from stepgolden import StepGolden

LR = 2e-4
N = 3


def hash_token(word, buckets):  # FNV-1a over UTF-16 code units (ASCII here), as data/text.ts
    h = 0x811c9dc5
    for ch in word:
        h = ((h ^ ord(ch)) * 0x01000193) & 0xffffffff
    return h % buckets


def bag_of_words(tokens, buckets):
    v = torch.zeros(buckets)
    distinct = list(dict.fromkeys(tokens))
    for t in distinct:
        v[hash_token(t, buckets)] += 1 / math.sqrt(len(distinct))
    return v


def mismatch(keys):  # data/text.ts mismatchIndices
    n = len(keys)
    out = []
    for i in range(n):
        j = (i + 1) % n
        step = 1
        while step < n and keys[j] == keys[i]:
            j = (i + 1 + step) % n
            step += 1
        out.append(j if keys[j] != keys[i] else (i + 1) % n)
    return out


TOKENS = [['red', 'apple'], ['green', 'leaf'], ['blue', 'fish'], ['sun']]


class TextEncoder(nn.Module):
    def __init__(self, B, H, E):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(B, H), nn.ReLU(), nn.Linear(H, E))

    def forward(self, bow):
        x = self.main(bow)
        return x / torch.sqrt((x * x).sum(-1, keepdim=True) + 1e-8)


class CA(nn.Module):
    def __init__(self, E, c, slope):
        super().__init__()
        self.fc, self.c, self.slope = nn.Linear(E, 2 * c), c, slope

    def forward(self, phi, eps):
        h = self.fc(phi)
        if self.slope is not None:
            h = F.leaky_relu(h, self.slope)
        mu, logvar = h[:, :self.c], h[:, self.c:]
        return mu + torch.exp(logvar / 2) * eps, mu, logvar


def draw_batch(g, text, images, bows, keys, n):
    """The trainer's batch: n indices drawn with replacement (a fed draw), their images, and the text
    embeddings of their captions and of mismatched ones (data/text.ts mismatchIndices)."""
    idx = g.draw('batch indices', torch.randint(0, len(TOKENS), (n,)).float()).long().tolist()
    wrong = mismatch([keys[i] for i in idx])
    with torch.no_grad():
        phi = text(bows[idx])
        phi_w = text(bows[[idx[j] for j in wrong]])
    return idx, images[idx], phi, phi_w


def kl_loss(mu, logvar):
    return torch.mean(-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()))


def up_block(cin, cout):
    return nn.Sequential(nn.Upsample(scale_factor=2, mode='nearest'), nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class ResBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch), nn.ReLU(),
                                   nn.Conv2d(ch, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch))

    def forward(self, x):
        return F.relu(x + self.block(x))


def down_to_four(nc, size, width):
    layers, ch, i, s = [], nc, 0, size
    while s > 4:
        out = width << min(i, 3)
        layers.append(nn.Conv2d(ch, out, 4, stride=2, padding=1, bias=(i == 0)))
        if i > 0:
            layers.append(nn.BatchNorm2d(out))
        layers.append(nn.LeakyReLU(0.2))
        ch, i, s = out, i + 1, s // 2
    return nn.Sequential(*layers), ch


class CondLogit(nn.Module):
    def __init__(self, ch, E, nd):
        super().__init__()
        self.compress = nn.Sequential(nn.Linear(E, nd), nn.LeakyReLU(0.2))
        self.joint = nn.Sequential(nn.Conv2d(ch + nd, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch), nn.LeakyReLU(0.2))
        self.out = nn.Conv2d(ch, 1, 4, stride=4)

    def forward(self, f, phi):
        c = self.compress(phi)[:, :, None, None].expand(-1, -1, f.shape[2], f.shape[3])
        return self.out(self.joint(torch.cat([f, c], 1))).view(-1)


def perturb_bn(*nets):
    with torch.no_grad():
        for net in nets:
            for m in net.modules():
                if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                    m.weight.normal_(1, 0.1)
                    m.bias.normal_(0, 0.1)


def dataset(nc, size):
    images = torch.rand(len(TOKENS), nc, size, size) * 2 - 1
    return images


def bce(x, t):
    return F.binary_cross_entropy_with_logits(x, torch.full_like(x, float(t)))


# ---- StackGAN-v1 ---------------------------------------------------------------------------------------
V1 = dict(stage1Size=8, stage2Down=1, nc=1, nz=4, cDim=3, embedDim=6, buckets=16, textHidden=8, ngf=2, ndf=2, ngf2=4, ndf2=2,
          resBlocks=1, nd=3, klWeight=2, textSteps=0, imageWidth=4)


class Stage1G(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ch0 = c['ngf'] * 8
        self.ca = CA(c['embedDim'], c['cDim'], 0.2)
        self.fc = nn.Sequential(nn.Linear(c['nz'] + c['cDim'], self.ch0 * 16, bias=False), nn.BatchNorm1d(self.ch0 * 16), nn.ReLU())
        blocks, ch, s = [], self.ch0, 4
        while s < c['stage1Size']:
            out = max(1, ch >> 1)
            blocks.append(up_block(ch, out))
            ch, s = out, s * 2
        self.ups = nn.Sequential(*blocks)
        self.img = nn.Sequential(nn.Conv2d(ch, c['nc'], 3, padding=1), nn.Tanh())

    def forward(self, z, phi, eps):
        cc, mu, logvar = self.ca(phi, eps)
        h = self.fc(torch.cat([z, cc], 1)).view(z.shape[0], self.ch0, 4, 4)
        return self.img(self.ups(h)), mu, logvar


class Stage2G(nn.Module):
    def __init__(self, c):
        super().__init__()
        ch = c['ngf2']
        enc = [nn.Conv2d(c['nc'], ch, 3, padding=1), nn.ReLU()]
        for _ in range(c['stage2Down']):
            enc += [nn.Conv2d(ch, ch * 2, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(ch * 2), nn.ReLU()]
            ch *= 2
        self.encoder = nn.Sequential(*enc)
        self.ca = CA(c['embedDim'], c['cDim'], 0.2)
        self.joint = nn.Sequential(nn.Conv2d(ch + c['cDim'], ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch), nn.ReLU())
        self.residual = nn.Sequential(*[ResBlock(ch) for _ in range(c['resBlocks'])])
        ups = []
        for _ in range(c['stage2Down'] + 2):
            out = max(4, ch >> 1)
            ups.append(up_block(ch, out))
            ch = out
        self.ups = nn.Sequential(*ups)
        self.img = nn.Sequential(nn.Conv2d(ch, c['nc'], 3, padding=1), nn.Tanh())

    def forward(self, s1, phi, eps):
        cc, mu, logvar = self.ca(phi, eps)
        h = self.encoder(s1)
        j = self.joint(torch.cat([h, cc[:, :, None, None].expand(-1, -1, h.shape[2], h.shape[3])], 1))
        return self.img(self.ups(self.residual(j))), mu, logvar


class CondD(nn.Module):
    def __init__(self, nc, size, ndf, E, nd):
        super().__init__()
        self.features, ch = down_to_four(nc, size, ndf)
        self.logit = CondLogit(ch, E, nd)

    def forward(self, x, phi):
        return self.logit(self.features(x), phi)


class V1G(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.text = TextEncoder(c['buckets'], c['textHidden'], c['embedDim'])
        self.stage1, self.stage2 = Stage1G(c), Stage2G(c)


class V1D(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.stage1 = CondD(c['nc'], c['stage1Size'], c['ndf'], c['embedDim'], c['nd'])
        self.stage2 = CondD(c['nc'], 4 * c['stage1Size'], c['ndf2'], c['embedDim'], c['nd'])


def make_v1(stage, seed):
    torch.manual_seed(seed)
    c = dict(V1, stage1Steps=5 if stage == 1 else 0)
    netG, netD = V1G(c), V1D(c)
    perturb_bn(netG, netD)
    nets = {'netG': netG, 'netD': netD}
    gen = netG.stage1 if stage == 1 else netG.stage2
    D = netD.stage1 if stage == 1 else netD.stage2
    optG = torch.optim.Adam(gen.parameters(), lr=LR, betas=(0.5, 0.999))
    optD = torch.optim.Adam(D.parameters(), lr=LR, betas=(0.5, 0.999))
    g = StepGolden(f'stackgan_stage{stage}', config=c, settings={'lr': LR, 'beta1': 0.5, 'beta2': 0.999, 'batch': N, 'tokens': TOKENS},
                   notes=f'hanzhanggit/StackGAN (TF) stage{"I" * stage} trainer loop, 2 iterations')
    g.init(nets)
    images = g.input('images', dataset(c['nc'], 4 * c['stage1Size']))
    g.input('categories', torch.arange(len(TOKENS)).float())
    B = c['buckets']
    bows = torch.stack([bag_of_words(t, B) for t in TOKENS])
    keys = [' '.join(t) for t in TOKENS]
    nz, cd = c['nz'], c['cDim']

    def sample(phi):
        z = g.draw('z', torch.randn(N, nz))
        eps = g.draw('eps', torch.randn(N, cd))
        if stage == 1:
            return netG.stage1(z, phi, eps)
        eps1 = g.draw('eps Stage-I', torch.randn(N, cd))
        with torch.no_grad():
            s1 = netG.stage1(z, phi, eps1)[0]
        return netG.stage2(s1, phi, eps)

    for k in (1, 2):
        idx, x, phi, phi_w = draw_batch(g, netG.text, images, bows, keys, N)
        real = F.avg_pool2d(x, 4) if stage == 1 else x
        with torch.no_grad():
            fake_d = sample(phi)[0]
        r, w, f = D(real, phi), D(real, phi_w), D(fake_d, phi)
        lossD = bce(r, 1) + (bce(w, 0) + bce(f, 0)) / 2
        optD.zero_grad()
        lossD.backward()
        optD.step()
        img, mu, logvar = sample(phi)
        kl = kl_loss(mu, logvar)
        lossG = bce(D(img, phi), 1) + c['klWeight'] * kl
        optG.zero_grad()
        lossG.backward()
        optG.step()
        g.after(k, nets, {'lossD': lossD.item(), 'lossG': lossG.item(), 'KL': kl.item(), 'D_x': torch.sigmoid(r).mean().item(),
                          'D_wrong': torch.sigmoid(w).mean().item(), 'D_G_z': torch.sigmoid(f).mean().item()})
    g.write()


# ---- StackGAN++ ----------------------------------------------------------------------------------------
V2 = dict(baseSize=8, branches=2, nc=3, nz=4, cDim=3, embedDim=6, buckets=16, textHidden=8, ngf=8, ndf=4, resBlocks=1, nd=3,
          klWeight=2, colorWeight=50, colorWeightCond=0, colorMu=1, colorCov=5, uncondWeight=1, textSteps=0, imageWidth=4)


class NextStage(nn.Module):
    def __init__(self, ch, cond_dim, res):
        super().__init__()
        self.joint = nn.Sequential(nn.Conv2d(ch + cond_dim, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch), nn.ReLU())
        self.residual = nn.Sequential(*[ResBlock(ch) for _ in range(res)])
        self.up = up_block(ch, max(4, ch >> 1))

    def forward(self, h, cond):
        return self.up(self.residual(self.joint(torch.cat([h, cond[:, :, None, None].expand(-1, -1, h.shape[2], h.shape[3])], 1))))


class V2G(nn.Module):
    def __init__(self, c, conditional):
        super().__init__()
        self.c, self.conditional = c, conditional
        if conditional:
            self.text = TextEncoder(c['buckets'], c['textHidden'], c['embedDim'])
            self.ca = CA(c['embedDim'], c['cDim'], None)
        ups = int(math.log2(c['baseSize'] / 4))
        self.ch0 = c['ngf'] << ups
        in_dim = c['nz'] + (c['cDim'] if conditional else 0)
        self.fc = nn.Sequential(nn.Linear(in_dim, self.ch0 * 16, bias=False), nn.BatchNorm1d(self.ch0 * 16), nn.ReLU())
        blocks, ch = [], self.ch0
        for _ in range(ups):
            blocks.append(up_block(ch, ch >> 1))
            ch >>= 1
        self.base = nn.Sequential(*blocks)
        cond_dim = c['cDim'] if conditional else c['nz']
        nxt, heads = [], [nn.Sequential(nn.Conv2d(ch, c['nc'], 3, padding=1), nn.Tanh())]
        for _ in range(1, c['branches']):
            nxt.append(NextStage(ch, cond_dim, c['resBlocks']))
            ch = max(4, ch >> 1)
            heads.append(nn.Sequential(nn.Conv2d(ch, c['nc'], 3, padding=1), nn.Tanh()))
        self.branches = nn.ModuleList(nxt)
        self.images = nn.ModuleList(heads)

    def forward(self, z, eps=None, bow=None):
        cond, mu, logvar, fc_in = z, None, None, z
        if self.conditional:
            cond, mu, logvar = self.ca(self.text(bow), eps)
            fc_in = torch.cat([z, cond], 1)
        h = self.base(self.fc(fc_in).view(z.shape[0], self.ch0, 4, 4))
        imgs = [self.images[0](h)]
        for i in range(1, self.c['branches']):
            h = self.branches[i - 1](h, cond)
            imgs.append(self.images[i](h))
        return imgs, mu, logvar


class BranchD(nn.Module):
    def __init__(self, nc, size, ndf, cond):
        super().__init__()
        self.features, ch = down_to_four(nc, size, ndf)
        self.uncond = nn.Conv2d(ch, 1, 4, stride=4)
        if cond:
            self.cond = CondLogit(ch, cond[0], cond[1])


class V2D(nn.Module):
    def __init__(self, c, conditional):
        super().__init__()
        cond = (c['embedDim'], c['nd']) if conditional else None
        self.branches = nn.ModuleList([BranchD(c['nc'], c['baseSize'] << i, c['ndf'], cond) for i in range(c['branches'])])


def moments(img):  # the reference's compute_mean_covariance
    n, ch, h, w = img.shape
    mu = img.mean(2, keepdim=True).mean(3, keepdim=True)
    hat = (img - mu.expand_as(img)).view(n, ch, h * w)
    return mu, torch.bmm(hat, hat.transpose(1, 2)) / (h * w)


def make_v2(conditional, seed):
    torch.manual_seed(seed)
    c = dict(V2, conditional=conditional)
    netG, netD = V2G(c, conditional), V2D(c, conditional)
    perturb_bn(netG, netD)
    nets = {'netG': netG, 'netD': netD}
    optG = torch.optim.Adam([p for k, p in netG.named_parameters() if not k.startswith('text.')], lr=LR, betas=(0.5, 0.999))
    optD = torch.optim.Adam(netD.parameters(), lr=LR, betas=(0.5, 0.999))
    name = 'stackganpp_cond' if conditional else 'stackganpp_uncond'
    g = StepGolden(name, config=c, settings={'lr': LR, 'beta1': 0.5, 'beta2': 0.999, 'batch': N, 'tokens': TOKENS},
                   notes=f'hanzhanggit/StackGAN-v2 {"condGANTrainer" if conditional else "GANTrainer"} loop, 2 iterations')
    g.init(nets)
    finest = c['baseSize'] << (c['branches'] - 1)
    B, nz, cd, u = c['buckets'], c['nz'], c['cDim'], c['uncondWeight']
    if conditional:
        images = g.input('images', dataset(c['nc'], finest))
        g.input('categories', torch.arange(len(TOKENS)).float())
        bows = torch.stack([bag_of_words(t, B) for t in TOKENS])
        keys = [' '.join(t) for t in TOKENS]
    for k in (1, 2):
        if conditional:
            idx, x, phi, phi_w = draw_batch(g, netG.text, images, bows, keys, N)
            ze = g.draw('z | eps', torch.randn(N, nz + cd))
            fakes, mu, logvar = netG(ze[:, :nz], ze[:, nz:], bows[idx])
        else:
            x = g.input(f'real{k}', torch.rand(N, c['nc'], finest, finest) * 2 - 1)
            fakes, mu, logvar = netG(g.draw('z', torch.randn(N, nz)))
        reals = [x if i == c['branches'] - 1 else F.avg_pool2d(x, finest // (c['baseSize'] << i)) for i in range(c['branches'])]
        lossesD, rp, fp = [], [], []
        for i, D in enumerate(netD.branches):
            fr, ff = D.features(reals[i]), D.features(fakes[i].detach())
            ur, uf = D.uncond(fr).view(-1), D.uncond(ff).view(-1)
            rp.append(torch.sigmoid(ur))
            fp.append(torch.sigmoid(uf))
            if conditional:
                l = (bce(D.cond(fr, phi), 1) + u * bce(ur, 1)) + (bce(D.cond(fr, phi_w), 0) + u * bce(ur, 1)) + (bce(D.cond(ff, phi), 0) + u * bce(uf, 0))
            else:
                l = bce(ur, 1) + bce(uf, 0)
            lossesD.append(l)
        lossD = sum(lossesD)
        optD.zero_grad()
        lossD.backward()
        optD.step()
        lossG = 0
        for i, D in enumerate(netD.branches):
            f = D.features(fakes[i])
            lossG = lossG + (bce(D.cond(f, phi), 1) + u * bce(D.uncond(f).view(-1), 1) if conditional else bce(D.uncond(f).view(-1), 1))
        stats = {}
        if conditional:
            kl = kl_loss(mu, logvar)
            lossG = lossG + c['klWeight'] * kl
            stats['KL'] = kl.item()
        else:  # COLOR_LOSS: unconditional configs only
            color = 0
            for i in range(1, c['branches']):
                m1, c1 = moments(fakes[i])
                m2, c2 = moments(fakes[i - 1].detach())
                color = color + c['colorMu'] * F.mse_loss(m1, m2) + c['colorCov'] * F.mse_loss(c1, c2)
            lossG = lossG + c['colorWeight'] * color
            stats['color'] = color.item()
        optG.zero_grad()
        lossG.backward()
        optG.step()
        stats.update({'lossD': lossD.item(), 'lossG': lossG.item(), 'D_x': torch.cat(rp).mean().item(), 'D_G_z': torch.cat(fp).mean().item()})
        for i, l in enumerate(lossesD):
            stats[f'lossD_{i}'] = l.item()
        g.after(k, nets, stats)
    g.write()


make_v1(1, 21)
make_v1(2, 22)
make_v2(True, 23)
make_v2(False, 24)
