// The training pages' run settings (demos/shared/models.ts), which the browser suite only samples:
// every registered model's page defaults and the test's tiny overrides must pass the recipe's own
// validation, URL parameters parse by the option's type (camelCase, kebab-case, `size`) with errors
// that name the parameter, and the build's data step is asked for every dataset a page trains on.
// No GPU, no DOM.
import { describe, expect, it } from 'vitest';
import { recipes } from '../nets/registry';
import {
  blurbOf,
  chartsOf,
  demoOf,
  gridColsOf,
  GENERIC_CHARTS,
  pageDatasets,
  quickConfig,
  runDefaults,
  runFromParams,
  SKETCH_RUN,
  STAT_LABELS,
  statLabel,
} from '../demos/shared/models';
import { ARCHITECTURES, paperLink } from '../demos/shared/architectures';
import { loadManifest, manifestKey, saveManifest, SOFTWARE_BATCH, SOFTWARE_WIDTH, softwareSized } from '../demos/shared/warmup';

describe('demo page runs', () => {
  it('every registered model has page defaults its recipe accepts', () => {
    for (const [name, r] of Object.entries(recipes)) {
      const d = runDefaults(name);
      expect(d.model).toBe(name);
      expect(d.batch, name).toBeGreaterThan(0);
      expect(d.lr, name).toBeGreaterThan(0);
      expect(r.validate(d.config), name).toEqual([]);
      // Every option has a value (defaults, then the --quick preset).
      expect(Object.keys(d.config).sort(), name).toEqual(
        Object.keys(r.options)
          .filter((k) => r.options[k].default !== undefined)
          .sort(),
      );
    }
  });

  it('defaults come from the recipe, its --quick preset, then the page', () => {
    const cyc = runDefaults('cyclegan');
    expect(cyc.config.netG).toBe(recipes.cyclegan.quick.netG);
    expect(cyc.config.ngf).toBe(recipes.cyclegan.quick.ngf);
    expect(cyc.config.lambdaA).toBe(recipes.cyclegan.options.lambdaA.default);
    expect(cyc.batch).toBe(recipes.cyclegan.quick.batch);
    expect(cyc.dataset).toBe(recipes.cyclegan.train.dataset);
    // DCGAN's page keeps its own widths, batch and rate.
    expect(runDefaults('dcgan')).toMatchObject({ batch: 64, lr: 2e-4, config: { ngf: 32, ndf: 32, imageSize: 32 } });
  });

  it('URL parameters set options by name, kebab-case or alias, typed by the option', () => {
    const r = runFromParams(
      'pix2pix',
      new URLSearchParams('net-g=unet_32&ngf=4&ndfx=9&size=32&dropout=false&lambdaL1=50&batch=2&lr=0.001&dataset=emoji-edges'),
    );
    expect(r.config).toMatchObject({ netG: 'unet_32', ngf: 4, imageSize: 32, dropout: false, lambdaL1: 50 });
    expect(r.config).not.toHaveProperty('ndfx');
    expect(r).toMatchObject({ batch: 2, lr: 0.001, dataset: 'emoji-edges' });
    // The page's base sits between the defaults and the URL.
    const d = runFromParams('pix2pix', new URLSearchParams('ngf=8'), { dataset: SKETCH_RUN.dataset, config: { ngf: 16, ndf: 16 } });
    expect(d).toMatchObject({ dataset: 'emoji-edges', config: { ngf: 8, ndf: 16 } });
  });

  it('bad URL values are errors naming the parameter and what it takes', () => {
    expect(() => runFromParams('dcgan', new URLSearchParams('ngf=4.5'))).toThrow(/ngf=4\.5: expected an integer/);
    expect(() => runFromParams('pix2pix', new URLSearchParams('net-g=unet_7'))).toThrow(/net-g=unet_7: expected one of .*unet_32/);
    expect(() => runFromParams('pix2pix', new URLSearchParams('dropout=maybe'))).toThrow(/dropout=maybe: expected true or false/);
    expect(() => runFromParams('dcgan', new URLSearchParams('batch=0'))).toThrow(/batch=0: expected an integer in \[1, 4096\]/);
    expect(() => runFromParams('dcgan', new URLSearchParams('lr=fast'))).toThrow(/lr=fast: expected a number/);
    expect(() => runDefaults('nosuchgan')).toThrow(/no model 'nosuchgan' in nets\/registry\.ts \(registered: dcgan/);
  });

  it('the data step writes every dataset and size a page trains on by default', () => {
    const wanted = pageDatasets();
    for (const name of Object.keys(recipes)) {
      const d = runDefaults(name);
      const size = recipes[name].imageShape(d.config).size;
      expect(wanted, name).toContainEqual({ dataset: d.dataset, size });
    }
    expect(wanted).toContainEqual({ dataset: SKETCH_RUN.dataset, size: Number(SKETCH_RUN.config.imageSize) });
  });
});

describe('what the pages read from the model declarations', () => {
  it("the gallery lists every registered model in the registry's order, with the paper its declaration gives", () => {
    expect(ARCHITECTURES.map((a) => a.key)).toEqual(Object.keys(recipes));
    for (const a of ARCHITECTURES) {
      const r = recipes[a.key];
      expect(a.paper.title.length, a.key).toBeGreaterThan(10);
      expect(a.summary.length, a.key).toBeGreaterThan(20);
      expect(paperLink(a).href, a.key).toMatch(/^https:\/\/(arxiv\.org\/abs\/\d{4}\.\d{5}|doi\.org\/10\.\d+\/\S+)$/);
      if (r.info) {
        // Declared: the card is the declaration's, not a copy.
        expect(a.paper, a.key).toBe(r.info);
        expect(a.name, a.key).toBe(r.info.label);
        expect(a.summary, a.key).toBe(r.info.summary);
      }
      if (r.demo) {
        expect(a.page, a.key).toBe(r.demo.page);
        expect(a.pages, a.key).toBe(r.demo.pages);
      }
    }
    // Display names are distinct (the gallery's cards are found by them).
    expect(new Set(ARCHITECTURES.map((a) => a.name)).size).toBe(ARCHITECTURES.length);
  });

  it("charts, grid columns, blurb and page defaults come from the model's demo hook", () => {
    let declared = 0;
    for (const [name, r] of Object.entries(recipes)) {
      const d = demoOf(name);
      if (r.demo) {
        declared++;
        expect(d, name).toBe(r.demo);
      }
      const charts = chartsOf(name, false);
      expect(charts.slice(0, d.charts?.length ?? 0), name).toEqual(d.charts ?? []);
      expect(charts.slice(-GENERIC_CHARTS.length), name).toEqual([...GENERIC_CHARTS]);
      expect(gridColsOf(name), name).toBe(d.gridCols);
      expect(blurbOf(name), name).toBe(d.blurb);
      const run = runDefaults(name);
      expect(run.config, name).toEqual({ ...quickConfig(name), ...(d.overrides?.config ?? {}) });
      if (d.overrides?.batch !== undefined) expect(run.batch, name).toBe(d.overrides.batch);
      if (d.overrides?.lr !== undefined) expect(run.lr, name).toBe(d.overrides.lr);
    }
    expect(declared).toBeGreaterThanOrEqual(6);
  });
});

describe('demo page labels and adapter sizes', () => {
  it('one label per statistic: the table first, then read from the key', () => {
    expect(statLabel('lossD')).toBe('loss D');
    expect(statLabel('D_G_z1')).toBe(STAT_LABELS.D_G_z1);
    expect(statLabel('lossD_2')).toBe('loss D₂');
    expect(statLabel('lossD_12')).toBe('loss D₁₂');
    expect(statLabel('lossGp')).toBe('loss Gp');
    expect(statLabel('D_G_z')).toBe('D(G(z))');
    expect(statLabel('D_wrong')).toBe('D(wrong)');
    expect(statLabel('loss_D_real')).toBe('loss D real');
    expect(statLabel('lambda')).toBe('lambda');
  });

  it('a software adapter gets widths of at most 8 and batch 16 its recipe accepts, except what the URL sets', () => {
    const none = new URLSearchParams();
    for (const [name, r] of Object.entries(recipes)) {
      const { run, changed } = softwareSized(runDefaults(name), none);
      expect(r.validate(run.config), name).toEqual([]);
      expect(run.batch, name).toBeLessThanOrEqual(SOFTWARE_BATCH);
      for (const [k, from, to] of changed) {
        expect(to, `${name}.${k}`).toBeLessThan(from);
        if (k !== 'batch') expect(run.config[k], `${name}.${k}`).toBe(SOFTWARE_WIDTH);
      }
    }
    const d = runFromParams('dcgan', none);
    const sized = softwareSized(d, none);
    expect(sized.changed).toEqual([
      ['ngf', 32, 8],
      ['ndf', 32, 8],
      ['batch', 64, 16],
    ]);
    // Widths and batch the URL names are the user's (kebab-case too).
    const url = new URLSearchParams('ngf=32&batch=64');
    const kept = softwareSized(runFromParams('dcgan', url), url);
    expect(kept.run.config.ngf).toBe(32);
    expect(kept.run.batch).toBe(64);
    expect(kept.changed).toEqual([['ndf', 32, 8]]);
  });
});

describe('kernel manifests (demos/shared/warmup.ts)', () => {
  /** A localStorage with a quota, as browsers have (about 5 MB per origin). */
  function quotaStorage(limit: number) {
    const m = new Map<string, string>();
    const used = () => [...m].reduce((s, [k, v]) => s + k.length + v.length, 0);
    const store = {
      getItem: (k: string) => m.get(k) ?? null,
      setItem: (k: string, v: string) => {
        const before = m.get(k);
        m.set(k, v);
        if (used() > limit) {
          if (before === undefined) m.delete(k);
          else m.set(k, before);
          throw new Error('QuotaExceededError');
        }
      },
      removeItem: (k: string) => void m.delete(k),
    };
    return new Proxy(store, {
      ownKeys: () => [...m.keys()],
      getOwnPropertyDescriptor: (_, k) => ({ enumerable: true, configurable: true, value: m.get(String(k)) }),
    });
  }
  const spec = (key: string, size: number) => ({ key, code: 'x'.repeat(size), bindings: ['read' as const, 'rw' as const], op: 'op' });

  it("round-trips a run's kernel specs, makes room by dropping other runs, and ignores malformed entries", () => {
    const g = globalThis as { localStorage?: unknown };
    const saved = g.localStorage;
    g.localStorage = quotaStorage(3000);
    try {
      const a = manifestKey('dcgan', { ngf: 8 }, 16, 64);
      const b = manifestKey('dcgan', { ngf: 4 }, 16, 64);
      expect(a).not.toBe(b);
      expect(saveManifest(a, [spec('k1', 1000), spec('k2', 500)])).toBe(true);
      expect(loadManifest(a).map((s) => [s.key, s.code.length, s.bindings])).toEqual([
        ['k1', 1000, ['read', 'rw']],
        ['k2', 500, ['read', 'rw']],
      ]);
      // B does not fit beside A: A is dropped, B kept.
      expect(saveManifest(b, [spec('k3', 1800)])).toBe(true);
      expect(loadManifest(a)).toEqual([]);
      expect(loadManifest(b).map((s) => s.key)).toEqual(['k3']);
      // Larger than the whole quota: not kept, and nothing thrown.
      expect(saveManifest(a, [spec('k4', 5000)])).toBe(false);
      (g.localStorage as { setItem(k: string, v: string): void }).setItem(
        a,
        JSON.stringify([{ key: 'ok', code: 'c', bindings: [] }, { key: 1 }, null]),
      );
      expect(loadManifest(a).map((s) => s.key)).toEqual(['ok']);
      (g.localStorage as { setItem(k: string, v: string): void }).setItem(a, '{not json');
      expect(loadManifest(a)).toEqual([]);
    } finally {
      g.localStorage = saved;
    }
  });
});
