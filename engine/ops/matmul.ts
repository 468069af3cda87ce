// matmul (rank 2 and batched rank 3, transpose flags) and linear, plus the GEMM launcher shared
// with the convolutions (engine/ops/conv.ts). Kernels: shaders/matmul.ts (register-blocked tiles,
// split-K with a reduction pass). Backward passes are matmuls with transpose flags, never explicit
// transposes, so they are themselves differentiable.
import {
  GEMM_DIRECT_WG,
  gemmDirectSource,
  GEMM_REDUCE_WG,
  GEMM_TILES,
  gemmReduceSource,
  gemmSource,
  matmulFamily,
  tileDims,
  tileSmemBytes,
  type GemmFamily,
  type GemmTile,
  type GemmTileName,
} from '../../shaders/matmul.js';
import type { Engine, UniformValue } from '../device.js';
import { type Tensor, empty, checkFloat, fmtShape } from '../tensor.js';
import { engine } from '../device.js';
import { record } from '../tape.js';
import { grid1d, launch } from './kernel.js';
import { registerOp } from './registry.js';
import { reshape } from './movement.js';
import { sum } from './reduce.js';
import { linearCpu, matmulCpu } from './cpu/nn.js';

// ---- the GEMM launcher ----------------------------------------------------------------------------

export interface GemmConfig {
  tile: GemmTile;
  splits: number;
  kChunk: number;
}

export interface GemmOverride {
  tile?: GemmTileName;
  splits?: number;
  /** Staging loads as a loop (true) or unrolled per slot (false); default: by adapter. */
  looped?: boolean;
  /**
   * The direct kernel (gemmDirectSource) for families that have one: true forces it, false
   * forces the tiled kernels; default: direct on
   * software adapters, tiled on GPUs. Setting `tile` or `splits` also selects the tiled kernels.
   */
  direct?: boolean;
  /** Row groups (subgroup-sized) per invocation of the direct kernel (default 1 or 2 by M). */
  directRowGroups?: number;
}

let gemmOverride: GemmOverride | null = null;

/**
 * Forces the tile and/or the split-K factor of every GEMM (matmul, linear, all conv passes) until
 * called with null. For tests that must cover each tile shape on small problems, and for tuning.
 */
export function setGemmOverride(o: GemmOverride | null): void {
  gemmOverride = o;
  planCache.clear();
}

/**
 * Relative throughput of a full tile of each shape (register blocking and reuse per staged byte),
 * for a discrete GPU and for a software adapter (lavapipe, SwiftShader: SIMD across invocations,
 * where big per-thread blocks and barriers cost more than they save).
 */
const TILE_EFFICIENCY: Record<'gpu' | 'cpu', Partial<Record<GemmTileName, number>>> = {
  // GPU figures fitted to an H200 sweep of the full bench suite (bench/NOTES.md, 2026-11-27).
  gpu: { t128: 0.9, t128k16: 0.95, t64x128: 1, t64: 0.85, t32x128: 0.65, t32: 0.3 },
  cpu: { t64: 0.9, t32: 1, t64x128: 0.8 },
};

/** Workgroups of 256 threads a big GPU keeps resident (132 SMs x 2); smaller groups fit more. */
const GPU_SLOTS_256 = 264;

/** GEMM plans by problem, per engine (the adapter decides): planning runs once per shape. */
const planCache = new Map<string, GemmConfig>();
let planEngine: Engine | null = null;

function splitFor(K: number, tile: GemmTile, groups: number, target: number, maxZ: number): number {
  // Split K while there are too few workgroups to fill the machine and each split keeps >= 8 steps.
  let s = 1;
  if (groups < target / 2 && K >= 16 * tile.tk) s = Math.min(Math.ceil(target / groups), Math.floor(K / (8 * tile.tk)), 64);
  return Math.max(1, Math.min(s, maxZ));
}

/** Picks the tile and split-K factor for C[batch][M, N] = A[M, K] B[K, N] (memoised per engine and shape). */
export function pickGemmConfig(M: number, N: number, K: number, batch: number): GemmConfig {
  const e = engine();
  if (planEngine !== e) {
    planCache.clear();
    planEngine = e;
  }
  const key = `${M},${N},${K},${batch}`;
  let plan = planCache.get(key);
  if (!plan) {
    plan = planGemm(e, M, N, K, batch);
    planCache.set(key, plan);
  }
  return plan;
}

function planGemm(e: Engine, M: number, N: number, K: number, batch: number): GemmConfig {
  const lim = e.limits;
  const maxWg = lim.maxComputeWorkgroupsPerDimension;
  const fits = (t: GemmTile) => {
    const { bm, nt } = tileDims(t);
    return (
      tileSmemBytes(t) <= lim.maxComputeWorkgroupStorageSize && nt <= lim.maxComputeInvocationsPerWorkgroup && Math.ceil(M / bm) <= maxWg
    );
  };
  const cpu = e.isSoftware;
  const eff = TILE_EFFICIENCY[cpu ? 'cpu' : 'gpu'];
  let best: { cost: number; tile: GemmTile; splits: number } | null = null;
  const names = gemmOverride?.tile ? [gemmOverride.tile] : (Object.keys(eff) as GemmTileName[]);
  for (const name of names) {
    const tile = GEMM_TILES[name];
    if (!fits(tile)) continue;
    const { bm, bn, nt } = tileDims(tile);
    const groups = Math.ceil(M / bm) * Math.ceil(N / bn) * batch;
    // A software adapter runs a handful of workgroups at once (one per core). On a GPU, registers,
    // not thread counts, bound residency for these register-blocked tiles, so a smaller workgroup
    // does not buy proportionally more concurrent tiles: measured on an H200 (bench/NOTES.md),
    // counting them as 4x more made t32 win everywhere while 64- and 128-wide tiles ran 1.2-2x faster.
    const slots = cpu ? 8 : GPU_SLOTS_256 * Math.sqrt(256 / nt);
    let splits = splitFor(K, tile, groups, slots, Math.floor(maxWg / (batch * columnSlices(Math.ceil(N / bn), maxWg))));
    if (gemmOverride?.splits) splits = gemmOverride.splits;
    // Time ~ waves of resident workgroups x the work of one (padded) tile, plus the split-K pass.
    const waves = Math.ceil((groups * splits) / slots);
    const cost = (waves * bm * bn * Math.ceil(Math.max(K, 1) / splits)) / (eff[name] ?? 0.5) + (splits > 1 ? M * N * batch * splits : 0);
    if (!best || cost < best.cost) best = { cost, tile, splits };
  }
  if (!best) throw new Error(`gemm: no tile fits [${M} x ${N}] x ${K} within this adapter's limits`);
  const { tile } = best;
  let splits = Math.max(1, Math.min(best.splits, Math.ceil(K / tile.tk)));
  let kChunk = Math.ceil(K / splits / tile.tk) * tile.tk;
  splits = Math.max(1, Math.ceil(K / Math.max(kChunk, 1)));
  if (splits === 1) kChunk = Math.max(K, 1);
  return { tile, splits, kChunk };
}

export interface GemmLaunch {
  op: string;
  /** The kernel family (shaders/matmul.ts, shaders/conv.ts). */
  family: GemmFamily;
  /** Bound in the family's `inputs` order, then its `epilogueInputs`, then `out`. */
  inputs: Tensor[];
  epilogueInputs: Tensor[];
  out: Tensor;
  /** Bound after `out` in the family's `extraOutputs` order. */
  extraOutputs?: Tensor[];
  M: number;
  N: number;
  K: number;
  batch: number;
  /**
   * Pick the tile and split-K as for this batch size (default: `batch`). The conv input gradient's
   * phased launch plans as for one phase, so its sums split (and round) as the per-phase launches'.
   */
  planBatch?: number;
  /** Pick the tile and split-K as for this N (default: N); the conv weight gradient's bias column plans without it. */
  planN?: number;
  /** The family's uniform fields after the standard head. */
  uniforms: UniformValue[];
  /**
   * Accumulation flags (GEMM_ACC_OUT / GEMM_ACC_EXTRA): the family's stores add into `out` / the
   * extra outputs instead of overwriting them (the tape's gradient accumulation). Default 0.
   */
  accumulate?: number;
}

/** Runs one GEMM: the main kernel, plus the split-K reduction when the K range is split. */
export function runGemm(g: GemmLaunch): void {
  if (g.M * g.N * g.batch === 0) return;
  if (useDirect(g)) {
    runGemmDirect(g);
    return;
  }
  const { tile: t, splits, kChunk } = pickGemmConfig(g.M, g.planN ?? g.N, g.K, g.planBatch ?? g.batch);
  const fam = g.family;
  const { bm, bn } = tileDims(t);
  const [gx, xs] = foldColumns(g, Math.ceil(g.N / bn), g.batch * splits);
  const uniforms = [g.M, g.N, g.K, splits, kChunk, g.batch, g.accumulate ?? 0, xs, ...g.uniforms];
  const grid: [number, number, number] = [gx, Math.ceil(g.M / bm), g.batch * splits * xs];
  const reads = (n: number) => Array<'read'>(n).fill('read');
  const looped = gemmOverride?.looped ?? engine().isSoftware;
  const extra = g.extraOutputs ?? [];
  if (extra.length !== (fam.extraOutputs ?? []).length)
    throw new Error(`${g.op}: ${fam.key} writes ${(fam.extraOutputs ?? []).length} extra outputs, got ${extra.length}`);
  const variant = `${t.name}${looped ? '|loop' : ''}`;
  if (splits === 1) {
    launch(
      {
        key: `${fam.key}|${variant}`,
        code: () => gemmSource(fam, t, false, looped),
        bindings: [...reads(fam.inputs.length + fam.epilogueInputs.length), 'rw', ...extra.map(() => 'rw' as const)],
        op: g.op,
      },
      [...g.inputs, ...g.epilogueInputs, g.out, ...extra],
      uniforms,
      grid,
      { op: g.op },
    );
    return;
  }
  const part = empty([g.batch * splits * g.M * g.N], `${g.op} (split-K partials)`);
  launch(
    {
      key: `${fam.key}|${variant}|split`,
      code: () => gemmSource(fam, t, true, looped),
      bindings: [...reads(fam.inputs.length), 'rw'],
      op: g.op,
    },
    [...g.inputs, part],
    uniforms,
    grid,
    { op: g.op },
  );
  launch(
    {
      key: `${fam.key}|reduce`,
      code: () => gemmReduceSource(fam),
      bindings: [...reads(1 + fam.epilogueInputs.length), 'rw', ...extra.map(() => 'rw' as const)],
      op: g.op,
    },
    [part, ...g.epilogueInputs, g.out, ...extra],
    uniforms,
    grid1d(g.batch * g.M * g.N, GEMM_REDUCE_WG),
    { op: g.op },
  );
  part.dispose();
}

/** The subgroup size the direct kernels compile for (0: none usable), per engine. */
const directSubgroup = new WeakMap<Engine, number>();

/**
 * A fixed subgroup size of 4 to 32 when the device has the 'subgroups' feature and reports its
 * size (GPUDevice.adapterInfo: llvmpipe 8 with 256-bit vectors, SwiftShader 4), else 0.
 */
function subgroupSize(e: Engine): number {
  let sg = directSubgroup.get(e);
  if (sg === undefined) {
    const info = (e.device as { adapterInfo?: { subgroupMinSize?: number; subgroupMaxSize?: number } }).adapterInfo;
    const lo = info?.subgroupMinSize ?? 0;
    sg = e.features.has('subgroups') && lo === info?.subgroupMaxSize && [4, 8, 16, 32].includes(lo) ? lo : 0;
    directSubgroup.set(e, sg);
  }
  return sg;
}

/**
 * The subgroup size the software-adapter kernels (direct GEMMs, one-subgroup norms) use on this
 * engine: its fixed subgroup size on a software rasteriser, 0 on GPUs or without one.
 */
export function softwareSubgroupSize(): number {
  const e = engine();
  return e.isSoftware ? subgroupSize(e) : 0;
}

/** The fixed subgroup size of this engine's device (4-32), or 0 when it has none usable. */
export function fixedSubgroupSize(): number {
  return subgroupSize(engine());
}

/** Whether this engine's device can run the direct GEMM kernels (forced or by default). */
export function directGemmAvailable(): boolean {
  return subgroupSize(engine()) > 0;
}

/**
 * Whether a GEMM runs as the family's direct kernel: on software adapters with a usable subgroup
 * size (measured against the tiled kernels and tfjs-webgpu on lavapipe in bench/NOTES.md), unless
 * a tile, a split or `direct: false` is forced.
 */
function useDirect(g: GemmLaunch): boolean {
  if (!g.family.direct) return false;
  const o = gemmOverride;
  if (o?.direct === false || (o?.direct === undefined && (o?.tile || o?.splits))) return false;
  const e = engine();
  if (!subgroupSize(e)) {
    if (o?.direct)
      throw new Error(
        `${g.op}: the direct GEMM kernel needs the 'subgroups' feature with a fixed subgroup size of 4-32; this device has none`,
      );
    return false;
  }
  return o?.direct ?? e.isSoftware;
}

/**
 * Row groups (of one subgroup each) per invocation of the direct kernel: the fewest that cover M,
 * up to 4 (more rows reuse each gathered B element more, but compile longer: on llvmpipe about
 * 0.6, 1.2 and 2.8 s of CPU for 1, 2 and 4 groups of 8, against 7.7 s for the tiled t32 kernel).
 */
export function directRowGroups(M: number, sg: number): number {
  return gemmOverride?.directRowGroups ?? (M <= sg ? 1 : M <= 2 * sg ? 2 : 4);
}

/** The slices `blocks` column blocks fold into so that each fits the workgroups per dimension (planGemm bounds split-K by it). */
function columnSlices(blocks: number, maxWg: number): number {
  return Math.ceil(blocks / maxWg);
}

/**
 * Column blocks per dispatch x, and the slices (xs) they are folded into along z, for `blocks`
 * column blocks and `z` workgroups in z per slice: xs = 1 while the blocks fit the adapter's
 * workgroups per dimension (the kernels then index exactly as without folding).
 */
function foldColumns(g: GemmLaunch, blocks: number, z: number): [number, number] {
  const maxWg = engine().limits.maxComputeWorkgroupsPerDimension;
  const xs = columnSlices(blocks, maxWg);
  if (z * xs > maxWg)
    throw new Error(
      `${g.op}: [${g.M} x ${g.N}] x ${g.K} GEMM with ${z} batch/split groups needs ${z * xs} workgroups in z, over the adapter's ${maxWg}; run it in smaller batches`,
    );
  return [Math.ceil(blocks / xs), xs];
}

function runGemmDirect(g: GemmLaunch): void {
  const fam = g.family;
  const sg = subgroupSize(engine());
  const q = directRowGroups(g.M, sg);
  const extra = g.extraOutputs ?? [];
  if (extra.length !== (fam.extraOutputs ?? []).length)
    throw new Error(`${g.op}: ${fam.key} writes ${(fam.extraOutputs ?? []).length} extra outputs, got ${extra.length}`);
  const nIn = fam.inputs.length + fam.epilogueInputs.length;
  // Half-width workgroups when N fits in one: the idle invocations of a 64-wide group still run
  // every K step on a CPU (DCGAN G's first layer: 32 columns, K = 512).
  const wg = g.N <= GEMM_DIRECT_WG / 2 && GEMM_DIRECT_WG / 2 >= sg ? GEMM_DIRECT_WG / 2 : GEMM_DIRECT_WG;
  const [gx, xs] = foldColumns(g, Math.ceil(g.N / wg), g.batch);
  launch(
    {
      key: `${fam.key}|direct${q}x${sg}|wg${wg}`,
      code: () => gemmDirectSource(fam, q, sg, wg),
      bindings: [...Array<'read'>(nIn).fill('read'), 'rw', ...extra.map(() => 'rw' as const)],
      op: g.op,
    },
    [...g.inputs, ...g.epilogueInputs, g.out, ...extra],
    [g.M, g.N, g.K, 1, Math.max(g.K, 1), g.batch, g.accumulate ?? 0, xs, ...g.uniforms],
    [gx, Math.ceil(g.M / (q * sg)), g.batch * xs],
    { op: g.op },
  );
}

// ---- matmul ---------------------------------------------------------------------------------------

export interface MatmulOpts {
  /** Use a^T: a is stored [K, M] (per batch). */
  transA?: boolean;
  /** Use b^T: b is stored [N, K] (per batch). */
  transB?: boolean;
}

interface MatmulDims {
  batch: number;
  batched: boolean;
  M: number;
  N: number;
  K: number;
}

function matmulDims(op: string, a: Tensor, b: Tensor, transA: boolean, transB: boolean): MatmulDims {
  checkFloat(op, a, b);
  for (const [name, t] of [
    ['a', a],
    ['b', b],
  ] as const) {
    if (t.rank !== 2 && t.rank !== 3) {
      throw new Error(
        `${op}: ${name} is ${fmtShape(t.shape)}; it must be rank 2 [rows, cols] or rank 3 [batch, rows, cols] (reshape higher ranks first)`,
      );
    }
  }
  const ba = a.rank === 3 ? a.shape[0] : 0;
  const bb = b.rank === 3 ? b.shape[0] : 0;
  if (ba && bb && ba !== bb)
    throw new Error(
      `${op}: batch sizes differ: a ${fmtShape(a.shape)} vs b ${fmtShape(b.shape)}; make them equal or pass one operand as rank 2 to share it`,
    );
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [M, K] = transA ? [ac, ar] : [ar, ac];
  const [Kb, N] = transB ? [bc, br] : [br, bc];
  if (K !== Kb) {
    throw new Error(
      `${op}: inner sizes differ: a ${fmtShape(a.shape)}${transA ? ' (transposed)' : ''} gives K = ${K}, b ${fmtShape(b.shape)}${transB ? ' (transposed)' : ''} gives K = ${Kb}; ` +
        `transpose an operand (transA/transB) or fix its shape`,
    );
  }
  return { batch: Math.max(ba, bb, 1), batched: !!(ba || bb), M, N, K };
}

/** y = op(a) op(b) (+ bias[n]) without autograd. */
function matmulRaw(op: string, a: Tensor, b: Tensor, transA: boolean, transB: boolean, bias: Tensor | null): Tensor {
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
    uniforms: [ac, bc, a.rank === 3 ? ar * ac : 0, b.rank === 3 ? br * bc : 0],
  });
  return y;
}

/**
 * op(a) @ op(b) for rank-2 operands, or batched for rank-3 ones ([B, M, K] @ [B, K, N]); a rank-2
 * operand next to a rank-3 one is shared by every batch. transA / transB read an operand
 * transposed in place (a stored [K, M], b stored [N, K]).
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOpts = {}): Tensor {
  const transA = !!opts.transA;
  const transB = !!opts.transB;
  const y = matmulRaw('matmul', a, b, transA, transB, null);
  return record(y, 'matmul', [a, b], (g) => [
    a.requiresGrad ? matmulGradA(a, b, g, transA, transB) : null,
    b.requiresGrad ? matmulGradB(a, b, g, transA, transB) : null,
  ]);
}

/** Sums a batched gradient over the batch when its operand was shared (rank 2). */
const unbatch = (gx: Tensor, x: Tensor) => (gx.rank > x.rank ? sum(gx, 0) : gx);

function matmulGradA(a: Tensor, b: Tensor, g: Tensor, transA: boolean, transB: boolean): Tensor {
  // C = op(A) op(B): dop(A) = g op(B)^T; stored transposed, dA = op(B) g^T. A shared (rank-2) a
  // gets the batched gradient summed over the batch.
  const ga = transA ? matmul(b, g, { transA: transB, transB: true }) : matmul(g, b, { transB: !transB });
  return unbatch(ga, a);
}

function matmulGradB(a: Tensor, b: Tensor, g: Tensor, transA: boolean, transB: boolean): Tensor {
  // dop(B) = op(A)^T g; stored transposed, dB = g^T op(A).
  if (b.rank === 2 && a.rank === 3 && !transA) {
    // A shared b sees every batch row: flatten [B, M, *] to [B*M, *] and reduce over it in one GEMM.
    const [B, M, K] = a.shape;
    const N = g.shape[2];
    const a2 = reshape(a, [B * M, K]);
    const g2 = reshape(g, [B * M, N]);
    return transB ? matmul(g2, a2, { transA: true }) : matmul(a2, g2, { transA: true });
  }
  const gb = transB ? matmul(g, a, { transA: true, transB: transA }) : matmul(a, g, { transA: !transA });
  return unbatch(gb, b);
}

/**
 * F.linear: y = x w^T + b, x [..., in], w [out, in], bias [out] or null. The bias is added in the
 * GEMM's epilogue.
 */
export function linear(x: Tensor, w: Tensor, bias: Tensor | null = null): Tensor {
  if (x.rank < 1 || w.rank !== 2) {
    throw new Error(`linear: expects x [N, in] and w [out, in], got x ${fmtShape(x.shape)} and w ${fmtShape(w.shape)}`);
  }
  const inF = x.shape[x.rank - 1];
  const [outF, wIn] = w.shape;
  if (wIn !== inF) {
    throw new Error(
      `linear: x ${fmtShape(x.shape)} has ${inF} features but weight ${fmtShape(w.shape)} expects ${wIn}; the weight must be [out, in] = [${outF}, ${inF}]`,
    );
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outF)) {
    throw new Error(`linear: bias ${fmtShape(bias.shape)} must be [${outF}] (one value per output feature)`);
  }
  if (x.rank !== 2) {
    const lead = x.shape.slice(0, -1);
    return reshape(linear(reshape(x, [-1, inF]), w, bias), [...lead, outF]);
  }
  checkFloat('linear', x, w, ...(bias ? [bias] : []));
  const y = matmulRaw('linear', x, w, false, true, bias);
  const inputs = bias ? [x, w, bias] : [x, w];
  return record(y, 'linear', inputs, (g) => [
    x.requiresGrad ? matmul(g, w) : null,
    w.requiresGrad ? matmul(g, x, { transA: true }) : null,
    bias?.requiresGrad ? sum(g, 0) : null,
  ]);
}

// ---- registry -------------------------------------------------------------------------------------

registerOp({
  name: 'matmul',
  run: ([a, b], at) => matmul(a, b, { transA: !!at.transA, transB: !!at.transB }),
  reference: ([a, b], at) => matmulCpu(a, b, { transA: !!at.transA, transB: !!at.transB }),
  doubleBackward: true,
});

registerOp({
  name: 'linear',
  run: ([x, w, b]) => linear(x, w, b ?? null),
  reference: ([x, w, b]) => {
    // linearCpu takes [N, in]; leading dims flatten into N.
    const inF = x.shape[x.shape.length - 1];
    const y = linearCpu({ shape: [x.data.length / inF, inF], data: x.data }, w, b ?? null);
    return { shape: [...x.shape.slice(0, -1), w.shape[0]], data: y.data };
  },
  doubleBackward: true,
});
