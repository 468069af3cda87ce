// The training panel's statistics: the step, steps per second (over the last 30 steps), the median
// step time (of the last 15 steps after the first, which also compiles kernels), the trainer's own
// statistics of the last step under their labels (models.ts statLabel), the run (model, size,
// options that differ from the recipe's defaults, batch) and the data's source.

import { byId, el, fmt } from '../dom.js';
import { statLabel } from '../models.js';
import type { TrainingSession } from '../session.js';
import { fmtSeconds } from '../warmup.js';

/** What the panel shows, read from the page at each redraw. */
export interface StatsState {
  session: TrainingSession | null;
  /** The last step's statistics (null before the first step, or after a restore without history). */
  stats: Record<string, number> | null;
  /** Whether the current session has finished a step on this page (kernels compiled). */
  firstStepDone: boolean;
  running: boolean;
  /** Whether the run was sized for a software adapter. */
  software: boolean;
  /** Where the training data came from. */
  dataSource: string | undefined;
}

export class StatsPanel {
  private statKeys = '';
  /** When each of the last 30 steps ended (performance.now()): steps / s. */
  private readonly stepTimes: number[] = [];
  /** Seconds per step of the last 15 steps after the first (which also compiles kernels). */
  private readonly stepSeconds: number[] = [];

  constructor(private readonly rows: HTMLElement) {}

  /** Forgets the step rate (a restore), and with `all` the step times too (a new session). */
  resetTimes(all: boolean): void {
    this.stepTimes.length = 0;
    if (all) this.stepSeconds.length = 0;
  }

  /** Notes a finished step; `seconds` is its duration, null for the first (it compiled kernels). */
  recordStep(seconds: number | null): void {
    if (seconds !== null) {
      this.stepSeconds.push(seconds);
      if (this.stepSeconds.length > 15) this.stepSeconds.shift();
    }
    this.stepTimes.push(performance.now());
    if (this.stepTimes.length > 30) this.stepTimes.shift();
  }

  show(st: StatsState): void {
    const s = st.session;
    const stats = st.stats ?? {};
    const keys = Object.keys(stats);
    if (keys.join() !== this.statKeys || !keys.length) {
      this.statKeys = keys.join();
      this.rows.replaceChildren(
        ...(keys.length
          ? keys.flatMap((k) => [el('dt', {}, statLabel(k)), el('dd', { id: `stat-${k}` }, '—')])
          : [
              el('dt', {}, 'statistics'),
              el(
                'dd',
                { id: 'stat-pending', class: 'muted' },
                st.firstStepDone ? 'none reported' : 'after the first step (it compiles the training kernels)',
              ),
            ]),
      );
    }
    for (const k of keys) {
      const dd = document.getElementById(`stat-${k}`);
      if (dd) dd.textContent = fmt(stats[k]);
    }
    byId('stat-step').textContent = String(s?.step ?? 0);
    const t = this.stepTimes;
    if (t.length >= 2) {
      const sps = (t.length - 1) / ((t[t.length - 1] - t[0]) / 1000);
      byId('stat-sps').textContent = sps.toFixed(sps < 10 ? 2 : 1);
    } else
      byId('stat-sps').textContent = st.firstStepDone
        ? 'after one more step'
        : st.running
          ? 'after the first steps (the first compiles kernels)'
          : 'not training yet';
    const secs = [...this.stepSeconds].sort((a, b) => a - b);
    byId('stat-steptime').textContent = secs.length
      ? `${fmtSeconds(secs[secs.length >> 1])} per step${st.software ? ' (software adapter)' : ''}`
      : st.firstStepDone
        ? 'measured from the second step'
        : 'measured after the first step';
    const est = document.getElementById('software-steptime');
    if (est && secs.length) est.textContent = ` Here a step takes about ${fmtSeconds(secs[secs.length >> 1])}.`;
    if (s) {
      // The options that differ from the recipe's defaults (the rest as `gan train <model> --help` says).
      const c = s.spec.config;
      const defaults = s.recipe.options;
      const opts = Object.entries(c)
        .filter(([k, v]) => k !== 'imageSize' && defaults[k] && defaults[k].default !== v)
        .map(([k, v]) => `${k} ${v}`);
      byId('stat-model').textContent =
        `${s.spec.model}, ${c.imageSize}×${c.imageSize}${opts.length ? `, ${opts.join(', ')}` : ''}, batch ${s.spec.batch}`;
      byId('stat-data').textContent = st.dataSource ?? '—';
    }
  }
}
