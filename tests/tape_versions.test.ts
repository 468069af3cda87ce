// Version counters on the tape: every in-place write (a kernel's read_write binding, a copy, an
// upload: optimiser steps, running statistics, assign/fill, loadStateDict) bumps the written
// tensor's version; each recorded op keeps the versions of the tensors its backward reads; a
// backward that would read a tensor changed since the forward pass throws, naming the op, the tensor
// (its parameter path where an optimiser named it) and both versions. The backward of an op that
// reads none of its inputs (add, reshape, sum, ...) is not refused, as in PyTorch.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tensor, tidy, backward, grad, assign, type Tensor } from '../engine/index.js';
import { add, mul, exp } from '../engine/ops/elementwise.js';
import { sum, mean } from '../engine/ops/reduce.js';
import { reshape } from '../engine/ops/movement.js';
import { l1 } from '../engine/ops/losses.js';
import { Linear } from '../engine/nn/layers.js';
import { Sequential, Module } from '../engine/nn/module.js';
import { Adam } from '../engine/optim.js';

beforeAll(async () => {
  await initEngine();
});

class TinyG extends Module {
  fc = new Linear(2, 3);
  override forward(z: Tensor): Tensor {
    return this.fc.call(z);
  }
}

describe('tape version counters', () => {
  it('optimiser steps, copies and uploads bump the version; reads do not', async () => {
    const lin = new Linear(2, 2);
    const w = lin.weight;
    const v0 = w.version;
    tidy(() => lin.call(tensor([1, 2], [1, 2])));
    expect(w.version).toBe(v0); // a forward pass only reads the weight
    const opt = new Adam(lin, { lr: 0.1 });
    backward(sum(lin.call(tensor([1, 2], [1, 2]))));
    opt.step();
    expect(w.version).toBeGreaterThan(v0);
    const v1 = w.version;
    assign(w, [1, 2, 3, 4]);
    expect(w.version).toBeGreaterThan(v1);
    const view = reshape(w.detach(), [4]);
    expect(view.version).toBe(w.version); // views share the counter
  });

  it("refuses BEGAN's old order: G's gradient through D's weights after D's optimiser step", () => {
    // D an autoencoder-like map, G a linear decoder; L_D and L_G from one forward pass.
    const netD = new Sequential(new Linear(3, 2), new Linear(2, 3));
    const netG = new TinyG();
    const optD = new Adam(netD, { lr: 1e-2 });
    const z = tensor([0.3, -0.7, 0.1, 0.9], [2, 2]);
    const x = tensor([0.5, -0.2, 0.4, 0.1, 0.8, -0.6], [2, 3]);
    const fake = netG.call(z);
    const lossReal = l1(netD.call(x), x);
    const lossFake = l1(netD.call(fake), fake);
    const lossD = add(lossReal, mul(lossFake, tensor([-0.5], [])));
    const gD = grad(lossD, netD.parameters());
    netD.parameters().forEach((p, i) => (p.grad = gD[i].keep()));
    optD.step(); // D's weights change in place...
    // ...so G's gradient through D's backward would read the new weights: refused.
    expect(() => grad(lossFake, netG.parameters())).toThrow(
      /autograd: 'Sequential\.1\.weight' \[3, 2\] that the backward of (linear|matmul) reads was modified in place after the forward pass: it is at version \d+, \1 saved version \d+\. .*Fix: take every gradient/,
    );
  });

  it('the same step in the right order (both gradients first, then both updates) runs', async () => {
    const netD = new Sequential(new Linear(3, 2), new Linear(2, 3));
    const netG = new TinyG();
    const optD = new Adam(netD, { lr: 1e-2 });
    const optG = new Adam(netG, { lr: 1e-2 });
    const z = tensor([0.3, -0.7, 0.1, 0.9], [2, 2]);
    const x = tensor([0.5, -0.2, 0.4, 0.1, 0.8, -0.6], [2, 3]);
    const fake = netG.call(z);
    const lossFake = l1(netD.call(fake), fake);
    const lossD = add(l1(netD.call(x), x), mul(lossFake, tensor([-0.5], [])));
    const gD = grad(lossD, netD.parameters());
    const gG = grad(lossFake, netG.parameters());
    netD.parameters().forEach((p, i) => (p.grad = gD[i].keep()));
    netG.parameters().forEach((p, i) => (p.grad = gG[i].keep()));
    optD.step();
    optG.step();
    for (const v of await netG.fc.weight.data()) expect(Number.isFinite(v)).toBe(true);
  });

  it('an op whose backward reads no input is not refused (bias add after a step), as in PyTorch', async () => {
    const b = tensor([1, 2, 3], [3]).requireGrad();
    const x = tensor([0.5, 0.25, 2], [3]).requireGrad();
    const y = sum(mul(add(x, b), x)); // add reads nothing; mul reads (x + b) and x
    const [gx0] = grad(y, [x], {}).map((g) => g);
    const opt = new Adam([b], { lr: 0.5 });
    b.grad = tensor([1, 1, 1], [3]);
    const before = b.version;
    opt.step();
    expect(b.version).toBeGreaterThan(before);
    // mul saved (x + b), a fresh tensor that the step did not touch: the gradient is the old one.
    const [gx] = grad(sum(mul(add(x, b), x)), [x]);
    expect(Array.from(await gx.data())).not.toEqual(Array.from(await gx0.data())); // new forward sees new b
    const z = add(x, b);
    const loss = mean(z);
    assign(b, [9, 9, 9]);
    const [gz] = grad(loss, [x]); // add's backward does not read b: allowed
    expect(Array.from(await gz.data()).map((v) => +v.toFixed(6))).toEqual([0.333333, 0.333333, 0.333333]);
  });

  it("an op's saved output written in place is refused, naming the op", () => {
    const x = tensor([0.1, 0.2], [2]).requireGrad();
    const y = exp(x);
    const loss = sum(y);
    assign(y.detach(), [5, 5]); // y's storage changes under exp's backward
    expect(() => backward(loss)).toThrow(/a tensor \[2\] .*that the backward of exp reads was modified in place.*version/);
  });
});
