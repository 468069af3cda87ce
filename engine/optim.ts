// Optimisers (Adam/AdamW, RMSprop, SGD) and learning-rate schedulers, with PyTorch's update rules.
// Each step() launches fused multi-tensor kernels (shaders/optim.ts): one dispatch updates up to
// OPTIM_MAX_SLOTS parameter tensors (as many as the adapter's storage-buffer limit allows: 4 Adam
// tensors at 16 storage buffers per stage), reading each gradient and updating the parameter and its
// state in place; the per-element arithmetic is the one-tensor kernel's, so the bits do not depend on
// the grouping. Step-dependent scalars (bias corrections) are computed on the host from a
// per-parameter step count, so a step never reads anything back. A parameter whose .grad is null is skipped (its step count does not advance),
// as in PyTorch. With `checkFinite: true`, step() first counts non-finite gradient values on the GPU
// and awaits that count (one small readback); if any are found it throws and leaves parameters,
// state and step counts exactly as they were.
// stateDict()/loadStateDict() carry the hyperparameters, per-parameter step counts and state
// tensors, so a checkpoint resumes training bit for bit.

import { Tensor, fmtShape, labelTensor } from './tensor.js';
import type { KernelSpec, UniformValue } from './device.js';
import { zeros } from './ops/index.js';
import { launch, grid1d, f32 } from './ops/kernel.js';
import {
  adamSource,
  sgdSource,
  rmspropSource,
  OPTIM_WG,
  OPTIM_MAX_SLOTS,
  type OptimSource,
  type WeightDecayMode,
} from '../shaders/optim.js';
import { countNonFinite } from './finite.js';
import { Module } from './nn/module.js';
import { checkState, copyStateInto, stateEntries, type StateValue } from './nn/state.js';

/** Parameters to optimise: a module (named parameters), tensors, or [name, tensor] pairs. */
export type ParamsInput = Module | Iterable<Tensor> | Iterable<readonly [string, Tensor]>;

export type HyperValue = number | boolean | number[];

/** An optimiser's state: JSON-safe parts plus tensors (keyed `${paramIndex}.${stateName}`). */
export interface OptimizerStateDict {
  type: string;
  hyper: Record<string, HyperValue>;
  /** Step count per parameter index (absent: the parameter has no state yet). */
  steps: Record<string, number>;
  tensors: Record<string, StateValue>;
}

interface Slot {
  name: string;
  param: Tensor;
  step: number;
  state: Map<string, Tensor>;
}

export interface OptimizerOptions {
  lr?: number;
  /** Check gradients for NaN/Inf before each step (one small readback per step); step() then returns a Promise. */
  checkFinite?: boolean;
  /**
   * At most this many parameter tensors per update dispatch (default: as many as the kernel and the
   * adapter's storage-buffer limit allow; 1 gives one dispatch per tensor). Results are the same bits.
   */
  tensorsPerDispatch?: number;
}

/** What a subclass's multi-tensor update kernel needs from it (see Optimizer.launchUpdates). */
interface UpdateKernel {
  /** Pipeline key without the slot count, and the op name. */
  key: string;
  op: string;
  build: (slots: number) => OptimSource;
  /** The 8 header uniforms; `n` (total elements) goes where the kernel's struct declares it. */
  header: (n: number) => UniformValue[];
  /** Up to 4 per-slot floats (sf[k]). */
  perSlot?: (s: Slot, fresh: boolean) => number[];
  /** Bytes moved per element (for the inspector). */
  bytesPerElement: number;
}

function normalizeParams(params: ParamsInput, who: string): [string, Tensor][] {
  const list: [string, Tensor][] =
    params instanceof Module
      ? params.namedParameters()
      : [...(params as Iterable<Tensor | readonly [string, Tensor]>)].map((p, i) =>
          p instanceof Tensor ? [p.name ?? `#${i}`, p] : [p[0], p[1]],
        );
  if (!list.length) throw new Error(`${who}: got an empty parameter list`);
  const seen = new Set<Tensor>();
  for (const [name, p] of list) {
    if (!(p instanceof Tensor)) throw new Error(`${who}: parameter ${name} is not a Tensor`);
    if (p.dtype !== 'float32') throw new Error(`${who}: parameter ${name} ${p.describe()} is not float32`);
    if (!p.requiresGrad)
      throw new Error(
        `${who}: parameter ${name} ${p.describe()} does not require grad (create it with Parameter(), or call requireGrad())`,
      );
    if (p.node) throw new Error(`${who}: ${name} ${p.describe()} is computed by ${p.node.op}, not a leaf; optimise leaves only`);
    if (seen.has(p)) throw new Error(`${who}: parameter ${name} appears twice in the parameter list`);
    seen.add(p);
  }
  return list;
}

function checkNumber(who: string, name: string, v: number, lo: number, hi = Infinity, hiOpen = false): void {
  if (!(typeof v === 'number' && v >= lo && (hiOpen ? v < hi : v <= hi))) {
    throw new Error(`${who}: invalid ${name} ${v} (must be in [${lo}, ${hi}${hiOpen ? ')' : ']'})`);
  }
}

export abstract class Optimizer {
  /** Learning rate (settable; schedulers write it). */
  lr: number;
  readonly checkFinite: boolean;
  /** Upper bound on parameter tensors per update dispatch (undefined: the kernel's and adapter's maximum). */
  tensorsPerDispatch?: number;
  protected readonly slots: Slot[];

  /** `who` names the optimiser in constructor errors (subclass fields are not set yet). */
  constructor(params: ParamsInput, opts: OptimizerOptions, defaultLr: number, who: string) {
    this.slots = normalizeParams(params, who).map(([name, param]) => ({ name, param, step: 0, state: new Map() }));
    // Parameters get their module path as a label, so the tape's in-place error can name them.
    const owner = params instanceof Module ? `${params.typeName}.` : '';
    for (const s of this.slots) labelTensor(s.param, owner + s.name);
    this.lr = opts.lr ?? defaultLr;
    checkNumber(who, 'learning rate', this.lr, 0);
    this.checkFinite = !!opts.checkFinite;
    if (opts.tensorsPerDispatch !== undefined && !(Number.isInteger(opts.tensorsPerDispatch) && opts.tensorsPerDispatch >= 1)) {
      throw new Error(`${who}: tensorsPerDispatch must be a positive integer, got ${opts.tensorsPerDispatch}`);
    }
    this.tensorsPerDispatch = opts.tensorsPerDispatch;
  }

  abstract get typeName(): string;
  /** Hyperparameters (JSON-safe) saved in stateDict, including lr. */
  abstract hyper(): Record<string, HyperValue>;
  protected abstract setHyper(h: Record<string, HyperValue>): void;
  /** The state tensors each parameter carries under the current hyperparameters, in kernel order. */
  protected abstract stateNames(): string[];
  /** The multi-tensor update kernel under the current hyperparameters. */
  protected abstract updateKernel(): UpdateKernel;

  get params(): Tensor[] {
    return this.slots.map((s) => s.param);
  }

  /** Step count of parameter i (0 before its first update). */
  stepCount(i = 0): number {
    return this.slots[i].step;
  }

  /**
   * Sets the step counts of parameters (index -> count) without any state: a parameter whose state is
   * missing starts it afresh (zeros) at its next update, its count going on from here. For restoring
   * the schedule position that networks-only weights record (a zoo export: a staged model's phase
   * follows its optimisers' counts); a resume restores stateDict() instead.
   */
  setStepCounts(steps: Readonly<Record<string, number>>): void {
    for (const [k, v] of Object.entries(steps)) {
      const i = Number(k);
      if (!Number.isInteger(i) || i < 0 || i >= this.slots.length)
        throw new Error(`${this.typeName}.setStepCounts: parameter #${k}, but this optimiser has ${this.slots.length} parameters`);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${this.typeName}.setStepCounts: parameter #${k}: invalid step count ${v}`);
    }
    for (const [k, v] of Object.entries(steps)) this.slots[Number(k)].step = v;
  }

  /**
   * Applies one update to every parameter that has a gradient. Returns nothing (no host sync) unless
   * the optimiser was built with checkFinite, in which case it returns a Promise that rejects, with
   * nothing changed, when a gradient holds NaN or Inf.
   */
  step(): void | Promise<void> {
    if (this.checkFinite) return this.checkedStep();
    this.applyUpdates();
  }

  private applyUpdates(): void {
    const work: [Slot, Tensor][] = [];
    for (const s of this.slots) {
      const g = s.param.grad;
      if (!g) continue;
      if (s.param.isDisposed) throw new Error(`${this.typeName}.step(): parameter ${s.name} was disposed`);
      if (g.isDisposed) throw new Error(`${this.typeName}.step(): the gradient of ${s.name} was disposed`);
      if (g.dtype !== 'float32' || g.rank !== s.param.rank || g.shape.some((d, k) => d !== s.param.shape[k])) {
        throw new Error(
          `${this.typeName}.step(): the gradient of ${s.name} has shape ${fmtShape(g.shape)}, the parameter ${fmtShape(s.param.shape)}`,
        );
      }
      work.push([s, g]);
    }
    const names = this.stateNames();
    const ready: [Slot, Tensor, boolean][] = [];
    for (const [s, g] of work) {
      let fresh = false;
      for (const n of names) {
        if (!s.state.has(n)) {
          s.state.set(n, zeros(s.param.shape).keep());
          fresh = true;
        }
      }
      if (s.param.size > 0) ready.push([s, g, fresh]);
      else {
        // An empty tensor has nothing to update (its step count still advances, as in PyTorch).
        s.step++;
        s.param.engine.notReplayable(
          `${this.typeName}.step(): parameter ${s.name} has no elements (its step count advances without a dispatch)`,
        );
      }
    }
    if (ready.length) this.launchUpdates(ready, names);
  }

  /**
   * Updates every ready parameter with as few dispatches as the binding limit allows: groups of up
   * to `perDispatch` tensors in parameter order, each one dispatch over the concatenation of its
   * tensors' elements. Each group's step counts advance where its uniforms are computed (the bias
   * corrections read them), so a replayed step (Engine.runPlan) advances them by calling the same
   * function; the learning rate and hyperparameters are read then too (schedules apply).
   */
  private launchUpdates(ready: [Slot, Tensor, boolean][], names: string[]): void {
    const uk = this.updateKernel();
    const e = ready[0][0].param.engine;
    const perSlotBuffers = 2 + names.length;
    const byLimit = Math.max(1, Math.floor(e.limits.maxStorageBuffersPerShaderStage / perSlotBuffers));
    const perDispatch = Math.min(OPTIM_MAX_SLOTS, byLimit, this.tensorsPerDispatch ?? OPTIM_MAX_SLOTS);
    for (let at = 0; at < ready.length; at += perDispatch) {
      const group = ready.slice(at, at + perDispatch);
      const k = group.length;
      const tensors: Tensor[] = [];
      const ends: number[] = [];
      let n = 0;
      for (const [s, g] of group) {
        tensors.push(g, s.param, ...names.map((nm) => s.state.get(nm)!));
        n += s.param.size;
        ends.push(n);
      }
      while (ends.length % 4) ends.push(n);
      const slots = group.map(([s]) => s);
      const uniforms = (fresh: readonly boolean[]): UniformValue[] => {
        const kernel = this.updateKernel();
        const sf: UniformValue[] = [];
        slots.forEach((s, i) => {
          s.step++;
          const f = kernel.perSlot?.(s, fresh[i]) ?? [];
          for (let j = 0; j < 4; j++) sf.push(f32(f[j] ?? 0));
        });
        return [...kernel.header(n), ...ends, ...sf];
      };
      const notFresh = slots.map(() => false);
      launch(
        specFor(`${uk.key}|slots=${k}`, uk.op, () => uk.build(k)),
        tensors,
        uniforms(group.map(([, , fresh]) => fresh)),
        grid1d(n, OPTIM_WG),
        { op: uk.op, bytes: uk.bytesPerElement * n, refresh: () => uniforms(notFresh) },
      );
    }
  }

  /** Counts NaN/Inf gradient values on the GPU, reads the counts back, and steps only if all are zero. */
  private async checkedStep(): Promise<void> {
    const c = await countNonFinite(this.slots.map((s) => s.param.grad));
    const bad = this.slots.map((s, i) => [s, c[i]] as const).filter(([, k]) => k > 0);
    if (bad.length) {
      const list = bad.map(([s, k]) => `${s.name} ${fmtShape(s.param.shape)} (${k} of ${s.param.size} values)`).join(', ');
      throw new Error(
        `${this.typeName}.step(): non-finite gradients (NaN or Inf) in ${list}. The step was skipped: parameters, optimiser state and step counts are unchanged. ` +
          'Usual causes: a learning rate too high, log(0) or division by zero in the loss, or exploding activations.',
      );
    }
    this.applyUpdates();
  }

  /** Drops (and frees) every parameter's gradient. */
  zeroGrad(): void {
    for (const s of this.slots) {
      s.param.grad?.dispose();
      s.param.grad = null;
    }
  }

  /**
   * Hyperparameters, step counts and state tensors. The tensors are the live state (not copies):
   * read them (a checkpoint does) before the next step.
   */
  stateDict(): OptimizerStateDict {
    const steps: Record<string, number> = {};
    const tensors: Record<string, Tensor> = {};
    this.slots.forEach((s, i) => {
      if (s.step === 0 && s.state.size === 0) return;
      steps[i] = s.step;
      for (const [n, t] of s.state) tensors[`${i}.${n}`] = t;
    });
    return { type: this.typeName, hyper: this.hyper(), steps, tensors };
  }

  /**
   * Why `sd` cannot be loaded into this optimiser (empty when it can): the optimiser type, parameter
   * indices, the state tensors each parameter needs under the saved hyperparameters, their shapes.
   */
  validateStateDict(sd: OptimizerStateDict): string[] {
    if (sd.type !== this.typeName) return [`the state is for ${sd.type}, this optimiser is ${this.typeName}`];
    const previous = this.hyper();
    const problems: string[] = [];
    try {
      this.setHyper({ ...previous, ...sd.hyper });
    } catch (e) {
      this.setHyper(previous);
      return [(e as Error).message];
    }
    try {
      const names = this.stateNames();
      const steps = new Set<number>();
      for (const [k, v] of Object.entries(sd.steps)) {
        const i = Number(k);
        if (!Number.isInteger(i) || i < 0 || i >= this.slots.length)
          problems.push(`state for parameter #${k}, but this optimiser has ${this.slots.length} parameters`);
        else steps.add(i);
        if (!Number.isInteger(v) || v < 0) problems.push(`parameter #${k}: invalid step count ${v}`);
      }
      const tensors = new Map(stateEntries(sd.tensors));
      for (const key of tensors.keys()) {
        const dot = key.indexOf('.');
        if (dot < 0 || !steps.has(Number(key.slice(0, dot))) || !names.includes(key.slice(dot + 1)))
          problems.push(`unexpected state tensor '${key}'`);
      }
      for (const i of steps) {
        const s = this.slots[i];
        for (const n of names) {
          const v = tensors.get(`${i}.${n}`);
          if (!v) problems.push(`missing state tensor '${i}.${n}' (${s.name})`);
          else {
            const why = checkState(`'${i}.${n}' (${s.name})`, s.param, v);
            if (why) problems.push(why);
          }
        }
      }
    } finally {
      this.setHyper(previous);
    }
    return problems;
  }

  /**
   * Restores a stateDict() (tensor values may be GPU tensors or host data from a file): the
   * hyperparameters (lr included), step counts and state tensors. Everything is validated first;
   * a state that does not fit throws and changes nothing.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const problems = this.validateStateDict(sd);
    if (problems.length)
      throw new Error(`${this.typeName}.loadStateDict: the state does not fit this optimiser:\n\t${problems.join('\n\t')}`);
    this.setHyper({ ...this.hyper(), ...sd.hyper });
    const names = this.stateNames();
    const tensors = new Map(stateEntries(sd.tensors));
    this.slots.forEach((s, i) => {
      const step = sd.steps[i];
      for (const [n, t] of [...s.state]) {
        if (step === undefined || !names.includes(n)) {
          t.dispose();
          s.state.delete(n);
        }
      }
      s.step = step ?? 0;
      if (step === undefined) return;
      for (const n of names) {
        let t = s.state.get(n);
        if (!t) s.state.set(n, (t = zeros(s.param.shape).keep()));
        copyStateInto(t, tensors.get(`${i}.${n}`)!);
      }
    });
  }

  /** Frees the optimiser's state tensors (the parameters are not touched). */
  dispose(): void {
    for (const s of this.slots) {
      for (const t of s.state.values()) t.dispose();
      s.state.clear();
    }
  }

  /** Live state tensor `name` of parameter i (tests, inspection). */
  stateOf(i: number, name: string): Tensor | undefined {
    return this.slots[i].state.get(name);
  }
}

/** Kernel specs by key (slot count included), so a step does not rebuild WGSL source strings for every dispatch. */
const specs = new Map<string, KernelSpec>();
function specFor(key: string, op: string, build: () => OptimSource): KernelSpec {
  let s = specs.get(key);
  if (!s) {
    const { code, stateBuffers } = build();
    const slots = Number(/\|slots=(\d+)/.exec(key)![1]);
    const bindings: ('read' | 'rw')[] = [];
    for (let k = 0; k < slots; k++) bindings.push('read', 'rw', ...stateBuffers.map(() => 'rw' as const));
    specs.set(key, (s = { key, code, bindings, op }));
  }
  return s;
}

// ---- Adam / AdamW ---------------------------------------------------------------------------------

export interface AdamOptions extends OptimizerOptions {
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** Decoupled weight decay (AdamW): p *= 1 - lr * wd instead of adding wd * p to the gradient. */
  decoupled?: boolean;
}

/**
 * Adam with PyTorch's semantics. GAN defaults: lr 2e-4, betas (0.5, 0.999) (Radford et al. 2016).
 * weightDecay is L2 (added to the gradient) unless `decoupled` (AdamW).
 */
export class Adam extends Optimizer {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  decoupled: boolean;

  constructor(params: ParamsInput, opts: AdamOptions = {}) {
    super(params, opts, 2e-4, opts.decoupled ? 'AdamW' : 'Adam');
    this.betas = [...(opts.betas ?? [0.5, 0.999])];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.decoupled = opts.decoupled ?? false;
    this.validate();
  }

  get typeName(): string {
    return this.decoupled ? 'AdamW' : 'Adam';
  }

  private validate(): void {
    checkNumber(this.typeName, 'beta1', this.betas[0], 0, 1, true);
    checkNumber(this.typeName, 'beta2', this.betas[1], 0, 1, true);
    checkNumber(this.typeName, 'eps', this.eps, 0);
    checkNumber(this.typeName, 'weight decay', this.weightDecay, 0);
  }

  hyper(): Record<string, HyperValue> {
    return { lr: this.lr, betas: [...this.betas], eps: this.eps, weight_decay: this.weightDecay, decoupled: this.decoupled };
  }

  protected setHyper(h: Record<string, HyperValue>): void {
    this.lr = h.lr as number;
    this.betas = [...(h.betas as number[])] as [number, number];
    this.eps = h.eps as number;
    this.weightDecay = h.weight_decay as number;
    this.decoupled = h.decoupled as boolean;
    this.validate();
  }

  protected stateNames(): string[] {
    return ['m', 'v'];
  }

  protected updateKernel(): UpdateKernel {
    const [b1, b2] = this.betas;
    const mode: WeightDecayMode = this.weightDecay === 0 ? 'none' : this.decoupled ? 'decoupled' : 'l2';
    return {
      key: `optim_adam|wd=${mode}`,
      op: 'adam_step',
      build: (slots) => adamSource(mode, slots),
      header: (n) => [f32(b2), f32(1 - b1), f32(1 - b2), f32(this.eps), f32(this.weightDecay), f32(1 - this.lr * this.weightDecay), n, 0],
      // Bias corrections from each parameter's own step count.
      perSlot: (s) => [this.lr / (1 - b1 ** s.step), Math.sqrt(1 - b2 ** s.step)],
      bytesPerElement: 28,
    };
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter), PyTorch's default weightDecay 1e-2. */
export class AdamW extends Adam {
  constructor(params: ParamsInput, opts: Omit<AdamOptions, 'decoupled'> = {}) {
    super(params, { weightDecay: 1e-2, ...opts, decoupled: true });
  }
}

// ---- SGD ------------------------------------------------------------------------------------------

export interface SGDOptions extends OptimizerOptions {
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** SGD with optional momentum (PyTorch's formulation: the first step's buffer is the gradient), Nesterov, L2. */
export class SGD extends Optimizer {
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;

  constructor(params: ParamsInput, opts: SGDOptions = {}) {
    super(params, opts, 1e-3, 'SGD');
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
    this.nesterov = opts.nesterov ?? false;
    this.validate();
  }

  get typeName(): string {
    return 'SGD';
  }

  private validate(): void {
    checkNumber('SGD', 'momentum', this.momentum, 0);
    checkNumber('SGD', 'dampening', this.dampening, 0, 1);
    checkNumber('SGD', 'weight decay', this.weightDecay, 0);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0))
      throw new Error('SGD: Nesterov momentum requires momentum > 0 and dampening = 0');
  }

  hyper(): Record<string, HyperValue> {
    return { lr: this.lr, momentum: this.momentum, dampening: this.dampening, weight_decay: this.weightDecay, nesterov: this.nesterov };
  }

  protected setHyper(h: Record<string, HyperValue>): void {
    this.lr = h.lr as number;
    this.momentum = h.momentum as number;
    this.dampening = h.dampening as number;
    this.weightDecay = h.weight_decay as number;
    this.nesterov = h.nesterov as boolean;
    this.validate();
  }

  protected stateNames(): string[] {
    return this.momentum > 0 ? ['momentum_buffer'] : [];
  }

  protected updateKernel(): UpdateKernel {
    const mom = this.momentum > 0;
    const wd = this.weightDecay !== 0;
    const nesterov = this.nesterov;
    return {
      key: `optim_sgd|mom=${+mom}|nesterov=${+nesterov}|wd=${+wd}`,
      op: 'sgd_step',
      build: (slots) => sgdSource({ momentum: mom, nesterov, weightDecay: wd }, slots),
      header: (n) => [f32(this.lr), f32(this.weightDecay), f32(this.momentum), f32(1 - this.dampening), n, 0, 0, 0],
      // The momentum buffer's first step copies the gradient.
      perSlot: (_s, fresh) => [fresh ? 1 : 0],
      bytesPerElement: 4 * (mom ? 4 : 3),
    };
  }
}

// ---- RMSprop --------------------------------------------------------------------------------------

export interface RMSpropOptions extends OptimizerOptions {
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
}

/** RMSprop with PyTorch's semantics (eps outside the square root; optional centering and momentum). */
export class RMSprop extends Optimizer {
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;

  constructor(params: ParamsInput, opts: RMSpropOptions = {}) {
    super(params, opts, 1e-2, 'RMSprop');
    this.alpha = opts.alpha ?? 0.99;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.momentum = opts.momentum ?? 0;
    this.centered = opts.centered ?? false;
    this.validate();
  }

  get typeName(): string {
    return 'RMSprop';
  }

  private validate(): void {
    checkNumber('RMSprop', 'alpha', this.alpha, 0, 1);
    checkNumber('RMSprop', 'eps', this.eps, 0);
    checkNumber('RMSprop', 'weight decay', this.weightDecay, 0);
    checkNumber('RMSprop', 'momentum', this.momentum, 0);
  }

  hyper(): Record<string, HyperValue> {
    return {
      lr: this.lr,
      alpha: this.alpha,
      eps: this.eps,
      weight_decay: this.weightDecay,
      momentum: this.momentum,
      centered: this.centered,
    };
  }

  protected setHyper(h: Record<string, HyperValue>): void {
    this.lr = h.lr as number;
    this.alpha = h.alpha as number;
    this.eps = h.eps as number;
    this.weightDecay = h.weight_decay as number;
    this.momentum = h.momentum as number;
    this.centered = h.centered as boolean;
    this.validate();
  }

  protected stateNames(): string[] {
    return ['square_avg', ...(this.centered ? ['grad_avg'] : []), ...(this.momentum > 0 ? ['momentum_buffer'] : [])];
  }

  protected updateKernel(): UpdateKernel {
    const mom = this.momentum > 0;
    const wd = this.weightDecay !== 0;
    const centered = this.centered;
    return {
      key: `optim_rmsprop|centered=${+centered}|mom=${+mom}|wd=${+wd}`,
      op: 'rmsprop_step',
      build: (slots) => rmspropSource({ centered, momentum: mom, weightDecay: wd }, slots),
      header: (n) => [f32(this.lr), f32(this.alpha), f32(1 - this.alpha), f32(this.eps), f32(this.weightDecay), f32(this.momentum), n, 0],
      bytesPerElement: 4 * (this.stateNames().length * 2 + 3),
    };
  }
}

// ---- learning-rate schedulers ---------------------------------------------------------------------

/** Sets optimizer.lr = baseLr * factor(epoch); call step() once per epoch, after training it. */
export class LRScheduler {
  readonly baseLr: number;
  /** Number of step() calls so far. */
  epoch = 0;

  /** `factor(e)` is the multiplier of the base rate after e step() calls (factor(0) is applied now). */
  constructor(
    readonly optimizer: Optimizer,
    readonly factor: (epoch: number) => number,
  ) {
    this.baseLr = optimizer.lr;
    this.apply();
  }

  get lr(): number {
    return this.optimizer.lr;
  }

  step(): void {
    this.epoch++;
    this.apply();
  }

  private apply(): void {
    this.optimizer.lr = this.baseLr * this.factor(this.epoch);
  }

  stateDict(): { epoch: number; baseLr: number } {
    return { epoch: this.epoch, baseLr: this.baseLr };
  }

  loadStateDict(sd: { epoch: number; baseLr?: number }): void {
    if (!Number.isInteger(sd.epoch) || sd.epoch < 0) throw new Error(`${this.constructor.name}.loadStateDict: invalid epoch ${sd.epoch}`);
    this.epoch = sd.epoch;
    if (sd.baseLr !== undefined) (this as { baseLr: number }).baseLr = sd.baseLr;
    this.apply();
  }
}

/**
 * pix2pix / CycleGAN's linear policy (their `lambda_rule`): the base rate for the first `nEpochs`
 * epochs, then linearly decaying over `nEpochsDecay` epochs:
 *   factor(e) = 1 - max(0, e + epochCount - nEpochs) / (nEpochsDecay + 1)
 * where e counts step() calls and epochCount (default 1) is the number of the first epoch. As in
 * the reference, the last decay epoch runs at 1 / (nEpochsDecay + 1) of the base rate; past the
 * schedule the factor is clamped at 0 (the reference formula would turn negative there).
 */
export class LinearDecay extends LRScheduler {
  constructor(
    optimizer: Optimizer,
    readonly opts: { nEpochs: number; nEpochsDecay: number; epochCount?: number },
  ) {
    const { nEpochs, nEpochsDecay, epochCount = 1 } = opts;
    if (!Number.isInteger(nEpochs) || nEpochs < 0 || !Number.isInteger(nEpochsDecay) || nEpochsDecay < 0 || !Number.isInteger(epochCount)) {
      throw new Error(
        `LinearDecay: nEpochs (${nEpochs}), nEpochsDecay (${nEpochsDecay}) and epochCount (${epochCount}) must be non-negative integers`,
      );
    }
    super(optimizer, (e) => Math.max(0, 1 - Math.max(0, e + epochCount - nEpochs) / (nEpochsDecay + 1)));
  }
}

/** Multiplies the rate by gamma every stepSize epochs (torch.optim.lr_scheduler.StepLR). */
export class StepLR extends LRScheduler {
  constructor(
    optimizer: Optimizer,
    readonly stepSize: number,
    readonly gamma = 0.1,
  ) {
    if (!Number.isInteger(stepSize) || stepSize <= 0) throw new Error(`StepLR: stepSize must be a positive integer, got ${stepSize}`);
    super(optimizer, (e) => gamma ** Math.floor(e / stepSize));
  }
}
