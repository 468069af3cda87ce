"""Writer for step goldens (tests/golden/steps/<name>.safetensors), read by tests/support/stepgolden.ts.

A PyTorch transcription of one model's training loop calls:

    g = StepGolden(name, config={...}, settings={...})
    g.init(nets)                      # {net_name: nn.Module}: state before step 1
    g.input('real', x)                # what the steps consume
    z = g.draw('z_G', tensor)         # every random draw, in the engine's order; returns the tensor
    ... the step ...
    g.grads(1, nets)                  # optional, after backward and before optimizer.step()
    g.after(1, nets, {'lossD': v, ...})
    g.write()

Everything is stored as float32 (integer buffers such as num_batches_tracked as float32 too; the
loader converts). safetensors is written by hand: 8-byte little-endian header length, JSON header,
raw little-endian data.
"""
import json
import os
import struct

import numpy as np
import torch

OUT_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..', 'tests', 'golden', 'steps'))


def write_safetensors(path, tensors, metadata):
    header = {'__metadata__': {k: str(v) for k, v in metadata.items()}}
    blobs = []
    offset = 0
    for name, arr in tensors.items():
        a = np.array(arr, dtype='<f4', order='C')  # (ascontiguousarray would turn 0-d into 1-d)
        b = a.tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().to(torch.float64).numpy().astype(np.float32)
    return np.asarray(t, dtype=np.float32)


class StepGolden:
    def __init__(self, name, config, settings, notes=''):
        self.name = name
        self.config = config
        self.settings = settings
        self.notes = notes
        self.tensors = {}
        self.labels = []
        self.steps = 0

    def _state(self, prefix, nets):
        for net, m in nets.items():
            for k, v in m.state_dict().items():
                self.tensors[f'{prefix}.{net}.{k}'] = _np(v)

    def init(self, nets):
        self._state('init', nets)

    def input(self, name, t):
        self.tensors[f'input.{name}'] = _np(t)
        return t

    def draw(self, label, t):
        """Records a random draw (the exact values the engine's op would produce) and returns it."""
        self.tensors[f'draw.{len(self.labels)}'] = _np(t)
        self.labels.append(label)
        return t

    def grads(self, k, nets):
        for net, m in nets.items():
            for pname, p in m.named_parameters():
                if p.grad is not None:
                    self.tensors[f'grad{k}.{net}.{pname}'] = _np(p.grad)

    def after(self, k, nets, stats):
        self._state(f'step{k}', nets)
        for s, v in stats.items():
            self.tensors[f'stat{k}.{s}'] = np.array([float(v)], dtype=np.float32)
        self.steps = max(self.steps, k)

    def write(self):
        os.makedirs(OUT_DIR, exist_ok=True)
        path = os.path.join(OUT_DIR, f'{self.name}.safetensors')
        write_safetensors(path, self.tensors, {
            'config': json.dumps(self.config), 'settings': json.dumps(self.settings), 'steps': self.steps,
            'draw_labels': json.dumps(self.labels), 'notes': self.notes,
        })
        print(f'wrote {path} ({os.path.getsize(path)} bytes)')
