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

const reports = args.map((file) => {
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
