// Datasets (CPU only, no GPU): emoji pairs / unpaired / skin tones / text, the decoded-image cache,
// edge maps, 2-D and 1-D Gaussian mixtures with their mode metrics, Stacked MNIST.
// Kept fast with `limit`/small subsets; only the duplicate scan behind the split reads every PNG
// (once, into a temporary cache directory).

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePngNode } from '../data/png_node.js';
import { cachePath, cached, readCache, type CacheKey } from '../data/cache.js';
import {
  bagOfWords,
  buildVocabulary,
  clearEmojiMemory,
  edgeMapCpu,
  emojiCatalogue,
  emojiGroupKeys,
  emojiPackageInfo,
  emojiSplitEntries,
  encodeTokens,
  loadEmojiPairs,
  loadEmojiSkinTones,
  loadEmojiText,
  loadEmojiUnpaired,
  SKIN_TONE_CODES,
  splitOfGroup,
  tokenize,
} from '../data/emoji.js';
import {
  assignModes,
  createRng,
  gridMixture,
  highQualityFraction,
  madGan1dMixture,
  modeKL,
  modesCovered,
  modeStats,
  ringMixture,
  sampleMixture,
} from '../data/mixtures.js';
import { countModes, digitsOfMode, loadStackedMnist, modeOfStacked, modesOfStacked } from '../data/stacked_mnist.js';
import { loadMnist } from '../data/mnist.js';

let tmp: string;
let cacheDir: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'data-test-'));
  cacheDir = join(tmp, 'cache');
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** The composited-on-white RGB the loaders should produce for one PNG, as floats in [-1, 1] (CHW). */
function expectedFromPng(path: string): { rgb: Float32Array; alpha: Uint8Array } {
  const png = decodePngNode(readFileSync(path));
  const hw = png.width * png.height;
  const rgb = new Float32Array(3 * hw);
  const alpha = new Uint8Array(hw);
  for (let p = 0; p < hw; p++) {
    const s = p * png.channels;
    const a = png.channels === 4 ? png.data[s + 3] : png.channels === 2 ? png.data[s + 1] : 255;
    alpha[p] = a;
    for (let ch = 0; ch < 3; ch++) {
      const v = png.channels >= 3 ? png.data[s + ch] : png.data[s];
      rgb[ch * hw + p] = Math.round((v * a + 255 * (255 - a)) / 255) / 127.5 - 1;
    }
  }
  return { rgb, alpha };
}

/** [min, max] of an array (NaN-aware: a NaN makes both NaN). */
function range(xs: Float32Array): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of xs) {
    if (Number.isNaN(v)) return [NaN, NaN];
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return [min, max];
}

const imageOf = (arr: Float32Array, i: number, size = 64) => arr.subarray(i * 3 * size * size, (i + 1) * 3 * size * size);

describe('emoji pairs', () => {
  it('aligns the same emoji from both sets, composited on white, in [-1, 1]', () => {
    const p = loadEmojiPairs({ split: 'train', limit: 6, cacheDir });
    expect(p.n).toBe(6);
    expect([p.c, p.h, p.w]).toEqual([3, 64, 64]);
    expect(p.a.length).toBe(6 * 3 * 64 * 64);
    const catalogue = new Map(emojiCatalogue('google').map((e) => [e.code, e]));
    let transparentSeen = 0;
    for (let i = 0; i < p.n; i++) {
      const entry = catalogue.get(p.codes[i])!;
      expect(p.names[i]).toBe(entry.name);
      const ga = expectedFromPng(join(emojiPackageInfo('google').imageDir, entry.image));
      const tb = expectedFromPng(join(emojiPackageInfo('twitter').imageDir, entry.image));
      const a = imageOf(p.a, i);
      const b = imageOf(p.b, i);
      let worst = 0;
      for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j] - ga.rgb[j]), Math.abs(b[j] - tb.rgb[j]));
      expect(worst).toBeLessThan(1e-6);
      // A fully transparent pixel is pure white: exactly 1.0 in every channel.
      const t = ga.alpha.indexOf(0);
      if (t >= 0) {
        transparentSeen++;
        for (let ch = 0; ch < 3; ch++) expect(a[ch * 4096 + t]).toBe(1);
      }
      // Two different artworks of the same emoji.
      let diff = 0;
      for (let j = 0; j < a.length; j++) diff += Math.abs(a[j] - b[j]);
      expect(diff / a.length).toBeGreaterThan(0.01);
    }
    expect(transparentSeen).toBeGreaterThan(0);
    for (const arr of [p.a, p.b]) {
      const [min, max] = range(arr);
      expect(min).toBeGreaterThanOrEqual(-1);
      expect(max).toBeLessThanOrEqual(1);
    }
  });

  it('splits by emoji group: disjoint, stable, about testFraction, tones and duplicates together', () => {
    const groups = emojiGroupKeys({ cacheDir });
    const train = emojiSplitEntries({ split: 'train', cacheDir });
    const test = emojiSplitEntries({ split: 'test', cacheDir });
    expect(train.length + test.length).toBe(emojiCatalogue('google').filter((e) => e.hasImage.google && e.hasImage.twitter).length);
    const trainGroups = new Set(train.map((e) => groups.get(e.code)));
    const testGroups = new Set(test.map((e) => groups.get(e.code)));
    for (const g of testGroups) expect(trainGroups.has(g)).toBe(false);
    const testBases = new Set(test.map((e) => e.base));
    for (const e of train) expect(testBases.has(e.base)).toBe(false); // no tone of a test emoji in training
    const frac = testGroups.size / (trainGroups.size + testGroups.size);
    expect(frac).toBeGreaterThan(0.11);
    expect(frac).toBeLessThan(0.19);
    // Byte-identical flags (e.g. Norway and Svalbard & Jan Mayen) share a group.
    expect(groups.get('1F1F3-1F1F4')).toBe(groups.get('1F1F8-1F1EF'));
    // Stable: a hash of the group key, the same in every call and process.
    expect(emojiSplitEntries({ split: 'test', cacheDir }).map((e) => e.code)).toEqual(test.map((e) => e.code));
    expect(splitOfGroup('1F600')).toBe(splitOfGroup('1F600'));
    const other = emojiSplitEntries({ split: 'test', cacheDir, seed: 1 }).map((e) => e.code);
    expect(other).not.toEqual(test.map((e) => e.code));
    // The loaders honour it.
    const pTrain = loadEmojiPairs({ split: 'train', limit: 5, cacheDir });
    const pTest = loadEmojiPairs({ split: 'test', limit: 5, cacheDir });
    expect(pTrain.codes).toEqual(train.slice(0, 5).map((e) => e.code));
    expect(pTest.codes).toEqual(test.slice(0, 5).map((e) => e.code));
    expect(loadEmojiPairs({ split: 'test', limit: 5, cacheDir }).codes).toEqual(pTest.codes);
  });

  it('unpaired train halves share no emoji; the test split stays paired', () => {
    const groups = emojiGroupKeys({ cacheDir });
    const u = loadEmojiUnpaired({ split: 'train', limit: 12, size: 32, cacheDir });
    expect(u.paired).toBe(false);
    expect([u.nA, u.nB, u.h, u.w]).toEqual([12, 12, 32, 32]);
    const groupsA = new Set(u.codesA.map((c) => groups.get(c)));
    for (const c of u.codesB) expect(groupsA.has(groups.get(c))).toBe(false);
    const train = new Set(emojiSplitEntries({ split: 'train', cacheDir }).map((e) => e.code));
    for (const c of [...u.codesA, ...u.codesB]) expect(train.has(c)).toBe(true);
    const t = loadEmojiUnpaired({ split: 'test', limit: 4, cacheDir });
    expect(t.paired).toBe(true);
    expect(t.codesA).toEqual(t.codesB);
    expect(t.nA).toBe(4);
  });

  it('resizes with values kept in [-1, 1]', () => {
    for (const size of [32, 48]) {
      const p = loadEmojiPairs({ split: 'test', limit: 3, size, cacheDir });
      expect(p.a.length).toBe(3 * 3 * size * size);
      const [min, max] = range(p.b);
      expect(min).toBeGreaterThanOrEqual(-1);
      expect(max).toBeLessThanOrEqual(1);
      expect(max - min).toBeGreaterThan(1); // real content, not a constant
    }
  });
});

describe('emoji skin tones and text', () => {
  it('groups six tone domains with ground-truth counterparts', () => {
    const s = loadEmojiSkinTones({ split: 'train', set: 'twitter', limit: 3, cacheDir });
    expect(s.numDomains).toBe(6);
    expect(s.n).toBe(18);
    expect(s.groups.length).toBe(3);
    expect(Array.from(s.domain)).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
    const baseOf = new Map(emojiCatalogue('twitter').map((e) => [e.code, e.base]));
    for (let i = 0; i < s.n; i++) {
      const base = s.groups[s.group[i]].base;
      if (s.domain[i] === 0) expect(s.codes[i]).toBe(base);
      else expect(s.codes[i].split('-')).toContain(SKIN_TONE_CODES[s.domain[i] - 1]);
      for (let d = 0; d < 6; d++) {
        const j = s.counterpart[i * 6 + d];
        expect(s.domain[j]).toBe(d);
        expect(s.groups[s.group[j]].base).toBe(base);
        expect(baseOf.get(s.codes[j])).toBe(base);
      }
    }
    // Tones really differ: default vs dark of the first group.
    let diff = 0;
    const d0 = imageOf(s.images, 0);
    const d5 = imageOf(s.images, 5);
    for (let j = 0; j < d0.length; j++) diff += Math.abs(d0[j] - d5[j]);
    expect(diff).toBeGreaterThan(10);
  });

  it('gives names, tokens, category labels and a vocabulary', () => {
    const t = loadEmojiText({ set: 'google', split: 'train', limit: 10, cacheDir });
    expect(t.n).toBe(10);
    for (let i = 0; i < t.n; i++) {
      expect(t.categoryNames[t.category[i]]).toBe(emojiCatalogue('google').find((e) => e.code === t.codes[i])!.category);
      for (const w of t.tokens[i]) expect(w).toBe(w.toLowerCase());
      expect(new Set(t.tokens[i]).size).toBe(t.tokens[i].length);
    }
    expect(t.tokens[0]).toEqual(expect.arrayContaining(['grinning', 'face', 'smileys', 'emotion']));
    expect(tokenize('St. Barthélemy Flag')).toEqual(['st', 'barthélemy', 'flag']);
    const vocab = buildVocabulary(t.tokens);
    expect(vocab.words.slice(0, 2)).toEqual(['<pad>', '<unk>']);
    const ids = encodeTokens(vocab, [...t.tokens[0], 'zzzunknown'], 12);
    expect(ids.length).toBe(12);
    expect(vocab.words[ids[0]]).toBe(t.tokens[0][0]);
    expect(ids[t.tokens[0].length]).toBe(vocab.unkId);
    expect(ids[11]).toBe(vocab.padId);
    const bow = bagOfWords(vocab, t.tokens[0]);
    expect(bow.reduce((s, x) => s + x, 0)).toBe(t.tokens[0].length);
    // Tone variants carry their tone in the text.
    const tones = loadEmojiSkinTones({ split: 'test', limit: 1, cacheDir });
    expect(tones.names[1]).toMatch(/LIGHT SKIN TONE$/);
  });
});

describe('emoji cache and damaged files', () => {
  it('serves identical data from the cache file, and rebuilds after a version change', () => {
    const first = loadEmojiText({ set: 'twitter', split: 'test', limit: 7, cacheDir });
    clearEmojiMemory();
    const second = loadEmojiText({ set: 'twitter', split: 'test', limit: 7, cacheDir });
    expect(second.images).toEqual(first.images);
    expect(second.codes).toEqual(first.codes);

    let builds = 0;
    const build = () => {
      builds++;
      return { tensors: { x: { dtype: 'F32' as const, shape: [3], data: Float32Array.from([builds, 2.5, -1]) } }, meta: { names: ['a'] } };
    };
    const key: CacheKey = { dataset: 'unit', options: { size: 8, split: 'train' }, version: 'pkg@1.0.0' };
    const a = cached(key, build, { dir: cacheDir });
    const b = cached({ ...key, options: { split: 'train', size: 8 } }, build, { dir: cacheDir }); // key order is irrelevant
    expect([a.hit, b.hit, builds]).toEqual([false, true, 1]);
    expect(b.tensors.x.data).toEqual(a.tensors.x.data);
    expect(b.meta).toEqual({ names: ['a'] });
    const c = cached({ ...key, version: 'pkg@1.0.1' }, build, { dir: cacheDir });
    expect([c.hit, builds]).toEqual([false, 2]);
    expect(c.path).toBe(a.path); // overwritten in place, not left behind
    expect(readCache(key, { dir: cacheDir })).toBeNull();
    expect(cached({ ...key, version: 'pkg@1.0.1' }, build, { dir: cacheDir }).hit).toBe(true);
    // A damaged cache file is a miss (warned), then rebuilt.
    writeFileSync(cachePath(key, cacheDir), 'garbage');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const d = cached({ ...key, version: 'pkg@1.0.1' }, build, { dir: cacheDir });
    expect([d.hit, builds]).toEqual([false, 3]);
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
    expect(cached({ ...key, version: 'pkg@1.0.1' }, build, { dir: cacheDir }).hit).toBe(true);
    expect(cached(key, build, { dir: cacheDir, enabled: false }).hit).toBe(false);
  });

  it('reports a corrupt and a missing PNG by name and skips them', () => {
    const entries = emojiSplitEntries({ split: 'train', cacheDir }).slice(0, 5);
    const dirs = { google: join(tmp, 'g'), twitter: join(tmp, 't') };
    for (const set of ['google', 'twitter'] as const) {
      mkdirSync(dirs[set], { recursive: true });
      for (const e of entries) copyFileSync(join(emojiPackageInfo(set).imageDir, e.image), join(dirs[set], e.image));
    }
    const corrupt = join(dirs.google, entries[1].image);
    const bytes = readFileSync(corrupt);
    writeFileSync(corrupt, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const missing = join(dirs.twitter, entries[3].image);
    rmSync(missing);
    expect(existsSync(missing)).toBe(false);

    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const p = loadEmojiPairs({ split: 'train', limit: 5, dir: dirs, cacheDir, cache: false });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/skipped 2 images/);
    warn.mockRestore();
    expect(p.n).toBe(3);
    expect(p.codes).toEqual([entries[0], entries[2], entries[4]].map((e) => e.code));
    expect(p.skipped.map((s) => s.file).sort()).toEqual([corrupt, missing].sort());
    expect(p.skipped.find((s) => s.file === corrupt)!.reason).toMatch(/^corrupt/);
    expect(p.skipped.find((s) => s.file === missing)!.reason).toBe('missing');
    // The good images are still right (not zeros, not shifted).
    const expected = expectedFromPng(join(dirs.google, entries[2].image)).rgb;
    expect(Array.from(imageOf(p.a, 1).subarray(0, 64 * 64 * 3))).toEqual(Array.from(expected).map((v) => Math.fround(v)));
  });
});

describe('edge maps', () => {
  it('draws a thin black outline of a square on white', () => {
    const h = 20;
    const w = 23;
    const img = new Float32Array(3 * h * w).fill(1);
    for (let ch = 0; ch < 3; ch++) for (let y = 5; y < 14; y++) for (let x = 6; x < 17; x++) img[ch * h * w + y * w + x] = -0.6;
    const e = edgeMapCpu(img, 1, 3, h, w);
    expect(e.length).toBe(3 * h * w);
    expect(e.every((v) => v === -1 || v === 1)).toBe(true);
    const at = (y: number, x: number) => e[y * w + x];
    // Each row through the square crosses exactly two edge pixels (thin lines), one per side.
    for (let y = 7; y < 12; y++) {
      let count = 0;
      for (let x = 0; x < w; x++) if (at(y, x) === -1) count++;
      expect(count).toBe(2);
    }
    expect(at(0, 0)).toBe(1);
    expect(at(9, 11)).toBe(1); // inside the flat square: no edge
    expect(edgeMapCpu(new Float32Array(h * w).fill(0.3), 1, 1, h, w).every((v) => v === 1)).toBe(true);
    expect(edgeMapCpu(img, 1, 3, h, w, { channels: 1 }).length).toBe(h * w);
  });

  it('finds a plausible amount of edges on emoji', () => {
    const p = loadEmojiPairs({ split: 'test', limit: 4, cacheDir });
    const e = edgeMapCpu(p.a, p.n, 3, 64, 64, { channels: 1 });
    let edges = 0;
    for (const v of e) if (v === -1) edges++;
    const frac = edges / e.length;
    expect(frac).toBeGreaterThan(0.02);
    expect(frac).toBeLessThan(0.3);
  });
});

describe('Gaussian mixtures', () => {
  it('ring: 8 modes of radius 2, std 0.02, all covered by its own samples', () => {
    const ring = ringMixture();
    expect([ring.k, ring.dim]).toEqual([8, 2]);
    const { samples, modes } = sampleMixture(ring, 4000, 7);
    expect(sampleMixture(ring, 4000, 7).samples).toEqual(samples);
    expect(sampleMixture(ring, 4000, 8).samples).not.toEqual(samples);
    const s = modeStats(samples, ring);
    expect(s.covered).toBe(8);
    // Within 3 std in 2-D: 1 - exp(-9/2) = 0.9889.
    expect(s.highQuality).toBeGreaterThan(0.98);
    expect(s.highQuality).toBeLessThan(0.995);
    expect(s.kl).toBeLessThan(0.01);
    const a = assignModes(samples, ring);
    let agree = 0;
    for (let i = 0; i < modes.length; i++) if (a.nearest[i] === modes[i]) agree++;
    expect(agree).toBe(modes.length);
    let radiusErr = 0;
    for (let i = 0; i < 4000; i++) radiusErr = Math.max(radiusErr, Math.abs(Math.hypot(samples[2 * i], samples[2 * i + 1]) - 2));
    expect(radiusErr).toBeLessThan(0.02 * 5);
    // Per-mode std close to 0.02.
    let sq = 0;
    for (let i = 0; i < 4000; i++) {
      const m = modes[i];
      sq += (samples[2 * i] - ring.means[2 * m]) ** 2 + (samples[2 * i + 1] - ring.means[2 * m + 1]) ** 2;
    }
    expect(Math.sqrt(sq / 8000)).toBeCloseTo(0.02, 3);
  });

  it('grid: 25 modes on {-4..4}^2; a collapsed generator scores badly', () => {
    const grid = gridMixture();
    expect(grid.k).toBe(25);
    expect(Math.min(...grid.means)).toBe(-4);
    expect(Math.max(...grid.means)).toBe(4);
    const { samples } = sampleMixture(grid, 5000, 3);
    expect(modesCovered(samples, grid)).toBe(25);
    expect(highQualityFraction(samples, grid)).toBeGreaterThan(0.98);
    expect(modeKL(samples, grid)).toBeLessThan(0.02);
    // Everything on three modes, plus junk far from any mode.
    const collapsed = new Float32Array(2 * 1000);
    for (let i = 0; i < 1000; i++) {
      const m = i % 3;
      collapsed[2 * i] = grid.means[2 * m] + (i < 900 ? 0.01 : 0.5);
      collapsed[2 * i + 1] = grid.means[2 * m + 1];
    }
    const s = modeStats(collapsed, grid);
    expect(s.covered).toBe(3);
    expect(s.highQuality).toBeCloseTo(0.9, 6);
    expect(s.klReverse).toBeCloseTo(Math.log(25 / 3), 2);
    expect(s.kl).toBeGreaterThan(2);
    expect(modeStats(collapsed, grid, { pseudoCount: 0 }).kl).toBe(Infinity);
    expect(modesCovered(collapsed, grid, 3, 301)).toBe(0);
  });

  it("MAD-GAN's 1-D mixture", () => {
    const mad = madGan1dMixture();
    expect(Array.from(mad.means)).toEqual([10, 20, 60, 80, 110]);
    expect(Array.from(mad.stds)).toEqual([3, 3, 2, 2, 1]);
    const { samples, modes } = sampleMixture(mad, 10000, 11);
    const s = modeStats(samples, mad);
    expect(s.covered).toBe(5);
    expect(s.highQuality).toBeGreaterThan(0.99);
    for (let k = 0; k < 5; k++) {
      let sum = 0;
      let count = 0;
      for (let i = 0; i < samples.length; i++) if (modes[i] === k) (sum += samples[i]), count++;
      expect(count / samples.length).toBeCloseTo(0.2, 1);
      expect(sum / count).toBeCloseTo(mad.means[k], 0);
    }
    expect(assignModes(Float32Array.from([110 + 3.5 * 1, 110.5, NaN]), mad).highQuality).toEqual(Uint8Array.from([0, 1, 0]));
  });

  it('createRng gives reproducible uniforms and normals', () => {
    const r1 = createRng(5);
    const r2 = createRng(5);
    const xs = Array.from({ length: 20000 }, () => r1.normal());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => r2.normal()));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(std).toBeCloseTo(1, 1);
    const ints = new Set(Array.from({ length: 1000 }, () => r1.int(7)));
    expect([...ints].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});

describe('Stacked MNIST', () => {
  it('stacks three seeded random digits as R, G, B', () => {
    const source = loadMnist({ split: 'test', limit: 300 });
    const s = loadStackedMnist({ split: 'test', n: 40, seed: 2, sourceLimit: 300 });
    expect([s.n, s.c, s.h, s.w]).toEqual([40, 3, 28, 28]);
    for (let i = 0; i < s.n; i++) {
      for (let ch = 0; ch < 3; ch++) {
        const j = s.sources[i * 3 + ch];
        expect(j).toBeLessThan(300);
        expect(s.digits[i * 3 + ch]).toBe(source.labels[j]);
        expect(s.images.subarray((i * 3 + ch) * 784, (i * 3 + ch + 1) * 784)).toEqual(source.images.subarray(j * 784, (j + 1) * 784));
      }
      expect(s.modes[i]).toBe(100 * s.digits[i * 3] + 10 * s.digits[i * 3 + 1] + s.digits[i * 3 + 2]);
    }
    expect(new Set(Array.from(s.sources)).size).toBeGreaterThan(60); // not one digit repeated
    expect(loadStackedMnist({ split: 'test', n: 40, seed: 2, sourceLimit: 300 }).sources).toEqual(s.sources);
    expect(loadStackedMnist({ split: 'test', n: 40, seed: 3, sourceLimit: 300 }).sources).not.toEqual(s.sources);
    const padded = loadStackedMnist({ split: 'test', n: 2, pad32: true, sourceLimit: 50 });
    expect([padded.h, padded.w, padded.images.length]).toEqual([32, 32, 2 * 3 * 32 * 32]);
  });

  it('counts modes and KL from predicted digits', () => {
    expect(modeOfStacked([3, 1, 4])).toBe(314);
    expect(modeOfStacked([0, 0, 0, 9, 0, 7], 1)).toBe(907);
    expect(digitsOfMode(907)).toEqual([9, 0, 7]);
    expect(() => modeOfStacked([1, 10, 2])).toThrow(/digit 10/);
    const all = new Uint8Array(3000);
    for (let m = 0; m < 1000; m++) all.set(digitsOfMode(m), m * 3);
    expect(Array.from(modesOfStacked(all).slice(0, 3))).toEqual([0, 1, 2]);
    const full = countModes(all);
    expect(full.covered).toBe(1000);
    expect(full.kl).toBeCloseTo(0, 10);
    expect(full.klUniformToModel).toBeCloseTo(0, 10);
    const one = countModes(Uint8Array.from({ length: 300 }, () => 5));
    expect(one.covered).toBe(1);
    expect(one.histogram[555]).toBe(100);
    expect(one.kl).toBeCloseTo(Math.log(1000), 10);
    expect(one.klUniformToModel).toBeGreaterThan(0.1);
    expect(
      countModes(
        Uint8Array.from({ length: 300 }, () => 5),
        { pseudoCount: 0 },
      ).klUniformToModel,
    ).toBe(Infinity);
  });
});
