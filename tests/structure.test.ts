// The structure rules of issue 13 that a test can hold: cli/ and demos/ never name a registered
// model (model-specific behaviour lives in the model's declaration and its hooks, reached through
// the registry), paper files do not import each other's helpers through nets/lib's back door, and
// nets/ reaches the engine only through its public entry (engine/index.ts).
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { recipes } from '../nets/registry.js';

const root = path.resolve(__dirname, '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.(ts|mjs)$/.test(name)) out.push(p);
  }
  return out;
}

/** Source text without comments (a model named in prose is fine; in code it is not). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** Lookups by name that the rule allows: getRecipe('x'), recipeOf('x'). */
const LOOKUP = /\b(?:getRecipe|recipeOf)\(\s*(['"`])[a-z0-9_]+\1\s*\)/g;

describe('structure', () => {
  it('cli/ and demos/ name no registered model outside a registry lookup', () => {
    const names = Object.keys(recipes);
    expect(names.length).toBeGreaterThanOrEqual(15);
    const found: string[] = [];
    for (const file of [...sources(path.join(root, 'cli')), ...sources(path.join(root, 'demos'))]) {
      const text = code(readFileSync(file, 'utf8')).replace(LOOKUP, 'LOOKUP');
      for (const name of names) {
        const re = new RegExp(
          `(?<![A-Za-z0-9_])${name}(?![A-Za-z0-9_]|\\+\\+)|\\b${name}(?:Trainer|Recipe|Config)\\b|nets/${name}\\b`,
          'i',
        );
        const rel = path.relative(root, file);
        for (const line of text.split('\n')) {
          if (!re.test(line)) continue;
          found.push(`${rel}: ${name}: ${line.trim().slice(0, 120)}`);
        }
      }
    }
    expect(found).toEqual([]);
  });

  it('nets/ imports the engine only through its public entry (engine/index.ts)', () => {
    const files = sources(path.join(root, 'nets')).map((f) => path.relative(root, f).split(path.sep).join('/'));
    expect(files.length).toBeGreaterThanOrEqual(25);
    const deep = new Map<string, string[]>();
    for (const file of files) {
      const text = code(readFileSync(path.join(root, file), 'utf8'));
      // Static imports and re-exports (`from '...'`), side-effect imports and dynamic import('...').
      for (const m of text.matchAll(/\bfrom\s*(['"])([^'"]+)\1|^\s*import\s*(['"])([^'"]+)\3|\bimport\(\s*(['"])([^'"]+)\5\s*\)/gm)) {
        const spec = m[2] ?? m[4] ?? m[6];
        if (!spec.startsWith('.')) continue;
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '');
        if (target.startsWith('engine/') && target !== 'engine/index') deep.set(file, [...(deep.get(file) ?? []), spec]);
      }
    }
    const found = [...deep].map(([f, specs]) => `${f}: ${specs.join(', ')} (import from the entry instead)`);
    expect(found).toEqual([]);
  });
});
