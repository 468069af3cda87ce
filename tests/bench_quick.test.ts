// The benchmark harness in its quick mode, as CI runs it: the reduced suite, engine side only, one
// repeat, no training steps. It proves the harness still works and that every kernel it times
// validates against the CPU float64 reference (every output element written); speed is not judged.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const dir = mkdtempSync(path.join(tmpdir(), 'bench-quick-'));

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build.mjs', 'bench'], { cwd: root, stdio: 'pipe' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('runs the reduced suite and every pass validates', () => {
  const json = path.join(dir, 'quick.json');
  const r = spawnSync(
    process.execPath,
    [
      'dist/bench.mjs',
      '--suite',
      'reduced',
      '--no-tfjs',
      '--repeats',
      '1',
      '--warmup',
      '0',
      '--max-inner',
      '1',
      '--steps',
      '0',
      '--esrgan',
      'off',
      '--json',
      json,
    ],
    { cwd: root, encoding: 'utf8', env: { ...process.env, NODEVICE_SELECT: '1' }, timeout: 240_000 },
  );
  expect(r.status, r.stdout + r.stderr).toBe(0);
  const res = JSON.parse(readFileSync(json, 'utf8'));
  expect(res.complete).toBe(true);
  expect(res.passes.length).toBeGreaterThanOrEqual(41);
  const bad = res.passes.filter(
    (p: { engine: { status: string; validation?: { ok: boolean } } }) => p.engine.status !== 'ok' || !p.engine.validation?.ok,
  );
  expect(bad.map((p: { id: string; pass: string }) => `${p.id}:${p.pass}`)).toEqual([]);
}, 300_000);
