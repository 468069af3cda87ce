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

export class LinePlot {
  readonly chart: uPlot;
  private xs: number[] = [];
  private ys: number[][];
  private pending = false;
  private readonly maxPoints: number;
  private readonly observer: ResizeObserver;

  constructor(readonly container: HTMLElement, readonly opts: LinePlotOptions) {
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
        { label: opts.xLabel ?? 'step', stroke: fgDim, grid: { stroke: grid }, ticks: { stroke: grid } },
        { label: opts.yLabel, stroke: fgDim, grid: { stroke: grid }, ticks: { stroke: grid } },
      ],
      series: [
        { label: opts.xLabel ?? 'step' },
        // spanGaps: series measured only at some steps (held-out scores) draw as connected lines.
        ...opts.series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, dash: s.dash ? [6, 4] : undefined, points: { show: false }, spanGaps: true })),
      ],
      legend: { live: true },
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
    });
  }

  destroy(): void {
    this.observer.disconnect();
    this.chart.destroy();
  }
}
