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
