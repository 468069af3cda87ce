// Register-blocked GEMM: one skeleton shared by matmul/linear and every convolution pass.
//
// Legend (all kernels built here):
//   C[z][m, n] = sum_k A[z][m, k] * B[z][k, n]      m < M, n < N, k < K, z < batch
//   BM x BN     output tile of one workgroup; BM = WGY*RM, BN = WGX*RN
//   RM x RN     outputs per thread (register block), kept as RM*RN/4 vec4 accumulators
//   TK          K step: each step stages A[BM x TK] and B[TK x BN] in workgroup memory
//   As, Bs      the staged tiles, K-major ([kk][mm], [kk][nn]) and read back as vec4; each row is
//               padded by one vec4 so stores from threads walking k hit different banks
//   pa, pb      this thread's share of the next step's tiles, fetched from global memory into
//               registers while the current step computes (software pipelining)
//   tid         local_invocation_index; tx = tid % WGX, ty = tid / WGX
//   splits      split-K: wg.z = (zb * splits + zs) * xs + slice; split zs reduces k in
//               [zs*kChunk, (zs+1)*kChunk) and writes its partial C to `part`, which
//               gemmReduceSource() sums up
//   xs          column slices folded into z when the column blocks exceed the adapter's
//               workgroups per dimension: block = slice * num_workgroups.x + wg.x
// Thread (tx, ty) owns rows  m = m0 + iv*(4*WGY) + 4*ty + c   (iv < RM/4, c < 4)
//               and columns n = n0 + jv*(4*WGX) + 4*tx + q   (jv < RN/4, q < 4),
// so a warp's vec4 reads of Bs are consecutive (no bank conflicts) and its stores are contiguous.
//
// A kernel family (matmul below, the convolutions in shaders/conv.ts) plugs in as data + WGSL:
//   aFast / bFast      which dim of each staging tile consecutive threads walk ('k' or 'x' = m/n);
//                      pick the one contiguous in global memory
//   setup              WGSL run once per thread before the K loop (fn setup()); may fill private
//                      state from gTid, gM0, gN0, gZb (e.g. the pixel behind this thread's column)
//   prelude            WGSL at the top of each fetch (k0, kEnd known): per-step decoding
//   aVal / bVal        WGSL setting `val` for one staged element: tile-local kk and xx, global
//                      k = k0 + kk; must leave 0 outside [0, M) x [k0, kEnd) x [0, N)
//   storeOut(zb, m, n, v)  the epilogue for one in-range output (bias, activation, layout)
// Binding 0 is the uniform struct: the standard head (M, N, K, splits, kChunk, batch, 2 pads)
// followed by the family's own fields.
import { index1d, main1d } from './common.js';

export interface GemmTile {
  name: string;
  wgx: number;
  wgy: number;
  rm: number;
  rn: number;
  tk: number;
}

/** The tile shapes the host chooses from (see pickGemmConfig in engine/ops/matmul.ts). */
export const GEMM_TILES = {
  /** 128x128, 8x8 per thread: the big-GEMM workhorse. */
  t128: { name: 't128', wgx: 16, wgy: 16, rm: 8, rn: 8, tk: 8 },
  /** 128x128 with a 16-deep K step (half the barriers, twice the workgroup memory). */
  t128k16: { name: 't128k16', wgx: 16, wgy: 16, rm: 8, rn: 8, tk: 16 },
  /** 64 rows x 128 columns, 4x8 per thread: 64-channel layers without half-empty tiles. */
  t64x128: { name: 't64x128', wgx: 16, wgy: 16, rm: 4, rn: 8, tk: 16 },
  /** 64x64, 4x4 per thread. */
  t64: { name: 't64', wgx: 16, wgy: 16, rm: 4, rn: 4, tk: 16 },
  /** 32 rows x 128 columns, 4x8 per thread, 128 threads: few output channels, many pixels. */
  t32x128: { name: 't32x128', wgx: 16, wgy: 8, rm: 4, rn: 8, tk: 16 },
  /** 32x32, 4x4 per thread, 64 threads: small problems. */
  t32: { name: 't32', wgx: 8, wgy: 8, rm: 4, rn: 4, tk: 16 },
} satisfies Record<string, GemmTile>;
export type GemmTileName = keyof typeof GEMM_TILES;

export const tileDims = (t: GemmTile) => ({ bm: t.wgy * t.rm, bn: t.wgx * t.rn, nt: t.wgx * t.wgy });
/** Workgroup memory of one tile configuration in bytes (rows padded by one vec4). */
export const tileSmemBytes = (t: GemmTile) => 4 * t.tk * (t.wgy * t.rm + t.wgx * t.rn + 8);

/**
 * The uniform fields every GEMM kernel starts with (8 u32). `acc` holds the accumulation flags
 * (GEMM_ACC_OUT, GEMM_ACC_EXTRA): a store whose flag is set adds into its output instead.
 */
/**
 * The GEMM kernels' uniform head. `xs`: column slices folded into dispatch z (>= 1). A launch whose
 * column blocks exceed the adapter's workgroups per dimension (65535: about 4.2M columns for the
 * 64-wide direct kernel) splits them into xs slices of x workgroups; z = (batch index * splits +
 * split) * xs + slice.
 */
export const GEMM_UNIFORM_HEAD = 'M: u32, N: u32, K: u32, splits: u32, kChunk: u32, batch: u32, acc: u32, xs: u32,';

/** Accumulation flags in the GEMM head's `acc` word: `out += result`, and for the extra outputs. */
export const GEMM_ACC_OUT = 1;
export const GEMM_ACC_EXTRA = 2;

/**
 * WGSL storing `value` to `ref`, or adding it (`ref = ref + value`: the tape's gradient
 * accumulation, one rounding as in the separate add it replaces) when the launch's flag for that
 * output is set. A uniform branch, so the accumulating launches share the plain ones' pipelines.
 */
export function accStore(ref: string, which: 'out' | 'extra', value: string): string {
  const bit = which === 'out' ? GEMM_ACC_OUT : GEMM_ACC_EXTRA;
  return `if ((u.acc & ${bit}u) != 0u) { ${ref} = ${ref} + ${value}; } else { ${ref} = ${value}; }`;
}

export interface GemmFamily {
  /** Every specialisation of the family (the tile and split mode are appended by the host). */
  key: string;
  /** Family uniform fields after the standard head, WGSL struct syntax ("a: u32, b: i32,"). */
  uniforms: string;
  /** Read-only f32 storage arrays of the main loop, bound from 1 in this order. */
  inputs: string[];
  /** Read-only f32 arrays only the epilogue uses (e.g. a bias), bound after `inputs`. */
  epilogueInputs: string[];
  aFast: 'k' | 'x';
  bFast: 'k' | 'x';
  /** Module-scope WGSL for the loads: private state and `fn setup()`. */
  setup: string;
  /** Per-step WGSL at the top of fetchTiles(k0, kEnd). */
  prelude: string;
  /** WGSL setting `val` for A[gM0 + xx, k0 + kk] / B[k0 + kk, gN0 + xx]. */
  aVal: string;
  bVal: string;
  /** fn storeOut(zb, m, n, v): writes one final output into `out` (uniforms and epilogue inputs only). */
  store: string;
  /** More read_write f32 arrays storeOut() may write (e.g. the conv bias gradient), bound after `out`. */
  extraOutputs?: string[];
  /**
   * The software-adapter form (gemmDirectSource), where the family has one: the body of main()
   * for `q` row groups of `sg` rows (the subgroup size) per invocation, given m0 (the block's
   * first row), n (this invocation's column), zb (batch) and sgid (lane in the subgroup). It
   * loads A for rows m0 + sgid + i*sg (one row per lane, i < q) into a{i}, broadcasts them across
   * the subgroup and defines acc0..acc{q*sg-1}: this column's sums for rows m0..m0+q*sg-1, k
   * ascending with fma (the tiled kernel's order and rounding when it does not split K), and
   * stores them (with the epilogue storeOut() would apply) when n < N.
   */
  direct?: (q: number, sg: number) => string;
}

/** Columns (invocations) per workgroup of the direct kernel (half of it when N fits in that). */
export const GEMM_DIRECT_WG = 64;

/**
 * The direct (software-adapter) kernel of a family: no workgroup memory, no barriers, no split-K.
 * One invocation owns one column n and q*sg rows; consecutive invocations take consecutive
 * columns. Why (bench/NOTES.md, "Direct conv kernels on lavapipe"): llvmpipe runs a subgroup as
 * the lanes of one SIMD register and turns every storage or workgroup load whose index is not a
 * constant into a per-lane loop of scalar loads (with a bounds check each), while arithmetic is
 * one vector instruction for all lanes. The tiled kernels load each A and B element per lane from
 * workgroup memory (plus the staging stores and barriers); here each lane loads one B element
 * (its own column) and one A element per row group (a different row per lane), and
 * subgroupBroadcast with a constant lane, a register extract on a CPU, hands every lane each row's
 * A: q+1 scalar loads per lane and k for q*sg FMAs.
 */
export function gemmDirectSource(f: GemmFamily, q: number, sg: number, wg: number): string {
  if (!f.direct) throw new Error(`gemm: family ${f.key} has no direct form`);
  const nIn = f.inputs.length;
  const rm = q * sg;
  return /* wgsl */ `enable subgroups;
// GEMM ${f.key} | direct (${rm} rows x 1 column per invocation, subgroup ${sg}, ${wg} columns per workgroup)
struct Params { ${GEMM_UNIFORM_HEAD} ${f.uniforms} }
@group(0) @binding(0) var<uniform> u: Params;
${bindings(f.inputs, 1)}
${bindings(f.epilogueInputs, nIn + 1)}
${outBindings(f, nIn + 1 + f.epilogueInputs.length)}

@compute @workgroup_size(${wg})
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>, @builtin(subgroup_invocation_id) sgid: u32) {
  let m0 = wg.y * ${rm}u;
  let n = ((wg.z % u.xs) * nwg.x + wg.x) * ${wg}u + lid;
  let zb = wg.z / u.xs;
  ${f.direct(q, sg).trim()}
}
`;
}

function outBindings(f: GemmFamily, first: number): string {
  return [
    `@group(0) @binding(${first}) var<storage, read_write> out: array<f32>;`,
    ...(f.extraOutputs ?? []).map((n, i) => `@group(0) @binding(${first + 1 + i}) var<storage, read_write> ${n}: array<f32>;`),
  ].join('\n');
}

/**
 * This thread's (kk, xx) staging coordinates for slot i of a TK x X tile: i is a number for an
 * unrolled slot, or the name of a loop variable.
 */
function slot(t: GemmTile, X: number, fast: 'k' | 'x', i: number | string): [string, string] {
  const { nt } = tileDims(t);
  const step = (n: number) => (typeof i === 'number' ? `${i * n}u` : `${i} * ${n}u`);
  return fast === 'k' ? [`gTid % ${t.tk}u`, `gTid / ${t.tk}u + ${step(nt / t.tk)}`] : [`gTid / ${X}u + ${step(nt / X)}`, `gTid % ${X}u`];
}

/** Elements of a TK x X tile each thread stages (the thread keeps one index fixed: kk or xx). */
function perThread(t: GemmTile, X: number, fast: 'k' | 'x'): number {
  const { nt } = tileDims(t);
  const per = (t.tk * X) / nt;
  if (!Number.isInteger(per) || per < 1 || nt % (fast === 'k' ? t.tk : X) !== 0) {
    throw new Error(`gemm: tile ${t.name} does not divide a ${t.tk} x ${X} staging tile among ${nt} threads`);
  }
  return per;
}

function bindings(names: string[], first: number): string {
  return names.map((n, i) => `@group(0) @binding(${first + i}) var<storage, read> ${n}: array<f32>;`).join('\n');
}

/**
 * The main GEMM kernel of a family. split = true writes raw partial sums to `part`
 * ([batch*splits, M, N]) for gemmReduceSource(); otherwise storeOut() writes `out` directly.
 * loopedFetch = true stages through a loop over a private array instead of unrolled slots: the
 * same arithmetic, for software adapters, where SwiftShader's compiler needs minutes (and GBs)
 * for the unrolled conv gathers; hardware GPUs keep the unrolled form the benchmark measured.
 */
export function gemmSource(f: GemmFamily, t: GemmTile, split: boolean, loopedFetch = false): string {
  const { bm, bn, nt } = tileDims(t);
  const pa = perThread(t, bm, f.aFast);
  const pb = perThread(t, bn, f.bFast);
  const rowA = bm / 4 + 1;
  const rowB = bn / 4 + 1;
  // Fetch (global -> registers) and commit (registers -> workgroup memory), unrolled per slot.
  const fetch: string[] = [];
  const commit: string[] = [];
  for (const [name, X, fast, per, body, set] of [
    ['pa', bm, f.aFast, pa, f.aVal, 'setA'],
    ['pb', bn, f.bFast, pb, f.bVal, 'setB'],
  ] as const) {
    if (loopedFetch) {
      const [kk, xx] = slot(t, X, fast, 'i');
      fetch.push(`for (var i = 0u; i < ${per}u; i++) {
    let kk = ${kk};
    let xx = ${xx};
    let k = k0 + kk;
    var val = 0.0;
    ${body.trim()}
    ${name}[i] = val;
  }`);
      commit.push(`for (var i = 0u; i < ${per}u; i++) { ${set}(${kk}, ${xx}, ${name}[i]); }`);
      continue;
    }
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
  const regs = loopedFetch
    ? [`var<private> pa: array<f32, ${pa}>;`, `var<private> pb: array<f32, ${pb}>;`]
    : [...Array(pa).keys()].map((i) => `var<private> pa${i}: f32;`).concat([...Array(pb).keys()].map((i) => `var<private> pb${i}: f32;`));
  const rv = t.rm / 4;
  const cv = t.rn / 4;
  const inner: string[] = [];
  for (let iv = 0; iv < rv; iv++) inner.push(`let a${iv} = As[ai + ${iv * t.wgy}u];`);
  for (let jv = 0; jv < cv; jv++) inner.push(`let b${jv} = Bs[bi + ${jv * t.wgx}u];`);
  const comp = ['x', 'y', 'z', 'w'];
  for (let r = 0; r < t.rm; r++) {
    for (let jv = 0; jv < cv; jv++) inner.push(`c${r}_${jv} = fma(vec4<f32>(a${r >> 2}.${comp[r & 3]}), b${jv}, c${r}_${jv});`);
  }
  const accs: string[] = [];
  const stores: string[] = [];
  for (let r = 0; r < t.rm; r++) {
    for (let jv = 0; jv < cv; jv++) {
      accs.push(`var c${r}_${jv} = vec4<f32>(0.0);`);
      stores.push(`emit4(zb, z, m0 + ${(r >> 2) * 4 * t.wgy + (r & 3)}u + 4u * ty, n0 + ${jv * 4 * t.wgx}u + 4u * tx, c${r}_${jv});`);
    }
  }
  const nIn = f.inputs.length;
  const outDecl = split
    ? `@group(0) @binding(${nIn + 1}) var<storage, read_write> part: array<f32>;`
    : `${bindings(f.epilogueInputs, nIn + 1)}
${outBindings(f, nIn + 1 + f.epilogueInputs.length)}`;
  const emit = split ? `part[(z * u.M + m) * u.N + n] = v;` : `storeOut(zb, m, n, v);`;
  return /* wgsl */ `
// GEMM ${f.key} | tile ${t.name} (${bm}x${bn}, ${t.rm}x${t.rn} per thread, K step ${t.tk})${split ? ' | split-K partials' : ''}
struct Params { ${GEMM_UNIFORM_HEAD} ${f.uniforms} }
@group(0) @binding(0) var<uniform> u: Params;
${bindings(f.inputs, 1)}
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
${regs.join('\n')}

fn setA(kk: u32, mm: u32, v: f32) { As[kk * ${rowA}u + mm / 4u][mm % 4u] = v; }
fn setB(kk: u32, nn: u32, v: f32) { Bs[kk * ${rowB}u + nn / 4u][nn % 4u] = v; }
${f.setup}

/** Global -> registers: this thread's share of the tiles at k0. */
fn fetchTiles(k0: u32, kEnd: u32) {
  ${f.prelude.trim()}
  ${fetch.join('\n  ')}
}

/** Registers -> workgroup memory. */
fn commitTiles() {
  ${commit.join('\n  ')}
}
${split ? '' : f.store}

fn emit1(zb: u32, z: u32, m: u32, n: u32, v: f32) { ${emit} }
fn emit4(zb: u32, z: u32, m: u32, n: u32, v: vec4<f32>) {
  if (m >= u.M) { return; }
  for (var q = 0u; q < 4u; q++) {
    if (n + q < u.N) { emit1(zb, z, m, n + q, v[q]); }
  }
}

@compute @workgroup_size(${nt})
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let m0 = wg.y * BM;
  let n0 = ((wg.z % u.xs) * nwg.x + wg.x) * BN;
  let z = wg.z / u.xs;
  let zb = z / u.splits;
  let zs = z % u.splits;
  gTid = tid;
  gM0 = m0;
  gN0 = n0;
  gZb = zb;
  let kBegin = zs * u.kChunk;
  let kEnd = min(u.K, kBegin + u.kChunk);
  setup();
  let tx = tid % ${t.wgx}u;
  let ty = tid / ${t.wgx}u;
  ${accs.join('\n  ')}
  if (kBegin < kEnd) { fetchTiles(kBegin, kEnd); }
  for (var k0 = kBegin; k0 < kEnd; k0 += TK) {
    commitTiles();
    workgroupBarrier();
    // The next step's global loads are in flight while this step's FMAs run.
    if (k0 + TK < kEnd) { fetchTiles(k0 + TK, kEnd); }
    for (var kk = 0u; kk < TK; kk++) {
      let ai = kk * ${rowA}u + ty;
      let bi = kk * ${rowB}u + tx;
      ${inner.join('\n      ')}
    }
    workgroupBarrier();
  }
  ${stores.join('\n  ')}
}
`;
}

export const GEMM_REDUCE_WG = 256;

/** Sums split-K partials ([batch*splits, M, N]) and runs the family's epilogue on the total. */
export function gemmReduceSource(f: GemmFamily): string {
  return /* wgsl */ `
// split-K reduction for ${f.key}
struct Params { ${GEMM_UNIFORM_HEAD} ${f.uniforms} }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> part: array<f32>;
${bindings(f.epilogueInputs, 2)}
${outBindings(f, 2 + f.epilogueInputs.length)}
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
`;
}

// ---- matmul / linear ------------------------------------------------------------------------------
// Legend: a, b the stored operands (row-major, batch-major); lda/ldb their row strides; sab/sbb
// their batch strides (0 broadcasts a rank-2 operand over the batch). transA: a is stored [K, M];
// transB: b is stored [N, K]. bias (linear) is added per column n.

export interface MatmulVariant {
  transA: boolean;
  transB: boolean;
  bias: boolean;
}

const matmulCache = new Map<string, GemmFamily>();

/** The matmul family for one variant (built once, then shared). */
export function matmulFamily(v: MatmulVariant): GemmFamily {
  const key = `matmul|tA=${+v.transA}|tB=${+v.transB}|bias=${+v.bias}`;
  let f = matmulCache.get(key);
  if (!f) matmulCache.set(key, (f = buildMatmul(key, v)));
  return f;
}

function buildMatmul(key: string, v: MatmulVariant): GemmFamily {
  // The direct form (gemmDirectSource, software adapters): this invocation's column n of B, one
  // row of A per lane and row group, A's values handed to the other lanes by subgroupBroadcast;
  // k ascending with fma, as the tiled kernel without split-K. Clamped indices keep the loads in
  // range for lanes past M or N; only the stores are guarded.
  const direct = (q: number, sg: number) => {
    const rows = [...Array(q * sg).keys()];
    const groups = [...Array(q).keys()];
    return /* wgsl */ `
  let nc = min(n, u.N - 1u);
  let bL = zb * u.sbb + ${v.transB ? 'nc * u.ldb' : 'nc'};
  let bStep = ${v.transB ? '1u' : 'u.ldb'};
  let aStep = ${v.transA ? 'u.lda' : '1u'};
  ${groups.map((i) => `let aL${i} = zb * u.sab + min(m0 + sgid + ${i * sg}u, u.M - 1u) * ${v.transA ? '1u' : 'u.lda'};`).join('\n  ')}
  ${rows.map((i) => `var acc${i} = 0.0;`).join('\n  ')}
  for (var k = 0u; k < u.K; k++) {
    let bv = b[bL + k * bStep];
    ${groups.map((i) => `let a${i} = a[aL${i} + k * aStep];`).join('\n    ')}
    ${rows.map((i) => `acc${i} = fma(subgroupBroadcast(a${Math.floor(i / sg)}, ${i % sg}u), bv, acc${i});`).join('\n    ')}
  }
  // Stores as a loop over the rows (see the conv families): unrolled stores compile for seconds.
  let res = array<f32, ${q * sg}>(${rows.map((i) => `acc${i}`).join(', ')});
  let rows = min(${q * sg}u, u.M - m0);
  if (n < u.N) {
    for (var i = 0u; i < rows; i++) {
      out[(zb * u.M + m0 + i) * u.N + n] = res[i]${v.bias ? ' + bias[n]' : ''};
    }
  }`;
  };
  return {
    key,
    direct,
    uniforms: 'lda: u32, ldb: u32, sab: u32, sbb: u32,',
    inputs: ['a', 'b'],
    epilogueInputs: v.bias ? ['bias'] : [],
    // Stage along the contiguous dim of each stored operand.
    aFast: v.transA ? 'x' : 'k',
    bFast: v.transB ? 'k' : 'x',
    setup: 'fn setup() {}',
    prelude: '',
    aVal: `let m = gM0 + xx;
    if (m < u.M && k < kEnd) { val = a[gZb * u.sab + ${v.transA ? 'k * u.lda + m' : 'm * u.lda + k'}]; }`,
    bVal: `let n = gN0 + xx;
    if (n < u.N && k < kEnd) { val = b[gZb * u.sbb + ${v.transB ? 'n * u.ldb + k' : 'k * u.ldb + n'}]; }`,
    store: `
fn storeOut(zb: u32, m: u32, n: u32, v: f32) {
  out[(zb * u.M + m) * u.N + n] = v${v.bias ? ' + bias[n]' : ''};
}`,
  };
}
