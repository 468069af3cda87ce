// Exact resume through the CLI's run checkpoint, for any registered recipe: the mechanism of
// `gan train --resume` (saveRunCheckpoint, loadRunCheckpoint, restoreTrainer, the loader position).
// Shared by tests/cascade.test.ts and tests/resume.test.ts.

import { expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, type Tensor } from '../../engine/tensor.js';
import { Generator } from '../../engine/ops/index.js';
import { DataLoader, type ArrayDataset } from '../../data/loader.js';
import { readStats } from '../../nets/lib/stats.js';
import { loadRunCheckpoint, restoreTrainer, saveRunCheckpoint } from '../../cli/checkpoint_io.js';
import type { GanTrainer, ModelConfig, ModelRecipe } from '../../nets/registry.js';
import { GAN_ADAM, maxAbsDiff } from './util.js';

const allFinite = (rows: Record<string, number>[]) => rows.every((r) => Object.values(r).every(Number.isFinite));

/**
 * Every network tensor (parameters and buffers), the training state the checkpoint carries (image
 * pools, ...), optimiser state and step counts, and the noise stream, on the host.
 */
export async function trainerState(t: GanTrainer): Promise<Map<string, ArrayLike<number> | string>> {
  const out = new Map<string, ArrayLike<number> | string>();
  const modules = { ...t.nets, ...(t.trainingState ?? {}) };
  for (const [name, net] of Object.entries(modules)) for (const [k, v] of net.stateDict()) out.set(`${name}.${k}`, await v.data());
  for (const [name, o] of Object.entries(t.optimizers)) {
    const sd = o.stateDict();
    out.set(`optim.${name}.steps`, JSON.stringify(sd.steps));
    for (const [k, v] of Object.entries(sd.tensors)) out.set(`optim.${name}.${k}`, await (v as Tensor).data());
  }
  out.set('rng', JSON.stringify(t.rng.getState()));
  return out;
}

/**
 * N straight steps against N/2 steps, saveRunCheckpoint, loadRunCheckpoint + restoreTrainer into a
 * fresh trainer (what `gan train --resume` does), N/2 more: networks, training state, optimiser
 * moments and step counts, the noise stream, the loader position and the last step's statistics
 * must be identical. The straight run also draws samples along the way (as the CLI does), which
 * must not disturb the training state.
 */
export async function expectExactResume(
  recipe: ModelRecipe,
  config: ModelConfig,
  data: ArrayDataset & { tokens?: string[][] },
  steps: number,
  batch: number,
) {
  const settings = { ...recipe.train, ...GAN_ADAM, batch, steps };
  const seed = 3;
  const [c, h, w] = data.sampleShape;
  const make = () => {
    const t = recipe.create(config, settings, seed);
    t.bindData?.({ images: data.data, n: data.n, c, h, w, labels: data.labels, tokens: data.tokens });
    return t;
  };
  const loaderOf = () => new DataLoader(data, { batchSize: batch, seed });
  const real = tensor(new Float32Array(batch * c * h * w), [batch, c, h, w]).keep();
  const run = async (t: GanTrainer, loader: DataLoader, n: number, straight: boolean) => {
    const rows: Record<string, number>[] = [];
    for (let i = 0; i < n; i++) {
      if (straight) {
        const z = t.noise(4, new Generator(99));
        t.generate(z).dispose();
        z.dispose();
      }
      loader.nextInto(real);
      const st = t.step(real, straight || i === n - 1);
      if (st) rows.push(await readStats(st));
    }
    return rows;
  };
  const straight = make();
  const la = loaderOf();
  const rows = await run(straight, la, steps, true);
  expect(allFinite(rows), `${recipe.name}: finite losses`).toBe(true);

  const half = steps / 2;
  const first = make();
  const lb = loaderOf();
  await run(first, lb, half, false);
  const dir = mkdtempSync(join(tmpdir(), 'gan-resume-'));
  const path = join(dir, 'checkpoint.safetensors');
  try {
    await saveRunCheckpoint(path, first, {
      model: recipe.name,
      config,
      settings,
      seed,
      step: half,
      loader: lb.state,
      dataset: 'toy',
      limit: 0,
    });
    const ck = await loadRunCheckpoint('test', path);
    expect(ck.info.step).toBe(half);
    const resumed = make();
    expect(restoreTrainer('test', path, ck, resumed, true)).toEqual([]);
    const lc = loaderOf();
    lc.setState(ck.info.loader!);
    const lastC = await run(resumed, lc, half, false);
    // The last step logs statistics only on some steps for some models (n_critic cadences).
    if (rows.length === steps) expect(lastC, `${recipe.name}: last step's statistics`).toEqual([rows[steps - 1]]);
    expect(lc.state).toEqual(la.state);
    const [a, b] = [await trainerState(straight), await trainerState(resumed)];
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, v] of a) {
      const u = b.get(k)!;
      if (typeof v === 'string') expect(u, `${recipe.name} ${k}`).toBe(v);
      else expect(maxAbsDiff(u as ArrayLike<number>, v), `${recipe.name} ${k}`).toBe(0);
    }
    (first as { dispose?: () => void }).dispose?.();
    return { straight, resumed, rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    real.dispose();
  }
}
