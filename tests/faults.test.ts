// Fault injection: what the engine and the `gan` CLI do with corrupt files, signals, kills, a
// diverging run, a busy or occupied run folder, hostile PNGs and a long loop's host memory. Every
// CLI case checks both the message and that nothing on disk changed (a hash of every file under the
// folders involved, before and after). Issue 12 lists the faults; each `it` names its item.
//
// Kept fast: corrupt files are made from one tiny DCGAN checkpoint written in-process, most CLI
// cases fail before the GPU starts, and the three real training runs use a tiny EBGAN (the fastest
// model to compile on a software adapter).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { deflateSync } from 'node:zlib';
import { initEngine, engine, tensor, type Tensor } from '../engine/index.js';
import { add, mul } from '../engine/ops/elementwise.js';
import { BIND_GROUP_CACHE_ENTRIES } from '../engine/device.js';
import { checkpointInfo, checkpointToBytes, restoreCheckpoint, NonFiniteCheckpointError, RestoreError } from '../engine/checkpoint.js';
import { countNonFinite } from '../engine/finite.js';
import { decodeSafetensors, encodeSafetensors, firstDuplicateKey } from '../engine/io/safetensors.js';
import { describeFsError, makeDirs, removeStaleTempFiles } from '../engine/io/files.js';
import { decodePng, writePngChunks, PngError } from '../data/png.js';
import { decodePngNode } from '../data/png_node.js';
import { getRecipe, recipes } from '../nets/registry.js';
import { formatRestoreError, saveRunCheckpoint } from '../cli/checkpoint_io.js';
import { scheduleFollowsSteps } from '../cli/train.js';
import { build } from 'esbuild';
import { mulberry32 } from '../engine/ops/cpu/host.js';
import { buildPrivateCli } from './support/cli_bundle.js';

const root = resolve(__dirname, '..');
// A bundle of our own (as tests/cascade.test.ts does), so no other suite's rebuild of dist/gan.mjs
// swaps the file under a spawned run. GAN_FAULTS_BIN: run the CLI cases against another build (an
// older one, to see them fail).
let ownBin = '';
let bin = process.env.GAN_FAULTS_BIN ?? '';
let tmp: string;
/** A tiny DCGAN `gan train` checkpoint (nz 16, ngf = ndf = 4), as bytes. */
let good: Uint8Array;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function gan(args: string[], timeout = 120_000): Result {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: tmp, encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** gan() without blocking, so independent commands run side by side. */
function ganAsync(args: string[]): Promise<Result> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: tmp });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** Every file under `dir` (relative path -> sha1 of its bytes), for "nothing on disk changed". */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) {
        out[`${relative(dir, p)}/`] = 'dir';
        walk(p);
      } else out[relative(dir, p)] = createHash('sha1').update(readFileSync(p)).digest('hex');
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** The same safetensors bytes with the header text rewritten (padded to 8 bytes, data unchanged). */
function rewriteHeader(bytes: Uint8Array, f: (text: string) => string): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  let text = f(new TextDecoder().decode(bytes.subarray(8, 8 + n)).trimEnd());
  text += ' '.repeat((8 - (text.length % 8)) % 8);
  const head = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + head.length + bytes.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(bytes.subarray(8 + n), 8 + head.length);
  return out;
}

/** One tensor's header entry changed (dtype or shape), through the parsed header. */
function editEntry(bytes: Uint8Array, key: string, edit: (e: { dtype: string; shape: number[] }) => void): Uint8Array {
  return rewriteHeader(bytes, (text) => {
    const h = JSON.parse(text) as Record<string, { dtype: string; shape: number[] }>;
    edit(h[key]);
    return JSON.stringify(h);
  });
}

const W = 'netG.main.0.weight'; // [16, 16, 4, 4] in the tiny DCGAN

beforeAll(async () => {
  if (!bin) bin = ownBin = await buildPrivateCli('faults');
  tmp = mkdtempSync(join(tmpdir(), 'gan-faults-'));
  await initEngine();
  const recipe = getRecipe('dcgan')!;
  const config = { imageSize: 32, nz: 16, ngf: 4, ndf: 4, nc: 1 };
  const settings = { ...recipe.train, batch: 4, steps: 6, logEvery: 1 };
  const trainer = recipe.create(config, settings, 1);
  const path = join(tmp, 'good.safetensors');
  await saveRunCheckpoint(path, trainer, {
    model: 'dcgan',
    config,
    settings,
    seed: 1,
    step: 3,
    loader: { seed: 1, epoch: 0, cursor: 12 },
    dataset: 'mnist',
    limit: 64,
  });
  good = readFileSync(path);
}, 180_000);

afterAll(() => {
  if (ownBin) rmSync(ownBin, { force: true });
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('corrupt checkpoints through every command that reads one (items 3, 6, 7, 8)', () => {
  // What each corruption must say. `gpu`: found only when the file meets the model (restore), so
  // `gan info` (no GPU, no model) describes the file instead and shows the odd entry.
  const corpus: { name: string; make: () => Uint8Array; message: RegExp; gpu?: RegExp }[] = [
    { name: 'truncated', make: () => good.subarray(0, Math.floor(good.length * 0.6)), message: /truncated/ },
    { name: 'bad-header', make: () => rewriteHeader(good, (t) => t.replace(':', ';')), message: /header is not valid JSON/ },
    {
      name: 'wrong-dtype',
      make: () => editEntry(good, W, (e) => (e.dtype = 'I32')),
      message:
        /cannot restore \(nothing was changed\), 1 problem:\n\s+model 'netG' \(\w+\): dtype mismatch for main\.0\.weight: the state dict holds I32, the current model holds float32/,
      gpu: /I32/,
    },
    {
      name: 'wrong-shape',
      make: () =>
        editEntry(
          editEntry(good, W, (e) => (e.shape = [16, 16, 2, 8])),
          'netD.main.0.weight',
          (e) => (e.shape = [4, 1, 2, 8]),
        ),
      message:
        /cannot restore \(nothing was changed\), 2 problems:\n\s+model 'netG' \(\w+\): size mismatch for main\.0\.weight: copying a tensor with shape \[16, 16, 2, 8\][^\n]*\[16, 16, 4, 4\]\n\s+model 'netD' \(\w+\): size mismatch for main\.0\.weight/,
      gpu: /netG/,
    },
    {
      name: 'missing-tensor',
      make: () => {
        const f = decodeSafetensors(good);
        delete f.tensors['netG.main.1.running_mean'];
        return encodeSafetensors(f.tensors, f.metadata);
      },
      message:
        /cannot restore \(nothing was changed\), 1 problem:\n\s+model 'netG' \(\w+\): Missing key\(s\) in state_dict: "main\.1\.running_mean"/,
      gpu: /netG .* 8 buffers/,
    },
    {
      name: 'nan-values',
      make: () => {
        const f = decodeSafetensors(good);
        (f.tensors[W].data as Float32Array)[5] = NaN;
        (f.tensors['netD.main.0.weight'].data as Float32Array)[0] = Infinity;
        return encodeSafetensors(f.tensors, f.metadata);
      },
      message:
        /holds NaN\/Inf values in netD\.main\.0\.weight \[4, 1, 4, 4\] \(1 of 64 values\), netG\.main\.0\.weight \[16, 16, 4, 4\] \(1 of 4096 values\)/,
    },
    {
      name: 'duplicate-keys',
      make: () =>
        rewriteHeader(good, (t) => {
          const m = /"netD\.main\.0\.weight":\{[^}]*\}/.exec(t)!;
          return t.replace(m[0], `${m[0]},${m[0]}`);
        }),
      message: /duplicate key "netD\.main\.0\.weight" in the header/,
    },
    {
      name: 'bad-metadata',
      make: () => {
        const f = decodeSafetensors(good);
        return encodeSafetensors(f.tensors, { ...f.metadata, step: 'banana' });
      },
      message: /metadata 'step' is "banana", not a non-negative integer/,
    },
  ];
  const commands: { name: string; args: (f: string, dir: string) => string[] }[] = [
    { name: 'train --resume', args: (f) => ['train', 'dcgan', '--resume', f, '--steps', '99'] },
    { name: 'sample', args: (f, d) => ['sample', f, '--out', join(d, 'grid.png')] },
    { name: 'eval', args: (f) => ['eval', '--ckpt', f, '--n', '10'] },
    { name: 'convert', args: (f, d) => ['convert', f, '--out', join(d, 'pytorch')] },
    { name: 'info', args: (f) => ['info', f] },
  ];

  for (const c of corpus) {
    it(`${c.name}: every command names the problem, exits 1 and changes nothing`, async () => {
      const dir = join(tmp, `corrupt-${c.name}`);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'checkpoint.safetensors');
      writeFileSync(file, c.make());
      const before = snapshot(dir);
      // The commands run side by side (none of them may write anything).
      const results = await Promise.all(commands.map((cmd) => ganAsync(cmd.args(file, dir))));
      commands.forEach((cmd, i) => {
        const r = results[i];
        const what = `${c.name} / ${cmd.name}`;
        if (cmd.name === 'info' && c.gpu) {
          // info reads the file without a model: it describes it, odd entry included.
          expect(r.code, `${what}: ${r.stderr}`).toBe(0);
          expect(r.stdout, what).toMatch(c.gpu);
        } else {
          expect(r.code, `${what}: ${r.stderr}`).toBe(1);
          expect(r.stderr, what).toMatch(c.message);
          expect(r.stderr, what).toContain(file);
          expect(r.stderr, what).not.toMatch(/\n\s+at /); // no stack trace
        }
      });
      expect(snapshot(dir), `${c.name}: the folder changed`).toEqual(before);
    }, 300_000);
  }

  it("convert checks a PyTorch state_dict's dtypes and values too (item 7)", () => {
    const dir = join(tmp, 'convert-pt');
    mkdirSync(dir, { recursive: true });
    const f = decodeSafetensors(good);
    const tensors = Object.fromEntries(
      Object.entries(f.tensors)
        .filter(([k]) => k.startsWith('netG.'))
        .map(([k, t]) => [k.slice(5), t]),
    );
    const w = tensors['main.0.weight'];
    tensors['main.0.weight'] = { dtype: 'I32', shape: w.shape, data: new Int32Array(w.data.length) };
    const nan = new Float32Array(tensors['main.1.weight'].data as Float32Array);
    nan[0] = NaN;
    tensors['main.1.weight'] = { ...tensors['main.1.weight'], data: nan };
    const file = join(dir, 'netG.safetensors');
    writeFileSync(file, encodeSafetensors(tensors, { format: 'pt' }));
    const before = snapshot(dir);
    const r = gan(['convert', file, '--out', join(dir, 'out.safetensors')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/value\s+main\.0\.weight: file I32, model float32/);
    expect(r.stdout).toMatch(/value\s+main\.1\.weight: 1 NaN\/Inf value \(of 16\)/);
    expect(r.stderr).toMatch(/nothing was written/);
    expect(snapshot(dir)).toEqual(before);
  }, 120_000);
});

describe('checkpoint metadata and headers, in-process (item 8)', () => {
  const withMeta = (meta: Record<string, string>) => {
    const f = decodeSafetensors(good);
    return encodeSafetensors(f.tensors, { ...f.metadata, ...meta });
  };
  it('validates every field with a message that names it', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ step: 'banana' }, /metadata 'step' is "banana", not a non-negative integer/],
      [{ step: '-5' }, /metadata 'step' is "-5", not a non-negative integer/],
      [{ step: '1.5' }, /metadata 'step' is "1.5"/],
      [{ format_version: 'x' }, /metadata 'format_version' is "x", not a version number/],
      [{ format_version: '2' }, /metadata 'format_version' is 2: newer than this engine reads \(1\)/],
      [{ models: '{"a":1}' }, /metadata 'models' is not a list of names/],
      [
        { optimizers: '{"netG":{"type":"Adam","hyper":{},"steps":{"0":-1}}}' },
        /metadata 'optimizers' entry 'netG': step count of parameter #0 is -1/,
      ],
      [{ rng: '{"train":{"seed":"x","offset":0}}' }, /metadata 'rng' generator 'train' needs integer seed and offset/],
      [{ schedulers: '[]' }, /metadata 'schedulers' is not an object/],
      [{ config: '{' }, /metadata 'config' is not valid JSON/],
    ];
    for (const [meta, re] of cases) expect(() => checkpointInfo(withMeta(meta), 'ck'), JSON.stringify(meta)).toThrow(re);
    expect(checkpointInfo(good).step).toBe(3);
  });

  it('refuses duplicate keys anywhere in a header (the JSON parser would keep the last silently)', () => {
    expect(firstDuplicateKey('{"a":{"x":1},"b":2,"a":3}')).toEqual({ key: 'a', path: '' });
    expect(firstDuplicateKey('{"__metadata__":{"step":"1","step":"2"}}')).toEqual({ key: 'step', path: '__metadata__' });
    expect(firstDuplicateKey('{"a":{"k":1},"b":{"k":1},"c":["k","k"],"d":"a\\"b","e":"a\\"b"}')).toBeNull();
    const dup = rewriteHeader(good, (t) => t.replace('"__metadata__":{', '"__metadata__":{"step":"7",'));
    expect(() => decodeSafetensors(dup, 'f')).toThrow(/f: duplicate key "step" in the header \(inside __metadata__\)/);
  });
});

describe('non-finite values never reach disk or a model (items 2, 3)', () => {
  it('countNonFinite matches a CPU count over many tensors, with one readback', async () => {
    const rand = mulberry32(7);
    const sizes = [1, 5, 255, 256, 257, 1000, 4099, 0, 70_000];
    const hosts: Float32Array[] = [];
    const ts: Tensor[] = [];
    for (const n of sizes) {
      const h = Float32Array.from({ length: n }, () => rand() * 2 - 1);
      for (let k = 0; k < n; k++) {
        const r = rand();
        if (r < 0.01) h[k] = NaN;
        else if (r < 0.02) h[k] = rand() < 0.5 ? Infinity : -Infinity;
      }
      hosts.push(h);
      ts.push(tensor(h, [n]).keep());
    }
    ts.push(tensor(new Int32Array([1, 2, 3]), [3], 'int32').keep());
    const readbacks = engine().counters.readbacks;
    const got = await countNonFinite(ts);
    expect(engine().counters.readbacks - readbacks).toBe(1);
    const want = [...hosts.map((h) => h.reduce((a, v) => a + (Number.isFinite(v) ? 0 : 1), 0)), 0];
    expect(got).toEqual(want);
    expect(want.filter((c) => c > 0).length).toBeGreaterThan(4); // the draw did put NaN/Inf in most
    ts.forEach((t) => t.dispose());
  });

  it('a checkpoint save refuses non-finite parameters, buffers or optimiser state; a restore refuses them too', async () => {
    const recipe = getRecipe('dcgan')!;
    const trainer = recipe.create({ imageSize: 32, nz: 16, ngf: 4, ndf: 4, nc: 1 }, { ...recipe.train, batch: 4 }, 1);
    const contents = { models: trainer.nets, optimizers: trainer.optimizers };
    await expect(checkpointToBytes(contents, { requireFinite: true })).resolves.toBeInstanceOf(Uint8Array);
    const buf = trainer.nets.netD.stateDict().get('main.3.running_var')!;
    const host = await buf.data();
    host[1] = NaN;
    const { assign } = await import('../engine/tensor.js');
    assign(buf, host);
    const err = await checkpointToBytes(contents, { requireFinite: true }).catch((e) => e);
    expect(err).toBeInstanceOf(NonFiniteCheckpointError);
    expect((err as Error).message).toMatch(
      /non-finite values \(NaN or Inf\) in netD\.main\.3\.running_var \[8\] \(1 of 8 values\); nothing was written/,
    );

    const f = decodeSafetensors(good);
    (f.tensors[W].data as Float32Array)[0] = -Infinity;
    const bad = encodeSafetensors(f.tensors, f.metadata);
    const fresh = recipe.create({ imageSize: 32, nz: 16, ngf: 4, ndf: 4, nc: 1 }, { ...recipe.train, batch: 4 }, 2);
    const w0 = await fresh.nets.netG.stateDict().get('main.0.weight')!.data();
    const e2 = (() => {
      try {
        restoreCheckpoint(bad, { models: fresh.nets }, { source: 'ck' });
      } catch (e) {
        return e;
      }
    })();
    expect(e2).toBeInstanceOf(RestoreError);
    expect((e2 as RestoreError).problems).toEqual(['netG.main.0.weight [16, 16, 4, 4] holds 1 NaN/Inf value (of 4096)']);
    expect(Array.from(await fresh.nets.netG.stateDict().get('main.0.weight')!.data())).toEqual(Array.from(w0)); // nothing changed
  });
});

describe('file system faults (items 9, 10, 13)', () => {
  it('--out under /proc fails at once naming the directory; an empty --out is refused', () => {
    if (process.platform === 'linux') {
      const r = gan(['train', 'dcgan', '--out', '/proc/gan-x/run', '--steps', '1'], 30_000);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(/^gan train dcgan: cannot create directory '\/proc\/gan-x\/run': ENOENT: no such file or directory$/);
    }
    const before = snapshot(tmp);
    const e = gan(['train', 'dcgan', '--out', '']);
    expect(e.code).toBe(2);
    expect(e.stderr.trim()).toBe('gan train dcgan: --out is empty; give a directory');
    expect(snapshot(tmp)).toEqual(before);
  });

  it('an unwritable folder says why (EPERM / EACCES), not ENOENT, and nothing is written', (ctx) => {
    // Root ignores mode bits, so the folder is made immutable (chattr +i, ext4 and most Linux file
    // systems); where that is not possible the case is skipped, saying so.
    const ro = join(tmp, 'read-only');
    mkdirSync(join(ro, 'run'), { recursive: true });
    const lock = spawnSync('chattr', ['+i', ro, join(ro, 'run')], { encoding: 'utf8' });
    let writable = true;
    try {
      writeFileSync(join(ro, 'probe'), 'x');
    } catch {
      writable = false;
    }
    if (lock.status !== 0 || writable) {
      spawnSync('chattr', ['-i', ro, join(ro, 'run')]);
      ctx.skip(`cannot make a folder unwritable here (chattr: ${lock.stderr?.trim() || lock.status})`);
      return;
    }
    try {
      const inside = gan(['train', 'dcgan', '--quick', '--steps', '1', '--out', join(ro, 'run')], 60_000);
      expect(inside.code).toBe(1);
      expect(inside.stderr.trim()).toMatch(
        /^gan train dcgan: cannot write in '.*read-only\/run': (EPERM: operation not permitted|EACCES: permission denied)$/,
      );
      const below = gan(['train', 'dcgan', '--quick', '--steps', '1', '--out', join(ro, 'new')], 60_000);
      expect(below.code).toBe(1);
      expect(below.stderr.trim()).toMatch(
        /^gan train dcgan: cannot create directory '.*read-only\/new': (EPERM: operation not permitted|EACCES: permission denied)$/,
      );
      expect(readdirSync(ro).sort()).toEqual(['run']);
      expect(readdirSync(join(ro, 'run'))).toEqual([]);
    } finally {
      spawnSync('chattr', ['-i', ro, join(ro, 'run')]);
    }
  });

  it('fs errors say their code once and the real reason', () => {
    const err = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    expect(describeFsError(err)).toBe('ENOSPC: no space left on device');
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    expect(() => makeDirs(join(file, 'sub', 'dir'))).toThrow(/ENOTDIR/);
  });

  it("a closed pipe ends `gan info` quietly; Dawn's start-up notices only with --verbose", () => {
    // Through real pipes (a shell's), as a user's `gan info | head -1` has them. (Node's spawn gives a
    // socket, which cannot be reopened, so there the notices still print.)
    const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { cwd: tmp, encoding: 'utf8', timeout: 60_000 }).stdout;
    const gan_ = `"${process.execPath}" "${bin}"`;
    const headed = sh(`{ ${gan_} info | head -1; } 2>&1 | cat`);
    expect(headed.trim().split('\n'), headed).toHaveLength(1); // the first line, no EPIPE trace, no notices
    expect(headed).not.toMatch(/EPIPE|Error|artificially/);
    expect(sh(`${gan_} info 2>&1 >/dev/null | cat`)).toBe('');
    const verbose = sh(`${gan_} --verbose info 2>&1 >/dev/null | cat`);
    const adapter = sh(`${gan_} info`);
    if (/llvmpipe|lavapipe/i.test(adapter)) expect(verbose).toMatch(/artificially reduced/); // the software adapter prints them
    expect(sh(`${gan_} --verbose info 2>/dev/null`)).toBe(adapter);
  });

  it('a save killed mid-write keeps the old file; the next run removes the temp file', async () => {
    const dir = join(tmp, 'killed');
    mkdirSync(dir, { recursive: true });
    const target = join(dir, 'checkpoint.safetensors');
    writeFileSync(target, good);
    // A child that writes 300 MB through writeFileAtomic, killed with SIGKILL once its temp file exists.
    const entry = join(tmp, 'writer.ts');
    writeFileSync(
      entry,
      `import { writeFileAtomicSync } from ${JSON.stringify(join(root, 'engine', 'io', 'files.ts'))};\nwriteFileAtomicSync(process.argv[2], new Uint8Array(300 * 2 ** 20).fill(7));\n`,
    );
    await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: join(tmp, 'writer.mjs'),
      logLevel: 'silent',
    });
    const child = spawn(process.execPath, [join(tmp, 'writer.mjs'), target], { stdio: 'ignore' });
    const tempOf = () => readdirSync(dir).filter((n) => n.endsWith('.tmp'));
    // Up to 60 s for the child to start and open its temp file (a loaded machine: node's start and
    // the bundle's load took over 6 s once, and the kill then came before the file existed).
    for (let i = 0; i < 6000 && !tempOf().length; i++) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const temps = tempOf();
    expect(temps).toHaveLength(1);
    expect(readFileSync(target)).toEqual(Buffer.from(good)); // the old checkpoint is intact
    expect(temps[0]).toMatch(new RegExp(`^\\.checkpoint\\.safetensors\\.${child.pid}\\.[a-z0-9]+\\.tmp$`));
    // Our own live temp files are never touched; the dead writer's goes.
    const live = join(dir, `.x.safetensors.${process.pid}.abc.tmp`);
    writeFileSync(live, '');
    expect(removeStaleTempFiles(dir)).toEqual(temps);
    expect(existsSync(live)).toBe(true);
    rmSync(live);
  }, 180_000);
});

describe('PNG decoding limits (item 11)', () => {
  const ihdr = (w: number, h: number) => {
    const d = new Uint8Array(13);
    const v = new DataView(d.buffer);
    v.setUint32(0, w);
    v.setUint32(4, h);
    d[8] = 8; // depth
    d[9] = 0; // gray
    return { type: 'IHDR', data: d };
  };
  it('a huge header is refused before any allocation', () => {
    const png = writePngChunks([
      ihdr(60000, 60000),
      { type: 'IDAT', data: deflateSync(new Uint8Array(2)) },
      { type: 'IEND', data: new Uint8Array(0) },
    ]);
    expect(() => decodePngNode(png)).toThrow(PngError);
    expect(() => decodePngNode(png)).toThrow(/image size 60000x60000 is above the decoder's limit/);
  });
  it('a 1x1 image whose data inflates to 20 MB is refused (zip bomb), a valid one still decodes', () => {
    const bomb = writePngChunks([
      ihdr(1, 1),
      { type: 'IDAT', data: deflateSync(new Uint8Array(20 * 2 ** 20)) },
      { type: 'IEND', data: new Uint8Array(0) },
    ]);
    expect(() => decodePngNode(bomb)).toThrow(/inflates to more than the 2 bytes a 1x1 image needs/);
    // A browser-style inflate that ignores the bound is still caught after the fact.
    expect(() => decodePng(bomb, () => new Uint8Array(10_000))).toThrow(/inflates to more than/);
    const ok = writePngChunks([
      ihdr(1, 1),
      { type: 'IDAT', data: deflateSync(Uint8Array.of(0, 200)) },
      { type: 'IEND', data: new Uint8Array(0) },
    ]);
    expect(Array.from(decodePngNode(ok).data)).toEqual([200]);
  });
});

describe('host memory stays bounded over a long loop (item 12)', () => {
  it('1,000 steps that meet new buffer combinations: the bind-group cache stays bounded, the heap flat once it is full', () => {
    const e = engine();
    const pool = Array.from({ length: 100 }, (_, i) => tensor(new Float32Array(8).fill(i), [8]).keep());
    const gc = (globalThis as { gc?: () => void }).gc;
    // vitest.config.ts starts the workers with --expose-gc: without a full collection the figure is noise.
    expect(gc, 'globalThis.gc (node --expose-gc)').toBeTypeOf('function');
    const heap = () => {
      gc!();
      return process.memoryUsage().heapUsed;
    };
    let heapFull = 0;
    const rand = mulberry32(3);
    for (let step = 0; step < 1000; step++) {
      // A "step": a few ops on inputs drawn from 100 kept tensors, their results freed in a varying
      // order, so new (kernel, buffers) combinations keep appearing (the pool's lowest-id order
      // makes a training step's own combinations repeat; the inputs here vary on purpose, so the
      // cache must stay bounded however many combinations a long run meets).
      const made: Tensor[] = [];
      for (let j = 0; j < 10; j++) {
        const a = pool[Math.floor(rand() * pool.length)];
        const b = pool[Math.floor(rand() * pool.length)];
        const s = add(a, b);
        made.push(s, mul(s, a));
      }
      for (let k = made.length - 1; k > 0; k--) {
        const r = Math.floor(rand() * (k + 1));
        [made[k], made[r]] = [made[r], made[k]];
      }
      made.forEach((t) => t.dispose());
      if (step % 50 === 49) e.flush();
      if (step === 499) heapFull = heap(); // ~20 new combinations a step: the cache is full by ~step 200
    }
    const sizes = e.cacheSizes();
    // The loop meets several thousand distinct combinations, more than the bound; the old cache
    // kept them all (up to 20,000), the LRU keeps 4096.
    expect(BIND_GROUP_CACHE_ENTRIES).toBe(4096);
    expect(sizes.bindGroups).toBeLessThanOrEqual(4096);
    expect(sizes.bindGroups).toBeGreaterThan(4000); // the loop did outgrow the cache
    expect(heap() - heapFull).toBeLessThan(8 * 2 ** 20);
    pool.forEach((t) => t.dispose());
  }, 120_000);
});

describe('restore errors and resume notes (items 4, 6)', () => {
  it('a restore error lists the first problems with expected vs found, then a count of the rest', () => {
    const problems = Array.from(
      { length: 12 },
      (_, i) =>
        `model 'netG' (G): size mismatch for w${i}: copying a tensor with shape [${i}] from the state dict, the shape in the current model is [1]`,
    );
    const text = formatRestoreError(new RestoreError("checkpoint 'x'", problems));
    const lines = text.split('\n');
    expect(lines[0]).toBe("checkpoint 'x': cannot restore (nothing was changed), 12 problems:");
    expect(lines.slice(1, 9)).toEqual(problems.slice(0, 8).map((p) => `  ${p}`));
    expect(lines[9]).toBe('  ... and 4 more');
    expect(lines).toHaveLength(10);
  });
  it('knows which runs lay their learning-rate schedule over --steps (a resume that changes it says so)', () => {
    expect(scheduleFollowsSteps(recipes.pix2pix, { lrHold: 0, lrDecay: 0 })).toBe(true); // pix2pix / CycleGAN defaults
    expect(scheduleFollowsSteps(recipes.cyclegan, { lrHold: 100, lrDecay: 0 })).toBe(true);
    expect(scheduleFollowsSteps(recipes.pix2pix, { lrHold: 100, lrDecay: 100 })).toBe(false);
    expect(scheduleFollowsSteps(recipes.stargan, { numItersDecay: 0, lrUpdateStep: 10 })).toBe(true); // StarGAN default
    expect(scheduleFollowsSteps(recipes.stargan, { numItersDecay: 500 })).toBe(false);
    expect(scheduleFollowsSteps(recipes.dcgan, { imageSize: 32, nz: 16, ngf: 4, ndf: 4, nc: 1 })).toBe(false); // DCGAN: constant lr
  });
});

describe('presets (item 5)', () => {
  it('every --quick preset saves checkpoints periodically', () => {
    for (const [name, r] of Object.entries(recipes)) {
      const steps = Number(r.quick.steps ?? r.train.steps);
      const every = Number(r.quick.ckptEvery ?? r.train.ckptEvery);
      expect(every, name).toBeGreaterThan(0);
      expect(every, name).toBeLessThan(steps);
    }
  });
});

describe('real runs: folder safety, lock, SIGTERM, resume flags, divergence (items 1, 2, 4, 5)', () => {
  const TINY = [
    '--batch',
    '4',
    '--ngf',
    '4',
    '--ndf',
    '4',
    '--nz',
    '8',
    '--code',
    '8',
    '--d-norm',
    'none',
    '--limit',
    '64',
    '--sample-every',
    '0',
  ];

  it('SIGTERM saves and exits 143; a second run cannot write the folder meanwhile; a new run is refused there; --lr on resume is applied', async () => {
    const dir = join(tmp, 'term');
    const child = spawn(
      process.execPath,
      [bin, 'train', 'ebgan', ...TINY, '--steps', '100000', '--log-every', '1', '--ckpt-every', '0', '--out', dir],
      { cwd: tmp },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    const metricsLines = () =>
      existsSync(join(dir, 'metrics.jsonl'))
        ? readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').filter(Boolean).length
        : 0;
    for (let i = 0; i < 1200 && metricsLines() < 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect(metricsLines(), stderr).toBeGreaterThanOrEqual(2);

    // The lock: another run into the same folder fails at once, changing nothing.
    const lock = readFileSync(join(dir, '.gan-train.lock'), 'utf8').trim();
    expect(lock).toBe(String(child.pid));
    const second = gan(['train', 'ebgan', ...TINY, '--steps', '2', '--out', dir]);
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toBe(
      `gan train ebgan: another run (pid ${child.pid}) is writing '${dir}'; wait for it, stop it, or choose another --out (lock file .gan-train.lock)`,
    );

    child.kill('SIGTERM');
    const code = await exited;
    expect(code, stderr).toBe(143);
    expect(stderr).toMatch(/SIGTERM received; saving a checkpoint after this step/);
    expect(stdout).toMatch(/continue: {3}gan train ebgan --resume \S*checkpoint\.safetensors/);
    const ck = decodeSafetensors(readFileSync(join(dir, 'checkpoint.safetensors')));
    const saved = Number(ck.metadata.step);
    expect(saved).toBeGreaterThanOrEqual(2);
    const m = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number });
    expect(m[m.length - 1].step).toBe(saved);
    expect(existsSync(join(dir, '.gan-train.lock'))).toBe(false);

    // A new run (another model, even) into the folder is refused; nothing changes.
    const before = snapshot(dir);
    const clash = gan(['train', 'began', '--quick', '--steps', '2', '--out', dir]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(
      /--out '.*term' is not empty \(.*checkpoint\.safetensors.*\); continue it with --resume \S+, choose another --out, or pass --force/,
    );
    expect(snapshot(dir)).toEqual(before);

    // Resume with a new --lr: applied to the optimisers and recorded (it used to keep the old one).
    const resumed = gan([
      'train',
      'ebgan',
      '--resume',
      join(dir, 'checkpoint.safetensors'),
      '--steps',
      String(saved + 1),
      '--lr',
      '0.00125',
    ]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/--lr 0\.00125 replaces the checkpoint's 0\.0002/);
    const after = decodeSafetensors(readFileSync(join(dir, 'checkpoint.safetensors')));
    const optim = JSON.parse(after.metadata.optimizers) as Record<string, { hyper: { lr: number } }>;
    for (const [k, o] of Object.entries(optim)) expect(o.hyper.lr, k).toBe(0.00125);
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).settings.lr).toBe(0.00125);
  }, 300_000);

  it('a run that ends inside EBGAN pretraining (no lossG logged yet) finishes and names only the losses it has', () => {
    const dir = join(tmp, 'pretrain');
    const r = gan(['train', 'ebgan', ...TINY, '--pretrain', '5', '--steps', '2', '--log-every', '1', '--ckpt-every', '0', '--out', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 steps in .*, final lossD \d+\.\d{3}\n/);
    expect(r.stdout).not.toMatch(/lossG/);
  }, 300_000);

  it('a diverging run stops at the first non-finite save and keeps the last good checkpoint; an occupied folder needs --force', () => {
    const dir = join(tmp, 'diverge');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'metrics.jsonl'), '{"step":1}\n');
    const before = snapshot(dir);
    const args = [
      'train',
      'ebgan',
      ...TINY,
      '--lr',
      '10',
      '--beta1',
      '0',
      '--beta2',
      '0',
      '--steps',
      '12',
      '--ckpt-every',
      '1',
      '--log-every',
      '1000',
      '--out',
      dir,
    ];
    const refused = gan(args);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/is not empty \(metrics\.jsonl\); choose another --out, or pass --force/);
    expect(snapshot(dir)).toEqual(before);

    // A temp file that a save killed mid-write left (its pid cannot be a live process: above pid_max).
    writeFileSync(join(dir, '.checkpoint.safetensors.4194305.k1ll3d.tmp'), good);
    writeFileSync(join(dir, '.gan-train.lock'), '4194305\n'); // and the lock of that dead run: taken over
    const r = gan([...args, '--force']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/removed 1 temp file of an interrupted save \(\.checkpoint\.safetensors\.4194305\.k1ll3d\.tmp\)/);
    const m =
      /the run diverged: non-finite values at step (\d+) in (\S+) \[[\d, ]*\] \(\d+ of \d+ values\)[^;]*; the last good checkpoint \S+ \(step (\d+)\) was kept/.exec(
        r.stderr,
      );
    expect(m, r.stderr).not.toBeNull();
    const [bad, kept] = [Number(m![1]), Number(m![3])];
    expect(kept).toBe(bad - 1);
    expect(bad).toBeLessThan(12);
    const ck = decodeSafetensors(readFileSync(join(dir, 'checkpoint.safetensors')));
    expect(Number(ck.metadata.step)).toBe(kept);
    for (const [k, t] of Object.entries(ck.tensors)) {
      if (t.dtype === 'F32') expect((t.data as Float32Array).every(Number.isFinite), k).toBe(true);
    }
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp') || n === '.gan-train.lock')).toEqual([]);
    // The old run's metrics were replaced (--force), not mixed in (no loss line was due before the stop).
    expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')).toBe('');
  }, 300_000);
});
