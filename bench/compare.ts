// Compares two benchmark result files (bench/results/*.json, written by `npm run bench` or the GPU
// entry): one row per (case, pass) present in either, with each side's engine and tfjs time and the
// ratio B / A (below 1: B is faster), then the training steps, then geometric means per group.
//
//   node dist/bench.mjs compare A.json B.json
//
// Times compared are each record's primary figure (GPU time where it was measured with timestamps,
// else wall time); a row says 'wall' when either side only has wall time, so unlike figures are
// never silently divided.
//
// Browser-safe (pure functions of two reports); reading the files and the `compare` subcommand are
// in bench/node_io.ts.

import { fmt3, fmtRatio, geomean, type BenchReport, type PassRecord, type StepRecord } from './report.js';

interface Fig {
  ms: number;
  basis: 'gpu' | 'wall';
}

function engineFig(p: PassRecord | undefined): Fig | undefined {
  const t = p?.engine.status === 'ok' ? p.engine.timing : undefined;
  if (!t) return undefined;
  return t.gpu_ms_median !== undefined ? { ms: t.gpu_ms_median, basis: 'gpu' } : { ms: t.wall_ms_median, basis: 'wall' };
}

function tfjsFig(p: PassRecord | undefined): Fig | undefined {
  const t = p?.tfjs?.status === 'ok' ? p.tfjs : undefined;
  if (!t) return undefined;
  return { ms: t.ms_median, basis: t.method === 'timestamp' ? 'gpu' : 'wall' };
}

/** B / A on a common basis: GPU time when both have it, else both sides' wall time. */
function ratioOf(
  a: Fig | undefined,
  b: Fig | undefined,
  aWall: number | undefined,
  bWall: number | undefined,
): { r?: number; wall: boolean } {
  if (a && b && a.basis === b.basis) return { r: b.ms / a.ms, wall: a.basis === 'wall' };
  if (aWall !== undefined && bWall !== undefined) return { r: bWall / aWall, wall: true };
  return { wall: false };
}

function engineWall(p: PassRecord | undefined): number | undefined {
  return p?.engine.status === 'ok' ? p.engine.timing?.wall_ms_median : undefined;
}
function tfjsWall(p: PassRecord | undefined): number | undefined {
  return p?.tfjs?.status === 'ok' ? p.tfjs.wall_ms_median : undefined;
}

function col(s: string, n: number, right = true): string {
  if (s.length > n) s = s.slice(0, n - 1) + '~';
  return right ? s.padStart(n) : s.padEnd(n);
}

function describe(r: BenchReport, label: string): string {
  const when = r.date.replace('T', ' ').slice(0, 16);
  return `${label}: ${r.adapter.name}, suite ${r.suite}, ${when}${r.complete ? '' : ' (incomplete run)'}`;
}

/** The comparison as printable lines. */
export function compareReports(a: BenchReport, b: BenchReport): string[] {
  const out: string[] = [describe(a, 'A'), describe(b, 'B'), 'ratios are B time / A time: below 1.00x, B is faster', ''];
  if (a.suite !== b.suite) out.push(`warning: different suites (${a.suite} vs ${b.suite}): the same ids are different shapes`, '');
  const key = (p: PassRecord) => `${p.id}\u0000${p.pass}`;
  const am = new Map(a.passes.map((p) => [key(p), p]));
  const bm = new Map(b.passes.map((p) => [key(p), p]));
  const keys = [...new Set([...a.passes.map(key), ...b.passes.map(key)])];
  const head =
    col('case', 18, false) +
    col('pass', 17, false) +
    col('eng A', 9) +
    col('eng B', 9) +
    col('B/A', 9) +
    ' |' +
    col('tfjs A', 9) +
    col('tfjs B', 9) +
    col('B/A', 9);
  out.push(head, '-'.repeat(head.length));
  const groupRatios = new Map<string, number[]>();
  for (const k of keys) {
    const pa = am.get(k);
    const pb = bm.get(k);
    const any = (pa ?? pb)!;
    const ea = engineFig(pa);
    const eb = engineFig(pb);
    const ta = tfjsFig(pa);
    const tb = tfjsFig(pb);
    const re = ratioOf(ea, eb, engineWall(pa), engineWall(pb));
    const rt = ratioOf(ta, tb, tfjsWall(pa), tfjsWall(pb));
    if (re.r !== undefined) {
      const g = `engine ${any.group}`;
      groupRatios.set(g, [...(groupRatios.get(g) ?? []), re.r]);
    }
    if (rt.r !== undefined) {
      const g = `tfjs ${any.group}`;
      groupRatios.set(g, [...(groupRatios.get(g) ?? []), rt.r]);
    }
    const status = (p: PassRecord | undefined) => (!p ? 'absent' : p.engine.status !== 'ok' ? p.engine.status : '');
    const note = [status(pa) && `A ${status(pa)}`, status(pb) && `B ${status(pb)}`, re.wall && 'engine wall', rt.wall && 'tfjs wall']
      .filter(Boolean)
      .join(', ');
    out.push(
      col(any.id, 18, false) +
        col(any.pass, 17, false) +
        col(fmt3(ea?.ms), 9) +
        col(fmt3(eb?.ms), 9) +
        col(fmtRatio(re.r), 9) +
        ' |' +
        col(fmt3(ta?.ms), 9) +
        col(fmt3(tb?.ms), 9) +
        col(fmtRatio(rt.r), 9) +
        (note ? `  (${note})` : ''),
    );
  }
  const sa = new Map(a.steps.map((s) => [s.id, s]));
  const sb = new Map(b.steps.map((s) => [s.id, s]));
  const stepIds = [...new Set([...a.steps.map((s) => s.id), ...b.steps.map((s) => s.id)])];
  if (stepIds.length) {
    out.push('');
    const sh =
      col('training step', 32, false) +
      col('eng A', 9) +
      col('eng B', 9) +
      col('B/A', 9) +
      ' |' +
      col('tfjs A', 9) +
      col('tfjs B', 9) +
      col('B/A', 9);
    out.push(sh, '-'.repeat(sh.length));
    const ms = (s: StepRecord | undefined) => (s?.engine.status === 'ok' ? s.engine.ms_median : undefined);
    const tms = (s: StepRecord | undefined) => (s?.tfjs?.status === 'ok' ? s.tfjs.ms_median : undefined);
    for (const id of stepIds) {
      const x = sa.get(id);
      const y = sb.get(id);
      const [ea, eb, ta, tb] = [ms(x), ms(y), tms(x), tms(y)];
      out.push(
        col(`${id} (batch ${(x ?? y)!.batch})`, 32, false) +
          col(fmt3(ea), 9) +
          col(fmt3(eb), 9) +
          col(fmtRatio(ea && eb ? eb / ea : undefined), 9) +
          ' |' +
          col(fmt3(ta), 9) +
          col(fmt3(tb), 9) +
          col(fmtRatio(ta && tb ? tb / ta : undefined), 9),
      );
    }
  }
  if (groupRatios.size) {
    out.push('');
    for (const [g, rs] of groupRatios) out.push(`${g}: geometric mean B/A ${fmtRatio(geomean(rs))} over ${rs.length} passes`);
  }
  return out;
}
