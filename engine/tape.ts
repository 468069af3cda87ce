// Reverse-mode autograd over the recorded graph.
// Every op that may need a gradient calls record(): the output gets a GradNode naming its inputs
// and a backward function written with ops (so a backward is itself recorded when createGraph is
// on, which gives gradients of gradients, e.g. the WGAN-GP penalty).
// backward()/grad() sort the graph once (iterative DFS, post-order) and walk it in reverse: a
// shared subgraph is visited once no matter how many paths reach it; gradients accumulate with add,
// or, where a backward kernel can, in that kernel's epilogue (accumulationTarget() below).

import { type Tensor, tidy, fmtShape, nextTensorIdPeek, type GradNode } from './tensor.js';

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording anything for autograd. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export function withGrad<T>(enabled: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Attaches an autograd record to `out` when grad mode is on and any input requires grad.
 * `saved` lists the tensors the backward reads (default: every input); their versions are kept, and
 * backward()/grad() refuse to run this backward once any of them was written in place since (an
 * optimiser step, a copy, running statistics), naming the op, the tensor and both versions, as
 * PyTorch's "modified by an inplace operation" error does. Ops whose backward reads no input (add,
 * reshape, sum, ...) pass []; ops that read their output (exp, tanh, ...) pass [out].
 */
export function record(out: Tensor, op: string, inputs: Tensor[], backward: GradNode['backward'], saved: Tensor[] = inputs): Tensor {
  if (!gradEnabled) return out;
  if (!inputs.some((t) => t.requiresGrad)) return out;
  out.requiresGrad = true;
  out.node = { op, inputs, backward, saved, savedVersions: saved.map((t) => t.version) };
  return out;
}

/** Throws when a tensor that node's backward reads was written in place after the forward pass. */
function checkSaved(node: GradNode): void {
  node.saved.forEach((t, i) => {
    const now = t.version;
    if (now === node.savedVersions[i]) return;
    const who = t.label ? `'${t.label}' ${fmtShape(t.shape)}` : `a tensor ${fmtShape(t.shape)}${t.node ? ` (output of ${t.node.op})` : ''}`;
    throw new Error(
      `autograd: ${who} that the backward of ${node.op} reads was modified in place after the forward pass: ` +
        `it is at version ${now}, ${node.op} saved version ${node.savedVersions[i]}. ` +
        `Typical cause: an optimiser step (or a copy / running-statistics update) between a forward pass and the backward through it. ` +
        `Fix: take every gradient of that forward pass before any optimiser step, or run the forward pass again after the step.`,
    );
  });
}

// The add used to accumulate gradients; injected by ops/elementwise to avoid an import cycle.
let addImpl: ((a: Tensor, b: Tensor) => Tensor) | null = null;
let onesLikeImpl: ((t: Tensor) => Tensor) | null = null;
export function registerTapeOps(add: (a: Tensor, b: Tensor) => Tensor, onesLike: (t: Tensor) => Tensor): void {
  addImpl = add;
  onesLikeImpl = onesLike;
}

/**
 * Gradient accumulation in the producers (switch for tests and comparisons: off, every sum is a
 * separate `add` as before).
 */
export const gradAccumulation = { enabled: true };

// While a backward runs with createGraph off: the gradient already collected for each of its
// inputs that the backward may add into in place. Set by runBackward around each backward call.
let accTargets: Map<Tensor, Tensor> | null = null;

/**
 * The hook for gradient accumulation in kernel epilogues. Called by a backward function for one of
 * its node's inputs: when that input already has a gradient from another path, and the tape owns
 * that tensor outright (created during this backward pass, no other view of its storage, not kept,
 * createGraph off), returns it; else null. A backward that adds its gradient for `input` into the
 * returned tensor (`out += result` in its kernel's epilogue, the same single rounding as the add
 * it replaces) must return that very tensor for `input`: the tape then skips its own add. A
 * backward may ignore the target and return a fresh gradient; the tape adds it as before.
 */
export function accumulationTarget(input: Tensor): Tensor | null {
  return accTargets?.get(input) ?? null;
}

function topoOrder(roots: Tensor[]): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<number>();
  const stack: [Tensor, number][] = [];
  for (const r of roots) {
    if (seen.has(r.id)) continue;
    seen.add(r.id);
    stack.push([r, 0]);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [t, i] = top;
      const inputs = t.node?.inputs ?? [];
      if (i < inputs.length) {
        top[1]++;
        const c = inputs[i];
        if (c.requiresGrad && !seen.has(c.id)) {
          seen.add(c.id);
          stack.push([c, 0]);
        }
      } else {
        stack.pop();
        order.push(t);
      }
    }
  }
  return order; // inputs before the tensors computed from them
}

interface RunOptions {
  createGraph: boolean;
  /** Tensors whose gradients are wanted (null: every leaf that requires grad). */
  targets: Set<number> | null;
}

function runBackward(roots: Tensor[], rootGrads: Tensor[], opts: RunOptions): Map<number, Tensor> {
  const add = addImpl!;
  const order = topoOrder(roots);
  // Which tensors lead to a wanted gradient: only those paths are walked.
  const leads = new Set<number>();
  for (const t of order) {
    const isTarget = opts.targets ? opts.targets.has(t.id) : !t.node && t.requiresGrad;
    if (isTarget || (t.node && t.node.inputs.some((c) => leads.has(c.id)))) leads.add(t.id);
  }
  const grads = new Map<number, Tensor>();
  const owned = new Set<Tensor>();
  // Tensors with a larger id were created during this pass (ids only grow).
  const firstId = nextTensorIdPeek();
  const accepted = new Set<Tensor>();
  const put = (t: Tensor, g: Tensor, passThrough: Tensor | null) => {
    if (g.shape.length !== t.shape.length || g.shape.some((d, i) => d !== t.shape[i])) {
      throw new Error(
        `autograd: ${t.node?.op ?? 'leaf'} received a gradient of shape ${fmtShape(g.shape)} for a tensor of shape ${fmtShape(t.shape)} (engine bug in a backward rule)`,
      );
    }
    // Without createGraph each map slot owns its own Tensor object: a backward that hands back its
    // own input gradient (or one tensor for two inputs) gets a view, so disposing one slot never
    // frees another. With createGraph nothing is disposed here and the tensor itself must be kept,
    // since a view would carry no autograd record and cut the second-order path.
    // The backward added this gradient into the slot's own tensor (accumulationTarget): done.
    if (grads.get(t.id) === g && accepted.has(g)) return;
    const alias = g === passThrough || owned.has(g);
    const mine = alias && !opts.createGraph ? g.viewAs(g.shape) : g;
    const prev = grads.get(t.id);
    if (prev) {
      const sum = add(prev, mine);
      if (!opts.createGraph) {
        prev.dispose();
        mine.dispose();
        owned.delete(prev);
      }
      grads.set(t.id, sum);
      owned.add(sum);
    } else {
      grads.set(t.id, mine);
      owned.add(mine);
    }
  };
  roots.forEach((r, i) => {
    // The caller's gradient tensors stay the caller's: the map holds views of them.
    if (leads.has(r.id)) put(r, rootGrads[i], rootGrads[i]);
  });
  for (let k = order.length - 1; k >= 0; k--) {
    const t = order[k];
    const node = t.node;
    const g = grads.get(t.id);
    if (!node || !g) continue;
    const wanted = node.inputs.map((c) => leads.has(c.id));
    if (!wanted.some(Boolean)) continue;
    checkSaved(node);
    const run = () => node.backward(g);
    let inGrads: (Tensor | null | undefined)[];
    if (opts.createGraph) inGrads = run();
    else {
      // Offer each wanted input's collected gradient as an in-place accumulation target when the
      // tape owns it outright (and the input appears once among the node's inputs).
      const targets = new Map<Tensor, Tensor>();
      if (gradAccumulation.enabled) {
        node.inputs.forEach((c, i) => {
          const prev = wanted[i] ? grads.get(c.id) : undefined;
          if (
            prev &&
            prev.id >= firstId &&
            prev.storage.refs === 1 &&
            !prev.isKept &&
            node.inputs.indexOf(c) === node.inputs.lastIndexOf(c)
          )
            targets.set(c, prev);
        });
      }
      const outer = accTargets;
      accTargets = targets.size ? targets : null;
      try {
        inGrads = tidy(() => noGrad(run));
      } finally {
        accTargets = outer;
      }
      accepted.clear();
      node.inputs.forEach((c, i) => {
        const gi = inGrads[i];
        if (gi && targets.get(c) === gi) accepted.add(gi);
      });
    }
    node.inputs.forEach((c, i) => {
      const gi = inGrads[i];
      if (gi && wanted[i]) put(c, gi, g);
      else if (gi && gi !== g && !opts.createGraph) gi.dispose();
    });
    const isTarget = opts.targets ? opts.targets.has(t.id) : false;
    if (!isTarget && !opts.createGraph) {
      grads.delete(t.id);
      owned.delete(g);
      g.dispose();
    }
  }
  return grads;
}

function defaultRootGrad(t: Tensor): Tensor {
  if (t.size !== 1) {
    throw new Error(`backward: output ${fmtShape(t.shape)} is not a scalar; pass its gradient explicitly (backward(t, grad))`);
  }
  return onesLikeImpl!(t);
}

/**
 * Accumulates d(out)/d(leaf) into `.grad` of every leaf that requires grad (parameters and tensors
 * marked with requireGrad()). `out` must be a scalar unless `gradOut` is given.
 */
export function backward(out: Tensor, gradOut?: Tensor, opts: { createGraph?: boolean } = {}): void {
  if (!out.requiresGrad)
    throw new Error(
      `backward: ${out.describe()} does not require grad (nothing it depends on is a parameter or a requireGrad() tensor, or it was computed under noGrad)`,
    );
  const createGraph = !!opts.createGraph;
  const g0 = gradOut ?? defaultRootGrad(out);
  const grads = withGrad(createGraph, () => runBackward([out], [g0], { createGraph, targets: null }));
  for (const t of topoOrder([out])) {
    const g = grads.get(t.id);
    if (!g) continue;
    if (t.node || !t.requiresGrad) {
      // An intermediate gradient, left in the map only when createGraph is on.
      continue;
    }
    if (t.grad) {
      const sum = withGrad(createGraph, () => addImpl!(t.grad!, g));
      t.grad.dispose();
      if (!createGraph) g.dispose();
      t.grad = sum.keep();
    } else {
      t.grad = g.keep();
    }
  }
}

/**
 * Gradients of `outputs` with respect to `inputs` (any tensors in the graph, not only leaves), like
 * torch.autograd.grad. With createGraph the results are themselves differentiable.
 */
export function grad(
  outputs: Tensor | Tensor[],
  inputs: Tensor[],
  opts: { gradOutputs?: Tensor[]; createGraph?: boolean; allowUnused?: boolean } = {},
): Tensor[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  for (const o of outs) if (!o.requiresGrad) throw new Error(`grad: output ${o.describe()} does not require grad`);
  for (const x of inputs)
    if (!x.requiresGrad)
      throw new Error(
        `grad: input ${x.describe()} does not require grad, so no gradient flows to it (call requireGrad() on it before the forward pass)`,
      );
  const createGraph = !!opts.createGraph;
  const g0 = opts.gradOutputs ?? outs.map(defaultRootGrad);
  const targets = new Set(inputs.map((x) => x.id));
  const grads = withGrad(createGraph, () => runBackward(outs, g0, { createGraph, targets }));
  const result = inputs.map((x, i) => {
    const g = grads.get(x.id);
    if (!g) {
      if (opts.allowUnused) return null;
      throw new Error(`grad: input #${i} ${x.describe()} is not used to compute the outputs (pass allowUnused: true to get null)`);
    }
    grads.delete(x.id);
    return g;
  });
  if (!createGraph) for (const g of grads.values()) g.dispose();
  return result as Tensor[];
}
