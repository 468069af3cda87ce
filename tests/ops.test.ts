// The generic op suite: every registered op, every case, forward vs the CPU float64 reference,
// backward and double backward vs finite differences (engine/testing/opcheck.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/index.js';
import { opRegistry } from '../engine/ops/registry.js';
import { checkOpCase, caseLabel } from '../engine/testing/opcheck.js';

beforeAll(async () => {
  await initEngine();
});

describe('op suite', () => {
  for (const spec of opRegistry) {
    describe(spec.name, () => {
      for (const c of spec.cases) {
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
