// Line charts for the demo pages, on uPlot (github.com/leeoniya/uPlot): a small, fast, maintained
// canvas chart library. A LinePlot is one chart with an x column (the training step, or anything
// else) and named y series; points are appended as training runs and the chart redraws at most
// once per animation frame. The stylesheet import makes esbuild emit <page>/main.css beside the
// page's main.js; pages that plot link it.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface SeriesSpec {
  label: string;
  color: string;
  /** Dashed line (for derived or reference series). */
  dash?: boolean;
}

export interface LinePlotOptions {
  title: string;
  series: SeriesSpec[];
  xLabel?: string;
  yLabel?: string;
  height?: number;
  /** Fixed y range (e.g. [0, 1] for probabilities); automatic when absent. */
  yRange?: [number, number];
  /** Log-scaled y axis. */
  logY?: boolean;
  /** Keep at most this many points (oldest dropped). Default 5000. */
  maxPoints?: number;
}

/** Steps between x ticks: whole numbers only (a step axis has no step 2.5). */
const INTEGER_INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 1e4, 2e4, 2.5e4, 5e4, 1e5, 2e5, 5e5, 1e6];

/** A tick or legend value: 4 significant digits, a real minus sign (U+2212), exponent when tiny or huge. */
export function fmtValue(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  const s = a !== 0 && (a < 1e-3 || a >= 1e6) ? a.toExponential(2) : String(Number(a.toPrecision(4)));
  return v < 0 ? `\u2212${s}` : s;
}

export class LinePlot {
  readonly chart: uPlot;
  private xs: number[] = [];
  private ys: number[][];
  private pending = false;
  private readonly maxPoints: number;
  private readonly observer: ResizeObserver;

  constructor(
    readonly container: HTMLElement,
    readonly opts: LinePlotOptions,
  ) {
    this.ys = opts.series.map(() => []);
    this.maxPoints = opts.maxPoints ?? 5000;
    const width = Math.max(240, container.clientWidth || 480);
    // uPlot draws on a canvas, which cannot resolve CSS variables: read the theme's colours here.
    const css = getComputedStyle(document.documentElement);
    const fgDim = css.getPropertyValue('--fg-dim').trim() || '#5b6170';
    const grid = css.getPropertyValue('--grid').trim() || '#eceef2';
    const options: uPlot.Options = {
      title: opts.title,
      width,
      height: opts.height ?? 220,
      scales: {
        x: { time: false },
        y: opts.yRange ? { range: opts.yRange } : opts.logY ? { distr: 3 } : {},
      },
      axes: [
        {
          label: opts.xLabel ?? 'step',
          stroke: fgDim,
          grid: { stroke: grid },
          ticks: { stroke: grid },
          incrs: INTEGER_INCRS,
          values: (_u: uPlot, splits: number[]) => splits.map((v) => (Number.isInteger(v) ? String(v) : '')),
        },
        {
          label: opts.yLabel,
          stroke: fgDim,
          grid: { stroke: grid },
          ticks: { stroke: grid },
          values: (_u: uPlot, splits: number[]) => splits.map((v) => fmtValue(v)),
          // Wide enough for the longest tick label, minus sign included (the default 50 px cut it off).
          size: (u: uPlot, values: string[] | null) => {
            if (!values?.length) return 50;
            // At run time uPlot keeps an axis' font as [css font, size].
            u.ctx.font = (u.axes[1].font as unknown as [string])?.[0] ?? '12px system-ui';
            const w = Math.max(...values.map((v) => u.ctx.measureText(v).width));
            return Math.ceil(w / devicePixelRatio + 24);
          },
        },
      ],
      series: [
        { label: opts.xLabel ?? 'step', value: (_u: uPlot, v: number | null) => (v === null ? '–' : String(Math.round(v))) },
        // spanGaps: series measured only at some steps (held-out scores) draw as connected lines.
        ...opts.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 1.5,
          dash: s.dash ? [6, 4] : undefined,
          points: { show: false },
          spanGaps: true,
          value: (_u: uPlot, v: number | null) => fmtValue(v),
        })),
      ],
      legend: { live: true },
      // When the pointer leaves the chart, the legend goes back to the latest values.
      hooks: { setCursor: [() => this.showLatest()] },
      cursor: { drag: { x: true, y: false } },
    };
    this.chart = new uPlot(options, [[], ...opts.series.map(() => [])] as uPlot.AlignedData, container);
    this.observer = new ResizeObserver(() => {
      const w = Math.max(240, container.clientWidth);
      if (w !== this.chart.width) this.chart.setSize({ width: w, height: this.chart.height });
    });
    this.observer.observe(container);
  }

  get length(): number {
    return this.xs.length;
  }

  /** Appends one x with a value per series (in the order given at construction); non-finite = no point. */
  push(x: number, values: readonly number[]): void {
    this.xs.push(x);
    values.forEach((v, i) => this.ys[i].push(Number.isFinite(v) ? v : NaN));
    if (this.xs.length > this.maxPoints) {
      const drop = this.xs.length - this.maxPoints;
      this.xs.splice(0, drop);
      for (const y of this.ys) y.splice(0, drop);
    }
    this.schedule();
  }

  /** Replaces all points (e.g. the history restored from a checkpoint). */
  setAll(xs: readonly number[], ys: readonly (readonly number[])[]): void {
    this.xs = [...xs];
    this.ys = this.opts.series.map((_, i) => [...(ys[i] ?? [])]);
    this.schedule();
  }

  clear(): void {
    this.setAll([], []);
  }

  /** The points, for saving with a checkpoint. */
  snapshot(): { xs: number[]; ys: number[][] } {
    return { xs: [...this.xs], ys: this.ys.map((y) => [...y]) };
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      // uPlot's gaps are nulls.
      this.chart.setData([this.xs, ...this.ys.map((y) => y.map((v) => (Number.isFinite(v) ? v : null)))] as uPlot.AlignedData);
      this.showLatest();
    });
  }

  /** Legend values at the last point when the pointer is not over the chart (uPlot shows "--" there). */
  private showLatest(): void {
    const c = this.chart;
    if (!c || (c.cursor.left ?? -1) >= 0 || !this.xs.length) return;
    c.setLegend({ idx: this.xs.length - 1 });
  }

  /** The legend's value cells, as shown (tests). */
  legendValues(): string[] {
    return Array.from(this.container.querySelectorAll('.u-legend .u-series .u-value')).map((e) => e.textContent ?? '');
  }

  destroy(): void {
    this.observer.disconnect();
    this.chart.destroy();
  }
}
