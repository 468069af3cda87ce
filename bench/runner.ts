// Runs a benchmark suite on both halves, in one process (or one browser tab), on one adapter: the
// engine (validated, then timed; bench/engine_side.ts) and tfjs-webgpu (bench/tfjs.ts), case by
// case, so both see the same machine state. Logs the table as rows land and returns the
// BenchReport; hooks let the caller keep it (bench/node_run.ts writes the JSON file after every
// case, the page demos/bench/ redraws its table). Browser-safe: no node:* import here; the Node
// parts (file output, host info, CLI) are in bench/node_run.ts and bench/options.ts.
//
// Robustness: each pass runs inside a WebGPU error scope on the engine's device; an exception, a
// GPU validation or out-of-memory error, or a failed validation is recorded on that pass and the
// run goes on. A lost engine device is re-created for the next case. With a deadline, passes stop
// `stepsReserveMs` before it (so the end-to-end steps still run) and steps stop at it; what did not
// run is recorded as skipped. stop() (a page's Stop button) ends the run the same way.

import { initEngine, getGpu, engine, describeAdapter, type Engine } from '../engine/device.js';
import { CONV_PASSES, NORM_PASSES, type Suite } from './suite.js';
import {
  createTfjs,
  timeTfjsCase,
  timeTfjsNorm,
  timeTfjsPyramid,
  timeTfjsAdam,
  timeTfjsDcganStep,
  tfjsPyramidNchw,
  type TfjsHandle,
  type TfjsTiming,
  type TimeOptions,
} from './tfjs.js';
import { loadEngineApi, Missing, type EngineApi } from './engine_api.js';
import {
  runConvPass,
  runNormPass,
  runPyramidPass,
  runAdamPass,
  runEngineStep,
  errorLine,
  type EnginePassResult,
  type EngineTimeOptions,
  type PassOptions,
  type StepSpec,
  type StepOptions,
} from './engine_side.js';
import { randomF32, validatePyramid, hash, type ValidationMode, type ValidationResult } from './validate.js';
import {
  SCHEMA,
  adapterSlug,
  passHeader,
  passRow,
  stepHeader,
  stepRow,
  summaryLines,
  type BenchReport,
  type HostInfo,
  type PassGroup,
  type PassRecord,
  type StepRecord,
  type TfjsOutcome,
  type TfjsStepOutcome,
} from './report.js';

export interface RunOptions {
  suite: Suite;
  /** Case ids, groups (conv, norm, pyramid, adam, steps), `id:pass`, or step ids; empty = all. */
  only: string[];
  tfjs: boolean;
  time: EngineTimeOptions;
  validation: ValidationMode;
  samples: number;
  timeInvalid: boolean;
  /** End-to-end steps: warm-up and timed steps per model (engine and tfjs alike). */
  stepWarmup: number;
  steps: number;
  seed: number;
  /** Epoch ms after which nothing new starts (null: no budget). */
  deadline: number | null;
  /** Passes stop this long before the deadline, leaving the time to the end-to-end steps. */
  stepsReserveMs: number;
  log: (line: string) => void;
  /** Free-form options recorded in the report. */
  recorded: Record<string, unknown>;
  /** The machine the run is on (bench/node_run.ts: Node and OS; the page: the browser). */
  host: HostInfo;
  /** The GPU entry point (default: getGpu(), i.e. navigator.gpu in a page, Dawn under Node). */
  gpu?: GPU;
  /** An engine already started on `gpu` (a page's); default: a new one. Re-created if lost. */
  engine?: Engine;
  /** Called once the report exists (adapter known), before any case runs. */
  onStart?: (r: BenchReport) => void;
  /** Called after every pass and step record and at the end (r.complete set by then). */
  onUpdate?: (r: BenchReport) => void;
  /** Polled before each case: true ends the run there (the rest recorded as skipped, complete: false). */
  stop?: () => boolean;
  /** Called as each pass or step starts: `what` is 'id/pass' or the step id; index counts passes then steps. */
  onBegin?: (what: string, index: number, total: number) => void;
}

/** The training steps of the issue (its step profile's four models), sized per suite. */
export function stepSpecs(suite: Suite): StepSpec[] {
  const d = suite.dcgan;
  const full = suite.name === 'full';
  return [
    {
      id: 'dcgan_step',
      title: d.title,
      file: 'nets/dcgan',
      recipe: 'dcgan',
      batch: d.batch,
      config: { imageSize: d.image, nc: 3, nz: d.nz, ngf: d.ngf, ndf: d.ndf },
      nominalFlops: d.nominalFlops,
    },
    {
      // The paper's model (unet_256, 70x70 PatchGAN, batch norm, dropout, BCE + 100 L1); the reduced
      // suite keeps the layer types at 64 px (a 6-level U-Net) and widths of 8.
      id: 'pix2pix_step',
      title: full ? 'pix2pix 256x256, U-Net-256 + 70x70 PatchGAN, batch 1' : 'pix2pix 64x64, U-Net-64 + PatchGAN at ngf=ndf=8, batch 1',
      file: 'nets/pix2pix',
      recipe: 'pix2pix',
      batch: 1,
      config: full
        ? { imageSize: 256, netG: 'unet_256', netD: 'basic', ngf: 64, ndf: 64, norm: 'batch', dropout: true, ganMode: 'vanilla' }
        : { imageSize: 64, netG: 'unet_64', netD: 'basic', ngf: 8, ndf: 8, norm: 'batch', dropout: true, ganMode: 'vanilla' },
    },
    {
      // CycleGAN's 256 px model (resnet_9blocks, instance norm, LSGAN, image pool); reduced: the same
      // at 64 px and widths of 8.
      id: 'cyclegan_step',
      title: full ? 'CycleGAN 256x256, ResNet-9 G + 70x70 PatchGAN, batch 1' : 'CycleGAN 64x64, ResNet-9 G at ngf=ndf=8, batch 1',
      file: 'nets/cyclegan',
      recipe: 'cyclegan',
      batch: 1,
      config: full
        ? { imageSize: 256, netG: 'resnet_9blocks', netD: 'basic', ngf: 64, ndf: 64, norm: 'instance', ganMode: 'lsgan' }
        : { imageSize: 64, netG: 'resnet_9blocks', netD: 'basic', ngf: 8, ndf: 8, norm: 'instance', ganMode: 'lsgan' },
    },
    {
      // StarGAN (the paper's 128 px model: 6 residual blocks, WGAN-GP with a domain classifier, 5
      // domains); reduced: 32 px, widths 8, 2 residual blocks (its --quick). The batch's label
      // planes hold random values: the step's cost does not depend on them.
      id: 'stargan_step',
      title: full
        ? 'StarGAN 128x128, 5 domains, G 64 / D 64, 6 res blocks, batch 16'
        : 'StarGAN 32x32, 5 domains, widths 8, 2 res blocks, batch 4',
      file: 'nets/stargan',
      recipe: 'stargan',
      batch: full ? 16 : 4,
      config: full
        ? { imageSize: 128, cDim: 5, gConvDim: 64, dConvDim: 64, gRepeatNum: 6, evalTarget: 0 }
        : { imageSize: 32, cDim: 5, gConvDim: 8, dConvDim: 8, gRepeatNum: 2, evalTarget: 0 },
    },
  ];
}

interface PassItem {
  group: PassGroup;
  id: string;
  pass: string;
  kind: string;
  title: string;
  flops: number;
  bytes: number;
  engine: (api: EngineApi, o: PassOptions) => Promise<EnginePassResult>;
  tfjs: (h: TfjsHandle, o: TimeOptions) => Promise<TfjsTiming>;
  /** An extra check of tfjs's output against the CPU reference (the pyramid, whose tfjs code is ours). */
  tfjsCheck?: (h: TfjsHandle) => Promise<ValidationResult>;
}

function passItems(suite: Suite): PassItem[] {
  const items: PassItem[] = [];
  for (const c of suite.convs) {
    for (const p of CONV_PASSES) {
      items.push({
        group: 'conv',
        id: c.id,
        pass: p,
        kind: c.kind,
        title: c.title,
        flops: c.flops(p),
        bytes: c.bytes(p),
        engine: (api, o) => runConvPass(api, c, p, o),
        tfjs: (h, o) => timeTfjsCase(h, c, p, o),
      });
    }
  }
  for (const c of suite.norms) {
    for (const p of NORM_PASSES) {
      items.push({
        group: 'norm',
        id: c.id,
        pass: p,
        kind: c.kind,
        title: c.title,
        flops: c.flops(p),
        bytes: c.bytes(p),
        engine: (api, o) => runNormPass(api, c, p, o),
        tfjs: (h, o) => timeTfjsNorm(h, c, p, o),
      });
    }
  }
  for (const c of suite.pyramids) {
    const shape: [number, number, number, number] = [c.n, c.c, c.h, c.w];
    items.push({
      group: 'pyramid',
      id: c.id,
      pass: 'forward',
      kind: c.kind,
      title: c.title,
      flops: c.flops(),
      bytes: c.bytes(),
      engine: (api, o) => runPyramidPass(api, c, o),
      tfjs: (h, o) => timeTfjsPyramid(h, c, o),
      tfjsCheck: async (h) => {
        const x = randomF32(c.n * c.c * c.h * c.w, hash(c.id));
        return validatePyramid(shape, c.levels - 1, await tfjsPyramidNchw(h, x, shape, c.levels), x);
      },
    });
  }
  for (const c of suite.adams) {
    items.push({
      group: 'adam',
      id: c.id,
      pass: 'step',
      kind: c.kind,
      title: c.title,
      flops: c.flops(),
      bytes: c.bytes(),
      engine: (api, o) => runAdamPass(api, c, o),
      tfjs: (h, o) => timeTfjsAdam(h, c, o),
    });
  }
  return items;
}

/** Whether a case with these tokens (id, group, id:pass) is picked by `only` (empty: everything). */
export function selected(only: readonly string[], tokens: readonly string[]): boolean {
  return only.length === 0 || only.some((o) => tokens.includes(o));
}

/** One (case, pass) of a suite as the runner will run it, without the code (for pickers). */
export interface SuitePass {
  group: PassGroup;
  id: string;
  pass: string;
  kind: string;
  title: string;
  flops: number;
  bytes: number;
  /** What `only` may name it by: id, group, id:pass. */
  tokens: string[];
}

/** The (case, pass) pairs of a suite in run order. */
export function suitePasses(suite: Suite): SuitePass[] {
  return passItems(suite).map(({ group, id, pass, kind, title, flops, bytes }) => ({
    group,
    id,
    pass,
    kind,
    title,
    flops,
    bytes,
    tokens: [id, group, `${id}:${pass}`],
  }));
}

/** What `only` may name a training step by. */
export function stepTokens(s: Pick<StepSpec, 'id'>): string[] {
  return [s.id, 'steps', s.id.replace(/_step$/, '')];
}

/** The ratio of a pass: GPU time on both sides where both have it, else wall clock. */
function ratios(e: EnginePassResult, t: TfjsTiming): Pick<PassRecord, 'ratio' | 'ratio_basis' | 'ratio_wall'> {
  const et = e.timing;
  if (!et || e.status !== 'ok') return {};
  const out: Pick<PassRecord, 'ratio' | 'ratio_basis' | 'ratio_wall'> = {};
  const tWall = t.wall_ms_median ?? (t.method === 'wall' ? t.ms_median : undefined);
  if (tWall !== undefined) out.ratio_wall = tWall / et.wall_ms_median;
  if (et.gpu_ms_median !== undefined && t.method === 'timestamp') {
    out.ratio = t.ms_median / et.gpu_ms_median;
    out.ratio_basis = 'gpu';
  } else if (out.ratio_wall !== undefined) {
    out.ratio = out.ratio_wall;
    out.ratio_basis = 'wall';
  }
  return out;
}

/** Runs fn inside validation + out-of-memory error scopes of the engine's device. */
async function scoped<T>(e: Engine, fn: () => Promise<T>): Promise<{ value: T; gpuError: string | null }> {
  e.device.pushErrorScope('out-of-memory');
  e.device.pushErrorScope('validation');
  let value: T | undefined;
  let thrown: { err: unknown } | null = null;
  try {
    value = await fn();
  } catch (err) {
    thrown = { err };
  }
  // A lost device rejects these; the loss is reported by the next case's ensureEngine.
  const v = await e.device.popErrorScope().catch(() => null);
  const m = await e.device.popErrorScope().catch(() => null);
  if (thrown) throw thrown.err;
  const gpuError = v ? `GPU validation error: ${v.message}` : m ? `GPU out of memory: ${m.message}` : null;
  return { value: value as T, gpuError };
}

/** Runs the suite; resolves with the report (also when cases fail). */
export async function runBench(o: RunOptions): Promise<BenchReport> {
  const t0 = Date.now();
  const log = o.log;
  const gpu = o.gpu ?? (await getGpu());
  let e = o.engine && !o.engine.isLost ? o.engine : await initEngine({ gpu, log: (l) => log(`engine ${l}`) });
  if (o.engine === e) log(`engine adapter: ${describeAdapter(e.adapter)}`);
  const features = [...e.features].sort();
  const report: BenchReport = {
    schema: SCHEMA,
    suite: o.suite.name,
    date: new Date(t0).toISOString(),
    elapsed_s: 0,
    complete: false,
    adapter: {
      ...e.adapter,
      name: describeAdapter(e.adapter),
      slug: adapterSlug(e.adapter),
      features,
      timestamps: e.features.has('timestamp-query'),
    },
    tfjs: null,
    host: o.host,
    options: { ...o.recorded },
    passes: [],
    steps: [],
    notes: [],
  };
  o.onStart?.(report);
  const save = () => {
    report.elapsed_s = (Date.now() - t0) / 1000;
    o.onUpdate?.(report);
  };
  let stopped = false;
  const stopNow = (): boolean => {
    if (!stopped && o.stop?.()) {
      stopped = true;
      report.notes.push(`stopped by the user at ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      log('stopped: the remaining cases are recorded as skipped');
    }
    return stopped;
  };

  let h: TfjsHandle | null = null;
  let tfjsLost = false;
  if (o.tfjs) {
    try {
      h = await createTfjs(gpu);
      report.tfjs = { adapter: h.adapter, timestamps: h.hasTimestamps };
      log(`tfjs   adapter: ${h.adapter}, timestamps ${h.hasTimestamps ? 'yes' : 'no'}`);
      void h.device.lost.then((info) => {
        tfjsLost = true;
        report.notes.push(`tfjs device lost: ${info.reason} ${info.message}`);
      });
    } catch (err) {
      report.tfjs = { error: errorLine(err) };
      report.notes.push(`tfjs unavailable: ${errorLine(err)}`);
      log(`tfjs unavailable: ${errorLine(err)}`);
    }
  }

  const api = await loadEngineApi();
  for (const m of Object.values(api)) if (m instanceof Missing) log(`engine ${m.message}`);

  const passOpts: PassOptions = { time: o.time, validation: o.validation, samples: o.samples, timeInvalid: o.timeInvalid };
  const tfjsTime: TimeOptions = {
    warmup: o.time.warmup,
    repeats: o.time.repeats,
    targetMs: o.time.targetMs,
    maxInner: o.time.maxInner,
    method: o.time.profile ? 'auto' : 'wall',
  };
  const passDeadline = o.deadline === null ? null : o.deadline - o.stepsReserveMs;

  const ensureEngine = async (): Promise<void> => {
    if (!engine().isLost) return;
    report.notes.push(`engine device lost before a case at ${((Date.now() - t0) / 1000).toFixed(0)} s; re-created`);
    log('engine device lost; re-creating it');
    e = await initEngine({ gpu, log: false });
  };

  // ---- per-pass cases ---------------------------------------------------------------------------
  const items = passItems(o.suite).filter((it) => selected(o.only, [it.id, it.group, `${it.id}:${it.pass}`]));
  const specs = o.steps > 0 ? stepSpecs(o.suite).filter((s) => selected(o.only, stepTokens(s))) : [];
  const total = items.length + specs.length;
  let begun = 0;
  if (items.length) {
    log('');
    log(passHeader());
  }
  let budgetSkips = 0;
  for (const it of items) {
    const rec: PassRecord = {
      id: it.id,
      pass: it.pass,
      group: it.group,
      kind: it.kind,
      title: it.title,
      flops: it.flops,
      bytes: it.bytes,
      engine: { status: 'skipped' },
    };
    if (stopNow()) {
      rec.engine = { status: 'skipped', message: 'skipped: run stopped' };
      if (h) rec.tfjs = { status: 'skipped', message: 'run stopped' };
      report.passes.push(rec);
      continue;
    }
    if (passDeadline !== null && Date.now() > passDeadline) {
      rec.engine = { status: 'skipped', message: 'skipped: time budget spent' };
      if (h) rec.tfjs = { status: 'skipped', message: 'time budget spent' };
      report.passes.push(rec);
      if (budgetSkips++ === 0) log(`time budget: passes from ${it.id}/${it.pass} on are not run (recorded as skipped)`);
      continue;
    }
    o.onBegin?.(`${it.id}/${it.pass}`, begun++, total);
    const tE = performance.now();
    try {
      await ensureEngine();
      const { value, gpuError } = await scoped(e, () => it.engine(api, passOpts));
      rec.engine = value;
      if (gpuError) {
        rec.engine.status = 'failed';
        rec.engine.message = (rec.engine.message ? rec.engine.message + '; ' : '') + gpuError;
      }
    } catch (err) {
      rec.engine = { status: 'failed', message: errorLine(err) };
    }
    rec.engine_s = (performance.now() - tE) / 1000;
    const tT = performance.now();
    if (h && !tfjsLost) {
      try {
        const t = await it.tfjs(h, tfjsTime);
        const outcome: TfjsOutcome = { status: 'ok', ...t };
        rec.tfjs = outcome;
        Object.assign(rec, ratios(rec.engine, t));
        if (it.tfjsCheck) {
          const v = await it.tfjsCheck(h);
          rec.tfjs_validation = v;
          if (!v.ok) report.notes.push(`tfjs ${it.id}: output differs from the CPU reference: ${v.message}`);
        }
      } catch (err) {
        rec.tfjs = { status: 'failed', message: errorLine(err) };
      }
    } else if (h) {
      rec.tfjs = { status: 'skipped', message: 'tfjs device lost' };
    }
    if (h) rec.tfjs_s = (performance.now() - tT) / 1000;
    report.passes.push(rec);
    log(passRow(rec));
    save();
  }

  // ---- end-to-end steps -------------------------------------------------------------------------
  if (specs.length) {
    log('');
    log(stepHeader());
    for (const s of specs) {
      const rec: StepRecord = { id: s.id, title: s.title, batch: s.batch, engine: { status: 'skipped' } };
      if (stopNow() || (o.deadline !== null && Date.now() > o.deadline)) {
        rec.engine = { status: 'skipped', message: stopped ? 'skipped: run stopped' : 'skipped: time budget spent' };
        report.steps.push(rec);
        log(stepRow(rec));
        continue;
      }
      o.onBegin?.(s.id, begun++, total);
      const stepOpts: StepOptions = { warmup: o.stepWarmup, steps: o.steps, profile: o.time.profile, seed: o.seed };
      try {
        await ensureEngine();
        const { value, gpuError } = await scoped(e, () => runEngineStep(s, stepOpts));
        rec.engine = value;
        if (gpuError) {
          rec.engine.status = 'failed';
          rec.engine.message = (rec.engine.message ? rec.engine.message + '; ' : '') + gpuError;
        }
      } catch (err) {
        rec.engine = { status: 'failed', message: errorLine(err) };
      }
      // tfjs has the DCGAN step only (bench/tfjs.ts); pix2pix and CycleGAN are engine-only.
      if (s.id === 'dcgan_step' && h && !tfjsLost) {
        try {
          const t = await timeTfjsDcganStep(h, o.suite.dcgan, { warmup: o.stepWarmup, steps: o.steps });
          const outcome: TfjsStepOutcome = { status: 'ok', ...t };
          rec.tfjs = outcome;
          if (rec.engine.status === 'ok' && rec.engine.ms_median) rec.ratio = t.ms_median / rec.engine.ms_median;
        } catch (err) {
          rec.tfjs = { status: 'failed', message: errorLine(err) };
        }
      }
      report.steps.push(rec);
      log(stepRow(rec));
      save();
    }
  }

  report.complete = !stopped;
  save();
  log('');
  for (const l of summaryLines(report)) log(l);
  for (const n of report.notes) log(`note: ${n}`);
  return report;
}
