#!/usr/bin/env python3
"""Step goldens for BEGAN (tests/golden/steps/began*.safetensors): one training step of
carpedm20's BEGAN trainers (BEGAN-tensorflow trainer.py build_model/train, BEGAN-pytorch trainer.py
train), transcribed in PyTorch with nets/began.ts's network structure at a tiny size (imageSize 16,
nf 2, nz 4, batch 3), three steps per golden so the controller k_t and the rate schedule are checked.

The step, per the paper (section 3.4) and the references:
    z_D, z_G ~ U[-1, 1]^nz           (two draws, z_D first; --shared-z: one z serves both)
    L(v) = mean |v - D(v)|           (pixel-wise L1 of the autoencoder D)
    L_D = L(x) - k_t L(G(z_D))       gradient for D's weights only (G(z_D) detached)
    L_G = L(G(z_G))                  gradient for G's weights only
    both gradients from the same forward passes, then both Adam steps (betas 0.5, 0.999)
    k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z_G))), 0, 1)
    M_global = L(x) + |gamma L(x) - L(G(z_G))|
    the rate: BEGAN-tensorflow's schedule, after step s (0-based) with s % every == every - 1:
    lr <- max(lr / 2, floor * lr_0) (lr_update_step, lr_lower_boundary)
PyTorch's default layer init (seeded) with every weight (not bias) of G and D multiplied by 2: at
the default init this tiny D's Jacobian is so small that the part of G's gradient flowing back
through D is 3e-4 of it (G's gradient is nearly the direct -sign(D(f) - f) term), and G(z) barely
depends on z (L(G(z_D)) and L(G(z_G)) agree to 2e-4); with x2 the through-D part is a fifth of G's
gradient and the two fake losses differ by 4%, so a gradient through D's already-updated weights, or
a swapped z, shows far above float32 noise. The engine loads the same initial state (balance.k = k_0).

Goldens:
    began          k_0 = 0, the paper's lambda_k 0.001, gamma 0.5; rate halved after every step with
                   a floor of 0.3 lr_0 (so steps use lr_0, lr_0 / 2, 0.3 lr_0)
    began_k        k_0 = 0.5 (the k-weighted fake term matters from step 1), lambda_k 0.05,
                   gamma 0.7, constant rate
    began_sharedz  one z per step (BEGAN-tensorflow's single tf.random_uniform), k_0 = 0.3,
                   lambda_k 0.05

    /usr/bin/python3 scripts/golden/make_step_began.py
"""
import torch
import torch.nn as nn

from stepgolden import StepGolden

S, NC, NZ, NF, N = 16, 1, 4, 2, 3
LR = 1e-3  # large enough that three steps move every weight well past float32 noise
R = 1      # log2(16) - 3 upsampling levels
W_SCALE = 2.0  # initial weights x2 (see above)


def conv3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride, 1)


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        layers = [nn.Linear(NZ, NF * 8 * 8), nn.Unflatten(1, (NF, 8, 8))]
        for i in range(R + 1):
            layers += [conv3(NF, NF), nn.ELU(), conv3(NF, NF), nn.ELU()]
            if i < R:
                layers.append(nn.Upsample(scale_factor=2, mode='nearest'))
        layers.append(conv3(NF, NC))
        self.main = nn.Sequential(*layers)

    def forward(self, z):
        return self.main(z)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        layers = [conv3(NC, NF), nn.ELU()]
        for i in range(R + 1):
            ch = NF * (i + 1)
            layers += [conv3(NF if i == 0 else ch, ch), nn.ELU(), conv3(ch, ch), nn.ELU()]
            if i < R:
                layers += [conv3(ch, NF * (i + 2), 2), nn.ELU()]
        self.main = nn.Sequential(*layers)
        self.fc = nn.Linear(NF * (R + 1) * 8 * 8, NZ)

    def forward(self, x):
        return self.fc(torch.flatten(self.main(x), 1))


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.decoder = Decoder()

    def forward(self, x):
        return self.decoder(self.encoder(x))


class Balance(nn.Module):
    """k_t and the last M_global, the engine's `balance` buffers."""
    def __init__(self, k0):
        super().__init__()
        self.register_buffer('k', torch.tensor(k0, dtype=torch.float32))
        self.register_buffer('m_global', torch.tensor(0.0))


def l1(a, b):
    return (a - b).abs().mean()


def make(name, seed, k0, lambda_k, gamma, shared_z, every, floor, notes):
    torch.manual_seed(seed)
    G, D, bal = Decoder(), Discriminator(), Balance(k0)
    with torch.no_grad():
        for m in list(G.modules()) + list(D.modules()):
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.mul_(W_SCALE)
    nets = {'netG': G, 'netD': D, 'balance': bal}
    g_optim = torch.optim.Adam(G.parameters(), lr=LR, betas=(0.5, 0.999))
    d_optim = torch.optim.Adam(D.parameters(), lr=LR, betas=(0.5, 0.999))
    config = {'imageSize': S, 'nc': NC, 'nz': NZ, 'nf': NF, 'gamma': gamma, 'lambdaK': lambda_k,
              'sharedZ': shared_z, 'lrHalveEvery': every, 'lrFloor': floor}
    g = StepGolden(name, config=config, settings={'lr': LR, 'beta1': 0.5, 'beta2': 0.999, 'batch': N}, notes=notes)
    g.init(nets)
    x = g.input('real', torch.rand(N, NC, S, S) * 2 - 1)
    lr = LR
    for step in range(3):
        k_t = bal.k.clone()
        # the engine draws U[0, 1) and maps it to 2u - 1
        z_D = g.draw('z_D' if not shared_z else 'z', torch.rand(N, NZ)) * 2 - 1
        z_G = z_D if shared_z else g.draw('z_G', torch.rand(N, NZ)) * 2 - 1
        fake_G = G(z_G)
        fake_D = fake_G.detach() if shared_z else G(z_D).detach()
        d_loss_real = l1(D(x), x)
        d_loss_fake = l1(D(fake_D), fake_D)
        g_loss = l1(D(fake_G), fake_G)
        d_loss = d_loss_real - k_t * d_loss_fake
        # both gradients before either optimiser writes (var_list=D_var / G_var in the reference)
        gD = torch.autograd.grad(d_loss, list(D.parameters()))
        gG = torch.autograd.grad(g_loss, list(G.parameters()))
        for p, gr in zip(D.parameters(), gD):
            p.grad = gr
        for p, gr in zip(G.parameters(), gG):
            p.grad = gr
        g.grads(step + 1, {'netG': G, 'netD': D})
        d_optim.step()
        g_optim.step()
        with torch.no_grad():
            balance = gamma * d_loss_real - g_loss
            bal.k.copy_(torch.clamp(bal.k + lambda_k * balance, 0, 1))
            bal.m_global.copy_(d_loss_real + balance.abs())
        g.after(step + 1, nets, {
            'lossD': d_loss.item(), 'lossG': g_loss.item(), 'L_x': d_loss_real.item(), 'L_G_zD': d_loss_fake.item(),
            'k_t': k_t.item(), 'k_next': bal.k.item(), 'M_global': bal.m_global.item(), 'lr': lr})
        # BEGAN-tensorflow: if step % lr_update_step == lr_update_step - 1: lr = max(lr * 0.5, lower)
        if every > 0 and step % every == every - 1:
            lr = max(lr * 0.5, floor * LR)
            for o in (g_optim, d_optim):
                for pg in o.param_groups:
                    pg['lr'] = lr
    g.write()


if __name__ == '__main__':
    make('began', 11, 0.0, 0.001, 0.5, False, 1, 0.3,
         'BEGAN step (paper / carpedm20): z_D, z_G; k_0 = 0; rate halved every step, floor 0.3; 3 steps')
    make('began_k', 12, 0.5, 0.05, 0.7, False, 0, 0.25,
         'BEGAN step from k_0 = 0.5, lambda_k 0.05, gamma 0.7; 3 steps')
    make('began_sharedz', 13, 0.3, 0.05, 0.5, True, 0, 0.25,
         'BEGAN step with one z (BEGAN-tensorflow), k_0 = 0.3, lambda_k 0.05; 3 steps')
