// CPU seconds per test, for measuring the suites on a shared machine: wall times there swing with
// the load (4x between two runs of one file), CPU seconds hardly move. With TEST_CPU_LOG=FILE set,
// vitest.config.ts (and vitest.browser.config.ts) loads this file in every worker and each test appends one JSON line to FILE:
//   {"file": "tests/x.test.ts", "test": "describe > it", "cpu": 1.23, "wall": 4.56, "state": "pass", "kernels": 7}
// `cpu` is the worker's own user + system time (its threads included: Dawn's and lavapipe's) plus
// that of its child processes, live or waited for (spawnSync'd `gan` runs), from /proc, so a test
// that spawns the CLI or drives Chromium is charged for it. `kernels`: the WGSL pipelines the test
// compiled in this worker's engine (spawned CLIs not counted). Each file also logs "(file)": the worker's whole CPU time when the
// file ends (vitest forks a fresh worker per file: its start, imports and hooks included; its
// wall time from the file's first hook on), and "(outside tests)": that less the tests' sum.
// `node scripts/test-times.mjs FILE.jsonl` tabulates it. Linux only (/proc); elsewhere it logs nothing.
import { appendFileSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { engine } from '../../engine/device.js';

const out = process.env.TEST_CPU_LOG;
const ticks = 100; // USER_HZ: /proc reports times in 1/100 s on Linux

/** utime + stime + cutime + cstime of /proc/PID/stat, in seconds, and the parent's pid. */
function statOf(pid: string): { cpu: number; ppid: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3 (state).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // ppid is field 4; utime, stime, cutime, cstime are fields 14 to 17 (indices 1 and 11 to 14 from field 3).
    return { cpu: (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / ticks, ppid: f[1] };
  } catch {
    return null;
  }
}

/**
 * CPU seconds of this process (threads included) and of its descendants: the live ones (a
 * Chromium that a browser file keeps open across tests) and the ones reaped so far (through the
 * cutime/cstime of their parents). NaN without /proc.
 */
function cpuSeconds(): number {
  const self = statOf('self');
  if (!self) return Number.NaN;
  const me = String(process.pid);
  const children = new Map<string, string[]>();
  const cpu = new Map<string, number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const st = statOf(pid);
    if (!st) continue;
    cpu.set(pid, st.cpu);
    children.set(st.ppid, [...(children.get(st.ppid) ?? []), pid]);
  }
  let total = self.cpu;
  const stack = [...(children.get(me) ?? [])];
  while (stack.length) {
    const pid = stack.pop()!;
    total += cpu.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** Pipelines the engine of this worker has compiled so far (0 before initEngine). */
function compiled(): number {
  try {
    return engine().counters.pipelinesCompiled;
  } catch {
    return 0;
  }
}

/**
 * TEST_KERNEL_LOG=FILE: each pipeline this worker's engine compiles (from the file's first test on)
 * appends {"file", "test", "kernel": its key} to FILE. lavapipe compiles a kernel's machine code at
 * its first dispatch, not here, and keeps it in Mesa's disk cache (~/.cache/mesa_shader_cache_db,
 * or $MESA_SHADER_CACHE_DIR) for every later process: with that cache empty, as on a fresh CI
 * machine, the tests that first use a costly kernel pay seconds of CPU for it (the SSIM test
 * of tests/metrics.test.ts: 41 CPU s with an empty cache, 0.4 with a warm one).
 */
const kernelLog = process.env.TEST_KERNEL_LOG;
const wrapped = new WeakSet<object>();
let currentTest = '';
function wrapCompiles(file: string): void {
  if (!kernelLog) return;
  let device: GPUDevice;
  try {
    device = engine().device;
  } catch {
    return;
  }
  if (wrapped.has(device)) return;
  wrapped.add(device);
  const create = device.createComputePipeline.bind(device);
  device.createComputePipeline = (d: GPUComputePipelineDescriptor) => {
    appendFileSync(kernelLog, `${JSON.stringify({ file, test: currentTest, kernel: d.label })}\n`);
    return create(d);
  };
}

if (out) {
  let fileWall = 0;
  let testsCpu = 0;
  let testsWall = 0;
  let cpu0 = 0;
  let wall0 = 0;
  let file = '';
  let kernels0 = 0;
  const log = (test: string, cpu: number, wall: number, state: string, kernels: number) => {
    if (Number.isNaN(cpu)) return;
    const round = (v: number) => Math.round(v * 100) / 100;
    appendFileSync(out, `${JSON.stringify({ file, test, cpu: round(cpu), wall: round(wall), state, kernels })}\n`);
  };
  beforeAll(() => {
    file = path
      .relative(process.cwd(), expect.getState().testPath ?? '')
      .split(path.sep)
      .join('/');
    fileWall = performance.now();
    testsCpu = 0;
    testsWall = 0;
  });
  beforeEach(() => {
    cpu0 = cpuSeconds();
    wall0 = performance.now();
    kernels0 = compiled();
    currentTest = expect.getState().currentTestName ?? '';
    wrapCompiles(file);
  });
  afterEach((ctx) => {
    const cpu = cpuSeconds() - cpu0;
    const wall = (performance.now() - wall0) / 1000;
    testsCpu += cpu;
    testsWall += wall;
    const names: string[] = [];
    type Suite = { name: string; suite?: Suite };
    for (let s = ctx.task.suite as Suite | undefined; s?.name; s = s.suite) names.unshift(s.name);
    log([...names, ctx.task.name].join(' > '), cpu, wall, ctx.task.result?.state ?? 'unknown', compiled() - kernels0);
  });
  afterAll(() => {
    // A browser file's Chromium has closed by now, and its GPU and renderer processes ended without
    // being reaped into this worker's counts: their time is in the tests' lines only, so the file's
    // total is at least the tests' sum and what lies outside the tests is a lower bound there.
    const total = Math.max(cpuSeconds(), testsCpu);
    const wall = (performance.now() - fileWall) / 1000;
    log('(file)', total, wall, `pid ${process.pid}`, compiled());
    log('(outside tests)', total - testsCpu, wall - testsWall, `pid ${process.pid}`, 0);
  });
}
