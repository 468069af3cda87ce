#!/usr/bin/env python3
"""Step golden for StarGAN (tests/golden/steps/stargan.safetensors): two iterations of yunjey/stargan
solver.py train() (single dataset, RaFD-style one label per image: softmax cross-entropy) with
n_critic 2, so iteration 1 is a D step only and iteration 2 a D step and then a G step.

Networks: model.py's Generator (conv_dim 2, c_dim 3, 1 residual block) and Discriminator (16 px,
conv_dim 2, repeat_num 2), imported from make_stargan_goldens.py; PyTorch's default initialisation
(the reference has no init of its own). Batch: 3 images 16x16 with domains 0, 2, 1, in the engine's
packed layout (RGB, then one plane per domain, the image's own plane all ones).

Per iteration, as solver.py: rand_idx = torch.randperm(N) (a draw), label_trg = label_org[rand_idx];
the data loader's RandomHorizontalFlip as a per-image coin (a draw, 0 or 1; the engine flips in the
step, before anything else); D: -mean D_src(x) + mean D_src(G(x, c_trg).detach()) + lambda_cls CE +
lambda_gp gradient_penalty(x_hat), alpha ~ U(0, 1) per image (a draw), x_hat = alpha x + (1 - alpha)
x_fake; Adam(lr, (0.5, 0.999)). Every n_critic-th iteration ((i + 1) % n_critic == 0): G on
-mean D_src(G(x, c_trg)) + lambda_rec |x - G(G(x, c_trg), c_org)|_1 + lambda_cls CE(D_cls, trg)
against the updated D. lambda_cls 1, lambda_rec 10, lambda_gp 10.
The learning rates decay as solver.py's: after iteration i, if (i + 1) % lr_update_step == 0 and
i + 1 > num_iters - num_iters_decay, g_lr -= g_lr0 / num_iters_decay (and d_lr). With num_iters 2,
num_iters_decay 2, lr_update_step 1 the second iteration runs at half the rate.

    /usr/bin/python3 scripts/golden/make_step_stargan.py
"""
import torch
import torch.nn.functional as F

from stepgolden import StepGolden
from make_stargan_goldens import Discriminator, Generator

torch.manual_seed(2018)
n, s, c_dim, LR = 3, 16, 3, 1e-4
N_CRITIC, STEPS, DECAY, EVERY = 2, 2, 2, 1
LAMBDA_CLS, LAMBDA_REC, LAMBDA_GP = 1.0, 10.0, 10.0

config = {'imageSize': s, 'cDim': c_dim, 'gConvDim': 2, 'dConvDim': 2, 'gRepeatNum': 1, 'dRepeatNum': 2,
          'lambdaCls': LAMBDA_CLS, 'lambdaRec': LAMBDA_REC, 'lambdaGp': LAMBDA_GP, 'nCritic': N_CRITIC, 'clsLoss': 'ce',
          'numItersDecay': DECAY, 'lrUpdateStep': EVERY, 'flip': True}
g = StepGolden('stargan', config=config, settings={'lr': LR, 'beta1': 0.5, 'beta2': 0.999, 'steps': STEPS, 'batch': n},
               notes='solver.py train() x2 with n_critic 2 (D; D then G), randperm/flip/alpha fed, lr decay')

G = Generator(2, c_dim, 1)
D = Discriminator(s, 2, c_dim, 2)
G.train()
D.train()
nets = {'netG': G, 'netD': D}
g.init(nets)
g_optimizer = torch.optim.Adam(G.parameters(), LR, [0.5, 0.999])
d_optimizer = torch.optim.Adam(D.parameters(), LR, [0.5, 0.999])
g_lr = d_lr = LR


def gradient_penalty(y, x):
    weight = torch.ones(y.size())
    dydx = torch.autograd.grad(outputs=y, inputs=x, grad_outputs=weight, retain_graph=True, create_graph=True, only_inputs=True)[0]
    dydx = dydx.view(dydx.size(0), -1)
    dydx_l2norm = torch.sqrt(torch.sum(dydx ** 2, dim=1))
    return torch.mean((dydx_l2norm - 1) ** 2)


images = torch.rand(n, 3, s, s) * 2 - 1
label_org = torch.tensor([0, 2, 1])
onehot = F.one_hot(label_org, c_dim).float()
g.input('batch', torch.cat([images, onehot.view(n, c_dim, 1, 1).repeat(1, 1, s, s)], 1))

for i in range(STEPS):
    rand_idx = g.draw(f'rand_idx{i + 1}', torch.randperm(n)).long()
    flip = g.draw(f'flip{i + 1}', (torch.rand(n, 1, 1, 1) < 0.5).float())
    x_real = flip * images.flip(3) + (1 - flip) * images  # RandomHorizontalFlip, per image
    label_trg = label_org[rand_idx]
    c_org = F.one_hot(label_org, c_dim).float()
    c_trg = F.one_hot(label_trg, c_dim).float()
    # 2. Train the discriminator
    out_src, out_cls = D(x_real)
    d_loss_real = -torch.mean(out_src)
    d_loss_cls = F.cross_entropy(out_cls, label_org)
    x_fake = G(x_real, c_trg)
    out_src, out_cls = D(x_fake.detach())
    d_loss_fake = torch.mean(out_src)
    alpha = g.draw(f'alpha{i + 1}', torch.rand(x_real.size(0), 1, 1, 1))
    x_hat = (alpha * x_real.data + (1 - alpha) * x_fake.data).requires_grad_(True)
    out_src, _ = D(x_hat)
    d_loss_gp = gradient_penalty(out_src, x_hat)
    d_loss = d_loss_real + d_loss_fake + LAMBDA_CLS * d_loss_cls + LAMBDA_GP * d_loss_gp
    g_optimizer.zero_grad()
    d_optimizer.zero_grad()
    d_loss.backward()
    g.grads(i + 1, {'netD': D})
    d_optimizer.step()
    stats = {'loss_D_real': d_loss_real.item(), 'loss_D_fake': d_loss_fake.item(), 'loss_D_cls': d_loss_cls.item(),
             'loss_D_gp': d_loss_gp.item()}
    # 3. Train the generator
    if (i + 1) % N_CRITIC == 0:
        x_fake = G(x_real, c_trg)
        out_src, out_cls = D(x_fake)
        g_loss_fake = -torch.mean(out_src)
        g_loss_cls = F.cross_entropy(out_cls, label_trg)
        x_reconst = G(x_fake, c_org)
        g_loss_rec = torch.mean(torch.abs(x_real - x_reconst))
        g_loss = g_loss_fake + LAMBDA_REC * g_loss_rec + LAMBDA_CLS * g_loss_cls
        g_optimizer.zero_grad()
        d_optimizer.zero_grad()
        g_loss.backward()
        # The centre taps of main.0 on the label planes meet a per-image constant that instance norm
        # removes: their gradients are float32 noise (zero in exact arithmetic).
        g.grads(i + 1, {'netG': G})
        g_optimizer.step()
        stats.update({'loss_G_fake': g_loss_fake.item(), 'loss_G_rec': g_loss_rec.item(), 'loss_G_cls': g_loss_cls.item()})
    # Decay learning rates.
    if (i + 1) % EVERY == 0 and (i + 1) > (STEPS - DECAY):
        g_lr -= LR / float(DECAY)
        d_lr -= LR / float(DECAY)
        for p in g_optimizer.param_groups:
            p['lr'] = g_lr
        for p in d_optimizer.param_groups:
            p['lr'] = d_lr
    g.after(i + 1, nets, stats)
g.write()
