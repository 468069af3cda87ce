// The benchmark's result file (its JSON schema as TypeScript types) and its terminal tables.
// One BenchReport per run: the adapter, the options, one PassRecord per (case, pass) with the
// engine's validation and timing, tfjs's timing and their ratio, and one StepRecord per end-to-end
// training step. bench/compare.ts reads two of these files.

import type { AdapterSummary } from '../engine/device.js';
import type { EnginePassResult, EngineStepResult, KernelCount } from './engine_side.js';
import type { EsrganRecord } from './esrgan.js';
import type { DcganTiming, TfjsTiming } from './tfjs.js';
import type { ValidationResult } from './validate.js';

export const SCHEMA = 'webgpu-gan-bench/1';

export type TfjsOutcome = ({ status: 'ok' } & TfjsTiming) | { status: 'failed' | 'skipped'; message: string };
export type TfjsStepOutcome = ({ status: 'ok' } & DcganTiming) | { status: 'failed' | 'skipped'; message: string };

export type PassGroup = 'conv' | 'norm' | 'pyramid' | 'adam';

export interface PassRecord {
  id: string;
  pass: string;
  group: PassGroup;
  kind: string;
  title: string;
  flops: number;
  bytes: number;
  engine: EnginePassResult;
  tfjs?: TfjsOutcome;
  /** tfjs ms / engine ms on the same basis (> 1: the engine is faster). */
  ratio?: number;
  /** 'gpu': both timed with timestamp queries; 'wall': wall clock on both sides. */
  ratio_basis?: 'gpu' | 'wall';
  /** Same ratio on wall clock per pass (host overhead included on both sides). */
  ratio_wall?: number;
  /** tfjs's pyramid output against the CPU reference (the pyramid's tfjs code is the harness's own). */
  tfjs_validation?: ValidationResult;
  /** Seconds each side took for this record (validation, compilation, warm-up and timing). */
  engine_s?: number;
  tfjs_s?: number;
}

export interface StepRecord {
  id: string;
  title: string;
  batch: number;
  engine: EngineStepResult;
  tfjs?: TfjsStepOutcome;
  /** tfjs ms / engine ms per step. */
  ratio?: number;
}

/** The machine a run was on: Node and the OS (bench/node_run.ts), or the browser (demos/bench/). */
export interface HostInfo {
  /** Node's version; absent for a run in a browser tab. */
  node?: string;
  platform: string;
  arch: string;
  cpus: number;
  cpu_model: string;
  /** A run in a browser tab: its user agent. */
  user_agent?: string;
}

export interface BenchReport {
  schema: typeof SCHEMA;
  suite: 'reduced' | 'full';
  /** ISO time the run started. */
  date: string;
  elapsed_s: number;
  /** false while the run is in progress or when it was cut short (time budget, crash). */
  complete: boolean;
  adapter: AdapterSummary & { name: string; slug: string; features: string[]; timestamps: boolean };
  tfjs: { adapter: string; timestamps: boolean } | { error: string } | null;
  host: HostInfo;
  options: Record<string, unknown>;
  passes: PassRecord[];
  steps: StepRecord[];
  /** Whole-network ESRGAN inference (bench/esrgan.ts), when run. */
  esrgan?: EsrganRecord[];
  notes: string[];
}

// ---- naming -------------------------------------------------------------------------------------

/** Lower-case words joined by '-'. */
export function slugify(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .replace(/-+/g, '-');
}

/** 'nvidia-h200', 'mesa-llvmpipe-llvm-15-0-6-256-bits', ... (vendor once, then the device). */
export function adapterSlug(a: Pick<AdapterSummary, 'vendor' | 'architecture' | 'device' | 'description'>): string {
  const vendor = slugify(a.vendor);
  const dev = slugify(a.device || a.description || a.architecture) || 'unknown';
  const s = !vendor || dev.startsWith(vendor) ? dev : `${vendor}-${dev}`;
  return s.slice(0, 60).replace(/-+$/, '');
}

/** bench/results/<adapter>-<YYYY-MM-DD>-<suite>.json */
export function defaultResultPath(r: Pick<BenchReport, 'adapter' | 'date' | 'suite'>): string {
  return `bench/results/${r.adapter.slug}-${r.date.slice(0, 10)}-${r.suite}.json`;
}

/**
 * A result file's text as a BenchReport, checked enough to chart and compare it (schema, passes
 * and steps arrays, adapter); `source` names the file in the error.
 */
export function parseReport(text: string, source: string): BenchReport {
  let r: Partial<BenchReport> | null;
  try {
    r = JSON.parse(text) as Partial<BenchReport> | null;
  } catch (e) {
    throw new Error(`${source} is not JSON: ${String((e as Error).message).split('\n')[0]}`);
  }
  if (!r || typeof r !== 'object' || r.schema !== SCHEMA) {
    throw new Error(
      `${source} is not a benchmark result (schema '${String(r?.schema)}', expected '${SCHEMA}' as in the files \`npm run bench\` writes)`,
    );
  }
  if (!Array.isArray(r.passes) || !Array.isArray(r.steps) || !r.adapter || typeof r.adapter !== 'object') {
    throw new Error(`${source}: schema '${SCHEMA}' but no passes/steps arrays or no adapter: the file is truncated or edited`);
  }
  r.notes ??= [];
  return r as BenchReport;
}

/** '<adapter>-<YYYY-MM-DD>-<suite>.json', the file name of defaultResultPath(). */
export function resultFileName(r: Pick<BenchReport, 'adapter' | 'date' | 'suite'>): string {
  return defaultResultPath(r).split('/').pop()!;
}

// ---- numbers ------------------------------------------------------------------------------------

/** Three significant digits, no exponent for the usual ranges. */
export function fmt3(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  const a = Math.abs(x);
  if (a === 0) return '0';
  if (a >= 1000) return x.toFixed(0);
  if (a >= 100) return x.toFixed(1);
  if (a >= 10) return x.toFixed(2);
  if (a >= 1) return x.toFixed(3);
  if (a >= 0.001) return x.toPrecision(3);
  return x.toExponential(1);
}

export function fmtRatio(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? '-' : `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}x`;
}

function pad(s: string, n: number, right = false): string {
  if (s.length > n) s = s.slice(0, n - 1) + '~';
  return right ? s.padStart(n) : s.padEnd(n);
}

export function geomean(xs: readonly number[]): number {
  const v = xs.filter((x) => Number.isFinite(x) && x > 0);
  if (!v.length) return NaN;
  return Math.exp(v.reduce((s, x) => s + Math.log(x), 0) / v.length);
}

export function kernelSummary(ks: readonly KernelCount[] | undefined, width = 44): string {
  if (!ks || !ks.length) return '';
  const s = ks.map((k) => (k.count > 1 ? `${k.kernel}x${k.count}` : k.kernel)).join(' ');
  return s.length > width ? s.slice(0, width - 1) + '~' : s;
}

// ---- pass table ---------------------------------------------------------------------------------

const W = { id: 18, pass: 17, ms: 9, rate: 8, check: 13 };

export function passHeader(): string {
  const h =
    pad('case', W.id) +
    pad('pass', W.pass) +
    pad('eng ms', W.ms, true) +
    pad('wall ms', W.ms, true) +
    pad('GFLOP/s', W.rate, true) +
    pad('GB/s', W.rate, true) +
    ' |' +
    pad('tfjs ms', W.ms, true) +
    pad('wall ms', W.ms, true) +
    pad('GFLOP/s', W.rate, true) +
    ' |' +
    pad('tfjs/eng', W.ms, true) +
    '  ' +
    pad('check', W.check) +
    ' engine kernels';
  return h + '\n' + '-'.repeat(h.length);
}

/** 'ok 2e-7 F' (full) / 'ok 1e-6 S2000' (sampled) / 'BAD 3e-2' / 'NaN 12' / 'skip' / 'fail'. */
export function checkCell(e: EnginePassResult): string {
  if (e.status === 'skipped') return 'skip';
  const v = e.validation;
  if (!v) return e.status === 'failed' ? 'fail' : '-';
  const nonFinite = v.outputs.reduce((s, o) => s + o.nonFinite, 0);
  if (nonFinite) return `NaN ${nonFinite}`;
  const checked = v.outputs.reduce((s, o) => s + o.checked, 0);
  const how = v.method === 'full' ? 'F' : `S${checked}`;
  return `${v.ok ? 'ok' : 'BAD'} ${v.err === 0 ? '0' : v.err.toExponential(0)} ${how}`;
}

export function passRow(r: PassRecord): string {
  const e = r.engine;
  const t = e.timing;
  const tj = r.tfjs?.status === 'ok' ? r.tfjs : undefined;
  let row =
    pad(r.id, W.id) +
    pad(r.pass, W.pass) +
    pad(t ? fmt3(t.gpu_ms_median ?? t.ms_median) : '-', W.ms, true) +
    pad(t ? fmt3(t.wall_ms_median) : '-', W.ms, true) +
    pad(t ? fmt3(t.gflops) : '-', W.rate, true) +
    pad(t ? fmt3(t.gbps) : '-', W.rate, true) +
    ' |' +
    pad(tj ? fmt3(tj.ms_median) : r.tfjs ? r.tfjs.status : '-', W.ms, true) +
    pad(tj ? fmt3(tj.wall_ms_median) : '-', W.ms, true) +
    pad(tj ? fmt3(tj.gflops) : '-', W.rate, true) +
    ' |' +
    pad(fmtRatio(r.ratio), W.ms, true) +
    '  ' +
    pad(checkCell(e), W.check) +
    ' ' +
    kernelSummary(t?.kernels);
  if (e.status !== 'ok' && e.message) row += `\n    engine ${e.status}: ${e.message}`;
  if (r.tfjs && r.tfjs.status !== 'ok') row += `\n    tfjs ${r.tfjs.status}: ${r.tfjs.message}`;
  return row;
}

// ---- step table ---------------------------------------------------------------------------------

export function stepHeader(): string {
  const h =
    pad('training step', 34) +
    pad('eng ms', W.ms, true) +
    pad('GPU ms', W.ms, true) +
    pad('host ms', W.ms, true) +
    pad('GFLOP/s', W.rate, true) +
    pad('disp.', 7, true) +
    ' |' +
    pad('tfjs ms', W.ms, true) +
    pad('GFLOP/s', W.rate, true) +
    ' |' +
    pad('tfjs/eng', W.ms, true) +
    '  step statistics';
  return h + '\n' + '-'.repeat(h.length);
}

export function stepRow(r: StepRecord): string {
  const e = r.engine;
  const tj = r.tfjs?.status === 'ok' ? r.tfjs : undefined;
  // The step's own statistics (losses first when it names them so), four at most.
  const stats = Object.entries(e.stats ?? {}).sort(([a], [b]) => Number(!/loss/i.test(a)) - Number(!/loss/i.test(b)));
  const losses = stats
    .slice(0, 4)
    .map(([k, v]) => `${k} ${fmt3(v)}`)
    .join(', ');
  let row =
    pad(`${r.id} (batch ${r.batch})`, 34) +
    pad(fmt3(e.ms_median), W.ms, true) +
    pad(fmt3(e.gpu_ms), W.ms, true) +
    pad(fmt3(e.encode_ms_median), W.ms, true) +
    pad(fmt3(e.gflops), W.rate, true) +
    pad(e.dispatches !== undefined ? String(e.dispatches) : '-', 7, true) +
    ' |' +
    pad(tj ? fmt3(tj.ms_median) : r.tfjs ? r.tfjs.status : '-', W.ms, true) +
    pad(tj ? fmt3(tj.gflops) : '-', W.rate, true) +
    ' |' +
    pad(fmtRatio(r.ratio), W.ms, true) +
    '  ' +
    losses;
  const ps = e.per_step;
  if (ps) {
    row += `\n    per step: ${fmt3(ps.dispatches)} dispatches, ${fmt3(ps.submits)} submits, ${fmt3(ps.bind_groups_created)} bind groups / ${fmt3(ps.buffers_created)} buffers / ${fmt3(ps.pipelines_compiled)} pipelines created`;
  }
  if (e.gpu_by_op?.length) {
    const top = e.gpu_by_op.slice(0, 8).map((o) => `${o.op} ${fmt3(o.ms)} (${fmt3(o.dispatches)})`);
    row += `\n    GPU ms by op (dispatches): ${top.join(', ')}${e.gpu_by_op.length > 8 ? ', ...' : ''}`;
  }
  if (e.status !== 'ok' && e.message) row += `\n    engine ${e.status}: ${e.message}`;
  if (r.tfjs && r.tfjs.status !== 'ok') row += `\n    tfjs ${r.tfjs.status}: ${r.tfjs.message}`;
  return row;
}

// ---- summary ------------------------------------------------------------------------------------

export function summaryLines(r: BenchReport): string[] {
  const lines: string[] = [];
  const by = (s: string) => r.passes.filter((p) => p.engine.status === s).length;
  lines.push(
    `engine passes: ${by('ok')} ok, ${by('invalid')} invalid, ${by('failed')} failed, ${by('skipped')} skipped (of ${r.passes.length})`,
  );
  const leaks = r.passes.filter((p) => (p.engine.leaked_buffers ?? 0) > 0);
  if (leaks.length)
    lines.push(`buffers left alive after: ${leaks.map((p) => `${p.id}/${p.pass} (${p.engine.leaked_buffers})`).join(', ')}`);
  for (const g of ['conv', 'norm', 'pyramid', 'adam'] as const) {
    const rs = r.passes.filter((p) => p.group === g && p.ratio !== undefined).map((p) => p.ratio!);
    if (rs.length)
      lines.push(
        `tfjs/engine, ${g}: geometric mean ${fmtRatio(geomean(rs))} over ${rs.length} passes (min ${fmtRatio(Math.min(...rs))}, max ${fmtRatio(Math.max(...rs))})`,
      );
  }
  for (const p of ['forward', 'input_grad', 'weight_grad'] as const) {
    const rs = r.passes.filter((x) => x.group === 'conv' && x.pass === p && x.ratio !== undefined).map((x) => x.ratio!);
    if (rs.length) lines.push(`  conv ${p}: ${fmtRatio(geomean(rs))}`);
  }
  return lines;
}
