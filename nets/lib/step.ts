// The one gradient step every trainer takes: minimise a loss over one optimiser's parameters with
// the other networks the loss runs through frozen (their weights constants, as
// set_requires_grad(net, False) in the PyTorch references). `gradsInto` is its first half, for the
// papers that take several gradients from one forward pass before any network changes (BEGAN's
// L_D and L_G, GMAN's joint update).

import { grad, type Tensor, type nn, type optim } from '../../engine/index.js';

/**
 * d(loss)/d(params) into each parameter's .grad (replacing what was there), without an optimiser
 * step, so several gradients can be taken from one forward pass before any network changes (GMAN
 * updates every D and G at once, as its reference does). The graph stays usable for another call.
 * `frozen` networks have their parameters' requiresGrad switched off during the backward pass, so
 * a loss that runs through another network (G's loss through D) does not compute that network's
 * weight gradients only to drop them (a backward rule skips inputs that no longer require grad),
 * as set_requires_grad(netD, False) does in PyTorch.
 */
export function gradsInto(loss: Tensor, params: readonly Tensor[], frozen: readonly nn.Module[] = []): void {
  const off = frozen.flatMap((m) => m.parameters()).filter((p) => p.requiresGrad && !params.includes(p));
  for (const p of off) p.requiresGrad = false;
  let grads: (Tensor | null)[];
  try {
    grads = grad(loss, [...params], { allowUnused: true });
  } finally {
    for (const p of off) p.requiresGrad = true;
  }
  params.forEach((p, i) => {
    p.grad?.dispose();
    p.grad = grads[i] ? grads[i]!.keep() : null;
  });
}

/**
 * One optimisation step: d(loss)/d(params) of the optimiser's parameters into their .grad (the
 * `frozen` networks' weights held constant, their weight gradients never computed), then
 * optimizer.step(). Several optimisers are stepped on one gradient, taken before any of them moves
 * (the references' single Adam over both generators of CycleGAN, DualGAN, DiscoGAN). The graph
 * stays usable for another call.
 */
export function minimize(
  loss: Tensor,
  optimizer: optim.Optimizer | readonly optim.Optimizer[],
  opts: { frozen?: readonly nn.Module[] } = {},
): void {
  const optimizers = Array.isArray(optimizer) ? optimizer : [optimizer as optim.Optimizer];
  gradsInto(
    loss,
    optimizers.flatMap((o) => o.params),
    opts.frozen ?? [],
  );
  for (const o of optimizers) o.step();
}
