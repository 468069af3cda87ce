// State values shared by modules, optimisers and checkpoints: a state entry is either a live GPU
// Tensor (model-to-model copies) or host data decoded from a safetensors file (checkpoint loads,
// which then need no temporary GPU tensor). copyStateInto() writes one into a module's or an
// optimiser's own tensor in place (GPU copy or upload), after checkState() has validated shape and
// dtype, so a load can check every entry before it changes anything.
// Browser-safe: no Node imports.

import { Tensor, assign, fmtShape, type DType, type Shape } from '../tensor.js';
import { tensorToFloat32, type SafetensorsTensor } from '../io/safetensors.js';

/** A state entry: a GPU tensor or host data as decoded from safetensors. */
export type StateValue = Tensor | SafetensorsTensor;

/** A state dict as returned by stateDict() (a Map, ordered) or a plain record (e.g. a decoded file). */
export type StateDictLike = ReadonlyMap<string, StateValue> | Readonly<Record<string, StateValue>>;

export function stateEntries(dict: StateDictLike): [string, StateValue][] {
  return dict instanceof Map ? [...dict.entries()] : Object.entries(dict as Record<string, StateValue>);
}

export function stateShape(v: StateValue): Shape {
  return v instanceof Tensor ? v.shape : v.shape;
}

const INT_DTYPES = new Set(['I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL']);

/** The engine dtype a state value holds ('float32' or 'int32'). */
export function stateKind(v: StateValue): DType {
  if (v instanceof Tensor) return v.dtype;
  return INT_DTYPES.has(v.dtype) ? 'int32' : 'float32';
}

const sameShape = (a: Shape, b: Shape) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Why `src` cannot be loaded into `dst` (null when it can): shapes must be equal and integer data
 * must go to integer tensors, floating data to float tensors. `key` names the entry in the message.
 */
export function checkState(key: string, dst: Tensor, src: StateValue): string | null {
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

/** Writes `src` into `dst` in place (a GPU copy for tensors, an upload for host data). Validate first. */
export function copyStateInto(dst: Tensor, src: StateValue): void {
  if (src instanceof Tensor) {
    if (src.storage === dst.storage || dst.size === 0) return;
    dst.engine.copy(src.buffer, 0, dst.buffer, 0, dst.size * 4);
    return;
  }
  if (dst.dtype === 'int32') {
    const d = src.data;
    const out = new Int32Array(d.length);
    if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
      for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
    } else {
      for (let i = 0; i < d.length; i++) out[i] = (d as ArrayLike<number>)[i];
    }
    assign(dst, out);
  } else {
    assign(dst, tensorToFloat32(src));
  }
}

/** Host values of GPU tensors read back in one batch (all copies are encoded before the first await). */
export async function readTensors(ts: readonly Tensor[]): Promise<(Float32Array | Int32Array)[]> {
  return Promise.all(ts.map((t) => (t.dtype === 'int32' ? t.dataInt() : t.data())));
}

/** A GPU tensor's host data as a safetensors entry: F32, or I64 for int32 (PyTorch's long). */
export function toSafetensors(t: Tensor, data: Float32Array | Int32Array): SafetensorsTensor {
  if (t.dtype === 'int32') {
    const out = new BigInt64Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = BigInt(data[i]);
    return { dtype: 'I64', shape: [...t.shape], data: out };
  }
  return { dtype: 'F32', shape: [...t.shape], data: data as Float32Array };
}
