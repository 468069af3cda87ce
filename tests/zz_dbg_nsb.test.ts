import { it } from 'vitest';
import { initEngine } from '../engine/index.js';
import { opRegistry } from '../engine/ops/registry.js';
import { checkOpCase } from '../engine/testing/opcheck.js';
it('dbg', async () => {
  await initEngine();
  for (const name of ['laplacian_pyramid', 'reconstruct_pyramid', 'laplacian_band', 'pyr_down', 'pyr_up']) {
    const spec = opRegistry.find((s) => s.name === name)!;
    for (const c of spec.cases) {
      const rs = await checkOpCase(spec, c, 1234, { doubleBackward: false });
      console.log(name, JSON.stringify(c.shapes), rs.map((r) => `${r.stage}:${r.err.toExponential(1)}`).join(' '));
    }
  }
});
