// The device layer: one GPUDevice and everything that talks to it directly.
//   - acquiring an adapter/device in Node (Dawn, npm `webgpu`) or the browser (navigator.gpu),
//     with the adapter's real limits requested and its identity logged;
//   - a buffer pool (storage buffers reused by size class) with live counts for leak tests; a free
//     list hands out its lowest buffer id first, so a step that allocates in the same order as the
//     last one gets the same buffers back (and so the same cached bind groups);
//   - a pipeline cache keyed by the full specialisation of a kernel; the WGSL source may be a
//     function, called only when the pipeline is not cached yet;
//   - command batching: dispatches go into one open compute pass of one encoder; uniforms go into
//     a ring (one writeBuffer per submit, dynamic offsets), bind groups are cached by their
//     buffers; we submit when the caller reads data back or calls flush(), and every
//     `submitEvery` dispatches so the GPU starts while the host still encodes;
//   - counters (dispatches, submits, bind groups / buffers / pipelines created) for tests and the
//     step profile;
//   - an optional profiler (timestamp queries per dispatch) for the kernel inspector and bench.
// Nothing here knows about tensors or autograd.

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  backend: 'node-dawn' | 'browser';
}

/** How a kernel's storage bindings are used: 'read' (read-only storage) or 'rw' (read_write). */
export type BindingAccess = 'read' | 'rw';

export interface KernelSpec {
  /** Unique name plus every specialisation, e.g. `conv2d_forward|bias=1|act=relu|tile=64`. */
  key: string;
  /**
   * Full WGSL source. Binding 0 of group 0 is the uniform struct; storage bindings follow from 1.
   * A function is called only when `key` misses the pipeline cache (building WGSL is not free).
   */
  code: string | (() => string);
  entryPoint?: string;
  /** Access of storage bindings 1..n in order. */
  bindings: BindingAccess[];
  /** Human readable op name for errors and the inspector. */
  op?: string;
}

/** A spec's WGSL source (built on the first call when the spec holds a builder). */
export function sourceOf(spec: KernelSpec): string {
  return typeof spec.code === 'function' ? spec.code() : spec.code;
}

export interface Kernel {
  /** The spec as compiled (`code` resolved to its string). */
  spec: KernelSpec & { code: string };
  pipeline: GPUComputePipeline;
  layoutKey: string;
  bgl: GPUBindGroupLayout;
}

export interface DispatchInfo {
  kernel: string;
  op: string;
  workgroups: [number, number, number];
  bytes: number;
  label?: string;
}

/** One uniform value: 'u32' | 'i32' | 'f32'. Uniform structs in this engine hold scalars only. */
export type UniformValue = { u32: number } | { i32: number } | { f32: number } | number;

const STORAGE_USAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** Round a byte size to its pool class: 256-byte steps below 64 KiB, then 8 steps per octave. */
export function sizeClass(bytes: number): number {
  const b = Math.max(16, Math.ceil(bytes / 4) * 4);
  if (b <= 65536) return Math.ceil(b / 256) * 256;
  const octave = 2 ** Math.floor(Math.log2(b));
  const step = octave / 8;
  return Math.ceil(b / step) * step;
}

let nextBufferId = 1;
export interface PooledBuffer {
  buffer: GPUBuffer;
  id: number;
  size: number;
  /**
   * Bumped by every write into the buffer (a kernel's read_write binding, copy, upload): the
   * autograd tape's version counter (tensors on one buffer share it, like PyTorch's views).
   */
  version?: number;
}

/** Monotonic counts of the engine's GPU work and object creation (see Engine.counters). */
export interface EngineCounters {
  dispatches: number;
  submits: number;
  uploads: number;
  readbacks: number;
  /** Full waits for the GPU (sync()): the host idles until everything submitted has run. */
  syncs: number;
  /** Compute pipelines compiled (pipeline-cache misses). */
  pipelinesCompiled: number;
  /** GPUBindGroups created (bind-group cache misses). */
  bindGroupsCreated: number;
  /** GPUBuffers created: pool misses, readback staging, profiler buffers. */
  buffersCreated: number;
  /** Training steps run by replaying a recorded plan (engine/replay.ts). */
  replayedSteps: number;
  /** Steps a replayer ran eagerly (recording, verifying, or after a fallback). */
  eagerSteps: number;
  /** Times a replayer dropped or could not use a plan (reasons: Engine.replayFallbacks). */
  replayFallbacks: number;
}

/**
 * One GPU command of a recorded step (Engine.record): what a replay re-encodes. `uniforms` are the
 * packed words as dispatched; `refresh`, when present, recomputes them for the next step (advancing
 * the host state they come from: optimiser step counts, RNG offsets).
 */
export type RecordedOp =
  | {
      kind: 'dispatch';
      kernel: Kernel;
      buffers: PooledBuffer[];
      uniforms: Uint32Array;
      workgroups: [number, number, number];
      refresh?: () => UniformValue[];
      info: DispatchInfo;
    }
  | { kind: 'copy'; src: PooledBuffer; srcOffset: number; dst: PooledBuffer; dstOffset: number; bytes: number }
  | { kind: 'upload'; dst: PooledBuffer; byteOffset: number; data: Uint8Array };

/** What Engine.record() captured of one step. */
export interface Recording {
  ops: RecordedOp[];
  /** Why the step cannot be replayed (host-side data or readbacks inside it); empty when it can. */
  notReplayable: string[];
}

/** A verified recording turned into GPU objects (Engine.buildPlan); run with Engine.runPlan. */
export interface StepPlan {
  readonly id: number;
  /** Set once the plan may no longer run, with the reason (a buffer it uses was released, trimPool()). */
  stale: string | null;
  readonly dispatches: number;
  readonly uploads: number;
  /** Buffers held out of the pool for the plan (its temporaries and handed-over outputs), and their bytes. */
  heldBuffers: number;
  heldBytes: number;
}

/**
 * A plan's commands as flat arrays (runPlan's loop reads them by index: no per-command objects of
 * several shapes, no Map lookups). `kind[i]`: 0 a dispatch, 1 a copy, 2 an upload, 3 an upload
 * that first submits what is encoded (an earlier command of the plan uses its buffer). Dispatch d
 * uses `pipe[d]`, `bg[d]`, workgroups `wg[3d..3d+2]` and the uniform slot at byte `offsets[d]`
 * (PlanImpl); `setPipe[d]` is 0 when dispatch d - 1 set the same pipeline (runPlan still sets it
 * after a pass break).
 */
interface PlanCommands {
  kind: Uint8Array;
  pipe: GPUComputePipeline[];
  setPipe: Uint8Array;
  bg: GPUBindGroup[];
  wg: Uint32Array;
  info: DispatchInfo[];
  copies: { src: GPUBuffer; srcOffset: number; dst: GPUBuffer; dstOffset: number; bytes: number }[];
  uploads: { dst: GPUBuffer; byteOffset: number; data: Uint8Array<ArrayBuffer> }[];
}

interface PlanImpl extends StepPlan {
  stale: string | null;
  cmds: PlanCommands;
  uniformGpu: GPUBuffer;
  uniformCpu: ArrayBuffer;
  u32: Uint32Array;
  i32: Int32Array;
  f32: Float32Array;
  /** The refreshed dispatches' uniform word offsets and functions, in recorded order. */
  refreshBase: Uint32Array;
  refreshFn: (() => UniformValue[])[];
  /** The writeBuffer runs that cover the refreshed words: [fromByte, toByte) pairs. */
  refreshRuns: Uint32Array;
  /**
   * Each dispatch's dynamic uniform offset (setBindGroup's typed-array form); the refreshed
   * dispatches have the last slots, so their words go up in one writeBuffer.
   */
  offsets: Uint32Array;
  held: PooledBuffer[];
  watched: number[];
}

let nextPlanId = 1;

/** Packs uniform values into 32-bit words at word index `base` (u32 default, i32 and f32 tagged). */
function packUniforms(values: UniformValue[], u32: Uint32Array, i32: Int32Array, f32: Float32Array, base: number): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'number') u32[base + i] = v >>> 0;
    else if ('u32' in v) u32[base + i] = v.u32 >>> 0;
    else if ('i32' in v) i32[base + i] = v.i32 | 0;
    else f32[base + i] = v.f32;
  }
}

/** What a GPU adapter is, as far as kernel configuration cares. */
export type AdapterClass = 'software' | 'gpu';

/** Software rasterisers (lavapipe/llvmpipe, SwiftShader, WARP) versus real GPUs, from the adapter's identity. */
export function classifyAdapter(
  a: Pick<AdapterSummary, 'vendor' | 'architecture' | 'device' | 'description' | 'isFallbackAdapter'>,
): AdapterClass {
  if (a.isFallbackAdapter) return 'software';
  return /llvmpipe|lavapipe|swiftshader|software|microsoft basic render|warp/i.test(
    `${a.vendor} ${a.architecture} ${a.device} ${a.description}`,
  )
    ? 'software'
    : 'gpu';
}

/** Every numeric limit of `l` copied into a plain object (Dawn's getters cross into native code on each read). */
function copyLimits(l: GPUSupportedLimits): GPUSupportedLimits {
  const out: Record<string, number> = {};
  // WebIDL attributes live on the prototype: walk it rather than Object.keys.
  for (let o: object | null = l; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const k of Object.getOwnPropertyNames(o)) {
      if (k in out || k === 'constructor') continue;
      const v = (l as unknown as Record<string, unknown>)[k];
      if (typeof v === 'number') out[k] = v;
    }
  }
  return Object.freeze(out) as unknown as GPUSupportedLimits;
}

/** Dispatches encoded between two automatic submits (flush() submits the rest). */
export const DEFAULT_SUBMIT_EVERY = 64;

const UNIFORM_SLOT = 256; // minUniformBufferOffsetAlignment is at most 256 on every adapter
const UNIFORM_RING_BYTES = 1 << 20; // 4096 dispatches per submit before a forced flush
/**
 * Bind groups kept for reuse, least recently used dropped first. Pooled buffers come back in varying
 * orders, so the (kernel, buffers) combinations a training loop meets keep growing without bound: an
 * unbounded (or 20,000-entry) cache grew the process by ~0.5 MiB of native memory per step.
 */
export const BIND_GROUP_CACHE_ENTRIES = 4096;

export class Engine {
  readonly device: GPUDevice;
  readonly adapter: AdapterSummary;
  /** The device's limits, read once (a plain copy). */
  readonly limits: GPUSupportedLimits;
  readonly features: ReadonlySet<string>;
  readonly id: number;
  /** Software rasteriser or GPU: kernels pick tiles and code shapes by it. */
  readonly adapterClass: AdapterClass;
  /**
   * Submit after this many dispatches even when nobody waits, so the GPU works while the host
   * encodes the rest (0: submit only on readback / flush()). Submission order is program order,
   * so results do not depend on it.
   */
  submitEvery = DEFAULT_SUBMIT_EVERY;
  private sinceSubmit = 0;
  /**
   * Whether waits on the GPU (sync, throttle, read, prewarm, error scopes) nap the thread between
   * Dawn's polls (see napWhile): on by default under Node's Dawn, where the poll is otherwise a busy
   * loop; browsers never nap (their event loop waits without spinning).
   */
  napWaits: boolean;

  private pool = new Map<number, PooledBuffer[]>();
  private live = new Map<number, PooledBuffer>();
  private liveBytes = 0;
  private pooledBytes = 0;
  private pipelines = new Map<string, Kernel>();
  private layouts = new Map<string, { bgl: GPUBindGroupLayout; pl: GPUPipelineLayout }>();
  private bindGroups = new Map<string, GPUBindGroup>();
  /** MAP_READ staging buffers for read(), by size, reused across readbacks. */
  private readStaging = new Map<number, GPUBuffer[]>();

  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private uniformCpu = new ArrayBuffer(UNIFORM_RING_BYTES);
  private uniformU32 = new Uint32Array(this.uniformCpu);
  private uniformI32 = new Int32Array(this.uniformCpu);
  private uniformF32 = new Float32Array(this.uniformCpu);
  private uniformUsed = 0;
  private uniformGpu: GPUBuffer;
  /** Buffers used by commands encoded but not yet submitted (an upload must not overtake them). */
  private touched = new Set<GPUBuffer>();

  /** Monotonic counts; take `snapshotCounters()` before and `countersSince()` after a step. */
  counters: EngineCounters = {
    dispatches: 0,
    submits: 0,
    uploads: 0,
    readbacks: 0,
    syncs: 0,
    pipelinesCompiled: 0,
    bindGroupsCreated: 0,
    buffersCreated: 0,
    replayedSteps: 0,
    eagerSteps: 0,
    replayFallbacks: 0,
  };
  /** Why replayers fell back to eager, with counts (engine/replay.ts). */
  readonly replayFallbacks = new Map<string, number>();
  /**
   * Whether this engine's Dawn instance skips per-command validation (initEngine's
   * unsafeSkipValidation): GPU command errors are then undefined behaviour, not reported.
   */
  skipsValidation = false;
  /** The step being recorded (Engine.record), if any. */
  private recorder: Recording | null = null;
  /** Live buffers that plans read or write, by id: releasing one makes those plans stale. */
  private planWatch = new Map<number, Set<PlanImpl>>();
  /** Live buffers (a step's outputs) that go to a plan's held set when released, by id. */
  private planHandOver = new Map<number, PlanImpl>();
  private plans = new Set<PlanImpl>();
  private heldBytes = 0;
  private heldCount = 0;
  /** When set, every dispatch is recorded here (kernel inspector, tests). */
  trace: DispatchInfo[] | null = null;
  private profiler: Profiler | null = null;
  private lostReason: string | null = null;
  /** Tests: fill every allocation with NaN so an element a kernel fails to write shows up. */
  poisonAllocations = false;

  constructor(device: GPUDevice, adapter: AdapterSummary, id: number) {
    this.device = device;
    this.adapter = adapter;
    this.limits = copyLimits(device.limits);
    this.features = new Set([...device.features] as string[]);
    this.id = id;
    this.adapterClass = classifyAdapter(adapter);
    this.napWaits = adapter.backend === 'node-dawn';
    this.uniformGpu = device.createBuffer({
      size: UNIFORM_RING_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label: 'uniform-ring',
    });
    device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
    });
  }

  /** True on software rasterisers (lavapipe, SwiftShader): no SIMT, a few cores. */
  get isSoftware(): boolean {
    return this.adapterClass === 'software';
  }

  /** A copy of the counters, to subtract later with countersSince(). */
  snapshotCounters(): EngineCounters {
    return { ...this.counters };
  }

  /** Counts since `before` (a snapshotCounters() result). */
  countersSince(before: EngineCounters): EngineCounters {
    const out = { ...this.counters };
    for (const k of Object.keys(out) as (keyof EngineCounters)[]) out[k] -= before[k];
    return out;
  }

  private createBuffer(desc: GPUBufferDescriptor): GPUBuffer {
    this.counters.buffersCreated++;
    return this.device.createBuffer(desc);
  }

  get isLost(): boolean {
    return this.lostReason !== null;
  }

  private checkAlive(): void {
    if (this.lostReason) {
      throw new Error(`GPU device was lost (${this.lostReason}). Create a new engine with initEngine() and reload your checkpoint.`);
    }
  }

  // ---- buffers ----------------------------------------------------------------------------------

  /** A storage buffer of at least `bytes`, from the pool when one of its size class is free. */
  acquire(bytes: number, op = 'alloc'): PooledBuffer {
    this.checkAlive();
    const max = this.limits.maxStorageBufferBindingSize;
    if (bytes > max) {
      throw new Error(
        `${op}: needs a buffer of ${fmtBytes(bytes)}, above this adapter's maxStorageBufferBindingSize ` +
          `(${fmtBytes(max)}, ${this.adapter.description || this.adapter.vendor}). Use a smaller batch or image size.`,
      );
    }
    const size = sizeClass(bytes);
    const free = this.pool.get(size);
    // Free lists are sorted by descending id: pop() hands out the lowest id of the class.
    let pb = free?.pop();
    if (pb) {
      this.pooledBytes -= size;
    } else {
      const buffer = this.createBuffer({ size, usage: STORAGE_USAGE() });
      pb = { buffer, id: nextBufferId++, size };
    }
    this.live.set(pb.id, pb);
    this.liveBytes += size;
    if (this.poisonAllocations) this.upload(pb, new Float32Array(size / 4).fill(NaN));
    return pb;
  }

  release(pb: PooledBuffer): void {
    if (!this.live.delete(pb.id)) return;
    this.liveBytes -= pb.size;
    const heir = this.planHandOver.get(pb.id);
    if (heir) {
      this.planHandOver.delete(pb.id);
      heir.held.push(pb);
      heir.heldBuffers++;
      heir.heldBytes += pb.size;
      this.heldCount++;
      this.heldBytes += pb.size;
      return;
    }
    if (this.planWatch.size) {
      const plans = this.planWatch.get(pb.id);
      if (plans)
        for (const p of [...plans])
          this.dropPlan(p, `buffer #${pb.id} (${fmtBytes(pb.size)}) it uses was released outside the step (a tensor disposed or replaced)`);
    }
    this.insertFree(pb);
  }

  private insertFree(pb: PooledBuffer): void {
    let list = this.pool.get(pb.size);
    if (!list) this.pool.set(pb.size, (list = []));
    // Keep the list sorted by descending id (insertion by binary search). Handing out the lowest
    // free id makes the buffers a step gets a function of which buffers are free, not of the order
    // they were released in: a steady-state step reuses last step's buffers and bind groups.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].id > pb.id) lo = mid + 1;
      else hi = mid;
    }
    if (lo === list.length) list.push(pb);
    else list.splice(lo, 0, pb);
    this.pooledBytes += pb.size;
  }

  /** Frees the pooled (unused) buffers' GPU memory. */
  trimPool(): void {
    // Commands encoded but not submitted may use pooled buffers: submit them before destroying any.
    this.flush();
    for (const p of [...this.plans]) this.dropPlan(p, 'trimPool() was called');
    for (const list of this.pool.values()) for (const pb of list) pb.buffer.destroy();
    this.pool.clear();
    this.pooledBytes = 0;
    this.bindGroups.clear();
    for (const list of this.readStaging.values()) for (const b of list) b.destroy();
    this.readStaging.clear();
  }

  /** Sizes of the host-side caches (bounded: bind groups by BIND_GROUP_CACHE_ENTRIES). */
  cacheSizes(): { bindGroups: number; pipelines: number; layouts: number } {
    return { bindGroups: this.bindGroups.size, pipelines: this.pipelines.size, layouts: this.layouts.size };
  }

  /** Buffer counts and bytes: live (handed out), pooled (free), held (out of the pool for replay plans). */
  memory(): { liveBuffers: number; liveBytes: number; pooledBuffers: number; pooledBytes: number; heldBuffers: number; heldBytes: number } {
    let pooledBuffers = 0;
    for (const l of this.pool.values()) pooledBuffers += l.length;
    return {
      liveBuffers: this.live.size,
      liveBytes: this.liveBytes,
      pooledBuffers,
      pooledBytes: this.pooledBytes,
      heldBuffers: this.heldCount,
      heldBytes: this.heldBytes,
    };
  }

  /** Copies host data into a buffer, ordered correctly against commands already encoded. */
  upload(pb: PooledBuffer, data: ArrayBufferView, byteOffset = 0): void {
    this.checkAlive();
    this.counters.uploads++;
    pb.version = (pb.version ?? 0) + 1;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const padded = bytes.byteLength % 4 === 0 ? bytes : padTo4(bytes);
    // queue.writeBuffer lands before the next submit. When a command encoded but not yet
    // submitted uses this buffer, submit those commands first, so the write stays behind them
    // (queue operations run in order). No staging buffer is created either way.
    if (this.touched.has(pb.buffer)) this.flush();
    this.device.queue.writeBuffer(pb.buffer, byteOffset, padded as Uint8Array<ArrayBuffer>);
    this.recorder?.ops.push({ kind: 'upload', dst: pb, byteOffset, data: padded.slice() });
  }

  /** Encodes a buffer-to-buffer copy in order with the dispatches. */
  copy(src: PooledBuffer, srcOffset: number, dst: PooledBuffer, dstOffset: number, bytes: number): void {
    this.checkAlive();
    dst.version = (dst.version ?? 0) + 1;
    this.endPass();
    this.getEncoder().copyBufferToBuffer(src.buffer, srcOffset, dst.buffer, dstOffset, bytes);
    this.touched.add(src.buffer);
    this.touched.add(dst.buffer);
    this.recorder?.ops.push({ kind: 'copy', src, srcOffset, dst, dstOffset, bytes });
  }

  /** Submits pending work and reads `bytes` of the buffer back. */
  async read(pb: PooledBuffer, bytes: number, byteOffset = 0): Promise<ArrayBuffer> {
    this.checkAlive();
    this.counters.readbacks++;
    this.recorder?.notReplayable.push(`it reads GPU data back (${bytes} bytes) inside the step`);
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    // Staging buffers are pooled by size (a logging step reads the same few sizes every time).
    const free = this.readStaging.get(size);
    const staging = free?.pop() ?? this.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.endPass();
    this.getEncoder().copyBufferToBuffer(pb.buffer, byteOffset, staging, 0, size);
    this.flush();
    try {
      await this.wait(staging.mapAsync(GPUMapMode.READ));
    } catch (err) {
      staging.destroy();
      throw err;
    }
    this.checkAlive();
    const out = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    let list = this.readStaging.get(size);
    if (!list) this.readStaging.set(size, (list = []));
    if (list.length < 4) list.push(staging);
    else staging.destroy();
    return out;
  }

  // ---- kernels ----------------------------------------------------------------------------------

  private layoutFor(bindings: BindingAccess[]) {
    const key = bindings.join(',');
    let l = this.layouts.get(key);
    if (!l) {
      const entries: GPUBindGroupLayoutEntry[] = [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } },
        ...bindings.map((a, i) => ({
          binding: i + 1,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: (a === 'read' ? 'read-only-storage' : 'storage') as GPUBufferBindingType },
        })),
      ];
      const bgl = this.device.createBindGroupLayout({ entries });
      l = { bgl, pl: this.device.createPipelineLayout({ bindGroupLayouts: [bgl] }) };
      this.layouts.set(key, l);
    }
    return { key, ...l };
  }

  /** The compiled pipeline for a kernel specialisation (compiled once, then cached). */
  kernel(spec: KernelSpec): Kernel {
    const hit = this.pipelines.get(spec.key);
    if (hit) return hit;
    this.checkAlive();
    const p = this.pipelinePlan(spec);
    return this.cacheKernel(p, this.device.createComputePipeline(p.descriptor));
  }

  /** What compiling `spec` takes: its source (built now), layouts and the pipeline descriptor. */
  private pipelinePlan(spec: KernelSpec) {
    const { key: layoutKey, pl, bgl } = this.layoutFor(spec.bindings);
    const code = sourceOf(spec);
    const module = this.device.createShaderModule({ code, label: spec.key });
    const descriptor: GPUComputePipelineDescriptor = {
      layout: pl,
      compute: { module, entryPoint: spec.entryPoint ?? 'main' },
      label: spec.key,
    };
    return { spec: { ...spec, code }, layoutKey, bgl, descriptor };
  }

  private cacheKernel(p: ReturnType<Engine['pipelinePlan']>, pipeline: GPUComputePipeline): Kernel {
    const k: Kernel = { spec: p.spec, pipeline, layoutKey: p.layoutKey, bgl: p.bgl };
    this.pipelines.set(p.spec.key, k);
    this.counters.pipelinesCompiled++;
    return k;
  }

  /** The specs of every compiled kernel (a page records them to prewarm the same run next time). */
  kernelSpecs(): KernelSpec[] {
    return [...this.pipelines.values()].map((k) => k.spec);
  }

  /**
   * Compiles the kernels not yet cached with createComputePipelineAsync, all at once (the browser
   * may compile them in parallel, off the page's thread), and caches them for kernel(). Calls
   * `onProgress(done, total)` at the start and as each one finishes; total counts the misses.
   * A kernel that fails to compile is left out of the cache (kernel() then compiles it and reports).
   */
  async prewarm(
    specs: readonly KernelSpec[],
    onProgress?: (done: number, total: number) => void,
  ): Promise<{ compiled: number; failed: number }> {
    this.checkAlive();
    const seen = new Set<string>();
    const todo = specs.filter((s) => !this.pipelines.has(s.key) && !seen.has(s.key) && seen.add(s.key));
    let done = 0;
    let failed = 0;
    onProgress?.(0, todo.length);
    await Promise.all(
      todo.map(async (spec) => {
        try {
          const p = this.pipelinePlan(spec);
          const pipeline = await this.wait(this.device.createComputePipelineAsync(p.descriptor));
          if (!this.pipelines.has(spec.key)) this.cacheKernel(p, pipeline);
        } catch {
          failed++;
        }
        onProgress?.(++done, todo.length);
      }),
    );
    return { compiled: done - failed, failed };
  }

  /** Compiles a kernel and reports WGSL compilation errors with the kernel's key (tests use this). */
  async compileChecked(spec: KernelSpec): Promise<Kernel> {
    this.device.pushErrorScope('validation');
    const code = sourceOf(spec);
    spec = { ...spec, code };
    const module = this.device.createShaderModule({ code, label: spec.key });
    const info = await module.getCompilationInfo();
    const errs = info.messages.filter((m) => m.type === 'error');
    await this.device.popErrorScope();
    if (errs.length) {
      throw new Error(`WGSL compile error in ${spec.key}:\n` + errs.map((m) => `  line ${m.lineNum}:${m.linePos} ${m.message}`).join('\n'));
    }
    return this.kernel(spec);
  }

  private getEncoder(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  private writeUniforms(values: UniformValue[]): number {
    if (values.length * 4 > UNIFORM_SLOT) throw new Error(`uniforms: ${values.length} values exceed one ${UNIFORM_SLOT}-byte slot`);
    if (this.uniformUsed + UNIFORM_SLOT > UNIFORM_RING_BYTES) this.flush();
    const offset = this.uniformUsed;
    packUniforms(values, this.uniformU32, this.uniformI32, this.uniformF32, offset / 4);
    this.uniformUsed += UNIFORM_SLOT;
    return offset;
  }

  /**
   * Encodes one dispatch. `buffers` are bound at 1..n in the kernel's binding order; `uniforms` fill
   * the kernel's uniform struct (scalars, 4 bytes each, in declaration order). `refresh` is for
   * uniforms that change from step to step (optimiser bias corrections, RNG offsets): it advances
   * the host state they come from and returns the next step's uniforms; a replayed step calls it in
   * place of the op's JavaScript (engine/replay.ts). Eager calls never call it.
   */
  dispatch(
    k: Kernel,
    buffers: PooledBuffer[],
    uniforms: UniformValue[],
    workgroups: [number, number?, number?],
    info?: { op?: string; bytes?: number; label?: string },
    refresh?: () => UniformValue[],
  ): void {
    this.checkAlive();
    const spec = k.spec;
    if (buffers.length !== spec.bindings.length) {
      throw new Error(`${spec.key}: kernel expects ${spec.bindings.length} buffers, got ${buffers.length}`);
    }
    const [x, y = 1, z = 1] = workgroups;
    const maxWg = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxWg || y > maxWg || z > maxWg) {
      throw new Error(`${spec.op ?? spec.key}: dispatch of [${x}, ${y}, ${z}] workgroups exceeds the adapter's ${maxWg} per dimension`);
    }
    if (x === 0 || y === 0 || z === 0) return;
    const offset = this.writeUniforms(uniforms);
    let bgKey = k.layoutKey;
    for (let i = 0; i < buffers.length; i++) bgKey += (i ? ',' : '|') + buffers[i].id;
    let bg = this.bindGroups.get(bgKey);
    if (bg) {
      // Most recently used last (Map keeps insertion order), so eviction takes the coldest entry.
      this.bindGroups.delete(bgKey);
      this.bindGroups.set(bgKey, bg);
    } else {
      if (this.bindGroups.size >= BIND_GROUP_CACHE_ENTRIES) this.bindGroups.delete(this.bindGroups.keys().next().value!);
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.uniformGpu, size: UNIFORM_SLOT } }];
      for (let i = 0; i < buffers.length; i++) entries.push({ binding: i + 1, resource: { buffer: buffers[i].buffer } });
      bg = this.device.createBindGroup({ layout: k.bgl, entries });
      this.counters.bindGroupsCreated++;
      this.bindGroups.set(bgKey, bg);
    }
    // Every bound buffer, read or written: an upload into it must not overtake this dispatch.
    for (let i = 0; i < buffers.length; i++) this.touched.add(buffers[i].buffer);
    const profiling = this.profiler?.active;
    if (profiling) this.endPass();
    if (!this.pass) {
      this.pass = this.getEncoder().beginComputePass(profiling ? this.profiler!.passDescriptor() : undefined);
    }
    this.pass.setPipeline(k.pipeline);
    this.pass.setBindGroup(0, bg, [offset]);
    this.pass.dispatchWorkgroups(x, y, z);
    this.counters.dispatches++;
    if (this.recorder) {
      this.recorder.ops.push({
        kind: 'dispatch',
        kernel: k,
        buffers: buffers.slice(),
        uniforms: this.uniformU32.slice(offset / 4, offset / 4 + uniforms.length),
        workgroups: [x, y, z],
        refresh,
        info: { kernel: spec.key, op: info?.op ?? spec.op ?? spec.key, workgroups: [x, y, z], bytes: info?.bytes ?? 0, label: info?.label },
      });
    }
    if (this.trace || profiling) {
      const d: DispatchInfo = {
        kernel: spec.key,
        op: info?.op ?? spec.op ?? spec.key,
        workgroups: [x, y, z],
        bytes: info?.bytes ?? 0,
        label: info?.label,
      };
      this.trace?.push(d);
      if (profiling) {
        this.profiler!.record(d);
        this.endPass();
        if (this.profiler!.full) this.profiler!.resolve(this.getEncoder());
      }
    }
    // Overlap: hand the GPU what is encoded so far every `submitEvery` dispatches.
    if (this.submitEvery > 0 && ++this.sinceSubmit >= this.submitEvery) this.flush();
  }

  /** Submits everything encoded so far. */
  flush(): void {
    this.sinceSubmit = 0;
    if (!this.encoder && this.uniformUsed === 0) return;
    this.endPass();
    if (this.uniformUsed > 0) {
      this.device.queue.writeBuffer(this.uniformGpu, 0, this.uniformCpu, 0, this.uniformUsed);
      this.uniformUsed = 0;
    }
    if (this.profiler?.active) this.profiler.resolve(this.getEncoder());
    if (this.encoder) {
      this.device.queue.submit([this.encoder.finish()]);
      this.counters.submits++;
      this.encoder = null;
    }
    this.touched.clear();
  }

  /** Flushes and waits until the GPU has finished everything submitted. */
  async sync(): Promise<void> {
    this.counters.syncs++;
    this.flush();
    await this.wait(this.device.queue.onSubmittedWorkDone());
    this.checkAlive();
  }

  /** `p`, waited for with naps between Dawn's polls when napWaits is on (see napWhile). */
  wait<T>(p: Promise<T>): Promise<T> {
    return this.napWaits ? napWhile(p) : p;
  }

  /**
   * The end of one step of a loop that runs ahead of the GPU: submits what is encoded, marks it,
   * and waits (no readback) until at most `depth` earlier marks are still running on the GPU. With
   * depth 1 the host encodes step n+1 while the GPU runs step n, and never gets further ahead (so
   * queued work, and the uniform and staging memory behind it, stays bounded). The marks are
   * queue.onSubmittedWorkDone() promises; sync() and read() do not need to know about them.
   */
  async throttle(depth = 1): Promise<void> {
    this.flush();
    const marks = this.inFlight;
    marks.push(this.device.queue.onSubmittedWorkDone());
    // Napped only while awaited: a mark left pending while the host encodes the next step must not
    // put naps into that step's own I/O waits.
    while (marks.length > depth) await this.wait(marks.shift()!);
    this.checkAlive();
  }
  /** Marks of throttle() not yet waited for (oldest first). */
  private inFlight: Promise<void>[] = [];

  /** Runs `fn` inside a validation/out-of-memory error scope and throws what the GPU reported. */
  async checkErrors<T>(what: string, fn: () => T): Promise<T> {
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    const r = fn();
    this.flush();
    const v = await this.wait(this.device.popErrorScope());
    const m = await this.wait(this.device.popErrorScope());
    if (v) throw new Error(`${what}: GPU validation error: ${v.message}`);
    if (m) throw new Error(`${what}: GPU out of memory: ${m.message}`);
    return r;
  }

  // ---- recorded-step replay (driven by engine/replay.ts) ----------------------------------------

  /** Whether a profile (startProfile) is running. */
  get isProfiling(): boolean {
    return !!this.profiler?.active;
  }

  /** Whether a step is being recorded now. */
  get recording(): boolean {
    return this.recorder !== null;
  }

  /**
   * Runs `fn` eagerly and records every dispatch, copy and upload it makes (kernel, buffers,
   * uniform words, workgroups; bytes of uploads) and any reason it cannot be replayed (a readback,
   * host-side data: notReplayable()). Recordings do not nest.
   */
  record<T>(fn: () => T): { value: T; recording: Recording } {
    if (this.recorder) throw new Error('Engine.record(): a step is being recorded already (recordings do not nest)');
    const recording: Recording = { ops: [], notReplayable: [] };
    this.recorder = recording;
    try {
      return { value: fn(), recording };
    } finally {
      this.recorder = null;
    }
  }

  /**
   * Marks the step being recorded (if any) as not replayable, with the reason: host code decided
   * something from data a replay would not recompute (host random picks, fed draws, host-built
   * tensors that change every step).
   */
  notReplayable(reason: string): void {
    this.recorder?.notReplayable.push(reason);
  }

  /**
   * Turns a verified recording into a plan: one uniform buffer holding every dispatch's words, one
   * bind group per distinct (kernel layout, buffers), and a static buffer plan: the temporaries the
   * step used (free in the pool now) are held out of the pool while the plan lives, and the live
   * buffers it uses (parameters, gradients, optimiser state) are watched: releasing one makes the
   * plan stale. `handOver`: live buffers of the step's results that the caller releases next; they
   * join the held set when released (not watched). Returns a reason instead when a buffer is
   * neither live nor free.
   */
  buildPlan(rec: Recording, handOver: readonly PooledBuffer[] = []): StepPlan | string {
    this.checkAlive();
    const buffers = new Map<number, PooledBuffer>();
    for (const op of rec.ops) {
      if (op.kind === 'dispatch') for (const b of op.buffers) buffers.set(b.id, b);
      else if (op.kind === 'copy') {
        buffers.set(op.src.id, op.src);
        buffers.set(op.dst.id, op.dst);
      } else buffers.set(op.dst.id, op.dst);
    }
    const hold: PooledBuffer[] = [];
    const watch: number[] = [];
    const heirs = new Set(handOver.filter((b) => buffers.has(b.id) && this.live.get(b.id) === b));
    for (const b of buffers.values()) {
      if (heirs.has(b)) continue;
      if (this.live.get(b.id) === b) watch.push(b.id);
      else if (this.pool.get(b.size)?.includes(b)) hold.push(b);
      else return `buffer #${b.id} (${fmtBytes(b.size)}) is neither live nor free in the pool (held by another plan, or destroyed)`;
    }
    const nDispatch = rec.ops.reduce((n, op) => n + (op.kind === 'dispatch' ? 1 : 0), 0);
    // Uniform slots: the dispatches with per-step words (refresh) take the last slots, in recorded
    // order, so a replay uploads them with one writeBuffer whatever their place in the step; the
    // others take the first slots in order. `offsets[d]` maps dispatch d to its slot.
    const nRefresh = rec.ops.reduce((n, op) => n + (op.kind === 'dispatch' && op.refresh ? 1 : 0), 0);
    const offsets = new Uint32Array(nDispatch);
    let fixedSlot = 0;
    let refreshSlot = nDispatch - nRefresh;
    const uniformBytes = Math.max(UNIFORM_SLOT, nDispatch * UNIFORM_SLOT);
    const uniformCpu = new ArrayBuffer(uniformBytes);
    const u32 = new Uint32Array(uniformCpu);
    const uniformGpu = this.createBuffer({
      size: uniformBytes,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label: 'replay-uniforms',
    });
    const bgs = new Map<string, GPUBindGroup>();
    const cmds: PlanCommands = {
      kind: new Uint8Array(rec.ops.length),
      pipe: [],
      setPipe: new Uint8Array(nDispatch),
      bg: [],
      wg: new Uint32Array(3 * nDispatch),
      info: [],
      copies: [],
      uploads: [],
    };
    const refreshBase: number[] = [];
    const refreshFn: (() => UniformValue[])[] = [];
    const refreshWords: number[] = [];
    let d = 0; // dispatch index
    let uploads = 0;
    let prevPipe: GPUComputePipeline | null = null;
    // Uploads land before the next submit: one into a buffer that an earlier command of the plan
    // uses submits first (as upload() does in eager), decided here once.
    let touched = new Set<number>();
    for (let i = 0; i < rec.ops.length; i++) {
      const op = rec.ops[i];
      if (op.kind === 'dispatch') {
        const base = (op.refresh ? refreshSlot++ : fixedSlot++) * UNIFORM_SLOT;
        offsets[d] = base;
        u32.set(op.uniforms, base / 4);
        if (op.refresh) {
          refreshBase.push(base / 4);
          refreshFn.push(op.refresh);
          refreshWords.push(op.uniforms.length);
        }
        let key = op.kernel.layoutKey;
        for (let j = 0; j < op.buffers.length; j++) key += (j ? ',' : '|') + op.buffers[j].id;
        let bg = bgs.get(key);
        if (!bg) {
          const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: uniformGpu, size: UNIFORM_SLOT } }];
          for (let j = 0; j < op.buffers.length; j++) entries.push({ binding: j + 1, resource: { buffer: op.buffers[j].buffer } });
          bg = this.device.createBindGroup({ layout: op.kernel.bgl, entries });
          this.counters.bindGroupsCreated++;
          bgs.set(key, bg);
        }
        for (const b of op.buffers) touched.add(b.id);
        cmds.kind[i] = 0;
        cmds.pipe.push(op.kernel.pipeline);
        cmds.setPipe[d] = op.kernel.pipeline !== prevPipe ? 1 : 0;
        prevPipe = op.kernel.pipeline;
        cmds.bg.push(bg);
        cmds.wg.set(op.workgroups, 3 * d);
        cmds.info.push(op.info);
        d++;
      } else if (op.kind === 'copy') {
        touched.add(op.src.id);
        touched.add(op.dst.id);
        cmds.kind[i] = 1;
        cmds.copies.push({ src: op.src.buffer, srcOffset: op.srcOffset, dst: op.dst.buffer, dstOffset: op.dstOffset, bytes: op.bytes });
      } else {
        const flush = touched.has(op.dst.id);
        if (flush) touched = new Set();
        cmds.kind[i] = flush ? 3 : 2;
        cmds.uploads.push({ dst: op.dst.buffer, byteOffset: op.byteOffset, data: op.data as Uint8Array<ArrayBuffer> });
        uploads++;
      }
    }
    // The refreshed words go up in runs (slots closer than 16 apart share one writeBuffer): one
    // run, as the refreshed dispatches' slots are consecutive.
    const runs: number[] = [];
    for (let r = 0; r < refreshBase.length; r++) {
      const from = refreshBase[r] * 4;
      const to = from + refreshWords[r] * 4;
      if (runs.length && from - runs[runs.length - 1] <= 16 * UNIFORM_SLOT) runs[runs.length - 1] = to;
      else runs.push(from, to);
    }
    this.device.queue.writeBuffer(uniformGpu, 0, uniformCpu, 0, uniformBytes);
    const plan: PlanImpl = {
      id: nextPlanId++,
      stale: null,
      dispatches: nDispatch,
      uploads,
      heldBuffers: hold.length,
      heldBytes: hold.reduce((n, b) => n + b.size, 0),
      cmds,
      uniformGpu,
      uniformCpu,
      u32,
      i32: new Int32Array(uniformCpu),
      f32: new Float32Array(uniformCpu),
      refreshBase: Uint32Array.from(refreshBase),
      refreshFn,
      refreshRuns: Uint32Array.from(runs),
      offsets,
      held: hold,
      watched: watch,
    };
    for (const b of hold) {
      const list = this.pool.get(b.size)!;
      list.splice(list.indexOf(b), 1);
      this.pooledBytes -= b.size;
    }
    this.heldCount += hold.length;
    this.heldBytes += plan.heldBytes;
    for (const b of heirs) this.planHandOver.set(b.id, plan);
    for (const id of watch) {
      let set = this.planWatch.get(id);
      if (!set) this.planWatch.set(id, (set = new Set()));
      set.add(plan);
    }
    this.plans.add(plan);
    return plan;
  }

  /** Makes a plan stale (with the reason) and gives its held buffers back to the pool. Idempotent. */
  dropPlan(plan: StepPlan, reason: string): void {
    const p = plan as PlanImpl;
    if (!this.plans.delete(p)) return;
    p.stale ??= reason;
    for (const [id, heir] of this.planHandOver) if (heir === p) this.planHandOver.delete(id);
    for (const id of p.watched) {
      const set = this.planWatch.get(id);
      set?.delete(p);
      if (set && !set.size) this.planWatch.delete(id);
    }
    for (const b of p.held) this.insertFree(b);
    this.heldCount -= p.held.length;
    this.heldBytes -= p.heldBytes;
    p.held = [];
    p.heldBuffers = 0;
    p.heldBytes = 0;
    p.watched = [];
    p.uniformGpu.destroy();
  }

  /**
   * Re-encodes a plan: per-step uniforms first (each refresh() advances its host state and its
   * words are written into the plan's uniform buffer), then the recorded commands with prebuilt bind
   * groups (setPipeline only when it changes), submitting every `submitEvery` dispatches and at the
   * end. Commands encoded before it and not yet submitted (the trainer's input copy) go into the
   * same command buffer. No pool traffic, no bind-group or buffer creation, no allocation per
   * command: the plan is flat arrays read by index.
   */
  runPlan(plan: StepPlan): void {
    this.checkAlive();
    const p = plan as PlanImpl;
    if (p.stale || !this.plans.has(p)) throw new Error(`runPlan: plan #${p.id} is stale (${p.stale ?? 'dropped'}); run the step eagerly`);
    if (this.profiler?.active)
      throw new Error('runPlan: a profile is running (each dispatch needs its own timed pass); run the step eagerly');
    const q = this.device.queue;
    // Take over what eager encoded before the plan (flush() without its submit): its uniforms go up
    // now, its commands lead the plan's command buffer.
    this.endPass();
    let enc = this.encoder;
    this.encoder = null;
    if (this.uniformUsed > 0) {
      q.writeBuffer(this.uniformGpu, 0, this.uniformCpu, 0, this.uniformUsed);
      this.uniformUsed = 0;
    }
    // Buffers those commands use: a plan upload into one must be submitted behind them.
    let pending = enc && this.touched.size ? new Set(this.touched) : null;
    this.touched.clear();
    this.sinceSubmit = 0;
    // The refreshed words, in recorded order (each function advances its host state).
    const { u32, i32, f32 } = p;
    const rb = p.refreshBase;
    const rf = p.refreshFn;
    for (let r = 0; r < rf.length; r++) packUniforms(rf[r](), u32, i32, f32, rb[r]);
    const runs = p.refreshRuns;
    for (let r = 0; r < runs.length; r += 2) q.writeBuffer(p.uniformGpu, runs[r], p.uniformCpu, runs[r], runs[r + 1] - runs[r]);
    const every = this.submitEvery > 0 ? this.submitEvery : 0x7fffffff;
    const trace = this.trace;
    const offsets = p.offsets;
    const { kind, pipe, setPipe, bg, wg, info, copies, uploads } = p.cmds;
    const n = kind.length;
    let pass: GPUComputePassEncoder | null = null;
    let since = 0;
    let submits = 0;
    let d = 0;
    let c = 0;
    let u = 0;
    for (let i = 0; i < n; i++) {
      const k = kind[i];
      if (k === 0) {
        if (pass === null) {
          if (enc === null) enc = this.device.createCommandEncoder();
          pass = enc.beginComputePass();
          pass.setPipeline(pipe[d]);
        } else if (setPipe[d] === 1) pass.setPipeline(pipe[d]);
        pass.setBindGroup(0, bg[d], offsets, d, 1);
        const w = 3 * d;
        pass.dispatchWorkgroups(wg[w], wg[w + 1], wg[w + 2]);
        if (trace !== null) trace.push(info[d]);
        d++;
        if (++since >= every) {
          pass.end();
          pass = null;
          q.submit([enc!.finish()]);
          enc = null;
          pending = null;
          submits++;
          since = 0;
        }
      } else if (k === 1) {
        if (pass !== null) {
          pass.end();
          pass = null;
        }
        if (enc === null) enc = this.device.createCommandEncoder();
        const cp = copies[c++];
        enc.copyBufferToBuffer(cp.src, cp.srcOffset, cp.dst, cp.dstOffset, cp.bytes);
      } else {
        const up = uploads[u++];
        if (enc !== null && (k === 3 || (pending !== null && pending.has(up.dst)))) {
          if (pass !== null) {
            pass.end();
            pass = null;
          }
          q.submit([enc.finish()]);
          enc = null;
          pending = null;
          submits++;
        }
        q.writeBuffer(up.dst, up.byteOffset, up.data);
      }
    }
    if (pass !== null) pass.end();
    if (enc !== null) {
      q.submit([enc.finish()]);
      submits++;
    }
    this.counters.dispatches += p.dispatches;
    this.counters.uploads += p.uploads;
    this.counters.submits += submits;
  }

  // ---- profiling --------------------------------------------------------------------------------

  /**
   * Starts per-dispatch GPU timing (timestamp queries; each dispatch gets its own pass). Any
   * number of dispatches can be timed: queries are resolved in chunks of 2048 dispatches (4096
   * timestamps, WebGPU's maximum query-set size).
   */
  startProfile(): boolean {
    if (!this.features.has('timestamp-query')) return false;
    this.flush();
    this.profiler = new Profiler(this.device, (d) => this.createBuffer(d));
    return true;
  }

  /** Stops profiling and returns each dispatch with its GPU time in milliseconds. */
  async stopProfile(): Promise<(DispatchInfo & { ms: number })[]> {
    const p = this.profiler;
    if (!p) return [];
    this.flush();
    this.profiler = null;
    return p.collect((q) => this.wait(q));
  }

  destroy(): void {
    this.flush();
    this.trimPool();
    for (const pb of this.live.values()) pb.buffer.destroy();
    this.live.clear();
    this.uniformGpu.destroy();
    this.device.destroy();
  }
}

const PROFILE_CHUNK = 2048; // dispatches per query set: 2 timestamps each, 4096 queries at most

class Profiler {
  active = true;
  private querySet: GPUQuerySet;
  private resolveBuf: GPUBuffer;
  private readBufs: { buf: GPUBuffer; infos: DispatchInfo[] }[] = [];
  private infos: DispatchInfo[] = [];
  constructor(
    device: GPUDevice,
    private createBuffer: (d: GPUBufferDescriptor) => GPUBuffer,
  ) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * PROFILE_CHUNK });
    this.resolveBuf = createBuffer({ size: 16 * PROFILE_CHUNK, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  }
  get full(): boolean {
    return this.infos.length >= PROFILE_CHUNK;
  }
  passDescriptor(): GPUComputePassDescriptor {
    const i = this.infos.length;
    return { timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } };
  }
  record(d: DispatchInfo) {
    this.infos.push(d);
  }
  /** Resolves the chunk so far into a buffer of its own; the query set is then reused. */
  resolve(enc: GPUCommandEncoder) {
    const n = this.infos.length;
    if (n === 0) return;
    enc.resolveQuerySet(this.querySet, 0, 2 * n, this.resolveBuf, 0);
    const buf = this.createBuffer({ size: 16 * n, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    enc.copyBufferToBuffer(this.resolveBuf, 0, buf, 0, 16 * n);
    this.readBufs.push({ buf, infos: this.infos });
    this.infos = [];
  }
  async collect(wait: (p: Promise<undefined>) => Promise<undefined>) {
    const out: (DispatchInfo & { ms: number })[] = [];
    for (const { buf, infos } of this.readBufs) {
      await wait(buf.mapAsync(GPUMapMode.READ));
      const t = new BigUint64Array(buf.getMappedRange());
      infos.forEach((d, i) => out.push({ ...d, ms: Number(t[2 * i + 1] - t[2 * i]) / 1e6 }));
      buf.unmap();
      buf.destroy();
    }
    this.querySet.destroy();
    this.resolveBuf.destroy();
    return out;
  }
}

function padTo4(b: Uint8Array): Uint8Array {
  const p = new Uint8Array(Math.ceil(b.byteLength / 4) * 4);
  p.set(b);
  return p;
}

export function fmtBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

// ---- acquiring a device -------------------------------------------------------------------------

export interface InitOptions {
  powerPreference?: GPUPowerPreference;
  /** Log the adapter on creation (default true in Node CLI, false in tests). */
  log?: boolean | ((line: string) => void);
  /** Provide a GPU object explicitly (else navigator.gpu in browsers, Dawn in Node). */
  gpu?: GPU;
  /**
   * Node only, opt-in, for long replayed training runs: create the Dawn instance with
   * `enable-dawn-features=skip_validation`, so Dawn does not validate each command (about half of a
   * replayed dispatch's host CPU on lavapipe: bench/NOTES.md). What it gives up: a malformed
   * command is undefined behaviour in the driver instead of a validation error naming it; the
   * engine's own checks (shapes, bindings, workgroup limits) still run. initEngine() prints a
   * one-line warning (through `log` when that is a function, else console.warn) and sets
   * Engine.skipsValidation. Never on by default; ignored with `gpu` given (that instance's flags
   * are its own); an error in browsers (the page cannot change Dawn's toggles).
   */
  unsafeSkipValidation?: boolean;
  /**
   * Nap the thread between Dawn's polls while waiting on the GPU (Engine.napWaits, napWhile).
   * Default: on under Node's Dawn, whose wait is otherwise a busy loop; browsers never nap.
   */
  napWaits?: boolean;
}

/** The warning initEngine({ unsafeSkipValidation: true }) prints (the CLI's --skip-validation too). */
export const SKIP_VALIDATION_WARNING =
  "warning: Dawn's per-command validation is off (unsafeSkipValidation / --skip-validation): a malformed GPU command is " +
  'undefined behaviour in the driver instead of an error naming it. Meant for long replayed runs: a replayed step ' +
  're-encodes the commands its eager steps issued, the same commands the test suite runs with validation on for every ' +
  "model, and the engine's own shape and limit checks still run.";

let engineCounter = 0;
let current: Engine | null = null;
let nodeGpu: GPU | null = null;
/** The Dawn instance with skip_validation (initEngine({ unsafeSkipValidation: true })), made on first use. */
let nodeGpuUnvalidated: GPU | null = null;

const isNode =
  typeof process !== 'undefined' && !!process.versions?.node && typeof (globalThis as { window?: unknown }).window === 'undefined';

// ---- waiting on Dawn under Node without a busy loop --------------------------------------------
//
// While any promise of the `webgpu` package is pending (onSubmittedWorkDone, mapAsync, an async
// pipeline, an error scope), its AsyncRunner polls Dawn's events from setImmediate, a fresh native
// function each turn: the main thread spins at 100% for the whole wait. On a machine whose "GPU" is
// the CPU (lavapipe, SwiftShader) that core is taken from the rasteriser's threads, and the turns'
// garbage (one finalised function each) is collected later, inside the next step's commands
// (bench/NOTES.md, "Waits that nap": a replayed CycleGAN step's median main-thread CPU 17.0 ->
// 7.0 ms, `gan train --quick` 1.35-1.53x the steps a second on a 2-core machine). napWhile sleeps the thread between turns instead: a nap of
// 1/20 of the time waited so far, between 50 us and 1 ms (Atomics.wait, which Node allows on its
// main thread), so a short wait stays short and a long one polls about 1000 times a second. One
// nap loop serves every wait in flight.
const NAP_MIN_MS = 0.05;
const NAP_MAX_MS = 1;
let napCell: Int32Array | null = null;
let napWaiters = 0;
let napLoopQueued = false;
let napSince = 0;

function napTurn(): void {
  if (napWaiters === 0) {
    napLoopQueued = false;
    return;
  }
  const ms = Math.min(NAP_MAX_MS, Math.max(NAP_MIN_MS, (performance.now() - napSince) / 20));
  Atomics.wait(napCell!, 0, 0, ms);
  setImmediate(napTurn);
}

/** Resolves (or rejects) as `p` does, napping the thread between Dawn's polls meanwhile (Node only). */
export function napWhile<T>(p: Promise<T>): Promise<T> {
  if (!isNode || typeof setImmediate !== 'function') return p;
  napCell ??= new Int32Array(new SharedArrayBuffer(4));
  if (napWaiters++ === 0) napSince = performance.now();
  if (!napLoopQueued) {
    napLoopQueued = true;
    setImmediate(napTurn);
  }
  return p.finally(() => {
    napWaiters--;
  });
}

/**
 * The GPU entry point: navigator.gpu in browsers, one shared Dawn instance in Node (a second one,
 * with Dawn's skip_validation toggle, when `unsafeSkipValidation`: see InitOptions).
 */
export async function getGpu(unsafeSkipValidation = false): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) {
    if (unsafeSkipValidation)
      throw new Error(
        'unsafeSkipValidation: Dawn toggles can only be set under Node (a browser page cannot turn off validation); drop the option',
      );
    return nav.gpu;
  }
  if (isNode) {
    if (unsafeSkipValidation ? !nodeGpuUnvalidated : !nodeGpu) {
      if (!process.env.NODEVICE_SELECT) process.env.NODEVICE_SELECT = '1';
      const mod = 'webgpu';
      const dawn = (await import(/* @vite-ignore */ mod)) as { create: (o: string[]) => GPU; globals: Record<string, unknown> };
      Object.assign(globalThis, dawn.globals);
      // Dawn rounds timestamps to 65.536 us by default (a fingerprinting guard); we want real GPU times.
      const flags = ['disable-dawn-features=timestamp_quantization'];
      if (unsafeSkipValidation) nodeGpuUnvalidated = dawn.create([...flags, 'enable-dawn-features=skip_validation']);
      else nodeGpu = dawn.create(flags);
    }
    return unsafeSkipValidation ? nodeGpuUnvalidated! : nodeGpu!;
  }
  throw new Error(
    'WebGPU is not available in this browser. Use a recent Chrome or Edge (WebGPU is on by default since 113), ' +
      'or enable it in chrome://flags (#enable-unsafe-webgpu) on Linux.',
  );
}

/** Acquires an adapter and device with the adapter's full limits and makes it the current engine. */
export async function initEngine(opts: InitOptions = {}): Promise<Engine> {
  const skip = !!opts.unsafeSkipValidation && !opts.gpu;
  const gpu = opts.gpu ?? (await getGpu(skip));
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new Error(
      isNode
        ? 'No WebGPU adapter found. On a machine without a GPU, install a software Vulkan driver: run `bash scripts/setup.sh` ' +
            '(Mesa 25 lavapipe from bookworm-backports), or set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json.'
        : 'No WebGPU adapter: the browser has WebGPU but found no usable GPU (blocklisted driver?). Try chrome://gpu.',
    );
  }
  const requiredLimits: Record<string, number> = {};
  const names = [
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
    'maxComputeWorkgroupSizeY',
    'maxComputeWorkgroupSizeZ',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBuffersPerShaderStage',
  ];
  for (const n of names) {
    const v = (adapter.limits as unknown as Record<string, number>)[n];
    if (typeof v === 'number') requiredLimits[n] = v;
  }
  const wanted = ['timestamp-query', 'shader-f16', 'subgroups'] as const;
  const requiredFeatures = wanted.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const summary: AdapterSummary = {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: !!(info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter,
    backend: isNode ? 'node-dawn' : 'browser',
  };
  device.onuncapturederror = (e) => {
    // Surfaced loudly: a validation error means an engine bug, never user error.
    console.error(`[webgpu-gan] uncaptured GPU error: ${(e as GPUUncapturedErrorEvent).error.message}`);
  };
  const engine = new Engine(device, summary, ++engineCounter);
  if (opts.napWaits !== undefined) engine.napWaits = opts.napWaits && isNode;
  const log = opts.log;
  if (skip) {
    engine.skipsValidation = true;
    (typeof log === 'function' ? log : console.warn)(SKIP_VALIDATION_WARNING);
  }
  if (log) {
    const line = `adapter: ${describeAdapter(summary)} | maxStorageBinding ${fmtBytes(engine.limits.maxStorageBufferBindingSize)} | features: ${[...engine.features].filter((f) => (wanted as readonly string[]).includes(f)).join(', ') || 'none'}`;
    (typeof log === 'function' ? log : console.log)(line);
  }
  current = engine;
  return engine;
}

/**
 * Whether `device` reports invalid commands: a copy of 3 bytes (not a multiple of 4) is a
 * validation error with Dawn's defaults and passes silently under skip_validation (the probe that
 * initEngine's unsafeSkipValidation took effect; tests and the replay benchmarks use it).
 */
export async function validatesCommands(device: GPUDevice): Promise<boolean> {
  const usage = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const [a, b] = [device.createBuffer({ size: 16, usage }), device.createBuffer({ size: 16, usage })];
  device.pushErrorScope('validation');
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(a, 0, b, 0, 3);
  device.queue.submit([enc.finish()]);
  const err = await device.popErrorScope();
  a.destroy();
  b.destroy();
  return err !== null;
}

export function describeAdapter(a: AdapterSummary): string {
  const parts = [a.vendor, a.architecture, a.device, a.description].filter(Boolean);
  return `${parts.join(' / ') || 'unknown adapter'}${a.isFallbackAdapter ? ' (fallback)' : ''} [${a.backend}]`;
}

/** The current engine; throws a clear error when initEngine() has not run. */
export function engine(): Engine {
  if (!current) throw new Error('No GPU engine: call `await initEngine()` first.');
  return current;
}

export function setEngine(e: Engine | null): void {
  current = e;
}

export function hasEngine(): boolean {
  return current !== null;
}
