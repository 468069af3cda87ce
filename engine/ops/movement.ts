// Movement ops: reshape (a view), permute, expand, slice, concat, tile, sliceScatter.
// All of them except reshape are one strided-copy kernel (shaders/reduce_copy.ts) with different
// strides and offsets, and each backward is another movement op (or sumTo for expand).
import { contigCopySource, copySource, COPY_WG } from '../../shaders/reduce_copy.js';
import { type Tensor, empty, fmtShape, numel, stridesOf, type Shape } from '../tensor.js';
import { record } from '../tape.js';
import { grid1d, launch, vec8 } from './kernel.js';
import { registerOp, type HostTensor } from './registry.js';
import { sumTo } from './reduce.js';
import { zeros } from './elementwise.js';

const COPY_SPEC = () => ({ key: 'strided_copy', code: () => copySource(), bindings: ['read', 'rw'] as ('read' | 'rw')[] });
const CONTIG_SPEC = () => ({ key: 'contig_copy', code: () => contigCopySource(), bindings: ['read', 'rw'] as ('read' | 'rw')[] });

/**
 * The same copy over the fewest dims: size-1 dims dropped, and a dim merged into the one outside
 * it when both sides step over it as one run (outer stride = inner stride x inner size). A slice,
 * concat or scatter along dim 0 of a contiguous tensor becomes one contiguous run; a slice along
 * channels of [N, C, H, W] becomes [N, c * H * W]. The kernel decodes each element's index per
 * dim (a division and a remainder each), which is most of its cost on a software adapter.
 */
export function coalesceDims(shape: Shape, sstr: readonly number[], dstr: readonly number[]): [number[], number[], number[]] {
  const sh: number[] = [];
  const ss: number[] = [];
  const ds: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const k = sh.length - 1;
    if (k >= 0 && ss[k] === sstr[d] * shape[d] && ds[k] === dstr[d] * shape[d]) {
      sh[k] *= shape[d];
      ss[k] = sstr[d];
      ds[k] = dstr[d];
    } else {
      sh.push(shape[d]);
      ss.push(sstr[d]);
      ds.push(dstr[d]);
    }
  }
  return sh.length ? [sh, ss, ds] : [[1], [0], [0]];
}

/** dst[doff + idx . dstr] = src[soff + idx . sstr] for every idx in shape. */
function stridedCopy(op: string, src: Tensor, dst: Tensor, shape: Shape, sstr: number[], soff: number, dstr: number[], doff: number): void {
  const n = numel(shape);
  if (n === 0) return;
  const [sh, ss, ds] = coalesceDims(shape, sstr, dstr);
  if (sh.length === 1 && ss[0] === 1 && ds[0] === 1) {
    launch({ ...CONTIG_SPEC(), op }, [src, dst], [n, soff, doff, 0], grid1d(n, COPY_WG), { op, bytes: 8 * n });
    return;
  }
  launch({ ...COPY_SPEC(), op }, [src, dst], [n, sh.length, soff, doff, ...vec8(sh, 1), ...vec8(ss), ...vec8(ds)], grid1d(n, COPY_WG), {
    op,
    bytes: 8 * n,
  });
}

/** A view with a new shape (one dim may be -1). No copy: storage is shared. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = [...shape];
  const neg = s.indexOf(-1);
  if (neg >= 0) {
    const rest = numel(s.filter((_, i) => i !== neg));
    if (rest === 0 || x.size % rest !== 0)
      throw new Error(`reshape: cannot infer -1 in ${fmtShape(shape)} for ${x.describe()} (${x.size} elements)`);
    s[neg] = x.size / rest;
  }
  if (numel(s) !== x.size)
    throw new Error(`reshape: cannot reshape ${x.describe()} (${x.size} elements) to ${fmtShape(shape)} (${numel(s)} elements)`);
  const y = x.viewAs(s);
  return record(y, 'reshape', [x], (g) => [reshape(g, x.shape)], []);
}

export const flatten = (x: Tensor, startDim = 1) => reshape(x, [...x.shape.slice(0, startDim), -1]);

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.rank || [...dims].sort((a, b) => a - b).some((d, i) => d !== i)) {
    throw new Error(`permute: ${fmtShape(dims)} is not a permutation of the ${x.rank} dims of ${x.describe()}`);
  }
  const st = stridesOf(x.shape);
  const shape = dims.map((d) => x.shape[d]);
  const y = empty(shape, 'permute');
  stridedCopy(
    'permute',
    x,
    y,
    shape,
    dims.map((d) => st[d]),
    0,
    stridesOf(shape),
    0,
  );
  const inv = dims.map((_, i) => dims.indexOf(i));
  return record(y, 'permute', [x], (g) => [permute(g, inv)], []);
}

export function transpose(x: Tensor, d0 = -2, d1 = -1): Tensor {
  const a = d0 < 0 ? d0 + x.rank : d0;
  const b = d1 < 0 ? d1 + x.rank : d1;
  const dims = [...Array(x.rank).keys()];
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

/** Broadcasts x to `shape` (NumPy rules; new dims on the left). Materialises the result. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
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
  const y = empty(shape, 'expand');
  stridedCopy('expand', x, y, shape, sstr, 0, stridesOf(shape), 0);
  return record(y, 'expand', [x], (g) => [sumTo(g, x.shape)], []);
}

function normSlice(x: Tensor, starts: readonly number[], ends: readonly number[]) {
  const st: number[] = [];
  const en: number[] = [];
  for (let d = 0; d < x.rank; d++) {
    const n = x.shape[d];
    let s = starts[d] ?? 0;
    let e = ends[d] ?? n;
    if (s < 0) s += n;
    if (e < 0) e += n;
    s = Math.min(Math.max(s, 0), n);
    e = Math.min(Math.max(e, s), n);
    st.push(s);
    en.push(e);
  }
  return { st, en, shape: st.map((s, d) => en[d] - s) };
}

/** x[starts[0]:ends[0], starts[1]:ends[1], ...] (missing dims are taken whole; negatives count from the end). */
export function slice(x: Tensor, starts: readonly number[], ends: readonly number[]): Tensor {
  const { st, shape } = normSlice(x, starts, ends);
  const xs = stridesOf(x.shape);
  const y = empty(shape, 'slice');
  stridedCopy(
    'slice',
    x,
    y,
    shape,
    xs,
    st.reduce((o, s, d) => o + s * xs[d], 0),
    stridesOf(shape),
    0,
  );
  return record(y, 'slice', [x], (g) => [sliceScatter(g, x.shape, st)], []);
}

/** x.narrow(dim, start, length). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = dim < 0 ? dim + x.rank : dim;
  const starts = x.shape.map((_, i) => (i === d ? start : 0));
  const ends = x.shape.map((n, i) => (i === d ? start + length : n));
  return slice(x, starts, ends);
}

/** A zero tensor of `shape` with g written at offset `starts` (the adjoint of slice). */
export function sliceScatter(g: Tensor, shape: Shape, starts: readonly number[]): Tensor {
  const y = zeros(shape);
  const ys = stridesOf(shape);
  stridedCopy(
    'slice_scatter',
    g,
    y,
    g.shape,
    stridesOf(g.shape),
    0,
    ys,
    starts.reduce((o, s, d) => o + s * ys[d], 0),
  );
  const ends = starts.map((s, d) => s + g.shape[d]);
  return record(y, 'slice_scatter', [g], (gg) => [slice(gg, starts, ends)], []);
}

export function concat(xs: readonly Tensor[], dim = 0): Tensor {
  if (xs.length === 0) throw new Error('concat: needs at least one tensor');
  const r = xs[0].rank;
  const d = dim < 0 ? dim + r : dim;
  if (d < 0 || d >= r) throw new Error(`concat: dim ${dim} out of range for rank ${r}`);
  for (const x of xs) {
    if (x.rank !== r || x.shape.some((n, i) => i !== d && n !== xs[0].shape[i])) {
      throw new Error(`concat: shapes ${xs.map((t) => fmtShape(t.shape)).join(', ')} differ outside dim ${d}`);
    }
  }
  const shape = [...xs[0].shape];
  shape[d] = xs.reduce((s, x) => s + x.shape[d], 0);
  const y = empty(shape, 'concat');
  const ys = stridesOf(shape);
  let off = 0;
  const offsets: number[] = [];
  for (const x of xs) {
    offsets.push(off);
    stridedCopy('concat', x, y, x.shape, stridesOf(x.shape), 0, ys, off * ys[d]);
    off += x.shape[d];
  }
  return record(y, 'concat', [...xs], (g) => xs.map((x, i) => narrow(g, d, offsets[i], x.shape[d])), []);
}

export function split(x: Tensor, sizes: readonly number[], dim = 0): Tensor[] {
  const d = dim < 0 ? dim + x.rank : dim;
  if (sizes.reduce((a, b) => a + b, 0) !== x.shape[d])
    throw new Error(`split: sizes [${sizes}] do not add up to dim ${d} of ${x.describe()}`);
  let off = 0;
  return sizes.map((s) => {
    const t = narrow(x, d, off, s);
    off += s;
    return t;
  });
}

/** Repeats x along each dim (like torch.Tensor.repeat): tile([2,3] tensor, [2, 1]) is [4, 3]. */
export function tile(x: Tensor, reps: readonly number[]): Tensor {
  if (reps.length < x.rank) throw new Error(`tile: ${reps.length} repeats for a rank-${x.rank} tensor`);
  const shape = [...Array(reps.length - x.rank).fill(1), ...x.shape];
  const inter: number[] = [];
  const big: number[] = [];
  shape.forEach((n, i) => {
    inter.push(1, n);
    big.push(reps[i], n);
  });
  return reshape(
    expand(reshape(x, inter), big),
    shape.map((n, i) => n * reps[i]),
  );
}

// ---- registry ------------------------------------------------------------------------------------

function gatherHost(x: HostTensor, shape: number[], index: (idx: number[]) => number): HostTensor {
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
const flat = (shape: number[], idx: number[]) => idx.reduce((o, c, d) => o * shape[d] + c, 0);

registerOp({
  name: 'permute',
  run: ([x], a) => permute(x, a.dims as number[]),
  reference: ([x], a) => {
    const dims = a.dims as number[];
    const shape = dims.map((d) => x.shape[d]);
    return gatherHost(x, shape, (idx) => {
      const src = new Array(dims.length);
      dims.forEach((d, i) => (src[d] = idx[i]));
      return flat(x.shape, src);
    });
  },
  doubleBackward: true,
});
registerOp({
  name: 'expand',
  run: ([x], a) => expand(x, a.shape as number[]),
  reference: ([x], a) => {
    const shape = a.shape as number[];
    const lead = shape.length - x.shape.length;
    return gatherHost(x, shape, (idx) =>
      flat(
        x.shape,
        x.shape.map((n, j) => (n === 1 ? 0 : idx[j + lead])),
      ),
    );
  },
  doubleBackward: true,
});
registerOp({
  name: 'slice',
  run: ([x], a) => slice(x, a.starts as number[], a.ends as number[]),
  reference: ([x], a) => {
    const starts = a.starts as number[];
    const ends = a.ends as number[];
    const st = x.shape.map((n, d) => ((starts[d] ?? 0) + n) % n || 0);
    const shape = x.shape.map((n, d) => Math.min(n, ends[d] < 0 ? ends[d] + n : (ends[d] ?? n)) - st[d]);
    return gatherHost(x, shape, (idx) =>
      flat(
        x.shape,
        idx.map((c, d) => c + st[d]),
      ),
    );
  },
  doubleBackward: true,
});
registerOp({
  name: 'concat',
  run: (xs, a) => concat(xs, a.dim as number),
  reference: (xs, a) => {
    const d = a.dim as number;
    const shape = [...xs[0].shape];
    shape[d] = xs.reduce((s, x) => s + x.shape[d], 0);
    const bounds: number[] = [];
    xs.reduce((s, x) => (bounds.push(s), s + x.shape[d]), 0);
    const idx: number[] = new Array(shape.length);
    const data = Float64Array.from({ length: numel(shape) }, (_, i) => {
      let rem = i;
      for (let k = shape.length - 1; k >= 0; k--) {
        idx[k] = rem % shape[k];
        rem = Math.floor(rem / shape[k]);
      }
      let which = xs.length - 1;
      while (bounds[which] > idx[d]) which--;
      const local = idx.map((c, k) => (k === d ? c - bounds[which] : c));
      return xs[which].data[flat(xs[which].shape, local)];
    });
    return { shape, data };
  },
  doubleBackward: true,
});
registerOp({
  name: 'tile',
  run: ([x], a) => tile(x, a.reps as number[]),
  reference: ([x], a) => {
    const reps = a.reps as number[];
    const shape = x.shape.map((n, i) => n * reps[i]);
    return gatherHost(x, shape, (idx) =>
      flat(
        x.shape,
        idx.map((c, d) => c % x.shape[d]),
      ),
    );
  },
  doubleBackward: true,
});
