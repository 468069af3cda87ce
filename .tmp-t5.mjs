// engine/device.ts
var STORAGE_USAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
function sizeClass(bytes) {
  const b = Math.max(16, Math.ceil(bytes / 4) * 4);
  if (b <= 65536) return Math.ceil(b / 256) * 256;
  const octave = 2 ** Math.floor(Math.log2(b));
  const step = octave / 8;
  return Math.ceil(b / step) * step;
}
var nextBufferId = 1;
var UNIFORM_SLOT = 256;
var UNIFORM_RING_BYTES = 1 << 20;
var Engine = class {
  device;
  adapter;
  limits;
  features;
  id;
  pool = /* @__PURE__ */ new Map();
  live = /* @__PURE__ */ new Map();
  liveBytes = 0;
  pooledBytes = 0;
  pipelines = /* @__PURE__ */ new Map();
  layouts = /* @__PURE__ */ new Map();
  bindGroups = /* @__PURE__ */ new Map();
  encoder = null;
  pass = null;
  uniformCpu = new ArrayBuffer(UNIFORM_RING_BYTES);
  uniformU32 = new Uint32Array(this.uniformCpu);
  uniformI32 = new Int32Array(this.uniformCpu);
  uniformF32 = new Float32Array(this.uniformCpu);
  uniformUsed = 0;
  uniformGpu;
  /** Buffers used by commands encoded but not yet submitted (an upload must not overtake them). */
  touched = /* @__PURE__ */ new Set();
  stagingToDestroy = [];
  counters = { dispatches: 0, submits: 0, uploads: 0, readbacks: 0, pipelinesCompiled: 0 };
  /** When set, every dispatch is recorded here (kernel inspector, tests). */
  trace = null;
  profiler = null;
  lostReason = null;
  /** Tests: fill every allocation with NaN so an element a kernel fails to write shows up. */
  poisonAllocations = false;
  constructor(device, adapter, id) {
    this.device = device;
    this.adapter = adapter;
    this.limits = device.limits;
    this.features = /* @__PURE__ */ new Set([...device.features]);
    this.id = id;
    this.uniformGpu = device.createBuffer({
      size: UNIFORM_RING_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label: "uniform-ring"
    });
    device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
    });
  }
  get isLost() {
    return this.lostReason !== null;
  }
  checkAlive() {
    if (this.lostReason) {
      throw new Error(`GPU device was lost (${this.lostReason}). Create a new engine with initEngine() and reload your checkpoint.`);
    }
  }
  // ---- buffers ----------------------------------------------------------------------------------
  /** A storage buffer of at least `bytes`, from the pool when one of its size class is free. */
  acquire(bytes, op = "alloc") {
    this.checkAlive();
    const max2 = this.limits.maxStorageBufferBindingSize;
    if (bytes > max2) {
      throw new Error(
        `${op}: needs a buffer of ${fmtBytes(bytes)}, above this adapter's maxStorageBufferBindingSize (${fmtBytes(max2)}, ${this.adapter.description || this.adapter.vendor}). Use a smaller batch or image size.`
      );
    }
    const size2 = sizeClass(bytes);
    const free = this.pool.get(size2);
    let pb = free?.pop();
    if (pb) {
      this.pooledBytes -= size2;
    } else {
      const buffer = this.device.createBuffer({ size: size2, usage: STORAGE_USAGE() });
      pb = { buffer, id: nextBufferId++, size: size2 };
    }
    this.live.set(pb.id, pb);
    this.liveBytes += size2;
    if (this.poisonAllocations) this.upload(pb, new Float32Array(size2 / 4).fill(NaN));
    return pb;
  }
  release(pb) {
    if (!this.live.delete(pb.id)) return;
    this.liveBytes -= pb.size;
    let list = this.pool.get(pb.size);
    if (!list) this.pool.set(pb.size, list = []);
    list.push(pb);
    this.pooledBytes += pb.size;
  }
  /** Frees the pooled (unused) buffers' GPU memory. */
  trimPool() {
    for (const list of this.pool.values()) for (const pb of list) pb.buffer.destroy();
    this.pool.clear();
    this.pooledBytes = 0;
    this.bindGroups.clear();
  }
  memory() {
    let pooledBuffers = 0;
    for (const l of this.pool.values()) pooledBuffers += l.length;
    return { liveBuffers: this.live.size, liveBytes: this.liveBytes, pooledBuffers, pooledBytes: this.pooledBytes };
  }
  /** Copies host data into a buffer, ordered correctly against commands already encoded. */
  upload(pb, data, byteOffset = 0) {
    this.checkAlive();
    this.counters.uploads++;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const padded = bytes.byteLength % 4 === 0 ? bytes : padTo4(bytes);
    if (!this.touched.has(pb.buffer)) {
      this.device.queue.writeBuffer(pb.buffer, byteOffset, padded);
      return;
    }
    const staging = this.device.createBuffer({
      size: padded.byteLength,
      usage: GPUBufferUsage.COPY_SRC,
      mappedAtCreation: true
    });
    new Uint8Array(staging.getMappedRange()).set(padded);
    staging.unmap();
    this.endPass();
    this.getEncoder().copyBufferToBuffer(staging, 0, pb.buffer, byteOffset, padded.byteLength);
    this.stagingToDestroy.push(staging);
  }
  /** Encodes a buffer-to-buffer copy in order with the dispatches. */
  copy(src, srcOffset, dst, dstOffset, bytes) {
    this.checkAlive();
    this.endPass();
    this.getEncoder().copyBufferToBuffer(src.buffer, srcOffset, dst.buffer, dstOffset, bytes);
    this.touched.add(src.buffer);
    this.touched.add(dst.buffer);
  }
  /** Submits pending work and reads `bytes` of the buffer back. */
  async read(pb, bytes, byteOffset = 0) {
    this.checkAlive();
    this.counters.readbacks++;
    const size2 = Math.max(4, Math.ceil(bytes / 4) * 4);
    const staging = this.device.createBuffer({ size: size2, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.endPass();
    this.getEncoder().copyBufferToBuffer(pb.buffer, byteOffset, staging, 0, size2);
    this.flush();
    await staging.mapAsync(GPUMapMode.READ);
    this.checkAlive();
    const out = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    staging.destroy();
    return out;
  }
  // ---- kernels ----------------------------------------------------------------------------------
  layoutFor(bindings4) {
    const key = bindings4.join(",");
    let l = this.layouts.get(key);
    if (!l) {
      const entries = [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: "uniform", hasDynamicOffset: true } },
        ...bindings4.map((a, i) => ({
          binding: i + 1,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: a === "read" ? "read-only-storage" : "storage" }
        }))
      ];
      const bgl = this.device.createBindGroupLayout({ entries });
      l = { bgl, pl: this.device.createPipelineLayout({ bindGroupLayouts: [bgl] }) };
      this.layouts.set(key, l);
    }
    return { key, ...l };
  }
  /** The compiled pipeline for a kernel specialisation (compiled once, then cached). */
  kernel(spec) {
    const hit = this.pipelines.get(spec.key);
    if (hit) return hit;
    this.checkAlive();
    const { key: layoutKey, pl } = this.layoutFor(spec.bindings);
    const module = this.device.createShaderModule({ code: spec.code, label: spec.key });
    const pipeline = this.device.createComputePipeline({
      layout: pl,
      compute: { module, entryPoint: spec.entryPoint ?? "main" },
      label: spec.key
    });
    this.counters.pipelinesCompiled++;
    const k = { spec, pipeline, layoutKey };
    this.pipelines.set(spec.key, k);
    return k;
  }
  /** Compiles a kernel and reports WGSL compilation errors with the kernel's key (tests use this). */
  async compileChecked(spec) {
    this.device.pushErrorScope("validation");
    const module = this.device.createShaderModule({ code: spec.code, label: spec.key });
    const info = await module.getCompilationInfo();
    const errs = info.messages.filter((m) => m.type === "error");
    await this.device.popErrorScope();
    if (errs.length) {
      throw new Error(`WGSL compile error in ${spec.key}:
` + errs.map((m) => `  line ${m.lineNum}:${m.linePos} ${m.message}`).join("\n"));
    }
    return this.kernel(spec);
  }
  getEncoder() {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }
  endPass() {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }
  writeUniforms(values) {
    if (values.length * 4 > UNIFORM_SLOT) throw new Error(`uniforms: ${values.length} values exceed one ${UNIFORM_SLOT}-byte slot`);
    if (this.uniformUsed + UNIFORM_SLOT > UNIFORM_RING_BYTES) this.flush();
    const offset = this.uniformUsed;
    const base = offset / 4;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v === "number") this.uniformU32[base + i] = v >>> 0;
      else if ("u32" in v) this.uniformU32[base + i] = v.u32 >>> 0;
      else if ("i32" in v) this.uniformI32[base + i] = v.i32 | 0;
      else this.uniformF32[base + i] = v.f32;
    }
    this.uniformUsed += UNIFORM_SLOT;
    return offset;
  }
  /**
   * Encodes one dispatch. `buffers` are bound at 1..n in the kernel's binding order; `uniforms` fill
   * the kernel's uniform struct (scalars, 4 bytes each, in declaration order).
   */
  dispatch(k, buffers, uniforms, workgroups, info) {
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
    const bgKey = k.layoutKey + "|" + buffers.map((b) => b.id).join(",");
    let bg = this.bindGroups.get(bgKey);
    if (!bg) {
      if (this.bindGroups.size > 2e4) this.bindGroups.clear();
      bg = this.device.createBindGroup({
        layout: this.layoutFor(spec.bindings).bgl,
        entries: [
          { binding: 0, resource: { buffer: this.uniformGpu, size: UNIFORM_SLOT } },
          ...buffers.map((b, i) => ({ binding: i + 1, resource: { buffer: b.buffer } }))
        ]
      });
      this.bindGroups.set(bgKey, bg);
    }
    for (const b of buffers) this.touched.add(b.buffer);
    const profiling = this.profiler?.active;
    if (profiling) this.endPass();
    if (!this.pass) {
      this.pass = this.getEncoder().beginComputePass(profiling ? this.profiler.passDescriptor() : void 0);
    }
    this.pass.setPipeline(k.pipeline);
    this.pass.setBindGroup(0, bg, [offset]);
    this.pass.dispatchWorkgroups(x, y, z);
    this.counters.dispatches++;
    if (this.trace || profiling) {
      const d = { kernel: spec.key, op: info?.op ?? spec.op ?? spec.key, workgroups: [x, y, z], bytes: info?.bytes ?? 0, label: info?.label };
      this.trace?.push(d);
      if (profiling) {
        this.profiler.record(d);
        this.endPass();
        if (this.profiler.full) this.profiler.resolve(this.getEncoder());
      }
    }
  }
  /** Submits everything encoded so far. */
  flush() {
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
    if (this.stagingToDestroy.length) {
      const list = this.stagingToDestroy;
      this.stagingToDestroy = [];
      this.device.queue.onSubmittedWorkDone().then(() => list.forEach((b) => b.destroy()));
    }
  }
  /** Flushes and waits until the GPU has finished everything submitted. */
  async sync() {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.checkAlive();
  }
  /** Runs `fn` inside a validation/out-of-memory error scope and throws what the GPU reported. */
  async checkErrors(what, fn) {
    this.device.pushErrorScope("out-of-memory");
    this.device.pushErrorScope("validation");
    const r = fn();
    this.flush();
    const v = await this.device.popErrorScope();
    const m = await this.device.popErrorScope();
    if (v) throw new Error(`${what}: GPU validation error: ${v.message}`);
    if (m) throw new Error(`${what}: GPU out of memory: ${m.message}`);
    return r;
  }
  // ---- profiling --------------------------------------------------------------------------------
  /**
   * Starts per-dispatch GPU timing (timestamp queries; each dispatch gets its own pass). Any
   * number of dispatches can be timed: queries are resolved in chunks of 2048 dispatches (4096
   * timestamps, WebGPU's maximum query-set size).
   */
  startProfile() {
    if (!this.features.has("timestamp-query")) return false;
    this.flush();
    this.profiler = new Profiler(this.device);
    return true;
  }
  /** Stops profiling and returns each dispatch with its GPU time in milliseconds. */
  async stopProfile() {
    const p = this.profiler;
    if (!p) return [];
    this.flush();
    this.profiler = null;
    return p.collect();
  }
  destroy() {
    this.flush();
    this.trimPool();
    for (const pb of this.live.values()) pb.buffer.destroy();
    this.live.clear();
    this.uniformGpu.destroy();
    this.device.destroy();
  }
};
var PROFILE_CHUNK = 2048;
var Profiler = class {
  constructor(device) {
    this.device = device;
    this.querySet = device.createQuerySet({ type: "timestamp", count: 2 * PROFILE_CHUNK });
    this.resolveBuf = device.createBuffer({ size: 16 * PROFILE_CHUNK, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  }
  device;
  active = true;
  querySet;
  resolveBuf;
  readBufs = [];
  infos = [];
  get full() {
    return this.infos.length >= PROFILE_CHUNK;
  }
  passDescriptor() {
    const i = this.infos.length;
    return { timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } };
  }
  record(d) {
    this.infos.push(d);
  }
  /** Resolves the chunk so far into a buffer of its own; the query set is then reused. */
  resolve(enc) {
    const n = this.infos.length;
    if (n === 0) return;
    enc.resolveQuerySet(this.querySet, 0, 2 * n, this.resolveBuf, 0);
    const buf = this.device.createBuffer({ size: 16 * n, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    enc.copyBufferToBuffer(this.resolveBuf, 0, buf, 0, 16 * n);
    this.readBufs.push({ buf, infos: this.infos });
    this.infos = [];
  }
  async collect() {
    const out = [];
    for (const { buf, infos } of this.readBufs) {
      await buf.mapAsync(GPUMapMode.READ);
      const t = new BigUint64Array(buf.getMappedRange());
      infos.forEach((d, i) => out.push({ ...d, ms: Number(t[2 * i + 1] - t[2 * i]) / 1e6 }));
      buf.unmap();
      buf.destroy();
    }
    this.querySet.destroy();
    this.resolveBuf.destroy();
    return out;
  }
};
function padTo4(b) {
  const p = new Uint8Array(Math.ceil(b.byteLength / 4) * 4);
  p.set(b);
  return p;
}
function fmtBytes(n) {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}
var engineCounter = 0;
var current = null;
var nodeGpu = null;
var isNode = typeof process !== "undefined" && !!process.versions?.node && typeof globalThis.window === "undefined";
async function getGpu() {
  const nav = globalThis.navigator;
  if (nav?.gpu) return nav.gpu;
  if (isNode) {
    if (!nodeGpu) {
      if (!process.env.NODEVICE_SELECT) process.env.NODEVICE_SELECT = "1";
      const mod = "webgpu";
      const dawn = await import(
        /* @vite-ignore */
        mod
      );
      Object.assign(globalThis, dawn.globals);
      nodeGpu = dawn.create(["disable-dawn-features=timestamp_quantization"]);
    }
    return nodeGpu;
  }
  throw new Error(
    "WebGPU is not available in this browser. Use a recent Chrome or Edge (WebGPU is on by default since 113), or enable it in chrome://flags (#enable-unsafe-webgpu) on Linux."
  );
}
async function initEngine(opts = {}) {
  const gpu = opts.gpu ?? await getGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? "high-performance" });
  if (!adapter) {
    throw new Error(
      isNode ? "No WebGPU adapter found. On a machine without a GPU, install a software Vulkan driver: run `bash scripts/setup.sh` (Mesa 25 lavapipe from bookworm-backports), or set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json." : "No WebGPU adapter: the browser has WebGPU but found no usable GPU (blocklisted driver?). Try chrome://gpu."
    );
  }
  const requiredLimits = {};
  const names = [
    "maxStorageBufferBindingSize",
    "maxBufferSize",
    "maxComputeWorkgroupStorageSize",
    "maxComputeInvocationsPerWorkgroup",
    "maxComputeWorkgroupSizeX",
    "maxComputeWorkgroupSizeY",
    "maxComputeWorkgroupSizeZ",
    "maxComputeWorkgroupsPerDimension",
    "maxStorageBuffersPerShaderStage"
  ];
  for (const n of names) {
    const v = adapter.limits[n];
    if (typeof v === "number") requiredLimits[n] = v;
  }
  const wanted = ["timestamp-query", "shader-f16", "subgroups"];
  const requiredFeatures = wanted.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  const info = adapter.info;
  const summary = {
    vendor: info?.vendor ?? "",
    architecture: info?.architecture ?? "",
    device: info?.device ?? "",
    description: info?.description ?? "",
    isFallbackAdapter: !!info?.isFallbackAdapter,
    backend: isNode ? "node-dawn" : "browser"
  };
  device.onuncapturederror = (e2) => {
    console.error(`[webgpu-gan] uncaptured GPU error: ${e2.error.message}`);
  };
  const engine2 = new Engine(device, summary, ++engineCounter);
  const log2 = opts.log;
  if (log2) {
    const line = `adapter: ${describeAdapter(summary)} | maxStorageBinding ${fmtBytes(engine2.limits.maxStorageBufferBindingSize)} | features: ${[...engine2.features].filter((f) => wanted.includes(f)).join(", ") || "none"}`;
    (typeof log2 === "function" ? log2 : console.log)(line);
  }
  current = engine2;
  return engine2;
}
function describeAdapter(a) {
  const parts = [a.vendor, a.architecture, a.device, a.description].filter(Boolean);
  return `${parts.join(" / ") || "unknown adapter"}${a.isFallbackAdapter ? " (fallback)" : ""} [${a.backend}]`;
}
function engine() {
  if (!current) throw new Error("No GPU engine: call `await initEngine()` first.");
  return current;
}

// engine/tensor.ts
function numel(shape) {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
function fmtShape(shape) {
  return `[${shape.join(", ")}]`;
}
function stridesOf(shape) {
  const s = new Array(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}
var Storage = class {
  constructor(engine2, buf, bytes) {
    this.engine = engine2;
    this.buf = buf;
    this.bytes = bytes;
  }
  engine;
  buf;
  bytes;
  refs = 1;
  retain() {
    this.refs++;
    return this;
  }
  release() {
    if (--this.refs === 0) this.engine.release(this.buf);
  }
};
var nextTensorId = 1;
var liveTensors = 0;
var Tensor = class _Tensor {
  id = nextTensorId++;
  shape;
  dtype;
  storage;
  requiresGrad = false;
  /** Accumulated gradient (leaves only), kept until zeroGrad or dispose. */
  grad = null;
  /** The op that produced this tensor, when it was recorded for autograd. */
  node = null;
  isParameter = false;
  name;
  disposedFlag = false;
  kept = false;
  constructor(shape, storage, dtype = "float32") {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new Error(`Tensor: invalid shape ${fmtShape(shape)} (dims must be non-negative integers)`);
    }
    this.shape = Object.freeze([...shape]);
    this.storage = storage;
    this.dtype = dtype;
    liveTensors++;
    track(this);
  }
  get size() {
    return numel(this.shape);
  }
  get rank() {
    return this.shape.length;
  }
  get engine() {
    return this.storage.engine;
  }
  get buffer() {
    if (this.disposedFlag) throw new Error(`Tensor ${this.describe()} was used after dispose()`);
    return this.storage.buf;
  }
  get isDisposed() {
    return this.disposedFlag;
  }
  get isKept() {
    return this.kept;
  }
  describe() {
    return `${this.name ? this.name + " " : ""}${fmtShape(this.shape)}${this.dtype === "float32" ? "" : " " + this.dtype}`;
  }
  /** Reads the values back (submits pending work). */
  async data() {
    const bytes = this.size * 4;
    if (bytes === 0) return new Float32Array(0);
    const ab = await this.engine.read(this.buffer, bytes);
    return new Float32Array(ab);
  }
  async dataInt() {
    const ab = await this.engine.read(this.buffer, this.size * 4);
    return new Int32Array(ab);
  }
  async item() {
    if (this.size !== 1) throw new Error(`item(): tensor ${this.describe()} has ${this.size} elements, expected 1`);
    return (await this.data())[0];
  }
  async array() {
    return Array.from(await this.data());
  }
  /** Marks this tensor as a leaf that collects gradients. */
  requireGrad(on = true) {
    if (this.node && on) throw new Error(`requireGrad(): ${this.describe()} is produced by ${this.node.op}; only leaf tensors can be made to require grad (detach() it first)`);
    this.requiresGrad = on;
    return this;
  }
  /** Keeps this tensor alive past the enclosing tidy() scopes. */
  keep() {
    this.kept = true;
    untrack(this);
    return this;
  }
  dispose() {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    liveTensors--;
    untrack(this);
    this.storage.release();
    this.node = null;
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
  }
  /** A view of the same storage with another shape (no copy, no autograd record). */
  viewAs(shape) {
    const n = numel(shape);
    if (n !== this.size) throw new Error(`reshape: cannot view ${this.describe()} (${this.size} elements) as ${fmtShape(shape)} (${n} elements)`);
    return new _Tensor(shape, this.storage.retain(), this.dtype);
  }
  /** Same storage, cut from the graph. */
  detach() {
    void this.buffer;
    return this.viewAs(this.shape);
  }
  toString() {
    return `Tensor${fmtShape(this.shape)}`;
  }
};
var scopes = [];
function track(t) {
  if (scopes.length) scopes[scopes.length - 1].add(t);
}
function untrack(t) {
  for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i].delete(t)) return;
}
function collectTensors(v, out, depth = 0) {
  if (depth > 4 || v == null) return;
  if (v instanceof Tensor) out.add(v);
  else if (Array.isArray(v)) for (const x of v) collectTensors(x, out, depth + 1);
  else if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype)
    for (const x of Object.values(v)) collectTensors(x, out, depth + 1);
}
function tidy(fn) {
  const scope = /* @__PURE__ */ new Set();
  scopes.push(scope);
  let result;
  try {
    result = fn();
    if (result instanceof Promise) throw new Error("tidy(): fn must be synchronous; use beginScope()/endScope() around async code");
  } finally {
    scopes.pop();
    const keepSet = /* @__PURE__ */ new Set();
    collectTensors(typeof result === "undefined" ? void 0 : result, keepSet);
    for (const t of scope) {
      if (keepSet.has(t)) track(t);
      else t.dispose();
    }
  }
  return result;
}
function empty(shape, op = "empty", dtype = "float32") {
  const e2 = engine();
  const bytes = numel(shape) * 4;
  const buf = e2.acquire(bytes, op);
  return new Tensor(shape, new Storage(e2, buf, bytes), dtype);
}
function tensor(data, shape, dtype = "float32") {
  const s = shape ?? [data.length];
  if (numel(s) !== data.length) throw new Error(`tensor(): ${data.length} values do not fill shape ${fmtShape(s)} (${numel(s)} elements)`);
  const t = empty(s, "tensor", dtype);
  if (data.length) {
    const arr = dtype === "int32" ? data instanceof Int32Array ? data : Int32Array.from(data) : data instanceof Float32Array ? data : Float32Array.from(data);
    t.engine.upload(t.buffer, arr);
  }
  return t;
}
function assign(t, data) {
  if (data.length !== t.size) throw new Error(`assign(): ${data.length} values for ${t.describe()} (${t.size} elements)`);
  const arr = t.dtype === "int32" ? Int32Array.from(data) : data instanceof Float32Array ? data : Float32Array.from(data);
  t.engine.upload(t.buffer, arr);
}
function checkSameEngine(op, ...ts) {
  const e2 = engine();
  for (const t of ts) {
    if (t.isDisposed) throw new Error(`${op}: input ${t.describe()} was disposed`);
    if (t.engine !== e2) {
      throw new Error(`${op}: input ${t.describe()} lives on another GPU device (engine #${t.engine.id}, current #${e2.id}); create it on the current engine or move it with tensor(await t.data(), t.shape)`);
    }
  }
  return e2;
}
function checkFloat(op, ...ts) {
  for (const t of ts) {
    if (t.dtype !== "float32") throw new Error(`${op}: expects float32 tensors, got ${t.dtype} ${fmtShape(t.shape)}`);
  }
}

// engine/tape.ts
var gradEnabled = true;
function isGradEnabled() {
  return gradEnabled;
}
function noGrad(fn) {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}
function withGrad(enabled, fn) {
  const prev = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}
function record(out, op, inputs, backward2) {
  if (!gradEnabled) return out;
  if (!inputs.some((t) => t.requiresGrad)) return out;
  out.requiresGrad = true;
  out.node = { op, inputs, backward: backward2 };
  return out;
}
var addImpl = null;
var onesLikeImpl = null;
function registerTapeOps(add3, onesLike2) {
  addImpl = add3;
  onesLikeImpl = onesLike2;
}
function topoOrder(roots) {
  const order = [];
  const seen = /* @__PURE__ */ new Set();
  const stack = [];
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
  return order;
}
function runBackward(roots, rootGrads, opts) {
  const add3 = addImpl;
  const order = topoOrder(roots);
  const leads = /* @__PURE__ */ new Set();
  for (const t of order) {
    const isTarget = opts.targets ? opts.targets.has(t.id) : !t.node && t.requiresGrad;
    if (isTarget || t.node && t.node.inputs.some((c) => leads.has(c.id))) leads.add(t.id);
  }
  const grads = /* @__PURE__ */ new Map();
  const owned = /* @__PURE__ */ new Set();
  const put = (t, g, passThrough) => {
    if (g.shape.length !== t.shape.length || g.shape.some((d, i) => d !== t.shape[i])) {
      throw new Error(`autograd: ${t.node?.op ?? "leaf"} received a gradient of shape ${fmtShape(g.shape)} for a tensor of shape ${fmtShape(t.shape)} (engine bug in a backward rule)`);
    }
    const alias = g === passThrough || owned.has(g);
    const mine = alias && !opts.createGraph ? g.viewAs(g.shape) : g;
    const prev = grads.get(t.id);
    if (prev) {
      const sum2 = add3(prev, mine);
      if (!opts.createGraph) {
        prev.dispose();
        mine.dispose();
        owned.delete(prev);
      }
      grads.set(t.id, sum2);
      owned.add(sum2);
    } else {
      grads.set(t.id, mine);
      owned.add(mine);
    }
  };
  roots.forEach((r, i) => {
    if (leads.has(r.id)) put(r, rootGrads[i], rootGrads[i]);
  });
  for (let k = order.length - 1; k >= 0; k--) {
    const t = order[k];
    const node = t.node;
    const g = grads.get(t.id);
    if (!node || !g) continue;
    const wanted = node.inputs.map((c) => leads.has(c.id));
    if (!wanted.some(Boolean)) continue;
    const run = () => node.backward(g);
    const inGrads = opts.createGraph ? run() : tidy(() => noGrad(run));
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
function defaultRootGrad(t) {
  if (t.size !== 1) {
    throw new Error(`backward: output ${fmtShape(t.shape)} is not a scalar; pass its gradient explicitly (backward(t, grad))`);
  }
  return onesLikeImpl(t);
}
function backward(out, gradOut, opts = {}) {
  if (!out.requiresGrad) throw new Error(`backward: ${out.describe()} does not require grad (nothing it depends on is a parameter or a requireGrad() tensor, or it was computed under noGrad)`);
  const createGraph = !!opts.createGraph;
  const g0 = gradOut ?? defaultRootGrad(out);
  const grads = withGrad(createGraph, () => runBackward([out], [g0], { createGraph, targets: null }));
  for (const t of topoOrder([out])) {
    const g = grads.get(t.id);
    if (!g) continue;
    if (t.node || !t.requiresGrad) {
      continue;
    }
    if (t.grad) {
      const sum2 = withGrad(createGraph, () => addImpl(t.grad, g));
      t.grad.dispose();
      if (!createGraph) g.dispose();
      t.grad = sum2.keep();
    } else {
      t.grad = g.keep();
    }
  }
}
function grad(outputs, inputs, opts = {}) {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  for (const o of outs) if (!o.requiresGrad) throw new Error(`grad: output ${o.describe()} does not require grad`);
  for (const x of inputs) if (!x.requiresGrad) throw new Error(`grad: input ${x.describe()} does not require grad, so no gradient flows to it (call requireGrad() on it before the forward pass)`);
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
  return result;
}

// node_modules/wgsl-preprocessor/wgsl-preprocessor.js
var preprocessorSymbols = /#([^\s]*)(\s*)/gm;
var ConditionalState = class {
  elseIsValid = true;
  branches = [];
  constructor(initialExpression) {
    this.pushBranch("if", initialExpression);
  }
  pushBranch(token, expression) {
    if (!this.elseIsValid) {
      throw new Error(`#${token} not preceeded by an #if or #elif`);
    }
    this.elseIsValid = token === "if" || token === "elif";
    this.branches.push({
      expression: !!expression,
      string: ""
    });
  }
  appendStringToCurrentBranch(...strings) {
    for (const string of strings) {
      this.branches[this.branches.length - 1].string += string;
    }
  }
  resolve() {
    for (const branch of this.branches) {
      if (branch.expression) {
        return branch.string;
      }
    }
    return "";
  }
};
function wgsl(strings, ...values) {
  const stateStack = [];
  let state = new ConditionalState(true);
  state.elseIsValid = false;
  let depth = 1;
  const assertTemplateFollows = (match, string) => {
    if (match.index + match[0].length != string.length) {
      throw new Error(`#${match[1]} must be immediately followed by a template expression (ie: \${value})`);
    }
  };
  for (let i = 0; i < strings.length; ++i) {
    const string = strings[i];
    const matchedSymbols = string.matchAll(preprocessorSymbols);
    let lastIndex = 0;
    let valueConsumed = false;
    for (const match of matchedSymbols) {
      state.appendStringToCurrentBranch(string.substring(lastIndex, match.index));
      switch (match[1]) {
        case "if":
          assertTemplateFollows(match, string);
          valueConsumed = true;
          stateStack.push(state);
          state = new ConditionalState(values[i]);
          break;
        case "elif":
          assertTemplateFollows(match, string);
          valueConsumed = true;
          state.pushBranch(match[1], values[i]);
          break;
        case "else":
          state.pushBranch(match[1], true);
          state.appendStringToCurrentBranch(match[2]);
          break;
        case "endif":
          if (!stateStack.length) {
            throw new Error(`#${match[1]} not preceeded by an #if`);
          }
          const result = state.resolve();
          state = stateStack.pop();
          state.appendStringToCurrentBranch(result, match[2]);
          break;
        default:
          state.appendStringToCurrentBranch(match[0]);
          break;
      }
      lastIndex = match.index + match[0].length;
    }
    if (lastIndex != string.length) {
      state.appendStringToCurrentBranch(string.substring(lastIndex, string.length));
    }
    if (!valueConsumed && values.length > i) {
      state.appendStringToCurrentBranch(values[i]);
    }
  }
  if (stateStack.length) {
    throw new Error("Mismatched #if/#endif count");
  }
  return state.resolve();
}

// shaders/common.ts
var index1d = (wg) => `gid.x + gid.y * nwg.x * ${wg}u`;
var main1d = (wg) => `@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`;
var at8 = `fn at8(v: array<vec4<u32>, 2>, d: u32) -> u32 { return v[d / 4u][d % 4u]; }`;

// shaders/elementwise.ts
var ELEMENTWISE_WG = 256;
var unaryExpr = {
  copy: "x",
  neg: "-x",
  abs: "abs(x)",
  sign: "sign(x)",
  exp: "exp(x)",
  log: "log(x)",
  sqrt: "sqrt(x)",
  rsqrt: "inverseSqrt(x)",
  square: "x * x",
  reciprocal: "1.0 / x",
  affine: "x * p0 + p1",
  // scale and shift by scalars
  pow_scalar: "pow_signed(x, p0)",
  relu: "max(x, 0.0)",
  leaky_relu: "select(x * p0, x, x > 0.0)",
  tanh: "tanh_stable(x)",
  sigmoid: "sigmoid(x)",
  // PyTorch softplus(x, beta=p0, threshold=p1): linear above the threshold.
  softplus: "select(log1p_exp(x * p0) / p0, x, x * p0 > p1)",
  elu: "select(p0 * (exp(x) - 1.0), x, x > 0.0)",
  // Derivative masks (piecewise-constant, so their own gradient is zero).
  step: "select(0.0, 1.0, x > 0.0)",
  leaky_step: "select(p0, 1.0, x > 0.0)",
  in_range: "select(0.0, 1.0, x >= p0 && x <= p1)",
  clamp: "clamp(x, p0, p1)",
  gt_scalar: "select(0.0, 1.0, x > p0)",
  fill: "p0"
};
var binaryExpr = {
  add: "x + z",
  sub: "x - z",
  mul: "x * z",
  div: "x / z",
  maximum: "max(x, z)",
  minimum: "min(x, z)",
  ge_mask: "select(0.0, 1.0, x >= z)",
  // 1 where x >= z (max/min backward)
  eq_mask: "select(0.0, 1.0, x == z)"
};
var helpers = (
  /* wgsl */
  `
fn sigmoid(x: f32) -> f32 {
  // Stable for large |x|: never exponentiates a large positive number.
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
fn tanh_stable(x: f32) -> f32 {
  let t = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - t) / (1.0 + t);
}
fn log1p_exp(x: f32) -> f32 {
  // log(1 + e^x) without overflow.
  return max(x, 0.0) + log(1.0 + exp(-abs(x)));
}
fn pow_signed(x: f32, p: f32) -> f32 {
  // pow() is undefined for x < 0 in WGSL; integer exponents keep the sign rule of real powers.
  let m = pow(abs(x), p);
  if (x < 0.0 && fract(p * 0.5) != 0.0 && fract(p) == 0.0) { return -m; }
  if (x == 0.0 && p == 0.0) { return 1.0; }
  return m;
}
`
);
function unarySource(op) {
  const expr = unaryExpr[op];
  if (!expr) throw new Error(`unary: unknown op ${op}`);
  return (
    /* wgsl */
    `
struct Params { n: u32, p0: f32, p1: f32, pad: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
${helpers}
${main1d(ELEMENTWISE_WG)} {
  let i = ${index1d(ELEMENTWISE_WG)};
  if (i >= u.n) { return; }
  let x = a[i];
  let p0 = u.p0;
  let p1 = u.p1;
  y[i] = ${expr};
}`
  );
}
function binarySource(op, broadcast) {
  const expr = binaryExpr[op];
  if (!expr) throw new Error(`binary: unknown op ${op}`);
  return wgsl`
struct Params { n: u32, rank: u32, pad0: u32, pad1: u32,
  shape: array<vec4<u32>, 2>, sa: array<vec4<u32>, 2>, sb: array<vec4<u32>, 2> }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
${at8}
${main1d(ELEMENTWISE_WG)} {
  let i = ${index1d(ELEMENTWISE_WG)};
  if (i >= u.n) { return; }
#if ${broadcast}
  var rem = i;
  var ia = 0u;
  var ib = 0u;
  for (var d = i32(u.rank) - 1; d >= 0; d--) {
    let k = u32(d);
    let s = at8(u.shape, k);
    let c = rem % s;
    rem = rem / s;
    ia += c * at8(u.sa, k);
    ib += c * at8(u.sb, k);
  }
#else
  let ia = i;
  let ib = i;
#endif
  let x = a[ia];
  let z = b[ib];
  y[i] = ${expr};
}`;
}

// shaders/reduce_copy.ts
var REDUCE_WG = 64;
var COPY_WG = 256;
var init = { sum: "0.0", max: "-3.4028234e38", min: "3.4028234e38" };
var combine = {
  sum: (a, b) => `${a} + ${b}`,
  max: (a, b) => `max(${a}, ${b})`,
  min: (a, b) => `min(${a}, ${b})`
};
function reduceSource(kind) {
  const c = combine[kind];
  return (
    /* wgsl */
    `
struct Params { nOut: u32, R: u32, krank: u32, rrank: u32, scale: f32, p1: u32, p2: u32, p3: u32,
  kshape: array<vec4<u32>, 2>, kstr: array<vec4<u32>, 2>, rshape: array<vec4<u32>, 2>, rstr: array<vec4<u32>, 2> }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
var<workgroup> part: array<f32, ${REDUCE_WG}>;
${at8}
@compute @workgroup_size(${REDUCE_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = wid.x + wid.y * nwg.x;
  // Uniform control flow: every thread of a workgroup reaches the barriers, even past nOut.
  var base = 0u;
  var rem = o;
  for (var d = i32(u.krank) - 1; d >= 0; d--) {
    let k = u32(d);
    let s = at8(u.kshape, k);
    base += (rem % s) * at8(u.kstr, k);
    rem = rem / s;
  }
  var acc = ${init[kind]};
  if (o < u.nOut) {
    for (var r = lid; r < u.R; r += ${REDUCE_WG}u) {
      var off = base;
      var q = r;
      for (var d = i32(u.rrank) - 1; d >= 0; d--) {
        let k = u32(d);
        let s = at8(u.rshape, k);
        off += (q % s) * at8(u.rstr, k);
        q = q / s;
      }
      acc = ${c("acc", "x[off]")};
    }
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = ${REDUCE_WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { part[lid] = ${c("part[lid]", "part[lid + s]")}; }
    workgroupBarrier();
  }
  if (lid == 0u && o < u.nOut) { y[o] = part[0] * u.scale; }
}`
  );
}
function copySource() {
  return (
    /* wgsl */
    `
struct Params { n: u32, rank: u32, soff: u32, doff: u32,
  shape: array<vec4<u32>, 2>, sstr: array<vec4<u32>, 2>, dstr: array<vec4<u32>, 2> }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
${at8}
${main1d(COPY_WG)} {
  let i = ${index1d(COPY_WG)};
  if (i >= u.n) { return; }
  var rem = i;
  var si = u.soff;
  var di = u.doff;
  for (var d = i32(u.rank) - 1; d >= 0; d--) {
    let k = u32(d);
    let s = at8(u.shape, k);
    let c = rem % s;
    rem = rem / s;
    si += c * at8(u.sstr, k);
    di += c * at8(u.dstr, k);
  }
  dst[di] = src[si];
}`
  );
}
function fillSource() {
  return (
    /* wgsl */
    `
struct Params { n: u32, value: f32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
${main1d(COPY_WG)} {
  let i = ${index1d(COPY_WG)};
  if (i < u.n) { y[i] = u.value; }
}`
  );
}

// engine/ops/kernel.ts
var WG1D = 256;
function grid1d(n, wg = WG1D) {
  const groups = Math.max(1, Math.ceil(n / wg));
  if (groups <= 65535) return [groups, 1, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y, 1];
}
function vec8(values, fill = 0) {
  if (values.length > 8) throw new Error(`rank ${values.length} is above the engine's maximum of 8`);
  const out = [...values];
  while (out.length < 8) out.push(fill);
  return out;
}
function launch(spec, tensors, uniforms, workgroups, info) {
  const e2 = checkSameEngine(info.op, ...tensors);
  const k = e2.kernel(spec);
  const bytes = info.bytes ?? tensors.reduce((s, t) => s + t.size * 4, 0);
  e2.dispatch(k, tensors.map((t) => t.buffer), uniforms, workgroups, { op: info.op, bytes });
}
var f32 = (v) => ({ f32: v });
var i32 = (v) => ({ i32: v });

// engine/ops/registry.ts
var opRegistry = [];
function registerOp(spec) {
  const i = opRegistry.findIndex((s) => s.name === spec.name);
  if (i >= 0) opRegistry[i] = spec;
  else opRegistry.push(spec);
  return spec;
}

// engine/ops/movement.ts
var COPY_SPEC = () => ({ key: "strided_copy", code: copySource(), bindings: ["read", "rw"] });
function stridedCopy(op, src, dst, shape, sstr, soff, dstr, doff) {
  const n = numel(shape);
  if (n === 0) return;
  launch({ ...COPY_SPEC(), op }, [src, dst], [n, shape.length, soff, doff, ...vec8(shape, 1), ...vec8(sstr), ...vec8(dstr)], grid1d(n, COPY_WG), { op, bytes: 8 * n });
}
function reshape(x, shape) {
  const s = [...shape];
  const neg2 = s.indexOf(-1);
  if (neg2 >= 0) {
    const rest = numel(s.filter((_, i) => i !== neg2));
    if (rest === 0 || x.size % rest !== 0) throw new Error(`reshape: cannot infer -1 in ${fmtShape(shape)} for ${x.describe()} (${x.size} elements)`);
    s[neg2] = x.size / rest;
  }
  if (numel(s) !== x.size) throw new Error(`reshape: cannot reshape ${x.describe()} (${x.size} elements) to ${fmtShape(shape)} (${numel(s)} elements)`);
  const y = x.viewAs(s);
  return record(y, "reshape", [x], (g) => [reshape(g, x.shape)]);
}
function permute(x, dims) {
  if (dims.length !== x.rank || [...dims].sort((a, b) => a - b).some((d, i) => d !== i)) {
    throw new Error(`permute: ${fmtShape(dims)} is not a permutation of the ${x.rank} dims of ${x.describe()}`);
  }
  const st = stridesOf(x.shape);
  const shape = dims.map((d) => x.shape[d]);
  const y = empty(shape, "permute");
  stridedCopy("permute", x, y, shape, dims.map((d) => st[d]), 0, stridesOf(shape), 0);
  const inv = dims.map((_, i) => dims.indexOf(i));
  return record(y, "permute", [x], (g) => [permute(g, inv)]);
}
function expand(x, shape) {
  const lead = shape.length - x.rank;
  const st = stridesOf(x.shape);
  const sstr = shape.map((d, i) => {
    const j = i - lead;
    if (j < 0) return 0;
    if (x.shape[j] === d) return x.shape[j] === 1 ? 0 : st[j];
    if (x.shape[j] === 1) return 0;
    throw new Error(`expand: cannot expand ${x.describe()} to ${fmtShape(shape)} (dim ${i}: ${x.shape[j]} vs ${d})`);
  });
  if (lead < 0) throw new Error(`expand: target ${fmtShape(shape)} has fewer dims than ${x.describe()}`);
  if (lead === 0 && shape.every((d, i) => d === x.shape[i])) return reshape(x, shape);
  const y = empty(shape, "expand");
  stridedCopy("expand", x, y, shape, sstr, 0, stridesOf(shape), 0);
  return record(y, "expand", [x], (g) => [sumTo(g, x.shape)]);
}
function normSlice(x, starts, ends) {
  const st = [];
  const en = [];
  for (let d = 0; d < x.rank; d++) {
    const n = x.shape[d];
    let s = starts[d] ?? 0;
    let e2 = ends[d] ?? n;
    if (s < 0) s += n;
    if (e2 < 0) e2 += n;
    s = Math.min(Math.max(s, 0), n);
    e2 = Math.min(Math.max(e2, s), n);
    st.push(s);
    en.push(e2);
  }
  return { st, en, shape: st.map((s, d) => en[d] - s) };
}
function slice(x, starts, ends) {
  const { st, shape } = normSlice(x, starts, ends);
  const xs = stridesOf(x.shape);
  const y = empty(shape, "slice");
  stridedCopy("slice", x, y, shape, xs, st.reduce((o, s, d) => o + s * xs[d], 0), stridesOf(shape), 0);
  return record(y, "slice", [x], (g) => [sliceScatter(g, x.shape, st)]);
}
function narrow(x, dim, start, length) {
  const d = dim < 0 ? dim + x.rank : dim;
  const starts = x.shape.map((_, i) => i === d ? start : 0);
  const ends = x.shape.map((n, i) => i === d ? start + length : n);
  return slice(x, starts, ends);
}
function sliceScatter(g, shape, starts) {
  const y = zeros(shape);
  const ys = stridesOf(shape);
  stridedCopy("slice_scatter", g, y, g.shape, stridesOf(g.shape), 0, ys, starts.reduce((o, s, d) => o + s * ys[d], 0));
  const ends = starts.map((s, d) => s + g.shape[d]);
  return record(y, "slice_scatter", [g], (gg) => [slice(gg, starts, ends)]);
}
function concat(xs, dim = 0) {
  if (xs.length === 0) throw new Error("concat: needs at least one tensor");
  const r = xs[0].rank;
  const d = dim < 0 ? dim + r : dim;
  if (d < 0 || d >= r) throw new Error(`concat: dim ${dim} out of range for rank ${r}`);
  for (const x of xs) {
    if (x.rank !== r || x.shape.some((n, i) => i !== d && n !== xs[0].shape[i])) {
      throw new Error(`concat: shapes ${xs.map((t) => fmtShape(t.shape)).join(", ")} differ outside dim ${d}`);
    }
  }
  const shape = [...xs[0].shape];
  shape[d] = xs.reduce((s, x) => s + x.shape[d], 0);
  const y = empty(shape, "concat");
  const ys = stridesOf(shape);
  let off = 0;
  const offsets = [];
  for (const x of xs) {
    offsets.push(off);
    stridedCopy("concat", x, y, x.shape, stridesOf(x.shape), 0, ys, off * ys[d]);
    off += x.shape[d];
  }
  return record(y, "concat", [...xs], (g) => xs.map((x, i) => narrow(g, d, offsets[i], x.shape[d])));
}
function tile(x, reps) {
  if (reps.length < x.rank) throw new Error(`tile: ${reps.length} repeats for a rank-${x.rank} tensor`);
  const shape = [...Array(reps.length - x.rank).fill(1), ...x.shape];
  const inter = [];
  const big = [];
  shape.forEach((n, i) => {
    inter.push(1, n);
    big.push(reps[i], n);
  });
  return reshape(expand(reshape(x, inter), big), shape.map((n, i) => n * reps[i]));
}
function gatherHost(x, shape, index) {
  const n = numel(shape);
  const out = new Float64Array(n);
  const idx = new Array(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let rem = i;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = rem % shape[d];
      rem = Math.floor(rem / shape[d]);
    }
    out[i] = x.data[index(idx)];
  }
  return { shape, data: out };
}
var flat = (shape, idx) => idx.reduce((o, c, d) => o * shape[d] + c, 0);
registerOp({
  name: "permute",
  run: ([x], a) => permute(x, a.dims),
  reference: ([x], a) => {
    const dims = a.dims;
    const shape = dims.map((d) => x.shape[d]);
    return gatherHost(x, shape, (idx) => {
      const src = new Array(dims.length);
      dims.forEach((d, i) => src[d] = idx[i]);
      return flat(x.shape, src);
    });
  },
  cases: [{ shapes: [[2, 3, 4, 5]], attrs: { dims: [0, 2, 3, 1] } }, { shapes: [[3, 7]], attrs: { dims: [1, 0] } }],
  doubleBackward: true
});
registerOp({
  name: "expand",
  run: ([x], a) => expand(x, a.shape),
  reference: ([x], a) => {
    const shape = a.shape;
    const lead = shape.length - x.shape.length;
    return gatherHost(x, shape, (idx) => flat(x.shape, x.shape.map((n, j) => n === 1 ? 0 : idx[j + lead])));
  },
  cases: [{ shapes: [[3, 1, 5]], attrs: { shape: [2, 3, 4, 5] } }, { shapes: [[1]], attrs: { shape: [6, 7] } }],
  doubleBackward: true
});
registerOp({
  name: "slice",
  run: ([x], a) => slice(x, a.starts, a.ends),
  reference: ([x], a) => {
    const starts = a.starts;
    const ends = a.ends;
    const st = x.shape.map((n, d) => ((starts[d] ?? 0) + n) % n || 0);
    const shape = x.shape.map((n, d) => Math.min(n, ends[d] < 0 ? ends[d] + n : ends[d] ?? n) - st[d]);
    return gatherHost(x, shape, (idx) => flat(x.shape, idx.map((c, d) => c + st[d])));
  },
  cases: [{ shapes: [[3, 5, 6]], attrs: { starts: [1, 0, 2], ends: [3, 4, 5] } }, { shapes: [[9, 4]], attrs: { starts: [2], ends: [-1] } }],
  doubleBackward: true
});
registerOp({
  name: "concat",
  run: (xs, a) => concat(xs, a.dim),
  reference: (xs, a) => {
    const d = a.dim;
    const shape = [...xs[0].shape];
    shape[d] = xs.reduce((s, x) => s + x.shape[d], 0);
    const bounds = [];
    xs.reduce((s, x) => (bounds.push(s), s + x.shape[d]), 0);
    const idx = new Array(shape.length);
    const data = Float64Array.from({ length: numel(shape) }, (_, i) => {
      let rem = i;
      for (let k = shape.length - 1; k >= 0; k--) {
        idx[k] = rem % shape[k];
        rem = Math.floor(rem / shape[k]);
      }
      let which = xs.length - 1;
      while (bounds[which] > idx[d]) which--;
      const local = idx.map((c, k) => k === d ? c - bounds[which] : c);
      return xs[which].data[flat(xs[which].shape, local)];
    });
    return { shape, data };
  },
  cases: [{ shapes: [[2, 3, 4], [2, 5, 4], [2, 1, 4]], attrs: { dim: 1 } }, { shapes: [[3, 2], [4, 2]], attrs: { dim: 0 } }],
  doubleBackward: true
});
registerOp({
  name: "tile",
  run: ([x], a) => tile(x, a.reps),
  reference: ([x], a) => {
    const reps = a.reps;
    const shape = x.shape.map((n, i) => n * reps[i]);
    return gatherHost(x, shape, (idx) => flat(x.shape, idx.map((c, d) => c % x.shape[d])));
  },
  cases: [{ shapes: [[2, 3, 1, 1]], attrs: { reps: [1, 1, 4, 5] } }, { shapes: [[3, 2]], attrs: { reps: [2, 3] } }],
  doubleBackward: true
});

// engine/ops/reduce.ts
function normAxes(op, rank, axes) {
  if (axes === void 0) return [...Array(rank).keys()];
  const list = typeof axes === "number" ? [axes] : [...axes];
  const out = /* @__PURE__ */ new Set();
  for (const a of list) {
    const k = a < 0 ? a + rank : a;
    if (!Number.isInteger(k) || k < 0 || k >= rank) throw new Error(`${op}: axis ${a} is out of range for a tensor of rank ${rank}`);
    out.add(k);
  }
  return [...out].sort((p, q) => p - q);
}
function reducedShape(shape, axes, keepdim) {
  const out = [];
  shape.forEach((d, i) => {
    if (axes.includes(i)) {
      if (keepdim) out.push(1);
    } else out.push(d);
  });
  return out;
}
function reduceRaw(kind, x, axes, keepdim, scale, op) {
  checkFloat(op, x);
  const st = stridesOf(x.shape);
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const kshape = kept.map((i) => x.shape[i]);
  const rshape = axes.map((i) => x.shape[i]);
  const R = numel(rshape);
  const y = empty(reducedShape(x.shape, axes, keepdim), op);
  const nOut = y.size;
  if (nOut === 0) return y;
  if (R === 0 && kind !== "sum") throw new Error(`${op}: cannot take ${kind} over an empty dimension of ${fmtShape(x.shape)}`);
  const gx = Math.min(nOut, 65535);
  const gy = Math.ceil(nOut / gx);
  launch(
    { key: `reduce|${kind}`, code: reduceSource(kind), bindings: ["read", "rw"], op },
    [x, y],
    [nOut, R, kshape.length, rshape.length, f32(scale), 0, 0, 0, ...vec8(kshape, 1), ...vec8(kept.map((i) => st[i])), ...vec8(rshape, 1), ...vec8(axes.map((i) => st[i]))],
    [gx, gy, 1],
    { op }
  );
  void REDUCE_WG;
  return y;
}
function unreduce(g, inShape, axes) {
  return expand(reshape(g, reducedShape(inShape, axes, true)), inShape);
}
function sum(x, axes, keepdim = false) {
  const ax = normAxes("sum", x.rank, axes);
  const y = reduceRaw("sum", x, ax, keepdim, 1, "sum");
  return record(y, "sum", [x], (g) => [unreduce(g, x.shape, ax)]);
}
function mean(x, axes, keepdim = false) {
  const ax = normAxes("mean", x.rank, axes);
  const R = numel(ax.map((i) => x.shape[i]));
  const y = reduceRaw("sum", x, ax, keepdim, 1 / Math.max(R, 1), "mean");
  return record(y, "mean", [x], (g) => [mulScalar(unreduce(g, x.shape, ax), 1 / Math.max(R, 1))]);
}
function maxMin(kind, x, axes, keepdim = false) {
  const ax = normAxes(kind, x.rank, axes);
  const y = reduceRaw(kind, x, ax, keepdim, 1, kind);
  return record(y, kind, [x], (g) => {
    const yk = expand(reshape(y, reducedShape(x.shape, ax, true)), x.shape);
    const mask = eqMask(x, yk);
    const count = reduceRaw("sum", mask, ax, true, 1, `${kind}_backward`);
    return [div(mul(unreduce(g, x.shape, ax), mask), count)];
  });
}
var max = (x, axes, keepdim = false) => maxMin("max", x, axes, keepdim);
var min = (x, axes, keepdim = false) => maxMin("min", x, axes, keepdim);
function sumTo(g, shape) {
  if (g.rank === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  if (lead < 0) throw new Error(`sumTo: gradient ${fmtShape(g.shape)} has lower rank than ${fmtShape(shape)}`);
  const axes = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead) axes.push(i);
    else if (shape[i - lead] === 1 && g.shape[i] !== 1) axes.push(i);
  }
  const s = axes.length ? sum(g, axes, true) : g;
  return reshape(s, shape);
}
function reduceHost(x, axesIn, keepdim, f) {
  const axes = normAxes("ref", x.shape.length, axesIn);
  const shape = reducedShape(x.shape, axes, keepdim);
  const keptShape = reducedShape(x.shape, axes, true);
  const n = numel(shape);
  const out = new Float64Array(n).fill(f === "max" ? -Infinity : f === "min" ? Infinity : 0);
  const ks = stridesOf(keptShape);
  const R = numel(axes.map((i) => x.shape[i]));
  for (let i = 0; i < x.data.length; i++) {
    let rem = i, o = 0;
    for (let d = x.shape.length - 1; d >= 0; d--) {
      const c = rem % x.shape[d];
      rem = Math.floor(rem / x.shape[d]);
      if (!axes.includes(d)) o += c * ks[d];
    }
    const v = x.data[i];
    if (f === "max") out[o] = Math.max(out[o], v);
    else if (f === "min") out[o] = Math.min(out[o], v);
    else out[o] += v;
  }
  if (f === "mean") for (let i = 0; i < n; i++) out[i] /= R;
  return { shape, data: out };
}
var reduceCases = [
  { shapes: [[2, 3, 4, 5]], attrs: { axes: [0, 2, 3], keepdim: false } },
  { shapes: [[2, 3, 4, 5]], attrs: { axes: [1], keepdim: true } },
  { shapes: [[7, 9]], attrs: { axes: void 0, keepdim: false } },
  { shapes: [[3, 130]], attrs: { axes: [-1], keepdim: false } }
];
for (const [name, fn] of [["sum", sum], ["mean", mean], ["max", max], ["min", min]]) {
  registerOp({
    name,
    run: ([x], a) => fn(x, a.axes, a.keepdim),
    reference: ([x], a) => reduceHost(x, a.axes, a.keepdim, name),
    cases: reduceCases,
    doubleBackward: true,
    // max/min: distinct, well separated values so no finite-difference step changes the argmax.
    sample: name === "max" || name === "min" ? (shape, _i, rand2) => {
      const n = numel(shape);
      const perm = [...Array(n).keys()].sort(() => rand2() - 0.5);
      return Float64Array.from(perm, (p) => p / n * 2 - 1);
    } : void 0
  });
}

// engine/ops/elementwise.ts
function unaryRaw(op, x, p0 = 0, p1 = 0, name = op) {
  checkFloat(name, x);
  const y = empty(x.shape, name);
  launch({ key: `unary|${op}`, code: unarySource(op), bindings: ["read", "rw"], op: name }, [x, y], [x.size, f32(p0), f32(p1), 0], grid1d(x.size), { op: name });
  return y;
}
function broadcastShapes(op, a, b) {
  const r = Math.max(a.length, b.length);
  const out = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast (dim ${i - r}: ${da} vs ${db}); reshape one to size 1 on that dim or make them equal`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}
function broadcastStrides(shape, outShape) {
  const st = stridesOf(shape);
  const r = outShape.length;
  return outShape.map((_, i) => {
    const j = shape.length - r + i;
    return j < 0 || shape[j] === 1 ? 0 : st[j];
  });
}
function binaryRaw(op, a, b, name = op) {
  checkFloat(name, a, b);
  const shape = broadcastShapes(name, a.shape, b.shape);
  const y = empty(shape, name);
  const same = a.size === y.size && b.size === y.size;
  if (same) {
    launch({ key: `binary|${op}|same`, code: binarySource(op, false), bindings: ["read", "read", "rw"], op: name }, [a, b, y], [y.size, 0, 0, 0, ...vec8([]), ...vec8([]), ...vec8([])], grid1d(y.size), { op: name });
  } else {
    launch(
      { key: `binary|${op}|bcast`, code: binarySource(op, true), bindings: ["read", "read", "rw"], op: name },
      [a, b, y],
      [y.size, shape.length, 0, 0, ...vec8(shape, 1), ...vec8(broadcastStrides(a.shape, shape)), ...vec8(broadcastStrides(b.shape, shape))],
      grid1d(y.size),
      { op: name }
    );
  }
  return y;
}
function full(shape, value) {
  const y = empty(shape, "full");
  const n = numel(shape);
  if (n > 0) launch({ key: "fill", code: fillSource(), bindings: ["rw"], op: "full" }, [y], [n, f32(value), 0, 0], grid1d(n, COPY_WG), { op: "full" });
  return y;
}
var zeros = (shape) => full(shape, 0);
var ones = (shape) => full(shape, 1);
var zerosLike = (t) => full(t.shape, 0);
var onesLike = (t) => full(t.shape, 1);
function add(a, b) {
  if (typeof b === "number") return affine(a, 1, b);
  const y = binaryRaw("add", a, b);
  return record(y, "add", [a, b], (g) => [sumTo(g, a.shape), sumTo(g, b.shape)]);
}
function sub(a, b) {
  if (typeof b === "number") return affine(a, 1, -b);
  const y = binaryRaw("sub", a, b);
  return record(y, "sub", [a, b], (g) => [sumTo(g, a.shape), sumTo(neg(g), b.shape)]);
}
function mul(a, b) {
  if (typeof b === "number") return affine(a, b, 0);
  const y = binaryRaw("mul", a, b);
  return record(y, "mul", [a, b], (g) => [
    a.requiresGrad ? sumTo(mul(g, b), a.shape) : null,
    b.requiresGrad ? sumTo(mul(g, a), b.shape) : null
  ]);
}
function div(a, b) {
  if (typeof b === "number") return affine(a, 1 / b, 0);
  const y = binaryRaw("div", a, b);
  return record(y, "div", [a, b], (g) => [
    a.requiresGrad ? sumTo(div(g, b), a.shape) : null,
    // d(a/b)/db = -a / b^2
    b.requiresGrad ? sumTo(neg(div(mul(g, a), square(b))), b.shape) : null
  ]);
}
function maximum(a, b) {
  const y = binaryRaw("maximum", a, b);
  return record(y, "maximum", [a, b], (g) => {
    const m = binaryRaw("ge_mask", a, b);
    return [sumTo(mul(g, m), a.shape), sumTo(mul(g, affine(m, -1, 1)), b.shape)];
  });
}
function minimum(a, b) {
  const y = binaryRaw("minimum", a, b);
  return record(y, "minimum", [a, b], (g) => {
    const m = binaryRaw("ge_mask", b, a);
    return [sumTo(mul(g, m), a.shape), sumTo(mul(g, affine(m, -1, 1)), b.shape)];
  });
}
var eqMask = (a, b) => binaryRaw("eq_mask", a, b);
function affine(x, scale, shift) {
  const y = unaryRaw("affine", x, scale, shift, "affine");
  return record(y, "affine", [x], (g) => [affine(g, scale, 0)]);
}
var mulScalar = (x, s) => affine(x, s, 0);
var addScalar = (x, s) => affine(x, 1, s);
function neg(x) {
  return affine(x, -1, 0);
}
function exp(x) {
  const y = unaryRaw("exp", x);
  return record(y, "exp", [x], (g) => [mul(g, y)]);
}
function log(x) {
  const y = unaryRaw("log", x);
  return record(y, "log", [x], (g) => [div(g, x)]);
}
function sqrt(x) {
  const y = unaryRaw("sqrt", x);
  return record(y, "sqrt", [x], (g) => [div(mulScalar(g, 0.5), y)]);
}
function rsqrt(x) {
  const y = unaryRaw("rsqrt", x);
  return record(y, "rsqrt", [x], (g) => [mul(g, mulScalar(mul(y, square(y)), -0.5))]);
}
function square(x) {
  const y = unaryRaw("square", x);
  return record(y, "square", [x], (g) => [mul(g, mulScalar(x, 2))]);
}
function reciprocal(x) {
  const y = unaryRaw("reciprocal", x);
  return record(y, "reciprocal", [x], (g) => [neg(mul(g, square(y)))]);
}
function powScalar(x, p) {
  const y = unaryRaw("pow_scalar", x, p);
  return record(y, "pow", [x], (g) => [mul(g, mulScalar(powScalar(x, p - 1), p))]);
}
function abs(x) {
  const y = unaryRaw("abs", x);
  return record(y, "abs", [x], (g) => [mul(g, unaryRaw("sign", x))]);
}
var stepMask = (x) => unaryRaw("step", x);
function relu(x) {
  const y = unaryRaw("relu", x);
  return record(y, "relu", [x], (g) => [mul(g, unaryRaw("step", x))]);
}
function leakyRelu(x, slope = 0.01) {
  const y = unaryRaw("leaky_relu", x, slope);
  return record(y, "leaky_relu", [x], (g) => [mul(g, unaryRaw("leaky_step", x, slope))]);
}
function tanh(x) {
  const y = unaryRaw("tanh", x);
  return record(y, "tanh", [x], (g) => [mul(g, affine(square(y), -1, 1))]);
}
function sigmoid(x) {
  const y = unaryRaw("sigmoid", x);
  return record(y, "sigmoid", [x], (g) => [mul(g, mul(y, affine(y, -1, 1)))]);
}
function softplus(x, beta = 1, threshold = 20) {
  const y = unaryRaw("softplus", x, beta, threshold);
  return record(y, "softplus", [x], (g) => {
    const s = sigmoid(mulScalar(x, beta));
    const above = unaryRaw("gt_scalar", mulScalar(x, beta), threshold);
    return [mul(g, add(mul(s, affine(above, -1, 1)), above))];
  });
}
function elu(x, alpha = 1) {
  const y = unaryRaw("elu", x, alpha);
  return record(y, "elu", [x], (g) => {
    const pos = unaryRaw("step", x);
    return [mul(g, add(pos, mul(affine(pos, -1, 1), addScalar(y, alpha))))];
  });
}
function clamp(x, lo, hi) {
  const y = unaryRaw("clamp", x, lo, hi);
  return record(y, "clamp", [x], (g) => [mul(g, unaryRaw("in_range", x, lo, hi))]);
}
registerTapeOps(add, onesLike);
function mapHost(x, f) {
  return { shape: x.shape, data: x.data.map(f) };
}
function binaryHost(a, b, f) {
  const shape = broadcastShapes("ref", a.shape, b.shape);
  const sa = broadcastStrides(a.shape, shape);
  const sb = broadcastStrides(b.shape, shape);
  const n = numel(shape);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let rem = i, ia = 0, ib = 0;
    for (let d = shape.length - 1; d >= 0; d--) {
      const c = rem % shape[d];
      rem = Math.floor(rem / shape[d]);
      ia += c * sa[d];
      ib += c * sb[d];
    }
    out[i] = f(a.data[ia], b.data[ib]);
  }
  return { shape, data: out };
}
var bcastCases = [
  { shapes: [[3, 5], [3, 5]] },
  { shapes: [[2, 3, 4, 5], [3, 1, 1]] },
  { shapes: [[1, 7], [6, 1]] },
  { shapes: [[2, 1, 3], [5, 1]] }
];
var binaryRefs = [
  ["add", add, (x, z) => x + z],
  ["sub", sub, (x, z) => x - z],
  ["mul", mul, (x, z) => x * z],
  ["div", div, (x, z) => x / z],
  ["maximum", maximum, (x, z) => Math.max(x, z)],
  ["minimum", minimum, (x, z) => Math.min(x, z)]
];
for (const [name, fn, f] of binaryRefs) {
  registerOp({
    name,
    run: ([a, b]) => fn(a, b),
    reference: ([a, b]) => binaryHost(a, b, f),
    cases: bcastCases,
    doubleBackward: true,
    // div: keep the divisor away from 0; max/min: keep the operands apart so no tie is straddled.
    sample: (shape, i, rand2) => {
      const n = numel(shape);
      const d = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const r = rand2();
        if (name === "div" && i === 1) d[k] = (r < 0.5 ? -1 : 1) * (0.5 + r);
        else if (name === "maximum" || name === "minimum") d[k] = i === 0 ? -1 + 2 * r : r < 0.5 ? -1.1 + r : 0.6 + r;
        else d[k] = -1 + 2 * r;
      }
      return d;
    }
  });
}
var unaryShapes = [{ shapes: [[2, 3, 5, 7]] }, { shapes: [[1e3]] }];
var sigmoidRef = (v) => 1 / (1 + Math.exp(-v));
var unaryRefs = [
  ["exp", exp, Math.exp],
  ["log", log, Math.log, "pos"],
  ["sqrt", sqrt, Math.sqrt, "pos"],
  ["rsqrt", rsqrt, (v) => 1 / Math.sqrt(v), "pos"],
  ["square", square, (v) => v * v],
  ["reciprocal", reciprocal, (v) => 1 / v, "pos"],
  ["abs", abs, Math.abs],
  ["pow_scalar", (x) => powScalar(x, 3), (v) => v ** 3],
  ["affine", (x) => affine(x, -1.5, 0.25), (v) => -1.5 * v + 0.25],
  ["relu", relu, (v) => Math.max(v, 0)],
  ["leaky_relu", (x) => leakyRelu(x, 0.2), (v) => v > 0 ? v : 0.2 * v],
  ["tanh", tanh, Math.tanh],
  ["sigmoid", sigmoid, sigmoidRef],
  ["softplus", (x) => softplus(x, 2, 3), (v) => 2 * v > 3 ? v : Math.log1p(Math.exp(2 * v)) / 2],
  ["elu", (x) => elu(x, 0.7), (v) => v > 0 ? v : 0.7 * (Math.exp(v) - 1)],
  ["clamp", (x) => clamp(x, -0.5, 0.6), (v) => Math.min(Math.max(v, -0.5), 0.6)]
];
for (const [name, fn, f, domain] of unaryRefs) {
  registerOp({
    name,
    run: ([x]) => fn(x),
    reference: ([x]) => mapHost(x, f),
    cases: unaryShapes,
    doubleBackward: true,
    sample: (shape, _i, rand2) => {
      const n = numel(shape);
      const d = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const r = rand2();
        if (domain === "pos") d[k] = 0.3 + 1.5 * r;
        else if (name === "softplus") d[k] = r < 0.5 ? -2 + 2.8 * r : 1.6 + r;
        else if (name === "clamp") d[k] = [-0.9, -0.2, 0.2, 0.9][Math.floor(r * 4)] + r * 97 % 0.1;
        else d[k] = (r < 0.5 ? -1 : 1) * (0.05 + 1.9 * Math.abs(r - 0.5));
      }
      return d;
    }
  });
}

// shaders/random.ts
var RANDOM_WG = 128;
var philoxWgsl = (
  /* wgsl */
  `
fn mulhilo(a: u32, b: u32) -> vec2<u32> {
  // 32x32 -> 64-bit product as (hi, lo) from 16-bit halves.
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let p11 = a1 * b1;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  let hi = p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
  return vec2<u32>(hi, a * b);
}
fn philox_round(c: vec4<u32>, k: vec2<u32>) -> vec4<u32> {
  let p0 = mulhilo(0xD2511F53u, c.x);
  let p1 = mulhilo(0xCD9E8D57u, c.z);
  return vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
}
fn philox4x32_10(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = ctr;
  var k = key;
  c = philox_round(c, k);
  for (var r = 1u; r < 10u; r++) {
    k = k + vec2<u32>(0x9E3779B9u, 0xBB67AE85u);
    c = philox_round(c, k);
  }
  return c;
}
fn scale_word(w: u32, span: u32) -> u32 { return select(mulhilo(w, span).x, w, span == 0u); } // [0, span)
fn u01(w: u32) -> f32 { return f32(w >> 8u) * 5.9604644775390625e-8; }         // [0, 1)
fn u01_open0(w: u32) -> f32 { return f32((w >> 8u) + 1u) * 5.9604644775390625e-8; } // (0, 1]
fn box_muller(w0: u32, w1: u32) -> vec2<f32> {
  let r = sqrt(-2.0 * log(u01_open0(w0)));
  let theta = 6.2831853071795864 * u01(w1) - 3.14159265358979;
  return vec2<f32>(r * cos(theta), r * sin(theta));
}
`
);
function randomSource(kind) {
  const outType = kind === "randint" ? "i32" : "f32";
  const params = kind === "randint" ? "low: i32, span: u32" : "p0: f32, p1: f32";
  let body;
  switch (kind) {
    case "uniform":
      body = `let v = vec4<f32>(u01(w.x), u01(w.y), u01(w.z), u01(w.w)) * (u.p1 - u.p0) + u.p0;`;
      break;
    case "normal":
      body = `let v = vec4<f32>(box_muller(w.x, w.y), box_muller(w.z, w.w)) * u.p1 + u.p0;`;
      break;
    case "bernoulli":
      body = `let q = vec4<f32>(u01(w.x), u01(w.y), u01(w.z), u01(w.w));
  let v = select(vec4<f32>(0.0), vec4<f32>(u.p1), q < vec4<f32>(u.p0));`;
      break;
    case "randint":
      body = `let v = vec4<i32>(u.low + i32(scale_word(w.x, u.span)), u.low + i32(scale_word(w.y, u.span)),
                     u.low + i32(scale_word(w.z, u.span)), u.low + i32(scale_word(w.w, u.span)));`;
      break;
  }
  return (
    /* wgsl */
    `
struct Params { n: u32, k0: u32, k1: u32, off_lo: u32, off_hi: u32, ${params}, pad: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read_write> y: array<${outType}>;
${philoxWgsl}
${main1d(RANDOM_WG)} {
  let i = ${index1d(RANDOM_WG)};
  let base = i * 4u;
  if (base >= u.n) { return; }
  let c0 = u.off_lo + i;
  let carry = select(0u, 1u, c0 < u.off_lo);
  let w = philox4x32_10(vec4<u32>(c0, u.off_hi + carry, 0u, 0u), vec2<u32>(u.k0, u.k1));
  ${body}
  for (var j = 0u; j < 4u; j++) {
    if (base + j < u.n) { y[base + j] = v[j]; }
  }
}`
  );
}

// engine/ops/random.ts
var TWO32 = 4294967296;
function checkU53(what, v) {
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${what}: ${v} must be an integer in [0, 2^53)`);
}
var Generator = class _Generator {
  seed = 0;
  offset = 0;
  constructor(seed = 0) {
    this.manualSeed(seed);
  }
  /** Re-keys the generator and restarts its counter at 0. */
  manualSeed(seed) {
    checkU53("manualSeed", seed);
    this.seed = seed;
    this.offset = 0;
    return this;
  }
  getState() {
    return { seed: this.seed, offset: this.offset };
  }
  setState(st) {
    checkU53("setState seed", st.seed);
    checkU53("setState offset", st.offset);
    this.seed = st.seed;
    this.offset = st.offset;
    return this;
  }
  /** Reserves `blocks` counters and returns the first (callers use offset .. offset + blocks - 1). */
  reserve(blocks) {
    const start = this.offset;
    this.offset += blocks;
    checkU53("Generator offset", this.offset);
    return start;
  }
  clone() {
    return new _Generator().setState(this.getState());
  }
};
var defaultGenerator = new Generator(67280421310721);
var split = (v) => [v % TWO32 >>> 0, Math.floor(v / TWO32) >>> 0];
function mulhilo32(a, b) {
  const a0 = a & 65535, a1 = a >>> 16, b0 = b & 65535, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 65535) + (p10 & 65535);
  const hi = p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16) >>> 0;
  return [hi, Math.imul(a, b) >>> 0];
}
function philox4x32(ctr, key) {
  let [c0, c1, c2, c3] = ctr.map((v) => v >>> 0);
  let k0 = key[0] >>> 0, k1 = key[1] >>> 0;
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      k0 = k0 + 2654435769 >>> 0;
      k1 = k1 + 3144134277 >>> 0;
    }
    const [hi0, lo0] = mulhilo32(3528531795, c0);
    const [hi1, lo1] = mulhilo32(3449720151, c2);
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
  }
  return [c0, c1, c2, c3];
}
function philoxWords(n, seed, offset) {
  const key = split(seed);
  const out = new Uint32Array(n);
  for (let i = 0; 4 * i < n; i++) {
    const w = philox4x32(split(offset + i).concat(0, 0), key);
    for (let j = 0; j < 4 && 4 * i + j < n; j++) out[4 * i + j] = w[j];
  }
  return out;
}
var uniformFromWord = (w) => (w >>> 8) * 2 ** -24;
function boxMuller(w0, w1) {
  const r = Math.sqrt(-2 * Math.log(((w0 >>> 8) + 1) * 2 ** -24));
  const theta = 2 * Math.PI * uniformFromWord(w1) - Math.PI;
  return [r * Math.cos(theta), r * Math.sin(theta)];
}
function fillRandom_(t, kind, params, generator = defaultGenerator, op = kind) {
  const want = kind === "randint" ? "int32" : "float32";
  if (t.dtype !== want) throw new Error(`${op}: writes ${want} values, but the target ${t.describe()} is ${t.dtype}`);
  const n = t.size;
  if (n === 0) return t;
  const blocks = Math.ceil(n / 4);
  const [k0, k1] = split(generator.seed);
  const [olo, ohi] = split(generator.reserve(blocks));
  const p = kind === "randint" ? [i32(params[0]), params[1] >>> 0] : [f32(params[0]), f32(params[1])];
  launch(
    { key: `random|${kind}`, code: randomSource(kind), bindings: ["rw"], op },
    [t],
    [n, k0, k1, olo, ohi, ...p, 0],
    grid1d(blocks, RANDOM_WG),
    { op, bytes: 4 * n }
  );
  return t;
}
function rand(shape, opts = {}) {
  return fillRandom_(empty(shape, "rand"), "uniform", [0, 1], opts.generator, "rand");
}
function randn(shape, opts = {}) {
  return fillRandom_(empty(shape, "randn"), "normal", [opts.mean ?? 0, opts.std ?? 1], opts.generator, "randn");
}
function bernoulli(shape, p, opts = {}) {
  if (!(p >= 0 && p <= 1)) throw new Error(`bernoulli: p = ${p} must be in [0, 1]`);
  return fillRandom_(empty(shape, "bernoulli"), "bernoulli", [p, 1], opts.generator, "bernoulli");
}
function dropout(x, p, opts = {}) {
  checkFloat("dropout", x);
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: p = ${p} must be in [0, 1]`);
  if (opts.training === false || p === 0) return x;
  if (p === 1) return mul(x, zerosLike(x));
  const mask = fillRandom_(empty(x.shape, "dropout"), "bernoulli", [1 - p, 1 / (1 - p)], opts.generator, "dropout_mask");
  return mul(x, mask);
}
var REG_SEED = 19088743;
var REG_OFFSET = 4294967294;
function regGen() {
  return new Generator(REG_SEED).setState({ seed: REG_SEED, offset: REG_OFFSET });
}
function hostFromWords(shape, f) {
  const n = numel(shape);
  const w = philoxWords(4 * Math.ceil(n / 4), REG_SEED, REG_OFFSET);
  return { shape, data: Float64Array.from({ length: n }, (_, i) => f(w, i)) };
}
var randomCases = [{ shapes: [], attrs: { shape: [3, 7] } }, { shapes: [], attrs: { shape: [1030] } }];
registerOp({
  name: "rand",
  run: (_, a) => rand(a.shape, { generator: regGen() }),
  reference: (_, a) => hostFromWords(a.shape, (w, i) => uniformFromWord(w[i])),
  cases: randomCases
});
registerOp({
  name: "randn",
  run: (_, a) => randn(a.shape, { generator: regGen(), mean: 0.5, std: 2 }),
  reference: (_, a) => hostFromWords(a.shape, (w, i) => {
    const b = i & ~1;
    return 0.5 + 2 * boxMuller(w[b], w[b + 1])[i & 1];
  }),
  cases: randomCases,
  // WGSL's log is only accurate to ~2^-21 absolute near 1 (tiny radii); tests check statistics too.
  tol: { forward: 2e-3 }
});
registerOp({
  name: "bernoulli",
  run: (_, a) => bernoulli(a.shape, 0.3, { generator: regGen() }),
  reference: (_, a) => hostFromWords(a.shape, (w, i) => uniformFromWord(w[i]) < Math.fround(0.3) ? 1 : 0),
  cases: randomCases
});
registerOp({
  name: "dropout",
  run: ([x]) => dropout(x, 0.4, { generator: regGen() }),
  reference: ([x]) => {
    const keep = Math.fround(0.6);
    const w = philoxWords(x.data.length, REG_SEED, REG_OFFSET);
    return { shape: x.shape, data: x.data.map((v, i) => uniformFromWord(w[i]) < keep ? v * Math.fround(1 / 0.6) : 0) };
  },
  cases: [{ shapes: [[2, 3, 5]] }, { shapes: [[41]] }],
  doubleBackward: true
});

// shaders/softmax.ts
var SOFTMAX_WG = 64;
var ONE_HOT_WG = 256;
function softmaxSource(log2) {
  const out = log2 ? "x[base + c] - lse" : "exp(x[base + c] - m) * inv";
  return (
    /* wgsl */
    `
struct Params { rows: u32, C: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
var<workgroup> part: array<f32, ${SOFTMAX_WG}>;
@compute @workgroup_size(${SOFTMAX_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;
  let live = row < u.rows;   // uniform per workgroup: all threads reach every barrier
  let base = row * u.C;
  var acc = -3.4028234e38;
  if (live) {
    for (var c = lid; c < u.C; c += ${SOFTMAX_WG}u) { acc = max(acc, x[base + c]); }
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = ${SOFTMAX_WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { part[lid] = max(part[lid], part[lid + s]); }
    workgroupBarrier();
  }
  let m = part[0];
  workgroupBarrier();
  var sum = 0.0;
  if (live) {
    for (var c = lid; c < u.C; c += ${SOFTMAX_WG}u) { sum += exp(x[base + c] - m); }
  }
  part[lid] = sum;
  workgroupBarrier();
  for (var s = ${SOFTMAX_WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { part[lid] = part[lid] + part[lid + s]; }
    workgroupBarrier();
  }
  let inv = 1.0 / part[0];
  let lse = m + log(part[0]);
  if (live) {
    for (var c = lid; c < u.C; c += ${SOFTMAX_WG}u) { y[base + c] = ${out}; }
  }
}`
  );
}
function oneHotSource() {
  return (
    /* wgsl */
    `
struct Params { n: u32, C: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> labels: array<i32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
${main1d(ONE_HOT_WG)} {
  let i = ${index1d(ONE_HOT_WG)};
  if (i >= u.n) { return; }
  let r = i / u.C;
  let c = i32(i % u.C);
  let k = labels[r];
  // NaN built at run time (u.pad0 is 0): a NaN constant expression is a WGSL compile error.
  if (k < 0 || k >= i32(u.C)) { y[i] = bitcast<f32>(0x7fc00000u | u.pad0); return; }
  y[i] = select(0.0, 1.0, c == k);
}`
  );
}

// engine/ops/softmax.ts
function softmaxLastRaw(x, log2, op) {
  checkFloat(op, x);
  if (x.rank < 1) throw new Error(`${op}: needs at least one axis, got a scalar ${x.describe()}`);
  const C = x.shape[x.rank - 1];
  const rows = C === 0 ? 0 : x.size / C;
  const y = empty(x.shape, op);
  if (rows === 0) return y;
  const gx = Math.min(rows, 65535);
  const gy = Math.ceil(rows / gx);
  launch({ key: `softmax|${log2 ? "log" : "exp"}`, code: softmaxSource(log2), bindings: ["read", "rw"], op }, [x, y], [rows, C, 0, 0], [gx, gy, 1], { op });
  void SOFTMAX_WG;
  return y;
}
function softmaxLast(x) {
  const y = softmaxLastRaw(x, false, "softmax");
  return record(y, "softmax", [x], (g) => [mul(y, sub(g, sum(mul(g, y), -1, true)))]);
}
function logSoftmaxLast(x) {
  const y = softmaxLastRaw(x, true, "log_softmax");
  return record(y, "log_softmax", [x], (g) => [sub(g, mul(exp(y), sum(g, -1, true)))]);
}
function alongDim(x, dim, op, f) {
  const d = dim < 0 ? dim + x.rank : dim;
  if (!Number.isInteger(d) || d < 0 || d >= x.rank) throw new Error(`${op}: dim ${dim} is out of range for ${x.describe()}`);
  if (d === x.rank - 1) return f(x);
  const perm = [...Array(x.rank).keys()].filter((i) => i !== d).concat(d);
  const inv = perm.map((_, i) => perm.indexOf(i));
  return permute(f(permute(x, perm)), inv);
}
function softmax(x, dim = -1) {
  return alongDim(x, dim, "softmax", softmaxLast);
}
function logSoftmax(x, dim = -1) {
  return alongDim(x, dim, "logSoftmax", logSoftmaxLast);
}
function oneHot(labels, numClasses) {
  if (labels.dtype !== "int32") throw new Error(`oneHot: labels must be an int32 tensor, got ${labels.dtype} ${fmtShape(labels.shape)}`);
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`oneHot: numClasses = ${numClasses} must be a positive integer`);
  const shape = [...labels.shape, numClasses];
  const y = empty(shape, "one_hot");
  const n = numel(shape);
  if (n > 0) launch({ key: "one_hot", code: oneHotSource(), bindings: ["read", "rw"], op: "one_hot" }, [labels, y], [n, numClasses, 0, 0], grid1d(n, ONE_HOT_WG), { op: "one_hot" });
  return y;
}
function softmaxHost(x, dim, log2) {
  const d = dim < 0 ? dim + x.shape.length : dim;
  const C = x.shape[d];
  const inner = numel(x.shape.slice(d + 1));
  const outer = numel(x.shape.slice(0, d));
  const out = new Float64Array(x.data.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (c) => (o * C + c) * inner + i;
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, x.data[at(c)]);
      let s = 0;
      for (let c = 0; c < C; c++) s += Math.exp(x.data[at(c)] - m);
      for (let c = 0; c < C; c++) out[at(c)] = log2 ? x.data[at(c)] - m - Math.log(s) : Math.exp(x.data[at(c)] - m) / s;
    }
  }
  return { shape: x.shape, data: out };
}
var softmaxCases = [
  { shapes: [[3, 7]], attrs: { dim: -1 } },
  { shapes: [[2, 3, 5]], attrs: { dim: 1 } },
  { shapes: [[2, 131]], attrs: { dim: -1 } },
  { shapes: [[5]], attrs: { dim: 0 } }
];
for (const [name, fn, log2] of [["softmax", softmax, false], ["log_softmax", logSoftmax, true]]) {
  registerOp({
    name,
    run: ([x], a) => fn(x, a.dim),
    reference: ([x], a) => softmaxHost(x, a.dim, log2),
    cases: softmaxCases,
    doubleBackward: true,
    sample: (shape, _i, rand2) => Float64Array.from({ length: numel(shape) }, () => 6 * rand2() - 3)
  });
}

// engine/ops/cpu/host.ts
function size(shape) {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
function hostTensor(shape, data) {
  const n = size(shape);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`hostTensor: bad shape [${shape.join(", ")}]`);
  }
  if (data !== void 0 && data.length !== n) {
    throw new Error(`hostTensor: shape [${shape.join(", ")}] needs ${n} values, got ${data.length}`);
  }
  return { shape: [...shape], data: data === void 0 ? new Float64Array(n) : Float64Array.from(data) };
}
function hostScalar(value) {
  return { shape: [], data: Float64Array.of(value) };
}
function expectRank(t, rank, what) {
  if (t.shape.length !== rank) {
    throw new Error(`${what}: expected rank ${rank}, got shape [${t.shape.join(", ")}]`);
  }
  return t.shape;
}
function expectSameShape(a, b, what) {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${what}: shapes [${a.shape.join(", ")}] and [${b.shape.join(", ")}] differ`);
  }
}

// engine/ops/cpu/losses.ts
function reduce(values, reduction) {
  if (reduction === "none") return values;
  let sum2 = 0;
  for (const v of values.data) sum2 += v;
  return hostScalar(reduction === "sum" ? sum2 : sum2 / values.data.length);
}
function elementwise(a, b, what, f) {
  expectSameShape(a, b, what);
  const y = hostTensor(a.shape);
  for (let i = 0; i < y.data.length; i++) y.data[i] = f(a.data[i], b.data[i]);
  return y;
}
function bceWithLogitsCpu(logits, targets, reduction = "mean") {
  const loss = elementwise(logits, targets, "bceWithLogits", (x, t) => Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x))));
  return reduce(loss, reduction);
}
function mseCpu(a, b, reduction = "mean") {
  return reduce(elementwise(a, b, "mse", (x, y) => (x - y) ** 2), reduction);
}
function l1Cpu(a, b, reduction = "mean") {
  return reduce(elementwise(a, b, "l1", (x, y) => Math.abs(x - y)), reduction);
}
function softmaxCrossEntropyCpu(logits, labels, reduction = "mean") {
  const [n, c] = expectRank(logits, 2, "softmaxCrossEntropy");
  if (labels instanceof Int32Array) {
    if (labels.length !== n) throw new Error(`softmaxCrossEntropy: ${labels.length} labels for ${n} rows`);
  } else {
    expectSameShape(logits, labels, "softmaxCrossEntropy");
  }
  const loss = hostTensor([n]);
  for (let i = 0; i < n; i++) {
    const row = logits.data.subarray(i * c, (i + 1) * c);
    let max2 = -Infinity;
    for (const v of row) max2 = Math.max(max2, v);
    let sumExp = 0;
    for (const v of row) sumExp += Math.exp(v - max2);
    const logZ = max2 + Math.log(sumExp);
    if (labels instanceof Int32Array) {
      const k = labels[i];
      if (k < 0 || k >= c) throw new Error(`softmaxCrossEntropy: label ${k} outside [0, ${c})`);
      loss.data[i] = logZ - row[k];
    } else {
      let acc = 0;
      for (let k = 0; k < c; k++) acc += labels.data[i * c + k] * (logZ - row[k]);
      loss.data[i] = acc;
    }
  }
  return reduce(loss, reduction);
}
function gaussianKlCpu(mu, logvar) {
  expectSameShape(mu, logvar, "gaussianKl");
  if (mu.shape.length < 1) throw new Error("gaussianKl: inputs need a batch axis");
  const batch = mu.shape[0];
  const perSample = size(mu.shape.slice(1));
  let total = 0;
  for (let i = 0; i < batch * perSample; i++) {
    const m = mu.data[i];
    const lv = logvar.data[i];
    total += -0.5 * (1 + lv - m * m - Math.exp(lv));
  }
  return hostScalar(total / batch);
}
function hingeCpu(energy, margin, reduction = "mean") {
  const y = hostTensor(energy.shape);
  for (let i = 0; i < y.data.length; i++) y.data[i] = Math.max(0, margin - energy.data[i]);
  return reduce(y, reduction);
}

// engine/ops/losses.ts
function reduce2(op, v, reduction = "mean") {
  switch (reduction) {
    case "mean":
      return mean(v);
    case "sum":
      return sum(v);
    case "none":
      return v;
    default:
      throw new Error(`${op}: unknown reduction '${reduction}' (use 'mean', 'sum' or 'none')`);
  }
}
function checkSame(op, a, b) {
  checkFloat(op, a, b);
  if (a.rank !== b.rank || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${op}: input ${fmtShape(a.shape)} and target ${fmtShape(b.shape)} must have the same shape`);
  }
}
function bceWithLogits(logits, target, opts = {}) {
  checkFloat("bceWithLogits", logits);
  let y;
  if (typeof target === "number") {
    y = noGrad(() => sub(softplus(logits), mulScalar(logits, target)));
    y = record(y, "bce_with_logits", [logits], (g) => [mul(g, addScalar(sigmoid(logits), -target))]);
  } else {
    checkFloat("bceWithLogits", target);
    y = noGrad(() => sub(softplus(logits), mul(logits, target)));
    y = record(y, "bce_with_logits", [logits, target], (g) => [
      logits.requiresGrad ? sumTo(mul(g, sub(sigmoid(logits), target)), logits.shape) : null,
      target.requiresGrad ? sumTo(neg(mul(g, logits)), target.shape) : null
    ]);
  }
  return reduce2("bceWithLogits", y, opts.reduction);
}
function mse(a, b, opts = {}) {
  checkSame("mse", a, b);
  const y = record(noGrad(() => square(sub(a, b))), "mse", [a, b], (g) => {
    const d = mul(g, mulScalar(sub(a, b), 2));
    return [a.requiresGrad ? d : null, b.requiresGrad ? neg(d) : null];
  });
  return reduce2("mse", y, opts.reduction);
}
function l1(a, b, opts = {}) {
  checkSame("l1", a, b);
  return reduce2("l1", abs(sub(a, b)), opts.reduction);
}
function softmaxCrossEntropy(logits, labels, opts = {}) {
  checkFloat("softmaxCrossEntropy", logits);
  if (logits.rank !== 2) throw new Error(`softmaxCrossEntropy: logits must be [N, C], got ${fmtShape(logits.shape)}`);
  const [n, c] = logits.shape;
  let t;
  if (labels.dtype === "int32") {
    if (labels.rank !== 1 || labels.shape[0] !== n) throw new Error(`softmaxCrossEntropy: int32 labels must be [${n}], got ${fmtShape(labels.shape)}`);
    t = oneHot(labels, c);
  } else {
    checkSame("softmaxCrossEntropy", logits, labels);
    t = labels;
  }
  const perSample = neg(sum(mul(t, logSoftmax(logits, -1)), -1));
  return reduce2("softmaxCrossEntropy", perSample, opts.reduction);
}
function gaussianKl(mu, logvar, opts = {}) {
  checkSame("gaussianKl", mu, logvar);
  if (mu.rank < 1) throw new Error(`gaussianKl: inputs need a batch axis, got ${fmtShape(mu.shape)}`);
  const terms = mulScalar(addScalar(sub(add(square(mu), exp(logvar)), logvar), -1), 0.5);
  const r = opts.reduction ?? "batchmean";
  if (r === "mean" || r === "sum") return reduce2("gaussianKl", terms, r);
  const axes = [...Array(mu.rank).keys()].slice(1);
  const perSample = axes.length ? sum(terms, axes) : terms;
  if (r === "none") return perSample;
  if (r === "batchmean") return mean(perSample);
  throw new Error(`gaussianKl: unknown reduction '${r}' (use 'batchmean', 'mean', 'sum' or 'none')`);
}
function hinge(energy, margin, opts = {}) {
  checkFloat("hinge", energy);
  return reduce2("hinge", relu(affine(energy, -1, margin)), opts.reduction);
}
function gradientPenalty(critic, real2, fake, opts = {}) {
  checkSame("gradientPenalty", real2, fake);
  if (real2.rank < 1) throw new Error(`gradientPenalty: inputs need a batch axis, got ${fmtShape(real2.shape)}`);
  const lambda = opts.lambda ?? 10;
  const n = real2.shape[0];
  const epsShape = [n, ...real2.shape.slice(1).map(() => 1)];
  const xhat = noGrad(() => {
    const eps = rand(epsShape, { generator: opts.generator });
    const r = real2.detach();
    const f = fake.detach();
    return add(f, mul(eps, sub(r, f)));
  }).requireGrad();
  const scores = critic(xhat);
  if (!scores.requiresGrad) {
    throw new Error("gradientPenalty: the critic output does not depend on its input (did it run under noGrad, or detach its input?)");
  }
  const [g] = grad(sum(scores), [xhat], { createGraph: true });
  const g2 = reshape(g, [n, -1]);
  const norm = sqrt(addScalar(sum(square(g2), 1), 1e-12));
  return mulScalar(mean(square(addScalar(norm, -1))), lambda);
}
var asRed = (a) => a.reduction ?? "mean";
var redCases = (shape, n = 2) => ["mean", "sum", "none"].map((reduction) => ({ shapes: Array.from({ length: n }, () => shape), attrs: { reduction } }));
var sampleIn = (lo, hi) => (shape, _i, r) => Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * r());
var host = (shape, value) => ({ shape, data: new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(value) });
registerOp({
  name: "bce_with_logits",
  run: ([x, t], a) => bceWithLogits(x, t, { reduction: asRed(a) }),
  reference: ([x, t], a) => bceWithLogitsCpu(x, t, asRed(a)),
  cases: [...redCases([3, 5]), { shapes: [[41], [41]], attrs: { reduction: "mean" } }],
  doubleBackward: true,
  sample: (shape, i, r) => sampleIn(i === 0 ? -4 : 0, i === 0 ? 4 : 1)(shape, i, r)
});
registerOp({
  name: "bce_with_logits_const",
  run: ([x], a) => bceWithLogits(x, a.target, { reduction: asRed(a) }),
  reference: ([x], a) => bceWithLogitsCpu(x, host(x.shape, a.target), asRed(a)),
  cases: [
    { shapes: [[7, 1]], attrs: { target: 1, reduction: "mean" } },
    { shapes: [[7, 1]], attrs: { target: 0, reduction: "sum" } },
    { shapes: [[2, 3]], attrs: { target: 0.9, reduction: "none" } }
  ],
  doubleBackward: true,
  sample: sampleIn(-4, 4)
});
registerOp({
  name: "mse",
  run: ([x, y], a) => mse(x, y, { reduction: asRed(a) }),
  reference: ([x, y], a) => mseCpu(x, y, asRed(a)),
  cases: redCases([3, 5]),
  doubleBackward: true
});
registerOp({
  name: "l1",
  run: ([x, y], a) => l1(x, y, { reduction: asRed(a) }),
  reference: ([x, y], a) => l1Cpu(x, y, asRed(a)),
  cases: redCases([3, 5]),
  doubleBackward: true,
  // Keep a - b away from the kink at 0: a in [0.2, 1], b in [-1, -0.2] or swapped by sign.
  sample: (shape, i, r) => sampleIn(i === 0 ? 0.2 : -1, i === 0 ? 1 : -0.2)(shape, i, r)
});
registerOp({
  name: "softmax_cross_entropy",
  run: ([x, t], a) => softmaxCrossEntropy(x, t, { reduction: asRed(a) }),
  reference: ([x, t], a) => softmaxCrossEntropyCpu(x, t, asRed(a)),
  cases: redCases([4, 6]),
  doubleBackward: true,
  sample: (shape, i, r) => i === 0 ? sampleIn(-3, 3)(shape, i, r) : sampleIn(0, 1)(shape, i, r)
});
registerOp({
  name: "softmax_cross_entropy_index",
  run: ([x], a) => softmaxCrossEntropy(x, tensor(a.labels, [a.labels.length], "int32"), { reduction: asRed(a) }),
  reference: ([x], a) => softmaxCrossEntropyCpu(x, Int32Array.from(a.labels), asRed(a)),
  cases: [
    { shapes: [[5, 3]], attrs: { labels: [0, 2, 1, 1, 0], reduction: "mean" } },
    { shapes: [[3, 7]], attrs: { labels: [6, 0, 3], reduction: "none" } }
  ],
  doubleBackward: true,
  sample: sampleIn(-3, 3)
});
registerOp({
  name: "gaussian_kl",
  run: ([m, lv]) => gaussianKl(m, lv),
  reference: ([m, lv]) => gaussianKlCpu(m, lv),
  cases: [{ shapes: [[3, 5], [3, 5]] }, { shapes: [[2, 3, 2], [2, 3, 2]] }],
  doubleBackward: true
});
registerOp({
  name: "hinge",
  run: ([e2], a) => hinge(e2, a.margin, { reduction: asRed(a) }),
  reference: ([e2], a) => hingeCpu(e2, a.margin, asRed(a)),
  cases: [
    { shapes: [[4, 5]], attrs: { margin: 0.3, reduction: "mean" } },
    { shapes: [[9]], attrs: { margin: 0.3, reduction: "none" } }
  ],
  doubleBackward: true,
  // Energies on both sides of the margin but never at it.
  sample: (shape, _i, r) => Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() < 0.5 ? -0.5 + 0.6 * r() : 0.4 + r())
});
var GP_SEED = 99;
function gpHost(real2, fake, w, lambda) {
  const [n, d] = real2.shape;
  const words = philoxWords(n, GP_SEED, 0);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const eps = uniformFromWord(words[i]);
    const x = Array.from({ length: d }, (_, j) => eps * real2.data[i * d + j] + (1 - eps) * fake.data[i * d + j]);
    const s = x.reduce((a, v, j) => a + w.data[j] * v * v, 0);
    const dt = 1 - Math.tanh(s) ** 2;
    const norm = Math.sqrt(x.reduce((a, v, j) => a + (dt * 2 * w.data[j] * v) ** 2, 0) + 1e-12);
    acc += (norm - 1) ** 2;
  }
  return { shape: [], data: Float64Array.of(lambda * acc / n) };
}
registerOp({
  name: "gradient_penalty",
  run: ([real2, fake, w]) => gradientPenalty((x) => tanh(sum(mul(square(x), w), -1)), real2, fake, { generator: new Generator(GP_SEED), lambda: 3 }),
  reference: ([real2, fake, w]) => gpHost(real2, fake, w, 3),
  cases: [{ shapes: [[3, 4], [3, 4], [4]], gradInputs: [false, false, true] }],
  doubleBackward: true,
  tol: { grad: 3e-3, grad2: 0.02 }
});

// shaders/norm.ts
var NORM_WG = 256;
var NORM_MAX_CACHE = 16;
var NORM_MAX_CACHE_BACKWARD = 8;
function normKey(prefix, o) {
  return `${prefix}|${o.kind}|v${o.vec4 ? 4 : 1}|g${+!!o.gamma}|b${+!!o.beta}|${o.act}|r${+!!o.running}|k${o.cache ?? 0}`;
}
function normForwardBindings(o) {
  return ["read", ...o.gamma ? ["read"] : [], ...o.beta ? ["read"] : [], "rw", "rw", ...o.running ? ["rw", "rw"] : []];
}
function normBackwardBindings(o) {
  return ["read", "read", "read", ...o.gamma ? ["read"] : [], ...o.act !== "none" ? ["read"] : [], "rw", "rw", "rw"];
}
function normEvalBindings(o) {
  return ["read", "read", "read", ...o.gamma ? ["read"] : [], ...o.beta ? ["read"] : [], "rw"];
}
function bindings(list) {
  return list.map(([name, access, type], i) => `@group(0) @binding(${i + 1}) var<storage, ${access === "read" ? "read" : "read_write"}> ${name}: array<${type}>;`).join("\n");
}
function common(o) {
  const vt = o.vec4 ? "vec4<f32>" : "f32";
  return wgsl`
alias VT = ${vt};
fn hsum(v: VT) -> f32 {
#if ${o.vec4}
  return dot(v, VT(1.0));
#else
  return v;
#endif
}
fn addr(g: u32, j: u32) -> u32 {
#if ${o.kind === "instance"}
  return g * u.P + j;
#else
  return ((j / u.P) * u.C + g) * u.P + (j % u.P);
#endif
}
fn act(z: VT) -> VT {
#if ${o.act === "relu"}
  return max(z, VT(0.0));
#elif ${o.act === "leaky_relu"}
  return select(z * u.slope, z, z > VT(0.0));
#else
  return z;
#endif
}
fn actMask(y: VT) -> VT {
#if ${o.act === "relu"}
  return select(VT(0.0), VT(1.0), y > VT(0.0));
#else
  return select(VT(u.slope), VT(1.0), y > VT(0.0));
#endif
}`;
}
var groupMain = (
  /* wgsl */
  `@compute @workgroup_size(${NORM_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32)`
);
function normForwardSource(o) {
  const K = o.cache;
  const cached = K > 0;
  const list = [["x", "read", "VT"]];
  if (o.gamma) list.push(["gamma", "read", "f32"]);
  if (o.beta) list.push(["beta", "read", "f32"]);
  list.push(["y", "rw", "VT"], ["stats", "rw", "f32"]);
  if (o.running) list.push(["runMean", "rw", "f32"], ["runVar", "rw", "f32"]);
  return wgsl`
struct Params { G: u32, items: u32, P: u32, C: u32,
  invM: f32, eps: f32, slope: f32, momentum: f32, bessel: f32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> u: Params;
${bindings(list)}
${common(o)}
var<workgroup> red: array<f32, ${NORM_WG}>;

// Sum of v over the workgroup (every thread gets the result). Call from uniform control flow.
fn wgSum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = ${NORM_WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

${groupMain} {
  let g = wid.x + wid.y * nwg.x;
  if (g >= u.G) { return; }
#if ${o.kind === "instance"}
  let c = g % u.C;
#else
  let c = g;
#endif
  // Pass 1: mean.
  var s = 0.0;
#if ${cached}
  var cache: array<VT, ${Math.max(K, 1)}>;
  for (var k = 0u; k < ${K}u; k++) {
    let j = lid + k * ${NORM_WG}u;
    if (j < u.items) {
      let v = x[addr(g, j)];
      cache[k] = v;
      s += hsum(v);
    }
  }
#else
  for (var j = lid; j < u.items; j += ${NORM_WG}u) { s += hsum(x[addr(g, j)]); }
#endif
  let mean = wgSum(s, lid) * u.invM;
  // Pass 2: centred second moment.
  var q = 0.0;
#if ${cached}
  for (var k = 0u; k < ${K}u; k++) {
    if (lid + k * ${NORM_WG}u < u.items) {
      let d = cache[k] - VT(mean);
      q += hsum(d * d);
    }
  }
#else
  for (var j = lid; j < u.items; j += ${NORM_WG}u) {
    let d = x[addr(g, j)] - VT(mean);
    q += hsum(d * d);
  }
#endif
  let variance = wgSum(q, lid) * u.invM;
  let rstd = inverseSqrt(variance + u.eps);
#if ${o.gamma}
  let scale = gamma[c] * rstd;
#else
  let scale = rstd;
#endif
#if ${o.beta}
  let shift = beta[c];
#else
  let shift = 0.0;
#endif
  // Pass 3: normalise, affine, activation.
#if ${cached}
  for (var k = 0u; k < ${K}u; k++) {
    let j = lid + k * ${NORM_WG}u;
    if (j < u.items) { y[addr(g, j)] = act((cache[k] - VT(mean)) * VT(scale) + VT(shift)); }
  }
#else
  for (var j = lid; j < u.items; j += ${NORM_WG}u) {
    let a = addr(g, j);
    y[a] = act((x[a] - VT(mean)) * VT(scale) + VT(shift));
  }
#endif
  if (lid == 0u) {
    stats[2u * g] = mean;
    stats[2u * g + 1u] = rstd;
#if ${o.running}
    runMean[c] = (1.0 - u.momentum) * runMean[c] + u.momentum * mean;
    runVar[c] = (1.0 - u.momentum) * runVar[c] + u.momentum * variance * u.bessel;
#endif
  }
}`;
}
function normBackwardSource(o) {
  const K = o.cache;
  const cached = K > 0;
  const hasAct = o.act !== "none";
  const list = [["gy", "read", "VT"], ["x", "read", "VT"], ["stats", "read", "f32"]];
  if (o.gamma) list.push(["gamma", "read", "f32"]);
  if (hasAct) list.push(["y", "read", "VT"]);
  list.push(["dx", "rw", "VT"], ["sumG", "rw", "f32"], ["sumGX", "rw", "f32"]);
  return wgsl`
struct Params { G: u32, items: u32, P: u32, C: u32, invM: f32, slope: f32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> u: Params;
${bindings(list)}
${common(o)}
var<workgroup> red: array<vec2<f32>, ${NORM_WG}>;

fn wgSum2(v: vec2<f32>, lid: u32) -> vec2<f32> {
  red[lid] = v;
  workgroupBarrier();
  for (var s = ${NORM_WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  return red[0];
}

// gz = dy * act'(z), the gradient at the affine output.
fn gradZ(a: u32) -> VT {
#if ${hasAct}
  return gy[a] * actMask(y[a]);
#else
  return gy[a];
#endif
}

${groupMain} {
  let g = wid.x + wid.y * nwg.x;
  if (g >= u.G) { return; }
#if ${o.kind === "instance"}
  let c = g % u.C;
#else
  let c = g;
#endif
  let mean = stats[2u * g];
  let rstd = stats[2u * g + 1u];
  var acc = vec2<f32>(0.0);
#if ${cached}
  var cg: array<VT, ${Math.max(K, 1)}>;
  var ch: array<VT, ${Math.max(K, 1)}>;
  for (var k = 0u; k < ${K}u; k++) {
    let j = lid + k * ${NORM_WG}u;
    if (j < u.items) {
      let a = addr(g, j);
      let gz = gradZ(a);
      let xh = (x[a] - VT(mean)) * VT(rstd);
      cg[k] = gz;
      ch[k] = xh;
      acc += vec2<f32>(hsum(gz), hsum(gz * xh));
    }
  }
#else
  for (var j = lid; j < u.items; j += ${NORM_WG}u) {
    let a = addr(g, j);
    let gz = gradZ(a);
    let xh = (x[a] - VT(mean)) * VT(rstd);
    acc += vec2<f32>(hsum(gz), hsum(gz * xh));
  }
#endif
  let tot = wgSum2(acc, lid);
#if ${o.gamma}
  let f = gamma[c] * rstd;
#else
  let f = rstd;
#endif
  let m1 = tot.x * u.invM;
  let m2 = tot.y * u.invM;
#if ${cached}
  for (var k = 0u; k < ${K}u; k++) {
    let j = lid + k * ${NORM_WG}u;
    if (j < u.items) { dx[addr(g, j)] = VT(f) * (cg[k] - VT(m1) - ch[k] * VT(m2)); }
  }
#else
  for (var j = lid; j < u.items; j += ${NORM_WG}u) {
    let a = addr(g, j);
    let xh = (x[a] - VT(mean)) * VT(rstd);
    dx[a] = VT(f) * (gradZ(a) - VT(m1) - xh * VT(m2));
  }
#endif
  if (lid == 0u) {
    sumG[g] = tot.x;
    sumGX[g] = tot.y;
  }
}`;
}
function normEvalSource(o) {
  const list = [["x", "read", "VT"], ["rm", "read", "f32"], ["rv", "read", "f32"]];
  if (o.gamma) list.push(["gamma", "read", "f32"]);
  if (o.beta) list.push(["beta", "read", "f32"]);
  list.push(["y", "rw", "VT"]);
  return wgsl`
struct Params { n: u32, P: u32, C: u32, pad0: u32, eps: f32, slope: f32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> u: Params;
${bindings(list)}
${common({ ...o, kind: "instance" })}
${main1d(NORM_WG)} {
  let i = ${index1d(NORM_WG)};
  if (i >= u.n) { return; }
  let c = (i / u.P) % u.C;
#if ${o.gamma}
  let scale = gamma[c] * inverseSqrt(rv[c] + u.eps);
#else
  let scale = inverseSqrt(rv[c] + u.eps);
#endif
#if ${o.beta}
  let shift = beta[c];
#else
  let shift = 0.0;
#endif
  y[i] = act((x[i] - VT(rm[c])) * VT(scale) + VT(shift));
}`;
}

// engine/ops/cpu/nn.ts
function linearCpu(x, w, b) {
  const [n, inF] = expectRank(x, 2, "linear x");
  const [outF, wIn] = expectRank(w, 2, "linear w");
  if (wIn !== inF) throw new Error(`linear: x has ${inF} features, w expects ${wIn}`);
  if (b !== null && b.data.length !== outF) throw new Error(`linear: bias has ${b.data.length} values for ${outF} outputs`);
  const y = hostTensor([n, outF]);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < outF; o++) {
      let acc = b === null ? 0 : b.data[o];
      for (let k = 0; k < inF; k++) acc += x.data[i * inF + k] * w.data[o * inF + k];
      y.data[i * outF + o] = acc;
    }
  }
  return y;
}
function matmulCpu(a, b, opts = {}) {
  const { transA = false, transB = false } = opts;
  for (const t of [a, b]) {
    if (t.shape.length !== 2 && t.shape.length !== 3) throw new Error(`matmul: rank must be 2 or 3, got [${t.shape.join(", ")}]`);
  }
  const batchA = a.shape.length === 3 ? a.shape[0] : 0;
  const batchB = b.shape.length === 3 ? b.shape[0] : 0;
  if (batchA && batchB && batchA !== batchB) throw new Error(`matmul: batch sizes ${batchA} and ${batchB} differ`);
  const batch = Math.max(batchA, batchB, 1);
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [m, k] = transA ? [ac, ar] : [ar, ac];
  const [kb, n] = transB ? [bc, br] : [br, bc];
  if (k !== kb) throw new Error(`matmul: inner sizes ${k} and ${kb} differ`);
  const [aI, aK] = transA ? [1, ac] : [ac, 1];
  const [bK, bJ] = transB ? [1, bc] : [bc, 1];
  const y = hostTensor(batchA || batchB ? [batch, m, n] : [m, n]);
  for (let p = 0; p < batch; p++) {
    const aBase = batchA ? p * ar * ac : 0;
    const bBase = batchB ? p * br * bc : 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let q = 0; q < k; q++) acc += a.data[aBase + i * aI + q * aK] * b.data[bBase + q * bK + j * bJ];
        y.data[(p * m + i) * n + j] = acc;
      }
    }
  }
  return y;
}
function instanceNormCpu(x, gamma, beta, eps = 1e-5) {
  if (x.shape.length < 3) throw new Error("instanceNorm: x must be [N, C, ...spatial]");
  const [n, c] = x.shape;
  const plane = size(x.shape.slice(2));
  const y = hostTensor(x.shape);
  for (let i = 0; i < n * c; i++) {
    const base = i * plane;
    let mean2 = 0;
    for (let p = 0; p < plane; p++) mean2 += x.data[base + p];
    mean2 /= plane;
    let variance = 0;
    for (let p = 0; p < plane; p++) variance += (x.data[base + p] - mean2) ** 2;
    variance /= plane;
    const rstd = 1 / Math.sqrt(variance + eps);
    const scale = gamma === null ? rstd : gamma.data[i % c] * rstd;
    const shift = beta === null ? 0 : beta.data[i % c];
    for (let p = 0; p < plane; p++) y.data[base + p] = (x.data[base + p] - mean2) * scale + shift;
  }
  return y;
}
function channelMoments(x) {
  if (x.shape.length < 2) throw new Error("batchNorm: x must be [N, C, ...]");
  const [n, c] = x.shape;
  const plane = size(x.shape.slice(2));
  const mean2 = new Float64Array(c);
  const sumSq = new Float64Array(c);
  for (let i = 0; i < n * c; i++) {
    for (let p = i * plane; p < (i + 1) * plane; p++) mean2[i % c] += x.data[p];
  }
  const count = n * plane;
  for (let ch = 0; ch < c; ch++) mean2[ch] /= count;
  for (let i = 0; i < n * c; i++) {
    for (let p = i * plane; p < (i + 1) * plane; p++) sumSq[i % c] += (x.data[p] - mean2[i % c]) ** 2;
  }
  return { mean: mean2, sumSq, count };
}
function normalizeChannels(x, mean2, variance, gamma, beta, eps) {
  const [n, c] = x.shape;
  const plane = size(x.shape.slice(2));
  const y = hostTensor(x.shape);
  for (let i = 0; i < n * c; i++) {
    const ch = i % c;
    const scale = (gamma === null ? 1 : gamma.data[ch]) / Math.sqrt(variance[ch] + eps);
    const shift = beta === null ? 0 : beta.data[ch];
    for (let p = i * plane; p < (i + 1) * plane; p++) y.data[p] = (x.data[p] - mean2[ch]) * scale + shift;
  }
  return y;
}
function batchNormTrainCpu(x, gamma, beta, eps = 1e-5) {
  const { mean: mean2, sumSq, count } = channelMoments(x);
  const c = mean2.length;
  const variance = sumSq.map((s) => s / count);
  const varUnbiased = sumSq.map((s) => count > 1 ? s / (count - 1) : NaN);
  return {
    y: normalizeChannels(x, mean2, variance, gamma, beta, eps),
    mean: hostTensor([c], mean2),
    var: hostTensor([c], variance),
    varUnbiased: hostTensor([c], varUnbiased)
  };
}
function batchNormEvalCpu(x, runningMean, runningVar, gamma, beta, eps = 1e-5) {
  return normalizeChannels(x, runningMean.data, runningVar.data, gamma, beta, eps);
}
function sourceIndex(i, n, mode) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case "zeros":
      return -1;
    case "replicate":
      return i < 0 ? 0 : n - 1;
    case "reflect":
      return i < 0 ? -i : 2 * (n - 1) - i;
  }
}
function padCpu(x, pad, mode = "zeros", value = 0) {
  const [n, c, h, w] = expectRank(x, 4, "pad");
  const [top, bottom, left, right] = pad;
  if (Math.min(top, bottom, left, right) < 0) throw new Error("pad: negative padding is not supported");
  if (mode === "reflect" && (Math.max(top, bottom) >= h || Math.max(left, right) >= w)) {
    throw new Error(`pad: reflect padding [${pad.join(", ")}] needs pads smaller than the input ${h}x${w}`);
  }
  const oh = h + top + bottom;
  const ow = w + left + right;
  const y = hostTensor([n, c, oh, ow]);
  const colSource = Array.from({ length: ow }, (_, j) => sourceIndex(j - left, w, mode));
  for (let plane = 0; plane < n * c; plane++) {
    for (let i = 0; i < oh; i++) {
      const si = sourceIndex(i - top, h, mode);
      const out = (plane * oh + i) * ow;
      for (let j = 0; j < ow; j++) {
        const sj = colSource[j];
        y.data[out + j] = si < 0 || sj < 0 ? value : x.data[(plane * h + si) * w + sj];
      }
    }
  }
  return y;
}
function upsampleNearestCpu(x, scale) {
  const [n, c, h, w] = expectRank(x, 4, "upsampleNearest");
  const [sh, sw] = scale;
  if (!Number.isInteger(sh) || !Number.isInteger(sw) || sh < 1 || sw < 1) throw new Error("upsampleNearest: scales must be positive integers");
  const oh = h * sh;
  const ow = w * sw;
  const y = hostTensor([n, c, oh, ow]);
  for (let plane = 0; plane < n * c; plane++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        y.data[(plane * oh + i) * ow + j] = x.data[(plane * h + Math.floor(i / sh)) * w + Math.floor(j / sw)];
      }
    }
  }
  return y;
}
function bilinearTaps(inSize, outSize, alignCorners) {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const frac = new Float64Array(outSize);
  for (let d = 0; d < outSize; d++) {
    let src;
    if (alignCorners) src = outSize > 1 ? d * (inSize - 1) / (outSize - 1) : 0;
    else src = Math.max((d + 0.5) * inSize / outSize - 0.5, 0);
    const lo = Math.min(Math.floor(src), inSize - 1);
    i0[d] = lo;
    i1[d] = Math.min(lo + 1, inSize - 1);
    frac[d] = src - lo;
  }
  return { i0, i1, frac };
}
function upsampleBilinearCpu(x, outH, outW, alignCorners) {
  const [n, c, h, w] = expectRank(x, 4, "upsampleBilinear");
  const rows = bilinearTaps(h, outH, alignCorners);
  const cols = bilinearTaps(w, outW, alignCorners);
  const y = hostTensor([n, c, outH, outW]);
  for (let plane = 0; plane < n * c; plane++) {
    const base = plane * h * w;
    for (let i = 0; i < outH; i++) {
      const r0 = base + rows.i0[i] * w;
      const r1 = base + rows.i1[i] * w;
      const fy = rows.frac[i];
      for (let j = 0; j < outW; j++) {
        const c0 = cols.i0[j];
        const c1 = cols.i1[j];
        const fx = cols.frac[j];
        const top = (1 - fx) * x.data[r0 + c0] + fx * x.data[r0 + c1];
        const bottom = (1 - fx) * x.data[r1 + c0] + fx * x.data[r1 + c1];
        y.data[(plane * outH + i) * outW + j] = (1 - fy) * top + fy * bottom;
      }
    }
  }
  return y;
}
function asPair(v) {
  return typeof v === "number" ? [v, v] : v;
}
function avgPool2dCpu(x, kernel, stride = null, padding = 0, countIncludePad = true) {
  const [n, c, h, w] = expectRank(x, 4, "avgPool2d");
  const [kh, kw] = asPair(kernel);
  const [sh, sw] = asPair(stride ?? kernel);
  const [ph, pw] = asPair(padding);
  if (2 * ph > kh || 2 * pw > kw) throw new Error("avgPool2d: padding must be at most half the kernel");
  const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
  const y = hostTensor([n, c, oh, ow]);
  for (let plane = 0; plane < n * c; plane++) {
    for (let i = 0; i < oh; i++) {
      const h0 = i * sh - ph;
      const hLo = Math.max(h0, 0);
      const hHi = Math.min(h0 + kh, h);
      for (let j = 0; j < ow; j++) {
        const w0 = j * sw - pw;
        const wLo = Math.max(w0, 0);
        const wHi = Math.min(w0 + kw, w);
        let sum2 = 0;
        for (let r = hLo; r < hHi; r++) {
          for (let q = wLo; q < wHi; q++) sum2 += x.data[(plane * h + r) * w + q];
        }
        const count = countIncludePad ? kh * kw : (hHi - hLo) * (wHi - wLo);
        y.data[(plane * oh + i) * ow + j] = sum2 / count;
      }
    }
  }
  return y;
}

// engine/ops/norm.ts
function geometry(kind, x) {
  const [N, C] = x.shape;
  const plane = numel(x.shape.slice(2));
  return kind === "instance" ? { kind, N, C, plane, G: N * C, M: plane } : { kind, N, C, plane, G: C, M: N * plane };
}
function checkParam(op, t, C, what, x) {
  if (!t) return;
  checkFloat(op, t);
  if (t.rank !== 1 || t.shape[0] !== C) {
    throw new Error(`${op}: ${what} has shape ${fmtShape(t.shape)} but x ${fmtShape(x.shape)} has ${C} channels; pass a [${C}] tensor (or null for none)`);
  }
}
function actOf(op, opts) {
  const act = opts.activation ?? "none";
  if (act !== "none" && act !== "relu" && act !== "leaky_relu") throw new Error(`${op}: unknown activation '${String(act)}'; use 'relu' or 'leaky_relu'`);
  const slope = act === "leaky_relu" ? opts.slope ?? 0.01 : 0;
  if (!(slope >= 0)) throw new Error(`${op}: fused leaky_relu needs slope >= 0 (got ${slope}); apply leakyRelu() separately for a negative slope`);
  return { act, slope };
}
function cacheSize(items, max2) {
  const per = Math.ceil(items / NORM_WG);
  for (let k = 1; k <= max2; k *= 2) if (per <= k) return k;
  return 0;
}
function groupGrid(G) {
  const gx = Math.min(G, 65535);
  return [gx, Math.ceil(G / gx), 1];
}
var chanShape = (x, C) => [1, C, ...Array(x.rank - 2).fill(1)];
function forwardRaw(op, geo, x, gamma, beta, eps, act, slope, running) {
  const vec4 = geo.plane % 4 === 0;
  const VW = vec4 ? 4 : 1;
  const P = geo.plane / VW;
  const items = geo.M / VW;
  const run = running && (running.mean || running.var) ? running : null;
  const o = { kind: geo.kind, vec4, gamma: !!gamma, beta: !!beta, act, running: !!run, cache: cacheSize(items, NORM_MAX_CACHE) };
  const y = empty(x.shape, op);
  const stats = empty([geo.G, 2], `${op}_stats`);
  const scratch = run && (!run.mean || !run.var) ? empty([geo.C], op) : null;
  const rm = run ? run.mean ?? scratch : null;
  const rv = run ? run.var ?? scratch : null;
  const tensors = [x, ...gamma ? [gamma] : [], ...beta ? [beta] : [], y, stats, ...rm && rv ? [rm, rv] : []];
  if (geo.G > 0 && geo.M > 0) {
    launch(
      { key: normKey("norm_forward", o), code: normForwardSource(o), bindings: normForwardBindings(o), op },
      tensors,
      [geo.G, items, P, geo.C, f32(1 / geo.M), f32(eps), f32(slope), f32(run?.momentum ?? 0), f32(geo.M > 1 ? geo.M / (geo.M - 1) : 0), 0, 0, 0],
      groupGrid(geo.G),
      { op, bytes: 8 * x.size }
    );
  }
  scratch?.dispose();
  return { y, stats };
}
function gradAtZ(g, y, act, slope) {
  if (act === "none") return g;
  const step = stepMask(y);
  return mul(g, act === "relu" ? step : affine(step, 1 - slope, slope));
}
function statAxes(kind, rank) {
  const spatial = [...Array(rank).keys()].slice(2);
  return kind === "instance" ? spatial : [0, ...spatial];
}
function backwardComposed(geo, g, x, y, gamma, eps, act, slope, want) {
  const axes = statAxes(geo.kind, x.rank);
  const paramAxes = statAxes("batch", x.rank);
  const mu = mean(x, axes, true);
  const xc = sub(x, mu);
  const rstd = rsqrt(addScalar(mean(square(xc), axes, true), eps));
  const xhat = mul(xc, rstd);
  const gz = gradAtZ(g, y, act, slope);
  let dx = null;
  if (want[0]) {
    const dxhat = gamma ? mul(gz, reshape(gamma, chanShape(x, geo.C))) : gz;
    const inner = sub(sub(dxhat, mean(dxhat, axes, true)), mul(xhat, mean(mul(dxhat, xhat), axes, true)));
    dx = mul(rstd, inner);
  }
  const dgamma = want[1] ? reshape(sum(mul(gz, xhat), paramAxes), [geo.C]) : null;
  const dbeta = want[2] ? reshape(sum(gz, paramAxes), [geo.C]) : null;
  return { dx, dgamma, dbeta };
}
function backwardFused(op, geo, g, x, y, stats, gamma, act, slope, want) {
  const vec4 = geo.plane % 4 === 0;
  const VW = vec4 ? 4 : 1;
  const items = geo.M / VW;
  const o = { kind: geo.kind, vec4, gamma: !!gamma, beta: false, act, running: false, cache: cacheSize(items, NORM_MAX_CACHE_BACKWARD) };
  const dx = empty(x.shape, `${op}_backward`);
  const sumG = empty([geo.G], `${op}_backward`);
  const sumGX = empty([geo.G], `${op}_backward`);
  launch(
    { key: normKey("norm_backward", o), code: normBackwardSource(o), bindings: normBackwardBindings(o), op: `${op}_backward` },
    [g, x, stats, ...gamma ? [gamma] : [], ...act !== "none" ? [y] : [], dx, sumG, sumGX],
    [geo.G, items, geo.plane / VW, geo.C, f32(1 / geo.M), f32(slope), 0, 0],
    groupGrid(geo.G),
    { op: `${op}_backward`, bytes: (act !== "none" ? 16 : 12) * x.size }
  );
  const perChannel = (t) => geo.kind === "batch" || geo.N === 1 ? reshape(t, [geo.C]) : sum(reshape(t, [geo.N, geo.C]), 0);
  const dbeta = want[2] ? perChannel(sumG) : null;
  const dgamma = want[1] ? perChannel(sumGX) : null;
  return { dx: want[0] ? dx : (dx.dispose(), null), dgamma, dbeta };
}
function recordTrainNorm(op, geo, x, gamma, beta, y, stats, eps, act, slope) {
  const inputs = [x, ...gamma ? [gamma] : [], ...beta ? [beta] : []];
  return record(y, op, inputs, (g) => {
    const want = [x.requiresGrad, !!gamma?.requiresGrad, !!beta?.requiresGrad];
    const r = !isGradEnabled() && !stats.isDisposed ? backwardFused(op, geo, g, x, y, stats, gamma, act, slope, want) : backwardComposed(geo, g, x, y, gamma, eps, act, slope, want);
    return [r.dx, ...gamma ? [r.dgamma] : [], ...beta ? [r.dbeta] : []];
  });
}
function instanceNorm(x, gamma = null, beta = null, opts = {}) {
  const op = "instance_norm";
  checkFloat(op, x);
  if (x.rank < 3) throw new Error(`instance_norm: x must be [N, C, H, W] (or [N, C, ...spatial]), got ${fmtShape(x.shape)}; use batchNorm or reshape`);
  const geo = geometry("instance", x);
  checkParam(op, gamma, geo.C, "gamma", x);
  checkParam(op, beta, geo.C, "beta", x);
  const eps = opts.eps ?? 1e-5;
  const { act, slope } = actOf(op, opts);
  const { y, stats } = forwardRaw(op, geo, x, gamma, beta, eps, act, slope, null);
  return recordTrainNorm(op, geo, x, gamma, beta, y, stats, eps, act, slope);
}
function batchNorm(x, gamma, beta, opts) {
  const op = "batch_norm";
  checkFloat(op, x);
  if (x.rank < 2) throw new Error(`batch_norm: x must be [N, C] or [N, C, H, W], got ${fmtShape(x.shape)}`);
  const geo = geometry("batch", x);
  checkParam(op, gamma, geo.C, "gamma", x);
  checkParam(op, beta, geo.C, "beta", x);
  checkParam(op, opts.runningMean, geo.C, "runningMean", x);
  checkParam(op, opts.runningVar, geo.C, "runningVar", x);
  const eps = opts.eps ?? 1e-5;
  const { act, slope } = actOf(op, opts);
  if (opts.training) {
    if (geo.M <= 1) {
      throw new Error(`batch_norm: training needs more than 1 value per channel, got x ${fmtShape(x.shape)}; use a batch of 2 or more, or eval mode (training: false)`);
    }
    const momentum = opts.momentum ?? 0.1;
    const running = opts.runningMean || opts.runningVar ? { mean: opts.runningMean ?? null, var: opts.runningVar ?? null, momentum } : null;
    const { y, stats } = forwardRaw(op, geo, x, gamma, beta, eps, act, slope, running);
    return recordTrainNorm(op, geo, x, gamma, beta, y, stats, eps, act, slope);
  }
  const rm = opts.runningMean;
  const rv = opts.runningVar;
  if (!rm || !rv) throw new Error(`batch_norm: eval mode (training: false) needs runningMean and runningVar ([${geo.C}] tensors)`);
  return batchNormEval(geo, x, gamma, beta, rm, rv, eps, act, slope);
}
function batchNormEval(geo, x, gamma, beta, rm, rv, eps, act, slope) {
  const op = "batch_norm";
  const vec4 = geo.plane % 4 === 0;
  const VW = vec4 ? 4 : 1;
  const o = { kind: "batch", vec4, gamma: !!gamma, beta: !!beta, act, running: false, cache: 0 };
  const y = empty(x.shape, op);
  const n = x.size / VW;
  if (n > 0) {
    launch(
      { key: normKey("norm_eval", o), code: normEvalSource(o), bindings: normEvalBindings(o), op },
      [x, rm, rv, ...gamma ? [gamma] : [], ...beta ? [beta] : [], y],
      [n, geo.plane / VW, geo.C, 0, f32(eps), f32(slope), 0, 0],
      grid1d(n, NORM_WG),
      { op, bytes: 8 * x.size }
    );
  }
  const inputs = [x, ...gamma ? [gamma] : [], ...beta ? [beta] : []];
  return record(y, op, inputs, (g) => {
    const cs = chanShape(x, geo.C);
    const rstd = reshape(rsqrt(addScalar(rv, eps)), cs);
    const gz = gradAtZ(g, y, act, slope);
    const paramAxes = statAxes("batch", x.rank);
    const dx = x.requiresGrad ? mul(gz, gamma ? mul(rstd, reshape(gamma, cs)) : rstd) : null;
    const dgamma = gamma?.requiresGrad ? reshape(sum(mul(gz, mul(sub(x, reshape(rm, cs)), rstd)), paramAxes), [geo.C]) : null;
    const dbeta = beta?.requiresGrad ? reshape(sum(gz, paramAxes), [geo.C]) : null;
    return [dx, ...gamma ? [dgamma] : [], ...beta ? [dbeta] : []];
  });
}
function applyAct(y, act, slope) {
  if (!act) return y;
  return { shape: y.shape, data: y.data.map((v) => v > 0 ? v : act === "relu" ? 0 : slope * v) };
}
var normOpts = (a) => ({ eps: a.eps, activation: a.act, slope: a.slope });
registerOp({
  name: "instance_norm",
  run: ([x, g, b], a) => instanceNorm(x, g ?? null, b ?? null, normOpts(a)),
  reference: ([x, g, b], a) => {
    const at = a;
    return applyAct(instanceNormCpu(x, g ?? null, b ?? null, at.eps ?? 1e-5), at.act, at.slope ?? 0.01);
  },
  cases: [
    { shapes: [[2, 3, 5, 7], [3], [3]], attrs: { affine: true } },
    { shapes: [[1, 2, 6, 6]] },
    { shapes: [[2, 2, 4, 5], [2], [2]], attrs: { affine: true, act: "leaky_relu", slope: 0.2 } },
    { shapes: [[1, 3, 4, 4], [3], [3]], attrs: { affine: true, act: "relu" } },
    { shapes: [[3, 1, 9]], attrs: { eps: 1e-3 } }
  ],
  doubleBackward: true
});
registerOp({
  name: "batch_norm",
  run: ([x, g, b, rm, rv], a) => {
    const at = a;
    return batchNorm(x, g ?? null, b ?? null, { ...normOpts(at), training: at.training !== false, runningMean: rm, runningVar: rv });
  },
  reference: ([x, g, b, rm, rv], a) => {
    const at = a;
    const y = at.training === false ? batchNormEvalCpu(x, rm, rv, g ?? null, b ?? null, at.eps ?? 1e-5) : batchNormTrainCpu(x, g ?? null, b ?? null, at.eps ?? 1e-5).y;
    return applyAct(y, at.act, at.slope ?? 0.01);
  },
  cases: [
    { shapes: [[2, 3, 5, 7], [3], [3]], attrs: { affine: true } },
    { shapes: [[3, 2, 4, 4]] },
    { shapes: [[5, 4], [4], [4]], attrs: { affine: true } },
    { shapes: [[2, 3, 3, 4], [3], [3]], attrs: { affine: true, act: "leaky_relu", slope: 0.2 } },
    { shapes: [[4, 2, 3, 3], [2], [2]], attrs: { affine: true, act: "relu" } },
    // Eval: inputs x, gamma, beta, running mean, running var (the running stats get no gradient).
    { label: "eval [2x3x5x5]", shapes: [[2, 3, 5, 5], [3], [3], [3], [3]], attrs: { training: false, affine: true }, gradInputs: [true, true, true, false, false] },
    { label: "eval relu [3x2x4]", shapes: [[3, 2, 4], [2], [2], [2], [2]], attrs: { training: false, affine: true, act: "relu" }, gradInputs: [true, true, true, false, false] }
  ],
  doubleBackward: true,
  // The running variance must be positive.
  sample: (shape, i, rand2) => Float64Array.from({ length: numel(shape) }, () => {
    const r = rand2();
    return i === 4 ? 0.3 + r : (r < 0.5 ? -1 : 1) * (0.05 + 1.9 * Math.abs(r - 0.5));
  })
});

// shaders/spatial.ts
var SPATIAL_WG = 256;
var io = (
  /* wgsl */
  `
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;`
);
var split3 = (R, Cn) => (
  /* wgsl */
  `
  let plane = i / (${R} * ${Cn});
  let rc = i % (${R} * ${Cn});
  let r = i32(rc / ${Cn});
  let c = i32(rc % ${Cn});`
);
var padParams = (
  /* wgsl */
  `
struct Params { n: u32, H: u32, W: u32, OH: u32, OW: u32, top: u32, left: u32, value: f32 }
@group(0) @binding(0) var<uniform> u: Params;`
);
function padSource(mode) {
  return wgsl`${padParams}${io}
// Source index along one axis of length n for the padded position k (may be outside [0, n)).
fn src(k: i32, n: i32) -> i32 {
#if ${mode === "zeros"}
  return select(-1, k, k >= 0 && k < n);
#elif ${mode === "replicate"}
  return clamp(k, 0, n - 1);
#else
  if (k < 0) { return -k; }
  if (k >= n) { return 2 * (n - 1) - k; }
  return k;
#endif
}
${main1d(SPATIAL_WG)} {
  let i = ${index1d(SPATIAL_WG)};
  if (i >= u.n) { return; }
  ${split3("u.OH", "u.OW")}
  let si = src(r - i32(u.top), i32(u.H));
  let sj = src(c - i32(u.left), i32(u.W));
  var v = u.value;
  if (si >= 0 && sj >= 0) { v = x[(plane * u.H + u32(si)) * u.W + u32(sj)]; }
  y[i] = v;
}`;
}
function padAdjointSource(mode) {
  return wgsl`${padParams}${io}
// Inclusive ranges of padded positions along one axis that read source index a (empty: x > y).
fn hits(a: i32, n: i32, before: i32, outN: i32) -> array<vec2<i32>, 3> {
  var h = array<vec2<i32>, 3>(vec2<i32>(a + before), vec2<i32>(0, -1), vec2<i32>(0, -1));
#if ${mode === "reflect"}
  if (a >= 1 && a <= before) { h[1] = vec2<i32>(before - a); }
  let m = before + 2 * (n - 1) - a;
  if (a <= n - 2 && m < outN) { h[2] = vec2<i32>(m); }
#elif ${mode === "replicate"}
  if (a == 0) { h[0].x = 0; }
  if (a == n - 1) { h[0].y = outN - 1; }
#endif
  return h;
}
${main1d(SPATIAL_WG)} {
  let i = ${index1d(SPATIAL_WG)};
  if (i >= u.n) { return; }
  ${split3("u.H", "u.W")}
  let hr = hits(r, i32(u.H), i32(u.top), i32(u.OH));
  let hc = hits(c, i32(u.W), i32(u.left), i32(u.OW));
  let base = i32(plane * u.OH);
  var acc = 0.0;
  for (var q = 0; q < 3; q++) {
    for (var oi = hr[q].x; oi <= hr[q].y; oi++) {
      let row = u32(base + oi) * u.OW;
      for (var t = 0; t < 3; t++) {
        for (var oj = hc[t].x; oj <= hc[t].y; oj++) { acc += x[row + u32(oj)]; }
      }
    }
  }
  y[i] = acc;
}`;
}
function nearestSource() {
  return (
    /* wgsl */
    `
struct Params { n: u32, H: u32, W: u32, OH: u32, OW: u32, sh: u32, sw: u32, pad0: u32 }
@group(0) @binding(0) var<uniform> u: Params;${io}
${main1d(SPATIAL_WG)} {
  let i = ${index1d(SPATIAL_WG)};
  if (i >= u.n) { return; }
  ${split3("u.OH", "u.OW")}
  y[i] = x[(plane * u.H + u32(r) / u.sh) * u.W + u32(c) / u.sw];
}`
  );
}
var poolParams = (
  /* wgsl */
  `
struct Params { n: u32, H: u32, W: u32, OH: u32, OW: u32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, mul: f32 }
@group(0) @binding(0) var<uniform> u: Params;`
);
function poolSource() {
  return (
    /* wgsl */
    `${poolParams}${io}
${main1d(SPATIAL_WG)} {
  let i = ${index1d(SPATIAL_WG)};
  if (i >= u.n) { return; }
  ${split3("u.OH", "u.OW")}
  let h0 = r * u.sh - u.ph;
  let w0 = c * u.sw - u.pw;
  let hHi = min(h0 + u.kh, i32(u.H));
  let wHi = min(w0 + u.kw, i32(u.W));
  var acc = 0.0;
  for (var a = max(h0, 0); a < hHi; a++) {
    let row = (plane * u.H + u32(a)) * u.W;
    for (var b = max(w0, 0); b < wHi; b++) { acc += x[row + u32(b)]; }
  }
  y[i] = acc * u.mul;
}`
  );
}
function poolAdjointSource() {
  return (
    /* wgsl */
    `${poolParams}${io}
// Inclusive range of window indices along one axis whose window covers a.
fn windows(a: i32, k: i32, s: i32, pd: i32, outN: i32) -> vec2<i32> {
  let t = a + pd - k + 1;
  let lo = select(0, (t + s - 1) / s, t > 0);
  let hi = min((a + pd) / s, outN - 1);
  return vec2<i32>(lo, hi);
}
${main1d(SPATIAL_WG)} {
  let i = ${index1d(SPATIAL_WG)};
  if (i >= u.n) { return; }
  ${split3("u.H", "u.W")}
  let wr = windows(r, u.kh, u.sh, u.ph, i32(u.OH));
  let wc = windows(c, u.kw, u.sw, u.pw, i32(u.OW));
  var acc = 0.0;
  for (var oi = wr.x; oi <= wr.y; oi++) {
    let row = (plane * u.OH + u32(oi)) * u.OW;
    for (var oj = wc.x; oj <= wc.y; oj++) { acc += x[row + u32(oj)]; }
  }
  y[i] = acc * u.mul;
}`
  );
}
function bilinearCommon(alignCorners) {
  return wgsl`
struct Params { n: u32, H: u32, W: u32, OH: u32, OW: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> u: Params;${io}
// Source coordinate of output index d (PyTorch's rule for an explicit output size).
fn srcCoord(d: i32, inN: u32, outN: u32) -> f32 {
#if ${alignCorners}
  if (outN > 1u) { return f32(d) * f32(inN - 1u) / f32(outN - 1u); }
  return 0.0;
#else
  return max((f32(d) + 0.5) * f32(inN) / f32(outN) - 0.5, 0.0);
#endif
}
struct Tap { lo: i32, hi: i32, frac: f32 }
fn tap(d: i32, inN: u32, outN: u32) -> Tap {
  let s = srcCoord(d, inN, outN);
  let lo = min(i32(floor(s)), i32(inN) - 1);
  return Tap(lo, min(lo + 1, i32(inN) - 1), s - f32(lo));
}`;
}
function bilinearSource(alignCorners) {
  return (
    /* wgsl */
    `${bilinearCommon(alignCorners)}
${main1d(SPATIAL_WG)} {
  let i = ${index1d(SPATIAL_WG)};
  if (i >= u.n) { return; }
  ${split3("u.OH", "u.OW")}
  let ty = tap(r, u.H, u.OH);
  let tx = tap(c, u.W, u.OW);
  let r0 = (plane * u.H + u32(ty.lo)) * u.W;
  let r1 = (plane * u.H + u32(ty.hi)) * u.W;
  let top = (1.0 - tx.frac) * x[r0 + u32(tx.lo)] + tx.frac * x[r0 + u32(tx.hi)];
  let bottom = (1.0 - tx.frac) * x[r1 + u32(tx.lo)] + tx.frac * x[r1 + u32(tx.hi)];
  y[i] = (1.0 - ty.frac) * top + ty.frac * bottom;
}`
  );
}
function bilinearAdjointSource(alignCorners) {
  return wgsl`${bilinearCommon(alignCorners)}
// Weight of input index a in the interpolation of output index d.
fn weight(d: i32, a: i32, inN: u32, outN: u32) -> f32 {
  let t = tap(d, inN, outN);
  return select(0.0, 1.0 - t.frac, t.lo == a) + select(0.0, t.frac, t.hi == a);
}
// A range of output indices that contains every output reading input a (with a margin; the
// weights decide exactly).
fn outRange(a: i32, inN: u32, outN: u32) -> vec2<i32> {
  let last = i32(outN) - 1;
  if (inN <= 1u || outN <= 1u) { return vec2<i32>(0, last); }
#if ${alignCorners}
  let k = f32(outN - 1u) / f32(inN - 1u);
  let lo = floor(f32(a - 1) * k) - 1.0;
  let hi = ceil(f32(a + 1) * k) + 1.0;
#else
  let k = f32(outN) / f32(inN);
  let lo = floor((f32(a) - 0.5) * k - 0.5) - 1.0;
  let hi = ceil((f32(a) + 1.5) * k - 0.5) + 1.0;
#endif
  return vec2<i32>(max(i32(lo), 0), min(i32(hi), last));
}
${main1d(SPATIAL_WG)} {
  let i = ${index1d(SPATIAL_WG)};
  if (i >= u.n) { return; }
  ${split3("u.H", "u.W")}
  let rr = outRange(r, u.H, u.OH);
  let cr = outRange(c, u.W, u.OW);
  var acc = 0.0;
  for (var d = rr.x; d <= rr.y; d++) {
    let wy = weight(d, r, u.H, u.OH);
    if (wy == 0.0) { continue; }
    let row = (plane * u.OH + u32(d)) * u.OW;
    var s = 0.0;
    for (var e = cr.x; e <= cr.y; e++) { s += weight(e, c, u.W, u.OW) * x[row + u32(e)]; }
    acc += wy * s;
  }
  y[i] = acc;
}`;
}
function pyramidSource(mode) {
  return wgsl`
struct Params { n: u32, inH: u32, inW: u32, outH: u32, outW: u32, fH: i32, fW: i32, cH: i32, cW: i32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> u: Params;${io}
const MAXTAPS = 16;
struct Taps { idx: array<i32, MAXTAPS>, w: array<f32, MAXTAPS>, n: i32 }

// Binomial tap g[s] for s in -2..2.
fn g5(s: i32) -> f32 {
  let a = abs(s);
  return select(select(0.0625, 0.25, a == 1), 0.375, a == 0);
}
fn refl(k: i32, n: i32) -> i32 {
  if (k < 0) { return -k; }
  if (k >= n) { return 2 * (n - 1) - k; }
  return k;
}
fn push(t: ptr<function, Taps>, idx: i32, w: f32) {
  (*t).idx[(*t).n] = idx;
  (*t).w[(*t).n] = w;
  (*t).n += 1;
}
struct Taps3 { idx: vec3<u32>, w: vec3<f32> }
// The coarse taps of fine output index o for pyrUp (see main); unused slots get weight 0.
fn upTaps(o: i32, nF: i32) -> Taps3 {
  if ((o & 1) == 0) {
    return Taps3(vec3<u32>(u32(refl(o - 2, nF) >> 1u), u32(o >> 1u), u32(refl(o + 2, nF) >> 1u)), vec3<f32>(0.125, 0.75, 0.125));
  }
  return Taps3(vec3<u32>(u32(refl(o - 1, nF) >> 1u), u32(refl(o + 1, nF) >> 1u), 0u), vec3<f32>(0.5, 0.5, 0.0));
}
// Member c (0..2) of P(q): the unreflected fine positions that reflect onto q; -1000000 if none.
fn hitPos(c: i32, q: i32, nF: i32) -> i32 {
  if (c == 0) { return q; }
  if (c == 1) { return select(-1000000, -q, q >= 1); }
  return select(-1000000, 2 * (nF - 1) - q, q <= nF - 2);
}
// The (source index, weight) taps of output index o along one axis (the transposed resamplers).
fn taps(o: i32, nF: i32, nC: i32) -> Taps {
  var t: Taps;
#if ${mode === "downT"}
  // o is a fine index; coarse outputs i with 2i + s in P(o) read it with weight g[s].
  for (var c = 0; c < 3; c++) {
    let q = hitPos(c, o, nF);
    if (q == -1000000) { continue; }
    for (var i = (q - 2) >> 1u; i <= (q + 2) >> 1u; i++) {
      let s = q - 2 * i;
      if (i >= 0 && i < nC && s >= -2 && s <= 2) { push(&t, i, g5(s)); }
    }
  }
#else
  // o is a coarse index (fine position 2o); fine outputs i with i + s in P(2o) read it with 2 g[s].
  for (var c = 0; c < 3; c++) {
    let q = hitPos(c, 2 * o, nF);
    if (q == -1000000) { continue; }
    for (var s = -2; s <= 2; s++) {
      let i = q - s;
      if (i >= 0 && i < nF) { push(&t, i, 2.0 * g5(s)); }
    }
  }
#endif
  return t;
}
${main1d(SPATIAL_WG)} {
  let i = ${index1d(SPATIAL_WG)};
  if (i >= u.n) { return; }
  ${split3("u.outH", "u.outW")}
  let base = plane * u.inH;
  var acc = 0.0;
#if ${mode === "down"}
  // 5 x 5 taps around (2r, 2c) of the fine input.
  let c2 = 2 * c;
  let j0 = u32(refl(c2 - 2, u.fW));
  let j1 = u32(refl(c2 - 1, u.fW));
  let j2 = u32(c2);
  let j3 = u32(refl(c2 + 1, u.fW));
  let j4 = u32(refl(c2 + 2, u.fW));
  for (var s = -2; s <= 2; s++) {
    let row = (base + u32(refl(2 * r + s, u.fH))) * u.inW;
    let h = 0.0625 * (x[row + j0] + x[row + j4]) + 0.25 * (x[row + j1] + x[row + j3]) + 0.375 * x[row + j2];
    acc += g5(s) * h;
  }
#elif ${mode === "up"}
  // Reflection keeps parity, so output r reads the coarse rows of the even positions among r-2..r+2:
  // r even: (r-2, r, r+2) with 2g = (1/8, 3/4, 1/8); r odd: (r-1, r+1) with (1/2, 1/2).
  let rt = upTaps(r, u.fH);
  let ct = upTaps(c, u.fW);
  for (var k = 0; k < 3; k++) {
    let row = (base + rt.idx[k]) * u.inW;
    acc += rt.w[k] * (ct.w[0] * x[row + ct.idx[0]] + ct.w[1] * x[row + ct.idx[1]] + ct.w[2] * x[row + ct.idx[2]]);
  }
#else
  let tr = taps(r, u.fH, u.cH);
  let tc = taps(c, u.fW, u.cW);
  for (var k = 0; k < tr.n; k++) {
    let row = (base + u32(tr.idx[k])) * u.inW;
    var s = 0.0;
    for (var m = 0; m < tc.n; m++) { s += tc.w[m] * x[row + u32(tc.idx[m])]; }
    acc += tr.w[k] * s;
  }
#endif
  y[i] = acc;
}`;
}

// engine/ops/spatial.ts
var PAD_MODES = ["zeros", "reflect", "replicate"];
function spatialExpect4d(op, x) {
  checkFloat(op, x);
  if (x.rank !== 4) throw new Error(`${op}: expects x of shape [N, C, H, W], got ${fmtShape(x.shape)}; reshape it (e.g. add a batch or channel dim)`);
  return x.shape;
}
function pairOf(op, what, v, min2) {
  const p = typeof v === "number" ? [v, v] : [v[0], v[1]];
  if (p.length !== 2 || !p.every((k) => Number.isInteger(k) && k >= min2)) {
    throw new Error(`${op}: ${what} must be an integer >= ${min2} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}
function run1d(key, code, x, out, uniforms, info) {
  if (out.size > 0) {
    launch({ key, code, bindings: ["read", "rw"], op: info.op }, [x, out], [out.size, ...uniforms], grid1d(out.size, SPATIAL_WG), info);
  }
  return out;
}
function checkPad(op, x, pad, mode) {
  const [, , h, w] = x.shape;
  if (!PAD_MODES.includes(mode)) throw new Error(`${op}: unknown mode '${String(mode)}'; use 'zeros', 'reflect' or 'replicate'`);
  if (!Array.isArray(pad) || pad.length !== 4 || !pad.every((p) => Number.isInteger(p) && p >= 0)) {
    throw new Error(`${op}: padding must be 4 integers >= 0 [top, bottom, left, right], got ${JSON.stringify(pad)}`);
  }
  const [top, bottom, left, right] = pad;
  if (mode === "reflect" && (Math.max(top, bottom) >= h || Math.max(left, right) >= w)) {
    throw new Error(
      `${op}: reflect padding [${pad.join(", ")}] needs each pad smaller than the input dim it pads, but x is ${fmtShape(x.shape)} (H ${h} allows at most ${h - 1}, W ${w} at most ${w - 1}); use smaller padding, mode 'replicate', or pad in steps`
    );
  }
  if (mode === "replicate" && (h === 0 || w === 0) && pad.some((p) => p > 0)) {
    throw new Error(`${op}: replicate padding of an empty input ${fmtShape(x.shape)} has nothing to repeat`);
  }
}
function pad2d(x, pad, mode = "zeros", value = 0) {
  const op = `pad2d_${mode}`;
  const [n, c, h, w] = spatialExpect4d(op, x);
  checkPad(op, x, pad, mode);
  const [top, bottom, left, right] = pad;
  const oh = h + top + bottom;
  const ow = w + left + right;
  const y = empty([n, c, oh, ow], op);
  run1d(`pad2d|${mode}`, padSource(mode), x, y, [h, w, oh, ow, top, left, f32(mode === "zeros" ? value : 0)], { op });
  return record(y, op, [x], (g) => [pad2dAdjoint(g, [h, w], pad, mode)]);
}
function pad2dAdjoint(g, inSize, pad, mode) {
  const op = `pad2d_${mode}_adjoint`;
  const [n, c, oh, ow] = spatialExpect4d(op, g);
  const [h, w] = inSize;
  const [top, bottom, left, right] = pad;
  if (oh !== h + top + bottom || ow !== w + left + right) {
    throw new Error(`${op}: gradient ${fmtShape(g.shape)} does not match input ${h}x${w} padded by [${pad.join(", ")}]`);
  }
  const dx = empty([n, c, h, w], op);
  run1d(`pad2d_adjoint|${mode}`, padAdjointSource(mode), g, dx, [h, w, oh, ow, top, left, f32(0)], { op });
  return record(dx, op, [g], (gg) => [pad2d(gg, pad, mode, 0)]);
}
function poolUniforms(h, w, oh, ow, g) {
  return [h, w, oh, ow, i32(g.k[0]), i32(g.k[1]), i32(g.s[0]), i32(g.s[1]), i32(g.p[0]), i32(g.p[1]), f32(g.mul)];
}
function poolRaw(op, x, geo) {
  const [n, c, h, w] = x.shape;
  const oh = Math.floor((h + 2 * geo.p[0] - geo.k[0]) / geo.s[0]) + 1;
  const ow = Math.floor((w + 2 * geo.p[1] - geo.k[1]) / geo.s[1]) + 1;
  if (oh < 1 || ow < 1) {
    throw new Error(`${op}: kernel ${geo.k.join("x")} with padding ${geo.p.join("x")} does not fit input ${fmtShape(x.shape)}; use a smaller kernel or more padding`);
  }
  const y = empty([n, c, oh, ow], op);
  run1d("pool2d", poolSource(), x, y, poolUniforms(h, w, oh, ow, geo), { op });
  return record(y, op, [x], (g) => [poolAdjoint(g, [h, w], geo)]);
}
function poolAdjoint(g, inSize, geo) {
  const op = geo.mul === 1 ? "sum_pool2d_adjoint" : "avg_pool2d_adjoint";
  const [n, c, oh, ow] = g.shape;
  const [h, w] = inSize;
  const dx = empty([n, c, h, w], op);
  run1d("pool2d_adjoint", poolAdjointSource(), g, dx, poolUniforms(h, w, oh, ow, geo), { op });
  return record(dx, op, [g], (gg) => [poolRaw(geo.mul === 1 ? "sum_pool2d" : "avg_pool2d", gg, geo)]);
}
function avgPool2d(x, kernel, stride, padding = 0) {
  const op = "avg_pool2d";
  spatialExpect4d(op, x);
  const k = pairOf(op, "kernel", kernel, 1);
  const s = pairOf(op, "stride", stride ?? kernel, 1);
  const p = pairOf(op, "padding", padding, 0);
  if (2 * p[0] > k[0] || 2 * p[1] > k[1]) {
    throw new Error(`${op}: padding ${p.join("x")} must be at most half the kernel ${k.join("x")} (as in PyTorch); use a bigger kernel or pad2d first`);
  }
  return poolRaw(op, x, { k, s, p, mul: 1 / (k[0] * k[1]) });
}
function avgPool2dAdjoint(g, inSize, kernel, stride, padding = 0) {
  const op = "avg_pool2d_adjoint";
  spatialExpect4d(op, g);
  const k = pairOf(op, "kernel", kernel, 1);
  return poolAdjoint(g, inSize, { k, s: pairOf(op, "stride", stride ?? kernel, 1), p: pairOf(op, "padding", padding, 0), mul: 1 / (k[0] * k[1]) });
}
function upsampleNearest(x, scale) {
  const op = "upsample_nearest";
  const [n, c, h, w] = spatialExpect4d(op, x);
  const [sh, sw] = pairOf(op, "scale", scale, 1);
  const y = empty([n, c, h * sh, w * sw], op);
  run1d("upsample_nearest", nearestSource(), x, y, [h, w, h * sh, w * sw, sh, sw, 0], { op });
  return record(y, op, [x], (g) => [poolRaw("sum_pool2d", g, { k: [sh, sw], s: [sh, sw], p: [0, 0], mul: 1 })]);
}
function upsampleBilinear(x, opts) {
  const op = "upsample_bilinear";
  const [, , h, w] = spatialExpect4d(op, x);
  let oh;
  let ow;
  if (opts.size) {
    [oh, ow] = pairOf(op, "size", opts.size, 1);
  } else if (opts.scale !== void 0) {
    const s = typeof opts.scale === "number" ? [opts.scale, opts.scale] : opts.scale;
    if (!s.every((v) => v > 0 && Number.isFinite(v))) throw new Error(`${op}: scale must be positive, got ${JSON.stringify(opts.scale)}`);
    oh = Math.floor(h * s[0]);
    ow = Math.floor(w * s[1]);
    if (oh < 1 || ow < 1) throw new Error(`${op}: scale ${JSON.stringify(opts.scale)} gives an empty output for input ${fmtShape(x.shape)}`);
  } else {
    throw new Error(`${op}: pass { size: [h, w] } or { scale }`);
  }
  if (h < 1 || w < 1) throw new Error(`${op}: cannot interpolate an empty input ${fmtShape(x.shape)}`);
  return bilinearRaw(x, oh, ow, !!opts.alignCorners);
}
function bilinearRaw(x, oh, ow, align) {
  const op = "upsample_bilinear";
  const [n, c, h, w] = x.shape;
  const y = empty([n, c, oh, ow], op);
  run1d(`upsample_bilinear|ac${+align}`, bilinearSource(align), x, y, [h, w, oh, ow, 0, 0, 0], { op });
  return record(y, op, [x], (g) => [upsampleBilinearAdjoint(g, [h, w], align)]);
}
function upsampleBilinearAdjoint(g, inSize, alignCorners = false) {
  const op = "upsample_bilinear_adjoint";
  const [n, c, oh, ow] = spatialExpect4d(op, g);
  const [h, w] = pairOf(op, "input size", inSize, 1);
  const dx = empty([n, c, h, w], op);
  run1d(`upsample_bilinear_adjoint|ac${+alignCorners}`, bilinearAdjointSource(alignCorners), g, dx, [h, w, oh, ow, 0, 0, 0], { op });
  return record(dx, op, [g], (gg) => [bilinearRaw(gg, oh, ow, alignCorners)]);
}
function linearAdjointReference(f, inShape, g) {
  const n = numel(inShape);
  const out = new Float64Array(n);
  const e2 = { shape: inShape, data: new Float64Array(n) };
  for (let k = 0; k < n; k++) {
    e2.data.fill(0);
    e2.data[k] = 1;
    const y = f(e2).data;
    let s = 0;
    for (let m = 0; m < y.length; m++) s += y[m] * g.data[m];
    out[k] = s;
  }
  return { shape: inShape, data: out };
}
var pad4 = (a) => a.pad;
for (const mode of PAD_MODES) {
  registerOp({
    name: `pad2d_${mode}`,
    run: ([x], a) => pad2d(x, pad4(a), mode, a.value ?? 0),
    reference: ([x], a) => padCpu(x, pad4(a), mode, a.value ?? 0),
    cases: [
      { shapes: [[2, 3, 5, 7]], attrs: { pad: [1, 2, 3, 0], value: mode === "zeros" ? 0.5 : 0 } },
      { shapes: [[1, 2, 4, 3]], attrs: { pad: [3, 3, 2, 2] } },
      { shapes: [[1, 1, 6, 6]], attrs: { pad: [0, 1, 1, 0] } }
    ],
    doubleBackward: true
  });
  registerOp({
    name: `pad2d_${mode}_adjoint`,
    run: ([g], a) => pad2dAdjoint(g, a.in, pad4(a), mode),
    reference: ([g], a) => {
      const inShape = [g.shape[0], g.shape[1], ...a.in];
      return linearAdjointReference((x) => padCpu(x, pad4(a), mode, 0), inShape, g);
    },
    cases: [
      { shapes: [[1, 2, 8, 10]], attrs: { in: [5, 7], pad: [1, 2, 3, 0] } },
      { shapes: [[2, 1, 10, 7]], attrs: { in: [4, 3], pad: [3, 3, 2, 2] } }
    ],
    doubleBackward: true
  });
}
registerOp({
  name: "avg_pool2d",
  run: ([x], a) => {
    const at = a;
    return avgPool2d(x, at.k, at.s, at.p ?? 0);
  },
  reference: ([x], a) => {
    const at = a;
    return avgPool2dCpu(x, at.k, at.s ?? null, at.p ?? 0, true);
  },
  cases: [
    { shapes: [[2, 3, 5, 7]], attrs: { k: 2 } },
    { shapes: [[1, 2, 7, 6]], attrs: { k: 3, s: 2, p: 1 } },
    { shapes: [[1, 2, 5, 9]], attrs: { k: [2, 3], s: [1, 2], p: [1, 0] } },
    { shapes: [[1, 1, 7, 7]], attrs: { k: 2, s: 3 } }
  ],
  doubleBackward: true
});
registerOp({
  name: "avg_pool2d_adjoint",
  run: ([g], a) => {
    const at = a;
    return avgPool2dAdjoint(g, at.in, at.k, at.s, at.p ?? 0);
  },
  reference: ([g], a) => {
    const at = a;
    return linearAdjointReference((x) => avgPool2dCpu(x, at.k, at.s ?? null, at.p ?? 0, true), [g.shape[0], g.shape[1], ...at.in], g);
  },
  cases: [
    { shapes: [[1, 2, 4, 3]], attrs: { k: 3, s: 2, p: 1, in: [7, 6] } },
    { shapes: [[1, 1, 2, 2]], attrs: { k: 2, s: 3, in: [7, 7] } }
  ],
  doubleBackward: true
});
registerOp({
  name: "upsample_nearest",
  run: ([x], a) => upsampleNearest(x, a.scale),
  reference: ([x], a) => upsampleNearestCpu(x, typeof a.scale === "number" ? [a.scale, a.scale] : a.scale),
  cases: [
    { shapes: [[2, 3, 3, 5]], attrs: { scale: 2 } },
    { shapes: [[1, 2, 4, 3]], attrs: { scale: [3, 1] } }
  ],
  doubleBackward: true
});
registerOp({
  name: "upsample_bilinear",
  run: ([x], a) => upsampleBilinear(x, { size: a.size, alignCorners: !!a.align }),
  reference: ([x], a) => upsampleBilinearCpu(x, ...a.size, !!a.align),
  cases: [
    { shapes: [[2, 3, 3, 5]], attrs: { size: [6, 10] } },
    { shapes: [[1, 2, 4, 5]], attrs: { size: [7, 9], align: true } },
    { shapes: [[1, 2, 7, 9]], attrs: { size: [3, 4] } },
    { shapes: [[1, 1, 5, 4]], attrs: { size: [2, 7], align: true } },
    { shapes: [[1, 1, 1, 3]], attrs: { size: [4, 5] } }
  ],
  doubleBackward: true
});
registerOp({
  name: "upsample_bilinear_adjoint",
  run: ([g], a) => upsampleBilinearAdjoint(g, a.in, !!a.align),
  reference: ([g], a) => linearAdjointReference((x) => upsampleBilinearCpu(x, g.shape[2], g.shape[3], !!a.align), [g.shape[0], g.shape[1], ...a.in], g),
  cases: [
    { shapes: [[1, 2, 7, 10]], attrs: { in: [3, 5] } },
    { shapes: [[1, 2, 7, 9]], attrs: { in: [4, 5], align: true } },
    { shapes: [[1, 1, 3, 4]], attrs: { in: [7, 9] } }
  ],
  doubleBackward: true
});

// engine/ops/cpu/pyramid.ts
var BINOMIAL5 = [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16];
function reflect(i, n) {
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}
function blurPlanes(x, gain) {
  const [n, c, h, w] = expectRank(x, 4, "pyramid blur");
  if (h < 3 || w < 3) throw new Error(`pyramid: reflect padding 2 needs planes of at least 3x3, got ${h}x${w}`);
  const taps = BINOMIAL5.map((t) => t * gain);
  const rowPass = new Float64Array(h * w);
  const y = hostTensor(x.shape);
  for (let plane = 0; plane < n * c; plane++) {
    const base = plane * h * w;
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        let acc = 0;
        for (let t = -2; t <= 2; t++) acc += taps[t + 2] * x.data[base + i * w + reflect(j + t, w)];
        rowPass[i * w + j] = acc;
      }
    }
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        let acc = 0;
        for (let t = -2; t <= 2; t++) acc += taps[t + 2] * rowPass[reflect(i + t, h) * w + j];
        y.data[base + i * w + j] = acc;
      }
    }
  }
  return y;
}
function pyrDownCpu(x) {
  const [n, c, h, w] = expectRank(x, 4, "pyrDown");
  const blurred = blurPlanes(x, 1);
  const oh = Math.ceil(h / 2);
  const ow = Math.ceil(w / 2);
  const y = hostTensor([n, c, oh, ow]);
  for (let plane = 0; plane < n * c; plane++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        y.data[(plane * oh + i) * ow + j] = blurred.data[(plane * h + 2 * i) * w + 2 * j];
      }
    }
  }
  return y;
}
function pyrUpCpu(x, outH, outW) {
  const [n, c, h, w] = expectRank(x, 4, "pyrUp");
  if (Math.ceil(outH / 2) !== h || Math.ceil(outW / 2) !== w) {
    throw new Error(`pyrUp: ${h}x${w} cannot be upsampled to ${outH}x${outW} (need ceil(out/2) = in)`);
  }
  const u = hostTensor([n, c, outH, outW]);
  for (let plane = 0; plane < n * c; plane++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        u.data[(plane * outH + 2 * i) * outW + 2 * j] = x.data[(plane * h + i) * w + j];
      }
    }
  }
  return blurPlanes(u, 2);
}
function subtract(a, b) {
  expectSameShape(a, b, "pyramid subtract");
  const y = hostTensor(a.shape);
  for (let i = 0; i < y.data.length; i++) y.data[i] = a.data[i] - b.data[i];
  return y;
}
function add2(a, b) {
  expectSameShape(a, b, "pyramid add");
  const y = hostTensor(a.shape);
  for (let i = 0; i < y.data.length; i++) y.data[i] = a.data[i] + b.data[i];
  return y;
}
function laplacianBandCpu(x) {
  const [, , h, w] = expectRank(x, 4, "laplacianBand");
  return subtract(x, pyrUpCpu(pyrDownCpu(x), h, w));
}
function laplacianPyramidCpu(x, levels) {
  if (!Number.isInteger(levels) || levels < 0) throw new Error(`laplacianPyramid: levels must be an integer >= 0, got ${levels}`);
  const out = [];
  let low = x;
  for (let k = 0; k < levels; k++) {
    const [, , h, w] = expectRank(low, 4, "laplacianPyramid");
    const next = pyrDownCpu(low);
    out.push(subtract(low, pyrUpCpu(next, h, w)));
    low = next;
  }
  out.push(low);
  return out;
}
function reconstructPyramidCpu(bands) {
  if (bands.length === 0) throw new Error("reconstructPyramid: no bands");
  let img = bands[bands.length - 1];
  for (let k = bands.length - 2; k >= 0; k--) {
    const [, , h, w] = expectRank(bands[k], 4, "reconstructPyramid");
    img = add2(bands[k], pyrUpCpu(img, h, w));
  }
  return img;
}

// engine/ops/pyramid.ts
function resample(mode, x, fine, op) {
  const [n, c, ih, iw] = x.shape;
  const [fh, fw] = fine;
  const ch = Math.ceil(fh / 2);
  const cw = Math.ceil(fw / 2);
  const toCoarse = mode === "down" || mode === "upT";
  const [oh, ow] = toCoarse ? [ch, cw] : [fh, fw];
  const y = empty([n, c, oh, ow], op);
  if (y.size > 0) {
    launch(
      { key: `pyramid|${mode}`, code: pyramidSource(mode), bindings: ["read", "rw"], op },
      [x, y],
      [y.size, ih, iw, oh, ow, i32(fh), i32(fw), i32(ch), i32(cw), 0, 0, 0],
      grid1d(y.size, SPATIAL_WG),
      { op }
    );
  }
  return y;
}
function checkFine(op, x, h, w, what) {
  if (h < 3 || w < 3) {
    throw new Error(`${op}: the reflect padding of 2 needs ${what} of at least 3x3, got ${h}x${w} (x ${fmtShape(x.shape)}); use fewer pyramid levels or a larger image`);
  }
}
function pyrDown(x) {
  const op = "pyr_down";
  const [, , h, w] = spatialExpect4d(op, x);
  checkFine(op, x, h, w, "planes");
  const y = resample("down", x, [h, w], op);
  return record(y, op, [x], (g) => [pyrDownAdjoint(g, [h, w])]);
}
function pyrDownAdjoint(g, fine) {
  const op = "pyr_down_adjoint";
  const [, , gh, gw] = spatialExpect4d(op, g);
  const [h, w] = fine;
  checkFine(op, g, h, w, "the fine size");
  if (gh !== Math.ceil(h / 2) || gw !== Math.ceil(w / 2)) throw new Error(`${op}: gradient ${fmtShape(g.shape)} is not the pyrDown size of ${h}x${w}`);
  const dx = resample("downT", g, [h, w], op);
  return record(dx, op, [g], (gg) => [pyrDown(gg)]);
}
function pyrUp(x, outH, outW) {
  const op = "pyr_up";
  const [, , h, w] = spatialExpect4d(op, x);
  const oh = outH ?? 2 * h;
  const ow = outW ?? 2 * w;
  if (Math.ceil(oh / 2) !== h || Math.ceil(ow / 2) !== w) {
    throw new Error(`${op}: x ${fmtShape(x.shape)} cannot be expanded to ${oh}x${ow}: the output must be ${2 * h - 1} or ${2 * h} high and ${2 * w - 1} or ${2 * w} wide (ceil(out/2) = in)`);
  }
  checkFine(op, x, oh, ow, "an output");
  const y = resample("up", x, [oh, ow], op);
  return record(y, op, [x], (g) => [pyrUpAdjoint(g)]);
}
function pyrUpAdjoint(g) {
  const op = "pyr_up_adjoint";
  const [, , oh, ow] = spatialExpect4d(op, g);
  checkFine(op, g, oh, ow, "a gradient");
  const dx = resample("upT", g, [oh, ow], op);
  return record(dx, op, [g], (gg) => [pyrUp(gg, oh, ow)]);
}
function laplacianBand(x) {
  const [, , h, w] = spatialExpect4d("laplacian_band", x);
  return sub(x, pyrUp(pyrDown(x), h, w));
}
function laplacianPyramid(x, levels) {
  const op = "laplacian_pyramid";
  spatialExpect4d(op, x);
  if (!Number.isInteger(levels) || levels < 0) throw new Error(`${op}: levels must be an integer >= 0, got ${levels}`);
  const out = [];
  let low = x;
  for (let k = 0; k < levels; k++) {
    const [, , h, w] = low.shape;
    if (h < 3 || w < 3) {
      throw new Error(`${op}: level ${k} is ${h}x${w}, too small for another level (needs 3x3); x ${fmtShape(x.shape)} supports fewer than ${levels} levels`);
    }
    const next = pyrDown(low);
    out.push(sub(low, pyrUp(next, h, w)));
    low = next;
  }
  out.push(low);
  return out;
}
function reconstructPyramid(bands) {
  const op = "reconstruct_pyramid";
  if (bands.length === 0) throw new Error(`${op}: no bands; pass the list laplacianPyramid returned`);
  let img = bands[bands.length - 1];
  spatialExpect4d(op, img);
  for (let k = bands.length - 2; k >= 0; k--) {
    const [n, c, h, w] = spatialExpect4d(op, bands[k]);
    if (img.shape[0] !== n || img.shape[1] !== c || Math.ceil(h / 2) !== img.shape[2] || Math.ceil(w / 2) !== img.shape[3]) {
      throw new Error(`${op}: band ${k} ${fmtShape(bands[k].shape)} does not match the next level ${fmtShape(img.shape)} (each level halves H and W, rounding up)`);
    }
    img = add(bands[k], pyrUp(img, h, w));
  }
  return img;
}
var flatHost = (ts) => {
  const n = ts.reduce((s, t) => s + t.data.length, 0);
  const data = new Float64Array(n);
  let off = 0;
  for (const t of ts) {
    data.set(t.data, off);
    off += t.data.length;
  }
  return { shape: [n], data };
};
registerOp({
  name: "pyr_down",
  run: ([x]) => pyrDown(x),
  reference: ([x]) => pyrDownCpu(x),
  cases: [{ shapes: [[2, 3, 5, 7]] }, { shapes: [[1, 2, 6, 6]] }, { shapes: [[1, 1, 3, 4]] }],
  doubleBackward: true
});
registerOp({
  name: "pyr_down_adjoint",
  run: ([g], a) => pyrDownAdjoint(g, a.fine),
  reference: ([g], a) => linearAdjointReference(pyrDownCpu, [g.shape[0], g.shape[1], ...a.fine], g),
  cases: [{ shapes: [[1, 2, 3, 4]], attrs: { fine: [5, 7] } }, { shapes: [[1, 1, 2, 3]], attrs: { fine: [3, 6] } }],
  doubleBackward: true
});
registerOp({
  name: "pyr_up",
  run: ([x], a) => pyrUp(x, ...a.out),
  reference: ([x], a) => pyrUpCpu(x, ...a.out),
  cases: [
    { shapes: [[2, 3, 3, 4]], attrs: { out: [5, 7] } },
    { shapes: [[1, 2, 3, 3]], attrs: { out: [6, 6] } },
    { shapes: [[1, 1, 2, 2]], attrs: { out: [3, 4] } }
  ],
  doubleBackward: true
});
registerOp({
  name: "pyr_up_adjoint",
  run: ([g]) => pyrUpAdjoint(g),
  reference: ([g]) => linearAdjointReference((x) => pyrUpCpu(x, g.shape[2], g.shape[3]), [g.shape[0], g.shape[1], Math.ceil(g.shape[2] / 2), Math.ceil(g.shape[3] / 2)], g),
  cases: [{ shapes: [[1, 2, 5, 7]] }, { shapes: [[1, 1, 6, 3]] }],
  doubleBackward: true
});
registerOp({
  name: "laplacian_band",
  run: ([x]) => laplacianBand(x),
  reference: ([x]) => laplacianBandCpu(x),
  cases: [{ shapes: [[2, 3, 5, 7]] }, { shapes: [[1, 2, 6, 6]] }],
  doubleBackward: true
});
registerOp({
  name: "laplacian_pyramid",
  run: ([x], a) => concat(laplacianPyramid(x, a.levels).map((t) => reshape(t, [-1])), 0),
  reference: ([x], a) => flatHost(laplacianPyramidCpu(x, a.levels)),
  cases: [{ shapes: [[1, 2, 7, 9]], attrs: { levels: 2 } }, { shapes: [[2, 1, 6, 6]], attrs: { levels: 1 } }],
  doubleBackward: true
});
registerOp({
  name: "reconstruct_pyramid",
  run: (bands) => reconstructPyramid(bands),
  reference: (bands) => reconstructPyramidCpu(bands),
  cases: [{ shapes: [[1, 2, 7, 9], [1, 2, 4, 5], [1, 2, 2, 3]] }, { shapes: [[2, 1, 6, 6], [2, 1, 3, 3]] }],
  doubleBackward: true
});

// shaders/conv.ts
var GATHER_FIELDS = [
  "PH",
  "PW",
  "SH",
  "SW",
  "SPh",
  "SPw",
  "OFFh",
  "OFFw",
  "TSh",
  "TSw",
  "srcBatch",
  "srcPlane",
  "sAm",
  "sAc",
  "KWW",
  "KH0",
  "KW0",
  "KSh",
  "KSw",
  "OH0",
  "OW0",
  "OSh",
  "OSw",
  "OWW",
  "outPlane",
  "outBatch",
  "slope",
  "pad0"
];
var GATHER_TYPES = { SH: "i32", SW: "i32", SPh: "i32", SPw: "i32", OFFh: "i32", OFFw: "i32", TSh: "i32", TSw: "i32", slope: "f32" };
var GATHER_FIELD_TYPES = GATHER_FIELDS.map((f) => GATHER_TYPES[f] ?? "u32");
var actExpr = {
  none: "y",
  relu: "max(y, 0.0)",
  leaky_relu: "select(y * u.slope, y, y > 0.0)"
};
function gatherFamily(v) {
  const T = Math.max(1, v.taps);
  const TW = Math.max(1, v.tapW);
  return {
    key: `conv_gather|T=${T}|TW=${TW}|aContig=${+v.aContig}|bias=${+v.bias}|act=${v.act}`,
    uniforms: GATHER_FIELDS.map((f, i) => `${f}: ${GATHER_FIELD_TYPES[i]},`).join(" "),
    inputs: ["wt", "src"],
    epilogueInputs: v.bias ? ["bias"] : [],
    // A (weights) is staged k-fast: one k per thread, so its (channel, tap) is decoded once per
    // step. B is staged n-fast: one column (pixel) per thread, decoded once in setup().
    aFast: "k",
    bFast: "x",
    setup: (
      /* wgsl */
      `
var<private> bOk: bool;
var<private> bBase: u32;
var<private> ihBase: i32;
var<private> iwBase: i32;
fn setup() {
  let n = gN0 + gTid % BN;
  let pp = u.PH * u.PW;
  let r = n % pp;
  bOk = n < u.N;
  bBase = (n / pp) * u.srcBatch;
  ihBase = i32(r / u.PW) * u.SPh + u.OFFh;
  iwBase = i32(r % u.PW) * u.SPw + u.OFFw;
}`
    ),
    prelude: v.aContig ? "" : (
      /* wgsl */
      `
  let ka = k0 + gTid % TK;
  let tapA = ka % ${T}u;
  let aOff = (ka / ${T}u) * u.sAc + (u.KH0 + (tapA / ${TW}u) * u.KSh) * u.KWW + u.KW0 + (tapA % ${TW}u) * u.KSw;`
    ),
    aVal: v.aContig ? `let m = gM0 + xx;
    if (m < u.M && k < kEnd) { val = wt[m * u.K + k]; }` : `let m = gM0 + xx;
    if (m < u.M && k < kEnd) { val = wt[m * u.sAm + aOff]; }`,
    bVal: `let tap = k % ${T}u;
    let ih = ihBase + i32(tap / ${TW}u) * u.TSh;
    let iw = iwBase + i32(tap % ${TW}u) * u.TSw;
    if (bOk && k < kEnd && ih >= 0 && ih < u.SH && iw >= 0 && iw < u.SW) {
      val = src[bBase + (k / ${T}u) * u.srcPlane + u32(ih * u.SW + iw)];
    }`,
    store: (
      /* wgsl */
      `
fn storeOut(zb: u32, m: u32, n: u32, v: f32) {
  let pp = u.PH * u.PW;
  let r = n % pp;
  let idx = (n / pp) * u.outBatch + m * u.outPlane + (u.OH0 + (r / u.PW) * u.OSh) * u.OWW + u.OW0 + (r % u.PW) * u.OSw;
  let y = v${v.bias ? " + bias[m]" : ""};
  out[idx] = ${actExpr[v.act]};
}`
    )
  };
}
var WGRAD_FIELDS = ["OHW", "OWd", "dyBatch", "xBatch", "xPlane", "H", "W", "sh", "sw", "pt", "pl", "dh", "dw", "pad0", "pad1", "pad2"];
var WGRAD_TYPES = { H: "i32", W: "i32", sh: "i32", sw: "i32", pt: "i32", pl: "i32", dh: "i32", dw: "i32" };
var WGRAD_FIELD_TYPES = WGRAD_FIELDS.map((f) => WGRAD_TYPES[f] ?? "u32");
function wgradFamily(v) {
  return {
    key: `conv_wgrad|KK=${v.kk}|KW=${v.kw}`,
    uniforms: WGRAD_FIELDS.map((f, i) => `${f}: ${WGRAD_FIELD_TYPES[i]},`).join(" "),
    inputs: ["dy", "x"],
    epilogueInputs: [],
    // Both tiles are staged k-fast (pixels are contiguous in dy and, along a row, in x): this
    // thread always stages the same k, so its pixel (nb, oh, ow) is decoded once per step.
    aFast: "k",
    bFast: "k",
    setup: "fn setup() {}",
    prelude: (
      /* wgsl */
      `
  let kp = k0 + gTid % TK;
  let kOk = kp < kEnd;
  let nb = kp / u.OHW;
  let p = kp % u.OHW;
  let aBase = nb * u.dyBatch + p;
  let ihb = i32(p / u.OWd) * u.sh - u.pt;
  let iwb = i32(p % u.OWd) * u.sw - u.pl;
  let xb = nb * u.xBatch;`
    ),
    aVal: `let m = gM0 + xx;
    if (kOk && m < u.M) { val = dy[aBase + m * u.OHW]; }`,
    bVal: `let n = gN0 + xx;
    let tap = n % ${v.kk}u;
    let ih = ihb + i32(tap / ${v.kw}u) * u.dh;
    let iw = iwb + i32(tap % ${v.kw}u) * u.dw;
    if (kOk && n < u.N && ih >= 0 && ih < u.H && iw >= 0 && iw < u.W) {
      val = x[xb + (n / ${v.kk}u) * u.xPlane + u32(ih * u.W + iw)];
    }`,
    store: (
      /* wgsl */
      `
fn storeOut(zb: u32, m: u32, n: u32, v: f32) { out[m * u.N + n] = v; }`
    )
  };
}

// shaders/matmul.ts
var GEMM_TILES = {
  /** 128x128, 8x8 per thread: the big-GEMM workhorse. */
  t128: { name: "t128", wgx: 16, wgy: 16, rm: 8, rn: 8, tk: 8 },
  /** 128x128 with a 16-deep K step (half the barriers, twice the workgroup memory). */
  t128k16: { name: "t128k16", wgx: 16, wgy: 16, rm: 8, rn: 8, tk: 16 },
  /** 64 rows x 128 columns, 4x8 per thread: 64-channel layers without half-empty tiles. */
  t64x128: { name: "t64x128", wgx: 16, wgy: 16, rm: 4, rn: 8, tk: 16 },
  /** 64x64, 4x4 per thread. */
  t64: { name: "t64", wgx: 16, wgy: 16, rm: 4, rn: 4, tk: 16 },
  /** 32 rows x 128 columns, 4x8 per thread, 128 threads: few output channels, many pixels. */
  t32x128: { name: "t32x128", wgx: 16, wgy: 8, rm: 4, rn: 8, tk: 16 },
  /** 32x32, 4x4 per thread, 64 threads: small problems. */
  t32: { name: "t32", wgx: 8, wgy: 8, rm: 4, rn: 4, tk: 16 }
};
var tileDims = (t) => ({ bm: t.wgy * t.rm, bn: t.wgx * t.rn, nt: t.wgx * t.wgy });
var tileSmemBytes = (t) => 4 * t.tk * (t.wgy * t.rm + t.wgx * t.rn + 8);
var GEMM_UNIFORM_HEAD = "M: u32, N: u32, K: u32, splits: u32, kChunk: u32, batch: u32, h0: u32, h1: u32,";
function slot(t, X, fast, i) {
  const { nt } = tileDims(t);
  return fast === "k" ? [`gTid % ${t.tk}u`, `gTid / ${t.tk}u + ${i * nt / t.tk}u`] : [`gTid / ${X}u + ${i * nt / X}u`, `gTid % ${X}u`];
}
function perThread(t, X, fast) {
  const { nt } = tileDims(t);
  const per = t.tk * X / nt;
  if (!Number.isInteger(per) || per < 1 || nt % (fast === "k" ? t.tk : X) !== 0) {
    throw new Error(`gemm: tile ${t.name} does not divide a ${t.tk} x ${X} staging tile among ${nt} threads`);
  }
  return per;
}
function bindings2(names, first) {
  return names.map((n, i) => `@group(0) @binding(${first + i}) var<storage, read> ${n}: array<f32>;`).join("\n");
}
function gemmSource(f, t, split2) {
  const { bm, bn, nt } = tileDims(t);
  const pa = perThread(t, bm, f.aFast);
  const pb = perThread(t, bn, f.bFast);
  const rowA = bm / 4 + 1;
  const rowB = bn / 4 + 1;
  const fetch = [];
  const commit = [];
  for (const [name, X, fast, per, body, set] of [
    ["pa", bm, f.aFast, pa, f.aVal, "setA"],
    ["pb", bn, f.bFast, pb, f.bVal, "setB"]
  ]) {
    for (let i = 0; i < per; i++) {
      const [kk, xx] = slot(t, X, fast, i);
      fetch.push(`{
    let kk = ${kk};
    let xx = ${xx};
    let k = k0 + kk;
    var val = 0.0;
    ${body.trim()}
    ${name}${i} = val;
  }`);
      commit.push(`${set}(${kk}, ${xx}, ${name}${i});`);
    }
  }
  const regs = [...Array(pa).keys()].map((i) => `var<private> pa${i}: f32;`).concat([...Array(pb).keys()].map((i) => `var<private> pb${i}: f32;`));
  const rv = t.rm / 4;
  const cv = t.rn / 4;
  const inner = [];
  for (let iv = 0; iv < rv; iv++) inner.push(`let a${iv} = As[ai + ${iv * t.wgy}u];`);
  for (let jv = 0; jv < cv; jv++) inner.push(`let b${jv} = Bs[bi + ${jv * t.wgx}u];`);
  const comp = ["x", "y", "z", "w"];
  for (let r = 0; r < t.rm; r++) {
    for (let jv = 0; jv < cv; jv++) inner.push(`c${r}_${jv} = fma(vec4<f32>(a${r >> 2}.${comp[r & 3]}), b${jv}, c${r}_${jv});`);
  }
  const accs = [];
  const stores = [];
  for (let r = 0; r < t.rm; r++) {
    for (let jv = 0; jv < cv; jv++) {
      accs.push(`var c${r}_${jv} = vec4<f32>(0.0);`);
      stores.push(`emit4(zb, wg.z, m0 + ${(r >> 2) * 4 * t.wgy + (r & 3)}u + 4u * ty, n0 + ${jv * 4 * t.wgx}u + 4u * tx, c${r}_${jv});`);
    }
  }
  const nIn = f.inputs.length;
  const outDecl = split2 ? `@group(0) @binding(${nIn + 1}) var<storage, read_write> part: array<f32>;` : `${bindings2(f.epilogueInputs, nIn + 1)}
@group(0) @binding(${nIn + 1 + f.epilogueInputs.length}) var<storage, read_write> out: array<f32>;`;
  const emit = split2 ? `part[(z * u.M + m) * u.N + n] = v;` : `storeOut(zb, m, n, v);`;
  return (
    /* wgsl */
    `
// GEMM ${f.key} | tile ${t.name} (${bm}x${bn}, ${t.rm}x${t.rn} per thread, K step ${t.tk})${split2 ? " | split-K partials" : ""}
struct Params { ${GEMM_UNIFORM_HEAD} ${f.uniforms} }
@group(0) @binding(0) var<uniform> u: Params;
${bindings2(f.inputs, 1)}
${outDecl}

const TK = ${t.tk}u;
const BM = ${bm}u;
const BN = ${bn}u;
var<workgroup> As: array<vec4<f32>, ${t.tk * rowA}>;
var<workgroup> Bs: array<vec4<f32>, ${t.tk * rowB}>;
var<private> gTid: u32;
var<private> gM0: u32;
var<private> gN0: u32;
var<private> gZb: u32;
${regs.join("\n")}

fn setA(kk: u32, mm: u32, v: f32) { As[kk * ${rowA}u + mm / 4u][mm % 4u] = v; }
fn setB(kk: u32, nn: u32, v: f32) { Bs[kk * ${rowB}u + nn / 4u][nn % 4u] = v; }
${f.setup}

/** Global -> registers: this thread's share of the tiles at k0. */
fn fetchTiles(k0: u32, kEnd: u32) {
  ${f.prelude.trim()}
  ${fetch.join("\n  ")}
}

/** Registers -> workgroup memory. */
fn commitTiles() {
  ${commit.join("\n  ")}
}
${split2 ? "" : f.store}

fn emit1(zb: u32, z: u32, m: u32, n: u32, v: f32) { ${emit} }
fn emit4(zb: u32, z: u32, m: u32, n: u32, v: vec4<f32>) {
  if (m >= u.M) { return; }
  for (var q = 0u; q < 4u; q++) {
    if (n + q < u.N) { emit1(zb, z, m, n + q, v[q]); }
  }
}

@compute @workgroup_size(${nt})
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let m0 = wg.y * BM;
  let n0 = wg.x * BN;
  let zb = wg.z / u.splits;
  let zs = wg.z % u.splits;
  gTid = tid;
  gM0 = m0;
  gN0 = n0;
  gZb = zb;
  let kBegin = zs * u.kChunk;
  let kEnd = min(u.K, kBegin + u.kChunk);
  setup();
  let tx = tid % ${t.wgx}u;
  let ty = tid / ${t.wgx}u;
  ${accs.join("\n  ")}
  if (kBegin < kEnd) { fetchTiles(kBegin, kEnd); }
  for (var k0 = kBegin; k0 < kEnd; k0 += TK) {
    commitTiles();
    workgroupBarrier();
    // The next step's global loads are in flight while this step's FMAs run.
    if (k0 + TK < kEnd) { fetchTiles(k0 + TK, kEnd); }
    for (var kk = 0u; kk < TK; kk++) {
      let ai = kk * ${rowA}u + ty;
      let bi = kk * ${rowB}u + tx;
      ${inner.join("\n      ")}
    }
    workgroupBarrier();
  }
  ${stores.join("\n  ")}
}
`
  );
}
var GEMM_REDUCE_WG = 256;
function gemmReduceSource(f) {
  return (
    /* wgsl */
    `
// split-K reduction for ${f.key}
struct Params { ${GEMM_UNIFORM_HEAD} ${f.uniforms} }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> part: array<f32>;
${bindings2(f.epilogueInputs, 2)}
@group(0) @binding(${2 + f.epilogueInputs.length}) var<storage, read_write> out: array<f32>;
${f.store}
${main1d(GEMM_REDUCE_WG)} {
  let i = ${index1d(GEMM_REDUCE_WG)};
  let mn = u.M * u.N;
  if (i >= u.batch * mn) { return; }
  let zb = i / mn;
  let r = i % mn;
  var s = 0.0;
  for (var z = 0u; z < u.splits; z++) { s += part[(zb * u.splits + z) * mn + r]; }
  storeOut(zb, r / u.N, r % u.N, s);
}
`
  );
}
function matmulFamily(v) {
  return {
    key: `matmul|tA=${+v.transA}|tB=${+v.transB}|bias=${+v.bias}`,
    uniforms: "lda: u32, ldb: u32, sab: u32, sbb: u32,",
    inputs: ["a", "b"],
    epilogueInputs: v.bias ? ["bias"] : [],
    // Stage along the contiguous dim of each stored operand.
    aFast: v.transA ? "x" : "k",
    bFast: v.transB ? "k" : "x",
    setup: "fn setup() {}",
    prelude: "",
    aVal: `let m = gM0 + xx;
    if (m < u.M && k < kEnd) { val = a[gZb * u.sab + ${v.transA ? "k * u.lda + m" : "m * u.lda + k"}]; }`,
    bVal: `let n = gN0 + xx;
    if (n < u.N && k < kEnd) { val = b[gZb * u.sbb + ${v.transB ? "n * u.ldb + k" : "k * u.ldb + n"}]; }`,
    store: `
fn storeOut(zb: u32, m: u32, n: u32, v: f32) {
  out[(zb * u.M + m) * u.N + n] = v${v.bias ? " + bias[n]" : ""};
}`
  };
}

// engine/ops/matmul.ts
var gemmOverride = null;
var TILE_EFFICIENCY = {
  // GPU figures fitted to an H200 sweep of the full bench suite (bench/NOTES.md, 2026-11-27).
  gpu: { t128: 0.9, t128k16: 0.95, t64x128: 1, t64: 0.85, t32x128: 0.65, t32: 0.3 },
  cpu: { t64: 0.9, t32: 1, t64x128: 0.8 }
};
var GPU_SLOTS_256 = 264;
function isSoftwareAdapter() {
  const a = engine().adapter;
  return a.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader|software/i.test(`${a.architecture} ${a.device} ${a.description}`);
}
function splitFor(K, tile2, groups, target, maxZ) {
  let s = 1;
  if (groups < target / 2 && K >= 16 * tile2.tk) s = Math.min(Math.ceil(target / groups), Math.floor(K / (8 * tile2.tk)), 64);
  return Math.max(1, Math.min(s, maxZ));
}
function pickGemmConfig(M, N, K, batch) {
  const lim = engine().limits;
  const maxWg = lim.maxComputeWorkgroupsPerDimension;
  const fits = (t) => {
    const { bm, bn, nt } = tileDims(t);
    return tileSmemBytes(t) <= lim.maxComputeWorkgroupStorageSize && nt <= lim.maxComputeInvocationsPerWorkgroup && Math.ceil(N / bn) <= maxWg && Math.ceil(M / bm) <= maxWg;
  };
  const cpu = isSoftwareAdapter();
  const eff = TILE_EFFICIENCY[cpu ? "cpu" : "gpu"];
  let best = null;
  const names = gemmOverride?.tile ? [gemmOverride.tile] : Object.keys(eff);
  for (const name of names) {
    const tile3 = GEMM_TILES[name];
    if (!fits(tile3)) continue;
    const { bm, bn, nt } = tileDims(tile3);
    const groups = Math.ceil(M / bm) * Math.ceil(N / bn) * batch;
    const slots = cpu ? 8 : GPU_SLOTS_256 * Math.sqrt(256 / nt);
    let splits2 = splitFor(K, tile3, groups, slots, Math.floor(maxWg / batch));
    if (gemmOverride?.splits) splits2 = gemmOverride.splits;
    const waves = Math.ceil(groups * splits2 / slots);
    const cost = waves * bm * bn * Math.ceil(Math.max(K, 1) / splits2) / (eff[name] ?? 0.5) + (splits2 > 1 ? M * N * batch * splits2 : 0);
    if (!best || cost < best.cost) best = { cost, tile: tile3, splits: splits2 };
  }
  if (!best) throw new Error(`gemm: no tile fits [${M} x ${N}] x ${K} within this adapter's limits`);
  const { tile: tile2 } = best;
  let splits = Math.max(1, Math.min(best.splits, Math.ceil(K / tile2.tk)));
  let kChunk = Math.ceil(K / splits / tile2.tk) * tile2.tk;
  splits = Math.max(1, Math.ceil(K / Math.max(kChunk, 1)));
  if (splits === 1) kChunk = Math.max(K, 1);
  return { tile: tile2, splits, kChunk };
}
function runGemm(g) {
  if (g.M * g.N * g.batch === 0) return;
  const { tile: t, splits, kChunk } = pickGemmConfig(g.M, g.N, g.K, g.batch);
  const fam = g.family;
  const { bm, bn } = tileDims(t);
  const uniforms = [g.M, g.N, g.K, splits, kChunk, g.batch, 0, 0, ...g.uniforms];
  const grid = [Math.ceil(g.N / bn), Math.ceil(g.M / bm), g.batch * splits];
  const reads = (n) => Array(n).fill("read");
  if (splits === 1) {
    launch(
      { key: `${fam.key}|${t.name}`, code: gemmSource(fam, t, false), bindings: [...reads(fam.inputs.length + fam.epilogueInputs.length), "rw"], op: g.op },
      [...g.inputs, ...g.epilogueInputs, g.out],
      uniforms,
      grid,
      { op: g.op }
    );
    return;
  }
  const part = empty([g.batch * splits * g.M * g.N], `${g.op} (split-K partials)`);
  launch(
    { key: `${fam.key}|${t.name}|split`, code: gemmSource(fam, t, true), bindings: [...reads(fam.inputs.length), "rw"], op: g.op },
    [...g.inputs, part],
    uniforms,
    grid,
    { op: g.op }
  );
  launch(
    { key: `${fam.key}|reduce`, code: gemmReduceSource(fam), bindings: [...reads(1 + fam.epilogueInputs.length), "rw"], op: g.op },
    [part, ...g.epilogueInputs, g.out],
    uniforms,
    grid1d(g.batch * g.M * g.N, GEMM_REDUCE_WG),
    { op: g.op }
  );
  part.dispose();
}
function matmulDims(op, a, b, transA, transB) {
  checkFloat(op, a, b);
  for (const [name, t] of [["a", a], ["b", b]]) {
    if (t.rank !== 2 && t.rank !== 3) {
      throw new Error(`${op}: ${name} is ${fmtShape(t.shape)}; it must be rank 2 [rows, cols] or rank 3 [batch, rows, cols] (reshape higher ranks first)`);
    }
  }
  const ba = a.rank === 3 ? a.shape[0] : 0;
  const bb = b.rank === 3 ? b.shape[0] : 0;
  if (ba && bb && ba !== bb) throw new Error(`${op}: batch sizes differ: a ${fmtShape(a.shape)} vs b ${fmtShape(b.shape)}; make them equal or pass one operand as rank 2 to share it`);
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [M, K] = transA ? [ac, ar] : [ar, ac];
  const [Kb, N] = transB ? [bc, br] : [br, bc];
  if (K !== Kb) {
    throw new Error(
      `${op}: inner sizes differ: a ${fmtShape(a.shape)}${transA ? " (transposed)" : ""} gives K = ${K}, b ${fmtShape(b.shape)}${transB ? " (transposed)" : ""} gives K = ${Kb}; transpose an operand (transA/transB) or fix its shape`
    );
  }
  return { batch: Math.max(ba, bb, 1), batched: !!(ba || bb), M, N, K };
}
function matmulRaw(op, a, b, transA, transB, bias) {
  const d = matmulDims(op, a, b, transA, transB);
  const y = empty(d.batched ? [d.batch, d.M, d.N] : [d.M, d.N], op);
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  runGemm({
    op,
    family: matmulFamily({ transA, transB, bias: !!bias }),
    inputs: [a, b],
    epilogueInputs: bias ? [bias] : [],
    out: y,
    M: d.M,
    N: d.N,
    K: d.K,
    batch: d.batch,
    uniforms: [ac, bc, a.rank === 3 ? ar * ac : 0, b.rank === 3 ? br * bc : 0]
  });
  return y;
}
function matmul(a, b, opts = {}) {
  const transA = !!opts.transA;
  const transB = !!opts.transB;
  const y = matmulRaw("matmul", a, b, transA, transB, null);
  return record(y, "matmul", [a, b], (g) => [
    a.requiresGrad ? matmulGradA(a, b, g, transA, transB) : null,
    b.requiresGrad ? matmulGradB(a, b, g, transA, transB) : null
  ]);
}
var unbatch = (gx, x) => gx.rank > x.rank ? sum(gx, 0) : gx;
function matmulGradA(a, b, g, transA, transB) {
  const ga = transA ? matmul(b, g, { transA: transB, transB: true }) : matmul(g, b, { transB: !transB });
  return unbatch(ga, a);
}
function matmulGradB(a, b, g, transA, transB) {
  if (b.rank === 2 && a.rank === 3 && !transA) {
    const [B, M, K] = a.shape;
    const N = g.shape[2];
    const a2 = reshape(a, [B * M, K]);
    const g2 = reshape(g, [B * M, N]);
    return transB ? matmul(g2, a2, { transA: true }) : matmul(a2, g2, { transA: true });
  }
  const gb = transB ? matmul(g, a, { transA: true, transB: transA }) : matmul(a, g, { transA: !transA });
  return unbatch(gb, b);
}
function linear(x, w, bias = null) {
  if (x.rank < 1 || w.rank !== 2) {
    throw new Error(`linear: expects x [N, in] and w [out, in], got x ${fmtShape(x.shape)} and w ${fmtShape(w.shape)}`);
  }
  const inF = x.shape[x.rank - 1];
  const [outF, wIn] = w.shape;
  if (wIn !== inF) {
    throw new Error(`linear: x ${fmtShape(x.shape)} has ${inF} features but weight ${fmtShape(w.shape)} expects ${wIn}; the weight must be [out, in] = [${outF}, ${inF}]`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outF)) {
    throw new Error(`linear: bias ${fmtShape(bias.shape)} must be [${outF}] (one value per output feature)`);
  }
  if (x.rank !== 2) {
    const lead = x.shape.slice(0, -1);
    return reshape(linear(reshape(x, [-1, inF]), w, bias), [...lead, outF]);
  }
  checkFloat("linear", x, w, ...bias ? [bias] : []);
  const y = matmulRaw("linear", x, w, false, true, bias);
  const inputs = bias ? [x, w, bias] : [x, w];
  return record(y, "linear", inputs, (g) => [
    x.requiresGrad ? matmul(g, w) : null,
    w.requiresGrad ? matmul(g, x, { transA: true }) : null,
    bias?.requiresGrad ? sum(g, 0) : null
  ]);
}
registerOp({
  name: "matmul",
  run: ([a, b], at) => matmul(a, b, { transA: !!at.transA, transB: !!at.transB }),
  reference: ([a, b], at) => matmulCpu(a, b, { transA: !!at.transA, transB: !!at.transB }),
  cases: [
    { shapes: [[5, 7], [7, 6]] },
    { shapes: [[7, 5], [7, 6]], attrs: { transA: true } },
    { shapes: [[5, 7], [6, 7]], attrs: { transB: true } },
    { shapes: [[7, 5], [6, 7]], attrs: { transA: true, transB: true } },
    // Crosses the 32-wide tile and the 16-deep K step; N and M not multiples of 4.
    { shapes: [[18, 13], [13, 35]] },
    { shapes: [[2, 5, 7], [2, 7, 3]] },
    { shapes: [[2, 5, 7], [7, 3]], label: "batched a, shared b" },
    { shapes: [[2, 7, 5], [3, 7]], attrs: { transA: true, transB: true }, label: "batched a^T, shared b^T" },
    { shapes: [[5, 7], [3, 7, 4]], label: "shared a, batched b" },
    { shapes: [[3, 7, 5], [3, 4, 7]], attrs: { transA: true, transB: true } }
  ],
  doubleBackward: true
});
registerOp({
  name: "linear",
  run: ([x, w, b]) => linear(x, w, b ?? null),
  reference: ([x, w, b]) => {
    const inF = x.shape[x.shape.length - 1];
    const y = linearCpu({ shape: [x.data.length / inF, inF], data: x.data }, w, b ?? null);
    return { shape: [...x.shape.slice(0, -1), w.shape[0]], data: y.data };
  },
  cases: [
    { shapes: [[4, 6], [5, 6], [5]] },
    { shapes: [[3, 9], [7, 9]], label: "no bias" },
    { shapes: [[2, 3, 6], [5, 6], [5]], label: "leading dims" },
    { shapes: [[9, 19], [21, 19], [21]], label: "tile edges" }
  ],
  doubleBackward: true
});

// engine/ops/cpu/conv.ts
function convOutSize(inSize, k, stride, padBefore, padAfter, dilation) {
  return Math.floor((inSize + padBefore + padAfter - dilation * (k - 1) - 1) / stride) + 1;
}
function convTransposeOutSize(inSize, k, stride, padBefore, padAfter, dilation, outputPadding) {
  return (inSize - 1) * stride - padBefore - padAfter + dilation * (k - 1) + outputPadding + 1;
}
function geometry2(xShape, wShape, opts, outSize) {
  const [sh, sw] = opts.stride ?? [1, 1];
  const [padTop, padBottom, padLeft, padRight] = opts.padding ?? [0, 0, 0, 0];
  const [dh, dw] = opts.dilation ?? [1, 1];
  const groups = opts.groups ?? 1;
  if (xShape.length !== 4 || wShape.length !== 4) throw new Error("conv2d: x and w must be rank 4");
  const [n, c, h, w] = xShape;
  const [o, cPerGroup, kh, kw] = wShape;
  if (c % groups !== 0 || o % groups !== 0) throw new Error(`conv2d: channels ${c} -> ${o} not divisible by groups ${groups}`);
  if (cPerGroup !== c / groups) throw new Error(`conv2d: weight expects ${cPerGroup * groups} input channels, x has ${c}`);
  if (Math.min(sh, sw, dh, dw) < 1) throw new Error("conv2d: stride and dilation must be >= 1");
  if (Math.min(padTop, padBottom, padLeft, padRight) < 0) throw new Error("conv2d: padding must be >= 0");
  const [oh, ow] = outSize ?? [convOutSize(h, kh, sh, padTop, padBottom, dh), convOutSize(w, kw, sw, padLeft, padRight, dw)];
  if (oh < 1 || ow < 1) throw new Error(`conv2d: empty output ${oh}x${ow}`);
  return { n, c, h, w, o, kh, kw, oh, ow, sh, sw, padTop, padLeft, dh, dw, groups };
}
function forEachTap(g, visit) {
  const cPerGroup = g.c / g.groups;
  const oPerGroup = g.o / g.groups;
  const xPlane = g.h * g.w;
  const wFilter = cPerGroup * g.kh * g.kw;
  for (let n = 0; n < g.n; n++) {
    for (let o = 0; o < g.o; o++) {
      const firstChannel = Math.floor(o / oPerGroup) * cPerGroup;
      for (let oh = 0; oh < g.oh; oh++) {
        for (let ow = 0; ow < g.ow; ow++) {
          const yi = ((n * g.o + o) * g.oh + oh) * g.ow + ow;
          for (let c = 0; c < cPerGroup; c++) {
            const xBase = (n * g.c + firstChannel + c) * xPlane;
            const wBase = o * wFilter + c * g.kh * g.kw;
            for (let kh = 0; kh < g.kh; kh++) {
              const ih = oh * g.sh - g.padTop + kh * g.dh;
              if (ih < 0 || ih >= g.h) continue;
              for (let kw = 0; kw < g.kw; kw++) {
                const iw = ow * g.sw - g.padLeft + kw * g.dw;
                if (iw < 0 || iw >= g.w) continue;
                visit(xBase + ih * g.w + iw, wBase + kh * g.kw + kw, yi);
              }
            }
          }
        }
      }
    }
  }
}
function addChannelBias(y, bias) {
  if (bias === null) return;
  const [n, c, h, w] = y.shape;
  if (bias.data.length !== c) throw new Error(`bias has ${bias.data.length} values for ${c} channels`);
  const plane = h * w;
  for (let i = 0; i < n * c; i++) {
    const b = bias.data[i % c];
    for (let p = i * plane; p < (i + 1) * plane; p++) y.data[p] += b;
  }
}
function conv2dCpu(x, w, bias, opts = {}) {
  const g = geometry2(x.shape, w.shape, opts);
  const y = hostTensor([g.n, g.o, g.oh, g.ow]);
  forEachTap(g, (xi, wi, yi) => {
    y.data[yi] += x.data[xi] * w.data[wi];
  });
  addChannelBias(y, bias);
  return y;
}
function conv2dBackwardInputCpu(dy, w, xShape, opts = {}) {
  const g = geometry2(xShape, w.shape, opts);
  checkOutputShape(dy, g);
  const dx = hostTensor(xShape);
  forEachTap(g, (xi, wi, yi) => {
    dx.data[xi] += dy.data[yi] * w.data[wi];
  });
  return dx;
}
function conv2dBackwardWeightCpu(x, dy, wShape, opts = {}) {
  const g = geometry2(x.shape, wShape, opts);
  checkOutputShape(dy, g);
  const dw = hostTensor(wShape);
  forEachTap(g, (xi, wi, yi) => {
    dw.data[wi] += x.data[xi] * dy.data[yi];
  });
  return dw;
}
function convTranspose2dCpu(x, w, bias, opts = {}) {
  const [n, cIn, h, wIn] = expectRank(x, 4, "convTranspose2d");
  const [wIn0, oPerGroup, kh, kw] = expectRank(w, 4, "convTranspose2d weight");
  const groups = opts.groups ?? 1;
  if (wIn0 !== cIn) throw new Error(`convTranspose2d: weight has ${wIn0} input channels, x has ${cIn}`);
  const [sh, sw] = opts.stride ?? [1, 1];
  const [padTop, padBottom, padLeft, padRight] = opts.padding ?? [0, 0, 0, 0];
  const [dh, dw] = opts.dilation ?? [1, 1];
  const [oph, opw] = opts.outputPadding ?? [0, 0];
  if (!(oph < sh || oph < dh) || !(opw < sw || opw < dw) || oph < 0 || opw < 0) {
    throw new Error("convTranspose2d: outputPadding must be smaller than stride or dilation");
  }
  const outShape = [
    n,
    oPerGroup * groups,
    convTransposeOutSize(h, kh, sh, padTop, padBottom, dh, oph),
    convTransposeOutSize(wIn, kw, sw, padLeft, padRight, dw, opw)
  ];
  if (outShape[2] < 1 || outShape[3] < 1) throw new Error(`convTranspose2d: empty output ${outShape[2]}x${outShape[3]}`);
  const g = geometry2(outShape, w.shape, opts, [h, wIn]);
  const y = hostTensor(outShape);
  forEachTap(g, (yi, wi, xi) => {
    y.data[yi] += x.data[xi] * w.data[wi];
  });
  addChannelBias(y, bias);
  return y;
}
function checkOutputShape(dy, g) {
  const expected = [g.n, g.o, g.oh, g.ow];
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== expected[i])) {
    throw new Error(`conv2d backward: dy is [${dy.shape.join(", ")}], forward output is [${expected.join(", ")}]`);
  }
}

// engine/ops/conv.ts
var pair = (v, d) => v === void 0 ? [d, d] : typeof v === "number" ? [v, v] : [v[0], v[1]];
function convGeometry(op, opts = {}) {
  const [sh, sw] = pair(opts.stride, 1);
  const [dh, dw] = pair(opts.dilation, 1);
  const p = opts.padding ?? 0;
  let pad;
  if (typeof p === "number") pad = [p, p, p, p];
  else if (p.length === 2) pad = [p[0], p[0], p[1], p[1]];
  else if (p.length === 4) pad = [...p];
  else throw new Error(`${op}: padding ${JSON.stringify(p)} must be a number, [ph, pw] or [top, bottom, left, right]`);
  for (const [name, v] of [["stride", [sh, sw]], ["dilation", [dh, dw]]]) {
    if (v.some((s) => !Number.isInteger(s) || s < 1)) throw new Error(`${op}: ${name} [${v.join(", ")}] must be integers >= 1`);
  }
  if (pad.some((s) => !Number.isInteger(s) || s < 0)) throw new Error(`${op}: padding [${pad.join(", ")}] must be integers >= 0`);
  return { sh, sw, pt: pad[0], pb: pad[1], pl: pad[2], pr: pad[3], dh, dw };
}
var padStr = (g) => `[${g.pt}, ${g.pb}, ${g.pl}, ${g.pr}]`;
function checkRank4(op, what, t, layout) {
  const shape = t instanceof Tensor ? t.shape : t;
  if (shape.length !== 4) {
    throw new Error(`${op}: ${what} must be 4-D ${layout}, got ${fmtShape(shape)}${what === "input" && shape.length === 3 ? "; add the batch dim with reshape(x, [1, ...x.shape])" : ""}`);
  }
  return shape;
}
function convForwardShape(op, xShape, wShape, g) {
  const [n, c, h, w] = checkRank4(op, "input", xShape, "[N, C, H, W]");
  const [o, ci, kh, kw] = checkRank4(op, "weight", wShape, "[out, in, kh, kw]");
  if (ci !== c) {
    throw new Error(
      `${op}: input ${fmtShape(xShape)} has ${c} channels but weight ${fmtShape(wShape)} expects ${ci}; make the weight [${o}, ${c}, ${kh}, ${kw}] or feed a ${ci}-channel input`
    );
  }
  const eh = g.dh * (kh - 1) + 1;
  const ew = g.dw * (kw - 1) + 1;
  const ph = h + g.pt + g.pb;
  const pw = w + g.pl + g.pr;
  if (eh > ph || ew > pw) {
    throw new Error(
      `${op}: kernel ${kh}x${kw} (extent ${eh}x${ew} with dilation [${g.dh}, ${g.dw}]) is larger than the padded input ${ph}x${pw} (input ${fmtShape(xShape)} with padding ${padStr(g)}); add padding, use a smaller kernel or a larger input`
    );
  }
  return [n, o, convOutSize(h, kh, g.sh, g.pt, g.pb, g.dh), convOutSize(w, kw, g.sw, g.pl, g.pr, g.dw)];
}
function checkBias(op, bias, channels, wShape) {
  if (bias && (bias.rank !== 1 || bias.shape[0] !== channels)) {
    throw new Error(`${op}: bias ${fmtShape(bias.shape)} must be [${channels}] (one value per output channel of weight ${fmtShape(wShape)})`);
  }
}
var typed = (values, types) => values.map((v, i) => types[i] === "i32" ? i32(v) : types[i] === "f32" ? f32(v) : v);
function gatherUniforms(v) {
  return typed(GATHER_FIELDS.map((f) => v[f] ?? 0), GATHER_FIELD_TYPES);
}
function convForwardRaw(op, x, w, bias, g, oh, ow, act = "none", slope = 0.01) {
  const [nb, c, h, wd] = x.shape;
  const [o, , kh, kw] = w.shape;
  const y = empty([nb, o, oh, ow], op);
  runGemm({
    op,
    family: gatherFamily({ taps: kh * kw, tapW: kw, aContig: true, bias: !!bias, act }),
    inputs: [w, x],
    epilogueInputs: bias ? [bias] : [],
    out: y,
    M: o,
    N: nb * oh * ow,
    K: c * kh * kw,
    batch: 1,
    uniforms: gatherUniforms({
      PH: oh,
      PW: ow,
      SH: h,
      SW: wd,
      SPh: g.sh,
      SPw: g.sw,
      OFFh: -g.pt,
      OFFw: -g.pl,
      TSh: g.dh,
      TSw: g.dw,
      srcBatch: c * h * wd,
      srcPlane: h * wd,
      KWW: kw,
      OSh: 1,
      OSw: 1,
      OWW: ow,
      outPlane: oh * ow,
      outBatch: o * oh * ow,
      slope
    })
  });
  return y;
}
function gcd(a, b) {
  return b === 0 ? a : gcd(b, a % b);
}
function phases(len, k, s, d, pad) {
  const step = s / gcd(s, d);
  const out = [];
  for (let r = 0; r < s; r++) {
    const count = Math.ceil((len - r) / s);
    if (count <= 0) continue;
    let k0 = -1;
    for (let q = 0; q < Math.min(step, k); q++) {
      if (((q * d - r - pad) % s + s) % s === 0) {
        k0 = q;
        break;
      }
    }
    const taps = k0 < 0 ? 0 : Math.ceil((k - k0) / step);
    out.push({ r, count, k0: Math.max(k0, 0), taps, base: taps ? (r + pad - k0 * d) / s : 0, tapStride: step * d / s, step });
  }
  return out;
}
function convBackwardInputRaw(op, dy, w, xShape, g, bias = null) {
  const [nb, o, oh, ow] = dy.shape;
  const [, c, kh, kw] = w.shape;
  const [, , h, wd] = xShape;
  const dx = empty([nb, c, h, wd], op);
  for (const py of phases(h, kh, g.sh, g.dh, g.pt)) {
    for (const px of phases(wd, kw, g.sw, g.dw, g.pl)) {
      const taps = py.taps * px.taps;
      runGemm({
        op,
        family: gatherFamily({ taps: Math.max(taps, 1), tapW: Math.max(px.taps, 1), aContig: false, bias: !!bias, act: "none" }),
        inputs: [w, dy],
        epilogueInputs: bias ? [bias] : [],
        out: dx,
        M: c,
        N: nb * py.count * px.count,
        K: o * taps,
        batch: 1,
        uniforms: gatherUniforms({
          PH: py.count,
          PW: px.count,
          SH: oh,
          SW: ow,
          SPh: 1,
          SPw: 1,
          OFFh: py.base,
          OFFw: px.base,
          TSh: -py.tapStride,
          TSw: -px.tapStride,
          srcBatch: o * oh * ow,
          srcPlane: oh * ow,
          sAm: kh * kw,
          sAc: c * kh * kw,
          KWW: kw,
          KH0: py.k0,
          KW0: px.k0,
          KSh: py.step,
          KSw: px.step,
          OH0: py.r,
          OW0: px.r,
          OSh: g.sh,
          OSw: g.sw,
          OWW: wd,
          outPlane: h * wd,
          outBatch: c * h * wd
        })
      });
    }
  }
  return dx;
}
function convBackwardWeightRaw(op, x, dy, wShape, g) {
  const [nb, c, h, wd] = x.shape;
  const [, o, oh, ow] = dy.shape;
  const [, , kh, kw] = wShape;
  const dw = empty([o, c, kh, kw], op);
  const v = {
    OHW: oh * ow,
    OWd: ow,
    dyBatch: o * oh * ow,
    xBatch: c * h * wd,
    xPlane: h * wd,
    H: h,
    W: wd,
    sh: g.sh,
    sw: g.sw,
    pt: g.pt,
    pl: g.pl,
    dh: g.dh,
    dw: g.dw,
    pad0: 0,
    pad1: 0,
    pad2: 0
  };
  runGemm({
    op,
    family: wgradFamily({ kk: kh * kw, kw }),
    inputs: [dy, x],
    epilogueInputs: [],
    out: dw,
    M: o,
    N: c * kh * kw,
    K: nb * oh * ow,
    batch: 1,
    uniforms: typed(WGRAD_FIELDS.map((f) => v[f]), WGRAD_FIELD_TYPES)
  });
  return dw;
}
function conv2dOp(x, w, bias, g, oh, ow, act = "none", slope = 0.01) {
  const y = convForwardRaw("conv2d", x, w, bias, g, oh, ow, act, slope);
  const inputs = bias ? [x, w, bias] : [x, w];
  return record(y, "conv2d", inputs, (gy) => {
    if (act === "relu") gy = mul(gy, stepMask(y));
    else if (act === "leaky_relu") gy = mul(gy, affine(stepMask(y), 1 - slope, slope));
    return [
      x.requiresGrad ? conv2dBackwardInputOp(gy, w, x.shape, g) : null,
      w.requiresGrad ? conv2dBackwardWeightOp(x, gy, w.shape, g) : null,
      bias?.requiresGrad ? sum(gy, [0, 2, 3]) : null
    ];
  });
}
function conv2dBackwardInputOp(dy, w, xShape, g) {
  const dx = convBackwardInputRaw("conv2d_backward_input", dy, w, xShape, g);
  return record(dx, "conv2d_backward_input", [dy, w], (gx) => [
    dy.requiresGrad ? conv2dOp(gx, w, null, g, dy.shape[2], dy.shape[3]) : null,
    w.requiresGrad ? conv2dBackwardWeightOp(gx, dy, w.shape, g) : null
  ]);
}
function conv2dBackwardWeightOp(x, dy, wShape, g) {
  const dw = convBackwardWeightRaw("conv2d_backward_weight", x, dy, wShape, g);
  return record(dw, "conv2d_backward_weight", [x, dy], (gw) => [
    x.requiresGrad ? conv2dBackwardInputOp(dy, gw, x.shape, g) : null,
    dy.requiresGrad ? conv2dOp(x, gw, null, g, dy.shape[2], dy.shape[3]) : null
  ]);
}
function conv2d(x, w, bias = null, opts = {}) {
  const op = "conv2d";
  const g = convGeometry(op, opts);
  const [, o, oh, ow] = convForwardShape(op, x.shape, w.shape, g);
  checkBias(op, bias, o, w.shape);
  checkFloat(op, x, w, ...bias ? [bias] : []);
  const act = opts.activation ?? "none";
  if (!["none", "relu", "leaky_relu"].includes(act)) throw new Error(`conv2d: activation '${act}' is not fused; use 'relu' or 'leaky_relu', or apply it after the conv`);
  return conv2dOp(x, w, bias, g, oh, ow, act, opts.slope ?? 0.01);
}
function conv2dBackwardInput(dy, w, xShape, opts = {}) {
  const op = "conv2dBackwardInput";
  const g = convGeometry(op, opts);
  const yShape = convForwardShape(op, xShape, w.shape, g);
  checkRank4(op, "dy", dy, "[N, out, OH, OW]");
  if (dy.shape.some((d, i) => d !== yShape[i])) {
    throw new Error(`${op}: dy ${fmtShape(dy.shape)} does not match the forward output ${fmtShape(yShape)} of input ${fmtShape(xShape)} and weight ${fmtShape(w.shape)}; check xShape and the stride/padding/dilation`);
  }
  checkFloat(op, dy, w);
  return conv2dBackwardInputOp(dy, w, xShape, g);
}
function conv2dBackwardWeight(x, dy, wShape, opts = {}) {
  const op = "conv2dBackwardWeight";
  const g = convGeometry(op, opts);
  const yShape = convForwardShape(op, x.shape, wShape, g);
  checkRank4(op, "dy", dy, "[N, out, OH, OW]");
  if (dy.shape.some((d, i) => d !== yShape[i])) {
    throw new Error(`${op}: dy ${fmtShape(dy.shape)} does not match the forward output ${fmtShape(yShape)} of input ${fmtShape(x.shape)} and weight ${fmtShape(wShape)}; check wShape and the stride/padding/dilation`);
  }
  checkFloat(op, x, dy);
  return conv2dBackwardWeightOp(x, dy, wShape, g);
}
function convTranspose2d(x, w, bias = null, opts = {}) {
  const op = "convTranspose2d";
  const g = convGeometry(op, opts);
  const [n, cin, h, wd] = checkRank4(op, "input", x, "[N, in, H, W]");
  const [wi, cout, kh, kw] = checkRank4(op, "weight", w, "[in, out, kh, kw]");
  if (wi !== cin) {
    throw new Error(
      `${op}: input ${fmtShape(x.shape)} has ${cin} channels but weight ${fmtShape(w.shape)} expects ${wi} (conv-transpose weights are [in, out, kh, kw] as in PyTorch); make the weight [${cin}, ${cout}, ${kh}, ${kw}]`
    );
  }
  const [oph, opw] = pair(opts.outputPadding, 0);
  if ([oph, opw].some((v) => !Number.isInteger(v) || v < 0) || !(oph < g.sh || oph < g.dh) || !(opw < g.sw || opw < g.dw)) {
    throw new Error(`${op}: outputPadding [${oph}, ${opw}] must be integers >= 0 and smaller than the stride [${g.sh}, ${g.sw}] or the dilation [${g.dh}, ${g.dw}]`);
  }
  const oh = convTransposeOutSize(h, kh, g.sh, g.pt, g.pb, g.dh, oph);
  const ow = convTransposeOutSize(wd, kw, g.sw, g.pl, g.pr, g.dw, opw);
  if (oh < 1 || ow < 1) {
    throw new Error(`${op}: output would be ${oh}x${ow} for input ${fmtShape(x.shape)}, weight ${fmtShape(w.shape)} and padding ${padStr(g)}; use less padding`);
  }
  checkBias(op, bias, cout, w.shape);
  checkFloat(op, x, w, ...bias ? [bias] : []);
  const y = convBackwardInputRaw(op, x, w, [n, cout, oh, ow], g, bias);
  const inputs = bias ? [x, w, bias] : [x, w];
  return record(y, "conv_transpose2d", inputs, (gy) => [
    x.requiresGrad ? conv2dOp(gy, w, null, g, h, wd) : null,
    w.requiresGrad ? conv2dBackwardWeightOp(gy, x, w.shape, g) : null,
    bias?.requiresGrad ? sum(gy, [0, 2, 3]) : null
  ]);
}
function cpuOpts(a) {
  const g = convGeometry("reference", a);
  return {
    stride: [g.sh, g.sw],
    padding: [g.pt, g.pb, g.pl, g.pr],
    dilation: [g.dh, g.dw],
    outputPadding: pair(a.outputPadding, 0)
  };
}
var orNull = (t) => t ?? null;
registerOp({
  name: "conv2d",
  run: ([x, w, b], a) => conv2d(x, w, b ?? null, a),
  reference: ([x, w, b], a) => {
    const y = conv2dCpu(x, w, orNull(b), cpuOpts(a));
    const slope = a.activation === "leaky_relu" ? a.slope ?? 0.01 : a.activation === "relu" ? 0 : 1;
    return { shape: y.shape, data: y.data.map((v) => v > 0 ? v : slope * v) };
  },
  cases: [
    { shapes: [[2, 3, 7, 9], [4, 3, 3, 3], [4]], attrs: { padding: 1 }, label: "odd sizes 3x3 pad 1, bias" },
    { shapes: [[1, 3, 8, 7], [5, 3, 3, 3]], attrs: { stride: 2, padding: [1, 0, 2, 1] }, label: "stride 2, asymmetric padding" },
    { shapes: [[1, 2, 9, 8], [3, 2, 3, 3], [3]], attrs: { dilation: 2, padding: 2 }, label: "dilation 2" },
    { shapes: [[2, 5, 4, 5], [7, 5, 1, 1], [7]], label: "1x1" },
    { shapes: [[2, 3, 8, 8], [4, 3, 4, 4]], attrs: { stride: 2, padding: 1 }, label: "DCGAN 4x4 s2 p1" },
    { shapes: [[1, 2, 9, 9], [3, 2, 7, 7], [3]], attrs: { padding: 3 }, label: "7x7 pad 3" },
    { shapes: [[1, 18, 4, 3], [3, 18, 2, 2]], attrs: { padding: [1, 0, 0, 1] }, label: "18 input channels" },
    { shapes: [[1, 3, 4, 5], [19, 3, 2, 2], [19]], attrs: { stride: [1, 2], padding: [0, 1] }, label: "19 output channels" },
    { shapes: [[1, 2, 8, 9], [3, 2, 3, 2]], attrs: { stride: [2, 3], padding: [1, 2, 0, 1], dilation: [2, 1] }, label: "mixed stride/dilation" },
    { shapes: [[2, 2, 5, 5], [3, 2, 3, 3], [3]], attrs: { padding: 1, activation: "leaky_relu", slope: 0.2 }, label: "fused leaky_relu" }
  ],
  doubleBackward: true
});
registerOp({
  name: "conv2d_backward_input",
  run: ([dy, w], a) => conv2dBackwardInput(dy, w, a.xShape, a),
  reference: ([dy, w], a) => conv2dBackwardInputCpu(dy, w, a.xShape, cpuOpts(a)),
  cases: [
    { shapes: [[2, 4, 7, 9], [4, 3, 3, 3]], attrs: { xShape: [2, 3, 7, 9], padding: 1 } },
    { shapes: [[1, 4, 5, 3], [4, 3, 4, 4]], attrs: { xShape: [1, 3, 9, 8], stride: 2, padding: [1, 2, 1, 0] }, label: "stride 2, remainder rows" },
    { shapes: [[1, 3, 4, 3], [3, 2, 3, 2]], attrs: { xShape: [1, 2, 8, 9], stride: [2, 3], padding: [1, 2, 0, 1], dilation: [2, 1] }, label: "mixed stride/dilation" }
  ],
  doubleBackward: true
});
registerOp({
  name: "conv2d_backward_weight",
  run: ([x, dy], a) => conv2dBackwardWeight(x, dy, a.wShape, a),
  reference: ([x, dy], a) => conv2dBackwardWeightCpu(x, dy, a.wShape, cpuOpts(a)),
  cases: [
    { shapes: [[2, 3, 7, 9], [2, 4, 7, 9]], attrs: { wShape: [4, 3, 3, 3], padding: 1 } },
    { shapes: [[1, 3, 9, 8], [1, 4, 5, 3]], attrs: { wShape: [4, 3, 4, 4], stride: 2, padding: [1, 2, 1, 0] }, label: "stride 2" },
    { shapes: [[1, 2, 8, 9], [1, 3, 4, 3]], attrs: { wShape: [3, 2, 3, 2], stride: [2, 3], padding: [1, 2, 0, 1], dilation: [2, 1] }, label: "mixed stride/dilation" }
  ],
  doubleBackward: true
});
registerOp({
  name: "conv_transpose2d",
  run: ([x, w, b], a) => convTranspose2d(x, w, b ?? null, a),
  reference: ([x, w, b], a) => convTranspose2dCpu(x, w, orNull(b), cpuOpts(a)),
  cases: [
    { shapes: [[2, 4, 3, 3], [4, 3, 4, 4], [3]], attrs: { stride: 2, padding: 1 }, label: "DCGAN 4x4 s2 p1" },
    { shapes: [[1, 5, 3, 4], [5, 2, 3, 3], [2]], attrs: { stride: 2, padding: 1, outputPadding: 1 }, label: "CycleGAN k3 s2 p1 op1" },
    { shapes: [[2, 6, 1, 1], [6, 5, 4, 4]], attrs: { stride: 1, padding: 0 }, label: "DCGAN first layer 1x1 -> 4x4" },
    { shapes: [[1, 2, 3, 4], [2, 3, 3, 2]], attrs: { stride: [3, 2], padding: [1, 0, 0, 2], dilation: [2, 1], outputPadding: [1, 0] }, label: "mixed stride/dilation/outputPadding" },
    { shapes: [[1, 2, 4, 4], [2, 2, 3, 3]], attrs: { dilation: 2, outputPadding: 1 }, label: "outputPadding >= stride (< dilation)" },
    { shapes: [[1, 17, 3, 2], [17, 3, 3, 3], [3]], attrs: { padding: 1 }, label: "17 input channels" }
  ],
  doubleBackward: true
});

// engine/init.ts
function normal_(t, mean2 = 0, std = 1, gen) {
  checkFloat("normal_", t);
  if (!(std >= 0)) throw new Error(`normal_: std = ${std} must be non-negative`);
  return fillRandom_(t, "normal", [mean2, std], gen, "normal_");
}
function uniform_(t, a = 0, b = 1, gen) {
  checkFloat("uniform_", t);
  if (!(b >= a)) throw new Error(`uniform_: need a <= b (got a = ${a}, b = ${b})`);
  return fillRandom_(t, "uniform", [a, b], gen, "uniform_");
}
function constant_(t, value) {
  checkFloat("constant_", t);
  const n = t.size;
  if (n > 0) launch({ key: "fill", code: fillSource(), bindings: ["rw"], op: "constant_" }, [t], [n, f32(value), 0, 0], grid1d(n, COPY_WG), { op: "constant_" });
  return t;
}
var zeros_ = (t) => constant_(t, 0);
function fillFrom(t, src) {
  if (src.size !== t.size || src.dtype !== t.dtype) {
    throw new Error(`fillFrom: source ${src.describe()} (${src.size} elements) does not match target ${t.describe()} (${t.size} elements)`);
  }
  if (t.size > 0 && src.buffer !== t.buffer) t.engine.copy(src.buffer, 0, t.buffer, 0, t.size * 4);
  return t;
}
function calculateFanInAndFanOut(shape) {
  if (shape.length < 2) throw new Error(`calculateFanInAndFanOut: needs a tensor with at least 2 dims, got ${fmtShape(shape)}`);
  const rf = numel(shape.slice(2));
  return { fanIn: shape[1] * rf, fanOut: shape[0] * rf };
}
function calculateGain(nonlinearity, param) {
  switch (nonlinearity) {
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leaky_relu": {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case "selu":
      return 3 / 4;
    default:
      return 1;
  }
}
function kaimingStd(t, o, op) {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t.shape);
  const mode = o.mode ?? "fan_in";
  if (mode !== "fan_in" && mode !== "fan_out") throw new Error(`${op}: mode must be 'fan_in' or 'fan_out', got '${mode}'`);
  const fan = mode === "fan_in" ? fanIn : fanOut;
  if (fan === 0) throw new Error(`${op}: ${fmtShape(t.shape)} has a zero ${mode}`);
  return calculateGain(o.nonlinearity ?? "leaky_relu", o.a ?? 0) / Math.sqrt(fan);
}
function kaimingUniform_(t, opts = {}) {
  const b = Math.sqrt(3) * kaimingStd(t, opts, "kaimingUniform_");
  return uniform_(t, -b, b, opts.generator);
}
function dcganInit_(modules, gen) {
  let count = 0;
  for (const m of modules) {
    const mod = m;
    const kind = (mod.kind ?? m.constructor?.name ?? "").toLowerCase();
    if (kind.includes("conv") || kind.includes("linear")) {
      if (mod.weight) normal_(mod.weight, 0, 0.02, gen);
      if (mod.bias) zeros_(mod.bias);
      count++;
    } else if (kind.includes("norm")) {
      if (mod.weight) normal_(mod.weight, 1, 0.02, gen);
      if (mod.bias) zeros_(mod.bias);
      count++;
    }
  }
  return count;
}

// engine/io/safetensors.ts
var LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
var f32Scratch = new Float32Array(1);
var u32Scratch = new Uint32Array(f32Scratch.buffer);
function f16BitsToNumber(h) {
  const sign = h & 32768 ? -1 : 1;
  const exp2 = h >> 10 & 31;
  const frac = h & 1023;
  if (exp2 === 0) return sign * frac * 2 ** -24;
  if (exp2 === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp2 - 15);
}
function f16ToFloat32(bits) {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = f16BitsToNumber(bits[i]);
  return out;
}
function bf16ToFloat32(bits) {
  const out = new Float32Array(bits.length);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) u[i] = bits[i] << 16;
  return out;
}
function tensorToFloat32(t) {
  switch (t.dtype) {
    case "F32":
      return t.data;
    case "F16":
      return f16ToFloat32(t.data);
    case "BF16":
      return bf16ToFloat32(t.data);
    case "I64":
    case "U64": {
      const d = t.data;
      const out = new Float32Array(d.length);
      for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
      return out;
    }
    default:
      return Float32Array.from(t.data);
  }
}

// engine/nn/state.ts
function stateEntries(dict) {
  return dict instanceof Map ? [...dict.entries()] : Object.entries(dict);
}
function stateShape(v) {
  return v instanceof Tensor ? v.shape : v.shape;
}
var INT_DTYPES = /* @__PURE__ */ new Set(["I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8", "BOOL"]);
function stateKind(v) {
  if (v instanceof Tensor) return v.dtype;
  return INT_DTYPES.has(v.dtype) ? "int32" : "float32";
}
var sameShape = (a, b) => a.length === b.length && a.every((d, i) => d === b[i]);
function checkState(key, dst, src) {
  if (src instanceof Tensor && src.isDisposed) return `${key}: the source tensor was disposed`;
  const s = stateShape(src);
  if (!sameShape(s, dst.shape)) {
    return `size mismatch for ${key}: copying a tensor with shape ${fmtShape(s)} from the state dict, the shape in the current model is ${fmtShape(dst.shape)}`;
  }
  const kind = stateKind(src);
  if (kind !== dst.dtype) {
    const from = src instanceof Tensor ? src.dtype : src.dtype;
    return `dtype mismatch for ${key}: the state dict holds ${from}, the current model holds ${dst.dtype}`;
  }
  return null;
}
function copyStateInto(dst, src) {
  if (src instanceof Tensor) {
    if (src.storage === dst.storage || dst.size === 0) return;
    dst.engine.copy(src.buffer, 0, dst.buffer, 0, dst.size * 4);
    return;
  }
  if (dst.dtype === "int32") {
    const d = src.data;
    const out = new Int32Array(d.length);
    if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
      for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
    } else {
      for (let i = 0; i < d.length; i++) out[i] = d[i];
    }
    assign(dst, out);
  } else {
    assign(dst, tensorToFloat32(src));
  }
}

// engine/nn/module.ts
function Parameter(t) {
  if (t.node) {
    throw new Error(`Parameter(): ${t.describe()} is the output of ${t.node.op}; a parameter must be a leaf (pass t.detach() or a fresh tensor)`);
  }
  if (t.dtype !== "float32") throw new Error(`Parameter(): parameters are float32, got ${t.describe()}`);
  t.isParameter = true;
  t.requiresGrad = true;
  return t.keep();
}
function fmtCount(n) {
  return n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}
var Module = class _Module {
  _training = true;
  _buffers = /* @__PURE__ */ new Map();
  /** The computation. Subclasses override with their own signature (usually (x: Tensor) => Tensor). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  forward(..._args) {
    throw new Error(`${this.typeName}.forward() is not implemented`);
  }
  /** Runs forward() (the equivalent of calling a torch.nn.Module). */
  call(...args) {
    return this.forward(...args);
  }
  /** The class name shown by describe() (override when a bundler mangles names). */
  get typeName() {
    return this.constructor.name;
  }
  // ---- mode ------------------------------------------------------------------------------------
  get training() {
    return this._training;
  }
  /** Sets training mode on this module and every descendant. */
  train(on = true) {
    for (const [, m] of this.namedModules()) m._training = on;
    return this;
  }
  eval() {
    return this.train(false);
  }
  // ---- registration ----------------------------------------------------------------------------
  /** Name/value pairs of this module's own attributes, in registration order (overridden by containers). */
  ownEntries() {
    return Object.entries(this);
  }
  /**
   * Registers a buffer (state that is not trained, e.g. BatchNorm's running_mean) under its
   * state_dict name. The tensor is kept alive past tidy(). `persistent: false` leaves it out of
   * stateDict(); `optional: true` tolerates its absence in loadStateDict().
   */
  registerBuffer(name, t, opts = {}) {
    if (!name || name.includes(".")) throw new Error(`registerBuffer: invalid buffer name '${name}' (non-empty, no dots)`);
    t?.keep();
    this._buffers.set(name, { tensor: t, persistent: opts.persistent ?? true, optional: opts.optional ?? false });
  }
  /** A registered buffer (null when registered as null; throws when never registered). */
  getBuffer(name) {
    const e2 = this._buffers.get(name);
    if (!e2) throw new Error(`${this.typeName}: no buffer named '${name}'`);
    return e2.tensor;
  }
  /** Direct children, in registration order. */
  namedChildren() {
    const out = [];
    for (const [k, v] of this.ownEntries()) {
      if (v instanceof _Module) out.push([k, v]);
      else if (Array.isArray(v) && v.some((x) => x instanceof _Module)) {
        throw new Error(`${this.typeName}.${k} is a plain array of modules, which would not be registered (its parameters would be invisible to optimisers and state dicts); wrap it: new ModuleList(...)`);
      }
    }
    return out;
  }
  children() {
    return this.namedChildren().map(([, m]) => m);
  }
  /** This module's own parameters (not its children's), in registration order. */
  ownParameters() {
    const out = [];
    for (const [k, v] of this.ownEntries()) if (v instanceof Tensor && v.isParameter) out.push([k, v]);
    return out;
  }
  /** This module and every descendant, each once, depth first: ['', this], ['main', ...], ['main.0', ...]. */
  namedModules(prefix = "") {
    const out = [];
    const seen = /* @__PURE__ */ new Set();
    const visit = (m, p) => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([p, m]);
      for (const [k, c] of m.namedChildren()) visit(c, p ? `${p}.${k}` : k);
    };
    visit(this, prefix);
    return out;
  }
  modules() {
    return this.namedModules().map(([, m]) => m);
  }
  /** Every parameter with its dotted name, each tensor once (a shared module counts once). */
  namedParameters(prefix = "") {
    const out = [];
    const seen = /* @__PURE__ */ new Set();
    for (const [mp, m] of this.namedModules(prefix)) {
      for (const [k, p] of m.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([mp ? `${mp}.${k}` : k, p]);
      }
    }
    return out;
  }
  parameters() {
    return this.namedParameters().map(([, p]) => p);
  }
  /** Every buffer (persistent or not) with its dotted name. */
  namedBuffers(prefix = "") {
    const out = [];
    const seen = /* @__PURE__ */ new Set();
    for (const [mp, m] of this.namedModules(prefix)) {
      for (const [k, e2] of m._buffers) {
        if (!e2.tensor || seen.has(e2.tensor)) continue;
        seen.add(e2.tensor);
        out.push([mp ? `${mp}.${k}` : k, e2.tensor]);
      }
    }
    return out;
  }
  buffers() {
    return this.namedBuffers().map(([, b]) => b);
  }
  /** Total number of parameter elements (each shared tensor once). */
  numParameters() {
    return this.parameters().reduce((s, p) => s + p.size, 0);
  }
  // ---- state dict ------------------------------------------------------------------------------
  /**
   * Parameters and persistent buffers by PyTorch state_dict key, in PyTorch's order. The values are
   * the module's live tensors (not copies): read them (e.g. saveModel) before training on.
   */
  stateDict(prefix = "") {
    const out = /* @__PURE__ */ new Map();
    this.collectState(prefix, out, null);
    return out;
  }
  collectState(prefix, out, optional, path = []) {
    if (path.includes(this)) {
      throw new Error(`${this.typeName}: module '${prefix.slice(0, -1)}' contains itself (a cycle of module references); a state dict cannot be formed`);
    }
    for (const [k, p] of this.ownParameters()) out.set(prefix + k, p);
    for (const [k, e2] of this._buffers) {
      if (!e2.tensor || !e2.persistent) continue;
      out.set(prefix + k, e2.tensor);
      if (e2.optional) optional?.add(prefix + k);
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
  validateStateDict(dict, opts = {}) {
    const strict = opts.strict ?? true;
    const own = /* @__PURE__ */ new Map();
    const optional = /* @__PURE__ */ new Set();
    this.collectState("", own, optional);
    const given = stateEntries(dict);
    const givenKeys = new Set(given.map(([k]) => k));
    const missingKeys = [...own.keys()].filter((k) => !givenKeys.has(k) && !optional.has(k));
    const unexpectedKeys = given.map(([k]) => k).filter((k) => !own.has(k));
    const problems = [];
    const quote = (ks) => ks.map((k) => `"${k}"`).join(", ");
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
  loadStateDict(dict, opts = {}) {
    const { missingKeys, unexpectedKeys, problems } = this.validateStateDict(dict, opts);
    if (problems.length) {
      throw new Error(`Error(s) in loading state_dict for ${this.typeName}:
	${problems.join("\n	")}`);
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
  zeroGrad() {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }
  /** Frees every parameter and buffer of this module tree; the module is unusable afterwards. */
  dispose() {
    for (const p of this.parameters()) p.dispose();
    for (const b of this.buffers()) b.dispose();
  }
  // ---- printing --------------------------------------------------------------------------------
  /** The arguments shown between the parentheses of describe() (PyTorch's extra_repr). */
  extraRepr() {
    return "";
  }
  /**
   * The module tree like PyTorch's repr, with parameter counts:
   *   Sequential(  # 1,234 params
   *     (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))  # 224 params
   *     ...
   *   )
   */
  describe() {
    return this.reprLines().join("\n");
  }
  toString() {
    return this.describe();
  }
  reprLines() {
    const n = this.numParameters();
    const note = n ? `  # ${fmtCount(n)} param${n === 1 ? "" : "s"}` : "";
    const extra = this.extraRepr();
    const children = this.namedChildren();
    if (!children.length) return [`${this.typeName}(${extra})${note}`];
    const lines = [`${this.typeName}(${extra ? extra + "," : ""}${note}`];
    for (const [k, c] of children) {
      const sub2 = c.reprLines();
      lines.push(`  (${k}): ${sub2[0]}`, ...sub2.slice(1).map((l) => "  " + l));
    }
    lines.push(")");
    return lines;
  }
  /** A one-line summary of every parameter and buffer: name, shape, element count. */
  summary() {
    const rows = [...this.stateDict()].map(([k, t]) => `${k.padEnd(40)} ${fmtShape(t.shape).padEnd(20)} ${t.dtype === "int32" ? "int" : fmtCount(t.size)}`);
    rows.push(`total: ${fmtCount(this.numParameters())} parameters`);
    return rows.join("\n");
  }
};
var ModuleList = class extends Module {
  items;
  constructor(modules = []) {
    super();
    this.items = [...modules];
    this.items.forEach((m, i) => {
      if (!(m instanceof Module)) throw new Error(`${this.typeName}: entry ${i} is not a Module`);
    });
  }
  ownEntries() {
    return this.items.map((m, i) => [String(i), m]);
  }
  get length() {
    return this.items.length;
  }
  at(i) {
    const m = this.items.at(i);
    if (!m) throw new Error(`${this.typeName}: index ${i} is out of range (length ${this.items.length})`);
    return m;
  }
  append(m) {
    if (!(m instanceof Module)) throw new Error(`${this.typeName}.append: not a Module`);
    this.items.push(m);
    return this;
  }
  [Symbol.iterator]() {
    return this.items[Symbol.iterator]();
  }
};
var Sequential = class extends ModuleList {
  constructor(...modules) {
    super(modules);
  }
  forward(x) {
    let h = x;
    for (const m of this.items) h = m.call(h);
    return h;
  }
};

// shaders/optim.ts
var OPTIM_WG = 256;
function bindings3(state) {
  const lines = [
    "@group(0) @binding(1) var<storage, read> grad: array<f32>;",
    "@group(0) @binding(2) var<storage, read_write> param: array<f32>;"
  ];
  state.forEach((s, i) => lines.push(`@group(0) @binding(${3 + i}) var<storage, read_write> ${s}: array<f32>;`));
  return lines.join("\n");
}
function adamSource(decay) {
  const stateBuffers = ["m", "v"];
  const code = wgsl`
struct Params { n: u32, beta2: f32, one_minus_beta1: f32, one_minus_beta2: f32,
  eps: f32, wd: f32, decay: f32, step_size: f32, bc2_sqrt: f32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> u: Params;
${bindings3(stateBuffers)}
${main1d(OPTIM_WG)} {
  let i = ${index1d(OPTIM_WG)};
  if (i >= u.n) { return; }
  var g = grad[i];
  var p = param[i];
#if ${decay === "decoupled"}
  p = p * u.decay;
#endif
#if ${decay === "l2"}
  g = g + u.wd * p;
#endif
  let m1 = m[i] + u.one_minus_beta1 * (g - m[i]);
  let v1 = u.beta2 * v[i] + u.one_minus_beta2 * g * g;
  m[i] = m1;
  v[i] = v1;
  param[i] = p - u.step_size * m1 / (sqrt(v1) / u.bc2_sqrt + u.eps);
}`;
  return { code, stateBuffers };
}
function nonFiniteCountSource() {
  return (
    /* wgsl */
    `
struct Params { n: u32, slot: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>>;
var<workgroup> local_count: atomic<u32>;
@compute @workgroup_size(${OPTIM_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = ${index1d(OPTIM_WG)};
  if (lid == 0u) { atomicStore(&local_count, 0u); }
  workgroupBarrier();
  if (i < u.n) {
    let bits = bitcast<u32>(x[i]);
    if ((bits & 0x7f800000u) == 0x7f800000u) { atomicAdd(&local_count, 1u); }
  }
  workgroupBarrier();
  if (lid == 0u) {
    let c = atomicLoad(&local_count);
    if (c > 0u) { atomicAdd(&counts[u.slot], c); }
  }
}`
  );
}
function counterAddSource() {
  return (
    /* wgsl */
    `
struct Params { delta: i32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read_write> c: array<i32>;
@compute @workgroup_size(1)
fn main() {
  c[0] = c[0] + u.delta;
}`
  );
}

// engine/nn/layers.ts
var pair2 = (v) => typeof v === "number" ? [v, v] : [v[0], v[1]];
function paddingTBLR(p) {
  if (typeof p === "number") return [p, p, p, p];
  if (p.length === 2) return [p[0], p[0], p[1], p[1]];
  return [p[0], p[1], p[2], p[3]];
}
function checkPositiveInt(where, what, v) {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${where}: ${what} must be a positive integer, got ${v}`);
}
function pyFloat(v) {
  if (Number.isInteger(v)) return v.toFixed(1);
  if (v !== 0 && Math.abs(v) < 1e-4) return v.toExponential().replace(/e([+-])(\d)$/, "e$10$2");
  return String(v);
}
var pyTuple = (v) => `(${v.join(", ")})`;
var pyBool = (b) => b ? "True" : "False";
function checkInput(where, x, rank, channels) {
  const ranks = typeof rank === "number" ? [rank] : rank;
  if (!ranks.includes(x.rank)) {
    throw new Error(`${where}: expects a ${ranks.join("-D or ")}-D input (${ranks.includes(4) ? "N, C, H, W" : "N, C, ..."}), got ${fmtShape(x.shape)}`);
  }
  if (channels !== void 0 && x.shape[1] !== channels) {
    throw new Error(`${where}: expects ${channels} input channels (dim 1), got an input of shape ${fmtShape(x.shape)}`);
  }
}
function defaultInit(weight, bias, fanIn) {
  noGrad(() => {
    kaimingUniform_(weight, { a: Math.sqrt(5) });
    if (bias) {
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform_(bias, -bound, bound);
    }
  });
}
var Conv2d = class extends Module {
  constructor(inChannels, outChannels, kernelSize, opts = {}) {
    super();
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    checkPositiveInt("Conv2d", "inChannels", inChannels);
    checkPositiveInt("Conv2d", "outChannels", outChannels);
    this.kernelSize = pair2(kernelSize);
    this.stride = pair2(opts.stride ?? 1);
    this.padding = opts.padding ?? 0;
    this.dilation = pair2(opts.dilation ?? 1);
    this.paddingMode = opts.paddingMode ?? "zeros";
    const [kh, kw] = this.kernelSize;
    this.weight = Parameter(empty([outChannels, inChannels, kh, kw], "Conv2d.weight"));
    this.bias = opts.bias ?? true ? Parameter(empty([outChannels], "Conv2d.bias")) : null;
    defaultInit(this.weight, this.bias, inChannels * kh * kw);
  }
  inChannels;
  outChannels;
  weight;
  bias;
  kernelSize;
  stride;
  padding;
  dilation;
  paddingMode;
  forward(x) {
    checkInput(this.typeName, x, 4, this.inChannels);
    const conv = { stride: this.stride, dilation: this.dilation };
    if (this.paddingMode !== "zeros") {
      const padded = pad2d(x, paddingTBLR(this.padding), this.paddingMode, 0);
      return conv2d(padded, this.weight, this.bias, { ...conv, padding: 0 });
    }
    return conv2d(x, this.weight, this.bias, { ...conv, padding: paddingTBLR(this.padding) });
  }
  extraRepr() {
    const parts = [`${this.inChannels}, ${this.outChannels}, kernel_size=${pyTuple(this.kernelSize)}, stride=${pyTuple(this.stride)}`];
    const p = paddingTBLR(this.padding);
    if (p.some((v) => v !== 0)) parts.push(`padding=${p[0] === p[1] && p[2] === p[3] ? pyTuple([p[0], p[2]]) : pyTuple(p)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${pyTuple(this.dilation)}`);
    if (!this.bias) parts.push("bias=False");
    if (this.paddingMode !== "zeros") parts.push(`padding_mode=${this.paddingMode}`);
    return parts.join(", ");
  }
};
var ConvTranspose2d = class extends Module {
  constructor(inChannels, outChannels, kernelSize, opts = {}) {
    super();
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    checkPositiveInt("ConvTranspose2d", "inChannels", inChannels);
    checkPositiveInt("ConvTranspose2d", "outChannels", outChannels);
    this.kernelSize = pair2(kernelSize);
    this.stride = pair2(opts.stride ?? 1);
    this.padding = opts.padding ?? 0;
    this.outputPadding = pair2(opts.outputPadding ?? 0);
    this.dilation = pair2(opts.dilation ?? 1);
    const [kh, kw] = this.kernelSize;
    this.weight = Parameter(empty([inChannels, outChannels, kh, kw], "ConvTranspose2d.weight"));
    this.bias = opts.bias ?? true ? Parameter(empty([outChannels], "ConvTranspose2d.bias")) : null;
    defaultInit(this.weight, this.bias, outChannels * kh * kw);
  }
  inChannels;
  outChannels;
  weight;
  bias;
  kernelSize;
  stride;
  padding;
  outputPadding;
  dilation;
  forward(x) {
    checkInput(this.typeName, x, 4, this.inChannels);
    return convTranspose2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: paddingTBLR(this.padding),
      outputPadding: this.outputPadding,
      dilation: this.dilation
    });
  }
  extraRepr() {
    const parts = [`${this.inChannels}, ${this.outChannels}, kernel_size=${pyTuple(this.kernelSize)}, stride=${pyTuple(this.stride)}`];
    const p = paddingTBLR(this.padding);
    if (p.some((v) => v !== 0)) parts.push(`padding=${p[0] === p[1] && p[2] === p[3] ? pyTuple([p[0], p[2]]) : pyTuple(p)}`);
    if (this.outputPadding.some((v) => v !== 0)) parts.push(`output_padding=${pyTuple(this.outputPadding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${pyTuple(this.dilation)}`);
    if (!this.bias) parts.push("bias=False");
    return parts.join(", ");
  }
};
var NormBase = class extends Module {
  constructor(numFeatures, opts, defaults) {
    super();
    this.numFeatures = numFeatures;
    checkPositiveInt(new.target.name, "numFeatures", numFeatures);
    this.eps = opts.eps ?? 1e-5;
    if (opts.momentum === null) throw new Error(`${new.target.name}: momentum = null (cumulative moving average) is not supported; pass a number (default 0.1)`);
    this.momentum = opts.momentum ?? 0.1;
    this.affine = opts.affine ?? defaults.affine;
    this.trackRunningStats = opts.trackRunningStats ?? defaults.trackRunningStats;
    this.weight = this.affine ? Parameter(ones([numFeatures])) : null;
    this.bias = this.affine ? Parameter(zeros([numFeatures])) : null;
    if (this.trackRunningStats) {
      this.registerBuffer("running_mean", zeros([numFeatures]));
      this.registerBuffer("running_var", ones([numFeatures]));
      this.registerBuffer("num_batches_tracked", tensor([0], [], "int32"), { optional: true });
    }
  }
  numFeatures;
  weight;
  bias;
  eps;
  momentum;
  affine;
  trackRunningStats;
  get runningMean() {
    return this.trackRunningStats ? this.getBuffer("running_mean") : null;
  }
  get runningVar() {
    return this.trackRunningStats ? this.getBuffer("running_var") : null;
  }
  get numBatchesTracked() {
    return this.trackRunningStats ? this.getBuffer("num_batches_tracked") : null;
  }
  /** Resets running statistics to mean 0, variance 1 and the batch counter to 0. */
  resetRunningStats() {
    if (!this.trackRunningStats) return;
    this.runningMean.engine.upload(this.runningMean.buffer, new Float32Array(this.numFeatures));
    this.runningVar.engine.upload(this.runningVar.buffer, new Float32Array(this.numFeatures).fill(1));
    this.numBatchesTracked.engine.upload(this.numBatchesTracked.buffer, new Int32Array(1));
  }
  extraRepr() {
    return `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${pyFloat(this.momentum)}, affine=${pyBool(this.affine)}, track_running_stats=${pyBool(this.trackRunningStats)}`;
  }
};
function bumpCounter(t) {
  launch({ key: "counter_add", code: counterAddSource(), bindings: ["rw"], op: "num_batches_tracked" }, [t], [i32(1), 0, 0, 0], [1, 1, 1], { op: "num_batches_tracked", bytes: 4 });
}
var BatchNormBase = class extends NormBase {
  constructor(numFeatures, opts = {}) {
    super(numFeatures, opts, { affine: true, trackRunningStats: true });
  }
  normalize(x) {
    const track2 = this.trackRunningStats;
    const training = this.training || !track2;
    if (this.training && track2) bumpCounter(this.numBatchesTracked);
    return batchNorm(x, this.weight, this.bias, {
      training,
      runningMean: track2 ? this.runningMean : void 0,
      runningVar: track2 ? this.runningVar : void 0,
      momentum: this.momentum,
      eps: this.eps
    });
  }
};
var BatchNorm2d = class extends BatchNormBase {
  forward(x) {
    checkInput(this.typeName, x, 4, this.numFeatures);
    return this.normalize(x);
  }
};
var ReLU = class extends Module {
  forward(x) {
    return relu(x);
  }
};
var LeakyReLU = class extends Module {
  constructor(negativeSlope = 0.01) {
    super();
    this.negativeSlope = negativeSlope;
  }
  negativeSlope;
  forward(x) {
    return leakyRelu(x, this.negativeSlope);
  }
  extraRepr() {
    return `negative_slope=${this.negativeSlope}`;
  }
};
var Tanh = class extends Module {
  forward(x) {
    return tanh(x);
  }
};

// engine/optim.ts
function normalizeParams(params, who) {
  const list = params instanceof Module ? params.namedParameters() : [...params].map(
    (p, i) => p instanceof Tensor ? [p.name ?? `#${i}`, p] : [p[0], p[1]]
  );
  if (!list.length) throw new Error(`${who}: got an empty parameter list`);
  const seen = /* @__PURE__ */ new Set();
  for (const [name, p] of list) {
    if (!(p instanceof Tensor)) throw new Error(`${who}: parameter ${name} is not a Tensor`);
    if (p.dtype !== "float32") throw new Error(`${who}: parameter ${name} ${p.describe()} is not float32`);
    if (!p.requiresGrad) throw new Error(`${who}: parameter ${name} ${p.describe()} does not require grad (create it with Parameter(), or call requireGrad())`);
    if (p.node) throw new Error(`${who}: ${name} ${p.describe()} is computed by ${p.node.op}, not a leaf; optimise leaves only`);
    if (seen.has(p)) throw new Error(`${who}: parameter ${name} appears twice in the parameter list`);
    seen.add(p);
  }
  return list;
}
var NONFINITE_SPEC = null;
function checkNumber(who, name, v, lo, hi = Infinity, hiOpen = false) {
  if (!(typeof v === "number" && v >= lo && (hiOpen ? v < hi : v <= hi))) {
    throw new Error(`${who}: invalid ${name} ${v} (must be in [${lo}, ${hi}${hiOpen ? ")" : "]"})`);
  }
}
var Optimizer = class {
  /** Learning rate (settable; schedulers write it). */
  lr;
  checkFinite;
  slots;
  counts = null;
  /** `who` names the optimiser in constructor errors (subclass fields are not set yet). */
  constructor(params, opts, defaultLr, who) {
    this.slots = normalizeParams(params, who).map(([name, param]) => ({ name, param, step: 0, state: /* @__PURE__ */ new Map() }));
    this.lr = opts.lr ?? defaultLr;
    checkNumber(who, "learning rate", this.lr, 0);
    this.checkFinite = !!opts.checkFinite;
  }
  get params() {
    return this.slots.map((s) => s.param);
  }
  /** Step count of parameter i (0 before its first update). */
  stepCount(i = 0) {
    return this.slots[i].step;
  }
  /**
   * Applies one update to every parameter that has a gradient. Returns nothing (no host sync) unless
   * the optimiser was built with checkFinite, in which case it returns a Promise that rejects, with
   * nothing changed, when a gradient holds NaN or Inf.
   */
  step() {
    if (this.checkFinite) return this.checkedStep();
    this.applyUpdates();
  }
  applyUpdates() {
    const work = [];
    for (const s of this.slots) {
      const g = s.param.grad;
      if (!g) continue;
      if (s.param.isDisposed) throw new Error(`${this.typeName}.step(): parameter ${s.name} was disposed`);
      if (g.isDisposed) throw new Error(`${this.typeName}.step(): the gradient of ${s.name} was disposed`);
      if (g.dtype !== "float32" || g.rank !== s.param.rank || g.shape.some((d, k) => d !== s.param.shape[k])) {
        throw new Error(`${this.typeName}.step(): the gradient of ${s.name} has shape ${fmtShape(g.shape)}, the parameter ${fmtShape(s.param.shape)}`);
      }
      work.push([s, g]);
    }
    for (const [s, g] of work) {
      const names = this.stateNames();
      let fresh = false;
      for (const n of names) {
        if (!s.state.has(n)) {
          s.state.set(n, zeros(s.param.shape).keep());
          fresh = true;
        }
      }
      s.step++;
      this.update(s, g, fresh);
    }
  }
  /** Counts NaN/Inf gradient values on the GPU, reads the counts back, and steps only if all are zero. */
  async checkedStep() {
    const n = this.slots.length;
    const counts = this.counts && !this.counts.isDisposed ? this.counts : this.counts = tensor(new Int32Array(n), [n], "int32").keep();
    assign(counts, new Int32Array(n));
    const spec = NONFINITE_SPEC ??= { key: "optim_nonfinite_count", code: nonFiniteCountSource(), bindings: ["read", "rw"], op: "check_finite" };
    this.slots.forEach((s, i) => {
      const g = s.param.grad;
      if (g && g.size) launch(spec, [g, counts], [g.size, i, 0, 0], grid1d(g.size, OPTIM_WG), { op: "check_finite", bytes: 4 * g.size });
    });
    const c = new Uint32Array((await counts.dataInt()).buffer);
    const bad = this.slots.map((s, i) => [s, c[i]]).filter(([, k]) => k > 0);
    if (bad.length) {
      const list = bad.map(([s, k]) => `${s.name} ${fmtShape(s.param.shape)} (${k} of ${s.param.size} values)`).join(", ");
      throw new Error(
        `${this.typeName}.step(): non-finite gradients (NaN or Inf) in ${list}. The step was skipped: parameters, optimiser state and step counts are unchanged. Usual causes: a learning rate too high, log(0) or division by zero in the loss, or exploding activations.`
      );
    }
    this.applyUpdates();
  }
  /** Drops (and frees) every parameter's gradient. */
  zeroGrad() {
    for (const s of this.slots) {
      s.param.grad?.dispose();
      s.param.grad = null;
    }
  }
  /**
   * Hyperparameters, step counts and state tensors. The tensors are the live state (not copies):
   * read them (a checkpoint does) before the next step.
   */
  stateDict() {
    const steps = {};
    const tensors = {};
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
  validateStateDict(sd) {
    if (sd.type !== this.typeName) return [`the state is for ${sd.type}, this optimiser is ${this.typeName}`];
    const previous = this.hyper();
    const problems = [];
    try {
      this.setHyper({ ...previous, ...sd.hyper });
    } catch (e2) {
      this.setHyper(previous);
      return [e2.message];
    }
    try {
      const names = this.stateNames();
      const steps = /* @__PURE__ */ new Set();
      for (const [k, v] of Object.entries(sd.steps)) {
        const i = Number(k);
        if (!Number.isInteger(i) || i < 0 || i >= this.slots.length) problems.push(`state for parameter #${k}, but this optimiser has ${this.slots.length} parameters`);
        else steps.add(i);
        if (!Number.isInteger(v) || v < 0) problems.push(`parameter #${k}: invalid step count ${v}`);
      }
      const tensors = new Map(stateEntries(sd.tensors));
      for (const key of tensors.keys()) {
        const dot = key.indexOf(".");
        if (dot < 0 || !steps.has(Number(key.slice(0, dot))) || !names.includes(key.slice(dot + 1))) problems.push(`unexpected state tensor '${key}'`);
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
  loadStateDict(sd) {
    const problems = this.validateStateDict(sd);
    if (problems.length) throw new Error(`${this.typeName}.loadStateDict: the state does not fit this optimiser:
	${problems.join("\n	")}`);
    this.setHyper({ ...this.hyper(), ...sd.hyper });
    const names = this.stateNames();
    const tensors = new Map(stateEntries(sd.tensors));
    this.slots.forEach((s, i) => {
      const step = sd.steps[i];
      for (const [n, t] of [...s.state]) {
        if (step === void 0 || !names.includes(n)) {
          t.dispose();
          s.state.delete(n);
        }
      }
      s.step = step ?? 0;
      if (step === void 0) return;
      for (const n of names) {
        let t = s.state.get(n);
        if (!t) s.state.set(n, t = zeros(s.param.shape).keep());
        copyStateInto(t, tensors.get(`${i}.${n}`));
      }
    });
  }
  /** Frees the optimiser's state tensors (the parameters are not touched). */
  dispose() {
    for (const s of this.slots) {
      for (const t of s.state.values()) t.dispose();
      s.state.clear();
    }
    this.counts?.dispose();
    this.counts = null;
  }
  /** Live state tensor `name` of parameter i (tests, inspection). */
  stateOf(i, name) {
    return this.slots[i].state.get(name);
  }
};
var bindingsFor = (stateCount) => ["read", "rw", ...Array(stateCount).fill("rw")];
var specs = /* @__PURE__ */ new Map();
function specFor(key, op, build) {
  let s = specs.get(key);
  if (!s) {
    const { code, stateBuffers } = build();
    specs.set(key, s = { key, code, bindings: bindingsFor(stateBuffers.length), op });
  }
  return s;
}
var Adam = class extends Optimizer {
  betas;
  eps;
  weightDecay;
  decoupled;
  constructor(params, opts = {}) {
    super(params, opts, 2e-4, opts.decoupled ? "AdamW" : "Adam");
    this.betas = [...opts.betas ?? [0.5, 0.999]];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.decoupled = opts.decoupled ?? false;
    this.validate();
  }
  get typeName() {
    return this.decoupled ? "AdamW" : "Adam";
  }
  validate() {
    checkNumber(this.typeName, "beta1", this.betas[0], 0, 1, true);
    checkNumber(this.typeName, "beta2", this.betas[1], 0, 1, true);
    checkNumber(this.typeName, "eps", this.eps, 0);
    checkNumber(this.typeName, "weight decay", this.weightDecay, 0);
  }
  hyper() {
    return { lr: this.lr, betas: [...this.betas], eps: this.eps, weight_decay: this.weightDecay, decoupled: this.decoupled };
  }
  setHyper(h) {
    this.lr = h.lr;
    this.betas = [...h.betas];
    this.eps = h.eps;
    this.weightDecay = h.weight_decay;
    this.decoupled = h.decoupled;
    this.validate();
  }
  stateNames() {
    return ["m", "v"];
  }
  update(s, g) {
    const [b1, b2] = this.betas;
    const t = s.step;
    const mode = this.weightDecay === 0 ? "none" : this.decoupled ? "decoupled" : "l2";
    const n = s.param.size;
    launch(
      specFor(`optim_adam|wd=${mode}`, "adam_step", () => adamSource(mode)),
      [g, s.param, s.state.get("m"), s.state.get("v")],
      [
        n,
        f32(b2),
        f32(1 - b1),
        f32(1 - b2),
        f32(this.eps),
        f32(this.weightDecay),
        f32(1 - this.lr * this.weightDecay),
        f32(this.lr / (1 - b1 ** t)),
        f32(Math.sqrt(1 - b2 ** t)),
        0,
        0,
        0
      ],
      grid1d(n, OPTIM_WG),
      { op: "adam_step", bytes: 28 * n }
    );
  }
};

// nets/dcgan.ts
function dcganDepth(imageSize) {
  const k = Math.log2(imageSize) - 2;
  if (!Number.isInteger(k) || k < 1 || k > 6) {
    throw new Error(`DCGAN: image size must be a power of two from 8 to 256, got ${imageSize}`);
  }
  return k;
}
var conv4 = { bias: false };
var DcganGenerator = class extends Module {
  constructor(cfg) {
    super();
    this.cfg = cfg;
    const { nz, ngf, nc } = cfg;
    const k = dcganDepth(cfg.imageSize);
    let ch = ngf * 2 ** (k - 1);
    const layers = [
      // z -> ch x 4 x 4
      new ConvTranspose2d(nz, ch, 4, { ...conv4, stride: 1, padding: 0 }),
      new BatchNorm2d(ch),
      new ReLU()
    ];
    for (let i = 1; i < k; i++) {
      layers.push(new ConvTranspose2d(ch, ch / 2, 4, { ...conv4, stride: 2, padding: 1 }), new BatchNorm2d(ch / 2), new ReLU());
      ch /= 2;
    }
    layers.push(new ConvTranspose2d(ch, nc, 4, { ...conv4, stride: 2, padding: 1 }), new Tanh());
    this.main = new Sequential(...layers);
  }
  cfg;
  main;
  forward(z) {
    return this.main.call(z);
  }
};
var DcganDiscriminator = class extends Module {
  constructor(cfg) {
    super();
    this.cfg = cfg;
    const { nc, ndf } = cfg;
    const k = dcganDepth(cfg.imageSize);
    let ch = ndf;
    const layers = [
      // nc x s x s -> ndf x s/2 x s/2 (no batch norm on the first layer, as in the paper)
      new Conv2d(nc, ch, 4, { ...conv4, stride: 2, padding: 1 }),
      new LeakyReLU(0.2)
    ];
    for (let i = 1; i < k; i++) {
      layers.push(new Conv2d(ch, ch * 2, 4, { ...conv4, stride: 2, padding: 1 }), new BatchNorm2d(ch * 2), new LeakyReLU(0.2));
      ch *= 2;
    }
    layers.push(new Conv2d(ch, 1, 4, { ...conv4, stride: 1, padding: 0 }));
    this.main = new Sequential(...layers);
  }
  cfg;
  main;
  /** One logit per image: [N]. */
  forward(x) {
    return reshape(this.main.call(x), [-1]);
  }
};
var DcganTrainer = class {
  constructor(config, settings, seed) {
    this.config = config;
    this.cfg = dcganConfig(config);
    this.rng = new Generator(seed);
    const netG = new DcganGenerator(this.cfg);
    const netD = new DcganDiscriminator(this.cfg);
    dcganInit_(netG.modules(), this.rng);
    dcganInit_(netD.modules(), this.rng);
    this.nets = { netG, netD };
    const betas = [settings.beta1, settings.beta2];
    this.optimizers = {
      netG: new Adam(netG, { lr: settings.lr, betas }),
      netD: new Adam(netD, { lr: settings.lr, betas })
    };
  }
  config;
  nets;
  optimizers;
  rng;
  sampler = "netG";
  cfg;
  noise(n, generator) {
    return randn([n, this.cfg.nz, 1, 1], { generator });
  }
  step(real2, withStats) {
    const { netG, netD } = this.nets;
    return tidy(() => {
      const z = this.noise(real2.shape[0], this.rng);
      const fake = netG.call(z);
      netD.zeroGrad();
      const outReal = netD.call(real2);
      const outFake = netD.call(fake.detach());
      const lossD = add(bceWithLogits(outReal, 1), bceWithLogits(outFake, 0));
      backward(lossD);
      this.optimizers.netD.step();
      const outG = netD.call(fake);
      const lossG = bceWithLogits(outG, 1);
      const paramsG = netG.parameters();
      const gradsG = grad(lossG, paramsG);
      paramsG.forEach((p, i) => {
        p.grad?.dispose();
        p.grad = gradsG[i].keep();
      });
      this.optimizers.netG.step();
      if (!withStats) return null;
      return noGrad(() => ({
        lossD: lossD.detach(),
        lossG: lossG.detach(),
        D_x: mean(sigmoid(outReal)),
        D_G_z1: mean(sigmoid(outFake)),
        D_G_z2: mean(sigmoid(outG))
      }));
    });
  }
  generate(z, opts = {}) {
    return generateWith(this.nets.netG, z, opts.batchStats ?? true);
  }
};
function generateWith(netG, z, batchStats) {
  const wasTraining = netG.training;
  return noGrad(() => {
    if (!batchStats) {
      netG.eval();
      try {
        return tidy(() => netG.call(z));
      } finally {
        netG.train(wasTraining);
      }
    }
    const buffers = netG.buffers();
    const saved = buffers.map((b) => fillFrom(empty(b.shape, "bn_snapshot", b.dtype), b).keep());
    try {
      netG.train();
      return tidy(() => netG.call(z));
    } finally {
      buffers.forEach((b, i) => b.engine.copy(saved[i].buffer, 0, b.buffer, 0, b.size * 4));
      saved.forEach((t) => t.dispose());
      netG.train(wasTraining);
    }
  });
}
function dcganConfig(c) {
  return { imageSize: Number(c.imageSize), nc: Number(c.nc ?? 1), nz: Number(c.nz), ngf: Number(c.ngf), ndf: Number(c.ndf) };
}
var dcganRecipe = {
  name: "dcgan",
  description: "DCGAN (Radford et al. 2016): conv G and D with batch norm; the PyTorch example",
  reference: "arXiv:1511.06434; github.com/pytorch/examples/tree/main/dcgan",
  // The paper's setting is --image-size 64 --ngf 64 --ndf 64 --batch 128 --lr 2e-4 (the PyTorch
  // example: batch 64). The defaults below are scaled to finish in minutes on a software adapter:
  // 16-channel nets on 32x32 MNIST. Adam moves each weight by about lr per step, and a narrow G
  // needs its last-layer weights to grow several times larger than a wide one's before it paints
  // the black background, so at 2e-4 these small nets would need ~4x the steps: 5e-4 (1e-3 for the
  // even smaller --quick nets) draws recognisable digits within the default run.
  options: {
    imageSize: { type: "int", default: 32, help: "image side, a power of two (32: MNIST padded; 64: the paper)", metavar: "N" },
    nz: { type: "int", default: 100, help: "latent vector length", metavar: "N" },
    ngf: { type: "int", default: 16, help: "generator width (channels of its last hidden layer; the paper: 64)", metavar: "N" },
    ndf: { type: "int", default: 16, help: "discriminator width (channels of its first layer; the paper: 64)", metavar: "N" }
  },
  train: {
    steps: 300,
    batch: 16,
    lr: 5e-4,
    beta1: 0.5,
    beta2: 0.999,
    sampleEvery: 50,
    ckptEvery: 100,
    logEvery: 10,
    dataset: "mnist"
  },
  quick: { steps: 150, batch: 8, ngf: 16, ndf: 8, lr: 1e-3, sampleEvery: 50, ckptEvery: 0, logEvery: 10 },
  adaptToData: (c, data) => ({ ...c, nc: data.channels }),
  imageShape: (c) => ({ channels: Number(c.nc ?? 1), size: Number(c.imageSize) }),
  validate(c) {
    const errs = [];
    const size2 = Number(c.imageSize);
    const k = Math.log2(size2) - 2;
    if (!Number.isInteger(k) || k < 1 || k > 6) errs.push(`--image-size must be a power of two from 8 to 256, got ${c.imageSize}`);
    const nc = Number(c.nc ?? 1);
    if (nc !== 1 && nc !== 3) errs.push(`--dataset must give 1- or 3-channel images (DCGAN draws one image per sample), got ${nc} channels`);
    for (const key of ["nz", "ngf", "ndf"]) {
      const v = Number(c[key]);
      if (!Number.isInteger(v) || v < 1 || v > 4096) errs.push(`--${key} must be an integer in [1, 4096], got ${c[key]}`);
    }
    return errs;
  },
  inferConfig: inferDcganConfig,
  create: (config, settings, seed) => new DcganTrainer(config, settings, seed)
};
function inferDcganConfig(net, shapes) {
  const convs = [];
  for (const [key, shape] of shapes) {
    const m = /^main\.(\d+)\.weight$/.exec(key);
    if (m && shape.length === 4) convs.push([Number(m[1]), shape]);
  }
  convs.sort((a, b) => a[0] - b[0]);
  const k = convs.length - 1;
  if (k < 1) return null;
  const at = convs.map(([i]) => i);
  const first = convs[0][1];
  const last = convs[k][1];
  if (net === "netG") {
    if (!at.every((i, j) => i === 3 * j)) return null;
    return { imageSize: 4 * 2 ** k, nz: first[0], ngf: last[0], nc: last[1] };
  }
  if (net === "netD") {
    if (!at.every((i, j) => i === (j === 0 ? 0 : 3 * j - 1))) return null;
    return { imageSize: 4 * 2 ** k, ndf: first[0], nc: first[1] };
  }
  return null;
}

// ../../tmp/dg/t5.ts
var e = await initEngine({ log: true });
var tr = dcganRecipe.create({ imageSize: 16, nz: 16, ngf: 4, ndf: 4, nc: 1 }, dcganRecipe.train, 1);
var real = tensor(new Float32Array(4 * 256).map(() => Math.random() * 2 - 1), [4, 1, 16, 16]).keep();
var orig = e.kernel.bind(e);
var keys = [];
e.kernel = (spec) => {
  if (!keys.includes(spec.key)) {
    keys.push(spec.key);
  }
  return orig(spec);
};
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  tr.step(real, false);
  await e.sync();
  console.log("step", i, ((performance.now() - t0) / 1e3).toFixed(2), "s", keys.length, "kernels");
}
