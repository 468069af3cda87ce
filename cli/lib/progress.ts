// Terminal progress bar. On a TTY it redraws one line in place (throttled), showing
// label, bar, step/total, percent, rate, ETA and key=value metrics such as losses. Elsewhere (CI
// logs, pipes) it prints a full line each time another `percentStep`% is done, or after
// `intervalMs` without a line, so a long run logs tens of lines rather than thousands.

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export type Metrics = Record<string, number | string>;

export interface ProgressOptions {
  /** Number of steps; 0 or undefined for an open-ended count (no bar, percent or ETA). */
  total?: number;
  label?: string;
  /** Defaults to process.stderr, so stdout stays clean for results. */
  stream?: ProgressStream;
  /** Force TTY or log mode; defaults to stream.isTTY. */
  tty?: boolean;
  /** Log mode: print when this many more percent are done (default 10). */
  percentStep?: number;
  /** Log mode: also print after this long without a line (default 30 s). */
  intervalMs?: number;
  /** TTY mode: minimum time between redraws (default 100 ms). */
  redrawMs?: number;
  /** Bar width in characters (default 24). */
  barWidth?: number;
  /** Clock in ms, for tests. */
  now?: () => number;
}

/** 3 significant digits for small magnitudes, fixed otherwise; integers stay integers. */
export function formatMetric(v: number | string): string {
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 0.001) return v.toPrecision(4).replace(/\.?0+$/, '');
  return v.toExponential(2);
}

/** Seconds as m:ss or h:mm:ss. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

function formatRate(perSec: number): string {
  if (!Number.isFinite(perSec) || perSec <= 0) return '- it/s';
  if (perSec >= 1) return `${perSec >= 100 ? perSec.toFixed(0) : perSec.toFixed(1)} it/s`;
  return `${(1 / perSec).toFixed(1)} s/it`;
}

export class Progress {
  readonly total: number;
  readonly label: string;
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly percentStep: number;
  private readonly intervalMs: number;
  private readonly redrawMs: number;
  private readonly barWidth: number;
  private readonly now: () => number;
  private readonly start: number;
  private count = 0;
  private metrics: Metrics = {};
  private lastDraw = -Infinity;
  private lastLogTime: number;
  private nextLogPercent: number;
  private finished = false;
  private lastLoggedCount = -1;
  /** Lines written in log mode (exposed for tests and summaries). */
  linesWritten = 0;

  constructor(options: ProgressOptions = {}) {
    this.total = Math.max(0, options.total ?? 0);
    this.label = options.label ?? '';
    const fallback: ProgressStream = (globalThis as { process?: { stderr?: ProgressStream } }).process?.stderr ?? {
      write: () => undefined,
    };
    this.stream = options.stream ?? fallback;
    this.tty = options.tty ?? !!this.stream.isTTY;
    this.percentStep = options.percentStep ?? 10;
    this.intervalMs = options.intervalMs ?? 30_000;
    this.redrawMs = options.redrawMs ?? 100;
    this.barWidth = options.barWidth ?? 24;
    this.now = options.now ?? (() => performance.now());
    this.start = this.now();
    this.lastLogTime = this.start;
    this.nextLogPercent = this.percentStep;
  }

  get value(): number {
    return this.count;
  }

  /** Advance by `n` steps and merge `metrics` into the shown ones. */
  tick(n = 1, metrics?: Metrics): void {
    if (this.finished) return;
    this.count += n;
    if (metrics) Object.assign(this.metrics, metrics);
    const t = this.now();
    if (this.tty) {
      if (t - this.lastDraw >= this.redrawMs || (this.total && this.count >= this.total)) this.draw(t);
      return;
    }
    const pct = this.total ? (100 * this.count) / this.total : 0;
    const stepDue = this.total > 0 && pct >= this.nextLogPercent;
    if (stepDue || t - this.lastLogTime >= this.intervalMs) {
      if (this.total) while (this.nextLogPercent <= pct) this.nextLogPercent += this.percentStep;
      this.logLine(t);
    }
  }

  /** Replace the shown metrics without advancing. */
  set(metrics: Metrics): void {
    Object.assign(this.metrics, metrics);
  }

  /** Print a message without breaking the bar (TTY: above it). */
  log(message: string): void {
    if (this.tty && !this.finished) {
      this.stream.write(`\r\x1b[K${message}\n`);
      this.draw(this.now());
    } else this.stream.write(`${message}\n`);
  }

  /** Finish: redraw the final state and end the line (TTY), or print the final line unless it was just printed. */
  done(metrics?: Metrics): void {
    if (this.finished) return;
    if (metrics) Object.assign(this.metrics, metrics);
    const t = this.now();
    if (this.tty) {
      this.draw(t);
      this.stream.write('\n');
    } else if (metrics || this.count !== this.lastLoggedCount) {
      this.finished = true; // so the line reads "in m:ss" rather than an ETA
      this.logLine(t);
    }
    this.finished = true;
  }

  /** The status text for the current state (without control characters). */
  render(t = this.now(), withBar = true): string {
    const elapsed = Math.max(0, (t - this.start) / 1000);
    const rate = elapsed > 0 ? this.count / elapsed : 0;
    const parts: string[] = [];
    if (this.label) parts.push(this.label);
    if (this.total) {
      const frac = Math.min(1, this.count / this.total);
      if (withBar) {
        const filled = Math.round(frac * this.barWidth);
        parts.push(`[${'#'.repeat(filled)}${'-'.repeat(this.barWidth - filled)}]`);
      }
      parts.push(`${this.count}/${this.total}`, `${(frac * 100).toFixed(1)}%`);
    } else parts.push(String(this.count));
    parts.push(formatRate(rate));
    if (this.total) {
      const finished = this.finished || this.count >= this.total;
      parts.push(finished ? `in ${formatDuration(elapsed)}` : `ETA ${rate > 0 ? formatDuration((this.total - this.count) / rate) : '?'}`);
    } else parts.push(formatDuration(elapsed));
    for (const [k, v] of Object.entries(this.metrics)) parts.push(`${k}=${formatMetric(v)}`);
    return parts.join(' ');
  }

  private draw(t: number): void {
    this.lastDraw = t;
    let line = this.render(t);
    const cols = this.stream.columns;
    if (cols && line.length > cols - 1) line = line.slice(0, cols - 1);
    this.stream.write(`\r${line}\x1b[K`);
  }

  private logLine(t: number): void {
    this.lastLogTime = t;
    this.lastLoggedCount = this.count;
    this.linesWritten++;
    this.stream.write(`${this.render(t, false)}\n`);
  }
}
