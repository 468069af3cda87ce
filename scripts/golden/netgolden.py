"""What the network golden scripts share (make_net_goldens.py, make_stargan_goldens.py,
make_dualgan_discogan_goldens.py, make_triplegan_goldens.py): the folder they write,
tests/golden/nets/, the params file of full-size networks, and safetensors written by hand
(8-byte little-endian header length, JSON header padded with spaces to 8 bytes, raw data).
"""
import json
import os
import struct

import numpy as np
import torch

OUT_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..', 'tests', 'golden', 'nets'))


def describe(net):
    """A network's parameter count and every state_dict key with its shape."""
    return {
        'params': sum(p.numel() for p in net.parameters()),
        'keys': [[k, list(v.shape)] for k, v in net.state_dict().items()],
    }


def write_params(filename, nets):
    """Writes OUT_DIR/filename: {torch version, name: describe(net)} for full-size networks."""
    out = {'torch': torch.__version__}
    for name, net in nets.items():
        out[name] = describe(net)
        print(f'{name}: {out[name]["params"]:,} parameters, {len(out[name]["keys"])} state_dict entries')
    path = os.path.join(OUT_DIR, filename)
    with open(path, 'w') as f:
        json.dump(out, f, separators=(',', ':'))
    print(f'{path}: {os.path.getsize(path)} bytes')


def write_safetensors(path, tensors):
    """Writes numpy arrays (float32 as F32, int64 as I64) in the order given."""
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        shape = list(arr.shape)  # before ascontiguousarray, which turns 0-d arrays into 1-d
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


def randomize(net, gen, batches_tracked=7, mean_scale=0.1):
    """Random weights at a scale that keeps activations O(1), random norm scales and running
    statistics, so a wrong key, layout or eval-mode formula changes the output. num_batches_tracked
    is filled with `batches_tracked`, the running means drawn with standard deviation `mean_scale`
    (each script keeps the values its goldens were written with)."""
    with torch.no_grad():
        for name, t in net.state_dict().items():
            if name.endswith('num_batches_tracked'):
                t.fill_(batches_tracked)
            elif name.endswith('running_mean'):
                t.copy_(torch.randn(t.shape, generator=gen) * mean_scale)
            elif name.endswith('running_var'):
                t.copy_(torch.rand(t.shape, generator=gen) * 0.5 + 0.75)
            elif t.dim() >= 2:
                # conv [out, in, kh, kw] / conv-transpose [in, out, kh, kw]: unit variance out
                t.copy_(torch.randn(t.shape, generator=gen) / np.sqrt(t[0].numel()))
            elif name.endswith('bias'):
                t.copy_(torch.randn(t.shape, generator=gen) * 0.1)
            else:  # a norm layer's scale
                t.copy_(1 + torch.randn(t.shape, generator=gen) * 0.1)
