// The generic op suite: every registered op, every case, forward vs the CPU float64 reference,
// backward and double backward vs finite differences (tests/support/opcheck.ts), on the cases of
// tests/support/op_cases.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/index.js';
import { opRegistry } from '../engine/ops/registry.js';
import { checkOpCase, caseLabel } from './support/opcheck.js';
import { opCases } from './support/op_cases.js';
import { coalesceDims } from '../engine/ops/movement.js';

beforeAll(async () => {
  await initEngine();
});

describe('op suite', () => {
  it('every registered op has test cases, and every case table names a registered op', () => {
    const registered = new Set(opRegistry.map((s) => s.name));
    expect(opRegistry.filter((s) => !opCases[s.name]?.length).map((s) => s.name)).toEqual([]);
    expect(Object.keys(opCases).filter((n) => !registered.has(n))).toEqual([]);
  });
  for (const spec of opRegistry) {
    describe(spec.name, () => {
      for (const c of opCases[spec.name] ?? []) {
        it(caseLabel(c), async () => {
          const rs = await checkOpCase(spec, c);
          const bad = rs.filter((r) => !r.ok);
          expect(bad.map((r) => `${r.stage} ${r.message ?? ''} err=${r.err.toExponential(2)} tol=${r.tol}`)).toEqual([]);
          expect(rs.length).toBeGreaterThan(0);
        });
      }
    });
  }
});

describe('strided copies run over the fewest dims', () => {
  it('coalesceDims drops size-1 dims and merges runs both sides step over as one', () => {
    // A dim-0 slice of a contiguous [9, 4]: one contiguous run (the contig_copy kernel).
    expect(coalesceDims([7, 4], [4, 1], [4, 1])).toEqual([[28], [1], [1]]);
    // Channels 2..4 of [2, 6, 3, 4] into [2, 3, 3, 4]: rows of 36 with different row strides.
    expect(coalesceDims([2, 3, 3, 4], [72, 12, 4, 1], [36, 12, 4, 1])).toEqual([
      [2, 36],
      [72, 1],
      [36, 1],
    ]);
    // A permute merges nothing across the swapped dims; size-1 dims go.
    expect(coalesceDims([2, 1, 4, 5], [20, 99, 1, 4], [20, 20, 5, 1])).toEqual([
      [2, 4, 5],
      [20, 1, 4],
      [20, 5, 1],
    ]);
    // Broadcast (stride 0) dims merge with each other, not with a strided one.
    expect(coalesceDims([2, 3, 5], [0, 0, 1], [15, 5, 1])).toEqual([
      [6, 5],
      [0, 1],
      [5, 1],
    ]);
    expect(coalesceDims([1, 1], [1, 1], [1, 1])).toEqual([[1], [0], [0]]);
  });
});
