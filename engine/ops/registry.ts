// The op registry: each op file registers a spec (how to run it on tensors, its CPU float64
// reference, how to sample its inputs and its tolerances). The generic op suite
// (tests/support/opcheck.ts, run by vitest and inside Chromium) reads this list with the test cases
// of tests/support/op_cases.ts, so an op is checked the moment it is registered, and an op without
// a backward or without cases fails the suite.
import type { Tensor } from '../tensor.js';

export interface HostTensor {
  shape: number[];
  data: Float64Array;
}

export interface OpSpec {
  name: string;
  run: (inputs: Tensor[], attrs: Record<string, unknown>) => Tensor;
  reference: (inputs: HostTensor[], attrs: Record<string, unknown>) => HostTensor;
  doubleBackward?: boolean;
  /** Draws input i (default uniform in [-1, 1] away from 0 by 0.05, so kinks are not straddled). */
  sample?: (shape: number[], inputIndex: number, rand: () => number, attrs: Record<string, unknown>) => Float64Array;
  /** Tolerances on the normalised error max|gpu - ref| / max(|ref|, 1). */
  tol?: { forward?: number; grad?: number; grad2?: number };
  /** Finite-difference step (default 1e-3). */
  fdStep?: number;
}

export const opRegistry: OpSpec[] = [];

export function registerOp(spec: OpSpec): OpSpec {
  const i = opRegistry.findIndex((s) => s.name === spec.name);
  if (i >= 0) opRegistry[i] = spec;
  else opRegistry.push(spec);
  return spec;
}
