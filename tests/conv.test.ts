import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/index.js';
import { opRegistry } from '../engine/ops/registry.js';
import '../engine/ops/matmul.js';
import '../engine/ops/conv.js';
import { checkOpCase, caseLabel } from '../engine/testing/opcheck.js';

beforeAll(async () => {
  await initEngine();
});

describe('scratch', () => {
  for (const spec of opRegistry.filter((s) => /conv/.test(s.name))) {
    for (const c of spec.cases) {
      it(spec.name + ' ' + caseLabel(c), async () => {
        const rs = await checkOpCase(spec, c);
        const bad = rs.filter((r) => !r.ok);
        expect(bad.map((r) => `${r.stage} ${r.message ?? ''} err=${r.err.toExponential(2)} tol=${r.tol}`)).toEqual([]);
      });
    }
  }
});
