#!/usr/bin/env python3
"""Step golden for CycleGAN (tests/golden/steps/cyclegan.safetensors): three iterations of
junyanz/pytorch-CycleGAN-and-pix2pix models/cycle_gan_model.py optimize_parameters() with both image
pools already full, so util/image_pool.py's swap path runs.

Networks: G_A, G_B resnet_3blocks (ngf 1, instance norm, reflect padding, no dropout); D_A, D_B the
16x16 PatchGAN (n_layers 1, ndf 2, instance norm). Weights: networks.init_weights('normal', 0.02).
One batch of 2 unpaired 12x12 images per domain (the engine's packed layout: A's channels, then B's),
used by all three iterations. lsgan, lambda_A = lambda_B = 10, lambda_identity 0.5.

Per iteration, as the reference: forward (fake_B = G_A(A), rec_A = G_B(fake_B), fake_A = G_B(B),
rec_B = G_A(fake_A)); G step with the Ds' weights frozen (identity, GAN, cycle losses; one Adam over
both Gs is per parameter the same as one each); D_A on (real B, pool_B.query(fake_B)) and D_B on
(real A, pool_A.query(fake_A)), each (real + fake) * 0.5, fakes detached. Adam(2e-4, (0.5, 0.999));
linear decay with n_epochs 1, n_epochs_decay 2 (1, 2/3, 1/3), as the engine's lrHold 1, lrDecay 2.

The pools: pool_size 3, pre-filled with 3 images each (init.pool_fake_B.images, the slots tensor, loaded by the
engine as checkpoint state). image_pool.py draws p = random.uniform(0, 1) and, when p > 0.5,
random_id = random.randint(0, pool_size - 1); the engine's ImagePool draws both from a mulberry32
stream (nets/lib/pool.ts) whose state is part of the pool's checkpoint state (`rng`). Here the same
stream is replicated (mulberry32 below, from the initial states in init.pool_fake_*.rng), so
uniform(0, 1) -> u and randint(0, pool_size - 1) -> floor(u * pool_size), same distributions.
The states are small integers at init; after the steps they are stored as float32 of the int32
bits (as the engine's loader reads them), so they match to float32 precision.

    /usr/bin/python3 scripts/golden/make_step_cyclegan.py
"""
import numpy as np
import torch
import torch.nn.functional as F

from stepgolden import StepGolden
from stepgolden_i2i import init_weights, linear_decay, uniform_images
from make_net_goldens import NLayerDiscriminator, ResnetGenerator

torch.manual_seed(2018)
n, s, ngf, ndf, LR, POOL = 2, 12, 1, 2, 2e-4, 3
LAMBDA_A, LAMBDA_B, LAMBDA_IDT = 10.0, 10.0, 0.5
HOLD, DECAY, STEPS = 1, 2, 3
SEEDS = {'pool_fake_B': 20170, 'pool_fake_A': 3}


class Mulberry32:
    def __init__(self, state):
        self.state = state & 0xFFFFFFFF

    def next(self):
        self.state = (self.state + 0x6D2B79F5) & 0xFFFFFFFF
        t = self.state
        t = ((t ^ (t >> 15)) * (t | 1)) & 0xFFFFFFFF
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & 0xFFFFFFFF)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296.0


class ImagePool(torch.nn.Module):
    """util/image_pool.py with the coin flips from Mulberry32; a Module only so that its state
    (images: the slots [pool_size, C, H, W]; stored; rng) is written like the engine's ImagePoolState."""

    def __init__(self, pool_size, images, seed):
        super().__init__()
        self.pool_size = pool_size
        self.images = list(images)
        self.rng = Mulberry32(seed)
        self.swaps = 0

    def query(self, images):
        return_images = []
        for image in images:
            image = torch.unsqueeze(image.data, 0)
            if len(self.images) < self.pool_size:
                self.images.append(image)
                return_images.append(image)
            else:
                p = self.rng.next()
                if p > 0.5:
                    random_id = int(np.floor(self.rng.next() * self.pool_size))
                    tmp = self.images[random_id].clone()
                    self.images[random_id] = image
                    return_images.append(tmp)
                    self.swaps += 1
                else:
                    return_images.append(image)
        return torch.cat(return_images, 0)

    def state_dict(self, *args, **kwargs):
        # The slots tensor (the first `stored` rows filled, the rest zeros) and the count, as
        # nets/lib/pool.ts ImagePoolState writes them; int32 values as float32, like rng.
        out = {'images': torch.cat(self.images + [torch.zeros_like(self.images[0])] * (self.pool_size - len(self.images)), 0)}
        out['stored'] = torch.tensor([float(len(self.images))])
        out['rng'] = torch.tensor([float(np.array([self.rng.state], dtype=np.uint32).view(np.int32)[0])])  # int32 bits, as float32
        return out


config = {'imageSize': s, 'inputNc': 3, 'outputNc': 3, 'netG': 'resnet_3blocks', 'netD': 'patch16', 'ngf': ngf, 'ndf': ndf,
          'norm': 'instance', 'dropout': False, 'ganMode': 'lsgan', 'lambdaA': LAMBDA_A, 'lambdaB': LAMBDA_B,
          'lambdaIdentity': LAMBDA_IDT, 'poolSize': POOL, 'lrHold': HOLD, 'lrDecay': DECAY}
g = StepGolden('cyclegan', config=config, settings={'lr': LR, 'beta1': 0.5, 'beta2': 0.999, 'steps': STEPS, 'batch': n},
               notes='cycle_gan_model.py optimize_parameters x3, image pools full from the start (swap path), linear lr decay')

G_A = ResnetGenerator(3, 3, ngf, 'instance', n_blocks=3)
G_B = ResnetGenerator(3, 3, ngf, 'instance', n_blocks=3)
D_A = NLayerDiscriminator(3, ndf, 1, 'instance')
D_B = NLayerDiscriminator(3, ndf, 1, 'instance')
for net in (G_A, G_B, D_A, D_B):
    init_weights(net)
    net.train()
pool_B = ImagePool(POOL, [uniform_images(1, 3, s) for _ in range(POOL)], SEEDS['pool_fake_B'])  # fake B, for D_A
pool_A = ImagePool(POOL, [uniform_images(1, 3, s) for _ in range(POOL)], SEEDS['pool_fake_A'])  # fake A, for D_B
nets = {'netG_A': G_A, 'netG_B': G_B, 'netD_A': D_A, 'netD_B': D_B}
state = {**nets, 'pool_fake_B': pool_B, 'pool_fake_A': pool_A}
g.init(state)
opt_G = torch.optim.Adam(list(G_A.parameters()) + list(G_B.parameters()), lr=LR, betas=(0.5, 0.999))
opt_D = torch.optim.Adam(list(D_A.parameters()) + list(D_B.parameters()), lr=LR, betas=(0.5, 0.999))
schedulers = [torch.optim.lr_scheduler.LambdaLR(o, lr_lambda=linear_decay(HOLD, DECAY)) for o in (opt_G, opt_D)]
gan = lambda p, real: F.mse_loss(p, torch.full_like(p, 1.0 if real else 0.0))  # GANLoss('lsgan')


def set_requires_grad(ns, flag):
    for net in ns:
        for p in net.parameters():
            p.requires_grad_(flag)


A = uniform_images(n, 3, s)
B = uniform_images(n, 3, s)
g.input('batch', torch.cat([A, B], 1))
for k in range(1, STEPS + 1):
    fake_B = G_A(A)
    rec_A = G_B(fake_B)
    fake_A = G_B(B)
    rec_B = G_A(fake_A)
    # G_A and G_B
    set_requires_grad([D_A, D_B], False)
    opt_G.zero_grad()
    loss_idt_A = (G_A(B) - B).abs().mean() * LAMBDA_B * LAMBDA_IDT
    loss_idt_B = (G_B(A) - A).abs().mean() * LAMBDA_A * LAMBDA_IDT
    loss_G_A = gan(D_A(fake_B), True)
    loss_G_B = gan(D_B(fake_A), True)
    loss_cycle_A = (rec_A - A).abs().mean() * LAMBDA_A
    loss_cycle_B = (rec_B - B).abs().mean() * LAMBDA_B
    (loss_G_A + loss_G_B + loss_cycle_A + loss_cycle_B + loss_idt_A + loss_idt_B).backward()
    g.grads(k, {'netG_A': G_A, 'netG_B': G_B})  # conv biases before instance norm: float32-noise gradients
    opt_G.step()
    # D_A and D_B
    set_requires_grad([D_A, D_B], True)
    opt_D.zero_grad()

    def backward_D_basic(netD, real, fake):
        loss_D = (gan(netD(real), True) + gan(netD(fake.detach()), False)) * 0.5
        loss_D.backward()
        return loss_D
    loss_D_A = backward_D_basic(D_A, B, pool_B.query(fake_B))
    loss_D_B = backward_D_basic(D_B, A, pool_A.query(fake_A))
    g.grads(k, {'netD_A': D_A, 'netD_B': D_B})
    opt_D.step()
    for sch in schedulers:
        sch.step()
    g.after(k, state, {'loss_D_A': loss_D_A.item(), 'loss_G_A': loss_G_A.item(), 'loss_cycle_A': loss_cycle_A.item(),
                       'loss_idt_A': loss_idt_A.item(), 'loss_D_B': loss_D_B.item(), 'loss_G_B': loss_G_B.item(),
                       'loss_cycle_B': loss_cycle_B.item(), 'loss_idt_B': loss_idt_B.item()})
print(f'swaps: pool_fake_B {pool_B.swaps}, pool_fake_A {pool_A.swaps} of {STEPS * n} queries each')
assert 0 < pool_B.swaps < STEPS * n and 0 < pool_A.swaps < STEPS * n, 'pick seeds that take both branches'
g.write()
