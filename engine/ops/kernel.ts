// Host-side helpers every op file uses to launch a WGSL kernel on tensors.
// Layout conventions shared by all shaders (see shaders/common.ts):
//   binding 0: the uniform struct (scalars and vec4<u32> arrays), bindings 1..n: storage buffers,
//   inputs first (read-only), outputs last (read_write).
//   1-D kernels use a 2-D grid so more than 65535 workgroups fit: index = gid.x + gid.y * nwg.x * WG.

import type { KernelSpec, UniformValue } from '../device.js';
import { type Tensor, checkSameEngine } from '../tensor.js';

export const WG1D = 256;

/** Workgroup counts for n threads in 1-D kernels with workgroup size wg (x capped at 65535). */
export function grid1d(n: number, wg = WG1D): [number, number, number] {
  const groups = Math.max(1, Math.ceil(n / wg));
  if (groups <= 65535) return [groups, 1, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y, 1];
}

/** Packs up to 8 unsigned ints as two vec4<u32> (uniform arrays need a 16-byte stride). */
export function vec8(values: readonly number[], fill = 0): number[] {
  if (values.length > 8) throw new Error(`rank ${values.length} is above the engine's maximum of 8`);
  const out = [...values];
  while (out.length < 8) out.push(fill);
  return out;
}

export interface LaunchInfo {
  op: string;
  /** Bytes moved, for the inspector and bench; defaults to the sum of all tensor sizes. */
  bytes?: number;
  /**
   * For uniforms that change every step (see Engine.dispatch): advances their host state and
   * returns the next step's uniforms. Only a replayed step calls it.
   */
  refresh?: () => UniformValue[];
}

/** Launches `spec` with the given tensors (inputs then outputs) bound at 1..n. */
export function launch(
  spec: KernelSpec,
  tensors: Tensor[],
  uniforms: UniformValue[],
  workgroups: [number, number?, number?],
  info: LaunchInfo,
): void {
  const e = checkSameEngine(info.op, ...tensors);
  const k = e.kernel(spec);
  const bytes = info.bytes ?? tensors.reduce((s, t) => s + t.size * 4, 0);
  const buffers = tensors.map((t) => t.buffer);
  e.dispatch(k, buffers, uniforms, workgroups, { op: info.op, bytes }, info.refresh);
  // Every read_write binding is a write: bump its version (the tape refuses stale saved tensors).
  spec.bindings.forEach((access, i) => {
    if (access === 'rw') buffers[i].version = (buffers[i].version ?? 0) + 1;
  });
}

export const f32 = (v: number): UniformValue => ({ f32: v });
export const i32 = (v: number): UniformValue => ({ i32: v });
