"""Shared pieces of the image-to-image step goldens (make_step_pix2pix.py, make_step_cyclegan.py,
make_step_dualgan.py): the reference's weight initialisation, a dropout layer whose masks are
recorded draws, and the engine's packed batch layout.

The networks themselves are make_net_goldens.py's (junyanz/pytorch-CycleGAN-and-pix2pix
models/networks.py, same module nesting, so the state_dict keys are the reference's).
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
from make_net_goldens import UnetSkipConnectionBlock  # noqa: E402


def init_weights(net, gain=0.02):
    """networks.py init_weights(init_type='normal'): conv weights N(0, gain), biases 0, batch-norm
    scales N(1, gain), shifts 0."""
    for m in net.modules():
        name = m.__class__.__name__
        if hasattr(m, 'weight') and (name.find('Conv') != -1 or name.find('Linear') != -1):
            nn.init.normal_(m.weight.data, 0.0, gain)
            if getattr(m, 'bias', None) is not None:
                nn.init.constant_(m.bias.data, 0.0)
        elif name.find('BatchNorm2d') != -1:
            nn.init.normal_(m.weight.data, 1.0, gain)
            nn.init.constant_(m.bias.data, 0.0)


class FedDropout(nn.Module):
    """nn.Dropout(p) in training mode with its mask recorded as a draw (the engine's dropout op is
    fed the same mask: 0 or 1 / (1 - p) per element)."""

    def __init__(self, golden, label, p=0.5):
        super().__init__()
        self.golden, self.label, self.p = golden, label, p

    def forward(self, x):
        mask = (torch.rand_like(x) >= self.p).to(x.dtype) / (1 - self.p)
        return x * self.golden.draw(self.label, mask)


def feed_dropout(net, golden, prefix):
    """Replaces every nn.Dropout of net by a FedDropout (no state, so the state_dict is unchanged)."""
    k = 0
    for parent in list(net.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Dropout):
                setattr(parent, name, FedDropout(golden, f'{prefix}.dropout{k}', child.p))
                k += 1
    return k


class UnetGenerator(nn.Module):
    """make_net_goldens.UnetGenerator with nets/lib/networks.ts's dropoutLevels: dropout on that many levels
    counted from the one just outside the innermost (default num_downs - 5, the reference's rule:
    its 8ngf middle levels). unet_32_dropout is num_downs 5 with 3 dropout levels."""

    def __init__(self, input_nc, output_nc, num_downs, ngf, norm_name, use_dropout=False, dropout_levels=None):
        super().__init__()
        levels = num_downs - 5 if dropout_levels is None else dropout_levels
        count = [0]

        def drop():
            if use_dropout and count[0] < levels:
                count[0] += 1
                return True
            return False
        kw = dict(norm_name=norm_name)
        block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, innermost=True, **kw)
        for _ in range(num_downs - 5):
            block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=block, use_dropout=drop(), **kw)
        block = UnetSkipConnectionBlock(ngf * 4, ngf * 8, submodule=block, use_dropout=drop(), **kw)
        block = UnetSkipConnectionBlock(ngf * 2, ngf * 4, submodule=block, use_dropout=drop(), **kw)
        block = UnetSkipConnectionBlock(ngf, ngf * 2, submodule=block, use_dropout=drop(), **kw)
        self.model = UnetSkipConnectionBlock(output_nc, ngf, input_nc=input_nc, submodule=block, outermost=True, **kw)

    def forward(self, x):
        return self.model(x)


def linear_decay(n_epochs, n_epochs_decay, epoch_count=1):
    """networks.py get_scheduler('linear')'s lambda_rule."""
    return lambda epoch: 1.0 - max(0, epoch + epoch_count - n_epochs) / float(n_epochs_decay + 1)


def uniform_images(n, c, s, lo=-1.0, hi=1.0):
    return torch.rand(n, c, s, s) * (hi - lo) + lo
