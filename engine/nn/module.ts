// Module: the PyTorch-style container for parameters, buffers and child modules.
// Children and parameters are discovered by walking a module's own properties in insertion order
// (assign them in the constructor: `this.main = new Sequential(...)`, `this.weight = Parameter(...)`),
// so state_dict keys come out exactly as PyTorch names them: own parameters, then own persistent
// buffers, then each child under `<name>.` (e.g. `main.1.running_mean`). Buffers (running
// statistics) are registered explicitly with registerBuffer() under their PyTorch names.
// Sequential and ModuleList hold their children in a list, named '0', '1', ...
// A plain array of modules is not registered (as in PyTorch); it is reported as an error instead of
// being silently skipped: use ModuleList.

import { Tensor, fmtShape } from '../tensor.js';
import { add } from '../ops/elementwise.js';
import { checkState, copyStateInto, stateEntries, type StateDictLike } from './state.js';

/** Marks a tensor as a trainable parameter: requires grad, survives tidy(), found by Module. */
export function Parameter(t: Tensor): Tensor {
  if (t.node) {
    throw new Error(
      `Parameter(): ${t.describe()} is the output of ${t.node.op}; a parameter must be a leaf (pass t.detach() or a fresh tensor)`,
    );
  }
  if (t.dtype !== 'float32') throw new Error(`Parameter(): parameters are float32, got ${t.describe()}`);
  t.isParameter = true;
  t.requiresGrad = true;
  return t.keep();
}

interface BufferEntry {
  tensor: Tensor | null;
  /** Persistent buffers appear in stateDict(). */
  persistent: boolean;
  /** A missing key is tolerated on load (PyTorch does this for num_batches_tracked). */
  optional: boolean;
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** Formats a count like 1,234,567. */
export function fmtCount(n: number): string {
  return n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export class Module {
  private _training = true;
  private readonly _buffers = new Map<string, BufferEntry>();

  /** The computation. Subclasses override with their own signature (usually (x: Tensor) => Tensor). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  forward(..._args: any[]): any {
    throw new Error(`${this.typeName}.forward() is not implemented`);
  }

  /**
   * Sequential's fusion hook: a function computing `next(this(x))` in fewer kernels (with the same
   * values and gradients), or null when this module and `next` do not fuse. The norm layers fuse a
   * following ReLU / LeakyReLU.
   */
  fusedWith(_next: Module): ((x: Tensor) => Tensor) | null {
    return null;
  }

  /**
   * Sequential.callResidual's hook: a function computing `residual + this(x)` in one op (the add
   * in this module's kernel; the same values and gradients), or null. InstanceNorm2d has one.
   */
  withResidual(): ((x: Tensor, residual: Tensor) => Tensor) | null {
    return null;
  }

  /** Runs forward() (the equivalent of calling a torch.nn.Module). */
  call(...args: Parameters<this['forward']>): ReturnType<this['forward']> {
    return this.forward(...args) as ReturnType<this['forward']>;
  }

  /** The class name shown by describe() (override when a bundler mangles names). */
  get typeName(): string {
    return this.constructor.name;
  }

  // ---- mode ------------------------------------------------------------------------------------

  get training(): boolean {
    return this._training;
  }

  /** Sets training mode on this module and every descendant. */
  train(on = true): this {
    for (const [, m] of this.namedModules()) m._training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  // ---- registration ----------------------------------------------------------------------------

  /** Name/value pairs of this module's own attributes, in registration order (overridden by containers). */
  protected ownEntries(): [string, unknown][] {
    return Object.entries(this);
  }

  /**
   * Registers a buffer (state that is not trained, e.g. BatchNorm's running_mean) under its
   * state_dict name. The tensor is kept alive past tidy(). `persistent: false` leaves it out of
   * stateDict(); `optional: true` tolerates its absence in loadStateDict().
   */
  registerBuffer(name: string, t: Tensor | null, opts: { persistent?: boolean; optional?: boolean } = {}): void {
    if (!name || name.includes('.')) throw new Error(`registerBuffer: invalid buffer name '${name}' (non-empty, no dots)`);
    t?.keep();
    this._buffers.set(name, { tensor: t, persistent: opts.persistent ?? true, optional: opts.optional ?? false });
  }

  /** A registered buffer (null when registered as null; throws when never registered). */
  getBuffer(name: string): Tensor | null {
    const e = this._buffers.get(name);
    if (!e) throw new Error(`${this.typeName}: no buffer named '${name}'`);
    return e.tensor;
  }

  /** Direct children, in registration order. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [k, v] of this.ownEntries()) {
      if (v instanceof Module) out.push([k, v]);
      else if (Array.isArray(v) && v.some((x) => x instanceof Module)) {
        throw new Error(
          `${this.typeName}.${k} is a plain array of modules, which would not be registered (its parameters would be invisible to optimisers and state dicts); wrap it: new ModuleList(...)`,
        );
      }
    }
    return out;
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module's own parameters (not its children's), in registration order. */
  ownParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, v] of this.ownEntries()) if (v instanceof Tensor && v.isParameter) out.push([k, v]);
    return out;
  }

  /** This module and every descendant, each once, depth first: ['', this], ['main', ...], ['main.0', ...]. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (m: Module, p: string) => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([p, m]);
      for (const [k, c] of m.namedChildren()) visit(c, p ? `${p}.${k}` : k);
    };
    visit(this, prefix);
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Every parameter with its dotted name, each tensor once (a shared module counts once). */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [mp, m] of this.namedModules(prefix)) {
      for (const [k, p] of m.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([mp ? `${mp}.${k}` : k, p]);
      }
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Every buffer (persistent or not) with its dotted name. */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [mp, m] of this.namedModules(prefix)) {
      for (const [k, e] of m._buffers) {
        if (!e.tensor || seen.has(e.tensor)) continue;
        seen.add(e.tensor);
        out.push([mp ? `${mp}.${k}` : k, e.tensor]);
      }
    }
    return out;
  }

  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /** Total number of parameter elements (each shared tensor once). */
  numParameters(): number {
    return this.parameters().reduce((s, p) => s + p.size, 0);
  }

  // ---- state dict ------------------------------------------------------------------------------

  /**
   * Parameters and persistent buffers by PyTorch state_dict key, in PyTorch's order. The values are
   * the module's live tensors (not copies): read them (e.g. saveModel) before training on.
   */
  stateDict(prefix = ''): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    this.collectState(prefix, out, null);
    return out;
  }

  private collectState(prefix: string, out: Map<string, Tensor>, optional: Set<string> | null, path: Module[] = []): void {
    if (path.includes(this)) {
      throw new Error(
        `${this.typeName}: module '${prefix.slice(0, -1)}' contains itself (a cycle of module references); a state dict cannot be formed`,
      );
    }
    for (const [k, p] of this.ownParameters()) out.set(prefix + k, p);
    for (const [k, e] of this._buffers) {
      if (!e.tensor || !e.persistent) continue;
      out.set(prefix + k, e.tensor);
      if (e.optional) optional?.add(prefix + k);
    }
    path.push(this);
    for (const [k, c] of this.namedChildren()) c.collectState(`${prefix}${k}.`, out, optional, path);
    path.pop();
  }

  /**
   * Checks a state dict against this module without changing anything: missing and unexpected
   * keys, and `problems` (shape/dtype mismatches, plus the missing/unexpected keys when strict) in
   * PyTorch's wording. loadStateDict() throws exactly when `problems` is non-empty.
   */
  validateStateDict(dict: StateDictLike, opts: { strict?: boolean } = {}): LoadStateDictResult & { problems: string[] } {
    const strict = opts.strict ?? true;
    const own = new Map<string, Tensor>();
    const optional = new Set<string>();
    this.collectState('', own, optional);
    const given = stateEntries(dict);
    const givenKeys = new Set(given.map(([k]) => k));
    const missingKeys = [...own.keys()].filter((k) => !givenKeys.has(k) && !optional.has(k));
    const unexpectedKeys = given.map(([k]) => k).filter((k) => !own.has(k));
    const problems: string[] = [];
    const quote = (ks: string[]) => ks.map((k) => `"${k}"`).join(', ');
    if (strict && missingKeys.length) problems.push(`Missing key(s) in state_dict: ${quote(missingKeys)}.`);
    if (strict && unexpectedKeys.length) problems.push(`Unexpected key(s) in state_dict: ${quote(unexpectedKeys)}.`);
    for (const [k, v] of given) {
      const dst = own.get(k);
      const why = dst && checkState(k, dst, v);
      if (why) problems.push(why);
    }
    return { missingKeys, unexpectedKeys, problems };
  }

  /**
   * Copies a state dict (GPU tensors, or host data decoded from safetensors) into this module's
   * tensors in place. Every entry is validated before anything is written, so a failed load leaves
   * the module unchanged. Shape or dtype mismatches always throw; missing and unexpected keys throw
   * when `strict` (default) and are returned otherwise.
   */
  loadStateDict(dict: StateDictLike, opts: { strict?: boolean } = {}): LoadStateDictResult {
    const { missingKeys, unexpectedKeys, problems } = this.validateStateDict(dict, opts);
    if (problems.length) {
      throw new Error(`Error(s) in loading state_dict for ${this.typeName}:\n\t${problems.join('\n\t')}`);
    }
    const own = this.stateDict();
    for (const [k, v] of stateEntries(dict)) {
      const dst = own.get(k);
      if (dst) copyStateInto(dst, v);
    }
    return { missingKeys, unexpectedKeys };
  }

  // ---- gradients and lifetime ------------------------------------------------------------------

  /** Drops (and frees) every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Frees every parameter and buffer of this module tree; the module is unusable afterwards. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
    for (const b of this.buffers()) b.dispose();
  }

  // ---- printing --------------------------------------------------------------------------------

  /** The arguments shown between the parentheses of describe() (PyTorch's extra_repr). */
  extraRepr(): string {
    return '';
  }

  /**
   * The module tree like PyTorch's repr, with parameter counts:
   *   Sequential(  # 1,234 params
   *     (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))  # 224 params
   *     ...
   *   )
   */
  describe(): string {
    return this.reprLines().join('\n');
  }

  toString(): string {
    return this.describe();
  }

  private reprLines(): string[] {
    const n = this.numParameters();
    const note = n ? `  # ${fmtCount(n)} param${n === 1 ? '' : 's'}` : '';
    const extra = this.extraRepr();
    const children = this.namedChildren();
    if (!children.length) return [`${this.typeName}(${extra})${note}`];
    const lines = [`${this.typeName}(${extra ? extra + ',' : ''}${note}`];
    for (const [k, c] of children) {
      const sub = c.reprLines();
      lines.push(`  (${k}): ${sub[0]}`, ...sub.slice(1).map((l) => '  ' + l));
    }
    lines.push(')');
    return lines;
  }

  /** A one-line summary of every parameter and buffer: name, shape, element count. */
  summary(): string {
    const rows = [...this.stateDict()].map(
      ([k, t]) => `${k.padEnd(40)} ${fmtShape(t.shape).padEnd(20)} ${t.dtype === 'int32' ? 'int' : fmtCount(t.size)}`,
    );
    rows.push(`total: ${fmtCount(this.numParameters())} parameters`);
    return rows.join('\n');
  }
}

/** Children in a list, named '0', '1', ... (registered like attributes). */
export class ModuleList extends Module {
  protected readonly items: Module[];

  constructor(modules: Iterable<Module> = []) {
    super();
    this.items = [...modules];
    this.items.forEach((m, i) => {
      if (!(m instanceof Module)) throw new Error(`${this.typeName}: entry ${i} is not a Module`);
    });
  }

  protected override ownEntries(): [string, unknown][] {
    return this.items.map((m, i) => [String(i), m]);
  }

  get length(): number {
    return this.items.length;
  }

  at(i: number): Module {
    const m = this.items.at(i);
    if (!m) throw new Error(`${this.typeName}: index ${i} is out of range (length ${this.items.length})`);
    return m;
  }

  append(m: Module): this {
    if (!(m instanceof Module)) throw new Error(`${this.typeName}.append: not a Module`);
    this.items.push(m);
    return this;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.items[Symbol.iterator]();
  }
}

/** An activation a norm kernel applies itself (Sequential's norm + activation fusion). */
export interface FusedActivation {
  activation: 'relu' | 'leaky_relu';
  slope?: number;
}

/**
 * Runs its children in order, each on the previous one's output. Where a child and the next one
 * fuse (Module.fusedWith: a BatchNorm / InstanceNorm followed by a ReLU or LeakyReLU), the pair runs
 * as one op with a fused backward: the same values and gradients in fewer dispatches. Set `fuse`
 * to false to run every child on its own.
 */
export class Sequential extends ModuleList {
  /** Fuse adjacent children where they allow it (default true). */
  fuse = true;

  constructor(...modules: Module[]) {
    super(modules);
  }

  override forward(x: Tensor): Tensor {
    return this.run(x, this.items.length);
  }

  /**
   * `x + this(x)`, a residual block: where the last child allows (Module.withResidual, e.g. an
   * InstanceNorm2d), the add runs inside its kernel, one dispatch fewer forward.
   */
  callResidual(x: Tensor): Tensor {
    const items = this.items;
    const last = this.fuse && items.length ? items[items.length - 1].withResidual() : null;
    if (!last) return add(x, this.forward(x));
    return last(this.run(x, items.length - 1), x);
  }

  /** Runs the first `end` children. */
  private run(x: Tensor, end: number): Tensor {
    let h = x;
    const items = this.items;
    for (let i = 0; i < end; i++) {
      const fused = this.fuse && i + 1 < end ? items[i].fusedWith(items[i + 1]) : null;
      if (fused) {
        h = fused(h);
        i++;
      } else h = items[i].call(h) as Tensor;
    }
    return h;
  }
}
