#!/usr/bin/env python3
"""Writes tests/golden/nets/triplegan_C_tiny.safetensors: a PyTorch reference for Triple-GAN's
classifier C (nets/triplegan.ts TripleClassifier), read by tests/cascade.test.ts.

Run with the Debian torch (python3-torch, 1.13) from the repo root:
    /usr/bin/python3 scripts/golden/make_triplegan_goldens.py

C is the authors' MNIST classifier (zhenxuan00/triple-gan, x2y_yz2x_xy2p_ssl_mnist.py, cla-1..cla-6:
lasagne's batch_norm puts BN between each conv and its ReLU), here with base width cw = 2 on 16x16
images: conv5 valid, BN, ReLU, max-pool 2, dropout | conv3 same | conv3 valid, pool, dropout |
conv3 same x 2 | global average | dense. Module indices are the engine's, so the state_dict keys are
the same. Dropout is off (eval) in every pass: its masks come from the engine's own stream.

Contents (float32; every output computed in float64 from the float32 inputs):
  C.<key>        random weights, BN affine parameters and running statistics
  x, y           4 images in [-1, 1] and their labels (as float)
  logits_eval    C(x) in eval mode (running statistics)
  logits_train   C(x) in training mode (batch statistics)
  loss           softmax cross-entropy of logits_train against y (mean)
  grad.<key>     d loss / d parameter, for every parameter
  after.<key>    running_mean / running_var after the training-mode pass (momentum 0.1, unbiased var)
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from netgolden import OUT_DIR, write_safetensors  # noqa: E402


def classifier(cw, nc=1, classes=10):
    def block(cin, cout, k, pad):
        return [nn.Conv2d(cin, cout, k, padding=pad, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    features = nn.Sequential(
        *block(nc, cw, 5, 0), nn.MaxPool2d(2), nn.Dropout(0.5),
        *block(cw, 2 * cw, 3, 1),
        *block(2 * cw, 2 * cw, 3, 0), nn.MaxPool2d(2), nn.Dropout(0.5),
        *block(2 * cw, 4 * cw, 3, 1),
        *block(4 * cw, 4 * cw, 3, 1),
    )
    net = nn.Module()
    net.features = features
    net.fc = nn.Linear(4 * cw, classes)
    return net


def forward(net, x):
    return net.fc(net.features(x).mean((2, 3)))


def main():
    gen = torch.Generator().manual_seed(20261127)
    net = classifier(2)
    with torch.no_grad():
        for name, t in net.state_dict().items():
            if name.endswith('num_batches_tracked'):
                continue
            if name.endswith('running_var'):
                t.copy_(torch.rand(t.shape, generator=gen) * 1.5 + 0.5)
            elif name.endswith('running_mean') or name.endswith('bias'):
                t.copy_(torch.rand(t.shape, generator=gen) - 0.5)
            elif t.dim() == 1:  # BN gamma
                t.copy_(torch.rand(t.shape, generator=gen) + 0.5)
            else:  # conv / dense weights, fan-in scaled so activations stay O(1)
                fan_in = t[0].numel()
                t.copy_(torch.randn(t.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
    x = (torch.rand((4, 1, 16, 16), generator=gen) * 2 - 1).float()
    y = torch.tensor([3, 0, 7, 3])
    state = {k: v.detach().clone().float() for k, v in net.state_dict().items() if not k.endswith('num_batches_tracked')}

    net = net.double()
    xd = x.double()
    out = {'C.' + k: v.numpy() for k, v in state.items()}
    out['x'] = x.numpy()
    out['y'] = y.float().numpy()
    net.eval()
    with torch.no_grad():
        out['logits_eval'] = forward(net, xd).float().numpy()
    net.train()
    for m in net.modules():
        if isinstance(m, nn.Dropout):
            m.eval()
    logits = forward(net, xd)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    out['logits_train'] = logits.detach().float().numpy()
    out['loss'] = np.array([loss.item()], dtype=np.float32)
    for k, p in net.named_parameters():
        out['grad.' + k] = p.grad.float().numpy()
    for k, v in net.state_dict().items():
        if k.endswith('running_mean') or k.endswith('running_var'):
            out['after.' + k] = v.float().numpy()
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, 'triplegan_C_tiny.safetensors')
    write_safetensors(path, {k: np.asarray(v, dtype=np.float32) for k, v in out.items()})
    print(f'{path}: {os.path.getsize(path)} bytes')


if __name__ == '__main__':
    main()
