// The engine half of the benchmark: for each pass of each suite case, validate the engine's
// output against the CPU float64 reference (bench/validate.ts) and then time it.
//
// Validation run: engine().poisonAllocations = true while the inputs are uploaded and the pass runs
// once, so every buffer the pass allocates starts as NaN; its outputs are read back and compared
// (all elements must be finite, the sampled or full reference within 1e-3). A pass that fails is
// not timed (unless timeInvalid), so no figure in the report comes from a wrong kernel.
//
// Timing (inputs already on the GPU; every output of a pass is released after it, so the pool
// hands the same buffers back each time, as in a training loop):
//   warm-up     `warmup` single passes, each between sync() fences (pipelines compile here);
//               the fastest gives `inner`, the passes per repeat that fill ~targetMs of wall time.
//   GPU time    (adapters with timestamp-query) engine().startProfile(): every dispatch in its own
//               compute pass with timestamp writes; the sum of a pass's dispatches' GPU times is
//               the pass's GPU time, kernels only (no gaps, no host work). Median over `repeats`,
//               each repeat averaging min(inner, 2000 / dispatches-per-pass) passes.
//   wall time   `inner` passes back to back between two sync() fences, wall clock / inner: what a
//               training loop sees, host encoding and submission included. Median over `repeats`.
//   encode      host time of encoding one pass (JS + Dawn validation, no waiting), from the same
//               wall repeats: the floor that host overhead puts under the wall time.
// GFLOP/s and GB/s use the primary figure: GPU time where timestamps exist, else wall time.
//
// End-to-end steps (DCGAN, pix2pix, CycleGAN) run the model's trainer from nets/ (its recipe's
// create() and step()), on a fixed random batch; ms per step is wall clock from the start of a step
// until its losses are read back (a training loop that logs every step), median over `steps` after
// `warmup` steps; the host time of step() itself (graph building, encoding, submitting) is kept
// too; the GPU time of one step is summed from its profiled dispatches when they fit the profiler
// (<= 2048).

import { engine, type Engine, type DispatchInfo } from '../engine/device.js';
import { tensor, tidy, type Tensor } from '../engine/tensor.js';
import { grad, noGrad } from '../engine/tape.js';
import { readStats } from '../nets/lib/stats.js';
import { rates, type AdamCase, type ConvCase, type ConvPass, type NormCase, type NormPass, type PyramidCase } from './suite.js';
import {
  validateAdam,
  validateConv,
  validateNorm,
  validatePyramid,
  convShapes,
  convPassOutShape,
  randomF32,
  hash,
  type ValidationMode,
  type ValidationResult,
} from './validate.js';
import {
  Missing,
  loadRecipe,
  type StepFile,
  type ConvApi,
  type EngineApi,
  type NormApi,
  type OptimApi,
  type PyramidApi,
  type RecipeLike,
} from './engine_api.js';

/** The profiler's query set holds 4096 timestamps: two per dispatch. */
/** Bounds how many dispatches one profiled repeat records (timing cost), not what the profiler can hold. */
export const MAX_PROFILED_DISPATCHES = 2048;

export interface EngineTimeOptions {
  warmup: number;
  repeats: number;
  /** Wall time per repeat the inner count aims for (ms). */
  targetMs: number;
  maxInner: number;
  /** Use timestamp queries where the device has them. */
  profile: boolean;
}

export const DEFAULT_ENGINE_TIME: EngineTimeOptions = { warmup: 2, repeats: 5, targetMs: 20, maxInner: 50, profile: true };

export interface KernelCount {
  kernel: string;
  count: number;
}

export interface EngineTiming {
  method: 'timestamp' | 'wall';
  /** Primary per-pass figure (GPU time where timestamps exist, else wall). */
  ms_median: number;
  gpu_ms_median?: number;
  gpu_ms_all?: number[];
  wall_ms_median: number;
  wall_ms_all: number[];
  encode_ms_median: number;
  inner: number;
  profile_inner?: number;
  gflops: number;
  gbps: number;
  /** Dispatches of one pass. */
  dispatches: number;
  /** Kernels one pass dispatches (kernelName of their keys), in first-use order, with counts. */
  kernels: KernelCount[];
  /** Why GPU time is missing, when it is. */
  profile_note?: string;
}

export interface EnginePassResult {
  status: 'ok' | 'invalid' | 'failed' | 'skipped';
  message?: string;
  validation?: ValidationResult;
  timing?: EngineTiming;
  /** Live buffers after the pass's tensors were released minus before (0 expected). */
  leaked_buffers?: number;
}

function median(a: readonly number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * A kernel key's family plus its first two bare tags, without the key=value specialisations:
 * 'conv_gather|T=9|TW=3|aContig=1|bias=0|act=none|t128|split' -> 'conv_gather:t128/split',
 * so the table shows which GEMM tile and split-K path each pass took.
 */
export function kernelName(key: string): string {
  const [family, ...rest] = key.split('|');
  const tags = rest.filter((p) => p && !p.includes('=')).slice(0, 2);
  return tags.length ? `${family}:${tags.join('/')}` : family;
}

export function countKernels(trace: readonly DispatchInfo[]): KernelCount[] {
  const out: KernelCount[] = [];
  const at = new Map<string, KernelCount>();
  for (const d of trace) {
    const k = kernelName(d.kernel);
    let e = at.get(k);
    if (!e) {
      e = { kernel: k, count: 0 };
      at.set(k, e);
      out.push(e);
    }
    e.count++;
  }
  return out;
}

/** Dispatches recorded while fn runs (synchronously). */
function traceOf(e: Engine, fn: () => void): DispatchInfo[] {
  const saved = e.trace;
  const t: DispatchInfo[] = [];
  e.trace = t;
  try {
    fn();
  } finally {
    e.trace = saved;
  }
  return t;
}

/**
 * Times `run` (encodes one pass and releases what it made) by the method in the header.
 * flops/bytes turn the primary figure into rates.
 */
export async function timeEnginePass(run: () => void, flops: number, bytes: number, o: EngineTimeOptions): Promise<EngineTiming> {
  const e = engine();
  let warmMs = Infinity;
  for (let i = 0; i < Math.max(1, o.warmup); i++) {
    await e.sync();
    const t0 = performance.now();
    run();
    await e.sync();
    warmMs = Math.min(warmMs, performance.now() - t0);
  }
  const inner = Math.max(1, Math.min(o.maxInner, Math.ceil(o.targetMs / Math.max(warmMs, 1e-3))));
  const trace = traceOf(e, run);
  await e.sync();
  const dispatches = trace.length;

  const canProfile = o.profile && e.features.has('timestamp-query');
  let profileNote: string | undefined = canProfile ? undefined : o.profile ? 'adapter has no timestamp-query' : 'profiling off';
  const profileInner = dispatches > 0 ? Math.max(1, Math.min(inner, Math.floor(MAX_PROFILED_DISPATCHES / dispatches))) : 0;
  if (canProfile && dispatches === 0) profileNote = 'the pass dispatched nothing';

  const gpuAll: number[] = [];
  const wallAll: number[] = [];
  const encAll: number[] = [];
  for (let r = 0; r < o.repeats; r++) {
    if (!profileNote) {
      const p = await profileRun(e, run, profileInner, dispatches);
      if (typeof p === 'string') profileNote = p;
      else gpuAll.push(p.ms);
    }
    await e.sync();
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) run();
    const t1 = performance.now();
    await e.sync();
    const t2 = performance.now();
    wallAll.push((t2 - t0) / inner);
    encAll.push((t1 - t0) / inner);
  }
  const hasGpu = !profileNote && gpuAll.length > 0;
  const wallMs = median(wallAll);
  const ms = hasGpu ? median(gpuAll) : wallMs;
  const { gflops, gbps } = rates(flops, bytes, ms);
  const out: EngineTiming = {
    method: hasGpu ? 'timestamp' : 'wall',
    ms_median: ms,
    wall_ms_median: wallMs,
    wall_ms_all: wallAll,
    encode_ms_median: median(encAll),
    inner,
    gflops,
    gbps,
    dispatches,
    kernels: countKernels(trace),
  };
  if (hasGpu) {
    out.gpu_ms_median = ms;
    out.gpu_ms_all = gpuAll;
    out.profile_inner = profileInner;
  }
  if (profileNote) out.profile_note = profileNote;
  return out;
}

/**
 * GPU ms of one pass from `n` profiled passes, or why it could not be measured. `perPass`: the
 * dispatches one pass must make (checked), or null to accept any count that did not overflow the
 * profiler (a training step, whose first run also creates optimizer state).
 */
async function profileRun(
  e: Engine,
  run: () => void,
  n: number,
  perPass: number | null,
): Promise<{ ms: number; dispatches: number; byOp: StepOpTime[] } | string> {
  await e.sync();
  if (!e.startProfile()) return 'startProfile() refused';
  let recs: (DispatchInfo & { ms: number })[];
  try {
    for (let i = 0; i < n; i++) run();
  } finally {
    recs = await e.stopProfile();
  }
  if (perPass !== null && recs.length !== n * perPass) return `profiler recorded ${recs.length} dispatches, expected ${n * perPass}`;
  const total = recs.reduce((s, d) => s + d.ms, 0);
  if (!(total > 0)) return 'profiler returned zero times (query set not created?)';
  const ops = new Map<string, StepOpTime>();
  for (const d of recs) {
    let o = ops.get(d.op);
    if (!o) ops.set(d.op, (o = { op: d.op, ms: 0, dispatches: 0 }));
    o.ms += d.ms / n;
    o.dispatches += 1 / n;
  }
  const byOp = [...ops.values()].sort((a, b) => b.ms - a.ms);
  return { ms: total / n, dispatches: recs.length / n, byOp };
}

/** GPU time of one op kind within a step (summed over its dispatches). */
export interface StepOpTime {
  op: string;
  ms: number;
  dispatches: number;
}

// ---- passes -------------------------------------------------------------------------------------

/** One pass, set up on the GPU and ready to run. */
interface Prepared {
  /** Encodes one pass and returns its outputs (in a fixed order). */
  run(): Tensor[];
  /** How many runs the validation does before reading (Adam: 2 steps). Default 1. */
  validationRuns?: number;
  /** Tensors to read for validation instead of run()'s outputs (Adam: the parameters). */
  readTargets?(): Tensor[];
  /** Checks the read-back outputs. */
  validate(outs: Float32Array[]): ValidationResult;
  dispose(): void;
}

export interface PassOptions {
  time: EngineTimeOptions;
  validation: ValidationMode;
  samples: number;
  /** Time a pass whose validation failed (default: no). */
  timeInvalid: boolean;
}

/** Validates and times one prepared pass; never throws (failures are recorded). */
async function runPass(prepare: () => Prepared, flops: number, bytes: number, o: PassOptions): Promise<EnginePassResult> {
  const e = engine();
  const buffers0 = e.memory().liveBuffers;
  let prepared: Prepared | null = null;
  const result: EnginePassResult = { status: 'ok' };
  try {
    // 1. Validation, with every allocation poisoned.
    e.poisonAllocations = true;
    let outs: Tensor[] = [];
    try {
      prepared = prepare();
      const p = prepared;
      const runs = p.validationRuns ?? 1;
      for (let i = 0; i < runs; i++) {
        outs.forEach((t) => t.dispose());
        outs = tidy(() => p.run());
      }
    } finally {
      e.poisonAllocations = false;
    }
    const targets = prepared.readTargets ? prepared.readTargets() : outs;
    const data: Float32Array[] = [];
    for (const t of targets) data.push(await t.data());
    outs.forEach((t) => t.dispose());
    result.validation = prepared.validate(data);
    if (!result.validation.ok) {
      result.status = 'invalid';
      result.message = result.validation.message;
      if (!o.timeInvalid) return result;
    }
    // 2. Timing.
    const p = prepared;
    result.timing = await timeEnginePass(
      () => {
        tidy(() => {
          p.run();
        });
      },
      flops,
      bytes,
      o.time,
    );
  } catch (err) {
    result.status = 'failed';
    result.message = errorLine(err);
  } finally {
    e.poisonAllocations = false;
    try {
      prepared?.dispose();
      await e.sync();
      result.leaked_buffers = e.memory().liveBuffers - buffers0;
    } catch (err) {
      result.status = 'failed';
      result.message = (result.message ? result.message + '; ' : '') + `cleanup: ${errorLine(err)}`;
    }
  }
  return result;
}

export function errorLine(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.split('\n').slice(0, 3).join(' | ');
}

function checkShape(what: string, t: Tensor, want: readonly number[]): void {
  if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
    throw new Error(`${what}: output is [${t.shape.join(', ')}], expected [${want.join(', ')}]`);
  }
}

function skipped(m: Missing): EnginePassResult {
  return { status: 'skipped', message: m.message };
}

// ---- convolutions -------------------------------------------------------------------------------

function prepareConv(api: ConvApi, c: ConvCase, pass: ConvPass, o: PassOptions): Prepared {
  const s = convShapes(c);
  const seed = hash(`${c.id}/${pass}`);
  const size = (sh: number[]) => sh.reduce((a, b) => a * b, 1);
  const xh = randomF32(size(s.x), seed + 1);
  const wh = randomF32(size(s.w), seed + 2);
  const dyh = randomF32(size(s.y), seed + 3);
  // Only the operands the pass reads go to the GPU.
  const needX = pass !== 'input_grad';
  const needW = pass !== 'weight_grad';
  const needDy = pass !== 'forward';
  const x = needX ? tensor(xh, s.x).keep() : null;
  const w = needW ? tensor(wh, s.w).keep() : null;
  const dy = needDy ? tensor(dyh, s.y).keep() : null;
  const opts = { stride: [c.stride, c.stride] as [number, number], padding: c.pad, dilation: [1, 1] as [number, number] };
  const outShape = convPassOutShape(c, pass);
  const what = `${c.id}/${pass}`;
  const isT = c.kind === 'conv_transpose2d';
  const op = c.outputPadding ?? 0;
  const once = (): Tensor => {
    if (!isT) {
      if (pass === 'forward') return api.conv2d(x!, w!, null, opts);
      if (pass === 'input_grad') return api.conv2dBackwardInput(dy!, w!, s.x, opts);
      return api.conv2dBackwardWeight(x!, dy!, s.w, opts);
    }
    // conv_transpose2d is conv2d's input gradient: its input gradient is conv2d(dy, w), its
    // weight gradient conv2d's weight gradient with dy as the conv input and x as the output grad.
    if (pass === 'forward') return api.convTranspose2d(x!, w!, null, { ...opts, outputPadding: [op, op] });
    if (pass === 'input_grad') return api.conv2d(dy!, w!, null, opts);
    return api.conv2dBackwardWeight(dy!, x!, s.w, opts);
  };
  return {
    run: () =>
      noGrad(() => {
        const out = once();
        checkShape(what, out, outShape);
        return [out];
      }),
    validate: ([out]) => validateConv(c, pass, out, { x: xh, w: wh, dy: dyh }, { mode: o.validation, samples: o.samples }),
    dispose: () => [x, w, dy].forEach((t) => t?.dispose()),
  };
}

export async function runConvPass(api: EngineApi, c: ConvCase, pass: ConvPass, o: PassOptions): Promise<EnginePassResult> {
  if (api.conv instanceof Missing) return skipped(api.conv);
  const conv = api.conv;
  return runPass(() => prepareConv(conv, c, pass, o), c.flops(pass), c.bytes(pass), o);
}

// ---- norms --------------------------------------------------------------------------------------

function prepareNorm(api: NormApi, c: NormCase, pass: NormPass): Prepared {
  const shape = [c.n, c.c, c.h, c.w];
  const n = c.n * c.c * c.h * c.w;
  const seed = hash(`${c.id}/${pass}`);
  const xh = randomF32(n, seed + 1);
  const dyh = randomF32(n, seed + 2);
  const gh = c.affine ? randomF32(c.c, seed + 3, 0.5, 1.5) : null;
  const bh = c.affine ? randomF32(c.c, seed + 4, -0.5, 0.5) : null;
  const withGrad = pass === 'forward_backward';
  const x = tensor(xh, shape).keep();
  const dy = withGrad ? tensor(dyh, shape).keep() : null;
  const gamma = gh ? tensor(gh, [c.c]).keep() : null;
  const beta = bh ? tensor(bh, [c.c]).keep() : null;
  const isBatch = c.kind === 'batch_norm';
  const runningMean = isBatch ? tensor(new Float32Array(c.c), [c.c]).keep() : null;
  const runningVar = isBatch ? tensor(new Float32Array(c.c).fill(1), [c.c]).keep() : null;
  if (withGrad) {
    x.requireGrad();
    gamma?.requireGrad();
    beta?.requireGrad();
  }
  const forward = (): Tensor =>
    isBatch
      ? api.batchNorm(x, gamma, beta, { eps: c.eps, training: true, runningMean: runningMean!, runningVar: runningVar! })
      : api.instanceNorm(x, gamma, beta, { eps: c.eps });
  const names = withGrad ? (c.affine ? ['dx', 'dgamma', 'dbeta'] : ['dx']) : ['y'];
  return {
    run: () => {
      if (!withGrad) return [noGrad(forward)];
      const y = forward();
      const targets = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
      // A view of dy: the tape disposes the root gradient it is handed once it has used it (a
      // caller's gradOutputs included), and dy must survive for the next pass.
      return grad(y, targets, { gradOutputs: [dy!.viewAs(dy!.shape)] });
    },
    validate: (outs) =>
      validateNorm(c, pass, Object.fromEntries(names.map((nm, i) => [nm, outs[i]])), { x: xh, gamma: gh, beta: bh, dy: dyh }),
    dispose: () => [x, dy, gamma, beta, runningMean, runningVar].forEach((t) => t?.dispose()),
  };
}

export async function runNormPass(api: EngineApi, c: NormCase, pass: NormPass, o: PassOptions): Promise<EnginePassResult> {
  if (api.norm instanceof Missing) return skipped(api.norm);
  const norm = api.norm;
  return runPass(() => prepareNorm(norm, c, pass), c.flops(pass), c.bytes(pass), o);
}

// ---- Laplacian pyramid --------------------------------------------------------------------------

function preparePyramid(api: PyramidApi, c: PyramidCase): Prepared {
  const shape = [c.n, c.c, c.h, c.w];
  const xh = randomF32(c.n * c.c * c.h * c.w, hash(c.id));
  const x = tensor(xh, shape).keep();
  const bands = c.levels - 1;
  return {
    // The last entry is the low-pass image; with 0 bands it would be x itself (never the case here).
    run: () => noGrad(() => api.laplacianPyramid(x, bands)),
    validate: (outs) => validatePyramid(shape, bands, outs, xh),
    dispose: () => x.dispose(),
  };
}

export async function runPyramidPass(api: EngineApi, c: PyramidCase, o: PassOptions): Promise<EnginePassResult> {
  if (api.pyramid instanceof Missing) return skipped(api.pyramid);
  const pyramid = api.pyramid;
  return runPass(() => preparePyramid(pyramid, c), c.flops(), c.bytes(), o);
}

// ---- Adam ---------------------------------------------------------------------------------------

/** Adam steps validated on this many steps from zero moments. */
const ADAM_VALIDATION_STEPS = 2;

function prepareAdam(api: OptimApi, c: AdamCase): Prepared {
  const seed = hash(c.id);
  const p0: Float32Array[] = [];
  const g: Float32Array[] = [];
  const params: Tensor[] = [];
  c.sizes.forEach((n, i) => {
    const ph = randomF32(n, seed + 2 * i, -0.05, 0.05);
    // Gradients spread over three decades, as real ones are.
    const gh = randomF32(n, seed + 2 * i + 1, -1, 1).map((v, j) => v * 10 ** -(j % 3));
    p0.push(ph);
    g.push(gh);
    const p = tensor(ph, [n]).keep().requireGrad();
    p.grad = tensor(gh, [n]).keep();
    params.push(p);
  });
  const opt = new api.Adam(params, { lr: c.lr, betas: [c.beta1, c.beta2], eps: c.eps });
  const concat = (parts: Float32Array[]): Float32Array => {
    const out = new Float32Array(c.total);
    let o = 0;
    for (const a of parts) {
      out.set(a, o);
      o += a.length;
    }
    return out;
  };
  return {
    run: () => {
      opt.step();
      return [];
    },
    validationRuns: ADAM_VALIDATION_STEPS,
    readTargets: () => params,
    validate: (outs) => validateAdam(c, concat(p0), concat(g), ADAM_VALIDATION_STEPS, concat(outs)),
    dispose: () => {
      (opt as { dispose?: () => void }).dispose?.();
      params.forEach((p) => p.dispose());
    },
  };
}

export async function runAdamPass(api: EngineApi, c: AdamCase, o: PassOptions): Promise<EnginePassResult> {
  if (api.optim instanceof Missing) return skipped(api.optim);
  const optim = api.optim;
  return runPass(() => prepareAdam(optim, c), c.flops(), c.bytes(), o);
}

// ---- end-to-end training steps ------------------------------------------------------------------

/** A model's training step to time: which file, which recipe, which config. */
export interface StepSpec {
  id: string;
  title: string;
  file: StepFile;
  recipe: string;
  batch: number;
  /** Overrides of the recipe's option defaults (keys the recipe does not declare are still passed). */
  config: Record<string, number | string | boolean>;
  /** Nominal FLOPs of one step, when known (GFLOP/s column). */
  nominalFlops?: number;
}

export interface EngineStepResult {
  status: 'ok' | 'failed' | 'skipped';
  message?: string;
  ms_median?: number;
  ms_all?: number[];
  /** Host time of step() itself (building the graph, encoding and submitting; no waiting). */
  encode_ms_median?: number;
  /** Summed GPU time of one step's dispatches (timestamp queries), when they fit the profiler. */
  gpu_ms?: number;
  gflops?: number;
  /** Dispatches of one step: the profiled step's, else the last warm-up step's. */
  dispatches?: number;
  kernels?: KernelCount[];
  /** The scalars the step returned, after the last timed step. */
  stats?: Record<string, number>;
  config?: Record<string, number | string | boolean>;
  image?: number[];
  /** Live tensors' buffers after the timed steps minus before (0 expected). */
  leaked_buffers?: number;
  /**
   * Per timed step, from the engine's counters (averaged over the timed steps): submits,
   * bind groups and buffers created (0 expected in a steady state), pipelines compiled.
   */
  per_step?: { submits: number; bind_groups_created: number; buffers_created: number; pipelines_compiled: number; dispatches: number };
  /** The profiled step's GPU time grouped by op, largest first. */
  gpu_by_op?: StepOpTime[];
}

export interface StepOptions {
  warmup: number;
  steps: number;
  profile: boolean;
  seed: number;
}

/** Times one model's training step; never throws. */
export async function runEngineStep(spec: StepSpec, o: StepOptions): Promise<EngineStepResult> {
  const recipe = await loadRecipe(spec.file, spec.recipe);
  if (recipe instanceof Missing) return { status: 'skipped', message: recipe.message };
  const e = engine();
  let real: Tensor | null = null;
  let trainer: ReturnType<RecipeLike['create']> | null = null;
  const result: EngineStepResult = { status: 'ok' };
  try {
    const config: Record<string, number | string | boolean> = {};
    for (const [k, v] of Object.entries(recipe.options)) if (v.default !== undefined) config[k] = v.default;
    Object.assign(config, spec.config);
    result.config = config;
    const problems = recipe.validate(config);
    if (problems.length) throw new Error(`config rejected by the ${spec.recipe} recipe: ${problems.join('; ')}`);
    const settings = { ...recipe.train, batch: spec.batch };
    trainer = recipe.create(config, settings, o.seed);
    const { channels, size } = recipe.imageShape(config);
    const shape = [spec.batch, channels, size, size];
    result.image = shape;
    real = tensor(
      randomF32(
        shape.reduce((a, b) => a * b, 1),
        hash(spec.id),
        -1,
        1,
      ),
      shape,
    ).keep();
    const t = trainer;
    const r = real;
    let encodeMs = 0;
    const step = async (): Promise<Record<string, number>> => {
      const t0 = performance.now();
      const stats = t.step(r, true);
      encodeMs = performance.now() - t0;
      if (stats && Object.keys(stats).length) return readStats(stats);
      await e.sync();
      return {};
    };
    // The last warm-up step is traced (dispatch count, kernels; the first one also creates the
    // optimizers' state); without warm-up an extra step is.
    const trace: DispatchInfo[] = [];
    for (let i = 0; i < Math.max(1, o.warmup); i++) {
      const last = i === Math.max(1, o.warmup) - 1;
      if (last) e.trace = trace;
      try {
        await step();
      } finally {
        e.trace = null;
      }
    }
    result.dispatches = trace.length;
    result.kernels = countKernels(trace);
    await e.sync();
    const buffers0 = e.memory().liveBuffers;
    const all: number[] = [];
    const enc: number[] = [];
    let stats: Record<string, number> = {};
    const counters0 = e.snapshotCounters();
    for (let i = 0; i < o.steps; i++) {
      const t0 = performance.now();
      stats = await step();
      all.push(performance.now() - t0);
      enc.push(encodeMs);
    }
    if (o.steps > 0) {
      const d = e.countersSince(counters0);
      const per = (v: number) => v / o.steps;
      result.per_step = {
        submits: per(d.submits),
        bind_groups_created: per(d.bindGroupsCreated),
        buffers_created: per(d.buffersCreated),
        pipelines_compiled: per(d.pipelinesCompiled),
        dispatches: per(d.dispatches),
      };
    }
    result.encode_ms_median = median(enc);
    await e.sync();
    result.leaked_buffers = e.memory().liveBuffers - buffers0;
    result.ms_median = median(all);
    result.ms_all = all;
    result.stats = stats;
    if (spec.nominalFlops) result.gflops = spec.nominalFlops / (result.ms_median * 1e6);
    const bad = Object.entries(stats).filter(([, v]) => !Number.isFinite(v));
    if (bad.length) {
      result.status = 'failed';
      result.message = `non-finite step statistics: ${bad.map(([k, v]) => `${k}=${v}`).join(', ')}`;
    }
    // One more step (the same work as a timed one), profiled when its dispatches fit the profiler.
    if (o.profile && e.features.has('timestamp-query') && trace.length > 0) {
      const p = await profileRun(
        e,
        () => {
          const st = t.step(r, true);
          for (const v of Object.values(st ?? {})) v.dispose();
        },
        1,
        null,
      );
      if (typeof p === 'string') result.message = `GPU time not measured: ${p}`;
      else {
        result.gpu_ms = p.ms;
        result.dispatches = p.dispatches;
        result.gpu_by_op = p.byOp;
      }
    }
  } catch (err) {
    result.status = 'failed';
    result.message = errorLine(err);
  } finally {
    try {
      real?.dispose();
      disposeTrainer(trainer);
      await e.sync();
    } catch {
      // The failure above is the one worth reporting.
    }
  }
  return result;
}

/** Releases a trainer's optimizer state and parameters (best effort; trainers have no dispose yet). */
function disposeTrainer(t: unknown): void {
  if (!t || typeof t !== 'object') return;
  const o = t as {
    dispose?: () => void;
    optimizers?: Record<string, { dispose?: () => void }>;
    nets?: Record<string, { dispose?: () => void }>;
  };
  if (typeof o.dispose === 'function') {
    o.dispose();
    return;
  }
  for (const opt of Object.values(o.optimizers ?? {})) opt.dispose?.();
  for (const net of Object.values(o.nets ?? {})) net.dispose?.();
}
