#!/usr/bin/env node
// The trained-model zoo: run folders -> zoo/<model>/ -> docs/zoo.md (issue 15).
//
//   node scripts/zoo.mjs export RUN_DIR [--no-eval] [--zoo DIR]
//       The run's checkpoint.safetensors -> zoo/<model>/<model>.safetensors: the networks named in
//       zoo/<model>/recipe.json "ship" (all of them without it), stored as float16 (the engine loads
//       F16 entries back into float32 tensors), under the engine's checkpoint metadata (config,
//       settings, seed, dataset; no optimisers, only their step counts in extra.optimizerSteps, which
//       a staged model's phase follows; extra.networksOnly lists the networks) plus a "zoo"
//       metadata entry (source step, dtype, commits, adapters, wall time). Beside it: run.json (the
//       run's record, absolute paths replaced), metrics.jsonl, grid.png (`gan sample` of the shipped
//       file: the run's fixed sample noise) and eval.json (`gan eval` of the shipped file with the
//       recipe's "eval" args; skipped with --no-eval, keeping an eval.json of the same step).
//   node scripts/zoo.mjs resume RUN_DIR [--twin] [--zoo DIR]
//       A run that cannot finish this session: its float32 checkpoint (optimisers, noise stream and
//       data position: an exact resume), run.json and metrics.jsonl -> zoo/<model>/resume/
//       (--twin: the recipe's comparison run -> zoo/<model>/twin-resume/).
//   node scripts/zoo.mjs seed RUN_DIR [--zoo DIR]
//       Another seed of a model's zoo recipe (`gan train MODEL --recipe zoo --seed S`): `gan eval` of
//       the run's checkpoint with the recipe's eval args -> zoo/<model>/seeds/seed-S.json (the eval
//       report, the run's steps, wall time, commits and adapters; no weights). The card puts the
//       target's figures of every seed side by side (the shipped run's included): mean, spread, and
//       on how many seeds the target holds.
//   node scripts/zoo.mjs twin RUN_DIR [--zoo DIR]
//       The recipe's comparison run (recipe.json "twin": its name, the flags it adds to the recipe's,
//       its eval args; StackGAN's Stage-I alone at equal total steps): `gan eval` of the run's
//       checkpoint -> zoo/<model>/twin.json (its record and eval report, no weights). Target checks
//       read it under `twin.` (two-stage conditional accuracy >= the twin's).
//   node scripts/zoo.mjs cards [--zoo DIR] [--out FILE] [--check]
//       zoo/<model>/curves.svg (the run's training curves from its metrics.jsonl; recipe.json "curves"
//       picks the keys) and docs/zoo.md (and README.md's block between <!-- zoo:begin --> and <!-- zoo:end -->) from the zoo folders (nothing hand-written: every number comes from run.json,
//       eval.json and recipe.json). --check: exit 1 when the file differs from what would be written.
//
// gan sample / gan eval run as `node dist/gan.mjs` (built here with scripts/build.mjs cli).

import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// ---- safetensors (the format: u64 LE header length, JSON header, raw little-endian data) ----------

/** Reads a safetensors file: { metadata, tensors: { name: { dtype, shape, bytes: Uint8Array } } } in file order. */
export function readSafetensors(path) {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const start = 8 + n;
  const metadata = header.__metadata__ ?? {};
  const tensors = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [b, e] = t.data_offsets;
    tensors[name] = { dtype: t.dtype, shape: t.shape, bytes: new Uint8Array(buf.buffer, buf.byteOffset + start + b, e - b) };
  }
  return { metadata, tensors };
}

/** Writes a safetensors file: metadata first, tensors in the order given, header padded to 8 bytes. */
export function writeSafetensors(path, tensors, metadata) {
  const parts = [`"__metadata__":${JSON.stringify(metadata)}`];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + t.bytes.byteLength}]}`,
    );
    offset += t.bytes.byteLength;
  }
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = Buffer.alloc(8 + headerLen + offset, 0x20);
  out.writeBigUInt64LE(BigInt(headerLen), 0);
  json.copy(out, 8);
  let pos = 8 + headerLen;
  for (const t of Object.values(tensors)) {
    out.set(t.bytes, pos);
    pos += t.bytes.byteLength;
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, out);
}

/** Round half to even. */
function roundEven(v) {
  const f = Math.floor(v);
  const r = v - f;
  return r > 0.5 ? f + 1 : r < 0.5 ? f : f % 2 ? f + 1 : f;
}

/** A number's IEEE binary16 bit pattern, rounded to nearest even (computed in float64, exactly). */
export function toHalfBits(x) {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00; // 65520 and up round to infinity
  if (a < 2 ** -14) return sign | roundEven(a * 2 ** 24); // subnormal (1024 carries into the smallest normal)
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  const m = roundEven((a / 2 ** e - 1) * 1024); // may be 1024: carries into the exponent, which is right
  return sign | (((e + 15) << 10) + m);
}

/** float32 little-endian bytes -> float16 bytes. */
export function f32BytesToF16(bytes) {
  const src = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const dst = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) dst[i] = toHalfBits(src[i]);
  return new Uint8Array(dst.buffer);
}

// ---- paths and records ---------------------------------------------------------------------------

function parseFlags(argv) {
  const pos = [];
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--check' || a === '--no-eval' || a === '--twin') flags[a.slice(2)] = true;
    else if (a.startsWith('--')) {
      if (argv[i + 1] === undefined) fail(`${a} needs a value`);
      flags[a.slice(2)] = argv[++i];
    } else pos.push(a);
  }
  return { pos, flags };
}

function fail(msg) {
  process.stderr.write(`zoo: ${msg}\n`);
  process.exit(1);
}

const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));

/**
 * Replaces this machine's absolute paths in a string: under the run folder -> RUN/..., under the
 * repository -> a relative path, anything else -> its last component under <elsewhere>/.
 */
export function scrubPaths(s, runDir, root = ROOT) {
  return s.replace(/(^|[\s'"=:(])(\/[^\s'"),]+)/g, (_m, pre, p) => {
    const abs = resolve(p);
    if (runDir && (abs === resolve(runDir) || abs.startsWith(resolve(runDir) + sep)))
      return `${pre}${join('RUN', relative(resolve(runDir), abs))}`.replace(/\/$/, '');
    if (abs === root || abs.startsWith(root + sep)) return `${pre}${relative(root, abs) || '.'}`;
    return `${pre}<elsewhere>/${basename(abs)}`;
  });
}

function scrubJson(value, runDir, root) {
  if (typeof value === 'string') return scrubPaths(value, runDir, root);
  if (Array.isArray(value)) return value.map((v) => scrubJson(v, runDir, root));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubJson(v, runDir, root)]));
  return value;
}

function zooDirOf(flags) {
  return resolve(flags.zoo ?? process.env.GAN_ZOO_DIR ?? join(ROOT, 'zoo'));
}

let built = false;
/** dist/gan.mjs, built from this tree once per invocation. */
function ganBin() {
  const bin = join(ROOT, 'dist', 'gan.mjs');
  if (!built) execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), 'cli'], { cwd: ROOT, stdio: 'ignore' });
  built = true;
  return bin;
}

function gan(args) {
  process.stderr.write(`zoo: gan ${args.join(' ')}\n`);
  execFileSync(process.execPath, [ganBin(), ...args], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
}

/** Steps, wall time, adapters and commits of a run's history (run.json). */
export function summarizeHistory(run) {
  const h = Array.isArray(run.history) ? run.history : [];
  return {
    segments: h.length,
    step: h.length ? Math.max(...h.map((s) => s.endStep)) : 0,
    wallSeconds: h.reduce((a, s) => a + (s.wallSeconds || 0), 0),
    adapters: [...new Set(h.map((s) => s.adapter))],
    commits: [...new Set(h.map((s) => (s.commit ? `${s.commit.slice(0, 10)}${s.dirty ? ' (with uncommitted changes)' : ''}` : 'unknown')))],
  };
}

// ---- export --------------------------------------------------------------------------------------

/**
 * The networks of a run checkpoint as a float16 zoo file (see the header). Returns the file's path.
 * `ship`: network names to keep (default: all the checkpoint has).
 */
export function exportWeights(ckptPath, outPath, { ship, zooMeta = {} } = {}) {
  const ck = readSafetensors(ckptPath);
  if (ck.metadata.format !== 'webgpu-gan/checkpoint')
    fail(`${ckptPath} is not a gan train checkpoint (metadata format ${ck.metadata.format})`);
  const models = JSON.parse(ck.metadata.models);
  const keep = ship ?? models;
  for (const m of keep)
    if (!models.includes(m)) fail(`${ckptPath} has no network '${m}' (it has ${models.join(', ')}); fix "ship" in recipe.json`);
  const tensors = {};
  let f32 = 0;
  let f16 = 0;
  for (const [name, t] of Object.entries(ck.tensors)) {
    if (!keep.some((m) => name.startsWith(`${m}.`))) continue;
    if (t.dtype === 'F32') {
      tensors[name] = { dtype: 'F16', shape: t.shape, bytes: f32BytesToF16(t.bytes) };
      f32 += t.bytes.byteLength;
      f16 += t.bytes.byteLength / 2;
    } else tensors[name] = t;
  }
  // The optimisers' step counts (not their state): training state that follows them, such as a staged
  // model's phase (StackGAN: text encoder, Stage-I, Stage-II), is restored with the networks.
  const optimizerSteps = Object.fromEntries(
    Object.entries(JSON.parse(ck.metadata.optimizers ?? '{}')).map(([name, o]) => [name, o?.steps ?? {}]),
  );
  const extra = { ...JSON.parse(ck.metadata.extra ?? 'null'), networksOnly: keep, optimizerSteps, loader: null, trainingState: [] };
  const metadata = {
    format: ck.metadata.format,
    format_version: ck.metadata.format_version,
    step: ck.metadata.step,
    models: JSON.stringify(keep),
    optimizers: '{}',
    schedulers: '{}',
    rng: ck.metadata.rng,
    config: ck.metadata.config,
    extra: JSON.stringify(extra),
    zoo: JSON.stringify({
      storage: 'F16 (float32 weights rounded to nearest even; the engine loads them back into float32)',
      float32Bytes: f32,
      float16Bytes: f16,
      ...zooMeta,
    }),
  };
  writeSafetensors(outPath, tensors, metadata);
  return outPath;
}

function exportRun(runDir, flags) {
  runDir = resolve(runDir);
  const ckpt = join(runDir, 'checkpoint.safetensors');
  if (!existsSync(ckpt)) fail(`${ckpt} is missing (export takes a gan train run folder)`);
  const run = readJson(join(runDir, 'run.json'));
  const model = run.model;
  if (!Array.isArray(run.history) || !run.history.length)
    fail(
      `${join(runDir, 'run.json')} has no history (commands, commits, wall times): the run was made by an older gan train; a zoo card needs a run of this one`,
    );
  const dir = join(zooDirOf(flags), model);
  const recipePath = join(dir, 'recipe.json');
  if (!existsSync(recipePath)) fail(`${recipePath} is missing: write the model's zoo recipe first (docs/zoo.md)`);
  const recipe = readJson(recipePath);
  const step = Number(readSafetensors(ckpt).metadata.step);
  const hist = summarizeHistory(run);
  const scrubbedRun = scrubJson(run, runDir);
  const weights = join(dir, `${model}.safetensors`);
  exportWeights(ckpt, weights, {
    ship: recipe.ship,
    zooMeta: {
      model,
      step,
      steps: run.settings?.steps,
      seed: run.seed,
      preset: run.preset,
      wallSeconds: hist.wallSeconds,
      adapters: hist.adapters,
      commits: hist.commits,
    },
  });
  writeFileSync(join(dir, 'run.json'), JSON.stringify(scrubbedRun, null, 2) + '\n');
  if (existsSync(join(runDir, 'metrics.jsonl'))) {
    const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() && JSON.parse(l).step <= step);
    writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
  }
  const rel = relative(ROOT, weights);
  gan(['sample', rel, '--out', relative(ROOT, join(dir, 'grid.png'))]);
  if (!flags['no-eval']) {
    const evalArgs = recipe.eval?.args ?? [];
    const tmp = join(dir, '.eval.tmp.json');
    gan(['eval', '--ckpt', rel, ...evalArgs, '--out', relative(ROOT, tmp)]);
    const ev = scrubJson(readJson(tmp), runDir);
    writeFileSync(join(dir, 'eval.json'), JSON.stringify({ ...ev, args: evalArgs }, null, 2) + '\n');
    rmSync(tmp, { force: true });
  } else if (existsSync(join(dir, 'eval.json')) && readJson(join(dir, 'eval.json')).step !== step) {
    process.stderr.write(
      `zoo: note: ${relative(ROOT, join(dir, 'eval.json'))} is of step ${readJson(join(dir, 'eval.json')).step}, the weights of step ${step}; the card will say so (rerun without --no-eval)\n`,
    );
  }
  process.stderr.write(
    `zoo: ${model} step ${step} -> ${relative(ROOT, dir)}/ (${(statSync(weights).size / 1e6).toFixed(2)} MB of weights)\n`,
  );
}

/**
 * A run beside a card's own (another seed, the twin): its folder's checkpoint, record and zoo
 * recipe, checked to be a --recipe zoo run that reached the recipe's steps.
 */
function sideRun(runDir, flags, what) {
  runDir = resolve(runDir);
  const ckpt = join(runDir, 'checkpoint.safetensors');
  if (!existsSync(ckpt)) fail(`${ckpt} is missing (${what} takes a gan train run folder)`);
  const run = readJson(join(runDir, 'run.json'));
  const dir = join(zooDirOf(flags), run.model);
  const recipePath = join(dir, 'recipe.json');
  if (!existsSync(recipePath)) fail(`${recipePath} is missing: write the model's zoo recipe first (docs/zoo.md)`);
  const recipe = readJson(recipePath);
  if (run.preset !== 'zoo') fail(`${runDir} was not trained with --recipe zoo (preset ${run.preset}); a ${what} of the card must be`);
  const step = Number(readSafetensors(ckpt).metadata.step);
  if (step !== recipe.flags.steps)
    fail(`${runDir} stopped at step ${step}; a ${what} is compared at the recipe's ${recipe.flags.steps} steps`);
  return { runDir, ckpt, run, dir, recipe, step, recipePath };
}

/** `gan eval` of a side run's checkpoint with `args` -> its record: seed, step, history summary, eval report. */
function sideRecord(side, args, tmp) {
  gan(['eval', '--ckpt', relative(ROOT, side.ckpt), ...args, '--out', relative(ROOT, tmp)]);
  const ev = scrubJson(readJson(tmp), side.runDir);
  rmSync(tmp, { force: true });
  const h = summarizeHistory(side.run);
  return {
    seed: side.run.seed,
    step: side.step,
    wallSeconds: h.wallSeconds,
    commits: h.commits,
    adapters: h.adapters,
    commands: side.run.history.map((x) => scrubPaths(x.command, side.runDir)),
    eval: { ...ev, args },
    curve: curveStatsOf(side.runDir),
  };
}

/** `zoo.mjs seed`: another seed's run evaluated into zoo/<model>/seeds/seed-S.json (no weights). */
function seedRun(runDir, flags) {
  const side = sideRun(runDir, flags, 'seed');
  const { run, dir, recipe } = side;
  if (run.seed === recipe.flags.seed)
    fail(`${side.runDir} has the recipe's own seed ${run.seed}: export it (zoo.mjs export) instead of adding it as another seed`);
  mkdirSync(join(dir, 'seeds'), { recursive: true });
  const record = sideRecord(side, recipe.eval?.args ?? [], join(dir, 'seeds', `.seed-${run.seed}.tmp.json`));
  const out = join(dir, 'seeds', `seed-${run.seed}.json`);
  writeFileSync(out, JSON.stringify(record, null, 2) + '\n');
  const verdict = judgeTarget(recipe.target, seedEval(record));
  process.stderr.write(
    `zoo: ${run.model} seed ${run.seed} -> ${relative(ROOT, out)}: ${verdict.met === true ? 'met' : verdict.met === false ? 'missed' : ''} ${verdict.text}\n`,
  );
}

/** `zoo.mjs twin`: the recipe's comparison run evaluated into zoo/<model>/twin.json (no weights). */
function twinRun(runDir, flags) {
  const side = sideRun(runDir, flags, 'twin');
  const { run, dir, recipe } = side;
  const twin = recipe.twin;
  if (!twin) fail(`${side.recipePath} has no "twin" (the comparison run's name, flags and eval args)`);
  const first = run.history?.[0]?.command ?? '';
  for (const [k, v] of Object.entries(twin.flags ?? {}))
    if (!first.includes(`--${k} ${v}`)) fail(`${side.runDir} was not started with the twin's --${k} ${v} (its command: ${first})`);
  const record = { name: twin.name, ...sideRecord(side, twin.eval?.args ?? [], join(dir, '.twin.tmp.json')) };
  writeFileSync(join(dir, 'twin.json'), JSON.stringify(record, null, 2) + '\n');
  process.stderr.write(`zoo: ${run.model} twin (${twin.name}) step ${side.step} -> ${relative(ROOT, join(dir, 'twin.json'))}\n`);
}

/** The card's lines on the twin run: what it is, how it was run, and the target's figures of both. */
function twinLines(recipe, twin, ev, m, dir, link) {
  const spec = recipe.twin;
  const flags = Object.entries(spec.flags ?? {})
    .map(([k, v]) => `--${k} ${v}`)
    .join(' ');
  if (!twin) {
    const resume = existsSync(join(dir, 'twin-resume', 'run.json')) ? readJson(join(dir, 'twin-resume', 'run.json')) : null;
    if (!resume)
      return [
        `- **Twin (${spec.name}):** not run yet: \`gan train ${m} --recipe zoo ${flags} --out runs/zoo-${m}-twin\`, then \`node scripts/zoo.mjs twin runs/zoo-${m}-twin\``,
      ];
    const h = summarizeHistory(resume);
    return [
      `- **Twin (${spec.name}):** \`gan train ${m} --recipe zoo ${flags}\`, training: a checkpoint at step ${h.step} of ${recipe.flags.steps} after ${duration(h.wallSeconds)} (${h.commits.map((c) => `\`${c}\``).join(', ')}), not compared yet. Continue it exactly: \`mkdir -p runs && cp -r zoo/${m}/twin-resume runs/zoo-${m}-twin && gan train ${m} --resume runs/zoo-${m}-twin/checkpoint.safetensors\`, then \`node scripts/zoo.mjs twin runs/zoo-${m}-twin\``,
    ];
  }
  const figures = (spec.figures ?? [])
    .map((f) => `${f.name} ${fmt(get(twin.eval, f.value), 4)} (this run: ${ev ? fmt(get(ev, f.value), 4) : '-'})`)
    .join(', ');
  return [
    `- **Twin (${spec.name}):** \`gan train ${m} --recipe zoo ${flags}\`, seed ${twin.seed}, ${twin.step} steps, ${duration(twin.wallSeconds)} of training (${twin.commands.map((c) => `\`${c}\``).join('; ')}; commit ${twin.commits.map((c) => `\`${c}\``).join(', ')}); \`gan eval ${(twin.eval.args ?? []).join(' ')}\` of its checkpoint${figures ? `: ${figures}` : ''}; its record: [twin.json](${link})`,
  ];
}

/** The other seeds' records of a zoo folder (zoo/<model>/seeds/seed-S.json), by seed. */
export function readSeeds(dir) {
  const d = join(dir, 'seeds');
  if (!existsSync(d)) return [];
  return readdirSync(d)
    .filter((f) => /^seed-\d+\.json$/.test(f))
    .map((f) => readJson(join(d, f)))
    .sort((a, b) => a.seed - b.seed);
}

/**
 * The card's line on seeds: each check's figure per seed (the shipped run's first), their mean and
 * sample standard deviation, and on how many seeds the whole target holds. Null with no other seed.
 */
export function seedsLine(target, shipped, others) {
  if (!others.length || !shipped) return null;
  const checks = target?.check === undefined ? [] : Array.isArray(target.check) ? target.check : [target.check];
  const all = judgedSeeds(shipped, others);
  const parts = checks.map((c) => {
    const vs = all.map((r) => get(r.eval, c.value));
    if (vs.some((v) => typeof v !== 'number')) return `${checkName(c)}: not in every seed's eval`;
    const mean = vs.reduce((a, b) => a + b, 0) / vs.length;
    const sd = Math.sqrt(vs.reduce((a, v) => a + (v - mean) ** 2, 0) / (vs.length - 1));
    return `${checkName(c)} ${vs.map((v) => fmt(v, 4)).join(' / ')}: mean ${fmt(mean, 4)}, sd ${fmt(sd, 4)}`;
  });
  const met = seedsHeld(target, all);
  return `${all.length} seeds (${all.map((r, i) => `${r.seed}${i === 0 ? ' shipped' : ''}`).join(', ')}): ${parts.join('; ')}; the target holds on ${met} of ${all.length}`;
}

/** A seed record's eval as its checks read it: a side run keeps its curve statistics beside its eval (sideRecord). */
function seedEval(r) {
  return { ...r.eval, curve: r.curve ?? r.eval?.curve };
}

/** The shipped run's and the other seeds' records as their checks read them (curves under `curve.`), shipped first. */
function judgedSeeds(shipped, others) {
  return [shipped, ...others].map((r) => ({ seed: r.seed, eval: seedEval(r) }));
}

/** On how many of the judged seed records the whole target holds. */
function seedsHeld(target, all) {
  return all.filter((r) => judgeTarget(target, r.eval).met === true).length;
}

export function saveResume(runDir, flags = {}) {
  runDir = resolve(runDir);
  const run = readJson(join(runDir, 'run.json'));
  // --twin: the recipe's comparison run (zoo.mjs twin), kept apart from the shipped run's resume/.
  const dir = join(zooDirOf(flags), run.model, flags.twin ? 'twin-resume' : 'resume');
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(runDir, 'checkpoint.safetensors'), join(dir, 'checkpoint.safetensors'));
  const step = Number(readSafetensors(join(dir, 'checkpoint.safetensors')).metadata.step);
  // run.json's history stops at the checkpoint (a later save of the live run may have moved it on).
  const history = (run.history ?? []).filter((s) => s.startStep < step).map((s) => (s.endStep > step ? { ...s, endStep: step } : s));
  writeFileSync(join(dir, 'run.json'), JSON.stringify(scrubJson({ ...run, history }, runDir), null, 2) + '\n');
  if (existsSync(join(runDir, 'metrics.jsonl'))) {
    const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() && JSON.parse(l).step <= step);
    writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
  }
  process.stderr.write(`zoo: ${run.model} resume checkpoint (step ${step}) -> ${relative(ROOT, dir)}/\n`);
}

// ---- cards ---------------------------------------------------------------------------------------

const get = (obj, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
const fmt = (v, d = 2) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : String(v));

function duration(s) {
  if (!(s > 0)) return '0 s';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${Math.round(s % 60)} s` : `${s.toFixed(1)} s`;
}

// ---- training curves (curves.svg beside each card) ----------------------------------------------

/** Keys of metrics.jsonl that are bookkeeping, not training curves. */
const NOT_CURVES = new Set(['step', 'epoch', 'stepsPerSec', 'time', 'lr', 'phase']);

/** metrics.jsonl text -> its records (blank lines skipped). */
export function parseMetrics(text) {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

/**
 * Per-key statistics of a run's logged curves (metrics.jsonl), for checks under `curve.`:
 * { key: { logged, first, last, min, max, mean, positive } }, `positive` the share of logged steps
 * where the value is above 0 (BEGAN's "k_t away from 0"). Bookkeeping keys left out.
 */
export function curveStats(records) {
  const out = {};
  for (const r of records)
    for (const [k, v] of Object.entries(r)) {
      if (NOT_CURVES.has(k) || typeof v !== 'number' || !Number.isFinite(v)) continue;
      const c = (out[k] ??= { logged: 0, first: v, last: v, min: v, max: v, mean: 0, positive: 0 });
      c.logged++;
      c.last = v;
      c.min = Math.min(c.min, v);
      c.max = Math.max(c.max, v);
      c.mean += v;
      if (v > 0) c.positive++;
    }
  for (const c of Object.values(out)) {
    c.mean /= c.logged;
    c.positive /= c.logged;
  }
  return out;
}

/** A run folder's (or zoo folder's) curve statistics, or undefined without a metrics.jsonl. */
function curveStatsOf(dir) {
  const path = join(dir, 'metrics.jsonl');
  return existsSync(path) ? curveStats(parseMetrics(readFileSync(path, 'utf8'))) : undefined;
}

/** zoo/<model>/twin.json when the recipe has a twin and it was scored, else null. */
function readTwin(dir, recipe) {
  return recipe.twin && existsSync(join(dir, 'twin.json')) ? readJson(join(dir, 'twin.json')) : null;
}

/**
 * What a recipe's checks are judged on: the shipped run's eval.json, with the twin run's eval under
 * `twin.` and the run's curve statistics under `curve.` (null: no eval of the shipped weights).
 */
export function judgedEval(dir, recipe, ev, twin = readTwin(dir, recipe)) {
  if (!ev) return null;
  return { ...ev, ...(twin ? { twin: twin.eval } : {}), curve: curveStatsOf(dir) };
}

/**
 * The curves a card plots: recipe.curves (a list of metrics.jsonl keys) when given, else every key
 * with a finite number in some record, bookkeeping keys left out, at most `max` of them (first seen first).
 */
export function curveKeys(records, recipe = {}, max = 8) {
  if (Array.isArray(recipe.curves)) return recipe.curves;
  const keys = [];
  for (const r of records)
    for (const [k, v] of Object.entries(r))
      if (!NOT_CURVES.has(k) && typeof v === 'number' && Number.isFinite(v) && !keys.includes(k)) keys.push(k);
  return keys.slice(0, max);
}

const esc = (t) => String(t).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** A short, fixed-width number for axis labels (the same text on every machine). */
function tick(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e4 || a < 1e-3)) return v.toExponential(1);
  return a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(2) : v.toFixed(3);
}

/**
 * An SVG of training curves: one small panel per key (its own y range, min and max labelled), steps
 * on x. Plain text, deterministic for the same records, no fonts beyond the viewer's sans-serif.
 */
export function renderCurves(records, keys, title = '') {
  const W = 260;
  const H = 130;
  const cols = Math.min(keys.length, 3) || 1;
  const rows = Math.ceil(keys.length / cols);
  const top = title ? 22 : 0;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${cols * W}" height="${top + rows * H}" viewBox="0 0 ${cols * W} ${top + rows * H}" font-family="sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
  ];
  if (title) out.push(`<text x="6" y="15" font-size="12">${esc(title)}</text>`);
  keys.forEach((k, i) => {
    const x0 = (i % cols) * W;
    const y0 = top + Math.floor(i / cols) * H;
    const pts = records.filter((r) => typeof r[k] === 'number' && Number.isFinite(r[k]) && typeof r.step === 'number');
    const L = x0 + 44;
    const R = x0 + W - 10;
    const T = y0 + 18;
    const B = y0 + H - 22;
    out.push(`<text x="${x0 + 44}" y="${y0 + 12}" font-weight="bold">${esc(k)}</text>`);
    out.push(`<rect x="${L}" y="${T}" width="${R - L}" height="${B - T}" fill="none" stroke="#bbb"/>`);
    if (!pts.length) {
      out.push(`<text x="${L + 6}" y="${(T + B) / 2}">no values</text>`);
      return;
    }
    const s0 = pts[0].step;
    const s1 = pts[pts.length - 1].step;
    let lo = Math.min(...pts.map((r) => r[k]));
    let hi = Math.max(...pts.map((r) => r[k]));
    if (hi === lo) {
      hi += 0.5 * (Math.abs(hi) || 1);
      lo -= 0.5 * (Math.abs(lo) || 1);
    }
    const px = (s) => (s1 === s0 ? (L + R) / 2 : L + ((s - s0) / (s1 - s0)) * (R - L));
    const py = (v) => B - ((v - lo) / (hi - lo)) * (B - T);
    const line = pts.map((r) => `${px(r.step).toFixed(1)},${py(r[k]).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${line}" fill="none" stroke="#1f77b4" stroke-width="1.3"/>`);
    out.push(`<text x="${L - 3}" y="${T + 8}" text-anchor="end">${tick(hi)}</text>`);
    out.push(`<text x="${L - 3}" y="${B}" text-anchor="end">${tick(lo)}</text>`);
    out.push(`<text x="${L}" y="${B + 13}">${s0}</text>`);
    out.push(`<text x="${R}" y="${B + 13}" text-anchor="end">step ${s1}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** zoo/<model>/curves.svg's text from its metrics.jsonl and recipe (null: no metrics). */
export function curvesFor(dir, recipe) {
  const path = join(dir, 'metrics.jsonl');
  if (!existsSync(path)) return null;
  const records = parseMetrics(readFileSync(path, 'utf8'));
  const keys = curveKeys(records, recipe);
  if (!records.length || !keys.length) return null;
  return renderCurves(records, keys, `${recipe.model ?? basename(dir)}: training curves (metrics.jsonl, logged steps)`);
}

/** Bytes under a folder (files, recursively). */
export function folderBytes(dir) {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? folderBytes(p) : statSync(p).size;
  }
  return total;
}

/** The zoo's size limit (issue 15): the whole folder under 80 MB. */
export const ZOO_LIMIT_BYTES = 80e6;

/**
 * Whether eval.json meets the recipe's target: { met, text }. target.check is one check or a list
 * (all must hold); a check names a number in eval.json (`value`, a dotted path) and one of
 *   maxRatio + reference   value <= maxRatio x the number at `reference` (e.g. 3x real-vs-real FD)
 *   max / min              value <= max / value >= min
 *   below / above          value < / > the number at that path (e.g. L1 below the identity's)
 *   atMost / atLeast       value <= / >= the number at that path; a path under `twin.` reads the
 *                          recipe's twin run (zoo/<model>/twin.json's eval: StackGAN's Stage-I alone)
 * A path under `curve.KEY.` reads the run's logged curve of KEY (metrics.jsonl; curveStats: logged,
 * first, last, min, max, mean, positive), e.g. BEGAN's k_t.
 * and optionally `name` (the figure's name on the card; default: the path's last key in capitals)
 * and `n`, the path of the sample count the value rests on (default: eval.json's n,
 * the images scored; StarGAN's accuracy rests on its translations, not its 54 source images).
 */
export function judgeTarget(target, ev) {
  const checks = target?.check === undefined ? [] : Array.isArray(target.check) ? target.check : [target.check];
  if (!checks.length) return { met: null, text: 'no automatic check' };
  if (!ev) return { met: null, text: 'not evaluated yet' };
  const results = checks.map((c) => judgeOne(c, ev));
  // All must hold: one definite miss is a miss even where another figure is not there yet.
  if (results.some((r) => r.met === false)) return { met: false, text: results.map((r) => r.text).join('; ') };
  if (results.some((r) => r.met === null)) return { met: null, text: results.map((r) => r.text).join('; ') };
  return { met: results.every((r) => r.met), text: results.map((r) => r.text).join('; ') };
}

/** A check's figure name on the card: its `name`, else its path's last key in capitals. */
const checkName = (c) => c.name ?? c.value.split('.').pop().toUpperCase();

function judgeOne(c, ev) {
  const v = get(ev, c.value);
  if (typeof v !== 'number')
    return {
      met: null,
      text: c.value.startsWith('curve.') ? `the run's metrics.jsonl has no ${c.value.split('.')[1]}` : `eval.json has no ${c.value}`,
    };
  const name = checkName(c);
  const n = c.n === undefined ? ev.n : get(ev, c.n);
  if (c.maxRatio !== undefined) {
    const ref = get(ev, c.reference);
    const bound = c.maxRatio * ref;
    const met = v <= bound;
    return {
      met,
      text: `${name} ${fmt(v)} ${met ? '<=' : '>'} ${c.maxRatio} x ${fmt(ref)} (${c.reference.split('.')[0]}) = ${fmt(bound)}, n = ${n}${met ? '' : `: ${fmt(v / ref, 1)}x the reference`}`,
    };
  }
  if (c.max !== undefined) {
    const met = v <= c.max;
    return { met, text: `${name} ${fmt(v, 4)} ${met ? '<=' : '>'} ${c.max}, n = ${n}` };
  }
  if (c.min !== undefined) {
    const met = v >= c.min;
    return { met, text: `${name} ${fmt(v, 4)} ${met ? '>=' : '<'} ${c.min}, n = ${n}` };
  }
  if (c.below !== undefined || c.above !== undefined || c.atMost !== undefined || c.atLeast !== undefined) {
    const path = c.below ?? c.above ?? c.atMost ?? c.atLeast;
    const ref = get(ev, path);
    if (typeof ref !== 'number')
      return { met: null, text: path.startsWith('twin.') ? `${name}: the twin run is not evaluated yet` : `eval.json has no ${path}` };
    const [met, op] =
      c.below !== undefined
        ? [v < ref, v < ref ? '<' : '>=']
        : c.above !== undefined
          ? [v > ref, v > ref ? '>' : '<=']
          : c.atMost !== undefined
            ? [v <= ref, v <= ref ? '<=' : '>']
            : [v >= ref, v >= ref ? '>=' : '<'];
    return { met, text: `${name} ${fmt(v, 4)} ${op} ${fmt(ref, 4)} (${path.split('.')[0]}), n = ${n}` };
  }
  return { met: null, text: 'unknown check' };
}

/** What a generator's eval compared: the generated and real test images, and the feature net that read both. */
function generatorJudge(ev) {
  if (ev.emojiNet) {
    const size = ev.evaluatedSize ? ` (Noto, ${ev.evaluatedSize}x${ev.evaluatedSize})` : '';
    const drawn = ev.conditional ? `${ev.n} generated images (one per test caption)` : `${ev.n} generated images`;
    return `${drawn} vs ${ev.n} ${ev.dataset} test images${size}, emoji-net features (${ev.emojiNet.featureDim} wide; category test accuracy ${fmt(100 * ev.emojiNet.testAccuracy)}%)`;
  }
  return `${ev.n} generated images vs ${ev.n} MNIST test images${ev.lenet ? `, LeNet features (MNIST test accuracy ${fmt(100 * ev.lenet.testAccuracy)}%)` : ''}`;
}

function metricsTable(ev) {
  if (ev.kind === 'generator') {
    const row = (name, m) =>
      `| ${name} | ${fmt(m.fd)} | ${fmt(m.kid, 3)} +- ${fmt(m.kidStd, 3)} | ${fmt(m.precision, 3)} | ${fmt(m.recall, 3)} |`;
    return [
      `${generatorJudge(ev)}, eval seed ${ev.seed}, ${ev.batchStats ? 'batch statistics' : 'running statistics'}:`,
      '',
      '| | FD | KID | precision | recall |',
      '| --- | --- | --- | --- | --- |',
      row('shipped weights', ev.metrics),
      row("untrained (the run's seeded init)", ev.untrained),
      row(`real vs real (${ev.n} training images)`, ev.realReference),
    ].join('\n');
  }
  if (ev.kind === 'translation') {
    const row = (name, m) => (m ? `| ${name} | ${fmt(m.l1, 4)} | ${fmt(m.psnr)} | ${fmt(m.ssim, 4)} |` : '');
    return [
      `${ev.n} held-out pairs:`,
      '',
      '| | L1 | PSNR (dB) | SSIM |',
      '| --- | --- | --- | --- |',
      row('shipped weights', ev.metrics),
      row('untrained', ev.untrained),
      row('identity (output = input)', ev.identity),
      row(`training set's mean image${ev.meanImage?.trainingPairs ? ` (${ev.meanImage.trainingPairs} pairs)` : ''}`, ev.meanImage),
    ]
      .filter((line, i) => line || i === 1)
      .join('\n');
  }
  return '```json\n' + JSON.stringify(ev.metrics ?? ev, null, 2) + '\n```';
}

/**
 * The judges section: each file of zoo/judges/ (the networks gan eval scores with, trained by this
 * engine once and shipped so a fresh clone trains none) with what its metadata records.
 */
export function renderJudges(zoo) {
  const dir = join(zoo, 'judges');
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.safetensors'))
        .sort()
    : [];
  const lines = [
    '## Judges',
    '',
    "The networks `gan eval` scores with (docs/metrics.md), and the baselines it compares a model against (Triple-GAN's supervised-only classifier), shipped in `zoo/judges/` under their cache file's name (float32, as trained).",
    '`gan eval` reads a judge from there first ($GAN_JUDGES_DIR overrides the folder), then from the metrics cache',
    "(.cache/metrics/, $GAN_METRICS_CACHE), and trains it only when neither holds a file whose metadata matches the loader's",
    'recipe and format (metrics/classifier_cache.ts).',
    '',
  ];
  if (!files.length) return [...lines, 'None shipped yet: `gan eval` trains each judge on first use.'].join('\n');
  lines.push('| file | recipe | test accuracy | training time | size |', '| --- | --- | --- | --- | --- |');
  for (const f of files) {
    const m = readSafetensors(join(dir, f)).metadata;
    const acc = Number(m.test_accuracy);
    lines.push(
      `| [${f}](${relative(join(ROOT, 'docs'), join(dir, f)).split(sep).join('/')}) | \`${m.recipe ?? m.key ?? '?'}\`${m.format_version ? ` (format ${m.format_version})` : ''} | ${Number.isFinite(acc) ? `${fmt(100 * acc)}%${m.test_images ? ` of ${m.test_images}` : ''}` : '-'} | ${m.train_seconds ? `${fmt(Number(m.train_seconds), 0)} s` : '-'} | ${(statSync(join(dir, f)).size / 1e6).toFixed(2)} MB |`,
    );
  }
  return lines.join('\n');
}

/**
 * docs/zoo.md's text. `withCurves`: the models whose curves.svg the caller has just computed (the
 * cards command passes them, so metrics.jsonl is parsed once); without it, each model's metrics are read here.
 */
export function renderCards(zoo, withCurves = null) {
  const models = existsSync(zoo)
    ? readdirSync(zoo)
        .filter((m) => existsSync(join(zoo, m, 'recipe.json')))
        .sort()
    : [];
  const rel = (p) => relative(join(ROOT, 'docs'), p).split(sep).join('/');
  const summary = [];
  const cards = [];
  for (const m of models) {
    const dir = join(zoo, m);
    const recipe = readJson(join(dir, 'recipe.json'));
    const weights = join(dir, `${m}.safetensors`);
    const shipped = existsSync(weights);
    const run = existsSync(join(dir, 'run.json')) ? readJson(join(dir, 'run.json')) : null;
    const ev = existsSync(join(dir, 'eval.json')) ? readJson(join(dir, 'eval.json')) : null;
    const resume = existsSync(join(dir, 'resume', 'run.json')) ? readJson(join(dir, 'resume', 'run.json')) : null;
    const step = shipped ? Number(readSafetensors(weights).metadata.step) : null;
    const total = recipe.flags.steps ?? run?.settings?.steps;
    const evalOk = ev && ev.step === step ? ev : null;
    const twin = readTwin(dir, recipe);
    const judged = judgedEval(dir, recipe, evalOk, twin);
    const verdict = judgeTarget(recipe.target, judged);
    const _h = run ? summarizeHistory(run) : null;
    const flags = Object.entries(recipe.flags)
      .map(([k, v]) => (v === true ? `--${k}` : `--${k} ${v}`))
      .join(' ');
    const resumeStep = resume ? summarizeHistory(resume).step : null;
    const status = !shipped
      ? resume
        ? `training: a checkpoint at step ${resumeStep} of ${total} (resumable, see below), no weights shipped yet`
        : 'not trained yet'
      : step >= total
        ? 'finished'
        : `stopped at step ${step} of ${total}${resume ? ` (resumable from step ${resumeStep}, see below)` : ''}`;
    const resultWord = verdict.met === true ? 'met' : verdict.met === false ? 'missed' : verdict.text;
    summary.push(
      `| [${m}](#${m}) | ${status} | ${resultWord}${verdict.met === false ? ` (${verdict.text.split(',')[0]})` : ''} | ${shipped ? `${(statSync(weights).size / 1e6).toFixed(2)} MB` : '-'} |`,
    );
    const lines = [`## ${m}`, ''];
    lines.push(
      `- **Reproduce:** \`gan train ${m} --recipe zoo\` (= \`gan train ${m} ${flags}\`, [recipe.json](${rel(join(dir, 'recipe.json'))}))${recipe.why ? `: ${recipe.why}` : ''}`,
    );
    lines.push(`- **Status:** ${status}`);
    const record = run ?? resume;
    const hr = record ? summarizeHistory(record) : null;
    if (record && hr && hr.segments) {
      const run = record;
      const h = hr;
      const fromRecipe = run.preset === 'zoo';
      lines.push(
        `- **Steps:** ${h.step} of ${total} (batch ${run.settings.batch}, ${run.dataset}), seed ${run.seed}${fromRecipe ? '' : ` (preset ${run.preset}, not --recipe zoo)`}`,
      );
      lines.push(`- **Wall time:** ${duration(h.wallSeconds)} of training in ${h.segments} process${h.segments === 1 ? '' : 'es'}`);
      lines.push(`- **Adapter:** ${h.adapters.map((a) => `\`${a}\``).join(', ')}`);
      lines.push(`- **Commit:** ${h.commits.map((c) => `\`${c}\``).join(', ')}`);
      lines.push(
        `- **Commands:** ${run.history.map((s) => `\`${s.command}\` (steps ${s.startStep}-${s.endStep}, ${duration(s.wallSeconds)})`).join('; ')}`,
      );
    }
    if (shipped)
      lines.push(
        `- **Weights:** [${m}.safetensors](${rel(weights)}) (${recipe.ship ? recipe.ship.join(', ') : 'all networks'}, float16, step ${step}); \`gan sample --pretrained ${m}\`, \`gan eval --pretrained ${m}${recipe.eval?.args ? ` ${recipe.eval.args.join(' ')}` : ''}\``,
      );
    lines.push(`- **Target:** ${recipe.target?.text ?? 'none stated'}`);
    lines.push(
      `- **Result:** ${verdict.met === true ? '**met**' : verdict.met === false ? '**missed**' : ''}${verdict.met === null ? verdict.text : `: ${verdict.text}`}${ev && !evalOk ? ` (eval.json is of step ${ev.step}, not the shipped step ${step})` : ''}`,
    );
    if (recipe.target?.visual) lines.push(`- ${recipe.target.visual}`);
    if (recipe.twin) lines.push(...twinLines(recipe, twin, evalOk, m, dir, rel(join(dir, 'twin.json'))));
    const seeds = seedsLine(recipe.target, judged && run ? { seed: run.seed, eval: judged } : null, readSeeds(dir));
    lines.push(
      `- **Seeds:** ${seeds ?? `1 (seed ${run?.seed ?? recipe.flags.seed}); other seeds of this recipe not trained (\`gan train ${m} --recipe zoo --seed S\`, then \`node scripts/zoo.mjs seed RUN_DIR\`)`}`,
    );
    if (evalOk)
      lines.push(
        '',
        metricsTable(evalOk),
        '',
        `\`gan eval --pretrained ${m} ${(evalOk.args ?? []).join(' ')}\`, ${fmt(evalOk.seconds, 0)} s.`,
      );
    if (shipped && existsSync(join(dir, 'grid.png')))
      lines.push(
        '',
        `![${m} at step ${step}](${rel(join(dir, 'grid.png'))})`,
        '',
        `\`gan sample --pretrained ${m}\` (the run's fixed sample noise), step ${step}.`,
      );
    if (withCurves ? withCurves.has(m) : curvesFor(dir, recipe) !== null)
      lines.push(
        '',
        `![${m} training curves](${rel(join(dir, 'curves.svg'))})`,
        '',
        `Training curves of the shipped run (metrics.jsonl${recipe.curves ? `: ${recipe.curves.join(', ')}` : ''}).`,
      );
    if (resume) {
      const rs = summarizeHistory(resume);
      lines.push(
        '',
        `**Continue the run** (its float32 checkpoint at step ${rs.step}: networks, optimisers, noise stream and data position, so the continuation is exact):`,
        '',
      );
      lines.push(
        '```sh',
        `mkdir -p runs && cp -r zoo/${m}/resume runs/zoo-${m}`,
        `gan train ${m} --resume runs/zoo-${m}/checkpoint.safetensors`,
        `node scripts/zoo.mjs export runs/zoo-${m}     # weights, grid, eval -> zoo/${m}/`,
        `node scripts/zoo.mjs cards`,
        '```',
      );
    }
    cards.push(lines.join('\n'));
  }
  return [
    '# Trained models (the zoo)',
    '',
    '<!-- Generated by `node scripts/zoo.mjs cards` from zoo/*/ (recipe.json, run.json, eval.json); do not edit. -->',
    '',
    'Weights trained by this engine, shipped in `zoo/<model>/` as float16 safetensors (loaded back into float32).',
    '`gan sample --pretrained MODEL` and `gan eval --pretrained MODEL` use them from a fresh clone; `gan train MODEL --recipe zoo`',
    "reruns a card's training. Each card is generated from the run's own record (run.json: every process that trained it,",
    'with its command, commit, adapter, steps and wall time) and the evaluation of the shipped file (eval.json). A target that',
    'is not met says so, with the measured figure.',
    '',
    'How a model gets here (each step writes files; nothing is typed into this page):',
    '',
    "1. `zoo/MODEL/recipe.json`: `flags` (the run's `gan train` flags, kebab-case, seed and steps included), `ship` (the",
    '   networks `gan sample` / `gan eval` need), `eval.args`, `target` (`text`, and `check`: a figure of eval.json compared',
    '   with a bound or with another figure, e.g. FD <= 3 x the real-vs-real FD), `family`, `why`.',
    '2. `gan train MODEL --recipe zoo --out runs/zoo-MODEL` (with `nice -n 19` on a shared machine; `--resume',
    '   runs/zoo-MODEL/checkpoint.safetensors` continues it exactly). run.json records every process that trained it.',
    '3. `node scripts/zoo.mjs export runs/zoo-MODEL`: float16 weights, run.json, metrics.jsonl, `grid.png` (`gan sample` of',
    '   the shipped file) and `eval.json` (`gan eval` of the shipped file) into zoo/MODEL/. A run that has to stop:',
    '   `node scripts/zoo.mjs resume runs/zoo-MODEL` keeps its float32 checkpoint in zoo/MODEL/resume/.',
    '4. Other seeds (where a run fits): `gan train MODEL --recipe zoo --seed S --out runs/zoo-MODEL-sS`, then',
    '   `node scripts/zoo.mjs seed runs/zoo-MODEL-sS`: its eval into zoo/MODEL/seeds/ (no weights); the card lists the',
    "   target's figures over every seed with their mean and spread.",
    '5. `node scripts/zoo.mjs cards`: this page and the README table (tests/zoo.test.ts checks both are current).',
    '',
    `zoo/ holds ${existsSync(zoo) ? (folderBytes(zoo) / 1e6).toFixed(2) : '0.00'} MB (limit ${ZOO_LIMIT_BYTES / 1e6} MB).`,
    '',
    '| model | status | target | weights |',
    '| --- | --- | --- | --- |',
    ...summary,
    '',
    ...cards.flatMap((c) => [c, '']),
    renderJudges(zoo),
    '',
  ].join('\n');
}

/**
 * README's "Trained models" block (between the zoo:begin / zoo:end markers): per family (recipe.json
 * "family"), each shipped model's grid, step and verdict, linking docs/zoo.md.
 */
export function renderReadmeBlock(zoo) {
  const models = existsSync(zoo)
    ? readdirSync(zoo)
        .filter((m) => existsSync(join(zoo, m, 'recipe.json')))
        .sort()
    : [];
  const rows = [];
  for (const m of models) {
    const dir = join(zoo, m);
    const recipe = readJson(join(dir, 'recipe.json'));
    const weights = join(dir, `${m}.safetensors`);
    if (!existsSync(weights) || !existsSync(join(dir, 'grid.png'))) continue;
    const step = Number(readSafetensors(weights).metadata.step);
    const ev = existsSync(join(dir, 'eval.json')) ? readJson(join(dir, 'eval.json')) : null;
    const judged = judgedEval(dir, recipe, ev && ev.step === step ? ev : null);
    const v = judgeTarget(recipe.target, judged);
    const total = recipe.flags.steps;
    // Seeds: the shipped run's alone, or with the other seeds' (zoo.mjs seed) and on how many the target holds.
    const others = readSeeds(dir);
    const all = others.length && v.met !== null ? judgedSeeds({ seed: recipe.flags.seed, eval: judged }, others) : null;
    const seeds = all ? `${all.length} (target held on ${seedsHeld(recipe.target, all)})` : '1';
    rows.push(
      `| ${recipe.family ?? '-'} | [${m}](docs/zoo.md#${m}) | ![${m}](zoo/${m}/grid.png) | ${step}${step < total ? ` of ${total}` : ''} | ${seeds} | ${v.met === true ? 'met: ' : v.met === false ? 'missed: ' : ''}${v.text} |`,
    );
  }
  return [
    '<!-- zoo:begin (generated by `node scripts/zoo.mjs cards`; do not edit) -->',
    rows.length
      ? [
          '| family | model | trained grid (`gan sample --pretrained MODEL`) | steps | seeds | target (shipped seed) |',
          '| --- | --- | --- | --- | --- | --- |',
          ...rows,
        ].join('\n')
      : 'No trained weights are shipped yet.',
    '<!-- zoo:end -->',
  ].join('\n');
}

/** README.md with its zoo block replaced (unchanged when it has no markers). */
export function readmeWithBlock(readme, zoo) {
  const re = /<!-- zoo:begin[\s\S]*?<!-- zoo:end -->/;
  return re.test(readme) ? readme.replace(re, renderReadmeBlock(zoo)) : readme;
}

// ---- main ----------------------------------------------------------------------------------------

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const [cmd, ...rest] = process.argv.slice(2);
  const { pos, flags } = parseFlags(rest);
  if (cmd === 'export') {
    if (!pos[0]) fail('usage: node scripts/zoo.mjs export RUN_DIR [--no-eval] [--zoo DIR]');
    exportRun(pos[0], flags);
  } else if (cmd === 'resume') {
    if (!pos[0]) fail('usage: node scripts/zoo.mjs resume RUN_DIR [--twin] [--zoo DIR]');
    saveResume(pos[0], flags);
  } else if (cmd === 'twin') {
    if (!pos[0]) fail('usage: node scripts/zoo.mjs twin RUN_DIR [--zoo DIR]');
    twinRun(pos[0], flags);
  } else if (cmd === 'seed') {
    if (!pos[0]) fail('usage: node scripts/zoo.mjs seed RUN_DIR [--zoo DIR]');
    seedRun(pos[0], flags);
  } else if (cmd === 'cards') {
    const out = resolve(flags.out ?? join(ROOT, 'docs', 'zoo.md'));
    const zooDir = zooDirOf(flags);
    const svgs = readdirSync(zooDir)
      .filter((m) => existsSync(join(zooDir, m, 'recipe.json')))
      .map((m) => [m, join(zooDir, m, 'curves.svg'), curvesFor(join(zooDir, m), readJson(join(zooDir, m, 'recipe.json')))])
      .filter(([, , svg]) => svg !== null);
    // The curves first: the cards state the zoo folder's size, which includes them.
    if (!flags.check) for (const [, p, svg] of svgs) writeFileSync(p, svg);
    const text = renderCards(zooDir, new Set(svgs.map(([m]) => m)));
    const readmePath = join(ROOT, 'README.md');
    const readme = readFileSync(readmePath, 'utf8');
    const newReadme = flags.out ? readme : readmeWithBlock(readme, zooDir);
    if (flags.check) {
      for (const [, p, svg] of svgs)
        if (!existsSync(p) || readFileSync(p, 'utf8') !== svg) fail(`${relative(ROOT, p)} is not current: run node scripts/zoo.mjs cards`);
      const cur = existsSync(out) ? readFileSync(out, 'utf8') : '';
      if (cur !== text || newReadme !== readme)
        fail(`${cur !== text ? relative(ROOT, out) : 'README.md'} is not current: run node scripts/zoo.mjs cards`);
    } else {
      writeFileSync(out, text);
      if (newReadme !== readme) writeFileSync(readmePath, newReadme);
      process.stderr.write(`zoo: cards -> ${relative(ROOT, out)}${newReadme !== readme ? ' and README.md' : ''}\n`);
    }
  } else {
    fail('usage: node scripts/zoo.mjs export RUN_DIR | resume RUN_DIR | seed RUN_DIR | twin RUN_DIR | cards [--check]');
  }
}
