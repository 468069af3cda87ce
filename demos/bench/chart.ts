// The benchmark page's bar chart: tfjs-webgpu time / engine time for every (case, pass) of a
// report, one bar each, on a log axis around 1x (bars above the line: the engine is faster), one
// colour per pass, drawn with uPlot's bars path (the same library as demos/shared/plot.ts).

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { PassRecord } from '../../bench/report.js';

/** Short labels and colours per pass name. */
const PASSES: Record<string, { label: string; color: string }> = {
  forward: { label: 'forward', color: '#2f6feb' },
  input_grad: { label: 'input grad', color: '#e36209' },
  weight_grad: { label: 'weight grad', color: '#1a7f37' },
  forward_backward: { label: 'forward+backward', color: '#8250df' },
  step: { label: 'optimizer step', color: '#9a6700' },
};
const SHORT: Record<string, string> = {
  forward: 'fwd',
  input_grad: 'dgrad',
  weight_grad: 'wgrad',
  forward_backward: 'fwd+bwd',
  step: 'step',
};

export interface ChartBar {
  label: string;
  pass: string;
  ratio: number;
  basis: 'gpu' | 'wall';
}

/** The bars of a report: every pass with a finite, positive ratio, in report order. */
export function chartBars(passes: readonly PassRecord[]): ChartBar[] {
  return passes
    .filter((p) => p.ratio !== undefined && Number.isFinite(p.ratio) && p.ratio > 0)
    .map((p) => ({ label: `${p.id} ${SHORT[p.pass] ?? p.pass}`, pass: p.pass, ratio: p.ratio!, basis: p.ratio_basis ?? 'wall' }));
}

export class RatioChart {
  private chart: uPlot | null = null;
  private readonly observer: ResizeObserver;
  /** Bars uPlot drew in its last redraw (counted by the bars path's `each` callback). */
  drawnBars = 0;

  constructor(private readonly container: HTMLElement) {
    this.observer = new ResizeObserver(() => {
      const w = this.width();
      if (this.chart && w !== this.chart.width) this.chart.setSize({ width: w, height: this.chart.height });
    });
    this.observer.observe(container);
  }

  private width(): number {
    return Math.max(320, this.container.clientWidth || 800);
  }

  /** Redraws the chart for these bars (none: the chart is removed and a note says why). */
  set(bars: readonly ChartBar[]): void {
    this.chart?.destroy();
    this.chart = null;
    this.drawnBars = 0;
    this.container.replaceChildren();
    if (!bars.length) {
      const p = document.createElement('p');
      p.className = 'muted small';
      p.textContent = 'No ratios to chart yet: a pass needs both an engine and a tfjs time.';
      this.container.append(p);
      return;
    }
    const css = getComputedStyle(document.documentElement);
    const fgDim = css.getPropertyValue('--fg-dim').trim() || '#5b6170';
    const grid = css.getPropertyValue('--grid').trim() || '#eceef2';
    const passes = [...new Set(bars.map((b) => b.pass))];
    const xs = bars.map((_, i) => i);
    const ys = passes.map((p) => bars.map((b) => (b.pass === p ? b.ratio : null)));
    const lo = Math.min(1, ...bars.map((b) => b.ratio));
    const hi = Math.max(1, ...bars.map((b) => b.ratio));
    const longest = Math.max(...bars.map((b) => b.label.length));
    // Bars per series, counted as uPlot builds each series' path (it caches paths between redraws).
    const counts = passes.map(() => 0);
    const bars0 = uPlot.paths.bars!({ size: [0.8, 48], each: (_u, seriesIdx) => void counts[seriesIdx - 1]++ });
    const barsPath: uPlot.Series.PathBuilder = (u, seriesIdx, idx0, idx1) => {
      counts[seriesIdx - 1] = 0;
      return bars0(u, seriesIdx, idx0, idx1);
    };
    const opts: uPlot.Options = {
      width: this.width(),
      height: 320 + Math.min(160, longest * 6),
      scales: {
        x: { time: false, range: () => [-0.5, bars.length - 0.5] },
        y: { distr: 3, log: 10, range: () => [lo / 1.4, hi * 1.4] },
      },
      axes: [
        {
          stroke: fgDim,
          grid: { show: false },
          ticks: { stroke: grid },
          splits: () => xs,
          values: (_u, splits) => splits.map((i) => bars[i]?.label ?? ''),
          rotate: -90,
          size: 16 + longest * 6.2,
          font: '11px system-ui, sans-serif',
          gap: 4,
        },
        {
          label: 'tfjs time / engine time',
          stroke: fgDim,
          grid: { stroke: grid },
          ticks: { stroke: grid },
          // Log splits hold null where uPlot leaves a tick unlabelled.
          values: (_u, splits) => splits.map((v) => (v == null ? '' : `${+v.toPrecision(v >= 1 ? 3 : 2)}x`)),
        },
      ],
      series: [
        { label: 'pass' },
        ...passes.map((p) => ({
          label: PASSES[p]?.label ?? p,
          stroke: PASSES[p]?.color ?? '#57606a',
          fill: `${PASSES[p]?.color ?? '#57606a'}cc`,
          width: 1,
          paths: barsPath,
          points: { show: false },
          // Bars grow from the 1x line: up where the engine is faster, down where tfjs is.
          fillTo: 1,
          value: (_u: uPlot, v: number | null) => (v === null ? '-' : `${v >= 10 ? v.toFixed(1) : v.toFixed(2)}x`),
        })),
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      hooks: {
        draw: [
          (u) => {
            this.drawnBars = counts.reduce((a, b) => a + b, 0);
            // The parity line at 1x.
            const y = Math.round(u.valToPos(1, 'y', true)) + 0.5;
            const ctx = u.ctx;
            ctx.save();
            ctx.strokeStyle = fgDim;
            ctx.setLineDash([5, 4]);
            ctx.lineWidth = 1;
            ctx.beginPath();
            ctx.moveTo(u.bbox.left, y);
            ctx.lineTo(u.bbox.left + u.bbox.width, y);
            ctx.stroke();
            ctx.restore();
          },
        ],
      },
    };
    this.chart = new uPlot(opts, [xs, ...ys] as uPlot.AlignedData, this.container);
  }

  destroy(): void {
    this.observer.disconnect();
    this.chart?.destroy();
  }
}
