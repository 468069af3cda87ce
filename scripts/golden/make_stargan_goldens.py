#!/usr/bin/env python3
"""Writes tests/golden/nets/stargan_*: PyTorch references for nets/stargan.ts, read by
tests/stargan.test.ts.

Run with the Debian torch (python3-torch, 1.13) from the repo root:
    /usr/bin/python3 scripts/golden/make_stargan_goldens.py

Generator, Discriminator and the training iteration below are yunjey/stargan's model.py and
solver.py train() (single dataset, RaFD-style single-label domains: softmax cross-entropy), copied
in structure so the state_dict keys, shapes and parameter counts are the reference's. Outputs:

  stargan_params.json   full-size networks (the paper's 128 px CelebA/RaFD nets and this repo's
                        64 px defaults): parameter counts and every state_dict key with its shape.
  stargan_tiny.safetensors   a tiny G (conv_dim 3, c_dim 3, 2 residual blocks) and D (16 px,
                        conv_dim 4, repeat_num 3) with random weights and running statistics:
                        keys `G.<key>` / `D.<key>` (the state), `x`, `c`, and the outputs computed
                        in float64 from the float32 values: `G_eval` (eval mode: running
                        statistics), `G_train` (training mode: each image's own statistics),
                        `G_after.<key>` (the running statistics after that training-mode pass),
                        `D_src`, `D_cls`.
  step_stargan.json     one training iteration with n_critic 1 (D on real / fake / gradient
                        penalty / classification, Adam; then G on fake / classification /
                        reconstruction against the updated D): the losses and, per parameter, the
                        gradient's norm and first values, in float64 ('f32_err': how far PyTorch's
                        own float32 run lands from float64). The random draws of the iteration (the
                        target-label permutation and the penalty's interpolation weights) are the
                        engine's: Philox4x32-10 as in engine/ops/random.ts, re-implemented below.
"""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..', 'tests', 'golden', 'nets'))


# ---- the networks (yunjey/stargan model.py) -------------------------------------------------------

class ResidualBlock(nn.Module):
    def __init__(self, dim_in, dim_out):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(dim_in, dim_out, kernel_size=3, stride=1, padding=1, bias=False),
            nn.InstanceNorm2d(dim_out, affine=True, track_running_stats=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(dim_out, dim_out, kernel_size=3, stride=1, padding=1, bias=False),
            nn.InstanceNorm2d(dim_out, affine=True, track_running_stats=True))

    def forward(self, x):
        return x + self.main(x)


class Generator(nn.Module):
    def __init__(self, conv_dim=64, c_dim=5, repeat_num=6):
        super().__init__()
        layers = [nn.Conv2d(3 + c_dim, conv_dim, kernel_size=7, stride=1, padding=3, bias=False),
                  nn.InstanceNorm2d(conv_dim, affine=True, track_running_stats=True),
                  nn.ReLU(inplace=True)]
        curr_dim = conv_dim
        for _ in range(2):
            layers += [nn.Conv2d(curr_dim, curr_dim * 2, kernel_size=4, stride=2, padding=1, bias=False),
                       nn.InstanceNorm2d(curr_dim * 2, affine=True, track_running_stats=True),
                       nn.ReLU(inplace=True)]
            curr_dim *= 2
        for _ in range(repeat_num):
            layers.append(ResidualBlock(dim_in=curr_dim, dim_out=curr_dim))
        for _ in range(2):
            layers += [nn.ConvTranspose2d(curr_dim, curr_dim // 2, kernel_size=4, stride=2, padding=1, bias=False),
                       nn.InstanceNorm2d(curr_dim // 2, affine=True, track_running_stats=True),
                       nn.ReLU(inplace=True)]
            curr_dim //= 2
        layers += [nn.Conv2d(curr_dim, 3, kernel_size=7, stride=1, padding=3, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, x, c):
        c = c.view(c.size(0), c.size(1), 1, 1)
        c = c.repeat(1, 1, x.size(2), x.size(3))
        x = torch.cat([x, c], dim=1)
        return self.main(x)


class Discriminator(nn.Module):
    def __init__(self, image_size=128, conv_dim=64, c_dim=5, repeat_num=6):
        super().__init__()
        layers = [nn.Conv2d(3, conv_dim, kernel_size=4, stride=2, padding=1), nn.LeakyReLU(0.01)]
        curr_dim = conv_dim
        for _ in range(1, repeat_num):
            layers += [nn.Conv2d(curr_dim, curr_dim * 2, kernel_size=4, stride=2, padding=1), nn.LeakyReLU(0.01)]
            curr_dim *= 2
        kernel_size = int(image_size / np.power(2, repeat_num))
        self.main = nn.Sequential(*layers)
        self.conv1 = nn.Conv2d(curr_dim, 1, kernel_size=3, stride=1, padding=1, bias=False)
        self.conv2 = nn.Conv2d(curr_dim, c_dim, kernel_size=kernel_size, bias=False)

    def forward(self, x):
        h = self.main(x)
        out_src = self.conv1(h)
        out_cls = self.conv2(h)
        return out_src, out_cls.view(out_cls.size(0), out_cls.size(1))


# ---- full-size parameter counts and keys ------------------------------------------------------------

def describe(net):
    return {
        'params': sum(p.numel() for p in net.parameters()),
        'keys': [[k, list(v.shape)] for k, v in net.state_dict().items()],
    }


def full_size():
    nets = {
        # The reference's defaults (CelebA, 5 attributes, 128 px).
        'G_conv64_c5_r6': Generator(64, 5, 6),
        'D_128_conv64_c5_r6': Discriminator(128, 64, 5, 6),
        # The emoji skin tones: 6 domains; 64 px with 5 stride-2 layers (the same 2x2 last map).
        'G_conv64_c6_r6': Generator(64, 6, 6),
        'D_64_conv64_c6_r5': Discriminator(64, 64, 6, 5),
    }
    out = {'torch': torch.__version__}
    for name, net in nets.items():
        out[name] = describe(net)
        print(f'{name}: {out[name]["params"]:,} parameters, {len(out[name]["keys"])} state_dict entries')
    path = os.path.join(OUT_DIR, 'stargan_params.json')
    with open(path, 'w') as f:
        json.dump(out, f, separators=(',', ':'))
    print(f'{path}: {os.path.getsize(path)} bytes')


# ---- tiny forward goldens ---------------------------------------------------------------------------

def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        shape = list(arr.shape)
        arr = np.ascontiguousarray(arr)
        dtype = {np.dtype('float32'): 'F32', np.dtype('int64'): 'I64'}[arr.dtype]
        raw = arr.astype(arr.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def randomize(net, gen):
    """Random weights at a scale that keeps activations O(1), random affine instance-norm
    parameters and running statistics, so a wrong key, layout or formula changes the output."""
    with torch.no_grad():
        for name, t in net.state_dict().items():
            if name.endswith('num_batches_tracked'):
                t.fill_(3)
            elif name.endswith('running_mean'):
                t.copy_(torch.randn(t.shape, generator=gen) * 0.3)
            elif name.endswith('running_var'):
                t.copy_(torch.rand(t.shape, generator=gen) * 0.5 + 0.75)
            elif t.dim() >= 2:
                t.copy_(torch.randn(t.shape, generator=gen) / np.sqrt(t[0].numel()))
            elif name.endswith('bias'):
                t.copy_(torch.randn(t.shape, generator=gen) * 0.1)
            else:  # instance-norm scale
                t.copy_(1 + torch.randn(t.shape, generator=gen) * 0.1)


def state_arrays(prefix, net):
    return {f'{prefix}.{k}': v.detach().numpy().astype(np.int64 if v.dtype == torch.int64 else np.float32)
            for k, v in net.state_dict().items()}


def tiny():
    gen = torch.Generator().manual_seed(11)
    G = Generator(conv_dim=3, c_dim=3, repeat_num=2)
    D = Discriminator(image_size=16, conv_dim=4, c_dim=3, repeat_num=3)
    randomize(G, gen)
    randomize(D, gen)
    x = (torch.rand((2, 3, 16, 16), generator=gen) * 2 - 1).float()
    c = torch.tensor([[0, 0, 1], [1, 0, 0]], dtype=torch.float32)
    tensors = {'x': x.numpy(), 'c': c.numpy(), **state_arrays('G', G), **state_arrays('D', D)}
    with torch.no_grad():
        G64, D64 = G.double(), D.double()
        G64.eval()
        tensors['G_eval'] = G64(x.double(), c.double()).float().numpy()
        G64.train()
        tensors['G_train'] = G64(x.double(), c.double()).float().numpy()
        for k, v in G64.state_dict().items():
            if 'running' in k:
                tensors[f'G_after.{k}'] = v.float().numpy()
        src, cls = D64(x.double())
        tensors['D_src'] = src.float().numpy()
        tensors['D_cls'] = cls.float().numpy()
    path = os.path.join(OUT_DIR, 'stargan_tiny.safetensors')
    write_safetensors(path, tensors)
    print(f'{path}: G {sum(p.numel() for p in G.parameters())} params, D {sum(p.numel() for p in D.parameters())} params, '
          f'{os.path.getsize(path)} bytes')


# ---- the engine's random draws (engine/ops/random.ts) -----------------------------------------------

M32 = 0xFFFFFFFF


def philox4x32(ctr, key):
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for r in range(10):
        if r > 0:
            k0 = (k0 + 0x9E3779B9) & M32
            k1 = (k1 + 0xBB67AE85) & M32
        p0 = 0xD2511F53 * c0
        p1 = 0xCD9E8D57 * c2
        hi0, lo0 = p0 >> 32, p0 & M32
        hi1, lo1 = p1 >> 32, p1 & M32
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return [c0, c1, c2, c3]


def philox_words(n, seed, offset):
    key = [seed & M32, seed >> 32]
    out = []
    for i in range(math.ceil(n / 4)):
        ctr = offset + i
        out += philox4x32([ctr & M32, ctr >> 32, 0, 0], key)
    return out[:n]


class EngineGenerator:
    """The engine's Generator: a Philox key (seed) and a counter offset, advanced per draw."""

    def __init__(self, seed, offset=0):
        self.seed, self.offset = seed, offset

    def reserve(self, blocks):
        start = self.offset
        self.offset += blocks
        return start

    def randperm(self, n):
        words = philox_words(n, self.seed, self.reserve(math.ceil(n / 4)))
        out = list(range(n))
        for i in range(n - 1, 0, -1):
            j = (words[i] * (i + 1)) >> 32
            out[i], out[j] = out[j], out[i]
        return out

    def rand(self, n):
        words = philox_words(n, self.seed, self.reserve(math.ceil(n / 4)))
        return [(w >> 8) * 2.0 ** -24 for w in words]


# ---- one training iteration -------------------------------------------------------------------------

def formula_init(net):
    """The closed-form weights of make_net_goldens.py: tensor k of the state_dict (floats, running
    statistics skipped) gets sin(0.37 i + 1.3 k) at flat index i, divided by sqrt(fan) for conv
    weights, 0.1 x for biases, 1 + 0.1 x for norm scales. tests/stargan.test.ts applies the same."""
    with torch.no_grad():
        k = -1
        for name, t in net.state_dict().items():
            if not t.is_floating_point() or 'running' in name:
                continue
            k += 1
            wave = torch.sin(0.37 * torch.arange(t.numel(), dtype=torch.float64) + 1.3 * k).reshape(t.shape)
            if t.dim() >= 2:
                v = wave / np.sqrt(t[0].numel())
            elif name.endswith('bias'):
                v = 0.1 * wave
            else:
                v = 1 + 0.1 * wave
            t.copy_(v.float())


def formula_images(n, c, h, w, phase):
    i = torch.arange(n * c * h * w, dtype=torch.float64)
    return torch.sin(0.11 * i + phase).float().reshape(n, c, h, w) * 0.9


def grads_of(net):
    out = {}
    for name, p in net.named_parameters():
        g = p.grad.double().reshape(-1)
        out[name] = {'norm': float(g.norm()), 'first': [float(v) for v in g[:6]]}
    return out


STEP = {'imageSize': 16, 'cDim': 3, 'gConvDim': 2, 'dConvDim': 2, 'gRepeatNum': 2, 'dRepeatNum': 3, 'nCritic': 1,
        'batch': 3, 'labels': [0, 2, 1], 'seed': 3, 'lr': 1e-4, 'beta1': 0.5, 'beta2': 0.999}


def step_stargan(dtype):
    s, c_dim, n = STEP['imageSize'], STEP['cDim'], STEP['batch']
    G = Generator(STEP['gConvDim'], c_dim, STEP['gRepeatNum'])
    D = Discriminator(s, STEP['dConvDim'], c_dim, STEP['dRepeatNum'])
    for net in (G, D):
        formula_init(net)
        net.to(dtype).train()
    g_opt = torch.optim.Adam(G.parameters(), STEP['lr'], [STEP['beta1'], STEP['beta2']])
    d_opt = torch.optim.Adam(D.parameters(), STEP['lr'], [STEP['beta1'], STEP['beta2']])
    x_real = formula_images(n, 3, s, s, 0.0).to(dtype)
    label_org = torch.tensor(STEP['labels'])
    rng = EngineGenerator(STEP['seed'])
    rand_idx = rng.randperm(n)              # the trainer draws the permutation first,
    label_trg = label_org[rand_idx]
    alpha_values = rng.rand(n)              # then the penalty's interpolation weights
    c_org = F.one_hot(label_org, c_dim).to(dtype)
    c_trg = F.one_hot(label_trg, c_dim).to(dtype)

    # 2. Train the discriminator.
    out_src, out_cls = D(x_real)
    d_loss_real = -torch.mean(out_src)
    d_loss_cls = F.cross_entropy(out_cls, label_org)
    x_fake = G(x_real, c_trg)
    out_src, out_cls = D(x_fake.detach())
    d_loss_fake = torch.mean(out_src)
    alpha = torch.tensor(alpha_values, dtype=torch.float32).to(dtype).view(n, 1, 1, 1)
    x_hat = (alpha * x_real.data + (1 - alpha) * x_fake.data).requires_grad_(True)
    out_src, _ = D(x_hat)
    dydx = torch.autograd.grad(outputs=out_src, inputs=x_hat, grad_outputs=torch.ones_like(out_src),
                               retain_graph=True, create_graph=True, only_inputs=True)[0]
    dydx = dydx.view(dydx.size(0), -1)
    d_loss_gp = torch.mean((torch.sqrt(torch.sum(dydx ** 2, dim=1)) - 1) ** 2)
    d_loss = d_loss_real + d_loss_fake + 1.0 * d_loss_cls + 10.0 * d_loss_gp
    g_opt.zero_grad()
    d_opt.zero_grad()
    d_loss.backward()
    d_opt.step()
    grads_D = grads_of(D)

    # 3. Train the generator (every n_critic = 1 iterations), against the updated D.
    x_fake = G(x_real, c_trg)
    out_src, out_cls = D(x_fake)
    g_loss_fake = -torch.mean(out_src)
    g_loss_cls = F.cross_entropy(out_cls, label_trg)
    x_reconst = G(x_fake, c_org)
    g_loss_rec = torch.mean(torch.abs(x_real - x_reconst))
    g_loss = g_loss_fake + 10.0 * g_loss_rec + 1.0 * g_loss_cls
    g_opt.zero_grad()
    d_opt.zero_grad()
    g_loss.backward()
    g_opt.step()
    losses = {'loss_D_real': d_loss_real, 'loss_D_fake': d_loss_fake, 'loss_D_cls': d_loss_cls, 'loss_D_gp': d_loss_gp,
              'loss_G_fake': g_loss_fake, 'loss_G_rec': g_loss_rec, 'loss_G_cls': g_loss_cls}
    return {
        'config': {k: STEP[k] for k in ('imageSize', 'cDim', 'gConvDim', 'dConvDim', 'gRepeatNum', 'dRepeatNum', 'nCritic')},
        'batch': n, 'labels': STEP['labels'], 'seed': STEP['seed'],
        'draws': {'perm': rand_idx, 'alpha': alpha_values},
        'losses': {k: float(v) for k, v in losses.items()},
        'grads': {'netG': grads_of(G), 'netD': grads_D},
    }


def training_step():
    out = step_stargan(torch.float64)
    ref32 = step_stargan(torch.float32)
    for net, grads in out['grads'].items():
        for k, g in grads.items():
            g32 = ref32['grads'][net][k]
            g['f32_err'] = max([abs(g['norm'] - g32['norm'])] + [abs(a - b) for a, b in zip(g['first'], g32['first'])])
    out['losses_f32_err'] = {k: abs(v - ref32['losses'][k]) for k, v in out['losses'].items()}
    out['torch'] = torch.__version__
    path = os.path.join(OUT_DIR, 'step_stargan.json')
    with open(path, 'w') as f:
        json.dump(out, f, separators=(',', ':'))
    print(f'{path}: perm {out["draws"]["perm"]}, alpha {out["draws"]["alpha"]}, {out["losses"]}, {os.path.getsize(path)} bytes')


if __name__ == '__main__':
    os.makedirs(OUT_DIR, exist_ok=True)
    torch.manual_seed(0)
    full_size()
    tiny()
    training_step()
