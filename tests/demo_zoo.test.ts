// The demo pages' side of the trained-model zoo (issue 15): the manifest and cards page the demos
// build serves (scripts/demo-zoo.mjs), which URL runs the shipped weights fit (demos/shared/zoo.ts
// shippedMismatch), and a page's training session started from a shipped float16 file
// (demos/shared/session.ts: the shipped networks restored, the others and the optimisers fresh, and
// training continuing from the shipped step). Tiny DCGANs written here; Dawn in Node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../engine/device.js';
import { tidy, type Tensor } from '../engine/tensor.js';
import { Generator } from '../engine/ops/random.js';
import { getRecipe, type GanTrainer, type ModelConfig, type TrainSettings } from '../nets/registry.js';
import { saveRunCheckpoint } from '../cli/checkpoint_io.js';
import { buildZooSite, markdownToHtml, zooManifest } from '../scripts/demo-zoo.mjs';
// @ts-expect-error: a plain ES module script without type declarations
import { exportWeights } from '../scripts/zoo.mjs';
import { TrainingSession } from '../demos/shared/session.js';
import { shippedMismatch, type ZooEntry } from '../demos/shared/zoo.js';
import { configOf, maxAbsDiff, seeded } from './support/util.js';

const MODEL = 'dcgan';
let tmp: string;

beforeAll(async () => {
  await initEngine();
  tmp = mkdtempSync(join(tmpdir(), 'gan-demo-zoo-'));
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const recipe = getRecipe(MODEL)!;
const config: ModelConfig = configOf(recipe, { imageSize: 16, nz: 8, ngf: 4, ndf: 4, nc: 1 });
const settings: TrainSettings = { ...recipe.train, batch: 2, lr: 2e-4, dataset: 'mnist', steps: 50 };

function dispose(t: GanTrainer): void {
  for (const m of Object.values(t.nets)) m.dispose();
  for (const o of Object.values(t.optimizers)) o.dispose();
}

async function read(fn: () => Tensor): Promise<Float32Array> {
  const t = tidy(fn);
  try {
    return await t.data();
  } finally {
    t.dispose();
  }
}

/** A run checkpoint of a seeded tiny DCGAN at `step` (float32, every network and optimiser). */
async function runCheckpoint(file: string, seed: number, step: number): Promise<GanTrainer> {
  const trainer = recipe.create(config, settings, seed);
  await saveRunCheckpoint(file, trainer, { model: MODEL, config, settings, seed, step, loader: null, dataset: 'mnist', limit: 0 });
  return trainer;
}

/** A zoo folder as scripts/zoo.mjs leaves it: float16 generator, run.json, grid.png, and optionally the run's checkpoint. */
function zooFolder(zoo: string, ckpt: string, step: number, resume?: string): void {
  const dir = join(zoo, MODEL);
  mkdirSync(dir, { recursive: true });
  exportWeights(ckpt, join(dir, `${MODEL}.safetensors`), { ship: ['netG'], zooMeta: { model: MODEL, step } });
  writeFileSync(join(dir, 'recipe.json'), JSON.stringify({ model: MODEL, flags: { steps: 50 }, ship: ['netG'] }));
  writeFileSync(
    join(dir, 'run.json'),
    JSON.stringify({
      model: MODEL,
      settings,
      history: [{ command: 'gan train', adapter: 'test adapter', startStep: 0, endStep: step, wallSeconds: 12 }],
    }),
  );
  writeFileSync(join(dir, 'grid.png'), 'not really a png');
  if (resume) {
    mkdirSync(join(dir, 'resume'), { recursive: true });
    copyFileSync(resume, join(dir, 'resume', 'checkpoint.safetensors'));
  }
}

describe('the demos build serves the zoo (scripts/demo-zoo.mjs)', () => {
  it('lists the folders that ship weights, from the files themselves, with the run checkpoint only when it is of the same step', async () => {
    const ck12 = join(tmp, 'ck12.safetensors');
    const ck20 = join(tmp, 'ck20.safetensors');
    dispose(await runCheckpoint(ck12, 3, 12));
    dispose(await runCheckpoint(ck20, 3, 20));
    const zoo = join(tmp, 'zoo-a');
    zooFolder(zoo, ck12, 12, ck12);
    mkdirSync(join(zoo, 'notyet'), { recursive: true });
    writeFileSync(join(zoo, 'notyet', 'recipe.json'), JSON.stringify({ model: 'notyet', flags: { steps: 5 } }));
    const out = join(tmp, 'site-a');
    const m = buildZooSite(zoo, out);
    expect(Object.keys(m.models)).toEqual([MODEL]);
    const e = m.models[MODEL];
    expect(e).toMatchObject({
      model: MODEL,
      step: 12,
      steps: 50,
      config,
      batch: 2,
      lr: 2e-4,
      seed: 3,
      dataset: 'mnist',
      networks: ['netG'],
      file: `${MODEL}/${MODEL}.safetensors`,
      grid: `${MODEL}/grid.png`,
      card: `index.html#${MODEL}`,
      adapters: ['test adapter'],
      wallSeconds: 12,
    });
    expect(e.resume).toMatchObject({ file: `${MODEL}/resume.safetensors`, step: 12 });
    expect([...e.resume!.optimizers].sort()).toEqual(['netD', 'netG']);
    expect(readFileSync(join(out, e.file))).toEqual(readFileSync(join(zoo, MODEL, `${MODEL}.safetensors`)));
    expect(readFileSync(join(out, e.resume!.file))).toEqual(readFileSync(ck12));
    expect(JSON.parse(readFileSync(join(out, 'index.json'), 'utf8'))).toEqual(m);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain(`id="${MODEL}"`);
    // A run checkpoint of another step than the shipped weights is not offered as their continuation.
    copyFileSync(ck20, join(zoo, MODEL, 'resume', 'checkpoint.safetensors'));
    expect(zooManifest(zoo).models[MODEL].resume).toBeNull();
    // Weights in the wrong folder are an error that names both.
    const bad = join(tmp, 'zoo-bad');
    mkdirSync(join(bad, 'other'), { recursive: true });
    copyFileSync(join(zoo, MODEL, `${MODEL}.safetensors`), join(bad, 'other', 'other.safetensors'));
    expect(() => zooManifest(bad)).toThrow(`a '${MODEL}' checkpoint, in the folder of 'other'`);
  });

  it("renders the cards' markdown, pointing the zoo's files at the site's copies", () => {
    const html = markdownToHtml(
      '## dcgan\n\n- **Weights:** [w](../zoo/dcgan/dcgan.safetensors), `a<b`\n- [elsewhere](../README.md)\n\n![grid](../zoo/dcgan/grid.png)\n\n```sh\nx < y\n```\n\n| a | b |\n| --- | --- |\n| 1 | [x](#dcgan) |',
      (url: string) => (url.startsWith('../zoo/') ? url.slice('../zoo/'.length) : null),
    );
    expect(html).toContain('<h2 id="dcgan">dcgan</h2>');
    expect(html).toContain('<li><strong>Weights:</strong> <a href="dcgan/dcgan.safetensors">w</a>, <code>a&lt;b</code></li>');
    expect(html).toContain('<li>elsewhere</li>');
    expect(html).toContain('<img alt="grid" src="dcgan/grid.png"');
    expect(html).toContain('<pre><code>x &lt; y</code></pre>');
    expect(html).toContain('<tr><td>1</td><td><a href="#dcgan">x</a></td></tr>');
  });
});

describe('which page runs the shipped weights fit (demos/shared/zoo.ts)', () => {
  const entry = { model: MODEL, config: { ...config, imageSize: 32, ngf: 32 }, dataset: 'mnist' } as unknown as ZooEntry;
  it('options the URL leaves alone take the weights values; ones it sets must match', () => {
    expect(shippedMismatch(entry, new URLSearchParams(''))).toBeNull();
    expect(shippedMismatch(entry, new URLSearchParams('ngf=32&batch=4&lr=0.001'))).toBeNull();
    expect(shippedMismatch(entry, new URLSearchParams('ngf=4&size=32'))).toBe('this URL asks for ngf 4 (they have 32)');
    expect(shippedMismatch(entry, new URLSearchParams('dataset=emoji'))).toMatch(/dataset emoji \(they were trained on mnist\)/);
    expect(shippedMismatch(entry, new URLSearchParams(''), { dataset: 'emoji-edges' })).toMatch(/dataset emoji-edges/);
  });
});

describe("a page's session from shipped weights (demos/shared/session.ts)", () => {
  it('restores the shipped generator (float16), keeps a fresh discriminator, and trains on from the shipped step', async () => {
    const ckpt = join(tmp, 'ck-session.safetensors');
    const source = await runCheckpoint(ckpt, 5, 30);
    const shipped = join(tmp, 'shipped.safetensors');
    exportWeights(ckpt, shipped, { ship: ['netG'], zooMeta: { model: MODEL, step: 30 } });
    const n = 8;
    const data = { data: seeded(n * 16 * 16, 9), n, sampleShape: [1, 16, 16] };
    const session = new TrainingSession({ model: MODEL, config, batch: 2, lr: 2e-4, seed: 1 }, data, 'mnist', 4);
    const fresh = recipe.create(config, settings, 1);
    try {
      const z = () => session.trainer.noise(4, new Generator(77));
      const { networksOnly } = session.restore(new Uint8Array(readFileSync(shipped)), 'shipped');
      expect(networksOnly).toEqual(['netG']);
      expect(session.step).toBe(30);
      // G is the shipped one (within float16 rounding of the run's float32), D is still the page's own seed-1 network.
      const want = await read(() => source.generate(source.noise(4, new Generator(77))));
      const got = await read(() => session.trainer.generate(z()));
      const untrained = await read(() => fresh.generate(fresh.noise(4, new Generator(77))));
      expect(maxAbsDiff(got, want)).toBeLessThan(0.01);
      expect(maxAbsDiff(got, untrained)).toBeGreaterThan(0.05);
      const dParams = (t: GanTrainer) => Promise.all(t.nets.netD.parameters().map((p) => p.data()));
      const [dPage, dFresh, dRun] = await Promise.all([dParams(session.trainer), dParams(fresh), dParams(source)]);
      expect(dPage.map((p, i) => maxAbsDiff(p, dFresh[i]))).toEqual(dPage.map(() => 0));
      expect(Math.max(...dPage.map((p, i) => maxAbsDiff(p, dRun[i])))).toBeGreaterThan(0);
      // Training continues from the shipped step.
      const stats = await session.trainStep(true);
      expect(session.step).toBe(31);
      expect(Object.values(stats!).every(Number.isFinite)).toBe(true);
    } finally {
      session.dispose();
      dispose(source);
      dispose(fresh);
    }
  });
});
