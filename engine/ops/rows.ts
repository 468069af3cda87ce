// Row movement by indices held on the GPU or refreshed per step, so a training step that picks
// examples (a sampled batch, a mismatched caption, an image-pool swap) issues the same kernels on the
// same buffers every step and can be replayed (engine/replay.ts):
//
//   gatherRows(x, idx)          y[b] = x[idx[b]]: rows picked by an int32 index tensor
//   mismatchRows(keys, idx)     for each row b of a batch of dataset indices, the dataset index of
//                               the next row (cyclically) whose key differs: data/text.ts
//                               mismatchIndices over integer keys, on the GPU
//   poolExchange_(store, batch, out, actions)
//                               one image-pool query (nets/lib/pool.ts): per batch row, keep it,
//                               store it in a slot (returning it), or swap it with a slot (returning
//                               the slot's old image), in row order; the actions come from a
//                               function called once per step (eager and replay alike)
//
// All three copy raw 32-bit words (float32 or int32 alike) and have no gradient.

import { index1d, main1d } from '../../shaders/common.js';
import { type Tensor, empty } from '../tensor.js';
import { grid1d, launch } from './kernel.js';

const WG = 256;

function checkIndex(op: string, idx: Tensor): void {
  if (idx.dtype !== 'int32' || idx.rank !== 1)
    throw new Error(
      `${op}: the indices must be an int32 vector [n], got ${idx.describe()} (make them with ops.randint or tensor(Int32Array, [n], 'int32'))`,
    );
}

/**
 * x[idx] along the first dimension: y[b] = x[idx[b]] ([n, ...x.shape.slice(1)], x's dtype), for an
 * int32 index vector on the GPU. Indices must lie in [0, x.shape[0]) (not checked on the GPU: an
 * index outside reads whatever the clamped robust-access read returns). No gradient.
 */
export function gatherRows(x: Tensor, idx: Tensor): Tensor {
  checkIndex('gatherRows', idx);
  if (x.rank < 1 || x.shape[0] < 1) throw new Error(`gatherRows: the source needs at least one row, got ${x.describe()}`);
  const n = idx.shape[0];
  const row = x.size / x.shape[0];
  const y = empty([n, ...x.shape.slice(1)], 'gather_rows', x.dtype);
  const total = n * row;
  if (total === 0) return y;
  launch(
    { key: 'gather_rows', code: gatherRowsSource, bindings: ['read', 'read', 'rw'], op: 'gatherRows' },
    [x, idx, y],
    [total, row],
    grid1d(total, WG),
    { op: 'gatherRows', bytes: 8 * total },
  );
  return y;
}

const gatherRowsSource = () => /* wgsl */ `
struct Params { total: u32, row: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<u32>;
${main1d(WG)} {
  let i = ${index1d(WG)};
  if (i >= u.total) { return; }
  let b = i / u.row;
  let j = i - b * u.row;
  y[i] = x[u32(idx[b]) * u.row + j];
}`;

/**
 * For a batch of dataset indices `idx` ([n] int32) and a key per dataset row (`keys`, [m] int32:
 * rows with equal keys hold the same caption), the dataset index of each row's mismatched partner:
 * idx[j] for the first j after b (cyclically) with keys[idx[j]] != keys[idx[b]], or idx[(b + 1) % n]
 * when every row of the batch has b's key. data/text.ts mismatchIndices(keys of the batch) gives
 * the positions j; this gives idx[j], on the GPU. No gradient.
 */
export function mismatchRows(keys: Tensor, idx: Tensor): Tensor {
  checkIndex('mismatchRows', idx);
  if (keys.dtype !== 'int32' || keys.rank !== 1)
    throw new Error(`mismatchRows: the keys must be an int32 vector [m] (one per dataset row), got ${keys.describe()}`);
  const n = idx.shape[0];
  const y = empty([n], 'mismatch_rows', 'int32');
  if (n === 0) return y;
  launch(
    { key: 'mismatch_rows', code: mismatchRowsSource, bindings: ['read', 'read', 'rw'], op: 'mismatchRows' },
    [keys, idx, y],
    [n],
    grid1d(n, WG),
    { op: 'mismatchRows', bytes: 4 * n * 3 },
  );
  return y;
}

const mismatchRowsSource = () => /* wgsl */ `
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> keys: array<i32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<i32>;
${main1d(WG)} {
  let b = ${index1d(WG)};
  if (b >= u.n) { return; }
  let own = keys[u32(idx[b])];
  var j = (b + 1u) % u.n;
  for (var step = 1u; step < u.n; step++) {
    if (keys[u32(idx[j])] != own) { break; }
    j = (b + 1u + step) % u.n;
  }
  if (keys[u32(idx[j])] == own) { j = (b + 1u) % u.n; }
  y[b] = idx[j];
}`;

/** Batch rows one poolExchange_ dispatch handles (its uniform slot: 4 header words + this many actions). */
export const POOL_ROWS_PER_DISPATCH = 48;

/** A poolExchange_ action for a batch row: return the row itself and store nothing. */
export const POOL_KEEP = 0xffffffff;
/** A poolExchange_ action: store the row in `slot`, return the row itself (the pool is filling). */
export const poolStore = (slot: number): number => slot * 2;
/** A poolExchange_ action: return the image in `slot`, store the row there in its place. */
export const poolSwap = (slot: number): number => slot * 2 + 1;

/**
 * One image-pool query on the GPU (nets/lib/pool.ts ImagePool): `store` [P, ...] holds the pool's
 * images, `batch` [B, ...] the new ones, `out` [B, ...] receives what the discriminator sees. For each
 * batch row i in order, `actions(row0, rows)` gives one word per row (POOL_KEEP, poolStore(s),
 * poolSwap(s)): keep writes out[i] = batch[i]; store writes out[i] = batch[i] and store[s] = batch[i];
 * swap writes out[i] = store[s] (as left by the rows before i) and store[s] = batch[i]. One thread
 * per element position walks the rows in order, so a slot swapped twice in one batch returns the
 * earlier row the second time, as the host loop does. `actions` is called once per dispatch with
 * consecutive row ranges (up to POOL_ROWS_PER_DISPATCH rows each) in every step, eager or
 * replayed: it is where the host draws its picks (Engine.dispatch's refresh), so the same plan
 * serves every step. No gradient.
 */
export function poolExchange_(store: Tensor, batch: Tensor, out: Tensor, actions: (row0: number, rows: number) => number[]): Tensor {
  const op = 'poolExchange_';
  const same = (a: Tensor, b: Tensor) => a.rank === b.rank && a.shape.every((d, i) => i === 0 || d === b.shape[i]);
  if (!same(store, batch) || !same(out, batch) || out.shape[0] !== batch.shape[0] || store.rank < 1)
    throw new Error(
      `${op}: store ${store.describe()}, batch ${batch.describe()} and out ${out.describe()} must share the image shape, and out hold the batch's rows`,
    );
  if (store.dtype !== batch.dtype || out.dtype !== batch.dtype)
    throw new Error(`${op}: store, batch and out must share a dtype (${store.dtype}, ${batch.dtype}, ${out.dtype})`);
  const rows = batch.shape[0];
  const plane = batch.shape[0] ? batch.size / rows : 0;
  const slots = store.shape[0];
  for (let row0 = 0; row0 < rows; row0 += POOL_ROWS_PER_DISPATCH) {
    const k = Math.min(POOL_ROWS_PER_DISPATCH, rows - row0);
    const words = (): number[] => {
      const acts = actions(row0, k);
      if (acts.length !== k)
        throw new Error(`${op}: the actions for rows ${row0}..${row0 + k - 1} are ${acts.length} words, expected ${k}`);
      for (const a of acts)
        if (a !== POOL_KEEP && !(Number.isInteger(a) && a >= 0 && a >> 1 < slots))
          throw new Error(`${op}: action ${a} names slot ${a >> 1}, outside the store's ${slots} slots`);
      return [plane, k, row0, 0, ...acts];
    };
    launch(
      { key: 'pool_exchange', code: poolExchangeSource, bindings: ['rw', 'read', 'rw'], op },
      [store, batch, out],
      words(),
      grid1d(plane, WG),
      { op, bytes: 4 * plane * k * 3, refresh: words },
    );
  }
  return out;
}

const poolExchangeSource = () => /* wgsl */ `
struct Params { plane: u32, rows: u32, row0: u32, pad: u32, act: array<vec4<u32>, ${POOL_ROWS_PER_DISPATCH / 4}> }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read_write> store: array<u32>;
@group(0) @binding(2) var<storage, read> batch: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<u32>;
${main1d(WG)} {
  let e = ${index1d(WG)};
  if (e >= u.plane) { return; }
  for (var r = 0u; r < u.rows; r++) {
    let a = u.act[r / 4u][r % 4u];
    let i = (u.row0 + r) * u.plane + e;
    let v = batch[i];
    if (a == 0xffffffffu) {
      y[i] = v;
    } else {
      let s = (a >> 1u) * u.plane + e;
      if ((a & 1u) == 1u) { y[i] = store[s]; } else { y[i] = v; }
      store[s] = v;
    }
  }
}`;
