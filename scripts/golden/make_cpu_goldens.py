#!/usr/bin/env python3
"""Writes tests/golden/cpu_*.json: PyTorch outputs for small random cases of every CPU reference in
engine/ops/cpu/, read by tests/cpu_reference.test.ts.

Run with the Debian torch (python3-torch, 1.13) from the repo root:
    /usr/bin/python3 scripts/golden/make_cpu_goldens.py

Inputs are drawn with a fixed seed and rounded to 4 decimals, so the JSON text holds them exactly;
PyTorch then runs in float64 and outputs are stored with 10 significant digits. The TS references
therefore agree to ~1e-9 relative, and the test can hold them to a tight tolerance.

File layout: {"torch": version, "cases": [case, ...]} where a case is
    {"op": str, "name": str, "params": {...},
     "inputs": {name: {"shape": [...], "data": [...], "dtype"?: "int32"}},
     "outputs": {name: {"shape": [...], "data": [...]}}}
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(1234)
torch.set_default_dtype(torch.float64)
OUT_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..', 'tests', 'golden'))


def rand(*shape, lo=-1.0, hi=1.0):
    x = torch.rand(*shape) * (hi - lo) + lo
    return torch.round(x * 1e4) / 1e4


def enc_in(t):
    if t.dtype in (torch.int32, torch.int64):
        return {'shape': list(t.shape), 'data': [int(v) for v in t.reshape(-1).tolist()], 'dtype': 'int32'}
    return {'shape': list(t.shape), 'data': [round(v, 4) for v in t.reshape(-1).tolist()]}


def enc_out(t):
    t = t.detach()
    return {'shape': list(t.shape), 'data': [float(f'{v:.10g}') for v in t.reshape(-1).tolist()]}


class Golden:
    def __init__(self, family):
        self.family = family
        self.cases = []

    def add(self, op, name, params, inputs, outputs):
        self.cases.append({
            'op': op, 'name': name, 'params': params,
            'inputs': {k: enc_in(v) for k, v in inputs.items()},
            'outputs': {k: enc_out(v) for k, v in outputs.items()},
        })

    def write(self):
        path = os.path.join(OUT_DIR, f'cpu_{self.family}.json')
        with open(path, 'w') as f:
            json.dump({'torch': torch.__version__, 'cases': self.cases}, f, separators=(',', ':'))
        print(f'{path}: {len(self.cases)} cases, {os.path.getsize(path)} bytes')


# ------------------------------------------------------------------------------------------------
# Convolution. Asymmetric padding [top, bottom, left, right] is F.pad then an unpadded conv.

def conv_goldens():
    g = Golden('conv')

    def conv_case(name, x_shape, w_shape, stride, padding, dilation, groups, bias):
        x = rand(*x_shape).requires_grad_()
        w = rand(*w_shape).requires_grad_()
        b = rand(w_shape[0]).requires_grad_() if bias else None
        top, bottom, left, right = padding
        y = F.conv2d(F.pad(x, [left, right, top, bottom]), w, b, stride=stride, dilation=dilation, groups=groups)
        dy = rand(*y.shape)
        y.backward(dy)
        inputs = {'x': x.detach(), 'w': w.detach(), 'dy': dy}
        outputs = {'y': y, 'dx': x.grad, 'dw': w.grad}
        if bias:
            inputs['b'] = b.detach()
            outputs['db'] = b.grad
        params = {'stride': list(stride), 'padding': list(padding), 'dilation': list(dilation), 'groups': groups}
        g.add('conv2d', name, params, inputs, outputs)

    conv_case('3x3 pad1 odd shape', (1, 3, 7, 9), (4, 3, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1, True)
    conv_case('4x3 stride2 asymmetric pad', (2, 2, 9, 8), (3, 2, 4, 3), (2, 2), (0, 1, 2, 1), (1, 1), 1, False)
    conv_case('dilation2 stride (1,2)', (1, 2, 8, 9), (3, 2, 3, 3), (1, 2), (2, 2, 2, 2), (2, 2), 1, True)
    conv_case('groups2', (1, 4, 6, 7), (6, 2, 3, 3), (1, 1), (1, 0, 0, 1), (1, 1), 2, True)
    conv_case('depthwise 5x5 stride2 pad2', (2, 3, 7, 6), (3, 1, 5, 5), (2, 2), (2, 2, 2, 2), (1, 1), 3, False)
    conv_case('4x4 stride2 pad1 (PatchGAN)', (1, 3, 10, 10), (2, 3, 4, 4), (2, 2), (1, 1, 1, 1), (1, 1), 1, True)

    def conv_t_case(name, x_shape, w_shape, stride, padding, output_padding, dilation, groups, bias):
        x = rand(*x_shape)
        w = rand(*w_shape)
        b = rand(w_shape[1] * groups) if bias else None
        top, bottom, left, right = padding
        if top == bottom and left == right:
            y = F.conv_transpose2d(x, w, b, stride=stride, padding=(top, left), output_padding=output_padding,
                                   groups=groups, dilation=dilation)
        else:
            # No asymmetric padding in torch: transpose without padding, append the output padding
            # rows/columns (which receive nothing when padding is 0), then crop the padding away.
            full = F.conv_transpose2d(x, w, b, stride=stride, groups=groups, dilation=dilation)
            if b is not None:
                full = F.pad(full - b.view(1, -1, 1, 1), [0, output_padding[1], 0, output_padding[0]]) + b.view(1, -1, 1, 1)
            else:
                full = F.pad(full, [0, output_padding[1], 0, output_padding[0]])
            y = full[:, :, top:full.shape[2] - bottom, left:full.shape[3] - right]
        inputs = {'x': x, 'w': w}
        if bias:
            inputs['b'] = b
        params = {'stride': list(stride), 'padding': list(padding), 'outputPadding': list(output_padding),
                  'dilation': list(dilation), 'groups': groups}
        g.add('convTranspose2d', name, params, inputs, {'y': y})

    conv_t_case('4x4 s2 p1 (DCGAN)', (2, 4, 3, 3), (4, 3, 4, 4), (2, 2), (1, 1, 1, 1), (0, 0), (1, 1), 1, True)
    conv_t_case('3x3 s2 p1 outpad1 (CycleGAN)', (1, 3, 5, 4), (3, 2, 3, 3), (2, 2), (1, 1, 1, 1), (1, 1), (1, 1), 1, False)
    conv_t_case('asymmetric pad, outpad (1,0), dilation (1,2)', (1, 2, 4, 5), (2, 3, 3, 3), (2, 2), (0, 1, 1, 2), (1, 0), (1, 2), 1, True)
    conv_t_case('groups2 dilation2 outpad >= stride', (1, 4, 5, 4), (4, 2, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), (2, 2), 2, True)
    conv_t_case('4x4 s1 p0 from 1x1 (DCGAN first layer)', (3, 5, 1, 1), (5, 2, 4, 4), (1, 1), (0, 0, 0, 0), (0, 0), (1, 1), 1, False)
    g.write()


# ------------------------------------------------------------------------------------------------
# Layers

def nn_goldens():
    g = Golden('nn')

    x, w, b = rand(5, 7), rand(4, 7), rand(4)
    g.add('linear', 'with bias', {}, {'x': x, 'w': w, 'b': b}, {'y': F.linear(x, w, b)})
    x, w = rand(3, 6), rand(2, 6)
    g.add('linear', 'no bias', {}, {'x': x, 'w': w}, {'y': F.linear(x, w)})

    def mm(name, a, b, trans_a, trans_b):
        op_a = a.transpose(-1, -2) if trans_a else a
        op_b = b.transpose(-1, -2) if trans_b else b
        g.add('matmul', name, {'transA': trans_a, 'transB': trans_b}, {'a': a, 'b': b}, {'y': torch.matmul(op_a, op_b)})

    mm('2d', rand(3, 5), rand(5, 4), False, False)
    mm('2d transA', rand(5, 3), rand(5, 4), True, False)
    mm('2d transB', rand(3, 5), rand(4, 5), False, True)
    mm('batched transA transB', rand(2, 4, 3), rand(2, 5, 4), True, True)
    mm('batched a, shared b', rand(3, 2, 5), rand(5, 3), False, False)

    x, gamma, beta = rand(2, 3, 5, 7), rand(3, lo=0.5, hi=1.5), rand(3)
    g.add('instanceNorm', 'affine', {'eps': 1e-5}, {'x': x, 'gamma': gamma, 'beta': beta},
          {'y': F.instance_norm(x, weight=gamma, bias=beta, eps=1e-5)})
    x = rand(1, 4, 6, 3, lo=-2, hi=3)
    g.add('instanceNorm', 'no affine, eps 1e-3', {'eps': 1e-3}, {'x': x}, {'y': F.instance_norm(x, eps=1e-3)})

    def bn_train(name, x, gamma, beta, eps):
        c = x.shape[1]
        running_mean, running_var = torch.zeros(c), torch.ones(c)
        # momentum 1 makes the running stats equal to the batch stats PyTorch folds in.
        y = F.batch_norm(x, running_mean, running_var, gamma, beta, training=True, momentum=1.0, eps=eps)
        dims = [0] + list(range(2, x.dim()))
        inputs = {'x': x}
        if gamma is not None:
            inputs.update(gamma=gamma, beta=beta)
        g.add('batchNormTrain', name, {'eps': eps}, inputs,
              {'y': y, 'mean': running_mean, 'var': x.var(dim=dims, unbiased=False), 'varUnbiased': running_var})

    bn_train('NCHW affine', rand(3, 4, 5, 6), rand(4, lo=0.5, hi=1.5), rand(4), 1e-5)
    bn_train('NC (BatchNorm1d) no affine', rand(6, 5, lo=-3, hi=2), None, None, 1e-3)
    x, rm, rv, gamma, beta = rand(2, 3, 4, 5), rand(3), rand(3, lo=0.2, hi=2), rand(3, lo=0.5, hi=1.5), rand(3)
    g.add('batchNormEval', 'NCHW', {'eps': 1e-5}, {'x': x, 'runningMean': rm, 'runningVar': rv, 'gamma': gamma, 'beta': beta},
          {'y': F.batch_norm(x, rm, rv, gamma, beta, training=False, eps=1e-5)})

    def pad_case(name, x, pad, mode, value=0.0):
        top, bottom, left, right = pad
        torch_mode = 'constant' if mode == 'zeros' else mode
        kwargs = {'value': value} if mode == 'zeros' else {}
        y = F.pad(x, [left, right, top, bottom], mode=torch_mode, **kwargs)
        g.add('pad', name, {'pad': list(pad), 'mode': mode, 'value': value}, {'x': x}, {'y': y})

    pad_case('reflect asymmetric', rand(1, 2, 5, 6), (1, 2, 3, 0), 'reflect')
    pad_case('reflect 3 (CycleGAN c7s1)', rand(2, 1, 4, 5), (3, 3, 3, 3), 'reflect')
    pad_case('replicate asymmetric', rand(1, 2, 4, 3), (2, 1, 0, 3), 'replicate')
    pad_case('zeros with value 0.5', rand(1, 3, 3, 4), (1, 1, 2, 0), 'zeros', 0.5)

    x = rand(1, 2, 3, 4)
    g.add('upsampleNearest', 'scale 2x2', {'scale': [2, 2]}, {'x': x}, {'y': F.interpolate(x, scale_factor=(2, 2), mode='nearest')})
    g.add('upsampleNearest', 'scale 3x1', {'scale': [3, 1]}, {'x': x}, {'y': F.interpolate(x, scale_factor=(3, 1), mode='nearest')})

    def bilinear(name, x, out_h, out_w, align):
        y = F.interpolate(x, size=(out_h, out_w), mode='bilinear', align_corners=align)
        g.add('upsampleBilinear', name, {'outH': out_h, 'outW': out_w, 'alignCorners': align}, {'x': x}, {'y': y})

    for align in (False, True):
        bilinear(f'up 5x7 -> 9x12 align={align}', rand(1, 2, 5, 7), 9, 12, align)
        bilinear(f'down 7x9 -> 4x5 align={align}', rand(2, 1, 7, 9), 4, 5, align)
        bilinear(f'x2 3x4 -> 6x8 align={align}', rand(1, 1, 3, 4), 6, 8, align)
        bilinear(f'to a single row 4x5 -> 1x3 align={align}', rand(1, 1, 4, 5), 1, 3, align)

    def avg(name, x, k, s, p, include):
        y = F.avg_pool2d(x, k, stride=s, padding=p, count_include_pad=include)
        g.add('avgPool2d', name, {'kernel': k, 'stride': s, 'padding': p, 'countIncludePad': include}, {'x': x}, {'y': y})

    x = rand(1, 2, 7, 9)
    avg('k3 s2 p1 include pad', x, 3, 2, 1, True)
    avg('k3 s2 p1 exclude pad', x, 3, 2, 1, False)
    avg('k2 default stride', rand(2, 1, 6, 7), 2, None, 0, True)
    avg('k(3,2) s(1,2) p(1,0) exclude pad', rand(1, 2, 5, 6), [3, 2], [1, 2], [1, 0], False)
    g.write()


# ------------------------------------------------------------------------------------------------
# Laplacian pyramid, built from F.pad(reflect) + depthwise F.conv2d with the 5x5 binomial kernel.

BINOMIAL = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16


def blur(x, gain):
    c = x.shape[1]
    kernel = (torch.outer(BINOMIAL, BINOMIAL) * gain).expand(c, 1, 5, 5)
    return F.conv2d(F.pad(x, [2, 2, 2, 2], mode='reflect'), kernel, groups=c)


def pyr_down(x):
    return blur(x, 1)[:, :, ::2, ::2]


def pyr_up(x, out_h, out_w):
    u = torch.zeros(x.shape[0], x.shape[1], out_h, out_w)
    u[:, :, ::2, ::2] = x
    return blur(u, 4)


def pyramid_goldens():
    g = Golden('pyramid')
    for shape, levels in (((1, 2, 9, 11), 2), ((2, 1, 8, 8), 2), ((1, 3, 12, 7), 2), ((1, 1, 5, 6), 1)):
        x = rand(*shape)
        h, w = shape[2], shape[3]
        down = pyr_down(x)
        up = pyr_up(down, h, w)
        bands, low = [], x
        for _ in range(levels):
            nxt = pyr_down(low)
            bands.append(low - pyr_up(nxt, low.shape[2], low.shape[3]))
            low = nxt
        outputs = {'down': down, 'up': up, 'band': x - up}
        outputs.update({f'pyramid{k}': b for k, b in enumerate(bands + [low])})
        name = 'x'.join(str(d) for d in shape)
        g.add('pyramid', name, {'levels': levels}, {'x': x}, outputs)
    g.write()


# ------------------------------------------------------------------------------------------------
# Losses

def loss_goldens():
    g = Golden('losses')
    logits = rand(4, 5, lo=-4, hi=4)
    logits[0, :4] = torch.tensor([30.0, -30.0, 50.0, -50.0])  # saturated logits: the stable form matters
    targets = torch.cat([torch.randint(0, 2, (2, 5)).double(), rand(2, 5, lo=0, hi=1)])
    for red in ('mean', 'sum', 'none'):
        g.add('bceWithLogits', red, {'reduction': red}, {'logits': logits, 'targets': targets},
              {'y': F.binary_cross_entropy_with_logits(logits, targets, reduction=red)})
    a, b = rand(3, 4, 5), rand(3, 4, 5)
    for red in ('mean', 'sum', 'none'):
        g.add('mse', red, {'reduction': red}, {'a': a, 'b': b}, {'y': F.mse_loss(a, b, reduction=red)})
        g.add('l1', red, {'reduction': red}, {'a': a, 'b': b}, {'y': F.l1_loss(a, b, reduction=red)})
    logits = rand(5, 7, lo=-3, hi=3)
    logits[1, 2] = 80.0
    labels = torch.randint(0, 7, (5,), dtype=torch.int32)
    for red in ('mean', 'none'):
        g.add('softmaxCrossEntropy', f'indices {red}', {'reduction': red}, {'logits': logits, 'labels': labels},
              {'y': F.cross_entropy(logits, labels.long(), reduction=red)})
    onehot = F.one_hot(labels.long(), 7).double()
    g.add('softmaxCrossEntropy', 'one-hot sum', {'reduction': 'sum'}, {'logits': logits, 'labels': onehot},
          {'y': F.cross_entropy(logits, onehot, reduction='sum')})
    soft = torch.round(F.softmax(rand(5, 7, lo=-2, hi=2), dim=1) * 1e4) / 1e4
    g.add('softmaxCrossEntropy', 'soft targets mean', {'reduction': 'mean'}, {'logits': logits, 'labels': soft},
          {'y': F.cross_entropy(logits, soft, reduction='mean')})

    mu, logvar = rand(4, 6, lo=-2, hi=2), rand(4, 6, lo=-3, hi=1)
    kl = (-0.5 * (1 + logvar - mu ** 2 - logvar.exp())).sum(dim=1).mean()
    normal = torch.distributions.Normal
    kl_check = torch.distributions.kl_divergence(normal(mu, (0.5 * logvar).exp()), normal(0.0, 1.0)).sum(dim=1).mean()
    assert torch.allclose(kl, kl_check), (kl, kl_check)
    g.add('gaussianKl', 'batch 4 x 6', {}, {'mu': mu, 'logvar': logvar}, {'y': kl})

    energy = rand(10, lo=0, hi=1)
    for red in ('mean', 'none'):
        g.add('hinge', f'margin 0.5 {red}', {'margin': 0.5, 'reduction': red}, {'energy': energy},
              {'y': F.relu(0.5 - energy) if red == 'none' else F.relu(0.5 - energy).mean()})
    g.write()


# ------------------------------------------------------------------------------------------------
# Activations

def activation_goldens():
    g = Golden('activations')
    x = rand(3, 4, 7, lo=-4, hi=4)
    x[0, 0, :4] = torch.tensor([40.0, -40.0, 0.0, 25.0])
    g.add('relu', 'relu', {}, {'x': x}, {'y': F.relu(x)})
    g.add('leakyRelu', 'slope 0.2', {'slope': 0.2}, {'x': x}, {'y': F.leaky_relu(x, 0.2)})
    g.add('tanh', 'tanh', {}, {'x': x}, {'y': torch.tanh(x)})
    g.add('sigmoid', 'sigmoid', {}, {'x': x}, {'y': torch.sigmoid(x)})
    g.add('softplus', 'beta 1 threshold 20', {'beta': 1, 'threshold': 20}, {'x': x}, {'y': F.softplus(x)})
    g.add('softplus', 'beta 2 threshold 5', {'beta': 2, 'threshold': 5}, {'x': x}, {'y': F.softplus(x, beta=2, threshold=5)})
    g.add('elu', 'alpha 1', {'alpha': 1.0}, {'x': x}, {'y': F.elu(x)})
    g.add('elu', 'alpha 0.5', {'alpha': 0.5}, {'x': x}, {'y': F.elu(x, alpha=0.5)})
    z = rand(2, 3, 6, lo=-5, hi=5)
    z[0, 1, :] += 100.0  # softmax must subtract the row max
    g.add('softmax', 'last axis', {}, {'x': z}, {'y': F.softmax(z, dim=-1)})
    g.add('logSoftmax', 'last axis', {}, {'x': z}, {'y': F.log_softmax(z, dim=-1)})
    g.write()


if __name__ == '__main__':
    conv_goldens()
    nn_goldens()
    pyramid_goldens()
    loss_goldens()
    activation_goldens()
