// The charts of a training page: every scalar a trainer's step returns (and the page's own held-out
// scores) recorded in one table by step, and shown on uPlot charts grouped by ChartSpec (the
// model's own groups first: demos/shared/models.ts). A chart appears when its first series does;
// a series that shows up later (a stat reported only sometimes) rebuilds its chart. The table is
// what checkpoints save as the page's history, so the charts survive a reload.

import { LinePlot } from './plot.js';
import { el } from './dom.js';
import { statLabel, type ChartSpec } from './models.js';

/** Plot points saved with a checkpoint: values by series name, aligned with xs (NaN / null = none). */
export interface History {
  xs: number[];
  series: Record<string, (number | null)[]>;
}

const PALETTE = ['#d1495b', '#2f6feb', '#1a7f37', '#9a6700', '#8250df', '#0a7ea4', '#bf3989', '#57606a', '#e16f24', '#3e8e41'];
/** Rows kept (the charts and the saved history). */
const MAX_ROWS = 5000;
/** Rows saved with a checkpoint. */
const SAVED_ROWS = 2000;

interface Chart {
  spec: ChartSpec;
  keys: string[];
  plot: LinePlot | null;
  box: HTMLElement;
}

export class StatsCharts {
  private xs: number[] = [];
  private series = new Map<string, number[]>();
  private charts: Chart[];

  /** Charts go into `container` as panels, in the order of `specs`. */
  constructor(
    private readonly container: HTMLElement,
    specs: readonly ChartSpec[],
  ) {
    this.charts = specs.map((spec) => ({ spec, keys: [], plot: null, box: el('div') }));
  }

  /** Series names seen so far. */
  get keys(): string[] {
    return [...this.series.keys()];
  }

  /** The latest value of every series (NaN-free: series without a value at the last row are left out). */
  latest(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of this.series) {
      for (let i = v.length - 1; i >= 0; i--) {
        if (Number.isFinite(v[i])) {
          out[k] = v[i];
          break;
        }
      }
    }
    return out;
  }

  /** Records values at a step: a new row, or merged into the last row when it is the same step. */
  record(step: number, values: Record<string, number>): void {
    const n = this.xs.length;
    const merge = n > 0 && this.xs[n - 1] === step;
    if (!merge) {
      this.xs.push(step);
      for (const v of this.series.values()) v.push(NaN);
    }
    const row = this.xs.length - 1;
    const added: string[] = [];
    for (const [k, v] of Object.entries(values)) {
      let col = this.series.get(k);
      if (!col) {
        col = new Array<number>(this.xs.length).fill(NaN);
        this.series.set(k, col);
        added.push(k);
      }
      col[row] = v;
    }
    if (this.xs.length > MAX_ROWS) {
      const drop = this.xs.length - MAX_ROWS;
      this.xs.splice(0, drop);
      for (const v of this.series.values()) v.splice(0, drop);
    }
    const rebuilt = this.assign(added);
    const last = this.xs.length - 1;
    for (const c of this.charts) {
      if (!c.plot) continue;
      if (rebuilt.has(c)) this.fill(c);
      else if (!merge)
        c.plot.push(
          step,
          c.keys.map((k) => this.series.get(k)![last]),
        );
      else if (c.keys.some((k) => k in values)) this.fill(c);
    }
  }

  /** The recorded table, the last SAVED_ROWS rows, for a checkpoint. */
  history(): History {
    const from = Math.max(0, this.xs.length - SAVED_ROWS);
    const series: History['series'] = {};
    for (const [k, v] of this.series) series[k] = v.slice(from).map((x) => (Number.isFinite(x) ? x : null));
    return { xs: this.xs.slice(from), series };
  }

  /** Replaces the table (a restored checkpoint's history, or null to clear). */
  setHistory(h: History | null): void {
    this.xs = [...(h?.xs ?? [])];
    this.series = new Map(Object.entries(h?.series ?? {}).map(([k, v]) => [k, v.map((x) => (x === null ? NaN : x))]));
    for (const c of this.charts) {
      c.keys = [];
      c.plot?.destroy();
      c.plot = null;
      c.box.remove();
    }
    this.assign([...this.series.keys()]);
    for (const c of this.charts) if (c.plot) this.fill(c);
  }

  /** Puts new series on their charts; returns the charts that were (re)built. */
  private assign(keys: string[]): Set<Chart> {
    const touched = new Set<Chart>();
    for (const k of keys) {
      const c = this.charts.find((ch) => ch.spec.keys.test(k));
      if (!c) continue;
      c.keys.push(k);
      touched.add(c);
    }
    for (const c of touched) {
      c.plot?.destroy();
      if (!c.box.isConnected) this.mount(c);
      const holder = c.box.querySelector<HTMLElement>('.plot')!;
      holder.replaceChildren();
      c.plot = new LinePlot(holder, {
        title: c.spec.title,
        yRange: c.spec.yRange,
        logY: c.spec.logY,
        series: c.keys.map((k, i) => ({ label: statLabel(k), color: PALETTE[i % PALETTE.length] })),
      });
    }
    return touched;
  }

  /** Adds a chart's panel, keeping the panels in spec order. */
  private mount(c: Chart): void {
    const slug = c.spec.title
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '');
    c.box = el(
      'section',
      { class: 'panel chart', 'data-chart': slug },
      el('div', { class: 'plot', id: `plot-${slug}` }),
      c.spec.note ? el('p', { class: 'muted small' }, c.spec.note) : null,
    );
    const next = this.charts.slice(this.charts.indexOf(c) + 1).find((o) => o.box.isConnected);
    if (next) this.container.insertBefore(c.box, next.box);
    else this.container.append(c.box);
  }

  private fill(c: Chart): void {
    c.plot!.setAll(
      this.xs,
      c.keys.map((k) => this.series.get(k)!),
    );
  }

  /** Removes every chart (the page switches to another model). */
  destroy(): void {
    for (const c of this.charts) {
      c.plot?.destroy();
      c.box.remove();
    }
  }
}
