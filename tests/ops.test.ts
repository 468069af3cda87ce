// The generic op suite: every registered op, every case, forward vs the CPU float64 reference,
// backward and double backward vs finite differences (tests/support/opcheck.ts), on the cases of
// tests/support/op_cases.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/index.js';
import { opRegistry } from '../engine/ops/registry.js';
import { checkOpCase, caseLabel } from './support/opcheck.js';
import { opCases } from './support/op_cases.js';

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
