#!/usr/bin/env python3
"""Writes tests/golden/nets/*: PyTorch references for the pix2pix / CycleGAN networks of
nets/lib/networks.ts, read by tests/pix2pix_cyclegan.test.ts.

Run with the Debian torch (python3-torch, 1.13) from the repo root:
    /usr/bin/python3 scripts/golden/make_net_goldens.py

The networks below are a minimal re-implementation of the ones in
junyanz/pytorch-CycleGAN-and-pix2pix (models/networks.py), with the same module nesting, so their
state_dict keys, shapes and parameter counts are the reference's (that repository cannot be pip
installed). Two kinds of output (the training steps are make_step_pix2pix.py and
make_step_cyclegan.py's, element by element):

  params.json      full-size networks (resnet_9blocks ngf 64, unet_256 ngf 64, PatchGAN n_layers 3
                   ndf 64 on 6 input channels, and a few more): parameter counts and every
                   state_dict key with its shape.
  <case>.safetensors   tiny networks (ngf/ndf 2-4, 16-64 px) with random weights and running
                   statistics: keys `state.<state_dict key>` (F32; num_batches_tracked I64),
                   `input` (F32) and `output`, the forward pass in eval mode computed in float64
                   from the float32 weights and input, then rounded to float32.

The params file and safetensors are written by netgolden.py (shared with the other net goldens).
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
from netgolden import OUT_DIR, randomize, write_params, write_safetensors  # noqa: E402


# ---- the networks (same structure and names as the reference) -----------------------------------

def norm_factory(name):
    """(make(channels), use_bias): conv biases exist only when the norm layer is instance norm."""
    if name == 'batch':
        return (lambda c: nn.BatchNorm2d(c, affine=True, track_running_stats=True)), False
    if name == 'instance':
        return (lambda c: nn.InstanceNorm2d(c, affine=False, track_running_stats=False)), True
    if name == 'none':
        return (lambda c: nn.Identity()), False
    raise ValueError(name)


def pad_layers(padding_type):
    """(layers before a 3x3 conv, the conv's own zero padding)."""
    return {'reflect': ([nn.ReflectionPad2d(1)], 0),
            'replicate': ([nn.ReplicationPad2d(1)], 0),
            'zero': ([], 1)}[padding_type]


class ResnetBlock(nn.Module):
    def __init__(self, dim, padding_type, norm, use_dropout, use_bias):
        super().__init__()
        pad, p = pad_layers(padding_type)
        layers = pad + [nn.Conv2d(dim, dim, 3, padding=p, bias=use_bias), norm(dim), nn.ReLU(True)]
        if use_dropout:
            layers.append(nn.Dropout(0.5))
        pad, p = pad_layers(padding_type)
        layers += pad + [nn.Conv2d(dim, dim, 3, padding=p, bias=use_bias), norm(dim)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    def __init__(self, input_nc, output_nc, ngf, norm_name, use_dropout=False, n_blocks=9, padding_type='reflect'):
        super().__init__()
        norm, use_bias = norm_factory(norm_name)
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, 7, padding=0, bias=use_bias), norm(ngf), nn.ReLU(True)]
        for i in range(2):
            m = 2 ** i
            layers += [nn.Conv2d(ngf * m, ngf * m * 2, 3, stride=2, padding=1, bias=use_bias), norm(ngf * m * 2), nn.ReLU(True)]
        for _ in range(n_blocks):
            layers.append(ResnetBlock(ngf * 4, padding_type, norm, use_dropout, use_bias))
        for i in range(2):
            m = 2 ** (2 - i)
            layers += [nn.ConvTranspose2d(ngf * m, ngf * m // 2, 3, stride=2, padding=1, output_padding=1, bias=use_bias),
                       norm(ngf * m // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7, padding=0), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class UnetSkipConnectionBlock(nn.Module):
    """skip=False gives the paper's encoder-decoder ablation: no concatenation, so the up
    convolutions take inner_nc channels instead of 2 * inner_nc."""

    def __init__(self, outer_nc, inner_nc, input_nc=None, submodule=None, outermost=False, innermost=False,
                 norm_name='batch', use_dropout=False, skip=True):
        super().__init__()
        self.outermost = outermost
        self.skip = skip
        norm, use_bias = norm_factory(norm_name)
        input_nc = outer_nc if input_nc is None else input_nc
        up_in = inner_nc if innermost or not skip else inner_nc * 2
        downconv = nn.Conv2d(input_nc, inner_nc, 4, stride=2, padding=1, bias=use_bias)
        if outermost:
            layers = [downconv, submodule, nn.ReLU(True), nn.ConvTranspose2d(up_in, outer_nc, 4, stride=2, padding=1), nn.Tanh()]
        elif innermost:
            layers = [nn.LeakyReLU(0.2, True), downconv,
                      nn.ReLU(True), nn.ConvTranspose2d(up_in, outer_nc, 4, stride=2, padding=1, bias=use_bias), norm(outer_nc)]
        else:
            layers = [nn.LeakyReLU(0.2, True), downconv, norm(inner_nc), submodule,
                      nn.ReLU(True), nn.ConvTranspose2d(up_in, outer_nc, 4, stride=2, padding=1, bias=use_bias), norm(outer_nc)]
            if use_dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        if self.outermost or not self.skip:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    def __init__(self, input_nc, output_nc, num_downs, ngf, norm_name, use_dropout=False, skip=True):
        super().__init__()
        kw = dict(norm_name=norm_name, skip=skip)
        block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, innermost=True, **kw)
        for _ in range(num_downs - 5):
            block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=block, use_dropout=use_dropout, **kw)
        block = UnetSkipConnectionBlock(ngf * 4, ngf * 8, submodule=block, **kw)
        block = UnetSkipConnectionBlock(ngf * 2, ngf * 4, submodule=block, **kw)
        block = UnetSkipConnectionBlock(ngf, ngf * 2, submodule=block, **kw)
        self.model = UnetSkipConnectionBlock(output_nc, ngf, input_nc=input_nc, submodule=block, outermost=True, **kw)

    def forward(self, x):
        return self.model(x)


class NLayerDiscriminator(nn.Module):
    def __init__(self, input_nc, ndf, n_layers, norm_name):
        super().__init__()
        norm, use_bias = norm_factory(norm_name)
        layers = [nn.Conv2d(input_nc, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers):
            prev, mult = mult, min(2 ** n, 8)
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=2, padding=1, bias=use_bias), norm(ndf * mult), nn.LeakyReLU(0.2, True)]
        prev, mult = mult, min(2 ** n_layers, 8)
        layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=1, padding=1, bias=use_bias), norm(ndf * mult), nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class PixelDiscriminator(nn.Module):
    def __init__(self, input_nc, ndf, norm_name):
        super().__init__()
        norm, use_bias = norm_factory(norm_name)
        self.net = nn.Sequential(
            nn.Conv2d(input_nc, ndf, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, 1, bias=use_bias), norm(ndf * 2), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, 1, 1, bias=use_bias))

    def forward(self, x):
        return self.net(x)


# ---- full-size parameter counts and keys --------------------------------------------------------

def full_size():
    nets = {
        # The three the test compares key by key, as pix2pix and CycleGAN use them.
        'resnet_9blocks': ResnetGenerator(3, 3, 64, 'instance', n_blocks=9),
        'unet_256': UnetGenerator(3, 3, 8, 64, 'batch', use_dropout=True),
        'basic_D_6ch': NLayerDiscriminator(6, 64, 3, 'batch'),
        # More variants (counts and keys too; small enough).
        'resnet_6blocks': ResnetGenerator(3, 3, 64, 'instance', n_blocks=6),
        'resnet_9blocks_batch_dropout': ResnetGenerator(3, 3, 64, 'batch', use_dropout=True, n_blocks=9),
        'unet_128': UnetGenerator(3, 3, 7, 64, 'batch', use_dropout=True),
        'unet_256_instance': UnetGenerator(3, 3, 8, 64, 'instance'),
        'encdec_256': UnetGenerator(3, 3, 8, 64, 'batch', use_dropout=True, skip=False),
        'pixel_D_6ch': PixelDiscriminator(6, 64, 'batch'),
        'n_layers1_D_6ch': NLayerDiscriminator(6, 64, 1, 'batch'),
        'n_layers5_D_6ch': NLayerDiscriminator(6, 64, 5, 'batch'),
        'basic_D_3ch_instance': NLayerDiscriminator(3, 64, 3, 'instance'),
    }
    write_params('params.json', nets)


# ---- tiny goldens -------------------------------------------------------------------------------

def golden(name, model, input_shape, seed, **meta):
    net = model
    gen = torch.Generator().manual_seed(seed)
    randomize(net, gen)
    net.eval()
    x = torch.rand(input_shape, generator=gen) * 2 - 1
    state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    with torch.no_grad():
        y = net.double()(x.double()).float()
    tensors = {'input': x.numpy().astype(np.float32), 'output': y.numpy().astype(np.float32)}
    for k, v in state.items():
        tensors['state.' + k] = v.numpy().astype(np.int64 if v.dtype == torch.int64 else np.float32)
    path = os.path.join(OUT_DIR, f'{name}.safetensors')
    write_safetensors(path, tensors)
    n = sum(p.numel() for p in net.parameters())
    print(f'{path}: {n} params, in {list(x.shape)} -> out {list(y.shape)}, {os.path.getsize(path)} bytes')
    return {'file': f'{name}.safetensors', 'params': n, 'input': list(x.shape), 'output': list(y.shape), **meta}


def tiny():
    cases = {}
    # CycleGAN's generator: 9 residual blocks, instance norm (conv biases), reflect padding; odd width.
    cases['resnet9_ngf3_instance'] = golden('resnet9_ngf3_instance', ResnetGenerator(3, 3, 3, 'instance', n_blocks=9),
                                            (2, 3, 32, 32), 1, net='resnet', ngf=3, n_blocks=9, norm='instance')
    # A 6-block batch-norm variant with dropout modules (dropout shifts the block's indices).
    cases['resnet6_ngf2_batch_dropout'] = golden('resnet6_ngf2_batch_dropout', ResnetGenerator(3, 2, 2, 'batch', use_dropout=True, n_blocks=6),
                                                 (1, 3, 16, 16), 2, net='resnet', ngf=2, n_blocks=6, norm='batch', dropout=True, output_nc=2)
    # The U-Net recursion with one dropout middle block (num_downs 6: 64 -> 1 px), batch norm.
    cases['unet6_ngf2_batch_dropout'] = golden('unet6_ngf2_batch_dropout', UnetGenerator(3, 3, 6, 2, 'batch', use_dropout=True),
                                               (1, 3, 64, 64), 3, net='unet', num_downs=6, ngf=2, norm='batch', dropout=True)
    # The U-Net with instance norm (biases on the inner convs), num_downs 5 on 32 px.
    cases['unet5_ngf2_instance'] = golden('unet5_ngf2_instance', UnetGenerator(3, 3, 5, 2, 'instance'),
                                          (1, 3, 32, 32), 4, net='unet', num_downs=5, ngf=2, norm='instance')
    # The encoder-decoder ablation (no skips).
    cases['encdec5_ngf2_batch'] = golden('encdec5_ngf2_batch', UnetGenerator(3, 3, 5, 2, 'batch', skip=False),
                                         (2, 3, 32, 32), 5, net='encdec', num_downs=5, ngf=2, norm='batch')
    # 70x70 PatchGAN on concat(A, B), batch norm.
    cases['patch70_ndf4_batch'] = golden('patch70_ndf4_batch', NLayerDiscriminator(6, 4, 3, 'batch'),
                                         (2, 6, 32, 32), 6, net='n_layers', n_layers=3, ndf=4, norm='batch', input_nc=6)
    # 16x16 PatchGAN (n_layers 1), instance norm.
    cases['patch16_ndf4_instance'] = golden('patch16_ndf4_instance', NLayerDiscriminator(3, 4, 1, 'instance'),
                                            (1, 3, 24, 24), 7, net='n_layers', n_layers=1, ndf=4, norm='instance', input_nc=3)
    # 1x1 PixelGAN.
    cases['pixel_ndf4_batch'] = golden('pixel_ndf4_batch', PixelDiscriminator(6, 4, 'batch'),
                                       (2, 6, 16, 16), 8, net='pixel', ndf=4, norm='batch', input_nc=6)
    path = os.path.join(OUT_DIR, 'cases.json')
    with open(path, 'w') as f:
        json.dump({'torch': torch.__version__, 'cases': cases}, f, indent=1)
    print(f'{path}: {len(cases)} cases')


if __name__ == '__main__':
    os.makedirs(OUT_DIR, exist_ok=True)
    torch.manual_seed(0)
    full_size()
    tiny()
    total = sum(os.path.getsize(os.path.join(OUT_DIR, f)) for f in os.listdir(OUT_DIR))
    print(f'total {total} bytes in {OUT_DIR}')
