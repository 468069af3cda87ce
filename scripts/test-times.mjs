#!/usr/bin/env node
// Where the test suites spend their time, from vitest JSON reports:
//   npx vitest run --reporter=default --reporter=json --outputFile.json=node.json
//   npx vitest run --config vitest.browser.config.ts --reporter=default --reporter=json --outputFile.json=browser.json
//   node scripts/test-times.mjs node.json browser.json [--top 20] [--durations]
// prints, per report, the suite's wall time (first file start to last file end) and the sum of
// its files' times, then two markdown tables: the slowest files and the slowest tests (the
// tables in tests/README.md). --durations rewrites tests/durations.json from the Node report
// (the first one given): each file's seconds, which vitest.config.ts's sequencer reads to start
// the longest files first on a machine with no vitest cache yet (a fresh clone, CI).
//
// On a shared machine wall times swing with the load; CPU seconds do not. A CPU log
// (TEST_CPU_LOG=cpu.jsonl npx vitest run ...: tests/support/cpu_log.ts) given as a REPORT.jsonl
// prints the same tables in CPU seconds, and the Node suite's wall on an idle 2-core machine as
// the sequencer would schedule it there (longest first, by durations.json, onto 2 workers of one
// core each); --durations with a CPU log first writes durations.json from its CPU seconds.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  args.splice(i, 1);
  return true;
};
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 20;
const writeDurations = flag('--durations');
if (args.length === 0 || !Number.isInteger(top) || top < 1) {
  console.error('usage: node scripts/test-times.mjs REPORT.json [REPORT.json...] [--top N] [--durations]');
  process.exit(2);
}

const rel = (file) => path.relative(root, file).split(path.sep).join('/');
const s = (ms) => (ms / 1000).toFixed(1);

/** A CPU log: one JSON line per test, "(file)" lines with each file's total (tests/support/cpu_log.ts). */
function cpuReport(file) {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  const byFile = new Map();
  for (const l of lines) {
    const f = byFile.get(l.file) ?? { file: l.file, ms: 0, tests: 0, failed: 0 };
    if (l.test === '(file)') f.ms += l.cpu * 1000;
    else if (l.test !== '(outside tests)') {
      f.tests++;
      if (l.state === 'fail') f.failed++;
    }
    byFile.set(l.file, f);
  }
  const files = [...byFile.values()];
  const tests = lines
    .filter((l) => !l.test.startsWith('('))
    .map((l) => ({ file: l.file, title: l.test.split(' > ').at(-1), ms: l.cpu * 1000, status: l.state }));
  for (const l of lines.filter((x) => x.test === '(outside tests)'))
    tests.push({ file: l.file, title: '(outside tests: start, imports, hooks)', ms: l.cpu * 1000, status: 'hooks' });
  return {
    source: `${file} (CPU seconds)`,
    cpu: true,
    files,
    tests,
    total: tests.filter((t) => t.status !== 'hooks').length,
    failed: files.reduce((a, f) => a + f.failed, 0),
  };
}

/** Wall time of files run longest first (by `order`) on `workers` workers: each takes the next file when free. */
function schedule(files, order, workers) {
  const free = Array.from({ length: workers }, () => 0);
  const sorted = [...files].sort((a, b) => (order[b.file] ?? Infinity) - (order[a.file] ?? Infinity) || b.ms - a.ms);
  for (const f of sorted) {
    const i = free.indexOf(Math.min(...free));
    free[i] += f.ms;
  }
  return Math.max(...free);
}

const reports = args.map((file) => {
  if (file.endsWith('.jsonl')) return cpuReport(file);
  const report = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(report.testResults)) throw new Error(`${file}: not a vitest JSON report (no testResults)`);
  const files = report.testResults.map((r) => ({
    file: rel(r.name),
    ms: r.endTime - r.startTime,
    tests: r.assertionResults.length,
    failed: r.assertionResults.filter((a) => a.status === 'failed').length,
  }));
  const tests = report.testResults.flatMap((r) =>
    r.assertionResults.map((a) => ({ file: rel(r.name), title: a.title, ms: a.duration ?? 0, status: a.status })),
  );
  const end = Math.max(...report.testResults.map((r) => r.endTime));
  return { source: file, wallMs: end - report.startTime, files, tests, total: report.numTotalTests, failed: report.numFailedTests };
});

for (const r of reports) {
  const sum = r.files.reduce((a, f) => a + f.ms, 0);
  if (r.cpu) {
    let order = {};
    try {
      order = JSON.parse(readFileSync(path.join(root, 'tests', 'durations.json'), 'utf8'));
    } catch {}
    const own = Object.fromEntries(r.files.map((f) => [f.file, f.ms]));
    console.log(
      `\n${r.source}: ${r.files.length} files, ${r.total} tests (${r.failed} failed); CPU ${s(sum)} s; ` +
        `on 2 idle cores: at least ${s(sum / 2)} s, ${s(schedule(r.files, order, 2))} s in tests/durations.json's order, ` +
        `${s(schedule(r.files, own, 2))} s in this log's\n`,
    );
  } else
    console.log(
      `\n${r.source}: ${r.files.length} files, ${r.total} tests (${r.failed} failed); wall ${s(r.wallMs)} s, files' times summed ${s(sum)} s\n`,
    );
  console.log('| file | tests | s |\n|---|---:|---:|');
  for (const f of [...r.files].sort((a, b) => b.ms - a.ms).slice(0, top)) {
    console.log(`| ${f.file} | ${f.tests}${f.failed ? ` (${f.failed} failed)` : ''} | ${s(f.ms)} |`);
  }
  console.log('\n| test | s |\n|---|---:|');
  for (const t of [...r.tests].sort((a, b) => b.ms - a.ms).slice(0, top)) {
    const title = t.title.length > 100 ? `${t.title.slice(0, 99)}…` : t.title;
    console.log(`| ${t.file}: ${title.replaceAll('|', '\\|')} | ${s(t.ms)} |`);
  }
}

if (writeDurations) {
  const out = path.join(root, 'tests', 'durations.json');
  const entries = [...reports[0].files].sort((a, b) => b.ms - a.ms).map((f) => [f.file, Math.round(f.ms / 100) / 10]);
  writeFileSync(out, `${JSON.stringify(Object.fromEntries(entries), null, 2)}\n`);
  console.log(`\nwrote ${rel(out)} (${entries.length} files, from ${reports[0].source})`);
}
