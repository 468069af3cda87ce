// The benchmark as a page: bench/runner.ts's runBench (the same suite, validation, timing and
// tfjs-webgpu side by side as `npm run bench`) on this tab's navigator.gpu, with a picker for the
// suite and its kernels, a table and a bar chart of tfjs time / engine time per pass, the report as
// a download in the format of bench/results/*.json, and any such file loaded back to chart it
// without running anything (the committed runs are served with the page under ./results/, listed
// in ./results/index.json by scripts/build.mjs).
//
// Timing: timestamp queries where the adapter has 'timestamp-query' (and the box is ticked), else
// wall clock between queue.onSubmittedWorkDone() fences around many passes (bench/engine_side.ts,
// bench/tfjs.ts). tfjs is bundled into this page (@tensorflow/tfjs-backend-webgpu) and gets its own
// device on the same adapter.
//
// URL parameters: suite [reduced], only (comma list as `npm run bench --only`: ids, groups,
// id:pass, step ids; the training steps only when named, or with steps), repeats [5], warmup [2],
// targetMs [20], maxInner [50], tfjs [1], profile [1], steps (timed training steps per model; > 0
// ticks the steps when `only` is absent), esrgan (1 or quick / full: UpscalerJS ESRGAN inference
// after the kernels, model files from ../upscalerjs/), autorun [0], results (a file under
// ./results/ to show at load). State for tests and the console: window.__bench.

import type { Engine } from '../../engine/device.js';
import { errorLine } from '../../bench/engine_side.js';
import {
  checkCell,
  fmt3,
  fmtRatio,
  kernelSummary,
  parseReport,
  resultFileName,
  summaryLines,
  type BenchReport,
  type HostInfo,
  type PassRecord,
  type StepRecord,
} from '../../bench/report.js';
import { runBench, selected, stepSpecs, stepTokens, suitePasses, type SuitePass } from '../../bench/runner.js';
import { suiteByName, type Suite } from '../../bench/suite.js';
import { byId, el, intParam, setStatus } from '../shared/dom.js';
import { downloadBytes } from '../shared/files.js';
import { adapterLine, renderStartFailure, startEngine } from '../shared/webgpu.js';
import { RatioChart, chartBars } from './chart.js';
import { esrganCases, runEsrganBench, type EsrganMode, type EsrganRecord, type ModelSource } from '../../bench/esrgan.js';
import { createTfjs } from '../../bench/tfjs.js';
import { concatBytes, type TfjsLayersModelJson } from '../../pretrained/tfjs_layers.js';

export interface BenchPageHandle {
  /** 'starting' until WebGPU is up (or known absent), then 'idle', 'running', 'done', 'loaded', 'error'. */
  state: 'starting' | 'idle' | 'running' | 'done' | 'loaded' | 'error';
  /** The report shown (a run in this tab, finished or in progress, or a loaded file). */
  report: BenchReport | null;
  /** Where it came from: 'this tab' or the file's name. */
  source: string;
  error: string | null;
  webgpu: boolean;
  /** Bars the chart drew in its last redraw. */
  drawnBars(): number;
}

declare global {
  interface Window {
    __bench?: BenchPageHandle;
  }
}

const params = new URLSearchParams(location.search);

const ui = {
  suite: byId<HTMLSelectElement>('suite'),
  repeats: byId<HTMLInputElement>('repeats'),
  warmup: byId<HTMLInputElement>('warmup'),
  targetMs: byId<HTMLInputElement>('target-ms'),
  maxInner: byId<HTMLInputElement>('max-inner'),
  tfjs: byId<HTMLInputElement>('tfjs'),
  profile: byId<HTMLInputElement>('profile'),
  steps: byId<HTMLInputElement>('steps'),
  cases: byId<HTMLTableElement>('cases'),
  selCount: byId('sel-count'),
  run: byId<HTMLButtonElement>('btn-run'),
  stop: byId<HTMLButtonElement>('btn-stop'),
  progress: byId<HTMLProgressElement>('progress'),
  status: byId('status'),
  timingNote: byId('timing-note'),
  download: byId<HTMLButtonElement>('btn-download'),
  loadFile: byId<HTMLInputElement>('load-file'),
  committed: byId<HTMLSelectElement>('committed'),
  showCommitted: byId<HTMLButtonElement>('btn-committed'),
  runInfo: byId('run-info'),
  summary: byId('summary'),
  passes: byId<HTMLTableElement>('passes'),
  stepsBlock: byId('steps-block'),
  stepsTable: byId<HTMLTableElement>('steps-table'),
  esrgan: byId<HTMLInputElement>('esrgan'),
  esrganMode: byId<HTMLSelectElement>('esrgan-mode'),
  esrganTable: byId<HTMLTableElement>('esrgan-table'),
  esrganBlock: byId('esrgan-block'),
  log: byId('log'),
};

const chart = new RatioChart(byId('chart'));
let engineHandle: Engine | null = null;
let stopRequested = false;

const handle: BenchPageHandle = {
  state: 'starting',
  report: null,
  source: '',
  error: null,
  webgpu: false,
  drawnBars: () => chart.drawnBars,
};
window.__bench = handle;

// ---- the kernel picker --------------------------------------------------------------------------

/** The checked (case, pass) tokens 'id:pass' of the picker. */
function checkedPasses(): string[] {
  return Array.from(ui.cases.querySelectorAll<HTMLInputElement>('input[data-pass]'))
    .filter((c) => c.checked)
    .map((c) => c.dataset.token!);
}

/** The checked training steps' ids. */
function checkedSteps(): string[] {
  return Array.from(ui.cases.querySelectorAll<HTMLInputElement>('input[data-step]'))
    .filter((c) => c.checked)
    .map((c) => c.dataset.token!);
}

function updateCount(): void {
  const all = ui.cases.querySelectorAll('input[data-pass]').length;
  const steps = checkedSteps().length;
  ui.selCount.textContent = `${checkedPasses().length} of ${all} passes selected${steps ? `, ${steps} training step${steps > 1 ? 's' : ''}` : ''}`;
}

/**
 * One row per case: its passes as checkboxes, checked where `only` (the URL's) picks them; then a
 * row of the training steps, ticked only where `only` names them or `withSteps` (steps=N in the URL).
 */
function renderPicker(suite: Suite, only: readonly string[], withSteps: boolean): void {
  const byCase = new Map<string, SuitePass[]>();
  for (const p of suitePasses(suite)) byCase.set(p.id, [...(byCase.get(p.id) ?? []), p]);
  const rows = [...byCase.values()].map((ps) =>
    el(
      'tr',
      {},
      el('td', {}, el('code', {}, ps[0].id)),
      el(
        'td',
        {},
        ...ps.map((p) => {
          const box = el('input', { type: 'checkbox', 'data-token': `${p.id}:${p.pass}`, 'data-pass': p.pass, onchange: updateCount });
          box.checked = selected(only, p.tokens);
          return el('label', { style: 'margin-right: 0.8rem' }, box, ` ${p.pass}`);
        }),
      ),
      el('td', { class: 'title' }, ps[0].title),
    ),
  );
  const steps = stepSpecs(suite);
  rows.push(
    el(
      'tr',
      {},
      el('td', {}, 'training steps'),
      el(
        'td',
        {},
        ...steps.map((s) => {
          const box = el('input', { type: 'checkbox', 'data-token': s.id, 'data-step': s.id, onchange: updateCount });
          box.checked = only.length ? selected(only, stepTokens(s)) : withSteps;
          return el('label', { style: 'margin-right: 0.8rem', title: s.title }, box, ` ${s.id.replace(/_step$/, '')}`);
        }),
      ),
      el('td', { class: 'title' }, 'one training step of each model (slow on a software adapter)'),
    ),
  );
  ui.cases.tBodies[0].replaceChildren(...rows);
  updateCount();
}

/** Sets every pass checkbox by its pass name; the training steps are cleared. */
function setAll(pick: (pass: string) => boolean): void {
  ui.cases.querySelectorAll<HTMLInputElement>('input[data-pass]').forEach((c) => (c.checked = pick(c.dataset.pass!)));
  ui.cases.querySelectorAll<HTMLInputElement>('input[data-step]').forEach((c) => (c.checked = false));
  updateCount();
}

// ---- showing a report ---------------------------------------------------------------------------

function num(v: number | undefined, cls = ''): HTMLTableCellElement {
  return el('td', { class: `num ${cls}`.trim() }, fmt3(v));
}

function passRowEl(r: PassRecord): HTMLTableRowElement {
  const e = r.engine;
  const t = e.timing;
  const tj = r.tfjs?.status === 'ok' ? r.tfjs : undefined;
  const check = checkCell(e);
  const message = [
    e.status !== 'ok' && e.message ? `engine ${e.status}: ${e.message}` : '',
    r.tfjs && r.tfjs.status !== 'ok' ? `tfjs ${r.tfjs.status}: ${r.tfjs.message}` : '',
  ]
    .filter(Boolean)
    .join('\n');
  return el(
    'tr',
    { 'data-id': r.id, 'data-pass': r.pass, title: [r.title, message].filter(Boolean).join('\n') },
    el('td', {}, r.id),
    el('td', {}, r.pass),
    el('td', { class: e.status === 'ok' ? 'good' : e.status === 'skipped' ? '' : 'bad', 'data-col': 'check' }, check),
    el('td', { class: 'num', 'data-col': 'engine-ms' }, fmt3(t ? (t.gpu_ms_median ?? t.ms_median) : undefined)),
    el('td', {}, t ? (t.method === 'timestamp' ? 'GPU' : 'wall') : ''),
    num(t?.wall_ms_median),
    el('td', { class: 'num', 'data-col': 'gflops' }, fmt3(t?.gflops)),
    el('td', { class: 'num', 'data-col': 'gbps' }, fmt3(t?.gbps)),
    el(
      'td',
      { class: `num ${r.tfjs && r.tfjs.status !== 'ok' ? 'bad' : ''}`.trim(), 'data-col': 'tfjs-ms' },
      tj ? fmt3(tj.ms_median) : (r.tfjs?.status ?? '-'),
    ),
    num(tj?.gflops),
    el(
      'td',
      {
        class: 'num',
        'data-col': 'ratio',
        title: r.ratio_basis ? `basis: ${r.ratio_basis === 'gpu' ? 'GPU time on both sides' : 'wall clock on both sides'}` : '',
      },
      fmtRatio(r.ratio),
    ),
    el('td', { class: 'small' }, kernelSummary(t?.kernels, 60)),
  );
}

function stepRowEl(r: StepRecord): HTMLTableRowElement {
  const e = r.engine;
  const tj = r.tfjs?.status === 'ok' ? r.tfjs : undefined;
  const status = [e.status, e.message, r.tfjs && r.tfjs.status !== 'ok' ? `tfjs ${r.tfjs.status}: ${r.tfjs.message}` : '']
    .filter(Boolean)
    .join(': ');
  return el(
    'tr',
    { 'data-id': r.id, title: r.title },
    el('td', {}, r.id),
    el('td', { class: 'num' }, String(r.batch)),
    num(e.ms_median),
    num(e.gpu_ms),
    el('td', { class: 'num' }, e.dispatches !== undefined ? String(e.dispatches) : '-'),
    num(tj?.ms_median),
    el('td', { class: 'num' }, fmtRatio(r.ratio)),
    el('td', { class: e.status === 'ok' ? 'good small' : 'bad small' }, status),
  );
}

function esrganRowEl(r: EsrganRecord): HTMLTableRowElement {
  const ok = r.engine.status === 'ok' && (!r.tfjs || r.tfjs.status === 'ok');
  const status = [
    r.engine.status,
    r.engine.message,
    r.tfjs && r.tfjs.status !== 'ok' ? `tfjs ${r.tfjs.status}: ${r.tfjs.message ?? ''}` : '',
  ]
    .filter(Boolean)
    .join(': ');
  return el(
    'tr',
    { 'data-model': r.model, 'data-scale': r.scale, 'data-size': r.size },
    el('td', {}, r.model),
    el('td', { class: 'num' }, `x${r.scale}`),
    el('td', {}, `${r.size}x${r.size} → ${r.out[0]}x${r.out[1]}`),
    num(r.engine.ms_median),
    num(r.tfjs?.ms_median),
    el('td', { class: 'num', 'data-col': 'ratio' }, fmtRatio(r.ratio)),
    el('td', { class: 'num' }, r.max_rel_err === undefined ? '-' : r.max_rel_err.toExponential(1)),
    el('td', { class: ok ? 'good small' : 'bad small' }, status),
  );
}

/** Model files as the demos build serves them (../upscalerjs/<id>/models/...). */
const fetchModelSource: ModelSource = async (entry, scale) => {
  const base = `../upscalerjs/${entry.id}/${entry.id === 'default-model' ? 'models/' : `models/x${scale}/`}`;
  const get = async (u: string) => {
    const r = await fetch(u);
    if (!r.ok) throw new Error(`${u}: HTTP ${r.status} (the ESRGAN model files are served by \`node scripts/build.mjs demos\`)`);
    return new Uint8Array(await r.arrayBuffer());
  };
  const json = JSON.parse(new TextDecoder().decode(await get(`${base}model.json`))) as TfjsLayersModelJson;
  const groups = await Promise.all(
    json.weightsManifest.map(async (g) => concatBytes(await Promise.all(g.paths.map((p) => get(base + p))))),
  );
  return { json, groups };
};

function show(r: BenchReport, source: string): void {
  handle.report = r;
  handle.source = source;
  const tfjs = r.tfjs === null ? 'tfjs off' : 'error' in r.tfjs ? `tfjs unavailable: ${r.tfjs.error}` : `tfjs on ${r.tfjs.adapter}`;
  const when = r.date.replace('T', ' ').slice(0, 16);
  ui.runInfo.textContent =
    `${source === 'this tab' ? 'Run in this tab' : `Loaded ${source}`}: ${r.adapter.name} · suite ${r.suite} · ${when} UTC · ` +
    `${r.passes.length} passes, ${r.steps.length} training steps · timestamps ${r.adapter.timestamps ? 'yes' : 'no'} · ${tfjs}` +
    (r.complete ? '' : ' · incomplete');
  ui.summary.textContent = [...summaryLines(r), ...r.notes.map((n) => `note: ${n}`)].join('\n');
  ui.passes.tBodies[0].replaceChildren(...r.passes.map(passRowEl));
  ui.stepsTable.tBodies[0].replaceChildren(...r.steps.map(stepRowEl));
  ui.stepsBlock.classList.toggle('hidden', r.steps.length === 0);
  ui.esrganTable.tBodies[0].replaceChildren(...(r.esrgan ?? []).map(esrganRowEl));
  ui.esrganBlock.classList.toggle('hidden', !r.esrgan?.length);
  chart.set(chartBars(r.passes));
  ui.download.disabled = false;
}

// ---- running ------------------------------------------------------------------------------------

function browserHost(): HostInfo {
  const nav = navigator as Navigator & { userAgentData?: { platform?: string } };
  return {
    platform: nav.userAgentData?.platform || nav.platform || 'browser',
    arch: '',
    cpus: nav.hardwareConcurrency ?? 0,
    cpu_model: '',
    user_agent: nav.userAgent,
  };
}

function numberOf(input: HTMLInputElement, fallback: number, min: number): number {
  const v = Number(input.value);
  return Number.isFinite(v) && v >= min ? v : fallback;
}

function setRunning(running: boolean): void {
  for (const c of [
    ui.suite,
    ui.repeats,
    ui.warmup,
    ui.targetMs,
    ui.maxInner,
    ui.tfjs,
    ui.profile,
    ui.steps,
    ui.esrgan,
    ui.esrganMode,
    ui.loadFile,
    ui.committed,
    ui.showCommitted,
    ui.download,
  ])
    c.disabled = running;
  ui.cases.querySelectorAll<HTMLInputElement>('input').forEach((c) => (c.disabled = running));
  document.querySelectorAll<HTMLButtonElement>('#sel-all, #sel-none, #sel-forward').forEach((b) => (b.disabled = running));
  ui.run.disabled = running || !handle.webgpu;
  ui.stop.disabled = !running;
  ui.progress.classList.toggle('hidden', !running);
  if (!running) ui.showCommitted.disabled = !ui.committed.value;
}

async function run(): Promise<void> {
  const suite = suiteByName(ui.suite.value);
  const all = suitePasses(suite).length;
  const picked = checkedPasses();
  const pickedSteps = checkedSteps();
  if (!picked.length && !pickedSteps.length && !ui.esrgan.checked) {
    setStatus(ui.status, 'Nothing selected: tick at least one kernel pass, training step or ESRGAN inference.', 'warn');
    return;
  }
  // Everything picked: no filter, as `npm run bench` without --only; nothing picked (ESRGAN only): 'esrgan', which selects no kernel.
  const only =
    !picked.length && !pickedSteps.length
      ? ['esrgan']
      : picked.length === all && pickedSteps.length === stepSpecs(suite).length
        ? []
        : [...picked, ...pickedSteps];
  const steps = pickedSteps.length ? Math.max(1, Math.round(numberOf(ui.steps, 3, 1))) : 0;
  const time = {
    repeats: Math.max(1, Math.round(numberOf(ui.repeats, 5, 1))),
    warmup: Math.round(numberOf(ui.warmup, 2, 0)),
    targetMs: numberOf(ui.targetMs, 20, 0.001),
    maxInner: Math.max(1, Math.round(numberOf(ui.maxInner, 50, 1))),
    profile: ui.profile.checked,
  };
  const recorded = {
    suite: suite.name,
    only: only.join(','),
    tfjs: ui.tfjs.checked,
    ...time,
    validation: 'auto',
    samples: 2000,
    timeInvalid: false,
    steps,
    stepWarmup: 1,
    seed: 1,
    runner: 'demos/bench page',
  };

  stopRequested = false;
  handle.state = 'running';
  handle.error = null;
  setRunning(true);
  ui.log.textContent = '';
  const log = (line: string) => {
    ui.log.textContent += line + '\n';
  };
  setStatus(ui.status, 'starting…');
  try {
    if (!engineHandle || engineHandle.isLost) {
      const started = await startEngine();
      if ('failure' in started) throw new Error(started.failure.message);
      engineHandle = started.engine;
    }
    const report = await runBench({
      suite,
      only,
      tfjs: ui.tfjs.checked,
      time,
      validation: 'auto',
      samples: 2000,
      timeInvalid: false,
      stepWarmup: 1,
      steps,
      seed: 1,
      deadline: null,
      stepsReserveMs: 0,
      log,
      recorded,
      host: browserHost(),
      gpu: navigator.gpu,
      engine: engineHandle,
      onStart: (r) => show(r, 'this tab'),
      onUpdate: (r) => show(r, 'this tab'),
      onBegin: (what, i, total) => {
        ui.progress.max = total;
        ui.progress.value = i;
        setStatus(ui.status, `${i + 1} / ${total}: ${what} (validating, then timing)…`);
      },
      stop: () => stopRequested,
    });
    if (ui.esrgan.checked && !stopRequested) {
      setStatus(ui.status, 'ESRGAN inference (loading UpscalerJS models)…');
      const mode = ui.esrganMode.value as EsrganMode;
      let h = null;
      let tfl = null;
      if (ui.tfjs.checked) {
        h = await createTfjs(navigator.gpu);
        tfl = await import('@tensorflow/tfjs-layers');
      }
      const repeats = Math.min(time.repeats, mode === 'quick' ? 2 : time.repeats);
      report.esrgan = await runEsrganBench(esrganCases(mode), fetchModelSource, h, { warmup: Math.max(1, time.warmup), repeats, log, tfl });
      report.options.esrgan_mode = mode;
    }
    show(report, 'this tab');
    const bad =
      report.passes.filter((p) => p.engine.status === 'invalid' || p.engine.status === 'failed').length +
      (report.esrgan ?? []).filter((r) => r.engine.status === 'failed').length;
    const secs = report.elapsed_s.toFixed(1);
    if (bad) setStatus(ui.status, `finished in ${secs} s: ${bad} pass(es) failed or gave a wrong result (see the check column)`, 'error');
    else if (!report.complete) setStatus(ui.status, `stopped after ${secs} s; what ran is in the table`, 'warn');
    else
      setStatus(
        ui.status,
        `finished in ${secs} s: every timed pass matched the CPU reference${report.esrgan?.length ? `; ${report.esrgan.length} ESRGAN case(s) matched tfjs (max rel err < 1e-4)` : ''}`,
        'ok',
      );
    handle.state = 'done';
  } catch (e) {
    handle.error = errorLine(e);
    handle.state = 'error';
    setStatus(ui.status, `run failed: ${handle.error}`, 'error');
    console.error(e);
  } finally {
    setRunning(false);
  }
}

// ---- result files -------------------------------------------------------------------------------

function loadText(text: string, name: string): void {
  try {
    show(parseReport(text, name), name);
    handle.state = 'loaded';
    handle.error = null;
    setStatus(ui.status, `showing ${name}`, 'ok');
  } catch (e) {
    handle.error = errorLine(e);
    setStatus(ui.status, handle.error, 'error');
  }
}

async function loadCommitted(file: string): Promise<void> {
  if (!/^[\w.-]+\.json$/.test(file)) {
    setStatus(ui.status, `results=${file}: expected a file name under ./results/ such as nvidia-h200-2026-11-27-full.json`, 'error');
    return;
  }
  const res = await fetch(`./results/${file}`);
  if (!res.ok) {
    setStatus(
      ui.status,
      `./results/${file}: HTTP ${res.status} (the committed runs are copied there by \`node scripts/build.mjs demos\`)`,
      'error',
    );
    return;
  }
  loadText(await res.text(), file);
}

interface CommittedRun {
  file: string;
  adapter: string;
  suite: string;
  date: string;
}

async function listCommitted(): Promise<void> {
  try {
    const res = await fetch('./results/index.json');
    if (!res.ok) return;
    const runs = (await res.json()) as CommittedRun[];
    ui.committed.replaceChildren(
      el('option', { value: '' }, runs.length ? 'pick one…' : '(none)'),
      ...runs.map((r) => el('option', { value: r.file }, `${r.file} (${r.adapter}, ${r.suite})`)),
    );
  } catch (e) {
    console.warn(`no list of committed runs: ${errorLine(e)}`);
  }
}

// ---- wiring -------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const suiteParam = params.get('suite');
  ui.suite.value = suiteParam === 'full' ? 'full' : 'reduced';
  ui.repeats.value = String(intParam(params, 'repeats', 5, 1, 100));
  ui.warmup.value = String(intParam(params, 'warmup', 2, 0, 100));
  const target = Number(params.get('targetMs'));
  ui.targetMs.value = String(Number.isFinite(target) && target > 0 ? target : 20);
  ui.maxInner.value = String(intParam(params, 'maxInner', 50, 1, 1000));
  ui.tfjs.checked = params.get('tfjs') !== '0';
  ui.esrgan.checked = params.get('esrgan') === '1' || params.get('esrgan') === 'quick' || params.get('esrgan') === 'full';
  if (params.get('esrgan') === 'full') ui.esrganMode.value = 'full';
  ui.profile.checked = params.get('profile') !== '0';
  const stepsParam = intParam(params, 'steps', 0, 0, 1000);
  ui.steps.value = String(stepsParam || 3);
  const urlOnly = (params.get('only') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  renderPicker(suiteByName(ui.suite.value), urlOnly, stepsParam > 0);

  ui.suite.addEventListener('change', () => renderPicker(suiteByName(ui.suite.value), [], false));
  byId('sel-all').addEventListener('click', () => setAll(() => true));
  byId('sel-none').addEventListener('click', () => setAll(() => false));
  byId('sel-forward').addEventListener('click', () => setAll((p) => p === 'forward'));
  ui.run.addEventListener('click', () => void run());
  ui.stop.addEventListener('click', () => {
    stopRequested = true;
    ui.stop.disabled = true;
    setStatus(ui.status, 'stopping after the current pass…', 'warn');
  });
  ui.download.addEventListener('click', () => {
    const r = handle.report;
    if (!r) return;
    const name = handle.source === 'this tab' ? resultFileName(r) : handle.source;
    downloadBytes(name, new TextEncoder().encode(JSON.stringify(r, null, 1) + '\n'), 'application/json');
    setStatus(ui.status, `downloaded ${name}`, 'ok');
  });
  ui.loadFile.addEventListener('change', async () => {
    const f = ui.loadFile.files?.[0];
    ui.loadFile.value = '';
    if (f) loadText(await f.text(), f.name);
  });
  ui.committed.addEventListener('change', () => (ui.showCommitted.disabled = !ui.committed.value));
  ui.showCommitted.addEventListener('click', () => void loadCommitted(ui.committed.value));

  await listCommitted();
  const results = params.get('results');
  if (results) await loadCommitted(results);

  const started = await startEngine();
  if ('failure' in started) {
    renderStartFailure(byId('webgpu-status'), started.failure);
    byId('adapter').textContent = 'no WebGPU';
    setStatus(ui.status, 'No WebGPU here: nothing can run, but saved result files still load and chart.', 'warn');
    handle.state = handle.report ? 'loaded' : 'idle';
    setRunning(false);
    return;
  }
  engineHandle = started.engine;
  handle.webgpu = true;
  byId('adapter').textContent = adapterLine(started.engine);
  ui.timingNote.textContent = started.engine.features.has('timestamp-query')
    ? 'This adapter has timestamp-query: engine and tfjs times are GPU time from timestamp queries (a pass is the sum of its ' +
      'dispatches, averaged over many passes). Chrome rounds timestamps to 100 µs unless chrome://flags/#enable-webgpu-developer-features is on.'
    : "This adapter has no 'timestamp-query': times are wall clock between queue.onSubmittedWorkDone() fences around many passes, host work included.";
  if (!handle.report) handle.state = 'idle';
  setRunning(false);
  if (!results) setStatus(ui.status, 'Ready: pick the kernels and press Run, or load a results file.');
  if (params.get('autorun') === '1') await run();
}

main().catch((e: Error) => {
  handle.state = 'error';
  handle.error = errorLine(e);
  setStatus(ui.status, `page failed: ${handle.error}`, 'error');
  console.error(e);
});
