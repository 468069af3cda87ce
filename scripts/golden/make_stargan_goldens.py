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
(The training iterations: make_step_stargan.py, element by element.)
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from netgolden import OUT_DIR, randomize, write_params, write_safetensors  # noqa: E402


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

def full_size():
    nets = {
        # The reference's defaults (CelebA, 5 attributes, 128 px).
        'G_conv64_c5_r6': Generator(64, 5, 6),
        'D_128_conv64_c5_r6': Discriminator(128, 64, 5, 6),
        # The emoji skin tones: 6 domains; 64 px with 5 stride-2 layers (the same 2x2 last map).
        'G_conv64_c6_r6': Generator(64, 6, 6),
        'D_64_conv64_c6_r5': Discriminator(64, 64, 6, 5),
    }
    write_params('stargan_params.json', nets)


# ---- tiny forward goldens ---------------------------------------------------------------------------

def state_arrays(prefix, net):
    return {f'{prefix}.{k}': v.detach().numpy().astype(np.int64 if v.dtype == torch.int64 else np.float32)
            for k, v in net.state_dict().items()}


def tiny():
    gen = torch.Generator().manual_seed(11)
    G = Generator(conv_dim=3, c_dim=3, repeat_num=2)
    D = Discriminator(image_size=16, conv_dim=4, c_dim=3, repeat_num=3)
    randomize(G, gen, batches_tracked=3, mean_scale=0.3)
    randomize(D, gen, batches_tracked=3, mean_scale=0.3)
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


if __name__ == '__main__':
    os.makedirs(OUT_DIR, exist_ok=True)
    torch.manual_seed(0)
    full_size()
    tiny()
