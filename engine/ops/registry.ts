// The op registry: each op file registers a spec (how to run it on tensors, its CPU float64
// reference, and its test cases). The generic op suite (engine/testing/opcheck.ts, run by vitest
// and inside Chromium) and the benchmark both read this list, so an op is checked the moment it is
// registered, and an op without a backward fails the suite.
import type { Tensor } from '../tensor.js';

export interface HostTensor {
  shape: number[];
  data: Float64Array;
}

export interface OpCase {
  label?: string;
  /** Input shapes, in the order run() takes them. */
  shapes: number[][];
  attrs?: Record<string, unknown>;
  /** Inputs to check gradients for (default: all). */
  gradInputs?: boolean[];
  /** Also check the gradient of the gradient (default: the spec's doubleBackward). */
  doubleBackward?: boolean;
  /** Check the backward at all (default true). */
  backward?: boolean;
}

export interface OpSpec {
  name: string;
  run: (inputs: Tensor[], attrs: Record<string, unknown>) => Tensor;
  reference: (inputs: HostTensor[], attrs: Record<string, unknown>) => HostTensor;
  cases: OpCase[];
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
